/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * crashkit kdump recommend: crashkernel= for this machine.  The kernel's
 * crashkernel= syntax evaluated for a RAM size, the seeds' table and the
 * distributions' defaults, and an estimate from what crashkit's own capture
 * needs (docs/kdump.md, "Sizing": every constant is explained there).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "kdump/kdump.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)
/* crashkit + the libraries ldd names + ld.so, unstripped: ~4 MB measured
 * (0.1.0, Debian 12), doubled for the init, busybox or device nodes. */
#define INITRAMFS_BASE (8 * MiB)
/* docs/capture.md, the bench table: crashkit's largest peak RSS, 36.5 MB
 * (-E, 2 threads; -l/-z/-c 23-26 MB), rounded up. */
#define CAPTURE_PEAK (40 * MiB)
/* The capture kernel's own allocations (struct pages of the reserved
 * range, slab, page tables, one CPU's per-CPU areas, the ELF header of
 * /proc/vmcore): not measured yet (issue 11); kdumpctl estimate uses 16M on
 * top of 3 x initramfs, this is more cautious. */
#define KERNEL_RUNTIME (64 * MiB)
/* When the bzImage cannot be read: Debian 6.12's init_size is ~50 MB. */
#define KERNEL_FALLBACK (64 * MiB)

/* "512M", "2G", "0x1000": a memparse number with its K/M/G/T/P/E suffix. */
static bool parse_mem(const char **sp, uint64_t *ret)
{
	const char *s = *sp;
	if (!isdigit((unsigned char)*s))
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno)
		return false;
	unsigned shift = 0;
	switch (*end) {
	case 'E': case 'e': shift += 10; /* fall through */
	case 'P': case 'p': shift += 10; /* fall through */
	case 'T': case 't': shift += 10; /* fall through */
	case 'G': case 'g': shift += 10; /* fall through */
	case 'M': case 'm': shift += 10; /* fall through */
	case 'K': case 'k': shift += 10; end++; break;
	default: break;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return false;
	*ret = (uint64_t)v << shift;
	*sp = end;
	return true;
}

/* "START-[END]:SIZE,..." after the first number: the size for ram. */
static bool parse_ranges(const char *s, uint64_t ram, uint64_t *size)
{
	*size = 0;
	bool found = false;
	for (;;) {
		uint64_t start, end = UINT64_MAX, sz;
		if (!parse_mem(&s, &start) || *s++ != '-')
			return false;
		if (*s != ':' && !parse_mem(&s, &end))
			return false;
		if (*s++ != ':' || !parse_mem(&s, &sz) || end <= start)
			return false;
		if (!found && ram >= start && ram < end) {
			*size = sz;
			found = true;
		}
		if (*s != ',')
			break;
		s++;
	}
	return *s == '\0' || *s == '@' || *s == ' ';
}

struct ck_error *ck_kdump_crashkernel_size(const char *spec, uint64_t ram, uint64_t *size)
{
	const char *s = spec;
	uint64_t v;
	bool ok;
	if (strchr(spec, ':')) {
		ok = parse_ranges(spec, ram, &v);
		if (ok && (s = strchr(spec, '@')) && (s++, !parse_mem(&s, &(uint64_t){0})))
			ok = false;
	} else {
		ok = parse_mem(&s, &v);
		if (ok && *s == '@')
			s++, ok = parse_mem(&s, &(uint64_t){0});
		else if (ok && *s == ',')
			ok = !strcmp(s, ",high") || !strcmp(s, ",low") || !strcmp(s, ",cma");
		else if (ok)
			ok = *s == '\0';
	}
	if (!ok)
		return ck_error_create(CK_ERR_INVALID, "crashkernel=%s: not START-[END]:SIZE,... "
				       "nor SIZE[@OFFSET|,high|,low|,cma]", spec);
	*size = v;
	return NULL;
}

void ck_kdump_format_size(uint64_t bytes, char buf[static 24])
{
	uint64_t mib = (bytes + MiB - 1) / MiB;
	if (mib && mib % 1024 == 0)
		snprintf(buf, 24, "%lluG", (unsigned long long)(mib / 1024));
	else
		snprintf(buf, 24, "%lluM", (unsigned long long)mib);
}

uint64_t ck_kdump_seed_size(uint64_t ram)
{
	uint64_t v = 0;
	if (ck_kdump_crashkernel_size(CK_KDUMP_SEED_SPEC, ram, &v))
		return 0;	/* the constant parses: not reached */
	return v;
}

/* The bzImage's init_size (boot protocol 2.10+, offset 0x260): the memory
 * the kernel needs to decompress and run its image. */
static uint64_t kernel_size(const char *root, const char *release, char **source)
{
	char *path = ck_strdup_printf("%s/boot/vmlinuz-%s", root ? root : "", release);
	if (!path)
		return KERNEL_FALLBACK;
	unsigned char h[0x264];
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int e = fd < 0 ? errno : 0;
	if (fd >= 0) {
		if (ck_read_n(fd, h, sizeof(h), &got))
			e = errno;
		close(fd);
	}
	uint16_t ver = got == sizeof(h) ? (uint16_t)(h[0x206] | h[0x207] << 8) : 0;
	if (got == sizeof(h) && !memcmp(h + 0x202, "HdrS", 4) && ver >= 0x020a) {
		uint64_t init = (uint64_t)h[0x260] | (uint64_t)h[0x261] << 8 |
				(uint64_t)h[0x262] << 16 | (uint64_t)h[0x263] << 24;
		*source = ck_strdup_printf("init_size of %s", path);
		free(path);
		return init;
	}
	*source = ck_strdup_printf("%s: %s; counted as %llu MiB", path,
				   e ? strerror(e) : "not a bzImage (boot protocol 2.10+)",
				   (unsigned long long)(KERNEL_FALLBACK / MiB));
	free(path);
	return KERNEL_FALLBACK;
}

/* Loaded modules' memory (the second column of /proc/modules). */
static void modules_size(const char *root, struct ck_kdump_recommend *r)
{
	char *path = ck_kdump_path(root, "/proc/modules"), *text = NULL;
	struct ck_error *err = path ? ck_kdump_read_text(path, 16u << 20, &text, NULL)
				    : &ck_error_nomem;
	free(path);
	if (err) {
		r->modules_error = strdup(ck_error_message(err));
		ck_error_destroy(err);
		return;
	}
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		unsigned long long sz;
		if (sscanf(line, "%*s %llu", &sz) == 1 && sz < GiB) {
			r->modules_bytes += sz;
			r->nr_modules++;
		}
		line = nl ? nl + 1 : NULL;
	}
	free(text);
}

struct ck_error *ck_kdump_recommend(const struct ck_kdump_opts *opts,
				    struct ck_kdump_recommend **ret)
{
	struct ck_kdump_recommend *r = calloc(1, sizeof(*r));
	if (!r)
		return &ck_error_nomem;
	r->release = ck_kdump_release(opts->root);
	r->ram = ck_kdump_mem_total(opts->root);
	if (!r->release || !r->ram) {
		char *p = ck_kdump_path(opts->root, "/proc/meminfo");
		struct ck_error *err = r->release ? ck_error_create(CK_ERR_NOT_FOUND,
			"'%s': no MemTotal (unreadable or not a meminfo file)", p ? p : "/proc/meminfo")
			: &ck_error_nomem;
		free(p);
		ck_kdump_recommend_destroy(r);
		return err;
	}
	static const struct { const char *name, *spec; } pol[3] = {
		{ "seeds' table (issue 11)", CK_KDUMP_SEED_SPEC },
		{ "kdump-utils x86_64", CK_KDUMP_UTILS_SPEC },
		{ "Debian kdump-tools", CK_KDUMP_DEBIAN_SPEC },
	};
	for (int i = 0; i < 3; i++) {
		r->policies[i].name = pol[i].name;
		r->policies[i].spec = pol[i].spec;
		struct ck_error *err = ck_kdump_crashkernel_size(pol[i].spec, r->ram,
								 &r->policies[i].size);
		ck_error_destroy(err);	/* constants: they parse */
	}
	r->kernel_bytes = kernel_size(opts->root, r->release, &r->kernel_source);
	modules_size(opts->root, r);
	r->initramfs_bytes = INITRAMFS_BASE + r->modules_bytes;
	r->peak_bytes = CAPTURE_PEAK;
	r->runtime_bytes = KERNEL_RUNTIME;
	uint64_t sum = r->kernel_bytes + r->modules_bytes + 2 * r->initramfs_bytes +
		       r->peak_bytes + r->runtime_bytes;
	r->estimate = (sum + 16 * MiB - 1) / (16 * MiB) * (16 * MiB);
	/* The seeds' table is what makedumpfile-era kdump was sized by; until
	 * the lab measures the smallest crashkernel= that captures, recommend
	 * the larger of it and the estimate. */
	r->size = r->policies[0].size > r->estimate ? r->policies[0].size : r->estimate;
	char b[24];
	ck_kdump_format_size(r->size, b);
	r->crashkernel = ck_strdup_printf("crashkernel=%s", b);
	if (!r->kernel_source || !r->crashkernel) {
		ck_kdump_recommend_destroy(r);
		return &ck_error_nomem;
	}
	*ret = r;
	return NULL;
}

void ck_kdump_recommend_destroy(struct ck_kdump_recommend *r)
{
	if (!r)
		return;
	free(r->release);
	free(r->kernel_source);
	free(r->modules_error);
	free(r->crashkernel);
	free(r);
}
