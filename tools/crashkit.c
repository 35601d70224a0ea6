/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crashkit: one command, subcommands for each stage of a crash's life. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools.h"

const char *ck_progname = "crashkit";

static const struct ck_command commands[] = {
	{ "info", "what a dump is: format, kernel, crash time, CPUs, memory", ck_cmd_info },
	{ "dmesg", "the kernel log saved in a dump", ck_cmd_dmesg },
	{ "sym", "kernel symbols by name or address", ck_cmd_sym },
	{ "capture", "save a vmcore filtered and compressed (makedumpfile -c/-l/-z -d N)", ck_cmd_capture },
	{ "makedumpfile", "makedumpfile's command line, for kdump.conf and kdump-tools", ck_cmd_makedumpfile },
	{ "cores", "userspace cores: core_pattern handler, catalog, backtraces", ck_cmd_cores },
};

int ck_report(struct ck_error *err)
{
	fprintf(stderr, "%s: error: %s\n", ck_progname, ck_error_message(err));
	ck_error_destroy(err);
	return CK_EXIT_ERROR;
}

int ck_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s %s: ", ck_progname, cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see '%s %s --help')\n", ck_progname, cmd);
	return CK_EXIT_USAGE;
}

void ck_warn(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: warning: ", ck_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool ck_parse_u64(const char *s, int base, unsigned long long *ret)
{
	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	if (errno || *end)
		return false;
	*ret = v;
	return true;
}

struct ck_error *ck_tool_open(const char *path, bool want_kernel, struct ck_dump **dump_ret,
			      struct ck_kernel **kernel_ret)
{
	struct ck_dump *dump;
	struct ck_error *err = ck_dump_open(path, &dump);
	if (err)
		return err;
	const struct ck_dump_info *info = ck_dump_info(dump);
	if (info->truncated)
		ck_warn("'%s' is truncated: %llu of %llu bytes present (%llu missing); "
			"answering from what is there",
			path, (unsigned long long)info->file_size,
			(unsigned long long)info->expected_size,
			(unsigned long long)(info->expected_size - info->file_size));
	if (want_kernel) {
		struct ck_kernel *kernel;
		err = ck_kernel_create(dump, &kernel);
		if (err) {
			ck_dump_destroy(dump);
			return err;
		}
		*kernel_ret = kernel;
	}
	*dump_ret = dump;
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: %s COMMAND [ARGS]\n\ncommands:\n", ck_progname);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nRun '%s COMMAND --help' for a command's options.\n", ck_progname);
}

int main(int argc, char **argv)
{
	/* Installed as a `makedumpfile` symlink: behave as makedumpfile. */
	const char *base = argv[0] ? strrchr(argv[0], '/') : NULL;
	base = base ? base + 1 : argv[0];
	if (base && !strcmp(base, "makedumpfile")) {
		return ck_cmd_makedumpfile(argc, argv);
	}
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
	fprintf(stderr, "%s: unknown command '%s' (see '%s --help')\n", ck_progname, argv[1],
		ck_progname);
	return CK_EXIT_USAGE;
}
