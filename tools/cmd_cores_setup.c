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

/* Called by cmd_cores.c; declared here and there (tools/ see only
 * crashkit.h and tools.h). */
int ck_cores_handle(int argc, char **argv);
int ck_cores_setup(const char *cmd, struct ck_core_policy *policy, const char *config,
		   bool config_given, const char *store_opt, int argc, char **argv);

/* What setup commands see of `crashkit cores [--store DIR] [--config FILE]`. */
struct setup {
	struct ck_core_policy *policy;
	const char *config;	/* the file read, given or the default */
	bool config_given;	/* by --config or $CRASHKIT_CORES_CONFIG */
	const char *store_opt;	/* --store or $CRASHKIT_CORES_STORE */
};

/* ---- handle ----------------------------------------------------------- */

/* The handler has no terminal: it says everything on stderr and in the
 * kernel log. */
#define handler_log(level, ...) ck_core_logf(ck_core_log_kmsg, stderr, level, __VA_ARGS__)

int ck_cores_handle(int argc, char **argv)
{
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

static int cmd_serve(struct setup *s, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
			free(s->policy->socket);
			s->policy->socket = strdup(argv[++i]);
		} else {
			return ck_usage_error("cores serve", "unknown option '%s'", argv[i]);
		}
	}
	struct ck_error *err = ck_core_receiver_run(s->policy, ck_core_log_kmsg, stderr);
	return err ? ck_report(err) : CK_EXIT_OK;
}

/* ---- install, uninstall, check ---------------------------------------- */

/* A receiver on the socket: the one listening, or one started detached. */
static struct ck_error *ensure_receiver(struct setup *s, const char *self)
{
	const char *path = ck_core_policy_socket(s->policy);
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

static int cmd_install(struct setup *s, int argc, char **argv)
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
	struct ck_error *err;
	if (sock) {
		err = ensure_receiver(s, self);
		if (err)
			return ck_report(err);
		err = ck_core_install_socket(s->policy, &pattern);
		if (err)
			return ck_report(ck_error_prepend(err, "install --socket"));
	} else {
		err = ck_core_install(s->policy, self, s->config_given ? s->config : NULL,
				      &pattern);
		if (err)
			return ck_report(ck_error_prepend(err, "install"));
	}
	printf("core_pattern: %s\n", pattern);
	free(pattern);
	return CK_EXIT_OK;
}

static int cmd_uninstall(struct setup *s, int argc, char **argv)
{
	if (argc > 1)
		return ck_usage_error("cores uninstall", "no arguments expected");
	char *restored = NULL;
	struct ck_error *err = ck_core_uninstall(s->policy, &restored);
	if (err)
		return ck_report(ck_error_prepend(err, "uninstall"));
	printf("core_pattern restored: %s\n", restored);
	free(restored);
	return CK_EXIT_OK;
}

/* The first line of /proc/sys/kernel/NAME, NULL when unreadable. */
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

static void check_kernel(struct setup *s)
{
	char *pattern = sysctl("/proc/sys/kernel/core_pattern");
	char *limit = sysctl("/proc/sys/kernel/core_pipe_limit");
	char *suid = sysctl("/proc/sys/kernel/suid_dumpable");
	char *modes = sysctl("/proc/sys/kernel/core_modes");
	printf("core_pattern:    %s\n", pattern ? pattern : "?");
	printf("owned by:        %s\n", ck_core_pattern_owner(pattern, s->policy));
	printf("core_pipe_limit: %s%s\n", limit ? limit : "?",
	       limit && !strcmp(limit, "0") ? " (the handler may lose /proc/<pid> after EOF)" : "");
	printf("suid_dumpable:   %s (%s)\n", suid ? suid : "?", suid_dumpable_meaning(suid));
	printf("core_modes:      %s\n", modes ? modes : "(absent: no socket mode, Linux < 6.16)");
	const char *sock = ck_core_policy_socket(s->policy);
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

static void check_catalog(struct setup *s)
{
	const char *store = ck_core_policy_store(s->policy);
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
		       ", keep_free %" PRIu64 ")\n", nr, bytes, s->policy->max_use,
		       s->policy->keep_free);
		ck_core_records_destroy(recs, nr);
	}
	ck_catalog_destroy(cat);
}

static int cmd_check(struct setup *s, int argc, char **argv)
{
	check_kernel(s);
	check_rlimit();
	printf("config:          %s\n", s->config);
	printf("store:           %s\n", ck_core_policy_store(s->policy));
	check_catalog(s);
	return CK_EXIT_OK;
}

int ck_cores_setup(const char *cmd, struct ck_core_policy *policy, const char *config,
		   bool config_given, const char *store_opt, int argc, char **argv)
{
	struct setup s = { .policy = policy, .config = config, .config_given = config_given,
			   .store_opt = store_opt };
	if (!strcmp(cmd, "serve"))
		return cmd_serve(&s, argc, argv);
	if (!strcmp(cmd, "install"))
		return cmd_install(&s, argc, argv);
	if (!strcmp(cmd, "uninstall"))
		return cmd_uninstall(&s, argc, argv);
	if (!strcmp(cmd, "check"))
		return cmd_check(&s, argc, argv);
	return ck_usage_error("cores", "unknown command '%s'", cmd);
}
