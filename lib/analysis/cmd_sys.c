/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sys: crash's system summary, each line computed as crash computes it
 * (docs/analysis.md, "sys, log, modules and symbols"):
 *   CPUS    the bits of __cpu_present_mask, "[OFFLINE: n]" for those not
 *           in __cpu_online_mask
 *   DATE    the timekeeper's xtime_sec (tk_data.timekeeper since 6.13,
 *           shadow_timekeeper before), else VMCOREINFO CRASHTIME
 *   UPTIME  jiffies_64 - INITIAL_JIFFIES over HZ; HZ is not in the dump as
 *           such: the timekeeper's raw_interval is the length of one tick
 *   LOAD AVERAGE  avenrun[] in the kernel's fixed point (FSHIFT 11)
 *   MEMORY  the nodes' present pages, rounded up to a GiB within 64 MiB
 *   PANIC   from the log (ck_log_panic_message)
 * Without a vmlinux the KERNEL line says where symbols and types come from.
 */
#include <inttypes.h>
#include <json-c/json.h>
#include <string.h>
#include <time.h>

#include "analysis/analysis.h"
#include "base/base.h"


#define FSHIFT 11
#define FIXED_1 (1 << FSHIFT)
/* CPUs and NUMA nodes considered at most. */
#define CPUS_MAX 8192
#define NODES_MAX 1024

static struct ck_error *sym_u64(struct ck_analysis *a, const char *name, uint64_t *ret)
{
	struct ck_symbol s;
	struct ck_error *err = ck_kernel_symbol_by_name(a->kernel, name, &s);
	if (!err)
		err = ck_kernel_read_u64(a->kernel, s.address, ret);
	return err;
}

static struct ck_error *sym_u32(struct ck_analysis *a, const char *name, uint32_t *ret)
{
	struct ck_symbol s;
	struct ck_error *err = ck_kernel_symbol_by_name(a->kernel, name, &s);
	if (!err)
		err = ck_kernel_read_u32(a->kernel, s.address, ret);
	return err;
}

/* The struct timekeeper crash reads: tk_data's (6.13+: timekeeper_data[0]
 * or tk_core), else shadow_timekeeper (3.17-6.12: tk_core is of an
 * anonymous type there), else the old global timekeeper. */
static struct ck_error *timekeeper(struct ck_analysis *a, uint64_t *ret)
{
	struct ck_types *types;
	struct ck_error *err = ck_analysis_types(a, &types);
	if (err)
		return err;
	struct ck_member tk;
	struct ck_symbol s;
	if (!(err = ck_member_of(types, "tk_data", "timekeeper", &tk))) {
		static const char *const names[] = { "timekeeper_data", "tk_core" };
		for (size_t i = 0; i < CK_ARRAY_SIZE(names); i++) {
			ck_error_destroy(err);
			err = ck_kernel_symbol_by_name(a->kernel, names[i], &s);
			if (!err) {
				*ret = s.address + tk.offset;
				return NULL;
			}
		}
	}
	ck_error_destroy(err);
	static const char *const names[] = { "shadow_timekeeper", "timekeeper" };
	for (size_t i = 0; i < CK_ARRAY_SIZE(names); i++) {
		if (!(err = ck_kernel_symbol_by_name(a->kernel, names[i], &s))) {
			*ret = s.address;
			return NULL;
		}
		ck_error_destroy(err);
	}
	return ck_error_create(CK_ERR_NOT_FOUND, "no timekeeper (timekeeper_data, tk_core, "
						 "shadow_timekeeper) in kallsyms");
}

struct ck_error *ck_kernel_hz(struct ck_analysis *a, unsigned int *ret)
{
	uint64_t tk, ns = 0, shift = 0;
	/* raw_interval: the raw ns of one NTP interval (NTP_INTERVAL_FREQ is
	 * HZ), shifted left by the raw clock's shift */
	struct ck_error *err = timekeeper(a, &tk);
	if (!err)
		err = ck_read_field(a->kernel, a->types, tk, "timekeeper", "raw_interval", &ns);
	if (!err)
		err = ck_read_field(a->kernel, a->types, tk, "timekeeper", "tkr_raw.shift", &shift);
	if (!err)
		ns = shift < 64 ? ns >> shift : 0;
	if (err || !ns) {
		/* tick_nsec: the NTP-adjusted tick, up to 6.12 */
		ck_error_destroy(err);
		err = sym_u64(a, "tick_nsec", &ns);
	}
	if (err)
		return ck_error_prepend(err, "HZ");
	if (ns < 100000 || ns > 100000000)
		return ck_error_create(CK_ERR_FORMAT, "HZ: a tick of %" PRIu64 " ns is not plausible",
				       ns);
	*ret = (unsigned int)((1000000000u + ns / 2) / ns);
	return NULL;
}

struct ck_error *ck_kernel_date(struct ck_analysis *a, int64_t *ret)
{
	uint64_t tk, sec;
	struct ck_error *err = timekeeper(a, &tk);
	if (!err)
		err = ck_read_field(a->kernel, a->types, tk, "timekeeper", "xtime_sec", &sec);
	if (!err) {
		*ret = (int64_t)sec;
		return NULL;
	}
	struct ck_error *e2 = ck_kernel_crash_time(a->kernel, ret);
	if (!e2) {
		ck_error_destroy(err);
		return NULL;
	}
	ck_error_destroy(e2);
	return ck_error_prepend(err, "date");
}

struct ck_error *ck_kernel_uptime_jiffies(struct ck_analysis *a, unsigned int hz, uint64_t *ret)
{
	uint64_t j;
	struct ck_error *err = sym_u64(a, "jiffies_64", &j);
	if (err)
		return ck_error_prepend(err, "uptime");
	/* INITIAL_JIFFIES: jiffies start 5 minutes before they wrap 32 bits */
	*ret = j - (uint64_t)(uint32_t)(-300 * (int64_t)hz);
	return NULL;
}

static void format_uptime(uint64_t jiffies, unsigned int hz, char *buf, size_t size)
{
	uint64_t total = jiffies / hz;
	uint64_t days = total / 86400, h = total % 86400 / 3600, m = total % 3600 / 60,
		 s = total % 60;
	size_t n = 0;
	if (days)
		n = (size_t)snprintf(buf, size, "%" PRIu64 " days, ", days);
	snprintf(buf + n, size - n, "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, h, m, s);
}

static struct ck_error *load_average(struct ck_analysis *a, char *buf, size_t size, double *ret)
{
	struct ck_symbol s;
	uint64_t v[3];
	struct ck_error *err = ck_kernel_symbol_by_name(a->kernel, "avenrun", &s);
	if (!err)
		err = ck_kernel_read(a->kernel, s.address, v, sizeof(v));
	if (err)
		return err;
	int x[3];
	for (int i = 0; i < 3; i++) {
		/* rounded to hundredths as the kernel's loadavg_proc_show */
		x[i] = (int)(v[i] + FIXED_1 / 200);
		ret[i] = (double)v[i] / FIXED_1;
	}
#define LOAD_INT(x) ((x) >> FSHIFT)
#define LOAD_FRAC(x) LOAD_INT(((x) & (FIXED_1 - 1)) * 100)
	snprintf(buf, size, "%d.%02d, %d.%02d, %d.%02d", LOAD_INT(x[0]), LOAD_FRAC(x[0]),
		 LOAD_INT(x[1]), LOAD_FRAC(x[1]), LOAD_INT(x[2]), LOAD_FRAC(x[2]));
	return NULL;
}

static int mask_weight(struct ck_analysis *a, const char *name, uint32_t nr_cpus, int *ret)
{
	uint64_t w[CPUS_MAX / 64];
	struct ck_symbol s;
	size_t words = (nr_cpus + 63) / 64;
	struct ck_error *err = ck_kernel_symbol_by_name(a->kernel, name, &s);
	if (!err)
		err = ck_kernel_read(a->kernel, s.address, w, words * 8);
	if (err) {
		ck_error_destroy(err);
		return -1;
	}
	int n = 0;
	for (uint32_t c = 0; c < nr_cpus; c++)
		n += (w[c / 64] >> (c % 64)) & 1;
	*ret = n;
	return 0;
}

static void cpus(struct ck_analysis *a, int *present, int *online)
{
	uint32_t nr = 0;
	struct ck_error *err = sym_u32(a, "nr_cpu_ids", &nr);
	ck_error_destroy(err);
	if (err || !nr || nr > CPUS_MAX)
		nr = CPUS_MAX;
	*present = *online = -1;
	mask_weight(a, "__cpu_present_mask", nr, present);
	mask_weight(a, "__cpu_online_mask", nr, online);
}

/* Bytes of memory of the nodes (node_present_pages, node_spanned_pages
 * when none are present), as crash adds them up. */
static struct ck_error *memory_bytes(struct ck_analysis *a, uint64_t *ret)
{
	struct ck_types *types;
	struct ck_error *err = ck_analysis_types(a, &types);
	if (err)
		return err;
	uint64_t page = 4096, nodes = 1, total = 0;
	ck_error_destroy(ck_kernel_vmcoreinfo_u64(a->kernel, "PAGESIZE", &page));
	struct ck_symbol s;
	bool numa = !(err = ck_kernel_symbol_by_name(a->kernel, "node_data", &s));
	if (numa) {
		/* MAX_NUMNODES; unset entries are NULL */
		err = ck_kernel_vmcoreinfo_u64(a->kernel, "LENGTH(node_data)", &nodes);
		if (err)
			nodes = 1;
		ck_error_destroy(err);
		nodes = CK_MIN(nodes, NODES_MAX);
	} else {
		ck_error_destroy(err);
		if ((err = ck_kernel_symbol_by_name(a->kernel, "contig_page_data", &s)))
			return err;
	}
	for (uint64_t n = 0; n < nodes; n++) {
		uint64_t pgdat = s.address, present = 0, spanned = 0;
		if (numa && (err = ck_kernel_read_u64(a->kernel, s.address + 8 * n, &pgdat)))
			return err;
		if (!pgdat)
			continue;
		if ((err = ck_read_field(a->kernel, types, pgdat, "pglist_data", "node_present_pages",
					 &present)) ||
		    (err = ck_read_field(a->kernel, types, pgdat, "pglist_data", "node_spanned_pages",
					 &spanned)))
			return err;
		total += (present ? present : spanned) * page;
	}
	*ret = total;
	return NULL;
}

static void format_memory(uint64_t total, uint64_t page, char *buf, size_t size)
{
	const uint64_t gib = 1ull << 30, mib = 1ull << 20;
	uint64_t next = (total + gib - 1) / gib * gib;
	if (next && next - total <= 64 * mib)
		total = next;
	total = total / page * page;
	double t = (double)total;
	if (!total)
		snprintf(buf, size, "0");
	else if (total >= gib)
		snprintf(buf, size, "%.1f GB", t / (double)gib);
	else if (total >= mib)
		snprintf(buf, size, "%.1f MB", t / (double)mib);
	else
		snprintf(buf, size, "%" PRIu64 " KB", total / 1024);
	char *p = strstr(buf, ".0 ");
	if (p)
		memmove(p, p + 2, strlen(p + 2) + 1);
}

struct sys_info {
	const char *dumpfile;
	const char *dump_flags;
	int present, online;
	int64_t date;
	char date_str[64], uptime[64], load[64], memory[32], panic[1024];
	double load_avg[3];
	uint64_t uptime_sec, memory_bytes;
	long tasks;
	unsigned long mhz;
	struct ck_utsname uts;
	bool have_date, have_uptime, have_load, have_memory;
};

static void note(struct ck_analysis *a, const char *what, struct ck_error *err)
{
	fprintf(a->err, "sys: %s: %s\n", what, ck_error_message(err));
	ck_error_destroy(err);
}

static void gather_times(struct ck_analysis *a, struct sys_info *si)
{
	struct ck_error *err = ck_kernel_date(a, &si->date);
	if (!err) {
		si->have_date = true;
		time_t t = (time_t)si->date;
		struct tm tm;
		if (!localtime_r(&t, &tm) ||
		    !strftime(si->date_str, sizeof(si->date_str), "%a %b %e %T %Z %Y", &tm))
			snprintf(si->date_str, sizeof(si->date_str), "%" PRId64, si->date);
	} else {
		note(a, "DATE", err);
	}
	unsigned int hz;
	uint64_t j;
	err = ck_kernel_hz(a, &hz);
	if (!err)
		err = ck_kernel_uptime_jiffies(a, hz, &j);
	if (!err) {
		si->have_uptime = true;
		si->uptime_sec = j / hz;
		format_uptime(j, hz, si->uptime, sizeof(si->uptime));
	} else {
		snprintf(si->uptime, sizeof(si->uptime), "(cannot calculate: unknown HZ value)");
		note(a, "UPTIME", err);
	}
}

static void gather(struct ck_analysis *a, struct sys_info *si)
{
	const struct ck_dump_info *di = ck_dump_info(a->dump);
	si->dumpfile = a->dump_path;
	si->dump_flags = di->incomplete ? "  [INCOMPLETE]"
			 : (di->dump_level > 0) ? "  [PARTIAL DUMP]" : "";
	cpus(a, &si->present, &si->online);
	gather_times(a, si);
	struct ck_error *err = load_average(a, si->load, sizeof(si->load), si->load_avg);
	if (err)
		note(a, "LOAD AVERAGE", err);
	si->have_load = !err;
	si->tasks = -1;
	const struct ck_task *tasks;
	size_t nr_tasks;
	if (!(err = ck_tasks_get(a, &tasks, &nr_tasks)))
		si->tasks = (long)nr_tasks;
	else
		note(a, "TASKS", err);
	if ((err = ck_kernel_utsname(a->kernel, &si->uts)))
		note(a, "utsname", err);
	uint32_t khz = 0;
	if ((err = sym_u32(a, "cpu_khz", &khz)) || !khz) {
		ck_error_destroy(err);
		err = sym_u32(a, "tsc_khz", &khz);
		ck_error_destroy(err);
	}
	si->mhz = khz / 1000;
	uint64_t page = 4096;
	ck_error_destroy(ck_kernel_vmcoreinfo_u64(a->kernel, "PAGESIZE", &page));
	if (!(err = memory_bytes(a, &si->memory_bytes))) {
		si->have_memory = true;
		format_memory(si->memory_bytes, page ? page : 4096, si->memory, sizeof(si->memory));
	} else {
		note(a, "MEMORY", err);
	}
	if ((err = ck_log_panic_message(a, si->panic, sizeof(si->panic))))
		note(a, "PANIC", err);
}

static void print_text(struct ck_analysis *a, const struct sys_info *si)
{
	FILE *f = a->out;
	fprintf(f, "      KERNEL: (none: BTF and kallsyms from the dump)\n");
	fprintf(f, "    DUMPFILE: %s%s\n", si->dumpfile, si->dump_flags);
	if (si->present >= 0) {
		fprintf(f, "        CPUS: %d", si->present);
		if (si->online >= 0 && si->present > si->online)
			fprintf(f, " [OFFLINE: %d]", si->present - si->online);
		fprintf(f, "\n");
	} else {
		fprintf(f, "        CPUS: (unknown)\n");
	}
	fprintf(f, "        DATE: %s\n", si->have_date ? si->date_str : "(unknown)");
	fprintf(f, "      UPTIME: %s\n", si->uptime);
	fprintf(f, "LOAD AVERAGE: %s\n", si->have_load ? si->load : "(unknown)");
	if (si->tasks >= 0)
		fprintf(f, "       TASKS: %ld\n", si->tasks);
	else
		fprintf(f, "       TASKS: (unknown)\n");
	fprintf(f, "    NODENAME: %s\n", si->uts.nodename);
	fprintf(f, "     RELEASE: %s\n", si->uts.release);
	fprintf(f, "     VERSION: %s\n", si->uts.version);
	if (si->mhz)
		fprintf(f, "     MACHINE: %s  (%lu Mhz)\n", si->uts.machine, si->mhz);
	else
		fprintf(f, "     MACHINE: %s  (unknown Mhz)\n", si->uts.machine);
	fprintf(f, "      MEMORY: %s\n", si->have_memory ? si->memory : "(unknown)");
	fprintf(f, "       PANIC: \"%s\"%s\n", si->panic,
		strstr(si->panic, "Oops: ") ? " (check log for details)" : "");
}

static void json_add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static int print_json(struct ck_analysis *a, const struct sys_info *si)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "kernel", NULL);
	json_add_str(o, "dumpfile", si->dumpfile);
	json_object_object_add(o, "partial", json_object_new_boolean(si->dump_flags[0] != '\0'));
	json_object_object_add(o, "cpus", json_object_new_int(si->present));
	json_object_object_add(o, "cpus_offline",
			       json_object_new_int(si->online >= 0 && si->present > si->online
							   ? si->present - si->online : 0));
	if (si->have_date) {
		json_object_object_add(o, "date", json_object_new_int64(si->date));
		json_add_str(o, "date_text", si->date_str);
	}
	if (si->have_uptime)
		json_object_object_add(o, "uptime_seconds", json_object_new_int64((int64_t)si->uptime_sec));
	if (si->have_load) {
		json_object *l = json_object_new_array();
		for (int i = 0; i < 3; i++)
			json_object_array_add(l, json_object_new_double(si->load_avg[i]));
		json_object_object_add(o, "load_average", l);
	}
	if (si->tasks >= 0)
		json_object_object_add(o, "tasks", json_object_new_int64(si->tasks));
	json_add_str(o, "nodename", si->uts.nodename);
	json_add_str(o, "release", si->uts.release);
	json_add_str(o, "version", si->uts.version);
	json_add_str(o, "machine", si->uts.machine);
	json_object_object_add(o, "mhz", json_object_new_int64((int64_t)si->mhz));
	if (si->have_memory)
		json_object_object_add(o, "memory_bytes", json_object_new_int64((int64_t)si->memory_bytes));
	json_add_str(o, "panic", si->panic);
	fprintf(a->out, "%s\n",
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}

int ck_acmd_sys(struct ck_analysis *a, int argc, char **argv)
{
	if (argc > 1) {
		fprintf(a->err, "sys: %s: not supported (sys takes no arguments here)\n", argv[1]);
		return 1;
	}
	struct sys_info si = { 0 };
	gather(a, &si);
	if (a->json)
		return print_json(a, &si);
	print_text(a, &si);
	return 0;
}
