/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How many pages of each dump-level class a machine has (makedumpfile's
 * --mem-usage; docs/capture.md): on a live system from /proc/kcore, to size
 * the dump target and the crashkernel reservation, or from any vmcore or
 * dump offline.
 *
 *   dump reader -> bitmap of one cycle: the pages the input has
 *     -> lib/walk/page_class.c at dump level 31 clears cache, private cache, user,
 *        free (and hwpoison, offline) pages and counts them
 *     -> the pages left are read, in runs where they lie back to back in
 *        the file, and the zero ones counted
 *
 * The classes are the capture's, in the same order: zero pages are the
 * zero pages among what the struct-page classes leave, which is what
 * makedumpfile --mem-usage counts too (it runs its -d 31 filter, then
 * reads each remaining page: exclude_zero_pages_cyclic), and what
 * `crashkit capture -d 31` reports.  The page walk's two bitmaps of one cycle
 * (memory and pages held, as capture's) and one read buffer: memory does not grow
 * with the machine.
 *
 * /proc/kcore (fs/proc/kcore.c) is an ELF core of the live kernel: RAM
 * segments carry their physical address, so the ELF reader serves it like a
 * vmcore (by pread: kcore cannot be mapped), and since Linux 4.19 it has the
 * VMCOREINFO note the filter needs.  It shows the crash kernel's reservation
 * as RAM, which a dump never holds (kexec leaves it out of /proc/vmcore);
 * makedumpfile cuts the "Crash kernel" ranges of /proc/iomem out of its
 * segments, and so do we, reporting them apart.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "capture/capture.h"

/* Pages read per call when they are back to back in the file: 2 MiB. */
#define RUN_PAGES 512u
/* "Crash kernel" ranges: one per reservation (crashkernel=X,high gives a
 * high and a low one). */
#define MAX_CRASH_RANGES 8

struct pfn_range {
	uint64_t start, end;	/* [start, end) */
};

/*
 * The crash kernel's reservations from an iomem file: lines
 * "  start-end : Crash kernel" (hex, end inclusive), nested under System
 * RAM.  Unprivileged readers see 0-0: no range.  A missing file is an
 * error; a file without the name is no reservation.
 */
static struct ck_error *read_crash_ranges(const char *path, uint32_t ps, struct pfn_range *r,
					  size_t *nr_ret)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return ck_error_create_errno(errno, "cannot open '%s'", path);
	char line[256];
	size_t nr = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a, b;
		int name = 0;
		if (sscanf(line, " %llx-%llx : %n", &a, &b, &name) != 2 || !name)
			continue;
		if (strcmp(line + name, "Crash kernel\n") && strcmp(line + name, "Crash kernel"))
			continue;
		if (b <= a || nr == MAX_CRASH_RANGES)
			continue;
		/* Whole pages only: a reservation is aligned far beyond one. */
		r[nr++] = (struct pfn_range){ (a + ps - 1) / ps, ((uint64_t)b + 1) / ps };
	}
	fclose(f);
	*nr_ret = nr;
	return NULL;
}

struct reader {
	struct ck_dump *dump;
	uint32_t ps;
	uint8_t *buf;			/* RUN_PAGES pages */
	uint64_t run_pfn, run_off, run_n;
	struct ck_mem_usage *mu;
};

static void count_page(struct reader *rd, uint64_t pfn, const uint8_t *page,
		       struct ck_error *err)
{
	if (err) {
		/* A page the input cannot give: counted, not fatal. */
		ck_error_destroy(err);
		rd->mu->unreadable++;
		return;
	}
	if (ck_page_is_zero(page, rd->ps))
		rd->mu->pages[CK_PAGE_ZERO]++;
}

/* Reads the pending run of pages in one call; page by page if that fails
 * (read_page then says which page is bad). */
static void run_flush(struct reader *rd)
{
	uint64_t n = rd->run_n;
	rd->run_n = 0;
	if (!n)
		return;
	struct ck_error *err = ck_file_read(rd->dump->file, rd->run_off, rd->buf, n * rd->ps);
	if (!err) {
		for (uint64_t i = 0; i < n; i++)
			count_page(rd, rd->run_pfn + i, rd->buf + i * rd->ps, NULL);
		return;
	}
	ck_error_destroy(err);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t pfn = rd->run_pfn + i;
		count_page(rd, pfn, rd->buf, rd->dump->ops->read_page(rd->dump, pfn, rd->buf));
	}
}

static void read_kept(struct reader *rd, uint64_t pfn)
{
	struct ck_dump *dump = rd->dump;
	uint64_t off;
	if (dump->ops->page_offset && dump->ops->page_offset(dump, pfn, &off)) {
		if (rd->run_n && rd->run_n < RUN_PAGES && pfn == rd->run_pfn + rd->run_n &&
		    off == rd->run_off + rd->run_n * rd->ps) {
			rd->run_n++;
			return;
		}
		run_flush(rd);
		rd->run_pfn = pfn;
		rd->run_off = off;
		rd->run_n = 1;
		return;
	}
	run_flush(rd);
	count_page(rd, pfn, rd->buf, dump->ops->read_page(dump, pfn, rd->buf));
}

/* Leaves the crash kernel's reservation out of the cycle's bitmaps,
 * counting it apart. */
static void drop_crash_ranges(struct ck_page_walk *pw, const struct pfn_range *crash,
			      size_t nr_crash, uint64_t *counted)
{
	for (size_t i = 0; i < nr_crash; i++)
		for (uint64_t pfn = CK_MAX(crash[i].start, pw->start);
		     pfn < CK_MIN(crash[i].end, pw->end); pfn++) {
			uint64_t k = pfn - pw->start, bit = 1ull << (k % 64);
			if (pw->present[k / 64] & bit)
				(*counted)++;
			pw->present[k / 64] &= ~bit;
			pw->kept[k / 64] &= ~bit;
		}
}

/* One cycle of the walk: the pages the input has, the filter, then the
 * zero pages among the rest. */
static struct ck_error *usage_cycle(struct reader *rd, struct ck_page_walk *pw,
				    const struct pfn_range *crash, size_t nr_crash)
{
	struct ck_mem_usage *mu = rd->mu;
	/* A page the memory covers in part counts, as for capture. */
	ck_page_walk_present(pw);
	if (nr_crash) {
		drop_crash_ranges(pw, crash, nr_crash, &mu->crashkernel);
		pw->nr_present = ck_page_walk_count(pw->present, pw->end - pw->start);
		pw->nr_kept = ck_page_walk_kept(pw);
	}
	mu->total += pw->nr_present;
	mu->absent += pw->nr_present - pw->nr_kept;	/* excluded in the input, or cut off */
	struct ck_error *err = ck_page_walk_filter(pw, mu->pages);
	if (err)
		return err;
	for (uint64_t w = 0; w < (pw->end - pw->start + 63) / 64; w++)
		for (uint64_t word = pw->kept[w]; word; word &= word - 1)
			read_kept(rd, pw->start + w * 64 + __builtin_ctzll(word));
	run_flush(rd);
	return NULL;
}

struct ck_error *ck_mem_usage(const char *input, const struct ck_mem_usage_opts *opts,
			      struct ck_mem_usage *mu)
{
	struct ck_error *err;
	struct ck_dump *dump = NULL;
	struct ck_kernel *kernel = NULL;
	struct ck_filter *filter = NULL;
	struct ck_page_walk pw = { 0 };
	struct reader rd = { .mu = mu };
	struct pfn_range crash[MAX_CRASH_RANGES];
	size_t nr_crash = 0;

	memset(mu, 0, sizeof(*mu));
	err = ck_dump_open(input, &dump);
	if (err)
		return err;
	err = ck_page_walk_check(dump);
	if (err) {
		ck_dump_destroy(dump);
		return err;
	}
	const struct ck_dump_info *info = ck_dump_info(dump);
	mu->page_size = info->page_size;
	mu->max_pfn = info->max_pfn;
	mu->live = info->origin && !strcmp(info->origin, "proc-kcore");
	if (mu->live && opts && opts->iomem) {
		err = read_crash_ranges(opts->iomem, info->page_size, crash, &nr_crash);
		if (err)
			goto out;
	}

	err = ck_kernel_create(dump, &kernel);
	if (!err)
		err = ck_filter_create(kernel, &filter);
	if (err) {
		/* Without the mem_map layout only zero pages are told apart. */
		snprintf(mu->note, sizeof(mu->note), "%s%s", ck_error_message(err),
			 mu->live ? " (/proc/kcore has VMCOREINFO since Linux 4.19)" : "");
		ck_error_destroy(err);
		err = NULL;
		mu->supported = CK_DL_ZERO;
	}

	uint64_t cycle = ck_page_walk_cycle_pfns(opts ? opts->cycle_pfns : 0, 64, mu->max_pfn);
	err = ck_page_walk_init(&pw, dump, filter, 31, cycle);
	rd.buf = aligned_alloc(64, (size_t)RUN_PAGES * info->page_size);
	if (!err && !rd.buf)
		err = &ck_error_nomem;
	if (err)
		goto out;
	mu->bitmap_bytes = cycle / 8;
	rd.dump = dump;
	rd.ps = info->page_size;
	while (ck_page_walk_next(&pw)) {
		err = usage_cycle(&rd, &pw, crash, nr_crash);
		if (err) {
			err = ck_error_prepend(err, "page classes of '%s'", input);
			goto out;
		}
	}
	if (filter) {
		const char *why;
		mu->supported = ck_filter_supported(filter, &why);
		if (why)
			snprintf(mu->note, sizeof(mu->note), "%s", why);
	}
	uint64_t excluded = mu->absent + mu->unreadable;
	for (int c = 0; c < CK_PAGE_NR_CLASSES; c++)
		excluded += mu->pages[c];
	mu->kernel = mu->total - excluded;	/* every excluded page is in total */
out:
	free(rd.buf);
	ck_page_walk_deinit(&pw);
	ck_filter_destroy(filter);
	ck_kernel_destroy(kernel);
	ck_dump_destroy(dump);
	return err;
}
