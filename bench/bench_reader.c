/* SPDX-License-Identifier: MIT */
/* bench_reader.c - liblog's reader alone: records per second of a bare pl_reader_next()
 * loop over a trace (decompression, msgpack tokenizing, decoding into pl_record).
 *
 * Usage: bench_reader [--reps N] [--skip-fields | --at-once] TRACE
 * Prints one line per repetition and the best, as "records/s". --skip-fields reads as
 * `perfan stats` did (pl_reader_skip_fields: the fields are checked, not decoded);
 * --at-once as it does, the fields skipped and a run's events taken at once
 * (pl_reader_next_events, 256 at a time), the other records by pl_reader_next().
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <perflog/perflog.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int reps = 3, i = 1, skip = 0, at_once = 0;
	for (; i < argc - 1; i++) {
		if (strcmp(argv[i], "--reps") == 0 && i + 2 < argc)
			reps = atoi(argv[++i]);
		else if (strcmp(argv[i], "--skip-fields") == 0)
			skip = 1;
		else if (strcmp(argv[i], "--at-once") == 0)
			skip = at_once = 1;
		else
			break;
	}
	if (i != argc - 1 || reps < 1) {
		fprintf(stderr,
			"Usage: bench_reader [--reps N] [--skip-fields | --at-once] TRACE\n");
		return 2;
	}
	double best = 0;
	for (int rep = 0; rep < reps; rep++) {
		struct pl_reader *r;
		if (pl_reader_open(argv[i], &r) < 0) {
			fprintf(stderr, "bench_reader: %s: %s\n", argv[i],
				r ? pl_reader_error(r)->reason : "out of memory");
			pl_reader_close(r);
			return 3;
		}
		pl_reader_skip_fields(r, skip);
		struct pl_record rec = PL_RECORD_INIT;
		uint64_t n = 0, sum = 0;
		double t0 = now();
		static struct pl_event ev[256];
		static uint32_t levels[1024];
		for (;;) {
			size_t k = at_once ? pl_reader_next_events(r, ev, 256, levels, 1024) : 0;
			for (size_t j = 0; j < k; j++)
				sum += ev[j].duration_ns; /* touch the events */
			n += k;
			if (k)
				continue;
			if (pl_reader_next(r, &rec) != 0)
				break;
			n++;
			sum += rec.duration_ns; /* touch the record */
		}
		double secs = now() - t0;
		int status = pl_reader_error(r)->status;
		pl_reader_close(r);
		if (status) {
			fprintf(stderr, "bench_reader: %s: read error %d\n", argv[i], status);
			return 3;
		}
		double rate = (double)n / secs;
		if (rate > best)
			best = rate;
		printf("rep %d: %" PRIu64 " records in %.3f s: %.2f M records/s (checksum %" PRIu64
		       ")\n",
		       rep + 1, n, secs, rate / 1e6, sum);
	}
	printf("best: %.2f M records/s\n", best / 1e6);
	return 0;
}
