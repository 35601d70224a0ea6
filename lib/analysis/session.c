/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The analysis session: one dump, its kernel, its types, its models. */
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"

void ck_tasks_destroy(struct ck_tasks *tasks);
void ck_modules_destroy(struct ck_modules *modules);

struct ck_error *ck_analysis_open(const char *const *paths, size_t nr,
				  const struct ck_analysis_opts *opts, struct ck_analysis **ret)
{
	struct ck_analysis *a = calloc(1, sizeof(*a));
	if (!a)
		return &ck_error_nomem;
	struct ck_open_opts oo = { .kernel = true };
	if (opts) {
		oo.warn = opts->warn;
		oo.warn_arg = opts->warn_arg;
	}
	struct ck_error *err = ck_open(paths, nr, &oo, &a->dump, &a->kernel);
	if (err) {
		free(a);
		return err;
	}
	a->dump_path = strdup(paths[0]);
	if (!a->dump_path) {
		ck_analysis_destroy(a);
		return &ck_error_nomem;
	}
	a->out = stdout;
	a->err = stderr;
	a->types_error = ck_types_from_dump(a->kernel, &a->types);
	if (a->types_error)
		a->types_error = ck_error_prepend(a->types_error, "'%s'", paths[0]);
	*ret = a;
	return NULL;
}

void ck_analysis_destroy(struct ck_analysis *a)
{
	if (!a)
		return;
	ck_debuginfo_destroy(a);
	ck_tasks_destroy(a->tasks);
	ck_modules_destroy(a->modules);
	ck_types_destroy(a->types);
	ck_error_destroy(a->types_error);
	ck_kernel_destroy(a->kernel);
	ck_dump_destroy(a->dump);
	free(a->dump_path);
	free(a);
}

void ck_analysis_set_json(struct ck_analysis *a, bool json)
{
	a->json = json;
}

struct ck_error *ck_analysis_types(struct ck_analysis *a, struct ck_types **ret)
{
	if (a->types) {
		*ret = a->types;
		return NULL;
	}
	return ck_error_create(CK_ERR_UNSUPPORTED,
			       "needs the kernel's types, and the dump's BTF cannot be read (%s); "
			       "give the DWARF vmlinux",
			       ck_error_message(a->types_error));
}

int ck_analysis_fail(struct ck_analysis *a, const char *cmd, struct ck_error *err)
{
	fprintf(a->err, "%s: %s\n", cmd, ck_error_message(err));
	ck_error_destroy(err);
	return 1;
}
