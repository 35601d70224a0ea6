/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * crashkit kdump save (issue 11, docs/kdump.md "save"): runs inside
 * `crashkit`, the capture binary, over lib/capture's ck_kdump_save.  The
 * other kdump commands are crashkit-kdump's.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools.h"

static const char save_help[] =
	"usage: crashkit kdump save [--config FILE] [--vmcore PATH] [--target T]\n"
	"                           [--format kdump|elf] [--codec C] [--dump-level N]\n"
	"                           [--action] [--verbose]\n"
	"       crashkit kdump save --print-config [--config FILE] [--target T]\n"
	"\n"
	"In the capture kernel: saves the crashed kernel's memory as kdump.conf says\n"
	"(crashkit-kdump.conf(5)), into TARGET/YYYYmmdd-HHMMSS/ (UTC, the crash time\n"
	"from VMCOREINFO): dmesg.txt and panic.txt first, info.json, then the dump as\n"
	"vmcore.incomplete renamed to vmcore when whole; the archive, keep N, hooks.\n"
	"Prints the dump directory on stdout.\n"
	"\n"
	"  -c, --config FILE    kdump.conf to read (default /etc/crashkit/kdump.conf;\n"
	"                       the default file may be absent: defaults apply)\n"
	"  -i, --vmcore PATH    the memory to save (default /proc/vmcore); any vmcore or\n"
	"                       dump crashkit reads\n"
	"  -t, --target T       overrides the file's target (same syntax)\n"
	"      --format F       overrides format (kdump or elf)\n"
	"      --codec C        overrides codec (zstd, zlib, lzo, snappy, none)\n"
	"  -d, --dump-level N   overrides dump_level (0-31)\n"
	"  -a, --action         then run final_action (saved) or failure_action (not):\n"
	"                       reboot, halt, poweroff, shell or dmesg-only (only in the\n"
	"                       capture kernel: /proc/vmcore, no --vmcore)\n"
	"      --print-config   print the parsed file as shell KEY='VALUE' lines for an\n"
	"                       init script (what to mount, which network), and exit\n"
	"  -v, --verbose        each step on stderr\n"
	"  -h, --help           this help;  --version  the version\n"
	"\n"
	"Exit status: 0 the dump is complete; 3 the dump is incomplete (full disk, a\n"
	"read or network error) but dmesg.txt and panic.txt were saved; 1 nothing\n"
	"useful was saved or the config is bad; 2 bad arguments.  Failures: one line\n"
	"on stderr.\n";

enum { OPT_VERSION = 0x100, OPT_FORMAT, OPT_CODEC, OPT_PRINT };
enum { CK_EXIT_SAVE_PARTIAL = 3 };

static void log_line(void *arg, const char *msg)
{
	fprintf(stderr, "crashkit kdump save: %s\n", msg);
}

struct save_args {
	const char *config, *vmcore;
	const char *set[8][2];		/* overrides: key, value */
	int nr_set;
	bool action, print, verbose;
};

static int parse_args(int argc, char **argv, struct save_args *a)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "vmcore", required_argument, NULL, 'i' },
		{ "target", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "codec", required_argument, NULL, OPT_CODEC },
		{ "dump-level", required_argument, NULL, 'd' },
		{ "action", no_argument, NULL, 'a' },
		{ "print-config", no_argument, NULL, OPT_PRINT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 },
	};
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:i:t:d:avh", opts, NULL)) != -1) {
		const char *key = NULL;
		switch (c) {
		case 'h': return ck_print_help(save_help);
		case OPT_VERSION: return ck_print_version();
		case 'c': a->config = optarg; break;
		case 'i': a->vmcore = optarg; break;
		case 't': key = "target"; break;
		case OPT_FORMAT: key = "format"; break;
		case OPT_CODEC: key = "codec"; break;
		case 'd': key = "dump_level"; break;
		case 'a': a->action = true; break;
		case OPT_PRINT: a->print = true; break;
		case 'v': a->verbose = true; break;
		default: return ck_getopt_error("kdump save", c, argv);
		}
		if (key && a->nr_set < 8) {
			a->set[a->nr_set][0] = key;
			a->set[a->nr_set++][1] = optarg;
		}
	}
	if (optind < argc)
		return ck_usage_error("kdump save", "unexpected argument '%s'", argv[optind]);
	return -1;
}

static int load_conf(const struct save_args *a, struct ck_kdump_conf *conf)
{
	const char *path = a->config ? a->config : CK_KDUMP_CONF_DEFAULT;
	struct ck_error *err = ck_kdump_conf_load(conf, path, !a->config);
	for (int i = 0; !err && i < a->nr_set; i++) {
		char where[32];
		snprintf(where, sizeof(where), "--%s", a->set[i][0]);
		if (!strcmp(a->set[i][0], "dump_level"))
			snprintf(where, sizeof(where), "--dump-level");
		err = ck_kdump_conf_set(conf, a->set[i][0], a->set[i][1], where);
	}
	return err ? ck_report(err) : CK_EXIT_OK;
}

static int run_action(const struct ck_kdump_conf *conf, const struct ck_kdump_save_result *r,
		      bool ok)
{
	enum ck_kdump_action act = ok ? conf->final_action : conf->failure_action;
	char *panic = NULL;
	if (r->dir && conf->target_kind <= CK_KDUMP_TARGET_DEVICE)
		panic = malloc(strlen(r->dir) + sizeof("/panic.txt"));
	if (panic)
		sprintf(panic, "%s/panic.txt", r->dir);
	fflush(NULL);
	struct ck_error *err = ck_kdump_action_run(act, panic);
	free(panic);
	return ck_report(err);
}

int ck_cmd_kdump_save(int argc, char **argv)
{
	struct save_args a = { 0 };
	int rc = parse_args(argc, argv, &a);
	if (rc >= 0)
		return rc;
	/* --action reboots: not on a running system by mistake */
	if (a.action && !a.print && (a.vmcore || access("/proc/vmcore", R_OK) != 0))
		return ck_usage_error("kdump save", "--action reboots, halts or powers off: only in "
				      "the capture kernel, saving /proc/vmcore");
	struct ck_kdump_conf conf;
	ck_kdump_conf_init(&conf);
	if ((rc = load_conf(&a, &conf)) != CK_EXIT_OK) {
		ck_kdump_conf_deinit(&conf);
		return rc;
	}
	if (a.print) {
		char *s = ck_kdump_conf_shell(&conf);
		ck_kdump_conf_deinit(&conf);
		if (!s)
			return ck_report(&ck_error_nomem);
		fputs(s, stdout);
		free(s);
		return fflush(stdout) ? CK_EXIT_ERROR : CK_EXIT_OK;
	}
	/* a target that hangs up must fail a write, not kill the save */
	signal(SIGPIPE, SIG_IGN);
	struct ck_kdump_save_opts so = {
		.vmcore = a.vmcore,
		.log = a.verbose ? log_line : NULL,
	};
	struct ck_kdump_save_result r;
	struct ck_error *err = ck_kdump_save(&conf, &so, &r);
	if (r.dir)
		printf("%s\n", r.dir);
	fflush(stdout);
	rc = CK_EXIT_OK;
	if (err) {
		rc = ck_report(err);
		if (r.triage_ok)
			rc = CK_EXIT_SAVE_PARTIAL;
	}
	if (a.action)
		rc = run_action(&conf, &r, !err);
	ck_kdump_save_result_deinit(&r);
	ck_kdump_conf_deinit(&conf);
	return rc;
}
