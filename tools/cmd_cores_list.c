/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * crashkit list (crashkit-cores catalog): kernel dumps and userspace cores
 * in one listing, newest first, grouped by signature (docs/catalog.md).
 * Kernel dumps are indexed by crashkit-analyze's triage, run as a
 * subprocess from this binary's directory: crashkit-cores does not link
 * the analysis layer.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools.h"

enum { OPT_JSON = 0x100, OPT_SINCE, OPT_SIGNATURE, OPT_KIND, OPT_DIR, OPT_KDUMP_CONF,
       OPT_NO_INDEX, OPT_REINDEX };

static const struct option list_opts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "lines", required_argument, NULL, 'n' },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "signature", required_argument, NULL, OPT_SIGNATURE },
	{ "kind", required_argument, NULL, OPT_KIND },
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "kdump-config", required_argument, NULL, OPT_KDUMP_CONF },
	{ "no-index", no_argument, NULL, OPT_NO_INDEX },
	{ "reindex", no_argument, NULL, OPT_REINDEX },
	{ "verbose", no_argument, NULL, 'v' },
	CK_CORES_COMMON_OPTS,
};

struct list_args {
	bool json, verbose;
	long lines;			/* -1: all */
	int64_t since_usec;		/* INT64_MIN: all */
	const char *signature;
	int kind;			/* -1 both, 0 user, 1 kernel */
	const char **dirs;
	size_t nr_dirs;
	const char *kdump_conf;
	struct ck_crash_opts opts;
};

static int list_option(struct list_args *a, int o, const char *val)
{
	char *end;
	switch (o) {
	case OPT_JSON:
		a->json = true;
		break;
	case 'v':
		a->verbose = true;
		break;
	case 'n':
		errno = 0;
		a->lines = strtol(val, &end, 10);
		if (errno || *end || end == val || a->lines < 0)
			return ck_usage_error("list", "bad number '%s' for -n", val);
		break;
	case OPT_SINCE:
		if (!ck_cores_parse_time(val, &a->since_usec))
			return ck_usage_error("list", "bad time '%s'", val);
		break;
	case OPT_SIGNATURE:
		if (!val[0] || strlen(val) > 16 || strspn(val, "0123456789abcdefABCDEF") != strlen(val))
			return ck_usage_error("list", "bad signature '%s' (up to 16 hex digits)", val);
		a->signature = val;
		break;
	case OPT_KIND:
		if (strcmp(val, "kernel") && strcmp(val, "user"))
			return ck_usage_error("list", "bad kind '%s' (kernel or user)", val);
		a->kind = !strcmp(val, "kernel");
		break;
	case OPT_DIR:
		a->dirs[a->nr_dirs++] = val;
		break;
	case OPT_KDUMP_CONF:
		a->kdump_conf = val;
		break;
	case OPT_NO_INDEX:
		a->opts.no_index = true;
		break;
	default:	/* OPT_REINDEX */
		a->opts.reindex = true;
		break;
	}
	return CK_EXIT_OK;
}

/* DIR/name where DIR is this binary's directory; NULL if it is not there. */
static char *sibling(const char *name)
{
	char *p = ck_tool_sibling(name);
	if (p && access(p, X_OK) != 0) {
		free(p);
		return NULL;
	}
	return p;
}

static void list_log(void *arg, int level, const char *msg)
{
	const struct list_args *a = arg;
	if (level <= 4)
		ck_warn("list: %s", msg);
	else if (a->verbose)
		fprintf(stderr, "%s list: %s\n", ck_progname, msg);
}

static bool wanted(const struct list_args *a, const struct ck_crash *c)
{
	if (a->kind >= 0 && c->kernel != (a->kind == 1))
		return false;
	if (c->time_usec < a->since_usec)
		return false;
	return !a->signature ||
	       !strncasecmp(c->signature, a->signature, strlen(a->signature));
}

/* Printable copy of an untrusted text: control bytes become '?'. */
static const char *safe(const char *s, char *buf, size_t size)
{
	size_t i = 0;
	for (; s[i] && i + 1 < size; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

static void fmt_time(int64_t usec, char *buf, size_t size)
{
	time_t t = (time_t)(usec / 1000000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
}

/* The header of --signature: each group whose signature starts with sig,
 * over every crash of it (whatever --kind, --since and -n show). */
static void print_group(const struct ck_crash *all, size_t nr, const char *sig)
{
	size_t plen = strlen(sig);
	for (size_t i = 0; i < nr; i++) {
		bool first = !strncasecmp(all[i].signature, sig, plen);
		for (size_t k = 0; k < i && first; k++)
			first = strcmp(all[k].signature, all[i].signature) != 0;
		if (!first)
			continue;
		char last[32], oldest[32], buf[512];
		fmt_time(all[i].time_usec, last, sizeof(last));
		oldest[0] = '\0';
		for (size_t k = i; k < nr; k++)
			if (!strcmp(all[k].signature, all[i].signature))
				fmt_time(all[k].time_usec, oldest, sizeof(oldest));
		printf("Signature %s (%s): seen %u time%s on %u boot%s, first %s, last %s\n"
		       "  %s\n",
		       all[i].signature, all[i].class_name, all[i].seen,
		       all[i].seen == 1 ? "" : "s", all[i].boots, all[i].boots == 1 ? "" : "s",
		       oldest, last, safe(all[i].title, buf, sizeof(buf)));
	}
	printf("\n");
}

static void print_text(const struct ck_crash *shown, size_t nr)
{
	printf("%-19s %-6s %7s %-24s %-16s %10s  %s\n", "TIME", "KIND", "PID", "CLASS", "SIGNATURE",
	       "SEEN/BOOTS", "TITLE");
	for (size_t i = 0; i < nr; i++) {
		const struct ck_crash *c = &shown[i];
		char t[32], title[512], cls[64], seen[32], pid[16];
		fmt_time(c->time_usec, t, sizeof(t));
		snprintf(seen, sizeof(seen), "%u/%u", c->seen, c->boots);
		if (c->pid >= 0)
			snprintf(pid, sizeof(pid), "%d", c->pid);
		else
			snprintf(pid, sizeof(pid), "-");
		const char *ttl = c->title[0] ? c->title : c->state;
		printf("%-19s %-6s %7s %-24s %-16s %10s  %s\n", t, c->kernel ? "kernel" : "user", pid,
		       safe(c->class_name, cls, sizeof(cls)), c->signature[0] ? c->signature : "-",
		       seen, safe(ttl, title, sizeof(title)));
	}
}

/* The crashes the options select, newest first, at most -n of them; the
 * rest are freed. */
static size_t select_crashes(const struct list_args *a, struct ck_crash *all, size_t nr)
{
	size_t kept = 0;
	for (size_t i = 0; i < nr; i++) {
		bool keep = wanted(a, &all[i]) && (a->lines < 0 || (long)kept < a->lines);
		if (!keep) {
			ck_crash_deinit(&all[i]);
			continue;
		}
		if (kept != i)
			all[kept] = all[i];
		kept++;
	}
	return kept;
}

static int list_run(struct ck_cores_ctx *c, struct list_args *a)
{
	char **defaults = NULL;
	size_t nr_defaults = 0;
	struct ck_error *err = NULL;
	if (!a->nr_dirs) {
		err = ck_crash_default_dirs(a->kdump_conf, &defaults, &nr_defaults);
		if (err)
			return ck_report(err);
	}
	char *analyzer = sibling("crashkit-analyze");
	char *info = sibling("crashkit");
	a->opts.store = ck_core_policy_store(&c->policy);
	a->opts.dirs = a->nr_dirs ? a->dirs : (const char *const *)defaults;
	a->opts.nr_dirs = a->nr_dirs ? a->nr_dirs : nr_defaults;
	a->opts.dirs_given = a->nr_dirs > 0;
	a->opts.analyzer = analyzer;
	a->opts.info_tool = info;
	a->opts.log = list_log;
	a->opts.log_arg = a;
	if (!analyzer && !a->opts.no_index) {
		ck_warn("list: crashkit-analyze is not next to this binary: new kernel dumps "
			"are listed without triage");
		a->opts.no_index = true;
	}
	struct ck_crash *all = NULL;
	size_t nr = 0;
	struct ck_crash_stats st;
	err = ck_crashes_collect(&a->opts, &all, &nr, &st);
	free(analyzer);
	free(info);
	for (size_t i = 0; i < nr_defaults; i++)
		free(defaults[i]);
	free(defaults);
	if (err)
		return ck_report(ck_error_prepend(err, "list"));
	if (a->verbose)
		fprintf(stderr, "%s list: %u kernel dumps: %u triaged now, %u from triage.json, "
			"%u from the index\n", ck_progname, st.dumps, st.triaged, st.from_file,
			st.cached);
	/* --signature's header counts the whole group: before the selection. */
	bool any = false;
	for (size_t i = 0; a->signature && i < nr && !any; i++)
		any = wanted(a, &all[i]);
	if (a->signature && any && !a->json)
		print_group(all, nr, a->signature);
	size_t shown = select_crashes(a, all, nr);
	int rc = CK_EXIT_OK;
	if (a->json) {
		char *js = ck_crashes_json(all, shown);
		if (js)
			printf("%s\n", js);
		else
			rc = ck_report(&ck_error_nomem);
		free(js);
	} else if (a->signature && !shown) {
		fprintf(stderr, "%s: error: list: no crash has signature '%s'\n", ck_progname,
			a->signature);
		rc = CK_EXIT_ERROR;
	} else {
		print_text(all, shown);
	}
	ck_crashes_destroy(all, shown);
	if (rc == CK_EXIT_OK && (fflush(stdout) != 0 || ferror(stdout)))
		rc = ck_report(ck_error_create_errno(errno, "standard output"));
	return rc;
}

static int cmd_catalog(struct ck_cores_ctx *c, int argc, char **argv)
{
	struct list_args a = { .lines = -1, .since_usec = INT64_MIN, .kind = -1 };
	a.dirs = calloc((size_t)argc + 1, sizeof(*a.dirs));
	if (!a.dirs)
		return ck_report(&ck_error_nomem);
	snprintf(c->what, sizeof(c->what), "list");
	int o, rc = CK_EXIT_OK;
	while ((o = ck_cores_getopt(c, argc, argv)) >= 0)
		if ((rc = list_option(&a, o, optarg)))
			break;
	if (!rc && o == CK_CORES_STOP)
		rc = c->rc;
	else if (!rc && optind < argc)
		rc = ck_usage_error("list", "unexpected argument '%s'", argv[optind]);
	else if (!rc)
		rc = list_run(c, &a);
	free(a.dirs);
	return rc;
}

const struct ck_cores_cmd ck_cores_catalog_cmd = {
	"catalog",
	"usage: crashkit list [OPTIONS]   (also: crashkit cores catalog [OPTIONS])\n\n"
	"Kernel dumps and userspace cores together, newest first: time, kind, PID\n"
	"(kernel: the panic task), class, signature, how often that signature was\n"
	"seen and on how many boots, title.  A kernel dump is indexed once: triage\n"
	"runs on it, its JSON is stored beside it as triage.json and the result is\n"
	"kept in the catalog (root), keyed by path, size and mtime.\n\n"
	"  --json             one JSON object (schema crashkit-list/1, docs/catalog.md)\n"
	"  -n, --lines N      the newest N crashes only\n"
	"  --since T          crashes at or after T (EPOCH, @EPOCH, -N[smhd] ago,\n"
	"                     YYYY-MM-DD[ HH:MM[:SS]])\n"
	"  --signature S      the crashes of signature S (16 hex digits, or a prefix),\n"
	"                     headed by the group: seen N times on M boots\n"
	"  --kind K           kernel or user\n"
	"  --dir DIR          look for kernel dumps in DIR (repeatable; default: the\n"
	"                     kdump target of " CK_KDUMP_CONF_DEFAULT ", else\n"
	"                     " CK_KDUMP_TARGET_DEFAULT ", and /var/crash)\n"
	"  --kdump-config F   read the kdump target from F\n"
	"  --no-index         never run triage (new dumps are listed bare)\n"
	"  --reindex          run triage again on every kernel dump\n"
	"  -v, --verbose      say on stderr what was indexed and what came from the index\n"
	"  --store DIR        the cores' store (default: the config's)\n"
	"  --config FILE      the cores' policy (default " CK_CORE_CONFIG_DEFAULT ")\n"
	"  -h, --help         this text; --version: crashkit's version\n"
	"Options go anywhere on the line; '--' ends them.  See crashkit-list(1).\n",
	":hn:v", list_opts, cmd_catalog,
};
