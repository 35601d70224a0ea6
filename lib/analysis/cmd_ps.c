/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ps: the tasks in crash's layout.
 *
 *       PID    PPID  CPU       TASK        ST  %MEM      VSZ      RSS  COMM
 *   >   119       1   0  ffff89cc821de100  RU   0.1      988      696  ck_crash
 *
 * '>' marks each CPU's current task, kernel threads' names are in brackets.
 * VSZ is mm->total_vm, RSS the mm's file, anon and shmem counters (plus the
 * threads' cached counts on kernels with SPLIT_RSS_COUNTING), %MEM the RSS
 * over the pages up to high_memory, as crash computes them.  Options:
 * -k -u -G -s, and one of -p -c -t -l; selectors PID, TASK, COMM ('\comm'
 * for a name that looks like a number).  ck_ps_* run it for foreach.
 */
#include <bpf/btf.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analysis/analysis.h"
#include "base/hash_map.h"

static size_t u64_hash(const uint64_t *k)
{
	return ck_hash_u64(*k);
}

static bool u64_eq(const uint64_t *a, const uint64_t *b)
{
	return *a == *b;
}

CK_DEFINE_HASH_MAP(ck_ps_seen, uint64_t, bool, u64_hash, u64_eq)

/* How the mm's resident pages are counted on this kernel. */
struct rss_layout {
	bool ok;
	bool percpu;			/* 6.2+: struct percpu_counter rss_stat[] */
	uint64_t mm_rss;		/* offset of mm->rss_stat (its count[] on 6.1) */
	uint64_t elem;			/* bytes per counter */
	uint64_t pc_count, pc_counters;	/* in struct percpu_counter */
	bool task_rss;			/* task->rss_stat.count[] (SPLIT_RSS_COUNTING) */
	uint64_t task_rss_count;
	int idx[3];			/* MM_FILEPAGES, MM_ANONPAGES, MM_SHMEMPAGES (-1: none) */
	struct ck_member total_vm;
};

struct ck_ps {
	struct ck_analysis *a;
	unsigned flags;
	const struct ck_task *tasks;
	size_t nr;
	uint64_t page_size, total_pages;
	int nr_cpus;
	struct rss_layout rss;
	struct ck_ps_seen groups;	/* -G: leaders printed */
	bool header_done;
	bool idle_shown;		/* -g: the idle tasks were listed as threads */
	bool specified;			/* tasks were named */
	uint32_t policies;		/* -y: bit n for SCHED_* policy n; 0: any */
	json_object *json;		/* --json: the "tasks" array */
	/* indices into tasks by tgid and by parent (then ps order), so that
	 * a thread group's or a task's children are found without a scan */
	size_t *by_tgid, *by_parent;
};

static int cmp_tgid(const void *pa, const void *pb, void *arg)
{
	const struct ck_task *t = arg;
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	if (t[a].tgid != t[b].tgid)
		return t[a].tgid < t[b].tgid ? -1 : 1;
	return a < b ? -1 : a > b;
}

static int cmp_parent(const void *pa, const void *pb, void *arg)
{
	const struct ck_task *t = arg;
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	if (t[a].parent != t[b].parent)
		return t[a].parent < t[b].parent ? -1 : 1;
	return a < b ? -1 : a > b;
}

static size_t *make_index(const struct ck_task *tasks, size_t nr,
			  int (*cmp)(const void *, const void *, void *))
{
	size_t *idx = ck_calloc_array(nr ? nr : 1, sizeof(*idx));
	if (!idx)
		return NULL;
	for (size_t i = 0; i < nr; i++)
		idx[i] = i;
	qsort_r(idx, nr, sizeof(*idx), cmp, (void *)tasks);
	return idx;
}

/* The first position in idx whose task's key (tgid or parent) is >= key. */
static size_t index_lower(const struct ck_ps *ps, const size_t *idx, bool tgid, uint64_t key)
{
	size_t lo = 0, hi = ps->nr;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ck_task *t = &ps->tasks[idx[mid]];
		if (tgid ? t->tgid < (int32_t)key : t->parent < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The values of enumerators by name, from any enum of BTF (the MM_*
 * counters are in an anonymous one). */
static void enum_values(const struct btf *btf, const char *const *names, int *vals, size_t n)
{
	uint32_t cnt = btf__type_cnt(btf);
	for (size_t i = 0; i < n; i++)
		vals[i] = -1;
	for (uint32_t id = 1; id < cnt; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (!t || !btf_is_enum(t))
			continue;
		const struct btf_enum *e = btf_enum(t);
		for (uint16_t j = 0; j < btf_vlen(t); j++, e++) {
			const char *s = btf__name_by_offset(btf, e->name_off);
			for (size_t i = 0; s && i < n; i++)
				if (vals[i] < 0 && !strcmp(s, names[i]))
					vals[i] = (int)e->val;
		}
	}
}

static void rss_layout_init(struct ck_types *types, struct rss_layout *r)
{
	static const char *const names[] = { "MM_FILEPAGES", "MM_ANONPAGES", "MM_SHMEMPAGES" };
	struct ck_member m;
	memset(r, 0, sizeof(*r));
	struct ck_error *err = ck_member_of(types, "mm_struct", "total_vm", &r->total_vm);
	if (err) {
		ck_error_destroy(err);
		return;
	}
	enum_values(ck_types_btf(types), names, r->idx, 3);
	if (r->idx[0] < 0 || r->idx[1] < 0)
		return;
	/* Linux 6.2 (f1a7941243c1) made mm->rss_stat an array of percpu_counter */
	struct ck_member c, cs;
	if (!(err = ck_member_of(types, "mm_struct", "rss_stat.count", &m))) {
		r->mm_rss = m.offset;
		r->elem = ck_type_size(types, ck_type_target(types, m.type));
	} else {
		ck_error_destroy(err);
		err = ck_member_of(types, "mm_struct", "rss_stat", &m);
		if (!err)
			err = ck_member_of(types, "percpu_counter", "count", &c);
		if (err) {
			ck_error_destroy(err);
			return;
		}
		r->percpu = true;
		r->mm_rss = m.offset;
		r->elem = ck_type_size(types, ck_type_target(types, m.type));
		r->pc_count = c.offset;
		/* !CONFIG_SMP: no per-cpu deltas */
		err = ck_member_of(types, "percpu_counter", "counters", &cs);
		r->pc_counters = err ? UINT64_MAX : cs.offset;
		ck_error_destroy(err);
	}
	if (!r->elem)
		return;
	err = ck_member_of(types, "task_struct", "rss_stat.count", &m);
	r->task_rss = !err;
	r->task_rss_count = err ? 0 : m.offset;
	ck_error_destroy(err);
	r->ok = true;
}

/* Reads that may fail quietly (a page not in the dump counts as 0). */
static bool read_u64(struct ck_kernel *k, uint64_t addr, uint64_t *v)
{
	struct ck_error *err = ck_kernel_read_u64(k, addr, v);
	ck_error_destroy(err);
	return !err;
}

static bool read_u32(struct ck_kernel *k, uint64_t addr, uint32_t *v)
{
	struct ck_error *err = ck_kernel_read_u32(k, addr, v);
	ck_error_destroy(err);
	return !err;
}

/* A percpu_counter's sum (count plus each CPU's delta), 0 if negative. */
static int64_t percpu_counter_sum(struct ck_ps *ps, uint64_t fbc)
{
	struct ck_kernel *k = ps->a->kernel;
	uint64_t count, counters;
	if (!read_u64(k, fbc + ps->rss.pc_count, &count))
		return 0;
	int64_t sum = (int64_t)count;
	if (ps->rss.pc_counters != UINT64_MAX &&
	    read_u64(k, fbc + ps->rss.pc_counters, &counters)) {
		for (int cpu = 0; cpu < ps->nr_cpus; cpu++) {
			uint64_t off;
			uint32_t v;
			struct ck_error *err = ck_percpu_offset(ps->a, cpu, &off);
			if (!err)
				err = ck_kernel_read_u32(k, counters + off, &v);
			if (err)
				ck_error_destroy(err);
			else
				sum += (int32_t)v;
		}
	}
	return sum < 0 ? 0 : sum;
}

/* The task's resident pages (crash's get_task_mem_usage). */
static uint64_t task_rss(struct ck_ps *ps, const struct ck_task *t)
{
	const struct rss_layout *r = &ps->rss;
	struct ck_kernel *k = ps->a->kernel;
	int64_t rss = 0;
	for (int i = 0; i < 3; i++) {
		if (r->idx[i] < 0)
			continue;
		uint64_t at = t->mm + r->mm_rss + (uint64_t)r->idx[i] * r->elem;
		uint64_t v;
		if (r->percpu) {
			rss += percpu_counter_sum(ps, at);
		} else if (read_u64(k, at, &v)) {
			if ((int64_t)v > 0)
				rss += (int64_t)v;
		}
	}
	/* the threads' counts not yet folded into the mm */
	size_t from = r->task_rss ? index_lower(ps, ps->by_tgid, true, (uint32_t)t->tgid) : ps->nr;
	for (size_t n = from; n < ps->nr && ps->tasks[ps->by_tgid[n]].tgid == t->tgid; n++) {
		size_t j = ps->by_tgid[n];
		if (ps->tasks[j].pid == 0)
			continue;
		for (int i = 0; i < 3; i++) {
			uint32_t v;
			if (r->idx[i] < 0 ||
			    !read_u32(k, ps->tasks[j].addr + r->task_rss_count +
				      (uint64_t)r->idx[i] * 4, &v))
				continue;
			if ((int32_t)v > 0)
				rss += (int32_t)v;
		}
	}
	return (uint64_t)rss;
}

static uint64_t total_pages(struct ck_analysis *a, uint64_t page_size)
{
	struct ck_symbol sym;
	uint64_t hm, phys;
	struct ck_error *err = ck_kernel_symbol_by_name(a->kernel, "high_memory", &sym);
	if (!err)
		err = ck_kernel_read_u64(a->kernel, sym.address, &hm);
	if (!err)
		err = ck_kernel_virt_to_phys(a->kernel, hm - 1, &phys);
	if (!err)
		return (phys + 1) / page_size;
	ck_error_destroy(err);
	uint64_t pages = 0;
	err = ck_kernel_symbol_by_name(a->kernel, "totalram_pages", &sym);
	if (!err)
		err = ck_kernel_read_u64(a->kernel, sym.address, &pages);
	ck_error_destroy(err);
	return pages;
}

struct ck_error *ck_ps_create(struct ck_analysis *a, unsigned flags, struct ck_ps **ret)
{
	struct ck_types *types;
	struct ck_error *err = ck_analysis_types(a, &types);
	if (err)
		return err;
	struct ck_ps *ps = calloc(1, sizeof(*ps));
	if (!ps)
		return &ck_error_nomem;
	ps->a = a;
	ps->flags = flags;
	ck_ps_seen_init(&ps->groups);
	err = ck_tasks_get(a, &ps->tasks, &ps->nr);
	if (!err)
		err = ck_cpus(a, &ps->nr_cpus);
	if (err) {
		ck_ps_destroy(ps);
		return err;
	}
	if (ck_kernel_vmcoreinfo_u64(a->kernel, "PAGESIZE", &ps->page_size) || !ps->page_size)
		ps->page_size = 4096;
	ps->total_pages = total_pages(a, ps->page_size);
	rss_layout_init(types, &ps->rss);
	ps->by_tgid = make_index(ps->tasks, ps->nr, cmp_tgid);
	ps->by_parent = make_index(ps->tasks, ps->nr, cmp_parent);
	if (!ps->by_tgid || !ps->by_parent) {
		ck_ps_destroy(ps);
		return &ck_error_nomem;
	}
	if (a->json) {
		ps->json = json_object_new_array();
		if (!ps->json) {
			ck_ps_destroy(ps);
			return &ck_error_nomem;
		}
	}
	*ret = ps;
	return NULL;
}

void ck_ps_destroy(struct ck_ps *ps)
{
	if (!ps)
		return;
	ck_ps_seen_deinit(&ps->groups);
	json_object_put(ps->json);
	free(ps->by_tgid);
	free(ps->by_parent);
	free(ps);
}

/* "PID: 119      TASK: ffff89cc821de100  CPU: 0    COMMAND: "ck_crash"" */
void ck_task_header(FILE *out, const struct ck_task *t)
{
	char cpu[16];
	snprintf(cpu, sizeof(cpu), "%d", t->cpu);
	fprintf(out, "PID: %-7d  TASK: %-16llx  CPU: %-3s  COMMAND: \"%s\"\n", t->pid,
		(unsigned long long)t->addr, cpu, t->comm);
}

struct mem_usage {
	uint64_t rss, vsz_pages;
	double pct;
};

static void mem_usage(struct ck_ps *ps, const struct ck_task *t, struct mem_usage *mu)
{
	memset(mu, 0, sizeof(*mu));
	const char *st = ck_task_state_name(ps->a, t);
	if (!t->mm || !ps->rss.ok || !strcmp(st, "ZO"))
		return;
	ck_error_destroy(ck_read_member(ps->a->kernel, ps->a->types, t->mm, &ps->rss.total_vm,
					&mu->vsz_pages));
	mu->rss = task_rss(ps, t);
	if (ps->total_pages)
		mu->pct = (double)(mu->rss * 100) / (double)ps->total_pages;
}

static void ps_json_row(struct ck_ps *ps, const struct ck_task *t, const struct mem_usage *mu)
{
	json_object *o = json_object_new_object();
	if (!o)
		return;
	json_object_object_add(o, "pid", json_object_new_int(t->pid));
	json_object_object_add(o, "ppid", json_object_new_int(t->ppid));
	json_object_object_add(o, "cpu", json_object_new_int(t->cpu));
	char addr[24];
	snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)t->addr);
	json_object_object_add(o, "task", json_object_new_string(addr));
	json_object_object_add(o, "state", json_object_new_string(ck_task_state_name(ps->a, t)));
	json_object_object_add(o, "comm", json_object_new_string(t->comm));
	json_object_object_add(o, "active", json_object_new_boolean(t->active));
	json_object_object_add(o, "kernel_thread",
			       json_object_new_boolean(ck_task_is_kernel_thread(ps->a, t)));
	json_object_object_add(o, "vsz_kib",
			       json_object_new_int64((int64_t)(mu->vsz_pages * ps->page_size / 1024)));
	json_object_object_add(o, "rss_kib",
			       json_object_new_int64((int64_t)(mu->rss * ps->page_size / 1024)));
	json_object_object_add(o, "mem_percent", json_object_new_double(mu->pct));
	json_object_array_add(ps->json, o);
}

/* The KSTACKP column: the saved stack pointer, "--" for a running task. */
static void kstackp(struct ck_ps *ps, const struct ck_task *t, char *buf, size_t size)
{
	uint64_t sp = 0;
	if (!t->active) {
		struct ck_error *err = ck_read_field(ps->a->kernel, ps->a->types, t->addr,
						     "task_struct", "thread.sp", &sp);
		ck_error_destroy(err);
	}
	if (sp)
		snprintf(buf, size, "%16llx", (unsigned long long)sp);
	else
		snprintf(buf, size, "%7s--%7s", "", "");
}

static void ps_row(struct ck_ps *ps, const struct ck_task *t)
{
	/* -A: the CPUs' current tasks only (when no task is named) */
	if ((ps->flags & CK_PS_ACTIVE) && !ps->specified && !t->active)
		return;
	struct mem_usage mu;
	mem_usage(ps, t, &mu);
	if (ps->json) {
		ps_json_row(ps, t, &mu);
		return;
	}
	FILE *out = ps->a->out;
	char cpu[16], ptr[24], pct[16];
	snprintf(cpu, sizeof(cpu), "%d", t->cpu);
	if (ps->flags & CK_PS_KSTACKP)
		kstackp(ps, t, ptr, sizeof(ptr));
	else
		snprintf(ptr, sizeof(ptr), "%-16llx", (unsigned long long)t->addr);
	snprintf(pct, sizeof(pct), "%.1f", mu.pct);
	fprintf(out, "%s%7d %7d %3s  %s %3s  %4s %8llu %8llu  ", t->active ? "> " : "  ", t->pid,
		t->ppid, cpu, ptr, ck_task_state_name(ps->a, t), pct,
		(unsigned long long)(mu.vsz_pages * ps->page_size / 1024),
		(unsigned long long)(mu.rss * ps->page_size / 1024));
	fprintf(out, ck_task_is_kernel_thread(ps->a, t) ? "[%s]\n" : "%s\n", t->comm);
}

/* -p: the chain of parents (task->parent) from the root down. */
static void ps_parents(struct ck_ps *ps, const struct ck_task *t)
{
	const struct ck_task *chain[256];
	size_t n = 0;
	chain[n++] = t;
	while (n < sizeof(chain) / sizeof(chain[0])) {
		uint64_t parent = 0;
		struct ck_error *err = ck_read_field(ps->a->kernel, ps->a->types, chain[n - 1]->addr,
						     "task_struct", "parent", &parent);
		ck_error_destroy(err);
		const struct ck_task *p = err ? NULL : ck_task_by_addr(ps->a, parent);
		if (!p || p == chain[n - 1])
			break;
		chain[n++] = p;
	}
	for (size_t i = n, depth = 0; i-- > 0; depth++) {
		fprintf(ps->a->out, "%*s", (int)depth, "");
		ck_task_header(ps->a->out, chain[i]);
	}
	fprintf(ps->a->out, "\n");
}

/* -c: the task and its children (real_parent is the task). */
static void ps_children(struct ck_ps *ps, const struct ck_task *t)
{
	size_t cnt = 0;
	ck_task_header(ps->a->out, t);
	for (size_t n = index_lower(ps, ps->by_parent, false, t->addr);
	     n < ps->nr && ps->tasks[ps->by_parent[n]].parent == t->addr; n++) {
		fprintf(ps->a->out, "  ");
		ck_task_header(ps->a->out, &ps->tasks[ps->by_parent[n]]);
		cnt++;
	}
	if (!cnt)
		fprintf(ps->a->out, "  (no children)\n");
	fprintf(ps->a->out, "\n");
}

/* -g: the thread group's leader and its other threads.  specified: a
 * thread named stands for its group. */
static void ps_threads(struct ck_ps *ps, const struct ck_task *t, bool specified)
{
	if (t->pid != t->tgid) {
		if (!specified || !(t = ck_task_by_pid(ps->a, t->tgid)))
			return;
	}
	if (t->pid == 0 && ps->idle_shown)
		return;
	ck_task_header(ps->a->out, t);
	size_t cnt = 0;
	for (size_t n = index_lower(ps, ps->by_tgid, true, (uint32_t)t->tgid);
	     n < ps->nr && ps->tasks[ps->by_tgid[n]].tgid == t->tgid; n++) {
		const struct ck_task *o = &ps->tasks[ps->by_tgid[n]];
		if (o == t)
			continue;
		fprintf(ps->a->out, "  ");
		ck_task_header(ps->a->out, o);
		cnt++;
		if (o->pid == 0)
			ps->idle_shown = true;
	}
	if (!cnt)
		fprintf(ps->a->out, "  (no threads)\n");
	fprintf(ps->a->out, "\n");
}

static uint64_t last_run(struct ck_ps *ps, const struct ck_task *t)
{
	uint64_t v = 0;
	struct ck_error *err = ck_read_field(ps->a->kernel, ps->a->types, t->addr, "task_struct",
					     "sched_info.last_arrival", &v);
	ck_error_destroy(err);
	return v;
}

/* -l: "[last_arrival] [ST]  PID: ..."; width: the largest timestamp's. */
static void ps_last_run(struct ck_ps *ps, const struct ck_task *t, int width)
{
	fprintf(ps->a->out, "[%*llu] [%s]  ", width, (unsigned long long)last_run(ps, t),
		ck_task_state_name(ps->a, t));
	ck_task_header(ps->a->out, t);
}

/* crash's "D HH:MM:SS.mmm" of a span in nanoseconds. */
static int span_string(uint64_t ns, char *buf, size_t size)
{
	uint64_t ms = ns / 1000000u, s = ms / 1000u;
	return snprintf(buf, size, "%llu %02llu:%02llu:%02llu.%03llu",
			(unsigned long long)(s / 86400), (unsigned long long)(s / 3600 % 24),
			(unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60),
			(unsigned long long)(ms % 1000));
}

static uint64_t rq_clock(struct ck_ps *ps, int cpu)
{
	struct ck_symbol rq;
	uint64_t off, clock = 0;
	struct ck_error *err = ck_kernel_symbol_by_name(ps->a->kernel, "runqueues", &rq);
	if (!err)
		err = ck_percpu_offset(ps->a, cpu, &off);
	if (!err)
		err = ck_read_field(ps->a->kernel, ps->a->types, rq.address + off, "rq", "clock",
				    &clock);
	ck_error_destroy(err);
	return clock;
}

/* -m: "[D HH:MM:SS.mmm] [ST]  PID: ...": how long before its CPU's clock
 * stopped the task last ran; days padded to the clock's. */
static void ps_msecs(struct ck_ps *ps, const struct ck_task *t)
{
	char span[64], clock[64];
	uint64_t now = rq_clock(ps, t->cpu), last = last_run(ps, t);
	span_string(now, clock, sizeof(clock));
	int max_days = (int)strcspn(clock, " ");
	span_string(now > last ? now - last : 0, span, sizeof(span));
	int days = (int)strcspn(span, " ");
	fprintf(ps->a->out, "[%*s%s] [%s]  ", max_days > days ? max_days - days : 0, "", span,
		ck_task_state_name(ps->a, t));
	ck_task_header(ps->a->out, t);
}

/* The uptime in seconds: the latest runqueue clock (nanoseconds of
 * sched_clock since boot). */
static uint64_t uptime_s(struct ck_ps *ps)
{
	struct ck_symbol rq;
	uint64_t best = 0;
	struct ck_error *e = ck_kernel_symbol_by_name(ps->a->kernel, "runqueues", &rq);
	if (e) {
		ck_error_destroy(e);
		return 0;
	}
	for (int cpu = 0; cpu < ps->nr_cpus; cpu++) {
		uint64_t off, clock;
		struct ck_error *err = ck_percpu_offset(ps->a, cpu, &off);
		if (!err)
			err = ck_read_field(ps->a->kernel, ps->a->types, rq.address + off, "rq",
					    "clock", &clock);
		if (!err && clock > best)
			best = clock;
		ck_error_destroy(err);
	}
	return best / 1000000000u;
}

/* -t: run time, start time, user and system time. */
static void ps_times(struct ck_ps *ps, const struct ck_task *t, uint64_t up)
{
	uint64_t start = 0, ut = 0, st = 0;
	struct ck_kernel *k = ps->a->kernel;
	ck_error_destroy(ck_read_field(k, ps->a->types, t->addr, "task_struct", "start_time",
				       &start));
	ck_error_destroy(ck_read_field(k, ps->a->types, t->addr, "task_struct", "utime", &ut));
	ck_error_destroy(ck_read_field(k, ps->a->types, t->addr, "task_struct", "stime", &st));
	uint64_t run = up > start / 1000000000u ? up - start / 1000000000u : 0;
	ck_task_header(ps->a->out, t);
	fprintf(ps->a->out, "    RUN TIME: ");
	if (run >= 86400)
		fprintf(ps->a->out, "%llu days, ", (unsigned long long)(run / 86400));
	fprintf(ps->a->out, "%02llu:%02llu:%02llu\n", (unsigned long long)(run % 86400 / 3600),
		(unsigned long long)(run % 3600 / 60), (unsigned long long)(run % 60));
	fprintf(ps->a->out, "  START TIME: %llu\n", (unsigned long long)start);
	fprintf(ps->a->out, "       UTIME: %llu\n", (unsigned long long)ut);
	fprintf(ps->a->out, "       STIME: %llu\n\n", (unsigned long long)st);
}

static void ps_header(struct ck_ps *ps)
{
	if (ps->header_done || ps->json)
		return;
	ps->header_done = true;
	if (ps->flags & (CK_PS_NO_HEADER | (CK_PS_EXCLUSIVE & ~CK_PS_ACTIVE)))
		return;
	fprintf(ps->a->out, "      PID    PPID  CPU %s  ST  %%MEM      VSZ      RSS  COMM\n",
		ps->flags & CK_PS_KSTACKP ? "     KSTACKP    " : "      TASK      ");
}

/* -G: the task's group leader if not printed yet, or NULL.  specified: a
 * task asked for by name (a thread stands for its leader). */
static const struct ck_task *group_leader(struct ck_ps *ps, const struct ck_task *t,
					  bool specified)
{
	if (t->pid != t->tgid) {
		if (!specified)
			return NULL;
		t = ck_task_by_pid(ps->a, t->tgid);
		if (!t)
			return NULL;
	}
	struct ck_ps_seen_entry e = { .key = t->addr, .value = true };
	return ck_ps_seen_insert(&ps->groups, &e, NULL) == 1 ? t : NULL;
}

/* include/uapi/linux/sched.h: SCHED_NORMAL 0 ... SCHED_DEADLINE 6 (4, ISO,
 * was never merged); crash's names. */
static const char *const policy_names[] = { "NORMAL", "FIFO", "RR", "BATCH", "ISO", "IDLE",
					    "DEADLINE" };

/* -y NAME[,NAME...]: names, or numbers in decimal or 0x hex. */
static bool parse_policies(const char *spec, uint32_t *ret)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", spec);
	*ret = 0;
	for (char *save = NULL, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		bool found = false;
		for (unsigned i = 0; i < sizeof(policy_names) / sizeof(policy_names[0]); i++) {
			char dec[8], hex[8];
			snprintf(dec, sizeof(dec), "%u", i);
			snprintf(hex, sizeof(hex), "0x%x", i);
			if (!strcasecmp(w, policy_names[i]) || !strcmp(w, dec) || !strcasecmp(w, hex)) {
				*ret |= 1u << i;
				found = true;
			}
		}
		if (!found)
			return false;
	}
	return *ret != 0;
}

static bool policy_selected(struct ck_ps *ps, const struct ck_task *t)
{
	uint64_t policy = 0;
	if (!ps->policies)
		return true;
	struct ck_error *err = ck_read_field(ps->a->kernel, ps->a->types, t->addr, "task_struct",
					     "policy", &policy);
	ck_error_destroy(err);
	return !err && policy < 32 && (ps->policies >> policy) & 1;
}

void ck_ps_task(struct ck_ps *ps, const struct ck_task *t, bool specified)
{
	bool kthread = ck_task_is_kernel_thread(ps->a, t);
	if (((ps->flags & CK_PS_USER) && kthread) || ((ps->flags & CK_PS_KERNEL) && !kthread) ||
	    !policy_selected(ps, t))
		return;
	if ((ps->flags & CK_PS_GROUP) && !(t = group_leader(ps, t, specified)))
		return;
	ps_header(ps);
	ps->specified = specified;
	if (ps->flags & CK_PS_PARENTS)
		ps_parents(ps, t);
	else if (ps->flags & CK_PS_CHILDREN)
		ps_children(ps, t);
	else if (ps->flags & CK_PS_THREADS)
		ps_threads(ps, t, specified);
	else if (ps->flags & CK_PS_LAST_RUN)
		ps_last_run(ps, t, 1);
	else if (ps->flags & CK_PS_MSECS)
		ps_msecs(ps, t);
	else if (ps->flags & CK_PS_TIMES)
		ps_times(ps, t, uptime_s(ps));
	else
		ps_row(ps, t);
}

void ck_ps_finish(struct ck_ps *ps)
{
	if (!ps->json)
		return;
	json_object *o = json_object_new_object();
	if (!o)
		return;
	json_object_object_add(o, "tasks", json_object_get(ps->json));
	const char *note = ck_tasks_note(ps->a);
	if (note)
		json_object_object_add(o, "note", json_object_new_string(note));
	fprintf(ps->a->out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

/* ---- the command ---- */

#define PS_MAX_ARGS 64

struct ps_sel {
	int32_t pid;		/* -1: none */
	uint64_t task;		/* 0: none */
	const char *comm;	/* NULL: none */
};

/* A number argument as crash reads it (str_to_context): the digits as a
 * decimal pid or task address, else as a hex pid or address.  1: a pid
 * (*pid), 2: a task (*task), 0: none, or ambiguous. */
int ck_task_arg(struct ck_analysis *a, const char *s, int32_t *pid, uint64_t *task)
{
	bool dec = s[0] && strspn(s, "0123456789") == strlen(s);
	const char *h = (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2)) ? s + 2 : s;
	bool hex = h[0] && strspn(h, "0123456789abcdefABCDEF") == strlen(h) && strlen(h) <= 16;
	unsigned long long dv = dec ? strtoull(s, NULL, 10) : 0, hv = hex ? strtoull(h, NULL, 16) : 0;
	bool dp = dec && dv <= INT32_MAX && ck_task_by_pid(a, (int32_t)dv);
	bool dt = dec && ck_task_by_addr(a, dv);
	bool hp = hex && (!dec || hv != dv) && hv <= INT32_MAX && ck_task_by_pid(a, (int32_t)hv);
	bool ht = hex && (!dec || hv != dv) && ck_task_by_addr(a, hv);
	int found = dp + dt + hp + ht;
	if (found == 2 && dp && hp)
		ht = hp = dt = false;
	else if (found != 1)
		return 0;
	if (dp || hp)
		*pid = (int32_t)(dp ? dv : hv);
	else
		*task = dt ? dv : hv;
	return dp || hp ? 1 : 2;
}

/* A word that crash takes for a number (a pid or an address). */
bool ck_task_arg_is_number(const char *s)
{
	const char *h = (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2)) ? s + 2 : s;
	return h[0] && strspn(h, "0123456789abcdefABCDEF") == strlen(h);
}

static int ps_parse(struct ck_analysis *a, int argc, char **argv, unsigned *flags,
		    const char **cpuspec, const char **policy)
{
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt(argc, argv, "+kuGpctlsSmgAHC:y:")) != -1) {
		unsigned f = 0;
		switch (c) {
		case 'k': f = CK_PS_KERNEL; break;
		case 'u': f = CK_PS_USER; break;
		case 'G': f = CK_PS_GROUP; break;
		case 'p': f = CK_PS_PARENTS; break;
		case 'c': f = CK_PS_CHILDREN; break;
		case 't': f = CK_PS_TIMES; break;
		case 'l': f = CK_PS_LAST_RUN; break;
		case 's': f = CK_PS_KSTACKP; break;
		case 'S': f = CK_PS_SUMMARY; break;
		case 'm': f = CK_PS_MSECS; break;
		case 'g': f = CK_PS_THREADS; break;
		case 'A': f = CK_PS_ACTIVE; break;
		case 'H': f = CK_PS_NO_HEADER; break;
		case 'C': *cpuspec = optarg; break;
		case 'y': *policy = optarg; break;
		default:
			fprintf(a->err, "ps: option -%c is not supported (options: -k -u -G -y -p -c -g -t -l -m -C -s -S -A -H)\n",
				optopt);
			return 1;
		}
		*flags |= f;
	}
	if ((*flags & CK_PS_KERNEL) && (*flags & CK_PS_USER)) {
		fprintf(a->err, "ps: -u and -k are mutually exclusive\n");
		return 1;
	}
	unsigned ex = *flags & CK_PS_EXCLUSIVE;
	if (ex & (ex - 1)) {
		fprintf(a->err, "ps: -a, -t, -c, -p, -g, -l, -m, -S, -r and -A flags are all "
			"mutually-exclusive\n");
		return 1;
	}
	if ((*flags & CK_PS_SUMMARY) && (*flags & (CK_PS_USER | CK_PS_KERNEL | CK_PS_GROUP))) {
		fprintf(a->err, "ps: -S option cannot be used with other options\n");
		return 1;
	}
	if ((*flags & CK_PS_GROUP) && (*flags & (CK_PS_LAST_RUN | CK_PS_MSECS))) {
		fprintf(a->err, "ps: -G not supported with -%c option\n",
			*flags & CK_PS_LAST_RUN ? 'l' : 'm');
		return 1;
	}
	if (*cpuspec && !(*flags & (CK_PS_LAST_RUN | CK_PS_MSECS))) {
		fprintf(a->err, "ps: -C option is only applicable with -l and -m\n");
		return 1;
	}
	return 0;
}

static int ps_selectors(struct ck_analysis *a, int argc, char **argv, struct ps_sel *sel,
			int *nsel)
{
	int rc = 0;
	for (int i = optind; i < argc && *nsel < PS_MAX_ARGS; i++) {
		struct ps_sel s = { .pid = -1 };
		if (ck_task_arg_is_number(argv[i])) {
			if (!ck_task_arg(a, argv[i], &s.pid, &s.task)) {
				fprintf(a->err, "ps: invalid task or pid value: %s\n\n", argv[i]);
				rc = 1;
				continue;
			}
		} else {
			s.comm = argv[i][0] == '\\' ? argv[i] + 1 : argv[i];
		}
		sel[(*nsel)++] = s;
	}
	return rc;
}

static bool sel_match(const struct ps_sel *s, const struct ck_task *t, unsigned flags)
{
	if (s->pid >= 0)
		return t->pid == s->pid;
	if (s->task)
		return t->addr == s->task;
	if (strncmp(t->comm, s->comm, 15) != 0)
		return false;
	return !(flags & (CK_PS_GROUP | CK_PS_THREADS)) || t->pid == t->tgid;
}

/* The tasks' order for -l: latest run first (crash sorts its task table). */
static struct ck_error *ps_order(struct ck_ps *ps, size_t **ret, int *width)
{
	size_t *ord = ck_calloc_array(ps->nr ? ps->nr : 1, sizeof(*ord));
	uint64_t *key = ck_calloc_array(ps->nr ? ps->nr : 1, sizeof(*key));
	if (!ord || !key) {
		free(ord);
		free(key);
		return &ck_error_nomem;
	}
	for (size_t i = 0; i < ps->nr; i++) {
		ord[i] = i;
		key[i] = (ps->flags & (CK_PS_LAST_RUN | CK_PS_MSECS)) ? last_run(ps, &ps->tasks[i]) : 0;
	}
	/* insertion sort, stable: few hundred tasks */
	for (size_t i = 1; i < ps->nr; i++) {
		size_t v = ord[i], j = i;
		while (j > 0 && key[ord[j - 1]] < key[v]) {
			ord[j] = ord[j - 1];
			j--;
		}
		ord[j] = v;
	}
	char buf[32];
	*width = ps->nr ? snprintf(buf, sizeof(buf), "%llu", (unsigned long long)key[ord[0]]) : 1;
	free(key);
	*ret = ord;
	return NULL;
}

/* -t without selectors: every task by start time. */
static void ps_times_all(struct ck_ps *ps)
{
	uint64_t up = uptime_s(ps);
	size_t *ord = ck_calloc_array(ps->nr ? ps->nr : 1, sizeof(*ord));
	uint64_t *key = ck_calloc_array(ps->nr ? ps->nr : 1, sizeof(*key));
	size_t n = 0;
	for (size_t i = 0; ord && key && i < ps->nr; i++) {
		const struct ck_task *t = &ps->tasks[i];
		bool kthread = ck_task_is_kernel_thread(ps->a, t);
		if (((ps->flags & CK_PS_USER) && kthread) ||
		    ((ps->flags & CK_PS_KERNEL) && !kthread) ||
		    ((ps->flags & CK_PS_GROUP) && t->pid != t->tgid))
			continue;
		uint64_t st = 0;
		ck_error_destroy(ck_read_field(ps->a->kernel, ps->a->types, t->addr, "task_struct",
					       "start_time", &st));
		size_t j = n++;
		while (j > 0 && key[j - 1] > st) {
			key[j] = key[j - 1];
			ord[j] = ord[j - 1];
			j--;
		}
		key[j] = st;
		ord[j] = i;
	}
	for (size_t i = 0; ord && key && i < n; i++)
		ps_times(ps, &ps->tasks[ord[i]], up);
	free(ord);
	free(key);
}

/* -S: how many tasks are in each state, states in order of first sight. */
static void ps_summary(struct ck_ps *ps)
{
	const char *names[24];
	size_t counts[24] = { 0 }, n = 0;
	for (size_t i = 0; i < ps->nr; i++) {
		const char *st = ck_task_state_name(ps->a, &ps->tasks[i]);
		size_t s = 0;
		while (s < n && strcmp(names[s], st))
			s++;
		if (s == n && n < 24)
			names[n++] = st;
		if (s < n)
			counts[s]++;
	}
	for (size_t s = 0; s < n; s++)
		fprintf(ps->a->out, "  %s: %zu\n", names[s], counts[s]);
}

/* -C CPUS with -l or -m: each CPU's tasks under "CPU: N". */
static void ps_by_cpu(struct ck_ps *ps, const bool *cpus, const size_t *ord, int width)
{
	int others = 0;
	for (int c = 0; c < ps->nr_cpus; c++) {
		if (!cpus[c])
			continue;
		fprintf(ps->a->out, "%sCPU: %d", others++ ? "\n" : "", c);
		if (!ck_cpu_online(ps->a, c)) {
			fprintf(ps->a->out, " [OFFLINE]\n");
			continue;
		}
		fprintf(ps->a->out, "\n");
		for (size_t i = 0; i < ps->nr; i++) {
			const struct ck_task *t = &ps->tasks[ord[i]];
			if (t->cpu != c)
				continue;
			if (ps->flags & CK_PS_LAST_RUN)
				ps_last_run(ps, t, width);
			else
				ps_msecs(ps, t);
		}
	}
}

/* "0", "0,1", "0-3", "a" or "all": the CPUs of cpus[nr]. */
static bool parse_cpus(const char *spec, bool *cpus, int nr)
{
	if (!strcmp(spec, "a") || !strcmp(spec, "all")) {
		for (int c = 0; c < nr; c++)
			cpus[c] = true;
		return true;
	}
	for (const char *p = spec; *p;) {
		char *end;
		long lo = strtol(p, &end, 10), hi = lo;
		if (end == p || lo < 0)
			return false;
		if (*end == '-') {
			p = end + 1;
			hi = strtol(p, &end, 10);
			if (end == p || hi < lo)
				return false;
		}
		if (hi >= nr)
			return false;
		for (long c = lo; c <= hi; c++)
			cpus[c] = true;
		p = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return false;
	}
	return true;
}

static void ps_run(struct ck_ps *ps, const struct ps_sel *sel, int nsel, const bool *cpus)
{
	if (ps->flags & CK_PS_SUMMARY) {
		ps_summary(ps);
		return;
	}
	size_t *ord;
	int width = 1;
	struct ck_error *err = ps_order(ps, &ord, &width);
	if (err) {
		ck_analysis_fail(ps->a, "ps", err);
		return;
	}
	if (!nsel && (ps->flags & CK_PS_TIMES)) {
		ps_times_all(ps);
	} else if (cpus) {
		ps_by_cpu(ps, cpus, ord, width);
	} else {
		ps_header(ps);
		for (size_t i = 0; i < ps->nr && !ck_analysis_interrupted(); i++) {
			const struct ck_task *t = &ps->tasks[ord[i]];
			for (int s = 0; s < (nsel ? nsel : 1); s++) {
				if (nsel && !sel_match(&sel[s], t, ps->flags))
					continue;
				if (ps->flags & (CK_PS_LAST_RUN | CK_PS_MSECS)) {
					bool kthread = ck_task_is_kernel_thread(ps->a, t);
					if (((ps->flags & CK_PS_USER) && kthread) ||
					    ((ps->flags & CK_PS_KERNEL) && !kthread) ||
					    !policy_selected(ps, t))
						continue;
					if (ps->flags & CK_PS_LAST_RUN)
						ps_last_run(ps, t, width);
					else
						ps_msecs(ps, t);
				} else {
					ck_ps_task(ps, t, nsel > 0);
				}
			}
		}
	}
	free(ord);
}

int ck_acmd_ps(struct ck_analysis *a, int argc, char **argv)
{
	unsigned flags = 0;
	const char *cpuspec = NULL, *policy = NULL;
	if (ps_parse(a, argc, argv, &flags, &cpuspec, &policy))
		return 1;
	struct ck_ps *ps;
	struct ck_error *err = ck_ps_create(a, flags, &ps);
	if (err)
		return ck_analysis_fail(a, "ps", err);
	struct ps_sel sel[PS_MAX_ARGS];
	int nsel = 0;
	if ((flags & CK_PS_SUMMARY) && optind < argc) {
		ck_ps_destroy(ps);
		fprintf(a->err, "ps: -S option takes no arguments\n");
		return 1;
	}
	if (policy && !parse_policies(policy, &ps->policies)) {
		fprintf(a->err, "ps: %s: invalid scheduling policy\n", policy);
		ck_ps_destroy(ps);
		return 1;
	}
	bool *cpus = NULL;
	if (cpuspec) {
		cpus = ck_calloc_array((size_t)ps->nr_cpus, sizeof(*cpus));
		if (!cpus || !parse_cpus(cpuspec, cpus, ps->nr_cpus)) {
			fprintf(a->err, "ps: invalid cpu specification: %s\n", cpuspec);
			free(cpus);
			ck_ps_destroy(ps);
			return 1;
		}
		if (optind < argc) {
			fprintf(a->err, "ps: -C option is not applicable with specified tasks\n");
			free(cpus);
			cpus = NULL;
		}
	}
	int rc = ps_selectors(a, argc, argv, sel, &nsel);
	if (nsel || optind >= argc)
		ps_run(ps, sel, nsel, cpus);
	free(cpus);
	ck_ps_finish(ps);
	const char *note = ck_tasks_note(a);
	if (note && !a->json)
		fprintf(a->err, "ps: WARNING: the task list may be incomplete: %s\n", note);
	ck_ps_destroy(ps);
	return rc;
}
