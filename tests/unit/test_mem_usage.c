/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of --mem-usage (lib/capture/mem_usage.c) on generated dumps
 * (tests/mkdump.h), whose contents are known: total and zero pages, the
 * same counts with tiny bitmap cycles, agreement with capture -d 31's
 * stats, and a /proc/kcore-like core (segments without a physical address,
 * a crash kernel reservation in an iomem file).  The struct-page classes
 * are checked on the lab's real kernel (tests/labtests/mem_usage.sh).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "capture/capture.h"
#include "../mkdump.h"
#include "../harness.h"


static const char vmcoreinfo_text[] =
	"OSRELEASE=6.1.0-test\n"
	"PAGESIZE=4096\n";

/* A "kernel text" alias of RAM, a partial page, memory above 4 GiB; pages
 * with pfn % 8 == 3 are zeros (mk_byte).  With kcore, a vmalloc segment
 * as /proc/kcore writes it: p_paddr (elf_addr_t)-1. */
static const struct mk_seg segs[] = {
	{ 0x4000, 4 * PS, 4 * PS, 0xffffffff81000000ull },
	{ 0x0, 300 * PS, 300 * PS, 0xffff888000000000ull },
	{ 0x200000, 0x1c00, 0x1c00, 0xffff888000200000ull },
	{ 0x100000000ull, 70 * PS, 70 * PS, 0xffff888100000000ull },
	{ UINT64_MAX, 2 * PS, 2 * PS, 0xffffc90000000000ull },
};

static const char *make_input(const char *name, bool kcore)
{
	static char path[2][600];
	char *p = path[kcore];
	snprintf(p, sizeof(path[0]), "%s", tpath(name));
	struct mk_elf_spec s = {
		.segs = segs,
		.nr_segs = CK_ARRAY_SIZE(segs) - (kcore ? 0 : 1),
		.vmcoreinfo = vmcoreinfo_text,
		.nr_prstatus = 1,
	};
	if (access(p, F_OK))
		mk_elf(p, &s);
	return p;
}

/* Pages of the memory map and zero pages among them, pfns [skip_a, skip_b)
 * left out. */
static void expected(uint64_t skip_a, uint64_t skip_b, uint64_t *total, uint64_t *zero)
{
	static const uint64_t pfns[][2] = { { 0, 300 }, { 0x200, 0x202 },
					    { 0x100000, 0x100000 + 70 } };
	*total = *zero = 0;
	for (size_t i = 0; i < CK_ARRAY_SIZE(pfns); i++) {
		for (uint64_t pfn = pfns[i][0]; pfn < pfns[i][1]; pfn++) {
			if (pfn >= skip_a && pfn < skip_b)
				continue;
			(*total)++;
			/* 0x201, partial, has data in its first part */
			*zero += pfn % 8 == 3;
		}
	}
}

static void test_elf(void)
{
	const char *in = make_input("plain.elf", false);
	uint64_t total, zero;
	expected(0, 0, &total, &zero);
	struct ck_mem_usage mu;
	struct ck_error *err = ck_mem_usage(in, &(struct ck_mem_usage_opts){ 0 }, &mu);
	EXPECT(!err, "%s", err ? ck_error_message(err) : "");
	ck_error_destroy(err);
	EXPECT(mu.total == total, "total %" PRIu64 ", want %" PRIu64, mu.total, total);
	EXPECT(mu.pages[CK_PAGE_ZERO] == zero, "zero %" PRIu64 ", want %" PRIu64,
	       mu.pages[CK_PAGE_ZERO], zero);
	EXPECT(mu.kernel == total - zero, "kernel %" PRIu64, mu.kernel);
	EXPECT(!mu.live && !mu.crashkernel && !mu.absent && !mu.unreadable);
	/* No mem_map layout in this VMCOREINFO: only zero pages decided,
	 * and the note says why. */
	EXPECT(mu.supported == CK_DL_ZERO, "supported %d", mu.supported);
	EXPECT(mu.note[0] != '\0');
	for (int c = CK_PAGE_CACHE; c < CK_PAGE_NR_CLASSES; c++)
		EXPECT(mu.pages[c] == 0, "class %d: %" PRIu64, c, mu.pages[c]);

	/* Tiny cycles: the same counts from a bitmap of 64 pfns. */
	struct ck_mem_usage small;
	err = ck_mem_usage(in, &(struct ck_mem_usage_opts){ .cycle_pfns = 64 }, &small);
	EXPECT(!err);
	ck_error_destroy(err);
	EXPECT(small.bitmap_bytes == 8, "bitmap %" PRIu64 " bytes", small.bitmap_bytes);
	EXPECT(small.total == mu.total && small.kernel == mu.kernel &&
	       !memcmp(small.pages, mu.pages, sizeof(mu.pages)));

	/* What capture -d 31 reports on the same input. */
	struct ck_capture_stats st;
	err = ck_capture(in, tpath("out.kdump"), &(struct ck_capture_opts){
		.codec = CK_CODEC_ZSTD, .dump_level = 31, .out_fd = -1, .force = true,
		.nr_threads = 1 }, &st);
	EXPECT(!err, "%s", err ? ck_error_message(err) : "");
	ck_error_destroy(err);
	EXPECT(st.pages_ram == mu.total, "capture ram %" PRIu64, st.pages_ram);
	EXPECT(st.excluded[CK_PAGE_ZERO] == mu.pages[CK_PAGE_ZERO]);
	EXPECT(st.kept == mu.kernel + mu.pages[CK_PAGE_ZERO], "capture kept %" PRIu64, st.kept);

	/* The iomem file is for /proc/kcore only: a vmcore already lacks the
	 * crash kernel's memory. */
	FILE *f = fopen(tpath("iomem"), "w");
	fputs("00001000-0009fbff : System RAM\n  00010000-0001ffff : Crash kernel\n", f);
	fclose(f);
	err = ck_mem_usage(in, &(struct ck_mem_usage_opts){ .iomem = tpath("iomem") }, &small);
	EXPECT(!err);
	ck_error_destroy(err);
	EXPECT(small.total == mu.total && !small.crashkernel);
}

static void test_kcore(void)
{
	const char *in = make_input("kcore.elf", true);
	struct ck_dump *dump;
	struct ck_error *err = ck_dump_open(in, &dump);
	EXPECT(!err, "%s", err ? ck_error_message(err) : "");
	if (err) {
		ck_error_destroy(err);
		return;
	}
	EXPECT(!strcmp(ck_dump_info(dump)->origin, "proc-kcore"), "origin %s",
	       ck_dump_info(dump)->origin);
	ck_dump_destroy(dump);

	/* Crash kernel at pfns 0x10..0x1f, and a line that only looks alike. */
	FILE *f = fopen(tpath("iomem"), "w");
	fputs("00000000-00000fff : Reserved\n"
	      "00001000-0009fbff : System RAM\n"
	      "  00010000-0001ffff : Crash kernel\n"
	      "  00030000-00030fff : Crash kernel notes\n"
	      "100000000-10003ffff : System RAM\n", f);
	fclose(f);
	uint64_t total, zero;
	expected(0x10, 0x20, &total, &zero);
	struct ck_mem_usage mu;
	err = ck_mem_usage(in, &(struct ck_mem_usage_opts){ .iomem = tpath("iomem") }, &mu);
	EXPECT(!err, "%s", err ? ck_error_message(err) : "");
	ck_error_destroy(err);
	EXPECT(mu.live);
	EXPECT(mu.crashkernel == 16, "crash kernel %" PRIu64, mu.crashkernel);
	EXPECT(mu.total == total, "total %" PRIu64 ", want %" PRIu64, mu.total, total);
	EXPECT(mu.pages[CK_PAGE_ZERO] == zero, "zero %" PRIu64 ", want %" PRIu64,
	       mu.pages[CK_PAGE_ZERO], zero);
	EXPECT(mu.kernel == total - zero);

	/* A missing iomem file is an error, not a silent overcount. */
	err = ck_mem_usage(in, &(struct ck_mem_usage_opts){ .iomem = tpath("no-iomem") }, &mu);
	EXPECT(err != NULL);
	ck_error_destroy(err);
}

int main(void)
{
	int r = harness_begin("mem_usage");
	if (r)
		return r;
	run("ELF vmcore: total and zero pages, tiny cycles, equal to capture -d 31", test_elf);
	run("kcore-like core: virtual-only segments skipped, crash kernel left out", test_kcore);
	return harness_end();
}
