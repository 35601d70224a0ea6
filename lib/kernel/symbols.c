/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Kernel symbols: lookups by name and by address, and how the tables were
 * read.  The answers come from kallsyms (lib/kernel/kallsyms.c), whose
 * tables VMCOREINFO locates since Linux 6.0; they are decoded on the first
 * lookup, so commands that never ask (dmesg) never pay for them.
 */
#include "kernel/kernel.h"

/* Decodes kallsyms once, on first use.  A failure is not cached: the next
 * lookup tries again and reports the same error, which names the dump (a
 * kallsyms failure is about the file, not about the name looked up). */
static struct ck_error *kernel_kallsyms(struct ck_kernel *kernel)
{
	if (kernel->kallsyms)
		return NULL;
	return ck_kernel_error_file(kernel->dump, ck_kallsyms_create(kernel, &kernel->kallsyms));
}

struct ck_error *ck_kernel_symbols_info(struct ck_kernel *kernel, struct ck_symbols_info *ret)
{
	struct ck_error *err = kernel_kallsyms(kernel);
	if (err)
		return err;
	ck_kallsyms_info(kernel->kallsyms, ret);
	return NULL;
}

struct ck_error *ck_kernel_symbol_by_name(struct ck_kernel *kernel, const char *name,
					  struct ck_symbol *ret)
{
	if (!name)
		return ck_error_create(CK_ERR_INVALID, "symbol lookup: no name");
	struct ck_error *err = kernel_kallsyms(kernel);
	if (err)
		return err;
	return ck_kallsyms_by_name(kernel->kallsyms, name, ret);
}

struct ck_error *ck_kernel_symbol_by_address(struct ck_kernel *kernel, uint64_t addr,
					     struct ck_symbol *ret)
{
	struct ck_error *err = kernel_kallsyms(kernel);
	if (err)
		return err;
	return ck_kallsyms_by_address(kernel->kallsyms, addr, false, ret);
}

struct ck_error *ck_kernel_symbol_by_address_last(struct ck_kernel *kernel, uint64_t addr,
						  struct ck_symbol *ret)
{
	struct ck_error *err = kernel_kallsyms(kernel);
	if (err)
		return err;
	return ck_kallsyms_by_address(kernel->kallsyms, addr, true, ret);
}

struct ck_error *ck_kernel_symbols_by_name(struct ck_kernel *kernel, const char *from,
					   int (*fn)(const struct ck_symbol *sym, void *arg),
					   void *arg)
{
	struct ck_error *err = kernel_kallsyms(kernel);
	if (err)
		return err;
	ck_kallsyms_walk_names(kernel->kallsyms, from, fn, arg);
	return NULL;
}
