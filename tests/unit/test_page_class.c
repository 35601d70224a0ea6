/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the page-class filter (lib/walk/page_class.c) on generated
 * kernels (tests/mkdump.h mk_kmem): one mem_map of 2048 struct pages, the same
 * pages in every kernel era, described by that era's VMCOREINFO keys:
 *
 *   5.x-6.2   word page types (-129, -257), PG_slab, page[1] bytes
 *             compound_dtor/compound_order, HUGETLB_PAGE_DTOR
 *   6.3-6.5   the same bytes as folio._folio_dtor/_folio_order
 *   6.6-6.8   order in page[1].flags, PG_hugetlb in page[1].flags
 *   6.9       hugetlb a word page type
 *   6.10-6.11 slab a word page type, no PG_slab
 *   6.12-6.15 PGTY_* in the top byte
 *   6.16-7.0  + PAGE_UNACCEPTED_MAPCOUNT_VALUE
 *   7.1+      OFFSET(page.compound_info) for compound_head
 *
 * Each asserts the class of specific pfns (the first dump level that
 * excludes each) and the counts, whole and in 64-pfn ranges; then keys
 * the filter must not trust: values in no known encoding, two encodings
 * mixed, offsets outside struct page, no way to tell slab pages.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "capture/capture.h"
#include "../mkdump.h"
#include "../harness.h"

#define MEM_SIZE	(8ull << 20)
#define NR_PFNS		(MEM_SIZE / 4096)
#define MEMMAP_PA	0x100000ull
#define ROOTS_PA	0x200000ull
#define SECTIONS_PA	0x210000ull
#define SIZE_PAGE	64
/* struct page as x86_64 6.1 lays it out */
#define OFF_FLAGS	0
#define OFF_HEAD	8
#define OFF_DTOR	16	/* page[1] */
#define OFF_ORDER	17	/* page[1] */
#define OFF_MAPPING	24
#define OFF_PRIVATE	40
#define OFF_MAPCOUNT	48
#define PG_LRU		4
#define PG_SWAPCACHE	10
#define PG_SLAB		9
#define PG_PRIVATE	13
#define PG_HEAD		16
#define PG_SWAPBACKED	19
#define PG_HUGETLB	20	/* page[1], 6.6-6.8 */
#define PG_HWPOISON	23
#define HUGETLB_DTOR	2
#define NR_ORDERS	11	/* LENGTH(zone.free_area) on x86_64 */
#define ANON_MAPPING	0xffff888001234001ull
#define FILE_MAPPING	0xffff888001235000ull

enum type { T_BUDDY, T_OFFLINE, T_TABLE, T_HUGETLB, T_SLAB, T_UNACCEPTED, T_NR };

/* 4.18-6.11: ~PG_x, one bit cleared (include/linux/page-flags.h). */
static const uint32_t word_types[T_NR] = {
	[T_BUDDY] = ~0x80u, [T_OFFLINE] = ~0x100u, [T_TABLE] = ~0x200u,
	[T_HUGETLB] = ~0x800u, [T_SLAB] = ~0x1000u, [T_UNACCEPTED] = ~0x4000u,
};
/* 6.12+: PGTY_x << 24. */
static const uint32_t byte_types[T_NR] = {
	[T_BUDDY] = 0xf0u << 24, [T_OFFLINE] = 0xf1u << 24, [T_TABLE] = 0xf2u << 24,
	[T_HUGETLB] = 0xf4u << 24, [T_SLAB] = 0xf5u << 24, [T_UNACCEPTED] = 0xf7u << 24,
};

enum order_at { AT_PAGE_BYTES, AT_FOLIO_BYTES, AT_FLAGS1 };
enum huge_by { HUGE_BY_DTOR, HUGE_BY_FLAG1, HUGE_BY_TYPE };

struct era {
	const char *name;
	bool byte_types;	/* 6.12+ */
	bool slab_type;		/* 6.10+: PAGE_SLAB_MAPCOUNT_VALUE, no PG_slab */
	enum order_at order_at;
	enum huge_by huge_by;
	bool unaccepted;	/* 6.16+ */
	bool compound_info;	/* 7.1+ */
};

static const struct era eras[] = {
	{ "5.x-6.2", false, false, AT_PAGE_BYTES, HUGE_BY_DTOR, false, false },
	{ "6.3-6.5", false, false, AT_FOLIO_BYTES, HUGE_BY_DTOR, false, false },
	{ "6.6-6.8", false, false, AT_FLAGS1, HUGE_BY_FLAG1, false, false },
	{ "6.9", false, false, AT_FLAGS1, HUGE_BY_TYPE, false, false },
	{ "6.10-6.11", false, true, AT_FLAGS1, HUGE_BY_TYPE, false, false },
	{ "6.12-6.15", true, true, AT_FLAGS1, HUGE_BY_TYPE, false, false },
	{ "6.16-7.0", true, true, AT_FLAGS1, HUGE_BY_TYPE, true, false },
	{ "7.1+", true, true, AT_FLAGS1, HUGE_BY_TYPE, true, true },
};

static uint32_t type_value(const struct era *e, enum type t)
{
	return e->byte_types ? byte_types[t] : word_types[t];
}

static uint64_t page_pa(uint64_t pfn)
{
	return MEMMAP_PA + pfn * SIZE_PAGE;
}

/* ---- the kernel's VMCOREINFO -------------------------------------------- */

static void vmci_layout(struct mk_kmem *k, const struct era *e)
{
	mk_kmem_vmci(k, "SYMBOL(mem_section)=%llx\nLENGTH(mem_section)=2048\n"
		     "SIZE(mem_section)=16\nOFFSET(mem_section.section_mem_map)=0\n"
		     "NUMBER(SECTION_SIZE_BITS)=27\nNUMBER(MAX_PHYSMEM_BITS)=46\n",
		     (unsigned long long)(MK_KMEM_DIRECT + ROOTS_PA));
	mk_kmem_vmci(k, "SIZE(page)=%d\nOFFSET(page.flags)=%d\nOFFSET(page._refcount)=52\n"
		     "OFFSET(page.mapping)=%d\nOFFSET(page.lru)=8\nOFFSET(page._mapcount)=%d\n"
		     "OFFSET(page.private)=%d\nLENGTH(zone.free_area)=%d\n", SIZE_PAGE,
		     OFF_FLAGS, OFF_MAPPING, OFF_MAPCOUNT, OFF_PRIVATE, NR_ORDERS);
	mk_kmem_vmci(k, "OFFSET(page.%s)=%d\n", e->compound_info ? "compound_info" : "compound_head",
		     OFF_HEAD);
	if (e->order_at == AT_PAGE_BYTES)
		mk_kmem_vmci(k, "OFFSET(page.compound_dtor)=%d\nOFFSET(page.compound_order)=%d\n",
			     OFF_DTOR, OFF_ORDER);
	if (e->order_at == AT_FOLIO_BYTES)
		mk_kmem_vmci(k, "OFFSET(folio._folio_dtor)=%d\nOFFSET(folio._folio_order)=%d\n",
			     SIZE_PAGE + OFF_DTOR, SIZE_PAGE + OFF_ORDER);
}

static void vmci_numbers(struct mk_kmem *k, const struct era *e)
{
	mk_kmem_vmci(k, "NUMBER(PG_lru)=%d\nNUMBER(PG_private)=%d\nNUMBER(PG_swapcache)=%d\n"
		     "NUMBER(PG_swapbacked)=%d\nNUMBER(PG_hwpoison)=%d\nNUMBER(PG_head_mask)=%lu\n",
		     PG_LRU, PG_PRIVATE, PG_SWAPCACHE, PG_SWAPBACKED, PG_HWPOISON, 1ul << PG_HEAD);
	if (!e->slab_type)
		mk_kmem_vmci(k, "NUMBER(PG_slab)=%d\n", PG_SLAB);
	else
		mk_kmem_vmci(k, "NUMBER(PAGE_SLAB_MAPCOUNT_VALUE)=%d\n",
			     (int32_t)type_value(e, T_SLAB));
	mk_kmem_vmci(k, "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=%d\n"
		     "NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)=%d\n",
		     (int32_t)type_value(e, T_BUDDY), (int32_t)type_value(e, T_OFFLINE));
	if (e->huge_by == HUGE_BY_DTOR)
		mk_kmem_vmci(k, "NUMBER(HUGETLB_PAGE_DTOR)=%d\n", HUGETLB_DTOR);
	if (e->huge_by == HUGE_BY_FLAG1)
		mk_kmem_vmci(k, "NUMBER(PG_hugetlb)=%d\n", PG_HUGETLB);
	if (e->huge_by == HUGE_BY_TYPE)
		mk_kmem_vmci(k, "NUMBER(PAGE_HUGETLB_MAPCOUNT_VALUE)=%d\n",
			     (int32_t)type_value(e, T_HUGETLB));
	if (e->unaccepted)
		mk_kmem_vmci(k, "NUMBER(PAGE_UNACCEPTED_MAPCOUNT_VALUE)=%d\n",
			     (int32_t)type_value(e, T_UNACCEPTED));
}

/* ---- struct pages -------------------------------------------------------- */

static void set_page(struct mk_kmem *k, uint64_t pfn, uint64_t flags, uint64_t mapping)
{
	mk_kmem_put64(k, page_pa(pfn) + OFF_FLAGS, flags);
	mk_kmem_put64(k, page_pa(pfn) + OFF_MAPPING, mapping);
}

static void set_type(struct mk_kmem *k, const struct era *e, uint64_t pfn, enum type t)
{
	mk_kmem_put32(k, page_pa(pfn) + OFF_MAPCOUNT, type_value(e, t));
}

static void set_buddy(struct mk_kmem *k, const struct era *e, uint64_t pfn, uint64_t order)
{
	set_type(k, e, pfn, T_BUDDY);
	mk_kmem_put64(k, page_pa(pfn) + OFF_PRIVATE, order);
}

/* A compound page of 2^order at pfn; every tail has an odd mapping word and
 * the last one PG_lru, so a tail judged on its own would go. */
static void set_compound(struct mk_kmem *k, const struct era *e, uint64_t pfn, unsigned order,
			 bool hugetlb)
{
	uint64_t flags;
	memcpy(&flags, k->mem + page_pa(pfn), 8);
	mk_kmem_put64(k, page_pa(pfn), flags | 1ull << PG_HEAD);
	uint64_t head_va = MK_KMEM_DIRECT + page_pa(pfn);
	for (uint64_t i = 1; i < 1ull << order; i++) {
		mk_kmem_put64(k, page_pa(pfn + i) + OFF_HEAD, head_va | 1);
		mk_kmem_put64(k, page_pa(pfn + i) + OFF_MAPPING, ANON_MAPPING);
	}
	uint64_t last = pfn + (1ull << order) - 1;
	if (last > pfn + 1)
		mk_kmem_put64(k, page_pa(last), 1ull << PG_LRU);
	uint64_t p1 = page_pa(pfn + 1);
	if (e->order_at != AT_FLAGS1) {
		mk_kmem_put8(k, p1 + OFF_ORDER, (uint8_t)order);
		mk_kmem_put8(k, p1 + OFF_DTOR, hugetlb ? HUGETLB_DTOR : 1);
	} else {
		bool flag = hugetlb && e->huge_by == HUGE_BY_FLAG1;
		mk_kmem_put64(k, p1 + OFF_FLAGS, order | (flag ? 1ull << PG_HUGETLB : 0));
	}
	if (hugetlb && e->huge_by == HUGE_BY_TYPE)
		set_type(k, e, pfn, T_HUGETLB);
}

static void set_slab(struct mk_kmem *k, const struct era *e, uint64_t pfn)
{
	/* slab.slabs overlays mapping since 6.2: an odd count */
	if (e->slab_type) {
		set_page(k, pfn, 0, 3);
		set_type(k, e, pfn, T_SLAB);
	} else {
		set_page(k, pfn, 1ull << PG_SLAB, 3);
	}
}

/* What the test expects of each pfn: the first dump level excluding it. */
enum cls { K = 0, C = 2, P = 4, U = 8, F = 16, X = 1 /* every level */ };

struct kernel_spec {
	uint64_t counts[CK_PAGE_NR_CLASSES];
	enum cls cls[NR_PFNS];
};

static void expect_range(struct kernel_spec *s, uint64_t pfn, uint64_t nr, enum cls c,
			 enum ck_page_class counted)
{
	for (uint64_t i = 0; i < nr; i++)
		s->cls[pfn + i] = c;
	if (c != K)
		s->counts[counted] += nr;
}

/* The pages every era has, and what each should be. */
static void put_pages(struct mk_kmem *k, const struct era *e, struct kernel_spec *s)
{
	memset(s, 0, sizeof(*s));
	for (uint64_t pfn = 0; pfn < NR_PFNS; pfn++)
		mk_kmem_put32(k, page_pa(pfn) + OFF_MAPCOUNT, UINT32_MAX);
	set_page(k, 16, 1ull << PG_LRU, FILE_MAPPING);
	expect_range(s, 16, 1, C, CK_PAGE_CACHE);
	set_page(k, 17, 1ull << PG_LRU | 1ull << PG_PRIVATE, FILE_MAPPING);
	expect_range(s, 17, 1, P, CK_PAGE_CACHE_PRIVATE);
	set_page(k, 18, 0, ANON_MAPPING);
	expect_range(s, 18, 1, U, CK_PAGE_USER);
	set_page(k, 19, 1ull << PG_SWAPCACHE | 1ull << PG_SWAPBACKED, ANON_MAPPING - 1);
	expect_range(s, 19, 1, C, CK_PAGE_CACHE);
	set_slab(k, e, 20);
	set_page(k, 21, 1ull << PG_HWPOISON, 0);
	expect_range(s, 21, 1, X, CK_PAGE_HWPOISON);
	set_type(k, e, 22, T_OFFLINE);
	expect_range(s, 22, 1, X, CK_PAGE_OFFLINE);
	set_type(k, e, 23, T_TABLE);		/* a type no class wants */
	set_buddy(k, e, 24, 40);		/* not a real order: kept */
	set_page(k, 25, 1ull << PG_SWAPCACHE, FILE_MAPPING);	/* owner_priv_1 */
	set_buddy(k, e, 32, 3);
	expect_range(s, 32, 8, F, CK_PAGE_FREE);
	set_buddy(k, e, 64, 6);
	expect_range(s, 64, 64, F, CK_PAGE_FREE);
	set_page(k, 128, 0, ANON_MAPPING);	/* anonymous THP */
	set_compound(k, e, 128, 4, false);
	expect_range(s, 128, 16, U, CK_PAGE_USER);
	set_slab(k, e, 144);
	set_compound(k, e, 144, 2, false);
	set_compound(k, e, 160, 3, true);
	expect_range(s, 160, 8, U, CK_PAGE_USER);
	set_compound(k, e, 176, 2, false);	/* kernel, e.g. large kmalloc */
	if (e->byte_types) {
		/* the low 24 bits belong to the type's owner (6.12) */
		mk_kmem_put32(k, page_pa(26) + OFF_MAPCOUNT, byte_types[T_BUDDY] | 5);
		expect_range(s, 26, 1, F, CK_PAGE_FREE);
	}
	if (e->unaccepted) {
		set_type(k, e, 1024, T_UNACCEPTED);
		expect_range(s, 1024, 1024, F, CK_PAGE_FREE);
	}
}

/* mem_section roots -> one page of sections -> section 0's mem_map. */
static void put_sections(struct mk_kmem *k)
{
	mk_kmem_put64(k, ROOTS_PA, MK_KMEM_DIRECT + SECTIONS_PA);
	mk_kmem_put64(k, SECTIONS_PA, (MK_KMEM_DIRECT + MEMMAP_PA) | 0x3);
}

static const char *make_kernel(const char *name, const struct era *e, const char *extra,
			       struct kernel_spec *s)
{
	static char path[600];
	struct mk_kmem k;
	mk_kmem_init(&k, MEM_SIZE);
	put_sections(&k);
	vmci_layout(&k, e);
	vmci_numbers(&k, e);
	if (extra)
		mk_kmem_vmci(&k, "%s", extra);
	put_pages(&k, e, s);
	snprintf(path, sizeof(path), "%s", tpath(name));
	if (mk_kmem_write(&k, path))
		abort();
	mk_kmem_deinit(&k);
	return path;
}

/* ---- running the filter -------------------------------------------------- */

struct opened {
	struct ck_dump *dump;
	struct ck_kernel *kernel;
	struct ck_filter *filter;
};

static struct ck_error *open_filter(const char *path, struct opened *o)
{
	memset(o, 0, sizeof(*o));
	struct ck_error *err = ck_dump_open(path, &o->dump);
	if (!err)
		err = ck_kernel_create(o->dump, &o->kernel);
	if (!err)
		err = ck_filter_create(o->kernel, &o->filter);
	return err;
}

static void close_filter(struct opened *o)
{
	ck_filter_destroy(o->filter);
	ck_kernel_destroy(o->kernel);
	ck_dump_destroy(o->dump);
}

/* Runs level over all pfns in ranges of step pfns; bm: pages left. */
static void run_level(struct ck_filter *f, int level, uint64_t step, uint64_t bm[NR_PFNS / 64],
		      uint64_t counts[CK_PAGE_NR_CLASSES])
{
	memset(bm, 0xff, NR_PFNS / 8);
	memset(counts, 0, CK_PAGE_NR_CLASSES * sizeof(counts[0]));
	ck_filter_rewind(f);
	for (uint64_t start = 0; start < NR_PFNS; start += step) {
		struct ck_error *err = ck_filter_exclude_range(f, level, bm + start / 64, start,
							       start + step, counts);
		EXPECT(!err, "%s", err ? ck_error_message(err) : "");
		ck_error_destroy(err);
	}
}

static bool kept(const uint64_t *bm, uint64_t pfn)
{
	return (bm[pfn / 64] >> (pfn % 64)) & 1;
}

/* Each pfn's class as the first level (0, 2, 4, 8, 16) that excludes it. */
static void check_classes(struct ck_filter *f, const struct kernel_spec *s, const char *name)
{
	static const int levels[] = { 0, CK_DL_CACHE, CK_DL_CACHE_PRIVATE, CK_DL_USER,
				      CK_DL_FREE };
	enum cls got[NR_PFNS];
	memset(got, 0xff, sizeof(got));
	uint64_t bm[NR_PFNS / 64], counts[CK_PAGE_NR_CLASSES];
	for (size_t l = 0; l < CK_ARRAY_SIZE(levels); l++) {
		run_level(f, levels[l], NR_PFNS, bm, counts);
		for (uint64_t pfn = 0; pfn < NR_PFNS; pfn++) {
			if (!kept(bm, pfn) && got[pfn] == (enum cls)-1)
				got[pfn] = levels[l] ? (enum cls)levels[l] : X;
		}
	}
	int bad = 0;
	for (uint64_t pfn = 0; pfn < NR_PFNS; pfn++) {
		enum cls g = got[pfn] == (enum cls)-1 ? K : got[pfn];
		if (g != s->cls[pfn] && bad++ < 6)
			EXPECT(g == s->cls[pfn], "%s: pfn %" PRIu64 " class %d, want %d", name, pfn,
			       g, s->cls[pfn]);
	}
	EXPECT(bad == 0, "%s: %d pfns in the wrong class", name, bad);
}

static void check_counts(struct ck_filter *f, const struct kernel_spec *s, const char *name)
{
	uint64_t whole[NR_PFNS / 64], part[NR_PFNS / 64];
	uint64_t cw[CK_PAGE_NR_CLASSES], cp[CK_PAGE_NR_CLASSES];
	run_level(f, 31, NR_PFNS, whole, cw);
	/* 64-pfn ranges: the buddy and unaccepted blocks carry over */
	run_level(f, 31, 64, part, cp);
	for (int c = 0; c < CK_PAGE_NR_CLASSES; c++) {
		EXPECT(cw[c] == s->counts[c], "%s: %s %" PRIu64 ", want %" PRIu64, name,
		       ck_page_class_name(c), cw[c], s->counts[c]);
		EXPECT(cp[c] == cw[c], "%s: %s %" PRIu64 " in ranges, %" PRIu64 " whole", name,
		       ck_page_class_name(c), cp[c], cw[c]);
	}
	EXPECT(!memcmp(whole, part, sizeof(whole)), "%s: ranges left other pages", name);
}

/* ck_filter_explain (ck-page-info) agrees with the range loop on every
 * pfn at level 31, and finds a tail's head (pfns 128-143: order 4). */
static void check_explain(struct ck_filter *f, const char *name)
{
	uint64_t bm[NR_PFNS / 64], counts[CK_PAGE_NR_CLASSES];
	run_level(f, 31, NR_PFNS, bm, counts);
	int bad = 0;
	for (uint64_t pfn = 0; pfn < NR_PFNS; pfn++) {
		struct ck_page_explain e;
		struct ck_error *err = ck_filter_explain(f, 31, pfn, &e);
		bool ok = !err && (e.class < 0) == kept(bm, pfn);
		if (!ok && bad++ < 6)
			EXPECT(ok, "%s: pfn %" PRIu64 ": %s class %d, range loop %s", name, pfn,
			       err ? ck_error_message(err) : "", err ? -2 : e.class,
			       kept(bm, pfn) ? "kept" : "excluded");
		ck_error_destroy(err);
	}
	EXPECT(bad == 0, "%s: %d pfns explained otherwise", name, bad);
	struct ck_page_explain e;
	struct ck_error *err = ck_filter_explain(f, 31, 133, &e);
	EXPECT(!err && e.tail && e.head_pfn == 128 && e.head_order == 4 && e.by_pfn == 128 &&
	       e.class == CK_PAGE_USER, "%s: pfn 133 tail %d head %" PRIu64 " order %u by %"
	       PRIu64 " class %d", name, e.tail, e.head_pfn, e.head_order, e.by_pfn, e.class);
	ck_error_destroy(err);
}

static void test_eras(void)
{
	for (size_t i = 0; i < CK_ARRAY_SIZE(eras); i++) {
		const struct era *e = &eras[i];
		struct kernel_spec s;
		char name[64];
		snprintf(name, sizeof(name), "era-%zu.elf", i);
		const char *path = make_kernel(name, e, NULL, &s);
		struct opened o;
		struct ck_error *err = open_filter(path, &o);
		EXPECT(!err, "%s: %s", e->name, err ? ck_error_message(err) : "");
		ck_error_destroy(err);
		if (!err) {
			const char *why;
			int ok = ck_filter_supported(o.filter, &why);
			EXPECT(ok == 31, "%s: supported %d", e->name, ok);
			EXPECT(!why, "%s: note '%s'", e->name, why);
			check_classes(o.filter, &s, e->name);
			check_counts(o.filter, &s, e->name);
			check_explain(o.filter, e->name);
		}
		close_filter(&o);
	}
}

/* The same through --mem-usage's public path, on the newest era. */
static void test_mem_usage(void)
{
	const struct era *e = &eras[CK_ARRAY_SIZE(eras) - 1];
	struct kernel_spec s;
	const char *path = make_kernel("mu.elf", e, NULL, &s);
	struct ck_mem_usage mu;
	struct ck_error *err = ck_mem_usage(path, &(struct ck_mem_usage_opts){ 0 }, &mu);
	EXPECT(!err, "%s", err ? ck_error_message(err) : "");
	ck_error_destroy(err);
	for (int c = CK_PAGE_CACHE; c < CK_PAGE_NR_CLASSES; c++)
		EXPECT(mu.pages[c] == s.counts[c], "%s %" PRIu64 ", want %" PRIu64,
		       ck_page_class_name(c), mu.pages[c], s.counts[c]);
	EXPECT(mu.supported == 31 && !mu.note[0], "supported %d note '%s'", mu.supported, mu.note);
}

/* Opens a kernel of era e with extra VMCOREINFO lines (later lines win). */
static struct ck_error *open_with(const struct era *e, const char *extra, struct opened *o,
				  struct kernel_spec *s)
{
	return open_filter(make_kernel("odd.elf", e, extra, s), o);
}

/* Values in no known encoding, or two encodings at once: the typed
 * classes keep their pages and the note says so, once. */
static void test_unknown_encoding(void)
{
	static const char *const extras[] = {
		"NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=12345\n",
		"NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-268435456\n",	/* byte among words */
		"NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)=-129\n",	/* two types, one value */
		"NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-1\n",		/* "no type" */
	};
	for (size_t i = 0; i < CK_ARRAY_SIZE(extras); i++) {
		struct kernel_spec s;
		struct opened o;
		struct ck_error *err = open_with(&eras[0], extras[i], &o, &s);
		EXPECT(!err, "%s", err ? ck_error_message(err) : "");
		ck_error_destroy(err);
		if (err) {
			close_filter(&o);
			continue;
		}
		const char *why;
		int ok = ck_filter_supported(o.filter, &why);
		EXPECT(!(ok & CK_DL_FREE) && (ok & CK_DL_CACHE) && (ok & CK_DL_USER),
		       "%zu: supported %d", i, ok);
		EXPECT(why && strstr(why, "no known encoding"), "%zu: note '%s'", i, why);
		EXPECT(why && !strstr(strstr(why, "encoding") + 1, "encoding"),
		       "%zu: said twice: '%s'", i, why);
		uint64_t bm[NR_PFNS / 64], counts[CK_PAGE_NR_CLASSES];
		run_level(o.filter, 31, NR_PFNS, bm, counts);
		EXPECT(counts[CK_PAGE_FREE] == 0 && counts[CK_PAGE_OFFLINE] == 0,
		       "%zu: free %" PRIu64, i, counts[CK_PAGE_FREE]);
		EXPECT(kept(bm, 32) && kept(bm, 64) && !kept(bm, 16) && !kept(bm, 18),
		       "%zu: buddy pages kept, cache and anon not", i);
		close_filter(&o);
	}
}

/* Offsets outside struct page are ignored and named (ASan checks that
 * nothing reads beyond the struct pages read). */
static void test_bad_offsets(void)
{
	struct kernel_spec s;
	struct opened o;
	struct ck_error *err = open_with(&eras[1],
		"OFFSET(page._mapcount)=4000\nOFFSET(page.compound_head)=60\n"
		"OFFSET(folio._folio_order)=9999\nOFFSET(folio._folio_dtor)=10\n"
		"OFFSET(page.private)=18446744073709551615\n", &o, &s);
	EXPECT(!err, "%s", err ? ck_error_message(err) : "");
	ck_error_destroy(err);
	if (!err) {
		const char *why;
		int ok = ck_filter_supported(o.filter, &why);
		EXPECT(!(ok & CK_DL_FREE), "supported %d", ok);
		EXPECT(why && strstr(why, "OFFSET(page._mapcount)=4000 is outside") &&
		       strstr(why, "OFFSET(folio._folio_order)=9999") &&
		       strstr(why, "OFFSET(page.compound_head)=60"), "note '%s'", why);
		uint64_t bm[NR_PFNS / 64], counts[CK_PAGE_NR_CLASSES];
		run_level(o.filter, 31, NR_PFNS, bm, counts);
		EXPECT(counts[CK_PAGE_FREE] == 0 && counts[CK_PAGE_CACHE] >= 2);
	}
	close_filter(&o);

	/* A required field outside struct page refuses the layout. */
	err = open_with(&eras[0], "OFFSET(page.flags)=60\n", &o, &s);
	EXPECT(err && ck_error_code(err) == CK_ERR_FORMAT, "%s",
	       err ? ck_error_message(err) : "accepted");
	ck_error_destroy(err);
	close_filter(&o);
}

/* PAGESIZE is checked once, when the filter is made: zero, no power of two
 * or not the dump's page size (every struct page would be looked for
 * elsewhere, and zero divided by); a LENGTH(mem_section) whose product with
 * the sections per root wraps fits no layout. */
static void test_bad_page_size(void)
{
	static const struct {
		const char *extra;
		enum ck_error_code code;
		const char *needle;
	} cases[] = {
		{ "PAGESIZE=0\n", CK_ERR_FORMAT, "PAGESIZE 0" },
		{ "PAGESIZE=4097\n", CK_ERR_FORMAT, "PAGESIZE 4097" },
		{ "PAGESIZE=8192\n", CK_ERR_FORMAT, "not the dump's page size 4096" },
		{ "PAGESIZE=18446744073709551615\n", CK_ERR_UNSUPPORTED, "PAGESIZE" },	/* unusable: "no PAGESIZE" */
		{ "LENGTH(mem_section)=9223372036854775808\n", CK_ERR_UNSUPPORTED, "fits neither" },
		{ "SIZE(page)=0\n", CK_ERR_FORMAT, "implausible" },
		{ "SIZE(page)=65\n", CK_ERR_FORMAT, "implausible" },
		{ "SIZE(page)=18446744073709551614\n", CK_ERR_FORMAT, "implausible" },
		{ "OFFSET(page.mapping)=18446744073709551614\n", CK_ERR_FORMAT, "implausible" },
	};
	for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
		struct kernel_spec s;
		struct opened o;
		struct ck_error *err = open_with(&eras[0], cases[i].extra, &o, &s);
		EXPECT(err && ck_error_code(err) == cases[i].code &&
			       strstr(ck_error_message(err), cases[i].needle),
		       "%s: %s", cases[i].extra, err ? ck_error_message(err) : "accepted");
		ck_error_destroy(err);
		close_filter(&o);
	}
}

/* No slab key (a 6.10+ kernel read without PAGE_SLAB_MAPCOUNT_VALUE):
 * anonymous pages cannot be told from slab pages, so both stay. */
static void test_no_slab(void)
{
	struct era e = eras[5];
	e.slab_type = false;
	struct kernel_spec s;
	struct opened o;
	/* no PG_slab either: the value is not a bit number */
	struct ck_error *err = open_with(&e, "NUMBER(PG_slab)=99\n", &o, &s);
	EXPECT(!err, "%s", err ? ck_error_message(err) : "");
	ck_error_destroy(err);
	if (!err) {
		const char *why;
		int ok = ck_filter_supported(o.filter, &why);
		EXPECT(!(ok & CK_DL_USER) && (ok & CK_DL_FREE), "supported %d", ok);
		EXPECT(why && strstr(why, "anonymous pages kept"), "note '%s'", why);
		uint64_t bm[NR_PFNS / 64], counts[CK_PAGE_NR_CLASSES];
		run_level(o.filter, 31, NR_PFNS, bm, counts);
		EXPECT(kept(bm, 18) && kept(bm, 20) && kept(bm, 128), "anon and slab kept");
		/* hugetlb is known by its type, and free pages by theirs */
		EXPECT(counts[CK_PAGE_USER] == 8 && counts[CK_PAGE_FREE] == s.counts[CK_PAGE_FREE],
		       "user %" PRIu64 " free %" PRIu64, counts[CK_PAGE_USER], counts[CK_PAGE_FREE]);
	}
	close_filter(&o);
}

int main(void)
{
	int r = harness_begin("page_class");
	if (r)
		return r;
	run("every kernel era: pfn classes and counts, whole and in ranges", test_eras);
	run("--mem-usage counts the classes of a 7.1 kernel", test_mem_usage);
	run("page type values in no known encoding: typed classes kept, said once",
	    test_unknown_encoding);
	run("offsets outside struct page ignored and named", test_bad_offsets);
	run("no slab key: anonymous and slab pages kept", test_no_slab);
	run("zero, odd or foreign PAGESIZE and wrapping layouts refused", test_bad_page_size);
	return harness_end();
}
