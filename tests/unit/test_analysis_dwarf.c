/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/analysis/debuginfo.c: which VMLINUX is taken for a dump.
 * A small kernel (tests/mkdump.h mk_kmem) with or without VMCOREINFO's
 * BUILD-ID, and hand-written ELF files for the vmlinux: not there, not ELF,
 * not a kernel image, another build id (refused, or taken with --force),
 * the same build id without DWARF.  The source lines of a real vmlinux are
 * the lab's job (tests/labtests/analyze_dwarf.sh), through this program:
 *
 *   test_analysis_dwarf DUMP VMLINUX ADDR...   prints "ADDR FILE: LINE" per
 *                                              address (hex), or
 *                                              "ADDR error: ..."
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "analysis/analysis.h"
#include "../mkdump.h"
#include "../harness.h"

static const char dump_id[] = "00112233445566778899aabbccddeeff00112233";

/* An ELF64 x86_64 file of type, with a PT_NOTE holding a GNU build id of
 * the 20 bytes id, or no note when id is NULL. */
static void write_elf(const char *path, uint16_t type, const uint8_t *id)
{
	struct mk_buf out = { 0 };
	Elf64_Ehdr eh;
	mk_elf_header(&eh, EM_X86_64, id ? 1 : 0);
	eh.e_type = type;
	mk_buf_put(&out, 0, &eh, sizeof(eh));
	if (id) {
		Elf64_Phdr ph = { .p_type = PT_NOTE, .p_offset = sizeof(eh) + sizeof(ph) };
		uint32_t hdr[3] = { 4, 20, NT_GNU_BUILD_ID };
		uint8_t note[12 + 4 + 20];
		memcpy(note, hdr, 12);
		memcpy(note + 12, "GNU", 4);
		memcpy(note + 16, id, 20);
		ph.p_filesz = ph.p_memsz = sizeof(note);
		ph.p_align = 4;
		mk_buf_put(&out, sizeof(eh), &ph, sizeof(ph));
		mk_buf_put(&out, ph.p_offset, note, sizeof(note));
	}
	if (mk_buf_write(&out, path))
		abort();
	free(out.data);
}

static struct ck_analysis *open_kernel(const char *name, bool with_id)
{
	struct mk_kmem k;
	mk_kmem_init(&k, 4 << 20);
	if (with_id)
		mk_kmem_vmci(&k, "BUILD-ID=%s\n", dump_id);
	if (mk_kmem_write(&k, tpath(name)))
		abort();
	mk_kmem_deinit(&k);
	const char *paths[1] = { tpath(name) };
	struct ck_analysis *a = NULL;
	if (!no_error(ck_analysis_open(paths, 1, NULL, &a)))
		return NULL;
	a->err = stdout;
	return a;
}

static char warned[1024];

static void warn_cb(void *arg, const char *msg)
{
	snprintf(warned, sizeof(warned), "%s", msg);
}

static void test_refusals(void)
{
	struct ck_analysis *a = open_kernel("kernel.elf", true);
	if (!a) {
		check(false, "open the synthetic kernel");
		return;
	}
	const struct ck_analysis_vmlinux_opts force = { .force = true, .warn = warn_cb };
	const char *file = NULL;
	int line = 0;
	check(is_error(ck_debuginfo_line(a, 0xffffffff81000000ull, &file, &line), CK_ERR_NOT_FOUND,
		       "no vmlinux given"), "no vmlinux: no lines");
	check(is_error(ck_analysis_set_vmlinux(a, tpath("absent"), NULL), CK_ERR_OS,
		       "cannot open"), "a missing vmlinux");

	FILE *f = fopen(tpath("text"), "w");
	if (!f)
		abort();
	fputs("not an ELF file at all\n", f);
	fclose(f);
	check(is_error(ck_analysis_set_vmlinux(a, tpath("text"), &force), CK_ERR_FORMAT,
		       "not an ELF file"), "a text file, even with --force");

	uint8_t other[20], same[20];
	for (int i = 0; i < 20; i++) {
		other[i] = (uint8_t)(0xa0 + i);
		sscanf(dump_id + 2 * i, "%2hhx", &same[i]);
	}
	write_elf(tpath("dyn"), ET_DYN, same);
	check(is_error(ck_analysis_set_vmlinux(a, tpath("dyn"), NULL), CK_ERR_FORMAT,
		       "not an x86_64 kernel image"), "a shared object is no vmlinux");

	write_elf(tpath("other"), ET_EXEC, other);
	check(is_error(ck_analysis_set_vmlinux(a, tpath("other"), NULL), CK_ERR_INVALID,
		       "does not match the dump: build id a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3, "
		       "the dump's 00112233445566778899aabbccddeeff00112233"),
	      "another build id is refused, saying both");
	check(!ck_debuginfo_present(a), "the refused vmlinux is not kept");
	warned[0] = '\0';
	check(is_error(ck_analysis_set_vmlinux(a, tpath("other"), &force), CK_ERR_NOT_FOUND,
		       "has no DWARF"), "with --force, the lack of DWARF is what stops it");
	check(strstr(warned, "does not match") && strstr(warned, "using it anyway (--force)"),
	      "--force warns of the mismatch: %s", warned);

	write_elf(tpath("noid"), ET_EXEC, NULL);
	check(is_error(ck_analysis_set_vmlinux(a, tpath("noid"), NULL), CK_ERR_INVALID,
		       "has no build id, the dump's is 00112233"), "a vmlinux without build id");

	write_elf(tpath("same"), ET_EXEC, same);
	check(is_error(ck_analysis_set_vmlinux(a, tpath("same"), NULL), CK_ERR_NOT_FOUND,
		       "has no DWARF"), "the right build id, but no DWARF (a stripped vmlinux)");
	check(no_error(ck_analysis_set_vmlinux(a, NULL, NULL)), "forgetting no vmlinux");
	ck_analysis_destroy(a);

	a = open_kernel("noid.elf", false);
	if (!a)
		return;
	check(is_error(ck_analysis_set_vmlinux(a, tpath("same"), NULL), CK_ERR_INVALID,
		       "cannot check that VMLINUX"),
	      "no BUILD-ID in the dump and no banner: cannot check");
	ck_analysis_destroy(a);
}

/* The lab's mode: source lines of addresses in a real dump. */
static int lines(int argc, char **argv)
{
	const char *paths[1] = { argv[1] };
	struct ck_analysis *a;
	struct ck_error *err = ck_analysis_open(paths, 1, NULL, &a);
	if (!err)
		err = ck_analysis_set_vmlinux(a, argv[2], NULL);
	if (err) {
		fprintf(stderr, "error: %s\n", ck_error_message(err));
		ck_error_destroy(err);
		return 1;
	}
	for (int i = 3; i < argc; i++) {
		uint64_t addr = strtoull(argv[i], NULL, 16);
		const char *file;
		int line;
		err = ck_debuginfo_line(a, addr, &file, &line);
		if (err) {
			printf("%016" PRIx64 " error: %s\n", addr, ck_error_message(err));
			ck_error_destroy(err);
		} else {
			printf("%016" PRIx64 " %s: %d\n", addr, file, line);
		}
	}
	ck_analysis_set_vmlinux(a, NULL, NULL);
	ck_analysis_destroy(a);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3)
		return lines(argc, argv);
	if (harness_begin("analysis_dwarf"))
		return 2;
	test_refusals();
	return harness_end();
}
