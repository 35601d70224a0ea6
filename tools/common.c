/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What every crashkit executable shares: error reporting and argument helpers. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools.h"

const char *ck_progname = "crashkit";

int ck_report(struct ck_error *err)
{
	fprintf(stderr, "%s: error: %s\n", ck_progname, ck_error_message(err));
	ck_error_destroy(err);
	return CK_EXIT_ERROR;
}

int ck_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s %s: ", ck_progname, cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see '%s %s --help')\n", ck_progname, cmd);
	return CK_EXIT_USAGE;
}

void ck_warn(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: warning: ", ck_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void ck_warn_cb(void *arg, const char *msg)
{
	ck_warn("%s", msg);
}

bool ck_parse_u64(const char *s, int base, unsigned long long *ret)
{
	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	if (errno || *end)
		return false;
	*ret = v;
	return true;
}

int ck_print_version(void)
{
	printf("%s %s\n", ck_progname, CRASHKIT_VERSION);
	return fflush(stdout) ? CK_EXIT_ERROR : CK_EXIT_OK;
}

int ck_print_help(const char *text)
{
	fputs(text, stdout);
	return fflush(stdout) ? CK_EXIT_ERROR : CK_EXIT_OK;
}

/* The option as the user typed it, for one line of message: at most 64
 * bytes, control bytes as '?'. */
static const char *printable(const char *s, size_t len, char buf[static 68])
{
	size_t i = 0;
	for (; i < len && s[i] && i < 64; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	if (i == 64 && i < len && s[i])
		buf[i++] = '.', buf[i++] = '.', buf[i++] = '.';
	buf[i] = '\0';
	return buf;
}

int ck_getopt_error(const char *cmd, int c, char **argv)
{
	/* A long option is the word before optind; a short one is optopt (it
	 * may sit inside a cluster, "-jx"). */
	const char *word = optind > 0 ? argv[optind - 1] : "";
	char buf[68];
	if (!strncmp(word, "--", 2) && word[2]) {
		if (c == ':')
			return ck_usage_error(cmd, "option '%s' needs an argument",
					      printable(word, SIZE_MAX, buf));
		if (optopt)	/* getopt_long: a known option given a value */
			return ck_usage_error(cmd, "option '%s' takes no argument",
					      printable(word, strcspn(word, "="), buf));
		return ck_usage_error(cmd, "unknown option '%s'", printable(word, SIZE_MAX, buf));
	}
	char opt[2] = { (char)optopt, '\0' };
	if (c == ':')
		return ck_usage_error(cmd, "option '-%s' needs an argument", printable(opt, 1, buf));
	return ck_usage_error(cmd, "unknown option '-%s'", printable(opt, 1, buf));
}

char *ck_tool_sibling(const char *name)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	if (n < 0)
		return NULL;
	path[n] = '\0';
	char *slash = strrchr(path, '/');
	size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
	if (dir_len + strlen(name) + 1 > sizeof(path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	memcpy(path + dir_len, name, strlen(name) + 1);
	return strdup(path);
}
