/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A newc cpio archive in memory: the format the kernel unpacks as an
 * initramfs (Documentation/driver-api/early-userspace/buffer-format.rst).
 * Each entry is a 110-byte ASCII header ("070701" and thirteen 8-digit hex
 * fields), the name with its NUL, padding to 4 bytes, the data, padding to
 * 4 bytes; "TRAILER!!!" ends the archive.  Every entry is owned by root.
 */
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "base/base.h"
#include "kdump/kdump.h"

void ck_cpio_init(struct ck_cpio *c)
{
	ck_strbuf_init(&c->buf);
	c->ino = 1;
	c->nr_files = 0;
	c->data_bytes = 0;
}

void ck_cpio_deinit(struct ck_cpio *c)
{
	ck_strbuf_deinit(&c->buf);
}

static bool pad4(struct ck_cpio *c)
{
	static const char zeros[4];
	size_t n = (4 - c->buf.len % 4) % 4;
	return n ? ck_strbuf_add(&c->buf, zeros, n) : true;
}

static struct ck_error *add_entry(struct ck_cpio *c, const char *name, unsigned int mode,
				  unsigned int rdev, const void *data, size_t len)
{
	/* The kernel takes names without the leading slash ("init", "lib/..."). */
	while (*name == '/')
		name++;
	size_t name_len = strlen(name) + 1;
	if (name_len == 1 || len > 0xffffffffu)
		return ck_error_create(CK_ERR_INVALID, "cpio: bad entry '%s'", name);
	bool ok = ck_strbuf_addf(&c->buf, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
				 c->ino++, mode, 0u, 0u, 1u, 0u, (unsigned int)len, 0u, 0u,
				 major(rdev), minor(rdev), (unsigned int)name_len, 0u);
	ok = ok && ck_strbuf_add(&c->buf, name, name_len) && pad4(c);
	ok = ok && (!len || ck_strbuf_add(&c->buf, data, len)) && pad4(c);
	if (!ok)
		return &ck_error_nomem;
	c->nr_files++;
	c->data_bytes += len;
	return NULL;
}

struct ck_error *ck_cpio_add_dir(struct ck_cpio *c, const char *name)
{
	return add_entry(c, name, S_IFDIR | 0755, 0, NULL, 0);
}

struct ck_error *ck_cpio_add_file(struct ck_cpio *c, const char *name, unsigned int perm,
				  const void *data, size_t len)
{
	return add_entry(c, name, S_IFREG | (perm & 07777), 0, data, len);
}

struct ck_error *ck_cpio_add_symlink(struct ck_cpio *c, const char *name, const char *target)
{
	return add_entry(c, name, S_IFLNK | 0777, 0, target, strlen(target));
}

struct ck_error *ck_cpio_add_chardev(struct ck_cpio *c, const char *name, unsigned int perm,
				     unsigned int maj, unsigned int min)
{
	return add_entry(c, name, S_IFCHR | (perm & 07777), makedev(maj, min), NULL, 0);
}

struct ck_error *ck_cpio_finish(struct ck_cpio *c)
{
	/* The trailer has inode 0, nlink 1, as every writer's does. */
	bool ok = ck_strbuf_addf(&c->buf, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
				 0u, 0u, 0u, 0u, 1u, 0u, 0u, 0u, 0u, 0u, 0u, 11u, 0u);
	ok = ok && ck_strbuf_add(&c->buf, "TRAILER!!!", 11) && pad4(c);
	/* The kernel reads the archive in 512-byte blocks' worth of padding
	 * happily; pad as cpio(1) does so that concatenation stays aligned. */
	while (ok && c->buf.len % 512)
		ok = ck_strbuf_add(&c->buf, "", 1);
	return ok ? NULL : &ck_error_nomem;
}
