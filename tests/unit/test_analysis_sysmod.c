/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the sysmod part of lib/analysis: the names crash shows
 * (ck_symbol_display_len cuts gcc's and clang's clone suffixes as crash's
 * strip_symbol_end does: the first of ".isra.", ".part.", ".llvm." in
 * that order, whatever follows).
 */
#include <string.h>

#include "analysis/analysis.h"
#include "../harness.h"

static void test_display_len(void)
{
	static const struct {
		const char *name;
		const char *shown;
	} cases[] = {
		{ "schedule", "schedule" },
		{ "match_id.isra.0", "match_id" },
		{ "perf_iommu_stop.part.0", "perf_iommu_stop" },
		/* .isra. is looked for first: the .part. before it stays */
		{ "ftrace_regex_write.part.0.isra.0", "ftrace_regex_write.part.0" },
		{ "get_sigframe.constprop.0.isra.0", "get_sigframe.constprop.0" },
		{ "foo.llvm.123456", "foo" },
		{ "loop_probe.cold", "loop_probe.cold" },
		{ "", "" },
		{ ".isra.", "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = ck_symbol_display_len(cases[i].name);
		EXPECT(len == strlen(cases[i].shown));
		EXPECT(!strncmp(cases[i].name, cases[i].shown, len));
	}
}

int main(void)
{
	int r = harness_begin("analysis_sysmod");
	if (r)
		return r;
	run("symbol names as crash shows them", test_display_len);
	return harness_end();
}
