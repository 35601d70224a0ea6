/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One catalog for both kinds of crash (docs/catalog.md): the userspace
 * cores of the store and the kernel dumps of the dump directories
 * (kdumps.c), newest first, grouped by signature ("seen N times on M
 * boots"), as data and as JSON.
 */
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "cores/cores.h"

static const size_t str_fields[] = {
	offsetof(struct ck_crash, comm),	offsetof(struct ck_crash, class_name),
	offsetof(struct ck_crash, title),	offsetof(struct ck_crash, signature),
	offsetof(struct ck_crash, signature_input), offsetof(struct ck_crash, boot),
	offsetof(struct ck_crash, state),	offsetof(struct ck_crash, reason),
	offsetof(struct ck_crash, path),	offsetof(struct ck_crash, exe),
	offsetof(struct ck_crash, message),	offsetof(struct ck_crash, culprit),
	offsetof(struct ck_crash, module),	offsetof(struct ck_crash, release),
	offsetof(struct ck_crash, build_id),	offsetof(struct ck_crash, triage),
};

static char **field(struct ck_crash *c, size_t off)
{
	return (char **)((char *)c + off);
}

bool ck_crash_init(struct ck_crash *c)
{
	memset(c, 0, sizeof(*c));
	c->pid = c->cpu = c->uid = -1;
	c->uptime = -1;
	bool ok = true;
	for (size_t k = 0; k < CK_ARRAY_SIZE(str_fields); k++)
		ok &= (*field(c, str_fields[k]) = strdup("")) != NULL;
	if (!ok)
		ck_crash_deinit(c);
	return ok;
}

void ck_crash_deinit(struct ck_crash *c)
{
	for (size_t k = 0; k < CK_ARRAY_SIZE(str_fields); k++) {
		free(*field(c, str_fields[k]));
		*field(c, str_fields[k]) = NULL;
	}
}

void ck_crashes_destroy(struct ck_crash *crashes, size_t nr)
{
	for (size_t i = 0; crashes && i < nr; i++)
		ck_crash_deinit(&crashes[i]);
	free(crashes);
}

static bool take(struct ck_crash *c, size_t off, char *value)
{
	if (!value)
		return false;
	free(*field(c, off));
	*field(c, off) = value;
	return true;
}

#define TAKE(c, f, v) take(c, offsetof(struct ck_crash, f), v)
#define COPY(c, f, v) take(c, offsetof(struct ck_crash, f), strdup(v))

/* A core record as a crash: class and title from the stored backtrace
 * (the frame the signature starts with). */
static bool user_crash(const struct ck_core_record *r, struct ck_crash *c)
{
	struct ck_core_sig sig;
	const char *exe = r->exe[0] ? r->exe : r->comm;
	if (ck_core_signature_from_text(exe, r->signal, r->backtrace, r->modules, &sig))
		return false;
	const char *base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	const char *abbrev = r->signal > 0 && r->signal < 65 ? sigabbrev_np(r->signal) : NULL;
	char signame[32];
	if (abbrev)
		snprintf(signame, sizeof(signame), "SIG%s", abbrev);
	else
		snprintf(signame, sizeof(signame), "signal %d", r->signal);
	char *title = sig.frame[0] ? ck_strdup_printf("%s: %s in %s", base, signame, sig.frame)
				   : ck_strdup_printf("%s: %s", base, signame);
	/* The stored signature is the catalog's (migrated to v1); the text is
	 * what v1 hashes when they agree. */
	bool same = !strcmp(sig.signature, r->signature);
	bool ok = TAKE(c, title, title) && COPY(c, class_name, sig.class_name) &&
		  COPY(c, signature, r->signature) &&
		  COPY(c, signature_input, same ? sig.input : "") && COPY(c, comm, r->comm) &&
		  COPY(c, exe, r->exe) && COPY(c, boot, r->boot_id[0] ? r->boot_id : r->name) &&
		  COPY(c, state, r->state) && COPY(c, reason, r->reason) && COPY(c, path, r->name);
	ck_core_sig_deinit(&sig);
	c->kernel = false;
	c->time_usec = r->time_usec;
	c->id = r->id;
	c->pid = r->pid;
	c->uid = r->uid;
	c->signal = r->signal;
	return ok;
}

static struct ck_error *collect_user(const struct ck_crash_opts *o, struct ck_core_view *view,
				     struct ck_crash **crashes, size_t *nr, size_t *cap)
{
	struct ck_core_record *recs = NULL;
	size_t nrec = 0;
	struct ck_error *err = ck_core_view_find(view, NULL, &recs, &nrec);
	if (err)
		return err;
	for (size_t i = 0; i < nrec && !err; i++) {
		if (!ck_vec_grow((void **)crashes, cap, *nr, sizeof(**crashes)) ||
		    !ck_crash_init(&(*crashes)[*nr])) {
			err = &ck_error_nomem;
			break;
		}
		(*nr)++;
		if (!user_crash(&recs[i], &(*crashes)[*nr - 1]))
			err = &ck_error_nomem;
	}
	ck_core_records_destroy(recs, nrec);
	return err;
}

/* ---- order and groups --------------------------------------------------- */

static int newest_first(const void *a, const void *b)
{
	const struct ck_crash *x = a, *y = b;
	if (x->time_usec != y->time_usec)
		return x->time_usec > y->time_usec ? -1 : 1;
	if (x->kernel != y->kernel)
		return x->kernel ? -1 : 1;
	if (x->id != y->id)
		return x->id > y->id ? -1 : 1;
	return strcmp(x->path, y->path);
}

static int by_signature_boot(const void *a, const void *b)
{
	const struct ck_crash *x = *(const struct ck_crash *const *)a;
	const struct ck_crash *y = *(const struct ck_crash *const *)b;
	int r = strcmp(x->signature, y->signature);
	return r ? r : strcmp(x->boot, y->boot);
}

/* seen and boots of every crash: sorted by (signature, boot), each run of
 * one signature counts its crashes and its distinct boots. */
static bool count_groups(struct ck_crash *crashes, size_t nr)
{
	struct ck_crash **idx = ck_calloc_array(nr + 1, sizeof(*idx));
	if (!idx)
		return false;
	for (size_t i = 0; i < nr; i++)
		idx[i] = &crashes[i];
	qsort(idx, nr, sizeof(*idx), by_signature_boot);
	for (size_t i = 0; i < nr;) {
		size_t j = i;
		unsigned int boots = 0;
		for (; j < nr && !strcmp(idx[j]->signature, idx[i]->signature); j++)
			boots += j == i || strcmp(idx[j]->boot, idx[j - 1]->boot) != 0;
		for (size_t k = i; k < j; k++) {
			/* No signature: nothing to group with. */
			idx[k]->seen = idx[i]->signature[0] ? (unsigned int)(j - i) : 1;
			idx[k]->boots = idx[i]->signature[0] ? boots : 1;
		}
		i = j;
	}
	free(idx);
	return true;
}

struct ck_error *ck_crashes_collect(const struct ck_crash_opts *o, struct ck_crash **ret,
				    size_t *nr_ret, struct ck_crash_stats *stats)
{
	struct ck_crash *crashes = NULL;
	size_t nr = 0, cap = 0;
	struct ck_crash_stats st = { 0 };
	struct ck_error *err = NULL;
	/* The catalog: root's (it also caches the kernel index; a store that
	 * does not exist yet is made for it), or a user's own crashes. */
	struct ck_core_view view = { .store = o->store, .uid = (unsigned int)geteuid() };
	if (view.uid == 0) {
		err = ck_catalog_open(o->store, true, &view.cat);
		if (err) {
			ck_core_logf(o->log, o->log_arg, 4, "no catalog (%s): kernel dumps are "
				     "indexed again each time", ck_error_message(err));
			ck_error_destroy(err);
			err = NULL;
		}
	}
	/* Both kinds, always: they count for the groups whatever is shown. */
	if (view.cat || view.uid != 0) {
		err = collect_user(o, &view, &crashes, &nr, &cap);
		if (err && view.uid != 0 && err != &ck_error_nomem) {
			/* No store, or nothing of this user's in it: no crashes. */
			if (ck_error_errno(err) != ENOENT && ck_error_code(err) != CK_ERR_NOT_FOUND)
				ck_core_logf(o->log, o->log_arg, 4, "no userspace crashes: %s",
					     ck_error_message(err));
			ck_error_destroy(err);
			err = NULL;
		}
	}
	if (!err)
		err = ck_kdumps_collect(o, view.cat, &crashes, &nr, &cap, &st);
	ck_core_view_deinit(&view);
	if (!err && !count_groups(crashes, nr))
		err = &ck_error_nomem;
	if (err) {
		ck_crashes_destroy(crashes, nr);
		return err;
	}
	qsort(crashes, nr, sizeof(*crashes), newest_first);
	*ret = crashes;
	*nr_ret = nr;
	if (stats)
		*stats = st;
	return NULL;
}

/* ---- JSON (schema crashkit-list/1, docs/catalog.md) --------------------- */

static struct json_object *jtime(int64_t usec)
{
	char buf[40];
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return NULL;
	return json_object_new_string(buf);
}

static struct json_object *jstr_or_null(const char *s)
{
	return s[0] ? json_object_new_string(s) : NULL;
}

static void add(struct json_object *o, const char *key, struct json_object *v)
{
	json_object_object_add(o, key, v);
}

static struct json_object *crash_json(const struct ck_crash *c)
{
	struct json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	add(o, "kind", json_object_new_string(c->kernel ? "kernel" : "user"));
	add(o, "time", jtime(c->time_usec));
	add(o, "time_usec", json_object_new_int64(c->time_usec));
	add(o, "class", json_object_new_string(c->class_name));
	add(o, "title", json_object_new_string(c->title));
	add(o, "signature", jstr_or_null(c->signature));
	add(o, "signature_input", jstr_or_null(c->signature_input));
	add(o, "seen", json_object_new_int64(c->seen));
	add(o, "boots", json_object_new_int64(c->boots));
	add(o, "state", json_object_new_string(c->state));
	add(o, "reason", jstr_or_null(c->reason));
	add(o, "pid", c->pid >= 0 ? json_object_new_int64(c->pid) : NULL);
	add(o, "comm", jstr_or_null(c->comm));
	add(o, "boot", json_object_new_string(c->boot));
	add(o, "path", json_object_new_string(c->path));
	if (c->kernel) {
		add(o, "cpu", c->cpu >= 0 ? json_object_new_int64(c->cpu) : NULL);
		add(o, "message", jstr_or_null(c->message));
		struct json_object *cul = c->culprit[0] ? json_object_new_object() : NULL;
		if (cul) {
			add(cul, "function", json_object_new_string(c->culprit));
			add(cul, "module", jstr_or_null(c->module));
		}
		add(o, "culprit", cul);
		add(o, "release", jstr_or_null(c->release));
		add(o, "build_id", jstr_or_null(c->build_id));
		add(o, "uptime", c->uptime >= 0 ? json_object_new_int64(c->uptime) : NULL);
		add(o, "triage", jstr_or_null(c->triage));
	} else {
		add(o, "id", json_object_new_int64(c->id));
		add(o, "exe", json_object_new_string(c->exe));
		add(o, "uid", json_object_new_int64(c->uid));
		add(o, "signal", json_object_new_int64(c->signal));
	}
	return o;
}

/* One group per signature, in the order of its newest crash (crashes are
 * newest first): the newest's class and title, the first and last time. */
static struct json_object *groups_json(const struct ck_crash *crashes, size_t nr)
{
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; arr && i < nr; i++) {
		const struct ck_crash *c = &crashes[i];
		bool first_of_group = c->signature[0] != '\0';
		for (size_t k = 0; k < i && first_of_group; k++)
			first_of_group = strcmp(crashes[k].signature, c->signature) != 0;
		if (!first_of_group)
			continue;
		int64_t oldest = c->time_usec;
		bool kernel = false, user = false;
		for (size_t k = i; k < nr; k++) {
			if (strcmp(crashes[k].signature, c->signature))
				continue;
			oldest = crashes[k].time_usec;
			kernel |= crashes[k].kernel;
			user |= !crashes[k].kernel;
		}
		struct json_object *g = json_object_new_object();
		if (!g)
			break;
		add(g, "signature", json_object_new_string(c->signature));
		add(g, "kind", json_object_new_string(kernel && user ? "both" : kernel ? "kernel"
									 : "user"));
		add(g, "class", json_object_new_string(c->class_name));
		add(g, "title", json_object_new_string(c->title));
		add(g, "seen", json_object_new_int64(c->seen));
		add(g, "boots", json_object_new_int64(c->boots));
		add(g, "first", jtime(oldest));
		add(g, "last", jtime(c->time_usec));
		json_object_array_add(arr, g);
	}
	return arr;
}

char *ck_crashes_json(const struct ck_crash *crashes, size_t nr)
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	for (size_t i = 0; arr && i < nr; i++)
		json_object_array_add(arr, crash_json(&crashes[i]));
	if (o) {
		add(o, "schema", json_object_new_string("crashkit-list/1"));
		add(o, "crashes", arr);
		add(o, "groups", groups_json(crashes, nr));
	} else {
		json_object_put(arr);
	}
	return ck_core_json_take_string(o);
}
