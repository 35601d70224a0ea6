/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The x86_64 unwinder behind `bt` (docs/analysis.md, "Unwinding").
 *
 * Where a trace starts, as crash starts it:
 *  - the panic task of a kdump: its NT_PRSTATUS registers were taken in
 *    __crash_kexec, but the trace starts at the lowest return address into
 *    machine_kexec on its stack (the call into relocate_kernel), so that
 *    machine_kexec and __crash_kexec are frames of their own;
 *  - another task running at the crash: the lowest return address into
 *    crash_nmi_callback on its stack, its CPU's IRQ stack or its
 *    exception stacks (the crash NMI stopped it there);
 *  - else, for a running task, the CPU's note (QEMU's live registers):
 *    kernel-mode registers are shown as an exception frame and unwound,
 *    user-mode ones end the trace there;
 *  - a sleeping task: thread.sp points at its inactive_task_frame, whose
 *    ret_addr (into __schedule, or ret_from_fork) is frame #0.
 * Each step then follows the ORC entry of the return address (frame
 * pointers where no entry covers it): CALL frames give the next return
 * address, REGS and REGS_PARTIAL a pt_regs (an exception frame in the
 * kernel, the user-mode registers at the bottom).  The stack pointer must
 * grow within a stack and may move only to a stack not visited yet (the
 * task's, its CPU's IRQ stack and exception stacks); at most
 * CK_UNWIND_MAX_FRAMES frames.
 */
#include <bpf/btf.h>
#include <stdarg.h>
#include <string.h>

#include "analysis/analysis.h"
#include "base/vector.h"

CK_DEFINE_VECTOR(frame_vec, struct ck_frame)

#define THREAD_SIZE_DEFAULT 16384
#define MAX_STACKS 12

struct stack {
	uint64_t lo, hi;
	char name[24];		/* crash's: "IRQ", "NMI", "DOUBLEFAULT", ... */
};

struct unwinder {
	struct ck_analysis *a;
	struct ck_orc *orc;
	struct ck_types *types;
	struct frame_vec frames;
	struct stack stacks[MAX_STACKS];
	int nr_stacks;
	unsigned visited;
	bool failed;		/* out of memory */
	/* state */
	uint64_t ip, sp, bp;
	struct ck_regs regs;
	bool full, signal;
	int cur;		/* stack of sp */
};

static struct ck_frame *add(struct unwinder *u, enum ck_frame_kind kind)
{
	struct ck_frame *f = frame_vec_append_entry(&u->frames);
	if (!f) {
		u->failed = true;
		return NULL;
	}
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	return f;
}

static void note(struct unwinder *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct unwinder *u, const char *fmt, ...)
{
	struct ck_frame *f = add(u, CK_FRAME_NOTE);
	if (!f)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->text, sizeof(f->text), fmt, ap);
	va_end(ap);
}

static int stack_of(const struct unwinder *u, uint64_t addr)
{
	for (int i = 0; i < u->nr_stacks; i++)
		if (addr >= u->stacks[i].lo && addr < u->stacks[i].hi)
			return i;
	return -1;
}

static void add_stack(struct unwinder *u, uint64_t lo, uint64_t hi, const char *name)
{
	if (u->nr_stacks >= MAX_STACKS || hi <= lo)
		return;
	struct stack *s = &u->stacks[u->nr_stacks++];
	s->lo = lo;
	s->hi = hi;
	snprintf(s->name, sizeof(s->name), "%s", name);
}

static uint64_t thread_size(struct unwinder *u)
{
	uint32_t id;
	struct ck_error *err = ck_type_find(u->types, "union thread_union", &id);
	if (err) {
		ck_error_destroy(err);
		return THREAD_SIZE_DEFAULT;
	}
	uint64_t size = ck_type_size(u->types, id);
	return size >= 4096 && size <= (1u << 20) ? size : THREAD_SIZE_DEFAULT;
}

/* A per-cpu variable's address on cpu, or a member of it ("pcpu_hot"). */
static struct ck_error *percpu_addr(struct unwinder *u, int cpu, const char *var,
				    const char *type, const char *member, uint64_t *ret)
{
	uint64_t addr, off;
	uint32_t id;
	struct ck_error *err = ck_global(u->a->kernel, u->types, var, &addr, &id);
	if (!err)
		err = ck_percpu_offset(u->a, cpu, &off);
	if (err)
		return err;
	if (member) {
		struct ck_member m;
		if ((err = ck_member_of(u->types, type, member, &m)))
			return err;
		addr += m.offset;
	}
	*ret = addr + off;
	return NULL;
}

/* hardirq_stack_ptr (per-cpu; pcpu_hot's member from 6.2 to 6.14) points
 * 8 bytes below the top of a struct irq_stack. */
static void add_irq_stack(struct unwinder *u, int cpu)
{
	uint64_t addr, top;
	uint32_t id;
	struct ck_error *err = percpu_addr(u, cpu, "hardirq_stack_ptr", NULL, NULL, &addr);
	if (err) {
		ck_error_destroy(err);
		err = percpu_addr(u, cpu, "pcpu_hot", "struct pcpu_hot", "hardirq_stack_ptr", &addr);
	}
	if (!err)
		err = ck_kernel_read_u64(u->a->kernel, addr, &top);
	if (!err)
		err = ck_type_find(u->types, "struct irq_stack", &id);
	if (err) {
		ck_error_destroy(err);
		return;
	}
	uint64_t size = ck_type_size(u->types, id);
	if (top && size && size <= (1u << 20))
		add_stack(u, top + 8 - size, top + 8, "IRQ");
}

static const char *estack_name(const char *member)
{
	static const struct { const char *prefix, *name; } names[] = {
		{ "DF_", "DOUBLEFAULT" }, { "NMI_", "NMI" }, { "DB_", "DEBUG" },
		{ "MCE_", "MCE" }, { "VC_", "VC" }, { "VC2_", "VC2" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strncmp(member, names[i].prefix, strlen(names[i].prefix)))
			return names[i].name;
	return member;
}

/* The per-cpu cea_exception_stacks: each *_stack member of struct
 * cea_exception_stacks (the guard pages left out). */
static void add_exception_stacks(struct unwinder *u, int cpu)
{
	uint64_t addr, base;
	uint32_t id;
	struct ck_error *err = percpu_addr(u, cpu, "cea_exception_stacks", NULL, NULL, &addr);
	if (!err)
		err = ck_kernel_read_u64(u->a->kernel, addr, &base);
	if (!err)
		err = ck_type_find(u->types, "struct cea_exception_stacks", &id);
	if (err) {
		ck_error_destroy(err);
		return;
	}
	const struct btf *btf = ck_types_btf(u->types);
	const struct btf_type *t = btf__type_by_id(btf, ck_type_resolve(u->types, id));
	if (!base || !t || !btf_is_struct(t))
		return;
	const struct btf_member *m = btf_members(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
		const char *name = btf__name_by_offset(btf, m->name_off);
		size_t n = name ? strlen(name) : 0;
		if (n < 6 || strcmp(name + n - 6, "_stack"))
			continue;
		uint64_t size = ck_type_size(u->types, m->type);
		uint64_t lo = base + btf_member_bit_offset(t, i) / 8;
		add_stack(u, lo, lo + size, estack_name(name));
	}
}

static void collect_stacks(struct unwinder *u, const struct ck_task *task, int cpu)
{
	add_stack(u, task->stack, task->stack + thread_size(u), "process");
	if (cpu < 0)
		return;
	add_irq_stack(u, cpu);
	add_exception_stacks(u, cpu);
}

static bool read_word(struct unwinder *u, uint64_t addr, uint64_t *ret)
{
	struct ck_error *err = ck_kernel_read_u64(u->a->kernel, addr, ret);
	if (!err)
		return true;
	note(u, "cannot read the stack at %llx: %s", (unsigned long long)addr,
	     ck_error_message(err));
	ck_error_destroy(err);
	return false;
}

/* Moves sp to new_sp: up within its stack, or onto a stack not visited. */
static bool move_sp(struct unwinder *u, uint64_t new_sp, bool may_leave)
{
	int s = stack_of(u, new_sp);
	if (s < 0)
		s = stack_of(u, new_sp - 1);	/* sp at the very top of a stack */
	if (s < 0) {
		note(u, "stack pointer %llx is outside the task's stacks",
		     (unsigned long long)new_sp);
		return false;
	}
	if (s == u->cur && new_sp <= u->sp) {
		note(u, "stack pointer %llx does not grow (was %llx)", (unsigned long long)new_sp,
		     (unsigned long long)u->sp);
		return false;
	}
	if (s != u->cur) {
		if (!may_leave || (u->visited & (1u << s))) {
			note(u, "stack pointer %llx goes back to a stack already left",
			     (unsigned long long)new_sp);
			return false;
		}
		struct ck_frame *f = add(u, CK_FRAME_STACK);
		if (f)
			snprintf(f->text, sizeof(f->text), "%s", u->stacks[u->cur].name);
		u->visited |= 1u << s;
		u->cur = s;
	}
	u->sp = new_sp;
	return true;
}

static bool reg_value(struct unwinder *u, enum ck_orc_reg r, uint64_t *ret)
{
	if (!u->full)
		return false;
	switch (r) {
	case CK_ORC_REG_DX: *ret = u->regs.dx; return true;
	case CK_ORC_REG_DI: *ret = u->regs.di; return true;
	case CK_ORC_REG_R10: *ret = u->regs.r10; return true;
	case CK_ORC_REG_R13: *ret = u->regs.r13; return true;
	default: return false;
	}
}

/* The CFA (previous sp, or the pt_regs for REGS) of the entry at sp/bp. */
static bool cfa_of(struct unwinder *u, const struct ck_orc_entry *e, uint64_t *ret)
{
	uint64_t v;
	switch (e->sp_reg) {
	case CK_ORC_REG_SP:
		*ret = u->sp + e->sp_offset;
		return true;
	case CK_ORC_REG_BP:
		*ret = u->bp + e->sp_offset;
		return true;
	case CK_ORC_REG_SP_INDIRECT:
		if (!read_word(u, u->sp, &v))
			return false;
		*ret = v + e->sp_offset;
		return true;
	case CK_ORC_REG_BP_INDIRECT:
		if (!read_word(u, u->bp + e->sp_offset, &v))
			return false;
		*ret = v;
		return true;
	default:
		if (reg_value(u, e->sp_reg, &v)) {
			*ret = v + e->sp_offset;
			return true;
		}
		note(u, "ORC at %llx: base register %d not known here", (unsigned long long)u->ip,
		     (int)e->sp_reg);
		return false;
	}
}

static void add_call(struct unwinder *u, uint64_t slot, uint64_t ip)
{
	struct ck_frame *f = add(u, CK_FRAME_CALL);
	if (f) {
		f->slot = slot;
		f->ip = ip;
		f->sp = slot + 8;
	}
}

/* A pt_regs at addr: the user frame ends the trace (false), a kernel one
 * is shown and unwinding goes on from its registers. */
static bool regs_frame(struct unwinder *u, uint64_t addr)
{
	struct ck_regs r;
	struct ck_error *err = ck_read_pt_regs(u->a, addr, &r);
	if (err) {
		note(u, "cannot read the registers at %llx: %s", (unsigned long long)addr,
		     ck_error_message(err));
		ck_error_destroy(err);
		return false;
	}
	if (r.cs & 3) {
		struct ck_frame *f = add(u, CK_FRAME_USER);
		if (f)
			f->regs = r;
		return false;
	}
	struct ck_frame *f = add(u, CK_FRAME_EXCEPTION);
	if (f)
		f->regs = r;
	if (!ck_orc_is_text(u->orc, r.ip)) {
		note(u, "exception RIP %llx is not kernel text", (unsigned long long)r.ip);
		return false;
	}
	if (!move_sp(u, r.sp, true))
		return false;
	u->ip = r.ip;
	u->bp = r.bp;
	u->regs = r;
	u->full = true;
	u->signal = true;
	return true;
}

/* Whether the instruction before ret is a call of func (its start), or an
 * indirect call (a retpoline thunk, or ff /2). */
static bool called_from(struct unwinder *u, uint64_t ret, uint64_t func)
{
	uint8_t code[7];
	struct ck_error *err = ck_kernel_read(u->a->kernel, ret - 7, code, sizeof(code));
	if (err) {
		ck_error_destroy(err);
		return false;
	}
	if (code[2] == 0xe8) {
		int32_t rel = (int32_t)((uint32_t)code[3] | (uint32_t)code[4] << 8 |
					(uint32_t)code[5] << 16 | (uint32_t)code[6] << 24);
		uint64_t target = ret + (uint64_t)(int64_t)rel;
		if (target == func)
			return true;
		struct ck_symbol s;
		err = ck_kernel_symbol_by_address(u->a->kernel, target, &s);
		if (err) {
			ck_error_destroy(err);
			return false;
		}
		return s.address == target && (!strncmp(s.name, "__x86_indirect_thunk", 20) ||
					       !strncmp(s.name, "__x86_indirect_call", 19));
	}
	/* call *%reg (ff d0+r, 41 ff d0+r) */
	return (code[5] == 0xff && (code[6] & 0xf8) == 0xd0);
}

/*
 * No ORC data at ip (objtool leaves some code after a call undefined, as
 * __crash_kexec's call of machine_kexec on 6.1): the next return address is
 * the lowest word above sp that returns to a call of ip's function.  crash
 * finds the same frames by its own frame-size reckoning.
 */
static bool scan_caller(struct unwinder *u)
{
	struct ck_symbol fn;
	struct ck_error *err = ck_kernel_symbol_by_address(u->a->kernel, u->ip, &fn);
	if (err) {
		note(u, "no unwind information at %llx", (unsigned long long)u->ip);
		ck_error_destroy(err);
		return false;
	}
	uint64_t hi = u->stacks[u->cur].hi;
	for (uint64_t a = u->sp; a + 8 <= hi && a < u->sp + 4096; a += 8) {
		uint64_t v;
		struct ck_error *e = ck_kernel_read_u64(u->a->kernel, a, &v);
		if (e) {
			ck_error_destroy(e);
			break;
		}
		if (!ck_orc_is_text(u->orc, v) || !called_from(u, v, fn.address))
			continue;
		if (!move_sp(u, a + 8, false))
			return false;
		add_call(u, a, v);
		u->ip = v;
		u->full = false;
		u->signal = false;
		return true;
	}
	note(u, "no unwind information at %llx", (unsigned long long)u->ip);
	return false;
}

/* One step from (ip, sp, bp): false when the trace ends. */
static bool step(struct unwinder *u)
{
	struct ck_orc_entry e;
	bool found;
	struct ck_error *err = ck_orc_find(u->orc, u->signal ? u->ip : u->ip - 1, &found, &e);
	if (err) {
		note(u, "cannot read the ORC entry of %llx: %s", (unsigned long long)u->ip,
		     ck_error_message(err));
		ck_error_destroy(err);
		return false;
	}
	if (!found) {		/* the kernel's orc_fp_entry: frame pointers */
		e = (struct ck_orc_entry){ .sp_offset = 16, .bp_offset = -16,
					   .sp_reg = CK_ORC_REG_BP, .bp_reg = CK_ORC_REG_PREV_SP,
					   .type = CK_ORC_TYPE_CALL };
		if (stack_of(u, u->bp) < 0) {
			note(u, "no ORC entry for %llx and no frame pointer",
			     (unsigned long long)u->ip);
			return false;
		}
	}
	if (e.type == CK_ORC_TYPE_END_OF_STACK)
		return false;
	if (e.type == CK_ORC_TYPE_UNDEFINED || e.sp_reg == CK_ORC_REG_UNDEFINED)
		return scan_caller(u);
	uint64_t cfa;
	if (!cfa_of(u, &e, &cfa))
		return false;
	if (e.type == CK_ORC_TYPE_REGS || e.type == CK_ORC_TYPE_REGS_PARTIAL) {
		uint64_t regs = cfa;
		if (e.type == CK_ORC_TYPE_REGS_PARTIAL) {
			struct ck_member m;
			err = ck_member_of(u->types, "struct pt_regs", "ip", &m);
			if (err) {
				note(u, "%s", ck_error_message(err));
				ck_error_destroy(err);
				return false;
			}
			regs = cfa - m.offset;
		}
		return regs_frame(u, regs);
	}
	uint64_t ip, bp = u->bp;
	if (!read_word(u, cfa - 8, &ip))
		return false;
	if (e.bp_reg == CK_ORC_REG_PREV_SP && !read_word(u, cfa + e.bp_offset, &bp))
		return false;
	if (e.bp_reg == CK_ORC_REG_BP && !read_word(u, u->bp + e.bp_offset, &bp))
		return false;
	if (!move_sp(u, cfa, true))
		return false;
	if (!ck_orc_is_text(u->orc, ip)) {
		note(u, "return address %llx at %llx is not kernel text", (unsigned long long)ip,
		     (unsigned long long)(cfa - 8));
		return false;
	}
	add_call(u, cfa - 8, ip);
	u->ip = ip;
	u->bp = bp;
	u->full = false;
	u->signal = false;
	return true;
}

/* The lowest slot of stack s holding a return address into one of names. */
static bool scan_stack(struct unwinder *u, int s, const char *const *names, uint64_t *slot,
		       uint64_t *ip)
{
	uint64_t buf[512];
	for (uint64_t a = u->stacks[s].lo; a < u->stacks[s].hi; a += sizeof(buf)) {
		size_t n = sizeof(buf);
		if (u->stacks[s].hi - a < n)
			n = u->stacks[s].hi - a;
		struct ck_error *err = ck_kernel_read(u->a->kernel, a, buf, n);
		if (err) {
			ck_error_destroy(err);
			continue;
		}
		for (size_t i = 0; i < n / 8; i++) {
			struct ck_symbol sym;
			if (!ck_orc_is_text(u->orc, buf[i]))
				continue;
			err = ck_kernel_symbol_by_address(u->a->kernel, buf[i], &sym);
			if (err) {
				ck_error_destroy(err);
				continue;
			}
			for (size_t k = 0; names[k]; k++) {
				if (strcmp(sym.name, names[k]))
					continue;
				*slot = a + 8 * i;
				*ip = buf[i];
				return true;
			}
		}
	}
	return false;
}

static void start_at_slot(struct unwinder *u, int s, uint64_t slot, uint64_t ip, uint64_t bp)
{
	u->cur = s;
	u->visited = 1u << s;
	u->sp = slot + 8;
	u->ip = ip;
	u->bp = bp;
	u->signal = false;
	u->full = false;
	add_call(u, slot, ip);
}

/* A running task: the kexec or crash NMI return address, else the note. */
static bool start_running(struct unwinder *u, const struct ck_task *task, int cpu, bool panic)
{
	static const char *const kexec[] = { "machine_kexec", NULL };
	static const char *const nmi[] = { "crash_nmi_callback", NULL };
	struct ck_regs r;
	struct ck_error *err = ck_cpu_regs(u->a, cpu, &r, NULL);
	bool have = !err;
	ck_error_destroy(err);
	uint64_t slot, ip;
	for (int s = 0; s < u->nr_stacks; s++) {
		if ((panic && scan_stack(u, s, kexec, &slot, &ip)) ||
		    (!panic && scan_stack(u, s, nmi, &slot, &ip))) {
			start_at_slot(u, s, slot, ip, have ? r.bp : 0);
			return true;
		}
	}
	if (!have) {
		note(u, "no registers for CPU %d in the dump", cpu);
		return false;
	}
	if (r.cs & 3) {
		struct ck_frame *f = add(u, CK_FRAME_USER_NOTE);
		if (f)
			f->regs = r;
		return false;
	}
	struct ck_frame *f = add(u, CK_FRAME_START_REGS);
	if (f)
		f->regs = r;
	int s = stack_of(u, r.sp);
	if (s < 0) {
		note(u, "RSP %llx of CPU %d is outside the task's stacks", (unsigned long long)r.sp,
		     cpu);
		return false;
	}
	u->cur = s;
	u->visited = 1u << s;
	u->ip = r.ip;
	u->sp = r.sp;
	u->bp = r.bp;
	u->regs = r;
	u->full = true;
	u->signal = true;
	return true;
}

static bool start_sleeping(struct unwinder *u, const struct ck_task *task)
{
	struct ck_member sp, ret, bp;
	uint64_t frame, ip, fbp;
	struct ck_error *err = ck_member_of(u->types, "struct task_struct", "thread.sp", &sp);
	if (!err)
		err = ck_member_of(u->types, "struct inactive_task_frame", "ret_addr", &ret);
	if (!err)
		err = ck_member_of(u->types, "struct inactive_task_frame", "bp", &bp);
	if (!err)
		err = ck_kernel_read_u64(u->a->kernel, task->addr + sp.offset, &frame);
	if (!err)
		err = ck_kernel_read_u64(u->a->kernel, frame + ret.offset, &ip);
	if (!err)
		err = ck_kernel_read_u64(u->a->kernel, frame + bp.offset, &fbp);
	if (err) {
		note(u, "cannot read the task's switch frame: %s", ck_error_message(err));
		ck_error_destroy(err);
		return false;
	}
	int s = stack_of(u, frame + ret.offset);
	if (s != 0) {
		note(u, "thread.sp %llx is outside the task's stack", (unsigned long long)frame);
		return false;
	}
	start_at_slot(u, s, frame + ret.offset, ip, fbp);
	return true;
}

struct ck_error *ck_unwind_task(struct ck_analysis *a, struct ck_orc *orc,
				const struct ck_task *task, struct ck_trace *ret)
{
	struct unwinder u = { .a = a, .orc = orc };
	struct ck_error *err = ck_analysis_types(a, &u.types);
	if (err)
		return err;
	/* the panic task is the one running on panic_cpu */
	int32_t panic_cpu = -1;
	err = ck_kernel_panic_cpu(a->kernel, &panic_cpu);
	ck_error_destroy(err);
	int cpu = task->active ? task->cpu : -1;
	frame_vec_init(&u.frames);
	collect_stacks(&u, task, cpu);
	bool go = cpu >= 0 ? start_running(&u, task, cpu, cpu == panic_cpu)
			   : start_sleeping(&u, task);
	while (go && !u.failed) {
		size_t calls = 0;
		for (size_t i = 0; i < u.frames.size; i++)
			calls += u.frames.data[i].kind == CK_FRAME_CALL;
		if (calls >= CK_UNWIND_MAX_FRAMES) {
			note(&u, "more than %d frames: the rest is left out", CK_UNWIND_MAX_FRAMES);
			break;
		}
		go = step(&u);
	}
	if (u.failed) {
		frame_vec_deinit(&u.frames);
		return &ck_error_nomem;
	}
	memset(ret, 0, sizeof(*ret));
	ret->cpu = cpu;
	ret->stack_base = u.stacks[0].lo;
	ret->stack_top = u.stacks[0].hi;
	ret->frames = frame_vec_steal(&u.frames, &ret->nr);
	return NULL;
}

void ck_trace_deinit(struct ck_trace *trace)
{
	free(trace->frames);
	memset(trace, 0, sizeof(*trace));
}
