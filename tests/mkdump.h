/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mkdump: writes small crash dumps from compact specs, for tests.
 *
 *   mk_elf()      ELF64 vmcore: PT_NOTE (VMCOREINFO, NT_PRSTATUS, optionally
 *                 QEMU notes) and PT_LOADs that may overlap, be partly
 *                 file-backed (p_filesz < p_memsz) or cover part of a page.
 *   mk_kdump()    kdump-compressed, header versions 1-6 or DISKDUMP, one kind
 *                 per pfn (not RAM, excluded, raw, zero, or compressed with
 *                 zlib/lzo/snappy/zstd), optionally split or incomplete.
 *   mk_flatten()  makedumpfile's flattened stream of any file, in chunks, in
 *                 order or shuffled, with an optional overwritten record.
 *
 * Memory contents are a function of the physical address (mk_byte()), so a
 * test knows what every readable byte must be.  The layouts come from
 * lib/dump/kdump_format.h and lib/dump/flattened_format.h; real dumps and the
 * libkdumpfile cross-check keep those honest.
 */
#ifndef CRASHKIT_TESTS_MKDUMP_H
#define CRASHKIT_TESTS_MKDUMP_H

#include <elf.h>
#include <endian.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "dump/flattened_format.h"
#include "dump/kdump_format.h"

#define MK_FN static __attribute__((unused))

/* ---- contents ------------------------------------------------------------ */

MK_FN uint64_t mk_rand(uint64_t *state)
{
	/* xorshift64*: deterministic, seeded per test */
	uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/*
 * The byte at physical address a.  Pages whose pfn (4 KiB) is 3 mod 8 are all
 * zeros, to exercise zero-page sharing; the first half of a page is
 * compressible, the second half is not.
 */
MK_FN uint8_t mk_byte(uint64_t a)
{
	uint64_t pfn = a >> 12, in = a & 0xfff;
	if (pfn % 8 == 3)
		return 0;
	if (in < 2048)
		return (uint8_t)(pfn * 7 + (in >> 6));
	uint64_t h = a * 0x9e3779b97f4a7c15ull;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return (uint8_t)(h >> 32);
}

MK_FN void mk_fill(uint8_t *buf, uint64_t addr, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = mk_byte(addr + i);
}

/* ---- output helpers --------------------------------------------------------- */

struct mk_buf {
	uint8_t *data;
	size_t len, cap;
};

MK_FN void mk_buf_reserve(struct mk_buf *b, size_t len)
{
	if (len <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < len)
		cap *= 2;
	b->data = realloc(b->data, cap);
	if (!b->data)
		abort();
	memset(b->data + b->cap, 0, cap - b->cap);
	b->cap = cap;
}

/* Writes len bytes at off, growing (zero-filled) as needed. */
MK_FN void mk_buf_put(struct mk_buf *b, size_t off, const void *p, size_t len)
{
	if (!len)
		return;
	mk_buf_reserve(b, off + len);
	memcpy(b->data + off, p, len);
	if (off + len > b->len)
		b->len = off + len;
}

MK_FN void mk_buf_append(struct mk_buf *b, const void *p, size_t len)
{
	mk_buf_put(b, b->len, p, len);
}

MK_FN int mk_buf_write(const struct mk_buf *b, const char *path)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t n = b->len ? fwrite(b->data, 1, b->len, f) : 0;
	int r = fclose(f);
	return n == b->len && r == 0 ? 0 : -1;
}

MK_FN int mk_read_file(const char *path, struct mk_buf *b)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	uint8_t chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		mk_buf_append(b, chunk, n);
	fclose(f);
	return 0;
}

/* One ELF note, 4-byte aligned, as the kernel writes them. */
MK_FN void mk_note(struct mk_buf *b, const char *name, uint32_t type, const void *desc,
		   size_t descsz)
{
	uint32_t namesz = strlen(name) + 1;
	uint32_t hdr[3] = { namesz, (uint32_t)descsz, type };
	static const uint8_t zero[4];
	mk_buf_append(b, hdr, sizeof(hdr));
	mk_buf_append(b, name, namesz);
	mk_buf_append(b, zero, (4 - namesz % 4) % 4);
	if (descsz)
		mk_buf_append(b, desc, descsz);
	mk_buf_append(b, zero, (4 - descsz % 4) % 4);
}

/* VMCOREINFO + nr_prstatus NT_PRSTATUS (336 bytes, the x86_64 size) +
 * optionally one "QEMU" note per CPU. */
MK_FN void mk_notes(struct mk_buf *b, const char *vmcoreinfo, int nr_prstatus, bool qemu)
{
	uint8_t prstatus[336];
	for (int i = 0; i < nr_prstatus; i++) {
		memset(prstatus, 0x40 + i, sizeof(prstatus));
		mk_note(b, "CORE", NT_PRSTATUS, prstatus, sizeof(prstatus));
	}
	if (qemu) {
		uint8_t cpustate[440];
		memset(cpustate, 0x51, sizeof(cpustate));
		for (int i = 0; i < nr_prstatus; i++)
			mk_note(b, "QEMU", 0, cpustate, sizeof(cpustate));
	}
	if (vmcoreinfo)
		mk_note(b, "VMCOREINFO", 0, vmcoreinfo, strlen(vmcoreinfo));
}

/* ---- ELF ----------------------------------------------------------------- */

struct mk_seg {
	uint64_t paddr;
	uint64_t memsz;
	uint64_t filesz;
	uint64_t vaddr;
};

struct mk_elf_spec {
	const struct mk_seg *segs;
	size_t nr_segs;
	const char *vmcoreinfo;	/* NULL: none */
	int nr_prstatus;
	bool qemu;		/* QEMU notes */
	uint32_t e_flags;
	uint16_t machine;	/* 0: EM_X86_64 */
	bool xnum;		/* e_phnum = PN_XNUM, the count in section 0 */
};

/* An ELF64 little-endian core header whose program headers follow it. */
MK_FN void mk_elf_header(Elf64_Ehdr *eh, uint16_t machine, uint16_t phnum)
{
	memset(eh, 0, sizeof(*eh));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_CORE;
	eh->e_machine = machine;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = phnum;
}

MK_FN int mk_elf_buf(const struct mk_elf_spec *s, struct mk_buf *out)
{
	struct mk_buf notes = { 0 };
	mk_notes(&notes, s->vmcoreinfo, s->nr_prstatus, s->qemu);
	Elf64_Ehdr eh;
	mk_elf_header(&eh, s->machine ? s->machine : EM_X86_64, 1 + s->nr_segs);
	eh.e_flags = s->e_flags;
	mk_buf_put(out, 0, &eh, sizeof(eh));

	uint64_t off = sizeof(eh) + (1 + s->nr_segs) * sizeof(Elf64_Phdr);
	Elf64_Phdr ph;
	memset(&ph, 0, sizeof(ph));
	ph.p_type = PT_NOTE;
	ph.p_offset = off;
	ph.p_filesz = ph.p_memsz = notes.len;
	mk_buf_put(out, sizeof(eh), &ph, sizeof(ph));
	mk_buf_put(out, off, notes.data, notes.len);
	off += notes.len;
	free(notes.data);

	for (size_t i = 0; i < s->nr_segs; i++) {
		const struct mk_seg *g = &s->segs[i];
		memset(&ph, 0, sizeof(ph));
		ph.p_type = PT_LOAD;
		ph.p_flags = PF_R | PF_W | PF_X;
		ph.p_offset = off;
		ph.p_vaddr = g->vaddr;
		ph.p_paddr = g->paddr;
		ph.p_filesz = g->filesz;
		ph.p_memsz = g->memsz;
		ph.p_align = 0;
		mk_buf_put(out, sizeof(eh) + (1 + i) * sizeof(ph), &ph, sizeof(ph));
		mk_buf_reserve(out, off + g->filesz);
		mk_fill(out->data + off, g->paddr, g->filesz);
		if (off + g->filesz > out->len)
			out->len = off + g->filesz;
		off += g->filesz;
	}
	if (s->xnum) {
		/* ELF extended numbering, as makedumpfile writes it */
		Elf64_Shdr sh;
		memset(&sh, 0, sizeof(sh));
		sh.sh_type = SHT_NULL;
		sh.sh_size = 1;
		sh.sh_info = 1 + s->nr_segs;
		eh.e_phnum = PN_XNUM;
		eh.e_shoff = off;
		eh.e_shentsize = sizeof(sh);
		eh.e_shnum = 1;
		mk_buf_put(out, off, &sh, sizeof(sh));
		mk_buf_put(out, 0, &eh, sizeof(eh));
	}
	return 0;
}

MK_FN int mk_elf(const char *path, const struct mk_elf_spec *s)
{
	struct mk_buf b = { 0 };
	mk_elf_buf(s, &b);
	int r = mk_buf_write(&b, path);
	free(b.data);
	return r;
}

/* ---- kdump-compressed ---------------------------------------------------- */

enum mk_kind {
	MK_NOT_RAM,	/* in neither bitmap */
	MK_EXCLUDED,	/* 1st bitmap only */
	MK_RAW,		/* saved uncompressed */
	MK_ZLIB,
	MK_LZO,
	MK_SNAPPY,
	MK_ZSTD,
};

struct mk_kdump_spec {
	uint32_t block_size;		/* 0: 4096 */
	int version;			/* header_version */
	bool diskdump;			/* "DISKDUMP" signature, one bitmap */
	uint64_t max_mapnr;
	const uint8_t *kinds;		/* enum mk_kind per pfn < max_mapnr */
	const char *vmcoreinfo;
	int nr_prstatus;		/* NT_PRSTATUS notes (v4+) */
	int nr_cpus;			/* header field */
	bool qemu;			/* empty utsname except machine, QEMU notes */
	const char *release;
	int64_t time;
	int dump_level;
	uint32_t status;		/* extra status bits (CK_KDUMP_INCOMPLETE) */
	uint32_t status_codec;		/* compression bit(s) for the status */
	bool zero_shared;		/* zero pages share one raw copy */
	uint64_t split_start, split_end; /* split when end > start */
	uint64_t lost_from;		/* incomplete: descriptors from this index are zero */
};

/* Compresses one page; returns the size, or 0 to store it raw. */
MK_FN size_t mk_compress(enum mk_kind kind, const uint8_t *page, size_t ps, uint8_t *out,
			 size_t out_cap)
{
	switch (kind) {
	case MK_ZLIB: {
		uLongf n = out_cap;
		return compress2(out, &n, page, ps, 1) == Z_OK ? n : 0;
	}
	case MK_LZO: {
		static _Thread_local uint8_t wrk[LZO1X_1_MEM_COMPRESS];
		lzo_uint n = out_cap;
		return lzo1x_1_compress(page, ps, out, &n, wrk) == LZO_E_OK ? n : 0;
	}
	case MK_SNAPPY: {
		size_t n = out_cap;
		return snappy_compress((const char *)page, ps, (char *)out, &n) == SNAPPY_OK ? n
											     : 0;
	}
	case MK_ZSTD: {
		size_t n = ZSTD_compress(out, out_cap, page, ps, 1);
		return ZSTD_isError(n) ? 0 : n;
	}
	default:
		return 0;
	}
}

MK_FN uint32_t mk_kind_flag(enum mk_kind kind)
{
	switch (kind) {
	case MK_ZLIB:
		return CK_KDUMP_COMPRESSED_ZLIB;
	case MK_LZO:
		return CK_KDUMP_COMPRESSED_LZO;
	case MK_SNAPPY:
		return CK_KDUMP_COMPRESSED_SNAPPY;
	case MK_ZSTD:
		return CK_KDUMP_COMPRESSED_ZSTD;
	default:
		return 0;
	}
}

MK_FN bool mk_kind_saved(enum mk_kind k)
{
	return k >= MK_RAW;
}

/* Where the pieces went, for tests that corrupt or cut them. */
struct mk_kdump_layout {
	uint64_t sub_header, vmcoreinfo, notes, notes_len;
	uint64_t bitmap1, bitmap2, bitmap_len, descs, nr_descs, data, end;
};

MK_FN int mk_kdump_buf(const struct mk_kdump_spec *s, struct mk_buf *out,
		       struct mk_kdump_layout *lay)
{
	size_t ps = s->block_size ? s->block_size : 4096;
	struct mk_kdump_layout L;
	memset(&L, 0, sizeof(L));
	struct ck_kdump_header h;
	memset(&h, 0, sizeof(h));
	memcpy(h.signature, s->diskdump ? CK_KDUMP_DISKDUMP_SIGNATURE : CK_KDUMP_SIGNATURE,
	       CK_KDUMP_SIG_LEN);
	h.header_version = htole32(s->version);
	if (!s->qemu) {
		snprintf(h.utsname.sysname, sizeof(h.utsname.sysname), "Linux");
		snprintf(h.utsname.nodename, sizeof(h.utsname.nodename), "mkdump");
		snprintf(h.utsname.release, sizeof(h.utsname.release), "%s",
			 s->release ? s->release : "6.1.0-test");
		snprintf(h.utsname.version, sizeof(h.utsname.version), "#1 SMP test");
	}
	snprintf(h.utsname.machine, sizeof(h.utsname.machine), "x86_64");
	h.tv_sec = htole64(s->time);
	h.status = htole32(s->status | s->status_codec);
	h.block_size = htole32(ps);
	h.max_mapnr = htole32((uint32_t)s->max_mapnr);
	h.nr_cpus = htole32(s->nr_cpus);

	/* sub header area: sub header, VMCOREINFO, notes */
	struct mk_buf notes = { 0 };
	if (s->version >= 4)
		mk_notes(&notes, s->vmcoreinfo, s->nr_prstatus, s->qemu);
	size_t vmci_len = (s->version >= 3 && s->vmcoreinfo) ? strlen(s->vmcoreinfo) : 0;
	L.sub_header = ps;
	L.vmcoreinfo = ps + sizeof(struct ck_kdump_sub_header);
	L.notes = L.vmcoreinfo + vmci_len;
	L.notes_len = notes.len;
	uint64_t sub_bytes = sizeof(struct ck_kdump_sub_header) + vmci_len + notes.len;
	uint64_t sub_blocks = s->diskdump ? 0 : (sub_bytes + ps - 1) / ps;
	h.sub_hdr_size = htole32(sub_blocks);

	uint64_t bm_bytes = (s->max_mapnr + 7) / 8;
	uint64_t bm_blocks = (bm_bytes + ps - 1) / ps;
	if (!bm_blocks)
		bm_blocks = 1;
	h.bitmap_blocks = htole32(s->diskdump ? bm_blocks : 2 * bm_blocks);
	L.bitmap1 = (1 + sub_blocks) * ps;
	L.bitmap2 = s->diskdump ? L.bitmap1 : L.bitmap1 + bm_blocks * ps;
	L.bitmap_len = bm_blocks * ps;
	L.descs = L.bitmap2 + bm_blocks * ps;
	mk_buf_put(out, 0, &h, sizeof(h));

	struct ck_kdump_sub_header sh;
	memset(&sh, 0, sizeof(sh));
	sh.phys_base = htole64(0x1000000);
	sh.dump_level = htole32(s->dump_level);
	bool split = s->split_end > s->split_start;
	if (split) {
		sh.split = htole32(1);
		sh.start_pfn = sh.start_pfn_64 = htole64(s->split_start);
		sh.end_pfn = sh.end_pfn_64 = htole64(s->split_end);
	}
	if (vmci_len) {
		sh.offset_vmcoreinfo = htole64(L.vmcoreinfo);
		sh.size_vmcoreinfo = htole64(vmci_len);
		mk_buf_put(out, L.vmcoreinfo, s->vmcoreinfo, vmci_len);
	}
	if (notes.len) {
		sh.offset_note = htole64(L.notes);
		sh.size_note = htole64(notes.len);
		mk_buf_put(out, L.notes, notes.data, notes.len);
	}
	free(notes.data);
	sh.max_mapnr_64 = htole64(s->max_mapnr);

	/* bitmaps */
	uint8_t *bm1 = calloc(1, bm_blocks * ps), *bm2 = calloc(1, bm_blocks * ps);
	uint64_t nr_descs = 0;
	uint64_t lo = split ? s->split_start : 0, hi = split ? s->split_end : s->max_mapnr;
	for (uint64_t pfn = 0; pfn < s->max_mapnr; pfn++) {
		if (s->kinds[pfn] != MK_NOT_RAM)
			bm1[pfn / 8] |= 1 << (pfn % 8);
		if (mk_kind_saved(s->kinds[pfn])) {
			bm2[pfn / 8] |= 1 << (pfn % 8);
			if (pfn >= lo && pfn < hi)
				nr_descs++;
		}
	}
	if (s->diskdump) {
		/* One bitmap: what is saved */
		mk_buf_put(out, L.bitmap1, bm2, bm_blocks * ps);
	} else {
		mk_buf_put(out, L.bitmap1, bm1, bm_blocks * ps);
		mk_buf_put(out, L.bitmap2, bm2, bm_blocks * ps);
	}
	free(bm1);
	free(bm2);
	L.nr_descs = nr_descs;

	/* descriptors and data */
	L.data = L.descs + nr_descs * sizeof(struct ck_kdump_page_desc);
	uint64_t data = L.data;
	uint8_t *page = malloc(ps), *cbuf = malloc(2 * ps + 1024);
	uint64_t zero_off = 0;
	if (s->zero_shared) {
		memset(page, 0, ps);
		zero_off = data;
		mk_buf_put(out, data, page, ps);
		data += ps;
	}
	uint64_t idx = 0;
	for (uint64_t pfn = lo; pfn < hi; pfn++) {
		enum mk_kind k = s->kinds[pfn];
		if (!mk_kind_saved(k))
			continue;
		struct ck_kdump_page_desc pd;
		memset(&pd, 0, sizeof(pd));
		mk_fill(page, pfn * ps, ps);
		bool zero = true;
		for (size_t i = 0; i < ps && zero; i++)
			zero = !page[i];
		if (s->lost_from && idx >= s->lost_from) {
			/* left zero, as after ENOSPC */
		} else if (zero && s->zero_shared) {
			pd.offset = htole64(zero_off);
			pd.size = htole32(ps);
		} else {
			size_t n = mk_compress(k, page, ps, cbuf, 2 * ps + 1024);
			if (n && n < ps) {
				pd.flags = htole32(mk_kind_flag(k));
				pd.size = htole32(n);
				mk_buf_put(out, data, cbuf, n);
			} else {
				pd.size = htole32(ps);
				mk_buf_put(out, data, page, ps);
				n = ps;
			}
			pd.offset = htole64(data);
			data += n;
		}
		mk_buf_put(out, L.descs + idx * sizeof(pd), &pd, sizeof(pd));
		idx++;
	}
	free(page);
	free(cbuf);
	mk_buf_reserve(out, data);
	if (out->len < data)
		out->len = data;
	L.end = data;
	if (!s->diskdump && s->version >= 1)
		mk_buf_put(out, ps, &sh, ck_kdump_sub_header_size(s->version));
	if (lay)
		*lay = L;
	return 0;
}

MK_FN int mk_kdump(const char *path, const struct mk_kdump_spec *s, struct mk_kdump_layout *lay)
{
	struct mk_buf b = { 0 };
	mk_kdump_buf(s, &b, lay);
	int r = mk_buf_write(&b, path);
	free(b.data);
	return r;
}

/* ---- flattened ----------------------------------------------------------- */

struct mk_flat_spec {
	size_t max_chunk;	/* bytes per record, at most; 0: 4096 */
	uint64_t seed;		/* chunk sizes and, if shuffle, the order */
	bool shuffle;		/* records out of order */
	bool rewrite;		/* first write garbage over the first 512 bytes,
				 * then the real bytes in a later record */
	bool no_end;		/* leave out the end record */
	bool skip_zero;		/* leave out records that are all zeros (holes) */
};

MK_FN void mk_flat_record(struct mk_buf *o, uint64_t off, const void *p, uint64_t len)
{
	struct ck_flat_record r = { (int64_t)htobe64(off), (int64_t)htobe64(len) };
	mk_buf_append(o, &r, sizeof(r));
	mk_buf_append(o, p, len);
}

MK_FN int mk_flatten_buf(const struct mk_buf *in, const struct mk_flat_spec *s,
			 struct mk_buf *o)
{
	uint8_t head[CK_FLAT_HEADER_SIZE];
	memset(head, 0, sizeof(head));
	struct ck_flat_header fh;
	memset(&fh, 0, sizeof(fh));
	memcpy(fh.signature, CK_FLAT_SIGNATURE, sizeof(CK_FLAT_SIGNATURE));
	fh.type = (int64_t)htobe64(CK_FLAT_TYPE);
	fh.version = (int64_t)htobe64(CK_FLAT_VERSION);
	memcpy(head, &fh, sizeof(fh));
	mk_buf_append(o, head, sizeof(head));

	uint64_t seed = s->seed;
	size_t max = s->max_chunk ? s->max_chunk : 4096;
	size_t cap = in->len / 1 + 1, nr = 0;
	uint64_t *starts = malloc(cap * sizeof(uint64_t));
	uint64_t *lens = malloc(cap * sizeof(uint64_t));
	for (uint64_t off = 0; off < in->len;) {
		uint64_t n = 1 + mk_rand(&seed) % max;
		if (n > in->len - off)
			n = in->len - off;
		starts[nr] = off;
		lens[nr++] = n;
		off += n;
	}
	if (s->shuffle) {
		for (size_t i = nr; i > 1; i--) {
			size_t j = mk_rand(&seed) % i;
			uint64_t t = starts[i - 1];
			starts[i - 1] = starts[j];
			starts[j] = t;
			t = lens[i - 1];
			lens[i - 1] = lens[j];
			lens[j] = t;
		}
	}
	if (s->rewrite && in->len >= 512) {
		uint8_t junk[512];
		memset(junk, 0xa5, sizeof(junk));
		mk_flat_record(o, 0, junk, sizeof(junk));
	}
	for (size_t i = 0; i < nr; i++) {
		/* Writers always write the last bytes of a file; a hole at the
		 * end would make the logical file short. */
		bool zero = s->skip_zero && starts[i] + lens[i] < in->len;
		for (uint64_t k = 0; zero && k < lens[i]; k++)
			zero = !in->data[starts[i] + k];
		if (!zero)
			mk_flat_record(o, starts[i], in->data + starts[i], lens[i]);
	}
	if (s->rewrite && in->len >= 512)
		mk_flat_record(o, 0, in->data, 512);
	if (!s->no_end) {
		struct ck_flat_record end = { (int64_t)htobe64((uint64_t)-1),
					      (int64_t)htobe64((uint64_t)-1) };
		mk_buf_append(o, &end, sizeof(end));
	}
	free(starts);
	free(lens);
	return 0;
}

MK_FN int mk_flatten(const char *src, const char *dst, const struct mk_flat_spec *s)
{
	struct mk_buf in = { 0 }, out = { 0 };
	if (mk_read_file(src, &in) < 0)
		return -1;
	mk_flatten_buf(&in, s, &out);
	int r = mk_buf_write(&out, dst);
	free(in.data);
	free(out.data);
	return r;
}

/* ---- kernel memory with struct pages (mk_kmem) --------------------------- */

/*
 * A small x86_64 kernel's physical memory, from address 0, that the library
 * can translate: a top-level page table at MK_KMEM_PGT (SYMBOL(init_top_pgt)
 * through the kernel text mapping, 2 MiB pages over the whole image) and the
 * direct map (one 1 GiB page).  By default 4 levels and no KASLR; with
 * mk_kmem_init_opts() 5 levels, a KERNELOFFSET, extra leaf bits.  Tests put
 * structures with mk_kmem_put*() and the VMCOREINFO that describes them
 * with mk_kmem_vmci(), then write an ELF vmcore with mk_kmem_write().
 */
#include <stdarg.h>

#define MK_KMEM_TEXT	UINT64_C(0xffffffff81000000)	/* maps physical 0, before KASLR */
#define MK_KMEM_DIRECT	UINT64_C(0xffff888000000000)	/* 4 levels */
#define MK_KMEM_DIRECT5	UINT64_C(0xff11000000000000)	/* 5 levels */
#define MK_KMEM_PGT	UINT64_C(0x1000)
#define MK_START_KERNEL_MAP UINT64_C(0xffffffff80000000)
#define MK_4K		UINT64_C(0x1000)
#define MK_2M		UINT64_C(0x200000)
#define MK_1G		UINT64_C(0x40000000)

struct mk_kmem_opts {
	int levels;		/* of page tables: 4 (also for 0) or 5 */
	uint64_t kaslr;		/* KERNELOFFSET: the text mapping moves up by this */
	uint64_t leaf_bits;	/* more bits in every leaf entry (NX) */
};

struct mk_kmem {
	uint8_t *mem;
	uint64_t size;
	uint64_t pt_next;	/* next free page-table page */
	int levels;
	uint64_t text;		/* virtual address of physical 0 in the text mapping */
	uint64_t direct;	/* virtual address of physical 0 in the direct map */
	uint64_t leaf_bits;
	char vmci[32768];
	size_t vmci_len;
};

MK_FN void mk_kmem_put64(struct mk_kmem *k, uint64_t pa, uint64_t v)
{
	if (pa + 8 > k->size)
		abort();
	v = htole64(v);
	memcpy(k->mem + pa, &v, 8);
}

MK_FN void mk_kmem_put32(struct mk_kmem *k, uint64_t pa, uint32_t v)
{
	if (pa + 4 > k->size)
		abort();
	v = htole32(v);
	memcpy(k->mem + pa, &v, 4);
}

MK_FN void mk_kmem_put16(struct mk_kmem *k, uint64_t pa, uint16_t v)
{
	if (pa + 2 > k->size)
		abort();
	v = htole16(v);
	memcpy(k->mem + pa, &v, 2);
}

MK_FN void mk_kmem_put8(struct mk_kmem *k, uint64_t pa, uint8_t v)
{
	if (pa >= k->size)
		abort();
	k->mem[pa] = v;
}

MK_FN uint64_t mk_kmem_get64(const struct mk_kmem *k, uint64_t pa)
{
	uint64_t v;
	if (pa + 8 > k->size)
		abort();
	memcpy(&v, k->mem + pa, 8);
	return le64toh(v);
}

MK_FN void mk_kmem_vmci(struct mk_kmem *k, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

MK_FN void mk_kmem_vmci(struct mk_kmem *k, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(k->vmci + k->vmci_len, sizeof(k->vmci) - k->vmci_len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(k->vmci) - k->vmci_len)
		abort();
	k->vmci_len += (size_t)n;
}

/* Maps va to pa with a page of page_size (4 KiB, 2 MiB or 1 GiB). */
MK_FN void mk_kmem_map(struct mk_kmem *k, uint64_t va, uint64_t pa, uint64_t page_size)
{
	uint64_t table = MK_KMEM_PGT;
	for (int level = k->levels - 1;; level--) {
		unsigned shift = 12 + 9 * (unsigned)level;
		uint64_t e = table + ((va >> shift) & 511) * 8;
		if ((1ull << shift) == page_size) {
			/* present, rw, A, D; PSE above 4 KiB */
			mk_kmem_put64(k, e, pa | 0x63 | (page_size > 4096 ? 0x80 : 0) |
						    k->leaf_bits);
			return;
		}
		uint64_t cur = mk_kmem_get64(k, e);
		if (!(cur & 1)) {
			cur = k->pt_next | 0x63;
			k->pt_next += 4096;
			mk_kmem_put64(k, e, cur);
		}
		table = cur & 0x000ffffffffff000ull;
	}
}

/* size: a multiple of 2 MiB.  Page tables take the pages from MK_KMEM_PGT
 * on, 0x5000 with 4 levels and only these mappings. */
MK_FN void mk_kmem_init_opts(struct mk_kmem *k, uint64_t size, const struct mk_kmem_opts *o)
{
	memset(k, 0, sizeof(*k));
	k->mem = calloc(1, size);
	if (!k->mem)
		abort();
	k->size = size;
	k->levels = o->levels == 5 ? 5 : 4;
	k->text = MK_KMEM_TEXT + o->kaslr;
	k->direct = k->levels == 5 ? MK_KMEM_DIRECT5 : MK_KMEM_DIRECT;
	k->leaf_bits = o->leaf_bits;
	k->pt_next = MK_KMEM_PGT + 4096;
	for (uint64_t off = 0; off < size; off += 0x200000)
		mk_kmem_map(k, k->text + off, off, 0x200000);
	mk_kmem_map(k, k->direct, 0, 0x40000000);
	mk_kmem_vmci(k, "OSRELEASE=6.1.0-mkdump\nPAGESIZE=4096\n");
	mk_kmem_vmci(k, "SYMBOL(init_top_pgt)=%llx\n",
		     (unsigned long long)(k->text + MK_KMEM_PGT));
	mk_kmem_vmci(k, "NUMBER(phys_base)=%lld\n", -(long long)(k->text - MK_START_KERNEL_MAP));
	mk_kmem_vmci(k, "NUMBER(pgtable_l5_enabled)=%d\nKERNELOFFSET=%llx\n", k->levels == 5,
		     (unsigned long long)o->kaslr);
}

MK_FN void mk_kmem_init(struct mk_kmem *k, uint64_t size)
{
	mk_kmem_init_opts(k, size, &(struct mk_kmem_opts){ .levels = 4 });
}

/* An ELF vmcore: the VMCOREINFO note, one NT_PRSTATUS, one PT_LOAD. */
MK_FN int mk_kmem_write(const struct mk_kmem *k, const char *path)
{
	struct mk_buf notes = { 0 }, out = { 0 };
	mk_notes(&notes, k->vmci, 1, false);
	Elf64_Ehdr eh;
	mk_elf_header(&eh, EM_X86_64, 2);
	Elf64_Phdr ph[2];
	memset(ph, 0, sizeof(ph));
	uint64_t note_off = sizeof(eh) + sizeof(ph);
	uint64_t mem_off = (note_off + notes.len + 4095) & ~4095ull;
	ph[0].p_type = PT_NOTE;
	ph[0].p_offset = note_off;
	ph[0].p_filesz = ph[0].p_memsz = notes.len;
	ph[1].p_type = PT_LOAD;
	ph[1].p_flags = PF_R | PF_W | PF_X;
	ph[1].p_offset = mem_off;
	ph[1].p_vaddr = MK_KMEM_DIRECT;
	ph[1].p_filesz = ph[1].p_memsz = k->size;
	mk_buf_put(&out, 0, &eh, sizeof(eh));
	mk_buf_put(&out, sizeof(eh), ph, sizeof(ph));
	mk_buf_put(&out, note_off, notes.data, notes.len);
	mk_buf_put(&out, mem_off, k->mem, k->size);
	int r = mk_buf_write(&out, path);
	free(notes.data);
	free(out.data);
	return r;
}

MK_FN void mk_kmem_deinit(struct mk_kmem *k)
{
	free(k->mem);
	k->mem = NULL;
}

/* ---- a randomised kernel for the kernel layer (mk_kernel) ----------------- */

/*
 * The kernel that test_arch_x86_64.c, test_kallsyms.c and test_printk.c
 * start from: mk_kmem with KASLR, NX set in every leaf entry (which translation must ignore),
 * 4 or 5 levels, and a vmalloc area of 4 KiB pages in reverse physical
 * order: virtual page i at MK_KERNEL_VMALLOC is physical page 15 - i from
 * MK_KERNEL_VMALLOC_PA.
 */
#define MK_KERNEL_SIZE		(UINT64_C(16) << 20)
#define MK_KERNEL_KASLR		UINT64_C(0x20000000)
#define MK_KERNEL_TEXT		(MK_KMEM_TEXT + MK_KERNEL_KASLR)	/* physical 0 */

/* The printk ring's VMCOREINFO as x86_64 Linux 6.1 gives it (the 5.10+
 * lockless ring), but for SYMBOL(prb) and OFFSET(printk_info.caller_id). */
#define MK_PRB_VMCOREINFO \
	"SIZE(printk_ringbuffer)=88\n" \
	"OFFSET(printk_ringbuffer.desc_ring)=0\n" \
	"OFFSET(printk_ringbuffer.text_data_ring)=48\n" \
	"OFFSET(printk_ringbuffer.fail)=80\n" \
	"SIZE(prb_desc_ring)=48\n" \
	"OFFSET(prb_desc_ring.count_bits)=0\n" \
	"OFFSET(prb_desc_ring.descs)=8\n" \
	"OFFSET(prb_desc_ring.infos)=16\n" \
	"OFFSET(prb_desc_ring.head_id)=24\n" \
	"OFFSET(prb_desc_ring.tail_id)=32\n" \
	"SIZE(prb_desc)=24\n" \
	"OFFSET(prb_desc.state_var)=0\n" \
	"OFFSET(prb_desc.text_blk_lpos)=8\n" \
	"SIZE(prb_data_blk_lpos)=16\n" \
	"OFFSET(prb_data_blk_lpos.begin)=0\n" \
	"OFFSET(prb_data_blk_lpos.next)=8\n" \
	"SIZE(printk_info)=88\n" \
	"OFFSET(printk_info.seq)=0\n" \
	"OFFSET(printk_info.ts_nsec)=8\n" \
	"OFFSET(printk_info.text_len)=16\n" \
	"OFFSET(printk_info.dev_info)=24\n" \
	"SIZE(prb_data_ring)=32\n" \
	"OFFSET(prb_data_ring.size_bits)=0\n" \
	"OFFSET(prb_data_ring.data)=8\n" \
	"OFFSET(prb_data_ring.head_lpos)=16\n" \
	"OFFSET(prb_data_ring.tail_lpos)=24\n" \
	"SIZE(atomic_long_t)=8\n" \
	"OFFSET(atomic_long_t.counter)=0\n" \
	"SYMBOL(clear_seq)=0\n"
#define MK_KERNEL_VMALLOC	UINT64_C(0xffffc90000000000)
#define MK_KERNEL_VMALLOC_PA	UINT64_C(0x800000)
#define MK_KERNEL_VMALLOC_PAGES	16

MK_FN void mk_kernel_init(struct mk_kmem *k, int levels)
{
	mk_kmem_init_opts(k, MK_KERNEL_SIZE,
			  &(struct mk_kmem_opts){ .levels = levels, .kaslr = MK_KERNEL_KASLR,
						  .leaf_bits = 1ull << 63 });
	for (uint64_t i = 0; i < MK_KERNEL_VMALLOC_PAGES; i++)
		mk_kmem_map(k, MK_KERNEL_VMALLOC + i * 4096,
			    MK_KERNEL_VMALLOC_PA + (MK_KERNEL_VMALLOC_PAGES - 1 - i) * 4096, 4096);
	mk_kmem_vmci(k, "SYMBOL(_stext)=%llx\n", (unsigned long long)MK_KERNEL_TEXT);
	mk_kmem_vmci(k, "NUMBER(KERNEL_IMAGE_SIZE)=1073741824\nNUMBER(sme_mask)=0\n");
}

/* ---- kallsyms tables (mk_kallsyms) -------------------------------------- */

/*
 * The kernel's kallsyms tables for a list of symbols, laid out as Linux 7.0's
 * scripts/kallsyms writes them (num_syms, names, markers, token table, token
 * index, then the address table and, for the base-relative encodings, the
 * relative base), into a memory image at physical pa, virtual va, in any of
 * the address encodings kernels have used.  The VMCOREINFO lines that locate
 * them are appended to vmci.  Independent of mk_kmem: it only needs memory.
 *
 * Names are compressed with a few multi-character tokens and otherwise one
 * token per character; a name of 128 tokens or more gets the two-byte count
 * of Linux 6.1.  The symbols must be given in address order, as the kernel
 * sorts them.
 */
enum mk_ks_encoding {
	MK_KS_ABSOLUTE,		/* u64 kallsyms_addresses (before 6.11) */
	MK_KS_BASE_RELATIVE,	/* relative_base + (u32)offset (4.6-6.19) */
	MK_KS_ABSOLUTE_PERCPU,	/* absolute if >= 0, else base - 1 - offset */
	MK_KS_PLACE_RELATIVE,	/* &offsets[i] + (s32)offset (7.0) */
	MK_KS_ABSOLUTE32,	/* the 32-bit address itself (7.0, 32-bit) */
};

struct mk_ksym {
	char type;
	const char *name;
	uint64_t addr;
	bool absolute;		/* MK_KS_ABSOLUTE_PERCPU: a zero-based per-cpu symbol */
};

struct mk_ks_out {
	uint8_t *mem;
	uint64_t size;
	char *vmci;		/* VMCOREINFO text, NUL-terminated */
	size_t *vmci_len;
	size_t vmci_size;
};

/* Where the tables went, for tests that damage them. */
struct mk_ks_layout {
	uint64_t num_syms, names, markers, token_table, token_index, addresses, relative_base;
	uint64_t end;	/* physical, first byte after the tables */
};

static const char *const mk_ks_tokens[] = { "sys_", "_handle_", "init", "panic", "rq_" };
#define MK_KS_FIRST_TOKEN 0xf0	/* token numbers of mk_ks_tokens[] */

MK_FN void mk_ks_put(const struct mk_ks_out *o, uint64_t pa, const void *p, size_t len)
{
	if (pa + len > o->size)
		abort();
	memcpy(o->mem + pa, p, len);
}

MK_FN void mk_ks_vmci(const struct mk_ks_out *o, const char *what, uint64_t va)
{
	size_t n = (size_t)snprintf(o->vmci + *o->vmci_len, o->vmci_size - *o->vmci_len,
				    "SYMBOL(%s)=%llx\n", what, (unsigned long long)va);
	if (n >= o->vmci_size - *o->vmci_len)
		abort();
	*o->vmci_len += n;
}

/* One symbol's compressed name: the count (one or two bytes), the tokens. */
MK_FN size_t mk_ks_compress(const struct mk_ksym *s, uint8_t *out)
{
	char full[1024];
	snprintf(full, sizeof(full), "%c%s", s->type, s->name);
	uint8_t toks[1024];
	size_t nt = 0;
	for (size_t c = 0; full[c];) {
		size_t best = 0;
		uint8_t tok = (uint8_t)full[c];
		for (size_t t = 0; c > 0 && t < sizeof(mk_ks_tokens) / sizeof(mk_ks_tokens[0]); t++) {
			size_t l = strlen(mk_ks_tokens[t]);
			if (l > best && !strncmp(full + c, mk_ks_tokens[t], l)) {
				best = l;
				tok = (uint8_t)(MK_KS_FIRST_TOKEN + t);
			}
		}
		toks[nt++] = tok;
		c += best ? best : 1;
	}
	size_t n = 0;
	if (nt >= 0x80) {
		out[n++] = (uint8_t)(0x80 | (nt & 0x7f));
		out[n++] = (uint8_t)(nt >> 7);
	} else {
		out[n++] = (uint8_t)nt;
	}
	memcpy(out + n, toks, nt);
	return n + nt;
}

/* Token i: the character i for printable ASCII, a multi-character token at
 * MK_KS_FIRST_TOKEN, "?" for the rest (never used). */
MK_FN const char *mk_ks_token(int i, char buf[2])
{
	if (i >= MK_KS_FIRST_TOKEN &&
	    i < MK_KS_FIRST_TOKEN + (int)(sizeof(mk_ks_tokens) / sizeof(mk_ks_tokens[0])))
		return mk_ks_tokens[i - MK_KS_FIRST_TOKEN];
	buf[0] = i > ' ' && i < 0x7f ? (char)i : '?';
	buf[1] = '\0';
	return buf;
}

MK_FN uint64_t mk_ks_align(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* The address table entry of symbol i at physical entry_pa. */
MK_FN void mk_ks_entry(const struct mk_ks_out *o, enum mk_ks_encoding enc, uint64_t pa,
		       uint64_t va, uint64_t entry_pa, uint64_t base, const struct mk_ksym *s)
{
	uint64_t v8 = htole64(s->addr);
	uint32_t v4;
	switch (enc) {
	case MK_KS_ABSOLUTE:
		mk_ks_put(o, entry_pa, &v8, 8);
		return;
	case MK_KS_BASE_RELATIVE:
		v4 = (uint32_t)(s->addr - base);
		break;
	case MK_KS_ABSOLUTE_PERCPU:
		v4 = s->absolute ? (uint32_t)s->addr : (uint32_t)(base - 1 - s->addr);
		break;
	case MK_KS_PLACE_RELATIVE:
		v4 = (uint32_t)(s->addr - (va + (entry_pa - pa)));
		break;
	default:
		v4 = (uint32_t)s->addr;
		break;
	}
	v4 = htole32(v4);
	mk_ks_put(o, entry_pa, &v4, 4);
}

MK_FN void mk_kallsyms(const struct mk_ks_out *o, uint64_t pa, uint64_t va,
		       enum mk_ks_encoding enc, const struct mk_ksym *syms, size_t nr,
		       struct mk_ks_layout *lay)
{
	struct mk_ks_layout L;
	memset(&L, 0, sizeof(L));
	L.num_syms = pa;
	uint32_t num = htole32((uint32_t)nr);
	mk_ks_put(o, L.num_syms, &num, 4);
	L.names = mk_ks_align(L.num_syms + 4, 4);
	uint64_t p = L.names;
	uint8_t buf[2048];
	for (size_t i = 0; i < nr; i++) {
		size_t n = mk_ks_compress(&syms[i], buf);
		mk_ks_put(o, p, buf, n);
		p += n;
	}
	/* markers are not read by crashkit: zeros of the right size */
	L.markers = mk_ks_align(p, 4);
	L.token_table = L.markers + 4 * ((nr + 255) / 256);
	uint64_t q = L.token_table;
	uint16_t index[256];
	for (int i = 0; i < 256; i++) {
		char one[2];
		const char *t = mk_ks_token(i, one);
		index[i] = htole16((uint16_t)(q - L.token_table));
		mk_ks_put(o, q, t, strlen(t) + 1);
		q += strlen(t) + 1;
	}
	L.token_index = mk_ks_align(q, 4);
	mk_ks_put(o, L.token_index, index, sizeof(index));
	L.addresses = mk_ks_align(L.token_index + sizeof(index), 8);
	/* the base-relative encodings' base: the lowest relative address */
	uint64_t base = 0;
	for (size_t i = 0; i < nr; i++) {
		if (!(enc == MK_KS_ABSOLUTE_PERCPU && syms[i].absolute)) {
			base = syms[i].addr;
			break;
		}
	}
	size_t width = enc == MK_KS_ABSOLUTE ? 8 : 4;
	for (size_t i = 0; i < nr; i++)
		mk_ks_entry(o, enc, pa, va, L.addresses + width * i, base, &syms[i]);
	L.end = L.addresses + width * nr;
	bool has_base = enc == MK_KS_BASE_RELATIVE || enc == MK_KS_ABSOLUTE_PERCPU;
	if (has_base) {
		L.relative_base = mk_ks_align(L.end, 8);
		uint64_t b = htole64(base);
		mk_ks_put(o, L.relative_base, &b, 8);
		L.end = L.relative_base + 8;
	}
	mk_ks_vmci(o, "kallsyms_names", va + (L.names - pa));
	mk_ks_vmci(o, "kallsyms_num_syms", va + (L.num_syms - pa));
	mk_ks_vmci(o, "kallsyms_token_table", va + (L.token_table - pa));
	mk_ks_vmci(o, "kallsyms_token_index", va + (L.token_index - pa));
	mk_ks_vmci(o, enc == MK_KS_ABSOLUTE ? "kallsyms_addresses" : "kallsyms_offsets",
		   va + (L.addresses - pa));
	if (has_base)
		mk_ks_vmci(o, "kallsyms_relative_base", va + (L.relative_base - pa));
	if (lay)
		*lay = L;
}


/* mk_kallsyms() into a kernel image at physical pa, seen through its text
 * mapping; the VMCOREINFO lines go to k's. */
MK_FN void mk_kmem_kallsyms(struct mk_kmem *k, uint64_t pa, enum mk_ks_encoding enc,
			    const struct mk_ksym *syms, size_t nr, struct mk_ks_layout *lay)
{
	struct mk_ks_out o = {
		.mem = k->mem, .size = k->size,
		.vmci = k->vmci, .vmci_len = &k->vmci_len, .vmci_size = sizeof(k->vmci),
	};
	mk_kallsyms(&o, pa, k->text + pa, enc, syms, nr, lay);
}

/* ---- reading back (unit tests) ------------------------------------------- */

/*
 * What the unit tests expect when they open what mk_*() wrote: every
 * readable byte is mk_byte() of its address, errors name the file.  These
 * report through tests/harness.h's EXPECT; the shapes (elf_basic,
 * kdump_spec) are the dumps that test_elf.c, test_kdump.c, test_flattened.c
 * and test_dump.c share.
 */
#include <inttypes.h>

#include "kernel/kernel.h"
#include "harness.h"

#define PS 4096u

MK_FN const char *msg(struct ck_error *err)
{
	return err ? ck_error_message(err) : "(no error)";
}

MK_FN const char std_vmcoreinfo[] =
	"OSRELEASE=6.1.0-56-amd64\n"
	"BUILD-ID=0123456789abcdef\n"
	"PAGESIZE=4096\n"
	"SYMBOL(init_uts_ns)=ffffffff82a13460\n"
	"NUMBER(phys_base)=16777216\n"
	"KERNELOFFSET=13000000\n";


/* The ELF test layout: overlap, a partial page, p_filesz < p_memsz (makedumpfile
 * -E's excluded pages), memory above 4 GiB. */
MK_FN const struct mk_seg elf_segs[] = {
	{ 0x0, 16 * PS, 16 * PS, 0xffff888000000000ull },
	{ 0x4000, 4 * PS, 4 * PS, 0xffffffff81000000ull },	/* "kernel text" */
	{ 0x20000, 0x1c00, 0x1c00, 0 },				/* ends mid-page */
	{ 0x40000, 8 * PS, 0x2800, 0 },				/* excluded tail */
	{ 0x100000000ull, 4 * PS, 4 * PS, 0 },
};

MK_FN const struct mk_elf_spec elf_basic = {
	.segs = elf_segs,
	.nr_segs = CK_ARRAY_SIZE(elf_segs),
	.vmcoreinfo = std_vmcoreinfo,
	.nr_prstatus = 2,
};

/* Expected byte at physical address a of an ELF spec: -1 if no segment covers
 * it, -2 in a segment's [p_filesz, p_memsz) tail (excluded, not zeros). */
MK_FN int elf_expect(const struct mk_elf_spec *s, uint64_t a)
{
	int r = -1;
	for (size_t i = 0; i < s->nr_segs; i++) {
		const struct mk_seg *g = &s->segs[i];
		if (a < g->paddr || a - g->paddr >= g->memsz)
			continue;
		if (a - g->paddr < g->filesz)
			return mk_byte(a);
		r = -2;
	}
	return r;
}

/* Fills want with the expected page (bytes no segment covers are zeros);
 * false if the page cannot be read: nothing covers it, or part of it is in
 * an excluded tail. */
MK_FN bool elf_expect_page(const struct mk_elf_spec *s, uint64_t pfn, uint8_t *want)
{
	bool any = false;
	for (size_t i = 0; i < PS; i++) {
		int b = elf_expect(s, pfn * PS + i);
		if (b == -2)
			return false;
		want[i] = b < 0 ? 0 : b;
		any |= b >= 0;
	}
	return any;
}

/* pfns worth checking in elf_basic: the low ones and those around 4 GiB. */
MK_FN size_t elf_test_pfns(uint64_t *pfns)
{
	size_t n = 0;
	for (uint64_t p = 0; p < 0x50; p++)
		pfns[n++] = p;
	for (uint64_t p = 0x100000 - 2; p < 0x100000 + 8; p++)
		pfns[n++] = p;
	return n;
}

/* Standard kdump page kinds: a hole of not-RAM pfns, excluded pages, raw
 * pages, and the codec for the rest. */
#define KD_PFNS 96
MK_FN void kdump_kinds(uint8_t *kinds, enum mk_kind codec)
{
	for (uint64_t pfn = 0; pfn < KD_PFNS; pfn++) {
		if (pfn >= 40 && pfn < 48)
			kinds[pfn] = MK_NOT_RAM;
		else if (pfn % 10 == 7)
			kinds[pfn] = MK_EXCLUDED;
		else if (pfn % 13 == 0)
			kinds[pfn] = MK_RAW;
		else
			kinds[pfn] = codec;
	}
}

MK_FN struct mk_kdump_spec kdump_spec(const uint8_t *kinds, enum mk_kind codec)
{
	return (struct mk_kdump_spec){
		.version = 6,
		.max_mapnr = KD_PFNS,
		.kinds = kinds,
		.vmcoreinfo = std_vmcoreinfo,
		.nr_prstatus = 2,
		.nr_cpus = 2,
		.release = "6.1.0-56-amd64",
		.time = 1700000000,
		.dump_level = 31,
		.status_codec = mk_kind_flag(codec),
		.zero_shared = true,
	};
}

/*
 * What reading a page of a generated dump should give.  kind: for kdump the
 * mk_kind of the pfn (saved pages must read back); for ELF pass -1 and the
 * ELF spec.  Checks has_page agrees with the read, and that a failed read
 * has one of the allowed codes and names the file.  Returns false on a
 * mismatch (already reported through EXPECT).
 */
MK_FN void check_page(struct ck_dump *d, const char *path, uint64_t pfn, bool present,
		       const uint8_t *want, bool allow_truncated)
{
	uint8_t got[PS];
	struct ck_error *err = ck_dump_read_phys(d, pfn * PS, got, PS);
	bool has = ck_dump_has_page(d, pfn);
	if (!err) {
		EXPECT(present, "%s: pfn 0x%" PRIx64 " read but should not exist", path, pfn);
		EXPECT(has, "%s: pfn 0x%" PRIx64 " read but has_page is false", path, pfn);
		if (present)
			EXPECT(!memcmp(got, want, PS), "%s: pfn 0x%" PRIx64 " reads wrong data",
			       path, pfn);
		return;
	}
	enum ck_error_code code = ck_error_code(err);
	EXPECT(!has, "%s: pfn 0x%" PRIx64 " has_page but read fails: %s", path, pfn, msg(err));
	if (present)
		EXPECT(allow_truncated && code == CK_ERR_TRUNCATED,
		       "%s: pfn 0x%" PRIx64 " should read: %s", path, pfn, msg(err));
	else
		EXPECT(code == CK_ERR_FAULT || (allow_truncated && code == CK_ERR_TRUNCATED),
		       "%s: pfn 0x%" PRIx64 ": code %d: %s", path, pfn, code, msg(err));
	EXPECT(strstr(msg(err), path) != NULL, "error does not name the file: %s", msg(err));
	ck_error_destroy(err);
}

MK_FN void check_elf_pages(struct ck_dump *d, const char *path, const struct mk_elf_spec *s,
			    bool allow_truncated)
{
	uint64_t pfns[128];
	uint8_t want[PS];
	size_t n = elf_test_pfns(pfns);
	for (size_t i = 0; i < n; i++) {
		bool present = elf_expect_page(s, pfns[i], want);
		check_page(d, path, pfns[i], present, want, allow_truncated);
	}
}

MK_FN void check_kdump_pages(struct ck_dump *d, const char *path, const uint8_t *kinds,
			      uint64_t max_mapnr, uint64_t lo, uint64_t hi, bool allow_truncated)
{
	uint8_t want[PS];
	for (uint64_t pfn = 0; pfn < max_mapnr + 2; pfn++) {
		bool present = pfn < max_mapnr && mk_kind_saved(kinds[pfn]) && pfn >= lo &&
			       pfn < hi;
		mk_fill(want, pfn * PS, PS);
		check_page(d, path, pfn, present, want, allow_truncated);
	}
}

MK_FN struct ck_dump *open_ok(const char *path)
{
	struct ck_dump *d = NULL;
	struct ck_error *err = ck_dump_open(path, &d);
	EXPECT(!err, "open %s: %s", path, msg(err));
	ck_error_destroy(err);
	return err ? NULL : d;
}

MK_FN void expect_open_error(const char *path, enum ck_error_code code, const char *needle)
{
	struct ck_dump *d = NULL;
	struct ck_error *err = ck_dump_open(path, &d);
	EXPECT(err != NULL, "open %s should fail", path);
	if (err) {
		EXPECT(ck_error_code(err) == code, "%s: code %d, want %d: %s", path,
		       ck_error_code(err), code, msg(err));
		EXPECT(!needle || strstr(msg(err), needle), "%s: message lacks '%s': %s", path,
		       needle, msg(err));
		EXPECT(strstr(msg(err), path) != NULL, "error does not name the file: %s",
		       msg(err));
	}
	ck_error_destroy(err);
	ck_dump_destroy(d);
}

MK_FN bool has_note(struct ck_dump *d, const char *name, uint32_t type, size_t *count)
{
	const struct ck_note *notes;
	size_t nr, c = 0;
	ck_dump_notes(d, &notes, &nr);
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(notes[i].name, name) && notes[i].type == type)
			c++;
	if (count)
		*count = c;
	return c > 0;
}

MK_FN const enum mk_kind codec_kinds[] = { MK_ZLIB, MK_LZO, MK_SNAPPY, MK_ZSTD };
MK_FN const char *const codec_names[] = { "zlib", "lzo", "snappy", "zstd" };

/* Opens path; if it opens, reads every pfn below a bound.  Nothing must
 * crash, hang or allocate absurdly; errors must name the file. */
MK_FN int survive(const char *path)
{
	struct ck_dump *d = NULL;
	struct ck_error *err = ck_dump_open(path, &d);
	if (err) {
		EXPECT(strstr(msg(err), path) != NULL, "error does not name the file: %s",
		       msg(err));
		ck_error_destroy(err);
		return 0;
	}
	const struct ck_dump_info *i = ck_dump_info(d);
	uint8_t *page = malloc(i->page_size);
	uint64_t n = CK_MIN(i->max_pfn, (uint64_t)160);
	for (uint64_t pfn = 0; pfn < n; pfn++) {
		ck_dump_has_page(d, pfn);
		err = ck_dump_read_phys(d, pfn * i->page_size, page, i->page_size);
		if (err)
			EXPECT(strstr(msg(err), path) != NULL || ck_error_code(err) == CK_ERR_NOMEM,
			       "read error does not name the file: %s", msg(err));
		ck_error_destroy(err);
	}
	/* and above 4 GiB, where ELF segments may be */
	for (uint64_t pfn = 0x100000; pfn < 0x100008; pfn++) {
		err = ck_dump_read_phys(d, pfn * i->page_size, page, i->page_size);
		ck_error_destroy(err);
	}
	const struct ck_note *notes;
	size_t nr;
	ck_dump_notes(d, &notes, &nr);
	const struct ck_mem_range *r;
	ck_dump_mem_ranges(d, &r, &nr);
	free(page);
	ck_dump_destroy(d);
	return 1;
}


/* Writes k as an ELF vmcore at path and opens it as a kernel; on failure
 * nothing is left open. */
MK_FN struct ck_error *mk_kmem_open(const struct mk_kmem *k, const char *path,
				    struct ck_dump **dump_ret, struct ck_kernel **kernel_ret)
{
	if (mk_kmem_write(k, path))
		abort();
	struct ck_dump *dump;
	struct ck_error *err = ck_dump_open(path, &dump);
	if (err)
		return err;
	err = ck_kernel_create(dump, kernel_ret);
	if (err) {
		ck_dump_destroy(dump);
		return err;
	}
	*dump_ret = dump;
	return NULL;
}

MK_FN void mk_kmem_close(struct mk_kmem *k, struct ck_dump *dump, struct ck_kernel *kernel)
{
	ck_kernel_destroy(kernel);
	ck_dump_destroy(dump);
	mk_kmem_deinit(k);
}

#endif /* CRASHKIT_TESTS_MKDUMP_H */
