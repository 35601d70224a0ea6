/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sym [-m MODULE] [-M] [-p|-n] [SYMBOL|VADDR]...: symbols as crash shows
 * them:
 *   ffffffff81890910 (t) sysrq_handle_crash
 *   ffffffff81890914 (t) sysrq_handle_crash+4
 *   ffffffffc02eb340 (t) loop_probe [loop]
 * crash with a DWARF vmlinux adds the source file and line of text
 * symbols; without one there are none (docs/analysis.md).  Module symbols
 * carry the type letter of the module's typetab, where crash shows '?'
 * for all but functions.
 */
#include <ctype.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "base/base.h"

#define MODULE_REGIONS 16

static void show(struct ck_analysis *a, const struct ck_symbolized *s)
{
	if (s->offset)
		fprintf(a->out, "%" PRIx64 " (%c) %s+%" PRIu64, s->address + s->offset, s->type,
			s->name, s->offset);
	else
		fprintf(a->out, "%" PRIx64 " (%c) %s", s->address, s->type, s->name);
	if (s->module)
		fprintf(a->out, " [%s]", s->module);
	/* with a DWARF vmlinux, crash's " FILE: LINE" of text symbols, weak
	 * ones included ("(W) memmove") */
	const char *file;
	int line;
	struct ck_error *err;
	/* module text too, once its debug file is loaded (mod -s) */
	if ((!s->module || ck_moddebug_path(a, s->module)) && strchr("tTwW", s->type) && s->type &&
	    ck_debuginfo_present(a)) {
		if (!(err = ck_debuginfo_line(a, s->address + s->offset, &file, &line)))
			fprintf(a->out, " %s: %d", file, line);
		ck_error_destroy(err);
	}
	fprintf(a->out, "\n");
}

static bool parse_hex(const char *s, uint64_t *ret)
{
	if (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2))
		s += 2;
	if (!*s || strlen(s) > 16)
		return false;
	for (const char *p = s; *p; p++)
		if (!isxdigit((unsigned char)*p))
			return false;
	*ret = strtoull(s, NULL, 16);
	return true;
}

/* The symbol before (dir -1) or after (+1) s, if any. */
static void show_neighbour(struct ck_analysis *a, const struct ck_symbolized *s, int dir)
{
	struct ck_symbolized n;
	uint64_t at;
	if (dir < 0) {
		if (!s->address)
			return;
		at = s->address - 1;
	} else {
		if (!s->size)
			return;
		at = s->address + s->size;
	}
	struct ck_error *err = ck_symbolize(a, at, &n);
	if (err) {
		ck_error_destroy(err);
		return;
	}
	n.offset = 0;
	show(a, &n);
}

static int sym_one(struct ck_analysis *a, const char *arg, int prev, int next)
{
	struct ck_symbolized s;
	uint64_t addr;
	struct ck_error *err = ck_symbol_find(a, arg, &s);
	if (err && parse_hex(arg, &addr)) {
		ck_error_destroy(err);
		err = ck_symbolize(a, addr, &s);
		if (err) {
			fprintf(a->out, "symbol not found: %s\n", arg);
			ck_error_destroy(err);
			return 1;
		}
	} else if (err) {
		fprintf(a->out, "symbol not found: %s\n", arg);
		ck_error_destroy(err);
		return 1;
	}
	if (prev)
		show_neighbour(a, &s, -1);
	show(a, &s);
	if (next)
		show_neighbour(a, &s, 1);
	return 0;
}

static void dump_range(struct ck_analysis *a, const struct ck_module_symbol *syms, size_t nr,
		       uint64_t lo, uint64_t hi)
{
	for (size_t i = 0; i < nr; i++)
		if (syms[i].address >= lo && syms[i].address < hi)
			fprintf(a->out, "%" PRIx64 " (%c) %s\n", syms[i].address, syms[i].type,
				syms[i].name);
}

/* crash's `sym -m`: since 6.4 each region of the module between "MODULE
 * TEXT START" and "MODULE TEXT END" (its last byte), before it the core
 * between "MODULE START" and "MODULE END" (one past its end). */
static int dump_module(struct ck_analysis *a, const struct ck_module *m)
{
	const struct ck_module_symbol *syms;
	size_t nr;
	struct ck_error *err = ck_module_symbols(a, m, &syms, &nr);
	if (err)
		return ck_analysis_fail(a, "sym", err);
	struct ck_module_region r[MODULE_REGIONS];
	bool modern;
	size_t nreg = ck_module_regions(a, m, r, MODULE_REGIONS, &modern);
	FILE *f = a->out;
	if (!modern) {
		fprintf(f, "%" PRIx64 " MODULE START: %s\n", m->base, m->name);
		dump_range(a, syms, nr, m->base, m->base + m->size + 1);
		fprintf(f, "%" PRIx64 " MODULE END: %s\n", m->base + m->size, m->name);
		for (size_t i = 0; i < nreg; i++)
			if (r[i].init && r[i].size)
				dump_range(a, syms, nr, r[i].base, r[i].base + r[i].size);
		return 0;
	}
	for (size_t i = 0; i < nreg; i++) {
		if (!r[i].size)
			continue;
		fprintf(f, "%" PRIx64 " MODULE %s START: %s\n", r[i].base, r[i].name, m->name);
		dump_range(a, syms, nr, r[i].base, r[i].base + r[i].size);
		fprintf(f, "%" PRIx64 " MODULE %s END: %s\n", r[i].base + r[i].size - 1, r[i].name,
			m->name);
	}
	return 0;
}

static int dump_modules(struct ck_analysis *a, const char *only)
{
	const struct ck_module *mods;
	size_t nr;
	struct ck_error *err = ck_modules_get(a, &mods, &nr);
	if (err)
		return ck_analysis_fail(a, "sym", err);
	int rc = 0;
	bool found = false;
	for (size_t i = 0; i < nr; i++) {
		if (only && strcmp(only, mods[i].name))
			continue;
		found = true;
		rc |= dump_module(a, &mods[i]);
	}
	if (only && !found) {
		fprintf(a->err, "sym: no module named %s\n", only);
		return 1;
	}
	return rc;
}

static int sym_usage(struct ck_analysis *a)
{
	fprintf(a->err, "Usage:\n  sym [-l] | [-M] | [-m module] | [-p|-n] | [-q string] | "
			"[symbol | vaddr]\nEnter \"help sym\" for details.\n");
	return 1;
}

int ck_acmd_sym(struct ck_analysis *a, int argc, char **argv)
{
	int c, prev = 0, next = 0, others = 0, rc = 0;
	optind = 0;
	opterr = 0;
	while ((c = getopt(argc, argv, "lLQ:q:npsMm:")) != -1) {
		switch (c) {
		case 'n': next = 1; break;
		case 'p': prev = 1; break;
		case 's': break;	/* sections instead of lines: we have neither */
		case 'm': rc |= dump_modules(a, optarg); others++; break;
		case 'M': rc |= dump_modules(a, NULL); others++; break;
		case 'l':
		case 'L':
		case 'q':
		case 'Q':
			fprintf(a->err, "sym: -%c is not supported yet (it needs every kallsyms "
					"symbol in order)\n", c);
			return 1;
		default: return sym_usage(a);
		}
	}
	if (optind >= argc && !others)
		return sym_usage(a);
	for (int i = optind; i < argc; i++)
		rc |= sym_one(a, argv[i], prev, next);
	return rc;
}
