/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Page classes for makedumpfile's dump levels, from VMCOREINFO alone.
 *
 * Every page frame has a struct page in the kernel's mem_map.  We find it
 * through the sparse memory sections: SYMBOL(mem_section) is the value of
 * the kernel's `mem_section` pointer (VMCOREINFO_SYMBOL_ARRAY in
 * kernel/crash_core.c), an array of LENGTH(mem_section) roots with
 * CONFIG_SPARSEMEM_EXTREME, each pointing at PAGE_SIZE / SIZE(mem_section)
 * sections.  A section's section_mem_map holds mem_map minus the section's
 * first pfn, with flag bits in its low bits (include/linux/mmzone.h:
 * SECTION_MARKED_PRESENT, SECTION_HAS_MEM_MAP, ... ; 5 bits in 6.1), so
 * struct page of pfn is at (section_mem_map & ~flags) + pfn * SIZE(page).
 * The encoded value is 64-byte aligned (mem_map is page aligned and a
 * section starts at a multiple of 2^15 pfns), so masking 6 bits is safe for
 * every kernel that has used up to 6 flag bits.
 *
 * The classes follow makedumpfile (facts checked against its
 * __exclude_unnecessary_pages and the kernel's page-flags.h):
 *  free (16):    _mapcount == PAGE_BUDDY_MAPCOUNT_VALUE on a non-slab page
 *                (PageBuddy is a page type stored in _mapcount since 4.18);
 *                page.private is the buddy order: 1 << order pages go.
 *  cache (2):    PG_lru, or PG_swapcache with PG_swapbacked (PG_swapcache
 *                aliases PG_owner_priv_1 otherwise), not PG_private, and
 *                mapping not anonymous.
 *  private (4):  the same with PG_private.
 *  user (8):     mapping with PAGE_MAPPING_ANON (bit 0), or a hugetlb
 *                compound page (page[1].compound_dtor == HUGETLB_PAGE_DTOR).
 *  hwpoison and offline (PAGE_OFFLINE_MAPCOUNT_VALUE, balloon drivers)
 *                pages are excluded at every level, as makedumpfile does.
 * A compound head (PG_head) takes its tail pages with it: order from
 * page[1].compound_order.  Zero pages need the contents: lib/capture.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "capture.h"

#define NOT_FOUND UINT64_MAX
#define SECTION_HAS_MEM_MAP (1ull << 1)
#define SECTION_MAP_MASK (~0x3full)
#define PAGE_MAPPING_ANON 0x1ull
/* struct pages read per call: a page's worth of vmemmap at a time would be
 * 64 entries; 512 keeps the number of reads low and the buffer at 32 KB. */
#define BLOCK_PAGES 512

struct ck_filter {
	struct ck_kernel *kernel;
	uint64_t page_size;
	uint64_t mem_section;		/* address of the roots (or sections) */
	uint64_t nr_roots;
	uint64_t sections_per_root;	/* 1 without SPARSEMEM_EXTREME */
	bool extreme;
	uint64_t section_size;		/* SIZE(mem_section) */
	uint64_t off_section_mem_map;
	uint64_t pfn_section_shift;
	uint64_t size_page;
	uint64_t off_flags, off_mapping, off_mapcount, off_private;
	uint64_t off_compound_order, off_compound_dtor;
	uint64_t pg_lru, pg_private, pg_swapcache, pg_swapbacked, pg_slab, pg_hwpoison;
	uint64_t pg_head_mask;
	int64_t buddy_value, offline_value, hugetlb_dtor;
	bool have_buddy, have_offline, have_hugetlb, have_hwpoison, have_swap;
	int supported;			/* CK_DL_* bits we can decide */
	uint64_t unreadable_sections;
	uint64_t carry_end;		/* a block that ran past the last range */
	int carry_class;
	char why[256];
	uint8_t *buf;			/* BLOCK_PAGES + 1 struct pages */
};

const char *ck_page_class_name(enum ck_page_class c)
{
	static const char *const names[] = {
		[CK_PAGE_ZERO] = "zero",
		[CK_PAGE_CACHE] = "cache",
		[CK_PAGE_CACHE_PRIVATE] = "cache_private",
		[CK_PAGE_USER] = "user",
		[CK_PAGE_FREE] = "free",
		[CK_PAGE_HWPOISON] = "hwpoison",
		[CK_PAGE_OFFLINE] = "offline",
	};
	return (unsigned)c < CK_ARRAY_SIZE(names) ? names[c] : "?";
}

static uint64_t vi_u64(struct ck_filter *f, const char *key)
{
	uint64_t v;
	if (!ck_kernel_vmcoreinfo_str(f->kernel, key))
		return NOT_FOUND;
	struct ck_error *err = ck_kernel_vmcoreinfo_u64(f->kernel, key, &v);
	if (err) {
		ck_error_destroy(err);
		return NOT_FOUND;
	}
	return v;
}

static bool vi_s64(struct ck_filter *f, const char *key, int64_t *ret)
{
	if (!ck_kernel_vmcoreinfo_str(f->kernel, key))
		return false;
	struct ck_error *err = ck_kernel_vmcoreinfo_s64(f->kernel, key, ret);
	if (err) {
		ck_error_destroy(err);
		return false;
	}
	return true;
}

static void note_missing(struct ck_filter *f, const char *what)
{
	size_t n = strlen(f->why);
	snprintf(f->why + n, sizeof(f->why) - n, "%s%s", n ? ", " : "", what);
}

struct ck_error *ck_filter_create(struct ck_kernel *kernel, struct ck_filter **ret)
{
	struct ck_filter *f = calloc(1, sizeof(*f));
	if (!f)
		return &ck_error_nomem;
	f->kernel = kernel;
	static const char *const required[] = {
		"SYMBOL(mem_section)", "LENGTH(mem_section)", "SIZE(mem_section)",
		"OFFSET(mem_section.section_mem_map)", "NUMBER(SECTION_SIZE_BITS)",
		"NUMBER(MAX_PHYSMEM_BITS)", "SIZE(page)", "OFFSET(page.flags)",
		"OFFSET(page.mapping)", "PAGESIZE",
	};
	for (size_t i = 0; i < CK_ARRAY_SIZE(required); i++) {
		if (vi_u64(f, required[i]) == NOT_FOUND) {
			struct ck_error *err = ck_error_create(CK_ERR_UNSUPPORTED,
				"VMCOREINFO has no %s: cannot find struct page, so only "
				"zero pages can be filtered", required[i]);
			ck_filter_destroy(f);
			return err;
		}
	}
	f->page_size = vi_u64(f, "PAGESIZE");
	f->mem_section = vi_u64(f, "SYMBOL(mem_section)");
	f->nr_roots = vi_u64(f, "LENGTH(mem_section)");
	f->section_size = vi_u64(f, "SIZE(mem_section)");
	f->off_section_mem_map = vi_u64(f, "OFFSET(mem_section.section_mem_map)");
	uint64_t section_bits = vi_u64(f, "NUMBER(SECTION_SIZE_BITS)");
	uint64_t phys_bits = vi_u64(f, "NUMBER(MAX_PHYSMEM_BITS)");
	f->size_page = vi_u64(f, "SIZE(page)");
	f->off_flags = vi_u64(f, "OFFSET(page.flags)");
	f->off_mapping = vi_u64(f, "OFFSET(page.mapping)");
	f->off_mapcount = vi_u64(f, "OFFSET(page._mapcount)");
	f->off_private = vi_u64(f, "OFFSET(page.private)");
	f->off_compound_order = vi_u64(f, "OFFSET(page.compound_order)");
	f->off_compound_dtor = vi_u64(f, "OFFSET(page.compound_dtor)");

	unsigned page_shift = __builtin_ctzll(f->page_size);
	if (section_bits <= page_shift || section_bits >= 64 || phys_bits >= 64 ||
	    phys_bits <= section_bits || f->section_size == 0 ||
	    f->section_size > f->page_size || f->size_page < 16 || f->size_page > 512 ||
	    f->off_flags + 8 > f->size_page || f->off_mapping + 8 > f->size_page) {
		struct ck_error *err = ck_error_create(CK_ERR_FORMAT,
			"VMCOREINFO mem_map layout is implausible (SECTION_SIZE_BITS %" PRIu64
			", MAX_PHYSMEM_BITS %" PRIu64 ", SIZE(page) %" PRIu64 ")",
			section_bits, phys_bits, f->size_page);
		ck_filter_destroy(f);
		return err;
	}
	f->pfn_section_shift = section_bits - page_shift;
	uint64_t nr_sections = 1ull << (phys_bits - section_bits);
	uint64_t per_root = f->page_size / f->section_size;
	if (f->nr_roots * per_root == nr_sections && f->nr_roots < nr_sections) {
		f->extreme = true;
		f->sections_per_root = per_root;
	} else if (f->nr_roots == nr_sections) {
		f->extreme = false;
		f->sections_per_root = 1;
	} else {
		struct ck_error *err = ck_error_create(CK_ERR_UNSUPPORTED,
			"LENGTH(mem_section) %" PRIu64 " fits neither SPARSEMEM nor "
			"SPARSEMEM_EXTREME (%" PRIu64 " sections)", f->nr_roots, nr_sections);
		ck_filter_destroy(f);
		return err;
	}

	/* Flags every class but "free" needs. */
	f->pg_lru = vi_u64(f, "NUMBER(PG_lru)");
	f->pg_private = vi_u64(f, "NUMBER(PG_private)");
	f->pg_swapcache = vi_u64(f, "NUMBER(PG_swapcache)");
	f->pg_swapbacked = vi_u64(f, "NUMBER(PG_swapbacked)");
	f->pg_slab = vi_u64(f, "NUMBER(PG_slab)");
	f->pg_hwpoison = vi_u64(f, "NUMBER(PG_hwpoison)");
	f->pg_head_mask = vi_u64(f, "NUMBER(PG_head_mask)");
	f->have_swap = f->pg_swapcache < 64 && f->pg_swapbacked < 64;
	f->have_hwpoison = f->pg_hwpoison < 64;
	f->have_buddy = vi_s64(f, "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)", &f->buddy_value) &&
			f->off_mapcount != NOT_FOUND && f->off_private != NOT_FOUND &&
			f->pg_slab < 64;
	f->have_offline = vi_s64(f, "NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)", &f->offline_value) &&
			  f->off_mapcount != NOT_FOUND;
	f->have_hugetlb = vi_s64(f, "NUMBER(HUGETLB_PAGE_DTOR)", &f->hugetlb_dtor) &&
			  f->off_compound_dtor != NOT_FOUND;

	f->supported = CK_DL_ZERO;
	if (f->pg_lru < 64 && f->pg_private < 64)
		f->supported |= CK_DL_CACHE | CK_DL_CACHE_PRIVATE;
	else
		note_missing(f, "NUMBER(PG_lru)/NUMBER(PG_private): cache pages kept");
	f->supported |= CK_DL_USER;
	if (!f->have_hugetlb)
		note_missing(f, "NUMBER(HUGETLB_PAGE_DTOR): hugetlb pages kept");
	if (f->have_buddy)
		f->supported |= CK_DL_FREE;
	else
		note_missing(f, "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE): free pages kept");
	if (f->pg_head_mask == NOT_FOUND || f->off_compound_order == NOT_FOUND)
		note_missing(f, "NUMBER(PG_head_mask): compound pages judged page by page");

	f->buf = ck_calloc_array(BLOCK_PAGES + 1, f->size_page);
	if (!f->buf) {
		ck_filter_destroy(f);
		return &ck_error_nomem;
	}
	*ret = f;
	return NULL;
}

void ck_filter_destroy(struct ck_filter *filter)
{
	if (!filter)
		return;
	free(filter->buf);
	free(filter);
}

int ck_filter_supported(struct ck_filter *filter, const char **why)
{
	if (filter->unreadable_sections) {
		char what[96];
		snprintf(what, sizeof(what), "%" PRIu64 " memory sections have an unreadable "
			 "mem_section: their pages kept", filter->unreadable_sections);
		filter->unreadable_sections = 0;
		note_missing(filter, what);
	}
	if (why)
		*why = filter->why[0] ? filter->why : NULL;
	return filter->supported;
}

/* The encoded section_mem_map of section nr, or 0 if it has no mem_map. */
static struct ck_error *section_mem_map(struct ck_filter *f, uint64_t nr, uint64_t *ret)
{
	uint64_t root = nr / f->sections_per_root;
	uint64_t base;
	*ret = 0;
	if (root >= f->nr_roots)
		return NULL;
	if (f->extreme) {
		struct ck_error *err = ck_kernel_read_u64(f->kernel, f->mem_section + root * 8,
							  &base);
		if (err)
			return ck_error_prepend(err, "mem_section root %" PRIu64, root);
		if (!base)
			return NULL;
	} else {
		base = f->mem_section;
	}
	uint64_t v;
	uint64_t addr = base + (nr % f->sections_per_root) * f->section_size +
			f->off_section_mem_map;
	struct ck_error *err = ck_kernel_read_u64(f->kernel, addr, &v);
	if (err)
		return ck_error_prepend(err, "mem_section %" PRIu64, nr);
	if (v & SECTION_HAS_MEM_MAP)
		*ret = v & SECTION_MAP_MASK;
	return NULL;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static int32_t rd32(const uint8_t *p)
{
	int32_t v;
	memcpy(&v, p, 4);
	return v;
}

static bool bit_test(const uint64_t *bm, uint64_t i)
{
	return (bm[i / 64] >> (i % 64)) & 1;
}

/* Clears bits [start, end) and returns how many were set. */
static uint64_t clear_range(uint64_t *bm, uint64_t start, uint64_t end)
{
	uint64_t n = 0;
	for (uint64_t i = start; i < end; i++) {
		uint64_t m = 1ull << (i % 64);
		if (bm[i / 64] & m) {
			bm[i / 64] &= ~m;
			n++;
		}
	}
	return n;
}

/* Classifies one struct page; page1 is the next struct page or NULL.
 * Returns the class or -1 (keep) and the number of pages it covers. */
static int classify(const struct ck_filter *f, int level, uint64_t pfn, const uint8_t *pg,
		    const uint8_t *page1, uint64_t *nr_ret)
{
	uint64_t flags = rd64(pg + f->off_flags);
	uint64_t mapping = rd64(pg + f->off_mapping);
	int32_t mapcount = f->off_mapcount != NOT_FOUND ? rd32(pg + f->off_mapcount) : 0;
	unsigned order = 0, dtor = 0;
	if (page1 && f->pg_head_mask != NOT_FOUND && (flags & f->pg_head_mask) &&
	    f->off_compound_order != NOT_FOUND) {
		order = page1[f->off_compound_order];
		if (f->off_compound_dtor != NOT_FOUND)
			dtor = page1[f->off_compound_dtor];
		if (order >= 32 || (pfn & ((1ull << order) - 1)))
			order = 0;
	}
	*nr_ret = 1ull << order;
	bool slab = f->pg_slab < 64 && (flags >> f->pg_slab) & 1;
	bool anon = (mapping & PAGE_MAPPING_ANON) && !slab;
	bool cache = false, priv = false;
	if (f->pg_lru < 64 && f->pg_private < 64) {
		cache = (flags >> f->pg_lru) & 1;
		if (!cache && f->have_swap)
			cache = ((flags >> f->pg_swapbacked) & 1) &&
				((flags >> f->pg_swapcache) & 1);
		priv = (flags >> f->pg_private) & 1;
	}

	if ((level & CK_DL_FREE) && f->have_buddy && !slab && mapcount == f->buddy_value) {
		uint64_t buddy_order = rd64(pg + f->off_private);
		*nr_ret = buddy_order < 32 ? 1ull << buddy_order : 1;
		return CK_PAGE_FREE;
	}
	if ((level & CK_DL_CACHE) && cache && !priv && !anon)
		return CK_PAGE_CACHE;
	if ((level & CK_DL_CACHE_PRIVATE) && cache && !anon)
		return priv ? CK_PAGE_CACHE_PRIVATE : CK_PAGE_CACHE;
	if ((level & CK_DL_USER) && (anon || (f->have_hugetlb && order && dtor == f->hugetlb_dtor)))
		return CK_PAGE_USER;
	if (f->have_hwpoison && (flags >> f->pg_hwpoison) & 1)
		return CK_PAGE_HWPOISON;
	if (f->have_offline && mapcount == f->offline_value)
		return CK_PAGE_OFFLINE;
	*nr_ret = 1;
	return -1;
}

void ck_filter_rewind(struct ck_filter *f)
{
	f->carry_end = 0;
}

struct ck_error *ck_filter_exclude(struct ck_filter *f, int level, uint64_t *bitmap,
				   uint64_t max_pfn, uint64_t counts[CK_PAGE_NR_CLASSES])
{
	ck_filter_rewind(f);
	return ck_filter_exclude_range(f, level, bitmap, 0, max_pfn, counts);
}

struct ck_error *ck_filter_exclude_range(struct ck_filter *f, int level, uint64_t *bitmap,
					 uint64_t start, uint64_t end,
					 uint64_t counts[CK_PAGE_NR_CLASSES])
{
	if (start % 64)
		return ck_error_create(CK_ERR_INVALID, "filter range starts at pfn 0x%" PRIx64
				       ", not a multiple of 64", start);
	/* The rest of a block that the previous range could not hold. */
	if (f->carry_end > start) {
		uint64_t stop = CK_MIN(f->carry_end, end);
		counts[f->carry_class] += clear_range(bitmap, 0, stop - start);
		if (f->carry_end <= end)
			f->carry_end = 0;
	}
	uint64_t per_section = 1ull << f->pfn_section_shift;
	for (uint64_t sec = start / per_section; sec * per_section < end; sec++) {
		uint64_t s0 = CK_MAX(sec * per_section, start);
		uint64_t e0 = CK_MIN((sec + 1) * per_section, end);
		/* Skip sections with nothing to decide. */
		bool any = false;
		for (uint64_t w = (s0 - start) / 64; w < (e0 - start + 63) / 64 && !any; w++)
			any = bitmap[w] != 0;
		if (!any)
			continue;
		uint64_t map;
		struct ck_error *err = section_mem_map(f, sec, &map);
		if (err) {
			/* mem_section itself unreadable (truncated or filtered
			 * input): that section's pages are kept, and we say so. */
			ck_error_destroy(err);
			f->unreadable_sections++;
			continue;
		}
		if (!map)
			continue;	/* no struct pages: keep what is there */
		for (uint64_t b = s0; b < e0; b += BLOCK_PAGES) {
			uint64_t n = CK_MIN((uint64_t)BLOCK_PAGES, e0 - b);
			/* One more struct page for compound_order, unless the
			 * block ends the range (a compound head is aligned to
			 * its size, so never the last pfn of a range that ends
			 * on a multiple of 64). */
			uint64_t nread = n + (b + n < e0 ? 1 : 0);
			err = ck_kernel_read(f->kernel, map + b * f->size_page, f->buf,
					     nread * f->size_page);
			if (err) {
				/* A hole in vmemmap: those pages are kept. */
				ck_error_destroy(err);
				continue;
			}
			for (uint64_t i = 0; i < n;) {
				uint64_t pfn = b + i;
				if (!bit_test(bitmap, pfn - start)) {
					i++;
					continue;
				}
				const uint8_t *pg = f->buf + i * f->size_page;
				const uint8_t *pg1 = i + 1 < nread ? pg + f->size_page : NULL;
				uint64_t nr;
				int c = classify(f, level, pfn, pg, pg1, &nr);
				if (c < 0) {
					i++;
					continue;
				}
				uint64_t stop = CK_MIN(pfn + nr, end);
				if (pfn + nr > end) {
					f->carry_end = pfn + nr;
					f->carry_class = c;
				}
				counts[c] += clear_range(bitmap, pfn - start, stop - start);
				i += stop - pfn;
			}
		}
	}
	return NULL;
}
