/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * crashkit kdump load | unload | status | initramfs (docs/kdump.md, "load",
 * "initramfs"): thin over lib/kdump/load.c and initramfs.c.
 */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools.h"

#define RUN_DIR "/run/crashkit"

static const char load_help[] =
	"usage: crashkit kdump load [--kernel FILE] [--initramfs FILE] [--append WORDS]\n"
	"                           [--command-line LINE] [--config FILE] [--module NAME]\n"
	"                           [--root DIR] [--dry-run]\n"
	"\n"
	"Loads the capture kernel (default /boot/vmlinuz-$(uname -r)) with the initramfs\n"
	"crashkit builds (`crashkit kdump initramfs`, into " RUN_DIR "/initramfs-RELEASE.img\n"
	"unless --initramfs names one) into the crashkernel= reservation, with\n"
	"kexec_file_load(2).  The command line is the running one without crashkernel=,\n"
	"BOOT_IMAGE=, quiet and the like, plus nr_cpus=1 irqpoll reset_devices\n"
	"cgroup_disable=memory panic=10.\n"
	"\n"
	"  -k, --kernel FILE        the capture kernel\n"
	"  -i, --initramfs FILE     load FILE instead of building one\n"
	"  -a, --append WORDS       added to the derived command line\n"
	"      --command-line LINE  the whole command line instead\n"
	"  -c, --config FILE        kdump.conf for the initramfs (default /etc/crashkit/kdump.conf)\n"
	"  -m, --module NAME        one more module for the initramfs (repeatable)\n"
	"  -r, --root DIR           read DIR/proc, DIR/sys, DIR/boot, DIR/lib/modules\n"
	"  -n, --dry-run            build and print, do not load\n"
	"  -h, --help               this help;  --version  the version\n"
	"\n"
	"Exit status: 0 loaded, 1 not (one line says why), 2 bad arguments.\n";

static const char unload_help[] =
	"usage: crashkit kdump unload\n"
	"\n"
	"Unloads the capture kernel (kexec_file_load(2) with KEXEC_FILE_UNLOAD).\n";

static const char status_help[] =
	"usage: crashkit kdump status [--root DIR] [--json]\n"
	"\n"
	"Whether a capture kernel is loaded (/sys/kernel/kexec_crash_loaded), the\n"
	"reservation, and what `crashkit kdump load` loaded (" CK_KDUMP_STATE ").\n"
	"Exit status: 0 loaded, 1 not.\n";

static const char initramfs_help[] =
	"usage: crashkit kdump initramfs [-o FILE] [--kernel-release R] [--root DIR]\n"
	"                                [--config FILE] [--module NAME] [--compress C]\n"
	"                                [--crashkit FILE] [--json]\n"
	"\n"
	"Builds the capture kernel's initramfs: crashkit (init and save), the libraries\n"
	"and loader it needs, the modules of the dump target's device and filesystem\n"
	"(from modules.dep of release R), kdump.conf, os-release and the target's\n"
	"filesystem UUID.  No shell, makedumpfile or kexec-tools.\n"
	"\n"
	"  -o, --output FILE        default " RUN_DIR "/initramfs-RELEASE.img\n"
	"  -K, --kernel-release R   default: the running kernel's\n"
	"  -r, --root DIR           modules, /boot, /etc under DIR\n"
	"  -c, --config FILE        kdump.conf (default /etc/crashkit/kdump.conf)\n"
	"  -m, --module NAME        one more module (repeatable)\n"
	"  -z, --compress C         zstd (default), gzip or none\n"
	"      --crashkit FILE      the capture binary (default: crashkit beside this one)\n"
	"  -j, --json               what went in, as JSON\n"
	"  -h, --help               this help;  --version  the version\n";

enum { OPT_VERSION = 0x100, OPT_CMDLINE, OPT_CRASHKIT };

struct kopts {
	struct ck_kdump_initramfs_opts ir;
	struct ck_kdump_load_opts ld;
	const char *output;
	const char *mods[64];
	bool json, dry_run;
};

static int parse(const char *cmd, const char *help, int argc, char **argv, struct kopts *k)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initramfs", required_argument, NULL, 'i' },
		{ "append", required_argument, NULL, 'a' },
		{ "command-line", required_argument, NULL, OPT_CMDLINE },
		{ "config", required_argument, NULL, 'c' },
		{ "module", required_argument, NULL, 'm' },
		{ "root", required_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "kernel-release", required_argument, NULL, 'K' },
		{ "compress", required_argument, NULL, 'z' },
		{ "crashkit", required_argument, NULL, OPT_CRASHKIT },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":k:i:a:c:m:r:no:K:z:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'k': k->ld.kernel = optarg; break;
		case 'i': k->ld.initramfs = optarg; break;
		case 'a': k->ld.append = optarg; break;
		case OPT_CMDLINE: k->ld.command_line = optarg; break;
		case 'c': k->ir.conf = optarg; break;
		case 'm':
			if (k->ir.nr_modules >= 64)
				return ck_usage_error(cmd, "at most 64 --module");
			k->mods[k->ir.nr_modules++] = optarg;
			break;
		case 'r': k->ir.root = k->ld.root = optarg; break;
		case 'n': k->dry_run = true; break;
		case 'o': k->output = optarg; break;
		case 'K': k->ir.release = optarg; break;
		case 'z': k->ir.compress = optarg; break;
		case OPT_CRASHKIT: k->ir.crashkit = optarg; break;
		case 'j': k->json = true; break;
		case 'h': return ck_print_help(help);
		case OPT_VERSION: return ck_print_version();
		default: return ck_getopt_error(cmd, c, argv);
		}
	}
	if (optind < argc)
		return ck_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	k->ir.modules = k->mods;
	return -1;
}

static json_object *jstrlist(const struct ck_strlist *l)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < l->nr; i++)
		json_object_array_add(a, json_object_new_string(l->items[i]));
	return a;
}

static void print_initramfs(const char *out, const struct ck_kdump_initramfs_info *in, bool json)
{
	if (json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "file", json_object_new_string(out));
		json_object_object_add(o, "release", json_object_new_string(in->release));
		json_object_object_add(o, "bytes", json_object_new_int64((int64_t)in->bytes));
		json_object_object_add(o, "unpacked_bytes", json_object_new_int64((int64_t)in->unpacked_bytes));
		json_object_object_add(o, "files", json_object_new_int64((int64_t)in->nr_files));
		json_object_object_add(o, "libraries", jstrlist(&in->libs));
		json_object_object_add(o, "modules", jstrlist(&in->modules));
		json_object_object_add(o, "missing_modules", jstrlist(&in->missing_modules));
		json_object_object_add(o, "modules_compressed", json_object_new_boolean(in->modules_compressed));
		if (in->target.path) {
			json_object *t = json_object_new_object();
			json_object_object_add(t, "path", json_object_new_string(in->target.path));
			json_object_object_add(t, "mountpoint", json_object_new_string(in->target.mountpoint));
			json_object_object_add(t, "fstype", json_object_new_string(in->target.fstype));
			json_object_object_add(t, "uuid", json_object_new_string(in->target.uuid));
			json_object_object_add(t, "label", json_object_new_string(in->target.label));
			json_object_object_add(t, "device", json_object_new_string(in->target.device));
			json_object_object_add(o, "target", t);
		}
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		return;
	}
	printf("initramfs:  %s (%llu bytes, %llu unpacked, %zu files)\nkernel:     %s\n", out,
	       (unsigned long long)in->bytes, (unsigned long long)in->unpacked_bytes, in->nr_files,
	       in->release);
	printf("libraries: ");
	for (size_t i = 0; i < in->libs.nr; i++)
		printf(" %s", in->libs.items[i]);
	printf("\nmodules:   ");
	for (size_t i = 0; i < in->modules.nr; i++) {
		const char *b = strrchr(in->modules.items[i], '/');
		printf(" %s", b ? b + 1 : in->modules.items[i]);
	}
	printf("%s\n", in->modules.nr ? "" : in->no_modules
	       ? " (none: no modules.dep for this release, drivers must be built in)" : " (none)");
	for (size_t i = 0; i < in->missing_modules.nr; i++)
		printf("not a module of %s (left out): %s\n", in->release, in->missing_modules.items[i]);
	if (in->target.path)
		printf("target:     %s on %s %s%s%s (%s), mounted at %s\n", in->target.path,
		       in->target.fstype, in->target.uuid[0] ? "UUID=" : "", in->target.uuid,
		       in->target.uuid[0] ? "" : in->target.device, in->target.device,
		       in->target.mountpoint);
}

/* Builds the initramfs to k->output (default under /run/crashkit). */
static int build_initramfs(const char *cmd, struct kopts *k, char **out_ret, bool print)
{
	char *ck = k->ir.crashkit ? strdup(k->ir.crashkit) : ck_tool_sibling("crashkit");
	if (!ck) {
		fprintf(stderr, "%s: error: %s: cannot find crashkit beside this program\n",
			ck_progname, cmd);
		return CK_EXIT_ERROR;
	}
	k->ir.crashkit = ck;
	char *out = k->output ? strdup(k->output) : NULL;
	if (!out) {
		struct utsname_release { char r[256]; } rel = { "" };
		if (k->ir.release) {
			snprintf(rel.r, sizeof(rel.r), "%s", k->ir.release);
		} else {
			FILE *f = fopen("/proc/sys/kernel/osrelease", "re");
			if (f && fgets(rel.r, sizeof(rel.r), f))
				rel.r[strcspn(rel.r, "\n")] = '\0';
			if (f)
				fclose(f);
		}
		mkdir(RUN_DIR, 0755);
		if (asprintf(&out, RUN_DIR "/initramfs-%s.img", rel.r) < 0)
			out = NULL;
	}
	struct ck_kdump_initramfs_info *info = NULL;
	struct ck_error *err = out ? ck_kdump_initramfs(&k->ir, out, &info) : NULL;
	free(ck);
	k->ir.crashkit = NULL;
	if (err || !out) {
		free(out);
		return err ? ck_report(ck_error_prepend(err, "%s", cmd)) : CK_EXIT_ERROR;
	}
	if (print)
		print_initramfs(out, info, k->json);
	ck_kdump_initramfs_info_destroy(info);
	*out_ret = out;
	return -1;
}

int ck_cmd_kdump_initramfs(int argc, char **argv)
{
	struct kopts k = { 0 };
	int rc = parse("kdump initramfs", initramfs_help, argc, argv, &k);
	if (rc >= 0)
		return rc;
	char *out = NULL;
	rc = build_initramfs("kdump initramfs", &k, &out, true);
	free(out);
	return rc >= 0 ? rc : fflush(stdout) ? CK_EXIT_ERROR : CK_EXIT_OK;
}

int ck_cmd_kdump_load(int argc, char **argv)
{
	struct kopts k = { 0 };
	int rc = parse("kdump load", load_help, argc, argv, &k);
	if (rc >= 0)
		return rc;
	if (k.ld.command_line && k.ld.append)
		return ck_usage_error("kdump load", "--append and --command-line do not go together");
	char *built = NULL;
	if (!k.ld.initramfs) {
		rc = build_initramfs("kdump load", &k, &built, false);
		if (rc >= 0)
			return rc;
		k.ld.initramfs = built;
	}
	if (k.dry_run) {
		char *running = NULL, *line = NULL;
		FILE *f = fopen("/proc/cmdline", "re");
		size_t cap = 0;
		if (f && getline(&running, &cap, f) < 0) {
			free(running);
			running = NULL;
		}
		if (f)
			fclose(f);
		struct ck_error *err = k.ld.command_line ? NULL
			: ck_kdump_command_line(running ? running : "", k.ld.append, &line);
		free(running);
		if (err) {
			free(built);
			return ck_report(err);
		}
		printf("initramfs:    %s\ncommand line: %s\n(dry run: nothing loaded)\n", k.ld.initramfs,
		       k.ld.command_line ? k.ld.command_line : line);
		free(line);
		free(built);
		return CK_EXIT_OK;
	}
	char *kernel = NULL, *cmdline = NULL;
	struct ck_error *err = ck_kdump_load(&k.ld, &kernel, &cmdline);
	if (err) {
		free(built);
		return ck_report(ck_error_prepend(err, "kdump load"));
	}
	struct stat st;
	printf("loaded:       %s\ninitramfs:    %s (%lld bytes)\ncommand line: %s\n", kernel,
	       k.ld.initramfs, stat(k.ld.initramfs, &st) ? -1LL : (long long)st.st_size, cmdline);
	free(kernel);
	free(cmdline);
	free(built);
	return fflush(stdout) ? CK_EXIT_ERROR : CK_EXIT_OK;
}

int ck_cmd_kdump_unload(int argc, char **argv)
{
	struct kopts k = { 0 };
	int rc = parse("kdump unload", unload_help, argc, argv, &k);
	if (rc >= 0)
		return rc;
	struct ck_error *err = ck_kdump_unload(&k.ld);
	if (err)
		return ck_report(ck_error_prepend(err, "kdump unload"));
	printf("unloaded\n");
	return CK_EXIT_OK;
}

int ck_cmd_kdump_status(int argc, char **argv)
{
	struct kopts k = { 0 };
	int rc = parse("kdump status", status_help, argc, argv, &k);
	if (rc >= 0)
		return rc;
	struct ck_kdump_status s;
	struct ck_error *err = ck_kdump_status_read(&k.ld, &s);
	if (err)
		return ck_report(ck_error_prepend(err, "kdump status"));
	if (k.json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "loaded", s.loaded < 0 ? NULL : json_object_new_boolean(s.loaded));
		json_object_object_add(o, "crash_size", s.crash_size < 0 ? NULL
				       : json_object_new_int64(s.crash_size));
		json_object_object_add(o, "kernel", s.kernel ? json_object_new_string(s.kernel) : NULL);
		json_object_object_add(o, "initramfs", s.initramfs ? json_object_new_string(s.initramfs) : NULL);
		json_object_object_add(o, "initramfs_bytes", json_object_new_int64((int64_t)s.initramfs_bytes));
		json_object_object_add(o, "cmdline", s.cmdline ? json_object_new_string(s.cmdline) : NULL);
		json_object_object_add(o, "loaded_at", s.loaded_at ? json_object_new_string(s.loaded_at) : NULL);
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		printf("loaded:       %s\n", s.loaded < 0 ? "unknown (no /sys/kernel/kexec_crash_loaded)"
		       : s.loaded ? "yes" : "no");
		if (s.crash_size >= 0)
			printf("reserved:     %lld MiB\n", (long long)(s.crash_size >> 20));
		if (s.kernel)
			printf("kernel:       %s\ninitramfs:    %s (%llu bytes)\ncommand line: %s\n"
			       "loaded at:    %s\n", s.kernel, s.initramfs ? s.initramfs : "?",
			       (unsigned long long)s.initramfs_bytes, s.cmdline ? s.cmdline : "?",
			       s.loaded_at ? s.loaded_at : "?");
	}
	rc = s.loaded == 1 ? CK_EXIT_OK : CK_EXIT_ERROR;
	ck_kdump_status_deinit(&s);
	return fflush(stdout) ? CK_EXIT_ERROR : rc;
}
