/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ck-poke: writes bytes into the kernel memory an ELF vmcore holds, in
 * place, at a kernel symbol plus an offset: a test makes a dump say what a
 * crashed kernel could have said (hardware error counters, say) without
 * crashing one that way.  The address goes through the dump's own page
 * tables; the ELF PT_LOAD holding the physical address says where in the
 * file.  Work on a copy.
 *
 * usage: ck-poke DUMP.elf SYMBOL OFFSET HEXBYTES   (e.g. hwerr_data 16 03000000)
 */
#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crashkit.h"

static int die(const char *what, struct ck_error *err)
{
	fprintf(stderr, "ck-poke: %s: %s\n", what, err ? ck_error_message(err) : "failed");
	return 1;
}

static int phys_of(const char *path, const char *sym, uint64_t off, uint64_t *pa)
{
	struct ck_dump *dump;
	struct ck_kernel *kernel;
	struct ck_symbol s;
	struct ck_error *err = ck_dump_open(path, &dump);
	if (err)
		return die(path, err);
	if (!(err = ck_kernel_create(dump, &kernel))) {
		if (!(err = ck_kernel_symbol_by_name(kernel, sym, &s)))
			err = ck_kernel_virt_to_phys(kernel, s.address + off, pa);
		ck_kernel_destroy(kernel);
	}
	ck_dump_destroy(dump);
	return err ? die(sym, err) : 0;
}

/* The file offset of physical address pa, from the PT_LOADs. */
static int file_offset(int fd, uint64_t pa, size_t len, uint64_t *ret)
{
	Elf64_Ehdr eh;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr))
		return die("not a 64-bit ELF vmcore", NULL);
	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) != sizeof(ph))
			return die("program headers", NULL);
		if (ph.p_type == PT_LOAD && pa >= ph.p_paddr && pa + len <= ph.p_paddr + ph.p_filesz) {
			*ret = ph.p_offset + (pa - ph.p_paddr);
			return 0;
		}
	}
	return die("no PT_LOAD holds the address", NULL);
}

int main(int argc, char **argv)
{
	if (argc != 5 || strlen(argv[4]) % 2 || strlen(argv[4]) > 512) {
		fprintf(stderr, "usage: ck-poke DUMP.elf SYMBOL OFFSET HEXBYTES\n");
		return 2;
	}
	uint8_t bytes[256];
	size_t n = strlen(argv[4]) / 2;
	for (size_t i = 0; i < n; i++) {
		char h[3] = { argv[4][2 * i], argv[4][2 * i + 1], 0 };
		char *end;
		bytes[i] = (uint8_t)strtoul(h, &end, 16);
		if (*end)
			return die("HEXBYTES", NULL);
	}
	uint64_t pa, off;
	int rc = phys_of(argv[1], argv[2], strtoull(argv[3], NULL, 0), &pa);
	if (rc)
		return rc;
	int fd = open(argv[1], O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return die(argv[1], NULL);
	rc = file_offset(fd, pa, n, &off);
	if (!rc && pwrite(fd, bytes, n, (off_t)off) != (ssize_t)n)
		rc = die("write", NULL);
	close(fd);
	if (!rc)
		printf("%s+%s: physical 0x%" PRIx64 ", file offset 0x%" PRIx64 ", %zu bytes\n", argv[2],
		       argv[3], pa, off, n);
	return rc;
}
