/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The save step's triage artifact (docs/kdump.md "save"): the kernel log
 * as `crashkit dmesg` prints it, and the last Oops/BUG/panic block cut
 * from it, written before the dump so a failed dump still leaves the
 * answer.
 */
#include <string.h>

#include "base/base.h"
#include "capture/kdump_save.h"

struct dmesg_acc {
	struct ck_strbuf *out;
	unsigned int flags;
	char *buf;
	size_t size;
	size_t lines;
	bool nomem;
};

static int add_record(const struct ck_log_record *rec, void *arg)
{
	struct dmesg_acc *a = arg;
	size_t need = ck_log_format(rec, a->flags, a->buf, a->size);
	if (need >= a->size) {
		size_t size = need + 1 > 2 * a->size ? need + 1 : 2 * a->size;
		free(a->buf);
		a->buf = malloc(size);
		a->size = a->buf ? size : 0;
		if (!a->buf) {
			a->nomem = true;
			return -1;
		}
		need = ck_log_format(rec, a->flags, a->buf, a->size);
	}
	if (!ck_strbuf_add(a->out, a->buf, need)) {
		a->nomem = true;
		return -1;
	}
	a->lines++;
	return 0;
}

struct ck_error *ck_save_dmesg(struct ck_kernel *kernel, struct ck_strbuf *out,
			       size_t *lines_ret)
{
	struct dmesg_acc a = {
		.out = out,
		.flags = ck_kernel_log_has_caller_id(kernel) ? CK_LOG_FORMAT_CALLER : 0,
		.size = 1024,
	};
	a.buf = malloc(a.size);
	if (!a.buf)
		return &ck_error_nomem;
	struct ck_error *err = ck_kernel_log_walk(kernel, add_record, &a);
	free(a.buf);
	if (!err && (a.nomem || out->failed))
		err = &ck_error_nomem;
	*lines_ret = a.lines;
	return err;
}

/* ---- the panic block ---------------------------------------------------- */

/* Messages that start an incident (kernel strings: lib/bug.c, arch/x86/mm/
 * fault.c, kernel/panic.c, drivers/tty/sysrq.c). */
static const char *const starts[] = {
	"Kernel panic - not syncing", "BUG: ", "Oops: ", "kernel BUG at", "general protection fault",
	"Unable to handle", "WARNING: ", "sysrq: Trigger a crash", "Watchdog detected hard LOCKUP",
	" blocked for more than ", "stack segment: ", "invalid opcode: ",
};

static bool line_has(const char *line, size_t len, const char *needle)
{
	size_t nl = strlen(needle);
	for (size_t i = 0; i + nl <= len; i++) {
		if (line[i] == needle[0] && !memcmp(line + i, needle, nl))
			return true;
	}
	return false;
}

static bool is_start(const char *line, size_t len)
{
	for (size_t i = 0; i < CK_ARRAY_SIZE(starts); i++) {
		if (line_has(line, len, starts[i]))
			return true;
	}
	return false;
}

CK_DEFINE_VECTOR(line_vec, size_t)

#define PANIC_BACK 300		/* lines looked at before the panic line */
#define PANIC_GAP 100		/* lines between two messages of one incident */
#define PANIC_MAX 400		/* lines written */

static size_t line_len(const char *s, size_t len, const struct line_vec *v, size_t i)
{
	size_t end = i + 1 < v->size ? v->data[i + 1] - 1 : len;
	return end - v->data[i];
}

struct ck_error *ck_save_panic(const char *s, size_t len, struct ck_strbuf *out,
			       size_t *lines_ret)
{
	struct line_vec v;
	line_vec_init(&v);
	*lines_ret = 0;
	for (size_t off = 0; off < len;) {
		if (!line_vec_append(&v, &off)) {
			line_vec_deinit(&v);
			return &ck_error_nomem;
		}
		const char *nl = memchr(s + off, '\n', len - off);
		off = nl ? (size_t)(nl - s) + 1 : len;
	}
	size_t anchor = v.size, last = v.size;
	for (size_t i = v.size; i-- > 0;) {
		const char *l = s + v.data[i];
		size_t ll = line_len(s, len, &v, i);
		if (last == v.size && is_start(l, ll))
			last = i;
		if (line_has(l, ll, "Kernel panic - not syncing")) {
			anchor = i;
			break;
		}
	}
	if (anchor == v.size)
		anchor = last;
	if (anchor == v.size) {
		line_vec_deinit(&v);
		return NULL;
	}
	size_t start = anchor;
	for (size_t i = anchor; i-- > 0 && anchor - i <= PANIC_BACK;) {
		const char *l = s + v.data[i];
		size_t ll = line_len(s, len, &v, i);
		if (line_has(l, ll, "---[ end Kernel panic"))
			break;
		if (start - i > PANIC_GAP)
			break;
		if (is_start(l, ll))
			start = i;
	}
	size_t end = start;
	for (; end < v.size && end - start < PANIC_MAX; end++) {
		if (line_has(s + v.data[end], line_len(s, len, &v, end), "---[ end Kernel panic")) {
			end++;
			break;
		}
	}
	size_t from = v.data[start], to = end < v.size ? v.data[end] : len;
	ck_strbuf_add(out, s + from, to - from);
	if (to > from && s[to - 1] != '\n')
		ck_strbuf_adds(out, "\n");
	*lines_ret = end - start;
	line_vec_deinit(&v);
	return out->failed ? &ck_error_nomem : NULL;
}
