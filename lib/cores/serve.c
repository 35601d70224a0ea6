/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Socket mode (Linux 6.16): core_pattern "@/path" makes the kernel connect to
 * a listening AF_UNIX stream socket at /path for every crash and write the
 * core into the connection.  What fs/coredump.c does, which this file relies
 * on:
 *  - the path must be absolute, without spaces or "..", shorter than
 *    UNIX_PATH_MAX; writing anything else to core_pattern fails with EINVAL;
 *  - it is looked up from init's root, symlinks refused, with kernel
 *    credentials: every process can reach a 0600 root socket;
 *  - connect() is non-blocking: when the listen backlog is full the crash gets
 *    no core ("receive queue full"), so we accept at once and queue ourselves;
 *  - there are no % arguments: the peer is the crashing thread-group leader
 *    (SO_PEERPIDFD, Linux 6.5), and PIDFD_GET_INFO (6.13) gives its pid and
 *    credentials and, with PIDFD_INFO_COREDUMP (6.16), PIDFD_COREDUMPED, set
 *    before the connect: only real crashes carry it, so other local
 *    connections are refused;
 *  - the signal is in PIDFD_INFO_COREDUMP_SIGNAL only from 6.19; before that
 *    the core's first NT_PRSTATUS says (core_backtrace.c);
 *  - after the core the kernel shuts down its sending side (we read EOF) and,
 *    with core_pipe_limit != 0, waits until we close the connection, keeping
 *    /proc/<pid>;
 *  - the receiver must not dump core into itself: it marks itself
 *    non-dumpable.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "cores/cores.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

/* include/uapi/linux/pidfd.h, third published size (80 bytes); the kernel
 * fills what it knows and says so in mask. */
struct ck_pidfd_info {
	uint64_t mask;
	uint64_t cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	int32_t exit_code;
	uint32_t coredump_mask;
	uint32_t coredump_signal;
	uint64_t supported_mask;
};
#define CK_PIDFD_INFO_CREDS (1ULL << 1)
#define CK_PIDFD_INFO_COREDUMP (1ULL << 4)
#define CK_PIDFD_INFO_COREDUMP_SIGNAL (1ULL << 6)
#define CK_PIDFD_COREDUMPED (1U << 0)
#define CK_PIDFD_COREDUMP_USER (1U << 2)
#define CK_PIDFD_COREDUMP_ROOT (1U << 3)
#define CK_PIDFD_GET_INFO _IOWR(0xFF, 11, struct ck_pidfd_info)

/* Crashes processed at once; more connections wait (accepted) for a slot. */
#define SERVE_WORKERS 4

struct ck_error *ck_core_peer_args(int conn, struct ck_core_args *ret)
{
	int pidfd = -1;
	socklen_t len = sizeof(pidfd);
	if (getsockopt(conn, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0)
		return ck_error_create_errno(errno, "SO_PEERPIDFD");
	struct ck_pidfd_info info = { .mask = CK_PIDFD_INFO_CREDS | CK_PIDFD_INFO_COREDUMP |
					      CK_PIDFD_INFO_COREDUMP_SIGNAL };
	if (ioctl(pidfd, CK_PIDFD_GET_INFO, &info) < 0) {
		int e = errno;
		close(pidfd);
		return ck_error_create_errno(e, "PIDFD_GET_INFO of the peer");
	}
	if (!(info.mask & CK_PIDFD_INFO_COREDUMP) ||
	    !(info.coredump_mask & CK_PIDFD_COREDUMPED)) {
		close(pidfd);
		return ck_error_create(CK_ERR_INVALID,
				       "peer pid %u is not dumping core: not the kernel, refused",
				       info.tgid);
	}
	struct ck_core_args a = {
		.pid = (int)info.tgid,
		.tid = (int)info.tgid,
		.uid = (int)info.ruid,
		.gid = (int)info.rgid,
		.signal = (info.mask & CK_PIDFD_INFO_COREDUMP_SIGNAL) ? (int)info.coredump_signal
								       : 0,
		.time_sec = -1,
		.pidfd = pidfd,
		.release_input = true,
		.mode = "socket",
		.dumpable = (info.coredump_mask & CK_PIDFD_COREDUMP_ROOT) ? 2
			    : (info.coredump_mask & CK_PIDFD_COREDUMP_USER) ? 1 : -1,
	};
	*ret = a;
	return NULL;
}

struct ck_error *ck_core_serve_listen(const char *path, int *fd_ret)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (!path || path[0] != '/' || strlen(path) >= sizeof(addr.sun_path))
		return ck_error_create(CK_ERR_INVALID, "socket path '%s' must be absolute and "
				       "shorter than %zu bytes", path ? path : "",
				       sizeof(addr.sun_path));
	memcpy(addr.sun_path, path, strlen(path) + 1);
	/* The parent directory: created 0755 if missing (/run/crashkit). */
	_cleanup_free_ char *dir = strdup(path);
	if (!dir)
		return &ck_error_nomem;
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return ck_error_create_errno(errno, "creating '%s'", dir);
	}
	/* A stale socket from an earlier receiver goes; anything else stays. */
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return ck_error_create(CK_ERR_INVALID, "'%s' exists and is not a socket",
					       path);
		if (ck_core_socket_listening(path))
			return ck_error_create(CK_ERR_INVALID,
					       "'%s': another receiver is listening", path);
		unlink(path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ck_error_create_errno(errno, "socket");
	mode_t old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	int e = errno;
	umask(old);
	if (rc < 0) {
		close(fd);
		return ck_error_create_errno(e, "bind '%s'", path);
	}
	/* A deep backlog: the kernel's connect does not wait. */
	if (listen(fd, 4096) < 0) {
		e = errno;
		close(fd);
		unlink(path);
		return ck_error_create_errno(e, "listen '%s'", path);
	}
	*fd_ret = fd;
	return NULL;
}

struct serve {
	const struct ck_core_policy *policy;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int threads;	/* alive */
	unsigned int running;	/* processing a crash */
	ck_core_log_fn *log;
	void *log_arg;
};

struct job {
	struct serve *s;
	int conn;
	int64_t accepted_sec;
};

#define serve_log(s, level, ...) ck_core_logf((s)->log, (s)->log_arg, level, __VA_ARGS__)

static void handle_conn(struct serve *s, int conn, int64_t accepted_sec)
{
	struct ck_core_args args;
	struct ck_error *err = ck_core_peer_args(conn, &args);
	if (err) {
		serve_log(s, 4, "connection: %s", ck_error_message(err));
		ck_error_destroy(err);
		return;
	}
	/* The nearest thing to %t: when the kernel connected. */
	args.time_sec = accepted_sec;
	struct ck_core_record rec;
	err = ck_core_process(s->policy, &args, conn, &rec);
	close(args.pidfd);
	if (err) {
		serve_log(s, 3, "pid %d: %s", args.pid, ck_error_message(err));
		ck_error_destroy(err);
		return;
	}
	serve_log(s, 6, "pid %d (%.32s) signal %d: %s %s%s%s", rec.pid, rec.comm, rec.signal,
		  rec.name, rec.state, rec.reason[0] ? ": " : "", rec.reason);
	ck_core_record_deinit(&rec);
}

static void *job_main(void *arg)
{
	struct job *j = arg;
	struct serve *s = j->s;
	pthread_mutex_lock(&s->lock);
	while (s->running >= SERVE_WORKERS)
		pthread_cond_wait(&s->cond, &s->lock);
	s->running++;
	pthread_mutex_unlock(&s->lock);

	handle_conn(s, j->conn, j->accepted_sec);
	close(j->conn);
	free(j);

	pthread_mutex_lock(&s->lock);
	s->running--;
	s->threads--;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

struct ck_error *ck_core_serve(const struct ck_core_policy *policy, int listen_fd,
			       int stop_fd, ck_core_log_fn *log, void *log_arg)
{
	/* A crash of the receiver would be sent to the receiver. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	struct serve s = { .policy = policy, .log = log, .log_arg = log_arg };
	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.cond, NULL);
	struct ck_error *err = NULL;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		struct pollfd p[2] = { { .fd = listen_fd, .events = POLLIN },
				       { .fd = stop_fd, .events = POLLIN } };
		int n = poll(p, stop_fd >= 0 ? 2 : 1, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = ck_error_create_errno(errno, "poll");
			break;
		}
		if (stop_fd >= 0 && p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED)
				continue;
			err = ck_error_create_errno(errno, "accept");
			break;
		}
		struct job *j = malloc(sizeof(*j));
		if (!j) {
			close(conn);
			continue;
		}
		*j = (struct job){ .s = &s, .conn = conn, .accepted_sec = (int64_t)time(NULL) };
		pthread_mutex_lock(&s.lock);
		s.threads++;
		pthread_mutex_unlock(&s.lock);
		pthread_t t;
		if (pthread_create(&t, &attr, job_main, j) != 0) {
			/* No thread: handle it here rather than lose it. */
			pthread_mutex_lock(&s.lock);
			s.threads--;
			pthread_mutex_unlock(&s.lock);
			handle_conn(&s, conn, j->accepted_sec);
			close(conn);
			free(j);
		}
	}
	/* Crashes in progress finish; new ones get no core while we are down. */
	pthread_mutex_lock(&s.lock);
	while (s.threads)
		pthread_cond_wait(&s.cond, &s.lock);
	pthread_mutex_unlock(&s.lock);
	pthread_attr_destroy(&attr);
	pthread_cond_destroy(&s.cond);
	pthread_mutex_destroy(&s.lock);
	return err;
}

bool ck_core_socket_listening(const char *path)
{
	/* "Num RefCount Protocol Flags Type St Inode Path"; Flags 00010000 is
	 * __SO_ACCEPTCON (listening). */
	FILE *f = fopen("/proc/net/unix", "re");
	if (!f)
		return false;
	char line[4096];
	bool found = false;
	size_t plen = strlen(path);
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long flags;
		int pos = 0;
		if (sscanf(line, "%*s %*s %*s %lx %*s %*s %*s %n", &flags, &pos) < 1 || !pos)
			continue;
		const char *p = line + pos;
		found = (flags & 0x10000) && !strncmp(p, path, plen) &&
			(p[plen] == '\n' || p[plen] == '\0');
	}
	fclose(f);
	return found;
}

bool ck_core_socket_mode_supported(void)
{
	char *text;
	struct ck_error *err = ck_core_read_small(AT_FDCWD, "/proc/sys/kernel/core_modes", 4096,
						  &text, NULL);
	if (err) {
		ck_error_destroy(err);
		return false;
	}
	bool yes = false;
	for (char *l = text, *next; l && *l; l = next) {
		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		yes |= !strcmp(l, "socket");
	}
	free(text);
	return yes;
}
