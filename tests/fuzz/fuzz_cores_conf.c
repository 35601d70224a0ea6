/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: /etc/crashkit/cores.conf (lib/cores/policy.c
 * ck_core_policy_load: key=value lines, sizes, booleans, bounds) and the
 * size syntax on its own (ck_core_parse_size: "123", "4K", "2G", "1T").
 * The input is the file.
 */
#include "cores/cores.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[4096];
	if (fd < 0)
		fd = fz_tmpfile("cores_conf", path);
	fz_set(fd, data, size);
	struct ck_core_policy p;
	ck_core_policy_init(&p);
	fz_drop(ck_core_policy_load(&p, path, false));
	ck_core_policy_deinit(&p);

	/* the first line as a size */
	char line[256];
	size_t n = 0;
	while (n < size && n < sizeof(line) - 1 && data[n] != '\n')
		n++;
	memcpy(line, data, n);
	line[n] = '\0';
	uint64_t v;
	ck_core_parse_size(line, &v);
	return 0;
}

static void fz_seeds(const char *dir)
{
	static const char full[] =
		"# crashkit cores\n"
		"store = /var/lib/crashkit/cores\n"
		"max_core_size=2G\n"
		"max_use = 10G\n"
		"keep_free=1G\n"
		"keep_per_exe = 3\n"
		"rate_limit_burst=5\n"
		"rate_limit_interval = 60\n"
		"honor_rlimit_core = yes\n"
		"compress_level=3\n"
		"compress_workers = 2\n"
		"max_threads=64\n"
		"max_frames = 128\n"
		"socket=/run/crashkit/cores.sock\n";
	fz_seed(dir, "full", full, sizeof(full) - 1);
	static const char odd[] = "  max_use=1T  \n\n=\nkeep_free\nhonor_rlimit_core=false\n"
				  "max_core_size=18446744073709551615\ncompress_level=-7\n"
				  "unknown_key=1\n";
	fz_seed(dir, "odd", odd, sizeof(odd) - 1);
	static const char size[] = "4K\n";
	fz_seed(dir, "size", size, sizeof(size) - 1);
}
