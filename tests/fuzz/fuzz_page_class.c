/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the page-class filter (lib/walk/page_class.c) and the
 * capture walk over it (lib/capture/), on a synthetic kernel (tests/mkdump.h
 * mk_kmem: 4 MiB, one mem_map of 1024 struct pages reached through
 * mem_section, as tests/unit/test_page_class.c builds it).  Input:
 *
 *   byte 0      era: 0 = 5.x-6.2 (word page types, PG_slab, compound_dtor
 *               bytes), 1 = 6.6-6.8 (order in page[1].flags, PG_hugetlb),
 *               2 = 6.12+ (PGTY_ byte types, slab a type, unaccepted,
 *               compound_info)
 *   byte 1      dump level (low 5 bits); bit 7: also run ck_capture()
 *   byte 2      n: VMCOREINFO overrides that follow, 5 bytes each: a key
 *               index (bit 7: drop the key) and an s32 value (LE)
 *   the rest    laid over the struct pages from pfn 0 (what it does not
 *               reach keeps the era's valid pages)
 *
 * The filter runs over all pfns (whole and in 64-pfn ranges), explains a
 * few pfns, and with bit 7 a capture writes a flattened kdump to /dev/null.
 */
#include <fcntl.h>
#include <inttypes.h>

#include "capture/capture.h"
#include "fuzz.h"

#define MEM_SIZE	(UINT64_C(4) << 20)
#define NR_PFNS		(MEM_SIZE / 4096)
#define MEMMAP_PA	UINT64_C(0x100000)
#define MEMMAP_LEN	(NR_PFNS * SIZE_PAGE)
#define ROOTS_PA	UINT64_C(0x200000)
#define SECTIONS_PA	UINT64_C(0x210000)
#define SIZE_PAGE	64
#define OFF_FLAGS	0
#define OFF_HEAD	8
#define OFF_DTOR	16
#define OFF_ORDER	17
#define OFF_MAPPING	24
#define OFF_PRIVATE	40
#define OFF_MAPCOUNT	48
#define PG_LRU		4
#define PG_SLAB		9
#define PG_SWAPCACHE	10
#define PG_PRIVATE	13
#define PG_HEAD		16
#define PG_SWAPBACKED	19
#define PG_HUGETLB	20
#define PG_HWPOISON	23
#define ANON_MAPPING	UINT64_C(0xffff888001234001)
#define FILE_MAPPING	UINT64_C(0xffff888001235000)
#define NR_ERAS		3
#define MAX_OVERRIDES	16

struct kv {
	const char *key;
	int64_t val;
	bool hex;
};

/* VMCOREINFO keys of the mem_map layout; -1 in eras that lack them. */
#define KEYS(X)                                                                  \
	X("SYMBOL(mem_section)", MK_KMEM_DIRECT + ROOTS_PA, MK_KMEM_DIRECT + ROOTS_PA, \
	  MK_KMEM_DIRECT + ROOTS_PA, true)                                         \
	X("LENGTH(mem_section)", 2048, 2048, 2048, false)                          \
	X("SIZE(mem_section)", 16, 16, 16, false)                                  \
	X("OFFSET(mem_section.section_mem_map)", 0, 0, 0, false)                   \
	X("NUMBER(SECTION_SIZE_BITS)", 27, 27, 27, false)                          \
	X("NUMBER(MAX_PHYSMEM_BITS)", 46, 46, 46, false)                           \
	X("SIZE(page)", SIZE_PAGE, SIZE_PAGE, SIZE_PAGE, false)                    \
	X("OFFSET(page.flags)", OFF_FLAGS, OFF_FLAGS, OFF_FLAGS, false)            \
	X("OFFSET(page._refcount)", 52, 52, 52, false)                             \
	X("OFFSET(page.mapping)", OFF_MAPPING, OFF_MAPPING, OFF_MAPPING, false)    \
	X("OFFSET(page.lru)", 8, 8, 8, false)                                      \
	X("OFFSET(page._mapcount)", OFF_MAPCOUNT, OFF_MAPCOUNT, OFF_MAPCOUNT, false) \
	X("OFFSET(page.private)", OFF_PRIVATE, OFF_PRIVATE, OFF_PRIVATE, false)    \
	X("LENGTH(zone.free_area)", 11, 11, 11, false)                             \
	X("OFFSET(page.compound_head)", OFF_HEAD, OFF_HEAD, -1, false)             \
	X("OFFSET(page.compound_info)", -1, -1, OFF_HEAD, false)                   \
	X("OFFSET(page.compound_dtor)", OFF_DTOR, -1, -1, false)                   \
	X("OFFSET(page.compound_order)", OFF_ORDER, -1, -1, false)                 \
	X("OFFSET(folio._folio_dtor)", -1, -1, -1, false)                          \
	X("OFFSET(folio._folio_order)", -1, -1, -1, false)                         \
	X("NUMBER(PG_lru)", PG_LRU, PG_LRU, PG_LRU, false)                         \
	X("NUMBER(PG_private)", PG_PRIVATE, PG_PRIVATE, PG_PRIVATE, false)         \
	X("NUMBER(PG_swapcache)", PG_SWAPCACHE, PG_SWAPCACHE, PG_SWAPCACHE, false) \
	X("NUMBER(PG_swapbacked)", PG_SWAPBACKED, PG_SWAPBACKED, PG_SWAPBACKED, false) \
	X("NUMBER(PG_hwpoison)", PG_HWPOISON, PG_HWPOISON, PG_HWPOISON, false)     \
	X("NUMBER(PG_head_mask)", 1 << PG_HEAD, 1 << PG_HEAD, 1 << PG_HEAD, false) \
	X("NUMBER(PG_slab)", PG_SLAB, PG_SLAB, -1, false)                          \
	X("NUMBER(PG_hugetlb)", -1, PG_HUGETLB, -1, false)                         \
	X("NUMBER(HUGETLB_PAGE_DTOR)", 2, -1, -1, false)                           \
	X("NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)", -129, -129, (int32_t)0xf0000000, false) \
	X("NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)", -257, -257, (int32_t)0xf1000000, false) \
	X("NUMBER(PAGE_SLAB_MAPCOUNT_VALUE)", -1, -1, (int32_t)0xf5000000, false)  \
	X("NUMBER(PAGE_HUGETLB_MAPCOUNT_VALUE)", -1, -1, (int32_t)0xf4000000, false) \
	X("NUMBER(PAGE_UNACCEPTED_MAPCOUNT_VALUE)", -1, -1, (int32_t)0xf7000000, false)

#define KEY_NAME(k, a, b, c, h) k,
#define KEY_VALS(k, a, b, c, h) { (int64_t)(a), (int64_t)(b), (int64_t)(c) },
#define KEY_HEX(k, a, b, c, h) h,
static const char *const key_names[] = { KEYS(KEY_NAME) };
static const int64_t key_vals[][NR_ERAS] = { KEYS(KEY_VALS) };
static const bool key_hex[] = { KEYS(KEY_HEX) };
#define NR_KEYS (sizeof(key_names) / sizeof(key_names[0]))
/* The values that are "absent" in an era: -1 except for the page types,
 * whose -1 would be a value; those keys are listed per era below. */
static bool key_present(size_t i, int era)
{
	return key_vals[i][era] != -1;
}

static struct fz_kernel fk;
static size_t base_vmci_len;
static uint8_t memmap[NR_ERAS][MEMMAP_LEN];

static uint64_t page_pa(uint64_t pfn)
{
	return MEMMAP_PA + pfn * SIZE_PAGE;
}

static void put64(struct mk_kmem *k, uint64_t pa, uint64_t v)
{
	mk_kmem_put64(k, pa, v);
}

static uint32_t type_value(int era, size_t key)
{
	return (uint32_t)key_vals[key][era];
}

static size_t key_index(const char *name)
{
	for (size_t i = 0; i < NR_KEYS; i++)
		if (!strcmp(key_names[i], name))
			return i;
	abort();
}

static void set_page(struct mk_kmem *k, uint64_t pfn, uint64_t flags, uint64_t mapping)
{
	put64(k, page_pa(pfn) + OFF_FLAGS, flags);
	put64(k, page_pa(pfn) + OFF_MAPPING, mapping);
}

static void set_type(struct mk_kmem *k, int era, uint64_t pfn, const char *key)
{
	mk_kmem_put32(k, page_pa(pfn) + OFF_MAPCOUNT, type_value(era, key_index(key)));
}

static void set_compound(struct mk_kmem *k, int era, uint64_t pfn, unsigned order, bool hugetlb)
{
	uint64_t flags;
	memcpy(&flags, k->mem + page_pa(pfn), 8);
	put64(k, page_pa(pfn), flags | 1ull << PG_HEAD);
	for (uint64_t i = 1; i < 1ull << order; i++) {
		put64(k, page_pa(pfn + i) + OFF_HEAD, (MK_KMEM_DIRECT + page_pa(pfn)) | 1);
		put64(k, page_pa(pfn + i) + OFF_MAPPING, ANON_MAPPING);
	}
	uint64_t p1 = page_pa(pfn + 1);
	if (era == 0) {
		mk_kmem_put8(k, p1 + OFF_ORDER, (uint8_t)order);
		mk_kmem_put8(k, p1 + OFF_DTOR, hugetlb ? 2 : 1);
	} else {
		put64(k, p1 + OFF_FLAGS, order | (hugetlb && era == 1 ? 1ull << PG_HUGETLB : 0));
	}
	if (hugetlb && era == 2)
		set_type(k, era, pfn, "NUMBER(PAGE_HUGETLB_MAPCOUNT_VALUE)");
}

/* The pages of tests/unit/test_page_class.c's put_pages(), in a smaller
 * machine. */
static void put_pages(struct mk_kmem *k, int era)
{
	memset(k->mem + MEMMAP_PA, 0, MEMMAP_LEN);
	for (uint64_t pfn = 0; pfn < NR_PFNS; pfn++)
		mk_kmem_put32(k, page_pa(pfn) + OFF_MAPCOUNT, UINT32_MAX);
	set_page(k, 16, 1ull << PG_LRU, FILE_MAPPING);
	set_page(k, 17, 1ull << PG_LRU | 1ull << PG_PRIVATE, FILE_MAPPING);
	set_page(k, 18, 0, ANON_MAPPING);
	set_page(k, 19, 1ull << PG_SWAPCACHE | 1ull << PG_SWAPBACKED, ANON_MAPPING - 1);
	if (era == 2) {
		set_page(k, 20, 0, 3);
		set_type(k, era, 20, "NUMBER(PAGE_SLAB_MAPCOUNT_VALUE)");
	} else {
		set_page(k, 20, 1ull << PG_SLAB, 3);
	}
	set_page(k, 21, 1ull << PG_HWPOISON, 0);
	set_type(k, era, 22, "NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)");
	set_type(k, era, 32, "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)");
	put64(k, page_pa(32) + OFF_PRIVATE, 3);
	set_type(k, era, 64, "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)");
	put64(k, page_pa(64) + OFF_PRIVATE, 6);
	set_page(k, 128, 0, ANON_MAPPING);
	set_compound(k, era, 128, 4, false);
	set_compound(k, era, 160, 3, true);
	set_compound(k, era, 176, 2, false);
	if (era == 2)
		set_type(k, era, 512, "NUMBER(PAGE_UNACCEPTED_MAPCOUNT_VALUE)");
}

static void setup(void)
{
	mk_kmem_init(&fk.k, MEM_SIZE);
	put64(&fk.k, ROOTS_PA, MK_KMEM_DIRECT + SECTIONS_PA);
	put64(&fk.k, SECTIONS_PA, (MK_KMEM_DIRECT + MEMMAP_PA) | 0x3);
	/* some non-zero pages to capture */
	for (uint64_t pfn = 0x300; pfn < 0x340; pfn++)
		mk_fill(fk.k.mem + pfn * 4096, pfn * 4096, 4096);
	base_vmci_len = fk.k.vmci_len;
	for (int era = 0; era < NR_ERAS; era++) {
		put_pages(&fk.k, era);
		memcpy(memmap[era], fk.k.mem + MEMMAP_PA, MEMMAP_LEN);
	}
	fz_kernel_begin(&fk, "fuzz_page_class");
}

static size_t make_vmci(int era, const uint8_t *ov, size_t nr_ov, char *out, size_t cap)
{
	int64_t vals[NR_KEYS];
	bool have[NR_KEYS];
	for (size_t i = 0; i < NR_KEYS; i++) {
		vals[i] = key_vals[i][era];
		have[i] = key_present(i, era);
	}
	for (size_t j = 0; j < nr_ov; j++) {
		const uint8_t *o = ov + 5 * j;
		size_t i = (o[0] & 0x7f) % NR_KEYS;
		int32_t v;
		memcpy(&v, o + 1, 4);
		have[i] = !(o[0] & 0x80);
		vals[i] = (int32_t)le32toh((uint32_t)v);
	}
	size_t len = base_vmci_len;
	memcpy(out, fk.k.vmci, len);
	for (size_t i = 0; i < NR_KEYS; i++) {
		if (!have[i])
			continue;
		int n = key_hex[i] ? snprintf(out + len, cap - len, "%s=%" PRIx64 "\n", key_names[i],
					      (uint64_t)vals[i])
				   : snprintf(out + len, cap - len, "%s=%" PRId64 "\n", key_names[i],
					      vals[i]);
		if (n < 0 || (size_t)n >= cap - len)
			abort();
		len += (size_t)n;
	}
	return len;
}

static void run_filter(struct ck_filter *f, int level)
{
	static uint64_t bm[NR_PFNS / 64];
	uint64_t counts[CK_PAGE_NR_CLASSES];
	const char *why = NULL;
	ck_filter_supported(f, &why);
	memset(bm, 0xff, sizeof(bm));
	memset(counts, 0, sizeof(counts));
	ck_filter_rewind(f);
	fz_drop(ck_filter_exclude(f, level, bm, NR_PFNS, counts));
	memset(bm, 0xff, sizeof(bm));
	ck_filter_rewind(f);
	for (uint64_t start = 0; start < NR_PFNS; start += 64)
		fz_drop(ck_filter_exclude_range(f, level, bm + start / 64, start, start + 64, counts));
	static const uint64_t pfns[] = { 16, 20, 24, 33, 64, 100, 129, 143, 161, 177, 512, 1023,
					 1024, UINT64_MAX / 2 };
	for (size_t i = 0; i < sizeof(pfns) / sizeof(pfns[0]); i++) {
		struct ck_page_explain e;
		fz_drop(ck_filter_explain(f, level, pfns[i], &e));
	}
}

static void run_capture(const char *path, int level)
{
	static int devnull = -1;
	if (devnull < 0)
		devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	struct ck_capture_opts o = { .codec = CK_CODEC_NONE, .dump_level = level, .flattened = true,
				     .out_fd = devnull, .nr_threads = 1, .force = true,
				     .tv_sec = 1700000000 };
	struct ck_capture_stats st;
	fz_drop(ck_capture(path, "/dev/null", &o, &st));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	static uint8_t mm[MEMMAP_LEN];
	static char vmci[32768];
	if (!ready) {
		setup();
		ready = true;
	}
	if (size < 3)
		return 0;
	int era = data[0] % NR_ERAS;
	int level = data[1] & 31;
	bool capture = data[1] & 0x80;
	size_t nr_ov = data[2] % (MAX_OVERRIDES + 1);
	if (size < 3 + 5 * nr_ov)
		return 0;
	size_t vlen = make_vmci(era, data + 3, nr_ov, vmci, sizeof(vmci));
	const uint8_t *pages = data + 3 + 5 * nr_ov;
	size_t n = size - 3 - 5 * nr_ov;
	if (n > MEMMAP_LEN)
		n = MEMMAP_LEN;
	memcpy(mm, memmap[era], MEMMAP_LEN);
	memcpy(mm, pages, n);
	fz_kernel_patch(&fk, MEMMAP_PA, mm, MEMMAP_LEN);
	if (!fz_kernel_header(&fk, vmci, vlen))
		abort();

	struct ck_dump *dump;
	struct ck_kernel *kernel;
	struct ck_error *err = fz_kernel_open(&fk, &dump, &kernel);
	if (err) {
		fz_drop(err);
		return 0;
	}
	struct ck_filter *f;
	err = ck_filter_create(kernel, &f);
	if (!err) {
		run_filter(f, level);
		run_filter(f, 31);
		ck_filter_destroy(f);
	}
	fz_drop(err);
	ck_kernel_destroy(kernel);
	ck_dump_destroy(dump);
	if (capture)
		run_capture(fk.path, level);
	return 0;
}

static void fz_seeds(const char *dir)
{
	static const char *const eras[NR_ERAS] = { "6.1", "6.6", "6.12" };
	setup();
	/* the struct pages up to pfn 192: the interesting ones */
	static uint8_t seed[3 + 5 * 2 + 192 * SIZE_PAGE];
	char name[64];
	for (int era = 0; era < NR_ERAS; era++) {
		for (int v = 0; v < 3; v++) {
			size_t len = 0;
			seed[len++] = (uint8_t)era;
			seed[len++] = (uint8_t)(v == 0 ? 31 : v == 1 ? 0x80 | 31 : 0x80 | 1);
			seed[len++] = v == 2 ? 2 : 0;
			if (v == 2) {
				/* SIZE(page) 56 and the mapcount at 44 */
				seed[len++] = (uint8_t)key_index("SIZE(page)");
				memcpy(seed + len, &(uint32_t){ htole32(56) }, 4);
				len += 4;
				seed[len++] = (uint8_t)key_index("OFFSET(page._mapcount)");
				memcpy(seed + len, &(uint32_t){ htole32(44) }, 4);
				len += 4;
			}
			memcpy(seed + len, memmap[era], 192 * SIZE_PAGE);
			len += 192 * SIZE_PAGE;
			snprintf(name, sizeof(name), "%s-%s", eras[era],
				 v == 0 ? "filter" : v == 1 ? "capture" : "capture-overrides");
			fz_seed(dir, name, seed, len);
		}
	}
}
