/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The loaded modules: the `modules` list of struct module, each module's
 * memory and its own symbol table (module->kallsyms), read on first use
 * and kept for the session (docs/analysis.md, "sys, log, modules and
 * symbols").
 *
 * The memory layout moved in Linux 6.4 ("module: introduce
 * module_memory"): before it a module had core_layout and init_layout
 * (struct module_layout: base, size, text_size, ...), since then an array
 * mem[MOD_MEM_NUM_TYPES] of struct module_memory (base, size) indexed by
 * enum mod_mem_type.  Which one a kernel has is read from BTF (is there a
 * member "mem"?), the indices from the enum's own values.
 *
 * Every count and pointer comes from the dump: the list walk is bounded
 * and checked for cycles, num_symtab is capped, names are bounded by the
 * memory region that holds the string table.
 */
#include <bpf/btf.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "base/base.h"

/* More modules than this is a broken list, not a kernel. */
#define MODULES_MAX (1u << 16)
/* Symbols of one module at most (a big driver has ~20 000). */
#define MODULE_SYMS_MAX (1u << 20)
/* The longest symbol name the kernel keeps (KSYM_NAME_LEN since 6.1). */
#define KSYM_NAME_MAX 512
/* Memory regions of one module at most (MOD_MEM_NUM_TYPES is 7). */
#define MODULE_REGIONS_MAX 16
/* A string table larger than this is not a module's. */
#define MODULE_STRTAB_MAX (64u << 20)
/* SHN_UNDEF: an undefined symbol (include/uapi/linux/elf.h) */
#define ELF_SHN_UNDEF 0
/* STB_GLOBAL: ELF64_ST_BIND(st_info) of a global symbol */
#define ELF_STB_GLOBAL 1

struct mod_region {
	uint64_t base, size;
	char name[24];		/* "TEXT", "DATA", ... (enum mod_mem_type) */
	bool init;		/* freed after init (MOD_INIT_*, init_layout) */
};

struct mod_info {
	struct mod_region regions[MODULE_REGIONS_MAX];
	size_t nr_regions;
	bool modern;		/* mem[] (6.4+): per-region START/END in sym -m */
	uint64_t kallsyms;	/* struct mod_kallsyms *, or 0 (older: in module) */
	/* the symbols, read on first use */
	bool syms_read;
	struct ck_error *syms_err;
	struct ck_module_symbol *syms;	/* sorted by address */
	size_t nr_syms;
	char *strings;		/* the names, NUL-separated */
};

struct stripped_name {
	uint64_t key;		/* the kallsyms name's address in memory */
	char *name;
};

static size_t u64_hash(const uint64_t *k)
{
	return ck_hash_u64(*k);
}

static bool u64_eq(const uint64_t *a, const uint64_t *b)
{
	return *a == *b;
}

CK_DEFINE_HASH_MAP(ck_stripped_names, uint64_t, char *, u64_hash, u64_eq)

struct ck_modules {
	struct ck_module *mods;		/* sorted by base, as crash lists them */
	struct mod_info *info;		/* parallel to mods */
	size_t nr;
	char *note;			/* why the list may be incomplete */
	bool loaded;			/* the list has been read (or failed: error) */
	struct ck_error *error;
	struct ck_stripped_names stripped;	/* names cut as crash shows them */
};

/* The session's object, empty until the list is read: the cut names of
 * vmlinux symbols live in it too, and need no types. */
static struct ck_modules *modules_obj(struct ck_analysis *a)
{
	if (!a->modules && (a->modules = calloc(1, sizeof(*a->modules))))
		ck_stripped_names_init(&a->modules->stripped);
	return a->modules;
}

void ck_modules_destroy(struct ck_modules *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nr; i++) {
		free(m->info[i].syms);
		free(m->info[i].strings);
		ck_error_destroy(m->info[i].syms_err);
	}
	size_t pos = 0;
	for (struct ck_stripped_names_entry *e; (e = ck_stripped_names_next(&m->stripped, &pos));)
		free(e->value);
	ck_stripped_names_deinit(&m->stripped);
	ck_error_destroy(m->error);
	free(m->mods);
	free(m->info);
	free(m->note);
	free(m);
}

/* ---- reading one struct module ----------------------------------------- */

static struct ck_error *read_u64(struct ck_analysis *a, uint64_t addr, const char *type,
				 const char *path, uint64_t *ret)
{
	return ck_read_field(a->kernel, a->types, addr, type, path, ret);
}

/* The value of enumerator name in enum type id, or -1. */
static int64_t enum_value(const struct btf *btf, uint32_t id, const char *name)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	if (!t || !btf_is_enum(t))
		return -1;
	const struct btf_enum *e = btf_enum(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++, e++)
		if (!strcmp(btf__name_by_offset(btf, e->name_off), name))
			return e->val;
	return -1;
}

/* The name of value v in enum type id without its "MOD_" ("TEXT"), or
 * the number. */
static void enum_name_of(const struct btf *btf, uint32_t id, int64_t v, char *buf, size_t size)
{
	snprintf(buf, size, "%" PRId64, v);
	const struct btf_type *t = btf__type_by_id(btf, id);
	if (!t || !btf_is_enum(t))
		return;
	const struct btf_enum *e = btf_enum(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++, e++) {
		const char *nm = btf__name_by_offset(btf, e->name_off);
		if (e->val == v) {
			snprintf(buf, size, "%s", strncmp(nm, "MOD_", 4) ? nm : nm + 4);
			return;
		}
	}
}

/* Since 6.4: mem[MOD_TEXT..] of struct module_memory. */
static struct ck_error *read_mem_regions(struct ck_analysis *a, uint64_t mod,
					 const struct ck_member *mem, struct ck_module *m,
					 struct mod_info *info)
{
	const struct btf *btf = ck_types_btf(a->types);
	uint32_t elem = ck_type_target(a->types, mem->type);
	uint64_t esize = ck_type_size(a->types, elem);
	struct ck_member mb, ms;
	struct ck_error *err = ck_member_of(a->types, "module_memory", "base", &mb);
	if (!err)
		err = ck_member_of(a->types, "module_memory", "size", &ms);
	if (err)
		return err;
	if (!esize || mem->size / esize > MODULE_REGIONS_MAX)
		return ck_error_create(CK_ERR_FORMAT, "struct module's mem[] is not plausible");
	uint32_t kind;
	if ((err = ck_type_find(a->types, "enum mod_mem_type", &kind)))
		return err;
	int64_t text = enum_value(btf, kind, "MOD_TEXT");
	int64_t init_text = enum_value(btf, kind, "MOD_INIT_TEXT");
	if (text < 0 || init_text < 0)
		return ck_error_create(CK_ERR_NOT_FOUND, "no MOD_TEXT/MOD_INIT_TEXT in BTF");
	size_t n = mem->size / esize;
	for (size_t t = 0; t < n; t++) {
		uint64_t at = mod + mem->offset + t * esize, base, size;
		if ((err = ck_read_member(a->kernel, a->types, at, &mb, &base)) ||
		    (err = ck_read_member(a->kernel, a->types, at, &ms, &size)))
			return err;
		struct mod_region *r = &info->regions[info->nr_regions++];
		*r = (struct mod_region){ .base = base, .size = size, .init = (int64_t)t >= init_text };
		enum_name_of(btf, kind, (int64_t)t, r->name, sizeof(r->name));
		/* crash's SIZE: the core regions, init not included */
		if ((int64_t)t < init_text)
			m->size += size;
		if ((int64_t)t == text) {
			m->base = m->text_start = base;
			m->text_end = base + size;
		}
	}
	info->modern = true;
	return NULL;
}

/* Before 6.4: core_layout and init_layout (before 4.5: module_core,
 * core_size, core_text_size, module_init, init_size). */
static struct ck_error *read_layouts(struct ck_analysis *a, uint64_t mod, struct ck_module *m,
				     struct mod_info *info)
{
	static const char *const core_base[] = { "core_layout.base", "module_core", NULL };
	static const char *const core_size[] = { "core_layout.size", "core_size", NULL };
	static const char *const core_text[] = { "core_layout.text_size", "core_text_size", NULL };
	static const char *const init_base[] = { "init_layout.base", "module_init", NULL };
	static const char *const init_size[] = { "init_layout.size", "init_size", NULL };
	const char *const *paths[] = { core_base, core_size, core_text, init_base, init_size };
	uint64_t v[5] = { 0 };
	for (size_t i = 0; i < 5; i++) {
		struct ck_member mb;
		struct ck_error *err = ck_member_of_any(a->types, "module", paths[i], &mb, NULL);
		if (!err)
			err = ck_read_member(a->kernel, a->types, mod, &mb, &v[i]);
		if (err && i < 2)
			return err;
		ck_error_destroy(err);
	}
	m->base = m->text_start = v[0];
	m->size = v[1];
	m->text_end = v[0] + (v[2] && v[2] <= v[1] ? v[2] : v[1]);
	info->regions[0] = (struct mod_region){ .base = v[0], .size = v[1], .name = "CORE" };
	info->regions[1] = (struct mod_region){ .base = v[3], .size = v[4], .name = "INIT",
						.init = true };
	info->nr_regions = 2;
	return NULL;
}

static struct ck_error *read_module(struct ck_analysis *a, uint64_t mod, struct ck_module *m,
				    struct mod_info *info)
{
	*m = (struct ck_module){ .addr = mod };
	struct ck_member name;
	struct ck_error *err = ck_member_of(a->types, "module", "name", &name);
	if (err)
		return err;
	size_t len = (size_t)CK_MIN(name.size, sizeof(m->name) - 1);
	err = ck_kernel_read(a->kernel, mod + name.offset, m->name, len);
	if (err)
		return err;
	m->name[len] = '\0';
	struct ck_member mem;
	err = ck_member_of(a->types, "module", "mem", &mem);
	if (!err) {
		err = read_mem_regions(a, mod, &mem, m, info);
	} else {
		ck_error_destroy(err);
		err = read_layouts(a, mod, m, info);
	}
	if (err)
		return err;
	uint64_t ks = 0;
	struct ck_error *e = read_u64(a, mod, "module", "kallsyms", &ks);
	ck_error_destroy(e);
	info->kallsyms = e ? 0 : ks;
	return NULL;
}

/* ---- the list ---------------------------------------------------------- */

struct mod_pair {
	struct ck_module mod;
	struct mod_info info;
};

static int mod_base_cmp(const void *x, const void *y)
{
	const struct mod_pair *a = x, *b = y;
	if (a->mod.base != b->mod.base)
		return a->mod.base < b->mod.base ? -1 : 1;
	return a->mod.addr < b->mod.addr ? -1 : a->mod.addr > b->mod.addr;
}

CK_DEFINE_VECTOR(mod_addrs, uint64_t)

/* The struct module addresses on the list, in list order.  Floyd's tortoise
 * follows the walk one step per two: meeting it means a cycle. */
static struct ck_error *walk_list(struct ck_analysis *a, struct mod_addrs *out, char **note)
{
	uint64_t head;
	uint32_t type;
	struct ck_member list;
	struct ck_error *err = ck_global(a->kernel, a->types, "modules", &head, &type);
	if (!err)
		err = ck_member_of(a->types, "module", "list", &list);
	if (err)
		return err;
	uint64_t p, slow = head;
	if ((err = ck_kernel_read_u64(a->kernel, head, &p)))
		return ck_error_prepend(err, "the modules list");
	for (size_t n = 0; p != head; n++) {
		if (n >= MODULES_MAX || p == slow) {
			*note = ck_strdup_printf("the modules list does not come back to its head "
						 "(a cycle, or over %u entries): %zu read", MODULES_MAX, n);
			break;
		}
		if (!mod_addrs_append(out, &(uint64_t){ p - list.offset }))
			return &ck_error_nomem;
		if (n % 2 && (err = ck_kernel_read_u64(a->kernel, slow, &slow)))
			return err;
		if ((err = ck_kernel_read_u64(a->kernel, p, &p))) {
			*note = ck_strdup_printf("the modules list breaks after %zu modules: %s", n + 1,
						 ck_error_message(err));
			ck_error_destroy(err);
			break;
		}
	}
	return NULL;
}

static struct ck_error *modules_read(struct ck_analysis *a, struct ck_modules *m)
{
	struct mod_addrs addrs;
	mod_addrs_init(&addrs);
	struct ck_error *err = walk_list(a, &addrs, &m->note);
	if (!err && addrs.size) {
		m->mods = ck_calloc_array(addrs.size, sizeof(*m->mods));
		m->info = ck_calloc_array(addrs.size, sizeof(*m->info));
		if (!m->mods || !m->info)
			err = &ck_error_nomem;
	}
	for (size_t i = 0; !err && i < addrs.size; i++) {
		struct mod_info info = { 0 };
		struct ck_error *e = read_module(a, addrs.data[i], &m->mods[m->nr], &info);
		if (e) {
			/* one unreadable module: the others are still worth showing */
			if (!m->note)
				m->note = ck_strdup_printf("module at 0x%" PRIx64 ": %s", addrs.data[i],
							   ck_error_message(e));
			ck_error_destroy(e);
			continue;
		}
		m->info[m->nr++] = info;
	}
	mod_addrs_deinit(&addrs);
	if (err)
		return err;
	/* crash lists them by base address; info moves along */
	struct mod_pair *pairs = ck_calloc_array(m->nr ? m->nr : 1, sizeof(*pairs));
	if (!pairs)
		return &ck_error_nomem;
	for (size_t i = 0; i < m->nr; i++)
		pairs[i] = (struct mod_pair){ .mod = m->mods[i], .info = m->info[i] };
	qsort(pairs, m->nr, sizeof(*pairs), mod_base_cmp);
	for (size_t i = 0; i < m->nr; i++) {
		m->mods[i] = pairs[i].mod;
		m->info[i] = pairs[i].info;
	}
	free(pairs);
	return NULL;
}

struct ck_error *ck_modules_get(struct ck_analysis *a, const struct ck_module **ret, size_t *nr)
{
	struct ck_modules *m = modules_obj(a);
	if (!m)
		return &ck_error_nomem;
	if (!m->loaded) {
		struct ck_types *types;
		struct ck_error *err = ck_analysis_types(a, &types);
		if (!err)
			err = modules_read(a, m);
		m->loaded = true;
		if (err == &ck_error_nomem)
			m->loaded = false;
		else if (err)
			m->error = ck_error_prepend(err, "modules");
		if (err == &ck_error_nomem)
			return err;
	}
	if (m->error)
		return ck_error_create(ck_error_code(m->error), "%s", ck_error_message(m->error));
	*ret = m->mods;
	*nr = m->nr;
	return NULL;
}

const char *ck_modules_note(struct ck_analysis *a)
{
	return a->modules ? a->modules->note : NULL;
}

const struct ck_module *ck_module_by_name(struct ck_analysis *a, const char *name)
{
	const struct ck_module *mods;
	size_t nr;
	struct ck_error *err = ck_modules_get(a, &mods, &nr);
	if (err) {
		ck_error_destroy(err);
		return NULL;
	}
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(mods[i].name, name))
			return &mods[i];
	return NULL;
}

static size_t module_index(struct ck_analysis *a, const struct ck_module *mod)
{
	return (size_t)(mod - a->modules->mods);
}

static bool in_regions(const struct mod_info *info, uint64_t addr)
{
	for (size_t r = 0; r < info->nr_regions; r++)
		if (info->regions[r].size && addr >= info->regions[r].base &&
		    addr - info->regions[r].base < info->regions[r].size)
			return true;
	return false;
}

const struct ck_module *ck_module_by_address(struct ck_analysis *a, uint64_t addr)
{
	const struct ck_module *mods;
	size_t nr;
	struct ck_error *err = ck_modules_get(a, &mods, &nr);
	if (err) {
		ck_error_destroy(err);
		return NULL;
	}
	for (size_t i = 0; i < nr; i++)
		if (in_regions(&a->modules->info[i], addr))
			return &mods[i];
	return NULL;
}

size_t ck_module_regions(struct ck_analysis *a, const struct ck_module *mod,
			 struct ck_module_region *ret, size_t max, bool *modern)
{
	const struct mod_info *info = &a->modules->info[module_index(a, mod)];
	size_t n = 0;
	for (size_t r = 0; r < info->nr_regions && n < max; r++)
		ret[n++] = (struct ck_module_region){
			.base = info->regions[r].base, .size = info->regions[r].size,
			.name = info->regions[r].name, .init = info->regions[r].init,
		};
	*modern = info->modern;
	return n;
}

/* ---- module symbols ---------------------------------------------------- */

/* What crash shows of a name: the first of ".isra.", ".part.", ".llvm."
 * (in that order) and what follows are cut, as gcc's and clang's clone
 * suffixes say nothing to a reader. */
size_t ck_symbol_display_len(const char *name)
{
	static const char *const cut[] = { ".isra.", ".part.", ".llvm." };
	for (size_t i = 0; i < CK_ARRAY_SIZE(cut); i++) {
		const char *p = strstr(name, cut[i]);
		if (p)
			return (size_t)(p - name);
	}
	return strlen(name);
}

const char *ck_symbol_display_name(struct ck_analysis *a, const char *name)
{
	size_t len = ck_symbol_display_len(name);
	if (!name[len] || !modules_obj(a))
		return name;
	uint64_t key = (uint64_t)(uintptr_t)name;
	struct ck_stripped_names_entry *e = ck_stripped_names_search(&a->modules->stripped, &key);
	if (e)
		return e->value;
	char *copy = strndup(name, len);
	if (!copy)
		return name;
	struct ck_stripped_names_entry ne = { .key = key, .value = copy };
	if (ck_stripped_names_insert(&a->modules->stripped, &ne, NULL) != 1) {
		free(copy);
		return name;
	}
	return copy;
}

struct elf_sym_layout {
	uint64_t size;		/* sizeof(Elf64_Sym) */
	struct ck_member name, info, shndx, value, st_size;
};

/* Elf64_Sym from BTF (struct elf64_sym); its layout is the ELF ABI's. */
static struct ck_error *elf_sym_layout(struct ck_analysis *a, struct elf_sym_layout *l)
{
	uint32_t id;
	struct ck_error *err = ck_type_find(a->types, "struct elf64_sym", &id);
	if (err)
		return err;
	l->size = ck_type_size(a->types, id);
	if ((err = ck_type_member(a->types, id, "st_name", &l->name)) ||
	    (err = ck_type_member(a->types, id, "st_info", &l->info)) ||
	    (err = ck_type_member(a->types, id, "st_shndx", &l->shndx)) ||
	    (err = ck_type_member(a->types, id, "st_value", &l->value)) ||
	    (err = ck_type_member(a->types, id, "st_size", &l->st_size)))
		return err;
	if (l->size < 16 || l->size > 64)
		return ck_error_create(CK_ERR_FORMAT, "Elf64_Sym of %" PRIu64 " bytes", l->size);
	return NULL;
}

static uint64_t get_le(const uint8_t *p, const struct ck_member *m)
{
	uint64_t v = 0;
	for (uint64_t i = 0; i < m->size && i < 8; i++)
		v |= (uint64_t)p[m->offset + i] << (8 * i);
	return v;
}

/* Where a module's symbol table is: module->kallsyms (struct
 * mod_kallsyms, since 4.5) or module itself (older). */
struct symtab_ref {
	uint64_t symtab, num, strtab, typetab;
};

static struct ck_error *symtab_ref(struct ck_analysis *a, const struct ck_module *mod,
				   const struct mod_info *info, struct symtab_ref *r)
{
	uint64_t at = info->kallsyms ? info->kallsyms : mod->addr;
	const char *type = info->kallsyms ? "mod_kallsyms" : "module";
	struct ck_error *err;
	if ((err = read_u64(a, at, type, "symtab", &r->symtab)) ||
	    (err = read_u64(a, at, type, "num_symtab", &r->num)) ||
	    (err = read_u64(a, at, type, "strtab", &r->strtab)))
		return err;
	r->typetab = 0;
	if (info->kallsyms && (err = read_u64(a, at, type, "typetab", &r->typetab)))
		ck_error_destroy(err);
	if (r->num > MODULE_SYMS_MAX)
		return ck_error_create(CK_ERR_FORMAT, "num_symtab %" PRIu64 " is not plausible",
				       r->num);
	return NULL;
}

/* The bytes of the string table up to the end of the region holding it,
 * at most what the largest st_name needs. */
static struct ck_error *read_strtab(struct ck_analysis *a, const struct mod_info *info,
				    uint64_t strtab, uint64_t max_name, char **ret, uint64_t *len)
{
	uint64_t end = 0;
	for (size_t r = 0; r < info->nr_regions; r++) {
		const struct mod_region *g = &info->regions[r];
		if (g->size && strtab >= g->base && strtab - g->base < g->size)
			end = g->base + g->size;
	}
	if (!end)
		return ck_error_create(CK_ERR_FORMAT, "strtab 0x%" PRIx64 " is outside the module",
				       strtab);
	uint64_t want = CK_MIN(end - strtab, max_name + KSYM_NAME_MAX);
	if (want > MODULE_STRTAB_MAX)
		want = MODULE_STRTAB_MAX;
	char *buf = malloc(want + 1);
	if (!buf)
		return &ck_error_nomem;
	struct ck_error *err = ck_kernel_read(a->kernel, strtab, buf, want);
	if (err) {
		free(buf);
		return err;
	}
	buf[want] = '\0';
	*ret = buf;
	*len = want;
	return NULL;
}

static int sym_addr_cmp(const void *x, const void *y)
{
	const struct ck_module_symbol *a = x, *b = y;
	if (a->address != b->address)
		return a->address < b->address ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

/* crash's letter for a symbol without typetab: st_info holds the letter
 * in kernels before 4.5, else local/global functions are t/T. */
static char type_from_info(uint8_t st_info)
{
	if (st_info >= ' ' && st_info < 0x7f)
		return (char)st_info;
	return st_info == 0x02 ? 't' : st_info == 0x12 ? 'T' : '?';
}

/* typetab holds the section's letter in lower case (the kernel's
 * elf_type()); like nm and crash, a global symbol's is upper case. */
static char typetab_letter(char t, uint8_t st_info)
{
	if (t >= 'a' && t <= 'z' && st_info >> 4 == ELF_STB_GLOBAL)
		return (char)(t - 'a' + 'A');
	return t;
}

static struct ck_error *read_symbols(struct ck_analysis *a, const struct ck_module *mod,
				     struct mod_info *info)
{
	struct elf_sym_layout l;
	struct symtab_ref r;
	struct ck_error *err = elf_sym_layout(a, &l);
	if (!err)
		err = symtab_ref(a, mod, info, &r);
	if (err)
		return err;
	uint8_t *tab = NULL, *types = NULL;
	char *str = NULL, *names = NULL;
	uint64_t str_len = 0;
	struct ck_module_symbol *syms = NULL;
	if (!r.num)
		goto done;
	tab = ck_calloc_array(r.num, l.size);
	types = calloc(1, r.num);
	syms = ck_calloc_array(r.num, sizeof(*syms));
	if (!tab || !types || !syms) {
		err = &ck_error_nomem;
		goto out;
	}
	if ((err = ck_kernel_read(a->kernel, r.symtab, tab, r.num * l.size)))
		goto out;
	if (r.typetab && (err = ck_kernel_read(a->kernel, r.typetab, types, r.num))) {
		ck_error_destroy(err);
		err = NULL;
		r.typetab = 0;
	}
	uint64_t max_name = 0;
	for (uint64_t i = 1; i < r.num; i++)
		max_name = CK_MAX(max_name, get_le(tab + i * l.size, &l.name));
	if ((err = read_strtab(a, info, r.strtab, max_name, &str, &str_len)))
		goto out;
	size_t n = 0;
	for (uint64_t i = 1; i < r.num; i++) {	/* ELF's symbol 0 is the null symbol */
		const uint8_t *s = tab + i * l.size;
		uint64_t value = get_le(s, &l.value), name = get_le(s, &l.name);
		if (get_le(s, &l.shndx) == ELF_SHN_UNDEF || name >= str_len || !str[name] ||
		    !in_regions(info, value))
			continue;
		uint8_t st_info = (uint8_t)get_le(s, &l.info);
		char t = r.typetab ? typetab_letter((char)types[i], st_info) : type_from_info(st_info);
		syms[n++] = (struct ck_module_symbol){
			.address = value, .size = get_le(s, &l.st_size), .type = t,
			.name = str + name, .index = (uint32_t)i,
		};
	}
	/* the names, cut as crash shows them, into one block */
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += strnlen(syms[i].name, KSYM_NAME_MAX) + 1;
	if (!(names = malloc(total ? total : 1))) {
		err = &ck_error_nomem;
		goto out;
	}
	char *p = names;
	for (size_t i = 0; i < n; i++) {
		size_t len = CK_MIN(ck_symbol_display_len(syms[i].name),
				    strnlen(syms[i].name, KSYM_NAME_MAX));
		memcpy(p, syms[i].name, len);
		p[len] = '\0';
		syms[i].name = p;
		p += len + 1;
	}
	qsort(syms, n, sizeof(*syms), sym_addr_cmp);
	info->nr_syms = n;
done:
	info->syms = syms;
	info->strings = names;
	syms = NULL;
	names = NULL;
out:
	free(tab);
	free(types);
	free(str);
	free(syms);
	free(names);
	return err;
}

struct ck_error *ck_module_symbols(struct ck_analysis *a, const struct ck_module *mod,
				   const struct ck_module_symbol **ret, size_t *nr)
{
	struct mod_info *info = &a->modules->info[module_index(a, mod)];
	if (!info->syms_read) {
		info->syms_read = true;
		info->syms_err = read_symbols(a, mod, info);
		if (info->syms_err)
			info->syms_err = ck_error_prepend(info->syms_err, "symbols of module %s",
							  mod->name);
	}
	if (info->syms_err)
		return ck_error_create(ck_error_code(info->syms_err), "%s",
				       ck_error_message(info->syms_err));
	*ret = info->syms;
	*nr = info->nr_syms;
	return NULL;
}
