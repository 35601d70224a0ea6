/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where the save step's files go (docs/kdump.md "save"): a local directory
 * (a device target is one once the init mounted it), a remote directory
 * through an `ssh` we exec (its stdin is the file; the remote side needs a
 * POSIX shell, cat, mkdir, mv), or an HTTP/1.1 server taking PUT (small
 * files with Content-Length, the dump chunked).  Hooks are run here too.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "capture/kdump_save.h"

#define NET_TIMEOUT_SEC 60

char *ck_save_dest_name(const struct ck_save_dest *d)
{
	const struct ck_kdump_conf *c = d->conf;
	switch (c->target_kind) {
	case CK_KDUMP_TARGET_SSH:
		return ck_strdup_printf("%s:%s", c->ssh_dest, d->dir);
	case CK_KDUMP_TARGET_HTTP:
		return ck_strdup_printf("http://%s:%u%s", c->http_host, c->http_port, d->dir);
	default:
		return ck_strdup_printf("%s", d->dir);
	}
}

/* ---- child processes ------------------------------------------------------ */

/* The first line a child wrote to its error memfd, or "". */
static void child_message(int fd, char *buf, size_t size)
{
	buf[0] = '\0';
	if (fd < 0)
		return;
	size_t got = 0;
	if (ck_pread_n(fd, buf, size - 1, 0, &got))
		got = 0;
	buf[got] = '\0';
	for (char *p = buf; *p; p++) {
		if (*p == '\n' || *p == '\r') {
			*p = '\0';
			/* ssh's "Warning: Permanently added" is not the reason */
			if (!strncmp(buf, "Warning:", 8) && p[1]) {
				memmove(buf, p + 1, strlen(p + 1) + 1);
				p = buf - 1;
				continue;
			}
			break;
		}
	}
}

static struct ck_error *wait_child(pid_t pid, int err_fd, const char *what)
{
	int status;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return ck_error_create_errno(errno, "%s: waitpid", what);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return NULL;
	char msg[512];
	child_message(err_fd, msg, sizeof(msg));
	if (WIFSIGNALED(status))
		return ck_error_create(CK_ERR_OS, "%s: killed by signal %d%s%s", what,
				       WTERMSIG(status), msg[0] ? ": " : "", msg);
	return ck_error_create(CK_ERR_OS, "%s: exit status %d%s%s", what, WEXITSTATUS(status),
			       msg[0] ? ": " : "", msg);
}

/* 'text' for a POSIX shell */
static void sh_quote(struct ck_strbuf *sb, const char *s)
{
	ck_strbuf_adds(sb, "'");
	for (; *s; s++) {
		if (*s == '\'')
			ck_strbuf_adds(sb, "'\\''");
		else
			ck_strbuf_add(sb, s, 1);
	}
	ck_strbuf_adds(sb, "'");
}

/* ssh's argv for remote command cmd. */
static char **ssh_argv(const struct ck_kdump_conf *c, const char *cmd, char *port)
{
	char **av = ck_calloc_array(24, sizeof(*av));
	if (!av)
		return NULL;
	size_t n = 0;
	av[n++] = (char *)"ssh";
	av[n++] = (char *)"-o";
	av[n++] = (char *)"BatchMode=yes";
	av[n++] = (char *)"-o";
	av[n++] = (char *)"ConnectTimeout=30";
	av[n++] = (char *)"-o";
	av[n++] = (char *)"ServerAliveInterval=15";
	av[n++] = (char *)"-o";
	av[n++] = (char *)"ServerAliveCountMax=4";
	if (c->ssh_port) {
		snprintf(port, 16, "%u", c->ssh_port);
		av[n++] = (char *)"-p";
		av[n++] = port;
	}
	if (c->ssh_key[0]) {
		av[n++] = (char *)"-i";
		av[n++] = c->ssh_key;
		av[n++] = (char *)"-o";
		av[n++] = (char *)"IdentitiesOnly=yes";
	}
	if (c->ssh_known_hosts[0]) {
		/* the option's value: "UserKnownHostsFile=PATH" (no spaces: the
		 * parser refuses none, ssh splits on them) */
		char *o = ck_strdup_printf("UserKnownHostsFile=%s", c->ssh_known_hosts);
		if (!o) {
			free(av);
			return NULL;
		}
		av[n++] = (char *)"-o";
		av[n++] = o;
		av[n++] = (char *)"-o";
		av[n++] = (char *)"StrictHostKeyChecking=yes";
	}
	av[n++] = c->ssh_dest;
	av[n++] = (char *)cmd;
	av[n] = NULL;
	return av;
}

static void free_ssh_argv(const struct ck_kdump_conf *c, char **av)
{
	if (!av)
		return;
	for (size_t i = 0; av[i]; i++) {
		if (!strncmp(av[i], "UserKnownHostsFile=", 19))
			free(av[i]);
	}
	free(av);
}

/* Forks: the child's stdin is a pipe whose write end comes back in *in_fd,
 * its stdout /dev/null, its stderr a memfd (*err_fd).  In the child,
 * run(arg) runs and its return is the exit status (or it execs). */
static struct ck_error *spawn(int (*run)(void *), void *arg, const char *what, pid_t *pid_ret,
			      int *in_fd, int *err_fd)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return ck_error_create_errno(errno, "%s: pipe", what);
	int efd = memfd_create("crashkit-child-stderr", MFD_CLOEXEC);
	if (efd < 0) {
		close(p[0]);
		close(p[1]);
		return ck_error_create_errno(errno, "%s: memfd_create", what);
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		close(efd);
		return ck_error_create_errno(e, "%s: fork", what);
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_WRONLY);
		if (dup2(p[0], 0) < 0 || dup2(efd, 2) < 0 || (nul >= 0 && dup2(nul, 1) < 0))
			_exit(126);
		/* run() may not exec: the write end must not stay open here,
		 * or stdin never ends */
		close(p[1]);
		signal(SIGPIPE, SIG_DFL);
		_exit(run(arg));
	}
	close(p[0]);
	*pid_ret = pid;
	*in_fd = p[1];
	*err_fd = efd;
	return NULL;
}

struct exec_arg {
	char **argv;
};

static int run_exec(void *arg)
{
	struct exec_arg *e = arg;
	execvp(e->argv[0], e->argv);
	dprintf(2, "cannot run %s: %s\n", e->argv[0], strerror(errno));
	return 127;
}

/* Starts ssh running cmd remotely; fills s. */
static struct ck_error *ssh_start(const struct ck_kdump_conf *c, const char *cmd,
				  struct ck_save_stream *s)
{
	char port[16];
	struct exec_arg e = { .argv = ssh_argv(c, cmd, port) };
	if (!e.argv)
		return &ck_error_nomem;
	struct ck_error *err = spawn(run_exec, &e, "ssh", &s->pid, &s->fd, &s->err_fd);
	free_ssh_argv(c, e.argv);
	return err;
}

static struct ck_error *ssh_finish(struct ck_save_stream *s, const char *what)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	struct ck_error *err = wait_child(s->pid, s->err_fd, what);
	close(s->err_fd);
	s->err_fd = -1;
	return err;
}

/* Runs cmd over ssh with buf on its stdin. */
static struct ck_error *ssh_run(const struct ck_kdump_conf *c, const char *cmd, const void *buf,
				size_t len, const char *what)
{
	struct ck_save_stream s;
	struct ck_error *err = ssh_start(c, cmd, &s);
	if (err)
		return ck_error_prepend(err, "%s", what);
	int e = len ? ck_write_n(s.fd, buf, len, NULL) : 0;
	err = ssh_finish(&s, what);
	if (!err && e)
		err = ck_error_create_errno(e, "%s: writing to ssh", what);
	return err;
}

/* ---- HTTP --------------------------------------------------------------- */

static struct ck_error *http_connect(const struct ck_kdump_conf *c, int *fd_ret)
{
	char port[16];
	snprintf(port, sizeof(port), "%u", c->http_port);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res;
	int rc = getaddrinfo(c->http_host, port, &hints, &res);
	if (rc)
		return ck_error_create(CK_ERR_OS, "http://%s:%s: %s", c->http_host, port,
				       gai_strerror(rc));
	int fd = -1, e = 0;
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		struct timeval tv = { .tv_sec = NET_TIMEOUT_SEC };
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			e = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		return ck_error_create_errno(e, "http://%s:%s: connect", c->http_host, port);
	*fd_ret = fd;
	return NULL;
}

static struct ck_error *http_request(int fd, const struct ck_kdump_conf *c, const char *path,
				     const char *length_header, const char *url)
{
	char *req = ck_strdup_printf("PUT %s HTTP/1.1\r\nHost: %s:%u\r\nUser-Agent: crashkit/"
				     CRASHKIT_VERSION "\r\nContent-Type: application/octet-stream\r\n"
				     "%s\r\nConnection: close\r\n\r\n", path, c->http_host,
				     c->http_port, length_header);
	if (!req)
		return &ck_error_nomem;
	struct ck_error *err = ck_write_all(fd, req, strlen(req), url);
	free(req);
	return err;
}

/* The status line of the answer: 2xx is success. */
static struct ck_error *http_response(int fd, const char *url)
{
	char buf[512];
	size_t got = 0;
	while (got < sizeof(buf) - 1) {
		ssize_t r = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return ck_error_create_errno(errno, "%s: reading the answer", url);
		if (r == 0)
			break;
		got += (size_t)r;
		if (memchr(buf, '\n', got))
			break;
	}
	buf[got] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	int code = 0;
	if (sscanf(buf, "HTTP/1.%*d %d", &code) != 1)
		return ck_error_create(CK_ERR_FORMAT, "%s: not an HTTP answer: '%.80s'", url, buf);
	if (code < 200 || code > 299)
		return ck_error_create(CK_ERR_OS, "%s: the server answered '%.120s'", url, buf);
	return NULL;
}

static char *http_url(const struct ck_save_dest *d, const char *name, char **path_ret)
{
	*path_ret = ck_strdup_printf("%s/%s", d->dir, name);
	if (!*path_ret)
		return NULL;
	return ck_strdup_printf("http://%s:%u%s", d->conf->http_host, d->conf->http_port,
				*path_ret);
}

static struct ck_error *http_put(const struct ck_save_dest *d, const char *name, const void *buf,
				 size_t len)
{
	char *path = NULL, *url = http_url(d, name, &path);
	if (!url) {
		free(path);
		return &ck_error_nomem;
	}
	int fd = -1;
	char length[48];
	snprintf(length, sizeof(length), "Content-Length: %zu", len);
	struct ck_error *err = http_connect(d->conf, &fd);
	if (!err)
		err = http_request(fd, d->conf, path, length, url);
	if (!err)
		err = ck_write_all(fd, buf, len, url);
	if (!err)
		err = http_response(fd, url);
	if (fd >= 0)
		close(fd);
	free(path);
	free(url);
	return err;
}

struct http_stream_arg {
	const struct ck_save_dest *d;
	const char *name;
};

/* In the child: stdin to the server, chunked, then the answer.  An end of
 * stdin is the end of the body: the parent kills us rather than let a
 * failed dump end cleanly. */
static int run_http_stream(void *arg)
{
	struct http_stream_arg *a = arg;
	char *path = NULL, *url = http_url(a->d, a->name, &path);
	int fd = -1;
	struct ck_error *err = url ? http_connect(a->d->conf, &fd) : &ck_error_nomem;
	if (!err)
		err = http_request(fd, a->d->conf, path, "Transfer-Encoding: chunked", url);
	enum { CHUNK = 1 << 20 };
	char *buf = err ? NULL : malloc(CHUNK + 32);
	if (!err && !buf)
		err = &ck_error_nomem;
	while (!err) {
		size_t got = 0;
		int e = ck_read_n(0, buf + 16, CHUNK, &got);
		if (e) {
			err = ck_error_create_errno(e, "reading the dump stream");
			break;
		}
		int h = snprintf(buf, 16, "%zx\r\n", got);
		memmove(buf + 16 - h, buf, (size_t)h);
		memcpy(buf + 16 + got, "\r\n", 2);
		if (got == 0)
			memcpy(buf + 16, "\r\n", 2);
		err = ck_write_all(fd, buf + 16 - h, (size_t)h + got + 2, url);
		if (got == 0)
			break;
	}
	if (!err)
		err = http_response(fd, url);
	if (err)
		dprintf(2, "%s\n", ck_error_message(err));
	int rc = err ? 1 : 0;
	ck_error_destroy(err);
	free(buf);
	free(path);
	free(url);
	return rc;
}

/* ---- the interface --------------------------------------------------------- */

static struct ck_error *mkdir_p(const char *path)
{
	char *p = ck_strdup_printf("%s", path);
	if (!p)
		return &ck_error_nomem;
	struct ck_error *err = NULL;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char ch = *s;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			err = ck_error_create_errno(errno, "cannot create '%s'", p);
			break;
		}
		*s = ch;
		if (!ch)
			break;
	}
	free(p);
	return err;
}

static struct ck_error *mkdir_local(struct ck_save_dest *d, const char *base, char stamp[32])
{
	struct ck_error *err = mkdir_p(base);
	if (err)
		return err;
	char first[32];
	snprintf(first, sizeof(first), "%s", stamp);
	for (int n = 1; n < 100; n++) {
		if (n > 1)
			snprintf(stamp, 32, "%.20s-%d", first, n);
		char *dir = ck_strdup_printf("%s/%s", base, stamp);
		if (!dir)
			return &ck_error_nomem;
		if (mkdir(dir, 0700) == 0) {
			d->dir = dir;
			return NULL;
		}
		int e = errno;
		if (e != EEXIST) {
			err = ck_error_create_errno(e, "cannot create '%s'", dir);
			free(dir);
			return err;
		}
		free(dir);
	}
	return ck_error_create(CK_ERR_OS, "'%s': 99 dump directories named %s-N already", base, first);
}

struct ck_error *ck_save_mkdir(struct ck_save_dest *d, const char *base, char stamp[32])
{
	const struct ck_kdump_conf *c = d->conf;
	if (c->target_kind <= CK_KDUMP_TARGET_DEVICE)
		return mkdir_local(d, base, stamp);
	const char *root = strcmp(c->path, "/") ? c->path : "";
	d->dir = ck_strdup_printf("%s/%s", root, stamp);
	if (!d->dir)
		return &ck_error_nomem;
	if (c->target_kind == CK_KDUMP_TARGET_HTTP)
		return NULL;
	struct ck_strbuf cmd = CK_STRBUF_INIT;
	ck_strbuf_adds(&cmd, "umask 077 && mkdir -p ");
	sh_quote(&cmd, d->dir);
	char *s = ck_strbuf_detach(&cmd, NULL);
	if (!s)
		return &ck_error_nomem;
	struct ck_error *err = ssh_run(c, s, NULL, 0, "ssh mkdir");
	free(s);
	return err;
}

/* A local file: name.incomplete, fsync, rename. */
static struct ck_error *put_local(const struct ck_save_dest *d, const char *name, const void *buf,
				  size_t len)
{
	char *path = ck_strdup_printf("%s/%s", d->dir, name);
	if (!path)
		return &ck_error_nomem;
	struct ck_outfile of = CK_OUTFILE_INIT;
	struct ck_error *err = ck_outfile_open(path, true, &of);
	if (!err)
		err = ck_write_all(of.fd, buf, len, of.tmp_path);
	if (!err)
		err = ck_outfile_commit(&of);
	ck_outfile_abandon(&of, false);
	free(path);
	return err;
}

/* "cat > DIR/NAME.incomplete" and, to_final, "&& mv ... DIR/NAME" */
static char *ssh_cat_cmd(const struct ck_save_dest *d, const char *name, bool to_final)
{
	struct ck_strbuf cmd = CK_STRBUF_INIT;
	char *tmp = ck_strdup_printf("%s/%s.incomplete", d->dir, name);
	char *fin = ck_strdup_printf("%s/%s", d->dir, name);
	if (tmp && fin) {
		ck_strbuf_adds(&cmd, "umask 077 && cat > ");
		sh_quote(&cmd, tmp);
		if (to_final) {
			ck_strbuf_adds(&cmd, " && mv -f ");
			sh_quote(&cmd, tmp);
			ck_strbuf_adds(&cmd, " ");
			sh_quote(&cmd, fin);
		}
	} else {
		cmd.failed = true;
	}
	free(tmp);
	free(fin);
	return ck_strbuf_detach(&cmd, NULL);
}

struct ck_error *ck_save_put(const struct ck_save_dest *d, const char *name, const void *buf,
			     size_t len)
{
	switch (d->conf->target_kind) {
	case CK_KDUMP_TARGET_SSH: {
		char *cmd = ssh_cat_cmd(d, name, true);
		if (!cmd)
			return &ck_error_nomem;
		struct ck_error *err = ssh_run(d->conf, cmd, buf, len, name);
		free(cmd);
		return err ? ck_error_prepend(err, "ssh %s", d->conf->ssh_dest) : NULL;
	}
	case CK_KDUMP_TARGET_HTTP:
		return http_put(d, name, buf, len);
	default:
		return put_local(d, name, buf, len);
	}
}

struct ck_error *ck_save_stream_open(const struct ck_save_dest *d, const char *name,
				     struct ck_save_stream *s)
{
	*s = (struct ck_save_stream){ .fd = -1, .pid = -1, .err_fd = -1 };
	if (d->conf->target_kind == CK_KDUMP_TARGET_SSH) {
		char *cmd = ssh_cat_cmd(d, name, false);
		if (!cmd)
			return &ck_error_nomem;
		struct ck_error *err = ssh_start(d->conf, cmd, s);
		free(cmd);
		return err ? ck_error_prepend(err, "ssh %s", d->conf->ssh_dest) : NULL;
	}
	if (d->conf->target_kind != CK_KDUMP_TARGET_HTTP)
		return ck_error_create(CK_ERR_INVALID, "a stream goes to ssh or http targets");
	struct http_stream_arg a = { .d = d, .name = name };
	return spawn(run_http_stream, &a, "http", &s->pid, &s->fd, &s->err_fd);
}

struct ck_error *ck_save_stream_close(const struct ck_save_dest *d, const char *name,
				      struct ck_save_stream *s, bool ok)
{
	if (!ok && s->pid > 0)
		kill(s->pid, SIGKILL);
	bool ssh = d->conf->target_kind == CK_KDUMP_TARGET_SSH;
	struct ck_error *err = ssh_finish(s, ssh ? "ssh (the dump stream)" : "http (the dump stream)");
	if (!ok || err)
		return err;
	if (!ssh)
		return NULL;
	/* ssh: the stream is whole; rename it */
	struct ck_strbuf cmd = CK_STRBUF_INIT;
	char *tmp = ck_strdup_printf("%s/%s.incomplete", d->dir, name);
	char *fin = ck_strdup_printf("%s/%s", d->dir, name);
	if (!tmp || !fin)
		cmd.failed = true;
	else {
		ck_strbuf_adds(&cmd, "sync ");
		sh_quote(&cmd, tmp);
		ck_strbuf_adds(&cmd, " 2>/dev/null; mv -f ");
		sh_quote(&cmd, tmp);
		ck_strbuf_adds(&cmd, " ");
		sh_quote(&cmd, fin);
	}
	free(tmp);
	free(fin);
	char *c = ck_strbuf_detach(&cmd, NULL);
	if (!c)
		return &ck_error_nomem;
	err = ssh_run(d->conf, c, NULL, 0, "ssh mv");
	free(c);
	return err;
}

/* ---- hooks ----------------------------------------------------------------- */

struct ck_error *ck_save_run_hook(const char *prog, const char *arg, unsigned int timeout_sec)
{
	char *argv[] = { (char *)prog, (char *)arg, NULL };
	struct exec_arg e = { .argv = argv };
	pid_t pid;
	int in_fd, err_fd;
	struct ck_error *err = spawn(run_exec, &e, prog, &pid, &in_fd, &err_fd);
	if (err)
		return err;
	close(in_fd);	/* stdin: an empty pipe */
	for (unsigned int ms = 0; ms < timeout_sec * 1000u; ms += 50) {
		int status;
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR)) {
			/* reaped: report through wait_child's words */
			if (r == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
				close(err_fd);
				return NULL;
			}
			char msg[512];
			child_message(err_fd, msg, sizeof(msg));
			close(err_fd);
			if (r < 0)
				return ck_error_create_errno(errno, "hook '%s': waitpid", prog);
			if (WIFSIGNALED(status))
				return ck_error_create(CK_ERR_OS, "hook '%s': killed by signal %d", prog,
						       WTERMSIG(status));
			return ck_error_create(CK_ERR_OS, "hook '%s': exit status %d%s%s", prog,
					       WEXITSTATUS(status), msg[0] ? ": " : "", msg);
		}
		nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000 * 1000 }, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(err_fd);
	return ck_error_create(CK_ERR_OS, "hook '%s': killed after %u s", prog, timeout_sec);
}
