/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * crashkit cores: the dispatch, and the catalog commands (list, info, dump,
 * debug, backtrace, rm, vacuum), a coredumpctl over the store.  The setup
 * commands (handle, serve, install, uninstall, check) are in
 * cmd_cores_setup.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools.h"

/* cmd_cores_setup.c; declared here and there (tools/ see only crashkit.h
 * and tools.h). */
int ck_cores_handle(int argc, char **argv);
int ck_cores_setup(const char *cmd, struct ck_core_policy *policy, const char *config,
		   bool config_given, const char *store_opt, int argc, char **argv);

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

/* ---- catalog commands ------------------------------------------------- */

static void fmt_time(int64_t usec, char *buf, size_t size)
{
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
}

/* Printable copy of an untrusted name: control bytes become '?'. */
static void safe(const char *s, char *buf, size_t size)
{
	size_t i = 0;
	for (; s[i] && i + 1 < size; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	buf[i] = '\0';
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

static const char *store_of(const struct ctx *c)
{
	return ck_core_policy_store(&c->policy);
}

/* What the caller may see: root the catalog, other users their own crashes. */
static struct ck_error *find(struct ctx *c, const char *match, struct ck_core_view *view,
			     struct ck_core_record **recs, size_t *nr)
{
	struct ck_error *err = ck_core_view_init(view, store_of(c));
	if (!err)
		err = ck_core_view_find(view, match, recs, nr);
	if (err)
		ck_core_view_deinit(view);
	return err;
}

/* The same, and the newest match must exist. */
static int pick(struct ctx *c, const char *cmd, const char *match, struct ck_core_view *view,
		struct ck_core_record **recs, size_t *nr)
{
	struct ck_error *err = find(c, match, view, recs, nr);
	if (err)
		return ck_report(err);
	if (*nr == 0) {
		ck_core_records_destroy(*recs, *nr);
		ck_core_view_deinit(view);
		fprintf(stderr, "crashkit: error: cores %s: no crash matches '%s'\n", cmd,
			match ? match : "");
		return CK_EXIT_ERROR;
	}
	return CK_EXIT_OK;
}

static int print_json(char *js)
{
	if (!js)
		return ck_report(&ck_error_nomem);
	printf("%s\n", js);
	free(js);
	return CK_EXIT_OK;
}

static bool parse_uid(const char *s, int *ret)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || end == s || v < 0 || v > INT32_MAX)
		return false;
	*ret = (int)v;
	return true;
}

/* list's options into f; argv index of the first operand, or -1 after a
 * usage error (reported). */
static int list_options(int argc, char **argv, bool *json, struct ck_core_filter *f, int *rc)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		bool ok = true;
		if (!strcmp(opt, "--json")) {
			*json = true;
			continue;
		} else if (!strcmp(opt, "--since") && val) {
			ok = parse_time(val, &f->since_usec);
		} else if (!strcmp(opt, "--until") && val) {
			ok = parse_time(val, &f->until_usec);
		} else if (!strcmp(opt, "--uid") && val) {
			if (!parse_uid(val, &f->uid)) {
				*rc = ck_usage_error("cores list", "bad uid '%s'", val);
				return -1;
			}
		} else if (!strcmp(opt, "--signal") && val) {
			if (!parse_signal(val, &f->signal)) {
				*rc = ck_usage_error("cores list", "bad signal '%s'", val);
				return -1;
			}
		} else {
			*rc = ck_usage_error("cores list", "unknown option '%s'", opt);
			return -1;
		}
		if (!ok) {
			*rc = ck_usage_error("cores list", "bad time '%s'", val);
			return -1;
		}
		i++;
	}
	return i;
}

static void list_text(const struct ck_core_record *recs, size_t nr)
{
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

static int cmd_list(struct ctx *c, int argc, char **argv)
{
	bool json = false;
	struct ck_core_filter f;
	ck_core_filter_init(&f);
	int rc = CK_EXIT_OK;
	int i = list_options(argc, argv, &json, &f, &rc);
	if (i < 0)
		return rc;
	if (argc - i > 1)
		return ck_usage_error("cores list", "at most one MATCH");
	struct ck_core_view view;
	struct ck_core_record *recs;
	size_t nr;
	struct ck_error *err = find(c, i < argc ? argv[i] : NULL, &view, &recs, &nr);
	if (err)
		return ck_report(err);
	ck_core_records_filter(recs, &nr, &f);
	if (json)
		rc = print_json(ck_core_records_json(recs, nr));
	else
		list_text(recs, nr);
	ck_core_records_destroy(recs, nr);
	ck_core_view_deinit(&view);
	return rc;
}

static void info_text(struct ctx *c, const struct ck_core_record *r, unsigned int seen)
{
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
	printf("    Signature: %s (seen %u times)\n", r->signature[0] ? r->signature : "-", seen);
	printf("        State: %s%s%s\n", r->state, r->reason[0] ? ": " : "", r->reason);
	printf("    Core size: %" PRIu64 " bytes%s, stored %" PRIu64 " bytes\n", r->core_size,
	       r->truncated ? " (truncated)" : "", r->stored_size);
	if (r->core_file[0])
		printf("         Core: %s/%s\n", store_of(c), r->core_file);
	printf("\nBacktrace:\n%s\nModules:\n%s", r->backtrace, r->modules);
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
	struct ck_core_view view;
	struct ck_core_record *recs;
	size_t nr;
	int rc = pick(c, "info", i < argc ? argv[i] : NULL, &view, &recs, &nr);
	if (rc)
		return rc;
	const struct ck_core_record *r = &recs[0];
	unsigned int seen = 0;
	struct ck_core_record *same = NULL;
	size_t nsame = 0;
	if (r->signature[0] && !ck_core_view_find(&view, r->signature, &same, &nsame))
		seen = (unsigned int)nsame;
	ck_core_records_destroy(same, nsame);
	if (json)
		rc = print_json(ck_core_record_json(r, seen));
	else
		info_text(c, r, seen);
	ck_core_records_destroy(recs, nr);
	ck_core_view_deinit(&view);
	return rc;
}

static struct ck_error *dump_to(const char *store, const struct ck_core_record *rec,
				const char *out)
{
	if (!strcmp(out, "-"))
		return ck_core_extract(store, rec, STDOUT_FILENO, false);
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return ck_error_create_errno(errno, "'%s'", out);
	struct ck_error *err = ck_core_extract(store, rec, fd, true);
	if (close(fd) < 0 && !err)
		err = ck_error_create_errno(errno, "'%s'", out);
	return err;
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
	struct ck_core_view view;
	struct ck_core_record *recs;
	size_t nr;
	int rc = pick(c, "dump", i < argc ? argv[i] : NULL, &view, &recs, &nr);
	if (rc)
		return rc;
	struct ck_error *err = dump_to(store_of(c), &recs[0], out);
	ck_core_records_destroy(recs, nr);
	ck_core_view_deinit(&view);
	return err ? ck_report(err) : CK_EXIT_OK;
}

/* ck_core_debug's messages: a cut core is a warning; gdb that does not
 * start, an error (said by the child, before its status 127). */
static void debug_log(void *arg, int level, const char *msg)
{
	if (level <= 3)
		fprintf(stderr, "crashkit: error: %s\n", msg);
	else
		ck_warn("%s", msg);
}

static int cmd_debug(struct ctx *c, int argc, char **argv)
{
	const char **cmds = calloc((size_t)argc + 1, sizeof(*cmds));
	size_t ncmds = 0;
	int i = 1, rc;
	if (!cmds)
		return ck_report(&ck_error_nomem);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--bt")) {
			cmds[ncmds++] = "thread apply all bt";
		} else if (!strcmp(argv[i], "-e") && i + 1 < argc) {
			cmds[ncmds++] = argv[++i];
		} else {
			rc = ck_usage_error("cores debug", "unknown option '%s'", argv[i]);
			goto out;
		}
	}
	if (argc - i > 1) {
		rc = ck_usage_error("cores debug", "at most one MATCH");
		goto out;
	}
	struct ck_core_view view;
	struct ck_core_record *recs;
	size_t nr;
	rc = pick(c, "debug", i < argc ? argv[i] : NULL, &view, &recs, &nr);
	if (rc)
		goto out;
	fflush(stdout);
	struct ck_error *err = ck_core_debug(store_of(c), &recs[0], cmds, ncmds, debug_log, NULL);
	ck_core_records_destroy(recs, nr);
	ck_core_view_deinit(&view);
	rc = err ? ck_report(err) : CK_EXIT_OK;
out:
	free(cmds);
	return rc;
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
	struct ck_core_view view;
	struct ck_core_record *recs;
	size_t nr;
	int rc = pick(c, "rm", argv[i], &view, &recs, &nr);
	if (rc)
		return rc;
	struct ck_error *err = NULL;
	for (size_t k = 0; k < (all ? nr : 1) && !err; k++) {
		err = ck_core_view_remove(&view, &recs[k]);
		if (!err)
			printf("removed #%lld %s\n", (long long)recs[k].id, recs[k].name);
	}
	ck_core_records_destroy(recs, nr);
	ck_core_view_deinit(&view);
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

int ck_cmd_cores(int argc, char **argv)
{
	/* The handler parses its own argv: it must not look at the environment. */
	if (argc >= 2 && !strcmp(argv[1], "handle"))
		return ck_cores_handle(argc - 1, argv + 1);

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
	} else {
		rc = ck_cores_setup(cmd, &c.policy, c.config, config_given, c.store_opt, argc - i,
				    argv + i);
	}
	ck_core_policy_deinit(&c.policy);
	free(c.store_opt);
	return rc;
}
