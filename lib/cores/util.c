/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small helpers shared by the userspace-core files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cores/cores.h"

struct ck_error *ck_core_read_small(int dirfd, const char *path, size_t max, char **ret,
				    size_t *len_ret)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return ck_error_create_errno(errno, "'%s'", path);
	return ck_read_text(fd, max, ret, len_ret, path);
}

struct ck_error *ck_core_write_atomic(int dirfd, const char *name, const void *data,
				      size_t len, mode_t mode)
{
	_cleanup_free_ char *tmp = ck_strdup_printf("%s.tmp", name);
	if (!tmp)
		return &ck_error_nomem;
	(void)unlinkat(dirfd, tmp, 0);
	_cleanup_close_ int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
					O_CLOEXEC, mode);
	if (fd < 0)
		return ck_error_create_errno(errno, "creating '%s'", tmp);
	struct ck_error *err = ck_write_all(fd, data, len, tmp);
	if (err) {
		unlinkat(dirfd, tmp, 0);
		return err;
	}
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0 || renameat(dirfd, tmp, dirfd, name) < 0) {
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		return ck_error_create_errno(e, "saving '%s'", name);
	}
	return NULL;
}

bool ck_core_parse_size(const char *s, uint64_t *ret)
{
	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	unsigned int shift = 0;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	default: return false;
	}
	if (*end && end[1] && strcmp(end + 1, "B") && strcmp(end + 1, "iB"))
		return false;
	if (shift && v > (UINT64_MAX >> shift))
		return false;
	*ret = (uint64_t)v << shift;
	return true;
}

char *ck_core_strdup0(const char *s)
{
	return strdup(s ? s : "");
}

void ck_core_record_deinit(struct ck_core_record *rec)
{
	if (!rec)
		return;
	free(rec->name);
	free(rec->core_file);
	free(rec->comm);
	free(rec->exe);
	free(rec->cmdline);
	free(rec->hostname);
	free(rec->boot_id);
	free(rec->signature);
	free(rec->state);
	free(rec->reason);
	free(rec->backtrace);
	free(rec->modules);
	free(rec->meta_json);
	memset(rec, 0, sizeof(*rec));
}

void ck_core_records_destroy(struct ck_core_record *recs, size_t nr)
{
	if (!recs)
		return;
	for (size_t i = 0; i < nr; i++)
		ck_core_record_deinit(&recs[i]);
	free(recs);
}

/* Whether s is non-empty and every character satisfies pred (isdigit,
 * isxdigit): how a bare argument is told to be a PID or a signature. */
bool ck_core_all_of(const char *s, int (*pred)(int))
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!pred((unsigned char)*s))
			return false;
	return true;
}
