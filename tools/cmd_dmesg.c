/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crashkit dmesg: the kernel log saved in a dump, as makedumpfile prints it
 * (the newest: 1.7.5+ with its caller column, unless --no-caller). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "tools.h"

struct dmesg_state {
	FILE *out;
	char *buf;
	size_t size;
	unsigned long records;
	unsigned int flags;	/* ck_log_format() */
	bool write_failed;
};

static int print_record(const struct ck_log_record *rec, void *arg)
{
	struct dmesg_state *s = arg;
	size_t need = ck_log_format(rec, s->flags, s->buf, s->size);
	if (need >= s->size) {
		size_t size = need + 1 > 2 * s->size ? need + 1 : 2 * s->size;
		/* the record is formatted again: nothing to keep */
		free(s->buf);
		s->buf = malloc(size);
		s->size = s->buf ? size : 0;
		if (!s->buf)
			return -1;
		need = ck_log_format(rec, s->flags, s->buf, s->size);
	}
	if (fwrite(s->buf, 1, need, s->out) != need) {
		s->write_failed = true;
		return -1;
	}
	s->records++;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: crashkit dmesg [--caller|--no-caller] DUMP [SPLIT-FILE...]\n"
		   "\n"
		   "Prints the kernel log kept in the dump's printk buffer, oldest first, one\n"
		   "line per record in the format of 'makedumpfile --dump-dmesg'.\n"
		   "\n"
		   "  --no-caller   no caller column: makedumpfile up to 1.7.4's layout\n"
		   "  --caller      the caller column ('[    T123] ' or '[      C1] ' after the\n"
		   "                timestamp), as makedumpfile 1.7.5+ prints it; fails if the\n"
		   "                kernel does not record callers\n"
		   "By default the column is shown when the kernel records callers (VMCOREINFO\n"
		   "has OFFSET(printk_info.caller_id): every kernel since 5.10).\n"
		   "  -h, --help    this text; --version: crashkit's version\n");
}

/* --caller on a dump whose kernel records no caller fails rather than
 * print a log without the column that was asked for. */
struct ck_error *ck_dmesg_flags(const struct ck_kernel *kernel, enum ck_caller_mode mode,
				const char *path, unsigned int *ret)
{
	if (mode == CK_CALLER_ON && !ck_kernel_log_has_caller_id(kernel))
		return ck_error_create(CK_ERR_UNSUPPORTED,
				       "--caller: the kernel log in '%s' records no callers (its VMCOREINFO "
				       "has neither OFFSET(printk_info.caller_id) nor OFFSET(printk_log.caller_id))",
				       path);
	*ret = mode == CK_CALLER_OFF ? 0 : CK_LOG_FORMAT_CALLER;
	return NULL;
}

int ck_cmd_dmesg(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "caller", no_argument, NULL, 'C' },
		{ "no-caller", no_argument, NULL, 'N' },
		{ 0 },
	};
	enum ck_caller_mode mode = CK_CALLER_AUTO;
	int c;
	optind = 0;	/* options anywhere, as GNU getopt permutes them */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout); return CK_EXIT_OK;
		case 'V': return ck_print_version();
		case 'C': mode = CK_CALLER_ON; break;
		case 'N': mode = CK_CALLER_OFF; break;
		default: return ck_getopt_error("dmesg", c, argv);
		}
	}
	if (optind >= argc)
		return ck_usage_error("dmesg", "expected a DUMP argument (or the files of a split dump)");

	struct ck_dump *dump;
	struct ck_kernel *kernel;
	const struct ck_open_opts oo = { .kernel = true, .warn = ck_warn_cb };
	struct ck_error *err = ck_open((const char *const *)argv + optind, (size_t)(argc - optind),
				       &oo, &dump, &kernel);
	if (err)
		return ck_report(err);

	struct dmesg_state s = { .out = stdout, .size = 1024 };
	s.buf = malloc(s.size);
	if (!s.buf)
		err = &ck_error_nomem;
	else if (!(err = ck_dmesg_flags(kernel, mode, argv[optind], &s.flags)))
		err = ck_kernel_log_walk(kernel, print_record, &s);
	if (!err && s.write_failed)
		err = ck_error_create(CK_ERR_OS, "writing the log to standard output failed");
	if (fflush(stdout) && !err)
		err = ck_error_create(CK_ERR_OS, "writing the log to standard output failed");
	free(s.buf);
	ck_kernel_destroy(kernel);
	ck_dump_destroy(dump);
	if (err) {
		if (s.records)
			ck_warn("printed %lu records before the error", s.records);
		return ck_report(err);
	}
	return CK_EXIT_OK;
}
