/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: what `crashkit list` reads back (docs/catalog.md): the
 * triage.json stored beside a kernel dump (lib/cores/kdumps.c
 * ck_kdump_triage_parse; the dump directory is not the catalog's, so the
 * file is untrusted), the parsed crash written out again
 * (ck_crashes_json), and the same bytes as a stored backtrace and module
 * list (lib/cores/signature.c ck_core_signature_from_text, which the
 * catalog runs on old records; frame names are the crashed program's).
 * The input is the text; for the backtrace, up to the first NUL is the
 * backtrace and the rest the module list.
 */
#include "cores/cores.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct ck_crash c;
	if (ck_crash_init(&c)) {
		struct ck_error *err = ck_kdump_triage_parse(text, size, &c);
		if (!err) {
			if (c.signature[0] && strlen(c.signature) != 16)
				abort();
			c.kernel = true;
			c.seen = c.boots = 1;
			free(ck_crashes_json(&c, 1));
		}
		fz_drop(err);
		ck_crash_deinit(&c);
	}
	size_t bt_len = strlen(text);
	const char *mods = bt_len < size ? text + bt_len + 1 : "";
	struct ck_core_sig sig;
	struct ck_error *err = ck_core_signature_from_text("/usr/bin/crasher", 11, text, mods, &sig);
	if (!err) {
		if (strlen(sig.signature) != 16 || strncmp(sig.input, "v1|segv|crasher", 15))
			abort();
		ck_core_sig_deinit(&sig);
	}
	fz_drop(err);
	free(text);
	return 0;
}

static void fz_seeds(const char *dir)
{
	static const char triage[] =
		"{\"schema\":\"crashkit-triage/1\",\"class\":\"sysrq\",\"message\":\"Kernel panic - "
		"not syncing: sysrq triggered crash\",\"title\":\"sysrq: sysrq_handle_crash\","
		"\"signature\":\"75ff5a6bf9665db8\",\"signature_input\":\"v1|sysrq|sysrq_handle_crash|"
		"proc_reg_write|vfs_write\",\"culprit\":{\"function\":\"sysrq_handle_crash\","
		"\"symbol\":\"sysrq_handle_crash\",\"offset\":22,\"module\":null,\"address\":"
		"\"0xffffffff81890926\",\"line\":null},\"panic_task\":{\"pid\":119,\"comm\":"
		"\"ck_crash\",\"cpu\":0},\"taint\":{\"mask\":0,\"flags\":\"\",\"modules\":[]},"
		"\"release\":\"6.1.0-57-amd64\",\"build_id\":\"6a2b4ac77585b8cf102cba771300e573c8489b69\","
		"\"uptime\":7,\"backtrace\":[],\"cpus\":[],\"partial\":false}";
	fz_seed(dir, "triage", triage, sizeof(triage) - 1);
	static const char odd[] = "{\"schema\":\"crashkit-triage/1\",\"class\":7,\"signature\":"
				  "\"zz\",\"panic_task\":{\"pid\":1e99,\"cpu\":-1},\"culprit\":[],"
				  "\"uptime\":-4,\"partial\":\"yes\"}";
	fz_seed(dir, "odd-types", odd, sizeof(odd) - 1);
	static const char bt[] = "TID 42:\n#0  0x00007f0000001234 raise (libc.so.6)\n"
				 "#1  0x0000555500001010 ?? (crasher)\n"
				 "#2  0x0000555500002000 do_segv.isra.0 (crasher)\n"
				 "#3  0x0000555500003000 main (crasher)\n"
				 "#4  0x00007f0000002000 __libc_start_call_main (libc.so.6)\n"
				 "TID 43:\n#0  0x0000555500004000 other (crasher)\n"
				 "\0"
				 "0x0000555500000000-0x0000555500010000 abcd /tmp/x/crasher\n"
				 "0x00007f0000000000-0x00007f0000100000 - /usr/lib/libc.so.6\n";
	fz_seed(dir, "backtrace", bt, sizeof(bt) - 1);
}
