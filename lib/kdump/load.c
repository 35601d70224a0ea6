/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `crashkit kdump load|unload|status` (docs/kdump.md, "load"): the capture
 * kernel and crashkit's initramfs into the crashkernel= reservation with
 * kexec_file_load(2) and KEXEC_FILE_ON_CRASH (the kernel parses the
 * bzImage, builds the ELF core header and purgatory itself, and checks the
 * signature under lockdown: no kexec-tools), and a small state file saying
 * what is loaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kexec.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "kdump/kdump.h"

#ifndef KEXEC_FILE_ON_CRASH
#define KEXEC_FILE_UNLOAD 0x00000001
#define KEXEC_FILE_ON_CRASH 0x00000002
#endif

/* Words of the running command line the capture kernel must not get:
 * another reservation, the boot loader's, quiet (the console is the only
 * witness), and settings that cost memory or CPUs it does not have. */
static const char *const drop_words[] = {
	"crashkernel=", "BOOT_IMAGE=", "initrd=", "quiet", "splash", "rhgb", "nr_cpus=",
	"maxcpus=", "possible_cpus=", "irqpoll", "reset_devices", "panic=", "resume=",
	"resume_offset=", "hugepages=", "hugepagesz=", "default_hugepagesz=", "hugetlb_cma=",
	"cma=", "mem=", "kmemleak=", "kfence.sample_interval=", "trace_buf_size=", "ftrace=",
	"init=", "rdinit=", "rd.", "systemd.", "cgroup_disable=", "numa_balancing=",
	"transparent_hugepage=", "zswap.", "memmap=", "efi_fake_mem=", "earlyprintk=",
	"kexec_jump_back_entry=", "elfcorehdr=", "printk.devkmsg=",
};

/* What the capture kernel gets instead: one CPU (the others are stopped,
 * and each costs per-CPU memory), interrupts polled (a device the crashed
 * kernel left asserting), devices reset, no memory cgroup (its per-page
 * data), and a reboot 10 s after a panic of its own. */
#define CAPTURE_WORDS "nr_cpus=1 irqpoll reset_devices cgroup_disable=memory panic=10"

static bool dropped(const char *w, size_t l)
{
	for (size_t i = 0; i < CK_ARRAY_SIZE(drop_words); i++) {
		size_t dl = strlen(drop_words[i]);
		char last = drop_words[i][dl - 1];
		if (last == '=' || last == '.' ? l >= dl && !memcmp(w, drop_words[i], dl)
		    : l == dl && !memcmp(w, drop_words[i], dl))
			return true;
	}
	return false;
}

struct ck_error *ck_kdump_command_line(const char *running, const char *append, char **ret)
{
	struct ck_strbuf sb = CK_STRBUF_INIT;
	/* Quoted values ("foo=\"a b\"") are one word. */
	for (const char *p = running; *p;) {
		p += strspn(p, " \t\n");
		if (!*p)
			break;
		const char *s = p;
		bool quote = false;
		while (*p && (quote || !strchr(" \t\n", *p)))
			quote ^= *p++ == '"';
		size_t l = (size_t)(p - s);
		if (l == 2 && !memcmp(s, "--", 2))
			break;
		if (!dropped(s, l))
			ck_strbuf_addf(&sb, "%s%.*s", sb.len ? " " : "", (int)l, s);
	}
	ck_strbuf_addf(&sb, "%s%s", sb.len ? " " : "", CAPTURE_WORDS);
	if (append && *append)
		ck_strbuf_addf(&sb, " %s", append);
	char *s = ck_strbuf_detach(&sb, NULL);
	if (!s)
		return &ck_error_nomem;
	*ret = s;
	return NULL;
}

/* A one-line file of /sys: its number, -1 when absent. */
static int64_t sys_number(const char *root, const char *path, const char *old_path)
{
	const char *paths[] = { path, old_path };
	for (int i = 0; i < 2; i++) {
		char *full = ck_kdump_path(root, paths[i]), *text = NULL;
		bool ok = (text = ck_kdump_read_quiet(full, 64)) != NULL;
		free(full);
		if (ok) {
			int64_t v = strtoll(text, NULL, 10);
			free(text);
			return v;
		}
	}
	return -1;
}

static int64_t crash_size(const char *root)
{
	return sys_number(root, "/sys/kernel/kexec/crash_size", "/sys/kernel/kexec_crash_size");
}

static char *lockdown(const char *root)
{
	char *p = ck_kdump_path(root, "/sys/kernel/security/lockdown"), *text = NULL;
	if ((text = ck_kdump_read_quiet(p, 256))) {
		char *b = strchr(text, '['), *e = b ? strchr(b, ']') : NULL;
		char *mode = e ? strndup(b + 1, (size_t)(e - b - 1)) : NULL;
		free(text);
		free(p);
		return mode;
	}
	free(p);
	return NULL;
}

/* The kernel's answer as something to act on. */
static struct ck_error *load_error(int e, const struct ck_kdump_load_opts *o, const char *kernel,
				   uint64_t need)
{
	char *ld = lockdown(o->root);
	bool locked = ld && strcmp(ld, "none");
	struct ck_error *err;
	switch (e) {
	case ENOSYS:
		err = ck_error_create_errno(e, "kexec_file_load: this kernel has no CONFIG_KEXEC_FILE; "
					    "only kexec_load(2) would work (kexec -p from kexec-tools)");
		break;
	case EPERM:
		err = locked ? ck_error_create_errno(e, "kexec_file_load: refused under lockdown (%s): "
						     "'%s' must be signed by a key the kernel trusts "
						     "(CONFIG_KEXEC_SIG)", ld, kernel)
			: ck_error_create_errno(e, "kexec_file_load: not allowed (root with CAP_SYS_BOOT "
						"needed; kernel.kexec_load_disabled may be 1)");
		break;
	case EKEYREJECTED: case ENOKEY: case EBADMSG: case ENODATA:
		err = ck_error_create_errno(e, "kexec_file_load: '%s': signature check failed "
					    "(CONFIG_KEXEC_SIG%s)", kernel,
					    locked ? ", lockdown" : "_FORCE");
		break;
	case ENOEXEC:
		err = ck_error_create_errno(e, "kexec_file_load: '%s' is not a kernel image this "
					    "kernel can load (a bzImage on x86_64)", kernel);
		break;
	case ENOMEM: case EADDRNOTAVAIL:
		err = ck_error_create_errno(e, "kexec_file_load: the reserved %lld MiB do not hold "
					    "the kernel and initramfs (%llu MiB of files): raise "
					    "crashkernel= (crashkit kdump recommend)",
					    (long long)(crash_size(o->root) >> 20),
					    (unsigned long long)(need >> 20));
		break;
	case EBUSY:
		err = ck_error_create_errno(e, "kexec_file_load: another kexec load is under way");
		break;
	default:
		err = ck_error_create_errno(e, "kexec_file_load of '%s'", kernel);
	}
	free(ld);
	return err;
}

static char *state_path(const struct ck_kdump_load_opts *o)
{
	return o->state ? strdup(o->state) : ck_kdump_path(o->root, CK_KDUMP_STATE);
}

static struct ck_error *write_state(const struct ck_kdump_load_opts *o, const char *kernel,
				    const char *cmdline, uint64_t initrd_bytes)
{
	char *path = state_path(o);
	if (!path)
		return &ck_error_nomem;
	char *dir = strdup(path);
	if (dir && strrchr(dir, '/'))
		*strrchr(dir, '/') = '\0';
	if (dir && dir[0])
		mkdir(dir, 0755);
	free(dir);
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	char *text = ck_strdup_printf("kernel=%s\ninitramfs=%s\ninitramfs_bytes=%llu\ncmdline=%s\n"
				      "loaded_at=%s\n", kernel, o->initramfs,
				      (unsigned long long)initrd_bytes, cmdline, when);
	struct ck_outfile of = CK_OUTFILE_INIT;
	struct ck_error *err = text ? ck_outfile_open(path, true, &of) : &ck_error_nomem;
	if (!err)
		err = ck_write_all(of.fd, text, strlen(text), of.tmp_path);
	if (!err)
		err = ck_outfile_commit(&of);
	ck_outfile_abandon(&of, false);
	free(text);
	free(path);
	return err;
}

static struct ck_error *open_input(const char *path, const char *what, int *fd, uint64_t *size)
{
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (*fd < 0 || fstat(*fd, &st))
		return ck_error_create_errno(errno, "%s '%s'%s", what, path, errno == ENOENT
					     ? " not found (--kernel FILE names another)" : "");
	*size = (uint64_t)st.st_size;
	return NULL;
}

struct ck_error *ck_kdump_load(const struct ck_kdump_load_opts *o, char **kernel_ret,
			       char **cmdline_ret)
{
	int64_t reserved = crash_size(o->root);
	if (reserved == 0)
		return ck_error_create(CK_ERR_UNSUPPORTED, "no memory is reserved for a capture kernel: "
				       "add crashkernel=SIZE to the kernel command line and reboot "
				       "(crashkit kdump recommend)");
	char *release = ck_kdump_release(o->root), *kernel = NULL, *cmdline = NULL, *running = NULL;
	if (o->kernel) {
		kernel = strdup(o->kernel);
	} else if (release) {
		char *rel = ck_strdup_printf("/boot/vmlinuz-%s", release);
		kernel = rel ? ck_kdump_path(o->root, rel) : NULL;
		free(rel);
	}
	free(release);
	struct ck_error *err = kernel ? NULL : &ck_error_nomem;
	char *procpath = ck_kdump_path(o->root, "/proc/cmdline");
	if (!err && !o->command_line)
		err = procpath ? ck_kdump_read_text(procpath, 65536, &running, NULL) : &ck_error_nomem;
	free(procpath);
	if (!err)
		err = o->command_line ? ((cmdline = strdup(o->command_line)) ? NULL : &ck_error_nomem)
			: ck_kdump_command_line(running, o->append, &cmdline);
	free(running);
	int kfd = -1, ifd = -1;
	uint64_t ksize = 0, isize = 0;
	if (!err)
		err = open_input(kernel, "kernel", &kfd, &ksize);
	if (!err)
		err = open_input(o->initramfs, "initramfs", &ifd, &isize);
	if (!err && syscall(SYS_kexec_file_load, kfd, ifd, strlen(cmdline) + 1, cmdline,
			    (unsigned long)KEXEC_FILE_ON_CRASH))
		err = load_error(errno, o, kernel, ksize + isize);
	if (kfd >= 0)
		close(kfd);
	if (ifd >= 0)
		close(ifd);
	if (!err)
		err = write_state(o, kernel, cmdline, isize);
	if (err) {
		free(kernel);
		free(cmdline);
		return err;
	}
	*kernel_ret = kernel;
	*cmdline_ret = cmdline;
	return NULL;
}

struct ck_error *ck_kdump_unload(const struct ck_kdump_load_opts *o)
{
	if (syscall(SYS_kexec_file_load, -1, -1, 0, NULL,
		    (unsigned long)(KEXEC_FILE_ON_CRASH | KEXEC_FILE_UNLOAD)))
		return load_error(errno, o, "(unload)", 0);
	char *path = state_path(o);
	if (path)
		unlink(path);
	free(path);
	return NULL;
}

struct ck_error *ck_kdump_status_read(const struct ck_kdump_load_opts *o,
				      struct ck_kdump_status *ret)
{
	struct ck_kdump_status s = { 0 };
	s.loaded = (int)sys_number(o->root, "/sys/kernel/kexec/crash_loaded",
				   "/sys/kernel/kexec_crash_loaded");
	s.crash_size = crash_size(o->root);
	char *path = state_path(o), *text = NULL;
	if ((text = ck_kdump_read_quiet(path, 65536))) {
		s.kernel = ck_kv_line_value(text, "kernel");
		s.initramfs = ck_kv_line_value(text, "initramfs");
		s.cmdline = ck_kv_line_value(text, "cmdline");
		s.loaded_at = ck_kv_line_value(text, "loaded_at");
		char *b = ck_kv_line_value(text, "initramfs_bytes");
		s.initramfs_bytes = b ? strtoull(b, NULL, 10) : 0;
		free(b);
	}
	free(text);
	free(path);
	*ret = s;
	return NULL;
}

void ck_kdump_status_deinit(struct ck_kdump_status *s)
{
	free(s->kernel);
	free(s->initramfs);
	free(s->cmdline);
	free(s->loaded_at);
	memset(s, 0, sizeof(*s));
}
