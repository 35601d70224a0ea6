/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * crashkit kdump init: PID 1 of the capture initramfs that `crashkit kdump
 * initramfs` builds (/init is a link to crashkit; docs/kdump.md, "init").
 * Mounts /proc, /sys, /dev; loads the modules the builder listed; finds and
 * mounts the dump target's filesystem; runs `crashkit kdump save`; prints
 * the capture kernel's memory figures; then the final (or failure) action.
 * PID 1 never returns: whatever fails, the machine reboots (or does what
 * kdump.conf says).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tools.h"

#define MODULES_LIST "/etc/crashkit/modules"
#define TARGET_FILE "/etc/crashkit/target"
#define NETWORK_FILE "/etc/crashkit/network"
#define DEVICE_WAIT_MS 30000

static const char init_help[] =
	"usage: crashkit kdump init\n"
	"\n"
	"The capture kernel's /init in the initramfs `crashkit kdump initramfs` builds:\n"
	"mounts /proc, /sys and /dev, loads the modules of /etc/crashkit/modules, mounts\n"
	"the filesystem of /etc/crashkit/target where the crashed system had it, runs\n"
	"`crashkit kdump save`, then kdump.conf's final_action (failure_action when the\n"
	"save failed).  Runs only as PID 1.\n";

static double uptime(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("[%8.3f] crashkit-init: ", uptime());
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
	va_end(ap);
}

static void note(void *arg, const char *msg)
{
	say("%s", msg);
}

static void say_error(const char *what, struct ck_error *err)
{
	say("%s: %s", what, ck_error_message(err));
	ck_error_destroy(err);
}

static char *read_small(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *buf = calloc(1, 65536);
	size_t n = buf ? fread(buf, 1, 65535, f) : 0;
	fclose(f);
	if (buf)
		buf[n] = '\0';
	return buf;
}

/* Mounts the target's filesystem; false when the save cannot go on. */
static bool mount_target(struct ck_boot_target *t)
{
	char *text = read_small(TARGET_FILE);
	if (!text) {
		say("no %s: a network target, or a directory of the initramfs", TARGET_FILE);
		return true;
	}
	struct ck_error *err = ck_boot_target_parse(text, t);
	free(text);
	if (err) {
		say_error(TARGET_FILE, err);
		return false;
	}
	char *dev = NULL;
	say("waiting for %s %s (%s, mounted at %s in the crashed system)",
	    t->uuid[0] ? "UUID" : t->label[0] ? "LABEL" : "device",
	    t->uuid[0] ? t->uuid : t->label[0] ? t->label : t->device, t->fstype, t->mountpoint);
	err = ck_boot_find_device(t, DEVICE_WAIT_MS, &dev);
	if (!err)
		err = ck_boot_mount_target(t, dev);
	if (err) {
		say_error("target", err);
		free(dev);
		return false;
	}
	say("mounted %s (%s) on %s", dev, t->fstype, !strcmp(t->mountpoint, "/") ? "/sysroot"
	    : t->mountpoint);
	free(dev);
	return true;
}

/* Runs the save as a child, sampling MemFree meanwhile: the lowest value
 * is the capture kernel's peak use (docs/kdump.md, "measurements"). */
static int run_save(void)
{
	struct ck_meminfo before = { 0 }, m;
	struct ck_error *err = ck_meminfo_read(&before);
	if (err)
		say_error("meminfo", err);
	pid_t pid = fork();
	if (pid == 0) {
		char *args[] = { (char *)"crashkit", (char *)"kdump", (char *)"save",
				 (char *)"--verbose", NULL };
		execv("/proc/self/exe", args);
		_exit(127);
	}
	if (pid < 0) {
		say("fork: %s", strerror(errno));
		return 1;
	}
	uint64_t min_free = before.free_kb, min_avail = before.available_kb;
	int status = 0;
	struct rusage ru = { 0 };
	for (;;) {
		pid_t r = wait4(pid, &status, WNOHANG, &ru);
		if (r == pid || (r < 0 && errno != EINTR))
			break;
		struct ck_error *merr = ck_meminfo_read(&m);
		ck_error_destroy(merr);
		if (!merr) {
			min_free = m.free_kb < min_free ? m.free_kb : min_free;
			min_avail = m.available_kb < min_avail ? m.available_kb : min_avail;
		}
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	/* One line the lab reads (tests/lab/kdump_e2e.sh). */
	printf("@@CK MEM total_kb=%llu free_before_kb=%llu min_free_kb=%llu min_available_kb=%llu "
	       "save_maxrss_kb=%ld save_rc=%d\n", (unsigned long long)before.total_kb,
	       (unsigned long long)before.free_kb, (unsigned long long)min_free,
	       (unsigned long long)min_avail, ru.ru_maxrss, rc);
	fflush(stdout);
	return rc;
}

int ck_cmd_init(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return ck_print_help(init_help);
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--version"))
			return ck_print_version();
	/* The kernel may pass init words of its command line: as PID 1 they
	 * are ignored, by hand they are a mistake. */
	if (argc > 1 && getpid() != 1)
		return ck_usage_error("kdump init", "%s '%.64s' (init takes no arguments)",
				      argv[1][0] == '-' ? "unknown option" : "unexpected argument", argv[1]);
	if (getpid() != 1) {
		fprintf(stderr, "%s: error: kdump init: runs only as PID 1 of the capture initramfs "
			"(crashkit kdump initramfs)\n", ck_progname);
		return CK_EXIT_ERROR;
	}
	setenv("PATH", "/usr/bin:/bin:/usr/sbin:/sbin", 1);
	struct ck_error *err = ck_boot_mount_basics();
	if (err)
		say_error("mounting /proc, /sys, /dev", err);
	say("crashkit %s in the capture kernel", CRASHKIT_VERSION);
	unsigned int loaded = 0;
	if (!access(MODULES_LIST, R_OK)) {
		err = ck_boot_load_modules(MODULES_LIST, note, NULL, &loaded);
		if (err)
			say_error("modules", err);
		say("%u modules loaded", loaded);
	}
	struct ck_kdump_conf conf;
	ck_kdump_conf_init(&conf);
	err = ck_kdump_conf_load(&conf, CK_KDUMP_CONF_DEFAULT, true);
	if (err)
		say_error("kdump.conf", err);
	struct ck_boot_target t = { 0 };
	bool ok = mount_target(&t);
	char *net = read_small(NETWORK_FILE);
	if (net) {
		char *ifname = NULL;
		err = ck_boot_net_up(net, DEVICE_WAIT_MS, &ifname);
		if (err) {
			say_error("network", err);
			ok = false;
		} else {
			say("network: %s up (%s)", ifname, NETWORK_FILE);
		}
		free(ifname);
		free(net);
	}
	int rc = ok ? run_save() : 1;
	say("save %s (exit %d) at %.1f s", rc == 0 ? "complete" : rc == 3 ? "incomplete"
	    : "failed", rc, uptime());
	sync();
	if (t.mountpoint && t.mountpoint[0]) {
		if (!strcmp(t.mountpoint, "/"))
			umount2(t.path, MNT_DETACH);
		umount2(strcmp(t.mountpoint, "/") ? t.mountpoint : "/sysroot", 0);
	}
	ck_boot_target_deinit(&t);
	enum ck_kdump_action a = rc == 0 ? conf.final_action : conf.failure_action;
	say("%s", ck_kdump_action_name(a));
	err = ck_kdump_action_run(a, NULL);
	if (err)
		say_error("action", err);
	ck_kdump_conf_deinit(&conf);
	/* PID 1 must not return: the kernel would panic with a misleading
	 * "Attempted to kill init". */
	sync();
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}
