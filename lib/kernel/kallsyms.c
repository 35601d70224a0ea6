/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Kernel symbols without a vmlinux: the kernel's own kallsyms tables, which
 * VMCOREINFO locates since Linux 6.0 ("vmcoreinfo: include kallsyms symbols",
 * 5fd8fea935a1, and "vmcoreinfo: add kallsyms_num_syms symbol", f09bddbd8661):
 *
 *   SYMBOL(kallsyms_names)         per symbol: a token count, then that many
 *                                  token numbers; the first expanded character
 *                                  is the type letter
 *   SYMBOL(kallsyms_num_syms)      u32
 *   SYMBOL(kallsyms_token_table)   NUL-terminated token strings, back to back
 *   SYMBOL(kallsyms_token_index)   256 x u16: where token N starts
 *   SYMBOL(kallsyms_offsets)       s32 per symbol (4.6+; see enum ks_encoding)
 *   SYMBOL(kallsyms_relative_base) u64 base for the offsets (4.6-6.19)
 *   SYMBOL(kallsyms_addresses)     u64 per symbol (absolute, before 6.11)
 *
 * The address table has had five encodings (enum ks_encoding), and nothing
 * in VMCOREINFO names the one in use: "kallsyms: Get rid of kallsyms
 * relative base" (a081b5789255, Linux 7.0) changed the meaning of
 * kallsyms_offsets[] without renaming it.  So every encoding the tables
 * allow is decoded for the symbols VMCOREINFO also gives, and the one that
 * agrees is used (ks_choose()); never the version string.
 *
 * The names table changed too:
 *  - "kallsyms: support "big" kernel symbols" (73bbb94466fd, Linux 6.1): a
 *    token count with the top bit set continues in a second byte, (b0 & 0x7f)
 *    | b1 << 7.  Nothing in VMCOREINFO says whether a kernel has it, so the
 *    two-byte form is always accepted: before 6.1 a count >= 128 could only
 *    come from a 128-character name without a single compressed token
 *    (KSYM_NAME_LEN was 128), which scripts/kallsyms never produces.
 *  - "kallsyms: Improve the performance of kallsyms_lookup_name()" (Linux
 *    6.2) added kallsyms_seqs_of_names, and later kernels keep the type
 *    letter out of shared tokens.  Neither matters here: all names are
 *    decoded once and sorted locally, and the type is the first decoded
 *    character however the tokens split.
 *
 * Everything read is bounded: the symbol count, each name, the total of
 * names and strings; a table that does not decode is an error naming the
 * address.
 */
#include <endian.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kernel/kernel.h"

#define KALLSYMS_MAX_SYMS	(1u << 22)	/* real kernels: ~100k-300k */
#define KALLSYMS_MAX_NAME	1024		/* KSYM_NAME_LEN is 512 since 6.1 */
#define KALLSYMS_MAX_NAMES_BYTES (64u << 20)
#define KALLSYMS_MAX_TOKEN_TABLE (64u << 10)
#define KALLSYMS_READ_CHUNK	(64u << 10)
/* No kernel image is larger than 1 GiB (KERNEL_IMAGE_SIZE): a longer gap to
 * the next symbol is the hole between per-cpu symbols and the text, not a
 * symbol's extent. */
#define KALLSYMS_MAX_SIZE	(1ull << 30)

/*
 * The encodings of the address table, as kernel/kallsyms.c
 * kallsyms_sym_address() has read it over time.  Which one a kernel uses is
 * a build option VMCOREINFO does not name, so each possible one is decoded
 * for the symbols VMCOREINFO also gives (SYMBOL(_stext), SYMBOL(init_uts_ns),
 * ...) and the one that agrees with it is kept (ks_choose()).
 */
enum ks_encoding {
	/* u64 kallsyms_addresses[]: CONFIG_KALLSYMS_BASE_RELATIVE=n (ia64),
	 * until "kallsyms: get rid of code for absolute kallsyms"
	 * (64e166099b69, Linux 6.11) */
	KS_ABSOLUTE,
	/* kallsyms_relative_base + (u32)kallsyms_offsets[i]: "kallsyms: add
	 * support for relative offsets in kallsyms address table"
	 * (2213e9a66bb8, Linux 4.6) until 6.19 */
	KS_BASE_RELATIVE,
	/* CONFIG_KALLSYMS_ABSOLUTE_PERCPU (x86_64 SMP, same commit): an
	 * offset >= 0 is the absolute address of a zero-based per-cpu
	 * symbol, a negative one means relative_base - 1 - offset; until
	 * "kallsyms: Remove KALLSYMS_ABSOLUTE_PERCPU" (01157ddc58dc, 6.15) */
	KS_ABSOLUTE_PERCPU,
	/* &kallsyms_offsets[i] + (s32)kallsyms_offsets[i], each entry a
	 * PC32 reference to its symbol, and no kallsyms_relative_base at all
	 * (nor its VMCOREINFO key): "kallsyms: Get rid of kallsyms relative
	 * base" (a081b5789255, Linux 7.0), 64-bit or relocatable kernels */
	KS_PLACE_RELATIVE,
	/* (u32)kallsyms_offsets[i]: the same commit, 32-bit non-relocatable
	 * kernels, which store the address itself */
	KS_ABSOLUTE32,
	KS_NR_ENCODINGS,
};

static const struct {
	const char *name, *what;
} ks_encoding_names[KS_NR_ENCODINGS] = {
	[KS_ABSOLUTE] = { "absolute", "kallsyms_addresses (before Linux 6.11)" },
	[KS_BASE_RELATIVE] = { "base-relative",
			       "kallsyms_offsets + kallsyms_relative_base (Linux 4.6-6.19)" },
	[KS_ABSOLUTE_PERCPU] = { "absolute-percpu",
				 "kallsyms_offsets, per-cpu absolute (x86_64 SMP, Linux 4.6-6.14)" },
	[KS_PLACE_RELATIVE] = { "place-relative",
				"kallsyms_offsets relative to each entry (Linux 7.0+)" },
	[KS_ABSOLUTE32] = { "absolute32",
			    "kallsyms_offsets holding 32-bit addresses (Linux 7.0+, 32-bit)" },
};

/* The encoding chosen and what vouched for it (ks_choose()). */
struct ks_choice {
	enum ks_encoding encoding;
	unsigned int checked, agreed;
	char agreed_names[256], differ_names[256];
};

struct ks_sym {
	uint64_t address;
	uint64_t size;
	uint32_t name;		/* offset in strings */
	uint32_t index;		/* position in the kernel's table */
	char type;
};

struct ck_kallsyms {
	struct ks_sym *syms;	/* sorted by address, then kernel order */
	size_t nr;
	uint32_t *by_name;	/* indexes into syms, sorted by name, address */
	char *strings;
	size_t strings_len;
	struct ks_choice choice;
};

/* ---- reading a table of unknown length ------------------------------ */

struct growing_read {
	struct ck_kernel *kernel;
	uint64_t vaddr;
	uint64_t limit;		/* bytes that may be read at most */
	uint8_t *buf;
	size_t have, cap;
	const char *what;
};

/* Makes sure the first n bytes are in buf.  Reads ahead in chunks, falling
 * back to exactly what is needed when the read-ahead faults. */
static struct ck_error *growing_read_ensure(struct growing_read *r, uint64_t n)
{
	if (n <= r->have)
		return NULL;
	if (n > r->limit)
		return ck_error_create(CK_ERR_FORMAT,
				       "%s at 0x%" PRIx64 ": runs past %" PRIu64 " bytes",
				       r->what, r->vaddr, r->limit);
	uint64_t want = CK_MAX(n, r->have + KALLSYMS_READ_CHUNK);
	if (want > r->limit)
		want = r->limit;
	uint8_t *p = ck_vector_grow(r->buf, &r->cap, (size_t)want, 1);
	if (!p)
		return &ck_error_nomem;
	r->buf = p;
	struct ck_error *err = ck_kernel_read(r->kernel, r->vaddr + r->have, r->buf + r->have,
					      (size_t)(want - r->have));
	if (err && want > n && ck_error_code(err) == CK_ERR_FAULT) {
		ck_error_destroy(err);
		want = n;
		err = ck_kernel_read(r->kernel, r->vaddr + r->have, r->buf + r->have,
				     (size_t)(want - r->have));
	}
	if (err)
		return ck_error_prepend(err, "%s", r->what);
	r->have = (size_t)want;
	return NULL;
}

/* ---- locating the tables ------------------------------------------------ */

struct ks_tables {
	uint64_t names, num_syms, token_table, token_index;
	uint64_t offsets, relative_base, addresses;
	bool has_offsets, has_relative_base, has_addresses;
};

static struct ck_error *ks_symbol(struct ck_kernel *kernel, const char *name, uint64_t *ret,
				  bool *found)
{
	char key[64];
	snprintf(key, sizeof(key), "SYMBOL(%s)", name);
	if (!ck_kernel_vmcoreinfo_str(kernel, key)) {
		if (found) {
			*found = false;
			return NULL;
		}
		return ck_error_create(CK_ERR_UNSUPPORTED,
				       "VMCOREINFO has no %s: kallsyms needs Linux 6.0 or later", key);
	}
	if (found)
		*found = true;
	return ck_kernel_vmcoreinfo_u64(kernel, key, ret);
}

static struct ck_error *ks_find_tables(struct ck_kernel *kernel, struct ks_tables *t)
{
	struct ck_error *err;
	if ((err = ks_symbol(kernel, "kallsyms_names", &t->names, NULL)) ||
	    (err = ks_symbol(kernel, "kallsyms_num_syms", &t->num_syms, NULL)) ||
	    (err = ks_symbol(kernel, "kallsyms_token_table", &t->token_table, NULL)) ||
	    (err = ks_symbol(kernel, "kallsyms_token_index", &t->token_index, NULL)) ||
	    (err = ks_symbol(kernel, "kallsyms_offsets", &t->offsets, &t->has_offsets)) ||
	    (err = ks_symbol(kernel, "kallsyms_relative_base", &t->relative_base,
			     &t->has_relative_base)) ||
	    (err = ks_symbol(kernel, "kallsyms_addresses", &t->addresses, &t->has_addresses)))
		return err;
	if (!t->has_offsets && !t->has_addresses)
		return ck_error_create(CK_ERR_UNSUPPORTED,
				       "VMCOREINFO has neither SYMBOL(kallsyms_offsets) nor SYMBOL(kallsyms_addresses)");
	return NULL;
}

/* ---- names -------------------------------------------------------------- */

struct ks_build {
	uint32_t nr;
	char *strings;
	size_t strings_len, strings_cap;
	uint32_t *name_off;
	char *types;
};

static struct ck_error *ks_strings_reserve(struct ks_build *b, size_t more)
{
	size_t need;
	if (__builtin_add_overflow(b->strings_len, more, &need) || need > UINT32_MAX)
		return ck_error_create(CK_ERR_FORMAT, "kallsyms: names exceed 4 GiB");
	if (need <= b->strings_cap)
		return NULL;
	/* 1 MiB at first, then doubling */
	char *p = ck_vector_grow(b->strings, &b->strings_cap, CK_MAX(need, (size_t)1 << 20), 1);
	if (!p)
		return &ck_error_nomem;
	b->strings = p;
	return NULL;
}

static struct ck_error *ks_read_tokens(struct ck_kernel *kernel, const struct ks_tables *t,
				       char **table_ret, uint16_t index[256])
{
	uint16_t raw[256];
	struct ck_error *err = ck_kernel_read(kernel, t->token_index, raw, sizeof(raw));
	if (err)
		return ck_error_prepend(err, "kallsyms_token_index");
	uint32_t max = 0;
	for (int i = 0; i < 256; i++) {
		index[i] = le16toh(raw[i]);
		max = CK_MAX(max, index[i]);
	}
	/* The table ends with the NUL of the token that starts last.  It is
	 * followed by kallsyms_token_index in every layout, which bounds it. */
	uint64_t limit = KALLSYMS_MAX_TOKEN_TABLE;
	if (t->token_index > t->token_table && t->token_index - t->token_table < limit)
		limit = t->token_index - t->token_table;
	struct growing_read r = {
		.kernel = kernel, .vaddr = t->token_table, .limit = limit,
		.what = "kallsyms_token_table",
	};
	uint64_t end = (uint64_t)max + 1;
	for (;;) {
		err = growing_read_ensure(&r, end);
		if (err) {
			free(r.buf);
			return err;
		}
		if (r.buf[end - 1] == '\0')
			break;
		end++;
	}
	*table_ret = (char *)r.buf;
	return NULL;
}

static struct ck_error *ks_decode_names(struct ck_kernel *kernel, const struct ks_tables *t,
					struct ks_build *b)
{
	uint32_t num;
	struct ck_error *err = ck_kernel_read_u32(kernel, t->num_syms, &num);
	if (err)
		return ck_error_prepend(err, "kallsyms_num_syms");
	if (num == 0 || num > KALLSYMS_MAX_SYMS)
		return ck_error_create(CK_ERR_FORMAT,
				       "kallsyms_num_syms at 0x%" PRIx64 ": %" PRIu32 " symbols is absurd",
				       t->num_syms, num);

	char *tokens = NULL;
	uint16_t index[256];
	err = ks_read_tokens(kernel, t, &tokens, index);
	if (err)
		return err;
	uint8_t tok_len[256];
	for (int i = 0; i < 256; i++)
		tok_len[i] = (uint8_t)CK_MIN(strlen(tokens + index[i]), 255u);

	b->name_off = ck_calloc_array(num, sizeof(*b->name_off));
	b->types = ck_calloc_array(num, 1);
	if (!b->name_off || !b->types) {
		free(tokens);
		return &ck_error_nomem;
	}

	/* kallsyms_names precedes kallsyms_markers and the token table in
	 * every layout scripts/kallsyms has written: that bounds it. */
	uint64_t limit = KALLSYMS_MAX_NAMES_BYTES;
	if (t->token_table > t->names && t->token_table - t->names < limit)
		limit = t->token_table - t->names;
	struct growing_read r = {
		.kernel = kernel, .vaddr = t->names, .limit = limit, .what = "kallsyms_names",
	};
	uint64_t off = 0;
	char name[KALLSYMS_MAX_NAME + 1];
	for (uint32_t i = 0; i < num; i++) {
		uint64_t start = off;
		if ((err = growing_read_ensure(&r, off + 1)))
			goto out;
		uint32_t len = r.buf[off++];
		if (len & 0x80) {
			if ((err = growing_read_ensure(&r, off + 1)))
				goto out;
			len = (len & 0x7f) | ((uint32_t)r.buf[off++] << 7);
		}
		if (len == 0) {
			err = ck_error_create(CK_ERR_FORMAT,
					      "kallsyms_names at 0x%" PRIx64 ": symbol %" PRIu32
					      " at offset 0x%" PRIx64 " is empty",
					      t->names, i, start);
			goto out;
		}
		if ((err = growing_read_ensure(&r, off + len)))
			goto out;
		size_t n = 0;
		bool first = true;
		char type = '?';
		for (uint32_t k = 0; k < len; k++) {
			uint8_t tok = r.buf[off + k];
			const char *s = tokens + index[tok];
			for (unsigned int c = 0; c < tok_len[tok]; c++) {
				if (first) {
					type = s[c];
					first = false;
					continue;
				}
				if (n >= KALLSYMS_MAX_NAME) {
					err = ck_error_create(CK_ERR_FORMAT,
							      "kallsyms_names at 0x%" PRIx64 ": symbol %" PRIu32
							      " at offset 0x%" PRIx64 " is longer than %u bytes",
							      t->names, i, start, KALLSYMS_MAX_NAME);
					goto out;
				}
				name[n++] = s[c];
			}
		}
		off += len;
		if ((err = ks_strings_reserve(b, n + 1)))
			goto out;
		b->name_off[i] = (uint32_t)b->strings_len;
		b->types[i] = type;
		memcpy(b->strings + b->strings_len, name, n);
		b->strings[b->strings_len + n] = '\0';
		b->strings_len += n + 1;
	}
	b->nr = num;
out:
	free(r.buf);
	free(tokens);
	return err;
}

/* ---- addresses ---------------------------------------------------------- */

/* The address table as read from the dump, before any encoding is chosen. */
struct ks_raw {
	uint64_t *addresses;	/* kallsyms_addresses, or NULL */
	int32_t *offsets;	/* kallsyms_offsets, or NULL */
	uint64_t offsets_va;
	uint64_t base;		/* kallsyms_relative_base's value */
	bool has_base;
};

static bool ks_encoding_possible(const struct ks_raw *raw, enum ks_encoding e)
{
	switch (e) {
	case KS_ABSOLUTE:
		return raw->addresses;
	case KS_BASE_RELATIVE:
	case KS_ABSOLUTE_PERCPU:
		return raw->offsets && raw->has_base;
	case KS_PLACE_RELATIVE:
	case KS_ABSOLUTE32:
		return raw->offsets;
	default:
		return false;
	}
}

/* Symbol i's address under encoding e (which must be possible). */
static uint64_t ks_decode(const struct ks_raw *raw, enum ks_encoding e, uint32_t i)
{
	switch (e) {
	case KS_ABSOLUTE:
		return raw->addresses[i];
	case KS_BASE_RELATIVE:
		return raw->base + (uint32_t)raw->offsets[i];
	case KS_ABSOLUTE_PERCPU:
		if (raw->offsets[i] >= 0)
			return (uint64_t)raw->offsets[i];
		return raw->base - 1 - (uint64_t)(int64_t)raw->offsets[i];
	case KS_PLACE_RELATIVE:
		return raw->offsets_va + 4 * (uint64_t)i + (uint64_t)(int64_t)raw->offsets[i];
	default:
		return (uint32_t)raw->offsets[i];
	}
}

static void ks_raw_deinit(struct ks_raw *raw)
{
	free(raw->addresses);
	free(raw->offsets);
}

static struct ck_error *ks_read_raw(struct ck_kernel *kernel, const struct ks_tables *t,
				    uint32_t num, struct ks_raw *raw)
{
	struct ck_error *err;
	if (t->has_addresses) {
		if (!(raw->addresses = ck_calloc_array(num, sizeof(*raw->addresses))))
			return &ck_error_nomem;
		err = ck_kernel_read(kernel, t->addresses, raw->addresses, (size_t)num * 8);
		if (err)
			return ck_error_prepend(err, "kallsyms_addresses");
		for (uint32_t i = 0; i < num; i++)
			raw->addresses[i] = le64toh(raw->addresses[i]);
	}
	if (t->has_offsets) {
		if (!(raw->offsets = ck_calloc_array(num, sizeof(*raw->offsets))))
			return &ck_error_nomem;
		err = ck_kernel_read(kernel, t->offsets, raw->offsets, (size_t)num * 4);
		if (err)
			return ck_error_prepend(err, "kallsyms_offsets");
		for (uint32_t i = 0; i < num; i++)
			raw->offsets[i] = (int32_t)le32toh((uint32_t)raw->offsets[i]);
		raw->offsets_va = t->offsets;
	}
	if (t->has_relative_base) {
		err = ck_kernel_read_u64(kernel, t->relative_base, &raw->base);
		if (err)
			return ck_error_prepend(err, "kallsyms_relative_base");
		raw->has_base = true;
	}
	return NULL;
}

/* ---- choosing the encoding ------------------------------------------------ */

/*
 * VMCOREINFO's SYMBOL(x) entries are the witnesses: x's address as the
 * crashed kernel computed it.  Most are plain addresses of variables that
 * kallsyms also lists (_stext, init_uts_ns, init_top_pgt, prb, ...); a few
 * are pointer values (SYMBOL(mem_section) is VMCOREINFO_SYMBOL_ARRAY of a
 * pointer on SPARSEMEM_EXTREME) and so differ under every encoding.  The
 * kallsyms tables' own symbols are never in kallsyms (scripts/kallsyms
 * ignores them).
 */
#define KS_MAX_WITNESSES 64	/* VMCOREINFO has ~20 SYMBOL() entries */
#define KS_MAX_HITS	 256	/* kallsyms entries named like a witness */

struct ks_witness {
	const char *name;	/* in the VMCOREINFO key, not NUL-terminated */
	size_t len;
	uint64_t value;
	bool seen;		/* some kallsyms entry has this name */
};

struct ks_hit {
	uint32_t witness, sym;
};

struct ks_witnesses {
	struct ks_witness w[KS_MAX_WITNESSES];
	size_t nr;
	struct ks_hit hits[KS_MAX_HITS];
	size_t nr_hits;
};

static int witness_cmp(const void *a, const void *b)
{
	const struct ks_witness *x = a, *y = b;
	int r = strncmp(x->name, y->name, CK_MIN(x->len, y->len));
	if (r)
		return r;
	return x->len < y->len ? -1 : x->len > y->len;
}

static void ks_collect_witnesses(const struct ck_kernel *kernel, struct ks_witnesses *ws)
{
	ws->nr = 0;
	for (size_t i = 0; i < kernel->nr_vmcoreinfo && ws->nr < KS_MAX_WITNESSES; i++) {
		const char *key = kernel->vmcoreinfo[i].key;
		size_t len = strlen(key);
		if (strncmp(key, "SYMBOL(", 7) || len < 9 || key[len - 1] != ')' ||
		    !strncmp(key + 7, "kallsyms_", 9))
			continue;
		uint64_t v;
		struct ck_error *err = ck_kernel_vmcoreinfo_u64(kernel, key, &v);
		if (err) {
			ck_error_destroy(err);
			continue;
		}
		ws->w[ws->nr++] = (struct ks_witness){ .name = key + 7, .len = len - 8, .value = v };
	}
	qsort(ws->w, ws->nr, sizeof(ws->w[0]), witness_cmp);
}

/* Notes which kallsyms entries carry a witness's name. */
static void ks_find_witnesses(const struct ks_build *b, struct ks_witnesses *ws)
{
	ws->nr_hits = 0;
	for (uint32_t i = 0; i < b->nr && ws->nr; i++) {
		const char *name = b->strings + b->name_off[i];
		struct ks_witness key = { .name = name, .len = strlen(name) };
		struct ks_witness *w = bsearch(&key, ws->w, ws->nr, sizeof(ws->w[0]), witness_cmp);
		if (!w || ws->nr_hits >= KS_MAX_HITS)
			continue;
		w->seen = true;
		ws->hits[ws->nr_hits++] = (struct ks_hit){ .witness = (uint32_t)(w - ws->w), .sym = i };
	}
}

/* How many witnesses some entry of their name decodes to under e. */
static unsigned int ks_agreeing(const struct ks_raw *raw, const struct ks_witnesses *ws,
				enum ks_encoding e, bool agree[KS_MAX_WITNESSES])
{
	unsigned int n = 0;
	memset(agree, 0, KS_MAX_WITNESSES * sizeof(agree[0]));
	for (size_t h = 0; h < ws->nr_hits; h++) {
		const struct ks_hit *hit = &ws->hits[h];
		if (!agree[hit->witness] &&
		    ks_decode(raw, e, hit->sym) == ws->w[hit->witness].value) {
			agree[hit->witness] = true;
			n++;
		}
	}
	return n;
}

/* Appends " name" to buf (size bytes), or " ..." once it is full. */
static void names_add(char *buf, size_t size, const char *name, size_t len)
{
	size_t used = strlen(buf);
	if (used + len + 5 < size)
		snprintf(buf + used, size - used, "%s%.*s", used ? " " : "", (int)len, name);
	else if (used + 5 < size && strcmp(buf + used - CK_MIN(used, 3), "..."))
		snprintf(buf + used, size - used, " ...");
}

/* The error when no encoding agrees: what each gives for the first witness
 * found in kallsyms, against what VMCOREINFO says. */
static struct ck_error *ks_no_encoding(const struct ks_tables *t, const struct ks_raw *raw,
				       const struct ks_witnesses *ws)
{
	const char *table = raw->offsets ? "kallsyms_offsets" : "kallsyms_addresses";
	uint64_t va = raw->offsets ? t->offsets : t->addresses;
	if (!ws->nr_hits)
		return ck_error_create(CK_ERR_FORMAT,
				       "none of VMCOREINFO's %zu SYMBOL() entries is in kallsyms: "
				       "nothing to tell how %s at 0x%" PRIx64 " is encoded",
				       ws->nr, table, va);
	const struct ks_hit *hit = &ws->hits[0];
	const struct ks_witness *w = &ws->w[hit->witness];
	char tried[512] = "";
	for (int e = 0; e < KS_NR_ENCODINGS; e++) {
		if (!ks_encoding_possible(raw, (enum ks_encoding)e))
			continue;
		size_t used = strlen(tried);
		snprintf(tried + used, sizeof(tried) - used, "%s%s 0x%" PRIx64, used ? ", " : "",
			 ks_encoding_names[e].name, ks_decode(raw, (enum ks_encoding)e, hit->sym));
	}
	return ck_error_create(CK_ERR_FORMAT,
			       "no address encoding of %s at 0x%" PRIx64 " agrees with VMCOREINFO: "
			       "%.*s is 0x%" PRIx64 " there, but decodes to %s",
			       table, va, (int)w->len, w->name, w->value, tried);
}


/*
 * The encoding under which the most witnesses agree; at least one must, and
 * no other encoding may do as well (two readings that agree on every witness
 * cannot be told apart).
 */
static struct ck_error *ks_choose(const struct ks_tables *t, const struct ks_raw *raw,
				  struct ks_witnesses *ws, struct ks_choice *c)
{
	bool agree[KS_MAX_WITNESSES], best_agree[KS_MAX_WITNESSES] = { false };
	unsigned int best = 0, runner_up = 0;
	int best_e = -1;
	for (int e = 0; e < KS_NR_ENCODINGS; e++) {
		if (!ks_encoding_possible(raw, (enum ks_encoding)e))
			continue;
		unsigned int n = ks_agreeing(raw, ws, (enum ks_encoding)e, agree);
		if (n > best) {
			runner_up = best;
			best = n;
			best_e = e;
			memcpy(best_agree, agree, sizeof(agree));
		} else if (n > runner_up) {
			runner_up = n;
		}
	}
	if (!best)
		return ks_no_encoding(t, raw, ws);
	if (runner_up == best)
		return ck_error_create(CK_ERR_FORMAT,
				       "kallsyms_offsets at 0x%" PRIx64 ": two address encodings agree "
				       "with VMCOREINFO's %u symbols alike; cannot choose",
				       t->offsets, best);
	*c = (struct ks_choice){ .encoding = (enum ks_encoding)best_e, .agreed = best };
	for (size_t i = 0; i < ws->nr; i++) {
		if (!ws->w[i].seen)
			continue;
		c->checked++;
		if (best_agree[i])
			names_add(c->agreed_names, sizeof(c->agreed_names), ws->w[i].name, ws->w[i].len);
		else
			names_add(c->differ_names, sizeof(c->differ_names), ws->w[i].name, ws->w[i].len);
	}
	return NULL;
}

static struct ck_error *ks_addresses(struct ck_kernel *kernel, const struct ks_tables *t,
				     const struct ks_build *b, uint64_t *addrs,
				     struct ks_choice *choice)
{
	struct ks_raw raw = { 0 };
	struct ck_error *err = ks_read_raw(kernel, t, b->nr, &raw);
	if (!err) {
		struct ks_witnesses *ws = calloc(1, sizeof(*ws));
		if (!ws) {
			err = &ck_error_nomem;
		} else {
			ks_collect_witnesses(kernel, ws);
			ks_find_witnesses(b, ws);
			err = ks_choose(t, &raw, ws, choice);
			free(ws);
		}
	}
	for (uint32_t i = 0; !err && i < b->nr; i++)
		addrs[i] = ks_decode(&raw, choice->encoding, i);
	ks_raw_deinit(&raw);
	return err;
}

/* ---- sorting and lookup ------------------------------------------------- */

static int sym_addr_cmp(const void *a, const void *b)
{
	const struct ks_sym *x = a, *y = b;
	if (x->address != y->address)
		return x->address < y->address ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int sym_name_cmp(const void *a, const void *b, void *arg)
{
	const struct ck_kallsyms *ks = arg;
	const struct ks_sym *x = &ks->syms[*(const uint32_t *)a];
	const struct ks_sym *y = &ks->syms[*(const uint32_t *)b];
	int r = strcmp(ks->strings + x->name, ks->strings + y->name);
	if (r)
		return r;
	/* syms is in address order: the lower position first */
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	return i < j ? -1 : i > j;
}

void ck_kallsyms_destroy(struct ck_kallsyms *ks)
{
	if (!ks)
		return;
	free(ks->syms);
	free(ks->by_name);
	free(ks->strings);
	free(ks);
}

struct ck_error *ck_kallsyms_create(struct ck_kernel *kernel, struct ck_kallsyms **ret)
{
	struct ks_tables t = { 0 };
	struct ck_error *err = ks_find_tables(kernel, &t);
	if (err)
		return err;

	struct ks_build b = { 0 };
	uint64_t *addrs = NULL;
	struct ck_kallsyms *ks = NULL;
	struct ks_choice choice;
	err = ks_decode_names(kernel, &t, &b);
	if (err)
		goto out;
	addrs = ck_calloc_array(b.nr, sizeof(*addrs));
	if (!addrs) {
		err = &ck_error_nomem;
		goto out;
	}
	err = ks_addresses(kernel, &t, &b, addrs, &choice);
	if (err)
		goto out;

	ks = calloc(1, sizeof(*ks));
	if (!ks || !(ks->syms = ck_calloc_array(b.nr, sizeof(*ks->syms))) ||
	    !(ks->by_name = ck_calloc_array(b.nr, sizeof(*ks->by_name)))) {
		err = &ck_error_nomem;
		goto out;
	}
	ks->nr = b.nr;
	ks->choice = choice;
	for (uint32_t i = 0; i < b.nr; i++) {
		ks->syms[i] = (struct ks_sym){
			.address = addrs[i], .name = b.name_off[i], .index = i, .type = b.types[i],
		};
	}
	qsort(ks->syms, ks->nr, sizeof(*ks->syms), sym_addr_cmp);
	/* size: distance to the next distinct address */
	uint64_t next = 0;
	bool have_next = false;
	for (size_t i = ks->nr; i-- > 0;) {
		struct ks_sym *s = &ks->syms[i];
		if (i + 1 < ks->nr && ks->syms[i + 1].address != s->address) {
			next = ks->syms[i + 1].address;
			have_next = true;
		}
		s->size = have_next && next - s->address <= KALLSYMS_MAX_SIZE ? next - s->address : 0;
	}
	for (uint32_t i = 0; i < b.nr; i++)
		ks->by_name[i] = i;
	ks->strings = b.strings;
	ks->strings_len = b.strings_len;
	b.strings = NULL;
	qsort_r(ks->by_name, ks->nr, sizeof(*ks->by_name), sym_name_cmp, ks);
	*ret = ks;
	ks = NULL;
out:
	ck_kallsyms_destroy(ks);
	free(addrs);
	free(b.strings);
	free(b.name_off);
	free(b.types);
	if (err)
		return ck_error_prepend(err, "kallsyms");
	return NULL;
}

static void fill_symbol(const struct ck_kallsyms *ks, const struct ks_sym *s,
			struct ck_symbol *ret)
{
	ret->name = ks->strings + s->name;
	ret->address = s->address;
	ret->size = s->size;
	ret->type = s->type;
}

static int name_cmp(const void *key, const void *elem, void *arg)
{
	const struct ck_kallsyms *ks = arg;
	const char *name = ks->strings + ks->syms[*(const uint32_t *)elem].name;
	return strcmp(key, name);
}

static int address_cmp(const void *key, const void *elem, void *arg)
{
	uint64_t addr = *(const uint64_t *)key;
	const struct ks_sym *s = elem;
	return addr < s->address ? -1 : addr > s->address;
}

struct ck_error *ck_kallsyms_by_name(struct ck_kallsyms *ks, const char *name,
				     struct ck_symbol *ret)
{
	size_t lo = ck_bsearch_lower(name, ks->by_name, ks->nr, sizeof(*ks->by_name), name_cmp,
				     ks);
	if (lo == ks->nr || strcmp(ks->strings + ks->syms[ks->by_name[lo]].name, name))
		return ck_error_create(CK_ERR_NOT_FOUND, "no symbol named '%s'", name);
	fill_symbol(ks, &ks->syms[ks->by_name[lo]], ret);
	return NULL;
}

struct ck_error *ck_kallsyms_by_address(struct ck_kallsyms *ks, uint64_t addr,
					bool last_alias, struct ck_symbol *ret)
{
	/* the last symbol at or below addr */
	size_t i = ck_bsearch_le(&addr, ks->syms, ks->nr, sizeof(*ks->syms), address_cmp, NULL);
	if (i == ks->nr)
		return ck_error_create(CK_ERR_NOT_FOUND, "no symbol at or below 0x%" PRIx64, addr);
	/* of several symbols at one address, the kernel's first (its preferred
	 * alias: scripts/kallsyms sorts global before local, plain before __),
	 * or crash's choice: the last in System.map's order, which is by name
	 * (`nm -n` breaks ties by name) */
	size_t pick = i;
	while (i > 0 && ks->syms[i - 1].address == ks->syms[i].address) {
		i--;
		if (last_alias && strcmp(ks->strings + ks->syms[i].name,
					 ks->strings + ks->syms[pick].name) > 0)
			pick = i;
	}
	if (last_alias)
		i = pick;
	const struct ks_sym *s = &ks->syms[i];
	if (addr != s->address && addr - s->address >= s->size)
		return ck_error_create(CK_ERR_NOT_FOUND,
				       "no symbol contains 0x%" PRIx64 " (nearest below: %s at 0x%" PRIx64 ")",
				       addr, ks->strings + s->name, s->address);
	fill_symbol(ks, s, ret);
	return NULL;
}

void ck_kallsyms_walk_names(const struct ck_kallsyms *ks, const char *from,
			    int (*fn)(const struct ck_symbol *sym, void *arg), void *arg)
{
	size_t i = from && *from ? ck_bsearch_lower(from, ks->by_name, ks->nr,
						    sizeof(*ks->by_name), name_cmp, (void *)ks)
				 : 0;
	for (; i < ks->nr; i++) {
		struct ck_symbol sym;
		fill_symbol(ks, &ks->syms[ks->by_name[i]], &sym);
		if (fn(&sym, arg))
			break;
	}
}

void ck_kallsyms_info(const struct ck_kallsyms *ks, struct ck_symbols_info *ret)
{
	const struct ks_choice *c = &ks->choice;
	*ret = (struct ck_symbols_info){
		.encoding = ks_encoding_names[c->encoding].name,
		.description = ks_encoding_names[c->encoding].what,
		.nr_symbols = ks->nr,
		.checked = c->checked,
		.agreed = c->agreed,
		.agreed_names = c->agreed_names,
		.differ_names = c->differ_names,
	};
}
