/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The task model: every thread of the crashed kernel, read once per
 * session from init_task's list of thread-group leaders and each group's
 * thread list, plus each CPU's idle task (only CPU 0's, init_task, heads
 * the list; the others are found through their runqueue's idle).  Every
 * offset comes from BTF by member name; the lists are untrusted: each walk
 * stops at a task already seen (a cycle) or at CK_TASKS_MAX tasks, with a
 * note saying why the list may be short.
 */
#include <bpf/btf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "base/hash_map.h"
#include "base/vector.h"

#define CK_TASKS_MAX (1u << 20)
/* include/linux/sched.h: PF_KTHREAD, "I am a kernel thread", this value
 * since Linux 2.6.27.  BTF has no #defines; checked against the idle task
 * before use (kernel_thread_bit). */
#define CK_PF_KTHREAD 0x00200000u

static size_t addr_hash(const uint64_t *k)
{
	return ck_hash_u64(*k);
}

static bool addr_eq(const uint64_t *a, const uint64_t *b)
{
	return *a == *b;
}

CK_DEFINE_HASH_MAP(ck_task_set, uint64_t, size_t, addr_hash, addr_eq)
CK_DEFINE_VECTOR(ck_task_vec, struct ck_task)

/* The TASK_* and EXIT_* bits of this kernel (0: the state does not exist). */
struct task_states {
	uint64_t interruptible, uninterruptible, stopped, traced, dead, zombie;
	uint64_t parked, wakekill, waking, noload, new_;
};

/* task_struct's members the model reads. */
struct task_layout {
	struct ck_member pid, tgid, real_parent, cpu, state, exit_state, flags, mm, stack;
	struct ck_member comm, tasks, signal;
	/* threads: signal->thread_head/thread_node (Linux 6.7+), else the
	 * circular task->thread_group */
	bool thread_head;
	struct ck_member sig_thread_head, thread_node;
	struct ck_member rq_curr, rq_idle;
	bool have_rq;
	uint64_t next, prev;		/* in struct list_head */
};

struct ck_tasks {
	struct ck_task_vec vec;		/* sorted: pid, then CPU */
	struct ck_task_set by_addr;	/* addr -> index into vec (after sorting) */
	struct ck_task_set seen;	/* during the walk */
	char *note;
	int nr_cpus;
	uint64_t *curr;			/* [nr_cpus]: rq->curr, 0 if unreadable */
	uint64_t *idle;			/* [nr_cpus]: rq->idle */
	struct task_states st;
	uint32_t pf_kthread;
	struct task_layout l;
};

void ck_tasks_destroy(struct ck_tasks *tasks);

void ck_tasks_destroy(struct ck_tasks *tasks)
{
	if (!tasks)
		return;
	ck_task_vec_deinit(&tasks->vec);
	ck_task_set_deinit(&tasks->by_addr);
	ck_task_set_deinit(&tasks->seen);
	free(tasks->note);
	free(tasks->curr);
	free(tasks->idle);
	free(tasks);
}

static struct ck_error *layout_init(struct ck_types *types, struct task_layout *l)
{
	static const char *const cpu_paths[] = { "thread_info.cpu", "cpu", NULL };
	static const char *const state_paths[] = { "__state", "state", NULL };
	/* crash's PPID is task->parent's pid: real_parent but for traced tasks
	 * (the tracer) and the idle tasks of CPUs other than 0 (init_task, while
	 * real_parent is init, which started them) */
	static const char *const parent_paths[] = { "parent", "real_parent", NULL };
	struct ck_error *err = NULL;
	const char *ts = "task_struct";
	if (!err) err = ck_member_of(types, ts, "pid", &l->pid);
	if (!err) err = ck_member_of(types, ts, "tgid", &l->tgid);
	if (!err) err = ck_member_of_any(types, ts, parent_paths, &l->real_parent, NULL);
	if (!err) err = ck_member_of_any(types, ts, cpu_paths, &l->cpu, NULL);
	if (!err) err = ck_member_of_any(types, ts, state_paths, &l->state, NULL);
	if (!err) err = ck_member_of(types, ts, "exit_state", &l->exit_state);
	if (!err) err = ck_member_of(types, ts, "flags", &l->flags);
	if (!err) err = ck_member_of(types, ts, "mm", &l->mm);
	if (!err) err = ck_member_of(types, ts, "stack", &l->stack);
	if (!err) err = ck_member_of(types, ts, "comm", &l->comm);
	if (!err) err = ck_member_of(types, ts, "tasks", &l->tasks);
	if (!err) err = ck_member_of(types, ts, "signal", &l->signal);
	if (err)
		return ck_error_prepend(err, "the task list");
	/* Linux 6.7 (8e1f385104ac, "kill task_struct->thread_group") left
	 * the thread list in signal_struct only */
	struct ck_error *e1 = ck_member_of(types, "signal_struct", "thread_head",
					   &l->sig_thread_head);
	struct ck_error *e2 = e1 ? NULL : ck_member_of(types, ts, "thread_node", &l->thread_node);
	l->thread_head = !e1 && !e2;
	ck_error_destroy(e1);
	ck_error_destroy(e2);
	if (!l->thread_head) {
		err = ck_member_of(types, ts, "thread_group", &l->thread_node);
		if (err)
			return ck_error_prepend(err, "the thread lists");
	}
	struct ck_member next, prev;
	err = ck_member_of(types, "list_head", "next", &next);
	if (!err)
		err = ck_member_of(types, "list_head", "prev", &prev);
	if (err)
		return ck_error_prepend(err, "the task list");
	l->next = next.offset;
	l->prev = prev.offset;
	e1 = ck_member_of(types, "rq", "curr", &l->rq_curr);
	if (!e1)
		e1 = ck_member_of(types, "rq", "idle", &l->rq_idle);
	l->have_rq = !e1;
	ck_error_destroy(e1);
	return NULL;
}

/* The bits of this kernel's states: task_state_array[] (fs/proc/array.c)
 * lists them in bit order ("R (running)" is 0, the next 1, 2, 4 ...).
 * Since Linux 4.14 (1593baab910d, 06eb61844d84) the array ends with
 * "P (parked)" and "I (idle)" (a report-only state), and TASK_DEAD,
 * TASK_WAKEKILL, TASK_WAKING, TASK_NOLOAD and TASK_NEW are the bits after
 * TASK_PARKED, in that order.  Without the array: those values. */
static void states_from_array(struct ck_analysis *a, struct task_states *st)
{
	*st = (struct task_states){ .interruptible = 1, .uninterruptible = 2, .stopped = 4,
				    .traced = 8, .dead = 0x10, .zombie = 0x20, .parked = 0x40 };
	struct ck_symbol sym;
	struct ck_error *err = ck_kernel_symbol_by_name(a->kernel, "task_state_array", &sym);
	size_t n = err ? 0 : (sym.size ? sym.size / 8 : 16);
	ck_error_destroy(err);
	if (n > 16)
		n = 16;
	struct task_states found = { 0 };
	bool idle = false, any = false, old_dead = false;
	for (size_t i = 0; i < n; i++) {
		uint64_t ptr;
		char s[32] = { 0 };
		err = ck_kernel_read_u64(a->kernel, sym.address + i * 8, &ptr);
		if (!err)
			err = ck_kernel_read(a->kernel, ptr, s, sizeof(s) - 1);
		if (err) {
			ck_error_destroy(err);
			break;
		}
		uint64_t bit = i ? UINT64_C(1) << (i - 1) : 0;
		if (s[1] != ' ' || s[2] != '(')
			break;
		any = true;
		switch (s[0]) {
		case 'S': found.interruptible = bit; break;
		case 'D': found.uninterruptible = bit; break;
		case 'T': found.stopped = bit; break;
		case 't': found.traced = bit; break;
		case 'X': found.dead |= bit; break;
		case 'x': found.dead |= bit; old_dead = true; break;
		case 'Z': found.zombie = bit; break;
		case 'P': found.parked = bit; break;
		case 'K': found.wakekill = bit; break;
		case 'W': found.waking = bit; break;
		case 'I': idle = true; break;
		}
	}
	if (!any || !found.interruptible || !found.uninterruptible || !found.zombie) {
		idle = true;
	} else {
		*st = found;
	}
	if (idle && !old_dead && st->parked) {
		st->dead |= st->parked << 1;
		st->wakekill = st->parked << 2;
		st->waking = st->parked << 3;
		st->noload = st->parked << 4;
		st->new_ = st->parked << 5;
	}
}

static struct ck_error *read_ptr(struct ck_analysis *a, uint64_t addr,
				 const struct ck_member *m, uint64_t *ret)
{
	return ck_read_member(a->kernel, a->types, addr, m, ret);
}

/* Each CPU's runqueue: curr and idle. */
static void read_runqueues(struct ck_analysis *a, struct ck_tasks *t)
{
	struct ck_symbol rq;
	struct ck_error *err = t->l.have_rq ?
		ck_kernel_symbol_by_name(a->kernel, "runqueues", &rq) :
		ck_error_create(CK_ERR_NOT_FOUND, "no struct rq in BTF");
	for (int cpu = 0; !err && cpu < t->nr_cpus; cpu++) {
		uint64_t off;
		struct ck_error *e = ck_percpu_offset(a, cpu, &off);
		if (!e)
			e = read_ptr(a, rq.address + off, &t->l.rq_curr, &t->curr[cpu]);
		if (!e)
			e = read_ptr(a, rq.address + off, &t->l.rq_idle, &t->idle[cpu]);
		ck_error_destroy(e);
	}
	ck_error_destroy(err);
}

static void add_note(struct ck_tasks *t, const struct ck_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void add_note(struct ck_tasks *t, const struct ck_error *err, const char *fmt, ...)
{
	if (t->note)
		return;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	t->note = err ? ck_strdup_printf("%s: %s", msg, ck_error_message(err)) : strdup(msg);
}

/* Reads the task at addr into a new entry.  false: a note says why. */
static bool read_task(struct ck_analysis *a, struct ck_tasks *t, uint64_t addr)
{
	const struct task_layout *l = &t->l;
	struct ck_task k = { .addr = addr };
	uint64_t pid, tgid, cpu, ppid = 0;
	struct ck_error *err = read_ptr(a, addr, &l->pid, &pid);
	if (!err) err = read_ptr(a, addr, &l->tgid, &tgid);
	if (!err) err = read_ptr(a, addr, &l->real_parent, &k.parent);
	if (!err) err = read_ptr(a, addr, &l->cpu, &cpu);
	if (!err) err = read_ptr(a, addr, &l->state, &k.state);
	if (!err) err = read_ptr(a, addr, &l->exit_state, &k.exit_state);
	if (!err) err = read_ptr(a, addr, &l->flags, &k.flags);
	if (!err) err = read_ptr(a, addr, &l->mm, &k.mm);
	if (!err) err = read_ptr(a, addr, &l->stack, &k.stack);
	if (!err) err = ck_kernel_read(a->kernel, addr + l->comm.offset, k.comm,
				       l->comm.size < 16 ? l->comm.size : 16);
	if (err) {
		add_note(t, err, "task 0x%llx cannot be read", (unsigned long long)addr);
		ck_error_destroy(err);
		return false;
	}
	if (k.parent == addr) {
		ppid = pid;
	} else if (k.parent) {
		err = read_ptr(a, k.parent, &l->pid, &ppid);
		ck_error_destroy(err);
		if (err)
			ppid = 0;
	}
	k.pid = (int32_t)pid;
	k.tgid = (int32_t)tgid;
	k.ppid = (int32_t)ppid;
	k.cpu = (int32_t)cpu;
	k.comm[16] = 0;
	if (k.cpu >= 0 && k.cpu < t->nr_cpus)
		k.active = t->curr[k.cpu] == addr;
	return ck_task_vec_append(&t->vec, &k);
}

static void walk_threads(struct ck_analysis *a, struct ck_tasks *t, uint64_t leader);

/* Adds the task at addr unless seen.  1: added, 0: seen before, -1: no
 * more (the cap, no memory, or unreadable: a note says so). */
static int add_task(struct ck_analysis *a, struct ck_tasks *t, uint64_t addr)
{
	if (!addr)
		return -1;
	if (ck_task_set_size(&t->seen) >= CK_TASKS_MAX) {
		add_note(t, NULL, "the task list stops at 0x%llx: more than %u tasks",
			 (unsigned long long)addr, CK_TASKS_MAX);
		return -1;
	}
	struct ck_task_set_entry e = { .key = addr };
	int r = ck_task_set_insert(&t->seen, &e, NULL);
	if (r <= 0)
		return r;
	return read_task(a, t, addr) ? 1 : -1;
}

/* One direction of a circular list of tasks from head (link: the offset
 * of next or prev in list_head; entry: of the list_head in task_struct).
 * leader: walking its thread list (it is on it, or is the head: skipped),
 * else the leaders' list (each one's threads walked too).  true when the
 * walk came back to head or met the other direction's walk. */
static bool walk_dir(struct ck_analysis *a, struct ck_tasks *t, uint64_t head, uint64_t link,
		     uint64_t entry, uint64_t leader, bool backward)
{
	uint64_t node;
	struct ck_error *err = ck_kernel_read_u64(a->kernel, head + link, &node);
	for (size_t steps = 0; !err && node != head && steps < CK_TASKS_MAX; steps++) {
		if (ck_analysis_interrupted())
			return true;
		uint64_t task = node - entry;
		int r = leader && task == leader ? 0 : add_task(a, t, task);
		if (r < 0)
			return false;
		if (r == 0 && !(leader && task == leader)) {
			if (!backward)
				add_note(t, NULL, "the %s list loops at task 0x%llx",
					 leader ? "thread" : "task", (unsigned long long)task);
			return true;
		}
		if (!leader)
			walk_threads(a, t, task);
		err = ck_kernel_read_u64(a->kernel, node + link, &node);
	}
	if (err)
		add_note(t, err, "the %s list is broken after 0x%llx", leader ? "thread" : "task",
			 (unsigned long long)node);
	ck_error_destroy(err);
	return !err;
}

/* The threads of the group whose leader is at leader (added already). */
static void walk_threads(struct ck_analysis *a, struct ck_tasks *t, uint64_t leader)
{
	const struct task_layout *l = &t->l;
	uint64_t head;
	if (l->thread_head) {
		uint64_t signal;
		struct ck_error *err = read_ptr(a, leader, &l->signal, &signal);
		if (err || !signal) {
			if (err)
				add_note(t, err, "the thread list of 0x%llx cannot be read",
					 (unsigned long long)leader);
			ck_error_destroy(err);
			return;
		}
		head = signal + l->sig_thread_head.offset;
	} else {
		head = leader + l->thread_node.offset;
	}
	/* a hole (a page not in the dump): the rest from the other end */
	if (!walk_dir(a, t, head, l->next, l->thread_node.offset, leader, false))
		walk_dir(a, t, head, l->prev, l->thread_node.offset, leader, true);
}

/* init_task.tasks: the thread-group leaders, and their threads. */
static void walk_leaders(struct ck_analysis *a, struct ck_tasks *t, uint64_t init_task)
{
	uint64_t head = init_task + t->l.tasks.offset;
	walk_threads(a, t, init_task);
	if (!walk_dir(a, t, head, t->l.next, t->l.tasks.offset, 0, false))
		walk_dir(a, t, head, t->l.prev, t->l.tasks.offset, 0, true);
}

static int task_cmp(const void *pa, const void *pb)
{
	const struct ck_task *x = pa, *y = pb;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->cpu != y->cpu)
		return x->cpu < y->cpu ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* PF_KTHREAD if the idle task has it (crash checks the same), else 0:
 * kernel threads are then those without an mm. */
static uint32_t kernel_thread_bit(const struct ck_tasks *t)
{
	for (size_t i = 0; i < t->vec.size; i++)
		if (t->vec.data[i].pid == 0)
			return (t->vec.data[i].flags & CK_PF_KTHREAD) ? CK_PF_KTHREAD : 0;
	return 0;
}

static struct ck_error *tasks_read(struct ck_analysis *a, struct ck_tasks *t)
{
	struct ck_error *err = layout_init(a->types, &t->l);
	if (!err)
		err = ck_cpus(a, &t->nr_cpus);
	if (err)
		return err;
	t->curr = calloc((size_t)t->nr_cpus, sizeof(*t->curr));
	t->idle = calloc((size_t)t->nr_cpus, sizeof(*t->idle));
	if (!t->curr || !t->idle)
		return &ck_error_nomem;
	states_from_array(a, &t->st);
	read_runqueues(a, t);
	struct ck_symbol init;
	err = ck_kernel_symbol_by_name(a->kernel, "init_task", &init);
	if (err)
		return err;
	/* the idle tasks first: CPU 0's is init_task, the others are on no list */
	if (add_task(a, t, t->idle[0] ? t->idle[0] : init.address) < 0 && !t->vec.size)
		return ck_error_create(CK_ERR_FAULT, "%s", t->note ? t->note : "no init_task");
	for (int cpu = 1; cpu < t->nr_cpus; cpu++)
		if (t->idle[cpu] && ck_cpu_online(a, cpu))
			add_task(a, t, t->idle[cpu]);
	walk_leaders(a, t, init.address);
	qsort(t->vec.data, t->vec.size, sizeof(*t->vec.data), task_cmp);
	for (size_t i = 0; i < t->vec.size; i++) {
		struct ck_task_set_entry e = { .key = t->vec.data[i].addr, .value = i };
		if (ck_task_set_insert(&t->by_addr, &e, NULL) < 0)
			return &ck_error_nomem;
	}
	ck_task_set_deinit(&t->seen);
	t->pf_kthread = kernel_thread_bit(t);
	return NULL;
}

static struct ck_error *tasks_model(struct ck_analysis *a, struct ck_tasks **ret)
{
	if (a->tasks) {
		*ret = a->tasks;
		return NULL;
	}
	struct ck_types *types;
	struct ck_error *err = ck_analysis_types(a, &types);
	if (err)
		return err;
	struct ck_tasks *t = calloc(1, sizeof(*t));
	if (!t)
		return &ck_error_nomem;
	ck_task_vec_init(&t->vec);
	ck_task_set_init(&t->by_addr);
	ck_task_set_init(&t->seen);
	err = tasks_read(a, t);
	if (err) {
		ck_tasks_destroy(t);
		return err;
	}
	a->tasks = t;
	*ret = t;
	return NULL;
}

struct ck_error *ck_tasks_get(struct ck_analysis *a, const struct ck_task **ret, size_t *nr)
{
	struct ck_tasks *t;
	struct ck_error *err = tasks_model(a, &t);
	if (err)
		return err;
	*ret = t->vec.data;
	*nr = t->vec.size;
	return NULL;
}

const char *ck_tasks_note(struct ck_analysis *a)
{
	return a->tasks ? a->tasks->note : NULL;
}

const struct ck_task *ck_task_by_pid(struct ck_analysis *a, int32_t pid)
{
	struct ck_tasks *t;
	struct ck_error *err = tasks_model(a, &t);
	if (err) {
		ck_error_destroy(err);
		return NULL;
	}
	size_t lo = 0, hi = t->vec.size;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->vec.data[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < t->vec.size && t->vec.data[lo].pid == pid ? &t->vec.data[lo] : NULL;
}

const struct ck_task *ck_task_by_addr(struct ck_analysis *a, uint64_t addr)
{
	struct ck_tasks *t;
	struct ck_error *err = tasks_model(a, &t);
	if (err) {
		ck_error_destroy(err);
		return NULL;
	}
	struct ck_task_set_entry *e = ck_task_set_search(&t->by_addr, &addr);
	return e ? &t->vec.data[e->value] : NULL;
}

struct ck_error *ck_cpu_curr(struct ck_analysis *a, int cpu, uint64_t *task)
{
	struct ck_tasks *t;
	struct ck_error *err = tasks_model(a, &t);
	if (err)
		return err;
	if (cpu < 0 || cpu >= t->nr_cpus)
		return ck_error_create(CK_ERR_INVALID, "invalid cpu number: %d", cpu);
	if (!t->curr[cpu])
		return ck_error_create(CK_ERR_NOT_FOUND,
				       "the current task of CPU %d cannot be read (its runqueue)",
				       cpu);
	*task = t->curr[cpu];
	return NULL;
}

/* The CPU that took the dump when the kernel did not panic: x86's
 * crashing_cpu (set by the kexec crash path), else -1. */
static int crashing_cpu(struct ck_analysis *a)
{
	struct ck_symbol sym;
	uint32_t v;
	struct ck_error *err = ck_kernel_symbol_by_name(a->kernel, "crashing_cpu", &sym);
	if (!err)
		err = ck_kernel_read_u32(a->kernel, sym.address, &v);
	ck_error_destroy(err);
	return err ? -1 : (int32_t)v;
}

struct ck_error *ck_panic_task(struct ck_analysis *a, const struct ck_task **task, int *cpu)
{
	struct ck_tasks *t;
	struct ck_error *err = tasks_model(a, &t);
	if (err)
		return err;
	int32_t pc = -1;
	err = ck_kernel_panic_cpu(a->kernel, &pc);
	ck_error_destroy(err);
	if (err || pc < 0 || pc >= t->nr_cpus)
		pc = crashing_cpu(a);
	bool panicked = pc >= 0 && pc < t->nr_cpus && t->curr[pc];
	/* a dump of a running machine (QEMU's): the first CPU's task */
	for (int c = 0; !panicked && c < t->nr_cpus; c++) {
		if (t->curr[c]) {
			pc = c;
			break;
		}
	}
	if (pc < 0 || pc >= t->nr_cpus || !t->curr[pc]) {
		*cpu = -1;
		return ck_error_create(CK_ERR_NOT_FOUND, "no CPU's current task can be read");
	}
	const struct ck_task *k = ck_task_by_addr(a, t->curr[pc]);
	if (!k)
		return ck_error_create(CK_ERR_NOT_FOUND,
				       "the current task 0x%llx of CPU %d is not in the task list",
				       (unsigned long long)t->curr[pc], pc);
	*task = k;
	*cpu = panicked ? pc : -1;
	return NULL;
}

struct ck_error *ck_context_task(struct ck_analysis *a, const struct ck_task **ret)
{
	if (a->ctx_task) {
		const struct ck_task *k = ck_task_by_addr(a, a->ctx_task);
		if (k) {
			*ret = k;
			return NULL;
		}
	}
	int cpu;
	return ck_panic_task(a, ret, &cpu);
}

const char *ck_task_state_name(struct ck_analysis *a, const struct ck_task *k)
{
	struct ck_tasks *t;
	struct ck_error *err = tasks_model(a, &t);
	if (err) {
		ck_error_destroy(err);
		return "??";
	}
	const struct task_states *s = &t->st;
	uint64_t st = k->state | k->exit_state;
	const char *name = "??";
	bool set = false;
	/* the last that applies wins, as in crash */
	if (st == 0)
		name = "RU";
	if (st & s->interruptible)
		name = "IN", set = true;
	if (st & s->uninterruptible)
		name = s->noload && (st & s->noload) ? "ID" : "UN", set = true;
	if (st & s->zombie)
		name = "ZO", set = true;
	if (st & s->stopped)
		name = "ST", set = true;
	if (s->traced && (st & s->traced))
		name = "TR", set = true;
	if ((st & s->dead) && !set)
		name = "DE";
	if (s->parked && st == s->parked)
		name = "PA";
	if (s->waking && st == s->waking)
		name = "WA";
	if (s->new_ && st == s->new_)
		name = "NE";
	return name;
}

/* ---- for the commands (analysis.h, "tasks") ---- */

bool ck_task_is_kernel_thread(struct ck_analysis *a, const struct ck_task *k)
{
	if (k->pid == 0)
		return true;
	if (a->tasks && a->tasks->pf_kthread)
		return k->flags & a->tasks->pf_kthread;
	return !k->mm;
}

/* crash's `set` spelling of the state: "TASK_RUNNING", or the names of the
 * bits set joined by '|'. */
void ck_task_state_long(struct ck_analysis *a, const struct ck_task *k, char *buf, size_t size)
{
	struct ck_tasks *t;
	struct ck_error *err = tasks_model(a, &t);
	snprintf(buf, size, "(unknown)");
	if (err) {
		ck_error_destroy(err);
		return;
	}
	const struct task_states *s = &t->st;
	uint64_t st = k->state | k->exit_state;
	if (st == 0) {
		snprintf(buf, size, "TASK_RUNNING");
		return;
	}
	if (s->parked && st == s->parked) {
		snprintf(buf, size, "TASK_PARKED");
		return;
	}
	const struct { uint64_t bit; const char *name; } names[] = {
		{ s->interruptible, "TASK_INTERRUPTIBLE" },
		{ s->uninterruptible, "TASK_UNINTERRUPTIBLE" },
		{ s->stopped, "TASK_STOPPED" },
		{ s->traced, "TASK_TRACED" },
		{ s->dead, (st & s->dead) & ((st & s->dead) - 1) ? "EXIT_DEAD|TASK_DEAD" : "EXIT_DEAD" },
		{ s->zombie, "EXIT_ZOMBIE" },
		{ s->waking, "TASK_WAKING" },
		{ s->wakekill, "TASK_WAKEKILL" },
		{ s->noload, "TASK_NOLOAD" },
		{ s->new_, "TASK_NEW" },
	};
	size_t len = 0;
	buf[0] = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!names[i].bit || !(st & names[i].bit) || len >= size)
			continue;
		int n = snprintf(buf + len, size - len, "%s%s", len ? "|" : "", names[i].name);
		if (n > 0)
			len += (size_t)n;
	}
}
