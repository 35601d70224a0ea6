/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a dynamically linked program loads: its PT_INTERP (the dynamic
 * loader) and the DT_NEEDED names of its dynamic section, resolved as the
 * loader does (DT_RUNPATH/DT_RPATH, /etc/ld.so.conf and its includes, the
 * default directories) and followed recursively.  The initramfs builder
 * copies the answer; nothing is run (no ldd, which executes the program).
 * Only ELF64 little-endian objects are read (the x86_64 capture binary);
 * every offset and count of a file is checked against its size.
 */
#include <elf.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"
#include "kdump/kdump.h"

#define ELF_MAX (256u << 20)

struct elf_info {
	char *interp;
	char *runpath;
	struct ck_strlist needed;
	uint16_t machine;
};

static const uint8_t *at(const char *buf, size_t len, uint64_t off, uint64_t size)
{
	uint64_t end;
	if (ck_add_overflow(off, size, &end) || end > len)
		return NULL;
	return (const uint8_t *)buf + off;
}

/* File offset of a virtual address through the PT_LOAD segments. */
static bool vaddr_offset(const Elf64_Phdr *ph, size_t nr, uint64_t vaddr, uint64_t *off)
{
	for (size_t i = 0; i < nr; i++) {
		if (ph[i].p_type != PT_LOAD || vaddr < ph[i].p_vaddr ||
		    vaddr - ph[i].p_vaddr >= ph[i].p_filesz)
			continue;
		*off = ph[i].p_offset + (vaddr - ph[i].p_vaddr);
		return true;
	}
	return false;
}

static char *strtab_at(const char *buf, size_t len, uint64_t strtab, uint64_t strsz, uint64_t i)
{
	if (i >= strsz)
		return NULL;
	const uint8_t *s = at(buf, len, strtab + i, strsz - i);
	if (!s)
		return NULL;
	const void *nul = memchr(s, '\0', strsz - i);
	return nul ? strdup((const char *)s) : NULL;
}

static struct ck_error *parse_dynamic(const char *path, const char *buf, size_t len,
				      const Elf64_Phdr *ph, size_t nph, const Elf64_Phdr *dyn,
				      struct elf_info *info)
{
	size_t n = dyn->p_filesz / sizeof(Elf64_Dyn);
	const uint8_t *p = at(buf, len, dyn->p_offset, (uint64_t)n * sizeof(Elf64_Dyn));
	if (!p)
		return ck_error_create(CK_ERR_FORMAT, "'%s': dynamic section past the end", path);
	uint64_t strtab = 0, strsz = 0, run = UINT64_MAX;
	bool have_strtab = false;
	for (size_t i = 0; i < n; i++) {
		Elf64_Dyn d;
		memcpy(&d, p + i * sizeof(d), sizeof(d));
		if (d.d_tag == DT_NULL)
			break;
		if (d.d_tag == DT_STRTAB)
			have_strtab = vaddr_offset(ph, nph, d.d_un.d_ptr, &strtab);
		else if (d.d_tag == DT_STRSZ)
			strsz = d.d_un.d_val;
		else if ((d.d_tag == DT_RUNPATH || (d.d_tag == DT_RPATH && run == UINT64_MAX)))
			run = d.d_un.d_val;
	}
	if (!have_strtab || !at(buf, len, strtab, strsz))
		return ck_error_create(CK_ERR_FORMAT, "'%s': no string table for the dynamic section",
				       path);
	for (size_t i = 0; i < n; i++) {
		Elf64_Dyn d;
		memcpy(&d, p + i * sizeof(d), sizeof(d));
		if (d.d_tag == DT_NULL)
			break;
		if (d.d_tag != DT_NEEDED)
			continue;
		char *name = strtab_at(buf, len, strtab, strsz, d.d_un.d_val);
		if (!name)
			return ck_error_create(CK_ERR_FORMAT, "'%s': DT_NEEDED name %#llx out of its table",
					       path, (unsigned long long)d.d_un.d_val);
		if (!ck_strlist_add_owned(&info->needed, name))
			return &ck_error_nomem;
	}
	if (run != UINT64_MAX)
		info->runpath = strtab_at(buf, len, strtab, strsz, run);
	return NULL;
}

static struct ck_error *read_elf(const char *path, struct elf_info *info)
{
	char *buf;
	size_t len;
	struct ck_error *err = ck_kdump_read_text(path, ELF_MAX, &buf, &len);
	if (err)
		return err;
	Elf64_Ehdr eh;
	if (len < sizeof(eh) || memcmp(buf, ELFMAG, SELFMAG)) {
		free(buf);
		return ck_error_create(CK_ERR_FORMAT, "'%s': not an ELF file", path);
	}
	memcpy(&eh, buf, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB) {
		free(buf);
		return ck_error_create(CK_ERR_UNSUPPORTED, "'%s': not a 64-bit little-endian ELF file",
				       path);
	}
	info->machine = eh.e_machine;
	const uint8_t *p = at(buf, len, eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr));
	if (!p || (eh.e_phnum && eh.e_phentsize != sizeof(Elf64_Phdr))) {
		free(buf);
		return ck_error_create(CK_ERR_FORMAT, "'%s': program headers past the end", path);
	}
	Elf64_Phdr *ph = ck_calloc_array(eh.e_phnum ? eh.e_phnum : 1, sizeof(*ph));
	if (!ph) {
		free(buf);
		return &ck_error_nomem;
	}
	memcpy(ph, p, (size_t)eh.e_phnum * sizeof(*ph));
	const Elf64_Phdr *dyn = NULL;
	for (size_t i = 0; i < eh.e_phnum && !err; i++) {
		if (ph[i].p_type == PT_DYNAMIC)
			dyn = &ph[i];
		if (ph[i].p_type != PT_INTERP)
			continue;
		const uint8_t *s = at(buf, len, ph[i].p_offset, ph[i].p_filesz);
		if (!s || !ph[i].p_filesz || s[ph[i].p_filesz - 1])
			err = ck_error_create(CK_ERR_FORMAT, "'%s': bad PT_INTERP", path);
		else if (info->interp)
			err = ck_error_create(CK_ERR_FORMAT, "'%s': more than one PT_INTERP", path);
		else if (!(info->interp = strdup((const char *)s)))
			err = &ck_error_nomem;
	}
	if (!err && dyn)
		err = parse_dynamic(path, buf, len, ph, eh.e_phnum, dyn, info);
	free(ph);
	free(buf);
	return err;
}

static void elf_info_deinit(struct elf_info *info)
{
	free(info->interp);
	free(info->runpath);
	ck_strlist_deinit(&info->needed);
}

/* /etc/ld.so.conf's directories, following "include GLOB" lines (depth
 * bounded: a file that includes itself ends). */
static void read_ld_conf(const char *root, const char *path, int depth, struct ck_strlist *dirs)
{
	char *text;
	if (depth > 4 || !(text = ck_kdump_read_quiet(path, 1 << 20)))
		return;
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line[strcspn(line, "#")] = '\0';
		line += strspn(line, " \t");
		size_t l = strlen(line);
		while (l && strchr(" \t\r", line[l - 1]))
			line[--l] = '\0';
		if (!l)
			continue;
		if (!strncmp(line, "include", 7) && strchr(" \t", line[7])) {
			const char *pat = line + 8 + strspn(line + 8, " \t");
			char *full = pat[0] == '/' ? ck_kdump_path(root, pat)
				: ck_strdup_printf("%s/../%s", path, pat);
			glob_t g;
			if (full && !glob(full, 0, NULL, &g)) {
				for (size_t i = 0; i < g.gl_pathc; i++)
					read_ld_conf(root, g.gl_pathv[i], depth + 1, dirs);
				globfree(&g);
			}
			free(full);
		} else if (line[0] == '/') {
			ck_strlist_add_unique(dirs, line);
		}
	}
	free(text);
}

/* The directories the loader searches after DT_RUNPATH. */
static void search_dirs(const char *root, struct ck_strlist *dirs)
{
	char *conf = ck_kdump_path(root, "/etc/ld.so.conf");
	if (conf)
		read_ld_conf(root, conf, 0, dirs);
	free(conf);
	static const char *const defaults[] = {
		"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
		"/lib", "/usr/lib",
	};
	for (size_t i = 0; i < CK_ARRAY_SIZE(defaults); i++)
		ck_strlist_add_unique(dirs, defaults[i]);
}

static bool same_machine(const char *path, uint16_t machine)
{
	struct elf_info info = { 0 };
	struct ck_error *err = read_elf(path, &info);
	bool ok = !err && info.machine == machine;
	ck_error_destroy(err);
	elf_info_deinit(&info);
	return ok;
}

/* The path (as the target system names it, under root) of a DT_NEEDED name. */
static char *resolve(const char *root, const char *name, const char *origin, const char *runpath,
		     const struct ck_strlist *dirs, uint16_t machine)
{
	if (strchr(name, '/'))
		return strdup(name);
	struct ck_strlist all = CK_STRLIST_INIT;
	for (const char *p = runpath; p && *p;) {
		size_t l = strcspn(p, ":");
		char *d = strndup(p, l);
		if (d && !strncmp(d, "$ORIGIN", 7)) {
			char *o = ck_strdup_printf("%s%s", origin, d + 7);
			free(d);
			d = o;
		}
		if (d)
			ck_strlist_add_owned(&all, d);
		p += l + (p[l] == ':');
	}
	for (size_t i = 0; i < dirs->nr; i++)
		ck_strlist_add_unique(&all, dirs->items[i]);
	char *found = NULL;
	for (size_t i = 0; i < all.nr && !found; i++) {
		char *rel = ck_strdup_printf("%s/%s", all.items[i], name);
		char *full = rel ? ck_kdump_path(root, rel) : NULL;
		if (full && !access(full, R_OK) && same_machine(full, machine))
			found = rel, rel = NULL;
		free(rel);
		free(full);
	}
	ck_strlist_deinit(&all);
	return found;
}

struct ck_error *ck_elf_deps(const char *root, const char *program, struct ck_strlist *ret)
{
	struct ck_strlist dirs = CK_STRLIST_INIT, todo = CK_STRLIST_INIT;
	struct ck_error *err = NULL;
	search_dirs(root, &dirs);
	if (!ck_strlist_add(&todo, program))
		err = &ck_error_nomem;
	uint16_t machine = 0;
	/* Breadth first over the objects found; each is read once (a name
	 * seen before is skipped), so a cycle of DT_NEEDED ends. */
	for (size_t i = 0; !err && i < todo.nr && i < 256; i++) {
		struct elf_info info = { 0 };
		char *full = i ? ck_kdump_path(root, todo.items[i]) : strdup(todo.items[i]);
		err = full ? read_elf(full, &info) : &ck_error_nomem;
		if (!i && !err)
			machine = info.machine;
		char *origin = full ? strdup(todo.items[i]) : NULL;
		if (origin && strrchr(origin, '/'))
			*strrchr(origin, '/') = '\0';
		if (!err && info.interp && !ck_strlist_contains(&todo, info.interp))
			ck_strlist_add(&todo, info.interp);
		for (size_t j = 0; !err && j < info.needed.nr; j++) {
			char *p = resolve(root, info.needed.items[j], origin ? origin : ".",
					  info.runpath, &dirs, machine);
			if (!p)
				err = ck_error_create(CK_ERR_NOT_FOUND, "'%s' needs %s, found nowhere the "
						      "loader looks (ld.so.conf, /lib, /usr/lib)",
						      todo.items[i], info.needed.items[j]);
			else if (ck_strlist_contains(&todo, p))
				free(p);
			else if (!ck_strlist_add_owned(&todo, p))
				err = &ck_error_nomem;
		}
		free(origin);
		free(full);
		elf_info_deinit(&info);
	}
	ck_strlist_deinit(&dirs);
	if (err) {
		ck_strlist_deinit(&todo);
		return err;
	}
	*ret = todo;
	return NULL;
}
