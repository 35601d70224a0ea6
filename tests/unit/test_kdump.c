/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/dump/kdump.c, the kdump-compressed reader, on dumps
 * written by tests/mkdump.h mk_kdump(): every codec, raw, zero, excluded and
 * not-RAM pages; header versions 1-7 and DISKDUMP; QEMU's dumps, split
 * dumps joined, and makedumpfile's incomplete flag.
 */
#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump/dump.h"
#include "../mkdump.h"
#include "../harness.h"

static void check_kdump_info(struct ck_dump *d, const char *comp)
{
	const struct ck_dump_info *i = ck_dump_info(d);
	EXPECT(!strcmp(i->format, "kdump"), "format %s", i->format);
	EXPECT(!strcmp(i->origin, "makedumpfile"), "origin %s", i->origin);
	EXPECT(!strcmp(i->compression, comp), "compression %s, want %s", i->compression, comp);
	EXPECT(i->arch && !strcmp(i->arch, "x86_64"), "arch %s", i->arch);
	EXPECT(i->header_version == 6 && i->dump_level == 31, "version %d level %d",
	       i->header_version, i->dump_level);
	EXPECT(i->page_size == PS && i->max_pfn == KD_PFNS && i->nr_cpus == 2, "sizes");
	EXPECT(i->header_time == 1700000000, "time %" PRId64, i->header_time);
	EXPECT(!strcmp(i->uts_release, "6.1.0-56-amd64") && !strcmp(i->uts_sysname, "Linux") &&
		       !strcmp(i->uts_nodename, "mkdump") && !strcmp(i->uts_machine, "x86_64"),
	       "utsname %s", i->uts_release);
	EXPECT(!i->truncated && !i->incomplete && i->expected_size == i->file_size,
	       "truncated %d exp 0x%" PRIx64 " size 0x%" PRIx64, i->truncated, i->expected_size,
	       i->file_size);
	const struct ck_mem_range *r;
	size_t nr;
	ck_dump_mem_ranges(d, &r, &nr);
	EXPECT(nr == 2 && r[0].start == 0 && r[0].size == 40 * PS && r[1].start == 48 * PS &&
		       r[1].size == 48 * PS,
	       "%zu ranges", nr);
	size_t len, count;
	const char *v = ck_dump_vmcoreinfo(d, &len);
	EXPECT(v && !strcmp(v, std_vmcoreinfo) && len == strlen(v), "vmcoreinfo");
	EXPECT(has_note(d, "CORE", NT_PRSTATUS, &count) && count == 2, "notes");
}

static void test_kdump_codecs(void)
{
	uint8_t kinds[KD_PFNS];
	for (size_t c = 0; c < CK_ARRAY_SIZE(codec_kinds); c++) {
		char name[64];
		snprintf(name, sizeof(name), "v6.%s.kdump", codec_names[c]);
		const char *path = tpath(name);
		kdump_kinds(kinds, codec_kinds[c]);
		struct mk_kdump_spec s = kdump_spec(kinds, codec_kinds[c]);
		mk_kdump(path, &s, NULL);
		struct ck_dump *d = open_ok(path);
		if (!d)
			continue;
		check_kdump_info(d, codec_names[c]);
		check_kdump_pages(d, path, kinds, KD_PFNS, 0, KD_PFNS, false);
		uint8_t page[PS];
		struct ck_error *err = ck_dump_read_phys(d, 17 * PS, page, PS);
		EXPECT(err && ck_error_code(err) == CK_ERR_FAULT && strstr(msg(err), "excluded") &&
			       strstr(msg(err), "pfn 0x11"),
		       "excluded: %s", msg(err));
		ck_error_destroy(err);
		err = ck_dump_read_phys(d, 41 * PS, page, PS);
		EXPECT(err && ck_error_code(err) == CK_ERR_FAULT && strstr(msg(err), "not RAM"),
		       "hole: %s", msg(err));
		ck_error_destroy(err);
		ck_dump_destroy(d);
	}
	/* Every codec in one dump */
	for (uint64_t pfn = 0; pfn < KD_PFNS; pfn++)
		kinds[pfn] = MK_ZLIB + pfn % 4;
	struct mk_kdump_spec s = kdump_spec(kinds, MK_ZLIB);
	s.status_codec = CK_KDUMP_COMPRESSED_ZLIB | CK_KDUMP_COMPRESSED_ZSTD;
	mk_kdump(tpath("mixed.kdump"), &s, NULL);
	struct ck_dump *d = open_ok(tpath("mixed.kdump"));
	if (d) {
		EXPECT(!strcmp(ck_dump_info(d)->compression, "mixed"), "mixed");
		check_kdump_pages(d, tpath("mixed.kdump"), kinds, KD_PFNS, 0, KD_PFNS, false);
		ck_dump_destroy(d);
	}
	/* Uncompressed (makedumpfile without -c/-l/-p/-z) and no zero sharing */
	for (uint64_t pfn = 0; pfn < KD_PFNS; pfn++)
		kinds[pfn] = pfn % 5 == 1 ? MK_EXCLUDED : MK_RAW;
	s = kdump_spec(kinds, MK_RAW);
	s.zero_shared = false;
	mk_kdump(tpath("raw.kdump"), &s, NULL);
	d = open_ok(tpath("raw.kdump"));
	if (d) {
		EXPECT(!strcmp(ck_dump_info(d)->compression, "none"), "none");
		check_kdump_pages(d, tpath("raw.kdump"), kinds, KD_PFNS, 0, KD_PFNS, false);
		ck_dump_destroy(d);
	}
	/* A larger dump, so that ranks cross several prefix-count blocks. */
	enum { BIG = 5000 };
	uint8_t *bk = malloc(BIG);
	uint64_t seed = 7;
	for (uint64_t pfn = 0; pfn < BIG; pfn++) {
		uint64_t x = mk_rand(&seed) % 16;
		bk[pfn] = x < 3 ? MK_NOT_RAM : x < 8 ? MK_EXCLUDED : x < 9 ? MK_RAW : MK_LZO;
	}
	s = kdump_spec(bk, MK_LZO);
	s.max_mapnr = BIG;
	mk_kdump(tpath("big.kdump"), &s, NULL);
	d = open_ok(tpath("big.kdump"));
	if (d) {
		check_kdump_pages(d, tpath("big.kdump"), bk, BIG, 0, BIG, false);
		ck_dump_destroy(d);
	}
	free(bk);
}

static void test_kdump_versions(void)
{
	uint8_t kinds[KD_PFNS];
	kdump_kinds(kinds, MK_ZLIB);
	for (int v = 1; v <= 7; v++) {
		char name[64];
		snprintf(name, sizeof(name), "v%d.kdump", v);
		const char *path = tpath(name);
		struct mk_kdump_spec s = kdump_spec(kinds, MK_ZLIB);
		s.version = v;
		s.nr_cpus = 0;	/* v4+: from the notes */
		mk_kdump(path, &s, NULL);
		struct ck_dump *d = open_ok(path);
		if (!d)
			continue;
		const struct ck_dump_info *i = ck_dump_info(d);
		EXPECT(i->header_version == v && i->dump_level == 31, "v%d: %d", v,
		       i->header_version);
		EXPECT((ck_dump_vmcoreinfo(d, NULL) != NULL) == (v >= 3), "v%d vmcoreinfo", v);
		EXPECT(i->nr_cpus == (v >= 4 ? 2u : 0u), "v%d nr_cpus %u", v, i->nr_cpus);
		EXPECT(i->max_pfn == KD_PFNS, "v%d max_pfn", v);
		check_kdump_pages(d, path, kinds, KD_PFNS, 0, KD_PFNS, false);
		ck_dump_destroy(d);
	}
	/* The old diskdump: one bitmap, no sub header */
	struct mk_kdump_spec s = kdump_spec(kinds, MK_ZLIB);
	s.diskdump = true;
	s.version = 1;
	mk_kdump(tpath("diskdump"), &s, NULL);
	struct ck_dump *d = open_ok(tpath("diskdump"));
	if (d) {
		EXPECT(!strcmp(ck_dump_info(d)->origin, "diskdump"), "origin");
		EXPECT(ck_dump_info(d)->dump_level == -1, "level");
		check_kdump_pages(d, tpath("diskdump"), kinds, KD_PFNS, 0, KD_PFNS, false);
		ck_dump_destroy(d);
	}
}

static void test_kdump_qemu_split_incomplete(void)
{
	uint8_t kinds[KD_PFNS];
	/* QEMU: no exclusion, utsname empty but for the machine, QEMU notes */
	for (uint64_t pfn = 0; pfn < KD_PFNS; pfn++)
		kinds[pfn] = pfn >= 40 && pfn < 48 ? MK_NOT_RAM : MK_SNAPPY;
	struct mk_kdump_spec s = kdump_spec(kinds, MK_SNAPPY);
	s.qemu = true;
	s.time = 0;
	s.dump_level = 1;
	mk_kdump(tpath("qemu.kdump"), &s, NULL);
	struct ck_dump *d = open_ok(tpath("qemu.kdump"));
	if (d) {
		const struct ck_dump_info *i = ck_dump_info(d);
		EXPECT(!strcmp(i->origin, "qemu"), "origin %s", i->origin);
		EXPECT(!i->uts_release[0] && !strcmp(i->uts_machine, "x86_64"), "uts");
		EXPECT(i->header_time == 0 && i->dump_level == 1, "fields");
		EXPECT(has_note(d, "QEMU", 0, NULL), "QEMU notes");
		check_kdump_pages(d, tpath("qemu.kdump"), kinds, KD_PFNS, 0, KD_PFNS, false);
		ck_dump_destroy(d);
	}
	/* split: this file holds pfns 30-70 */
	kdump_kinds(kinds, MK_ZSTD);
	s = kdump_spec(kinds, MK_ZSTD);
	s.split_start = 30;
	s.split_end = 70;
	mk_kdump(tpath("split.kdump"), &s, NULL);
	d = open_ok(tpath("split.kdump"));
	if (d) {
		check_kdump_pages(d, tpath("split.kdump"), kinds, KD_PFNS, 30, 70, false);
		uint8_t page[PS];
		struct ck_error *err = ck_dump_read_phys(d, 5 * PS, page, PS);
		EXPECT(err && strstr(msg(err), "split"), "split: %s", msg(err));
		ck_error_destroy(err);
		ck_dump_destroy(d);
	}
	/* incomplete: descriptors from the 20th on were never written */
	s = kdump_spec(kinds, MK_ZSTD);
	s.status = CK_KDUMP_INCOMPLETE;
	s.lost_from = 20;
	mk_kdump(tpath("incomplete.kdump"), &s, NULL);
	d = open_ok(tpath("incomplete.kdump"));
	if (d) {
		EXPECT(ck_dump_info(d)->incomplete, "incomplete");
		uint64_t idx = 0, good = 0, lost = 0;
		uint8_t page[PS], want[PS];
		for (uint64_t pfn = 0; pfn < KD_PFNS; pfn++) {
			if (!mk_kind_saved(kinds[pfn]))
				continue;
			struct ck_error *err = ck_dump_read_phys(d, pfn * PS, page, PS);
			mk_fill(want, pfn * PS, PS);
			if (idx < 20) {
				EXPECT(!err && !memcmp(page, want, PS), "pfn %" PRIu64 ": %s", pfn,
				       msg(err));
				good++;
			} else {
				EXPECT(err && strstr(msg(err), "incomplete") &&
					       !ck_dump_has_page(d, pfn),
				       "lost pfn %" PRIu64 ": %s", pfn, msg(err));
				lost++;
			}
			ck_error_destroy(err);
			idx++;
		}
		EXPECT(good == 20 && lost > 0, "good %" PRIu64, good);
		ck_dump_destroy(d);
	}
}

/* Patches bytes of a written file. */
static void patch(const char *path, uint64_t off, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY);
	EXPECT(fd >= 0 && pwrite(fd, p, len, off) == (ssize_t)len, "patch %s", path);
	if (fd >= 0)
		close(fd);
}

/* max_mapnr is any 64-bit value: near 2^64, (max_mapnr + 7) / 8 wrapped to
 * a few bytes, the bitmaps were read short and the last word's mask
 * written before them (a heap overflow); one bit past the bitmaps, pfns
 * past them were read.  Both are refused at open, naming the file, with
 * no allocation made from the value. */
static void test_kdump_max_mapnr(void)
{
	uint8_t kinds[KD_PFNS];
	kdump_kinds(kinds, MK_ZLIB);
	struct mk_kdump_spec s = kdump_spec(kinds, MK_ZLIB);
	struct mk_kdump_layout lay;
	const char *path = tpath("mapnr.kdump");
	static const uint64_t bad[] = { UINT64_MAX, UINT64_MAX - 63, UINT64_MAX - 6,
					1ull << 63, 2 * 4096 * 8 + 1 };
	for (size_t i = 0; i < CK_ARRAY_SIZE(bad); i++) {
		mk_kdump(path, &s, &lay);
		uint64_t v = htole64(bad[i]);
		patch(path, lay.sub_header + offsetof(struct ck_kdump_sub_header, max_mapnr_64),
		      &v, sizeof(v));
		struct ck_dump *d = NULL;
		struct ck_error *err = ck_dump_open(path, &d);
		EXPECT(err && ck_error_code(err) == CK_ERR_FORMAT && strstr(msg(err), "mapnr.kdump") &&
			       strstr(msg(err), "cannot cover"),
		       "max_mapnr 0x%" PRIx64 ": %s", bad[i], msg(err));
		ck_error_destroy(err);
		ck_dump_destroy(d);
	}
	/* the largest the bitmaps cover still opens */
	mk_kdump(path, &s, &lay);
	uint64_t v = htole64(2 * lay.bitmap_len * 8);	/* both bitmaps, read as one */
	patch(path, lay.sub_header + offsetof(struct ck_kdump_sub_header, max_mapnr_64), &v,
	      sizeof(v));
	struct ck_dump *d = open_ok(path);
	EXPECT(d && ck_dump_info(d)->max_pfn == 2 * lay.bitmap_len * 8, "max_pfn");
	ck_dump_destroy(d);
}

int main(void)
{
	int r = harness_begin("kdump");
	if (r)
		return r;
	run("kdump v6: zlib, lzo, snappy, zstd, mixed, raw, excluded, large", test_kdump_codecs);
	run("kdump: header versions 1-7 and DISKDUMP", test_kdump_versions);
	run("kdump: QEMU, split, incomplete", test_kdump_qemu_split_incomplete);
	run("kdump: max_mapnr that wraps or passes the bitmaps refused", test_kdump_max_mapnr);
	return harness_end();
}
