/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Starting registers: the NT_PRSTATUS notes of the dump and pt_regs in
 * memory.
 *
 * A kdump's notes hold one elf_prstatus per CPU, in CPU order, saved by
 * crash_save_cpu(): the panic CPU's from __crash_kexec (crash_setup_regs),
 * each other CPU's from the crash NMI (the interrupted context).  QEMU's
 * dump-guest-memory writes one per vCPU with the live registers.  pr_reg
 * is an elf_gregset_t in user_regs_struct order (the ptrace ABI, the same
 * on every kernel); its offset comes from BTF's struct elf_prstatus when
 * the kernel has it, else the x86_64 ABI's 112.
 */
#include <elf.h>
#include <string.h>

#include "analysis/analysis.h"

/* user_regs_struct: the x86_64 ptrace ABI order. */
enum {
	UR_R15, UR_R14, UR_R13, UR_R12, UR_BP, UR_BX, UR_R11, UR_R10, UR_R9, UR_R8,
	UR_AX, UR_CX, UR_DX, UR_SI, UR_DI, UR_ORIG_AX, UR_IP, UR_CS, UR_FLAGS, UR_SP,
	UR_SS, UR_NR = 27,
};
#define PRSTATUS_PR_REG_ABI 112
#define PRSTATUS_PID_ABI 32

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void from_gregset(const uint8_t *g, struct ck_regs *r)
{
	memset(r, 0, sizeof(*r));
	r->r15 = le64(g + 8 * UR_R15);
	r->r14 = le64(g + 8 * UR_R14);
	r->r13 = le64(g + 8 * UR_R13);
	r->r12 = le64(g + 8 * UR_R12);
	r->bp = le64(g + 8 * UR_BP);
	r->bx = le64(g + 8 * UR_BX);
	r->r11 = le64(g + 8 * UR_R11);
	r->r10 = le64(g + 8 * UR_R10);
	r->r9 = le64(g + 8 * UR_R9);
	r->r8 = le64(g + 8 * UR_R8);
	r->ax = le64(g + 8 * UR_AX);
	r->cx = le64(g + 8 * UR_CX);
	r->dx = le64(g + 8 * UR_DX);
	r->si = le64(g + 8 * UR_SI);
	r->di = le64(g + 8 * UR_DI);
	r->orig_ax = le64(g + 8 * UR_ORIG_AX);
	r->ip = le64(g + 8 * UR_IP);
	r->cs = le64(g + 8 * UR_CS);
	r->flags = le64(g + 8 * UR_FLAGS);
	r->sp = le64(g + 8 * UR_SP);
	r->ss = le64(g + 8 * UR_SS);
	r->full = true;
}

static void prstatus_offsets(struct ck_analysis *a, uint64_t *reg_off, uint64_t *pid_off)
{
	struct ck_types *t;
	struct ck_member m;
	*reg_off = PRSTATUS_PR_REG_ABI;
	*pid_off = PRSTATUS_PID_ABI;
	struct ck_error *err = ck_analysis_types(a, &t);
	if (err) {
		ck_error_destroy(err);
		return;
	}
	err = ck_member_of(t, "struct elf_prstatus", "pr_reg", &m);
	if (!err)
		*reg_off = m.offset;
	ck_error_destroy(err);
	static const char *const pid[] = { "common.pr_pid", "pr_pid", NULL };
	err = ck_member_of_any(t, "struct elf_prstatus", pid, &m, NULL);
	if (!err)
		*pid_off = m.offset;
	ck_error_destroy(err);
}

struct ck_error *ck_cpu_regs(struct ck_analysis *a, int cpu, struct ck_regs *ret, int32_t *pid)
{
	const struct ck_note *notes;
	size_t nr;
	uint64_t reg_off, pid_off;
	ck_dump_notes(a->dump, &notes, &nr);
	prstatus_offsets(a, &reg_off, &pid_off);
	int n = 0;
	for (size_t i = 0; i < nr; i++) {
		if (notes[i].type != NT_PRSTATUS || strcmp(notes[i].name, "CORE"))
			continue;
		if (n++ != cpu)
			continue;
		if (notes[i].descsz < reg_off + 8 * UR_NR || notes[i].descsz < pid_off + 4)
			return ck_error_create(CK_ERR_FORMAT, "NT_PRSTATUS of CPU %d: %zu bytes",
					       cpu, notes[i].descsz);
		const uint8_t *d = notes[i].desc;
		from_gregset(d + reg_off, ret);
		if (pid) {
			uint32_t v = (uint32_t)d[pid_off] | (uint32_t)d[pid_off + 1] << 8 |
				     (uint32_t)d[pid_off + 2] << 16 | (uint32_t)d[pid_off + 3] << 24;
			*pid = (int32_t)v;
		}
		return NULL;
	}
	return ck_error_create(CK_ERR_NOT_FOUND, "no NT_PRSTATUS note for CPU %d in the dump", cpu);
}

struct ck_error *ck_read_pt_regs(struct ck_analysis *a, uint64_t addr, struct ck_regs *ret)
{
	static const struct {
		const char *name;
		size_t off;
	} regs[] = {
		{ "r15", offsetof(struct ck_regs, r15) }, { "r14", offsetof(struct ck_regs, r14) },
		{ "r13", offsetof(struct ck_regs, r13) }, { "r12", offsetof(struct ck_regs, r12) },
		{ "bp", offsetof(struct ck_regs, bp) },	  { "bx", offsetof(struct ck_regs, bx) },
		{ "r11", offsetof(struct ck_regs, r11) }, { "r10", offsetof(struct ck_regs, r10) },
		{ "r9", offsetof(struct ck_regs, r9) },	  { "r8", offsetof(struct ck_regs, r8) },
		{ "ax", offsetof(struct ck_regs, ax) },	  { "cx", offsetof(struct ck_regs, cx) },
		{ "dx", offsetof(struct ck_regs, dx) },	  { "si", offsetof(struct ck_regs, si) },
		{ "di", offsetof(struct ck_regs, di) },	  { "orig_ax", offsetof(struct ck_regs, orig_ax) },
		{ "ip", offsetof(struct ck_regs, ip) },	  { "cs", offsetof(struct ck_regs, cs) },
		{ "flags", offsetof(struct ck_regs, flags) }, { "sp", offsetof(struct ck_regs, sp) },
		{ "ss", offsetof(struct ck_regs, ss) },
	};
	struct ck_types *t;
	struct ck_error *err = ck_analysis_types(a, &t);
	if (err)
		return err;
	uint32_t id;
	if ((err = ck_type_find(t, "struct pt_regs", &id)))
		return err;
	uint64_t size = ck_type_size(t, id);
	uint8_t buf[512];
	if (size == 0 || size > sizeof(buf))
		return ck_error_create(CK_ERR_FORMAT, "struct pt_regs of %llu bytes",
				       (unsigned long long)size);
	if ((err = ck_kernel_read(a->kernel, addr, buf, size)))
		return err;
	struct ck_regs r = { .full = true };
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		struct ck_member m;
		if ((err = ck_type_member(t, id, regs[i].name, &m)))
			return err;
		/* cs and ss share their word with FRED bits since 6.9: 16 bits */
		uint64_t v = m.offset + 8 <= size ? le64(buf + m.offset) : 0;
		if (m.size == 2 || !strcmp(regs[i].name, "cs") || !strcmp(regs[i].name, "ss"))
			v &= 0xffff;
		memcpy((char *)&r + regs[i].off, &v, sizeof(v));
	}
	*ret = r;
	return NULL;
}
