/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kdump-compressed dumps ("KDUMP   " from makedumpfile and QEMU, and the
 * older "DISKDUMP").  Layout: lib/dump/kdump_format.h; the format in our words:
 * docs/formats/kdump-compressed.md.
 *
 * Finding page N means finding its descriptor, whose index is the number of
 * pages saved before N: the rank of N in the 2nd bitmap.  We keep both
 * bitmaps in memory as 64-bit words plus a table of prefix counts every
 * CK_KDUMP_RANK_BLOCK pfns, so a lookup is one table entry plus at most
 * CK_KDUMP_RANK_BLOCK / 64 popcounts, then one pread for the descriptor and
 * one for the data.
 */
#include <endian.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dump/dump.h"
#include "dump/kdump_format.h"

#define CK_KDUMP_RANK_BLOCK 1024	/* pfns per prefix count */
#define RANK_WORDS (CK_KDUMP_RANK_BLOCK / 64)
#define CK_KDUMP_MAX_RANGES (1u << 20)

struct kdump_priv {
	uint64_t max_mapnr;
	uint64_t nr_words;		/* bitmap words covering max_mapnr */
	uint64_t *bitmap1;		/* pages that exist (RAM) */
	uint64_t *bitmap2;		/* pages saved in the file */
	uint64_t *rank;			/* bits set in bitmap2 before each block */
	uint64_t start_pfn, end_pfn;	/* the pfns this file holds (split dumps) */
	uint64_t first_desc;		/* rank of start_pfn */
	uint64_t nr_descs;
	uint64_t desc_offset;		/* file offset of the descriptor array */
	bool all_in_file;		/* every descriptor and page is in the file */
	bool incomplete;
	bool diskdump;
	uint8_t *cbuf;			/* compressed page scratch, block_size */
	struct ck_decoder *decoder;
	struct ck_kdump_header header;	/* as read: split files must match */
	/* The other files of a split dump read together (ck_dump_open_split):
	 * pages outside [start_pfn, end_pfn) come from the one that holds them. */
	struct ck_dump **siblings;
	size_t nr_siblings;
};

static bool bit_test(const uint64_t *bm, uint64_t pfn)
{
	return (bm[pfn / 64] >> (pfn % 64)) & 1;
}

/* Number of pfns below pfn that are set in bitmap2. */
static uint64_t kdump_rank(const struct kdump_priv *priv, uint64_t pfn)
{
	uint64_t block = pfn / CK_KDUMP_RANK_BLOCK;
	uint64_t r = priv->rank[block];
	uint64_t w = block * RANK_WORDS, last = pfn / 64;
	for (; w < last; w++)
		r += __builtin_popcountll(priv->bitmap2[w]);
	if (pfn % 64)
		r += __builtin_popcountll(priv->bitmap2[last] &
					  ((1ull << (pfn % 64)) - 1));
	return r;
}

static void kdump_close(struct ck_dump *dump)
{
	struct kdump_priv *priv = dump->priv;
	if (!priv)
		return;
	free(priv->bitmap1);
	free(priv->bitmap2);
	free(priv->rank);
	free(priv->cbuf);
	ck_decoder_destroy(priv->decoder);
	for (size_t i = 0; i < priv->nr_siblings; i++)
		ck_dump_destroy(priv->siblings[i]);
	free(priv->siblings);
	free(priv);
	dump->priv = NULL;
}

/* Reads len bitmap bytes at off into a zeroed array of words, clearing the
 * bits past max_mapnr so that counts never see them. */
static struct ck_error *read_bitmap(struct ck_dump *dump, struct kdump_priv *priv,
				    uint64_t off, const char *which, uint64_t **ret)
{
	uint64_t bytes = (priv->max_mapnr + 7) / 8;
	uint64_t *bm = ck_calloc_array(priv->nr_words ? priv->nr_words : 1,
				       sizeof(uint64_t));
	if (!bm)
		return &ck_error_nomem;
	struct ck_error *err = ck_file_read(dump->file, off, bm, bytes);
	if (err) {
		free(bm);
		return ck_error_prepend(err, "kdump %s bitmap", which);
	}
	for (uint64_t i = 0; i < priv->nr_words; i++)
		bm[i] = le64toh(bm[i]);
	if (priv->max_mapnr % 64)
		bm[priv->nr_words - 1] &= (1ull << (priv->max_mapnr % 64)) - 1;
	*ret = bm;
	return NULL;
}

/* Memory ranges: runs of pages the 1st bitmap says exist (RAM), which is
 * what an ELF dump's PT_LOADs describe too.  Pages in a range may still be
 * excluded; ck_dump_has_page() tells. */
static struct ck_error *kdump_build_ranges(struct ck_dump *dump, struct kdump_priv *priv)
{
	struct ck_mem_range *r = NULL;
	size_t nr = 0, cap = 0;
	uint64_t ps = dump->info.page_size;
	uint64_t pfn = 0;
	while (pfn < priv->max_mapnr) {
		uint64_t w = priv->bitmap1[pfn / 64] >> (pfn % 64);
		if (!w) {
			pfn = (pfn / 64 + 1) * 64;
			continue;
		}
		pfn += __builtin_ctzll(w);
		uint64_t start = pfn;
		while (pfn < priv->max_mapnr) {
			uint64_t z = ~priv->bitmap1[pfn / 64] >> (pfn % 64);
			if (!z) {
				pfn = (pfn / 64 + 1) * 64;
				continue;
			}
			pfn += __builtin_ctzll(z);
			break;
		}
		pfn = CK_MIN(pfn, priv->max_mapnr);
		/* Real RAM maps have tens of ranges; a bitmap of alternating
		 * bits would make the list 64 times the bitmap's size. */
		if (nr >= CK_KDUMP_MAX_RANGES) {
			free(r);
			return ck_error_create(CK_ERR_FORMAT,
				"'%s': kdump 1st bitmap describes more than %u separate "
				"memory ranges", dump->info.path, CK_KDUMP_MAX_RANGES);
		}
		struct ck_mem_range range = { start * ps, (pfn - start) * ps };
		if (!CK_VEC_PUSH(r, nr, cap, range)) {
			free(r);
			return &ck_error_nomem;
		}
	}
	dump->ranges = r;
	dump->nr_ranges = nr;
	return NULL;
}

/* Copies a fixed-size utsname field, which need not be NUL-terminated. */
static void copy_uts(char dst[65], const char src[CK_KDUMP_UTS_LEN])
{
	size_t n = strnlen(src, CK_KDUMP_UTS_LEN - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static const char *const kdump_32bit_machines[] = {
	"i386", "i486", "i586", "i686", "arm", "armv7l", "mips", "ppc",
};

static struct ck_error *kdump_read_blob(struct ck_dump *dump, int64_t off, uint64_t size,
					const char *what, void **ret)
{
	uint64_t end;
	if (off < 0 || ck_add_overflow(off, size, &end) || end > dump->file->size)
		return ck_error_create(CK_ERR_TRUNCATED,
			"'%s': kdump %s (0x%" PRIx64 " bytes at offset 0x%" PRIx64
			") extends past the end of the file (size 0x%" PRIx64 ")",
			dump->info.path, what, size, (uint64_t)off, dump->file->size);
	if (size > dump->file->data_size)
		return ck_error_create(CK_ERR_FORMAT,
			"'%s': kdump %s (0x%" PRIx64 " bytes at offset 0x%" PRIx64
			") is larger than the 0x%" PRIx64 " bytes of data the file holds",
			dump->info.path, what, size, (uint64_t)off, dump->file->data_size);
	uint8_t *buf = malloc(size + 1);	/* size <= the file's data */
	if (!buf)
		return &ck_error_nomem;
	struct ck_error *err = ck_file_read(dump->file, off, buf, size);
	if (err) {
		free(buf);
		return err;
	}
	buf[size] = '\0';
	*ret = buf;
	return NULL;
}

static struct ck_error *kdump_read_desc(struct ck_dump *dump, uint64_t idx,
					struct ck_kdump_page_desc *pd)
{
	struct kdump_priv *priv = dump->priv;
	uint64_t off = priv->desc_offset + idx * sizeof(*pd);	/* checked at open */
	struct ck_error *err = ck_file_read(dump->file, off, pd, sizeof(*pd));
	if (err)
		return err;
	pd->offset = le64toh(pd->offset);
	pd->size = le32toh(pd->size);
	pd->flags = le32toh(pd->flags);
	return NULL;
}

/* The file size the headers imply: the end of the last page's data.  Pages
 * are written in pfn order, except that every zero page shares one copy at
 * the start of the data, so we look at the last few descriptors rather
 * than only the last one. */
static uint64_t kdump_expected_size(struct ck_dump *dump, uint64_t desc_end)
{
	struct kdump_priv *priv = dump->priv;
	uint64_t expected = desc_end;
	if (desc_end > dump->file->size || !priv->nr_descs)
		return expected;
	uint64_t n = CK_MIN(priv->nr_descs, (uint64_t)256);
	for (uint64_t i = priv->nr_descs - n; i < priv->nr_descs; i++) {
		struct ck_kdump_page_desc pd;
		struct ck_error *err = kdump_read_desc(dump, i, &pd);
		if (err) {
			ck_error_destroy(err);
			break;
		}
		uint64_t end;
		if (pd.offset > 0 && !ck_add_overflow(pd.offset, pd.size, &end))
			expected = CK_MAX(expected, end);
	}
	return expected;
}

static const char *kdump_compression(uint32_t status)
{
	switch (status & CK_KDUMP_COMPRESSED_MASK) {
	case 0:
		return "none";
	case CK_KDUMP_COMPRESSED_ZLIB:
		return "zlib";
	case CK_KDUMP_COMPRESSED_LZO:
		return "lzo";
	case CK_KDUMP_COMPRESSED_SNAPPY:
		return "snappy";
	case CK_KDUMP_COMPRESSED_ZSTD:
		return "zstd";
	}
	return "mixed";
}

/* What kdump_open() works from: the headers as read, and the geometry
 * they give, checked. */
struct kdump_layout {
	struct ck_kdump_header h;
	struct ck_kdump_sub_header sh;	/* zeros when the version has none */
	bool diskdump;
	int32_t version;
	int eff_version;		/* the version, capped at the newest we know */
	uint64_t bs;			/* block (and page) size */
	int32_t sub_blocks;
	uint32_t bitmap_blocks;
	uint64_t bitmap_off, bitmap_len;
	uint64_t desc_offset;		/* of the descriptor array */
	uint64_t max_mapnr;
};

/* The main header: the signature (CK_ERR_NOT_FORMAT without one), then
 * every field the layout depends on. */
static struct ck_error *kdump_read_header(struct ck_dump *dump, struct kdump_layout *l)
{
	const char *path = dump->info.path;
	struct ck_kdump_header *h = &l->h;
	size_t n;

	memset(h, 0, sizeof(*h));
	struct ck_error *err = ck_file_read_partial(dump->file, 0, h, sizeof(*h), &n);
	if (err)
		return err;
	if (n >= CK_KDUMP_SIG_LEN &&
	    !memcmp(h->signature, CK_KDUMP_SIGNATURE, CK_KDUMP_SIG_LEN))
		l->diskdump = false;
	else if (n >= CK_KDUMP_SIG_LEN &&
		 !memcmp(h->signature, CK_KDUMP_DISKDUMP_SIGNATURE, CK_KDUMP_SIG_LEN))
		l->diskdump = true;
	else
		return ck_error_create(CK_ERR_NOT_FORMAT, "'%s': no kdump signature", path);
	if (n < sizeof(*h))
		return ck_error_create(CK_ERR_TRUNCATED,
			"'%s': kdump header cut off at offset 0x%zx (needs 0x%zx bytes)",
			path, n, sizeof(*h));

	l->version = le32toh(h->header_version);
	int32_t bs32 = le32toh(h->block_size);
	l->sub_blocks = le32toh(h->sub_hdr_size);
	l->bitmap_blocks = le32toh(h->bitmap_blocks);

	/* The layout of 32-bit writers differs from byte 404 on (their
	 * timeval is 8 bytes): refuse rather than misread. */
	for (size_t i = 0; i < CK_ARRAY_SIZE(kdump_32bit_machines); i++) {
		if (!strncmp(h->utsname.machine, kdump_32bit_machines[i], CK_KDUMP_UTS_LEN))
			return ck_error_create(CK_ERR_UNSUPPORTED,
				"'%s': kdump dump of a 32-bit machine (%s) is not supported",
				path, kdump_32bit_machines[i]);
	}
	if (l->version < 0)
		return ck_error_create(CK_ERR_FORMAT,
			"'%s': kdump header at offset 0x8: bad header_version %" PRId32,
			path, l->version);
	if (bs32 < 512 || bs32 > (1 << 20) || (bs32 & (bs32 - 1)))
		return ck_error_create(CK_ERR_FORMAT,
			"'%s': kdump header at offset 0x%zx: bad block_size %" PRId32,
			path, offsetof(struct ck_kdump_header, block_size), bs32);
	l->bs = bs32;
	if (l->sub_blocks < 0 || (!l->diskdump && l->version >= 1 && l->sub_blocks < 1))
		return ck_error_create(CK_ERR_FORMAT,
			"'%s': kdump header at offset 0x%zx: bad sub_hdr_size %" PRId32,
			path, offsetof(struct ck_kdump_header, sub_hdr_size), l->sub_blocks);
	if (!l->bitmap_blocks)
		return ck_error_create(CK_ERR_FORMAT,
			"'%s': kdump header at offset 0x%zx: bitmap_blocks is 0",
			path, offsetof(struct ck_kdump_header, bitmap_blocks));

	/* All of these are < 2^32 blocks of <= 2^20 bytes: no overflow. */
	l->bitmap_off = (1 + (uint64_t)l->sub_blocks) * l->bs;
	l->bitmap_len = (uint64_t)l->bitmap_blocks * l->bs;
	l->desc_offset = l->bitmap_off + l->bitmap_len;
	if (l->desc_offset > dump->file->size)
		return ck_error_create(CK_ERR_TRUNCATED,
			"'%s': kdump bitmaps (0x%" PRIx64 " bytes at offset 0x%" PRIx64
			") extend past the end of the file (size 0x%" PRIx64 ")",
			path, l->bitmap_len, l->bitmap_off, dump->file->size);
	if (l->bitmap_len > dump->file->data_size)
		return ck_error_create(CK_ERR_FORMAT,
			"'%s': kdump bitmaps (0x%" PRIx64 " bytes at offset 0x%" PRIx64
			") are larger than the 0x%" PRIx64 " bytes of data the file holds",
			path, l->bitmap_len, l->bitmap_off, dump->file->data_size);
	return NULL;
}

/* The sub header (kdump version 1+), and max_mapnr from whichever header
 * holds it. */
static struct ck_error *kdump_read_sub_header(struct ck_dump *dump, struct kdump_layout *l)
{
	memset(&l->sh, 0, sizeof(l->sh));
	l->eff_version = CK_MIN(l->version, CK_KDUMP_HEADER_VERSION);
	if (!l->diskdump && l->version >= 1) {
		size_t need = ck_kdump_sub_header_size(l->eff_version);
		if (need > (uint64_t)l->sub_blocks * l->bs)
			return ck_error_create(CK_ERR_FORMAT,
				"'%s': kdump sub header of version %d needs %zu bytes, "
				"sub_hdr_size gives %" PRIu64, dump->info.path, l->version, need,
				(uint64_t)l->sub_blocks * l->bs);
		struct ck_error *err = ck_file_read(dump->file, l->bs, &l->sh, need);
		if (err)
			return err;
	}
	l->max_mapnr = le32toh(l->h.max_mapnr);
	if (l->eff_version >= 6 && !l->diskdump)
		l->max_mapnr = le64toh(l->sh.max_mapnr_64);
	return NULL;
}

/* Both bitmaps, and the prefix counts of the 2nd. */
static struct ck_error *kdump_load_bitmaps(struct ck_dump *dump, struct kdump_priv *priv,
					   const struct kdump_layout *l)
{
	/*
	 * Two bitmaps of bitmap_blocks / 2 blocks each when there are blocks
	 * enough for two (always so for makedumpfile and QEMU); otherwise one
	 * bitmap serving as both (the old diskdump).  This is crash's rule.
	 */
	uint64_t max_mapnr = l->max_mapnr;
	/* bitmap_len < 2^52, so the product cannot wrap; checked before any
	 * arithmetic on max_mapnr, which is any 64-bit value. */
	if (max_mapnr > l->bitmap_len * 8)
		return ck_error_create(CK_ERR_FORMAT,
			"'%s': kdump bitmaps of %" PRIu32 " blocks cannot cover max_mapnr 0x%"
			PRIx64, dump->info.path, l->bitmap_blocks, max_mapnr);
	uint64_t need_blocks = ((max_mapnr + 7) / 8 + l->bs - 1) / l->bs;
	bool two = l->bitmap_blocks >= 2 * need_blocks;
	priv->max_mapnr = max_mapnr;
	priv->nr_words = (max_mapnr + 63) / 64;
	struct ck_error *err = read_bitmap(dump, priv, l->bitmap_off, "1st", &priv->bitmap1);
	if (err)
		return err;
	err = read_bitmap(dump, priv, two ? l->bitmap_off + l->bitmap_len / 2 : l->bitmap_off,
			  "2nd", &priv->bitmap2);
	if (err)
		return err;

	uint64_t nr_blocks = max_mapnr / CK_KDUMP_RANK_BLOCK + 1;
	priv->rank = ck_calloc_array(nr_blocks, sizeof(uint64_t));
	if (!priv->rank)
		return &ck_error_nomem;
	uint64_t total = 0;
	for (uint64_t b = 0; b < nr_blocks; b++) {
		priv->rank[b] = total;
		for (uint64_t w = b * RANK_WORDS;
		     w < (b + 1) * RANK_WORDS && w < priv->nr_words; w++)
			total += __builtin_popcountll(priv->bitmap2[w]);
	}
	return NULL;
}

static bool kdump_is_split(const struct kdump_layout *l)
{
	return !l->diskdump && l->eff_version >= 2 && le32toh(l->sh.split);
}

/* The pfns whose pages this file holds, and where their descriptors are.
 * A split dump (makedumpfile --split) holds the pages of one pfn range;
 * its descriptors start with the first saved pfn of that range. */
static struct ck_error *kdump_find_descs(struct ck_dump *dump, struct kdump_priv *priv,
					 const struct kdump_layout *l)
{
	priv->start_pfn = 0;
	priv->end_pfn = l->max_mapnr;
	if (kdump_is_split(l)) {
		const struct ck_kdump_sub_header *sh = &l->sh;
		uint64_t s = l->eff_version >= 6 ? le64toh(sh->start_pfn_64) : le64toh(sh->start_pfn);
		uint64_t e = l->eff_version >= 6 ? le64toh(sh->end_pfn_64) : le64toh(sh->end_pfn);
		if (s > e || e > l->max_mapnr)
			return ck_error_create(CK_ERR_FORMAT,
				"'%s': kdump sub header: split range 0x%" PRIx64 "-0x%" PRIx64
				" outside max_mapnr 0x%" PRIx64, dump->info.path, s, e, l->max_mapnr);
		priv->start_pfn = s;
		priv->end_pfn = e;
	}
	priv->first_desc = kdump_rank(priv, priv->start_pfn);
	priv->nr_descs = kdump_rank(priv, priv->end_pfn) - priv->first_desc;
	priv->desc_offset = l->desc_offset;
	return NULL;
}

/* What the headers say about the dump, into dump->info. */
static void kdump_fill_info(struct ck_dump *dump, struct kdump_priv *priv,
			    const struct kdump_layout *l)
{
	struct ck_dump_info *info = &dump->info;
	const struct ck_kdump_header *h = &l->h;
	uint32_t status = le32toh(h->status);
	info->format = "kdump";
	info->header_version = l->version;
	info->dump_level = (!l->diskdump && l->version >= 1) ? (int)le32toh(l->sh.dump_level) : -1;
	info->incomplete = status & CK_KDUMP_INCOMPLETE;
	priv->incomplete = info->incomplete;
	info->compression = kdump_compression(status);
	info->page_size = l->bs;
	info->max_pfn = l->max_mapnr;
	info->header_time = le64toh(h->tv_sec);
	info->split = kdump_is_split(l);
	info->split_files = info->split ? 1 : 0;
	info->split_start_pfn = priv->start_pfn;
	info->split_end_pfn = priv->end_pfn;
	int32_t nr_cpus = le32toh(h->nr_cpus);
	info->nr_cpus = nr_cpus > 0 ? nr_cpus : 0;
	copy_uts(info->uts_sysname, h->utsname.sysname);
	copy_uts(info->uts_nodename, h->utsname.nodename);
	copy_uts(info->uts_release, h->utsname.release);
	copy_uts(info->uts_version, h->utsname.version);
	copy_uts(info->uts_machine, h->utsname.machine);
	info->arch = info->uts_machine[0] ? info->uts_machine : NULL;
	/* QEMU fills in only utsname.machine (dump/dump.c, create_header64). */
	if (l->diskdump)
		info->origin = "diskdump";
	else if (!info->uts_sysname[0] && !info->uts_release[0])
		info->origin = "qemu";
	else
		info->origin = "makedumpfile";
}

/* ELF notes (v4+), then VMCOREINFO (v3+) if the notes lacked it. */
static struct ck_error *kdump_load_notes(struct ck_dump *dump, const struct kdump_layout *l)
{
	const struct ck_kdump_sub_header *sh = &l->sh;
	struct ck_error *err;
	if (!l->diskdump && l->eff_version >= 4 && sh->offset_note && sh->size_note) {
		int64_t off = le64toh(sh->offset_note);
		uint64_t size = le64toh(sh->size_note);
		err = kdump_read_blob(dump, off, size, "ELF notes", &dump->notes_buf);
		if (err)
			return err;
		dump->notes_len = size;
		dump->notes_offset = off;
		err = ck_dump_parse_notes(dump);
		if (err)
			return err;
	}
	if (!l->diskdump && l->eff_version >= 3 && !dump->vmcoreinfo && sh->offset_vmcoreinfo &&
	    sh->size_vmcoreinfo) {
		void *text;
		err = kdump_read_blob(dump, le64toh(sh->offset_vmcoreinfo),
				      le64toh(sh->size_vmcoreinfo), "VMCOREINFO", &text);
		if (err)
			return err;
		dump->vmcoreinfo = text;
		dump->vmcoreinfo_len = strlen(text);
	}
	return NULL;
}

/* Whether the file is as long as its headers say. */
static void kdump_check_size(struct ck_dump *dump, struct kdump_priv *priv,
			     const struct kdump_layout *l)
{
	struct ck_dump_info *info = &dump->info;
	struct ck_file *file = dump->file;
	/* nr_descs <= 2^32 * 2^20 * 8 bits: the product fits in 64 bits. */
	uint64_t desc_end = l->desc_offset + priv->nr_descs * sizeof(struct ck_kdump_page_desc);
	uint64_t expected = kdump_expected_size(dump, desc_end);
	if (!l->diskdump && l->eff_version >= 5 && l->sh.size_eraseinfo) {
		uint64_t end;
		int64_t off = le64toh(l->sh.offset_eraseinfo);
		if (off > 0 && !ck_add_overflow(off, le64toh(l->sh.size_eraseinfo), &end))
			expected = CK_MAX(expected, end);
	}
	info->expected_size = CK_MAX(expected, file->size);
	info->truncated = expected > file->size;
	priv->all_in_file = !info->truncated && !file->truncated;
}

static struct ck_error *kdump_open(struct ck_dump *dump)
{
	struct kdump_layout l;
	struct ck_error *err = kdump_read_header(dump, &l);
	if (err)
		return err;

	struct kdump_priv *priv = calloc(1, sizeof(*priv));
	if (!priv)
		return &ck_error_nomem;
	dump->priv = priv;
	priv->diskdump = l.diskdump;
	priv->header = l.h;

	err = kdump_read_sub_header(dump, &l);
	if (!err)
		err = kdump_load_bitmaps(dump, priv, &l);
	if (!err)
		err = kdump_find_descs(dump, priv, &l);
	if (err)
		goto out;
	priv->cbuf = malloc(l.bs);
	if (!priv->cbuf) {
		err = &ck_error_nomem;
		goto out;
	}
	err = ck_decoder_create(&priv->decoder);
	if (err)
		goto out;
	kdump_fill_info(dump, priv, &l);
	err = kdump_load_notes(dump, &l);
	if (err)
		goto out;
	kdump_check_size(dump, priv, &l);
	err = kdump_build_ranges(dump, priv);
out:
	if (err)
		kdump_close(dump);
	return err;
}

/* Index of pfn's descriptor, or an error saying why the page is not there. */
static struct ck_error *kdump_desc_index(struct ck_dump *dump, uint64_t pfn,
					 uint64_t *ret)
{
	struct kdump_priv *priv = dump->priv;
	const char *path = dump->info.path;
	uint64_t addr = pfn * dump->info.page_size;
	if (pfn >= priv->max_mapnr)
		return ck_error_create(CK_ERR_FAULT,
			"'%s': pfn 0x%" PRIx64 " is beyond the dump's last pfn 0x%" PRIx64,
			path, pfn, priv->max_mapnr ? priv->max_mapnr - 1 : 0);
	if (!bit_test(priv->bitmap2, pfn)) {
		if (bit_test(priv->bitmap1, pfn))
			return ck_error_create(CK_ERR_FAULT,
				"'%s': pfn 0x%" PRIx64 " (physical address 0x%" PRIx64
				") was excluded from the dump (dump level %d)",
				path, pfn, addr, dump->info.dump_level);
		return ck_error_create(CK_ERR_FAULT,
			"'%s': pfn 0x%" PRIx64 " (physical address 0x%" PRIx64
			") is not in the dump (not RAM)", path, pfn, addr);
	}
	if (pfn < priv->start_pfn || pfn >= priv->end_pfn)
		return ck_error_create(CK_ERR_FAULT,
			"'%s': pfn 0x%" PRIx64 " is in another file of this split dump "
			"(this one holds pfns 0x%" PRIx64 "-0x%" PRIx64 ")",
			path, pfn, priv->start_pfn, priv->end_pfn);
	*ret = kdump_rank(priv, pfn) - priv->first_desc;
	return NULL;
}

static enum ck_codec kdump_codec(uint32_t flags)
{
	switch (flags & CK_KDUMP_COMPRESSED_MASK) {
	case 0:
		return CK_CODEC_NONE;
	case CK_KDUMP_COMPRESSED_ZLIB:
		return CK_CODEC_ZLIB;
	case CK_KDUMP_COMPRESSED_LZO:
		return CK_CODEC_LZO;
	case CK_KDUMP_COMPRESSED_SNAPPY:
		return CK_CODEC_SNAPPY;
	case CK_KDUMP_COMPRESSED_ZSTD:
		return CK_CODEC_ZSTD;
	}
	return (enum ck_codec)-1;
}

/* The file of a split dump read together that holds pfn, if not this one. */
static struct ck_dump *kdump_sibling(struct ck_dump *dump, uint64_t pfn)
{
	struct kdump_priv *priv = dump->priv;
	if (pfn >= priv->start_pfn && pfn < priv->end_pfn)
		return NULL;
	for (size_t i = 0; i < priv->nr_siblings; i++) {
		struct kdump_priv *sp = priv->siblings[i]->priv;
		if (pfn >= sp->start_pfn && pfn < sp->end_pfn)
			return priv->siblings[i];
	}
	return NULL;
}

static struct ck_error *kdump_read_page(struct ck_dump *dump, uint64_t pfn, void *buf)
{
	struct ck_dump *sib = kdump_sibling(dump, pfn);
	if (sib)
		return sib->ops->read_page(sib, pfn, buf);
	struct kdump_priv *priv = dump->priv;
	const char *path = dump->info.path;
	uint64_t bs = dump->info.page_size;
	uint64_t idx;
	struct ck_error *err = kdump_desc_index(dump, pfn, &idx);
	if (err)
		return err;
	uint64_t desc_off = priv->desc_offset + idx * sizeof(struct ck_kdump_page_desc);
	if (!ck_file_has(dump->file, desc_off, sizeof(struct ck_kdump_page_desc)))
		return ck_error_create(CK_ERR_TRUNCATED,
			"'%s': pfn 0x%" PRIx64 " (physical address 0x%" PRIx64
			"): its page descriptor at offset 0x%" PRIx64
			" is missing from the truncated file (size 0x%" PRIx64 ")",
			path, pfn, pfn * bs, desc_off, dump->file->size);
	struct ck_kdump_page_desc pd;
	err = kdump_read_desc(dump, idx, &pd);
	if (err)
		return err;
	if (pd.offset == 0 && priv->incomplete)
		return ck_error_create(CK_ERR_FAULT,
			"'%s': pfn 0x%" PRIx64 " (physical address 0x%" PRIx64
			") was not saved: the dump is marked incomplete",
			path, pfn, pfn * bs);
	uint64_t end;
	if (pd.offset <= 0 || pd.size == 0 || pd.size > bs ||
	    ck_add_overflow(pd.offset, pd.size, &end))
		return ck_error_create(CK_ERR_FORMAT,
			"'%s': pfn 0x%" PRIx64 ": bad page descriptor at offset 0x%" PRIx64
			" (data offset 0x%" PRIx64 ", size %" PRIu32 ", flags 0x%" PRIx32 ")",
			path, pfn, desc_off, (uint64_t)pd.offset, pd.size, pd.flags);
	if (!ck_file_has(dump->file, pd.offset, pd.size))
		return ck_error_create(CK_ERR_TRUNCATED,
			"'%s': pfn 0x%" PRIx64 " (physical address 0x%" PRIx64
			"): page data at offset 0x%" PRIx64
			" is missing from the truncated file (size 0x%" PRIx64 ")",
			path, pfn, pfn * bs, (uint64_t)pd.offset, dump->file->size);
	enum ck_codec codec = kdump_codec(pd.flags);
	if ((int)codec < 0)
		return ck_error_create(CK_ERR_FORMAT,
			"'%s': pfn 0x%" PRIx64 ": page descriptor at offset 0x%" PRIx64
			" has several compression flags (0x%" PRIx32 ")",
			path, pfn, desc_off, pd.flags);
	if (codec == CK_CODEC_NONE) {
		if (pd.size != bs)
			return ck_error_create(CK_ERR_FORMAT,
				"'%s': pfn 0x%" PRIx64 ": uncompressed page at offset 0x%"
				PRIx64 " has size %" PRIu32 ", not the page size %" PRIu64,
				path, pfn, (uint64_t)pd.offset, pd.size, bs);
		/* Straight into the caller's buffer (a page cache slot). */
		return ck_file_read(dump->file, pd.offset, buf, bs);
	}
	err = ck_file_read(dump->file, pd.offset, priv->cbuf, pd.size);
	if (err)
		return err;
	err = ck_decoder_decompress(priv->decoder, codec, priv->cbuf, pd.size, buf, bs);
	if (err)
		return ck_error_prepend(err, "'%s': pfn 0x%" PRIx64 ": page data at offset 0x%"
					PRIx64, path, pfn, (uint64_t)pd.offset);
	return NULL;
}

static bool kdump_has_page(struct ck_dump *dump, uint64_t pfn)
{
	struct ck_dump *sib = kdump_sibling(dump, pfn);
	if (sib)
		return sib->ops->has_page(sib, pfn);
	struct kdump_priv *priv = dump->priv;
	uint64_t idx;
	struct ck_error *err = kdump_desc_index(dump, pfn, &idx);
	if (err) {
		ck_error_destroy(err);
		return false;
	}
	if (priv->all_in_file && !priv->incomplete)
		return true;
	/* Truncated or incomplete: the descriptor says whether the data made it. */
	uint64_t desc_off = priv->desc_offset + idx * sizeof(struct ck_kdump_page_desc);
	if (!ck_file_has(dump->file, desc_off, sizeof(struct ck_kdump_page_desc)))
		return false;
	struct ck_kdump_page_desc pd;
	err = kdump_read_desc(dump, idx, &pd);
	if (err) {
		ck_error_destroy(err);
		return false;
	}
	return pd.offset > 0 && pd.size && ck_file_has(dump->file, pd.offset, pd.size);
}

/*
 * The files of one split dump read as one: dump (any of them) answers for
 * every pfn from the file whose range holds it, as crash does.  They must
 * carry the same header, byte for byte (crash and makedumpfile
 * --reassemble tell the files of one dump so), and their ranges must not
 * overlap; a file left out leaves its pages missing.  Takes others.
 */
static struct ck_error *kdump_join(struct ck_dump *dump, struct ck_dump **others, size_t nr)
{
	struct ck_error *err = NULL;
	struct kdump_priv *priv = dump->ops == &ck_dump_kdump_ops ? dump->priv : NULL;
	for (size_t i = 0; i <= nr && !err; i++) {
		struct ck_dump *d = i ? others[i - 1] : dump;
		struct kdump_priv *p = d->ops == &ck_dump_kdump_ops ? d->priv : NULL;
		if (!p || !d->info.split) {
			err = ck_error_create(CK_ERR_INVALID,
				"'%s' is not a file of a split dump", d->info.path);
			break;
		}
		if (i && memcmp(&p->header, &priv->header, sizeof(p->header))) {
			err = ck_error_create(CK_ERR_INVALID,
				"'%s' and '%s' are not files of the same split dump (their headers "
				"differ)", dump->info.path, d->info.path);
			break;
		}
		for (size_t k = 0; k < i && !err; k++) {
			struct ck_dump *e = k ? others[k - 1] : dump;
			struct kdump_priv *q = e->priv;
			if (p->start_pfn < q->end_pfn && q->start_pfn < p->end_pfn)
				err = ck_error_create(CK_ERR_INVALID,
					"'%s' and '%s' both hold pfns from 0x%" PRIx64
					": not files of one split dump", e->info.path, d->info.path,
					CK_MAX(p->start_pfn, q->start_pfn));
		}
	}
	if (!err) {
		priv->siblings = ck_calloc_array(nr ? nr : 1, sizeof(*priv->siblings));
		if (!priv->siblings)
			err = &ck_error_nomem;
	}
	if (err) {
		for (size_t i = 0; i < nr; i++)
			ck_dump_destroy(others[i]);
		return err;
	}
	uint64_t lo = priv->start_pfn, hi = priv->end_pfn;
	for (size_t i = 0; i < nr; i++) {
		struct kdump_priv *p = others[i]->priv;
		priv->siblings[i] = others[i];
		if (p->end_pfn > p->start_pfn) {
			lo = CK_MIN(lo, p->start_pfn);
			hi = CK_MAX(hi, p->end_pfn);
		}
	}
	priv->nr_siblings = nr;
	dump->info.split_start_pfn = lo;
	dump->info.split_end_pfn = hi;
	dump->info.split_files = nr + 1;
	/* Pages the cache holds may now come from elsewhere: none do yet. */
	return NULL;
}

const struct ck_dump_ops ck_dump_kdump_ops = {
	.name = "kdump",
	.open = kdump_open,
	.read_page = kdump_read_page,
	.has_page = kdump_has_page,
	.join = kdump_join,
	.close = kdump_close,
};
