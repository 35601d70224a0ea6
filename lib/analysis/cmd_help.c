/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * help: the commands in columns, as crash lists them, or one command's
 * help.  The texts are docs/analysis/help/CMD.txt, compiled in by the
 * Makefile (ck_help_texts, $(O)/gen/help_text.c).
 */
#include <string.h>

#include "analysis/analysis.h"

const char *ck_analysis_help_text(const char *cmd)
{
	for (size_t i = 0; i < ck_help_texts_nr; i++)
		if (!strcmp(ck_help_texts[i].name, cmd))
			return ck_help_texts[i].text;
	return NULL;
}

/* The command names down columns, five across. */
static void list_commands(struct ck_analysis *a)
{
	size_t nr;
	const struct ck_analysis_cmd *cmds = ck_analysis_cmds(&nr);
	enum { COLS = 5 };
	size_t total = nr + 1;	/* and q, which the shell itself handles */
	size_t rows = (total + COLS - 1) / COLS;
	fputc('\n', a->out);
	for (size_t r = 0; r < rows; r++) {
		for (size_t c = 0; c < COLS; c++) {
			size_t i = c * rows + r;
			if (i < total)
				fprintf(a->out, "%-15s", i < nr ? cmds[i].name : "q");
		}
		fputc('\n', a->out);
	}
	fprintf(a->out, "\ncrashkit version: %s\n"
		"For help on any command above, enter \"help <command>\".\n"
		"For a one-line summary of every command, enter \"help -s\".\n",
		CRASHKIT_VERSION);
}

static void list_summaries(struct ck_analysis *a)
{
	size_t nr;
	const struct ck_analysis_cmd *cmds = ck_analysis_cmds(&nr);
	for (size_t i = 0; i < nr; i++)
		fprintf(a->out, "%-10s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(a->out, "%-10s %s\n", "q", "leave the shell (also quit, exit, Ctrl-D)");
}

int ck_acmd_help(struct ck_analysis *a, int argc, char **argv)
{
	bool summaries = false;
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "-s")) {
			summaries = true;
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else {
			fprintf(a->err, "help: invalid option: %s (usage: help [-s] [COMMAND...])\n",
				argv[i]);
			return 1;
		}
	}
	if (i == argc) {
		if (summaries)
			list_summaries(a);
		else
			list_commands(a);
		return 0;
	}
	int rc = 0;
	for (; i < argc; i++) {
		const char *name = argv[i];
		if (!strcmp(name, "quit") || !strcmp(name, "exit"))
			name = "q";
		const char *text = ck_analysis_help_text(name);
		if (!text) {
			fprintf(a->err, "help: no help for \"%s\": not a command "
				"(\"help\" lists them)\n", argv[i]);
			rc = 1;
			continue;
		}
		fputs(text, a->out);
	}
	return rc;
}
