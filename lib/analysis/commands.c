/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crash's commands: the table (one file per command: cmd_NAME.c). */
#include <string.h>

#include "analysis/analysis.h"

static const struct ck_analysis_cmd cmds[] = {
	{ "bt", ck_acmd_bt, "backtrace of a task or of every CPU" },
	{ "dis", ck_acmd_dis, "disassemble a function or an address range" },
	{ "eval", ck_acmd_eval, "evaluate an expression" },
	{ "foreach", ck_acmd_foreach, "run bt or ps for each selected task" },
	{ "help", ck_acmd_help, "the commands, or one command's help" },
	{ "log", ck_acmd_log, "the kernel log" },
	{ "mod", ck_acmd_mod, "loaded modules" },
	{ "p", ck_acmd_p, "print a variable or an expression" },
	{ "ps", ck_acmd_ps, "tasks" },
	{ "rd", ck_acmd_rd, "read memory" },
	{ "set", ck_acmd_set, "the current task or CPU context" },
	{ "struct", ck_acmd_struct, "a structure's layout or contents" },
	{ "sym", ck_acmd_sym, "symbols by name or address" },
	{ "sys", ck_acmd_sys, "system data, and why it panicked" },
	{ "triage", ck_acmd_triage, "why the machine died: class, culprit, signature" },
	{ "union", ck_acmd_union, "a union's layout or contents" },
	{ "whatis", ck_acmd_whatis, "a type's or symbol's declaration" },
};

const struct ck_analysis_cmd *ck_analysis_cmds(size_t *nr)
{
	*nr = sizeof(cmds) / sizeof(cmds[0]);
	return cmds;
}

const struct ck_analysis_cmd *ck_analysis_cmd_find(const char *name)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}
