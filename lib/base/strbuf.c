/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A growing, always NUL-terminated string (git's strbuf is the model). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"

void ck_strbuf_init(struct ck_strbuf *sb)
{
	*sb = (struct ck_strbuf)CK_STRBUF_INIT;
}

void ck_strbuf_deinit(struct ck_strbuf *sb)
{
	free(sb->buf);
	ck_strbuf_init(sb);
}

void ck_strbuf_reset(struct ck_strbuf *sb)
{
	sb->len = 0;
	sb->failed = false;
	if (sb->buf)
		sb->buf[0] = '\0';
}

/* Room for extra more bytes and the NUL; false (and sticky) on ENOMEM. */
static bool strbuf_grow(struct ck_strbuf *sb, size_t extra)
{
	size_t need;
	if (sb->failed)
		return false;
	if (__builtin_add_overflow(sb->len, extra, &need) ||
	    __builtin_add_overflow(need, 1, &need)) {
		sb->failed = true;
		return false;
	}
	char *p = ck_vector_grow(sb->buf, &sb->cap, need, 1);
	if (!p) {
		sb->failed = true;
		return false;
	}
	sb->buf = p;
	sb->buf[sb->len] = '\0';	/* a new buffer is a string too */
	return true;
}

bool ck_strbuf_add(struct ck_strbuf *sb, const void *data, size_t len)
{
	if (!strbuf_grow(sb, len))
		return false;
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
	return true;
}

bool ck_strbuf_adds(struct ck_strbuf *sb, const char *s)
{
	return ck_strbuf_add(sb, s, strlen(s));
}

/* Formats into the room there is; when that is too small, grows and
 * formats again. */
bool ck_strbuf_vaddf(struct ck_strbuf *sb, const char *fmt, va_list ap)
{
	if (sb->failed)
		return false;
	size_t room = sb->cap > sb->len ? sb->cap - sb->len : 0;
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(room ? sb->buf + sb->len : NULL, room, fmt, copy);
	va_end(copy);
	if (n >= 0 && (size_t)n >= room && strbuf_grow(sb, (size_t)n))
		vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	else if (n < 0 || (size_t)n >= room)
		sb->failed = true;
	if (sb->failed) {
		if (sb->buf)
			sb->buf[sb->len] = '\0';	/* undo a cut-off attempt */
		return false;
	}
	sb->len += (size_t)n;
	return true;
}

bool ck_strbuf_addf(struct ck_strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bool ok = ck_strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
	return ok;
}

static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

bool ck_has_control(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (is_control(*p))
			return true;
	return false;
}

bool ck_strbuf_add_escaped(struct ck_strbuf *sb, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;
	for (const unsigned char *p = (const unsigned char *)s;; p++) {
		if (*p && !is_control(*p))
			continue;
		ck_strbuf_add(sb, run, (size_t)((const char *)p - run));
		if (!*p)
			break;
		char c = *p == '\n' ? 'n' : *p == '\t' ? 't' : *p == '\r' ? 'r' : 0;
		if (c)
			ck_strbuf_addf(sb, "\\%c", c);
		else
			ck_strbuf_addf(sb, "\\x%c%c", hex[*p >> 4], hex[*p & 15]);
		run = (const char *)p + 1;
	}
	return !sb->failed;
}

char *ck_strbuf_detach(struct ck_strbuf *sb, size_t *len_ret)
{
	if (sb->failed || (!sb->buf && !strbuf_grow(sb, 0))) {
		ck_strbuf_deinit(sb);
		return NULL;
	}
	char *s = sb->buf;
	if (len_ret)
		*len_ret = sb->len;
	ck_strbuf_init(sb);
	return s;
}

char *ck_kv_line_value(const char *text, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, kl) && p[kl] == '=')
			return strndup(p + kl + 1, strcspn(p + kl + 1, "\n"));
	return NULL;
}
