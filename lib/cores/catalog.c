/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The catalog of crashes: STORE/catalog.db, sqlite3 in WAL mode with a busy
 * timeout, so that handlers of simultaneous crashes queue instead of failing.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cores/cores.h"

struct ck_catalog {
	sqlite3 *db;
	char *store;
	int dirfd;
};

#define COLUMNS "id, name, core_file, time_usec, pid, tid, uid, gid, signal, comm, exe, " \
		"cmdline, hostname, boot_id, signature, state, reason, core_size, "       \
		"stored_size, truncated, backtrace, modules, meta_json"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS cores ("
	" id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, core_file TEXT NOT NULL,"
	" time_usec INTEGER, pid INTEGER, tid INTEGER, uid INTEGER, gid INTEGER,"
	" signal INTEGER, comm TEXT, exe TEXT, cmdline TEXT, hostname TEXT, boot_id TEXT,"
	" signature TEXT, state TEXT, reason TEXT, core_size INTEGER, stored_size INTEGER,"
	" truncated INTEGER, backtrace TEXT, modules TEXT, meta_json TEXT);"
	"CREATE INDEX IF NOT EXISTS cores_sig ON cores(signature, time_usec);"
	"CREATE INDEX IF NOT EXISTS cores_exe ON cores(exe, time_usec);";

static struct ck_error *db_error(sqlite3 *db, const char *what)
{
	return ck_error_create(CK_ERR_OS, "catalog: %s: %s", what, sqlite3_errmsg(db));
}

/*
 * sqlite3_exec that waits out other handlers.  The busy timeout covers
 * ordinary lock waits, but some steps fail at once with SQLITE_BUSY (the
 * switch of a new database to WAL, a read lock that cannot be upgraded)
 * so that callers do not deadlock: when fifty crashes at once all create
 * the catalog, one of them met that.  Retried for about ten seconds.
 */
static int exec_retry(sqlite3 *db, const char *sql, char **msg)
{
	int rc = SQLITE_BUSY;
	for (unsigned int wait_ms = 2, total = 0; total < 10000; total += wait_ms) {
		sqlite3_free(*msg);
		*msg = NULL;
		rc = sqlite3_exec(db, sql, NULL, NULL, msg);
		if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			break;
		sqlite3_sleep((int)wait_ms);
		wait_ms = wait_ms < 64 ? wait_ms * 2 : 64;
	}
	return rc;
}

static struct ck_error *query(struct ck_catalog *cat, sqlite3_stmt *st,
			      struct ck_core_record **ret, size_t *nr_ret);

/*
 * Signatures of the scheme before v1 (FNV-1a of exe, signal and frames)
 * are recomputed from the stored backtraces and module lists, once: the
 * database's user_version 1 says it is done (a new catalog starts there).
 * The metadata files of the records that changed are rewritten.  Best
 * effort: a catalog that cannot be migrated still opens.
 */
#define CATALOG_SIG_VERSION 1
static int user_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int version = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			version = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	return version;
}

static void migrate_signatures(struct ck_catalog *cat)
{
	sqlite3_stmt *st;
	char *msg = NULL;
	if (exec_retry(cat->db, "BEGIN IMMEDIATE", &msg) != SQLITE_OK) {
		sqlite3_free(msg);
		return;
	}
	int version = user_version(cat->db);	/* again, now that we hold the lock */
	struct ck_core_record *recs = NULL;
	size_t nr = 0;
	bool ok = version >= 0 && version < CATALOG_SIG_VERSION &&
		  sqlite3_prepare_v2(cat->db, "SELECT " COLUMNS " FROM cores", -1, &st, NULL) ==
			  SQLITE_OK &&
		  !query(cat, st, &recs, &nr);
	bool *changed = ok ? calloc(nr + 1, sizeof(*changed)) : NULL;
	for (size_t i = 0; changed && i < nr; i++) {
		struct ck_core_record *r = &recs[i];
		struct ck_core_sig sig;
		if (!r->signature[0] || !r->backtrace[0] ||
		    ck_core_signature_from_text(r->exe[0] ? r->exe : r->comm, r->signal,
						r->backtrace, r->modules, &sig))
			continue;
		if (strcmp(sig.signature, r->signature) &&
		    sqlite3_prepare_v2(cat->db, "UPDATE cores SET signature = ? WHERE id = ?", -1,
				       &st, NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, sig.signature, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, r->id);
			changed[i] = sqlite3_step(st) == SQLITE_DONE;
			sqlite3_finalize(st);
			if (changed[i]) {
				free(r->signature);
				r->signature = sig.signature;
				sig.signature = NULL;
			}
		}
		ck_core_sig_deinit(&sig);
	}
	ok = changed && exec_retry(cat->db, "PRAGMA user_version = 1; COMMIT", &msg) == SQLITE_OK;
	sqlite3_free(msg);
	msg = NULL;
	if (!ok)
		exec_retry(cat->db, "ROLLBACK", &msg);
	sqlite3_free(msg);
	for (size_t i = 0; ok && i < nr; i++) {
		if (!changed[i])
			continue;
		ck_error_destroy(ck_core_record_write_json(cat->dirfd, &recs[i]));
		ck_error_destroy(ck_core_share_record(cat->dirfd, &recs[i]));
	}
	free(changed);
	ck_core_records_destroy(recs, nr);
}

struct sqlite3 *ck_catalog_sqlite(struct ck_catalog *cat)
{
	return cat->db;
}

struct ck_error *ck_catalog_open(const char *store, bool create, struct ck_catalog **ret)
{
	struct ck_catalog *cat = calloc(1, sizeof(*cat));
	if (!cat)
		return &ck_error_nomem;
	cat->dirfd = -1;
	struct ck_error *err = ck_core_store_open(store, create, &cat->dirfd);
	if (err) {
		free(cat);
		return err;
	}
	cat->store = strdup(store);
	/* The directory was checked (root-owned, not a symlink); NOFOLLOW
	 * below covers the last component. */
	_cleanup_free_ char *path = ck_strdup_printf("%s/catalog.db", store);
	if (!cat->store || !path) {
		ck_catalog_destroy(cat);
		return &ck_error_nomem;
	}
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW |
		    (create ? SQLITE_OPEN_CREATE : 0);
	mode_t old = umask(077);
	int rc = sqlite3_open_v2(path, &cat->db, flags, NULL);
	umask(old);
	if (rc != SQLITE_OK) {
		err = ck_error_create(rc == SQLITE_CANTOPEN ? CK_ERR_NOT_FOUND : CK_ERR_OS,
				      "catalog in '%s': %s", store,
				      cat->db ? sqlite3_errmsg(cat->db) : "cannot open");
		ck_catalog_destroy(cat);
		return err;
	}
	sqlite3_busy_timeout(cat->db, 10000);
	char *msg = NULL;
	/* WAL stays with the file: a no-op once the creator has set it. */
	if (exec_retry(cat->db, "PRAGMA journal_mode=WAL;", &msg) != SQLITE_OK ||
	    (create && exec_retry(cat->db, schema, &msg) != SQLITE_OK)) {
		err = ck_error_create(CK_ERR_OS, "catalog in '%s': %s", store,
				      msg ? msg : "setup failed");
		sqlite3_free(msg);
		ck_catalog_destroy(cat);
		return err;
	}
	if (user_version(cat->db) < CATALOG_SIG_VERSION)
		migrate_signatures(cat);
	*ret = cat;
	return NULL;
}

void ck_catalog_destroy(struct ck_catalog *cat)
{
	if (!cat)
		return;
	sqlite3_close(cat->db);
	if (cat->dirfd >= 0)
		close(cat->dirfd);
	free(cat->store);
	free(cat);
}

struct ck_error *ck_catalog_insert(struct ck_catalog *cat, struct ck_core_record *rec)
{
	static const char sql[] =
		"INSERT INTO cores (name, core_file, time_usec, pid, tid, uid, gid, signal,"
		" comm, exe, cmdline, hostname, boot_id, signature, state, reason, core_size,"
		" stored_size, truncated, backtrace, modules, meta_json)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(cat->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_error(cat->db, "insert");
	int i = 1;
	const char *texts1[] = { rec->name, rec->core_file };
	for (size_t k = 0; k < 2; k++)
		sqlite3_bind_text(st, i++, texts1[k] ? texts1[k] : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, i++, rec->time_usec);
	int ints[] = { rec->pid, rec->tid, rec->uid, rec->gid, rec->signal };
	for (size_t k = 0; k < CK_ARRAY_SIZE(ints); k++)
		sqlite3_bind_int64(st, i++, ints[k]);
	const char *texts2[] = { rec->comm, rec->exe, rec->cmdline, rec->hostname,
				 rec->boot_id, rec->signature, rec->state, rec->reason };
	for (size_t k = 0; k < CK_ARRAY_SIZE(texts2); k++)
		sqlite3_bind_text(st, i++, texts2[k] ? texts2[k] : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)rec->core_size);
	sqlite3_bind_int64(st, i++, (sqlite3_int64)rec->stored_size);
	sqlite3_bind_int(st, i++, rec->truncated);
	const char *texts3[] = { rec->backtrace, rec->modules, rec->meta_json };
	for (size_t k = 0; k < CK_ARRAY_SIZE(texts3); k++)
		sqlite3_bind_text(st, i++, texts3[k] ? texts3[k] : "", -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(cat->db, "insert");
	rec->id = sqlite3_last_insert_rowid(cat->db);
	return NULL;
}

static char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return strdup(t ? (const char *)t : "");
}

static bool row_to_record(sqlite3_stmt *st, struct ck_core_record *r)
{
	int i = 0;
	r->id = sqlite3_column_int64(st, i++);
	r->name = col_text(st, i++);
	r->core_file = col_text(st, i++);
	r->time_usec = sqlite3_column_int64(st, i++);
	r->pid = sqlite3_column_int(st, i++);
	r->tid = sqlite3_column_int(st, i++);
	r->uid = (int)sqlite3_column_int64(st, i++);
	r->gid = (int)sqlite3_column_int64(st, i++);
	r->signal = sqlite3_column_int(st, i++);
	r->comm = col_text(st, i++);
	r->exe = col_text(st, i++);
	r->cmdline = col_text(st, i++);
	r->hostname = col_text(st, i++);
	r->boot_id = col_text(st, i++);
	r->signature = col_text(st, i++);
	r->state = col_text(st, i++);
	r->reason = col_text(st, i++);
	r->core_size = (uint64_t)sqlite3_column_int64(st, i++);
	r->stored_size = (uint64_t)sqlite3_column_int64(st, i++);
	r->truncated = sqlite3_column_int(st, i++);
	r->backtrace = col_text(st, i++);
	r->modules = col_text(st, i++);
	r->meta_json = col_text(st, i++);
	return r->name && r->core_file && r->comm && r->exe && r->cmdline && r->hostname &&
	       r->boot_id && r->signature && r->state && r->reason && r->backtrace &&
	       r->modules && r->meta_json;
}

static struct ck_error *query(struct ck_catalog *cat, sqlite3_stmt *st,
			      struct ck_core_record **ret, size_t *nr_ret)
{
	struct ck_core_record *recs = NULL;
	size_t nr = 0, cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!ck_vec_grow((void **)&recs, &cap, nr, sizeof(*recs)))
			goto nomem;
		memset(&recs[nr], 0, sizeof(recs[nr]));
		bool ok = row_to_record(st, &recs[nr]);
		nr++;
		if (!ok)
			goto nomem;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		ck_core_records_destroy(recs, nr);
		return db_error(cat->db, "query");
	}
	*ret = recs;
	*nr_ret = nr;
	return NULL;
nomem:
	sqlite3_finalize(st);
	ck_core_records_destroy(recs, nr);
	return &ck_error_nomem;
}

struct ck_error *ck_catalog_find(struct ck_catalog *cat, const char *match,
				 struct ck_core_record **ret, size_t *nr_ret)
{
	const char *where = "";
	long long num = 0;
	if (!match) {
		where = "";
	} else if (match[0] == '#') {
		char *end;
		errno = 0;
		num = strtoll(match + 1, &end, 10);
		if (errno || *end || end == match + 1)
			return ck_error_create(CK_ERR_INVALID, "bad catalog id '%s'", match);
		where = " WHERE id = ?1";
	} else if (ck_core_all_of(match, isdigit) && strlen(match) <= 10) {
		num = strtoll(match, NULL, 10);
		where = " WHERE pid = ?1 OR signature = ?2";
	} else if (strlen(match) == 16 && ck_core_all_of(match, isxdigit)) {
		where = " WHERE signature = ?2 OR comm = ?2";
	} else if (strchr(match, '/')) {
		where = " WHERE exe = ?2";
	} else {
		where = " WHERE comm = ?2";
	}
	_cleanup_free_ char *sql = ck_strdup_printf("SELECT " COLUMNS " FROM cores%s"
						    " ORDER BY time_usec DESC, id DESC", where);
	if (!sql)
		return &ck_error_nomem;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(cat->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_error(cat->db, "query");
	if (match) {
		if (strstr(where, "?1"))
			sqlite3_bind_int64(st, 1, num);
		if (strstr(where, "?2"))
			sqlite3_bind_text(st, 2, match, -1, SQLITE_STATIC);
	}
	return query(cat, st, ret, nr_ret);
}

struct ck_error *ck_catalog_count_signature(struct ck_catalog *cat, const char *signature,
					    int64_t since_usec, unsigned int *ret)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(cat->db,
			       "SELECT count(*) FROM cores WHERE signature = ? AND time_usec >= ?"
			       " AND core_file != ''", -1, &st, NULL) != SQLITE_OK)
		return db_error(cat->db, "count");
	sqlite3_bind_text(st, 1, signature, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, since_usec);
	int rc = sqlite3_step(st);
	unsigned int n = rc == SQLITE_ROW ? (unsigned int)sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return db_error(cat->db, "count");
	*ret = n;
	return NULL;
}

struct ck_error *ck_catalog_excess_for_exe(struct ck_catalog *cat, const char *exe,
					   unsigned int keep, struct ck_core_record **ret,
					   size_t *nr_ret)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(cat->db,
			       "SELECT " COLUMNS " FROM cores WHERE exe = ? AND core_file != ''"
			       " ORDER BY time_usec DESC, id DESC LIMIT -1 OFFSET ?",
			       -1, &st, NULL) != SQLITE_OK)
		return db_error(cat->db, "query");
	sqlite3_bind_text(st, 1, exe, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, keep);
	return query(cat, st, ret, nr_ret);
}

struct ck_error *ck_catalog_oldest_with_core(struct ck_catalog *cat,
					     struct ck_core_record **ret, size_t *nr_ret)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(cat->db,
			       "SELECT " COLUMNS " FROM cores WHERE core_file != ''"
			       " ORDER BY time_usec ASC, id ASC LIMIT 64", -1, &st, NULL) != SQLITE_OK)
		return db_error(cat->db, "query");
	return query(cat, st, ret, nr_ret);
}

int ck_catalog_dirfd(struct ck_catalog *cat)
{
	return cat->dirfd;
}

struct ck_error *ck_catalog_drop_core(struct ck_catalog *cat, int64_t id, const char *reason)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(cat->db, "SELECT " COLUMNS " FROM cores WHERE id = ?", -1, &st,
			       NULL) != SQLITE_OK)
		return db_error(cat->db, "drop");
	sqlite3_bind_int64(st, 1, id);
	struct ck_core_record *recs = NULL;
	size_t nr = 0;
	struct ck_error *err = query(cat, st, &recs, &nr);
	if (err)
		return err;
	if (nr == 0)
		return NULL;
	struct ck_core_record *r = &recs[0];
	if (r->core_file[0] && !strchr(r->core_file, '/'))
		unlinkat(cat->dirfd, r->core_file, 0);
	if (sqlite3_prepare_v2(cat->db,
			       "UPDATE cores SET core_file = '', stored_size = 0,"
			       " state = 'metadata-only', reason = ? WHERE id = ?",
			       -1, &st, NULL) != SQLITE_OK) {
		ck_core_records_destroy(recs, nr);
		return db_error(cat->db, "drop");
	}
	sqlite3_bind_text(st, 1, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		ck_core_records_destroy(recs, nr);
		return db_error(cat->db, "drop");
	}
	/* The metadata files say the same as the catalog. */
	char *cf = strdup(""), *state = strdup("metadata-only"), *why = strdup(reason);
	if (cf && state && why) {
		free(r->core_file);
		free(r->state);
		free(r->reason);
		r->core_file = cf;
		r->state = state;
		r->reason = why;
		r->stored_size = 0;
		ck_error_destroy(ck_core_record_write_json(cat->dirfd, r));
		ck_error_destroy(ck_core_share_record(cat->dirfd, r));
	} else {
		free(cf);
		free(state);
		free(why);
	}
	ck_core_records_destroy(recs, nr);
	return NULL;
}

static bool ck_catalog_drop_core_report(struct ck_catalog *cat,
					const struct ck_core_record *rec, const char *reason,
					struct ck_core_vacuum_report *rep)
{
	struct ck_error *err = ck_catalog_drop_core(cat, rec->id, reason);
	if (err) {
		ck_error_destroy(err);
		return false;
	}
	rep->dropped++;
	return true;
}

struct ck_error *ck_core_vacuum(const struct ck_core_policy *policy,
				struct ck_core_vacuum_report *ret)
{
	const char *store = ck_core_policy_store(policy);
	struct ck_catalog *cat;
	struct ck_error *err = ck_catalog_open(store, false, &cat);
	if (err)
		return err;
	struct ck_core_vacuum_report rep = { 0 };
	uint64_t before = 0;
	ck_error_destroy(ck_core_store_usage(cat->dirfd, &before));

	/* keep_per_exe, for every exe that has more. */
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(cat->db,
			       "SELECT exe FROM cores WHERE core_file != '' GROUP BY exe"
			       " HAVING count(*) > ?", -1, &st, NULL) != SQLITE_OK) {
		err = db_error(cat->db, "vacuum");
		goto out;
	}
	sqlite3_bind_int64(st, 1, policy->keep_per_exe);
	char **exes = NULL;
	size_t nexe = 0, cap = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		if (!ck_vec_grow((void **)&exes, &cap, nexe, sizeof(*exes)))
			break;
		exes[nexe] = strdup(t ? (const char *)t : "");
		nexe += exes[nexe] != NULL;
	}
	sqlite3_finalize(st);
	char reason[64];
	snprintf(reason, sizeof(reason), "keep_per_exe=%u: newer cores of this exe (vacuum)",
		 policy->keep_per_exe);
	for (size_t i = 0; i < nexe; i++) {
		struct ck_core_record *old = NULL;
		size_t nr = 0;
		if (!ck_catalog_excess_for_exe(cat, exes[i], policy->keep_per_exe, &old, &nr))
			for (size_t k = 0; k < nr; k++)
				if (!ck_catalog_drop_core_report(cat, &old[k], reason, &rep))
					break;
		ck_core_records_destroy(old, nr);
		free(exes[i]);
	}
	free(exes);

	/* max_use and keep_free: oldest first. */
	for (int round = 0; round < 1000; round++) {
		uint64_t used = 0, avail = 0;
		ck_error_destroy(ck_core_store_usage(cat->dirfd, &used));
		ck_error_destroy(ck_core_store_free(cat->dirfd, &avail));
		const char *why = used > policy->max_use ? "evicted: store over max_use (vacuum)"
				  : avail < policy->keep_free
					  ? "evicted: filesystem below keep_free (vacuum)"
					  : NULL;
		if (!why)
			break;
		struct ck_core_record *old = NULL;
		size_t nr = 0;
		err = ck_catalog_oldest_with_core(cat, &old, &nr);
		if (err || nr == 0) {
			ck_core_records_destroy(old, nr);
			break;
		}
		ck_catalog_drop_core_report(cat, &old[0], why, &rep);
		ck_core_records_destroy(old, nr);
	}
	ck_error_destroy(ck_core_store_usage(cat->dirfd, &rep.used_after));
	rep.freed = before > rep.used_after ? before - rep.used_after : 0;
	if (!err)
		*ret = rep;
out:
	ck_catalog_destroy(cat);
	return err;
}

struct ck_error *ck_core_remove(struct ck_catalog *cat, const struct ck_core_record *rec)
{
	/* Names come from our own catalog, but check anyway: no path may
	 * leave the store. */
	if (rec->core_file[0] && !strchr(rec->core_file, '/'))
		unlinkat(cat->dirfd, rec->core_file, 0);
	ck_core_unshare_record(cat->dirfd, rec);
	if (rec->name[0] && !strchr(rec->name, '/')) {
		_cleanup_free_ char *json = ck_strdup_printf("%s.json", rec->name);
		if (json)
			unlinkat(cat->dirfd, json, 0);
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(cat->db, "DELETE FROM cores WHERE id = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_error(cat->db, "remove");
	sqlite3_bind_int64(st, 1, rec->id);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(cat->db, "remove");
	return NULL;
}

struct ck_error *ck_core_extract(const char *store, const struct ck_core_record *rec,
				 int out_fd, bool sparse)
{
	if (!rec->core_file[0])
		return ck_error_create(CK_ERR_NOT_FOUND, "crash #%lld has no stored core (%s%s%s)",
				       (long long)rec->id, rec->state, rec->reason[0] ? ": " : "",
				       rec->reason);
	if (strchr(rec->core_file, '/'))
		return ck_error_create(CK_ERR_FORMAT, "bad core file name in the catalog");
	int dirfd;
	struct ck_error *err = ck_core_store_open(store, false, &dirfd);
	if (err)
		return err;
	err = ck_core_store_extract(dirfd, rec->core_file, out_fd, sparse);
	close(dirfd);
	return err;
}
