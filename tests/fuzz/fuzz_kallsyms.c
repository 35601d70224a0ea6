/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the kallsyms tables (lib/kernel/kallsyms.c, symbols.c) of a
 * synthetic kernel (tests/mkdump.h mk_kernel + mk_kallsyms).  Input byte 0
 * picks the address encoding (absolute, base-relative, absolute-percpu,
 * place-relative, absolute32); the rest is laid over the tables from
 * kallsyms_num_syms on (names, markers, token table, token index, addresses,
 * relative base), the bytes it does not reach staying valid.  Then the
 * tables are decoded and looked up by name and by address.
 */
#include "fuzz.h"

#define KS_PA		UINT64_C(0x200000)
#define KS_MAX		(16 * 1024)	/* bytes of tables the input may cover */
#define NR_ENC		5

static struct fz_kernel fk;
static uint8_t tables[NR_ENC][KS_MAX];	/* valid tables of each encoding */
static char vmci[NR_ENC][32768];
static size_t vmci_len[NR_ENC];
static const char *names[64];
static size_t nr_names;

static char long_name[200];

/* The symbols, in address order; percpu ones (zero-based) first for
 * the absolute-percpu encoding only. */
static size_t symbols(int enc, struct mk_ksym *s)
{
	size_t n = 0;
	if (enc == MK_KS_ABSOLUTE_PERCPU) {
		s[n++] = (struct mk_ksym){ 'A', "fixed_percpu_data", 0, true };
		s[n++] = (struct mk_ksym){ 'A', "cpu_number", 0x20, true };
	}
	static const struct {
		char type;
		const char *name;
		uint64_t off;
	} text[] = {
		{ 'T', "_stext", 0 }, { 'T', "init_top_pgt", 0x1000 },
		{ 'T', "sys_read", 0x2000 }, { 't', "do_sys_open", 0x2040 },
		{ 'T', "panic", 0x3000 }, { 't', "irq_handle_panic_", 0x3100 },
		{ 'T', "sys_init_module", 0x3200 }, { 'D', "rq_init", 0x8000 },
		{ 'd', "init_task", 0x9000 }, { 'B', "panic_cpu", 0xa000 },
		{ 'b', "x", 0xa008 }, { 'T', NULL, 0xb000 }, { 'T', "_etext", 0x100000 },
	};
	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		s[n++] = (struct mk_ksym){ text[i].type, text[i].name ? text[i].name : long_name,
					   MK_KERNEL_TEXT + text[i].off, false };
	return n;
}

static void setup(void)
{
	memset(long_name, 'a', 150);	/* 151 tokens with its type: a two-byte count */
	mk_kernel_init(&fk.k, 4);
	struct mk_ksym syms[32];
	for (int enc = 0; enc < NR_ENC; enc++) {
		memcpy(vmci[enc], fk.k.vmci, fk.k.vmci_len);
		vmci_len[enc] = fk.k.vmci_len;
		struct mk_ks_out o = { .mem = fk.k.mem, .size = fk.k.size, .vmci = vmci[enc],
				       .vmci_len = &vmci_len[enc], .vmci_size = sizeof(vmci[enc]) };
		size_t n = symbols(enc, syms);
		memset(fk.k.mem + KS_PA, 0, KS_MAX);
		struct mk_ks_layout lay;
		mk_kallsyms(&o, KS_PA, fk.k.text + KS_PA, enc, syms, n, &lay);
		if (lay.end - KS_PA > KS_MAX)
			abort();
		memcpy(tables[enc], fk.k.mem + KS_PA, KS_MAX);
		if (enc == MK_KS_ABSOLUTE_PERCPU)
			for (size_t i = 0; i < n; i++)
				names[nr_names++] = syms[i].name;
	}
	fz_kernel_begin(&fk, "fuzz_kallsyms");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	static uint8_t mem[KS_MAX];
	if (!ready) {
		setup();
		ready = true;
	}
	if (!size)
		return 0;
	int enc = data[0] % NR_ENC;
	size_t n = size - 1 < KS_MAX ? size - 1 : KS_MAX;
	memcpy(mem, tables[enc], KS_MAX);
	memcpy(mem, data + 1, n);
	fz_kernel_patch(&fk, KS_PA, mem, KS_MAX);
	if (!fz_kernel_header(&fk, vmci[enc], vmci_len[enc]))
		abort();

	struct ck_dump *dump;
	struct ck_kernel *kernel;
	struct ck_error *err = fz_kernel_open(&fk, &dump, &kernel);
	if (err) {
		fz_drop(err);
		return 0;
	}
	struct ck_symbols_info info;
	err = ck_kernel_symbols_info(kernel, &info);
	if (!err) {
		if (!info.encoding || !info.agreed_names || !info.differ_names)
			abort();
		struct ck_symbol sym;
		for (size_t i = 0; i < nr_names; i++)
			fz_drop(ck_kernel_symbol_by_name(kernel, names[i], &sym));
		fz_drop(ck_kernel_symbol_by_name(kernel, "", &sym));
		static const uint64_t offs[] = { 0, 0x10, 0x2040, 0x3150, 0xa004, 0xb000,
						 0x100000, 0x200000 };
		for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
			struct ck_error *e = ck_kernel_symbol_by_address(kernel, MK_KERNEL_TEXT + offs[i],
									 &sym);
			if (!e && (!sym.name || strlen(sym.name) > 1024 * 1024))
				abort();
			fz_drop(e);
		}
		fz_drop(ck_kernel_symbol_by_address(kernel, 0x18, &sym));
		fz_drop(ck_kernel_symbol_by_address(kernel, UINT64_MAX, &sym));
		int32_t cpu;
		fz_drop(ck_kernel_panic_cpu(kernel, &cpu));
	}
	fz_drop(err);
	ck_kernel_destroy(kernel);
	ck_dump_destroy(dump);
	return 0;
}

static void fz_seeds(const char *dir)
{
	static const char *const enc_names[NR_ENC] = { "absolute", "base-relative",
						       "absolute-percpu", "place-relative",
						       "absolute32" };
	setup();
	static uint8_t seed[1 + KS_MAX];
	for (int enc = 0; enc < NR_ENC; enc++) {
		/* up to the last non-zero byte of the tables */
		size_t len = KS_MAX;
		while (len && !tables[enc][len - 1])
			len--;
		seed[0] = (uint8_t)enc;
		memcpy(seed + 1, tables[enc], len);
		fz_seed(dir, enc_names[enc], seed, 1 + len);
	}
}
