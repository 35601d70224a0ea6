/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Typed hash maps: open addressing with linear probing in a power-of-two
 * table kept at most 3/4 full; a deletion shifts the entries that follow
 * back into the hole, so there are no tombstones and lookups stay short.
 *
 *	static size_t sym_hash(const uint64_t *k) { return ck_hash_u64(*k); }
 *	static bool sym_eq(const uint64_t *a, const uint64_t *b) { return *a == *b; }
 *	CK_DEFINE_HASH_MAP(sym_map, uint64_t, const char *, sym_hash, sym_eq)
 *
 * defines struct sym_map_entry { key; value; }, struct sym_map and, each
 * named sym_map_<verb>:
 *
 *	init(m), deinit(m)	an empty map / free its table, leave it empty
 *	size(m)			the number of entries
 *	search(m, &key)		the entry of key, or NULL
 *	insert(m, &entry, &ret)	1: added; 0: key present, entry not copied;
 *				-1: ENOMEM.  ret (may be NULL) gets the entry
 *				in the table.  Entry pointers stay valid until
 *				the next insert or delete.
 *	delete(m, &key)		true when key was there
 *	next(m, &pos)		iteration: pos starts at 0; the next entry, or
 *				NULL at the end.  Not across inserts or deletes.
 *
 * hash_fn(const key_type *) returns a size_t; eq_fn(const key_type *, const
 * key_type *) a bool.  ck_hash_u64() and ck_hash_string() mix keys.
 */
#ifndef CRASHKIT_BASE_HASH_MAP_H
#define CRASHKIT_BASE_HASH_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Spreads the bits of v over the whole word (the finaliser of MurmurHash3):
 * the table takes the low bits, and pfns or addresses differ in the high. */
static inline size_t ck_hash_u64(uint64_t v)
{
	v ^= v >> 33;
	v *= UINT64_C(0xff51afd7ed558ccd);
	v ^= v >> 33;
	v *= UINT64_C(0xc4ceb9fe1a85ec53);
	v ^= v >> 33;
	return (size_t)v;
}

/* FNV-1a over the bytes of s, mixed like ck_hash_u64(). */
static inline size_t ck_hash_string(const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * UINT64_C(0x100000001b3);
	return ck_hash_u64(h);
}

/* The table size for n entries at most 3/4 full, or 0 on overflow. */
static inline size_t ck_hash_table_size(size_t n)
{
	size_t cap = 8;
	while (cap - cap / 4 < n) {
		if (cap > SIZE_MAX / 2)
			return 0;
		cap *= 2;
	}
	return cap;
}

#define CK_DEFINE_HASH_MAP(name, key_type, value_type, hash_fn, eq_fn)         \
/* typedefs: "const key_type *" of a pointer type would const the pointee */   \
typedef key_type name##_key_type;                                              \
                                                                               \
struct name##_entry {                                                          \
	key_type key;                                                          \
	value_type value;                                                      \
};                                                                             \
                                                                               \
struct name##_slot {                                                           \
	struct name##_entry entry;                                             \
	bool used;                                                             \
};                                                                             \
                                                                               \
struct name {                                                                  \
	struct name##_slot *slots;                                             \
	size_t mask;	/* table size - 1; the table is NULL while empty */    \
	size_t size;                                                           \
};                                                                             \
                                                                               \
static inline void name##_init(struct name *m)                                 \
{                                                                              \
	m->slots = NULL;                                                       \
	m->mask = 0;                                                           \
	m->size = 0;                                                           \
}                                                                              \
                                                                               \
static inline void name##_deinit(struct name *m)                               \
{                                                                              \
	free(m->slots);                                                        \
	name##_init(m);                                                        \
}                                                                              \
                                                                               \
static inline size_t name##_size(const struct name *m)                         \
{                                                                              \
	return m->size;                                                        \
}                                                                              \
                                                                               \
/* The slot of key, or the empty slot where it would go. */                    \
static inline struct name##_slot *name##_probe(const struct name *m,           \
					       const name##_key_type *key)     \
{                                                                              \
	size_t i = hash_fn(key) & m->mask;                                     \
	while (m->slots[i].used && !eq_fn(&m->slots[i].entry.key, key))        \
		i = (i + 1) & m->mask;                                         \
	return &m->slots[i];                                                   \
}                                                                              \
                                                                               \
static inline struct name##_entry *name##_search(const struct name *m,         \
						 const name##_key_type *key)   \
{                                                                              \
	if (!m->size)                                                          \
		return NULL;                                                   \
	struct name##_slot *s = name##_probe(m, key);                          \
	return s->used ? &s->entry : NULL;                                     \
}                                                                              \
                                                                               \
static inline bool name##_rehash(struct name *m, size_t n)                     \
{                                                                              \
	size_t cap = ck_hash_table_size(n);                                    \
	struct name##_slot *old = m->slots;                                    \
	size_t old_cap = old ? m->mask + 1 : 0;                                \
	struct name##_slot *slots = cap ? calloc(cap, sizeof(*slots)) : NULL;  \
	if (!slots)                                                            \
		return false;                                                  \
	m->slots = slots;                                                      \
	m->mask = cap - 1;                                                     \
	for (size_t i = 0; i < old_cap; i++)                                   \
		if (old[i].used)                                               \
			*name##_probe(m, &old[i].entry.key) = old[i];          \
	free(old);                                                             \
	return true;                                                           \
}                                                                              \
                                                                               \
static inline int name##_insert(struct name *m,                                \
				const struct name##_entry *entry,              \
				struct name##_entry **ret)                     \
{                                                                              \
	struct name##_slot *s = NULL;                                          \
	if (m->size)                                                           \
		s = name##_probe(m, &entry->key);                              \
	if (s && s->used) {                                                    \
		if (ret)                                                       \
			*ret = &s->entry;                                      \
		return 0;                                                      \
	}                                                                      \
	if (!m->slots || m->size + 1 > m->mask + 1 - (m->mask + 1) / 4) {      \
		if (!name##_rehash(m, m->size + 1))                            \
			return -1;                                             \
		s = NULL;                                                      \
	}                                                                      \
	if (!s)                                                                \
		s = name##_probe(m, &entry->key);                              \
	s->entry = *entry;                                                     \
	s->used = true;                                                        \
	m->size++;                                                             \
	if (ret)                                                               \
		*ret = &s->entry;                                              \
	return 1;                                                              \
}                                                                              \
                                                                               \
/* Linear probing's deletion: each entry after the hole that may live in it    \
 * (its home slot is not between the hole and itself) moves back. */           \
static inline bool name##_delete(struct name *m, const name##_key_type *key)   \
{                                                                              \
	if (!m->size)                                                          \
		return false;                                                  \
	struct name##_slot *s = name##_probe(m, key);                          \
	if (!s->used)                                                          \
		return false;                                                  \
	size_t hole = (size_t)(s - m->slots);                                  \
	for (size_t j = (hole + 1) & m->mask; m->slots[j].used;                \
	     j = (j + 1) & m->mask) {                                          \
		size_t home = hash_fn(&m->slots[j].entry.key) & m->mask;       \
		if (((j - home) & m->mask) >= ((j - hole) & m->mask)) {        \
			m->slots[hole] = m->slots[j];                          \
			hole = j;                                              \
		}                                                              \
	}                                                                      \
	m->slots[hole].used = false;                                           \
	m->size--;                                                             \
	return true;                                                           \
}                                                                              \
                                                                               \
static inline struct name##_entry *name##_next(const struct name *m,           \
					       size_t *pos)                    \
{                                                                              \
	for (; m->slots && *pos <= m->mask; (*pos)++)                          \
		if (m->slots[*pos].used)                                       \
			return &m->slots[(*pos)++].entry;                      \
	return NULL;                                                           \
}

#endif /* CRASHKIT_BASE_HASH_MAP_H */
