/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the metadata JSON the store keeps per crash and reads back
 * (lib/cores/json.c ck_core_record_from_json, what `cores list|info` shows a
 * non-root user from STORE/by-uid/), then the record written out again
 * (ck_core_record_file_json) and a key set in its metadata
 * (ck_core_meta_json_add, on the record's metadata as handle.c calls it).
 * The input is the JSON text.
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
	struct ck_core_record rec;
	struct ck_error *err = ck_core_record_from_json(text, &rec);
	if (!err) {
		if (!rec.name || !rec.comm || !rec.exe || !rec.meta_json || !rec.backtrace)
			abort();
		ck_core_record_matches(&rec, "crasher");
		ck_core_record_matches(&rec, "#1");
		free(ck_core_record_file_json(&rec));
		/* as handle.c does, on the metadata of a record */
		free(ck_core_meta_json_add(rec.meta_json, "acl_error", "fuzz"));
		ck_core_record_deinit(&rec);
	}
	fz_drop(err);
	/* any text: NULL unless it is a JSON object */
	free(ck_core_meta_json_add(text, "acl_error", "fuzz"));
	free(text);
	return 0;
}

static void fz_seeds(const char *dir)
{
	static const char rec[] =
		"{\n  \"id\": 12,\n  \"name\": \"core.1700000000123456.4242.0123abcd\",\n"
		"  \"core_file\": \"core.1700000000123456.4242.0123abcd.zst\",\n"
		"  \"time_usec\": 1700000000123456,\n  \"pid\": 4242,\n  \"tid\": 4243,\n"
		"  \"uid\": 1000,\n  \"gid\": 1000,\n  \"signal\": 11,\n"
		"  \"comm\": \"crasher\",\n  \"exe\": \"/usr/bin/crasher\",\n"
		"  \"cmdline\": \"crasher --boom\",\n  \"hostname\": \"box\",\n"
		"  \"boot_id\": \"0123abcd-0000-4000-8000-000000000000\",\n"
		"  \"signature\": \"0123456789abcdef\",\n  \"state\": \"stored\",\n"
		"  \"reason\": \"\",\n  \"core_size\": 1048576,\n  \"stored_size\": 65536,\n"
		"  \"truncated\": false,\n"
		"  \"backtrace\": \"#0 0x401136 boom (crasher)\\n#1 0x401150 main (crasher)\\n\",\n"
		"  \"modules\": \"0x400000-0x402000 0123 /usr/bin/crasher\\n\",\n"
		"  \"proc\": { \"status\": \"Name:\\tcrasher\", \"environ\": [\"A=1\"] },\n"
		"  \"namespaces\": { \"pid\": \"pid:[4026531836]\" }\n}\n";
	fz_seed(dir, "record", rec, sizeof(rec) - 1);
	static const char odd[] = "{\"pid\": \"4242\", \"uid\": -1, \"signal\": 1e99, "
				  "\"comm\": null, \"exe\": [1,2], \"time_usec\": 9223372036854775807,"
				  " \"name\": \"\\u0000x\"}";
	fz_seed(dir, "odd-types", odd, sizeof(odd) - 1);
	fz_seed(dir, "empty-object", "{}", 2);
}
