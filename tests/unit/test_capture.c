/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the capture path on generated dumps (tests/mkdump.h): every
 * writer (kdump-compressed with each codec, ELF, flattened, reassembled)
 * must give back exactly the pages of its input, with bitmaps written in
 * small cycles, under a size limit, and from a kdump-compressed input.
 * Prints "ok N - name" lines and "N passed, N failed".
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/capture.h"
#include "../mkdump.h"
#include "../harness.h"



static const char vmcoreinfo_text[] =
	"OSRELEASE=6.1.0-test\n"
	"PAGESIZE=4096\n";

/* Overlap (a "kernel text" mapping of RAM), a partial last page, a hole,
 * memory above 4 GiB; pages with pfn % 8 == 3 are zeros (mk_byte). */
static const struct mk_seg segs[] = {
	{ 0x4000, 4 * PS, 4 * PS, 0xffffffff81000000ull },
	{ 0x0, 300 * PS, 300 * PS, 0xffff888000000000ull },
	{ 0x200000, 0x1c00, 0x1c00, 0xffff888000200000ull },
	{ 0x100000000ull, 70 * PS, 70 * PS, 0xffff888100000000ull },
};

static const char *make_input(void)
{
	static char path[600];
	snprintf(path, sizeof(path), "%s", tpath("input.elf"));
	struct mk_elf_spec s = {
		.segs = segs,
		.nr_segs = CK_ARRAY_SIZE(segs),
		.vmcoreinfo = vmcoreinfo_text,
		.nr_prstatus = 2,
	};
	if (access(path, F_OK))
		mk_elf(path, &s);
	return path;
}

/* Every page out has must equal in's; pages of in that out lacks are
 * counted in *missing.  Returns the pages compared. */
static uint64_t compare(const char *out_path, const char *in_path, uint64_t *missing)
{
	struct ck_dump *in = NULL, *out = NULL;
	struct ck_error *err = ck_dump_open(in_path, &in);
	if (!err)
		err = ck_dump_open(out_path, &out);
	EXPECT(!err, "open %s: %s", out_path, err ? ck_error_message(err) : "");
	if (err) {
		ck_error_destroy(err);
		ck_dump_destroy(in);
		return 0;
	}
	uint8_t a[PS], b[PS];
	uint64_t n = 0;
	*missing = 0;
	for (uint64_t pfn = 0; pfn < ck_dump_info(in)->max_pfn; pfn++) {
		if (!ck_dump_has_page(in, pfn))
			continue;
		if (pfn >= ck_dump_info(out)->max_pfn || !ck_dump_has_page(out, pfn)) {
			(*missing)++;
			continue;
		}
		err = ck_dump_read_phys(in, pfn * PS, a, PS);
		if (!err)
			err = ck_dump_read_phys(out, pfn * PS, b, PS);
		EXPECT(!err, "%s pfn 0x%" PRIx64 ": %s", out_path, pfn, err ? ck_error_message(err) : "");
		if (err) {
			ck_error_destroy(err);
			continue;
		}
		EXPECT(!memcmp(a, b, PS), "%s pfn 0x%" PRIx64 " differs", out_path, pfn);
		n++;
	}
	ck_dump_destroy(in);
	ck_dump_destroy(out);
	return n;
}

static struct ck_error *capture(const char *in, const char *out, struct ck_capture_opts o,
				struct ck_capture_stats *st)
{
	o.force = true;
	if (!o.out_fd)
		o.out_fd = -1;
	return ck_capture(in, out, &o, st);
}

static void test_codecs_roundtrip(void)
{
	const char *in = make_input();
	static const enum ck_codec codecs[] = { CK_CODEC_NONE, CK_CODEC_ZLIB, CK_CODEC_LZO,
						CK_CODEC_SNAPPY, CK_CODEC_ZSTD };
	uint64_t expect_pages = 0;
	for (size_t i = 0; i < CK_ARRAY_SIZE(codecs); i++) {
		for (unsigned threads = 1; threads <= 3; threads += 2) {
			struct ck_capture_stats st;
			char name[64], out[600];
			snprintf(name, sizeof(name), "out.%s.%u", ck_codec_name(codecs[i]), threads);
			snprintf(out, sizeof(out), "%s", tpath(name));
			struct ck_error *err = capture(in, out, (struct ck_capture_opts){
				.codec = codecs[i], .dump_level = 31, .nr_threads = threads }, &st);
			EXPECT(!err, "%s: %s", name, err ? ck_error_message(err) : "");
			ck_error_destroy(err);
			uint64_t missing, n = compare(out, in, &missing);
			EXPECT(missing == 0, "%s: %" PRIu64 " pages missing", name, missing);
			EXPECT(n > 300, "%s: %" PRIu64 " pages", name, n);
			if (!expect_pages)
				expect_pages = n;
			EXPECT(n == expect_pages, "%s: %" PRIu64 " pages, not %" PRIu64, name, n,
			       expect_pages);
			EXPECT(st.kept == n, "%s: kept %" PRIu64, name, st.kept);
			unlink(out);
		}
	}
}

/* Bitmaps in cycles of 1024 pfns (the input spans 1M pfns): the same dump
 * as in one cycle, and bitmap memory bounded by the cycle. */
static void test_cycles(void)
{
	const char *in = make_input();
	struct ck_capture_stats a, b;
	struct ck_error *err = capture(in, tpath("one"), (struct ck_capture_opts){
		.codec = CK_CODEC_ZSTD, .dump_level = 1, .nr_threads = 2 }, &a);
	EXPECT(!err, "one cycle: %s", err ? ck_error_message(err) : "");
	ck_error_destroy(err);
	err = capture(in, tpath("many"), (struct ck_capture_opts){
		.codec = CK_CODEC_ZSTD, .dump_level = 1, .nr_threads = 2, .cycle_pfns = 1024 }, &b);
	EXPECT(!err, "many cycles: %s", err ? ck_error_message(err) : "");
	ck_error_destroy(err);
	EXPECT(b.bitmap_bytes == 2 * 1024 / 8, "bitmap bytes %" PRIu64, b.bitmap_bytes);
	EXPECT(a.kept == b.kept && a.pages_ram == b.pages_ram &&
	       a.excluded[CK_PAGE_ZERO] == b.excluded[CK_PAGE_ZERO] && a.bytes_out == b.bytes_out,
	       "kept %" PRIu64 "/%" PRIu64 " ram %" PRIu64 "/%" PRIu64, a.kept, b.kept,
	       a.pages_ram, b.pages_ram);
	EXPECT(a.excluded[CK_PAGE_ZERO] > 30, "zero pages %" PRIu64, a.excluded[CK_PAGE_ZERO]);
	uint64_t missing;
	compare(tpath("many"), in, &missing);
	EXPECT(missing == 0, "%" PRIu64 " missing", missing);
	/* the files differ only in the header's time stamp */
	FILE *fa = fopen(tpath("one"), "rb"), *fb = fopen(tpath("many"), "rb");
	EXPECT(fa && fb, "reopen");
	if (fa && fb) {
		uint64_t diff = 0, off = 0;
		int ca, cb;
		while ((ca = fgetc(fa)) != EOF && (cb = fgetc(fb)) != EOF) {
			if (ca != cb && (off < 0x198 || off >= 0x1a8))
				diff++;
			off++;
		}
		EXPECT(diff == 0, "%" PRIu64 " bytes differ outside the time stamp", diff);
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
}

static void test_elf(void)
{
	const char *in = make_input();
	for (int level = 0; level <= 1; level++) {
		struct ck_capture_stats st;
		char out[600];
		snprintf(out, sizeof(out), "%s", tpath(level ? "elf1" : "elf0"));
		struct ck_error *err = capture(in, out, (struct ck_capture_opts){
			.elf = true, .dump_level = level, .nr_threads = 2, .cycle_pfns = 2048 }, &st);
		EXPECT(!err, "-E -d %d: %s", level, err ? ck_error_message(err) : "");
		ck_error_destroy(err);
		uint64_t missing, n = compare(out, in, &missing);
		/* level 1 cuts the zero pages out (runs of 256+ only; this
		 * dump's zero pages are single, so all are written) */
		EXPECT(missing <= (level ? st.excluded[CK_PAGE_ZERO] : 0),
		       "-d %d: %" PRIu64 " missing, %" PRIu64 " zero", level, missing,
		       st.excluded[CK_PAGE_ZERO]);
		EXPECT(n + missing > 300, "-d %d: %" PRIu64 " pages", level, n);
		/* The memory map survives: the 1st-bitmap view is the same. */
		struct ck_dump *d = NULL;
		err = ck_dump_open(out, &d);
		if (!err) {
			const struct ck_mem_range *r;
			size_t nr;
			ck_dump_mem_ranges(d, &r, &nr);
			EXPECT(nr == 3 && r[0].start == 0 && r[0].size == 300 * PS &&
			       r[1].start == 0x200000 && r[1].size == 0x1c00 &&
			       r[2].start == 0x100000000ull,
			       "-d %d: %zu ranges", level, nr);
			/* both virtual mappings of the "kernel text" */
			const struct ck_elf_load *loads;
			size_t nl = ck_dump_loads(d, &loads, NULL);
			bool text = false, direct = false;
			for (size_t i = 0; i < nl; i++) {
				const struct ck_elf_load *l = &loads[i];
				if (l->paddr <= 0x5000 && l->paddr + l->memsz > 0x5000 &&
				    l->vaddr == 0xffffffff81000000ull + (l->paddr - 0x4000))
					text = true;
				if (loads[i].paddr <= 0x5000 && loads[i].paddr + loads[i].memsz > 0x5000 &&
				    loads[i].vaddr == 0xffff888000000000ull + loads[i].paddr)
					direct = true;
			}
			EXPECT(text && direct, "-d %d: text %d direct %d (%zu loads)", level, text,
			       direct, nl);
			ck_dump_destroy(d);
		} else {
			EXPECT(0, "%s", ck_error_message(err));
			ck_error_destroy(err);
		}
	}
}

/* -F to a file, then -R from it: the same pages; and -L: a valid dump
 * flagged incomplete whose pages are right. */
static void test_flat_and_limit(void)
{
	const char *in = make_input();
	for (int elf = 0; elf <= 1; elf++) {
		char flat[600], re[600], lim[600];
		snprintf(flat, sizeof(flat), "%s", tpath(elf ? "e.flat" : "k.flat"));
		snprintf(re, sizeof(re), "%s", tpath(elf ? "e.re" : "k.re"));
		snprintf(lim, sizeof(lim), "%s", tpath(elf ? "e.lim" : "k.lim"));
		int fd = open(flat, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		struct ck_capture_stats st;
		struct ck_error *err = capture(in, NULL, (struct ck_capture_opts){
			.elf = elf, .codec = CK_CODEC_LZO, .dump_level = 31, .flattened = true,
			.out_fd = fd, .nr_threads = 2 }, &st);
		close(fd);
		EXPECT(!err, "-F: %s", err ? ck_error_message(err) : "");
		ck_error_destroy(err);
		uint64_t missing;
		compare(flat, in, &missing);
		EXPECT(missing <= (elf ? st.excluded[CK_PAGE_ZERO] : 0), "-F: %" PRIu64 " missing",
		       missing);
		fd = open(flat, O_RDONLY);
		uint64_t bytes = 0;
		unlink(re);
		err = ck_capture_reassemble(fd, re, false, &bytes);
		close(fd);
		EXPECT(!err && bytes > 0, "-R: %s", err ? ck_error_message(err) : "");
		ck_error_destroy(err);
		compare(re, in, &missing);
		EXPECT(missing <= (elf ? st.excluded[CK_PAGE_ZERO] : 0), "-R: %" PRIu64 " missing",
		       missing);

		char inc[700];
		snprintf(inc, sizeof(inc), "%s.incomplete", lim);
		err = capture(in, lim, (struct ck_capture_opts){
			.elf = elf, .codec = CK_CODEC_NONE, .dump_level = 1, .size_limit = 400 * 1024,
			.nr_threads = 2 }, &st);
		EXPECT(err && st.incomplete, "-L: %s", err ? ck_error_message(err) : "no error");
		ck_error_destroy(err);
		struct stat sb;
		EXPECT(stat(inc, &sb) == 0 && sb.st_size <= 400 * 1024 && access(lim, F_OK),
		       "-L: %s size %lld", inc, (long long)sb.st_size);
		struct ck_dump *d = NULL;
		err = ck_dump_open(inc, &d);
		EXPECT(!err && ck_dump_info(d)->incomplete, "-L: flagged incomplete");
		ck_error_destroy(err);
		ck_dump_destroy(d);
		uint64_t n = compare(inc, in, &missing);
		EXPECT(n > 10 && missing > 50, "-L: %" PRIu64 " pages, %" PRIu64 " missing", n,
		       missing);
		unlink(inc);
	}
}

/* A kdump-compressed input, re-encoded: the pages it has, nothing it lacks. */
static void test_refilter(void)
{
	const char *in = make_input();
	char k[600], o[600];
	snprintf(k, sizeof(k), "%s", tpath("re.in"));
	snprintf(o, sizeof(o), "%s", tpath("re.out"));
	struct ck_capture_stats st;
	struct ck_error *err = capture(in, k, (struct ck_capture_opts){
		.codec = CK_CODEC_ZLIB, .dump_level = 1, .nr_threads = 1 }, &st);
	EXPECT(!err, "%s", err ? ck_error_message(err) : "");
	ck_error_destroy(err);
	struct ck_capture_stats st2;
	err = capture(k, o, (struct ck_capture_opts){ .codec = CK_CODEC_ZSTD, .dump_level = 31,
						      .nr_threads = 2, .cycle_pfns = 4096 }, &st2);
	EXPECT(!err, "%s", err ? ck_error_message(err) : "");
	ck_error_destroy(err);
	uint64_t missing, n = compare(o, k, &missing);
	EXPECT(missing == 0 && n == st.kept && st2.kept == st.kept && st2.unreadable == 0,
	       "%" PRIu64 " pages, %" PRIu64 " missing, kept %" PRIu64 "/%" PRIu64, n, missing,
	       st2.kept, st.kept);
	compare(o, in, &missing);
	EXPECT(missing == 0, "against the ELF: %" PRIu64 " missing", missing);
}

/* Bytes of two files that differ outside the header's time stamp (tv_sec
 * and tv_usec at 0x198), or -1 when their sizes differ. */
static int64_t differ_but_time(const char *x, const char *y)
{
	FILE *fa = fopen(x, "rb"), *fb = fopen(y, "rb");
	int64_t diff = 0;
	uint64_t off = 0;
	int ca = 0, cb = 0;
	if (!fa || !fb) {
		diff = -1;
		goto out;
	}
	for (;;) {
		ca = fgetc(fa);
		cb = fgetc(fb);
		if (ca == EOF || cb == EOF)
			break;
		if (ca != cb && (off < 0x198 || off >= 0x1a8))
			diff++;
		off++;
	}
	if (ca != cb)
		diff = -1;
out:
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return diff;
}

/* makedumpfile --split and --reassemble: 3 files whose ranges balance the
 * dumpable pages over split blocks of 16 pfns, each holding exactly its
 * range's pages; joined again they are the unsplit dump, byte for byte. */
static void test_split(void)
{
	const char *in = make_input();
	char whole[600], joined[600], outs[3][600];
	const char *names[3];
	snprintf(whole, sizeof(whole), "%s", tpath("split.whole"));
	snprintf(joined, sizeof(joined), "%s", tpath("split.joined"));
	for (int i = 0; i < 3; i++) {
		char n[32];
		snprintf(n, sizeof(n), "split.%d", i + 1);
		snprintf(outs[i], sizeof(outs[i]), "%s", tpath(n));
		names[i] = outs[i];
	}
	struct ck_capture_opts o = { .codec = CK_CODEC_LZO, .dump_level = 31, .nr_threads = 2,
				     .cycle_pfns = 1024, .out_fd = -1, .force = true };
	struct ck_capture_stats whole_st, st[3];
	struct ck_error *err = ck_capture(in, whole, &o, &whole_st);
	EXPECT(!err, "whole: %s", err ? ck_error_message(err) : "");
	ck_error_destroy(err);

	uint64_t ranges[3][2], total = 0;
	err = ck_capture_split_ranges(in, 31, 16 * PS, 3, ranges, &total);
	EXPECT(!err, "ranges: %s", err ? ck_error_message(err) : "");
	ck_error_destroy(err);
	EXPECT(total == whole_st.kept, "dumpable %" PRIu64 ", kept %" PRIu64, total, whole_st.kept);

	err = ck_capture_split(in, names, 3, &o, 16 * PS, st);
	EXPECT(!err, "split: %s", err ? ck_error_message(err) : "");
	ck_error_destroy(err);
	uint64_t sum = 0, max_pfn = 0;
	for (int i = 0; i < 3; i++) {
		EXPECT(st[i].split_start == ranges[i][0] && st[i].split_end == ranges[i][1],
		       "file %d: range 0x%" PRIx64 "-0x%" PRIx64, i, st[i].split_start,
		       st[i].split_end);
		EXPECT(ranges[i][0] % 16 == 0 && ranges[i][0] <= ranges[i][1],
		       "file %d starts at 0x%" PRIx64, i, ranges[i][0]);
		if (i)
			EXPECT(ranges[i][0] == ranges[i - 1][1], "file %d: gap", i);
		/* each file but the last: at least a third, and less without
		 * its last block (makedumpfile's rule) */
		if (i < 2)
			EXPECT(st[i].kept >= total / 3 && st[i].kept > 0, "file %d keeps %" PRIu64
			       " of %" PRIu64, i, st[i].kept, total);
		sum += st[i].kept;
		struct ck_dump *d = NULL;
		err = ck_dump_open(outs[i], &d);
		EXPECT(!err, "open %s: %s", outs[i], err ? ck_error_message(err) : "");
		ck_error_destroy(err);
		if (!d)
			continue;
		const struct ck_dump_info *info = ck_dump_info(d);
		max_pfn = info->max_pfn;
		EXPECT(info->split && info->split_start_pfn == ranges[i][0] &&
		       info->split_end_pfn == ranges[i][1], "file %d: info range", i);
		uint64_t has = 0, outside = 0;
		for (uint64_t pfn = 0; pfn < info->max_pfn; pfn++) {
			if (!ck_dump_has_page(d, pfn))
				continue;
			has++;
			outside += pfn < ranges[i][0] || pfn >= ranges[i][1];
		}
		EXPECT(has == st[i].kept && outside == 0, "file %d: %" PRIu64 " pages, %" PRIu64
		       " outside its range", i, has, outside);
		ck_dump_destroy(d);
		uint64_t missing, n = compare(outs[i], in, &missing);
		EXPECT(n == st[i].kept, "file %d: %" PRIu64 " pages equal the input's", i, n);
	}
	EXPECT(ranges[0][0] == 0 && ranges[2][1] == max_pfn, "ranges cover 0-0x%" PRIx64,
	       max_pfn);
	EXPECT(sum == whole_st.kept, "pieces keep %" PRIu64 ", whole %" PRIu64, sum,
	       whole_st.kept);

	/* read together, in any order: every page of the input */
	{
		const char *set[3] = { names[1], names[2], names[0] };
		struct ck_dump *d = NULL, *ref = NULL;
		err = ck_dump_open_split(set, 3, &d);
		if (!err)
			err = ck_dump_open(in, &ref);
		EXPECT(!err, "open the split set: %s", err ? ck_error_message(err) : "");
		ck_error_destroy(err);
		uint64_t same = 0, bad = 0;
		uint8_t a[PS], b[PS];
		for (uint64_t pfn = 0; d && ref && pfn < ck_dump_info(ref)->max_pfn; pfn++) {
			if (!ck_dump_has_page(ref, pfn))
				continue;
			struct ck_error *e1 = ck_dump_read_phys(ref, pfn * PS, a, PS);
			struct ck_error *e2 = ck_dump_read_phys(d, pfn * PS, b, PS);
			if (!e1 && !e2 && !memcmp(a, b, PS))
				same++;
			else
				bad++;
			ck_error_destroy(e1);
			ck_error_destroy(e2);
		}
		EXPECT(d && same == whole_st.kept && bad == 0 &&
		       ck_dump_info(d)->split_files == 3, "split set: %" PRIu64 " same, %" PRIu64
		       " bad", same, bad);
		ck_dump_destroy(d);
		ck_dump_destroy(ref);
		const char *twice[2] = { names[0], names[0] };
		d = NULL;
		err = ck_dump_open_split(twice, 2, &d);
		EXPECT(err && !d, "the same file twice accepted");
		ck_error_destroy(err);
	}

	/* reassembled in any order */
	const char *shuffled[3] = { names[2], names[0], names[1] };
	uint64_t pages = 0, bytes = 0;
	err = ck_capture_split_reassemble(shuffled, 3, joined, true, &pages, &bytes);
	EXPECT(!err, "reassemble: %s", err ? ck_error_message(err) : "");
	ck_error_destroy(err);
	uint64_t missing, n = compare(joined, in, &missing);
	EXPECT(missing == 0 && n == whole_st.kept && pages == n, "joined: %" PRIu64 " pages, %"
	       PRIu64 " missing", n, missing);
	EXPECT(differ_but_time(joined, whole) == 0, "joined and whole differ in %" PRId64
	       " bytes", differ_but_time(joined, whole));

	/* a piece missing, a piece of another split dump, an ordinary dump */
	unlink(joined);
	err = ck_capture_split_reassemble(names, 2, joined, true, NULL, NULL);
	EXPECT(err && strstr(ck_error_message(err), "missing"), "missing piece: %s",
	       err ? ck_error_message(err) : "accepted");
	ck_error_destroy(err);
	const char *mixed[3] = { names[0], names[1], whole };
	err = ck_capture_split_reassemble(mixed, 3, joined, true, NULL, NULL);
	EXPECT(err && strstr(ck_error_message(err), "not a file of a split dump"),
	       "ordinary dump: %s", err ? ck_error_message(err) : "accepted");
	ck_error_destroy(err);
	EXPECT(access(joined, F_OK) && access(tpath("split.joined.incomplete"), F_OK),
	       "nothing written on refusal");
	uint64_t size0 = st[0].bytes_out;
	err = ck_capture_split(in, names, 1, &o, 16 * PS, st);
	EXPECT(err, "one output accepted");
	ck_error_destroy(err);

	/* A size limit cuts each file: all three stay .incomplete, valid,
	 * and the call fails. */
	struct ck_capture_opts lim = o;
	lim.size_limit = size0 / 2;
	for (int i = 0; i < 3; i++)
		unlink(outs[i]);
	err = ck_capture_split(in, names, 3, &lim, 16 * PS, st);
	EXPECT(err && ck_error_errno(err) == ENOSPC, "-L: %s", err ? ck_error_message(err) : "ok");
	ck_error_destroy(err);
	int cut = 0;
	for (int i = 0; i < 3; i++) {
		char inc[600], nm[32];
		snprintf(nm, sizeof(nm), "split.%d.incomplete", i + 1);
		snprintf(inc, sizeof(inc), "%s", tpath(nm));
		if (st[i].incomplete) {
			cut++;
			EXPECT(access(outs[i], F_OK) && !access(inc, F_OK), "file %d: left as .incomplete",
			       i);
			compare(inc, in, &missing);	/* every page it has is right */
		} else {
			EXPECT(!access(outs[i], F_OK), "file %d: complete but not renamed", i);
		}
	}
	EXPECT(cut >= 1, "no file was cut by -L");
}

int main(void)
{
	int r = harness_begin("capture");
	if (r)
		return r;
	run("kdump writer round trip: every codec, 1 and 3 threads", test_codecs_roundtrip);
	run("bitmaps in cycles: same dump, bounded bitmap memory", test_cycles);
	run("ELF writer: pages, memory map, both virtual mappings, zero pages cut", test_elf);
	run("flattened -F and -R, size limit -L (kdump and ELF)", test_flat_and_limit);
	run("re-encoding a kdump-compressed input", test_refilter);
	run("split dump: 3 balanced files, each its range; reassembled = unsplit", test_split);
	return harness_end();
}
