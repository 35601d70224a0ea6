/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * x86_64 kernel address translation from VMCOREINFO alone, no vmlinux.
 *
 * arch_crash_save_vmcoreinfo() (arch/x86/kernel/machine_kexec_64.c, later
 * crash_core_64.c / vmcore_info_64.c) writes:
 *   NUMBER(phys_base)          signed: physical minus link-time load address
 *   SYMBOL(init_top_pgt)       the kernel's top-level page table (named
 *                              init_level4_pgt before the 5-level paging
 *                              rename in Linux 4.13; both are accepted)
 *   NUMBER(pgtable_l5_enabled) 1 when booted with 5-level paging; absent on
 *                              kernels older than 5-level support: 4 levels
 *   KERNELOFFSET               KASLR slide, written since x86_64 KASLR
 *   NUMBER(KERNEL_IMAGE_SIZE)
 *   NUMBER(sme_mask)           AMD SME encryption bit set in page table
 *                              entries; cleared before using them
 *
 * The page table root is found through the kernel text mapping, which the
 * kernel itself uses for its own symbols (__phys_addr_symbol() in
 * arch/x86/mm/physaddr.c): pa = va - __START_KERNEL_map + phys_base.  Every
 * other address is translated by walking the tables, so the direct map, the
 * text mapping, vmalloc and vmemmap all come out right whatever KASLR did.
 */
#include <endian.h>
#include <inttypes.h>
#include <string.h>

#include "kernel/kernel.h"

/* arch/x86/include/asm/page_64_types.h */
#define START_KERNEL_MAP	0xffffffff80000000ull
/* arch/x86/include/asm/pgtable_types.h, page_types.h */
#define PTE_PRESENT		(1ull << 0)
#define PTE_PSE			(1ull << 7)	/* large page at PUD/PMD level */
#define PHYS_ADDR_MASK		0x000ffffffffff000ull	/* bits 12..51 */
#define PAGE_SHIFT		12
#define ENTRIES_SHIFT		9		/* 512 entries per table */

#define TLB_SLOTS 64

struct x86_64_priv {
	uint64_t root;		/* physical address of init_top_pgt */
	int levels;		/* 4 or 5 */
	uint64_t entry_mask;	/* physical address bits of an entry */
	int64_t phys_base;	/* NUMBER(phys_base) */
	/* a few recent translations: the printk ring and kallsyms tables are
	 * read page after page */
	uint64_t tlb_vpage[TLB_SLOTS];
	uint64_t tlb_ppage[TLB_SLOTS];
	bool tlb_valid[TLB_SLOTS];
};

static struct ck_error *x86_64_init(struct ck_kernel *kernel)
{
	const char *root_key = "SYMBOL(init_top_pgt)";
	if (!ck_kernel_vmcoreinfo_str(kernel, root_key))
		root_key = "SYMBOL(init_level4_pgt)";	/* before Linux 4.13 */
	if (!ck_kernel_vmcoreinfo_str(kernel, root_key))
		return ck_error_create(CK_ERR_NOT_FORMAT,
				       "VMCOREINFO has no SYMBOL(init_top_pgt)");

	uint64_t top;
	int64_t phys_base;
	struct ck_error *err = ck_kernel_vmcoreinfo_u64(kernel, root_key, &top);
	if (!err)
		err = ck_kernel_vmcoreinfo_s64(kernel, "NUMBER(phys_base)", &phys_base);
	if (err)
		return err;

	int levels = 4;
	if (ck_kernel_vmcoreinfo_str(kernel, "NUMBER(pgtable_l5_enabled)")) {
		int64_t l5;
		err = ck_kernel_vmcoreinfo_s64(kernel, "NUMBER(pgtable_l5_enabled)", &l5);
		if (err)
			return err;
		if (l5 != 0 && l5 != 1)
			return ck_error_create(CK_ERR_FORMAT,
					       "VMCOREINFO NUMBER(pgtable_l5_enabled)=%" PRId64
					       ": expected 0 or 1", l5);
		levels = l5 ? 5 : 4;
	}

	uint64_t entry_mask = PHYS_ADDR_MASK;
	if (ck_kernel_vmcoreinfo_str(kernel, "NUMBER(sme_mask)")) {
		int64_t sme;
		err = ck_kernel_vmcoreinfo_s64(kernel, "NUMBER(sme_mask)", &sme);
		if (err)
			return err;
		entry_mask &= ~(uint64_t)sme;
	}

	/* The table lives in the kernel image, which the text mapping covers
	 * (at most 1 GiB, KERNEL_IMAGE_SIZE). */
	if (top < START_KERNEL_MAP || top % 4096)
		return ck_error_create(CK_ERR_FORMAT,
				       "%s=%" PRIx64 " is not a page in the kernel text mapping",
				       root_key, top);
	uint64_t root = top - START_KERNEL_MAP + (uint64_t)phys_base;
	if (root & ~PHYS_ADDR_MASK)
		return ck_error_create(CK_ERR_FORMAT,
				       "page table root at physical 0x%" PRIx64
				       " (%s=%" PRIx64 ", NUMBER(phys_base)=%" PRId64 ") is impossible",
				       root, root_key, top, phys_base);

	struct x86_64_priv *priv = calloc(1, sizeof(*priv));
	if (!priv)
		return &ck_error_nomem;
	priv->root = root;
	priv->levels = levels;
	priv->entry_mask = entry_mask;
	priv->phys_base = phys_base;
	kernel->arch_priv = priv;
	return NULL;
}

static void x86_64_deinit(struct ck_kernel *kernel)
{
	free(kernel->arch_priv);
	kernel->arch_priv = NULL;
}

static const char *const level_names[] = { "PTE", "PMD", "PUD", "P4D", "PGD" };

static struct ck_error *x86_64_virt_to_phys(struct ck_kernel *kernel, uint64_t vaddr,
					    uint64_t *ret)
{
	struct x86_64_priv *priv = kernel->arch_priv;
	uint64_t vpage = vaddr >> PAGE_SHIFT;
	unsigned int slot = (unsigned int)(vpage % TLB_SLOTS);
	if (priv->tlb_valid[slot] && priv->tlb_vpage[slot] == vpage) {
		*ret = priv->tlb_ppage[slot] | (vaddr & 0xfff);
		return NULL;
	}

	/* Canonical: the bits above the top translated bit copy it. */
	unsigned int va_bits = priv->levels == 5 ? 57 : 48;
	int64_t sext = (int64_t)(vaddr << (64 - va_bits)) >> (64 - va_bits);
	if ((uint64_t)sext != vaddr)
		return ck_error_create(CK_ERR_FAULT,
				       "0x%" PRIx64 " is not a canonical %u-bit address",
				       vaddr, va_bits);

	uint64_t table = priv->root;
	for (int level = priv->levels - 1; level >= 0; level--) {
		unsigned int shift = PAGE_SHIFT + ENTRIES_SHIFT * (unsigned int)level;
		uint64_t index = (vaddr >> shift) & ((1u << ENTRIES_SHIFT) - 1);
		uint64_t entry_addr = table + index * 8;
		/* with 5-level paging the top level is PGD and the next P4D */
		const char *name = level_names[level == priv->levels - 1 ? 4 : level];
		uint64_t entry;
		struct ck_error *err = ck_dump_read_phys(kernel->dump, entry_addr, &entry,
							 sizeof(entry));
		if (err)
			return ck_error_prepend(err, "translating 0x%" PRIx64 ": %s entry at 0x%" PRIx64,
						vaddr, name, entry_addr);
		entry = le64toh(entry);
		if (!(entry & PTE_PRESENT))
			return ck_error_create(CK_ERR_FAULT,
					       "0x%" PRIx64 " is not mapped: %s entry 0x%" PRIx64
					       " at physical 0x%" PRIx64 " is not present",
					       vaddr, name, entry, entry_addr);
		uint64_t next = entry & priv->entry_mask;
		if (level == 0 || ((level == 1 || level == 2) && (entry & PTE_PSE))) {
			/* 4 KiB page, or a 2 MiB (PMD) / 1 GiB (PUD) large page */
			uint64_t page_mask = (1ull << shift) - 1;
			uint64_t paddr = (next & ~page_mask) | (vaddr & page_mask);
			priv->tlb_vpage[slot] = vpage;
			priv->tlb_ppage[slot] = paddr & ~0xfffull;
			priv->tlb_valid[slot] = true;
			*ret = paddr;
			return NULL;
		}
		table = next;
	}
	/* not reached: level 0 always returns */
	return ck_error_create(CK_ERR_FAULT, "0x%" PRIx64 ": page table walk failed", vaddr);
}

/*
 * What /proc/vmcore's program headers say on x86_64 (the capture kernel's
 * elfcorehdr, built by kexec-tools or the kernel's kexec_file_load): one
 * PT_LOAD for the kernel image at its text address, [_text, _end) at
 * physical _text - __START_KERNEL_map + phys_base, then one per RAM range at
 * the direct map, page_offset_base + paddr (the variable exists with
 * CONFIG_RANDOMIZE_MEMORY; without it the direct map starts at the fixed
 * base of 4- or 5-level paging).  The direct-map base is checked against
 * the page tables: a base they do not confirm gives 0 (unknown) rather than
 * a wrong address.
 */
static struct ck_error *x86_64_elf_loads(struct ck_kernel *kernel,
					 const struct ck_mem_range *ranges, size_t nr_ranges,
					 struct ck_elf_load **ret, size_t *nr_ret)
{
	struct x86_64_priv *priv = kernel->arch_priv;
	struct ck_elf_load *loads = ck_calloc_array(nr_ranges + 1, sizeof(*loads));
	if (!loads)
		return &ck_error_nomem;
	size_t n = 0;
	struct ck_symbol text, end;
	struct ck_error *err = ck_kernel_symbol_by_name(kernel, "_text", &text);
	if (!err)
		err = ck_kernel_symbol_by_name(kernel, "_end", &end);
	if (!err && text.address >= START_KERNEL_MAP && end.address > text.address)
		loads[n++] = (struct ck_elf_load){
			.paddr = text.address - START_KERNEL_MAP + (uint64_t)priv->phys_base,
			.vaddr = text.address,
			.memsz = end.address - text.address,
		};
	ck_error_destroy(err);

	uint64_t base = priv->levels == 5 ? 0xff11000000000000ull : 0xffff888000000000ull;
	struct ck_symbol sym;
	err = ck_kernel_symbol_by_name(kernel, "page_offset_base", &sym);
	if (!err)
		err = ck_kernel_read_u64(kernel, sym.address, &base);
	ck_error_destroy(err);
	/* Confirm: the direct-map address of a RAM page translates back. */
	size_t first = 0;
	while (first < nr_ranges && !ranges[first].size)
		first++;
	bool confirmed = false;
	if (first < nr_ranges) {
		uint64_t pa;
		err = x86_64_virt_to_phys(kernel, base + ranges[first].start, &pa);
		confirmed = !err && pa == ranges[first].start;
		ck_error_destroy(err);
	}
	for (size_t i = 0; i < nr_ranges; i++)
		loads[n++] = (struct ck_elf_load){
			.paddr = ranges[i].start,
			.vaddr = confirmed ? base + ranges[i].start : 0,
			.memsz = ranges[i].size,
		};
	*ret = loads;
	*nr_ret = n;
	return NULL;
}

/* The kernel image's physical load address minus its link-time one, as
 * the kdump header's phys_base records it. */
static uint64_t x86_64_phys_base(const struct ck_kernel *kernel)
{
	const struct x86_64_priv *priv = kernel->arch_priv;
	return (uint64_t)priv->phys_base;
}

const struct ck_arch_ops ck_arch_x86_64_ops = {
	.name = "x86_64",
	.init = x86_64_init,
	.virt_to_phys = x86_64_virt_to_phys,
	.deinit = x86_64_deinit,
	.elf_loads = x86_64_elf_loads,
	.phys_base = x86_64_phys_base,
};
