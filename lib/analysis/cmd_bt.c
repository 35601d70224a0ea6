/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bt [-a|-c CPU] [-t] [-f] [-s] [-x] [-l] [PID|TASK ...]: backtraces in
 * crash's layout (unwind_x86_64.c finds the frames):
 *
 *   PID: 119      TASK: ffff89cc821de100  CPU: 0    COMMAND: "ck_crash"
 *    #0 [ffffd21700423bc8] machine_kexec at ffffffff8127754f
 *    ...
 *   #10 [ffffd21700423f50] entry_SYSCALL_64_after_hwframe at ffffffff81e00126
 *       RIP: 0000000000431c10  RSP: 00007ffec735bd48  RFLAGS: 00000202
 *       ...
 *       ORIG_RAX: 0000000000000001  CS: 0033  SS: 002b
 *
 * The address in brackets is the stack slot that holds the return address
 * (crash's).  -s adds +offset (decimal; hex with -x), -f the stack words of
 * each frame, -t every text address on the stack from the trace's start,
 * -a every CPU's running task, -c those of the listed CPUs.  --json: one
 * object with a "tasks" array.
 */
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"

enum {
	BT_ALL = 1 << 0,	/* -a */
	BT_TEXT = 1 << 1,	/* -t */
	BT_FRAME = 1 << 2,	/* -f */
	BT_SYMOFF = 1 << 3,	/* -s */
	BT_HEX = 1 << 4,	/* -x */
	BT_CPU = 1 << 5,	/* -c */
	BT_LINES = 1 << 6,	/* -l */
};

#define BT_MAX_TASKS 65536

struct bt {
	struct ck_analysis *a;
	struct ck_orc *orc;
	unsigned flags;
	json_object *json;	/* the tasks array with --json */
	int printed;
};

static int usage(struct ck_analysis *a)
{
	fprintf(a->err, "Usage: bt [-a|-c cpu(s)] [-t] [-f] [-s] [-x] [-l] [pid | task] ...\n");
	return 1;
}

/* "func", "func+off" (-s) and " [module]". */
/* NAME[+OFF] of ip; a module's name follows as " [MODULE]" unless
 * module_ret takes it (crash puts it after a frame's address and leaves it
 * out of an exception RIP). */
static void sym_text(struct bt *b, uint64_t ip, bool offset, char *buf, size_t size,
		     const char **module_ret)
{
	struct ck_symbolized s;
	if (module_ret)
		*module_ret = NULL;
	struct ck_error *err = ck_symbolize(b->a, ip, &s);
	if (err) {
		ck_error_destroy(err);
		snprintf(buf, size, "(unknown)");
		return;
	}
	int n;
	if (offset && s.offset)
		n = snprintf(buf, size, (b->flags & BT_HEX) ? "%s+0x%" PRIx64 : "%s+%" PRIu64,
			     s.name, s.offset);
	else
		n = snprintf(buf, size, "%s", s.name);
	if (module_ret)
		*module_ret = s.module;
	else if (s.module && n >= 0 && (size_t)n < size)
		snprintf(buf + n, size - n, " [%s]", s.module);
}

static void print_regs6(FILE *f, const struct ck_regs *r)
{
	fprintf(f, "    RIP: %016" PRIx64 "  RSP: %016" PRIx64 "  RFLAGS: %08" PRIx64 "\n",
		r->ip, r->sp, r->flags);
	fprintf(f, "    RAX: %016" PRIx64 "  RBX: %016" PRIx64 "  RCX: %016" PRIx64 "\n",
		r->ax, r->bx, r->cx);
	fprintf(f, "    RDX: %016" PRIx64 "  RSI: %016" PRIx64 "  RDI: %016" PRIx64 "\n",
		r->dx, r->si, r->di);
	fprintf(f, "    RBP: %016" PRIx64 "   R8: %016" PRIx64 "   R9: %016" PRIx64 "\n",
		r->bp, r->r8, r->r9);
	fprintf(f, "    R10: %016" PRIx64 "  R11: %016" PRIx64 "  R12: %016" PRIx64 "\n",
		r->r10, r->r11, r->r12);
	fprintf(f, "    R13: %016" PRIx64 "  R14: %016" PRIx64 "  R15: %016" PRIx64 "\n",
		r->r13, r->r14, r->r15);
}

static void print_line(struct bt *b, uint64_t ip);

static void print_exception(struct bt *b, const struct ck_frame *fr)
{
	FILE *f = b->a->out;
	char name[160];
	const struct ck_regs *r = &fr->regs;
	if (fr->kind == CK_FRAME_USER_NOTE) {
		fprintf(f, "    [exception RIP: user space]\n");
	} else if (fr->kind != CK_FRAME_USER) {
		const char *module;
		sym_text(b, r->ip, true, name, sizeof(name), &module);
		fprintf(f, "    [exception RIP: %s]\n", name);
	}
	print_regs6(f, r);
	if (fr->kind == CK_FRAME_START_REGS || fr->kind == CK_FRAME_USER_NOTE)
		fprintf(f, "    CS: %04" PRIx64 "  SS: %04" PRIx64 "\n", r->cs, r->ss);
	else
		fprintf(f, "    ORIG_RAX: %016" PRIx64 "  CS: %04" PRIx64 "  SS: %04" PRIx64 "\n",
			r->orig_ax, r->cs, r->ss);
	/* -l: the interrupted code's line, as crash prints it, where there
	 * is one (a module's only with its debug file loaded) */
	if ((b->flags & BT_LINES) && fr->kind == CK_FRAME_EXCEPTION)
		print_line(b, r->ip);
}

/* -f: the words from above slot up to and including the next frame's. */
static void frame_data(struct bt *b, uint64_t from, uint64_t to)
{
	FILE *f = b->a->out;
	if (to < from || to - from > 0x10000)
		return;
	int col = 0;
	for (uint64_t a = from; a <= to; a += 8) {
		uint64_t v;
		struct ck_error *err = ck_kernel_read_u64(b->a->kernel, a, &v);
		if (col == 0)
			fprintf(f, "    %" PRIx64 ": ", a);
		if (err) {
			ck_error_destroy(err);
			fprintf(f, "%16s ", "????????????????");
		} else {
			fprintf(f, "%016" PRIx64 " ", v);
		}
		if (++col == 2 || a + 8 > to) {
			fprintf(f, "\n");
			col = 0;
		}
	}
}

/* -l: the frame's "FILE: LINE" from the DWARF vmlinux, as crash prints it
 * (the address as shown, not the call's); nothing where there is no line
 * (module frames, code without DWARF). */
static void print_line(struct bt *b, uint64_t ip)
{
	const char *file;
	int line;
	struct ck_error *err = ck_debuginfo_line(b->a, ip, &file, &line);
	if (err) {
		ck_error_destroy(err);
		return;
	}
	fprintf(b->a->out, "    %s: %d\n", file, line);
}

static void print_trace(struct bt *b, const struct ck_trace *t)
{
	FILE *f = b->a->out;
	int level = 0;
	char name[160];
	const char *module;
	for (size_t i = 0; i < t->nr; i++) {
		const struct ck_frame *fr = &t->frames[i];
		switch (fr->kind) {
		case CK_FRAME_CALL:
			sym_text(b, fr->ip, b->flags & BT_SYMOFF, name, sizeof(name), &module);
			fprintf(f, "%s#%d [%" PRIx64 "] %s at %" PRIx64 "%s%s%s\n", level < 10 ? " " : "",
				level, fr->slot, name, fr->ip, module ? " [" : "", module ? module : "",
				module ? "]" : "");
			if (b->flags & BT_LINES)
				print_line(b, fr->ip);
			level++;
			if ((b->flags & BT_FRAME) && i + 1 < t->nr &&
			    t->frames[i + 1].kind == CK_FRAME_CALL)
				frame_data(b, fr->slot + 8, t->frames[i + 1].slot);
			break;
		case CK_FRAME_STACK:
			if (!strcmp(fr->text, "IRQ") || !strcmp(fr->text, "process"))
				fprintf(f, "--- <%s stack> ---\n", fr->text);
			else
				fprintf(f, "--- <%s exception stack> ---\n", fr->text);
			break;
		case CK_FRAME_NOTE:
			fprintf(f, "    bt: %s\n", fr->text);
			break;
		default:
			print_exception(b, fr);
			break;
		}
	}
}

/* -t: the text addresses on the stack from the trace's start up. */
static void print_text(struct bt *b, const struct ck_trace *t)
{
	FILE *f = b->a->out;
	char name[160];
	uint64_t from = t->stack_base;
	const struct ck_frame *user = NULL;
	for (size_t i = 0; i < t->nr; i++) {
		if (t->frames[i].kind == CK_FRAME_CALL && from == t->stack_base &&
		    t->frames[i].slot >= t->stack_base && t->frames[i].slot < t->stack_top) {
			from = t->frames[i].slot;
			sym_text(b, t->frames[i].ip, false, name, sizeof(name), NULL);
			fprintf(f, "%14sSTART: %s at %" PRIx64 "\n", "", name, t->frames[i].ip);
		}
		if (t->frames[i].kind == CK_FRAME_USER)
			user = &t->frames[i];
	}
	for (uint64_t a = from; a + 8 <= t->stack_top; a += 8) {
		uint64_t v;
		struct ck_error *err = ck_kernel_read_u64(b->a->kernel, a, &v);
		if (err) {
			ck_error_destroy(err);
			continue;
		}
		if (!ck_orc_is_text(b->orc, v))
			continue;
		sym_text(b, v, false, name, sizeof(name), NULL);
		fprintf(f, "  [%" PRIx64 "] %s at %" PRIx64 "\n", a, name, v);
	}
	if (user)
		print_exception(b, user);
}

static json_object *hex(uint64_t v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return json_object_new_string(buf);
}

static json_object *regs_json(const struct ck_regs *r)
{
	json_object *o = json_object_new_object();
	const struct { const char *n; uint64_t v; } regs[] = {
		{ "rip", r->ip }, { "rsp", r->sp }, { "rflags", r->flags }, { "rax", r->ax },
		{ "rbx", r->bx }, { "rcx", r->cx }, { "rdx", r->dx }, { "rsi", r->si },
		{ "rdi", r->di }, { "rbp", r->bp }, { "r8", r->r8 }, { "r9", r->r9 },
		{ "r10", r->r10 }, { "r11", r->r11 }, { "r12", r->r12 }, { "r13", r->r13 },
		{ "r14", r->r14 }, { "r15", r->r15 }, { "orig_rax", r->orig_ax }, { "cs", r->cs },
		{ "ss", r->ss },
	};
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		json_object_object_add(o, regs[i].n, hex(regs[i].v));
	return o;
}

static void trace_json(struct bt *b, const struct ck_task *task, const struct ck_trace *t)
{
	static const char *const kinds[] = { "call", "exception", "cpu_registers", "user",
					     "user_space", "stack", "note" };
	json_object *o = json_object_new_object();
	json_object_object_add(o, "pid", json_object_new_int(task->pid));
	json_object_object_add(o, "task", hex(task->addr));
	json_object_object_add(o, "cpu", json_object_new_int(task->cpu));
	json_object_object_add(o, "command", json_object_new_string(task->comm));
	json_object *frames = json_object_new_array();
	int level = 0;
	for (size_t i = 0; i < t->nr; i++) {
		const struct ck_frame *fr = &t->frames[i];
		json_object *j = json_object_new_object();
		json_object_object_add(j, "kind", json_object_new_string(kinds[fr->kind]));
		if (fr->kind == CK_FRAME_CALL) {
			struct ck_symbolized s;
			json_object_object_add(j, "level", json_object_new_int(level++));
			json_object_object_add(j, "stack", hex(fr->slot));
			json_object_object_add(j, "ip", hex(fr->ip));
			struct ck_error *err = ck_symbolize(b->a, fr->ip, &s);
			if (!err) {
				json_object_object_add(j, "function", json_object_new_string(s.name));
				json_object_object_add(j, "offset",
						       json_object_new_int64((int64_t)s.offset));
				json_object_object_add(j, "module", s.module ?
						       json_object_new_string(s.module) : NULL);
			}
			ck_error_destroy(err);
		} else if (fr->kind == CK_FRAME_STACK || fr->kind == CK_FRAME_NOTE) {
			json_object_object_add(j, "text", json_object_new_string(fr->text));
		} else {
			json_object_object_add(j, "registers", regs_json(&fr->regs));
		}
		json_object_array_add(frames, j);
	}
	json_object_object_add(o, "frames", frames);
	json_object_array_add(b->json, o);
}

static int bt_task(struct bt *b, const struct ck_task *task)
{
	struct ck_trace t;
	struct ck_error *err = ck_unwind_task(b->a, b->orc, task, &t);
	if (err)
		return ck_analysis_fail(b->a, "bt", err);
	if (b->json) {
		trace_json(b, task, &t);
		ck_trace_deinit(&t);
		return 0;
	}
	FILE *f = b->a->out;
	if (b->printed++)
		fprintf(f, "\n");
	fprintf(f, "PID: %-7d  TASK: %" PRIx64 "  CPU: %-3d  COMMAND: \"%s\"\n", task->pid,
		task->addr, task->cpu, task->comm);
	if (b->flags & BT_TEXT)
		print_text(b, &t);
	else
		print_trace(b, &t);
	ck_trace_deinit(&t);
	return 0;
}

static int bt_cpu(struct bt *b, int cpu)
{
	uint64_t addr;
	struct ck_error *err = ck_cpu_curr(b->a, cpu, &addr);
	if (err)
		return ck_analysis_fail(b->a, "bt", err);
	const struct ck_task *t = ck_task_by_addr(b->a, addr);
	if (t)
		return bt_task(b, t);
	/* not in the task list (a broken list): read what bt needs itself */
	struct ck_task own = { .addr = addr, .cpu = cpu, .active = true };
	struct ck_types *types;
	uint64_t pid = 0;
	err = ck_analysis_types(b->a, &types);
	if (!err)
		err = ck_read_field(b->a->kernel, types, addr, "struct task_struct", "stack",
				    &own.stack);
	if (!err)
		err = ck_read_field(b->a->kernel, types, addr, "struct task_struct", "pid", &pid);
	struct ck_member comm;
	if (!err)
		err = ck_member_of(types, "struct task_struct", "comm", &comm);
	if (!err)
		err = ck_kernel_read(b->a->kernel, addr + comm.offset, own.comm,
				     sizeof(own.comm) - 1);
	if (err)
		return ck_analysis_fail(b->a, "bt", ck_error_prepend(err, "CPU %d: task %" PRIx64,
								    cpu, addr));
	own.pid = (int32_t)pid;
	return bt_task(b, &own);
}

/* "1", "0,1", "0-3", "a"/"all" -> a mask of CPUs < nr. */
static bool parse_cpus(const char *s, int nr, bool *mask)
{
	if (!strcmp(s, "a") || !strcmp(s, "all")) {
		for (int i = 0; i < nr; i++)
			mask[i] = true;
		return true;
	}
	while (*s) {
		char *end;
		long lo = strtol(s, &end, 10), hi = lo;
		if (end == s || lo < 0)
			return false;
		if (*end == '-') {
			s = end + 1;
			hi = strtol(s, &end, 10);
			if (end == s || hi < lo)
				return false;
		}
		if (hi >= nr)
			return false;
		for (long i = lo; i <= hi; i++)
			mask[i] = true;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return false;
	}
	return true;
}

static int bt_cpus(struct bt *b, const char *list)
{
	int nr;
	struct ck_error *err = ck_cpus(b->a, &nr);
	if (err)
		return ck_analysis_fail(b->a, "bt", err);
	if (nr <= 0 || nr > 8192)
		return ck_analysis_fail(b->a, "bt", ck_error_create(CK_ERR_FORMAT, "%d CPUs", nr));
	bool *mask = calloc((size_t)nr, sizeof(*mask));
	if (!mask)
		return ck_analysis_fail(b->a, "bt", &ck_error_nomem);
	int rc = 0;
	if (list && !parse_cpus(list, nr, mask)) {
		fprintf(b->a->err, "bt: invalid cpu specification: %s\n", list);
		rc = 1;
	}
	for (int cpu = 0; cpu < nr && !rc; cpu++) {
		if (!list && !ck_cpu_online(b->a, cpu))
			continue;
		if (mask[cpu] || !list)
			rc |= bt_cpu(b, cpu);
	}
	free(mask);
	return rc;
}

static int bt_arg(struct bt *b, const char *arg)
{
	char *end;
	const struct ck_task *t = NULL;
	unsigned long long v = strtoull(arg, &end, 0);
	if (end != arg && !*end)
		t = v <= 0x7fffffff ? ck_task_by_pid(b->a, (int32_t)v) : ck_task_by_addr(b->a, v);
	if (!t) {
		v = strtoull(arg, &end, 16);
		if (end != arg && !*end)
			t = ck_task_by_addr(b->a, v);
	}
	if (!t) {
		fprintf(b->a->err, "bt: invalid task or pid value: %s\n", arg);
		return 1;
	}
	return bt_task(b, t);
}

static int bt_run(struct bt *b, int argc, char **argv, const char *cpus)
{
	const struct ck_task *tasks;
	size_t nr;
	struct ck_error *err = ck_tasks_get(b->a, &tasks, &nr);
	if (err)
		return ck_analysis_fail(b->a, "bt", err);
	if (b->flags & (BT_ALL | BT_CPU))
		return bt_cpus(b, (b->flags & BT_CPU) ? cpus : NULL);
	if (optind < argc) {
		int rc = 0;
		for (int i = optind; i < argc; i++)
			rc |= bt_arg(b, argv[i]);
		return rc;
	}
	const struct ck_task *t;
	err = ck_context_task(b->a, &t);
	if (!err)
		return bt_task(b, t);
	int32_t cpu = -1;	/* no task list: the panic CPU's task */
	struct ck_error *e2 = ck_kernel_panic_cpu(b->a->kernel, &cpu);
	if (e2 || cpu < 0 || b->a->ctx_task) {
		ck_error_destroy(e2);
		return ck_analysis_fail(b->a, "bt", err);
	}
	ck_error_destroy(err);
	return bt_cpu(b, cpu);
}

int ck_acmd_bt(struct ck_analysis *a, int argc, char **argv)
{
	struct bt b = { .a = a };
	const char *cpus = NULL;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt(argc, argv, "atfsxlc:")) != -1) {
		switch (c) {
		case 'a': b.flags |= BT_ALL; break;
		case 't': b.flags |= BT_TEXT; break;
		case 'f': b.flags |= BT_FRAME; break;
		case 's': b.flags |= BT_SYMOFF; break;
		case 'x': b.flags |= BT_HEX; break;
		case 'l': b.flags |= BT_LINES; break;
		case 'c': b.flags |= BT_CPU; cpus = optarg; break;
		default: return usage(a);
		}
	}
	if ((b.flags & BT_LINES) && !ck_debuginfo_present(a)) {
		fprintf(a->err, "bt: -l needs the DWARF vmlinux (line numbers are not in the dump)\n");
		return 1;
	}
	struct ck_error *err = ck_orc_create(a, &b.orc);
	if (err)
		return ck_analysis_fail(a, "bt: ORC unwind tables", err);
	if (a->json)
		b.json = json_object_new_array();
	int rc = bt_run(&b, argc, argv, cpus);
	if (b.json) {
		json_object *top = json_object_new_object();
		json_object_object_add(top, "tasks", b.json);
		fprintf(a->out, "%s\n", json_object_to_json_string_ext(
				top, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(top);
	}
	ck_orc_destroy(b.orc);
	return rc;
}
