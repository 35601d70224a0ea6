/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kdump-compressed writer (header version 6), to a file or as
 * makedumpfile's flattened stream.  Layout from lib/dump/kdump_format.h and
 * lib/dump/flattened_format.h, the same headers the readers use.
 *
 *   block 0              disk_dump_header (status has INCOMPLETE until finish)
 *   block 1 ..           kdump_sub_header, ELF notes, VMCOREINFO text
 *   bitmap blocks        1st bitmap (pages that exist), 2nd (pages saved)
 *   descriptors          nr_dumpable page_desc slots, filled in pfn order
 *   data                 [one shared zero page], then pages in pfn order
 *
 * Placement and writing are split so that capture workers write in
 * parallel (struct ck_writer_ops, lib/dump/dump.h): reserve, called in pfn
 * order, gives a batch its data offset and descriptor slots (offset(i) =
 * offset(i-1) + size(i-1), the size limit applied there); put then writes
 * it, from any thread for a file (disjoint ranges), in reserve order for a
 * stream.
 * The bytes are the same whatever order the puts land in.
 *
 * The descriptor area is sized before the page contents are seen, from the
 * 2nd bitmap after filtering by struct page; zero pages found later simply
 * leave slots unused at its end (makedumpfile does the same).  Only the 2nd
 * bitmap and the header are rewritten at the end, in place, so finishing
 * needs no new disk space: a full disk still yields a valid dump.
 */
#include <endian.h>
#include <fcntl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "dump/dump.h"
#include "dump/flattened_format.h"
#include "dump/kdump_format.h"

struct ck_kdump_writer {
	struct ck_writer base;
	struct ck_kdump_writer_params p;
	struct ck_kdump_header hdr;
	uint64_t sub_blocks;			/* sub header, notes, VMCOREINFO */
	uint64_t bitmap_off, bitmap_len;	/* one bitmap */
	uint64_t desc_off;
	uint64_t data_off;
	uint64_t zero_off;			/* shared zero page, if any */
	uint64_t cursor;			/* end of data written */
	uint64_t next_desc;
	uint64_t size;				/* logical size so far */
	bool full;
};

/* A batch's place: its data and its descriptors. */
struct kdump_batch {
	uint64_t data_off, data_len;
	uint64_t desc_off;
	const uint8_t *data;
	struct ck_kdump_page_desc *descs;	/* room for max_pages */
	size_t max_pages;
};

static struct ck_kdump_writer *kdump_writer(const struct ck_writer *base)
{
	return (struct ck_kdump_writer *)base;
}

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

/* Writes len bytes at logical offset off: pwrite for a file, a record for a
 * flattened stream.  ENOSPC and EFBIG come back as CK_ERR_OS with errno. */
static struct ck_error *out_write(struct ck_kdump_writer *w, uint64_t off, const void *buf,
				  size_t len)
{
	struct ck_error *err = ck_output_write(w->p.fd, w->p.flattened, w->p.path, off, buf,
					       len);
	if (err)
		return err;
	/* puts run in parallel: the size is a maximum kept atomically */
	uint64_t end = off + len, cur = __atomic_load_n(&w->size, __ATOMIC_RELAXED);
	while (end > cur && !__atomic_compare_exchange_n(&w->size, &cur, end, true,
							 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	return NULL;
}

/* Writes len zero bytes at off, a block at a time. */
static struct ck_error *out_zeros(struct ck_kdump_writer *w, uint64_t off, uint64_t len)
{
	uint32_t bs = w->p.page_size;
	uint8_t *zero = calloc(1, bs);
	if (!zero)
		return &ck_error_nomem;
	struct ck_error *err = NULL;
	for (uint64_t done = 0; done < len && !err; done += bs)
		err = out_write(w, off + done, zero, CK_MIN((uint64_t)bs, len - done));
	free(zero);
	return err;
}

static void put_uts(char *dst, const char *src)
{
	memset(dst, 0, CK_KDUMP_UTS_LEN);
	if (src)
		memcpy(dst, src, strnlen(src, CK_KDUMP_UTS_LEN - 1));
}

static struct ck_error *write_header(struct ck_kdump_writer *w, bool incomplete)
{
	if (incomplete)
		w->hdr.status |= htole32(CK_KDUMP_INCOMPLETE);
	else
		w->hdr.status &= ~htole32(CK_KDUMP_INCOMPLETE);
	/* The header block is written whole so that a flattened stream's
	 * first record covers block 0. */
	uint8_t *block = calloc(1, w->p.page_size);
	if (!block)
		return &ck_error_nomem;
	memcpy(block, &w->hdr, sizeof(w->hdr));
	struct ck_error *err = out_write(w, 0, block, w->p.page_size);
	free(block);
	return err;
}

/* The file's layout from the params: header fields, where the bitmaps,
 * descriptors and data go. */
static struct ck_error *layout(struct ck_kdump_writer *w)
{
	const struct ck_kdump_writer_params *params = &w->p;
	uint32_t bs = params->page_size;
	struct ck_kdump_header *h = &w->hdr;
	memcpy(h->signature, CK_KDUMP_SIGNATURE, CK_KDUMP_SIG_LEN);
	h->header_version = htole32(CK_KDUMP_HEADER_VERSION);
	put_uts(h->utsname.sysname, params->uts[0] ? params->uts[0] : "Linux");
	put_uts(h->utsname.nodename, params->uts[1]);
	put_uts(h->utsname.release, params->uts[2]);
	put_uts(h->utsname.version, params->uts[3]);
	put_uts(h->utsname.machine, params->uts[4]);
	put_uts(h->utsname.domainname, params->uts[5]);
	struct timeval tv = { .tv_sec = params->tv_sec, .tv_usec = params->tv_usec };
	if (!params->tv_sec)
		gettimeofday(&tv, NULL);
	h->tv_sec = htole64(tv.tv_sec);
	h->tv_usec = htole64(tv.tv_usec);
	h->status = htole32(params->compression);
	h->block_size = htole32(bs);

	size_t sub_len = sizeof(struct ck_kdump_sub_header) + params->notes_len +
			 params->vmcoreinfo_len;
	w->sub_blocks = div_up(sub_len, bs);
	w->bitmap_len = div_up(div_up(params->max_mapnr, 8), bs) * bs;
	uint64_t bitmap_blocks = 2 * w->bitmap_len / bs;
	if (w->sub_blocks > INT32_MAX || bitmap_blocks > UINT32_MAX)
		return ck_error_create(CK_ERR_UNSUPPORTED,
			"kdump header cannot describe %" PRIu64 " pfns", params->max_mapnr);
	h->sub_hdr_size = htole32(w->sub_blocks);
	h->bitmap_blocks = htole32(bitmap_blocks);
	h->max_mapnr = htole32(params->max_mapnr > UINT32_MAX ? UINT32_MAX
							      : (uint32_t)params->max_mapnr);
	h->nr_cpus = htole32(params->nr_cpus);
	w->bitmap_off = (1 + w->sub_blocks) * bs;
	w->desc_off = w->bitmap_off + 2 * w->bitmap_len;
	w->data_off = w->desc_off + params->nr_dumpable * sizeof(struct ck_kdump_page_desc);
	w->cursor = w->data_off;
	return NULL;
}

/* The sub header, notes and VMCOREINFO, in sub_blocks whole blocks. */
static void fill_sub_header(const struct ck_kdump_writer *w, uint8_t *sub)
{
	const struct ck_kdump_writer_params *params = &w->p;
	struct ck_kdump_sub_header sh = {0};
	uint64_t note_off = (uint64_t)params->page_size + sizeof(sh);
	uint64_t vmci_off = note_off + params->notes_len;
	sh.phys_base = htole64(params->phys_base);
	sh.dump_level = htole32(params->dump_level);
	uint64_t start = 0, end = params->max_mapnr;
	if (params->split) {
		/* makedumpfile --split: the pre-v6 copies are cut to 32 bits
		 * as makedumpfile does; v6 readers take the 64-bit ones. */
		start = params->start_pfn;
		end = params->end_pfn;
		sh.split = htole32(1);
		sh.start_pfn = htole64(CK_MIN(start, (uint64_t)UINT32_MAX));
		sh.end_pfn = htole64(CK_MIN(end, (uint64_t)UINT32_MAX));
	} else {
		sh.end_pfn = htole64(params->max_mapnr);
	}
	sh.offset_vmcoreinfo = htole64(params->vmcoreinfo_len ? vmci_off : 0);
	sh.size_vmcoreinfo = htole64(params->vmcoreinfo_len);
	sh.offset_note = htole64(params->notes_len ? note_off : 0);
	sh.size_note = htole64(params->notes_len);
	sh.start_pfn_64 = htole64(start);
	sh.end_pfn_64 = htole64(end);
	sh.max_mapnr_64 = htole64(params->max_mapnr);
	memcpy(sub, &sh, sizeof(sh));
	if (params->notes_len)
		memcpy(sub + sizeof(sh), params->notes, params->notes_len);
	if (params->vmcoreinfo_len)
		memcpy(sub + sizeof(sh) + params->notes_len, params->vmcoreinfo,
		       params->vmcoreinfo_len);
}

/* Everything in front of the pages: the header, flagged incomplete until
 * finish; the sub header; both bitmaps as zeros (to a file); the shared
 * zero page. */
static struct ck_error *write_front(struct ck_kdump_writer *w)
{
	uint32_t bs = w->p.page_size;
	uint8_t *sub = calloc(w->sub_blocks, bs);
	if (!sub)
		return &ck_error_nomem;
	fill_sub_header(w, sub);
	/* A flattened stream gets its final header now: readers such as crash
	 * take the first record for offset 0, and a stream cut short lacks
	 * its end record, which marks it incomplete anyway. */
	struct ck_error *err = write_header(w, !w->p.flattened);
	if (!err)
		err = out_write(w, bs, sub, w->sub_blocks * bs);
	free(sub);
	/* Both bitmaps are written as zeros now and filled cycle by cycle
	 * (the bitmaps op): their blocks must exist before the pages, so
	 * that finishing only overwrites and works on a full disk, and no
	 * bitmap of the whole machine is ever held in memory.  Not in a
	 * flattened stream: there every byte must come once, as crash keeps
	 * the first record for an offset. */
	if (!err && !w->p.flattened)
		err = out_zeros(w, w->bitmap_off, 2 * w->bitmap_len);
	if (err || !w->p.need_zero_page)
		return err;
	w->zero_off = w->cursor;
	if (w->p.size_limit && w->cursor + bs > w->p.size_limit)
		w->full = true;
	else
		err = out_zeros(w, w->cursor, bs);
	w->cursor += bs;
	return err;
}

static const struct ck_writer_ops kdump_writer_ops;

struct ck_error *ck_kdump_writer_create(const struct ck_kdump_writer_params *params,
					struct ck_writer **ret)
{
	struct ck_kdump_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return &ck_error_nomem;
	w->base.ops = &kdump_writer_ops;
	w->p = *params;
	struct ck_error *err = NULL;
	if (w->p.flattened)
		err = ck_output_begin_stream(w->p.fd, w->p.path);
	if (!err)
		err = layout(w);
	if (!err)
		err = write_front(w);
	if (err) {
		free(w);
		return err;
	}
	*ret = &w->base;
	return NULL;
}

static struct ck_error *kdump_batch_init(struct ck_writer *base, struct ck_write_batch *b,
					 size_t max_pages)
{
	struct kdump_batch *kb = calloc(1, sizeof(*kb));
	if (kb)
		kb->descs = ck_calloc_array(max_pages ? max_pages : 1, sizeof(*kb->descs));
	if (!kb || !kb->descs) {
		free(kb);
		return &ck_error_nomem;
	}
	kb->max_pages = max_pages;
	*b = (struct ck_write_batch){ .priv = kb };
	return NULL;
}

static void kdump_batch_deinit(struct ck_writer *base, struct ck_write_batch *b)
{
	struct kdump_batch *kb = b->priv;
	if (kb)
		free(kb->descs);
	free(kb);
	b->priv = NULL;
}

/* Descriptor of one page placed at off (zero pages: the shared one). */
static void fill_desc(const struct ck_kdump_writer *w, struct ck_kdump_page_desc *d,
		      const struct ck_out_page *page, uint64_t off)
{
	if (page->size == 0) {
		d->offset = (int64_t)htole64(w->zero_off);
		d->size = htole32(w->p.page_size);
		d->flags = 0;
	} else {
		d->offset = (int64_t)htole64(off);
		d->size = htole32(page->size);
		d->flags = htole32(page->flags);
	}
	d->page_flags = 0;
}

/* Data offset(i) = offset(i-1) + size(i-1), descriptor slots by rank, the
 * size limit applied. */
static struct ck_error *kdump_reserve(struct ck_writer *base, const struct ck_out_page *pages,
				      size_t nr, const uint8_t *data, struct ck_write_batch *b,
				      bool *full_ret)
{
	struct ck_kdump_writer *w = kdump_writer(base);
	struct kdump_batch *kb = b->priv;
	b->nr = 0;
	b->put = false;
	kb->data_off = kb->data_len = kb->desc_off = 0;
	kb->data = data;
	*full_ret = __atomic_load_n(&w->full, __ATOMIC_ACQUIRE);
	if (*full_ret || !nr)
		return NULL;
	if (nr > kb->max_pages)
		return ck_error_create(CK_ERR_INVALID,
			"kdump writer: a batch of %zu pages, room for %zu", nr, kb->max_pages);
	if (w->next_desc + nr > w->p.nr_dumpable)
		return ck_error_create(CK_ERR_INVALID,
			"kdump writer: more pages than the %" PRIu64 " planned",
			w->p.nr_dumpable);
	/* How many pages fit under the size limit. */
	size_t n = 0;
	uint64_t len = 0;
	for (; n < nr; n++) {
		uint64_t next = len + pages[n].size;
		if (w->p.size_limit && w->cursor + next > w->p.size_limit)
			break;
		fill_desc(w, &kb->descs[n], &pages[n], w->cursor + len);
		len = next;
	}
	kb->data_off = w->cursor;
	kb->data_len = len;
	kb->desc_off = w->desc_off + w->next_desc * sizeof(*kb->descs);
	b->nr = n;
	b->put = n > 0;
	w->cursor += len;
	w->next_desc += n;
	if (n < nr) {
		__atomic_store_n(&w->full, true, __ATOMIC_RELEASE);
		*full_ret = true;
	}
	return NULL;
}

static struct ck_error *kdump_put(struct ck_writer *base, const struct ck_write_batch *b,
				  bool *full_ret)
{
	struct ck_kdump_writer *w = kdump_writer(base);
	const struct kdump_batch *kb = b->priv;
	*full_ret = false;
	struct ck_error *err = NULL;
	if (kb->data_len)
		err = out_write(w, kb->data_off, kb->data, kb->data_len);
	if (!err && b->nr)
		err = out_write(w, kb->desc_off, kb->descs, b->nr * sizeof(*kb->descs));
	if (err) {
		/* Nothing of this batch counts. */
		if (ck_writer_errno_full(ck_error_errno(err))) {
			__atomic_store_n(&w->full, true, __ATOMIC_RELEASE);
			*full_ret = true;
		}
		return err;
	}
	/* Start the disk on this data now rather than in the final fsync:
	 * writeback then runs beside compression, in the thread that wrote
	 * (ext4 allocates the blocks here, in parallel), and the page cache
	 * does not fill with dirty output in a small capture kernel.  Not a
	 * wait: SYNC_FILE_RANGE_WRITE only queues the I/O.  Errors are left
	 * to fsync, which reports them. */
	if (!w->p.flattened && kb->data_len >= CK_KDUMP_WRITEBACK_MIN)
		(void)sync_file_range(w->p.fd, kb->data_off, kb->data_len,
				      SYNC_FILE_RANGE_WRITE);
	return NULL;
}

/* Nothing to undo: descriptors and data past the cut are never read (the
 * 2nd bitmap is cleared from the cut on), and later reserves come back
 * full. */
static void kdump_rewind(struct ck_writer *base, const struct ck_write_batch *b)
{
}

static struct ck_error *kdump_add(struct ck_writer *base, struct ck_write_batch *b,
				  const struct ck_out_page *pages, size_t nr, const uint8_t *data,
				  size_t *nr_written, bool *full_ret)
{
	bool cut = false, full = false;
	*nr_written = 0;
	struct ck_error *err = kdump_reserve(base, pages, nr, data, b, &cut);
	if (!err && b->nr)
		err = kdump_put(base, b, &full);
	*full_ret = cut || full;
	if (!err)
		*nr_written = b->nr;
	return err;
}

static struct ck_error *kdump_bitmaps(struct ck_writer *base, uint64_t start, uint64_t nr,
				      const uint64_t *bitmap1, const uint64_t *bitmap2)
{
	struct ck_kdump_writer *w = kdump_writer(base);
	/* Bit i of byte i/8, least significant first: on a little-endian
	 * host the byte order of our 64-bit words. */
	if (start % 8 || start >= w->p.max_mapnr)
		return ck_error_create(CK_ERR_INVALID, "kdump writer: bitmap slice at pfn 0x%"
				       PRIx64, start);
	nr = CK_MIN(nr, w->p.max_mapnr - start);
	size_t len = div_up(nr, 8);
	struct ck_error *err = out_write(w, w->bitmap_off + start / 8, bitmap1, len);
	if (!err)
		err = out_write(w, w->bitmap_off + w->bitmap_len + start / 8, bitmap2, len);
	if (err)
		return ck_error_prepend(err, "bitmaps");
	return NULL;
}

static struct ck_error *kdump_finish(struct ck_writer *base, bool incomplete)
{
	struct ck_kdump_writer *w = kdump_writer(base);
	struct ck_error *err = w->p.flattened && !incomplete ? NULL : write_header(w, incomplete);
	if (err)
		return err;
	return w->p.flattened ? ck_output_end_stream(w->p.fd, w->p.path) : NULL;
}

static uint64_t kdump_size(const struct ck_writer *base)
{
	return __atomic_load_n(&kdump_writer(base)->size, __ATOMIC_RELAXED);
}

static uint64_t kdump_segments(const struct ck_writer *base)
{
	return 0;
}

static void kdump_destroy(struct ck_writer *base)
{
	free(kdump_writer(base));
}

static const struct ck_writer_ops kdump_writer_ops = {
	.name = "kdump",
	.batch_init = kdump_batch_init,
	.batch_deinit = kdump_batch_deinit,
	.reserve = kdump_reserve,
	.put = kdump_put,
	.rewind = kdump_rewind,
	.add = kdump_add,
	.bitmaps = kdump_bitmaps,
	.finish = kdump_finish,
	.size = kdump_size,
	.segments = kdump_segments,
	.destroy = kdump_destroy,
};
