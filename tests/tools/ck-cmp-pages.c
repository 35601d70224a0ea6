/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ck-cmp-pages: every page a dump holds must equal the same page of a
 * reference dump (the vmcore it was captured from), both read through
 * the crashkit library.
 *
 *   ck-cmp-pages DUMP REFERENCE
 *   ck-cmp-pages --set DUMP OTHER    compare only which pfns each holds
 *   ck-cmp-pages --set-all DUMP OTHER    the same, naming every pfn that
 *                                        differs (--set names 20)
 *
 * Prints "pages N same N differ N missing-in-reference N" and exits 0 when
 * nothing differs, 1 otherwise, 2 on usage or open errors.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crashkit.h"

#define CK_MAXU(x, y) ((x) > (y) ? (x) : (y))

static int compare_sets(struct ck_dump *a, struct ck_dump *b, bool all)
{
	uint64_t max = CK_MAXU(ck_dump_info(a)->max_pfn, ck_dump_info(b)->max_pfn);
	uint64_t both = 0, only_a = 0, only_b = 0;
	for (uint64_t pfn = 0; pfn < max; pfn++) {
		bool ha = pfn < ck_dump_info(a)->max_pfn && ck_dump_has_page(a, pfn);
		bool hb = pfn < ck_dump_info(b)->max_pfn && ck_dump_has_page(b, pfn);
		if (ha && hb)
			both++;
		else if (ha || hb) {
			if (all || only_a + only_b < 20)
				printf("pfn 0x%" PRIx64 " only in %s\n", pfn, ha ? "first" : "second");
			*(ha ? &only_a : &only_b) += 1;
		}
	}
	printf("both %" PRIu64 " only-first %" PRIu64 " only-second %" PRIu64 "\n", both,
	       only_a, only_b);
	return only_a || only_b ? 1 : 0;
}

int main(int argc, char **argv)
{
	bool all = argc == 4 && !strcmp(argv[1], "--set-all");
	bool sets = all || (argc == 4 && !strcmp(argv[1], "--set"));
	if (sets) {
		argv++;
		argc--;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: ck-cmp-pages DUMP REFERENCE\n");
		return 2;
	}
	struct ck_dump *a, *b;
	struct ck_error *err = ck_dump_open(argv[1], &a);
	if (!err)
		err = ck_dump_open(argv[2], &b);
	if (err) {
		fprintf(stderr, "ck-cmp-pages: %s\n", ck_error_message(err));
		return 2;
	}
	if (sets) {
		int rc = compare_sets(a, b, all);
		ck_dump_destroy(a);
		ck_dump_destroy(b);
		return rc;
	}
	uint32_t ps = ck_dump_info(a)->page_size;
	uint64_t max = ck_dump_info(a)->max_pfn;
	unsigned char *pa = malloc(ps), *pb = malloc(ps);
	if (!pa || !pb)
		return 2;
	uint64_t pages = 0, same = 0, differ = 0, missing = 0;
	for (uint64_t pfn = 0; pfn < max; pfn++) {
		if (!ck_dump_has_page(a, pfn))
			continue;
		pages++;
		err = ck_dump_read_phys(a, pfn * ps, pa, ps);
		if (err) {
			fprintf(stderr, "pfn 0x%" PRIx64 ": %s\n", pfn, ck_error_message(err));
			ck_error_destroy(err);
			differ++;
			continue;
		}
		err = ck_dump_read_phys(b, pfn * ps, pb, ps);
		if (err) {
			ck_error_destroy(err);
			missing++;
			continue;
		}
		if (memcmp(pa, pb, ps)) {
			if (differ < 10)
				fprintf(stderr, "pfn 0x%" PRIx64 " differs\n", pfn);
			differ++;
		} else {
			same++;
		}
	}
	printf("pages %" PRIu64 " same %" PRIu64 " differ %" PRIu64
	       " missing-in-reference %" PRIu64 "\n", pages, same, differ, missing);
	free(pa);
	free(pb);
	ck_dump_destroy(a);
	ck_dump_destroy(b);
	return differ ? 1 : 0;
}
