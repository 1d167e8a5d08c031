/* output.c - files perfan writes (see output.h). */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "output.h"

FILE *pf_output_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	FILE *f = fdopen(fd, "w");
	if (!f)
		close(fd);
	return f;
}
