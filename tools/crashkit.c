/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crashkit: one command, subcommands for each stage of a crash's life. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools.h"

/* The executables that `crashkit cores` and `crashkit analyze` run: cores
 * link sqlite3 and libdw, analysis libbpf, capstone and libedit, which the
 * capture binary must not carry (docs/design.md, "Executables"). */
#define CK_CORES_EXE "crashkit-cores"
#define CK_ANALYZE_EXE "crashkit-analyze"
/* lib/kdump/ stays out of crashkit, which the capture initramfs carries. */
#define CK_KDUMP_EXE "crashkit-kdump"

static int cmd_cores(int argc, char **argv);
static int cmd_analyze(int argc, char **argv);
static int cmd_kdump(int argc, char **argv);
static int cmd_list(int argc, char **argv);

static const struct ck_command commands[] = {
	{ "info", "what a dump is: format, kernel, crash time, CPUs, memory", ck_cmd_info },
	{ "dmesg", "the kernel log saved in a dump", ck_cmd_dmesg },
	{ "sym", "kernel symbols by name or address", ck_cmd_sym },
	{ "capture", "save a vmcore filtered and compressed (makedumpfile -c/-l/-z -d N)", ck_cmd_capture },
	{ "makedumpfile", "makedumpfile's command line, for kdump.conf and kdump-tools", ck_cmd_makedumpfile },
	{ "cores", "userspace cores: core_pattern handler, catalog, backtraces", cmd_cores },
	{ "list", "kernel dumps and userspace cores together, newest first, grouped", cmd_list },
	{ "analyze", "crash's commands on a dump, without a vmlinux (shell or batch)", cmd_analyze },
	{ "crash", "the crash utility's command line: [-s] [-i FILE] [VMLINUX] DUMP", cmd_analyze },
	{ "triage", "why the machine died: class, culprit, signature (DUMP [VMLINUX])", cmd_analyze },
	{ "kdump", "kernel dumps: check, recommend crashkernel=, load the capture kernel, save", cmd_kdump },
	{ "demo", "crash a throwaway VM through crashkit's own kdump path, show the dump", ck_cmd_demo },
};

/* `crashkit CMD ARGS...` is `EXE CMD ARGS...` (argv[0] keeps the command)
 * from the directory of this very binary: never a PATH search (a
 * core_pattern handler runs with no environment, and the pair must match). */
static int exec_sibling(const char *exe, int argc, char **argv)
{
	const char *cmd = argv[0];
	char *path = ck_tool_sibling(exe);
	if (!path) {
		fprintf(stderr, "%s: error: %s: cannot name %s beside this binary (/proc/self/exe): %s\n",
			ck_progname, cmd, exe, strerror(errno));
		return CK_EXIT_ERROR;
	}
	char **args = calloc((size_t)argc + 2, sizeof(*args));
	if (!args) {
		fprintf(stderr, "%s: error: %s: out of memory\n", ck_progname, cmd);
		free(path);
		return CK_EXIT_ERROR;
	}
	args[0] = path;
	for (int i = 0; i < argc; i++)
		args[i + 1] = argv[i];
	execv(path, args);
	fprintf(stderr, "%s: error: %s: cannot run '%s': %s (crashkit %s is a separate "
		"executable, installed next to crashkit)\n", ck_progname, cmd, path,
		strerror(errno), cmd);
	free(args);
	free(path);
	return CK_EXIT_ERROR;
}

static int cmd_cores(int argc, char **argv)
{
	/* crashkit-cores takes `cores ARGS...` as its argv[0..] already. */
	return exec_sibling(CK_CORES_EXE, argc - 1, argv + 1) ;
}

/* `crashkit list ARGS` is `crashkit-cores catalog ARGS`: the catalog's owner
 * (docs/catalog.md). */
static int cmd_list(int argc, char **argv)
{
	argv[0] = (char *)"catalog";
	return exec_sibling(CK_CORES_EXE, argc, argv);
}

static int cmd_analyze(int argc, char **argv)
{
	return exec_sibling(CK_ANALYZE_EXE, argc, argv);
}

static int cmd_kdump(int argc, char **argv)
{
	/* save runs in the capture kernel: here, in the capture binary
	 * (tools/cmd_save.c); the rest is crashkit-kdump's. */
	if (argc >= 2 && !strcmp(argv[1], "save"))
		return ck_cmd_kdump_save(argc - 1, argv + 1);
	/* init too: PID 1 of the capture initramfs (tools/cmd_init.c). */
	if (argc >= 2 && !strcmp(argv[1], "init"))
		return ck_cmd_init(argc - 1, argv + 1);
	return exec_sibling(CK_KDUMP_EXE, argc, argv);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: %s COMMAND [ARGS]\n       %s [COMMAND] --help | --version\n\n"
		"commands:\n", ck_progname, ck_progname);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nRun '%s COMMAND --help' for a command's options; options go anywhere on\n"
		"its line and '--' ends them.  Man pages: crashkit(1), crashkit-COMMAND.\n",
		ck_progname);
}

int main(int argc, char **argv)
{
	/* Installed as a `makedumpfile` symlink: behave as makedumpfile. */
	const char *base = argv[0] ? strrchr(argv[0], '/') : NULL;
	base = base ? base + 1 : argv[0];
	if (base && !strcmp(base, "makedumpfile")) {
		return ck_cmd_makedumpfile(argc, argv);
	}
	/* /init of the capture initramfs (crashkit kdump initramfs). */
	if (base && !strcmp(base, "init") && getpid() == 1)
		return ck_cmd_init(argc, argv);
	if (argc < 2) {
		usage(stderr);
		return CK_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return CK_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("crashkit %s\n", CRASHKIT_VERSION);
		return CK_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "%s: unknown %s '%s' (see '%s --help')\n", ck_progname,
		argv[1][0] == '-' ? "option" : "command", argv[1], ck_progname);
	return CK_EXIT_USAGE;
}
