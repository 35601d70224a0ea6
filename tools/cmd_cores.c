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

static const char cores_help[] =
	"usage: crashkit cores [--store DIR] [--config FILE] COMMAND [ARGS]\n"
	"\n"
	"  list [--json] [-F FIELD] [--since T] [--until T] [--uid UID] [--signal SIG] [MATCH]\n"
	"                               crashes in the catalog, newest first\n"
	"  info [--json] [MATCH]        metadata, backtrace, modules of the newest match\n"
	"  dump -o FILE [MATCH]         write the decompressed core (- for stdout)\n"
	"  debug [--bt] [-e CMD]... [MATCH]  gdb on a decompressed temporary copy\n"
	"  backtrace CORE [EXE]         every thread of any core file (libdwfl)\n"
	"  rm [--all] MATCH             delete the newest match (or all) and its files\n"
	"  vacuum [--max-use SIZE] [--keep-free SIZE] [--keep-per-exe N]\n"
	"                               apply the store limits now\n"
	"  catalog [--json] [--signature S] [--kind K] [--dir DIR]...\n"
	"                               kernel dumps and cores together (crashkit list)\n"
	"  install [--socket] | uninstall | check  set, restore, explain core_pattern\n"
	"  serve [--socket PATH]        the socket-mode receiver (Linux >= 6.16)\n"
	"  handle [--config=FILE] P=%P u=%u g=%g s=%s t=%t [c=%c F=%F I=%I h=%h e=%e]\n"
	"                               the core_pattern handler (core on stdin)\n"
	"\n"
	"Options go anywhere on a command's line; '--' ends them.  Every command\n"
	"takes --store DIR, --config FILE, --help and --version.\n"
	"MATCH is a PID, a COMM, an exe path, a signature or #ID; the newest wins.\n"
	"T is EPOCH, @EPOCH, -N[smhd] (ago), YYYY-MM-DD or 'YYYY-MM-DD HH:MM[:SS]'.\n"
	"A non-root user sees only their own crashes.\n"
	"The config defaults to " CK_CORE_CONFIG_DEFAULT " (or $CRASHKIT_CORES_CONFIG), the store\n"
	"to its 'store' key or " CK_CORE_STORE_DEFAULT " (or $CRASHKIT_CORES_STORE).\n"
	"See crashkit-cores(8) and 'crashkit cores COMMAND --help'.\n";

/* The policy of a command: --config, $CRASHKIT_CORES_CONFIG or the default
 * file (which may be missing); the store from --store, $CRASHKIT_CORES_STORE
 * or the config. */
static struct ck_error *load_policy(struct ck_cores_ctx *c)
{
	ck_core_policy_init(&c->policy);
	const char *config = c->config_opt;
	bool missing_ok = false;
	if (!config)
		config = getenv("CRASHKIT_CORES_CONFIG");
	c->config_given = config != NULL;
	if (!config) {
		config = CK_CORE_CONFIG_DEFAULT;
		missing_ok = true;
	}
	c->config = config;
	struct ck_error *err = ck_core_policy_load(&c->policy, config, missing_ok);
	if (err)
		return err;
	if (!c->store_opt && getenv("CRASHKIT_CORES_STORE")) {
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

int ck_cores_getopt(struct ck_cores_ctx *c, int argc, char **argv)
{
	for (;;) {
		int o = getopt_long(argc, argv, c->cmd->shortopts, c->cmd->longopts, NULL);
		struct ck_error *err;
		switch (o) {
		case -1:
			if (!c->cmd->run || !(err = load_policy(c)))
				return -1;
			c->rc = ck_report(err);
			return CK_CORES_STOP;
		case 'h':
			c->rc = ck_print_help(c->cmd->help);
			return CK_CORES_STOP;
		case CK_CORES_OPT_VERSION:
			c->rc = ck_print_version();
			return CK_CORES_STOP;
		case CK_CORES_OPT_STORE:
			free(c->store_opt);
			c->store_opt = strdup(optarg);
			if (!c->store_opt) {
				c->rc = ck_report(&ck_error_nomem);
				return CK_CORES_STOP;
			}
			break;
		case CK_CORES_OPT_CONFIG:
			c->config_opt = optarg;
			break;
		case '?':
		case ':':
			c->rc = ck_getopt_error(c->what, o, argv);
			return CK_CORES_STOP;
		default:
			return o;
		}
	}
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
bool ck_cores_parse_time(const char *s, int64_t *usec)
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

static const char *store_of(const struct ck_cores_ctx *c)
{
	return ck_core_policy_store(&c->policy);
}

/* What the caller may see: root the catalog, other users their own crashes. */
static struct ck_error *find(struct ck_cores_ctx *c, const char *match, struct ck_core_view *view,
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
static int pick(struct ck_cores_ctx *c, const char *cmd, const char *match, struct ck_core_view *view,
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

enum { OPT_JSON = 0x100, OPT_SINCE, OPT_UNTIL, OPT_UID, OPT_SIGNAL, OPT_ALL, OPT_BT,
       OPT_MAX_USE, OPT_KEEP_FREE, OPT_KEEP_PER_EXE };

/* One of list's options into f, json, field; CK_EXIT_USAGE (said) when its
 * value is bad. */
static int list_option(int o, const char *val, bool *json, const char **field,
		       struct ck_core_filter *f)
{
	static const char *const fields[] = { "id", "pid", "uid", "signal", "comm", "exe",
					      "signature", "name", "state" };
	switch (o) {
	case OPT_JSON:
		*json = true;
		return CK_EXIT_OK;
	case 'F':
		for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++) {
			if (!strcmp(val, fields[k])) {
				*field = fields[k];
				return CK_EXIT_OK;
			}
		}
		return ck_usage_error("cores list", "unknown field '%s' (id, pid, uid, signal, "
				      "comm, exe, signature, name, state)", val);
	case OPT_SINCE:
	case OPT_UNTIL:
		if (ck_cores_parse_time(val, o == OPT_SINCE ? &f->since_usec : &f->until_usec))
			return CK_EXIT_OK;
		return ck_usage_error("cores list", "bad time '%s'", val);
	case OPT_UID:
		if (parse_uid(val, &f->uid))
			return CK_EXIT_OK;
		return ck_usage_error("cores list", "bad uid '%s'", val);
	default:	/* OPT_SIGNAL */
		if (parse_signal(val, &f->signal))
			return CK_EXIT_OK;
		return ck_usage_error("cores list", "bad signal '%s'", val);
	}
}

/* list -F FIELD: the field of each record, one line each, for scripts and
 * shell completion. */
static void list_field(const struct ck_core_record *recs, size_t nr, const char *field)
{
	for (size_t k = 0; k < nr; k++) {
		const struct ck_core_record *r = &recs[k];
		char buf[4096];
		const char *text = !strcmp(field, "comm") ? r->comm : !strcmp(field, "exe") ? r->exe
				   : !strcmp(field, "signature") ? r->signature
				   : !strcmp(field, "name") ? r->name
				   : !strcmp(field, "state") ? r->state : NULL;
		if (text) {	/* an unknown value is an empty line: one line per crash */
			safe(text, buf, sizeof(buf));
			printf("%s\n", buf);
			continue;
		}
		long long v = !strcmp(field, "id") ? (long long)r->id : !strcmp(field, "pid") ? r->pid
			      : !strcmp(field, "uid") ? r->uid : r->signal;
		printf("%lld\n", v);
	}
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

static const struct option list_opts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "field", required_argument, NULL, 'F' },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "until", required_argument, NULL, OPT_UNTIL },
	{ "uid", required_argument, NULL, OPT_UID },
	{ "signal", required_argument, NULL, OPT_SIGNAL },
	CK_CORES_COMMON_OPTS,
};

static int cmd_list(struct ck_cores_ctx *c, int argc, char **argv)
{
	bool json = false;
	const char *field = NULL;
	struct ck_core_filter f;
	ck_core_filter_init(&f);
	int o, rc = CK_EXIT_OK;
	while ((o = ck_cores_getopt(c, argc, argv)) >= 0) {
		if ((rc = list_option(o, optarg, &json, &field, &f)))
			return rc;
	}
	if (o == CK_CORES_STOP)
		return c->rc;
	if (argc - optind > 1)
		return ck_usage_error("cores list", "at most one MATCH");
	if (json && field)
		return ck_usage_error("cores list", "--json or -F, not both");
	struct ck_core_view view;
	struct ck_core_record *recs;
	size_t nr;
	struct ck_error *err = find(c, optind < argc ? argv[optind] : NULL, &view, &recs, &nr);
	if (err)
		return ck_report(err);
	ck_core_records_filter(recs, &nr, &f);
	if (json)
		rc = print_json(ck_core_records_json(recs, nr));
	else if (field)
		list_field(recs, nr, field);
	else
		list_text(recs, nr);
	ck_core_records_destroy(recs, nr);
	ck_core_view_deinit(&view);
	return rc;
}

static void info_text(struct ck_cores_ctx *c, const struct ck_core_record *r, unsigned int seen)
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

static const struct option info_opts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	CK_CORES_COMMON_OPTS,
};

static int cmd_info(struct ck_cores_ctx *c, int argc, char **argv)
{
	bool json = false;
	int o;
	while ((o = ck_cores_getopt(c, argc, argv)) >= 0)
		json = true;	/* OPT_JSON */
	if (o == CK_CORES_STOP)
		return c->rc;
	if (argc - optind > 1)
		return ck_usage_error("cores info", "at most one MATCH");
	struct ck_core_view view;
	struct ck_core_record *recs;
	size_t nr;
	int rc = pick(c, "info", optind < argc ? argv[optind] : NULL, &view, &recs, &nr);
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

static const struct option dump_opts[] = {
	{ "output", required_argument, NULL, 'o' },
	CK_CORES_COMMON_OPTS,
};

static int cmd_dump(struct ck_cores_ctx *c, int argc, char **argv)
{
	const char *out = NULL;
	int o;
	while ((o = ck_cores_getopt(c, argc, argv)) >= 0)
		out = optarg;	/* -o */
	if (o == CK_CORES_STOP)
		return c->rc;
	if (!out)
		return ck_usage_error("cores dump", "expected -o FILE");
	if (argc - optind > 1)
		return ck_usage_error("cores dump", "at most one MATCH");
	struct ck_core_view view;
	struct ck_core_record *recs;
	size_t nr;
	int rc = pick(c, "dump", optind < argc ? argv[optind] : NULL, &view, &recs, &nr);
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

static const struct option debug_opts[] = {
	{ "bt", no_argument, NULL, OPT_BT },
	{ "eval-command", required_argument, NULL, 'e' },
	CK_CORES_COMMON_OPTS,
};

static int cmd_debug(struct ck_cores_ctx *c, int argc, char **argv)
{
	const char **cmds = calloc((size_t)argc + 1, sizeof(*cmds));
	size_t ncmds = 0;
	int o, rc;
	if (!cmds)
		return ck_report(&ck_error_nomem);
	while ((o = ck_cores_getopt(c, argc, argv)) >= 0)
		cmds[ncmds++] = o == OPT_BT ? "thread apply all bt" : optarg;
	if (o == CK_CORES_STOP) {
		rc = c->rc;
		goto out;
	}
	if (argc - optind > 1) {
		rc = ck_usage_error("cores debug", "at most one MATCH");
		goto out;
	}
	struct ck_core_view view;
	struct ck_core_record *recs;
	size_t nr;
	rc = pick(c, "debug", optind < argc ? argv[optind] : NULL, &view, &recs, &nr);
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

static const struct option rm_opts[] = {
	{ "all", no_argument, NULL, OPT_ALL },
	CK_CORES_COMMON_OPTS,
};

static int cmd_rm(struct ck_cores_ctx *c, int argc, char **argv)
{
	bool all = false;
	int o;
	while ((o = ck_cores_getopt(c, argc, argv)) >= 0)
		all = true;	/* OPT_ALL */
	if (o == CK_CORES_STOP)
		return c->rc;
	if (argc - optind != 1)
		return ck_usage_error("cores rm", "expected one MATCH");
	struct ck_core_view view;
	struct ck_core_record *recs;
	size_t nr;
	int rc = pick(c, "rm", argv[optind], &view, &recs, &nr);
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

static const struct option common_opts[] = {
	CK_CORES_COMMON_OPTS,
};

static int cmd_backtrace(struct ck_cores_ctx *c, int argc, char **argv)
{
	int o = ck_cores_getopt(c, argc, argv);	/* no options of its own */
	if (o == CK_CORES_STOP)
		return c->rc;
	int n = argc - optind;
	if (n < 1 || n > 2)
		return ck_usage_error("cores backtrace", "expected CORE [EXE]");
	char *text, *sig;
	struct ck_error *err = ck_core_backtrace_file(argv[optind], n > 1 ? argv[optind + 1] : NULL, 0,
						      c->policy.max_threads, c->policy.max_frames,
						      &text, &sig);
	if (err)
		return ck_report(err);
	fputs(text, stdout);
	free(text);
	free(sig);
	return CK_EXIT_OK;
}

static const struct option vacuum_opts[] = {
	{ "max-use", required_argument, NULL, OPT_MAX_USE },
	{ "keep-free", required_argument, NULL, OPT_KEEP_FREE },
	{ "keep-per-exe", required_argument, NULL, OPT_KEEP_PER_EXE },
	CK_CORES_COMMON_OPTS,
};

static int cmd_vacuum(struct ck_cores_ctx *c, int argc, char **argv)
{
	/* The values override the policy, which is loaded when the options
	 * end: keep them until then. */
	const char *max_use = NULL, *keep_free = NULL, *keep_per_exe = NULL;
	int o;
	while ((o = ck_cores_getopt(c, argc, argv)) >= 0) {
		if (o == OPT_MAX_USE)
			max_use = optarg;
		else if (o == OPT_KEEP_FREE)
			keep_free = optarg;
		else
			keep_per_exe = optarg;
	}
	if (o == CK_CORES_STOP)
		return c->rc;
	if (optind < argc)
		return ck_usage_error("cores vacuum", "unexpected argument '%s'", argv[optind]);
	uint64_t v;
	if (max_use && !ck_core_parse_size(max_use, &c->policy.max_use))
		return ck_usage_error("cores vacuum", "bad value '%s' for --max-use", max_use);
	if (keep_free && !ck_core_parse_size(keep_free, &c->policy.keep_free))
		return ck_usage_error("cores vacuum", "bad value '%s' for --keep-free", keep_free);
	if (keep_per_exe && (!ck_core_parse_size(keep_per_exe, &v) || v > 100000))
		return ck_usage_error("cores vacuum", "bad value '%s' for --keep-per-exe",
				      keep_per_exe);
	if (keep_per_exe)
		c->policy.keep_per_exe = (unsigned int)v;
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

/* ---- the commands' help and the dispatch ------------------------------ */

#define COMMON_HELP								\
	"  --store DIR      the store (default: the config's)\n"			\
	"  --config FILE    the policy (default " CK_CORE_CONFIG_DEFAULT ")\n"	\
	"  -h, --help       this text; --version: crashkit's version\n"		\
	"Options go anywhere on the line; '--' ends them.\n"

#define MATCH_HELP								\
	"MATCH is a PID, a COMM, an exe path (with a '/'), a signature (16 hex\n"	\
	"digits) or #ID; the newest match wins.  Without MATCH: the newest crash.\n"

static const struct ck_cores_cmd catalog_cmds[] = {
	{ "list",
	  "usage: crashkit cores list [OPTIONS] [MATCH]\n\n"
	  "The crashes in the catalog, newest first (a non-root user: their own).\n\n"
	  "  --json           a JSON array of records\n"
	  "  -F, --field F    that field, one line per crash: id, pid, uid, signal,\n"
	  "                   comm, exe, signature, name or state (for scripts)\n"
	  "  --since T        crashes at or after T; --until T: at or before T\n"
	  "                   (EPOCH, @EPOCH, -N[smhd] ago, YYYY-MM-DD[ HH:MM[:SS]])\n"
	  "  --uid UID        crashes of that user\n"
	  "  --signal SIG     crashes by that signal (11, SEGV or SIGSEGV)\n"
	  COMMON_HELP "\n" MATCH_HELP,
	  ":hF:", list_opts, cmd_list },
	{ "info",
	  "usage: crashkit cores info [--json] [MATCH]\n\n"
	  "Metadata, the backtrace of every thread and the modules of a crash.\n\n"
	  "  --json           one JSON object\n"
	  COMMON_HELP "\n" MATCH_HELP,
	  ":h", info_opts, cmd_info },
	{ "dump",
	  "usage: crashkit cores dump -o FILE [MATCH]\n\n"
	  "Writes the core of a crash, decompressed, to FILE ('-': standard output).\n\n"
	  "  -o, --output FILE  where the core goes\n"
	  COMMON_HELP "\n" MATCH_HELP,
	  ":ho:", dump_opts, cmd_dump },
	{ "debug",
	  "usage: crashkit cores debug [--bt] [-e CMD]... [MATCH]\n\n"
	  "Runs gdb on the executable and a decompressed temporary copy of the core\n"
	  "(gone when gdb ends).\n\n"
	  "  --bt             print every thread's backtrace and quit\n"
	  "  -e, --eval-command CMD  run the gdb command CMD and quit (repeatable)\n"
	  COMMON_HELP "\n" MATCH_HELP,
	  ":he:", debug_opts, cmd_debug },
	{ "backtrace",
	  "usage: crashkit cores backtrace CORE [EXE]\n\n"
	  "Every thread's backtrace of any core file, as the handler records it.\n\n"
	  COMMON_HELP,
	  ":h", common_opts, cmd_backtrace },
	{ "rm",
	  "usage: crashkit cores rm [--all] MATCH\n\n"
	  "Deletes the newest matching crash, its record and its files (root only).\n\n"
	  "  --all            every matching crash\n"
	  COMMON_HELP "\n" MATCH_HELP,
	  ":h", rm_opts, cmd_rm },
	{ "vacuum",
	  "usage: crashkit cores vacuum [--max-use SIZE] [--keep-free SIZE] [--keep-per-exe N]\n\n"
	  "Applies the store limits now: keep_per_exe for every executable, then the\n"
	  "oldest cores go while the store is over max_use or the disk below\n"
	  "keep_free.  Records stay (root only).\n\n"
	  "  --max-use SIZE     instead of the config's max_use (K, M, G suffixes)\n"
	  "  --keep-free SIZE   instead of keep_free\n"
	  "  --keep-per-exe N   instead of keep_per_exe\n"
	  COMMON_HELP,
	  ":h", vacuum_opts, cmd_vacuum },
};

static const struct ck_cores_cmd *find_cmd(const char *name)
{
	static const struct ck_cores_cmd *const setup[] = {
		&ck_cores_serve_cmd, &ck_cores_install_cmd, &ck_cores_uninstall_cmd,
		&ck_cores_check_cmd, &ck_cores_catalog_cmd,
	};
	if (!strcmp(name, "gdb"))	/* coredumpctl's name */
		name = "debug";
	for (size_t k = 0; k < sizeof(catalog_cmds) / sizeof(catalog_cmds[0]); k++)
		if (!strcmp(name, catalog_cmds[k].name))
			return &catalog_cmds[k];
	for (size_t k = 0; k < sizeof(setup) / sizeof(setup[0]); k++)
		if (!strcmp(name, setup[k]->name))
			return setup[k];
	return NULL;
}

int ck_cmd_cores(int argc, char **argv)
{
	/* The handler parses its own argv: it must not look at the environment. */
	if (argc >= 2 && !strcmp(argv[1], "handle"))
		return ck_cores_handle(argc - 1, argv + 1);

	/* `crashkit cores [OPTIONS] COMMAND ...`: options up to the command
	 * ('+'), then the command's own, anywhere. */
	static const struct ck_cores_cmd top = { "", cores_help, "+:h", common_opts, NULL };
	struct ck_cores_ctx c = { .cmd = &top };
	snprintf(c.what, sizeof(c.what), "cores");
	optind = 0;
	opterr = 0;
	int o = ck_cores_getopt(&c, argc, argv);
	const struct ck_cores_cmd *cmd = NULL;
	if (o == CK_CORES_STOP)
		goto out;
	if (optind >= argc) {
		c.rc = ck_usage_error("cores", "expected a command");
		goto out;
	}
	if (!(cmd = find_cmd(argv[optind]))) {
		char name[24];
		snprintf(name, sizeof(name), "%s", argv[optind]);
		name[strcspn(name, "\n\r\t")] = '\0';
		c.rc = ck_usage_error("cores", "unknown command '%s'", name);
		goto out;
	}
	c.cmd = cmd;
	snprintf(c.what, sizeof(c.what), "cores %s", cmd->name);
	argc -= optind;
	argv += optind;
	optind = 0;	/* the command's getopt starts afresh */
	c.rc = cmd->run(&c, argc, argv);
out:
	ck_core_policy_deinit(&c.policy);
	free(c.store_opt);
	return c.rc;
}
