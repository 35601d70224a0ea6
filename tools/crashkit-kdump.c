/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * crashkit-kdump: the kdump family (docs/kdump.md): check and recommend
 * today; load, initramfs and save next.  Its own executable because
 * lib/kdump/ must stay out of `crashkit`, the binary the capture initramfs
 * carries (tests/house.sh): `crashkit kdump ARGS...` execs
 * `crashkit-kdump kdump ARGS...` from the same directory (tools/crashkit.c).
 */
#include <string.h>

#include "tools.h"

int main(int argc, char **argv)
{
	/* Run as `crashkit-kdump kdump ARGS` (from crashkit) or by hand as
	 * `crashkit-kdump ARGS`: ck_cmd_kdump() takes `kdump ARGS`. */
	if (argc > 1 && !strcmp(argv[1], "kdump"))
		return ck_cmd_kdump(argc - 1, argv + 1);
	return ck_cmd_kdump(argc, argv);
}
