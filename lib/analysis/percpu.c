/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-cpu data: the number of possible CPUs, the online mask, and
 * __per_cpu_offset[] (docs/analysis.md, "Globals").  Each answer is read
 * on demand: a handful of words of the dump, which the kernel layer caches.
 */
#include "analysis/analysis.h"

/* NR_CPUS is at most 8192 on x86_64 (CONFIG_MAXSMP); nr_cpu_ids beyond it
 * is garbage. */
#define CK_CPUS_MAX 8192

struct ck_error *ck_cpus(struct ck_analysis *a, int *nr_cpus)
{
	struct ck_symbol sym;
	uint32_t n = 0;
	struct ck_error *err = ck_kernel_symbol_by_name(a->kernel, "nr_cpu_ids", &sym);
	if (!err)
		err = ck_kernel_read_u32(a->kernel, sym.address, &n);
	if (err || n == 0 || n > CK_CPUS_MAX) {
		/* a kernel built without SMP has no nr_cpu_ids: the dump's
		 * own count (its header, or its NT_PRSTATUS notes) */
		uint32_t dn = ck_dump_info(a->dump)->nr_cpus;
		if (dn > 0 && dn <= CK_CPUS_MAX) {
			ck_error_destroy(err);
			*nr_cpus = (int)dn;
			return NULL;
		}
		if (!err)
			err = ck_error_create(CK_ERR_FORMAT, "nr_cpu_ids %u is not plausible", n);
		return ck_error_prepend(err, "the number of CPUs");
	}
	*nr_cpus = (int)n;
	return NULL;
}

bool ck_cpu_online(struct ck_analysis *a, int cpu)
{
	int nr;
	struct ck_error *err = ck_cpus(a, &nr);
	if (err) {
		ck_error_destroy(err);
		return cpu == 0;
	}
	if (cpu < 0 || cpu >= nr)
		return false;
	struct ck_symbol sym;
	uint64_t word;
	err = ck_kernel_symbol_by_name(a->kernel, "__cpu_online_mask", &sym);
	if (!err)
		err = ck_kernel_read_u64(a->kernel, sym.address + (uint64_t)(cpu / 64) * 8, &word);
	if (err) {
		/* no mask to ask: every possible CPU counts as online */
		ck_error_destroy(err);
		return true;
	}
	return (word >> (cpu % 64)) & 1;
}

struct ck_error *ck_percpu_offset(struct ck_analysis *a, int cpu, uint64_t *ret)
{
	int nr;
	struct ck_error *err = ck_cpus(a, &nr);
	if (err)
		return err;
	if (cpu < 0 || cpu >= nr)
		return ck_error_create(CK_ERR_INVALID, "CPU %d is not a possible CPU (0-%d)", cpu,
				       nr - 1);
	struct ck_symbol sym;
	err = ck_kernel_symbol_by_name(a->kernel, "__per_cpu_offset", &sym);
	if (err) {
		/* !CONFIG_SMP: per-cpu variables are plain globals */
		ck_error_destroy(err);
		*ret = 0;
		return NULL;
	}
	err = ck_kernel_read_u64(a->kernel, sym.address + (uint64_t)cpu * 8, ret);
	if (err)
		return ck_error_prepend(err, "__per_cpu_offset[%d]", cpu);
	return NULL;
}
