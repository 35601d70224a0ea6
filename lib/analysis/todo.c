/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Commands being written (issue 9): each says so and fails.  A command's
 * file (cmd_NAME.c) replaces its line here. */
#include "analysis/analysis.h"

#define CK_TODO(name)                                                              \
	int ck_acmd_##name(struct ck_analysis *a, int argc, char **argv)           \
	{                                                                          \
		fprintf(a->err, "%s: not available yet in this build\n", #name);  \
		return 1;                                                          \
	}


/* Models being written: tasks.c and modules.c replace these. */
