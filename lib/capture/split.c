/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Split dumps, as makedumpfile --split writes them and --reassemble joins
 * them (docs/capture.md, "Split dumps").
 *
 * Every file of a split dump is a complete kdump-compressed file of the
 * whole machine's layout: the same header (readers compare it byte for
 * byte to tell that the files belong together), the same sub header but
 * for split = 1 and its pfn range [start_pfn, end_pfn), both bitmaps of the
 * whole machine, a descriptor area sized for the whole machine's dumpable
 * pages, and descriptors and data only for the pages of its range, the
 * first descriptor being that of the first saved pfn at or after
 * start_pfn.  crash picks the file whose range holds a pfn and counts
 * descriptors from start_pfn in that file's 2nd bitmap; makedumpfile
 * --reassemble takes the 2nd bitmap of the first file for every range and
 * knows the shared zero page by its offset, the first byte after the
 * descriptor area, which is why that area is sized the same in every file.
 *
 * The ranges balance dumpable pages, not pfns: makedumpfile counts the
 * pages kept after filtering per split block (1 GiB by default) and gives
 * each file but the last whole blocks until it holds total / nr pages.
 *
 * Writing runs the capture pipeline (lib/capture/capture.c) once per file with all
 * its threads, limited to the file's range; reassembling copies each
 * file's pages, in pfn order, through fixed buffers.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "capture/capture.h"
#include "dump/kdump_format.h"

/* ---- choosing the ranges ------------------------------------------------- */

/* Set bits of bm (bit 0 = pfn base) among the pfns [a, b). */
static uint64_t popcount_range(const uint64_t *bm, uint64_t base, uint64_t a, uint64_t b)
{
	uint64_t n = 0;
	for (uint64_t i = a - base; i < b - base;) {
		uint64_t w = bm[i / 64] >> (i % 64);
		uint64_t bits = CK_MIN(64 - i % 64, b - base - i);
		if (bits < 64)
			w &= (1ull << bits) - 1;
		n += __builtin_popcountll(w);
		i += bits;
	}
	return n;
}

struct plan {
	uint64_t block_pfns;
	uint64_t max_pfn;
	uint64_t total;			/* pass 1: dumpable pages */
	/* pass 2: blocks in order, files closed as they fill */
	size_t nr;
	uint64_t (*ranges)[2];
	uint64_t need;			/* total / nr */
	size_t file;			/* the file being filled */
	uint64_t got;			/* its pages so far */
	uint64_t block;			/* the current block */
	uint64_t block_count;		/* its pages so far */
};

static struct ck_error *plan_count(void *arg, uint64_t start, uint64_t end, const uint64_t *bm2)
{
	struct plan *p = arg;
	p->total += popcount_range(bm2, start, start, end);
	return NULL;
}

/* Files but the last that got what they need end where the blocks so far
 * end (makedumpfile: the next file starts there; one that needs nothing
 * ends where it starts). */
static void plan_close_files(struct plan *p, uint64_t end)
{
	while (p->file + 1 < p->nr && p->got >= p->need) {
		p->ranges[p->file][1] = end;
		p->ranges[++p->file][0] = end;
		p->got = 0;
		if (p->need)
			break;
	}
}

static void plan_block_done(struct plan *p)
{
	uint64_t end = CK_MIN((p->block + 1) * p->block_pfns, p->max_pfn);
	if (p->file + 1 < p->nr) {
		p->got += p->block_count;
		plan_close_files(p, end);
	}
	p->block++;
	p->block_count = 0;
}

static struct ck_error *plan_assign(void *arg, uint64_t start, uint64_t end, const uint64_t *bm2)
{
	struct plan *p = arg;
	for (uint64_t pfn = start; pfn < end;) {
		uint64_t bend = (p->block + 1) * p->block_pfns;
		uint64_t e = CK_MIN(bend, end);
		p->block_count += popcount_range(bm2, start, pfn, e);
		pfn = e;
		if (e == bend || e == p->max_pfn)
			plan_block_done(p);
	}
	return NULL;
}

struct ck_error *ck_capture_split_ranges(const char *input, int dump_level, uint64_t block_size,
					 size_t nr, uint64_t (*ranges)[2], uint64_t *total_ret)
{
	struct plan p = { .nr = nr, .ranges = ranges };
	uint32_t ps = 0;
	if (nr < 1)
		return ck_error_create(CK_ERR_INVALID, "a split dump needs files");
	struct ck_error *err = ck_capture_walk_dumpable(input, dump_level, 0, plan_count, &p,
							&p.max_pfn, &ps);
	if (err)
		return err;
	if (!block_size)
		block_size = CK_SPLIT_BLOCK_SIZE;
	if (block_size % ps)
		return ck_error_create(CK_ERR_INVALID,
			"the split block size (%" PRIu64 " bytes) is not a multiple of the "
			"page size (%" PRIu32 ")", block_size, ps);
	p.block_pfns = block_size / ps;
	p.need = p.total / nr;
	for (size_t i = 0; i < nr; i++)
		ranges[i][0] = ranges[i][1] = p.max_pfn;
	ranges[0][0] = 0;
	/* Files that need no page at all end at 0, before any block. */
	plan_close_files(&p, 0);
	err = ck_capture_walk_dumpable(input, dump_level, 0, plan_assign, &p, &p.max_pfn, &ps);
	if (err)
		return err;
	/* Blocks ran out: the files still open end at the end. */
	for (; p.file + 1 < nr; p.file++) {
		ranges[p.file][1] = p.max_pfn;
		ranges[p.file + 1][0] = p.max_pfn;
	}
	ranges[nr - 1][1] = p.max_pfn;
	if (total_ret)
		*total_ret = p.total;
	return NULL;
}

/* ---- writing ------------------------------------------------------------- */

struct ck_error *ck_capture_split(const char *input, const char *const *outputs, size_t nr,
				  const struct ck_capture_opts *opts, uint64_t block_size,
				  struct ck_capture_stats *stats)
{
	struct ck_error *err = NULL, *incomplete = NULL;
	size_t nr_incomplete = 0;
	memset(stats, 0, nr * sizeof(*stats));
	if (nr < 2)
		return ck_error_create(CK_ERR_INVALID,
			"--split wants at least two output files, got %zu", nr);
	if (opts->elf || opts->flattened)
		return ck_error_create(CK_ERR_INVALID,
			"--split writes kdump-compressed files: not with -E or -F");
	/* Every name is checked before the first file is written. */
	for (size_t i = 0; i < nr; i++) {
		struct stat st;
		if (!opts->force && stat(outputs[i], &st) == 0)
			return ck_error_create(CK_ERR_INVALID,
				"'%s' exists (use -f to overwrite it)", outputs[i]);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(outputs[i], outputs[j]))
				return ck_error_create(CK_ERR_INVALID,
					"'%s' is named twice as an output", outputs[i]);
	}
	uint64_t (*ranges)[2] = ck_calloc_array(nr, sizeof(*ranges));
	if (!ranges)
		return &ck_error_nomem;
	err = ck_capture_split_ranges(input, opts->dump_level, block_size, nr, ranges, NULL);
	if (err)
		goto out;

	/* One header for all: readers compare them byte for byte. */
	struct ck_capture_opts o = *opts;
	o.split = true;
	if (!o.tv_sec) {
		struct timeval tv;
		gettimeofday(&tv, NULL);
		o.tv_sec = tv.tv_sec;
		o.tv_usec = tv.tv_usec;
	}
	for (size_t i = 0; i < nr; i++) {
		o.split_start = ranges[i][0];
		o.split_end = ranges[i][1];
		err = ck_capture(input, outputs[i], &o, &stats[i]);
		stats[i].split_start = o.split_start;
		stats[i].split_end = o.split_end;
		if (err && stats[i].incomplete) {
			/* The size limit or a full disk cut this file: it stays
			 * OUTPUT.incomplete, valid and flagged; the others are
			 * still written. */
			nr_incomplete++;
			if (!incomplete)
				incomplete = err;
			else
				ck_error_destroy(err);
			err = NULL;
			continue;
		}
		if (err) {
			err = ck_error_prepend(err, "split file %zu of %zu", i + 1, nr);
			goto out;
		}
	}
	if (incomplete) {
		err = ck_error_prepend(incomplete, "%zu of %zu split files incomplete", nr_incomplete,
				       nr);
		incomplete = NULL;
	}
out:
	ck_error_destroy(incomplete);
	free(ranges);
	return err;
}

/* ---- reassembling ---------------------------------------------------------- */

#define IO_BUF (1u << 20)
#define DESC_BATCH 4096u
/* pfns of 2nd bitmap handled at a time: 512 KiB of bitmap. */
#define BM_CYCLE (1ull << 22)

struct piece {
	const char *path;
	int fd;
	uint64_t size;
	dev_t dev;
	ino_t ino;
	struct ck_kdump_header h;
	struct ck_kdump_sub_header sh;
	uint64_t start, end;		/* its pfns */
	uint64_t bitmap_off;		/* 1st bitmap; the 2nd follows */
	uint64_t bitmap_len;		/* one bitmap */
	uint64_t desc_off;
};

static struct ck_error *piece_open(struct piece *p, const char *path)
{
	struct stat st;
	p->path = path;
	/* O_NONBLOCK: a FIFO would wait for a writer in open(). */
	p->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (p->fd < 0)
		return ck_error_create_errno(errno, "cannot open '%s'", path);
	if (fstat(p->fd, &st) < 0)
		return ck_error_create_errno(errno, "cannot stat '%s'", path);
	if (!S_ISREG(st.st_mode))
		return ck_error_create(CK_ERR_INVALID, "'%s' is not a regular file", path);
	int fl = fcntl(p->fd, F_GETFL);
	if (fl < 0 || fcntl(p->fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		return ck_error_create_errno(errno, "cannot read '%s'", path);
	p->size = st.st_size;
	p->dev = st.st_dev;
	p->ino = st.st_ino;
	struct ck_error *err = NULL;
	if (p->size >= sizeof(p->h))
		err = ck_pread_all(p->fd, &p->h, sizeof(p->h), 0, path);
	if (p->size < sizeof(p->h) || err ||
	    memcmp(p->h.signature, CK_KDUMP_SIGNATURE, CK_KDUMP_SIG_LEN))
		return ck_error_destroy(err), ck_error_create(CK_ERR_NOT_FORMAT, "'%s' is not a kdump-compressed file",
				       path);
	int32_t version = le32toh(p->h.header_version);
	int32_t bs = le32toh(p->h.block_size);
	int32_t sub_blocks = le32toh(p->h.sub_hdr_size);
	uint64_t bitmap_blocks = le32toh(p->h.bitmap_blocks);
	if (version < 2 || bs < 512 || bs > (1 << 20) || (bs & (bs - 1)) || sub_blocks < 1)
		return ck_error_create(CK_ERR_FORMAT,
			"'%s': kdump header version %" PRId32 ", block size %" PRId32
			", sub header %" PRId32 " blocks: not a split dump file", path, version, bs,
			sub_blocks);
	size_t need = ck_kdump_sub_header_size(CK_MIN(version, CK_KDUMP_HEADER_VERSION));
	err = ck_pread_all(p->fd, &p->sh, need, bs, path);
	if (err)
		return err;
	if (!le32toh(p->sh.split))
		return ck_error_create(CK_ERR_INVALID,
			"'%s' is not a file of a split dump (its sub header has split = 0)", path);
	uint64_t max = version >= 6 ? le64toh(p->sh.max_mapnr_64) : le32toh(p->h.max_mapnr);
	p->start = version >= 6 ? le64toh(p->sh.start_pfn_64) : le64toh(p->sh.start_pfn);
	p->end = version >= 6 ? le64toh(p->sh.end_pfn_64) : le64toh(p->sh.end_pfn);
	if (p->start > p->end || p->end > max)
		return ck_error_create(CK_ERR_FORMAT,
			"'%s': split range 0x%" PRIx64 "-0x%" PRIx64 " outside max_mapnr 0x%"
			PRIx64, path, p->start, p->end, max);
	p->bitmap_off = (1 + (uint64_t)sub_blocks) * bs;
	p->bitmap_len = bitmap_blocks * bs / 2;
	p->desc_off = p->bitmap_off + 2 * p->bitmap_len;
	/* bitmap_len < 2^51: no overflow; (max + 7) / 8 would wrap */
	if (max > p->bitmap_len * 8 || p->desc_off > p->size)
		return ck_error_create(CK_ERR_FORMAT,
			"'%s': kdump bitmaps (%" PRIu64 " blocks) do not cover max_mapnr 0x%"
			PRIx64 " or pass the end of the file", path, bitmap_blocks, max);
	/* Header blocks hold notes and VMCOREINFO: kilobytes, a few MiB with
	 * thousands of CPUs.  They are copied in one piece. */
	if (p->bitmap_off > (256u << 20))
		return ck_error_create(CK_ERR_UNSUPPORTED,
			"'%s': a sub header of %" PRId32 " blocks is too large to copy", path,
			sub_blocks);
	if (le32toh(p->h.status) & CK_KDUMP_INCOMPLETE)
		return ck_error_create(CK_ERR_INVALID,
			"'%s' is flagged incomplete: reassembling it is not supported (read the "
			"split files directly)", path);
	return NULL;
}

/* The output, written front to back in two streams: descriptors and data. */
struct joiner {
	int fd;
	const char *path;
	uint32_t ps;
	uint64_t max_mapnr;
	uint64_t bitmap_off, bitmap_len;
	uint64_t desc_off, desc_next;	/* where the next buffered desc goes */
	struct ck_kdump_page_desc *descs;
	size_t nr_descs;
	uint64_t zero_off;
	uint64_t data_off;		/* where buffered data goes */
	uint8_t *data;
	size_t data_len;
	/* the input being read: a window of it */
	uint8_t *win;
	uint64_t win_off, win_len;
	const struct piece *win_piece;
	uint64_t *bm, *tmp;		/* a cycle of 2nd bitmap, and a scratch one */
	uint8_t *prefix;		/* the header blocks */
	struct ck_kdump_page_desc *in_descs;
	uint64_t in_first, in_nr;	/* which input descriptors are buffered */
	uint64_t pages;
};

static struct ck_error *join_flush(struct joiner *j)
{
	struct ck_error *err = NULL;
	if (j->data_len) {
		err = ck_output_write(j->fd, false, j->path, j->data_off, j->data, j->data_len);
		j->data_off += j->data_len;
		j->data_len = 0;
	}
	if (!err && j->nr_descs) {
		err = ck_output_write(j->fd, false, j->path, j->desc_next, j->descs,
				      j->nr_descs * sizeof(*j->descs));
		j->desc_next += j->nr_descs * sizeof(*j->descs);
		j->nr_descs = 0;
	}
	return err;
}

/* Bytes [off, off + len) of piece p (len <= IO_BUF), through the window. */
static struct ck_error *join_read(struct joiner *j, const struct piece *p, uint64_t off,
				  uint32_t len, const uint8_t **ret)
{
	if (j->win_piece != p || off < j->win_off || off + len > j->win_off + j->win_len) {
		uint64_t n = CK_MIN((uint64_t)IO_BUF, p->size - off);
		struct ck_error *err = ck_pread_all(p->fd, j->win, n, off, p->path);
		if (err)
			return err;
		j->win_piece = p;
		j->win_off = off;
		j->win_len = n;
	}
	*ret = j->win + (off - j->win_off);
	return NULL;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* Copies the page of pfn, descriptor idx of piece p. */
static struct ck_error *join_page(struct joiner *j, const struct piece *p, uint64_t pfn,
				  uint64_t idx)
{
	struct ck_error *err;
	if (idx < j->in_first || idx >= j->in_first + j->in_nr) {
		uint64_t off = p->desc_off + idx * sizeof(struct ck_kdump_page_desc);
		uint64_t n = off < p->size ? (p->size - off) / sizeof(struct ck_kdump_page_desc) : 0;
		n = CK_MIN(n, (uint64_t)DESC_BATCH);
		if (!n)
			return ck_error_create(CK_ERR_TRUNCATED,
				"'%s': the descriptor of pfn 0x%" PRIx64 " is past the end of the "
				"file", p->path, pfn);
		err = ck_pread_all(p->fd, j->in_descs, n * sizeof(*j->in_descs), off, p->path);
		if (err)
			return err;
		j->in_first = idx;
		j->in_nr = n;
	}
	const struct ck_kdump_page_desc *d = &j->in_descs[idx - j->in_first];
	int64_t off = le64toh(d->offset);
	uint32_t size = le32toh(d->size), flags = le32toh(d->flags);
	if (off <= 0 || size == 0 || size > j->ps || (uint64_t)off > p->size ||
	    size > p->size - off)
		return ck_error_create(CK_ERR_FORMAT,
			"'%s': pfn 0x%" PRIx64 ": bad page descriptor %" PRIu64 " (offset 0x%"
			PRIx64 ", size %" PRIu32 ")", p->path, pfn, idx, (uint64_t)off, size);
	const uint8_t *src;
	err = join_read(j, p, off, size, &src);
	if (err)
		return err;
	bool zero = !(flags & CK_KDUMP_COMPRESSED_MASK) && size == j->ps && all_zero(src, size);
	if (!zero && j->data_len + size > IO_BUF) {
		/* src stays valid: it points into the window, not the buffer */
		err = join_flush(j);
		if (err)
			return err;
	}
	struct ck_kdump_page_desc *out = &j->descs[j->nr_descs++];
	out->page_flags = 0;
	if (zero) {
		/* The writers' shared zero page, or a raw page of zeros:
		 * ours is shared too. */
		out->offset = (int64_t)htole64(j->zero_off);
		out->size = htole32(j->ps);
		out->flags = 0;
	} else {
		out->offset = (int64_t)htole64(j->data_off + j->data_len);
		out->size = htole32(size);
		out->flags = htole32(flags);
		memcpy(j->data + j->data_len, src, size);
		j->data_len += size;
	}
	j->pages++;
	if (j->nr_descs == DESC_BATCH)
		return join_flush(j);
	return NULL;
}

/* The output's 2nd bitmap for the pfns [cs, ce) into bm (words, bit 0 =
 * cs): each piece's own bits for its own range. */
static struct ck_error *join_bitmap2(struct piece *pieces, size_t nr, uint64_t cs, uint64_t ce,
				     uint64_t *bm, uint64_t *tmp)
{
	size_t words = (ce - cs + 63) / 64;
	memset(bm, 0, words * 8);
	for (size_t i = 0; i < nr; i++) {
		struct piece *p = &pieces[i];
		uint64_t a = CK_MAX(p->start, cs), b = CK_MIN(p->end, ce);
		if (a >= b)
			continue;
		memset(tmp, 0, words * 8);
		struct ck_error *err = ck_pread_all(p->fd, tmp, (ce - cs + 7) / 8,
						    p->bitmap_off + p->bitmap_len + cs / 8, p->path);
		if (err)
			return ck_error_prepend(err, "2nd bitmap");
		for (uint64_t w = (a - cs) / 64; w * 64 < b - cs; w++) {
			uint64_t x = le64toh(tmp[w]), lo = w * 64 + cs;
			if (lo < a)
				x &= ~0ull << (a - lo);
			if (lo + 64 > b)
				x &= (1ull << (b - lo)) - 1;
			bm[w] |= x;
		}
	}
	return NULL;
}

static int piece_cmp(const void *a, const void *b)
{
	const struct piece *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

/* The inputs opened, sorted by range, checked to be the files of one split
 * dump that together cover [0, max_mapnr) once, none of them the output. */
static struct ck_error *pieces_open(const char *const *inputs, size_t nr, const char *output,
				    struct piece *pieces)
{
	struct ck_error *err = NULL;
	for (size_t i = 0; i < nr && !err; i++) {
		err = piece_open(&pieces[i], inputs[i]);
		for (size_t k = 0; k < i && !err; k++) {
			if (pieces[k].dev == pieces[i].dev && pieces[k].ino == pieces[i].ino)
				err = ck_error_create(CK_ERR_INVALID, "'%s' and '%s' are the same file",
						      inputs[k], inputs[i]);
		}
		/* makedumpfile and crash tell the files of one dump by their
		 * identical headers (the timestamp included). */
		if (!err && i && memcmp(&pieces[0].h, &pieces[i].h, sizeof(pieces[0].h)))
			err = ck_error_create(CK_ERR_INVALID,
				"'%s' and '%s' are not files of the same split dump (their "
				"headers differ)", inputs[0], inputs[i]);
	}
	if (err)
		return err;
	struct stat st;
	if (!stat(output, &st))
		for (size_t i = 0; i < nr; i++)
			if (pieces[i].dev == st.st_dev && pieces[i].ino == st.st_ino)
				return ck_error_create(CK_ERR_INVALID,
					"'%s' is both an input and the output", output);
	qsort(pieces, nr, sizeof(*pieces), piece_cmp);
	return NULL;
}

static uint64_t pieces_max_mapnr(const struct piece *pieces)
{
	return le32toh(pieces[0].h.header_version) >= 6 ? le64toh(pieces[0].sh.max_mapnr_64) :
							   le32toh(pieces[0].h.max_mapnr);
}

/* Together the sorted ranges must cover [0, max) once. */
static struct ck_error *pieces_check_cover(const struct piece *pieces, size_t nr, uint64_t max)
{
	for (size_t i = 0, prev = 0; i <= nr; i++) {
		uint64_t from = i ? pieces[i - 1].end : 0, to = i < nr ? pieces[i].start : max;
		if (from < to)
			return ck_error_create(CK_ERR_INVALID,
				"no file holds pfns 0x%" PRIx64 "-0x%" PRIx64
				": a file of the split dump is missing", from, to);
		if (from > to)
			return ck_error_create(CK_ERR_INVALID,
				"'%s' and '%s' both hold pfn 0x%" PRIx64 ": not files of one split dump",
				pieces[prev].path, pieces[i].path, to);
		prev = i;
	}
	return NULL;
}

static void joiner_free(struct joiner *j)
{
	free(j->win);
	free(j->data);
	free(j->descs);
	free(j->in_descs);
	free(j->bm);
	free(j->tmp);
	free(j->prefix);
}

static struct ck_error *joiner_alloc(struct joiner *j, const struct piece *first)
{
	j->win = malloc(IO_BUF);
	j->data = malloc(IO_BUF);
	j->descs = ck_calloc_array(DESC_BATCH, sizeof(*j->descs));
	j->in_descs = ck_calloc_array(DESC_BATCH, sizeof(*j->in_descs));
	j->bm = ck_calloc_array(BM_CYCLE / 64, 8);
	j->tmp = ck_calloc_array(BM_CYCLE / 64, 8);
	j->prefix = malloc(first->bitmap_off);	/* header blocks: <= file size */
	if (!j->win || !j->data || !j->descs || !j->in_descs || !j->bm || !j->tmp || !j->prefix)
		return &ck_error_nomem;
	j->ps = le32toh(first->h.block_size);
	j->bitmap_off = first->bitmap_off;
	j->bitmap_len = first->bitmap_len;
	return NULL;
}

/* Header, sub header, notes, VMCOREINFO: the first file's, no longer
 * split, flagged incomplete until the end. */
static struct ck_error *join_prefix(struct joiner *j, const struct piece *first)
{
	struct ck_error *err = ck_pread_all(first->fd, j->prefix, first->bitmap_off, 0,
					    first->path);
	if (err)
		return err;
	struct ck_kdump_header *oh = (struct ck_kdump_header *)j->prefix;
	int32_t version = le32toh(oh->header_version);
	oh->status |= htole32(CK_KDUMP_INCOMPLETE);
	struct ck_kdump_sub_header sh;
	size_t sh_len = ck_kdump_sub_header_size(CK_MIN(version, CK_KDUMP_HEADER_VERSION));
	memcpy(&sh, j->prefix + j->ps, sh_len);
	sh.split = 0;
	sh.start_pfn = 0;
	sh.end_pfn = htole64(CK_MIN(j->max_mapnr, (uint64_t)UINT32_MAX));
	if (version >= 5) {
		/* eraseinfo is not carried over */
		sh.offset_eraseinfo = 0;
		sh.size_eraseinfo = 0;
	}
	if (version >= 6) {
		sh.start_pfn_64 = 0;
		sh.end_pfn_64 = htole64(j->max_mapnr);
	}
	memcpy(j->prefix + j->ps, &sh, sh_len);
	return ck_output_write(j->fd, false, j->path, 0, j->prefix, first->bitmap_off);
}

/* 1st bitmap: the first file's (all files have the whole machine's). */
static struct ck_error *join_bitmap1(struct joiner *j, const struct piece *first)
{
	struct ck_error *err = NULL;
	for (uint64_t off = 0; off < j->bitmap_len && !err; off += IO_BUF) {
		size_t n = CK_MIN((uint64_t)IO_BUF, j->bitmap_len - off);
		err = ck_pread_all(first->fd, j->win, n, j->bitmap_off + off, first->path);
		if (!err)
			err = ck_output_write(j->fd, false, j->path, j->bitmap_off + off, j->win, n);
	}
	j->win_piece = NULL;
	return err;
}

/* 2nd bitmap: each range from its own file; *total gets the pages. */
static struct ck_error *join_write_bitmap2(struct joiner *j, struct piece *pieces, size_t nr,
					   uint64_t *total)
{
	struct ck_error *err = NULL;
	uint64_t max = j->max_mapnr, *bm = j->bm;
	*total = 0;
	for (uint64_t cs = 0; cs < max && !err; cs += BM_CYCLE) {
		uint64_t ce = CK_MIN(cs + BM_CYCLE, max);
		err = join_bitmap2(pieces, nr, cs, ce, bm, j->tmp);
		for (uint64_t w = 0; !err && w < (ce - cs + 63) / 64; w++) {
			*total += __builtin_popcountll(bm[w]);
			bm[w] = htole64(bm[w]);
		}
		if (!err)
			err = ck_output_write(j->fd, false, j->path,
					      j->bitmap_off + j->bitmap_len + cs / 8, bm,
					      (ce - cs + 7) / 8);
	}
	return err;
}

/* Pages: each file's, in pfn order, its descriptors counted from the first
 * saved pfn of its range.  The descriptor area holds total descriptors,
 * the shared zero page follows it, then the data. */
static struct ck_error *join_pages(struct joiner *j, struct piece *pieces, size_t nr,
				   uint64_t total)
{
	struct ck_error *err = NULL;
	j->desc_off = j->bitmap_off + 2 * j->bitmap_len;
	j->desc_next = j->desc_off;
	j->zero_off = j->desc_off + total * sizeof(struct ck_kdump_page_desc);
	memset(j->data, 0, j->ps);
	j->data_off = j->zero_off;
	j->data_len = j->ps;
	for (size_t i = 0; i < nr && !err; i++) {
		struct piece *p = &pieces[i];
		uint64_t idx = 0;
		j->in_nr = 0;
		for (uint64_t cs = p->start / 64 * 64; cs < p->end && !err; cs += BM_CYCLE) {
			uint64_t ce = CK_MIN(cs + BM_CYCLE, j->max_mapnr);
			err = join_bitmap2(p, 1, cs, ce, j->bm, j->tmp);
			for (uint64_t w = 0; !err && w * 64 < ce - cs; w++)
				for (uint64_t x = j->bm[w]; x && !err; x &= x - 1, idx++)
					err = join_page(j, p, cs + w * 64 + __builtin_ctzll(x), idx);
		}
	}
	if (!err)
		err = join_flush(j);
	return err;
}

/* Every part of the output, the header's incomplete flag cleared last. */
static struct ck_error *join_all(struct joiner *j, struct piece *pieces, size_t nr)
{
	uint64_t total;
	struct ck_error *err = join_prefix(j, &pieces[0]);
	if (!err)
		err = join_bitmap1(j, &pieces[0]);
	if (!err)
		err = join_write_bitmap2(j, pieces, nr, &total);
	if (!err)
		err = join_pages(j, pieces, nr, total);
	if (err)
		return err;
	struct ck_kdump_header *oh = (struct ck_kdump_header *)j->prefix;
	oh->status &= ~htole32(CK_KDUMP_INCOMPLETE);
	return ck_output_write(j->fd, false, j->path, 0, j->prefix, sizeof(*oh));
}

struct ck_error *ck_capture_split_reassemble(const char *const *inputs, size_t nr,
					     const char *output, bool force,
					     uint64_t *pages_ret, uint64_t *bytes_ret)
{
	struct ck_outfile of = CK_OUTFILE_INIT;
	struct joiner j = { .fd = -1 };

	if (nr < 1)
		return ck_error_create(CK_ERR_INVALID, "--reassemble wants the split files");
	struct ck_error *err = ck_outfile_check(output, force);
	if (err)
		return err;
	struct piece *pieces = ck_calloc_array(nr, sizeof(*pieces));
	if (!pieces)
		return &ck_error_nomem;
	for (size_t i = 0; i < nr; i++)
		pieces[i].fd = -1;
	err = pieces_open(inputs, nr, output, pieces);
	if (!err) {
		j.max_mapnr = pieces_max_mapnr(pieces);
		err = pieces_check_cover(pieces, nr, j.max_mapnr);
	}
	if (!err)
		err = joiner_alloc(&j, &pieces[0]);
	if (!err)
		err = ck_outfile_open(output, true, &of);
	if (!err) {
		j.fd = of.fd;
		j.path = of.tmp_path;
		err = join_all(&j, pieces, nr);
	}
	if (!err)
		err = ck_outfile_commit(&of);
	if (!err && pages_ret)
		*pages_ret = j.pages;
	if (!err && bytes_ret)
		*bytes_ret = j.data_off;
	/* A failed join stays OUTPUT.incomplete, as before. */
	ck_outfile_abandon(&of, true);
	for (size_t i = 0; i < nr; i++)
		if (pieces[i].fd >= 0)
			close(pieces[i].fd);
	free(pieces);
	joiner_free(&j);
	return err;
}
