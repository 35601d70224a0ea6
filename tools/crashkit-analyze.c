/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * crashkit-analyze: crash's commands on a dump (docs/analysis.md).  Its own
 * executable because it links libbpf, capstone and libedit, which the
 * capture binary must not carry.  Run as
 *   crashkit-analyze analyze DUMP [VMLINUX] [-c 'CMD; CMD'] [-i SCRIPT] [--json]
 *   crashkit-analyze crash [-s] [-i FILE] [VMLINUX] DUMP   (crash's command line)
 *   crashkit-analyze triage DUMP [VMLINUX] [--json]        (crashkit-triage(1))
 * or through a symlink named `crash` (crash's command line).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools.h"

static const char analyze_help[] =
	"usage: crashkit analyze DUMP [VMLINUX] [-c 'CMD; CMD...'] [-i SCRIPT] [--json] [--force]\n"
	"       crashkit crash [-s] [-i SCRIPT] [VMLINUX] DUMP\n"
	"\n"
	"Answers the crash utility's commands (sys, bt, ps, log, mod, struct, rd, sym, dis ...)\n"
	"from the dump alone: types from the kernel's BTF, symbols from kallsyms.  VMLINUX\n"
	"(the DWARF vmlinux of the dump's kernel, either side of DUMP) adds source lines.\n"
	"Without -c: an interactive shell on a terminal, else the commands on stdin.\n"
	"\n"
	"  -c, --command 'CMDS'  run the commands (separated by ';') and exit\n"
	"  -i, --input SCRIPT    run the commands in SCRIPT (one per line) first, then\n"
	"                        those of -c, or go on as without it (crash -i)\n"
	"  -s, --silent          no banner in the shell (crash -s)\n"
	"  -j, --json            sys, ps, bt, mod, log: one JSON object per command\n"
	"  -f, --force           use a VMLINUX that does not match the dump\n"
	"  -h, --help            this help;  --version  the version\n"
	"\n"
	"In the shell, 'help' lists the commands and 'help CMD' explains one; 'CMD | sh-cmd'\n"
	"and 'CMD > file' work as in crash.  As crash: 'ln -s crashkit-analyze crash'.\n"
	"Exit status: 0 when every command succeeded, 1 when one failed (or the dump\n"
	"cannot be read), 2 for bad arguments.\n";

struct analyze_opts {
	const char *dump, *vmlinux, *commands, *script;
	bool silent, json, force;
	bool crash;		/* crash's command line: VMLINUX DUMP */
	bool triage;		/* `triage`: the report, then exit */
};

static const char triage_help[] =
	"usage: crashkit triage DUMP [VMLINUX] [--json] [--force]\n"
	"\n"
	"Why the machine died, on one screen: class, message, culprit, panic task,\n"
	"taint, release, build id, uptime, backtraces, D-state tasks, the last log\n"
	"lines, and a signature that groups the same crash (docs/signatures.md).\n"
	"\n"
	"  -j, --json   the report as one JSON object\n"
	"  -f, --force  use a VMLINUX that does not match the dump\n"
	"\n"
	"Exit status: 0 a complete report, 3 a partial one (it lists what could not\n"
	"be read), 1 no report (the dump cannot be opened), 2 bad arguments.\n";

/* What a file starts with: a dump's signature or an ELF executable (a
 * vmlinux).  Unreadable files are neither (opening says why, later). */
enum file_kind { FILE_OTHER, FILE_DUMP, FILE_VMLINUX };

static enum file_kind file_kind(const char *path)
{
	unsigned char h[18];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return FILE_OTHER;
	ssize_t n = read(fd, h, sizeof(h));
	close(fd);
	if (n < 12)
		return FILE_OTHER;
	if (!memcmp(h, "KDUMP   ", 8) || !memcmp(h, "DISKDUMP", 8) ||
	    !memcmp(h, "makedumpfile", 12))
		return FILE_DUMP;
	if (n == (ssize_t)sizeof(h) && !memcmp(h, "\177ELF", 4))
		return h[16] == 4 /* ET_CORE */ ? FILE_DUMP
		       : h[16] == 2 /* ET_EXEC */ ? FILE_VMLINUX : FILE_OTHER;
	return FILE_OTHER;
}

/* DUMP and VMLINUX in either order, as crash takes them: a file that is a
 * dump, or the other one an ELF executable, decides; else crash's order
 * (VMLINUX DUMP) for `crash`, DUMP VMLINUX for `analyze`. */
static void order_files(const char *pos[2], struct analyze_opts *o)
{
	enum file_kind k0 = file_kind(pos[0]), k1 = file_kind(pos[1]);
	bool first_is_dump;
	if (k0 == FILE_DUMP || k1 == FILE_DUMP)
		first_is_dump = k0 == FILE_DUMP && k1 != FILE_DUMP ? true
				: k1 == FILE_DUMP && k0 != FILE_DUMP ? false : !o->crash;
	else if (k0 == FILE_VMLINUX || k1 == FILE_VMLINUX)
		first_is_dump = k1 == FILE_VMLINUX && k0 != FILE_VMLINUX;
	else
		first_is_dump = !o->crash;
	o->dump = pos[first_is_dump ? 0 : 1];
	o->vmlinux = pos[first_is_dump ? 1 : 0];
}

/* -1: go on; otherwise the exit code (help, version, bad arguments). */
static int parse_args(int argc, char **argv, struct analyze_opts *o)
{
	enum { OPT_VERSION = 0x100, OPT_IGNORED };
	static const struct option longopts[] = {
		{ "command", required_argument, NULL, 'c' },
		{ "input", required_argument, NULL, 'i' },
		{ "silent", no_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		/* crash's options that change nothing here, for existing scripts */
		{ "no_scroll", no_argument, NULL, OPT_IGNORED },
		{ "no_crashrc", no_argument, NULL, OPT_IGNORED },
		{ "no_kallsyms", no_argument, NULL, OPT_IGNORED },
		{ 0 },
	};
	const char *cmd = argv[0];
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:i:sjfh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->commands = optarg; break;
		case 'i': o->script = optarg; break;
		case 's': o->silent = true; break;
		case 'j': o->json = true; break;
		case 'f': o->force = true; break;
		case 'h': return ck_print_help(o->triage ? triage_help : analyze_help);
		case OPT_VERSION: return ck_print_version();
		case OPT_IGNORED: break;
		default: return ck_getopt_error(cmd, c, argv);
		}
	}
	const char *pos[2] = { NULL, NULL };
	int npos = 0;
	for (int i = optind; i < argc; i++) {
		if (npos == 2)
			return ck_usage_error(cmd, "too many arguments ('%s'): give DUMP and at most "
					      "a VMLINUX", argv[i]);
		pos[npos++] = argv[i];
	}
	if (!npos)
		return ck_usage_error(cmd, "no dump given (crashkit reads dumps, not the "
				      "running kernel)");
	if (npos == 2)
		order_files(pos, o);
	else
		o->dump = pos[0];
	return -1;
}

/* Commands one per line from f until "q"/"quit"/"exit" or the end. */
static int run_stream(struct ck_analysis *a, FILE *f, bool *quit)
{
	char *line = NULL;
	size_t cap = 0;
	int status = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, f)) >= 0) {
		if (memchr(line, '\0', (size_t)n)) {
			fprintf(stderr, "%s: error: a command line holds a NUL byte; skipped\n",
				ck_progname);
			status = 1;
			continue;
		}
		line[strcspn(line, "\r\n")] = '\0';
		const char *s = line + strspn(line, " \t");
		size_t w = strcspn(s, " \t");
		if (w && !s[w + strspn(s + w, " \t")] &&
		    (!strncmp(s, "q", w) || !strncmp(s, "quit", w) || !strncmp(s, "exit", w)) &&
		    (w == 1 || w == 4)) {
			*quit = true;
			break;
		}
		status |= ck_analysis_run_line(a, s);
	}
	free(line);
	return status;
}

static int run_script(struct ck_analysis *a, const char *path, bool *quit)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "%s: error: cannot open '%s': %s\n", ck_progname, path,
			strerror(errno));
		return 1;
	}
	int status = run_stream(a, f, quit);
	if (ferror(f)) {
		fprintf(stderr, "%s: error: reading '%s': %s\n", ck_progname, path,
			strerror(errno));
		status = 1;
	}
	fclose(f);
	return status;
}

static int run(struct ck_analysis *a, const struct analyze_opts *o)
{
	bool quit = false;
	int status = 0;
	if (o->script)
		status |= run_script(a, o->script, &quit);
	if (o->commands)
		return status | ck_analysis_run_line(a, o->commands);
	if (quit)
		return status;
	if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
		if (!o->silent)
			printf("crashkit %s: '%s'.  \"help\" lists the commands, \"q\" "
			       "leaves.\n\n", CRASHKIT_VERSION, o->dump);
		return status | ck_analysis_shell(a, "crash> ");
	}
	return status | run_stream(a, stdin, &quit);
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	/* `crash ...` through a symlink: make it look like `crash crash ...`. */
	if (!strcmp(base, "crash")) {
		argv[0] = "crash";
	} else if (argc >= 2 && (!strcmp(argv[1], "analyze") || !strcmp(argv[1], "crash") ||
				 !strcmp(argv[1], "triage"))) {
		argc--;
		argv++;
	} else if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		return ck_print_help(analyze_help);
	} else if (argc >= 2 && !strcmp(argv[1], "--version")) {
		return ck_print_version();
	} else if (argc >= 2) {
		/* `crashkit-analyze DUMP ...` run by hand: as `analyze` */
		argv[0] = "analyze";
	} else {
		fputs(analyze_help, stderr);
		return CK_EXIT_USAGE;
	}
	struct analyze_opts o = { .crash = !strcmp(argv[0], "crash"),
				  .triage = !strcmp(argv[0], "triage") };
	int rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	struct ck_analysis *a;
	const char *paths[1] = { o.dump };
	struct ck_analysis_opts ao = { .warn = ck_warn_cb };
	struct ck_error *err = ck_analysis_open(paths, 1, &ao, &a);
	if (err)
		return ck_report(err);
	ck_analysis_set_json(a, o.json);
	if (o.vmlinux) {
		/* a wrong vmlinux is refused unless --force (ck_warn_cb then warns) */
		struct ck_analysis_vmlinux_opts vo = { .force = o.force, .warn = ck_warn_cb };
		err = ck_analysis_set_vmlinux(a, o.vmlinux, &vo);
		if (err) {
			ck_analysis_destroy(a);
			return ck_report(err);
		}
	}
	if (o.triage && (o.commands || o.script)) {
		ck_analysis_destroy(a);
		return ck_usage_error("triage", "-c and -i are for `analyze`");
	}
	/* triage's command: 0 complete, 1 partial (exit 3) */
	int status = o.triage ? (ck_analysis_run_line(a, "triage") ? 3 : 0) : run(a, &o);
	ck_analysis_destroy(a);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: error: writing the output: %s\n", ck_progname,
			strerror(errno));
		status = 1;
	}
	if (o.triage && status == 3)
		return 3;
	return status ? CK_EXIT_ERROR : CK_EXIT_OK;
}
