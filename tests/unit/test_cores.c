/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the userspace-core internals: policy parsing, sizes, handler
 * arguments, matching, filters, the signature, metadata JSON round trip.
 *
 * Output: "ok N - name" / "not ok N - name", "# ..." diagnostics, and a last
 * line "N passed, N failed".
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cores/cores.h"
#include "../harness.h"


static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/ck-test-policy.XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	return path;
}

static struct ck_error *load(const char *text, struct ck_core_policy *p)
{
	char *path = write_tmp(text);
	ck_core_policy_init(p);
	struct ck_error *err = ck_core_policy_load(p, path, false);
	unlink(path);
	free(path);
	return err;
}

static void test_sizes(void)
{
	uint64_t v;
	EXPECT(ck_core_parse_size("123", &v) && v == 123);
	EXPECT(ck_core_parse_size("4K", &v) && v == 4096);
	EXPECT(ck_core_parse_size("2G", &v) && v == 2ULL << 30);
	EXPECT(ck_core_parse_size("1T", &v) && v == 1ULL << 40);
	EXPECT(ck_core_parse_size("18446744073709551615", &v) && v == UINT64_MAX);
	EXPECT(!ck_core_parse_size("", &v));
	EXPECT(!ck_core_parse_size("12Q", &v));
	EXPECT(!ck_core_parse_size("-1", &v));
	EXPECT(!ck_core_parse_size("99999999999T", &v));
}

static void test_policy(void)
{
	struct ck_core_policy p;
	struct ck_error *err = load("# comment\n store = /var/x \nmax_use=1G\nkeep_free = 0\n"
				    "keep_per_exe=7 # trailing\nhonor_rlimit_core=yes\n"
				    "socket=/run/x.sock\ncompress_workers=4\n\n", &p);
	EXPECT(!err);
	EXPECT(p.store && !strcmp(p.store, "/var/x"));
	EXPECT(p.max_use == 1ULL << 30 && p.keep_free == 0 && p.keep_per_exe == 7);
	EXPECT(p.honor_rlimit_core && p.compress_workers == 4);
	EXPECT(p.socket && !strcmp(p.socket, "/run/x.sock"));
	EXPECT(p.max_core_size == 2ULL << 30);	/* default kept */
	ck_error_destroy(err);
	ck_core_policy_deinit(&p);

	static const char *const bad[] = {
		"nokey\n", "bogus=1\n", "max_use=lots\n", "store=relative\n",
		"honor_rlimit_core=maybe\n", "compress_level=99\n", "socket=/a b\n",
		"socket=/run/../x\n", "socket=relative.sock\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = load(bad[i], &p);
		EXPECT(err != NULL);
		if (err)
			/* says which line */
			EXPECT(strstr(ck_error_message(err), "line 1") != NULL);
		ck_error_destroy(err);
		ck_core_policy_deinit(&p);
	}
	ck_core_policy_init(&p);
	err = ck_core_policy_load(&p, "/nonexistent/cores.conf", true);
	EXPECT(!err);
	ck_core_policy_deinit(&p);
}

static void test_args(void)
{
	struct ck_core_args a;
	char *ok[] = { "P=42", "u=1000", "g=100", "s=11", "t=1700000000", "c=0", "F=", "d=2",
		       "e=a b/../c", "Z=unknown" };
	struct ck_error *err = ck_core_args_parse(10, ok, &a);
	EXPECT(!err);
	EXPECT(a.pid == 42 && a.tid == 42 && a.uid == 1000 && a.gid == 100 && a.signal == 11);
	EXPECT(a.time_sec == 1700000000 && a.have_rlimit && a.rlimit_core == 0);
	EXPECT(a.pidfd == -1 && a.dumpable == 2 && !strcmp(a.comm, "a b/../c"));
	ck_error_destroy(err);
	char *unlimited[] = { "P=1", "u=0", "g=0", "s=6", "t=1", "c=18446744073709551615" };
	err = ck_core_args_parse(6, unlimited, &a);
	EXPECT(!err && a.rlimit_core == UINT64_MAX);
	ck_error_destroy(err);

	char *missing[] = { "P=1", "g=0", "s=11", "t=1" };
	char *garbage[] = { "garbage" };
	char *badsig[] = { "P=1", "u=0", "g=0", "s=99", "t=1" };
	char *badpid[] = { "P=-3", "u=0", "g=0", "s=11", "t=1" };
	char *longkey[] = { "PP=1" };
	char **bad[] = { missing, garbage, badsig, badpid, longkey };
	int nbad[] = { 4, 1, 5, 5, 1 };
	for (size_t i = 0; i < 5; i++) {
		err = ck_core_args_parse(nbad[i], bad[i], &a);
		EXPECT(err != NULL);
		ck_error_destroy(err);
	}
	err = ck_core_args_parse(0, NULL, &a);
	EXPECT(err != NULL);
	ck_error_destroy(err);
}

static struct ck_core_record rec(int64_t id, int pid, const char *comm, const char *exe,
				 const char *sig)
{
	struct ck_core_record r = { .id = id, .pid = pid };
	r.comm = (char *)comm;
	r.exe = (char *)exe;
	r.signature = (char *)sig;
	return r;
}

static void test_matching(void)
{
	struct ck_core_record r = rec(7, 1234, "my prog", "/usr/bin/my prog",
				      "0123456789abcdef");
	EXPECT(ck_core_record_matches(&r, NULL));
	EXPECT(ck_core_record_matches(&r, "#7"));
	EXPECT(!ck_core_record_matches(&r, "#8"));
	EXPECT(!ck_core_record_matches(&r, "#"));
	EXPECT(!ck_core_record_matches(&r, "#7x"));
	EXPECT(ck_core_record_matches(&r, "1234"));
	EXPECT(!ck_core_record_matches(&r, "123"));
	EXPECT(ck_core_record_matches(&r, "0123456789abcdef"));
	EXPECT(ck_core_record_matches(&r, "/usr/bin/my prog"));
	EXPECT(!ck_core_record_matches(&r, "/usr/bin/my"));
	EXPECT(ck_core_record_matches(&r, "my prog"));
	EXPECT(!ck_core_record_matches(&r, "my"));
	/* A COMM that looks like a signature still matches as a COMM. */
	struct ck_core_record h = rec(1, 1, "deadbeefdeadbeef", "/x", "");
	EXPECT(ck_core_record_matches(&h, "deadbeefdeadbeef"));
	/* All digits: a PID, or a signature of digits only. */
	struct ck_core_record d = rec(1, 5, "c", "/x", "1111222233334444");
	EXPECT(ck_core_record_matches(&d, "1111222233334444"));
}

static void test_filter(void)
{
	struct ck_core_record *recs = calloc(4, sizeof(*recs));
	for (int i = 0; i < 4; i++) {
		recs[i].time_usec = (int64_t)(4 - i) * 1000000;
		recs[i].uid = i % 2 ? 1000 : 0;
		recs[i].signal = i < 2 ? 11 : 6;
		recs[i].name = strdup("n");
	}
	struct ck_core_filter f;
	ck_core_filter_init(&f);
	size_t nr = 4;
	ck_core_records_filter(recs, &nr, &f);
	EXPECT(nr == 4);
	f.uid = 1000;
	ck_core_records_filter(recs, &nr, &f);
	EXPECT(nr == 2 && recs[0].time_usec == 3000000 && recs[1].time_usec == 1000000);
	ck_core_filter_init(&f);
	f.since_usec = 2000000;
	ck_core_records_filter(recs, &nr, &f);
	EXPECT(nr == 1 && recs[0].signal == 11);
	f.signal = 6;
	ck_core_records_filter(recs, &nr, &f);
	EXPECT(nr == 0);
	ck_core_records_destroy(recs, nr);
}

static void test_signature(void)
{
	const char *frames[] = { "do_segv", "main" };
	char *a = ck_core_signature("crasher", 11, frames, 2);
	char *b = ck_core_signature("crasher", 11, frames, 2);
	char *c = ck_core_signature("crasher", 6, frames, 2);
	char *e = ck_core_signature("crasher", 11, frames, 1);
	/* Scheme v1 (docs/signatures.md): the first 16 hex digits of
	 * SHA-256("v1|segv|crasher|do_segv|main"), computed independently
	 * (printf '%s' ... | sha256sum). */
	EXPECT(a && strlen(a) == 16);
	EXPECT(a && b && !strcmp(a, b));
	EXPECT(a && c && strcmp(a, c));
	EXPECT(a && e && strcmp(a, e));
	char *empty = ck_core_signature("", 0, NULL, 0);
	EXPECT(empty && !strcmp(empty, "20a49a087552f854"));	/* "v1|signal-0|" */
	EXPECT(a && !strcmp(a, "9a8cb44d8ecb54f4"));
	free(a);
	free(b);
	free(c);
	free(e);
	free(empty);
	EXPECT(ck_core_boring_frame("raise"));
	EXPECT(ck_core_boring_frame("__GI_abort"));
	EXPECT(ck_core_boring_frame("__pthread_kill_implementation"));
	EXPECT(!ck_core_boring_frame("do_abort"));
	EXPECT(!ck_core_boring_frame("main"));
}

static void test_json_roundtrip(void)
{
	struct ck_core_record r = {
		.id = 9, .time_usec = 1700000000123456, .pid = 3, .tid = 4, .uid = 1000,
		.gid = 100, .signal = 7, .core_size = 1ULL << 33, .stored_size = 5,
		.truncated = true,
	};
	r.name = "core.1.3.ab";
	r.core_file = "core.1.3.ab.zst";
	r.comm = "we\"ird\n/..";
	r.exe = "/bin/x";
	r.cmdline = "x y";
	r.hostname = "h";
	r.boot_id = "b";
	r.signature = "0123456789abcdef";
	r.state = "truncated";
	r.reason = "disk full";
	r.backtrace = "TID 4:\n#0 ...\n";
	r.modules = "";
	r.meta_json = "{\"environ\": [\"A=1\"], \"dumpable\": 1}";
	struct ck_core_record back;
	/* What ck_core_record_write_json writes is what from_json reads. */
	char dir[] = "/tmp/ck-test-json.XXXXXX";
	EXPECT(mkdtemp(dir) != NULL);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	struct ck_error *err = ck_core_record_write_json(dfd, &r);
	EXPECT(!err);
	ck_error_destroy(err);
	char *text = NULL;
	err = ck_core_read_small(dfd, "core.1.3.ab.json", 1 << 20, &text, NULL);
	EXPECT(!err);
	ck_error_destroy(err);
	err = text ? ck_core_record_from_json(text, &back) : &ck_error_nomem;
	EXPECT(!err);
	if (!err) {
		EXPECT(back.id == 9 && back.time_usec == r.time_usec && back.uid == 1000);
		EXPECT(back.core_size == r.core_size && back.truncated && back.signal == 7);
		EXPECT(!strcmp(back.comm, r.comm) && !strcmp(back.reason, "disk full"));
		EXPECT(strstr(back.meta_json, "A=1") != NULL);
		ck_core_record_deinit(&back);
	}
	ck_error_destroy(err);
	err = ck_core_record_from_json("[1,2]", &back);
	EXPECT(err != NULL);
	ck_error_destroy(err);
	free(text);
	unlinkat(dfd, "core.1.3.ab.json", 0);
	close(dfd);
	rmdir(dir);
}

/* The list and info forms keep their key order: scripts and people read them. */
static void test_record_json(void)
{
	struct ck_core_record r = {
		.id = 2, .time_usec = 5, .pid = 3, .tid = 4, .uid = 1000, .gid = 100,
		.signal = 11, .core_size = 10, .stored_size = 6,
	};
	r.name = "n";
	r.core_file = "n.zst";
	r.comm = "c";
	r.exe = "/e";
	r.cmdline = "c a";
	r.hostname = "h";
	r.boot_id = "b";
	r.signature = "";
	r.state = "stored";
	r.reason = "";
	r.backtrace = "bt";
	r.modules = "m";
	r.meta_json = "{\"dumpable\": 1}";
	char *list = ck_core_records_json(&r, 1);
	EXPECT(list && list[0] == '[');
	const char *order[] = { "\"id\":2", "\"name\":\"n\"", "\"time_usec\":5", "\"pid\":3",
				"\"uid\":1000", "\"signal\":11", "\"exe\":\"/e\"",
				"\"core_file\":\"n.zst\"", "\"truncated\":false" };
	const char *at = list;
	for (size_t i = 0; at && i < sizeof(order) / sizeof(order[0]); i++) {
		at = strstr(at, order[i]);
		if (!at)
			diag("list JSON lacks %s after the previous key", order[i]);
	}
	EXPECT(at != NULL);
	EXPECT(list && !strstr(list, "backtrace") && !strstr(list, "meta"));
	char *one = ck_core_record_json(&r, 3);
	EXPECT(one && strstr(one, "\"backtrace\":\"bt\"") && strstr(one, "\"signature_seen\":3"));
	EXPECT(one && strstr(one, "\"meta\":{") && strstr(one, "\"dumpable\":1"));
	char *file = ck_core_record_file_json(&r);
	/* The metadata's keys first, then the record's. */
	EXPECT(file && strstr(file, "dumpable") < strstr(file, "\"id\""));
	free(list);
	free(one);
	free(file);
	char *meta = ck_core_meta_json_add("{\"a\": 1}", "acl_error", "EOPNOTSUPP");
	EXPECT(meta && strstr(meta, "\"acl_error\":\"EOPNOTSUPP\""));
	free(meta);
	EXPECT(ck_core_meta_json_add("not json", "k", "v") == NULL);
}

static void test_pattern_owner(void)
{
	struct ck_core_policy p;
	ck_core_policy_init(&p);
	const char *ours = "|/usr/bin/crashkit-cores handle P=%P u=%u";
	const char *old = "|/usr/bin/crashkit cores handle P=%P";
	EXPECT(ck_core_pattern_is_ours(ours, &p) && ck_core_pattern_is_ours(old, &p));
	EXPECT(!strcmp(ck_core_pattern_owner(ours, &p), "crashkit"));
	EXPECT(ck_core_pattern_is_ours("@" CK_CORE_SOCKET_DEFAULT, &p));
	EXPECT(!strcmp(ck_core_pattern_owner("@" CK_CORE_SOCKET_DEFAULT, &p),
		       "crashkit (socket mode)"));
	EXPECT(!ck_core_pattern_is_ours("@/run/other.sock", &p));
	EXPECT(!strcmp(ck_core_pattern_owner("@/run/other.sock", &p), "a socket receiver"));
	EXPECT(!strcmp(ck_core_pattern_owner("|/usr/lib/systemd/systemd-coredump %P", &p),
		       "systemd-coredump"));
	EXPECT(!strcmp(ck_core_pattern_owner("|/bin/other", &p), "another pipe handler"));
	EXPECT(!ck_core_pattern_is_ours("core", &p));
	EXPECT(!strcmp(ck_core_pattern_owner("core", &p),
		       "a file pattern: the kernel writes cores itself"));
	EXPECT(!strcmp(ck_core_pattern_owner(NULL, &p), "unknown (core_pattern unreadable)"));
	EXPECT(!strcmp(ck_core_policy_store(&p), CK_CORE_STORE_DEFAULT));
	EXPECT(!strcmp(ck_core_policy_socket(&p), CK_CORE_SOCKET_DEFAULT));
	ck_core_policy_deinit(&p);
}

/* sd_listen_fds(3): only for this process, and the variables are consumed. */
static void test_systemd_socket(void)
{
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", (int)getpid() + 1);
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1", 1);
	EXPECT(ck_core_systemd_socket() == -1);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "0", 1);
	EXPECT(ck_core_systemd_socket() == -1);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	EXPECT(ck_core_systemd_socket() == -1);
}

/* The signature from stored text, as the handler and the catalog's
 * migration compute it: the first thread only, boring frames skipped, a
 * stop frame ends the walk, a nameless frame is MODULE+0xOFFSET, clone
 * suffixes cut. */
static void test_signature_from_text(void)
{
	const char *bt =
		"TID 42:\n"
		"#0  0x00007f0000001234 raise (libc.so.6)\n"
		"#1  0x0000555500001010 ?? (crasher)\n"
		"#2  0x0000555500002000 do_segv.isra.0 (crasher)\n"
		"#3  0x0000555500003000 main (crasher)\n"
		"#4  0x00007f0000002000 __libc_start_call_main (libc.so.6)\n"
		"#5  0x00007f0000003000 after_stop (libc.so.6)\n"
		"TID 43:\n"
		"#0  0x0000555500004000 other_thread (crasher)\n";
	const char *mods = "0x0000555500000000-0x0000555500010000 abcd /tmp/x/crasher\n"
			   "0x00007f0000000000-0x00007f0000100000 - /usr/lib/libc.so.6\n";
	struct ck_core_sig sig;
	EXPECT(!ck_core_signature_from_text("/tmp/x/crasher", 6, bt, mods, &sig));
	EXPECT(!strcmp(sig.class_name, "abrt"));
	EXPECT(!strcmp(sig.input, "v1|abrt|crasher|crasher+0x1010|do_segv|main"));
	EXPECT(!strcmp(sig.frame, "crasher+0x1010"));
	/* printf '%s' 'v1|abrt|crasher|crasher+0x1010|do_segv|main' | sha256sum */
	EXPECT(!strcmp(sig.signature, "c2152c89ca40af0f"));
	ck_core_sig_deinit(&sig);
	/* No backtrace: class and exe only. */
	EXPECT(!ck_core_signature_from_text("crasher", 11, "(no backtrace: x)\n", "", &sig));
	EXPECT(!strcmp(sig.input, "v1|segv|crasher") && !strcmp(sig.frame, ""));
	ck_core_sig_deinit(&sig);
	char cls[CK_CORE_CLASS_MAX];
	ck_core_signal_class(8, cls);
	EXPECT(!strcmp(cls, "fpe"));
	ck_core_signal_class(200, cls);
	EXPECT(!strcmp(cls, "signal-200"));
}

/* triage's JSON as the catalog reads it back: fields taken, garbage refused
 * with a message, the signature checked. */
static void test_triage_parse(void)
{
	static const char good[] =
		"{\"schema\":\"crashkit-triage/1\",\"class\":\"sysrq\",\"title\":\"sysrq: x\","
		"\"message\":\"Kernel panic\",\"signature\":\"75ff5a6bf9665db8\","
		"\"signature_input\":\"v1|sysrq|x\",\"culprit\":{\"function\":\"x\",\"module\":null},"
		"\"panic_task\":{\"pid\":119,\"comm\":\"ck_crash\",\"cpu\":1},\"release\":\"6.1\","
		"\"build_id\":\"ab\",\"uptime\":7,\"partial\":true}";
	struct ck_crash c;
	EXPECT(ck_crash_init(&c));
	struct ck_error *err = ck_kdump_triage_parse(good, strlen(good), &c);
	EXPECT(!err);
	EXPECT(!strcmp(c.class_name, "sysrq") && !strcmp(c.signature, "75ff5a6bf9665db8"));
	EXPECT(c.pid == 119 && c.cpu == 1 && c.uptime == 7 && !strcmp(c.comm, "ck_crash"));
	EXPECT(!strcmp(c.culprit, "x") && !strcmp(c.module, "") && !strcmp(c.state, "partial"));
	ck_crash_deinit(&c);
	static const char *const bad[] = {
		"", "{", "[1,2]", "{\"schema\":\"other/1\"}", "{\"class\":\"sysrq\"}", "\"x\"",
	};
	for (size_t i = 0; i < CK_ARRAY_SIZE(bad); i++) {
		EXPECT(ck_crash_init(&c));
		err = ck_kdump_triage_parse(bad[i], strlen(bad[i]), &c);
		EXPECT(err != NULL);
		ck_error_destroy(err);
		ck_crash_deinit(&c);
	}
	/* A signature that is not 16 hex digits is dropped, not trusted. */
	static const char badsig[] = "{\"schema\":\"crashkit-triage/1\",\"signature\":\"../x\","
				     "\"panic_task\":{\"pid\":-5}}";
	EXPECT(ck_crash_init(&c));
	EXPECT(!ck_kdump_triage_parse(badsig, strlen(badsig), &c));
	EXPECT(!strcmp(c.signature, "") && c.pid == -1);
	ck_crash_deinit(&c);
}

int main(void)
{
	run("sizes", test_sizes);
	run("policy parsing", test_policy);
	run("handler arguments", test_args);
	run("name matching", test_matching);
	run("list filters", test_filter);
	run("signature", test_signature);
	run("signature from stored text", test_signature_from_text);
	run("triage JSON of the catalog", test_triage_parse);
	run("metadata JSON round trip", test_json_roundtrip);
	run("record JSON forms", test_record_json);
	run("core_pattern owner", test_pattern_owner);
	run("systemd socket activation", test_systemd_socket);
	return harness_end();
}
