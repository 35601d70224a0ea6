/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Errors: one convention everywhere, see include/crashkit.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

struct ck_error {
	enum ck_error_code code;
	int errnum;
	char *message;
};

struct ck_error ck_error_nomem = {
	.code = CK_ERR_NOMEM,
	.errnum = ENOMEM,
	.message = (char *)"out of memory",
};

/*
 * Messages are one line: a file name (or anything else quoted into a
 * message) may hold a newline or an escape sequence, and a message is
 * printed as one line on a terminal or in a log.  Control characters are
 * written as C escapes (\n, \t, \x1b), once, here, so that no caller has
 * to remember it.  Takes msg; returns it or its escaped copy (NULL on ENOMEM,
 * msg freed).
 */
static char *one_line(char *msg)
{
	if (!ck_has_control(msg))
		return msg;
	struct ck_strbuf sb = CK_STRBUF_INIT;
	ck_strbuf_add_escaped(&sb, msg);
	free(msg);
	return ck_strbuf_detach(&sb, NULL);
}

static struct ck_error *error_vcreate(enum ck_error_code code, int errnum,
				      const char *fmt, va_list ap)
{
	struct ck_error *err = malloc(sizeof(*err));
	if (!err)
		return &ck_error_nomem;
	err->code = code;
	err->errnum = errnum;
	if (vasprintf(&err->message, fmt, ap) < 0 || !(err->message = one_line(err->message))) {
		free(err);
		return &ck_error_nomem;
	}
	return err;
}

struct ck_error *ck_error_create(enum ck_error_code code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct ck_error *err = error_vcreate(code, 0, fmt, ap);
	va_end(ap);
	return err;
}

struct ck_error *ck_error_create_errno(int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct ck_error *err = error_vcreate(CK_ERR_OS, errnum, fmt, ap);
	va_end(ap);
	if (err == &ck_error_nomem)
		return err;
	char *msg;
	if (asprintf(&msg, "%s: %s", err->message, strerror(errnum)) < 0) {
		ck_error_destroy(err);
		return &ck_error_nomem;
	}
	free(err->message);
	err->message = msg;
	return err;
}

struct ck_error *ck_error_prepend(struct ck_error *err, const char *fmt, ...)
{
	if (!err || err == &ck_error_nomem)
		return err;
	va_list ap;
	va_start(ap, fmt);
	char *prefix;
	int r = vasprintf(&prefix, fmt, ap);
	va_end(ap);
	if (r < 0 || !(prefix = one_line(prefix)))
		return err;	/* keep the original message rather than lose it */
	char *msg;
	if (asprintf(&msg, "%s: %s", prefix, err->message) >= 0) {
		free(err->message);
		err->message = msg;
	}
	free(prefix);
	return err;
}

enum ck_error_code ck_error_code(const struct ck_error *err)
{
	return err->code;
}

int ck_error_errno(const struct ck_error *err)
{
	return err->errnum;
}

const char *ck_error_message(const struct ck_error *err)
{
	return err->message;
}

void ck_error_destroy(struct ck_error *err)
{
	if (!err || err == &ck_error_nomem)
		return;
	free(err->message);
	free(err);
}
