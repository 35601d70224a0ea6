/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The unit tests' small harness, shared so that every test program reports
 * the same way: "ok N - name" / "not ok N - name" per test, "# ..."
 * diagnostics, and a last line "N passed, N failed" (what tests/run.sh and
 * CI read).  Include it once, from the test program's .c file.
 *
 *	EXPECT(cond);			   a failed expectation of the running test
 *	EXPECT(cond, "fmt", args...);	   ... with a diagnostic
 *	run("name", fn);		   runs one test
 *	check(cond, "fmt", args...);	   a test of one assertion, outside run()
 *	check(no_error(err) && ..., ...)   err is NULL (else printed); consumes it
 *	check(is_error(err, code, "needle"), ...)  err has code and mentions needle
 *	harness_begin("dump") / harness_end()   scratch directory and summary
 */
#ifndef CRASHKIT_TEST_HARNESS_H
#define CRASHKIT_TEST_HARNESS_H

#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crashkit.h"

static int harness_passed, harness_failed, harness_tests;
static int harness_cur_failures;	/* failures within the running test */
static char harness_tmpdir[256];

static inline void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void diag(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("# ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
}

/* The optional diagnostic of EXPECT: "" glued to a literal format, so an
 * EXPECT without one passes "" and prints nothing. */
static inline void harness_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void harness_note(const char *fmt, ...)
{
	if (!*fmt)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("# ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
}

#pragma GCC diagnostic ignored "-Wformat-zero-length"
/* At most a few failures per test are printed; all are counted. */
#define EXPECT(cond, ...)                                                          \
	do {                                                                       \
		if (!(cond) && harness_cur_failures++ < 8) {                       \
			diag("%s:%d: expected %s", __FILE__, __LINE__, #cond);     \
			harness_note("" __VA_ARGS__);                              \
		}                                                                  \
	} while (0)

static inline void run(const char *name, void (*fn)(void))
{
	harness_cur_failures = 0;
	fn();
	harness_tests++;
	if (harness_cur_failures) {
		harness_failed++;
		printf("not ok %d - %s\n", harness_tests, name);
	} else {
		harness_passed++;
		printf("ok %d - %s\n", harness_tests, name);
	}
	fflush(stdout);
}

static inline void harness_report(bool ok, const char *name_fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static inline void harness_report(bool ok, const char *name_fmt, va_list ap)
{
	harness_tests++;
	if (ok)
		harness_passed++;
	else
		harness_failed++;
	printf("%s %d - ", ok ? "ok" : "not ok", harness_tests);
	vprintf(name_fmt, ap);
	putchar('\n');
	fflush(stdout);
}

/* A test of one assertion, with its own "ok N" line: for tables of facts
 * where each line is worth naming.  Not inside run(). */
static inline void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void check(bool ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	harness_report(ok, fmt, ap);
	va_end(ap);
}

/* True if err is NULL; prints it otherwise.  Consumes err. */
static inline bool no_error(struct ck_error *err)
{
	if (!err)
		return true;
	diag("error: %s", ck_error_message(err));
	ck_error_destroy(err);
	return false;
}

/* True if err has code and a message containing needle (any message for
 * NULL); prints what came instead.  Consumes err. */
static inline bool is_error(struct ck_error *err, enum ck_error_code code, const char *needle)
{
	if (!err) {
		diag("expected an error, got none");
		return false;
	}
	bool ok = ck_error_code(err) == code &&
		  (!needle || strstr(ck_error_message(err), needle));
	if (!ok)
		diag("unexpected error (code %d): %s", ck_error_code(err), ck_error_message(err));
	ck_error_destroy(err);
	return ok;
}

/* A path in the scratch directory; up to 8 live at once. */
static inline char *tpath(const char *name)
{
	static char buf[8][512];
	static int next;
	char *p = buf[next++ % 8];
	snprintf(p, sizeof(buf[0]), "%s/%s", harness_tmpdir, name);
	return p;
}

/* Makes the scratch directory, on tmpfs when there is one: some tests write
 * thousands of small files.  Returns 0, or 2 (the exit code) on failure. */
static inline int harness_begin(const char *name)
{
	const char *base = getenv("TMPDIR");
	if (!base)
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(harness_tmpdir, sizeof(harness_tmpdir), "%s/ck-test-%s.XXXXXX", base, name);
	if (!mkdtemp(harness_tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	return 0;
}

static inline int harness_rm_entry(const char *p, const struct stat *st, int flag,
				   struct FTW *ftw)
{
	return remove(p);
}

/* Removes the scratch directory, prints the summary; returns the exit code. */
static inline int harness_end(void)
{
	if (harness_tmpdir[0])
		nftw(harness_tmpdir, harness_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	printf("%d passed, %d failed\n", harness_passed, harness_failed);
	return harness_failed ? 1 : 0;
}

#endif /* CRASHKIT_TEST_HARNESS_H */
