/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `crashkit kdump save` (docs/kdump.md "save"): in the capture kernel,
 * TARGET/STAMP/ with the triage artifact first (dmesg.txt, panic.txt),
 * info.json saying the dump is not complete, the dump as vmcore.incomplete
 * renamed to vmcore when whole, info.json rewritten, the archive, hooks,
 * keep N.  The actions are ck_kdump_action_run's (save_list.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "capture/kdump_save.h"

#define HOOK_TIMEOUT_SEC 300
/* info.json is written first padded to this size, then rewritten in place:
 * on a disk the dump filled, the final one still fits. */
#define INFO_RESERVE 16384

struct save {
	const struct ck_kdump_conf *conf;
	const struct ck_kdump_save_opts *opts;
	struct ck_kdump_save_result *r;
	const char *vmcore;
	struct ck_dump *dump;
	struct ck_kernel *kernel;
	struct ck_save_dest dest;
	char *base;			/* local: the target directory */
	json_object *errors;		/* array of strings */
	int info_fd;			/* local info.json, kept for the rewrite */
	size_t dmesg_lines, panic_lines, dmesg_bytes;
	bool crash_time_known;
	char *archive;			/* its file name */
	uint64_t archive_bytes;
	int64_t saved_at;
};

static void say(struct save *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct save *s, const char *fmt, ...)
{
	if (!s->opts->log)
		return;
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	s->opts->log(s->opts->log_arg, buf);
}

/* Records err (destroyed) under what; returns false. */
static bool note(struct save *s, const char *what, struct ck_error *err)
{
	char *m = ck_strdup_printf("%s: %s", what, ck_error_message(err));
	ck_error_destroy(err);
	if (m) {
		json_object_array_add(s->errors, json_object_new_string(m));
		say(s, "error: %s", m);
	}
	free(m);
	return false;
}

/* ---- info.json ----------------------------------------------------------- */

static json_object *jstr(const char *v)
{
	return v && *v ? json_object_new_string(v) : NULL;
}

/* KEY=VALUE lines of os-release (quotes removed), or NULL. */
static json_object *os_release(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	json_object *o = json_object_new_object();
	char line[512];
	for (int n = 0; n < 100 && fgets(line, sizeof(line), f); n++) {
		line[strcspn(line, "\r\n")] = '\0';
		char *eq = strchr(line, '=');
		if (!eq || line[0] == '#' || eq == line)
			continue;
		*eq = '\0';
		char *v = eq + 1;
		size_t vl = strlen(v);
		if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
			v[vl - 1] = '\0';
			v++;
		}
		json_object_object_add(o, line, json_object_new_string(v));
	}
	fclose(f);
	return o;
}

static json_object *kernel_json(struct save *s, json_object *osr)
{
	json_object *k = json_object_new_object();
	struct ck_utsname u;
	struct ck_error *err = s->kernel ? ck_kernel_utsname(s->kernel, &u) : NULL;
	const char *release = NULL;
	if (s->kernel && !err) {
		release = u.release;
		json_object_object_add(k, "release", jstr(u.release));
		json_object_object_add(k, "version", jstr(u.version));
		json_object_object_add(k, "machine", jstr(u.machine));
		json_object_object_add(k, "nodename", jstr(u.nodename));
	} else if (s->kernel) {
		ck_error_destroy(err);
		release = ck_kernel_vmcoreinfo_str(s->kernel, "OSRELEASE");
		json_object_object_add(k, "release", jstr(release));
	}
	json_object_object_add(k, "build_id",
			       jstr(s->kernel ? ck_kernel_vmcoreinfo_str(s->kernel, "BUILD-ID") : NULL));
	/* Debian and Ubuntu name the package after the release */
	json_object *id = NULL, *like = NULL;
	bool deb = osr && ((json_object_object_get_ex(osr, "ID", &id) &&
			    (!strcmp(json_object_get_string(id), "debian") ||
			     !strcmp(json_object_get_string(id), "ubuntu"))) ||
			   (json_object_object_get_ex(osr, "ID_LIKE", &like) &&
			    strstr(json_object_get_string(like), "debian")));
	char *pkg = deb && release && *release ? ck_strdup_printf("linux-image-%s", release) : NULL;
	json_object_object_add(k, "package", jstr(pkg));
	free(pkg);
	return k;
}

static json_object *vmcore_json(struct save *s, bool final)
{
	const struct ck_kdump_conf *c = s->conf;
	const struct ck_capture_stats *st = &s->r->stats;
	json_object *v = json_object_new_object();
	bool remote = c->target_kind >= CK_KDUMP_TARGET_SSH;
	json_object_object_add(v, "file", json_object_new_string(s->r->complete ? "vmcore"
								   : "vmcore.incomplete"));
	json_object_object_add(v, "input", json_object_new_string(s->vmcore));
	json_object_object_add(v, "format", json_object_new_string(c->elf ? "elf" : "kdump"));
	/* remote dumps are makedumpfile's flattened stream (crashkit capture -R) */
	json_object_object_add(v, "flattened", json_object_new_boolean(remote));
	json_object_object_add(v, "codec", json_object_new_string(c->elf ? "none"
							      : ck_codec_name(c->codec)));
	json_object_object_add(v, "dump_level", json_object_new_int(c->dump_level));
	json_object_object_add(v, "bytes", json_object_new_int64((int64_t)s->r->vmcore_bytes));
	if (final && st->threads) {
		json_object_object_add(v, "pages_ram", json_object_new_int64((int64_t)st->pages_ram));
		json_object_object_add(v, "pages_kept", json_object_new_int64((int64_t)st->kept));
		json_object_object_add(v, "pages_unreadable",
				       json_object_new_int64((int64_t)st->unreadable));
		json_object *ex = json_object_new_object();
		for (int i = 0; i < CK_PAGE_NR_CLASSES; i++)
			json_object_object_add(ex, ck_page_class_name(i),
					       json_object_new_int64((int64_t)st->excluded[i]));
		json_object_object_add(v, "excluded", ex);
		json_object_object_add(v, "filter_note", jstr(st->filter_note));
	}
	return v;
}

static char *info_text(struct save *s, bool final)
{
	json_object *o = json_object_new_object();
	json_object *osr = os_release(s->conf->os_release);
	json_object_object_add(o, "crashkit", json_object_new_string(CRASHKIT_VERSION));
	json_object_object_add(o, "stamp", json_object_new_string(s->r->stamp));
	json_object_object_add(o, "crash_time", json_object_new_int64(s->r->crash_time));
	json_object_object_add(o, "crash_time_source",
			       json_object_new_string(s->crash_time_known ? "vmcoreinfo" : "save"));
	json_object_object_add(o, "saved_at", json_object_new_int64(s->saved_at));
	json_object_object_add(o, "state", json_object_new_string(!final ? "saving"
								  : s->r->complete ? "complete" : "failed"));
	json_object_object_add(o, "complete", json_object_new_boolean(final && s->r->complete));
	json_object_object_add(o, "target", json_object_new_string(s->conf->target));
	json_object_object_add(o, "dir", json_object_new_string(s->r->dir));
	json_object_object_add(o, "kernel", kernel_json(s, osr));
	json_object_object_add(o, "os_release", osr);
	json_object_object_add(o, "os_release_file", json_object_new_string(s->conf->os_release));
	json_object *t = json_object_new_object();
	json_object_object_add(t, "ok", json_object_new_boolean(s->r->triage_ok));
	json_object_object_add(t, "dmesg", json_object_new_string("dmesg.txt"));
	json_object_object_add(t, "dmesg_lines", json_object_new_int64((int64_t)s->dmesg_lines));
	json_object_object_add(t, "panic", json_object_new_string("panic.txt"));
	json_object_object_add(t, "panic_lines", json_object_new_int64((int64_t)s->panic_lines));
	json_object_object_add(o, "triage", t);
	json_object_object_add(o, "vmcore", vmcore_json(s, final));
	json_object_object_add(o, "archive", jstr(s->archive));
	json_object_object_add(o, "errors", json_object_get(s->errors));
	const char *txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							 JSON_C_TO_STRING_SPACED |
							 JSON_C_TO_STRING_NOSLASHESCAPE);
	char *ret = txt ? ck_strdup_printf("%s\n", txt) : NULL;
	json_object_put(o);
	return ret;
}

/* The first info.json: padded, fsynced, renamed, its fd kept. */
static struct ck_error *info_first_local(struct save *s, const char *txt)
{
	char *path = ck_strdup_printf("%s/info.json", s->dest.dir);
	char *tmp = ck_strdup_printf("%s/info.json.incomplete", s->dest.dir);
	char *buf = calloc(1, INFO_RESERVE);
	struct ck_error *err = NULL;
	if (!path || !tmp || !buf) {
		err = &ck_error_nomem;
		goto out;
	}
	size_t len = strlen(txt);
	memset(buf, ' ', INFO_RESERVE);
	memcpy(buf, txt, len < INFO_RESERVE ? len : INFO_RESERVE);
	buf[INFO_RESERVE - 1] = '\n';
	int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = ck_error_create_errno(errno, "cannot create '%s'", tmp);
		goto out;
	}
	err = ck_write_all(fd, buf, len < INFO_RESERVE ? INFO_RESERVE : len, tmp);
	if (!err && fsync(fd) < 0 && errno != EINVAL)
		err = ck_error_create_errno(errno, "fsync '%s'", tmp);
	if (!err && rename(tmp, path) < 0)
		err = ck_error_create_errno(errno, "cannot rename '%s'", tmp);
	if (err) {
		close(fd);
		unlink(tmp);
	} else {
		s->info_fd = fd;
	}
out:
	free(path);
	free(tmp);
	free(buf);
	return err;
}

/* The final info.json over the first: written in place, then cut. */
static struct ck_error *info_final_local(struct save *s, const char *txt)
{
	size_t len = strlen(txt);
	if (s->info_fd < 0) {
		struct ck_error *err = ck_save_put(&s->dest, "info.json", txt, len);
		return err;
	}
	char *path = ck_strdup_printf("%s/info.json", s->dest.dir);
	if (!path)
		return &ck_error_nomem;
	struct ck_error *err = ck_pwrite_all(s->info_fd, txt, len, 0, path);
	if (!err && ftruncate(s->info_fd, (off_t)len) < 0)
		err = ck_error_create_errno(errno, "truncating '%s'", path);
	if (!err && fsync(s->info_fd) < 0 && errno != EINVAL)
		err = ck_error_create_errno(errno, "fsync '%s'", path);
	free(path);
	return err;
}

static void write_info(struct save *s, bool final)
{
	char *txt = info_text(s, final);
	if (!txt) {
		note(s, "info.json", &ck_error_nomem);
		return;
	}
	struct ck_error *err;
	if (s->conf->target_kind >= CK_KDUMP_TARGET_SSH)
		err = ck_save_put(&s->dest, "info.json", txt, strlen(txt));
	else if (!final)
		err = info_first_local(s, txt);
	else
		err = info_final_local(s, txt);
	free(txt);
	if (err)
		note(s, "info.json", err);
}

/* ---- the steps ------------------------------------------------------------- */

static void open_vmcore(struct save *s)
{
	const struct ck_open_opts oo = { .kernel = true };
	struct ck_error *err = ck_open(&s->vmcore, 1, &oo, &s->dump, &s->kernel);
	if (err) {
		s->dump = NULL;
		s->kernel = NULL;
		note(s, s->vmcore, err);
		return;
	}
	int64_t t;
	err = ck_kernel_crash_time(s->kernel, &t);
	if (!err && t > 0) {
		s->r->crash_time = t;
		s->crash_time_known = true;
	}
	ck_error_destroy(err);
}

static void triage(struct save *s)
{
	if (!s->kernel)
		return;
	struct ck_strbuf dm = CK_STRBUF_INIT, pa = CK_STRBUF_INIT;
	struct ck_error *err = ck_save_dmesg(s->kernel, &dm, &s->dmesg_lines);
	bool ok = true;
	if (err)
		ok = note(s, "dmesg", err);
	s->dmesg_bytes = dm.len;
	/* what was read before an error is still worth having */
	if (dm.len || ok) {
		err = ck_save_put(&s->dest, "dmesg.txt", dm.buf ? dm.buf : "", dm.len);
		if (err)
			ok = note(s, "dmesg.txt", err);
	}
	err = ck_save_panic(dm.buf ? dm.buf : "", dm.len, &pa, &s->panic_lines);
	if (!err && !s->panic_lines)
		ck_strbuf_adds(&pa, "(no Oops, BUG or panic message in the log)\n");
	if (!err && pa.failed)
		err = &ck_error_nomem;
	if (!err)
		err = ck_save_put(&s->dest, "panic.txt", pa.buf, pa.len);
	if (err)
		ok = note(s, "panic.txt", err);
	s->r->triage_ok = ok;
	say(s, "triage: dmesg.txt %zu lines, panic.txt %zu lines", s->dmesg_lines, s->panic_lines);
	ck_strbuf_deinit(&dm);
	ck_strbuf_deinit(&pa);
}

static void capture_opts(const struct save *s, struct ck_capture_opts *o)
{
	const struct ck_kdump_conf *c = s->conf;
	*o = (struct ck_capture_opts){
		.codec = c->elf ? CK_CODEC_NONE : c->codec,
		.dump_level = c->dump_level,
		.elf = c->elf,
		.out_fd = -1,
		.nr_threads = c->threads,
	};
}

static void dump_local(struct save *s)
{
	struct ck_capture_opts o;
	capture_opts(s, &o);
	char *out = ck_strdup_printf("%s/vmcore", s->dest.dir);
	if (!out) {
		note(s, "vmcore", &ck_error_nomem);
		return;
	}
	struct ck_error *err = ck_capture(s->vmcore, out, &o, &s->r->stats);
	s->r->complete = !err;
	struct stat st;
	char *tmp = ck_strdup_printf("%s.incomplete", out);
	if (stat(err ? (tmp ? tmp : out) : out, &st) == 0)
		s->r->vmcore_bytes = (uint64_t)st.st_size;
	free(tmp);
	if (err)
		note(s, "vmcore", err);
	free(out);
}

static void dump_remote(struct save *s)
{
	struct ck_capture_opts o;
	capture_opts(s, &o);
	struct ck_save_stream st;
	struct ck_error *err = ck_save_stream_open(&s->dest, "vmcore", &st);
	if (err) {
		note(s, "vmcore", err);
		return;
	}
	o.flattened = true;
	o.out_fd = st.fd;
	err = ck_capture(s->vmcore, NULL, &o, &s->r->stats);
	s->r->vmcore_bytes = s->r->stats.bytes_out;
	struct ck_error *cerr = ck_save_stream_close(&s->dest, "vmcore", &st, !err);
	if (err)
		ck_error_destroy(cerr);
	else
		err = cerr;
	s->r->complete = !err;
	if (err)
		note(s, "vmcore", err);
}

static void hooks(struct save *s, char *const *progs, size_t nr, const char *what)
{
	for (size_t i = 0; i < nr; i++) {
		struct ck_error *err = ck_save_run_hook(progs[i], s->r->dir, HOOK_TIMEOUT_SEC);
		if (err)
			note(s, what, err);
		else
			say(s, "%s '%s' done", what, progs[i]);
	}
}

/* After the dump: info.json final, then archive (which holds it) and
 * keep; info.json again if they failed. */
static void finish_local(struct save *s)
{
	const struct ck_kdump_conf *c = s->conf;
	bool arc = c->archive != CK_KDUMP_ARCHIVE_NONE && s->r->complete;
	if (arc)
		s->archive = ck_strdup_printf("%s.%s", s->r->stamp,
					      c->archive == CK_KDUMP_ARCHIVE_TAR_ZST ? "tar.zst" : "tar.gz");
	write_info(s, true);
	size_t nr_errors = json_object_array_length(s->errors);
	if (arc) {
		char *name = NULL;
		struct ck_error *err = ck_save_archive(s->dest.dir, s->r->stamp, c->archive, &name,
						       &s->archive_bytes);
		if (err) {
			free(s->archive);
			s->archive = NULL;
			note(s, "archive", err);
		} else {
			say(s, "archive %s: %llu bytes", name, (unsigned long long)s->archive_bytes);
		}
		free(name);
	}
	if (c->keep) {
		unsigned int removed = 0;
		struct ck_error *err = ck_save_keep(s->base, c->keep, s->r->stamp, &removed);
		if (err)
			note(s, "keep", err);
		else if (removed)
			say(s, "keep %u: removed %u older dumps", c->keep, removed);
	}
	if (json_object_array_length(s->errors) != nr_errors)
		write_info(s, true);
}

static void save_steps(struct save *s)
{
	const struct ck_kdump_conf *c = s->conf;
	char stamp[32];
	struct tm tm;
	time_t t = (time_t)s->r->crash_time;
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", gmtime_r(&t, &tm));
	struct ck_error *err = ck_save_mkdir(&s->dest, s->base, stamp);
	if (!(s->r->stamp = ck_strdup_printf("%s", stamp)) && !err)
		err = &ck_error_nomem;
	if (err) {
		note(s, "dump directory", err);
		return;
	}
	s->r->dir = ck_save_dest_name(&s->dest);
	say(s, "saving to %s", s->r->dir ? s->r->dir : "?");
	triage(s);
	write_info(s, false);
	hooks(s, c->pre_hooks, c->nr_pre_hooks, "pre_hook");
	if (c->target_kind >= CK_KDUMP_TARGET_SSH)
		dump_remote(s);
	else
		dump_local(s);
	say(s, "vmcore: %s, %llu bytes", s->r->complete ? "complete" : "INCOMPLETE",
	    (unsigned long long)s->r->vmcore_bytes);
	if (c->target_kind < CK_KDUMP_TARGET_SSH)
		finish_local(s);
	else
		write_info(s, true);
	hooks(s, c->post_hooks, c->nr_post_hooks, "post_hook");
}

static char *join_errors(json_object *errors)
{
	struct ck_strbuf sb = CK_STRBUF_INIT;
	size_t n = json_object_array_length(errors);
	for (size_t i = 0; i < n; i++) {
		if (i)
			ck_strbuf_adds(&sb, "; ");
		ck_strbuf_adds(&sb, json_object_get_string(json_object_array_get_idx(errors, i)));
	}
	return ck_strbuf_detach(&sb, NULL);
}

struct ck_error *ck_kdump_save(const struct ck_kdump_conf *conf,
			       const struct ck_kdump_save_opts *opts,
			       struct ck_kdump_save_result *ret)
{
	static const struct ck_kdump_save_opts no_opts;
	struct save s = {
		.conf = conf,
		.opts = opts ? opts : &no_opts,
		.r = ret,
		.info_fd = -1,
		.dest = { .conf = conf },
	};
	memset(ret, 0, sizeof(*ret));
	s.vmcore = s.opts->vmcore ? s.opts->vmcore : "/proc/vmcore";
	/* no memory to save: no directory either */
	if (access(s.vmcore, R_OK) < 0)
		return ck_error_create_errno(errno, "cannot read '%s'", s.vmcore);
	s.saved_at = (int64_t)time(NULL);
	ret->crash_time = s.saved_at;
	s.errors = json_object_new_array();
	s.base = conf->target_kind >= CK_KDUMP_TARGET_SSH ? ck_strdup_printf("%s", conf->path)
							  : ck_kdump_conf_local_dir(conf);
	if (!s.errors || !s.base) {
		json_object_put(s.errors);
		free(s.base);
		return &ck_error_nomem;
	}
	open_vmcore(&s);
	save_steps(&s);
	ck_kernel_destroy(s.kernel);
	ck_dump_destroy(s.dump);
	if (s.info_fd >= 0)
		close(s.info_fd);
	ret->errors = join_errors(s.errors);
	struct ck_error *err = NULL;
	if (!ret->complete)
		err = ck_error_create(CK_ERR_OS, "%s: %s", ret->dir ? ret->dir : s.base,
				      ret->errors && *ret->errors ? ret->errors : "the dump is not complete");
	json_object_put(s.errors);
	free(s.dest.dir);
	free(s.base);
	free(s.archive);
	return err;
}

void ck_kdump_save_result_deinit(struct ck_kdump_save_result *r)
{
	free(r->dir);
	free(r->stamp);
	free(r->errors);
	memset(r, 0, sizeof(*r));
}
