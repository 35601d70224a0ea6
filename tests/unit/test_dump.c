/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the dump layer: generates small dumps (tests/mkdump.h) of
 * every format we read, checks that every byte reads back, and feeds the
 * readers corrupt and truncated versions that must give an error or a
 * truncated-but-open dump, never a crash, a hang or wrong data.
 *
 * Output: "ok N - name" / "not ok N - name" per test, "# ..." diagnostics,
 * and a last line "N passed, N failed".  Run under `make BUILD=asan`.
 */
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/kernel.h"
#include "../mkdump.h"
#include "../harness.h"

#define PS 4096u

static const char *msg(struct ck_error *err)
{
	return err ? ck_error_message(err) : "(no error)";
}

static const char vmcoreinfo_text[] =
	"OSRELEASE=6.1.0-56-amd64\n"
	"BUILD-ID=0123456789abcdef\n"
	"PAGESIZE=4096\n"
	"SYMBOL(init_uts_ns)=ffffffff82a13460\n"
	"NUMBER(phys_base)=16777216\n"
	"KERNELOFFSET=13000000\n";

/* ---- expectations ---------------------------------------------------------- */

/* The ELF test layout: overlap, a partial page, p_filesz < p_memsz (makedumpfile
 * -E's excluded pages), memory above 4 GiB. */
static const struct mk_seg elf_segs[] = {
	{ 0x0, 16 * PS, 16 * PS, 0xffff888000000000ull },
	{ 0x4000, 4 * PS, 4 * PS, 0xffffffff81000000ull },	/* "kernel text" */
	{ 0x20000, 0x1c00, 0x1c00, 0 },				/* ends mid-page */
	{ 0x40000, 8 * PS, 0x2800, 0 },				/* excluded tail */
	{ 0x100000000ull, 4 * PS, 4 * PS, 0 },
};

static const struct mk_elf_spec elf_basic = {
	.segs = elf_segs,
	.nr_segs = CK_ARRAY_SIZE(elf_segs),
	.vmcoreinfo = vmcoreinfo_text,
	.nr_prstatus = 2,
};

/* Expected byte at physical address a of an ELF spec: -1 if no segment covers
 * it, -2 in a segment's [p_filesz, p_memsz) tail (excluded, not zeros). */
static int elf_expect(const struct mk_elf_spec *s, uint64_t a)
{
	int r = -1;
	for (size_t i = 0; i < s->nr_segs; i++) {
		const struct mk_seg *g = &s->segs[i];
		if (a < g->paddr || a - g->paddr >= g->memsz)
			continue;
		if (a - g->paddr < g->filesz)
			return mk_byte(a);
		r = -2;
	}
	return r;
}

/* Fills want with the expected page (bytes no segment covers are zeros);
 * false if the page cannot be read: nothing covers it, or part of it is in
 * an excluded tail. */
static bool elf_expect_page(const struct mk_elf_spec *s, uint64_t pfn, uint8_t *want)
{
	bool any = false;
	for (size_t i = 0; i < PS; i++) {
		int b = elf_expect(s, pfn * PS + i);
		if (b == -2)
			return false;
		want[i] = b < 0 ? 0 : b;
		any |= b >= 0;
	}
	return any;
}

/* pfns worth checking in elf_basic: the low ones and those around 4 GiB. */
static size_t elf_test_pfns(uint64_t *pfns)
{
	size_t n = 0;
	for (uint64_t p = 0; p < 0x50; p++)
		pfns[n++] = p;
	for (uint64_t p = 0x100000 - 2; p < 0x100000 + 8; p++)
		pfns[n++] = p;
	return n;
}

/* Standard kdump page kinds: a hole of not-RAM pfns, excluded pages, raw
 * pages, and the codec for the rest. */
#define KD_PFNS 96
static void kdump_kinds(uint8_t *kinds, enum mk_kind codec)
{
	for (uint64_t pfn = 0; pfn < KD_PFNS; pfn++) {
		if (pfn >= 40 && pfn < 48)
			kinds[pfn] = MK_NOT_RAM;
		else if (pfn % 10 == 7)
			kinds[pfn] = MK_EXCLUDED;
		else if (pfn % 13 == 0)
			kinds[pfn] = MK_RAW;
		else
			kinds[pfn] = codec;
	}
}

static struct mk_kdump_spec kdump_spec(const uint8_t *kinds, enum mk_kind codec)
{
	return (struct mk_kdump_spec){
		.version = 6,
		.max_mapnr = KD_PFNS,
		.kinds = kinds,
		.vmcoreinfo = vmcoreinfo_text,
		.nr_prstatus = 2,
		.nr_cpus = 2,
		.release = "6.1.0-56-amd64",
		.time = 1700000000,
		.dump_level = 31,
		.status_codec = mk_kind_flag(codec),
		.zero_shared = true,
	};
}

/*
 * What reading a page of a generated dump should give.  kind: for kdump the
 * mk_kind of the pfn (saved pages must read back); for ELF pass -1 and the
 * ELF spec.  Checks has_page agrees with the read, and that a failed read
 * has one of the allowed codes and names the file.  Returns false on a
 * mismatch (already reported through EXPECT).
 */
static void check_page(struct ck_dump *d, const char *path, uint64_t pfn, bool present,
		       const uint8_t *want, bool allow_truncated)
{
	uint8_t got[PS];
	struct ck_error *err = ck_dump_read_phys(d, pfn * PS, got, PS);
	bool has = ck_dump_has_page(d, pfn);
	if (!err) {
		EXPECT(present, "%s: pfn 0x%" PRIx64 " read but should not exist", path, pfn);
		EXPECT(has, "%s: pfn 0x%" PRIx64 " read but has_page is false", path, pfn);
		if (present)
			EXPECT(!memcmp(got, want, PS), "%s: pfn 0x%" PRIx64 " reads wrong data",
			       path, pfn);
		return;
	}
	enum ck_error_code code = ck_error_code(err);
	EXPECT(!has, "%s: pfn 0x%" PRIx64 " has_page but read fails: %s", path, pfn, msg(err));
	if (present)
		EXPECT(allow_truncated && code == CK_ERR_TRUNCATED,
		       "%s: pfn 0x%" PRIx64 " should read: %s", path, pfn, msg(err));
	else
		EXPECT(code == CK_ERR_FAULT || (allow_truncated && code == CK_ERR_TRUNCATED),
		       "%s: pfn 0x%" PRIx64 ": code %d: %s", path, pfn, code, msg(err));
	EXPECT(strstr(msg(err), path) != NULL, "error does not name the file: %s", msg(err));
	ck_error_destroy(err);
}

static void check_elf_pages(struct ck_dump *d, const char *path, const struct mk_elf_spec *s,
			    bool allow_truncated)
{
	uint64_t pfns[128];
	uint8_t want[PS];
	size_t n = elf_test_pfns(pfns);
	for (size_t i = 0; i < n; i++) {
		bool present = elf_expect_page(s, pfns[i], want);
		check_page(d, path, pfns[i], present, want, allow_truncated);
	}
}

static void check_kdump_pages(struct ck_dump *d, const char *path, const uint8_t *kinds,
			      uint64_t max_mapnr, uint64_t lo, uint64_t hi, bool allow_truncated)
{
	uint8_t want[PS];
	for (uint64_t pfn = 0; pfn < max_mapnr + 2; pfn++) {
		bool present = pfn < max_mapnr && mk_kind_saved(kinds[pfn]) && pfn >= lo &&
			       pfn < hi;
		mk_fill(want, pfn * PS, PS);
		check_page(d, path, pfn, present, want, allow_truncated);
	}
}

static struct ck_dump *open_ok(const char *path)
{
	struct ck_dump *d = NULL;
	struct ck_error *err = ck_dump_open(path, &d);
	EXPECT(!err, "open %s: %s", path, msg(err));
	ck_error_destroy(err);
	return err ? NULL : d;
}

static void expect_open_error(const char *path, enum ck_error_code code, const char *needle)
{
	struct ck_dump *d = NULL;
	struct ck_error *err = ck_dump_open(path, &d);
	EXPECT(err != NULL, "open %s should fail", path);
	if (err) {
		EXPECT(ck_error_code(err) == code, "%s: code %d, want %d: %s", path,
		       ck_error_code(err), code, msg(err));
		EXPECT(!needle || strstr(msg(err), needle), "%s: message lacks '%s': %s", path,
		       needle, msg(err));
		EXPECT(strstr(msg(err), path) != NULL, "error does not name the file: %s",
		       msg(err));
	}
	ck_error_destroy(err);
	ck_dump_destroy(d);
}

static bool has_note(struct ck_dump *d, const char *name, uint32_t type, size_t *count)
{
	const struct ck_note *notes;
	size_t nr, c = 0;
	ck_dump_notes(d, &notes, &nr);
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(notes[i].name, name) && notes[i].type == type)
			c++;
	if (count)
		*count = c;
	return c > 0;
}

/* ---- tests --------------------------------------------------------------- */

static void test_file(void)
{
	struct ck_file *f = NULL;
	struct ck_error *err = ck_file_open(tpath("does-not-exist"), &f);
	EXPECT(err && ck_error_code(err) == CK_ERR_OS, "open missing: %s", msg(err));
	ck_error_destroy(err);

	struct mk_buf b = { 0 };
	uint8_t x[100];
	memset(x, 7, sizeof(x));
	mk_buf_append(&b, x, sizeof(x));
	mk_buf_write(&b, tpath("small"));
	free(b.data);
	err = ck_file_open(tpath("small"), &f);
	EXPECT(!err, "%s", msg(err));
	if (err)
		return;
	uint8_t buf[200];
	err = ck_file_read(f, 90, buf, 20);
	EXPECT(err && ck_error_code(err) == CK_ERR_TRUNCATED, "%s", msg(err));
	EXPECT(err && strstr(msg(err), "offset 0x5a") && strstr(msg(err), "size 0x64") &&
		       strstr(msg(err), "small"),
	       "message: %s", msg(err));
	ck_error_destroy(err);
	size_t n = 0;
	err = ck_file_read_partial(f, 90, buf, 20, &n);
	EXPECT(!err && n == 10 && buf[0] == 7, "partial: %s n=%zu", msg(err), n);
	ck_error_destroy(err);
	err = ck_file_read(f, UINT64_MAX - 5, buf, 20);
	EXPECT(err && ck_error_code(err) == CK_ERR_TRUNCATED, "overflow: %s", msg(err));
	ck_error_destroy(err);
	ck_file_destroy(f);
}

static void test_codecs(void)
{
	static const enum mk_kind kinds[] = { MK_ZLIB, MK_LZO, MK_SNAPPY, MK_ZSTD };
	static const enum ck_codec codecs[] = { CK_CODEC_ZLIB, CK_CODEC_LZO, CK_CODEC_SNAPPY,
						CK_CODEC_ZSTD };
	uint8_t page[PS], out[PS + 16], comp[2 * PS];
	mk_fill(page, 0x5000, PS);
	uint64_t seed = 42;
	for (size_t i = 0; i < CK_ARRAY_SIZE(kinds); i++) {
		const char *name = ck_codec_name(codecs[i]);
		size_t n = mk_compress(kinds[i], page, PS, comp, sizeof(comp));
		EXPECT(n > 0 && n < PS, "%s: compress gave %zu", name, n);
		struct ck_error *err = ck_codec_decompress(codecs[i], comp, n, out, PS);
		EXPECT(!err && !memcmp(out, page, PS), "%s: %s", name, msg(err));
		ck_error_destroy(err);
		/* Strict size: a page that decodes to a different length fails. */
		err = ck_codec_decompress(codecs[i], comp, n, out, PS - 16);
		EXPECT(err && ck_error_code(err) == CK_ERR_FORMAT, "%s short: %s", name, msg(err));
		ck_error_destroy(err);
		err = ck_codec_decompress(codecs[i], comp, n, out, PS + 16);
		EXPECT(err && ck_error_code(err) == CK_ERR_FORMAT, "%s long: %s", name, msg(err));
		ck_error_destroy(err);
		/* The stateful decoder, as the kdump reader uses it, twice. */
		struct ck_decoder *dec = NULL;
		err = ck_decoder_create(&dec);
		EXPECT(!err, "decoder: %s", msg(err));
		for (int rep = 0; dec && rep < 2; rep++) {
			memset(out, 0, sizeof(out));
			err = ck_decoder_decompress(dec, codecs[i], comp, n, out, PS);
			EXPECT(!err && !memcmp(out, page, PS), "%s decoder: %s", name, msg(err));
			ck_error_destroy(err);
			err = ck_decoder_decompress(dec, codecs[i], comp, n, out, PS - 16);
			EXPECT(err && ck_error_code(err) == CK_ERR_FORMAT, "%s decoder short: %s",
			       name, msg(err));
			ck_error_destroy(err);
			err = ck_decoder_decompress(dec, codecs[i], comp, n, out, PS + 16);
			EXPECT(err && ck_error_code(err) == CK_ERR_FORMAT, "%s decoder long: %s",
			       name, msg(err));
			ck_error_destroy(err);
			err = ck_decoder_decompress(dec, codecs[i], comp, n / 2, out, PS);
			EXPECT(err != NULL, "%s decoder: cut input decoded", name);
			ck_error_destroy(err);
		}
		/* Cut input and garbage input fail cleanly. */
		err = ck_codec_decompress(codecs[i], comp, n / 2, out, PS);
		EXPECT(err != NULL, "%s: cut input decoded", name);
		ck_error_destroy(err);
		for (int t = 0; t < 200; t++) {
			uint8_t junk[512];
			for (size_t k = 0; k < sizeof(junk); k++)
				junk[k] = mk_rand(&seed);
			size_t len = 1 + mk_rand(&seed) % sizeof(junk);
			err = ck_codec_decompress(codecs[i], junk, len, out, PS);
			ck_error_destroy(err);
			if (dec) {
				err = ck_decoder_decompress(dec, codecs[i], junk, len, out, PS);
				ck_error_destroy(err);
			}
		}
		ck_decoder_destroy(dec);
	}
	struct ck_error *err = ck_codec_decompress(CK_CODEC_NONE, page, PS, out, PS);
	EXPECT(!err && !memcmp(out, page, PS), "none: %s", msg(err));
	ck_error_destroy(err);
	err = ck_codec_decompress(CK_CODEC_NONE, page, 100, out, PS);
	EXPECT(err != NULL, "none with wrong size decoded");
	ck_error_destroy(err);
}

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
	EXPECT(v && len == strlen(vmcoreinfo_text) && !strcmp(v, vmcoreinfo_text), "vmcoreinfo");

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

static const enum mk_kind codec_kinds[] = { MK_ZLIB, MK_LZO, MK_SNAPPY, MK_ZSTD };
static const char *const codec_names[] = { "zlib", "lzo", "snappy", "zstd" };

static void check_kdump_info(struct ck_dump *d, const char *comp)
{
	const struct ck_dump_info *i = ck_dump_info(d);
	EXPECT(!strcmp(i->format, "kdump"), "format %s", i->format);
	EXPECT(!strcmp(i->origin, "makedumpfile"), "origin %s", i->origin);
	EXPECT(!strcmp(i->compression, comp), "compression %s, want %s", i->compression, comp);
	EXPECT(i->arch && !strcmp(i->arch, "x86_64"), "arch %s", i->arch);
	EXPECT(i->header_version == 6 && i->dump_level == 31, "version %d level %d",
	       i->header_version, i->dump_level);
	EXPECT(i->page_size == PS && i->max_pfn == KD_PFNS && i->nr_cpus == 2, "sizes");
	EXPECT(i->header_time == 1700000000, "time %" PRId64, i->header_time);
	EXPECT(!strcmp(i->uts_release, "6.1.0-56-amd64") && !strcmp(i->uts_sysname, "Linux") &&
		       !strcmp(i->uts_nodename, "mkdump") && !strcmp(i->uts_machine, "x86_64"),
	       "utsname %s", i->uts_release);
	EXPECT(!i->truncated && !i->incomplete && i->expected_size == i->file_size,
	       "truncated %d exp 0x%" PRIx64 " size 0x%" PRIx64, i->truncated, i->expected_size,
	       i->file_size);
	const struct ck_mem_range *r;
	size_t nr;
	ck_dump_mem_ranges(d, &r, &nr);
	EXPECT(nr == 2 && r[0].start == 0 && r[0].size == 40 * PS && r[1].start == 48 * PS &&
		       r[1].size == 48 * PS,
	       "%zu ranges", nr);
	size_t len, count;
	const char *v = ck_dump_vmcoreinfo(d, &len);
	EXPECT(v && !strcmp(v, vmcoreinfo_text) && len == strlen(v), "vmcoreinfo");
	EXPECT(has_note(d, "CORE", NT_PRSTATUS, &count) && count == 2, "notes");
}

static void test_kdump_codecs(void)
{
	uint8_t kinds[KD_PFNS];
	for (size_t c = 0; c < CK_ARRAY_SIZE(codec_kinds); c++) {
		char name[64];
		snprintf(name, sizeof(name), "v6.%s.kdump", codec_names[c]);
		const char *path = tpath(name);
		kdump_kinds(kinds, codec_kinds[c]);
		struct mk_kdump_spec s = kdump_spec(kinds, codec_kinds[c]);
		mk_kdump(path, &s, NULL);
		struct ck_dump *d = open_ok(path);
		if (!d)
			continue;
		check_kdump_info(d, codec_names[c]);
		check_kdump_pages(d, path, kinds, KD_PFNS, 0, KD_PFNS, false);
		uint8_t page[PS];
		struct ck_error *err = ck_dump_read_phys(d, 17 * PS, page, PS);
		EXPECT(err && ck_error_code(err) == CK_ERR_FAULT && strstr(msg(err), "excluded") &&
			       strstr(msg(err), "pfn 0x11"),
		       "excluded: %s", msg(err));
		ck_error_destroy(err);
		err = ck_dump_read_phys(d, 41 * PS, page, PS);
		EXPECT(err && ck_error_code(err) == CK_ERR_FAULT && strstr(msg(err), "not RAM"),
		       "hole: %s", msg(err));
		ck_error_destroy(err);
		ck_dump_destroy(d);
	}
	/* Every codec in one dump */
	for (uint64_t pfn = 0; pfn < KD_PFNS; pfn++)
		kinds[pfn] = MK_ZLIB + pfn % 4;
	struct mk_kdump_spec s = kdump_spec(kinds, MK_ZLIB);
	s.status_codec = CK_KDUMP_COMPRESSED_ZLIB | CK_KDUMP_COMPRESSED_ZSTD;
	mk_kdump(tpath("mixed.kdump"), &s, NULL);
	struct ck_dump *d = open_ok(tpath("mixed.kdump"));
	if (d) {
		EXPECT(!strcmp(ck_dump_info(d)->compression, "mixed"), "mixed");
		check_kdump_pages(d, tpath("mixed.kdump"), kinds, KD_PFNS, 0, KD_PFNS, false);
		ck_dump_destroy(d);
	}
	/* Uncompressed (makedumpfile without -c/-l/-p/-z) and no zero sharing */
	for (uint64_t pfn = 0; pfn < KD_PFNS; pfn++)
		kinds[pfn] = pfn % 5 == 1 ? MK_EXCLUDED : MK_RAW;
	s = kdump_spec(kinds, MK_RAW);
	s.zero_shared = false;
	mk_kdump(tpath("raw.kdump"), &s, NULL);
	d = open_ok(tpath("raw.kdump"));
	if (d) {
		EXPECT(!strcmp(ck_dump_info(d)->compression, "none"), "none");
		check_kdump_pages(d, tpath("raw.kdump"), kinds, KD_PFNS, 0, KD_PFNS, false);
		ck_dump_destroy(d);
	}
	/* A larger dump, so that ranks cross several prefix-count blocks. */
	enum { BIG = 5000 };
	uint8_t *bk = malloc(BIG);
	uint64_t seed = 7;
	for (uint64_t pfn = 0; pfn < BIG; pfn++) {
		uint64_t x = mk_rand(&seed) % 16;
		bk[pfn] = x < 3 ? MK_NOT_RAM : x < 8 ? MK_EXCLUDED : x < 9 ? MK_RAW : MK_LZO;
	}
	s = kdump_spec(bk, MK_LZO);
	s.max_mapnr = BIG;
	mk_kdump(tpath("big.kdump"), &s, NULL);
	d = open_ok(tpath("big.kdump"));
	if (d) {
		check_kdump_pages(d, tpath("big.kdump"), bk, BIG, 0, BIG, false);
		ck_dump_destroy(d);
	}
	free(bk);
}

static void test_kdump_versions(void)
{
	uint8_t kinds[KD_PFNS];
	kdump_kinds(kinds, MK_ZLIB);
	for (int v = 1; v <= 7; v++) {
		char name[64];
		snprintf(name, sizeof(name), "v%d.kdump", v);
		const char *path = tpath(name);
		struct mk_kdump_spec s = kdump_spec(kinds, MK_ZLIB);
		s.version = v;
		s.nr_cpus = 0;	/* v4+: from the notes */
		mk_kdump(path, &s, NULL);
		struct ck_dump *d = open_ok(path);
		if (!d)
			continue;
		const struct ck_dump_info *i = ck_dump_info(d);
		EXPECT(i->header_version == v && i->dump_level == 31, "v%d: %d", v,
		       i->header_version);
		EXPECT((ck_dump_vmcoreinfo(d, NULL) != NULL) == (v >= 3), "v%d vmcoreinfo", v);
		EXPECT(i->nr_cpus == (v >= 4 ? 2u : 0u), "v%d nr_cpus %u", v, i->nr_cpus);
		EXPECT(i->max_pfn == KD_PFNS, "v%d max_pfn", v);
		check_kdump_pages(d, path, kinds, KD_PFNS, 0, KD_PFNS, false);
		ck_dump_destroy(d);
	}
	/* The old diskdump: one bitmap, no sub header */
	struct mk_kdump_spec s = kdump_spec(kinds, MK_ZLIB);
	s.diskdump = true;
	s.version = 1;
	mk_kdump(tpath("diskdump"), &s, NULL);
	struct ck_dump *d = open_ok(tpath("diskdump"));
	if (d) {
		EXPECT(!strcmp(ck_dump_info(d)->origin, "diskdump"), "origin");
		EXPECT(ck_dump_info(d)->dump_level == -1, "level");
		check_kdump_pages(d, tpath("diskdump"), kinds, KD_PFNS, 0, KD_PFNS, false);
		ck_dump_destroy(d);
	}
}

static void test_kdump_qemu_split_incomplete(void)
{
	uint8_t kinds[KD_PFNS];
	/* QEMU: no exclusion, utsname empty but for the machine, QEMU notes */
	for (uint64_t pfn = 0; pfn < KD_PFNS; pfn++)
		kinds[pfn] = pfn >= 40 && pfn < 48 ? MK_NOT_RAM : MK_SNAPPY;
	struct mk_kdump_spec s = kdump_spec(kinds, MK_SNAPPY);
	s.qemu = true;
	s.time = 0;
	s.dump_level = 1;
	mk_kdump(tpath("qemu.kdump"), &s, NULL);
	struct ck_dump *d = open_ok(tpath("qemu.kdump"));
	if (d) {
		const struct ck_dump_info *i = ck_dump_info(d);
		EXPECT(!strcmp(i->origin, "qemu"), "origin %s", i->origin);
		EXPECT(!i->uts_release[0] && !strcmp(i->uts_machine, "x86_64"), "uts");
		EXPECT(i->header_time == 0 && i->dump_level == 1, "fields");
		EXPECT(has_note(d, "QEMU", 0, NULL), "QEMU notes");
		check_kdump_pages(d, tpath("qemu.kdump"), kinds, KD_PFNS, 0, KD_PFNS, false);
		ck_dump_destroy(d);
	}
	/* split: this file holds pfns 30-70 */
	kdump_kinds(kinds, MK_ZSTD);
	s = kdump_spec(kinds, MK_ZSTD);
	s.split_start = 30;
	s.split_end = 70;
	mk_kdump(tpath("split.kdump"), &s, NULL);
	d = open_ok(tpath("split.kdump"));
	if (d) {
		check_kdump_pages(d, tpath("split.kdump"), kinds, KD_PFNS, 30, 70, false);
		uint8_t page[PS];
		struct ck_error *err = ck_dump_read_phys(d, 5 * PS, page, PS);
		EXPECT(err && strstr(msg(err), "split"), "split: %s", msg(err));
		ck_error_destroy(err);
		ck_dump_destroy(d);
	}
	/* incomplete: descriptors from the 20th on were never written */
	s = kdump_spec(kinds, MK_ZSTD);
	s.status = CK_KDUMP_INCOMPLETE;
	s.lost_from = 20;
	mk_kdump(tpath("incomplete.kdump"), &s, NULL);
	d = open_ok(tpath("incomplete.kdump"));
	if (d) {
		EXPECT(ck_dump_info(d)->incomplete, "incomplete");
		uint64_t idx = 0, good = 0, lost = 0;
		uint8_t page[PS], want[PS];
		for (uint64_t pfn = 0; pfn < KD_PFNS; pfn++) {
			if (!mk_kind_saved(kinds[pfn]))
				continue;
			struct ck_error *err = ck_dump_read_phys(d, pfn * PS, page, PS);
			mk_fill(want, pfn * PS, PS);
			if (idx < 20) {
				EXPECT(!err && !memcmp(page, want, PS), "pfn %" PRIu64 ": %s", pfn,
				       msg(err));
				good++;
			} else {
				EXPECT(err && strstr(msg(err), "incomplete") &&
					       !ck_dump_has_page(d, pfn),
				       "lost pfn %" PRIu64 ": %s", pfn, msg(err));
				lost++;
			}
			ck_error_destroy(err);
			idx++;
		}
		EXPECT(good == 20 && lost > 0, "good %" PRIu64, good);
		ck_dump_destroy(d);
	}
}

static void test_flattened(void)
{
	uint8_t kinds[KD_PFNS];
	kdump_kinds(kinds, MK_ZLIB);
	struct mk_kdump_spec ks = kdump_spec(kinds, MK_ZLIB);
	mk_kdump(tpath("flat-src.kdump"), &ks, NULL);
	mk_elf(tpath("flat-src.elf"), &elf_basic);

	static const struct mk_flat_spec specs[] = {
		{ .max_chunk = 4096, .seed = 1 },
		{ .max_chunk = 777, .seed = 2, .shuffle = true },
		{ .max_chunk = 65536, .seed = 3, .rewrite = true },
		{ .max_chunk = 100, .seed = 4, .shuffle = true, .rewrite = true },
		{ .max_chunk = 64, .seed = 6, .skip_zero = true },	/* holes read as zeros */
	};
	for (size_t k = 0; k < CK_ARRAY_SIZE(specs); k++) {
		char name[64];
		snprintf(name, sizeof(name), "flat%zu.kdump", k);
		const char *kpath = tpath(name);
		mk_flatten(tpath("flat-src.kdump"), kpath, &specs[k]);
		struct ck_dump *d = open_ok(kpath);
		if (d) {
			const struct ck_dump_info *i = ck_dump_info(d);
			EXPECT(!strcmp(i->format, "flattened-kdump"), "format %s", i->format);
			EXPECT(!i->truncated && i->expected_size == i->file_size, "sizes");
			struct stat st;
			stat(kpath, &st);
			EXPECT(i->file_size == (uint64_t)st.st_size, "file size");
			EXPECT(ck_dump_vmcoreinfo(d, NULL) != NULL, "vmcoreinfo");
			check_kdump_pages(d, kpath, kinds, KD_PFNS, 0, KD_PFNS, false);
			ck_dump_destroy(d);
		}
		snprintf(name, sizeof(name), "flat%zu.elf", k);
		const char *epath = tpath(name);
		mk_flatten(tpath("flat-src.elf"), epath, &specs[k]);
		d = open_ok(epath);
		if (d) {
			EXPECT(!strcmp(ck_dump_info(d)->format, "flattened-elf"), "format");
			check_elf_pages(d, epath, &elf_basic, false);
			ck_dump_destroy(d);
		}
	}
	/* No end record: open, but truncated */
	struct mk_flat_spec s = { .max_chunk = 4096, .seed = 5, .no_end = true };
	mk_flatten(tpath("flat-src.kdump"), tpath("noend.kdump"), &s);
	struct ck_dump *d = open_ok(tpath("noend.kdump"));
	if (d) {
		EXPECT(ck_dump_info(d)->truncated, "no end record: truncated");
		check_kdump_pages(d, tpath("noend.kdump"), kinds, KD_PFNS, 0, KD_PFNS, true);
		ck_dump_destroy(d);
	}
	/* Bad records */
	struct mk_buf b = { 0 }, in = { 0 };
	mk_read_file(tpath("flat-src.kdump"), &in);
	mk_flatten_buf(&in, &specs[0], &b);
	int64_t neg = (int64_t)htobe64((uint64_t)-5);
	memcpy(b.data + CK_FLAT_HEADER_SIZE, &neg, 8);
	mk_buf_write(&b, tpath("badrec.flat"));
	expect_open_error(tpath("badrec.flat"), CK_ERR_FORMAT, "flattened record at offset 0x1000");
	b.len = 0;
	mk_flatten_buf(&in, &specs[0], &b);
	int64_t type = (int64_t)htobe64(2);
	memcpy(b.data + 16, &type, 8);
	mk_buf_write(&b, tpath("badtype.flat"));
	expect_open_error(tpath("badtype.flat"), CK_ERR_FORMAT, "type");
	b.len = 100;
	mk_buf_write(&b, tpath("shorthead.flat"));
	expect_open_error(tpath("shorthead.flat"), CK_ERR_TRUNCATED, "flattened header");
	free(b.data);
	free(in.data);
}

/* Opens path; if it opens, reads every pfn below a bound.  Nothing must
 * crash, hang or allocate absurdly; errors must name the file. */
static int survive(const char *path)
{
	struct ck_dump *d = NULL;
	struct ck_error *err = ck_dump_open(path, &d);
	if (err) {
		EXPECT(strstr(msg(err), path) != NULL, "error does not name the file: %s",
		       msg(err));
		ck_error_destroy(err);
		return 0;
	}
	const struct ck_dump_info *i = ck_dump_info(d);
	uint8_t *page = malloc(i->page_size);
	uint64_t n = CK_MIN(i->max_pfn, (uint64_t)160);
	for (uint64_t pfn = 0; pfn < n; pfn++) {
		ck_dump_has_page(d, pfn);
		err = ck_dump_read_phys(d, pfn * i->page_size, page, i->page_size);
		if (err)
			EXPECT(strstr(msg(err), path) != NULL || ck_error_code(err) == CK_ERR_NOMEM,
			       "read error does not name the file: %s", msg(err));
		ck_error_destroy(err);
	}
	/* and above 4 GiB, where ELF segments may be */
	for (uint64_t pfn = 0x100000; pfn < 0x100008; pfn++) {
		err = ck_dump_read_phys(d, pfn * i->page_size, page, i->page_size);
		ck_error_destroy(err);
	}
	const struct ck_note *notes;
	size_t nr;
	ck_dump_notes(d, &notes, &nr);
	const struct ck_mem_range *r;
	ck_dump_mem_ranges(d, &r, &nr);
	free(page);
	ck_dump_destroy(d);
	return 1;
}

static void test_bad_inputs(void)
{
	struct mk_buf b = { 0 };
	mk_buf_write(&b, tpath("empty"));
	expect_open_error(tpath("empty"), CK_ERR_NOT_FORMAT, "empty");
	mk_buf_reserve(&b, 65536);
	b.len = 65536;
	memset(b.data, 0, b.len);
	mk_buf_write(&b, tpath("zeros"));
	expect_open_error(tpath("zeros"), CK_ERR_NOT_FORMAT, "not a crash dump");
	mkdir(tpath("dir"), 0700);
	expect_open_error(tpath("dir"), CK_ERR_INVALID, "directory");

	/* Random bytes, alone and behind each format's magic. */
	static const char *const magics[] = { "", "\177ELF\2\1\1", "KDUMP   ", "DISKDUMP",
					      "makedumpfile" };
	uint64_t seed = 12345;
	for (int t = 0; t < 60; t++) {
		size_t len = 1 + mk_rand(&seed) % 20000;
		b.len = 0;
		mk_buf_reserve(&b, len);
		for (size_t k = 0; k < len; k++)
			b.data[k] = mk_rand(&seed);
		b.len = len;
		const char *m = magics[t % CK_ARRAY_SIZE(magics)];
		memcpy(b.data, m, CK_MIN(strlen(m) + (t % 5 == 4), len));
		if (t % 5 == 1 && len > 64) {	/* a plausible ELF core header */
			b.data[16] = ET_CORE;
			b.data[17] = 0;
			b.data[54] = sizeof(Elf64_Phdr);
			b.data[55] = 0;
			b.data[56] = mk_rand(&seed) % 8;
			b.data[57] = 0;
			uint64_t phoff = 64;
			memcpy(b.data + 32, &phoff, 8);
		}
		if (t % 5 == 4 && len > 4200) {	/* flattened header, random records */
			memset(b.data + 13, 0, 3);
			int64_t one = (int64_t)htobe64(1);
			memcpy(b.data + 16, &one, 8);
		}
		mk_buf_write(&b, tpath("random"));
		survive(tpath("random"));
	}
	free(b.data);
}

/* Overwrites each byte of [from, to) with several values and checks the
 * reader survives each. */
static void corrupt_range(const struct mk_buf *orig, const char *path, uint64_t from,
			  uint64_t to, uint64_t step)
{
	static const uint8_t vals[] = { 0x00, 0xff, 0x80, 0x01, 0x7f };
	mk_buf_write(orig, path);
	/* One byte at a time in place: rewriting the whole file per case
	 * would make this test I/O bound. */
	int fd = open(path, O_WRONLY);
	EXPECT(fd >= 0, "open %s", path);
	if (fd < 0)
		return;
	for (uint64_t off = from; off < to && off < orig->len; off += step) {
		for (size_t v = 0; v < CK_ARRAY_SIZE(vals); v++) {
			if (orig->data[off] == vals[v])
				continue;
			if (pwrite(fd, &vals[v], 1, off) != 1)
				abort();
			survive(path);
		}
		if (pwrite(fd, &orig->data[off], 1, off) != 1)
			abort();
	}
	close(fd);
}

static void test_corrupt_fields(void)
{
	struct mk_buf elf = { 0 }, kd = { 0 }, flat = { 0 };
	mk_elf_buf(&elf_basic, &elf);
	/* ELF header, program headers, notes */
	Elf64_Phdr note;
	memcpy(&note, elf.data + sizeof(Elf64_Ehdr), sizeof(note));
	corrupt_range(&elf, tpath("corrupt.elf"), 0, note.p_offset + note.p_filesz, 1);

	/* A small kdump with every kind of page, so that each of the many
	 * corrupted copies is quick to read through. */
	uint8_t kinds[KD_PFNS];
	kdump_kinds(kinds, MK_ZLIB);
	for (uint64_t pfn = 0; pfn < 24; pfn++)
		kinds[pfn] = (uint8_t[]){ MK_RAW, MK_ZLIB, MK_LZO, MK_SNAPPY, MK_ZSTD, MK_EXCLUDED,
					  MK_NOT_RAM, MK_ZLIB }[pfn % 8];
	struct mk_kdump_spec s = kdump_spec(kinds, MK_ZLIB);
	s.max_mapnr = 24;
	struct mk_kdump_layout L;
	mk_kdump_buf(&s, &kd, &L);
	corrupt_range(&kd, tpath("corrupt.kdump"), 0, sizeof(struct ck_kdump_header), 1);
	corrupt_range(&kd, tpath("corrupt.kdump"), L.sub_header,
		      L.sub_header + sizeof(struct ck_kdump_sub_header), 1);
	corrupt_range(&kd, tpath("corrupt.kdump"), L.notes, L.notes + L.notes_len, 3);
	corrupt_range(&kd, tpath("corrupt.kdump"), L.bitmap1, L.bitmap1 + 16, 1);
	corrupt_range(&kd, tpath("corrupt.kdump"), L.bitmap2, L.bitmap2 + 16, 1);
	corrupt_range(&kd, tpath("corrupt.kdump"), L.descs, L.data, 1);
	corrupt_range(&kd, tpath("corrupt.kdump"), L.data, L.end, 257);

	struct mk_flat_spec fs = { .max_chunk = 3000, .seed = 9 };
	mk_flatten_buf(&kd, &fs, &flat);
	corrupt_range(&flat, tpath("corrupt.flat"), 0, 32, 1);
	corrupt_range(&flat, tpath("corrupt.flat"), CK_FLAT_HEADER_SIZE,
		      CK_FLAT_HEADER_SIZE + 16, 1);
	corrupt_range(&flat, tpath("corrupt.flat"), CK_FLAT_HEADER_SIZE + 16, flat.len, 511);

	/* Targeted absurd values in the kdump header. */
	struct {
		size_t off, size;
		uint64_t val;
		enum ck_error_code code;
		const char *needle;
	} cases[] = {
		{ offsetof(struct ck_kdump_header, block_size), 4, 4095, CK_ERR_FORMAT,
		  "block_size" },
		{ offsetof(struct ck_kdump_header, block_size), 4, 1u << 30, CK_ERR_FORMAT,
		  "block_size" },
		{ offsetof(struct ck_kdump_header, sub_hdr_size), 4, (uint32_t)-1, CK_ERR_FORMAT,
		  "sub_hdr_size" },
		{ offsetof(struct ck_kdump_header, sub_hdr_size), 4, 0x7fffffff, CK_ERR_TRUNCATED,
		  "bitmaps" },
		{ offsetof(struct ck_kdump_header, bitmap_blocks), 4, 0xffffffff,
		  CK_ERR_TRUNCATED, "bitmaps" },
		{ offsetof(struct ck_kdump_header, bitmap_blocks), 4, 0, CK_ERR_FORMAT,
		  "bitmap_blocks" },
		{ offsetof(struct ck_kdump_header, header_version), 4, (uint32_t)-3,
		  CK_ERR_FORMAT, "header_version" },
		{ L.sub_header + offsetof(struct ck_kdump_sub_header, max_mapnr_64), 8,
		  1ull << 60, CK_ERR_FORMAT, "max_mapnr" },
		{ L.sub_header + offsetof(struct ck_kdump_sub_header, offset_note), 8,
		  1ull << 50, CK_ERR_TRUNCATED, "ELF notes" },
		{ L.sub_header + offsetof(struct ck_kdump_sub_header, size_note), 8,
		  UINT64_MAX, CK_ERR_TRUNCATED, "ELF notes" },
		{ L.sub_header + offsetof(struct ck_kdump_sub_header, offset_note), 8,
		  (uint64_t)-4096, CK_ERR_TRUNCATED, "ELF notes" },
		{ L.notes + 4, 4, 0xfffffff0, CK_ERR_FORMAT, "n_descsz" },
		{ L.sub_header + offsetof(struct ck_kdump_sub_header, split), 4, 1,
		  CK_ERR_FORMAT, "split" },
	};
	struct mk_buf b = { 0 };
	for (size_t k = 0; k < CK_ARRAY_SIZE(cases); k++) {
		b.len = 0;
		mk_buf_put(&b, 0, kd.data, kd.len);
		uint64_t v = htole64(cases[k].val);
		memcpy(b.data + cases[k].off, &v, cases[k].size);
		if (cases[k].needle && !strcmp(cases[k].needle, "split")) {
			/* split with a range past max_mapnr */
			uint64_t e = htole64(1000);
			memcpy(b.data + L.sub_header +
				       offsetof(struct ck_kdump_sub_header, end_pfn_64),
			       &e, 8);
		}
		mk_buf_write(&b, tpath("absurd.kdump"));
		expect_open_error(tpath("absurd.kdump"), cases[k].code, cases[k].needle);
	}
	/* Bad page descriptors: open fine, the page read fails clearly. */
	struct {
		size_t field;
		uint64_t val;
		size_t size;
		const char *needle;
	} descs[] = {
		{ offsetof(struct ck_kdump_page_desc, offset), 1ull << 40, 8, "truncated" },
		{ offsetof(struct ck_kdump_page_desc, offset), (uint64_t)-1, 8, "bad page descriptor" },
		{ offsetof(struct ck_kdump_page_desc, size), PS + 1, 4, "bad page descriptor" },
		{ offsetof(struct ck_kdump_page_desc, size), 0, 4, "bad page descriptor" },
		{ offsetof(struct ck_kdump_page_desc, flags), 3, 4, "several compression" },
		{ offsetof(struct ck_kdump_page_desc, flags), 0, 4, "uncompressed page" },
		{ offsetof(struct ck_kdump_page_desc, flags), CK_KDUMP_COMPRESSED_LZO, 4, "lzo" },
	};
	/* descriptor index 1 is pfn 1 (pfn 0 is RAW, pfn 1 zlib) */
	for (size_t k = 0; k < CK_ARRAY_SIZE(descs); k++) {
		b.len = 0;
		mk_buf_put(&b, 0, kd.data, kd.len);
		uint64_t v = htole64(descs[k].val);
		memcpy(b.data + L.descs + sizeof(struct ck_kdump_page_desc) + descs[k].field, &v,
		       descs[k].size);
		mk_buf_write(&b, tpath("baddesc.kdump"));
		struct ck_dump *d = open_ok(tpath("baddesc.kdump"));
		if (!d)
			continue;
		uint8_t page[PS];
		struct ck_error *err = ck_dump_read_phys(d, 1 * PS, page, PS);
		EXPECT(err && strstr(msg(err), descs[k].needle) && strstr(msg(err), "pfn 0x1"),
		       "desc case %zu: %s", k, msg(err));
		ck_error_destroy(err);
		ck_dump_destroy(d);
	}
	free(b.data);
	free(elf.data);
	free(kd.data);
	free(flat.data);
}

static int cmp_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x > y ? -1 : x < y;
}

/* Cuts points: every 1% and around each boundary. */
static size_t cut_points(uint64_t size, const uint64_t *bounds, size_t nr_bounds, uint64_t *out)
{
	size_t n = 0;
	for (int pct = 0; pct < 100; pct++)
		out[n++] = size * pct / 100;
	for (size_t i = 0; i < nr_bounds; i++)
		for (int d = -1; d <= 1; d++)
			if (bounds[i] + d < size && bounds[i] + d > 0)
				out[n++] = bounds[i] + d;
	return n;
}

/* Writes each cut of orig and checks: an error (TRUNCATED, or NOT_FORMAT
 * when even the magic is gone), or an open dump flagged truncated whose
 * pages read right or fail with TRUNCATED/FAULT. */
static void check_cuts(const struct mk_buf *orig, const char *path, const uint64_t *cuts,
		       size_t nr_cuts, uint64_t expected, bool exact,
		       void (*pages)(struct ck_dump *, const char *), int *opened)
{
	/* Cut the file shorter and shorter in place: sort descending. */
	uint64_t *sorted = malloc(nr_cuts * sizeof(uint64_t));
	memcpy(sorted, cuts, nr_cuts * sizeof(uint64_t));
	qsort(sorted, nr_cuts, sizeof(uint64_t), cmp_desc);
	cuts = sorted;
	mk_buf_write(orig, path);
	for (size_t c = 0; c < nr_cuts; c++) {
		if (truncate(path, cuts[c]) < 0)
			abort();
		struct ck_dump *d = NULL;
		struct ck_error *err = ck_dump_open(path, &d);
		if (err) {
			enum ck_error_code code = ck_error_code(err);
			EXPECT(code == CK_ERR_TRUNCATED || (code == CK_ERR_NOT_FORMAT && cuts[c] < 16),
			       "cut at 0x%" PRIx64 ": code %d: %s", cuts[c], code, msg(err));
			EXPECT(strstr(msg(err), path) != NULL, "cut error lacks file: %s", msg(err));
			ck_error_destroy(err);
			continue;
		}
		(*opened)++;
		const struct ck_dump_info *i = ck_dump_info(d);
		EXPECT(i->truncated, "cut at 0x%" PRIx64 " of 0x%zx: not flagged truncated",
		       cuts[c], orig->len);
		/* The exact size when the headers say it (ELF, kdump with its
		 * descriptors intact); otherwise at least more than we have. */
		if (expected)
			EXPECT(i->file_size == cuts[c] && i->expected_size > cuts[c] &&
				       i->expected_size <= expected &&
				       (!exact || i->expected_size == expected),
			       "cut at 0x%" PRIx64 ": expected 0x%" PRIx64 " (want 0x%" PRIx64 ")",
			       cuts[c], i->expected_size, expected);
		pages(d, path);
		ck_dump_destroy(d);
	}
	free(sorted);
}

static uint8_t trunc_kinds[KD_PFNS];

static void trunc_elf_pages(struct ck_dump *d, const char *path)
{
	check_elf_pages(d, path, &elf_basic, true);
}

static void trunc_kdump_pages(struct ck_dump *d, const char *path)
{
	check_kdump_pages(d, path, trunc_kinds, KD_PFNS, 0, KD_PFNS, true);
}

static void test_truncation(void)
{
	static uint64_t cuts[4096];
	int opened = 0;

	/* ELF: boundaries are the header, phdrs, notes and each segment. */
	struct mk_buf elf = { 0 };
	mk_elf_buf(&elf_basic, &elf);
	uint64_t bounds[64];
	size_t nb = 0;
	bounds[nb++] = sizeof(Elf64_Ehdr);
	for (size_t k = 0; k <= elf_basic.nr_segs; k++) {
		Elf64_Phdr ph;
		memcpy(&ph, elf.data + sizeof(Elf64_Ehdr) + k * sizeof(ph), sizeof(ph));
		bounds[nb++] = sizeof(Elf64_Ehdr) + (k + 1) * sizeof(ph);
		bounds[nb++] = ph.p_offset;
		bounds[nb++] = ph.p_offset + ph.p_filesz;
		bounds[nb++] = ph.p_offset + ph.p_filesz / 2;
	}
	size_t n = cut_points(elf.len, bounds, nb, cuts);
	check_cuts(&elf, tpath("cut.elf"), cuts, n, elf.len, true, trunc_elf_pages, &opened);
	EXPECT(opened > 90, "only %d ELF cuts opened", opened);

	/* kdump with each codec */
	for (size_t c = 0; c < CK_ARRAY_SIZE(codec_kinds); c++) {
		kdump_kinds(trunc_kinds, codec_kinds[c]);
		struct mk_kdump_spec s = kdump_spec(trunc_kinds, codec_kinds[c]);
		struct mk_buf kd = { 0 };
		struct mk_kdump_layout L;
		mk_kdump_buf(&s, &kd, &L);
		uint64_t kb[] = { sizeof(struct ck_kdump_header), L.sub_header,
				  L.sub_header + sizeof(struct ck_kdump_sub_header),
				  L.notes + L.notes_len, L.bitmap1, L.bitmap2,
				  L.bitmap2 + L.bitmap_len,
				  L.descs + 24 * L.nr_descs / 2, L.data, L.data + PS,
				  (L.data + L.end) / 2, L.end - 1 };
		n = cut_points(kd.len, kb, CK_ARRAY_SIZE(kb), cuts);
		/* With the descriptors intact, the expected size is exact. */
		uint64_t mid = (L.data + L.end) / 2;
		opened = 0;
		check_cuts(&kd, tpath("cut.kdump"), &mid, 1, L.end, true, trunc_kdump_pages,
			   &opened);
		EXPECT(opened == 1, "cut in the page data did not open");
		opened = 0;
		check_cuts(&kd, tpath("cut.kdump"), cuts, n, L.end, false, trunc_kdump_pages, &opened);
		EXPECT(opened > 50, "only %d %s cuts opened", opened, codec_names[c]);

		/* and its flattened stream, in order and shuffled */
		for (int shuffle = 0; shuffle < 2; shuffle++) {
			struct mk_flat_spec fs = { .max_chunk = 5000, .seed = 11 + c,
						   .shuffle = shuffle };
			struct mk_buf flat = { 0 };
			mk_flatten_buf(&kd, &fs, &flat);
			uint64_t fb[] = { CK_FLAT_HEADER_SIZE, CK_FLAT_HEADER_SIZE + 16 };
			n = cut_points(flat.len, fb, CK_ARRAY_SIZE(fb), cuts);
			opened = 0;
			check_cuts(&flat, tpath("cut.flat"), cuts, n, 0, false, trunc_kdump_pages,
				   &opened);
			if (!shuffle)
				EXPECT(opened > 50, "only %d flattened cuts opened", opened);
			free(flat.data);
		}
		free(kd.data);
	}
	free(elf.data);
}

int main(void)
{
	int r = harness_begin("dump");
	if (r)
		return r;
	run("ck_file bounds and messages", test_file);
	run("codecs: round trip, strict size, garbage", test_codecs);
	run("ELF: ranges, notes, overlap, partial pages, excluded tails", test_elf_basic);
	run("ELF: QEMU, incomplete, arm64, unsupported and corrupt headers", test_elf_variants);
	run("kdump v6: zlib, lzo, snappy, zstd, mixed, raw, excluded, large", test_kdump_codecs);
	run("kdump: header versions 1-7 and DISKDUMP", test_kdump_versions);
	run("kdump: QEMU, split, incomplete", test_kdump_qemu_split_incomplete);
	run("flattened: in order, shuffled, rewritten, no end record, bad records",
	    test_flattened);
	run("bad inputs: empty, zeros, directory, random", test_bad_inputs);
	run("corrupt header fields, bitmaps, descriptors, records", test_corrupt_fields);
	run("truncation at every 1% and around each boundary", test_truncation);
	return harness_end();
}
