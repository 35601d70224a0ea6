/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of triage's pure rules (lib/analysis/triage_rules.c,
 * lib/base/sha256.c): SHA-256 on FIPS 180-4's and padding-edge inputs,
 * classifying kernel log lines, the frame skip rules, and the signature on
 * fixed inputs (docs/signatures.md's v1 examples).
 */
#include <string.h>

#include "analysis/analysis.h"
#include "base/sha256.h"
#include "../harness.h"

static void test_sha256(void)
{
	static const struct {
		const char *in;
		size_t repeat;
		const char *hex;
	} cases[] = {
		{ "", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "a", 1000, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3" },
		/* 55, 56, 64 bytes: the length fits the last block, or does not */
		{ "x", 55, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072" },
		{ "x", 56, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e" },
		{ "x", 64, "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[1024] = "";
		size_t len = 0;
		for (size_t r = 0; r < cases[i].repeat; r++) {
			memcpy(buf + len, cases[i].in, strlen(cases[i].in));
			len += strlen(cases[i].in);
		}
		char hex[65];
		ck_sha256_hex(buf, len, hex);
		EXPECT(!strcmp(hex, cases[i].hex), "case %zu: %s", i, hex);
	}
}

/* The class of a log made of lines; panicked as panic_cpu would say. */
static enum ck_triage_class classify(const char *const *lines, bool panicked, const char **msg)
{
	static struct ck_triage_log l;
	ck_triage_log_init(&l);
	for (size_t i = 0; lines[i]; i++)
		ck_triage_log_line(&l, lines[i], strlen(lines[i]));
	return ck_triage_log_class(&l, panicked, msg);
}

static void test_classes(void)
{
	static const struct {
		const char *lines[6];
		enum ck_triage_class class;
	} cases[] = {
		{ { "sysrq: Trigger a crash", "Kernel panic - not syncing: sysrq triggered crash" },
		  CK_TRIAGE_SYSRQ },
		{ { "BUG: kernel NULL pointer dereference, address: 0000000000000000",
		    "#PF: supervisor read access in kernel mode", "Oops: 0000 [#1] PREEMPT SMP NOPTI" },
		  CK_TRIAGE_NULL_DEREF },
		{ { "BUG: unable to handle page fault for address: ffffc90000a3f000" },
		  CK_TRIAGE_PAGE_FAULT },
		{ { "Oops: general protection fault, probably for non-canonical address 0xdead: 0000 [#1]" },
		  CK_TRIAGE_GPF },
		{ { "kernel BUG at mm/slub.c:123!", "Oops: invalid opcode: 0000 [#1] SMP" }, CK_TRIAGE_BUG },
		{ { "Oops: divide error: 0000 [#1] PREEMPT SMP" }, CK_TRIAGE_DIVIDE_ERROR },
		{ { "invalid opcode: 0000 [#1] SMP" }, CK_TRIAGE_INVALID_OPCODE },
		{ { "list_del corruption, ffff8880.next is LIST_POISON1 (dead000000000100)",
		    "kernel BUG at lib/list_debug.c:56!" }, CK_TRIAGE_LIST_CORRUPTION },
		{ { "Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: foo+0x1" },
		  CK_TRIAGE_STACK_PROTECTOR },
		{ { "WARNING: CPU: 0 PID: 1 at mm/foo.c:1 foo+0x1/0x2",
		    "Kernel panic - not syncing: kernel: panic_on_warn set ..." }, CK_TRIAGE_WARNING },
		{ { "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [a:1]",
		    "Kernel panic - not syncing: softlockup: hung tasks" }, CK_TRIAGE_SOFT_LOCKUP },
		{ { "NMI watchdog: Watchdog detected hard LOCKUP on cpu 1",
		    "Kernel panic - not syncing: Hard LOCKUP" }, CK_TRIAGE_HARD_LOCKUP },
		{ { "Kernel panic - not syncing: Watchdog detected hard LOCKUP on cpu 0" },
		  CK_TRIAGE_HARD_LOCKUP },
		{ { "INFO: task ck:d:77 blocked for more than 120 seconds.",
		    "Kernel panic - not syncing: hung_task: blocked tasks" }, CK_TRIAGE_HUNG_TASK },
		{ { "rcu: INFO: rcu_preempt self-detected stall on CPU",
		    "Kernel panic - not syncing: RCU Stall" }, CK_TRIAGE_RCU_STALL },
		{ { "Kernel panic - not syncing: Out of memory: system-wide panic_on_oom is enabled" },
		  CK_TRIAGE_OUT_OF_MEMORY },
		{ { "Kernel panic - not syncing: Fatal machine check" }, CK_TRIAGE_MACHINE_CHECK },
		{ { "BUG: KASAN: slab-use-after-free in foo+0x1/0x2" }, CK_TRIAGE_KASAN },
		{ { "BUG: TASK stack guard page was hit at 0000 (stack is 1..2)",
		    "Oops: stack guard page: 0000 [#1]" }, CK_TRIAGE_STACK_OVERFLOW },
		{ { "Kernel panic - not syncing: VFS: Unable to mount root fs" },
		  CK_TRIAGE_EXPLICIT_PANIC },
		/* panic_on_oops: the oops decides */
		{ { "BUG: kernel NULL pointer dereference, address: 0000000000000008",
		    "Kernel panic - not syncing: Fatal exception" }, CK_TRIAGE_NULL_DEREF },
		/* a WARNING without panic_on_warn is no crash report */
		{ { "WARNING: CPU: 0 PID: 1 at a.c:1 f+0x1/0x2" }, CK_TRIAGE_UNKNOWN },
		/* a survived oops ("end trace") gives way to the next */
		{ { "BUG: kernel NULL pointer dereference, address: 0", "---[ end trace 0 ]---",
		    "Oops: divide error: 0000 [#2]" }, CK_TRIAGE_DIVIDE_ERROR },
		{ { "nothing here" }, CK_TRIAGE_UNKNOWN },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *msg;
		enum ck_triage_class c = classify(cases[i].lines, true, &msg);
		EXPECT(c == cases[i].class, "case %zu: %s, not %s", i, ck_triage_class_name(c),
		       ck_triage_class_name(cases[i].class));
	}
	const char *none[] = { "Kernel panic - not syncing: x", NULL };
	const char *msg;
	EXPECT(classify(none, false, &msg) == CK_TRIAGE_NONE);
	const char *oops[] = { "BUG: kernel NULL pointer dereference, address: 0", NULL };
	classify(oops, true, &msg);
	EXPECT(!strcmp(msg, "BUG: kernel NULL pointer dereference, address: 0"), "%s", msg);
	struct ck_triage_log l;
	ck_triage_log_init(&l);
	const char *hung = "INFO: task ck:d:77 blocked for more than 120 seconds.";
	ck_triage_log_line(&l, hung, strlen(hung));
	EXPECT(l.hung_pid == 77, "%d", (int)l.hung_pid);
	/* the stalled CPU another CPU's detector names (the lab's 6.1 RCU stall) */
	ck_triage_log_init(&l);
	const char *rcu[] = { "rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:",
			      "rcu: \t0-....: (245 ticks this GP) idle=4144/1/0x4000000000000000",
			      "rcu: \t(detected by 1, t=5257 jiffies, g=1, q=2)" };
	for (size_t i = 0; i < 3; i++)
		ck_triage_log_line(&l, rcu[i], strlen(rcu[i]));
	EXPECT(l.stall_cpu == 0, "%d", l.stall_cpu);
	ck_triage_log_init(&l);
	const char *hard = "NMI watchdog: Watchdog detected hard LOCKUP on cpu 3";
	ck_triage_log_line(&l, hard, strlen(hard));
	EXPECT(l.stall_cpu == 3, "%d", l.stall_cpu);
	ck_triage_log_init(&l);
	const char *rcu_early = "rcu: \t0-....: (1 ticks)";	/* no stall report yet */
	ck_triage_log_line(&l, rcu_early, strlen(rcu_early));
	EXPECT(l.stall_cpu == -1, "%d", l.stall_cpu);
}

static void test_skip(void)
{
	static const char *const skipped[] = {
		"panic", "vpanic", "__crash_kexec", "machine_kexec", "oops_end", "__die_body",
		"exc_page_fault", "asm_exc_invalid_op", "handle_bug", "report_bug", "__warn",
		"dump_stack_lvl", "_printk", "page_fault_oops", "__list_del_entry_valid_or_report",
	};
	for (size_t i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++)
		EXPECT(ck_triage_skip_frame(skipped[i], CK_TRIAGE_BUG), "%s", skipped[i]);
	EXPECT(!ck_triage_skip_frame("sysrq_handle_crash", CK_TRIAGE_SYSRQ));
	EXPECT(ck_triage_skip_frame("__handle_sysrq", CK_TRIAGE_SYSRQ));
	EXPECT(!ck_triage_skip_frame("__handle_sysrq", CK_TRIAGE_BUG));
	EXPECT(ck_triage_skip_frame("schedule_timeout", CK_TRIAGE_HUNG_TASK));
	EXPECT(!ck_triage_skip_frame("schedule_timeout", CK_TRIAGE_BUG));
	EXPECT(!ck_triage_skip_frame("ext4_readdir", CK_TRIAGE_PAGE_FAULT));
	/* out-of-memory: the allocators are skipped, their caller is the culprit */
	EXPECT(ck_triage_skip_frame("__alloc_pages_slowpath", CK_TRIAGE_OUT_OF_MEMORY));
	EXPECT(ck_triage_skip_frame("kmalloc_trace", CK_TRIAGE_OUT_OF_MEMORY));
	EXPECT(!ck_triage_skip_frame("__alloc_pages_slowpath", CK_TRIAGE_BUG));
	EXPECT(!ck_triage_skip_frame("ck_crashmod_oom", CK_TRIAGE_OUT_OF_MEMORY));
	EXPECT(ck_triage_skip_frame("panic_on_rcu_stall", CK_TRIAGE_RCU_STALL));
	EXPECT(ck_triage_stop_frame("do_syscall_64"));
	EXPECT(ck_triage_stop_frame("entry_SYSCALL_64_after_hwframe"));
	char n[64];
	ck_triage_norm_name("__handle_sysrq.cold", n, sizeof(n));
	EXPECT(!strcmp(n, "__handle_sysrq"));
	ck_triage_norm_name("foo.constprop.0.isra.0", n, sizeof(n));
	EXPECT(!strcmp(n, "foo"));
}

static void test_signature(void)
{
	const char *frames[] = { "sysrq_handle_crash", "proc_reg_write", "vfs_write", "ksys_write" };
	char sig[17];
	ck_triage_signature(CK_TRIAGE_SYSRQ, frames, 4, sig);
	/* sha256("v2|sysrq|sysrq_handle_crash|proc_reg_write|vfs_write") */
	EXPECT(!strcmp(sig, "0d8c142377d160e9"), "%s", sig);
	const char *cold[] = { "sysrq_handle_crash", "proc_reg_write.cold", "vfs_write.isra.0" };
	char sig2[17];
	ck_triage_signature(CK_TRIAGE_SYSRQ, cold, 3, sig2);
	EXPECT(!strcmp(sig, sig2), "clone suffixes change it: %s", sig2);
	ck_triage_signature(CK_TRIAGE_BUG, frames, 3, sig2);
	EXPECT(strcmp(sig, sig2), "the class must count");
	char title[256];
	ck_triage_title(CK_TRIAGE_NULL_DEREF, "", "foo", "mod", title, sizeof(title));
	EXPECT(!strcmp(title, "BUG: kernel NULL pointer dereference in foo [mod]"), "%s", title);
	ck_triage_title(CK_TRIAGE_SYSRQ, "", "sysrq_handle_crash", NULL, title, sizeof(title));
	EXPECT(!strcmp(title, "sysrq: sysrq_handle_crash"), "%s", title);
	ck_triage_title(CK_TRIAGE_KASAN, "BUG: KASAN: slab-use-after-free in foo+0x1", "foo", NULL,
			title, sizeof(title));
	EXPECT(!strcmp(title, "KASAN: slab-use-after-free in foo"), "%s", title);
	char letters[80];
	ck_triage_taint_letters((1u << 0) | (1u << 12) | (1u << 13), letters, sizeof(letters));
	EXPECT(!strcmp(letters, "POE"), "%s", letters);
	ck_triage_taint_letters(1ull << 40, letters, sizeof(letters));
	EXPECT(!strcmp(letters, "?"), "%s", letters);
}

int main(void)
{
	int r = harness_begin("triage");
	if (r)
		return r;
	run("sha256", test_sha256);
	run("classes from log lines", test_classes);
	run("frame skip rules", test_skip);
	run("signature, title, taint", test_signature);
	return harness_end();
}
