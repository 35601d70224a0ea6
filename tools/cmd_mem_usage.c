/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `crashkit capture --mem-usage VMCORE` and `crashkit makedumpfile
 * --mem-usage /proc/kcore`: pages per dump-level class (lib/capture/mem_usage.c,
 * docs/capture.md), as a table, as JSON, or in makedumpfile's layout.
 */
#include <inttypes.h>
#include <stdio.h>

#include <json-c/json.h>

#include "crashkit.h"
#include "tools.h"

static const struct {
	enum ck_page_class cls;
	int bit;			/* dump level bit; 0: excluded at every level */
	const char *what;
} classes[] = {
	{ CK_PAGE_ZERO, CK_DL_ZERO, "pages filled with zeros" },
	{ CK_PAGE_CACHE, CK_DL_CACHE, "page cache without the private flag" },
	{ CK_PAGE_CACHE_PRIVATE, CK_DL_CACHE_PRIVATE, "page cache with the private flag" },
	{ CK_PAGE_USER, CK_DL_USER, "user process pages" },
	{ CK_PAGE_FREE, CK_DL_FREE, "free pages" },
	{ CK_PAGE_HWPOISON, 0, "hardware-poisoned pages" },
	{ CK_PAGE_OFFLINE, 0, "logically offline pages (balloons)" },
};

static const char *excludable(const struct ck_mem_usage *mu, int bit)
{
	return !bit || (mu->supported & bit) ? "yes" : "no";
}

/* makedumpfile's print_mem_usage() layout, field for field (its stdout
 * unless -F, and nothing without message level bit 2); KERN_DATA is what
 * no class takes, hwpoison and offline included in the excluded pages. */
static void print_makedumpfile(const struct ck_mem_usage *mu)
{
	printf("\n");
	printf("TYPE\t\tPAGES\t\t\tEXCLUDABLE\tDESCRIPTION\n");
	printf("----------------------------------------------------------------------\n");
	printf("ZERO\t\t%-16" PRIu64 "\t%s\t\tPages filled with zero\n",
	       mu->pages[CK_PAGE_ZERO], excludable(mu, CK_DL_ZERO));
	printf("NON_PRI_CACHE\t%-16" PRIu64 "\t%s\t\tCache pages without private flag\n",
	       mu->pages[CK_PAGE_CACHE], excludable(mu, CK_DL_CACHE));
	printf("PRI_CACHE\t%-16" PRIu64 "\t%s\t\tCache pages with private flag\n",
	       mu->pages[CK_PAGE_CACHE_PRIVATE], excludable(mu, CK_DL_CACHE_PRIVATE));
	printf("USER\t\t%-16" PRIu64 "\t%s\t\tUser process pages\n",
	       mu->pages[CK_PAGE_USER], excludable(mu, CK_DL_USER));
	printf("FREE\t\t%-16" PRIu64 "\t%s\t\tFree pages\n",
	       mu->pages[CK_PAGE_FREE], excludable(mu, CK_DL_FREE));
	printf("KERN_DATA\t%-16" PRIu64 "\tno\t\tDumpable kernel data \n", mu->kernel);
	printf("\n");
	printf("page size:\t\t%-16" PRIu32 "\n", mu->page_size);
	printf("Total pages on system:\t%-16" PRIu64 "\n", mu->total);
	printf("Total size on system:\t%-16" PRIu64 " Byte\n", mu->total * mu->page_size);
	printf("\n");
}

static double mib(const struct ck_mem_usage *mu, uint64_t pages)
{
	return pages * (double)mu->page_size / (1 << 20);
}

static void print_table(const char *input, const struct ck_mem_usage *mu)
{
	printf("%-15s %12s %10s %11s  %s\n", "class", "pages", "MiB", "excludable", "description");
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		uint64_t n = mu->pages[classes[i].cls];
		if (!classes[i].bit && !n)
			continue;	/* hwpoison, offline: only when there are some */
		char ex[24];
		if (classes[i].bit)
			snprintf(ex, sizeof(ex), "%s (-d %d)", excludable(mu, classes[i].bit),
				 classes[i].bit);
		else
			snprintf(ex, sizeof(ex), "always");
		printf("%-15s %12" PRIu64 " %10.1f %11s  %s\n", ck_page_class_name(classes[i].cls), n,
		       mib(mu, n), ex, classes[i].what);
	}
	printf("%-15s %12" PRIu64 " %10.1f %11s  %s\n", "kernel_data", mu->kernel,
	       mib(mu, mu->kernel), "no", "what -d 31 keeps besides zero pages");
	if (mu->absent)
		printf("%-15s %12" PRIu64 " %10.1f %11s  %s\n", "absent", mu->absent,
		       mib(mu, mu->absent), "-", "not in the input (excluded when it was saved)");
	if (mu->unreadable)
		printf("%-15s %12" PRIu64 " %10.1f %11s  %s\n", "unreadable", mu->unreadable,
		       mib(mu, mu->unreadable), "-", "the input could not give them");
	printf("%-15s %12" PRIu64 " %10.1f %11s  page size %" PRIu32 "\n", "total", mu->total,
	       mib(mu, mu->total), "", mu->page_size);
	if (mu->crashkernel)
		printf("\nNot counted: %" PRIu64 " pages (%.1f MiB) reserved for the crash kernel, "
		       "which a dump never holds.\n", mu->crashkernel, mib(mu, mu->crashkernel));
	printf("\n'%s'%s: a -d 31 dump holds %" PRIu64 " pages (%.1f MiB) before compression, "
	       "zero pages shared.\n", input, mu->live ? " (this system)" : "", mu->kernel,
	       mib(mu, mu->kernel));
}

static int print_json(const char *input, const struct ck_mem_usage *mu)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "file", json_object_new_string(input));
	json_object_object_add(o, "live", json_object_new_boolean(mu->live));
	json_object_object_add(o, "page_size", json_object_new_int64(mu->page_size));
	json_object_object_add(o, "total_pages", json_object_new_uint64(mu->total));
	json_object_object_add(o, "total_bytes",
			       json_object_new_uint64(mu->total * mu->page_size));
	json_object *jc = json_object_new_object();
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		json_object *c = json_object_new_object();
		json_object_object_add(c, "pages", json_object_new_uint64(mu->pages[classes[i].cls]));
		json_object_object_add(c, "dump_level_bit",
				       classes[i].bit ? json_object_new_int(classes[i].bit) : NULL);
		json_object_object_add(c, "excludable",
				       json_object_new_boolean(!classes[i].bit ||
							       (mu->supported & classes[i].bit)));
		json_object_object_add(jc, ck_page_class_name(classes[i].cls), c);
	}
	json_object_object_add(o, "classes", jc);
	json_object_object_add(o, "kernel_data_pages", json_object_new_uint64(mu->kernel));
	json_object_object_add(o, "absent_pages", json_object_new_uint64(mu->absent));
	json_object_object_add(o, "unreadable_pages", json_object_new_uint64(mu->unreadable));
	json_object_object_add(o, "crashkernel_pages", json_object_new_uint64(mu->crashkernel));
	json_object_object_add(o, "note", mu->note[0] ? json_object_new_string(mu->note) : NULL);
	int ok = puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return ok < 0 ? CK_EXIT_ERROR : CK_EXIT_OK;
}

int ck_mem_usage_main(const char *input, bool compat, bool json, int msg_level)
{
	struct ck_mem_usage mu;
	struct ck_mem_usage_opts o = { .iomem = "/proc/iomem" };
	struct ck_error *err = ck_mem_usage(input, &o, &mu);
	if (err)
		return ck_report(err);
	if (mu.note[0] && msg_level)
		ck_warn("classes not decided: %s", mu.note);
	if (mu.unreadable && msg_level)
		ck_warn("%" PRIu64 " pages could not be read", mu.unreadable);
	if (compat) {
		if (msg_level & 2)	/* makedumpfile's ML_PRINT_COMMON_MSG */
			print_makedumpfile(&mu);
	} else if (json) {
		return print_json(input, &mu);
	} else {
		print_table(input, &mu);
	}
	return fflush(stdout) ? CK_EXIT_ERROR : CK_EXIT_OK;
}
