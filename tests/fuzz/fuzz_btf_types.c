/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: BTF bytes into crashkit-analyze's type layer
 * (lib/analysis/types.c): ck_types_from_bytes() (libbpf's btf__new
 * validates the header, types and strings), then what the walkers ask of
 * it: types by C name, member paths (through anonymous structs and unions,
 * arrays, typedefs), the members of every struct and union by name,
 * resolve, size, pointer targets.  Hostile BTF may hold typedef and member
 * cycles, huge offsets and counts: every answer must come back, bounded.
 * Seeds are small kernel-like BTF built with libbpf's btf__add_*().
 */
#include <bpf/btf.h>

#include "fuzz.h"

#include "analysis/analysis.h"

/* Types every walker looks up, and paths into them. */
static const char *const names[] = {
	"struct task_struct", "task_struct", "union thread_union", "enum pid_type", "pid_t",
	"int", "unsigned int", "struct list_head", "list_head", "struct", "", "struct  ",
	"mm_struct", "u64",
};
static const char *const paths[] = {
	"pid", "comm", "tasks.next", "mm", "thread.sp", "__state", "state", "cpus_mask.bits[0]",
	"comm[15]", "comm[99999999999]", "a.b.c.d.e.f.g", ".", "[", "[0", "x[1]", "anon_field",
	"flags", "..", "pid.", "tasks[0]",
};

/* A small kernel-like BTF: task_struct with an anonymous union, a
 * bitfield, an array, a pointer to itself, a typedef chain, an enum. */
static struct btf *seed_btf(int variant)
{
	struct btf *b = btf__new_empty();
	if (!b)
		abort();
	int i32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	int u32 = btf__add_int(b, "unsigned int", 4, 0);
	int u64 = btf__add_int(b, "long long unsigned int", 8, 0);
	int chr = btf__add_int(b, "char", 1, BTF_INT_CHAR);
	int pid_t = btf__add_typedef(b, "pid_t", i32);
	int cpid = btf__add_const(b, pid_t);
	int lh = btf__add_struct(b, "list_head", 16);
	int plh = btf__add_ptr(b, lh);
	btf__add_field(b, "next", plh, 0, 0);
	btf__add_field(b, "prev", plh, 64, 0);
	int comm = btf__add_array(b, u32, chr, 16);
	int bits = btf__add_array(b, u32, u64, variant ? 4 : 1);
	int mask = btf__add_struct(b, "cpumask", 8 * (variant ? 4 : 1));
	btf__add_field(b, "bits", bits, 0, 0);
	int anon = btf__add_union(b, NULL, 4);
	btf__add_field(b, variant ? "state" : "__state", u32, 0, 0);
	btf__add_field(b, "anon_field", i32, 0, 0);
	int ts = btf__add_struct(b, "task_struct", 128);
	int pts = btf__add_ptr(b, ts);
	btf__add_field(b, NULL, anon, 0, 0);
	btf__add_field(b, "flags", u32, 32, 3);
	btf__add_field(b, "pid", cpid, 64, 0);
	btf__add_field(b, "comm", comm, 96, 0);
	btf__add_field(b, "tasks", lh, 256, 0);
	btf__add_field(b, "parent", pts, 384, 0);
	btf__add_field(b, "cpus_mask", mask, 448, 0);
	int e = btf__add_enum(b, "pid_type", 4);
	btf__add_enum_value(b, "PIDTYPE_PID", 0);
	btf__add_enum_value(b, "PIDTYPE_TGID", 1);
	btf__add_typedef(b, "u64", u64);
	int tu = btf__add_union(b, "thread_union", 16384);
	btf__add_field(b, "task", ts, 0, 0);
	(void)e;
	(void)tu;
	return b;
}

static void fz_seeds(const char *dir)
{
	for (int v = 0; v < 2; v++) {
		struct btf *b = seed_btf(v);
		uint32_t size;
		const void *raw = btf__raw_data(b, &size);
		char name[32];
		snprintf(name, sizeof(name), "btf-%d", v);
		fz_seed(dir, name, raw, size);
		btf__free(b);
	}
}

/* Every struct and union member by name, and the type queries on every
 * id (the first 512, 16 members each: bounded time). */
static void walk_all(struct ck_types *t)
{
	const struct btf *btf = ck_types_btf(t);
	uint32_t cnt = btf__type_cnt(btf);
	for (uint32_t id = 0; id < cnt && id < 512; id++) {
		ck_type_resolve(t, id);
		ck_type_size(t, id);
		ck_type_is_pointer(t, id);
		ck_type_target(t, id);
		const struct btf_type *bt = btf__type_by_id(btf, id);
		if (!bt || !btf_is_composite(bt))
			continue;
		const struct btf_member *m = btf_members(bt);
		for (uint16_t i = 0; i < btf_vlen(bt) && i < 16; i++, m++) {
			const char *n = btf__name_by_offset(btf, m->name_off);
			struct ck_member mem;
			if (n && *n && strlen(n) < 256)
				fz_drop(ck_type_member(t, id, n, &mem));
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ck_types *t;
	struct ck_error *err = ck_types_from_bytes(data, size, &t);
	if (err) {
		fz_drop(err);
		return 0;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint32_t id;
		struct ck_error *e = ck_type_find(t, names[i], &id);
		if (e) {
			fz_drop(e);
			continue;
		}
		ck_type_resolve(t, id);
		ck_type_size(t, id);
		ck_type_target(t, id);
		for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
			struct ck_member m;
			fz_drop(ck_type_member(t, id, paths[p], &m));
			fz_drop(ck_member_of(t, names[i], paths[p], &m));
		}
	}
	static const char *const state[] = { "__state", "state", NULL };
	struct ck_member m;
	fz_drop(ck_member_of_any(t, "task_struct", state, &m, NULL));
	walk_all(t);
	ck_types_destroy(t);
	return 0;
}
