/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * triage: why the machine died, from the dump alone (docs/signatures.md).
 * Gathers the class and message from the log, the culprit from the panic
 * task's trace (triage_rules.c says which frames to skip), the panic task,
 * taint, release, build id, uptime, every CPU's trace, the tasks in D
 * state and the last log lines.  Whatever cannot be read becomes a note
 * and the rest goes on: a partial report beats none.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "base/base.h"

/* Log records read at most (the ring holds far fewer). */
#define LOG_RECORDS_MAX (1u << 22)

static void note(struct ck_triage *t, const char *what, struct ck_error *err)
{
	char line[512];
	snprintf(line, sizeof(line), "%s: %s\n", what, err ? ck_error_message(err) : "not found");
	ck_error_destroy(err);
	/* once: the panic task is also its CPU's current task */
	if (strstr(t->notes, line))
		return;
	size_t len = strlen(t->notes);
	if (len + 1 < sizeof(t->notes))
		snprintf(t->notes + len, sizeof(t->notes) - len, "%s", line);
	t->nr_notes++;
}

struct log_walk {
	struct ck_triage *t;
	struct ck_triage_log log;
	size_t ring_next, ring_nr;
	char ring[CK_TRIAGE_LOG_LINES][256];
	size_t records;
};

static int log_record(const struct ck_log_record *rec, void *arg)
{
	struct log_walk *w = arg;
	if (++w->records > LOG_RECORDS_MAX)
		return 1;
	const char *p = rec->text, *end = rec->text + rec->text_len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		ck_triage_log_line(&w->log, p, len);
		char *slot = w->ring[w->ring_next];
		snprintf(slot, sizeof(w->ring[0]), "[%5" PRIu64 ".%06" PRIu64 "] %.*s",
			 rec->ts_nsec / 1000000000u, rec->ts_nsec % 1000000000u / 1000u,
			 (int)len, p);
		for (char *c = slot; *c; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f)
				*c = '.';
		w->ring_next = (w->ring_next + 1) % CK_TRIAGE_LOG_LINES;
		if (w->ring_nr < CK_TRIAGE_LOG_LINES)
			w->ring_nr++;
		p += len + (nl ? 1 : 0);
	}
	return 0;
}

/* The log: class hints and the last lines. */
static void read_log(struct ck_analysis *a, struct ck_triage *t, struct ck_triage_log *log)
{
	struct log_walk *w = calloc(1, sizeof(*w));
	if (!w) {
		note(t, "log", ck_error_create(CK_ERR_NOMEM, "out of memory"));
		ck_triage_log_init(log);
		return;
	}
	w->t = t;
	ck_triage_log_init(&w->log);
	struct ck_error *err = ck_kernel_log_walk(a->kernel, log_record, w);
	if (err)
		note(t, "log", err);
	size_t first = (w->ring_next + CK_TRIAGE_LOG_LINES - w->ring_nr) % CK_TRIAGE_LOG_LINES;
	for (size_t i = 0; i < w->ring_nr; i++)
		snprintf(t->log[i], sizeof(t->log[0]), "%s",
			 w->ring[(first + i) % CK_TRIAGE_LOG_LINES]);
	t->nr_log = w->ring_nr;
	*log = w->log;
	free(w);
}

static bool kernel_ip(uint64_t ip)
{
	return ip >= 0xffff800000000000ull;
}

static void fill_frame(struct ck_analysis *a, const struct ck_frame *f, struct ck_triage_frame *o)
{
	memset(o, 0, sizeof(*o));
	o->kind = f->kind;
	switch (f->kind) {
	case CK_FRAME_CALL:
		o->ip = f->ip;
		break;
	case CK_FRAME_EXCEPTION:
	case CK_FRAME_START_REGS:
	case CK_FRAME_USER:
	case CK_FRAME_USER_NOTE:
		o->ip = f->regs.ip;
		break;
	default:
		snprintf(o->func, sizeof(o->func), "%.120s", f->text);
		return;
	}
	if (!kernel_ip(o->ip))
		return;
	/* a return address names its call by the byte before it (as the
	 * kernel's %pB does): after a call to a noreturn function (panic from
	 * __stack_chk_fail) it is already the next function's first byte */
	uint64_t at = f->kind == CK_FRAME_CALL ? o->ip - 1 : o->ip;
	struct ck_symbolized s;
	struct ck_error *err = ck_symbolize(a, at, &s);
	if (err) {
		ck_error_destroy(err);
		return;
	}
	snprintf(o->func, sizeof(o->func), "%s", s.name ? s.name : "");
	snprintf(o->module, sizeof(o->module), "%s", s.module ? s.module : "");
	o->offset = s.offset + (o->ip - at);
}

/* task's trace into tr (frames allocated); notes say why it is missing. */
static void trace_task(struct ck_analysis *a, struct ck_orc *orc, struct ck_triage *t,
		       const struct ck_task *task, int cpu, struct ck_triage_trace *tr)
{
	tr->cpu = cpu;
	tr->pid = task ? task->pid : -1;
	snprintf(tr->comm, sizeof(tr->comm), "%s", task ? task->comm : "");
	if (!task || !orc) {
		snprintf(tr->note, sizeof(tr->note), "%s", !task ? "no task" : "no ORC tables");
		return;
	}
	struct ck_trace trace;
	struct ck_error *err = ck_unwind_task(a, orc, task, &trace);
	if (err) {
		snprintf(tr->note, sizeof(tr->note), "%s", ck_error_message(err));
		char what[64];
		snprintf(what, sizeof(what), "backtrace of pid %d", (int)task->pid);
		note(t, what, err);
		return;
	}
	size_t nr = trace.nr < CK_UNWIND_MAX_FRAMES ? trace.nr : CK_UNWIND_MAX_FRAMES;
	tr->frames = nr ? calloc(nr, sizeof(*tr->frames)) : NULL;
	if (nr && !tr->frames) {
		snprintf(tr->note, sizeof(tr->note), "out of memory");
		nr = 0;
	}
	for (size_t i = 0; i < nr; i++)
		fill_frame(a, &trace.frames[i], &tr->frames[i]);
	tr->nr = nr;
	if (nr && trace.frames[nr - 1].kind == CK_FRAME_NOTE) {
		snprintf(tr->note, sizeof(tr->note), "%.150s", trace.frames[nr - 1].text);
		/* a stack page the dump lacks (excluded or lost): the report
		 * is partial, and says so */
		if (!strncmp(trace.frames[nr - 1].text, "cannot read", 11)) {
			char what[64];
			snprintf(what, sizeof(what), "backtrace of pid %d", (int)task->pid);
			note(t, what, ck_error_create(CK_ERR_NOT_FOUND, "%.300s",
						      trace.frames[nr - 1].text));
		}
	}
	ck_trace_deinit(&trace);
}

static bool symbolic(const struct ck_triage_frame *f)
{
	return (f->kind == CK_FRAME_CALL || f->kind == CK_FRAME_EXCEPTION ||
		f->kind == CK_FRAME_START_REGS) && f->func[0];
}

/* The culprit (index into tr, or -1) and the signature's frames after it. */
static ssize_t pick_culprit(const struct ck_triage_trace *tr, enum ck_triage_class c,
			    const char *names[CK_TRIAGE_SIG_FRAMES], char store[][128],
			    size_t *nr_names)
{
	size_t start = 0;
	if (ck_triage_class_uses_exception(c))
		for (size_t i = 0; i < tr->nr; i++)
			if (tr->frames[i].kind == CK_FRAME_EXCEPTION && kernel_ip(tr->frames[i].ip)) {
				start = i;
				break;
			}
	ssize_t culprit = -1;
	*nr_names = 0;
	for (size_t i = start; i < tr->nr && *nr_names < CK_TRIAGE_SIG_FRAMES; i++) {
		const struct ck_triage_frame *f = &tr->frames[i];
		if (f->kind == CK_FRAME_USER || f->kind == CK_FRAME_USER_NOTE)
			break;
		if (!symbolic(f)) {
			/* kernel code without a name (a module the dump does not let
			 * us read): the culprit, unnamed; not hashed */
			if (culprit < 0 && f->kind != CK_FRAME_NOTE && f->kind != CK_FRAME_STACK &&
			    kernel_ip(f->ip))
				culprit = (ssize_t)i;
			continue;
		}
		char *n = store[*nr_names];
		ck_triage_norm_name(f->func, n, 128);
		if (ck_triage_stop_frame(n))
			break;
		if (ck_triage_skip_frame(n, c))
			continue;
		if (culprit < 0)
			culprit = (ssize_t)i;
		names[(*nr_names)++] = n;
	}
	return culprit;
}

static void taint(struct ck_analysis *a, struct ck_triage *t)
{
	struct ck_symbol s;
	struct ck_error *err = ck_kernel_symbol_by_name(a->kernel, "tainted_mask", &s);
	if (!err)
		err = ck_kernel_read_u64(a->kernel, s.address, &t->taint);
	if (err) {
		note(t, "taint", err);
		return;
	}
	t->have_taint = true;
	ck_triage_taint_letters(t->taint, t->taint_letters, sizeof(t->taint_letters));
	if (!t->taint)
		return;
	const struct ck_module *mods;
	size_t nr;
	struct ck_types *types;
	if (!a->types || (err = ck_modules_get(a, &mods, &nr))) {
		ck_error_destroy(err);
		return;
	}
	types = a->types;
	size_t len = 0;
	for (size_t i = 0; i < nr && i < 4096; i++) {
		uint64_t mt = 0;
		err = ck_read_field(a->kernel, types, mods[i].addr, "module", "taints", &mt);
		if (err || !mt) {
			ck_error_destroy(err);
			continue;
		}
		char l[72];
		ck_triage_taint_letters(mt, l, sizeof(l));
		if (len + 1 < sizeof(t->taint_modules))
			len += (size_t)snprintf(t->taint_modules + len, sizeof(t->taint_modules) - len,
						"%s%s(%s)", len ? " " : "", mods[i].name, l);
	}
}

static void system_facts(struct ck_analysis *a, struct ck_triage *t)
{
	struct ck_utsname uts;
	struct ck_error *err = ck_kernel_utsname(a->kernel, &uts);
	if (!err) {
		snprintf(t->release, sizeof(t->release), "%s", uts.release);
		snprintf(t->version, sizeof(t->version), "%s", uts.version);
	} else {
		note(t, "release", err);
	}
	const char *bid = ck_kernel_vmcoreinfo_str(a->kernel, "BUILD-ID");
	snprintf(t->build_id, sizeof(t->build_id), "%s", bid ? bid : "");
	unsigned int hz;
	uint64_t j;
	t->uptime = -1;
	err = ck_kernel_hz(a, &hz);
	if (!err)
		err = ck_kernel_uptime_jiffies(a, hz, &j);
	if (!err)
		t->uptime = (int64_t)(j / hz);
	else
		note(t, "uptime", err);
	taint(a, t);
	ck_triage_hwerr(a, t, note);
	/* an incomplete module list leaves module code unnamed: say so */
	const struct ck_module *mods;
	size_t nr;
	struct ck_error *merr = ck_modules_get(a, &mods, &nr);
	const char *why = merr ? NULL : ck_modules_note(a);
	if (merr)
		note(t, "modules", merr);
	else if (why)
		note(t, "modules", ck_error_create(CK_ERR_FAULT, "%s", why));
}

/* A CPU's current task that the task list lacks: what unwinding needs,
 * read from the task_struct itself (as bt does). */
static bool own_task(struct ck_analysis *a, uint64_t addr, int cpu, struct ck_task *own)
{
	memset(own, 0, sizeof(*own));
	own->addr = addr;
	own->cpu = cpu;
	own->active = true;
	struct ck_types *types;
	uint64_t pid = 0;
	struct ck_member comm;
	struct ck_error *err = ck_analysis_types(a, &types);
	if (!err)
		err = ck_read_field(a->kernel, types, addr, "struct task_struct", "stack",
				    &own->stack);
	if (!err)
		err = ck_read_field(a->kernel, types, addr, "struct task_struct", "pid", &pid);
	if (!err)
		err = ck_member_of(types, "struct task_struct", "comm", &comm);
	if (!err)
		err = ck_kernel_read(a->kernel, addr + comm.offset, own->comm, sizeof(own->comm) - 1);
	own->pid = (int32_t)pid;
	bool ok = !err;
	ck_error_destroy(err);
	return ok;
}

/* Each CPU's current task's trace. */
static void cpu_traces(struct ck_analysis *a, struct ck_orc *orc, struct ck_triage *t)
{
	int nr = 0;
	struct ck_error *err = ck_cpus(a, &nr);
	if (err || nr <= 0) {
		note(t, "CPUs", err);
		return;
	}
	if (nr > 8192)
		nr = 8192;
	t->cpus = calloc((size_t)nr, sizeof(*t->cpus));
	if (!t->cpus) {
		note(t, "CPUs", ck_error_create(CK_ERR_NOMEM, "out of memory"));
		return;
	}
	for (int c = 0; c < nr; c++) {
		if (!ck_cpu_online(a, c))
			continue;
		struct ck_triage_trace *tr = &t->cpus[t->nr_cpus++];
		uint64_t curr = 0;
		err = ck_cpu_curr(a, c, &curr);
		const struct ck_task *task = err ? NULL : ck_task_by_addr(a, curr);
		if (err) {
			char what[32];
			snprintf(what, sizeof(what), "CPU %d", c);
			snprintf(tr->note, sizeof(tr->note), "%s", ck_error_message(err));
			note(t, what, err);
			tr->cpu = c;
			tr->pid = -1;
			continue;
		}
		struct ck_task own;
		if (!task && own_task(a, curr, c, &own))
			task = &own;
		trace_task(a, orc, t, task, c, tr);
	}
}

/* Tasks in D state and where each sleeps (its first frame past the
 * scheduler and lock code). */
static void dstate_tasks(struct ck_analysis *a, struct ck_orc *orc, struct ck_triage *t)
{
	const struct ck_task *tasks;
	size_t nr;
	struct ck_error *err = ck_tasks_get(a, &tasks, &nr);
	if (err) {
		note(t, "tasks", err);
		return;
	}
	for (size_t i = 0; i < nr; i++) {
		if (strcmp(ck_task_state_name(a, &tasks[i]), "UN"))
			continue;
		if (t->nr_dstate_total++ >= CK_TRIAGE_DSTATE_MAX)
			continue;
		struct ck_triage_trace *tr = &t->dstate[t->nr_dstate++];
		trace_task(a, orc, t, &tasks[i], tasks[i].active ? tasks[i].cpu : -1, tr);
		const char *names[CK_TRIAGE_SIG_FRAMES];
		char store[CK_TRIAGE_SIG_FRAMES][128];
		size_t nn;
		ssize_t c = pick_culprit(tr, CK_TRIAGE_HUNG_TASK, names, store, &nn);
		/* keep the one frame that says where it sleeps */
		if (c > 0)
			tr->frames[0] = tr->frames[c];
		tr->nr = c >= 0 ? 1 : 0;
	}
}

/* The context the culprit ran in: the first entry frame below it decides
 * (softirq processing, an interrupt or NMI entry); none before the trace's
 * end or a stop frame: task context. */
static const char *culprit_context(const struct ck_triage_trace *tr, size_t c)
{
	static const char *const softirq[] = { "handle_softirqs", "__do_softirq", "do_softirq",
					       "run_ksoftirqd" };
	char n[128];
	for (size_t i = c + 1; i < tr->nr; i++) {
		if (!symbolic(&tr->frames[i]))
			continue;
		ck_triage_norm_name(tr->frames[i].func, n, sizeof(n));
		for (size_t k = 0; k < CK_ARRAY_SIZE(softirq); k++)
			if (!strcmp(n, softirq[k]))
				return "softirq";
		if (!strcmp(n, "asm_exc_nmi") || !strcmp(n, "exc_nmi") || !strcmp(n, "end_repeat_nmi"))
			return "nmi";
		if (!strncmp(n, "asm_sysvec_", 11) || !strcmp(n, "asm_common_interrupt") ||
		    !strcmp(n, "common_interrupt"))
			return "hardirq";
		if (ck_triage_stop_frame(n))
			break;
	}
	return "task";
}

static void culprit_and_signature(struct ck_analysis *a, struct ck_triage *t,
				  const struct ck_triage_trace *tr)
{
	const char *names[CK_TRIAGE_SIG_FRAMES];
	char store[CK_TRIAGE_SIG_FRAMES][128];
	size_t nn = 0;
	ssize_t c = tr ? pick_culprit(tr, t->class, names, store, &nn) : -1;
	if (t->class == CK_TRIAGE_NONE)
		nn = 0, c = -1;
	if (c >= 0) {
		t->have_culprit = true;
		t->culprit = tr->frames[c];
		t->culprit_pid = tr->pid;
		t->culprit_cpu = tr->cpu;
		t->culprit_context = culprit_context(tr, (size_t)c);
		snprintf(t->culprit_comm, sizeof(t->culprit_comm), "%s", tr->comm);
		if (!t->culprit.func[0]) {
			char what[64];
			snprintf(what, sizeof(what), "culprit %016" PRIx64, t->culprit.ip);
			note(t, what, ck_error_create(CK_ERR_NOT_FOUND, "no symbol: not in the "
						      "kernel's text nor in a module the dump "
						      "lets us read"));
		}
		const char *file;
		int line;
		struct ck_error *err = ck_debuginfo_line(a, t->culprit.ip, &file, &line);
		if (!err)
			snprintf(t->culprit_line, sizeof(t->culprit_line), "%s: %d", file, line);
		ck_error_destroy(err);
	}
	ck_triage_signature(t->class, names, nn, t->signature);
	size_t len = (size_t)snprintf(t->sig_input, sizeof(t->sig_input), CK_TRIAGE_SCHEME "|%s",
				      ck_triage_class_name(t->class));
	for (size_t i = 0; i < nn && len < sizeof(t->sig_input); i++)
		len += (size_t)snprintf(t->sig_input + len, sizeof(t->sig_input) - len, "|%s",
					names[i]);
	char fn[128];
	ck_triage_norm_name(t->culprit.func, fn, sizeof(fn));
	if (c >= 0 && !fn[0])
		snprintf(fn, sizeof(fn), "unknown code");
	ck_triage_title(t->class, t->report, c >= 0 ? fn : NULL,
			c >= 0 && t->culprit.module[0] ? t->culprit.module : NULL, t->title,
			sizeof(t->title));
}

/* The task the culprit comes from: the blocked one for a hung task; for
 * an RCU stall or hard lockup that another CPU detected, the stalled CPU's
 * (its trace runs through the crash NMI to the code it interrupted). */
static const struct ck_triage_trace *culprit_trace(struct ck_analysis *a, struct ck_orc *orc,
						   struct ck_triage *t, const struct ck_triage_log *log,
						   struct ck_triage_trace *hung)
{
	int32_t hung_pid = log->hung_pid;
	if ((t->class == CK_TRIAGE_RCU_STALL || t->class == CK_TRIAGE_HARD_LOCKUP) &&
	    log->stall_cpu >= 0 && log->stall_cpu != t->cpu) {
		for (size_t i = 0; i < t->nr_cpus; i++)
			if (t->cpus[i].cpu == log->stall_cpu)
				return &t->cpus[i];
		char what[48];
		snprintf(what, sizeof(what), "stalled CPU %d", log->stall_cpu);
		note(t, what, ck_error_create(CK_ERR_NOT_FOUND, "no trace of it in the dump"));
	}
	if (t->class == CK_TRIAGE_HUNG_TASK && hung_pid >= 0) {
		const struct ck_task *k = ck_task_by_pid(a, hung_pid);
		if (k) {
			trace_task(a, orc, t, k, k->active ? k->cpu : -1, hung);
			return hung;
		}
		note(t, "hung task", ck_error_create(CK_ERR_NOT_FOUND, "pid %d is not in the task "
						     "list", (int)hung_pid));
	}
	return t->have_panic_task ? &t->panic_trace : NULL;
}

struct ck_error *ck_triage_gather(struct ck_analysis *a, struct ck_triage *t)
{
	memset(t, 0, sizeof(*t));
	t->cpu = -1;
	t->pid = -1;
	struct ck_triage_log log;
	read_log(a, t, &log);
	system_facts(a, t);
	const struct ck_task *task = NULL;
	int cpu = -1;
	struct ck_error *err = ck_panic_task(a, &task, &cpu);
	if (err)
		note(t, "panic task", err);
	int32_t pc = -1;
	err = ck_kernel_panic_cpu(a->kernel, &pc);
	bool pc_known = !err;
	if (err)
		note(t, "panic_cpu", err);
	bool panicked = cpu >= 0 || pc >= 0 || log.panic[0];
	const char *msg;
	t->class = ck_triage_log_class(&log, panicked, &msg);
	/* "none" only when panic_cpu says so, not when it cannot be read */
	if (t->class == CK_TRIAGE_NONE && !pc_known)
		t->class = CK_TRIAGE_UNKNOWN;
	snprintf(t->message, sizeof(t->message), "%s", msg);
	snprintf(t->report, sizeof(t->report), "%s", log.report);
	struct ck_orc *orc = NULL;
	if ((err = ck_orc_create(a, &orc)))
		note(t, "ORC", err);
	if (task && t->class != CK_TRIAGE_NONE) {
		t->have_panic_task = true;
		t->pid = task->pid;
		t->cpu = cpu;
		snprintf(t->comm, sizeof(t->comm), "%s", task->comm);
		trace_task(a, orc, t, task, cpu, &t->panic_trace);
	}
	cpu_traces(a, orc, t);
	struct ck_triage_trace hung = { 0 };
	culprit_and_signature(a, t, culprit_trace(a, orc, t, &log, &hung));
	free(hung.frames);
	dstate_tasks(a, orc, t);
	ck_orc_destroy(orc);
	return NULL;
}

void ck_triage_deinit(struct ck_triage *t)
{
	free(t->panic_trace.frames);
	for (size_t i = 0; i < t->nr_cpus; i++)
		free(t->cpus[i].frames);
	free(t->cpus);
	for (size_t i = 0; i < t->nr_dstate; i++)
		free(t->dstate[i].frames);
	memset(t, 0, sizeof(*t));
}
