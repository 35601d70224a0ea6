/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The dump directories of a target (docs/kdump.md "save"): listing them
 * (`crashkit kdump list`), keeping the newest N, and the final or failure
 * action once the save is over.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "capture/kdump_save.h"

bool ck_save_is_stamp(const char *n)
{
	static const char pat[] = "dddddddd-dddddd";
	size_t i = 0;
	for (; pat[i]; i++) {
		if (pat[i] == 'd' ? (n[i] < '0' || n[i] > '9') : n[i] != pat[i])
			return false;
	}
	if (!n[i])
		return true;
	if (n[i] != '-' || !n[i + 1] || strlen(n + i + 1) > 2)
		return false;
	for (i++; n[i]; i++) {
		if (n[i] < '0' || n[i] > '9')
			return false;
	}
	return true;
}

CK_DEFINE_VECTOR(name_vec, char *)

static int cmp_names(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	/* "STAMP" before "STAMP-2" before "STAMP-10" */
	size_t lx = strlen(x), ly = strlen(y);
	int c = strncmp(x, y, 15);
	if (c || lx == ly)
		return c ? c : strcmp(x, y);
	return lx < ly ? -1 : 1;
}

/* The stamp-named subdirectories of dir, sorted oldest first. */
static struct ck_error *stamps(const char *dir, struct name_vec *v)
{
	name_vec_init(v);
	DIR *d = opendir(dir);
	if (!d)
		return ck_error_create_errno(errno, "cannot open '%s'", dir);
	struct dirent *e;
	struct ck_error *err = NULL;
	while (!err && (e = readdir(d))) {
		if (!ck_save_is_stamp(e->d_name))
			continue;
		char *n = ck_strdup_printf("%s", e->d_name);
		if (!n || !name_vec_append(v, &n)) {
			free(n);
			err = &ck_error_nomem;
		}
	}
	closedir(d);
	if (!err && v->size)
		qsort(v->data, v->size, sizeof(*v->data), cmp_names);
	return err;
}

static void free_names(struct name_vec *v)
{
	for (size_t i = 0; i < v->size; i++)
		free(v->data[i]);
	name_vec_deinit(v);
}

/* Regular files of a dump directory, then the directory. */
static struct ck_error *remove_dump(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return ck_error_create_errno(errno, "cannot open '%s'", path);
	int dfd = dirfd(d);
	struct dirent *e;
	struct ck_error *err = NULL;
	while (!err && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (unlinkat(dfd, e->d_name, 0) < 0)
			err = ck_error_create_errno(errno, "cannot remove '%s/%s'", path, e->d_name);
	}
	closedir(d);
	if (!err && rmdir(path) < 0)
		err = ck_error_create_errno(errno, "cannot remove '%s'", path);
	return err;
}

struct ck_error *ck_save_keep(const char *base, unsigned int keep, const char *current,
			      unsigned int *removed_ret)
{
	struct name_vec v;
	struct ck_error *err = stamps(base, &v);
	*removed_ret = 0;
	size_t extra = !err && v.size > keep ? v.size - keep : 0;
	for (size_t i = 0; i < v.size && extra && !err; i++) {
		if (!strcmp(v.data[i], current))
			continue;
		char *p = ck_strdup_printf("%s/%s", base, v.data[i]);
		err = p ? remove_dump(p) : &ck_error_nomem;
		free(p);
		if (!err) {
			extra--;
			(*removed_ret)++;
		}
	}
	free_names(&v);
	return err;
}

/* ---- listing ---------------------------------------------------------------- */

#define INFO_MAX (1u << 20)

/* What info.json says: complete, crash time, release. */
static void read_info(const char *dir, struct ck_kdump_saved *s)
{
	char *path = ck_strdup_printf("%s/info.json", dir);
	struct stat st;
	if (!path || stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > INFO_MAX) {
		free(path);
		return;
	}
	json_object *o = json_object_from_file(path);
	free(path);
	json_object *v, *k;
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return;
	}
	if (json_object_object_get_ex(o, "complete", &v))
		s->complete = json_object_get_boolean(v);
	if (json_object_object_get_ex(o, "crash_time", &v))
		s->crash_time = json_object_get_int64(v);
	if (json_object_object_get_ex(o, "kernel", &k) && json_object_is_type(k, json_type_object) &&
	    json_object_object_get_ex(k, "release", &v) && json_object_is_type(v, json_type_string)) {
		char *r = ck_strdup_printf("%.64s", json_object_get_string(v));
		if (r) {
			free(s->release);
			s->release = r;
		}
	}
	json_object_put(o);
}

static struct ck_error *saved_one(const char *dir, const char *stamp, struct ck_kdump_saved *s)
{
	*s = (struct ck_kdump_saved){ 0 };
	s->dir = ck_strdup_printf("%s/%s", dir, stamp);
	s->stamp = ck_strdup_printf("%s", stamp);
	s->release = ck_strdup_printf("%s", "");
	if (!s->dir || !s->stamp || !s->release)
		return &ck_error_nomem;
	DIR *d = opendir(s->dir);
	if (d) {
		struct dirent *e;
		struct stat st;
		bool has_vmcore = false;
		while ((e = readdir(d))) {
			if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISREG(st.st_mode))
				s->bytes += (uint64_t)st.st_size;
			if (!strcmp(e->d_name, "vmcore"))
				has_vmcore = true;
		}
		closedir(d);
		s->complete = has_vmcore;
	}
	read_info(s->dir, s);
	return NULL;
}

void ck_kdump_saved_free(struct ck_kdump_saved *s, size_t nr)
{
	for (size_t i = 0; s && i < nr; i++) {
		free(s[i].dir);
		free(s[i].stamp);
		free(s[i].release);
	}
	free(s);
}

struct ck_error *ck_kdump_list(const char *dir, struct ck_kdump_saved **ret, size_t *nr_ret)
{
	struct name_vec v;
	struct ck_error *err = stamps(dir, &v);
	if (err) {
		free_names(&v);
		return err;
	}
	struct ck_kdump_saved *s = ck_calloc_array(v.size ? v.size : 1, sizeof(*s));
	if (!s)
		err = &ck_error_nomem;
	for (size_t i = 0; !err && i < v.size; i++)
		err = saved_one(dir, v.data[i], &s[i]);
	if (err) {
		ck_kdump_saved_free(s, v.size);
	} else {
		*ret = s;
		*nr_ret = v.size;
	}
	free_names(&v);
	return err;
}

/* ---- the final and failure actions ------------------------------------------ */

static void show_on_console(const char *file)
{
	int out = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	int in = file ? open(file, O_RDONLY | O_CLOEXEC) : -1;
	if (out >= 0 && in >= 0) {
		char buf[4096];
		size_t got;
		/* at most 64 KiB: the panic block is a few KiB */
		for (int i = 0; i < 16 && !ck_read_n(in, buf, sizeof(buf), &got) && got; i++)
			ck_write_n(out, buf, got, NULL);
	}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
}

struct ck_error *ck_kdump_action_run(enum ck_kdump_action a, const char *panic_file)
{
	sync();
	int cmd = RB_AUTOBOOT;
	switch (a) {
	case CK_KDUMP_ACTION_HALT:
		cmd = RB_HALT_SYSTEM;
		break;
	case CK_KDUMP_ACTION_POWEROFF:
		cmd = RB_POWER_OFF;
		break;
	case CK_KDUMP_ACTION_SHELL: {
		pid_t pid = fork();
		if (pid == 0) {
			execl("/bin/sh", "sh", (char *)NULL);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
		sync();
		break;
	}
	case CK_KDUMP_ACTION_DMESG_ONLY:
		show_on_console(panic_file);
		break;
	case CK_KDUMP_ACTION_REBOOT:
		break;
	}
	if (reboot(cmd) < 0)
		return ck_error_create_errno(errno, "%s: reboot(2)", ck_kdump_action_name(a));
	return NULL;
}
