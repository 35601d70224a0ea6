/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A list of owned strings: module names, library paths, directories. */
#include <string.h>

#include "base/base.h"
#include "kdump/kdump.h"

void ck_strlist_deinit(struct ck_strlist *l)
{
	for (size_t i = 0; i < l->nr; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->nr = l->cap = 0;
}

bool ck_strlist_add_owned(struct ck_strlist *l, char *s)
{
	if (!s)
		return false;
	if (l->nr == l->cap) {
		char **n = ck_vector_grow(l->items, &l->cap, l->nr + 1, sizeof(*n));
		if (!n) {
			free(s);
			return false;
		}
		l->items = n;
	}
	l->items[l->nr++] = s;
	return true;
}

bool ck_strlist_add(struct ck_strlist *l, const char *s)
{
	return ck_strlist_add_owned(l, strdup(s));
}

bool ck_strlist_contains(const struct ck_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->nr; i++)
		if (!strcmp(l->items[i], s))
			return true;
	return false;
}

char *ck_kdump_read_quiet(const char *path, size_t max)
{
	char *text = NULL;
	struct ck_error *err = path ? ck_kdump_read_text(path, max, &text, NULL) : &ck_error_nomem;
	if (err) {
		ck_error_destroy(err);
		return NULL;
	}
	return text;
}

bool ck_strlist_add_unique(struct ck_strlist *l, const char *s)
{
	return ck_strlist_contains(l, s) || ck_strlist_add(l, s);
}
