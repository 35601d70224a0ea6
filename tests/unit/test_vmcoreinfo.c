/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/kernel/vmcoreinfo.c: the VMCOREINFO text as kernels and
 * makedumpfile write it, and as it must not break us: junk lines, duplicate
 * keys (last wins), CRLF, no final newline, huge lines, too many entries;
 * SYMBOL() hex, NUMBER() signed or 0x, range and trailing-garbage errors
 * that name the key.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/kernel.h"
#include "../mkdump.h"
#include "../harness.h"

static struct ck_kernel *kernel_with_text(const char *text, size_t len)
{
	struct ck_kernel *k = calloc(1, sizeof(*k));
	if (!k)
		abort();
	struct ck_error *err = ck_vmcoreinfo_parse(k, text, len);
	if (err) {
		printf("# parse: %s\n", ck_error_message(err));
		ck_error_destroy(err);
	}
	return k;
}

static void test_vmcoreinfo(void)
{
	static const char text[] =
		"OSRELEASE=6.1.0-56-amd64\n"
		"PAGESIZE=4096\n"
		"junk line without equals\n"
		"=value with empty key\n"
		"SYMBOL(init_uts_ns)=ffffffff83613440\n"
		"NUMBER(phys_base)=-1040187392\n"
		"NUMBER(VMALLOC_START)=0xffffc90000000000\n"
		"OFFSET(printk_info.seq)=0\n"
		"SIZE(printk_info)=88\n"
		"KERNELOFFSET=1e000000\n"
		"CRLF=7\r\n"
		"DUP=1\n"
		"NUMBER(bad)=12abc\n"
		"NUMBER(big)=99999999999999999999\n"
		"NUMBER(min)=-9223372036854775808\n"
		"SYMBOL(hexup)=0xFFFF\n"
		"DUP=2\n"
		"DUP=3";	/* no final newline */
	struct ck_kernel *k = kernel_with_text(text, sizeof(text) - 1);
	uint64_t u = 0;
	int64_t s = 0;

	check(k->nr_vmcoreinfo == 14, "vmcoreinfo: junk lines skipped, duplicates merged (%zu entries)",
	      k->nr_vmcoreinfo);
	const char *rel = ck_kernel_vmcoreinfo_str(k, "OSRELEASE");
	check(rel && !strcmp(rel, "6.1.0-56-amd64"), "vmcoreinfo: string value");
	check(!ck_kernel_vmcoreinfo_str(k, "NOPE"), "vmcoreinfo: absent key gives NULL");
	check(no_error(ck_kernel_vmcoreinfo_u64(k, "SYMBOL(init_uts_ns)", &u)) &&
	      u == 0xffffffff83613440ull, "vmcoreinfo: SYMBOL() is hex without 0x");
	check(no_error(ck_kernel_vmcoreinfo_s64(k, "NUMBER(phys_base)", &s)) && s == -1040187392,
	      "vmcoreinfo: negative NUMBER(phys_base)");
	check(is_error(ck_kernel_vmcoreinfo_u64(k, "NUMBER(phys_base)", &u), CK_ERR_FORMAT, "negative"),
	      "vmcoreinfo: negative NUMBER refused as unsigned");
	check(no_error(ck_kernel_vmcoreinfo_u64(k, "NUMBER(VMALLOC_START)", &u)) &&
	      u == 0xffffc90000000000ull, "vmcoreinfo: NUMBER with 0x is hex");
	check(no_error(ck_kernel_vmcoreinfo_u64(k, "SIZE(printk_info)", &u)) && u == 88,
	      "vmcoreinfo: SIZE() decimal");
	check(no_error(ck_kernel_vmcoreinfo_u64(k, "KERNELOFFSET", &u)) && u == 0x1e000000,
	      "vmcoreinfo: KERNELOFFSET is hex");
	check(no_error(ck_kernel_vmcoreinfo_u64(k, "CRLF", &u)) && u == 7,
	      "vmcoreinfo: CR before LF dropped");
	check(no_error(ck_kernel_vmcoreinfo_u64(k, "DUP", &u)) && u == 3,
	      "vmcoreinfo: duplicate key, last wins");
	check(is_error(ck_kernel_vmcoreinfo_u64(k, "NUMBER(bad)", &u), CK_ERR_FORMAT, "NUMBER(bad)=12abc"),
	      "vmcoreinfo: trailing garbage is an error naming the key");
	check(is_error(ck_kernel_vmcoreinfo_u64(k, "NUMBER(big)", &u), CK_ERR_FORMAT, "range"),
	      "vmcoreinfo: overflow is an error");
	check(no_error(ck_kernel_vmcoreinfo_s64(k, "NUMBER(min)", &s)) && s == INT64_MIN,
	      "vmcoreinfo: INT64_MIN");
	check(is_error(ck_kernel_vmcoreinfo_s64(k, "SYMBOL(init_uts_ns)", &s), CK_ERR_FORMAT, NULL),
	      "vmcoreinfo: hex above INT64_MAX refused as signed");
	check(no_error(ck_kernel_vmcoreinfo_u64(k, "SYMBOL(hexup)", &u)) && u == 0xffff,
	      "vmcoreinfo: 0x and upper-case hex accepted");
	u = 42;
	check(is_error(ck_kernel_vmcoreinfo_u64(k, "NOPE", &u), CK_ERR_NOT_FOUND, "NOPE") && u == 42,
	      "vmcoreinfo: absent key NOT_FOUND, out-param untouched");
	ck_kernel_destroy(k);

	/* a huge line is skipped, not fatal; text stops at NUL */
	size_t big = 100000;
	char *t = malloc(big + 64);
	memcpy(t, "A=1\nHUGE=", 9);
	memset(t + 9, 'x', big);
	memcpy(t + 9 + big, "\nB=2\n\0C=3\n", 10);
	k = kernel_with_text(t, 9 + big + 10);
	check(k->nr_vmcoreinfo == 2 && ck_kernel_vmcoreinfo_str(k, "B") &&
	      !ck_kernel_vmcoreinfo_str(k, "HUGE") && !ck_kernel_vmcoreinfo_str(k, "C"),
	      "vmcoreinfo: huge line skipped, text ends at NUL");
	ck_kernel_destroy(k);
	free(t);

	/* too many entries: bounded */
	size_t n = 20000;
	t = malloc(n * 16);
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(t + len, 16, "K%zu=1\n", i);
	k = calloc(1, sizeof(*k));
	check(is_error(ck_vmcoreinfo_parse(k, t, len), CK_ERR_FORMAT, "entries") &&
	      k->nr_vmcoreinfo == 0, "vmcoreinfo: entry count bounded");
	ck_kernel_destroy(k);
	free(t);

	k = kernel_with_text("", 0);
	check(k->nr_vmcoreinfo == 0, "vmcoreinfo: empty text");
	ck_kernel_destroy(k);
}

int main(void)
{
	int r = harness_begin("vmcoreinfo");
	if (r)
		return r;
	test_vmcoreinfo();
	return harness_end();
}
