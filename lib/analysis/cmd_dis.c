/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dis: x86_64 disassembly with capstone, printed in AT&T syntax the way
 * crash shows gdb's (which is objdump's):
 *
 *   0xffffffff81890915 <sysrq_handle_crash+5>:	call   0xffffffff81337670 <__rcu_read_unlock>
 *
 * capstone's own AT&T printer differs from objdump's (size suffixes on
 * every instruction, signed immediates, "(%rax, %rax)"), so the operands
 * are printed here from capstone's decoded details: the mnemonic comes from
 * its Intel printer (no suffixes) and gets objdump's suffix only where no
 * register operand gives the size; memory operands show a displacement when
 * the encoding has one ("0x0(%rax,%rax,1)"); rip-relative operands get
 * gdb's "# address <symbol>" comment.
 *
 *   dis FUNC|ADDR [COUNT]   a whole function (a symbol's start), or COUNT
 *                           instructions (1 for an address inside one)
 *   dis -r ADDR             from the function's start up to ADDR
 *   dis -f ADDR             from ADDR to the function's end
 *   dis -x / -d             offsets in hex / decimal
 *   dis -l                  with the DWARF vmlinux (and mod -s for modules):
 *                           "FILE: LINE" before each instruction that starts
 *                           another source line, as crash does
 *   dis -s                  not supported (source text)
 */
#include <capstone/capstone.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"

/* Bytes of one function read at most, and instructions printed at most. */
#define DIS_MAX_BYTES (1u << 20)
#define DIS_MAX_INSNS 100000
#define X86_MAX_INSN 15

struct dis {
	struct ck_analysis *a;
	csh cs;
	bool hex_offsets;
	bool lines;			/* -l */
	const char *last_file;
	int last_line;
	struct ck_strbuf line;
};

/* -l: the instruction's source line when it differs from the last one. */
static void source_line(struct dis *d, uint64_t addr)
{
	const char *file;
	int line;
	struct ck_error *err = ck_debuginfo_line(d->a, addr, &file, &line);
	if (err) {
		ck_error_destroy(err);
		return;
	}
	if (file == d->last_file && line == d->last_line)
		return;
	fprintf(d->a->out, "%s: %d\n", file, line);
	d->last_file = file;
	d->last_line = line;
}

static void dis_symbol(struct dis *d, uint64_t addr, struct ck_strbuf *s)
{
	struct ck_symbolized sym;	/* vmlinux or a module */
	struct ck_error *err = ck_symbolize(d->a, addr, &sym);
	if (err || (sym.size && sym.offset >= sym.size)) {
		ck_error_destroy(err);
		return;
	}
	uint64_t off = sym.offset;
	if (!off)
		ck_strbuf_addf(s, " <%s>", sym.name);
	else if (d->hex_offsets)
		ck_strbuf_addf(s, " <%s+0x%" PRIx64 ">", sym.name, off);
	else
		ck_strbuf_addf(s, " <%s+%" PRIu64 ">", sym.name, off);
}

static void reg(struct dis *d, x86_reg r, struct ck_strbuf *s)
{
	const char *n = cs_reg_name(d->cs, r);
	ck_strbuf_addf(s, "%%%s", n ? n : "?");
}

static void signed_hex(int64_t v, struct ck_strbuf *s)
{
	if (v < 0)
		ck_strbuf_addf(s, "-0x%" PRIx64, -(uint64_t)v);
	else
		ck_strbuf_addf(s, "0x%" PRIx64, (uint64_t)v);
}

/* Whether the encoding carries a displacement: ModRM mod 1 or 2, or no
 * base register (rip-relative, SIB without base, moffs). */
static bool has_disp(const cs_x86 *x, const x86_op_mem *m)
{
	if (m->base == X86_REG_INVALID || m->base == X86_REG_RIP)
		return true;
	unsigned mod = x->modrm >> 6;
	return mod == 1 || mod == 2 || m->disp != 0;
}

static void mem_operand(struct dis *d, const cs_insn *in, const x86_op_mem *m,
			struct ck_strbuf *s, uint64_t *rip_target)
{
	const cs_x86 *x = &in->detail->x86;
	if (m->segment != X86_REG_INVALID) {
		reg(d, m->segment, s);
		ck_strbuf_adds(s, ":");
	}
	bool regs = m->base != X86_REG_INVALID || m->index != X86_REG_INVALID;
	if (has_disp(x, m) || !regs)
		signed_hex(m->disp, s);
	if (!regs)
		return;
	ck_strbuf_adds(s, "(");
	if (m->base != X86_REG_INVALID)
		reg(d, m->base, s);
	if (m->index != X86_REG_INVALID) {
		ck_strbuf_adds(s, ",");
		reg(d, m->index, s);
		ck_strbuf_addf(s, ",%d", m->scale);
	}
	ck_strbuf_adds(s, ")");
	if (m->base == X86_REG_RIP)
		*rip_target = in->address + in->size + (uint64_t)m->disp;
}

static bool is_branch(const cs_insn *in)
{
	const cs_detail *dt = in->detail;
	for (uint8_t i = 0; i < dt->groups_count; i++)
		if (dt->groups[i] == CS_GRP_JUMP || dt->groups[i] == CS_GRP_CALL)
			return true;
	return false;
}

static char size_suffix(unsigned size)
{
	switch (size) {
	case 1:
		return 'b';
	case 2:
		return 'w';
	case 4:
		return 'l';
	case 8:
		return 'q';
	default:
		return 0;
	}
}

/* objdump's mnemonic for capstone's Intel one. */
static void mnemonic(const cs_insn *in, bool branch, struct ck_strbuf *s)
{
	static const struct { const char *intel, *att; } renamed[] = {
		{ "cdqe", "cltq" }, { "cdq", "cltd" }, { "cqo", "cqto" }, { "cwde", "cwtl" },
		{ "cwd", "cwtd" }, { "cbw", "cbtw" }, { "movsxd", "movslq" },
	};
	/* sized by their name or always the same: no suffix */
	static const char *const fixed[] = {
		"verw", "verr", "lgdt", "sgdt", "lidt", "sidt", "lldt", "sldt", "ltr", "str",
		"lmsw", "smsw", "invlpg", "clflush", "clflushopt", "clwb", "fxsave", "fxrstor",
		"fxsave64", "fxrstor64", "xsave", "xrstor", "xsaves", "xrstors", "xsaveopt",
		"xsave64", "xrstor64", "xsaves64", "xrstors64", "xsaveopt64", "ldmxcsr",
		"stmxcsr", "cmpxchg8b", "cmpxchg16b", "push", "pop", "lea",
		"prefetch", "prefetchw", "prefetcht0", "prefetcht1", "prefetcht2", "prefetchnta",
		"rdrand", "rdseed", "lgs", "lfs", "lss",
	};
	const char *m = in->mnemonic;
	const cs_x86 *x = &in->detail->x86;
	for (size_t i = 0; i < sizeof(renamed) / sizeof(renamed[0]); i++)
		if (!strcmp(m, renamed[i].intel))
			return (void)ck_strbuf_adds(s, renamed[i].att);
	if ((!strcmp(m, "movzx") || !strcmp(m, "movsx")) && x->op_count == 2) {
		ck_strbuf_addf(s, "mov%c%c%c", m[3], size_suffix(x->operands[1].size),
			       size_suffix(x->operands[0].size));
		return;
	}
	ck_strbuf_adds(s, m);
	if (branch || strchr(m, ' ') || !strncmp(m, "set", 3) || m[0] == 'f')
		return;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (!strcmp(m, fixed[i]))
			return;
	if (!strcmp(m, "nop") && x->op_count == 0)
		return;
	unsigned mem_size = 0;
	for (uint8_t i = 0; i < x->op_count; i++) {
		if (x->operands[i].type == X86_OP_REG)
			return;
		if (x->operands[i].type == X86_OP_MEM)
			mem_size = x->operands[i].size;
	}
	char c = size_suffix(mem_size);
	if (c && (strcmp(m, "nop") || mem_size != 0))
		ck_strbuf_addf(s, "%c", c);
}

/* One instruction's text after the tab: "mov    %rsp,%rbp". */
static void insn_text(struct dis *d, const cs_insn *in, bool entry, struct ck_strbuf *s)
{
	const cs_x86 *x = &in->detail->x86;
	if (in->size == 2 && in->bytes[0] == 0x66 && in->bytes[1] == 0x90) {
		ck_strbuf_adds(s, "xchg   %ax,%ax");	/* capstone: "nop" */
		return;
	}
	bool branch = is_branch(in);
	struct ck_strbuf ops = CK_STRBUF_INIT;
	uint64_t rip_target = 0;
	bool has_rip = false;
	for (int i = x->op_count - 1; i >= 0; i--) {
		const cs_x86_op *op = &x->operands[i];
		if (ops.len)
			ck_strbuf_adds(&ops, ",");
		if (branch && op->type != X86_OP_IMM)
			ck_strbuf_adds(&ops, "*");
		if (op->type == X86_OP_REG) {
			reg(d, op->reg, &ops);
		} else if (op->type == X86_OP_IMM && branch) {
			ck_strbuf_addf(&ops, "0x%" PRIx64, (uint64_t)op->imm);
			dis_symbol(d, (uint64_t)op->imm, &ops);
		} else if (op->type == X86_OP_IMM) {
			uint64_t v = (uint64_t)op->imm;
			if (op->size && op->size < 8)
				v &= (UINT64_C(1) << (8 * op->size)) - 1;
			ck_strbuf_addf(&ops, "$0x%" PRIx64, v);
		} else if (op->type == X86_OP_MEM) {
			mem_operand(d, in, &op->mem, &ops, &rip_target);
			has_rip |= op->mem.base == X86_REG_RIP;
		}
	}
	struct ck_strbuf mn = CK_STRBUF_INIT;
	mnemonic(in, branch, &mn);
	if (ops.len)
		ck_strbuf_addf(s, "%-6s %s", mn.buf ? mn.buf : "", ops.buf);
	else
		ck_strbuf_adds(s, mn.buf ? mn.buf : "");
	if (has_rip) {
		/* gdb names only what lies in the image: not the per-cpu
		 * offsets that %gs-relative operands reach */
		char name[512];
		struct ck_symbolized sym;
		ck_strbuf_addf(s, "        # 0x%" PRIx64, rip_target);
		struct ck_error *err = ck_symbolize(d->a, rip_target, &sym);
		if (ck_typefmt_symbol_name(d->a, rip_target, name, sizeof(name)) ||
		    (!err && sym.module))
			dis_symbol(d, rip_target, s);
		ck_error_destroy(err);
	}
	/* the 5-byte nop that ftrace patches into a call at a function's entry */
	static const uint8_t nop5[] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };
	if (entry && in->size == 5 && !memcmp(in->bytes, nop5, 5))
		ck_strbuf_adds(s, " [FTRACE NOP]");
	ck_strbuf_deinit(&ops);
	ck_strbuf_deinit(&mn);
}

/* Where a function's code ends: kallsyms' size runs to the next symbol,
 * over the nops that align it (gdb stops at the ELF symbol's size, which
 * the dump does not have); the int3 after a ret is the function's own. */
static uint64_t code_end(struct dis *d, cs_insn *in, const uint8_t *buf, size_t len,
			 uint64_t start)
{
	const uint8_t *code = buf;
	uint64_t addr = start, end = start;
	size_t left = len;
	for (unsigned n = 0; in && n < DIS_MAX_INSNS && left &&
	     cs_disasm_iter(d->cs, &code, &left, &addr, in); n++) {
		if (strncmp(in->mnemonic, "nop", 3) && strcmp(in->mnemonic, "xchg") &&
		    strncmp(in->mnemonic, "data16", 6))
			end = addr;
		else if (!strcmp(in->mnemonic, "xchg") && strcmp(in->op_str, "ax, ax"))
			end = addr;
	}
	return end > start ? end : start + len;
}

/* Disassembles [start, end) or count instructions from start (count 0:
 * up to end); stops after the instruction holding `until` if nonzero. */
static int dis_range(struct dis *d, uint64_t start, uint64_t end, uint64_t count,
		     uint64_t until)
{
	if (end <= start || end - start > DIS_MAX_BYTES)
		end = start + (count ? count * X86_MAX_INSN : X86_MAX_INSN);
	if (end - start > DIS_MAX_BYTES)
		end = start + DIS_MAX_BYTES;
	size_t len = end - start;
	uint8_t *buf = malloc(len);
	if (!buf)
		return ck_analysis_fail(d->a, "dis", &ck_error_nomem);
	/* the range may run into a missing page: read what is there */
	size_t have = 0;
	while (have < len) {
		size_t chunk = 4096 - ((start + have) & 4095);
		if (chunk > len - have)
			chunk = len - have;
		struct ck_error *err = ck_kernel_read(d->a->kernel, start + have, buf + have, chunk);
		if (err) {
			if (!have) {
				free(buf);
				return ck_analysis_fail(d->a, "dis", err);
			}
			ck_error_destroy(err);
			break;
		}
		have += chunk;
	}
	cs_insn *in = cs_malloc(d->cs);
	uint64_t stop = count || until ? UINT64_MAX : code_end(d, in, buf, have, start);
	const uint8_t *code = buf;
	uint64_t addr = start, done = 0;
	while (in && have && done < DIS_MAX_INSNS && (!count || done < count) &&
	       addr < stop && cs_disasm_iter(d->cs, &code, &have, &addr, in)) {
		if (d->lines)
			source_line(d, in->address);
		ck_strbuf_reset(&d->line);
		ck_strbuf_addf(&d->line, "0x%" PRIx64, in->address);
		dis_symbol(d, in->address, &d->line);
		ck_strbuf_adds(&d->line, ":\t");
		struct ck_symbolized sym;
		struct ck_error *err = ck_symbolize(d->a, in->address, &sym);
		insn_text(d, in, !err && sym.offset == 0, &d->line);
		ck_error_destroy(err);
		fprintf(d->a->out, "%s\n", d->line.buf ? d->line.buf : "");
		done++;
		if (until && in->address + in->size > until)
			break;
	}
	if (in)
		cs_free(in, 1);
	free(buf);
	return 0;
}

int ck_acmd_dis(struct ck_analysis *a, int argc, char **argv)
{
	bool reverse = false, forward = false, hex = false, lines = false;
	const char *where = NULL, *count_arg = NULL;
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];
		if (!strcmp(w, "-r")) {
			reverse = true;
		} else if (!strcmp(w, "-f")) {
			forward = true;
		} else if (!strcmp(w, "-x")) {
			hex = true;
		} else if (!strcmp(w, "-d")) {
			hex = false;
		} else if (!strcmp(w, "-l") && ck_debuginfo_present(a)) {
			lines = true;
		} else if (!strcmp(w, "-l")) {
			fprintf(a->err, "dis: -l needs the DWARF line tables: give the vmlinux\n");
			return 1;
		} else if (!strcmp(w, "-s")) {
			fprintf(a->err, "dis: -s (source text) is not supported\n");
			return 1;
		} else if (w[0] == '-' && w[1]) {
			fprintf(a->err, "dis: unsupported option: %s\n", w);
			return 1;
		} else if (!where) {
			where = w;
		} else {
			count_arg = w;
		}
	}
	if (!where) {
		fprintf(a->err, "dis: an address or symbol is needed\n");
		return 1;
	}
	uint64_t addr, count = 0;
	struct ck_error *err = ck_typefmt_address(a, where, &addr);
	if (err)
		return ck_analysis_fail(a, "dis", err);
	if (count_arg) {
		char *end;
		count = strtoull(count_arg, &end, 0);
		if (*end || count == 0) {
			fprintf(a->err, "dis: invalid count: %s\n", count_arg);
			return 1;
		}
	}
	struct ck_symbolized sym = { 0 };
	err = ck_symbolize(a, addr, &sym);
	if (err) {
		ck_error_destroy(err);
		sym.address = addr;
		sym.size = 0;
	}
	struct dis d = { .a = a, .hex_offsets = hex, .lines = lines, .line = CK_STRBUF_INIT };
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &d.cs) != CS_ERR_OK) {
		fprintf(a->err, "dis: capstone cannot disassemble x86_64\n");
		return 1;
	}
	cs_option(d.cs, CS_OPT_DETAIL, CS_OPT_ON);
	uint64_t fend = sym.size ? sym.address + sym.size : 0;
	int rc;
	if (reverse)
		rc = dis_range(&d, sym.address, addr + X86_MAX_INSN, 0, addr);
	else if (forward)
		rc = dis_range(&d, addr, fend, 0, 0);
	else if (count)
		rc = dis_range(&d, addr, 0, count, 0);
	else if (addr == sym.address && fend)
		rc = dis_range(&d, addr, fend, 0, 0);
	else
		rc = dis_range(&d, addr, 0, 1, 0);
	cs_close(&d.cs);
	ck_strbuf_deinit(&d.line);
	return rc;
}
