/* SPDX-License-Identifier: MIT */
/* writer.c - pl_writer lifecycle: options, open, flush, close, stats, and the process
 * exit handler that flushes every open writer. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <perflog/status.h>
#include <perflog/writer.h>

#include "../common/abi.h"
#include "../common/config.h"
#include "../common/taskid.h"
#include "names.h"
#include "writer_int.h"

/* Open writers, for the exit and fork handlers: the library's one global list. */
static pthread_mutex_t writers_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pl_writer *writers;
static uint64_t next_writer_id = 1;
static pthread_once_t exit_once = PTHREAD_ONCE_INIT;

void pl_writers_lock(void)
{
	pthread_mutex_lock(&writers_lock);
}

void pl_writers_unlock(void)
{
	pthread_mutex_unlock(&writers_lock);
}

struct pl_writer *pl_writers_first(void)
{
	return writers;
}

uint64_t pl_writer_new_id(void)
{
	return __atomic_fetch_add(&next_writer_id, 1, __ATOMIC_RELAXED);
}

PL_EXPORT void pl_writer_options_init(struct pl_writer_options *o)
{
	memset(o, 0, sizeof(*o));
	o->size = sizeof(*o);
	o->flush_interval_ms = PL_DEFAULT_FLUSH_MS;
	o->buffer_size = PL_DEFAULT_RING_BYTES;
	o->max_memory = PL_DEFAULT_MAX_MEMORY;
	o->full_policy = PL_FULL_DROP;
	o->clock = PL_CLOCK_AUTO;
	o->compression_level = PL_DEFAULT_ZSTD_LEVEL;
	o->file_mode = 0600;
}

/* argv from the options, or from /proc/self/cmdline. NULL-terminated, owned. */
static char **argv_copy(const char *const *argv)
{
	char buf[8192];
	size_t len = 0, argc = 0;
	if (argv) {
		for (; argv[argc] && argc < 4096; argc++) {
			size_t l = strnlen(argv[argc], 4096);
			if (len + l + 1 > sizeof(buf))
				break;
			memcpy(buf + len, argv[argc], l);
			buf[len + l] = '\0';
			len += l + 1;
		}
	} else {
		int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			ssize_t n = read(fd, buf, sizeof(buf) - 1);
			len = n > 0 ? (size_t)n : 0;
			close(fd);
			if (len && buf[len - 1] != '\0')
				buf[len++] = '\0';
		}
	}
	argc = 0;
	for (size_t i = 0; i < len; i++)
		argc += buf[i] == '\0';
	char **out = calloc(argc + 1, sizeof(char *) + 0);
	char *text = malloc(len + 1);
	if (!out || !text) {
		free(out);
		free(text);
		return NULL;
	}
	memcpy(text, buf, len);
	for (size_t i = 0, k = 0; k < argc; k++) {
		out[k] = text + i;
		i += strlen(text + i) + 1;
	}
	if (argc == 0)
		free(text);
	return out;
}

static void argv_free(char **argv)
{
	if (argv && argv[0])
		free(argv[0]);
	free(argv);
}

static void at_exit(void)
{
	/* Write what is staged and the STATS record; the writer stays allocated because
	 * other threads may still hold it, but records nothing more. */
	pl_writers_lock();
	for (struct pl_writer *w = writers; w; w = w->next_open) {
		if (!load_relaxed(&w->enabled))
			continue;
		store_relaxed(&w->enabled, 0);
		pl_flusher_stop(w);
	}
	pl_writers_unlock();
}

static void install_exit_handler(void)
{
	atexit(at_exit);
	pl_fork_handlers_install();
}

static uint64_t round_pow2(uint64_t x)
{
	uint64_t p = 1;
	while (p < x)
		p <<= 1;
	return p;
}

/* Everything but the file and the thread: shared by open and the fork child. */
int pl_writer_start_file(struct pl_writer *w)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t wall = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	free(w->path);
	w->path = pl_path_expand(w, w->file_seq, wall);
	if (!w->path)
		return -PL_ENOMEM;
	int ret = pl_sink_open(&w->sink, w->path, (mode_t)w->opts.file_mode);
	if (ret < 0)
		return ret;
	pl_clock_conv_init(&w->clock, w->use_tsc);
	pl_encoder_reset_file(&w->enc, pl_task_prefix());
	w->enc.file_wall = wall;
	w->enc.file_seq = w->file_seq;
	w->file_opened_ns = pl_mono_ns();
	w->header_pending = true;
	ret = pl_flusher_start(w);
	if (ret == 0)
		store_relaxed(&w->enabled, 1); /* only with a flusher to drain the rings */
	return ret;
}

/* The options as release 0.1 laid them out: the smallest size a caller may pass. */
#define OPTIONS_SIZE_0_1 PL_SIZE_TO(struct pl_writer_options, log_userdata)

PL_EXPORT int pl_writer_open(const struct pl_writer_options *caller_opts, struct pl_writer **out)
{
	int ret;
	struct pl_writer *w = NULL;
	if (out)
		*out = NULL;
	/* The caller's options over the defaults: members its header lacks keep them. */
	struct pl_writer_options full, *opts = &full;
	pl_writer_options_init(&full);
	if (!caller_opts || pl_abi_copy_in(&full, sizeof(full), caller_opts, caller_opts->size,
					   OPTIONS_SIZE_0_1) < 0)
		return -PL_EINVAL;
	full.size = sizeof(full);
	if (!out || !opts->path || !opts->path[0] || opts->flush_interval_ms == 0 ||
	    opts->buffer_size < PL_MIN_RING_BYTES || opts->buffer_size > PL_MAX_RING_BYTES ||
	    opts->compression_level > ZSTD_maxCLevel() ||
	    (opts->full_policy != PL_FULL_DROP && opts->full_policy != PL_FULL_BLOCK) ||
	    (opts->file_mode & ~0777u) || (opts->file_mode & 022u) ||
	    ((opts->keep_files || opts->keep_bytes) && !opts->rotate_bytes &&
	     !opts->rotate_seconds))
		return -PL_EINVAL;
	pthread_once(&exit_once, install_exit_handler);

	w = calloc(1, sizeof(*w));
	if (!w)
		return -PL_ENOMEM;
	w->opts = *opts;
	w->path_template = strdup(opts->path);
	w->argv = argv_copy(opts->argv);
	w->use_tsc = opts->clock == PL_CLOCK_AUTO && pl_clock_tsc_usable();
	w->rotating = opts->rotate_bytes || opts->rotate_seconds;
	w->full_policy = opts->full_policy;
	w->ring_bytes = round_pow2(opts->buffer_size);
	w->max_event = (uint32_t)PL_MIN((uint64_t)PL_MAX_EVENT_BYTES, w->ring_bytes / 4);
	w->id = pl_writer_new_id();
	pthread_mutex_init(&w->reg_lock, NULL);
	pthread_mutex_init(&w->ctl_lock, NULL);
	pthread_mutex_init(&w->cycle_lock, NULL);
	pthread_cond_init(&w->ctl_cond, NULL);
	sem_init(&w->wake, 0, 0);
	w->sink.fd = -1;
	if (!w->path_template || !w->argv) {
		ret = -PL_ENOMEM;
		goto err;
	}
	if ((ret = pl_encoder_init(&w->enc, opts->compression_level)) < 0)
		goto err;
	w->opts.path = w->path_template;
	w->opts.argv = NULL;

	pl_writers_lock();
	ret = pl_writer_start_file(w);
	if (ret == 0) {
		w->next_open = writers;
		writers = w;
	}
	pl_writers_unlock();
	if (ret < 0)
		goto err;
	/* The header is on disk when open returns. */
	pl_writer_flush(w);
	*out = w;
	return 0;
err:
	store_relaxed(&w->enabled, 0);
	pl_writer_free(w);
	return ret;
}

void pl_writer_free(struct pl_writer *w)
{
	pl_flusher_stop(w);
	pl_rings_release_all(w, false);
	pl_sink_close(&w->sink);
	pl_encoder_destroy(&w->enc);
	sem_destroy(&w->wake);
	pthread_cond_destroy(&w->ctl_cond);
	pthread_mutex_destroy(&w->cycle_lock);
	pthread_mutex_destroy(&w->ctl_lock);
	pthread_mutex_destroy(&w->reg_lock);
	argv_free(w->argv);
	pl_rotate_forget(w);
	for (size_t i = 0; i < w->nold_paths; i++)
		free(w->old_paths[i]);
	free(w->old_paths);
	free(w->path_template);
	free(w->path);
	free(w);
}

PL_EXPORT int pl_writer_flush(struct pl_writer *w)
{
	if (!w)
		return -PL_EINVAL;
	if (!load_relaxed(&w->enabled) || !w->flusher_running)
		return -PL_ECLOSED;
	return pl_flusher_request(w, false);
}

PL_EXPORT int pl_writer_close(struct pl_writer *w)
{
	if (!w)
		return 0;
	pl_writers_lock();
	for (struct pl_writer **pp = &writers; *pp; pp = &(*pp)->next_open) {
		if (*pp == w) {
			*pp = w->next_open;
			break;
		}
	}
	store_relaxed(&w->enabled, 0);
	pl_flusher_stop(w);
	pl_writers_unlock();
	int ret = load_relaxed(&w->sink.write_errors) ? -PL_EIO : 0;
	pl_writer_free(w);
	return ret;
}

/* The counters as release 0.1 laid them out: the smallest size a caller may pass. */
#define STATS_SIZE_0_1 PL_SIZE_TO(struct pl_writer_stats, last_errno)

PL_EXPORT int pl_writer_stats(struct pl_writer *w, struct pl_writer_stats *out)
{
	if (!w || !out || out->size < STATS_SIZE_0_1)
		return -PL_EINVAL;
	struct pl_writer_stats st = PL_WRITER_STATS_INIT;
	pl_rings_stats(w, &st);
	st.dropped_no_buffer = load_relaxed(&w->dropped_no_buffer);
	st.dropped_write = load_relaxed(&w->lost_events);
	st.frames = load_relaxed(&w->sink.frames);
	st.bytes_raw = load_relaxed(&w->enc.bytes_raw);
	st.bytes_written = load_relaxed(&w->sink.bytes_written);
	st.write_errors = load_relaxed(&w->sink.write_errors);
	st.last_errno = load_relaxed(&w->sink.last_errno);
	st.ring_bytes = load_relaxed(&w->mem_used);
	st.rotations = load_relaxed(&w->rotations);
	st.rotate_errors = load_relaxed(&w->rotate_errors);
	st.files_deleted = load_relaxed(&w->files_deleted);
	st.names_refused = pl_names_refused();
	pl_abi_copy_out(out, &st, sizeof(st));
	return 0;
}

PL_EXPORT int pl_writer_error(struct pl_writer *w)
{
	return w ? load_relaxed(&w->sink.last_errno) : 0;
}

PL_EXPORT const char *pl_writer_path(struct pl_writer *w)
{
	return w ? load_acquire(&w->path) : NULL;
}
