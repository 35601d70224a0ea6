/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Types from the kernel's own BTF, read out of the dump and handed to
 * libbpf (docs/analysis.md, "Types").  libbpf parses and validates; this
 * file adds what libbpf lacks: lookups by C name and by member path,
 * cached, since libbpf's name lookup scans every type.
 */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "base/hash_map.h"

/* BTF larger than this is not a kernel's (6.12's vmlinux BTF is ~6 MiB). */
#define CK_BTF_MAX_SIZE (256u << 20)
/* Nesting of anonymous members and path components searched at most. */
#define CK_PATH_MAX_DEPTH 32

static bool str_eq(char *const *a, char *const *b)
{
	return !strcmp(*a, *b);
}

static size_t str_hash(char *const *s)
{
	return ck_hash_string(*s);
}

struct member_value {
	struct ck_member m;
	bool found;
};

CK_DEFINE_HASH_MAP(ck_type_ids, char *, uint32_t, str_hash, str_eq)
CK_DEFINE_HASH_MAP(ck_member_cache, char *, struct member_value, str_hash, str_eq)

struct ck_types {
	struct btf *btf;
	bool from_dwarf;
	struct ck_type_ids ids;		/* C name -> id (0: absent) */
	struct ck_type_ids vars;	/* VAR name -> its type (built on first use) */
	bool vars_built;
	struct ck_member_cache members;	/* "type\0path" joined by ':' -> member */
};

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static struct ck_error *read_btf_bytes(struct ck_kernel *kernel, void **ret, size_t *len)
{
	struct ck_symbol start, stop;
	struct ck_error *err = ck_kernel_symbol_by_name(kernel, "__start_BTF", &start);
	if (!err)
		err = ck_kernel_symbol_by_name(kernel, "__stop_BTF", &stop);
	if (err) {
		ck_error_destroy(err);
		return ck_error_create(CK_ERR_NOT_FOUND,
				       "no BTF in the kernel (no __start_BTF/__stop_BTF in kallsyms)");
	}
	if (stop.address <= start.address || stop.address - start.address > CK_BTF_MAX_SIZE)
		return ck_error_create(CK_ERR_FORMAT, "BTF bounds 0x%llx-0x%llx are not plausible",
				       (unsigned long long)start.address,
				       (unsigned long long)stop.address);
	size_t size = stop.address - start.address;
	void *buf = malloc(size);
	if (!buf)
		return &ck_error_nomem;
	err = ck_kernel_read(kernel, start.address, buf, size);
	if (err) {
		free(buf);
		return ck_error_prepend(err, "kernel BTF at 0x%llx (%zu bytes)",
					(unsigned long long)start.address, size);
	}
	*ret = buf;
	*len = size;
	return NULL;
}

struct ck_error *ck_types_from_btf(struct btf *btf, struct ck_types **ret)
{
	struct ck_types *t = calloc(1, sizeof(*t));
	if (!t) {
		btf__free(btf);
		return &ck_error_nomem;
	}
	t->btf = btf;
	ck_type_ids_init(&t->ids);
	ck_type_ids_init(&t->vars);
	ck_member_cache_init(&t->members);
	*ret = t;
	return NULL;
}

/* libbpf finds the types at hdr_len + type_off from its own (aligned) copy
 * and reads them as 4-byte words: it checks neither for alignment, so an odd
 * value would have it read misaligned structs.  BTF's records are made of
 * 32-bit words, so a well-formed blob has both at multiples of 4. */
static struct ck_error *check_btf_alignment(const void *data, size_t size)
{
	struct btf_header h;
	if (size < sizeof(h))
		return NULL; /* libbpf names a short header itself */
	memcpy(&h, data, sizeof(h));
	bool swapped = h.magic == __builtin_bswap16(BTF_MAGIC);
	uint32_t hdr_len = swapped ? __builtin_bswap32(h.hdr_len) : h.hdr_len;
	uint32_t type_off = swapped ? __builtin_bswap32(h.type_off) : h.type_off;
	if (hdr_len % 4)
		return ck_error_create(CK_ERR_FORMAT, "kernel BTF at offset 4: header length %" PRIu32
				       " is not a multiple of 4", hdr_len);
	if (type_off % 4)
		return ck_error_create(CK_ERR_FORMAT, "kernel BTF at offset 8: type section offset %" PRIu32
				       " is not a multiple of 4", type_off);
	return NULL;
}

struct ck_error *ck_types_from_bytes(const void *data, size_t size, struct ck_types **ret)
{
	if (size > UINT32_MAX)
		return ck_error_create(CK_ERR_FORMAT, "kernel BTF of %zu bytes: too large", size);
	struct ck_error *err = check_btf_alignment(data, size);
	if (err)
		return err;
	libbpf_set_print(quiet_print);
	struct btf *btf = btf__new(data, (uint32_t)size);
	int e = errno;
	if (!btf)
		return ck_error_create_errno(e, "kernel BTF (%zu bytes) rejected by libbpf", size);
	return ck_types_from_btf(btf, ret);
}

void ck_types_set_from_dwarf(struct ck_types *types, bool yes)
{
	types->from_dwarf = yes;
}

bool ck_types_from_dwarf_p(const struct ck_types *types)
{
	return types->from_dwarf;
}

/* name -> type of every VAR: the first definition of a name, else its
 * extern declaration (DWARF's, for variables defined by the linker). */
static void build_vars(struct ck_types *types)
{
	types->vars_built = true;
	uint32_t n = (uint32_t)btf__type_cnt(types->btf);
	for (uint32_t k = 0; k < 2 * n; k++) {
		uint32_t id = k % n;
		const struct btf_type *t = id ? btf__type_by_id(types->btf, id) : NULL;
		if (!t || !btf_is_var(t) ||
		    (btf_var(t)->linkage == BTF_VAR_GLOBAL_EXTERN) != (k >= n))
			continue;
		const char *name = btf__name_by_offset(types->btf, t->name_off);
		if (!name || !*name)
			continue;
		char *key = (char *)name;
		if (ck_type_ids_search(&types->vars, &key))
			continue;
		struct ck_type_ids_entry ne = { .key = strdup(name), .value = t->type };
		if (!ne.key || ck_type_ids_insert(&types->vars, &ne, NULL) < 0) {
			free(ne.key);
			return;
		}
	}
}

bool ck_types_var(struct ck_types *types, const char *name, uint32_t *type)
{
	if (!types->vars_built)
		build_vars(types);
	char *key = (char *)name;
	struct ck_type_ids_entry *e = ck_type_ids_search(&types->vars, &key);
	if (!e)
		return false;
	*type = e->value;
	return true;
}

struct ck_error *ck_types_from_dump(struct ck_kernel *kernel, struct ck_types **ret)
{
	void *data = NULL;
	size_t size = 0;
	struct ck_error *err = read_btf_bytes(kernel, &data, &size);
	if (err)
		return err;
	err = ck_types_from_bytes(data, size, ret);
	free(data);
	return err;
}

void ck_types_destroy(struct ck_types *types)
{
	if (!types)
		return;
	size_t pos = 0;
	for (struct ck_type_ids_entry *e; (e = ck_type_ids_next(&types->ids, &pos));)
		free(e->key);
	pos = 0;
	for (struct ck_type_ids_entry *e; (e = ck_type_ids_next(&types->vars, &pos));)
		free(e->key);
	ck_type_ids_deinit(&types->vars);
	pos = 0;
	for (struct ck_member_cache_entry *e; (e = ck_member_cache_next(&types->members, &pos));)
		free(e->key);
	ck_type_ids_deinit(&types->ids);
	ck_member_cache_deinit(&types->members);
	btf__free(types->btf);
	free(types);
}

const struct btf *ck_types_btf(const struct ck_types *types)
{
	return types->btf;
}

/* "struct foo" -> (BTF_KIND_STRUCT, "foo"); kind 0: any named kind. */
static const char *split_kind(const char *name, int *kind)
{
	static const struct { const char *prefix; int kind; } prefixes[] = {
		{ "struct ", BTF_KIND_STRUCT }, { "union ", BTF_KIND_UNION },
		{ "enum ", BTF_KIND_ENUM },
	};
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t n = strlen(prefixes[i].prefix);
		if (!strncmp(name, prefixes[i].prefix, n)) {
			*kind = prefixes[i].kind;
			return name + n + strspn(name + n, " ");
		}
	}
	*kind = 0;
	return name;
}

/* C's spellings of base types as BTF (from DWARF) names them: gdb and
 * the globals table say "unsigned long", BTF "long unsigned int". */
static const char *btf_base_name(const char *name)
{
	static const struct { const char *c, *btf; } names[] = {
		{ "unsigned long", "long unsigned int" }, { "long", "long int" },
		{ "unsigned short", "short unsigned int" }, { "short", "short int" },
		{ "long long", "long long int" }, { "unsigned long long", "long long unsigned int" },
		{ "unsigned", "unsigned int" }, { "signed char", "signed char" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i].c))
			return names[i].btf;
	return name;
}

static uint32_t find_uncached(const struct btf *btf, const char *name)
{
	int kind;
	const char *tag = btf_base_name(split_kind(name, &kind));
	static const int any[] = { BTF_KIND_STRUCT, BTF_KIND_UNION, BTF_KIND_TYPEDEF,
				   BTF_KIND_ENUM, BTF_KIND_INT, BTF_KIND_ENUM64,
				   BTF_KIND_FLOAT };
	if (kind) {
		int id = btf__find_by_name_kind(btf, tag, kind);
		if (id < 0 && kind == BTF_KIND_ENUM)
			id = btf__find_by_name_kind(btf, tag, BTF_KIND_ENUM64);
		return id > 0 ? (uint32_t)id : 0;
	}
	for (size_t i = 0; i < sizeof(any) / sizeof(any[0]); i++) {
		int id = btf__find_by_name_kind(btf, tag, any[i]);
		if (id > 0)
			return (uint32_t)id;
	}
	return 0;
}

struct ck_error *ck_type_find(struct ck_types *types, const char *name, uint32_t *ret)
{
	char *key = (char *)name;
	struct ck_type_ids_entry *e = ck_type_ids_search(&types->ids, &key);
	uint32_t id;
	if (e) {
		id = e->value;
	} else {
		id = find_uncached(types->btf, name);
		struct ck_type_ids_entry ne = { .key = strdup(name), .value = id };
		if (!ne.key || ck_type_ids_insert(&types->ids, &ne, NULL) < 0)
			free(ne.key);
	}
	if (!id)
		return ck_error_create(CK_ERR_NOT_FOUND, "no type '%s' in the kernel's %s", name,
				       types->from_dwarf ? "DWARF" : "BTF");
	*ret = id;
	return NULL;
}

uint32_t ck_type_resolve(const struct ck_types *types, uint32_t id)
{
	for (int depth = 0; depth < CK_PATH_MAX_DEPTH; depth++) {
		const struct btf_type *t = btf__type_by_id(types->btf, id);
		if (!t)
			return id;
		switch (btf_kind(t)) {
		case BTF_KIND_TYPEDEF:
		case BTF_KIND_CONST:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
			id = t->type;
			break;
		default:
			return id;
		}
	}
	return id;
}

uint64_t ck_type_size(const struct ck_types *types, uint32_t id)
{
	long long n = btf__resolve_size(types->btf, id);
	return n > 0 ? (uint64_t)n : 0;
}

bool ck_type_is_pointer(const struct ck_types *types, uint32_t id)
{
	const struct btf_type *t = btf__type_by_id(types->btf, ck_type_resolve(types, id));
	return t && btf_is_ptr(t);
}

uint32_t ck_type_target(const struct ck_types *types, uint32_t id)
{
	const struct btf_type *t = btf__type_by_id(types->btf, ck_type_resolve(types, id));
	if (!t)
		return 0;
	if (btf_is_ptr(t))
		return ck_type_resolve(types, t->type);
	if (btf_is_array(t))
		return ck_type_resolve(types, btf_array(t)->type);
	return 0;
}

/* Searches the struct/union sid for a member name, descending into
 * anonymous members; adds its bit offset to *bits. */
static bool find_member(const struct btf *btf, uint32_t sid, const char *name, size_t len,
			int depth, long *budget, uint64_t *bits, uint32_t *bit_size,
			uint32_t *type)
{
	const struct btf_type *t = btf__type_by_id(btf, sid);
	if (!t || !btf_is_composite(t) || depth > CK_PATH_MAX_DEPTH)
		return false;
	const struct btf_member *m = btf_members(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
		/* hostile BTF: anonymous members that contain their own struct
		 * would make the search exponential; a bound on members looked at */
		if (--*budget < 0)
			return false;
		const char *mname = btf__name_by_offset(btf, m->name_off);
		uint64_t off = btf_member_bit_offset(t, i);
		if (mname && *mname) {
			if (strlen(mname) == len && !memcmp(mname, name, len)) {
				*bits += off;
				*bit_size = btf_member_bitfield_size(t, i);
				*type = m->type;
				return true;
			}
			continue;
		}
		uint32_t inner = m->type;
		const struct btf_type *it = btf__type_by_id(btf, inner);
		/* bounded: hostile BTF may hold typedef cycles */
		for (int hops = 0; it && (btf_is_mod(it) || btf_is_typedef(it)); hops++) {
			if (hops == CK_PATH_MAX_DEPTH)
				return false;
			inner = it->type;
			it = btf__type_by_id(btf, inner);
		}
		uint64_t sub = 0;
		if (find_member(btf, inner, name, len, depth + 1, budget, &sub, bit_size, type)) {
			*bits += off + sub;
			return true;
		}
	}
	return false;
}

/* One path step: ".name" or "[N]", from *p; advances *p. */
static struct ck_error *path_step(struct ck_types *types, const char **p, uint32_t *id,
				  uint64_t *bits, uint32_t *bit_size, const char *path)
{
	const char *s = *p;
	uint32_t cur = ck_type_resolve(types, *id);
	if (*s == '[') {
		char *end;
		unsigned long long idx = strtoull(s + 1, &end, 0);
		const struct btf_type *t = btf__type_by_id(types->btf, cur);
		if (end == s + 1 || *end != ']' || !t || !btf_is_array(t))
			return ck_error_create(CK_ERR_INVALID, "'%s': bad subscript", path);
		uint32_t elem = btf_array(t)->type;
		*bits += idx * ck_type_size(types, elem) * 8;
		*id = elem;
		*bit_size = 0;
		*p = end + 1;
		return NULL;
	}
	if (*s == '.')
		s++;
	size_t len = strcspn(s, ".[");
	uint64_t sub = 0;
	uint32_t mtype;
	long budget = 1L << 16;
	if (!len || !find_member(types->btf, cur, s, len, 0, &budget, &sub, bit_size, &mtype))
		return ck_error_create(CK_ERR_NOT_FOUND, "no member '%.*s' in '%s' of the kernel's BTF",
				       (int)len, s, path);
	*bits += sub;
	*id = mtype;
	*p = s + len;
	return NULL;
}

struct ck_error *ck_type_member(struct ck_types *types, uint32_t id, const char *path,
				struct ck_member *ret)
{
	uint64_t bits = 0;
	uint32_t bit_size = 0;
	const char *p = path;
	for (int steps = 0; *p; steps++) {
		if (steps > CK_PATH_MAX_DEPTH)
			return ck_error_create(CK_ERR_INVALID, "member path '%s' is too deep", path);
		struct ck_error *err = path_step(types, &p, &id, &bits, &bit_size, path);
		if (err)
			return err;
	}
	ret->type = id;
	ret->size = ck_type_size(types, id);
	ret->bit_size = bit_size;
	ret->offset = bits / 8;
	ret->bit_offset = bit_size ? bits % 8 : 0;
	if (!bit_size && bits % 8)
		return ck_error_create(CK_ERR_FORMAT, "member '%s' is not byte-aligned", path);
	return NULL;
}

struct ck_error *ck_member_of(struct ck_types *types, const char *type, const char *path,
			      struct ck_member *ret)
{
	char *key = ck_strdup_printf("%s:%s", type, path);
	if (!key)
		return &ck_error_nomem;
	struct ck_member_cache_entry *e =
		ck_member_cache_search(&types->members, &key);
	if (e) {
		free(key);
		if (!e->value.found)
			return ck_error_create(CK_ERR_NOT_FOUND, "no member '%s' in '%s'", path, type);
		*ret = e->value.m;
		return NULL;
	}
	uint32_t id;
	struct ck_member m;
	struct ck_error *err = ck_type_find(types, type, &id);
	if (!err)
		err = ck_type_member(types, id, path, &m);
	if (err && ck_error_code(err) == CK_ERR_NOMEM) {
		free(key);
		return err;
	}
	struct ck_member_cache_entry ne = { .key = key, .value = { .found = !err } };
	if (!err)
		ne.value.m = m;
	if (ck_member_cache_insert(&types->members, &ne, NULL) < 0)
		free(key);
	if (err)
		return err;
	*ret = m;
	return NULL;
}

struct ck_error *ck_member_of_any(struct ck_types *types, const char *type,
				  const char *const *paths, struct ck_member *ret,
				  const char **which)
{
	struct ck_error *err = NULL;
	for (size_t i = 0; paths[i]; i++) {
		ck_error_destroy(err);
		err = ck_member_of(types, type, paths[i], ret);
		if (!err) {
			if (which)
				*which = paths[i];
			return NULL;
		}
	}
	return err ? err : ck_error_create(CK_ERR_INVALID, "no member paths given");
}
