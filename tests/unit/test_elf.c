/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/dump/elf.c, the ELF vmcore reader, on dumps written by
 * tests/mkdump.h mk_elf(): ranges, notes, overlapping segments, partial
 * pages and excluded tails read back byte for byte; QEMU, incomplete,
 * PN_XNUM and arm64 dumps open with the right facts; unsupported and
 * corrupt headers fail with an error that says why and names the file.
 */
#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump/dump.h"
#include "../mkdump.h"
#include "../harness.h"

static void test_elf_basic(void)
{
	const char *path = tpath("basic.elf");
	mk_elf(path, &elf_basic);
	struct ck_dump *d = open_ok(path);
	if (!d)
		return;
	const struct ck_dump_info *i = ck_dump_info(d);
	EXPECT(!strcmp(i->format, "elf"), "format %s", i->format);
	EXPECT(!strcmp(i->origin, "proc-vmcore"), "origin %s", i->origin);
	EXPECT(i->arch && !strcmp(i->arch, "x86_64"), "arch %s", i->arch);
	EXPECT(!strcmp(i->compression, "none"), "compression %s", i->compression);
	EXPECT(i->page_size == PS, "page size %u", i->page_size);
	EXPECT(i->nr_cpus == 2, "nr_cpus %u", i->nr_cpus);
	EXPECT(i->dump_level == -1 && i->header_version == 0, "level %d", i->dump_level);
	EXPECT(!i->truncated && !i->incomplete, "flags");
	EXPECT(i->file_size == i->expected_size, "sizes 0x%" PRIx64 " 0x%" PRIx64, i->file_size,
	       i->expected_size);
	EXPECT(i->max_pfn == 0x100004, "max_pfn 0x%" PRIx64, i->max_pfn);
	EXPECT(!strcmp(i->path, path), "path %s", i->path);

	static const struct ck_mem_range want[] = {
		{ 0, 0x10000 }, { 0x20000, 0x1c00 }, { 0x40000, 0x8000 }, { 0x100000000ull, 0x4000 },
	};
	const struct ck_mem_range *r;
	size_t nr;
	ck_dump_mem_ranges(d, &r, &nr);
	EXPECT(nr == CK_ARRAY_SIZE(want), "%zu ranges", nr);
	for (size_t k = 0; k < nr && k < CK_ARRAY_SIZE(want); k++)
		EXPECT(r[k].start == want[k].start && r[k].size == want[k].size,
		       "range %zu: 0x%" PRIx64 "+0x%" PRIx64, k, r[k].start, r[k].size);

	size_t count;
	EXPECT(has_note(d, "CORE", NT_PRSTATUS, &count) && count == 2, "prstatus %zu", count);
	size_t len;
	const char *v = ck_dump_vmcoreinfo(d, &len);
	EXPECT(v && len == strlen(std_vmcoreinfo) && !strcmp(v, std_vmcoreinfo), "vmcoreinfo");

	check_elf_pages(d, path, &elf_basic, false);

	/* Reads that span pages, unaligned, and into a hole. */
	uint8_t buf[0x300], want_buf[0x300];
	struct ck_error *err = ck_dump_read_phys(d, 0x3f00, buf, sizeof(buf));
	mk_fill(want_buf, 0x3f00, sizeof(want_buf));
	EXPECT(!err && !memcmp(buf, want_buf, sizeof(buf)), "span: %s", msg(err));
	ck_error_destroy(err);
	err = ck_dump_read_phys(d, 0xff00, buf, sizeof(buf));
	EXPECT(err && ck_error_code(err) == CK_ERR_FAULT && strstr(msg(err), "0x10"),
	       "into hole: %s", msg(err));
	ck_error_destroy(err);
	err = ck_dump_read_phys(d, 0x42800, buf, 16);
	EXPECT(err && ck_error_code(err) == CK_ERR_FAULT && strstr(msg(err), "excluded") &&
		       strstr(msg(err), "pfn 0x42"),
	       "excluded tail: %s", msg(err));
	ck_error_destroy(err);
	err = ck_dump_read_phys(d, UINT64_MAX - 10, buf, 100);
	EXPECT(err && ck_error_code(err) == CK_ERR_FAULT, "wrap: %s", msg(err));
	ck_error_destroy(err);
	err = ck_dump_read_phys(d, 0x123, buf, 0);
	EXPECT(!err, "empty read: %s", msg(err));
	ck_error_destroy(err);
	/* Many reads through the cache, in a pattern that evicts. */
	for (int k = 0; k < 200; k++) {
		uint64_t a = (uint64_t)(k * 7 % 16) * PS + k;
		err = ck_dump_read_phys(d, a, buf, 64);
		mk_fill(want_buf, a, 64);
		EXPECT(!err && !memcmp(buf, want_buf, 64), "cached read at 0x%" PRIx64, a);
		ck_error_destroy(err);
	}
	ck_dump_destroy(d);
}

static void test_elf_variants(void)
{
	/* QEMU: "QEMU" notes */
	struct mk_elf_spec s = elf_basic;
	s.qemu = true;
	mk_elf(tpath("qemu.elf"), &s);
	struct ck_dump *d = open_ok(tpath("qemu.elf"));
	if (d) {
		EXPECT(!strcmp(ck_dump_info(d)->origin, "qemu"), "origin %s",
		       ck_dump_info(d)->origin);
		EXPECT(has_note(d, "QEMU", 0, NULL), "QEMU notes");
		ck_dump_destroy(d);
	}
	/* makedumpfile's incomplete flag */
	s = elf_basic;
	s.e_flags = 1;
	mk_elf(tpath("incomplete.elf"), &s);
	d = open_ok(tpath("incomplete.elf"));
	if (d) {
		EXPECT(ck_dump_info(d)->incomplete, "incomplete flag");
		EXPECT(!strcmp(ck_dump_info(d)->origin, "makedumpfile"), "origin");
		ck_dump_destroy(d);
	}
	/* Extended program header numbering (PN_XNUM) */
	s = elf_basic;
	s.xnum = true;
	mk_elf(tpath("xnum-ok.elf"), &s);
	d = open_ok(tpath("xnum-ok.elf"));
	if (d) {
		EXPECT(!ck_dump_info(d)->truncated, "xnum: truncated");
		check_elf_pages(d, tpath("xnum-ok.elf"), &s, false);
		ck_dump_destroy(d);
	}
	/* No VMCOREINFO, no NT_PRSTATUS */
	s = elf_basic;
	s.vmcoreinfo = NULL;
	s.nr_prstatus = 0;
	mk_elf(tpath("bare.elf"), &s);
	d = open_ok(tpath("bare.elf"));
	if (d) {
		EXPECT(!ck_dump_vmcoreinfo(d, NULL), "vmcoreinfo");
		EXPECT(ck_dump_info(d)->nr_cpus == 0, "nr_cpus");
		check_elf_pages(d, tpath("bare.elf"), &s, false);
		ck_dump_destroy(d);
	}
	/* arm64 with 64 KiB pages: arch from e_machine, page size from VMCOREINFO */
	static const struct mk_seg seg64k[] = { { 0x40000000, 0x20000, 0x20000, 0 } };
	s = (struct mk_elf_spec){ .segs = seg64k, .nr_segs = 1, .machine = EM_AARCH64,
				  .vmcoreinfo = "OSRELEASE=6.1.0\nPAGESIZE=65536\n" };
	mk_elf(tpath("arm64.elf"), &s);
	d = open_ok(tpath("arm64.elf"));
	if (d) {
		const struct ck_dump_info *i = ck_dump_info(d);
		EXPECT(i->arch && !strcmp(i->arch, "aarch64"), "arch %s", i->arch);
		EXPECT(i->page_size == 65536, "page size %u", i->page_size);
		uint8_t buf[64], want[64];
		struct ck_error *err = ck_dump_read_phys(d, 0x40010000 + 100, buf, 64);
		mk_fill(want, 0x40010000 + 100, 64);
		EXPECT(!err && !memcmp(buf, want, 64), "arm64 read: %s", msg(err));
		ck_error_destroy(err);
		ck_dump_destroy(d);
	}

	/* i386 ELFCLASS32: unsupported, said clearly */
	struct mk_buf b = { 0 };
	mk_elf_buf(&elf_basic, &b);
	b.data[EI_CLASS] = ELFCLASS32;
	b.data[18] = EM_386;
	b.data[19] = 0;
	mk_buf_write(&b, tpath("i386.elf"));
	expect_open_error(tpath("i386.elf"), CK_ERR_UNSUPPORTED, "i386");
	/* not a core */
	mk_elf_buf(&elf_basic, &b);
	b.data[16] = ET_EXEC;
	mk_buf_write(&b, tpath("exec.elf"));
	expect_open_error(tpath("exec.elf"), CK_ERR_FORMAT, "ET_CORE");
	/* big-endian */
	mk_elf_buf(&elf_basic, &b);
	b.data[EI_DATA] = ELFDATA2MSB;
	mk_buf_write(&b, tpath("be.elf"));
	expect_open_error(tpath("be.elf"), CK_ERR_UNSUPPORTED, "big-endian");
	/* a note whose n_descsz runs past the segment */
	mk_elf_buf(&elf_basic, &b);
	Elf64_Phdr ph;
	memcpy(&ph, b.data + sizeof(Elf64_Ehdr), sizeof(ph));
	uint32_t big = 0x7fff0000;
	memcpy(b.data + ph.p_offset + 4, &big, 4);
	mk_buf_write(&b, tpath("descsz.elf"));
	expect_open_error(tpath("descsz.elf"), CK_ERR_FORMAT, "n_descsz");
	/* huge e_phnum */
	mk_elf_buf(&elf_basic, &b);
	uint16_t phnum = 0xfff0;
	memcpy(b.data + offsetof(Elf64_Ehdr, e_phnum), &phnum, 2);
	mk_buf_write(&b, tpath("phnum.elf"));
	expect_open_error(tpath("phnum.elf"), CK_ERR_TRUNCATED, "program headers");
	/* PN_XNUM with a section header 0 that is out of the file */
	phnum = PN_XNUM;
	memcpy(b.data + offsetof(Elf64_Ehdr, e_phnum), &phnum, 2);
	uint64_t shoff = 0x7fffffffffff0000ull;
	uint16_t shentsize = sizeof(Elf64_Shdr);
	memcpy(b.data + offsetof(Elf64_Ehdr, e_shoff), &shoff, 8);
	memcpy(b.data + offsetof(Elf64_Ehdr, e_shentsize), &shentsize, 2);
	mk_buf_write(&b, tpath("xnum.elf"));
	expect_open_error(tpath("xnum.elf"), CK_ERR_TRUNCATED, "past end");
	/* p_filesz > p_memsz */
	mk_elf_buf(&elf_basic, &b);
	memcpy(&ph, b.data + sizeof(Elf64_Ehdr) + sizeof(ph), sizeof(ph));
	ph.p_memsz = 16;
	memcpy(b.data + sizeof(Elf64_Ehdr) + sizeof(ph), &ph, sizeof(ph));
	mk_buf_write(&b, tpath("filesz.elf"));
	expect_open_error(tpath("filesz.elf"), CK_ERR_FORMAT, "p_filesz");
	/* p_paddr + p_memsz wraps */
	mk_elf_buf(&elf_basic, &b);
	memcpy(&ph, b.data + sizeof(Elf64_Ehdr) + sizeof(ph), sizeof(ph));
	ph.p_paddr = UINT64_MAX - 0x1000;
	memcpy(b.data + sizeof(Elf64_Ehdr) + sizeof(ph), &ph, sizeof(ph));
	mk_buf_write(&b, tpath("wrap.elf"));
	expect_open_error(tpath("wrap.elf"), CK_ERR_FORMAT, "overflows");
	/* a PT_LOAD past the end of the file: opens, truncated */
	mk_elf_buf(&elf_basic, &b);
	memcpy(&ph, b.data + sizeof(Elf64_Ehdr) + sizeof(ph), sizeof(ph));
	ph.p_offset = 0x7000000000ull;
	memcpy(b.data + sizeof(Elf64_Ehdr) + sizeof(ph), &ph, sizeof(ph));
	mk_buf_write(&b, tpath("far.elf"));
	d = open_ok(tpath("far.elf"));
	if (d) {
		EXPECT(ck_dump_info(d)->truncated, "far segment: truncated");
		uint8_t page[PS];
		struct ck_error *err = ck_dump_read_phys(d, 0, page, PS);
		EXPECT(err && ck_error_code(err) == CK_ERR_TRUNCATED &&
			       strstr(msg(err), "pfn 0x0") && strstr(msg(err), "offset 0x7000000000"),
		       "far read: %s", msg(err));
		ck_error_destroy(err);
		ck_dump_destroy(d);
	}
	free(b.data);
}

/* Lost pages the slow way: every frame of [first, end) asked. */
static uint64_t lost_brute(struct ck_dump *d, uint64_t first, uint64_t end)
{
	uint64_t n = 0;
	uint8_t page[4096];
	for (uint64_t pfn = first; pfn < end; pfn++) {
		if (ck_dump_has_page(d, pfn))
			continue;
		struct ck_error *err = ck_dump_read_phys(d, pfn * 4096, page, sizeof(page));
		n += err && ck_error_code(err) == CK_ERR_TRUNCATED;
		ck_error_destroy(err);
	}
	return n;
}

/*
 * p_memsz (or p_paddr) may claim memory up to the end of the address space
 * while the file holds a page: counting a cut file's lost pages frame by
 * frame never ended.  They are counted piece by piece, and the count is the
 * one frame by frame gives where that can finish; a file too small for a
 * bitmap of the memory it claims is refused by the capture walk.
 */
static void test_elf_huge_claims(void)
{
	const struct mk_seg segs[] = {
		{ .paddr = 0, .memsz = 8 * 4096, .filesz = 8 * 4096 },
		/* data for 64 pages, then 2^62 bytes without */
		{ .paddr = 1 << 20, .memsz = 1ull << 62, .filesz = 64 * 4096 },
		/* unaligned: frames shared with nobody, partly covered */
		{ .paddr = (1ull << 62) + (4ull << 20) + 0x800, .memsz = 0x3000, .filesz = 0x3000 },
	};
	struct mk_elf_spec spec = { .segs = segs, .nr_segs = 3, .vmcoreinfo = "PAGESIZE=4096\n" };
	struct mk_buf b = { 0 };
	mk_elf_buf(&spec, &b);
	size_t full = b.len;
	/* cut inside the 2nd segment's data, mid page, and at the end */
	const size_t cuts[] = { full - 0x3000 - 20 * 4096 - 100, full - 0x3000, full - 1, full };
	for (size_t c = 0; c < CK_ARRAY_SIZE(cuts); c++) {
		b.len = cuts[c];
		mk_buf_write(&b, tpath("huge.elf"));
		struct ck_dump *d = open_ok(tpath("huge.elf"));
		if (!d)
			continue;
		EXPECT(ck_dump_info(d)->truncated == (cuts[c] < full), "cut %zu: truncated", c);
		struct ck_dump_loss loss;
		struct ck_error *err = ck_dump_lost_pages(d, &loss);
		EXPECT(!err, "%s", msg(err));
		ck_error_destroy(err);
		uint64_t hi = ((1ull << 62) + (4ull << 20)) / 4096;
		uint64_t want = lost_brute(d, 0, 8) + lost_brute(d, 256, 256 + 64) +
				lost_brute(d, hi, hi + 4);
		EXPECT(!err && loss.pages == want, "cut %zu: lost %" PRIu64 ", frame by frame %"
		       PRIu64, c, loss.pages, want);
		if (c == 0)
			EXPECT(loss.first_pfn == 256 + 43 && loss.last_pfn == hi + 3,
			       "lost pfns 0x%" PRIx64 "-0x%" PRIx64, loss.first_pfn, loss.last_pfn);
		ck_dump_destroy(d);
	}
	free(b.data);
}

int main(void)
{
	int r = harness_begin("elf");
	if (r)
		return r;
	run("ELF: ranges, notes, overlap, partial pages, excluded tails", test_elf_basic);
	run("ELF: QEMU, incomplete, arm64, unsupported and corrupt headers", test_elf_variants);
	run("ELF: memory claimed up to 2^62 without data: lost pages counted by piece",
	    test_elf_huge_claims);
	return harness_end();
}
