/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The interactive shell: libedit for line editing, history in
 * ~/.crashkit_history (crash's own history is left alone), Tab completion
 * of command names, kernel symbols (kallsyms) and type names (BTF).  A
 * failing command never ends it; Ctrl-C stops the running command's output
 * (and sets the flag long loops may poll) and at the prompt discards the
 * line.  Batch mode never comes here (tools/crashkit-analyze.c).
 */
#include <editline/readline.h>
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "analysis/analysis.h"
#include "base/vector.h"
#include "kernel/kernel.h"

#define HISTORY_MAX 1000
/* Completion candidates at most, so that Tab on "" answers at once. */
#define MATCHES_MAX 20000

static volatile sig_atomic_t interrupted;

bool ck_analysis_interrupted(void)
{
	return interrupted != 0;
}

void ck_analysis_interrupt_clear(void)
{
	interrupted = 0;
}

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* ---- completion ------------------------------------------------------------ */

CK_DEFINE_VECTOR(name_vector, char *)

static struct ck_analysis *shell_a;	/* the session completion reads */
static struct name_vector matches;	/* the candidates of the current Tab */

static void matches_clear(void)
{
	for (size_t i = 0; i < matches.size; i++)
		free(matches.data[i]);
	name_vector_deinit(&matches);
}

static int match_add(const char *name)
{
	if (matches.size >= MATCHES_MAX)
		return 1;
	char *dup = strdup(name);
	if (!dup || !name_vector_append(&matches, &dup)) {
		free(dup);
		return 1;
	}
	return 0;
}

static void complete_commands(const char *prefix)
{
	size_t nr, n = strlen(prefix);
	const struct ck_analysis_cmd *cmds = ck_analysis_cmds(&nr);
	for (size_t i = 0; i < nr; i++)
		if (!strncmp(cmds[i].name, prefix, n))
			match_add(cmds[i].name);
	static const char *const builtins[] = { "q", "quit", "exit" };
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (n && !strncmp(builtins[i], prefix, n))
			match_add(builtins[i]);
}

struct sym_prefix {
	const char *prefix;
	size_t len;
};

static int sym_match(const struct ck_symbol *sym, void *arg)
{
	const struct sym_prefix *p = arg;
	if (strncmp(sym->name, p->prefix, p->len))
		return 1;	/* names are sorted: past the prefix */
	if (matches.size && !strcmp(matches.data[matches.size - 1], sym->name))
		return 0;	/* a duplicate name (static functions) */
	return match_add(sym->name);
}

static void complete_symbols(const char *prefix)
{
	struct sym_prefix p = { prefix, strlen(prefix) };
	ck_error_destroy(ck_kernel_symbols_by_name(shell_a->kernel, prefix, sym_match, &p));
}

/* Named structs, unions, enums and typedefs of the dump's BTF. */
static void complete_types(const char *prefix)
{
	if (!shell_a->types)
		return;
	const struct btf *btf = ck_types_btf(shell_a->types);
	size_t n = strlen(prefix);
	uint32_t cnt = btf__type_cnt(btf);
	for (uint32_t id = 1; id < cnt; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		int kind = btf_kind(t);
		if (kind != BTF_KIND_STRUCT && kind != BTF_KIND_UNION && kind != BTF_KIND_ENUM &&
		    kind != BTF_KIND_TYPEDEF && kind != BTF_KIND_ENUM64)
			continue;
		const char *name = btf__name_by_offset(btf, t->name_off);
		if (name && *name && !strncmp(name, prefix, n) && match_add(name))
			break;
	}
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The first word of the command the cursor is in (after the last ';'),
 * and whether the cursor is in that first word. */
static bool first_word(int start, char *cmd, size_t size)
{
	const char *line = rl_line_buffer;
	int seg = 0;
	for (int i = 0; i < start && line[i]; i++)
		if (line[i] == ';' || line[i] == '|')
			seg = i + 1;
	const char *s = line + seg;
	s += strspn(s, " \t");
	size_t n = strcspn(s, " \t;|");
	if (s - line >= start) {
		cmd[0] = '\0';
		return true;
	}
	snprintf(cmd, size, "%.*s", (int)n, s);
	return false;
}

static char *next_match(const char *text, int state)
{
	static size_t next;
	if (!state)
		next = 0;
	return next < matches.size ? strdup(matches.data[next++]) : NULL;
}

static char **complete(const char *text, int start, int end)
{
	(void)end;
	rl_attempted_completion_over = 1;	/* never file names */
	matches_clear();
	char cmd[32];
	if (first_word(start, cmd, sizeof(cmd)) || !strcmp(cmd, "help")) {
		complete_commands(text);
	} else if (!strcmp(cmd, "struct") || !strcmp(cmd, "union") || !strcmp(cmd, "whatis")) {
		complete_types(text);
		if (!strcmp(cmd, "whatis"))
			complete_symbols(text);
	} else if (*text) {
		complete_symbols(text);
	}
	if (!matches.size)
		return NULL;
	qsort(matches.data, matches.size, sizeof(char *), cmp_names);
	return rl_completion_matches(text, next_match);
}

/* ---- history ---------------------------------------------------------------- */

/* ~/.crashkit_history, or NULL without a home directory. */
static char *history_path(void)
{
	const char *home = getenv("HOME");
	if (!home || !*home) {
		struct passwd *pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : NULL;
	}
	char *path;
	if (!home || asprintf(&path, "%s/.crashkit_history", home) < 0)
		return NULL;
	return path;
}

/* ---- output that Ctrl-C stops ------------------------------------------------ */

static ssize_t out_write(void *cookie, const char *buf, size_t len)
{
	if (interrupted)	/* dropped: nothing buffered comes back later */
		return (ssize_t)len;
	size_t n = fwrite(buf, 1, len, cookie);
	fflush(cookie);
	return n ? (ssize_t)n : -1;
}

/* ---- the loop ----------------------------------------------------------------- */

static bool is_quit(const char *s)
{
	size_t n = strcspn(s, " \t");
	return s[n + strspn(s + n, " \t")] == '\0' &&
	       ((n == 1 && *s == 'q') || (n == 4 && !strncmp(s, "quit", 4)) ||
		(n == 4 && !strncmp(s, "exit", 4)));
}

static int shell_loop(struct ck_analysis *a, const char *prompt, const char *hist)
{
	int status = 0;
	for (;;) {
		interrupted = 0;
		char *line = readline(prompt);
		if (!line) {
			if (interrupted) {	/* Ctrl-C at the prompt: a new line */
				fputc('\n', stdout);
				fflush(stdout);
				continue;
			}
			fputc('\n', stdout);
			break;
		}
		const char *s = line + strspn(line, " \t");
		if (is_quit(s)) {
			free(line);
			break;
		}
		if (*s) {
			add_history(s);
			if (hist)
				write_history(hist);
			status |= ck_analysis_run_line(a, s);
			fflush(a->out);
			if (interrupted) {
				fputs("\n", stdout);
				fflush(stdout);
			}
		}
		free(line);
	}
	return status;
}

int ck_analysis_shell(struct ck_analysis *a, const char *prompt)
{
	shell_a = a;
	rl_readline_name = "crashkit";
	rl_catch_signals = 0;	/* ours: Ctrl-C ends readline with EINTR */
	rl_attempted_completion_function = complete;
	char *hist = history_path();
	using_history();
	stifle_history(HISTORY_MAX);
	if (hist)
		read_history(hist);
	struct sigaction sa = { .sa_handler = on_sigint }, old;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old);	/* no SA_RESTART: reads end on Ctrl-C */
	FILE *saved = a->out;
	FILE *out = fopencookie(saved, "w", (cookie_io_functions_t){ .write = out_write });
	if (out)
		a->out = out;
	int status = shell_loop(a, prompt, hist);
	if (out) {
		fclose(out);
		a->out = saved;
	}
	sigaction(SIGINT, &old, NULL);
	if (hist) {
		write_history(hist);
		free(hist);
	}
	matches_clear();
	shell_a = NULL;
	interrupted = 0;
	return status;
}
