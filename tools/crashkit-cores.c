/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * crashkit-cores: userspace cores (the core_pattern handler, the catalog,
 * backtraces).  Its own executable because it links sqlite3 and libdw, which
 * no other crashkit command needs: `crashkit cores ARGS...` execs
 * `crashkit-cores ARGS...` from the same directory (tools/crashkit.c).
 */
#include "tools.h"

int main(int argc, char **argv)
{
	/* ck_cmd_cores() takes argv as `cores ARGS...`: argv[0] is not looked at. */
	return ck_cmd_cores(argc, argv);
}
