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

/* A START met while looking: what identifies it, and its fields. */
struct met {
	int64_t wall;
	uint64_t prefix, seq;
	const uint32_t *level;
	uint32_t depth;
	const struct pl_kv *fields;
	size_t nfields;
};

/* Whether @m is the START of @c. */
static bool is_start_of(const struct met *m, const struct pf_call *c)
{
	uint32_t kept = c->depth < PF_CALL_PATH_MAX ? c->depth : PF_CALL_PATH_MAX;
	return m->wall == c->start_wall && m->seq == c->seq && m->prefix == c->prefix &&
	       m->depth == c->depth && !memcmp(m->level, c->level, kept * sizeof(uint32_t));
}

/* @m's fields packed as a scan keeping them would have, into @c. Returns 0 or -1. */
static int take_inputs(struct pf_call *c, const struct met *m)
{
	uint8_t buf[PF_FIELDS_MAX];
	size_t len = pf_fields_pack(buf, sizeof(buf), m->fields, m->nfields);
	/* Kept but empty is not "not kept": one byte allocated all the same. */
	if (!(c->inputs = malloc(len ? len : 1)))
		return -1;
	memcpy(c->inputs, buf, len);
	c->inputs_len = len;
	return 0;
}

/* Calls of one file past which a single pass over the frames between their starts is
 * cheaper than a window per call (each window opens the file and reads its index). */
#define ONE_PASS 32

/* One window's look-up: calls[0..n) of one file by start time, calls[0] not found yet; those up
 * to @upto are looked for. */
struct look {
	struct pf_call *const *calls;
	bool *found;
	size_t n, left; /* calls; those up to @upto not found yet */
	int64_t upto;
};

/* @m, a START read: the calls it starts marked found, with their inputs. Returns 0 or -1. */
static int offer(struct look *l, const struct met *m)
{
	if (m->wall < l->calls[0]->start_wall || m->wall > l->calls[l->n - 1]->start_wall)
		return 0;
	size_t lo = 0, hi = l->n; /* the first call starting then */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->calls[mid]->start_wall < m->wall)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < l->n && l->calls[i]->start_wall == m->wall; i++) {
		if (l->found[i] || !is_start_of(m, l->calls[i]))
			continue;
		l->found[i] = true;
		l->left -= m->wall <= l->upto;
		if (take_inputs(l->calls[i], m) < 0)
			return -1;
	}
	return 0;
}

/* A file not wholly indexed (format 1, another writer) is read from the window's start
 * to its end, unless cut short: past a frame whose events all came this long after
 * @upto, the STARTs looked for are not there (a frame's threads overlap by microseconds;
 * perfan's merge allows as much, input.c). An indexed one is read only where the index
 * says the STARTs may be. */
#define UNINDEXED_SLACK_NS 1000000000LL

/* The STARTs of @l's calls met in the frames a window [calls[0]'s start, @upto] reads,
 * @upto being calls[0]'s start (the frames that may hold it) or the last's (every frame
 * between): until each of those up to @upto is found (the rest of its frame is left to
 * the next window: half a frame per call), or the frames the index says may hold them
 * were read (PL_WINDOW_STARTS_ONLY reads nothing after them; not found: the file changed
 * since). The frames' runs of events are decoded a run at a time. Returns 0, or -1 when
 * out of memory. */
static int read_frames(const char *path, struct look *l)
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
	int64_t first, last;
	bool indexed = pl_reader_extent(r, &first, &last) >= 0;
	pl_reader_skip_fields_of(r, PL_SKIP_END | PL_SKIP_MESSAGE);
	pl_reader_set_window(r, l->calls[0]->start_wall,
			     l->upto < INT64_MAX ? l->upto + 1 : l->upto, PL_WINDOW_STARTS_ONLY);
	struct pl_event ev[64];
	uint32_t lv[1024];
	struct pl_record rec = PL_RECORD_INIT;
	uint64_t frame = 0;
	int64_t frame_min = INT64_MAX; /* the earliest event of the frame being read */
	int64_t past =
	    l->upto < INT64_MAX - UNINDEXED_SLACK_NS ? l->upto + UNINDEXED_SLACK_NS : INT64_MAX;
	int oom = 0;
	while (l->left && ret == 0 && !oom) {
		size_t k = pl_reader_next_events(r, ev, 64, lv, 1024);
		for (size_t i = 0; i < k && !oom; i++) {
			frame_min = ev[i].wall_ns < frame_min ? ev[i].wall_ns : frame_min;
			if (ev[i].kind == PL_REC_START)
				oom = offer(l, &(struct met){ev[i].wall_ns, ev[i].task_prefix,
							     ev[i].task_seq, lv + ev[i].level,
							     ev[i].depth, ev[i].fields,
							     ev[i].nfields});
		}
		if (k || oom)
			continue;
		if ((ret = pl_reader_next(r, &rec)) != 0)
			break;
		if (rec.frame_offset != frame) { /* the runs lie in the frame of the last record */
			if (!indexed && frame && frame_min > past && frame_min != INT64_MAX)
				break;
			frame = rec.frame_offset;
			frame_min = INT64_MAX;
		}
		if (rec.kind != PL_REC_START && rec.kind != PL_REC_END &&
		    rec.kind != PL_REC_MESSAGE)
			continue;
		frame_min = rec.wall_ns < frame_min ? rec.wall_ns : frame_min;
		if (rec.kind == PL_REC_START)
			oom =
			    offer(l, &(struct met){rec.wall_ns, rec.task_prefix, rec.task_seq,
						   rec.level, rec.depth, rec.fields, rec.nfields});
	}
	pl_reader_close(r);
	return oom || ret == -PL_ENOMEM ? -1 : 0;
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
			ret = read_frames(path, &(struct look){want + i, found + i, end - i,
							       end - i, want[end - 1]->start_wall});
		for (size_t j = i; j < end && end - i <= ONE_PASS && ret == 0; j++) {
			if (found[j])
				continue;
			struct look l = {want + j, found + j, end - j, 0, want[j]->start_wall};
			for (size_t x = 0; x < l.n && want[j + x]->start_wall <= l.upto; x++)
				l.left += !found[j + x]; /* as offer() counts them down */
			ret = read_frames(path, &l);
		}
		for (size_t j = i; j < end; j++)
			missing += !found[j];
		i = end;
	}
	free(want);
	free(found);
	return ret < 0 ? -1 : missing;
}
