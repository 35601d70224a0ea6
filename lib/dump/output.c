/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where the dump writers' bytes go: a file written at its offsets, or
 * makedumpfile's flattened stream (each write becomes a record: offset and
 * size, big-endian, then the data; docs/formats/flattened.md), for -F to a
 * pipe.  Shared by the kdump-compressed and ELF writers.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "dump/dump.h"
#include "dump/flattened_format.h"

/* write() or pwrite() all of len, retrying on EINTR and short writes.  A
 * zero-byte write (a full device that says nothing) counts as ENOSPC. */
static struct ck_error *write_all(int fd, bool at_offset, uint64_t off, const uint8_t *p,
				  size_t len, const char *path, bool stream)
{
	size_t done = 0;
	while (done < len) {
		ssize_t r = at_offset ? pwrite(fd, p + done, len - done, off + done)
				      : write(fd, p + done, len - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (stream)
				return ck_error_create_errno(r < 0 ? errno : ENOSPC,
							     "writing flattened stream '%s'", path);
			return ck_error_create_errno(r < 0 ? errno : ENOSPC,
						     "writing '%s' at offset 0x%" PRIx64, path,
						     off + done);
		}
		done += r;
	}
	return NULL;
}

struct ck_error *ck_output_write(int fd, bool flattened, const char *path, uint64_t off,
				 const void *buf, size_t len)
{
	if (!len)
		return NULL;
	if (!flattened)
		return write_all(fd, true, off, buf, len, path, false);
	struct ck_flat_record rec = {
		.offset = (int64_t)htobe64(off),
		.size = (int64_t)htobe64(len),
	};
	struct ck_error *err = write_all(fd, false, 0, (const uint8_t *)&rec, sizeof(rec), path,
					 true);
	return err ? err : write_all(fd, false, 0, buf, len, path, true);
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
	return write_all(fd, false, 0, block, sizeof(block), path, true);
}

struct ck_error *ck_output_end_stream(int fd, const char *path)
{
	struct ck_flat_record end = {
		.offset = (int64_t)htobe64((uint64_t)CK_FLAT_END_MARK),
		.size = (int64_t)htobe64((uint64_t)CK_FLAT_END_MARK),
	};
	return write_all(fd, false, 0, (const uint8_t *)&end, sizeof(end), path, true);
}
