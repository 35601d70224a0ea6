/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The dump layer: bytes of a dump file (ck_file, flattened streams), the
 * format drivers that read them, and the writers of kdump-compressed and
 * ELF dumps.  Nothing here knows a Linux structure.
 */
#ifndef CRASHKIT_DUMP_H
#define CRASHKIT_DUMP_H

#include <errno.h>

#include "base/base.h"

/* ---- ck_file: a byte source that a dump driver reads from ------------- */

/*
 * Drivers never call pread() themselves: they read through a ck_file, which is
 * either a plain file or the logical file reassembled from makedumpfile's
 * flattened stream (lib/dump/flattened.c).  Reads are bounds-checked: a read past
 * the end fails with CK_ERR_TRUNCATED naming the file and offset.
 */
struct ck_file_seg {
	uint64_t logical;	/* offset in the logical file */
	uint64_t physical;	/* offset in the real file */
	uint64_t size;
};

struct ck_file {
	char *path;
	int fd;
	uint64_t size;		/* logical size */
	uint64_t real_size;	/* size of the file on disk */
	/* bytes of data the file holds: real_size, or for a flattened stream
	 * the sum of its records (its holes hold nothing).  What a driver
	 * allocates for a structure it reads is bounded by this, not by the
	 * logical size a stream may claim with one record far out. */
	uint64_t data_size;
	/* the whole file mapped read-only when it is a regular file (reads
	 * are then a memcpy), else NULL and reads use pread() */
	const uint8_t *map;
	bool procfs;		/* /proc/vmcore, /proc/kcore: never mapped whole */
	bool flattened;
	/* flattened only: the stream ends without its end marker, so data
	 * past the last complete record is missing */
	bool truncated;
	/* flattened only: segments sorted by logical offset, non-overlapping */
	struct ck_file_seg *segs;
	size_t nr_segs;
};

struct ck_error *ck_file_open(const char *path, struct ck_file **ret);
void ck_file_destroy(struct ck_file *file);
/* Reads exactly len bytes at off of the logical file. Holes in a flattened
 * file read as zeros. */
struct ck_error *ck_file_read(struct ck_file *file, uint64_t off, void *buf, size_t len);
/* Like ck_file_read() but returns the number of bytes available (short at EOF)
 * instead of failing. */
struct ck_error *ck_file_read_partial(struct ck_file *file, uint64_t off, void *buf,
				      size_t len, size_t *ret);
/* Whether ck_file_read(file, off, buf, len) would find all the bytes: within the
 * size and, in a truncated flattened stream, not in a hole. */
bool ck_file_has(const struct ck_file *file, uint64_t off, uint64_t len);

/* Parses makedumpfile's flattened format and replaces file's view with the
 * reassembled one. CK_ERR_NOT_FORMAT if the file is not flattened. */
struct ck_error *ck_flattened_index(struct ck_file *file);


/* ---- dump drivers ------------------------------------------------------ */

/* An ELF dump's PT_LOAD as written (they may overlap: /proc/vmcore maps the
 * kernel image twice), for writers that keep the virtual addresses. */
struct ck_elf_load {
	uint64_t paddr, vaddr, memsz;
};

struct ck_dump_ops {
	const char *name;
	/*
	 * Recognises and opens the format on dump->file, filling dump->info,
	 * dump->ranges, dump->notes_buf and driver private data.
	 * CK_ERR_NOT_FORMAT means "not mine": the next driver is tried.
	 */
	struct ck_error *(*open)(struct ck_dump *dump);
	/* Reads one whole page (info.page_size bytes) of frame pfn. */
	struct ck_error *(*read_page)(struct ck_dump *dump, uint64_t pfn, void *buf);
	bool (*has_page)(struct ck_dump *dump, uint64_t pfn);
	/* Optional: has_page for the frames [start, end) at once, setting
	 * bit i of bm for frame start + i (start a multiple of 64; bm
	 * zeroed by the caller).  Without it ck_dump_has_pages asks
	 * has_page frame by frame. */
	void (*has_pages)(struct ck_dump *dump, uint64_t start, uint64_t end, uint64_t *bm);
	/* Optional: true when frame pfn is stored whole and raw at *off of
	 * dump->file (read_page would copy it from there), so that runs of
	 * pages can be read in one call (capture). */
	bool (*page_offset)(struct ck_dump *dump, uint64_t pfn, uint64_t *off);
	/* Optional (formats that split: kdump): dump answers for the pages of
	 * others too, the other files of its split dump read together.  Takes
	 * others, also on failure.  Called through ck_dump_join(). */
	struct ck_error *(*join)(struct ck_dump *dump, struct ck_dump **others, size_t nr);
	/* Optional (ELF): the program headers as written and e_machine.
	 * Called through ck_dump_loads(). */
	size_t (*loads)(const struct ck_dump *dump, const struct ck_elf_load **ret,
			uint16_t *machine);
	/* Optional (ELF): ck_dump_lost_pages() without visiting every frame
	 * of the memory ranges, which may be vast where the file has no data
	 * (p_memsz beyond p_filesz): the work stays bounded by the pieces. */
	struct ck_error *(*lost_pages)(struct ck_dump *dump, struct ck_dump_loss *loss);
	void (*close)(struct ck_dump *dump);
};

extern const struct ck_dump_ops ck_dump_elf_ops;
extern const struct ck_dump_ops ck_dump_kdump_ops;

/* The driver's join: dump answers for the pages of others too (the files of
 * a split dump read together).  Takes others, also on failure; a format
 * without split dumps refuses. */
struct ck_error *ck_dump_join(struct ck_dump *dump, struct ck_dump **others, size_t nr);

#define CK_PAGE_CACHE_SLOTS 16

struct ck_dump {
	struct ck_file *file;
	const struct ck_dump_ops *ops;
	void *priv;			/* driver private state */
	struct ck_dump_info info;
	struct ck_mem_range *ranges;
	size_t nr_ranges;
	/* ELF notes: raw note bytes copied from the dump, and the parsed view */
	void *notes_buf;
	size_t notes_len;
	uint64_t notes_offset;		/* file offset of notes_buf, for errors */
	struct ck_note *notes;
	size_t nr_notes;
	char *vmcoreinfo;		/* NUL-terminated copy, or NULL */
	size_t vmcoreinfo_len;
	/* a small cache of whole pages, so that readers of structures that
	 * straddle calls do not decompress the same page again */
	uint8_t *cache_mem;
	uint64_t cache_pfn[CK_PAGE_CACHE_SLOTS];
	bool cache_valid[CK_PAGE_CACHE_SLOTS];
	unsigned int cache_next;
	char origin_buf[32];
	char format_buf[32];
};

/* The program headers of the dump in file order and its e_machine, for a
 * writer that keeps them (ELF); 0 for formats that have none. */
size_t ck_dump_loads(const struct ck_dump *dump, const struct ck_elf_load **ret,
		     uint16_t *machine);
/* e_machine of an architecture as ck_dump_info() names it ("x86_64",
 * "aarch64", ...): the ELF reader's table read backwards.  EM_NONE (0)
 * when unknown. */
uint16_t ck_elf_machine(const char *arch);

/* Parses raw ELF notes (n_namesz/n_descsz/n_type records, 4-byte aligned)
 * from dump->notes_buf into dump->notes, and picks up VMCOREINFO. Used by
 * every driver. */
struct ck_error *ck_dump_parse_notes(struct ck_dump *dump);

/* ---- writers: one interface, two formats ------------------------------- */

/*
 * A dump writer places pages in pfn order and writes them, to a file or as
 * makedumpfile's flattened stream.  The kdump-compressed writer
 * (lib/dump/kdump_write.c) and the ELF writer (lib/dump/elf_write.c)
 * implement the same ops; the capture pipeline (lib/capture/capture.c)
 * knows no other.
 *
 * To a file, pages go in two steps so that capture workers write in
 * parallel (docs/capture.md): reserve, called in pfn order one at a time,
 * decides where a batch of pages goes (the size limit applied there);
 * put writes it, from any thread.  The bytes are the same whatever order
 * the puts land in.  To a stream, add places and writes at once, in stream
 * order.
 */

/* One page handed to a writer, in pfn order. */
struct ck_out_page {
	uint64_t pfn;
	uint32_t size;			/* bytes in the chunk's data; 0: zero page */
	uint32_t flags;			/* CK_KDUMP_COMPRESSED_* or 0 (raw) */
};

/* A batch of pages between its reserve and its put.  The writer keeps its
 * own state in priv (kdump: descriptors; ELF: extents of data and zeros,
 * and where to go back to if the put fails). */
struct ck_write_batch {
	size_t nr;			/* pages placed: the first nr */
	bool put;			/* the reserve left bytes for put to write */
	void *priv;
};

struct ck_writer;

struct ck_writer_ops {
	const char *name;
	/* A batch of up to max_pages pages; deinit frees what init took. */
	struct ck_error *(*batch_init)(struct ck_writer *w, struct ck_write_batch *b,
				       size_t max_pages);
	void (*batch_deinit)(struct ck_writer *w, struct ck_write_batch *b);
	/* Places the first pages that fit (b->nr of nr) after those of the
	 * previous call; data (the pages' bytes back to back) is kept until
	 * the put.  *full_ret when the size limit cut the batch or an
	 * earlier put found the disk full.  To a file only. */
	struct ck_error *(*reserve)(struct ck_writer *w, const struct ck_out_page *pages,
				    size_t nr, const uint8_t *data, struct ck_write_batch *b,
				    bool *full_ret);
	/* Writes a reserved batch; thread-safe.  On ENOSPC/EFBIG/EDQUOT
	 * nothing of the batch counts, *full_ret is set and later reserves
	 * come back full. */
	struct ck_error *(*put)(struct ck_writer *w, const struct ck_write_batch *b,
				bool *full_ret);
	/* A batch's put found the disk full: the dump ends before it.
	 * Called like reserve, with no reserve running. */
	void (*rewind)(struct ck_writer *w, const struct ck_write_batch *b);
	/* Reserve and put at once, for a stream (b: scratch room for nr
	 * pages).  *nr_written says how many made it; fewer than nr means
	 * the size limit or the disk is full (then *full_ret is set and the
	 * error, if any, says which). */
	struct ck_error *(*add)(struct ck_writer *w, struct ck_write_batch *b,
				const struct ck_out_page *pages, size_t nr, const uint8_t *data,
				size_t *nr_written, bool *full_ret);
	/* Optional (NULL: the format has none): writes both bitmaps of the
	 * pfns [start, start + nr) (start a multiple of 8): bit i of each
	 * stands for pfn start + i. */
	struct ck_error *(*bitmaps)(struct ck_writer *w, uint64_t start, uint64_t nr,
				    const uint64_t *bitmap1, const uint64_t *bitmap2);
	/* Writes what is left and the final header (flagged incomplete when
	 * asked). */
	struct ck_error *(*finish)(struct ck_writer *w, bool incomplete);
	/* Bytes of output so far (the largest end written); any thread. */
	uint64_t (*size)(const struct ck_writer *w);
	/* Program headers written (ELF); 0 for a format without. */
	uint64_t (*segments)(const struct ck_writer *w);
	void (*destroy)(struct ck_writer *w);
};

struct ck_writer {
	const struct ck_writer_ops *ops;
};

/* ck_writer_destroy(NULL) does nothing. */
static inline void ck_writer_destroy(struct ck_writer *w)
{
	if (w)
		w->ops->destroy(w);
}

/* ENOSPC, EFBIG, EDQUOT: the disk or the file is full; the dump stays
 * valid and incomplete. */
static inline bool ck_writer_errno_full(int e)
{
	return e == ENOSPC || e == EFBIG || e == EDQUOT;
}

/* -- kdump-compressed (header version 6) -- */

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

/* Writeback is started on a put of at least this much data. */
#define CK_KDUMP_WRITEBACK_MIN (256u * 1024)

/* Pages may be compressed (flags) or zero (size 0: the shared zero page). */
struct ck_error *ck_kdump_writer_create(const struct ck_kdump_writer_params *params,
					struct ck_writer **ret);

/* -- ELF (crashkit capture -E) -- */

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
	 * The writer takes it and closes it when destroyed. */
	int dio_fd;
};

/* Pages come uncompressed (size = page size) or zero (size 0).  A batch is
 * a contiguous range of the file, made of extents of the chunk's data and
 * of zeros (short zero runs kept). */
struct ck_error *ck_elf_writer_create(const struct ck_elf_writer_params *params,
				      struct ck_writer **ret);

/* ---- output (lib/dump/output.c) ----------------------------------------- */

/* Writes len bytes at logical offset off of an output: pwrite for a file,
 * a record for makedumpfile's flattened stream (lib/dump/output.c).  ENOSPC and
 * EFBIG come back as CK_ERR_OS with the errno. */
struct ck_error *ck_output_write(int fd, bool flattened, const char *path, uint64_t off,
				 const void *buf, size_t len);
/* The flattened stream's header block, and its end record. */
struct ck_error *ck_output_begin_stream(int fd, const char *path);
struct ck_error *ck_output_end_stream(int fd, const char *path);

#endif /* CRASHKIT_DUMP_H */
