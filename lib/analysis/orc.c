/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ORC unwind tables read out of the dump (docs/analysis.md, "Unwinding").
 *
 * vmlinux: __start_orc_unwind_ip .. __stop_orc_unwind_ip is an array of
 * place-relative int32 (entry i describes ip &table[i] + table[i]),
 * __start_orc_unwind the parallel array of struct orc_entry, and
 * orc_lookup[] (lookup_num_blocks entries) the index the kernel built at
 * boot: block (ip - _stext) >> 8 holds entries orc_lookup[b] ..
 * orc_lookup[b + 1].  Init text is searched over the whole table, modules
 * over their own (struct module's arch.orc_unwind_ip, orc_unwind,
 * num_orcs).  Entries are read lazily, a few per lookup.
 *
 * struct orc_entry's layout comes from BTF: sp_offset, bp_offset and the
 * bitfields sp_reg, bp_reg, type and signal (6.3+) or end (before 6.4).
 * Two things changed without a change of layout that BTF would show:
 *  - type values: up to 6.3 CALL 0, REGS 1, REGS_PARTIAL 2 (end of stack
 *    is sp_reg UNDEFINED with the `end` bit); since 6.4 UNDEFINED 0,
 *    END_OF_STACK 1, CALL 2, REGS 3, REGS_PARTIAL 4.  Told apart by the
 *    `end` member: the kernels that have it use the old values.
 *  - register numbers (Linux 7.1, "objtool/x86: Reorder ORC register
 *    numbering"): before, UNDEFINED 0, PREV_SP 1, DX 2, DI 3, BP 4, SP 5,
 *    R10 6, R13 7, BP_INDIRECT 8, SP_INDIRECT 9; after, PREV_SP 8 and SP 3
 *    (BP stays 4; DX 2, R10 6, R13 7, SP_INDIRECT 9 and BP_INDIRECT 10 as
 *    the same functions' entries read in 6.12 and 7.3 show; DI is not used
 *    by either and is left unknown).  Told apart by the kernel's own
 *    frame-pointer entry orc_fp_entry (kallsyms), whose bp_reg is PREV_SP:
 *    1 in the old numbering, 8 in the new; without that symbol, by the
 *    most common sp_reg of a sample of entries (SP: 5 old, 3 new).
 */
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"

#define LOOKUP_BLOCK_ORDER 8
/* Bounds on what the dump says (a distribution kernel has ~500 000). */
#define ORC_MAX_ENTRIES (1u << 24)
#define ORC_MAX_MODULES 4096

struct orc_table {
	uint64_t ip;		/* the int32 ip table */
	uint64_t orc;		/* struct orc_entry[] */
	uint32_t nr;
	uint64_t start, end;	/* the text it describes */
};

struct ck_orc {
	struct ck_kernel *kernel;
	struct orc_table vmlinux;
	uint64_t lookup, stext, etext, sinittext, einittext;
	uint32_t num_blocks;
	struct orc_table *mods;
	size_t nr_mods;
	/* struct orc_entry */
	uint64_t entry_size;
	struct ck_member sp_offset, bp_offset, sp_reg, bp_reg, type, signal;
	bool has_signal, old_types, new_regs;
	const char *regs_how;
};

static uint64_t bits_of(const uint8_t *e, const struct ck_member *m)
{
	uint64_t v = 0;
	uint64_t n = m->bit_size ? (m->bit_offset + m->bit_size + 7) / 8 : m->size;
	for (uint64_t i = 0; i < n && i < 8; i++)
		v |= (uint64_t)e[m->offset + i] << (8 * i);
	if (m->bit_size) {
		v >>= m->bit_offset;
		v &= (UINT64_C(1) << m->bit_size) - 1;
	}
	return v;
}

static enum ck_orc_reg map_reg(const struct ck_orc *o, unsigned r)
{
	static const enum ck_orc_reg old_regs[16] = {
		CK_ORC_REG_UNDEFINED, CK_ORC_REG_PREV_SP, CK_ORC_REG_DX, CK_ORC_REG_DI,
		CK_ORC_REG_BP, CK_ORC_REG_SP, CK_ORC_REG_R10, CK_ORC_REG_R13,
		CK_ORC_REG_BP_INDIRECT, CK_ORC_REG_SP_INDIRECT,
		CK_ORC_REG_UNKNOWN, CK_ORC_REG_UNKNOWN, CK_ORC_REG_UNKNOWN,
		CK_ORC_REG_UNKNOWN, CK_ORC_REG_UNKNOWN, CK_ORC_REG_UNKNOWN,
	};
	static const enum ck_orc_reg new_regs[16] = {
		CK_ORC_REG_UNDEFINED, CK_ORC_REG_UNKNOWN, CK_ORC_REG_DX, CK_ORC_REG_SP,
		CK_ORC_REG_BP, CK_ORC_REG_UNKNOWN, CK_ORC_REG_R10, CK_ORC_REG_R13,
		CK_ORC_REG_PREV_SP, CK_ORC_REG_SP_INDIRECT, CK_ORC_REG_BP_INDIRECT,
		CK_ORC_REG_UNKNOWN, CK_ORC_REG_UNKNOWN, CK_ORC_REG_UNKNOWN,
		CK_ORC_REG_UNKNOWN, CK_ORC_REG_UNKNOWN,
	};
	return (o->new_regs ? new_regs : old_regs)[r & 15];
}

static void decode(const struct ck_orc *o, const uint8_t *e, struct ck_orc_entry *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->sp_offset = (int16_t)bits_of(e, &o->sp_offset);
	ret->bp_offset = (int16_t)bits_of(e, &o->bp_offset);
	ret->sp_reg = map_reg(o, (unsigned)bits_of(e, &o->sp_reg));
	ret->bp_reg = map_reg(o, (unsigned)bits_of(e, &o->bp_reg));
	unsigned type = (unsigned)bits_of(e, &o->type);
	if (o->old_types) {
		static const enum ck_orc_type t[] = { CK_ORC_TYPE_CALL, CK_ORC_TYPE_REGS,
						      CK_ORC_TYPE_REGS_PARTIAL };
		ret->type = type < 3 ? t[type] : CK_ORC_TYPE_UNDEFINED;
		bool end = o->has_signal ? false : bits_of(e, &o->signal) != 0;
		if (ret->sp_reg == CK_ORC_REG_UNDEFINED)
			ret->type = end ? CK_ORC_TYPE_END_OF_STACK : CK_ORC_TYPE_UNDEFINED;
	} else {
		static const enum ck_orc_type t[] = {
			CK_ORC_TYPE_UNDEFINED, CK_ORC_TYPE_END_OF_STACK, CK_ORC_TYPE_CALL,
			CK_ORC_TYPE_REGS, CK_ORC_TYPE_REGS_PARTIAL,
		};
		ret->type = type < 5 ? t[type] : CK_ORC_TYPE_UNDEFINED;
		ret->signal = o->has_signal && bits_of(e, &o->signal);
	}
	/* before 6.3 the kernel takes REGS and REGS_PARTIAL as signal frames */
	if (!o->has_signal && (ret->type == CK_ORC_TYPE_REGS || ret->type == CK_ORC_TYPE_REGS_PARTIAL))
		ret->signal = true;
}

static struct ck_error *sym_addr(struct ck_kernel *k, const char *name, uint64_t *ret)
{
	struct ck_symbol s;
	struct ck_error *err = ck_kernel_symbol_by_name(k, name, &s);
	if (err)
		return ck_error_prepend(err, "ORC");
	*ret = s.address;
	return NULL;
}

static struct ck_error *layout(struct ck_orc *o, struct ck_types *t)
{
	uint32_t id;
	struct ck_error *err = ck_type_find(t, "struct orc_entry", &id);
	if (err)
		return err;
	o->entry_size = ck_type_size(t, id);
	if (o->entry_size < 4 || o->entry_size > 16)
		return ck_error_create(CK_ERR_FORMAT, "struct orc_entry of %llu bytes",
				       (unsigned long long)o->entry_size);
	static const char *const bp_off[] = { "bp_offset", "fp_offset", NULL };
	static const char *const bp_reg[] = { "bp_reg", "fp_reg", NULL };
	if ((err = ck_type_member(t, id, "sp_offset", &o->sp_offset)) ||
	    (err = ck_member_of_any(t, "struct orc_entry", bp_off, &o->bp_offset, NULL)) ||
	    (err = ck_type_member(t, id, "sp_reg", &o->sp_reg)) ||
	    (err = ck_member_of_any(t, "struct orc_entry", bp_reg, &o->bp_reg, NULL)) ||
	    (err = ck_type_member(t, id, "type", &o->type)))
		return err;
	struct ck_member end;
	err = ck_type_member(t, id, "end", &end);
	o->old_types = !err;
	ck_error_destroy(err);
	err = ck_type_member(t, id, "signal", &o->signal);
	o->has_signal = !err;
	ck_error_destroy(err);
	if (!o->has_signal) {
		if (!o->old_types)
			return ck_error_create(CK_ERR_UNSUPPORTED,
					       "struct orc_entry has neither 'signal' nor 'end'");
		o->signal = end;	/* decode() reads it as `end` */
	}
	const struct ck_member *all[] = { &o->sp_offset, &o->bp_offset, &o->sp_reg, &o->bp_reg,
					  &o->type, &o->signal };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		uint64_t n = all[i]->bit_size ? (all[i]->bit_offset + all[i]->bit_size + 7) / 8
					      : all[i]->size;
		if (n > 8 || all[i]->offset + n > o->entry_size)
			return ck_error_create(CK_ERR_FORMAT, "struct orc_entry: a member "
					       "lies outside its %llu bytes",
					       (unsigned long long)o->entry_size);
	}
	return NULL;
}

static struct ck_error *read_ip(struct ck_orc *o, const struct orc_table *t, uint32_t i,
				uint64_t *ret)
{
	uint32_t v;
	uint64_t addr = t->ip + 4ull * i;
	struct ck_error *err = ck_kernel_read_u32(o->kernel, addr, &v);
	if (!err)
		*ret = addr + (uint64_t)(int64_t)(int32_t)v;
	return err;
}

/* The last entry of t[lo, hi) whose ip is at or below ip. */
static struct ck_error *bsearch_table(struct ck_orc *o, const struct orc_table *t, uint32_t lo,
				      uint32_t hi, uint64_t ip, bool *found, uint32_t *ret)
{
	*found = false;
	if (hi > t->nr)
		hi = t->nr;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		uint64_t v;
		struct ck_error *err = read_ip(o, t, mid, &v);
		if (err)
			return err;
		if (v <= ip) {
			*ret = mid;
			*found = true;
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return NULL;
}

static struct ck_error *entry_at(struct ck_orc *o, const struct orc_table *t, uint32_t i,
				 struct ck_orc_entry *ret)
{
	uint8_t buf[16];
	struct ck_error *err = ck_kernel_read(o->kernel, t->orc + o->entry_size * i, buf,
					      o->entry_size);
	if (!err)
		decode(o, buf, ret);
	return err;
}

/* Which numbering: orc_fp_entry's bp_reg (PREV_SP), else the usual sp_reg. */
static void detect_regs(struct ck_orc *o)
{
	struct ck_symbol s;
	struct ck_error *err = ck_kernel_symbol_by_name(o->kernel, "orc_fp_entry", &s);
	uint8_t buf[16];
	if (!err)
		err = ck_kernel_read(o->kernel, s.address, buf, o->entry_size);
	if (!err) {
		uint64_t r = bits_of(buf, &o->bp_reg);
		if (r == 1 || r == 8) {
			o->new_regs = r == 8;
			o->regs_how = o->new_regs ? "orc_fp_entry.bp_reg 8: 7.1+ numbering"
						  : "orc_fp_entry.bp_reg 1: numbering before 7.1";
			return;
		}
	}
	ck_error_destroy(err);
	unsigned count[16] = { 0 };
	uint32_t step = o->vmlinux.nr / 512 + 1;
	for (uint32_t i = 0; i < o->vmlinux.nr; i += step) {
		err = ck_kernel_read(o->kernel, o->vmlinux.orc + o->entry_size * i, buf,
				     o->entry_size);
		if (err) {
			ck_error_destroy(err);
			continue;
		}
		count[bits_of(buf, &o->sp_reg) & 15]++;
	}
	o->new_regs = count[3] > count[5];
	o->regs_how = o->new_regs ? "most sp_reg 3: 7.1+ numbering"
				  : "most sp_reg 5: numbering before 7.1";
}

static void add_modules(struct ck_orc *o, struct ck_analysis *a, struct ck_types *t)
{
	const struct ck_module *mods;
	size_t nr;
	struct ck_member ip, orc, num;
	struct ck_error *err = ck_modules_get(a, &mods, &nr);
	if (!err)
		err = ck_member_of(t, "struct module", "arch.orc_unwind_ip", &ip);
	if (!err)
		err = ck_member_of(t, "struct module", "arch.orc_unwind", &orc);
	if (!err)
		err = ck_member_of(t, "struct module", "arch.num_orcs", &num);
	if (err) {
		ck_error_destroy(err);
		return;
	}
	if (nr > ORC_MAX_MODULES)
		nr = ORC_MAX_MODULES;
	o->mods = calloc(nr ? nr : 1, sizeof(*o->mods));
	if (!o->mods)
		return;
	for (size_t i = 0; i < nr; i++) {
		struct orc_table m = { .start = mods[i].base, .end = mods[i].base + mods[i].size };
		uint64_t n = 0;
		if (mods[i].text_end > mods[i].text_start) {
			m.start = mods[i].text_start;
			m.end = mods[i].text_end;
		}
		err = ck_kernel_read_u64(a->kernel, mods[i].addr + ip.offset, &m.ip);
		if (!err)
			err = ck_kernel_read_u64(a->kernel, mods[i].addr + orc.offset, &m.orc);
		if (!err)
			err = ck_read_member(a->kernel, t, mods[i].addr, &num, &n);
		if (err || !n || n > ORC_MAX_ENTRIES) {
			ck_error_destroy(err);
			continue;
		}
		m.nr = (uint32_t)n;
		o->mods[o->nr_mods++] = m;
	}
}

struct ck_error *ck_orc_create(struct ck_analysis *a, struct ck_orc **ret)
{
	struct ck_types *t;
	struct ck_error *err = ck_analysis_types(a, &t);
	if (err)
		return err;
	struct ck_orc *o = calloc(1, sizeof(*o));
	if (!o)
		return &ck_error_nomem;
	o->kernel = a->kernel;
	uint64_t stop_ip = 0, nb_addr = 0;
	uint32_t nb = 0;
	if ((err = layout(o, t)) ||
	    (err = sym_addr(a->kernel, "__start_orc_unwind_ip", &o->vmlinux.ip)) ||
	    (err = sym_addr(a->kernel, "__stop_orc_unwind_ip", &stop_ip)) ||
	    (err = sym_addr(a->kernel, "__start_orc_unwind", &o->vmlinux.orc)) ||
	    (err = sym_addr(a->kernel, "orc_lookup", &o->lookup)) ||
	    (err = sym_addr(a->kernel, "lookup_num_blocks", &nb_addr)) ||
	    (err = sym_addr(a->kernel, "_stext", &o->stext)) ||
	    (err = sym_addr(a->kernel, "_etext", &o->etext)) ||
	    (err = ck_kernel_read_u32(a->kernel, nb_addr, &nb)))
		goto fail;
	if (stop_ip <= o->vmlinux.ip || (stop_ip - o->vmlinux.ip) / 4 > ORC_MAX_ENTRIES) {
		err = ck_error_create(CK_ERR_FORMAT, "ORC ip table 0x%llx-0x%llx is not plausible",
				      (unsigned long long)o->vmlinux.ip,
				      (unsigned long long)stop_ip);
		goto fail;
	}
	o->vmlinux.nr = (uint32_t)((stop_ip - o->vmlinux.ip) / 4);
	o->vmlinux.start = o->stext;
	o->vmlinux.end = o->etext;
	o->num_blocks = nb;
	err = sym_addr(a->kernel, "_sinittext", &o->sinittext);
	if (!err)
		err = sym_addr(a->kernel, "_einittext", &o->einittext);
	if (err) {
		ck_error_destroy(err);
		o->sinittext = o->einittext = 0;
	}
	detect_regs(o);
	add_modules(o, a, t);
	*ret = o;
	return NULL;
fail:
	free(o);
	return err;
}

void ck_orc_destroy(struct ck_orc *o)
{
	if (!o)
		return;
	free(o->mods);
	free(o);
}

bool ck_orc_is_text(const struct ck_orc *o, uint64_t ip)
{
	if ((ip >= o->stext && ip < o->etext) ||
	    (o->sinittext && ip >= o->sinittext && ip < o->einittext))
		return true;
	for (size_t i = 0; i < o->nr_mods; i++)
		if (ip >= o->mods[i].start && ip < o->mods[i].end)
			return true;
	return false;
}

const char *ck_orc_regs_numbering(const struct ck_orc *o)
{
	return o->regs_how;
}

struct ck_error *ck_orc_find(struct ck_orc *o, uint64_t ip, bool *found,
			     struct ck_orc_entry *ret)
{
	uint32_t idx;
	struct ck_error *err = NULL;
	*found = false;
	if (o->sinittext && ip >= o->sinittext && ip < o->einittext) {
		err = bsearch_table(o, &o->vmlinux, 0, o->vmlinux.nr, ip, found, &idx);
		if (!err && *found)
			err = entry_at(o, &o->vmlinux, idx, ret);
		return err;
	}
	if (ip >= o->stext && ip < o->etext) {
		uint64_t block = (ip - o->stext) >> LOOKUP_BLOCK_ORDER;
		uint32_t lo, hi;
		if (o->num_blocks < 2 || block >= o->num_blocks - 1)
			return NULL;
		if ((err = ck_kernel_read_u32(o->kernel, o->lookup + 4 * block, &lo)) ||
		    (err = ck_kernel_read_u32(o->kernel, o->lookup + 4 * block + 4, &hi)))
			return err;
		if (lo >= o->vmlinux.nr || hi >= o->vmlinux.nr || hi < lo)
			return NULL;
		err = bsearch_table(o, &o->vmlinux, lo, hi + 1, ip, found, &idx);
		if (!err && *found)
			err = entry_at(o, &o->vmlinux, idx, ret);
		return err;
	}
	for (size_t i = 0; i < o->nr_mods; i++) {
		const struct orc_table *m = &o->mods[i];
		if (ip < m->start || ip >= m->end)
			continue;
		err = bsearch_table(o, m, 0, m->nr, ip, found, &idx);
		if (!err && *found)
			err = entry_at(o, m, idx, ret);
		return err;
	}
	return NULL;
}
