/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * crashkit kdump list [DIR...] (issue 11, docs/kdump.md "save"): the dumps
 * `crashkit kdump save` left in a target directory, from each
 * TARGET/STAMP/info.json, oldest first.  Part of crashkit-kdump.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tools.h"

static const char list_help[] =
	"usage: crashkit kdump list [--config FILE] [--json] [DIR...]\n"
	"\n"
	"The kernel dumps saved by 'crashkit kdump save' in DIR (default: the local\n"
	"target of kdump.conf, /var/core/kernel-core), oldest first: crash time (UTC),\n"
	"kernel release, complete or incomplete, bytes of the directory, its path.\n"
	"\n"
	"  -c, --config FILE  kdump.conf whose target is listed (default\n"
	"                     /etc/crashkit/kdump.conf)\n"
	"  -j, --json         a JSON array\n"
	"  -h, --help         this help;  --version  the version\n"
	"\n"
	"Exit status: 0, 1 when a directory cannot be read (a default target that does\n"
	"not exist yet holds no dumps: exit 0), 2 bad arguments.\n";

enum { OPT_VERSION = 0x100 };

static void print_text(const struct ck_kdump_saved *s, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		char when[32] = "-";
		if (s[i].crash_time > 0) {
			time_t t = (time_t)s[i].crash_time;
			struct tm tm;
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", gmtime_r(&t, &tm));
		}
		printf("%-19s  %-28s  %-10s  %12llu  %s\n", when, s[i].release[0] ? s[i].release : "-",
		       s[i].complete ? "complete" : "incomplete", (unsigned long long)s[i].bytes,
		       s[i].dir);
	}
}

static void add_json(json_object *arr, const struct ck_kdump_saved *s, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "dir", json_object_new_string(s[i].dir));
		json_object_object_add(o, "stamp", json_object_new_string(s[i].stamp));
		json_object_object_add(o, "crash_time", json_object_new_int64(s[i].crash_time));
		json_object_object_add(o, "release", json_object_new_string(s[i].release));
		json_object_object_add(o, "complete", json_object_new_boolean(s[i].complete));
		json_object_object_add(o, "bytes", json_object_new_int64((int64_t)s[i].bytes));
		json_object_array_add(arr, o);
	}
}

/* The local directory of the config's target. */
static int default_dir(const char *config, char **ret)
{
	struct ck_kdump_conf conf;
	ck_kdump_conf_init(&conf);
	struct ck_error *err = ck_kdump_conf_load(&conf, config ? config : CK_KDUMP_CONF_DEFAULT,
						  !config);
	if (!err && conf.target_kind > CK_KDUMP_TARGET_DEVICE)
		err = ck_error_create(CK_ERR_UNSUPPORTED, "kdump list: the target '%s' is remote: "
				      "give the directory", conf.target);
	if (!err && !(*ret = ck_kdump_conf_local_dir(&conf)))
		err = &ck_error_nomem;
	ck_kdump_conf_deinit(&conf);
	return err ? ck_report(err) : CK_EXIT_OK;
}

int ck_cmd_kdump_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ 0 },
	};
	const char *config = NULL;
	bool json = false;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'h': return ck_print_help(list_help);
		case OPT_VERSION: return ck_print_version();
		case 'c': config = optarg; break;
		case 'j': json = true; break;
		default: return ck_getopt_error("kdump list", c, argv);
		}
	}
	char *def = NULL;
	if (optind == argc) {
		int rc = default_dir(config, &def);
		if (rc)
			return rc;
	}
	json_object *arr = json_object_new_array();
	int rc = CK_EXIT_OK;
	for (int i = optind; i < argc || (def && i == optind); i++) {
		const char *dir = def ? def : argv[i];
		struct ck_kdump_saved *s;
		size_t nr;
		struct ck_error *err = ck_kdump_list(dir, &s, &nr);
		if (err && def && ck_error_errno(err) == ENOENT) {
			/* no target directory yet: no dumps yet */
			ck_error_destroy(err);
			continue;
		}
		if (err) {
			rc = ck_report(err);
			continue;
		}
		if (json)
			add_json(arr, s, nr);
		else
			print_text(s, nr);
		ck_kdump_saved_free(s, nr);
	}
	if (json)
		puts(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY |
						    JSON_C_TO_STRING_SPACED |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
	free(def);
	if (fflush(stdout))
		rc = CK_EXIT_ERROR;
	return rc;
}
