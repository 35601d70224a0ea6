/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Types from a DWARF vmlinux (docs/analysis.md, "Types from DWARF"): the
 * DWARF's types, functions and variables written as BTF with libbpf's
 * writer (btf__add_*), deduplicated with btf__dedup, and handed to the same
 * type layer as the dump's BTF (types.c), so every walker and command
 * works unchanged.  libdw parses and validates the DWARF; this file only
 * maps DIEs to BTF types.
 *
 * Per CU, every type DIE (at the top level and nested in structs and
 * unions) gets its BTF id before any is written, as each becomes exactly
 * a known number of BTF types (an array one per dimension): references
 * between them, cycles included, are then plain ids.  Functions and
 * variables follow.  The whole is deduplicated once at the end (see
 * DEDUP_EVERY), which brings it near the size of the kernel's own BTF.
 * The per-cpu variables also go into a `.data..percpu` DATASEC, as
 * pahole's do.
 */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/analysis.h"
#include "base/hash_map.h"
#include "base/vector.h"

/* Types written between deduplications: in practice once, at the end.
 * Deduplicating every 400 000 types took half the time on 6.1 and 6.12
 * but never ended on 7.3 (libbpf 1.1's btf__dedup against an already
 * deduplicated part); one pass over everything is what pahole does. */
#define DEDUP_EVERY 50000000u
/* Nesting of structs searched for nested type DIEs at most. */
#define NEST_MAX 64

static size_t off_hash(const uint64_t *k) { return ck_hash_u64(*k); }
static bool off_eq(const uint64_t *a, const uint64_t *b) { return *a == *b; }
CK_DEFINE_HASH_MAP(ck_die_ids, uint64_t, uint32_t, off_hash, off_eq)
CK_DEFINE_VECTOR(ck_dies, Dwarf_Die)

static bool str_eq(char *const *a, char *const *b) { return !strcmp(*a, *b); }
static size_t str_hash(char *const *s) { return ck_hash_string(*s); }
/* per-cpu variable name -> its offset in .data..percpu */
CK_DEFINE_HASH_MAP(ck_percpu_vars, char *, uint64_t, str_hash, str_eq)

struct conv {
	struct btf *btf;
	struct ck_die_ids ids;		/* this CU's type DIE offset -> BTF id */
	struct ck_dies types;		/* this CU's type DIEs, in id order */
	struct ck_dies funcs, vars;	/* this CU's functions and variables */
	uint32_t index_type;		/* this CU's array index int */
	uint32_t zero_index_type;	/* the same for `[0]` arrays (not `[]`) */
	struct ck_percpu_vars externs;	/* names of extern VARs written */
	uint32_t next_id;		/* the next id collect() hands out */
	uint32_t since_dedup, dedup_every;
	uint64_t percpu_start, percpu_size;	/* .data..percpu, link-time */
	struct ck_percpu_vars percpu;
	struct ck_dwarf_btf_stats *st;
};

/* How many BTF types a DIE becomes (0: not a type we write). */
static uint32_t die_type_count(Dwarf_Die *die)
{
	switch (dwarf_tag(die)) {
	case DW_TAG_base_type:
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
	case DW_TAG_const_type:
	case DW_TAG_volatile_type:
	case DW_TAG_restrict_type:
	case DW_TAG_atomic_type:
	case DW_TAG_typedef:
	case DW_TAG_structure_type:
	case DW_TAG_class_type:
	case DW_TAG_union_type:
	case DW_TAG_enumeration_type:
	case DW_TAG_subroutine_type:
		return 1;
	case DW_TAG_array_type: {
		Dwarf_Die c;
		uint32_t n = 0;
		if (dwarf_child(die, &c) == 0)
			do
				n += dwarf_tag(&c) == DW_TAG_subrange_type;
			while (n < 64 && dwarf_siblingof(&c, &c) == 0);
		return n ? n : 1;
	}
	default:
		return 0;
	}
}

static bool is_declaration(Dwarf_Die *die)
{
	bool flag = false;
	Dwarf_Attribute at;
	return dwarf_attr(die, DW_AT_declaration, &at) && dwarf_formflag(&at, &flag) == 0 && flag;
}

/* Records the type DIEs under parent (nested in structs and unions too),
 * functions and variables at the CU's top level. */
static struct ck_error *collect(struct conv *c, Dwarf_Die *parent, int depth)
{
	Dwarf_Die die;
	if (depth > NEST_MAX || dwarf_child(parent, &die) != 0)
		return NULL;
	do {
		int tag = dwarf_tag(&die);
		uint32_t n = die_type_count(&die);
		if (n) {
			/* ids run in DIE order; an array's later dimensions follow it */
			struct ck_die_ids_entry e = { .key = dwarf_dieoffset(&die), .value = c->next_id };
			if (ck_die_ids_insert(&c->ids, &e, NULL) < 0 || !ck_dies_append(&c->types, &die))
				return &ck_error_nomem;
			c->next_id += n;
			if (tag == DW_TAG_structure_type || tag == DW_TAG_union_type ||
			    tag == DW_TAG_class_type) {
				struct ck_error *err = collect(c, &die, depth + 1);
				if (err)
					return err;
			}
		} else if (depth == 0 && tag == DW_TAG_subprogram) {
			if (!ck_dies_append(&c->funcs, &die))
				return &ck_error_nomem;
		} else if (depth == 0 && tag == DW_TAG_variable) {
			if (!ck_dies_append(&c->vars, &die))
				return &ck_error_nomem;
		}
	} while (dwarf_siblingof(&die, &die) == 0);
	return NULL;
}

/* The BTF id a DIE's DW_AT_type refers to; 0 (void) when none or not a
 * type of this CU that is written. */
static uint32_t ref_of(struct conv *c, Dwarf_Die *die)
{
	Dwarf_Attribute at;
	Dwarf_Die t;
	if (!dwarf_attr_integrate(die, DW_AT_type, &at) || !dwarf_formref_die(&at, &t))
		return 0;
	uint64_t key = dwarf_dieoffset(&t);
	struct ck_die_ids_entry *e = ck_die_ids_search(&c->ids, &key);
	return e ? e->value : 0;
}

static uint64_t udata(Dwarf_Die *die, unsigned int name, uint64_t dflt)
{
	Dwarf_Attribute at;
	Dwarf_Word v;
	if (!dwarf_attr_integrate(die, name, &at) || dwarf_formudata(&at, &v) != 0)
		return dflt;
	return v;
}

static const char *name_of(Dwarf_Die *die)
{
	const char *n = dwarf_diename(die);
	return n ? n : "";
}

static int write_base(struct conv *c, Dwarf_Die *die)
{
	const char *name = name_of(die);
	uint64_t size = udata(die, DW_AT_byte_size, 0);
	if (!*name || size > 16)
		return -EINVAL;
	switch (udata(die, DW_AT_encoding, 0)) {
	case DW_ATE_float:
		return btf__add_float(c->btf, name, (size_t)size);
	case DW_ATE_boolean:
		return btf__add_int(c->btf, name, (size_t)size, BTF_INT_BOOL);
	case DW_ATE_signed:
	case DW_ATE_signed_char:
		return btf__add_int(c->btf, name, (size_t)size, BTF_INT_SIGNED);
	case DW_ATE_unsigned:
	case DW_ATE_unsigned_char:
	case DW_ATE_UTF:
		return btf__add_int(c->btf, name, (size_t)size, 0);
	default:
		return -EINVAL;
	}
}

/* DW_AT_data_member_location: a constant, or DWARF 2's DW_OP_plus_uconst. */
static uint64_t member_location(Dwarf_Die *m)
{
	Dwarf_Attribute at;
	Dwarf_Word v;
	if (!dwarf_attr(m, DW_AT_data_member_location, &at))
		return 0;
	if (dwarf_formudata(&at, &v) == 0)
		return v;
	Dwarf_Op *ops;
	size_t n;
	if (dwarf_getlocation(&at, &ops, &n) == 0 && n == 1 && ops[0].atom == DW_OP_plus_uconst)
		return ops[0].number;
	return 0;
}

static void add_member(struct conv *c, Dwarf_Die *m)
{
	if (dwarf_tag(m) != DW_TAG_member || dwarf_hasattr(m, DW_AT_external))
		return;
	uint64_t bit_size = udata(m, DW_AT_bit_size, 0);
	uint64_t bits;
	Dwarf_Attribute at;
	Dwarf_Word v;
	if (dwarf_attr(m, DW_AT_data_bit_offset, &at) && dwarf_formudata(&at, &v) == 0) {
		bits = v;
	} else {
		bits = member_location(m) * 8;
		/* DWARF 2/3 bitfields: DW_AT_bit_offset counts from the most
		 * significant bit of the storage unit (little-endian here) */
		if (bit_size && dwarf_attr(m, DW_AT_bit_offset, &at) && dwarf_formudata(&at, &v) == 0) {
			uint64_t unit = udata(m, DW_AT_byte_size, 0);
			if (!unit) {
				Dwarf_Die t;
				Dwarf_Word sz;
				if (dwarf_attr(m, DW_AT_type, &at) && dwarf_formref_die(&at, &t) &&
				    dwarf_aggregate_size(&t, &sz) == 0)
					unit = sz;
			}
			if (unit * 8 >= v + bit_size)
				bits += unit * 8 - v - bit_size;
		}
	}
	if (bit_size > 255 || bits > UINT32_MAX ||
	    btf__add_field(c->btf, name_of(m), (int)ref_of(c, m), (uint32_t)bits,
			   (uint32_t)bit_size) < 0)
		c->st->bad_members++;
}

static int write_composite(struct conv *c, Dwarf_Die *die, bool is_union)
{
	const char *name = name_of(die);
	uint64_t size = udata(die, DW_AT_byte_size, 0);
	if (is_declaration(die) && *name)
		return btf__add_fwd(c->btf, name, is_union ? BTF_FWD_UNION : BTF_FWD_STRUCT);
	if (size > UINT32_MAX)
		return -E2BIG;
	int id = is_union ? btf__add_union(c->btf, name, (uint32_t)size)
			  : btf__add_struct(c->btf, name, (uint32_t)size);
	Dwarf_Die m;
	if (id < 0 || is_declaration(die) || dwarf_child(die, &m) != 0)
		return id;
	do
		add_member(c, &m);
	while (dwarf_siblingof(&m, &m) == 0);
	return id;
}

/* An enumerator's value.  DW_FORM_sdata is signed; a data form is
 * sign-extended only when the enum's underlying type is signed (without
 * one, as gdb reads it: unsigned). */
static int64_t enumerator_value(Dwarf_Die *e, bool is_signed)
{
	Dwarf_Attribute at;
	Dwarf_Sword s;
	Dwarf_Word u;
	if (!dwarf_attr(e, DW_AT_const_value, &at))
		return 0;
	unsigned int form = dwarf_whatform(&at);
	if (form == DW_FORM_sdata || form == DW_FORM_implicit_const)
		return dwarf_formsdata(&at, &s) == 0 ? s : 0;
	if (dwarf_formudata(&at, &u) != 0)
		return 0;
	if (!is_signed)
		return (int64_t)u;
	int bits = form == DW_FORM_data1 ? 8 : form == DW_FORM_data2 ? 16 :
		   form == DW_FORM_data4 ? 32 : 64;
	if (bits < 64 && (u >> (bits - 1)) & 1)
		u |= ~0ULL << bits;
	return (int64_t)u;
}

/* Whether the enum's underlying type (DW_AT_type) is signed; false without one. */
static bool enum_type_signed(Dwarf_Die *die)
{
	Dwarf_Attribute at;
	Dwarf_Die t;
	if (!dwarf_attr(die, DW_AT_type, &at) || !dwarf_formref_die(&at, &t))
		return false;
	/* through typedefs and qualifiers to the base type */
	for (int i = 0; i < 8 && dwarf_tag(&t) != DW_TAG_base_type; i++)
		if (!dwarf_attr(&t, DW_AT_type, &at) || !dwarf_formref_die(&at, &t))
			return false;
	uint64_t enc = udata(&t, DW_AT_encoding, DW_ATE_unsigned);
	return enc == DW_ATE_signed || enc == DW_ATE_signed_char;
}

static int write_enum(struct conv *c, Dwarf_Die *die)
{
	const char *name = name_of(die);
	uint64_t size = udata(die, DW_AT_byte_size, 4);
	if (is_declaration(die) && *name)
		return btf__add_fwd(c->btf, name, BTF_FWD_ENUM);
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return -EINVAL;
	bool type_signed = enum_type_signed(die), sign = false;
	Dwarf_Die e;
	bool any = dwarf_child(die, &e) == 0;
	/* signed if any value is negative, as BTF's kflag (and gdb) say */
	for (Dwarf_Die x = e; any;) {
		if (dwarf_tag(&x) == DW_TAG_enumerator && enumerator_value(&x, type_signed) < 0)
			sign = true;
		if (dwarf_siblingof(&x, &x) != 0)
			break;
	}
	bool wide = size > 4;
	int id = wide ? btf__add_enum64(c->btf, name, (uint32_t)size, sign)
		      : btf__add_enum(c->btf, name, (uint32_t)size);
	if (id < 0 || !any)
		return id;
	do {
		if (dwarf_tag(&e) != DW_TAG_enumerator)
			continue;
		int64_t v = enumerator_value(&e, type_signed);
		int r = wide ? btf__add_enum64_value(c->btf, name_of(&e), (uint64_t)v)
			     : btf__add_enum_value(c->btf, name_of(&e), sign ? v : (int64_t)(uint32_t)v);
		if (r < 0)
			c->st->bad_members++;
	} while (dwarf_siblingof(&e, &e) == 0);
	return id;
}

/* A FUNC_PROTO: the return type of die, the parameters among its children
 * (names kept for functions, as pahole does). */
static int write_proto(struct conv *c, Dwarf_Die *die, Dwarf_Die *params, bool names)
{
	int id = btf__add_func_proto(c->btf, (int)ref_of(c, die));
	Dwarf_Die p;
	if (id < 0 || !params || dwarf_child(params, &p) != 0)
		return id;
	do {
		int tag = dwarf_tag(&p);
		int r = 0;
		if (tag == DW_TAG_formal_parameter)
			r = btf__add_func_param(c->btf, names ? name_of(&p) : "", (int)ref_of(c, &p));
		else if (tag == DW_TAG_unspecified_parameters)
			r = btf__add_func_param(c->btf, "", 0);
		if (r < 0)
			c->st->bad_members++;
	} while (dwarf_siblingof(&p, &p) == 0);
	return id;
}

/* DW_AT_upper_bound + 1; 0 for -1 (`[0]`) or no value. */
static uint64_t upper_bound_count(Dwarf_Attribute *at)
{
	Dwarf_Sword sv;
	Dwarf_Word v;
	if (dwarf_whatform(at) == DW_FORM_sdata)
		return dwarf_formsdata(at, &sv) == 0 && sv >= 0 ? (uint64_t)sv + 1 : 0;
	if (dwarf_formudata(at, &v) != 0)
		return 0;
	/* -1 in a data form of the index type's size */
	unsigned int form = dwarf_whatform(at);
	uint64_t minus1 = form == DW_FORM_data1 ? 0xff : form == DW_FORM_data2 ? 0xffff :
			  form == DW_FORM_data4 ? 0xffffffffu : UINT64_MAX;
	return v == minus1 || v == UINT64_MAX ? 0 : v + 1;
}

/* An array's n dimensions: n ARRAYs, each the element of the one before. */
static int write_array(struct conv *c, Dwarf_Die *die, uint32_t id, uint32_t n)
{
	Dwarf_Die s;
	bool more = dwarf_child(die, &s) == 0;
	uint32_t elem = ref_of(c, die);
	for (uint32_t i = 0; i < n; i++) {
		while (more && dwarf_tag(&s) != DW_TAG_subrange_type)
			more = dwarf_siblingof(&s, &s) == 0;
		uint64_t count = 0;
		bool bounded = false;	/* `[0]` rather than `[]` when count is 0 */
		if (more) {
			Dwarf_Attribute at;
			Dwarf_Word v;
			if (dwarf_attr(&s, DW_AT_count, &at) && dwarf_formudata(&at, &v) == 0)
				count = v, bounded = true;
			else if (dwarf_attr(&s, DW_AT_upper_bound, &at))
				count = upper_bound_count(&at), bounded = true;
			more = dwarf_siblingof(&s, &s) == 0;
		}
		if (count > UINT32_MAX)
			count = 0;
		uint32_t index = !count && bounded ? c->zero_index_type : c->index_type;
		int r = btf__add_array(c->btf, (int)index,
				       (int)(i + 1 < n ? id + i + 1 : elem), (uint32_t)count);
		if (r < 0)
			return r;
	}
	return (int)id;
}

/* Writes the n BTF types of one type DIE at the ids collect() gave it;
 * what libbpf refuses becomes a `void *` in its place, so later ids hold. */
static struct ck_error *write_type(struct conv *c, Dwarf_Die *die)
{
	uint32_t id = (uint32_t)btf__type_cnt(c->btf);
	uint32_t n = die_type_count(die);
	uint32_t ref = ref_of(c, die);
	int r;
	switch (dwarf_tag(die)) {
	case DW_TAG_base_type: r = write_base(c, die); break;
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type: r = btf__add_ptr(c->btf, (int)ref); break;
	case DW_TAG_const_type: r = btf__add_const(c->btf, (int)ref); break;
	case DW_TAG_volatile_type:
	case DW_TAG_atomic_type: r = btf__add_volatile(c->btf, (int)ref); break;
	case DW_TAG_restrict_type: r = btf__add_restrict(c->btf, (int)ref); break;
	case DW_TAG_typedef: r = btf__add_typedef(c->btf, name_of(die), (int)ref); break;
	case DW_TAG_structure_type:
	case DW_TAG_class_type: r = write_composite(c, die, false); break;
	case DW_TAG_union_type: r = write_composite(c, die, true); break;
	case DW_TAG_enumeration_type: r = write_enum(c, die); break;
	case DW_TAG_subroutine_type: r = write_proto(c, die, die, false); break;
	case DW_TAG_array_type: r = write_array(c, die, id, n); break;
	default: r = -EINVAL; break;
	}
	if (r < 0)
		c->st->fillers++;
	while ((uint32_t)btf__type_cnt(c->btf) < id + n)
		if (btf__add_ptr(c->btf, 0) < 0)
			return &ck_error_nomem;
	if ((uint32_t)btf__type_cnt(c->btf) != id + n)
		return ck_error_create(CK_ERR_FORMAT, "DWARF type at DIE 0x%llx: %u BTF types "
				       "written for %u", (unsigned long long)dwarf_dieoffset(die),
				       (unsigned)(btf__type_cnt(c->btf) - id), (unsigned)n);
	return NULL;
}

static bool flag_of(Dwarf_Die *die, unsigned int name)
{
	Dwarf_Attribute at;
	bool flag = false;
	return dwarf_attr_integrate(die, name, &at) && dwarf_formflag(&at, &flag) == 0 && flag;
}

/* A function with code: FUNC_PROTO then FUNC (whatis FUNC). */
static void write_func(struct conv *c, Dwarf_Die *die)
{
	const char *name = name_of(die);
	if (!*name || is_declaration(die) ||
	    (!dwarf_hasattr(die, DW_AT_low_pc) && !dwarf_hasattr(die, DW_AT_ranges)))
		return;
	/* an out-of-line copy of an inline function: the parameters as declared */
	Dwarf_Attribute at;
	Dwarf_Die origin, *params = die;
	if (dwarf_attr(die, DW_AT_abstract_origin, &at) && dwarf_formref_die(&at, &origin))
		params = &origin;
	int proto = write_proto(c, die, params, true);
	if (proto < 0 || btf__add_func(c->btf, name, flag_of(die, DW_AT_external) ?
				       BTF_FUNC_GLOBAL : BTF_FUNC_STATIC, proto) < 0)
		c->st->bad_members++;
	else
		c->st->funcs++;
}

/* An extern declaration, once per name: the type of variables that are
 * declared in C but defined elsewhere (`jiffies` is the linker's alias of
 * jiffies_64: `volatile unsigned long`), as gdb finds them. */
static struct ck_error *write_extern(struct conv *c, Dwarf_Die *die, const char *name)
{
	char *key = (char *)name;
	if (ck_percpu_vars_search(&c->externs, &key))
		return NULL;
	struct ck_percpu_vars_entry e = { .key = strdup(name) };
	if (!e.key || ck_percpu_vars_insert(&c->externs, &e, NULL) < 0) {
		free(e.key);
		return &ck_error_nomem;
	}
	if (btf__add_var(c->btf, name, BTF_VAR_GLOBAL_EXTERN, (int)ref_of(c, die)) < 0)
		c->st->bad_members++;
	return NULL;
}

/* A variable with a static address (DW_OP_addr): a VAR; per-cpu ones are
 * remembered for the DATASEC. */
static struct ck_error *write_var(struct conv *c, Dwarf_Die *die)
{
	const char *name = name_of(die);
	Dwarf_Attribute at;
	Dwarf_Op *ops;
	size_t n;
	if (*name && is_declaration(die))
		return write_extern(c, die, name);
	if (!*name || !dwarf_attr(die, DW_AT_location, &at) ||
	    dwarf_getlocation(&at, &ops, &n) != 0 || n < 1 || ops[0].atom != DW_OP_addr)
		return NULL;
	uint64_t addr = ops[0].number;
	if (btf__add_var(c->btf, name, flag_of(die, DW_AT_external) ? BTF_VAR_GLOBAL_ALLOCATED :
			 BTF_VAR_STATIC, (int)ref_of(c, die)) < 0) {
		c->st->bad_members++;
		return NULL;
	}
	c->st->vars++;
	if (!c->percpu_size || addr - c->percpu_start >= c->percpu_size)
		return NULL;
	struct ck_percpu_vars_entry e = { .key = strdup(name), .value = addr - c->percpu_start };
	if (!e.key)
		return &ck_error_nomem;
	int r = ck_percpu_vars_insert(&c->percpu, &e, NULL);
	if (r <= 0)
		free(e.key);
	return r < 0 ? &ck_error_nomem : NULL;
}

static void conv_cu_reset(struct conv *c)
{
	ck_die_ids_deinit(&c->ids);
	ck_dies_deinit(&c->types);
	ck_dies_deinit(&c->funcs);
	ck_dies_deinit(&c->vars);
	ck_die_ids_init(&c->ids);
	ck_dies_init(&c->types);
	ck_dies_init(&c->funcs);
	ck_dies_init(&c->vars);
}

static struct ck_error *convert_cu(struct conv *c, Dwarf_Die *cu)
{
	uint32_t start = (uint32_t)btf__type_cnt(c->btf);
	conv_cu_reset(c);
	int r = btf__add_int(c->btf, "__ARRAY_SIZE_TYPE__", 4, 0);
	if (r < 0)
		return &ck_error_nomem;
	c->index_type = (uint32_t)r;
	r = btf__add_int(c->btf, CK_BTF_ZERO_LENGTH_INDEX, 4, 0);
	if (r < 0)
		return &ck_error_nomem;
	c->zero_index_type = (uint32_t)r;
	c->next_id = (uint32_t)btf__type_cnt(c->btf);
	struct ck_error *err = collect(c, cu, 0);
	for (size_t i = 0; !err && i < ck_dies_size(&c->types); i++)
		err = write_type(c, ck_dies_at(&c->types, i));
	for (size_t i = 0; !err && i < ck_dies_size(&c->funcs); i++)
		write_func(c, ck_dies_at(&c->funcs, i));
	for (size_t i = 0; !err && i < ck_dies_size(&c->vars); i++)
		err = write_var(c, ck_dies_at(&c->vars, i));
	c->st->dies += ck_dies_size(&c->types);
	c->since_dedup += (uint32_t)btf__type_cnt(c->btf) - start;
	return err;
}

static struct ck_error *dedup(struct conv *c)
{
	int r = btf__dedup(c->btf, NULL);
	c->since_dedup = 0;
	c->st->dedups++;
	if (r < 0)
		return ck_error_create_errno(-r, "deduplicating the BTF made from DWARF");
	return NULL;
}

/* The .data..percpu DATASEC over the VARs of per-cpu variables (after the
 * last deduplication: it is the last type). */
static struct ck_error *add_percpu_datasec(struct conv *c)
{
	if (!ck_percpu_vars_size(&c->percpu))
		return NULL;
	uint32_t n = (uint32_t)btf__type_cnt(c->btf);
	int sec = btf__add_datasec(c->btf, ".data..percpu", (uint32_t)c->percpu_size);
	if (sec < 0)
		return &ck_error_nomem;
	for (uint32_t id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(c->btf, id);
		if (!btf_is_var(t) || btf_var(t)->linkage == BTF_VAR_GLOBAL_EXTERN)
			continue;
		char *key = (char *)btf__name_by_offset(c->btf, t->name_off);
		struct ck_percpu_vars_entry *e = key ? ck_percpu_vars_search(&c->percpu, &key) : NULL;
		if (!e || e->value == UINT64_MAX)
			continue;
		long long size = btf__resolve_size(c->btf, t->type);
		uint64_t off = e->value;
		e->value = UINT64_MAX;	/* the first of several of one name */
		if (btf__add_datasec_var_info(c->btf, (int)id, (uint32_t)off,
					      size > 0 ? (uint32_t)size : 0) < 0)
			return &ck_error_nomem;
	}
	return NULL;
}

static void percpu_section(struct conv *c, Elf *elf)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0)
		return;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *name;
		if (gelf_getshdr(scn, &sh) && (name = elf_strptr(elf, shstrndx, sh.sh_name)) &&
		    !strcmp(name, ".data..percpu")) {
			c->percpu_start = sh.sh_addr;
			c->percpu_size = sh.sh_size;
			return;
		}
	}
}

static void conv_deinit(struct conv *c)
{
	conv_cu_reset(c);
	ck_die_ids_deinit(&c->ids);
	ck_dies_deinit(&c->types);
	ck_dies_deinit(&c->funcs);
	ck_dies_deinit(&c->vars);
	size_t pos = 0;
	for (struct ck_percpu_vars_entry *e; (e = ck_percpu_vars_next(&c->percpu, &pos));)
		free(e->key);
	ck_percpu_vars_deinit(&c->percpu);
	pos = 0;
	for (struct ck_percpu_vars_entry *e; (e = ck_percpu_vars_next(&c->externs, &pos));)
		free(e->key);
	ck_percpu_vars_deinit(&c->externs);
}

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static struct ck_error *convert_units(struct conv *c, Dwarf *dw)
{
	struct ck_error *err = NULL;
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie;
	uint8_t unit_type;
	Dwarf_Half version;
	while (!err && dwarf_get_units(dw, cu, &cu, &version, &unit_type, &cudie, NULL) == 0) {
		if (unit_type != DW_UT_compile && unit_type != DW_UT_partial)
			continue;
		err = convert_cu(c, &cudie);
		c->st->cus++;
		if (!err && c->since_dedup > c->dedup_every)
			err = dedup(c);
	}
	return err;
}

/* dws[0..n) into one BTF, split over base when base is not NULL (module
 * debug files over the vmlinux's types: btf__dedup then maps every type
 * the base has to the base's). */
static struct ck_error *btf_from_dwarfs(Dwarf *const *dws, size_t n, Elf *elf, struct btf *base,
					struct btf **ret, struct ck_dwarf_btf_stats *st)
{
	struct conv c = { .st = st, .dedup_every = DEDUP_EVERY };
	memset(st, 0, sizeof(*st));
	libbpf_set_print(quiet_print);
	c.btf = base ? btf__new_empty_split(base) : btf__new_empty();
	if (!c.btf)
		return &ck_error_nomem;
	ck_die_ids_init(&c.ids);
	ck_dies_init(&c.types);
	ck_dies_init(&c.funcs);
	ck_dies_init(&c.vars);
	ck_percpu_vars_init(&c.percpu);
	ck_percpu_vars_init(&c.externs);
	percpu_section(&c, elf);
	struct ck_error *err = NULL;
	for (size_t i = 0; !err && i < n; i++)
		err = convert_units(&c, dws[i]);
	if (!err && !st->cus)
		err = ck_error_create(CK_ERR_NOT_FOUND, "no DWARF compile units");
	if (!err)
		err = dedup(&c);
	if (!err)
		err = add_percpu_datasec(&c);
	conv_deinit(&c);
	if (err) {
		btf__free(c.btf);
		return err;
	}
	st->types = (uint32_t)btf__type_cnt(c.btf) - 1;
	*ret = c.btf;
	return NULL;
}

struct ck_error *ck_btf_from_dwarf(Dwarf *dw, Elf *elf, struct btf **ret,
				   struct ck_dwarf_btf_stats *st)
{
	return btf_from_dwarfs(&dw, 1, elf, NULL, ret, st);
}

struct ck_error *ck_types_from_dwarf_split(Dwarf *const *dws, size_t n,
					   const struct ck_types *base, struct ck_types **ret)
{
	struct ck_dwarf_btf_stats st;
	struct btf *btf;
	struct ck_error *err = btf_from_dwarfs(dws, n, NULL, (struct btf *)ck_types_btf(base),
					       &btf, &st);
	if (err)
		return err;
	err = ck_types_from_btf(btf, ret);
	if (!err)
		ck_types_set_from_dwarf(*ret, true);
	return err;
}

/* ---- the cache: $XDG_CACHE_HOME/crashkit/btf/<build-id>-v1.btf ---- */

/* Bump when the converter's output changes: older files are then ignored. */
#define CACHE_VERSION "v3"

static char *cache_path(const char *build_id)
{
	if (!build_id || !*build_id || strspn(build_id, "0123456789abcdef") != strlen(build_id))
		return NULL;
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	if (xdg && *xdg == '/')
		return ck_strdup_printf("%s/crashkit/btf/%s-%s.btf", xdg, build_id, CACHE_VERSION);
	if (home && *home == '/')
		return ck_strdup_printf("%s/.cache/crashkit/btf/%s-%s.btf", home, build_id,
					CACHE_VERSION);
	return NULL;
}

static struct ck_error *cache_read(const char *path, struct ck_types **ret)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ck_error_create_errno(errno, "'%s'", path);
	struct stat sb;
	struct ck_error *err = NULL;
	void *buf = NULL;
	size_t got = 0;
	if (fstat(fd, &sb) < 0 || sb.st_size <= 0 || sb.st_size > (256 << 20))
		err = ck_error_create(CK_ERR_FORMAT, "'%s': not a cached BTF", path);
	else if (!(buf = malloc((size_t)sb.st_size)))
		err = &ck_error_nomem;
	else
		err = ck_read_all(fd, buf, (size_t)sb.st_size, &got, path);
	close(fd);
	if (!err && got != (size_t)sb.st_size)
		err = ck_error_create(CK_ERR_TRUNCATED, "'%s': short read", path);
	if (!err)
		err = ck_types_from_bytes(buf, got, ret);
	free(buf);
	return err;
}

/* mkdir -p of path's directory. */
static void make_parents(const char *path)
{
	char *dir = strdup(path);
	if (!dir)
		return;
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		(void)mkdir(dir, 0755);
		*p = '/';
	}
	free(dir);
}

/* Best effort: a cache that cannot be written only costs time. */
static bool cache_write(const char *path, const struct btf *btf)
{
	uint32_t size;
	const void *raw = btf__raw_data(btf, &size);
	if (!raw)
		return false;
	make_parents(path);
	struct ck_outfile of = CK_OUTFILE_INIT;
	struct ck_error *err = ck_outfile_open(path, true, &of);
	if (!err)
		err = ck_write_all(of.fd, raw, size, of.tmp_path);
	if (!err)
		err = ck_outfile_commit(&of);
	ck_outfile_abandon(&of, false);
	bool ok = !err;
	ck_error_destroy(err);
	return ok;
}

struct ck_error *ck_types_from_dwarf(Dwarf *dw, Elf *elf, const char *build_id,
				     struct ck_types **ret, struct ck_dwarf_btf_stats *st)
{
	char *path = cache_path(build_id);
	if (path) {
		struct ck_error *err = cache_read(path, ret);
		if (!err) {
			memset(st, 0, sizeof(*st));
			st->cached = true;
			free(path);
			return NULL;
		}
		ck_error_destroy(err);	/* absent or bad: made again */
	}
	struct btf *btf;
	struct ck_error *err = ck_btf_from_dwarf(dw, elf, &btf, st);
	if (!err && path)
		st->cache_written = cache_write(path, btf);
	free(path);
	if (err)
		return err;
	return ck_types_from_btf(btf, ret);
}
