/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crashkit cores: the core_pattern handler and a coredumpctl over its catalog. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tools.h"

#define CK_MIN(a, b) ((a) < (b) ? (a) : (b))

static void usage(FILE *f)
{
	fprintf(f,
		"usage: crashkit cores [--store DIR] [--config FILE] COMMAND [ARGS]\n"
		"\n"
		"  list [--json] [--since T] [--until T] [--uid UID] [--signal SIG] [MATCH]\n"
		"                               crashes in the catalog, newest first\n"
		"  info [--json] [MATCH]        metadata, backtrace, modules of the newest match\n"
		"  dump -o FILE [MATCH]         write the decompressed core (- for stdout)\n"
		"  debug [--bt] [-e CMD]... [MATCH]  gdb on a decompressed temporary copy\n"
		"  backtrace CORE [EXE]         every thread of any core file (libdwfl)\n"
		"  rm [--all] MATCH             delete the newest match (or all) and its files\n"
		"  vacuum [--max-use SIZE] [--keep-free SIZE] [--keep-per-exe N]\n"
		"                               apply the store limits now\n"
		"  install [--socket] | uninstall | check  set, restore, explain core_pattern\n"
		"  serve [--socket PATH]        the socket-mode receiver (Linux >= 6.16)\n"
		"  handle [--config=FILE] P=%%P u=%%u g=%%g s=%%s t=%%t [c=%%c F=%%F I=%%I h=%%h e=%%e]\n"
		"                               the core_pattern handler (core on stdin)\n"
		"\n"
		"MATCH is a PID, a COMM, an exe path, a signature or #ID; the newest wins.\n"
		"T is EPOCH, @EPOCH, -N[smhd] (ago), YYYY-MM-DD or 'YYYY-MM-DD HH:MM[:SS]'.\n"
		"A non-root user sees only their own crashes.\n"
		"The config defaults to %s (or $CRASHKIT_CORES_CONFIG), the store to\n"
		"its 'store' key or %s (or $CRASHKIT_CORES_STORE).  See docs/cores.md.\n",
		CK_CORE_CONFIG_DEFAULT, CK_CORE_STORE_DEFAULT);
}

struct ctx {
	struct ck_core_policy policy;
	const char *config;
	char *store_opt;
};

static const char *store_of(struct ctx *c)
{
	if (c->store_opt)
		return c->store_opt;
	return c->policy.store ? c->policy.store : CK_CORE_STORE_DEFAULT;
}

static struct ck_error *load_policy(struct ctx *c, const char *config, bool use_env)
{
	ck_core_policy_init(&c->policy);
	bool missing_ok = false;
	if (!config && use_env)
		config = getenv("CRASHKIT_CORES_CONFIG");
	if (!config) {
		config = CK_CORE_CONFIG_DEFAULT;
		missing_ok = true;
	}
	c->config = config;
	struct ck_error *err = ck_core_policy_load(&c->policy, config, missing_ok);
	if (err)
		return err;
	if (!c->store_opt && use_env && getenv("CRASHKIT_CORES_STORE")) {
		c->store_opt = strdup(getenv("CRASHKIT_CORES_STORE"));
		if (!c->store_opt)
			return &ck_error_nomem;
	}
	if (c->store_opt) {
		free(c->policy.store);
		c->policy.store = strdup(c->store_opt);
		if (!c->policy.store)
			return &ck_error_nomem;
	}
	return NULL;
}

/* ---- handle ----------------------------------------------------------- */

/* The handler has no terminal: say it on stderr and in the kernel log. */
static void handler_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void handler_log(int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if (*p == '\n' || (unsigned char)*p < 0x20)
			*p = ' ';
	fprintf(stderr, "crashkit cores handle: %s\n", msg);
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0) {
		char line[600];
		int n = snprintf(line, sizeof(line), "<%d>crashkit-cores: %s\n", level, msg);
		if (n > 0 && write(fd, line, CK_MIN((size_t)n, sizeof(line) - 1)) < 0)
			n = 0;
		close(fd);
	}
}

static int cmd_handle(int argc, char **argv)
{
	struct ctx c = { 0 };
	const char *config = NULL;
	int i = 1;
	for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strncmp(argv[i], "--config=", 9)) {
			config = argv[i] + 9;
		} else {
			handler_log(3, "unknown option '%.64s'", argv[i]);
			return CK_EXIT_USAGE;
		}
	}
	/* No environment is trusted here: the kernel gives none anyway. */
	struct ck_error *err = load_policy(&c, config, false);
	if (err) {
		handler_log(3, "config: %s; using defaults", ck_error_message(err));
		ck_error_destroy(err);
		ck_core_policy_deinit(&c.policy);
		ck_core_policy_init(&c.policy);
	}
	struct ck_core_record rec;
	err = ck_core_handle(&c.policy, argc - i, argv + i, STDIN_FILENO, &rec);
	ck_core_policy_deinit(&c.policy);
	if (err) {
		handler_log(3, "%s", ck_error_message(err));
		ck_error_destroy(err);
		return CK_EXIT_ERROR;
	}
	handler_log(6, "pid %d (%.32s) signal %d: %s %s%s%s", rec.pid, rec.comm, rec.signal,
		    rec.name, rec.state, rec.reason[0] ? ": " : "", rec.reason);
	ck_core_record_deinit(&rec);
	return CK_EXIT_OK;
}

/* ---- catalog commands ------------------------------------------------- */

static void fmt_time(int64_t usec, char *buf, size_t size)
{
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
}

static struct json_object *record_json(const struct ck_core_record *r, bool full)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(r->id));
	json_object_object_add(o, "name", json_object_new_string(r->name));
	json_object_object_add(o, "time_usec", json_object_new_int64(r->time_usec));
	json_object_object_add(o, "pid", json_object_new_int(r->pid));
	json_object_object_add(o, "tid", json_object_new_int(r->tid));
	json_object_object_add(o, "uid", json_object_new_int64(r->uid));
	json_object_object_add(o, "gid", json_object_new_int64(r->gid));
	json_object_object_add(o, "signal", json_object_new_int(r->signal));
	json_object_object_add(o, "comm", json_object_new_string(r->comm));
	json_object_object_add(o, "exe", json_object_new_string(r->exe));
	json_object_object_add(o, "signature", json_object_new_string(r->signature));
	json_object_object_add(o, "state", json_object_new_string(r->state));
	json_object_object_add(o, "reason", json_object_new_string(r->reason));
	json_object_object_add(o, "core_file", json_object_new_string(r->core_file));
	json_object_object_add(o, "core_size", json_object_new_uint64(r->core_size));
	json_object_object_add(o, "stored_size", json_object_new_uint64(r->stored_size));
	json_object_object_add(o, "truncated", json_object_new_boolean(r->truncated));
	if (full) {
		json_object_object_add(o, "cmdline", json_object_new_string(r->cmdline));
		json_object_object_add(o, "hostname", json_object_new_string(r->hostname));
		json_object_object_add(o, "boot_id", json_object_new_string(r->boot_id));
		json_object_object_add(o, "backtrace", json_object_new_string(r->backtrace));
		json_object_object_add(o, "modules", json_object_new_string(r->modules));
		struct json_object *meta = json_tokener_parse(r->meta_json);
		if (meta)
			json_object_object_add(o, "meta", meta);
	}
	return o;
}

/* Printable copy of an untrusted name: control bytes become '?'. */
static void safe(const char *s, char *buf, size_t size)
{
	size_t i = 0;
	for (; s[i] && i + 1 < size; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	buf[i] = '\0';
}

static struct ck_error *find(struct ctx *c, const char *match, struct ck_catalog **cat_ret,
			     struct ck_core_record **recs, size_t *nr)
{
	/* The catalog is root's; other users read their own copies. */
	if (geteuid() != 0) {
		*cat_ret = NULL;
		return ck_core_user_find(store_of(c), (unsigned int)geteuid(), match, recs, nr);
	}
	struct ck_catalog *cat;
	struct ck_error *err = ck_catalog_open(store_of(c), false, &cat);
	if (err)
		return err;
	err = ck_catalog_find(cat, match, recs, nr);
	if (err) {
		ck_catalog_destroy(cat);
		return err;
	}
	*cat_ret = cat;
	return NULL;
}

/* EPOCH, @EPOCH, -N[smhd] (ago), YYYY-MM-DD, "YYYY-MM-DD HH:MM[:SS]" (local). */
static bool parse_time(const char *s, int64_t *usec)
{
	char *end;
	if (s[0] == '@' || (s[0] >= '0' && s[0] <= '9' && !strchr(s, '-'))) {
		errno = 0;
		long long v = strtoll(s + (s[0] == '@'), &end, 10);
		if (errno || *end || end == s + (s[0] == '@'))
			return false;
		*usec = (int64_t)v * 1000000;
		return true;
	}
	if (s[0] == '-') {
		errno = 0;
		long long v = strtoll(s + 1, &end, 10);
		long long unit = !strcmp(end, "s") || !*end ? 1 : !strcmp(end, "m") ? 60
				 : !strcmp(end, "h") ? 3600 : !strcmp(end, "d") ? 86400 : 0;
		if (errno || end == s + 1 || !unit || v < 0)
			return false;
		*usec = ((int64_t)time(NULL) - v * unit) * 1000000;
		return true;
	}
	static const char *const fmts[] = { "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d" };
	for (size_t k = 0; k < sizeof(fmts) / sizeof(fmts[0]); k++) {
		struct tm tm = { .tm_isdst = -1 };
		const char *e = strptime(s, fmts[k], &tm);
		if (e && !*e) {
			*usec = (int64_t)mktime(&tm) * 1000000;
			return true;
		}
	}
	return false;
}

static bool parse_signal(const char *s, int *ret)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (!*end && end != s && v > 0 && v < 65) {
		*ret = (int)v;
		return true;
	}
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (int k = 1; k < 65; k++) {
		const char *abbrev = sigabbrev_np(k);
		if (abbrev && !strcasecmp(abbrev, s)) {
			*ret = k;
			return true;
		}
	}
	return false;
}

static int cmd_list(struct ctx *c, int argc, char **argv)
{
	bool json = false;
	struct ck_core_filter f;
	ck_core_filter_init(&f);
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(opt, "--json")) {
			json = true;
		} else if (!strcmp(opt, "--since") && val) {
			if (!parse_time(val, &f.since_usec))
				return ck_usage_error("cores list", "bad time '%s'", val);
			i++;
		} else if (!strcmp(opt, "--until") && val) {
			if (!parse_time(val, &f.until_usec))
				return ck_usage_error("cores list", "bad time '%s'", val);
			i++;
		} else if (!strcmp(opt, "--uid") && val) {
			char *end;
			long v = strtol(val, &end, 10);
			if (*end || end == val || v < 0 || v > INT32_MAX)
				return ck_usage_error("cores list", "bad uid '%s'", val);
			f.uid = (int)v;
			i++;
		} else if (!strcmp(opt, "--signal") && val) {
			if (!parse_signal(val, &f.signal))
				return ck_usage_error("cores list", "bad signal '%s'", val);
			i++;
		} else {
			return ck_usage_error("cores list", "unknown option '%s'", opt);
		}
	}
	if (argc - i > 1)
		return ck_usage_error("cores list", "at most one MATCH");
	struct ck_catalog *cat;
	struct ck_core_record *recs;
	size_t nr;
	struct ck_error *err = find(c, i < argc ? argv[i] : NULL, &cat, &recs, &nr);
	if (err)
		return ck_report(err);
	ck_core_records_filter(recs, &nr, &f);
	if (json) {
		struct json_object *a = json_object_new_array();
		for (size_t k = 0; k < nr; k++)
			json_object_array_add(a, record_json(&recs[k], false));
		printf("%s\n", json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(a);
	} else {
		printf("%-5s %-19s %7s %5s %3s %-13s %10s %-16s %s\n", "ID", "TIME", "PID", "UID",
		       "SIG", "STATE", "SIZE", "SIGNATURE", "EXE");
		for (size_t k = 0; k < nr; k++) {
			char t[32], exe[256];
			fmt_time(recs[k].time_usec, t, sizeof(t));
			safe(recs[k].exe[0] ? recs[k].exe : recs[k].comm, exe, sizeof(exe));
			printf("%-5lld %-19s %7d %5d %3d %-13s %10" PRIu64 " %-16s %s\n",
			       (long long)recs[k].id, t, recs[k].pid, recs[k].uid, recs[k].signal,
			       recs[k].state, recs[k].core_size,
			       recs[k].signature[0] ? recs[k].signature : "-", exe);
		}
	}
	ck_core_records_destroy(recs, nr);
	ck_catalog_destroy(cat);
	return CK_EXIT_OK;
}

/* Opens the catalog and picks the newest match. */
static int pick(struct ctx *c, const char *cmd, const char *match, struct ck_catalog **cat,
		struct ck_core_record **recs, size_t *nr)
{
	struct ck_error *err = find(c, match, cat, recs, nr);
	if (err)
		return ck_report(err);
	if (*nr == 0) {
		ck_core_records_destroy(*recs, *nr);
		ck_catalog_destroy(*cat);
		fprintf(stderr, "crashkit: error: cores %s: no crash matches '%s'\n", cmd,
			match ? match : "");
		return CK_EXIT_ERROR;
	}
	return CK_EXIT_OK;
}

static int cmd_info(struct ctx *c, int argc, char **argv)
{
	bool json = false;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else
			return ck_usage_error("cores info", "unknown option '%s'", argv[i]);
	}
	if (argc - i > 1)
		return ck_usage_error("cores info", "at most one MATCH");
	struct ck_catalog *cat;
	struct ck_core_record *recs;
	size_t nr;
	int rc = pick(c, "info", i < argc ? argv[i] : NULL, &cat, &recs, &nr);
	if (rc)
		return rc;
	const struct ck_core_record *r = &recs[0];
	unsigned int seen = 0;
	struct ck_core_record *same = NULL;
	size_t nsame = 0;
	if (r->signature[0] && cat && !ck_catalog_find(cat, r->signature, &same, &nsame))
		seen = (unsigned int)nsame;
	else if (r->signature[0] && !cat &&
		 !ck_core_user_find(store_of(c), (unsigned int)geteuid(), r->signature, &same, &nsame))
		seen = (unsigned int)nsame;
	ck_core_records_destroy(same, nsame);
	if (json) {
		struct json_object *o = record_json(r, true);
		json_object_object_add(o, "signature_seen", json_object_new_int(seen));
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		char t[32], buf[4096];
		fmt_time(r->time_usec, t, sizeof(t));
		printf("           ID: #%lld (%s)\n", (long long)r->id, r->name);
		printf("         Time: %s\n", t);
		printf("          PID: %d (TID %d)\n", r->pid, r->tid);
		printf("      UID/GID: %d/%d\n", r->uid, r->gid);
		printf("       Signal: %d (%s)\n", r->signal, strsignal(r->signal));
		safe(r->comm, buf, sizeof(buf));
		printf("         Comm: %s\n", buf);
		safe(r->exe, buf, sizeof(buf));
		printf("   Executable: %s\n", buf);
		safe(r->cmdline, buf, sizeof(buf));
		printf("      Cmdline: %s\n", buf);
		safe(r->hostname, buf, sizeof(buf));
		printf("     Hostname: %s\n", buf);
		printf("      Boot ID: %s\n", r->boot_id);
		printf("    Signature: %s (seen %u times)\n", r->signature[0] ? r->signature : "-",
		       seen);
		printf("        State: %s%s%s\n", r->state, r->reason[0] ? ": " : "", r->reason);
		printf("    Core size: %" PRIu64 " bytes%s, stored %" PRIu64 " bytes\n",
		       r->core_size, r->truncated ? " (truncated)" : "", r->stored_size);
		if (r->core_file[0])
			printf("         Core: %s/%s\n", store_of(c), r->core_file);
		printf("\nBacktrace:\n%s\nModules:\n%s", r->backtrace, r->modules);
	}
	ck_core_records_destroy(recs, nr);
	ck_catalog_destroy(cat);
	return CK_EXIT_OK;
}

static int cmd_dump(struct ctx *c, int argc, char **argv)
{
	const char *out = NULL;
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc)
			out = argv[++i];
		else if (!strncmp(argv[i], "--output=", 9))
			out = argv[i] + 9;
		else
			return ck_usage_error("cores dump", "unknown option '%s'", argv[i]);
	}
	if (!out)
		return ck_usage_error("cores dump", "expected -o FILE");
	if (argc - i > 1)
		return ck_usage_error("cores dump", "at most one MATCH");
	struct ck_catalog *cat;
	struct ck_core_record *recs;
	size_t nr;
	int rc = pick(c, "dump", i < argc ? argv[i] : NULL, &cat, &recs, &nr);
	if (rc)
		return rc;
	struct ck_error *err = NULL;
	if (!strcmp(out, "-")) {
		err = ck_core_extract(store_of(c), &recs[0], STDOUT_FILENO, false);
	} else {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0) {
			err = ck_error_create_errno(errno, "'%s'", out);
		} else {
			err = ck_core_extract(store_of(c), &recs[0], fd, true);
			if (close(fd) < 0 && !err)
				err = ck_error_create_errno(errno, "'%s'", out);
		}
	}
	ck_core_records_destroy(recs, nr);
	ck_catalog_destroy(cat);
	return err ? ck_report(err) : CK_EXIT_OK;
}

static int cmd_debug(struct ctx *c, int argc, char **argv)
{
	char **cmds = calloc((size_t)argc + 1, sizeof(*cmds));
	int ncmds = 0, i = 1;
	if (!cmds)
		return ck_report(&ck_error_nomem);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--bt"))
			cmds[ncmds++] = "thread apply all bt";
		else if (!strcmp(argv[i], "-e") && i + 1 < argc)
			cmds[ncmds++] = argv[++i];
		else {
			free(cmds);
			return ck_usage_error("cores debug", "unknown option '%s'", argv[i]);
		}
	}
	if (argc - i > 1) {
		free(cmds);
		return ck_usage_error("cores debug", "at most one MATCH");
	}
	struct ck_catalog *cat;
	struct ck_core_record *recs;
	size_t nr;
	int rc = pick(c, "debug", i < argc ? argv[i] : NULL, &cat, &recs, &nr);
	if (rc) {
		free(cmds);
		return rc;
	}
	/* An unlinked file gdb opens through /proc/self/fd: nothing is left
	 * behind even when we are killed.  mkstemp where O_TMPFILE is refused. */
	const char *tmpdir = getenv("TMPDIR");
	if (!tmpdir || !*tmpdir)
		tmpdir = "/var/tmp";
	char *path = NULL;
	bool named = false;
	int fd = open(tmpdir, O_TMPFILE | O_RDWR, 0600);
	if (fd >= 0) {
		if (asprintf(&path, "/proc/self/fd/%d", fd) < 0)
			path = NULL;
	} else {
		if (asprintf(&path, "%s/crashkit-core.XXXXXX", tmpdir) < 0)
			path = NULL;
		fd = path ? mkstemp(path) : -1;
		named = true;
	}
	if (!path && fd >= 0) {
		close(fd);
		fd = -1;
	}
	struct ck_error *err = NULL;
	if (fd < 0)
		err = ck_error_create_errno(errno, "temporary core");
	else
		err = ck_core_extract(store_of(c), &recs[0], fd, true);
	if (err && ck_error_code(err) == CK_ERR_TRUNCATED) {
		ck_warn("%s", ck_error_message(err));
		ck_error_destroy(err);
		err = NULL;
	}
	if (!err) {
		/* argv for gdb: exe then core, so gdb needs no guessing. */
		const char **gargv = calloc((size_t)ncmds * 2 + 8, sizeof(*gargv));
		int g = 0;
		if (!gargv) {
			err = &ck_error_nomem;
		} else {
			gargv[g++] = "gdb";
			gargv[g++] = "-q";
			if (ncmds)
				gargv[g++] = "-batch";
			for (int k = 0; k < ncmds; k++) {
				gargv[g++] = "-ex";
				gargv[g++] = cmds[k];
			}
			if (recs[0].exe[0] == '/' && access(recs[0].exe, R_OK) == 0)
				gargv[g++] = recs[0].exe;
			gargv[g++] = "-c";
			gargv[g++] = path;
			fflush(stdout);
			pid_t pid = fork();
			if (pid == 0) {
				execvp("gdb", (char **)gargv);
				fprintf(stderr, "crashkit: error: running gdb: %s\n", strerror(errno));
				_exit(127);
			}
			int status = 0;
			if (pid < 0)
				err = ck_error_create_errno(errno, "fork");
			else
				while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
					;
			if (!err && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
				err = ck_error_create(CK_ERR_OS, "gdb exited with status %d",
						      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			free(gargv);
		}
	}
	if (fd >= 0) {
		if (named)
			unlink(path);
		close(fd);
	}
	free(path);
	free(cmds);
	ck_core_records_destroy(recs, nr);
	ck_catalog_destroy(cat);
	return err ? ck_report(err) : CK_EXIT_OK;
}

static int cmd_rm(struct ctx *c, int argc, char **argv)
{
	bool all = false;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--all"))
			all = true;
		else
			return ck_usage_error("cores rm", "unknown option '%s'", argv[i]);
	}
	if (argc - i != 1)
		return ck_usage_error("cores rm", "expected one MATCH");
	struct ck_catalog *cat;
	struct ck_core_record *recs;
	size_t nr;
	int rc = pick(c, "rm", argv[i], &cat, &recs, &nr);
	if (rc)
		return rc;
	struct ck_error *err = NULL;
	if (!cat)
		err = ck_error_create(CK_ERR_INVALID, "only root removes crashes from the catalog");
	for (size_t k = 0; cat && k < (all ? nr : 1) && !err; k++) {
		err = ck_core_remove(cat, &recs[k]);
		if (!err)
			printf("removed #%lld %s\n", (long long)recs[k].id, recs[k].name);
	}
	ck_core_records_destroy(recs, nr);
	ck_catalog_destroy(cat);
	return err ? ck_report(err) : CK_EXIT_OK;
}

static int cmd_backtrace(struct ctx *c, int argc, char **argv)
{
	if (argc < 2 || argc > 3)
		return ck_usage_error("cores backtrace", "expected CORE [EXE]");
	char *text, *sig;
	struct ck_error *err = ck_core_backtrace_file(argv[1], argc > 2 ? argv[2] : NULL, 0,
						      c->policy.max_threads, c->policy.max_frames,
						      &text, &sig);
	if (err)
		return ck_report(err);
	fputs(text, stdout);
	free(text);
	free(sig);
	return CK_EXIT_OK;
}

static int cmd_vacuum(struct ctx *c, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		bool ok = val != NULL;
		if (!strcmp(argv[i], "--max-use") && val)
			ok = ck_core_parse_size(val, &c->policy.max_use);
		else if (!strcmp(argv[i], "--keep-free") && val)
			ok = ck_core_parse_size(val, &c->policy.keep_free);
		else if (!strcmp(argv[i], "--keep-per-exe") && val) {
			uint64_t v;
			ok = ck_core_parse_size(val, &v) && v <= 100000;
			c->policy.keep_per_exe = (unsigned int)v;
		} else
			return ck_usage_error("cores vacuum", "unknown option '%s'", argv[i]);
		if (!ok)
			return ck_usage_error("cores vacuum", "bad value '%s' for %s", val, argv[i]);
		i++;
	}
	struct ck_core_vacuum_report rep;
	struct ck_error *err = ck_core_vacuum(&c->policy, &rep);
	if (err)
		return ck_report(ck_error_prepend(err, "vacuum"));
	printf("vacuum: %u cores dropped (records kept), %" PRIu64 " bytes freed, store uses %"
	       PRIu64 " bytes (max_use %" PRIu64 ", keep_free %" PRIu64 ", keep_per_exe %u)\n",
	       rep.dropped, rep.freed, rep.used_after, c->policy.max_use, c->policy.keep_free,
	       c->policy.keep_per_exe);
	return CK_EXIT_OK;
}

/* ---- serve: the socket-mode receiver ------------------------------------ */

static void serve_log(void *arg, int level, const char *msg)
{
	(void)arg;
	handler_log(level, "%s", msg);
}

/* sd_listen_fds(3) without libsystemd: fd 3 when LISTEN_PID is us. */
static int systemd_socket(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	if (!pid || !fds || strtol(pid, NULL, 10) != getpid() || strtol(fds, NULL, 10) < 1)
		return -1;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	fcntl(3, F_SETFD, FD_CLOEXEC);
	return 3;
}

static int cmd_serve(struct ctx *c, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
			free(c->policy.socket);
			c->policy.socket = strdup(argv[++i]);
		} else {
			return ck_usage_error("cores serve", "unknown option '%s'", argv[i]);
		}
	}
	const char *path = c->policy.socket ? c->policy.socket : CK_CORE_SOCKET_DEFAULT;
	int fd = systemd_socket();
	bool own = fd < 0;
	if (own) {
		struct ck_error *err = ck_core_serve_listen(path, &fd);
		if (err)
			return ck_report(ck_error_prepend(err, "serve"));
	}
	/* SIGTERM/SIGINT end the loop; crashes being stored finish first. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	signal(SIGPIPE, SIG_IGN);
	handler_log(6, "receiver listening on %s (pid %d)", path, (int)getpid());
	struct ck_error *err = ck_core_serve(&c->policy, fd, sfd, serve_log, NULL);
	close(fd);
	if (own)
		unlink(path);
	if (sfd >= 0)
		close(sfd);
	handler_log(6, "receiver on %s stopped", path);
	return err ? ck_report(err) : CK_EXIT_OK;
}

/* Starts `crashkit-cores serve` (self) detached (setsid, stdio on /dev/null) and
 * waits until it listens. */
static struct ck_error *spawn_receiver(struct ctx *c, const char *self, bool config_given,
				       pid_t *pid_ret)
{
	const char *path = c->policy.socket ? c->policy.socket : CK_CORE_SOCKET_DEFAULT;
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return ck_error_create_errno(errno, "pipe");
	pid_t pid = fork();
	if (pid < 0)
		return ck_error_create_errno(errno, "fork");
	if (pid == 0) {
		setsid();
		pid_t child = fork();
		if (child != 0) {
			if (write(pfd[1], &child, sizeof(child)) < 0)
				_exit(1);
			_exit(child < 0);
		}
		int null = open("/dev/null", O_RDWR);
		/* It logs to /dev/kmsg too. */
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
		const char *args[10];
		int n = 0;
		args[n++] = self;	/* crashkit-cores: no "cores" word */
		if (config_given) {
			args[n++] = "--config";
			args[n++] = c->config;
		}
		if (c->store_opt) {
			args[n++] = "--store";
			args[n++] = c->store_opt;
		}
		args[n++] = "serve";
		args[n++] = "--socket";
		args[n++] = path;
		args[n] = NULL;
		execv(self, (char **)args);
		_exit(127);
	}
	close(pfd[1]);
	pid_t daemon = -1;
	if (read(pfd[0], &daemon, sizeof(daemon)) != sizeof(daemon))
		daemon = -1;
	close(pfd[0]);
	waitpid(pid, NULL, 0);
	for (int k = 0; k < 100 && !ck_core_socket_listening(path); k++)
		usleep(50000);
	if (!ck_core_socket_listening(path))
		return ck_error_create(CK_ERR_OS, "the receiver did not start listening on '%s'",
				       path);
	*pid_ret = daemon;
	return NULL;
}

/* ---- install, uninstall, check ---------------------------------------- */

static char *read_line(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, f);
	fclose(f);
	if (n < 0) {
		free(line);
		return NULL;
	}
	line[strcspn(line, "\n")] = '\0';
	return line;
}

static int cmd_install(struct ctx *c, int argc, char **argv, bool config_given)
{
	bool sock = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--socket"))
			sock = true;
		else
			return ck_usage_error("cores install", "unknown argument '%s'", argv[i]);
	}
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return ck_report(ck_error_create_errno(errno, "/proc/self/exe"));
	self[n] = '\0';
	char *pattern = NULL;
	if (sock) {
		const char *path = c->policy.socket ? c->policy.socket : CK_CORE_SOCKET_DEFAULT;
		if (!ck_core_socket_mode_supported())
			return ck_report(ck_error_create(CK_ERR_INVALID, "install --socket: this "
							 "kernel has no socket mode (Linux >= 6.16)"));
		if (!ck_core_socket_listening(path)) {
			pid_t pid = -1;
			struct ck_error *err = spawn_receiver(c, self, config_given, &pid);
			if (err)
				return ck_report(ck_error_prepend(err, "install --socket"));
			printf("receiver: started, pid %d, on %s\n", (int)pid, path);
		} else {
			printf("receiver: already listening on %s\n", path);
		}
		struct ck_error *err = ck_core_install_socket(&c->policy, &pattern);
		if (err)
			return ck_report(ck_error_prepend(err, "install --socket"));
		printf("core_pattern: %s\n", pattern);
		free(pattern);
		return CK_EXIT_OK;
	}
	struct ck_error *err = ck_core_install(&c->policy, self, config_given ? c->config : NULL,
					       &pattern);
	if (err)
		return ck_report(ck_error_prepend(err, "install"));
	printf("core_pattern: %s\n", pattern);
	free(pattern);
	return CK_EXIT_OK;
}

static int cmd_uninstall(struct ctx *c, int argc, char **argv)
{
	if (argc > 1)
		return ck_usage_error("cores uninstall", "no arguments expected");
	char *restored = NULL;
	struct ck_error *err = ck_core_uninstall(&c->policy, &restored);
	if (err)
		return ck_report(ck_error_prepend(err, "uninstall"));
	printf("core_pattern restored: %s\n", restored);
	free(restored);
	return CK_EXIT_OK;
}

static int cmd_check(struct ctx *c, int argc, char **argv)
{
	char *pattern = read_line("/proc/sys/kernel/core_pattern");
	char *limit = read_line("/proc/sys/kernel/core_pipe_limit");
	char *suid = read_line("/proc/sys/kernel/suid_dumpable");
	char *modes = read_line("/proc/sys/kernel/core_modes");
	const char *owner = "a file pattern: the kernel writes cores itself";
	if (!pattern)
		owner = "unknown (core_pattern unreadable)";
	else if (pattern[0] == '|' && (strstr(pattern, "/crashkit-cores handle ") ||
					strstr(pattern, " cores handle ")))
		owner = "crashkit";
	else if (strstr(pattern, "systemd-coredump"))
		owner = "systemd-coredump";
	else if (strstr(pattern, "apport"))
		owner = "apport";
	else if (strstr(pattern, "abrt"))
		owner = "abrt";
	else if (pattern[0] == '|')
		owner = "another pipe handler";
	else if (pattern[0] == '@' && !strcmp(pattern + 1, c->policy.socket ? c->policy.socket
								     : CK_CORE_SOCKET_DEFAULT))
		owner = "crashkit (socket mode)";
	else if (pattern[0] == '@')
		owner = "a socket receiver";
	printf("core_pattern:    %s\n", pattern ? pattern : "?");
	printf("owned by:        %s\n", owner);
	printf("core_pipe_limit: %s%s\n", limit ? limit : "?",
	       limit && !strcmp(limit, "0") ? " (the handler may lose /proc/<pid> after EOF)" : "");
	const char *sd = !suid ? "?" : !strcmp(suid, "0") ? "setuid programs do not dump"
				   : !strcmp(suid, "1") ? "debug: everything dumps, as the user (insecure)"
				   : !strcmp(suid, "2") ? "setuid programs dump, readable by root only"
				   : "unknown";
	printf("suid_dumpable:   %s (%s)\n", suid ? suid : "?", sd);
	for (char *p = modes; p && *p; p++)
		if (*p == '\n')
			*p = ' ';
	printf("core_modes:      %s\n", modes ? modes : "(absent: no socket mode, Linux < 6.16)");
	const char *sock = c->policy.socket ? c->policy.socket : CK_CORE_SOCKET_DEFAULT;
	printf("socket receiver: %s %s\n", sock,
	       ck_core_socket_listening(sock) ? "(listening)" : "(not listening)");
	struct rlimit rl;
	if (getrlimit(RLIMIT_CORE, &rl) == 0) {
		if (rl.rlim_cur == RLIM_INFINITY)
			printf("ulimit -c:       unlimited\n");
		else
			printf("ulimit -c:       %llu%s\n", (unsigned long long)rl.rlim_cur / 1024,
			       rl.rlim_cur == 0 ? " (file patterns write nothing; pipes still get the "
						  "core, passed as %c)" : " KiB");
	}
	printf("config:          %s\n", c->config);
	printf("store:           %s\n", store_of(c));
	struct ck_catalog *cat;
	struct ck_error *err = ck_catalog_open(store_of(c), false, &cat);
	if (err) {
		printf("catalog:         %s\n", ck_error_message(err));
		ck_error_destroy(err);
	} else {
		struct ck_core_record *recs;
		size_t nr;
		if (!ck_catalog_find(cat, NULL, &recs, &nr)) {
			uint64_t bytes = 0;
			for (size_t k = 0; k < nr; k++)
				bytes += recs[k].stored_size;
			printf("catalog:         %zu crashes, %" PRIu64 " bytes of cores (max_use %"
			       PRIu64 ", keep_free %" PRIu64 ")\n", nr, bytes, c->policy.max_use,
			       c->policy.keep_free);
			ck_core_records_destroy(recs, nr);
		}
		ck_catalog_destroy(cat);
	}
	free(pattern);
	free(limit);
	free(suid);
	free(modes);
	return CK_EXIT_OK;
}

int ck_cmd_cores(int argc, char **argv)
{
	/* The handler parses its own argv: it must not look at the environment. */
	if (argc >= 2 && !strcmp(argv[1], "handle"))
		return cmd_handle(argc - 1, argv + 1);

	struct ctx c = { 0 };
	const char *config = NULL;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return CK_EXIT_OK;
		} else if (!strcmp(argv[i], "--store") && i + 1 < argc) {
			free(c.store_opt);
			c.store_opt = strdup(argv[++i]);
		} else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
			config = argv[++i];
		} else {
			free(c.store_opt);
			return ck_usage_error("cores", "unknown option '%s'", argv[i]);
		}
	}
	if (i >= argc) {
		free(c.store_opt);
		return ck_usage_error("cores", "expected a command");
	}
	bool config_given = config || getenv("CRASHKIT_CORES_CONFIG");
	struct ck_error *err = load_policy(&c, config, true);
	int rc;
	const char *cmd = argv[i];
	if (err) {
		rc = ck_report(err);
	} else if (!strcmp(cmd, "list")) {
		rc = cmd_list(&c, argc - i, argv + i);
	} else if (!strcmp(cmd, "info")) {
		rc = cmd_info(&c, argc - i, argv + i);
	} else if (!strcmp(cmd, "dump")) {
		rc = cmd_dump(&c, argc - i, argv + i);
	} else if (!strcmp(cmd, "debug") || !strcmp(cmd, "gdb")) {
		rc = cmd_debug(&c, argc - i, argv + i);
	} else if (!strcmp(cmd, "backtrace")) {
		rc = cmd_backtrace(&c, argc - i, argv + i);
	} else if (!strcmp(cmd, "rm")) {
		rc = cmd_rm(&c, argc - i, argv + i);
	} else if (!strcmp(cmd, "vacuum")) {
		rc = cmd_vacuum(&c, argc - i, argv + i);
	} else if (!strcmp(cmd, "serve")) {
		rc = cmd_serve(&c, argc - i, argv + i);
	} else if (!strcmp(cmd, "install")) {
		rc = cmd_install(&c, argc - i, argv + i, config_given);
	} else if (!strcmp(cmd, "uninstall")) {
		rc = cmd_uninstall(&c, argc - i, argv + i);
	} else if (!strcmp(cmd, "check")) {
		rc = cmd_check(&c, argc - i, argv + i);
	} else {
		rc = ck_usage_error("cores", "unknown command '%s'", cmd);
	}
	ck_core_policy_deinit(&c.policy);
	free(c.store_opt);
	return rc;
}
