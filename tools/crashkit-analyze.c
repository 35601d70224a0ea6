/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * crashkit-analyze: crash's commands on a dump (docs/analysis.md).  Its own
 * executable because it links libbpf, capstone and libedit, which the
 * capture binary must not carry.  Run as
 *   crashkit-analyze analyze DUMP [VMLINUX] [-c 'CMD; CMD'] [-i SCRIPT] [--json]
 *   crashkit-analyze crash [-s] [-i FILE] [VMLINUX] DUMP   (crash's command line)
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
	"from the dump alone: types from the kernel's BTF, symbols from kallsyms.\n"
	"Without -c or -i: an interactive shell on a terminal, else commands from stdin.\n"
	"\n"
	"  -c, --command 'CMDS'  run the commands (separated by ';') and exit\n"
	"  -i, --input SCRIPT    run the commands in SCRIPT (one per line), then go on\n"
	"                        reading commands as without it (crash -i)\n"
	"  -s, --silent          no banner (crash -s)\n"
	"  -j, --json            sys, ps, bt, mod, log: one JSON object per command\n"
	"  -f, --force           use a VMLINUX that does not match the dump\n"
	"  -h, --help            this help\n"
	"\n"
	"Exit status: 0 when every command succeeded, 1 when one failed, 2 for bad arguments.\n";

struct analyze_opts {
	const char *dump, *vmlinux, *commands, *script;
	bool silent, json, force;
};

/* An ELF executable (a vmlinux), as opposed to a dump (ELF core, kdump). */
static bool is_elf_exec(const char *path)
{
	unsigned char h[18];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, h, sizeof(h));
	close(fd);
	return n == (ssize_t)sizeof(h) && !memcmp(h, "\177ELF", 4) && h[16] == 2 /* ET_EXEC */;
}

/* -1: go on; otherwise the exit code (help, version, bad arguments). */
static int parse_args(int argc, char **argv, struct analyze_opts *o)
{
	static const struct option longopts[] = {
		{ "command", required_argument, NULL, 'c' },
		{ "input", required_argument, NULL, 'i' },
		{ "silent", no_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
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
		case 'h': return ck_print_help(analyze_help);
		case 'V': return ck_print_version();
		default: return ck_getopt_error(cmd, c, argv);
		}
	}
	const char *pos[2] = { NULL, NULL };
	int npos = 0;
	for (int i = optind; i < argc; i++) {
		if (npos == 2)
			return ck_usage_error(cmd, "too many arguments ('%s')", argv[i]);
		pos[npos++] = argv[i];
	}
	if (!npos)
		return ck_usage_error(cmd, "no dump given");
	/* Either order, as crash takes them: the ELF executable is the vmlinux. */
	if (npos == 2 && is_elf_exec(pos[0])) {
		o->vmlinux = pos[0];
		o->dump = pos[1];
	} else {
		o->dump = pos[0];
		o->vmlinux = pos[1];
	}
	return -1;
}

/* Runs "CMD; CMD; ..." (';' inside quotes does not split). */
static int run_commands(struct ck_analysis *a, const char *text)
{
	char *copy = strdup(text);
	if (!copy) {
		fprintf(stderr, "%s: out of memory\n", ck_progname);
		return 1;
	}
	int status = 0;
	char quote = 0, *start = copy;
	for (char *p = copy;; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
			else if (!*p)
				break;
			continue;
		}
		if (*p == '"' || *p == '\'') {
			quote = *p;
		} else if (*p == ';' || !*p) {
			bool end = !*p;
			*p = '\0';
			status |= ck_analysis_run_line(a, start);
			if (end)
				break;
			start = p + 1;
		}
	}
	if (quote)
		status |= ck_analysis_run_line(a, start);
	free(copy);
	return status;
}

/* Commands one per line from f until "q"/"quit"/"exit" or the end. */
static int run_stream(struct ck_analysis *a, FILE *f, bool *quit)
{
	char *line = NULL;
	size_t cap = 0;
	int status = 0;
	while (getline(&line, &cap, f) >= 0) {
		line[strcspn(line, "\r\n")] = '\0';
		const char *s = line + strspn(line, " \t");
		if (!*s || *s == '#')
			continue;
		if (!strcmp(s, "q") || !strcmp(s, "quit") || !strcmp(s, "exit")) {
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
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "%s: error: cannot open '%s': %s\n", ck_progname, path,
			strerror(errno));
		return 1;
	}
	int status = run_stream(a, f, quit);
	fclose(f);
	return status;
}

static int run(struct ck_analysis *a, const struct analyze_opts *o)
{
	if (o->commands)
		return run_commands(a, o->commands);
	bool quit = false;
	int status = 0;
	if (o->script)
		status |= run_script(a, o->script, &quit);
	if (quit)
		return status;
	if (isatty(STDIN_FILENO))
		return status | ck_analysis_shell(a, "crash> ");
	return status | run_stream(a, stdin, &quit);
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	/* `crash ...` through a symlink: make it look like `crash crash ...`. */
	if (!strcmp(base, "crash")) {
		argv[0] = "crash";
	} else if (argc >= 2) {
		argc--;
		argv++;
	} else {
		fputs(analyze_help, stderr);
		return CK_EXIT_USAGE;
	}
	struct analyze_opts o = { 0 };
	int rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if (o.vmlinux) {
		fprintf(stderr, "%s: warning: VMLINUX '%s': DWARF is not read yet; "
			"answering from the dump's BTF and kallsyms\n", ck_progname, o.vmlinux);
	}
	struct ck_analysis *a;
	const char *paths[1] = { o.dump };
	struct ck_analysis_opts ao = { .warn = ck_warn_cb };
	struct ck_error *err = ck_analysis_open(paths, 1, &ao, &a);
	if (err)
		return ck_report(err);
	ck_analysis_set_json(a, o.json);
	int status = run(a, &o);
	ck_analysis_destroy(a);
	return status ? CK_EXIT_ERROR : CK_EXIT_OK;
}
