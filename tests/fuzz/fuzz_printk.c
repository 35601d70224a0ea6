/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the printk ring (lib/walk/printk.c, the lockless ring of
 * Linux 5.10+) of a synthetic kernel (tests/mkdump.h mk_kernel).  The ring
 * is packed into one page of kernel memory, laid out as the 6.1 x86_64
 * VMCOREINFO describes it:
 *
 *   +0x000  struct printk_ringbuffer *prb    (SYMBOL(prb))
 *   +0x040  struct printk_ringbuffer          (desc ring, text data ring, fail)
 *   +0x100  16 struct prb_desc                (state_var, text_blk_lpos)
 *   +0x280  16 struct printk_info             (seq, ts_nsec, text_len, caller_id, ...)
 *   +0x800  the 2 KiB text data ring
 *
 * Input byte 0: bit 0 says whether VMCOREINFO has
 * OFFSET(printk_info.caller_id); the rest is that page (what it does not
 * reach is zeros).  The walk formats every record as makedumpfile does.
 */
#include <inttypes.h>

#include "fuzz.h"

#define RING_PA		UINT64_C(0x300000)
#define RB		0x40
#define DESCS		0x100
#define INFOS		0x280
#define DATA		0x800
#define COUNT_BITS	4
#define SIZE_BITS	11
#define ID_MASK		(~(UINT64_C(3) << 62))

static struct fz_kernel fk;
static char vmci[2][32768];
static size_t vmci_len[2];

static uint64_t va(uint64_t off)
{
	return MK_KERNEL_TEXT + RING_PA + off;
}

static void setup(void)
{
	mk_kernel_init(&fk.k, 4);
	for (int caller = 0; caller < 2; caller++) {
		int n = snprintf(vmci[caller], sizeof(vmci[caller]),
			"%.*sSYMBOL(prb)=%" PRIx64 "\n"
			"%s%s",
			(int)fk.k.vmci_len, fk.k.vmci, va(0), MK_PRB_VMCOREINFO,
			caller ? "OFFSET(printk_info.caller_id)=20\n" : "");
		if (n < 0 || (size_t)n >= sizeof(vmci[caller]))
			abort();
		vmci_len[caller] = (size_t)n;
	}
	fz_kernel_begin(&fk, "fuzz_printk");
}

struct sink {
	char line[512];
	uint64_t records;
};

static int record_fn(const struct ck_log_record *rec, void *arg)
{
	struct sink *s = arg;
	if (rec->text_len && !rec->text)
		abort();
	size_t need = ck_log_format(rec, CK_LOG_FORMAT_CALLER, s->line, sizeof(s->line));
	if (need < sizeof(s->line) && strlen(s->line) != need)
		abort();
	ck_log_format(rec, 0, s->line, 16);
	return ++s->records > 100000;	/* a walk must end on its own; this is a backstop */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	static uint8_t page[4096];
	if (!ready) {
		setup();
		ready = true;
	}
	if (!size)
		return 0;
	int caller = data[0] & 1;
	size_t n = size - 1 < sizeof(page) ? size - 1 : sizeof(page);
	memset(page, 0, sizeof(page));
	memcpy(page, data + 1, n);
	fz_kernel_patch(&fk, RING_PA, page, sizeof(page));
	if (!fz_kernel_header(&fk, vmci[caller], vmci_len[caller]))
		abort();

	struct ck_dump *dump;
	struct ck_kernel *kernel;
	struct ck_error *err = fz_kernel_open(&fk, &dump, &kernel);
	if (err) {
		fz_drop(err);
		return 0;
	}
	struct sink s = { .records = 0 };
	ck_kernel_log_has_caller_id(kernel);
	fz_drop(ck_kernel_log_walk(kernel, record_fn, &s));
	if (getenv("FZ_DEBUG"))
		fprintf(stderr, "fz: %" PRIu64 " records\n", s.records);
	ck_kernel_destroy(kernel);
	ck_dump_destroy(dump);
	return 0;
}

/* ---- seeds: rings as prb_reserve() fills them ---------------------------- */

struct ring {
	uint8_t p[4096];
	uint64_t head_lpos, next_id, seq;
};

static void put64(struct ring *r, size_t off, uint64_t v)
{
	v = htole64(v);
	memcpy(r->p + off, &v, 8);
}

static void put32(struct ring *r, size_t off, uint32_t v)
{
	v = htole32(v);
	memcpy(r->p + off, &v, 4);
}

/* state 1: committed, 2: finalized, 0: reserved, 3: reusable; text NULL:
 * a data-less record. */
static void ring_write(struct ring *r, unsigned state, const char *text, uint32_t caller)
{
	uint64_t id = r->next_id;
	r->next_id = (r->next_id + 1) & ID_MASK;
	uint64_t size = 1u << SIZE_BITS, begin = 3, next = 3;	/* NO_LPOS */
	size_t len = text ? strlen(text) : 0;
	if (text) {
		uint64_t blk = (8 + len + 7) & ~UINT64_C(7);
		begin = r->head_lpos;
		next = begin + blk;
		uint64_t at = begin % size;
		if (begin / size != (next - 1) / size) {
			/* wraps: the id at the end, the block whole at the start */
			put64(r, DATA + at, id);
			next = (begin / size + 1) * size + blk;
			at = 0;
		}
		put64(r, DATA + at, id);
		memcpy(r->p + DATA + at + 8, text, len);
		r->head_lpos = next;
	}
	size_t idx = id & ((1u << COUNT_BITS) - 1);
	size_t d = DESCS + idx * 24, in = INFOS + idx * 88;
	put64(r, d, (uint64_t)state << 62 | id);
	put64(r, d + 8, begin);
	put64(r, d + 16, next);
	memset(r->p + in, 0, 88);
	put64(r, in, r->seq++);
	put64(r, in + 8, 1000000ull * r->seq + 123);
	r->p[in + 16] = (uint8_t)len;
	r->p[in + 17] = (uint8_t)(len >> 8);
	r->p[in + 19] = (uint8_t)(6 << 5);
	put32(r, in + 20, caller);
}

static void ring_seed(const char *dir, const char *name, uint64_t first_id, int nr, bool caller)
{
	static struct ring r;
	memset(&r, 0, sizeof(r));
	r.next_id = first_id;
	uint64_t tail_lpos = 0, tail_id = first_id;
	char text[96];
	for (int i = 0; i < nr; i++) {
		int len = snprintf(text, sizeof(text), "record %d: %.*s", i, 10 + (i * 7) % 60,
				   "the quick brown fox jumps over the lazy dog, again and again!");
		(void)len;
		unsigned state = i == nr - 1 ? 1 : 2;
		if (i % 9 == 4)
			ring_write(&r, 2, NULL, 0);
		else
			ring_write(&r, i == 6 ? 3 : state, text,
				   i % 3 ? (uint32_t)(100 + i) : 0x80000000u | (uint32_t)i);
	}
	/* the oldest record still in both rings */
	uint64_t head_id = (r.next_id - 1) & ID_MASK;
	uint64_t live = nr > 12 ? 12 : (uint64_t)nr;
	tail_id = (r.next_id - live) & ID_MASK;
	size_t tidx = tail_id & ((1u << COUNT_BITS) - 1);
	memcpy(&tail_lpos, r.p + DESCS + tidx * 24 + 8, 8);
	if (tail_lpos == 3)
		tail_lpos = r.head_lpos;
	put64(&r, 0, va(RB));
	put32(&r, RB + 0, COUNT_BITS);
	put64(&r, RB + 8, va(DESCS));
	put64(&r, RB + 16, va(INFOS));
	put64(&r, RB + 24, head_id);
	put64(&r, RB + 32, tail_id);
	put32(&r, RB + 48, SIZE_BITS);
	put64(&r, RB + 56, va(DATA));
	put64(&r, RB + 64, r.head_lpos);
	put64(&r, RB + 72, tail_lpos);
	static uint8_t seed[1 + 4096];
	seed[0] = caller;
	memcpy(seed + 1, r.p, sizeof(r.p));
	fz_seed(dir, name, seed, sizeof(seed));
}

static void fz_seeds(const char *dir)
{
	/* ids start where the kernel starts them: -(count + 1) wrapped */
	uint64_t start = (UINT64_C(0) - (1u << COUNT_BITS) - 1) & ID_MASK & ~UINT64_C(0);
	ring_seed(dir, "few", start & ID_MASK, 5, true);
	ring_seed(dir, "few-no-caller", start & ID_MASK, 5, false);
	ring_seed(dir, "wrapped", 0, 30, true);
	ring_seed(dir, "ids-wrap", ID_MASK - 6, 14, true);
}
