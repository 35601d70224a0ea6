/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/dump/flattened.c: makedumpfile's flattened stream
 * (tests/mkdump.h mk_flatten()) of ELF and kdump dumps opens as the dump it
 * carries, in order, shuffled, with rewritten records or without an end
 * record; bad records fail with an error, never wrong data.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump/dump.h"
#include "../mkdump.h"
#include "../harness.h"

static void test_flattened(void)
{
	uint8_t kinds[KD_PFNS];
	kdump_kinds(kinds, MK_ZLIB);
	struct mk_kdump_spec ks = kdump_spec(kinds, MK_ZLIB);
	mk_kdump(tpath("flat-src.kdump"), &ks, NULL);
	mk_elf(tpath("flat-src.elf"), &elf_basic);

	static const struct mk_flat_spec specs[] = {
		{ .max_chunk = 4096, .seed = 1 },
		{ .max_chunk = 777, .seed = 2, .shuffle = true },
		{ .max_chunk = 65536, .seed = 3, .rewrite = true },
		{ .max_chunk = 100, .seed = 4, .shuffle = true, .rewrite = true },
		{ .max_chunk = 64, .seed = 6, .skip_zero = true },	/* holes read as zeros */
	};
	for (size_t k = 0; k < CK_ARRAY_SIZE(specs); k++) {
		char name[64];
		snprintf(name, sizeof(name), "flat%zu.kdump", k);
		const char *kpath = tpath(name);
		mk_flatten(tpath("flat-src.kdump"), kpath, &specs[k]);
		struct ck_dump *d = open_ok(kpath);
		if (d) {
			const struct ck_dump_info *i = ck_dump_info(d);
			EXPECT(!strcmp(i->format, "flattened-kdump"), "format %s", i->format);
			EXPECT(!i->truncated && i->expected_size == i->file_size, "sizes");
			struct stat st;
			stat(kpath, &st);
			EXPECT(i->file_size == (uint64_t)st.st_size, "file size");
			EXPECT(ck_dump_vmcoreinfo(d, NULL) != NULL, "vmcoreinfo");
			check_kdump_pages(d, kpath, kinds, KD_PFNS, 0, KD_PFNS, false);
			ck_dump_destroy(d);
		}
		snprintf(name, sizeof(name), "flat%zu.elf", k);
		const char *epath = tpath(name);
		mk_flatten(tpath("flat-src.elf"), epath, &specs[k]);
		d = open_ok(epath);
		if (d) {
			EXPECT(!strcmp(ck_dump_info(d)->format, "flattened-elf"), "format");
			check_elf_pages(d, epath, &elf_basic, false);
			ck_dump_destroy(d);
		}
	}
	/* No end record: open, but truncated */
	struct mk_flat_spec s = { .max_chunk = 4096, .seed = 5, .no_end = true };
	mk_flatten(tpath("flat-src.kdump"), tpath("noend.kdump"), &s);
	struct ck_dump *d = open_ok(tpath("noend.kdump"));
	if (d) {
		EXPECT(ck_dump_info(d)->truncated, "no end record: truncated");
		check_kdump_pages(d, tpath("noend.kdump"), kinds, KD_PFNS, 0, KD_PFNS, true);
		ck_dump_destroy(d);
	}
	/* Bad records */
	struct mk_buf b = { 0 }, in = { 0 };
	mk_read_file(tpath("flat-src.kdump"), &in);
	mk_flatten_buf(&in, &specs[0], &b);
	int64_t neg = (int64_t)htobe64((uint64_t)-5);
	memcpy(b.data + CK_FLAT_HEADER_SIZE, &neg, 8);
	mk_buf_write(&b, tpath("badrec.flat"));
	expect_open_error(tpath("badrec.flat"), CK_ERR_FORMAT, "flattened record at offset 0x1000");
	b.len = 0;
	mk_flatten_buf(&in, &specs[0], &b);
	int64_t type = (int64_t)htobe64(2);
	memcpy(b.data + 16, &type, 8);
	mk_buf_write(&b, tpath("badtype.flat"));
	expect_open_error(tpath("badtype.flat"), CK_ERR_FORMAT, "type");
	b.len = 100;
	mk_buf_write(&b, tpath("shorthead.flat"));
	expect_open_error(tpath("shorthead.flat"), CK_ERR_TRUNCATED, "flattened header");
	free(b.data);
	free(in.data);
}

/* A stream of a few KiB can claim a logical file of any size: one record
 * far out, holes before it.  A kdump header in it that asks for 4 GiB of
 * bitmaps (within that logical size) used to get them, and two minutes of
 * zeros copied from the holes; what a driver allocates is bounded by the
 * bytes the stream holds. */
static void test_flattened_claims(void)
{
	uint8_t kinds[KD_PFNS];
	kdump_kinds(kinds, MK_ZLIB);
	struct mk_kdump_spec ks = kdump_spec(kinds, MK_ZLIB);
	struct mk_kdump_layout lay;
	mk_kdump(tpath("claim-src.kdump"), &ks, &lay);
	struct mk_buf in = { 0 }, o = { 0 };
	mk_read_file(tpath("claim-src.kdump"), &in);
	struct ck_kdump_header h;
	memcpy(&h, in.data, sizeof(h));
	h.bitmap_blocks = htole32(1u << 20);	/* 4 GiB of 4 KiB blocks */
	memcpy(in.data, &h, sizeof(h));
	uint8_t head[CK_FLAT_HEADER_SIZE] = { 0 };
	struct ck_flat_header fh = { .type = (int64_t)htobe64(CK_FLAT_TYPE),
				     .version = (int64_t)htobe64(CK_FLAT_VERSION) };
	memcpy(fh.signature, CK_FLAT_SIGNATURE, sizeof(CK_FLAT_SIGNATURE));
	memcpy(head, &fh, sizeof(fh));
	mk_buf_append(&o, head, sizeof(head));
	mk_flat_record(&o, 0, in.data, lay.bitmap1);	/* the headers */
	mk_flat_record(&o, 1ull << 33, "x", 1);		/* 8 GiB out */
	struct ck_flat_record end = { (int64_t)htobe64((uint64_t)CK_FLAT_END_MARK),
				      (int64_t)htobe64((uint64_t)CK_FLAT_END_MARK) };
	mk_buf_append(&o, &end, sizeof(end));
	mk_buf_write(&o, tpath("claim.flat"));
	expect_open_error(tpath("claim.flat"), CK_ERR_FORMAT, "bytes of data the file holds");
	free(o.data);
	free(in.data);
}

int main(void)
{
	int r = harness_begin("flattened");
	if (r)
		return r;
	run("flattened: in order, shuffled, rewritten, no end record, bad records",
	    test_flattened);
	run("flattened: a record far out claims no memory", test_flattened_claims);
	return harness_end();
}
