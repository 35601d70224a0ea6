/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * foreach [PID | TASK | COMM | \COMM]... [RU|IN|UN|ID|ST|TR|ZO|DE|PA|WA|NE]
 *         [kernel | user | gleader | active] bt|ps|set [-options]
 *
 * Runs bt or ps for each selected task in ps order, as crash does: bt's
 * answers one after another separated by a blank line, ps as one table.
 * Options anywhere on the line belong to the command (crash's foreach
 * takes them all and hands each command those it knows).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"

#define FOREACH_MAX_ARGS 64

enum { KEY_BT = 1, KEY_PS, KEY_SET };

struct foreach_sel {
	int32_t pids[FOREACH_MAX_ARGS];
	uint64_t tasks[FOREACH_MAX_ARGS];
	const char *comms[FOREACH_MAX_ARGS];
	int npids, ntasks, ncomms;
	bool specified;
	bool kernel, user, gleader, active;
	const char *state;
	int keys[4];
	int nkeys;
	/* the command's options: "-f", "-s" ... */
	char opts[32][3];
	int nopts;
	unsigned ps_flags;
};

static bool is_state(const char *s)
{
	static const char *const states[] = { "RU", "IN", "UN", "ST", "TR", "ZO", "DE",
					      "PA", "WA", "ID", "NE", "SW" };
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (!strcmp(s, states[i]))
			return true;
	return false;
}

static bool comm_exists(struct ck_analysis *a, const char *comm)
{
	const struct ck_task *tasks;
	size_t nr;
	struct ck_error *err = ck_tasks_get(a, &tasks, &nr);
	if (err) {
		ck_error_destroy(err);
		return false;
	}
	for (size_t i = 0; i < nr; i++)
		if (!strncmp(tasks[i].comm, comm, 15))
			return true;
	return false;
}

/* One word that is not an option; 1 when it is wrong. */
static int foreach_word(struct ck_analysis *a, const char *w, struct foreach_sel *s)
{
	int32_t pid;
	uint64_t task;
	int key = !strcmp(w, "bt") ? KEY_BT : !strcmp(w, "ps") ? KEY_PS :
		  !strcmp(w, "set") ? KEY_SET : 0;
	if (s->nkeys || key) {
		if (key) {
			if (s->nkeys < 4)
				s->keys[s->nkeys++] = key;
			return 0;
		}
		fprintf(a->err, "foreach: command arguments are not supported: \"%s\"\n", w);
		return 1;
	}
	if (ck_task_arg_is_number(w)) {
		int kind = ck_task_arg(a, w, &pid, &task);
		if (kind == 1 && s->npids < FOREACH_MAX_ARGS) {
			s->pids[s->npids++] = pid;
			s->specified = true;
			return 0;
		}
		if (kind == 2 && s->ntasks < FOREACH_MAX_ARGS) {
			s->tasks[s->ntasks++] = task;
			s->specified = true;
			return 0;
		}
	}
	if (!strcmp(w, "kernel") || !strcmp(w, "user") || !strcmp(w, "gleader")) {
		bool kernel = w[0] == 'k';
		if ((kernel && s->user) || (!kernel && s->kernel)) {
			fprintf(a->err, "foreach: user and kernel are mutually exclusive!\n");
			return 1;
		}
		s->kernel |= kernel;
		s->user |= !kernel;
		s->gleader |= w[0] == 'g';
		return 0;
	}
	if (!strcmp(w, "active")) {
		s->active = true;
		return 0;
	}
	if (!strcmp(w, "\\DE"))
		w++;
	if (is_state(w)) {
		if (s->state) {
			fprintf(a->err, "foreach: only one task state allowed\n");
			return 1;
		}
		s->state = w;
		return 0;
	}
	const char *comm = w[0] == '\\' ? w + 1 : w;
	if (comm_exists(a, comm) && s->ncomms < FOREACH_MAX_ARGS) {
		s->comms[s->ncomms++] = comm;
		s->specified = true;
		return 0;
	}
	s->specified = true;
	fprintf(a->err, "foreach: unknown argument: \"%s\"\n", w);
	return 0;
}

static int foreach_parse(struct ck_analysis *a, int argc, char **argv, struct foreach_sel *s)
{
	int c;
	optind = 0;
	opterr = 0;
	/* crash's foreach options; each command takes those it knows */
	while ((c = getopt(argc, argv, "vomlgersStTpukcfFxhdaG")) != -1) {
		if (c == '?') {
			fprintf(a->err, "foreach: invalid option -%c\n", optopt);
			return 1;
		}
		if (s->nopts < 32) {
			s->opts[s->nopts][0] = '-';
			s->opts[s->nopts][1] = (char)c;
			s->opts[s->nopts++][2] = 0;
		}
		switch (c) {
		case 'G': s->ps_flags |= CK_PS_GROUP; break;
		case 's': s->ps_flags |= CK_PS_KSTACKP; break;
		case 'c': s->ps_flags |= CK_PS_CHILDREN; break;
		case 'p': s->ps_flags |= CK_PS_PARENTS; break;
		case 't': s->ps_flags |= CK_PS_TIMES; break;
		case 'l': s->ps_flags |= CK_PS_LAST_RUN; break;
		case 'm': s->ps_flags |= CK_PS_MSECS; break;
		case 'g': s->ps_flags |= CK_PS_THREADS; break;
		}
	}
	int rc = 0;
	for (int i = optind; i < argc && !rc; i++)
		rc = foreach_word(a, argv[i], s);
	if (rc)
		return rc;
	if (!s->nkeys) {
		fprintf(a->err, "foreach: no keywords specified\n");
		return 1;
	}
	return 0;
}

static bool selected(struct ck_analysis *a, const struct foreach_sel *s, const struct ck_task *t)
{
	bool kthread = ck_task_is_kernel_thread(a, t);
	if ((s->active && !t->active) || (s->user && kthread) || (s->kernel && !kthread) ||
	    (s->gleader && t->pid != t->tgid))
		return false;
	if (s->state && strcmp(ck_task_state_name(a, t), s->state))
		return false;
	if (!s->specified)
		return true;
	for (int i = 0; i < s->ntasks; i++)
		if (s->tasks[i] == t->addr)
			return true;
	for (int i = 0; i < s->npids; i++)
		if (s->pids[i] == t->pid)
			return true;
	for (int i = 0; i < s->ncomms; i++)
		if (!strncmp(s->comms[i], t->comm, 15))
			return true;
	return false;
}

/* bt for one task: bt's own options and the task's address. */
static int foreach_bt(struct ck_analysis *a, const struct foreach_sel *s, const struct ck_task *t)
{
	char *argv[40];
	char addr[24];
	int argc = 0;
	argv[argc++] = "bt";
	for (int i = 0; i < s->nopts && argc < 38; i++)
		if (strchr("rstToelfFxd", s->opts[i][1]))
			argv[argc++] = (char *)s->opts[i];
	snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)t->addr);
	argv[argc++] = addr;
	argv[argc] = NULL;
	return ck_acmd_bt(a, argc, argv);
}

/* The tasks' order: ps order, or with ps -l/-m the latest run first (crash
 * sorts its task table so, stable here). */
static size_t *task_order(struct ck_analysis *a, const struct ck_task *tasks, size_t nr,
			  bool by_last_run)
{
	size_t *ord = ck_calloc_array(nr ? nr : 1, sizeof(*ord));
	uint64_t *key = ck_calloc_array(nr ? nr : 1, sizeof(*key));
	for (size_t i = 0; ord && key && i < nr; i++) {
		uint64_t k = 0;
		if (by_last_run)
			ck_error_destroy(ck_read_field(a->kernel, a->types, tasks[i].addr,
						       "task_struct", "sched_info.last_arrival", &k));
		size_t j = i;
		while (j > 0 && key[j - 1] < k) {
			key[j] = key[j - 1];
			ord[j] = ord[j - 1];
			j--;
		}
		key[j] = k;
		ord[j] = i;
	}
	free(key);
	if (!key) {
		free(ord);
		return NULL;
	}
	return ord;
}

int ck_acmd_foreach(struct ck_analysis *a, int argc, char **argv)
{
	struct foreach_sel s = { 0 };
	if (foreach_parse(a, argc, argv, &s))
		return 1;
	unsigned ex = s.ps_flags & CK_PS_EXCLUSIVE;
	if (ex & (ex - 1)) {
		fprintf(a->err, "foreach: ps: -a, -t, -c, -p, -g, -l, -m, -S, -r and -A flags are "
			"all mutually-exclusive\n");
		return 1;
	}
	const struct ck_task *tasks;
	size_t nr;
	struct ck_error *err = ck_tasks_get(a, &tasks, &nr);
	if (err)
		return ck_analysis_fail(a, "foreach", err);
	struct ck_ps *ps = NULL;
	for (int k = 0; k < s.nkeys && !ps; k++) {
		if (s.keys[k] == KEY_PS && (err = ck_ps_create(a, s.ps_flags, &ps)))
			return ck_analysis_fail(a, "foreach", err);
	}
	bool has_ps = false;
	for (int k = 0; k < s.nkeys; k++)
		has_ps |= s.keys[k] == KEY_PS;
	size_t *ord = task_order(a, tasks, nr,
				 has_ps && (s.ps_flags & (CK_PS_LAST_RUN | CK_PS_MSECS)));
	if (!ord) {
		ck_ps_destroy(ps);
		return ck_analysis_fail(a, "foreach", &ck_error_nomem);
	}
	int rc = 0;
	bool subsequent = false;
	for (size_t n = 0; n < nr && !ck_analysis_interrupted(); n++) {
		size_t i = ord[n];
		if (!selected(a, &s, &tasks[i]))
			continue;
		for (int k = 0; k < s.nkeys; k++) {
			if (s.keys[k] == KEY_PS) {
				ck_ps_task(ps, &tasks[i], true);
				continue;
			}
			if (subsequent)
				fprintf(a->out, "\n");
			subsequent = true;
			if (s.keys[k] == KEY_SET) {
				/* crash: the task's header line, then set's block */
				ck_task_header(a->out, &tasks[i]);
				ck_set_show_context(a, &tasks[i]);
				continue;
			}
			fflush(a->out);
			rc |= foreach_bt(a, &s, &tasks[i]);
		}
	}
	free(ord);
	if (ps)
		ck_ps_finish(ps);
	ck_ps_destroy(ps);
	const char *note = ck_tasks_note(a);
	if (note)
		fprintf(a->err, "foreach: WARNING: the task list may be incomplete: %s\n", note);
	return rc;
}
