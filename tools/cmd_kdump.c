/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * crashkit kdump check | recommend (docs/kdump.md): lib/kdump/'s answers
 * as text or JSON, and an exit code a script can test.
 */
#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tools.h"

static const char kdump_help[] =
	"usage: crashkit kdump COMMAND [OPTIONS]\n"
	"\n"
	"The kernel side of crash dumps (crashkit-kdump(8)):\n"
	"  check       can this kernel dump, and is it ready to?  (exit 0 ready, 1 not)\n"
	"  recommend   crashkernel= for this machine, and the GRUB line\n"
	"  load        load the capture kernel and crashkit's initramfs (kexec_file_load)\n"
	"  unload      unload it\n"
	"  status      is a capture kernel loaded, and which\n"
	"  initramfs   build the capture initramfs (crashkit, libraries, modules)\n"
	"  save        (in the capture kernel) save the dump as kdump.conf says\n"
	"  init        (in the capture kernel) the initramfs's /init\n"
	"  list        the dumps saved in the target (after the reboot)\n"
	"\n"
	"Run 'crashkit kdump COMMAND --help' for its options.\n";

static const char check_help[] =
	"usage: crashkit kdump check [--config FILE] [--root DIR] [--json]\n"
	"\n"
	"Reports the kernel config options kdump needs (from /boot/config-RELEASE,\n"
	"/proc/config.gz or FILE), crashkernel= on the command line, the memory the\n"
	"kernel reserved, whether a capture kernel is loaded, and kernel.sysrq; then one\n"
	"verdict line.\n"
	"\n"
	"  -c, --config FILE  the kernel config to read (plain, or gzip if it ends in .gz)\n"
	"  -r, --root DIR     read DIR/proc, DIR/sys and DIR/boot instead of /\n"
	"  -j, --json         one JSON object\n"
	"  -h, --help         this help;  --version  the version\n"
	"\n"
	"Exit status: 0 ready (memory reserved, capture kernel loaded), 1 not ready or\n"
	"the config cannot be read, 2 bad arguments.\n";

static const char recommend_help[] =
	"usage: crashkit kdump recommend [--root DIR] [--json]\n"
	"\n"
	"crashkernel= for this machine's RAM: the seeds' table, kdump-utils' and Debian's\n"
	"defaults, and an estimate of what crashkit's own capture needs; the line to put\n"
	"in /etc/default/grub.\n"
	"\n"
	"  -r, --root DIR     read DIR/proc and DIR/boot instead of /\n"
	"  -j, --json         one JSON object\n"
	"  -h, --help         this help;  --version  the version\n"
	"\n"
	"Exit status: 0, 1 when the RAM size cannot be read, 2 bad arguments.\n";

enum { OPT_VERSION = 0x100 };

/* asprintf, NULL when out of memory. */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s;
	va_start(ap, f);
	int n = vasprintf(&s, f, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

/* Options of check (config true) or recommend.  Returns -1 to go on, else
 * the exit code. */
static int parse_opts(const char *cmd, const char *help, bool config, int argc, char **argv,
		      struct ck_kdump_opts *o, bool *json)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "root", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 0;
	opterr = 0;
	bool help_asked = false, version = false;
	while ((c = getopt_long(argc, argv, config ? ":c:r:jh" : ":r:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (!config)
				return ck_usage_error(cmd, "unknown option '--config'");
			o->config = optarg;
			break;
		case 'r': o->root = optarg; break;
		case 'j': *json = true; break;
		case 'h': help_asked = true; break;
		case OPT_VERSION: version = true; break;
		default:
			if (!help_asked && !version)
				return ck_getopt_error(cmd, c, argv);
		}
	}
	if (help_asked)
		return ck_print_help(help);
	if (version)
		return ck_print_version();
	if (optind < argc)
		return ck_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	if (o->root && !o->root[0])
		return ck_usage_error(cmd, "--root needs a directory");
	return -1;
}

static const char *role_name(enum ck_kdump_role r)
{
	switch (r) {
	case CK_KDUMP_NEEDED: return "needed";
	case CK_KDUMP_NEEDED_ONE: return "one of";
	case CK_KDUMP_WANTED: return "wanted";
	default: return "info";
	}
}

static const char *verdict_name(enum ck_kdump_verdict v)
{
	switch (v) {
	case CK_KDUMP_READY: return "ready";
	case CK_KDUMP_NO_KERNEL_SUPPORT: return "no-kernel-support";
	case CK_KDUMP_NO_RESERVATION: return "no-reservation";
	case CK_KDUMP_RESERVATION_FAILED: return "reservation-failed";
	default: return "not-loaded";
	}
}

static char *size_text(uint64_t bytes)
{
	char b[24];
	ck_kdump_format_size(bytes, b);
	return strdup(b);
}

/* The verdict as one sentence (text and JSON say the same). */
static char *verdict_text(const struct ck_kdump_check *c)
{
	int64_t reserved = c->crash_size >= 0 ? c->crash_size : c->iomem_bytes;
	char *sz = size_text(reserved > 0 ? (uint64_t)reserved : 0), *sug = size_text(c->suggest);
	char *s = NULL;
	switch (c->verdict) {
	case CK_KDUMP_READY:
		s = fmt("ready: %s reserved, capture kernel loaded", sz);
		break;
	case CK_KDUMP_NO_KERNEL_SUPPORT: {
		/* "CONFIG_A CONFIG_B|CONFIG_C" -> "CONFIG_A, CONFIG_B or CONFIG_C" */
		char *m = fmt("%s", c->missing);
		size_t len = m ? strlen(m) : 0;
		char *w = m ? calloc(1, len * 4 + 1) : NULL;
		for (size_t i = 0, j = 0; w && i < len; i++) {
			if (m[i] == ' ')
				w[j++] = ',', w[j++] = ' ';
			else if (m[i] == '|')
				memcpy(w + j, " or ", 4), j += 4;
			else
				w[j++] = m[i];
		}
		s = w ? fmt("not ready: the kernel is built without %s (it cannot dump: "
			    "another kernel is needed)", w) : NULL;
		free(w);
		free(m);
		break;
	}
	case CK_KDUMP_NO_RESERVATION:
		s = fmt("not ready: no crashkernel= on the command line: add "
				     "crashkernel=%s and reboot (crashkit kdump recommend)", sug);
		break;
	case CK_KDUMP_RESERVATION_FAILED:
		s = fmt("not ready: crashkernel=%s reserved nothing (no range for this "
				     "RAM, or no room for it: see dmesg | grep -i crashkernel)",
				     c->crashkernel);
		break;
	default:
		s = fmt("not ready: %s reserved but no capture kernel loaded "
				     "(crashkit kdump load, or kexec -p)", sz);
	}
	free(sz);
	free(sug);
	return s;
}

static const char *sysrq_text(int v)
{
	if (v < 0)
		return "";
	if (v == 1)
		return " (every SysRq function; the keyboard's SysRq-c crashes)";
	if (v == 0)
		return " (keyboard SysRq off; /proc/sysrq-trigger still works for root)";
	return v & 8 ? " (bitmask: SysRq-c allowed)" : " (bitmask: SysRq-c not allowed; "
		"/proc/sysrq-trigger still works for root)";
}

static void print_check(const struct ck_kdump_check *c, const char *verdict)
{
	printf("kernel:        %s\nconfig:        %s\n\n", c->release, c->config_source);
	for (size_t i = 0; i < c->nr_options; i++) {
		const struct ck_kdump_option *o = &c->options[i];
		char name[40];
		snprintf(name, sizeof(name), "CONFIG_%s", o->name);
		printf("  %-23s %-8s %-7s %s\n", name, o->value[0] ? o->value : "not set",
		       role_name(o->role), o->purpose);
	}
	putchar('\n');
	if (c->crashkernel)
		printf("crashkernel=   %s\n", c->crashkernel);
	else
		printf("crashkernel=   %s\n", c->cmdline_error ? c->cmdline_error
		       : "none on the kernel command line");
	if (c->crash_size >= 0)
		printf("reserved:      %lld bytes (%lld MiB)\n", (long long)c->crash_size,
		       (long long)(c->crash_size >> 20));
	else
		printf("reserved:      unknown (%s)\n", c->crash_size_error);
	if (c->iomem_bytes > 0)
		printf("/proc/iomem:   %lld MiB of \"Crash kernel\"\n", (long long)(c->iomem_bytes >> 20));
	else
		printf("/proc/iomem:   %s\n", c->iomem_hidden ? "\"Crash kernel\" hidden (run as root)"
		       : c->iomem_error ? c->iomem_error : "no \"Crash kernel\" range");
	if (c->crash_loaded >= 0)
		printf("loaded:        %s\n", c->crash_loaded ? "yes (a capture kernel is loaded)"
		       : "no capture kernel loaded");
	else
		printf("loaded:        unknown (%s)\n", c->crash_loaded_error);
	if (c->sysrq >= 0)
		printf("kernel.sysrq:  %d%s\n", c->sysrq, sysrq_text(c->sysrq));
	else
		printf("kernel.sysrq:  unknown (%s)\n", c->sysrq_error);
	printf("verdict:       %s\n", verdict);
}

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *jnum(int64_t v)
{
	return v >= 0 ? json_object_new_int64(v) : NULL;
}

static json_object *check_json(const struct ck_kdump_check *c, const char *verdict)
{
	json_object *o = json_object_new_object(), *opts = json_object_new_array();
	json_object_object_add(o, "release", jstr(c->release));
	json_object_object_add(o, "config", jstr(c->config_source));
	for (size_t i = 0; i < c->nr_options; i++) {
		json_object *e = json_object_new_object();
		json_object_object_add(e, "name", jstr(c->options[i].name));
		json_object_object_add(e, "value", c->options[i].value[0] ? jstr(c->options[i].value)
				       : NULL);
		json_object_object_add(e, "role", jstr(role_name(c->options[i].role)));
		json_object_object_add(e, "purpose", jstr(c->options[i].purpose));
		json_object_array_add(opts, e);
	}
	json_object_object_add(o, "options", opts);
	json_object *missing = json_object_new_array();
	for (const char *p = c->missing; p && *p;) {
		size_t l = strcspn(p, " ");
		json_object_array_add(missing, json_object_new_string_len(p, (int)l));
		p += l + (p[l] == ' ');
	}
	json_object_object_add(o, "missing", missing);
	json_object_object_add(o, "crashkernel", jstr(c->crashkernel));
	json_object_object_add(o, "crash_size", jnum(c->crash_size));
	json_object_object_add(o, "iomem_crash_bytes", jnum(c->iomem_bytes));
	json_object_object_add(o, "crash_loaded", c->crash_loaded >= 0
			       ? json_object_new_boolean(c->crash_loaded) : NULL);
	json_object_object_add(o, "sysrq", jnum(c->sysrq));
	json_object_object_add(o, "mem_total", c->mem_total ? jnum((int64_t)c->mem_total) : NULL);
	char *sug = c->suggest ? size_text(c->suggest) : NULL;
	char *sugs = sug ? fmt("crashkernel=%s", sug) : NULL;
	json_object_object_add(o, "suggest", jstr(sugs));
	free(sug);
	free(sugs);
	json_object *errs = json_object_new_object();
	const char *names[] = { "cmdline", "crash_size", "iomem", "crash_loaded", "sysrq" };
	const char *vals[] = { c->cmdline_error, c->crash_size < 0 ? c->crash_size_error : NULL,
			       c->iomem_error, c->crash_loaded < 0 ? c->crash_loaded_error : NULL,
			       c->sysrq_error };
	for (int i = 0; i < 5; i++)
		if (vals[i])
			json_object_object_add(errs, names[i], jstr(vals[i]));
	json_object_object_add(o, "errors", errs);
	json_object_object_add(o, "verdict", jstr(verdict_name(c->verdict)));
	json_object_object_add(o, "ready", json_object_new_boolean(c->verdict == CK_KDUMP_READY));
	json_object_object_add(o, "message", jstr(verdict));
	return o;
}

static int print_json(json_object *o)
{
	int ok = puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						     JSON_C_TO_STRING_NOSLASHESCAPE)) >= 0;
	json_object_put(o);
	return ok && !fflush(stdout);
}

static int cmd_check(int argc, char **argv)
{
	struct ck_kdump_opts o = { 0 };
	bool json = false;
	int rc = parse_opts("kdump check", check_help, true, argc, argv, &o, &json);
	if (rc >= 0)
		return rc;
	struct ck_kdump_check *c;
	struct ck_error *err = ck_kdump_check(&o, &c);
	if (err)
		return ck_report(ck_error_prepend(err, "kdump check"));
	char *verdict = verdict_text(c);
	bool ok;
	if (json) {
		ok = print_json(check_json(c, verdict));
	} else {
		print_check(c, verdict ? verdict : "");
		ok = !fflush(stdout);
	}
	rc = !ok || !verdict ? CK_EXIT_ERROR : c->verdict == CK_KDUMP_READY ? CK_EXIT_OK
		: CK_EXIT_ERROR;
	free(verdict);
	ck_kdump_check_destroy(c);
	return rc;
}

static const char cma_note[] =
	"crashkernel=SIZE,cma (Linux 6.17+, CONFIG_CMA) adds memory the running system\n"
	"  lends to user pages and movable kernel allocations until a crash.  It is on top\n"
	"  of the plain reservation above, which still holds the capture kernel and its\n"
	"  initramfs.  Unsafe when user memory is wanted in the dump (pages in that range\n"
	"  are left out, and movable kernel pages may be missing too), and riskier with\n"
	"  devices doing DMA: a transfer the crashed kernel started may land in the capture\n"
	"  kernel's memory (the kernel waits 10 s before booting it to lower the risk).\n";

static double mib(uint64_t b) { return (double)b / (1 << 20); }

static void print_recommend(const struct ck_kdump_recommend *r)
{
	printf("kernel:     %s\nRAM:        %.1f GiB (MemTotal)\n\n", r->release,
	       (double)r->ram / (1u << 30));
	printf("%-26s %-66s %s\n", "policy", "crashkernel=", "here");
	for (int i = 0; i < 3; i++) {
		char *s = size_text(r->policies[i].size);
		printf("%-26s %-66s %s\n", r->policies[i].name, r->policies[i].spec,
		       r->policies[i].size ? s : "none");
		free(s);
	}
	char *est = size_text(r->estimate);
	printf("%-26s %-66s %s\n", "crashkit estimate",
	       "kernel + modules + 2 x initramfs + capture peak + kernel runtime", est);
	free(est);
	printf("  kernel     %7.1f MiB  %s\n", mib(r->kernel_bytes), r->kernel_source);
	if (r->modules_error)
		printf("  modules    %7.1f MiB  %s\n", 0.0, r->modules_error);
	else
		printf("  modules    %7.1f MiB  %u loaded now (/proc/modules)\n",
		       mib(r->modules_bytes), r->nr_modules);
	printf("  initramfs  %7.1f MiB  crashkit and its libraries (8 MiB) + the modules; "
	       "twice: archive and unpacked\n", mib(r->initramfs_bytes));
	printf("  capture    %7.1f MiB  crashkit's peak RSS, measured (docs/capture.md)\n",
	       mib(r->peak_bytes));
	printf("  runtime    %7.1f MiB  the capture kernel's own memory (a guess until measured)\n\n",
	       mib(r->runtime_bytes));
	printf("recommended: %s (the larger of the seeds' table and the estimate)\n\n",
	       r->crashkernel);
	printf("In /etc/default/grub, then update-grub (grub2-mkconfig) and reboot:\n"
	       "  GRUB_CMDLINE_LINUX_DEFAULT=\"... %s\"\n\n%s", r->crashkernel, cma_note);
}

static json_object *recommend_json(const struct ck_kdump_recommend *r)
{
	json_object *o = json_object_new_object(), *pol = json_object_new_array();
	json_object_object_add(o, "release", jstr(r->release));
	json_object_object_add(o, "ram", json_object_new_int64((int64_t)r->ram));
	for (int i = 0; i < 3; i++) {
		json_object *e = json_object_new_object();
		json_object_object_add(e, "name", jstr(r->policies[i].name));
		json_object_object_add(e, "spec", jstr(r->policies[i].spec));
		json_object_object_add(e, "size", json_object_new_int64((int64_t)r->policies[i].size));
		json_object_array_add(pol, e);
	}
	json_object_object_add(o, "policies", pol);
	json_object *e = json_object_new_object();
	json_object_object_add(e, "kernel", json_object_new_int64((int64_t)r->kernel_bytes));
	json_object_object_add(e, "kernel_source", jstr(r->kernel_source));
	json_object_object_add(e, "modules", json_object_new_int64((int64_t)r->modules_bytes));
	json_object_object_add(e, "nr_modules", json_object_new_int64(r->nr_modules));
	json_object_object_add(e, "initramfs", json_object_new_int64((int64_t)r->initramfs_bytes));
	json_object_object_add(e, "capture_peak", json_object_new_int64((int64_t)r->peak_bytes));
	json_object_object_add(e, "kernel_runtime", json_object_new_int64((int64_t)r->runtime_bytes));
	json_object_object_add(e, "total", json_object_new_int64((int64_t)r->estimate));
	json_object_object_add(o, "estimate", e);
	json_object_object_add(o, "size", json_object_new_int64((int64_t)r->size));
	json_object_object_add(o, "crashkernel", jstr(r->crashkernel));
	char *g = fmt("GRUB_CMDLINE_LINUX_DEFAULT=\"... %s\"", r->crashkernel);
	json_object_object_add(o, "grub", jstr(g));
	free(g);
	return o;
}

static int cmd_recommend(int argc, char **argv)
{
	struct ck_kdump_opts o = { 0 };
	bool json = false;
	int rc = parse_opts("kdump recommend", recommend_help, false, argc, argv, &o, &json);
	if (rc >= 0)
		return rc;
	struct ck_kdump_recommend *r;
	struct ck_error *err = ck_kdump_recommend(&o, &r);
	if (err)
		return ck_report(ck_error_prepend(err, "kdump recommend"));
	bool ok;
	if (json) {
		ok = print_json(recommend_json(r));
	} else {
		print_recommend(r);
		ok = !fflush(stdout);
	}
	ck_kdump_recommend_destroy(r);
	return ok ? CK_EXIT_OK : CK_EXIT_ERROR;
}

int ck_cmd_kdump(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "check"))
		return cmd_check(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "recommend"))
		return cmd_recommend(argc - 1, argv + 1);
	/* load, unload, status, initramfs: tools/cmd_kdump_load.c. */
	static const struct { const char *name; int (*run)(int, char **); } more[] = {
		{ "load", ck_cmd_kdump_load }, { "unload", ck_cmd_kdump_unload },
		{ "status", ck_cmd_kdump_status }, { "initramfs", ck_cmd_kdump_initramfs },
		{ "list", ck_cmd_kdump_list },	/* tools/cmd_kdump_list.c */
	};
	for (size_t i = 0; argc >= 2 && i < sizeof(more) / sizeof(more[0]); i++)
		if (!strcmp(argv[1], more[i].name))
			return more[i].run(argc - 1, argv + 1);
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return ck_print_help(kdump_help);
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--version"))
			return ck_print_version();
	if (argc < 2)
		return ck_usage_error("kdump", "a command is needed: check, recommend, load, "
				      "unload, status, initramfs, save or list");
	if (argv[1][0] == '-')
		return ck_usage_error("kdump", "unknown option '%.64s' (a command comes first: "
				      "check, recommend, load, status, initramfs, ...)", argv[1]);
	return ck_usage_error("kdump", "unknown command '%.64s'", argv[1]);
}
