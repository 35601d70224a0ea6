/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/kdump/ (check, recommend): config parsing, the needed
 * options, crashkernel= as the kernel reads it, and check/recommend over a
 * small fixture tree (docs/kdump.md).
 */
#include <fcntl.h>
#include <zlib.h>

#include "../harness.h"
#include "kdump/kdump.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

static const char full_config[] =
	"#\n# Automatically generated file; DO NOT EDIT.\n#\n"
	"CONFIG_KEXEC=y\nCONFIG_KEXEC_FILE=y\nCONFIG_KEXEC_CORE=y\nCONFIG_VMCORE_INFO=y\n"
	"CONFIG_CRASH_RESERVE=y\nCONFIG_CRASH_DUMP=y\nCONFIG_PROC_VMCORE=y\nCONFIG_SYSFS=y\n"
	"CONFIG_RELOCATABLE=y\nCONFIG_DEBUG_INFO_BTF=y\nCONFIG_KALLSYMS=y\n"
	"# CONFIG_KALLSYMS_ALL is not set\nCONFIG_UNWINDER_ORC=y\nCONFIG_LOCALVERSION=\"-x\"\n";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	EXPECT(f, "%s", path);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_parse_config(void)
{
	struct ck_kdump_option *o;
	size_t nr;
	if (!no_error(ck_kdump_options(&o, &nr)))
		return;
	EXPECT(no_error(ck_kdump_parse_config(full_config, sizeof(full_config) - 1, o, nr)));
	char *missing = (char *)"x";
	EXPECT(no_error(ck_kdump_missing(o, nr, &missing)));
	EXPECT(missing == NULL, "%s", missing);
	for (size_t i = 0; i < nr; i++) {
		if (!strcmp(o[i].name, "KALLSYMS_ALL") || !strcmp(o[i].name, "CRASH_CORE"))
			EXPECT(o[i].value[0] == '\0', "%s=%s", o[i].name, o[i].value);
		if (!strcmp(o[i].name, "KEXEC_FILE"))
			EXPECT(!strcmp(o[i].value, "y"));
	}
	/* Pre-6.9 names, one of KEXEC|KEXEC_FILE, CRLF lines, =n. */
	const char old[] = "CONFIG_KEXEC_FILE=y\r\nCONFIG_KEXEC_CORE=y\nCONFIG_CRASH_CORE=y\n"
			   "CONFIG_CRASH_DUMP=y\nCONFIG_PROC_VMCORE=y\nCONFIG_SYSFS=y\n"
			   "CONFIG_RELOCATABLE=y\nCONFIG_KEXEC=n";
	EXPECT(no_error(ck_kdump_parse_config(old, sizeof(old) - 1, o, nr)));
	EXPECT(no_error(ck_kdump_missing(o, nr, &missing)));
	EXPECT(missing == NULL, "%s", missing);
	/* Nothing of the load group nor vmcoreinfo. */
	const char bad[] = "CONFIG_KEXEC_CORE=y\nCONFIG_SYSFS=y\nCONFIG_RELOCATABLE=y\n";
	EXPECT(no_error(ck_kdump_parse_config(bad, sizeof(bad) - 1, o, nr)));
	EXPECT(no_error(ck_kdump_missing(o, nr, &missing)));
	EXPECT(missing && !strcmp(missing, "CONFIG_KEXEC|CONFIG_KEXEC_FILE "
			 "CONFIG_CRASH_CORE|CONFIG_VMCORE_INFO CONFIG_CRASH_DUMP CONFIG_PROC_VMCORE"),
	       "%s", missing);
	free(missing);
	EXPECT(is_error(ck_kdump_parse_config("hello\nworld\n", 12, o, nr), CK_ERR_FORMAT,
			"no CONFIG_"));
	EXPECT(is_error(ck_kdump_parse_config("CONFIG_A=y\0", 11, o, nr), CK_ERR_FORMAT,
			"binary"));
	free(o);
}

static void test_crashkernel(void)
{
	uint64_t s = 1;
	EXPECT(no_error(ck_kdump_crashkernel_size("512M", 8 * GiB, &s)) && s == 512 * MiB);
	EXPECT(no_error(ck_kdump_crashkernel_size("256M@16M", 1 * GiB, &s)) && s == 256 * MiB);
	EXPECT(no_error(ck_kdump_crashkernel_size("1G,high", 1 * GiB, &s)) && s == GiB);
	EXPECT(no_error(ck_kdump_crashkernel_size("0x10000000", 1 * GiB, &s)) && s == 256 * MiB);
	/* Ranges: start inclusive, end exclusive. */
	const char *ku = CK_KDUMP_UTILS_SPEC;
	EXPECT(no_error(ck_kdump_crashkernel_size(ku, 2 * GiB - 1, &s)) && s == 0);
	EXPECT(no_error(ck_kdump_crashkernel_size(ku, 2 * GiB, &s)) && s == 256 * MiB);
	EXPECT(no_error(ck_kdump_crashkernel_size(ku, 64 * GiB - 1, &s)) && s == 256 * MiB);
	EXPECT(no_error(ck_kdump_crashkernel_size(ku, 64 * GiB, &s)) && s == 512 * MiB);
	EXPECT(no_error(ck_kdump_crashkernel_size(CK_KDUMP_DEBIAN_SPEC, 300 * MiB, &s)) && s == 0);
	EXPECT(no_error(ck_kdump_crashkernel_size(CK_KDUMP_DEBIAN_SPEC, 384 * MiB, &s)) &&
	       s == 128 * MiB);
	EXPECT(no_error(ck_kdump_crashkernel_size("1G-4G:192M@16M", 2 * GiB, &s)) && s == 192 * MiB);
	EXPECT(ck_kdump_seed_size(GiB) == 0);
	EXPECT(ck_kdump_seed_size(3 * GiB) == 320 * MiB);
	EXPECT(ck_kdump_seed_size(16 * GiB) == 512 * MiB);
	EXPECT(ck_kdump_seed_size(48 * GiB) == 1024 * MiB);
	EXPECT(ck_kdump_seed_size(100 * GiB) == 2048 * MiB);
	EXPECT(ck_kdump_seed_size(1024 * GiB) == 4096 * MiB);
	const char *bad[] = { "", "abc", "512X", "2G-1G:128M", "1G-:", "-1G:128M", "512M,foo",
			      "1G-2G:128M,", "99999999999999999999G", "128M@" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT(is_error(ck_kdump_crashkernel_size(bad[i], GiB, &s), CK_ERR_INVALID,
				"crashkernel="), "'%s'", bad[i]);
	char b[24];
	ck_kdump_format_size(512 * MiB, b);
	EXPECT(!strcmp(b, "512M"), "%s", b);
	ck_kdump_format_size(2 * GiB, b);
	EXPECT(!strcmp(b, "2G"), "%s", b);
	ck_kdump_format_size(MiB + 1, b);
	EXPECT(!strcmp(b, "2M"), "%s", b);
}

/* A fixture tree: proc, sys, boot with what check reads. */
static const char *make_root(const char *name, const char *cmdline, const char *crash_size,
			     const char *loaded)
{
	const char *root = tpath(name);
	char p[600];
	const char *dirs[] = { "", "/proc", "/proc/sys", "/proc/sys/kernel", "/sys",
			       "/sys/kernel", "/boot" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", root, dirs[i]);
		mkdir(p, 0755);
	}
	snprintf(p, sizeof(p), "%s/proc/sys/kernel/osrelease", root);
	write_file(p, "6.99.0-test\n");
	snprintf(p, sizeof(p), "%s/boot/config-6.99.0-test", root);
	write_file(p, full_config);
	snprintf(p, sizeof(p), "%s/proc/cmdline", root);
	write_file(p, cmdline);
	snprintf(p, sizeof(p), "%s/proc/meminfo", root);
	write_file(p, "MemTotal:        8000000 kB\nMemFree:  100 kB\n");
	snprintf(p, sizeof(p), "%s/proc/sys/kernel/sysrq", root);
	write_file(p, "438\n");
	snprintf(p, sizeof(p), "%s/proc/iomem", root);
	write_file(p, "00000000-00000fff : Reserved\n100000000-1ffffffff : System RAM\n"
		   "  2a000000-39ffffff : Crash kernel\n");
	if (crash_size) {
		snprintf(p, sizeof(p), "%s/sys/kernel/kexec_crash_size", root);
		write_file(p, crash_size);
	}
	if (loaded) {
		snprintf(p, sizeof(p), "%s/sys/kernel/kexec_crash_loaded", root);
		write_file(p, loaded);
	}
	return root;
}

static void test_check_verdicts(void)
{
	struct ck_kdump_check *c;
	struct ck_kdump_opts o = { .root = make_root("ready", "ro crashkernel=256M quiet\n",
						      "268435456\n", "1\n") };
	if (no_error(ck_kdump_check(&o, &c))) {
		EXPECT(c->verdict == CK_KDUMP_READY, "%d", c->verdict);
		EXPECT(c->crashkernel && !strcmp(c->crashkernel, "256M"));
		EXPECT(c->crash_size == 268435456 && c->iomem_bytes == 256 * (int64_t)MiB);
		EXPECT(c->sysrq == 438 && c->crash_loaded == 1 && !strcmp(c->release, "6.99.0-test"));
		EXPECT(c->mem_total == 8000000ull * 1024 && c->suggest == 512 * MiB);
		ck_kdump_check_destroy(c);
	}
	o.root = make_root("notloaded", "crashkernel=256M\n", "268435456\n", "0\n");
	if (no_error(ck_kdump_check(&o, &c))) {
		EXPECT(c->verdict == CK_KDUMP_NOT_LOADED, "%d", c->verdict);
		ck_kdump_check_destroy(c);
	}
	o.root = make_root("failed", "crashkernel=64G-:1G\n", "0\n", "0\n");
	if (no_error(ck_kdump_check(&o, &c))) {
		EXPECT(c->verdict == CK_KDUMP_RESERVATION_FAILED, "%d", c->verdict);
		ck_kdump_check_destroy(c);
	}
	o.root = make_root("none", "ro quiet -- crashkernel=1G\n", "0\n", "0\n");
	if (no_error(ck_kdump_check(&o, &c))) {
		EXPECT(c->verdict == CK_KDUMP_NO_RESERVATION, "%d", c->verdict);
		EXPECT(!c->crashkernel, "init's argument is not the kernel's");
		ck_kdump_check_destroy(c);
	}
	/* A config without CRASH_DUMP, given by --config (gzip). */
	const char *gz = tpath("config.gz");
	gzFile g = gzopen(gz, "wb");
	EXPECT(g);
	if (g) {
		gzputs(g, "CONFIG_KEXEC=y\nCONFIG_KEXEC_CORE=y\nCONFIG_SYSFS=y\n");
		gzclose(g);
	}
	o.config = gz;
	if (no_error(ck_kdump_check(&o, &c))) {
		EXPECT(c->verdict == CK_KDUMP_NO_KERNEL_SUPPORT, "%d", c->verdict);
		EXPECT(c->missing && strstr(c->missing, "CONFIG_CRASH_DUMP"), "%s", c->missing);
		EXPECT(!strcmp(c->config_source, gz));
		ck_kdump_check_destroy(c);
	}
	o.config = tpath("no-such-config");
	EXPECT(is_error(ck_kdump_check(&o, &c), CK_ERR_OS, "no-such-config"));
	o.config = NULL;
	o.root = tpath("empty");
	mkdir(o.root, 0755);
	EXPECT(is_error(ck_kdump_check(&o, &c), CK_ERR_OS, "/proc/config.gz"));
}

static void test_recommend(void)
{
	const char *root = make_root("rec", "ro\n", NULL, NULL);
	/* A bzImage header: HdrS, protocol 2.15, init_size 48 MiB. */
	unsigned char h[0x300] = { 0 };
	memcpy(h + 0x202, "HdrS", 4);
	h[0x206] = 0x0f, h[0x207] = 0x02;
	uint32_t init = 48 << 20;
	memcpy(h + 0x260, &init, 4);
	char p[600];
	snprintf(p, sizeof(p), "%s/boot/vmlinuz-6.99.0-test", root);
	FILE *f = fopen(p, "w");
	if (f) {
		fwrite(h, 1, sizeof(h), f);
		fclose(f);
	}
	snprintf(p, sizeof(p), "%s/proc/modules", root);
	write_file(p, "ext4 1048576 1 - Live 0x0\nvirtio_blk 1048576 2 - Live 0x0\n");
	struct ck_kdump_recommend *r;
	struct ck_kdump_opts o = { .root = root };
	if (no_error(ck_kdump_recommend(&o, &r))) {
		EXPECT(r->ram == 8000000ull * 1024);
		EXPECT(r->policies[0].size == 512 * MiB && r->policies[1].size == 256 * MiB &&
		       r->policies[2].size == 128 * MiB);
		EXPECT(r->kernel_bytes == 48 * MiB && r->nr_modules == 2 &&
		       r->modules_bytes == 2 * MiB, "%llu", (unsigned long long)r->kernel_bytes);
		/* 48 + 2 + 2 x (8 + 2) + 40 + 64 = 174 -> 176 MiB. */
		EXPECT(r->estimate == 176 * MiB, "%llu", (unsigned long long)r->estimate);
		EXPECT(!strcmp(r->crashkernel, "crashkernel=512M"), "%s", r->crashkernel);
		ck_kdump_recommend_destroy(r);
	}
	o.root = tpath("empty2");
	mkdir(o.root, 0755);
	EXPECT(is_error(ck_kdump_recommend(&o, &r), CK_ERR_NOT_FOUND, "/proc/meminfo"));
}

int main(void)
{
	int r = harness_begin("kdump_check");
	if (r)
		return r;
	run("kdump: config parsing, needed options, 6.9's renames", test_parse_config);
	run("kdump: crashkernel= as the kernel reads it, sizes", test_crashkernel);
	run("kdump check: every verdict on fixture trees, bad configs", test_check_verdicts);
	run("kdump recommend: policies, the estimate from bzImage and modules", test_recommend);
	return harness_end();
}
