/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The interactive shell: libedit for line editing and history. */
#include <editline/readline.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"

int ck_analysis_shell(struct ck_analysis *a, const char *prompt)
{
	int status = 0;
	for (;;) {
		char *line = readline(prompt);
		if (!line)
			break;
		const char *s = line + strspn(line, " \t");
		if (!strcmp(s, "q") || !strcmp(s, "quit") || !strcmp(s, "exit")) {
			free(line);
			break;
		}
		if (*s) {
			add_history(s);
			status |= ck_analysis_run_line(a, s);
		}
		free(line);
	}
	return status;
}
