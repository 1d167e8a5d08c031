/* SPDX-License-Identifier: MIT */
/* perflog/status.h - stable status codes shared by every liblog call.
 *
 * Fallible calls return 0 on success or a negative pl_status. The numeric
 * values are part of the ABI: they never change once released.
 */
#ifndef PERFLOG_STATUS_H
#define PERFLOG_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

/** pl_status: why a call failed. Returned negated (e.g. `return -PL_EINVAL;`). Since: 0.1 */
enum pl_status {
	PL_OK = 0,	   /**< success */
	PL_EINVAL = 1,	   /**< an argument or option is invalid */
	PL_ENOMEM = 2,	   /**< out of memory */
	PL_EIO = 3,	   /**< an OS call failed; errno is kept in the object's error query */
	PL_EFORMAT = 4,	   /**< the file is not a perflog trace (bad magic) */
	PL_EVERSION = 5,   /**< the trace's format version is newer than this library */
	PL_ETRUNCATED = 6, /**< the file ends inside a frame (crash or kill -9 while writing) */
	PL_ECORRUPT = 7,   /**< a frame or record is damaged (checksum, structure) */
	PL_ELIMIT = 8,	   /**< input exceeds a fixed safety limit (size, count, depth) */
	PL_ECLOSED = 9,	   /**< the object was closed or disabled (e.g. after fork) */
	PL_EEXIST = 10,	   /**< the output path exists and is not a regular file, or is a symlink */
};

/** pl_end: returned (positive) by pl_reader_next() at a clean end of file. Not an error. */
#define PL_END 1

/** pl_again: returned (positive) by pl_reader_next() on a followed file (pl_reader_follow())
 *  that holds no further complete record yet. Not an error. Since: 0.2 */
#define PL_AGAIN 2

/**
 * pl_strerror() - describe a status code.
 * @status: a pl_status value, negated or not.
 *
 * Returns: a static, never-NULL English string. Thread-safe. Since: 0.1
 */
const char *pl_strerror(int status);

#ifdef __cplusplus
}
#endif
#endif /* PERFLOG_STATUS_H */
