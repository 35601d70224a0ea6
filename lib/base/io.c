/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading and writing whole buffers, and output files that never look
 * complete before they are.
 *
 * One policy for every loop: EINTR and short transfers are retried; a read
 * of zero bytes is the end of the input; a write of zero bytes (a full
 * device that says nothing) is ENOSPC, never a reason to try again.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/base.h"

enum io_op { IO_READ, IO_PREAD, IO_WRITE, IO_PWRITE };

static ssize_t io_once(enum io_op op, int fd, void *buf, size_t len, uint64_t off)
{
	switch (op) {
	case IO_READ:
		return read(fd, buf, len);
	case IO_PREAD:
		return pread(fd, buf, len, (off_t)off);
	case IO_WRITE:
		return write(fd, buf, len);
	case IO_PWRITE:
		return pwrite(fd, buf, len, (off_t)off);
	}
	return -1;
}

static int io_loop(enum io_op op, int fd, void *buf, size_t len, uint64_t off,
		   size_t *done_ret)
{
	size_t done = 0;
	int e = 0;
	while (done < len) {
		ssize_t r = io_once(op, fd, (uint8_t *)buf + done, len - done, off + done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			e = errno;
		else if (r == 0 && (op == IO_WRITE || op == IO_PWRITE))
			e = ENOSPC;
		if (r <= 0)
			break;
		done += (size_t)r;
	}
	if (done_ret)
		*done_ret = done;
	return e;
}

int ck_read_n(int fd, void *buf, size_t len, size_t *done)
{
	return io_loop(IO_READ, fd, buf, len, 0, done);
}

int ck_pread_n(int fd, void *buf, size_t len, uint64_t off, size_t *done)
{
	return io_loop(IO_PREAD, fd, buf, len, off, done);
}

int ck_write_n(int fd, const void *buf, size_t len, size_t *done)
{
	return io_loop(IO_WRITE, fd, (void *)buf, len, 0, done);
}

int ck_pwrite_n(int fd, const void *buf, size_t len, uint64_t off, size_t *done)
{
	return io_loop(IO_PWRITE, fd, (void *)buf, len, off, done);
}

struct ck_error *ck_write_all(int fd, const void *buf, size_t len, const char *path)
{
	int e = ck_write_n(fd, buf, len, NULL);
	return e ? ck_error_create_errno(e, "writing '%s'", path) : NULL;
}

struct ck_error *ck_pwrite_all(int fd, const void *buf, size_t len, uint64_t off,
			       const char *path)
{
	size_t done;
	int e = ck_pwrite_n(fd, buf, len, off, &done);
	if (e)
		return ck_error_create_errno(e, "writing '%s' at offset 0x%" PRIx64, path,
					     off + done);
	return NULL;
}

struct ck_error *ck_read_all(int fd, void *buf, size_t len, size_t *got, const char *path)
{
	int e = ck_read_n(fd, buf, len, got);
	return e ? ck_error_create_errno(e, "reading '%s'", path) : NULL;
}

struct ck_error *ck_read_text(int fd, size_t max, char **ret, size_t *len_ret, const char *path)
{
	char *buf = malloc(max + 1);
	if (!buf)
		return &ck_error_nomem;
	size_t len = 0;
	struct ck_error *err = ck_read_all(fd, buf, max, &len, path);
	if (err) {
		free(buf);
		return err;
	}
	buf[len] = '\0';
	*ret = buf;
	if (len_ret)
		*len_ret = len;
	return NULL;
}

struct ck_error *ck_pread_all(int fd, void *buf, size_t len, uint64_t off, const char *path)
{
	size_t done;
	int e = ck_pread_n(fd, buf, len, off, &done);
	if (e)
		return ck_error_create_errno(e, "reading '%s' at offset 0x%" PRIx64, path,
					     off + done);
	if (done < len)
		return ck_error_create(CK_ERR_TRUNCATED,
				       "'%s': 0x%zx bytes at offset 0x%" PRIx64 " are past its end",
				       path, len, off);
	return NULL;
}

/* ---- output files: PATH.incomplete until committed ----------------------- */

struct ck_error *ck_outfile_check(const char *path, bool force)
{
	struct stat st;
	if (!force && stat(path, &st) == 0)
		return ck_error_create(CK_ERR_INVALID, "'%s' exists (use -f to overwrite it)",
				       path);
	return NULL;
}

struct ck_error *ck_outfile_open(const char *path, bool force, struct ck_outfile *ret)
{
	struct ck_error *err = ck_outfile_check(path, force);
	if (err)
		return err;
	char *final = ck_strdup_printf("%s", path);
	char *tmp = ck_strdup_printf("%s.incomplete", path);
	if (!final || !tmp) {
		free(final);
		free(tmp);
		return &ck_error_nomem;
	}
	int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = ck_error_create_errno(errno, "cannot create '%s'", tmp);
		free(final);
		free(tmp);
		return err;
	}
	*ret = (struct ck_outfile){ .fd = fd, .path = final, .tmp_path = tmp };
	return NULL;
}

/* Filesystems that cannot sync (a pipe's EINVAL, a read-only bind's EROFS)
 * have nothing more to lose: not an error. */
struct ck_error *ck_outfile_sync(struct ck_outfile *of)
{
	if (fsync(of->fd) < 0 && errno != EINVAL && errno != EROFS)
		return ck_error_create_errno(errno, "fsync '%s'", of->tmp_path);
	return NULL;
}

struct ck_error *ck_outfile_commit(struct ck_outfile *of)
{
	struct ck_error *err = ck_outfile_sync(of);
	if (err)
		return err;
	if (rename(of->tmp_path, of->path) < 0)
		return ck_error_create_errno(errno, "cannot rename '%s' to '%s'", of->tmp_path,
					     of->path);
	close(of->fd);
	free(of->path);
	free(of->tmp_path);
	*of = (struct ck_outfile)CK_OUTFILE_INIT;
	return NULL;
}

void ck_outfile_abandon(struct ck_outfile *of, bool keep)
{
	if (of->fd >= 0)
		close(of->fd);
	if (of->tmp_path && !keep)
		unlink(of->tmp_path);
	free(of->path);
	free(of->tmp_path);
	*of = (struct ck_outfile)CK_OUTFILE_INIT;
}
