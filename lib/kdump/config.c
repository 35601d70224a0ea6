/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel config options kdump depends on, read from a config file
 * (plain or gzip, /proc/config.gz), and the small text files of /proc and
 * /sys under a root directory (docs/kdump.md, "check").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

#include "base/base.h"
#include "kdump/kdump.h"

/* Groups of CK_KDUMP_NEEDED_ONE options. */
enum { GROUP_LOAD = 1, GROUP_VMCOREINFO = 2 };

static const struct ck_kdump_option option_table[] = {
	{ "KEXEC", "kexec_load(2): kexec-tools loads the capture kernel", CK_KDUMP_NEEDED_ONE, GROUP_LOAD, "" },
	{ "KEXEC_FILE", "kexec_file_load(2): the kernel loads it (crashkit kdump load, Secure Boot)",
	  CK_KDUMP_NEEDED_ONE, GROUP_LOAD, "" },
	{ "KEXEC_CORE", "the kexec machinery both system calls share", CK_KDUMP_NEEDED, 0, "" },
	{ "CRASH_CORE", "VMCOREINFO and crashkernel= before Linux 6.9", CK_KDUMP_NEEDED_ONE,
	  GROUP_VMCOREINFO, "" },
	{ "VMCORE_INFO", "VMCOREINFO (Linux 6.9+): the note that says how to read the dump",
	  CK_KDUMP_NEEDED_ONE, GROUP_VMCOREINFO, "" },
	{ "CRASH_RESERVE", "crashkernel= reservation (Linux 6.9+, selected by CRASH_DUMP)",
	  CK_KDUMP_INFO, 0, "" },
	{ "CRASH_DUMP", "kexec on panic into the reserved capture kernel", CK_KDUMP_NEEDED, 0, "" },
	{ "PROC_VMCORE", "/proc/vmcore: the capture kernel's view of the crashed memory",
	  CK_KDUMP_NEEDED, 0, "" },
	{ "SYSFS", "/sys/kernel/kexec_crash_{size,loaded}: reservation and load state",
	  CK_KDUMP_NEEDED, 0, "" },
	{ "RELOCATABLE", "the same kernel image runs as capture kernel in the reserved range",
	  CK_KDUMP_NEEDED, 0, "" },
	{ "DEBUG_INFO_BTF", "types in the dump: crashkit analyze needs no vmlinux", CK_KDUMP_WANTED, 0, "" },
	{ "KALLSYMS", "symbol names in the dump (dmesg, sym, bt without System.map)",
	  CK_KDUMP_WANTED, 0, "" },
	{ "KALLSYMS_ALL", "names of data symbols too (globals crashkit reads)", CK_KDUMP_WANTED, 0, "" },
	{ "UNWINDER_ORC", "ORC tables: exact backtraces without frame pointers", CK_KDUMP_WANTED, 0, "" },
	{ "PROC_KCORE", "/proc/kcore: the live kernel read as a dump (testing, live analysis)",
	  CK_KDUMP_INFO, 0, "" },
	{ "RANDOMIZE_BASE", "KASLR: the kernel moves each boot; read back from VMCOREINFO",
	  CK_KDUMP_INFO, 0, "" },
	{ "KEXEC_SIG", "signed capture kernels: required under Secure Boot lockdown",
	  CK_KDUMP_INFO, 0, "" },
};

struct ck_error *ck_kdump_options(struct ck_kdump_option **ret, size_t *nr_ret)
{
	size_t nr = sizeof(option_table) / sizeof(option_table[0]);
	struct ck_kdump_option *o = ck_calloc_array(nr, sizeof(*o));
	if (!o)
		return &ck_error_nomem;
	memcpy(o, option_table, sizeof(option_table));
	*ret = o;
	*nr_ret = nr;
	return NULL;
}

/* One line "CONFIG_NAME=VALUE": the option's value (quotes kept, cut at
 * the field's size). */
static void parse_line(const char *line, size_t len, struct ck_kdump_option *opts, size_t nr)
{
	if (len < 8 || memcmp(line, "CONFIG_", 7))
		return;
	const char *name = line + 7;
	const char *eq = memchr(name, '=', len - 7);
	if (!eq)
		return;
	size_t name_len = (size_t)(eq - name);
	for (size_t i = 0; i < nr; i++) {
		if (strlen(opts[i].name) != name_len || memcmp(opts[i].name, name, name_len))
			continue;
		size_t vlen = len - 7 - name_len - 1;
		if (vlen >= sizeof(opts[i].value))
			vlen = sizeof(opts[i].value) - 1;
		memcpy(opts[i].value, eq + 1, vlen);
		opts[i].value[vlen] = '\0';
		if (!strcmp(opts[i].value, "n"))	/* "=n" is "not set" */
			opts[i].value[0] = '\0';
	}
}

struct ck_error *ck_kdump_parse_config(const char *text, size_t len,
				       struct ck_kdump_option *opts, size_t nr)
{
	if (memchr(text, '\0', len))
		return ck_error_create(CK_ERR_FORMAT, "not a kernel config (binary data)");
	bool any = false;
	for (size_t i = 0; i < nr; i++)
		opts[i].value[0] = '\0';
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (l && p[l - 1] == '\r')
			l--;
		if ((l > 7 && !memcmp(p, "CONFIG_", 7)) || (l > 9 && !memcmp(p, "# CONFIG_", 9)))
			any = true;
		parse_line(p, l, opts, nr);
		p += l + 1;
		if (!nl)
			break;
	}
	if (!any)
		return ck_error_create(CK_ERR_FORMAT, "not a kernel config (no CONFIG_ line)");
	return NULL;
}

struct ck_error *ck_kdump_missing(const struct ck_kdump_option *opts, size_t nr, char **ret)
{
	struct ck_strbuf sb = CK_STRBUF_INIT;
	int done_groups = 0;
	for (size_t i = 0; i < nr; i++) {
		const struct ck_kdump_option *o = &opts[i];
		if (o->role == CK_KDUMP_NEEDED && !o->value[0]) {
			ck_strbuf_addf(&sb, "%sCONFIG_%s", sb.len ? " " : "", o->name);
		} else if (o->role == CK_KDUMP_NEEDED_ONE && !(done_groups & (1 << o->group))) {
			done_groups |= 1 << o->group;
			bool have = false;
			for (size_t j = 0; j < nr; j++)
				if (opts[j].role == CK_KDUMP_NEEDED_ONE && opts[j].group == o->group &&
				    opts[j].value[0])
					have = true;
			if (have)
				continue;
			ck_strbuf_adds(&sb, sb.len ? " " : "");
			const char *sep = "";
			for (size_t j = 0; j < nr; j++)
				if (opts[j].role == CK_KDUMP_NEEDED_ONE && opts[j].group == o->group) {
					ck_strbuf_addf(&sb, "%sCONFIG_%s", sep, opts[j].name);
					sep = "|";
				}
		}
	}
	if (sb.failed) {
		ck_strbuf_deinit(&sb);
		return &ck_error_nomem;
	}
	if (!sb.len) {
		ck_strbuf_deinit(&sb);
		*ret = NULL;
		return NULL;
	}
	*ret = ck_strbuf_detach(&sb, NULL);
	return *ret ? NULL : &ck_error_nomem;
}

char *ck_kdump_path(const char *root, const char *path)
{
	if (!root)
		root = "";
	size_t rl = strlen(root);
	while (rl > 0 && root[rl - 1] == '/')
		rl--;
	return ck_strdup_printf("%.*s%s", (int)rl, root, path);
}

struct ck_error *ck_kdump_read_text(const char *path, size_t max, char **ret, size_t *len_ret)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ck_error_create_errno(errno, "'%s'", path);
	struct ck_strbuf sb = CK_STRBUF_INIT;
	char buf[4096];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			ck_strbuf_deinit(&sb);
			return ck_error_create_errno(e, "'%s'", path);
		}
		if (n == 0)
			break;
		if (sb.len + (size_t)n > max) {
			close(fd);
			ck_strbuf_deinit(&sb);
			return ck_error_create(CK_ERR_FORMAT, "'%s': larger than %zu bytes", path, max);
		}
		ck_strbuf_add(&sb, buf, (size_t)n);
	}
	close(fd);
	if (sb.failed) {
		ck_strbuf_deinit(&sb);
		return &ck_error_nomem;
	}
	char *s = ck_strbuf_detach(&sb, len_ret);
	if (!s)
		return &ck_error_nomem;
	*ret = s;
	return NULL;
}

struct ck_error *ck_kdump_read_gz(const char *path, size_t max, char **ret, size_t *len_ret)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ck_error_create_errno(errno, "'%s'", path);
	gzFile gz = gzdopen(fd, "rb");
	if (!gz) {
		close(fd);
		return &ck_error_nomem;
	}
	struct ck_strbuf sb = CK_STRBUF_INIT;
	char buf[16384];
	struct ck_error *err = NULL;
	for (;;) {
		int n = gzread(gz, buf, sizeof(buf));
		if (n < 0) {
			int e;
			const char *msg = gzerror(gz, &e);
			err = e == Z_ERRNO ? ck_error_create_errno(errno, "'%s'", path)
				: ck_error_create(CK_ERR_FORMAT, "'%s': gzip: %s", path, msg);
			break;
		}
		if (n == 0)
			break;
		if (sb.len + (size_t)n > max) {
			err = ck_error_create(CK_ERR_FORMAT, "'%s': larger than %zu bytes", path, max);
			break;
		}
		ck_strbuf_add(&sb, buf, (size_t)n);
	}
	gzclose(gz);
	if (!err && sb.failed)
		err = &ck_error_nomem;
	if (err) {
		ck_strbuf_deinit(&sb);
		return err;
	}
	char *s = ck_strbuf_detach(&sb, len_ret);
	if (!s)
		return &ck_error_nomem;
	*ret = s;
	return NULL;
}

char *ck_kdump_release(const char *root)
{
	char *path = ck_kdump_path(root, "/proc/sys/kernel/osrelease");
	char *text = NULL;
	size_t len = 0;
	struct ck_error *err = path ? ck_kdump_read_text(path, 256, &text, &len) : &ck_error_nomem;
	free(path);
	if (!err) {
		text[strcspn(text, "\n")] = '\0';
		if (text[0])
			return text;
		free(text);
	} else {
		ck_error_destroy(err);
	}
	struct utsname u;
	if (uname(&u))
		return strdup("unknown");
	return strdup(u.release);
}

uint64_t ck_kdump_mem_total(const char *root)
{
	char *path = ck_kdump_path(root, "/proc/meminfo");
	char *text = NULL;
	struct ck_error *err = path ? ck_kdump_read_text(path, 1 << 20, &text, NULL) : &ck_error_nomem;
	free(path);
	if (err) {
		ck_error_destroy(err);
		return 0;
	}
	uint64_t kb = 0;
	const char *p = strstr(text, "MemTotal:");
	if (p && (p == text || p[-1] == '\n')) {
		unsigned long long v;
		if (sscanf(p + 9, "%llu", &v) == 1 && v < (UINT64_MAX >> 10))
			kb = v;
	}
	free(text);
	return kb << 10;
}
