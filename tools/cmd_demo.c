/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * crashkit demo: runs the source tree's tests/demo.sh (what `make demo`
 * runs) with this binary's directory as the binaries to show: a throwaway
 * VM loads crashkit's capture kernel, crashes, saves, and the dump is
 * triaged.  Only from a build tree (build/NAME/crashkit): an installed
 * crashkit has no lab scripts.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools.h"

static const char demo_help[] =
	"usage: crashkit demo [--kernel 6.1|6.12|7]\n"
	"\n"
	"Boots a throwaway Debian VM under QEMU: its init runs `crashkit kdump load`,\n"
	"crashes with sysrq c, and the capture kernel (crashkit as /init) runs `crashkit\n"
	"kdump save`; then crashkit triage, info and dmesg on the saved dump.  Runs the\n"
	"source tree's tests/demo.sh (as `make demo` does), so it works from a build\n"
	"directory of the source tree; `make deps` installs what it needs.\n";

int ck_cmd_demo(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return ck_print_help(demo_help);
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--version"))
			return ck_print_version();
	/* Only --kernel SERIES goes on to the script. */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--kernel") && i + 1 < argc) {
			i++;
			continue;
		}
		return ck_usage_error("demo", "%s '%.64s' (demo takes --kernel 6.1|6.12|7)",
				      argv[i][0] == '-' ? "unknown option" : "unexpected argument",
				      argv[i]);
	}
	char exe[PATH_MAX], script[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0) {
		fprintf(stderr, "%s: error: demo: /proc/self/exe: %s\n", ck_progname, strerror(errno));
		return CK_EXIT_ERROR;
	}
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	/* build/NAME/crashkit -> the tree is two levels up. */
	snprintf(script, sizeof(script), "%s/../../tests/demo.sh", exe);
	if (access(script, X_OK)) {
		fprintf(stderr, "%s: error: demo: no %s: crashkit demo runs from a build of the "
			"source tree (git clone; make deps demo)\n", ck_progname, script);
		return CK_EXIT_ERROR;
	}
	setenv("CK_DEMO_BIN", exe, 1);
	char **args = calloc((size_t)argc + 1, sizeof(*args));
	if (!args)
		return CK_EXIT_ERROR;
	args[0] = script;
	for (int i = 1; i < argc; i++)
		args[i] = argv[i];
	execv(script, args);
	fprintf(stderr, "%s: error: demo: %s: %s\n", ck_progname, script, strerror(errno));
	free(args);
	return CK_EXIT_ERROR;
}
