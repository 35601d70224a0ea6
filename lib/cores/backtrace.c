/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Backtraces of every thread of a userspace core with libdwfl, the module
 * list with build ids, and the crash signature.  libdwfl reads the notes,
 * the stacks and the binaries on disk, so a core's size barely matters.
 */
#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <string.h>

#include "cores/cores.h"

struct walk {
	Dwfl *dwfl;
	unsigned int max_threads, max_frames;
	unsigned int nr_threads, nr_frames;
	struct ck_strbuf text;
};

/* Frames that say how a process died rather than where: the abort and
 * signal-delivery machinery of glibc and the vDSO. */
bool ck_core_boring_frame(const char *name)
{
	static const char *const prefixes[] = {
		"__GI_", "raise", "abort", "__pthread_kill", "pthread_kill", "__restore_rt",
		"__libc_message", "__libc_fatal", "__assert", "__fortify_fail", "__stack_chk_fail",
		"__chk_fail", "gsignal", "__kernel_", "_dl_",
	};
	for (size_t i = 0; i < CK_ARRAY_SIZE(prefixes); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

/* " at FILE:LINE" where the module has DWARF line information (in the
 * binary, or a debuginfo file libdwfl finds by build id or debuglink),
 * FILE relative to the CU's compilation directory as gdb prints it.  The
 * names come from the crashed program's files: escaped, so a frame stays
 * one line. */
static void add_source_line(struct ck_strbuf *sb, Dwfl_Module *mod, Dwarf_Addr addr)
{
	Dwfl_Line *line = dwfl_module_getsrc(mod, addr);
	int lineno = 0;
	const char *file = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
	if (!file || !*file || lineno <= 0)
		return;
	Dwarf_Addr bias;
	Dwarf_Die *cu = dwfl_module_addrdie(mod, addr, &bias);
	Dwarf_Attribute attr;
	const char *dir = cu ? dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &attr)) : NULL;
	size_t n = dir ? strlen(dir) : 0;
	if (n && !strncmp(file, dir, n) && file[n] == '/' && file[n + 1])
		file += n + 1;
	ck_strbuf_adds(sb, " at ");
	ck_strbuf_add_escaped(sb, file);
	ck_strbuf_addf(sb, ":%d", lineno);
}

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct walk *w = arg;
	Dwarf_Addr pc;
	bool activation;
	if (!dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;
	/* A return address points after the call: look up the call itself. */
	Dwarf_Addr lookup = activation ? pc : pc - 1;
	Dwfl_Module *mod = dwfl_addrmodule(w->dwfl, lookup);
	const char *name = mod ? dwfl_module_addrname(mod, lookup) : NULL;
	const char *modname = mod ? dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL,
						     NULL) : NULL;
	const char *base = modname ? strrchr(modname, '/') : NULL;
	ck_strbuf_addf(&w->text, "#%-2u 0x%016llx ", w->nr_frames, (unsigned long long)pc);
	ck_strbuf_add_escaped(&w->text, name && *name ? name : "??");
	ck_strbuf_adds(&w->text, " (");
	ck_strbuf_add_escaped(&w->text, base ? base + 1 : modname ? modname : "??");
	ck_strbuf_adds(&w->text, ")");
	if (mod)
		add_source_line(&w->text, mod, lookup);
	ck_strbuf_adds(&w->text, "\n");
	return ++w->nr_frames >= w->max_frames ? DWARF_CB_ABORT : DWARF_CB_OK;
}

static int thread_cb(Dwfl_Thread *thread, void *arg)
{
	struct walk *w = arg;
	if (w->nr_threads >= w->max_threads) {
		ck_strbuf_addf(&w->text, "(more threads not shown: max_threads=%u)\n", w->max_threads);
		return DWARF_CB_ABORT;
	}
	w->nr_frames = 0;
	ck_strbuf_addf(&w->text, "TID %d:\n", (int)dwfl_thread_tid(thread));
	if (dwfl_thread_getframes(thread, frame_cb, w) < 0 && w->nr_frames == 0)
		ck_strbuf_addf(&w->text, "(no frames: %s)\n", dwfl_errmsg(-1));
	if (w->nr_frames >= w->max_frames)
		ck_strbuf_addf(&w->text, "(more frames not shown: max_frames=%u)\n", w->max_frames);
	w->nr_threads++;
	return DWARF_CB_OK;
}

static int module_cb(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start,
		     void *arg)
{
	struct ck_strbuf *sb = arg;
	Dwarf_Addr end;
	dwfl_module_info(mod, NULL, NULL, &end, NULL, NULL, NULL, NULL);
	const unsigned char *bits;
	GElf_Addr vaddr;
	int n = dwfl_module_build_id(mod, &bits, &vaddr);
	ck_strbuf_addf(sb, "0x%016llx-0x%016llx ", (unsigned long long)start, (unsigned long long)end);
	if (n > 0)
		for (int i = 0; i < n; i++)
			ck_strbuf_addf(sb, "%02x", bits[i]);
	else
		ck_strbuf_addf(sb, "-");
	ck_strbuf_addf(sb, " %s\n", name);
	return DWARF_CB_OK;
}

/* The signal and thread of the first NT_PRSTATUS: the kernel writes the
 * dumping thread's first.  struct elf_prstatus starts with elf_siginfo (3
 * ints), then short pr_cursig; pr_pid follows pr_sigpend and pr_sighold
 * (two longs) at offset 32 on 64-bit, 24 on 32-bit. */
static void core_note_signal(Elf *elf, int *signal, int *tid)
{
	*signal = 0;
	*tid = 0;
	size_t phnum;
	if (elf_getphdrnum(elf, &phnum) != 0)
		return;
	bool is64 = gelf_getclass(elf) == ELFCLASS64;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_NOTE)
			continue;
		Elf_Data *d = elf_getdata_rawchunk(elf, (int64_t)ph.p_offset, ph.p_filesz,
						   ELF_T_NHDR);
		if (!d)
			continue;
		GElf_Nhdr nh;
		size_t off = 0, name_off, desc_off;
		while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_type != NT_PRSTATUS)
				continue;
			const unsigned char *desc = (const unsigned char *)d->d_buf + desc_off;
			size_t pid_off = is64 ? 32 : 24;
			if (nh.n_descsz < pid_off + 4)
				return;
			int16_t cursig;
			int32_t pid;
			memcpy(&cursig, desc + 12, sizeof(cursig));
			memcpy(&pid, desc + pid_off, sizeof(pid));
			*signal = cursig;
			*tid = pid;
			return;
		}
	}
}

void ck_core_backtrace_deinit(struct ck_core_backtrace *bt)
{
	if (!bt)
		return;
	free(bt->text);
	free(bt->modules);
	free(bt->signature);
	free(bt->crash_frames);
	memset(bt, 0, sizeof(*bt));
}

struct ck_error *ck_core_backtrace_fd(int core_fd, const char *exe, int signal,
				      unsigned int max_threads, unsigned int max_frames,
				      struct ck_core_backtrace *ret)
{
	static const Dwfl_Callbacks callbacks = {
		.find_elf = dwfl_build_id_find_elf,
		.find_debuginfo = dwfl_standard_find_debuginfo,
	};
	struct ck_error *err = NULL;
	struct walk w = { .max_threads = max_threads ? max_threads : 1,
			  .max_frames = max_frames ? max_frames : 1, .text = CK_STRBUF_INIT };
	struct ck_strbuf mods = CK_STRBUF_INIT;

	elf_version(EV_CURRENT);
	Elf *elf = elf_begin(core_fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return ck_error_create(CK_ERR_FORMAT, "core: %s", elf_errmsg(-1));
	Dwfl *dwfl = dwfl_begin(&callbacks);
	if (!dwfl) {
		elf_end(elf);
		return ck_error_create(CK_ERR_NOMEM, "dwfl: %s", dwfl_errmsg(-1));
	}
	w.dwfl = dwfl;
	dwfl_report_begin(dwfl);
	/* exe helps libdwfl name the main module; it is only opened, never
	 * trusted as a name. */
	const char *exe_arg = exe && exe[0] == '/' && access(exe, R_OK) == 0 ? exe : NULL;
	if (dwfl_core_file_report(dwfl, elf, exe_arg) < 0) {
		err = ck_error_create(CK_ERR_FORMAT, "core: %s", dwfl_errmsg(-1));
		goto out;
	}
	dwfl_report_end(dwfl, NULL, NULL);
	if (dwfl_core_file_attach(dwfl, elf) < 0) {
		err = ck_error_create(CK_ERR_FORMAT, "core threads: %s", dwfl_errmsg(-1));
		goto out;
	}
	dwfl_getthreads(dwfl, thread_cb, &w);
	dwfl_getmodules(dwfl, module_cb, &mods, 0);
	if (w.text.failed || mods.failed) {
		err = &ck_error_nomem;
		goto out;
	}
	ret->text = ck_strbuf_detach(&w.text, NULL);
	ret->modules = ck_strbuf_detach(&mods, NULL);
	core_note_signal(elf, &ret->signal, &ret->tid);
	if (signal <= 0)
		signal = ret->signal;
	/* The signature from the text, as the catalog recomputes it: the
	 * first thread is the one that took the signal (the kernel writes its
	 * NT_PRSTATUS first). */
	struct ck_core_sig sig;
	if (ret->text && ret->modules &&
	    !ck_core_signature_from_text(exe, signal, ret->text, ret->modules, &sig)) {
		ret->signature = sig.signature;
		ret->crash_frames = sig.input;
		sig.signature = sig.input = NULL;
		ck_core_sig_deinit(&sig);
	}
	ret->nr_threads = w.nr_threads;
	if (!ret->text || !ret->modules || !ret->crash_frames || !ret->signature) {
		ck_core_backtrace_deinit(ret);
		err = &ck_error_nomem;
	}
out:
	ck_strbuf_deinit(&w.text);
	ck_strbuf_deinit(&mods);
	dwfl_end(dwfl);
	elf_end(elf);
	return err;
}

struct ck_error *ck_core_backtrace_file(const char *path, const char *exe, int signal,
					unsigned int max_threads, unsigned int max_frames,
					char **text_ret, char **signature_ret)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ck_error_create_errno(errno, "'%s'", path);
	struct ck_core_backtrace bt = { 0 };
	struct ck_error *err = ck_core_backtrace_fd(fd, exe, signal, max_threads, max_frames, &bt);
	if (err)
		return ck_error_prepend(err, "'%s'", path);
	*text_ret = bt.text;
	*signature_ret = bt.signature;
	bt.text = bt.signature = NULL;
	ck_core_backtrace_deinit(&bt);
	return NULL;
}
