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
 * kallsyms, which crash marks "[CONFIG_KALLSYMS]".  -s/-S would load
 * module debug files: not available yet.
 */
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
		json_object_object_add(o, "object_file", NULL);
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
		fprintf(f, "%16" PRIx64 "  %-*s  %16" PRIx64 "  %*" PRIu64
			   "  (not loaded)  [CONFIG_KALLSYMS]\n",
			m->addr, namew, m->name, m->base, sizew, m->size);
	}
}

int ck_acmd_mod(struct ck_analysis *a, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-s") || !strcmp(argv[i], "-S") || !strcmp(argv[i], "-d") ||
		    !strcmp(argv[i], "-D") || !strcmp(argv[i], "-r") || !strcmp(argv[i], "-R")) {
			fprintf(a->err, "mod: %s: loading module debug files is not supported yet; "
					"the modules' own symbols (their kallsyms) are used\n",
				argv[i]);
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
