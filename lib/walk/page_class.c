/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Page classes for makedumpfile's dump levels, from VMCOREINFO alone.
 *
 * Every page frame has a struct page in the kernel's mem_map.  We find it
 * through the sparse memory sections: SYMBOL(mem_section) is the value of
 * the kernel's `mem_section` pointer (VMCOREINFO_SYMBOL_ARRAY in
 * kernel/crash_core.c, kernel/vmcore_info.c since 6.9), an array of
 * LENGTH(mem_section) roots with CONFIG_SPARSEMEM_EXTREME, each pointing at
 * PAGE_SIZE / SIZE(mem_section) sections.  A section's section_mem_map
 * holds mem_map minus the section's first pfn, with flag bits in its low
 * bits (include/linux/mmzone.h: SECTION_MARKED_PRESENT,
 * SECTION_HAS_MEM_MAP, ... ; 5 bits in 6.1), so struct page of pfn is at
 * (section_mem_map & ~flags) + pfn * SIZE(page).  The encoded value is
 * 64-byte aligned (mem_map is page aligned and a section starts at a
 * multiple of 2^15 pfns), so masking 6 bits is safe for every kernel that
 * has used up to 6 flag bits.
 *
 * The classes follow makedumpfile's __exclude_unnecessary_pages (facts
 * only): compound tail pages are never judged on their own (since 4.5 a
 * tail's words belong to its folio and may look anonymous; on 7.3 page[1]'s
 * _entire_mapcount of -1 overlays mapping); then
 *  free (16):    a buddy page (its type, below), not slab; page.private is
 *                the buddy order, 1 << order pages go (an order beyond
 *                LENGTH(zone.free_area) keeps the page); or an unaccepted
 *                page (6.16+), a block of 1 << (LENGTH(zone.free_area) - 1)
 *                pages.
 *  cache (2):    PG_lru, or PG_swapcache with PG_swapbacked (PG_swapcache
 *                aliases PG_owner_priv_1 otherwise), not PG_private, and
 *                not anonymous.
 *  private (4):  the same with PG_private.
 *  user (8):     mapping with PAGE_MAPPING_ANON (bit 0) on a page that is
 *                not slab, or a hugetlb compound page.
 *  hwpoison and offline (balloon drivers) pages are excluded at every
 *                level, as makedumpfile does.
 * A compound head (PG_head) takes its tail pages with it.  Zero pages need
 * the contents: lib/capture/capture.c.
 *
 * What changed across kernels, and the VMCOREINFO keys that tell us which
 * case a dump is in (never the version string):
 *
 * Page types live in page._mapcount (page_type shares its 4 bytes):
 *  - 4.18 ("mm: split page_type out of _mapcount") to 6.11: a typed page
 *    has one bit cleared from -1: NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE) =
 *    ~PG_buddy = -129, PAGE_OFFLINE = ~0x100 = -257 (5.0), and from 6.9
 *    PAGE_HUGETLB (~0x800, d99e3140a4d3 "mm: turn folio_test_hugetlb into
 *    a PageType"), from 6.10 PAGE_SLAB (~0x1000, 46df8e73a4a3 "mm: free up
 *    PG_slab", which also removed NUMBER(PG_slab)).  Every value has the
 *    top byte 0xff; the whole word is compared.
 *  - 6.12 (4ffca5a96678c "mm: support only one page_type per page"): one
 *    PGTY_* value (0xf0 buddy, 0xf1 offline, 0xf4 hugetlb, 0xf5 slab, 0xf7
 *    unaccepted; 0x80-0xef are reserved for mapcount overflow) in the top
 *    byte, the low 24 bits free for the type's owner; the keys become
 *    PGTY_x << 24 (low 24 bits zero) and the kernel tests
 *    (page_type >> 24) == PGTY_x, as we do.  6.16 adds
 *    NUMBER(PAGE_UNACCEPTED_MAPCOUNT_VALUE) (CONFIG_UNACCEPTED_MEMORY).
 *  So the values themselves say which: all with top byte 0xff is the
 *  word encoding, all with zero low 24 bits and a top byte in 0x80..0xfe
 *  the byte encoding; anything else keeps the typed classes' pages and
 *  says so.
 *
 * Slab pages (to tell slab from anonymous: since 6.2 slab.slabs overlays
 * page.mapping and an odd count looks like PAGE_MAPPING_ANON): the flag
 * NUMBER(PG_slab) up to 6.9, the page type PAGE_SLAB from 6.10.  With
 * neither, anonymous pages are kept (and free pages with the word
 * encoding, where a slab page's _mapcount is not a type).
 *
 * Compound pages (head: NUMBER(PG_head_mask) in flags; tail: bit 0 of
 * OFFSET(page.compound_head), renamed OFFSET(page.compound_info) in 7.1 by
 * d50569612c29, bit 0 still meaning "tail"):
 *  - up to 6.2: the order is the byte at OFFSET(page.compound_order) of
 *    page[1], hugetlb when the byte at OFFSET(page.compound_dtor) of
 *    page[1] equals NUMBER(HUGETLB_PAGE_DTOR);
 *  - 6.3 to 6.5 (1c5509be58f6 "mm: remove 'First tail page' members from
 *    struct page"): the same bytes as OFFSET(folio._folio_order) and
 *    OFFSET(folio._folio_dtor), counted from the folio, i.e. page[0];
 *  - 6.6 (9c5ccf2db04b "mm: remove HUGETLB_PAGE_DTOR", ebc1baf5c9b4 "mm:
 *    free up a word in the first tail page"): the order is the low byte of
 *    page[1].flags (folio._flags_1) and no key names it any more: no order
 *    key at all, with a head mask, means this; hugetlb is the bit
 *    NUMBER(PG_hugetlb) of page[1].flags (6.6 to 6.8);
 *  - 6.9 on: hugetlb is the head's page type PAGE_HUGETLB; the order stays
 *    in page[1].flags (folio_large_order() in 7.x).
 * An order that is not aligned with the pfn, or 32 and above, is taken as
 * 0 (the head judged alone).
 *
 * Every offset is checked against SIZE(page) here, once: a key that points
 * outside struct page is ignored (and named in the note), so a crafted
 * VMCOREINFO cannot make us read beyond the struct pages we read.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "walk/walk.h"

#define NOT_FOUND UINT64_MAX
#define SECTION_HAS_MEM_MAP (1ull << 1)
#define SECTION_MAP_MASK (~0x3full)
#define PAGE_MAPPING_ANON 0x1ull
/* Orders at or above this are garbage: no kernel has a compound page or
 * buddy block of 2^32 pages. */
#define MAX_SANE_ORDER 32
/* struct pages read per call: a page's worth of vmemmap at a time would be
 * 64 entries; 512 keeps the number of reads low and the buffer at 32 KB. */
#define BLOCK_PAGES 512

/* The page types we look for, and their VMCOREINFO keys. */
enum {
	PT_BUDDY,
	PT_OFFLINE,
	PT_SLAB,
	PT_HUGETLB,
	PT_UNACCEPTED,
	PT_NR,
};

static const char *const type_keys[PT_NR] = {
	[PT_BUDDY] = "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)",
	[PT_OFFLINE] = "NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)",
	[PT_SLAB] = "NUMBER(PAGE_SLAB_MAPCOUNT_VALUE)",
	[PT_HUGETLB] = "NUMBER(PAGE_HUGETLB_MAPCOUNT_VALUE)",
	[PT_UNACCEPTED] = "NUMBER(PAGE_UNACCEPTED_MAPCOUNT_VALUE)",
};

/* How page types are stored in _mapcount. */
enum type_enc {
	TYPE_NONE,	/* no PAGE_*_MAPCOUNT_VALUE key */
	TYPE_WORD,	/* 4.18-6.11: the whole word */
	TYPE_BYTE,	/* 6.12+: PGTY_* in the top byte */
	TYPE_UNKNOWN,	/* keys present, values in neither form */
};

enum order_src {
	ORDER_NONE,	/* heads judged alone */
	ORDER_BYTE,	/* a byte of page[1] (compound_order, _folio_order) */
	ORDER_FLAGS1,	/* the low byte of page[1].flags (6.6+) */
};

enum huge_src {
	HUGE_NONE,
	HUGE_DTOR,	/* page[1] byte == HUGETLB_PAGE_DTOR (up to 6.5) */
	HUGE_FLAG1,	/* PG_hugetlb in page[1].flags (6.6-6.8) */
	HUGE_TYPE,	/* the head's page type (6.9+) */
};

enum slab_src {
	SLAB_NONE,
	SLAB_FLAG,	/* PG_slab in flags (up to 6.9) */
	SLAB_TYPE,	/* page type (6.10+) */
};

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
	/* struct page fields, checked to lie within SIZE(page) */
	uint64_t off_flags, off_mapping, off_mapcount, off_private, off_head;
	uint64_t off_order1, off_dtor1;	/* bytes of page[1] */
	uint64_t pg_lru, pg_private, pg_swapcache, pg_swapbacked, pg_slab, pg_hwpoison;
	uint64_t pg_hugetlb, pg_head_mask;
	uint64_t hugetlb_dtor;
	uint64_t nr_orders;		/* LENGTH(zone.free_area), 0: unknown */
	enum type_enc type_enc;
	bool have_type[PT_NR];
	uint32_t type_value[PT_NR];
	enum order_src order_src;
	enum huge_src huge_src;
	enum slab_src slab_src;
	bool have_buddy, have_swap, have_hwpoison;
	int supported;			/* CK_DL_* bits we can decide */
	uint64_t unreadable_sections;
	uint64_t carry_end;		/* a block that ran past the last range */
	int carry_class;
	char why[512];
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

static void note_missing(struct ck_filter *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note_missing(struct ck_filter *f, const char *fmt, ...)
{
	size_t n = strlen(f->why);
	if (n + 3 >= sizeof(f->why))
		return;
	if (n) {
		memcpy(f->why + n, "; ", 3);
		n += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->why + n, sizeof(f->why) - n, fmt, ap);
	va_end(ap);
}

/* A page flag's bit number, or NOT_FOUND (absent or not a bit of a long). */
static uint64_t vi_bit(struct ck_filter *f, const char *key)
{
	uint64_t v = vi_u64(f, key);
	return v < 64 ? v : NOT_FOUND;
}

/* Offset of a field of width bytes within struct page (base 0) or within
 * page[1] counted from page[0] (base SIZE(page), the folio keys); NOT_FOUND
 * when absent, and also when outside, which the note says. */
static uint64_t vi_field(struct ck_filter *f, const char *key, uint64_t base, uint64_t width)
{
	uint64_t off = vi_u64(f, key);
	if (off == NOT_FOUND)
		return NOT_FOUND;
	if (off < base || off - base > f->size_page || width > f->size_page - (off - base)) {
		note_missing(f, "%s=%" PRIu64 " is outside struct page: ignored", key, off);
		return NOT_FOUND;
	}
	return off - base;
}

/* Where struct page of a pfn is: the mem_section layout. */
static struct ck_error *sections_read(struct ck_filter *f)
{
	static const char *const required[] = {
		"SYMBOL(mem_section)", "LENGTH(mem_section)", "SIZE(mem_section)",
		"OFFSET(mem_section.section_mem_map)", "NUMBER(SECTION_SIZE_BITS)",
		"NUMBER(MAX_PHYSMEM_BITS)", "SIZE(page)", "OFFSET(page.flags)",
		"OFFSET(page.mapping)", "PAGESIZE",
	};
	for (size_t i = 0; i < CK_ARRAY_SIZE(required); i++) {
		if (vi_u64(f, required[i]) == NOT_FOUND)
			return ck_error_create(CK_ERR_UNSUPPORTED,
				"VMCOREINFO has no %s: cannot find struct page, so only "
				"zero pages can be filtered", required[i]);
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

	/* The pfns the filter is given are the dump's: a PAGESIZE that is no
	 * power of two, or not the dump's page size, would put every struct
	 * page elsewhere (and 0 divides below). */
	uint32_t dump_ps = ck_dump_info(ck_kernel_dump(f->kernel))->page_size;
	if (f->page_size != dump_ps)
		return ck_error_create(CK_ERR_FORMAT,
			"VMCOREINFO PAGESIZE %" PRIu64 " is not the dump's page size %" PRIu32,
			f->page_size, dump_ps);
	unsigned page_shift = __builtin_ctzll(f->page_size);
	if (section_bits <= page_shift || section_bits >= 64 || phys_bits >= 64 ||
	    phys_bits <= section_bits || f->section_size == 0 ||
	    f->section_size > f->page_size || f->size_page < 16 || f->size_page > 512 ||
	    f->size_page % 8 ||	/* struct page is an array of longs */
	    f->off_flags > f->size_page - 8 || f->off_mapping > f->size_page - 8)
		return ck_error_create(CK_ERR_FORMAT,
			"VMCOREINFO mem_map layout is implausible (SECTION_SIZE_BITS %" PRIu64
			", MAX_PHYSMEM_BITS %" PRIu64 ", SIZE(page) %" PRIu64 ")",
			section_bits, phys_bits, f->size_page);
	f->pfn_section_shift = section_bits - page_shift;
	uint64_t nr_sections = 1ull << (phys_bits - section_bits);
	uint64_t per_root = f->page_size / f->section_size;
	uint64_t nr_extreme;
	if (!ck_mul_overflow(f->nr_roots, per_root, &nr_extreme) && nr_extreme == nr_sections &&
	    f->nr_roots < nr_sections) {
		f->extreme = true;
		f->sections_per_root = per_root;
	} else if (f->nr_roots == nr_sections) {
		f->extreme = false;
		f->sections_per_root = 1;
	} else {
		return ck_error_create(CK_ERR_UNSUPPORTED,
			"LENGTH(mem_section) %" PRIu64 " fits neither SPARSEMEM nor "
			"SPARSEMEM_EXTREME (%" PRIu64 " sections)", f->nr_roots, nr_sections);
	}
	return NULL;
}

/* The other struct page fields and page flags. */
static void fields_read(struct ck_filter *f)
{
	f->off_mapcount = vi_field(f, "OFFSET(page._mapcount)", 0, 4);
	f->off_private = vi_field(f, "OFFSET(page.private)", 0, 8);
	f->off_head = vi_field(f, "OFFSET(page.compound_head)", 0, 8);
	if (f->off_head == NOT_FOUND)
		f->off_head = vi_field(f, "OFFSET(page.compound_info)", 0, 8);
	f->pg_lru = vi_bit(f, "NUMBER(PG_lru)");
	f->pg_private = vi_bit(f, "NUMBER(PG_private)");
	f->pg_swapcache = vi_bit(f, "NUMBER(PG_swapcache)");
	f->pg_swapbacked = vi_bit(f, "NUMBER(PG_swapbacked)");
	f->pg_slab = vi_bit(f, "NUMBER(PG_slab)");
	f->pg_hwpoison = vi_bit(f, "NUMBER(PG_hwpoison)");
	f->pg_hugetlb = vi_bit(f, "NUMBER(PG_hugetlb)");
	f->pg_head_mask = vi_u64(f, "NUMBER(PG_head_mask)");
	if (f->pg_head_mask == 0)
		f->pg_head_mask = NOT_FOUND;
	f->have_swap = f->pg_swapcache != NOT_FOUND && f->pg_swapbacked != NOT_FOUND;
	f->have_hwpoison = f->pg_hwpoison != NOT_FOUND;
	uint64_t n = vi_u64(f, "LENGTH(zone.free_area)");
	f->nr_orders = n > 0 && n <= MAX_SANE_ORDER ? n : 0;
}

/* Which encoding one PAGE_*_MAPCOUNT_VALUE (as the 32 bits of _mapcount)
 * is in; -1 is "no type" in both. */
static enum type_enc type_form(uint32_t v)
{
	if (v >> 24 == 0xff && v != UINT32_MAX)
		return TYPE_WORD;
	if ((v & 0xffffff) == 0 && v >> 24 >= 0x80)
		return TYPE_BYTE;
	return TYPE_UNKNOWN;
}

/* The page type keys, and the one encoding they all agree on. */
static void types_read(struct ck_filter *f)
{
	char vals[PT_NR * 24] = "";
	size_t len = 0;
	f->type_enc = TYPE_NONE;
	for (int t = 0; t < PT_NR; t++) {
		int64_t v;
		if (!vi_s64(f, type_keys[t], &v))
			continue;
		enum type_enc e = v >= INT32_MIN && v <= (int64_t)UINT32_MAX
				  ? type_form((uint32_t)v) : TYPE_UNKNOWN;
		for (int u = 0; u < t && e != TYPE_UNKNOWN; u++) {
			if (f->have_type[u] && f->type_value[u] == (uint32_t)v)
				e = TYPE_UNKNOWN;	/* two types, one value */
		}
		if (f->type_enc == TYPE_NONE || f->type_enc == e)
			f->type_enc = e;
		else
			f->type_enc = TYPE_UNKNOWN;
		f->have_type[t] = true;
		f->type_value[t] = (uint32_t)v;
		len += snprintf(vals + len, sizeof(vals) - len, "%s%" PRId64, len ? " " : "", v);
	}
	if (f->type_enc == TYPE_NONE)
		return;
	if (f->type_enc == TYPE_UNKNOWN || f->off_mapcount == NOT_FOUND) {
		note_missing(f, f->off_mapcount == NOT_FOUND
			     ? "no OFFSET(page._mapcount): page types unknown, free, hugetlb, "
			       "offline pages kept"
			     : "PAGE_*_MAPCOUNT_VALUE %s in no known encoding: free, hugetlb, "
			       "offline pages kept", vals);
		f->type_enc = TYPE_UNKNOWN;
		memset(f->have_type, 0, sizeof(f->have_type));
	}
}

/* Whether _mapcount (as read from struct page) says page type t. */
static bool type_is(const struct ck_filter *f, int t, uint32_t mapcount)
{
	if (!f->have_type[t])
		return false;
	if (f->type_enc == TYPE_BYTE)
		return mapcount >> 24 == f->type_value[t] >> 24;
	return mapcount == f->type_value[t];
}

/* Where the compound order and the hugetlb mark are (see the top). */
static void compound_read(struct ck_filter *f)
{
	f->off_order1 = vi_field(f, "OFFSET(page.compound_order)", 0, 1);
	f->off_dtor1 = vi_field(f, "OFFSET(page.compound_dtor)", 0, 1);
	if (f->off_order1 == NOT_FOUND)
		f->off_order1 = vi_field(f, "OFFSET(folio._folio_order)", f->size_page, 1);
	if (f->off_dtor1 == NOT_FOUND)
		f->off_dtor1 = vi_field(f, "OFFSET(folio._folio_dtor)", f->size_page, 1);
	bool order_keys = vi_u64(f, "OFFSET(page.compound_order)") != NOT_FOUND ||
			  vi_u64(f, "OFFSET(folio._folio_order)") != NOT_FOUND;
	if (f->pg_head_mask == NOT_FOUND)
		f->order_src = ORDER_NONE;
	else if (f->off_order1 != NOT_FOUND)
		f->order_src = ORDER_BYTE;
	else if (!order_keys && f->off_head != NOT_FOUND)
		f->order_src = ORDER_FLAGS1;
	else
		f->order_src = ORDER_NONE;

	int64_t dtor;
	if (f->order_src == ORDER_NONE)
		f->huge_src = HUGE_NONE;
	else if (f->have_type[PT_HUGETLB])
		f->huge_src = HUGE_TYPE;
	else if (f->pg_hugetlb != NOT_FOUND)
		f->huge_src = HUGE_FLAG1;
	else if (vi_s64(f, "NUMBER(HUGETLB_PAGE_DTOR)", &dtor) && dtor >= 0 && dtor < 256 &&
		 f->off_dtor1 != NOT_FOUND) {
		f->huge_src = HUGE_DTOR;
		f->hugetlb_dtor = (uint64_t)dtor;
	} else {
		f->huge_src = HUGE_NONE;
	}

	if (f->have_type[PT_SLAB])
		f->slab_src = SLAB_TYPE;
	else if (f->pg_slab != NOT_FOUND)
		f->slab_src = SLAB_FLAG;
	else
		f->slab_src = SLAB_NONE;
}

/* The classes this kernel's keys let us decide; the note says the rest. */
static void supported_compute(struct ck_filter *f)
{
	f->supported = CK_DL_ZERO;
	if (f->pg_lru != NOT_FOUND && f->pg_private != NOT_FOUND)
		f->supported |= CK_DL_CACHE | CK_DL_CACHE_PRIVATE;
	else
		note_missing(f, "no NUMBER(PG_lru)/NUMBER(PG_private): cache pages kept");
	if (f->slab_src != SLAB_NONE)
		f->supported |= CK_DL_USER;
	else
		note_missing(f, "no NUMBER(PG_slab) nor PAGE_SLAB_MAPCOUNT_VALUE: "
			     "anonymous pages kept");
	if (f->huge_src == HUGE_NONE && f->type_enc != TYPE_UNKNOWN)
		note_missing(f, "no hugetlb key (HUGETLB_PAGE_DTOR, PG_hugetlb, "
			     "PAGE_HUGETLB_MAPCOUNT_VALUE) with a compound order: hugetlb "
			     "pages, if any, kept");
	/* With the word encoding a slab page's _mapcount is not a type, so
	 * slab must be told apart (makedumpfile's page_is_buddy_v3). */
	f->have_buddy = f->have_type[PT_BUDDY] && f->off_private != NOT_FOUND &&
			(f->type_enc == TYPE_BYTE || f->slab_src != SLAB_NONE);
	if (f->have_buddy)
		f->supported |= CK_DL_FREE;
	else if (!f->have_type[PT_BUDDY] && f->type_enc != TYPE_UNKNOWN)
		note_missing(f, "no NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE): free pages kept");
	else if (f->have_type[PT_BUDDY] && f->off_private == NOT_FOUND)
		note_missing(f, "no OFFSET(page.private) for the buddy order: free pages kept");
	else if (f->have_type[PT_BUDDY])
		note_missing(f, "free pages kept: slab pages cannot be told from them");
	if (f->order_src == ORDER_NONE)
		note_missing(f, "no compound order in VMCOREINFO: compound pages judged "
			     "page by page");
	if (f->off_head == NOT_FOUND)
		note_missing(f, "no OFFSET(page.compound_head): tail pages judged alone");
}

struct ck_error *ck_filter_create(struct ck_kernel *kernel, struct ck_filter **ret)
{
	struct ck_filter *f = calloc(1, sizeof(*f));
	if (!f)
		return &ck_error_nomem;
	f->kernel = kernel;
	struct ck_error *err = sections_read(f);
	if (err) {
		ck_filter_destroy(f);
		return ck_kernel_error_file(ck_kernel_dump(kernel), err);
	}
	fields_read(f);
	types_read(f);
	compound_read(f);
	supported_compute(f);
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
		note_missing(filter, "%" PRIu64 " memory sections have an unreadable "
			     "mem_section: their pages kept", filter->unreadable_sections);
		filter->unreadable_sections = 0;
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

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
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

/* What the filter needs of one struct page. */
struct page_view {
	uint64_t flags, mapping, private;
	uint32_t mapcount;		/* -1 (no type) when not exported */
	unsigned order;			/* a compound head's, else 0 */
	bool tail, slab, hugetlb;
};

/* A compound head's order and hugetlb mark, from page1 (the next struct
 * page, or NULL when not read). */
static void compound_decode(const struct ck_filter *f, uint64_t pfn, const uint8_t *page1,
			    struct page_view *v)
{
	if (!page1 || f->order_src == ORDER_NONE || !(v->flags & f->pg_head_mask))
		return;
	uint64_t flags1 = rd64(page1 + f->off_flags);
	unsigned order = f->order_src == ORDER_BYTE ? page1[f->off_order1] : flags1 & 0xff;
	if (order < MAX_SANE_ORDER && !(pfn & ((1ull << order) - 1)))
		v->order = order;
	switch (f->huge_src) {
	case HUGE_DTOR:
		v->hugetlb = page1[f->off_dtor1] == f->hugetlb_dtor;
		break;
	case HUGE_FLAG1:
		v->hugetlb = (flags1 >> f->pg_hugetlb) & 1;
		break;
	case HUGE_TYPE:
		v->hugetlb = type_is(f, PT_HUGETLB, v->mapcount);
		break;
	case HUGE_NONE:
		break;
	}
}

static void page_decode(const struct ck_filter *f, uint64_t pfn, const uint8_t *pg,
			const uint8_t *page1, struct page_view *v)
{
	memset(v, 0, sizeof(*v));
	v->flags = rd64(pg + f->off_flags);
	v->mapping = rd64(pg + f->off_mapping);
	v->private = f->off_private != NOT_FOUND ? rd64(pg + f->off_private) : 0;
	v->mapcount = f->off_mapcount != NOT_FOUND ? rd32(pg + f->off_mapcount) : UINT32_MAX;
	v->tail = f->off_head != NOT_FOUND && (rd64(pg + f->off_head) & 1);
	if (f->slab_src == SLAB_TYPE)
		v->slab = type_is(f, PT_SLAB, v->mapcount);
	else if (f->slab_src == SLAB_FLAG)
		v->slab = (v->flags >> f->pg_slab) & 1;
	compound_decode(f, pfn, page1, v);
}

static bool flag(uint64_t flags, uint64_t bit)
{
	return bit != NOT_FOUND && ((flags >> bit) & 1);
}

/* Free pages: a buddy block or an unaccepted block.  Returns the class or
 * -1 and the pages the block covers. */
static int classify_free(const struct ck_filter *f, const struct page_view *v,
			 uint64_t *nr_ret)
{
	if (f->have_buddy && !v->slab && type_is(f, PT_BUDDY, v->mapcount)) {
		uint64_t limit = f->nr_orders ? f->nr_orders : MAX_SANE_ORDER;
		if (v->private >= limit)
			return -1;	/* not a real order: keep, as makedumpfile */
		*nr_ret = 1ull << v->private;
		return CK_PAGE_FREE;
	}
	/* Unaccepted memory goes on zone.unaccepted_pages in blocks of
	 * MAX_PAGE_ORDER (mm/page_alloc.c __free_unaccepted), only the
	 * first page typed. */
	if (type_is(f, PT_UNACCEPTED, v->mapcount)) {
		*nr_ret = f->nr_orders ? 1ull << (f->nr_orders - 1) : 1;
		return CK_PAGE_FREE;
	}
	return -1;
}

/* The class of one struct page at level, or -1 (keep), and the number of
 * pages it covers from pfn on. */
static int classify(const struct ck_filter *f, int level, const struct page_view *v,
		    uint64_t *nr_ret)
{
	*nr_ret = 1ull << v->order;
	/* A tail goes with its head or not at all (makedumpfile: "Skip
	 * examining compound tail pages"); its fields belong to the folio. */
	if (v->tail)
		return -1;
	if (level & CK_DL_FREE) {
		int c = classify_free(f, v, nr_ret);
		if (c >= 0)
			return c;
	}
	bool anon = (v->mapping & PAGE_MAPPING_ANON) && !v->slab;
	bool cache = flag(v->flags, f->pg_lru) ||
		     (f->have_swap && flag(v->flags, f->pg_swapbacked) &&
		      flag(v->flags, f->pg_swapcache));
	bool priv = flag(v->flags, f->pg_private);
	if (f->pg_private == NOT_FOUND)
		cache = false;
	if ((level & CK_DL_CACHE) && cache && !priv && !anon)
		return CK_PAGE_CACHE;
	if ((level & CK_DL_CACHE_PRIVATE) && cache && !anon)
		return priv ? CK_PAGE_CACHE_PRIVATE : CK_PAGE_CACHE;
	if ((level & CK_DL_USER) && ((anon && f->slab_src != SLAB_NONE) || v->hugetlb))
		return CK_PAGE_USER;
	if (f->have_hwpoison && flag(v->flags, f->pg_hwpoison))
		return CK_PAGE_HWPOISON;
	if (!v->slab && type_is(f, PT_OFFLINE, v->mapcount))
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
				struct page_view v;
				page_decode(f, pfn, pg, pg1, &v);
				uint64_t nr;
				int c = classify(f, level, &v, &nr);
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

/* ---- one pfn explained (tests, debugging; not on the capture path) ------ */

static const char *const type_names[PT_NR] = {
	[PT_BUDDY] = "buddy",
	[PT_OFFLINE] = "offline",
	[PT_SLAB] = "slab",
	[PT_HUGETLB] = "hugetlb",
	[PT_UNACCEPTED] = "unaccepted",
};

/* The page type the filter decodes from _mapcount, or NULL. */
static const char *type_name(const struct ck_filter *f, uint32_t mapcount)
{
	for (int t = 0; t < PT_NR; t++) {
		if (type_is(f, t, mapcount))
			return type_names[t];
	}
	return NULL;
}

/* Decodes pfn's struct page as ck_filter_exclude_range() does, with the
 * next one for a head's order when it is in the same section (the range
 * loop reads no further either).  False if it has no struct page. */
static bool page_at(struct ck_filter *f, uint64_t pfn, struct page_view *v, uint64_t *head_word)
{
	uint64_t map;
	struct ck_error *err = section_mem_map(f, pfn >> f->pfn_section_shift, &map);
	if (err || !map) {
		ck_error_destroy(err);
		return false;
	}
	uint64_t last = ((pfn >> f->pfn_section_shift) + 1) << f->pfn_section_shift;
	uint64_t n = pfn + 1 < last ? 2 : 1;
	err = ck_kernel_read(f->kernel, map + pfn * f->size_page, f->buf, n * f->size_page);
	if (err && n == 2) {
		ck_error_destroy(err);
		n = 1;
		err = ck_kernel_read(f->kernel, map + pfn * f->size_page, f->buf, f->size_page);
	}
	if (err) {
		ck_error_destroy(err);
		return false;
	}
	page_decode(f, pfn, f->buf, n == 2 ? f->buf + f->size_page : NULL, v);
	if (head_word)
		*head_word = f->off_head != NOT_FOUND ? rd64(f->buf + f->off_head) : 0;
	return true;
}

/* The compound head whose block holds a tail: the nearest pfn aligned to
 * 2^k (k = 1..31) that is a head of order >= k, as the range loop would
 * reach it; NOT_FOUND if none. */
static uint64_t head_find(struct ck_filter *f, uint64_t pfn, struct page_view *head)
{
	for (unsigned k = 1; k < MAX_SANE_ORDER; k++) {
		uint64_t q = pfn & ~((1ull << k) - 1);
		if (q == (pfn & ~((1ull << (k - 1)) - 1)))
			continue;
		if (page_at(f, q, head, NULL) && !head->tail && head->order >= k)
			return q;
	}
	return NOT_FOUND;
}

/* The class pfn gets at level: the block of the lowest pfn at or below it,
 * aligned to the block's size, that classify() excludes and that reaches
 * pfn (the range loop walks up, so the lowest wins). */
static int class_find(struct ck_filter *f, int level, uint64_t pfn, uint64_t *by)
{
	for (int k = MAX_SANE_ORDER - 1; k >= 0; k--) {
		uint64_t q = pfn & ~((1ull << k) - 1);
		if (k < MAX_SANE_ORDER - 1 && q == (pfn & ~((1ull << (k + 1)) - 1)))
			continue;
		struct page_view v;
		uint64_t nr;
		if (!page_at(f, q, &v, NULL))
			continue;
		int c = classify(f, level, &v, &nr);
		if (c >= 0 && q + nr > pfn) {
			*by = q;
			return c;
		}
	}
	*by = pfn;
	return -1;
}

struct ck_error *ck_filter_explain(struct ck_filter *f, int level, uint64_t pfn,
				   struct ck_page_explain *ret)
{
	struct ck_page_explain e = {.pfn = pfn, .head_pfn = NOT_FOUND, .by_pfn = pfn};
	if (f->off_head != NOT_FOUND)
		e.head_key = vi_u64(f, "OFFSET(page.compound_head)") == f->off_head
			     ? "compound_head" : "compound_info";
	struct page_view v;
	if (!page_at(f, pfn, &v, &e.head_word))
		return ck_error_create(CK_ERR_NOT_FOUND, "pfn 0x%" PRIx64 " has no readable "
				       "struct page", pfn);
	e.flags = v.flags;
	e.mapping = v.mapping;
	e.private = v.private;
	e.mapcount = v.mapcount;
	e.type = type_name(f, v.mapcount);
	e.tail = v.tail;
	e.slab = v.slab;
	e.order = v.order;
	e.hugetlb = v.hugetlb;
	uint64_t nr;
	struct page_view alone = v;
	alone.tail = false;
	e.alone_class = classify(f, level, &alone, &nr);
	if (v.tail) {
		struct page_view head;
		e.head_pfn = head_find(f, pfn, &head);
		if (e.head_pfn != NOT_FOUND) {
			e.head_type = type_name(f, head.mapcount);
			e.head_order = head.order;
			e.head_flags = head.flags;
		}
	}
	e.class = class_find(f, level, pfn, &e.by_pfn);
	*ret = e;
	return NULL;
}
