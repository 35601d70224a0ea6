/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The capture walk (docs/capture.md):
 *
 *   plan: dump reader -> page walk, pass 1 (lib/capture/walk.c): the
 *     pages kept, to size the output
 *   open output: OUTPUT.incomplete, the writer (kdump or ELF, one
 *     interface: struct ck_writer_ops, lib/dump/dump.h)
 *   pool: workers and output slots
 *   run cycles: the page walk again, pass 2, cycle by cycle
 *     -> workers: pread kept pages of one chunk into their own input
 *        buffer, drop zero pages, compress into an output slot from a
 *        small pool; in chunk order (the one ordering point) a chunk takes
 *        its place in the output (kdump or ELF), and the thread that
 *        placed it pwrites it; to a stream (-F) it is written in turn
 *     -> this thread: filter, hand out cycles, write each cycle's bitmaps
 *   commit: the final header, fsync, rename to OUTPUT
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

#include "capture/capture.h"
#include "dump/kdump_format.h"


#define CHUNK_PFNS CK_CAPTURE_CHUNK_PFNS

/* Running totals of what the writer placed, in chunk order. */
struct totals {
	uint64_t kept;			/* pages with a descriptor / in a segment */
	uint64_t nonzero;		/* of which not zero pages */
};

struct worker {
	struct capture *cap;
	pthread_t thread;
};

struct capture {
	const char *input, *output;
	const struct ck_capture_opts *opts;
	struct ck_capture_stats *stats;

	/* The plan: the input, what its kernel says, pass 1's counts. */
	struct ck_dump *dump;
	struct ck_kernel *kernel;	/* NULL: no VMCOREINFO to go by */
	struct ck_filter *filter;	/* NULL: only zero pages filtered */
	struct ck_page_walk walk;	/* the cycles, both passes */
	struct ck_utsname uts;		/* zeros when unknown */
	uint64_t phys_base;
	uint32_t page_size;
	uint64_t max_pfn;
	uint64_t nr_dumpable;		/* pages kept: the kdump descriptor area */
	uint64_t runs;			/* runs of them: the ELF program headers */
	uint32_t flag;			/* CK_KDUMP_COMPRESSED_* of the codec */
	enum ck_codec codec;
	bool map_input;			/* workers map the input in windows */

	/* The output: OUTPUT.incomplete (of.fd < 0 for -F to stdout). */
	struct ck_outfile of;
	int fd;
	const char *out_name;		/* for messages */
	struct ck_writer *w;
	/* Workers write their own chunks (a file, kdump or ELF).  To a
	 * stream (-F), a worker writes its chunk whole while it holds the
	 * turn. */
	bool parallel_write;

	/* The pool. */
	struct worker *workers;
	unsigned int nr_workers, started;
	bool sync_made;			/* lock and cond initialised */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t nr_chunks;
	uint64_t *bitmap2;		/* the current cycle's 2nd bitmap */
	uint64_t cycle_start;		/* its first pfn */
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
	uint64_t zero, unreadable;
	struct ck_write_batch batch;	/* its place in the output, when reserved */
	struct totals before;		/* what was placed before it */
	struct chunk_buf *next;
};

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

/* A worker's own means: its reader of the input (dump readers keep
 * per-open scratch state), encoder, input buffer and window. */
struct worker_io {
	struct ck_dump *dump;
	struct ck_encoder *enc;
	uint8_t *page;			/* scratch: one page read alone */
	uint8_t *in;			/* the chunk's input, read in runs */
	struct input_window win;
	/* The chunk's kept pages read so far: had[] bit k says src[k] holds
	 * the page of pfn start + k. */
	uint64_t had[CHUNK_PFNS / 64];
	const uint8_t *src[CHUNK_PFNS];
};

/* Kept pages of [lo, hi) that lie back to back in the input file are read
 * with one pread per run, or seen through the worker's window of
 * /proc/vmcore (an ELF vmcore stores a PT_LOAD's pages in pfn order): a
 * syscall per page costs as much as lzo compressing it. */
static void chunk_read_runs(struct capture *cap, struct worker_io *io, uint64_t start,
			    uint64_t lo, uint64_t hi)
{
	struct ck_dump *dump = io->dump;
	uint32_t ps = cap->page_size;
	const uint64_t *bm = cap->bitmap2;
	uint64_t w0 = cap->cycle_start / 64;
	uint64_t first = 0, off0 = 0, n = 0;
	for (uint64_t w = lo / 64; w * 64 < hi; w++) {
		for (uint64_t word = range_word(bm[w - w0], w, lo, hi); word; word &= word - 1) {
			uint64_t pfn = w * 64 + __builtin_ctzll(word), off;
			if (!dump->ops->page_offset(dump, pfn, &off)) {
				run_read(dump, &io->win, ps, start, io->in, io->src, io->had, first,
					 off0, n);
				n = 0;
				continue;
			}
			if (n && pfn == first + n && off == off0 + n * ps) {
				n++;
				continue;
			}
			run_read(dump, &io->win, ps, start, io->in, io->src, io->had, first, off0, n);
			first = pfn;
			off0 = off;
			n = 1;
		}
	}
	run_read(dump, &io->win, ps, start, io->in, io->src, io->had, first, off0, n);
}

/* Adds the page of pfn (its bytes at src) to slot s: a zero page, or its
 * bytes compressed, or raw when they do not shrink. */
static void chunk_add_page(struct capture *cap, struct ck_encoder *enc, struct chunk_buf *s,
			   uint64_t pfn, const uint8_t *src)
{
	uint32_t ps = cap->page_size;
	struct ck_out_page *op = &s->pages[s->nr_pages++];
	op->pfn = pfn;
	if (ck_page_is_zero(src, ps)) {
		/* Like makedumpfile, a zero page stays in the 2nd bitmap with a
		 * descriptor of the one shared zero page: readers see zeros,
		 * not a hole, and the page costs 24 bytes.  Level bit 1 only
		 * counts them. */
		if (cap->opts->dump_level & CK_DL_ZERO)
			s->zero++;
		op->size = 0;
		op->flags = 0;
		return;
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
}

/* Fills slot s with chunk c: the worker's whole job but placing it. */
static void chunk_process(struct capture *cap, struct worker_io *io, struct chunk_buf *s,
			  uint64_t c)
{
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
	memset(io->had, 0, sizeof(io->had));
	if (io->dump->ops->page_offset)
		chunk_read_runs(cap, io, start, lo, hi);
	for (uint64_t w = lo / 64; w * 64 < hi; w++) {
		uint64_t word = range_word(bm[w - w0], w, lo, hi);
		while (word) {
			unsigned b = __builtin_ctzll(word);
			word &= word - 1;
			uint64_t pfn = w * 64 + b, k = pfn - start;
			const uint8_t *src = io->src[k];
			if (!(io->had[k / 64] & (1ull << (k % 64)))) {
				struct ck_error *err = io->dump->ops->read_page(io->dump, pfn, io->page);
				if (err) {
					/* Recorded, not fatal: the page is left out. */
					ck_error_destroy(err);
					bm[w - w0] &= ~(1ull << b);
					s->unreadable++;
					continue;
				}
				src = io->page;
			}
			chunk_add_page(cap, io->enc, s, pfn, src);
		}
	}
}

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

/* The first error stops everyone; later ones are dropped.  Called locked. */
static void record_error(struct capture *cap, struct ck_error *err)
{
	if (err && !cap->err) {
		cap->err = err;
		cap->stop = true;
	} else if (err) {
		ck_error_destroy(err);
	}
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
	struct ck_writer *w = cap->w;
	uint64_t c = s->chunk;
	uint64_t end_pfn = CK_MIN((c + 1) * CHUNK_PFNS, cap->max_pfn);
	struct ck_error *err;
	bool full = false;
	size_t n = 0;

	s->before = cap->tot;
	s->batch.nr = 0;
	s->batch.put = false;
	if (cap->cut || cap->stop) {
		/* An earlier chunk did not fit: nothing after it counts. */
		cap->turn = c + 1;
		return false;
	}
	if (cap->parallel_write) {
		err = w->ops->reserve(w, s->pages, s->nr_pages, s->data, &s->batch, &full);
		n = s->batch.nr;
	} else {
		pthread_mutex_unlock(&cap->lock);
		err = w->ops->add(w, &s->batch, s->pages, s->nr_pages, s->data, &n, &full);
		pthread_mutex_lock(&cap->lock);
		if (full && err) {
			cap->full_errno = ck_error_errno(err);
			ck_error_destroy(err);
			err = NULL;
		}
	}
	if (!err)
		account_placed(cap, s, c, n, full, end_pfn);
	cap->turn = c + 1;
	record_error(cap, err);
	return !err && cap->parallel_write && s->batch.put;
}

/* Writes the data (and kdump descriptors) of a reserved slot.  Called
 * locked; unlocks while writing. */
static void chunk_put(struct capture *cap, struct chunk_buf *s)
{
	pthread_mutex_unlock(&cap->lock);
	bool put_full = false;
	struct ck_error *err = cap->w->ops->put(cap->w, &s->batch, &put_full);
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
			/* What the writer laid out from this chunk on goes. */
			cap->w->ops->rewind(cap->w, &s->batch);
		}
	}
	record_error(cap, err);
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

static struct ck_error *worker_io_init(struct capture *cap, struct worker_io *io)
{
	struct ck_error *err = ck_dump_open(cap->input, &io->dump);
	if (!err)
		err = ck_encoder_create(cap->codec, cap->page_size, &io->enc);
	if (err)
		return err;
	io->page = aligned_alloc(64, cap->page_size);
	/* The chunk's input, read in runs: needed only while the chunk is
	 * compressed, so it stays with the worker. */
	io->in = aligned_alloc(64, (size_t)CHUNK_PFNS * cap->page_size);
	if (!io->page || !io->in)
		return &ck_error_nomem;
	io->win.on = cap->map_input;
	struct ck_file *file = io->dump->file;
	if (file->map) {
		/* Read the input with pread, not through the reader's map of
		 * the whole file: a mapping costs a page fault per few pages,
		 * keeps RSS growing until it is dropped, and dropping it
		 * (munmap, MADV_DONTNEED) flushes the TLB of every CPU running
		 * a worker.  pread copies from the page cache, nothing stays
		 * mapped, and it is what /proc/vmcore serves best. */
		munmap((void *)file->map, file->real_size);
		file->map = NULL;
	}
	return NULL;
}

static void worker_io_deinit(struct worker_io *io)
{
	if (io->win.base)
		munmap((void *)io->win.base, io->win.len);
	free(io->page);
	free(io->in);
	ck_encoder_destroy(io->enc);
	ck_dump_destroy(io->dump);
}

/* The next chunk whose bitmap is ready, with a free slot for it; NULL when
 * there is no more work.  Chunks are taken in order, each with its slot,
 * so the chunk whose turn it is always has one and is being processed.
 * Called locked. */
static struct chunk_buf *chunk_take(struct capture *cap)
{
	while (!cap->stop && cap->next_chunk < cap->nr_chunks &&
	       (cap->next_chunk >= cap->ready_chunks || !cap->free_slots))
		pthread_cond_wait(&cap->cond, &cap->lock);
	if (cap->stop || cap->next_chunk >= cap->nr_chunks)
		return NULL;
	struct chunk_buf *s = cap->free_slots;
	cap->free_slots = s->next;
	s->chunk = cap->next_chunk++;
	return s;
}

static void *worker_main(void *arg)
{
	struct capture *cap = ((struct worker *)arg)->cap;
	struct worker_io *io = calloc(1, sizeof(*io));
	struct ck_error *err = io ? worker_io_init(cap, io) : &ck_error_nomem;

	pthread_mutex_lock(&cap->lock);
	if (err) {
		record_error(cap, err);
		cap->stop = true;
		pthread_cond_broadcast(&cap->cond);
	}
	struct chunk_buf *s;
	while ((s = chunk_take(cap))) {
		bool skip = cap->cut;
		pthread_mutex_unlock(&cap->lock);
		if (skip)
			s->nr_pages = s->data_len = s->zero = s->unreadable = 0;
		else
			chunk_process(cap, io, s, s->chunk);
		pthread_mutex_lock(&cap->lock);
		if (cap->stop)
			break;
		chunk_finish(cap, s);
	}
	pthread_mutex_unlock(&cap->lock);
	if (io)
		worker_io_deinit(io);
	free(io);
	return NULL;
}

/* ---- plan: the input, its kernel, the filter, pass 1 ------------------- */

/* The kernel's facts for the header, and filtering by struct page when the
 * level asks for more than zero pages.  Without VMCOREINFO or with an
 * unknown layout, say so and keep the pages. */
static void plan_kernel(struct capture *cap)
{
	struct ck_capture_stats *stats = cap->stats;
	struct ck_error *err = ck_kernel_create(cap->dump, &cap->kernel);
	if (err) {
		snprintf(stats->filter_note, sizeof(stats->filter_note),
			 "%s: only zero pages filtered", ck_error_message(err));
		ck_error_destroy(err);
		return;
	}
	/* crash and libkdumpfile read the machine from the header's utsname */
	err = ck_kernel_utsname(cap->kernel, &cap->uts);
	if (err)
		memset(&cap->uts, 0, sizeof(cap->uts));
	ck_error_destroy(err);
	ck_error_destroy(ck_kernel_phys_base(cap->kernel, &cap->phys_base));
	if (!(cap->opts->dump_level & ~CK_DL_ZERO))
		return;
	err = ck_filter_create(cap->kernel, &cap->filter);
	if (err) {
		snprintf(stats->filter_note, sizeof(stats->filter_note), "%s",
			 ck_error_message(err));
		ck_error_destroy(err);
		cap->filter = NULL;
	}
}

/* Pass 1: counts what will be written (the kdump descriptor area and the
 * ELF program header table are sized before the first page). */
static struct ck_error *plan_count(struct capture *cap)
{
	struct ck_capture_stats *stats = cap->stats;
	struct ck_page_walk *pw = &cap->walk;
	uint64_t *missing = ck_dump_info(cap->dump)->truncated ? &stats->unreadable
								 : &stats->absent;
	while (ck_page_walk_next(pw)) {
		struct ck_error *err = ck_page_walk_cycle(pw, stats->excluded, missing);
		if (err)
			return ck_error_prepend(err, "filtering '%s'", cap->input);
		stats->pages_ram += pw->nr_present;
		cap->nr_dumpable += ck_page_walk_kept(pw);
		cap->runs += ck_page_walk_kept_runs(pw);
	}
	if (cap->filter) {
		const char *why;
		int ok = ck_filter_supported(cap->filter, &why);
		if (why || (cap->opts->dump_level & ~ok))
			snprintf(stats->filter_note, sizeof(stats->filter_note), "%s",
				 why ? why : "some classes kept");
	}
	return NULL;
}

static struct ck_error *capture_plan(struct capture *cap)
{
	const struct ck_capture_opts *opts = cap->opts;
	struct ck_error *err = ck_dump_open(cap->input, &cap->dump);
	if (!err)
		err = ck_page_walk_check(cap->dump);	/* before the kernel is read */
	if (err)
		return err;
	const struct ck_dump_info *info = ck_dump_info(cap->dump);
	cap->page_size = info->page_size;
	cap->max_pfn = info->max_pfn;
	/* /proc/vmcore reads a page at a time through a temporary kernel
	 * mapping; its mmap maps the old memory directly. */
	if (opts->read == CK_CAPTURE_READ_MMAP)
		cap->map_input = true;
	else if (opts->read == CK_CAPTURE_READ_AUTO)
		cap->map_input = cap->dump->file->procfs;
	cap->codec = opts->elf ? CK_CODEC_NONE : opts->codec;
	cap->flag = codec_flag(cap->codec);
	cap->stats->max_pfn = cap->max_pfn;
	plan_kernel(cap);
	/* Bitmaps cover one cycle of pfns at a time, so their memory does not
	 * grow with the machine (docs/capture.md). */
	uint64_t cycle = ck_capture_cycle_pfns(opts->cycle_pfns, cap->max_pfn);
	err = ck_page_walk_init(&cap->walk, cap->dump, cap->filter, opts->dump_level, cycle);
	if (err)
		return err;
	cap->stats->bitmap_bytes = 2 * cycle / 8;
	return plan_count(cap);
}

/* ---- open output: OUTPUT.incomplete and the writer --------------------- */

static struct ck_error *open_kdump_writer(struct capture *cap)
{
	const struct ck_capture_opts *opts = cap->opts;
	const struct ck_dump_info *info = ck_dump_info(cap->dump);
	const struct ck_utsname *u = &cap->uts;
	const char *release = u->release[0] ? u->release
			      : cap->kernel ? ck_kernel_vmcoreinfo_str(cap->kernel, "OSRELEASE")
					    : NULL;
	struct ck_kdump_writer_params wp = {
		.fd = cap->fd,
		.path = cap->out_name,
		.flattened = opts->flattened,
		.size_limit = opts->size_limit,
		.page_size = cap->page_size,
		.max_mapnr = cap->max_pfn,
		.nr_dumpable = cap->nr_dumpable,
		.compression = cap->flag,
		.dump_level = opts->dump_level,
		.need_zero_page = true,
		.uts = { u->sysname[0] ? u->sysname : "Linux", u->nodename, release, u->version,
			 u->machine[0] ? u->machine : info->arch, u->domainname },
		.nr_cpus = info->nr_cpus,
		.phys_base = cap->phys_base,
		.notes = cap->dump->notes_buf,
		.notes_len = cap->dump->notes_len,
		.vmcoreinfo = cap->dump->vmcoreinfo,
		.vmcoreinfo_len = cap->dump->vmcoreinfo ? cap->dump->vmcoreinfo_len : 0,
		.split = opts->split,
		.start_pfn = opts->split_start,
		.end_pfn = opts->split_end,
		.tv_sec = opts->tv_sec,
		.tv_usec = opts->tv_usec,
	};
	return ck_kdump_writer_create(&wp, &cap->w);
}

static struct ck_error *open_elf_writer(struct capture *cap)
{
	const struct ck_capture_opts *opts = cap->opts;
	struct ck_dump *dump = cap->dump;
	const struct ck_elf_load *loads;
	uint16_t machine = 0;
	size_t nr_loads = ck_dump_loads(dump, &loads, &machine);
	const struct ck_mem_range *ranges;
	size_t nr_ranges;
	ck_dump_mem_ranges(dump, &ranges, &nr_ranges);
	struct ck_elf_load *made_loads = NULL;
	if (!nr_loads && cap->kernel) {
		/* A kdump or flattened input has no program headers: the
		 * kernel says where its image and the direct map are, so that
		 * gdb can read the output by symbol.  An arch that cannot say
		 * keeps virtual addresses 0. */
		struct ck_error *e = ck_kernel_elf_loads(cap->kernel, ranges, nr_ranges,
							 &made_loads, &nr_loads);
		if (e)
			nr_loads = 0;
		ck_error_destroy(e);
		loads = made_loads;
	}
	int level = opts->dump_level;
	struct ck_elf_writer_params ep = {
		.fd = cap->fd,
		.path = cap->out_name,
		.flattened = opts->flattened,
		.size_limit = opts->size_limit,
		.page_size = cap->page_size,
		.machine = machine ? machine : ck_elf_machine(ck_dump_info(dump)->arch),
		.loads = loads,
		.nr_loads = nr_loads,
		.ranges = ranges,
		.nr_ranges = nr_ranges,
		.max_runs = cap->runs + (level & CK_DL_ZERO ? (cap->nr_dumpable + 1) / 2 : 0),
		.exclude_zero = level & CK_DL_ZERO,
		.notes = dump->notes_buf,
		.notes_len = dump->notes_len,
		.dio_fd = -1,
	};
	/* Whole pages go to the file with O_DIRECT where it takes them
	 * (lib/dump/elf_write.c, direct_room). */
	if (cap->of.fd >= 0 && !opts->flattened)
		ep.dio_fd = open(cap->of.tmp_path, O_WRONLY | O_DIRECT | O_CLOEXEC);
	struct ck_error *err = ck_elf_writer_create(&ep, &cap->w);
	free(made_loads);
	return err;
}

static struct ck_error *capture_open_output(struct capture *cap)
{
	const struct ck_capture_opts *opts = cap->opts;
	if (opts->flattened && opts->out_fd >= 0) {
		cap->fd = opts->out_fd;
	} else {
		struct ck_error *err = ck_outfile_open(cap->output, opts->force, &cap->of);
		if (err)
			return err;
		cap->fd = cap->of.fd;
	}
	cap->out_name = cap->of.tmp_path ? cap->of.tmp_path
					 : cap->output ? cap->output : "stdout";
	return opts->elf ? open_elf_writer(cap) : open_kdump_writer(cap);
}

/* ---- the pool: output slots and workers -------------------------------- */

/* The output slots: a chunk's pages, its batch and compressed data each
 * (data bounded by CHUNK_PFNS raw pages; only what a chunk uses is
 * touched).  Two more than workers: a worker that finished out of turn
 * parks its slot and takes the next chunk with a free one. */
static struct ck_error *pool_slots(struct capture *cap)
{
	cap->nr_slots = cap->nr_workers + 2;
	cap->slots = ck_calloc_array(cap->nr_slots, sizeof(*cap->slots));
	cap->parked = ck_calloc_array(cap->nr_slots, sizeof(*cap->parked));
	if (!cap->slots || !cap->parked)
		return &ck_error_nomem;
	for (unsigned int i = 0; i < cap->nr_slots; i++) {
		struct chunk_buf *s = &cap->slots[i];
		struct ck_error *err = cap->w->ops->batch_init(cap->w, &s->batch, CHUNK_PFNS);
		if (err)
			return err;
		s->pages = ck_calloc_array(CHUNK_PFNS, sizeof(*s->pages));
		/* page-aligned: -E writes it with O_DIRECT */
		s->data = aligned_alloc(4096, (size_t)CHUNK_PFNS * cap->page_size);
		if (!s->pages || !s->data)
			return &ck_error_nomem;
		s->next = cap->free_slots;
		cap->free_slots = s;
	}
	return NULL;
}

static struct ck_error *capture_pool_start(struct capture *cap)
{
	const struct ck_capture_opts *opts = cap->opts;
	cap->nr_chunks = (cap->max_pfn + CHUNK_PFNS - 1) / CHUNK_PFNS;
	cap->nr_workers = opts->nr_threads;
	if (!cap->nr_workers) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		cap->nr_workers = n > 0 ? (unsigned)n : 1;
	}
	cap->nr_workers = CK_MIN(cap->nr_workers, 64u);
	cap->stats->threads = cap->nr_workers;
	cap->workers = ck_calloc_array(cap->nr_workers, sizeof(*cap->workers));
	if (!cap->workers)
		return &ck_error_nomem;
	struct ck_error *err = pool_slots(cap);
	if (err)
		return err;
	cap->parallel_write = !opts->flattened;
	struct ck_encoder *probe;
	err = ck_encoder_create(cap->codec, cap->page_size, &probe);
	if (err)
		return err;
	cap->stats->encoder = opts->elf ? "elf" : ck_encoder_backend(probe);
	ck_encoder_destroy(probe);
	pthread_mutex_init(&cap->lock, NULL);
	pthread_cond_init(&cap->cond, NULL);
	cap->sync_made = true;
	for (; cap->started < cap->nr_workers; cap->started++) {
		struct worker *wk = &cap->workers[cap->started];
		wk->cap = cap;
		int e = pthread_create(&wk->thread, NULL, worker_main, wk);
		if (e)
			return ck_error_create_errno(e, "cannot start worker thread");
	}
	return NULL;
}

/* Tells the workers to leave and waits for them. */
static void pool_stop(struct capture *cap)
{
	if (!cap->started)
		return;
	pthread_mutex_lock(&cap->lock);
	cap->stop = true;
	pthread_cond_broadcast(&cap->cond);
	pthread_mutex_unlock(&cap->lock);
	for (unsigned int i = 0; i < cap->started; i++)
		pthread_join(cap->workers[i].thread, NULL);
	cap->started = 0;
}

/* ---- run cycles: pass 2 ------------------------------------------------ */

/* The stats as placed so far.  Called locked. */
static void stats_placed(struct capture *cap)
{
	const struct totals *t = cap->cut ? &cap->cut_tot : &cap->tot;
	cap->stats->kept = t->kept;
	cap->stats->bytes_in = t->nonzero * cap->page_size;
}

/* Called locked; unlocks around the caller's callback. */
static void report_progress(struct capture *cap)
{
	struct ck_capture_stats *stats = cap->stats;
	stats_placed(cap);
	stats->pages_done = CK_MIN(cap->done * CHUNK_PFNS, cap->max_pfn);
	stats->bytes_out = cap->w->ops->size(cap->w);
	pthread_mutex_unlock(&cap->lock);
	cap->opts->progress(stats, cap->opts->progress_arg);
	pthread_mutex_lock(&cap->lock);
}

/* Hands the walk's cycle to the workers and waits until each of its chunks
 * is written (workers clear unreadable pages in its 2nd bitmap).  False
 * when the output stopped short or a worker failed. */
static bool cycle_run(struct capture *cap)
{
	const struct ck_capture_opts *opts = cap->opts;
	const struct ck_page_walk *pw = &cap->walk;
	uint64_t c1 = (pw->end + CHUNK_PFNS - 1) / CHUNK_PFNS;
	pthread_mutex_lock(&cap->lock);
	cap->bitmap2 = pw->kept;
	cap->cycle_start = pw->start;
	if (opts->split && (pw->end <= opts->split_start || pw->start >= opts->split_end)) {
		/* A split file saves no page of this cycle, only its bitmaps:
		 * its chunks are done, no worker needs to look (the previous
		 * cycle's chunks are all done). */
		cap->next_chunk = cap->turn = cap->done = c1;
	}
	cap->ready_chunks = c1;
	pthread_cond_broadcast(&cap->cond);
	uint64_t seen = cap->done;
	while (cap->done < c1 && !cap->stop) {
		pthread_cond_wait(&cap->cond, &cap->lock);
		if (opts->progress && cap->done != seen) {
			seen = cap->done;
			report_progress(cap);
		}
	}
	bool stopped = cap->stop || cap->cut;
	pthread_mutex_unlock(&cap->lock);
	return !stopped;
}

/* The dump stopped short in the walk's cycle: it keeps the pages written,
 * later cycles keep their 1st bitmap (the memory existed) and an empty
 * 2nd. */
static struct ck_error *bitmaps_after_cut(struct capture *cap)
{
	struct ck_page_walk *pw = &cap->walk;
	struct ck_writer *w = cap->w;
	uint64_t counts[CK_PAGE_NR_CLASSES], missing = 0;
	uint64_t n = pw->end - pw->start, from = cap->cut_pfn;
	for (from = from > pw->start ? from - pw->start : 0; from < n && from % 64; from++)
		pw->kept[from / 64] &= ~(1ull << (from % 64));
	for (uint64_t i = from / 64; i * 64 < n; i++)
		pw->kept[i] = 0;
	struct ck_error *err = w->ops->bitmaps(w, pw->start, n, pw->present, pw->kept);
	pw->filter = NULL;	/* nothing more is kept: no need to filter */
	while (!err && ck_page_walk_next(pw)) {
		err = ck_page_walk_cycle(pw, counts, &missing);
		memset(pw->kept, 0, pw->cycle / 8);
		if (!err)
			err = w->ops->bitmaps(w, pw->start, pw->end - pw->start, pw->present,
					      pw->kept);
	}
	return err;
}

/* Pass 2: cycle by cycle, the same bitmaps again (the filter is
 * deterministic), then the workers over the cycle's chunks, then its
 * bitmaps to the file once every chunk of it is written. */
static struct ck_error *capture_run(struct capture *cap)
{
	struct ck_page_walk *pw = &cap->walk;
	struct ck_writer *w = cap->w;
	uint64_t counts[CK_PAGE_NR_CLASSES], missing = 0;
	/* A machine of one cycle (16 GiB) still has pass 1's bitmaps: the
	 * workers start without a second filter run. */
	bool again = pw->cycle < pw->max_pfn;
	bool stopped = false;
	struct ck_error *err = NULL;
	ck_page_walk_rewind(pw);
	while (!err && ck_page_walk_next(pw)) {
		if (again)
			err = ck_page_walk_cycle(pw, counts, &missing);
		if (err)
			break;
		if (!cycle_run(cap)) {
			stopped = true;
			break;
		}
		if (w->ops->bitmaps)
			err = w->ops->bitmaps(w, pw->start, pw->end - pw->start, pw->present,
					      pw->kept);
	}
	pool_stop(cap);
	if (cap->err) {
		if (!err)
			err = cap->err;
		else
			ck_error_destroy(cap->err);
		cap->err = NULL;
	}
	if (err)
		return err;
	/* Every worker is done: the totals are final. */
	struct ck_capture_stats *stats = cap->stats;
	stats_placed(cap);
	stats->excluded[CK_PAGE_ZERO] += cap->zero;
	stats->unreadable += cap->unreadable;
	stats->pages_done = cap->cut ? cap->cut_pfn : cap->max_pfn;
	if (stopped && w->ops->bitmaps)
		return bitmaps_after_cut(cap);
	return NULL;
}

/* ---- commit: the final header, fsync, rename --------------------------- */

/* A dump cut short stays OUTPUT.incomplete, valid and flagged. */
static struct ck_error *capture_commit(struct capture *cap)
{
	struct ck_capture_stats *stats = cap->stats;
	struct ck_writer *w = cap->w;
	bool incomplete = cap->cut;
	struct ck_error *err = w->ops->finish(w, incomplete);
	stats->segments = w->ops->segments(w);
	if (err)
		return err;
	stats->bytes_out = w->ops->size(w);
	stats->incomplete = incomplete;
	if (cap->of.fd >= 0)
		err = incomplete ? ck_outfile_sync(&cap->of) : ck_outfile_commit(&cap->of);
	if (err || !incomplete)
		return err;
	int e = cap->full_errno;
	return ck_error_create_errno(e ? e : ENOSPC,
		"'%s' is incomplete: %s after %" PRIu64 " pages (%" PRIu64 " bytes); "
		"it is valid and flagged incomplete",
		cap->of.tmp_path ? cap->of.tmp_path : "output",
		e ? "the disk is full" : "the size limit (-L) was reached",
		stats->kept, stats->bytes_out);
}

static void capture_deinit(struct capture *cap)
{
	pool_stop(cap);
	ck_error_destroy(cap->err);
	if (cap->sync_made) {
		pthread_mutex_destroy(&cap->lock);
		pthread_cond_destroy(&cap->cond);
	}
	free(cap->workers);
	for (unsigned int i = 0; cap->slots && i < cap->nr_slots; i++) {
		struct chunk_buf *s = &cap->slots[i];
		if (s->batch.priv)
			cap->w->ops->batch_deinit(cap->w, &s->batch);
		free(s->pages);
		free(s->data);
	}
	free(cap->slots);
	free(cap->parked);
	ck_writer_destroy(cap->w);
	/* A failed capture leaves OUTPUT.incomplete for a look. */
	ck_outfile_abandon(&cap->of, true);
	ck_page_walk_deinit(&cap->walk);
	ck_filter_destroy(cap->filter);
	ck_kernel_destroy(cap->kernel);
	ck_dump_destroy(cap->dump);
}

struct ck_error *ck_capture(const char *input, const char *output,
			    const struct ck_capture_opts *opts, struct ck_capture_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	if (opts->dump_level < 0 || opts->dump_level > 31)
		return ck_error_create(CK_ERR_INVALID, "dump level %d is not in 0..31",
				       opts->dump_level);
	if (opts->split && (opts->elf || opts->flattened || opts->split_start > opts->split_end))
		return ck_error_create(CK_ERR_INVALID,
				       "a split dump is kdump-compressed files, not -E or -F");
	struct capture cap = {
		.input = input,
		.output = output,
		.opts = opts,
		.stats = stats,
		.of = CK_OUTFILE_INIT,
		.fd = -1,
	};
	struct ck_error *err = capture_plan(&cap);
	if (!err)
		err = capture_open_output(&cap);
	if (!err)
		err = capture_pool_start(&cap);
	if (!err)
		err = capture_run(&cap);
	if (!err)
		err = capture_commit(&cap);
	capture_deinit(&cap);
	return err;
}
