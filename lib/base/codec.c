/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Page decompression for the codecs makedumpfile and QEMU write into
 * kdump-compressed dumps.  Each page is compressed on its own (makedumpfile:
 * compress2(), lzo1x_1_compress(), snappy_compress(), ZSTD_compressCCtx()),
 * so every call here decodes one self-contained buffer.
 *
 * Strict on purpose: the output must be exactly dst_len bytes.  A page that
 * decodes to less or more is corrupt, and quietly zero-filling or truncating
 * it would hand wrong memory to the kernel layer.
 */
#include <dlfcn.h>
#include <libdeflate.h>
#include <lzo/lzo1x.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "base/base.h"

const char *ck_codec_name(enum ck_codec codec)
{
	switch (codec) {
	case CK_CODEC_NONE:
		return "none";
	case CK_CODEC_ZLIB:
		return "zlib";
	case CK_CODEC_LZO:
		return "lzo";
	case CK_CODEC_SNAPPY:
		return "snappy";
	case CK_CODEC_ZSTD:
		return "zstd";
	}
	return "unknown";
}

/*
 * libsnappy on first use (docs/design.md, "Executables", says why).  This is the one piece of
 * process-wide mutable state in the library, and it is written exactly once:
 * snappy_resolve() runs under pthread_once, and everything it sets is
 * read-only afterwards, so readers and capture workers on any thread may
 * call ck_snappy_get() at any time.  The handle is never closed.
 */
static pthread_once_t snappy_once = PTHREAD_ONCE_INIT;
static struct ck_snappy snappy_api;
static bool snappy_loaded;
static char snappy_why[256];

static void snappy_resolve(void)
{
	void *h = dlopen(CK_SNAPPY_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *why = dlerror();
		snprintf(snappy_why, sizeof(snappy_why), "%s", why ? why : "dlopen failed");
		return;
	}
	struct ck_snappy api;
#define SNAPPY_SYM(field, name)                                                      \
	do {                                                                         \
		void *sym = dlsym(h, name);                                          \
		if (!sym) {                                                          \
			snprintf(snappy_why, sizeof(snappy_why), "no symbol %s", name); \
			return;                                                      \
		}                                                                    \
		memcpy(&api.field, &sym, sizeof(sym));                               \
	} while (0)
	SNAPPY_SYM(compress, "snappy_compress");
	SNAPPY_SYM(uncompress, "snappy_uncompress");
	SNAPPY_SYM(max_compressed_length, "snappy_max_compressed_length");
	SNAPPY_SYM(uncompressed_length, "snappy_uncompressed_length");
#undef SNAPPY_SYM
	snappy_api = api;
	snappy_loaded = true;
}

struct ck_error *ck_snappy_get(const struct ck_snappy **ret)
{
	pthread_once(&snappy_once, snappy_resolve);
	if (!snappy_loaded)
		return ck_error_create(CK_ERR_UNSUPPORTED,
				       "snappy needs %s, which cannot be loaded (%s; Debian: "
				       "apt install libsnappy1v5)", CK_SNAPPY_SONAME, snappy_why);
	*ret = &snappy_api;
	return NULL;
}

static struct ck_error *codec_bad(enum ck_codec codec, size_t src_len, size_t got,
				  size_t dst_len, const char *why)
{
	return ck_error_create(CK_ERR_FORMAT,
		"%s data of %zu bytes does not decompress to a %zu-byte page (%s%s%zu bytes)",
		ck_codec_name(codec), src_len, dst_len, why ? why : "got ",
		why ? ", " : "", got);
}

struct ck_error *ck_codec_decompress(enum ck_codec codec, const void *src, size_t src_len,
				     void *dst, size_t dst_len)
{
	switch (codec) {
	case CK_CODEC_NONE:
		if (src_len != dst_len)
			return codec_bad(codec, src_len, src_len, dst_len, NULL);
		memcpy(dst, src, dst_len);
		return NULL;
	case CK_CODEC_ZLIB: {
		uLongf out = dst_len;
		int r = uncompress(dst, &out, src, src_len);
		if (r != Z_OK || out != dst_len)
			return codec_bad(codec, src_len, r == Z_OK ? out : 0, dst_len,
					 r == Z_OK ? NULL : zError(r));
		return NULL;
	}
	case CK_CODEC_LZO: {
		lzo_uint out = dst_len;
		/* The _safe variant checks both buffers: the input is untrusted. */
		int r = lzo1x_decompress_safe(src, src_len, dst, &out, NULL);
		if (r != LZO_E_OK || out != dst_len)
			return codec_bad(codec, src_len, out, dst_len,
					 r == LZO_E_OK ? NULL : "lzo error");
		return NULL;
	}
	case CK_CODEC_SNAPPY: {
		const struct ck_snappy *sn;
		struct ck_error *err = ck_snappy_get(&sn);
		if (err)
			return err;
		size_t out;
		if (sn->uncompressed_length(src, src_len, &out) != SNAPPY_OK)
			return codec_bad(codec, src_len, 0, dst_len, "bad length header");
		if (out != dst_len)
			return codec_bad(codec, src_len, out, dst_len, NULL);
		if (sn->uncompress(src, src_len, dst, &out) != SNAPPY_OK ||
		    out != dst_len)
			return codec_bad(codec, src_len, out, dst_len, "snappy error");
		return NULL;
	}
	case CK_CODEC_ZSTD: {
		size_t r = ZSTD_decompress(dst, dst_len, src, src_len);
		if (ZSTD_isError(r) || r != dst_len)
			return codec_bad(codec, src_len, ZSTD_isError(r) ? 0 : r, dst_len,
					 ZSTD_isError(r) ? ZSTD_getErrorName(r) : NULL);
		return NULL;
	}
	}
	return ck_error_create(CK_ERR_INVALID, "unknown codec %d", (int)codec);
}

struct ck_decoder {
	struct libdeflate_decompressor *deflate;	/* made on first use */
	ZSTD_DCtx *zstd;				/* made on first use */
};

struct ck_error *ck_decoder_create(struct ck_decoder **ret)
{
	struct ck_decoder *dec = calloc(1, sizeof(*dec));
	if (!dec)
		return &ck_error_nomem;
	*ret = dec;
	return NULL;
}

void ck_decoder_destroy(struct ck_decoder *dec)
{
	if (!dec)
		return;
	libdeflate_free_decompressor(dec->deflate);
	ZSTD_freeDCtx(dec->zstd);
	free(dec);
}

struct ck_error *ck_decoder_decompress(struct ck_decoder *dec, enum ck_codec codec,
				       const void *src, size_t src_len, void *dst,
				       size_t dst_len)
{
	switch (codec) {
	case CK_CODEC_ZLIB: {
		if (!dec->deflate && !(dec->deflate = libdeflate_alloc_decompressor()))
			return &ck_error_nomem;
		/* With no actual_out pointer, libdeflate insists on exactly
		 * dst_len bytes: the strictness we want. */
		enum libdeflate_result r =
			libdeflate_zlib_decompress(dec->deflate, src, src_len, dst, dst_len, NULL);
		if (r != LIBDEFLATE_SUCCESS)
			return codec_bad(codec, src_len, 0, dst_len,
					 r == LIBDEFLATE_SHORT_OUTPUT ? "too short" :
					 r == LIBDEFLATE_INSUFFICIENT_SPACE ? "too long" :
									      "bad data");
		return NULL;
	}
	case CK_CODEC_ZSTD: {
		if (!dec->zstd && !(dec->zstd = ZSTD_createDCtx()))
			return &ck_error_nomem;
		size_t r = ZSTD_decompressDCtx(dec->zstd, dst, dst_len, src, src_len);
		if (ZSTD_isError(r) || r != dst_len)
			return codec_bad(codec, src_len, ZSTD_isError(r) ? 0 : r, dst_len,
					 ZSTD_isError(r) ? ZSTD_getErrorName(r) : NULL);
		return NULL;
	}
	default:
		/* lzo and snappy keep no state; none is a copy. */
		return ck_codec_decompress(codec, src, src_len, dst, dst_len);
	}
}
