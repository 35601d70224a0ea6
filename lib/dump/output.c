/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where the dump writers' bytes go: a file written at its offsets, or
 * makedumpfile's flattened stream (each write becomes a record: offset and
 * size, big-endian, then the data; docs/formats/flattened.md), for -F to a
 * pipe.  Shared by the kdump-compressed and ELF writers.
 */
#include <endian.h>
#include <string.h>

#include "dump/dump.h"
#include "dump/flattened_format.h"

/* The stream is written in order: an error names it, not an offset. */
static struct ck_error *stream_write(int fd, const void *buf, size_t len, const char *path)
{
	int e = ck_write_n(fd, buf, len, NULL);
	return e ? ck_error_create_errno(e, "writing flattened stream '%s'", path) : NULL;
}

struct ck_error *ck_output_write(int fd, bool flattened, const char *path, uint64_t off,
				 const void *buf, size_t len)
{
	if (!len)
		return NULL;
	if (!flattened)
		return ck_pwrite_all(fd, buf, len, off, path);
	struct ck_flat_record rec = {
		.offset = (int64_t)htobe64(off),
		.size = (int64_t)htobe64(len),
	};
	struct ck_error *err = stream_write(fd, &rec, sizeof(rec), path);
	return err ? err : stream_write(fd, buf, len, path);
}

struct ck_error *ck_output_begin_stream(int fd, const char *path)
{
	/* The header is a whole block: signature, type, version, then zeros. */
	uint8_t block[CK_FLAT_HEADER_SIZE] = { 0 };
	struct ck_flat_header h = {
		.type = (int64_t)htobe64(CK_FLAT_TYPE),
		.version = (int64_t)htobe64(CK_FLAT_VERSION),
	};
	memcpy(h.signature, CK_FLAT_SIGNATURE, strlen(CK_FLAT_SIGNATURE));
	memcpy(block, &h, sizeof(h));
	return stream_write(fd, block, sizeof(block), path);
}

struct ck_error *ck_output_end_stream(int fd, const char *path)
{
	struct ck_flat_record end = {
		.offset = (int64_t)htobe64((uint64_t)CK_FLAT_END_MARK),
		.size = (int64_t)htobe64((uint64_t)CK_FLAT_END_MARK),
	};
	return stream_write(fd, &end, sizeof(end), path);
}
