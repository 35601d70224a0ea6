/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * makedumpfile's flattened format: a stream of (offset, size, data) records
 * that, written at their offsets, rebuild a kdump-compressed or ELF file
 * (`makedumpfile -R` does that).  Instead of rebuilding, we index the records
 * once and let ck_file_read() map logical offsets to where the data sits in
 * the stream.  Layout: lib/dump/flattened_format.h; docs/formats/flattened.md.
 *
 * Records may overlap: makedumpfile writes the kdump sub header a second time
 * at the end to fill in the eraseinfo fields.  As with `makedumpfile -R`, the
 * later record wins.  Overlap is rare, so we only pay for resolving it (a
 * sweep over record boundaries with a heap of active records, O(n log n))
 * when sorting shows some.
 */
#include <endian.h>
#include <inttypes.h>
#include <string.h>

#include "dump/dump.h"
#include "dump/flattened_format.h"

#define FLAT_READ_CHUNK (1u << 20)

struct flat_rec {
	uint64_t logical;
	uint64_t physical;
	uint64_t size;
	uint64_t seq;		/* position in the stream: later wins */
};

/* Reads record headers through a 1 MiB window: records are often a page or
 * less, so this saves a pread per record. */
struct flat_reader {
	struct ck_file *file;
	uint8_t *buf;
	uint64_t off;
	size_t len;
};

static struct ck_error *flat_reader_get(struct flat_reader *r, uint64_t off,
					struct ck_flat_record *rec, bool *eof)
{
	if (off < r->off || off + sizeof(*rec) > r->off + r->len) {
		size_t n;
		struct ck_error *err = ck_file_read_partial(r->file, off, r->buf,
							    FLAT_READ_CHUNK, &n);
		if (err)
			return err;
		r->off = off;
		r->len = n;
	}
	if (off + sizeof(*rec) > r->off + r->len) {
		*eof = true;
		return NULL;
	}
	memcpy(rec, r->buf + (off - r->off), sizeof(*rec));
	*eof = false;
	return NULL;
}

static int rec_cmp(const void *a, const void *b)
{
	const struct flat_rec *x = a, *y = b;
	if (x->logical != y->logical)
		return x->logical < y->logical ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return 0;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Max-heap of record indices keyed by seq. */
static void heap_push(size_t *heap, size_t *nr, const struct flat_rec *recs, size_t v)
{
	size_t i = (*nr)++;
	heap[i] = v;
	while (i) {
		size_t parent = (i - 1) / 2;
		if (recs[heap[parent]].seq >= recs[heap[i]].seq)
			break;
		size_t t = heap[parent];
		heap[parent] = heap[i];
		heap[i] = t;
		i = parent;
	}
}

static void heap_pop(size_t *heap, size_t *nr, const struct flat_rec *recs)
{
	heap[0] = heap[--*nr];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < *nr && recs[heap[l]].seq > recs[heap[m]].seq)
			m = l;
		if (r < *nr && recs[heap[r]].seq > recs[heap[m]].seq)
			m = r;
		if (m == i)
			break;
		size_t t = heap[m];
		heap[m] = heap[i];
		heap[i] = t;
		i = m;
	}
}

CK_DEFINE_VECTOR(seg_vector, struct ck_file_seg)
CK_DEFINE_VECTOR(rec_vector, struct flat_rec)

static bool seg_push(struct seg_vector *segs, uint64_t logical, uint64_t physical,
		     uint64_t size)
{
	if (segs->size) {
		struct ck_file_seg *last = seg_vector_at(segs, segs->size - 1);
		if (last->logical + last->size == logical &&
		    last->physical + last->size == physical) {
			last->size += size;
			return true;
		}
	}
	return seg_vector_append(segs, &(struct ck_file_seg){ logical, physical, size });
}

/* Turns records sorted by logical offset into disjoint segments, the latest
 * record winning where they overlap: a sweep over the record boundaries with
 * a heap of the records that cover each. */
static bool flat_sweep(const struct flat_rec *recs, size_t nr, struct seg_vector *segs)
{
	_cleanup_free_ uint64_t *points = ck_calloc_array(2 * nr, sizeof(uint64_t));
	_cleanup_free_ size_t *heap = ck_calloc_array(nr, sizeof(size_t));
	if (!points || !heap)
		return false;
	for (size_t i = 0; i < nr; i++) {
		points[2 * i] = recs[i].logical;
		points[2 * i + 1] = recs[i].logical + recs[i].size;
	}
	qsort(points, 2 * nr, sizeof(uint64_t), u64_cmp);
	size_t nr_points = 0;
	for (size_t i = 0; i < 2 * nr; i++)
		if (!nr_points || points[nr_points - 1] != points[i])
			points[nr_points++] = points[i];

	size_t nr_heap = 0, next = 0;
	for (size_t p = 0; p + 1 < nr_points; p++) {
		uint64_t at = points[p], to = points[p + 1];
		while (next < nr && recs[next].logical == at)
			heap_push(heap, &nr_heap, recs, next++);
		while (nr_heap && recs[heap[0]].logical + recs[heap[0]].size <= at)
			heap_pop(heap, &nr_heap, recs);
		/* Expired records below the top stay until they surface; the
		 * top is always live because it was checked just above. */
		if (!nr_heap)
			continue;
		const struct flat_rec *w = &recs[heap[0]];
		if (!seg_push(segs, at, w->physical + (at - w->logical), to - at))
			return false;
	}
	return true;
}

/* Records sorted by logical offset as disjoint segments.  Overlap is rare:
 * only then is the sweep paid for. */
static struct ck_error *flat_resolve(const struct flat_rec *recs, size_t nr,
				     struct ck_file_seg **segs_ret, size_t *nr_ret)
{
	struct seg_vector segs;
	seg_vector_init(&segs);
	bool overlap = false;
	for (size_t i = 1; i < nr && !overlap; i++)
		overlap = recs[i].logical < recs[i - 1].logical + recs[i - 1].size;
	bool ok = true;
	if (overlap)
		ok = flat_sweep(recs, nr, &segs);
	for (size_t i = 0; ok && !overlap && i < nr; i++)
		ok = seg_push(&segs, recs[i].logical, recs[i].physical, recs[i].size);
	if (!ok) {
		seg_vector_deinit(&segs);
		return &ck_error_nomem;
	}
	*segs_ret = seg_vector_steal(&segs, nr_ret);
	return NULL;
}

/* The records after the header, in stream order, up to the end record
 * (*ended) or to where the file is cut; *size_ret gets the logical size. */
static struct ck_error *flat_scan(struct ck_file *file, struct rec_vector *recs,
				  uint64_t *size_ret, bool *ended)
{
	struct ck_error *err = NULL;
	struct flat_reader rd = { .file = file, .buf = malloc(FLAT_READ_CHUNK) };
	uint64_t logical_size = 0;
	if (!rd.buf)
		return &ck_error_nomem;
	*ended = false;
	uint64_t pos = CK_FLAT_HEADER_SIZE;
	for (uint64_t seq = 0;; seq++) {
		struct ck_flat_record rh;
		bool eof;
		err = flat_reader_get(&rd, pos, &rh, &eof);
		if (err || eof)
			break;	/* eof: cut before the end record */
		int64_t off = be64toh(rh.offset), size = be64toh(rh.size);
		if (off == CK_FLAT_END_MARK && size == CK_FLAT_END_MARK) {
			*ended = true;
			break;
		}
		if (off < 0 || size < 0) {
			err = ck_error_create(CK_ERR_FORMAT,
				"'%s': flattened record at offset 0x%" PRIx64
				": bad offset %" PRId64 " or size %" PRId64,
				file->path, pos, off, size);
			break;
		}
		uint64_t data = pos + sizeof(rh);
		uint64_t avail = file->real_size - data;	/* data <= real_size */
		uint64_t take = CK_MIN((uint64_t)size, avail);
		if (take) {
			struct flat_rec r = { off, data, take, seq };
			if (!rec_vector_append(recs, &r)) {
				err = &ck_error_nomem;
				break;
			}
			logical_size = CK_MAX(logical_size, (uint64_t)off + take);
		}
		if (take < (uint64_t)size)
			break;	/* the last record's data is cut */
		pos = data + size;
	}
	free(rd.buf);
	*size_ret = logical_size;
	return err;
}

struct ck_error *ck_flattened_index(struct ck_file *file)
{
	struct ck_error *err = NULL;
	struct ck_flat_header fh;
	size_t n;

	if (file->flattened)
		return ck_error_create(CK_ERR_INVALID, "'%s' is already indexed", file->path);
	memset(&fh, 0, sizeof(fh));
	err = ck_file_read_partial(file, 0, &fh, sizeof(fh), &n);
	if (err)
		return err;
	/* "makedumpfile" and at least one NUL: makedumpfile strncpy()s it
	 * into 16 bytes, QEMU memcpy()s it with its NUL into zeroed memory. */
	if (n < sizeof(CK_FLAT_SIGNATURE) ||
	    memcmp(fh.signature, CK_FLAT_SIGNATURE, sizeof(CK_FLAT_SIGNATURE)))
		return ck_error_create(CK_ERR_NOT_FORMAT, "'%s': not flattened", file->path);
	if (n < sizeof(fh) || file->real_size < CK_FLAT_HEADER_SIZE)
		return ck_error_create(CK_ERR_TRUNCATED,
			"'%s': flattened header cut off: file size 0x%" PRIx64
			", the header takes 0x%x bytes", file->path, file->real_size,
			CK_FLAT_HEADER_SIZE);
	int64_t type = be64toh(fh.type);
	if (type != CK_FLAT_TYPE)
		return ck_error_create(CK_ERR_FORMAT,
			"'%s': flattened header at offset 0x10: unknown type %" PRId64,
			file->path, type);

	struct rec_vector recs;
	rec_vector_init(&recs);
	uint64_t logical_size;
	bool ended;
	err = flat_scan(file, &recs, &logical_size, &ended);
	if (err)
		goto out;
	if (recs.size > 1)
		qsort(recs.data, recs.size, sizeof(*recs.data), rec_cmp);
	struct ck_file_seg *segs;
	size_t nr_segs;
	err = flat_resolve(recs.data, recs.size, &segs, &nr_segs);
	if (err)
		goto out;
	free(file->segs);
	file->segs = segs;
	file->nr_segs = nr_segs;
	file->size = logical_size;
	file->data_size = 0;
	for (size_t i = 0; i < nr_segs; i++)
		file->data_size += segs[i].size;	/* disjoint, within real_size */
	file->flattened = true;
	file->truncated = !ended;
out:
	rec_vector_deinit(&recs);
	return err;
}
