/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: crashkit-analyze's command lines (lib/analysis/shell.c),
 * any bytes up to the first NUL.  ck_analysis_parse_line() only parses:
 * no command, shell command or file is run or opened.  Checked: every
 * command has 0 < argc <= CK_LINE_MAX_WORDS words (or is a "!" shell
 * command), argv is NULL-terminated, every string lies in the line's
 * buffer, a redirection has a file name and a pipe a command.
 */
#include "fuzz.h"

#include "analysis/analysis.h"

static void seeds_write(const char *dir, const char *const *lines, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		char name[32];
		snprintf(name, sizeof(name), "line-%02zu", i);
		fz_seed(dir, name, lines[i], strlen(lines[i]));
	}
}

static void fz_seeds(const char *dir)
{
	static const char *const lines[] = {
		"sys",
		"bt -a",
		"ps | grep bash",
		"log > /tmp/x",
		"log >> \"a file\"",
		"sys; bt; ps; log",
		"struct task_struct.pid,comm ffff888003a60000",
		"eval (1 | 2) > 3",
		"p 'a > b'; sym \"x;y\" | wc -l",
		"!echo hi; echo there",
		"# a comment",
		"rd -64 linux_banner 8 | awk '{ print $1; }' ; q",
		"foreach UN bt\\ -s",
		"help   \t  sys  ;;  ;  help",
		"bt |",
		"> x",
		"sym 'unterminated",
		"ps > a b",
	};
	seeds_write(dir, lines, sizeof(lines) / sizeof(lines[0]));
}

static bool inside(const struct ck_line *l, const char *p, size_t buf_len)
{
	return p >= l->buf && p + strlen(p) < l->buf + buf_len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	size_t buf_len = 2 * strlen(line) + 2;
	struct ck_line l;
	struct ck_error *err = ck_analysis_parse_line(line, &l);
	if (err) {
		if (l.nr != 0)
			abort();
		fz_drop(err);
	}
	for (size_t i = 0; i < l.nr; i++) {
		const struct ck_line_cmd *c = &l.cmds[i];
		if (c->shell) {
			if (!*c->shell || !inside(&l, c->shell, buf_len) || c->argc)
				abort();
			continue;
		}
		if (c->argc <= 0 || c->argc > CK_LINE_MAX_WORDS || c->argv[c->argc])
			abort();
		for (int w = 0; w < c->argc; w++)
			if (!c->argv[w] || !inside(&l, c->argv[w], buf_len))
				abort();
		if (c->redir && (!*c->redir || !inside(&l, c->redir, buf_len) || c->pipe_cmd))
			abort();
		if (c->pipe_cmd && (!*c->pipe_cmd || !inside(&l, c->pipe_cmd, buf_len)))
			abort();
	}
	ck_line_free(&l);
	free(line);
	return 0;
}
