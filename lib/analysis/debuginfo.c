/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A DWARF vmlinux given by the user (docs/analysis.md, "DWARF"): checked
 * against the dump (build id, else banner), then read with libdw for source
 * lines: `bt -l`, `sym`.  The answers from the dump alone do not need it.
 *
 * Addresses in the dump are relocated by KASLR; the vmlinux's are link-time
 * addresses: a lookup subtracts ck_kernel_offset().
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/analysis.h"
#include "base/hash_map.h"
#include "base/vector.h"

/* The longest banner compared ("Linux version ... (date)\n" is ~200). */
#define BANNER_MAX 512

/* libdw's file name (a pointer into its line tables) -> the name as shown */
static size_t ptr_hash(const char *const *k) { return ck_hash_u64((uintptr_t)*k); }
static bool ptr_eq(const char *const *a, const char *const *b) { return *a == *b; }
CK_DEFINE_HASH_MAP(ck_src_names, const char *, char *, ptr_hash, ptr_eq)

/* One row of a source file's line table as gdb keeps it (see cu_lines). */
struct line_entry {
	uint64_t pc;
	int32_t line;		/* 0: end of a run of lines */
	bool stmt;
	uint32_t idx;		/* order of recording, for a stable sort */
};
CK_DEFINE_VECTOR(ck_line_entries, struct line_entry)

struct subfile {
	const char *name;	/* libdw's file name */
	struct ck_line_entries rows;
};
CK_DEFINE_VECTOR(ck_subfiles, struct subfile)

/* A CU's line tables, one per source file, in the order they are searched. */
struct cu_lines {
	struct ck_subfiles files;
};
static size_t off_hash(const uint64_t *k) { return ck_hash_u64(*k); }
static bool off_eq(const uint64_t *a, const uint64_t *b) { return *a == *b; }
CK_DEFINE_HASH_MAP(ck_cu_lines, uint64_t, struct cu_lines *, off_hash, off_eq)
CK_DEFINE_HASH_MAP(ck_src_index, const char *, size_t, ptr_hash, ptr_eq)

struct moddebug {
	char name[64];
	struct ck_debuginfo *d;
};
CK_DEFINE_VECTOR(ck_moddebugs, struct moddebug)

struct mod_map {
	uint64_t real, layout, size;
};
CK_DEFINE_VECTOR(ck_mod_maps, struct mod_map)

struct ck_debuginfo {
	struct ck_analysis *a;
	struct ck_mod_maps maps;	/* a module's: its sections, loaded and laid out */
	struct ck_moddebugs mods;	/* module debug files (mod -s, -S) */
	struct ck_types *base_types;	/* the vmlinux's, under module types */
	char *path;
	int fd;
	Elf *elf;
	Dwfl *dwfl;		/* libdwfl over the same file, for the DWARF */
	Dwfl_Module *mod;
	uint64_t offset;	/* dump address - link-time address */
	struct ck_src_names names;
	struct ck_cu_lines cus;		/* CU DIE offset -> its line tables */
};

static struct ck_debuginfo *debuginfo_of(const struct ck_analysis *a)
{
	return a->debuginfo;
}

static void cu_lines_destroy(struct cu_lines *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < ck_subfiles_size(&c->files); i++)
		ck_line_entries_deinit(&ck_subfiles_at(&c->files, i)->rows);
	ck_subfiles_deinit(&c->files);
	free(c);
}

static void debuginfo_destroy(struct ck_debuginfo *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < ck_moddebugs_size(&d->mods); i++)
		debuginfo_destroy(ck_moddebugs_at(&d->mods, i)->d);
	ck_moddebugs_deinit(&d->mods);
	ck_mod_maps_deinit(&d->maps);
	size_t pos = 0;
	for (struct ck_src_names_entry *e; (e = ck_src_names_next(&d->names, &pos));)
		free(e->value);
	ck_src_names_deinit(&d->names);
	pos = 0;
	for (struct ck_cu_lines_entry *e; (e = ck_cu_lines_next(&d->cus, &pos));)
		cu_lines_destroy(e->value);
	ck_cu_lines_deinit(&d->cus);
	if (d->dwfl)
		dwfl_end(d->dwfl);
	if (d->elf)
		elf_end(d->elf);
	if (d->fd >= 0)
		close(d->fd);
	free(d->path);
	free(d);
}

static void debuginfo_unlink(struct ck_analysis *a)
{
	/* module types are split BTF over the vmlinux's: back to those */
	if (a->debuginfo && a->debuginfo->base_types) {
		ck_types_destroy(a->types);
		a->types = a->debuginfo->base_types;
		a->debuginfo->base_types = NULL;
	}
	debuginfo_destroy(a->debuginfo);
	a->debuginfo = NULL;
}

void ck_debuginfo_destroy(struct ck_analysis *a)
{
	debuginfo_unlink(a);
}

bool ck_debuginfo_present(const struct ck_analysis *a)
{
	return debuginfo_of(a) != NULL;
}

const char *ck_debuginfo_path(const struct ck_analysis *a)
{
	const struct ck_debuginfo *d = debuginfo_of(a);
	return d ? d->path : NULL;
}

/* The vmlinux as ELF: an x86_64 executable (not a core, not a module). */
static struct ck_error *open_elf(struct ck_debuginfo *d, int type)
{
	d->fd = open(d->path, O_RDONLY | O_CLOEXEC);
	if (d->fd < 0)
		return ck_error_create_errno(errno, "cannot open '%s'", d->path);
	elf_version(EV_CURRENT);
	/* mmap: the debug sections are hundreds of MiB, read where looked at */
	d->elf = elf_begin(d->fd, ELF_C_READ_MMAP, NULL);
	if (!d->elf || elf_kind(d->elf) != ELF_K_ELF)
		return ck_error_create(CK_ERR_FORMAT, "'%s' is not an ELF file", d->path);
	GElf_Ehdr eh;
	if (!gelf_getehdr(d->elf, &eh))
		return ck_error_create(CK_ERR_FORMAT, "'%s': bad ELF header: %s", d->path,
				       elf_errmsg(-1));
	if (eh.e_type != type || eh.e_machine != EM_X86_64)
		return ck_error_create(CK_ERR_FORMAT,
				       "'%s' is not an x86_64 %s (ELF type %u, machine %u)",
				       d->path, type == ET_REL ? "kernel module" : "kernel image",
				       eh.e_type, eh.e_machine);
	return NULL;
}

/* Separate debug files are not looked for (nor fetched from debuginfod):
 * the vmlinux given must carry its DWARF. */
static int no_separate_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
				 Dwarf_Addr base, const char *file_name,
				 const char *debuglink_file, GElf_Word debuglink_crc,
				 char **debuginfo_file_name)
{
	return -1;
}

static const Dwfl_Callbacks offline_callbacks = {
	.find_debuginfo = no_separate_debuginfo,
	.section_address = dwfl_offline_section_address,
};

/*
 * The DWARF, through libdwfl (after the match check: a wrong vmlinux is
 * told as such even when it also lacks DWARF).  libdwfl rather than
 * dwarf_begin_elf + dwarf_addrdie: .debug_aranges does not cover every CU's
 * code (7.3's .init.text of init/do_mounts.c, mm/memtest.c), and libdwfl
 * falls back to the CUs' own ranges where it has no entry.
 */
static struct ck_error *open_dwarf(struct ck_debuginfo *d)
{
	d->dwfl = dwfl_begin(&offline_callbacks);
	if (!d->dwfl)
		return &ck_error_nomem;
	d->mod = dwfl_report_offline(d->dwfl, "vmlinux", d->path, -1);
	dwfl_report_end(d->dwfl, NULL, NULL);
	Dwarf_Addr bias;
	if (!d->mod || !dwfl_module_getdwarf(d->mod, &bias))
		return ck_error_create(CK_ERR_NOT_FOUND,
				       "VMLINUX '%s' has no DWARF (%s): give the vmlinux of the "
				       "debug package (e.g. /usr/lib/debug/boot/vmlinux-RELEASE)",
				       d->path, dwfl_errmsg(-1));
	return NULL;
}

/* The vmlinux's build id as hex into out (41 bytes); false if none. */
static bool vmlinux_build_id(struct ck_debuginfo *d, char out[41])
{
	const void *id;
	ssize_t len = dwelf_elf_gnu_build_id(d->elf, &id);
	if (len <= 0 || len > 20)
		return false;
	for (ssize_t i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", ((const unsigned char *)id)[i]);
	return true;
}

/* The file bytes of the vmlinux at link-time address addr, up to len. */
static size_t vmlinux_read(struct ck_debuginfo *d, uint64_t addr, char *buf, size_t len)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(d->elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_ALLOC))
			continue;
		if (addr < sh.sh_addr || addr - sh.sh_addr >= sh.sh_size)
			continue;
		Elf_Data *data = elf_getdata(scn, NULL);
		uint64_t off = addr - sh.sh_addr;
		if (!data || !data->d_buf || off >= data->d_size)
			return 0;
		size_t n = data->d_size - off < len ? data->d_size - off : len;
		memcpy(buf, (const char *)data->d_buf + off, n);
		return n;
	}
	return 0;
}

/* linux_banner of the vmlinux (its .symtab) into buf; false if not found. */
static bool vmlinux_banner(struct ck_debuginfo *d, char *buf, size_t size)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(d->elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize)
			continue;
		Elf_Data *data = elf_getdata(scn, NULL);
		size_t nr = sh.sh_size / sh.sh_entsize;
		for (size_t i = 0; data && i < nr; i++) {
			GElf_Sym sym;
			if (!gelf_getsym(data, (int)i, &sym))
				break;
			const char *name = elf_strptr(d->elf, sh.sh_link, sym.st_name);
			if (!name || strcmp(name, "linux_banner"))
				continue;
			size_t n = vmlinux_read(d, sym.st_value, buf, size - 1);
			buf[n] = '\0';
			return n && memchr(buf, '\0', n + 1) && buf[0];
		}
	}
	return false;
}

/* The dump's linux_banner through kallsyms into buf; false if unreadable. */
static bool dump_banner(struct ck_analysis *a, char *buf, size_t size)
{
	struct ck_symbol sym;
	struct ck_error *err = ck_kernel_symbol_by_name(a->kernel, "linux_banner", &sym);
	if (err) {
		ck_error_destroy(err);
		return false;
	}
	/* a page at a time: the page after the banner may be missing */
	size_t got = 0;
	while (got < size - 1) {
		uint64_t addr = sym.address + got;
		size_t n = 4096 - (addr & 4095);
		if (n > size - 1 - got)
			n = size - 1 - got;
		err = ck_kernel_read(a->kernel, addr, buf + got, n);
		if (err) {
			ck_error_destroy(err);
			break;
		}
		got += n;
		if (memchr(buf + got - n, '\0', n))
			break;
	}
	buf[got] = '\0';
	return got && buf[0];
}

/* A banner as a mismatch message shows it: the release and the version
 * ("6.1.0-57-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-11-26)"),
 * the compiler and builder left out. */
static void banner_short(const char *banner, char *out, size_t size)
{
	const char *rel = banner;
	if (!strncmp(rel, "Linux version ", 14))
		rel += 14;
	size_t rlen = strcspn(rel, " \n");
	const char *ver = strstr(rel, " #");
	size_t vlen = ver ? strcspn(ver, "\n") : 0;
	snprintf(out, size, "%.*s%.*s", (int)rlen, rel, (int)vlen, ver ? ver : "");
}

/*
 * Whether the vmlinux is the dump's kernel: VMCOREINFO's BUILD-ID (Linux
 * 5.9, "kdump: append kernel build-id string to VMCOREINFO") against the
 * vmlinux's NT_GNU_BUILD_ID; without it, the banners.  NULL when they match,
 * else the error that says how they differ.
 */
static struct ck_error *check_match(struct ck_analysis *a, struct ck_debuginfo *d)
{
	char id[41] = "";
	const char *dump_id = ck_kernel_vmcoreinfo_str(a->kernel, "BUILD-ID");
	if (dump_id && *dump_id) {
		if (!vmlinux_build_id(d, id))
			return ck_error_create(CK_ERR_INVALID,
					       "VMLINUX '%s' has no build id, the dump's is %s",
					       d->path, dump_id);
		if (strncasecmp(id, dump_id, strlen(id)) || strlen(dump_id) != strlen(id))
			return ck_error_create(CK_ERR_INVALID,
					       "VMLINUX '%s' does not match the dump: build id %s, "
					       "the dump's %s",
					       d->path, id, dump_id);
		return NULL;
	}
	char mine[BANNER_MAX], theirs[BANNER_MAX];
	if (!vmlinux_banner(d, mine, sizeof(mine)))
		return ck_error_create(CK_ERR_INVALID,
				       "cannot check that VMLINUX '%s' matches the dump: the dump "
				       "has no BUILD-ID and the vmlinux no linux_banner", d->path);
	if (!dump_banner(a, theirs, sizeof(theirs)))
		return ck_error_create(CK_ERR_INVALID,
				       "cannot check that VMLINUX '%s' matches the dump: the dump "
				       "has no BUILD-ID and its linux_banner cannot be read", d->path);
	if (!strcmp(mine, theirs))
		return NULL;
	char s1[160], s2[160];
	banner_short(mine, s1, sizeof(s1));
	banner_short(theirs, s2, sizeof(s2));
	return ck_error_create(CK_ERR_INVALID,
			       "VMLINUX '%s' does not match the dump: banner '%s', the dump's '%s'",
			       d->path, s1, s2);
}

/* An empty debug file: no fd, empty tables. */
static struct ck_debuginfo *debuginfo_new(void)
{
	struct ck_debuginfo *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->fd = -1;
	ck_src_names_init(&d->names);
	ck_cu_lines_init(&d->cus);
	ck_moddebugs_init(&d->mods);
	ck_mod_maps_init(&d->maps);
	return d;
}

/*
 * With a vmlinux the types come from its DWARF (docs/analysis.md, "Types
 * from DWARF"): crash's answers are gdb's, from DWARF.  The dump's BTF
 * stays in use when the conversion fails (a warning says why).
 */
static void use_dwarf_types(struct ck_analysis *a, struct ck_debuginfo *d,
			    const struct ck_analysis_vmlinux_opts *opts)
{
	Dwarf_Addr bias;
	Dwarf *dw = dwfl_module_getdwarf(d->mod, &bias);
	char id[41] = "";
	struct ck_types *types = NULL;
	struct ck_dwarf_btf_stats st;
	if (!vmlinux_build_id(d, id))
		id[0] = '\0';
	struct ck_error *err = dw ? ck_types_from_dwarf(dw, d->elf, id, &types, &st)
				  : ck_error_create(CK_ERR_NOT_FOUND, "no DWARF");
	if (err) {
		if (opts && opts->warn) {
			struct ck_error *w = ck_error_prepend(err, "types from '%s' (using the dump's "
							      "BTF)", d->path);
			opts->warn(opts->warn_arg, ck_error_message(w));
			ck_error_destroy(w);
		} else {
			ck_error_destroy(err);
		}
		return;
	}
	if (getenv("CK_DWARF_STATS"))
		fprintf(stderr, "types from DWARF: %s, %u CUs, %llu type DIEs, %u BTF types, "
			"%u FUNCs, %u VARs, %u refused, %u members refused, %u dedups%s\n",
			st.cached ? "cached" : "converted", st.cus, (unsigned long long)st.dies,
			st.types, st.funcs, st.vars, st.fillers, st.bad_members, st.dedups,
			st.cache_written ? ", cache written" : "");
	ck_types_set_from_dwarf(types, true);
	ck_types_destroy(a->types);
	a->types = types;
	ck_error_destroy(a->types_error);
	a->types_error = NULL;
}

struct ck_error *ck_analysis_set_vmlinux(struct ck_analysis *a, const char *path,
					 const struct ck_analysis_vmlinux_opts *opts)
{
	debuginfo_unlink(a);
	if (!path)
		return NULL;
	struct ck_debuginfo *d = debuginfo_new();
	if (!d)
		return &ck_error_nomem;
	d->offset = ck_kernel_offset(a->kernel);
	d->path = strdup(path);
	if (!d->path) {
		debuginfo_destroy(d);
		return &ck_error_nomem;
	}
	struct ck_error *err = open_elf(d, ET_EXEC);
	if (!err)
		err = check_match(a, d);
	if (err && ck_error_code(err) == CK_ERR_INVALID && opts && opts->force) {
		if (opts->warn) {
			struct ck_error *w = ck_error_create(CK_ERR_INVALID,
							     "%s; using it anyway (--force)",
							     ck_error_message(err));
			opts->warn(opts->warn_arg, ck_error_message(w));
			ck_error_destroy(w);
		}
		ck_error_destroy(err);
		err = NULL;
	}
	if (!err)
		err = open_dwarf(d);
	if (err) {
		debuginfo_destroy(d);
		return err;
	}
	a->debuginfo = d;
	use_dwarf_types(a, d, opts);
	return NULL;
}

/*
 * Source lines as crash shows them.  crash asks gdb, and gdb does not take
 * the last row of the line program at or below the address (as libdw's
 * dwarf_getsrc_die and addr2line do): it first splits the rows into one
 * table per source file, dropping some, then searches every file's table.
 * The rules below are gdb's (16.x, dwarf2/read.c's line state machine,
 * buildsym.c, symtab.c's find_pc_sect_line), as observed and documented
 * there; with them our `bt -l` and `sym` agree with crash where libdw's
 * answer differs in ~1 address of 8 (inlined code, non-statement rows).
 *
 * Building, per sequence of rows in program order:
 *  - a row of another file than the last recorded one ends the last file's
 *    run: a line-0 entry at the row's address, which first removes that
 *    file's entries at the same address;
 *  - except that a non-statement row switching files at an address that
 *    already had a statement row is ignored (so is every row of line 0);
 *  - a row of the same file and line as the last recorded one is dropped
 *    when the line has had a non-zero discriminator;
 *  - the end of a sequence ends the last file's run likewise.
 * Each table is then sorted by address (line-0 entries first among equal
 * addresses, otherwise stable).
 *
 * Lookup: in every table the last entry at or below the address; a line-0
 * entry there means "not in this file"; the entry with the highest address
 * wins, the first table searched on ties (the CU's main file first, then
 * the files in the reverse order of their first appearance); a
 * non-statement entry gives way to a statement entry just before it at the
 * same address.
 */
struct line_state {
	struct cu_lines *c;
	uint32_t next_idx;
	/* per sequence */
	size_t last_file;	/* SIZE_MAX: none yet */
	int32_t last_line;
	int32_t line;		/* the previous row's line, for discriminators */
	bool nonzero_discr;
	uint64_t last_addr;
	bool stmt_at_addr;
};

static void line_state_reset(struct line_state *st)
{
	st->last_file = SIZE_MAX;
	st->last_line = 0;
	st->line = 1;
	st->nonzero_discr = false;
	st->last_addr = 0;
	st->stmt_at_addr = false;
}

static bool lines_record(struct line_state *st, size_t file, uint64_t pc, int32_t line,
			 bool stmt)
{
	struct ck_line_entries *rows = &ck_subfiles_at(&st->c->files, file)->rows;
	if (line == 0) {
		bool any = ck_line_entries_size(rows) > 0;
		while (ck_line_entries_size(rows) &&
		       ck_line_entries_at(rows, ck_line_entries_size(rows) - 1)->pc == pc)
			ck_line_entries_pop(rows);
		if (!any)
			return true;
	}
	struct line_entry e = { .pc = pc, .line = line, .stmt = stmt, .idx = st->next_idx++ };
	return ck_line_entries_append(rows, &e);
}

/* The table of libdw's file name src, made on first sight. */
static bool lines_file(struct cu_lines *c, struct ck_src_index *index, const char *src,
		       size_t *ret)
{
	struct ck_src_index_entry *e = ck_src_index_search(index, &src);
	if (e) {
		*ret = e->value;
		return true;
	}
	/* gdb keys its tables by name: two file entries may name one file */
	size_t i;
	for (i = 0; i < ck_subfiles_size(&c->files); i++)
		if (!strcmp(ck_subfiles_at(&c->files, i)->name, src))
			break;
	if (i == ck_subfiles_size(&c->files)) {
		struct subfile *f = ck_subfiles_append_entry(&c->files);
		if (!f)
			return false;
		f->name = src;
		ck_line_entries_init(&f->rows);
	}
	struct ck_src_index_entry ne = { .key = src, .value = i };
	if (ck_src_index_insert(index, &ne, NULL) < 0)
		return false;
	*ret = i;
	return true;
}

/* One row of the line program, as gdb's line state machine records it. */
static bool lines_row(struct line_state *st, size_t file, Dwarf_Line *l)
{
	Dwarf_Addr addr = 0;
	int line = 0;
	bool stmt = false, end = false;
	unsigned int discr = 0;
	dwarf_lineaddr(l, &addr);
	dwarf_lineno(l, &line);
	dwarf_linebeginstatement(l, &stmt);
	dwarf_lineendsequence(l, &end);
	dwarf_linediscriminator(l, &discr);
	if (line != st->line)
		st->nonzero_discr = discr != 0;
	else
		st->nonzero_discr |= discr != 0;
	st->line = line;
	bool changed = st->last_file != file;
	bool ignore = (changed && !end && st->last_addr == addr && !stmt && st->stmt_at_addr) ||
		      (!end && line == 0);
	bool ok = true;
	if (((changed && !ignore) || end) && st->last_file != SIZE_MAX)
		ok = lines_record(st, st->last_file, addr, 0, true);
	if (ok && !end && !ignore &&
	    (changed || line != st->last_line || !st->nonzero_discr)) {
		st->last_file = file;
		st->last_line = line;
		ok = lines_record(st, file, addr, line, stmt);
	}
	if (st->last_addr != addr) {
		st->stmt_at_addr = false;
		st->last_addr = addr;
	}
	st->stmt_at_addr |= stmt;
	if (end)
		line_state_reset(st);
	return ok;
}

static int line_entry_cmp(const void *pa, const void *pb)
{
	const struct line_entry *a = pa, *b = pb;
	if (a->pc != b->pc)
		return a->pc < b->pc ? -1 : 1;
	if ((a->line == 0) != (b->line == 0))
		return a->line == 0 ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Sorts each table; the CU's main file (DW_AT_name) first, then the others
 * newest first. */
static void lines_order(struct cu_lines *c, const char *main_name)
{
	size_t n = ck_subfiles_size(&c->files);
	for (size_t i = 0; i < n; i++) {
		struct ck_line_entries *rows = &ck_subfiles_at(&c->files, i)->rows;
		if (ck_line_entries_size(rows))
			qsort(ck_line_entries_at(rows, 0), ck_line_entries_size(rows),
			      sizeof(struct line_entry), line_entry_cmp);
	}
	for (size_t i = 0; i < n / 2; i++) {
		struct subfile t = *ck_subfiles_at(&c->files, i);
		*ck_subfiles_at(&c->files, i) = *ck_subfiles_at(&c->files, n - 1 - i);
		*ck_subfiles_at(&c->files, n - 1 - i) = t;
	}
	for (size_t i = 0; main_name && i < n; i++) {
		if (strcmp(ck_subfiles_at(&c->files, i)->name, main_name))
			continue;
		struct subfile m = *ck_subfiles_at(&c->files, i);
		memmove(ck_subfiles_at(&c->files, 1), ck_subfiles_at(&c->files, 0),
			i * sizeof(struct subfile));
		*ck_subfiles_at(&c->files, 0) = m;
		break;
	}
}

static struct ck_error *cu_lines_build(struct ck_debuginfo *d, Dwarf_Die *cu,
				       struct cu_lines **ret)
{
	Dwarf_Lines *lines;
	size_t n;
	if (dwarf_getsrclines(cu, &lines, &n))
		return ck_error_create(CK_ERR_NOT_FOUND, "'%s': no line table for CU %s: %s",
				       d->path, dwarf_diename(cu) ? dwarf_diename(cu) : "?",
				       dwarf_errmsg(-1));
	struct cu_lines *c = calloc(1, sizeof(*c));
	if (!c)
		return &ck_error_nomem;
	ck_subfiles_init(&c->files);
	struct ck_src_index index;
	ck_src_index_init(&index);
	struct line_state st = { .c = c };
	line_state_reset(&st);
	bool ok = true;
	for (size_t i = 0; ok && i < n; i++) {
		Dwarf_Line *l = dwarf_onesrcline(lines, i);
		const char *src = l ? dwarf_linesrc(l, NULL, NULL) : NULL;
		size_t file;
		if (!src)
			continue;
		ok = lines_file(c, &index, src, &file) && lines_row(&st, file, l);
	}
	ck_src_index_deinit(&index);
	if (!ok) {
		cu_lines_destroy(c);
		return &ck_error_nomem;
	}
	lines_order(c, dwarf_diename(cu));
	*ret = c;
	return NULL;
}

/* find_pc_sect_line's choice among the tables; false if none has a line. */
static bool cu_lines_find(const struct cu_lines *c, uint64_t pc, const char **file, int *line)
{
	const struct line_entry *best = NULL;
	const struct subfile *best_file = NULL;
	for (size_t i = 0; i < ck_subfiles_size(&c->files); i++) {
		const struct subfile *f = ck_subfiles_at(&c->files, i);
		size_t n = ck_line_entries_size(&f->rows);
		if (!n)
			continue;
		const struct line_entry *first = ck_line_entries_at(&f->rows, 0);
		size_t lo = 0, hi = n;	/* the first entry above pc */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (first[mid].pc <= pc)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (!lo)
			continue;
		const struct line_entry *prev = &first[lo - 1];
		if (!prev->line || (best && prev->pc <= best->pc))
			continue;
		best = prev;
		best_file = f;
		if (!best->stmt) {
			const struct line_entry *t = best;
			while (t > first && t[-1].pc == t->pc && t[-1].line && !t->stmt)
				t--;
			if (t->stmt)
				best = t;
		}
	}
	if (!best)
		return false;
	*file = best_file->name;
	*line = best->line;
	return true;
}

static struct ck_error *cu_lines_get(struct ck_debuginfo *d, Dwarf_Die *cu,
				     struct cu_lines **ret)
{
	uint64_t off = dwarf_dieoffset(cu);
	struct ck_cu_lines_entry *e = ck_cu_lines_search(&d->cus, &off);
	if (e) {
		*ret = e->value;
		return NULL;
	}
	struct cu_lines *c = NULL;
	struct ck_error *err = cu_lines_build(d, cu, &c);
	if (err)
		return err;
	struct ck_cu_lines_entry ne = { .key = off, .value = c };
	if (ck_cu_lines_insert(&d->cus, &ne, NULL) < 0) {
		cu_lines_destroy(c);
		return &ck_error_nomem;
	}
	*ret = c;
	return NULL;
}

/*
 * A line table's file name as crash (gdb) shows it: a relative name (the
 * include directory was relative, as in Debian's reproducible builds, where
 * the CU's DW_AT_comp_dir is "debian/build/build_amd64_none_amd64" and the
 * directory "kernel") goes after the CU's compilation directory; an
 * absolute one (assembler files) stays.  Joined names are kept for the
 * session.
 */
static struct ck_error *shown_name(struct ck_debuginfo *d, Dwarf_Die *cu, const char *src,
				   const char **ret)
{
	Dwarf_Attribute attr;
	const char *dir = src[0] == '/' ? NULL
					: dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &attr));
	if (!dir)
		dir = "";
	if (!*dir && !strstr(src, "//")) {
		*ret = src;
		return NULL;
	}
	struct ck_src_names_entry *e = ck_src_names_search(&d->names, &src);
	if (e) {
		*ret = e->value;
		return NULL;
	}
	struct ck_src_names_entry ne = { .key = src };
	ne.value = ck_strdup_printf("%s%s%s", dir, *dir ? "/" : "", src);
	if (!ne.value)
		return &ck_error_nomem;
	/* libdw joins "asm/" and "x.h" as "asm//x.h"; gdb says "asm/x.h" */
	char *w = ne.value;
	for (const char *r = ne.value; *r; r++)
		if (!(*r == '/' && r[1] == '/'))
			*w++ = *r;
	*w = '\0';
	if (ck_src_names_insert(&d->names, &ne, NULL) < 0) {
		free(ne.value);
		return &ck_error_nomem;
	}
	*ret = ne.value;
	return NULL;
}

/*
 * Whether .debug_aranges covers addr.  gdb, and so crash, finds an
 * address's CU through .debug_aranges only: code of a CU it leaves out (some
 * .init.text, e.g. 6.1's init/main.c start_kernel, 6.12's evm_main.c) has
 * no line in crash's `bt -l` and `sym`, and none here, though libdwfl would
 * find one through the CU's own ranges.  A vmlinux without the section is
 * not held to it.
 */
static bool in_aranges(struct ck_debuginfo *d, Dwarf_Addr addr)
{
	Dwarf_Addr bias;
	Dwarf *dw = dwfl_module_getdwarf(d->mod, &bias);
	Dwarf_Aranges *ar;
	size_t n;
	if (!dw || dwarf_getaranges(dw, &ar, &n) != 0 || n == 0)
		return true;
	return dwarf_getarange_addr(ar, addr) != NULL;
}

static struct ck_error *debuginfo_line(struct ck_debuginfo *d, uint64_t addr,
				      const char **file, int *line);

struct ck_error *ck_debuginfo_line(struct ck_analysis *a, uint64_t addr, const char **file,
				   int *line)
{
	struct ck_debuginfo *d = debuginfo_of(a);
	if (!d)
		return ck_error_create(CK_ERR_NOT_FOUND, "no vmlinux given");
	if (ck_moddebugs_size(&d->mods)) {
		const struct ck_module *m = ck_module_by_address(a, addr);
		if (m) {
			for (size_t i = 0; i < ck_moddebugs_size(&d->mods); i++)
				if (!strcmp(ck_moddebugs_at(&d->mods, i)->name, m->name))
					return debuginfo_line(ck_moddebugs_at(&d->mods, i)->d, addr,
							      file, line);
			return ck_error_create(CK_ERR_NOT_FOUND, "no debug file loaded for "
					       "module %s (mod -s)", m->name);
		}
	}
	return debuginfo_line(d, addr, file, line);
}

static struct ck_error *debuginfo_line(struct ck_debuginfo *d, uint64_t addr,
				      const char **file, int *line)
{
	uint64_t link = addr - d->offset;
	if (ck_mod_maps_size(&d->maps)) {
		size_t i = 0;
		for (; i < ck_mod_maps_size(&d->maps); i++) {
			const struct mod_map *m = ck_mod_maps_at(&d->maps, i);
			if (addr >= m->real && addr - m->real < m->size) {
				link = m->layout + (addr - m->real);
				break;
			}
		}
		if (i == ck_mod_maps_size(&d->maps))
			return ck_error_create(CK_ERR_NOT_FOUND, "%#llx is in no section of '%s'",
					       (unsigned long long)addr, d->path);
	}
	Dwarf_Addr bias = 0;
	Dwarf_Die *cu = dwfl_module_addrdie(d->mod, link, &bias);
	if (!cu || !in_aranges(d, link - bias))
		return ck_error_create(CK_ERR_NOT_FOUND, "no source line for %#llx in '%s'",
				       (unsigned long long)addr, d->path);
	struct cu_lines *c = NULL;
	struct ck_error *err = cu_lines_get(d, cu, &c);
	if (err)
		return err;
	int lineno;
	const char *src;
	if (!cu_lines_find(c, link - bias, &src, &lineno))
		return ck_error_create(CK_ERR_NOT_FOUND, "no source line for %#llx in '%s'",
				       (unsigned long long)addr, d->path);
	err = shown_name(d, cu, src, file);
	if (err)
		return err;
	*line = lineno;
	return NULL;
}

/* ---- module debug files: mod -s, mod -S ------------------------------------ */

/*
 * A module's .ko is relocatable: libdwfl lays its sections out at addresses
 * of its own and relocates the DWARF there (its section_address callback
 * is only asked for sections at 0, and it gives every one an address).
 * The kernel keeps where each section was loaded for sysfs in
 * module->sect_attrs (name and address), as crash hands them to gdb's
 * add-symbol-file; an address of the dump is moved from its section's
 * load address to libdwfl's before a lookup (struct ck_debuginfo.maps).
 */
#define MOD_SECTIONS_MAX 512

struct mod_section {
	char name[64];
	uint64_t addr;
};
CK_DEFINE_VECTOR(ck_mod_sections, struct mod_section)

/* A NUL-terminated string of the dump into buf (cut at size - 1). */
static struct ck_error *read_string(struct ck_analysis *a, uint64_t addr, char *buf, size_t size)
{
	size_t got = 0;
	while (got < size - 1) {
		size_t n = 4096 - ((addr + got) & 4095);
		if (n > size - 1 - got)
			n = size - 1 - got;
		struct ck_error *err = ck_kernel_read(a->kernel, addr + got, buf + got, n);
		if (err)
			return err;
		got += n;
		if (memchr(buf + got - n, '\0', n))
			break;
	}
	buf[got] = '\0';
	return NULL;
}

/*
 * module->sect_attrs: up to 6.13 `nsections` and attrs[] of struct
 * module_sect_attr (a bin_attribute, then `address`); since then attrs[]
 * of bin_attribute with the address in `private`, counted by the group's
 * NULL-terminated bin_attrs list (bin_attrs_new while it was renamed).
 */
struct sect_layout {
	struct ck_member attrs_ptr, nsections, attrs, list, name, address;
	uint64_t attr_size;
	bool listed;		/* the newer layout */
};

static struct ck_error *sect_layout(struct ck_types *t, struct sect_layout *l)
{
	static const char *const address[] = { "address", "battr.private", NULL };
	static const char *const list[] = { "grp.bin_attrs_new", "grp.bin_attrs", NULL };
	uint32_t id;
	struct ck_error *err = ck_member_of(t, "struct module", "sect_attrs", &l->attrs_ptr);
	if (err)
		return err;
	err = ck_member_of(t, "struct module_sect_attrs", "nsections", &l->nsections);
	l->listed = err != NULL;
	ck_error_destroy(err);
	if (l->listed) {
		err = ck_member_of_any(t, "struct module_sect_attrs", list, &l->list, NULL);
		if (!err)
			err = ck_member_of(t, "struct bin_attribute", "attr.name", &l->name);
		if (!err)
			err = ck_member_of(t, "struct bin_attribute", "private", &l->address);
		return err;
	}
	err = ck_member_of(t, "struct module_sect_attrs", "attrs", &l->attrs);
	if (!err)
		err = ck_member_of(t, "struct module_sect_attr", "battr.attr.name", &l->name);
	if (!err)
		err = ck_member_of_any(t, "struct module_sect_attr", address, &l->address, NULL);
	if (!err)
		err = ck_type_find(t, "struct module_sect_attr", &id);
	if (!err && !(l->attr_size = ck_type_size(t, id)))
		err = ck_error_create(CK_ERR_FORMAT, "struct module_sect_attr has no size");
	return err;
}

/* One section's attribute at `at`: its name and address. */
static struct ck_error *sect_one(struct ck_analysis *a, const struct sect_layout *l, uint64_t at,
				 struct ck_mod_sections *ret)
{
	uint64_t name;
	struct mod_section s = { .addr = 0 };
	struct ck_error *err = ck_kernel_read_u64(a->kernel, at + l->name.offset, &name);
	if (!err)
		err = read_string(a, name, s.name, sizeof(s.name));
	if (!err)
		err = ck_kernel_read_u64(a->kernel, at + l->address.offset, &s.addr);
	if (!err && !ck_mod_sections_append(ret, &s))
		err = &ck_error_nomem;
	return err;
}

/* The module's section names and addresses from module->sect_attrs. */
static struct ck_error *module_sections(struct ck_analysis *a, const struct ck_module *m,
					struct ck_mod_sections *ret)
{
	struct ck_types *t;
	struct sect_layout l;
	struct ck_error *err = ck_analysis_types(a, &t);
	if (!err)
		err = sect_layout(t, &l);
	uint64_t attrs = 0, list = 0;
	uint32_t n = 0;
	if (!err)
		err = ck_kernel_read_u64(a->kernel, m->addr + l.attrs_ptr.offset, &attrs);
	if (!err && !attrs)
		err = ck_error_create(CK_ERR_NOT_FOUND, "module %s has no section attributes "
				      "(sysfs)", m->name);
	if (!err && !l.listed)
		err = ck_kernel_read_u32(a->kernel, attrs + l.nsections.offset, &n);
	if (!err && l.listed)
		err = ck_kernel_read_u64(a->kernel, attrs + l.list.offset, &list);
	for (uint32_t i = 0; !err && i < MOD_SECTIONS_MAX; i++) {
		uint64_t at = attrs + l.attrs.offset + i * l.attr_size;
		if (!l.listed && i >= n)
			break;
		if (l.listed && (err = ck_kernel_read_u64(a->kernel, list + 8 * i, &at)) == NULL &&
		    !at)
			break;
		if (!err)
			err = sect_one(a, &l, at, ret);
	}
	return err ? ck_error_prepend(err, "module %s's sections", m->name) : NULL;
}

static bool read_ok(struct ck_error *err)
{
	ck_error_destroy(err);
	return !err;
}

/* The bin_attribute at i of module->notes_attrs (up to 6.13 attrs[i],
 * counted by `notes`; since then the group's NULL-terminated bin_attrs);
 * false past the last. */
static bool note_attr(struct ck_analysis *a, struct ck_types *t, uint64_t base, uint32_t i,
		      uint64_t *ret)
{
	static const char *const list[] = { "grp.bin_attrs_new", "grp.bin_attrs", NULL };
	struct ck_member notes, attrs, lst;
	uint32_t id, n = 0;
	uint64_t p = 0;
	struct ck_error *err = ck_member_of(t, "struct module_notes_attrs", "notes", &notes);
	if (!err) {
		if (!read_ok(ck_kernel_read_u32(a->kernel, base + notes.offset, &n)) || i >= n ||
		    !read_ok(ck_member_of(t, "struct module_notes_attrs", "attrs", &attrs)) ||
		    !read_ok(ck_type_find(t, "struct bin_attribute", &id)))
			return false;
		*ret = base + attrs.offset + i * ck_type_size(t, id);
		return true;
	}
	ck_error_destroy(err);
	if (!read_ok(ck_member_of_any(t, "struct module_notes_attrs", list, &lst, NULL)) ||
	    !read_ok(ck_kernel_read_u64(a->kernel, base + lst.offset, &p)) || !p ||
	    !read_ok(ck_kernel_read_u64(a->kernel, p + 8 * i, ret)))
		return false;
	return *ret != 0;
}

/* The module's GNU build id from module->notes_attrs (its .note.* sections
 * as the kernel keeps them for sysfs) as hex; false when not readable. */
static bool module_build_id(struct ck_analysis *a, const struct ck_module *m, char out[41])
{
	struct ck_types *t;
	struct ck_member na, priv, size;
	uint64_t base = 0;
	if (!read_ok(ck_analysis_types(a, &t)) ||
	    !read_ok(ck_member_of(t, "struct module", "notes_attrs", &na)) ||
	    !read_ok(ck_member_of(t, "struct bin_attribute", "private", &priv)) ||
	    !read_ok(ck_member_of(t, "struct bin_attribute", "size", &size)) ||
	    !read_ok(ck_kernel_read_u64(a->kernel, m->addr + na.offset, &base)) || !base)
		return false;
	uint64_t at;
	for (uint32_t i = 0; i < 64 && note_attr(a, t, base, i, &at); i++) {
		uint64_t data, len;
		uint8_t buf[512];
		if (!read_ok(ck_kernel_read_u64(a->kernel, at + priv.offset, &data)) ||
		    !read_ok(ck_kernel_read_u64(a->kernel, at + size.offset, &len)) ||
		    len > sizeof(buf) || len < 16 || !read_ok(ck_kernel_read(a->kernel, data, buf, len)))
			continue;
		uint32_t nsz, dsz, type;
		memcpy(&nsz, buf, 4), memcpy(&dsz, buf + 4, 4), memcpy(&type, buf + 8, 4);
		if (type != NT_GNU_BUILD_ID || nsz != 4 || memcmp(buf + 12, "GNU", 4) ||
		    dsz == 0 || dsz > 20 || 16 + dsz > len)
			continue;
		for (uint32_t k = 0; k < dsz; k++)
			snprintf(out + 2 * k, 3, "%02x", buf[16 + k]);
		return true;
	}
	return false;
}

/* The types: the vmlinux's with every loaded module's as split BTF. */
static struct ck_error *moddebug_types(struct ck_analysis *a)
{
	struct ck_debuginfo *v = debuginfo_of(a);
	struct ck_types *base = v->base_types ? v->base_types : a->types;
	size_t n = ck_moddebugs_size(&v->mods);
	if (!base || !n || n > 4096)
		return NULL;
	Dwarf **dws = calloc(n, sizeof(*dws));
	if (!dws)
		return &ck_error_nomem;
	for (size_t i = 0; i < n; i++) {
		Dwarf_Addr bias;
		dws[i] = dwfl_module_getdwarf(ck_moddebugs_at(&v->mods, i)->d->mod, &bias);
		if (!dws[i]) {
			free(dws);
			return ck_error_create(CK_ERR_NOT_FOUND, "'%s': no DWARF",
					       ck_moddebugs_at(&v->mods, i)->d->path);
		}
	}
	struct ck_types *t;
	struct ck_error *err = ck_types_from_dwarf_split(dws, n, base, &t);
	free(dws);
	if (err)
		return ck_error_prepend(err, "the modules' types");
	if (v->base_types)
		ck_types_destroy(a->types);
	else
		v->base_types = a->types;
	a->types = t;
	return NULL;
}

/* Each loaded section's address and libdwfl's for it (its Elf's section
 * headers after the layout, plus the bias). */
static struct ck_error *module_maps(struct ck_debuginfo *d, const struct ck_mod_sections *secs)
{
	Dwarf_Addr bias;
	Elf *e = dwfl_module_getelf(d->mod, &bias);
	size_t shstrndx;
	if (!e || elf_getshdrstrndx(e, &shstrndx) != 0)
		return ck_error_create(CK_ERR_FORMAT, "'%s': no section names", d->path);
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;
		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC) || !sh.sh_size ||
		    !(name = elf_strptr(e, shstrndx, sh.sh_name)))
			continue;
		for (size_t i = 0; i < ck_mod_sections_size(secs); i++) {
			const struct mod_section *s = ck_mod_sections_at(secs, i);
			if (strcmp(s->name, name))
				continue;
			struct mod_map mm = { .real = s->addr, .layout = sh.sh_addr + bias,
					      .size = sh.sh_size };
			if (!ck_mod_maps_append(&d->maps, &mm))
				return &ck_error_nomem;
			break;
		}
	}
	if (!ck_mod_maps_size(&d->maps))
		return ck_error_create(CK_ERR_NOT_FOUND, "'%s': none of its sections is loaded "
				       "(module->sect_attrs)", d->path);
	return NULL;
}

/* The module's debug file opened and relocated at its sections' addresses;
 * refused when its build id is not the loaded module's. */
static struct ck_error *moddebug_open(struct ck_analysis *a, const struct ck_module *m,
				      const char *path, struct ck_debuginfo **ret)
{
	struct ck_debuginfo *d = debuginfo_new();
	if (!d)
		return &ck_error_nomem;
	struct ck_mod_sections secs;
	ck_mod_sections_init(&secs);
	d->path = strdup(path);
	struct ck_error *err = d->path ? open_elf(d, ET_REL) : &ck_error_nomem;
	char want[41] = "", have[41] = "";
	if (!err && module_build_id(a, m, want) && vmlinux_build_id(d, have) && strcmp(want, have))
		err = ck_error_create(CK_ERR_INVALID, "'%s' is not the debug file of module %s: "
				      "build id %s, the module's %s", path, m->name, have, want);
	if (!err)
		err = module_sections(a, m, &secs);
	if (!err && !(d->dwfl = dwfl_begin(&offline_callbacks)))
		err = &ck_error_nomem;
	if (!err) {
		d->mod = dwfl_report_offline(d->dwfl, m->name, path, -1);
		dwfl_report_end(d->dwfl, NULL, NULL);
		Dwarf_Addr bias;
		if (!d->mod || !dwfl_module_getdwarf(d->mod, &bias))
			err = ck_error_create(CK_ERR_NOT_FOUND, "'%s' has no DWARF (%s)", path,
					      dwfl_errmsg(-1));
	}
	if (!err)
		err = module_maps(d, &secs);
	ck_mod_sections_deinit(&secs);
	if (err) {
		debuginfo_destroy(d);
		return err;
	}
	*ret = d;
	return NULL;
}

struct ck_error *ck_moddebug_load(struct ck_analysis *a, const char *module, const char *path)
{
	struct ck_debuginfo *v = debuginfo_of(a);
	if (!v)
		return ck_error_create(CK_ERR_UNSUPPORTED, "module debug files need the DWARF "
				       "vmlinux too (crashkit analyze DUMP VMLINUX)");
	const struct ck_module *m = ck_module_by_name(a, module);
	if (!m)
		return ck_error_create(CK_ERR_NOT_FOUND, "%s: not a loaded module", module);
	struct ck_debuginfo *d;
	struct ck_error *err = moddebug_open(a, m, path, &d);
	if (err)
		return err;
	for (size_t i = 0; i < ck_moddebugs_size(&v->mods); i++) {
		struct moddebug *md = ck_moddebugs_at(&v->mods, i);
		if (!strcmp(md->name, m->name)) {
			debuginfo_destroy(md->d);
			md->d = d;
			return moddebug_types(a);
		}
	}
	struct moddebug md = { .d = d };
	snprintf(md.name, sizeof(md.name), "%s", m->name);
	if (!ck_moddebugs_append(&v->mods, &md)) {
		debuginfo_destroy(d);
		return &ck_error_nomem;
	}
	return moddebug_types(a);
}

const char *ck_moddebug_path(const struct ck_analysis *a, const char *module)
{
	const struct ck_debuginfo *v = debuginfo_of(a);
	for (size_t i = 0; v && i < ck_moddebugs_size(&v->mods); i++)
		if (!strcmp(ck_moddebugs_at(&v->mods, i)->name, module))
			return ck_moddebugs_at(&v->mods, i)->d->path;
	return NULL;
}
