/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ELF vmcore writer (crashkit capture -E), to a file or as a flattened
 * stream.  What readers need, checked against makedumpfile -E's output and
 * the readers we test with (crash, gdb, libkdumpfile, ours):
 *
 *   0            Elf64_Ehdr (ET_CORE, the input's e_machine; e_flags bit 0
 *                = incomplete, makedumpfile's DUMP_ELF_INCOMPLETE)
 *   64           program headers: PT_NOTE first, then the PT_LOADs
 *   ...          room reserved for the largest number of PT_LOADs the
 *                filtered page set can need, then one section header (used
 *                only for PN_XNUM, 65535+ program headers)
 *   notes        the input's ELF notes (NT_PRSTATUS, VMCOREINFO, ...)
 *   data         page aligned: the kept bytes of each segment, in paddr order
 *
 * Excluded ranges are cut out as makedumpfile does: a PT_LOAD ends where
 * its data ends (p_filesz) and its p_memsz runs on to the next kept byte, so
 * the union of p_memsz is still the memory the machine had and readers tell
 * "excluded" (no file data) from "no memory".  A range that starts with
 * excluded pages gets a PT_LOAD with p_filesz 0 for them.
 *
 * Virtual addresses are kept: each segment's p_vaddr comes from the input
 * PT_LOAD that owns its physical range.  /proc/vmcore maps the kernel image
 * twice (its own PT_LOAD at __START_KERNEL_map, and inside a RAM PT_LOAD at
 * the direct map); the bytes are written once and the second mapping gets
 * PT_LOADs pointing at the same file offsets, so gdb finds both addresses.
 *
 * Program headers are written as segments close; only the ones that overlap
 * a second mapping are remembered (to alias them at the end), so memory does
 * not grow with the dump.
 *
 * To a file, pages go in two steps (docs/capture.md, struct ck_writer_ops):
 * reserve, in pfn order under the caller's lock, decides the layout
 * (segments, program headers, the cursor, -L) and records the chunk's bytes
 * as extents of its data or of zeros; put pwrites them from any thread.  A
 * put that finds the disk full is undone with rewind (the state saved by
 * its reserve).  The flattened stream (add) runs the same layout code but
 * writes as it goes, in stream order.
 */
#include <elf.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dump/dump.h"
#include "dump/flattened_format.h"

#define ZERO_BUF 65536u
/* Direct writes: offsets, lengths and buffers on this boundary (a page:
 * above every device's logical block), into space preallocated this much
 * at a time. */
#define DIRECT_ALIGN 4096u
#define DIRECT_PREALLOC (64ull << 20)
/* Zero pages are cut out only in runs of this many: shorter runs are
 * written as zeros, so a structure that spans a zero page still reads
 * (makedumpfile -E keeps runs of fewer than 256 excluded pages, its
 * PFN_EXCLUDED, for the same reason). */
#define ZERO_RUN_PAGES 256u

struct piece {
	uint64_t paddr, end, vaddr;
};
CK_DEFINE_VECTOR(piece_vector, struct piece)

struct seg {
	uint64_t paddr, offset, filesz;
};
CK_DEFINE_VECTOR(seg_vector, struct seg)

/* A range of the file and what goes there. */
struct extent {
	uint64_t off, len;
	const uint8_t *src;		/* into the chunk's data; NULL: zeros */
};
CK_DEFINE_VECTOR(extent_vector, struct extent)

/* The writer's state before a batch, to go back to if its put fails. */
struct mark {
	size_t cur;
	bool cur_started, open;
	struct seg seg;
	uint64_t nr_phdrs;
	size_t nr_alias_segs;
	uint64_t cursor, pend_paddr;
};

/* A batch (ck_write_batch.priv): a contiguous range of the file, made of
 * extents of the chunk's data and of zeros (short zero runs kept). */
struct elf_batch {
	uint64_t data_off, data_len;	/* where the batch goes in the file */
	struct extent_vector ext;
	struct mark mark;
	bool direct;			/* its space is preallocated: O_DIRECT */
};

struct ck_elf_writer {
	struct ck_writer base;
	struct ck_elf_writer_params p;
	struct piece_vector pieces;	/* owned physical ranges, sorted, disjoint */
	struct piece_vector aliases;	/* second mappings of owned ranges */
	struct seg_vector alias_segs;	/* written segments inside an alias */
	uint64_t table_cap;		/* program headers the table has room for */
	uint64_t shdr_off, notes_off, data_off;
	uint64_t cursor;		/* end of the data written */
	uint64_t nr_phdrs;		/* PT_LOADs written to the table */
	Elf64_Phdr pbuf[128];		/* PT_LOADs not yet written */
	size_t nr_pbuf;
	size_t cur;			/* current piece */
	bool cur_started;		/* the current piece has a PT_LOAD */
	bool open;			/* seg is open */
	struct seg seg;
	uint64_t size;			/* logical size so far */
	bool full;
	uint8_t *zero;
	uint64_t alloc_end;		/* preallocated for direct writes, 0: none */
	bool direct_off;		/* direct writes given up */
	uint64_t pend_paddr, pend_len;	/* zero pages not written yet */
	struct elf_batch *batch;	/* reserving: emit records, not writes */
};

static struct ck_error *write_elf_header(struct ck_elf_writer *w, bool incomplete);
static void elf_destroy(struct ck_writer *base);

static struct ck_elf_writer *elf_writer(const struct ck_writer *base)
{
	return (struct ck_elf_writer *)base;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/* w->size = max(w->size, end), from any thread (puts run in parallel). */
static void size_max(struct ck_elf_writer *w, uint64_t end)
{
	uint64_t cur = __atomic_load_n(&w->size, __ATOMIC_RELAXED);
	while (end > cur && !__atomic_compare_exchange_n(&w->size, &cur, end, true,
							 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static struct ck_error *out_write(struct ck_elf_writer *w, uint64_t off, const void *buf,
				  size_t len)
{
	struct ck_error *err = ck_output_write(w->p.fd, w->p.flattened, w->p.path, off, buf,
					       len);
	if (err)
		return err;
	size_max(w, off + len);
	return NULL;
}

/* Reserving: the bytes [off, off + len) of the file are src (zeros when
 * NULL), to be written by the put. */
static struct ck_error *record(struct elf_batch *b, uint64_t off, const uint8_t *src,
			       uint64_t len)
{
	size_t n = extent_vector_size(&b->ext);
	if (n) {
		struct extent *e = extent_vector_at(&b->ext, n - 1);
		if (e->off + e->len == off && (src ? e->src && e->src + e->len == src : !e->src)) {
			e->len += len;
			b->data_len += len;
			return NULL;
		}
	}
	struct extent e = { .off = off, .src = src, .len = len };
	if (!extent_vector_append(&b->ext, &e))
		return &ck_error_nomem;
	b->data_len += len;
	return NULL;
}

static struct ck_error *flush_phdrs(struct ck_elf_writer *w)
{
	if (!w->nr_pbuf)
		return NULL;
	struct ck_error *err = out_write(w, sizeof(Elf64_Ehdr) + (1 + w->nr_phdrs) * sizeof(Elf64_Phdr),
					 w->pbuf, w->nr_pbuf * sizeof(Elf64_Phdr));
	w->nr_phdrs += w->nr_pbuf;
	w->nr_pbuf = 0;
	return err;
}

static struct ck_error *add_phdr(struct ck_elf_writer *w, uint64_t paddr, uint64_t vaddr,
				 uint64_t offset, uint64_t filesz, uint64_t memsz)
{
	if (w->nr_phdrs + w->nr_pbuf + 1 >= w->table_cap)
		return ck_error_create(CK_ERR_INVALID,
			"ELF writer: more program headers than the %" PRIu64 " planned",
			w->table_cap);
	w->pbuf[w->nr_pbuf++] = (Elf64_Phdr){
		.p_type = htole32(PT_LOAD),
		.p_flags = htole32(PF_R | PF_W | PF_X),
		.p_offset = htole64(offset),
		.p_vaddr = htole64(vaddr),
		.p_paddr = htole64(paddr),
		.p_filesz = htole64(filesz),
		.p_memsz = htole64(memsz),
	};
	if (w->nr_pbuf == CK_ARRAY_SIZE(w->pbuf))
		return flush_phdrs(w);
	return NULL;
}

static bool in_alias(const struct ck_elf_writer *w, uint64_t a, uint64_t b)
{
	for (size_t i = 0; i < piece_vector_size(&w->aliases); i++) {
		const struct piece *al = piece_vector_at(&w->aliases, i);
		if (a < al->end && al->paddr < b)
			return true;
	}
	return false;
}

/* Ends the open segment; its memory runs on to end (excluded tail). */
static struct ck_error *close_seg(struct ck_elf_writer *w, uint64_t end)
{
	const struct piece *pc = piece_vector_at(&w->pieces, w->cur);
	struct seg *s = &w->seg;
	w->open = false;
	if (s->filesz && in_alias(w, s->paddr, s->paddr + s->filesz) &&
	    !seg_vector_append(&w->alias_segs, s))
		return &ck_error_nomem;
	return add_phdr(w, s->paddr, pc->vaddr + (s->paddr - pc->paddr), s->offset, s->filesz,
			end - s->paddr);
}

/* Ends the current piece: the open segment takes the rest of its memory; a
 * piece nothing was written to gets one PT_LOAD without data. */
static struct ck_error *close_piece(struct ck_elf_writer *w)
{
	const struct piece *pc = piece_vector_at(&w->pieces, w->cur);
	struct ck_error *err = NULL;
	if (w->open)
		err = close_seg(w, pc->end);
	else if (!w->cur_started)
		err = add_phdr(w, pc->paddr, pc->vaddr, w->cursor, 0, pc->end - pc->paddr);
	w->cur_started = false;
	w->cur++;
	return err;
}

/* Bytes [a, b) of physical memory, inside the current piece. */
static struct ck_error *emit(struct ck_elf_writer *w, uint64_t a, uint64_t b, const uint8_t *src)
{
	const struct piece *pc = piece_vector_at(&w->pieces, w->cur);
	struct ck_error *err;
	if (w->open && a != w->seg.paddr + w->seg.filesz) {
		err = close_seg(w, a);
		if (err)
			return err;
	}
	if (!w->open) {
		if (!w->cur_started && a > pc->paddr) {
			err = add_phdr(w, pc->paddr, pc->vaddr, w->cursor, 0, a - pc->paddr);
			if (err)
				return err;
		}
		w->cur_started = true;
		w->open = true;
		w->seg = (struct seg){ .paddr = a, .offset = w->cursor };
	}
	uint64_t len = b - a;
	if (w->batch) {
		err = record(w->batch, w->cursor, src, len);
		if (err)
			return err;
		w->cursor += len;
		w->seg.filesz += len;
		return NULL;
	}
	while (len) {
		size_t n = src ? len : CK_MIN(len, (uint64_t)ZERO_BUF);
		err = out_write(w, w->cursor, src ? src : w->zero, n);
		if (err)
			return err;
		w->cursor += n;
		w->seg.filesz += n;
		len -= n;
		if (src)
			src += n;
	}
	return NULL;
}

static int piece_cmp(const void *a, const void *b)
{
	const struct piece *x = a, *y = b;
	return x->paddr < y->paddr ? -1 : x->paddr > y->paddr;
}

/* Appends [a, b) minus every earlier load to own and the covered parts to
 * alias, both with the load's virtual addresses. */
static bool split_load(const struct ck_elf_load *loads, size_t i, struct piece_vector *own,
		       struct piece_vector *alias)
{
	const struct ck_elf_load *l = &loads[i];
	uint64_t pos = l->paddr, end = l->paddr + l->memsz;
	while (pos < end) {
		/* The earliest earlier load covering pos, or the nearest start. */
		uint64_t cover_end = 0, next = end;
		for (size_t j = 0; j < i; j++) {
			uint64_t s = loads[j].paddr, e = loads[j].paddr + loads[j].memsz;
			if (s <= pos && pos < e)
				cover_end = CK_MAX(cover_end, e);
			else if (s > pos && s < next)
				next = s;
		}
		uint64_t stop = cover_end ? CK_MIN(cover_end, end) : next;
		struct piece pc = { .paddr = pos, .end = stop,
				    .vaddr = l->vaddr + (pos - l->paddr) };
		if (!piece_vector_append(cover_end ? alias : own, &pc))
			return false;
		pos = stop;
	}
	return true;
}

/* The physical ranges the file describes, sorted: the input's PT_LOADs
 * (their second mappings apart), or its memory ranges. */
static bool build_pieces(struct ck_elf_writer *w)
{
	const struct ck_elf_writer_params *params = &w->p;
	for (size_t i = 0; i < params->nr_loads; i++) {
		if (params->loads[i].memsz &&
		    !split_load(params->loads, i, &w->pieces, &w->aliases))
			return false;
	}
	for (size_t i = 0; !params->nr_loads && i < params->nr_ranges; i++) {
		const struct ck_mem_range *r = &params->ranges[i];
		struct piece pc = {
			.paddr = r->start,
			.end = r->start + r->size,
			.vaddr = params->vaddr_of_paddr0 ? params->vaddr_of_paddr0 + r->start : 0,
		};
		if (!piece_vector_append(&w->pieces, &pc))
			return false;
	}
	if (w->pieces.size)
		qsort(w->pieces.data, w->pieces.size, sizeof(*w->pieces.data), piece_cmp);
	return true;
}

/* Room for: PT_NOTE, one PT_LOAD per run of kept pages (plus one per piece,
 * which may cut a run, plus one leading excluded part per piece), and the
 * aliases of segments inside second mappings.  Then where the notes and
 * the data go. */
static void layout(struct ck_elf_writer *w)
{
	uint64_t alias_pages = 0;
	for (size_t i = 0; i < w->aliases.size; i++) {
		const struct piece *al = piece_vector_at(&w->aliases, i);
		alias_pages += (al->end - al->paddr) / w->p.page_size + 2;
	}
	uint64_t data_segs = w->p.max_runs + 2 * w->pieces.size;
	w->table_cap = 1 + data_segs + CK_MIN(alias_pages, data_segs) + w->aliases.size;
	uint64_t table_end = sizeof(Elf64_Ehdr) + w->table_cap * sizeof(Elf64_Phdr);
	w->shdr_off = align_up(table_end, 8);
	w->notes_off = align_up(w->shdr_off + sizeof(Elf64_Shdr), 8);
	w->data_off = align_up(w->notes_off + w->p.notes_len, w->p.page_size);
	w->cursor = w->data_off;
}

/* The header (flagged incomplete until finish), and the table and notes up
 * to the data: on a file these blocks then exist, so that finishing only
 * overwrites and works on a full disk. */
static struct ck_error *write_front(struct ck_elf_writer *w)
{
	const struct ck_elf_writer_params *params = &w->p;
	struct ck_error *err = NULL;
	if (w->p.flattened)
		err = ck_output_begin_stream(w->p.fd, w->p.path);
	if (!err)
		err = write_elf_header(w, true);
	if (!err && !w->p.flattened) {
		for (uint64_t off = sizeof(Elf64_Ehdr); off < w->notes_off && !err;) {
			size_t n = CK_MIN((uint64_t)ZERO_BUF, w->notes_off - off);
			err = out_write(w, off, w->zero, n);
			off += n;
		}
	}
	if (!err)
		err = out_write(w, w->notes_off, params->notes, params->notes_len);
	if (!err && w->data_off > w->notes_off + params->notes_len)
		err = out_write(w, w->notes_off + params->notes_len, w->zero,
				w->data_off - w->notes_off - params->notes_len);
	return err;
}

static const struct ck_writer_ops elf_writer_ops;

struct ck_error *ck_elf_writer_create(const struct ck_elf_writer_params *params,
				      struct ck_writer **ret)
{
	struct ck_elf_writer *w = calloc(1, sizeof(*w));
	if (!w) {
		if (params->dio_fd >= 0)
			close(params->dio_fd);
		return &ck_error_nomem;
	}
	w->base.ops = &elf_writer_ops;
	w->p = *params;
	/* Page-aligned: direct writes take it as it is. */
	w->zero = aligned_alloc(DIRECT_ALIGN, ZERO_BUF);
	struct ck_error *err = NULL;
	if (!w->zero || !build_pieces(w))
		err = &ck_error_nomem;
	if (!err) {
		memset(w->zero, 0, ZERO_BUF);
		layout(w);
		err = write_front(w);
	}
	if (err) {
		elf_destroy(&w->base);
		return err;
	}
	*ret = &w->base;
	return NULL;
}

/* Physical bytes [pa, pe) (src, or zeros when NULL) into the pieces. */
static struct ck_error *add_range(struct ck_elf_writer *w, uint64_t pa, uint64_t pe,
				  const uint8_t *src)
{
	size_t nr = w->pieces.size;
	while (w->cur < nr && piece_vector_at(&w->pieces, w->cur)->end <= pa) {
		struct ck_error *err = close_piece(w);
		if (err)
			return err;
	}
	for (size_t k = w->cur; k < nr && piece_vector_at(&w->pieces, k)->paddr < pe; k++) {
		const struct piece *pc = piece_vector_at(&w->pieces, k);
		uint64_t a = CK_MAX(pa, pc->paddr), b = CK_MIN(pe, pc->end);
		if (a >= b)
			continue;
		while (w->cur < k) {
			struct ck_error *err = close_piece(w);
			if (err)
				return err;
		}
		struct ck_error *err = emit(w, a, b, src ? src + (a - pa) : NULL);
		if (err) {
			if (ck_writer_errno_full(ck_error_errno(err))) {
				__atomic_store_n(&w->full, true, __ATOMIC_RELEASE);
				w->pend_len = 0;
			}
			return err;
		}
	}
	return NULL;
}

/* Places (w->batch set) or writes the pages: the layout is decided here,
 * the same either way. */
static struct ck_error *add_pages(struct ck_elf_writer *w, const struct ck_out_page *pages,
				  size_t nr, const uint8_t *data, size_t *nr_written,
				  bool *full_ret)
{
	uint64_t ps = w->p.page_size;
	size_t data_pos = 0;
	*nr_written = 0;
	*full_ret = __atomic_load_n(&w->full, __ATOMIC_ACQUIRE);
	if (*full_ret)
		return NULL;
	for (size_t i = 0; i < nr; i++) {
		const struct ck_out_page *op = &pages[i];
		const uint8_t *src = NULL;
		uint64_t pa = op->pfn * ps, pe = pa + ps;
		struct ck_error *err;
		if (op->size) {
			if (op->size != ps || op->flags)
				return ck_error_create(CK_ERR_INVALID,
					"ELF writer: page 0x%" PRIx64 " is compressed", op->pfn);
			src = data + data_pos;
			data_pos += ps;
		} else if (w->p.exclude_zero) {
			/* A zero page at dump level bit 1: held back; cut out
			 * if its run gets long enough. */
			if (!w->pend_len || pa != w->pend_paddr + w->pend_len) {
				w->pend_paddr = pa;
				w->pend_len = 0;
			}
			w->pend_len += ps;
			(*nr_written)++;
			continue;
		}
		/* What the page costs (with a short zero run before it),
		 * partial pages counted whole: a bound is enough. */
		bool flush = w->pend_len && pa == w->pend_paddr + w->pend_len &&
			     w->pend_len < (uint64_t)ZERO_RUN_PAGES * ps;
		if (w->p.size_limit && w->cursor + ps + (flush ? w->pend_len : 0) > w->p.size_limit) {
			__atomic_store_n(&w->full, true, __ATOMIC_RELEASE);
			*full_ret = true;
			return NULL;
		}
		if (flush) {
			err = add_range(w, w->pend_paddr, pa, NULL);
			if (err) {
				*full_ret = __atomic_load_n(&w->full, __ATOMIC_ACQUIRE);
				return err;
			}
		}
		w->pend_len = 0;
		err = add_range(w, pa, pe, src);
		if (err) {
			*full_ret = __atomic_load_n(&w->full, __ATOMIC_ACQUIRE);
			return err;
		}
		(*nr_written)++;
	}
	return NULL;
}

/* A stream: the same layout, written as it goes, in stream order. */
static struct ck_error *elf_add(struct ck_writer *base, struct ck_write_batch *b,
				const struct ck_out_page *pages, size_t nr, const uint8_t *data,
				size_t *nr_written, bool *full_ret)
{
	struct ck_elf_writer *w = elf_writer(base);
	w->batch = NULL;
	return add_pages(w, pages, nr, data, nr_written, full_ret);
}

/*
 * Direct writes (O_DIRECT, -E to a file): a page copy into the page cache
 * per page and the file's inode lock per write are gone (ext4 takes it
 * shared for a direct write inside the file's size, exclusive for every
 * buffered one).  That needs the space to exist: it is preallocated
 * DIRECT_PREALLOC ahead of the data (the file's size with it; finishing
 * cuts the file back), never beyond -L, or on a disk nearly full just what
 * the batch needs.  Where that fails too (a full disk, a filesystem without
 * fallocate) writes go buffered from there on, and a full disk is met as
 * before.  Called in reserve order.
 */
static bool direct_room(struct ck_elf_writer *w, uint64_t end)
{
	if (w->p.dio_fd < 0 || w->direct_off)
		return false;
	if (end <= w->alloc_end)
		return true;
	uint64_t want = align_up(end, DIRECT_PREALLOC);
	if (w->p.size_limit)
		want = CK_MIN(want, align_up(w->p.size_limit, DIRECT_ALIGN));
	want = CK_MAX(want, end);
	if (fallocate(w->p.fd, 0, (off_t)w->alloc_end, (off_t)(want - w->alloc_end)) < 0) {
		/* A disk nearly full: what this batch needs, if it fits. */
		want = end;
		if (fallocate(w->p.fd, 0, (off_t)w->alloc_end, (off_t)(want - w->alloc_end)) < 0) {
			w->direct_off = true;
			return false;
		}
	}
	w->alloc_end = want;
	return true;
}

/* pwrite through the O_DIRECT descriptor when the write allows it. */
static struct ck_error *put_write(struct ck_elf_writer *w, bool direct, uint64_t off,
				  const uint8_t *buf, size_t len)
{
	if (direct && off % DIRECT_ALIGN == 0 && len % DIRECT_ALIGN == 0 &&
	    (uintptr_t)buf % DIRECT_ALIGN == 0 &&
	    !__atomic_load_n(&w->direct_off, __ATOMIC_RELAXED)) {
		struct ck_error *err = ck_output_write(w->p.dio_fd, false, w->p.path, off, buf, len);
		if (!err || ck_error_errno(err) != EINVAL)
			return err;
		/* the filesystem takes no direct writes after all */
		ck_error_destroy(err);
		__atomic_store_n(&w->direct_off, true, __ATOMIC_RELAXED);
	}
	return ck_output_write(w->p.fd, false, w->p.path, off, buf, len);
}

static struct ck_error *elf_batch_init(struct ck_writer *base, struct ck_write_batch *b,
				       size_t max_pages)
{
	struct elf_batch *eb = calloc(1, sizeof(*eb));
	if (!eb)
		return &ck_error_nomem;
	extent_vector_init(&eb->ext);
	*b = (struct ck_write_batch){ .priv = eb };
	return NULL;
}

static void elf_batch_deinit(struct ck_writer *base, struct ck_write_batch *b)
{
	struct elf_batch *eb = b->priv;
	if (eb)
		extent_vector_deinit(&eb->ext);
	free(eb);
	b->priv = NULL;
}

/* Lays out the pages under the caller's lock (segments, program headers,
 * the size limit) and records the chunk's bytes as extents; data is kept
 * until the put.  To a file only. */
static struct ck_error *elf_reserve(struct ck_writer *base, const struct ck_out_page *pages,
				    size_t nr, const uint8_t *data, struct ck_write_batch *b,
				    bool *full_ret)
{
	struct ck_elf_writer *w = elf_writer(base);
	struct elf_batch *eb = b->priv;
	eb->mark = (struct mark){
		.cur = w->cur, .cur_started = w->cur_started, .open = w->open, .seg = w->seg,
		.nr_phdrs = w->nr_phdrs + w->nr_pbuf, .nr_alias_segs = w->alias_segs.size,
		.cursor = w->cursor, .pend_paddr = w->pend_paddr,
	};
	eb->data_off = w->cursor;
	eb->data_len = 0;
	eb->ext.size = 0;
	b->nr = 0;
	w->batch = eb;
	struct ck_error *err = add_pages(w, pages, nr, data, &b->nr, full_ret);
	w->batch = NULL;
	eb->direct = !err && eb->data_len && direct_room(w, eb->data_off + eb->data_len);
	/* pages may all be zero pages held back */
	b->put = !err && eb->ext.size > 0;
	return err;
}

static struct ck_error *elf_put(struct ck_writer *base, const struct ck_write_batch *b,
				bool *full_ret)
{
	struct ck_elf_writer *w = elf_writer(base);
	const struct elf_batch *eb = b->priv;
	*full_ret = false;
	for (size_t i = 0; i < eb->ext.size; i++) {
		const struct extent *e = extent_vector_at(&eb->ext, i);
		struct ck_error *err = NULL;
		for (uint64_t done = 0; done < e->len && !err;) {
			size_t n = e->src ? e->len : CK_MIN(e->len - done, (uint64_t)ZERO_BUF);
			err = put_write(w, eb->direct, e->off + done, e->src ? e->src : w->zero, n);
			done += n;
		}
		if (err) {
			/* Nothing of this batch counts (the rewind op). */
			if (ck_writer_errno_full(ck_error_errno(err))) {
				__atomic_store_n(&w->full, true, __ATOMIC_RELEASE);
				*full_ret = true;
			}
			return err;
		}
	}
	/* No sync_file_range here, unlike kdump: on the bench (447 MB of
	 * -E output, ext4) starting writeback per chunk made -E 2x slower;
	 * the final fsync writes it. */
	if (eb->data_len)
		size_max(w, eb->data_off + eb->data_len);
	return NULL;
}

/* The batch's put failed: its segments and every later one are forgotten. */
static void elf_rewind(struct ck_writer *base, const struct ck_write_batch *b)
{
	struct ck_elf_writer *w = elf_writer(base);
	const struct mark *m = &((const struct elf_batch *)b->priv)->mark;
	w->cur = m->cur;
	w->cur_started = m->cur_started;
	w->open = m->open;
	w->seg = m->seg;
	/* Program headers are only appended: the first m->nr_phdrs are as
	 * they were, in the table or still in pbuf. */
	if (w->nr_phdrs >= m->nr_phdrs) {
		w->nr_phdrs = m->nr_phdrs;
		w->nr_pbuf = 0;
	} else {
		w->nr_pbuf = m->nr_phdrs - w->nr_phdrs;
	}
	w->alias_segs.size = m->nr_alias_segs;
	w->cursor = m->cursor;
	w->pend_paddr = m->pend_paddr;
	w->pend_len = 0;
	__atomic_store_n(&w->full, true, __ATOMIC_RELEASE);
}

static struct ck_error *write_elf_header(struct ck_elf_writer *w, bool incomplete)
{
	uint64_t phnum = 1 + w->nr_phdrs;
	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB,
			     EV_CURRENT, ELFOSABI_NONE },
		.e_type = htole16(ET_CORE),
		.e_machine = htole16(w->p.machine),
		.e_version = htole32(EV_CURRENT),
		.e_phoff = htole64(sizeof(Elf64_Ehdr)),
		.e_flags = htole32(incomplete ? 0x1 : 0),	/* DUMP_ELF_INCOMPLETE */
		.e_ehsize = htole16(sizeof(Elf64_Ehdr)),
		.e_phentsize = htole16(sizeof(Elf64_Phdr)),
		.e_phnum = htole16(phnum >= PN_XNUM ? PN_XNUM : phnum),
		.e_shentsize = htole16(sizeof(Elf64_Shdr)),
	};
	if (phnum >= PN_XNUM) {
		/* ELF extended numbering: the count is in section 0's sh_info. */
		Elf64_Shdr sh = { .sh_info = htole32((uint32_t)phnum) };
		struct ck_error *err = out_write(w, w->shdr_off, &sh, sizeof(sh));
		if (err)
			return err;
		eh.e_shoff = htole64(w->shdr_off);
		eh.e_shnum = htole16(1);
	}
	return out_write(w, 0, &eh, sizeof(eh));
}

/* Second mappings: the same file bytes at the other virtual address. */
static struct ck_error *add_alias_phdrs(struct ck_elf_writer *w)
{
	struct ck_error *err = NULL;
	for (size_t i = 0; i < w->aliases.size && !err; i++) {
		const struct piece *al = piece_vector_at(&w->aliases, i);
		for (size_t j = 0; j < w->alias_segs.size && !err; j++) {
			const struct seg *s = seg_vector_at(&w->alias_segs, j);
			uint64_t a = CK_MAX(al->paddr, s->paddr);
			uint64_t b = CK_MIN(al->end, s->paddr + s->filesz);
			if (a < b)
				err = add_phdr(w, a, al->vaddr + (a - al->paddr),
					       s->offset + (a - s->paddr), b - a, b - a);
		}
	}
	return err;
}

/* Closes the segments, writes the program headers and the header. */
static struct ck_error *elf_finish(struct ck_writer *base, bool incomplete)
{
	struct ck_elf_writer *w = elf_writer(base);
	struct ck_error *err = NULL;
	while (!err && w->cur < w->pieces.size)
		err = close_piece(w);
	if (!err)
		err = add_alias_phdrs(w);
	if (!err)
		err = flush_phdrs(w);
	if (err)
		return ck_error_prepend(err, "ELF program headers");
	Elf64_Phdr note = {
		.p_type = htole32(PT_NOTE),
		.p_offset = htole64(w->notes_off),
		.p_filesz = htole64(w->p.notes_len),
		.p_memsz = htole64(w->p.notes_len),
	};
	err = out_write(w, sizeof(Elf64_Ehdr), &note, sizeof(note));
	if (!err)
		err = write_elf_header(w, incomplete);
	if (err)
		return err;
	/* The file ends with the data: space preallocated for direct writes
	 * goes back, and so does the tail of a write the disk cut short. */
	if (!w->p.flattened && ftruncate(w->p.fd, (off_t)w->size) < 0)
		return ck_error_create_errno(errno, "cannot truncate '%s' to %" PRIu64 " bytes",
					     w->p.path, w->size);
	return w->p.flattened ? ck_output_end_stream(w->p.fd, w->p.path) : NULL;
}

static uint64_t elf_size(const struct ck_writer *base)
{
	return __atomic_load_n(&elf_writer(base)->size, __ATOMIC_RELAXED);
}

static uint64_t elf_segments(const struct ck_writer *base)
{
	const struct ck_elf_writer *w = elf_writer(base);
	return w->nr_phdrs + w->nr_pbuf;
}

static void elf_destroy(struct ck_writer *base)
{
	struct ck_elf_writer *w = elf_writer(base);
	piece_vector_deinit(&w->pieces);
	piece_vector_deinit(&w->aliases);
	seg_vector_deinit(&w->alias_segs);
	free(w->zero);
	if (w->p.dio_fd >= 0)
		close(w->p.dio_fd);
	free(w);
}

static const struct ck_writer_ops elf_writer_ops = {
	.name = "ELF",
	.batch_init = elf_batch_init,
	.batch_deinit = elf_batch_deinit,
	.reserve = elf_reserve,
	.put = elf_put,
	.rewind = elf_rewind,
	.add = elf_add,
	.finish = elf_finish,
	.size = elf_size,
	.segments = elf_segments,
	.destroy = elf_destroy,
};
