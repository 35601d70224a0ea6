/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * crashkit: the one public header of libcrashkit.
 *
 * Conventions (see docs/design.md):
 *  - Every fallible function returns struct ck_error *, NULL on success.
 *    Results come back through trailing out-parameters, which are left
 *    untouched on failure.  Out of memory is a static error.
 *  - Objects made by x_create() are freed by x_destroy(); x_destroy(NULL)
 *    does nothing.
 *  - The library never prints; it returns data and errors.
 */
#ifndef CRASHKIT_H
#define CRASHKIT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ----------------------------------------------------------- */

enum ck_error_code {
	CK_ERR_NOMEM = 1,	/* out of memory */
	CK_ERR_OS,		/* a system call failed; ck_error_errno() says why */
	CK_ERR_INVALID,		/* bad argument from the caller */
	CK_ERR_FORMAT,		/* input is corrupt or not what it claims */
	CK_ERR_NOT_FORMAT,	/* a driver's probe: not this format */
	CK_ERR_TRUNCATED,	/* input ends before the data asked for */
	CK_ERR_UNSUPPORTED,	/* valid input we cannot handle */
	CK_ERR_NOT_FOUND,	/* a name or key is absent */
	CK_ERR_FAULT,		/* an address is not present in the dump */
};

struct ck_error;

/* Static, never freed: returned when an allocation fails. */
extern struct ck_error ck_error_nomem;

struct ck_error *ck_error_create(enum ck_error_code code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Like ck_error_create(), with ": strerror(errnum)" appended. */
struct ck_error *ck_error_create_errno(int errnum, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Adds context in front of the message: "ctx: message".  Returns err. */
struct ck_error *ck_error_prepend(struct ck_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
enum ck_error_code ck_error_code(const struct ck_error *err);
int ck_error_errno(const struct ck_error *err);
const char *ck_error_message(const struct ck_error *err);
void ck_error_destroy(struct ck_error *err);

/* ---- dumps: bytes of a crash dump, nothing about Linux ---------------- */

struct ck_dump;

/* A contiguous range of physical memory present in a dump. */
struct ck_mem_range {
	uint64_t start;		/* physical address */
	uint64_t size;		/* bytes */
};

/* What a dump's container says about itself. */
struct ck_dump_info {
	const char *path;
	const char *format;	 /* "elf", "kdump", "flattened-kdump", ... */
	const char *origin;	 /* "proc-vmcore", "qemu", "makedumpfile", ... */
	const char *compression; /* "none", "zlib", "lzo", "snappy", "zstd", "mixed" */
	const char *arch;	 /* "x86_64", ... or NULL when unknown */
	int header_version;	 /* kdump header version, 0 for ELF */
	int dump_level;		 /* -1 when unknown (ELF) */
	bool incomplete;	 /* the writer flagged the dump incomplete */
	bool truncated;		 /* the file is shorter than its own headers say */
	uint64_t file_size;
	uint64_t expected_size;	 /* size the headers imply; == file_size unless truncated */
	uint32_t page_size;
	uint32_t nr_cpus;	 /* from the header, or the number of NT_PRSTATUS notes */
	uint64_t max_pfn;	 /* one past the highest pfn the dump can hold */
	int64_t header_time;	 /* seconds since the epoch from the header, 0 if none */
	/* One file of a split dump (makedumpfile --split): it holds the pages
	 * of the pfns [split_start_pfn, split_end_pfn) only. */
	bool split;
	uint64_t split_start_pfn, split_end_pfn;
	uint32_t split_files;	 /* files read together (ck_dump_open_split) */
	/* utsname from the dump header, "" when absent (ELF, QEMU) */
	char uts_sysname[65], uts_nodename[65], uts_release[65];
	char uts_version[65], uts_machine[65];
};

/* ELF note as found in the dump. */
struct ck_note {
	const char *name;	/* NUL-terminated, e.g. "CORE", "VMCOREINFO" */
	uint32_t type;
	const void *desc;
	size_t descsz;
};

/* Opens a dump of any supported format, chosen by probing. */
struct ck_error *ck_dump_open(const char *path, struct ck_dump **ret);
void ck_dump_destroy(struct ck_dump *dump);
/* Opens the files of a split dump (makedumpfile --split) as one dump: each
 * pfn is read from the file whose range holds it.  The files must share
 * their header; pages of a file left out are missing. */
struct ck_error *ck_dump_open_split(const char *const *paths, size_t nr,
				    struct ck_dump **ret);
const struct ck_dump_info *ck_dump_info(const struct ck_dump *dump);

/* Physical memory ranges present in the dump, sorted by address. */
void ck_dump_mem_ranges(const struct ck_dump *dump, const struct ck_mem_range **ret,
			size_t *nr_ret);

/* The dump's ELF notes (for kdump files: those saved in the sub-header). */
void ck_dump_notes(const struct ck_dump *dump, const struct ck_note **ret,
		   size_t *nr_ret);

/* The raw VMCOREINFO text (NUL-terminated), or NULL if the dump has none. */
const char *ck_dump_vmcoreinfo(const struct ck_dump *dump, size_t *len_ret);

/* Reads physical memory.  Fails with CK_ERR_FAULT for pages that are not in
 * the dump (excluded by filtering, not RAM, or past a truncation) and names
 * the address. */
struct ck_error *ck_dump_read_phys(struct ck_dump *dump, uint64_t paddr, void *buf,
				   size_t len);
/* Whether page frame pfn can be read. */
bool ck_dump_has_page(struct ck_dump *dump, uint64_t pfn);
/* ck_dump_has_page for the frames [start, end) whose bit is set in mask:
 * bit i of bm (and mask) stands for frame start + i, start a multiple of 64.
 * Other bits of bm come out clear. */
void ck_dump_has_pages(struct ck_dump *dump, uint64_t start, uint64_t end, const uint64_t *mask,
		       uint64_t *bm);
/* Both bitmaps of the frames [start, end) (start a multiple of 64; bit i
 * for frame start + i): mem, the frames the dump's memory ranges cover (in
 * part counts), and have, those of them the dump holds. */
void ck_dump_page_bitmaps(struct ck_dump *dump, uint64_t start, uint64_t end, uint64_t *mem,
			  uint64_t *have);

/* What truncation cost: pages the headers say were saved whose bytes lie
 * past the end of the file (filtered-out pages are not counted). */
struct ck_dump_loss {
	uint64_t pages;
	uint64_t first_pfn;	/* lowest and highest lost pfn, when pages > 0 */
	uint64_t last_pfn;
};
struct ck_error *ck_dump_lost_pages(struct ck_dump *dump, struct ck_dump_loss *ret);

/* ---- kernel: what the bytes mean ------------------------------------- */

struct ck_kernel;

/* Interprets a dump as a Linux kernel: parses VMCOREINFO, sets up address
 * translation and symbols.  The dump must outlive the kernel object. */
struct ck_error *ck_kernel_create(struct ck_dump *dump, struct ck_kernel **ret);
void ck_kernel_destroy(struct ck_kernel *kernel);
struct ck_dump *ck_kernel_dump(const struct ck_kernel *kernel);

/* VMCOREINFO lookups.  Keys are as the kernel writes them, e.g.
 * "OSRELEASE", "PAGESIZE", "SYMBOL(init_uts_ns)", "OFFSET(printk_info.seq)". */
const char *ck_kernel_vmcoreinfo_str(const struct ck_kernel *kernel, const char *key);
struct ck_error *ck_kernel_vmcoreinfo_u64(const struct ck_kernel *kernel,
					  const char *key, uint64_t *ret);
struct ck_error *ck_kernel_vmcoreinfo_s64(const struct ck_kernel *kernel,
					  const char *key, int64_t *ret);

/* Kernel virtual memory. */
struct ck_error *ck_kernel_virt_to_phys(struct ck_kernel *kernel, uint64_t vaddr,
					uint64_t *ret);
struct ck_error *ck_kernel_read(struct ck_kernel *kernel, uint64_t vaddr, void *buf,
				size_t len);
struct ck_error *ck_kernel_read_u64(struct ck_kernel *kernel, uint64_t vaddr,
				    uint64_t *ret);
struct ck_error *ck_kernel_read_u32(struct ck_kernel *kernel, uint64_t vaddr,
				    uint32_t *ret);

/* Symbols (kallsyms from VMCOREINFO, Linux 6.0+). */
struct ck_symbol {
	const char *name;
	uint64_t address;
	uint64_t size;		/* distance to the next symbol; 0 if unknown */
	char type;		/* kallsyms type letter: 'T', 't', 'D', 'b', ... */
};

struct ck_error *ck_kernel_symbol_by_name(struct ck_kernel *kernel, const char *name,
					  struct ck_symbol *ret);
/* The symbol containing addr (the nearest one at or below it). */
struct ck_error *ck_kernel_symbol_by_address(struct ck_kernel *kernel, uint64_t addr,
					     struct ck_symbol *ret);
/* The same, but of several names at one address the last by name (as
 * System.map lists them) where ck_kernel_symbol_by_address gives the
 * kernel's preferred alias: the crash utility's choice (`__x64_sys_pause`,
 * not `__do_sys_pause`), for answers that must read as crash's. */
struct ck_error *ck_kernel_symbol_by_address_last(struct ck_kernel *kernel, uint64_t addr,
						  struct ck_symbol *ret);

/* How the kallsyms tables were read: the address encoding (the kernel has
 * used several, and VMCOREINFO does not say which) and the VMCOREINFO
 * SYMBOL() entries that vouch for it.  Strings live as long as the kernel.
 * Decodes the tables if no lookup has yet. */
struct ck_symbols_info {
	const char *encoding;		/* "place-relative", "base-relative", ... */
	const char *description;	/* the tables and kernels it belongs to */
	size_t nr_symbols;
	unsigned int checked;		/* VMCOREINFO symbols that kallsyms lists */
	unsigned int agreed;		/* of those, decoding to VMCOREINFO's value */
	const char *agreed_names;	/* space-separated, possibly ending "..." */
	const char *differ_names;	/* "" when all agree */
};
struct ck_error *ck_kernel_symbols_info(struct ck_kernel *kernel, struct ck_symbols_info *ret);

/* KASLR offset (VMCOREINFO KERNELOFFSET), 0 when absent. */
uint64_t ck_kernel_offset(const struct ck_kernel *kernel);

/* ---- kernel facts (lib/kernel/facts.c) -------------------------------- */

/* The crashed kernel's uname (init_uts_ns.name): each field at most 64
 * bytes and NUL-terminated. */
struct ck_utsname {
	char sysname[65], nodename[65], release[65];
	char version[65], machine[65], domainname[65];
};
struct ck_error *ck_kernel_utsname(struct ck_kernel *kernel, struct ck_utsname *ret);
/* The CPU that panicked (panic_cpu, read through kallsyms); -1 when the
 * kernel had not panicked (a dump of a running machine). */
struct ck_error *ck_kernel_panic_cpu(struct ck_kernel *kernel, int32_t *ret);
/* Seconds since the epoch when the kernel crashed (VMCOREINFO CRASHTIME). */
struct ck_error *ck_kernel_crash_time(const struct ck_kernel *kernel, int64_t *ret);
/* Physical minus link-time load address of the kernel image, as the kdump
 * header's phys_base holds it (x86_64 NUMBER(phys_base)); CK_ERR_UNSUPPORTED
 * for an architecture that has none. */
struct ck_error *ck_kernel_phys_base(const struct ck_kernel *kernel, uint64_t *ret);

/* ---- opening a dump (lib/kernel/open.c) ------------------------------- */

struct ck_open_opts {
	bool kernel;		/* also interpret the dump as a Linux kernel */
	/* Told what is worth a warning before the kernel is read (a truncated
	 * dump: "answering from what is there"); NULL: nobody. */
	void (*warn)(void *arg, const char *msg);
	void *warn_arg;
};
/* Opens DUMP arguments: one dump, or the files of a split dump read
 * together (ck_dump_open_split), and with opts->kernel the kernel in it
 * (*kernel_ret; destroy it before the dump).  opts NULL: the dump only. */
struct ck_error *ck_open(const char *const *paths, size_t nr, const struct ck_open_opts *opts,
			 struct ck_dump **dump_ret, struct ck_kernel **kernel_ret);

/* ---- kernel log ------------------------------------------------------- */

struct ck_log_record {
	uint64_t seq;
	uint64_t ts_nsec;
	/* printk's caller (CONFIG_PRINTK_CALLER's "[T123]"/"[C1]"): a pid, or
	 * with CK_LOG_CALLER_CPU set a CPU number.  Valid only when
	 * has_caller_id: 0 is a real caller (the idle task, "T0"). */
	uint32_t caller_id;
	bool has_caller_id;	/* the kernel records callers: ck_kernel_log_has_caller_id() */
	uint8_t facility;
	uint8_t level;
	const char *text;	/* not NUL-terminated within the record: use text_len */
	size_t text_len;
};

/* Calls fn for each readable record in order, oldest first; records whose
 * text was overwritten or never committed are skipped, as the kernel's own
 * readers do.  A non-zero return from fn stops the walk, which then returns
 * NULL.  Fails if the ring itself cannot be read. */
typedef int (*ck_log_fn)(const struct ck_log_record *rec, void *arg);
struct ck_error *ck_kernel_log_walk(struct ck_kernel *kernel, ck_log_fn fn, void *arg);

/* Whether the dump's kernel records each message's caller, and so whether
 * makedumpfile 1.7.5+ prints a caller column: VMCOREINFO has
 * OFFSET(printk_info.caller_id) (lockless ring, every kernel since 5.10) or
 * OFFSET(printk_log.caller_id) (structured buffer, CONFIG_PRINTK_CALLER,
 * 5.1-5.9).  False when no kernel log is described at all. */
bool ck_kernel_log_has_caller_id(const struct ck_kernel *kernel);

#define CK_LOG_CALLER_CPU 0x80000000u	/* caller_id: a CPU number, not a pid */

/* ck_log_format() flags. */
enum {
	/* "[      T0] " after the timestamp for records that have a caller id,
	 * as makedumpfile prints since 1.7.5; without it the layout of
	 * makedumpfile up to 1.7.4 */
	CK_LOG_FORMAT_CALLER = 1u << 0,
};

/* Formats one record the way `makedumpfile --dump-dmesg` prints it:
 * "[    1.234567] text\n", or "[    1.234567] [    T123] text\n" with
 * CK_LOG_FORMAT_CALLER, escaping unprintable bytes.  Returns the number of
 * bytes the full line needs (like snprintf). */
size_t ck_log_format(const struct ck_log_record *rec, unsigned int flags, char *buf, size_t size);

/* ---- userspace cores (docs/cores.md) ---------------------------------- */

/* Policy for the core handler and store: /etc/crashkit/cores.conf. */
struct ck_core_policy {
	char *store;			/* store directory */
	uint64_t max_core_size;		/* bigger cores: metadata + backtrace only */
	uint64_t max_use;		/* bytes of cores the store may hold */
	uint64_t keep_free;		/* bytes to leave free on the filesystem */
	unsigned int keep_per_exe;	/* newest N cores per exe keep their file */
	unsigned int rate_limit_burst;	/* cores kept per signature per interval */
	unsigned int rate_limit_interval; /* seconds */
	bool honor_rlimit_core;		/* %c == 0 -> metadata + backtrace only */
	int compress_level;
	int compress_workers;
	unsigned int max_threads;	/* backtrace bounds */
	unsigned int max_frames;
	char *socket;			/* socket mode: the receiver's AF_UNIX path */
};

#define CK_CORE_CONFIG_DEFAULT "/etc/crashkit/cores.conf"
#define CK_CORE_STORE_DEFAULT "/var/lib/crashkit/cores"
#define CK_CORE_SOCKET_DEFAULT "/run/crashkit/cores.sock"

/* Parses "123", "4K", "2G", "1T"; false on garbage. */
bool ck_core_parse_size(const char *s, uint64_t *ret);

void ck_core_policy_init(struct ck_core_policy *policy);
void ck_core_policy_deinit(struct ck_core_policy *policy);
/* Reads key=value lines over the current values.  A missing file is not an
 * error when missing_ok. */
struct ck_error *ck_core_policy_load(struct ck_core_policy *policy, const char *path,
				     bool missing_ok);

/* One crash as the catalog holds it.  Strings are never NULL ("" if unknown). */
struct ck_core_record {
	int64_t id;
	char *name;		/* store base name: core.<usec>.<pid>.<boot> */
	char *core_file;	/* "<name>.zst", or "" when no core was kept */
	int64_t time_usec;	/* crash time (%t) in microseconds */
	int pid, tid, uid, gid, signal;
	char *comm;		/* untrusted: the process chose it */
	char *exe;
	char *cmdline;
	char *hostname;
	char *boot_id;
	char *signature;	/* 16 hex digits, "" when no backtrace */
	char *state;		/* "stored", "truncated", "metadata-only" */
	char *reason;		/* why not "stored", "" otherwise */
	uint64_t core_size;	/* uncompressed bytes received */
	uint64_t stored_size;	/* compressed bytes kept */
	bool truncated;
	char *backtrace;	/* text, one "#N 0xADDR func (module)" line per frame */
	char *modules;		/* text, "start-end build-id path" lines */
	char *meta_json;	/* everything collected, as one JSON object */
};

void ck_core_record_deinit(struct ck_core_record *rec);
void ck_core_records_destroy(struct ck_core_record *recs, size_t nr);

/* The pipe handler: argv as the kernel passes it (key=value, see docs),
 * the core on in_fd.  Never reads in_fd when the arguments are bad. */
struct ck_error *ck_core_handle(const struct ck_core_policy *policy, int argc,
				char **argv, int in_fd, struct ck_core_record *ret);

struct ck_catalog;

struct ck_error *ck_catalog_open(const char *store, bool create, struct ck_catalog **ret);
void ck_catalog_destroy(struct ck_catalog *cat);
/* Records matching match (NULL: all), newest first; see docs/cores.md. */
struct ck_error *ck_catalog_find(struct ck_catalog *cat, const char *match,
				 struct ck_core_record **ret, size_t *nr_ret);
struct ck_error *ck_catalog_count_signature(struct ck_catalog *cat, const char *signature,
					    int64_t since_usec, unsigned int *ret);
/* Deletes the row and its files. */
struct ck_error *ck_core_remove(struct ck_catalog *cat, const struct ck_core_record *rec);

/* Does rec match a bare argument the way ck_catalog_find does: #ID, PID,
 * signature (16 hex digits), exe path (has '/'), else COMM.  NULL matches all. */
bool ck_core_record_matches(const struct ck_core_record *rec, const char *match);

/* list filters; unset fields are INT64_MIN / -1. */
struct ck_core_filter {
	int64_t since_usec, until_usec;
	int uid;
	int signal;
};
void ck_core_filter_init(struct ck_core_filter *f);
/* Drops the records that do not pass f, keeping the order. */
void ck_core_records_filter(struct ck_core_record *recs, size_t *nr,
			    const struct ck_core_filter *f);
/* A non-root user's own crashes, newest first, from STORE/by-uid/<uid>. */
struct ck_error *ck_core_user_find(const char *store, unsigned int uid, const char *match,
				   struct ck_core_record **ret, size_t *nr_ret);

/* Applies keep_per_exe, max_use and keep_free to the store now. */
struct ck_core_vacuum_report {
	unsigned int dropped;		/* core files removed (records stay) */
	uint64_t freed;			/* bytes of store they used */
	uint64_t used_after;
};
struct ck_error *ck_core_vacuum(const struct ck_core_policy *policy,
				struct ck_core_vacuum_report *ret);

/* Decompresses a stored core into out_fd; holes where the core has zeros
 * when sparse. */
struct ck_error *ck_core_extract(const char *store, const struct ck_core_record *rec,
				 int out_fd, bool sparse);

/* Backtrace of every thread of an ELF core file (not necessarily stored),
 * as in ck_core_record.backtrace, and its signature. */
struct ck_error *ck_core_backtrace_file(const char *path, const char *exe, int signal,
					unsigned int max_threads, unsigned int max_frames,
					char **text_ret, char **signature_ret);

/* core_pattern management.  install remembers what it replaces in the store.
 * self is the absolute path of the crashkit-cores executable: core_pattern
 * becomes "|SELF handle [--config=CONFIG] P=%P ...". */
struct ck_error *ck_core_install(const struct ck_core_policy *policy, const char *self,
				 const char *config, char **pattern_ret);
/* Socket mode (Linux 6.16): core_pattern = "@" + policy->socket; a receiver
 * must already listen there. */
struct ck_error *ck_core_install_socket(const struct ck_core_policy *policy,
					char **pattern_ret);
/* Is something listening on the AF_UNIX path (from /proc/net/unix, without
 * connecting: a connection would look like a crash to the receiver)? */
bool ck_core_socket_listening(const char *path);
/* Does the kernel offer socket mode (/proc/sys/kernel/core_modes)? */
bool ck_core_socket_mode_supported(void);

/* The socket-mode receiver.  listen creates the socket (0600, root) after
 * removing a stale one; serve accepts until stop_fd is readable, one
 * connection per crash, each handled like the pipe handler's stdin. */
typedef void ck_core_log_fn(void *arg, int level, const char *msg);
struct ck_error *ck_core_serve_listen(const char *path, int *fd_ret);
struct ck_error *ck_core_serve(const struct ck_core_policy *policy, int listen_fd,
			       int stop_fd, ck_core_log_fn *log, void *log_arg);
struct ck_error *ck_core_uninstall(const struct ck_core_policy *policy, char **restored_ret);

/* The store and the receiver's socket a policy names, or the defaults. */
const char *ck_core_policy_store(const struct ck_core_policy *policy);
const char *ck_core_policy_socket(const struct ck_core_policy *policy);

/* Who owns a core_pattern ("crashkit", "crashkit (socket mode)",
 * "systemd-coredump", "another pipe handler", ...; NULL: unreadable), and is
 * it ours: crashkit's pipe handler (also as "crashkit cores handle", what an
 * older crashkit installed) or policy's socket. */
const char *ck_core_pattern_owner(const char *pattern, const struct ck_core_policy *policy);
bool ck_core_pattern_is_ours(const char *pattern, const struct ck_core_policy *policy);
/* The first line of a /proc/sys file, e.g. "/proc/sys/kernel/core_pattern". */
struct ck_error *ck_core_sysctl_read(const char *path, char **ret);

/* The log of the handler and the receiver, which have no terminal: each
 * message becomes "<LEVEL>crashkit-cores: MSG" in the kernel log
 * (/dev/kmsg) and, when arg is a FILE *, "crashkit cores handle: MSG" there;
 * control characters become spaces.  A ck_core_log_fn. */
void ck_core_log_kmsg(void *arg, int level, const char *msg);
/* Formats a message (at most 511 bytes) for log; nothing when log is NULL. */
void ck_core_logf(ck_core_log_fn *log, void *log_arg, int level, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The receiver process: on systemd's socket (socket activation) or one of
 * its own at policy's path (removed at the end), until SIGTERM or SIGINT;
 * says when it listens and stops through log.  Errors of its own listen
 * start with "serve". */
struct ck_error *ck_core_receiver_run(const struct ck_core_policy *policy, ck_core_log_fn *log,
				      void *log_arg);
/* sd_listen_fds(3) without libsystemd: 3 when LISTEN_PID is this process
 * and LISTEN_FDS >= 1 (the variables are then unset), else -1. */
int ck_core_systemd_socket(void);
/* Starts `SELF [--config CONFIG] [--store STORE] serve --socket PATH`
 * detached (own session, stdio on /dev/null) and waits until it listens;
 * config and store may be NULL. */
struct ck_error *ck_core_receiver_spawn(const char *self, const char *config,
					const char *store, const char *path, int *pid_ret);

/* What the calling user may read of a store (docs/cores.md, "What non-root
 * users see"): root reads the catalog, any other user only their own
 * crashes, from STORE/by-uid/<euid>. */
struct ck_core_view {
	const char *store;
	unsigned int uid;		/* the effective uid */
	struct ck_catalog *cat;		/* root's catalog; NULL for other users */
};
struct ck_error *ck_core_view_init(struct ck_core_view *view, const char *store);
void ck_core_view_deinit(struct ck_core_view *view);
/* Records matching match (NULL: all), newest first, as ck_catalog_find. */
struct ck_error *ck_core_view_find(const struct ck_core_view *view, const char *match,
				   struct ck_core_record **ret, size_t *nr_ret);
/* ck_core_remove for root; an error for other users. */
struct ck_error *ck_core_view_remove(const struct ck_core_view *view,
				     const struct ck_core_record *rec);

/* Records as JSON text (pretty, '/' not escaped); NULL on ENOMEM.  The list
 * form: an array of the catalog's columns but the long texts; one record:
 * every column, its metadata as "meta", and how many crashes share its
 * signature. */
char *ck_core_records_json(const struct ck_core_record *recs, size_t nr);
char *ck_core_record_json(const struct ck_core_record *rec, unsigned int signature_seen);

/* gdb [-batch -ex CMD...] [EXE] -c CORE on a decompressed copy of rec's
 * core in an unlinked temporary file ($TMPDIR or /var/tmp).  A core cut
 * when stored is a warning (level 4) through log, as is gdb failing to
 * start (level 3, from the child). */
struct ck_error *ck_core_debug(const char *store, const struct ck_core_record *rec,
			       const char *const *gdb_cmds, size_t nr_cmds, ck_core_log_fn *log,
			       void *log_arg);

/* ---- codecs ------------------------------------------------------------ */

enum ck_codec {
	CK_CODEC_NONE,
	CK_CODEC_ZLIB,
	CK_CODEC_LZO,
	CK_CODEC_SNAPPY,
	CK_CODEC_ZSTD,
};

const char *ck_codec_name(enum ck_codec codec);

/* ---- page classes (lib/walk/page_class.c) ------------------------------- */

/* makedumpfile's dump level bits. */
enum {
	CK_DL_ZERO = 1,
	CK_DL_CACHE = 2,
	CK_DL_CACHE_PRIVATE = 4,
	CK_DL_USER = 8,
	CK_DL_FREE = 16,
};

enum ck_page_class {
	CK_PAGE_ZERO,
	CK_PAGE_CACHE,
	CK_PAGE_CACHE_PRIVATE,
	CK_PAGE_USER,
	CK_PAGE_FREE,
	CK_PAGE_HWPOISON,
	CK_PAGE_OFFLINE,
	CK_PAGE_NR_CLASSES,
};

const char *ck_page_class_name(enum ck_page_class c);

/* ---- memory usage by page class (lib/capture/mem_usage.c) ------------------------ */

struct ck_mem_usage_opts {
	/* For a live system's /proc/kcore: the iomem file ("/proc/iomem")
	 * whose "Crash kernel" ranges are left out, as a dump would leave
	 * them out; NULL: none.  Not read for other inputs. */
	const char *iomem;
	uint64_t cycle_pfns;		/* pfns per bitmap cycle; 0: default */
};

struct ck_mem_usage {
	uint32_t page_size;
	uint64_t max_pfn;
	uint64_t total;			/* pages of memory in the input */
	/* Pages of each class at dump level 31: zero pages are those the
	 * other classes leave, as makedumpfile --mem-usage counts them. */
	uint64_t pages[CK_PAGE_NR_CLASSES];
	uint64_t kernel;		/* the rest: what -d 31 keeps, zero pages aside */
	uint64_t absent;		/* in the memory map, not in the input */
	uint64_t unreadable;		/* read errors (kept out of every class) */
	uint64_t crashkernel;		/* live: pages of the crash kernel's reservation */
	int supported;			/* CK_DL_* classes decided */
	bool live;			/* the input is /proc/kcore */
	uint64_t bitmap_bytes;		/* memory of each of its two bitmaps */
	char note[320];			/* why some classes are not decided, or "" */
};

/* Counts the pages of each dump-level class in input (a vmcore, a dump
 * or /proc/kcore) with the capture's filter, cycle by cycle, and reads
 * the pages it keeps to find zero pages: memory bounded whatever the
 * machine's size. */
struct ck_error *ck_mem_usage(const char *input, const struct ck_mem_usage_opts *opts,
			      struct ck_mem_usage *ret);

/* ---- the capture pipeline (lib/capture/capture.c) ------------------------------- */

struct ck_capture_stats {
	uint64_t max_pfn;
	uint64_t pages_ram;		/* pfns present in the input */
	uint64_t excluded[CK_PAGE_NR_CLASSES];
	uint64_t unreadable;		/* read errors: recorded, not fatal */
	uint64_t absent;		/* excluded in the input (re-filtering) */
	uint64_t kept;			/* pages written */
	uint64_t pages_done;		/* progress: pfns processed so far */
	uint64_t bytes_in;		/* page bytes of the kept pages */
	uint64_t bytes_out;		/* size of the output */
	uint64_t segments;		/* -E: PT_LOADs written */
	uint64_t bitmap_bytes;		/* memory of the bitmaps (both) */
	bool incomplete;
	char filter_note[320];		/* why some classes were kept, or "" */
	const char *encoder;
	unsigned int threads;
	uint64_t split_start, split_end;	/* a split dump's file: its pfns */
};

/* How workers read kept pages.  /proc/vmcore serves read() a page at a
 * time through a temporary kernel mapping of each page, and mmap() by
 * mapping the old memory once: AUTO maps /proc/vmcore in windows and reads
 * other files with pread (docs/capture.md). */
enum ck_capture_read {
	CK_CAPTURE_READ_AUTO,
	CK_CAPTURE_READ_PREAD,		/* makedumpfile --non-mmap */
	CK_CAPTURE_READ_MMAP,
};

struct ck_capture_opts {
	enum ck_codec codec;
	int dump_level;
	bool flattened;
	bool elf;			/* ELF output (makedumpfile -E) */
	int out_fd;			/* flattened: write here (stdout); else -1 */
	unsigned int nr_threads;	/* 0: online CPUs */
	uint64_t size_limit;		/* 0: none */
	bool force;			/* overwrite OUTPUT */
	uint64_t cycle_pfns;		/* pfns per bitmap cycle; 0: default */
	enum ck_capture_read read;	/* how workers read the input */
	/* One file of a split dump: only [split_start, split_end) is saved
	 * (lib/capture/split.c sets these). */
	bool split;
	uint64_t split_start, split_end;
	int64_t tv_sec, tv_usec;	/* kdump header timestamp; 0: now */
	void (*progress)(const struct ck_capture_stats *stats, void *arg);
	void *progress_arg;
};

/* Captures input into output.  Files are written as OUTPUT.incomplete and
 * renamed when complete; an incomplete dump (size limit, full disk) is left
 * under OUTPUT.incomplete, valid and flagged, and the call fails with
 * CK_ERR_OS (ENOSPC) after filling *stats. */
struct ck_error *ck_capture(const char *input, const char *output,
			    const struct ck_capture_opts *opts, struct ck_capture_stats *stats);

/* ---- split dumps (lib/capture/split.c) ---------------------------------- */

/* makedumpfile's default split block (--splitblock-size): 1 GiB. */
#define CK_SPLIT_BLOCK_SIZE (1ull << 30)
/* How makedumpfile --split cuts [0, max_pfn) into nr files: dumpable pages
 * counted per split block of block_size bytes (0: the default), each file
 * but the last takes whole blocks until it holds total / nr pages.
 * ranges: nr pairs [start, end).  Walks the input's bitmaps twice; memory
 * does not depend on the dump size. */
struct ck_error *ck_capture_split_ranges(const char *input, int dump_level, uint64_t block_size,
					 size_t nr, uint64_t (*ranges)[2],
					 uint64_t *total_ret);
/* makedumpfile --split: writes outputs[0..nr) (each via .incomplete and a
 * rename), one pfn range each.  stats[i] for each file.  A file cut short
 * (size limit, full disk) stays incomplete while the others are written;
 * the call then fails (CK_ERR_OS, ENOSPC) naming it.  block_size: bytes
 * per split block (makedumpfile --splitblock-size), 0: 1 GiB. */
struct ck_error *ck_capture_split(const char *input, const char *const *outputs, size_t nr,
				  const struct ck_capture_opts *opts, uint64_t block_size,
				  struct ck_capture_stats *stats);
/* makedumpfile --reassemble: the files of one split dump, in any order,
 * into one ordinary kdump-compressed OUTPUT (via OUTPUT.incomplete). */
struct ck_error *ck_capture_split_reassemble(const char *const *inputs, size_t nr,
					     const char *output, bool force,
					     uint64_t *pages_ret, uint64_t *bytes_ret);


/* makedumpfile -R: reassembles the flattened stream read from in_fd into
 * OUTPUT (via OUTPUT.incomplete), copying through a fixed buffer. */
struct ck_error *ck_capture_reassemble(int in_fd, const char *output, bool force,
				       uint64_t *bytes_ret);

/* ---- analysis (lib/analysis/, crashkit-analyze only) ------------------- */

/* An analysis session: a dump, its kernel, the types from its BTF, and the
 * models read on demand; crash's commands run over it (docs/analysis.md). */
struct ck_analysis;

struct ck_analysis_opts {
	void (*warn)(void *arg, const char *msg);	/* as ck_open_opts */
	void *warn_arg;
};
/* Opens DUMP files (one, or a split dump's files) for analysis.  A dump
 * whose BTF cannot be read still opens: commands that need types say so. */
struct ck_error *ck_analysis_open(const char *const *paths, size_t nr,
				  const struct ck_analysis_opts *opts, struct ck_analysis **ret);
void ck_analysis_destroy(struct ck_analysis *a);
/* --json: commands that have a JSON form print one object each. */
void ck_analysis_set_json(struct ck_analysis *a, bool json);
/* Runs one command line as crash does ("bt -a", "ps | grep bash",
 * "log > log.txt"); the answer goes to stdout (or where the line sends it),
 * complaints to stderr.  Returns 0, or 1 when the command failed. */
int ck_analysis_run_line(struct ck_analysis *a, const char *line);
/* The interactive shell (libedit: history, completion) on the terminal,
 * until "q"/"quit"/"exit" or end of input.  prompt: e.g. "crash> ".
 * Returns 1 if any command failed, else 0. */
int ck_analysis_shell(struct ck_analysis *a, const char *prompt);
/* The DWARF vmlinux of the dump's kernel (crash's VMLINUX argument): with
 * it `bt -l` and `sym` print source lines.  It must be the dump's kernel:
 * its build id must equal VMCOREINFO's BUILD-ID (Linux 5.9+; before, the
 * linux_banner strings are compared), else CK_ERR_INVALID says both, unless
 * opts->force (then opts->warn is told).  path NULL forgets the vmlinux. */
struct ck_analysis_vmlinux_opts {
	bool force;
	void (*warn)(void *arg, const char *msg);
	void *warn_arg;
};
struct ck_error *ck_analysis_set_vmlinux(struct ck_analysis *a, const char *path,
					 const struct ck_analysis_vmlinux_opts *opts);

/* ---- kdump load, initramfs and the capture init (issue 11, helper "load";
 * docs/kdump.md "load", "initramfs", "init") ---- */

/* A filesystem named by its superblock (lib/capture/boot.c): ext2/3/4
 * ("ext4": its driver mounts all three), xfs, btrfs.  Lowercase UUID as
 * blkid prints it; label as stored ("" when none). */
struct ck_fs_id {
	char type[16];
	char uuid[40];
	char label[256];
};
/* Reads the superblocks of a block device or image.  CK_ERR_NOT_FORMAT
 * when none of the known filesystems is there. */
struct ck_error *ck_fs_probe(const char *dev, struct ck_fs_id *ret);

/* Where the capture kernel saves: the filesystem that holds the dump
 * directory in the crashed system, written by the initramfs builder to
 * /etc/crashkit/target in the initramfs ("key=value" lines) and read by
 * the capture init.  mountpoint is where the crashed system had it; the
 * init mounts it at the same path, so the dump directory of kdump.conf
 * means the same there. */
struct ck_boot_target {
	char *path;		/* the dump directory (kdump.conf's local target) */
	char *mountpoint;	/* "/var/core", or "/" */
	char *fstype;		/* "ext4", "xfs", "btrfs" */
	char *uuid;		/* the filesystem's UUID, "" unknown */
	char *label;		/* its label, "" none */
	char *device;		/* its device in the crashed system ("/dev/vda"), a last resort */
};
void ck_boot_target_deinit(struct ck_boot_target *t);
struct ck_error *ck_boot_target_parse(const char *text, struct ck_boot_target *ret);
/* The same as the text ck_boot_target_parse reads. */
char *ck_boot_target_format(const struct ck_boot_target *t);

/* What the capture init notes on the way (a module that did not load...). */
typedef void ck_boot_note_fn(void *arg, const char *msg);
/* /proc, /sys, /dev (devtmpfs), /run and /tmp (tmpfs), as PID 1 needs them;
 * already mounted ones are fine. */
struct ck_error *ck_boot_mount_basics(void);
/* Loads the modules listed in file (one path a line, in load order) with
 * finit_module(2) (MODULE_INIT_COMPRESSED_FILE for .xz/.zst/.gz: the kernel
 * decompresses, CONFIG_MODULE_DECOMPRESS).  A module that fails (already
 * loaded is fine) is noted and skipped; *loaded counts the others. */
struct ck_error *ck_boot_load_modules(const char *file, ck_boot_note_fn *note, void *arg,
				      unsigned int *loaded);
/* Waits up to timeout_ms for the block device of t (by UUID, else label,
 * else the device name) to appear under /sys/class/block; *dev_ret
 * "/dev/vda".  CK_ERR_NOT_FOUND names what was looked for. */
struct ck_error *ck_boot_find_device(const struct ck_boot_target *t, unsigned int timeout_ms,
				     char **dev_ret);
/* Mounts dev at t->mountpoint (for "/": at /sysroot, and t->path bound
 * onto the same path in the initramfs). */
struct ck_error *ck_boot_mount_target(const struct ck_boot_target *t, const char *dev);
/* Network targets: the address of the crashed system's default route set
 * up again (text: /etc/crashkit/network, "mac= address= netmask= gateway="),
 * on the interface with that MAC once it appears (up to timeout_ms). */
struct ck_error *ck_boot_net_up(const char *text, unsigned int timeout_ms, char **ifname_ret);
/* The /proc/meminfo fields the lab measures, in kB. */
struct ck_meminfo {
	uint64_t total_kb, free_kb, available_kb;
};
struct ck_error *ck_meminfo_read(struct ck_meminfo *ret);

/* ---- kdump (lib/kdump/, crashkit-kdump only; docs/kdump.md) ----------- */

/* Where check and recommend read the machine: root prefixes every /proc,
 * /sys and /boot path ("" or NULL: the running system); config: a kernel
 * config file instead of /boot/config-RELEASE and /proc/config.gz. */
struct ck_kdump_opts {
	const char *root;
	const char *config;
};

/* How much an option matters for a dump: needed (no dump without it),
 * needed_one (one of its group is enough: KEXEC or KEXEC_FILE; CRASH_CORE
 * before Linux 6.9, VMCORE_INFO after), wanted (crashkit reads the dump
 * better with it), info (shown: it changes how a dump is taken or read). */
enum ck_kdump_role { CK_KDUMP_NEEDED, CK_KDUMP_NEEDED_ONE, CK_KDUMP_WANTED, CK_KDUMP_INFO };

struct ck_kdump_option {
	const char *name;	/* without "CONFIG_" */
	const char *purpose;	/* one line */
	enum ck_kdump_role role;
	int group;		/* CK_KDUMP_NEEDED_ONE: options of one group share it */
	char value[16];		/* "y", "m", a value, or "" when not set */
};

enum ck_kdump_verdict {
	CK_KDUMP_READY,			/* reserved, capture kernel loaded */
	CK_KDUMP_NO_KERNEL_SUPPORT,	/* a needed option is not set */
	CK_KDUMP_NO_RESERVATION,	/* no crashkernel= on the command line */
	CK_KDUMP_RESERVATION_FAILED,	/* crashkernel= given, nothing reserved */
	CK_KDUMP_NOT_LOADED,		/* reserved, no capture kernel loaded */
};

/* What `crashkit kdump check` reports.  Numbers are -1 when unknown (the
 * file is absent or unreadable: *_error then says which and why). */
struct ck_kdump_check {
	char *release;			/* uname -r (root's /proc/sys/kernel/osrelease) */
	char *config_source;		/* the config file read */
	size_t nr_options;
	struct ck_kdump_option *options;
	char *missing;			/* needed options not set: "CONFIG_A CONFIG_B|CONFIG_C"
					 * (| : one of them), or NULL */
	char *cmdline_error;
	char *crashkernel;		/* crashkernel= value(s) on the command line, or NULL */
	int64_t crash_size;		/* /sys/kernel/kexec_crash_size */
	char *crash_size_error;
	int64_t iomem_bytes;		/* "Crash kernel" ranges of /proc/iomem */
	bool iomem_hidden;		/* ranges shown as 0-0 (not root) */
	char *iomem_error;
	int crash_loaded;		/* /sys/kernel/kexec_crash_loaded */
	char *crash_loaded_error;
	int sysrq;			/* /proc/sys/kernel/sysrq */
	char *sysrq_error;
	uint64_t mem_total;		/* bytes, MemTotal; 0 when unknown */
	uint64_t suggest;		/* crashkernel= to add (bytes), 0 when unknown */
	enum ck_kdump_verdict verdict;
};
struct ck_error *ck_kdump_check(const struct ck_kdump_opts *opts, struct ck_kdump_check **ret);
void ck_kdump_check_destroy(struct ck_kdump_check *c);

/* One crashkernel= policy evaluated for this RAM. */
struct ck_kdump_policy {
	const char *name;	/* "crashkit (seeds' table)", "kdump-utils x86_64", "Debian" */
	const char *spec;	/* its crashkernel= value */
	uint64_t size;		/* what the kernel would reserve here; 0: nothing */
};

/* What `crashkit kdump recommend` reports.  The estimate of crashkit's own
 * capture: kernel + modules + 2 x initramfs + capture peak + kernel runtime
 * (docs/kdump.md, "Sizing"), rounded up to 16 MiB. */
struct ck_kdump_recommend {
	char *release;
	uint64_t ram;				/* MemTotal, bytes */
	struct ck_kdump_policy policies[3];
	uint64_t kernel_bytes;			/* bzImage init_size, or the fallback */
	char *kernel_source;			/* how kernel_bytes was found */
	uint64_t modules_bytes;			/* /proc/modules: loaded modules' memory */
	unsigned int nr_modules;
	char *modules_error;			/* /proc/modules unreadable, or NULL */
	uint64_t initramfs_bytes;		/* crashkit + libraries + modules */
	uint64_t peak_bytes;			/* the capture's measured peak RSS */
	uint64_t runtime_bytes;			/* the capture kernel's own needs */
	uint64_t estimate;			/* the sum, rounded */
	uint64_t size;				/* the recommendation */
	char *crashkernel;			/* "crashkernel=512M" */
};
struct ck_error *ck_kdump_recommend(const struct ck_kdump_opts *opts,
				    struct ck_kdump_recommend **ret);
void ck_kdump_recommend_destroy(struct ck_kdump_recommend *r);

/* crashkernel=SPEC for ram bytes of RAM as the kernel reads it: "SIZE",
 * "SIZE@OFFSET", "SIZE,high|low|cma", "START-[END]:SIZE,...[@OFFSET]"
 * (START inclusive, END exclusive).  *size 0: no range matches.
 * CK_ERR_INVALID for a malformed spec. */
struct ck_error *ck_kdump_crashkernel_size(const char *spec, uint64_t ram, uint64_t *size);
/* "512M", "1G", "1536M": bytes as crashkernel= writes them (rounded up to MiB). */
void ck_kdump_format_size(uint64_t bytes, char buf[static 24]);

/* ---- kdump load and initramfs (lib/kdump/, crashkit-kdump; issue 11,
 * helper "load") ---- */

/* A list of owned strings. */
struct ck_strlist {
	char **items;
	size_t nr, cap;
};

struct ck_kdump_initramfs_opts {
	const char *root;		/* modules, /boot, os-release, ld.so.conf under it */
	const char *release;		/* kernel release; NULL: root's running one */
	const char *crashkit;		/* the capture binary to carry */
	const char *conf;		/* kdump.conf; NULL: root's /etc/crashkit/kdump.conf */
	const char *const *modules;	/* more module names */
	size_t nr_modules;
	const char *compress;		/* "zstd" (NULL), "gzip", "none" */
};

struct ck_kdump_initramfs_info {
	char *release;
	uint64_t bytes;			/* the file written */
	uint64_t unpacked_bytes;	/* the cpio archive */
	size_t nr_files;
	struct ck_strlist libs;		/* loader and libraries, as placed */
	struct ck_strlist modules;	/* module files in load order, as placed */
	struct ck_strlist missing_modules;	/* names no modules.dep line has */
	bool modules_compressed;	/* kept .ko.xz: CONFIG_MODULE_DECOMPRESS */
	bool no_modules;		/* no modules.dep for the release: none carried */
	uint64_t modules_bytes;
	int target_kind;		/* enum ck_kdump_target_kind */
	struct ck_boot_target target;	/* local and device targets */
};

/* Builds the capture initramfs into out_path (written as
 * out_path.incomplete, renamed when complete). */
struct ck_error *ck_kdump_initramfs(const struct ck_kdump_initramfs_opts *o, const char *out_path,
				    struct ck_kdump_initramfs_info **ret);
void ck_kdump_initramfs_info_destroy(struct ck_kdump_initramfs_info *info);

#define CK_KDUMP_STATE "/run/crashkit/kdump.state"

struct ck_kdump_load_opts {
	const char *root;		/* /proc, /sys, /boot under it */
	const char *kernel;		/* NULL: /boot/vmlinuz-RELEASE */
	const char *initramfs;		/* the file to load */
	const char *command_line;	/* the whole command line; NULL: derived */
	const char *append;		/* words added to the derived one */
	const char *state;		/* NULL: CK_KDUMP_STATE */
};
/* The capture kernel's command line from the running one: crashkernel=,
 * BOOT_IMAGE=, initrd=, quiet and other words that hurt or waste memory in
 * the capture kernel dropped, init's words (after "--") dropped; then
 * "nr_cpus=1 irqpoll reset_devices ...", then append. */
struct ck_error *ck_kdump_command_line(const char *running, const char *append, char **ret);
/* kexec_file_load(2) with KEXEC_FILE_ON_CRASH; the state file records
 * what was loaded.  Errors say what to do (no reservation, lockdown,
 * signature, only kexec_load). *cmdline_ret: the command line used. */
struct ck_error *ck_kdump_load(const struct ck_kdump_load_opts *o, char **kernel_ret,
			       char **cmdline_ret);
struct ck_error *ck_kdump_unload(const struct ck_kdump_load_opts *o);

struct ck_kdump_status {
	int loaded;			/* kexec_crash_loaded, -1 unknown */
	int64_t crash_size;		/* reserved bytes, -1 unknown */
	char *kernel, *initramfs, *cmdline, *loaded_at;	/* from the state file, or NULL */
	uint64_t initramfs_bytes;
};
struct ck_error *ck_kdump_status_read(const struct ck_kdump_load_opts *o,
				      struct ck_kdump_status *ret);
void ck_kdump_status_deinit(struct ck_kdump_status *s);

/* ---- kdump save (issue 11; lib/capture/kdump_conf.c, save.c; docs/kdump.md "save") ----
 * The capture kernel's half: /etc/crashkit/kdump.conf and `crashkit kdump
 * save`.  Lives in lib/capture so that both `crashkit` (the capture binary)
 * and lib/kdump (load, the initramfs builder) can use it. */

#define CK_KDUMP_CONF_DEFAULT "/etc/crashkit/kdump.conf"
#define CK_KDUMP_TARGET_DEFAULT "/var/core/kernel-core"
/* The crashed system's os-release as the initramfs builder embeds it. */
#define CK_KDUMP_OS_RELEASE_DEFAULT "/etc/crashkit/os-release"
/* Where the capture kernel's init mounts a device target (UUID=/LABEL=). */
#define CK_KDUMP_MOUNT_DEFAULT "/mnt/crashkit-target"

enum ck_kdump_target_kind {
	CK_KDUMP_TARGET_LOCAL,	/* a directory of the capture kernel's tree */
	CK_KDUMP_TARGET_DEVICE,	/* UUID=.. or LABEL=.. plus a path on it */
	CK_KDUMP_TARGET_SSH,	/* user@host:/path, the flattened stream through ssh */
	CK_KDUMP_TARGET_HTTP,	/* http://host[:port]/path, HTTP/1.1 PUT */
};

enum ck_kdump_action {
	CK_KDUMP_ACTION_REBOOT,
	CK_KDUMP_ACTION_HALT,
	CK_KDUMP_ACTION_POWEROFF,
	CK_KDUMP_ACTION_SHELL,		/* /bin/sh on the console, then reboot */
	CK_KDUMP_ACTION_DMESG_ONLY,	/* the panic block on the console, then reboot */
};

enum ck_kdump_archive {
	CK_KDUMP_ARCHIVE_NONE,
	CK_KDUMP_ARCHIVE_TAR_ZST,
	CK_KDUMP_ARCHIVE_TAR_GZ,
};

#define CK_KDUMP_MAX_HOOKS 8

/* kdump.conf, parsed.  Strings are owned (ck_kdump_conf_deinit frees them)
 * and never NULL after ck_kdump_conf_init, except where noted. */
struct ck_kdump_conf {
	enum ck_kdump_target_kind target_kind;
	char *target;		/* the value as written ("ssh root@h:/d", "UUID=x /d", a path) */
	char *path;		/* LOCAL: the directory; DEVICE: the path on the filesystem;
				 * SSH: the remote directory; HTTP: the URL's path */
	char *device;		/* DEVICE: "UUID=..." or "LABEL=..."; else "" */
	char *fstype;		/* DEVICE: filesystem type for mount, "" = let mount decide */
	char *mount_point;	/* DEVICE: where the init mounts it (CK_KDUMP_MOUNT_DEFAULT) */
	char *ssh_dest;		/* SSH: "user@host"; else "" */
	unsigned int ssh_port;	/* 0: ssh's default */
	char *ssh_key;		/* identity file, "" = ssh's default */
	char *ssh_known_hosts;	/* UserKnownHostsFile, "" = ssh's default */
	char *http_host;	/* HTTP: host name or address; else "" */
	unsigned int http_port;	/* HTTP: 80 unless given */
	bool elf;		/* format elf (true) or kdump (false, the default) */
	enum ck_codec codec;	/* kdump format only; default zstd */
	int dump_level;		/* 0..31, default 31 */
	unsigned int keep;	/* newest N dump directories kept, 0 = all */
	enum ck_kdump_action final_action;	/* default reboot */
	enum ck_kdump_action failure_action;	/* default reboot */
	char *pre_hooks[CK_KDUMP_MAX_HOOKS];	/* run with the dump dir as $1 */
	size_t nr_pre_hooks;
	char *post_hooks[CK_KDUMP_MAX_HOOKS];
	size_t nr_post_hooks;
	enum ck_kdump_archive archive;
	char *os_release;	/* the crashed system's os-release (CK_KDUMP_OS_RELEASE_DEFAULT) */
	unsigned int threads;	/* capture threads, 0 = online CPUs */
};

void ck_kdump_conf_init(struct ck_kdump_conf *conf);
void ck_kdump_conf_deinit(struct ck_kdump_conf *conf);
/* Reads "key value" lines over the current values ('#' comments, blank
 * lines).  An unknown key or bad value fails with CK_ERR_INVALID
 * "FILE:LINE: ...".  A missing file is not an error when missing_ok. */
struct ck_error *ck_kdump_conf_load(struct ck_kdump_conf *conf, const char *path,
				    bool missing_ok);
/* One setting as the file would have it ("target", "ssh root@h:/d");
 * where names the place for messages ("--target", "FILE:LINE"). */
struct ck_error *ck_kdump_conf_set(struct ck_kdump_conf *conf, const char *key,
				   const char *value, const char *where);
/* The local directory dumps go to: path for LOCAL, mount_point + path for
 * DEVICE; NULL for remote targets.  Owned by the caller (free). */
char *ck_kdump_conf_local_dir(const struct ck_kdump_conf *conf);
/* The parsed file as shell-quoted KEY=VALUE lines (CK_KDUMP_TARGET_KIND=,
 * CK_KDUMP_DEVICE=, CK_KDUMP_FSTYPE=, CK_KDUMP_MOUNT=, CK_KDUMP_DIR=, ...)
 * for an init script: `eval "$(crashkit kdump save --print-config)"`.
 * NULL on ENOMEM; free() it. */
char *ck_kdump_conf_shell(const struct ck_kdump_conf *conf);
const char *ck_kdump_action_name(enum ck_kdump_action a);
bool ck_kdump_action_parse(const char *s, enum ck_kdump_action *ret);

/* What ck_kdump_save did.  Strings owned by the result. */
struct ck_kdump_save_result {
	char *dir;		/* the dump directory (remote: "user@host:/d/STAMP", a URL) */
	char *stamp;		/* "YYYYmmdd-HHMMSS" (UTC; "-N" appended on a clash) */
	int64_t crash_time;	/* VMCOREINFO CRASHTIME, or the time of saving */
	bool triage_ok;		/* dmesg.txt and panic.txt written */
	bool complete;		/* vmcore written whole and renamed */
	uint64_t vmcore_bytes;
	struct ck_capture_stats stats;
	char *errors;		/* "; "-joined messages of what failed, "" if none */
};

struct ck_kdump_save_opts {
	const char *vmcore;	/* default /proc/vmcore */
	/* Told each step ("dmesg.txt: 1234 lines"); NULL: nobody. */
	void (*log)(void *arg, const char *msg);
	void *log_arg;
};

/* The save step (docs/kdump.md "save"): TARGET/STAMP/ with dmesg.txt and
 * panic.txt first, info.json (complete: false), the dump as
 * vmcore.incomplete renamed to vmcore, info.json rewritten, the archive,
 * post hooks, keep N.  Fails (with *ret filled as far as it got; free it
 * with ck_kdump_save_result_deinit) when the dump is not complete.  The
 * actions are not run: see ck_kdump_action_run. */
struct ck_error *ck_kdump_save(const struct ck_kdump_conf *conf,
			       const struct ck_kdump_save_opts *opts,
			       struct ck_kdump_save_result *ret);
void ck_kdump_save_result_deinit(struct ck_kdump_save_result *r);

/* The final or failure action: sync, then reboot(2) / halt / power off;
 * SHELL execs /bin/sh (then reboots when it exits: call from the init);
 * DMESG_ONLY writes panic_file (may be NULL) to /dev/console, then reboots.
 * Returns only on failure. */
struct ck_error *ck_kdump_action_run(enum ck_kdump_action a, const char *panic_file);

/* One saved dump as `crashkit kdump list` shows it (reads DIR/STAMP/info.json). */
struct ck_kdump_saved {
	char *dir;		/* DIR/STAMP */
	char *stamp;
	int64_t crash_time;	/* 0 if unknown */
	char *release;		/* "" if unknown */
	bool complete;
	uint64_t bytes;		/* every file of the directory */
};
/* The dump directories under dir, oldest first. */
struct ck_error *ck_kdump_list(const char *dir, struct ck_kdump_saved **ret, size_t *nr_ret);
void ck_kdump_saved_free(struct ck_kdump_saved *s, size_t nr);

/* ---- end of kdump save ---- */

/* ---- one catalog of crashes (issue 10; lib/cores/kdumps.c, crashes.c;
 * docs/catalog.md): kernel dumps and userspace cores together ---- */

/* One crash of either kind.  Strings are never NULL ("" when unknown). */
struct ck_crash {
	bool kernel;		/* a kernel dump; else a userspace core */
	int64_t time_usec;	/* when it crashed */
	int64_t id;		/* user: the catalog's id; kernel: 0 */
	int pid;		/* user: the process; kernel: the panic task; -1 unknown */
	int cpu;		/* kernel: the panic CPU; -1 */
	int uid, signal;	/* user; -1 and 0 for the kernel */
	char *comm;		/* untrusted (user) */
	char *class_name;	/* kernel: triage's class; user: "segv", "abrt", ... */
	char *title;
	char *signature;	/* 16 hex digits, scheme v1 (docs/signatures.md) */
	char *signature_input;	/* the hashed text */
	char *boot;		/* user: the boot id; kernel: the dump (its own boot) */
	char *state;		/* user: stored|truncated|metadata-only; kernel:
				 * complete|incomplete|partial|triage-failed */
	char *reason;		/* why not complete / stored, "" otherwise */
	char *path;		/* kernel: the dump file; user: the store name */
	char *exe;		/* user */
	char *message, *culprit, *module, *release, *build_id;	/* kernel */
	char *triage;		/* kernel: the triage.json beside the dump, "" if none */
	int64_t uptime;		/* kernel: seconds; -1 unknown */
	unsigned int seen;	/* crashes with this signature (both kinds, any filter) */
	unsigned int boots;	/* distinct boots among them */
};

struct ck_crash_opts {
	const char *store;		/* the cores' store (its catalog caches the index) */
	const char *const *dirs;	/* where kernel dumps are looked for */
	size_t nr_dirs;
	bool dirs_given;		/* a missing dir is an error, not skipped */
	const char *analyzer;		/* crashkit-analyze, run as `triage DUMP --json` */
	const char *info_tool;		/* crashkit, `info DUMP --json` for the crash time; may be NULL */
	bool no_index;			/* never run triage: dumps not indexed yet are listed bare */
	bool reindex;			/* run triage again on every dump */
	unsigned int timeout;		/* seconds per triage run (0: 300) */
	/* warnings (level 4) and notes (level 6, "indexed DUMP"); may be NULL */
	ck_core_log_fn *log;
	void *log_arg;
};

struct ck_crash_stats {
	unsigned int dumps;		/* kernel dumps found */
	unsigned int triaged;		/* triage run now */
	unsigned int from_file;		/* indexed from a triage.json already there */
	unsigned int cached;		/* taken from the catalog's index */
};

/* Every crash, newest first, with seen/boots filled over all of them. */
struct ck_error *ck_crashes_collect(const struct ck_crash_opts *opts, struct ck_crash **ret,
				    size_t *nr_ret, struct ck_crash_stats *stats);
void ck_crashes_destroy(struct ck_crash *crashes, size_t nr);
/* Frees one crash's strings (ck_crashes_destroy does it for all). */
void ck_crash_deinit(struct ck_crash *c);
/* {"schema":"crashkit-list/1","crashes":[...],"groups":[...]} (docs/catalog.md);
 * NULL on ENOMEM. */
char *ck_crashes_json(const struct ck_crash *crashes, size_t nr);
/* The default dump directories: kdump.conf's local target (or
 * CK_KDUMP_TARGET_DEFAULT) and /var/crash.  Free each and the array. */
struct ck_error *ck_crash_default_dirs(const char *kdump_conf, char ***ret, size_t *nr_ret);

/* ---- end of one catalog ---- */

#ifdef __cplusplus
}
#endif

#endif /* CRASHKIT_H */
