/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SHA-256 (FIPS 180-4), small and self-contained: crash signatures hash a
 * few hundred bytes, so no streaming interface is needed.
 */
#ifndef CRASHKIT_BASE_SHA256_H
#define CRASHKIT_BASE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define CK_SHA256_LEN 32

/* The digest of len bytes at data. */
void ck_sha256(const void *data, size_t len, uint8_t out[CK_SHA256_LEN]);
/* The same as lower-case hex, NUL-terminated (65 bytes). */
void ck_sha256_hex(const void *data, size_t len, char out[2 * CK_SHA256_LEN + 1]);

#endif /* CRASHKIT_BASE_SHA256_H */
