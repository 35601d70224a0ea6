/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The capture walk (docs/capture.md):
 *
 *   dump reader -> 2nd bitmap from struct pages (lib/filter.c)
 *     -> workers: pread kept pages of one chunk into their own input
 *        buffer, drop zero pages, compress into an output slot from a
 *        small pool; in chunk order (the one ordering point) a chunk takes
 *        its place in the output (kdump or ELF), and the thread that
 *        placed it pwrites it; to a stream (-F) it is written in turn
 *     -> this thread: filter, hand out cycles, write each cycle's bitmaps
 *     -> OUTPUT.incomplete -> rename
 *
 * Chunks are CHUNK_PFNS pfns; one input buffer per worker and nr_workers+2
 * output slots bound memory whatever the dump size.  A worker that
 * finishes a chunk out of turn parks its slot and takes the next chunk;
 * whoever places the chunk whose turn it is also places the parked chunks
 * that follow it.  Nobody waits for the turn, so N workers scale until the
 * disk or the input saturates.
 * Each worker opens the input on its own: dump readers keep per-open
 * scratch state and are not shared between threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <elf.h>

#include "capture/capture.h"
#include "dump/kdump_format.h"

#define CHUNK_PFNS 512u	/* multiple of 64: a chunk owns its bitmap words */
/* pfns per bitmap cycle: 16 GiB of 4 KiB pages, 512 KiB per bitmap. */
#define CYCLE_PFNS (1ull << 22)

/* Running totals of what the writer placed, in chunk order. */
struct totals {
	uint64_t kept;			/* pages with a descriptor / in a segment */
	uint64_t nonzero;		/* of which not zero pages */
};

struct capture {
	const char *input;
	const struct ck_capture_opts *opts;
	uint32_t page_size;
	uint64_t max_pfn;
	uint64_t nr_chunks;
	uint64_t *bitmap2;		/* the current cycle's 2nd bitmap */
	uint64_t cycle_start;		/* its first pfn */
	uint32_t flag;			/* CK_KDUMP_COMPRESSED_* of the codec */
	enum ck_codec codec;
	bool map_input;			/* workers map the input in windows */
	struct ck_kdump_writer *kw;	/* one of these two */
	struct ck_elf_writer *ew;
	/* Workers write their own chunks (a file, kdump or ELF).  To a
	 * stream (-F), a worker writes its chunk whole while it holds the
	 * turn. */
	bool parallel_write;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t next_chunk;		/* next chunk a worker takes */
	uint64_t ready_chunks;		/* chunks below this have their bitmap */
	uint64_t turn;			/* next chunk to be placed in the output */
	uint64_t done;			/* chunks finished (written or dropped) */
	struct totals tot;		/* placed so far */
	uint64_t zero, unreadable;	/* pages seen by finished chunks */
	/* The output stops short (size limit, full disk): at the earliest
	 * chunk that did not make it whole, cut_pfn its first page missing,
	 * cut_tot what lies before. */
	bool cut;
	uint64_t cut_chunk, cut_pfn;
	struct totals cut_tot;
	int full_errno;
	bool stop;			/* a fatal error: everyone leaves */
	struct ck_error *err;
	/* The output slots: nr_slots of them, more than workers, so that a
	 * worker that finished a chunk out of turn parks it and goes on
	 * with the next chunk instead of waiting. */
	struct chunk_buf *slots;
	unsigned int nr_slots;
	struct chunk_buf *free_slots;	/* list through next */
	struct chunk_buf **parked;	/* [chunk % nr_slots]: done, not placed */
};

/* An output slot: one chunk's output, at most CHUNK_PFNS pages.  Taken
 * with the chunk, back to the pool once the chunk is written. */
struct chunk_buf {
	uint64_t chunk;
	struct ck_out_page *pages;
	size_t nr_pages;
	uint8_t *data;
	size_t data_len;
	struct ck_kdump_page_desc *descs;
	uint64_t zero, unreadable;
	struct ck_kdump_batch batch;	/* its place, when reserved (kdump) */
	struct ck_elf_batch ebatch;	/* the same for ELF */
	struct totals before;		/* what was placed before it */
	struct chunk_buf *next;
};

static bool page_is_zero(const uint8_t *p, size_t len)
{
	const uint64_t *w = (const uint64_t *)p;
	uint64_t acc = 0;
	for (size_t i = 0; i < len / 8; i += 8) {
		acc |= w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] |
		       w[i + 6] | w[i + 7];
		if (acc)
			return false;
	}
	return true;
}

static uint32_t codec_flag(enum ck_codec c)
{
	switch (c) {
	case CK_CODEC_ZLIB: return CK_KDUMP_COMPRESSED_ZLIB;
	case CK_CODEC_LZO: return CK_KDUMP_COMPRESSED_LZO;
	case CK_CODEC_SNAPPY: return CK_KDUMP_COMPRESSED_SNAPPY;
	case CK_CODEC_ZSTD: return CK_KDUMP_COMPRESSED_ZSTD;
	default: return 0;
	}
}

/* Bitmap word w (pfns 64w ..) limited to the pfns [lo, hi). */
static uint64_t range_word(uint64_t x, uint64_t w, uint64_t lo, uint64_t hi)
{
	if (w == lo / 64)
		x &= ~0ull << (lo % 64);
	if (w == (hi - 1) / 64 && hi % 64)
		x &= (1ull << (hi % 64)) - 1;
	return x;
}

/* A worker's view of the input through mmap: one window at a time. */
struct input_window {
	bool on;			/* mapping works (else pread) */
	const uint8_t *base;		/* mapped file [off, off + len) */
	uint64_t off, len;
};

/* Input windows: 64 MiB of the file, so that a worker maps once per 32
 * chunks of 2 MiB; for /proc/vmcore a mapping costs page table entries
 * only (the kernel maps the old memory at mmap time), 128 KiB of them. */
#define WINDOW_BYTES (64ull << 20)

/* Points *ret at len bytes of the input at file offset off through the
 * worker's window, remapping it if needed.  False: read it instead. */
static bool window_get(struct ck_dump *dump, struct input_window *win, uint32_t ps,
		       uint64_t off, uint64_t len, const uint8_t **ret)
{
	if (!win->on || off % ps)
		return false;
	if (!win->base || off < win->off || off + len > win->off + win->len) {
		if (win->base)
			munmap((void *)win->base, win->len);
		win->base = NULL;
		uint64_t size = dump->file->real_size;
		uint64_t a = off / WINDOW_BYTES * WINDOW_BYTES;
		uint64_t b = CK_MIN(a + WINDOW_BYTES, (size + ps - 1) / ps * ps);
		if (off + len > b) {	/* a run across the window's end */
			a = off;
			b = off + len;
		}
		void *m = mmap(NULL, b - a, PROT_READ, MAP_SHARED | MAP_POPULATE, dump->file->fd,
			       (off_t)a);
		if (m == MAP_FAILED) {
			win->on = false;	/* pread from now on */
			return false;
		}
		win->base = m;
		win->off = a;
		win->len = b - a;
	}
	*ret = win->base + (off - win->off);
	return true;
}

/* The run of n pages of pfn first, stored back to back at file offset off:
 * mapped through the worker's window, or read into in (the chunk's input
 * buffer); their addresses go to src, and they are marked had. */
static void run_read(struct ck_dump *dump, struct input_window *win, uint32_t ps,
		     uint64_t start, uint8_t *in, const uint8_t **src, uint64_t *had,
		     uint64_t first, uint64_t off, uint64_t n)
{
	if (!n)
		return;
	uint64_t k = first - start;
	const uint8_t *p;
	if (win->base && (off < win->off || off + n * ps > win->off + win->len)) {
		/* The window moves on: pages of this chunk seen through it
		 * are copied to the input buffer first. */
		for (uint64_t i = 0; i < k; i++)
			if ((had[i / 64] & (1ull << (i % 64))) && src[i] >= win->base &&
			    src[i] < win->base + win->len) {
				memcpy(in + i * ps, src[i], ps);
				src[i] = in + i * ps;
			}
	}
	if (!window_get(dump, win, ps, off, n * ps, &p)) {
		struct ck_error *err = ck_file_read(dump->file, off, in + k * ps, n * ps);
		if (err) {
			/* read_page tries again page by page and says which */
			ck_error_destroy(err);
			return;
		}
		p = in + k * ps;
	}
	for (uint64_t i = k; i < k + n; i++, p += ps) {
		src[i] = p;
		had[i / 64] |= 1ull << (i % 64);
	}
}

/* Fills slot s with chunk c: the worker's whole job but placing it.  in
 * is the worker's input buffer, page its scratch page. */
static void chunk_process(struct capture *cap, struct ck_dump *dump, struct ck_encoder *enc,
			  struct input_window *win, uint8_t *in, uint8_t *page,
			  struct chunk_buf *s, uint64_t c)
{
	uint32_t ps = cap->page_size;
	int level = cap->opts->dump_level;
	uint64_t start = c * CHUNK_PFNS, end = CK_MIN(start + CHUNK_PFNS, cap->max_pfn);
	s->nr_pages = 0;
	s->data_len = 0;
	s->zero = s->unreadable = 0;
	uint64_t *bm = cap->bitmap2, w0 = cap->cycle_start / 64;
	/* The pfns this output saves: one file of a split dump saves its
	 * range only, the 2nd bitmap keeps the others'. */
	uint64_t lo = start, hi = end;
	if (cap->opts->split) {
		lo = CK_MAX(lo, cap->opts->split_start);
		hi = CK_MIN(hi, cap->opts->split_end);
		if (lo >= hi)
			return;
	}
	/* Kept pages that lie back to back in the input file are read with
	 * one pread per run, or seen through the worker's window of
	 * /proc/vmcore (an ELF vmcore stores a PT_LOAD's pages in pfn
	 * order): a syscall per page costs as much as lzo compressing it. */
	uint64_t had[CHUNK_PFNS / 64] = {0};
	const uint8_t *srcs[CHUNK_PFNS];
	if (dump->ops->page_offset) {
		uint64_t first = 0, off0 = 0, n = 0;
		for (uint64_t w = lo / 64; w * 64 < hi; w++) {
			for (uint64_t word = range_word(bm[w - w0], w, lo, hi); word;
			     word &= word - 1) {
				uint64_t pfn = w * 64 + __builtin_ctzll(word), off;
				if (!dump->ops->page_offset(dump, pfn, &off)) {
					run_read(dump, win, ps, start, in, srcs, had, first, off0, n);
					n = 0;
					continue;
				}
				if (n && pfn == first + n && off == off0 + n * ps) {
					n++;
					continue;
				}
				run_read(dump, win, ps, start, in, srcs, had, first, off0, n);
				first = pfn;
				off0 = off;
				n = 1;
			}
		}
		run_read(dump, win, ps, start, in, srcs, had, first, off0, n);
	}
	for (uint64_t w = lo / 64; w * 64 < hi; w++) {
		uint64_t word = range_word(bm[w - w0], w, lo, hi);
		while (word) {
			unsigned b = __builtin_ctzll(word);
			word &= word - 1;
			uint64_t pfn = w * 64 + b, k = pfn - start;
			const uint8_t *src = srcs[k];
			if (!(had[k / 64] & (1ull << (k % 64)))) {
				struct ck_error *err = dump->ops->read_page(dump, pfn, page);
				if (err) {
					/* Recorded, not fatal: the page is left out. */
					ck_error_destroy(err);
					bm[w - w0] &= ~(1ull << b);
					s->unreadable++;
					continue;
				}
				src = page;
			}
			struct ck_out_page *op = &s->pages[s->nr_pages];
			op->pfn = pfn;
			if (page_is_zero(src, ps)) {
				/* Like makedumpfile, a zero page stays in the 2nd
				 * bitmap with a descriptor of the one shared zero
				 * page: readers see zeros, not a hole, and the page
				 * costs 24 bytes.  Level bit 1 only counts them. */
				if (level & CK_DL_ZERO)
					s->zero++;
				op->size = 0;
				op->flags = 0;
				s->nr_pages++;
				continue;
			}
			uint8_t *dst = s->data + s->data_len;
			size_t n = ck_encoder_compress(enc, src, dst);
			if (n) {
				op->size = n;
				op->flags = cap->flag;
			} else {
				memcpy(dst, src, ps);
				op->size = ps;
				op->flags = 0;
			}
			s->data_len += op->size;
			s->nr_pages++;
		}
	}
}

struct worker {
	struct capture *cap;
	pthread_t thread;
};

/* Records that the output stops short at chunk c (the earliest such chunk
 * wins): pages from cut_pfn on are not in the dump.  Called locked. */
static void cut_at(struct capture *cap, uint64_t c, uint64_t pfn, struct totals before)
{
	if (cap->cut && cap->cut_chunk <= c)
		return;
	cap->cut = true;
	cap->cut_chunk = c;
	cap->cut_pfn = pfn;
	cap->cut_tot = before;
}

static uint64_t count_nonzero(const struct ck_out_page *pages, size_t n)
{
	uint64_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += pages[i].size != 0;
	return k;
}

/* Counts the n pages of chunk c that got a place in the output; if the
 * output is full, the dump is cut right after them. */
static void account_placed(struct capture *cap, const struct chunk_buf *s, uint64_t c,
			   size_t n, bool full, uint64_t end_pfn)
{
	cap->tot.kept += n;
	cap->tot.nonzero += count_nonzero(s->pages, n);
	if (full)
		cut_at(cap, c, n < s->nr_pages ? s->pages[n].pfn : end_pfn, cap->tot);
}

/*
 * Places slot s, whose chunk's turn it is, in the output.  Called locked.
 * A file: reserves its place (kdump: data offset, descriptor slots; ELF:
 * segments, program headers, file offset; -L applied) and passes the turn
 * on; returns true when s has a batch to put, which the caller writes
 * unlocked (chunk_put), in parallel with other chunks' puts.
 * A stream (-F): writes the whole chunk, unlocked but still holding the
 * turn, then passes it on; returns false.
 */
static bool chunk_place(struct capture *cap, struct chunk_buf *s)
{
	uint64_t c = s->chunk;
	uint64_t end_pfn = CK_MIN((c + 1) * CHUNK_PFNS, cap->max_pfn);
	struct ck_error *err = NULL;
	bool full = false, put = false;
	size_t n = 0;

	s->before = cap->tot;
	s->batch.nr = 0;
	s->ebatch.nr = s->ebatch.nr_ext = 0;
	if (cap->cut || cap->stop) {
		/* An earlier chunk did not fit: nothing after it counts. */
		cap->turn = c + 1;
		return false;
	}
	if (cap->parallel_write) {
		if (cap->ew) {
			err = ck_elf_writer_reserve(cap->ew, s->pages, s->nr_pages, s->data,
						    &s->ebatch, &full);
			n = s->ebatch.nr;
		} else {
			err = ck_kdump_writer_reserve(cap->kw, s->pages, s->nr_pages, s->descs,
						      &s->batch, &full);
			n = s->batch.nr;
		}
		if (!err) {
			account_placed(cap, s, c, n, full, end_pfn);
			/* ELF: pages may all be zero pages held back */
			put = cap->ew ? s->ebatch.nr_ext > 0 : n > 0;
		}
		cap->turn = c + 1;
	} else {
		pthread_mutex_unlock(&cap->lock);
		if (cap->ew)
			err = ck_elf_writer_add(cap->ew, s->pages, s->nr_pages, s->data, &n, &full);
		else
			err = ck_kdump_writer_add(cap->kw, s->pages, s->nr_pages, s->data, &n, &full);
		pthread_mutex_lock(&cap->lock);
		if (full) {
			if (err) {
				cap->full_errno = ck_error_errno(err);
				ck_error_destroy(err);
				err = NULL;
			}
		}
		if (!err)
			account_placed(cap, s, c, n, full, end_pfn);
		cap->turn = c + 1;
	}
	if (err && !cap->err) {
		cap->err = err;
		cap->stop = true;
	} else if (err) {
		ck_error_destroy(err);
	}
	return put;
}

/* Writes the data and descriptors of a reserved slot.  Called locked;
 * unlocks while writing. */
static void chunk_put(struct capture *cap, struct chunk_buf *s)
{
	pthread_mutex_unlock(&cap->lock);
	bool put_full = false;
	struct ck_error *err = cap->ew ? ck_elf_writer_put(cap->ew, &s->ebatch, &put_full)
				       : ck_kdump_writer_put(cap->kw, &s->batch, s->descs, s->data,
							     &put_full);
	pthread_mutex_lock(&cap->lock);
	if (put_full) {
		/* Disk full: this chunk is lost whole, and so is everything
		 * placed after it; chunks before it are still being written
		 * and keep their pages.  The cut moves here even when the
		 * size limit cut this same chunk: none of its pages made it. */
		cap->full_errno = ck_error_errno(err);
		ck_error_destroy(err);
		err = NULL;
		if (!cap->cut || s->chunk <= cap->cut_chunk) {
			cap->cut = false;
			cut_at(cap, s->chunk,
			       s->nr_pages ? s->pages[0].pfn : s->chunk * CHUNK_PFNS, s->before);
			/* ELF: the segments laid out from this chunk on go. */
			if (cap->ew)
				ck_elf_writer_rewind(cap->ew, &s->ebatch);
		}
	}
	if (err && !cap->err) {
		cap->err = err;
		cap->stop = true;
	} else if (err) {
		ck_error_destroy(err);
	}
}

/* Slot s's chunk is in the output (or dropped): count it and give the slot
 * back.  Called locked. */
static void chunk_done(struct capture *cap, struct chunk_buf *s)
{
	if (!cap->cut || s->chunk <= cap->cut_chunk) {
		cap->zero += s->zero;
		cap->unreadable += s->unreadable;
	}
	cap->done++;
	s->next = cap->free_slots;
	cap->free_slots = s;
}

/*
 * The one ordering point.  Called locked with slot s's chunk processed.
 * Out of turn, s is parked and the worker goes on with another chunk.  In
 * turn, the worker places s and then every parked chunk that follows it,
 * in chunk order, and writes (puts) what it placed, outside the lock.
 */
static void chunk_finish(struct capture *cap, struct chunk_buf *s)
{
	if (cap->turn != s->chunk) {
		cap->parked[s->chunk % cap->nr_slots] = s;
		return;
	}
	struct chunk_buf *puts = NULL, **tail = &puts;
	for (;;) {
		if (chunk_place(cap, s)) {
			s->next = NULL;
			*tail = s;
			tail = &s->next;
		} else {
			chunk_done(cap, s);
		}
		struct chunk_buf **p = &cap->parked[cap->turn % cap->nr_slots];
		if (cap->stop || !*p || (*p)->chunk != cap->turn)
			break;
		s = *p;
		*p = NULL;
	}
	pthread_cond_broadcast(&cap->cond);
	while (puts) {
		s = puts;
		puts = s->next;
		chunk_put(cap, s);
		chunk_done(cap, s);
		pthread_cond_broadcast(&cap->cond);
	}
}

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	struct capture *cap = wk->cap;
	struct ck_dump *dump = NULL;
	struct ck_encoder *enc = NULL;
	uint8_t *page = NULL, *in = NULL;
	struct ck_error *err = ck_dump_open(cap->input, &dump);
	if (!err)
		err = ck_encoder_create(cap->codec, cap->page_size, &enc);
	if (!err) {
		page = aligned_alloc(64, cap->page_size);
		/* The chunk's input, read in runs: needed only while the chunk
		 * is compressed, so it stays with the worker. */
		in = aligned_alloc(64, (size_t)CHUNK_PFNS * cap->page_size);
		if (!page || !in)
			err = &ck_error_nomem;
	}
	struct input_window win = { .on = cap->map_input };
	if (!err && dump->file->map) {
		/* Read the input with pread, not through the reader's map of
		 * the whole file: a mapping costs a page fault per few pages,
		 * keeps RSS growing until it is dropped, and dropping it
		 * (munmap, MADV_DONTNEED) flushes the TLB of every CPU running
		 * a worker.  pread copies from the page cache, nothing stays
		 * mapped, and it is what /proc/vmcore serves best. */
		munmap((void *)dump->file->map, dump->file->real_size);
		dump->file->map = NULL;
	}

	pthread_mutex_lock(&cap->lock);
	if (err) {
		if (!cap->err)
			cap->err = err;
		else
			ck_error_destroy(err);
		cap->stop = true;
		pthread_cond_broadcast(&cap->cond);
	}
	for (;;) {
		/* A chunk whose bitmap is ready, and a free slot for it.
		 * Chunks are taken in order, each with its slot, so the chunk
		 * whose turn it is always has one and is being processed. */
		while (!cap->stop && cap->next_chunk < cap->nr_chunks &&
		       (cap->next_chunk >= cap->ready_chunks || !cap->free_slots))
			pthread_cond_wait(&cap->cond, &cap->lock);
		if (cap->stop || cap->next_chunk >= cap->nr_chunks)
			break;
		uint64_t c = cap->next_chunk++;
		struct chunk_buf *s = cap->free_slots;
		cap->free_slots = s->next;
		s->chunk = c;
		bool skip = cap->cut;
		pthread_mutex_unlock(&cap->lock);
		if (skip)
			s->nr_pages = s->data_len = s->zero = s->unreadable = 0;
		else
			chunk_process(cap, dump, enc, &win, in, page, s, c);
		pthread_mutex_lock(&cap->lock);
		if (cap->stop)
			break;
		chunk_finish(cap, s);
	}
	pthread_mutex_unlock(&cap->lock);
	if (win.base)
		munmap((void *)win.base, win.len);
	free(page);
	free(in);
	ck_encoder_destroy(enc);
	ck_dump_destroy(dump);
	return NULL;
}

/* Clears bits [from, nbits) of a bitmap. */
static void clear_from(uint64_t *bm, uint64_t from, uint64_t nbits)
{
	for (; from < nbits && from % 64; from++)
		bm[from / 64] &= ~(1ull << (from % 64));
	for (uint64_t w = from / 64; w * 64 < nbits; w++)
		bm[w] = 0;
}

static uint64_t popcount_words(const uint64_t *bm, uint64_t nbits)
{
	uint64_t n = 0;
	for (uint64_t w = 0; w < (nbits + 63) / 64; w++)
		n += __builtin_popcountll(bm[w]);
	return n;
}

/* Runs of set bits, for the ELF writer's program header bound. */
static uint64_t count_runs(const uint64_t *bm, uint64_t nbits)
{
	uint64_t runs = 0;
	bool prev = false;
	for (uint64_t w = 0; w < (nbits + 63) / 64; w++) {
		uint64_t x = bm[w];
		/* rising edges inside the word, and at its bit 0 */
		runs += __builtin_popcountll(x & ~(x << 1 | (prev ? 1 : 0)));
		prev = x >> 63;
	}
	return runs;
}

/* The header's utsname: the crashed kernel's (crash and libkdumpfile read
 * the machine from it).  Leaves uts untouched on failure. */
static void read_utsname(struct ck_kernel *kernel, char uts[6][65])
{
	struct ck_utsname u;
	struct ck_error *err = ck_kernel_utsname(kernel, &u);
	if (err) {
		ck_error_destroy(err);
		return;
	}
	const char *f[6] = { u.sysname, u.nodename, u.release, u.version, u.machine, u.domainname };
	for (int i = 0; i < 6; i++)
		memcpy(uts[i], f[i], 65);
}

/* The two bitmaps of the pfns [start, end): 1st = the memory the dump
 * describes, 2nd = the pages its reader has, minus what the filter
 * excludes.  Bit i stands for pfn start + i. */
/* Pfns per cycle: as asked (0: CYCLE_PFNS), whole chunks, no more than
 * the machine needs. */
static uint64_t cycle_size(uint64_t want, uint64_t max_pfn)
{
	uint64_t cycle = want ? want : CYCLE_PFNS;
	cycle = (cycle + CHUNK_PFNS - 1) / CHUNK_PFNS * CHUNK_PFNS;
	cycle = CK_MIN(cycle, (max_pfn + CHUNK_PFNS - 1) / CHUNK_PFNS * CHUNK_PFNS);
	return CK_MAX(cycle, (uint64_t)CHUNK_PFNS);
}

static struct ck_error *build_cycle(struct ck_dump *dump, struct ck_filter *filter, int level,
				    uint64_t start, uint64_t end, uint64_t *bm1,
				    uint64_t *bm2, uint64_t counts[CK_PAGE_NR_CLASSES],
				    uint64_t *unreadable)
{
	ck_dump_page_bitmaps(dump, start, end, bm1, bm2);
	/* absent: unreadable, or excluded in the input */
	*unreadable += popcount_words(bm1, end - start) - popcount_words(bm2, end - start);
	struct ck_error *err = NULL;
	if (filter)
		err = ck_filter_exclude_range(filter, level, bm2, start, end, counts);
	/* The filter read this cycle's mem_map through the main reader's
	 * map: drop it, as the workers do with the pages they read. */
	if (dump->file->map)
		madvise((void *)dump->file->map, dump->file->real_size, MADV_DONTNEED);
	return err;
}

struct ck_error *ck_capture(const char *input, const char *output,
			    const struct ck_capture_opts *opts, struct ck_capture_stats *stats)
{
	struct ck_error *err = NULL;
	struct ck_dump *dump = NULL;
	struct ck_kernel *kernel = NULL;
	struct ck_filter *filter = NULL;
	struct ck_kdump_writer *kw = NULL;
	struct ck_elf_writer *ew = NULL;
	uint64_t *bm1 = NULL, *bm2 = NULL;
	char *tmp_path = NULL;
	int fd = -1, dio_fd = -1;
	struct capture cap = { .input = input, .opts = opts };
	struct worker *workers = NULL;
	unsigned int nr_workers = 0, started = 0;
	bool incomplete = false, sync_made = false;
	int full_errno = 0;

	memset(stats, 0, sizeof(*stats));
	if (opts->dump_level < 0 || opts->dump_level > 31)
		return ck_error_create(CK_ERR_INVALID, "dump level %d is not in 0..31",
				       opts->dump_level);
	if (opts->split && (opts->elf || opts->flattened || opts->split_start > opts->split_end))
		return ck_error_create(CK_ERR_INVALID,
				       "a split dump is kdump-compressed files, not -E or -F");

	err = ck_dump_open(input, &dump);
	if (err)
		return err;
	const struct ck_dump_info *info = ck_dump_info(dump);
	cap.page_size = info->page_size;
	/* /proc/vmcore reads a page at a time through a temporary kernel
	 * mapping; its mmap maps the old memory directly. */
	if (opts->read == CK_CAPTURE_READ_MMAP) {
		cap.map_input = true;
	} else if (opts->read == CK_CAPTURE_READ_AUTO) {
		cap.map_input = dump->file->procfs;
	}
	cap.max_pfn = info->max_pfn;
	cap.codec = opts->elf ? CK_CODEC_NONE : opts->codec;
	cap.flag = codec_flag(cap.codec);
	stats->max_pfn = cap.max_pfn;

	/* Bitmaps cover one cycle of pfns at a time, so their memory does not
	 * grow with the machine (docs/capture.md). */
	uint64_t cycle = cycle_size(opts->cycle_pfns, cap.max_pfn);
	bm1 = ck_calloc_array(cycle / 64, 8);
	bm2 = ck_calloc_array(cycle / 64, 8);
	if (!bm1 || !bm2) {
		err = &ck_error_nomem;
		goto out;
	}
	stats->bitmap_bytes = 2 * cycle / 8;

	/* Filtering by struct page, when the level asks for more than zero
	 * pages.  Without VMCOREINFO or with an unknown layout, say so and
	 * keep the pages. */
	char uts[6][65] = {{0}};
	uint64_t phys_base = 0;
	err = ck_kernel_create(dump, &kernel);
	if (err) {
		snprintf(stats->filter_note, sizeof(stats->filter_note), "%s: only zero pages filtered",
			 ck_error_message(err));
		ck_error_destroy(err);
		err = NULL;
	} else {
		read_utsname(kernel, uts);
		ck_error_destroy(ck_kernel_phys_base(kernel, &phys_base));
		if (opts->dump_level & ~CK_DL_ZERO) {
			err = ck_filter_create(kernel, &filter);
			if (err) {
				snprintf(stats->filter_note, sizeof(stats->filter_note), "%s",
					 ck_error_message(err));
				ck_error_destroy(err);
				err = NULL;
			}
		}
	}

	/* Pass 1: count what will be written (the kdump descriptor area and
	 * the ELF program header table are sized before the first page). */
	uint64_t nr_dumpable = 0, runs = 0;
	if (filter)
		ck_filter_rewind(filter);
	for (uint64_t cs = 0; cs < cap.max_pfn; cs += cycle) {
		uint64_t ce = CK_MIN(cs + cycle, cap.max_pfn);
		err = build_cycle(dump, filter, opts->dump_level, cs, ce, bm1, bm2,
				  stats->excluded, info->truncated ? &stats->unreadable
								   : &stats->absent);
		if (err) {
			err = ck_error_prepend(err, "filtering '%s'", input);
			goto out;
		}
		stats->pages_ram += popcount_words(bm1, ce - cs);
		nr_dumpable += popcount_words(bm2, ce - cs);
		runs += count_runs(bm2, ce - cs);
	}
	if (filter) {
		const char *why;
		int ok = ck_filter_supported(filter, &why);
		if (why || (opts->dump_level & ~ok))
			snprintf(stats->filter_note, sizeof(stats->filter_note), "%s",
				 why ? why : "some classes kept");
	}
	/* Output */
	if (opts->flattened && opts->out_fd >= 0) {
		fd = opts->out_fd;
	} else {
		struct stat st;
		if (!opts->force && stat(output, &st) == 0) {
			err = ck_error_create(CK_ERR_INVALID,
				"'%s' exists (use -f to overwrite it)", output);
			goto out;
		}
		tmp_path = ck_strdup_printf("%s.incomplete", output);
		if (!tmp_path) {
			err = &ck_error_nomem;
			goto out;
		}
		fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0) {
			err = ck_error_create_errno(errno, "cannot create '%s'", tmp_path);
			goto out;
		}
	}
	const char *out_name = tmp_path ? tmp_path : (output ? output : "stdout");
	if (opts->elf) {
		const struct ck_elf_load *loads;
		uint16_t machine = 0;
		size_t nr_loads = ck_dump_loads(dump, &loads, &machine);
		const struct ck_mem_range *ranges;
		size_t nr_ranges;
		ck_dump_mem_ranges(dump, &ranges, &nr_ranges);
		struct ck_elf_load *made_loads = NULL;
		if (!nr_loads && kernel) {
			/* A kdump or flattened input has no program headers:
			 * the kernel says where its image and the direct map
			 * are, so that gdb can read the output by symbol.  An
			 * arch that cannot say keeps virtual addresses 0. */
			struct ck_error *e = ck_kernel_elf_loads(kernel, ranges, nr_ranges,
								 &made_loads, &nr_loads);
			if (e)
				nr_loads = 0;
			ck_error_destroy(e);
			loads = made_loads;
		}
		struct ck_elf_writer_params ep = {
			.fd = fd,
			.path = out_name,
			.flattened = opts->flattened,
			.size_limit = opts->size_limit,
			.page_size = cap.page_size,
			.machine = machine ? machine : ck_elf_machine(info->arch),
			.loads = loads,
			.nr_loads = nr_loads,
			.ranges = ranges,
			.nr_ranges = nr_ranges,
			.max_runs = runs + (opts->dump_level & CK_DL_ZERO ? (nr_dumpable + 1) / 2 : 0),
			.exclude_zero = opts->dump_level & CK_DL_ZERO,
			.notes = dump->notes_buf,
			.notes_len = dump->notes_len,
			.dio_fd = -1,
		};
		/* Whole pages go to the file with O_DIRECT where it takes
		 * them (lib/elf_write.c, direct_room). */
		if (tmp_path && !opts->flattened)
			dio_fd = open(tmp_path, O_WRONLY | O_DIRECT | O_CLOEXEC);
		ep.dio_fd = dio_fd;
		err = ck_elf_writer_create(&ep, &ew);
		free(made_loads);
	} else {
		struct ck_kdump_writer_params wp = {
			.fd = fd,
			.path = out_name,
			.flattened = opts->flattened,
			.size_limit = opts->size_limit,
			.page_size = cap.page_size,
			.max_mapnr = cap.max_pfn,
			.nr_dumpable = nr_dumpable,
			.compression = cap.flag,
			.dump_level = opts->dump_level,
			.need_zero_page = true,
			.uts = { uts[0][0] ? uts[0] : "Linux", uts[1],
				 uts[2][0] ? uts[2] : (kernel ? ck_kernel_vmcoreinfo_str(kernel, "OSRELEASE") : NULL),
				 uts[3], uts[4][0] ? uts[4] : info->arch, uts[5] },
			.nr_cpus = info->nr_cpus,
			.phys_base = phys_base,
			.notes = dump->notes_buf,
			.notes_len = dump->notes_len,
			.vmcoreinfo = dump->vmcoreinfo,
			.vmcoreinfo_len = dump->vmcoreinfo ? dump->vmcoreinfo_len : 0,
			.split = opts->split,
			.start_pfn = opts->split_start,
			.end_pfn = opts->split_end,
			.tv_sec = opts->tv_sec,
			.tv_usec = opts->tv_usec,
		};
		err = ck_kdump_writer_create(&wp, &kw);
	}
	if (err)
		goto out;

	/* Workers */
	cap.nr_chunks = (cap.max_pfn + CHUNK_PFNS - 1) / CHUNK_PFNS;
	nr_workers = opts->nr_threads;
	if (!nr_workers) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		nr_workers = n > 0 ? (unsigned)n : 1;
	}
	nr_workers = CK_MIN(nr_workers, 64u);
	stats->threads = nr_workers;
	workers = ck_calloc_array(nr_workers, sizeof(*workers));
	if (!workers) {
		err = &ck_error_nomem;
		goto out;
	}
	/* The output slots: a chunk's pages, descriptors and compressed data
	 * each (data bounded by CHUNK_PFNS raw pages; only what a chunk uses
	 * is touched).  Two more than workers: a worker that finished out of
	 * turn parks its slot and takes the next chunk with a free one. */
	cap.nr_slots = nr_workers + 2;
	cap.slots = ck_calloc_array(cap.nr_slots, sizeof(*cap.slots));
	cap.parked = ck_calloc_array(cap.nr_slots, sizeof(*cap.parked));
	if (!cap.slots || !cap.parked) {
		err = &ck_error_nomem;
		goto out;
	}
	for (unsigned int i = 0; i < cap.nr_slots; i++) {
		struct chunk_buf *s = &cap.slots[i];
		s->pages = ck_calloc_array(CHUNK_PFNS, sizeof(*s->pages));
		s->descs = ck_calloc_array(CHUNK_PFNS, sizeof(*s->descs));
		/* page-aligned: -E writes it with O_DIRECT */
		s->data = aligned_alloc(4096, (size_t)CHUNK_PFNS * cap.page_size);
		if (!s->pages || !s->descs || !s->data) {
			err = &ck_error_nomem;
			goto out;
		}
		s->next = cap.free_slots;
		cap.free_slots = s;
	}
	cap.kw = kw;
	cap.ew = ew;
	cap.parallel_write = !opts->flattened;
	{
		struct ck_encoder *probe;
		err = ck_encoder_create(cap.codec, cap.page_size, &probe);
		if (err)
			goto out;
		stats->encoder = opts->elf ? "elf" : ck_encoder_backend(probe);
		ck_encoder_destroy(probe);
	}
	pthread_mutex_init(&cap.lock, NULL);
	pthread_cond_init(&cap.cond, NULL);
	sync_made = true;
	for (; started < nr_workers; started++) {
		workers[started].cap = &cap;
		int e = pthread_create(&workers[started].thread, NULL, worker_main,
				       &workers[started]);
		if (e) {
			err = ck_error_create_errno(e, "cannot start worker thread");
			break;
		}
	}

	/* Pass 2: cycle by cycle, the same bitmaps again, then the workers
	 * over the cycle's chunks, then its bitmaps to the file once every
	 * chunk of it is written (workers clear unreadable pages in bm2). */
	uint64_t dummy[CK_PAGE_NR_CLASSES], dummy_unreadable = 0;
	bool stopped = false;
	uint64_t cs = 0;
	if (filter && cycle < cap.max_pfn)
		ck_filter_rewind(filter);
	for (; cs < cap.max_pfn && !err && started; cs += cycle) {
		uint64_t ce = CK_MIN(cs + cycle, cap.max_pfn);
		/* A machine of one cycle (16 GiB) still has pass 1's bitmaps:
		 * the workers start without a second filter run. */
		if (cycle < cap.max_pfn)
			err = build_cycle(dump, filter, opts->dump_level, cs, ce,
					  bm1, bm2, dummy, &dummy_unreadable);
		if (err)
			break;
		uint64_t c1 = (ce + CHUNK_PFNS - 1) / CHUNK_PFNS;
		pthread_mutex_lock(&cap.lock);
		cap.bitmap2 = bm2;
		cap.cycle_start = cs;
		if (opts->split && (ce <= opts->split_start || cs >= opts->split_end)) {
			/* A split file saves no page of this cycle, only its
			 * bitmaps: its chunks are done, no worker needs to look
			 * (the previous cycle's chunks are all done). */
			cap.next_chunk = cap.turn = cap.done = c1;
		}
		cap.ready_chunks = c1;
		pthread_cond_broadcast(&cap.cond);
		uint64_t seen = cap.done;
		while (cap.done < c1 && !cap.stop) {
			pthread_cond_wait(&cap.cond, &cap.lock);
			if (opts->progress && cap.done != seen) {
				seen = cap.done;
				const struct totals *t = cap.cut ? &cap.cut_tot : &cap.tot;
				stats->kept = t->kept;
				stats->bytes_in = t->nonzero * cap.page_size;
				stats->pages_done = CK_MIN(cap.done * CHUNK_PFNS, cap.max_pfn);
				stats->bytes_out = kw ? ck_kdump_writer_size(kw) : ck_elf_writer_size(ew);
				pthread_mutex_unlock(&cap.lock);
				opts->progress(stats, opts->progress_arg);
				pthread_mutex_lock(&cap.lock);
			}
		}
		stopped = cap.stop || cap.cut;
		pthread_mutex_unlock(&cap.lock);
		if (stopped)
			break;
		if (kw)
			err = ck_kdump_writer_bitmaps(kw, cs, ce - cs, bm1, bm2);
	}
	pthread_mutex_lock(&cap.lock);
	cap.stop = true;
	pthread_cond_broadcast(&cap.cond);
	pthread_mutex_unlock(&cap.lock);
	for (unsigned int i = 0; i < started; i++)
		pthread_join(workers[i].thread, NULL);
	started = 0;
	if (cap.err) {
		if (!err)
			err = cap.err;
		else
			ck_error_destroy(cap.err);
		cap.err = NULL;
	}
	if (err)
		goto out;
	/* Every worker is done: the totals are final. */
	{
		const struct totals *t = cap.cut ? &cap.cut_tot : &cap.tot;
		stats->kept = t->kept;
		stats->bytes_in = t->nonzero * cap.page_size;
		stats->excluded[CK_PAGE_ZERO] += cap.zero;
		stats->unreadable += cap.unreadable;
		stats->pages_done = cap.cut ? cap.cut_pfn : cap.max_pfn;
		incomplete = cap.cut;
		full_errno = cap.full_errno;
	}
	uint64_t stop_pfn = cap.cut_pfn;
	if (stopped && kw) {
		/* The cycle where it stopped keeps the pages written; later
		 * cycles keep their 1st bitmap (the memory existed) and an
		 * empty 2nd. */
		uint64_t ce = CK_MIN(cs + cycle, cap.max_pfn);
		clear_from(bm2, stop_pfn > cs ? stop_pfn - cs : 0, ce - cs);
		err = ck_kdump_writer_bitmaps(kw, cs, ce - cs, bm1, bm2);
		for (cs += cycle; !err && cs < cap.max_pfn; cs += cycle) {
			ce = CK_MIN(cs + cycle, cap.max_pfn);
			err = build_cycle(dump, NULL, 0, cs, ce, bm1, bm2, dummy,
					  &dummy_unreadable);
			memset(bm2, 0, cycle / 8);
			if (!err)
				err = ck_kdump_writer_bitmaps(kw, cs, ce - cs, bm1, bm2);
		}
		if (err)
			goto out;
	}
	if (ew) {
		err = ck_elf_writer_finish(ew, incomplete);
		stats->segments = ck_elf_writer_segments(ew);
	} else {
		err = ck_kdump_writer_finish(kw, incomplete);
	}
	if (err)
		goto out;
	stats->bytes_out = ew ? ck_elf_writer_size(ew) : ck_kdump_writer_size(kw);
	stats->incomplete = incomplete;
	if (tmp_path) {
		if (fsync(fd) < 0 && errno != EINVAL && errno != EROFS) {
			err = ck_error_create_errno(errno, "fsync '%s'", tmp_path);
			goto out;
		}
		if (!incomplete && rename(tmp_path, output) < 0) {
			err = ck_error_create_errno(errno, "cannot rename '%s' to '%s'",
						    tmp_path, output);
			goto out;
		}
	}
	if (incomplete)
		err = ck_error_create_errno(full_errno ? full_errno : ENOSPC,
			"'%s' is incomplete: %s after %" PRIu64 " pages (%" PRIu64 " bytes); "
			"it is valid and flagged incomplete",
			tmp_path ? tmp_path : "output",
			full_errno ? "the disk is full" : "the size limit (-L) was reached",
			stats->kept, stats->bytes_out);
out:
	if (started) {
		pthread_mutex_lock(&cap.lock);
		cap.stop = true;
		pthread_cond_broadcast(&cap.cond);
		pthread_mutex_unlock(&cap.lock);
		for (unsigned int i = 0; i < started; i++)
			pthread_join(workers[i].thread, NULL);
	}
	ck_error_destroy(cap.err);
	if (sync_made) {
		pthread_mutex_destroy(&cap.lock);
		pthread_cond_destroy(&cap.cond);
	}
	free(workers);
	for (unsigned int i = 0; cap.slots && i < cap.nr_slots; i++) {
		free(cap.slots[i].pages);
		free(cap.slots[i].descs);
		free(cap.slots[i].ebatch.ext);
		free(cap.slots[i].data);
	}
	free(cap.slots);
	free(cap.parked);
	ck_kdump_writer_destroy(kw);
	ck_elf_writer_destroy(ew);
	if (fd >= 0 && fd != opts->out_fd)
		close(fd);
	if (dio_fd >= 0)
		close(dio_fd);
	free(tmp_path);
	free(bm1);
	free(bm2);
	ck_filter_destroy(filter);
	ck_kernel_destroy(kernel);
	ck_dump_destroy(dump);
	return err;
}

struct ck_error *ck_capture_walk_dumpable(const char *input, int dump_level,
					  uint64_t cycle_pfns,
					  struct ck_error *(*fn)(void *arg, uint64_t start,
								 uint64_t end,
								 const uint64_t *bm2),
					  void *arg, uint64_t *max_pfn_ret,
					  uint32_t *page_size_ret)
{
	struct ck_dump *dump = NULL;
	struct ck_kernel *kernel = NULL;
	struct ck_filter *filter = NULL;
	uint64_t *bm1 = NULL, *bm2 = NULL;
	uint64_t counts[CK_PAGE_NR_CLASSES] = {0}, missing = 0;

	struct ck_error *err = ck_dump_open(input, &dump);
	if (err)
		return err;
	const struct ck_dump_info *info = ck_dump_info(dump);
	uint64_t max_pfn = info->max_pfn;
	*max_pfn_ret = max_pfn;
	*page_size_ret = info->page_size;
	/* The same choices as ck_capture(): what it will save is what we
	 * count. */
	uint64_t cycle = cycle_size(cycle_pfns, max_pfn);
	bm1 = ck_calloc_array(cycle / 64, 8);
	bm2 = ck_calloc_array(cycle / 64, 8);
	if (!bm1 || !bm2) {
		err = &ck_error_nomem;
		goto out;
	}
	if (dump_level & ~CK_DL_ZERO) {
		err = ck_kernel_create(dump, &kernel);
		if (!err)
			err = ck_filter_create(kernel, &filter);
		if (err) {
			/* ck_capture() keeps the pages then, and so do we */
			ck_error_destroy(err);
			err = NULL;
		}
	}
	if (filter)
		ck_filter_rewind(filter);
	for (uint64_t cs = 0; cs < max_pfn && !err; cs += cycle) {
		uint64_t ce = CK_MIN(cs + cycle, max_pfn);
		err = build_cycle(dump, filter, dump_level, cs, ce, bm1, bm2,
				  counts, &missing);
		if (err)
			err = ck_error_prepend(err, "filtering '%s'", input);
		else
			err = fn(arg, cs, ce, bm2);
	}
out:
	free(bm1);
	free(bm2);
	ck_filter_destroy(filter);
	ck_kernel_destroy(kernel);
	ck_dump_destroy(dump);
	return err;
}
