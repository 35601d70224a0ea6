/* A program that dies the way it is told: segv, abort, fpe, bus, threads,
 * big MIB, random MIB (incompressible heap).  Test input for tests/cli/cores.sh and bench/cores.sh. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile int zero;
static pthread_barrier_t barrier;

__attribute__((noinline)) static void do_segv(void)
{
	volatile int *p = (int *)16;
	*p = 1;
}

__attribute__((noinline)) static void do_abort(void)
{
	abort();
}

__attribute__((noinline)) static void do_fpe(void)
{
	/* Both operands unknown to the compiler, so it must divide. */
	volatile int num = 7;
	volatile int x = num / zero;
	(void)x;
}

__attribute__((noinline)) static void do_bus(void)
{
	char path[] = "/tmp/crasher-bus.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, 4096) < 0)
		exit(3);
	volatile char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		exit(3);
	unlink(path);
	if (ftruncate(fd, 0) < 0)
		exit(3);
	p[0] = 1;	/* past the end of the file: SIGBUS */
}

__attribute__((noinline)) static void worker_wait(void)
{
	pthread_barrier_wait(&barrier);
	for (;;)
		pause();
}

static void *worker(void *arg)
{
	(void)arg;
	worker_wait();
	return NULL;
}

__attribute__((noinline)) static void do_threads(void)
{
	pthread_t t[8];
	pthread_barrier_init(&barrier, NULL, 8);
	for (int i = 0; i < 7; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	pthread_barrier_wait(&barrier);
	usleep(100000);	/* let every worker reach pause() */
	do_segv();
}

__attribute__((noinline)) static void do_big(size_t mib)
{
	size_t len = mib << 20;
	unsigned char *p = malloc(len);
	if (!p)
		exit(3);
	/* Compressible like a real heap, not all zeros. */
	for (size_t i = 0; i < len; i += 64)
		memset(p + i, (int)(i >> 12), 64 - (i >> 12 & 31));
	do_segv();
	free(p);
}

__attribute__((noinline)) static void do_random(size_t mib)
{
	/* Incompressible: fills a disk as fast as it is written. */
	size_t len = mib << 20;
	uint64_t *p = malloc(len), x = 0x9e3779b97f4a7c15ULL;
	if (!p)
		exit(3);
	for (size_t i = 0; i < len / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = x;
	}
	do_segv();
	free(p);
}

int main(int argc, char **argv)
{
	const char *how = argc > 1 ? argv[1] : "segv";
	if (!strcmp(how, "segv"))
		do_segv();
	else if (!strcmp(how, "abort"))
		do_abort();
	else if (!strcmp(how, "fpe"))
		do_fpe();
	else if (!strcmp(how, "bus"))
		do_bus();
	else if (!strcmp(how, "threads"))
		do_threads();
	else if (!strcmp(how, "random"))
		do_random(argc > 2 ? strtoul(argv[2], NULL, 10) : 16);
	else if (!strcmp(how, "big"))
		do_big(argc > 2 ? strtoul(argv[2], NULL, 10) : 1024);
	fprintf(stderr, "crasher: did not die (%s)\n", how);
	return 2;
}
