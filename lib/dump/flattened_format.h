/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * On-disk layout of makedumpfile's flattened format (makedumpfile -F,
 * kdump-tools over ssh, QEMU's dump-guest-memory kdump-* before QEMU 8.2's
 * "reassembled" option).  The one copy of this layout, shared by the reader
 * (lib/dump/flattened.c), the test generator and a future writer.  Facts and
 * sources: docs/formats/flattened.md.
 *
 * Unlike everything else in a dump, the integers here are BIG-endian,
 * whatever the architecture: makedumpfile chose that so a stream could be
 * sent to a host of another architecture.
 */
#ifndef CRASHKIT_FLATTENED_FORMAT_H
#define CRASHKIT_FLATTENED_FORMAT_H

#include <stdint.h>

#define CK_FLAT_SIGNATURE "makedumpfile"	/* NUL-padded to 16 bytes */
#define CK_FLAT_SIG_LEN 16
#define CK_FLAT_TYPE 1			/* TYPE_FLAT_HEADER */
#define CK_FLAT_VERSION 1		/* VERSION_FLAT_HEADER */
#define CK_FLAT_HEADER_SIZE 4096	/* the header block, zero-padded */
#define CK_FLAT_END_MARK (-1)		/* offset and size of the end record */

/* At offset 0, padded with zeros to CK_FLAT_HEADER_SIZE bytes. */
struct ck_flat_header {
	char signature[CK_FLAT_SIG_LEN];
	int64_t type;		/* big-endian */
	int64_t version;	/* big-endian */
} __attribute__((packed));

/* Before every record's data; the stream ends with a record whose offset
 * and size are both CK_FLAT_END_MARK and that carries no data. */
struct ck_flat_record {
	int64_t offset;		/* big-endian: offset in the logical file */
	int64_t size;		/* big-endian: bytes of data that follow */
} __attribute__((packed));

_Static_assert(sizeof(struct ck_flat_header) == 32, "flat header size");
_Static_assert(sizeof(struct ck_flat_record) == 16, "flat record size");

#endif /* CRASHKIT_FLATTENED_FORMAT_H */
