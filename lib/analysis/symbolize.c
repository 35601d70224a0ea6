/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Addresses as symbols and symbols as addresses: the kernel's kallsyms
 * (from VMCOREINFO, lib/kernel/kallsyms.c) for vmlinux, the modules' own
 * symbol tables (modules.c) for addresses in a module's memory.  Names
 * come out as crash shows them (ck_symbol_display_name).
 */
#include <inttypes.h>
#include <string.h>

#include "analysis/analysis.h"
#include "base/base.h"

static int sym_le_cmp(const void *key, const void *elem, void *arg)
{
	uint64_t addr = *(const uint64_t *)key;
	const struct ck_module_symbol *s = elem;
	return addr < s->address ? -1 : addr > s->address;
}

/* The module symbol at or below addr in mod.  Of several at one address
 * the first of the module's table (its own order). */
static struct ck_error *module_symbolize(struct ck_analysis *a, const struct ck_module *mod,
					 uint64_t addr, struct ck_symbolized *ret)
{
	const struct ck_module_symbol *syms;
	size_t nr;
	struct ck_error *err = ck_module_symbols(a, mod, &syms, &nr);
	if (err)
		return err;
	size_t i = ck_bsearch_le(&addr, syms, nr, sizeof(*syms), sym_le_cmp, NULL);
	if (i == nr)
		return ck_error_create(CK_ERR_NOT_FOUND,
				       "0x%" PRIx64 " is in module %s below its first symbol", addr,
				       mod->name);
	while (i > 0 && syms[i - 1].address == syms[i].address)
		i--;
	*ret = (struct ck_symbolized){
		.name = syms[i].name, .address = syms[i].address, .offset = addr - syms[i].address,
		.size = syms[i].size, .module = mod->name, .type = syms[i].type,
	};
	return NULL;
}

struct ck_error *ck_symbolize(struct ck_analysis *a, uint64_t addr, struct ck_symbolized *ret)
{
	/* modules need the types; without them vmlinux still answers */
	const struct ck_module *mod = a->types ? ck_module_by_address(a, addr) : NULL;
	if (mod)
		return module_symbolize(a, mod, addr, ret);
	struct ck_symbol s;
	struct ck_error *err = ck_kernel_symbol_by_address_last(a->kernel, addr, &s);
	if (err)
		return err;
	*ret = (struct ck_symbolized){
		.name = ck_symbol_display_name(a, s.name), .address = s.address,
		.offset = addr - s.address, .size = s.size, .module = NULL, .type = s.type,
	};
	return NULL;
}

static bool module_find(struct ck_analysis *a, const struct ck_module *mod, const char *name,
			struct ck_symbolized *ret)
{
	const struct ck_module_symbol *syms;
	size_t nr;
	struct ck_error *err = ck_module_symbols(a, mod, &syms, &nr);
	if (err) {
		ck_error_destroy(err);
		return false;
	}
	for (size_t i = 0; i < nr; i++) {
		if (strcmp(syms[i].name, name))
			continue;
		*ret = (struct ck_symbolized){
			.name = syms[i].name, .address = syms[i].address, .size = syms[i].size,
			.module = mod->name, .type = syms[i].type,
		};
		return true;
	}
	return false;
}

struct ck_error *ck_symbol_find(struct ck_analysis *a, const char *name,
				struct ck_symbolized *ret)
{
	const char *colon = strchr(name, ':');
	if (colon && a->types) {
		char modname[64];
		size_t len = (size_t)(colon - name);
		if (len < sizeof(modname)) {
			memcpy(modname, name, len);
			modname[len] = '\0';
			const struct ck_module *mod = ck_module_by_name(a, modname);
			if (mod && module_find(a, mod, colon + 1, ret))
				return NULL;
			if (mod)
				return ck_error_create(CK_ERR_NOT_FOUND, "no symbol '%s' in module %s",
						       colon + 1, modname);
		}
	}
	struct ck_symbol s;
	struct ck_error *err = ck_kernel_symbol_by_name(a->kernel, name, &s);
	if (!err) {
		*ret = (struct ck_symbolized){
			.name = ck_symbol_display_name(a, s.name), .address = s.address,
			.size = s.size, .module = NULL, .type = s.type,
		};
		return NULL;
	}
	ck_error_destroy(err);
	const struct ck_module *mods;
	size_t nr = 0;
	if (a->types) {
		err = ck_modules_get(a, &mods, &nr);
		if (err) {
			ck_error_destroy(err);
			nr = 0;
		}
	}
	for (size_t i = 0; i < nr; i++)
		if (module_find(a, &mods[i], name, ret))
			return NULL;
	return ck_error_create(CK_ERR_NOT_FOUND, "symbol not found: %s", name);
}

struct ck_error *ck_symbol_lookup(struct ck_analysis *a, const char *name, uint64_t *ret)
{
	struct ck_symbolized s;
	struct ck_error *err = ck_symbol_find(a, name, &s);
	if (err)
		return err;
	*ret = s.address;
	return NULL;
}
