/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The core_pattern pipe handler's walk: arguments -> policy -> /proc ->
 * compressed store -> backtrace and signature -> limits -> metadata file and
 * catalog row.  Over a limit the core file goes, the record stays.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
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

struct ck_error *ck_core_process(const struct ck_core_policy *policy,
				 const struct ck_core_args *argsp, int in_fd,
				 struct ck_core_record *ret)
{
	struct ck_core_args args = *argsp;
	struct ck_error *err;
	const char *store = policy->store ? policy->store : CK_CORE_STORE_DEFAULT;
	struct ck_catalog *cat = NULL;
	struct ck_core_record rec = { 0 };
	int dirfd = -1;
	err = ck_catalog_open(store, true, &cat);
	if (err)
		return err;
	err = ck_core_store_open(store, false, &dirfd);
	if (err)
		goto out;

	rec.pid = args.pid;
	rec.tid = args.tid;
	rec.uid = args.uid;
	rec.gid = args.gid;
	rec.signal = args.signal;
	/* The kernel's %t when given; the name uses our clock's microseconds,
	 * so that two crashes in one second never share a name. */
	int64_t now = now_usec();
	rec.time_usec = args.time_sec >= 0 ? args.time_sec * 1000000 : now;
	err = ck_core_meta_collect(&args, &rec);
	if (err)
		goto out;
	/* Digits and hex only: nothing the crashed program chose. */
	rec.name = ck_strdup_printf("core.%lld.%d.%.8s", (long long)now, args.pid,
				    rec.boot_id[0] ? rec.boot_id : "00000000");
	rec.core_file = rec.name ? ck_strdup_printf("%s.zst", rec.name) : NULL;
	rec.state = strdup("stored");
	rec.reason = strdup("");
	rec.signature = strdup("");
	rec.backtrace = strdup("");
	rec.modules = strdup("");
	if (!rec.name || !rec.core_file || !rec.state || !rec.reason || !rec.signature ||
	    !rec.backtrace || !rec.modules) {
		err = &ck_error_nomem;
		goto out;
	}

	/* Room: never beyond max_use, never below keep_free. */
	uint64_t used = 0, avail = 0;
	ck_error_destroy(ck_core_store_usage(dirfd, &used));
	if (used > policy->max_use / 2)
		evict_for_room(cat, dirfd, policy->max_use);
	ck_error_destroy(ck_core_store_usage(dirfd, &used));
	ck_error_destroy(ck_core_store_free(dirfd, &avail));
	uint64_t budget = avail > policy->keep_free ? avail - policy->keep_free : 0;
	budget = CK_MIN(budget, policy->max_use > used ? policy->max_use - used : 0);

	bool have_core = false;
	/* The mini core for libdwfl, written while streaming: unlinked, sparse. */
	int mini = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (budget == 0) {
		release_input(&args, in_fd);
		set_state(&rec, "metadata-only",
			  "no room: store at max_use or filesystem at keep_free");
		free(rec.core_file);
		rec.core_file = strdup("");
	} else {
		struct ck_core_ingest ing;
		err = ck_core_store_ingest(dirfd, rec.core_file, in_fd, policy->compress_level,
					   policy->compress_workers, budget, 0640, mini, &ing);
		release_input(&args, in_fd);
		if (err) {
			if (mini >= 0)
				close(mini);
			goto out;
		}
		have_core = true;
		rec.core_size = ing.raw_bytes;
		rec.stored_size = ing.stored_bytes;
		rec.truncated = ing.truncated;
		if (ing.truncated)
			set_state(&rec, "truncated", ing.reason);
	}

	if (have_core) {
		int tmp = mini;
		mini = -1;
		if (tmp < 0) {
			/* No O_TMPFILE here: a sparse copy from the stored core. */
			tmp = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
			if (tmp >= 0)
				/* a cut core still has its notes */
				ck_error_destroy(ck_core_store_extract(dirfd, rec.core_file, tmp,
								       true));
		}
		if (tmp >= 0) {
			struct ck_core_backtrace bt = { 0 };
			struct ck_error *berr = ck_core_backtrace_fd(
				tmp, rec.exe[0] ? rec.exe : rec.comm, rec.signal,
				policy->max_threads, policy->max_frames, &bt);
			close(tmp);
			if (berr) {
				free(rec.backtrace);
				rec.backtrace = ck_strdup_printf("(no backtrace: %s)\n",
								 ck_error_message(berr));
				ck_error_destroy(berr);
			} else {
				free(rec.backtrace);
				free(rec.modules);
				free(rec.signature);
				rec.backtrace = bt.text;
				rec.modules = bt.modules;
				rec.signature = bt.signature;
				/* Socket mode has no %s: the core's NT_PRSTATUS says. */
				if (rec.signal <= 0)
					rec.signal = bt.signal;
				if (args.signal <= 0 && bt.tid > 0)
					rec.tid = bt.tid;
				bt.text = bt.modules = bt.signature = NULL;
				ck_core_backtrace_deinit(&bt);
			}
			if (!rec.backtrace) {
				err = &ck_error_nomem;
				goto out;
			}
		}
	}

	if (mini >= 0)
		close(mini);

	/* Limits that are known only now: the core file goes, the record stays. */
	char why[200] = "";
	unsigned int seen = 0;
	if (have_core && rec.core_size > policy->max_core_size)
		snprintf(why, sizeof(why), "core of %llu bytes exceeds max_core_size=%llu",
			 (unsigned long long)rec.core_size,
			 (unsigned long long)policy->max_core_size);
	else if (have_core && policy->honor_rlimit_core && args.have_rlimit &&
		 args.rlimit_core == 0)
		snprintf(why, sizeof(why), "RLIMIT_CORE is 0 and honor_rlimit_core=yes");
	else if (have_core && rec.signature[0] &&
		 !ck_catalog_count_signature(cat, rec.signature,
					     rec.time_usec -
						     (int64_t)policy->rate_limit_interval * 1000000,
					     &seen) &&
		 seen >= policy->rate_limit_burst)
		snprintf(why, sizeof(why), "rate limit: signature %s kept %u times in %u s",
			 rec.signature, seen, policy->rate_limit_interval);
	if (why[0]) {
		unlinkat(dirfd, rec.core_file, 0);
		free(rec.core_file);
		rec.core_file = strdup("");
		rec.stored_size = 0;
		set_state(&rec, "metadata-only", why);
		have_core = false;
	}
	if (!rec.core_file || !rec.state) {
		err = &ck_error_nomem;
		goto out;
	}
	/* suid_dumpable=2 ("root only"): the owner gets nothing. */
	bool owner_may_read = args.dumpable != 2;
	if (have_core && owner_may_read) {
		int fd = openat(dirfd, rec.core_file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			struct ck_error *gerr = ck_core_store_grant(fd, (unsigned int)rec.uid);
			if (gerr) {
				/* Not fatal: root still reads it; say so in the metadata. */
				struct json_object *o = json_tokener_parse(rec.meta_json);
				if (o) {
					json_object_object_add(o, "acl_error",
							       json_object_new_string(ck_error_message(gerr)));
					const char *js = json_object_to_json_string_ext(
						o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
					char *copy = js ? strdup(js) : NULL;
					if (copy) {
						free(rec.meta_json);
						rec.meta_json = copy;
					}
					json_object_put(o);
				}
				ck_error_destroy(gerr);
			}
			close(fd);
		}
	}

	err = ck_catalog_insert(cat, &rec);
	if (err)
		goto out;
	err = ck_core_record_write_json(dirfd, &rec);
	if (err)
		goto out;
	/* The owner's view; without it root still has everything. */
	if (owner_may_read)
		ck_error_destroy(ck_core_share_record(dirfd, &rec));

	/* keep_per_exe: the newest N keep their cores. */
	if (rec.exe[0]) {
		struct ck_core_record *old = NULL;
		size_t nr = 0;
		if (!ck_catalog_excess_for_exe(cat, rec.exe, policy->keep_per_exe, &old, &nr)) {
			char reason[64];
			snprintf(reason, sizeof(reason), "keep_per_exe=%u: newer cores of this exe",
				 policy->keep_per_exe);
			for (size_t i = 0; i < nr; i++)
				ck_error_destroy(ck_catalog_drop_core(cat, old[i].id, reason));
			ck_core_records_destroy(old, nr);
		}
	}
	*ret = rec;
	memset(&rec, 0, sizeof(rec));
out:
	release_input(&args, in_fd);
	ck_core_record_deinit(&rec);
	if (dirfd >= 0)
		close(dirfd);
	ck_catalog_destroy(cat);
	return err;
}
