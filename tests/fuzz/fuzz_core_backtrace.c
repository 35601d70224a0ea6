/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: a userspace ELF core as the core_pattern handler receives it
 * (lib/cores/backtrace.c ck_core_backtrace_fd): libdwfl reads the core's
 * notes (NT_PRSTATUS per thread, NT_PRPSINFO, NT_AUXV, NT_FILE) and
 * segments, crashkit walks the threads and frames within its bounds, names
 * the signal and the crashing thread and hashes the signature.  The input is
 * the core file.  (libdw itself is not instrumented: coverage is crashkit's.)
 */
#include <sys/procfs.h>

#include "cores/cores.h"
#include "fuzz.h"

/* libdw 0.188 leaks 16 bytes in dwfl_getthreads() for some malformed notes
 * (docs/fuzzing.md, findings): its leaks are elfutils', not ours. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libdw.so\n";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	if (fd < 0)
		fd = fz_memfd("fuzz_core_backtrace", path);
	fz_set(fd, data, size);
	struct ck_core_backtrace bt;
	memset(&bt, 0, sizeof(bt));
	struct ck_error *err = ck_core_backtrace_fd(fd, "crasher", 11, 8, 32, &bt);
	if (!err) {
		if (!bt.text || !bt.signature || strlen(bt.signature) != 16)
			abort();
		ck_core_backtrace_deinit(&bt);
	}
	fz_drop(err);
	return 0;
}

/* ---- seeds: small synthetic cores ---------------------------------------- */

#define STACK_VA	UINT64_C(0x7ffd0000)
#define TEXT_VA		UINT64_C(0x400000)

static void prstatus(struct mk_buf *notes, int sig, int pid, uint64_t rip, uint64_t rsp,
		     uint64_t rbp)
{
	struct elf_prstatus st;
	memset(&st, 0, sizeof(st));
	st.pr_cursig = (short)sig;
	st.pr_info.si_signo = sig;
	st.pr_pid = pid;
	st.pr_ppid = 1;
	st.pr_pgrp = st.pr_sid = pid;
	uint64_t *regs = (uint64_t *)&st.pr_reg;
	regs[4] = rbp;		/* rbp */
	regs[16] = rip;		/* rip */
	regs[17] = 0x33;	/* cs */
	regs[19] = rsp;		/* rsp */
	regs[20] = 0x2b;	/* ss */
	mk_note(notes, "CORE", NT_PRSTATUS, &st, sizeof(st));
}

static void make_core(struct mk_buf *out, int threads, bool with_text)
{
	struct mk_buf notes = { 0 };
	for (int t = 0; t < threads; t++)
		prstatus(&notes, t ? 0 : 11, 1000 + t, TEXT_VA + 0x100 + 0x10 * t,
			 STACK_VA + 0x800 - 0x40 * t, STACK_VA + 0x900);
	struct elf_prpsinfo ps;
	memset(&ps, 0, sizeof(ps));
	ps.pr_pid = 1000;
	snprintf(ps.pr_fname, sizeof(ps.pr_fname), "crasher");
	snprintf(ps.pr_psargs, sizeof(ps.pr_psargs), "./crasher --boom");
	mk_note(&notes, "CORE", NT_PRPSINFO, &ps, sizeof(ps));
	uint64_t auxv[] = { AT_PAGESZ, 4096, AT_ENTRY, TEXT_VA + 0x40, AT_PHDR, TEXT_VA + 64,
			    AT_NULL, 0 };
	mk_note(&notes, "CORE", NT_AUXV, auxv, sizeof(auxv));
	/* NT_FILE: count, page size, then start/end/offset, then names */
	struct mk_buf nf = { 0 };
	uint64_t hdr[5] = { 1, 4096, TEXT_VA, TEXT_VA + 4096, 0 };
	mk_buf_append(&nf, hdr, sizeof(hdr));
	mk_buf_append(&nf, "/usr/bin/crasher", 17);
	mk_note(&notes, "CORE", 0x46494c45 /* NT_FILE */, nf.data, nf.len);
	free(nf.data);

	int nph = 2 + with_text;
	Elf64_Ehdr eh;
	mk_elf_header(&eh, EM_X86_64, (uint16_t)nph);
	Elf64_Phdr ph[3];
	memset(ph, 0, sizeof(ph));
	uint64_t off = sizeof(eh) + nph * sizeof(Elf64_Phdr);
	ph[0].p_type = PT_NOTE;
	ph[0].p_offset = off;
	ph[0].p_filesz = notes.len;
	off = (off + notes.len + 4095) & ~UINT64_C(4095);
	ph[1].p_type = PT_LOAD;
	ph[1].p_flags = PF_R | PF_W;
	ph[1].p_offset = off;
	ph[1].p_vaddr = STACK_VA;
	ph[1].p_filesz = ph[1].p_memsz = 4096;
	ph[1].p_align = 4096;
	uint8_t stack[4096];
	memset(stack, 0, sizeof(stack));
	/* a frame chain: saved rbp, return address */
	uint64_t frame[2] = { STACK_VA + 0xa00, TEXT_VA + 0x200 };
	memcpy(stack + 0x900, frame, sizeof(frame));
	uint64_t ret = TEXT_VA + 0x300;
	memcpy(stack + 0x800, &ret, 8);
	mk_buf_put(out, off, stack, sizeof(stack));
	if (with_text) {
		off += 4096;
		ph[2].p_type = PT_LOAD;
		ph[2].p_flags = PF_R | PF_X;
		ph[2].p_offset = off;
		ph[2].p_vaddr = TEXT_VA;
		ph[2].p_filesz = 64 + sizeof(Elf64_Phdr);
		ph[2].p_memsz = 4096;
		ph[2].p_align = 4096;
		/* the ELF header the dynamic linker maps: libdwfl looks for it */
		Elf64_Ehdr te;
		mk_elf_header(&te, EM_X86_64, 1);
		te.e_type = ET_EXEC;
		te.e_entry = TEXT_VA + 0x40;
		Elf64_Phdr tp;
		memset(&tp, 0, sizeof(tp));
		tp.p_type = PT_LOAD;
		tp.p_flags = PF_R | PF_X;
		tp.p_vaddr = TEXT_VA;
		tp.p_filesz = tp.p_memsz = 4096;
		mk_buf_put(out, off, &te, sizeof(te));
		mk_buf_put(out, off + 64, &tp, sizeof(tp));
	}
	mk_buf_put(out, 0, &eh, sizeof(eh));
	mk_buf_put(out, sizeof(eh), ph, nph * sizeof(Elf64_Phdr));
	mk_buf_put(out, ph[0].p_offset, notes.data, notes.len);
	free(notes.data);
}

static void fz_seeds(const char *dir)
{
	struct mk_buf b = { 0 };
	make_core(&b, 1, false);
	fz_seed(dir, "one-thread", b.data, b.len);
	free(b.data);
	memset(&b, 0, sizeof(b));
	make_core(&b, 3, true);
	fz_seed(dir, "three-threads-text", b.data, b.len);
	free(b.data);
}
