/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ck-xcheck-kdumpfile: reads the same physical pages of a dump with
 * libkdumpfile (an independent reader, Debian's 0.5.1) and with crashkit,
 * and compares their CRC-32s.
 *
 *   ck-xcheck-kdumpfile [--all] [--samples N] [--seed S] [--quiet]
 *                       [--arch NAME] [--timeout SEC] DUMP
 *
 * Prints "pfn kdumpfile-crc crashkit-crc" for every pfn that either side can
 * read ("-" for a side that cannot), then a summary.  Pages that only one
 * side can read are counted and reported, not failed: the readers differ on
 * purpose in places (libkdumpfile 0.5.1 loses pages of /proc/vmcore ELF
 * files, see docs/dump-readers.md).  Exit status: 0 all compared pages
 * match, 1 a mismatch, 2 usage or crashkit error, 77 libkdumpfile cannot
 * open the dump (0.5.1 cannot open flattened files), 3 timeout.
 *
 * libkdumpfile 0.5.1 gaps handled here: "addrxlat.ostype" must be "linux";
 * QEMU's kdump files are reported to open only with "arch.name" preset, so
 * if the first open fails we retry with it preset from crashkit's view of
 * the dump (--arch presets it from the start); kdump_free() crashes after a
 * failed open, so a failed context is leaked.  We read machine physical
 * addresses (KDUMP_MACHPHYSADDR): that is what a dump stores and what
 * ck_dump_read_phys() takes, and unlike KDUMP_KPHYSADDR it needs no
 * address translation set up from VMCOREINFO (libkdumpfile refuses kernel
 * physical reads with "Cannot determine 5-level paging" without it).
 */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libkdumpfile/kdumpfile.h>
#include <zlib.h>

#include "crashkit.h"

static void on_alarm(int sig)
{
	static const char m[] = "ck-xcheck-kdumpfile: timeout (a reader hangs?)\n";
	if (write(STDERR_FILENO, m, sizeof(m) - 1) < 0) {
		/* nothing more to do */
	}
	_exit(3);
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ck-xcheck-kdumpfile [--all] [--samples N] [--seed S] [--quiet]\n"
		   "                           [--arch NAME] [--timeout SEC] DUMP\n");
}

struct counts {
	uint64_t compared, matched, mismatched, only_kdumpfile, only_crashkit, neither;
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "samples", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "arch", required_argument, NULL, 'A' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool all = false, quiet = false;
	uint64_t samples = 1000, seed = 1;
	const char *arch = NULL;
	unsigned timeout = 1800;
	int c;
	while ((c = getopt_long(argc, argv, "an:s:qA:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			all = true;
			break;
		case 'n':
			samples = strtoull(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0) | 1;
			break;
		case 'q':
			quiet = true;
			break;
		case 'A':
			arch = optarg;
			break;
		case 't':
			timeout = strtoul(optarg, NULL, 0);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	const char *path = argv[optind];
	signal(SIGALRM, on_alarm);
	alarm(timeout);

	struct ck_dump *dump;
	struct ck_error *err = ck_dump_open(path, &dump);
	if (err) {
		fprintf(stderr, "crashkit: %s\n", ck_error_message(err));
		ck_error_destroy(err);
		return 2;
	}
	const struct ck_dump_info *info = ck_dump_info(dump);
	uint32_t ps = info->page_size;

	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		perror(path);
		return 2;
	}
	/* First as libkdumpfile would open it; then, for QEMU kdump files,
	 * with arch.name preset from the header's utsname.machine. */
	const char *preset = arch;
	if (!preset && info->arch && !strcmp(info->format, "kdump") &&
	    !strcmp(info->origin, "qemu"))
		preset = info->arch;
	kdump_ctx_t *ctx = NULL;
	for (int attempt = 0; attempt < 2 && !ctx; attempt++) {
		const char *a = attempt ? preset : arch;
		if (attempt && (!preset || preset == arch))
			break;
		kdump_ctx_t *k = kdump_new();
		if (!k)
			break;
		kdump_status st = kdump_set_string_attr(k, KDUMP_ATTR_OSTYPE, "linux");
		if (st == KDUMP_OK && a)
			st = kdump_set_string_attr(k, KDUMP_ATTR_ARCH_NAME, a);
		if (st == KDUMP_OK)
			st = kdump_open_fd(k, fd);
		if (st == KDUMP_OK) {
			ctx = k;
		} else {
			fprintf(stderr, "libkdumpfile%s%s: %s\n", a ? " with arch.name=" : "",
				a ? a : "", kdump_get_err(k));
			/* Not freed: libkdumpfile 0.5.1 crashes in kdump_free()
			 * after a failed open. */
		}
	}
	if (!ctx) {
		fprintf(stderr, "libkdumpfile cannot open %s (%s)\n", path, info->format);
		ck_dump_destroy(dump);
		return 77;
	}

	uint8_t *a = malloc(ps), *b = malloc(ps);
	if (!a || !b)
		return 2;
	struct counts n = { 0 };
	uint64_t total = all ? info->max_pfn : samples;
	/* Samples: mostly pfns crashkit says exist (where mismatches would
	 * hurt), some anywhere below max_pfn (where both should refuse). */
	const struct ck_mem_range *ranges;
	size_t nr_ranges;
	ck_dump_mem_ranges(dump, &ranges, &nr_ranges);
	uint64_t ram_pages = 0;
	for (size_t i = 0; i < nr_ranges; i++)
		ram_pages += (ranges[i].size + ps - 1) / ps;

	for (uint64_t k = 0; k < total; k++) {
		uint64_t pfn;
		if (all) {
			pfn = k;
		} else if (ram_pages && k % 8 != 7) {
			uint64_t idx = xorshift(&seed) % ram_pages;
			size_t i = 0;
			for (; i < nr_ranges; i++) {
				uint64_t pages = (ranges[i].size + ps - 1) / ps;
				if (idx < pages)
					break;
				idx -= pages;
			}
			pfn = ranges[i].start / ps + idx;
		} else {
			pfn = info->max_pfn ? xorshift(&seed) % info->max_pfn : 0;
		}
		size_t len = ps;
		bool ka = kdump_read(ctx, KDUMP_MACHPHYSADDR, pfn * ps, a, &len) == KDUMP_OK;
		err = ck_dump_read_phys(dump, pfn * ps, b, ps);
		bool kb = err == NULL;
		ck_error_destroy(err);
		if (!ka && !kb) {
			n.neither++;
			continue;
		}
		uint32_t ca = ka ? crc32(0, a, ps) : 0, cb = kb ? crc32(0, b, ps) : 0;
		if (!quiet) {
			char sa[16] = "-", sb[16] = "-";
			if (ka)
				snprintf(sa, sizeof(sa), "%08" PRIx32, ca);
			if (kb)
				snprintf(sb, sizeof(sb), "%08" PRIx32, cb);
			printf("0x%" PRIx64 " %s %s%s\n", pfn, sa, sb,
			       ka && kb && ca != cb ? " MISMATCH" : "");
		}
		if (!ka) {
			n.only_crashkit++;
		} else if (!kb) {
			n.only_kdumpfile++;
		} else {
			n.compared++;
			if (ca == cb && !memcmp(a, b, ps))
				n.matched++;
			else
				n.mismatched++;
		}
	}
	fprintf(stderr,
		"%s (%s, %s): %" PRIu64 " pages compared, %" PRIu64 " match, %" PRIu64
		" differ; skipped: %" PRIu64 " readable by crashkit only, %" PRIu64
		" by libkdumpfile only, %" PRIu64 " by neither\n",
		path, info->format, info->origin, n.compared, n.matched, n.mismatched,
		n.only_crashkit, n.only_kdumpfile, n.neither);
	free(a);
	free(b);
	kdump_free(ctx);
	close(fd);
	ck_dump_destroy(dump);
	return n.mismatched ? 1 : 0;
}
