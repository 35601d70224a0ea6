/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The signature of a userspace crash, scheme v1 of docs/signatures.md (the
 * kernel's scheme, with the executable's name as the one extra field):
 *
 *	hex(SHA-256("v1|" CLASS "|" EXE "|" F1 "|" F2 "|" F3))[0:16]
 *
 * computed from the stored text of the backtrace and the module list, so
 * the handler (right after the walk) and the catalog (recomputing records
 * stored under the older scheme) give the same answer.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base/sha256.h"
#include "cores/cores.h"

#define NR_SIG_FRAMES 3

void ck_core_signal_class(int signal, char buf[CK_CORE_CLASS_MAX])
{
	const char *abbrev = signal > 0 && signal < 65 ? sigabbrev_np(signal) : NULL;
	if (!abbrev) {
		snprintf(buf, CK_CORE_CLASS_MAX, "signal-%d", signal);
		return;
	}
	size_t i = 0;
	for (; abbrev[i] && i + 1 < CK_CORE_CLASS_MAX; i++)
		buf[i] = (char)(abbrev[i] >= 'A' && abbrev[i] <= 'Z' ? abbrev[i] + 32 : abbrev[i]);
	buf[i] = '\0';
}

/* Frames below which nothing is the program's own: the C library's entry
 * and thread start.  The walk ends at the first of them. */
static bool stop_frame(const char *name)
{
	static const char *const names[] = {
		"_start", "__libc_start_main", "__libc_start_call_main", "__libc_start_main_impl",
		"start_thread", "clone", "clone3", "__clone", "__clone3", "__GI___clone",
		"__GI___clone3", "__clone_internal",
	};
	for (size_t i = 0; i < CK_ARRAY_SIZE(names); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

char *ck_core_signature_input(const char *exe_name, int signal, const char *const *frames,
			      unsigned int nr)
{
	char class[CK_CORE_CLASS_MAX];
	ck_core_signal_class(signal, class);
	struct ck_strbuf sb = CK_STRBUF_INIT;
	ck_strbuf_addf(&sb, "v1|%s|%s", class, exe_name ? exe_name : "");
	for (unsigned int i = 0; i < nr && i < NR_SIG_FRAMES; i++) {
		/* gcc's clones hash as the function: the name ends at its first '.' */
		const char *dot = strchr(frames[i], '.');
		size_t len = dot && dot != frames[i] ? (size_t)(dot - frames[i]) : strlen(frames[i]);
		ck_strbuf_addf(&sb, "|%.*s", (int)len, frames[i]);
	}
	return ck_strbuf_detach(&sb, NULL);
}

char *ck_core_signature(const char *exe_name, int signal, const char *const *frames,
			unsigned int nr)
{
	_cleanup_free_ char *input = ck_core_signature_input(exe_name, signal, frames, nr);
	if (!input)
		return NULL;
	char hex[2 * CK_SHA256_LEN + 1];
	ck_sha256_hex(input, strlen(input), hex);
	hex[16] = '\0';
	return strdup(hex);
}

/* The module of the "start-end build-id path" list holding addr, as its
 * base name, and its start; false when none does. */
static bool module_at(const char *modules, unsigned long long addr, char *name, size_t size,
		      unsigned long long *start_ret)
{
	for (const char *line = modules; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		unsigned long long start, end;
		int path_at = 0;
		if (sscanf(line, "0x%llx-0x%llx %*s %n", &start, &end, &path_at) == 2 &&
		    path_at > 0 && (size_t)path_at <= len && addr >= start && addr < end) {
			const char *path = line + path_at;
			size_t plen = len - (size_t)path_at;
			const char *slash = memrchr(path, '/', plen);
			if (slash) {
				plen -= (size_t)(slash + 1 - path);
				path = slash + 1;
			}
			snprintf(name, size, "%.*s", (int)plen, path);
			*start_ret = start;
			return plen > 0;
		}
		line = nl ? nl + 1 : NULL;
	}
	return false;
}

/* One "#N 0xPC NAME (MODULE)[ at FILE:LINE]" line: the pc and the name
 * (up to the first " (": symbol names hold no spaces, a file name may).
 * False for other lines. */
static bool parse_frame(const char *line, size_t len, unsigned long long *pc, char *name,
			size_t size)
{
	int at = 0;
	if (len == 0 || line[0] != '#' || sscanf(line, "#%*u 0x%llx %n", pc, &at) != 1 || at <= 0 ||
	    (size_t)at >= len)
		return false;
	const char *start = line + at, *end = line + len;
	const char *paren = NULL;
	for (const char *p = start; !paren && p + 1 < end; p++)
		if (p[0] == ' ' && p[1] == '(')
			paren = p;
	if (!paren)
		paren = end;
	snprintf(name, size, "%.*s", (int)(paren - start), start);
	return true;
}

struct ck_error *ck_core_signature_from_text(const char *exe, int signal, const char *backtrace,
					     const char *modules, struct ck_core_sig *ret)
{
	char frames[NR_SIG_FRAMES][256];
	const char *ptrs[NR_SIG_FRAMES] = { NULL };
	unsigned int nr = 0;
	bool in_first = false;
	for (const char *line = backtrace ? backtrace : ""; *line && nr < NR_SIG_FRAMES;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		if (!strncmp(line, "TID ", 4)) {
			if (in_first)
				break;	/* the first thread is the one that took the signal */
			in_first = true;
		}
		unsigned long long pc;
		char name[256], mod[128];
		if (in_first && parse_frame(line, len, &pc, name, sizeof(name))) {
			if (stop_frame(name))
				break;
			if (!strcmp(name, "??")) {
				/* No symbol: the module and the offset in it, stable
				 * for one build whatever the load address. */
				unsigned long long start;
				if (module_at(modules ? modules : "", pc, mod, sizeof(mod), &start))
					snprintf(frames[nr], sizeof(frames[nr]), "%s+0x%llx", mod,
						 pc - start);
				else
					frames[nr][0] = '\0';
			} else if (!ck_core_boring_frame(name)) {
				snprintf(frames[nr], sizeof(frames[nr]), "%s", name);
			} else {
				frames[nr][0] = '\0';
			}
			if (frames[nr][0]) {
				ptrs[nr] = frames[nr];
				nr++;
			}
		}
		line = nl ? nl + 1 : line + len;
	}
	const char *base = exe ? strrchr(exe, '/') : NULL;
	base = base ? base + 1 : exe ? exe : "";
	memset(ret, 0, sizeof(*ret));
	ck_core_signal_class(signal, ret->class_name);
	ret->input = ck_core_signature_input(base, signal, ptrs, nr);
	ret->signature = ck_core_signature(base, signal, ptrs, nr);
	ret->frame = strdup(nr ? ptrs[0] : "");
	if (!ret->input || !ret->signature || !ret->frame) {
		ck_core_sig_deinit(ret);
		return &ck_error_nomem;
	}
	return NULL;
}

void ck_core_sig_deinit(struct ck_core_sig *sig)
{
	free(sig->input);
	free(sig->signature);
	free(sig->frame);
	memset(sig, 0, sizeof(*sig));
}
