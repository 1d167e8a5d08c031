/* SPDX-License-Identifier: MIT */
/* output.c - files perfan writes (see output.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <perflog/writer.h>

#include "fmt/output.h"

FILE *pf_output_open(const char *path)
{
	/* What perfan writes holds the traces' inputs: written as traces are. */
	int fd = pl_output_open(path, 0600);
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, "w");
	if (!f)
		close(fd);
	return f;
}

const char *pf_output_error(int err)
{
	switch (err) {
	case ELOOP:
		return "a symbolic link: refused";
	case EPERM:
		return "another user's file: refused (it would stay readable to them)";
	case EMLINK:
		return "a file with other hard links: refused";
	case EEXIST:
		return "not a regular file: refused";
	default:
		return strerror(err);
	}
}

/* Whether @path starts like a perflog trace (docs/format.md: a skippable frame holding
 * "PERFLOG"): a report written into the traces' directory last time is not one. */
static bool looks_like_trace(const char *path)
{
	char head[16];
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	bool yes =
	    fread(head, 1, sizeof(head), f) == sizeof(head) && memcmp(head + 8, "PERFLOG", 7) == 0;
	fclose(f);
	return yes;
}

bool pf_output_is_input(const char *path, char *const *paths, size_t npaths)
{
	struct stat out, dir, in;
	if (stat(path, &out) != 0 || !S_ISREG(out.st_mode))
		return false; /* a new file (or a device: -o /dev/stdout) */
	char *copy = strdup(path);
	bool have_dir = copy && stat(dirname(copy), &dir) == 0;
	free(copy);
	for (size_t i = 0; i < npaths; i++) {
		if (stat(paths[i], &in) != 0)
			continue;
		if (in.st_dev == out.st_dev && in.st_ino == out.st_ino)
			return true;
		if (S_ISDIR(in.st_mode) && have_dir && in.st_dev == dir.st_dev &&
		    in.st_ino == dir.st_ino && looks_like_trace(path))
			return true;
	}
	return false;
}
