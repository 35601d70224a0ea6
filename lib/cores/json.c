/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A record as JSON, three ways from one table of its fields: what `cores list
 * --json` prints of each crash, what `cores info --json` prints of one, and
 * the metadata file STORE/<name>.json (and its by-uid copy), which is the
 * collected metadata with the record's fields over it.  And back: a metadata
 * file read into a record.
 */
#include <json-c/json.h>
#include <stddef.h>
#include <string.h>

#include "cores/cores.h"

enum field_kind { F_STR, F_I64, F_INT, F_U64, F_BOOL };	/* char *, int64_t, int ... */

struct field {
	const char *key;
	enum field_kind kind;
	size_t off;
};

#define STR(k) { #k, F_STR, offsetof(struct ck_core_record, k) }
#define FIELD(k, kind) { #k, kind, offsetof(struct ck_core_record, k) }

/* In the order `list` and `info` print them; `list` stops at NR_SUMMARY. */
static const struct field fields[] = {
	FIELD(id, F_I64),	STR(name),		FIELD(time_usec, F_I64),
	FIELD(pid, F_INT),	FIELD(tid, F_INT),	FIELD(uid, F_INT),
	FIELD(gid, F_INT),	FIELD(signal, F_INT),	STR(comm),
	STR(exe),		STR(signature),		STR(state),
	STR(reason),		STR(core_file),		FIELD(core_size, F_U64),
	FIELD(stored_size, F_U64), FIELD(truncated, F_BOOL),
	/* info only */
	STR(cmdline),		STR(hostname),		STR(boot_id),
	STR(backtrace),		STR(modules),
};
#define NR_SUMMARY 17

/* The metadata file's order (over the collected metadata's keys). */
static const unsigned char file_order[] = {
	0, 1, 13, 2, 3, 4, 5, 6, 7, 8, 9, 17, 18, 19, 11, 12, 10, 14, 15, 16, 20, 21,
};

_Static_assert(CK_ARRAY_SIZE(file_order) == CK_ARRAY_SIZE(fields), "every field once");

static struct json_object *field_value(const struct ck_core_record *rec, const struct field *f)
{
	const char *p = (const char *)rec + f->off;
	switch (f->kind) {
	case F_STR: return json_object_new_string(*(char *const *)p);
	case F_I64: return json_object_new_int64(*(const int64_t *)p);
	case F_INT: return json_object_new_int64(*(const int *)p);
	case F_U64: return json_object_new_uint64(*(const uint64_t *)p);
	case F_BOOL: return json_object_new_boolean(*(const bool *)p);
	}
	return NULL;
}

static void add_field(struct json_object *o, const struct ck_core_record *rec, size_t i)
{
	json_object_object_add(o, fields[i].key, field_value(rec, &fields[i]));
}

char *ck_core_json_take_string(struct json_object *o)
{
	const char *js = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								JSON_C_TO_STRING_NOSLASHESCAPE)
			   : NULL;
	char *s = js ? strdup(js) : NULL;
	json_object_put(o);
	return s;
}

static struct json_object *summary(const struct ck_core_record *rec)
{
	struct json_object *o = json_object_new_object();
	for (size_t i = 0; o && i < NR_SUMMARY; i++)
		add_field(o, rec, i);
	return o;
}

char *ck_core_records_json(const struct ck_core_record *recs, size_t nr)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; a && i < nr; i++)
		json_object_array_add(a, summary(&recs[i]));
	return ck_core_json_take_string(a);
}

char *ck_core_record_json(const struct ck_core_record *rec, unsigned int signature_seen)
{
	struct json_object *o = summary(rec);
	for (size_t i = NR_SUMMARY; o && i < CK_ARRAY_SIZE(fields); i++)
		add_field(o, rec, i);
	if (o) {
		struct json_object *meta = json_tokener_parse(rec->meta_json);
		if (meta)
			json_object_object_add(o, "meta", meta);
		json_object_object_add(o, "signature_seen", json_object_new_int((int)signature_seen));
	}
	return ck_core_json_take_string(o);
}

char *ck_core_record_file_json(const struct ck_core_record *rec)
{
	struct json_object *o = json_tokener_parse(rec->meta_json ? rec->meta_json : "");
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = json_object_new_object();
	}
	for (size_t i = 0; o && i < CK_ARRAY_SIZE(file_order); i++)
		add_field(o, rec, file_order[i]);
	return ck_core_json_take_string(o);
}

char *ck_core_meta_json_add(const char *meta_json, const char *key, const char *value)
{
	struct json_object *o = json_tokener_parse(meta_json);
	/* JSON that is not an object ("[]", "1") has no keys to add to */
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return NULL;
	}
	json_object_object_add(o, key, json_object_new_string(value));
	return ck_core_json_take_string(o);
}

static char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;
	const char *s = json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
	return strdup(s ? s : "");
}

static int64_t jint(struct json_object *o, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static bool record_from_object(struct json_object *o, struct ck_core_record *r)
{
	*r = (struct ck_core_record){
		.id = jint(o, "id"),
		.time_usec = jint(o, "time_usec"),
		.pid = (int)jint(o, "pid"),
		.tid = (int)jint(o, "tid"),
		.uid = (int)jint(o, "uid"),
		.gid = (int)jint(o, "gid"),
		.signal = (int)jint(o, "signal"),
		.core_size = (uint64_t)jint(o, "core_size"),
		.stored_size = (uint64_t)jint(o, "stored_size"),
		.truncated = jint(o, "truncated") != 0,
	};
	bool ok = true;
	for (size_t i = 0; i < CK_ARRAY_SIZE(fields); i++) {
		if (fields[i].kind != F_STR)
			continue;
		char **p = (char **)((char *)r + fields[i].off);
		*p = jstr(o, fields[i].key);
		ok &= *p != NULL;
	}
	const char *js = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							 JSON_C_TO_STRING_NOSLASHESCAPE);
	r->meta_json = strdup(js ? js : "{}");
	return ok && r->meta_json;
}

struct ck_error *ck_core_record_from_json(const char *text, struct ck_core_record *ret)
{
	struct json_object *o = json_tokener_parse(text);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return ck_error_create(CK_ERR_FORMAT, "metadata is not a JSON object");
	}
	struct ck_core_record r;
	bool ok = record_from_object(o, &r);
	json_object_put(o);
	if (!ok) {
		ck_core_record_deinit(&r);
		return &ck_error_nomem;
	}
	*ret = r;
	return NULL;
}
