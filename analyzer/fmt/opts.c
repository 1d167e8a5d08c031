/* SPDX-License-Identifier: MIT */
/* opts.c - the common options (see opts.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <perflog/status.h>

#include "fmt/opts.h"
#include "perfan.h"

static int parse_task(const char *arg, struct pl_task_ref *ref)
{
	/* "<prefix>-<seq>" alone means the whole task: pl_task_parse() wants a level. */
	char buf[PL_TASK_STR_MAX + 2];
	size_t n = strlen(arg);
	if (n + 3 > sizeof(buf))
		return -1;
	memcpy(buf, arg, n + 1);
	if (!strchr(buf, '@'))
		memcpy(buf + n, "@/", 3);
	return pl_task_parse(buf, strlen(buf), ref) < 0 ? -1 : 0;
}

int pf_opts_handle(struct pf_opts *o, int c, const char *arg, const char *cmd, const char *usage)
{
	o->cmd = cmd;
	switch (c) {
	case 'h':
		o->help = true;
		return 1;
	case 't':
		o->type_glob = arg;
		return 1;
	case PF_OPT_SINCE:
	case PF_OPT_UNTIL: {
		bool since = c == PF_OPT_SINCE;
		if (pf_time_parse(arg, since ? &o->since : &o->until) < 0)
			return -pf_usage_error(
			    cmd, usage,
			    "--%s: '%s' is not a time (2025-11-25T14:02:05, -5m, "
			    "+30s)",
			    since ? "since" : "until", arg);
		*(since ? &o->has_since : &o->has_until) = true;
		return 1;
	}
	case PF_OPT_TASK:
		if (parse_task(arg, &o->task) < 0)
			return -pf_usage_error(cmd, usage,
					       "--task: '%s' is not a task id (<prefix>-<seq>, "
					       "optionally @/level)",
					       arg);
		o->has_task = true;
		return 1;
	case PF_OPT_FAILED:
		o->failed_only = true;
		return 1;
	case PF_OPT_MIN:
		if (pf_duration_parse(arg, &o->min_ns) < 0)
			return -pf_usage_error(cmd, usage,
					       "--min: '%s' is not a duration (a number and one of "
					       "ns us \xc2\xb5s ms s m)",
					       arg);
		return 1;
	case PF_OPT_JSON:
		o->json = true;
		return 1;
	case PF_OPT_ALLOW_UNREADABLE:
		pf_allow_unreadable();
		return 1;
	default:
		return 0;
	}
}

int pf_opts_count(const char *cmd, const char *usage, const char *opt, const char *arg,
		  uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (end == arg || *end || errno || arg[0] == '-' || arg[0] == '+' || v < min || v > max) {
		if (max == UINT64_MAX)
			return pf_usage_error(cmd, usage, "%s: '%s' is not a count (%llu or more)",
					      opt, arg, (unsigned long long)min);
		return pf_usage_error(cmd, usage, "%s: '%s' is not a number from %llu to %llu", opt,
				      arg, (unsigned long long)min, (unsigned long long)max);
	}
	*out = v;
	return 0;
}

int pf_opts_unknown(int c, char **argv, const char *cmd, const char *usage)
{
	const char *opt = argv[optind - 1];
	if (c == ':')
		return pf_usage_error(cmd, usage, "option '%s' needs a value", opt);
	if (optopt && strncmp(opt, "--", 2) != 0)
		return pf_usage_error(cmd, usage, "unknown option '-%c'", optopt);
	/* perfan's own options go before the subcommand: say so rather than "unknown". */
	static const char *const global[] = {"--color", "--jobs"};
	for (size_t i = 0; i < sizeof(global) / sizeof(global[0]); i++) {
		size_t n = strlen(global[i]);
		if (!strncmp(opt, global[i], n) && (opt[n] == '\0' || opt[n] == '='))
			return pf_usage_error(cmd, usage,
					      "'%s' is an option of perfan itself: put it before "
					      "the subcommand (perfan %s ... %s ...)",
					      global[i], global[i], cmd ? cmd : "");
	}
	return pf_usage_error(cmd, usage, "unknown option '%s'", opt);
}
