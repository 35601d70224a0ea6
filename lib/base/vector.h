/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Typed vectors: a growing array of one element type, defined once per type
 * instead of a (ptr, nr, cap) triple and a realloc loop at every use.
 *
 *	CK_DEFINE_VECTOR(range_vector, struct ck_mem_range)
 *
 * defines struct range_vector { struct ck_mem_range *data; size_t size,
 * capacity; } and these functions, each named range_vector_<verb>:
 *
 *	init(v), deinit(v)	 an empty vector / free its array, leave it empty
 *	size(v), at(v, i)	 the number of elements / a pointer to element i
 *	reserve(v, n)		 room for n elements in all; false on ENOMEM
 *	append_entry(v)		 a new uninitialised last element, NULL on ENOMEM
 *	append(v, &elem)	 copies elem to the end; false on ENOMEM
 *	pop(v)			 drops the last element, returns a pointer to it
 *				 (valid until the next append); NULL when empty
 *	shrink_to_fit(v)	 gives back unused capacity (never fails)
 *	steal(v, &size)		 takes the array (free() it), leaves v empty
 *
 * A failed call leaves the vector as it was.  Sizes are overflow-checked.
 */
#ifndef CRASHKIT_BASE_VECTOR_H
#define CRASHKIT_BASE_VECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

/*
 * The array data, with room for *capacity elements of elem_size bytes,
 * reallocated to hold at least need: the capacity at least doubles, so
 * appending n elements costs O(n).  Returns the new array and updates
 * *capacity, or returns NULL on overflow or ENOMEM and leaves both alone.
 */
void *ck_vector_grow(void *data, size_t *capacity, size_t need, size_t elem_size);
/* The array reallocated to exactly size elements (freed when size is 0);
 * data itself when the allocator will not shrink it. */
void *ck_vector_shrink(void *data, size_t *capacity, size_t size, size_t elem_size);

#define CK_DEFINE_VECTOR(name, type)                                           \
typedef type name##_type;                                                      \
                                                                               \
struct name {                                                                  \
	type *data;                                                            \
	size_t size;                                                           \
	size_t capacity;                                                       \
};                                                                             \
                                                                               \
static inline void name##_init(struct name *v)                                 \
{                                                                              \
	v->data = NULL;                                                        \
	v->size = 0;                                                           \
	v->capacity = 0;                                                       \
}                                                                              \
                                                                               \
static inline void name##_deinit(struct name *v)                               \
{                                                                              \
	free(v->data);                                                         \
	name##_init(v);                                                        \
}                                                                              \
                                                                               \
static inline size_t name##_size(const struct name *v)                         \
{                                                                              \
	return v->size;                                                        \
}                                                                              \
                                                                               \
static inline type *name##_at(const struct name *v, size_t i)                  \
{                                                                              \
	return &v->data[i];                                                    \
}                                                                              \
                                                                               \
static inline bool name##_reserve(struct name *v, size_t n)                    \
{                                                                              \
	if (n <= v->capacity)                                                  \
		return true;                                                   \
	type *data = ck_vector_grow(v->data, &v->capacity, n, sizeof(type));   \
	if (!data)                                                             \
		return false;                                                  \
	v->data = data;                                                        \
	return true;                                                           \
}                                                                              \
                                                                               \
static inline type *name##_append_entry(struct name *v)                        \
{                                                                              \
	if (v->size == v->capacity && !name##_reserve(v, v->size + 1))         \
		return NULL;                                                   \
	return &v->data[v->size++];                                            \
}                                                                              \
                                                                               \
static inline bool name##_append(struct name *v, const name##_type *elem)      \
{                                                                              \
	type *slot = name##_append_entry(v);                                   \
	if (!slot)                                                             \
		return false;                                                  \
	*slot = *elem;                                                         \
	return true;                                                           \
}                                                                              \
                                                                               \
static inline type *name##_pop(struct name *v)                                 \
{                                                                              \
	return v->size ? &v->data[--v->size] : NULL;                           \
}                                                                              \
                                                                               \
static inline void name##_shrink_to_fit(struct name *v)                        \
{                                                                              \
	v->data = ck_vector_shrink(v->data, &v->capacity, v->size, sizeof(type)); \
}                                                                              \
                                                                               \
static inline type *name##_steal(struct name *v, size_t *size_ret)             \
{                                                                              \
	type *data = v->data;                                                  \
	if (size_ret)                                                          \
		*size_ret = v->size;                                           \
	name##_init(v);                                                        \
	return data;                                                           \
}

#endif /* CRASHKIT_BASE_VECTOR_H */
