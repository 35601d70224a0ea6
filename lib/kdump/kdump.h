/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/kdump/: the kdump family (docs/kdump.md).  Today: check and recommend. */
#ifndef CK_KDUMP_KDUMP_H
#define CK_KDUMP_KDUMP_H

#include <stddef.h>
#include <stdint.h>

#include "crashkit.h"

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

#endif
