/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The socket-mode receiver as a process: started by systemd (socket
 * activation), by `cores serve` in the foreground, or detached by `cores
 * install --socket`; stopped by SIGTERM or SIGINT after the crashes in
 * progress (serve.c accepts and stores them).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include "cores/cores.h"

/* sd_listen_fds(3) without libsystemd: fd 3 when LISTEN_PID is us. */
int ck_core_systemd_socket(void)
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

/* SIGTERM/SIGINT as a readable fd: they end the accept loop, and crashes
 * being stored finish first. */
static int stop_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	signal(SIGPIPE, SIG_IGN);
	return sfd;
}

struct ck_error *ck_core_receiver_run(const struct ck_core_policy *policy, ck_core_log_fn *log,
				      void *log_arg)
{
	const char *path = ck_core_policy_socket(policy);
	int fd = ck_core_systemd_socket();
	bool own = fd < 0;
	if (own) {
		struct ck_error *err = ck_core_serve_listen(path, &fd);
		if (err)
			return ck_error_prepend(err, "serve");
	}
	int sfd = stop_signals();
	ck_core_logf(log, log_arg, 6, "receiver listening on %s (pid %d)", path, (int)getpid());
	struct ck_error *err = ck_core_serve(policy, fd, sfd, log, log_arg);
	close(fd);
	if (own)
		unlink(path);
	if (sfd >= 0)
		close(sfd);
	ck_core_logf(log, log_arg, 6, "receiver on %s stopped", path);
	return err;
}

/* In the grandchild: stdio on /dev/null (it logs to /dev/kmsg), then
 * `SELF [--config C] [--store S] serve --socket PATH`. */
static void receiver_exec(const char *self, const char *config, const char *store,
			  const char *path)
{
	int null = open("/dev/null", O_RDWR);
	dup2(null, 0);
	dup2(null, 1);
	dup2(null, 2);
	if (null > 2)
		close(null);
	const char *args[10];
	int n = 0;
	args[n++] = self;	/* crashkit-cores: no "cores" word */
	if (config) {
		args[n++] = "--config";
		args[n++] = config;
	}
	if (store) {
		args[n++] = "--store";
		args[n++] = store;
	}
	args[n++] = "serve";
	args[n++] = "--socket";
	args[n++] = path;
	args[n] = NULL;
	execv(self, (char **)args);
}

struct ck_error *ck_core_receiver_spawn(const char *self, const char *config,
					const char *store, const char *path, int *pid_ret)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return ck_error_create_errno(errno, "pipe");
	pid_t pid = fork();
	if (pid < 0)
		return ck_error_create_errno(errno, "fork");
	if (pid == 0) {
		/* Detached: its own session, reparented to init. */
		setsid();
		pid_t child = fork();
		if (child != 0) {
			if (write(pfd[1], &child, sizeof(child)) < 0)
				_exit(1);
			_exit(child < 0);
		}
		receiver_exec(self, config, store, path);
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
	*pid_ret = (int)daemon;
	return NULL;
}
