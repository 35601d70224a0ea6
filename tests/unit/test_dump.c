/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/dump/dump.c, the probe in front of every reader: empty,
 * zero and random files, random bytes behind each format's magic, every
 * header field, bitmap, descriptor and record corrupted in turn, and each
 * format truncated at every 1% and around each boundary must give an error
 * or a truncated-but-open dump, never a crash, a hang or wrong data.
 * The format-specific reads are in test_elf.c, test_kdump.c and
 * test_flattened.c; the dumps come from tests/mkdump.h.
 *
 * Output: "ok N - name" / "not ok N - name" per test, "# ..." diagnostics,
 * and a last line "N passed, N failed".  Run under `make BUILD=asan`.
 */
#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dump/dump.h"
#include "../mkdump.h"
#include "../harness.h"

static void test_bad_inputs(void)
{
	struct mk_buf b = { 0 };
	mk_buf_write(&b, tpath("empty"));
	expect_open_error(tpath("empty"), CK_ERR_NOT_FORMAT, "empty");
	mk_buf_reserve(&b, 65536);
	b.len = 65536;
	memset(b.data, 0, b.len);
	mk_buf_write(&b, tpath("zeros"));
	expect_open_error(tpath("zeros"), CK_ERR_NOT_FORMAT, "not a crash dump");
	mkdir(tpath("dir"), 0700);
	expect_open_error(tpath("dir"), CK_ERR_INVALID, "directory");

	/* Random bytes, alone and behind each format's magic. */
	static const char *const magics[] = { "", "\177ELF\2\1\1", "KDUMP   ", "DISKDUMP",
					      "makedumpfile" };
	uint64_t seed = 12345;
	for (int t = 0; t < 60; t++) {
		size_t len = 1 + mk_rand(&seed) % 20000;
		b.len = 0;
		mk_buf_reserve(&b, len);
		for (size_t k = 0; k < len; k++)
			b.data[k] = mk_rand(&seed);
		b.len = len;
		const char *m = magics[t % CK_ARRAY_SIZE(magics)];
		memcpy(b.data, m, CK_MIN(strlen(m) + (t % 5 == 4), len));
		if (t % 5 == 1 && len > 64) {	/* a plausible ELF core header */
			b.data[16] = ET_CORE;
			b.data[17] = 0;
			b.data[54] = sizeof(Elf64_Phdr);
			b.data[55] = 0;
			b.data[56] = mk_rand(&seed) % 8;
			b.data[57] = 0;
			uint64_t phoff = 64;
			memcpy(b.data + 32, &phoff, 8);
		}
		if (t % 5 == 4 && len > 4200) {	/* flattened header, random records */
			memset(b.data + 13, 0, 3);
			int64_t one = (int64_t)htobe64(1);
			memcpy(b.data + 16, &one, 8);
		}
		mk_buf_write(&b, tpath("random"));
		survive(tpath("random"));
	}
	free(b.data);
}

/* Overwrites each byte of [from, to) with several values and checks the
 * reader survives each. */
static void corrupt_range(const struct mk_buf *orig, const char *path, uint64_t from,
			  uint64_t to, uint64_t step)
{
	static const uint8_t vals[] = { 0x00, 0xff, 0x80, 0x01, 0x7f };
	mk_buf_write(orig, path);
	/* One byte at a time in place: rewriting the whole file per case
	 * would make this test I/O bound. */
	int fd = open(path, O_WRONLY);
	EXPECT(fd >= 0, "open %s", path);
	if (fd < 0)
		return;
	for (uint64_t off = from; off < to && off < orig->len; off += step) {
		for (size_t v = 0; v < CK_ARRAY_SIZE(vals); v++) {
			if (orig->data[off] == vals[v])
				continue;
			if (pwrite(fd, &vals[v], 1, off) != 1)
				abort();
			survive(path);
		}
		if (pwrite(fd, &orig->data[off], 1, off) != 1)
			abort();
	}
	close(fd);
}

static void test_corrupt_fields(void)
{
	struct mk_buf elf = { 0 }, kd = { 0 }, flat = { 0 };
	mk_elf_buf(&elf_basic, &elf);
	/* ELF header, program headers, notes */
	Elf64_Phdr note;
	memcpy(&note, elf.data + sizeof(Elf64_Ehdr), sizeof(note));
	corrupt_range(&elf, tpath("corrupt.elf"), 0, note.p_offset + note.p_filesz, 1);

	/* A small kdump with every kind of page, so that each of the many
	 * corrupted copies is quick to read through. */
	uint8_t kinds[KD_PFNS];
	kdump_kinds(kinds, MK_ZLIB);
	for (uint64_t pfn = 0; pfn < 24; pfn++)
		kinds[pfn] = (uint8_t[]){ MK_RAW, MK_ZLIB, MK_LZO, MK_SNAPPY, MK_ZSTD, MK_EXCLUDED,
					  MK_NOT_RAM, MK_ZLIB }[pfn % 8];
	struct mk_kdump_spec s = kdump_spec(kinds, MK_ZLIB);
	s.max_mapnr = 24;
	struct mk_kdump_layout L;
	mk_kdump_buf(&s, &kd, &L);
	corrupt_range(&kd, tpath("corrupt.kdump"), 0, sizeof(struct ck_kdump_header), 1);
	corrupt_range(&kd, tpath("corrupt.kdump"), L.sub_header,
		      L.sub_header + sizeof(struct ck_kdump_sub_header), 1);
	corrupt_range(&kd, tpath("corrupt.kdump"), L.notes, L.notes + L.notes_len, 3);
	corrupt_range(&kd, tpath("corrupt.kdump"), L.bitmap1, L.bitmap1 + 16, 1);
	corrupt_range(&kd, tpath("corrupt.kdump"), L.bitmap2, L.bitmap2 + 16, 1);
	corrupt_range(&kd, tpath("corrupt.kdump"), L.descs, L.data, 1);
	corrupt_range(&kd, tpath("corrupt.kdump"), L.data, L.end, 257);

	struct mk_flat_spec fs = { .max_chunk = 3000, .seed = 9 };
	mk_flatten_buf(&kd, &fs, &flat);
	corrupt_range(&flat, tpath("corrupt.flat"), 0, 32, 1);
	corrupt_range(&flat, tpath("corrupt.flat"), CK_FLAT_HEADER_SIZE,
		      CK_FLAT_HEADER_SIZE + 16, 1);
	corrupt_range(&flat, tpath("corrupt.flat"), CK_FLAT_HEADER_SIZE + 16, flat.len, 511);

	/* Targeted absurd values in the kdump header. */
	struct {
		size_t off, size;
		uint64_t val;
		enum ck_error_code code;
		const char *needle;
	} cases[] = {
		{ offsetof(struct ck_kdump_header, block_size), 4, 4095, CK_ERR_FORMAT,
		  "block_size" },
		{ offsetof(struct ck_kdump_header, block_size), 4, 1u << 30, CK_ERR_FORMAT,
		  "block_size" },
		{ offsetof(struct ck_kdump_header, sub_hdr_size), 4, (uint32_t)-1, CK_ERR_FORMAT,
		  "sub_hdr_size" },
		{ offsetof(struct ck_kdump_header, sub_hdr_size), 4, 0x7fffffff, CK_ERR_TRUNCATED,
		  "bitmaps" },
		{ offsetof(struct ck_kdump_header, bitmap_blocks), 4, 0xffffffff,
		  CK_ERR_TRUNCATED, "bitmaps" },
		{ offsetof(struct ck_kdump_header, bitmap_blocks), 4, 0, CK_ERR_FORMAT,
		  "bitmap_blocks" },
		{ offsetof(struct ck_kdump_header, header_version), 4, (uint32_t)-3,
		  CK_ERR_FORMAT, "header_version" },
		{ L.sub_header + offsetof(struct ck_kdump_sub_header, max_mapnr_64), 8,
		  1ull << 60, CK_ERR_FORMAT, "max_mapnr" },
		{ L.sub_header + offsetof(struct ck_kdump_sub_header, offset_note), 8,
		  1ull << 50, CK_ERR_TRUNCATED, "ELF notes" },
		{ L.sub_header + offsetof(struct ck_kdump_sub_header, size_note), 8,
		  UINT64_MAX, CK_ERR_TRUNCATED, "ELF notes" },
		{ L.sub_header + offsetof(struct ck_kdump_sub_header, offset_note), 8,
		  (uint64_t)-4096, CK_ERR_TRUNCATED, "ELF notes" },
		{ L.notes + 4, 4, 0xfffffff0, CK_ERR_FORMAT, "n_descsz" },
		{ L.sub_header + offsetof(struct ck_kdump_sub_header, split), 4, 1,
		  CK_ERR_FORMAT, "split" },
	};
	struct mk_buf b = { 0 };
	for (size_t k = 0; k < CK_ARRAY_SIZE(cases); k++) {
		b.len = 0;
		mk_buf_put(&b, 0, kd.data, kd.len);
		uint64_t v = htole64(cases[k].val);
		memcpy(b.data + cases[k].off, &v, cases[k].size);
		if (cases[k].needle && !strcmp(cases[k].needle, "split")) {
			/* split with a range past max_mapnr */
			uint64_t e = htole64(1000);
			memcpy(b.data + L.sub_header +
				       offsetof(struct ck_kdump_sub_header, end_pfn_64),
			       &e, 8);
		}
		mk_buf_write(&b, tpath("absurd.kdump"));
		expect_open_error(tpath("absurd.kdump"), cases[k].code, cases[k].needle);
	}
	/* Bad page descriptors: open fine, the page read fails clearly. */
	struct {
		size_t field;
		uint64_t val;
		size_t size;
		const char *needle;
	} descs[] = {
		{ offsetof(struct ck_kdump_page_desc, offset), 1ull << 40, 8, "truncated" },
		{ offsetof(struct ck_kdump_page_desc, offset), (uint64_t)-1, 8, "bad page descriptor" },
		{ offsetof(struct ck_kdump_page_desc, size), PS + 1, 4, "bad page descriptor" },
		{ offsetof(struct ck_kdump_page_desc, size), 0, 4, "bad page descriptor" },
		{ offsetof(struct ck_kdump_page_desc, flags), 3, 4, "several compression" },
		{ offsetof(struct ck_kdump_page_desc, flags), 0, 4, "uncompressed page" },
		{ offsetof(struct ck_kdump_page_desc, flags), CK_KDUMP_COMPRESSED_LZO, 4, "lzo" },
	};
	/* descriptor index 1 is pfn 1 (pfn 0 is RAW, pfn 1 zlib) */
	for (size_t k = 0; k < CK_ARRAY_SIZE(descs); k++) {
		b.len = 0;
		mk_buf_put(&b, 0, kd.data, kd.len);
		uint64_t v = htole64(descs[k].val);
		memcpy(b.data + L.descs + sizeof(struct ck_kdump_page_desc) + descs[k].field, &v,
		       descs[k].size);
		mk_buf_write(&b, tpath("baddesc.kdump"));
		struct ck_dump *d = open_ok(tpath("baddesc.kdump"));
		if (!d)
			continue;
		uint8_t page[PS];
		struct ck_error *err = ck_dump_read_phys(d, 1 * PS, page, PS);
		EXPECT(err && strstr(msg(err), descs[k].needle) && strstr(msg(err), "pfn 0x1"),
		       "desc case %zu: %s", k, msg(err));
		ck_error_destroy(err);
		ck_dump_destroy(d);
	}
	free(b.data);
	free(elf.data);
	free(kd.data);
	free(flat.data);
}

static int cmp_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x > y ? -1 : x < y;
}

/* Cuts points: every 1% and around each boundary. */
static size_t cut_points(uint64_t size, const uint64_t *bounds, size_t nr_bounds, uint64_t *out)
{
	size_t n = 0;
	for (int pct = 0; pct < 100; pct++)
		out[n++] = size * pct / 100;
	for (size_t i = 0; i < nr_bounds; i++)
		for (int d = -1; d <= 1; d++)
			if (bounds[i] + d < size && bounds[i] + d > 0)
				out[n++] = bounds[i] + d;
	return n;
}

/* Writes each cut of orig and checks: an error (TRUNCATED, or NOT_FORMAT
 * when even the magic is gone), or an open dump flagged truncated whose
 * pages read right or fail with TRUNCATED/FAULT. */
static void check_cuts(const struct mk_buf *orig, const char *path, const uint64_t *cuts,
		       size_t nr_cuts, uint64_t expected, bool exact,
		       void (*pages)(struct ck_dump *, const char *), int *opened)
{
	/* Cut the file shorter and shorter in place: sort descending. */
	uint64_t *sorted = malloc(nr_cuts * sizeof(uint64_t));
	memcpy(sorted, cuts, nr_cuts * sizeof(uint64_t));
	qsort(sorted, nr_cuts, sizeof(uint64_t), cmp_desc);
	cuts = sorted;
	mk_buf_write(orig, path);
	for (size_t c = 0; c < nr_cuts; c++) {
		if (truncate(path, cuts[c]) < 0)
			abort();
		struct ck_dump *d = NULL;
		struct ck_error *err = ck_dump_open(path, &d);
		if (err) {
			enum ck_error_code code = ck_error_code(err);
			EXPECT(code == CK_ERR_TRUNCATED || (code == CK_ERR_NOT_FORMAT && cuts[c] < 16),
			       "cut at 0x%" PRIx64 ": code %d: %s", cuts[c], code, msg(err));
			EXPECT(strstr(msg(err), path) != NULL, "cut error lacks file: %s", msg(err));
			ck_error_destroy(err);
			continue;
		}
		(*opened)++;
		const struct ck_dump_info *i = ck_dump_info(d);
		EXPECT(i->truncated, "cut at 0x%" PRIx64 " of 0x%zx: not flagged truncated",
		       cuts[c], orig->len);
		/* The exact size when the headers say it (ELF, kdump with its
		 * descriptors intact); otherwise at least more than we have. */
		if (expected)
			EXPECT(i->file_size == cuts[c] && i->expected_size > cuts[c] &&
				       i->expected_size <= expected &&
				       (!exact || i->expected_size == expected),
			       "cut at 0x%" PRIx64 ": expected 0x%" PRIx64 " (want 0x%" PRIx64 ")",
			       cuts[c], i->expected_size, expected);
		pages(d, path);
		ck_dump_destroy(d);
	}
	free(sorted);
}

static uint8_t trunc_kinds[KD_PFNS];

static void trunc_elf_pages(struct ck_dump *d, const char *path)
{
	check_elf_pages(d, path, &elf_basic, true);
}

static void trunc_kdump_pages(struct ck_dump *d, const char *path)
{
	check_kdump_pages(d, path, trunc_kinds, KD_PFNS, 0, KD_PFNS, true);
}

static void test_truncation(void)
{
	static uint64_t cuts[4096];
	int opened = 0;

	/* ELF: boundaries are the header, phdrs, notes and each segment. */
	struct mk_buf elf = { 0 };
	mk_elf_buf(&elf_basic, &elf);
	uint64_t bounds[64];
	size_t nb = 0;
	bounds[nb++] = sizeof(Elf64_Ehdr);
	for (size_t k = 0; k <= elf_basic.nr_segs; k++) {
		Elf64_Phdr ph;
		memcpy(&ph, elf.data + sizeof(Elf64_Ehdr) + k * sizeof(ph), sizeof(ph));
		bounds[nb++] = sizeof(Elf64_Ehdr) + (k + 1) * sizeof(ph);
		bounds[nb++] = ph.p_offset;
		bounds[nb++] = ph.p_offset + ph.p_filesz;
		bounds[nb++] = ph.p_offset + ph.p_filesz / 2;
	}
	size_t n = cut_points(elf.len, bounds, nb, cuts);
	check_cuts(&elf, tpath("cut.elf"), cuts, n, elf.len, true, trunc_elf_pages, &opened);
	EXPECT(opened > 90, "only %d ELF cuts opened", opened);

	/* kdump with each codec */
	for (size_t c = 0; c < CK_ARRAY_SIZE(codec_kinds); c++) {
		kdump_kinds(trunc_kinds, codec_kinds[c]);
		struct mk_kdump_spec s = kdump_spec(trunc_kinds, codec_kinds[c]);
		struct mk_buf kd = { 0 };
		struct mk_kdump_layout L;
		mk_kdump_buf(&s, &kd, &L);
		uint64_t kb[] = { sizeof(struct ck_kdump_header), L.sub_header,
				  L.sub_header + sizeof(struct ck_kdump_sub_header),
				  L.notes + L.notes_len, L.bitmap1, L.bitmap2,
				  L.bitmap2 + L.bitmap_len,
				  L.descs + 24 * L.nr_descs / 2, L.data, L.data + PS,
				  (L.data + L.end) / 2, L.end - 1 };
		n = cut_points(kd.len, kb, CK_ARRAY_SIZE(kb), cuts);
		/* With the descriptors intact, the expected size is exact. */
		uint64_t mid = (L.data + L.end) / 2;
		opened = 0;
		check_cuts(&kd, tpath("cut.kdump"), &mid, 1, L.end, true, trunc_kdump_pages,
			   &opened);
		EXPECT(opened == 1, "cut in the page data did not open");
		opened = 0;
		check_cuts(&kd, tpath("cut.kdump"), cuts, n, L.end, false, trunc_kdump_pages, &opened);
		EXPECT(opened > 50, "only %d %s cuts opened", opened, codec_names[c]);

		/* and its flattened stream, in order and shuffled */
		for (int shuffle = 0; shuffle < 2; shuffle++) {
			struct mk_flat_spec fs = { .max_chunk = 5000, .seed = 11 + c,
						   .shuffle = shuffle };
			struct mk_buf flat = { 0 };
			mk_flatten_buf(&kd, &fs, &flat);
			uint64_t fb[] = { CK_FLAT_HEADER_SIZE, CK_FLAT_HEADER_SIZE + 16 };
			n = cut_points(flat.len, fb, CK_ARRAY_SIZE(fb), cuts);
			opened = 0;
			check_cuts(&flat, tpath("cut.flat"), cuts, n, 0, false, trunc_kdump_pages,
				   &opened);
			if (!shuffle)
				EXPECT(opened > 50, "only %d flattened cuts opened", opened);
			free(flat.data);
		}
		free(kd.data);
	}
	free(elf.data);
}

int main(void)
{
	int r = harness_begin("dump");
	if (r)
		return r;
	run("bad inputs: empty, zeros, directory, random", test_bad_inputs);
	run("corrupt header fields, bitmaps, descriptors, records", test_corrupt_fields);
	run("truncation at every 1% and around each boundary", test_truncation);
	return harness_end();
}
