/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Page compressors for the kdump-compressed writer.  Each page is compressed
 * on its own, as makedumpfile does, so that a reader can decode any page
 * without its neighbours.  One encoder per worker thread: the codec contexts
 * are not shared.
 *
 * zlib (-c): readers only need a valid zlib stream (RFC 1950), not zlib's
 * own bytes.  libdeflate at level 1 writes one several times faster than
 * zlib's compress2(level 1), which makedumpfile uses; bench/capture.sh and
 * docs/capture.md give the figures that chose it.
 */
#include <libdeflate.h>
#include <lzo/lzo1x.h>
#include <string.h>
#include <zstd.h>

#include "base/base.h"

struct ck_encoder {
	enum ck_codec codec;
	uint32_t page_size;
	struct libdeflate_compressor *deflate;
	ZSTD_CCtx *zstd;
	void *lzo_wrk;
	const struct ck_snappy *snappy;	/* loaded on first use (lib/base/codec.c) */
	uint8_t *scratch;	/* worst-case output for lzo and snappy */
	size_t scratch_len;
};

/* libdeflate level 2: on the lab's kernel pages 4.3x faster than zlib's
 * level 1 and 3% smaller; its level 1 is 2% larger than zlib's, ISA-L's
 * level 1 4% larger (bench/codec_pages.c, docs/capture.md). */
#define CK_DEFLATE_LEVEL 2

struct ck_error *ck_encoder_create(enum ck_codec codec, uint32_t page_size,
				   struct ck_encoder **ret)
{
	struct ck_encoder *enc = calloc(1, sizeof(*enc));
	if (!enc)
		return &ck_error_nomem;
	enc->codec = codec;
	enc->page_size = page_size;
	switch (codec) {
	case CK_CODEC_NONE:
		break;
	case CK_CODEC_ZLIB:
		enc->deflate = libdeflate_alloc_compressor(CK_DEFLATE_LEVEL);
		if (!enc->deflate)
			goto nomem;
		break;
	case CK_CODEC_LZO:
		if (lzo_init() != LZO_E_OK) {
			ck_encoder_destroy(enc);
			return ck_error_create(CK_ERR_UNSUPPORTED, "lzo_init failed");
		}
		enc->lzo_wrk = malloc(LZO1X_1_MEM_COMPRESS);
		enc->scratch_len = page_size + page_size / 16 + 64 + 3;
		enc->scratch = malloc(enc->scratch_len);
		if (!enc->lzo_wrk || !enc->scratch)
			goto nomem;
		break;
	case CK_CODEC_SNAPPY: {
		struct ck_error *err = ck_snappy_get(&enc->snappy);
		if (err) {
			ck_encoder_destroy(enc);
			return err;
		}
		enc->scratch_len = enc->snappy->max_compressed_length(page_size);
		enc->scratch = malloc(enc->scratch_len);
		if (!enc->scratch)
			goto nomem;
		break;
	}
	case CK_CODEC_ZSTD:
		enc->zstd = ZSTD_createCCtx();
		if (!enc->zstd)
			goto nomem;
		ZSTD_CCtx_setParameter(enc->zstd, ZSTD_c_compressionLevel, 1);
		/* A page is one frame: the size in the header lets readers
		 * check it, and no checksum (the page descriptor has the size). */
		ZSTD_CCtx_setParameter(enc->zstd, ZSTD_c_contentSizeFlag, 1);
		break;
	default:
		ck_encoder_destroy(enc);
		return ck_error_create(CK_ERR_INVALID, "unknown codec %d", (int)codec);
	}
	*ret = enc;
	return NULL;
nomem:
	ck_encoder_destroy(enc);
	return &ck_error_nomem;
}

void ck_encoder_destroy(struct ck_encoder *enc)
{
	if (!enc)
		return;
	if (enc->deflate)
		libdeflate_free_compressor(enc->deflate);
	ZSTD_freeCCtx(enc->zstd);
	free(enc->lzo_wrk);
	free(enc->scratch);
	free(enc);
}

const char *ck_encoder_backend(const struct ck_encoder *enc)
{
	switch (enc->codec) {
	case CK_CODEC_ZLIB:
		return "libdeflate-2";
	case CK_CODEC_LZO:
		return "lzo1x_1";
	case CK_CODEC_SNAPPY:
		return "snappy";
	case CK_CODEC_ZSTD:
		return "zstd-1";
	default:
		return "none";
	}
}

size_t ck_encoder_compress(struct ck_encoder *enc, const void *src, void *dst)
{
	size_t ps = enc->page_size, n = 0;
	switch (enc->codec) {
	case CK_CODEC_NONE:
		return 0;
	case CK_CODEC_ZLIB:
		/* 0 when the result would not fit in ps - 1 bytes */
		return libdeflate_zlib_compress(enc->deflate, src, ps, dst, ps - 1);
	case CK_CODEC_LZO: {
		lzo_uint out = enc->scratch_len;
		if (lzo1x_1_compress(src, ps, enc->scratch, &out, enc->lzo_wrk) != LZO_E_OK)
			return 0;
		n = out;
		break;
	}
	case CK_CODEC_SNAPPY: {
		size_t out = enc->scratch_len;
		if (enc->snappy->compress(src, ps, (char *)enc->scratch, &out) != SNAPPY_OK)
			return 0;
		n = out;
		break;
	}
	case CK_CODEC_ZSTD: {
		size_t r = ZSTD_compress2(enc->zstd, dst, ps - 1, src, ps);
		return ZSTD_isError(r) ? 0 : r;
	}
	}
	if (n == 0 || n >= ps)
		return 0;
	memcpy(dst, enc->scratch, n);
	return n;
}
