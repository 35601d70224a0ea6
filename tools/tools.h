/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the crashkit front-ends: argv -> library calls -> exit code. */
#ifndef CRASHKIT_TOOLS_H
#define CRASHKIT_TOOLS_H

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
/* Prints "crashkit: warning: ..." */
void ck_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

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

#endif /* CRASHKIT_TOOLS_H */
