// SPDX-License-Identifier: GPL-2.0
/*
 * ck_crashmod: crash the kernel on purpose, one way per word, for the
 * crashkit lab (Debian's kernels have no lkdtm).  Written for crashkit.
 *
 * Writing a word to /proc/ck_crashmod runs that crash in the writer's
 * context (the lab writes it from a task named ck_crash pinned to CPU 0):
 *
 *   null     NULL pointer read             -> page fault oops
 *   bug      BUG()                         -> "kernel BUG at"
 *   gpf      read of a non-canonical addr  -> general protection fault
 *   divide   integer division by zero      -> divide error
 *   ud2      ud2 with no bug-table entry   -> invalid opcode
 *   list     list_del of a corrupted entry -> list_del corruption (DEBUG_LIST)
 *   stack    stack buffer overrun          -> stack-protector panic
 *   warn     WARN()                        -> panic with panic_on_warn
 *   softlockup spin with preemption off    -> soft lockup (softlockup_panic)
 *   hung     sleep in TASK_UNINTERRUPTIBLE -> hung task (hung_task_panic)
 *   oom      allocate pages until none     -> OOM (panic_on_oom)
 *   rcu      spin with preemption off      -> RCU stall (panic_on_rcu_stall)
 *   timer    NULL read in a timer callback -> oops in softirq context
 *
 * Each crash is its own noinline function named ck_crashmod_<word>, so a
 * triage tool can be checked for naming exactly that function.  The
 * sysctls that turn a report into a panic are the caller's business.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/proc_fs.h>
#include <linux/uaccess.h>
#include <linux/list.h>
#include <linux/sched.h>
#include <linux/delay.h>
#include <linux/timer.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/preempt.h>
#include <linux/rcupdate.h>

/* Read through volatile globals so the compiler sees no constant to fold. */
static int *volatile ck_null_ptr;
static volatile unsigned long ck_noncanonical = 0xdead000000000100UL;
static volatile int ck_zero;
/* 16 bytes of buf + the 8-byte canary above it (gcc-12 puts it there: a
 * longer overrun would also hit the return address). */
static volatile int ck_overrun = 24;
static volatile int ck_spin = 1;
static volatile long ck_sink;

static noinline void ck_crashmod_null(void)
{
	ck_sink = *ck_null_ptr;
}

static noinline void ck_crashmod_bug(void)
{
	if (ck_spin)
		BUG();
}

static noinline void ck_crashmod_gpf(void)
{
	ck_sink = *(volatile long *)ck_noncanonical;
}

static noinline void ck_crashmod_divide(void)
{
	int num = 1000;

	ck_sink = num / ck_zero;
}

static noinline void ck_crashmod_ud2(void)
{
	asm volatile("ud2");
	unreachable();
}

struct ck_item {
	struct list_head node;
	int value;
};

static noinline void ck_crashmod_list(void)
{
	static LIST_HEAD(head);
	static LIST_HEAD(elsewhere);
	static struct ck_item item;

	list_add(&item.node, &head);
	/* item's prev no longer points at an entry whose next is item. */
	WRITE_ONCE(item.node.prev, &elsewhere);
	list_del(&item.node);
}

/* Writes past buf one byte at a time through a volatile pointer: no
 * fortified memset/memcpy sees the size, so only the canary catches it. */
static noinline void ck_crashmod_stack(void)
{
	char buf[16];
	char *volatile p = buf;
	int i;

	for (i = 0; i < ck_overrun; i++)
		p[i] = 'A' + (i & 15);
	ck_sink = buf[3];
}

static noinline void ck_crashmod_warn(void)
{
	WARN(ck_spin, "ck_crashmod: WARN on purpose\n");
}

static noinline void ck_crashmod_softlockup(void)
{
	preempt_disable();
	while (ck_spin)
		cpu_relax();
	preempt_enable();
}

static noinline void ck_crashmod_hung(void)
{
	for (;;) {
		set_current_state(TASK_UNINTERRUPTIBLE);
		schedule();
	}
}

static LIST_HEAD(ck_pages);

static noinline void ck_crashmod_oom(void)
{
	struct page *page;

	while ((page = alloc_page(GFP_KERNEL)))
		list_add(&page->lru, &ck_pages);
}

static noinline void ck_crashmod_rcu(void)
{
	preempt_disable();
	while (ck_spin)
		cpu_relax();
	preempt_enable();
}

static struct timer_list ck_timer;

static noinline void ck_crashmod_timer_fn(struct timer_list *t)
{
	ck_sink = *ck_null_ptr;
}

static noinline void ck_crashmod_timer(void)
{
	timer_setup(&ck_timer, ck_crashmod_timer_fn, 0);
	mod_timer(&ck_timer, jiffies + 1);
	/* Sleep so that the CPU idles and the timer fires in softirq. */
	msleep(5000);
}

static const struct {
	const char *word;
	void (*fn)(void);
} ck_kinds[] = {
	{ "null", ck_crashmod_null },
	{ "bug", ck_crashmod_bug },
	{ "gpf", ck_crashmod_gpf },
	{ "divide", ck_crashmod_divide },
	{ "ud2", ck_crashmod_ud2 },
	{ "list", ck_crashmod_list },
	{ "stack", ck_crashmod_stack },
	{ "warn", ck_crashmod_warn },
	{ "softlockup", ck_crashmod_softlockup },
	{ "hung", ck_crashmod_hung },
	{ "oom", ck_crashmod_oom },
	{ "rcu", ck_crashmod_rcu },
	{ "timer", ck_crashmod_timer },
};

static ssize_t ck_crashmod_write(struct file *file, const char __user *ubuf,
				 size_t len, loff_t *pos)
{
	char word[32];
	size_t n = min(len, sizeof(word) - 1);
	int i;

	if (copy_from_user(word, ubuf, n))
		return -EFAULT;
	word[n] = '\0';
	strim(word);
	for (i = 0; i < ARRAY_SIZE(ck_kinds); i++) {
		if (!strcmp(word, ck_kinds[i].word)) {
			pr_info("ck_crashmod: crashing: %s\n", word);
			ck_kinds[i].fn();
			pr_err("ck_crashmod: still alive after %s\n", word);
			return len;
		}
	}
	return -EINVAL;
}

static const struct proc_ops ck_crashmod_ops = {
	.proc_write = ck_crashmod_write,
};

static struct proc_dir_entry *ck_entry;

static int __init ck_crashmod_init(void)
{
	ck_entry = proc_create("ck_crashmod", 0200, NULL, &ck_crashmod_ops);
	return ck_entry ? 0 : -ENOMEM;
}

static void __exit ck_crashmod_exit(void)
{
	proc_remove(ck_entry);
}

module_init(ck_crashmod_init);
module_exit(ck_crashmod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("crashkit lab: crash the kernel in chosen ways");
