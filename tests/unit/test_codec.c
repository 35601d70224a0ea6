/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/base/codec.c: each page codec (zlib, lzo, snappy, zstd)
 * round-trips a page compressed by tests/mkdump.h, insists on the exact
 * decoded size, with the one-shot call and the reusable decoder, and fails
 * cleanly on cut and random input.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "../mkdump.h"
#include "../harness.h"

static void test_codecs(void)
{
	static const enum mk_kind kinds[] = { MK_ZLIB, MK_LZO, MK_SNAPPY, MK_ZSTD };
	static const enum ck_codec codecs[] = { CK_CODEC_ZLIB, CK_CODEC_LZO, CK_CODEC_SNAPPY,
						CK_CODEC_ZSTD };
	uint8_t page[PS], out[PS + 16], comp[2 * PS];
	mk_fill(page, 0x5000, PS);
	uint64_t seed = 42;
	for (size_t i = 0; i < CK_ARRAY_SIZE(kinds); i++) {
		const char *name = ck_codec_name(codecs[i]);
		size_t n = mk_compress(kinds[i], page, PS, comp, sizeof(comp));
		EXPECT(n > 0 && n < PS, "%s: compress gave %zu", name, n);
		struct ck_error *err = ck_codec_decompress(codecs[i], comp, n, out, PS);
		EXPECT(!err && !memcmp(out, page, PS), "%s: %s", name, msg(err));
		ck_error_destroy(err);
		/* Strict size: a page that decodes to a different length fails. */
		err = ck_codec_decompress(codecs[i], comp, n, out, PS - 16);
		EXPECT(err && ck_error_code(err) == CK_ERR_FORMAT, "%s short: %s", name, msg(err));
		ck_error_destroy(err);
		err = ck_codec_decompress(codecs[i], comp, n, out, PS + 16);
		EXPECT(err && ck_error_code(err) == CK_ERR_FORMAT, "%s long: %s", name, msg(err));
		ck_error_destroy(err);
		/* The stateful decoder, as the kdump reader uses it, twice. */
		struct ck_decoder *dec = NULL;
		err = ck_decoder_create(&dec);
		EXPECT(!err, "decoder: %s", msg(err));
		for (int rep = 0; dec && rep < 2; rep++) {
			memset(out, 0, sizeof(out));
			err = ck_decoder_decompress(dec, codecs[i], comp, n, out, PS);
			EXPECT(!err && !memcmp(out, page, PS), "%s decoder: %s", name, msg(err));
			ck_error_destroy(err);
			err = ck_decoder_decompress(dec, codecs[i], comp, n, out, PS - 16);
			EXPECT(err && ck_error_code(err) == CK_ERR_FORMAT, "%s decoder short: %s",
			       name, msg(err));
			ck_error_destroy(err);
			err = ck_decoder_decompress(dec, codecs[i], comp, n, out, PS + 16);
			EXPECT(err && ck_error_code(err) == CK_ERR_FORMAT, "%s decoder long: %s",
			       name, msg(err));
			ck_error_destroy(err);
			err = ck_decoder_decompress(dec, codecs[i], comp, n / 2, out, PS);
			EXPECT(err != NULL, "%s decoder: cut input decoded", name);
			ck_error_destroy(err);
		}
		/* Cut input and garbage input fail cleanly. */
		err = ck_codec_decompress(codecs[i], comp, n / 2, out, PS);
		EXPECT(err != NULL, "%s: cut input decoded", name);
		ck_error_destroy(err);
		for (int t = 0; t < 200; t++) {
			uint8_t junk[512];
			for (size_t k = 0; k < sizeof(junk); k++)
				junk[k] = mk_rand(&seed);
			size_t len = 1 + mk_rand(&seed) % sizeof(junk);
			err = ck_codec_decompress(codecs[i], junk, len, out, PS);
			ck_error_destroy(err);
			if (dec) {
				err = ck_decoder_decompress(dec, codecs[i], junk, len, out, PS);
				ck_error_destroy(err);
			}
		}
		ck_decoder_destroy(dec);
	}
	struct ck_error *err = ck_codec_decompress(CK_CODEC_NONE, page, PS, out, PS);
	EXPECT(!err && !memcmp(out, page, PS), "none: %s", msg(err));
	ck_error_destroy(err);
	err = ck_codec_decompress(CK_CODEC_NONE, page, 100, out, PS);
	EXPECT(err != NULL, "none with wrong size decoded");
	ck_error_destroy(err);
}

int main(void)
{
	int r = harness_begin("codec");
	if (r)
		return r;
	run("codecs: round trip, strict size, garbage", test_codecs);
	return harness_end();
}
