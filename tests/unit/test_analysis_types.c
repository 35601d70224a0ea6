/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of typefmt.c and eval: declarations spelled as gdb spells
 * them, layouts as crash prints `struct NAME` and `struct NAME -o`, and
 * eval's arithmetic, on a small BTF built with libbpf.
 */
#include <bpf/btf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "base/base.h"
#include "../harness.h"

struct fixture {
	struct ck_types *types;
	int list_ptr, name_arr, fn_ptr, const_ptr, foo, pid;
};

/* struct list_head; struct foo { int a; char name[16]; unsigned long
 * (*fn)(struct list_head *, int); const struct list_head *p; struct { int
 * x; }; unsigned int flag : 1; }; typedef int pid_t; */
static bool build(struct fixture *f)
{
	struct btf *b = btf__new_empty();
	if (!b)
		return false;
	int i32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	int u32 = btf__add_int(b, "unsigned int", 4, 0);
	int chr = btf__add_int(b, "char", 1, BTF_INT_SIGNED);
	int ul = btf__add_int(b, "long unsigned int", 8, 0);
	int lh = btf__add_struct(b, "list_head", 16);
	f->list_ptr = btf__add_ptr(b, lh);
	btf__add_field(b, "next", f->list_ptr, 0, 0);
	btf__add_field(b, "prev", f->list_ptr, 64, 0);
	f->name_arr = btf__add_array(b, i32, chr, 16);
	int proto = btf__add_func_proto(b, ul);
	btf__add_func_param(b, "", f->list_ptr);
	btf__add_func_param(b, "", i32);
	f->fn_ptr = btf__add_ptr(b, proto);
	int c = btf__add_const(b, lh);
	f->const_ptr = btf__add_ptr(b, c);
	int anon = btf__add_struct(b, NULL, 4);
	btf__add_field(b, "x", i32, 0, 0);
	f->foo = btf__add_struct(b, "foo", 56);
	btf__add_field(b, "a", i32, 0, 0);
	btf__add_field(b, "name", f->name_arr, 32, 0);
	btf__add_field(b, "fn", f->fn_ptr, 192, 0);
	btf__add_field(b, "p", f->const_ptr, 256, 0);
	btf__add_field(b, NULL, anon, 320, 0);
	btf__add_field(b, "flag", u32, 352, 1);
	f->pid = btf__add_typedef(b, "pid_t", i32);
	uint32_t size;
	const void *raw = btf__raw_data(b, &size);
	struct ck_error *err = raw ? ck_types_from_bytes(raw, size, &f->types) : &ck_error_nomem;
	btf__free(b);
	if (err) {
		fprintf(stderr, "%s\n", ck_error_message(err));
		ck_error_destroy(err);
		return false;
	}
	return true;
}

static void expect_decl(struct fixture *f, int id, const char *name, const char *want)
{
	struct ck_strbuf s = CK_STRBUF_INIT;
	EXPECT(ck_typefmt_decl(f->types, (uint32_t)id, name, &s));
	EXPECT(s.buf && !strcmp(s.buf, want));
	if (!s.buf || strcmp(s.buf, want))
		fprintf(stderr, "  got '%s', want '%s'\n", s.buf ? s.buf : "", want);
	ck_strbuf_deinit(&s);
}

static char *layout(struct fixture *f, int id, bool offsets)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	if (!out)
		return NULL;
	ck_typefmt_layout(f->types, (uint32_t)id, offsets, out);
	fclose(out);
	return buf;
}

static void test_decls(void)
{
	struct fixture f;
	if (!build(&f)) {
		EXPECT(false);
		return;
	}
	expect_decl(&f, f.list_ptr, "next", "struct list_head *next");
	expect_decl(&f, f.name_arr, "comm", "char comm[16]");
	expect_decl(&f, f.fn_ptr, "fn", "unsigned long (*fn)(struct list_head *, int)");
	expect_decl(&f, f.const_ptr, "cred", "const struct list_head *cred");
	expect_decl(&f, f.const_ptr, "", "const struct list_head *");
	ck_types_destroy(f.types);
}

static void test_layouts(void)
{
	struct fixture f;
	if (!build(&f)) {
		EXPECT(false);
		return;
	}
	static const char plain[] =
		"struct foo {\n"
		"    int a;\n"
		"    char name[16];\n"
		"    unsigned long (*fn)(struct list_head *, int);\n"
		"    const struct list_head *p;\n"
		"    struct {\n"
		"        int x;\n"
		"    };\n"
		"    unsigned int flag : 1;\n"
		"}\n"
		"SIZE: 56\n";
	static const char offsets[] =
		"struct foo {\n"
		"   [0] int a;\n"
		"   [4] char name[16];\n"
		"  [24] unsigned long (*fn)(struct list_head *, int);\n"
		"  [32] const struct list_head *p;\n"
		"       struct {\n"
		"  [40]     int x;\n"
		"       };\n"
		"  [44] unsigned int flag : 1;\n"
		"}\n"
		"SIZE: 56\n";
	char *got = layout(&f, f.foo, false);
	EXPECT(got && !strcmp(got, plain));
	free(got);
	got = layout(&f, f.foo, true);
	EXPECT(got && !strcmp(got, offsets));
	if (got && strcmp(got, offsets))
		fprintf(stderr, "%s", got);
	free(got);
	got = layout(&f, f.pid, false);
	EXPECT(got && !strcmp(got, "typedef int pid_t;\nSIZE: 4\n"));
	free(got);
	ck_types_destroy(f.types);
}

static void test_eval(void)
{
	static const struct {
		const char *expr;
		uint64_t want;
	} cases[] = {
		{ "1 + 2", 3 }, { "1 << 12", 4096 }, { "(1 << 12) | 0x5", 0x1005 },
		{ "100 / 7", 14 }, { "100 % 7", 2 }, { "2 + 3 * 4", 14 }, { "(2 + 3) * 4", 20 },
		{ "-1", UINT64_MAX }, { "~0 >> 60", 15 }, { "0x10 & 0x30 ^ 0x1", 0x11 },
		{ "0xff + 1", 0x100 }, { "100 - 200", (uint64_t)-100 },
	};
	struct ck_analysis a = { 0 };	/* numbers only: no symbols looked up */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 0;
		struct ck_error *err = ck_eval_expr(&a, cases[i].expr, &v);
		EXPECT(!err && v == cases[i].want);
		ck_error_destroy(err);
	}
	static const char *const bad[] = { "1 +", "(1", "1 / 0", "0xzz", "1 2", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v;
		struct ck_error *err = ck_eval_expr(&a, bad[i], &v);
		EXPECT(err != NULL);
		ck_error_destroy(err);
	}
}

int main(void)
{
	int r = harness_begin("analysis_types");
	if (r)
		return r;
	run("declarations as gdb spells them", test_decls);
	run("layouts as crash prints them (struct, -o, typedef)", test_layouts);
	run("eval's arithmetic and errors", test_eval);
	return harness_end();
}
