/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Global variables: the kernel's BTF describes types and per-cpu variables
 * but no other globals, so the globals the walkers read are named here
 * with their C types (docs/analysis.md, "Globals").  Addresses always come
 * from kallsyms.  A walker that needs a new global adds one line.
 */
#include <string.h>

#include "analysis/analysis.h"

static const struct {
	const char *name;
	const char *type;	/* for arrays: the element's type */
} globals[] = {
	{ "__cpu_online_mask", "struct cpumask" },
	{ "__cpu_possible_mask", "struct cpumask" },
	{ "__cpu_present_mask", "struct cpumask" },
	{ "__per_cpu_offset", "unsigned long" },	/* [NR_CPUS] */
	{ "avenrun", "unsigned long" },			/* [3] */
	{ "crash_notes", "unsigned long" },		/* note_buf_t __percpu * */
	{ "init_mm", "struct mm_struct" },
	{ "init_pid_ns", "struct pid_namespace" },
	{ "init_task", "struct task_struct" },
	{ "init_uts_ns", "struct uts_namespace" },
	{ "jiffies", "unsigned long" },
	{ "jiffies_64", "u64" },
	{ "modules", "struct list_head" },
	{ "nr_cpu_ids", "unsigned int" },
	{ "panic_cpu", "atomic_t" },
	{ "totalram_pages", "atomic_long_t" },
	{ "vm_node_stat", "atomic_long_t" },		/* [NR_VM_NODE_STAT_ITEMS] */
	{ "vm_zone_stat", "atomic_long_t" },		/* [NR_VM_ZONE_STAT_ITEMS] */
};

/* The table's type of a global, or 0. */
static struct ck_error *table_type(struct ck_types *types, const char *name, uint32_t *id)
{
	*id = 0;
	for (size_t i = 0; i < sizeof(globals) / sizeof(globals[0]); i++) {
		if (strcmp(globals[i].name, name))
			continue;
		struct ck_error *err = ck_type_find(types, globals[i].type, id);
		return err ? ck_error_prepend(err, "global '%s'", name) : NULL;
	}
	return NULL;
}

static struct ck_error *global_type(struct ck_kernel *kernel, struct ck_types *types,
				    const char *name, bool declared, uint64_t *addr,
				    uint32_t *type)
{
	struct ck_symbol sym;
	struct ck_error *err = ck_kernel_symbol_by_name(kernel, name, &sym);
	if (err)
		return err;
	uint32_t id = 0;
	bool var = ck_types_var(types, name, &id);
	if (!var || !declared) {
		uint32_t tid;
		err = table_type(types, name, &tid);
		if (err)
			return err;
		if (tid)
			id = tid;
	}
	if (!id && !var)
		return ck_error_create(CK_ERR_NOT_FOUND,
				       "the type of global '%s' is not known without a vmlinux "
				       "(BTF has no globals; lib/analysis/globals.c)", name);
	*addr = sym.address;
	*type = id;
	return NULL;
}

/* For the walkers: the table's type first (arrays as their element type,
 * as the walkers read them), then the variable's own. */
struct ck_error *ck_global(struct ck_kernel *kernel, struct ck_types *types, const char *name,
			   uint64_t *addr, uint32_t *type)
{
	return global_type(kernel, types, name, false, addr, type);
}

/* For p and whatis: the variable's declared type where the types have it
 * (every variable in DWARF, the per-cpu ones in BTF), else the table's. */
struct ck_error *ck_global_declared(struct ck_kernel *kernel, struct ck_types *types,
				    const char *name, uint64_t *addr, uint32_t *type)
{
	return global_type(kernel, types, name, true, addr, type);
}
