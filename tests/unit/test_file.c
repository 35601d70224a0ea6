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

int main(void)
{
	int r = harness_begin("file");
	if (r)
		return r;
	run("ck_file bounds and messages", test_file);
	return harness_end();
}
