/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crashkit info: what a dump is, in text or JSON. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "tools.h"

/* What `info` reports about the kernel inside the dump; every field is
 * optional, because a damaged dump may answer some questions and not others. */
struct kernel_facts {
	bool have_kernel;
	const char *release;
	char version[65];
	char machine[65];
	char nodename[65];
	const char *build_id;
	bool have_crash_time;
	int64_t crash_time;
	bool have_offset;
	uint64_t offset;
	bool have_panic_cpu;
	int32_t panic_cpu;
	bool have_symbols;
	struct ck_symbols_info symbols;	/* how kallsyms was read */
	char *symbols_error;		/* why it could not be */
	struct ck_dump_loss loss;	/* pages lost to truncation */
	const char *kernel_error;	/* why kernel facts are missing */
	char *kernel_error_buf;
};

/* The version string ("#1 SMP PREEMPT_DYNAMIC Debian ...") and the host
 * name are not in VMCOREINFO: the kernel's utsname has them. */
static void read_utsname(struct ck_kernel *kernel, struct kernel_facts *f)
{
	struct ck_utsname uts;
	struct ck_error *err = ck_kernel_utsname(kernel, &uts);
	if (err) {
		ck_error_destroy(err);
		return;
	}
	memcpy(f->nodename, uts.nodename, sizeof(f->nodename));
	memcpy(f->version, uts.version, sizeof(f->version));
	memcpy(f->machine, uts.machine, sizeof(f->machine));
}

static void gather_kernel(struct ck_dump *dump, struct kernel_facts *f,
			  struct ck_kernel **kernel_ret)
{
	struct ck_kernel *kernel;
	struct ck_error *err = ck_kernel_create(dump, &kernel);
	if (err) {
		f->kernel_error_buf = strdup(ck_error_message(err));
		f->kernel_error = f->kernel_error_buf ? f->kernel_error_buf : "out of memory";
		ck_error_destroy(err);
		return;
	}
	*kernel_ret = kernel;
	f->have_kernel = true;
	f->release = ck_kernel_vmcoreinfo_str(kernel, "OSRELEASE");
	f->build_id = ck_kernel_vmcoreinfo_str(kernel, "BUILD-ID");
	err = ck_kernel_crash_time(kernel, &f->crash_time);
	f->have_crash_time = !err;
	ck_error_destroy(err);
	f->have_offset = ck_kernel_vmcoreinfo_str(kernel, "KERNELOFFSET") != NULL;
	f->offset = ck_kernel_offset(kernel);
	read_utsname(kernel, f);

	err = ck_kernel_symbols_info(kernel, &f->symbols);
	if (err) {
		f->symbols_error = strdup(ck_error_message(err));
		ck_error_destroy(err);
		return;
	}
	f->have_symbols = true;

	/* -1 for a dump of a running machine: "none" */
	err = ck_kernel_panic_cpu(kernel, &f->panic_cpu);
	f->have_panic_cpu = !err;
	ck_error_destroy(err);
}

static void format_time(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || !strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, size, "%" PRId64, t);
}

static uint64_t ranges_total(const struct ck_mem_range *r, size_t n)
{
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += r[i].size;
	return total;
}

/* info -v: which kallsyms address encoding was chosen, and what vouched for it. */
static void print_symbols(const struct kernel_facts *f)
{
	if (!f->have_symbols) {
		printf("%-16s %s\n", "kallsyms:", f->symbols_error ? f->symbols_error : "out of memory");
		return;
	}
	const struct ck_symbols_info *s = &f->symbols;
	printf("%-16s %s: %s, %zu symbols\n", "kallsyms:", s->encoding, s->description,
	       s->nr_symbols);
	printf("%-16s %u of %u VMCOREINFO symbols agree (%s)", "  verified:", s->agreed,
	       s->checked, s->agreed_names);
	if (*s->differ_names)
		printf("; differ: %s", s->differ_names);
	printf("\n");
}

static void print_text(struct ck_dump *dump, const struct kernel_facts *f, bool verbose)
{
	const struct ck_dump_info *in = ck_dump_info(dump);
	const struct ck_mem_range *ranges;
	size_t nr_ranges;
	ck_dump_mem_ranges(dump, &ranges, &nr_ranges);
	char tbuf[64];

	printf("%-16s %s\n", "file:", in->path);
	printf("%-16s %s", "format:", in->format);
	if (in->header_version)
		printf(" (header version %d)", in->header_version);
	printf("\n");
	printf("%-16s %s\n", "origin:", in->origin ? in->origin : "unknown");
	printf("%-16s %s\n", "compression:", in->compression ? in->compression : "none");
	if (in->dump_level >= 0)
		printf("%-16s %d\n", "dump level:", in->dump_level);
	else
		printf("%-16s unfiltered\n", "dump level:");
	printf("%-16s %s\n", "incomplete:", in->incomplete ? "yes (flagged by its writer)" : "no");
	if (in->split && in->split_files > 1)
		printf("%-16s pfn 0x%" PRIx64 "-0x%" PRIx64 " from %" PRIu32 " files of a split "
		       "dump\n", "split:", in->split_start_pfn, in->split_end_pfn, in->split_files);
	else if (in->split)
		printf("%-16s pfn 0x%" PRIx64 "-0x%" PRIx64 " (one file of a split dump; pages "
		       "outside it are in the others)\n", "split:", in->split_start_pfn,
		       in->split_end_pfn);
	if (in->truncated) {
		printf("%-16s yes: %" PRIu64 " of %" PRIu64 " bytes (%" PRIu64 " missing)\n",
		       "truncated:", in->file_size, in->expected_size,
		       in->expected_size - in->file_size);
		if (f->loss.pages)
			printf("%-16s %" PRIu64 " saved pages (%" PRIu64 " MiB) between pfn 0x%"
			       PRIx64 " and 0x%" PRIx64 "\n", "lost pages:", f->loss.pages,
			       f->loss.pages * in->page_size >> 20, f->loss.first_pfn,
			       f->loss.last_pfn);
		else
			printf("%-16s none: only trailing data is cut\n", "lost pages:");
	} else
		printf("%-16s no\n", "truncated:");
	if (f->have_kernel) {
		printf("%-16s %s\n", "release:", f->release ? f->release : "unknown");
		printf("%-16s %s\n", "version:", f->version[0] ? f->version : "unknown");
		if (f->nodename[0])
			printf("%-16s %s\n", "hostname:", f->nodename);
		printf("%-16s %s\n", "build id:", f->build_id ? f->build_id : "unknown");
	} else if (in->uts_release[0]) {
		printf("%-16s %s\n", "release:", in->uts_release);
		printf("%-16s %s\n", "version:", in->uts_version);
	}
	printf("%-16s %s\n", "arch:", in->arch ? in->arch : (f->machine[0] ? f->machine : "unknown"));
	if (f->have_crash_time) {
		format_time(f->crash_time, tbuf, sizeof(tbuf));
		printf("%-16s %s\n", "crash time:", tbuf);
	} else if (in->header_time) {
		format_time(in->header_time, tbuf, sizeof(tbuf));
		printf("%-16s %s (dump header)\n", "dump time:", tbuf);
	}
	if (f->have_offset)
		printf("%-16s 0x%" PRIx64 "\n", "kaslr offset:", f->offset);
	printf("%-16s %u\n", "page size:", in->page_size);
	printf("%-16s %u\n", "cpus:", in->nr_cpus);
	if (f->have_panic_cpu) {
		if (f->panic_cpu < 0)
			printf("%-16s none (the kernel had not panicked)\n", "panic cpu:");
		else
			printf("%-16s %d\n", "panic cpu:", f->panic_cpu);
	} else if (f->have_kernel && !f->have_symbols) {
		printf("%-16s unknown (kernel symbols unreadable%s)\n", "panic cpu:",
		       verbose ? ": see kallsyms below" : "; info -v says why");
	}
	uint64_t total = ranges_total(ranges, nr_ranges);
	printf("%-16s %zu ranges, %" PRIu64 " MiB\n", "memory:", nr_ranges, total >> 20);
	if (verbose) {
		for (size_t i = 0; i < nr_ranges; i++)
			printf("  %#018" PRIx64 "-%#018" PRIx64 " %8" PRIu64 " KiB\n", ranges[i].start,
			       ranges[i].start + ranges[i].size, ranges[i].size >> 10);
	}
	if (verbose && f->have_kernel)
		print_symbols(f);
	if (!f->have_kernel)
		printf("%-16s %s\n", "kernel:", f->kernel_error);
}

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static int print_json(struct ck_dump *dump, const struct kernel_facts *f)
{
	const struct ck_dump_info *in = ck_dump_info(dump);
	const struct ck_mem_range *ranges;
	size_t nr_ranges;
	ck_dump_mem_ranges(dump, &ranges, &nr_ranges);

	json_object *o = json_object_new_object();
	json_object_object_add(o, "file", jstr(in->path));
	json_object_object_add(o, "format", jstr(in->format));
	json_object_object_add(o, "header_version", json_object_new_int(in->header_version));
	json_object_object_add(o, "origin", jstr(in->origin));
	json_object_object_add(o, "compression", jstr(in->compression));
	json_object_object_add(o, "dump_level",
			       in->dump_level >= 0 ? json_object_new_int(in->dump_level) : NULL);
	json_object_object_add(o, "incomplete", json_object_new_boolean(in->incomplete));
	json_object_object_add(o, "truncated", json_object_new_boolean(in->truncated));
	if (in->split) {
		json_object *sp = json_object_new_object();
		json_object_object_add(sp, "start_pfn", json_object_new_uint64(in->split_start_pfn));
		json_object_object_add(sp, "end_pfn", json_object_new_uint64(in->split_end_pfn));
		json_object_object_add(sp, "files", json_object_new_int((int)in->split_files));
		json_object_object_add(o, "split", sp);
	}
	json_object_object_add(o, "file_size", json_object_new_uint64(in->file_size));
	json_object_object_add(o, "expected_size", json_object_new_uint64(in->expected_size));
	json_object_object_add(o, "lost_pages", json_object_new_uint64(f->loss.pages));
	const char *release = f->have_kernel ? f->release : (in->uts_release[0] ? in->uts_release : NULL);
	json_object_object_add(o, "release", jstr(release));
	const char *version = f->version[0] ? f->version : (in->uts_version[0] ? in->uts_version : NULL);
	json_object_object_add(o, "version", jstr(version));
	json_object_object_add(o, "hostname", jstr(f->nodename[0] ? f->nodename : NULL));
	json_object_object_add(o, "build_id", jstr(f->build_id));
	json_object_object_add(o, "arch", jstr(in->arch));
	json_object_object_add(o, "crash_time",
			       f->have_crash_time ? json_object_new_int64(f->crash_time) : NULL);
	json_object_object_add(o, "header_time",
			       in->header_time ? json_object_new_int64(in->header_time) : NULL);
	json_object_object_add(o, "kaslr_offset",
			       f->have_offset ? json_object_new_uint64(f->offset) : NULL);
	json_object_object_add(o, "page_size", json_object_new_int64(in->page_size));
	json_object_object_add(o, "cpus", json_object_new_int64(in->nr_cpus));
	json_object_object_add(o, "panic_cpu",
			       f->have_panic_cpu && f->panic_cpu >= 0
				       ? json_object_new_int(f->panic_cpu) : NULL);
	json_object *jr = json_object_new_array();
	for (size_t i = 0; i < nr_ranges; i++) {
		json_object *r = json_object_new_object();
		json_object_object_add(r, "start", json_object_new_uint64(ranges[i].start));
		json_object_object_add(r, "size", json_object_new_uint64(ranges[i].size));
		json_object_array_add(jr, r);
	}
	json_object_object_add(o, "memory_ranges", jr);
	json_object_object_add(o, "memory_bytes",
			       json_object_new_uint64(ranges_total(ranges, nr_ranges)));
	json_object_object_add(o, "kernel_error", jstr(f->have_kernel ? NULL : f->kernel_error));
	json_object *ks = NULL;
	if (f->have_symbols) {
		ks = json_object_new_object();
		json_object_object_add(ks, "encoding", jstr(f->symbols.encoding));
		json_object_object_add(ks, "symbols", json_object_new_uint64(f->symbols.nr_symbols));
		json_object_object_add(ks, "checked", json_object_new_int((int)f->symbols.checked));
		json_object_object_add(ks, "agreed", json_object_new_int((int)f->symbols.agreed));
	}
	json_object_object_add(o, "kallsyms", ks);
	json_object_object_add(o, "kallsyms_error", jstr(f->symbols_error));
	int ok = puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return ok < 0 ? CK_EXIT_ERROR : CK_EXIT_OK;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: crashkit info [--json] [-v|--verbose] DUMP [SPLIT-FILE...]\n"
		   "\n"
		   "Says what a crash dump is: its format, compression and dump level, whether it\n"
		   "is complete, the kernel release, version and build id, the crash time, page\n"
		   "size, CPUs, the panic CPU and the memory it holds.\n"
		   "\n"
		   "  --json          one JSON object; unknown fields are null\n"
		   "  -v, --verbose   also the memory ranges and how kallsyms was read\n"
		   "  -h, --help      this text; --version: crashkit's version\n"
		   "Options go anywhere on the line; '--' ends them.\n");
}

int ck_cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	bool json = false, verbose = false;
	int c;
	optind = 0;	/* options anywhere, as GNU getopt permutes them */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jvh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'v': verbose = true; break;
		case 'h': usage(stdout); return CK_EXIT_OK;
		case 'V': return ck_print_version();
		default: return ck_getopt_error("info", c, argv);
		}
	}
	if (optind >= argc)
		return ck_usage_error("info", "expected a DUMP argument (or the files of a split dump)");

	struct ck_dump *dump;
	const struct ck_open_opts oo = { .warn = ck_warn_cb };
	struct ck_error *err = ck_open((const char *const *)argv + optind, (size_t)(argc - optind),
				       &oo, &dump, NULL);
	if (err)
		return ck_report(err);
	struct kernel_facts f = { 0 };
	struct ck_kernel *kernel = NULL;
	err = ck_dump_lost_pages(dump, &f.loss);
	if (err) {
		ck_dump_destroy(dump);
		return ck_report(err);
	}
	gather_kernel(dump, &f, &kernel);
	int ret;
	if (json) {
		ret = print_json(dump, &f);
	} else {
		print_text(dump, &f, verbose);
		ret = fflush(stdout) ? CK_EXIT_ERROR : CK_EXIT_OK;
	}
	free(f.kernel_error_buf);
	free(f.symbols_error);
	ck_kernel_destroy(kernel);
	ck_dump_destroy(dump);
	return ret;
}
