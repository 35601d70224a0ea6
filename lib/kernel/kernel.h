/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel layer: what a dump's bytes mean — VMCOREINFO, the arch's
 * address translation, kallsyms.
 */
#ifndef CRASHKIT_KERNEL_H
#define CRASHKIT_KERNEL_H

#include "dump/dump.h"

/* ---- kernel ------------------------------------------------------------ */

struct ck_vmcoreinfo_entry {
	char *key;
	char *value;
};

struct ck_kallsyms;
struct ck_arch_ops;

struct ck_kernel {
	struct ck_dump *dump;
	struct ck_vmcoreinfo_entry *vmcoreinfo;	/* sorted by key */
	size_t nr_vmcoreinfo;
	const struct ck_arch_ops *arch;
	void *arch_priv;
	uint64_t kaslr_offset;
	struct ck_kallsyms *kallsyms;
};

/* Parses VMCOREINFO text ("KEY=value\n" lines) into kernel->vmcoreinfo. */
struct ck_error *ck_vmcoreinfo_parse(struct ck_kernel *kernel, const char *text,
				     size_t len);

struct ck_arch_ops {
	const char *name;
	struct ck_error *(*init)(struct ck_kernel *kernel);
	struct ck_error *(*virt_to_phys)(struct ck_kernel *kernel, uint64_t vaddr,
					 uint64_t *ret);
	void (*deinit)(struct ck_kernel *kernel);
	/* The virtual mappings an ELF vmcore of this machine would carry for
	 * the physical ranges given (what /proc/vmcore's PT_LOADs say), in
	 * file order: the kernel image first, then each range.  For writing
	 * an ELF dump from a dump that has no program headers.  NULL: not
	 * known for this architecture. */
	struct ck_error *(*elf_loads)(struct ck_kernel *kernel, const struct ck_mem_range *ranges,
				      size_t nr_ranges, struct ck_elf_load **ret, size_t *nr_ret);
	/* The kernel image's physical minus link-time load address (the
	 * kdump header's phys_base).  NULL: the arch has none. */
	uint64_t (*phys_base)(const struct ck_kernel *kernel);
};

extern const struct ck_arch_ops ck_arch_x86_64_ops;

/* The arch's elf_loads, or CK_ERR_UNSUPPORTED. */
struct ck_error *ck_kernel_elf_loads(struct ck_kernel *kernel, const struct ck_mem_range *ranges,
				     size_t nr_ranges, struct ck_elf_load **ret, size_t *nr_ret);

/* err with the dump's file named in front ("'PATH': ..."), unless its
 * message names it already (errors of the dump layer do); NULL stays NULL.
 * For the errors of the kernel layer's entry points: "no VMCOREINFO" means
 * nothing without the file it is about. */
struct ck_error *ck_kernel_error_file(const struct ck_dump *dump, struct ck_error *err);
struct ck_error *ck_kallsyms_create(struct ck_kernel *kernel, struct ck_kallsyms **ret);
void ck_kallsyms_destroy(struct ck_kallsyms *ks);
struct ck_error *ck_kallsyms_by_name(struct ck_kallsyms *ks, const char *name,
				     struct ck_symbol *ret);
struct ck_error *ck_kallsyms_by_address(struct ck_kallsyms *ks, uint64_t addr,
					bool last_alias, struct ck_symbol *ret);
void ck_kallsyms_info(const struct ck_kallsyms *ks, struct ck_symbols_info *ret);
/* Calls fn for each symbol in name order (strcmp), from the first whose
 * name is not below from (NULL: from the first), until fn returns non-zero. */
void ck_kallsyms_walk_names(const struct ck_kallsyms *ks, const char *from,
			    int (*fn)(const struct ck_symbol *sym, void *arg), void *arg);
/* The same over the kernel's kallsyms (lib/kernel/symbols.c), decoded on
 * first use: names by prefix (shell completion), "sym -l"/"sym -q". */
struct ck_error *ck_kernel_symbols_by_name(struct ck_kernel *kernel, const char *from,
					   int (*fn)(const struct ck_symbol *sym, void *arg),
					   void *arg);

#endif /* CRASHKIT_KERNEL_H */
