/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the kernel layer: VMCOREINFO parsing, x86_64 address
 * translation, kallsyms decoding and the printk walkers, on synthetic kernels.
 *
 * A synthetic kernel is a physical memory image with hand-built x86_64 page
 * tables, kallsyms tables and printk rings, written out as a small ELF vmcore
 * (ET_CORE, one PT_NOTE with VMCOREINFO, one PT_LOAD) and opened through the
 * real dump reader, so the tests go through the same path as a real dump.
 */
#include <elf.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel/kernel.h"

static int passed, failed;

static void check(bool ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("%s %d - ", ok ? "ok" : "not ok", passed + failed + 1);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	if (ok)
		passed++;
	else
		failed++;
}

/* Checks that err is NULL, printing it otherwise; consumes err. */
static bool no_error(struct ck_error *err)
{
	if (!err)
		return true;
	printf("# error: %s\n", ck_error_message(err));
	ck_error_destroy(err);
	return false;
}

/* Checks that err has code and a message containing needle; consumes err. */
static bool is_error(struct ck_error *err, enum ck_error_code code, const char *needle)
{
	if (!err) {
		printf("# expected an error, got none\n");
		return false;
	}
	bool ok = ck_error_code(err) == code &&
		  (!needle || strstr(ck_error_message(err), needle));
	if (!ok)
		printf("# unexpected error (code %d): %s\n", ck_error_code(err),
		       ck_error_message(err));
	ck_error_destroy(err);
	return ok;
}

/* ---- VMCOREINFO --------------------------------------------------------- */

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

/* ---- synthetic kernels -------------------------------------------------- */

#define MEM_SIZE	(16u << 20)
#define START_MAP	0xffffffff80000000ull
#define KASLR		0x20000000ull
#define TEXT_VA		(0xffffffff81000000ull + KASLR)	/* maps to physical 0 */
#define DIRECT_VA	0xffff888000000000ull		/* 1 GiB page to physical 0 */
#define VMALLOC_VA	0xffffc90000000000ull		/* 4 KiB pages, scattered */
#define PT_ROOT_PA	0x1000ull
#define KS_PA		0x100000ull
#define PRB_PA		0x300000ull
#define DATA_PA		0x800000ull

#define SZ_4K	0x1000ull
#define SZ_2M	0x200000ull
#define SZ_1G	0x40000000ull

struct synth {
	uint8_t *mem;
	uint64_t pt_next;
	int levels;
	char vmci[32768];
	size_t vmci_len;
	char path[4096];
};

static void put64(struct synth *s, uint64_t pa, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		s->mem[pa + i] = (uint8_t)(v >> (8 * i));
}

static void put32(struct synth *s, uint64_t pa, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		s->mem[pa + i] = (uint8_t)(v >> (8 * i));
}

static void put16(struct synth *s, uint64_t pa, uint16_t v)
{
	s->mem[pa] = (uint8_t)v;
	s->mem[pa + 1] = (uint8_t)(v >> 8);
}

static uint64_t get64(struct synth *s, uint64_t pa)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | s->mem[pa + i];
	return v;
}

static void vmci_add(struct synth *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(s->vmci + s->vmci_len, sizeof(s->vmci) - s->vmci_len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(s->vmci) - s->vmci_len)
		abort();
	s->vmci_len += (size_t)n;
}

/* Maps va to pa with a page of size page (4K, 2M or 1G). */
static void map(struct synth *s, uint64_t va, uint64_t pa, uint64_t page)
{
	uint64_t table = PT_ROOT_PA;
	for (int level = s->levels - 1;; level--) {
		unsigned int shift = 12 + 9 * (unsigned int)level;
		uint64_t e = table + ((va >> shift) & 511) * 8;
		if ((1ull << shift) == page) {
			put64(s, e, pa | 0x63 | (page > SZ_4K ? 0x80 : 0) |
					(1ull << 63) /* NX: must be ignored */);
			return;
		}
		uint64_t cur = get64(s, e);
		if (!(cur & 1)) {
			cur = s->pt_next | 0x63;
			s->pt_next += SZ_4K;
			put64(s, e, cur);
		}
		table = cur & 0x000ffffffffff000ull;
	}
}

static void synth_init(struct synth *s, int levels)
{
	memset(s, 0, sizeof(*s));
	s->mem = calloc(1, MEM_SIZE);
	if (!s->mem)
		abort();
	s->levels = levels;
	s->pt_next = PT_ROOT_PA + SZ_4K;
	/* kernel text mapping: 10 MiB in 2 MiB pages, physical 0 up */
	for (uint64_t off = 0; off < 5 * SZ_2M; off += SZ_2M)
		map(s, TEXT_VA + off, off, SZ_2M);
	/* direct map */
	map(s, levels == 5 ? 0xff11000000000000ull : DIRECT_VA, 0, SZ_1G);
	/* vmalloc: 16 pages in reverse physical order */
	for (uint64_t i = 0; i < 16; i++)
		map(s, VMALLOC_VA + i * SZ_4K, DATA_PA + (15 - i) * SZ_4K, SZ_4K);

	vmci_add(s, "OSRELEASE=6.1.0-synthetic\nPAGESIZE=4096\n");
	vmci_add(s, "SYMBOL(init_top_pgt)=%" PRIx64 "\n", TEXT_VA + PT_ROOT_PA);
	vmci_add(s, "SYMBOL(_stext)=%" PRIx64 "\n", TEXT_VA);
	vmci_add(s, "NUMBER(phys_base)=%" PRId64 "\n", -(int64_t)(TEXT_VA - START_MAP));
	vmci_add(s, "NUMBER(pgtable_l5_enabled)=%d\n", levels == 5);
	vmci_add(s, "KERNELOFFSET=%" PRIx64 "\n", KASLR);
	vmci_add(s, "NUMBER(KERNEL_IMAGE_SIZE)=1073741824\nNUMBER(sme_mask)=0\n");
}

/* Writes the image as an ELF vmcore and opens it as a kernel. */
static struct ck_error *synth_open(struct synth *s, struct ck_dump **dump_ret,
				   struct ck_kernel **kernel_ret)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(s->path, sizeof(s->path), "%s/ck-test-kernel-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int fd = mkstemp(s->path);
	if (fd < 0)
		abort();
	size_t namesz = sizeof("VMCOREINFO");
	size_t note_len = 12 + ((namesz + 3) & ~3u) + ((s->vmci_len + 3) & ~3u);
	uint64_t note_off = sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr);
	uint64_t mem_off = (note_off + note_len + 4095) & ~4095ull;
	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB,
			     EV_CURRENT },
		.e_type = ET_CORE,
		.e_machine = EM_X86_64,
		.e_version = EV_CURRENT,
		.e_phoff = sizeof(Elf64_Ehdr),
		.e_ehsize = sizeof(Elf64_Ehdr),
		.e_phentsize = sizeof(Elf64_Phdr),
		.e_phnum = 2,
	};
	Elf64_Phdr ph[2] = {
		{ .p_type = PT_NOTE, .p_offset = note_off, .p_filesz = note_len },
		{ .p_type = PT_LOAD, .p_offset = mem_off, .p_paddr = 0, .p_vaddr = DIRECT_VA,
		  .p_filesz = MEM_SIZE, .p_memsz = MEM_SIZE, .p_flags = PF_R | PF_W | PF_X },
	};
	uint8_t *note = calloc(1, note_len);
	uint32_t hdr[3] = { (uint32_t)namesz, (uint32_t)s->vmci_len, 0 };
	memcpy(note, hdr, 12);
	memcpy(note + 12, "VMCOREINFO", namesz);
	memcpy(note + 12 + ((namesz + 3) & ~3u), s->vmci, s->vmci_len);
	bool ok = pwrite(fd, &eh, sizeof(eh), 0) == sizeof(eh) &&
		  pwrite(fd, ph, sizeof(ph), sizeof(eh)) == sizeof(ph) &&
		  pwrite(fd, note, note_len, (off_t)note_off) == (ssize_t)note_len &&
		  pwrite(fd, s->mem, MEM_SIZE, (off_t)mem_off) == MEM_SIZE;
	free(note);
	close(fd);
	if (!ok)
		abort();
	struct ck_dump *dump;
	struct ck_error *err = ck_dump_open(s->path, &dump);
	if (err)
		return err;
	err = ck_kernel_create(dump, kernel_ret);
	if (err) {
		ck_dump_destroy(dump);
		return err;
	}
	*dump_ret = dump;
	return NULL;
}

static void synth_close(struct synth *s, struct ck_dump *dump, struct ck_kernel *kernel)
{
	ck_kernel_destroy(kernel);
	ck_dump_destroy(dump);
	unlink(s->path);
	free(s->mem);
}

/* ---- address translation ------------------------------------------------ */

static void test_x86_64(int levels)
{
	struct synth s;
	synth_init(&s, levels);
	/* recognisable bytes */
	for (uint64_t i = 0; i < 16; i++)
		memset(s.mem + DATA_PA + i * SZ_4K, (int)(0xa0 + i), SZ_4K);
	put64(&s, 0x5008, 0x1122334455667788ull);

	struct ck_dump *dump;
	struct ck_kernel *k;
	if (!no_error(synth_open(&s, &dump, &k))) {
		check(false, "x86_64 %d-level: open synthetic kernel", levels);
		free(s.mem);
		unlink(s.path);
		return;
	}
	uint64_t pa = 0;
	check(ck_kernel_offset(k) == KASLR, "x86_64 %d-level: KERNELOFFSET", levels);
	check(ck_kernel_dump(k) == dump, "x86_64 %d-level: kernel knows its dump", levels);
	check(no_error(ck_kernel_virt_to_phys(k, TEXT_VA + 0x5008, &pa)) && pa == 0x5008,
	      "x86_64 %d-level: text mapping, 2 MiB page, negative phys_base", levels);
	check(no_error(ck_kernel_virt_to_phys(k, TEXT_VA + 3 * SZ_2M + 0x123, &pa)) &&
	      pa == 3 * SZ_2M + 0x123, "x86_64 %d-level: second 2 MiB page", levels);
	uint64_t direct = levels == 5 ? 0xff11000000000000ull : DIRECT_VA;
	check(no_error(ck_kernel_virt_to_phys(k, direct + 0xabcdef, &pa)) && pa == 0xabcdef,
	      "x86_64 %d-level: direct map, 1 GiB page", levels);
	check(no_error(ck_kernel_virt_to_phys(k, VMALLOC_VA + 2 * SZ_4K + 5, &pa)) &&
	      pa == DATA_PA + 13 * SZ_4K + 5, "x86_64 %d-level: 4 KiB page", levels);
	uint64_t v = 0;
	check(no_error(ck_kernel_read_u64(k, TEXT_VA + 0x5008, &v)) && v == 0x1122334455667788ull,
	      "x86_64 %d-level: read_u64", levels);
	uint32_t v32 = 0;
	check(no_error(ck_kernel_read_u32(k, direct + 0x5008, &v32)) && v32 == 0x55667788,
	      "x86_64 %d-level: read_u32 through the direct map", levels);

	/* a read spanning three scattered pages */
	uint8_t buf[2 * 4096 + 200];
	bool ok = no_error(ck_kernel_read(k, VMALLOC_VA + SZ_4K - 100, buf, sizeof(buf)));
	/* virtual page i is physical page 15 - i, filled with 0xa0 + 15 - i */
	ok = ok && buf[0] == 0xaf && buf[99] == 0xaf && buf[100] == 0xae &&
	     buf[100 + 4095] == 0xae && buf[100 + 4096] == 0xad && buf[sizeof(buf) - 1] == 0xac;
	check(ok, "x86_64 %d-level: read spans pages, each translated", levels);

	pa = 7;
	check(is_error(ck_kernel_virt_to_phys(k, VMALLOC_VA + 100 * SZ_4K, &pa), CK_ERR_FAULT,
		       "not present") && pa == 7,
	      "x86_64 %d-level: unmapped page is a fault naming the entry", levels);
	check(is_error(ck_kernel_read(k, VMALLOC_VA + 16 * SZ_4K - 8, buf, 16), CK_ERR_FAULT,
		       "0xffffc90000010000"),
	      "x86_64 %d-level: read into an unmapped page names its address", levels);
	check(is_error(ck_kernel_virt_to_phys(k, 0x0000900000000000ull, &pa), CK_ERR_FAULT,
		       levels == 5 ? "not present" : "canonical"),
	      "x86_64 %d-level: address above the user half", levels);
	check(is_error(ck_kernel_virt_to_phys(k, 0x8000000000000000ull, &pa), CK_ERR_FAULT,
		       "canonical"), "x86_64 %d-level: non-canonical address", levels);
	check(is_error(ck_kernel_read(k, 0xfffffffffffffff0ull, buf, 32), CK_ERR_FAULT, "wraps"),
	      "x86_64 %d-level: read wrapping the address space", levels);
	synth_close(&s, dump, k);
}

static void test_x86_64_errors(void)
{
	struct synth s;
	synth_init(&s, 4);
	vmci_add(&s, "NUMBER(pgtable_l5_enabled)=7\n");
	struct ck_dump *dump;
	struct ck_kernel *k;
	check(is_error(synth_open(&s, &dump, &k), CK_ERR_FORMAT, "pgtable_l5_enabled"),
	      "x86_64: absurd pgtable_l5_enabled refused");
	unlink(s.path);
	free(s.mem);

	synth_init(&s, 4);
	/* the root itself points nowhere: every translation fails cleanly */
	vmci_add(&s, "SYMBOL(init_top_pgt)=%" PRIx64 "\n", TEXT_VA + 0x7000000);
	if (no_error(synth_open(&s, &dump, &k))) {
		uint64_t pa;
		check(is_error(ck_kernel_virt_to_phys(k, TEXT_VA, &pa), CK_ERR_FAULT, NULL),
		      "x86_64: empty page table gives a fault, not a crash");
		synth_close(&s, dump, k);
	} else {
		check(false, "x86_64: empty page table gives a fault, not a crash");
		unlink(s.path);
		free(s.mem);
	}
}

/* ---- kallsyms ----------------------------------------------------------- */

enum ks_mode { KS_PERCPU, KS_RELATIVE, KS_PLACE, KS_ABSOLUTE };

struct tsym {
	char type;
	const char *name;
	uint64_t addr;
};

static const char *const multi_tokens[] = {
	[0x80] = "sys_", [0x81] = "tdo_", [0x82] = "_handle_", [0x83] = "panic",
};

static char long_name[201];

static void put_kallsyms(struct synth *s, enum ks_mode mode, const struct tsym *syms,
			 size_t nr, uint32_t num_override)
{
	/* token table */
	uint64_t names = KS_PA;
	uint64_t p = names;
	for (size_t i = 0; i < nr; i++) {
		char full[512];
		snprintf(full, sizeof(full), "%c%s", syms[i].type, syms[i].name);
		uint8_t toks[512];
		size_t nt = 0;
		for (size_t c = 0; full[c];) {
			size_t best = 0;
			uint8_t tok = (uint8_t)full[c];
			for (size_t t = 0x80; t < CK_ARRAY_SIZE(multi_tokens); t++) {
				size_t l = strlen(multi_tokens[t]);
				if (l > best && !strncmp(full + c, multi_tokens[t], l)) {
					best = l;
					tok = (uint8_t)t;
				}
			}
			toks[nt++] = tok;
			c += best ? best : 1;
		}
		if (nt >= 0x80) {
			s->mem[p++] = (uint8_t)(0x80 | (nt & 0x7f));
			s->mem[p++] = (uint8_t)(nt >> 7);
		} else {
			s->mem[p++] = (uint8_t)nt;
		}
		memcpy(s->mem + p, toks, nt);
		p += nt;
	}
	uint64_t markers = (p + 7) & ~7ull;	/* like the kernel: markers follow */
	uint64_t token_table = markers + 64;
	uint64_t q = token_table;
	uint16_t index[256];
	for (int i = 0; i < 256; i++) {
		index[i] = (uint16_t)(q - token_table);
		if (i > 0 && i < 0x80) {
			s->mem[q++] = (uint8_t)i;
		} else if (i < (int)CK_ARRAY_SIZE(multi_tokens) && multi_tokens[i]) {
			size_t l = strlen(multi_tokens[i]);
			memcpy(s->mem + q, multi_tokens[i], l);
			q += l;
		} else {
			s->mem[q++] = '?';
		}
		s->mem[q++] = 0;
	}
	uint64_t token_index = (q + 7) & ~7ull;
	for (int i = 0; i < 256; i++)
		put16(s, token_index + 2 * (uint64_t)i, index[i]);
	uint64_t addrs = token_index + 512;
	uint64_t base = 0;
	for (size_t i = 0; i < nr; i++) {
		if (mode == KS_PERCPU && syms[i].type == 'A')
			continue;
		base = syms[i].addr;	/* lowest non-absolute: the table is sorted */
		break;
	}
	for (size_t i = 0; i < nr; i++) {
		uint64_t a = syms[i].addr;
		switch (mode) {
		case KS_PERCPU:
			put32(s, addrs + 4 * i, syms[i].type == 'A' ? (uint32_t)a
								 : (uint32_t)(int32_t)(base - 1 - a));
			break;
		case KS_RELATIVE:
			put32(s, addrs + 4 * i, (uint32_t)(a - base));
			break;
		case KS_PLACE:	/* Linux 7.0: relative to the entry itself */
			put32(s, addrs + 4 * i, (uint32_t)(a - (TEXT_VA + addrs + 4 * i)));
			break;
		case KS_ABSOLUTE:
			put64(s, addrs + 8 * i, a);
			break;
		}
	}
	uint64_t relbase = (addrs + 8 * nr + 7) & ~7ull;
	put64(s, relbase, base);
	uint64_t num = relbase + 8;
	put32(s, num, num_override ? num_override : (uint32_t)nr);

	vmci_add(s, "SYMBOL(kallsyms_names)=%" PRIx64 "\n", TEXT_VA + names);
	vmci_add(s, "SYMBOL(kallsyms_num_syms)=%" PRIx64 "\n", TEXT_VA + num);
	vmci_add(s, "SYMBOL(kallsyms_token_table)=%" PRIx64 "\n", TEXT_VA + token_table);
	vmci_add(s, "SYMBOL(kallsyms_token_index)=%" PRIx64 "\n", TEXT_VA + token_index);
	if (mode == KS_ABSOLUTE) {
		vmci_add(s, "SYMBOL(kallsyms_addresses)=%" PRIx64 "\n", TEXT_VA + addrs);
	} else {
		vmci_add(s, "SYMBOL(kallsyms_offsets)=%" PRIx64 "\n", TEXT_VA + addrs);
		if (mode != KS_PLACE)
			vmci_add(s, "SYMBOL(kallsyms_relative_base)=%" PRIx64 "\n",
				 TEXT_VA + relbase);
	}
}

static void test_kallsyms_mode(enum ks_mode mode)
{
	static const char *const names[] = { "percpu", "relative", "place-relative", "absolute" };
	const char *m = names[mode];
	memset(long_name, 'x', sizeof(long_name) - 1);
	const struct tsym all[] = {
		{ 'A', "fixed_percpu_data", 0x0 },
		{ 'A', "cpu_number", 0x2000 },
		{ 'T', "_text", TEXT_VA },
		{ 'T', "_stext", TEXT_VA },
		{ 't', "do_one_initcall", TEXT_VA + 0x1000 },
		{ 'T', "sys_read", TEXT_VA + 0x2000 },
		{ 't', "sysrq_handle_crash", TEXT_VA + 0x3000 },
		{ 'T', "panic", TEXT_VA + 0x4000 },
		{ 't', long_name, TEXT_VA + 0x5000 },
		{ 't', "dup", TEXT_VA + 0x6000 },
		{ 't', "dup", TEXT_VA + 0x7000 },
		{ 'D', "init_task", TEXT_VA + 0x90000 },
		{ 'B', "_end", TEXT_VA + 0xa0000 },
	};
	const struct tsym *syms = all;
	size_t nr = CK_ARRAY_SIZE(all);
	if (mode != KS_PERCPU) {	/* per-cpu symbols exist only with absolute per-cpu */
		syms += 2;
		nr -= 2;
	}
	struct synth s;
	synth_init(&s, 4);
	put_kallsyms(&s, mode, syms, nr, 0);
	struct ck_dump *dump;
	struct ck_kernel *k;
	if (!no_error(synth_open(&s, &dump, &k))) {
		check(false, "kallsyms %s: open", m);
		unlink(s.path);
		free(s.mem);
		return;
	}
	struct ck_symbol sym;
	bool ok = true;
	for (size_t i = 0; i < nr; i++) {
		if (!strcmp(syms[i].name, "dup"))
			continue;
		struct ck_error *err = ck_kernel_symbol_by_name(k, syms[i].name, &sym);
		if (!no_error(err) || sym.address != syms[i].addr || sym.type != syms[i].type ||
		    strcmp(sym.name, syms[i].name)) {
			printf("# %s: got %c %s 0x%" PRIx64 "\n", syms[i].name, sym.type,
			       err ? "?" : sym.name, sym.address);
			ok = false;
		}
	}
	check(ok, "kallsyms %s: every name decodes to its address and type", m);
	check(no_error(ck_kernel_symbol_by_name(k, "panic", &sym)) && sym.size == 0x1000,
	      "kallsyms %s: size is the distance to the next symbol", m);
	check(no_error(ck_kernel_symbol_by_address(k, TEXT_VA + 0x3123, &sym)) &&
	      !strcmp(sym.name, "sysrq_handle_crash") && sym.address == TEXT_VA + 0x3000,
	      "kallsyms %s: address inside a symbol", m);
	check(no_error(ck_kernel_symbol_by_address(k, TEXT_VA + 0x10, &sym)) &&
	      !strcmp(sym.name, "_text") && sym.size == 0x1000,
	      "kallsyms %s: aliases: the kernel's first, size past all of them", m);
	check(no_error(ck_kernel_symbol_by_name(k, "dup", &sym)) && sym.address == TEXT_VA + 0x6000,
	      "kallsyms %s: duplicate names: the lowest address", m);
	check(no_error(ck_kernel_symbol_by_address(k, TEXT_VA + 0x7010, &sym)) &&
	      !strcmp(sym.name, "dup") && sym.address == TEXT_VA + 0x7000,
	      "kallsyms %s: second duplicate by address", m);
	check(no_error(ck_kernel_symbol_by_name(k, long_name, &sym)) &&
	      strlen(sym.name) == 200, "kallsyms %s: two-byte token count (Linux 6.1)", m);
	check(is_error(ck_kernel_symbol_by_name(k, "no_such_symbol", &sym), CK_ERR_NOT_FOUND,
		       "no_such_symbol"), "kallsyms %s: unknown name", m);
	check(is_error(ck_kernel_symbol_by_address(k, TEXT_VA - 0x100000, &sym),
		       CK_ERR_NOT_FOUND, NULL),
	      "kallsyms %s: address below every kernel symbol", m);
	check(is_error(ck_kernel_symbol_by_address(k, TEXT_VA + 0xa0010, &sym),
		       CK_ERR_NOT_FOUND, "_end"),
	      "kallsyms %s: past the last symbol", m);
	if (mode == KS_PERCPU) {
		check(no_error(ck_kernel_symbol_by_address(k, 0x10, &sym)) &&
		      !strcmp(sym.name, "fixed_percpu_data") && sym.type == 'A' && sym.size == 0x2000,
		      "kallsyms percpu: absolute per-cpu symbol by address");
		/* the last per-cpu symbol is followed by the gap below the
		 * text: its size is unknown and only its own address matches */
		check(no_error(ck_kernel_symbol_by_address(k, 0x2000, &sym)) && sym.size == 0 &&
		      is_error(ck_kernel_symbol_by_address(k, 0x2010, &sym), CK_ERR_NOT_FOUND, NULL),
		      "kallsyms percpu: no size across the per-cpu/text gap");
	}
	synth_close(&s, dump, k);
}

static void test_kallsyms_garbage(void)
{
	const struct tsym syms[] = {
		{ 'T', "_stext", TEXT_VA },
		{ 'T', "panic", TEXT_VA + 0x100 },
	};
	struct synth s;
	struct ck_dump *dump;
	struct ck_kernel *k;
	struct ck_symbol sym;

	synth_init(&s, 4);
	put_kallsyms(&s, KS_RELATIVE, syms, 2, 0x7fffffff);
	if (no_error(synth_open(&s, &dump, &k))) {
		check(is_error(ck_kernel_symbol_by_name(k, "panic", &sym), CK_ERR_FORMAT, "absurd"),
		      "kallsyms garbage: absurd symbol count");
		synth_close(&s, dump, k);
	}

	/* more symbols claimed than the names hold: decoding runs into the
	 * markers and token table and must stop there, not run on */
	synth_init(&s, 4);
	put_kallsyms(&s, KS_RELATIVE, syms, 2, 100000);
	if (no_error(synth_open(&s, &dump, &k))) {
		struct ck_error *err = ck_kernel_symbol_by_name(k, "panic", &sym);
		check(is_error(err, CK_ERR_FORMAT, "kallsyms_names at 0x"),
		      "kallsyms garbage: names overrun is an error naming the table");
		synth_close(&s, dump, k);
	}

	/* _stext disagreeing with VMCOREINFO */
	synth_init(&s, 4);
	put_kallsyms(&s, KS_PERCPU, syms, 2, 0);
	vmci_add(&s, "SYMBOL(_stext)=%" PRIx64 "\n", TEXT_VA + 0x40);
	if (no_error(synth_open(&s, &dump, &k))) {
		check(is_error(ck_kernel_symbol_by_name(k, "panic", &sym), CK_ERR_FORMAT, "_stext"),
		      "kallsyms garbage: offsets that match no encoding");
		synth_close(&s, dump, k);
	}

	/* no tables at all (Linux < 6.0) */
	synth_init(&s, 4);
	if (no_error(synth_open(&s, &dump, &k))) {
		check(is_error(ck_kernel_symbol_by_name(k, "panic", &sym), CK_ERR_UNSUPPORTED,
			       "6.0"), "kallsyms: no tables in VMCOREINFO");
		synth_close(&s, dump, k);
	}
}

/* ---- printk ring -------------------------------------------------------- */

/* The 6.1 x86_64 layout, as log_buf_vmcoreinfo_setup() describes it. */
#define PRB_SYM		(PRB_PA)		/* struct printk_ringbuffer *prb */
#define PRB_RB		(PRB_PA + 0x100)	/* the ring buffer structure */
#define PRB_DESCS	(PRB_PA + 0x1000)
#define PRB_INFOS	(PRB_PA + 0x4000)
#define DESC_SIZE	24
#define INFO_SIZE	88
#define ID_MASK		(~(3ull << 62))

/* with_caller: OFFSET(printk_info.caller_id), which every kernel since 5.10
 * exports; without it, a kernel whose VMCOREINFO does not describe callers
 * (makedumpfile then prints no caller column). */
static void prb_vmcoreinfo_caller(struct synth *s, bool with_caller)
{
	vmci_add(s, "SYMBOL(prb)=%" PRIx64 "\n", TEXT_VA + PRB_SYM);
	vmci_add(s, "SIZE(printk_ringbuffer)=88\n"
		    "OFFSET(printk_ringbuffer.desc_ring)=0\n"
		    "OFFSET(printk_ringbuffer.text_data_ring)=48\n"
		    "OFFSET(printk_ringbuffer.fail)=80\n"
		    "SIZE(prb_desc_ring)=48\n"
		    "OFFSET(prb_desc_ring.count_bits)=0\n"
		    "OFFSET(prb_desc_ring.descs)=8\n"
		    "OFFSET(prb_desc_ring.infos)=16\n"
		    "OFFSET(prb_desc_ring.head_id)=24\n"
		    "OFFSET(prb_desc_ring.tail_id)=32\n"
		    "SIZE(prb_desc)=24\n"
		    "OFFSET(prb_desc.state_var)=0\n"
		    "OFFSET(prb_desc.text_blk_lpos)=8\n"
		    "SIZE(prb_data_blk_lpos)=16\n"
		    "OFFSET(prb_data_blk_lpos.begin)=0\n"
		    "OFFSET(prb_data_blk_lpos.next)=8\n"
		    "SIZE(printk_info)=88\n"
		    "OFFSET(printk_info.seq)=0\n"
		    "OFFSET(printk_info.ts_nsec)=8\n"
		    "OFFSET(printk_info.text_len)=16\n"
		    "OFFSET(printk_info.dev_info)=24\n"
		    "SIZE(prb_data_ring)=32\n"
		    "OFFSET(prb_data_ring.size_bits)=0\n"
		    "OFFSET(prb_data_ring.data)=8\n"
		    "OFFSET(prb_data_ring.head_lpos)=16\n"
		    "OFFSET(prb_data_ring.tail_lpos)=24\n"
		    "SIZE(atomic_long_t)=8\n"
		    "OFFSET(atomic_long_t.counter)=0\n"
		    "SYMBOL(clear_seq)=0\n");
	if (with_caller)
		vmci_add(s, "OFFSET(printk_info.caller_id)=20\n");
}

static void prb_vmcoreinfo(struct synth *s)
{
	prb_vmcoreinfo_caller(s, true);
}

struct prb_writer {
	struct synth *s;
	unsigned int count_bits, size_bits;
	uint64_t data_pa;	/* physical address of the text ring */
	uint64_t head_lpos;
	uint64_t next_id;
	uint64_t seq;
	uint32_t caller;	/* caller_id of the next record */
};

/* The data ring is mapped through the scattered vmalloc pages, so its bytes
 * are not contiguous in physical memory: write through the mapping. */
static void ring_put(struct prb_writer *w, uint64_t idx, const void *src, size_t len)
{
	const uint8_t *p = src;
	for (size_t i = 0; i < len; i++) {
		uint64_t off = idx + i;
		w->s->mem[DATA_PA + (15 - off / SZ_4K) * SZ_4K + off % SZ_4K] = p[i];
	}
}

/* Appends one record the way prb_reserve()/data_alloc() place it. */
static uint64_t prb_write(struct prb_writer *w, unsigned int state, const char *text, size_t len,
			  uint64_t ts)
{
	uint64_t id = w->next_id;
	w->next_id = (w->next_id + 1) & ID_MASK;
	uint64_t size = 1ull << w->size_bits;
	uint64_t idx = id & ((1ull << w->count_bits) - 1);
	uint64_t begin, next;
	if (!text) {
		begin = next = 3;	/* NO_LPOS: data-less */
	} else {
		uint64_t blk = (8 + len + 7) & ~7ull;
		begin = w->head_lpos;
		next = begin + blk;
		uint8_t idb[8];
		for (int i = 0; i < 8; i++)
			idb[i] = (uint8_t)(id >> (8 * i));
		ring_put(w, begin % size, idb, 8);
		if (begin / size != next / size) {
			/* wraps: stored whole at the start */
			next = (begin / size + 1) * size + blk;
			ring_put(w, 0, idb, 8);
			ring_put(w, 8, text, len);
		} else {
			ring_put(w, begin % size + 8, text, len);
		}
		w->head_lpos = next;
	}
	uint64_t d = PRB_DESCS + idx * DESC_SIZE, in = PRB_INFOS + idx * INFO_SIZE;
	put64(w->s, d, (uint64_t)state << 62 | id);
	put64(w->s, d + 8, begin);
	put64(w->s, d + 16, next);
	memset(w->s->mem + in, 0, INFO_SIZE);
	put64(w->s, in, w->seq++);
	put64(w->s, in + 8, ts);
	put16(w->s, in + 16, (uint16_t)len);
	w->s->mem[in + 18] = 0;				/* facility */
	w->s->mem[in + 19] = (uint8_t)(6 << 5);		/* level 6, flags 0 */
	put32(w->s, in + 20, w->caller);
	return id;
}

static void prb_header(struct synth *s, unsigned int count_bits, unsigned int size_bits,
		       uint64_t head_id, uint64_t tail_id)
{
	put64(s, PRB_SYM, TEXT_VA + PRB_RB);
	put32(s, PRB_RB + 0, count_bits);
	put64(s, PRB_RB + 8, TEXT_VA + PRB_DESCS);
	put64(s, PRB_RB + 16, TEXT_VA + PRB_INFOS);
	put64(s, PRB_RB + 24, head_id);
	put64(s, PRB_RB + 32, tail_id);
	put32(s, PRB_RB + 48, size_bits);
	put64(s, PRB_RB + 56, VMALLOC_VA);
}

struct collect {
	char out[65536];
	size_t len;
	unsigned int flags;	/* ck_log_format() */
	int records;
	int stop_after;
	uint64_t last_seq;
	bool seq_ordered;
	uint8_t level;
};

static int collect_fn(const struct ck_log_record *rec, void *arg)
{
	struct collect *c = arg;
	if (c->records && rec->seq <= c->last_seq)
		c->seq_ordered = false;
	c->last_seq = rec->seq;
	c->level = rec->level;
	c->len += ck_log_format(rec, c->flags, c->out + c->len, sizeof(c->out) - c->len);
	if (c->len >= sizeof(c->out))
		abort();
	c->records++;
	return c->stop_after && c->records >= c->stop_after;
}

struct written {
	uint64_t id, begin, ts;
	uint32_t caller;
	char text[64];
	size_t len;
	bool shown;	/* committed or finalized, with text */
};

/* The caller_id written for record i: threads and CPUs (bit 31), pid 0
 * (the idle task, "T0"), the largest pid (8 characters, the column's width)
 * and an id wider than the column, which widens it as in makedumpfile. */
static uint32_t ring_caller(int i)
{
	if (i == 55)
		return 4194304;			/* PID_MAX_LIMIT: "T4194304" */
	if (i == 53)
		return 0x80000000u | 123456789;	/* "C123456789" */
	switch (i % 4) {
	case 1: return 0x80000001u;		/* "C1" */
	case 2: return 0;			/* "T0" */
	default: return (uint32_t)(100 * i + 7);
	}
}

/* The expected output of the records shown, as ck_log_format() writes
 * each (the format itself is pinned down by test_log_format). */
static size_t ring_expect(const struct written *rs, int from, int to, bool has_caller,
			  unsigned int flags, char *out, size_t size)
{
	size_t len = 0;
	for (int i = from; i < to; i++) {
		if (!rs[i].shown)
			continue;
		struct ck_log_record rec = { .ts_nsec = rs[i].ts, .text = rs[i].text,
					     .text_len = rs[i].len, .caller_id = rs[i].caller,
					     .has_caller_id = has_caller };
		len += ck_log_format(&rec, flags, out + len, size - len);
	}
	return len;
}

static bool log_equals(struct collect *c, const char *expect, size_t elen)
{
	if (c->len == elen && !memcmp(c->out, expect, elen))
		return true;
	printf("# got:\n%.*s# expected:\n%.*s", (int)c->len, c->out, (int)elen, expect);
	return false;
}

/* A 6.1-style ring, with or without OFFSET(printk_info.caller_id). */
static void test_printk_ring(bool with_caller)
{
	const char *name = with_caller ? "printk ring" : "printk ring without caller ids";
	struct synth s;
	synth_init(&s, 4);
	prb_vmcoreinfo_caller(&s, with_caller);
	/* 16 descriptors, 512 bytes of text; ids start just below the top of
	 * the id space, as DESC0_ID does, so they wrap during the test */
	struct prb_writer w = { .s = &s, .count_bits = 4, .size_bits = 9,
				.next_id = ID_MASK - 20, .head_lpos = 0 };
	enum { TOTAL = 60 };
	struct written *rs = calloc(TOTAL, sizeof(*rs));
	for (int i = 0; i < TOTAL; i++) {
		struct written *r = &rs[i];
		r->begin = w.head_lpos;
		r->ts = 1000000000ull * (uint64_t)i + 1234567;
		r->caller = w.caller = ring_caller(i);
		r->shown = true;
		if (i == 55) {
			memcpy(r->text, "two\nlines \x01\xc3", 12);
			r->len = 12;
		} else {
			r->len = (size_t)snprintf(r->text, sizeof(r->text), "message %d%s", i,
						  i % 3 ? "" : " padding padding");
		}
		if (i == 50) {
			r->id = prb_write(&w, 1, NULL, 0, r->ts);	/* data-less */
			r->shown = false;
		} else if (i == TOTAL - 1) {
			r->id = prb_write(&w, 0, r->text, r->len, r->ts);	/* reserved */
			r->shown = false;
		} else {
			r->id = prb_write(&w, i == TOTAL - 2 ? 1 : 2, r->text, r->len, r->ts);
		}
	}
	/* the tail: the oldest record whose descriptor and text are intact */
	int tail = TOTAL - 1;
	while (tail > 0 && TOTAL - tail < 16 && w.head_lpos - rs[tail - 1].begin <= 512)
		tail--;
	/* a record whose text block was since taken over by another record
	 * (its id no longer heads the block) is skipped */
	struct written *victim = &rs[tail + 2];
	uint64_t blk = (8 + victim->len + 7) & ~7ull;
	uint64_t vpos = victim->begin / 512 != (victim->begin + blk) / 512 ? 0 : victim->begin % 512;
	uint8_t other[8] = { 0x42 };
	ring_put(&w, vpos, other, 8);
	victim->shown = false;

	char *plain = calloc(1, 65536), *column = calloc(1, 65536);
	size_t plen = ring_expect(rs, tail, TOTAL, with_caller, 0, plain, 65536);
	size_t clen = ring_expect(rs, tail, TOTAL, with_caller, CK_LOG_FORMAT_CALLER, column, 65536);
	int nexp = 0;
	for (int i = tail; i < TOTAL; i++)
		nexp += rs[i].shown;
	prb_header(&s, w.count_bits, w.size_bits, rs[TOTAL - 1].id, rs[tail].id);
	struct ck_dump *dump;
	struct ck_kernel *k;
	if (!no_error(synth_open(&s, &dump, &k))) {
		check(false, "%s: open", name);
		unlink(s.path);
		free(s.mem);
		free(rs);
		free(plain);
		free(column);
		return;
	}
	check(ck_kernel_log_has_caller_id(k) == with_caller, "%s: caller ids %s", name,
	      with_caller ? "recorded" : "not recorded");
	struct collect *c = calloc(1, sizeof(*c));
	c->seq_ordered = true;
	c->flags = CK_LOG_FORMAT_CALLER;
	check(no_error(ck_kernel_log_walk(k, collect_fn, c)), "%s: walk succeeds", name);
	check(c->records == nexp && nexp >= 8,
	      "%s: committed and finalized records only (%d of %d)", name, c->records,
	      TOTAL - tail);
	check(log_equals(c, column, clen), "%s: text across wraps and ids past the id mask", name);
	/* facility and level are trusted only where caller_id confirms the
	 * 5.10 layout next to them */
	check(c->seq_ordered && c->level == (with_caller ? 6 : 0), "%s: oldest first, level %s",
	      name, with_caller ? "decoded" : "not guessed");
	if (with_caller) {
		check(strstr(c->out, "[   53.001234] [C123456789] message 53\n") &&
		      strstr(c->out, "[   57.001234] [      C1] message 57 padding padding\n") &&
		      strstr(c->out, "[   58.001234] [      T0] message 58\n") &&
		      strstr(c->out, "[   56.001234] [   T5607] message 56\n"),
		      "%s: caller column, T<pid> and C<cpu> right-aligned in 8, wider ids widen it",
		      name);
		check(strstr(c->out, "[   55.001234] [T4194304] two\n"
				     "                          lines \\x01\\xffffffc3\n") != NULL,
		      "%s: continuation indented by timestamp and caller column", name);
	} else {
		check(clen == plen && !memcmp(column, plain, plen) && !strstr(c->out, "] ["),
		      "%s: no caller column even when asked for", name);
	}
	memset(c, 0, sizeof(*c));
	c->seq_ordered = true;
	check(no_error(ck_kernel_log_walk(k, collect_fn, c)) && log_equals(c, plain, plen) &&
	      strstr(c->out, "[   55.001234] two\n               lines \\x01\\xffffffc3\n"),
	      "%s: without CK_LOG_FORMAT_CALLER, makedumpfile <= 1.7.4's layout", name);
	memset(c, 0, sizeof(*c));
	c->stop_after = 3;
	check(no_error(ck_kernel_log_walk(k, collect_fn, c)) && c->records == 3,
	      "%s: callback stops the walk", name);

	synth_close(&s, dump, k);
	free(c);
	free(rs);
	free(plain);
	free(column);
}

static void test_printk_garbage(void)
{
	struct synth s;
	struct ck_dump *dump;
	struct ck_kernel *k;
	struct collect *c = calloc(1, sizeof(*c));

	synth_init(&s, 4);
	prb_vmcoreinfo(&s);
	prb_header(&s, 40, 9, 5, 1);
	if (no_error(synth_open(&s, &dump, &k))) {
		check(is_error(ck_kernel_log_walk(k, collect_fn, c), CK_ERR_FORMAT,
			       "descriptor count 2^40 is absurd"),
		      "printk garbage: absurd descriptor count");
		synth_close(&s, dump, k);
	}

	synth_init(&s, 4);
	prb_vmcoreinfo(&s);
	prb_header(&s, 4, 9, 1000, 1);
	if (no_error(synth_open(&s, &dump, &k))) {
		check(is_error(ck_kernel_log_walk(k, collect_fn, c), CK_ERR_FORMAT, "apart"),
		      "printk garbage: head and tail further apart than the ring");
		synth_close(&s, dump, k);
	}

	synth_init(&s, 4);
	prb_vmcoreinfo(&s);
	prb_header(&s, 4, 40, 1, 1);
	if (no_error(synth_open(&s, &dump, &k))) {
		check(is_error(ck_kernel_log_walk(k, collect_fn, c), CK_ERR_FORMAT, "text ring size"),
		      "printk garbage: absurd text ring size");
		synth_close(&s, dump, k);
	}

	/* descriptors pointing nowhere */
	synth_init(&s, 4);
	prb_vmcoreinfo(&s);
	prb_header(&s, 4, 9, 3, 1);
	put64(&s, PRB_RB + 8, VMALLOC_VA + 64 * SZ_4K);
	if (no_error(synth_open(&s, &dump, &k))) {
		check(is_error(ck_kernel_log_walk(k, collect_fn, c), CK_ERR_FAULT, "descriptors"),
		      "printk garbage: unmapped descriptor array");
		synth_close(&s, dump, k);
	}

	/* random descriptors, infos and text: no record holds together */
	synth_init(&s, 4);
	prb_vmcoreinfo(&s);
	prb_header(&s, 4, 9, 20, 5);
	srand(7);
	for (uint64_t i = 0; i < 0x6000; i++)
		s.mem[PRB_DESCS + i] = (uint8_t)rand();
	for (uint64_t i = 0; i < 16 * SZ_4K; i++)
		s.mem[DATA_PA + i] = (uint8_t)rand();
	if (no_error(synth_open(&s, &dump, &k))) {
		memset(c, 0, sizeof(*c));
		check(no_error(ck_kernel_log_walk(k, collect_fn, c)) && c->records == 0,
		      "printk garbage: random ring walks to the end, nothing emitted");
		synth_close(&s, dump, k);
	}

	/* sound descriptors whose text ring was wiped: an error, not an
	 * empty log */
	synth_init(&s, 4);
	prb_vmcoreinfo(&s);
	{
		struct prb_writer w = { .s = &s, .count_bits = 4, .size_bits = 9, .next_id = 1 };
		uint64_t first = prb_write(&w, 2, "one", 3, 1);
		uint64_t last = prb_write(&w, 2, "two", 3, 2);
		prb_header(&s, 4, 9, last, first);
		memset(s.mem + DATA_PA, 0, 16 * SZ_4K);
	}
	if (no_error(synth_open(&s, &dump, &k))) {
		check(is_error(ck_kernel_log_walk(k, collect_fn, c), CK_ERR_FORMAT,
			       "none of its 2 finished records has a valid text block (first: id 0x1"),
		      "printk garbage: no record readable is an error naming the first");
		synth_close(&s, dump, k);
	}

	/* a layout whose offsets lie outside its sizes */
	synth_init(&s, 4);
	prb_vmcoreinfo(&s);
	vmci_add(&s, "OFFSET(printk_info.ts_nsec)=4000\n");
	prb_header(&s, 4, 9, 1, 1);
	if (no_error(synth_open(&s, &dump, &k))) {
		check(is_error(ck_kernel_log_walk(k, collect_fn, c), CK_ERR_FORMAT, "outside"),
		      "printk garbage: VMCOREINFO offsets outside the structure");
		synth_close(&s, dump, k);
	}

	/* no log at all */
	synth_init(&s, 4);
	if (no_error(synth_open(&s, &dump, &k))) {
		check(is_error(ck_kernel_log_walk(k, collect_fn, c), CK_ERR_UNSUPPORTED, "SYMBOL(prb)"),
		      "printk: no log described");
		synth_close(&s, dump, k);
	}
	free(c);
}

/* ---- legacy structured buffer (3.5 - 5.9) ------------------------------- */

#define LOG_HDR 16	/* struct printk_log: ts 0, len 8, text_len 10, dict_len 12 */
/* CONFIG_PRINTK_CALLER (5.1-5.9) adds u32 caller_id at 16; x86_64 packs
 * the struct (__packed __aligned(4)) and aligns records to 4 */
#define LOG_HDR_CALLER 20

static uint32_t legacy_put_caller(struct synth *s, uint64_t buf, uint32_t idx, uint32_t hdr,
				  const char *text, uint64_t ts, uint32_t caller)
{
	uint32_t tl = (uint32_t)strlen(text);
	uint32_t align = hdr == LOG_HDR ? 8 : 4;
	uint32_t len = (hdr + tl + align - 1) & ~(align - 1);
	put64(s, buf + idx, ts);
	put16(s, buf + idx + 8, (uint16_t)len);
	put16(s, buf + idx + 10, (uint16_t)tl);
	put16(s, buf + idx + 12, 0);
	s->mem[buf + idx + 14] = 0;
	s->mem[buf + idx + 15] = (uint8_t)(4 << 5);
	if (hdr == LOG_HDR_CALLER)
		put32(s, buf + idx + 16, caller);
	memcpy(s->mem + buf + idx + hdr, text, tl);
	return idx + len;
}

static uint32_t legacy_put(struct synth *s, uint64_t buf, uint32_t idx, const char *text,
			   uint64_t ts)
{
	return legacy_put_caller(s, buf, idx, LOG_HDR, text, ts, 0);
}

static void test_printk_legacy(void)
{
	struct synth s;
	synth_init(&s, 4);
	uint64_t sym = PRB_PA, buf = PRB_PA + 0x1000;
	uint32_t blen = 256;
	vmci_add(&s, "SYMBOL(log_buf)=%" PRIx64 "\n", TEXT_VA + sym);
	vmci_add(&s, "SYMBOL(log_buf_len)=%" PRIx64 "\n", TEXT_VA + sym + 8);
	vmci_add(&s, "SYMBOL(log_first_idx)=%" PRIx64 "\n", TEXT_VA + sym + 12);
	vmci_add(&s, "SYMBOL(log_next_idx)=%" PRIx64 "\n", TEXT_VA + sym + 16);
	vmci_add(&s, "SIZE(printk_log)=16\nOFFSET(printk_log.ts_nsec)=0\nOFFSET(printk_log.len)=8\n"
		     "OFFSET(printk_log.text_len)=10\nOFFSET(printk_log.dict_len)=12\n");
	put64(&s, sym, TEXT_VA + buf);
	put32(&s, sym + 8, blen);
	/* oldest record near the end, a wrap marker, then two at the start */
	uint32_t first = 160;
	uint32_t i = legacy_put(&s, buf, first, "old record", 1000000);
	i = legacy_put(&s, buf, i, "older wraps next", 2000000);
	put16(&s, buf + i + 8, 0);	/* end marker */
	uint32_t n = legacy_put(&s, buf, 0, "after wrap", 3000000);
	n = legacy_put(&s, buf, n, "newest", 4000000);
	put32(&s, sym + 12, first);
	put32(&s, sym + 16, n);
	struct ck_dump *dump;
	struct ck_kernel *k;
	struct collect *c = calloc(1, sizeof(*c));
	if (no_error(synth_open(&s, &dump, &k))) {
		bool ok = no_error(ck_kernel_log_walk(k, collect_fn, c));
		const char *want = "[    0.001000] old record\n[    0.002000] older wraps next\n"
				   "[    0.003000] after wrap\n[    0.004000] newest\n";
		check(ok && c->records == 4 && !strcmp(c->out, want) && c->level == 4,
		      "printk legacy: records across the wrap marker");
		memset(c, 0, sizeof(*c));
		c->flags = CK_LOG_FORMAT_CALLER;
		check(!ck_kernel_log_has_caller_id(k) &&
		      no_error(ck_kernel_log_walk(k, collect_fn, c)) && !strcmp(c->out, want),
		      "printk legacy without CONFIG_PRINTK_CALLER: no caller column even when asked for");
		synth_close(&s, dump, k);
	}

	/* a cycle: the record after the last leads back to the first */
	synth_init(&s, 4);
	vmci_add(&s, "SYMBOL(log_buf)=%" PRIx64 "\n", TEXT_VA + sym);
	vmci_add(&s, "SYMBOL(log_buf_len)=%" PRIx64 "\n", TEXT_VA + sym + 8);
	vmci_add(&s, "SYMBOL(log_first_idx)=%" PRIx64 "\n", TEXT_VA + sym + 12);
	vmci_add(&s, "SYMBOL(log_next_idx)=%" PRIx64 "\n", TEXT_VA + sym + 16);
	vmci_add(&s, "SIZE(log)=16\nOFFSET(log.ts_nsec)=0\nOFFSET(log.len)=8\n"
		     "OFFSET(log.text_len)=10\n");
	put64(&s, sym, TEXT_VA + buf);
	put32(&s, sym + 8, blen);
	i = legacy_put(&s, buf, 0, "a", 1);
	i = legacy_put(&s, buf, i, "b", 2);
	put16(&s, buf + i + 8, 0);	/* wraps to 0 forever: next_idx never reached */
	put32(&s, sym + 12, 0);
	put32(&s, sym + 16, 200);
	if (no_error(synth_open(&s, &dump, &k))) {
		memset(c, 0, sizeof(*c));
		check(is_error(ck_kernel_log_walk(k, collect_fn, c), CK_ERR_FORMAT, "cycle"),
		      "printk legacy: cycle detected (struct log naming, before 3.11)");
		synth_close(&s, dump, k);
	}
	free(c);
}

/* The structured buffer of a 5.1-5.9 kernel built with CONFIG_PRINTK_CALLER:
 * VMCOREINFO has OFFSET(printk_log.caller_id), makedumpfile 1.7.5+ prints
 * the caller column. */
static void test_printk_legacy_caller(void)
{
	struct synth s;
	synth_init(&s, 4);
	uint64_t sym = PRB_PA, buf = PRB_PA + 0x1000;
	vmci_add(&s, "SYMBOL(log_buf)=%" PRIx64 "\n", TEXT_VA + sym);
	vmci_add(&s, "SYMBOL(log_buf_len)=%" PRIx64 "\n", TEXT_VA + sym + 8);
	vmci_add(&s, "SYMBOL(log_first_idx)=%" PRIx64 "\n", TEXT_VA + sym + 12);
	vmci_add(&s, "SYMBOL(log_next_idx)=%" PRIx64 "\n", TEXT_VA + sym + 16);
	vmci_add(&s, "SIZE(printk_log)=20\nOFFSET(printk_log.ts_nsec)=0\nOFFSET(printk_log.len)=8\n"
		     "OFFSET(printk_log.text_len)=10\nOFFSET(printk_log.dict_len)=12\n"
		     "OFFSET(printk_log.caller_id)=16\n");
	put64(&s, sym, TEXT_VA + buf);
	put32(&s, sym + 8, 256);
	uint32_t first = 180;
	uint32_t i = legacy_put_caller(&s, buf, first, LOG_HDR_CALLER, "boot cpu", 0, 0);
	i = legacy_put_caller(&s, buf, i, LOG_HDR_CALLER, "from irq", 1500000, 0x80000001u);
	put16(&s, buf + i + 8, 0);	/* end marker */
	uint32_t n = legacy_put_caller(&s, buf, 0, LOG_HDR_CALLER, "two\nlines", 2000000, 1234);
	put32(&s, sym + 12, first);
	put32(&s, sym + 16, n);
	struct ck_dump *dump;
	struct ck_kernel *k;
	struct collect *c = calloc(1, sizeof(*c));
	if (no_error(synth_open(&s, &dump, &k))) {
		check(ck_kernel_log_has_caller_id(k), "printk legacy caller: caller ids recorded");
		c->flags = CK_LOG_FORMAT_CALLER;
		bool ok = no_error(ck_kernel_log_walk(k, collect_fn, c));
		const char *want = "[    0.000000] [      T0] boot cpu\n"
				   "[    0.001500] [      C1] from irq\n"
				   "[    0.002000] [   T1234] two\n"
				   "                          lines\n";
		check(ok && c->records == 3 && !strcmp(c->out, want) && c->level == 4,
		      "printk legacy caller: T<pid> and C<cpu> columns, continuation indented");
		if (strcmp(c->out, want))
			printf("# got:\n%s# expected:\n%s", c->out, want);
		memset(c, 0, sizeof(*c));
		ok = no_error(ck_kernel_log_walk(k, collect_fn, c));
		check(ok && !strcmp(c->out, "[    0.000000] boot cpu\n[    0.001500] from irq\n"
					    "[    0.002000] two\n               lines\n"),
		      "printk legacy caller: without CK_LOG_FORMAT_CALLER, no column");
		synth_close(&s, dump, k);
	}

	/* a caller_id offset outside the record header */
	synth_init(&s, 4);
	vmci_add(&s, "SYMBOL(log_buf)=%" PRIx64 "\n", TEXT_VA + sym);
	vmci_add(&s, "SYMBOL(log_buf_len)=%" PRIx64 "\n", TEXT_VA + sym + 8);
	vmci_add(&s, "SYMBOL(log_first_idx)=%" PRIx64 "\n", TEXT_VA + sym + 12);
	vmci_add(&s, "SYMBOL(log_next_idx)=%" PRIx64 "\n", TEXT_VA + sym + 16);
	vmci_add(&s, "SIZE(printk_log)=16\nOFFSET(printk_log.ts_nsec)=0\nOFFSET(printk_log.len)=8\n"
		     "OFFSET(printk_log.text_len)=10\nOFFSET(printk_log.caller_id)=14\n");
	put64(&s, sym, TEXT_VA + buf);
	put32(&s, sym + 8, 256);
	if (no_error(synth_open(&s, &dump, &k))) {
		memset(c, 0, sizeof(*c));
		check(is_error(ck_kernel_log_walk(k, collect_fn, c), CK_ERR_FORMAT, "outside"),
		      "printk legacy caller: caller_id offset outside SIZE(printk_log)");
		synth_close(&s, dump, k);
	}
	free(c);
}

/* ---- formatting --------------------------------------------------------- */

static void test_log_format(void)
{
	struct ck_log_record rec = { .ts_nsec = 1234567891, .text = "hello", .text_len = 5 };
	char buf[128];
	size_t n = ck_log_format(&rec, 0, buf, sizeof(buf));
	check(n == 21 && !strcmp(buf, "[    1.234567] hello\n"), "format: prefix and newline");
	rec.ts_nsec = 123456ull * 1000000000 + 5000;
	n = ck_log_format(&rec, 0, buf, sizeof(buf));
	check(!strcmp(buf, "[123456.000005] hello\n"), "format: wide timestamp");
	rec.text = "a\nb";
	rec.text_len = 3;
	n = ck_log_format(&rec, 0, buf, sizeof(buf));
	check(!strcmp(buf, "[123456.000005] a\n                b\n"),
	      "format: continuation indented by the prefix width");
	rec.ts_nsec = 0;
	rec.text = "t\tx\x1b\x7f\xff\0z";
	rec.text_len = 8;
	n = ck_log_format(&rec, 0, buf, sizeof(buf));
	check(!strcmp(buf, "[    0.000000] t\tx\\x1b\\x7f\\xffffffff\\x00z\n"),
	      "format: control bytes escaped, high bytes sign-extended like makedumpfile");
	char small[8];
	size_t need = ck_log_format(&rec, 0, small, sizeof(small));
	check(need == n && !strcmp(small, "[    0."), "format: truncates like snprintf");
	check(ck_log_format(&rec, 0, NULL, 0) == n, "format: size query with no buffer");
	rec.text_len = 0;
	ck_log_format(&rec, 0, buf, sizeof(buf));
	check(!strcmp(buf, "[    0.000000] \n"), "format: empty text");

	/* makedumpfile 1.7.5+'s caller column */
	struct ck_log_record cr = { .ts_nsec = 1500000000, .text = "a\nb", .text_len = 3,
				    .has_caller_id = true, .caller_id = 0 };
	n = ck_log_format(&cr, CK_LOG_FORMAT_CALLER, buf, sizeof(buf));
	check(n == 56 && !strcmp(buf, "[    1.500000] [      T0] a\n                          b\n"),
	      "format: caller T0, continuation indented by both columns");
	cr.caller_id = CK_LOG_CALLER_CPU | 1;
	cr.text_len = 1;
	ck_log_format(&cr, CK_LOG_FORMAT_CALLER, buf, sizeof(buf));
	check(!strcmp(buf, "[    1.500000] [      C1] a\n"), "format: caller on CPU 1 is C1");
	cr.caller_id = 4194304;
	ck_log_format(&cr, CK_LOG_FORMAT_CALLER, buf, sizeof(buf));
	check(!strcmp(buf, "[    1.500000] [T4194304] a\n"), "format: the largest pid fills the column");
	cr.caller_id = 0xffffffffu;
	ck_log_format(&cr, CK_LOG_FORMAT_CALLER, buf, sizeof(buf));
	check(!strcmp(buf, "[    1.500000] [C2147483647] a\n"), "format: a wider id widens the column");
	cr.caller_id = 7;
	ck_log_format(&cr, 0, buf, sizeof(buf));
	check(!strcmp(buf, "[    1.500000] a\n"), "format: caller id but no flag: no column");
	cr.has_caller_id = false;
	ck_log_format(&cr, CK_LOG_FORMAT_CALLER, buf, sizeof(buf));
	check(!strcmp(buf, "[    1.500000] a\n"), "format: flag but no caller id: no column");
}

int main(void)
{
	test_vmcoreinfo();
	test_x86_64(4);
	test_x86_64(5);
	test_x86_64_errors();
	test_kallsyms_mode(KS_PERCPU);
	test_kallsyms_mode(KS_RELATIVE);
	test_kallsyms_mode(KS_PLACE);
	test_kallsyms_mode(KS_ABSOLUTE);
	test_kallsyms_garbage();
	test_printk_ring(true);
	test_printk_ring(false);
	test_printk_garbage();
	test_printk_legacy();
	test_printk_legacy_caller();
	test_log_format();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
