/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VMCOREINFO: the "KEY=value\n" text the crashed kernel leaves in an ELF note
 * (kernel/crash_core.c, kernel/vmcore_info.c since Linux 6.9, and each arch's
 * arch_crash_save_vmcoreinfo()).  It is the only description of the kernel
 * that a dump is guaranteed to carry, so everything in the kernel layer starts
 * from here.
 *
 * The text comes from the dump and is untrusted: lines without '=', empty
 * keys, over-long lines and bytes after a NUL are skipped, not fatal; the
 * number of entries and the size of the text are capped.  A key given twice
 * keeps its last value (the kernel appends CRASHTIME at crash time, and a
 * capture tool may append its own keys after the kernel's).
 *
 * Values are typed by key family, following the kernel's own printf formats
 * (include/linux/crash_core.h, include/linux/vmcore_info.h):
 *   SYMBOL(x)=%lx, KERNELOFFSET=%lx      hex without 0x (0x accepted)
 *   NUMBER(x)=%ld                        signed decimal; a few arch entries
 *                                        (arm64, NUMBER(VMALLOC_START) since
 *                                        Linux 6.9) print 0x%lx: hex then
 *   OFFSET(x.y), SIZE(x), LENGTH(x),     decimal
 *   PAGESIZE, CRASHTIME and the rest
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "kernel/kernel.h"

/* A page is what the kernel reserves for the text (VMCOREINFO_BYTES); be
 * generous but bounded. */
#define VMCOREINFO_MAX_TEXT	(1u << 20)
#define VMCOREINFO_MAX_ENTRIES	16384
#define VMCOREINFO_MAX_KEY	256
#define VMCOREINFO_MAX_VALUE	1024

struct parsed_line {
	struct ck_vmcoreinfo_entry e;
	size_t order;		/* position in the text, so that the last wins */
};

static int line_cmp(const void *a, const void *b)
{
	const struct parsed_line *x = a, *y = b;
	int r = strcmp(x->e.key, y->e.key);
	if (r)
		return r;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void entries_free(struct ck_vmcoreinfo_entry *v, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		free(v[i].key);
		free(v[i].value);
	}
	free(v);
}

static void lines_free(struct parsed_line *v, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		free(v[i].e.key);
		free(v[i].e.value);
	}
	free(v);
}

struct ck_error *ck_vmcoreinfo_parse(struct ck_kernel *kernel, const char *text,
				     size_t len)
{
	if (!text)
		return ck_error_create(CK_ERR_INVALID, "VMCOREINFO: no text");
	/* The note may be padded with NULs: the text ends at the first one. */
	const char *nul = memchr(text, '\0', len);
	if (nul)
		len = (size_t)(nul - text);
	if (len > VMCOREINFO_MAX_TEXT)
		return ck_error_create(CK_ERR_FORMAT,
				       "VMCOREINFO: %zu bytes of text, more than the %u accepted",
				       len, VMCOREINFO_MAX_TEXT);

	struct parsed_line *lines = NULL;
	size_t nr = 0, cap = 0;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		size_t line_len = (size_t)(eol - p);
		if (line_len && p[line_len - 1] == '\r')
			line_len--;
		const char *eq = memchr(p, '=', line_len);
		size_t key_len = eq ? (size_t)(eq - p) : 0;
		size_t value_len = eq ? line_len - key_len - 1 : 0;
		/* junk: no '=', empty or over-long key, over-long value */
		if (eq && key_len && key_len <= VMCOREINFO_MAX_KEY &&
		    value_len <= VMCOREINFO_MAX_VALUE) {
			if (nr >= VMCOREINFO_MAX_ENTRIES) {
				lines_free(lines, nr);
				return ck_error_create(CK_ERR_FORMAT,
						       "VMCOREINFO: more than %u entries",
						       VMCOREINFO_MAX_ENTRIES);
			}
			struct parsed_line l = { .order = nr };
			l.e.key = strndup(p, key_len);
			l.e.value = strndup(eq + 1, value_len);
			if (!l.e.key || !l.e.value || !CK_VEC_PUSH(lines, nr, cap, l)) {
				free(l.e.key);
				free(l.e.value);
				lines_free(lines, nr);
				return &ck_error_nomem;
			}
		}
		p = eol + 1;
	}

	if (nr)
		qsort(lines, nr, sizeof(*lines), line_cmp);
	struct ck_vmcoreinfo_entry *entries = ck_calloc_array(nr, sizeof(*entries));
	if (!entries) {
		lines_free(lines, nr);
		return &ck_error_nomem;
	}
	size_t n = 0;
	for (size_t i = 0; i < nr; i++) {
		/* equal keys are adjacent, in text order: keep the last */
		if (i + 1 < nr && !strcmp(lines[i].e.key, lines[i + 1].e.key)) {
			free(lines[i].e.key);
			free(lines[i].e.value);
			continue;
		}
		entries[n++] = lines[i].e;
	}
	free(lines);

	entries_free(kernel->vmcoreinfo, kernel->nr_vmcoreinfo);
	kernel->vmcoreinfo = entries;
	kernel->nr_vmcoreinfo = n;
	return NULL;
}

static int entry_key_cmp(const void *key, const void *elem, void *arg)
{
	return strcmp(key, ((const struct ck_vmcoreinfo_entry *)elem)->key);
}

const char *ck_kernel_vmcoreinfo_str(const struct ck_kernel *kernel, const char *key)
{
	if (!kernel || !key)
		return NULL;
	size_t n = kernel->nr_vmcoreinfo;
	size_t i = ck_bsearch_eq(key, kernel->vmcoreinfo, n, sizeof(*kernel->vmcoreinfo),
				 entry_key_cmp, NULL);
	return i < n ? kernel->vmcoreinfo[i].value : NULL;
}

static bool key_is_hex(const char *key)
{
	return !strncmp(key, "SYMBOL(", 7) || !strcmp(key, "KERNELOFFSET");
}

/*
 * Parses the value of key into a magnitude and a sign.  Only digits of the
 * key's base are accepted, and the whole value must be used: "12abc" is an
 * error, not 12.
 */
static struct ck_error *parse_value(const struct ck_kernel *kernel, const char *key,
				    bool *neg_ret, uint64_t *mag_ret)
{
	const char *value = ck_kernel_vmcoreinfo_str(kernel, key);
	if (!value)
		return ck_error_create(CK_ERR_NOT_FOUND, "VMCOREINFO has no %s", key);
	const char *s = value;
	bool hex = key_is_hex(key);
	bool neg = false;
	if (!hex && *s == '-') {
		neg = true;
		s++;
	}
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		hex = true;
		s += 2;
	}
	if (!*s)
		goto bad;
	uint64_t v = 0;
	for (; *s; s++) {
		unsigned int d;
		if (*s >= '0' && *s <= '9')
			d = (unsigned int)(*s - '0');
		else if (hex && *s >= 'a' && *s <= 'f')
			d = (unsigned int)(*s - 'a' + 10);
		else if (hex && *s >= 'A' && *s <= 'F')
			d = (unsigned int)(*s - 'A' + 10);
		else
			goto bad;
		if (ck_mul_overflow(v, hex ? 16 : 10, &v) || ck_add_overflow(v, d, &v))
			return ck_error_create(CK_ERR_FORMAT,
					       "VMCOREINFO %s=%s: value out of range", key, value);
	}
	*neg_ret = neg && v != 0;
	*mag_ret = v;
	return NULL;
bad:
	return ck_error_create(CK_ERR_FORMAT, "VMCOREINFO %s=%s: not a %s number", key, value,
			       hex ? "hexadecimal" : "decimal");
}

struct ck_error *ck_kernel_vmcoreinfo_u64(const struct ck_kernel *kernel,
					  const char *key, uint64_t *ret)
{
	bool neg;
	uint64_t v;
	struct ck_error *err = parse_value(kernel, key, &neg, &v);
	if (err)
		return err;
	if (neg)
		return ck_error_create(CK_ERR_FORMAT,
				       "VMCOREINFO %s=%s: negative where an unsigned value is expected",
				       key, ck_kernel_vmcoreinfo_str(kernel, key));
	*ret = v;
	return NULL;
}

struct ck_error *ck_kernel_vmcoreinfo_s64(const struct ck_kernel *kernel,
					  const char *key, int64_t *ret)
{
	bool neg;
	uint64_t v;
	struct ck_error *err = parse_value(kernel, key, &neg, &v);
	if (err)
		return err;
	if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
		return ck_error_create(CK_ERR_FORMAT,
				       "VMCOREINFO %s=%s: out of range for a signed 64-bit value",
				       key, ck_kernel_vmcoreinfo_str(kernel, key));
	*ret = neg ? (int64_t)(0 - v) : (int64_t)v;
	return NULL;
}
