/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the core_pattern handler's arguments (lib/cores/meta.c
 * ck_core_args_parse: "P=%P u=%u g=%g s=%s t=%t c=%c e=%e h=%h ..."; %e is
 * the crashing process's own comm).  The input is argv, NUL-separated.
 */
#include "cores/cores.h"
#include "fuzz.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	char *argv[MAX_ARGS + 1];
	int argc = 0;
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (size_t i = 0; i <= size && argc < MAX_ARGS;) {
		argv[argc++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	argv[argc] = NULL;
	struct ck_core_args a;
	struct ck_error *err = ck_core_args_parse(argc, argv, &a);
	if (!err && (a.pid < 0 || strnlen(a.comm, sizeof(a.comm)) == sizeof(a.comm) ||
		     strnlen(a.hostname, sizeof(a.hostname)) == sizeof(a.hostname)))
		abort();
	fz_drop(err);
	free(buf);
	return 0;
}

static void fz_seeds(const char *dir)
{
	static const char args[] = "P=4242\0I=4243\0u=1000\0g=1000\0s=11\0t=1700000000\0"
				   "c=18446744073709551615\0F=5\0d=1\0e=crasher\0h=box";
	fz_seed(dir, "full", args, sizeof(args) - 1);
	static const char min[] = "P=1\0u=0\0g=0\0s=6\0t=0\0c=\0F=\0d=";
	fz_seed(dir, "minimal", min, sizeof(min) - 1);
	static const char bad[] = "P=-1\0u=x\0e=\xff\xfe\0h=";
	fz_seed(dir, "bad", bad, sizeof(bad) - 1);
}
