/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The analysis layer (docs/analysis.md): types from the dump's BTF,
 * the kernel model read through them (tasks, per-cpu data, modules), the
 * unwinder, and crash's commands over all of it.  Linked only into
 * crashkit-analyze: the capture binary never carries libbpf, capstone or
 * libedit.
 */
#ifndef CRASHKIT_ANALYSIS_H
#define CRASHKIT_ANALYSIS_H

#include <stdio.h>

#include "walk/walk.h"

/* ---- types (types.c: BTF through libbpf) -------------------------------- */

struct ck_types;
struct btf;

/* Loads the kernel's BTF from the dump (__start_BTF .. __stop_BTF, located
 * through kallsyms).  Fails with CK_ERR_FAULT when its pages are not in the
 * dump and CK_ERR_NOT_FOUND when the kernel has none. */
struct ck_error *ck_types_from_dump(struct ck_kernel *kernel, struct ck_types **ret);
void ck_types_destroy(struct ck_types *types);
/* The libbpf object, for code that walks types itself (printing). */
const struct btf *ck_types_btf(const struct ck_types *types);

/* A type by C name: "struct task_struct", "union thread_union",
 * "enum pid_type", a typedef ("pid_t") or a base type ("unsigned int").
 * A bare tag ("task_struct") tries struct, union, typedef, enum in that
 * order.  Lookups are cached. */
struct ck_error *ck_type_find(struct ck_types *types, const char *name, uint32_t *ret);
/* id with typedefs and const/volatile/restrict stripped. */
uint32_t ck_type_resolve(const struct ck_types *types, uint32_t id);
/* Size in bytes of the type (resolved); 0 for void and functions. */
uint64_t ck_type_size(const struct ck_types *types, uint32_t id);
/* True for pointers (after resolving). */
bool ck_type_is_pointer(const struct ck_types *types, uint32_t id);
/* The pointed-to or element type of a pointer or array (resolved). */
uint32_t ck_type_target(const struct ck_types *types, uint32_t id);

/* A member found by path. */
struct ck_member {
	uint64_t offset;	/* bytes from the start of the outer object */
	uint32_t bit_offset;	/* bitfields: bits from offset; else 0 */
	uint32_t bit_size;	/* bitfields: width; 0 for a whole member */
	uint32_t type;		/* the member's type id, typedefs kept */
	uint64_t size;		/* bytes of the member's type */
};

/* A member by path inside type id: "pid", "mm.rss_stat.count",
 * "thread.sp", "comm", "cpus_mask.bits[0]"; members of anonymous structs
 * and unions are found through them.  CK_ERR_NOT_FOUND names the path. */
struct ck_error *ck_type_member(struct ck_types *types, uint32_t id, const char *path,
				struct ck_member *ret);
/* The same with the outer type by name ("task_struct", "pid"), cached. */
struct ck_error *ck_member_of(struct ck_types *types, const char *type, const char *path,
			      struct ck_member *ret);
/* The first of several alternative paths that exists ("__state", "state"),
 * for members renamed across releases; *which gets the one used. */
struct ck_error *ck_member_of_any(struct ck_types *types, const char *type,
				  const char *const *paths, struct ck_member *ret,
				  const char **which);

/* A global variable's address and type: kallsyms gives the address, the
 * table in globals.c the type (kernel BTF has no global variables except
 * per-cpu ones).  Per-cpu variables come from BTF's .data..percpu. */
struct ck_error *ck_global(struct ck_kernel *kernel, struct ck_types *types, const char *name,
			   uint64_t *addr, uint32_t *type);
/* The same with the variable's declared type first (DWARF's `volatile
 * unsigned long`, `unsigned long [3]`), for p and whatis (globals.c). */
struct ck_error *ck_global_declared(struct ck_kernel *kernel, struct ck_types *types,
				    const char *name, uint64_t *addr, uint32_t *type);

/* ---- values (value.c) ----------------------------------------------------- */

/* Reads an integer member (1, 2, 4 or 8 bytes, or a bitfield) of the
 * object at addr, zero-extended; signed members are sign-extended to 64
 * bits. */
struct ck_error *ck_read_member(struct ck_kernel *kernel, struct ck_types *types,
				uint64_t addr, const struct ck_member *m, uint64_t *ret);
/* ck_member_of + ck_read_member. */
struct ck_error *ck_read_field(struct ck_kernel *kernel, struct ck_types *types,
			       uint64_t addr, const char *type, const char *path,
			       uint64_t *ret);

/* ---- the analysis session ------------------------------------------------- */

/* One open dump and what has been read of it so far.  Models are read on
 * first use and kept. */
struct ck_analysis {
	struct ck_dump *dump;
	struct ck_kernel *kernel;
	struct ck_types *types;		/* NULL: no BTF (types_error says why) */
	struct ck_error *types_error;
	char *dump_path;
	FILE *out;			/* where the running command writes */
	FILE *err;			/* its diagnostics (stderr) */
	bool json;			/* --json: one object per command */
	/* `set`: the current context (0: not chosen yet, the panic task) */
	uint64_t ctx_task;
	/* models, read on first use (their files free them) */
	struct ck_tasks *tasks;
	struct ck_modules *modules;
	struct ck_debuginfo *debuginfo;	/* the DWARF vmlinux, if given */
};

/* The types, or an error saying the command needs BTF (or a vmlinux) and
 * why the dump's could not be read. */
struct ck_error *ck_analysis_types(struct ck_analysis *a, struct ck_types **ret);

/* ---- per-cpu data and tasks (percpu.c, tasks.c) --------------------------- */

/* Possible CPUs (nr_cpu_ids) and whether cpu was online at the crash. */
struct ck_error *ck_cpus(struct ck_analysis *a, int *nr_cpus);
bool ck_cpu_online(struct ck_analysis *a, int cpu);
/* __per_cpu_offset[cpu]: a per-cpu variable's address on cpu is its
 * kallsyms address plus this. */
struct ck_error *ck_percpu_offset(struct ck_analysis *a, int cpu, uint64_t *ret);

struct ck_task {
	uint64_t addr;		/* the task_struct */
	int32_t pid, tgid;
	int32_t ppid;		/* parent's pid (task->parent, as crash's PPID) */
	uint64_t parent;	/* task->parent */
	int32_t cpu;
	uint64_t state;		/* __state (state before 5.14) */
	uint64_t exit_state;
	uint64_t flags;		/* PF_* */
	uint64_t mm;		/* 0 for kernel threads */
	uint64_t stack;		/* the task's kernel stack (task->stack) */
	char comm[17];
	bool active;		/* the current task of its CPU (rq->curr) */
};

/* Every task (thread) in crash's ps order: each CPU's idle task, then by
 * pid.  Read once per session; a broken list ends the walk with a note
 * (ck_tasks_note). */
struct ck_error *ck_tasks_get(struct ck_analysis *a, const struct ck_task **ret, size_t *nr);
/* Why the task list may be incomplete, or NULL. */
const char *ck_tasks_note(struct ck_analysis *a);
const struct ck_task *ck_task_by_pid(struct ck_analysis *a, int32_t pid);
const struct ck_task *ck_task_by_addr(struct ck_analysis *a, uint64_t addr);
/* The task running on cpu at the crash (its runqueue's curr). */
struct ck_error *ck_cpu_curr(struct ck_analysis *a, int cpu, uint64_t *task);
/* The panic task and CPU (panic_cpu's current task; with no panic, the
 * task of the CPU that took the dump); *cpu -1 if unknown. */
struct ck_error *ck_panic_task(struct ck_analysis *a, const struct ck_task **task, int *cpu);
/* `set`'s task, the panic task until set changes it. */
struct ck_error *ck_context_task(struct ck_analysis *a, const struct ck_task **ret);
/* crash's state names: "RU", "IN", "UN", "ZO", "ST", "TR", "DE", "SW",
 * "WA", "PA", "ID", "NE". */
const char *ck_task_state_name(struct ck_analysis *a, const struct ck_task *t);

/* ---- modules and symbols (modules.c, symbolize.c) ------------------------- */

struct ck_module {
	uint64_t addr;		/* struct module */
	char name[57];		/* MODULE_NAME_LEN */
	uint64_t base;		/* text start (crash's BASE) */
	uint64_t size;		/* total size of the module's memory (crash's SIZE) */
	uint64_t text_start, text_end;
};
struct ck_error *ck_modules_get(struct ck_analysis *a, const struct ck_module **ret, size_t *nr);

/* An address as a symbol: vmlinux's kallsyms, then the modules' symbol
 * tables. */
struct ck_symbolized {
	const char *name;
	uint64_t address;	/* the symbol's start */
	uint64_t offset;	/* addr - address */
	uint64_t size;		/* 0 if unknown */
	const char *module;	/* NULL for vmlinux */
	char type;		/* kallsyms letter: 't', 'T', 'D', ...; '?' unknown */
};
struct ck_error *ck_symbolize(struct ck_analysis *a, uint64_t addr, struct ck_symbolized *ret);
/* A symbol's address by name: vmlinux, then modules ("mod:name" too). */
struct ck_error *ck_symbol_lookup(struct ck_analysis *a, const char *name, uint64_t *ret);

/* ---- unwinding (orc.c, unwind_x86_64.c) ----------------------------------- */

/* x86_64 registers, pt_regs order is not implied. */
struct ck_regs {
	uint64_t ip, sp, bp;
	uint64_t ax, bx, cx, dx, si, di;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t orig_ax, cs, flags, ss;
	bool full;		/* all of them known (a pt_regs or NT_PRSTATUS) */
};

/* ---- commands (commands.c: the table; cmd_*.c: one file per command) ------- */

/* A command writes its answer to a->out and its complaints to a->err as
 * crash does ("ps: invalid task or pid value: foo"); it returns 0, or 1 when
 * it failed (batch mode exits non-zero). */
typedef int ck_analysis_cmd_fn(struct ck_analysis *a, int argc, char **argv);

struct ck_analysis_cmd {
	const char *name;
	ck_analysis_cmd_fn *run;
	const char *summary;
};

const struct ck_analysis_cmd *ck_analysis_cmd_find(const char *name);
const struct ck_analysis_cmd *ck_analysis_cmds(size_t *nr);

/* Prints "CMD: message" to a->err, destroys err, returns 1. */
int ck_analysis_fail(struct ck_analysis *a, const char *cmd, struct ck_error *err);

ck_analysis_cmd_fn ck_acmd_sys, ck_acmd_log, ck_acmd_ps, ck_acmd_bt, ck_acmd_set,
	ck_acmd_foreach, ck_acmd_mod, ck_acmd_struct, ck_acmd_union, ck_acmd_whatis,
	ck_acmd_p, ck_acmd_rd, ck_acmd_sym, ck_acmd_dis, ck_acmd_eval, ck_acmd_help;

/* Running command lines: ck_analysis_run_line() and ck_analysis_shell()
 * in crashkit.h (shell.c). */

/* ---- shell: command lines, the shell, help (shell.c, edit.c, cmd_help.c) ---- */

/* Words in one command at most (crash: MAXARGS 100). */
#define CK_LINE_MAX_WORDS 256

/* One command of a line, parsed: its words, and where its output goes. */
struct ck_line_cmd {
	int argc;
	char **argv;		/* argc words, NULL-terminated */
	const char *pipe_cmd;	/* "CMD | SHELL-COMMAND": the shell command, or NULL */
	const char *redir;	/* "CMD > FILE", "CMD >> FILE": FILE, or NULL */
	bool append;		/* ">>" */
	const char *shell;	/* "!SHELL-COMMAND": run by sh, argc 0 */
};

/* A line: commands separated by unquoted ';'.  Empty commands (blank,
 * "# comment") are dropped. */
struct ck_line {
	size_t nr;
	struct ck_line_cmd *cmds;
	char *buf;		/* the words' storage */
	char **pool;		/* the commands' argv arrays */
};

/* Parses without running anything: words ('single', "double" quotes,
 * backslash escapes), '|', '>', '>>', '!', ';'.  CK_ERR_INVALID with one
 * line saying what is wrong (an unterminated quote, a missing file name,
 * too many words).  ck_line_free() in both cases. */
struct ck_error *ck_analysis_parse_line(const char *line, struct ck_line *ret);
void ck_line_free(struct ck_line *l);

/* Ctrl-C while a command runs (the shell's SIGINT handler sets it; the
 * shell clears it before each command).  Long loops may poll it and stop;
 * the command's output stops by itself. */
bool ck_analysis_interrupted(void);
void ck_analysis_interrupt_clear(void);

/* The help texts, docs/analysis/help/CMD.txt, compiled in by the Makefile
 * ($(O)/gen/help_text.c, lib/analysis/gen_help_text.sh); NULL-terminated. */
struct ck_help_text {
	const char *name;
	const char *text;
};
extern const struct ck_help_text ck_help_texts[];
extern const size_t ck_help_texts_nr;
const char *ck_analysis_help_text(const char *cmd);

/* Types from raw BTF bytes (the fuzz target tests/fuzz/fuzz_btf_types.c;
 * ck_types_from_dump reads the dump's and calls it). */
struct ck_error *ck_types_from_bytes(const void *data, size_t size, struct ck_types **ret);
/* The same over a libbpf object (taken over, freed on failure too). */
struct ck_error *ck_types_from_btf(struct btf *btf, struct ck_types **ret);
/* Whether the types were made from a vmlinux's DWARF (types_dwarf.c). */
void ck_types_set_from_dwarf(struct ck_types *types, bool yes);
bool ck_types_from_dwarf_p(const struct ck_types *types);
/* A variable's type by name from the BTF's VARs: every per-cpu variable in
 * the dump's BTF, every variable with an address in DWARF's. */
bool ck_types_var(struct ck_types *types, const char *name, uint32_t *type);

/* ---- end of shell ---- */

/* ---- dwarf: a DWARF vmlinux given by the user (debuginfo.c) ---- */

/* Source file and line of a (KASLR-relocated) kernel address from the
 * vmlinux given with ck_analysis_set_vmlinux(), as crash's `bt -l` and `sym`
 * print them ("FILE: LINE").  *file lives as long as the vmlinux.
 * CK_ERR_NOT_FOUND when no vmlinux was given or it has no line there
 * (module addresses: module debug files are not read yet). */
struct ck_error *ck_debuginfo_line(struct ck_analysis *a, uint64_t addr, const char **file,
				   int *line);
/* Whether a vmlinux was given, and its path (NULL if none). */
bool ck_debuginfo_present(const struct ck_analysis *a);
const char *ck_debuginfo_path(const struct ck_analysis *a);
/* Forgets the session's vmlinux (ck_analysis_destroy calls it). */
void ck_debuginfo_destroy(struct ck_analysis *a);

/* Types from DWARF (types_dwarf.c): the DWARF's types, functions and
 * variables as BTF (libbpf's writer, then btf__dedup), per-cpu variables in
 * a .data..percpu DATASEC.  ck_types_from_dwarf first tries the cache
 * $XDG_CACHE_HOME/crashkit/btf/BUILD-ID-vN.btf (~/.cache without it) and
 * writes it after a conversion. */
struct Dwarf;
struct Elf;
/* The index type of arrays declared `[0]` (DWARF tells them from `[]`;
 * BTF only by this): typefmt prints their size. */
#define CK_BTF_ZERO_LENGTH_INDEX "__ck_zero_length_array__"

struct ck_dwarf_btf_stats {
	unsigned int cus, dedups;
	uint64_t dies;			/* type DIEs converted */
	uint32_t types, funcs, vars;	/* BTF types at the end; FUNCs, VARs written */
	uint32_t fillers, bad_members;	/* what libbpf refused (a `void *` instead) */
	bool cached, cache_written;
};
struct ck_error *ck_btf_from_dwarf(struct Dwarf *dw, struct Elf *elf, struct btf **ret,
				   struct ck_dwarf_btf_stats *st);
struct ck_error *ck_types_from_dwarf(struct Dwarf *dw, struct Elf *elf, const char *build_id,
				     struct ck_types **ret, struct ck_dwarf_btf_stats *st);
/* Module debug files' types as split BTF over base (not cached: small);
 * base must outlive them. */
struct ck_error *ck_types_from_dwarf_split(struct Dwarf *const *dws, size_t n,
					   const struct ck_types *base, struct ck_types **ret);
/* mod -s / -S: a module's debug file (.ko with DWARF), checked against the
 * module's build id where its notes are in the dump, relocated at its
 * sections' addresses (module->sect_attrs); then source lines of module
 * addresses and the module's types.  Needs the vmlinux (debuginfo.c). */
struct ck_error *ck_moddebug_load(struct ck_analysis *a, const char *module, const char *path);
/* The debug file loaded for a module, or NULL. */
const char *ck_moddebug_path(const struct ck_analysis *a, const char *module);

/* ---- end of dwarf ---- */

/* ---- sysmod: modules, symbols, sys, log (modules.c, symbolize.c) ---- */

/* Frees the session's module model (session.c calls it). */
void ck_modules_destroy(struct ck_modules *modules);
/* Why the module list may be incomplete, or NULL. */
const char *ck_modules_note(struct ck_analysis *a);
const struct ck_module *ck_module_by_name(struct ck_analysis *a, const char *name);
/* The module whose memory (any region, init too) holds addr, or NULL. */
const struct ck_module *ck_module_by_address(struct ck_analysis *a, uint64_t addr);

/* A module's memory regions: since 6.4 mem[] by enum mod_mem_type ("TEXT",
 * "DATA", "RODATA", "RO_AFTER_INIT", "INIT_TEXT", ...; *modern true),
 * before it "CORE" and "INIT" (core_layout, init_layout). */
struct ck_module_region {
	uint64_t base, size;
	const char *name;
	bool init;
};
size_t ck_module_regions(struct ck_analysis *a, const struct ck_module *mod,
			 struct ck_module_region *ret, size_t max, bool *modern);

/* One symbol of a module's own table (module->kallsyms). */
struct ck_module_symbol {
	uint64_t address;
	uint64_t size;		/* st_size */
	const char *name;	/* as crash shows it (ck_symbol_display_len) */
	uint32_t index;		/* in the module's symtab */
	char type;		/* typetab's letter, upper case if global ('t', 'T', 'd', 'r', ...) */
};
/* The module's symbols sorted by address (the null symbol, undefined
 * ones and those outside the module's memory left out). */
struct ck_error *ck_module_symbols(struct ck_analysis *a, const struct ck_module *mod,
				   const struct ck_module_symbol **ret, size_t *nr);

/* crash cuts ".isra.", ".part.", ".llvm." (the first found, in that
 * order) and what follows off every name: the length it keeps, and the
 * name so cut (kept for the session; name itself when nothing is cut). */
size_t ck_symbol_display_len(const char *name);
const char *ck_symbol_display_name(struct ck_analysis *a, const char *name);

/* A symbol by name as ck_symbol_lookup finds it, with its type and
 * module ("MOD:NAME" looks in MOD only). */
struct ck_error *ck_symbol_find(struct ck_analysis *a, const char *name,
				struct ck_symbolized *ret);

/* The kernel's tick rate: from the timekeeper (raw_interval, the ns of
 * one tick) or tick_nsec; CK_ERR_NOT_FOUND when neither is readable. */
struct ck_error *ck_kernel_hz(struct ck_analysis *a, unsigned int *ret);
/* Seconds since the epoch at the dump: the timekeeper's xtime_sec (as
 * crash reads it), else VMCOREINFO CRASHTIME. */
struct ck_error *ck_kernel_date(struct ck_analysis *a, int64_t *ret);
/* jiffies since boot (jiffies_64 - INITIAL_JIFFIES). */
struct ck_error *ck_kernel_uptime_jiffies(struct ck_analysis *a, unsigned int hz, uint64_t *ret);

/* The panic message as crash's `sys` finds it in the log (cmd_log.c): the
 * line with the first of its panic strings, else the first line with one
 * of its keywords; "" when none. */
struct ck_error *ck_log_panic_message(struct ck_analysis *a, char *buf, size_t size);

/* ---- end of sysmod ---- */

/* ---- types: printing (typefmt.c; struct, union, whatis, p, rd, dis, eval) ---- */

struct ck_strbuf;
/* name declared with type id as gdb spells it ("char comm[16]",
 * "void (*fn)(struct callback_head *)"), appended to s; name may be "". */
bool ck_typefmt_decl(struct ck_types *types, uint32_t id, const char *name,
		     struct ck_strbuf *s);
/* A struct's, union's, enum's or typedef's layout as crash prints it
 * (`struct NAME`, `struct NAME -o`, `whatis TYPE`), "SIZE: N" last. */
void ck_typefmt_layout(struct ck_types *types, uint32_t id, bool offsets, FILE *out);
/* The same with each member's address in place of its offset (struct -o ADDR). */
void ck_typefmt_layout_at(struct ck_types *types, uint32_t id, uint64_t addr, FILE *out);
/* Reads the object (or bitfield) of type id at addr and prints its value as
 * gdb's print does, without a newline; indent: the column of the line it
 * starts on; radix 16 (-x), 10 (-d) or 0; top: pointers show their type. */
struct ck_error *ck_typefmt_value(struct ck_analysis *a, uint32_t id, uint64_t addr,
				  uint32_t bit_off, uint32_t bit_size, int indent, int radix,
				  bool top, FILE *out);
/* " <sym+off>" for an address inside the kernel image, else nothing. */
void ck_typefmt_symbol(struct ck_analysis *a, uint64_t addr, FILE *out);
/* "sym+off" into buf; false when addr is not inside the kernel image. */
bool ck_typefmt_symbol_name(struct ck_analysis *a, uint64_t addr, char *buf, size_t len);
/* An address argument: hex (0x optional), a symbol, or symbol+offset. */
struct ck_error *ck_typefmt_address(struct ck_analysis *a, const char *arg, uint64_t *ret);
/* eval's expressions: + - * / % << >> & | ^ ~ and parentheses over
 * numbers (0x hex, decimal) and symbols (their addresses). */
struct ck_error *ck_eval_expr(struct ck_analysis *a, const char *expr, uint64_t *ret);

/* ---- end of types: printing ---- */

/* ---- tasks (tasks.c) ---- */

/* crash's kernel threads: PF_KTHREAD (checked on the idle task), else no mm;
 * pid 0 always. */
bool ck_task_is_kernel_thread(struct ck_analysis *a, const struct ck_task *k);
/* `set`'s STATE: "TASK_RUNNING", "TASK_INTERRUPTIBLE|TASK_WAKEKILL" ... */
void ck_task_state_long(struct ck_analysis *a, const struct ck_task *k, char *buf, size_t size);
/* Frees the model (ck_analysis_destroy). */
void ck_tasks_destroy(struct ck_tasks *tasks);

/* "PID: 119      TASK: ffff89cc821de100  CPU: 0    COMMAND: "ck_crash"",
 * crash's task header line (ps -p/-c/-t/-l, foreach, bt). */
void ck_task_header(FILE *out, const struct ck_task *t);
/* A task argument as crash reads it: digits as a decimal pid or task
 * address, else hex.  1: a pid (*pid), 2: a task (*task), 0: no task. */
int ck_task_arg(struct ck_analysis *a, const char *s, int32_t *pid, uint64_t *task);
/* Whether crash takes the word for a number (a pid or an address). */
bool ck_task_arg_is_number(const char *s);

/* ps for foreach (cmd_ps.c): create with the flags, then one task at a
 * time (the header comes before the first), then finish (--json). */
enum {
	CK_PS_KERNEL = 1 << 0,		/* -k */
	CK_PS_USER = 1 << 1,		/* -u */
	CK_PS_GROUP = 1 << 2,		/* -G */
	CK_PS_KSTACKP = 1 << 3,		/* -s */
	CK_PS_PARENTS = 1 << 4,		/* -p */
	CK_PS_CHILDREN = 1 << 5,	/* -c */
	CK_PS_TIMES = 1 << 6,		/* -t */
	CK_PS_LAST_RUN = 1 << 7,	/* -l */
	CK_PS_NO_HEADER = 1 << 8,
	CK_PS_SUMMARY = 1 << 9,		/* -S */
	CK_PS_MSECS = 1 << 10,		/* -m */
	CK_PS_THREADS = 1 << 11,	/* -g */
	CK_PS_ACTIVE = 1 << 12,		/* -A */
	CK_PS_EXCLUSIVE = CK_PS_PARENTS | CK_PS_CHILDREN | CK_PS_TIMES | CK_PS_LAST_RUN |
			  CK_PS_SUMMARY | CK_PS_MSECS | CK_PS_THREADS | CK_PS_ACTIVE,
};
struct ck_ps;
struct ck_error *ck_ps_create(struct ck_analysis *a, unsigned flags, struct ck_ps **ret);
/* specified: the task was named (with -G a thread stands for its leader). */
void ck_ps_task(struct ck_ps *ps, const struct ck_task *t, bool specified);
void ck_ps_finish(struct ck_ps *ps);
void ck_ps_destroy(struct ck_ps *ps);

/* set's context block (PID, COMMAND, TASK, CPU, STATE) of t (cmd_set.c). */
void ck_set_show_context(struct ck_analysis *a, const struct ck_task *t);

/* ---- end of tasks ---- */

/* ---- unwind (orc.c, unwind_x86_64.c, regs.c, cmd_bt.c) ---- */

/* ORC base registers and frame types, whatever numbering the kernel used
 * (orc.c says how it is told). */
enum ck_orc_reg {
	CK_ORC_REG_UNDEFINED, CK_ORC_REG_PREV_SP, CK_ORC_REG_DX, CK_ORC_REG_DI,
	CK_ORC_REG_BP, CK_ORC_REG_SP, CK_ORC_REG_R10, CK_ORC_REG_R13,
	CK_ORC_REG_BP_INDIRECT, CK_ORC_REG_SP_INDIRECT, CK_ORC_REG_UNKNOWN,
};
enum ck_orc_type {
	CK_ORC_TYPE_UNDEFINED, CK_ORC_TYPE_END_OF_STACK, CK_ORC_TYPE_CALL,
	CK_ORC_TYPE_REGS, CK_ORC_TYPE_REGS_PARTIAL,
};
struct ck_orc_entry {
	int16_t sp_offset, bp_offset;
	enum ck_orc_reg sp_reg, bp_reg;
	enum ck_orc_type type;
	bool signal;
};
struct ck_orc;
/* vmlinux's ORC tables (and the modules' when the module list reads). */
struct ck_error *ck_orc_create(struct ck_analysis *a, struct ck_orc **ret);
void ck_orc_destroy(struct ck_orc *orc);
/* The entry for ip; *found false when no table covers it. */
struct ck_error *ck_orc_find(struct ck_orc *orc, uint64_t ip, bool *found,
			     struct ck_orc_entry *ret);
/* Whether ip lies in text the tables describe (vmlinux, init, modules). */
bool ck_orc_is_text(const struct ck_orc *orc, uint64_t ip);
/* How the register numbering was chosen, for diagnostics. */
const char *ck_orc_regs_numbering(const struct ck_orc *orc);

/* regs.c: the registers of cpu in the dump's NT_PRSTATUS notes (one per
 * CPU, in CPU order), with the note's pr_pid. */
struct ck_error *ck_cpu_regs(struct ck_analysis *a, int cpu, struct ck_regs *ret, int32_t *pid);
/* A pt_regs in the dump (members by name from BTF). */
struct ck_error *ck_read_pt_regs(struct ck_analysis *a, uint64_t addr, struct ck_regs *ret);

/* unwind_x86_64.c: one task's trace, as crash's bt shows it. */
enum ck_frame_kind {
	CK_FRAME_CALL,		/* "#N [slot] func at ip" */
	CK_FRAME_EXCEPTION,	/* "[exception RIP: ...]" and the kernel registers */
	CK_FRAME_START_REGS,	/* the same from a CPU's note (no ORIG_RAX) */
	CK_FRAME_USER,		/* the user-mode registers ending the trace */
	CK_FRAME_USER_NOTE,	/* "[exception RIP: user space]" from a CPU's note */
	CK_FRAME_STACK,		/* "--- <NAME stack> ---": the trace left that stack */
	CK_FRAME_NOTE,		/* the trace ends here: why */
};
struct ck_frame {
	enum ck_frame_kind kind;
	uint64_t slot;		/* CALL: the stack slot holding ip */
	uint64_t ip;
	uint64_t sp;		/* CALL: the caller's sp (slot + 8) */
	struct ck_regs regs;	/* EXCEPTION, START_REGS, USER */
	char text[256];		/* STACK: the stack's name; NOTE: why */
};
struct ck_trace {
	struct ck_frame *frames;
	size_t nr;
	int cpu;		/* -1: not running */
	uint64_t stack_base, stack_top;	/* the task's stack */
};
#define CK_UNWIND_MAX_FRAMES 256
/* Unwinds task: from the NT_PRSTATUS or QEMU registers for the task a CPU
 * was running (the kexec path of the panic task, crash_nmi_callback of a
 * CPU the crash NMI stopped), from thread.sp's inactive_task_frame for the
 * others.  A bad frame ends the trace with a NOTE frame; the error is only
 * for traces that cannot start. */
struct ck_error *ck_unwind_task(struct ck_analysis *a, struct ck_orc *orc,
				const struct ck_task *task, struct ck_trace *ret);
void ck_trace_deinit(struct ck_trace *trace);

/* ---- end of unwind ---- */

/* ---- triage (triage_rules.c, triage.c, cmd_triage.c; docs/signatures.md) ---- */

enum ck_triage_class {
	CK_TRIAGE_UNKNOWN, CK_TRIAGE_NONE, CK_TRIAGE_SYSRQ, CK_TRIAGE_NULL_DEREF,
	CK_TRIAGE_PAGE_FAULT, CK_TRIAGE_GPF, CK_TRIAGE_BUG, CK_TRIAGE_DIVIDE_ERROR,
	CK_TRIAGE_INVALID_OPCODE, CK_TRIAGE_LIST_CORRUPTION, CK_TRIAGE_STACK_PROTECTOR,
	CK_TRIAGE_STACK_OVERFLOW, CK_TRIAGE_WARNING, CK_TRIAGE_SOFT_LOCKUP,
	CK_TRIAGE_HARD_LOCKUP, CK_TRIAGE_HUNG_TASK, CK_TRIAGE_RCU_STALL,
	CK_TRIAGE_OUT_OF_MEMORY, CK_TRIAGE_EXPLICIT_PANIC, CK_TRIAGE_MACHINE_CHECK,
	CK_TRIAGE_KASAN, CK_TRIAGE_DOUBLE_FAULT, CK_TRIAGE_CLASS_COUNT,
};
/* "null-pointer-dereference", ... (docs/signatures.md). */
const char *ck_triage_class_name(enum ck_triage_class c);

/* What the log says, fed one line (no timestamp) at a time. */
struct ck_triage_log {
	char panic[512];	/* "Kernel panic - not syncing: ..." line, from "Kernel" */
	char report[512];	/* the first report line (Oops, BUG, ...) */
	enum ck_triage_class report_class;
	bool report_is_warning;	/* report is a WARNING (counts with panic_on_warn) */
	char warning[512];	/* the first WARNING line */
	int32_t hung_pid;	/* "INFO: task COMM:PID blocked for more than": PID, or -1 */
	int stall_cpu;		/* the CPU an RCU stall or hard LOCKUP report names, or -1 */
};
void ck_triage_log_init(struct ck_triage_log *l);
void ck_triage_log_line(struct ck_triage_log *l, const char *line, size_t len);
/* The class from the log; panicked: panic_cpu was set (else CK_TRIAGE_NONE).
 * *message: the panic line, else the report line ("" if none). */
enum ck_triage_class ck_triage_log_class(const struct ck_triage_log *l, bool panicked,
					 const char **message);

/* name without gcc's clone suffixes (".cold", ".isra.0", ".constprop.0",
 * ".part.0", ".llvm.N": everything from the first '.'), into buf. */
void ck_triage_norm_name(const char *name, char *buf, size_t size);
/* A frame (normalized name) that only reports or dispatches the crash. */
bool ck_triage_skip_frame(const char *name, enum ck_triage_class c);
/* A frame where the meaningful part of a trace ends (syscall entry, kthread). */
bool ck_triage_stop_frame(const char *name);
/* Classes whose culprit is the code an exception frame interrupted. */
bool ck_triage_class_uses_exception(enum ck_triage_class c);
/* The signature: the first 16 hex digits of SHA-256 of
 * "v2|CLASS|F1|F2|F3" (frames normalized); out gets 17 bytes.  The scheme
 * version of kernel signatures (docs/signatures.md). */
#define CK_TRIAGE_SCHEME "v2"
#define CK_TRIAGE_SIG_FRAMES 3
void ck_triage_signature(enum ck_triage_class c, const char *const *frames, size_t nr,
			 char out[17]);
/* The human title ("BUG: kernel NULL pointer dereference in foo [mod]"). */
void ck_triage_title(enum ck_triage_class c, const char *report, const char *culprit,
		     const char *module, char *buf, size_t size);
/* tainted_mask as the kernel prints it (P F S R M B U D A W C I O E L K X T N J,
 * '?' for bits the table does not know), letters of set bits only. */
void ck_triage_taint_letters(uint64_t mask, char *buf, size_t size);

/* The report triage gathers (triage.c) and prints (cmd_triage.c). */
struct ck_triage_frame {
	enum ck_frame_kind kind;
	uint64_t ip;
	char func[128];		/* as kallsyms names it ("" if unknown) */
	char module[57];	/* "" for vmlinux */
	uint64_t offset;
};
struct ck_triage_trace {
	int cpu;
	int32_t pid;
	char comm[17];
	struct ck_triage_frame *frames;
	size_t nr;
	char note[160];		/* why the trace is missing or short */
};
#define CK_TRIAGE_LOG_LINES 20
#define CK_TRIAGE_DSTATE_MAX 32
/* One source of recoverable hardware errors the kernel counted
 * (hwerr_data, Linux 6.17+). */
#define CK_TRIAGE_HWERR_MAX 16
struct ck_triage_hwerr {
	char name[16];		/* "cpu", "memory", "pci", "cxl", "others" */
	int64_t count;
	int64_t last;		/* seconds since the epoch; 0: never */
};

struct ck_triage {
	enum ck_triage_class class;
	char message[512], report[512], title[384], signature[17];
	char sig_input[512];
	bool have_culprit;
	struct ck_triage_frame culprit;
	char culprit_line[320];	/* "FILE: LINE" with a vmlinux */
	int32_t culprit_pid;	/* the task whose trace holds the culprit */
	int culprit_cpu;	/* its CPU, -1 if not running */
	char culprit_comm[17];
	const char *culprit_context;	/* "task", "softirq", "hardirq" or "nmi" */
	bool have_panic_task;
	int32_t pid;
	char comm[17];
	int cpu;
	bool have_taint;
	uint64_t taint;
	char taint_letters[72];
	char taint_modules[512];	/* "name(OE) name2(P)" */
	char release[65], version[65], build_id[96];
	int64_t uptime;			/* seconds, -1 unknown */
	struct ck_triage_trace panic_trace;
	struct ck_triage_trace *cpus;
	size_t nr_cpus;
	struct ck_triage_trace dstate[CK_TRIAGE_DSTATE_MAX];	/* frames: culprit only */
	size_t nr_dstate, nr_dstate_total;
	char log[CK_TRIAGE_LOG_LINES][256];
	size_t nr_log;
	char notes[2048];		/* "what: why\n" lines: what could not be read */
	size_t nr_notes;
	bool have_hwerr;		/* false: this kernel keeps no hwerr_data */
	size_t nr_hwerr;
	struct ck_triage_hwerr hwerr[CK_TRIAGE_HWERR_MAX];
};
/* Gathers the report; what cannot be read becomes a note.  Fails only
 * when nothing at all can be said (no memory). */
struct ck_error *ck_triage_gather(struct ck_analysis *a, struct ck_triage *t);
/* The hwerr_data counters into t (triage_hwerr.c); what cannot be read
 * goes to note. */
void ck_triage_hwerr(struct ck_analysis *a, struct ck_triage *t,
		     void (*note)(struct ck_triage *, const char *, struct ck_error *));
void ck_triage_deinit(struct ck_triage *t);

/* Gathers and prints (a->json: the JSON object): 0 a complete report, 1 a
 * partial one (what could not be read printed with it) or none (no memory). */
int ck_triage_run(struct ck_analysis *a);

ck_analysis_cmd_fn ck_acmd_triage;

/* ---- end of triage ---- */

#endif /* CRASHKIT_ANALYSIS_H */
