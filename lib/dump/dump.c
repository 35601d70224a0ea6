/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The dump layer's front door: opens a file, undoes makedumpfile's flattened
 * stream if there is one, and lets each format driver probe it in turn.  Also
 * the pieces every driver shares: the page cache behind ck_dump_read_phys()
 * and the ELF note parser.
 */
#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dump/dump.h"

/*
 * Probe order: kdump-compressed first because its signature is exact and at
 * offset 0; ELF last because it gives the most specific complaints (ELF files
 * that are not cores, 32-bit cores) when the magic matches.
 */
static const struct ck_dump_ops *const dump_drivers[] = {
	&ck_dump_kdump_ops,
	&ck_dump_elf_ops,
};

/* Frees whatever a driver that failed to open left behind and restores the
 * defaults, so that the next driver starts from a clean dump. */
static void dump_reset(struct ck_dump *dump)
{
	free(dump->ranges);
	dump->ranges = NULL;
	dump->nr_ranges = 0;
	free(dump->notes_buf);
	dump->notes_buf = NULL;
	dump->notes_len = 0;
	dump->notes_offset = 0;
	free(dump->notes);
	dump->notes = NULL;
	dump->nr_notes = 0;
	free(dump->vmcoreinfo);
	dump->vmcoreinfo = NULL;
	dump->vmcoreinfo_len = 0;
	memset(&dump->info, 0, sizeof(dump->info));
	dump->info.path = dump->file->path;
	dump->info.dump_level = -1;
	dump->info.compression = "none";
	dump->info.file_size = dump->file->real_size;
	dump->info.expected_size = dump->file->real_size;
}

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static struct ck_error *dump_probe(struct ck_dump *dump)
{
	for (size_t i = 0; i < CK_ARRAY_SIZE(dump_drivers); i++) {
		dump_reset(dump);
		struct ck_error *err = dump_drivers[i]->open(dump);
		if (!err) {
			dump->ops = dump_drivers[i];
			return NULL;
		}
		if (ck_error_code(err) != CK_ERR_NOT_FORMAT)
			return err;
		ck_error_destroy(err);
	}
	dump_reset(dump);
	if (dump->file->flattened) {
		if (dump->file->truncated)
			return ck_error_create(CK_ERR_TRUNCATED,
				"'%s': flattened stream cut off before a complete dump "
				"header (0x%" PRIx64 " bytes reassembled)",
				dump->file->path, dump->file->size);
		return ck_error_create(CK_ERR_NOT_FORMAT,
			"'%s': flattened stream holds neither a kdump-compressed nor "
			"an ELF dump", dump->file->path);
	}
	uint8_t magic[16] = {0};
	size_t n = 0;
	struct ck_error *err = ck_file_read_partial(dump->file, 0, magic, sizeof(magic), &n);
	if (err)
		return err;
	if (n == 0)
		return ck_error_create(CK_ERR_NOT_FORMAT, "'%s' is empty",
				       dump->file->path);
	/* A file cut inside a signature is a truncated dump, not a stranger. */
	static const char *const sigs[] = { "\177ELF", "KDUMP   ", "DISKDUMP", "makedumpfile" };
	for (size_t i = 0; i < CK_ARRAY_SIZE(sigs); i++) {
		if (n < strlen(sigs[i]) && !memcmp(magic, sigs[i], n))
			return ck_error_create(CK_ERR_TRUNCATED,
				"'%s': file ends at offset 0x%zx, inside the signature of a dump",
				dump->file->path, n);
	}
	char hex[8 * 3 + 1] = "";
	for (size_t i = 0, pos = 0; i < CK_MIN(n, (size_t)8); i++)
		pos += snprintf(hex + pos, sizeof(hex) - pos, "%s%02x", i ? " " : "", magic[i]);
	return ck_error_create(CK_ERR_NOT_FORMAT,
		"'%s' is not a crash dump: no ELF, kdump-compressed or flattened "
		"signature at offset 0 (first bytes %s)", dump->file->path, hex);
}

struct ck_error *ck_dump_open(const char *path, struct ck_dump **ret)
{
	struct ck_error *err;
	struct ck_dump *dump = calloc(1, sizeof(*dump));
	if (!dump)
		return &ck_error_nomem;

	err = ck_file_open(path, &dump->file);
	if (err)
		goto out;

	err = ck_flattened_index(dump->file);
	if (err) {
		if (ck_error_code(err) != CK_ERR_NOT_FORMAT)
			goto out;
		ck_error_destroy(err);
		err = NULL;
	}

	err = dump_probe(dump);
	if (err) {
		/* Offsets in the drivers' messages are of the reassembled file. */
		if (dump->file->flattened)
			err = ck_error_prepend(err, "flattened dump, reassembled");
		goto out;
	}

	struct ck_dump_info *info = &dump->info;
	/* Drivers check this too; the cache below depends on it. */
	if (!is_pow2(info->page_size) || info->page_size < 512 ||
	    info->page_size > (1u << 20)) {
		err = ck_error_create(CK_ERR_FORMAT, "'%s': unusable page size %" PRIu32,
				      path, info->page_size);
		goto out;
	}
	dump->cache_mem = ck_calloc_array(CK_PAGE_CACHE_SLOTS, info->page_size);
	if (!dump->cache_mem) {
		err = &ck_error_nomem;
		goto out;
	}
	if (dump->file->flattened) {
		snprintf(dump->format_buf, sizeof(dump->format_buf), "flattened-%s",
			 info->format);
		info->format = dump->format_buf;
		/* Drivers judged truncation on the logical (reassembled) file;
		 * a stream cut before its end record is truncated too.  Only
		 * then does expected_size keep the logical size the headers
		 * imply, as there is no telling how long the stream would be. */
		if (dump->file->truncated)
			info->truncated = true;
		if (!info->truncated)
			info->expected_size = info->file_size;
	}
	*ret = dump;
	dump = NULL;
out:
	ck_dump_destroy(dump);
	return err;
}

struct ck_error *ck_dump_open_split(const char *const *paths, size_t nr,
				    struct ck_dump **ret)
{
	if (nr == 0)
		return ck_error_create(CK_ERR_INVALID, "no dump files given");
	struct ck_dump *dump = NULL, **others = ck_calloc_array(nr, sizeof(*others));
	if (!others)
		return &ck_error_nomem;
	struct ck_error *err = ck_dump_open(paths[0], &dump);
	size_t opened = 0;
	for (; !err && opened + 1 < nr; opened++)
		err = ck_dump_open(paths[opened + 1], &others[opened]);
	if (!err && nr > 1) {
		err = ck_dump_join(dump, others, nr - 1);
		opened = 0;	/* taken */
	}
	for (size_t i = 0; i < opened; i++)
		ck_dump_destroy(others[i]);
	free(others);
	if (err) {
		ck_dump_destroy(dump);
		return err;
	}
	*ret = dump;
	return NULL;
}

struct ck_error *ck_dump_join(struct ck_dump *dump, struct ck_dump **others, size_t nr)
{
	if (dump->ops->join)
		return dump->ops->join(dump, others, nr);
	for (size_t i = 0; i < nr; i++)
		ck_dump_destroy(others[i]);
	return ck_error_create(CK_ERR_INVALID, "'%s' is not a file of a split dump",
			       dump->info.path);
}

size_t ck_dump_loads(const struct ck_dump *dump, const struct ck_elf_load **ret,
		     uint16_t *machine)
{
	if (!dump->ops->loads) {
		*ret = NULL;
		return 0;
	}
	return dump->ops->loads(dump, ret, machine);
}

void ck_dump_destroy(struct ck_dump *dump)
{
	if (!dump)
		return;
	if (dump->ops && dump->ops->close)
		dump->ops->close(dump);
	free(dump->ranges);
	free(dump->notes_buf);
	free(dump->notes);
	free(dump->vmcoreinfo);
	free(dump->cache_mem);
	ck_file_destroy(dump->file);
	free(dump);
}

const struct ck_dump_info *ck_dump_info(const struct ck_dump *dump)
{
	return &dump->info;
}

void ck_dump_mem_ranges(const struct ck_dump *dump, const struct ck_mem_range **ret,
			size_t *nr_ret)
{
	*ret = dump->ranges;
	*nr_ret = dump->nr_ranges;
}

void ck_dump_notes(const struct ck_dump *dump, const struct ck_note **ret,
		   size_t *nr_ret)
{
	*ret = dump->notes;
	*nr_ret = dump->nr_notes;
}

const char *ck_dump_vmcoreinfo(const struct ck_dump *dump, size_t *len_ret)
{
	if (len_ret)
		*len_ret = dump->vmcoreinfo ? dump->vmcoreinfo_len : 0;
	return dump->vmcoreinfo;
}

static bool dump_cached(const struct ck_dump *dump, uint64_t pfn)
{
	for (unsigned int i = 0; i < CK_PAGE_CACHE_SLOTS; i++)
		if (dump->cache_valid[i] && dump->cache_pfn[i] == pfn)
			return true;
	return false;
}

/* Returns the cached copy of page pfn, reading it on a miss. */
static struct ck_error *dump_get_page(struct ck_dump *dump, uint64_t pfn,
				      const uint8_t **ret)
{
	uint32_t ps = dump->info.page_size;
	for (unsigned int i = 0; i < CK_PAGE_CACHE_SLOTS; i++) {
		if (dump->cache_valid[i] && dump->cache_pfn[i] == pfn) {
			*ret = dump->cache_mem + (size_t)i * ps;
			return NULL;
		}
	}
	/* Round robin: the readers that hit this cache walk structures a few
	 * pages at a time, so recency tracking buys little over FIFO. */
	unsigned int slot = dump->cache_next;
	dump->cache_next = (slot + 1) % CK_PAGE_CACHE_SLOTS;
	dump->cache_valid[slot] = false;
	uint8_t *mem = dump->cache_mem + (size_t)slot * ps;
	struct ck_error *err = dump->ops->read_page(dump, pfn, mem);
	if (err)
		return err;
	dump->cache_pfn[slot] = pfn;
	dump->cache_valid[slot] = true;
	*ret = mem;
	return NULL;
}

struct ck_error *ck_dump_read_phys(struct ck_dump *dump, uint64_t paddr, void *buf,
				   size_t len)
{
	uint64_t end;
	if (ck_add_overflow(paddr, len, &end))
		return ck_error_create(CK_ERR_FAULT,
			"'%s': read of %zu bytes at physical address 0x%" PRIx64
			" wraps around the address space", dump->info.path, len, paddr);
	uint32_t ps = dump->info.page_size;
	uint8_t *out = buf;
	while (len) {
		uint64_t pfn = paddr / ps;
		size_t in = paddr % ps;
		size_t n = CK_MIN(len, (size_t)ps - in);
		struct ck_error *err;
		if (n == ps && !dump_cached(dump, pfn)) {
			/* A whole page that is not cached goes straight to the
			 * caller: bulk readers (capture, xcheck) gain a copy and
			 * do not flush the cache the structure readers use. */
			err = dump->ops->read_page(dump, pfn, out);
			if (err)
				return err;
			out += n;
			paddr += n;
			len -= n;
			continue;
		}
		const uint8_t *page;
		err = dump_get_page(dump, pfn, &page);
		if (err)
			return err;
		memcpy(out, page + in, n);
		out += n;
		paddr += n;
		len -= n;
	}
	return NULL;
}

bool ck_dump_has_page(struct ck_dump *dump, uint64_t pfn)
{
	return dump->ops->has_page(dump, pfn);
}

void ck_dump_has_pages(struct ck_dump *dump, uint64_t start, uint64_t end, const uint64_t *mask,
		       uint64_t *bm)
{
	size_t words = (end - start + 63) / 64;
	if (dump->ops->has_pages) {
		memset(bm, 0, words * 8);
		dump->ops->has_pages(dump, start, end, bm);
		for (size_t w = 0; w < words; w++)
			bm[w] &= mask[w];
		return;
	}
	for (size_t w = 0; w < words; w++) {
		uint64_t m = mask[w], have = 0;
		while (m) {
			unsigned int b = (unsigned int)__builtin_ctzll(m);
			m &= m - 1;
			if (dump->ops->has_page(dump, start + w * 64 + b))
				have |= 1ull << b;
		}
		bm[w] = have;
	}
}

void ck_dump_page_bitmaps(struct ck_dump *dump, uint64_t start, uint64_t end, uint64_t *mem,
			  uint64_t *have)
{
	uint32_t ps = dump->info.page_size;
	memset(mem, 0, (end - start + 63) / 64 * 8);
	for (size_t i = 0; i < dump->nr_ranges; i++) {
		const struct ck_mem_range *r = &dump->ranges[i];
		uint64_t a = CK_MAX(r->start / ps, start);
		uint64_t b = CK_MIN((r->start + r->size + ps - 1) / ps, end);
		if (a < b)
			ck_bitmap_set_range(mem, a - start, b - start);
	}
	ck_dump_has_pages(dump, start, end, mem, have);
}

/*
 * A page is lost when the headers say it was saved but its bytes (or its
 * descriptor) lie past the end of the file.  Drivers report that as
 * CK_ERR_TRUNCATED from read_page before doing any decompression, so asking
 * read_page about each page that has_page() refuses is cheap, and tells lost
 * pages apart from pages filtered out on purpose.
 */
struct ck_error *ck_dump_lost_pages(struct ck_dump *dump, struct ck_dump_loss *ret)
{
	struct ck_dump_loss loss = { 0 };
	if (!dump->info.truncated) {
		*ret = loss;
		return NULL;
	}
	if (dump->ops->lost_pages) {
		struct ck_error *err = dump->ops->lost_pages(dump, &loss);
		if (!err)
			*ret = loss;
		return err;
	}
	uint32_t ps = dump->info.page_size;
	uint8_t *scratch = malloc(ps);
	if (!scratch)
		return &ck_error_nomem;
	for (size_t r = 0; r < dump->nr_ranges; r++) {
		uint64_t first = dump->ranges[r].start / ps;
		uint64_t end = (dump->ranges[r].start + dump->ranges[r].size + ps - 1) / ps;
		for (uint64_t pfn = first; pfn < end; pfn++) {
			if (dump->ops->has_page(dump, pfn))
				continue;
			struct ck_error *err = dump->ops->read_page(dump, pfn, scratch);
			bool lost = err && ck_error_code(err) == CK_ERR_TRUNCATED;
			ck_error_destroy(err);
			if (!lost)
				continue;
			if (!loss.pages)
				loss.first_pfn = pfn;
			loss.last_pfn = pfn;
			loss.pages++;
		}
	}
	free(scratch);
	*ret = loss;
	return NULL;
}

/* ---- ELF notes ---------------------------------------------------------- */

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * Walks the note records in buf.  With notes == NULL it only validates and
 * counts them.  A header of all zeros ends the walk: /proc/vmcore and some
 * writers pad the note segment with zeros.
 */
static struct ck_error *notes_walk(struct ck_dump *dump, struct ck_note *notes,
				   size_t *nr_ret)
{
	const uint8_t *buf = dump->notes_buf;
	uint64_t len = dump->notes_len;
	uint64_t off = 0;
	size_t nr = 0;
	while (len - off >= 12) {
		uint32_t namesz = get_u32(buf + off);
		uint32_t descsz = get_u32(buf + off + 4);
		uint32_t type = get_u32(buf + off + 8);
		if (!namesz && !descsz && !type)
			break;
		uint64_t name_off = off + 12;
		/* 64-bit arithmetic on 32-bit fields: cannot overflow. */
		uint64_t desc_off = name_off + (((uint64_t)namesz + 3) & ~3ull);
		uint64_t desc_end = desc_off + descsz;
		uint64_t next = desc_off + (((uint64_t)descsz + 3) & ~3ull);
		if (desc_off > len || desc_end > len) {
			return ck_error_create(CK_ERR_FORMAT,
				"'%s': ELF note at offset 0x%" PRIx64 " (n_namesz %" PRIu32
				", n_descsz %" PRIu32 ") extends past the end of the notes "
				"(0x%" PRIx64 " bytes at offset 0x%" PRIx64 ")",
				dump->info.path, dump->notes_offset + off, namesz, descsz,
				len, dump->notes_offset);
		}
		const char *name = "";
		if (namesz) {
			name = (const char *)buf + name_off;
			if (memchr(name, '\0', namesz) == NULL) {
				return ck_error_create(CK_ERR_FORMAT,
					"'%s': ELF note at offset 0x%" PRIx64
					": name is not NUL-terminated",
					dump->info.path, dump->notes_offset + off);
			}
		}
		if (notes) {
			notes[nr] = (struct ck_note){
				.name = name,
				.type = type,
				.desc = buf + desc_off,
				.descsz = descsz,
			};
		}
		nr++;
		/* The last note's padding may be cut off; that loses nothing. */
		off = CK_MIN(next, len);
	}
	*nr_ret = nr;
	return NULL;
}

struct ck_error *ck_dump_parse_notes(struct ck_dump *dump)
{
	size_t nr;
	struct ck_error *err = notes_walk(dump, NULL, &nr);
	if (err)
		return err;
	struct ck_note *notes = ck_calloc_array(nr, sizeof(*notes));
	if (!notes)
		return &ck_error_nomem;
	err = notes_walk(dump, notes, &nr);
	if (err) {
		free(notes);
		return err;
	}

	uint32_t nr_prstatus = 0;
	const struct ck_note *vmcoreinfo = NULL;
	for (size_t i = 0; i < nr; i++) {
		if (notes[i].type == NT_PRSTATUS && !strcmp(notes[i].name, "CORE"))
			nr_prstatus++;
		/* Type 0 as the kernel writes it (crash_save_vmcoreinfo). */
		if (!vmcoreinfo && !strcmp(notes[i].name, "VMCOREINFO"))
			vmcoreinfo = &notes[i];
	}
	if (vmcoreinfo && !dump->vmcoreinfo) {
		/* The descriptor is text padded with NULs; keep the text. */
		size_t n = strnlen(vmcoreinfo->desc, vmcoreinfo->descsz);
		char *text = malloc(n + 1);
		if (!text) {
			free(notes);
			return &ck_error_nomem;
		}
		memcpy(text, vmcoreinfo->desc, n);
		text[n] = '\0';
		dump->vmcoreinfo = text;
		dump->vmcoreinfo_len = n;
	}
	if (!dump->info.nr_cpus)
		dump->info.nr_cpus = nr_prstatus;
	free(dump->notes);
	dump->notes = notes;
	dump->nr_notes = nr;
	return NULL;
}
