/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ck-http-sink PORTFILE DIR: a tiny HTTP/1.1 server for tests/cli/kdump_save.sh.
 * Listens on 127.0.0.1 (a free port, written to PORTFILE), takes PUT
 * requests one connection at a time, and stores each body under DIR/PATH:
 * written to PATH.incomplete and renamed when the body is whole
 * (Content-Length bytes, or a chunked body up to its last chunk).  A body
 * cut short stays PATH.incomplete.  Answers 201, or 400 for what it does
 * not take.  Runs until killed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

struct conn {
	int fd;
	char buf[65536];
	size_t len, pos;
};

static int fill(struct conn *c)
{
	if (c->pos < c->len)
		return 1;
	ssize_t r = read(c->fd, c->buf, sizeof(c->buf));
	if (r <= 0)
		return 0;
	c->len = (size_t)r;
	c->pos = 0;
	return 1;
}

/* A line without its CRLF; 0 at the end of input. */
static int get_line(struct conn *c, char *out, size_t size)
{
	size_t n = 0;
	for (;;) {
		if (!fill(c))
			return 0;
		char ch = c->buf[c->pos++];
		if (ch == '\n')
			break;
		if (n + 1 < size)
			out[n++] = ch;
	}
	if (n && out[n - 1] == '\r')
		n--;
	out[n] = '\0';
	return 1;
}

/* Copies n bytes of the body to fd (fd < 0: drops them). */
static int copy(struct conn *c, int fd, unsigned long long n)
{
	while (n) {
		if (!fill(c))
			return 0;
		size_t k = c->len - c->pos;
		if (k > n)
			k = (size_t)n;
		if (fd >= 0 && write(fd, c->buf + c->pos, k) != (ssize_t)k)
			return 0;
		c->pos += k;
		n -= k;
	}
	return 1;
}

static void mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	}
}

static void answer(int fd, int code)
{
	dprintf(fd, "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", code,
		code == 201 ? "Created" : "Bad Request");
}

static int body(struct conn *c, int out, int chunked, unsigned long long length)
{
	if (!chunked)
		return copy(c, out, length);
	char line[256];
	for (;;) {
		if (!get_line(c, line, sizeof(line)))
			return 0;
		char *end;
		unsigned long long n = strtoull(line, &end, 16);
		if (end == line)
			return 0;
		if (n == 0)
			return get_line(c, line, sizeof(line));	/* the CRLF after the last chunk */
		if (!copy(c, out, n) || !get_line(c, line, sizeof(line)))
			return 0;
	}
}

static void serve(int fd, const char *dir)
{
	struct conn *c = calloc(1, sizeof(*c));
	char line[4096], path[8192], tmp[8300];
	if (!c)
		return;
	c->fd = fd;
	char method[16], target[4000];
	if (!get_line(c, line, sizeof(line)) ||
	    sscanf(line, "%15s %3999s HTTP/1.1", method, target) != 2 || strcmp(method, "PUT") ||
	    target[0] != '/' || strstr(target, "..")) {
		answer(fd, 400);
		free(c);
		return;
	}
	int chunked = 0;
	unsigned long long length = 0;
	while (get_line(c, line, sizeof(line)) && line[0]) {
		if (!strncasecmp(line, "Content-Length:", 15))
			length = strtoull(line + 15, NULL, 10);
		if (!strncasecmp(line, "Transfer-Encoding:", 18) && strstr(line, "chunked"))
			chunked = 1;
	}
	snprintf(path, sizeof(path), "%s%s", dir, target);
	snprintf(tmp, sizeof(tmp), "%s.incomplete", path);
	mkdirs(path);
	int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int ok = out >= 0 && body(c, out, chunked, length);
	if (out >= 0)
		close(out);
	if (ok && rename(tmp, path) == 0) {
		fprintf(stderr, "ck-http-sink: %s (%s)\n", target, chunked ? "chunked" : "length");
		answer(fd, 201);
	} else {
		fprintf(stderr, "ck-http-sink: %s cut short\n", target);
	}
	free(c);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: ck-http-sink PORTFILE DIR\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 8) < 0 ||
	    getsockname(s, (struct sockaddr *)&a, &al) < 0) {
		perror("ck-http-sink");
		return 1;
	}
	FILE *f = fopen(argv[1], "w");
	if (!f || fprintf(f, "%d\n", ntohs(a.sin_port)) < 0 || fclose(f)) {
		perror(argv[1]);
		return 1;
	}
	for (;;) {
		int fd = accept(s, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			perror("accept");
			return 1;
		}
		serve(fd, argv[2]);
		close(fd);
	}
}
