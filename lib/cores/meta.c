/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the kernel's arguments and /proc/<pid> say about a crashing process.
 * Everything here is data chosen by the crashed program (comm, exe, cmdline):
 * it is stored, never used as a path.
 */
#include <dirent.h>
#include <elfutils/libdwelf.h>
#include <gelf.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>

#include "cores/cores.h"

static bool parse_int(const char *s, long long min, long long max, long long *ret)
{
	if (!s || !*s)
		return false;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*ret = v;
	return true;
}

struct ck_error *ck_core_args_parse(int argc, char **argv, struct ck_core_args *ret)
{
	struct ck_core_args a = { .pid = -1, .tid = -1, .uid = -1, .gid = -1, .signal = -1,
				  .time_sec = -1, .pidfd = -1, .dumpable = -1 };
	long long v;
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		const char *eq = strchr(arg, '=');
		if (!eq || eq - arg != 1)
			return ck_error_create(CK_ERR_INVALID,
					       "argument %d is not KEY=VALUE with a one-letter key",
					       i + 1);
		const char *val = eq + 1;
		bool ok = true;
		switch (arg[0]) {
		case 'P': ok = parse_int(val, 1, INT32_MAX, &v); a.pid = (int)v; break;
		case 'I': ok = parse_int(val, 1, INT32_MAX, &v); a.tid = (int)v; break;
		case 'u': ok = parse_int(val, 0, UINT32_MAX - 1, &v); a.uid = (int)v; break;
		case 'g': ok = parse_int(val, 0, UINT32_MAX - 1, &v); a.gid = (int)v; break;
		case 's': ok = parse_int(val, 1, 64, &v); a.signal = (int)v; break;
		case 't': ok = parse_int(val, 0, INT64_MAX / 1000000, &v); a.time_sec = v; break;
		case 'c':
			/* %c prints RLIM_INFINITY as the unsigned long it is. */
			if (*val) {
				uint64_t c;
				ok = ck_core_parse_size(val, &c);
				a.rlimit_core = c;
				a.have_rlimit = ok;
			}
			break;
		case 'F':
			/* Empty when the kernel predates %F (Linux 6.16). */
			if (*val) {
				ok = parse_int(val, 3, 1 << 20, &v);
				a.pidfd = (int)v;
			}
			break;
		case 'd':
			if (*val) {
				ok = parse_int(val, 0, 2, &v);
				a.dumpable = (int)v;
			}
			break;
		case 'e':
			snprintf(a.comm, sizeof(a.comm), "%s", val);
			break;
		case 'h':
			snprintf(a.hostname, sizeof(a.hostname), "%s", val);
			break;
		default:
			break;	/* i, E, d, ...: not needed, tolerated */
		}
		if (!ok)
			return ck_error_create(CK_ERR_INVALID, "bad value for %c= in argument %d",
					       arg[0], i + 1);
	}
	if (a.pid < 0 || a.uid < 0 || a.gid < 0 || a.signal < 0 || a.time_sec < 0)
		return ck_error_create(CK_ERR_INVALID,
				       "missing argument: P=%%P u=%%u g=%%g s=%%s t=%%t are required");
	if (a.tid < 0)
		a.tid = a.pid;
	*ret = a;
	return NULL;
}

/* The pid a pidfd names now, -1 once the process is gone (fdinfo "Pid:",
 * Linux 5.3). */
static int pidfd_pid(int pidfd)
{
	char path[64], *text = NULL;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	struct ck_error *err = ck_core_read_small(AT_FDCWD, path, 4096, &text, NULL);
	if (err) {
		ck_error_destroy(err);
		return -2;
	}
	int pid = -2;
	char *p = strstr(text, "\nPid:");
	if (p) {
		char *end;
		long v = strtol(p + 5, &end, 10);
		pid = (int)v;
	}
	free(text);
	return pid;
}

static void add_str(struct json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val ? val : ""));
}

static void add_file(struct json_object *o, int dirfd, const char *key, const char *path,
		     size_t max)
{
	char *text;
	size_t len;
	struct ck_error *err = ck_core_read_small(dirfd, path, max, &text, &len);
	if (err) {
		ck_error_destroy(err);
		return;
	}
	json_object_object_add(o, key, json_object_new_string_len(text, (int)len));
	if (len == max)
		json_object_object_add(o, "truncated_fields", json_object_new_string(key));
	free(text);
}

static char *read_link(int dirfd, const char *name)
{
	char buf[4096];
	ssize_t n = readlinkat(dirfd, name, buf, sizeof(buf) - 1);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

static char *first_line(int dirfd, const char *path)
{
	char *text;
	struct ck_error *err = ck_core_read_small(dirfd, path, 256, &text, NULL);
	if (err) {
		ck_error_destroy(err);
		return NULL;
	}
	text[strcspn(text, "\n")] = '\0';
	return text;
}

/* Namespaces that differ from init's (pid 1): a containerised process.
 * Where pid 1's are hidden from us (we run in a sandbox), our own: the pipe
 * handler is a child of kthreadd, in the initial namespaces. */
static void add_namespaces(struct json_object *o, int dirfd)
{
	char *probe = read_link(AT_FDCWD, "/proc/1/ns/mnt");
	bool init_visible = probe != NULL;
	free(probe);
	const char *ref = init_visible ? "/proc/1" : "/proc/self";
	add_str(o, "namespaces_reference", init_visible ? "init" : "handler");
	static const char *const kinds[] = { "mnt", "pid", "net", "uts", "ipc", "user", "cgroup",
					     "time" };
	struct json_object *differ = json_object_new_array();
	struct json_object *all = json_object_new_object();
	for (size_t i = 0; i < CK_ARRAY_SIZE(kinds); i++) {
		char path[32];
		snprintf(path, sizeof(path), "ns/%s", kinds[i]);
		char *mine = read_link(dirfd, path);
		snprintf(path, sizeof(path), "%s/ns/%s", ref, kinds[i]);
		char *init = read_link(AT_FDCWD, path);
		if (mine) {
			json_object_object_add(all, kinds[i], json_object_new_string(mine));
			if (init && strcmp(mine, init))
				json_object_array_add(differ, json_object_new_string(kinds[i]));
		}
		free(mine);
		free(init);
	}
	json_object_object_add(o, "namespaces", all);
	json_object_object_add(o, "namespaces_not_init", differ);
}

/* Container hints: cgroup path patterns of the usual runtimes, marker files
 * in the process's root, namespaces.  Hints, not proof: a name is a name. */
static void add_container_hints(struct json_object *o, int dirfd, const char *cgroup)
{
	static const struct { const char *needle, *what; } pats[] = {
		{ "/docker-", "docker" }, { "/docker/", "docker" }, { "/libpod-", "podman" },
		{ "/kubepods", "kubernetes" }, { "/containerd", "containerd" },
		{ "/cri-containerd-", "containerd" }, { "crio-", "cri-o" }, { "/lxc", "lxc" },
		{ "/machine.slice/", "systemd-nspawn or VM" }, { "/garden", "garden" },
	};
	struct json_object *hints = json_object_new_array();
	for (size_t i = 0; cgroup && i < CK_ARRAY_SIZE(pats); i++)
		if (strstr(cgroup, pats[i].needle)) {
			char h[80];
			snprintf(h, sizeof(h), "cgroup:%s", pats[i].what);
			json_object_array_add(hints, json_object_new_string(h));
		}
	static const char *const markers[] = { "root/.dockerenv", "root/run/.containerenv",
					       "root/.flatpak-info" };
	for (size_t i = 0; i < CK_ARRAY_SIZE(markers); i++) {
		struct stat st;
		/* "root" is the process's root (a magic link), the rest is
		 * resolved inside it without following a last symlink. */
		if (fstatat(dirfd, markers[i], &st, AT_SYMLINK_NOFOLLOW) == 0) {
			char h[64];
			snprintf(h, sizeof(h), "file:%s", markers[i] + 4);
			json_object_array_add(hints, json_object_new_string(h));
		}
	}
	char *env;
	size_t len;
	struct ck_error *err = ck_core_read_small(dirfd, "environ", 1 << 20, &env, &len);
	if (!err) {
		for (size_t i = 0; i < len; i += strlen(env + i) + 1)
			if (!strncmp(env + i, "container=", 10)) {
				char h[80];
				snprintf(h, sizeof(h), "environ:%.60s", env + i);
				json_object_array_add(hints, json_object_new_string(h));
			}
		free(env);
	}
	ck_error_destroy(err);
	json_object_object_add(o, "container_hints", hints);
}

/* NUL-separated environ as one string per variable. */
static void add_environ(struct json_object *o, int dirfd)
{
	char *env;
	size_t len;
	struct ck_error *err = ck_core_read_small(dirfd, "environ", 1 << 20, &env, &len);
	if (err) {
		ck_error_destroy(err);
		return;
	}
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < len;) {
		size_t n = strnlen(env + i, len - i);
		json_object_array_add(a, json_object_new_string_len(env + i, (int)n));
		i += n + 1;
	}
	json_object_object_add(o, "environ", a);
	free(env);
}

/* Build ids of the exe and every mapped object, read through
 * /proc/<pid>/map_files (root only): the very file that is mapped, even if
 * its path was replaced or deleted since. */
#define MAX_BUILD_IDS 512
static void add_build_ids(struct json_object *o, int dirfd, const char *maps)
{
	struct json_object *a = json_object_new_array();
	char **seen = NULL;
	size_t nseen = 0, cap = 0;
	elf_version(EV_CURRENT);
	for (const char *line = maps; line && *line && nseen < MAX_BUILD_IDS;) {
		const char *nl = strchr(line, '\n');
		size_t llen = nl ? (size_t)(nl - line) : strlen(line);
		char buf[4096];
		snprintf(buf, sizeof(buf), "%.*s", (int)CK_MIN(llen, sizeof(buf) - 1), line);
		line = nl ? nl + 1 : NULL;
		unsigned long long start, end, off;
		int pathpos = 0;
		if (sscanf(buf, "%llx-%llx %*s %llx %*s %*s %n", &start, &end, &off, &pathpos) < 3 ||
		    !pathpos || off != 0 || buf[pathpos] != '/')
			continue;
		const char *path = buf + pathpos;
		bool dup = false;
		for (size_t i = 0; i < nseen && !dup; i++)
			dup = !strcmp(seen[i], path);
		if (dup || !ck_vec_grow((void **)&seen, &cap, nseen, sizeof(*seen)))
			continue;
		seen[nseen] = strdup(path);
		if (!seen[nseen])
			continue;
		nseen++;
		char mf[80];
		snprintf(mf, sizeof(mf), "map_files/%llx-%llx", start, end);
		int fd = openat(dirfd, mf, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
		const void *id = NULL;
		ssize_t n = elf ? dwelf_elf_gnu_build_id(elf, &id) : -1;
		if (n > 0 && n <= 64) {
			char hex[129];
			for (ssize_t i = 0; i < n; i++)
				snprintf(hex + 2 * i, 3, "%02x", ((const unsigned char *)id)[i]);
			struct json_object *e = json_object_new_object();
			json_object_object_add(e, "path", json_object_new_string(path));
			json_object_object_add(e, "build_id", json_object_new_string(hex));
			json_object_array_add(a, e);
		}
		if (elf)
			elf_end(elf);
		close(fd);
	}
	for (size_t i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
	json_object_object_add(o, "build_ids", a);
}

/* What the kernel's arguments say. */
static void add_args(struct json_object *o, const struct ck_core_args *args)
{
	json_object_object_add(o, "pid", json_object_new_int(args->pid));
	json_object_object_add(o, "tid", json_object_new_int(args->tid));
	json_object_object_add(o, "uid", json_object_new_int64(args->uid));
	json_object_object_add(o, "gid", json_object_new_int64(args->gid));
	json_object_object_add(o, "signal", json_object_new_int(args->signal));
	if (args->time_sec >= 0)
		json_object_object_add(o, "time", json_object_new_int64(args->time_sec));
	if (args->have_rlimit)
		json_object_object_add(o, "rlimit_core",
				       json_object_new_uint64(args->rlimit_core));
	add_str(o, "comm", args->comm);
	add_str(o, "mode", args->mode ? args->mode : "pipe");
	if (args->dumpable >= 0)
		json_object_object_add(o, "dumpable", json_object_new_int(args->dumpable));
}

/* /proc/<pid> of the crashing process, pinned by a pidfd: while the pidfd
 * names a live process with this pid, /proc/<pid> is that process. */
struct proc {
	int pidfd;
	bool own_pidfd;
	int dirfd;
	const char *error;	/* why /proc is not to be trusted; NULL if it is */
};

static void proc_open(const struct ck_core_args *args, struct proc *p)
{
	*p = (struct proc){ .pidfd = args->pidfd };
	if (p->pidfd < 0) {
		p->pidfd = (int)syscall(SYS_pidfd_open, args->pid, 0);
		p->own_pidfd = p->pidfd >= 0;
	}
	char procpath[32];
	snprintf(procpath, sizeof(procpath), "/proc/%d", args->pid);
	p->dirfd = open(procpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->pidfd < 0)
		p->error = "no pidfd: process gone";
	else if (p->dirfd < 0)
		p->error = "/proc/<pid> not readable";
	else if (pidfd_pid(p->pidfd) != args->pid)
		p->error = "pidfd does not name this pid: process gone or pid reused";
}

static void proc_close(struct proc *p)
{
	if (p->dirfd >= 0)
		close(p->dirfd);
	if (p->own_pidfd)
		close(p->pidfd);
}

/* The command line, arguments joined by spaces; NULL if unreadable. */
static char *read_cmdline(int dirfd)
{
	char *c;
	size_t len;
	struct ck_error *err = ck_core_read_small(dirfd, "cmdline", 65536, &c, &len);
	if (err) {
		ck_error_destroy(err);
		return NULL;
	}
	for (size_t i = 0; i + 1 < len; i++)
		if (c[i] == '\0')
			c[i] = ' ';
	return c;
}

static void add_open_fds(struct json_object *o, int dirfd)
{
	int fdd = openat(dirfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fdd >= 0 ? fdopendir(fdd) : NULL;
	if (d) {
		int n = 0;
		for (struct dirent *de; (de = readdir(d));)
			n += de->d_name[0] != '.';
		closedir(d);
		json_object_object_add(o, "open_fds", json_object_new_int(n));
	} else if (fdd >= 0) {
		close(fdd);
	}
}

/* Files, links and hints of /proc/<pid> that need no reply. */
static void add_proc_files(struct json_object *o, int dirfd)
{
	char *cwd = read_link(dirfd, "cwd");
	add_str(o, "cwd", cwd);
	free(cwd);
	add_file(o, dirfd, "status", "status", 65536);
	add_file(o, dirfd, "limits", "limits", 65536);
	add_file(o, dirfd, "cgroup", "cgroup", 65536);
	add_file(o, dirfd, "maps", "maps", 1 << 20);
	add_environ(o, dirfd);
	char *cg = NULL, *maps = NULL;
	ck_error_destroy(ck_core_read_small(dirfd, "cgroup", 65536, &cg, NULL));
	ck_error_destroy(ck_core_read_small(dirfd, "maps", 1 << 20, &maps, NULL));
	add_container_hints(o, dirfd, cg);
	add_namespaces(o, dirfd);
	add_build_ids(o, dirfd, maps);
	free(cg);
	free(maps);
	char *mntns = read_link(dirfd, "ns/mnt");
	add_str(o, "mount_namespace", mntns);
	free(mntns);
	add_open_fds(o, dirfd);
}

/* What the record takes from /proc (NULL when unknown). */
struct proc_facts {
	char *exe, *cmdline, *comm;
};

static void add_proc(struct json_object *o, const struct ck_core_args *args, struct proc *p,
		     struct proc_facts *f)
{
	if (!p->error) {
		f->exe = read_link(p->dirfd, "exe");
		/* Socket mode has no %e. */
		if (!args->comm[0]) {
			f->comm = first_line(p->dirfd, "comm");
			add_str(o, "comm", f->comm);
		}
		f->cmdline = read_cmdline(p->dirfd);
		add_proc_files(o, p->dirfd);
		/* Everything above was read while the process lived. */
		if (pidfd_pid(p->pidfd) != args->pid)
			p->error = "process went away while /proc was read";
	}
	json_object_object_add(o, "proc_verified", json_object_new_boolean(!p->error));
	if (p->error)
		add_str(o, "proc_error", p->error);
	add_str(o, "exe", f->exe);
	add_str(o, "cmdline", f->cmdline);
}

/* The machine: boot id, hostname (%h, else ours), os-release, kernel. */
static void add_host(struct json_object *o, const struct ck_core_args *args, char **boot_id,
		     char *host, size_t host_size)
{
	*boot_id = first_line(AT_FDCWD, "/proc/sys/kernel/random/boot_id");
	add_str(o, "boot_id", *boot_id);
	struct utsname u;
	bool have_uts = uname(&u) == 0;
	snprintf(host, host_size, "%s",
		 args->hostname[0] ? args->hostname : have_uts ? u.nodename : "");
	add_str(o, "hostname", host);
	add_file(o, AT_FDCWD, "os_release", "/etc/os-release", 16384);
	if (have_uts)
		add_str(o, "kernel", u.release);
}

struct ck_error *ck_core_meta_collect(const struct ck_core_args *args,
				      struct ck_core_record *rec)
{
	struct json_object *o = json_object_new_object();
	if (!o)
		return &ck_error_nomem;
	add_args(o, args);
	struct proc p;
	struct proc_facts f = { 0 };
	proc_open(args, &p);
	add_proc(o, args, &p, &f);
	proc_close(&p);
	char *boot_id, host[65];
	add_host(o, args, &boot_id, host, sizeof(host));

	const char *js = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							 JSON_C_TO_STRING_NOSLASHESCAPE);
	rec->meta_json = js ? strdup(js) : NULL;
	rec->exe = ck_core_strdup0(f.exe);
	rec->cmdline = ck_core_strdup0(f.cmdline);
	rec->boot_id = ck_core_strdup0(boot_id);
	rec->hostname = ck_core_strdup0(host);
	rec->comm = ck_core_strdup0(args->comm[0] ? args->comm : f.comm);
	free(f.comm);
	free(f.exe);
	free(f.cmdline);
	free(boot_id);
	json_object_put(o);
	if (!rec->meta_json || !rec->exe || !rec->cmdline || !rec->boot_id || !rec->hostname ||
	    !rec->comm)
		return &ck_error_nomem;
	return NULL;
}
