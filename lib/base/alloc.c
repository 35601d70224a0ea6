/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Allocation helpers with overflow checks. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/base.h"

void *ck_calloc_array(size_t nmemb, size_t size)
{
	return calloc(nmemb ? nmemb : 1, size ? size : 1);
}

void *ck_realloc_array(void *ptr, size_t nmemb, size_t size)
{
	size_t bytes;
	if (__builtin_mul_overflow(nmemb, size, &bytes))
		return NULL;
	return realloc(ptr, bytes ? bytes : 1);
}

char *ck_strdup_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	int r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

bool ck_vec_grow(void **ptr, size_t *cap, size_t nr, size_t elem_size)
{
	if (nr < *cap)
		return true;
	if (nr == SIZE_MAX)
		return false;
	/* 16 at first, then doubling, as the typed vectors grow */
	size_t want = nr < 16 ? 16 : nr + 1;
	void *p = ck_vector_grow(*ptr, cap, want, elem_size);
	if (!p)
		return false;
	*ptr = p;
	return true;
}
