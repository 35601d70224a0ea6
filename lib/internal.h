/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal interfaces shared by the files of libcrashkit.  Nothing here is
 * public; the public API is include/crashkit.h.
 */
#ifndef CRASHKIT_INTERNAL_H
#define CRASHKIT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <snappy-c.h>	/* types only: the library is loaded on use */

#include "crashkit.h"
#include "banned.h"

/* ---- small helpers ---------------------------------------------------- */

#define CK_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CK_MIN(a, b) ((a) < (b) ? (a) : (b))
#define CK_MAX(a, b) ((a) > (b) ? (a) : (b))

static inline void ck_freep(void *p) { free(*(void **)p); }
static inline void ck_closep(int *fd) { if (*fd >= 0) close(*fd); }
#define _cleanup_free_ __attribute__((cleanup(ck_freep)))
#define _cleanup_close_ __attribute__((cleanup(ck_closep)))

/* Overflow-checked arithmetic for sizes and offsets read from dumps. */
static inline bool ck_add_overflow(uint64_t a, uint64_t b, uint64_t *ret)
{
	return __builtin_add_overflow(a, b, ret);
}
static inline bool ck_mul_overflow(uint64_t a, uint64_t b, uint64_t *ret)
{
	return __builtin_mul_overflow(a, b, ret);
}

/* Sets bits [a, b) of a bitmap of 64-bit words. */
static inline void ck_bitmap_set_range(uint64_t *bm, uint64_t a, uint64_t b)
{
	for (; a < b && a % 64; a++)
		bm[a / 64] |= 1ull << (a % 64);
	for (; a + 64 <= b; a += 64)
		bm[a / 64] = ~0ull;
	for (; a < b; a++)
		bm[a / 64] |= 1ull << (a % 64);
}

/* calloc/realloc with overflow-checked nmemb * size.  NULL on failure. */
void *ck_calloc_array(size_t nmemb, size_t size);
void *ck_realloc_array(void *ptr, size_t nmemb, size_t size);
char *ck_strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grow a vector (ptr, nr, cap) so that one more element fits.  Returns false on
 * overflow or ENOMEM, leaving the vector untouched. */
bool ck_vec_grow(void **ptr, size_t *cap, size_t nr, size_t elem_size);
#define CK_VEC_PUSH(ptr, nr, cap, val)                                         \
	(ck_vec_grow((void **)&(ptr), &(cap), (nr), sizeof(*(ptr)))            \
		 ? ((ptr)[(nr)++] = (val), true)                               \
		 : false)

/* ---- ck_file: a byte source that a dump driver reads from ------------- */

/*
 * Drivers never call pread() themselves: they read through a ck_file, which is
 * either a plain file or the logical file reassembled from makedumpfile's
 * flattened stream (lib/flattened.c).  Reads are bounds-checked: a read past
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

/* ---- codecs ----------------------------------------------------------- */

enum ck_codec {
	CK_CODEC_NONE,
	CK_CODEC_ZLIB,
	CK_CODEC_LZO,
	CK_CODEC_SNAPPY,
	CK_CODEC_ZSTD,
};

const char *ck_codec_name(enum ck_codec codec);
/* Decompresses src into exactly dst_len bytes of dst.  Fails with
 * CK_ERR_FORMAT if the data does not decode to exactly dst_len bytes. */
struct ck_error *ck_codec_decompress(enum ck_codec codec, const void *src, size_t src_len,
				     void *dst, size_t dst_len);

/* The same with state kept between pages, for readers on a hot path: zstd's
 * context costs ~20x the decompression of a page to set up, and zlib data is
 * decoded with libdeflate, ~1.6x faster than zlib.  One per reader; not to
 * be shared between threads. */
struct ck_decoder;
struct ck_error *ck_decoder_create(struct ck_decoder **ret);
void ck_decoder_destroy(struct ck_decoder *dec);
struct ck_error *ck_decoder_decompress(struct ck_decoder *dec, enum ck_codec codec,
				       const void *src, size_t src_len, void *dst,
				       size_t dst_len);

/* libsnappy, loaded with dlopen() on the first snappy page, not linked: it
 * drags in libstdc++, ~1 ms of start-up for every command, and only snappy
 * dumps need it.  The functions of snappy-c.h, resolved once per process
 * (pthread_once) and never unloaded.  Fails with CK_ERR_UNSUPPORTED naming
 * the library when it cannot be loaded. */
#define CK_SNAPPY_SONAME "libsnappy.so.1"
struct ck_snappy {
	snappy_status (*compress)(const char *input, size_t input_length, char *compressed,
				  size_t *compressed_length);
	snappy_status (*uncompress)(const char *compressed, size_t compressed_length,
				    char *uncompressed, size_t *uncompressed_length);
	size_t (*max_compressed_length)(size_t source_length);
	snappy_status (*uncompressed_length)(const char *compressed, size_t compressed_length,
					     size_t *result);
};
struct ck_error *ck_snappy_get(const struct ck_snappy **ret);

/* ---- dump drivers ------------------------------------------------------ */

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
	void (*close)(struct ck_dump *dump);
};

extern const struct ck_dump_ops ck_dump_elf_ops;
extern const struct ck_dump_ops ck_dump_kdump_ops;
/* lib/dump_kdump.c: dump answers for the pages of others too (split dump
 * files read together); takes others, also on failure. */
struct ck_error *ck_dump_kdump_join(struct ck_dump *dump, struct ck_dump **others, size_t nr);

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

/* An ELF dump's PT_LOAD as written (they may overlap: /proc/vmcore maps the
 * kernel image twice), for writers that keep the virtual addresses. */
struct ck_elf_load {
	uint64_t paddr, vaddr, memsz;
};
/* The PT_LOADs of an ELF dump in file order and its e_machine; 0 and NULL
 * for other formats. */
size_t ck_dump_elf_loads(const struct ck_dump *dump, const struct ck_elf_load **ret,
			 uint16_t *machine);

/* Parses raw ELF notes (n_namesz/n_descsz/n_type records, 4-byte aligned)
 * from dump->notes_buf into dump->notes, and picks up VMCOREINFO. Used by
 * every driver. */
struct ck_error *ck_dump_parse_notes(struct ck_dump *dump);

/* ---- kernel ------------------------------------------------------------ */

struct ck_vmcoreinfo_entry {
	char *key;
	char *value;
};

struct ck_kallsyms;
struct ck_arch_ops;

struct ck_kernel {
	struct ck_dump *dump;
	struct ck_vmcoreinfo_entry *vmcoreinfo;	/* sorted by key */
	size_t nr_vmcoreinfo;
	const struct ck_arch_ops *arch;
	void *arch_priv;
	uint64_t kaslr_offset;
	struct ck_kallsyms *kallsyms;
};

/* Parses VMCOREINFO text ("KEY=value\n" lines) into kernel->vmcoreinfo. */
struct ck_error *ck_vmcoreinfo_parse(struct ck_kernel *kernel, const char *text,
				     size_t len);

struct ck_arch_ops {
	const char *name;
	struct ck_error *(*init)(struct ck_kernel *kernel);
	struct ck_error *(*virt_to_phys)(struct ck_kernel *kernel, uint64_t vaddr,
					 uint64_t *ret);
	void (*deinit)(struct ck_kernel *kernel);
	/* The virtual mappings an ELF vmcore of this machine would carry for
	 * the physical ranges given (what /proc/vmcore's PT_LOADs say), in
	 * file order: the kernel image first, then each range.  For writing
	 * an ELF dump from a dump that has no program headers.  NULL: not
	 * known for this architecture. */
	struct ck_error *(*elf_loads)(struct ck_kernel *kernel, const struct ck_mem_range *ranges,
				      size_t nr_ranges, struct ck_elf_load **ret, size_t *nr_ret);
};

extern const struct ck_arch_ops ck_arch_x86_64_ops;

/* The arch's elf_loads, or CK_ERR_UNSUPPORTED. */
struct ck_error *ck_kernel_elf_loads(struct ck_kernel *kernel, const struct ck_mem_range *ranges,
				     size_t nr_ranges, struct ck_elf_load **ret, size_t *nr_ret);

struct ck_error *ck_kallsyms_create(struct ck_kernel *kernel, struct ck_kallsyms **ret);
void ck_kallsyms_destroy(struct ck_kallsyms *ks);
struct ck_error *ck_kallsyms_by_name(struct ck_kallsyms *ks, const char *name,
				     struct ck_symbol *ret);
struct ck_error *ck_kallsyms_by_address(struct ck_kallsyms *ks, uint64_t addr,
					struct ck_symbol *ret);
void ck_kallsyms_info(const struct ck_kallsyms *ks, struct ck_symbols_info *ret);

#endif /* CRASHKIT_INTERNAL_H */
