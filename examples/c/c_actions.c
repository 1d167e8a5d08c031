/* SPDX-License-Identifier: MIT */
/* c_actions.c - record nested actions with typed fields from C.
 *
 * A toy "request handler": each request parses, looks up a cache and, on a miss,
 * computes a value whose cost depends on the input. The trace shows which inputs were
 * slow and inside which request.  Usage: c_actions [trace.zst] [requests]
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <perflog/perflog.h>

static struct pl_writer *w;

/* Deliberately input-dependent work: collatz steps of n. */
static unsigned compute(pl_action *parent, unsigned long n)
{
	PL_ACTION_SCOPE(a, w, parent, "compute", PL_F_UINT("n", n));
	unsigned steps = 0;
	for (unsigned long x = n; x != 1; steps++)
		x = (x & 1) ? 3 * x + 1 : x / 2;
	struct pl_field out[] = {PL_F_UINT("steps", steps)};
	pl_action_end(&a, out, 1);
	return steps;
}

static void handle(unsigned req, unsigned long n)
{
	PL_ACTION_SCOPE(a, w, NULL, "request", PL_F_UINT("id", req), PL_F_STR("path", "/collatz"));
	{
		PL_ACTION_SCOPE(p, w, &a, "parse", PL_F_UINT("n", n));
	}
	bool hit = n % 7 == 0;
	struct pl_field f[] = {PL_F_BOOL("hit", hit)};
	pl_message(w, &a, PL_NAME("cache_lookup"), f, 1);
	if (!hit)
		compute(&a, n);
	if (n % 97 == 0) {
		const char msg[] = "n is a multiple of 97";
		pl_action_fail(&a, "ValueError", 10, msg, sizeof(msg) - 1, NULL, 0);
	}
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "c_actions.zst";
	unsigned n = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 1000;
	struct pl_writer_options o;
	pl_writer_options_init(&o);
	o.path = path;
	int ret = pl_writer_open(&o, &w);
	if (ret < 0) {
		fprintf(stderr, "c_actions: %s: %s\n", path, pl_strerror(ret));
		return 1;
	}
	pl_thread_name(w, "main");
	for (unsigned i = 1; i <= n; i++)
		handle(i, 1 + (i * 2654435761u) % 100000);
	struct pl_writer_stats st = PL_WRITER_STATS_INIT;
	pl_writer_stats(w, &st);
	ret = pl_writer_close(w);
	printf("c_actions: recorded %llu events into %s (dropped %llu)\n",
	       (unsigned long long)st.events, path,
	       (unsigned long long)(st.dropped_full + st.dropped_oversize + st.dropped_no_buffer));
	return ret < 0 ? 1 : 0;
}
