/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal interfaces of the userspace-core files (lib/core_*.c). */
#ifndef CRASHKIT_CORE_INTERNAL_H
#define CRASHKIT_CORE_INTERNAL_H

#include "base/base.h"

/* ---- core_util.c: small shared helpers -------------------------------- */

/* Reads a whole small file at dirfd/path (no symlink following on the last
 * component when nofollow) into a NUL-terminated buffer of at most max bytes. */
struct json_object;
/* o as pretty JSON text in a new string (NULL if o is NULL or out of
 * memory); o is put either way. */
char *ck_core_json_take_string(struct json_object *o);
struct ck_error *ck_core_read_small(int dirfd, const char *path, size_t max, char **ret,
				    size_t *len_ret);
/* Writes data to dirfd/name via name.tmp + fsync + rename. */
struct ck_error *ck_core_write_atomic(int dirfd, const char *name, const void *data,
				      size_t len, mode_t mode);
/* strdup that never returns NULL for NULL input ("" instead); NULL on ENOMEM. */
char *ck_core_strdup0(const char *s);

/* ---- core_store.c: the store directory and compressed cores ----------- */

/* Opens (creating if asked) the store directory: root-owned, 0700, no symlink. */
struct ck_error *ck_core_store_open(const char *path, bool create, int *dirfd_ret);

struct ck_core_ingest {
	uint64_t raw_bytes;	/* bytes read from the input */
	uint64_t stored_bytes;	/* compressed bytes written */
	bool truncated;		/* stopped before EOF: budget spent or I/O error */
	char reason[160];	/* why truncated */
};

/* Streams in_fd through zstd into dirfd/name (via name.tmp, fsync, rename).
 * budget: compressed bytes allowed; the stream stops there (truncated). */
/* mini_fd >= 0: also writes a sparse "mini core" there while streaming: the
 * ELF headers, notes and every PT_LOAD of at most CK_CORE_MINI_SEGMENT bytes
 * (stacks, data, ELF headers of modules), holes for bigger ones (heaps).
 * libdwfl needs nothing else, so the backtrace needs no decompression. */
#define CK_CORE_MINI_SEGMENT (64ULL << 20)
struct ck_error *ck_core_store_ingest(int dirfd, const char *name, int in_fd, int level,
				      int workers, uint64_t budget, mode_t mode, int mini_fd,
				      struct ck_core_ingest *ret);
/* Decompresses dirfd/name into out_fd; sparse: seek over zero blocks. */
struct ck_error *ck_core_store_extract(int dirfd, const char *name, int out_fd, bool sparse);
/* Bytes used by *.zst files in the store. */
struct ck_error *ck_core_store_usage(int dirfd, uint64_t *ret);
/* Free bytes on the store's filesystem. */
struct ck_error *ck_core_store_free(int dirfd, uint64_t *ret);
/* Grants uid read access with a POSIX ACL (user:uid:r). */
struct ck_error *ck_core_store_grant(int fd, unsigned int uid);

/* ---- core_meta.c: what the kernel and /proc say about the crash ------- */

struct ck_core_args {
	int pid, tid, uid, gid;
	int signal;		/* 0 when unknown (socket mode): taken from the core's notes */
	int64_t time_sec;	/* %t; -1 when unknown: the handler's clock */
	uint64_t rlimit_core;	/* %c; UINT64_MAX for unlimited */
	bool have_rlimit;
	int pidfd;		/* -1 unless F= names an fd */
	char comm[64];		/* %e, untrusted */
	char hostname[65];	/* %h */
	bool release_input;	/* replace in_fd with /dev/null once the core is read, so
				 * the kernel lets the crashed process go (pipe: it waits
				 * until the handler closes its read end; socket: until
				 * the receiver closes the connection) */
	const char *mode;	/* "pipe" or "socket", for the metadata */
	int dumpable;		/* %d: 2 = suid_dumpable "root only" (no ACL for the
				 * owner), 1 = as the user, -1 unknown */
};

struct ck_error *ck_core_args_parse(int argc, char **argv, struct ck_core_args *ret);

/* core_handle.c: the walk shared by the pipe handler and the socket receiver. */
struct ck_error *ck_core_process(const struct ck_core_policy *policy,
				 const struct ck_core_args *args, int in_fd,
				 struct ck_core_record *ret);

/* Collects /proc/<pid> (guarded by a pidfd) into a JSON object string and
 * fills rec->exe, cmdline, hostname, boot_id. */
struct ck_error *ck_core_meta_collect(const struct ck_core_args *args,
				      struct ck_core_record *rec);

/* ---- core_backtrace.c -------------------------------------------------- */

struct ck_core_backtrace {
	char *text;		/* all threads */
	char *modules;
	char *signature;	/* 16 hex digits */
	char *crash_frames;	/* the signature's hashed text, "v1|CLASS|EXE|F1..." */
	unsigned int nr_threads;
	int signal;		/* from the first NT_PRSTATUS (pr_cursig), 0 if none */
	int tid;		/* its pr_pid: the thread that took the signal */
};

/* ---- signature.c: signature scheme v1 for cores (docs/signatures.md) -- */

/* The class of a userspace crash: the signal's abbreviation in lower case
 * ("segv", "abrt", "fpe", "bus", ...), "signal-N" when it has none. */
#define CK_CORE_CLASS_MAX 16
void ck_core_signal_class(int signal, char buf[CK_CORE_CLASS_MAX]);
/* "v1|CLASS|EXE|F1|F2|F3" (frames cut at their first '.', at most 3), and
 * the first 16 hex digits of its SHA-256. */
char *ck_core_signature_input(const char *exe_name, int signal, const char *const *frames,
			      unsigned int nr);
char *ck_core_signature(const char *exe_name, int signal, const char *const *frames,
			unsigned int nr);
/* The signature of a crash from its stored backtrace text (the first
 * thread's frames: boring ones skipped, a stop frame ends them, a nameless
 * one is MODULE+0xOFFSET from the module list) and exe (path or name). */
struct ck_core_sig {
	char class_name[CK_CORE_CLASS_MAX];
	char *input;		/* the hashed text */
	char *signature;	/* 16 hex digits */
	char *frame;		/* F1, "" when there is none */
};
struct ck_error *ck_core_signature_from_text(const char *exe, int signal, const char *backtrace,
					     const char *modules, struct ck_core_sig *ret);
void ck_core_sig_deinit(struct ck_core_sig *sig);
/* Frames that say how a process died rather than where (abort, raise, ...). */
bool ck_core_boring_frame(const char *name);

struct ck_error *ck_core_backtrace_fd(int core_fd, const char *exe_name, int signal,
				      unsigned int max_threads, unsigned int max_frames,
				      struct ck_core_backtrace *ret);
void ck_core_backtrace_deinit(struct ck_core_backtrace *bt);

/* ---- core_catalog.c ---------------------------------------------------- */

struct ck_error *ck_catalog_insert(struct ck_catalog *cat, struct ck_core_record *rec);
/* Names of core files of exe beyond the newest keep, to drop. */
struct ck_error *ck_catalog_excess_for_exe(struct ck_catalog *cat, const char *exe,
					   unsigned int keep, struct ck_core_record **ret,
					   size_t *nr_ret);
/* Oldest records that still have a core file. */
struct ck_error *ck_catalog_oldest_with_core(struct ck_catalog *cat,
					     struct ck_core_record **ret, size_t *nr_ret);
/* Marks that rec's core file is gone, with a reason (and updates the owner's copy
 * of the metadata). */
struct ck_error *ck_catalog_drop_core(struct ck_catalog *cat, int64_t id, const char *reason);
/* The catalog's store directory fd (owned by the catalog). */
int ck_catalog_dirfd(struct ck_catalog *cat);
/* The catalog's database, for the kernel dumps' table (kdumps.c). */
struct sqlite3;
struct sqlite3 *ck_catalog_sqlite(struct ck_catalog *cat);

/* ---- core_share.c: metadata files, and what the crashed process's owner sees */

/* STORE/<name>.json (tmp + rename, 0600): everything about one crash. */
struct ck_error *ck_core_record_write_json(int dirfd, const struct ck_core_record *rec);
/* STORE/by-uid/<uid>/<name>.json, readable by uid only (ACL): what
 * `cores list|info` shows a non-root user.  Nothing for uid 0. */
struct ck_error *ck_core_share_record(int dirfd, const struct ck_core_record *rec);
void ck_core_unshare_record(int dirfd, const struct ck_core_record *rec);
/* ---- json.c: a record as JSON and back -------------------------------- */

/* The metadata file's text: rec->meta_json with the record's fields over it. */
char *ck_core_record_file_json(const struct ck_core_record *rec);
/* meta_json with key set to value, as new text; NULL if it is not JSON. */
char *ck_core_meta_json_add(const char *meta_json, const char *key, const char *value);
/* Parses one metadata JSON text into a record. */
struct ck_error *ck_core_record_from_json(const char *text, struct ck_core_record *ret);

/* ---- core_serve.c ------------------------------------------------------ */

/* The peer of a coredump socket connection, from SO_PEERPIDFD and
 * PIDFD_GET_INFO; an error when the peer is not a process that is dumping
 * core (PIDFD_COREDUMPED). */
struct ck_error *ck_core_peer_args(int conn, struct ck_core_args *ret);

bool ck_core_all_of(const char *s, int (*pred)(int));

/* ---- kdumps.c, crashes.c: one catalog of both kinds (docs/catalog.md) -- */

/* A crash with every string "" and the numbers unknown; false on ENOMEM. */
bool ck_crash_init(struct ck_crash *c);
/* The kernel fields of c from triage's JSON (schema crashkit-triage/1):
 * untrusted text (a file beside the dump), bounded, checked. */
struct ck_error *ck_kdump_triage_parse(const char *text, size_t len, struct ck_crash *c);
/* The kernel dumps of opts->dirs appended to the crashes, indexed by
 * triage where needed; cat (may be NULL) holds the index. */
struct ck_error *ck_kdumps_collect(const struct ck_crash_opts *opts, struct ck_catalog *cat,
				   struct ck_crash **crashes, size_t *nr, size_t *cap,
				   struct ck_crash_stats *stats);

#endif /* CRASHKIT_CORE_INTERNAL_H */
