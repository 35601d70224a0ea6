/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel log kept in a dump, read through the layouts VMCOREINFO
 * describes (log_buf_vmcoreinfo_setup() in kernel/printk/printk.c):
 *
 *  - the lockless ring buffer ("printk: use the lockless ringbuffer", Linux
 *    5.10): SYMBOL(prb) and the SIZE/OFFSET entries of printk_ringbuffer,
 *    prb_desc_ring, prb_desc, prb_data_blk_lpos, printk_info, prb_data_ring
 *    and atomic_long_t.counter;
 *  - the structured buffer of Linux 3.5 to 5.9 ("printk: convert byte-buffer
 *    to variable-length record buffer", 3.5): SYMBOL(log_buf),
 *    SYMBOL(log_buf_len), SYMBOL(log_first_idx), SYMBOL(log_next_idx) and
 *    struct printk_log (called struct log before 3.11).
 *
 * The layout is chosen by which keys exist, never by version number.  All of
 * it is untrusted: ring sizes and counts are bounded before anything is
 * allocated, ids and positions are checked against the ring, and a record
 * that does not hold together is skipped, as the kernel's own reader would.
 */
#include <endian.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "walk/walk.h"

/* LOG_BUF_LEN_MAX is 2 GiB (kernel/printk/printk.c), and one descriptor per
 * 32 bytes of text (PRB_AVGBITS = 5) at most. */
#define PRB_MAX_SIZE_BITS	31
#define PRB_MAX_COUNT_BITS	26
#define PRB_MAX_STRUCT		4096	/* any struct size VMCOREINFO gives us */

/* kernel/printk/printk_ringbuffer.h: the top two bits of a descriptor's
 * state_var are its state, the rest its id. */
#define DESC_FLAGS_SHIFT	62
#define DESC_ID_MASK		(~(3ull << DESC_FLAGS_SHIFT))
enum {
	DESC_RESERVED = 0,
	DESC_COMMITTED = 1,	/* could still be reopened by its writer */
	DESC_FINALIZED = 2,	/* Linux 5.10 "printk: ringbuffer: add finalization/extension support" */
	DESC_REUSABLE = 3,
};

/* ---- reading little-endian fields out of a copied structure ----------- */

static uint64_t get_le(const uint8_t *buf, size_t off, size_t width)
{
	uint64_t v = 0;
	for (size_t i = width; i-- > 0;)
		v = v << 8 | buf[off + i];
	return v;
}

struct layout_key {
	const char *key;
	uint64_t *ret;
	bool optional;
};

static struct ck_error *read_keys(struct ck_kernel *kernel, const struct layout_key *keys,
				  size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		if (keys[i].optional && !ck_kernel_vmcoreinfo_str(kernel, keys[i].key))
			continue;
		struct ck_error *err = ck_kernel_vmcoreinfo_u64(kernel, keys[i].key, keys[i].ret);
		if (err)
			return err;
	}
	return NULL;
}

/* Whether a field of width bytes at off lies inside a structure of size. */
static bool field_fits(uint64_t off, uint64_t width, uint64_t size)
{
	return off <= size && width <= size - off;
}

/* ---- the lockless ring (Linux 5.10+) ------------------------------------ */

struct prb_layout {
	uint64_t sym_prb;
	uint64_t sz_rb, off_desc_ring, off_text_ring;
	uint64_t off_count_bits, off_descs, off_infos, off_head_id, off_tail_id;
	uint64_t sz_desc, off_state_var, off_text_blk_lpos;
	uint64_t off_lpos_begin, off_lpos_next;
	uint64_t sz_info, off_seq, off_ts_nsec, off_text_len, off_caller_id;
	uint64_t off_size_bits, off_data;
	uint64_t off_counter;
	bool has_caller_id;
};

/*
 * Nothing is read by the sizes the dump claims: the descriptors and their
 * infos come in windows of PRB_WINDOW entries as the walk reaches them, and
 * the text ring whole only up to PRB_WHOLE_TEXT bytes (Debian's is 128 KiB),
 * else block by block.  A ring whose sizes are garbage thus costs what the
 * walk reads, and the walk ends after PRB_MAX_GAP unfinished descriptors in a
 * row: between tail and head only the records being written when the machine
 * died are unfinished, a few per CPU.
 */
#define PRB_WINDOW	4096
#define PRB_WHOLE_TEXT	(16u << 20)
#define PRB_MAX_BLOCK	(64u << 10)	/* a record's text is at most 1 KiB */
#define PRB_MAX_GAP	65536

struct prb_ring {
	uint64_t addr;			/* the struct printk_ringbuffer */
	uint64_t count;			/* descriptors */
	uint64_t data_size;		/* bytes of text ring */
	uint64_t descs_addr, infos_addr, data_addr;
	uint64_t head_id, tail_id;
	uint64_t sz_desc, sz_info;
	uint8_t *descs, *infos;		/* the window: entries [first, first + nr) */
	uint64_t win_first, win_nr;
	uint8_t *data;			/* the whole text ring, or NULL */
	uint8_t *block;			/* else one block, PRB_MAX_BLOCK bytes */
};

static struct ck_error *prb_layout_read(struct ck_kernel *kernel, struct prb_layout *l)
{
	l->off_counter = 0;	/* atomic_long_t.counter: first member everywhere */
	const struct layout_key keys[] = {
		{ "SYMBOL(prb)", &l->sym_prb, false },
		{ "SIZE(printk_ringbuffer)", &l->sz_rb, false },
		{ "OFFSET(printk_ringbuffer.desc_ring)", &l->off_desc_ring, false },
		{ "OFFSET(printk_ringbuffer.text_data_ring)", &l->off_text_ring, false },
		{ "OFFSET(prb_desc_ring.count_bits)", &l->off_count_bits, false },
		{ "OFFSET(prb_desc_ring.descs)", &l->off_descs, false },
		{ "OFFSET(prb_desc_ring.infos)", &l->off_infos, false },
		{ "OFFSET(prb_desc_ring.head_id)", &l->off_head_id, false },
		{ "OFFSET(prb_desc_ring.tail_id)", &l->off_tail_id, false },
		{ "SIZE(prb_desc)", &l->sz_desc, false },
		{ "OFFSET(prb_desc.state_var)", &l->off_state_var, false },
		{ "OFFSET(prb_desc.text_blk_lpos)", &l->off_text_blk_lpos, false },
		{ "OFFSET(prb_data_blk_lpos.begin)", &l->off_lpos_begin, false },
		{ "OFFSET(prb_data_blk_lpos.next)", &l->off_lpos_next, false },
		{ "SIZE(printk_info)", &l->sz_info, false },
		{ "OFFSET(printk_info.seq)", &l->off_seq, false },
		{ "OFFSET(printk_info.ts_nsec)", &l->off_ts_nsec, false },
		{ "OFFSET(printk_info.text_len)", &l->off_text_len, false },
		{ "OFFSET(printk_info.caller_id)", &l->off_caller_id, true },
		{ "OFFSET(prb_data_ring.size_bits)", &l->off_size_bits, false },
		{ "OFFSET(prb_data_ring.data)", &l->off_data, false },
		{ "OFFSET(atomic_long_t.counter)", &l->off_counter, true },
	};
	struct ck_error *err = read_keys(kernel, keys, CK_ARRAY_SIZE(keys));
	if (err)
		return ck_error_prepend(err, "printk ring layout");
	l->has_caller_id = ck_kernel_vmcoreinfo_str(kernel, "OFFSET(printk_info.caller_id)");

	/* every field we read must lie inside the structure VMCOREINFO sizes */
	uint64_t dr = l->off_desc_ring, tr = l->off_text_ring;
	uint64_t lp = l->off_text_blk_lpos;
	bool ok = l->sz_rb <= PRB_MAX_STRUCT && l->sz_desc <= PRB_MAX_STRUCT &&
		  l->sz_info <= PRB_MAX_STRUCT && l->sz_desc && l->sz_info &&
		  dr < l->sz_rb && tr < l->sz_rb &&
		  field_fits(dr + l->off_count_bits, 4, l->sz_rb) &&
		  field_fits(dr + l->off_descs, 8, l->sz_rb) &&
		  field_fits(dr + l->off_infos, 8, l->sz_rb) &&
		  field_fits(dr + l->off_head_id + l->off_counter, 8, l->sz_rb) &&
		  field_fits(dr + l->off_tail_id + l->off_counter, 8, l->sz_rb) &&
		  field_fits(tr + l->off_size_bits, 4, l->sz_rb) &&
		  field_fits(tr + l->off_data, 8, l->sz_rb) &&
		  field_fits(l->off_state_var + l->off_counter, 8, l->sz_desc) &&
		  field_fits(lp + l->off_lpos_begin, 8, l->sz_desc) &&
		  field_fits(lp + l->off_lpos_next, 8, l->sz_desc) &&
		  field_fits(l->off_seq, 8, l->sz_info) &&
		  field_fits(l->off_ts_nsec, 8, l->sz_info) &&
		  field_fits(l->off_text_len, 4, l->sz_info) &&
		  (!l->has_caller_id || field_fits(l->off_caller_id, 4, l->sz_info));
	if (!ok)
		return ck_error_create(CK_ERR_FORMAT,
				       "printk ring layout: VMCOREINFO offsets lie outside the structure sizes it gives");
	return NULL;
}

static void prb_ring_free(struct prb_ring *r)
{
	free(r->descs);
	free(r->infos);
	free(r->data);
	free(r->block);
}

static struct ck_error *read_array(struct ck_kernel *kernel, uint64_t addr, uint64_t size,
				   uint8_t **ret)
{
	uint8_t *p = malloc(size ? (size_t)size : 1);
	if (!p)
		return &ck_error_nomem;
	struct ck_error *err = ck_kernel_read(kernel, addr, p, (size_t)size);
	if (err) {
		free(p);
		return err;
	}
	*ret = p;
	return NULL;
}

static struct ck_error *prb_ring_read(struct ck_kernel *kernel, const struct prb_layout *l,
				      struct prb_ring *r)
{
	uint64_t addr;
	struct ck_error *err = ck_kernel_read_u64(kernel, l->sym_prb, &addr);
	if (err)
		return ck_error_prepend(err, "printk ring pointer prb at 0x%" PRIx64, l->sym_prb);
	r->addr = addr;
	uint8_t rb[PRB_MAX_STRUCT];
	err = ck_kernel_read(kernel, addr, rb, (size_t)l->sz_rb);
	if (err)
		return ck_error_prepend(err, "printk ring at 0x%" PRIx64, addr);

	uint64_t dr = l->off_desc_ring, tr = l->off_text_ring;
	uint32_t count_bits = (uint32_t)get_le(rb, dr + l->off_count_bits, 4);
	uint32_t size_bits = (uint32_t)get_le(rb, tr + l->off_size_bits, 4);
	if (count_bits > PRB_MAX_COUNT_BITS)
		return ck_error_create(CK_ERR_FORMAT,
				       "printk ring at 0x%" PRIx64 ": descriptor count 2^%" PRIu32 " is absurd",
				       addr, count_bits);
	if (size_bits > PRB_MAX_SIZE_BITS || size_bits < 3)
		return ck_error_create(CK_ERR_FORMAT,
				       "printk ring at 0x%" PRIx64 ": text ring size 2^%" PRIu32 " is absurd",
				       addr, size_bits);
	r->count = 1ull << count_bits;
	r->data_size = 1ull << size_bits;
	r->head_id = get_le(rb, dr + l->off_head_id + l->off_counter, 8);
	r->tail_id = get_le(rb, dr + l->off_tail_id + l->off_counter, 8);

	uint64_t span = (r->head_id - r->tail_id) & DESC_ID_MASK;
	if (span >= r->count)
		return ck_error_create(CK_ERR_FORMAT,
				       "printk ring at 0x%" PRIx64 ": tail_id 0x%" PRIx64 " and head_id 0x%" PRIx64
				       " are %" PRIu64 " apart, more than its %" PRIu64 " descriptors",
				       addr, r->tail_id, r->head_id, span, r->count);

	r->descs_addr = get_le(rb, dr + l->off_descs, 8);
	r->infos_addr = get_le(rb, dr + l->off_infos, 8);
	r->data_addr = get_le(rb, tr + l->off_data, 8);
	r->sz_desc = l->sz_desc;
	r->sz_info = l->sz_info;
	size_t win = (size_t)CK_MIN(r->count, PRB_WINDOW);
	r->descs = malloc(win * (size_t)l->sz_desc);
	r->infos = malloc(win * (size_t)l->sz_info);
	if (!r->descs || !r->infos)
		return &ck_error_nomem;
	if (r->data_size > PRB_WHOLE_TEXT) {
		r->block = malloc(PRB_MAX_BLOCK);
		return r->block ? NULL : &ck_error_nomem;
	}
	if ((err = read_array(kernel, r->data_addr, r->data_size, &r->data)))
		return ck_error_prepend(err, "printk ring at 0x%" PRIx64 ": text data", addr);
	return NULL;
}

/* Makes descriptor idx part of the window, reading the window from there. */
static struct ck_error *prb_window(struct ck_kernel *kernel, struct prb_ring *r, uint64_t idx)
{
	if (idx >= r->win_first && idx - r->win_first < r->win_nr)
		return NULL;
	uint64_t nr = CK_MIN(r->count - idx, PRB_WINDOW);
	r->win_nr = 0;
	struct ck_error *err = ck_kernel_read(kernel, r->descs_addr + idx * r->sz_desc, r->descs,
					      (size_t)(nr * r->sz_desc));
	if (err)
		return ck_error_prepend(err, "printk ring at 0x%" PRIx64 ": descriptors", r->addr);
	err = ck_kernel_read(kernel, r->infos_addr + idx * r->sz_info, r->infos,
			     (size_t)(nr * r->sz_info));
	if (err)
		return ck_error_prepend(err, "printk ring at 0x%" PRIx64 ": record infos", r->addr);
	r->win_first = idx;
	r->win_nr = nr;
	return NULL;
}

/*
 * The text of descriptor id, following get_data() in printk_ringbuffer.c: a
 * block lies between begin and next (logical positions that count wraps of
 * the ring); one that would cross the end of the ring is stored whole at its
 * start instead.  A block starts with the id of its descriptor.  Returns
 * false for records with no usable text: data-less (FAILED_LPOS/NO_LPOS, bit
 * 0 set), impossible positions, a block since reused by another record, or
 * one that cannot be read.
 */
static bool prb_text(struct ck_kernel *kernel, struct prb_ring *r, uint64_t id, uint64_t begin,
		     uint64_t next, const uint8_t **text_ret, uint64_t *avail_ret)
{
	if ((begin & 1) || (next & 1))
		return false;
	unsigned int bits = (unsigned int)__builtin_ctzll(r->data_size);
	uint64_t off, size;
	if (begin >> bits == next >> bits && begin < next) {
		off = begin & (r->data_size - 1);
		size = next - begin;
	} else if ((begin + r->data_size) >> bits == next >> bits) {
		off = 0;
		size = next & (r->data_size - 1);
	} else {
		return false;
	}
	if (begin % 8 || next % 8 || size < 8 || off + size > r->data_size)
		return false;
	const uint8_t *blk = r->data ? r->data + off : r->block;
	if (!r->data) {
		if (size > PRB_MAX_BLOCK)
			return false;
		struct ck_error *err = ck_kernel_read(kernel, r->data_addr + off, r->block, (size_t)size);
		if (err) {
			ck_error_destroy(err);	/* the record's loss, not the log's */
			return false;
		}
	}
	if ((get_le(blk, 0, 8) & DESC_ID_MASK) != id)
		return false;
	*text_ret = blk + 8;
	*avail_ret = size - 8;
	return true;
}

struct prb_walk_state {
	uint64_t shown, bad, bad_id, bad_begin, bad_next;
	uint64_t gap;		/* unfinished descriptors in a row */
	bool has_level, stop;
};

/* One descriptor of the walk: its record to fn if it is finished and has
 * text. */
static void prb_record(struct ck_kernel *kernel, const struct prb_layout *l, struct prb_ring *r,
		       uint64_t id, struct prb_walk_state *w, ck_log_fn fn, void *arg)
{
	uint64_t idx = id & (r->count - 1);
	const uint8_t *desc = r->descs + (idx - r->win_first) * l->sz_desc;
	const uint8_t *info = r->infos + (idx - r->win_first) * l->sz_info;
	uint64_t sv = get_le(desc, l->off_state_var + l->off_counter, 8);
	unsigned int state = (unsigned int)(sv >> DESC_FLAGS_SHIFT);
	uint64_t begin = get_le(desc, l->off_text_blk_lpos + l->off_lpos_begin, 8);
	uint64_t next = get_le(desc, l->off_text_blk_lpos + l->off_lpos_next, 8);
	/* only records a writer has let go of; a reserved one is being
	 * written, a reusable one is gone */
	bool done = (sv & DESC_ID_MASK) == id && (state == DESC_COMMITTED || state == DESC_FINALIZED);
	w->gap = done ? 0 : w->gap + 1;
	const uint8_t *text;
	uint64_t avail;
	if (done && prb_text(kernel, r, id, begin, next, &text, &avail)) {
		uint64_t text_len = get_le(info, l->off_text_len, 2);
		struct ck_log_record rec = {
			.seq = get_le(info, l->off_seq, 8),
			.ts_nsec = get_le(info, l->off_ts_nsec, 8),
			.caller_id = l->has_caller_id ? (uint32_t)get_le(info, l->off_caller_id, 4) : 0,
			.has_caller_id = l->has_caller_id,
			.facility = w->has_level ? info[l->off_text_len + 2] : 0,
			.level = w->has_level ? info[l->off_text_len + 3] >> 5 : 0,
			.text = (const char *)text,
			/* a truncated record keeps what fits */
			.text_len = (size_t)CK_MIN(text_len, avail),
		};
		w->shown++;
		w->stop = fn(&rec, arg) != 0;
	} else if (done && !((begin & 1) && (next & 1)) && !w->bad++) {
		/* finished, not data-less, and still no text */
		w->bad_id = id;
		w->bad_begin = begin;
		w->bad_next = next;
	}
}

static struct ck_error *prb_walk(struct ck_kernel *kernel, ck_log_fn fn, void *arg)
{
	struct prb_layout l;
	struct ck_error *err = prb_layout_read(kernel, &l);
	if (err)
		return err;
	struct prb_ring r = { 0 };
	struct prb_walk_state w = { 0 };
	/* facility and level are bitfields next to text_len that VMCOREINFO
	 * does not describe; struct printk_info has had them right after it
	 * since 5.10, which the caller_id offset confirms */
	w.has_level = l.has_caller_id && l.off_caller_id == l.off_text_len + 4;

	/* tail to head inclusive; span < count was checked, so this ends */
	err = prb_ring_read(kernel, &l, &r);
	for (uint64_t id = r.tail_id; !err; id = (id + 1) & DESC_ID_MASK) {
		if ((err = prb_window(kernel, &r, id & (r.count - 1))))
			break;
		prb_record(kernel, &l, &r, id, &w, fn, arg);
		if (w.stop || id == r.head_id)
			break;
		if (w.gap >= PRB_MAX_GAP)
			err = ck_error_create(CK_ERR_FORMAT,
					      "printk ring at 0x%" PRIx64 ": %d descriptors in a row up to id 0x%" PRIx64
					      " are not finished records; the rest of the ring is not read",
					      r.addr, PRB_MAX_GAP, id);
	}
	/* A few unreadable records are what a crash mid-write leaves; a ring
	 * where none reads is corrupt or misdescribed, and saying nothing
	 * would look like an empty log. */
	if (!err && !w.shown && w.bad)
		err = ck_error_create(CK_ERR_FORMAT,
				      "printk ring at 0x%" PRIx64 ": none of its %" PRIu64
				      " finished records has a valid text block (first: id 0x%" PRIx64
				      ", begin 0x%" PRIx64 ", next 0x%" PRIx64 ", text ring of %" PRIu64 " bytes)",
				      r.addr, w.bad, w.bad_id, w.bad_begin, w.bad_next, r.data_size);
	prb_ring_free(&r);
	return err;
}

/* ---- the structured buffer (Linux 3.5 - 5.9) ---------------------------- */

struct legacy_layout {
	uint64_t sym_log_buf, sym_log_buf_len, sym_first_idx, sym_next_idx;
	uint64_t sz_log, off_ts_nsec, off_len, off_text_len, off_dict_len, off_caller_id;
	bool has_dict_len, has_caller_id;
};

static struct ck_error *legacy_layout_read(struct ck_kernel *kernel, struct legacy_layout *l)
{
	/* struct log was renamed struct printk_log in Linux 3.11 */
	const char *s = ck_kernel_vmcoreinfo_str(kernel, "SIZE(printk_log)") ? "printk_log" : "log";
	char k_size[32], k_ts[48], k_len[48], k_text_len[48], k_dict_len[48], k_caller[48];
	snprintf(k_size, sizeof(k_size), "SIZE(%s)", s);
	snprintf(k_ts, sizeof(k_ts), "OFFSET(%s.ts_nsec)", s);
	snprintf(k_len, sizeof(k_len), "OFFSET(%s.len)", s);
	snprintf(k_text_len, sizeof(k_text_len), "OFFSET(%s.text_len)", s);
	snprintf(k_dict_len, sizeof(k_dict_len), "OFFSET(%s.dict_len)", s);
	snprintf(k_caller, sizeof(k_caller), "OFFSET(%s.caller_id)", s);
	const struct layout_key keys[] = {
		{ "SYMBOL(log_buf)", &l->sym_log_buf, false },
		{ "SYMBOL(log_buf_len)", &l->sym_log_buf_len, false },
		{ "SYMBOL(log_first_idx)", &l->sym_first_idx, false },
		{ "SYMBOL(log_next_idx)", &l->sym_next_idx, false },
		{ k_size, &l->sz_log, false },
		{ k_ts, &l->off_ts_nsec, false },
		{ k_len, &l->off_len, false },
		{ k_text_len, &l->off_text_len, false },
		{ k_dict_len, &l->off_dict_len, true },
		/* CONFIG_PRINTK_CALLER, "printk: Add caller information to
		 * printk() output", 5.1 */
		{ k_caller, &l->off_caller_id, true },
	};
	struct ck_error *err = read_keys(kernel, keys, CK_ARRAY_SIZE(keys));
	if (err)
		return ck_error_prepend(err, "printk log_buf layout");
	l->has_dict_len = ck_kernel_vmcoreinfo_str(kernel, k_dict_len) &&
			  field_fits(l->off_dict_len, 4, l->sz_log);
	l->has_caller_id = ck_kernel_vmcoreinfo_str(kernel, k_caller);
	if (l->sz_log < 8 || l->sz_log > PRB_MAX_STRUCT ||
	    !field_fits(l->off_ts_nsec, 8, l->sz_log) || !field_fits(l->off_len, 2, l->sz_log) ||
	    !field_fits(l->off_text_len, 2, l->sz_log) ||
	    (l->has_caller_id && !field_fits(l->off_caller_id, 4, l->sz_log)))
		return ck_error_create(CK_ERR_FORMAT,
				       "printk log_buf layout: VMCOREINFO offsets lie outside %s", k_size);
	return NULL;
}

static struct ck_error *legacy_walk(struct ck_kernel *kernel, ck_log_fn fn, void *arg)
{
	struct legacy_layout l;
	struct ck_error *err = legacy_layout_read(kernel, &l);
	if (err)
		return err;
	uint64_t buf_addr;
	uint32_t len, first, next;
	if ((err = ck_kernel_read_u64(kernel, l.sym_log_buf, &buf_addr)) ||
	    (err = ck_kernel_read_u32(kernel, l.sym_log_buf_len, &len)) ||
	    (err = ck_kernel_read_u32(kernel, l.sym_first_idx, &first)) ||
	    (err = ck_kernel_read_u32(kernel, l.sym_next_idx, &next)))
		return ck_error_prepend(err, "printk log_buf");
	if (len < l.sz_log || len > (1u << PRB_MAX_SIZE_BITS))
		return ck_error_create(CK_ERR_FORMAT,
				       "printk log_buf at 0x%" PRIx64 ": length %" PRIu32 " is absurd",
				       buf_addr, len);
	if (first >= len || next >= len)
		return ck_error_create(CK_ERR_FORMAT,
				       "printk log_buf at 0x%" PRIx64 ": log_first_idx %" PRIu32
				       " or log_next_idx %" PRIu32 " is past its length %" PRIu32,
				       buf_addr, first, next, len);
	uint8_t *buf;
	if ((err = read_array(kernel, buf_addr, len, &buf)))
		return ck_error_prepend(err, "printk log_buf at 0x%" PRIx64, buf_addr);

	/* Every record takes at least sz_log bytes, so a walk longer than
	 * this has gone round in a cycle. */
	uint64_t max_steps = len / l.sz_log + 2;
	uint64_t seq = 0;
	uint32_t idx = first;
	for (uint64_t step = 0; idx != next; step++) {
		if (step > max_steps || idx > len - l.sz_log) {
			err = ck_error_create(CK_ERR_FORMAT,
					      "printk log_buf at 0x%" PRIx64 ": record at index %" PRIu32 " %s",
					      buf_addr, idx,
					      step > max_steps ? "closes a cycle" : "runs past the buffer");
			break;
		}
		uint32_t msg_len = (uint32_t)get_le(buf, idx + l.off_len, 2);
		if (msg_len == 0) {
			/* a zero length marks the end: continue at the start */
			idx = 0;
			continue;
		}
		if (msg_len < l.sz_log || msg_len > len - idx) {
			err = ck_error_create(CK_ERR_FORMAT,
					      "printk log_buf at 0x%" PRIx64 ": record at index %" PRIu32
					      " has impossible length %" PRIu32,
					      buf_addr, idx, msg_len);
			break;
		}
		const uint8_t *rp = buf + idx;
		uint64_t text_len = get_le(rp, l.off_text_len, 2);
		struct ck_log_record rec = {
			.seq = seq++,
			.ts_nsec = get_le(rp, l.off_ts_nsec, 8),
			/* facility and level are the bytes after dict_len */
			.facility = l.has_dict_len ? rp[l.off_dict_len + 2] : 0,
			.level = l.has_dict_len ? rp[l.off_dict_len + 3] >> 5 : 0,
			.caller_id = l.has_caller_id ? (uint32_t)get_le(rp, l.off_caller_id, 4) : 0,
			.has_caller_id = l.has_caller_id,
			.text = (const char *)rp + l.sz_log,
			.text_len = (size_t)CK_MIN(text_len, msg_len - l.sz_log),
		};
		if (fn(&rec, arg))
			break;
		idx += msg_len;
	}
	free(buf);
	return err;
}

/* ---- entry points ------------------------------------------------------- */

struct ck_error *ck_kernel_log_walk(struct ck_kernel *kernel, ck_log_fn fn, void *arg)
{
	if (!kernel || !fn)
		return ck_error_create(CK_ERR_INVALID, "ck_kernel_log_walk: no kernel or callback");
	struct ck_error *err;
	if (ck_kernel_vmcoreinfo_str(kernel, "SYMBOL(prb)"))
		err = prb_walk(kernel, fn, arg);
	else if (ck_kernel_vmcoreinfo_str(kernel, "SYMBOL(log_first_idx)"))
		err = legacy_walk(kernel, fn, arg);
	else
		err = ck_error_create(CK_ERR_UNSUPPORTED,
				      "VMCOREINFO describes no kernel log: neither SYMBOL(prb) "
				      "(Linux 5.10+) nor SYMBOL(log_first_idx) (Linux 3.5-5.9)");
	return ck_kernel_error_file(ck_kernel_dump(kernel), err);
}

/* The keys makedumpfile 1.7.5+ tests to print its caller column, for the
 * layout ck_kernel_log_walk() reads.  The lockless ring always has the
 * field; the structured buffer only with CONFIG_PRINTK_CALLER. */
bool ck_kernel_log_has_caller_id(const struct ck_kernel *kernel)
{
	if (!kernel)
		return false;
	if (ck_kernel_vmcoreinfo_str(kernel, "SYMBOL(prb)"))
		return ck_kernel_vmcoreinfo_str(kernel, "OFFSET(printk_info.caller_id)");
	if (ck_kernel_vmcoreinfo_str(kernel, "SYMBOL(log_first_idx)"))
		return ck_kernel_vmcoreinfo_str(kernel, "OFFSET(printk_log.caller_id)");
	return false;
}

/*
 * The line `makedumpfile --dump-dmesg` writes for a record (printk.c
 * dump_record(), makedumpfile.c dump_log_entry()), byte for byte:
 *  - "[%5llu.%06llu] " from ts_nsec;
 *  - with CK_LOG_FORMAT_CALLER and a caller id, "[%8s] " of "T<pid>" or
 *    "C<cpu>" (makedumpfile 1.7.5, "add PRINTK_CALLER id support to
 *    --dump-dmesg option"; PID_CHARS_DEFAULT is 8, longer ids widen it);
 *  - an embedded newline continues on a new line indented by the width of
 *    all of that prefix;
 *  - bytes that are neither printable nor white space in the C locale become
 *    "\xNN".  makedumpfile formats a plain (signed) char there, so bytes from
 *    0x80 up come out sign-extended as "\xffffffNN"; that is kept, for
 *    identical output;
 *  - one newline at the end.
 */
size_t ck_log_format(const struct ck_log_record *rec, unsigned int flags, char *buf, size_t size)
{
	char prefix[64];
	int plen = snprintf(prefix, sizeof(prefix), "[%5" PRIu64 ".%06" PRIu64 "] ",
			    rec->ts_nsec / 1000000000u, rec->ts_nsec % 1000000000u / 1000u);
	size_t indent = plen > 0 ? (size_t)plen : 0;
	if ((flags & CK_LOG_FORMAT_CALLER) && rec->has_caller_id && indent < sizeof(prefix)) {
		char id[16];
		snprintf(id, sizeof(id), "%c%" PRIu32,
			 rec->caller_id & CK_LOG_CALLER_CPU ? 'C' : 'T',
			 rec->caller_id & ~CK_LOG_CALLER_CPU);
		plen = snprintf(prefix + indent, sizeof(prefix) - indent, "[%8s] ", id);
		indent += plen > 0 ? (size_t)plen : 0;
	}
	size_t n = 0;
#define PUT(c) do { if (n + 1 < size) buf[n] = (char)(c); n++; } while (0)
	for (size_t i = 0; i < indent; i++)
		PUT(prefix[i]);
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < rec->text_len; i++) {
		unsigned char c = (unsigned char)rec->text[i];
		if (c == '\n') {
			PUT('\n');
			for (size_t k = 0; k < indent; k++)
				PUT(' ');
		} else if ((c >= 0x20 && c < 0x7f) || c == '\t' || c == '\v' || c == '\f' ||
			   c == '\r') {
			PUT(c);
		} else {
			PUT('\\');
			PUT('x');
			if (c >= 0x80)
				for (int k = 0; k < 6; k++)
					PUT('f');
			PUT(hex[c >> 4]);
			PUT(hex[c & 15]);
		}
	}
	PUT('\n');
#undef PUT
	if (size)
		buf[n < size ? n : size - 1] = '\0';
	return n;
}
