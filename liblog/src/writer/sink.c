/* SPDX-License-Identifier: MIT */
/* sink.c - file creation and frame writes for the trace writer. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <perflog/status.h>
#include <perflog/writer.h>

#include "../common/macros.h"
#include "sink.h"

/* Refuse @fd (close it) with errno @err: PL_EEXIST, and errno says why. */
static int refuse(int fd, int err)
{
	close(fd);
	errno = err;
	return -PL_EEXIST;
}

/* Give up on @fd after a failed call: -PL_EIO with that call's errno. */
static int fail_io(int fd)
{
	int e = errno;
	close(fd);
	errno = e;
	return -PL_EIO;
}

PL_EXPORT int pl_output_open(const char *path, unsigned mode)
{
	if (!path || !*path || (mode & ~0777u) || (mode & 022u)) {
		errno = EINVAL;
		return -PL_EINVAL;
	}
	/* A few tries: the path may disappear between the two opens below. */
	for (int tries = 0; tries < 4; tries++) {
		/* A new file: created, so it is ours, with no other name and our mode. */
		int fd =
		    open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return -PL_EIO;
		/* An existing one. O_NONBLOCK: opening a FIFO must not hang; O_NOFOLLOW: a
		 * planted symlink must not redirect a trace full of inputs. */
		fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			if (errno == ENXIO) /* a FIFO nobody reads, a socket */
				errno = EEXIST;
			return errno == ELOOP || errno == EEXIST ? -PL_EEXIST : -PL_EIO;
		}
		struct stat st;
		if (fstat(fd, &st) < 0)
			return fail_io(fd);
		/* Character devices are allowed: /dev/null for benchmarks, /dev/full for tests. */
		if (S_ISCHR(st.st_mode)) {
			return fcntl(fd, F_SETFL, 0) < 0 ? fail_io(fd) : fd;
		}
		if (!S_ISREG(st.st_mode))
			return refuse(fd, EEXIST);
		/* Another user's file keeps its owner, and they could read what we write;
		 * another hard link is a name we did not choose that would see it too. */
		if (st.st_uid != geteuid())
			return refuse(fd, EPERM);
		if (st.st_nlink != 1)
			return refuse(fd, EMLINK);
		if (ftruncate(fd, 0) < 0 || fchmod(fd, (mode_t)mode) < 0 ||
		    fcntl(fd, F_SETFL, 0) < 0)
			return fail_io(fd);
		return fd;
	}
	errno = ENOENT;
	return -PL_EIO;
}

int pl_sink_open(struct pl_sink *s, const char *path, mode_t mode)
{
	*s = (struct pl_sink){.fd = -1};
	int fd = pl_output_open(path, (unsigned)mode);
	if (fd < 0)
		return fd;
	struct stat st;
	s->fd = fd;
	s->regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
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

int pl_sink_switch(struct pl_sink *s, int fd, uint64_t *closed_bytes)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return -PL_EEXIST;
	*closed_bytes = s->good_off;
	close(s->fd);
	s->fd = fd;
	s->regular = true;
	s->good_off = 0;
	return 0;
}

void pl_sink_close(struct pl_sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}
