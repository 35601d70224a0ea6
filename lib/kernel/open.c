/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The front door of the analysis walk: DUMP arguments (one file, or the
 * files of a split dump) to a dump and the kernel in it, as every command
 * that reads a dump needs them.
 */
#include <inttypes.h>

#include "kernel/kernel.h"

/* A truncated dump still answers what its headers and the pages present
 * can tell: say so once, before the kernel is read. */
static void open_warn_truncated(const struct ck_open_opts *opts, const char *path,
				const struct ck_dump_info *info)
{
	if (!opts->warn || !info->truncated)
		return;
	char *msg = ck_strdup_printf("'%s' is truncated: %" PRIu64 " of %" PRIu64 " bytes present "
				     "(%" PRIu64 " missing); answering from what is there",
				     path, info->file_size, info->expected_size,
				     info->expected_size - info->file_size);
	opts->warn(opts->warn_arg, msg ? msg : "a dump is truncated (out of memory)");
	free(msg);
}

struct ck_error *ck_open(const char *const *paths, size_t nr, const struct ck_open_opts *opts,
			 struct ck_dump **dump_ret, struct ck_kernel **kernel_ret)
{
	static const struct ck_open_opts dump_only = { 0 };
	if (!opts)
		opts = &dump_only;
	struct ck_dump *dump;
	struct ck_error *err = nr == 1 ? ck_dump_open(paths[0], &dump)
				       : ck_dump_open_split(paths, nr, &dump);
	if (err)
		return err;
	if (opts->kernel) {
		struct ck_kernel *kernel;
		err = ck_kernel_create(dump, &kernel);
		if (err) {
			/* One line: the cut said in the error rather than in a
			 * warning before it. */
			const struct ck_dump_info *info = ck_dump_info(dump);
			if (info->truncated && err != &ck_error_nomem) {
				struct ck_error *cut = ck_error_create(ck_error_code(err),
					"%s (the file is truncated: %" PRIu64 " of %" PRIu64
					" bytes present)", ck_error_message(err), info->file_size,
					info->expected_size);
				ck_error_destroy(err);
				err = cut;
			}
			ck_dump_destroy(dump);
			return err;
		}
		*kernel_ret = kernel;
	}
	open_warn_truncated(opts, paths[0], ck_dump_info(dump));
	*dump_ret = dump;
	return NULL;
}
