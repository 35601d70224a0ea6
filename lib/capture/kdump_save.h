/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The save step's pieces (issue 11, docs/kdump.md "save"): save.c runs
 * them in order; the public side is the "kdump save" section of
 * include/crashkit.h.
 */
#ifndef CRASHKIT_KDUMP_SAVE_H
#define CRASHKIT_KDUMP_SAVE_H

#include <sys/types.h>

#include "base/base.h"

/* ---- the triage artifact (save_triage.c) -------------------------------- */

/* The log as `crashkit dmesg` prints it (caller column when the kernel
 * records callers); *lines_ret lines. */
struct ck_error *ck_save_dmesg(struct ck_kernel *kernel, struct ck_strbuf *out,
			       size_t *lines_ret);
/* The last Oops/BUG/panic block of a dmesg text and what follows it (its
 * Call Trace), at most 400 lines; "" when the log has none. */
struct ck_error *ck_save_panic(const char *dmesg, size_t len, struct ck_strbuf *out,
			       size_t *lines_ret);

/* ---- where the files go (save_target.c) --------------------------------- */

/* A dump directory: local path, remote path (ssh) or URL path (http). */
struct ck_save_dest {
	const struct ck_kdump_conf *conf;
	char *dir;
};

/* Makes the directory: local: base/stamp, "-2".. "-99" appended on a clash
 * (stamp is updated); ssh: mkdir -p; http: nothing (PUT makes it). */
struct ck_error *ck_save_mkdir(struct ck_save_dest *d, const char *base, char stamp[32]);
/* Writes the whole file name (name.incomplete, fsync, rename locally; ssh:
 * cat then mv; http: PUT with Content-Length). */
struct ck_error *ck_save_put(const struct ck_save_dest *d, const char *name, const void *buf,
			     size_t len);

/* A stream to a remote file: write to fd; close with ok true to keep it
 * (ssh: renamed from name.incomplete; http: the last chunk sent), false to
 * cut it (the child is killed first: ssh leaves name.incomplete, http a
 * chunked body without its end). */
struct ck_save_stream {
	int fd;
	pid_t pid;
	int err_fd;		/* the child's messages (a memfd) */
};
struct ck_error *ck_save_stream_open(const struct ck_save_dest *d, const char *name,
				     struct ck_save_stream *s);
struct ck_error *ck_save_stream_close(const struct ck_save_dest *d, const char *name,
				      struct ck_save_stream *s, bool ok);

/* The shown name of a dest ("/var/core/x/STAMP", "root@h:/d/STAMP",
 * "http://h:80/d/STAMP"). */
char *ck_save_dest_name(const struct ck_save_dest *d);

/* Runs prog with arg as its only argument, stdin /dev/null, at most
 * timeout_sec seconds (then killed); fails naming prog and its status. */
struct ck_error *ck_save_run_hook(const char *prog, const char *arg, unsigned int timeout_sec);

/* ---- the archive (save_archive.c) ------------------------------------- */

/* DIR/STAMP.tar.zst or .tar.gz of the regular files in dir (but
 * archives), their names under STAMP/. */
struct ck_error *ck_save_archive(const char *dir, const char *stamp, enum ck_kdump_archive kind,
				 char **name_ret, uint64_t *bytes_ret);

/* ---- listing and keep N (save_list.c) --------------------------------- */

/* Whether name is a dump directory's: YYYYmmdd-HHMMSS or that with -N. */
bool ck_save_is_stamp(const char *name);
/* Deletes the oldest dump directories of base so that keep remain, never
 * current (a stamp).  *removed_ret: how many went. */
struct ck_error *ck_save_keep(const char *base, unsigned int keep, const char *current,
			      unsigned int *removed_ret);

#endif /* CRASHKIT_KDUMP_SAVE_H */
