/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mod: the loaded modules in crash's columns, by base address:
 *
 *      MODULE       NAME         BASE         SIZE  OBJECT FILE
 *   ffffffffc02f02c0  loop   ffffffffc02ea000  32768  (not loaded)  [CONFIG_KALLSYMS]
 *
 * NAME and SIZE as wide as their longest value; BASE is TEXT_BASE since
 * 6.4's module_memory, SIZE the module's core memory (init left out).
 * Without debug files nothing is loaded: the symbols are the module's own
 * kallsyms, which crash marks "[CONFIG_KALLSYMS]".
 *
 * mod -s MODULE [FILE] and mod -S [DIR] load module debug files (with the
 * DWARF vmlinux given): FILE, or MODULE.ko searched under DIR (default
 * /lib/modules/RELEASE and /usr/lib/debug/lib/modules/RELEASE), `-` and
 * `_` alike.  The OBJECT FILE column then names the file, as in crash.
 */
#include <ftw.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "base/base.h"

#define VADDR_PRLEN 16

/* s centred in width w, the extra space on the right (crash's
 * CENTER|LJUST). */
static void centered(FILE *f, const char *s, int w)
{
	int len = (int)strlen(s);
	int left = len < w ? (w - len) / 2 : 0;
	fprintf(f, "%*s%-*s", left, "", w - left, s);
}

static int mod_json(struct ck_analysis *a, const struct ck_module *mods, size_t nr)
{
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < nr; i++) {
		json_object *o = json_object_new_object();
		char buf[32];
		snprintf(buf, sizeof(buf), "0x%" PRIx64, mods[i].addr);
		json_object_object_add(o, "module", json_object_new_string(buf));
		json_object_object_add(o, "name", json_object_new_string(mods[i].name));
		snprintf(buf, sizeof(buf), "0x%" PRIx64, mods[i].base);
		json_object_object_add(o, "base", json_object_new_string(buf));
		json_object_object_add(o, "size", json_object_new_int64((int64_t)mods[i].size));
		const char *path = ck_moddebug_path(a, mods[i].name);
		json_object_object_add(o, "object_file", path ? json_object_new_string(path) : NULL);
		json_object_array_add(arr, o);
	}
	json_object *top = json_object_new_object();
	json_object_object_add(top, "modules", arr);
	fprintf(a->out, "%s\n",
		json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY |
							JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(top);
	return 0;
}

static void mod_list(struct ck_analysis *a, const struct ck_module *mods, size_t nr,
		     const char *only)
{
	int namew = 0, sizew = 0;
	bool modern = false;
	for (size_t i = 0; i < nr; i++) {
		char b[32];
		namew = CK_MAX(namew, (int)strlen(mods[i].name));
		sizew = CK_MAX(sizew, snprintf(b, sizeof(b), "%" PRIu64, mods[i].size));
		struct ck_module_region r[1];
		ck_module_regions(a, &mods[i], r, 1, &modern);
	}
	FILE *f = a->out;
	centered(f, "MODULE", VADDR_PRLEN);
	fprintf(f, "  %-*s  ", namew, "NAME");
	centered(f, modern ? "TEXT_BASE" : "BASE", VADDR_PRLEN);
	fprintf(f, "  %*s  OBJECT FILE\n", sizew, "SIZE");
	for (size_t i = 0; i < nr; i++) {
		const struct ck_module *m = &mods[i];
		if (only && strcmp(only, m->name))
			continue;
		const char *path = ck_moddebug_path(a, m->name);
		fprintf(f, "%16" PRIx64 "  %-*s  %16" PRIx64 "  %*" PRIu64 "  %s%s\n",
			m->addr, namew, m->name, m->base, sizew, m->size,
			path ? path : "(not loaded)  [CONFIG_KALLSYMS]", path ? " " : "");
	}
}

/* ---- mod -s, mod -S ---- */

static struct {
	char want[80];		/* "name.ko", '-' as '_' */
	char found[4096];
} search;

static void under_to_dash(char *s, char from, char to)
{
	for (; *s; s++)
		if (*s == from)
			*s = to;
}

static int search_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	if (flag != FTW_F || ftw->level > 12)
		return 0;
	char base[80];
	snprintf(base, sizeof(base), "%s", path + ftw->base);
	under_to_dash(base, '-', '_');
	if (strcmp(base, search.want))
		return 0;
	snprintf(search.found, sizeof(search.found), "%s", path);
	return 1;
}

/* MODULE.ko under dir (recursively), into search.found; false if none. */
static bool find_module_file(const char *dir, const char *module)
{
	snprintf(search.want, sizeof(search.want), "%s.ko", module);
	under_to_dash(search.want, '-', '_');
	search.found[0] = '\0';
	return nftw(dir, search_one, 16, FTW_PHYS) == 1;
}

/* The directories searched without one given: the release's. */
static size_t default_dirs(struct ck_analysis *a, char dirs[2][4096])
{
	const char *rel = ck_kernel_vmcoreinfo_str(a->kernel, "OSRELEASE");
	if (!rel)
		return 0;
	snprintf(dirs[0], 4096, "/lib/modules/%s", rel);
	snprintf(dirs[1], 4096, "/usr/lib/debug/lib/modules/%s", rel);
	return 2;
}

static int mod_load_one(struct ck_analysis *a, const char *module, const char *file)
{
	char dirs[2][4096];
	if (!file) {
		size_t n = default_dirs(a, dirs);
		for (size_t i = 0; i < n && !file; i++)
			if (find_module_file(dirs[i], module))
				file = search.found;
		if (!file) {
			fprintf(a->err, "mod: cannot find or load object file for %s module\n", module);
			return 1;
		}
	}
	struct ck_error *err = ck_moddebug_load(a, module, file);
	if (err)
		return ck_analysis_fail(a, "mod", err);
	return 0;
}

static int mod_load(struct ck_analysis *a, int argc, char **argv)
{
	const struct ck_module *mods;
	size_t nr;
	struct ck_error *err = ck_modules_get(a, &mods, &nr);
	if (err)
		return ck_analysis_fail(a, "mod", err);
	if (!strcmp(argv[1], "-s")) {
		if (argc < 3 || argc > 4) {
			fprintf(a->err, "mod: -s MODULE [OBJECT-FILE]\n");
			return 1;
		}
		if (mod_load_one(a, argv[2], argc == 4 ? argv[3] : NULL))
			return 1;
		mod_list(a, mods, nr, argv[2]);
		return 0;
	}
	if (argc > 3) {
		fprintf(a->err, "mod: -S [DIRECTORY]\n");
		return 1;
	}
	char dirs[2][4096];
	size_t nd = argc == 3 ? 1 : default_dirs(a, dirs);
	if (argc == 3)
		snprintf(dirs[0], sizeof(dirs[0]), "%s", argv[2]);
	int rc = 0;
	for (size_t i = 0; i < nr; i++) {
		bool found = false;
		for (size_t k = 0; k < nd && !found; k++)
			found = find_module_file(dirs[k], mods[i].name);
		if (!found)
			continue;
		err = ck_moddebug_load(a, mods[i].name, search.found);
		if (err)
			rc = ck_analysis_fail(a, "mod", err);
	}
	mod_list(a, mods, nr, NULL);
	return rc;
}

int ck_acmd_mod(struct ck_analysis *a, int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "-s") || !strcmp(argv[1], "-S")))
		return mod_load(a, argc, argv);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-d") || !strcmp(argv[i], "-D") || !strcmp(argv[i], "-r") ||
		    !strcmp(argv[i], "-R")) {
			fprintf(a->err, "mod: %s: not supported\n", argv[i]);
			return 1;
		}
		fprintf(a->err, "mod: %s: not supported (mod takes no arguments here)\n", argv[i]);
		return 1;
	}
	const struct ck_module *mods;
	size_t nr;
	struct ck_error *err = ck_modules_get(a, &mods, &nr);
	if (err)
		return ck_analysis_fail(a, "mod", err);
	const char *note = ck_modules_note(a);
	if (note)
		fprintf(a->err, "mod: %s\n", note);
	if (a->json)
		return mod_json(a, mods, nr);
	if (nr)
		mod_list(a, mods, nr, NULL);
	return 0;
}
