/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ELF64 vmcores: the layout of /proc/vmcore (and of `makedumpfile -E`, which
 * copies it) and of QEMU's dump-guest-memory without a format option.
 *
 * Memory is described by PT_LOAD segments whose p_paddr is the physical
 * address.  They may overlap: /proc/vmcore has a segment for the kernel text
 * mapping on top of the RAM segment that holds the same bytes.  At open we
 * turn them into a sorted list of disjoint pieces, so that reading a page is a
 * binary search and, in the common case, a single pread into the caller's
 * buffer.  [p_filesz, p_memsz) means excluded, not zeros: see
 * elf_excluded().  Format notes: docs/dump-readers.md.
 */
#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dump/dump.h"

/* makedumpfile marks an ELF dump it could not finish (ENOSPC) with this bit
 * in e_flags: makedumpfile's IMPLEMENTATION, "The incomplete elf DUMPFILE",
 * and DUMP_ELF_INCOMPLETE in makedumpfile.c. */
#define CK_DUMP_ELF_INCOMPLETE 0x1

/* A disjoint piece of physical memory and where its bytes are in the file.
 * Bytes in [paddr + filesz, paddr + memsz) have no data (elf_excluded()). */
struct elf_piece {
	uint64_t paddr;
	uint64_t memsz;
	uint64_t offset;
	uint64_t filesz;
};

struct elf_priv {
	struct elf_piece *pieces;	/* sorted by paddr, disjoint */
	size_t nr_pieces;
	struct ck_elf_load *loads;	/* the PT_LOADs in file order, for writers */
	size_t nr_loads;
	uint16_t machine;
};

static const struct {
	uint16_t machine;
	const char *name;
	uint32_t page_size;	/* default when VMCOREINFO does not say */
} elf_arches[] = {
	{ EM_X86_64, "x86_64", 4096 },
	{ EM_AARCH64, "aarch64", 4096 },
	{ EM_PPC64, "ppc64le", 65536 },
	{ EM_S390, "s390x", 4096 },
	{ EM_RISCV, "riscv64", 4096 },
	{ 258 /* EM_LOONGARCH, not in Debian 12's elf.h */, "loongarch64", 16384 },
	{ EM_MIPS, "mips64", 4096 },
	{ EM_SPARCV9, "sparc64", 8192 },
	/* QEMU writes an ELF64 dump with EM_386 when the x86 guest was not in
	 * long mode (firmware, a 32-bit kernel). */
	{ EM_386, "i386", 4096 },
};

/* PAGESIZE from VMCOREINFO.  ELF has no page size of its own, and on arm64 or
 * ppc64 the kernel's may be any of several; the kernel writes it as
 * "PAGESIZE=%ld" (kernel/crash_core.c).  Returns 0 if absent or unusable. */
static uint32_t vmcoreinfo_page_size(const char *text)
{
	if (!text)
		return 0;
	const char *p = text;
	while (p && *p) {
		if (!strncmp(p, "PAGESIZE=", 9)) {
			char *end;
			unsigned long long v = strtoull(p + 9, &end, 10);
			if ((*end == '\n' || *end == '\0') && v >= 512 && v <= (1u << 20) &&
			    !(v & (v - 1)))
				return v;
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

static int piece_cmp(const void *a, const void *b)
{
	const struct elf_piece *x = a, *y = b;
	if (x->paddr != y->paddr)
		return x->paddr < y->paddr ? -1 : 1;
	/* Larger first, so that a smaller segment at the same start adds
	 * nothing when the sweep below dedupes. */
	if (x->memsz != y->memsz)
		return x->memsz > y->memsz ? -1 : 1;
	return 0;
}

/* The part [from, to) of piece c, which must lie within it. */
static struct elf_piece piece_slice(const struct elf_piece *c, uint64_t from, uint64_t to)
{
	uint64_t skip = from - c->paddr;
	return (struct elf_piece){
		.paddr = from,
		.memsz = to - from,
		.offset = c->offset + skip,
		.filesz = c->filesz > skip ? CK_MIN(c->filesz - skip, to - from) : 0,
	};
}

static int piece_offset_cmp(const void *a, const void *b)
{
	const struct elf_piece *x = a, *y = b;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return piece_cmp(a, b);
}

/* Largest cluster of mutually overlapping segments resolved by file offset;
 * past it (only a hostile file) the cheap sweep below takes over. */
#define ELF_CLUSTER_MAX 64

/*
 * Overlapping segments describe the same physical bytes (/proc/vmcore has
 * the kernel text both in its own segment and inside a RAM segment).  When
 * the file is whole either copy will do, but when it is truncated only the
 * copy nearer the start may be present: the kernel text segment comes first
 * in /proc/vmcore while its RAM twin may be past the cut, and the page tables
 * and printk ring live there.  So within a cluster of overlapping segments
 * the one earliest in the file wins each byte.
 */
static bool paint_cluster(struct elf_piece *c, size_t k, struct elf_piece **out, size_t *nr_out,
			  size_t *cap)
{
	qsort(c, k, sizeof(*c), piece_offset_cmp);
	struct elf_piece frag[3 * ELF_CLUSTER_MAX];
	size_t nr_frag = 0;
	for (size_t i = 0; i < k; i++) {
		uint64_t cursor = c[i].paddr, end = c[i].paddr + c[i].memsz;
		size_t before = nr_frag;
		for (size_t f = 0; f < before && cursor < end; f++) {
			uint64_t fs = frag[f].paddr, fe = fs + frag[f].memsz;
			if (fe <= cursor || fs >= end)
				continue;
			if (fs > cursor && nr_frag < CK_ARRAY_SIZE(frag))
				frag[nr_frag++] = piece_slice(&c[i], cursor, fs);
			cursor = CK_MAX(cursor, fe);
		}
		if (cursor < end && nr_frag < CK_ARRAY_SIZE(frag))
			frag[nr_frag++] = piece_slice(&c[i], cursor, end);
		/* keep frag sorted by address for the next member's walk */
		qsort(frag, nr_frag, sizeof(frag[0]), piece_cmp);
	}
	for (size_t f = 0; f < nr_frag; f++)
		if (!CK_VEC_PUSH(*out, *nr_out, *cap, frag[f]))
			return false;
	return true;
}

/* The cheap sweep: keeps the piece that starts first and cuts away what later
 * pieces repeat. */
static bool sweep_cluster(const struct elf_piece *p, size_t k, struct elf_piece **out,
			  size_t *nr_out, size_t *cap)
{
	uint64_t covered = 0;
	for (size_t i = 0; i < k; i++) {
		uint64_t end = p[i].paddr + p[i].memsz;	/* checked at open */
		if (i && end <= covered)
			continue;
		struct elf_piece cur = i && p[i].paddr < covered ? piece_slice(&p[i], covered, end)
								 : p[i];
		if (!CK_VEC_PUSH(*out, *nr_out, *cap, cur))
			return false;
		covered = end;
	}
	return true;
}

/*
 * Replaces *pieces by a sorted list of disjoint pieces covering the same
 * memory.  False on ENOMEM (the input is then freed).
 */
static bool pieces_make_disjoint(struct elf_piece **pieces, size_t *nr_pieces)
{
	struct elf_piece *p = *pieces, *out = NULL;
	size_t nr = *nr_pieces, nr_out = 0, cap = 0;
	bool ok = true;
	qsort(p, nr, sizeof(*p), piece_cmp);
	for (size_t i = 0; i < nr && ok;) {
		uint64_t end = p[i].paddr + p[i].memsz;
		size_t j = i + 1;
		for (; j < nr && p[j].paddr < end; j++)
			end = CK_MAX(end, p[j].paddr + p[j].memsz);
		if (j - i == 1)
			ok = CK_VEC_PUSH(out, nr_out, cap, p[i]);
		else if (j - i <= ELF_CLUSTER_MAX)
			ok = paint_cluster(p + i, j - i, &out, &nr_out, &cap);
		else
			ok = sweep_cluster(p + i, j - i, &out, &nr_out, &cap);
		i = j;
	}
	free(p);
	if (!ok) {
		free(out);
		out = NULL;
		nr_out = 0;
	}
	*pieces = out;
	*nr_pieces = nr_out;
	return ok;
}

static void elf_close(struct ck_dump *dump)
{
	struct elf_priv *priv = dump->priv;
	if (!priv)
		return;
	free(priv->pieces);
	free(priv->loads);
	free(priv);
	dump->priv = NULL;
}

/* Reads the phdr count, following ELF extended numbering (PN_XNUM: the real
 * count is in sh_info of section header 0; makedumpfile writes this for
 * dumps with 65535+ segments). */
static struct ck_error *elf_phnum(struct ck_dump *dump, const Elf64_Ehdr *eh,
				  uint64_t *ret)
{
	if (eh->e_phnum != PN_XNUM) {
		*ret = eh->e_phnum;
		return NULL;
	}
	Elf64_Shdr sh;
	if (eh->e_shentsize != sizeof(sh))
		return ck_error_create(CK_ERR_FORMAT,
			"'%s': ELF header at offset 0x0: e_phnum is PN_XNUM but "
			"e_shentsize is %u", dump->info.path, eh->e_shentsize);
	struct ck_error *err = ck_file_read(dump->file, eh->e_shoff, &sh, sizeof(sh));
	if (err)
		return ck_error_prepend(err, "ELF section header 0 (extended phnum)");
	*ret = sh.sh_info;
	return NULL;
}

static struct ck_error *elf_check_ident(struct ck_dump *dump, const uint8_t *id,
					size_t n)
{
	const char *path = dump->info.path;
	if (n < EI_NIDENT)
		return ck_error_create(CK_ERR_TRUNCATED,
			"'%s': ELF header cut off at offset 0x%zx", path, n);
	if (id[EI_CLASS] == ELFCLASS32) {
		uint16_t machine = 0;
		if (n >= 20)
			memcpy(&machine, id + 18, 2);
		return ck_error_create(CK_ERR_UNSUPPORTED,
			"'%s': 32-bit ELF dump (%s) is not supported; only ELF64 vmcores are",
			path, machine == EM_386 ? "i386" : "ELFCLASS32");
	}
	if (id[EI_CLASS] != ELFCLASS64)
		return ck_error_create(CK_ERR_FORMAT,
			"'%s': ELF header at offset 0x%x: bad class %u",
			path, EI_CLASS, id[EI_CLASS]);
	if (id[EI_DATA] == ELFDATA2MSB)
		return ck_error_create(CK_ERR_UNSUPPORTED,
			"'%s': big-endian ELF dumps are not supported", path);
	if (id[EI_DATA] != ELFDATA2LSB)
		return ck_error_create(CK_ERR_FORMAT,
			"'%s': ELF header at offset 0x%x: bad data encoding %u",
			path, EI_DATA, id[EI_DATA]);
	if (n < sizeof(Elf64_Ehdr))
		return ck_error_create(CK_ERR_TRUNCATED,
			"'%s': ELF header cut off at offset 0x%zx", path, n);
	return NULL;
}

/* Copies every PT_NOTE segment into dump->notes_buf and parses them. */
static struct ck_error *elf_load_notes(struct ck_dump *dump, const Elf64_Phdr *ph,
				       uint64_t phnum)
{
	const char *path = dump->info.path;
	uint64_t total = 0;
	bool first = true;
	for (uint64_t i = 0; i < phnum; i++) {
		if (ph[i].p_type != PT_NOTE)
			continue;
		uint64_t end;
		if (ck_add_overflow(ph[i].p_offset, ph[i].p_filesz, &end) ||
		    end > dump->file->size) {
			return ck_error_create(CK_ERR_TRUNCATED,
				"'%s': ELF notes (0x%" PRIx64 " bytes at offset 0x%" PRIx64
				") extend past the end of the file (size 0x%" PRIx64 ")",
				path, ph[i].p_filesz, ph[i].p_offset, dump->file->size);
		}
		if (first) {
			dump->notes_offset = ph[i].p_offset;
			first = false;
		}
		/* Each segment starts 4-aligned in the buffer; the sum is bounded
		 * by phnum * file size, far below 2^64. */
		total = ((total + 3) & ~3ull) + ph[i].p_filesz;
	}
	if (total > dump->file->data_size)
		return ck_error_create(CK_ERR_FORMAT,
			"'%s': ELF notes total 0x%" PRIx64 " bytes, more than the file holds",
			path, total);
	uint8_t *buf = calloc(1, total ? total : 1);
	if (!buf)
		return &ck_error_nomem;
	uint64_t pos = 0;
	for (uint64_t i = 0; i < phnum; i++) {
		if (ph[i].p_type != PT_NOTE)
			continue;
		pos = (pos + 3) & ~3ull;
		struct ck_error *err = ck_file_read(dump->file, ph[i].p_offset, buf + pos,
						    ph[i].p_filesz);
		if (err) {
			free(buf);
			return err;
		}
		pos += ph[i].p_filesz;
	}
	dump->notes_buf = buf;
	dump->notes_len = total;
	return ck_dump_parse_notes(dump);
}

static bool has_note(const struct ck_dump *dump, const char *name)
{
	for (size_t i = 0; i < dump->nr_notes; i++)
		if (!strcmp(dump->notes[i].name, name))
			return true;
	return false;
}

static struct ck_error *elf_build_ranges(struct ck_dump *dump, struct elf_priv *priv)
{
	struct ck_mem_range *r = ck_calloc_array(priv->nr_pieces, sizeof(*r));
	if (!r)
		return &ck_error_nomem;
	size_t nr = 0;
	for (size_t i = 0; i < priv->nr_pieces; i++) {
		const struct elf_piece *p = &priv->pieces[i];
		if (nr && r[nr - 1].start + r[nr - 1].size == p->paddr)
			r[nr - 1].size += p->memsz;
		else
			r[nr++] = (struct ck_mem_range){ p->paddr, p->memsz };
	}
	dump->ranges = r;
	dump->nr_ranges = nr;
	return NULL;
}

/*
 * Where the section headers and section contents end.  Cores have few or
 * none, but QEMU writes a .shstrtab after the memory (and makedumpfile a
 * section header 0 for PN_XNUM), and a cut there is still a cut.  Best
 * effort: unreadable section headers only count with their table's end.
 */
static uint64_t elf_sections_end(struct ck_dump *dump, const Elf64_Ehdr *eh)
{
	uint64_t size, end;
	if (!eh->e_shoff || !eh->e_shnum || eh->e_shentsize != sizeof(Elf64_Shdr))
		return 0;
	size = (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr);	/* < 4 MiB */
	if (ck_add_overflow(eh->e_shoff, size, &end))
		return 0;
	if (end > dump->file->size)
		return end;
	Elf64_Shdr *sh = malloc(size);
	if (!sh)
		return end;
	struct ck_error *err = ck_file_read(dump->file, eh->e_shoff, sh, size);
	if (!err) {
		for (unsigned i = 0; i < eh->e_shnum; i++) {
			uint64_t e;
			if (sh[i].sh_type != SHT_NOBITS && sh[i].sh_type != SHT_NULL &&
			    !ck_add_overflow(sh[i].sh_offset, sh[i].sh_size, &e))
				end = CK_MAX(end, e);
		}
	}
	ck_error_destroy(err);
	free(sh);
	return end;
}

/* The ELF header and the program headers (*ph_ret, freed by the caller),
 * checked; *ph_end_ret is where the program headers end. */
static struct ck_error *elf_read_headers(struct ck_dump *dump, Elf64_Ehdr *eh, Elf64_Phdr **ph_ret,
					 uint64_t *phnum_ret, uint64_t *ph_end_ret)
{
	const char *path = dump->info.path;
	struct ck_file *file = dump->file;
	size_t n;

	memset(eh, 0, sizeof(*eh));
	struct ck_error *err = ck_file_read_partial(file, 0, eh, sizeof(*eh), &n);
	if (err)
		return err;
	if (n < SELFMAG || memcmp(eh->e_ident, ELFMAG, SELFMAG))
		return ck_error_create(CK_ERR_NOT_FORMAT, "'%s': no ELF magic", path);
	err = elf_check_ident(dump, eh->e_ident, n);
	if (err)
		return err;
	if (eh->e_type != ET_CORE)
		return ck_error_create(CK_ERR_FORMAT,
			"'%s': ELF file of type %u, not a core dump (ET_CORE)",
			path, eh->e_type);
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return ck_error_create(CK_ERR_FORMAT,
			"'%s': ELF header at offset 0x0: e_phentsize %u, expected %zu",
			path, eh->e_phentsize, sizeof(Elf64_Phdr));

	uint64_t phnum = 0;
	err = elf_phnum(dump, eh, &phnum);
	if (err)
		return err;
	if (!phnum)
		return ck_error_create(CK_ERR_FORMAT,
			"'%s': ELF core has no program headers", path);
	uint64_t ph_size, ph_end;
	if (ck_mul_overflow(phnum, sizeof(Elf64_Phdr), &ph_size) ||
	    ck_add_overflow(eh->e_phoff, ph_size, &ph_end) || ph_end > file->size)
		return ck_error_create(CK_ERR_TRUNCATED,
			"'%s': ELF program headers (%" PRIu64 " at offset 0x%" PRIx64
			") extend past the end of the file (size 0x%" PRIx64 ")",
			path, phnum, (uint64_t)eh->e_phoff, file->size);
	if (ph_size > file->data_size)
		return ck_error_create(CK_ERR_FORMAT,
			"'%s': ELF program headers (%" PRIu64 " at offset 0x%" PRIx64
			") are larger than the 0x%" PRIx64 " bytes of data the file holds",
			path, phnum, (uint64_t)eh->e_phoff, file->data_size);
	Elf64_Phdr *ph = malloc(ph_size);	/* bounded by the file's data just above */
	if (!ph)
		return &ck_error_nomem;
	err = ck_file_read(file, eh->e_phoff, ph, ph_size);
	if (err) {
		free(ph);
		return err;
	}
	*ph_ret = ph;
	*phnum_ret = phnum;
	*ph_end_ret = ph_end;
	return NULL;
}

/* One PT_LOAD, checked, into priv->loads and priv->pieces; *file_end_ret
 * is where its data ends in the file (0 when it has no memory). */
static struct ck_error *elf_add_load(struct ck_dump *dump, struct elf_priv *priv,
				     const Elf64_Phdr *p, uint64_t phdr_off,
				     uint64_t *file_end_ret)
{
	const char *path = dump->info.path;
	uint64_t mem_end, file_end;
	*file_end_ret = 0;
	if (ck_add_overflow(p->p_paddr, p->p_memsz, &mem_end) ||
	    ck_add_overflow(p->p_offset, p->p_filesz, &file_end))
		return ck_error_create(CK_ERR_FORMAT,
			"'%s': PT_LOAD at offset 0x%" PRIx64 ": address or size "
			"overflows (paddr 0x%" PRIx64 " memsz 0x%" PRIx64
			" offset 0x%" PRIx64 " filesz 0x%" PRIx64 ")",
			path, phdr_off, p->p_paddr, p->p_memsz, p->p_offset,
			p->p_filesz);
	if (p->p_filesz > p->p_memsz)
		return ck_error_create(CK_ERR_FORMAT,
			"'%s': PT_LOAD at offset 0x%" PRIx64 ": p_filesz 0x%" PRIx64
			" is larger than p_memsz 0x%" PRIx64,
			path, phdr_off, p->p_filesz, p->p_memsz);
	if (!p->p_memsz)
		return NULL;
	*file_end_ret = file_end;
	priv->loads[priv->nr_loads++] = (struct ck_elf_load){
		.paddr = p->p_paddr,
		.vaddr = p->p_vaddr,
		.memsz = p->p_memsz,
	};
	priv->pieces[priv->nr_pieces++] = (struct elf_piece){
		.paddr = p->p_paddr,
		.memsz = p->p_memsz,
		.offset = p->p_offset,
		.filesz = p->p_filesz,
	};
	return NULL;
}

/* The PT_LOADs, checked and made disjoint; *expected grows to the end of
 * their data, *nr_virtual_ret counts /proc/kcore's virtual-only ones. */
static struct ck_error *elf_read_loads(struct ck_dump *dump, struct elf_priv *priv,
				       const Elf64_Ehdr *eh, const Elf64_Phdr *ph,
				       uint64_t phnum, uint64_t *expected,
				       size_t *nr_virtual_ret)
{
	size_t nr_loads = 0, nr_virtual = 0;
	for (uint64_t i = 0; i < phnum; i++)
		nr_loads += ph[i].p_type == PT_LOAD;
	priv->pieces = ck_calloc_array(nr_loads, sizeof(*priv->pieces));
	priv->loads = ck_calloc_array(nr_loads, sizeof(*priv->loads));
	priv->machine = eh->e_machine;
	if (!priv->pieces || !priv->loads)
		return &ck_error_nomem;
	for (uint64_t i = 0; i < phnum; i++) {
		const Elf64_Phdr *p = &ph[i];
		if (p->p_type != PT_LOAD)
			continue;
		/* /proc/kcore maps vmalloc, modules and vmemmap by virtual
		 * address only, with p_paddr (elf_addr_t)-1; its RAM and kernel
		 * text segments carry their physical address (fs/proc/kcore.c,
		 * since Linux 4.11; earlier kernels wrote 0 everywhere).  Those
		 * mappings are no memory of their own: what they map is in RAM. */
		if (p->p_paddr == UINT64_MAX) {
			nr_virtual++;
			continue;
		}
		uint64_t file_end;
		struct ck_error *err = elf_add_load(dump, priv, p, eh->e_phoff + i * sizeof(*p),
						    &file_end);
		if (err)
			return err;
		*expected = CK_MAX(*expected, file_end);
	}
	if (!pieces_make_disjoint(&priv->pieces, &priv->nr_pieces))
		return &ck_error_nomem;
	*nr_virtual_ret = nr_virtual;
	return NULL;
}

/* What the headers and notes say about the dump, into dump->info. */
static void elf_fill_info(struct ck_dump *dump, const Elf64_Ehdr *eh, uint64_t expected,
			  size_t nr_virtual)
{
	struct ck_dump_info *info = &dump->info;
	info->format = "elf";
	info->header_version = 0;
	info->dump_level = -1;
	info->compression = "none";
	info->incomplete = eh->e_flags & CK_DUMP_ELF_INCOMPLETE;
	info->expected_size = CK_MAX(expected, dump->file->size);
	info->truncated = expected > dump->file->size;
	info->page_size = 4096;
	for (size_t i = 0; i < CK_ARRAY_SIZE(elf_arches); i++) {
		if (elf_arches[i].machine == eh->e_machine) {
			info->arch = elf_arches[i].name;
			info->page_size = elf_arches[i].page_size;
		}
	}
	uint32_t ps = vmcoreinfo_page_size(dump->vmcoreinfo);
	if (ps)
		info->page_size = ps;
	/* QEMU adds notes named "QEMU" (QEMUCPUState) for every CPU;
	 * makedumpfile adds an "ERASEINFO" note when it erased data and is the
	 * only writer that sets the incomplete flag.  An ELF dump copied by
	 * makedumpfile -E is otherwise identical to /proc/vmcore. */
	if (nr_virtual)
		info->origin = "proc-kcore";	/* the live system's memory */
	else if (has_note(dump, "QEMU"))
		info->origin = "qemu";
	else if (info->incomplete || has_note(dump, "ERASEINFO"))
		info->origin = "makedumpfile";
	else
		info->origin = "proc-vmcore";
}

static struct ck_error *elf_open(struct ck_dump *dump)
{
	Elf64_Ehdr eh;
	_cleanup_free_ Elf64_Phdr *ph = NULL;
	uint64_t phnum = 0, ph_end = 0;
	struct ck_error *err = elf_read_headers(dump, &eh, &ph, &phnum, &ph_end);
	if (err)
		return err;

	struct elf_priv *priv = calloc(1, sizeof(*priv));
	if (!priv)
		return &ck_error_nomem;
	dump->priv = priv;

	err = elf_load_notes(dump, ph, phnum);
	if (err)
		goto out;

	/* The file size the headers imply: notes, PT_LOAD data, sections. */
	uint64_t expected = ph_end;
	if (dump->notes_len) {
		for (uint64_t i = 0; i < phnum; i++)
			if (ph[i].p_type == PT_NOTE)
				expected = CK_MAX(expected, ph[i].p_offset + ph[i].p_filesz);
	}
	size_t nr_virtual = 0;
	err = elf_read_loads(dump, priv, &eh, ph, phnum, &expected, &nr_virtual);
	if (err)
		goto out;
	expected = CK_MAX(expected, elf_sections_end(dump, &eh));
	elf_fill_info(dump, &eh, expected, nr_virtual);

	err = elf_build_ranges(dump, priv);
	if (err)
		goto out;
	if (dump->nr_ranges) {
		struct ck_dump_info *info = &dump->info;
		const struct ck_mem_range *last = &dump->ranges[dump->nr_ranges - 1];
		uint64_t end = last->start + last->size;
		info->max_pfn = end / info->page_size + (end % info->page_size != 0);
	}
out:
	if (err)
		elf_close(dump);
	return err;
}

uint16_t ck_elf_machine(const char *arch)
{
	for (size_t i = 0; arch && i < CK_ARRAY_SIZE(elf_arches); i++)
		if (!strcmp(arch, elf_arches[i].name))
			return elf_arches[i].machine;
	return EM_NONE;
}

static size_t elf_loads(const struct ck_dump *dump, const struct ck_elf_load **ret,
			uint16_t *machine)
{
	const struct elf_priv *priv = dump->priv;
	*ret = priv->loads;
	if (machine)
		*machine = priv->machine;
	return priv->nr_loads;
}

static int piece_addr_cmp(const void *key, const void *elem, void *arg)
{
	uint64_t addr = *(const uint64_t *)key;
	const struct elf_piece *p = elem;
	return addr < p->paddr ? -1 : addr > p->paddr;
}

/* Index of the last piece with paddr <= addr, or nr_pieces if none. */
static size_t piece_find(const struct elf_priv *priv, uint64_t addr)
{
	return ck_bsearch_le(&addr, priv->pieces, priv->nr_pieces, sizeof(*priv->pieces),
			     piece_addr_cmp, NULL);
}

/* First piece that may overlap [addr, ...). */
static size_t piece_first(const struct elf_priv *priv, uint64_t addr)
{
	size_t i = piece_find(priv, addr);
	if (i == priv->nr_pieces)
		return 0;
	const struct elf_piece *p = &priv->pieces[i];
	return addr - p->paddr < p->memsz ? i : i + 1;
}

static struct ck_error *elf_fault(struct ck_dump *dump, uint64_t pfn)
{
	return ck_error_create(CK_ERR_FAULT,
		"'%s': pfn 0x%" PRIx64 " (physical address 0x%" PRIx64
		") is not in the dump", dump->info.path, pfn,
		pfn * dump->info.page_size);
}

/*
 * Bytes in [p_filesz, p_memsz) of a PT_LOAD.  The ELF rule would make them
 * zeros, but the one vmcore writer that produces them, makedumpfile -E, uses
 * them for runs of 256+ excluded pages (makedumpfile.c, write_elf_pages
 * and exclude_nodata_pages, which reads them back as excluded), and QEMU
 * for ranges without guest RAM behind them.  Zeros would be wrong data, so
 * such a page is not in the dump.
 */
static struct ck_error *elf_excluded(struct ck_dump *dump, uint64_t pfn)
{
	return ck_error_create(CK_ERR_FAULT,
		"'%s': pfn 0x%" PRIx64 " (physical address 0x%" PRIx64
		") was excluded from the dump (its PT_LOAD has no file data there)",
		dump->info.path, pfn, pfn * dump->info.page_size);
}

static struct ck_error *elf_read_page(struct ck_dump *dump, uint64_t pfn, void *buf)
{
	struct elf_priv *priv = dump->priv;
	uint32_t ps = dump->info.page_size;
	if (pfn >= dump->info.max_pfn)
		return elf_fault(dump, pfn);
	uint64_t start = pfn * ps, end = start + ps;	/* < max_pfn: no overflow */
	size_t i = piece_first(priv, start);
	if (i >= priv->nr_pieces || priv->pieces[i].paddr >= end)
		return elf_fault(dump, pfn);

	const struct elf_piece *p = &priv->pieces[i];
	uint64_t file_off = 0, file_len = 0;
	struct ck_error *err;
	if (p->paddr <= start && end - p->paddr <= p->filesz) {
		/* The common case: one segment holds the whole page. */
		file_off = p->offset + (start - p->paddr);
		file_len = ps;
		if (!ck_file_has(dump->file, file_off, ps))
			goto truncated;
		return ck_file_read(dump->file, file_off, buf, ps);
	}
	/* The page is partly covered or spans pieces: bytes no segment covers
	 * read as zeros (RAM ending mid-page, like 0x9fc00 on x86). */
	size_t first = i;
	for (; i < priv->nr_pieces && priv->pieces[i].paddr < end; i++) {
		p = &priv->pieces[i];
		if (CK_MIN(end, p->paddr + p->memsz) > CK_MAX(start, p->paddr + p->filesz))
			return elf_excluded(dump, pfn);
	}
	memset(buf, 0, ps);
	for (i = first; i < priv->nr_pieces && priv->pieces[i].paddr < end; i++) {
		p = &priv->pieces[i];
		uint64_t a = CK_MAX(start, p->paddr);
		uint64_t b = CK_MIN(end, p->paddr + p->filesz);
		if (a >= b)
			continue;
		file_off = p->offset + (a - p->paddr);
		file_len = b - a;
		if (!ck_file_has(dump->file, file_off, file_len))
			goto truncated;
		err = ck_file_read(dump->file, file_off, (uint8_t *)buf + (a - start),
				   file_len);
		if (err)
			return err;
	}
	return NULL;
truncated:
	return ck_error_create(CK_ERR_TRUNCATED,
		"'%s': pfn 0x%" PRIx64 " (physical address 0x%" PRIx64 ") is at offset 0x%"
		PRIx64 ", missing from the truncated file (size 0x%" PRIx64 ")",
		dump->info.path, pfn, start, file_off, dump->file->size);
}

static bool elf_has_page(struct ck_dump *dump, uint64_t pfn)
{
	struct elf_priv *priv = dump->priv;
	uint32_t ps = dump->info.page_size;
	if (pfn >= dump->info.max_pfn)
		return false;
	uint64_t start = pfn * ps, end = start + ps;
	bool any = false;
	for (size_t i = piece_first(priv, start);
	     i < priv->nr_pieces && priv->pieces[i].paddr < end; i++) {
		const struct elf_piece *p = &priv->pieces[i];
		uint64_t a = CK_MAX(start, p->paddr);
		uint64_t b = CK_MIN(end, p->paddr + p->filesz);
		if (CK_MIN(end, p->paddr + p->memsz) > CK_MAX(start, p->paddr + p->filesz))
			return false;	/* excluded, see elf_excluded() */
		if (a < b && !ck_file_has(dump->file, p->offset + (a - p->paddr), b - a))
			return false;
		any = true;
	}
	return any;
}

static bool elf_page_offset(struct ck_dump *dump, uint64_t pfn, uint64_t *off)
{
	struct elf_priv *priv = dump->priv;
	uint32_t ps = dump->info.page_size;
	if (pfn >= dump->info.max_pfn)
		return false;
	uint64_t start = pfn * ps, end = start + ps;
	size_t i = piece_first(priv, start);
	if (i >= priv->nr_pieces)
		return false;
	/* The common case of elf_read_page only. */
	const struct elf_piece *p = &priv->pieces[i];
	if (!(p->paddr <= start && end - p->paddr <= p->filesz))
		return false;
	*off = p->offset + (start - p->paddr);
	return ck_file_has(dump->file, *off, ps);
}

/*
 * elf_has_page over a range, piece by piece: the frames wholly inside a
 * piece's file data are there when the file holds that data (one check for
 * the whole run); the frames at a piece's edges, partly covered or shared
 * with a neighbour, are asked one by one.  Pieces are sorted and disjoint.
 */
static void elf_has_pages(struct ck_dump *dump, uint64_t start, uint64_t end, uint64_t *bm)
{
	struct elf_priv *priv = dump->priv;
	uint32_t ps = dump->info.page_size;
	end = CK_MIN(end, dump->info.max_pfn);
	if (start >= end)
		return;
	uint64_t edge_done = start;	/* frames below this are decided */
	for (size_t i = piece_first(priv, start * ps);
	     i < priv->nr_pieces && priv->pieces[i].paddr < end * ps; i++) {
		const struct elf_piece *p = &priv->pieces[i];
		/* whole frames of the file data, within [start, end) */
		uint64_t a = CK_MAX((p->paddr + ps - 1) / ps, start);
		uint64_t b = CK_MIN((p->paddr + p->filesz) / ps, end);
		/* the frame holding the piece's start, if partial */
		uint64_t head = p->paddr / ps;
		if (head >= CK_MAX(start, edge_done) && head < end && head * ps != p->paddr) {
			if (elf_has_page(dump, head))
				bm[(head - start) / 64] |= 1ull << ((head - start) % 64);
			edge_done = head + 1;
		}
		a = CK_MAX(a, edge_done);
		if (a < b) {
			if (ck_file_has(dump->file, p->offset + (a * ps - p->paddr), (b - a) * ps)) {
				ck_bitmap_set_range(bm, a - start, b - start);
			} else {
				for (uint64_t f = a; f < b; f++)	/* truncated file */
					if (elf_has_page(dump, f))
						bm[(f - start) / 64] |= 1ull << ((f - start) % 64);
			}
			edge_done = b;
		}
		/* the frame holding the file data's end, if partial */
		uint64_t tail = (p->paddr + p->filesz) / ps;
		if ((p->paddr + p->filesz) % ps && tail >= CK_MAX(start, edge_done) && tail < end) {
			if (elf_has_page(dump, tail))
				bm[(tail - start) / 64] |= 1ull << ((tail - start) % 64);
			edge_done = tail + 1;
		}
	}
}

static void loss_add(struct ck_dump_loss *loss, uint64_t first, uint64_t end)
{
	if (first >= end)
		return;
	if (!loss->pages)
		loss->first_pfn = first;
	loss->last_pfn = end - 1;
	loss->pages += end - first;
}

/* One frame at a piece's edge, shared with a neighbour or partly covered:
 * asked as ck_dump_lost_pages() asks every frame. */
static void loss_edge(struct ck_dump *dump, struct ck_dump_loss *loss, uint64_t pfn,
		      void *scratch)
{
	if (elf_has_page(dump, pfn))
		return;
	struct ck_error *err = elf_read_page(dump, pfn, scratch);
	if (err && ck_error_code(err) == CK_ERR_TRUNCATED)
		loss_add(loss, pfn, pfn + 1);
	ck_error_destroy(err);
}

/*
 * Pages lost to a cut, piece by piece: the whole frames of a piece's file
 * data are lost from the first whose bytes pass the end of the file (pieces
 * are disjoint, so no other piece decides them); its edge frames are asked
 * one by one.  [p_filesz, p_memsz) is excluded, not lost, and is never
 * walked: it may be claimed as large as the address space.
 */
static struct ck_error *elf_lost_pages(struct ck_dump *dump, struct ck_dump_loss *loss)
{
	struct elf_priv *priv = dump->priv;
	uint64_t ps = dump->info.page_size, size = dump->file->size;
	uint64_t done = 0;	/* frames below are decided */
	_cleanup_free_ uint8_t *scratch = malloc(ps);
	if (!scratch)
		return &ck_error_nomem;
	for (size_t i = 0; i < priv->nr_pieces; i++) {
		const struct elf_piece *p = &priv->pieces[i];
		if (!p->filesz || p->offset + p->filesz <= size)	/* checked at open */
			continue;
		uint64_t data_end = p->paddr + p->filesz;
		uint64_t a = (p->paddr + ps - 1) / ps, b = data_end / ps;
		uint64_t head = p->paddr / ps;
		if (head < a && head >= done) {
			loss_edge(dump, loss, head, scratch);
			done = head + 1;
		}
		/* bytes of the piece present; frame f is whole in the file when
		 * f * ps - paddr + ps <= have */
		uint64_t have = size > p->offset ? size - p->offset : 0;
		uint64_t m = have + p->paddr >= ps ? (have + p->paddr - ps) / ps + 1 : 0;
		m = CK_MAX(CK_MAX(m, a), done);
		if (m < b) {
			loss_add(loss, m, b);
			done = b;
		}
		if (data_end % ps && b >= done) {
			loss_edge(dump, loss, b, scratch);
			done = b + 1;
		}
	}
	return NULL;
}

const struct ck_dump_ops ck_dump_elf_ops = {
	.name = "elf",
	.open = elf_open,
	.read_page = elf_read_page,
	.has_page = elf_has_page,
	.has_pages = elf_has_pages,
	.page_offset = elf_page_offset,
	.loads = elf_loads,
	.lost_pages = elf_lost_pages,
	.close = elf_close,
};
