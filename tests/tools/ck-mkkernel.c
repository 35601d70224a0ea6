/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ck-mkkernel: writes a small synthetic x86_64 kernel dump (an ELF vmcore)
 * for the command-line tests of crashkit-analyze (tests/cli/analyze.sh):
 * tests/mkdump.h's mk_kernel (KASLR, page tables, a vmalloc area), kallsyms
 * with a few well-known symbols, a utsname, CRASHTIME and a 6.1-style printk
 * ring with a few records ending in a panic.  It has no BTF (generated
 * dumps never do), so commands that need types must say so.
 *
 *   ck-mkkernel OUT
 */
#include <inttypes.h>

#include "../mkdump.h"

#define KS_PA		UINT64_C(0x200000)
#define UTS_PA		UINT64_C(0x100000)
#define PRB_PA		UINT64_C(0x300000)
#define PRB_RB		(PRB_PA + 0x100)
#define PRB_DESCS	(PRB_PA + 0x1000)
#define PRB_INFOS	(PRB_PA + 0x2000)
#define COUNT_BITS	4
#define SIZE_BITS	12	/* the 4 KiB text ring: one vmalloc page */

static const char *const records[] = {
	"Linux version 6.1.0-mkdump (ck-mkkernel) #1 SMP",
	"Command line: console=ttyS0",
	"sysrq: Trigger a crash",
	"Kernel panic - not syncing: sysrq triggered crash",
};

static void put_text(struct mk_kmem *k, uint64_t pa, const char *s)
{
	memcpy(k->mem + pa, s, strlen(s) + 1);
}

static void printk_ring(struct mk_kmem *k)
{
	mk_kmem_vmci(k, "SYMBOL(prb)=%" PRIx64 "\n", MK_KERNEL_TEXT + PRB_PA);
	mk_kmem_vmci(k, "%s", MK_PRB_VMCOREINFO);
	mk_kmem_vmci(k, "OFFSET(printk_info.caller_id)=20\n");
	size_t nr = sizeof(records) / sizeof(records[0]);
	/* the text ring: vmalloc page 0 is physical page 15 from MK_KERNEL_VMALLOC_PA */
	uint64_t ring = MK_KERNEL_VMALLOC_PA + 15 * MK_4K, lpos = 0;
	for (size_t i = 0; i < nr; i++) {
		size_t len = strlen(records[i]);
		uint64_t next = lpos + ((8 + len + 7) & ~7ull);
		mk_kmem_put64(k, ring + lpos, i);
		memcpy(k->mem + ring + lpos + 8, records[i], len);
		uint64_t d = PRB_DESCS + i * 24, in = PRB_INFOS + i * 88;
		mk_kmem_put64(k, d, 2ull << 62 | i);	/* finalized */
		mk_kmem_put64(k, d + 8, lpos);
		mk_kmem_put64(k, d + 16, next);
		mk_kmem_put64(k, in, i);			/* seq */
		mk_kmem_put64(k, in + 8, 1000000000ull * (i + 1) + 12345);
		mk_kmem_put16(k, in + 16, (uint16_t)len);
		k->mem[in + 19] = (uint8_t)((i == nr - 1 ? 0 : 6) << 5);
		mk_kmem_put32(k, in + 20, 1);
		lpos = next;
	}
	mk_kmem_put64(k, PRB_PA, MK_KERNEL_TEXT + PRB_RB);
	mk_kmem_put32(k, PRB_RB + 0, COUNT_BITS);
	mk_kmem_put64(k, PRB_RB + 8, MK_KERNEL_TEXT + PRB_DESCS);
	mk_kmem_put64(k, PRB_RB + 16, MK_KERNEL_TEXT + PRB_INFOS);
	mk_kmem_put64(k, PRB_RB + 24, nr - 1);	/* head id */
	mk_kmem_put64(k, PRB_RB + 32, 0);	/* tail id */
	mk_kmem_put32(k, PRB_RB + 48, SIZE_BITS);
	mk_kmem_put64(k, PRB_RB + 56, MK_KERNEL_VMALLOC);
	mk_kmem_put64(k, PRB_RB + 64, lpos);	/* head_lpos */
	mk_kmem_put64(k, PRB_RB + 72, 0);	/* tail_lpos */
}

static void utsname(struct mk_kmem *k)
{
	static const char *const fields[] = { "Linux", "mkdump", "6.1.0-mkdump",
					      "#1 SMP PREEMPT_DYNAMIC", "x86_64", "(none)" };
	for (int i = 0; i < 6; i++)
		put_text(k, UTS_PA + 8 + 65 * (uint64_t)i, fields[i]);
	mk_kmem_vmci(k, "SYMBOL(init_uts_ns)=%" PRIx64 "\n", MK_KERNEL_TEXT + UTS_PA);
	mk_kmem_vmci(k, "OFFSET(uts_namespace.name)=8\nCRASHTIME=1764730000\n");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: ck-mkkernel OUT\n");
		return 2;
	}
	struct mk_kmem k;
	mk_kernel_init(&k, 4);
	utsname(&k);
	printk_ring(&k);
	put_text(&k, 0x180000, "Linux version 6.1.0-mkdump (ck-mkkernel) #1 SMP\n");
	const uint64_t T = MK_KERNEL_TEXT;
	const struct mk_ksym syms[] = {
		{ 'T', "_stext", T, false }, { 'T', "init_top_pgt", T + MK_KMEM_PGT, false },
		{ 'T', "sys_read", T + 0x20000, false }, { 'T', "panic", T + 0x21000, false },
		{ 't', "sysrq_handle_crash", T + 0x22000, false }, { 'T', "schedule", T + 0x23000, false },
		{ 'T', "_etext", T + 0xf0000, false }, { 'D', "init_uts_ns", T + UTS_PA, false },
		{ 'D', "linux_banner", T + 0x180000, false }, { 'D', "init_task", T + 0x190000, false },
		{ 'D', "prb", T + PRB_PA, false }, { 'B', "panic_cpu", T + 0x400000, false },
	};
	mk_kmem_kallsyms(&k, KS_PA, MK_KS_BASE_RELATIVE, syms, sizeof(syms) / sizeof(syms[0]),
			 NULL);
	int r = mk_kmem_write(&k, argv[1]);
	mk_kmem_deinit(&k);
	if (r) {
		fprintf(stderr, "ck-mkkernel: cannot write %s\n", argv[1]);
		return 1;
	}
	return 0;
}
