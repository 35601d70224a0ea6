/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/kernel/arch_x86_64.c: address translation through
 * hand-built 4- and 5-level page tables (tests/mkdump.h mk_kernel): the
 * KASLR'd text mapping in 2 MiB pages with a negative phys_base, the direct
 * map in a 1 GiB page, scattered 4 KiB vmalloc pages, NX bits ignored;
 * faults that name the entry or address, non-canonical and wrapping
 * addresses, an absurd pgtable_l5_enabled, an empty page table.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kernel/kernel.h"
#include "../mkdump.h"
#include "../harness.h"

static void test_x86_64(int levels)
{
	struct mk_kmem s;
	mk_kernel_init(&s, levels);
	/* recognisable bytes */
	for (uint64_t i = 0; i < 16; i++)
		memset(s.mem + MK_KERNEL_VMALLOC_PA + i * MK_4K, (int)(0xa0 + i), MK_4K);
	mk_kmem_put64(&s, 0x5008, 0x1122334455667788ull);

	struct ck_dump *dump;
	struct ck_kernel *k;
	if (!no_error(mk_kmem_open(&s, tpath("kernel.elf"), &dump, &k))) {
		check(false, "x86_64 %d-level: open synthetic kernel", levels);
		mk_kmem_deinit(&s);
		return;
	}
	uint64_t pa = 0;
	check(ck_kernel_offset(k) == MK_KERNEL_KASLR, "x86_64 %d-level: KERNELOFFSET", levels);
	check(ck_kernel_dump(k) == dump, "x86_64 %d-level: kernel knows its dump", levels);
	check(no_error(ck_kernel_virt_to_phys(k, MK_KERNEL_TEXT + 0x5008, &pa)) && pa == 0x5008,
	      "x86_64 %d-level: text mapping, 2 MiB page, negative phys_base", levels);
	check(no_error(ck_kernel_virt_to_phys(k, MK_KERNEL_TEXT + 3 * MK_2M + 0x123, &pa)) &&
	      pa == 3 * MK_2M + 0x123, "x86_64 %d-level: second 2 MiB page", levels);
	uint64_t direct = levels == 5 ? MK_KMEM_DIRECT5 : MK_KMEM_DIRECT;
	check(no_error(ck_kernel_virt_to_phys(k, direct + 0xabcdef, &pa)) && pa == 0xabcdef,
	      "x86_64 %d-level: direct map, 1 GiB page", levels);
	check(no_error(ck_kernel_virt_to_phys(k, MK_KERNEL_VMALLOC + 2 * MK_4K + 5, &pa)) &&
	      pa == MK_KERNEL_VMALLOC_PA + 13 * MK_4K + 5, "x86_64 %d-level: 4 KiB page", levels);
	uint64_t v = 0;
	check(no_error(ck_kernel_read_u64(k, MK_KERNEL_TEXT + 0x5008, &v)) && v == 0x1122334455667788ull,
	      "x86_64 %d-level: read_u64", levels);
	uint32_t v32 = 0;
	check(no_error(ck_kernel_read_u32(k, direct + 0x5008, &v32)) && v32 == 0x55667788,
	      "x86_64 %d-level: read_u32 through the direct map", levels);

	/* a read spanning three scattered pages */
	uint8_t buf[2 * 4096 + 200];
	bool ok = no_error(ck_kernel_read(k, MK_KERNEL_VMALLOC + MK_4K - 100, buf, sizeof(buf)));
	/* virtual page i is physical page 15 - i, filled with 0xa0 + 15 - i */
	ok = ok && buf[0] == 0xaf && buf[99] == 0xaf && buf[100] == 0xae &&
	     buf[100 + 4095] == 0xae && buf[100 + 4096] == 0xad && buf[sizeof(buf) - 1] == 0xac;
	check(ok, "x86_64 %d-level: read spans pages, each translated", levels);

	pa = 7;
	check(is_error(ck_kernel_virt_to_phys(k, MK_KERNEL_VMALLOC + 100 * MK_4K, &pa), CK_ERR_FAULT,
		       "not present") && pa == 7,
	      "x86_64 %d-level: unmapped page is a fault naming the entry", levels);
	check(is_error(ck_kernel_read(k, MK_KERNEL_VMALLOC + 16 * MK_4K - 8, buf, 16), CK_ERR_FAULT,
		       "0xffffc90000010000"),
	      "x86_64 %d-level: read into an unmapped page names its address", levels);
	check(is_error(ck_kernel_virt_to_phys(k, 0x0000900000000000ull, &pa), CK_ERR_FAULT,
		       levels == 5 ? "not present" : "canonical"),
	      "x86_64 %d-level: address above the user half", levels);
	check(is_error(ck_kernel_virt_to_phys(k, 0x8000000000000000ull, &pa), CK_ERR_FAULT,
		       "canonical"), "x86_64 %d-level: non-canonical address", levels);
	check(is_error(ck_kernel_read(k, 0xfffffffffffffff0ull, buf, 32), CK_ERR_FAULT, "wraps"),
	      "x86_64 %d-level: read wrapping the address space", levels);
	mk_kmem_close(&s, dump, k);
}

static void test_x86_64_errors(void)
{
	struct mk_kmem s;
	mk_kernel_init(&s, 4);
	mk_kmem_vmci(&s, "NUMBER(pgtable_l5_enabled)=7\n");
	struct ck_dump *dump;
	struct ck_kernel *k;
	check(is_error(mk_kmem_open(&s, tpath("kernel.elf"), &dump, &k), CK_ERR_FORMAT, "pgtable_l5_enabled"),
	      "x86_64: absurd pgtable_l5_enabled refused");
	mk_kmem_deinit(&s);

	mk_kernel_init(&s, 4);
	/* the root itself points nowhere: every translation fails cleanly */
	mk_kmem_vmci(&s, "SYMBOL(init_top_pgt)=%" PRIx64 "\n", MK_KERNEL_TEXT + 0x7000000);
	if (no_error(mk_kmem_open(&s, tpath("kernel.elf"), &dump, &k))) {
		uint64_t pa;
		check(is_error(ck_kernel_virt_to_phys(k, MK_KERNEL_TEXT, &pa), CK_ERR_FAULT, NULL),
		      "x86_64: empty page table gives a fault, not a crash");
		mk_kmem_close(&s, dump, k);
	} else {
		check(false, "x86_64: empty page table gives a fault, not a crash");
		mk_kmem_deinit(&s);
	}
}

int main(void)
{
	int r = harness_begin("arch_x86_64");
	if (r)
		return r;
	test_x86_64(4);
	test_x86_64(5);
	test_x86_64_errors();
	return harness_end();
}
