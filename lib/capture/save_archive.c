/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The save step's single-file archive (seed 003): DIR/STAMP.tar.zst or
 * .tar.gz of the dump directory's files under STAMP/, a POSIX ustar
 * stream (sizes of 8 GiB and more in GNU's base-256 form) through zstd's
 * or zlib's streaming compressor, written as .incomplete and renamed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include <zstd.h>

#include "base/base.h"
#include "capture/kdump_save.h"

#define BUF_SIZE (1u << 20)

struct arc {
	enum ck_kdump_archive kind;
	struct ck_outfile of;
	ZSTD_CCtx *zc;
	z_stream z;
	bool z_init;
	uint8_t *out;
	uint64_t bytes;
};

/* Compresses len bytes (end: the last call). */
static struct ck_error *arc_write(struct arc *a, const void *buf, size_t len, bool end)
{
	if (a->kind == CK_KDUMP_ARCHIVE_TAR_ZST) {
		ZSTD_inBuffer in = { buf, len, 0 };
		for (;;) {
			ZSTD_outBuffer out = { a->out, BUF_SIZE, 0 };
			size_t r = ZSTD_compressStream2(a->zc, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
			if (ZSTD_isError(r))
				return ck_error_create(CK_ERR_FORMAT, "zstd: %s", ZSTD_getErrorName(r));
			struct ck_error *err = ck_write_all(a->of.fd, a->out, out.pos, a->of.tmp_path);
			if (err)
				return err;
			a->bytes += out.pos;
			if (end ? r == 0 : in.pos == in.size)
				return NULL;
		}
	}
	a->z.next_in = (Bytef *)buf;
	a->z.avail_in = (uInt)len;
	for (;;) {
		a->z.next_out = a->out;
		a->z.avail_out = BUF_SIZE;
		int r = deflate(&a->z, end ? Z_FINISH : Z_NO_FLUSH);
		if (r == Z_STREAM_ERROR)
			return ck_error_create(CK_ERR_FORMAT, "zlib: deflate failed");
		size_t n = BUF_SIZE - a->z.avail_out;
		struct ck_error *err = ck_write_all(a->of.fd, a->out, n, a->of.tmp_path);
		if (err)
			return err;
		a->bytes += n;
		if (end ? r == Z_STREAM_END : a->z.avail_in == 0)
			return NULL;
	}
}

static void octal(char *field, size_t width, uint64_t v)
{
	/* width - 1 digits and a NUL */
	field[width - 1] = '\0';
	for (size_t i = width - 1; i-- > 0; v >>= 3)
		field[i] = (char)('0' + (v & 7));
}

static void tar_header(uint8_t h[512], const char *name, uint64_t size, time_t mtime)
{
	memset(h, 0, 512);
	snprintf((char *)h, 100, "%s", name);
	octal((char *)h + 100, 8, 0600);
	octal((char *)h + 108, 8, 0);
	octal((char *)h + 116, 8, 0);
	if (size < (1ull << 33)) {
		octal((char *)h + 124, 12, size);
	} else {	/* GNU base-256 */
		h[124] = 0x80;
		for (int i = 0; i < 8; i++)
			h[135 - i] = (uint8_t)(size >> (8 * i));
	}
	octal((char *)h + 136, 12, (uint64_t)(mtime > 0 ? mtime : 0));
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	unsigned int sum = 0;
	for (int i = 0; i < 512; i++)
		sum += h[i];
	octal((char *)h + 148, 7, sum);
	h[155] = ' ';
}

static struct ck_error *add_file(struct arc *a, int dfd, const char *dir, const char *stamp,
				 const char *name, uint8_t *buf)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return ck_error_create_errno(errno, "cannot open '%s/%s'", dir, name);
	struct stat st;
	struct ck_error *err = NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return NULL;
	}
	char tname[100];	/* ustar's name field */
	int n = snprintf(tname, sizeof(tname), "%s/%s", stamp, name);
	if (n < 0 || (size_t)n >= sizeof(tname)) {
		close(fd);
		return ck_error_create(CK_ERR_INVALID, "'%s/%s': name too long for the archive", dir,
				       name);
	}
	uint8_t h[512];
	tar_header(h, tname, (uint64_t)st.st_size, st.st_mtime);
	err = arc_write(a, h, 512, false);
	uint64_t left = (uint64_t)st.st_size;
	while (!err && left) {
		size_t want = left < BUF_SIZE ? (size_t)left : BUF_SIZE, got = 0;
		int e = ck_read_n(fd, buf, want, &got);
		if (e || got != want) {
			err = e ? ck_error_create_errno(e, "reading '%s/%s'", dir, name)
				: ck_error_create(CK_ERR_TRUNCATED, "'%s/%s' shrank while archived", dir, name);
			break;
		}
		err = arc_write(a, buf, got, false);
		left -= got;
	}
	size_t pad = (size_t)((512 - st.st_size % 512) % 512);
	if (!err && pad) {
		memset(buf, 0, pad);
		err = arc_write(a, buf, pad, false);
	}
	close(fd);
	return err;
}

static struct ck_error *arc_files(struct arc *a, const char *dir, const char *stamp)
{
	DIR *d = opendir(dir);
	if (!d)
		return ck_error_create_errno(errno, "cannot open '%s'", dir);
	uint8_t *buf = malloc(BUF_SIZE);
	struct ck_error *err = buf ? NULL : &ck_error_nomem;
	struct dirent *e;
	while (!err && (e = readdir(d))) {
		const char *n = e->d_name;
		if (n[0] == '.' || strstr(n, ".tar.") || strlen(n) > 80)
			continue;
		err = add_file(a, dirfd(d), dir, stamp, n, buf);
	}
	if (!err) {
		memset(buf, 0, 1024);
		err = arc_write(a, buf, 1024, true);
	}
	free(buf);
	closedir(d);
	return err;
}

struct ck_error *ck_save_archive(const char *dir, const char *stamp, enum ck_kdump_archive kind,
				 char **name_ret, uint64_t *bytes_ret)
{
	struct arc a = { .kind = kind, .of = CK_OUTFILE_INIT };
	char *name = ck_strdup_printf("%s.%s", stamp,
				      kind == CK_KDUMP_ARCHIVE_TAR_ZST ? "tar.zst" : "tar.gz");
	char *path = name ? ck_strdup_printf("%s/%s", dir, name) : NULL;
	a.out = malloc(BUF_SIZE);
	struct ck_error *err = path && a.out ? NULL : &ck_error_nomem;
	if (!err && kind == CK_KDUMP_ARCHIVE_TAR_ZST) {
		a.zc = ZSTD_createCCtx();
		if (!a.zc)
			err = &ck_error_nomem;
		else
			ZSTD_CCtx_setParameter(a.zc, ZSTD_c_compressionLevel, 3);
	} else if (!err) {
		if (deflateInit2(&a.z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			err = &ck_error_nomem;
		else
			a.z_init = true;
	}
	if (!err)
		err = ck_outfile_open(path, true, &a.of);
	if (!err)
		err = arc_files(&a, dir, stamp);
	if (!err)
		err = ck_outfile_commit(&a.of);
	ck_outfile_abandon(&a.of, false);
	ZSTD_freeCCtx(a.zc);
	if (a.z_init)
		deflateEnd(&a.z);
	free(a.out);
	free(path);
	if (err) {
		free(name);
		return err;
	}
	*name_ret = name;
	*bytes_ret = a.bytes;
	return NULL;
}
