/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * makedumpfile -R: turn a flattened stream (makedumpfile -F, crashkit
 * capture -F, read from a pipe) back into the file it describes.  Each
 * record's data is copied to its offset through one fixed buffer, so memory
 * does not depend on the stream.  Layout: lib/dump/flattened_format.h.
 */
#include <endian.h>
#include <inttypes.h>
#include <string.h>

#include "dump/dump.h"
#include "dump/flattened_format.h"

#define COPY_BUF (1u << 20)

/* Reads exactly len bytes; *got says how many came before end of input. */
static struct ck_error *read_full(int fd, void *buf, size_t len, size_t *got)
{
	int e = ck_read_n(fd, buf, len, got);
	return e ? ck_error_create_errno(e, "reading the flattened stream") : NULL;
}

static struct ck_error *read_header(int in_fd, uint8_t *buf)
{
	size_t got;
	struct ck_error *err = read_full(in_fd, buf, CK_FLAT_HEADER_SIZE, &got);
	if (err)
		return err;
	struct ck_flat_header h;
	memcpy(&h, buf, sizeof(h));
	if (got < CK_FLAT_HEADER_SIZE ||
	    strncmp(h.signature, CK_FLAT_SIGNATURE, CK_FLAT_SIG_LEN) ||
	    be64toh((uint64_t)h.type) != CK_FLAT_TYPE)
		return ck_error_create(CK_ERR_NOT_FORMAT,
			"standard input is not a flattened dump (no \"%s\" header in its "
			"first %d bytes)", CK_FLAT_SIGNATURE, CK_FLAT_HEADER_SIZE);
	return NULL;
}

/* Copies the len bytes of the record whose header ends at *pos to off. */
static struct ck_error *copy_data(int in_fd, uint8_t *buf, const struct ck_outfile *of,
				  uint64_t off, uint64_t len, uint64_t *pos)
{
	for (uint64_t done = 0; done < len;) {
		size_t n = CK_MIN((uint64_t)COPY_BUF, len - done), got;
		struct ck_error *err = read_full(in_fd, buf, n, &got);
		if (!err && got < n)
			err = ck_error_create(CK_ERR_TRUNCATED,
				"flattened stream ends inside the record at offset 0x%"
				PRIx64, *pos - sizeof(struct ck_flat_record));
		if (!err)
			err = ck_pwrite_all(of->fd, buf, n, off + done, of->tmp_path);
		if (err)
			return err;
		done += n;
		*pos += n;
	}
	return NULL;
}

/* The records up to the end mark, each copied to its offset; *size_ret
 * gets the end of the furthest. */
static struct ck_error *copy_records(int in_fd, uint8_t *buf, const struct ck_outfile *of,
				     uint64_t *size_ret)
{
	uint64_t pos = CK_FLAT_HEADER_SIZE, size = 0;
	for (;;) {
		struct ck_flat_record rec;
		size_t got;
		struct ck_error *err = read_full(in_fd, &rec, sizeof(rec), &got);
		if (err)
			return err;
		if (got < sizeof(rec))
			return ck_error_create(CK_ERR_TRUNCATED,
				"flattened stream ends at offset 0x%" PRIx64 " without its end "
				"record; '%s' keeps what came", pos + got, of->tmp_path);
		int64_t off = (int64_t)be64toh((uint64_t)rec.offset);
		int64_t len = (int64_t)be64toh((uint64_t)rec.size);
		if (off == CK_FLAT_END_MARK && len == CK_FLAT_END_MARK)
			break;
		uint64_t end;
		if (off < 0 || len < 0 || ck_add_overflow((uint64_t)off, (uint64_t)len, &end) ||
		    end > (UINT64_C(1) << 62))
			return ck_error_create(CK_ERR_FORMAT,
				"flattened stream: record at offset 0x%" PRIx64 " has offset %"
				PRId64 " and size %" PRId64, pos, off, len);
		pos += sizeof(rec);
		err = copy_data(in_fd, buf, of, (uint64_t)off, (uint64_t)len, &pos);
		if (err)
			return err;
		size = CK_MAX(size, end);
	}
	*size_ret = size;
	return NULL;
}

struct ck_error *ck_capture_reassemble(int in_fd, const char *output, bool force,
				       uint64_t *bytes_ret)
{
	struct ck_outfile of = CK_OUTFILE_INIT;
	uint64_t size = 0;
	struct ck_error *err = ck_outfile_check(output, force);
	if (err)
		return err;
	uint8_t *buf = malloc(COPY_BUF);
	if (!buf)
		return &ck_error_nomem;
	err = read_header(in_fd, buf);
	if (!err)
		err = ck_outfile_open(output, force, &of);
	if (!err)
		err = copy_records(in_fd, buf, &of, &size);
	if (!err)
		err = ck_outfile_commit(&of);
	if (!err && bytes_ret)
		*bytes_ret = size;
	/* What came stays in OUTPUT.incomplete: the stream cannot be read twice. */
	ck_outfile_abandon(&of, true);
	free(buf);
	return err;
}
