/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Kernel dumps in the catalog (docs/catalog.md): found in the dump
 * directories (crashkit's save layout TARGET/STAMP/vmcore, Debian
 * kdump-tools' /var/crash/STAMP/dump.STAMP, a bare DIR/vmcore), indexed
 * once by running `crashkit-analyze triage DUMP --json` (its JSON stored
 * beside the dump as triage.json, .incomplete then renamed), and cached in
 * the catalog's table kdumps keyed by path, size and mtime.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cores/cores.h"

extern char **environ;

#define MAX_ENTRIES 4096		/* directory entries looked at per dir */
#define MAX_TRIAGE_JSON (64u << 20)	/* bytes of triage output read */

static const char kdumps_schema[] =
	"CREATE TABLE IF NOT EXISTS kdumps ("
	" path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, time_usec INTEGER,"
	" state TEXT, reason TEXT, class TEXT, title TEXT, signature TEXT,"
	" signature_input TEXT, message TEXT, culprit TEXT, module TEXT, pid INTEGER,"
	" comm TEXT, cpu INTEGER, release TEXT, build_id TEXT, uptime INTEGER, triage TEXT,"
	" analyzer TEXT);";

/* The text columns, in the table's order after the numbers, and where they
 * go in a crash. */
static const size_t text_cols[] = {
	offsetof(struct ck_crash, state),	offsetof(struct ck_crash, reason),
	offsetof(struct ck_crash, class_name),	offsetof(struct ck_crash, title),
	offsetof(struct ck_crash, signature),	offsetof(struct ck_crash, signature_input),
	offsetof(struct ck_crash, message),	offsetof(struct ck_crash, culprit),
	offsetof(struct ck_crash, module),	offsetof(struct ck_crash, comm),
	offsetof(struct ck_crash, release),	offsetof(struct ck_crash, build_id),
	offsetof(struct ck_crash, triage),
};

static char **text_field(struct ck_crash *c, size_t off)
{
	return (char **)((char *)c + off);
}

static bool set_text(struct ck_crash *c, size_t off, const char *value)
{
	char *v = strdup(value ? value : "");
	if (!v)
		return false;
	free(*text_field(c, off));
	*text_field(c, off) = v;
	return true;
}

#define SET(c, field, value) set_text(c, offsetof(struct ck_crash, field), value)

/* ---- triage's JSON ------------------------------------------------------ */

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

static int64_t jint(struct json_object *o, const char *key, int64_t dflt)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return dflt;
	return json_object_get_int64(v);
}

static struct json_object *jobj(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

/* "partial: N parts unreadable (log, release, ...)": the names of triage's
 * "unreadable" entries, up to their first ':'. */
static bool partial_reason(struct json_object *o, struct ck_crash *c)
{
	struct json_object *arr;
	if (!json_object_object_get_ex(o, "unreadable", &arr) ||
	    !json_object_is_type(arr, json_type_array) || json_object_array_length(arr) == 0)
		return set_text(c, offsetof(struct ck_crash, reason), "partial report");
	size_t n = json_object_array_length(arr);
	struct ck_strbuf sb = CK_STRBUF_INIT;
	ck_strbuf_addf(&sb, "partial: %zu part%s unreadable (", n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n && i < 12; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		const char *t = v && json_object_is_type(v, json_type_string) ? json_object_get_string(v)
									     : "?";
		size_t len = strcspn(t, ":");
		ck_strbuf_addf(&sb, "%s%.*s", i ? ", " : "", (int)(len < 40 ? len : 40), t);
	}
	ck_strbuf_addf(&sb, "%s)", n > 12 ? ", ..." : "");
	char *r = ck_strbuf_detach(&sb, NULL);
	if (!r)
		return false;
	free(c->reason);
	c->reason = r;
	return true;
}

struct ck_error *ck_kdump_triage_parse(const char *text, size_t len, struct ck_crash *c)
{
	if (len > MAX_TRIAGE_JSON)
		return ck_error_create(CK_ERR_FORMAT, "triage JSON of %zu bytes is too big", len);
	struct json_tokener *tok = json_tokener_new_ex(64);
	if (!tok)
		return &ck_error_nomem;
	struct json_object *o = json_tokener_parse_ex(tok, text, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	struct ck_error *err = NULL;
	if (!o || jerr != json_tokener_success) {
		err = ck_error_create(CK_ERR_FORMAT, "not JSON at offset %zu: %s", used,
				      json_tokener_error_desc(jerr));
		goto out;
	}
	if (!json_object_is_type(o, json_type_object) ||
	    strcmp(jstr(o, "schema"), "crashkit-triage/1")) {
		err = ck_error_create(CK_ERR_FORMAT, "not a crashkit-triage/1 report");
		goto out;
	}
	struct json_object *culprit = jobj(o, "culprit"), *task = jobj(o, "panic_task");
	struct json_object *partial;
	bool is_partial = json_object_object_get_ex(o, "partial", &partial) &&
			  json_object_get_boolean(partial);
	int64_t pid = jint(task, "pid", -1), cpu = jint(task, "cpu", -1);
	int64_t uptime = jint(o, "uptime", -1);
	c->pid = pid >= 0 && pid <= INT32_MAX ? (int)pid : -1;
	c->cpu = cpu >= 0 && cpu <= INT32_MAX ? (int)cpu : -1;
	c->uptime = uptime >= 0 ? uptime : -1;
	if (!SET(c, class_name, jstr(o, "class")) || !SET(c, title, jstr(o, "title")) ||
	    !SET(c, message, jstr(o, "message")) || !SET(c, signature, jstr(o, "signature")) ||
	    !SET(c, signature_input, jstr(o, "signature_input")) ||
	    !SET(c, culprit, jstr(culprit, "function")) || !SET(c, module, jstr(culprit, "module")) ||
	    !SET(c, comm, jstr(task, "comm")) || !SET(c, release, jstr(o, "release")) ||
	    !SET(c, build_id, jstr(o, "build_id")))
		err = &ck_error_nomem;
	else if (is_partial && strcmp(c->state, "incomplete") && !SET(c, state, "partial"))
		err = &ck_error_nomem;
	else if (is_partial && !partial_reason(o, c))
		err = &ck_error_nomem;
	/* The signature must be what docs/signatures.md says it is: 16 hex
	 * digits, or nothing. */
	if (!err && (strlen(c->signature) != 16 || !ck_core_all_of(c->signature, isxdigit)))
		err = SET(c, signature, "") ? NULL : &ck_error_nomem;
out:
	json_object_put(o);
	return err;
}

/* ---- running the tools -------------------------------------------------- */

/* Reads at most max bytes of fd from its start, NUL-terminated. */
static char *read_memfd(int fd, size_t max, size_t *len_ret)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return NULL;
	size_t len = (uint64_t)st.st_size < max ? (size_t)st.st_size : max;
	char *buf = malloc(len + 1);
	size_t got = 0;
	if (buf && ck_pread_n(fd, buf, len, 0, &got) != 0) {
		free(buf);
		return NULL;
	}
	if (buf)
		buf[got] = '\0';
	*len_ret = got;
	return buf;
}

struct tool_run {
	int status;		/* exit status; -1 killed (timeout) or not run */
	char *out;		/* stdout */
	size_t out_len;
	char err_line[256];	/* the last line on stderr */
};

/* Runs argv[0] with stdout and stderr in memory files, at most timeout
 * seconds (then SIGKILL). */
static struct ck_error *run_tool(char *const argv[], unsigned int timeout, struct tool_run *r)
{
	memset(r, 0, sizeof(*r));
	r->status = -1;
	_cleanup_close_ int out = memfd_create("crashkit-out", MFD_CLOEXEC);
	_cleanup_close_ int errfd = memfd_create("crashkit-err", MFD_CLOEXEC);
	if (out < 0 || errfd < 0)
		return ck_error_create_errno(errno, "memfd");
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, errfd, 2);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		return ck_error_create_errno(rc, "cannot run '%s'", argv[0]);
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	int wst = 0;
	for (;;) {
		pid_t w = waitpid(pid, &wst, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return ck_error_create_errno(errno, "waiting for '%s'", argv[0]);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= (time_t)timeout) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &wst, 0) < 0 && errno == EINTR)
				;
			snprintf(r->err_line, sizeof(r->err_line), "killed after %u s", timeout);
			return NULL;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 5 * 1000 * 1000 }, NULL);
	}
	r->status = WIFEXITED(wst) ? WEXITSTATUS(wst) : -1;
	size_t elen = 0;
	_cleanup_free_ char *etext = read_memfd(errfd, 64 << 10, &elen);
	if (etext) {
		while (elen && (etext[elen - 1] == '\n' || etext[elen - 1] == ' '))
			etext[--elen] = '\0';
		const char *last = strrchr(etext, '\n');
		snprintf(r->err_line, sizeof(r->err_line), "%s", last ? last + 1 : etext);
	}
	if (WIFSIGNALED(wst) && !r->err_line[0])
		snprintf(r->err_line, sizeof(r->err_line), "killed by signal %d", WTERMSIG(wst));
	r->out = read_memfd(out, MAX_TRIAGE_JSON, &r->out_len);
	return r->out ? NULL : &ck_error_nomem;
}

/* A small regular file of a dump directory, which is not ours: no symlink
 * followed, no FIFO waited on. */
static struct ck_error *read_regular(const char *path, size_t max, char **ret, size_t *len_ret)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return ck_error_create_errno(errno, "'%s'", path);
	if (!S_ISREG(st.st_mode))
		return ck_error_create(CK_ERR_INVALID, "'%s' is not a regular file", path);
	return ck_read_text(fd, max, ret, len_ret, path);
}

/* ---- the crash time ----------------------------------------------------- */

static int64_t json_file_int(const char *path, const char *key)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	struct ck_error *err = read_regular(path, 1 << 20, &text, &len);
	if (err) {
		ck_error_destroy(err);
		return -1;
	}
	struct json_object *o = json_tokener_parse(text);
	int64_t v = jint(o, key, -1);
	json_object_put(o);
	return v;
}

/* STAMP as crashkit's save writes it (YYYYmmdd-HHMMSS, UTC) or Debian's
 * kdump-tools (YYYYMMDDHHMM, local time); -1 otherwise. */
static int64_t stamp_time(const char *name)
{
	struct tm tm = { .tm_isdst = -1 };
	const char *end = strptime(name, "%Y%m%d-%H%M%S", &tm);
	if (end && (!*end || *end == '-'))
		return (int64_t)timegm(&tm);
	memset(&tm, 0, sizeof(tm));
	tm.tm_isdst = -1;
	end = strptime(name, "%Y%m%d%H%M", &tm);
	if (end && !*end && strlen(name) == 12)
		return (int64_t)mktime(&tm);
	return -1;
}

/* The save layout's info.json, the dump's own clock (crashkit info), the
 * directory's name, the file's mtime: the first that knows. */
static int64_t crash_time(const struct ck_crash_opts *o, const char *dump, const char *dir,
			  const struct stat *st)
{
	_cleanup_free_ char *info = ck_strdup_printf("%s/info.json", dir);
	int64_t t = info ? json_file_int(info, "crash_time") : -1;
	if (t > 0)
		return t;
	if (o->info_tool) {
		char *argv[] = { (char *)o->info_tool, (char *)"info", (char *)"--json",
				 (char *)"--", (char *)dump, NULL };
		struct tool_run r;
		struct ck_error *err = run_tool(argv, 60, &r);
		if (!err && r.status == 0) {
			struct json_object *obj = json_tokener_parse(r.out);
			t = jint(obj, "crash_time", -1);
			json_object_put(obj);
		}
		ck_error_destroy(err);
		free(r.out);
		if (t > 0)
			return t;
	}
	const char *base = strrchr(dir, '/');
	t = stamp_time(base ? base + 1 : dir);
	return t > 0 ? t : (int64_t)st->st_mtim.tv_sec;
}

/* ---- indexing one dump -------------------------------------------------- */

struct found {
	char *dump;		/* the dump file */
	char *dir;		/* its directory: triage.json goes there */
	bool incomplete;	/* vmcore.incomplete: the save did not finish */
	struct stat st;
};

/*
 * DIR/triage.json: DIR/triage.json.incomplete (O_EXCL, no symlink), fsync,
 * renamed.  Only into a directory that this user owns and nobody else may
 * write: in a shared one (/var/crash is 1777 on some systems) another user
 * could have put a symlink where the file goes.
 */
static struct ck_error *store_triage(const char *dir, const char *data, size_t len, mode_t mode)
{
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (dfd < 0 || fstat(dfd, &st) < 0)
		return ck_error_create_errno(errno, "'%s'", dir);
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
		return ck_error_create(CK_ERR_INVALID, "'%s' is not only this user's to write",
				       dir);
	static const char tmp[] = "triage.json.incomplete";
	(void)unlinkat(dfd, tmp, 0);
	_cleanup_close_ int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
					O_CLOEXEC, 0600);
	if (fd < 0)
		return ck_error_create_errno(errno, "creating '%s/%s'", dir, tmp);
	struct ck_error *err = ck_write_all(fd, data, len, tmp);
	if (!err && (fchmod(fd, mode) < 0 || fsync(fd) < 0 ||
		     renameat(dfd, tmp, dfd, "triage.json") < 0))
		err = ck_error_create_errno(errno, "saving '%s/triage.json'", dir);
	if (err)
		unlinkat(dfd, tmp, 0);
	return err;
}

/* What indexing needs: the options, the cache, and who triages: the
 * analyzer's size and mtime, so that a new crashkit-analyze (new rules, a
 * new signature version) indexes every dump again, once. */
struct kctx {
	const struct ck_crash_opts *o;
	sqlite3 *db;
	char analyzer_id[64];		/* "SIZE:MTIME_NS", "" when unknown */
	int64_t analyzer_mtime_ns;	/* 0 when unknown */
	struct ck_crash_stats *stats;
};

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* Triage's JSON into c; ran: triage ran now.  Writes DIR/triage.json
 * (.incomplete, then renamed) when it ran and the directory allows. */
static struct ck_error *index_dump(const struct kctx *k, const struct found *f,
				   struct ck_crash *c)
{
	const struct ck_crash_opts *o = k->o;
	struct ck_crash_stats *stats = k->stats;
	_cleanup_free_ char *tj = ck_strdup_printf("%s/triage.json", f->dir);
	if (!tj)
		return &ck_error_nomem;
	struct stat tst;
	/* A triage.json newer than the dump and than the analyzer, written by
	 * root or this user (not planted by someone else). */
	if (!o->reindex && stat(tj, &tst) == 0 && S_ISREG(tst.st_mode) &&
	    (tst.st_uid == 0 || tst.st_uid == geteuid()) &&
	    mtime_ns(&tst) >= mtime_ns(&f->st) && mtime_ns(&tst) >= k->analyzer_mtime_ns) {
		_cleanup_free_ char *text = NULL;
		size_t len = 0;
		struct ck_error *err = read_regular(tj, MAX_TRIAGE_JSON, &text, &len);
		if (!err)
			err = ck_kdump_triage_parse(text, len, c);
		if (!err) {
			stats->from_file++;
			return SET(c, triage, tj) ? NULL : &ck_error_nomem;
		}
		ck_core_logf(o->log, o->log_arg, 4, "'%s': %s; running triage again", tj,
			     ck_error_message(err));
		ck_error_destroy(err);
	}
	if (o->no_index)
		return SET(c, state, "not-indexed") ? NULL : &ck_error_nomem;
	/* Root does not feed another user's file to the dump parsers: a dump
	 * planted in a shared directory is listed, not triaged. */
	struct stat dst = { 0 };
	bool dir_root = stat(f->dir, &dst) == 0 && dst.st_uid == 0;
	if (geteuid() == 0 && (f->st.st_uid != 0 || !dir_root)) {
		char why[160];
		snprintf(why, sizeof(why), "not triaged by root: the dump or its directory "
			 "belongs to uid %u", (unsigned int)(f->st.st_uid ? f->st.st_uid : dst.st_uid));
		return SET(c, state, "not-indexed") && SET(c, reason, why) ? NULL : &ck_error_nomem;
	}
	char *argv[] = { (char *)o->analyzer, (char *)"triage", (char *)"--json", (char *)"--",
			 (char *)f->dump, NULL };
	struct tool_run r;
	struct ck_error *err = run_tool(argv, o->timeout ? o->timeout : 300, &r);
	if (err)
		return err;
	stats->triaged++;
	ck_core_logf(o->log, o->log_arg, 6, "indexed '%s' (triage exit %d)", f->dump, r.status);
	/* 0: a report; 3: a partial one (docs/signatures.md) */
	if ((r.status == 0 || r.status == 3) && !(err = ck_kdump_triage_parse(r.out, r.out_len, c))) {
		/* The report is as readable as the dump, no more. */
		err = store_triage(f->dir, r.out, r.out_len, f->st.st_mode & 0644);
		if (err) {
			ck_core_logf(o->log, o->log_arg, 4, "triage of '%s' not stored beside it: %s",
				     f->dump, ck_error_message(err));
			ck_error_destroy(err);
			err = NULL;
		} else if (!SET(c, triage, tj)) {
			err = &ck_error_nomem;
		}
	} else {
		char why[400];
		snprintf(why, sizeof(why), "triage failed (exit %d): %s%s%s", r.status,
			 r.err_line, err ? "; " : "", err ? ck_error_message(err) : "");
		ck_error_destroy(err);
		err = SET(c, state, "triage-failed") && SET(c, reason, why) &&
		      SET(c, class_name, "unknown") && SET(c, title, why) ? NULL : &ck_error_nomem;
	}
	free(r.out);
	return err;
}

/* ---- the cache: table kdumps of the catalog ----------------------------- */

#define KCOLS "path, size, mtime_ns, time_usec, pid, cpu, uptime, state, reason, class, title," \
	      " signature, signature_input, message, culprit, module, comm, release, build_id," \
	      " triage, analyzer"

/* The cached index of f into c; false when there is none for this size,
 * mtime and analyzer (any analyzer when it is unknown). */
static bool cache_get(const struct kctx *k, const struct found *f, struct ck_crash *c)
{
	sqlite3_stmt *st;
	if (!k->db || sqlite3_prepare_v2(k->db, "SELECT " KCOLS " FROM kdumps WHERE path = ?"
					 " AND size = ? AND mtime_ns = ? AND (?4 = '' OR analyzer = ?4)",
					 -1, &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(st, 1, f->dump, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)f->st.st_size);
	sqlite3_bind_int64(st, 3, mtime_ns(&f->st));
	sqlite3_bind_text(st, 4, k->analyzer_id, -1, SQLITE_STATIC);
	bool ok = sqlite3_step(st) == SQLITE_ROW;
	if (ok) {
		c->time_usec = sqlite3_column_int64(st, 3);
		c->pid = sqlite3_column_int(st, 4);
		c->cpu = sqlite3_column_int(st, 5);
		c->uptime = sqlite3_column_int64(st, 6);
		for (size_t j = 0; ok && j < CK_ARRAY_SIZE(text_cols); j++) {
			const unsigned char *t = sqlite3_column_text(st, 7 + (int)j);
			ok = set_text(c, text_cols[j], t ? (const char *)t : "");
		}
	}
	sqlite3_finalize(st);
	return ok;
}

static void cache_put(const struct kctx *k, const struct found *f, const struct ck_crash *c)
{
	sqlite3_stmt *st;
	if (!k->db || sqlite3_prepare_v2(k->db, "INSERT OR REPLACE INTO kdumps (" KCOLS ") VALUES"
					 " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
					 -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, f->dump, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)f->st.st_size);
	sqlite3_bind_int64(st, 3, mtime_ns(&f->st));
	sqlite3_bind_int64(st, 4, c->time_usec);
	sqlite3_bind_int(st, 5, c->pid);
	sqlite3_bind_int(st, 6, c->cpu);
	sqlite3_bind_int64(st, 7, c->uptime);
	for (size_t j = 0; j < CK_ARRAY_SIZE(text_cols); j++)
		sqlite3_bind_text(st, 8 + (int)j, *text_field((struct ck_crash *)c, text_cols[j]),
				  -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8 + (int)CK_ARRAY_SIZE(text_cols), k->analyzer_id, -1, SQLITE_STATIC);
	sqlite3_step(st);
	sqlite3_finalize(st);
}

/* Rows of dumps that are gone. */
static void cache_prune(sqlite3 *db)
{
	sqlite3_stmt *st;
	if (!db || sqlite3_prepare_v2(db, "SELECT path FROM kdumps", -1, &st, NULL) != SQLITE_OK)
		return;
	struct ck_strbuf gone = CK_STRBUF_INIT;
	unsigned int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW && n < 1000) {
		const char *p = (const char *)sqlite3_column_text(st, 0);
		struct stat s;
		if (p && stat(p, &s) < 0 && errno == ENOENT && !strchr(p, '\n')) {
			ck_strbuf_addf(&gone, "%s\n", p);
			n++;
		}
	}
	sqlite3_finalize(st);
	char *list = ck_strbuf_detach(&gone, NULL);
	for (char *p = list, *nl; p && (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = '\0';
		if (sqlite3_prepare_v2(db, "DELETE FROM kdumps WHERE path = ?", -1, &st, NULL) ==
		    SQLITE_OK) {
			sqlite3_bind_text(st, 1, p, -1, SQLITE_STATIC);
			sqlite3_step(st);
			sqlite3_finalize(st);
		}
	}
	free(list);
}

/* ---- finding dumps ------------------------------------------------------ */

CK_DEFINE_VECTOR(found_vector, struct found)

static bool add_found(struct found_vector *v, const char *dir, const char *name, bool incomplete)
{
	struct found f = { .incomplete = incomplete };
	f.dump = ck_strdup_printf("%s/%s", dir, name);
	f.dir = strdup(dir);
	/* The dump may be a symlink; its directory may not (checked by the
	 * caller): follow the last component only. */
	if (!f.dump || !f.dir || stat(f.dump, &f.st) < 0 || !S_ISREG(f.st.st_mode) ||
	    !found_vector_append(v, &f)) {
		free(f.dump);
		free(f.dir);
		return false;
	}
	return true;
}

/* The dump of one directory: vmcore (crashkit's save, a bare copy), else
 * vmcore.incomplete, else dump.* (Debian's kdump-tools). */
static void scan_dump_dir(struct found_vector *v, const char *dir)
{
	if (add_found(v, dir, "vmcore", false) || add_found(v, dir, "vmcore.incomplete", true))
		return;
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	char best[256] = "";
	for (unsigned int n = 0; (e = readdir(d)) && n < MAX_ENTRIES; n++)
		if (!strncmp(e->d_name, "dump.", 5) && strcmp(e->d_name, best) > 0 &&
		    strlen(e->d_name) < sizeof(best))
			snprintf(best, sizeof(best), "%s", e->d_name);
	closedir(d);
	if (best[0])
		add_found(v, dir, best, false);
}

static struct ck_error *scan(const struct ck_crash_opts *o, const char *dir,
			     struct found_vector *v)
{
	DIR *d = opendir(dir);
	if (!d) {
		if (!o->dirs_given && (errno == ENOENT || errno == ENOTDIR))
			return NULL;
		return ck_error_create_errno(errno, "'%s'", dir);
	}
	scan_dump_dir(v, dir);
	struct dirent *e;
	for (unsigned int n = 0; (e = readdir(d)) && n < MAX_ENTRIES; n++) {
		if (e->d_name[0] == '.')
			continue;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		_cleanup_free_ char *sub = ck_strdup_printf("%s/%s", dir, e->d_name);
		if (!sub) {
			closedir(d);
			return &ck_error_nomem;
		}
		scan_dump_dir(v, sub);
	}
	closedir(d);
	return NULL;
}

static void found_deinit(struct found *f)
{
	free(f->dump);
	free(f->dir);
}

/* One found dump into c: from the cache, else indexed (and cached). */
static struct ck_error *kdump_crash(const struct kctx *k, const struct found *f,
				    struct ck_crash *c)
{
	const struct ck_crash_opts *o = k->o;
	if (!o->reindex && cache_get(k, f, c)) {
		k->stats->cached++;
	} else {
		if (!SET(c, state, f->incomplete ? "incomplete" : "complete") ||
		    !SET(c, class_name, "unknown"))
			return &ck_error_nomem;
		struct ck_error *err = index_dump(k, f, c);
		if (err)
			return err;
		c->time_usec = crash_time(o, f->dump, f->dir, &f->st) * 1000000;
		if (!SET(c, path, f->dump))
			return &ck_error_nomem;
		if (strcmp(c->state, "not-indexed"))
			cache_put(k, f, c);
	}
	c->kernel = true;
	c->uid = -1;
	/* A kernel dump is its own boot. */
	return SET(c, path, f->dump) && SET(c, boot, f->dump) ? NULL : &ck_error_nomem;
}

struct ck_error *ck_kdumps_collect(const struct ck_crash_opts *o, struct ck_catalog *cat,
				   struct ck_crash **crashes, size_t *nr, size_t *cap,
				   struct ck_crash_stats *stats)
{
	sqlite3 *db = cat ? ck_catalog_sqlite(cat) : NULL;
	if (db && sqlite3_exec(db, kdumps_schema, NULL, NULL, NULL) != SQLITE_OK)
		db = NULL;	/* no cache: every list indexes again */
	/* The index is a cache: one of another shape is dropped and rebuilt. */
	sqlite3_stmt *probe;
	if (db && sqlite3_prepare_v2(db, "SELECT " KCOLS " FROM kdumps LIMIT 0", -1, &probe,
				     NULL) == SQLITE_OK)
		sqlite3_finalize(probe);
	else if (db && (sqlite3_exec(db, "DROP TABLE IF EXISTS kdumps", NULL, NULL, NULL) != SQLITE_OK ||
			sqlite3_exec(db, kdumps_schema, NULL, NULL, NULL) != SQLITE_OK))
		db = NULL;
	struct kctx k = { .o = o, .db = db, .stats = stats };
	struct stat ast;
	if (o->analyzer && stat(o->analyzer, &ast) == 0) {
		k.analyzer_mtime_ns = mtime_ns(&ast);
		snprintf(k.analyzer_id, sizeof(k.analyzer_id), "%lld:%lld", (long long)ast.st_size,
			 (long long)k.analyzer_mtime_ns);
	}
	struct found_vector v;
	found_vector_init(&v);
	struct ck_error *err = NULL;
	for (size_t i = 0; i < o->nr_dirs && !err; i++)
		err = scan(o, o->dirs[i], &v);
	for (size_t i = 0; i < v.size && !err; i++) {
		/* The same file through two --dir: once. */
		bool dup = false;
		for (size_t j = 0; j < i && !dup; j++)
			dup = v.data[j].st.st_dev == v.data[i].st.st_dev &&
			      v.data[j].st.st_ino == v.data[i].st.st_ino &&
			      !strcmp(v.data[j].dump, v.data[i].dump);
		if (dup)
			continue;
		stats->dumps++;
		if (!ck_vec_grow((void **)crashes, cap, *nr, sizeof(**crashes))) {
			err = &ck_error_nomem;
			break;
		}
		struct ck_crash *c = &(*crashes)[*nr];
		if (!ck_crash_init(c)) {
			err = &ck_error_nomem;
			break;
		}
		(*nr)++;
		err = kdump_crash(&k, &v.data[i], c);
	}
	if (db && !err)
		cache_prune(db);
	for (size_t i = 0; i < v.size; i++)
		found_deinit(&v.data[i]);
	found_vector_deinit(&v);
	return err;
}

/* ---- the default directories -------------------------------------------- */

/* kdump.conf's "target /DIR" (a local directory; devices and remote targets
 * are not this machine's directories), else the default target. */
static char *kdump_target(const char *conf)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	struct ck_error *err = ck_core_read_small(AT_FDCWD, conf, 1 << 20, &text, &len);
	ck_error_destroy(err);
	char *target = NULL;
	for (char *line = err ? NULL : text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		line += strspn(line, " \t");
		if (strncmp(line, "target", 6) || (line[6] != ' ' && line[6] != '\t' && line[6] != '='))
			continue;
		char *v = line + 7;
		v += strspn(v, " \t");
		v[strcspn(v, " \t#")] = '\0';
		free(target);
		target = v[0] == '/' ? strdup(v) : strdup("");
	}
	if (target && !target[0]) {
		free(target);
		return NULL;	/* a device or a remote target */
	}
	return target ? target : strdup(CK_KDUMP_TARGET_DEFAULT);
}

struct ck_error *ck_crash_default_dirs(const char *kdump_conf, char ***ret, size_t *nr_ret)
{
	char **dirs = calloc(3, sizeof(*dirs));
	if (!dirs)
		return &ck_error_nomem;
	size_t nr = 0;
	char *target = kdump_target(kdump_conf ? kdump_conf : CK_KDUMP_CONF_DEFAULT);
	if (target)
		dirs[nr++] = target;
	if (!target || strcmp(target, "/var/crash"))
		dirs[nr++] = strdup("/var/crash");
	for (size_t i = 0; i < nr; i++) {
		if (!dirs[i]) {
			for (size_t k = 0; k < nr; k++)
				free(dirs[k]);
			free(dirs);
			return &ck_error_nomem;
		}
	}
	*ret = dirs;
	*nr_ret = nr;
	return NULL;
}
