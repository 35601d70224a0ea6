/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Metadata files, and what a non-root user may see of the store.
 *
 * The store is root's: 0711, so nobody can list it, but a name can be opened
 * where the file allows.  Each kept core is 0640 root:root plus an ACL entry
 * for the crashed process's owner (core_store.c).  The catalog is root-only,
 * so every crash of uid U also gets a copy of its metadata in
 * STORE/by-uid/U/<name>.json; that directory is 0700 root with an ACL entry
 * "user:U:r-x".  `cores list|info|dump` of a non-root user read only there, and
 * open the core by the name found there.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "cores/cores.h"

static struct ck_error *write_json_at(int dirfd, const char *name,
				      const struct ck_core_record *rec, mode_t mode)
{
	_cleanup_free_ char *js = ck_core_record_file_json(rec);
	if (!js)
		return &ck_error_nomem;
	return ck_core_write_atomic(dirfd, name, js, strlen(js), mode);
}

struct ck_error *ck_core_record_write_json(int dirfd, const struct ck_core_record *rec)
{
	_cleanup_free_ char *name = ck_strdup_printf("%s.json", rec->name);
	if (!name)
		return &ck_error_nomem;
	return write_json_at(dirfd, name, rec, 0600);
}

/* POSIX ACL of a directory readable by uid only (besides root), as the
 * kernel stores it in system.posix_acl_access. */
static int grant_dir(int fd, unsigned int uid)
{
	struct {
		uint32_t version;
		struct { uint16_t tag, perm; uint32_t id; } e[5];
	} __attribute__((packed)) acl = {
		.version = 2,
		.e = {
			{ 0x01, 7, UINT32_MAX },	/* user::rwx */
			{ 0x02, 5, uid },		/* user:uid:r-x */
			{ 0x04, 0, UINT32_MAX },	/* group::--- */
			{ 0x10, 5, UINT32_MAX },	/* mask::r-x */
			{ 0x20, 0, UINT32_MAX },	/* other::--- */
		},
	};
	return fsetxattr(fd, "system.posix_acl_access", &acl, sizeof(acl), 0);
}

/* Opens (creating) STORE/by-uid/<uid>, root-owned, readable by uid. */
static struct ck_error *user_dir(int dirfd, unsigned int uid, bool create, int *ret)
{
	if (create && mkdirat(dirfd, "by-uid", 0711) < 0 && errno != EEXIST)
		return ck_error_create_errno(errno, "creating by-uid");
	_cleanup_close_ int byfd = openat(dirfd, "by-uid", (create ? O_RDONLY : O_PATH) |
					  O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (byfd < 0)
		return ck_error_create_errno(errno, "by-uid");
	char name[16];
	snprintf(name, sizeof(name), "%u", uid);
	bool made = false;
	if (create) {
		if (mkdirat(byfd, name, 0700) == 0)
			made = true;
		else if (errno != EEXIST)
			return ck_error_create_errno(errno, "creating by-uid/%s", name);
	}
	int fd = openat(byfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ck_error_create_errno(errno, "by-uid/%s", name);
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_uid != 0) {
		close(fd);
		return ck_error_create(CK_ERR_INVALID, "by-uid/%s is not root's", name);
	}
	if (made && grant_dir(fd, uid) < 0) {
		int e = errno;
		close(fd);
		return ck_error_create_errno(e, "ACL for uid %u on by-uid/%s", uid, name);
	}
	*ret = fd;
	return NULL;
}

struct ck_error *ck_core_share_record(int dirfd, const struct ck_core_record *rec)
{
	if (rec->uid <= 0)
		return NULL;
	/* suid_dumpable=2 ("root only", %d=2): not the owner's to read. */
	struct json_object *meta = json_tokener_parse(rec->meta_json ? rec->meta_json : "");
	struct json_object *v;
	bool root_only = meta && json_object_object_get_ex(meta, "dumpable", &v) &&
			 json_object_get_int(v) == 2;
	json_object_put(meta);
	if (root_only)
		return NULL;
	int ufd;
	struct ck_error *err = user_dir(dirfd, (unsigned int)rec->uid, true, &ufd);
	if (err)
		return err;
	_cleanup_free_ char *name = ck_strdup_printf("%s.json", rec->name);
	err = name ? write_json_at(ufd, name, rec, 0600) : &ck_error_nomem;
	if (!err) {
		_cleanup_close_ int fd = openat(ufd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		err = fd < 0 ? ck_error_create_errno(errno, "'%s'", name)
			     : ck_core_store_grant(fd, (unsigned int)rec->uid);
	}
	close(ufd);
	return err;
}

void ck_core_unshare_record(int dirfd, const struct ck_core_record *rec)
{
	if (rec->uid <= 0 || strchr(rec->name, '/'))
		return;
	int ufd;
	struct ck_error *err = user_dir(dirfd, (unsigned int)rec->uid, false, &ufd);
	if (err) {
		ck_error_destroy(err);
		return;
	}
	_cleanup_free_ char *name = ck_strdup_printf("%s.json", rec->name);
	if (name)
		unlinkat(ufd, name, 0);
	close(ufd);
}

bool ck_core_record_matches(const struct ck_core_record *rec, const char *match)
{
	if (!match)
		return true;
	if (match[0] == '#') {
		char *end;
		errno = 0;
		long long id = strtoll(match + 1, &end, 10);
		return !errno && !*end && end != match + 1 && id == rec->id;
	}
	if (ck_core_all_of(match, isdigit) && strlen(match) <= 10)
		return strtoll(match, NULL, 10) == rec->pid || !strcmp(match, rec->signature);
	if (strlen(match) == 16 && ck_core_all_of(match, isxdigit))
		return !strcmp(match, rec->signature) || !strcmp(match, rec->comm);
	if (strchr(match, '/'))
		return !strcmp(match, rec->exe);
	return !strcmp(match, rec->comm);
}

void ck_core_filter_init(struct ck_core_filter *f)
{
	*f = (struct ck_core_filter){ .since_usec = INT64_MIN, .until_usec = INT64_MIN,
				      .uid = -1, .signal = -1 };
}

void ck_core_records_filter(struct ck_core_record *recs, size_t *nr,
			    const struct ck_core_filter *f)
{
	size_t out = 0;
	for (size_t i = 0; i < *nr; i++) {
		const struct ck_core_record *r = &recs[i];
		bool keep = (f->since_usec == INT64_MIN || r->time_usec >= f->since_usec) &&
			    (f->until_usec == INT64_MIN || r->time_usec <= f->until_usec) &&
			    (f->uid < 0 || r->uid == f->uid) &&
			    (f->signal < 0 || r->signal == f->signal);
		if (keep)
			recs[out++] = recs[i];
		else
			ck_core_record_deinit(&recs[i]);
	}
	*nr = out;
}

static int newest_first(const void *a, const void *b)
{
	const struct ck_core_record *x = a, *y = b;
	if (x->time_usec != y->time_usec)
		return x->time_usec < y->time_usec ? 1 : -1;
	return x->id < y->id ? 1 : x->id > y->id ? -1 : 0;
}

struct ck_error *ck_core_user_find(const char *store, unsigned int uid, const char *match,
				   struct ck_core_record **ret, size_t *nr_ret)
{
	int dirfd, ufd;  /* ufd stays owned by d */
	struct ck_error *err = ck_core_store_open(store, false, &dirfd);
	if (err)
		return err;
	err = user_dir(dirfd, uid, false, &ufd);
	close(dirfd);
	if (err) {
		if (ck_error_errno(err) == ENOENT) {
			/* No crash of this user yet. */
			ck_error_destroy(err);
			*ret = NULL;
			*nr_ret = 0;
			return NULL;
		}
		return ck_error_prepend(err, "your crashes in '%s'", store);
	}
	DIR *d = fdopendir(ufd);
	if (!d) {
		int e = errno;
		close(ufd);
		return ck_error_create_errno(e, "by-uid/%u", uid);
	}
	struct ck_core_record *recs = NULL;
	size_t nr = 0, cap = 0;
	for (struct dirent *de; (de = readdir(d));) {
		size_t n = strlen(de->d_name);
		if (n < 6 || strcmp(de->d_name + n - 5, ".json") || de->d_name[0] == '.')
			continue;
		char *text;
		struct ck_error *e = ck_core_read_small(ufd, de->d_name, 16 << 20, &text, NULL);
		if (e) {
			ck_error_destroy(e);
			continue;
		}
		struct ck_core_record r;
		e = ck_core_record_from_json(text, &r);
		free(text);
		if (e) {
			ck_error_destroy(e);
			continue;
		}
		if (!ck_core_record_matches(&r, match)) {
			ck_core_record_deinit(&r);
			continue;
		}
		if (!ck_vec_grow((void **)&recs, &cap, nr, sizeof(*recs))) {
			ck_core_record_deinit(&r);
			err = &ck_error_nomem;
			break;
		}
		recs[nr++] = r;
	}
	closedir(d);
	if (err) {
		ck_core_records_destroy(recs, nr);
		return err;
	}
	if (nr)
		qsort(recs, nr, sizeof(*recs), newest_first);
	*ret = recs;
	*nr_ret = nr;
	return NULL;
}

/* ---- the access rule: root reads the catalog, other users their copies -- */

struct ck_error *ck_core_view_init(struct ck_core_view *view, const char *store)
{
	*view = (struct ck_core_view){ .store = store, .uid = (unsigned int)geteuid() };
	if (view->uid != 0)
		return NULL;
	return ck_catalog_open(store, false, &view->cat);
}

void ck_core_view_deinit(struct ck_core_view *view)
{
	if (!view)
		return;
	ck_catalog_destroy(view->cat);
	view->cat = NULL;
}

struct ck_error *ck_core_view_find(const struct ck_core_view *view, const char *match,
				   struct ck_core_record **ret, size_t *nr_ret)
{
	if (view->cat)
		return ck_catalog_find(view->cat, match, ret, nr_ret);
	return ck_core_user_find(view->store, view->uid, match, ret, nr_ret);
}

struct ck_error *ck_core_view_remove(const struct ck_core_view *view,
				     const struct ck_core_record *rec)
{
	if (!view->cat)
		return ck_error_create(CK_ERR_INVALID, "only root removes crashes from the catalog");
	return ck_core_remove(view->cat, rec);
}
