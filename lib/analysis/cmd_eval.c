/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * eval: an expression in the four radixes crash shows it in, and the
 * expression and address parsing that struct, rd and dis share.
 *
 * Grammar, C's precedence: | above ^ above & above << >> above + - above
 * * / % above unary - ~ !; operands are numbers (0x hex, else decimal;
 * a number with hex letters is hex, as crash reads it) and symbols, which
 * stand for their addresses.  64-bit unsigned arithmetic.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"

#define EVAL_MAX_DEPTH 64

struct parser {
	struct ck_analysis *a;
	const char *s;
	int depth;
	struct ck_error *err;
};

static void skip_blanks(struct parser *p)
{
	while (isspace((unsigned char)*p->s))
		p->s++;
}

static uint64_t fail(struct parser *p, struct ck_error *err)
{
	if (!p->err)
		p->err = err;
	else
		ck_error_destroy(err);
	return 0;
}

static uint64_t parse_or(struct parser *p);

static uint64_t parse_operand(struct parser *p)
{
	const char *start = p->s;
	size_t n = 0;
	while (isalnum((unsigned char)start[n]) || start[n] == '_' || start[n] == '.')
		n++;
	if (!n)
		return fail(p, ck_error_create(CK_ERR_INVALID, "expression expected at '%s'", start));
	char word[256];
	if (n >= sizeof(word))
		return fail(p, ck_error_create(CK_ERR_INVALID, "operand too long: %.20s...", start));
	memcpy(word, start, n);
	word[n] = 0;
	p->s += n;
	char *end;
	if (isdigit((unsigned char)word[0])) {
		bool hex = !strncasecmp(word, "0x", 2) || strpbrk(word, "abcdefABCDEF");
		uint64_t v = strtoull(word, &end, hex ? 16 : 10);
		if (!*end)
			return v;
		return fail(p, ck_error_create(CK_ERR_INVALID, "invalid number: %s", word));
	}
	uint64_t addr;
	struct ck_error *err = ck_symbol_lookup(p->a, word, &addr);	/* vmlinux, modules */
	if (!err)
		return addr;
	ck_error_destroy(err);
	uint64_t v = strtoull(word, &end, 16);
	if (!*end)
		return v;
	return fail(p, ck_error_create(CK_ERR_NOT_FOUND, "symbol not found: %s", word));
}

static uint64_t parse_unary(struct parser *p)
{
	skip_blanks(p);
	if (++p->depth > EVAL_MAX_DEPTH)
		return fail(p, ck_error_create(CK_ERR_INVALID, "expression nested too deeply"));
	uint64_t v;
	char c = *p->s;
	if (c == '-' || c == '~' || c == '!' || c == '+') {
		p->s++;
		v = parse_unary(p);
		v = c == '-' ? -v : c == '~' ? ~v : c == '!' ? !v : v;
	} else if (c == '(') {
		p->s++;
		v = parse_or(p);
		skip_blanks(p);
		if (*p->s != ')')
			v = fail(p, ck_error_create(CK_ERR_INVALID, "missing ')'"));
		else
			p->s++;
	} else {
		v = parse_operand(p);
	}
	p->depth--;
	skip_blanks(p);
	return v;
}

static uint64_t parse_mul(struct parser *p)
{
	uint64_t v = parse_unary(p);
	while (!p->err && (*p->s == '*' || *p->s == '/' || *p->s == '%')) {
		char op = *p->s++;
		uint64_t r = parse_unary(p);
		if (op == '*')
			v *= r;
		else if (r == 0)
			return fail(p, ck_error_create(CK_ERR_INVALID, "divide by zero"));
		else
			v = op == '/' ? v / r : v % r;
	}
	return v;
}

static uint64_t parse_add(struct parser *p)
{
	uint64_t v = parse_mul(p);
	while (!p->err && (*p->s == '+' || *p->s == '-')) {
		char op = *p->s++;
		uint64_t r = parse_mul(p);
		v = op == '+' ? v + r : v - r;
	}
	return v;
}

static uint64_t parse_shift(struct parser *p)
{
	uint64_t v = parse_add(p);
	while (!p->err && (!strncmp(p->s, "<<", 2) || !strncmp(p->s, ">>", 2))) {
		bool left = *p->s == '<';
		p->s += 2;
		uint64_t r = parse_add(p);
		v = r >= 64 ? 0 : left ? v << r : v >> r;
	}
	return v;
}

static uint64_t parse_and(struct parser *p)
{
	uint64_t v = parse_shift(p);
	while (!p->err && *p->s == '&' && p->s[1] != '&') {
		p->s++;
		v &= parse_shift(p);
	}
	return v;
}

static uint64_t parse_xor(struct parser *p)
{
	uint64_t v = parse_and(p);
	while (!p->err && *p->s == '^') {
		p->s++;
		v ^= parse_and(p);
	}
	return v;
}

static uint64_t parse_or(struct parser *p)
{
	uint64_t v = parse_xor(p);
	while (!p->err && *p->s == '|' && p->s[1] != '|') {
		p->s++;
		v |= parse_xor(p);
	}
	return v;
}

struct ck_error *ck_eval_expr(struct ck_analysis *a, const char *expr, uint64_t *ret)
{
	struct parser p = { .a = a, .s = expr };
	uint64_t v = parse_or(&p);
	skip_blanks(&p);
	if (!p.err && *p.s)
		p.err = ck_error_create(CK_ERR_INVALID, "invalid expression: %s", expr);
	if (p.err)
		return p.err;
	*ret = v;
	return NULL;
}

struct ck_error *ck_typefmt_address(struct ck_analysis *a, const char *arg, uint64_t *ret)
{
	bool prefixed = !strncasecmp(arg, "0x", 2);
	const char *h = prefixed ? arg + 2 : arg;
	bool all_hex = *h && strspn(h, "0123456789abcdefABCDEF") == strlen(h);
	/* crash reads addresses in hex; a short hex word may be a symbol */
	if (all_hex && !prefixed && strlen(h) < 8) {
		struct ck_error *err = ck_symbol_lookup(a, arg, ret);
		if (!err)
			return NULL;
		ck_error_destroy(err);
	}
	if (all_hex) {
		*ret = strtoull(h, NULL, 16);
		return NULL;
	}
	return ck_eval_expr(a, arg, ret);
}

static void print_eval(struct ck_analysis *a, uint64_t v, bool bits)
{
	static const struct { uint64_t unit; const char *name; } units[] = {
		{ UINT64_C(1) << 30, "GB" },
		{ UINT64_C(1) << 20, "MB" }, { UINT64_C(1) << 10, "KB" },
	};
	fprintf(a->out, "hexadecimal: %" PRIx64 "  ", v);
	for (size_t i = 0; v && i < sizeof(units) / sizeof(units[0]); i++) {
		if (v % units[i].unit == 0) {
			fprintf(a->out, "(%" PRIu64 "%s)", v / units[i].unit, units[i].name);
			break;
		}
	}
	fprintf(a->out, "\n    decimal: %" PRIu64 "  ", v);
	if ((int64_t)v < 0)
		fprintf(a->out, "(%" PRId64 ")", (int64_t)v);
	fprintf(a->out, "\n      octal: %" PRIo64 "\n     binary: ", v);
	for (int b = 63; b >= 0; b--)
		fputc((v >> b) & 1 ? '1' : '0', a->out);
	fputc('\n', a->out);
	if (bits) {
		fputs("   bits set: ", a->out);
		for (int b = 63; b >= 0; b--)
			if ((v >> b) & 1)
				fprintf(a->out, "%d ", b);
		fputc('\n', a->out);
	}
}

int ck_acmd_eval(struct ck_analysis *a, int argc, char **argv)
{
	bool bits = false;
	struct ck_strbuf expr = CK_STRBUF_INIT;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-b"))
			bits = true;
		else if (!strcmp(argv[i], "-l"))
			continue;	/* 64-bit already */
		else
			ck_strbuf_addf(&expr, "%s%s", expr.len ? " " : "", argv[i]);
	}
	if (!expr.len || expr.failed) {
		ck_strbuf_deinit(&expr);
		fprintf(a->err, "eval: an expression is needed\n");
		return 1;
	}
	uint64_t v;
	struct ck_error *err = ck_eval_expr(a, expr.buf, &v);
	ck_strbuf_deinit(&expr);
	if (err)
		return ck_analysis_fail(a, "eval", err);
	print_eval(a, v, bits);
	return 0;
}
