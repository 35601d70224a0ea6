/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The page walk: the input's pfns cycle by cycle, as the capture, the
 * planning of split dumps and --mem-usage see them (docs/capture.md).
 *
 *   dump reader -> 1st bitmap: the memory the dump describes
 *               -> 2nd bitmap: the pages its reader has
 *   page classes (lib/walk/page_class.c) -> the 2nd less what the dump
 *               level excludes by struct page
 *
 * One cycle's two bitmaps at a time: memory does not grow with the machine.
 * The filter carries a compound or buddy block that crosses a cycle's end
 * into the next cycle, so cycles must come in order from a rewind.
 */
#include <inttypes.h>
#include <sys/mman.h>

#include "capture/capture.h"

uint64_t ck_page_walk_cycle_pfns(uint64_t want, uint64_t align, uint64_t max_pfn)
{
	uint64_t cycle = want ? want : CK_CYCLE_PFNS;
	cycle = (cycle + align - 1) / align * align;
	cycle = CK_MIN(cycle, (max_pfn + align - 1) / align * align);
	return CK_MAX(cycle, align);
}

/*
 * The walk visits every pfn below max_pfn, and a kdump output carries two
 * bitmaps of max_pfn bits: work and output grow with the memory the dump
 * claims, which an ELF dump may claim without data (p_memsz, p_paddr).  A
 * real dump holds at least one bitmap's worth of bytes: a kdump file its
 * bitmaps, an ELF vmcore its RAM, 32768 times the bitmap of 4 KiB pages.
 * One bit per pfn beyond the bytes the file holds is a claim, not memory.
 */
struct ck_error *ck_page_walk_check(struct ck_dump *dump)
{
	uint64_t max_pfn = ck_dump_info(dump)->max_pfn;
	const struct ck_file *file = dump->file;
	uint64_t bitmap = max_pfn / 8 + (max_pfn % 8 != 0);
	if (bitmap <= file->data_size)
		return NULL;
	return ck_error_create(CK_ERR_FORMAT,
		"'%s': memory up to pfn 0x%" PRIx64 " (physical address 0x%" PRIx64
		") is more than a dump of 0x%" PRIx64 " bytes can describe (a bitmap of it "
		"alone takes 0x%" PRIx64 ")", ck_dump_info(dump)->path, max_pfn,
		max_pfn * ck_dump_info(dump)->page_size, file->data_size, bitmap);
}

struct ck_error *ck_page_walk_init(struct ck_page_walk *pw, struct ck_dump *dump,
				   struct ck_filter *filter, int level, uint64_t cycle)
{
	struct ck_error *err = ck_page_walk_check(dump);
	if (err) {
		*pw = (struct ck_page_walk){ 0 };
		return err;
	}
	*pw = (struct ck_page_walk){
		.dump = dump,
		.filter = filter,
		.level = level,
		.max_pfn = ck_dump_info(dump)->max_pfn,
		.cycle = cycle,
	};
	pw->present = ck_calloc_array(cycle / 64, 8);
	pw->kept = ck_calloc_array(cycle / 64, 8);
	if (!pw->present || !pw->kept) {
		ck_page_walk_deinit(pw);
		return &ck_error_nomem;
	}
	ck_page_walk_rewind(pw);
	return NULL;
}

void ck_page_walk_deinit(struct ck_page_walk *pw)
{
	free(pw->present);
	free(pw->kept);
	pw->present = pw->kept = NULL;
}

void ck_page_walk_rewind(struct ck_page_walk *pw)
{
	pw->start = pw->end = 0;
	pw->started = false;
	if (pw->filter)
		ck_filter_rewind(pw->filter);
}

bool ck_page_walk_next(struct ck_page_walk *pw)
{
	uint64_t start = pw->started ? pw->end : 0;
	if (start >= pw->max_pfn)
		return false;
	pw->started = true;
	pw->start = start;
	pw->end = CK_MIN(start + pw->cycle, pw->max_pfn);
	return true;
}

uint64_t ck_page_walk_count(const uint64_t *bm, uint64_t nbits)
{
	uint64_t n = 0;
	for (uint64_t w = 0; w < (nbits + 63) / 64; w++)
		n += __builtin_popcountll(bm[w]);
	return n;
}

uint64_t ck_page_walk_present(struct ck_page_walk *pw)
{
	uint64_t n = pw->end - pw->start;
	ck_dump_page_bitmaps(pw->dump, pw->start, pw->end, pw->present, pw->kept);
	pw->nr_present = ck_page_walk_count(pw->present, n);
	pw->nr_kept = ck_page_walk_count(pw->kept, n);
	return pw->nr_present - pw->nr_kept;
}

struct ck_error *ck_page_walk_filter(struct ck_page_walk *pw,
				     uint64_t counts[CK_PAGE_NR_CLASSES])
{
	if (!pw->filter)
		return NULL;
	return ck_filter_exclude_range(pw->filter, pw->level, pw->kept, pw->start, pw->end,
				       counts);
}

struct ck_error *ck_page_walk_cycle(struct ck_page_walk *pw,
				    uint64_t counts[CK_PAGE_NR_CLASSES], uint64_t *missing)
{
	*missing += ck_page_walk_present(pw);
	struct ck_error *err = ck_page_walk_filter(pw, counts);
	/* The filter read this cycle's mem_map through the reader's map of
	 * the file: drop it, as the capture workers do with the pages they
	 * read. */
	struct ck_file *file = pw->dump->file;
	if (file->map)
		madvise((void *)file->map, file->real_size, MADV_DONTNEED);
	return err;
}

uint64_t ck_page_walk_kept(const struct ck_page_walk *pw)
{
	return ck_page_walk_count(pw->kept, pw->end - pw->start);
}

uint64_t ck_page_walk_kept_runs(const struct ck_page_walk *pw)
{
	uint64_t runs = 0;
	bool prev = false;
	for (uint64_t w = 0; w < (pw->end - pw->start + 63) / 64; w++) {
		uint64_t x = pw->kept[w];
		/* rising edges inside the word, and at its bit 0 */
		runs += __builtin_popcountll(x & ~(x << 1 | (prev ? 1 : 0)));
		prev = x >> 63;
	}
	return runs;
}

/* ---- the dumpable pages, for planning split dumps ---------------------- */

struct ck_error *ck_capture_walk_dumpable(const char *input, int dump_level,
					  uint64_t cycle_pfns,
					  struct ck_error *(*fn)(void *arg, uint64_t start,
								 uint64_t end,
								 const uint64_t *bm2),
					  void *arg, uint64_t *max_pfn_ret,
					  uint32_t *page_size_ret)
{
	struct ck_dump *dump = NULL;
	struct ck_kernel *kernel = NULL;
	struct ck_filter *filter = NULL;
	struct ck_page_walk pw = {0};
	uint64_t counts[CK_PAGE_NR_CLASSES] = {0}, missing = 0;

	struct ck_error *err = ck_dump_open(input, &dump);
	if (err)
		return err;
	const struct ck_dump_info *info = ck_dump_info(dump);
	*max_pfn_ret = info->max_pfn;
	*page_size_ret = info->page_size;
	if (dump_level & ~CK_DL_ZERO) {
		err = ck_kernel_create(dump, &kernel);
		if (!err)
			err = ck_filter_create(kernel, &filter);
		if (err) {
			/* ck_capture() keeps the pages then, and so do we */
			ck_error_destroy(err);
			err = NULL;
		}
	}
	/* The same choices as ck_capture(): what it will save is what we
	 * count. */
	err = ck_page_walk_init(&pw, dump, filter, dump_level,
				ck_capture_cycle_pfns(cycle_pfns, info->max_pfn));
	while (!err && ck_page_walk_next(&pw)) {
		err = ck_page_walk_cycle(&pw, counts, &missing);
		if (err)
			err = ck_error_prepend(err, "filtering '%s'", input);
		else
			err = fn(arg, pw.start, pw.end, pw.kept);
	}
	ck_page_walk_deinit(&pw);
	ck_filter_destroy(filter);
	ck_kernel_destroy(kernel);
	ck_dump_destroy(dump);
	return err;
}
