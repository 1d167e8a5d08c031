/* SPDX-License-Identifier: MIT */
/* analysis/refetch.c - the inputs of a few calls read again from their files (refetch.h).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <perflog/reader.h>
#include <perflog/status.h>

#include "analysis/refetch.h"
#include "core/fields.h"

/* Calls by file, then by start time. */
static int cmp_calls(const void *a, const void *b)
{
	const struct pf_call *x = *(struct pf_call *const *)a, *y = *(struct pf_call *const *)b;
	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	return x->start_wall < y->start_wall ? -1 : x->start_wall > y->start_wall;
}

/* Whether @rec is the START of @c. */
static bool is_start_of(const struct pl_record *rec, const struct pf_call *c)
{
	uint32_t kept = c->depth < PF_CALL_PATH_MAX ? c->depth : PF_CALL_PATH_MAX;
	return rec->wall_ns == c->start_wall && rec->task_seq == c->seq &&
	       rec->task_prefix == c->prefix && rec->depth == c->depth &&
	       !memcmp(rec->level, c->level, kept * sizeof(uint32_t));
}

/* @rec's fields packed as a scan keeping them would have, into @c. Returns 0 or -1. */
static int take_inputs(struct pf_call *c, const struct pl_record *rec)
{
	uint8_t buf[PF_FIELDS_MAX];
	size_t len = pf_fields_pack(buf, sizeof(buf), rec->fields, rec->nfields);
	/* Kept but empty is not "not kept": one byte allocated all the same. */
	if (!(c->inputs = malloc(len ? len : 1)))
		return -1;
	memcpy(c->inputs, buf, len);
	c->inputs_len = len;
	return 0;
}

/* Calls of one file past which a single pass over the frames between their starts is
 * cheaper than a window per call (each window opens the file and walks its index from
 * the start). */
#define ONE_PASS 32

/* The STARTs of calls[0..n) (one file's, by start time, none found yet) met in the
 * frames a window [calls[0]'s start, @upto] reads, @upto being calls[0]'s start (the
 * frame holding it) or the last's (every frame between). Reads until each of those up to
 * @upto is found, or a whole frame was later than @upto (the file changed since). Marks
 * in @found. Returns 0, or -1 when out of memory. */
static int read_frames(const char *path, struct pf_call *const *calls, bool *found, size_t n,
		       int64_t upto)
{
	struct pl_reader *r = NULL;
	int ret = pl_reader_open(path, &r);
	if (ret == -PL_ENOMEM) {
		pl_reader_close(r);
		return -1;
	}
	if (ret < 0) { /* gone or no longer a trace: its calls stay without inputs */
		pl_reader_close(r);
		return 0;
	}
	pl_reader_skip_fields_of(r, PL_SKIP_END | PL_SKIP_MESSAGE);
	int64_t w = calls[0]->start_wall;
	pl_reader_set_window(r, w, upto < INT64_MAX ? upto + 1 : upto, 0);
	size_t left = 0; /* calls up to @upto not found yet */
	while (left < n && calls[left]->start_wall <= upto)
		left++;
	struct pl_record rec = PL_RECORD_INIT;
	uint64_t frame = 0;
	int64_t frame_min = INT64_MAX; /* the earliest event of the frame being read */
	/* Until those up to @upto are found: the rest of their frame is left to the next
	 * window, which reads the frame up to the next call (half a frame per call). */
	while (left && (ret = pl_reader_next(r, &rec)) == 0) {
		if (rec.frame_offset != frame) {
			/* Past them: a frame of events all later (not one of THREAD
			 * records only, say). */
			if (frame && frame_min > upto && frame_min != INT64_MAX)
				break;
			frame = rec.frame_offset;
			frame_min = INT64_MAX;
		}
		if (rec.kind != PL_REC_START && rec.kind != PL_REC_END &&
		    rec.kind != PL_REC_MESSAGE)
			continue;
		if (rec.wall_ns < frame_min)
			frame_min = rec.wall_ns;
		if (rec.kind != PL_REC_START || rec.wall_ns < w ||
		    rec.wall_ns > calls[n - 1]->start_wall)
			continue;
		/* The calls starting then (binary search for the first). */
		size_t lo = 0, hi = n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (calls[mid]->start_wall < rec.wall_ns)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t i = lo; i < n && calls[i]->start_wall == rec.wall_ns; i++) {
			if (found[i] || !is_start_of(&rec, calls[i]))
				continue;
			found[i] = true;
			left -= rec.wall_ns <= upto;
			if (take_inputs(calls[i], &rec) < 0) {
				pl_reader_close(r);
				return -1;
			}
		}
	}
	pl_reader_close(r);
	return ret == -PL_ENOMEM ? -1 : 0;
}

long pf_refetch_inputs(const struct pf_input *in, struct pf_call *const *calls, size_t n)
{
	struct pf_call **want = malloc((n ? n : 1) * sizeof(*want));
	bool *found = calloc(n ? n : 1, sizeof(*found));
	size_t m = 0;
	long missing = 0;
	if (!want || !found) {
		free(want);
		free(found);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (!calls[i]->inputs && calls[i]->src < in->nsrc &&
		    !in->src[calls[i]->src].summarized)
			want[m++] = calls[i];
	qsort(want, m, sizeof(*want), cmp_calls);
	int ret = 0;
	for (size_t i = 0; i < m && ret == 0;) {
		size_t end = i; /* want[i, end): one file's */
		while (end < m && want[end]->src == want[i]->src)
			end++;
		const struct pf_source *s = &in->src[want[i]->src];
		const char *path = s->open_path ? s->open_path : s->path;
		if (end - i > ONE_PASS) /* what this does not find is not there */
			ret = read_frames(path, want + i, found + i, end - i,
					  want[end - 1]->start_wall);
		for (size_t j = i; j < end && end - i <= ONE_PASS && ret == 0; j++)
			if (!found[j])
				ret = read_frames(path, want + j, found + j, end - j,
						  want[j]->start_wall);
		for (size_t j = i; j < end; j++)
			missing += !found[j];
		i = end;
	}
	free(want);
	free(found);
	return ret < 0 ? -1 : missing;
}
