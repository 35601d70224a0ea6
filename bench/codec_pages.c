/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench/codec_pages: which zlib-stream encoder for `crashkit capture -c`?
 * Compresses every non-zero page a dump holds, page by page as the kdump
 * format wants, with zlib compress2(level 1) (makedumpfile), libdeflate at
 * several levels and ISA-L igzip in zlib mode, and prints time and size.
 *
 *   cc -O2 -Iinclude bench/codec_pages.c build/release/lib{capture,walk,kernel,dump,base}.a \
 *      $(libs) -ldeflate -lisal -o codec_pages; ./codec_pages DUMP
 */
#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "crashkit.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct ck_dump *d;
	if (argc != 2 || ck_dump_open(argv[1], &d))
		return 2;
	uint32_t ps = ck_dump_info(d)->page_size;
	uint64_t max = ck_dump_info(d)->max_pfn, n = 0;
	unsigned char *pages = NULL;
	for (uint64_t pfn = 0; pfn < max; pfn++) {
		if (!ck_dump_has_page(d, pfn))
			continue;
		pages = realloc(pages, (n + 1) * ps);
		if (ck_dump_read_phys(d, pfn * ps, pages + n * ps, ps))
			continue;
		int z = 1;
		for (uint32_t i = 0; i < ps && z; i++)
			z = !pages[n * ps + i];
		if (!z)
			n++;
	}
	unsigned char out[8192];
	printf("%llu non-zero pages (%.1f MB)\n", (unsigned long long)n, n * ps / 1e6);
	/* zlib level 1 */
	double t = now();
	uint64_t total = 0;
	for (uint64_t i = 0; i < n; i++) {
		uLongf len = sizeof(out);
		compress2(out, &len, pages + i * ps, ps, 1);
		total += len < ps ? len : ps;
	}
	printf("%-14s %7.3f s %10llu bytes\n", "zlib-1", now() - t, (unsigned long long)total);
	for (int lvl = 1; lvl <= 6; lvl++) {
		struct libdeflate_compressor *c = libdeflate_alloc_compressor(lvl);
		t = now();
		total = 0;
		for (uint64_t i = 0; i < n; i++) {
			size_t len = libdeflate_zlib_compress(c, pages + i * ps, ps, out, ps - 1);
			total += len ? len : ps;
		}
		char name[32];
		snprintf(name, sizeof(name), "libdeflate-%d", lvl);
		printf("%-14s %7.3f s %10llu bytes\n", name, now() - t, (unsigned long long)total);
		libdeflate_free_compressor(c);
	}
	for (int lvl = 0; lvl <= 1; lvl++) {
		struct isal_zstream s;
		unsigned char *lvlbuf = malloc(ISAL_DEF_LVL1_DEFAULT);
		t = now();
		total = 0;
		for (uint64_t i = 0; i < n; i++) {
			isal_deflate_stateless_init(&s);
			s.gzip_flag = IGZIP_ZLIB;
			s.level = lvl;
			s.level_buf = lvl ? lvlbuf : NULL;
			s.level_buf_size = lvl ? ISAL_DEF_LVL1_DEFAULT : 0;
			s.next_in = pages + i * ps;
			s.avail_in = ps;
			s.next_out = out;
			s.avail_out = sizeof(out);
			s.end_of_stream = 1;
			s.flush = NO_FLUSH;
			int r = isal_deflate_stateless(&s);
			size_t len = sizeof(out) - s.avail_out;
			total += (r == COMP_OK && len < ps) ? len : ps;
		}
		char name[32];
		snprintf(name, sizeof(name), "isa-l-%d", lvl);
		printf("%-14s %7.3f s %10llu bytes\n", name, now() - t, (unsigned long long)total);
		free(lvlbuf);
	}
	ck_dump_destroy(d);
	free(pages);
	return 0;
}
