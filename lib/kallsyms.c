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
 *   SYMBOL(kallsyms_offsets)       s32 per symbol (CONFIG_KALLSYMS_BASE_RELATIVE)
 *   SYMBOL(kallsyms_relative_base) u64 base for the offsets
 *   SYMBOL(kallsyms_addresses)     u64 per symbol (absolute, the other config)
 *
 * Encodings that changed over time, all handled here:
 *  - "kallsyms: support "big" kernel symbols" (73bbb94466fd, Linux 6.1): a
 *    token count with the top bit set continues in a second byte, (b0 & 0x7f)
 *    | b1 << 7.  Nothing in VMCOREINFO says whether a kernel has it, so the
 *    two-byte form is always accepted: before 6.1 a count >= 128 could only
 *    come from a 128-character name without a single compressed token
 *    (KSYM_NAME_LEN was 128), which scripts/kallsyms never produces.
 *  - CONFIG_KALLSYMS_ABSOLUTE_PERCPU (x86_64 SMP, until upstream dropped it
 *    in "kallsyms: Remove KALLSYMS_ABSOLUTE_PERCPU"): non-negative offsets
 *    are absolute (the zero-based per-cpu symbols, type 'A'), negative ones
 *    mean base - 1 - offset.  VMCOREINFO does not say which encoding is in
 *    use, so both readings are tried against SYMBOL(_stext), which
 *    VMCOREINFO always carries.
 *  - Newer kernels (kernel/vmcore_info.c) no longer write
 *    SYMBOL(kallsyms_relative_base): the base is then recovered from
 *    SYMBOL(_stext) and _stext's own offset.
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

#include "internal.h"

#define KALLSYMS_MAX_SYMS	(1u << 22)	/* real kernels: ~100k-300k */
#define KALLSYMS_MAX_NAME	1024		/* KSYM_NAME_LEN is 512 since 6.1 */
#define KALLSYMS_MAX_NAMES_BYTES (64u << 20)
#define KALLSYMS_MAX_TOKEN_TABLE (64u << 10)
#define KALLSYMS_READ_CHUNK	(64u << 10)
/* No kernel image is larger than 1 GiB (KERNEL_IMAGE_SIZE): a longer gap to
 * the next symbol is the hole between per-cpu symbols and the text, not a
 * symbol's extent. */
#define KALLSYMS_MAX_SIZE	(1ull << 30)

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
};

/* ---- reading a table of unknown length ------------------------------ */

struct growing_read {
	struct ck_kernel *kernel;
	uint64_t vaddr;
	uint64_t limit;		/* bytes that may be read at most */
	uint8_t *buf;
	size_t have;
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
	uint8_t *p = realloc(r->buf, (size_t)want);
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
	size_t cap = b->strings_cap ? b->strings_cap : 1u << 20;
	while (cap < need)
		cap *= 2;
	char *p = realloc(b->strings, cap);
	if (!p)
		return &ck_error_nomem;
	b->strings = p;
	b->strings_cap = cap;
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

static uint64_t percpu_address(uint64_t base, int32_t off)
{
	if (off >= 0)
		return (uint64_t)off;
	return base - 1 - (uint64_t)(int64_t)off;
}

static struct ck_error *ks_addresses(struct ck_kernel *kernel, const struct ks_tables *t,
				     const struct ks_build *b, uint64_t *addrs)
{
	struct ck_error *err;
	uint32_t num = b->nr;
	if (!t->has_offsets) {
		err = ck_kernel_read(kernel, t->addresses, addrs, (size_t)num * 8);
		if (err)
			return ck_error_prepend(err, "kallsyms_addresses");
		for (uint32_t i = 0; i < num; i++)
			addrs[i] = le64toh(addrs[i]);
		return NULL;
	}

	int32_t *offs = ck_calloc_array(num, sizeof(*offs));
	if (!offs)
		return &ck_error_nomem;
	err = ck_kernel_read(kernel, t->offsets, offs, (size_t)num * 4);
	if (err) {
		free(offs);
		return ck_error_prepend(err, "kallsyms_offsets");
	}
	for (uint32_t i = 0; i < num; i++)
		offs[i] = (int32_t)le32toh((uint32_t)offs[i]);

	/* _stext, as VMCOREINFO gives it, tells which encoding is in use. */
	uint64_t stext = 0;
	bool have_stext = false;
	if (ck_kernel_vmcoreinfo_str(kernel, "SYMBOL(_stext)") &&
	    !ck_kernel_vmcoreinfo_u64(kernel, "SYMBOL(_stext)", &stext))
		have_stext = true;
	int64_t stext_i = -1;
	for (uint32_t i = 0; have_stext && i < num; i++) {
		if (!strcmp(b->strings + b->name_off[i], "_stext")) {
			stext_i = i;
			break;
		}
	}

	uint64_t base = 0;
	bool percpu = false;
	if (t->has_relative_base) {
		err = ck_kernel_read_u64(kernel, t->relative_base, &base);
		if (err) {
			free(offs);
			return ck_error_prepend(err, "kallsyms_relative_base");
		}
		if (stext_i >= 0) {
			int32_t o = offs[stext_i];
			if (base + (uint32_t)o == stext) {
				percpu = false;
			} else if (percpu_address(base, o) == stext) {
				percpu = true;
			} else {
				free(offs);
				return ck_error_create(CK_ERR_FORMAT,
						       "kallsyms_offsets at 0x%" PRIx64 ": _stext decodes to neither "
						       "0x%" PRIx64 " nor 0x%" PRIx64 " but VMCOREINFO says 0x%" PRIx64,
						       t->offsets, base + (uint32_t)o, percpu_address(base, o),
						       stext);
			}
		} else {
			/* No anchor: relative offsets are never negative
			 * unless absolute per-cpu encoding is in use. */
			for (uint32_t i = 0; i < num && !percpu; i++)
				percpu = offs[i] < 0;
		}
	} else {
		if (stext_i < 0) {
			free(offs);
			return ck_error_create(CK_ERR_UNSUPPORTED,
					       "kallsyms: no SYMBOL(kallsyms_relative_base) and no _stext "
					       "to recover the base of kallsyms_offsets");
		}
		base = stext - (uint32_t)offs[stext_i];
	}
	for (uint32_t i = 0; i < num; i++)
		addrs[i] = percpu ? percpu_address(base, offs[i]) : base + (uint32_t)offs[i];
	free(offs);
	return NULL;
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
	err = ks_decode_names(kernel, &t, &b);
	if (err)
		goto out;
	addrs = ck_calloc_array(b.nr, sizeof(*addrs));
	if (!addrs) {
		err = &ck_error_nomem;
		goto out;
	}
	err = ks_addresses(kernel, &t, &b, addrs);
	if (err)
		goto out;

	ks = calloc(1, sizeof(*ks));
	if (!ks || !(ks->syms = ck_calloc_array(b.nr, sizeof(*ks->syms))) ||
	    !(ks->by_name = ck_calloc_array(b.nr, sizeof(*ks->by_name)))) {
		err = &ck_error_nomem;
		goto out;
	}
	ks->nr = b.nr;
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

struct ck_error *ck_kallsyms_by_name(struct ck_kallsyms *ks, const char *name,
				     struct ck_symbol *ret)
{
	size_t lo = 0, hi = ks->nr;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(ks->strings + ks->syms[ks->by_name[mid]].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == ks->nr || strcmp(ks->strings + ks->syms[ks->by_name[lo]].name, name))
		return ck_error_create(CK_ERR_NOT_FOUND, "no symbol named '%s'", name);
	fill_symbol(ks, &ks->syms[ks->by_name[lo]], ret);
	return NULL;
}

struct ck_error *ck_kallsyms_by_address(struct ck_kallsyms *ks, uint64_t addr,
					struct ck_symbol *ret)
{
	/* the last symbol at or below addr */
	size_t lo = 0, hi = ks->nr;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ks->syms[mid].address <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return ck_error_create(CK_ERR_NOT_FOUND, "no symbol at or below 0x%" PRIx64, addr);
	size_t i = lo - 1;
	/* of several symbols at one address, the kernel's first (its preferred
	 * alias: scripts/kallsyms sorts global before local, plain before __) */
	while (i > 0 && ks->syms[i - 1].address == ks->syms[i].address)
		i--;
	const struct ks_sym *s = &ks->syms[i];
	if (addr != s->address && addr - s->address >= s->size)
		return ck_error_create(CK_ERR_NOT_FOUND,
				       "no symbol contains 0x%" PRIx64 " (nearest below: %s at 0x%" PRIx64 ")",
				       addr, ks->strings + s->name, s->address);
	fill_symbol(ks, s, ret);
	return NULL;
}
