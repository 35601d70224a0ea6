/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * struct, union, whatis and p: layouts and values from the dump's BTF
 * (typefmt.c prints them as crash, through gdb, does).
 *
 *   struct NAME [-o]                    the layout, -o with member offsets
 *   struct NAME[.m1,m2] ADDR|SYM [COUNT] [-x|-d]   values at an address
 *   whatis SYMBOL | TYPE                a declaration or a layout
 *   p [-x|-d] SYMBOL[:CPU][.member...]  a global's value ($N as gdb counts)
 *
 * BTF has no globals except per-cpu ones: `p` and `whatis` know the globals
 * of lib/analysis/globals.c's table and every per-cpu variable.
 */
#include <bpf/btf.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"

/* Objects printed by one `struct NAME ADDR COUNT` at most. */
#define STRUCT_MAX_COUNT 4096
#define MAX_MEMBERS 32

/* gdb's value history number: crash's `p` answers "$N = ...".  One
 * process holds one session. */
static unsigned int history;

struct struct_args {
	const char *name;	/* NAME, members cut off */
	char *members[MAX_MEMBERS];
	int nr_members;
	const char *addr;
	long count;
	bool offsets;
	int radix;
	char *copy;		/* storage of members */
};

static int parse_struct_args(struct ck_analysis *a, const char *cmd, int argc, char **argv,
			     struct struct_args *s)
{
	memset(s, 0, sizeof(*s));
	s->count = 1;
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];
		if (!strcmp(w, "-o")) {
			s->offsets = true;
		} else if (!strcmp(w, "-x")) {
			s->radix = 16;
		} else if (!strcmp(w, "-d")) {
			s->radix = 10;
		} else if (w[0] == '-' && w[1] && !strchr("0123456789", w[1])) {
			fprintf(a->err, "%s: unsupported option: %s\n", cmd, w);
			return 1;
		} else if (!s->name) {
			s->name = w;
		} else if (!s->addr) {
			s->addr = w;
		} else {
			char *end;
			s->count = strtol(w, &end, 0);
			if (*end || s->count == 0 || labs(s->count) > STRUCT_MAX_COUNT) {
				fprintf(a->err, "%s: invalid count: %s\n", cmd, w);
				return 1;
			}
		}
	}
	if (!s->name) {
		fprintf(a->err, "%s: a structure name is needed\n", cmd);
		return 1;
	}
	const char *dot = strchr(s->name, '.');
	if (dot) {
		s->copy = strdup(dot + 1);
		if (!s->copy)
			return ck_analysis_fail(a, cmd, &ck_error_nomem);
		for (char *p = s->copy, *save = NULL; s->nr_members < MAX_MEMBERS;) {
			char *m = strtok_r(p, ",", &save);
			p = NULL;
			if (!m)
				break;
			s->members[s->nr_members++] = m;
		}
		s->name = strndup(s->name, dot - s->name);
	} else {
		s->name = strdup(s->name);
	}
	return s->name ? 0 : ck_analysis_fail(a, cmd, &ck_error_nomem);
}

static void print_member_layout(struct ck_analysis *a, uint32_t id, const char *m)
{
	struct ck_member mb;
	struct ck_error *err = ck_type_member(a->types, id, m, &mb);
	if (err) {
		fprintf(a->err, "struct: %s\n", ck_error_message(err));
		ck_error_destroy(err);
		return;
	}
	struct ck_strbuf s = CK_STRBUF_INIT;
	ck_typefmt_decl(a->types, mb.type, m, &s);
	fprintf(a->out, "  [%" PRIu64 "] %s", mb.offset, s.buf ? s.buf : "");
	if (mb.bit_size)
		fprintf(a->out, " : %u", mb.bit_size);
	fputs(";\n", a->out);
	ck_strbuf_deinit(&s);
}

static int print_struct_values(struct ck_analysis *a, const char *cmd, const char *kw,
			       uint32_t id, const struct struct_args *s)
{
	uint64_t addr;
	struct ck_error *err = ck_typefmt_address(a, s->addr, &addr);
	if (err)
		return ck_analysis_fail(a, cmd, err);
	uint64_t size = ck_type_size(a->types, id);
	long n = labs(s->count);
	int rc = 0;
	for (long i = 0; i < n; i++) {
		uint64_t at = s->count > 0 ? addr + i * size : addr - (n - 1 - i) * size;
		if (!s->nr_members) {
			uint8_t probe;	/* no header for an object that is not there */
			err = ck_kernel_read(a->kernel, at, &probe, 1);
			if (!err && i)
				fputc('\n', a->out);
			if (!err)
				fprintf(a->out, "%s %s ", kw, s->name);
			if (!err)
				err = ck_typefmt_value(a, id, at, 0, 0, 0, s->radix, false, a->out);
			if (!err)
				fputc('\n', a->out);
		}
		for (int j = 0; !err && j < s->nr_members; j++) {
			struct ck_member m;
			err = ck_type_member(a->types, id, s->members[j], &m);
			if (err)
				break;
			fprintf(a->out, "  %s = ", s->members[j]);
			err = ck_typefmt_value(a, m.type, at + m.offset, m.bit_offset, m.bit_size, 2,
					       s->radix, false, a->out);
			fputs(",\n", a->out);
		}
		if (err) {
			rc = ck_analysis_fail(a, cmd, err);
			err = NULL;
		}
	}
	return rc;
}

/* struct and union: cmd names the keyword. */
static int struct_or_union(struct ck_analysis *a, const char *cmd, int argc, char **argv)
{
	struct ck_types *types;
	struct ck_error *err = ck_analysis_types(a, &types);
	if (err)
		return ck_analysis_fail(a, cmd, err);
	struct struct_args s;
	if (parse_struct_args(a, cmd, argc, argv, &s))
		return 1;
	int rc = 0;
	char *full = ck_strdup_printf("%s %s", cmd, s.name);
	uint32_t id = 0;
	err = full ? ck_type_find(types, full, &id) : &ck_error_nomem;
	free(full);
	if (err) {
		ck_error_destroy(err);
		fprintf(a->err, "%s: invalid data structure reference: %s\n", cmd, s.name);
		rc = 1;
	} else if (s.addr && s.offsets && !s.nr_members) {
		uint64_t addr;
		err = ck_typefmt_address(a, s.addr, &addr);
		if (err)
			rc = ck_analysis_fail(a, cmd, err);
		else
			ck_typefmt_layout_at(types, id, addr, a->out);
	} else if (s.addr) {
		rc = print_struct_values(a, cmd, cmd, id, &s);
	} else if (s.nr_members) {
		fprintf(a->out, "%s %s {\n", cmd, s.name);
		for (int j = 0; j < s.nr_members; j++)
			print_member_layout(a, id, s.members[j]);
		fprintf(a->out, "}\n");
	} else {
		ck_typefmt_layout(types, id, s.offsets, a->out);
	}
	free((char *)s.name);
	free(s.copy);
	return rc;
}

int ck_acmd_struct(struct ck_analysis *a, int argc, char **argv)
{
	return struct_or_union(a, "struct", argc, argv);
}

int ck_acmd_union(struct ck_analysis *a, int argc, char **argv)
{
	return struct_or_union(a, "union", argc, argv);
}

/* ---- globals and per-cpu variables ----------------------------------------- */

static bool is_percpu(const struct btf *btf, const char *name)
{
	int sec = btf__find_by_name_kind(btf, ".data..percpu", BTF_KIND_DATASEC);
	if (sec <= 0)
		return false;
	const struct btf_type *t = btf__type_by_id(btf, (uint32_t)sec);
	const struct btf_var_secinfo *vs = btf_var_secinfos(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++, vs++) {
		const struct btf_type *v = btf__type_by_id(btf, vs->type);
		if (v && btf_is_var(v) && !strcmp(btf__name_by_offset(btf, v->name_off), name))
			return true;
	}
	return false;
}

/* The number of possible CPUs and a CPU's per-cpu offset, from nr_cpu_ids
 * and __per_cpu_offset (percpu.c will own this). */
static struct ck_error *percpu_base(struct ck_analysis *a, int cpu, uint64_t *ret)
{
	struct ck_symbol nr, off;
	struct ck_error *err = ck_kernel_symbol_by_name(a->kernel, "nr_cpu_ids", &nr);
	if (!err)
		err = ck_kernel_symbol_by_name(a->kernel, "__per_cpu_offset", &off);
	uint32_t n = 0;
	if (!err)
		err = ck_kernel_read_u32(a->kernel, nr.address, &n);
	if (err)
		return err;
	if (cpu < 0)
		return (*ret = n, NULL);
	if ((uint32_t)cpu >= n)
		return ck_error_create(CK_ERR_INVALID, "invalid cpu number: %d", cpu);
	return ck_kernel_read_u64(a->kernel, off.address + 8 * (uint64_t)cpu, ret);
}

static int print_percpu_addresses(struct ck_analysis *a, const char *name, uint32_t type,
				  uint64_t addr)
{
	uint64_t nr;
	struct ck_error *err = percpu_base(a, -1, &nr);
	if (err)
		return ck_analysis_fail(a, "p", err);
	struct ck_strbuf s = CK_STRBUF_INIT;
	ck_typefmt_decl(a->types, type, name, &s);
	fprintf(a->out, "PER-CPU DATA TYPE:\n  %s;\nPER-CPU ADDRESSES:\n", s.buf ? s.buf : "");
	ck_strbuf_deinit(&s);
	for (uint64_t cpu = 0; cpu < nr && cpu < 8192; cpu++) {
		uint64_t base;
		err = percpu_base(a, (int)cpu, &base);
		if (err)
			return ck_analysis_fail(a, "p", err);
		fprintf(a->out, "  [%" PRIu64 "]: %" PRIx64 "\n", cpu, addr + base);
	}
	return 0;
}

/* "name", "name:cpu", then a member path (".a.b", "[2]"). */
struct p_expr {
	char name[256];
	int cpu;		/* -1: none given */
	const char *path;	/* "" for the whole variable */
};

static bool parse_p_expr(const char *arg, struct p_expr *e)
{
	size_t n = strcspn(arg, ".[:");
	if (n == 0 || n >= sizeof(e->name))
		return false;
	memcpy(e->name, arg, n);
	e->name[n] = 0;
	e->cpu = -1;
	e->path = arg + n;
	if (*e->path == ':') {
		char *end;
		long cpu = strtol(e->path + 1, &end, 10);
		if (end == e->path + 1 || cpu < 0 || cpu > 65535 || (*end && !strchr(".[", *end)))
			return false;
		e->cpu = (int)cpu;
		e->path = end;
	}
	return true;
}

static int print_expression(struct ck_analysis *a, const char *arg, int radix)
{
	uint64_t v;
	struct ck_error *err = ck_eval_expr(a, arg, &v);
	if (err)
		return ck_analysis_fail(a, "p", err);
	fprintf(a->out, "$%u = ", ++history);
	if (radix == 16)
		fprintf(a->out, "0x%" PRIx64 "\n", v);
	else
		fprintf(a->out, "%" PRId64 "\n", (int64_t)v);
	return 0;
}

static int print_variable(struct ck_analysis *a, const char *arg, int radix)
{
	struct p_expr e;
	struct ck_symbol sym;
	struct ck_error *err = NULL;
	if (!parse_p_expr(arg, &e) ||
	    (err = ck_kernel_symbol_by_name(a->kernel, e.name, &sym)) != NULL) {
		/* not a symbol: a number or an expression */
		ck_error_destroy(err);
		return print_expression(a, arg, radix);
	}
	uint64_t addr;
	uint32_t type;
	err = ck_global_declared(a->kernel, a->types, e.name, &addr, &type);
	if (err)
		return ck_analysis_fail(a, "p", err);
	bool percpu = is_percpu(ck_types_btf(a->types), e.name);
	if (percpu && e.cpu < 0)
		return print_percpu_addresses(a, e.name, type, addr);
	if (percpu) {
		uint64_t base;
		err = percpu_base(a, e.cpu, &base);
		if (err)
			return ck_analysis_fail(a, "p", err);
		addr += base;
	} else if (e.cpu >= 0) {
		fprintf(a->err, "p: %s is not a per-cpu variable\n", e.name);
		return 1;
	}
	struct ck_member m = { .type = type };
	if (*e.path) {
		err = ck_type_member(a->types, type, e.path, &m);
		if (err)
			return ck_analysis_fail(a, "p", err);
	}
	if (!*e.path && percpu)
		fprintf(a->out, "per_cpu(%s, %d) = ", e.name, e.cpu);
	else if (!*e.path)
		fprintf(a->out, "%s = ", e.name);
	fprintf(a->out, "$%u = ", ++history);
	const struct btf_type *t =
		btf__type_by_id(ck_types_btf(a->types), ck_type_resolve(a->types, m.type));
	if (!*e.path && t && btf_is_array(t) && btf_array(t)->nelems)
		fputs("\n ", a->out);	/* crash breaks the line before an array */
	err = ck_typefmt_value(a, m.type, addr + m.offset, m.bit_offset, m.bit_size, 0, radix,
			       true, a->out);
	fputc('\n', a->out);
	return err ? ck_analysis_fail(a, "p", err) : 0;
}

int ck_acmd_p(struct ck_analysis *a, int argc, char **argv)
{
	struct ck_types *types;
	struct ck_error *err = ck_analysis_types(a, &types);
	if (err)
		return ck_analysis_fail(a, "p", err);
	int radix = 0, rc = 0;
	struct ck_strbuf expr = CK_STRBUF_INIT;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-x"))
			radix = 16;
		else if (!strcmp(argv[i], "-d"))
			radix = 10;
		else
			ck_strbuf_addf(&expr, "%s%s", expr.len ? " " : "", argv[i]);
	}
	if (!expr.len)
		rc = (fprintf(a->err, "p: an expression is needed\n"), 1);
	else if (expr.failed)
		rc = ck_analysis_fail(a, "p", &ck_error_nomem);
	else
		rc = print_variable(a, expr.buf, radix);
	ck_strbuf_deinit(&expr);
	return rc;
}

/* ---- whatis -------------------------------------------------------------------- */

static bool whatis_symbol(struct ck_analysis *a, const char *name)
{
	const struct btf *btf = ck_types_btf(a->types);
	uint64_t addr;
	uint32_t type;
	struct ck_error *err = ck_global_declared(a->kernel, a->types, name, &addr, &type);
	if (err) {
		ck_error_destroy(err);
		int fn = btf__find_by_name_kind(btf, name, BTF_KIND_FUNC);
		if (fn <= 0)
			return false;
		type = (uint32_t)fn;
	}
	struct ck_strbuf s = CK_STRBUF_INIT;
	ck_typefmt_decl(a->types, type, name, &s);
	fprintf(a->out, "%s;\n", s.buf ? s.buf : "");
	ck_strbuf_deinit(&s);
	return true;
}

int ck_acmd_whatis(struct ck_analysis *a, int argc, char **argv)
{
	struct ck_types *types;
	struct ck_error *err = ck_analysis_types(a, &types);
	if (err)
		return ck_analysis_fail(a, "whatis", err);
	struct ck_strbuf arg = CK_STRBUF_INIT;
	for (int i = 1; i < argc; i++)
		ck_strbuf_addf(&arg, "%s%s", arg.len ? " " : "", argv[i]);
	if (!arg.len || arg.failed) {
		ck_strbuf_deinit(&arg);
		fprintf(a->err, "whatis: a symbol or type is needed\n");
		return 1;
	}
	int rc = 0;
	uint32_t id;
	if (!strchr(arg.buf, ' ') && whatis_symbol(a, arg.buf)) {
		/* printed */
	} else if ((err = ck_type_find(types, arg.buf, &id)) == NULL) {
		ck_typefmt_layout(types, id, false, a->out);
	} else {
		ck_error_destroy(err);
		struct ck_symbol sym;
		err = ck_kernel_symbol_by_name(a->kernel, arg.buf, &sym);
		if (!err) {
			ck_error_destroy(err);
			fprintf(a->err, "whatis: the type of '%s' is not known without a vmlinux "
				"(BTF has no globals; lib/analysis/globals.c)\n", arg.buf);
		} else {
			ck_error_destroy(err);
			fprintf(a->err, "whatis: cannot resolve: %s\n", arg.buf);
		}
		rc = 1;
	}
	ck_strbuf_deinit(&arg);
	return rc;
}
