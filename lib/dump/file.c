/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ck_file: the byte source every dump driver reads through.
 *
 * A plain file is read with pread(); a flattened file (lib/dump/flattened.c) is
 * read through its segment index, so drivers see the reassembled logical
 * file without a temporary copy.  Every read is bounds-checked against the
 * logical size, and every error names the file and the offset, because a
 * dump is untrusted input and the first thing a user needs when it is bad is
 * where it is bad.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <unistd.h>

#include "dump/dump.h"

/*
 * What a dump can be: a regular file (/proc/vmcore and /proc/kcore are
 * regular files of procfs) or a block device (a dump partition).  A FIFO,
 * socket or character device has no size and no offsets (pread fails or,
 * for /dev/zero, never ends), and a directory no bytes.
 */
static struct ck_error *file_check_type(const char *path, const struct stat *st)
{
	if (S_ISREG(st->st_mode) || S_ISBLK(st->st_mode))
		return NULL;
	const char *what = S_ISDIR(st->st_mode) ? "a directory"
			 : S_ISFIFO(st->st_mode) ? "a FIFO"
			 : S_ISSOCK(st->st_mode) ? "a socket"
			 : S_ISCHR(st->st_mode) ? "a character device"
			 : "not a regular file";
	return ck_error_create(CK_ERR_INVALID,
		"'%s' is %s, not a dump (a regular file or a block device)", path, what);
}

struct ck_error *ck_file_open(const char *path, struct ck_file **ret)
{
	struct ck_error *err = NULL;
	struct ck_file *file = calloc(1, sizeof(*file));
	if (!file)
		return &ck_error_nomem;
	file->fd = -1;
	file->path = strdup(path);
	if (!file->path) {
		err = &ck_error_nomem;
		goto out;
	}
	/* O_NONBLOCK: opening a FIFO waits for a writer otherwise.  Cleared
	 * once the file is known to be one we read. */
	file->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (file->fd < 0) {
		err = ck_error_create_errno(errno, "cannot open '%s'", path);
		goto out;
	}
	struct stat st;
	if (fstat(file->fd, &st) < 0) {
		err = ck_error_create_errno(errno, "cannot stat '%s'", path);
		goto out;
	}
	err = file_check_type(path, &st);
	if (err)
		goto out;
	int fl = fcntl(file->fd, F_GETFL);
	if (fl < 0 || fcntl(file->fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		err = ck_error_create_errno(errno, "cannot read '%s'", path);
		goto out;
	}
	if (S_ISREG(st.st_mode)) {
		file->real_size = st.st_size;
	} else {
		/* A block device (a dump partition) has st_size 0: ask lseek. */
		off_t end = lseek(file->fd, 0, SEEK_END);
		if (end < 0) {
			err = ck_error_create_errno(errno,
				"'%s' is not a regular file and cannot be sized", path);
			goto out;
		}
		file->real_size = end;
	}
	file->size = file->real_size;
	file->data_size = file->real_size;
	/*
	 * Map regular files: a page read becomes a memcpy instead of a
	 * pread(), 3-4x faster on ELF dumps (docs/dump-readers.md).  If the
	 * mapping fails (no address space, a filesystem without mmap) pread()
	 * does the same job.  The one hazard is another process truncating
	 * the file while we read it (SIGBUS), which a dump being analysed
	 * does not suffer.  Not /proc/vmcore: its mmap maps all of the old
	 * memory at once, page table entries included (2 GiB of them for a
	 * 1 TiB machine, in a capture kernel of 256 MiB); capture maps it in
	 * windows instead (lib/capture/capture.c).  /proc/kcore refuses mmap anyway.
	 */
	struct statfs sfs;
	file->procfs = fstatfs(file->fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
	if (S_ISREG(st.st_mode) && !file->procfs && file->real_size && file->real_size <= SIZE_MAX) {
		void *m = mmap(NULL, file->real_size, PROT_READ, MAP_SHARED, file->fd, 0);
		if (m != MAP_FAILED)
			file->map = m;
	}
	*ret = file;
	file = NULL;
out:
	ck_file_destroy(file);
	return err;
}

void ck_file_destroy(struct ck_file *file)
{
	if (!file)
		return;
	if (file->map)
		munmap((void *)file->map, file->real_size);
	if (file->fd >= 0)
		close(file->fd);
	free(file->segs);
	free(file->path);
	free(file);
}

/* Reads all of len bytes at a real file offset, from the map or by pread(). */
static struct ck_error *pread_full(struct ck_file *file, uint64_t off, void *buf,
				   size_t len)
{
	if (file->map) {
		uint64_t end;
		if (ck_add_overflow(off, len, &end) || end > file->real_size)
			return ck_error_create(CK_ERR_TRUNCATED,
				"'%s': read of %zu bytes at offset 0x%" PRIx64
				" past end of file (size 0x%" PRIx64 ")",
				file->path, len, off, file->real_size);
		memcpy(buf, file->map + off, len);
		return NULL;
	}
	size_t done;
	int e = ck_pread_n(file->fd, buf, len, off, &done);
	if (e)
		return ck_error_create_errno(e,
			"'%s': read of %zu bytes at offset 0x%" PRIx64 " failed",
			file->path, len - done, off + done);
	if (done < len) {
		/* The file shrank under us since we sized it. */
		return ck_error_create(CK_ERR_TRUNCATED,
			"'%s': unexpected end of file at offset 0x%" PRIx64,
			file->path, off + done);
	}
	return NULL;
}

static int seg_cmp(const void *key, const void *elem, void *arg)
{
	uint64_t off = *(const uint64_t *)key;
	const struct ck_file_seg *seg = elem;
	return off < seg->logical ? -1 : off > seg->logical;
}

/* Index of the last segment whose logical start is <= off, or nr_segs if none. */
static size_t seg_find(const struct ck_file *file, uint64_t off)
{
	return ck_bsearch_le(&off, file->segs, file->nr_segs, sizeof(*file->segs), seg_cmp,
			     NULL);
}

static struct ck_error *flat_read(struct ck_file *file, uint64_t off, uint8_t *buf,
				  size_t len)
{
	size_t i = seg_find(file, off);
	if (i == file->nr_segs)
		i = 0;	/* off is before the first segment: start from it */
	while (len) {
		const struct ck_file_seg *seg = i < file->nr_segs ? &file->segs[i] : NULL;
		if (seg && off >= seg->logical + seg->size) {
			i++;
			continue;
		}
		if (!seg || off < seg->logical) {
			/* A hole: nothing was written here by the stream.  In a
			 * complete stream that means zeros (the writer skipped
			 * them); in a cut one it may be data that never came,
			 * and zeros would be silently wrong. */
			if (file->truncated)
				return ck_error_create(CK_ERR_TRUNCATED,
					"'%s': offset 0x%" PRIx64 " of the logical file is "
					"missing from the truncated flattened stream",
					file->path, off);
			uint64_t gap = seg ? seg->logical - off : len;
			size_t n = CK_MIN((uint64_t)len, gap);
			memset(buf, 0, n);
			buf += n;
			off += n;
			len -= n;
			continue;
		}
		uint64_t in = off - seg->logical;
		size_t n = CK_MIN((uint64_t)len, seg->size - in);
		struct ck_error *err = pread_full(file, seg->physical + in, buf, n);
		if (err)
			return err;
		buf += n;
		off += n;
		len -= n;
		i++;
	}
	return NULL;
}

struct ck_error *ck_file_read(struct ck_file *file, uint64_t off, void *buf, size_t len)
{
	uint64_t end;
	if (ck_add_overflow(off, len, &end) || end > file->size) {
		return ck_error_create(CK_ERR_TRUNCATED,
			"'%s': read of %zu bytes at offset 0x%" PRIx64
			" past end of file (size 0x%" PRIx64 ")",
			file->path, len, off, file->size);
	}
	if (!len)
		return NULL;
	if (file->flattened)
		return flat_read(file, off, buf, len);
	return pread_full(file, off, buf, len);
}

struct ck_error *ck_file_read_partial(struct ck_file *file, uint64_t off, void *buf,
				      size_t len, size_t *ret)
{
	size_t n = 0;
	if (off < file->size)
		n = CK_MIN((uint64_t)len, file->size - off);
	struct ck_error *err = ck_file_read(file, off, buf, n);
	if (err)
		return err;
	*ret = n;
	return NULL;
}

bool ck_file_has(const struct ck_file *file, uint64_t off, uint64_t len)
{
	uint64_t end;
	if (ck_add_overflow(off, len, &end) || end > file->size)
		return false;
	if (!file->flattened || !file->truncated || !len)
		return true;
	/* Segments are sorted and disjoint; adjacent ones may abut. */
	size_t i = seg_find(file, off);
	if (i == file->nr_segs)
		return false;
	while (off < end) {
		if (i >= file->nr_segs)
			return false;
		const struct ck_file_seg *seg = &file->segs[i];
		if (off < seg->logical || off >= seg->logical + seg->size)
			return false;
		off = seg->logical + seg->size;
		i++;
	}
	return true;
}
