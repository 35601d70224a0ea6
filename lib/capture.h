/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Capture: /proc/vmcore (or any dump) -> page classes -> parallel compression
 * -> kdump-compressed file or flattened stream.  Design: docs/capture.md.
 *
 * Internal to libcrashkit and its tools for now; it moves to crashkit.h once
 * the interface has settled (ELF output, re-filtering, split dumps).
 */
#ifndef CRASHKIT_CAPTURE_H
#define CRASHKIT_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "internal.h"

/* ---- page encoders (lib/codec_encode.c) --------------------------------- */

struct ck_encoder;

struct ck_error *ck_encoder_create(enum ck_codec codec, uint32_t page_size,
				   struct ck_encoder **ret);
void ck_encoder_destroy(struct ck_encoder *enc);
/* Compresses one page of page_size bytes into dst (room for page_size bytes).
 * Returns the compressed size, or 0 when the page does not shrink: the
 * caller then stores it raw. */
size_t ck_encoder_compress(struct ck_encoder *enc, const void *src, void *dst);
/* Which library does the work, e.g. "libdeflate-1" for zlib streams. */
const char *ck_encoder_backend(const struct ck_encoder *enc);

/* ---- page classes (lib/filter.c) ---------------------------------------- */

/* makedumpfile's dump level bits. */
enum {
	CK_DL_ZERO = 1,
	CK_DL_CACHE = 2,
	CK_DL_CACHE_PRIVATE = 4,
	CK_DL_USER = 8,
	CK_DL_FREE = 16,
};

enum ck_page_class {
	CK_PAGE_ZERO,
	CK_PAGE_CACHE,
	CK_PAGE_CACHE_PRIVATE,
	CK_PAGE_USER,
	CK_PAGE_FREE,
	CK_PAGE_HWPOISON,
	CK_PAGE_OFFLINE,
	CK_PAGE_NR_CLASSES,
};

const char *ck_page_class_name(enum ck_page_class c);

struct ck_filter;

/* Reads the mem_map layout from VMCOREINFO.  Fails with CK_ERR_UNSUPPORTED,
 * naming the missing key, when the kernel's layout is unknown: the caller
 * then keeps every page that is not zero. */
struct ck_error *ck_filter_create(struct ck_kernel *kernel, struct ck_filter **ret);
void ck_filter_destroy(struct ck_filter *filter);
/* Levels the layout supports: dump_level bits this kernel's VMCOREINFO lets
 * us decide (others keep their pages); *why names what is missing, including
 * sections found unreadable by ck_filter_exclude() so far. */
int ck_filter_supported(struct ck_filter *filter, const char **why);
/*
 * Clears, in bitmap (one bit per pfn, 64-bit words), the pages that the
 * dump level excludes by their struct page (every class but zero pages,
 * which need the page contents).  counts[class] grows by the pages cleared.
 */
struct ck_error *ck_filter_exclude(struct ck_filter *filter, int dump_level,
				   uint64_t *bitmap, uint64_t max_pfn,
				   uint64_t counts[CK_PAGE_NR_CLASSES]);
/*
 * The same for the pfns [start, end) only, with bit i of bitmap standing for
 * pfn start + i (start a multiple of 64), so that the bitmaps of a capture
 * need not cover the whole machine.  Calls must come in pfn order from
 * ck_filter_rewind(): a compound or buddy block that runs past end is
 * carried over and cleared at the start of the next range.
 */
struct ck_error *ck_filter_exclude_range(struct ck_filter *filter, int dump_level,
					 uint64_t *bitmap, uint64_t start, uint64_t end,
					 uint64_t counts[CK_PAGE_NR_CLASSES]);
void ck_filter_rewind(struct ck_filter *filter);

/* One pfn as the filter reads it (ck_filter_explain), for tests and
 * debugging: its struct page's words, what the filter decodes from them,
 * and the class it gets. */
struct ck_page_explain {
	uint64_t pfn;
	uint64_t flags, mapping, private;
	uint32_t mapcount;		/* _mapcount / page_type; -1 if not exported */
	const char *type;		/* the page type decoded from it, or NULL */
	const char *head_key;		/* "compound_head", "compound_info" or NULL */
	uint64_t head_word;		/* that word (bit 0: tail) */
	bool tail, slab, hugetlb;
	unsigned order;			/* a compound head's order, else 0 */
	/* For a tail: the head whose block holds it (UINT64_MAX if none),
	 * its page type, order and flags. */
	uint64_t head_pfn;
	const char *head_type;
	unsigned head_order;
	uint64_t head_flags;
	/* The class at the level (-1: kept), and the pfn whose struct page
	 * decided it (itself, its compound head, the first page of a buddy
	 * block).  alone_class: the class if the page were judged alone, as a
	 * tool that cannot tell tails would judge it. */
	int class;
	uint64_t by_pfn;
	int alone_class;
};

/* Explains one pfn at dump_level as if every pfn were in the dump (the
 * range loop skips absent ones).  Zero pages are not decided here (they
 * need the contents).  Uses the filter's buffer: not during an exclude.
 * CK_ERR_NOT_FOUND if pfn has no readable struct page. */
struct ck_error *ck_filter_explain(struct ck_filter *filter, int dump_level, uint64_t pfn,
				   struct ck_page_explain *ret);

/* ---- memory usage by page class (lib/mem_usage.c) ------------------------ */

struct ck_mem_usage_opts {
	/* For a live system's /proc/kcore: the iomem file ("/proc/iomem")
	 * whose "Crash kernel" ranges are left out, as a dump would leave
	 * them out; NULL: none.  Not read for other inputs. */
	const char *iomem;
	uint64_t cycle_pfns;		/* pfns per bitmap cycle; 0: default */
};

struct ck_mem_usage {
	uint32_t page_size;
	uint64_t max_pfn;
	uint64_t total;			/* pages of memory in the input */
	/* Pages of each class at dump level 31: zero pages are those the
	 * other classes leave, as makedumpfile --mem-usage counts them. */
	uint64_t pages[CK_PAGE_NR_CLASSES];
	uint64_t kernel;		/* the rest: what -d 31 keeps, zero pages aside */
	uint64_t absent;		/* in the memory map, not in the input */
	uint64_t unreadable;		/* read errors (kept out of every class) */
	uint64_t crashkernel;		/* live: pages of the crash kernel's reservation */
	int supported;			/* CK_DL_* classes decided */
	bool live;			/* the input is /proc/kcore */
	uint64_t bitmap_bytes;		/* memory of each of its two bitmaps */
	char note[320];			/* why some classes are not decided, or "" */
};

/* Counts the pages of each dump-level class in input (a vmcore, a dump
 * or /proc/kcore) with the capture's filter, cycle by cycle, and reads
 * the pages it keeps to find zero pages: memory bounded whatever the
 * machine's size. */
struct ck_error *ck_mem_usage(const char *input, const struct ck_mem_usage_opts *opts,
			      struct ck_mem_usage *ret);

/* ---- kdump-compressed writer (lib/kdump_write.c) ------------------------- */

struct ck_kdump_writer;

struct ck_kdump_writer_params {
	int fd;
	const char *path;		/* for messages */
	bool flattened;			/* makedumpfile -F stream instead of a file */
	uint64_t size_limit;		/* 0: none (makedumpfile -L) */
	uint32_t page_size;
	uint64_t max_mapnr;
	uint64_t nr_dumpable;		/* upper bound on pages that will be added */
	uint32_t compression;		/* CK_KDUMP_COMPRESSED_* or 0 */
	int dump_level;
	bool need_zero_page;		/* zero pages are kept: one shared copy */
	const char *uts[6];		/* sysname .. domainname, may be NULL */
	uint32_t nr_cpus;
	uint64_t phys_base;
	const void *notes;		/* the dump's ELF notes, raw */
	size_t notes_len;
	const char *vmcoreinfo;
	size_t vmcoreinfo_len;
	/* One file of a split dump (makedumpfile --split): pages are added
	 * for [start_pfn, end_pfn) only, both bitmaps still cover the whole
	 * machine and nr_dumpable counts the whole machine's pages, as
	 * makedumpfile lays split files out (docs/capture.md). */
	bool split;
	uint64_t start_pfn, end_pfn;
	/* The header's timestamp; 0: now.  The files of a split dump share
	 * one: readers compare their headers byte for byte. */
	int64_t tv_sec, tv_usec;
};

/* One page handed to the writer, in pfn order. */
struct ck_out_page {
	uint64_t pfn;
	uint32_t size;			/* bytes in the chunk's data; 0: zero page */
	uint32_t flags;			/* CK_KDUMP_COMPRESSED_* or 0 (raw) */
};

struct ck_error *ck_kdump_writer_create(const struct ck_kdump_writer_params *params,
					struct ck_kdump_writer **ret);
/* Appends pages whose data lie back to back in data.  *nr_written says how
 * many fit; fewer than nr means the size limit or the disk is full (then
 * *full_ret is set and the error, if any, says which). */
struct ck_error *ck_kdump_writer_add(struct ck_kdump_writer *w, const struct ck_out_page *pages,
				     size_t nr, const uint8_t *data, size_t *nr_written,
				     bool *full_ret);

/* The same in two steps, for writers in parallel threads (docs/capture.md). */
struct ck_kdump_page_desc;
struct ck_kdump_batch {
	uint64_t data_off, data_len;	/* where the batch's data goes */
	uint64_t desc_off;		/* where its descriptors go */
	size_t nr;			/* pages that fit (the first nr) */
};
/* Writeback is started on a put of at least this much data. */
#define CK_KDUMP_WRITEBACK_MIN (256u * 1024)
/* Places the first pages that fit (batch->nr of nr) after those of the
 * previous call and fills their descriptors (descs: room for nr).  Calls
 * must come in pfn order, one at a time; *full_ret when the size limit cut
 * the batch or an earlier put found the disk full. */
struct ck_error *ck_kdump_writer_reserve(struct ck_kdump_writer *w, const struct ck_out_page *pages,
					 size_t nr, struct ck_kdump_page_desc *descs,
					 struct ck_kdump_batch *batch, bool *full_ret);
/* Writes a reserved batch: data (back to back, batch->data_len bytes) and
 * descriptors.  Thread-safe for a file; a flattened stream needs the puts in
 * reserve order.  On ENOSPC/EFBIG/EDQUOT nothing of the batch counts,
 * *full_ret is set and later reserves come back full. */
struct ck_error *ck_kdump_writer_put(struct ck_kdump_writer *w, const struct ck_kdump_batch *batch,
				     const struct ck_kdump_page_desc *descs, const uint8_t *data,
				     bool *full_ret);
/* Writes both bitmaps of the pfns [start, start + nr) (start a multiple of
 * 8): bit i of each stands for pfn start + i. */
struct ck_error *ck_kdump_writer_bitmaps(struct ck_kdump_writer *w, uint64_t start, uint64_t nr,
					 const uint64_t *bitmap1, const uint64_t *bitmap2);
/* Writes the final header (INCOMPLETE flag when asked). */
struct ck_error *ck_kdump_writer_finish(struct ck_kdump_writer *w, bool incomplete);
uint64_t ck_kdump_writer_size(const struct ck_kdump_writer *w);
void ck_kdump_writer_destroy(struct ck_kdump_writer *w);

/* ---- ELF writer (lib/elf_write.c) ---------------------------------------- */

struct ck_elf_writer;

struct ck_elf_writer_params {
	int fd;
	const char *path;		/* for messages */
	bool flattened;
	uint64_t size_limit;		/* 0: none */
	uint32_t page_size;
	uint16_t machine;		/* e_machine */
	/* The input's PT_LOADs (virtual addresses kept), or without them the
	 * memory ranges, at vaddr_of_paddr0 + paddr when that is not 0. */
	const struct ck_elf_load *loads;
	size_t nr_loads;
	const struct ck_mem_range *ranges;
	size_t nr_ranges;
	uint64_t vaddr_of_paddr0;
	uint64_t max_runs;		/* upper bound on runs of written pages */
	bool exclude_zero;		/* zero pages are cut out (level bit 1) */
	const void *notes;
	size_t notes_len;
	/* The same file opened O_DIRECT, or -1: whole pages of data go
	 * through it into space preallocated ahead of them (docs/capture.md).
	 * The caller closes it after the writer is done. */
	int dio_fd;
};

/* Pages come as for the kdump writer, uncompressed (size = page size) or
 * zero (size 0). */
struct ck_error *ck_elf_writer_create(const struct ck_elf_writer_params *params,
				      struct ck_elf_writer **ret);
struct ck_error *ck_elf_writer_add(struct ck_elf_writer *w, const struct ck_out_page *pages,
				   size_t nr, const uint8_t *data, size_t *nr_written,
				   bool *full_ret);

/* The same in two steps, for writers in parallel threads, as for kdump
 * (docs/capture.md).  A batch is a contiguous range of the file, made of
 * extents of the chunk's data and of zeros (short zero runs kept). */
struct ck_elf_extent {
	uint64_t off, len;
	const uint8_t *src;		/* into the chunk's data; NULL: zeros */
};
/* The writer's state before a batch, to go back to if its put fails. */
struct ck_elf_mark {
	size_t cur;
	bool cur_started, open;
	uint64_t seg_paddr, seg_offset, seg_filesz;
	uint64_t nr_phdrs;
	size_t nr_alias_segs;
	uint64_t cursor, pend_paddr, pend_len;
};
struct ck_elf_batch {
	uint64_t data_off, data_len;	/* where the batch goes in the file */
	size_t nr;			/* pages that fit (the first nr) */
	struct ck_elf_extent *ext;	/* owned by the caller: free() it */
	size_t nr_ext, ext_cap;
	struct ck_elf_mark mark;
	bool direct;			/* its space is preallocated: O_DIRECT */
};
/* Lays out the first pages that fit after those of the previous call
 * (segments, program headers, the size limit): calls in pfn order, one at
 * a time, with data kept until the put.  To a file only. */
struct ck_error *ck_elf_writer_reserve(struct ck_elf_writer *w, const struct ck_out_page *pages,
				       size_t nr, const uint8_t *data, struct ck_elf_batch *batch,
				       bool *full_ret);
/* pwrites a reserved batch; thread-safe.  On ENOSPC/EFBIG/EDQUOT *full_ret
 * is set and later reserves come back full. */
struct ck_error *ck_elf_writer_put(struct ck_elf_writer *w, const struct ck_elf_batch *batch,
				   bool *full_ret);
/* A batch's put failed: the dump ends before it (its segments and every
 * later one are forgotten).  Called like reserve, with no reserve running;
 * later reserves come back full. */
void ck_elf_writer_rewind(struct ck_elf_writer *w, const struct ck_elf_batch *batch);
struct ck_error *ck_elf_writer_finish_header(struct ck_elf_writer *w, bool incomplete);
/* Closes the segments, writes the program headers and the header. */
struct ck_error *ck_elf_writer_finish(struct ck_elf_writer *w, bool incomplete);
uint64_t ck_elf_writer_size(const struct ck_elf_writer *w);
uint64_t ck_elf_writer_segments(const struct ck_elf_writer *w);
void ck_elf_writer_destroy(struct ck_elf_writer *w);

/* ---- the capture pipeline (lib/capture.c) ------------------------------- */

struct ck_capture_stats {
	uint64_t max_pfn;
	uint64_t pages_ram;		/* pfns present in the input */
	uint64_t excluded[CK_PAGE_NR_CLASSES];
	uint64_t unreadable;		/* read errors: recorded, not fatal */
	uint64_t absent;		/* excluded in the input (re-filtering) */
	uint64_t kept;			/* pages written */
	uint64_t pages_done;		/* progress: pfns processed so far */
	uint64_t bytes_in;		/* page bytes of the kept pages */
	uint64_t bytes_out;		/* size of the output */
	uint64_t segments;		/* -E: PT_LOADs written */
	uint64_t bitmap_bytes;		/* memory of the bitmaps (both) */
	bool incomplete;
	char filter_note[320];		/* why some classes were kept, or "" */
	const char *encoder;
	unsigned int threads;
	uint64_t split_start, split_end;	/* a split dump's file: its pfns */
};

/* How workers read kept pages.  /proc/vmcore serves read() a page at a
 * time through a temporary kernel mapping of each page, and mmap() by
 * mapping the old memory once: AUTO maps /proc/vmcore in windows and reads
 * other files with pread (docs/capture.md). */
enum ck_capture_read {
	CK_CAPTURE_READ_AUTO,
	CK_CAPTURE_READ_PREAD,		/* makedumpfile --non-mmap */
	CK_CAPTURE_READ_MMAP,
};

struct ck_capture_opts {
	enum ck_codec codec;
	int dump_level;
	bool flattened;
	bool elf;			/* ELF output (makedumpfile -E) */
	int out_fd;			/* flattened: write here (stdout); else -1 */
	unsigned int nr_threads;	/* 0: online CPUs */
	uint64_t size_limit;		/* 0: none */
	bool force;			/* overwrite OUTPUT */
	uint64_t cycle_pfns;		/* pfns per bitmap cycle; 0: default */
	enum ck_capture_read read;	/* how workers read the input */
	/* One file of a split dump: only [split_start, split_end) is saved
	 * (lib/capture_split.c sets these). */
	bool split;
	uint64_t split_start, split_end;
	int64_t tv_sec, tv_usec;	/* kdump header timestamp; 0: now */
	void (*progress)(const struct ck_capture_stats *stats, void *arg);
	void *progress_arg;
};

/* Captures input into output.  Files are written as OUTPUT.incomplete and
 * renamed when complete; an incomplete dump (size limit, full disk) is left
 * under OUTPUT.incomplete, valid and flagged, and the call fails with
 * CK_ERR_OS (ENOSPC) after filling *stats. */
struct ck_error *ck_capture(const char *input, const char *output,
			    const struct ck_capture_opts *opts, struct ck_capture_stats *stats);

/* The 2nd bitmap of every cycle of input, as a capture at dump_level
 * builds it (pages present, minus what the filter excludes), handed to fn
 * in pfn order: bit i of bm2 stands for pfn start + i.  *max_pfn_ret and
 * *page_size_ret are the dump's, set before the first call.  For planning
 * split dumps. */
struct ck_error *ck_capture_walk_dumpable(const char *input, int dump_level,
					  uint64_t cycle_pfns,
					  struct ck_error *(*fn)(void *arg, uint64_t start,
								 uint64_t end,
								 const uint64_t *bm2),
					  void *arg, uint64_t *max_pfn_ret,
					  uint32_t *page_size_ret);

/* ---- split dumps (lib/capture_split.c) ---------------------------------- */

/* makedumpfile's default split block (--splitblock-size): 1 GiB. */
#define CK_SPLIT_BLOCK_SIZE (1ull << 30)
/* How makedumpfile --split cuts [0, max_pfn) into nr files: dumpable pages
 * counted per split block of block_size bytes (0: the default), each file
 * but the last takes whole blocks until it holds total / nr pages.
 * ranges: nr pairs [start, end).  Walks the input's bitmaps twice; memory
 * does not depend on the dump size. */
struct ck_error *ck_capture_split_ranges(const char *input, int dump_level, uint64_t block_size,
					 size_t nr, uint64_t (*ranges)[2],
					 uint64_t *total_ret);
/* makedumpfile --split: writes outputs[0..nr) (each via .incomplete and a
 * rename), one pfn range each.  stats[i] for each file.  A file cut short
 * (size limit, full disk) stays incomplete while the others are written;
 * the call then fails (CK_ERR_OS, ENOSPC) naming it.  block_size: bytes
 * per split block (makedumpfile --splitblock-size), 0: 1 GiB. */
struct ck_error *ck_capture_split(const char *input, const char *const *outputs, size_t nr,
				  const struct ck_capture_opts *opts, uint64_t block_size,
				  struct ck_capture_stats *stats);
/* makedumpfile --reassemble: the files of one split dump, in any order,
 * into one ordinary kdump-compressed OUTPUT (via OUTPUT.incomplete). */
struct ck_error *ck_capture_split_reassemble(const char *const *inputs, size_t nr,
					     const char *output, bool force,
					     uint64_t *pages_ret, uint64_t *bytes_ret);

/* Writes len bytes at logical offset off of an output: pwrite for a file,
 * a record for makedumpfile's flattened stream (lib/output.c).  ENOSPC and
 * EFBIG come back as CK_ERR_OS with the errno. */
struct ck_error *ck_output_write(int fd, bool flattened, const char *path, uint64_t off,
				 const void *buf, size_t len);
/* The flattened stream's header block, and its end record. */
struct ck_error *ck_output_begin_stream(int fd, const char *path);
struct ck_error *ck_output_end_stream(int fd, const char *path);

/* makedumpfile -R: reassembles the flattened stream read from in_fd into
 * OUTPUT (via OUTPUT.incomplete), copying through a fixed buffer. */
struct ck_error *ck_capture_reassemble(int in_fd, const char *output, bool force,
				       uint64_t *bytes_ret);

#endif /* CRASHKIT_CAPTURE_H */
