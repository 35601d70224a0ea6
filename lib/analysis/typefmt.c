/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Types and values from BTF, printed as crash prints them (crash hands
 * these to gdb: `ptype` for layouts, `print` for values), for `struct`,
 * `union`, `whatis` and `p`.
 *
 * Declarations follow C's inside-out rule: the declarator grows around the
 * name ("*next", "comm[16]", "(*fn)(struct file *, int)") while the walk
 * goes from the outer type to the base type, which is printed first.
 * Members whose type is an anonymous struct or union are expanded in place,
 * as gdb's ptype does.  Values follow gdb's print: structs as "{\n  name =
 * value,\n}", scalar arrays as "{1, 2}", arrays of structs as "{{\n...}, {"
 * ...}}", char arrays as strings with octal escapes, pointers with the
 * symbol they point into.
 */
#include <bpf/btf.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"

/* Nesting printed at most: BTF from the dump is untrusted, and a cycle of
 * types must not recurse forever. */
#define TF_MAX_DEPTH 32
/* crash's gdb `print elements` limit: longer arrays end in "...". */
#define TF_MAX_ELEMENTS 256
/* Objects read for printing at most (task_struct is ~10 KiB). */
#define TF_MAX_OBJECT (16u << 20)

/* ---- declarations ---------------------------------------------------------- */

static const char *type_name(const struct btf *btf, const struct btf_type *t)
{
	const char *n = btf__name_by_offset(btf, t->name_off);
	return n ? n : "";
}

/* s = pre + s + post */
static bool wrap(struct ck_strbuf *s, const char *pre, const char *post)
{
	struct ck_strbuf n = CK_STRBUF_INIT;
	ck_strbuf_adds(&n, pre);
	ck_strbuf_add(&n, s->buf ? s->buf : "", s->len);
	ck_strbuf_adds(&n, post);
	if (n.failed) {
		ck_strbuf_deinit(&n);
		return false;
	}
	ck_strbuf_deinit(s);
	*s = n;
	return true;
}

static void add_params(struct ck_types *types, const struct btf_type *t, struct ck_strbuf *s,
		       int depth);

/* Walks from id to its base type, growing the declarator d around the
 * name; returns the base type's id with its qualifiers in *quals. */
/* `[0]` rather than `[]`: only types from DWARF tell them apart
 * (types_dwarf.c gives such arrays an index type of their own). */
static bool zero_length(const struct btf *btf, const struct btf_type *t)
{
	const struct btf_type *it = btf__type_by_id(btf, btf_array(t)->index_type);
	return it && !strcmp(btf__name_by_offset(btf, it->name_off), CK_BTF_ZERO_LENGTH_INDEX);
}

static uint32_t declarator(struct ck_types *types, uint32_t id, struct ck_strbuf *d,
			   const char **quals, int depth)
{
	const struct btf *btf = ck_types_btf(types);
	bool prev_ptr = false;
	*quals = "";
	for (int i = 0; i < TF_MAX_DEPTH; i++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (!t || id == 0)
			return 0;
		switch (btf_kind(t)) {
		case BTF_KIND_PTR:
			wrap(d, "*", "");
			prev_ptr = true;
			id = t->type;
			continue;
		case BTF_KIND_ARRAY: {
			char n[32] = "";
			if (btf_array(t)->nelems || zero_length(btf, t))
				snprintf(n, sizeof(n), "%u", btf_array(t)->nelems);
			if (prev_ptr)
				wrap(d, "(", ")");
			struct ck_strbuf b = CK_STRBUF_INIT;
			ck_strbuf_addf(&b, "[%s]", n);
			wrap(d, "", b.buf ? b.buf : "");
			ck_strbuf_deinit(&b);
			prev_ptr = false;
			id = btf_array(t)->type;
			continue;
		}
		case BTF_KIND_FUNC_PROTO: {
			if (prev_ptr)
				wrap(d, "(", ")");
			struct ck_strbuf p = CK_STRBUF_INIT;
			if (depth < TF_MAX_DEPTH)
				add_params(types, t, &p, depth + 1);
			wrap(d, "", p.buf ? p.buf : "()");
			ck_strbuf_deinit(&p);
			prev_ptr = false;
			id = t->type;
			continue;
		}
		case BTF_KIND_FUNC:
			id = t->type;
			continue;
		case BTF_KIND_CONST:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_RESTRICT: {
			const char *q = btf_is_const(t) ? "const " :
					btf_is_volatile(t) ? "volatile " : "restrict ";
			const struct btf_type *next = btf__type_by_id(btf, t->type);
			if (next && btf_is_array(next))
				;	/* C: a qualified array is an array of qualified
					 * elements, which DWARF also says: said once */
			else if (next && (btf_is_ptr(next) || btf_is_func_proto(next)))
				wrap(d, q, "");	/* qualifies the pointer itself */
			else
				*quals = q;
			id = t->type;
			continue;
		}
		case BTF_KIND_TYPE_TAG:
		case BTF_KIND_DECL_TAG:
			id = t->type;
			continue;
		default:
			return id;
		}
	}
	return 0;
}

/* gdb's spelling of DWARF's (and so BTF's) integer names. */
static const char *gdb_int_name(const char *n)
{
	static const struct { const char *btf, *gdb; } names[] = {
		{ "long unsigned int", "unsigned long" }, { "long int", "long" },
		{ "short unsigned int", "unsigned short" }, { "short int", "short" },
		{ "long long int", "long long" }, { "long long unsigned int", "unsigned long long" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(n, names[i].btf))
			return names[i].gdb;
	return n;
}

/* The base type's name: "int", "struct list_head", a typedef's name. */
static void base_name(const struct btf *btf, uint32_t id, struct ck_strbuf *s)
{
	const struct btf_type *t = id ? btf__type_by_id(btf, id) : NULL;
	if (!t) {
		ck_strbuf_adds(s, "void");
		return;
	}
	const char *n = type_name(btf, t);
	const char *kw = "";
	switch (btf_kind(t)) {
	case BTF_KIND_STRUCT:
		kw = "struct ";
		break;
	case BTF_KIND_UNION:
		kw = "union ";
		break;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		kw = "enum ";
		break;
	case BTF_KIND_FWD:
		kw = btf_kflag(t) ? "union " : "struct ";
		break;
	default:
		break;
	}
	if (btf_is_int(t))
		n = gdb_int_name(n);
	ck_strbuf_addf(s, "%s%s", kw, *n ? n : "{...}");
}

/* A declaration of name with type id into s: "struct list_head *next". */
bool ck_typefmt_decl(struct ck_types *types, uint32_t id, const char *name, struct ck_strbuf *s)
{
	struct ck_strbuf d = CK_STRBUF_INIT;
	ck_strbuf_adds(&d, name ? name : "");
	const char *quals;
	uint32_t base = declarator(types, id, &d, &quals, 0);
	ck_strbuf_adds(s, quals);
	base_name(ck_types_btf(types), base, s);
	if (d.len)
		ck_strbuf_addf(s, " %s", d.buf);
	bool ok = !d.failed;
	ck_strbuf_deinit(&d);
	return ok && !s->failed;
}

static void add_params(struct ck_types *types, const struct btf_type *t, struct ck_strbuf *s,
		       int depth)
{
	const struct btf_param *p = btf_params(t);
	uint16_t n = btf_vlen(t);
	ck_strbuf_adds(s, "(");
	if (n == 0)
		ck_strbuf_adds(s, "void");
	for (uint16_t i = 0; i < n; i++, p++) {
		if (i)
			ck_strbuf_adds(s, ", ");
		if (p->type == 0 && i == n - 1) {
			ck_strbuf_adds(s, "...");
			continue;
		}
		ck_typefmt_decl(types, p->type, "", s);
	}
	ck_strbuf_adds(s, ")");
}

/* ---- layouts (ptype) --------------------------------------------------------- */

struct layout {
	struct ck_types *types;
	const struct btf *btf;
	FILE *out;
	bool offsets;
	int width;		/* of the "[offset]" column */
	int blank;		/* the column's width where a line has no offset */
	bool absolute;		/* addresses instead of offsets (struct -o ADDR) */
	uint64_t base;
	uint32_t top;		/* the type laid out */
};

/* show_off: no offsets, offsets, or (inside a named member of anonymous
 * type) crash's: the offset of the first member of that name found from
 * the top type, if any (crash asks gdb for TYPE.name). */
enum { OFF_NONE, OFF_SHOW, OFF_BY_NAME };

static void layout_prefix(const struct layout *l, int level, bool have_off, uint64_t off)
{
	if (l->offsets) {
		if (have_off) {
			char b[40];
			if (l->absolute)
				snprintf(b, sizeof(b), "[%" PRIx64 "]", l->base + off);
			else
				snprintf(b, sizeof(b), "[%" PRIu64 "]", off);
			fprintf(l->out, "%*s ", l->width, b);
		} else {
			/* crash: as wide as for offsets, even beside addresses */
			fprintf(l->out, "%*s ", l->blank, "");
		}
		fprintf(l->out, "%*s", 4 * (level - 1), "");
	} else {
		fprintf(l->out, "%*s", 4 * level, "");
	}
}

/* The anonymous struct or union a member's type names (qualifiers and
 * arrays looked through), or 0. */
static uint32_t anon_composite(const struct btf *btf, uint32_t id)
{
	for (int i = 0; i < TF_MAX_DEPTH; i++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (!t)
			return 0;
		if (btf_is_mod(t) || btf_is_array(t)) {
			id = btf_is_array(t) ? btf_array(t)->type : t->type;
			continue;
		}
		return btf_is_composite(t) && !*type_name(btf, t) ? id : 0;
	}
	return 0;
}

static void layout_members(const struct layout *l, uint32_t id, int level, uint64_t base_bits,
			   int show_off);

/* Whether a line gets an offset, and which. */
static bool line_offset(const struct layout *l, const char *name, int show_off, uint64_t *bytes)
{
	if (show_off != OFF_BY_NAME || !l->offsets)
		return show_off == OFF_SHOW;
	struct ck_member m;
	struct ck_error *err = name && *name ? ck_type_member(l->types, l->top, name, &m)
					     : ck_error_create(CK_ERR_NOT_FOUND, "unnamed");
	if (err) {
		ck_error_destroy(err);
		return false;
	}
	*bytes = m.offset;
	return true;
}

static void layout_member(const struct layout *l, const struct btf_type *t, int i, int level,
			  uint64_t base_bits, int show_off)
{
	const struct btf_member *m = btf_members(t) + i;
	const char *name = btf__name_by_offset(l->btf, m->name_off);
	uint64_t bits = base_bits + btf_member_bit_offset(t, i);
	uint32_t bsize = btf_member_bitfield_size(t, i);
	uint32_t anon = anon_composite(l->btf, m->type);
	struct ck_strbuf s = CK_STRBUF_INIT;
	if (anon && level < TF_MAX_DEPTH) {
		const struct btf_type *at = btf__type_by_id(l->btf, anon);
		layout_prefix(l, level, false, 0);
		fprintf(l->out, "%s {\n", btf_is_union(at) ? "union" : "struct");
		/* members of a named member of anonymous type: gdb gives no
		 * offsets (crash prints the member's on its closing line) */
		bool named = name && *name;
		layout_members(l, anon, level + 1, bits,
			       show_off == OFF_SHOW && !named ? OFF_SHOW :
			       show_off ? OFF_BY_NAME : OFF_NONE);
		struct ck_strbuf d = CK_STRBUF_INIT;
		const char *quals;
		ck_strbuf_adds(&d, named ? name : "");
		declarator(l->types, m->type, &d, &quals, 0);
		uint64_t where = bits / 8;
		bool off = named && line_offset(l, name, show_off, &where);
		layout_prefix(l, level, off, where);
		fprintf(l->out, "}%s%s;\n", d.len ? " " : "", d.len ? d.buf : "");
		ck_strbuf_deinit(&d);
		return;
	}
	ck_typefmt_decl(l->types, m->type, name, &s);
	uint64_t at = bits / 8;
	bool off = line_offset(l, name, show_off, &at);
	layout_prefix(l, level, off, at);
	if (bsize)
		fprintf(l->out, "%s : %u;\n", s.buf ? s.buf : "", bsize);
	else
		fprintf(l->out, "%s;\n", s.buf ? s.buf : "");
	ck_strbuf_deinit(&s);
}

static void layout_members(const struct layout *l, uint32_t id, int level, uint64_t base_bits,
			   int show_off)
{
	const struct btf_type *t = btf__type_by_id(l->btf, id);
	if (!t || !btf_is_composite(t))
		return;
	for (int i = 0; i < btf_vlen(t); i++)
		layout_member(l, t, i, level, base_bits, show_off);
}

static void layout_enum(const struct layout *l, const struct btf_type *t)
{
	fprintf(l->out, "enum %s {\n", type_name(l->btf, t));
	for (int i = 0; i < btf_vlen(t); i++) {
		const char *n;
		long long v;
		if (btf_is_enum(t)) {
			const struct btf_enum *e = btf_enum(t) + i;
			n = btf__name_by_offset(l->btf, e->name_off);
			v = btf_kflag(t) ? (long long)(int32_t)e->val : (long long)(uint32_t)e->val;
		} else {
			const struct btf_enum64 *e = btf_enum64(t) + i;
			n = btf__name_by_offset(l->btf, e->name_off);
			v = (long long)btf_enum64_value(e);
		}
		fprintf(l->out, "  %s = %lld\n", n ? n : "", v);
	}
	fprintf(l->out, "};\n");
}

/* Layout of a struct, union, enum or typedef as crash prints it for
 * `struct NAME`, `union NAME` and `whatis TYPE`, "SIZE: N" last. */
static void layout(struct layout *l, uint32_t id);

void ck_typefmt_layout(struct ck_types *types, uint32_t id, bool offsets, FILE *out)
{
	struct layout l = { .types = types, .btf = ck_types_btf(types), .out = out,
			    .offsets = offsets };
	char digits[32];
	l.width = snprintf(digits, sizeof(digits), "%" PRIu64, ck_type_size(types, id)) + 4;
	l.blank = l.width;
	layout(&l, id);
}

void ck_typefmt_layout_at(struct ck_types *types, uint32_t id, uint64_t addr, FILE *out)
{
	struct layout l = { .types = types, .btf = ck_types_btf(types), .out = out,
			    .offsets = true, .absolute = true, .base = addr };
	char digits[40];
	l.width = snprintf(digits, sizeof(digits), "[%" PRIx64 "]", addr) + 2;
	l.blank = snprintf(digits, sizeof(digits), "%" PRIu64, ck_type_size(types, id)) + 4;
	layout(&l, id);
}

static void layout(struct layout *lp, uint32_t id)
{
	struct ck_types *types = lp->types;
	const struct btf *btf = lp->btf;
	FILE *out = lp->out;
	const struct btf_type *t = btf__type_by_id(btf, id);
	uint64_t size = ck_type_size(types, id);
	struct layout l = *lp;
	if (!t)
		return;
	if (btf_is_enum(t) || btf_is_enum64(t)) {
		layout_enum(&l, t);
		return;
	}
	const char *prefix = "", *tdname = "";
	if (btf_is_typedef(t)) {
		uint32_t anon = anon_composite(btf, t->type);
		if (!anon) {
			/* ptype looks through the typedefs: "typedef int pid_t;" */
			uint32_t target = t->type;
			for (int i = 0; i < TF_MAX_DEPTH; i++) {
				const struct btf_type *tt = btf__type_by_id(btf, target);
				if (!tt || !btf_is_typedef(tt))
					break;
				target = tt->type;
			}
			struct ck_strbuf s = CK_STRBUF_INIT;
			ck_typefmt_decl(types, target, type_name(btf, t), &s);
			fprintf(out, "typedef %s;\nSIZE: %" PRIu64 "\n", s.buf ? s.buf : "", size);
			ck_strbuf_deinit(&s);
			return;
		}
		prefix = "typedef ";
		tdname = type_name(btf, t);
		id = anon;
		t = btf__type_by_id(btf, id);
	}
	if (!btf_is_composite(t)) {
		struct ck_strbuf s = CK_STRBUF_INIT;
		ck_typefmt_decl(types, id, "", &s);
		fprintf(out, "type = %s\nSIZE: %" PRIu64 "\n", s.buf ? s.buf : "", size);
		ck_strbuf_deinit(&s);
		return;
	}
	const char *tag = type_name(btf, t);
	fprintf(out, "%s%s %s%s{\n", prefix, btf_is_union(t) ? "union" : "struct", tag,
		*tag ? " " : "");
	l.top = id;
	layout_members(&l, id, 1, 0, OFF_SHOW);
	if (*prefix)
		fprintf(out, "} %s;\n", tdname);
	else
		fprintf(out, "}\n");
	fprintf(out, "SIZE: %" PRIu64 "\n", size);
}

/* ---- values (print) ------------------------------------------------------------ */

struct vctx {
	struct ck_analysis *a;
	struct ck_types *types;
	const struct btf *btf;
	FILE *out;
	int radix;		/* 16, 10, or 0: gdb's natural format */
	bool top;		/* the outermost value: pointers show their type */
	uint64_t addr;		/* where buf was read from */
};

/* Bytes [bit_off, bit_off + bits) of buf as an unsigned integer (bits <=
 * 64), little-endian; 0 past the end of buf. */
static uint64_t get_bits(const uint8_t *buf, size_t len, uint64_t bit_off, unsigned bits)
{
	uint64_t v = 0;
	uint64_t first = bit_off / 8, last = (bit_off + bits + 7) / 8;
	for (uint64_t i = first, sh = 0; i < last && sh < 128; i++, sh += 8) {
		uint64_t byte = i < len ? buf[i] : 0;
		if (sh < 64)
			v |= byte << sh;
	}
	v >>= bit_off % 8;
	if (bit_off % 8 && bits + bit_off % 8 > 64 && last - 1 < len)
		v |= (uint64_t)buf[last - 1] << (64 - bit_off % 8);
	if (bits < 64)
		v &= (UINT64_C(1) << bits) - 1;
	return v;
}

static bool is_char_type(const struct btf *btf, const struct btf_type *t)
{
	if (!t || !btf_is_int(t) || t->size != 1 || btf_int_encoding(t) & BTF_INT_BOOL)
		return false;
	return strstr(type_name(btf, t), "char") != NULL;
}

/* One character the way gdb escapes it inside quotes q. */
static void put_char(FILE *out, unsigned char c, char q)
{
	static const char named[] = "\a\b\t\n\v\f\r";
	static const char letters[] = "abtnvfr";
	const char *p = c ? strchr(named, c) : NULL;
	if (p)
		fprintf(out, "\\%c", letters[p - named]);
	else if (c == 033)
		fputs("\\033", out);
	else if (c == '\\' || c == (unsigned char)q)
		fprintf(out, "\\%c", c);
	else if (c >= 0x20 && c < 0x7f)
		fputc(c, out);
	else
		fprintf(out, "\\%03o", c);
}

/* "sym" or "sym+off" for an address inside the kernel image, into buf;
 * false (and "") when it is not in it. */
bool ck_typefmt_symbol_name(struct ck_analysis *a, uint64_t addr, char *buf, size_t len)
{
	struct ck_symbol text, end, s;
	struct ck_error *err = ck_kernel_symbol_by_name(a->kernel, "_text", &text);
	if (!err)
		err = ck_kernel_symbol_by_name(a->kernel, "_end", &end);
	if (!err && (addr < text.address || addr >= end.address))
		err = ck_error_create(CK_ERR_NOT_FOUND, "outside the kernel");
	if (!err)
		err = ck_kernel_symbol_by_address(a->kernel, addr, &s);
	if (len)
		buf[0] = 0;
	if (err) {
		ck_error_destroy(err);
		return false;
	}
	if (addr == s.address)
		snprintf(buf, len, "%s", s.name);
	else
		snprintf(buf, len, "%s+%" PRIu64, s.name, addr - s.address);
	return true;
}

/* " <sym+off>" for an address inside the kernel image. */
void ck_typefmt_symbol(struct ck_analysis *a, uint64_t addr, FILE *out)
{
	char name[512];
	if (ck_typefmt_symbol_name(a, addr, name, sizeof(name)))
		fprintf(out, " <%s>", name);
}

static void print_int(struct vctx *v, const struct btf_type *t, uint64_t x, unsigned bits)
{
	bool sign = btf_is_int(t) ? btf_int_encoding(t) & BTF_INT_SIGNED : btf_kflag(t);
	int64_t sx = (int64_t)x;
	if (sign && bits < 64 && (x >> (bits - 1)) & 1)
		sx = (int64_t)(x | ~((UINT64_C(1) << bits) - 1));
	if (v->radix == 16) {
		fprintf(v->out, "0x%" PRIx64, x);
		return;
	}
	if (btf_is_int(t) && btf_int_encoding(t) & BTF_INT_BOOL && v->radix == 0) {
		if (x <= 1)
			fputs(x ? "true" : "false", v->out);
		else
			fprintf(v->out, "%" PRIu64, x);
		return;
	}
	if (sign)
		fprintf(v->out, "%" PRId64, sx);
	else
		fprintf(v->out, "%" PRIu64, x);
	if (is_char_type(v->btf, t) && v->radix == 0) {
		fputs(" '", v->out);
		put_char(v->out, (unsigned char)x, '\'');
		fputc('\'', v->out);
	}
}

static void print_enum(struct vctx *v, const struct btf_type *t, uint64_t x)
{
	unsigned bits = t->size * 8;
	{	/* crash's -x and -d keep enumerators' names */
		for (int i = 0; i < btf_vlen(t); i++) {
			uint64_t ev;
			const char *n;
			if (btf_is_enum(t)) {
				ev = btf_enum(t)[i].val;
				n = btf__name_by_offset(v->btf, btf_enum(t)[i].name_off);
			} else {
				ev = btf_enum64_value(btf_enum64(t) + i);
				n = btf__name_by_offset(v->btf, btf_enum64(t)[i].name_off);
			}
			if (bits < 64)
				ev &= (UINT64_C(1) << bits) - 1;
			if (ev == x && n) {
				fputs(n, v->out);
				return;
			}
		}
	}
	print_int(v, t, x, bits);
}

/* The string a char pointer points to, as gdb prints it after the
 * address: at most TF_MAX_ELEMENTS characters. */
static void print_pointed_string(struct vctx *v, uint64_t addr)
{
	char buf[TF_MAX_ELEMENTS];
	size_t n = 0;
	while (n < sizeof(buf)) {
		size_t chunk = 4096 - ((addr + n) & 4095);
		if (chunk > sizeof(buf) - n)
			chunk = sizeof(buf) - n;
		struct ck_error *err = ck_kernel_read(v->a->kernel, addr + n, buf + n, chunk);
		if (err) {
			ck_error_destroy(err);
			if (n == 0) {
				fprintf(v->out, " <error: Cannot access memory at address 0x%" PRIx64 ">",
					addr);
				return;
			}
			break;
		}
		if (memchr(buf + n, 0, chunk))
			break;
		n += chunk;
	}
	size_t len = strnlen(buf, n < sizeof(buf) ? sizeof(buf) : n);
	fputs(" \"", v->out);
	for (size_t i = 0; i < len && i < sizeof(buf); i++)
		put_char(v->out, (unsigned char)buf[i], '"');
	fputc('"', v->out);
	if (len >= sizeof(buf))
		fputs("...", v->out);
}

static void print_pointer(struct vctx *v, uint32_t id, uint64_t x)
{
	if (v->top) {
		struct ck_strbuf s = CK_STRBUF_INIT;
		ck_typefmt_decl(v->types, id, "", &s);
		fprintf(v->out, "(%s) ", s.buf ? s.buf : "");
		ck_strbuf_deinit(&s);
	}
	fprintf(v->out, "0x%" PRIx64, x);
	if (!x)
		return;
	ck_typefmt_symbol(v->a, x, v->out);
	const struct btf_type *target =
		btf__type_by_id(v->btf, ck_type_resolve(v->types, ck_type_target(v->types, id)));
	if (is_char_type(v->btf, target))
		print_pointed_string(v, x);
}

static void print_value(struct vctx *v, uint32_t id, const uint8_t *buf, size_t len,
			uint64_t bit_off, uint32_t bit_size, int indent, int depth);

static void print_composite(struct vctx *v, const struct btf_type *t, const uint8_t *buf,
			    size_t len, uint64_t bit_off, int indent, int depth)
{
	if (btf_vlen(t) == 0) {
		fputs("{<No data fields>}", v->out);
		return;
	}
	fputs("{\n", v->out);
	for (int i = 0; i < btf_vlen(t); i++) {
		const struct btf_member *m = btf_members(t) + i;
		const char *name = btf__name_by_offset(v->btf, m->name_off);
		fprintf(v->out, "%*s", indent + 2, "");
		if (name && *name)
			fprintf(v->out, "%s = ", name);
		print_value(v, m->type, buf, len, bit_off + btf_member_bit_offset(t, i),
			    btf_member_bitfield_size(t, i), indent + 2, depth + 1);
		fputs(i + 1 < btf_vlen(t) ? ",\n" : "\n", v->out);
	}
	fprintf(v->out, "%*s}", indent, "");
}

static void print_char_array(struct vctx *v, const uint8_t *buf, size_t len, uint64_t off,
			     uint32_t n)
{
	uint32_t shown = n;
	if (shown && off + shown <= len && buf[off + shown - 1] == 0)
		shown--;	/* gdb leaves out one terminating NUL */
	bool more = shown > TF_MAX_ELEMENTS;
	if (more)
		shown = TF_MAX_ELEMENTS;
	fputc('"', v->out);
	for (uint32_t i = 0; i < shown; i++)
		put_char(v->out, off + i < len ? buf[off + i] : 0, '"');
	fputc('"', v->out);
	if (more)
		fputs("...", v->out);
}

static void print_array(struct vctx *v, const struct btf_type *t, const uint8_t *buf,
			size_t len, uint64_t bit_off, int indent, int depth)
{
	const struct btf_array *arr = btf_array(t);
	uint32_t elem = ck_type_resolve(v->types, arr->type);
	const struct btf_type *et = btf__type_by_id(v->btf, elem);
	uint64_t esize = ck_type_size(v->types, elem);
	if (arr->nelems == 0) {
		/* a flexible array: gdb shows where it starts */
		uint64_t at = v->addr + bit_off / 8;
		fprintf(v->out, "0x%" PRIx64, at);
		ck_typefmt_symbol(v->a, at, v->out);
		if (is_char_type(v->btf, et))
			print_pointed_string(v, at);
		return;
	}
	if (is_char_type(v->btf, et) && bit_off % 8 == 0) {
		print_char_array(v, buf, len, bit_off / 8, arr->nelems);
		return;
	}
	bool composite = et && btf_is_composite(et);
	fputc('{', v->out);
	for (uint32_t i = 0; i < arr->nelems; i++) {
		if (i == TF_MAX_ELEMENTS) {
			fputs("...", v->out);
			break;
		}
		if (i)
			fputs(", ", v->out);
		print_value(v, arr->type, buf, len, bit_off + (uint64_t)i * esize * 8, 0,
			    composite ? indent + 2 : indent, depth + 1);
	}
	fputc('}', v->out);
}

static void print_value(struct vctx *v, uint32_t id, const uint8_t *buf, size_t len,
			uint64_t bit_off, uint32_t bit_size, int indent, int depth)
{
	bool top = v->top;
	v->top = false;
	uint32_t rid = ck_type_resolve(v->types, id);
	const struct btf_type *t = btf__type_by_id(v->btf, rid);
	if (!t || depth > TF_MAX_DEPTH) {
		fputs("<unknown type>", v->out);
		return;
	}
	unsigned bits = bit_size ? bit_size : (unsigned)(t->size > 8 ? 64 : t->size * 8);
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
		if (t->size > 8 && !bit_size) {	/* __int128 */
			fprintf(v->out, "0x%016" PRIx64 "%016" PRIx64,
				get_bits(buf, len, bit_off + 64, 64), get_bits(buf, len, bit_off, 64));
			return;
		}
		print_int(v, t, get_bits(buf, len, bit_off, bits), bits);
		return;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		print_enum(v, t, get_bits(buf, len, bit_off, bits));
		return;
	case BTF_KIND_PTR:
		v->top = top;
		print_pointer(v, id, get_bits(buf, len, bit_off, 64));
		v->top = false;
		return;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		print_composite(v, t, buf, len, bit_off, indent, depth);
		return;
	case BTF_KIND_ARRAY:
		print_array(v, t, buf, len, bit_off, indent, depth);
		return;
	case BTF_KIND_FLOAT:
		fprintf(v->out, "<float 0x%" PRIx64 ">", get_bits(buf, len, bit_off, bits));
		return;
	default:
		fputs("<unprintable>", v->out);
		return;
	}
}

/* Reads the object of type id at addr and prints it as gdb's print does,
 * without a newline; indent is the column of the enclosing line.  radix:
 * 16 (-x), 10 (-d) or 0.  top: a pointer shows its type first, as `p`
 * does at the outermost level. */
struct ck_error *ck_typefmt_value(struct ck_analysis *a, uint32_t id, uint64_t addr,
				  uint32_t bit_off, uint32_t bit_size, int indent, int radix,
				  bool top, FILE *out)
{
	struct ck_types *types = a->types;
	uint64_t size = ck_type_size(types, id);
	if (bit_size)
		size = (bit_off + bit_size + 7) / 8;
	/* an array of unknown size (DWARF's `extern char linux_banner[]`):
	 * its address, as gdb prints it; nothing to read */
	const struct btf_type *t = btf__type_by_id(ck_types_btf(types), ck_type_resolve(types, id));
	bool unsized = size == 0 && t && btf_is_array(t);
	if ((size == 0 && !unsized) || size > TF_MAX_OBJECT)
		return ck_error_create(CK_ERR_UNSUPPORTED, "cannot print an object of %" PRIu64
				       " bytes", size);
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return &ck_error_nomem;
	struct ck_error *err = unsized ? NULL : ck_kernel_read(a->kernel, addr, buf, size);
	if (!err) {
		struct vctx v = { .a = a, .types = types, .btf = ck_types_btf(types), .out = out,
				  .radix = radix, .top = top, .addr = addr };
		print_value(&v, id, buf, size, bit_off, bit_size, indent, 0);
	}
	free(buf);
	return err;
}
