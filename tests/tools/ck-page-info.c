/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ck-page-info: what crashkit's page filter reads from one pfn's struct
 * page and the class it gives the page, one line per pfn, to explain a
 * page that crashkit and a peer keep differently.
 *
 *   ck-page-info [-d LEVEL] DUMP PFN...     (PFN "-": one pfn a line on stdin)
 *
 * Each line is "key=value" words:
 *   pfn      the pfn (hex)
 *   dump     whole, partial (the dump's memory ranges end inside the page:
 *            a RAM segment's last page) or absent
 *   data     zero, nonzero or unreadable (the page's contents in DUMP)
 *   flags mapcount type mapping   page.flags, the _mapcount/page_type word,
 *            the page type the filter decodes from it (- for none), mapping
 *   compound_head or compound_info   the tail word, named by the key
 *            VMCOREINFO has (absent if neither); tail=yes|no
 *   head head-type head-order head-flags   for a tail: the compound head
 *            whose block holds it (head=none if there is none)
 *   order    a head's compound order
 *   alone    the class if the page were judged alone (tails too)
 *   filter   the class lib/walk/page_class.c gives it at LEVEL (kept, free, user, ...)
 *   by       the pfn whose struct page decided that (itself, its head, the
 *            first page of a buddy block)
 *   class    crashkit's class at LEVEL: filter's, else zero for a page of
 *            zeros when LEVEL has bit 1, else kept
 * A pfn without a readable struct page prints "struct-page=none" instead of
 * the struct page words.  The decoding is lib/walk/page_class.c's
 * (ck_filter_explain), never repeated here.
 *
 * Exit status: 0, or 2 on usage or open errors.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"

struct info_ctx {
	struct ck_dump *dump;
	struct ck_filter *filter;
	int level;
	uint32_t page_size;
	uint8_t *page;
};

static const char *class_name(int c)
{
	return c < 0 ? "kept" : ck_page_class_name(c);
}

/* How much of the page the dump's memory ranges cover. */
static const char *coverage(const struct info_ctx *ctx, uint64_t pfn)
{
	const struct ck_mem_range *r;
	size_t nr;
	ck_dump_mem_ranges(ctx->dump, &r, &nr);
	uint64_t start = pfn * ctx->page_size, end = start + ctx->page_size, covered = 0;
	for (size_t i = 0; i < nr; i++) {
		uint64_t s = r[i].start > start ? r[i].start : start;
		uint64_t e = r[i].start + r[i].size < end ? r[i].start + r[i].size : end;
		if (s < e)
			covered += e - s;
	}
	return covered >= ctx->page_size ? "whole" : covered ? "partial" : "absent";
}

static const char *data_kind(const struct info_ctx *ctx, uint64_t pfn)
{
	struct ck_error *err = ck_dump_read_phys(ctx->dump, pfn * ctx->page_size, ctx->page,
						 ctx->page_size);
	if (err) {
		ck_error_destroy(err);
		return "unreadable";
	}
	for (uint32_t i = 0; i < ctx->page_size; i++) {
		if (ctx->page[i])
			return "nonzero";
	}
	return "zero";
}

static void print_struct_page(const struct ck_page_explain *e)
{
	printf(" flags=0x%" PRIx64 " mapcount=0x%08" PRIx32 " type=%s mapping=0x%016" PRIx64,
	       e->flags, e->mapcount, e->type ? e->type : "-", e->mapping);
	if (e->head_key)
		printf(" %s=0x%016" PRIx64, e->head_key, e->head_word);
	printf(" tail=%s", e->tail ? "yes" : "no");
	if (e->tail && e->head_pfn == UINT64_MAX)
		printf(" head=none");
	else if (e->tail)
		printf(" head=0x%" PRIx64 " head-type=%s head-order=%u head-flags=0x%" PRIx64,
		       e->head_pfn, e->head_type ? e->head_type : "-", e->head_order,
		       e->head_flags);
	else if (e->order)
		printf(" order=%u", e->order);
}

static void explain(struct info_ctx *ctx, uint64_t pfn)
{
	const char *dump = coverage(ctx, pfn);
	const char *data = data_kind(ctx, pfn);
	printf("pfn=0x%" PRIx64 " dump=%s data=%s", pfn, dump, data);
	struct ck_page_explain e;
	struct ck_error *err = ck_filter_explain(ctx->filter, ctx->level, pfn, &e);
	if (err) {
		ck_error_destroy(err);
		e.class = -1;
		printf(" struct-page=none");
	} else {
		print_struct_page(&e);
		printf(" alone=%s filter=%s by=0x%" PRIx64, class_name(e.alone_class),
		       class_name(e.class), e.by_pfn);
	}
	bool zero = e.class < 0 && (ctx->level & CK_DL_ZERO) && strcmp(dump, "absent") &&
		    !strcmp(data, "zero");
	printf(" class=%s\n", zero ? "zero" : class_name(e.class));
}

static bool parse_pfn(const char *s, uint64_t *ret)
{
	char *end;
	*ret = strtoull(s, &end, 0);
	return *s && !*end;
}

static int run(struct info_ctx *ctx, char **pfns, int nr)
{
	for (int i = 0; i < nr; i++) {
		uint64_t pfn;
		if (strcmp(pfns[i], "-")) {
			if (!parse_pfn(pfns[i], &pfn)) {
				fprintf(stderr, "ck-page-info: bad pfn '%s'\n", pfns[i]);
				return 2;
			}
			explain(ctx, pfn);
			continue;
		}
		char line[64];
		while (fgets(line, sizeof(line), stdin)) {
			line[strcspn(line, "\r\n")] = 0;
			if (!parse_pfn(line, &pfn)) {
				fprintf(stderr, "ck-page-info: bad pfn '%s'\n", line);
				return 2;
			}
			explain(ctx, pfn);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct info_ctx ctx = {.level = 31};
	if (argc > 2 && !strcmp(argv[1], "-d")) {
		ctx.level = (int)strtol(argv[2], NULL, 0);
		argv += 2;
		argc -= 2;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: ck-page-info [-d LEVEL] DUMP PFN...\n");
		return 2;
	}
	struct ck_kernel *kernel = NULL;
	struct ck_error *err = ck_dump_open(argv[1], &ctx.dump);
	if (!err)
		err = ck_kernel_create(ctx.dump, &kernel);
	if (!err)
		err = ck_filter_create(kernel, &ctx.filter);
	if (err) {
		fprintf(stderr, "ck-page-info: %s: %s\n", argv[1], ck_error_message(err));
		ck_error_destroy(err);
		ck_kernel_destroy(kernel);
		ck_dump_destroy(ctx.dump);
		return 2;
	}
	ctx.page_size = ck_dump_info(ctx.dump)->page_size;
	ctx.page = malloc(ctx.page_size);
	int rc = ctx.page ? run(&ctx, argv + 2, argc - 2) : 2;
	free(ctx.page);
	ck_filter_destroy(ctx.filter);
	ck_kernel_destroy(kernel);
	ck_dump_destroy(ctx.dump);
	return rc;
}
