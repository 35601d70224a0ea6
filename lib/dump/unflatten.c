/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * makedumpfile -R: turn a flattened stream (makedumpfile -F, crashkit
 * capture -F, read from a pipe) back into the file it describes.  Each
 * record's data is copied to its offset through one fixed buffer, so memory
 * does not depend on the stream.  Layout: lib/flattened_format.h.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "dump/dump.h"
#include "dump/flattened_format.h"

#define COPY_BUF (1u << 20)

/* Reads exactly len bytes; *got says how many came before end of input. */
static struct ck_error *read_full(int fd, void *buf, size_t len, size_t *got)
{
	size_t done = 0;
	while (done < len) {
		ssize_t r = read(fd, (uint8_t *)buf + done, len - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return ck_error_create_errno(errno, "reading the flattened stream");
		if (r == 0)
			break;
		done += r;
	}
	*got = done;
	return NULL;
}

static struct ck_error *write_full(int fd, const void *buf, size_t len, uint64_t off,
				   const char *path)
{
	size_t done = 0;
	while (done < len) {
		ssize_t r = pwrite(fd, (const uint8_t *)buf + done, len - done, off + done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return ck_error_create_errno(r < 0 ? errno : ENOSPC,
				"writing '%s' at offset 0x%" PRIx64, path, off + done);
		done += r;
	}
	return NULL;
}

struct ck_error *ck_capture_reassemble(int in_fd, const char *output, bool force,
				       uint64_t *bytes_ret)
{
	struct ck_error *err = NULL;
	uint8_t *buf = NULL;
	char *tmp = NULL;
	int fd = -1;
	uint64_t pos = CK_FLAT_HEADER_SIZE, size = 0;
	struct stat st;
	size_t got;

	if (!force && stat(output, &st) == 0)
		return ck_error_create(CK_ERR_INVALID, "'%s' exists (use -f to overwrite it)",
				       output);
	buf = malloc(COPY_BUF);
	tmp = ck_strdup_printf("%s.incomplete", output);
	if (!buf || !tmp) {
		err = &ck_error_nomem;
		goto out;
	}
	err = read_full(in_fd, buf, CK_FLAT_HEADER_SIZE, &got);
	if (err)
		goto out;
	struct ck_flat_header h;
	memcpy(&h, buf, sizeof(h));
	if (got < CK_FLAT_HEADER_SIZE ||
	    strncmp(h.signature, CK_FLAT_SIGNATURE, CK_FLAT_SIG_LEN) ||
	    be64toh((uint64_t)h.type) != CK_FLAT_TYPE) {
		err = ck_error_create(CK_ERR_NOT_FORMAT,
			"standard input is not a flattened dump (no \"%s\" header in its "
			"first %d bytes)", CK_FLAT_SIGNATURE, CK_FLAT_HEADER_SIZE);
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = ck_error_create_errno(errno, "cannot create '%s'", tmp);
		goto out;
	}
	for (;;) {
		struct ck_flat_record rec;
		err = read_full(in_fd, &rec, sizeof(rec), &got);
		if (err)
			goto out;
		if (got < sizeof(rec)) {
			err = ck_error_create(CK_ERR_TRUNCATED,
				"flattened stream ends at offset 0x%" PRIx64 " without its end "
				"record; '%s' keeps what came", pos + got, tmp);
			goto out;
		}
		int64_t off = (int64_t)be64toh((uint64_t)rec.offset);
		int64_t len = (int64_t)be64toh((uint64_t)rec.size);
		if (off == CK_FLAT_END_MARK && len == CK_FLAT_END_MARK)
			break;
		uint64_t end;
		if (off < 0 || len < 0 || ck_add_overflow((uint64_t)off, (uint64_t)len, &end) ||
		    end > (UINT64_C(1) << 62)) {
			err = ck_error_create(CK_ERR_FORMAT,
				"flattened stream: record at offset 0x%" PRIx64 " has offset %"
				PRId64 " and size %" PRId64, pos, off, len);
			goto out;
		}
		pos += sizeof(rec);
		for (uint64_t done = 0; done < (uint64_t)len;) {
			size_t n = CK_MIN((uint64_t)COPY_BUF, (uint64_t)len - done);
			err = read_full(in_fd, buf, n, &got);
			if (!err && got < n)
				err = ck_error_create(CK_ERR_TRUNCATED,
					"flattened stream ends inside the record at offset 0x%"
					PRIx64, pos - sizeof(rec));
			if (!err)
				err = write_full(fd, buf, n, (uint64_t)off + done, tmp);
			if (err)
				goto out;
			done += n;
			pos += n;
		}
		size = CK_MAX(size, end);
	}
	if (fsync(fd) < 0 && errno != EINVAL && errno != EROFS) {
		err = ck_error_create_errno(errno, "fsync '%s'", tmp);
		goto out;
	}
	if (rename(tmp, output) < 0) {
		err = ck_error_create_errno(errno, "cannot rename '%s' to '%s'", tmp, output);
		goto out;
	}
	if (bytes_ret)
		*bytes_ret = size;
out:
	if (fd >= 0)
		close(fd);
	free(tmp);
	free(buf);
	return err;
}
