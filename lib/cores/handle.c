/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The core_pattern pipe handler's walk: arguments -> policy -> /proc ->
 * compressed store -> backtrace and signature -> limits -> metadata file and
 * catalog row.  Over a limit the core file goes, the record stays.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cores/cores.h"

static int64_t now_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void set_state(struct ck_core_record *rec, const char *state, const char *reason)
{
	char *s = strdup(state), *r = strdup(reason);
	if (!s || !r) {
		free(s);
		free(r);
		return;
	}
	free(rec->state);
	free(rec->reason);
	rec->state = s;
	rec->reason = r;
}

/* Drops oldest cores until the store has room for about half of max_use. */
static void evict_for_room(struct ck_catalog *cat, int dirfd, uint64_t max_use)
{
	for (int round = 0; round < 16; round++) {
		uint64_t used;
		struct ck_error *err = ck_core_store_usage(dirfd, &used);
		if (err) {
			ck_error_destroy(err);
			return;
		}
		if (used <= max_use / 2)
			return;
		struct ck_core_record *old = NULL;
		size_t nr = 0;
		err = ck_catalog_oldest_with_core(cat, &old, &nr);
		if (err || nr == 0) {
			ck_error_destroy(err);
			ck_core_records_destroy(old, nr);
			return;
		}
		ck_error_destroy(ck_catalog_drop_core(cat, old[0].id,
						      "evicted: store over max_use"));
		ck_core_records_destroy(old, nr);
	}
}

/* The kernel holds the crashed process until we close our end of the pipe or
 * socket (fs/coredump.c: wait_for_dump_helpers waits for the pipe's last
 * reader, coredump_sock_wait for the connection to close).  /dev/null keeps
 * the descriptor number valid for the caller. */
static void release_input(const struct ck_core_args *args, int in_fd)
{
	if (!args->release_input)
		return;
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null >= 0) {
		dup3(null, in_fd, O_CLOEXEC);
		close(null);
	}
}

struct ck_error *ck_core_handle(const struct ck_core_policy *policy, int argc,
				char **argv, int in_fd, struct ck_core_record *ret)
{
	struct ck_core_args args;
	struct ck_error *err = ck_core_args_parse(argc, argv, &args);
	if (err)
		return ck_error_prepend(err, "handler arguments");
	args.release_input = true;
	args.mode = "pipe";
	return ck_core_process(policy, &args, in_fd, ret);
}

/* One crash on its way through ck_core_process(). */
struct job {
	const struct ck_core_policy *policy;
	const struct ck_core_args *args;
	int in_fd;
	struct ck_catalog *cat;
	int dirfd;
	struct ck_core_record rec;
	bool have_core;		/* a core file is in the store */
	int mini;		/* the mini core for libdwfl: unlinked, sparse; -1 */
};

static bool set_str(char **field, const char *value)
{
	char *s = strdup(value);
	if (!s)
		return false;
	free(*field);
	*field = s;
	return true;
}

/* The record as far as the arguments and /proc say. */
static struct ck_error *job_record(struct job *j)
{
	const struct ck_core_args *args = j->args;
	struct ck_core_record *rec = &j->rec;
	rec->pid = args->pid;
	rec->tid = args->tid;
	rec->uid = args->uid;
	rec->gid = args->gid;
	rec->signal = args->signal;
	/* The kernel's %t when given; the name uses our clock's microseconds,
	 * so that two crashes in one second never share a name. */
	int64_t now = now_usec();
	rec->time_usec = args->time_sec >= 0 ? args->time_sec * 1000000 : now;
	struct ck_error *err = ck_core_meta_collect(args, rec);
	if (err)
		return err;
	/* Digits and hex only: nothing the crashed program chose. */
	rec->name = ck_strdup_printf("core.%lld.%d.%.8s", (long long)now, args->pid,
				     rec->boot_id[0] ? rec->boot_id : "00000000");
	rec->core_file = rec->name ? ck_strdup_printf("%s.zst", rec->name) : NULL;
	rec->state = strdup("stored");
	rec->reason = strdup("");
	rec->signature = strdup("");
	rec->backtrace = strdup("");
	rec->modules = strdup("");
	if (!rec->name || !rec->core_file || !rec->state || !rec->reason || !rec->signature ||
	    !rec->backtrace || !rec->modules)
		return &ck_error_nomem;
	return NULL;
}

/* Compressed bytes the core may take: never beyond max_use, never below
 * keep_free; evicts old cores first when the store is over half max_use. */
static uint64_t job_budget(struct job *j)
{
	const struct ck_core_policy *policy = j->policy;
	uint64_t used = 0, avail = 0;
	ck_error_destroy(ck_core_store_usage(j->dirfd, &used));
	if (used > policy->max_use / 2)
		evict_for_room(j->cat, j->dirfd, policy->max_use);
	ck_error_destroy(ck_core_store_usage(j->dirfd, &used));
	ck_error_destroy(ck_core_store_free(j->dirfd, &avail));
	uint64_t budget = avail > policy->keep_free ? avail - policy->keep_free : 0;
	return CK_MIN(budget, policy->max_use > used ? policy->max_use - used : 0);
}

/* The core from in_fd into the store (and the mini core), then in_fd goes. */
static struct ck_error *job_ingest(struct job *j)
{
	const struct ck_core_policy *policy = j->policy;
	struct ck_core_record *rec = &j->rec;
	uint64_t budget = job_budget(j);
	j->mini = openat(j->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (budget == 0) {
		release_input(j->args, j->in_fd);
		set_state(rec, "metadata-only",
			  "no room: store at max_use or filesystem at keep_free");
		return set_str(&rec->core_file, "") ? NULL : &ck_error_nomem;
	}
	struct ck_core_ingest ing;
	struct ck_error *err = ck_core_store_ingest(j->dirfd, rec->core_file, j->in_fd,
						    policy->compress_level,
						    policy->compress_workers, budget, 0640, j->mini,
						    &ing);
	release_input(j->args, j->in_fd);
	if (err)
		return err;
	j->have_core = true;
	rec->core_size = ing.raw_bytes;
	rec->stored_size = ing.stored_bytes;
	rec->truncated = ing.truncated;
	if (ing.truncated)
		set_state(rec, "truncated", ing.reason);
	return NULL;
}

/* The mini core, or where O_TMPFILE failed, a sparse copy of the stored
 * core (a cut core still has its notes); -1 when neither. */
static int job_backtrace_fd(struct job *j)
{
	int fd = j->mini;
	j->mini = -1;
	if (fd >= 0)
		return fd;
	fd = openat(j->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		ck_error_destroy(ck_core_store_extract(j->dirfd, j->rec.core_file, fd, true));
	return fd;
}

static struct ck_error *job_backtrace(struct job *j)
{
	struct ck_core_record *rec = &j->rec;
	int fd = job_backtrace_fd(j);
	if (fd < 0)
		return NULL;
	struct ck_core_backtrace bt = { 0 };
	struct ck_error *err = ck_core_backtrace_fd(fd, rec->exe[0] ? rec->exe : rec->comm,
						    rec->signal, j->policy->max_threads,
						    j->policy->max_frames, &bt);
	close(fd);
	free(rec->backtrace);
	if (err) {
		rec->backtrace = ck_strdup_printf("(no backtrace: %s)\n", ck_error_message(err));
		ck_error_destroy(err);
	} else {
		free(rec->modules);
		free(rec->signature);
		rec->backtrace = bt.text;
		rec->modules = bt.modules;
		rec->signature = bt.signature;
		/* Socket mode has no %s: the core's NT_PRSTATUS says. */
		if (rec->signal <= 0)
			rec->signal = bt.signal;
		if (j->args->signal <= 0 && bt.tid > 0)
			rec->tid = bt.tid;
		bt.text = bt.modules = bt.signature = NULL;
		ck_core_backtrace_deinit(&bt);
	}
	return rec->backtrace ? NULL : &ck_error_nomem;
}

/* Limits that are known only now; why[0] stays '\0' when none applies. */
static void job_over_limit(struct job *j, char *why, size_t size)
{
	const struct ck_core_policy *policy = j->policy;
	const struct ck_core_args *args = j->args;
	const struct ck_core_record *rec = &j->rec;
	unsigned int seen = 0;
	why[0] = '\0';
	if (!j->have_core)
		return;
	if (rec->core_size > policy->max_core_size)
		snprintf(why, size, "core of %llu bytes exceeds max_core_size=%llu",
			 (unsigned long long)rec->core_size,
			 (unsigned long long)policy->max_core_size);
	else if (policy->honor_rlimit_core && args->have_rlimit && args->rlimit_core == 0)
		snprintf(why, size, "RLIMIT_CORE is 0 and honor_rlimit_core=yes");
	else if (rec->signature[0] &&
		 !ck_catalog_count_signature(j->cat, rec->signature,
					     rec->time_usec -
						     (int64_t)policy->rate_limit_interval * 1000000,
					     &seen) &&
		 seen >= policy->rate_limit_burst)
		snprintf(why, size, "rate limit: signature %s kept %u times in %u s",
			 rec->signature, seen, policy->rate_limit_interval);
}

/* Over a limit the core file goes, the record stays. */
static struct ck_error *job_limits(struct job *j)
{
	struct ck_core_record *rec = &j->rec;
	char why[200];
	job_over_limit(j, why, sizeof(why));
	if (why[0]) {
		unlinkat(j->dirfd, rec->core_file, 0);
		if (!set_str(&rec->core_file, ""))
			return &ck_error_nomem;
		rec->stored_size = 0;
		set_state(rec, "metadata-only", why);
		j->have_core = false;
	}
	return rec->state ? NULL : &ck_error_nomem;
}

/* The crashed process's owner may read its core (ACL); when the filesystem
 * refuses, root still reads it and the metadata says why. */
static void job_grant(struct job *j)
{
	struct ck_core_record *rec = &j->rec;
	_cleanup_close_ int fd = openat(j->dirfd, rec->core_file,
					O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	struct ck_error *err = ck_core_store_grant(fd, (unsigned int)rec->uid);
	if (!err)
		return;
	char *meta = ck_core_meta_json_add(rec->meta_json, "acl_error", ck_error_message(err));
	if (meta) {
		free(rec->meta_json);
		rec->meta_json = meta;
	}
	ck_error_destroy(err);
}

/* keep_per_exe: the newest N cores of the exe keep their files. */
static void job_keep_per_exe(struct job *j)
{
	const struct ck_core_policy *policy = j->policy;
	struct ck_core_record *old = NULL;
	size_t nr = 0;
	if (!j->rec.exe[0] ||
	    ck_catalog_excess_for_exe(j->cat, j->rec.exe, policy->keep_per_exe, &old, &nr))
		return;
	char reason[64];
	snprintf(reason, sizeof(reason), "keep_per_exe=%u: newer cores of this exe",
		 policy->keep_per_exe);
	for (size_t i = 0; i < nr; i++)
		ck_error_destroy(ck_catalog_drop_core(j->cat, old[i].id, reason));
	ck_core_records_destroy(old, nr);
}

/* The catalog row, the metadata file, the owner's copy. */
static struct ck_error *job_commit(struct job *j)
{
	/* suid_dumpable=2 ("root only"): the owner gets nothing. */
	bool owner_may_read = j->args->dumpable != 2;
	if (j->have_core && owner_may_read)
		job_grant(j);
	struct ck_error *err = ck_catalog_insert(j->cat, &j->rec);
	if (!err)
		err = ck_core_record_write_json(j->dirfd, &j->rec);
	if (err)
		return err;
	/* The owner's view; without it root still has everything. */
	if (owner_may_read)
		ck_error_destroy(ck_core_share_record(j->dirfd, &j->rec));
	job_keep_per_exe(j);
	return NULL;
}

struct ck_error *ck_core_process(const struct ck_core_policy *policy,
				 const struct ck_core_args *args, int in_fd,
				 struct ck_core_record *ret)
{
	struct job j = { .policy = policy, .args = args, .in_fd = in_fd, .dirfd = -1,
			 .mini = -1 };
	const char *store = ck_core_policy_store(policy);
	struct ck_error *err = ck_catalog_open(store, true, &j.cat);
	if (err)
		return err;
	err = ck_core_store_open(store, false, &j.dirfd);
	if (!err)
		err = job_record(&j);
	if (!err)
		err = job_ingest(&j);
	if (!err && j.have_core)
		err = job_backtrace(&j);
	if (!err)
		err = job_limits(&j);
	if (!err)
		err = job_commit(&j);
	if (!err) {
		*ret = j.rec;
		memset(&j.rec, 0, sizeof(j.rec));
	}
	release_input(args, in_fd);
	if (j.mini >= 0)
		close(j.mini);
	ck_core_record_deinit(&j.rec);
	if (j.dirfd >= 0)
		close(j.dirfd);
	ck_catalog_destroy(j.cat);
	return err;
}
