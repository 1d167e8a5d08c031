/* SPDX-License-Identifier: MIT */
/* fuzz_perfan.c - libFuzzer target: perfan as a whole. Arbitrary bytes are the content
 * of a frame of an otherwise valid trace (fuzz_wrap_records), and every analysis
 * subcommand runs its whole pipeline on it - reading, pairing, aggregating, ranking,
 * trees, exports, the report page - with their output thrown away. None may crash, leak
 * or read out of bounds, whatever the records say (the hardening issue: "fuzz perfan as a
 * whole, not only liblog's reader").
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "perfan.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Their output is not what is checked: away with it (libFuzzer reports on stderr,
	 * and perfan's warnings are silenced instead). */
	if (!freopen("/dev/null", "w", stdout))
		abort();
	pf_global.quiet = true;
	return 0;
}

static void run(const struct pf_cmd *cmd, const char *const *args, int nargs, const char *path)
{
	char *argv[12];
	int argc = 0;
	argv[argc++] = (char *)cmd->name;
	for (int i = 0; i < nargs && argc < 10; i++)
		argv[argc++] = (char *)args[i];
	argv[argc++] = (char *)path;
	argv[argc] = NULL;
	optind = 0; /* glibc: a fresh getopt for each subcommand, as perfan.c does */
	(void)cmd->run(&pf_global, argc, argv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len;
	uint8_t *file = fuzz_wrap_records(data, size, &len);
	if (!file)
		return 0;
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd >= 0 && write(fd, file, len) == (ssize_t)len) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		static const char *const none[] = {NULL};
		static const char *const json[] = {"--json"};
		static const char *const sla[] = {"--max", "1ms", "--p99", "10us", "--json"};
		static const char *const inputs[] = {"--type", "*"};
		static const char *const tree[] = {"--slowest", "3", "--children", "2"};
		static const char *const jsonl[] = {"--format", "jsonl", "-o", "/dev/null"};
		static const char *const chrome[] = {"--format", "chrome", "-o", "/dev/null"};
		static const char *const report[] = {"-o", "/dev/null", "--p99", "1ms"};
		run(&pf_cmd_stats, none, 0, path);
		run(&pf_cmd_stats, json, 1, path);
		run(&pf_cmd_slowest, none, 0, path);
		run(&pf_cmd_inflight, json, 1, path);
		run(&pf_cmd_sla, sla, 5, path);
		run(&pf_cmd_inputs, inputs, 2, path);
		run(&pf_cmd_tree, tree, 4, path);
		run(&pf_cmd_tree, none, 0, path);
		run(&pf_cmd_timeline, none, 0, path);
		run(&pf_cmd_export, jsonl, 4, path);
		run(&pf_cmd_export, chrome, 4, path);
		run(&pf_cmd_report, report, 4, path);
		const char *const diff[] = {path};
		run(&pf_cmd_diff, diff, 1, path);
	}
	if (fd >= 0)
		close(fd);
	free(file);
	return 0;
}
