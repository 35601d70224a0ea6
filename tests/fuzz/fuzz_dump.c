/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: a dump file of any format through the public dump API.  The
 * input is the file; ck_dump_open() probes it (ELF, kdump-compressed or
 * DISKDUMP with their headers, notes, bitmaps and descriptors, makedumpfile's
 * flattened stream of either), then the info, notes, VMCOREINFO and memory
 * ranges are read, and a bounded number of pages: the low pfns, the first
 * and last pages of each range, the bitmaps and the truncation loss; a split
 * file is also joined with itself (ck_dump_open_split).
 */
#include "fuzz.h"

#define FZ_PFNS 48

static volatile size_t fz_sink;

static void read_page(struct ck_dump *d, uint64_t paddr, uint8_t *buf, size_t len)
{
	fz_drop(ck_dump_read_phys(d, paddr, buf, len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	if (fd < 0)
		fd = fz_memfd("fuzz_dump", path);
	fz_set(fd, data, size);

	struct ck_dump *d = NULL;
	struct ck_error *err = ck_dump_open(path, &d);
	if (err) {
		fz_drop(err);
		return 0;
	}
	const struct ck_dump_info *info = ck_dump_info(d);
	uint64_t ps = info->page_size ? info->page_size : 4096;
	/* Pages are read 4 KiB at most at a time: a page size from the header
	 * is the library's to bound, not this buffer's. */
	static uint8_t buf[4096];
	size_t len = ps < sizeof(buf) ? ps : sizeof(buf);

	const struct ck_note *notes;
	size_t nr_notes, vlen = 0;
	ck_dump_notes(d, &notes, &nr_notes);
	size_t sum = 0;
	for (size_t i = 0; i < nr_notes; i++)
		sum += strlen(notes[i].name) + notes[i].descsz;
	const char *vmci = ck_dump_vmcoreinfo(d, &vlen);
	if (vmci)
		sum += strlen(vmci);
	fz_sink = sum;

	uint64_t n = info->max_pfn < FZ_PFNS ? info->max_pfn : FZ_PFNS;
	for (uint64_t pfn = 0; pfn < n; pfn++) {
		ck_dump_has_page(d, pfn);
		read_page(d, pfn * ps, buf, len);
	}
	const struct ck_mem_range *r;
	size_t nr;
	ck_dump_mem_ranges(d, &r, &nr);
	for (size_t i = 0; i < nr && i < 16; i++) {
		read_page(d, r[i].start, buf, len);
		if (r[i].size > 1)
			read_page(d, r[i].start + r[i].size - 1, buf, 1);
	}
	/* a read across a page boundary */
	read_page(d, ps - 8, buf, 16);

	uint64_t mask[4], mem[4], have[4];
	memset(mask, 0xff, sizeof(mask));
	ck_dump_has_pages(d, 0, 256, mask, have);
	ck_dump_page_bitmaps(d, 0, 256, mem, have);
	if (info->max_pfn > 256 && info->max_pfn < (UINT64_C(1) << 52)) {
		uint64_t start = (info->max_pfn - 1) & ~UINT64_C(63);
		ck_dump_page_bitmaps(d, start, start + 64, mem, have);
	}
	struct ck_dump_loss loss;
	fz_drop(ck_dump_lost_pages(d, &loss));
	bool split = info->split;
	ck_dump_destroy(d);
	if (split) {
		/* the join of split files: the same file twice */
		const char *const paths[] = { path, path };
		if (!(err = ck_dump_open_split(paths, 2, &d))) {
			read_page(d, 0, buf, len);
			ck_dump_destroy(d);
		}
		fz_drop(err);
	}
	return 0;
}

/* ---- seeds: small dumps of every format ---------------------------------- */

static const char seed_vmcoreinfo[] =
	"OSRELEASE=6.1.0-56-amd64\n"
	"PAGESIZE=4096\n"
	"SYMBOL(init_uts_ns)=ffffffff82a13460\n"
	"NUMBER(phys_base)=16777216\n"
	"KERNELOFFSET=13000000\n";

static void seed_buf(const char *dir, const char *name, struct mk_buf *b)
{
	fz_seed(dir, name, b->data, b->len);
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static void seed_elf(const char *dir)
{
	static const struct mk_seg segs[] = {
		{ 0x0, 4 * 4096, 4 * 4096, 0xffff888000000000ull },
		{ 0x1000, 2 * 4096, 2 * 4096, 0xffffffff81000000ull },	/* overlaps */
		{ 0x8000, 0x1c00, 0x1c00, 0 },				/* ends mid-page */
		{ 0x10000, 4 * 4096, 0x1800, 0 },			/* excluded tail */
		{ 0x100000000ull, 4096, 4096, 0 },
	};
	struct mk_elf_spec s = { .segs = segs, .nr_segs = 5, .vmcoreinfo = seed_vmcoreinfo,
				 .nr_prstatus = 2 };
	struct mk_buf b = { 0 }, f = { 0 };
	mk_elf_buf(&s, &b);
	seed_buf(dir, "elf", &b);
	s.qemu = true;
	s.xnum = true;
	mk_elf_buf(&s, &b);
	seed_buf(dir, "elf-qemu-xnum", &b);
	s.qemu = false;
	s.xnum = false;
	s.nr_segs = 2;
	mk_elf_buf(&s, &b);
	mk_flatten_buf(&b, &(struct mk_flat_spec){ .max_chunk = 2048, .seed = 7, .shuffle = true,
						    .rewrite = true },
		       &f);
	free(b.data);
	seed_buf(dir, "flat-elf", &f);
}

/* 12 pfns: a hole, an excluded page, a raw page, zero pages and the codec. */
static void seed_kinds(uint8_t *kinds, enum mk_kind codec)
{
	static const uint8_t pattern[12] = { MK_RAW, 9, MK_EXCLUDED, 9, MK_NOT_RAM, MK_NOT_RAM,
					     9, MK_RAW, 9, MK_EXCLUDED, 9, 9 };
	for (int i = 0; i < 12; i++)
		kinds[i] = pattern[i] == 9 ? codec : pattern[i];
}

static void seed_kdump(const char *dir)
{
	static const enum mk_kind codecs[] = { MK_ZLIB, MK_LZO, MK_SNAPPY, MK_ZSTD };
	static const char *const names[] = { "zlib", "lzo", "snappy", "zstd" };
	uint8_t kinds[12];
	char name[64];
	for (int c = 0; c < 4; c++) {
		seed_kinds(kinds, codecs[c]);
		struct mk_kdump_spec s = {
			.version = 6, .max_mapnr = 12, .kinds = kinds,
			.vmcoreinfo = seed_vmcoreinfo, .nr_prstatus = 2, .nr_cpus = 2,
			.time = 1700000000, .dump_level = 31,
			.status_codec = mk_kind_flag(codecs[c]), .zero_shared = true,
		};
		struct mk_buf b = { 0 };
		mk_kdump_buf(&s, &b, NULL);
		snprintf(name, sizeof(name), "kdump-v6-%s", names[c]);
		seed_buf(dir, name, &b);
	}
	seed_kinds(kinds, MK_ZLIB);
	for (int v = 1; v <= 5; v++) {
		struct mk_kdump_spec s = {
			.version = v, .max_mapnr = 12, .kinds = kinds,
			.vmcoreinfo = seed_vmcoreinfo, .nr_prstatus = 1, .nr_cpus = 1,
			.dump_level = 1, .status_codec = CK_KDUMP_COMPRESSED_ZLIB,
		};
		struct mk_buf b = { 0 };
		mk_kdump_buf(&s, &b, NULL);
		snprintf(name, sizeof(name), "kdump-v%d", v);
		seed_buf(dir, name, &b);
	}
	struct mk_kdump_spec s = {
		.version = 6, .max_mapnr = 12, .kinds = kinds, .vmcoreinfo = seed_vmcoreinfo,
		.nr_prstatus = 1, .nr_cpus = 1, .dump_level = 31,
		.status_codec = CK_KDUMP_COMPRESSED_ZLIB,
	};
	struct mk_buf b = { 0 }, f = { 0 };
	s.diskdump = true;
	mk_kdump_buf(&s, &b, NULL);
	seed_buf(dir, "diskdump", &b);
	s.diskdump = false;
	s.split_start = 4;
	s.split_end = 9;
	mk_kdump_buf(&s, &b, NULL);
	seed_buf(dir, "kdump-split", &b);
	s.split_start = s.split_end = 0;
	s.status = CK_KDUMP_INCOMPLETE;
	s.lost_from = 3;
	mk_kdump_buf(&s, &b, NULL);
	seed_buf(dir, "kdump-incomplete", &b);
	s.status = 0;
	s.lost_from = 0;
	s.qemu = true;
	mk_kdump_buf(&s, &b, NULL);
	seed_buf(dir, "kdump-qemu", &b);
	s.qemu = false;
	s.block_size = 1024;
	mk_kdump_buf(&s, &b, NULL);
	seed_buf(dir, "kdump-1k-blocks", &b);
	s.block_size = 0;
	mk_kdump_buf(&s, &b, NULL);
	/* cut in the data */
	struct mk_buf cut = { 0 };
	mk_buf_append(&cut, b.data, b.len - 3000);
	seed_buf(dir, "kdump-truncated", &cut);
	mk_flatten_buf(&b, &(struct mk_flat_spec){ .max_chunk = 1500, .seed = 3 }, &f);
	seed_buf(dir, "flat-kdump", &f);
	mk_flatten_buf(&b, &(struct mk_flat_spec){ .max_chunk = 700, .seed = 5, .shuffle = true,
						    .skip_zero = true, .no_end = true },
		       &f);
	free(b.data);
	seed_buf(dir, "flat-kdump-shuffled", &f);
}

static void fz_seeds(const char *dir)
{
	seed_elf(dir);
	seed_kdump(dir);
}
