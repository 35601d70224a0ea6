/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The base layer: errors, checked allocation and arithmetic, typed vectors
 * and hash maps (base/vector.h, base/hash_map.h), binary search, a string
 * builder, whole-buffer I/O and output files, codecs.  It knows nothing of
 * dumps or kernels; every other folder of lib/ builds on it.
 */
#ifndef CRASHKIT_BASE_H
#define CRASHKIT_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <snappy-c.h>	/* types only: the library is loaded on use */

#include "crashkit.h"
#include "base/banned.h"
#include "base/hash_map.h"
#include "base/vector.h"

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
/* The value of the first "KEY=value" line of text, a new string, or NULL
 * (no such line, or no memory): the small state files crashkit writes. */
char *ck_kv_line_value(const char *text, const char *key);

/* Grow a vector (ptr, nr, cap) so that one more element fits.  Returns false on
 * overflow or ENOMEM, leaving the vector untouched. */
bool ck_vec_grow(void **ptr, size_t *cap, size_t nr, size_t elem_size);
#define CK_VEC_PUSH(ptr, nr, cap, val)                                         \
	(ck_vec_grow((void **)&(ptr), &(cap), (nr), sizeof(*(ptr)))            \
		 ? ((ptr)[(nr)++] = (val), true)                               \
		 : false)

/* ---- binary search (lib/base/search.c) --------------------------------- */

/* Compares key with an element of a sorted array, like strcmp: < 0 when
 * key sorts before elem.  arg is passed through. */
typedef int ck_cmp_fn(const void *key, const void *elem, void *arg);

/* Over base[0..nr), nr elements of size bytes sorted in cmp's order:
 *  lower: the index of the first element >= key (nr when none);
 *  upper: the index of the first element > key (nr when none);
 *  le:    the index of the last element <= key, nr when none: the range,
 *	   segment or symbol that starts at or below an address;
 *  eq:    the index of an element equal to key (the first), nr when none. */
size_t ck_bsearch_lower(const void *key, const void *base, size_t nr, size_t size,
			ck_cmp_fn *cmp, void *arg);
size_t ck_bsearch_upper(const void *key, const void *base, size_t nr, size_t size,
			ck_cmp_fn *cmp, void *arg);
size_t ck_bsearch_le(const void *key, const void *base, size_t nr, size_t size,
		     ck_cmp_fn *cmp, void *arg);
size_t ck_bsearch_eq(const void *key, const void *base, size_t nr, size_t size,
		     ck_cmp_fn *cmp, void *arg);

/* ---- string builder (lib/base/strbuf.c) -------------------------------- */

/* A string that grows as it is added to; buf is NUL-terminated whenever it
 * is not NULL.  A failed allocation is sticky: later adds do nothing and
 * return false, detach returns NULL, so a run of adds is checked once. */
struct ck_strbuf {
	char *buf;
	size_t len;
	size_t cap;
	bool failed;
};
#define CK_STRBUF_INIT { .buf = NULL, .len = 0, .cap = 0, .failed = false }

void ck_strbuf_init(struct ck_strbuf *sb);
void ck_strbuf_deinit(struct ck_strbuf *sb);
/* Empties the string (and clears failed), keeping the memory. */
void ck_strbuf_reset(struct ck_strbuf *sb);
bool ck_strbuf_add(struct ck_strbuf *sb, const void *data, size_t len);
bool ck_strbuf_adds(struct ck_strbuf *sb, const char *s);
bool ck_strbuf_addf(struct ck_strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool ck_strbuf_vaddf(struct ck_strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* s with control characters (< 0x20, 0x7f) as C escapes (\n, \t, \r,
 * \x1b): text from untrusted bytes kept on one line, a line format intact. */
bool ck_strbuf_add_escaped(struct ck_strbuf *sb, const char *s);
/* Whether s holds a character ck_strbuf_add_escaped() would escape. */
bool ck_has_control(const char *s);
/* The string (free() it; "" when nothing was added), or NULL after a
 * failed allocation; sb is left empty either way. */
char *ck_strbuf_detach(struct ck_strbuf *sb, size_t *len_ret);

/* ---- whole-buffer I/O and output files (lib/base/io.c) ------------------ */

/*
 * All of len bytes, at off for the p- forms.  EINTR and short transfers
 * are retried; a read stops at the end of the input (*done < len, return
 * 0); a write of zero bytes is ENOSPC.  Return 0 or an errno; *done (may
 * be NULL) says how many bytes moved.  For callers with their own message.
 */
int ck_read_n(int fd, void *buf, size_t len, size_t *done);
int ck_pread_n(int fd, void *buf, size_t len, uint64_t off, size_t *done);
int ck_write_n(int fd, const void *buf, size_t len, size_t *done);
int ck_pwrite_n(int fd, const void *buf, size_t len, uint64_t off, size_t *done);

/* The same with the usual messages:
 *  write_all:  "writing 'PATH': <errno>"
 *  pwrite_all: "writing 'PATH' at offset 0x<where it failed>: <errno>"
 *  read_all:   "reading 'PATH': <errno>"; the end of input is no error,
 *		*got < len says it came
 *  pread_all:  "reading 'PATH' at offset 0x<where>: <errno>", and the end
 *		of the file CK_ERR_TRUNCATED "'PATH': 0x<len> bytes at offset
 *		0x<off> are past its end" */
struct ck_error *ck_write_all(int fd, const void *buf, size_t len, const char *path);
struct ck_error *ck_pwrite_all(int fd, const void *buf, size_t len, uint64_t off,
			       const char *path);
struct ck_error *ck_read_all(int fd, void *buf, size_t len, size_t *got, const char *path);
struct ck_error *ck_pread_all(int fd, void *buf, size_t len, uint64_t off, const char *path);
/* At most max bytes of fd into a new NUL-terminated buffer (*ret, free()
 * it); *len_ret (may be NULL) the bytes read.  Errors as ck_read_all. */
struct ck_error *ck_read_text(int fd, size_t max, char **ret, size_t *len_ret, const char *path);

/*
 * An output file that never looks complete before it is: refused if PATH
 * exists (unless force), written as PATH.incomplete, fsynced and renamed to
 * PATH by commit.  A failed or abandoned one stays PATH.incomplete (keep) or
 * is unlinked.  Initialise with CK_OUTFILE_INIT; abandon after a successful
 * commit, or on one never opened, does nothing, so one cleanup serves all.
 */
struct ck_outfile {
	int fd;			/* open read-write on tmp_path */
	char *path;		/* PATH */
	char *tmp_path;		/* PATH.incomplete */
};
#define CK_OUTFILE_INIT { .fd = -1, .path = NULL, .tmp_path = NULL }

/* CK_ERR_INVALID "'PATH' exists (use -f to overwrite it)" unless force or
 * PATH is absent: to check names before long work, or several at once. */
struct ck_error *ck_outfile_check(const char *path, bool force);
/* The check, then PATH.incomplete created (0600) and truncated. */
struct ck_error *ck_outfile_open(const char *path, bool force, struct ck_outfile *ret);
/* fsync; EINVAL and EROFS (nothing to sync to) are not errors. */
struct ck_error *ck_outfile_sync(struct ck_outfile *of);
/* sync, rename to PATH, close.  On failure of stays open for abandon. */
struct ck_error *ck_outfile_commit(struct ck_outfile *of);
void ck_outfile_abandon(struct ck_outfile *of, bool keep);


/* ---- codecs ----------------------------------------------------------- */



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


/* ---- page encoders (lib/base/encode.c) --------------------------------- */

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

#endif /* CRASHKIT_BASE_H */
