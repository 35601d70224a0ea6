/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * crashkit kdump check: can this kernel dump, and is it ready to?  The
 * config options, crashkernel= on the command line, the reservation the
 * kernel made, whether a capture kernel is loaded, sysrq; one verdict
 * (docs/kdump.md, "check").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "kdump/kdump.h"

#define SMALL_FILE (1u << 20)
#define CONFIG_MAX (64u << 20)
#define IOMEM_MAX (16u << 20)

/* The config: opts->config, else root/boot/config-RELEASE, else
 * root/proc/config.gz.  Fails naming every path tried. */
static struct ck_error *read_config(const struct ck_kdump_opts *opts, const char *release,
				   char **text, size_t *len, char **source)
{
	struct ck_error *err;
	if (opts->config) {
		const char *c = opts->config;
		size_t cl = strlen(c);
		bool gz = cl > 3 && !strcmp(c + cl - 3, ".gz");
		err = gz ? ck_kdump_read_gz(c, CONFIG_MAX, text, len)
			 : ck_kdump_read_text(c, CONFIG_MAX, text, len);
		if (err)
			return err;
		*source = strdup(c);
		return *source ? NULL : &ck_error_nomem;
	}
	char *boot = ck_strdup_printf("%s/boot/config-%s", opts->root ? opts->root : "", release);
	char *proc = ck_kdump_path(opts->root, "/proc/config.gz");
	if (!boot || !proc) {
		free(boot);
		free(proc);
		return &ck_error_nomem;
	}
	err = ck_kdump_read_text(boot, CONFIG_MAX, text, len);
	if (!err) {
		*source = boot;
		free(proc);
		return NULL;
	}
	struct ck_error *err2 = ck_kdump_read_gz(proc, CONFIG_MAX, text, len);
	if (!err2) {
		ck_error_destroy(err);
		*source = proc;
		free(boot);
		return NULL;
	}
	struct ck_error *e = ck_error_create(ck_error_code(err2), "no kernel config: %s; %s "
					     "(--config FILE names one)", ck_error_message(err),
					     ck_error_message(err2));
	ck_error_destroy(err);
	ck_error_destroy(err2);
	free(boot);
	free(proc);
	return e;
}

/* A small file of root, whole; on failure *error says why ("'PATH': No
 * such file or directory") and NULL is returned. */
static char *read_small(const char *root, const char *path, size_t max, char **error)
{
	char *full = ck_kdump_path(root, path), *text = NULL;
	struct ck_error *err = full ? ck_kdump_read_text(full, max, &text, NULL) : &ck_error_nomem;
	free(full);
	if (err) {
		*error = strdup(ck_error_message(err));
		ck_error_destroy(err);
		return NULL;
	}
	return text;
}

/* A file holding one decimal number; -1 (and *error) when unreadable. */
static int64_t read_number(const char *root, const char *path, char **error)
{
	char *text = read_small(root, path, 4096, error);
	if (!text)
		return -1;
	char *end;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	bool bad = errno || end == text || v < 0 || (*end && *end != '\n');
	free(text);
	if (bad) {
		char *full = ck_kdump_path(root, path);
		*error = ck_strdup_printf("'%s': not a number", full ? full : path);
		free(full);
		return -1;
	}
	return v;
}

/* Every crashkernel= of the command line, space-separated (the kernel
 * takes the last plain one and the ,high/,low/,cma forms beside it). */
static char *crashkernel_args(const char *cmdline)
{
	struct ck_strbuf sb = CK_STRBUF_INIT;
	const char *p = cmdline;
	while (*p) {
		p += strspn(p, " \t\n");
		size_t l = strcspn(p, " \t\n");
		if (l > 12 && !memcmp(p, "crashkernel=", 12))
			ck_strbuf_addf(&sb, "%s%.*s", sb.len ? " " : "", (int)(l - 12), p + 12);
		if (l == 2 && !memcmp(p, "--", 2))
			break;	/* the rest is init's */
		p += l;
	}
	if (!sb.len || sb.failed) {
		ck_strbuf_deinit(&sb);
		return NULL;
	}
	return ck_strbuf_detach(&sb, NULL);
}

/* "Crash kernel" lines of /proc/iomem (any depth): bytes, summed. */
static void read_iomem(const char *root, struct ck_kdump_check *c)
{
	c->iomem_bytes = -1;
	char *text = read_small(root, "/proc/iomem", IOMEM_MAX, &c->iomem_error);
	if (!text)
		return;
	uint64_t total = 0;
	bool hidden = false;
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *colon = strstr(line, " : ");
		if (colon && !strcmp(colon + 3, "Crash kernel")) {
			unsigned long long a, b;
			if (sscanf(line, " %llx-%llx", &a, &b) == 2) {
				if (!a && !b)
					hidden = true;
				else if (b >= a)
					total += b - a + 1;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	free(text);
	c->iomem_hidden = hidden;
	c->iomem_bytes = hidden && !total ? -1 : (int64_t)total;
}

/* The kexec sysfs files moved to /sys/kernel/kexec/ (Linux 6.19; the old
 * names are deprecated, to go after 2028): the new name first. */
static int64_t read_kexec_number(const char *root, const char *name, char **error)
{
	char *newp = ck_strdup_printf("/sys/kernel/kexec/%s", name);
	char *oldp = ck_strdup_printf("/sys/kernel/kexec_%s", name);
	int64_t v = -1;
	char *e1 = NULL;
	if (newp && oldp) {
		v = read_number(root, newp, &e1);
		if (v < 0)
			v = read_number(root, oldp, error);
	}
	free(e1);
	free(newp);
	free(oldp);
	return v;
}

static void read_runtime(const char *root, struct ck_kdump_check *c)
{
	char *cmdline = read_small(root, "/proc/cmdline", SMALL_FILE, &c->cmdline_error);
	if (cmdline) {
		c->crashkernel = crashkernel_args(cmdline);
		free(cmdline);
	}
	c->crash_size = read_kexec_number(root, "crash_size", &c->crash_size_error);
	read_iomem(root, c);
	c->crash_loaded = (int)read_kexec_number(root, "crash_loaded", &c->crash_loaded_error);
	int64_t s = read_number(root, "/proc/sys/kernel/sysrq", &c->sysrq_error);
	c->sysrq = s > INT32_MAX ? INT32_MAX : (int)s;
	c->mem_total = ck_kdump_mem_total(root);
	if (c->mem_total) {
		c->suggest = ck_kdump_seed_size(c->mem_total);
		if (!c->suggest)	/* below the table: the smallest row */
			c->suggest = 320ull << 20;
	}
}

static enum ck_kdump_verdict verdict(const struct ck_kdump_check *c)
{
	if (c->missing)
		return CK_KDUMP_NO_KERNEL_SUPPORT;
	int64_t reserved = c->crash_size >= 0 ? c->crash_size : c->iomem_bytes;
	if (reserved <= 0)
		return c->crashkernel ? CK_KDUMP_RESERVATION_FAILED : CK_KDUMP_NO_RESERVATION;
	if (c->crash_loaded != 1)
		return CK_KDUMP_NOT_LOADED;
	return CK_KDUMP_READY;
}

struct ck_error *ck_kdump_check(const struct ck_kdump_opts *opts, struct ck_kdump_check **ret)
{
	struct ck_kdump_check *c = calloc(1, sizeof(*c));
	if (!c)
		return &ck_error_nomem;
	c->release = ck_kdump_release(opts->root);
	if (!c->release) {
		free(c);
		return &ck_error_nomem;
	}
	char *text = NULL;
	size_t len = 0;
	struct ck_error *err = read_config(opts, c->release, &text, &len, &c->config_source);
	if (!err)
		err = ck_kdump_options(&c->options, &c->nr_options);
	if (!err) {
		err = ck_kdump_parse_config(text, len, c->options, c->nr_options);
		if (err)
			ck_error_prepend(err, "'%s'", c->config_source);
	}
	free(text);
	if (!err)
		err = ck_kdump_missing(c->options, c->nr_options, &c->missing);
	if (err) {
		ck_kdump_check_destroy(c);
		return err;
	}
	read_runtime(opts->root, c);
	c->verdict = verdict(c);
	*ret = c;
	return NULL;
}

void ck_kdump_check_destroy(struct ck_kdump_check *c)
{
	if (!c)
		return;
	free(c->release);
	free(c->config_source);
	free(c->options);
	free(c->missing);
	free(c->cmdline_error);
	free(c->crashkernel);
	free(c->crash_size_error);
	free(c->iomem_error);
	free(c->crash_loaded_error);
	free(c->sysrq_error);
	free(c);
}
