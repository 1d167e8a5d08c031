/* output.h - files perfan writes (export -o, report -o).
 *
 * They hold the traces' inputs (arguments of the calls), so they are created like the
 * traces: mode 0600, and never through a symbolic link (O_NOFOLLOW), so that a link
 * planted in a shared directory cannot redirect the write.
 */
#ifndef PERFAN_OUTPUT_H
#define PERFAN_OUTPUT_H

#include <stdio.h>

/**
 * pf_output_open() - create or truncate @path for writing (0600 when created; an existing
 * file keeps its mode). Returns: the stream, or NULL with errno set (ELOOP: @path is a
 * symbolic link).
 */
FILE *pf_output_open(const char *path);

#endif /* PERFAN_OUTPUT_H */
