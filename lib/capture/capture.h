/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The capture walk's internal pieces: shared by capture.c, split.c and
 * mem_usage.c.  The public side (ck_capture, ck_mem_usage, split dumps) is
 * in include/crashkit.h.
 */
#ifndef CRASHKIT_CAPTURE_H
#define CRASHKIT_CAPTURE_H

#include "walk/walk.h"

/* pfns per bitmap cycle by default: 16 GiB of 4 KiB pages, 512 KiB per
 * bitmap. */
#define CK_CYCLE_PFNS (1ull << 22)
/* pfns per capture chunk, a worker's unit: a multiple of 64, so that a
 * chunk owns its words of the 2nd bitmap. */
#define CK_CAPTURE_CHUNK_PFNS 512u

/* ---- the page walk (lib/capture/walk.c) -------------------------------- */

/*
 * The input's pfns cycle by cycle, as the capture, split planning and
 * --mem-usage see them.  For the cycle at hand, [start, end):
 *   present: the memory the dump describes (the 1st bitmap of a kdump file)
 *   kept:    present pages the reader has, less what the filter excludes at
 *            level (the 2nd bitmap)
 * bit i of each standing for pfn start + i.  The filter carries blocks that
 * cross a cycle's end into the next: cycles come in order after a rewind.
 *
 *	while (ck_page_walk_next(&pw)) {
 *		err = ck_page_walk_cycle(&pw, counts, &missing);
 *		... pw.start, pw.end, pw.present, pw.kept ...
 *	}
 */
struct ck_page_walk {
	struct ck_dump *dump;
	struct ck_filter *filter;	/* NULL: no class is excluded */
	int level;			/* dump level for the filter */
	uint64_t max_pfn;
	uint64_t cycle;			/* pfns per cycle */
	uint64_t start, end;		/* the cycle at hand */
	bool started;
	uint64_t *present, *kept;	/* its bitmaps, cycle bits each */
	uint64_t nr_present, nr_kept;	/* set bits, before the filter */
};

/* Pfns per cycle: want (0: CK_CYCLE_PFNS) rounded up to a multiple of
 * align, no more than the machine needs, at least align. */
uint64_t ck_page_walk_cycle_pfns(uint64_t want, uint64_t align, uint64_t max_pfn);
/* The capture's cycles: whole chunks. */
static inline uint64_t ck_capture_cycle_pfns(uint64_t want, uint64_t max_pfn)
{
	return ck_page_walk_cycle_pfns(want, CK_CAPTURE_CHUNK_PFNS, max_pfn);
}
/* Whether the walk's work (every pfn below max_pfn) and a kdump output's
 * bitmaps are bounded by the bytes the dump holds: CK_ERR_FORMAT naming the
 * file when it claims more memory than one bit per pfn of it could hold
 * (an ELF p_memsz or p_paddr far out).  ck_page_walk_init checks it too. */
struct ck_error *ck_page_walk_check(struct ck_dump *dump);
/* Before the first cycle of dump, filtering with filter (may be NULL) at
 * level; the bitmaps hold cycle bits (a multiple of 64). */
struct ck_error *ck_page_walk_init(struct ck_page_walk *pw, struct ck_dump *dump,
				   struct ck_filter *filter, int level, uint64_t cycle);
void ck_page_walk_deinit(struct ck_page_walk *pw);
/* Back to before the first cycle, the filter's carry dropped. */
void ck_page_walk_rewind(struct ck_page_walk *pw);
/* Moves to the next cycle; false after the last. */
bool ck_page_walk_next(struct ck_page_walk *pw);
/* The cycle's bitmaps before filtering (kept: what the reader has).
 * Returns the pages present that the reader lacks. */
uint64_t ck_page_walk_present(struct ck_page_walk *pw);
/* Clears what the filter excludes from kept, counts[class] growing by the
 * pages cleared.  Nothing without a filter. */
struct ck_error *ck_page_walk_filter(struct ck_page_walk *pw,
				     uint64_t counts[CK_PAGE_NR_CLASSES]);
/* Both, as a capture keeps the cycle: *missing grows by the pages the
 * reader lacks; the reader's map, through which the filter read mem_map,
 * is dropped afterwards. */
struct ck_error *ck_page_walk_cycle(struct ck_page_walk *pw,
				    uint64_t counts[CK_PAGE_NR_CLASSES], uint64_t *missing);
/* Set bits among the first nbits of bm. */
uint64_t ck_page_walk_count(const uint64_t *bm, uint64_t nbits);
/* Set bits of kept, and runs of them (for the ELF program header bound). */
uint64_t ck_page_walk_kept(const struct ck_page_walk *pw);
uint64_t ck_page_walk_kept_runs(const struct ck_page_walk *pw);

/* Whether a page is all zeros (len a multiple of 64 bytes): the capture's
 * hot path, a word at a time and out at the first 64 bytes not zero. */
static inline bool ck_page_is_zero(const uint8_t *p, size_t len)
{
	const uint64_t *w = (const uint64_t *)p;
	uint64_t acc = 0;
	for (size_t i = 0; i < len / 8; i += 8) {
		acc |= w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] |
		       w[i + 6] | w[i + 7];
		if (acc)
			return false;
	}
	return true;
}

/* The 2nd bitmap of every cycle of input, as a capture at dump_level
 * builds it (pages present, minus what the filter excludes), handed to fn
 * in pfn order: bit i of bm2 stands for pfn start + i.  *max_pfn_ret and
 * *page_size_ret are the dump's, set before the first call.  For planning
 * split dumps. */
struct ck_error *ck_capture_walk_dumpable(const char *input, int dump_level,
					  uint64_t cycle_pfns,
					  struct ck_error *(*fn)(void *arg, uint64_t start,
								 uint64_t end,
								 const uint64_t *bm2),
					  void *arg, uint64_t *max_pfn_ret,
					  uint32_t *page_size_ret);

#endif /* CRASHKIT_CAPTURE_H */
