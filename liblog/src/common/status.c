/* SPDX-License-Identifier: MIT */
/* status.c - pl_strerror() and the library version. */
#include <perflog/perflog.h>

#include "macros.h"

static const char *const messages[] = {
    [PL_OK] = "success",
    [PL_EINVAL] = "invalid argument",
    [PL_ENOMEM] = "out of memory",
    [PL_EIO] = "input/output error",
    [PL_EFORMAT] = "not a perflog trace",
    [PL_EVERSION] = "unsupported trace format version",
    [PL_ETRUNCATED] = "truncated trace",
    [PL_ECORRUPT] = "corrupt trace",
    [PL_ELIMIT] = "trace exceeds a safety limit",
    [PL_ECLOSED] = "writer closed or stopped",
    [PL_EEXIST] = "output path is a symlink or not a regular file",
};

PL_EXPORT const char *pl_strerror(int status)
{
	unsigned s = (unsigned)(status < 0 ? -status : status);
	if (s < ARRAY_SIZE(messages) && messages[s])
		return messages[s];
	return "unknown status";
}

PL_EXPORT unsigned pl_version_number(void)
{
	return PL_VERSION_NUMBER;
}

PL_EXPORT const char *pl_version_string(void)
{
	return PL_VERSION_STRING;
}
