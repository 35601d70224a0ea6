/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Global variables: the kernel's BTF describes types and per-cpu variables
 * but no other globals, so the globals the walkers read are named here
 * with their C types (docs/analysis.md, "Globals").  Addresses always come
 * from kallsyms.  A walker that needs a new global adds one line.
 */
#include <bpf/btf.h>
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

/* A per-cpu variable's type from BTF's .data..percpu section, or 0. */
static uint32_t percpu_var_type(const struct btf *btf, const char *name)
{
	int sec = btf__find_by_name_kind(btf, ".data..percpu", BTF_KIND_DATASEC);
	if (sec <= 0)
		return 0;
	const struct btf_type *t = btf__type_by_id(btf, (uint32_t)sec);
	const struct btf_var_secinfo *vs = btf_var_secinfos(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++, vs++) {
		const struct btf_type *v = btf__type_by_id(btf, vs->type);
		if (v && btf_is_var(v) && !strcmp(btf__name_by_offset(btf, v->name_off), name))
			return v->type;
	}
	return 0;
}

struct ck_error *ck_global(struct ck_kernel *kernel, struct ck_types *types, const char *name,
			   uint64_t *addr, uint32_t *type)
{
	struct ck_symbol sym;
	struct ck_error *err = ck_kernel_symbol_by_name(kernel, name, &sym);
	if (err)
		return err;
	uint32_t id = percpu_var_type(ck_types_btf(types), name);
	for (size_t i = 0; !id && i < sizeof(globals) / sizeof(globals[0]); i++) {
		if (strcmp(globals[i].name, name))
			continue;
		err = ck_type_find(types, globals[i].type, &id);
		if (err)
			return ck_error_prepend(err, "global '%s'", name);
	}
	if (!id)
		return ck_error_create(CK_ERR_NOT_FOUND,
				       "the type of global '%s' is not known without a vmlinux "
				       "(BTF has no globals; lib/analysis/globals.c)", name);
	*addr = sym.address;
	*type = id;
	return NULL;
}
