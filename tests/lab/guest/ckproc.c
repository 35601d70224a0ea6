/*
 * ckproc: a tiny guest helper for the crashkit lab.
 *
 * The lab needs processes whose name, CPU and open files are known in
 * advance, so tests can check what a dump analyser finds against the
 * truth.  Each mode sets its comm (what ps and task_struct->comm show)
 * with prctl(PR_SET_NAME) and then does one simple thing forever.
 *
 *   ckproc busy  COMM CPU           spin on CPU (state R at crash time)
 *   ckproc sleep COMM               sleep (state S)
 *   ckproc files COMM PATH...       open PATHs as fds 10,11,... and sleep
 *   ckproc fill  COMM MIB [PATH]    fill MIB of memory (or of PATH) with zero/random/text,
 *                                   then create /tmp/COMM.ready
 *   ckproc crash COMM CPU [PATH WORD]
 *                                   panic the kernel from CPU via sysrq 'c', or
 *                                   by writing WORD to PATH (/proc/ck_crashmod)
 *
 * It is linked statically so the guest needs no libc for it.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/* First fd for "files" mode: fixed so the truth does not depend on
 * which fds the parent happened to leave open. */
#define FIRST_FILE_FD 10

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void pin(const char *cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(atoi(cpu), &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

static void sleep_forever(void)
{
	for (;;)
		pause();
}

static void hold_files(int n, char **paths)
{
	for (int i = 0; i < n; i++) {
		int fd = open(paths[i], O_RDWR | O_CREAT | O_TRUNC, 0644);
		char line[256];
		int len;

		if (fd < 0)
			die(paths[i]);
		/* Some content, so the file's page cache is in the dump too. */
		len = snprintf(line, sizeof(line), "ckproc file %d: %s\n", i, paths[i]);
		if (write(fd, line, len) != len)
			die("write");
		if (dup2(fd, FIRST_FILE_FD + i) < 0)
			die("dup2");
		if (fd != FIRST_FILE_FD + i)
			close(fd);
	}
	sleep_forever();
}

/* Thirds of the area: untouched zeros (calloc-like), xorshift noise, and
 * a repeated text line.  Dump filters treat each kind differently.  With
 * PATH (a brd ramdisk), the same bytes go there with O_DIRECT instead of
 * into this process: brd's pages are neither page cache nor user memory,
 * so they survive dump level 31 (and O_DIRECT keeps a second copy out of
 * the block device's page cache). */
/* Bytes [off, off + len) of the pattern into p; words where possible,
 * as TCG makes a per-byte loop over hundreds of MiB slow. */
static void fill_range(unsigned char *p, size_t off, size_t len, size_t third,
		       unsigned long *x)
{
	static const char text[] = "crashkit-lab fill text: the quick brown fox\n";
	const size_t tlen = sizeof(text) - 1;

	for (size_t i = 0; i < len;) {
		size_t at = off + i;

		if (at < third) {
			size_t n = third - at < len - i ? third - at : len - i;

			memset(p + i, 0, n);
			i += n;
		} else if (at < 2 * third) {
			if (at + 8 <= 2 * third && i + 8 <= len) {
				*x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
				memcpy(p + i, x, 8);
				i += 8;
			} else {
				*x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
				p[i++] = (unsigned char)*x;
			}
		} else {
			size_t t = (at - 2 * third) % tlen, n = tlen - t;

			if (n > len - i)
				n = len - i;
			memcpy(p + i, text + t, n);
			i += n;
		}
	}
}

static void fill(const char *comm, long mib, const char *path)
{
	char ready[64];
	size_t size = (size_t)mib << 20, third = size / 3;
	unsigned long x = 88172645463325252UL;

	if (path) {
		size_t blk = 1 << 20;
		unsigned char *buf;
		int fd = open(path, O_WRONLY | O_DIRECT);

		if (fd < 0)
			die(path);
		if (posix_memalign((void **)&buf, 4096, blk))
			die("posix_memalign");
		for (size_t off = 0; off < size; off += blk) {
			fill_range(buf, off, blk, third, &x);
			if (pwrite(fd, buf, blk, off) != (ssize_t)blk)
				die("pwrite");
		}
		close(fd);
	} else {
		unsigned char *p = malloc(size);

		if (!p)
			die("malloc");
		fill_range(p, 0, size, third, &x);
	}
	/* Tell init the memory is in place (filling takes a while on TCG). */
	snprintf(ready, sizeof(ready), "/tmp/%s.ready", comm);
	close(open(ready, O_WRONLY | O_CREAT, 0644));
	sleep_forever();
}

int main(int argc, char **argv)
{
	const char *mode = argc > 2 ? argv[1] : "";

	if (argc > 2 && prctl(PR_SET_NAME, argv[2], 0, 0, 0))
		die("prctl");

	if (!strcmp(mode, "busy") && argc == 4) {
		pin(argv[3]);
		for (volatile unsigned long n = 0;; n++)
			;
	} else if (!strcmp(mode, "sleep") && argc == 3) {
		sleep_forever();
	} else if (!strcmp(mode, "files") && argc > 3) {
		hold_files(argc - 3, argv + 3);
	} else if (!strcmp(mode, "fill") && (argc == 4 || argc == 5)) {
		fill(argv[2], atol(argv[3]), argc == 5 ? argv[4] : NULL);
	} else if (!strcmp(mode, "crash") && (argc == 4 || argc == 6)) {
		const char *path = argc == 6 ? argv[4] : "/proc/sysrq-trigger";
		const char *word = argc == 6 ? argv[5] : "c";
		int fd;

		pin(argv[3]);
		fd = open(path, O_WRONLY);
		if (fd < 0)
			die(path);
		if (write(fd, word, strlen(word)) != (ssize_t)strlen(word))
			die(argc == 6 ? "write" : "sysrq write");
		/* Not reached when the kernel panics (a hung task never
		 * returns from the write either). */
		fprintf(stderr, "ckproc: still alive after %s %s\n",
			argc == 6 ? path : "sysrq", word);
		return 1;
	}
	fprintf(stderr,
		"usage: ckproc busy COMM CPU | sleep COMM | files COMM PATH... |\n"
		"              fill COMM MIB [PATH] | crash COMM CPU [PATH WORD]\n");
	return 2;
}
