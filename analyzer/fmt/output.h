/* SPDX-License-Identifier: MIT */
/* output.h - files perfan writes (export -o, report -o).
 *
 * They hold the traces' inputs (arguments of the calls), so they are written as traces
 * are (pl_output_open()): mode 0600, created new, or an existing file reused only if it
 * is the user's own with no other name (then emptied and set to 0600); never through a
 * symbolic link, another user's file or another hard link.
 */
#ifndef PERFAN_OUTPUT_H
#define PERFAN_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/**
 * pf_output_open() - open @path for writing (see above). Returns: the stream, or NULL
 * with errno set, for pf_output_error().
 */
FILE *pf_output_open(const char *path);

/** pf_output_error() - why pf_output_open() failed with errno @err, in words. */
const char *pf_output_error(int err);

/**
 * pf_output_is_input() - whether @path is an existing file among the traces @paths name:
 * one of them, or a trace file in one of the directories among them (writing it would
 * destroy a trace being read: `-o` given a trace by a slip or a shell glob).
 */
bool pf_output_is_input(const char *path, char *const *paths, size_t npaths);

#endif /* PERFAN_OUTPUT_H */
