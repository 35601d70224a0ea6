/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * crashkit capture: save a vmcore filtered and compressed, with
 * makedumpfile's common options (docs/capture.md).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "crashkit.h"
#include "tools.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: crashkit capture [options] VMCORE OUTPUT\n"
		"       crashkit capture -F [options] VMCORE > STREAM\n"
		"       crashkit capture -R OUTPUT < STREAM\n"
		"       crashkit capture --mem-usage [--json] VMCORE\n"
		"       crashkit capture [options] --split VMCORE OUTPUT1 OUTPUT2 [...]\n"
		"       crashkit capture --reassemble OUTPUT1 OUTPUT2 [...] OUTPUT\n"
		"       crashkit capture --dump-dmesg [--caller|--no-caller] VMCORE LOGFILE\n"
		"\n"
		"Saves VMCORE (/proc/vmcore, an ELF vmcore, or a kdump-compressed or\n"
		"flattened dump) as a kdump-compressed or ELF dump, leaving out the pages the\n"
		"dump level excludes.  OUTPUT is written as OUTPUT.incomplete and renamed\n"
		"when complete.\n"
		"\n"
		"  -z                 zstd (the default)\n"
		"  -c                 zlib\n"
		"  -l                 lzo\n"
		"  -p                 snappy\n"
		"  -d N               dump level, makedumpfile's bits: 1 zero, 2 cache,\n"
		"                     4 private cache, 8 user, 16 free (default 31)\n"
		"  -E                 ELF output (as makedumpfile -E): excluded pages cut out\n"
		"  -F                 makedumpfile's flattened stream on stdout\n"
		"  -R OUTPUT          reassemble a flattened stream read from stdin\n"
		"  -L SIZE            stop at SIZE bytes (K, M, G suffixes): the dump is\n"
		"                     kept, flagged incomplete, as OUTPUT.incomplete\n"
		"  --num-threads N    compression threads (default: online CPUs)\n"
		"  --message-level N  0: quiet; other values print the stats line\n"
		"  -f                 overwrite OUTPUT\n"
		"  --non-mmap         read /proc/vmcore with read(), not mmap() windows\n"
		"  --mmap             map the input in windows even if it is a plain file\n"
		"  --mem-usage        pages per class in VMCORE (/proc/kcore: this system),\n"
		"                     what -d 31 would keep; --json for a JSON object\n"
		"  --split            makedumpfile's split dump: one file per pfn range,\n"
		"                     the ranges balancing the pages kept\n"
		"  --splitblock-size KiB  the unit those ranges are made of (default 1 GiB)\n"
		"  --reassemble       join the files of a split dump into OUTPUT\n"
		"  --dump-dmesg VMCORE LOGFILE  write the kernel log as makedumpfile 1.7.5+\n"
		"                     does: a caller column ('[      T0] ') after the\n"
		"                     timestamp when the kernel records callers (5.10+)\n"
		"  --no-caller        with --dump-dmesg: no caller column, as makedumpfile\n"
		"                     up to 1.7.4 (Debian 12's 1.7.2); --caller: the column\n"
		"                     or fail if the kernel records no callers\n"
		"\n"
		"  -h, --help         this text; --version: crashkit's version\n"
		"Options go anywhere on the line; '--' ends them.\n"
		"\n"
		"Exit status: 0 complete, 1 error or incomplete dump, 2 bad arguments.\n");
}

struct progress {
	struct timeval start;
	bool tty;
	unsigned int last_pct;
};

static double elapsed(const struct timeval *t0)
{
	struct timeval t;
	gettimeofday(&t, NULL);
	return (t.tv_sec - t0->tv_sec) + (t.tv_usec - t0->tv_usec) / 1e6;
}

static void show_progress(const struct ck_capture_stats *st, void *arg)
{
	struct progress *p = arg;
	if (!p->tty || !st->max_pfn)
		return;
	unsigned int pct = (unsigned int)(st->pages_done * 100 / st->max_pfn);
	if (pct == p->last_pct)
		return;
	p->last_pct = pct;
	double t = elapsed(&p->start);
	fprintf(stderr, "\rcapture: %3u%%  %llu/%llu pfns  %.1f MB/s ", pct,
		(unsigned long long)st->pages_done, (unsigned long long)st->max_pfn,
		t > 0 ? st->pages_done * 4096.0 / t / 1e6 : 0.0);
}

/* ck_usage_error() with makedumpfile's exit status in compatibility mode. */
#define usage_fail(rc, cmd, ...) (ck_usage_error(cmd, __VA_ARGS__), (rc))

struct log_out {
	FILE *f;
	unsigned int flags;	/* ck_log_format() */
};

static int write_record(const struct ck_log_record *rec, void *arg)
{
	const struct log_out *o = arg;
	char small[512];
	size_t need = ck_log_format(rec, o->flags, small, sizeof(small));
	if (need < sizeof(small))
		return fwrite(small, 1, need, o->f) == need ? 0 : -1;
	char *big = malloc(need + 1);
	if (!big)
		return -1;
	ck_log_format(rec, o->flags, big, need + 1);
	int r = fwrite(big, 1, need, o->f) == need ? 0 : -1;
	free(big);
	return r;
}

static bool parse_size(const char *s, uint64_t *ret)
{
	char *end;
	if (!s || !*s || *s == '-')
		return false;
	unsigned long long v = strtoull(s, &end, 0);
	uint64_t mul = 1;
	switch (*end) {
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	case '\0': break;
	default: return false;
	}
	if (*end || (v && mul > UINT64_MAX / v))
		return false;
	*ret = v * mul;
	return true;
}

/* makedumpfile's exit status for everything that fails (makedumpfile.h:
 * COMPLETED 0, FAILED 1), used in compatibility mode. */
#define MDF_FAILED 1

/* --dump-dmesg: the log as the newest makedumpfile writes it (with its
 * caller column when the kernel records callers) unless --no-caller. */
static int dump_dmesg(const char *input, const char *path, enum ck_caller_mode mode)
{
	struct ck_dump *dump;
	struct ck_kernel *kernel;
	const struct ck_open_opts oo = { .kernel = true, .warn = ck_warn_cb };
	struct ck_error *err = ck_open(&input, 1, &oo, &dump, &kernel);
	if (err)
		return ck_report(err);
	struct log_out o = { 0 };
	if ((err = ck_dmesg_flags(kernel, mode, input, &o.flags))) {
		ck_kernel_destroy(kernel);
		ck_dump_destroy(dump);
		return ck_report(err);
	}
	FILE *f = fopen(path, "w");
	if (!f) {
		ck_kernel_destroy(kernel);
		ck_dump_destroy(dump);
		return ck_report(ck_error_create_errno(errno, "cannot create '%s'", path));
	}
	o.f = f;
	err = ck_kernel_log_walk(kernel, write_record, &o);
	bool bad = ferror(f);
	if (fclose(f) != 0)
		bad = true;
	ck_kernel_destroy(kernel);
	ck_dump_destroy(dump);
	if (err)
		return ck_report(err);
	if (bad)
		return ck_report(ck_error_create(CK_ERR_OS, "writing '%s' failed", path));
	return CK_EXIT_OK;
}

/* --reassemble DUMPFILE1 ... DUMPFILE */
static int split_join(int nargs, char **args, bool force, int msg_level)
{
	if (nargs < 2)
		return ck_report(ck_error_create(CK_ERR_INVALID,
			"--reassemble wants the split files and then the output file"));
	uint64_t pages = 0, bytes = 0;
	struct ck_error *err = ck_capture_split_reassemble((const char *const *)args,
							   (size_t)nargs - 1, args[nargs - 1],
							   force, &pages, &bytes);
	if (err)
		return ck_report(err);
	if (msg_level)
		fprintf(stderr, "capture: reassembled %d split files into '%s': %llu pages, "
			"%llu bytes\n", nargs - 1, args[nargs - 1], (unsigned long long)pages,
			(unsigned long long)bytes);
	return CK_EXIT_OK;
}

/* --split VMCORE DUMPFILE1 DUMPFILE2 ... */
static int split_capture(int nargs, char **args, struct ck_capture_opts *o,
			 uint64_t splitblock, int msg_level)
{
	size_t nr = nargs > 1 ? (size_t)nargs - 1 : 0;
	struct ck_capture_stats *st = calloc(nr ? nr : 1, sizeof(*st));
	if (!st)
		return ck_report(&ck_error_nomem);
	struct progress p = { .tty = msg_level && isatty(STDERR_FILENO), .last_pct = 101 };
	gettimeofday(&p.start, NULL);
	o->progress = show_progress;
	o->progress_arg = &p;
	struct ck_error *err = nargs < 1 ? ck_error_create(CK_ERR_INVALID,
						"--split wants VMCORE and at least two output files")
		: ck_capture_split(args[0], (const char *const *)args + 1, nr, o, splitblock, st);
	if (p.tty)
		fputc('\n', stderr);
	for (size_t i = 0; msg_level && i < nr; i++) {
		if (!st[i].threads)
			continue;
		fprintf(stderr, "capture: split file %zu of %zu '%s': pfns 0x%llx-0x%llx, kept %llu, "
			"bytes out %llu%s\n", i + 1, nr, args[i + 1],
			(unsigned long long)st[i].split_start, (unsigned long long)st[i].split_end,
			(unsigned long long)st[i].kept, (unsigned long long)st[i].bytes_out,
			st[i].incomplete ? " (INCOMPLETE)" : "");
	}
	if (msg_level && nr && st[0].threads)
		fprintf(stderr, "capture: %s level %d, %u threads, %.2f s: %zu split files\n",
			st[0].encoder ? st[0].encoder : ck_codec_name(o->codec), o->dump_level,
			st[0].threads, elapsed(&p.start), nr);
	if (nr && st[0].filter_note[0] && msg_level)
		ck_warn("filtering limited: %s", st[0].filter_note);
	free(st);
	return err ? ck_report(err) : CK_EXIT_OK;
}

/* What capture's command line asks for. */
struct capture_args {
	const char *cmd;	/* "capture" or "makedumpfile", for messages */
	bool compat;		/* makedumpfile's defaults and exit status */
	int usage_rc;		/* the exit status of a usage error: 2, makedumpfile's 1 */
	struct ck_capture_opts o;
	bool dmesg, reassemble, codec_given, mem_usage, json, split, join;
	enum ck_caller_mode caller;
	uint64_t splitblock;
	int msg_level;
};

enum { OPT_THREADS = 256, OPT_MSG, OPT_DMESG, OPT_IGNORED, OPT_MEM_USAGE,
       OPT_JSON, OPT_NON_MMAP, OPT_MMAP, OPT_CALLER, OPT_NO_CALLER, OPT_VERSION };
enum { OPT_SPLIT = 320, OPT_JOIN, OPT_SPLITBLOCK };	/* split dumps */

static const struct option lopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "num-threads", required_argument, NULL, OPT_THREADS },
	{ "message-level", required_argument, NULL, OPT_MSG },
	{ "dump-dmesg", no_argument, NULL, OPT_DMESG },
	{ "caller", no_argument, NULL, OPT_CALLER },
	{ "no-caller", no_argument, NULL, OPT_NO_CALLER },
	{ "mem-usage", no_argument, NULL, OPT_MEM_USAGE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "split", no_argument, NULL, OPT_SPLIT },
	{ "reassemble", no_argument, NULL, OPT_JOIN },
	{ "splitblock-size", required_argument, NULL, OPT_SPLITBLOCK },
	{ "cyclic-buffer", required_argument, NULL, OPT_IGNORED },
	{ "non-cyclic", no_argument, NULL, OPT_IGNORED },
	{ "non-mmap", no_argument, NULL, OPT_NON_MMAP },
	{ "mmap", no_argument, NULL, OPT_MMAP },
	{ 0 },
};

/* One option into a: -1 to go on, else the exit status (help, version, a
 * usage error said in one line). */
static int capture_option(int c, char **argv, struct capture_args *a)
{
	unsigned long long v;
	switch (c) {
	case 'h': usage(stdout); return CK_EXIT_OK;
	case OPT_VERSION: return ck_print_version();
	case 'z': a->o.codec = CK_CODEC_ZSTD; a->codec_given = true; break;
	case 'c': a->o.codec = CK_CODEC_ZLIB; a->codec_given = true; break;
	case 'l': a->o.codec = CK_CODEC_LZO; a->codec_given = true; break;
	case 'p': a->o.codec = CK_CODEC_SNAPPY; a->codec_given = true; break;
	case 'd':
		if (!ck_parse_u64(optarg, 10, &v) || v > 31)
			return usage_fail(a->usage_rc, a->cmd, "-d wants a dump level 0..31, not '%s'",
					      optarg);
		a->o.dump_level = (int)v;
		break;
	case 'F': a->o.flattened = true; break;
	case 'E': a->o.elf = true; break;
	case 'R': a->reassemble = true; break;
	case 'L':
		if (!parse_size(optarg, &a->o.size_limit) || !a->o.size_limit)
			return usage_fail(a->usage_rc, a->cmd, "-L wants a size, not '%s'", optarg);
		break;
	case 'f': a->o.force = true; break;
	case 'D': break;	/* makedumpfile's debug messages */
	case OPT_IGNORED: break;	/* tuning that our design does not need */
	case OPT_DMESG: a->dmesg = true; break;
	case OPT_CALLER: a->caller = CK_CALLER_ON; break;
	case OPT_NO_CALLER: a->caller = CK_CALLER_OFF; break;
	case OPT_NON_MMAP: a->o.read = CK_CAPTURE_READ_PREAD; break;
	case OPT_MMAP: a->o.read = CK_CAPTURE_READ_MMAP; break;
	case OPT_MEM_USAGE: a->mem_usage = true; break;
	case OPT_JSON:
		if (a->compat)
			return usage_fail(a->usage_rc, a->cmd, "unknown option '--json'");
		a->json = true;
		break;
	case OPT_SPLIT: a->split = true; break;
	case OPT_JOIN: a->join = true; break;
	case OPT_SPLITBLOCK:	/* KiB, as makedumpfile */
		if (!ck_parse_u64(optarg, 10, &v) || !v || v > (UINT64_MAX >> 10))
			return usage_fail(a->usage_rc, a->cmd, "--splitblock-size wants KiB, not '%s'",
					  optarg);
		a->splitblock = v << 10;
		break;
	case 'x': case 'i': case 'g': case 'X': case 'b':
		ck_usage_error(a->cmd, "option '-%c' is not supported (docs/capture.md)", c);
		return a->usage_rc;
	case OPT_THREADS:
		if (!ck_parse_u64(optarg, 10, &v) || v < 1 || v > 64)
			return usage_fail(a->usage_rc, a->cmd, "--num-threads wants 1..64, not '%s'",
					      optarg);
		a->o.nr_threads = (unsigned int)v;
		break;
	case OPT_MSG:
		if (!ck_parse_u64(optarg, 10, &v) || v > 31)
			return usage_fail(a->usage_rc, a->cmd, "--message-level wants 0..31");
		a->msg_level = (int)v;
		break;
	default:	/* '?', ':' */
		ck_getopt_error(a->cmd, c, argv);
		return a->usage_rc;
	}
	return -1;
}

static int capture_main(int argc, char **argv, bool compat)
{
	struct capture_args a = {
		.cmd = compat ? "makedumpfile" : "capture",
		.compat = compat,
		.usage_rc = compat ? MDF_FAILED : CK_EXIT_USAGE,
		/* makedumpfile's defaults: uncompressed, dump level 0. */
		.o = {
			.codec = compat ? CK_CODEC_NONE : CK_CODEC_ZSTD,
			.dump_level = compat ? 0 : 31,
			.out_fd = -1,
		},
		.caller = CK_CALLER_AUTO,
		.msg_level = 7,
	};
	int c, stop;
	optind = 0;	/* options anywhere, as GNU getopt (and makedumpfile) permute them */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hzclpd:FEL:fRx:i:g:Xb:D", lopts, NULL)) != -1) {
		if ((stop = capture_option(c, argv, &a)) >= 0)
			return stop;
	}
	const char *cmd = a.cmd;
	struct ck_capture_opts o = a.o;
	bool dmesg = a.dmesg, reassemble = a.reassemble, codec_given = a.codec_given;
	bool mem_usage = a.mem_usage, json = a.json, split = a.split, join = a.join;
	enum ck_caller_mode caller = a.caller;
	uint64_t splitblock = a.splitblock;
	int usage_rc = a.usage_rc, msg_level = a.msg_level;
	int nargs = argc - optind;
	if (mem_usage) {
		if (nargs != 1)
			return usage_fail(usage_rc, cmd, "--mem-usage wants one VMCORE (/proc/kcore)");
		int rc = ck_mem_usage_main(argv[optind], compat, json, msg_level);
		return rc && compat ? MDF_FAILED : rc;
	}
	if (json)
		return usage_fail(usage_rc, cmd, "--json goes with --mem-usage");
	if (caller != CK_CALLER_AUTO && !dmesg)
		return usage_fail(usage_rc, cmd, "--caller and --no-caller go with --dump-dmesg");
	if ((split || join) && (split + join + reassemble + dmesg > 1))
		return usage_fail(usage_rc, cmd, "--split, --reassemble, -R and --dump-dmesg "
				  "exclude each other");
	if (dmesg) {
		if (nargs != 2)
			return usage_fail(usage_rc, cmd, "--dump-dmesg wants VMCORE LOGFILE");
		int rc = dump_dmesg(argv[optind], argv[optind + 1], caller);
		return rc && compat ? MDF_FAILED : rc;
	}
	if (reassemble) {
		if (nargs != 1)
			return usage_fail(usage_rc, cmd, "-R reads the stream from stdin: give only OUTPUT");
		if (isatty(STDIN_FILENO))
			return usage_fail(usage_rc, cmd, "-R: stdin is a terminal; redirect the stream to it");
		uint64_t bytes = 0;
		struct ck_error *err = ck_capture_reassemble(STDIN_FILENO, argv[optind], o.force, &bytes);
		if (err) {
			int rc = ck_report(err);
			return compat ? MDF_FAILED : rc;
		}
		if (msg_level)
			fprintf(stderr, "capture: reassembled %llu bytes into '%s'\n",
				(unsigned long long)bytes, argv[optind]);
		return CK_EXIT_OK;
	}
	/* Argument counts are usage errors (exit 2, makedumpfile's 1). */
	if (join && nargs < 2)
		return usage_fail(usage_rc, cmd,
				  "--reassemble wants the split files and then the output file");
	if (split && nargs < 3)
		return usage_fail(usage_rc, cmd,
				  "--split wants VMCORE and at least two output files, got %d",
				  nargs > 0 ? nargs - 1 : 0);
	if (join || split) {
		int rc = join ? split_join(argc - optind, argv + optind, o.force, msg_level)
			      : split_capture(argc - optind, argv + optind, &o, splitblock,
					      msg_level);
		return rc && compat ? MDF_FAILED : rc;
	}
	if (o.elf && codec_given)
		return usage_fail(usage_rc, cmd, "-E writes an ELF dump, which has no compression: "
				  "drop -c/-l/-p/-z");
	const char *input = nargs >= 1 ? argv[optind] : NULL;
	const char *output = nargs >= 2 ? argv[optind + 1] : NULL;
	if (o.flattened) {
		if (nargs != 1)
			return usage_fail(usage_rc, cmd, "-F writes to stdout: give only VMCORE");
		if (isatty(STDOUT_FILENO))
			return usage_fail(usage_rc, cmd, "-F: stdout is a terminal; redirect it");
		o.out_fd = STDOUT_FILENO;
		if (o.size_limit)
			return usage_fail(usage_rc, cmd, "-L does not apply to -F");
	} else if (nargs != 2) {
		return usage_fail(usage_rc, cmd, "expected VMCORE OUTPUT");
	}

	struct progress p = { .tty = msg_level && isatty(STDERR_FILENO), .last_pct = 101 };
	gettimeofday(&p.start, NULL);
	o.progress = show_progress;
	o.progress_arg = &p;
	struct ck_capture_stats st;
	struct ck_error *err = ck_capture(input, output, &o, &st);
	if (p.tty)
		fputc('\n', stderr);
	if (st.filter_note[0] && msg_level)
		ck_warn("filtering limited: %s", st.filter_note);
	if (st.unreadable)
		ck_warn("%llu pages could not be read and are left out",
			(unsigned long long)st.unreadable);
	if (msg_level && st.threads) {
		double t = elapsed(&p.start);
		fprintf(stderr,
			"capture: %s level %d, %u threads, %.2f s: pages ram %llu, zero %llu, "
			"cache %llu, cache_private %llu, user %llu, free %llu, hwpoison %llu, "
			"offline %llu, absent in input %llu, kept %llu; bytes in %llu, out %llu%s\n",
			st.encoder ? st.encoder : ck_codec_name(o.codec), o.dump_level,
			st.threads, t, (unsigned long long)st.pages_ram,
			(unsigned long long)st.excluded[CK_PAGE_ZERO],
			(unsigned long long)st.excluded[CK_PAGE_CACHE],
			(unsigned long long)st.excluded[CK_PAGE_CACHE_PRIVATE],
			(unsigned long long)st.excluded[CK_PAGE_USER],
			(unsigned long long)st.excluded[CK_PAGE_FREE],
			(unsigned long long)st.excluded[CK_PAGE_HWPOISON],
			(unsigned long long)st.excluded[CK_PAGE_OFFLINE],
			(unsigned long long)st.absent, (unsigned long long)st.kept, (unsigned long long)st.bytes_in,
			(unsigned long long)st.bytes_out, st.incomplete ? " (INCOMPLETE)" : "");
	}
	if (err) {
		int rc = ck_report(err);
		return compat ? MDF_FAILED : rc;
	}
	return CK_EXIT_OK;
}

int ck_cmd_capture(int argc, char **argv)
{
	return capture_main(argc, argv, false);
}

/* `crashkit makedumpfile ...` or a `makedumpfile` symlink: makedumpfile's
 * defaults and exit status; the options it has that we lack fail clearly. */
int ck_cmd_makedumpfile(int argc, char **argv)
{
	return capture_main(argc, argv, true);
}
