/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading typed values out of the dump through the type layer. */
#include <bpf/btf.h>

#include "analysis/analysis.h"

static bool member_signed(struct ck_types *types, const struct ck_member *m)
{
	const struct btf *btf = ck_types_btf(types);
	const struct btf_type *t = btf__type_by_id(btf, ck_type_resolve(types, m->type));
	if (!t)
		return false;
	if (btf_is_int(t))
		return btf_int_encoding(t) & BTF_INT_SIGNED;
	if (btf_is_enum(t))
		return btf_kflag(t);
	return false;
}

struct ck_error *ck_read_member(struct ck_kernel *kernel, struct ck_types *types,
				uint64_t addr, const struct ck_member *m, uint64_t *ret)
{
	uint64_t size = m->size;
	if (m->bit_size)
		size = (m->bit_offset + m->bit_size + 7) / 8;
	if (size == 0 || size > 8)
		return ck_error_create(CK_ERR_INVALID, "member of %llu bytes is not an integer",
				       (unsigned long long)m->size);
	uint8_t buf[8] = { 0 };
	struct ck_error *err = ck_kernel_read(kernel, addr + m->offset, buf, size);
	if (err)
		return err;
	uint64_t v = 0;
	for (uint64_t i = 0; i < size; i++)
		v |= (uint64_t)buf[i] << (8 * i);
	unsigned bits = m->bit_size ? m->bit_size : (unsigned)size * 8;
	if (m->bit_size)
		v >>= m->bit_offset;
	if (bits < 64) {
		v &= (UINT64_C(1) << bits) - 1;
		if (member_signed(types, m) && (v >> (bits - 1)) & 1)
			v |= ~((UINT64_C(1) << bits) - 1);
	}
	*ret = v;
	return NULL;
}

struct ck_error *ck_read_field(struct ck_kernel *kernel, struct ck_types *types,
			       uint64_t addr, const char *type, const char *path,
			       uint64_t *ret)
{
	struct ck_member m;
	struct ck_error *err = ck_member_of(types, type, path, &m);
	if (!err)
		err = ck_read_member(kernel, types, addr, &m, ret);
	return err;
}
