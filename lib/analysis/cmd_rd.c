/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rd: memory in crash's layout, 16 bytes a line:
 *
 *   ffffffff82c1aa40:  0000000000004000 0000000000000000   .@..............
 *
 * -8 -16 -32 -64 (default) the unit; -x hex without the ASCII column, -d
 * decimal, -s symbols for values that point into the kernel image, -a the
 * ASCII string at the address (60 characters a line, to its NUL), -p a
 * physical address, -u a user virtual address of the current context's
 * task, through its mm's page tables (4 levels, 5 with VMCOREINFO's
 * NUMBER(pgtable_l5_enabled) = 1; 1 GiB and 2 MiB pages).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"

/* Units one rd prints at most, and the bytes of an -a string. */
#define RD_MAX_COUNT (UINT64_C(1) << 24)
#define RD_MAX_STRING (1u << 20)
/* Below this an address is a user address on x86_64. */
#define RD_KERNEL_START UINT64_C(0xffff800000000000)

enum rd_mode { RD_HEX_ASCII, RD_HEX, RD_DEC, RD_SYM, RD_ASCII };

struct rd {
	struct ck_analysis *a;
	unsigned size;		/* bytes per unit */
	enum rd_mode mode;
	bool phys;
	bool user;		/* -u: through pgd */
	uint64_t pgd;		/* the context task's mm->pgd, physical */
	int levels;
	uint64_t addr, count;
};

/* x86_64 page table entries: present, page size, the frame's address bits. */
#define PTE_PRESENT 0x1ull
#define PTE_PSE 0x80ull
#define PTE_ADDR 0x000ffffffffff000ull

/* A user address of the context task to physical, walking its page
 * tables from the pgd's physical address. */
static struct ck_error *user_to_phys(struct rd *r, uint64_t uaddr, uint64_t *ret)
{
	uint64_t table = r->pgd;
	for (int level = r->levels; level >= 1; level--) {
		int shift = 12 + 9 * (level - 1);
		uint64_t entry;
		struct ck_error *err = ck_dump_read_phys(ck_kernel_dump(r->a->kernel),
							 table + ((uaddr >> shift) & 511) * 8,
							 &entry, sizeof(entry));
		if (err)
			return err;
		if (!(entry & PTE_PRESENT))
			return ck_error_create(CK_ERR_NOT_FOUND, "user address %#" PRIx64
					       " is not mapped", uaddr);
		uint64_t frame = entry & PTE_ADDR;
		if (level == 1 || ((level == 2 || level == 3) && (entry & PTE_PSE))) {
			uint64_t mask = (1ull << shift) - 1;
			*ret = (frame & ~mask) | (uaddr & mask);
			return NULL;
		}
		table = frame;
	}
	return ck_error_create(CK_ERR_NOT_FOUND, "user address %#" PRIx64 " is not mapped", uaddr);
}

static struct ck_error *rd_read(struct rd *r, uint64_t addr, void *buf, size_t len)
{
	if (r->phys)
		return ck_dump_read_phys(ck_kernel_dump(r->a->kernel), addr, buf, len);
	if (!r->user)
		return ck_kernel_read(r->a->kernel, addr, buf, len);
	/* a page at a time: each has its own frame */
	for (size_t done = 0; done < len;) {
		size_t n = 4096 - ((addr + done) & 4095);
		if (n > len - done)
			n = len - done;
		uint64_t phys = 0;
		struct ck_error *err = user_to_phys(r, addr + done, &phys);
		if (!err)
			err = ck_dump_read_phys(ck_kernel_dump(r->a->kernel), phys,
						(char *)buf + done, n);
		if (err)
			return err;
		done += n;
	}
	return NULL;
}

/* -u: the context task's page tables. */
static struct ck_error *rd_user_setup(struct rd *r)
{
	const struct ck_task *t;
	struct ck_types *types;
	struct ck_member pgd;
	struct ck_error *err = ck_context_task(r->a, &t);
	if (!err)
		err = ck_analysis_types(r->a, &types);
	if (!err)
		err = ck_member_of(types, "struct mm_struct", "pgd", &pgd);
	if (err)
		return err;
	if (!t->mm)
		return ck_error_create(CK_ERR_INVALID, "the current context (pid %d, %s) is a kernel "
				       "thread: no user address space", t->pid, t->comm);
	uint64_t vpgd;
	err = ck_kernel_read_u64(r->a->kernel, t->mm + pgd.offset, &vpgd);
	if (!err)
		err = ck_kernel_virt_to_phys(r->a->kernel, vpgd, &r->pgd);
	if (err)
		return err;
	int64_t l5 = 0;
	if (ck_kernel_vmcoreinfo_str(r->a->kernel, "NUMBER(pgtable_l5_enabled)"))
		ck_error_destroy(ck_kernel_vmcoreinfo_s64(r->a->kernel,
							   "NUMBER(pgtable_l5_enabled)", &l5));
	r->levels = l5 == 1 ? 5 : 4;
	r->user = true;
	return NULL;
}

/* crash's complaint about an address it cannot read. */
static int rd_fault(struct rd *r, uint64_t addr, struct ck_error *err)
{
	/* crash says "seek error" for unmapped and for missing pages alike;
	 * a user address its page tables do not map is "invalid" */
	const char *what = ck_error_code(err) == CK_ERR_FAULT ? "seek error" : "read error";
	if (r->user && ck_error_code(err) == CK_ERR_NOT_FOUND)
		fprintf(r->a->err, "rd: invalid user virtual address: %" PRIx64 "  type: \"%u-bit "
			"UVADDR\"\n", addr, r->size * 8);
	else
		fprintf(r->a->err, "rd: %s: %s address: %" PRIx64 "  type: \"%u-bit %s\"\n", what,
			r->phys ? "physical" : r->user ? "user virtual" : "kernel virtual", addr,
			r->size * 8, r->phys ? "PHYSADDR" : r->user ? "UVADDR" : "KVADDR");
	ck_error_destroy(err);
	return 1;
}

/* Width of a decimal unit (crash: 15 for 64-bit values). */
static int dec_width(unsigned size)
{
	switch (size) {
	case 1:
		return 3;
	case 2:
		return 5;
	case 4:
		return 12;
	default:
		return 15;
	}
}

static void rd_value(struct rd *r, const uint8_t *p)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < r->size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	FILE *out = r->a->out;
	if (r->mode == RD_DEC && r->size >= 4) {	/* crash: signed from 32 bits up */
		int64_t sv = r->size == 4 ? (int64_t)(int32_t)v : (int64_t)v;
		fprintf(out, "%*" PRId64 " ", dec_width(r->size), sv);
		return;
	}
	if (r->mode == RD_DEC) {
		fprintf(out, "%*" PRIu64 " ", dec_width(r->size), v);
		return;
	}
	char sym[512];
	if (r->mode == RD_SYM && r->size == 8 && ck_typefmt_symbol_name(r->a, v, sym, sizeof(sym))) {
		fprintf(out, "%-16s ", sym);
		return;
	}
	fprintf(out, "%0*" PRIx64 " ", (int)r->size * 2, v);
}

static int rd_lines(struct rd *r)
{
	unsigned per_line = 16 / r->size;
	uint64_t addr = r->addr;
	for (uint64_t done = 0; done < r->count;) {
		uint64_t n = r->count - done < per_line ? r->count - done : per_line;
		uint8_t buf[16];
		struct ck_error *err = rd_read(r, addr, buf, n * r->size);
		if (err)
			return rd_fault(r, addr, err);
		fprintf(r->a->out, "%16" PRIx64 ":  ", addr);
		for (uint64_t i = 0; i < n; i++)
			rd_value(r, buf + i * r->size);
		if (r->mode == RD_HEX_ASCII) {
			fprintf(r->a->out, "%*s  ", (int)((per_line - n) * (r->size * 2 + 1)), "");
			for (uint64_t i = 0; i < n * r->size; i++)
				fputc(buf[i] >= 0x20 && buf[i] < 0x7f ? buf[i] : '.', r->a->out);
		}
		fputc('\n', r->a->out);
		done += n;
		addr += n * r->size;
	}
	return 0;
}

/* -a: the string at the address, 60 characters a line. */
static int rd_string(struct rd *r, bool counted)
{
	uint64_t limit = counted ? r->count : RD_MAX_STRING;
	uint64_t addr = r->addr, done = 0;
	char line[60];
	while (done < limit) {
		size_t n = 0;
		bool end = false;
		while (n < sizeof(line) && done + n < limit) {
			struct ck_error *err = rd_read(r, addr + n, line + n, 1);
			if (err) {
				if (n)
					fprintf(r->a->out, "%16" PRIx64 ":  %.*s\n", addr, (int)n, line);
				return rd_fault(r, addr + n, err);
			}
			if (!line[n]) {
				end = true;
				break;
			}
			n++;
		}
		/* a string that ends in a newline gets no second one (crash) */
		if (n)
			fprintf(r->a->out, "%16" PRIx64 ":  %.*s%s", addr, (int)n, line,
				line[n - 1] == '\n' ? "" : "\n");
		if (end || !n)
			break;
		addr += n;
		done += n;
	}
	return 0;
}

static int rd_option(struct ck_analysis *a, const char *w, struct rd *r, bool *user)
{
	static const struct { const char *opt; unsigned size; } sizes[] = {
		{ "-8", 1 }, { "-16", 2 }, { "-32", 4 }, { "-64", 8 },
	};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (!strcmp(w, sizes[i].opt)) {
			r->size = sizes[i].size;
			return 0;
		}
	}
	if (!strcmp(w, "-x"))
		r->mode = RD_HEX;
	else if (!strcmp(w, "-d"))
		r->mode = RD_DEC;
	else if (!strcmp(w, "-s"))
		r->mode = RD_SYM;
	else if (!strcmp(w, "-a"))
		r->mode = RD_ASCII;
	else if (!strcmp(w, "-p"))
		r->phys = true;
	else if (!strcmp(w, "-u"))
		*user = true;
	else {
		fprintf(a->err, "rd: unsupported option: %s\n", w);
		return 1;
	}
	return 0;
}

int ck_acmd_rd(struct ck_analysis *a, int argc, char **argv)
{
	struct rd r = { .a = a, .size = 8, .mode = RD_HEX_ASCII, .count = 1 };
	const char *where = NULL, *count = NULL;
	bool user = false;
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];
		if (w[0] == '-' && w[1]) {
			if (rd_option(a, w, &r, &user))
				return 1;
		} else if (!where) {
			where = w;
		} else if (!count) {
			count = w;
		}
	}
	if (!where) {
		fprintf(a->err, "rd: an address or symbol is needed\n");
		return 1;
	}
	struct ck_error *err = user ? rd_user_setup(&r) : NULL;
	if (err)
		return ck_analysis_fail(a, "rd", err);
	err = ck_typefmt_address(a, where, &r.addr);
	if (err)
		return ck_analysis_fail(a, "rd", err);
	if (count) {
		char *end;
		r.count = strtoull(count, &end, 0);
		if (*end || r.count == 0 || r.count > RD_MAX_COUNT) {
			fprintf(a->err, "rd: invalid count: %s\n", count);
			return 1;
		}
	}
	if (r.user && r.addr >= RD_KERNEL_START) {
		fprintf(a->err, "rd: invalid user virtual address: %" PRIx64 "  type: \"%u-bit "
			"UVADDR\"\n", r.addr, r.size * 8);
		return 1;
	}
	if (!r.phys && !r.user && r.addr < RD_KERNEL_START) {
		fprintf(a->err, "rd: invalid user virtual address: %" PRIx64 "  type: \"%u-bit "
			"UVADDR\"\n", r.addr, r.size * 8);
		return 1;
	}
	if (r.mode == RD_SYM && r.size != 8)
		r.mode = RD_HEX;
	if (r.mode == RD_ASCII)
		return rd_string(&r, count != NULL);
	return rd_lines(&r);
}
