/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * triage's pure rules (docs/signatures.md): which class a log line
 * reports, which frames only report or dispatch a crash, the signature and
 * the title.  No dump is read here; tests/unit/test_triage.c checks them.
 * The strings are the kernel's own (arch/x86/mm/fault.c, traps.c,
 * kernel/panic.c, watchdog.c, hung_task.c, lib/list_debug.c, mm/oom_kill.c,
 * kernel/rcu/tree_stall.h, mm/kasan/report.c), matched as substrings
 * because since 6.x the die line starts "Oops: ".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "base/base.h"
#include "base/sha256.h"

static const char *const class_names[CK_TRIAGE_CLASS_COUNT] = {
	[CK_TRIAGE_UNKNOWN] = "unknown",
	[CK_TRIAGE_NONE] = "none",
	[CK_TRIAGE_SYSRQ] = "sysrq",
	[CK_TRIAGE_NULL_DEREF] = "null-pointer-dereference",
	[CK_TRIAGE_PAGE_FAULT] = "page-fault",
	[CK_TRIAGE_GPF] = "general-protection-fault",
	[CK_TRIAGE_BUG] = "bug",
	[CK_TRIAGE_DIVIDE_ERROR] = "divide-error",
	[CK_TRIAGE_INVALID_OPCODE] = "invalid-opcode",
	[CK_TRIAGE_LIST_CORRUPTION] = "list-corruption",
	[CK_TRIAGE_STACK_PROTECTOR] = "stack-protector",
	[CK_TRIAGE_STACK_OVERFLOW] = "stack-overflow",
	[CK_TRIAGE_WARNING] = "warning",
	[CK_TRIAGE_SOFT_LOCKUP] = "soft-lockup",
	[CK_TRIAGE_HARD_LOCKUP] = "hard-lockup",
	[CK_TRIAGE_HUNG_TASK] = "hung-task",
	[CK_TRIAGE_RCU_STALL] = "rcu-stall",
	[CK_TRIAGE_OUT_OF_MEMORY] = "out-of-memory",
	[CK_TRIAGE_EXPLICIT_PANIC] = "explicit-panic",
	[CK_TRIAGE_MACHINE_CHECK] = "machine-check",
	[CK_TRIAGE_KASAN] = "kasan",
	[CK_TRIAGE_DOUBLE_FAULT] = "double-fault",
};

const char *ck_triage_class_name(enum ck_triage_class c)
{
	return (unsigned)c < CK_TRIAGE_CLASS_COUNT ? class_names[c] : "unknown";
}

struct pattern {
	const char *text;
	enum ck_triage_class class;
};

/* Lines that start a report, most specific first (the first that matches
 * a line decides its class). */
static const struct pattern report_patterns[] = {
	{ "BUG: kernel NULL pointer dereference", CK_TRIAGE_NULL_DEREF },
	{ "BUG: unable to handle kernel NULL pointer dereference", CK_TRIAGE_NULL_DEREF },
	{ "BUG: unable to handle page fault", CK_TRIAGE_PAGE_FAULT },
	{ "BUG: unable to handle kernel paging request", CK_TRIAGE_PAGE_FAULT },
	{ "BUG: KASAN: ", CK_TRIAGE_KASAN },
	{ "stack guard page was hit", CK_TRIAGE_STACK_OVERFLOW },
	{ "kernel stack overflow", CK_TRIAGE_STACK_OVERFLOW },
	{ "list_add corruption", CK_TRIAGE_LIST_CORRUPTION },
	{ "list_del corruption", CK_TRIAGE_LIST_CORRUPTION },
	{ "kernel BUG at ", CK_TRIAGE_BUG },
	{ "general protection fault", CK_TRIAGE_GPF },
	{ "divide error: ", CK_TRIAGE_DIVIDE_ERROR },
	{ "invalid opcode: ", CK_TRIAGE_INVALID_OPCODE },
	{ "double fault: ", CK_TRIAGE_DOUBLE_FAULT },
	{ "BUG: soft lockup", CK_TRIAGE_SOFT_LOCKUP },
	{ "Watchdog detected hard LOCKUP", CK_TRIAGE_HARD_LOCKUP },
	{ "self-detected stall on CPU", CK_TRIAGE_RCU_STALL },
	{ "detected stalls on CPUs/tasks", CK_TRIAGE_RCU_STALL },
	{ "[Hardware Error]: ", CK_TRIAGE_MACHINE_CHECK },
};

/* The text after "Kernel panic - not syncing: " names the reason. */
static const struct pattern panic_patterns[] = {
	{ "sysrq triggered crash", CK_TRIAGE_SYSRQ },
	{ "panic_on_warn", CK_TRIAGE_WARNING },
	{ "softlockup: hung tasks", CK_TRIAGE_SOFT_LOCKUP },
	{ "Hard LOCKUP", CK_TRIAGE_HARD_LOCKUP },
	{ "hard LOCKUP", CK_TRIAGE_HARD_LOCKUP },	/* "Watchdog detected hard LOCKUP on cpu N" */
	{ "hung_task: blocked tasks", CK_TRIAGE_HUNG_TASK },
	{ "RCU Stall", CK_TRIAGE_RCU_STALL },
	{ "Out of memory", CK_TRIAGE_OUT_OF_MEMORY },
	{ "panic_on_oom", CK_TRIAGE_OUT_OF_MEMORY },
	{ "stack-protector", CK_TRIAGE_STACK_PROTECTOR },
	{ "achine check", CK_TRIAGE_MACHINE_CHECK },
	{ "kernel stack overflow", CK_TRIAGE_STACK_OVERFLOW },
	{ "KASAN", CK_TRIAGE_KASAN },
	{ "kasan", CK_TRIAGE_KASAN },
};

#define PANIC_PREFIX "Kernel panic - not syncing: "

void ck_triage_log_init(struct ck_triage_log *l)
{
	memset(l, 0, sizeof(*l));
	l->hung_pid = -1;
	l->stall_cpu = -1;
}

/* The CPU a detector on another CPU names: "rcu: \tN-....: (...)" after an
 * RCU stall report (kernel/rcu/tree_stall.h's print_cpu_stall_info), or
 * "Watchdog detected hard LOCKUP on cpu N". */
static void stall_cpu(struct ck_triage_log *l, const char *s)
{
	const char *p = strstr(s, "hard LOCKUP on cpu ");
	if (p) {
		p += strlen("hard LOCKUP on cpu ");
	} else if (l->report_class == CK_TRIAGE_RCU_STALL && !strncmp(s, "rcu: ", 5)) {
		p = s + 5;
		while (*p == ' ' || *p == '\t')
			p++;
	} else {
		return;
	}
	char *end;
	long cpu = strtol(p, &end, 10);
	if (end != p && (*end == '-' || *end == '\0' || *end == ' ') && cpu >= 0 && cpu < 65536)
		l->stall_cpu = (int)cpu;
}

static void keep_line(char *dst, size_t size, const char *line, size_t len)
{
	while (len && (line[len - 1] == '\n' || line[len - 1] == ' '))
		len--;
	snprintf(dst, size, "%.*s", (int)len, line);
}

/* "INFO: task COMM:PID blocked for more than": PID (COMM may hold ':'). */
static int32_t hung_pid(const char *s)
{
	const char *b = strstr(s, " blocked for more than ");
	const char *t = strstr(s, "INFO: task ");
	if (!b || !t || t > b)
		return -1;
	const char *colon = NULL;
	for (const char *p = t; p < b; p++)
		if (*p == ':' && p > t + 10)
			colon = p;
	if (!colon)
		return -1;
	char *end;
	long pid = strtol(colon + 1, &end, 10);
	return end == b && pid >= 0 && pid < (1L << 30) ? (int32_t)pid : -1;
}

void ck_triage_log_line(struct ck_triage_log *l, const char *line, size_t len)
{
	char s[512];
	keep_line(s, sizeof(s), line, len);
	const char *p = strstr(s, PANIC_PREFIX);
	if (p && !l->panic[0]) {
		snprintf(l->panic, sizeof(l->panic), "%s", p);
		return;
	}
	/* a report the kernel survived ends with this: the next one counts */
	if (strstr(s, "---[ end trace")) {
		l->report[0] = '\0';
		l->report_class = CK_TRIAGE_UNKNOWN;
		l->report_is_warning = false;
		return;
	}
	if (!l->panic[0] && l->hung_pid < 0)
		l->hung_pid = hung_pid(s);
	if (l->hung_pid >= 0 && !l->report[0] && strstr(s, "INFO: task ")) {
		snprintf(l->report, sizeof(l->report), "%s", s);
		l->report_class = CK_TRIAGE_HUNG_TASK;
		return;
	}
	if (l->stall_cpu < 0 && !l->panic[0])
		stall_cpu(l, s);
	if (l->report[0] || l->panic[0])
		return;
	if (!strncmp(s, "WARNING: ", 9)) {
		snprintf(l->report, sizeof(l->report), "%s", s);
		l->report_class = CK_TRIAGE_WARNING;
		l->report_is_warning = true;
		if (!l->warning[0])
			snprintf(l->warning, sizeof(l->warning), "%s", s);
		return;
	}
	for (size_t i = 0; i < CK_ARRAY_SIZE(report_patterns); i++) {
		if (strstr(s, report_patterns[i].text)) {
			snprintf(l->report, sizeof(l->report), "%s", s);
			l->report_class = report_patterns[i].class;
			return;
		}
	}
}

enum ck_triage_class ck_triage_log_class(const struct ck_triage_log *l, bool panicked,
					 const char **message)
{
	bool warn_panic = l->panic[0] && strstr(l->panic, "panic_on_warn");
	bool have_report = l->report[0] && (!l->report_is_warning || warn_panic);
	*message = l->panic[0] ? l->panic : have_report ? l->report : "";
	if (!panicked)
		return CK_TRIAGE_NONE;
	if (l->panic[0]) {
		const char *why = l->panic + strlen(PANIC_PREFIX);
		for (size_t i = 0; i < CK_ARRAY_SIZE(panic_patterns); i++)
			if (strstr(why, panic_patterns[i].text))
				return panic_patterns[i].class;
		/* panic_on_oops: the oops decides */
		if (strstr(why, "Fatal exception") && have_report)
			return l->report_class;
		return CK_TRIAGE_EXPLICIT_PANIC;
	}
	return have_report ? l->report_class : CK_TRIAGE_UNKNOWN;
}

void ck_triage_norm_name(const char *name, char *buf, size_t size)
{
	size_t len = strcspn(name, ".");
	snprintf(buf, size, "%.*s", (int)len, name);
}

/* Frames that report, dump, or hand over a crash, and the exception
 * entry code: never the culprit (exact names). */
static const char *const skip_exact[] = {
	"panic", "vpanic", "nmi_panic", "__crash_kexec", "crash_kexec", "machine_kexec",
	"native_machine_crash_shutdown", "crash_setup_regs", "die", "die_addr", "oops_end",
	"oops_begin", "do_trap", "do_error_trap", "handle_bug", "report_bug",
	"__report_bug", "page_fault_oops", "kernelmode_fixup_or_oops", "no_context",
	"do_kern_addr_fault", "do_user_addr_fault", "handle_page_fault",
	"__bad_area_nosemaphore", "bad_area_nosemaphore", "handle_stack_overflow",
	"fortify_panic", "__fortify_panic", "__stack_chk_fail", "check_panic_on_warn",
	"__list_add_valid", "__list_del_entry_valid", "__list_add_valid_or_report",
	"__list_del_entry_valid_or_report", "__list_valid_slowpath", "__hung_task_panic",
	"check_hung_uninterruptible_tasks", "check_hung_task", "watchdog",
	"watchdog_timer_fn", "watchdog_overflow_callback", "__hrtimer_run_queues",
	"hrtimer_interrupt", "rcu_sched_clock_irq", "update_process_times",
	"tick_sched_handle", "tick_nohz_handler", "tick_sched_timer",
	"out_of_memory", "check_panic_on_oom", "mce_panic", "do_machine_check",
	"bug_handler", "print_report", "end_report", "handle_invalid_op",
	"show_stack", "show_regs", "show_trace_log_lvl", "panic_on_rcu_stall",
	"print_cpu_stall", "print_other_cpu_stall", "check_cpu_stall", "rcu_pending",
	"rcu_dump_cpu_stacks",
};
/* ... and by prefix. */
static const char *const skip_prefix[] = {
	"__die", "exc_", "asm_exc_", "__warn", "warn_slowpath", "dump_stack", "printk",
	"_printk", "vprintk", "kasan_", "__kasan_", "__asan_", "ubsan_", "__ubsan_",
	"__sysvec_", "sysvec_", "asm_sysvec_", "crash_", "nmi_", "default_do_nmi",
};
/* sysrq's dispatch: sysrq_handle_crash, the handler, is the culprit. */
static const char *const skip_sysrq[] = {
	"__handle_sysrq", "write_sysrq_trigger", "handle_sysrq", "sysrq_handle_keypress",
	"sysrq_filter",
};

/* A blocked task: the scheduler and the sleeping primitives (prefixes). */
static const char *const skip_sleep[] = {
	"__schedule", "schedule", "io_schedule", "preempt_schedule", "wait_for_completion",
	"__wait_for_common", "do_wait_for_common", "__mutex_lock", "mutex_lock",
	"rwsem_down_", "down_read", "down_write", "__down", "down", "bit_wait",
	"out_of_line_wait_on_bit", "__wait_on_bit", "__rt_mutex", "rt_mutex",
	"__flush_work", "flush_work", "usleep_range", "msleep",
};

/* out-of-memory: the page and slab allocators (prefixes); the caller that
 * asked for memory is the culprit. */
static const char *const skip_alloc[] = {
	"__alloc_pages", "alloc_pages", "__get_free_pages", "get_zeroed_page", "__folio_alloc",
	"folio_alloc", "alloc_page", "__kmalloc", "kmalloc", "__kmem_cache_alloc",
	"kmem_cache_alloc", "slab_alloc", "__slab_alloc", "___slab_alloc", "allocate_slab",
	"new_slab", "alloc_slab_page", "__vmalloc", "vmalloc", "vzalloc", "kvmalloc",
	"__kvmalloc",
};

bool ck_triage_skip_frame(const char *name, enum ck_triage_class c)
{
	for (size_t i = 0; i < CK_ARRAY_SIZE(skip_exact); i++)
		if (!strcmp(name, skip_exact[i]))
			return true;
	for (size_t i = 0; i < CK_ARRAY_SIZE(skip_prefix); i++)
		if (!strncmp(name, skip_prefix[i], strlen(skip_prefix[i])))
			return true;
	if (c == CK_TRIAGE_HUNG_TASK)
		for (size_t i = 0; i < CK_ARRAY_SIZE(skip_sleep); i++)
			if (!strncmp(name, skip_sleep[i], strlen(skip_sleep[i])))
				return true;
	if (c == CK_TRIAGE_OUT_OF_MEMORY)
		for (size_t i = 0; i < CK_ARRAY_SIZE(skip_alloc); i++)
			if (!strncmp(name, skip_alloc[i], strlen(skip_alloc[i])))
				return true;
	if (c == CK_TRIAGE_SYSRQ)
		for (size_t i = 0; i < CK_ARRAY_SIZE(skip_sysrq); i++)
			if (!strcmp(name, skip_sysrq[i]))
				return true;
	return false;
}

bool ck_triage_stop_frame(const char *name)
{
	static const char *const stop_exact[] = {
		"do_syscall_64", "x64_sys_call", "kthread", "ret_from_fork", "ret_from_fork_asm",
		"start_kernel", "cpu_startup_entry", "do_idle", "common_startup_64",
		"secondary_startup_64", "start_secondary",
	};
	for (size_t i = 0; i < CK_ARRAY_SIZE(stop_exact); i++)
		if (!strcmp(name, stop_exact[i]))
			return true;
	return !strncmp(name, "entry_SYSCALL", 13) || !strncmp(name, "asm_common_interrupt", 20);
}

bool ck_triage_class_uses_exception(enum ck_triage_class c)
{
	switch (c) {
	case CK_TRIAGE_NULL_DEREF: case CK_TRIAGE_PAGE_FAULT: case CK_TRIAGE_GPF:
	case CK_TRIAGE_BUG: case CK_TRIAGE_DIVIDE_ERROR: case CK_TRIAGE_INVALID_OPCODE:
	case CK_TRIAGE_LIST_CORRUPTION: case CK_TRIAGE_STACK_OVERFLOW: case CK_TRIAGE_WARNING:
	case CK_TRIAGE_SOFT_LOCKUP: case CK_TRIAGE_HARD_LOCKUP: case CK_TRIAGE_RCU_STALL:
	case CK_TRIAGE_DOUBLE_FAULT: case CK_TRIAGE_MACHINE_CHECK: case CK_TRIAGE_UNKNOWN:
		return true;
	default:
		return false;
	}
}

void ck_triage_signature(enum ck_triage_class c, const char *const *frames, size_t nr,
			 char out[17])
{
	char in[1024], name[128];
	size_t len = (size_t)snprintf(in, sizeof(in), CK_TRIAGE_SCHEME "|%s",
				      ck_triage_class_name(c));
	for (size_t i = 0; i < nr && i < CK_TRIAGE_SIG_FRAMES && len < sizeof(in); i++) {
		ck_triage_norm_name(frames[i], name, sizeof(name));
		len += (size_t)snprintf(in + len, sizeof(in) - len, "|%s", name);
	}
	if (len >= sizeof(in))
		len = sizeof(in) - 1;
	char hex[2 * CK_SHA256_LEN + 1];
	ck_sha256_hex(in, len, hex);
	memcpy(out, hex, 16);
	out[16] = '\0';
}

/* "BUG: KASAN: slab-use-after-free in foo": the kind of bad access. */
static void kasan_kind(const char *report, char *buf, size_t size)
{
	const char *p = strstr(report, "BUG: KASAN: ");
	snprintf(buf, size, "%s", "invalid-access");
	if (!p)
		return;
	p += strlen("BUG: KASAN: ");
	size_t n = strcspn(p, " ");
	if (n)
		snprintf(buf, size, "%.*s", (int)n, p);
}

void ck_triage_title(enum ck_triage_class c, const char *report, const char *culprit,
		     const char *module, char *buf, size_t size)
{
	static const char *const heads[CK_TRIAGE_CLASS_COUNT] = {
		[CK_TRIAGE_UNKNOWN] = "unknown crash",
		[CK_TRIAGE_SYSRQ] = "sysrq:",
		[CK_TRIAGE_NULL_DEREF] = "BUG: kernel NULL pointer dereference",
		[CK_TRIAGE_PAGE_FAULT] = "BUG: unable to handle page fault",
		[CK_TRIAGE_GPF] = "general protection fault",
		[CK_TRIAGE_BUG] = "kernel BUG",
		[CK_TRIAGE_DIVIDE_ERROR] = "divide error",
		[CK_TRIAGE_INVALID_OPCODE] = "invalid opcode",
		[CK_TRIAGE_LIST_CORRUPTION] = "list corruption",
		[CK_TRIAGE_STACK_PROTECTOR] = "stack-protector: stack is corrupted",
		[CK_TRIAGE_STACK_OVERFLOW] = "kernel stack overflow",
		[CK_TRIAGE_WARNING] = "WARNING",
		[CK_TRIAGE_SOFT_LOCKUP] = "BUG: soft lockup",
		[CK_TRIAGE_HARD_LOCKUP] = "hard LOCKUP",
		[CK_TRIAGE_HUNG_TASK] = "INFO: task hung",
		[CK_TRIAGE_RCU_STALL] = "INFO: rcu detected stall",
		[CK_TRIAGE_OUT_OF_MEMORY] = "out of memory (panic_on_oom)",
		[CK_TRIAGE_EXPLICIT_PANIC] = "kernel panic",
		[CK_TRIAGE_MACHINE_CHECK] = "machine check",
		[CK_TRIAGE_DOUBLE_FAULT] = "double fault",
	};
	if (c == CK_TRIAGE_NONE) {
		snprintf(buf, size, "no crash (a dump of a running system)");
		return;
	}
	char head[96];
	if (c == CK_TRIAGE_KASAN) {
		char kind[48];
		kasan_kind(report ? report : "", kind, sizeof(kind));
		snprintf(head, sizeof(head), "KASAN: %s", kind);
	} else {
		snprintf(head, sizeof(head), "%s", heads[(unsigned)c < CK_TRIAGE_CLASS_COUNT ? c : 0]);
	}
	if (!culprit || !*culprit)
		snprintf(buf, size, "%s", head);
	else if (c == CK_TRIAGE_SYSRQ)
		snprintf(buf, size, "%s %s%s%s%s", head, culprit, module ? " [" : "",
			 module ? module : "", module ? "]" : "");
	else
		snprintf(buf, size, "%s in %s%s%s%s", head, culprit, module ? " [" : "",
			 module ? module : "", module ? "]" : "");
}

void ck_triage_taint_letters(uint64_t mask, char *buf, size_t size)
{
	/* kernel/panic.c taint_flags[], by bit: TAINT_PROPRIETARY_MODULE (0)
	 * .. TAINT_FWCTL (19) */
	static const char letters[] = "PFSRMBUDAWCIOELKXTNJ";
	size_t n = 0;
	for (unsigned bit = 0; bit < 64 && n + 1 < size; bit++)
		if (mask >> bit & 1)
			buf[n++] = bit < sizeof(letters) - 1 ? letters[bit] : '?';
	if (size)
		buf[n < size ? n : size - 1] = '\0';
}
