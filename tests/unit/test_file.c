/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/dump/file.c: ck_file reads inside the file or fails with
 * an error that says where and names the file; a partial read stops at the
 * end; offsets near UINT64_MAX do not wrap.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dump/dump.h"
#include "../mkdump.h"
#include "../harness.h"

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

/* What is not a regular file or a block device is refused at open, at
 * once: a FIFO used to block in open() until a writer came, /dev/zero to be
 * read for ever.  Messages stay one line whatever the name holds. */
static void test_file_kinds(void)
{
	static const struct {
		const char *path, *what;
	} cases[] = {
		{ NULL, "a FIFO" },
		{ "/dev/zero", "a character device" },
		{ "/dev/null", "a character device" },
		{ "/", "a directory" },
	};
	const char *fifo = tpath("fifo");
	bool have_fifo = mkfifo(fifo, 0600) == 0;
	for (size_t i = 0; i < CK_ARRAY_SIZE(cases); i++) {
		const char *path = cases[i].path ? cases[i].path : fifo;
		if (!cases[i].path && !have_fifo)
			continue;
		struct ck_file *f = NULL;
		struct ck_error *err = ck_file_open(path, &f);
		EXPECT(err && ck_error_code(err) == CK_ERR_INVALID && strstr(msg(err), path) &&
			       strstr(msg(err), cases[i].what),
		       "%s: %s", path, msg(err));
		ck_error_destroy(err);
		ck_file_destroy(f);
	}

	/* a newline, a tab and an escape in the name: escaped, one line */
	const char *odd = tpath("new\nline\tand\033[31mred");
	struct ck_file *f = NULL;
	struct ck_error *err = ck_file_open(odd, &f);
	EXPECT(err && !strchr(msg(err), '\n') && !strchr(msg(err), '\t') &&
		       !strchr(msg(err), '\033') &&
		       strstr(msg(err), "new\\nline\\tand\\x1b[31mred"),
	       "%s", msg(err));
	ck_error_destroy(err);
	ck_file_destroy(f);
}

int main(void)
{
	int r = harness_begin("file");
	if (r)
		return r;
	run("ck_file bounds and messages", test_file);
	run("ck_file refuses FIFOs, devices, directories; names stay one line", test_file_kinds);
	return harness_end();
}
