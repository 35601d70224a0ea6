/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Command lines as crash reads them, and running them.  A line holds
 * commands separated by unquoted ';'; each is words ('single' and "double"
 * quotes group, a backslash escapes the next character), then optionally
 * "| shell command" or "> file" / ">> file" for the command's output.
 * "!shell command" runs the rest of the line in sh, and a '#' starts a
 * comment.  Inside parentheses '|', '>' and ';' are not special, so that
 * `eval (1 | 2)` and `p (a > b)` reach the command (as in crash, where
 * such expressions must be in parentheses).
 *
 * Parsing (ck_analysis_parse_line) runs nothing, so the fuzz target
 * (tests/fuzz/fuzz_analysis_line.c) calls it on any bytes.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "analysis/analysis.h"

struct parser {
	const char *s;		/* the next input character */
	char *o;		/* the next free byte of l->buf */
	char **pool;		/* argv pointers of every command */
	size_t pool_used, pool_size;
	int depth;		/* unquoted '(' not yet closed in this command */
	struct ck_line *l;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* One word into p->o, NUL-terminated, *word its start; *word NULL at the
 * end of the command (the end of the line or an unquoted ';', '|', '>'). */
static struct ck_error *read_word(struct parser *p, char **word)
{
	while (is_blank(*p->s))
		p->s++;
	*word = NULL;
	if (!*p->s || (!p->depth && strchr(";|>", *p->s)))
		return NULL;
	char quote = 0;
	const char *start = p->s;
	char *w = p->o;
	for (; *p->s; p->s++) {
		char c = *p->s;
		if (quote) {
			if (c == quote)
				quote = 0;
			else if (c == '\\' && quote == '"' && p->s[1])
				*p->o++ = *++p->s;
			else
				*p->o++ = c;
			continue;
		}
		if (c == '"' || c == '\'') {
			quote = c;
		} else if (c == '\\' && p->s[1]) {
			*p->o++ = *++p->s;
		} else if (is_blank(c) || (!p->depth && strchr(";|>", c))) {
			break;
		} else {
			p->depth += c == '(' ? 1 : c == ')' && p->depth > 0 ? -1 : 0;
			*p->o++ = c;
		}
	}
	if (quote)
		return ck_error_create(CK_ERR_INVALID, "unterminated %s quote in '%.40s'",
				       quote == '"' ? "double" : "single", start);
	*p->o++ = '\0';
	*word = w;
	return NULL;
}

/* The text of a shell command, after '|' up to an unquoted ';' (or after
 * '!', to the end of the line), copied as it is: sh reads its quotes. */
static struct ck_error *read_shell_text(struct parser *p, bool to_end, const char **ret)
{
	while (is_blank(*p->s))
		p->s++;
	char *start = p->o;
	char quote = 0;
	for (; *p->s; p->s++) {
		char c = *p->s;
		if (!quote && c == ';' && !to_end)
			break;
		if (quote ? c == quote : c == '"' || c == '\'')
			quote = quote ? 0 : c;
		else if (c == '\\' && quote != '\'' && p->s[1])
			*p->o++ = *p->s++;
		*p->o++ = *p->s;
	}
	if (quote)
		return ck_error_create(CK_ERR_INVALID, "unterminated %s quote in the shell command",
				       quote == '"' ? "double" : "single");
	while (p->o > start && is_blank(p->o[-1]))
		p->o--;
	*p->o++ = '\0';
	*ret = start;
	return NULL;
}

/* "> FILE" or ">> FILE", p->s on the '>'. */
static struct ck_error *parse_redirection(struct parser *p, struct ck_line_cmd *c)
{
	p->s++;
	c->append = *p->s == '>';
	p->s += c->append;
	char *file;
	p->depth = 0;	/* a file name is a plain word */
	struct ck_error *err = read_word(p, &file);
	if (err)
		return err;
	if (!file || !*file)
		return ck_error_create(CK_ERR_INVALID, "no file name after '%s'",
				       c->append ? ">>" : ">");
	c->redir = file;
	while (is_blank(*p->s))
		p->s++;
	if (*p->s && *p->s != ';')
		return ck_error_create(CK_ERR_INVALID, "'%.20s' after the file name '%s'", p->s,
				       file);
	return NULL;
}

/* The words of one command and what follows them; p->s is left after its
 * ';' or at the end of the line. */
static struct ck_error *parse_command(struct parser *p, struct ck_line_cmd *c)
{
	struct ck_error *err;
	while (is_blank(*p->s))
		p->s++;
	if (*p->s == '#') {
		p->s += strlen(p->s);
		return NULL;
	}
	if (*p->s == '!') {
		p->s++;
		if ((err = read_shell_text(p, true, &c->shell)))
			return err;
		return *c->shell ? NULL
				 : ck_error_create(CK_ERR_INVALID, "no shell command after '!'");
	}
	c->argv = p->pool + p->pool_used;
	p->depth = 0;
	for (;;) {
		char *word;
		if ((err = read_word(p, &word)))
			return err;
		if (!word)
			break;
		if (c->argc == CK_LINE_MAX_WORDS || p->pool_used + 2 > p->pool_size)
			return ck_error_create(CK_ERR_INVALID, "more than %d words in a command",
					       CK_LINE_MAX_WORDS);
		c->argv[c->argc++] = word;
		p->pool_used++;
	}
	c->argv[c->argc] = NULL;
	p->pool_used++;
	char op = *p->s;
	if ((op == '|' || op == '>') && !c->argc)
		return ck_error_create(CK_ERR_INVALID, "no command before '%c'", op);
	if (op == '|') {
		p->s++;
		if ((err = read_shell_text(p, false, &c->pipe_cmd)))
			return err;
		if (!*c->pipe_cmd)
			return ck_error_create(CK_ERR_INVALID, "no shell command after '|'");
	} else if (op == '>' && (err = parse_redirection(p, c))) {
		return err;
	}
	if (*p->s == ';')
		p->s++;
	return NULL;
}

struct ck_error *ck_analysis_parse_line(const char *line, struct ck_line *l)
{
	memset(l, 0, sizeof(*l));
	size_t len = strlen(line), max_cmds = 1;
	for (const char *q = line; (q = strchr(q, ';')); q++)
		max_cmds++;
	/* Each input byte gives at most one output byte, and each word (which
	 * takes an input byte), shell text or file name one NUL more. */
	struct parser p = { .s = line, .pool_size = len + max_cmds + 1, .l = l };
	l->buf = malloc(2 * len + 2);
	l->cmds = calloc(max_cmds, sizeof(*l->cmds));
	l->pool = calloc(p.pool_size, sizeof(char *));
	if (!l->buf || !l->cmds || !l->pool)
		return &ck_error_nomem;
	p.o = l->buf;
	p.pool = l->pool;
	while (*p.s && l->nr < max_cmds) {
		struct ck_line_cmd *c = &l->cmds[l->nr];
		struct ck_error *err = parse_command(&p, c);
		if (err) {
			l->nr = 0;
			return err;
		}
		if (c->argc || c->shell)
			l->nr++;
		else
			memset(c, 0, sizeof(*c));
	}
	return NULL;
}

void ck_line_free(struct ck_line *l)
{
	free(l->cmds);
	free(l->buf);
	free(l->pool);
	memset(l, 0, sizeof(*l));
}

/* ---- running ------------------------------------------------------------- */

static int run_words(struct ck_analysis *a, int argc, char **argv)
{
	const struct ck_analysis_cmd *cmd = ck_analysis_cmd_find(argv[0]);
	if (!cmd) {
		fprintf(a->err, "crash: command not found: %s\n", argv[0]);
		return 1;
	}
	optind = 0;	/* commands use getopt; glibc: 0 re-initialises */
	opterr = 0;	/* a command says what is wrong in its own line */
	int rc = cmd->run(a, argc, argv);
	fflush(a->err);
	return rc;
}

/* Runs the command with a->out sent to f, restoring it after. */
static int run_to(struct ck_analysis *a, const struct ck_line_cmd *c, FILE *f)
{
	FILE *saved = a->out;
	a->out = f;
	int rc = run_words(a, c->argc, c->argv);
	fflush(f);
	a->out = saved;
	return rc;
}

static int run_redirected(struct ck_analysis *a, const struct ck_line_cmd *c)
{
	FILE *f = fopen(c->redir, c->append ? "ae" : "we");
	if (!f) {
		fprintf(a->err, "%s: cannot open %s: %s\n", c->argv[0], c->redir, strerror(errno));
		return 1;
	}
	int rc = run_to(a, c, f);
	if (ferror(f) | (fclose(f) != 0)) {
		fprintf(a->err, "%s: writing %s: %s\n", c->argv[0], c->redir, strerror(errno));
		rc = 1;
	}
	return rc;
}

/* "CMD | SHELL": a broken pipe (`| head`) ends the output, not the tool. */
static int run_piped(struct ck_analysis *a, const struct ck_line_cmd *c)
{
	fflush(a->out);
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	sigaction(SIGPIPE, &ign, &old);
	FILE *p = popen(c->pipe_cmd, "we");
	int rc = 1;
	if (!p) {
		fprintf(a->err, "%s: cannot run '%s': %s\n", c->argv[0], c->pipe_cmd,
			strerror(errno));
	} else {
		rc = run_to(a, c, p);
		pclose(p);
	}
	sigaction(SIGPIPE, &old, NULL);
	return rc;
}

/* "!SHELL": its status decides success, as a command's would. */
static int run_shell(struct ck_analysis *a, const char *text)
{
	fflush(a->out);
	fflush(a->err);
	int st = system(text);
	if (st == -1) {
		fprintf(a->err, "crash: cannot run '%s': %s\n", text, strerror(errno));
		return 1;
	}
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

static int run_command(struct ck_analysis *a, const struct ck_line_cmd *c)
{
	if (c->shell)
		return run_shell(a, c->shell);
	if (c->redir)
		return run_redirected(a, c);
	if (c->pipe_cmd)
		return run_piped(a, c);
	int rc = run_words(a, c->argc, c->argv);
	fflush(a->out);
	return rc;
}

int ck_analysis_run_line(struct ck_analysis *a, const char *line)
{
	struct ck_line l;
	struct ck_error *err = ck_analysis_parse_line(line, &l);
	int rc = 0;
	if (err) {
		fprintf(a->err, "crash: %s\n", ck_error_message(err));
		ck_error_destroy(err);
		rc = 1;
	}
	for (size_t i = 0; i < l.nr; i++) {
		if (ck_analysis_interrupted())
			break;
		rc |= run_command(a, &l.cmds[i]);
	}
	ck_line_free(&l);
	return rc;
}
