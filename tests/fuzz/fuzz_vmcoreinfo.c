/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: VMCOREINFO text, any bytes.  First the parser alone
 * (ck_vmcoreinfo_parse) and lookups of the keys the library reads; then the
 * same text as the VMCOREINFO note of a synthetic x86_64 kernel
 * (tests/mkdump.h mk_kernel: page tables, KASLR, a vmalloc area), so that
 * what the values steer runs too: the arch's probing and page-table walk
 * (init_top_pgt, phys_base, KERNELOFFSET, pgtable_l5_enabled), the kernel
 * facts (utsname, crash time, phys_base), translation and reads.
 */
#include "fuzz.h"

static const char *const keys[] = {
	"OSRELEASE", "PAGESIZE", "KERNELOFFSET", "CRASHTIME", "BUILD-ID",
	"SYMBOL(init_top_pgt)", "SYMBOL(init_uts_ns)", "SYMBOL(_stext)",
	"NUMBER(phys_base)", "NUMBER(pgtable_l5_enabled)", "NUMBER(KERNEL_IMAGE_SIZE)",
	"OFFSET(uts_namespace.name)", "SIZE(page)", "LENGTH(mem_section)",
};

static void lookups(const struct ck_kernel *k, const uint8_t *data, size_t size)
{
	uint64_t u;
	int64_t s;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = ck_kernel_vmcoreinfo_str(k, keys[i]);
		if (v && strlen(v) > (1u << 20))
			abort();
		fz_drop(ck_kernel_vmcoreinfo_u64(k, keys[i], &u));
		fz_drop(ck_kernel_vmcoreinfo_s64(k, keys[i], &s));
	}
	/* the input's first key, whatever it is */
	char key[128];
	size_t n = 0;
	while (n < size && n < sizeof(key) - 1 && data[n] != '=' && data[n] != '\n')
		n++;
	memcpy(key, data, n);
	key[n] = '\0';
	ck_kernel_vmcoreinfo_str(k, key);
	fz_drop(ck_kernel_vmcoreinfo_u64(k, key, &u));
}

static void parse_alone(const uint8_t *data, size_t size)
{
	struct ck_kernel *k = calloc(1, sizeof(*k));
	if (!k)
		abort();
	struct ck_error *err = ck_vmcoreinfo_parse(k, (const char *)data, size);
	if (!err)
		lookups(k, data, size);
	fz_drop(err);
	ck_kernel_destroy(k);
}

static struct fz_kernel fk;

static void kernel_setup(void)
{
	mk_kernel_init(&fk.k, 4);
	fz_kernel_begin(&fk, "fuzz_vmcoreinfo");
}

static void in_kernel(const uint8_t *data, size_t size)
{
	if (!fz_kernel_header(&fk, data, size))
		return;
	struct ck_dump *dump;
	struct ck_kernel *kernel;
	struct ck_error *err = fz_kernel_open(&fk, &dump, &kernel);
	if (err) {
		fz_drop(err);
		return;
	}
	lookups(kernel, data, size);
	struct ck_utsname uts;
	int64_t t;
	uint64_t pa, pb;
	uint8_t buf[64];
	fz_drop(ck_kernel_utsname(kernel, &uts));
	fz_drop(ck_kernel_crash_time(kernel, &t));
	fz_drop(ck_kernel_phys_base(kernel, &pb));
	ck_kernel_offset(kernel);
	static const uint64_t vas[] = {
		MK_KERNEL_TEXT, MK_KERNEL_TEXT + 0x1234, MK_KMEM_DIRECT + 0x2000,
		MK_KMEM_DIRECT5 + 0x2000, MK_KERNEL_VMALLOC + 0x3008, MK_KMEM_TEXT,
		0xffffffffffffffffull, 0,
	};
	for (size_t i = 0; i < sizeof(vas) / sizeof(vas[0]); i++) {
		fz_drop(ck_kernel_virt_to_phys(kernel, vas[i], &pa));
		fz_drop(ck_kernel_read(kernel, vas[i] - 8, buf, sizeof(buf)));
	}
	ck_kernel_destroy(kernel);
	ck_dump_destroy(dump);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		kernel_setup();
		ready = true;
	}
	parse_alone(data, size);
	in_kernel(data, size);
	return 0;
}

static void fz_seeds(const char *dir)
{
	struct mk_kmem k;
	mk_kernel_init(&k, 4);
	mk_kmem_vmci(&k, "SYMBOL(init_uts_ns)=%llx\nOFFSET(uts_namespace.name)=4\n"
		     "CRASHTIME=1700000000\nBUILD-ID=0123456789abcdef\n",
		     (unsigned long long)(MK_KERNEL_TEXT + 0x400000));
	fz_seed(dir, "kernel-4-levels", k.vmci, k.vmci_len);
	mk_kmem_deinit(&k);
	mk_kernel_init(&k, 5);
	fz_seed(dir, "kernel-5-levels", k.vmci, k.vmci_len);
	mk_kmem_deinit(&k);
	mk_kmem_init(&k, 4 << 20);
	fz_seed(dir, "kmem-no-kaslr", k.vmci, k.vmci_len);
	mk_kmem_deinit(&k);
	static const char debian[] =
		"OSRELEASE=6.1.0-56-amd64\nBUILD-ID=2f7a3e4b5c6d7e8f\nPAGESIZE=4096\n"
		"SYMBOL(init_uts_ns)=ffffffff82a13460\nOFFSET(uts_namespace.name)=0\n"
		"SYMBOL(node_online_map)=ffffffff82b1a9c0\nSYMBOL(swapper_pg_dir)=ffffffff82a0e000\n"
		"SYMBOL(_stext)=ffffffff81000000\nSYMBOL(vmap_area_list)=ffffffff82b0c170\n"
		"SYMBOL(mem_section)=ffff88813fff6000\nLENGTH(mem_section)=2048\n"
		"SIZE(mem_section)=16\nOFFSET(mem_section.section_mem_map)=0\n"
		"NUMBER(SECTION_SIZE_BITS)=27\nNUMBER(MAX_PHYSMEM_BITS)=46\n"
		"SIZE(page)=64\nSIZE(pglist_data)=174784\nSIZE(zone)=1600\n"
		"OFFSET(page.flags)=0\nOFFSET(page._refcount)=52\nOFFSET(page.mapping)=24\n"
		"LENGTH(zone.free_area)=11\nNUMBER(NR_FREE_PAGES)=0\nNUMBER(PG_lru)=4\n"
		"NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-129\nNUMBER(phys_base)=-1895825408\n"
		"SYMBOL(init_top_pgt)=ffffffff82a0e000\nNUMBER(pgtable_l5_enabled)=0\n"
		"SYMBOL(kallsyms_names)=ffffffff826a1b48\nSYMBOL(prb)=ffffffff82b4dd28\n"
		"KERNELOFFSET=0\nNUMBER(KERNEL_IMAGE_SIZE)=1073741824\nNUMBER(sme_mask)=0\n"
		"CRASHTIME=1733151234\n";
	fz_seed(dir, "debian-6.1", debian, sizeof(debian) - 1);
	static const char odd[] = "OSRELEASE=\nPAGESIZE=0x1000\nSYMBOL(x)=\n=1\nNOEQUALS\n"
				  "NUMBER(phys_base)=-9223372036854775808\nPAGESIZE=4096\n";
	fz_seed(dir, "odd", odd, sizeof(odd) - 1);
}
