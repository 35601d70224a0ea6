/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the fuzz targets share (docs/fuzzing.md): the input as a file the
 * library opens by path (a memfd, named /proc/self/fd/N), a synthetic
 * kernel from tests/mkdump.h whose memory is written once and whose
 * VMCOREINFO note and chosen bytes are rewritten per input, and the
 * "--make-seeds=DIR" mode every target has: it writes the seed corpus from
 * the test generators and exits.
 *
 * Each target includes it first and defines fz_seeds(dir) and
 * LLVMFuzzerTestOneInput().
 */
#ifndef CRASHKIT_TESTS_FUZZ_H
#define CRASHKIT_TESTS_FUZZ_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../mkdump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Writes the seed corpus into dir (which exists). */
static void fz_seeds(const char *dir);

static void fz_pwrite(int fd, const void *p, size_t len, uint64_t off)
{
	const uint8_t *b = p;
	while (len) {
		ssize_t n = pwrite(fd, b, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			abort();
		b += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
}

/* A memfd and the path that opens it again. */
static int fz_memfd(const char *name, char path[64])
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0)
		abort();
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	return fd;
}

/* A file of our own for readers that will not follow /proc/self/fd's
 * symbolic links (O_NOFOLLOW): $TMPDIR/fuzz-NAME-PID, removed at exit. */
static char fz_tmp_path[4096];

static void fz_tmp_remove(void)
{
	unlink(fz_tmp_path);
}

static int fz_tmpfile(const char *name, char path[4096])
{
	const char *tmp = getenv("TMPDIR");
	snprintf(fz_tmp_path, sizeof(fz_tmp_path), "%s/fuzz-%s-%d", tmp && *tmp ? tmp : "/tmp",
		 name, (int)getpid());
	int fd = open(fz_tmp_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	atexit(fz_tmp_remove);
	memcpy(path, fz_tmp_path, sizeof(fz_tmp_path));
	return fd;
}

/* The file becomes exactly these bytes. */
static void fz_set(int fd, const void *p, size_t len)
{
	if (ftruncate(fd, 0) < 0)
		abort();
	if (len)
		fz_pwrite(fd, p, len, 0);
}

/* One seed file: dir/name. */
static void fz_seed(const char *dir, const char *name, const void *p, size_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || (len && fwrite(p, 1, len, f) != len) || fclose(f)) {
		fprintf(stderr, "seed %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

/* "--make-seeds=DIR" (libFuzzer passes "--" arguments through untouched). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	for (int i = 1; i < *argc; i++) {
		const char *a = (*argv)[i];
		if (!strncmp(a, "--make-seeds=", 13)) {
			mkdir(a + 13, 0755);
			fz_seeds(a + 13);
			exit(0);
		}
	}
	return 0;
}

/* ---- a synthetic kernel in a memfd ------------------------------------- */

/*
 * The ELF vmcore of an mk_kmem: ELF header, program headers and notes at the
 * start (rewritten per input, so VMCOREINFO can change), the memory at
 * FZ_MEM_OFF (written once; targets patch the parts they fuzz).
 */
#define FZ_MEM_OFF (64 * 1024)

struct fz_kernel {
	int fd;
	char path[64];
	struct mk_kmem k;
};

/* k is set up; its memory goes to a new memfd. */
static void fz_kernel_begin(struct fz_kernel *f, const char *name)
{
	f->fd = fz_memfd(name, f->path);
	fz_pwrite(f->fd, f->k.mem, f->k.size, FZ_MEM_OFF);
}

/* The headers with this VMCOREINFO text (any bytes); false if they do not
 * fit before the memory. */
static bool fz_kernel_header(struct fz_kernel *f, const void *vmci, size_t len)
{
	struct mk_buf notes = { 0 };
	uint8_t prstatus[336];
	memset(prstatus, 0x40, sizeof(prstatus));
	mk_note(&notes, "CORE", NT_PRSTATUS, prstatus, sizeof(prstatus));
	mk_note(&notes, "VMCOREINFO", 0, vmci, len);
	Elf64_Ehdr eh;
	mk_elf_header(&eh, EM_X86_64, 2);
	Elf64_Phdr ph[2];
	memset(ph, 0, sizeof(ph));
	uint64_t note_off = sizeof(eh) + sizeof(ph);
	if (note_off + notes.len > FZ_MEM_OFF) {
		free(notes.data);
		return false;
	}
	ph[0].p_type = PT_NOTE;
	ph[0].p_offset = note_off;
	ph[0].p_filesz = ph[0].p_memsz = notes.len;
	ph[1].p_type = PT_LOAD;
	ph[1].p_flags = PF_R | PF_W | PF_X;
	ph[1].p_offset = FZ_MEM_OFF;
	ph[1].p_vaddr = f->k.direct;
	ph[1].p_filesz = ph[1].p_memsz = f->k.size;
	fz_pwrite(f->fd, &eh, sizeof(eh), 0);
	fz_pwrite(f->fd, ph, sizeof(ph), sizeof(eh));
	fz_pwrite(f->fd, notes.data, notes.len, note_off);
	free(notes.data);
	return true;
}

/* Physical bytes [pa, pa + len) of the dump become p. */
static void fz_kernel_patch(struct fz_kernel *f, uint64_t pa, const void *p, size_t len)
{
	if (pa + len > f->k.size)
		abort();
	fz_pwrite(f->fd, p, len, FZ_MEM_OFF + pa);
}

/* Opens the dump and the kernel in it; on failure nothing stays open. */
static struct ck_error *fz_kernel_open(struct fz_kernel *f, struct ck_dump **dump_ret,
				       struct ck_kernel **kernel_ret)
{
	struct ck_dump *dump;
	struct ck_error *err = ck_dump_open(f->path, &dump);
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

/* Errors are expected; they must be well formed. */
static void fz_drop(struct ck_error *err)
{
	static int debug = -1;
	if (debug < 0)
		debug = getenv("FZ_DEBUG") != NULL;
	if (err && !ck_error_message(err))
		abort();
	if (err && debug)
		fprintf(stderr, "fz: %s\n", ck_error_message(err));
	ck_error_destroy(err);
}

#endif /* CRASHKIT_TESTS_FUZZ_H */
