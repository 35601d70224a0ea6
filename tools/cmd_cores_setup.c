/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * crashkit cores: the setup commands.  handle is the core_pattern pipe
 * handler, serve the socket-mode receiver; install, uninstall and check set,
 * restore and explain core_pattern.  The catalog commands and the dispatch
 * are in cmd_cores.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "tools.h"

/* ---- handle ----------------------------------------------------------- */

/* The handler has no terminal: it says everything on stderr and in the
 * kernel log. */
#define handler_log(level, ...) ck_core_logf(ck_core_log_kmsg, stderr, level, __VA_ARGS__)

static const char handle_help[] =
	"usage: crashkit-cores handle [--config=FILE] P=%P u=%u g=%g s=%s t=%t [KEY=VALUE...]\n"
	"\n"
	"The core_pattern pipe handler: the kernel runs it for every crash, the core\n"
	"on standard input.  'crashkit cores install' writes its command line; it is\n"
	"not meant to be run by hand.  Keys: P pid, i tid, I tid (init namespace),\n"
	"u uid, g gid, s signal, t time, c core size limit, h hostname, e comm,\n"
	"F a pidfd as fd 3 (Linux 6.16), d dumpable; unknown keys are ignored.\n"
	"It reads no environment: the config is --config=FILE or " CK_CORE_CONFIG_DEFAULT ".\n";

int ck_cores_handle(int argc, char **argv)
{
	const char *config = NULL;
	int i = 1;
	for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strncmp(argv[i], "--config=", 9)) {
			config = argv[i] + 9;
		} else if (!strcmp(argv[i], "--help")) {
			return ck_print_help(handle_help);
		} else if (!strcmp(argv[i], "--version")) {
			return ck_print_version();
		} else {
			handler_log(3, "unknown option '%.64s'", argv[i]);
			return CK_EXIT_USAGE;
		}
	}
	/* No environment is trusted here: the kernel gives none anyway. */
	struct ck_core_policy policy;
	ck_core_policy_init(&policy);
	struct ck_error *err = ck_core_policy_load(&policy, config ? config : CK_CORE_CONFIG_DEFAULT,
						   !config);
	if (err) {
		handler_log(3, "config: %s; using defaults", ck_error_message(err));
		ck_error_destroy(err);
		ck_core_policy_deinit(&policy);
		ck_core_policy_init(&policy);
	}
	struct ck_core_record rec;
	err = ck_core_handle(&policy, argc - i, argv + i, STDIN_FILENO, &rec);
	ck_core_policy_deinit(&policy);
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

/* ---- serve: the socket-mode receiver ------------------------------------ */

enum { OPT_SOCKET = 0x100 };

static const struct option serve_opts[] = {
	{ "socket", required_argument, NULL, OPT_SOCKET },
	CK_CORES_COMMON_OPTS,
};

static int cmd_serve(struct ck_cores_ctx *c, int argc, char **argv)
{
	const char *sock = NULL;
	int o;
	while ((o = ck_cores_getopt(c, argc, argv)) >= 0)
		sock = optarg;	/* --socket */
	if (o == CK_CORES_STOP)
		return c->rc;
	if (optind < argc)
		return ck_usage_error("cores serve", "unexpected argument '%s'", argv[optind]);
	if (sock) {
		free(c->policy.socket);
		c->policy.socket = strdup(sock);
		if (!c->policy.socket)
			return ck_report(&ck_error_nomem);
	}
	struct ck_error *err = ck_core_receiver_run(&c->policy, ck_core_log_kmsg, stderr);
	return err ? ck_report(err) : CK_EXIT_OK;
}

const struct ck_cores_cmd ck_cores_serve_cmd = {
	"serve",
	"usage: crashkit cores serve [--socket PATH]\n\n"
	"The socket-mode receiver (Linux >= 6.16): listens on PATH (the config's\n"
	"'socket', default " CK_CORE_SOCKET_DEFAULT "), takes one connection per crash\n"
	"and stores it as the pipe handler does.  SIGTERM or SIGINT stop it.\n\n"
	"  --socket PATH    listen there\n"
	"  --store DIR      the store (default: the config's)\n"
	"  --config FILE    the policy (default " CK_CORE_CONFIG_DEFAULT ")\n"
	"  -h, --help       this text; --version: crashkit's version\n",
	":h", serve_opts, cmd_serve,
};

/* ---- install, uninstall, check ---------------------------------------- */

/* A receiver on the socket: the one listening, or one started detached. */
static struct ck_error *ensure_receiver(struct ck_cores_ctx *s, const char *self)
{
	const char *path = ck_core_policy_socket(&s->policy);
	if (!ck_core_socket_mode_supported())
		return ck_error_create(CK_ERR_INVALID, "install --socket: this "
				       "kernel has no socket mode (Linux >= 6.16)");
	if (ck_core_socket_listening(path)) {
		printf("receiver: already listening on %s\n", path);
		return NULL;
	}
	int pid = -1;
	struct ck_error *err = ck_core_receiver_spawn(self, s->config_given ? s->config : NULL,
						      s->store_opt, path, &pid);
	if (err)
		return ck_error_prepend(err, "install --socket");
	printf("receiver: started, pid %d, on %s\n", pid, path);
	return NULL;
}

static const struct option install_opts[] = {
	{ "socket", no_argument, NULL, OPT_SOCKET },
	CK_CORES_COMMON_OPTS,
};

static int cmd_install(struct ck_cores_ctx *s, int argc, char **argv)
{
	bool sock = false;
	int o;
	while ((o = ck_cores_getopt(s, argc, argv)) >= 0)
		sock = true;	/* --socket */
	if (o == CK_CORES_STOP)
		return s->rc;
	if (optind < argc)
		return ck_usage_error("cores install", "unknown argument '%s'", argv[optind]);
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return ck_report(ck_error_create_errno(errno, "/proc/self/exe"));
	self[n] = '\0';
	char *pattern = NULL;
	struct ck_error *err;
	if (sock) {
		err = ensure_receiver(s, self);
		if (err)
			return ck_report(err);
		err = ck_core_install_socket(&s->policy, &pattern);
		if (err)
			return ck_report(ck_error_prepend(err, "install --socket"));
	} else {
		err = ck_core_install(&s->policy, self, s->config_given ? s->config : NULL,
				      &pattern);
		if (err)
			return ck_report(ck_error_prepend(err, "install"));
	}
	printf("core_pattern: %s\n", pattern);
	free(pattern);
	return CK_EXIT_OK;
}

static const struct option common_opts[] = {
	CK_CORES_COMMON_OPTS,
};

static int cmd_uninstall(struct ck_cores_ctx *s, int argc, char **argv)
{
	if (ck_cores_getopt(s, argc, argv) == CK_CORES_STOP)
		return s->rc;
	if (optind < argc)
		return ck_usage_error("cores uninstall", "no arguments expected");
	char *restored = NULL;
	struct ck_error *err = ck_core_uninstall(&s->policy, &restored);
	if (err)
		return ck_report(ck_error_prepend(err, "uninstall"));
	printf("core_pattern restored: %s\n", restored);
	free(restored);
	return CK_EXIT_OK;
}

/* The first line of a /proc/sys file, NULL when unreadable. */
static char *sysctl(const char *path)
{
	char *text = NULL;
	struct ck_error *err = ck_core_sysctl_read(path, &text);
	ck_error_destroy(err);
	return err ? NULL : text;
}

static const char *suid_dumpable_meaning(const char *suid)
{
	return !suid ? "?" : !strcmp(suid, "0") ? "setuid programs do not dump"
	       : !strcmp(suid, "1") ? "debug: everything dumps, as the user (insecure)"
	       : !strcmp(suid, "2") ? "setuid programs dump, readable by root only"
	       : "unknown";
}

static void check_kernel(struct ck_cores_ctx *s)
{
	char *pattern = sysctl("/proc/sys/kernel/core_pattern");
	char *limit = sysctl("/proc/sys/kernel/core_pipe_limit");
	char *suid = sysctl("/proc/sys/fs/suid_dumpable");
	char *modes = sysctl("/proc/sys/kernel/core_modes");
	printf("core_pattern:    %s\n", pattern ? pattern : "?");
	printf("owned by:        %s\n", ck_core_pattern_owner(pattern, &s->policy));
	printf("core_pipe_limit: %s%s\n", limit ? limit : "?",
	       limit && !strcmp(limit, "0") ? " (the handler may lose /proc/<pid> after EOF)" : "");
	printf("suid_dumpable:   %s (%s)\n", suid ? suid : "?", suid_dumpable_meaning(suid));
	printf("core_modes:      %s\n", modes ? modes : "(absent: no socket mode, Linux < 6.16)");
	const char *sock = ck_core_policy_socket(&s->policy);
	printf("socket receiver: %s %s\n", sock,
	       ck_core_socket_listening(sock) ? "(listening)" : "(not listening)");
	free(pattern);
	free(limit);
	free(suid);
	free(modes);
}

static void check_rlimit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_CORE, &rl) != 0)
		return;
	if (rl.rlim_cur == RLIM_INFINITY)
		printf("ulimit -c:       unlimited\n");
	else
		printf("ulimit -c:       %llu%s\n", (unsigned long long)rl.rlim_cur / 1024,
		       rl.rlim_cur == 0 ? " (file patterns write nothing; pipes still get the "
					  "core, passed as %c)" : " KiB");
}

static void check_catalog(struct ck_cores_ctx *s)
{
	const char *store = ck_core_policy_store(&s->policy);
	struct ck_catalog *cat;
	struct ck_error *err = ck_catalog_open(store, false, &cat);
	if (err) {
		printf("catalog:         %s\n", ck_error_message(err));
		ck_error_destroy(err);
		return;
	}
	struct ck_core_record *recs;
	size_t nr;
	if (!ck_catalog_find(cat, NULL, &recs, &nr)) {
		uint64_t bytes = 0;
		for (size_t k = 0; k < nr; k++)
			bytes += recs[k].stored_size;
		printf("catalog:         %zu crashes, %" PRIu64 " bytes of cores (max_use %" PRIu64
		       ", keep_free %" PRIu64 ")\n", nr, bytes, s->policy.max_use,
		       s->policy.keep_free);
		ck_core_records_destroy(recs, nr);
	}
	ck_catalog_destroy(cat);
}

static int cmd_check(struct ck_cores_ctx *s, int argc, char **argv)
{
	if (ck_cores_getopt(s, argc, argv) == CK_CORES_STOP)
		return s->rc;
	if (optind < argc)
		return ck_usage_error("cores check", "no arguments expected");
	check_kernel(s);
	check_rlimit();
	printf("config:          %s\n", s->config);
	printf("store:           %s\n", ck_core_policy_store(&s->policy));
	check_catalog(s);
	return CK_EXIT_OK;
}

#define SETUP_HELP								\
	"  --store DIR      the store (default: the config's)\n"			\
	"  --config FILE    the policy (default " CK_CORE_CONFIG_DEFAULT ")\n"	\
	"  -h, --help       this text; --version: crashkit's version\n"

const struct ck_cores_cmd ck_cores_install_cmd = {
	"install",
	"usage: crashkit cores install [--socket]\n\n"
	"Points core_pattern at this crashkit-cores (|.../crashkit-cores handle ...),\n"
	"remembering the pattern it replaces, and raises core_pipe_limit to 128.\n"
	"A --config given here is written into the pattern.\n\n"
	"  --socket         socket mode (Linux >= 6.16): core_pattern @PATH, with a\n"
	"                   receiver that listens there or one started now\n"
	SETUP_HELP,
	":h", install_opts, cmd_install,
};

const struct ck_cores_cmd ck_cores_uninstall_cmd = {
	"uninstall",
	"usage: crashkit cores uninstall\n\n"
	"Gives core_pattern and core_pipe_limit back the values 'install' replaced.\n\n"
	SETUP_HELP,
	":h", common_opts, cmd_uninstall,
};

const struct ck_cores_cmd ck_cores_check_cmd = {
	"check",
	"usage: crashkit cores check\n\n"
	"Explains the set-up: core_pattern and whose it is, core_pipe_limit,\n"
	"suid_dumpable, socket mode, ulimit -c, the config, the store and its catalog.\n\n"
	SETUP_HELP,
	":h", common_opts, cmd_check,
};
