/* output.h - files perfan writes (export -o, report -o).
 *
 * They hold the traces' inputs (arguments of the calls), so they are created like the
 * traces: mode 0600, and never through a symbolic link (O_NOFOLLOW), so that a link
 * planted in a shared directory cannot redirect the write.
 */
#ifndef PERFAN_OUTPUT_H
#define PERFAN_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/**
 * pf_output_open() - create or truncate @path for writing (0600 when created; an existing
 * file keeps its mode). Returns: the stream, or NULL with errno set (ELOOP: @path is a
 * symbolic link).
 */
FILE *pf_output_open(const char *path);

/**
 * pf_output_is_input() - whether @path is an existing file among the traces @paths name:
 * one of them, or a trace file in one of the directories among them (writing it would
 * destroy a trace being read: `-o` given a trace by a slip or a shell glob).
 */
bool pf_output_is_input(const char *path, char *const *paths, size_t npaths);

#endif /* PERFAN_OUTPUT_H */
