/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * set: the current context (the task later commands default to), as crash
 * prints it:
 *
 *       PID: 119
 *   COMMAND: "ck_crash"
 *      TASK: ffff89cc821de100  [THREAD_INFO: ffff89cc821de100]
 *       CPU: 0
 *     STATE: TASK_RUNNING (PANIC)
 *
 * `set PID|TASK` and `set -p` (the panic task) change it and print it;
 * `set -c CPU` takes that CPU's current task (and prints nothing if it is
 * the context already, as crash).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"

/* What crash shows as THREAD_INFO: the task itself once thread_info lives
 * in task_struct (CONFIG_THREAD_INFO_IN_TASK), else the stack's base. */
static uint64_t thread_info_of(struct ck_analysis *a, const struct ck_task *t)
{
	struct ck_member m;
	struct ck_error *err = ck_member_of(a->types, "task_struct", "thread_info", &m);
	ck_error_destroy(err);
	return err ? t->stack : t->addr + m.offset;
}

void ck_set_show_context(struct ck_analysis *a, const struct ck_task *t)
{
	const struct ck_task *tasks;
	size_t nr, same = 0;
	struct ck_error *err = ck_tasks_get(a, &tasks, &nr);
	ck_error_destroy(err);
	for (size_t i = 0; !err && i < nr; i++)
		same += tasks[i].pid == t->pid;
	fprintf(a->out, "    PID: %d\n", t->pid);
	fprintf(a->out, "COMMAND: \"%s\"\n", t->comm);
	fprintf(a->out, "   TASK: %llx  ", (unsigned long long)t->addr);
	if (same > 1)
		fprintf(a->out, "(1 of %zu)  ", same);
	fprintf(a->out, "[THREAD_INFO: %llx]\n", (unsigned long long)thread_info_of(a, t));
	fprintf(a->out, "    CPU: %d\n", t->cpu);
	char state[160];
	ck_task_state_long(a, t, state, sizeof(state));
	fprintf(a->out, "  STATE: %s ", state);
	if (t->active) {
		const struct ck_task *panic = NULL;
		int cpu = -1;
		err = ck_panic_task(a, &panic, &cpu);
		ck_error_destroy(err);
		fprintf(a->out, "%s", !err && panic == t && cpu >= 0 ? "(PANIC)" : "(ACTIVE)");
	}
	fprintf(a->out, "\n");
}

static int set_cpu(struct ck_analysis *a, const char *arg)
{
	char *end;
	long cpu = strtol(arg, &end, 10);
	int nr;
	struct ck_error *err = ck_cpus(a, &nr);
	if (err)
		return ck_analysis_fail(a, "set", err);
	if (end == arg || *end || cpu < 0) {
		fprintf(a->err, "set: invalid cpu number: %s\n", arg);
		return 1;
	}
	if (cpu >= nr) {
		fprintf(a->err, "set: invalid cpu number: system has only %d cpu%s\n", nr,
			nr > 1 ? "s" : "");
		return 1;
	}
	if (!ck_cpu_online(a, (int)cpu)) {
		fprintf(a->err, "set: invalid cpu number: cpu %ld is OFFLINE\n", cpu);
		return 1;
	}
	uint64_t task;
	err = ck_cpu_curr(a, (int)cpu, &task);
	if (err)
		return ck_analysis_fail(a, "set", err);
	const struct ck_task *cur = NULL;
	err = ck_context_task(a, &cur);
	ck_error_destroy(err);
	if (!err && cur->addr == task)
		return 0;
	const struct ck_task *t = ck_task_by_addr(a, task);
	if (!t) {
		fprintf(a->err, "set: cannot determine active task on cpu %ld\n", cpu);
		return 1;
	}
	a->ctx_task = t->addr;
	ck_set_show_context(a, t);
	return 0;
}

int ck_acmd_set(struct ck_analysis *a, int argc, char **argv)
{
	int c;
	optind = 0;
	opterr = 0;
	const struct ck_task *t = NULL;
	struct ck_error *err;
	while ((c = getopt(argc, argv, "+pc:")) != -1) {
		switch (c) {
		case 'c':
			return set_cpu(a, optarg);
		case 'p': {
			int cpu;
			err = ck_panic_task(a, &t, &cpu);
			if (err)
				return ck_analysis_fail(a, "set", err);
			if (cpu < 0) {
				/* not a failure for crash either */
				fprintf(a->err, "set: no panic task found!\n");
				return 0;
			}
			a->ctx_task = t->addr;
			ck_set_show_context(a, t);
			return 0;
		}
		default:
			fprintf(a->err, "set: option -%c is not supported (set [-p] [-c CPU] "
				"[PID | TASK])\n", optopt);
			return 1;
		}
	}
	if (optind >= argc) {
		err = ck_context_task(a, &t);
		if (err)
			return ck_analysis_fail(a, "set", err);
		ck_set_show_context(a, t);
		return 0;
	}
	int rc = 0;
	for (int i = optind; i < argc; i++) {
		int32_t pid = -1;
		uint64_t task = 0;
		int kind = ck_task_arg_is_number(argv[i]) ? ck_task_arg(a, argv[i], &pid, &task) : 0;
		if (!kind) {
			fprintf(a->err, "set: invalid task or pid value: %s\n", argv[i]);
			rc = 1;
			continue;
		}
		t = kind == 1 ? ck_task_by_pid(a, pid) : ck_task_by_addr(a, task);
		const struct ck_task *cur = NULL;
		err = ck_context_task(a, &cur);
		ck_error_destroy(err);
		/* the context's pid again keeps the task (pid 0 has one per CPU) */
		if (kind == 1 && !err && cur->pid == pid)
			t = cur;
		a->ctx_task = t->addr;
		ck_set_show_context(a, t);
	}
	return rc;
}
