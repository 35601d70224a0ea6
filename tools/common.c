/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What every crashkit executable shares: error reporting and argument helpers. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
