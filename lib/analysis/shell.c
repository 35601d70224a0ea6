/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Command lines as crash reads them: words with quotes, then an optional
 * "| shell command" or "> file" / ">> file" for the command's output.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"

/* Words in one command line at most (crash: MAXARGS 100). */
#define CK_MAX_WORDS 256

struct line_parts {
	char *buf;		/* the words, NUL-separated */
	char *argv[CK_MAX_WORDS + 1];
	int argc;
	const char *pipe_cmd;	/* text after '|', or NULL */
	const char *redir;	/* file after '>' or '>>', or NULL */
	bool append;
};

/* Splits line into words (single and double quotes group; a backslash
 * escapes the next character) until an unquoted '|' or '>'. */
static int split_words(const char *line, struct line_parts *lp, const char **rest)
{
	char *o = lp->buf;
	const char *s = line;
	lp->argc = 0;
	for (;;) {
		s += strspn(s, " \t\r\n");
		if (!*s || *s == '|' || *s == '>')
			break;
		if (lp->argc == CK_MAX_WORDS)
			return -1;
		lp->argv[lp->argc++] = o;
		char quote = 0;
		for (; *s; s++) {
			if (quote) {
				if (*s == quote)
					quote = 0;
				else
					*o++ = *s;
			} else if (*s == '"' || *s == '\'') {
				quote = *s;
			} else if (*s == '\\' && s[1]) {
				*o++ = *++s;
			} else if (strchr(" \t\r\n|>", *s)) {
				break;
			} else {
				*o++ = *s;
			}
		}
		*o++ = '\0';
	}
	lp->argv[lp->argc] = NULL;
	*rest = s;
	return 0;
}

static int parse_line(const char *line, struct line_parts *lp)
{
	memset(lp, 0, sizeof(*lp));
	lp->buf = malloc(strlen(line) + 1);
	if (!lp->buf)
		return -1;
	const char *rest;
	if (split_words(line, lp, &rest) < 0)
		return -1;
	if (*rest == '|') {
		lp->pipe_cmd = rest + 1;
	} else if (*rest == '>') {
		lp->append = rest[1] == '>';
		rest += lp->append ? 2 : 1;
		rest += strspn(rest, " \t");
		size_t n = strcspn(rest, " \t\r\n");
		lp->redir = strndup(rest, n);
		if (!lp->redir || !*lp->redir)
			return -1;
	}
	return 0;
}

static int run_words(struct ck_analysis *a, int argc, char **argv)
{
	const struct ck_analysis_cmd *cmd = ck_analysis_cmd_find(argv[0]);
	if (!cmd) {
		fprintf(a->err, "crash: command not found: %s\n", argv[0]);
		return 1;
	}
	optind = 0;	/* commands use getopt; glibc: 0 re-initialises */
	return cmd->run(a, argc, argv);
}

/* Runs the command with a->out sent to f, restoring it after. */
static int run_to(struct ck_analysis *a, struct line_parts *lp, FILE *f)
{
	FILE *saved = a->out;
	a->out = f;
	int rc = run_words(a, lp->argc, lp->argv);
	fflush(f);
	a->out = saved;
	return rc;
}

static int run_parsed(struct ck_analysis *a, struct line_parts *lp)
{
	if (!lp->argc)
		return 0;
	if (lp->redir) {
		FILE *f = fopen(lp->redir, lp->append ? "a" : "w");
		if (!f) {
			fprintf(a->err, "%s: cannot open %s: %s\n", lp->argv[0], lp->redir,
				strerror(errno));
			return 1;
		}
		int rc = run_to(a, lp, f);
		if (fclose(f) != 0) {
			fprintf(a->err, "%s: writing %s: %s\n", lp->argv[0], lp->redir,
				strerror(errno));
			rc = 1;
		}
		return rc;
	}
	if (lp->pipe_cmd) {
		fflush(a->out);
		FILE *p = popen(lp->pipe_cmd, "w");
		if (!p) {
			fprintf(a->err, "%s: cannot run '%s': %s\n", lp->argv[0], lp->pipe_cmd,
				strerror(errno));
			return 1;
		}
		void (*old)(int) = signal(SIGPIPE, SIG_IGN);
		int rc = run_to(a, lp, p);
		pclose(p);
		signal(SIGPIPE, old);
		return rc;
	}
	int rc = run_words(a, lp->argc, lp->argv);
	fflush(a->out);
	return rc;
}

int ck_analysis_run_line(struct ck_analysis *a, const char *line)
{
	struct line_parts lp;
	int rc;
	if (parse_line(line, &lp) < 0) {
		fprintf(a->err, "crash: cannot parse command line: %s\n", line);
		rc = 1;
	} else {
		rc = run_parsed(a, &lp);
	}
	free(lp.buf);
	free((char *)lp.redir);
	return rc;
}
