/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The recoverable hardware errors a kernel counted before it died:
 * `struct hwerr_info hwerr_data[HWERR_RECOV_MAX]` (kernel/vmcore_info.c,
 * "vmcoreinfo: Track and log recoverable hardware errors", Linux 6.17), one
 * {count, timestamp} per enum hwerr_error_type (uapi linux/vmcore.h:
 * HWERR_RECOV_CPU, _MEMORY, _PCI, _CXL, _OTHERS).  The symbol comes from
 * kallsyms; the layout, the sources' names and how many there are from the
 * types (count was an int, then an atomic_t).  A kernel without the array
 * keeps no such counters: that is said, not guessed.
 */
#include <bpf/btf.h>
#include <ctype.h>
#include <string.h>

#include "analysis/analysis.h"

#define HWERR_PREFIX "HWERR_RECOV_"

/* The sources by value from enum hwerr_error_type; returns how many
 * (the value of HWERR_RECOV_MAX, or the largest + 1), 0 without the enum. */
static size_t hwerr_sources(struct ck_types *types, struct ck_triage_hwerr *out, size_t max)
{
	uint32_t id;
	struct ck_error *err = ck_type_find(types, "enum hwerr_error_type", &id);
	if (err) {
		ck_error_destroy(err);
		return 0;
	}
	const struct btf *btf = ck_types_btf(types);
	const struct btf_type *t = btf__type_by_id(btf, ck_type_resolve(types, id));
	if (!t || !btf_is_enum(t))
		return 0;
	size_t n = 0, limit = 0;
	const struct btf_enum *e = btf_enum(t);
	for (uint16_t j = 0; j < btf_vlen(t); j++, e++) {
		const char *s = btf__name_by_offset(btf, e->name_off);
		if (!s || e->val < 0 || (size_t)e->val >= max)
			continue;
		if (!strncmp(s, HWERR_PREFIX, strlen(HWERR_PREFIX)))
			s += strlen(HWERR_PREFIX);
		if (!strcmp(s, "MAX")) {
			limit = (size_t)e->val;
			continue;
		}
		struct ck_triage_hwerr *h = &out[e->val];
		size_t k;
		for (k = 0; s[k] && k < sizeof(h->name) - 1; k++)
			h->name[k] = (char)tolower((unsigned char)s[k]);
		h->name[k] = '\0';
		n = CK_MAX(n, (size_t)e->val + 1);
	}
	return limit ? CK_MIN(limit, max) : n;
}

void ck_triage_hwerr(struct ck_analysis *a, struct ck_triage *t,
		     void (*note)(struct ck_triage *, const char *, struct ck_error *))
{
	struct ck_symbol s;
	struct ck_error *err = ck_kernel_symbol_by_name(a->kernel, "hwerr_data", &s);
	if (err) {
		ck_error_destroy(err);	/* not kept by this kernel (before 6.17) */
		return;
	}
	struct ck_types *types;
	uint32_t id;
	struct ck_member count, stamp;
	const char *which;
	static const char *const counts[] = { "count.counter", "count", NULL };
	if ((err = ck_analysis_types(a, &types)) || (err = ck_type_find(types, "struct hwerr_info", &id)) ||
	    (err = ck_member_of_any(types, "hwerr_info", counts, &count, &which)) ||
	    (err = ck_member_of(types, "hwerr_info", "timestamp", &stamp))) {
		note(t, "hwerr_data", err);
		return;
	}
	uint64_t size = ck_type_size(types, id);
	size_t n = hwerr_sources(types, t->hwerr, CK_TRIAGE_HWERR_MAX);
	for (size_t i = 0; i < n && !err; i++) {
		uint64_t c, ts;
		uint64_t at = s.address + i * size;
		if (!(err = ck_read_member(a->kernel, types, at, &count, &c)) &&
		    !(err = ck_read_member(a->kernel, types, at, &stamp, &ts))) {
			t->hwerr[i].count = (int64_t)c;
			t->hwerr[i].last = (int64_t)ts;
			if (!t->hwerr[i].name[0])	/* a value the enum does not name */
				snprintf(t->hwerr[i].name, sizeof(t->hwerr[i].name), "%u",
					 (unsigned int)i % CK_TRIAGE_HWERR_MAX);
		}
	}
	if (err) {
		note(t, "hwerr_data", err);
		return;
	}
	t->nr_hwerr = n;
	t->have_hwerr = n > 0;
}
