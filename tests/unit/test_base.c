/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the base pieces: typed vectors and hash maps, binary
 * search, the string builder, the whole-buffer I/O loops (EINTR and short
 * transfers made by signals on a pipe, a zero-byte write faked) and output
 * files (refused, forced, committed, abandoned).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "../harness.h"

/* ---- vectors ------------------------------------------------------------ */

struct pair {
	uint64_t a, b;
};
CK_DEFINE_VECTOR(pair_vector, struct pair)
CK_DEFINE_VECTOR(u8_vector, uint8_t)

static void test_vector(void)
{
	struct pair_vector v;
	pair_vector_init(&v);
	EXPECT(pair_vector_size(&v) == 0 && !pair_vector_pop(&v));
	for (uint64_t i = 0; i < 10000; i++) {
		struct pair p = { i, i * i };
		EXPECT(pair_vector_append(&v, &p));
	}
	struct pair *e = pair_vector_append_entry(&v);
	EXPECT(e);
	*e = (struct pair){ 7, 7 };
	EXPECT(pair_vector_size(&v) == 10001 && v.capacity >= 10001);
	bool ok = true;
	for (size_t i = 0; i < 10000; i++)
		ok &= pair_vector_at(&v, i)->a == i && pair_vector_at(&v, i)->b == i * i;
	EXPECT(ok, "elements kept their values across growth");
	struct pair *last = pair_vector_pop(&v);
	EXPECT(last && last->a == 7 && pair_vector_size(&v) == 10000);
	pair_vector_shrink_to_fit(&v);
	EXPECT(v.capacity == 10000 && pair_vector_at(&v, 9999)->b == 9999ull * 9999);
	EXPECT(pair_vector_reserve(&v, 20000) && v.capacity >= 20000 && v.size == 10000);
	size_t n;
	struct pair *arr = pair_vector_steal(&v, &n);
	EXPECT(arr && n == 10000 && arr[42].b == 42 * 42);
	EXPECT(!v.data && !v.size && !v.capacity);
	free(arr);
	while (pair_vector_size(&v) < 3)
		pair_vector_append(&v, &(struct pair){ 1, 2 });
	while (pair_vector_pop(&v))
		;
	pair_vector_shrink_to_fit(&v);
	EXPECT(!v.data && !v.capacity, "shrinking an empty vector frees it");
	pair_vector_deinit(&v);
	pair_vector_deinit(&v);	/* twice: harmless */
}

static void test_vector_overflow(void)
{
	struct pair_vector v;
	pair_vector_init(&v);
	EXPECT(pair_vector_append(&v, &(struct pair){ 1, 1 }));
	size_t cap = v.capacity;
	struct pair *data = v.data;
	EXPECT(!pair_vector_reserve(&v, SIZE_MAX / 2), "an overflowing size fails");
	EXPECT(!pair_vector_reserve(&v, SIZE_MAX));
	EXPECT(v.capacity == cap && v.data == data && v.size == 1, "and leaves the vector alone");
	size_t c = 4;
	EXPECT(!ck_vector_grow(NULL, &c, SIZE_MAX / 4 + 1, 4) && c == 4);
	pair_vector_deinit(&v);

	struct u8_vector b;
	u8_vector_init(&b);
	for (int i = 0; i < 1000; i++)
		u8_vector_append(&b, &(uint8_t){ (uint8_t)i });
	EXPECT(b.size == 1000 && b.data[999] == (uint8_t)999);
	u8_vector_deinit(&b);
}

/* ---- hash maps ---------------------------------------------------------- */

static size_t u64_hash(const uint64_t *k)
{
	return ck_hash_u64(*k);
}
static bool u64_eq(const uint64_t *a, const uint64_t *b)
{
	return *a == *b;
}
CK_DEFINE_HASH_MAP(u64_map, uint64_t, uint64_t, u64_hash, u64_eq)

/* Every key in the same home slot: probing and deletion's shifts at work. */
static size_t bad_hash(const uint64_t *k)
{
	return 3;
}
CK_DEFINE_HASH_MAP(bad_map, uint64_t, uint64_t, bad_hash, u64_eq)

static size_t str_hash(const char *const *k)
{
	return ck_hash_string(*k);
}
static bool str_eq(const char *const *a, const char *const *b)
{
	return !strcmp(*a, *b);
}
CK_DEFINE_HASH_MAP(str_map, const char *, int, str_hash, str_eq)

static void test_hash_map_basic(void)
{
	struct str_map m;
	str_map_init(&m);
	const char *k = "init_uts_ns";
	EXPECT(!str_map_search(&m, &k) && !str_map_delete(&m, &k));
	struct str_map_entry *e;
	EXPECT(str_map_insert(&m, &(struct str_map_entry){ "init_uts_ns", 1 }, &e) == 1);
	EXPECT(e && e->value == 1);
	EXPECT(str_map_insert(&m, &(struct str_map_entry){ "prb", 2 }, NULL) == 1);
	EXPECT(str_map_insert(&m, &(struct str_map_entry){ "init_uts_ns", 9 }, &e) == 0);
	EXPECT(e && e->value == 1, "an insert of a present key keeps the old entry");
	char buf[32];
	snprintf(buf, sizeof(buf), "%s", "prb");
	k = buf;
	e = str_map_search(&m, &k);
	EXPECT(e && e->value == 2, "keys compared by eq_fn, not by pointer");
	EXPECT(str_map_size(&m) == 2);
	EXPECT(str_map_delete(&m, &k) && !str_map_search(&m, &k) && str_map_size(&m) == 1);
	EXPECT(!str_map_delete(&m, &k));
	str_map_deinit(&m);
	EXPECT(str_map_size(&m) == 0 && !str_map_search(&m, &k));
}

static void test_hash_map_many(void)
{
	struct u64_map m;
	u64_map_init(&m);
	const uint64_t n = 100000;
	bool ok = true;
	for (uint64_t i = 0; i < n; i++)
		ok &= u64_map_insert(&m, &(struct u64_map_entry){ i << 12, i }, NULL) == 1;
	EXPECT(ok && u64_map_size(&m) == n);
	EXPECT(m.mask + 1 >= n + n / 3, "at most 3/4 full: %zu slots", m.mask + 1);
	for (uint64_t i = 0; i < n; i += 2)
		ok &= u64_map_delete(&m, &(uint64_t){ i << 12 });
	EXPECT(ok && u64_map_size(&m) == n / 2);
	for (uint64_t i = 0; i < n; i++) {
		struct u64_map_entry *e = u64_map_search(&m, &(uint64_t){ i << 12 });
		ok &= (i % 2) ? e && e->value == i : !e;
	}
	EXPECT(ok, "odd keys found with their values, even keys gone");
	uint64_t sum = 0, count = 0;
	size_t pos = 0;
	for (struct u64_map_entry *e; (e = u64_map_next(&m, &pos));) {
		sum += e->value;
		count++;
	}
	EXPECT(count == n / 2 && sum == (n / 2) * (n / 2), "iteration: %" PRIu64, count);
	u64_map_deinit(&m);
	pos = 0;
	EXPECT(!u64_map_next(&m, &pos), "an empty map iterates nothing");
}

/* All keys collide: a deletion in the middle of the run must shift the
 * rest back, or later keys become unreachable. */
static void test_hash_map_collisions(void)
{
	struct bad_map m;
	bad_map_init(&m);
	for (uint64_t i = 0; i < 40; i++)
		bad_map_insert(&m, &(struct bad_map_entry){ i, i * 10 }, NULL);
	bool ok = true;
	for (uint64_t i = 0; i < 40; i += 3)
		ok &= bad_map_delete(&m, &i);
	for (uint64_t i = 0; i < 40; i++) {
		struct bad_map_entry *e = bad_map_search(&m, &i);
		ok &= (i % 3) ? e && e->value == i * 10 : !e;
	}
	EXPECT(ok && bad_map_size(&m) == 40 - 14);
	for (uint64_t i = 0; i < 40; i += 3)
		ok &= bad_map_insert(&m, &(struct bad_map_entry){ i, 1 }, NULL) == 1;
	EXPECT(ok && bad_map_size(&m) == 40);
	bad_map_deinit(&m);
}

/* ---- binary search ------------------------------------------------------ */

static int u64_cmp(const void *key, const void *elem, void *arg)
{
	uint64_t k = *(const uint64_t *)key, e = *(const uint64_t *)elem;
	return k < e ? -1 : k > e;
}

/* An index array sorted by the names it points at (kallsyms' by_name). */
static int by_name_cmp(const void *key, const void *elem, void *arg)
{
	const char *const *names = arg;
	return strcmp(key, names[*(const uint32_t *)elem]);
}

static void test_bsearch(void)
{
	const uint64_t a[] = { 10, 20, 20, 20, 30 };
	const size_t n = CK_ARRAY_SIZE(a);
#define LE(k) ck_bsearch_le(&(uint64_t){ k }, a, n, sizeof(a[0]), u64_cmp, NULL)
#define LOWER(k) ck_bsearch_lower(&(uint64_t){ k }, a, n, sizeof(a[0]), u64_cmp, NULL)
#define UPPER(k) ck_bsearch_upper(&(uint64_t){ k }, a, n, sizeof(a[0]), u64_cmp, NULL)
#define EQ(k) ck_bsearch_eq(&(uint64_t){ k }, a, n, sizeof(a[0]), u64_cmp, NULL)
	EXPECT(LE(5) == n, "below the first: none");
	EXPECT(LE(10) == 0 && LE(19) == 0);
	EXPECT(LE(20) == 3, "equal keys: the last of them");
	EXPECT(LE(29) == 3 && LE(30) == 4 && LE(UINT64_MAX) == 4);
	EXPECT(LOWER(5) == 0 && LOWER(20) == 1 && LOWER(21) == 4 && LOWER(31) == n);
	EXPECT(UPPER(5) == 0 && UPPER(20) == 4 && UPPER(30) == n);
	EXPECT(EQ(20) == 1 && EQ(10) == 0 && EQ(30) == 4);
	EXPECT(EQ(15) == n && EQ(0) == n && EQ(99) == n);
#undef LE
#undef LOWER
#undef UPPER
#undef EQ
	uint64_t k = 1;
	EXPECT(ck_bsearch_le(&k, NULL, 0, 8, u64_cmp, NULL) == 0, "empty: nr");
	EXPECT(ck_bsearch_eq(&k, NULL, 0, 8, u64_cmp, NULL) == 0);
	EXPECT(ck_bsearch_lower(&k, a, 1, 8, u64_cmp, NULL) == 0);
	EXPECT(ck_bsearch_le(&(uint64_t){ 10 }, a, 1, 8, u64_cmp, NULL) == 0);

	const char *names[] = { "zeta", "alpha", "mid", "beta" };
	const uint32_t by_name[] = { 1, 3, 2, 0 };
	EXPECT(ck_bsearch_eq("mid", by_name, 4, sizeof(uint32_t), by_name_cmp, names) == 2);
	EXPECT(ck_bsearch_eq("gamma", by_name, 4, sizeof(uint32_t), by_name_cmp, names) == 4);
	EXPECT(ck_bsearch_lower("gamma", by_name, 4, sizeof(uint32_t), by_name_cmp, names) == 2);

	/* every key against a linear scan, over a larger array */
	uint64_t big[257];
	for (size_t i = 0; i < CK_ARRAY_SIZE(big); i++)
		big[i] = 3 * (i / 2);	/* pairs: 0 0 3 3 6 6 ... */
	bool ok = true;
	for (uint64_t key = 0; key < 400; key++) {
		size_t want = CK_ARRAY_SIZE(big);
		for (size_t i = 0; i < CK_ARRAY_SIZE(big); i++)
			if (big[i] <= key)
				want = i;
		ok &= ck_bsearch_le(&key, big, CK_ARRAY_SIZE(big), 8, u64_cmp, NULL) == want;
	}
	EXPECT(ok);
}

/* ---- string builder ----------------------------------------------------- */

static void test_strbuf(void)
{
	struct ck_strbuf sb = CK_STRBUF_INIT;
	size_t len = 99;
	char *s = ck_strbuf_detach(&sb, &len);
	EXPECT(s && !strcmp(s, "") && len == 0, "an empty builder detaches \"\"");
	free(s);
	EXPECT(ck_strbuf_addf(&sb, "%s-%d", "cpu", 3) && ck_strbuf_adds(&sb, " ok"));
	EXPECT(ck_strbuf_add(&sb, "!?", 1));
	EXPECT(sb.len == 9 && !strcmp(sb.buf, "cpu-3 ok!"), "'%s'", sb.buf);
	ck_strbuf_reset(&sb);
	EXPECT(sb.len == 0 && !strcmp(sb.buf, ""));
	for (int i = 0; i < 1000; i++)
		ck_strbuf_addf(&sb, "%04d,", i);
	EXPECT(sb.len == 5000 && !strncmp(sb.buf + 4995, "0999,", 5) && !sb.buf[5000]);
	char big[3000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	EXPECT(ck_strbuf_addf(&sb, "<%s>", big) && sb.len == 5000 + 3001);
	EXPECT(sb.buf[5000] == '<' && sb.buf[8000] == '>' && !sb.buf[8001]);
	s = ck_strbuf_detach(&sb, &len);
	EXPECT(s && len == 8001 && strlen(s) == 8001);
	EXPECT(!sb.buf && !sb.len && !sb.cap);
	free(s);

	/* a failure is sticky until reset */
	sb.failed = true;
	EXPECT(!ck_strbuf_adds(&sb, "lost") && !ck_strbuf_detach(&sb, NULL));
	EXPECT(!sb.failed && !sb.buf, "detach after a failure leaves it empty");
	ck_strbuf_adds(&sb, "x");
	sb.failed = true;
	ck_strbuf_reset(&sb);
	EXPECT(ck_strbuf_adds(&sb, "y") && !strcmp(sb.buf, "y"));
	ck_strbuf_deinit(&sb);
}

static void test_strbuf_escaped(void)
{
	struct ck_strbuf sb = CK_STRBUF_INIT;
	EXPECT(!ck_has_control("plain text, ünïcode") && ck_has_control("a\x7f"));
	EXPECT(ck_strbuf_add_escaped(&sb, "plain") && !strcmp(sb.buf, "plain"));
	ck_strbuf_reset(&sb);
	EXPECT(ck_strbuf_add_escaped(&sb, "a\nb\tc\rd\x1b[0m\x7f\x01") &&
	       !strcmp(sb.buf, "a\\nb\\tc\\rd\\x1b[0m\\x7f\\x01"), "'%s'", sb.buf);
	ck_strbuf_reset(&sb);
	EXPECT(ck_strbuf_add_escaped(&sb, "\n") && !strcmp(sb.buf, "\\n"));
	ck_strbuf_reset(&sb);
	EXPECT(ck_strbuf_add_escaped(&sb, "") && !strcmp(sb.buf, ""));
	ck_strbuf_deinit(&sb);
	/* error messages go through it: one line whatever a name holds */
	struct ck_error *err = ck_error_create(CK_ERR_FORMAT, "%s: bad", "x\ny");
	EXPECT(err && !strcmp(ck_error_message(err), "x\\ny: bad"), "'%s'", ck_error_message(err));
	ck_error_destroy(err);
}

/* ---- I/O loops ---------------------------------------------------------- */

/* pwrite64 of the test program, in front of the C library's: with
 * fake_zero_writes set it writes nothing and says so, as a full device
 * may.  The loop must give ENOSPC, not spin. */
static int fake_zero_writes;
ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	static ssize_t (*real)(int, const void *, size_t, off_t);
	if (fake_zero_writes) {
		fake_zero_writes++;
		return fake_zero_writes > 1000 ? -1 : 0;
	}
	if (!real)
		real = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite64");
	return real(fd, buf, n, off);
}

static volatile sig_atomic_t alarms;
static void on_alarm(int sig)
{
	alarms++;
}

/* SIGALRM every 200 us, without SA_RESTART: blocked reads and writes on a
 * pipe come back with EINTR, or short. */
static void alarms_start(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = { { 0, 200 }, { 0, 200 } };
	setitimer(ITIMER_REAL, &it, NULL);
}

static void alarms_stop(void)
{
	struct itimerval it = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &it, NULL);
	signal(SIGALRM, SIG_DFL);
}

#define PIPE_DATA (4u << 20)

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 131 + (i >> 11));
}

/* A child at the far end of a pipe, slow: reads (or writes) in 4 KiB steps
 * with pauses.  Exits 0 when what it read was the pattern. */
static pid_t slow_peer(int fd, bool reader)
{
	pid_t pid = fork();
	if (pid)
		return pid;
	static uint8_t buf[4096];
	size_t at = 0;
	bool good = true;
	while (at < PIPE_DATA) {
		if (at % (256 << 10) == 0)
			usleep(2000);
		if (reader) {
			ssize_t r = read(fd, buf, sizeof(buf));
			if (r <= 0)
				_exit(2);
			for (ssize_t i = 0; i < r; i++)
				good &= buf[i] == pattern(at + (size_t)i);
			at += (size_t)r;
		} else {
			for (size_t i = 0; i < sizeof(buf); i++)
				buf[i] = pattern(at + i);
			if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
				_exit(2);
			at += sizeof(buf);
		}
	}
	_exit(good ? 0 : 1);
}

static void test_io_pipe_signals(void)
{
	uint8_t *data = malloc(PIPE_DATA), *back = malloc(PIPE_DATA);
	for (size_t i = 0; i < PIPE_DATA; i++)
		data[i] = pattern(i);
	int p[2];
	EXPECT(pipe(p) == 0);
	pid_t pid = slow_peer(p[0], true);
	close(p[0]);
	alarms = 0;
	alarms_start();
	size_t done = 0;
	int e = ck_write_n(p[1], data, PIPE_DATA, &done);
	alarms_stop();
	close(p[1]);
	int status;
	waitpid(pid, &status, 0);
	EXPECT(e == 0 && done == PIPE_DATA, "errno %d, %zu bytes", e, done);
	EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the reader saw the pattern");
	EXPECT(alarms > 0, "signals came during the write");

	EXPECT(pipe(p) == 0);
	pid = slow_peer(p[1], false);
	close(p[1]);
	alarms = 0;
	alarms_start();
	e = ck_read_n(p[0], back, PIPE_DATA + 100, &done);
	alarms_stop();
	close(p[0]);
	waitpid(pid, &status, 0);
	EXPECT(e == 0 && done == PIPE_DATA, "the end of input stops a read: %zu", done);
	EXPECT(!memcmp(back, data, PIPE_DATA));
	EXPECT(alarms > 0);
	free(data);
	free(back);
}

static void test_io_errors(void)
{
	char buf[64] = "0123456789abcdef";
	int fd = open(tpath("io"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	EXPECT(!ck_pwrite_all(fd, buf, 16, 100, "io"));
	struct stat st;
	EXPECT(fstat(fd, &st) == 0 && st.st_size == 116);
	char in[16];
	EXPECT(!ck_pread_all(fd, in, 16, 100, "io") && !memcmp(in, buf, 16));
	struct ck_error *err = ck_pread_all(fd, in, 16, 108, "io");
	EXPECT(err && ck_error_code(err) == CK_ERR_TRUNCATED);
	EXPECT(err && !strcmp(ck_error_message(err), "'io': 0x10 bytes at offset 0x6c are past its end"),
	       "%s", err ? ck_error_message(err) : "");
	ck_error_destroy(err);
	size_t got = 0;
	lseek(fd, 110, SEEK_SET);
	EXPECT(!ck_read_all(fd, in, 16, &got, "io") && got == 6);
	EXPECT(!ck_write_all(fd, "xy", 2, "io"));

	fake_zero_writes = 1;
	err = ck_pwrite_all(fd, buf, 16, 0x2000, "full");
	EXPECT(fake_zero_writes == 2, "one zero-byte write, no retry: %d", fake_zero_writes);
	fake_zero_writes = 0;
	EXPECT(err && ck_error_errno(err) == ENOSPC);
	EXPECT(err && !strcmp(ck_error_message(err),
			      "writing 'full' at offset 0x2000: No space left on device"),
	       "%s", err ? ck_error_message(err) : "");
	ck_error_destroy(err);
	close(fd);

	int ro = open(tpath("io"), O_RDONLY);
	err = ck_write_all(ro, buf, 4, "ro");
	EXPECT(err && ck_error_errno(err) == EBADF);
	EXPECT(err && !strcmp(ck_error_message(err), "writing 'ro': Bad file descriptor"));
	ck_error_destroy(err);
	err = ck_pread_all(-1, in, 4, 0x10, "nofd");
	EXPECT(err && !strcmp(ck_error_message(err),
			      "reading 'nofd' at offset 0x10: Bad file descriptor"));
	ck_error_destroy(err);
	close(ro);
	int full = open("/dev/full", O_WRONLY);
	if (full >= 0) {
		err = ck_write_all(full, buf, 4, "/dev/full");
		EXPECT(err && ck_error_errno(err) == ENOSPC);
		ck_error_destroy(err);
		close(full);
	}
}

/* ---- output files ------------------------------------------------------- */

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static void test_outfile(void)
{
	char path[512], tmp[600];
	snprintf(path, sizeof(path), "%s", tpath("out"));
	snprintf(tmp, sizeof(tmp), "%s.incomplete", path);
	struct ck_outfile of = CK_OUTFILE_INIT;
	ck_outfile_abandon(&of, false);	/* never opened: nothing to do */
	EXPECT(!ck_outfile_open(path, false, &of) && of.fd >= 0);
	EXPECT(exists(tmp) && !exists(path), "written as PATH.incomplete");
	EXPECT(!ck_write_all(of.fd, "one", 3, of.tmp_path));
	EXPECT(!ck_outfile_commit(&of) && of.fd == -1 && !of.path && !of.tmp_path);
	EXPECT(exists(path) && !exists(tmp), "commit renames");
	ck_outfile_abandon(&of, false);	/* after commit: nothing */
	EXPECT(exists(path));

	struct ck_error *err = ck_outfile_open(path, false, &of);
	char want[700];
	snprintf(want, sizeof(want), "'%s' exists (use -f to overwrite it)", path);
	EXPECT(err && ck_error_code(err) == CK_ERR_INVALID && !strcmp(ck_error_message(err), want));
	EXPECT(of.fd == -1 && !exists(tmp), "refused: nothing made");
	ck_error_destroy(err);
	err = ck_outfile_check(path, false);
	EXPECT(err && !ck_outfile_check(path, true));
	ck_error_destroy(err);

	EXPECT(!ck_outfile_open(path, true, &of), "force");
	EXPECT(!ck_write_all(of.fd, "two!", 4, of.tmp_path));
	ck_outfile_abandon(&of, true);
	struct stat st;
	EXPECT(stat(tmp, &st) == 0 && st.st_size == 4, "abandoned, kept");
	EXPECT(stat(path, &st) == 0 && st.st_size == 3, "PATH untouched");
	EXPECT(!ck_outfile_open(path, true, &of) && stat(tmp, &st) == 0 && st.st_size == 0,
	       "a stale .incomplete is truncated");
	ck_outfile_abandon(&of, false);
	EXPECT(!exists(tmp) && exists(path), "abandoned, unlinked");

	err = ck_outfile_open(tpath("no/such/dir"), false, &of);
	EXPECT(err && ck_error_errno(err) == ENOENT && of.fd == -1);
	EXPECT(err && strstr(ck_error_message(err), "cannot create '") &&
	       strstr(ck_error_message(err), "no/such/dir.incomplete': No such file"),
	       "%s", err ? ck_error_message(err) : "");
	ck_error_destroy(err);

	/* a rename that fails leaves the outfile for abandon */
	char dir[512];
	snprintf(dir, sizeof(dir), "%s", tpath("adir"));
	mkdir(dir, 0700);
	char bad[600], bad_tmp[700];
	snprintf(bad, sizeof(bad), "%s/x", dir);
	snprintf(bad_tmp, sizeof(bad_tmp), "%s.incomplete", bad);
	mkdir(bad, 0700);
	EXPECT(!ck_outfile_open(bad, true, &of));
	err = ck_outfile_commit(&of);
	EXPECT(err && ck_error_errno(err) == EISDIR && of.fd >= 0,
	       "%s", err ? ck_error_message(err) : "");
	ck_error_destroy(err);
	EXPECT(exists(bad_tmp));
	ck_outfile_abandon(&of, false);
	EXPECT(!exists(bad_tmp));
}

int main(void)
{
	int r = harness_begin("base");
	if (r)
		return r;
	run("vector: append, pop, shrink, steal across growth", test_vector);
	run("vector: overflowing sizes fail and leave it alone", test_vector_overflow);
	run("hash map: insert, search, delete, string keys", test_hash_map_basic);
	run("hash map: 100000 keys, half deleted, iteration", test_hash_map_many);
	run("hash map: every key colliding, deletions shift back", test_hash_map_collisions);
	run("bsearch: le, lower, upper, eq and their edges", test_bsearch);
	run("strbuf: add, addf, reset, detach, sticky failure", test_strbuf);
	run("strbuf: control characters as C escapes, error messages on one line",
	    test_strbuf_escaped);
	run("io: EINTR and short transfers on a pipe", test_io_pipe_signals);
	run("io: messages, end of file, a zero-byte write is ENOSPC", test_io_errors);
	run("outfile: refuse, force, commit, abandon", test_outfile);
	return harness_end();
}
