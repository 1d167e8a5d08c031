/* sink.c - file creation and frame writes for the trace writer. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <perflog/status.h>

#include "../common/macros.h"
#include "sink.h"

int pl_sink_open(struct pl_sink *s, const char *path, mode_t mode)
{
	*s = (struct pl_sink){.fd = -1};
	/* O_NONBLOCK: opening a FIFO for writing must not hang; cleared below once the
	 * target is known to be a regular file. O_NOFOLLOW: a planted symlink must not
	 * redirect a trace full of inputs. */
	int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, mode);
	if (fd < 0)
		return errno == ELOOP ? -PL_EEXIST : -PL_EIO;
	struct stat st;
	/* Character devices are allowed: /dev/null for benchmarks, /dev/full for tests. */
	if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode))) {
		close(fd);
		errno = EEXIST;
		return -PL_EEXIST;
	}
	if ((S_ISREG(st.st_mode) && ftruncate(fd, 0) < 0) || fcntl(fd, F_SETFL, 0) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -PL_EIO;
	}
	s->fd = fd;
	s->regular = S_ISREG(st.st_mode);
	return 0;
}

static void fail(struct pl_sink *s, int err)
{
	store_relaxed(&s->write_errors, s->write_errors + 1);
	store_relaxed(&s->last_errno, err);
	/* Cut back a partial frame: a torn frame in the middle would hide every later one. */
	if (s->regular && ftruncate(s->fd, (off_t)s->good_off) == 0)
		(void)lseek(s->fd, (off_t)s->good_off, SEEK_SET);
}

int pl_sink_write(struct pl_sink *s, const void *buf, size_t len)
{
	const char *p = buf;
	size_t left = len;
	if (s->fd < 0)
		return -EBADF;
	while (left) {
		ssize_t n = write(s->fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? errno : ENOSPC;
			fail(s, err);
			return -err;
		}
		p += n;
		left -= (size_t)n;
	}
	s->good_off += len;
	store_relaxed(&s->frames, s->frames + 1);
	store_relaxed(&s->bytes_written, s->bytes_written + len);
	return 0;
}

void pl_sink_close(struct pl_sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}
