/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * triage [-j]: why the machine died, on one screen (docs/signatures.md,
 * crashkit-triage(1)); with --json the documented object.  The command's
 * status: 0 a complete report, 1 a partial one (the notes say what could
 * not be read).
 */
#include <inttypes.h>
#include <time.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "base/base.h"

/* Frames of the panic task and of each other CPU on the screen. */
#define SCREEN_PANIC_FRAMES 14
#define SCREEN_CPU_FRAMES 4
#define SCREEN_LOG_LINES 8

static void frame_text(const struct ck_triage_frame *f, char *buf, size_t size)
{
	switch (f->kind) {
	case CK_FRAME_STACK:
		snprintf(buf, size, "--- <%s> ---", f->func);
		return;
	case CK_FRAME_NOTE:
		snprintf(buf, size, "(%s)", f->func);
		return;
	case CK_FRAME_USER:
	case CK_FRAME_USER_NOTE:
		snprintf(buf, size, "user space at %016" PRIx64, f->ip);
		return;
	default:
		break;
	}
	const char *exc = f->kind == CK_FRAME_CALL ? "" : "[exception] ";
	if (f->func[0])
		snprintf(buf, size, "%s%s+0x%" PRIx64 "%s%s%s", exc, f->func, f->offset,
			 f->module[0] ? " [" : "", f->module, f->module[0] ? "]" : "");
	else
		snprintf(buf, size, "%s%016" PRIx64, exc, f->ip);
}

static void print_trace(FILE *o, const struct ck_triage_trace *tr, size_t max,
			const char *indent)
{
	char buf[256];
	size_t shown = 0;
	for (size_t i = 0; i < tr->nr && shown < max; i++, shown++) {
		frame_text(&tr->frames[i], buf, sizeof(buf));
		fprintf(o, "%s%s\n", indent, buf);
	}
	if (tr->nr > shown)
		fprintf(o, "%s... %zu more frames (bt -a shows them)\n", indent, tr->nr - shown);
	if (!tr->nr && tr->note[0])
		fprintf(o, "%s(no backtrace: %s)\n", indent, tr->note);
}

/* "cpu 0, memory 2 (last 2026-12-01 10:00:00 UTC), ..." */
static void print_hwerr(FILE *o, const struct ck_triage *t)
{
	if (!t->have_hwerr) {
		fprintf(o, " HW ERRORS: (this kernel keeps no hwerr_data counters)\n");
		return;
	}
	fprintf(o, " HW ERRORS:");
	for (size_t i = 0; i < t->nr_hwerr; i++) {
		const struct ck_triage_hwerr *h = &t->hwerr[i];
		fprintf(o, "%s %s %" PRId64, i ? "," : "", h->name, h->count);
		struct tm tm;
		time_t when = (time_t)h->last;
		char buf[32];
		if (h->count && h->last > 0 && gmtime_r(&when, &tm) &&
		    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm))
			fprintf(o, " (last %s UTC)", buf);
	}
	fputc('\n', o);
}

static json_object *hwerr_json(const struct ck_triage *t)
{
	if (!t->have_hwerr)
		return NULL;
	json_object *o = json_object_new_object();
	for (size_t i = 0; i < t->nr_hwerr; i++) {
		json_object *h = json_object_new_object();
		json_object_object_add(h, "count", json_object_new_int64(t->hwerr[i].count));
		json_object_object_add(h, "last", t->hwerr[i].last > 0 ?
					  json_object_new_int64(t->hwerr[i].last) : NULL);
		json_object_object_add(o, t->hwerr[i].name, h);
	}
	return o;
}

static void print_head(struct ck_analysis *a, const struct ck_triage *t)
{
	FILE *o = a->out;
	fprintf(o, "     CLASS: %s\n", ck_triage_class_name(t->class));
	fprintf(o, "     TITLE: %s\n", t->title);
	fprintf(o, " SIGNATURE: %s  (%s)\n", t->signature, t->sig_input);
	fprintf(o, "   MESSAGE: %s\n", t->message[0] ? t->message : "(none in the log)");
	if (t->have_culprit) {
		char buf[256];
		frame_text(&t->culprit, buf, sizeof(buf));
		const char *ctx = t->culprit_context && strcmp(t->culprit_context, "task")
			? t->culprit_context : NULL;
		if (!t->culprit.func[0])	/* unnamed: its address is all there is */
			fprintf(o, "   CULPRIT: %s (no symbol)", buf);
		else
			fprintf(o, "   CULPRIT: %s at %016" PRIx64 "%s%s", buf, t->culprit.ip,
				t->culprit_line[0] ? "  " : "", t->culprit_line);
		fprintf(o, "%s%s%s\n", ctx ? "  (in " : "", ctx ? ctx : "", ctx ? ")" : "");
	} else {
		fprintf(o, "   CULPRIT: (none)\n");
	}
	if (t->have_culprit && (!t->have_panic_task || t->culprit_pid != t->pid)) {
		fprintf(o, "            in PID %d  COMMAND \"%s\"", (int)t->culprit_pid,
			t->culprit_comm);
		if (t->culprit_cpu >= 0)
			fprintf(o, "  CPU %d", t->culprit_cpu);
		fputc('\n', o);
	}
	if (t->have_panic_task)
		fprintf(o, "      TASK: PID %d  COMMAND \"%s\"  CPU %d\n", (int)t->pid, t->comm,
			t->cpu);
	if (t->have_taint)
		fprintf(o, "     TAINT: %s%s%s%s\n", t->taint ? t->taint_letters : "not tainted",
			t->taint_modules[0] ? "  modules: " : "", t->taint_modules, "");
	fprintf(o, "   RELEASE: %s  %s\n", t->release[0] ? t->release : "(unknown)", t->version);
	fprintf(o, "  BUILD ID: %s\n", t->build_id[0] ? t->build_id : "(not in VMCOREINFO)");
	if (t->uptime >= 0)
		fprintf(o, "    UPTIME: %02" PRId64 ":%02" PRId64 ":%02" PRId64 "\n",
			t->uptime / 3600, t->uptime / 60 % 60, t->uptime % 60);
	else
		fprintf(o, "    UPTIME: (unknown)\n");
	print_hwerr(o, t);
}

static void print_text(struct ck_analysis *a, const struct ck_triage *t)
{
	FILE *o = a->out;
	print_head(a, t);
	if (t->have_panic_task) {
		fprintf(o, "\nBACKTRACE (pid %d):\n", (int)t->pid);
		print_trace(o, &t->panic_trace, SCREEN_PANIC_FRAMES, "  ");
	}
	for (size_t i = 0; i < t->nr_cpus; i++) {
		const struct ck_triage_trace *c = &t->cpus[i];
		if (t->have_panic_task && c->cpu == t->cpu)
			continue;
		fprintf(o, "\nCPU %d (pid %d \"%s\"):\n", c->cpu, (int)c->pid, c->comm);
		print_trace(o, c, t->class == CK_TRIAGE_NONE ? SCREEN_PANIC_FRAMES : SCREEN_CPU_FRAMES,
			    "  ");
	}
	if (t->nr_dstate_total) {
		fprintf(o, "\nD STATE: %zu task%s", t->nr_dstate_total, t->nr_dstate_total == 1 ? "" : "s");
		for (size_t i = 0; i < t->nr_dstate && i < 6; i++)
			fprintf(o, "%s %d \"%s\"%s%s", i ? "," : ":", (int)t->dstate[i].pid,
				t->dstate[i].comm, t->dstate[i].nr ? " in " : "",
				t->dstate[i].nr ? t->dstate[i].frames[0].func : "");
		fprintf(o, "%s\n", t->nr_dstate_total > 6 ? ", ..." : "");
	}
	if (t->nr_log) {
		fprintf(o, "\nLOG (last %d lines; --json has %zu):\n", SCREEN_LOG_LINES, t->nr_log);
		size_t from = t->nr_log > SCREEN_LOG_LINES ? t->nr_log - SCREEN_LOG_LINES : 0;
		for (size_t i = from; i < t->nr_log; i++)
			fprintf(o, "  %.*s\n", 110, t->log[i]);
	}
	if (t->nr_notes)
		fprintf(o, "\nPARTIAL: could not read:\n%s", t->notes);
}

static json_object *str(const char *s)
{
	return json_object_new_string(s);
}

static json_object *hex(uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "0x%016" PRIx64, v);
	return str(buf);
}

static json_object *frame_json(const struct ck_triage_frame *f)
{
	static const char *const kinds[] = {
		[CK_FRAME_CALL] = "call", [CK_FRAME_EXCEPTION] = "exception",
		[CK_FRAME_START_REGS] = "registers", [CK_FRAME_USER] = "user",
		[CK_FRAME_USER_NOTE] = "user", [CK_FRAME_STACK] = "stack",
		[CK_FRAME_NOTE] = "note",
	};
	json_object *o = json_object_new_object();
	json_object_object_add(o, "kind", str((unsigned)f->kind < CK_ARRAY_SIZE(kinds)
					      ? kinds[f->kind] : "note"));
	if (f->kind == CK_FRAME_STACK || f->kind == CK_FRAME_NOTE) {
		json_object_object_add(o, "text", str(f->func));
		return o;
	}
	json_object_object_add(o, "function", f->func[0] ? str(f->func) : NULL);
	json_object_object_add(o, "module", f->module[0] ? str(f->module) : NULL);
	json_object_object_add(o, "address", hex(f->ip));
	if (f->func[0])
		json_object_object_add(o, "offset", json_object_new_int64((int64_t)f->offset));
	return o;
}

static json_object *trace_json(const struct ck_triage_trace *tr)
{
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < tr->nr; i++)
		json_object_array_add(arr, frame_json(&tr->frames[i]));
	return arr;
}

static json_object *task_json(const struct ck_triage_trace *tr, bool trace)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "cpu", json_object_new_int(tr->cpu));
	json_object_object_add(o, "pid", json_object_new_int(tr->pid));
	json_object_object_add(o, "comm", str(tr->comm));
	if (trace)
		json_object_object_add(o, "backtrace", trace_json(tr));
	if (tr->note[0])
		json_object_object_add(o, "note", str(tr->note));
	return o;
}

static json_object *culprit_json(const struct ck_triage *t)
{
	if (!t->have_culprit)
		return NULL;
	char fn[128];
	ck_triage_norm_name(t->culprit.func, fn, sizeof(fn));
	json_object *o = json_object_new_object();
	json_object_object_add(o, "function", fn[0] ? str(fn) : NULL);
	json_object_object_add(o, "symbol", fn[0] ? str(t->culprit.func) : NULL);
	json_object_object_add(o, "offset", json_object_new_int64((int64_t)t->culprit.offset));
	json_object_object_add(o, "module", t->culprit.module[0] ? str(t->culprit.module) : NULL);
	json_object_object_add(o, "address", hex(t->culprit.ip));
	json_object_object_add(o, "line", t->culprit_line[0] ? str(t->culprit_line) : NULL);
	/* the task whose trace holds it (a hung task, a stalled CPU's task) */
	json_object_object_add(o, "pid", json_object_new_int(t->culprit_pid));
	json_object_object_add(o, "comm", str(t->culprit_comm));
	json_object_object_add(o, "cpu", json_object_new_int(t->culprit_cpu));
	json_object_object_add(o, "context", t->culprit_context ? str(t->culprit_context) : NULL);
	return o;
}

static json_object *taint_json(const struct ck_triage *t)
{
	if (!t->have_taint)
		return NULL;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "mask", json_object_new_int64((int64_t)t->taint));
	json_object_object_add(o, "flags", str(t->taint_letters));
	json_object *mods = json_object_new_array();
	for (const char *p = t->taint_modules; *p;) {
		size_t n = strcspn(p, " ");
		json_object_array_add(mods, json_object_new_string_len(p, (int)n));
		p += n + (p[n] ? 1 : 0);
	}
	json_object_object_add(o, "modules", mods);
	return o;
}

static void json_lists(json_object *o, const struct ck_triage *t)
{
	json_object *cpus = json_object_new_array();
	for (size_t i = 0; i < t->nr_cpus; i++)
		json_object_array_add(cpus, task_json(&t->cpus[i], true));
	json_object_object_add(o, "cpus", cpus);
	json_object *d = json_object_new_array();
	for (size_t i = 0; i < t->nr_dstate; i++) {
		json_object *k = task_json(&t->dstate[i], false);
		json_object_object_add(k, "blocked_in", t->dstate[i].nr
					? str(t->dstate[i].frames[0].func) : NULL);
		json_object_array_add(d, k);
	}
	json_object_object_add(o, "dstate_tasks", d);
	json_object_object_add(o, "dstate_total", json_object_new_int64((int64_t)t->nr_dstate_total));
	json_object *log = json_object_new_array();
	for (size_t i = 0; i < t->nr_log; i++)
		json_object_array_add(log, str(t->log[i]));
	json_object_object_add(o, "log", log);
	json_object *notes = json_object_new_array();
	for (const char *p = t->notes; *p;) {
		size_t n = strcspn(p, "\n");
		json_object_array_add(notes, json_object_new_string_len(p, (int)n));
		p += n + (p[n] ? 1 : 0);
	}
	json_object_object_add(o, "unreadable", notes);
	json_object_object_add(o, "partial", json_object_new_boolean(t->nr_notes > 0));
}

static void print_json(struct ck_analysis *a, const struct ck_triage *t)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "schema", str("crashkit-triage/1"));
	json_object_object_add(o, "class", str(ck_triage_class_name(t->class)));
	json_object_object_add(o, "message", str(t->message));
	json_object_object_add(o, "title", str(t->title));
	json_object_object_add(o, "signature", str(t->signature));
	json_object_object_add(o, "signature_input", str(t->sig_input));
	json_object_object_add(o, "culprit", culprit_json(t));
	json_object *pt = NULL;
	if (t->have_panic_task) {
		pt = json_object_new_object();
		json_object_object_add(pt, "pid", json_object_new_int(t->pid));
		json_object_object_add(pt, "comm", str(t->comm));
		json_object_object_add(pt, "cpu", json_object_new_int(t->cpu));
	}
	json_object_object_add(o, "panic_task", pt);
	json_object_object_add(o, "taint", taint_json(t));
	json_object_object_add(o, "release", t->release[0] ? str(t->release) : NULL);
	json_object_object_add(o, "version", t->version[0] ? str(t->version) : NULL);
	json_object_object_add(o, "build_id", t->build_id[0] ? str(t->build_id) : NULL);
	json_object_object_add(o, "uptime", t->uptime >= 0 ? json_object_new_int64(t->uptime)
							     : NULL);
	json_object_object_add(o, "hwerr", hwerr_json(t));
	json_object_object_add(o, "backtrace", t->have_panic_task ? trace_json(&t->panic_trace)
								     : json_object_new_array());
	json_lists(o, t);
	fprintf(a->out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

int ck_triage_run(struct ck_analysis *a)
{
	struct ck_triage *t = calloc(1, sizeof(*t));
	if (!t)
		return ck_analysis_fail(a, "triage", ck_error_create(CK_ERR_NOMEM, "out of memory"));
	struct ck_error *err = ck_triage_gather(a, t);
	if (err) {
		free(t);
		return ck_analysis_fail(a, "triage", err);
	}
	if (a->json)
		print_json(a, t);
	else
		print_text(a, t);
	int rc = t->nr_notes ? 1 : 0;
	ck_triage_deinit(t);
	free(t);
	return rc;
}

int ck_acmd_triage(struct ck_analysis *a, int argc, char **argv)
{
	bool json = a->json;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			a->json = true;
		} else {
			fprintf(a->err, "triage: %s: unknown argument (usage: triage [-j])\n", argv[i]);
			return 1;
		}
	}
	int rc = ck_triage_run(a);
	a->json = json;
	return rc;
}
