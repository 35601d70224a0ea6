/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Walkers: one file per kernel subsystem, reading the kernel's structures
 * through the kernel layer (page classes for filtering; the printk ring).
 */
#ifndef CRASHKIT_WALK_H
#define CRASHKIT_WALK_H

#include "kernel/kernel.h"

/* ---- page classes (lib/walk/page_class.c) ---------------------------------------- */



struct ck_filter;

/* Reads the mem_map layout from VMCOREINFO.  Fails with CK_ERR_UNSUPPORTED,
 * naming the missing key, when the kernel's layout is unknown: the caller
 * then keeps every page that is not zero. */
struct ck_error *ck_filter_create(struct ck_kernel *kernel, struct ck_filter **ret);
void ck_filter_destroy(struct ck_filter *filter);
/* Levels the layout supports: dump_level bits this kernel's VMCOREINFO lets
 * us decide (others keep their pages); *why names what is missing, including
 * sections found unreadable by ck_filter_exclude() so far. */
int ck_filter_supported(struct ck_filter *filter, const char **why);
/*
 * Clears, in bitmap (one bit per pfn, 64-bit words), the pages that the
 * dump level excludes by their struct page (every class but zero pages,
 * which need the page contents).  counts[class] grows by the pages cleared.
 */
struct ck_error *ck_filter_exclude(struct ck_filter *filter, int dump_level,
				   uint64_t *bitmap, uint64_t max_pfn,
				   uint64_t counts[CK_PAGE_NR_CLASSES]);
/*
 * The same for the pfns [start, end) only, with bit i of bitmap standing for
 * pfn start + i (start a multiple of 64), so that the bitmaps of a capture
 * need not cover the whole machine.  Calls must come in pfn order from
 * ck_filter_rewind(): a compound or buddy block that runs past end is
 * carried over and cleared at the start of the next range.
 */
struct ck_error *ck_filter_exclude_range(struct ck_filter *filter, int dump_level,
					 uint64_t *bitmap, uint64_t start, uint64_t end,
					 uint64_t counts[CK_PAGE_NR_CLASSES]);
void ck_filter_rewind(struct ck_filter *filter);

/* One pfn as the filter reads it (ck_filter_explain), for tests and
 * debugging: its struct page's words, what the filter decodes from them,
 * and the class it gets. */
struct ck_page_explain {
	uint64_t pfn;
	uint64_t flags, mapping, private;
	uint32_t mapcount;		/* _mapcount / page_type; -1 if not exported */
	const char *type;		/* the page type decoded from it, or NULL */
	const char *head_key;		/* "compound_head", "compound_info" or NULL */
	uint64_t head_word;		/* that word (bit 0: tail) */
	bool tail, slab, hugetlb;
	unsigned order;			/* a compound head's order, else 0 */
	/* For a tail: the head whose block holds it (UINT64_MAX if none),
	 * its page type, order and flags. */
	uint64_t head_pfn;
	const char *head_type;
	unsigned head_order;
	uint64_t head_flags;
	/* The class at the level (-1: kept), and the pfn whose struct page
	 * decided it (itself, its compound head, the first page of a buddy
	 * block).  alone_class: the class if the page were judged alone, as a
	 * tool that cannot tell tails would judge it. */
	int class;
	uint64_t by_pfn;
	int alone_class;
};

/* Explains one pfn at dump_level as if every pfn were in the dump (the
 * range loop skips absent ones).  Zero pages are not decided here (they
 * need the contents).  Uses the filter's buffer: not during an exclude.
 * CK_ERR_NOT_FOUND if pfn has no readable struct page. */
struct ck_error *ck_filter_explain(struct ck_filter *filter, int dump_level, uint64_t pfn,
				   struct ck_page_explain *ret);

#endif /* CRASHKIT_WALK_H */
