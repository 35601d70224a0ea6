/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/kernel/kallsyms.c: kallsyms tables generated in every
 * address encoding the kernel has used (tests/mkdump.h mk_kallsyms) inside a
 * small x86_64 kernel image (mk_kmem), written as an ELF vmcore and opened
 * through the real dump reader.  Each encoding must be recognised from the
 * VMCOREINFO symbols alone and give every symbol both ways: name -> address
 * and address -> name.  Tables no encoding explains must fail with an error
 * that names the dump.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kernel/kernel.h"
#include "../mkdump.h"
#include "../harness.h"

#define TEXT	MK_KMEM_TEXT		/* 64-bit symbols start here */
#define TEXT32	0xc1000000ull		/* a 32-bit kernel's text */
#define KS_PA	0x100000ull		/* the tables, inside the image */
#define MEM	(4ull << 20)

static char long_name[201];

struct kcase {
	struct mk_kmem k;
	struct mk_ksym syms[32];
	size_t nr;
	char path[512];
	struct ck_dump *dump;
	struct ck_kernel *kernel;
};

static void add(struct kcase *c, char type, const char *name, uint64_t addr, bool absolute)
{
	c->syms[c->nr++] = (struct mk_ksym){ type, name, addr, absolute };
}

/*
 * Text below the tables (negative place-relative offsets), data above them
 * (positive), two aliases at _text, a name given twice, a name long enough
 * for the two-byte count, and, for the absolute-percpu encoding, zero-based
 * per-cpu symbols first, as the kernel sorts them.
 */
static void default_syms(struct kcase *c, enum mk_ks_encoding enc)
{
	uint64_t t = enc == MK_KS_ABSOLUTE32 ? TEXT32 : TEXT;
	memset(long_name, 'x', sizeof(long_name) - 1);
	c->nr = 0;
	if (enc == MK_KS_ABSOLUTE_PERCPU) {
		add(c, 'A', "fixed_percpu_data", 0x0, true);
		add(c, 'A', "cpu_number", 0x2000, true);
	}
	add(c, 'T', "_text", t, false);
	add(c, 'T', "_stext", t, false);
	add(c, 't', "do_one_initcall", t + 0x1000, false);
	add(c, 'T', "sys_read", t + 0x2000, false);
	add(c, 't', "sysrq_handle_crash", t + 0x3000, false);
	add(c, 'T', "panic", t + 0x4000, false);
	add(c, 't', long_name, t + 0x5000, false);
	add(c, 't', "dup", t + 0x6000, false);
	add(c, 't', "dup", t + 0x7000, false);
	add(c, 'D', "init_uts_ns", t + 0x200000, false);
	add(c, 'd', "prb", t + 0x201000, false);
	add(c, 'b', "mem_section", t + 0x280000, false);
	add(c, 'B', "_end", t + 0x300000, false);
}

/* VMCOREINFO's SYMBOL() lines for the witnesses: their true addresses,
 * except mem_section, whose VMCOREINFO value is the pointer it holds
 * (VMCOREINFO_SYMBOL_ARRAY on SPARSEMEM_EXTREME), not its address. */
static void default_witnesses(struct kcase *c)
{
	for (size_t i = 0; i < c->nr; i++) {
		const char *n = c->syms[i].name;
		if (!strcmp(n, "_stext") || !strcmp(n, "init_uts_ns") || !strcmp(n, "prb"))
			mk_kmem_vmci(&c->k, "SYMBOL(%s)=%" PRIx64 "\n", n, c->syms[i].addr);
	}
	mk_kmem_vmci(&c->k, "SYMBOL(mem_section)=%llx\n", MK_KMEM_DIRECT + 0x12345000ull);
}

static void kcase_tables(struct kcase *c, enum mk_ks_encoding enc)
{
	mk_kmem_kallsyms(&c->k, KS_PA, enc, c->syms, c->nr, NULL);
}

static bool kcase_open(struct kcase *c, const char *name)
{
	snprintf(c->path, sizeof(c->path), "%s", tpath(name));
	if (mk_kmem_write(&c->k, c->path)) {
		EXPECT(false, "writing %s", c->path);
		return false;
	}
	struct ck_error *err = ck_dump_open(c->path, &c->dump);
	if (!err)
		err = ck_kernel_create(c->dump, &c->kernel);
	if (err) {
		EXPECT(false, "opening %s: %s", c->path, ck_error_message(err));
		ck_error_destroy(err);
		ck_dump_destroy(c->dump);
		c->dump = NULL;
		return false;
	}
	return true;
}

static void kcase_close(struct kcase *c)
{
	ck_kernel_destroy(c->kernel);
	ck_dump_destroy(c->dump);
	mk_kmem_deinit(&c->k);
}

/* Removes the VMCOREINFO line starting with prefix. */
static void vmci_drop(struct mk_kmem *k, const char *prefix)
{
	char *p = strstr(k->vmci, prefix);
	if (!p)
		abort();
	char *eol = strchr(p, '\n');
	size_t n = (size_t)(eol + 1 - p);
	memmove(p, eol + 1, k->vmci_len - (size_t)(eol + 1 - k->vmci) + 1);
	k->vmci_len -= n;
}

/* ---- every encoding, both ways --------------------------------------------- */

static const char *const enc_names[] = {
	[MK_KS_ABSOLUTE] = "absolute",
	[MK_KS_BASE_RELATIVE] = "base-relative",
	[MK_KS_ABSOLUTE_PERCPU] = "absolute-percpu",
	[MK_KS_PLACE_RELATIVE] = "place-relative",
	[MK_KS_ABSOLUTE32] = "absolute32",
};

static void check_names(struct kcase *c)
{
	struct ck_symbol sym;
	for (size_t i = 0; i < c->nr; i++) {
		const struct mk_ksym *s = &c->syms[i];
		if (!strcmp(s->name, "dup"))
			continue;
		struct ck_error *err = ck_kernel_symbol_by_name(c->kernel, s->name, &sym);
		EXPECT(!err && sym.address == s->addr && sym.type == s->type &&
		       !strcmp(sym.name, s->name), "%.40s: want %c 0x%" PRIx64 ", got %s %c 0x%" PRIx64,
		       s->name, s->type, s->addr, err ? ck_error_message(err) : sym.name, sym.type,
		       sym.address);
		ck_error_destroy(err);
	}
	struct ck_error *err = ck_kernel_symbol_by_name(c->kernel, "dup", &sym);
	EXPECT(!err && sym.address == c->syms[c->nr - 6].addr, "dup: the lower address first");
	ck_error_destroy(err);
	err = ck_kernel_symbol_by_name(c->kernel, "no_such_symbol", &sym);
	EXPECT(err && ck_error_code(err) == CK_ERR_NOT_FOUND);
	ck_error_destroy(err);
}

/* Every address gives its symbol (the kernel's first alias), and an address
 * inside a symbol gives the symbol it is in. */
static void check_addresses(struct kcase *c)
{
	struct ck_symbol sym;
	for (size_t i = 0; i < c->nr; i++) {
		const struct mk_ksym *s = &c->syms[i];
		size_t first = i;
		while (first > 0 && c->syms[first - 1].addr == s->addr)
			first--;
		struct ck_error *err = ck_kernel_symbol_by_address(c->kernel, s->addr, &sym);
		EXPECT(!err && sym.address == s->addr && !strcmp(sym.name, c->syms[first].name),
		       "0x%" PRIx64 ": want %.40s, got %s", s->addr, c->syms[first].name,
		       err ? ck_error_message(err) : sym.name);
		ck_error_destroy(err);
	}
	uint64_t t = c->syms[c->nr - 1].addr - 0x300000;	/* _end - 3 MiB = _text */
	struct ck_error *err = ck_kernel_symbol_by_address(c->kernel, t + 0x3123, &sym);
	EXPECT(!err && !strcmp(sym.name, "sysrq_handle_crash") && sym.address == t + 0x3000 &&
	       sym.size == 0x1000);
	ck_error_destroy(err);
	err = ck_kernel_symbol_by_address(c->kernel, t + 0x7010, &sym);
	EXPECT(!err && !strcmp(sym.name, "dup") && sym.address == t + 0x7000,
	       "the second 'dup' by its address");
	ck_error_destroy(err);
	err = ck_kernel_symbol_by_address(c->kernel, t - 0x100000, &sym);
	EXPECT(err && ck_error_code(err) == CK_ERR_NOT_FOUND, "below every kernel symbol");
	ck_error_destroy(err);
}

static void check_info(struct kcase *c, enum mk_ks_encoding enc)
{
	struct ck_symbols_info in;
	struct ck_error *err = ck_kernel_symbols_info(c->kernel, &in);
	EXPECT(!err, "%s", err ? ck_error_message(err) : "");
	if (err) {
		ck_error_destroy(err);
		return;
	}
	EXPECT(!strcmp(in.encoding, enc_names[enc]), "chose %s, want %s", in.encoding,
	       enc_names[enc]);
	EXPECT(in.nr_symbols == c->nr);
	/* _stext, init_uts_ns, prb agree; mem_section's value is a pointer */
	EXPECT(in.checked == 4 && in.agreed == 3, "%u of %u agree", in.agreed, in.checked);
	EXPECT(!strcmp(in.agreed_names, "_stext init_uts_ns prb"), "agreed: '%s'",
	       in.agreed_names);
	EXPECT(!strcmp(in.differ_names, "mem_section"), "differ: '%s'", in.differ_names);
}

static void test_encoding(enum mk_ks_encoding enc)
{
	struct kcase c = { 0 };
	mk_kmem_init(&c.k, MEM);
	default_syms(&c, enc);
	default_witnesses(&c);
	kcase_tables(&c, enc);
	if (!kcase_open(&c, enc_names[enc])) {
		mk_kmem_deinit(&c.k);
		return;
	}
	check_names(&c);
	check_addresses(&c);
	check_info(&c, enc);
	kcase_close(&c);
}

static void test_absolute(void) { test_encoding(MK_KS_ABSOLUTE); }
static void test_base_relative(void) { test_encoding(MK_KS_BASE_RELATIVE); }
static void test_absolute_percpu(void) { test_encoding(MK_KS_ABSOLUTE_PERCPU); }
static void test_place_relative(void) { test_encoding(MK_KS_PLACE_RELATIVE); }
static void test_absolute32(void) { test_encoding(MK_KS_ABSOLUTE32); }

/* Zero-based per-cpu symbols: found by address, and the last of them has no
 * size (the gap up to the text is not a symbol's extent). */
static void test_percpu_symbols(void)
{
	struct kcase c = { 0 };
	mk_kmem_init(&c.k, MEM);
	default_syms(&c, MK_KS_ABSOLUTE_PERCPU);
	default_witnesses(&c);
	kcase_tables(&c, MK_KS_ABSOLUTE_PERCPU);
	if (!kcase_open(&c, "percpu")) {
		mk_kmem_deinit(&c.k);
		return;
	}
	struct ck_symbol sym;
	struct ck_error *err = ck_kernel_symbol_by_address(c.kernel, 0x10, &sym);
	EXPECT(!err && !strcmp(sym.name, "fixed_percpu_data") && sym.type == 'A' &&
	       sym.size == 0x2000);
	ck_error_destroy(err);
	err = ck_kernel_symbol_by_address(c.kernel, 0x2010, &sym);
	EXPECT(err && ck_error_code(err) == CK_ERR_NOT_FOUND);
	ck_error_destroy(err);
	kcase_close(&c);
}

/* ---- choosing by agreement, not by which keys are present ------------------ */

/* A Linux 7.0 table, but VMCOREINFO also names a relative base (a capture
 * tool appending stale keys, say): the base-relative readings are tried and
 * lose to the one the symbols agree with. */
static void test_place_relative_stale_base(void)
{
	struct kcase c = { 0 };
	mk_kmem_init(&c.k, MEM);
	default_syms(&c, MK_KS_PLACE_RELATIVE);
	default_witnesses(&c);
	kcase_tables(&c, MK_KS_PLACE_RELATIVE);
	uint64_t base = htole64(TEXT);
	memcpy(c.k.mem + KS_PA - 8, &base, 8);
	mk_kmem_vmci(&c.k, "SYMBOL(kallsyms_relative_base)=%llx\n", TEXT + KS_PA - 8);
	if (!kcase_open(&c, "stale-base")) {
		mk_kmem_deinit(&c.k);
		return;
	}
	check_names(&c);
	check_info(&c, MK_KS_PLACE_RELATIVE);
	kcase_close(&c);
}

/* The issue-13 symptom: place-relative offsets read as base-relative from
 * _stext are 4 bytes off per entry.  The witness that catches it here is
 * init_uts_ns; with _stext alone the place-relative reading still wins,
 * because no base-relative reading is possible without the base. */
static void test_place_relative_only_stext(void)
{
	struct kcase c = { 0 };
	mk_kmem_init(&c.k, MEM);
	default_syms(&c, MK_KS_PLACE_RELATIVE);
	mk_kmem_vmci(&c.k, "SYMBOL(_stext)=%" PRIx64 "\n", TEXT);
	kcase_tables(&c, MK_KS_PLACE_RELATIVE);
	if (!kcase_open(&c, "only-stext")) {
		mk_kmem_deinit(&c.k);
		return;
	}
	check_names(&c);
	struct ck_symbols_info in;
	struct ck_error *err = ck_kernel_symbols_info(c.kernel, &in);
	EXPECT(!err && in.checked == 1 && in.agreed == 1 && !strcmp(in.agreed_names, "_stext") &&
	       !*in.differ_names);
	ck_error_destroy(err);
	kcase_close(&c);
}

/* A witness whose name kallsyms has twice: the alias at VMCOREINFO's value
 * agrees. */
static void test_duplicate_witness(void)
{
	struct kcase c = { 0 };
	mk_kmem_init(&c.k, MEM);
	default_syms(&c, MK_KS_BASE_RELATIVE);
	mk_kmem_vmci(&c.k, "SYMBOL(dup)=%" PRIx64 "\n", TEXT + 0x7000);
	kcase_tables(&c, MK_KS_BASE_RELATIVE);
	if (!kcase_open(&c, "dup-witness")) {
		mk_kmem_deinit(&c.k);
		return;
	}
	struct ck_symbols_info in;
	struct ck_error *err = ck_kernel_symbols_info(c.kernel, &in);
	EXPECT(!err && !strcmp(in.encoding, "base-relative") && in.agreed == 1 &&
	       !strcmp(in.agreed_names, "dup"), "%s", err ? ck_error_message(err) : in.encoding);
	ck_error_destroy(err);
	kcase_close(&c);
}

/* ---- tables no encoding explains ------------------------------------------- */

static void expect_failure(struct kcase *c, const char *needle)
{
	struct ck_symbol sym;
	struct ck_error *err = ck_kernel_symbol_by_name(c->kernel, "panic", &sym);
	EXPECT(err && ck_error_code(err) == CK_ERR_FORMAT);
	if (!err)
		return;
	const char *msg = ck_error_message(err);
	EXPECT(strstr(msg, c->path) && strstr(msg, needle) && !strchr(msg, '\n'),
	       "message: %s", msg);
	ck_error_destroy(err);
	/* not cached: the next lookup says the same */
	err = ck_kernel_symbol_by_address(c->kernel, TEXT, &sym);
	EXPECT(err && strstr(ck_error_message(err), needle));
	ck_error_destroy(err);
	struct ck_symbols_info in;
	err = ck_kernel_symbols_info(c->kernel, &in);
	EXPECT(err && strstr(ck_error_message(err), needle));
	ck_error_destroy(err);
}

/* Base-relative offsets without their base: only the 7.0 readings remain
 * and neither agrees with VMCOREINFO. */
static void test_no_encoding_agrees(void)
{
	struct kcase c = { 0 };
	mk_kmem_init(&c.k, MEM);
	default_syms(&c, MK_KS_BASE_RELATIVE);
	default_witnesses(&c);
	kcase_tables(&c, MK_KS_BASE_RELATIVE);
	vmci_drop(&c.k, "SYMBOL(kallsyms_relative_base)=");
	if (!kcase_open(&c, "no-base")) {
		mk_kmem_deinit(&c.k);
		return;
	}
	expect_failure(&c, "no address encoding of kallsyms_offsets");
	kcase_close(&c);
}

/* VMCOREINFO's _stext disagrees with the table under every reading. */
static void test_witness_disagrees(void)
{
	struct kcase c = { 0 };
	mk_kmem_init(&c.k, MEM);
	default_syms(&c, MK_KS_ABSOLUTE_PERCPU);
	mk_kmem_vmci(&c.k, "SYMBOL(_stext)=%" PRIx64 "\n", TEXT + 0x40);
	kcase_tables(&c, MK_KS_ABSOLUTE_PERCPU);
	if (!kcase_open(&c, "disagree")) {
		mk_kmem_deinit(&c.k);
		return;
	}
	expect_failure(&c, "_stext is 0xffffffff81000040 there");
	kcase_close(&c);
}

/* No SYMBOL() of VMCOREINFO is in kallsyms (init_top_pgt is not in the
 * table): nothing to choose by. */
static void test_no_witness(void)
{
	struct kcase c = { 0 };
	mk_kmem_init(&c.k, MEM);
	add(&c, 'T', "startup_64", TEXT, false);
	add(&c, 'T', "panic", TEXT + 0x100, false);
	kcase_tables(&c, MK_KS_PLACE_RELATIVE);
	if (!kcase_open(&c, "no-witness")) {
		mk_kmem_deinit(&c.k);
		return;
	}
	expect_failure(&c, "SYMBOL() entries is in kallsyms");
	kcase_close(&c);
}

/* No kallsyms keys at all (Linux < 6.0). */
static void test_no_tables(void)
{
	struct kcase c = { 0 };
	mk_kmem_init(&c.k, MEM);
	mk_kmem_vmci(&c.k, "SYMBOL(_stext)=%" PRIx64 "\n", TEXT);
	if (!kcase_open(&c, "no-tables")) {
		mk_kmem_deinit(&c.k);
		return;
	}
	struct ck_symbol sym;
	struct ck_error *err = ck_kernel_symbol_by_name(c.kernel, "panic", &sym);
	EXPECT(err && ck_error_code(err) == CK_ERR_UNSUPPORTED &&
	       strstr(ck_error_message(err), "6.0"));
	ck_error_destroy(err);
	kcase_close(&c);
}

/* ---- on mk_kernel (KASLR, NX), one check per fact --------------------------- */

/*
 * The same tables in the randomised kernel the other kernel-layer tests
 * use, each fact its own "ok" line: every name both ways, sizes, aliases,
 * duplicates, the two-byte count, the per-cpu/text gap; then an absurd
 * count, a count the names do not hold, offsets that match no encoding and
 * no tables at all.
 */
static void test_kernel_encoding(enum mk_ks_encoding enc)
{
	static const char *const names[] = {
		[MK_KS_ABSOLUTE_PERCPU] = "percpu", [MK_KS_BASE_RELATIVE] = "relative",
		[MK_KS_PLACE_RELATIVE] = "place-relative", [MK_KS_ABSOLUTE] = "absolute",
	};
	const char *m = names[enc];
	memset(long_name, 'x', sizeof(long_name) - 1);
	const struct mk_ksym all[] = {
		{ 'A', "fixed_percpu_data", 0x0, true },
		{ 'A', "cpu_number", 0x2000, true },
		{ 'T', "_text", MK_KERNEL_TEXT, false },
		{ 'T', "_stext", MK_KERNEL_TEXT, false },
		{ 't', "do_one_initcall", MK_KERNEL_TEXT + 0x1000, false },
		{ 'T', "sys_read", MK_KERNEL_TEXT + 0x2000, false },
		{ 't', "sysrq_handle_crash", MK_KERNEL_TEXT + 0x3000, false },
		{ 'T', "panic", MK_KERNEL_TEXT + 0x4000, false },
		{ 't', long_name, MK_KERNEL_TEXT + 0x5000, false },
		{ 't', "dup", MK_KERNEL_TEXT + 0x6000, false },
		{ 't', "dup", MK_KERNEL_TEXT + 0x7000, false },
		{ 'D', "init_task", MK_KERNEL_TEXT + 0x90000, false },
		{ 'B', "_end", MK_KERNEL_TEXT + 0xa0000, false },
	};
	const struct mk_ksym *syms = all;
	size_t nr = CK_ARRAY_SIZE(all);
	if (enc != MK_KS_ABSOLUTE_PERCPU) {	/* per-cpu symbols exist only with absolute per-cpu */
		syms += 2;
		nr -= 2;
	}
	struct mk_kmem s;
	mk_kernel_init(&s, 4);
	mk_kmem_kallsyms(&s, KS_PA, enc, syms, nr, NULL);
	struct ck_dump *dump;
	struct ck_kernel *k;
	if (!no_error(mk_kmem_open(&s, tpath("kernel.elf"), &dump, &k))) {
		check(false, "kallsyms %s: open", m);
		mk_kmem_deinit(&s);
		return;
	}
	struct ck_symbol sym;
	bool ok = true;
	for (size_t i = 0; i < nr; i++) {
		if (!strcmp(syms[i].name, "dup"))
			continue;
		struct ck_error *err = ck_kernel_symbol_by_name(k, syms[i].name, &sym);
		if (!no_error(err) || sym.address != syms[i].addr || sym.type != syms[i].type ||
		    strcmp(sym.name, syms[i].name)) {
			printf("# %s: got %c %s 0x%" PRIx64 "\n", syms[i].name, sym.type,
			       err ? "?" : sym.name, sym.address);
			ok = false;
		}
	}
	check(ok, "kallsyms %s: every name decodes to its address and type", m);
	check(no_error(ck_kernel_symbol_by_name(k, "panic", &sym)) && sym.size == 0x1000,
	      "kallsyms %s: size is the distance to the next symbol", m);
	check(no_error(ck_kernel_symbol_by_address(k, MK_KERNEL_TEXT + 0x3123, &sym)) &&
	      !strcmp(sym.name, "sysrq_handle_crash") && sym.address == MK_KERNEL_TEXT + 0x3000,
	      "kallsyms %s: address inside a symbol", m);
	check(no_error(ck_kernel_symbol_by_address(k, MK_KERNEL_TEXT + 0x10, &sym)) &&
	      !strcmp(sym.name, "_text") && sym.size == 0x1000,
	      "kallsyms %s: aliases: the kernel's first, size past all of them", m);
	check(no_error(ck_kernel_symbol_by_name(k, "dup", &sym)) && sym.address == MK_KERNEL_TEXT + 0x6000,
	      "kallsyms %s: duplicate names: the lowest address", m);
	check(no_error(ck_kernel_symbol_by_address(k, MK_KERNEL_TEXT + 0x7010, &sym)) &&
	      !strcmp(sym.name, "dup") && sym.address == MK_KERNEL_TEXT + 0x7000,
	      "kallsyms %s: second duplicate by address", m);
	check(no_error(ck_kernel_symbol_by_name(k, long_name, &sym)) &&
	      strlen(sym.name) == 200, "kallsyms %s: two-byte token count (Linux 6.1)", m);
	check(is_error(ck_kernel_symbol_by_name(k, "no_such_symbol", &sym), CK_ERR_NOT_FOUND,
		       "no_such_symbol"), "kallsyms %s: unknown name", m);
	check(is_error(ck_kernel_symbol_by_address(k, MK_KERNEL_TEXT - 0x100000, &sym),
		       CK_ERR_NOT_FOUND, NULL),
	      "kallsyms %s: address below every kernel symbol", m);
	check(is_error(ck_kernel_symbol_by_address(k, MK_KERNEL_TEXT + 0xa0010, &sym),
		       CK_ERR_NOT_FOUND, "_end"),
	      "kallsyms %s: past the last symbol", m);
	if (enc == MK_KS_ABSOLUTE_PERCPU) {
		check(no_error(ck_kernel_symbol_by_address(k, 0x10, &sym)) &&
		      !strcmp(sym.name, "fixed_percpu_data") && sym.type == 'A' && sym.size == 0x2000,
		      "kallsyms percpu: absolute per-cpu symbol by address");
		/* the last per-cpu symbol is followed by the gap below the
		 * text: its size is unknown and only its own address matches */
		check(no_error(ck_kernel_symbol_by_address(k, 0x2000, &sym)) && sym.size == 0 &&
		      is_error(ck_kernel_symbol_by_address(k, 0x2010, &sym), CK_ERR_NOT_FOUND, NULL),
		      "kallsyms percpu: no size across the per-cpu/text gap");
	}
	mk_kmem_close(&s, dump, k);
}

static void test_kernel_garbage(void)
{
	const struct mk_ksym syms[] = {
		{ 'T', "_stext", MK_KERNEL_TEXT, false },
		{ 'T', "panic", MK_KERNEL_TEXT + 0x100, false },
	};
	struct mk_kmem s;
	struct ck_dump *dump;
	struct ck_kernel *k;
	struct ck_symbol sym;
	struct mk_ks_layout lay;

	mk_kernel_init(&s, 4);
	mk_kmem_kallsyms(&s, KS_PA, MK_KS_BASE_RELATIVE, syms, 2, &lay);
	mk_kmem_put32(&s, lay.num_syms, 0x7fffffff);
	if (no_error(mk_kmem_open(&s, tpath("kernel.elf"), &dump, &k))) {
		check(is_error(ck_kernel_symbol_by_name(k, "panic", &sym), CK_ERR_FORMAT, "absurd"),
		      "kallsyms garbage: absurd symbol count");
		mk_kmem_close(&s, dump, k);
	}

	/* more symbols claimed than the names hold: decoding runs into the
	 * markers and token table and must stop there, not run on */
	mk_kernel_init(&s, 4);
	mk_kmem_kallsyms(&s, KS_PA, MK_KS_BASE_RELATIVE, syms, 2, &lay);
	mk_kmem_put32(&s, lay.num_syms, 100000);
	if (no_error(mk_kmem_open(&s, tpath("kernel.elf"), &dump, &k))) {
		struct ck_error *err = ck_kernel_symbol_by_name(k, "panic", &sym);
		check(is_error(err, CK_ERR_FORMAT, "kallsyms_names at 0x"),
		      "kallsyms garbage: names overrun is an error naming the table");
		mk_kmem_close(&s, dump, k);
	}

	/* _stext disagreeing with VMCOREINFO */
	mk_kernel_init(&s, 4);
	mk_kmem_kallsyms(&s, KS_PA, MK_KS_ABSOLUTE_PERCPU, syms, 2, NULL);
	mk_kmem_vmci(&s, "SYMBOL(_stext)=%" PRIx64 "\n", MK_KERNEL_TEXT + 0x40);
	if (no_error(mk_kmem_open(&s, tpath("kernel.elf"), &dump, &k))) {
		check(is_error(ck_kernel_symbol_by_name(k, "panic", &sym), CK_ERR_FORMAT, "_stext"),
		      "kallsyms garbage: offsets that match no encoding");
		mk_kmem_close(&s, dump, k);
	}

	/* no tables at all (Linux < 6.0) */
	mk_kernel_init(&s, 4);
	if (no_error(mk_kmem_open(&s, tpath("kernel.elf"), &dump, &k))) {
		check(is_error(ck_kernel_symbol_by_name(k, "panic", &sym), CK_ERR_UNSUPPORTED,
			       "6.0"), "kallsyms: no tables in VMCOREINFO");
		mk_kmem_close(&s, dump, k);
	}
}

int main(void)
{
	int r = harness_begin("kallsyms");
	if (r)
		return r;
	run("absolute kallsyms_addresses (before 6.11)", test_absolute);
	run("base-relative offsets (4.6-6.19)", test_base_relative);
	run("absolute-percpu offsets (x86_64 SMP, 4.6-6.14)", test_absolute_percpu);
	run("place-relative offsets (7.0+)", test_place_relative);
	run("32-bit addresses in kallsyms_offsets (7.0+, 32-bit)", test_absolute32);
	run("absolute-percpu: zero-based per-cpu symbols by address", test_percpu_symbols);
	run("place-relative chosen over a stale kallsyms_relative_base", test_place_relative_stale_base);
	run("place-relative with _stext the only witness", test_place_relative_only_stext);
	run("a witness kallsyms lists twice", test_duplicate_witness);
	run("offsets without their base: no encoding agrees, error names the dump",
	    test_no_encoding_agrees);
	run("VMCOREINFO's _stext matches no reading", test_witness_disagrees);
	run("no VMCOREINFO symbol in kallsyms", test_no_witness);
	run("no kallsyms in VMCOREINFO (before 6.0)", test_no_tables);
	test_kernel_encoding(MK_KS_ABSOLUTE_PERCPU);
	test_kernel_encoding(MK_KS_BASE_RELATIVE);
	test_kernel_encoding(MK_KS_PLACE_RELATIVE);
	test_kernel_encoding(MK_KS_ABSOLUTE);
	test_kernel_garbage();
	return harness_end();
}
