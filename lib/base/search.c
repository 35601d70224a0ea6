/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Binary search over sorted arrays: one loop for every lookup of lib/. */
#include <stdint.h>

#include "base/base.h"

/*
 * The number of leading elements of base[0..nr) that cmp puts before key:
 * those with cmp(key, elem) > 0, or >= 0 when equal elements count too.
 * The array must be partitioned that way (sorted by the same order).
 */
static size_t partition(const void *key, const void *base, size_t nr, size_t size,
			ck_cmp_fn *cmp, void *arg, bool equal_before)
{
	size_t lo = 0, hi = nr;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = cmp(key, (const uint8_t *)base + mid * size, arg);
		if (r > 0 || (equal_before && r == 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t ck_bsearch_lower(const void *key, const void *base, size_t nr, size_t size,
			ck_cmp_fn *cmp, void *arg)
{
	return partition(key, base, nr, size, cmp, arg, false);
}

size_t ck_bsearch_upper(const void *key, const void *base, size_t nr, size_t size,
			ck_cmp_fn *cmp, void *arg)
{
	return partition(key, base, nr, size, cmp, arg, true);
}

size_t ck_bsearch_le(const void *key, const void *base, size_t nr, size_t size,
		     ck_cmp_fn *cmp, void *arg)
{
	size_t i = partition(key, base, nr, size, cmp, arg, true);
	return i ? i - 1 : nr;
}

size_t ck_bsearch_eq(const void *key, const void *base, size_t nr, size_t size,
		     ck_cmp_fn *cmp, void *arg)
{
	size_t i = partition(key, base, nr, size, cmp, arg, false);
	if (i < nr && cmp(key, (const uint8_t *)base + i * size, arg) == 0)
		return i;
	return nr;
}
