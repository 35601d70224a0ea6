/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ck-mutate: a deterministic mutation smoke test for the dump and kernel
 * layers.  It copies the head of a real dump, then ITERATIONS times flips a
 * few bytes (mostly in the headers and notes, some anywhere), runs the whole
 * read path (open, info, VMCOREINFO, symbols, the kernel log) and restores the
 * bytes.  Errors are expected; crashes, sanitizer reports and hangs are not.
 * Run it from an ASan/UBSan build.
 *
 * usage: ck-mutate DUMP HEAD-BYTES ITERATIONS SEED
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crashkit.h"

static uint64_t rng_state;

/* xorshift64*: tiny and reproducible across machines. */
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static int count_record(const struct ck_log_record *rec, void *arg)
{
	char buf[256];
	ck_log_format(rec, CK_LOG_FORMAT_CALLER, buf, sizeof(buf));
	return ++*(unsigned long *)arg > 100000;	/* stop absurdly long walks */
}

/* Runs every reader over the file; returns how many stages succeeded. */
static int exercise(const char *path)
{
	struct ck_dump *dump;
	struct ck_error *err = ck_dump_open(path, &dump);
	if (err) {
		ck_error_destroy(err);
		return 0;
	}
	int stages = 1;
	const struct ck_mem_range *ranges;
	size_t nr;
	ck_dump_mem_ranges(dump, &ranges, &nr);
	uint8_t page[4096];
	for (size_t i = 0; i < nr && i < 8; i++)
		ck_error_destroy(ck_dump_read_phys(dump, ranges[i].start, page, sizeof(page)));
	struct ck_kernel *kernel;
	err = ck_kernel_create(dump, &kernel);
	if (!err) {
		stages++;
		struct ck_symbol sym;
		err = ck_kernel_symbol_by_name(kernel, "panic", &sym);
		if (!err) {
			stages++;
			ck_error_destroy(ck_kernel_symbol_by_address(kernel, sym.address + 3, &sym));
		}
		ck_error_destroy(err);
		unsigned long records = 0;
		err = ck_kernel_log_walk(kernel, count_record, &records);
		if (!err)
			stages++;
		ck_error_destroy(err);
		ck_kernel_destroy(kernel);
	} else {
		ck_error_destroy(err);
	}
	ck_dump_destroy(dump);
	return stages;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: %s DUMP HEAD-BYTES ITERATIONS SEED\n", argv[0]);
		return 2;
	}
	const char *src = argv[1];
	uint64_t head = strtoull(argv[2], NULL, 0);
	unsigned long iters = strtoul(argv[3], NULL, 0);
	rng_state = strtoull(argv[4], NULL, 0) | 1;

	int in = open(src, O_RDONLY);
	if (in < 0) {
		fprintf(stderr, "ck-mutate: %s: %s\n", src, strerror(errno));
		return 1;
	}
	struct stat st;
	if (fstat(in, &st) < 0)
		return 1;
	if (head > (uint64_t)st.st_size)
		head = st.st_size;
	uint8_t *buf = malloc(head ? head : 1);
	if (!buf || pread(in, buf, head, 0) != (ssize_t)head) {
		fprintf(stderr, "ck-mutate: %s: short read\n", src);
		return 1;
	}
	close(in);

	char tmpl[] = "/tmp/ck-mutate-XXXXXX";
	int fd = mkstemp(tmpl);
	if (fd < 0 || pwrite(fd, buf, head, 0) != (ssize_t)head) {
		perror("ck-mutate: temp file");
		return 1;
	}
	int baseline = exercise(tmpl);
	unsigned long hist[5] = { 0 };
	for (unsigned long it = 0; it < iters; it++) {
		enum { NMUT = 4 };
		uint64_t off[NMUT];
		uint8_t old[NMUT];
		for (int m = 0; m < NMUT; m++) {
			/* three in four mutations hit the first 64 KiB: headers,
			 * bitmaps, program headers and notes live there */
			uint64_t span = (rng() & 3) && head > 65536 ? 65536 : head;
			off[m] = span ? rng() % span : 0;
			old[m] = buf[off[m]];
			uint8_t v;
			switch (rng() % 4) {
			case 0: v = 0; break;
			case 1: v = 0xff; break;
			case 2: v = old[m] ^ (1u << (rng() % 8)); break;
			default: v = (uint8_t)rng(); break;
			}
			if (pwrite(fd, &v, 1, off[m]) != 1)
				return 1;
		}
		hist[exercise(tmpl)]++;
		for (int m = NMUT - 1; m >= 0; m--)
			if (pwrite(fd, &old[m], 1, off[m]) != 1)
				return 1;
	}
	close(fd);
	unlink(tmpl);
	free(buf);
	printf("baseline stages %d; after mutation: open failed %lu, opened %lu, kernel %lu, symbols %lu, log %lu\n",
	       baseline, hist[0], hist[1], hist[2], hist[3], hist[4]);
	return 0;
}
