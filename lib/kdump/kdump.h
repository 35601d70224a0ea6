/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/kdump/: the kdump family (docs/kdump.md).  Today: check and recommend. */
#ifndef CK_KDUMP_KDUMP_H
#define CK_KDUMP_KDUMP_H

#include <stddef.h>
#include <stdint.h>

#include "crashkit.h"
#include "base/base.h"

/* Paths under the root of ck_kdump_opts ("" for the running system). */
char *ck_kdump_path(const char *root, const char *path);

/* Reads a small text file (a /proc or /sys file, a config) whole, at most
 * max bytes; NUL-terminated.  Fails naming path. */
struct ck_error *ck_kdump_read_text(const char *path, size_t max, char **ret, size_t *len_ret);
/* The same through zlib (/proc/config.gz). */
struct ck_error *ck_kdump_read_gz(const char *path, size_t max, char **ret, size_t *len_ret);

/* The kernel release: root/proc/sys/kernel/osrelease, else uname(2). */
char *ck_kdump_release(const char *root);
/* MemTotal of root/proc/meminfo in bytes, 0 when unknown. */
uint64_t ck_kdump_mem_total(const char *root);

/* The options check reports, in its order (a fresh copy, values empty). */
struct ck_error *ck_kdump_options(struct ck_kdump_option **ret, size_t *nr_ret);
/* Fills the options' values from a kernel config's text ("CONFIG_X=y",
 * "# CONFIG_X is not set").  CK_ERR_FORMAT if the text is not a kernel
 * config (no CONFIG_ line at all, or a NUL byte). */
struct ck_error *ck_kdump_parse_config(const char *text, size_t len,
				       struct ck_kdump_option *opts, size_t nr);
/* Needed options not set, "CONFIG_A CONFIG_B|CONFIG_C" (| : one of), or NULL when
 * none is missing (*ret untouched on failure). */
struct ck_error *ck_kdump_missing(const struct ck_kdump_option *opts, size_t nr, char **ret);

/* The seeds' table (issue 11) for ram bytes: 0 below 2 GiB. */
uint64_t ck_kdump_seed_size(uint64_t ram);
#define CK_KDUMP_SEED_SPEC "2G-4G:320M,4G-32G:512M,32G-64G:1024M,64G-128G:2048M,128G-:4096M"
#define CK_KDUMP_UTILS_SPEC "2G-64G:256M,64G-:512M"
#define CK_KDUMP_DEBIAN_SPEC "384M-:128M"

/* ---- load, initramfs (issue 11, helper "load") ---- */

/* struct ck_strlist (crashkit.h), lib/kdump/strlist.c. */
#define CK_STRLIST_INIT { NULL, 0, 0 }
void ck_strlist_deinit(struct ck_strlist *l);
bool ck_strlist_add(struct ck_strlist *l, const char *s);	/* a copy */
bool ck_strlist_add_owned(struct ck_strlist *l, char *s);	/* frees s on failure */
bool ck_strlist_add_unique(struct ck_strlist *l, const char *s);
bool ck_strlist_contains(const struct ck_strlist *l, const char *s);

/* A small file's text, or NULL when it cannot be read (absent is normal). */
char *ck_kdump_read_quiet(const char *path, size_t max);

/* A newc cpio archive built in memory (lib/kdump/cpio.c). */
struct ck_cpio {
	struct ck_strbuf buf;
	unsigned int ino;
	size_t nr_files;
	uint64_t data_bytes;
};
void ck_cpio_init(struct ck_cpio *c);
void ck_cpio_deinit(struct ck_cpio *c);
struct ck_error *ck_cpio_add_dir(struct ck_cpio *c, const char *name);
struct ck_error *ck_cpio_add_file(struct ck_cpio *c, const char *name, unsigned int perm,
				  const void *data, size_t len);
struct ck_error *ck_cpio_add_symlink(struct ck_cpio *c, const char *name, const char *target);
struct ck_error *ck_cpio_add_chardev(struct ck_cpio *c, const char *name, unsigned int perm,
				     unsigned int maj, unsigned int min);
struct ck_error *ck_cpio_finish(struct ck_cpio *c);

/* program, its dynamic loader and every shared library it needs,
 * recursively (lib/kdump/elfdeps.c): program first, then paths as the
 * system under root names them (read under root). */
struct ck_error *ck_elf_deps(const char *root, const char *program, struct ck_strlist *ret);

/* The modules of release under root/lib/modules/RELEASE that names need,
 * in load order (lib/kdump/modules.c): dependencies of modules.dep, soft
 * "pre:" dependencies of modules.softdep through modules.alias.  Built-in
 * names are left out; unknown names go to *missing (may be NULL). */
struct ck_error *ck_kdump_modules_resolve(const char *root, const char *release,
					  const struct ck_strlist *names,
					  struct ck_strlist *paths_ret, struct ck_strlist *missing);
/* The filesystem holding a local dump directory, and the modules of its
 * device's drivers and filesystem (lib/kdump/target.c). */
struct ck_error *ck_kdump_local_target(const char *dir, struct ck_boot_target *t,
				       struct ck_strlist *mods);
/* kdump.conf's UUID=/LABEL= target, found among the block devices now. */
struct ck_error *ck_kdump_device_target(const struct ck_kdump_conf *conf,
					struct ck_boot_target *t, struct ck_strlist *mods);
/* The drivers of the network interfaces that have a device. */
struct ck_error *ck_kdump_net_modules(struct ck_strlist *mods);
/* The default route's interface as "key=value" lines for the capture
 * init (/etc/crashkit/network). */
struct ck_error *ck_kdump_net_config(char **ret);
/* A module file's bytes, decompressed (.xz, .zst, .gz) unless keep. */
struct ck_error *ck_kdump_module_read(const char *path, bool keep, char **ret, size_t *len_ret);

#endif
