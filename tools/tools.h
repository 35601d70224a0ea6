/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the crashkit front-ends: argv -> library calls -> exit code. */
#ifndef CRASHKIT_TOOLS_H
#define CRASHKIT_TOOLS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "crashkit.h"

/* Exit codes of every crashkit command. */
enum {
	CK_EXIT_OK = 0,
	CK_EXIT_ERROR = 1,	/* the command failed; one line on stderr says why */
	CK_EXIT_USAGE = 2,	/* bad arguments */
};

struct ck_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

extern const char *ck_progname;

/* Prints "crashkit: error: <message>" and destroys err.  Returns CK_EXIT_ERROR. */
int ck_report(struct ck_error *err);
/* Prints "crashkit CMD: <message>" plus a usage hint.  Returns CK_EXIT_USAGE. */
int ck_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* --version of every command and subcommand: "crashkit 0.1.0" on stdout.
 * Returns CK_EXIT_OK (or CK_EXIT_ERROR if stdout fails). */
int ck_print_version(void);
/* --help of every command: text on stdout.  Returns CK_EXIT_OK (or
 * CK_EXIT_ERROR if stdout fails). */
int ck_print_help(const char *text);
/* getopt_long() returned '?' or ':' (the option string starts with ':' and
 * opterr is 0, so getopt said nothing): one line naming the option, as
 * ck_usage_error().  Returns CK_EXIT_USAGE. */
int ck_getopt_error(const char *cmd, int c, char **argv);
/* Prints "crashkit: warning: ..." */
void ck_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* DIR/name, DIR the directory of this very binary (/proc/self/exe: never a
 * PATH search); NULL when that cannot be read or the path is too long.
 * free() it. */
char *ck_tool_sibling(const char *name);

/* ck_open_opts.warn of the tools: prints "crashkit: warning: MSG" (a
 * truncated dump: warned once, then the command goes on). */
void ck_warn_cb(void *arg, const char *msg);

/* Parses "0x1234", "ffffffff81000000" or a decimal/hex number.  False if s is
 * not a number. */
bool ck_parse_u64(const char *s, int base, unsigned long long *ret);

/* The caller column of dmesg and --dump-dmesg: --caller, --no-caller, or
 * by default shown when the kernel records callers, as makedumpfile 1.7.5+
 * prints it.  ck_dmesg_flags() turns the choice into ck_log_format() flags;
 * CK_CALLER_ON fails, naming path, if the kernel records no callers. */
enum ck_caller_mode { CK_CALLER_AUTO, CK_CALLER_ON, CK_CALLER_OFF };
struct ck_error *ck_dmesg_flags(const struct ck_kernel *kernel, enum ck_caller_mode mode,
				const char *path, unsigned int *ret);

int ck_cmd_info(int argc, char **argv);
int ck_cmd_dmesg(int argc, char **argv);
int ck_cmd_sym(int argc, char **argv);
int ck_cmd_cores(int argc, char **argv);
int ck_cmd_capture(int argc, char **argv);
int ck_cmd_makedumpfile(int argc, char **argv);
/* --mem-usage of both (tools/cmd_mem_usage.c): compat prints makedumpfile's
 * layout; msg_level 0 keeps warnings quiet. */
int ck_mem_usage_main(const char *input, bool compat, bool json, int msg_level);

/* ---- crashkit-cores: tools/cmd_cores.c (the dispatch and the catalog
 * commands) and tools/cmd_cores_setup.c (handle, serve, install, uninstall,
 * check). ---- */

/* Options every cores command takes, anywhere on its command line. */
enum { CK_CORES_OPT_VERSION = 0x200, CK_CORES_OPT_STORE, CK_CORES_OPT_CONFIG };
#define CK_CORES_COMMON_OPTS						\
	{ "help", no_argument, NULL, 'h' },				\
	{ "version", no_argument, NULL, CK_CORES_OPT_VERSION },	\
	{ "store", required_argument, NULL, CK_CORES_OPT_STORE },	\
	{ "config", required_argument, NULL, CK_CORES_OPT_CONFIG },	\
	{ 0 }

struct ck_cores_ctx;
struct ck_cores_cmd {
	const char *name;
	const char *help;		/* --help: usage, what it does, its options */
	const char *shortopts;		/* getopt_long()'s, starting with ':' */
	const struct option *longopts;	/* ending with CK_CORES_COMMON_OPTS */
	int (*run)(struct ck_cores_ctx *c, int argc, char **argv);
};

struct ck_cores_ctx {
	const struct ck_cores_cmd *cmd;
	char what[32];			/* "cores dump", for messages */
	struct ck_core_policy policy;	/* loaded when the options end */
	const char *config;		/* the file read: given or the default */
	const char *config_opt;		/* --config */
	bool config_given;		/* by --config or $CRASHKIT_CORES_CONFIG */
	char *store_opt;		/* --store or $CRASHKIT_CORES_STORE */
	int rc;				/* exit status after CK_CORES_STOP */
};

/* getopt_long() over c->cmd's options, GNU style (options anywhere, "--"
 * ends them); --help, --version, --store and --config are handled here.
 * Returns the command's next option; -1 when the options end and the
 * policy is loaded (optind: the first operand); CK_CORES_STOP when the
 * command must return c->rc (help or version printed, a usage error, a
 * policy that does not load). */
#define CK_CORES_STOP (-2)
int ck_cores_getopt(struct ck_cores_ctx *c, int argc, char **argv);

/* The core_pattern handler: its own argv rules (no environment). */
int ck_cores_handle(int argc, char **argv);
/* The setup commands of tools/cmd_cores_setup.c. */
extern const struct ck_cores_cmd ck_cores_serve_cmd, ck_cores_install_cmd,
	ck_cores_uninstall_cmd, ck_cores_check_cmd;
/* `crashkit list` = `crashkit cores catalog` (tools/cmd_cores_list.c, issue 10). */
extern const struct ck_cores_cmd ck_cores_catalog_cmd;
/* EPOCH, @EPOCH, -N[smhd] (ago), YYYY-MM-DD, "YYYY-MM-DD HH:MM[:SS]" (local). */
bool ck_cores_parse_time(const char *s, int64_t *usec);


/* ---- crashkit-kdump: tools/cmd_kdump.c (check, recommend; docs/kdump.md).
 * argv[0] is not looked at; argv[1] is the subcommand. ---- */
int ck_cmd_kdump(int argc, char **argv);

/* ---- kdump save (issue 11): tools/cmd_save.c, linked into crashkit (the
 * capture binary).  argv[0] is "save". ---- */
int ck_cmd_kdump_save(int argc, char **argv);
/* crashkit-kdump's `kdump list` (tools/cmd_kdump_list.c); argv[0] is "list". */
int ck_cmd_kdump_list(int argc, char **argv);

/* ---- kdump init (issue 11, helper "load"): tools/cmd_init.c, linked into
 * crashkit: PID 1 of the capture initramfs (/init links to crashkit). ---- */
int ck_cmd_init(int argc, char **argv);
/* crashkit demo: the source tree's tests/demo.sh (tools/cmd_demo.c). */
int ck_cmd_demo(int argc, char **argv);
/* crashkit-kdump's load, unload, status, initramfs: tools/cmd_kdump_load.c.
 * Each takes argv[0] = the subcommand's name. */
int ck_cmd_kdump_load(int argc, char **argv);
int ck_cmd_kdump_unload(int argc, char **argv);
int ck_cmd_kdump_status(int argc, char **argv);
int ck_cmd_kdump_initramfs(int argc, char **argv);

#endif /* CRASHKIT_TOOLS_H */
