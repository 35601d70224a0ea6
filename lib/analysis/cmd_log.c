/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * log [-TtdmcR]: the printk ring (ck_kernel_log_walk) in crash's layout:
 * "[    1.234567] text", with -m the level in hex ("<6>"), -c the caller
 * ("[    T123] "), -T the time as crash computes it (boot date + seconds
 * since boot), -t no timestamp, -d the dev_printk dictionary.  A record's
 * embedded newlines continue under its text, indented by the prefix;
 * bytes that are neither printable nor space become '.'.
 *
 * Also the panic message `sys` shows, found in the log's text as crash
 * finds it (ck_log_panic_message).
 */
#include <ctype.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <string.h>
#include <time.h>

#include "analysis/analysis.h"
#include "base/base.h"

enum {
	LOG_NO_TIME = 1 << 0,	/* -t */
	LOG_LEVEL = 1 << 1,	/* -m */
	LOG_CTIME = 1 << 2,	/* -T */
	LOG_CALLER = 1 << 3,	/* -c */
	LOG_DICT = 1 << 4,	/* -d */
};

/* crash's width of the caller column: from pid_max (6 up to 99999, 7 up
 * to 999999), else 8 (also when the kernel has no pid_max symbol: 6.13
 * moved it into the pid namespace). */
#define PID_CHARS_DEFAULT 8

/* The dev_printk dictionary of a record (printk_info.dev_info). */
struct log_dict {
	bool ready;
	uint64_t infos;		/* desc_ring.infos */
	uint64_t count;		/* descriptors */
	uint64_t info_size;
	struct ck_member subsystem, device;
};

struct log_state {
	struct ck_analysis *a;
	unsigned int flags;
	int64_t boot_date;
	int pid_chars;
	struct ck_strbuf line;
	struct log_dict dict;
	FILE *out;
	bool failed;
};

/* ctime as crash prints it: "%a %b %e %T %Z %Y" in local time. */
static void format_ctime(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!localtime_r(&tt, &tm) || !strftime(buf, size, "%a %b %e %T %Z %Y", &tm))
		snprintf(buf, size, "%" PRId64, t);
}

static void add_dict_field(struct log_state *s, uint64_t at, const struct ck_member *m,
			   const char *key, size_t ilen)
{
	char val[129] = "";
	size_t n = (size_t)CK_MIN(m->size, sizeof(val) - 1);
	struct ck_error *err = ck_kernel_read(s->a->kernel, at + m->offset, val, n);
	if (err) {
		ck_error_destroy(err);
		return;
	}
	val[n] = '\0';
	if (val[0])
		ck_strbuf_addf(&s->line, "\n%*s%s=%s", (int)ilen, "", key, val);
}

/* The record's info is at index seq % count: the ring keeps a record's
 * sequence number and its descriptor id congruent (prb_reserve). */
static void add_dict(struct log_state *s, const struct ck_log_record *rec, size_t ilen)
{
	if (!s->dict.ready || !s->dict.count)
		return;
	uint64_t at = s->dict.infos + (rec->seq & (s->dict.count - 1)) * s->dict.info_size;
	add_dict_field(s, at, &s->dict.subsystem, "SUBSYSTEM", ilen);
	add_dict_field(s, at, &s->dict.device, "DEVICE", ilen);
}

static void format_record(struct log_state *s, const struct ck_log_record *rec)
{
	struct ck_strbuf *sb = &s->line;
	ck_strbuf_reset(sb);
	if (!(s->flags & LOG_NO_TIME)) {
		uint64_t sec = rec->ts_nsec / 1000000000u, rem = rec->ts_nsec % 1000000000u;
		if (s->flags & LOG_CTIME) {
			char t[64];
			format_ctime(s->boot_date + (int64_t)sec, t, sizeof(t));
			ck_strbuf_addf(sb, "[%s] ", t);
		} else {
			ck_strbuf_addf(sb, "[%5" PRIu64 ".%06" PRIu64 "] ", sec, rem / 1000);
		}
	}
	if ((s->flags & LOG_CALLER) && rec->has_caller_id) {
		char id[16];
		snprintf(id, sizeof(id), "%c%u", rec->caller_id & CK_LOG_CALLER_CPU ? 'C' : 'T',
			 rec->caller_id & ~CK_LOG_CALLER_CPU);
		ck_strbuf_addf(sb, "[%*s] ", s->pid_chars, id);
	}
	if (s->flags & LOG_LEVEL)
		ck_strbuf_addf(sb, "<%x>", rec->level);
	size_t ilen = sb->len;
	for (size_t i = 0; i < rec->text_len; i++) {
		unsigned char c = (unsigned char)rec->text[i];
		if (c == '\n')
			ck_strbuf_addf(sb, "\n%*s", (int)ilen, "");
		else
			ck_strbuf_add(sb, (c < 0x80 && (isprint(c) || isspace(c))) ? (const char *)&c : ".",
				      1);
	}
	if (s->flags & LOG_DICT)
		add_dict(s, rec, ilen);
	ck_strbuf_add(sb, "\n", 1);
}

static int print_record(const struct ck_log_record *rec, void *arg)
{
	struct log_state *s = arg;
	format_record(s, rec);
	if (s->line.failed || fwrite(s->line.buf, 1, s->line.len, s->out) != s->line.len) {
		s->failed = true;
		return 1;
	}
	return ck_analysis_interrupted();
}

/* --json: {"log": [{"seq", "ts_nsec", "level", "facility", "caller",
 * "text"}, ...]}, the text as the kernel wrote it. */
static int json_record(const struct ck_log_record *rec, void *arg)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "seq", json_object_new_int64((int64_t)rec->seq));
	json_object_object_add(o, "ts_nsec", json_object_new_int64((int64_t)rec->ts_nsec));
	json_object_object_add(o, "level", json_object_new_int(rec->level));
	json_object_object_add(o, "facility", json_object_new_int(rec->facility));
	if (rec->has_caller_id) {
		char id[16];
		snprintf(id, sizeof(id), "%c%u", rec->caller_id & CK_LOG_CALLER_CPU ? 'C' : 'T',
			 rec->caller_id & ~CK_LOG_CALLER_CPU);
		json_object_object_add(o, "caller", json_object_new_string(id));
	}
	json_object_object_add(o, "text", json_object_new_string_len(rec->text, (int)rec->text_len));
	json_object_array_add(arg, o);
	return ck_analysis_interrupted();
}

static int log_json(struct ck_analysis *a)
{
	json_object *arr = json_object_new_array();
	struct ck_error *err = ck_kernel_log_walk(a->kernel, json_record, arr);
	if (err) {
		json_object_put(arr);
		return ck_analysis_fail(a, "log", err);
	}
	json_object *top = json_object_new_object();
	json_object_object_add(top, "log", arr);
	fprintf(a->out, "%s\n",
		json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY |
							JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(top);
	return 0;
}

static void dict_setup(struct ck_analysis *a, struct log_dict *d)
{
	struct ck_types *types;
	struct ck_symbol prb;
	uint64_t ring, bits;
	struct ck_member infos, count_bits;
	uint32_t info_id;
	struct ck_error *err = ck_analysis_types(a, &types);
	if (!err)
		err = ck_kernel_symbol_by_name(a->kernel, "prb", &prb);
	if (!err)
		err = ck_kernel_read_u64(a->kernel, prb.address, &ring);
	if (!err)
		err = ck_member_of(types, "printk_ringbuffer", "desc_ring.infos", &infos);
	if (!err)
		err = ck_member_of(types, "printk_ringbuffer", "desc_ring.count_bits", &count_bits);
	if (!err)
		err = ck_read_member(a->kernel, types, ring, &count_bits, &bits);
	if (!err)
		err = ck_read_member(a->kernel, types, ring, &infos, &d->infos);
	if (!err)
		err = ck_type_find(types, "struct printk_info", &info_id);
	if (!err)
		err = ck_type_member(types, info_id, "dev_info.subsystem", &d->subsystem);
	if (!err)
		err = ck_type_member(types, info_id, "dev_info.device", &d->device);
	if (err || bits > 30) {
		fprintf(a->err, "log: -d: the dictionaries cannot be read: %s\n",
			err ? ck_error_message(err) : "implausible count_bits");
		ck_error_destroy(err);
		return;
	}
	d->count = 1ull << bits;
	d->info_size = ck_type_size(types, info_id);
	d->ready = true;
}

static int pid_chars(struct ck_analysis *a)
{
	struct ck_symbol s;
	uint32_t v;
	struct ck_error *err = ck_kernel_symbol_by_name(a->kernel, "pid_max", &s);
	if (!err)
		err = ck_kernel_read_u32(a->kernel, s.address, &v);
	if (err) {
		ck_error_destroy(err);
		return PID_CHARS_DEFAULT;
	}
	return v <= 99999 ? 6 : v <= 999999 ? 7 : PID_CHARS_DEFAULT;
}

/* crash's boot date for -T: the dump's date minus the whole seconds of
 * uptime. */
static struct ck_error *boot_date(struct ck_analysis *a, int64_t *ret)
{
	unsigned int hz;
	uint64_t j;
	int64_t date;
	struct ck_error *err = ck_kernel_date(a, &date);
	if (!err)
		err = ck_kernel_hz(a, &hz);
	if (!err)
		err = ck_kernel_uptime_jiffies(a, hz, &j);
	if (err)
		return err;
	*ret = date - (int64_t)(j / hz);
	return NULL;
}

static int log_usage(struct ck_analysis *a)
{
	fprintf(a->err, "Usage:\n  log [-TtdmcR]\nEnter \"help log\" for details.\n");
	return 1;
}

int ck_acmd_log(struct ck_analysis *a, int argc, char **argv)
{
	struct log_state s = { .a = a, .out = a->out, .pid_chars = PID_CHARS_DEFAULT };
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt(argc, argv, "TtdmascR")) != -1) {
		switch (c) {
		case 'T': s.flags |= LOG_CTIME; break;
		case 't': s.flags |= LOG_NO_TIME; break;
		case 'd': s.flags |= LOG_DICT; break;
		case 'm': s.flags |= LOG_LEVEL; break;
		case 'c': s.flags |= LOG_CALLER; break;
		case 'R': break;	/* no Rust symbols to demangle in these logs */
		case 'a':
		case 's':
			fprintf(a->err, "log: -%c is not supported yet (%s)\n", c,
				c == 'a' ? "the audit buffers" : "the per-CPU safe buffers");
			return 1;
		default: return log_usage(a);
		}
	}
	if (optind < argc)
		return log_usage(a);
	if (a->json)
		return log_json(a);
	if ((s.flags & LOG_CTIME) && !(s.flags & LOG_NO_TIME)) {
		struct ck_error *err = boot_date(a, &s.boot_date);
		if (err)
			return ck_analysis_fail(a, "log: -T", err);
	}
	if (s.flags & LOG_CALLER)
		s.pid_chars = pid_chars(a);
	if (s.flags & LOG_DICT)
		dict_setup(a, &s.dict);
	ck_strbuf_init(&s.line);
	struct ck_error *err = ck_kernel_log_walk(a->kernel, print_record, &s);
	ck_strbuf_deinit(&s.line);
	if (err)
		return ck_analysis_fail(a, "log", err);
	return s.failed ? 1 : 0;
}

/* ---- the panic message -------------------------------------------------- */

/* The strings crash looks for, in its order of preference: the first
 * line holding the first of them that occurs is the message. */
static const char *const panic_msgs[] = {
	"SysRq : Crash", "SysRq : Trigger a crash", "SysRq : Netdump", "Kernel panic: ",
	"Kernel panic - ", "Kernel BUG at", "kernel BUG at",
	"Unable to handle kernel paging request",
	"Unable to handle kernel NULL pointer dereference", "BUG: unable to handle kernel ",
	"general protection fault: ", "double fault: ", "divide error: ", "stack segment: ",
	"[Hardware Error]: ", "Bad mode in ", "Oops: ",
};
/* Then the first line with one of these. */
static const char *const panic_keywords[] = {
	"Unable to handle kernel", "BUG: unable to handle kernel", "Kernel BUG at",
	"kernel BUG at", "Bad mode in", "Oops", "Kernel panic",
};

struct text_state {
	struct log_state log;
	struct ck_strbuf all;
};

static int collect_text(const struct ck_log_record *rec, void *arg)
{
	struct text_state *t = arg;
	format_record(&t->log, rec);
	ck_strbuf_add(&t->all, t->log.line.buf, t->log.line.len);
	return t->all.failed;
}

static bool find_line(const char *text, const char *needle, char *buf, size_t size)
{
	const char *p = strstr(text, needle);
	if (!p)
		return false;
	const char *b = p;
	while (b > text && b[-1] != '\n')
		b--;
	const char *e = strchr(p, '\n');
	size_t len = e ? (size_t)(e - b) : strlen(b);
	snprintf(buf, size, "%.*s", (int)len, b);
	return true;
}

struct ck_error *ck_log_panic_message(struct ck_analysis *a, char *buf, size_t size)
{
	struct text_state t = { .log = { .a = a, .flags = LOG_NO_TIME } };
	ck_strbuf_init(&t.log.line);
	ck_strbuf_init(&t.all);
	struct ck_error *err = ck_kernel_log_walk(a->kernel, collect_text, &t);
	ck_strbuf_deinit(&t.log.line);
	if (!err && t.all.failed)
		err = &ck_error_nomem;
	buf[0] = '\0';
	const char *text = t.all.buf ? t.all.buf : "";
	bool found = false;
	for (size_t i = 0; !err && !found && i < CK_ARRAY_SIZE(panic_msgs); i++)
		found = find_line(text, panic_msgs[i], buf, size);
	/* line by line: the first holding any keyword */
	for (const char *l = text; !err && !found && *l;) {
		const char *e = strchr(l, '\n');
		size_t len = e ? (size_t)(e - l) : strlen(l);
		for (size_t k = 0; !found && k < CK_ARRAY_SIZE(panic_keywords); k++) {
			const char *p = memmem(l, len, panic_keywords[k], strlen(panic_keywords[k]));
			if (p) {
				snprintf(buf, size, "%.*s", (int)len, l);
				found = true;
			}
		}
		l += len + (e ? 1 : 0);
	}
	ck_strbuf_deinit(&t.all);
	return err;
}
