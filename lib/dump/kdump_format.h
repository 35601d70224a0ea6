/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * On-disk layout of the kdump-compressed format (makedumpfile, QEMU's
 * dump-guest-memory kdump-*), as written on x86_64 and every other 64-bit
 * little-endian architecture.  The one copy of this layout: the reader
 * (lib/dump/kdump.c), the test generator and the future writer include it.
 *
 * The facts and where each was checked are in docs/formats/kdump-compressed.md.
 * All fields are little-endian; the structures are packed with explicit
 * padding so that their layout does not depend on the compiler, and the
 * static assertions pin every offset that matters.
 */
#ifndef CRASHKIT_KDUMP_FORMAT_H
#define CRASHKIT_KDUMP_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define CK_KDUMP_SIG_LEN 8
#define CK_KDUMP_SIGNATURE "KDUMP   "		/* makedumpfile, QEMU */
#define CK_KDUMP_DISKDUMP_SIGNATURE "DISKDUMP"	/* the older diskdump facility */

/* disk_dump_header.status and page_desc.flags share these bits. */
#define CK_KDUMP_COMPRESSED_ZLIB 0x1
#define CK_KDUMP_COMPRESSED_LZO 0x2
#define CK_KDUMP_COMPRESSED_SNAPPY 0x4
#define CK_KDUMP_INCOMPLETE 0x8		/* status only: the writer ran out of space */
#define CK_KDUMP_EXCLUDED_VMEMMAP 0x10	/* status only: unused vmemmap pages excluded */
#define CK_KDUMP_COMPRESSED_ZSTD 0x20
#define CK_KDUMP_COMPRESSED_MASK                                               \
	(CK_KDUMP_COMPRESSED_ZLIB | CK_KDUMP_COMPRESSED_LZO |                  \
	 CK_KDUMP_COMPRESSED_SNAPPY | CK_KDUMP_COMPRESSED_ZSTD)

/* The newest header version we know; later versions only ever appended
 * fields to the sub header. */
#define CK_KDUMP_HEADER_VERSION 6

#define CK_KDUMP_UTS_LEN 65

/* struct new_utsname of the kernel */
struct ck_kdump_utsname {
	char sysname[CK_KDUMP_UTS_LEN];
	char nodename[CK_KDUMP_UTS_LEN];
	char release[CK_KDUMP_UTS_LEN];
	char version[CK_KDUMP_UTS_LEN];
	char machine[CK_KDUMP_UTS_LEN];
	char domainname[CK_KDUMP_UTS_LEN];
} __attribute__((packed));

/* Block 0 of the file: struct disk_dump_header.  The C original embeds a
 * struct timeval, which 64-bit ABIs align to 8, hence the padding. */
struct ck_kdump_header {
	char signature[CK_KDUMP_SIG_LEN];	/* "KDUMP   " */
	int32_t header_version;
	struct ck_kdump_utsname utsname;
	uint8_t pad0[6];
	int64_t tv_sec;				/* timestamp of the dump */
	int64_t tv_usec;
	uint32_t status;			/* CK_KDUMP_* flags */
	int32_t block_size;			/* bytes; equals the page size */
	int32_t sub_hdr_size;			/* blocks, starting at block 1 */
	uint32_t bitmap_blocks;			/* blocks of both bitmaps together */
	uint32_t max_mapnr;			/* 32-bit copy; v6: max_mapnr_64 */
	uint32_t total_ram_blocks;
	uint32_t device_blocks;
	uint32_t written_blocks;
	uint32_t current_cpu;
	int32_t nr_cpus;
} __attribute__((packed));

/* Block 1 of the file: struct kdump_sub_header (KDUMP signature only).
 * Fields are valid from the header version noted. */
struct ck_kdump_sub_header {
	uint64_t phys_base;
	int32_t dump_level;		/* v1 */
	int32_t split;			/* v2 */
	uint64_t start_pfn;		/* v2, 32-bit era copy */
	uint64_t end_pfn;		/* v2, 32-bit era copy */
	int64_t offset_vmcoreinfo;	/* v3 */
	uint64_t size_vmcoreinfo;	/* v3 */
	int64_t offset_note;		/* v4 */
	uint64_t size_note;		/* v4 */
	int64_t offset_eraseinfo;	/* v5 */
	uint64_t size_eraseinfo;	/* v5 */
	uint64_t start_pfn_64;		/* v6 */
	uint64_t end_pfn_64;		/* v6 */
	uint64_t max_mapnr_64;		/* v6 */
} __attribute__((packed));

/* One per dumped page (2nd bitmap set), in pfn order, starting at block
 * 1 + sub_hdr_size + bitmap_blocks: struct page_desc. */
struct ck_kdump_page_desc {
	int64_t offset;			/* file offset of the page data */
	uint32_t size;			/* bytes of page data */
	uint32_t flags;			/* CK_KDUMP_COMPRESSED_* or 0 for raw */
	uint64_t page_flags;		/* unused by readers */
} __attribute__((packed));

_Static_assert(sizeof(struct ck_kdump_utsname) == 390, "utsname");
_Static_assert(offsetof(struct ck_kdump_header, utsname) == 12, "utsname offset");
_Static_assert(offsetof(struct ck_kdump_header, tv_sec) == 408, "timestamp offset");
_Static_assert(offsetof(struct ck_kdump_header, status) == 424, "status offset");
_Static_assert(offsetof(struct ck_kdump_header, bitmap_blocks) == 436, "bitmap_blocks");
_Static_assert(offsetof(struct ck_kdump_header, nr_cpus) == 460, "nr_cpus offset");
_Static_assert(sizeof(struct ck_kdump_header) == 464, "disk_dump_header size");
_Static_assert(offsetof(struct ck_kdump_sub_header, offset_vmcoreinfo) == 32, "vmci");
_Static_assert(offsetof(struct ck_kdump_sub_header, offset_note) == 48, "note");
_Static_assert(offsetof(struct ck_kdump_sub_header, start_pfn_64) == 80, "v6 fields");
_Static_assert(sizeof(struct ck_kdump_sub_header) == 104, "kdump_sub_header size");
_Static_assert(sizeof(struct ck_kdump_page_desc) == 24, "page_desc size");

/* Bytes of the sub header that a given header version defines. */
static inline size_t ck_kdump_sub_header_size(int version)
{
	if (version >= 6)
		return sizeof(struct ck_kdump_sub_header);
	if (version >= 5)
		return offsetof(struct ck_kdump_sub_header, start_pfn_64);
	if (version >= 4)
		return offsetof(struct ck_kdump_sub_header, offset_eraseinfo);
	if (version >= 3)
		return offsetof(struct ck_kdump_sub_header, offset_note);
	if (version >= 2)
		return offsetof(struct ck_kdump_sub_header, offset_vmcoreinfo);
	if (version >= 1)
		return offsetof(struct ck_kdump_sub_header, split);
	return 0;
}

#endif /* CRASHKIT_KDUMP_FORMAT_H */
