/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `crashkit kdump initramfs`: the capture kernel's initramfs, a newc cpio
 * (cpio.c) compressed with zstd or gzip (both in every Debian kernel's
 * RD_* options) or left plain.  It holds crashkit (the capture binary,
 * /init is a link to it), the libraries and loader it needs (elfdeps.c),
 * the modules the target needs (target.c, modules.c), kdump.conf, the
 * crashed system's os-release and /etc/crashkit/target.  No shell, no
 * makedumpfile, no kexec-tools (docs/kdump.md, "initramfs").
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include <zstd.h>

#include "base/base.h"
#include "kdump/kdump.h"

#define FILE_MAX (512u << 20)

struct builder {
	const struct ck_kdump_initramfs_opts *o;
	struct ck_cpio cpio;
	struct ck_strlist dirs;
	struct ck_kdump_initramfs_info *info;
};

/* Every parent directory of name, once, before it. */
static struct ck_error *add_parents(struct builder *b, const char *name)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", name);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (!ck_strlist_contains(&b->dirs, buf)) {
			if (!ck_strlist_add(&b->dirs, buf))
				return &ck_error_nomem;
			struct ck_error *err = ck_cpio_add_dir(&b->cpio, buf);
			if (err)
				return err;
		}
		*p = '/';
	}
	return NULL;
}

static struct ck_error *add_bytes(struct builder *b, const char *name, unsigned int perm,
				  const void *data, size_t len)
{
	struct ck_error *err = add_parents(b, name);
	return err ? err : ck_cpio_add_file(&b->cpio, name, perm, data, len);
}

/* A file of the building system (src, read through symlinks) as name. */
static struct ck_error *add_copy(struct builder *b, const char *name, const char *src,
				 unsigned int perm)
{
	char *data;
	size_t len;
	struct ck_error *err = ck_kdump_read_text(src, FILE_MAX, &data, &len);
	if (err)
		return err;
	err = add_bytes(b, name, perm, data, len);
	free(data);
	return err;
}

static struct ck_error *add_programs(struct builder *b)
{
	struct ck_strlist deps = CK_STRLIST_INIT;
	/* The binary and its libraries are this system's, whatever --root
	 * says about the kernel's files. */
	struct ck_error *err = ck_elf_deps(NULL, b->o->crashkit, &deps);
	if (err)
		return ck_error_prepend(err, "crashkit's libraries");
	err = add_copy(b, "/usr/bin/crashkit", b->o->crashkit, 0755);
	for (size_t i = 1; !err && i < deps.nr; i++) {
		err = add_copy(b, deps.items[i], deps.items[i], 0755);
		if (!err)
			ck_strlist_add(&b->info->libs, deps.items[i]);
	}
	ck_strlist_deinit(&deps);
	if (!err)
		err = ck_cpio_add_symlink(&b->cpio, "/init", "usr/bin/crashkit");
	if (!err)
		err = ck_cpio_add_symlink(&b->cpio, "/crashkit", "usr/bin/crashkit");
	return err;
}

static bool kernel_decompresses(const char *root, const char *release)
{
	char *rel = ck_strdup_printf("/boot/config-%s", release), *text = NULL;
	char *path = rel ? ck_kdump_path(root, rel) : NULL;
	bool yes = (text = ck_kdump_read_quiet(path, 16 << 20)) &&
		(strstr(text, "\nCONFIG_MODULE_DECOMPRESS=y") ||
		 !strncmp(text, "CONFIG_MODULE_DECOMPRESS=y", 26));
	free(text);
	free(path);
	free(rel);
	return yes;
}

static struct ck_error *add_modules(struct builder *b, const struct ck_strlist *names)
{
	const char *r = b->info->release;
	struct ck_strlist paths = CK_STRLIST_INIT;
	struct ck_error *err = ck_kdump_modules_resolve(b->o->root, r, names, &paths,
							&b->info->missing_modules);
	/* No module tree at all: a kernel with its drivers built in (or
	 * one without depmod's files): the initramfs goes without modules,
	 * and says so. */
	if (err && ck_error_errno(err) == ENOENT) {
		ck_error_destroy(err);
		b->info->no_modules = true;
		return add_bytes(b, "/etc/crashkit/modules", 0644, "", 0);
	}
	if (err)
		return err;
	bool keep = kernel_decompresses(b->o->root, r);
	b->info->modules_compressed = keep;
	struct ck_strbuf list = CK_STRBUF_INIT;
	for (size_t i = 0; !err && i < paths.nr; i++) {
		char *src = ck_kdump_path(b->o->root, paths.items[i]), *data = NULL;
		size_t len = 0;
		err = src ? ck_kdump_module_read(src, keep, &data, &len) : &ck_error_nomem;
		free(src);
		if (err)
			break;
		/* Flat under /lib/modules/RELEASE/, named as loaded. */
		const char *slash = strrchr(paths.items[i], '/');
		const char *base = slash ? slash + 1 : paths.items[i], *ko = strstr(base, ".ko");
		int keep_len = keep || !ko ? (int)strlen(base) : (int)(ko - base + 3);
		char *name = ck_strdup_printf("/lib/modules/%s/%.*s", r, keep_len, base);
		err = name ? add_bytes(b, name, 0644, data, len) : &ck_error_nomem;
		if (!err) {
			ck_strbuf_addf(&list, "%s\n", name);
			ck_strlist_add(&b->info->modules, name);
			b->info->modules_bytes += len;
		}
		free(name);
		free(data);
	}
	ck_strlist_deinit(&paths);
	if (!err && list.failed)
		err = &ck_error_nomem;
	if (!err)
		err = add_bytes(b, "/etc/crashkit/modules", 0644, list.buf ? list.buf : "", list.len);
	ck_strbuf_deinit(&list);
	return err;
}

/* ssh and what it needs to log in non-interactively: its libraries, root's
 * passwd line, root's keys and known_hosts (or kdump.conf's). */
static struct ck_error *add_ssh(struct builder *b, const struct ck_kdump_conf *conf)
{
	const char *ssh = "/usr/bin/ssh";
	struct ck_strlist deps = CK_STRLIST_INIT;
	struct ck_error *err = ck_elf_deps(NULL, ssh, &deps);
	if (err)
		return ck_error_prepend(err, "ssh target: %s", ssh);
	for (size_t i = 0; !err && i < deps.nr; i++)
		if (!ck_strlist_contains(&b->info->libs, deps.items[i]) &&
		    strcmp(deps.items[i], b->o->crashkit)) {
			err = add_copy(b, deps.items[i], deps.items[i], 0755);
			ck_strlist_add(&b->info->libs, deps.items[i]);
		}
	ck_strlist_deinit(&deps);
	static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n";
	if (!err)
		err = add_bytes(b, "/etc/passwd", 0644, passwd, strlen(passwd));
	static const char *const files[] = { "/root/.ssh/id_ed25519", "/root/.ssh/id_ecdsa",
		"/root/.ssh/id_rsa", "/root/.ssh/known_hosts" };
	for (size_t i = 0; !err && i < CK_ARRAY_SIZE(files); i++)
		if (!access(files[i], R_OK))
			err = add_copy(b, files[i], files[i], 0600);
	if (!err && conf->ssh_key[0] && !access(conf->ssh_key, R_OK))
		err = add_copy(b, conf->ssh_key, conf->ssh_key, 0600);
	if (!err && conf->ssh_known_hosts[0] && !access(conf->ssh_known_hosts, R_OK))
		err = add_copy(b, conf->ssh_known_hosts, conf->ssh_known_hosts, 0644);
	return err;
}

/* The target's record and module names (target.c), plus --module names. */
static struct ck_error *plan_target(struct builder *b, const struct ck_kdump_conf *conf,
				    struct ck_strlist *mods)
{
	struct ck_kdump_initramfs_info *in = b->info;
	struct ck_error *err = NULL;
	switch (conf->target_kind) {
	case CK_KDUMP_TARGET_LOCAL:
		err = ck_kdump_local_target(conf->path, &in->target, mods);
		break;
	case CK_KDUMP_TARGET_DEVICE:
		err = ck_kdump_device_target(conf, &in->target, mods);
		break;
	default: {
		/* Network targets: the NIC drivers of the machine's interfaces
		 * and the default route's address, set up again by the init. */
		char *net = NULL;
		err = ck_kdump_net_modules(mods);
		if (!err)
			err = ck_kdump_net_config(&net);
		if (!err)
			err = add_bytes(b, "/etc/crashkit/network", 0644, net, strlen(net));
		free(net);
		if (!err && conf->target_kind == CK_KDUMP_TARGET_SSH)
			err = add_ssh(b, conf);
		break;
	}
	}
	if (err)
		return ck_error_prepend(err, "kdump.conf target");
	/* Nothing modular below the device (built-in drivers, or a device
	 * not found now): the usual disk controllers. */
	if (conf->target_kind != CK_KDUMP_TARGET_LOCAL && conf->target_kind != CK_KDUMP_TARGET_DEVICE)
		return NULL;
	if (mods->nr <= 1) {
		static const char *const usual[] = { "virtio_pci", "virtio_blk", "virtio_scsi",
			"nvme", "ahci", "sd_mod" };
		for (size_t i = 0; i < CK_ARRAY_SIZE(usual); i++)
			ck_strlist_add_unique(mods, usual[i]);
	}
	char *text = ck_boot_target_format(&in->target);
	err = text ? add_bytes(b, "/etc/crashkit/target", 0644, text, strlen(text)) : &ck_error_nomem;
	free(text);
	return err;
}

static struct ck_error *add_config(struct builder *b, struct ck_kdump_conf *conf)
{
	const char *cpath = b->o->conf ? b->o->conf : CK_KDUMP_CONF_DEFAULT;
	char *full = b->o->conf ? strdup(cpath) : ck_kdump_path(b->o->root, cpath);
	if (!full)
		return &ck_error_nomem;
	struct ck_error *err = ck_kdump_conf_load(conf, full, !b->o->conf);
	if (!err && !access(full, R_OK))
		err = add_copy(b, CK_KDUMP_CONF_DEFAULT, full, 0644);
	free(full);
	if (err)
		return err;
	/* The crashed system's os-release, where the save reads it. */
	static const char *const osr[] = { "/etc/os-release", "/usr/lib/os-release" };
	for (size_t i = 0; i < CK_ARRAY_SIZE(osr); i++) {
		char *p = ck_kdump_path(b->o->root, osr[i]);
		bool there = p && !access(p, R_OK);
		err = there ? add_copy(b, CK_KDUMP_OS_RELEASE_DEFAULT, p, 0644) : NULL;
		free(p);
		if (there || err)
			break;
	}
	return err;
}

static struct ck_error *add_skeleton(struct builder *b)
{
	static const char *const dirs[] = { "/dev", "/proc", "/sys", "/run", "/tmp", "/mnt", "/var",
		"/etc", "/root" };
	struct ck_error *err = NULL;
	for (size_t i = 0; !err && i < CK_ARRAY_SIZE(dirs); i++)
		err = ck_strlist_add(&b->dirs, dirs[i]) ? ck_cpio_add_dir(&b->cpio, dirs[i])
			: &ck_error_nomem;
	/* The kernel opens /dev/console for init's stdio before devtmpfs is
	 * mounted. */
	if (!err)
		err = ck_cpio_add_chardev(&b->cpio, "/dev/console", 0600, 5, 1);
	if (!err)
		err = ck_cpio_add_chardev(&b->cpio, "/dev/kmsg", 0644, 1, 11);
	if (!err)
		err = ck_cpio_add_chardev(&b->cpio, "/dev/null", 0666, 1, 3);
	return err;
}

static struct ck_error *compress_archive(const struct ck_kdump_initramfs_opts *o, struct ck_strbuf *in,
				 void **out, size_t *out_len)
{
	const char *c = o->compress ? o->compress : "zstd";
	if (!strcmp(c, "none")) {
		*out_len = in->len;
		*out = ck_strbuf_detach(in, NULL);
		return *out ? NULL : &ck_error_nomem;
	}
	if (!strcmp(c, "zstd")) {
		size_t cap = ZSTD_compressBound(in->len);
		void *buf = malloc(cap);
		size_t n = buf ? ZSTD_compress(buf, cap, in->buf, in->len, 3) : 0;
		if (!buf || ZSTD_isError(n)) {
			free(buf);
			return buf ? ck_error_create(CK_ERR_FORMAT, "zstd: %s", ZSTD_getErrorName(n))
				: &ck_error_nomem;
		}
		*out = buf;
		*out_len = n;
		return NULL;
	}
	if (!strcmp(c, "gzip")) {
		z_stream z = { 0 };
		if (deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			return &ck_error_nomem;
		size_t cap = deflateBound(&z, in->len);
		void *buf = malloc(cap);
		z.next_in = (Bytef *)in->buf;
		z.avail_in = (uInt)in->len;
		z.next_out = buf;
		z.avail_out = (uInt)cap;
		int r = buf ? deflate(&z, Z_FINISH) : Z_MEM_ERROR;
		*out_len = z.total_out;
		deflateEnd(&z);
		if (r != Z_STREAM_END) {
			free(buf);
			return &ck_error_nomem;
		}
		*out = buf;
		return NULL;
	}
	return ck_error_create(CK_ERR_INVALID, "compression '%s': zstd, gzip or none", c);
}

static struct ck_error *write_out(const char *path, const void *data, size_t len)
{
	struct ck_outfile of = CK_OUTFILE_INIT;
	struct ck_error *err = ck_outfile_open(path, true, &of);
	if (!err)
		err = ck_write_all(of.fd, data, len, of.tmp_path);
	if (!err)
		err = ck_outfile_commit(&of);
	ck_outfile_abandon(&of, false);
	return err;
}

static struct ck_error *build(struct builder *b, const char *out_path)
{
	struct ck_kdump_conf conf;
	ck_kdump_conf_init(&conf);
	struct ck_strlist mods = CK_STRLIST_INIT;
	struct ck_error *err = add_skeleton(b);
	if (!err)
		err = add_programs(b);
	if (!err)
		err = add_config(b, &conf);
	if (!err)
		err = plan_target(b, &conf, &mods);
	b->info->target_kind = conf.target_kind;
	for (size_t i = 0; !err && i < b->o->nr_modules; i++)
		if (!ck_strlist_add_unique(&mods, b->o->modules[i]))
			err = &ck_error_nomem;
	if (!err)
		err = add_modules(b, &mods);
	ck_strlist_deinit(&mods);
	ck_kdump_conf_deinit(&conf);
	if (!err)
		err = ck_cpio_finish(&b->cpio);
	if (err)
		return err;
	b->info->nr_files = b->cpio.nr_files;
	b->info->unpacked_bytes = b->cpio.buf.len;
	void *data = NULL;
	size_t len = 0;
	err = compress_archive(b->o, &b->cpio.buf, &data, &len);
	if (err)
		return err;
	b->info->bytes = len;
	err = write_out(out_path, data, len);
	free(data);
	return err;
}

struct ck_error *ck_kdump_initramfs(const struct ck_kdump_initramfs_opts *o, const char *out_path,
				    struct ck_kdump_initramfs_info **ret)
{
	struct ck_kdump_initramfs_info *info = calloc(1, sizeof(*info));
	if (!info)
		return &ck_error_nomem;
	info->release = o->release ? strdup(o->release) : ck_kdump_release(o->root);
	struct builder b = { .o = o, .info = info };
	ck_cpio_init(&b.cpio);
	struct ck_error *err = info->release ? build(&b, out_path) : &ck_error_nomem;
	ck_cpio_deinit(&b.cpio);
	ck_strlist_deinit(&b.dirs);
	if (err) {
		ck_kdump_initramfs_info_destroy(info);
		return ck_error_prepend(err, "initramfs '%s'", out_path);
	}
	*ret = info;
	return NULL;
}

void ck_kdump_initramfs_info_destroy(struct ck_kdump_initramfs_info *info)
{
	if (!info)
		return;
	free(info->release);
	ck_strlist_deinit(&info->libs);
	ck_strlist_deinit(&info->modules);
	ck_strlist_deinit(&info->missing_modules);
	ck_boot_target_deinit(&info->target);
	free(info);
}
