/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The growth of typed vectors (lib/base/vector.h): the one place in lib/
 * that reallocates an array. */
#include <stdint.h>
#include <stdlib.h>

#include "base/base.h"

void *ck_vector_grow(void *data, size_t *capacity, size_t need, size_t elem_size)
{
	if (need <= *capacity)
		return data;
	size_t cap = *capacity ? *capacity : 4;
	while (cap < need) {
		if (cap > SIZE_MAX / 2)
			return NULL;
		cap *= 2;
	}
	size_t bytes;
	if (__builtin_mul_overflow(cap, elem_size, &bytes) || bytes > PTRDIFF_MAX)
		return NULL;
	void *p = realloc(data, bytes ? bytes : 1);
	if (!p)
		return NULL;
	*capacity = cap;
	return p;
}

void *ck_vector_shrink(void *data, size_t *capacity, size_t size, size_t elem_size)
{
	if (size == *capacity)
		return data;
	if (!size) {
		free(data);
		*capacity = 0;
		return NULL;
	}
	/* size < capacity: size * elem_size cannot overflow */
	void *p = realloc(data, size * elem_size);
	if (!p)
		return data;
	*capacity = size;
	return p;
}
