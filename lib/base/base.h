/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The base layer: errors, checked allocation and arithmetic, codecs.  It
 * knows nothing of dumps or kernels; every other folder of lib/ builds on it.
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
