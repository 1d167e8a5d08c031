/* SPDX-License-Identifier: MIT */
/* fmt/diag.c - how perfan complains (perfan.h): usage errors, warnings and errors on
 * stderr through the one escaping rule, and what makes the exit status 3. Apart from
 * perfan.c's main() so that the subcommands can run without it (tests/fuzz/fuzz_perfan.c).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "fmt/text.h"
#include "perfan.h"

/* Messages name files and quote arguments: printed by the one escaping rule (text.h), so
 * that a file named "x\nTYPE COUNT" cannot forge an output line. */
static void put_message(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static void put_message(const char *fmt, va_list ap)
{
	char *msg;
	if (vasprintf(&msg, fmt, ap) < 0) {
		fputs("(out of memory)", stderr);
		return;
	}
	pf_text_put(stderr, msg);
	free(msg);
}

int pf_usage_error(const char *cmd, const char *usage, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "perfan%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	put_message(fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nUsage: %s\nTry 'perfan%s%s --help' for more information.\n", usage,
		cmd ? " " : "", cmd ? cmd : "");
	return PF_EXIT_USAGE;
}

struct pf_global pf_global = {.jobs = -1};

/* What decides exit status 3 besides the subcommand's own result (see help()). */
static struct {
	size_t unreadable; /* inputs that could not be read, in any pass */
	bool allowed;	   /* --allow-unreadable */
} inputs;

void pf_note_unreadable(void)
{
	inputs.unreadable++;
}

void pf_allow_unreadable(void)
{
	inputs.allowed = true;
}

int pf_exit_status(int ret)
{
	if ((ret == PF_EXIT_OK || ret == PF_EXIT_FAILED) && inputs.unreadable && !inputs.allowed) {
		pf_error("an input could not be read (see above): exit status %d; "
			 "--allow-unreadable judges what could be read",
			 PF_EXIT_UNREADABLE);
		return PF_EXIT_UNREADABLE;
	}
	return ret;
}

void pf_warn(const char *fmt, ...)
{
	va_list ap;
	if (pf_global.quiet)
		return;
	fflush(stdout); /* keep stdout and stderr in order on a terminal */
	fputs("perfan: warning: ", stderr);
	va_start(ap, fmt);
	put_message(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void pf_error(const char *fmt, ...)
{
	va_list ap;
	if (pf_global.quiet)
		return;
	fflush(stdout);
	fputs("perfan: ", stderr);
	va_start(ap, fmt);
	put_message(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
