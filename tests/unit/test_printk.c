/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/walk/printk.c on synthetic kernels (tests/mkdump.h
 * mk_kernel): the lockless ring of Linux 5.10+ as prb_reserve() fills it
 * (ids that wrap, records that wrap the text ring, reserved, data-less and
 * discarded records, with and without caller ids), garbage rings, the
 * structured buffer of 3.5-5.9 with and without callers, and
 * ck_log_format()'s columns.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/kernel.h"
#include "../mkdump.h"
#include "../harness.h"

/* ---- printk ring -------------------------------------------------------- */

#define PRB_PA		UINT64_C(0x300000)		/* the ring's structures, physical */

/* The 6.1 x86_64 layout, as log_buf_vmcoreinfo_setup() describes it. */
#define PRB_SYM		(PRB_PA)		/* struct printk_ringbuffer *prb */
#define PRB_RB		(PRB_PA + 0x100)	/* the ring buffer structure */
#define PRB_DESCS	(PRB_PA + 0x1000)
#define PRB_INFOS	(PRB_PA + 0x4000)
#define DESC_SIZE	24
#define INFO_SIZE	88
#define ID_MASK		(~(3ull << 62))

/* with_caller: OFFSET(printk_info.caller_id), which every kernel since 5.10
 * exports; without it, a kernel whose VMCOREINFO does not describe callers
 * (makedumpfile then prints no caller column). */
static void prb_vmcoreinfo_caller(struct mk_kmem *s, bool with_caller)
{
	mk_kmem_vmci(s, "SYMBOL(prb)=%" PRIx64 "\n", MK_KERNEL_TEXT + PRB_SYM);
	mk_kmem_vmci(s, "%s", MK_PRB_VMCOREINFO);
	if (with_caller)
		mk_kmem_vmci(s, "OFFSET(printk_info.caller_id)=20\n");
}

static void prb_vmcoreinfo(struct mk_kmem *s)
{
	prb_vmcoreinfo_caller(s, true);
}

struct prb_writer {
	struct mk_kmem *s;
	unsigned int count_bits, size_bits;
	uint64_t data_pa;	/* physical address of the text ring */
	uint64_t head_lpos;
	uint64_t next_id;
	uint64_t seq;
	uint32_t caller;	/* caller_id of the next record */
};

/* The data ring is mapped through the scattered vmalloc pages, so its bytes
 * are not contiguous in physical memory: write through the mapping. */
static void ring_put(struct prb_writer *w, uint64_t idx, const void *src, size_t len)
{
	const uint8_t *p = src;
	for (size_t i = 0; i < len; i++) {
		uint64_t off = idx + i;
		w->s->mem[MK_KERNEL_VMALLOC_PA + (15 - off / MK_4K) * MK_4K + off % MK_4K] = p[i];
	}
}

/* Appends one record the way prb_reserve()/data_alloc() place it. */
static uint64_t prb_write(struct prb_writer *w, unsigned int state, const char *text, size_t len,
			  uint64_t ts)
{
	uint64_t id = w->next_id;
	w->next_id = (w->next_id + 1) & ID_MASK;
	uint64_t size = 1ull << w->size_bits;
	uint64_t idx = id & ((1ull << w->count_bits) - 1);
	uint64_t begin, next;
	if (!text) {
		begin = next = 3;	/* NO_LPOS: data-less */
	} else {
		uint64_t blk = (8 + len + 7) & ~7ull;
		begin = w->head_lpos;
		next = begin + blk;
		uint8_t idb[8];
		for (int i = 0; i < 8; i++)
			idb[i] = (uint8_t)(id >> (8 * i));
		ring_put(w, begin % size, idb, 8);
		if (begin / size != next / size) {
			/* wraps: stored whole at the start */
			next = (begin / size + 1) * size + blk;
			ring_put(w, 0, idb, 8);
			ring_put(w, 8, text, len);
		} else {
			ring_put(w, begin % size + 8, text, len);
		}
		w->head_lpos = next;
	}
	uint64_t d = PRB_DESCS + idx * DESC_SIZE, in = PRB_INFOS + idx * INFO_SIZE;
	mk_kmem_put64(w->s, d, (uint64_t)state << 62 | id);
	mk_kmem_put64(w->s, d + 8, begin);
	mk_kmem_put64(w->s, d + 16, next);
	memset(w->s->mem + in, 0, INFO_SIZE);
	mk_kmem_put64(w->s, in, w->seq++);
	mk_kmem_put64(w->s, in + 8, ts);
	mk_kmem_put16(w->s, in + 16, (uint16_t)len);
	w->s->mem[in + 18] = 0;				/* facility */
	w->s->mem[in + 19] = (uint8_t)(6 << 5);		/* level 6, flags 0 */
	mk_kmem_put32(w->s, in + 20, w->caller);
	return id;
}

static void prb_header(struct mk_kmem *s, unsigned int count_bits, unsigned int size_bits,
		       uint64_t head_id, uint64_t tail_id)
{
	mk_kmem_put64(s, PRB_SYM, MK_KERNEL_TEXT + PRB_RB);
	mk_kmem_put32(s, PRB_RB + 0, count_bits);
	mk_kmem_put64(s, PRB_RB + 8, MK_KERNEL_TEXT + PRB_DESCS);
	mk_kmem_put64(s, PRB_RB + 16, MK_KERNEL_TEXT + PRB_INFOS);
	mk_kmem_put64(s, PRB_RB + 24, head_id);
	mk_kmem_put64(s, PRB_RB + 32, tail_id);
	mk_kmem_put32(s, PRB_RB + 48, size_bits);
	mk_kmem_put64(s, PRB_RB + 56, MK_KERNEL_VMALLOC);
}

struct collect {
	char out[65536];
	size_t len;
	unsigned int flags;	/* ck_log_format() */
	int records;
	int stop_after;
	uint64_t last_seq;
	bool seq_ordered;
	uint8_t level;
};

static int collect_fn(const struct ck_log_record *rec, void *arg)
{
	struct collect *c = arg;
	if (c->records && rec->seq <= c->last_seq)
		c->seq_ordered = false;
	c->last_seq = rec->seq;
	c->level = rec->level;
	c->len += ck_log_format(rec, c->flags, c->out + c->len, sizeof(c->out) - c->len);
	if (c->len >= sizeof(c->out))
		abort();
	c->records++;
	return c->stop_after && c->records >= c->stop_after;
}

struct written {
	uint64_t id, begin, ts;
	uint32_t caller;
	char text[64];
	size_t len;
	bool shown;	/* committed or finalized, with text */
};

/* The caller_id written for record i: threads and CPUs (bit 31), pid 0
 * (the idle task, "T0"), the largest pid (8 characters, the column's width)
 * and an id wider than the column, which widens it as in makedumpfile. */
static uint32_t ring_caller(int i)
{
	if (i == 55)
		return 4194304;			/* PID_MAX_LIMIT: "T4194304" */
	if (i == 53)
		return 0x80000000u | 123456789;	/* "C123456789" */
	switch (i % 4) {
	case 1: return 0x80000001u;		/* "C1" */
	case 2: return 0;			/* "T0" */
	default: return (uint32_t)(100 * i + 7);
	}
}

/* The expected output of the records shown, as ck_log_format() writes
 * each (the format itself is pinned down by test_log_format). */
static size_t ring_expect(const struct written *rs, int from, int to, bool has_caller,
			  unsigned int flags, char *out, size_t size)
{
	size_t len = 0;
	for (int i = from; i < to; i++) {
		if (!rs[i].shown)
			continue;
		struct ck_log_record rec = { .ts_nsec = rs[i].ts, .text = rs[i].text,
					     .text_len = rs[i].len, .caller_id = rs[i].caller,
					     .has_caller_id = has_caller };
		len += ck_log_format(&rec, flags, out + len, size - len);
	}
	return len;
}

static bool log_equals(struct collect *c, const char *expect, size_t elen)
{
	if (c->len == elen && !memcmp(c->out, expect, elen))
		return true;
	printf("# got:\n%.*s# expected:\n%.*s", (int)c->len, c->out, (int)elen, expect);
	return false;
}

/* A 6.1-style ring, with or without OFFSET(printk_info.caller_id). */
static void test_printk_ring(bool with_caller)
{
	const char *name = with_caller ? "printk ring" : "printk ring without caller ids";
	struct mk_kmem s;
	mk_kernel_init(&s, 4);
	prb_vmcoreinfo_caller(&s, with_caller);
	/* 16 descriptors, 512 bytes of text; ids start just below the top of
	 * the id space, as DESC0_ID does, so they wrap during the test */
	struct prb_writer w = { .s = &s, .count_bits = 4, .size_bits = 9,
				.next_id = ID_MASK - 20, .head_lpos = 0 };
	enum { TOTAL = 60 };
	struct written *rs = calloc(TOTAL, sizeof(*rs));
	for (int i = 0; i < TOTAL; i++) {
		struct written *r = &rs[i];
		r->begin = w.head_lpos;
		r->ts = 1000000000ull * (uint64_t)i + 1234567;
		r->caller = w.caller = ring_caller(i);
		r->shown = true;
		if (i == 55) {
			memcpy(r->text, "two\nlines \x01\xc3", 12);
			r->len = 12;
		} else {
			r->len = (size_t)snprintf(r->text, sizeof(r->text), "message %d%s", i,
						  i % 3 ? "" : " padding padding");
		}
		if (i == 50) {
			r->id = prb_write(&w, 1, NULL, 0, r->ts);	/* data-less */
			r->shown = false;
		} else if (i == TOTAL - 1) {
			r->id = prb_write(&w, 0, r->text, r->len, r->ts);	/* reserved */
			r->shown = false;
		} else {
			r->id = prb_write(&w, i == TOTAL - 2 ? 1 : 2, r->text, r->len, r->ts);
		}
	}
	/* the tail: the oldest record whose descriptor and text are intact */
	int tail = TOTAL - 1;
	while (tail > 0 && TOTAL - tail < 16 && w.head_lpos - rs[tail - 1].begin <= 512)
		tail--;
	/* a record whose text block was since taken over by another record
	 * (its id no longer heads the block) is skipped */
	struct written *victim = &rs[tail + 2];
	uint64_t blk = (8 + victim->len + 7) & ~7ull;
	uint64_t vpos = victim->begin / 512 != (victim->begin + blk) / 512 ? 0 : victim->begin % 512;
	uint8_t other[8] = { 0x42 };
	ring_put(&w, vpos, other, 8);
	victim->shown = false;

	char *plain = calloc(1, 65536), *column = calloc(1, 65536);
	size_t plen = ring_expect(rs, tail, TOTAL, with_caller, 0, plain, 65536);
	size_t clen = ring_expect(rs, tail, TOTAL, with_caller, CK_LOG_FORMAT_CALLER, column, 65536);
	int nexp = 0;
	for (int i = tail; i < TOTAL; i++)
		nexp += rs[i].shown;
	prb_header(&s, w.count_bits, w.size_bits, rs[TOTAL - 1].id, rs[tail].id);
	struct ck_dump *dump;
	struct ck_kernel *k;
	if (!no_error(mk_kmem_open(&s, tpath("kernel.elf"), &dump, &k))) {
		check(false, "%s: open", name);
		mk_kmem_deinit(&s);
		free(rs);
		free(plain);
		free(column);
		return;
	}
	check(ck_kernel_log_has_caller_id(k) == with_caller, "%s: caller ids %s", name,
	      with_caller ? "recorded" : "not recorded");
	struct collect *c = calloc(1, sizeof(*c));
	c->seq_ordered = true;
	c->flags = CK_LOG_FORMAT_CALLER;
	check(no_error(ck_kernel_log_walk(k, collect_fn, c)), "%s: walk succeeds", name);
	check(c->records == nexp && nexp >= 8,
	      "%s: committed and finalized records only (%d of %d)", name, c->records,
	      TOTAL - tail);
	check(log_equals(c, column, clen), "%s: text across wraps and ids past the id mask", name);
	/* facility and level are trusted only where caller_id confirms the
	 * 5.10 layout next to them */
	check(c->seq_ordered && c->level == (with_caller ? 6 : 0), "%s: oldest first, level %s",
	      name, with_caller ? "decoded" : "not guessed");
	if (with_caller) {
		check(strstr(c->out, "[   53.001234] [C123456789] message 53\n") &&
		      strstr(c->out, "[   57.001234] [      C1] message 57 padding padding\n") &&
		      strstr(c->out, "[   58.001234] [      T0] message 58\n") &&
		      strstr(c->out, "[   56.001234] [   T5607] message 56\n"),
		      "%s: caller column, T<pid> and C<cpu> right-aligned in 8, wider ids widen it",
		      name);
		check(strstr(c->out, "[   55.001234] [T4194304] two\n"
				     "                          lines \\x01\\xffffffc3\n") != NULL,
		      "%s: continuation indented by timestamp and caller column", name);
	} else {
		check(clen == plen && !memcmp(column, plain, plen) && !strstr(c->out, "] ["),
		      "%s: no caller column even when asked for", name);
	}
	memset(c, 0, sizeof(*c));
	c->seq_ordered = true;
	check(no_error(ck_kernel_log_walk(k, collect_fn, c)) && log_equals(c, plain, plen) &&
	      strstr(c->out, "[   55.001234] two\n               lines \\x01\\xffffffc3\n"),
	      "%s: without CK_LOG_FORMAT_CALLER, makedumpfile <= 1.7.4's layout", name);
	memset(c, 0, sizeof(*c));
	c->stop_after = 3;
	check(no_error(ck_kernel_log_walk(k, collect_fn, c)) && c->records == 3,
	      "%s: callback stops the walk", name);

	mk_kmem_close(&s, dump, k);
	free(c);
	free(rs);
	free(plain);
	free(column);
}

static void test_printk_garbage(void)
{
	struct mk_kmem s;
	struct ck_dump *dump;
	struct ck_kernel *k;
	struct collect *c = calloc(1, sizeof(*c));

	mk_kernel_init(&s, 4);
	prb_vmcoreinfo(&s);
	prb_header(&s, 40, 9, 5, 1);
	if (no_error(mk_kmem_open(&s, tpath("kernel.elf"), &dump, &k))) {
		check(is_error(ck_kernel_log_walk(k, collect_fn, c), CK_ERR_FORMAT,
			       "descriptor count 2^40 is absurd"),
		      "printk garbage: absurd descriptor count");
		mk_kmem_close(&s, dump, k);
	}

	mk_kernel_init(&s, 4);
	prb_vmcoreinfo(&s);
	prb_header(&s, 4, 9, 1000, 1);
	if (no_error(mk_kmem_open(&s, tpath("kernel.elf"), &dump, &k))) {
		check(is_error(ck_kernel_log_walk(k, collect_fn, c), CK_ERR_FORMAT, "apart"),
		      "printk garbage: head and tail further apart than the ring");
		mk_kmem_close(&s, dump, k);
	}

	mk_kernel_init(&s, 4);
	prb_vmcoreinfo(&s);
	prb_header(&s, 4, 40, 1, 1);
	if (no_error(mk_kmem_open(&s, tpath("kernel.elf"), &dump, &k))) {
		check(is_error(ck_kernel_log_walk(k, collect_fn, c), CK_ERR_FORMAT, "text ring size"),
		      "printk garbage: absurd text ring size");
		mk_kmem_close(&s, dump, k);
	}

	/* descriptors pointing nowhere */
	mk_kernel_init(&s, 4);
	prb_vmcoreinfo(&s);
	prb_header(&s, 4, 9, 3, 1);
	mk_kmem_put64(&s, PRB_RB + 8, MK_KERNEL_VMALLOC + 64 * MK_4K);
	if (no_error(mk_kmem_open(&s, tpath("kernel.elf"), &dump, &k))) {
		check(is_error(ck_kernel_log_walk(k, collect_fn, c), CK_ERR_FAULT, "descriptors"),
		      "printk garbage: unmapped descriptor array");
		mk_kmem_close(&s, dump, k);
	}

	/* random descriptors, infos and text: no record holds together */
	mk_kernel_init(&s, 4);
	prb_vmcoreinfo(&s);
	prb_header(&s, 4, 9, 20, 5);
	srand(7);
	for (uint64_t i = 0; i < 0x6000; i++)
		s.mem[PRB_DESCS + i] = (uint8_t)rand();
	for (uint64_t i = 0; i < 16 * MK_4K; i++)
		s.mem[MK_KERNEL_VMALLOC_PA + i] = (uint8_t)rand();
	if (no_error(mk_kmem_open(&s, tpath("kernel.elf"), &dump, &k))) {
		memset(c, 0, sizeof(*c));
		check(no_error(ck_kernel_log_walk(k, collect_fn, c)) && c->records == 0,
		      "printk garbage: random ring walks to the end, nothing emitted");
		mk_kmem_close(&s, dump, k);
	}

	/* sound descriptors whose text ring was wiped: an error, not an
	 * empty log */
	mk_kernel_init(&s, 4);
	prb_vmcoreinfo(&s);
	{
		struct prb_writer w = { .s = &s, .count_bits = 4, .size_bits = 9, .next_id = 1 };
		uint64_t first = prb_write(&w, 2, "one", 3, 1);
		uint64_t last = prb_write(&w, 2, "two", 3, 2);
		prb_header(&s, 4, 9, last, first);
		memset(s.mem + MK_KERNEL_VMALLOC_PA, 0, 16 * MK_4K);
	}
	if (no_error(mk_kmem_open(&s, tpath("kernel.elf"), &dump, &k))) {
		check(is_error(ck_kernel_log_walk(k, collect_fn, c), CK_ERR_FORMAT,
			       "none of its 2 finished records has a valid text block (first: id 0x1"),
		      "printk garbage: no record readable is an error naming the first");
		mk_kmem_close(&s, dump, k);
	}

	/* a huge ring of zeros, as an ELF segment's memsz past its filesz
	 * reads: the walk stops after PRB_MAX_GAP unfinished descriptors
	 * instead of walking 2^20 of them, and reads the text ring by block
	 * (2 GiB claimed) instead of allocating it */
	mk_kernel_init(&s, 4);
	prb_vmcoreinfo(&s);
	prb_header(&s, 20, 31, (1u << 20) - 1, 1);
	if (no_error(mk_kmem_open(&s, tpath("kernel.elf"), &dump, &k))) {
		check(is_error(ck_kernel_log_walk(k, collect_fn, c), CK_ERR_FORMAT,
			       "65536 descriptors in a row up to id 0x10000 are not finished records"),
		      "printk garbage: a ring of zero descriptors ends after 65536");
		mk_kmem_close(&s, dump, k);
	}

	/* a text ring over 16 MiB is read block by block: the records still
	 * come out whole */
	mk_kernel_init(&s, 4);
	prb_vmcoreinfo(&s);
	{
		struct prb_writer w = { .s = &s, .count_bits = 4, .size_bits = 25, .next_id = 1 };
		uint64_t first = prb_write(&w, 2, "one", 3, 1);
		prb_write(&w, 2, "two", 3, 2);
		uint64_t last = prb_write(&w, 2, "three", 5, 3);
		prb_header(&s, 4, 25, last, first);
	}
	if (no_error(mk_kmem_open(&s, tpath("kernel.elf"), &dump, &k))) {
		memset(c, 0, sizeof(*c));
		check(no_error(ck_kernel_log_walk(k, collect_fn, c)) && c->records == 3 &&
			      strstr(c->out, "three"),
		      "printk: a 32 MiB text ring read block by block (%d records)", c->records);
		mk_kmem_close(&s, dump, k);
	}

	/* a layout whose offsets lie outside its sizes */
	mk_kernel_init(&s, 4);
	prb_vmcoreinfo(&s);
	mk_kmem_vmci(&s, "OFFSET(printk_info.ts_nsec)=4000\n");
	prb_header(&s, 4, 9, 1, 1);
	if (no_error(mk_kmem_open(&s, tpath("kernel.elf"), &dump, &k))) {
		check(is_error(ck_kernel_log_walk(k, collect_fn, c), CK_ERR_FORMAT, "outside"),
		      "printk garbage: VMCOREINFO offsets outside the structure");
		mk_kmem_close(&s, dump, k);
	}

	/* no log at all */
	mk_kernel_init(&s, 4);
	if (no_error(mk_kmem_open(&s, tpath("kernel.elf"), &dump, &k))) {
		check(is_error(ck_kernel_log_walk(k, collect_fn, c), CK_ERR_UNSUPPORTED, "SYMBOL(prb)"),
		      "printk: no log described");
		mk_kmem_close(&s, dump, k);
	}
	free(c);
}

/* ---- legacy structured buffer (3.5 - 5.9) ------------------------------- */

#define LOG_HDR 16	/* struct printk_log: ts 0, len 8, text_len 10, dict_len 12 */
/* CONFIG_PRINTK_CALLER (5.1-5.9) adds u32 caller_id at 16; x86_64 packs
 * the struct (__packed __aligned(4)) and aligns records to 4 */
#define LOG_HDR_CALLER 20

static uint32_t legacy_put_caller(struct mk_kmem *s, uint64_t buf, uint32_t idx, uint32_t hdr,
				  const char *text, uint64_t ts, uint32_t caller)
{
	uint32_t tl = (uint32_t)strlen(text);
	uint32_t align = hdr == LOG_HDR ? 8 : 4;
	uint32_t len = (hdr + tl + align - 1) & ~(align - 1);
	mk_kmem_put64(s, buf + idx, ts);
	mk_kmem_put16(s, buf + idx + 8, (uint16_t)len);
	mk_kmem_put16(s, buf + idx + 10, (uint16_t)tl);
	mk_kmem_put16(s, buf + idx + 12, 0);
	s->mem[buf + idx + 14] = 0;
	s->mem[buf + idx + 15] = (uint8_t)(4 << 5);
	if (hdr == LOG_HDR_CALLER)
		mk_kmem_put32(s, buf + idx + 16, caller);
	memcpy(s->mem + buf + idx + hdr, text, tl);
	return idx + len;
}

static uint32_t legacy_put(struct mk_kmem *s, uint64_t buf, uint32_t idx, const char *text,
			   uint64_t ts)
{
	return legacy_put_caller(s, buf, idx, LOG_HDR, text, ts, 0);
}

static void test_printk_legacy(void)
{
	struct mk_kmem s;
	mk_kernel_init(&s, 4);
	uint64_t sym = PRB_PA, buf = PRB_PA + 0x1000;
	uint32_t blen = 256;
	mk_kmem_vmci(&s, "SYMBOL(log_buf)=%" PRIx64 "\n", MK_KERNEL_TEXT + sym);
	mk_kmem_vmci(&s, "SYMBOL(log_buf_len)=%" PRIx64 "\n", MK_KERNEL_TEXT + sym + 8);
	mk_kmem_vmci(&s, "SYMBOL(log_first_idx)=%" PRIx64 "\n", MK_KERNEL_TEXT + sym + 12);
	mk_kmem_vmci(&s, "SYMBOL(log_next_idx)=%" PRIx64 "\n", MK_KERNEL_TEXT + sym + 16);
	mk_kmem_vmci(&s, "SIZE(printk_log)=16\nOFFSET(printk_log.ts_nsec)=0\nOFFSET(printk_log.len)=8\n"
		     "OFFSET(printk_log.text_len)=10\nOFFSET(printk_log.dict_len)=12\n");
	mk_kmem_put64(&s, sym, MK_KERNEL_TEXT + buf);
	mk_kmem_put32(&s, sym + 8, blen);
	/* oldest record near the end, a wrap marker, then two at the start */
	uint32_t first = 160;
	uint32_t i = legacy_put(&s, buf, first, "old record", 1000000);
	i = legacy_put(&s, buf, i, "older wraps next", 2000000);
	mk_kmem_put16(&s, buf + i + 8, 0);	/* end marker */
	uint32_t n = legacy_put(&s, buf, 0, "after wrap", 3000000);
	n = legacy_put(&s, buf, n, "newest", 4000000);
	mk_kmem_put32(&s, sym + 12, first);
	mk_kmem_put32(&s, sym + 16, n);
	struct ck_dump *dump;
	struct ck_kernel *k;
	struct collect *c = calloc(1, sizeof(*c));
	if (no_error(mk_kmem_open(&s, tpath("kernel.elf"), &dump, &k))) {
		bool ok = no_error(ck_kernel_log_walk(k, collect_fn, c));
		const char *want = "[    0.001000] old record\n[    0.002000] older wraps next\n"
				   "[    0.003000] after wrap\n[    0.004000] newest\n";
		check(ok && c->records == 4 && !strcmp(c->out, want) && c->level == 4,
		      "printk legacy: records across the wrap marker");
		memset(c, 0, sizeof(*c));
		c->flags = CK_LOG_FORMAT_CALLER;
		check(!ck_kernel_log_has_caller_id(k) &&
		      no_error(ck_kernel_log_walk(k, collect_fn, c)) && !strcmp(c->out, want),
		      "printk legacy without CONFIG_PRINTK_CALLER: no caller column even when asked for");
		mk_kmem_close(&s, dump, k);
	}

	/* a cycle: the record after the last leads back to the first */
	mk_kernel_init(&s, 4);
	mk_kmem_vmci(&s, "SYMBOL(log_buf)=%" PRIx64 "\n", MK_KERNEL_TEXT + sym);
	mk_kmem_vmci(&s, "SYMBOL(log_buf_len)=%" PRIx64 "\n", MK_KERNEL_TEXT + sym + 8);
	mk_kmem_vmci(&s, "SYMBOL(log_first_idx)=%" PRIx64 "\n", MK_KERNEL_TEXT + sym + 12);
	mk_kmem_vmci(&s, "SYMBOL(log_next_idx)=%" PRIx64 "\n", MK_KERNEL_TEXT + sym + 16);
	mk_kmem_vmci(&s, "SIZE(log)=16\nOFFSET(log.ts_nsec)=0\nOFFSET(log.len)=8\n"
		     "OFFSET(log.text_len)=10\n");
	mk_kmem_put64(&s, sym, MK_KERNEL_TEXT + buf);
	mk_kmem_put32(&s, sym + 8, blen);
	i = legacy_put(&s, buf, 0, "a", 1);
	i = legacy_put(&s, buf, i, "b", 2);
	mk_kmem_put16(&s, buf + i + 8, 0);	/* wraps to 0 forever: next_idx never reached */
	mk_kmem_put32(&s, sym + 12, 0);
	mk_kmem_put32(&s, sym + 16, 200);
	if (no_error(mk_kmem_open(&s, tpath("kernel.elf"), &dump, &k))) {
		memset(c, 0, sizeof(*c));
		check(is_error(ck_kernel_log_walk(k, collect_fn, c), CK_ERR_FORMAT, "cycle"),
		      "printk legacy: cycle detected (struct log naming, before 3.11)");
		mk_kmem_close(&s, dump, k);
	}
	free(c);
}

/* The structured buffer of a 5.1-5.9 kernel built with CONFIG_PRINTK_CALLER:
 * VMCOREINFO has OFFSET(printk_log.caller_id), makedumpfile 1.7.5+ prints
 * the caller column. */
static void test_printk_legacy_caller(void)
{
	struct mk_kmem s;
	mk_kernel_init(&s, 4);
	uint64_t sym = PRB_PA, buf = PRB_PA + 0x1000;
	mk_kmem_vmci(&s, "SYMBOL(log_buf)=%" PRIx64 "\n", MK_KERNEL_TEXT + sym);
	mk_kmem_vmci(&s, "SYMBOL(log_buf_len)=%" PRIx64 "\n", MK_KERNEL_TEXT + sym + 8);
	mk_kmem_vmci(&s, "SYMBOL(log_first_idx)=%" PRIx64 "\n", MK_KERNEL_TEXT + sym + 12);
	mk_kmem_vmci(&s, "SYMBOL(log_next_idx)=%" PRIx64 "\n", MK_KERNEL_TEXT + sym + 16);
	mk_kmem_vmci(&s, "SIZE(printk_log)=20\nOFFSET(printk_log.ts_nsec)=0\nOFFSET(printk_log.len)=8\n"
		     "OFFSET(printk_log.text_len)=10\nOFFSET(printk_log.dict_len)=12\n"
		     "OFFSET(printk_log.caller_id)=16\n");
	mk_kmem_put64(&s, sym, MK_KERNEL_TEXT + buf);
	mk_kmem_put32(&s, sym + 8, 256);
	uint32_t first = 180;
	uint32_t i = legacy_put_caller(&s, buf, first, LOG_HDR_CALLER, "boot cpu", 0, 0);
	i = legacy_put_caller(&s, buf, i, LOG_HDR_CALLER, "from irq", 1500000, 0x80000001u);
	mk_kmem_put16(&s, buf + i + 8, 0);	/* end marker */
	uint32_t n = legacy_put_caller(&s, buf, 0, LOG_HDR_CALLER, "two\nlines", 2000000, 1234);
	mk_kmem_put32(&s, sym + 12, first);
	mk_kmem_put32(&s, sym + 16, n);
	struct ck_dump *dump;
	struct ck_kernel *k;
	struct collect *c = calloc(1, sizeof(*c));
	if (no_error(mk_kmem_open(&s, tpath("kernel.elf"), &dump, &k))) {
		check(ck_kernel_log_has_caller_id(k), "printk legacy caller: caller ids recorded");
		c->flags = CK_LOG_FORMAT_CALLER;
		bool ok = no_error(ck_kernel_log_walk(k, collect_fn, c));
		const char *want = "[    0.000000] [      T0] boot cpu\n"
				   "[    0.001500] [      C1] from irq\n"
				   "[    0.002000] [   T1234] two\n"
				   "                          lines\n";
		check(ok && c->records == 3 && !strcmp(c->out, want) && c->level == 4,
		      "printk legacy caller: T<pid> and C<cpu> columns, continuation indented");
		if (strcmp(c->out, want))
			printf("# got:\n%s# expected:\n%s", c->out, want);
		memset(c, 0, sizeof(*c));
		ok = no_error(ck_kernel_log_walk(k, collect_fn, c));
		check(ok && !strcmp(c->out, "[    0.000000] boot cpu\n[    0.001500] from irq\n"
					    "[    0.002000] two\n               lines\n"),
		      "printk legacy caller: without CK_LOG_FORMAT_CALLER, no column");
		mk_kmem_close(&s, dump, k);
	}

	/* a caller_id offset outside the record header */
	mk_kernel_init(&s, 4);
	mk_kmem_vmci(&s, "SYMBOL(log_buf)=%" PRIx64 "\n", MK_KERNEL_TEXT + sym);
	mk_kmem_vmci(&s, "SYMBOL(log_buf_len)=%" PRIx64 "\n", MK_KERNEL_TEXT + sym + 8);
	mk_kmem_vmci(&s, "SYMBOL(log_first_idx)=%" PRIx64 "\n", MK_KERNEL_TEXT + sym + 12);
	mk_kmem_vmci(&s, "SYMBOL(log_next_idx)=%" PRIx64 "\n", MK_KERNEL_TEXT + sym + 16);
	mk_kmem_vmci(&s, "SIZE(printk_log)=16\nOFFSET(printk_log.ts_nsec)=0\nOFFSET(printk_log.len)=8\n"
		     "OFFSET(printk_log.text_len)=10\nOFFSET(printk_log.caller_id)=14\n");
	mk_kmem_put64(&s, sym, MK_KERNEL_TEXT + buf);
	mk_kmem_put32(&s, sym + 8, 256);
	if (no_error(mk_kmem_open(&s, tpath("kernel.elf"), &dump, &k))) {
		memset(c, 0, sizeof(*c));
		check(is_error(ck_kernel_log_walk(k, collect_fn, c), CK_ERR_FORMAT, "outside"),
		      "printk legacy caller: caller_id offset outside SIZE(printk_log)");
		mk_kmem_close(&s, dump, k);
	}
	free(c);
}

/* ---- formatting --------------------------------------------------------- */

static void test_log_format(void)
{
	struct ck_log_record rec = { .ts_nsec = 1234567891, .text = "hello", .text_len = 5 };
	char buf[128];
	size_t n = ck_log_format(&rec, 0, buf, sizeof(buf));
	check(n == 21 && !strcmp(buf, "[    1.234567] hello\n"), "format: prefix and newline");
	rec.ts_nsec = 123456ull * 1000000000 + 5000;
	n = ck_log_format(&rec, 0, buf, sizeof(buf));
	check(!strcmp(buf, "[123456.000005] hello\n"), "format: wide timestamp");
	rec.text = "a\nb";
	rec.text_len = 3;
	n = ck_log_format(&rec, 0, buf, sizeof(buf));
	check(!strcmp(buf, "[123456.000005] a\n                b\n"),
	      "format: continuation indented by the prefix width");
	rec.ts_nsec = 0;
	rec.text = "t\tx\x1b\x7f\xff\0z";
	rec.text_len = 8;
	n = ck_log_format(&rec, 0, buf, sizeof(buf));
	check(!strcmp(buf, "[    0.000000] t\tx\\x1b\\x7f\\xffffffff\\x00z\n"),
	      "format: control bytes escaped, high bytes sign-extended like makedumpfile");
	char small[8];
	size_t need = ck_log_format(&rec, 0, small, sizeof(small));
	check(need == n && !strcmp(small, "[    0."), "format: truncates like snprintf");
	check(ck_log_format(&rec, 0, NULL, 0) == n, "format: size query with no buffer");
	rec.text_len = 0;
	ck_log_format(&rec, 0, buf, sizeof(buf));
	check(!strcmp(buf, "[    0.000000] \n"), "format: empty text");

	/* makedumpfile 1.7.5+'s caller column */
	struct ck_log_record cr = { .ts_nsec = 1500000000, .text = "a\nb", .text_len = 3,
				    .has_caller_id = true, .caller_id = 0 };
	n = ck_log_format(&cr, CK_LOG_FORMAT_CALLER, buf, sizeof(buf));
	check(n == 56 && !strcmp(buf, "[    1.500000] [      T0] a\n                          b\n"),
	      "format: caller T0, continuation indented by both columns");
	cr.caller_id = CK_LOG_CALLER_CPU | 1;
	cr.text_len = 1;
	ck_log_format(&cr, CK_LOG_FORMAT_CALLER, buf, sizeof(buf));
	check(!strcmp(buf, "[    1.500000] [      C1] a\n"), "format: caller on CPU 1 is C1");
	cr.caller_id = 4194304;
	ck_log_format(&cr, CK_LOG_FORMAT_CALLER, buf, sizeof(buf));
	check(!strcmp(buf, "[    1.500000] [T4194304] a\n"), "format: the largest pid fills the column");
	cr.caller_id = 0xffffffffu;
	ck_log_format(&cr, CK_LOG_FORMAT_CALLER, buf, sizeof(buf));
	check(!strcmp(buf, "[    1.500000] [C2147483647] a\n"), "format: a wider id widens the column");
	cr.caller_id = 7;
	ck_log_format(&cr, 0, buf, sizeof(buf));
	check(!strcmp(buf, "[    1.500000] a\n"), "format: caller id but no flag: no column");
	cr.has_caller_id = false;
	ck_log_format(&cr, CK_LOG_FORMAT_CALLER, buf, sizeof(buf));
	check(!strcmp(buf, "[    1.500000] a\n"), "format: flag but no caller id: no column");
}

int main(void)
{
	int r = harness_begin("printk");
	if (r)
		return r;
	test_printk_ring(true);
	test_printk_ring(false);
	test_printk_garbage();
	test_printk_legacy();
	test_printk_legacy_caller();
	test_log_format();
	return harness_end();
}
