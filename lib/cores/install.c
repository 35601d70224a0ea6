/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core_pattern management.  core_pattern is machine-wide: install remembers
 * what it replaces (STORE/saved-core-pattern) and uninstall puts it back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "cores/cores.h"

#define CORE_PATTERN "/proc/sys/kernel/core_pattern"
#define CORE_PIPE_LIMIT "/proc/sys/kernel/core_pipe_limit"
#define SAVED "saved-core-pattern"
/* CORENAME_MAX_SIZE in fs/coredump.c: longer patterns are cut. */
#define PATTERN_MAX 127
/* core_pipe_limit that install sets at least. */
#define PIPE_LIMIT 128

static struct ck_error *sysctl_write(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return ck_error_create_errno(errno, "'%s'", path);
	size_t len = strlen(value);
	ssize_t w = write(fd, value, len);
	int e = errno;
	close(fd);
	if (w != (ssize_t)len)
		return ck_error_create_errno(w < 0 ? e : EIO, "writing '%s'", path);
	return NULL;
}

struct ck_error *ck_core_sysctl_read(const char *path, char **ret)
{
	char *text;
	struct ck_error *err = ck_core_read_small(AT_FDCWD, path, 4096, &text, NULL);
	if (err)
		return err;
	text[strcspn(text, "\n")] = '\0';
	*ret = text;
	return NULL;
}

/* "|.../crashkit-cores handle ...", or "|.../crashkit cores handle ..." as
 * installed before crashkit-cores existed (it still works). */
static bool is_our_pipe(const char *pattern)
{
	return pattern[0] == '|' &&
	       (strstr(pattern, "/crashkit-cores handle ") || strstr(pattern, " cores handle "));
}

static bool is_our_socket(const char *pattern, const struct ck_core_policy *policy)
{
	return pattern[0] == '@' && !strcmp(pattern + 1, ck_core_policy_socket(policy));
}

bool ck_core_pattern_is_ours(const char *pattern, const struct ck_core_policy *policy)
{
	return is_our_pipe(pattern) || is_our_socket(pattern, policy);
}

const char *ck_core_pattern_owner(const char *pattern, const struct ck_core_policy *policy)
{
	if (!pattern)
		return "unknown (core_pattern unreadable)";
	if (is_our_pipe(pattern))
		return "crashkit";
	if (strstr(pattern, "systemd-coredump"))
		return "systemd-coredump";
	if (strstr(pattern, "apport"))
		return "apport";
	if (strstr(pattern, "abrt"))
		return "abrt";
	if (pattern[0] == '|')
		return "another pipe handler";
	if (is_our_socket(pattern, policy))
		return "crashkit (socket mode)";
	if (pattern[0] == '@')
		return "a socket receiver";
	return "a file pattern: the kernel writes cores itself";
}

/* Remembers the pattern and limit being replaced (unless they are ours),
 * raises core_pipe_limit, sets pattern. */
static struct ck_error *install_pattern(const struct ck_core_policy *policy,
					const char *pattern)
{
	int dirfd;
	struct ck_error *err = ck_core_store_open(ck_core_policy_store(policy), true, &dirfd);
	if (err)
		return err;
	_cleanup_free_ char *cur = NULL, *limit = NULL;
	err = ck_core_sysctl_read(CORE_PATTERN, &cur);
	if (!err)
		err = ck_core_sysctl_read(CORE_PIPE_LIMIT, &limit);
	if (err)
		goto out;
	/* Re-installing must not overwrite the memory of the real previous value. */
	if (!ck_core_pattern_is_ours(cur, policy)) {
		_cleanup_free_ char *saved = ck_strdup_printf("%s\n%s\n", cur, limit);
		if (!saved) {
			err = &ck_error_nomem;
			goto out;
		}
		err = ck_core_write_atomic(dirfd, SAVED, saved, strlen(saved), 0600);
		if (err)
			goto out;
	}
	/* With a non-zero limit the kernel keeps /proc/<pid> until we are done
	 * (pipe: handler closes stdin; socket: receiver closes the connection).
	 * For pipes it is also how many crashes may dump at once: beyond it
	 * the kernel skips the core, so leave room for bursts. */
	if (strtoul(limit, NULL, 10) < PIPE_LIMIT) {
		char want[16];
		snprintf(want, sizeof(want), "%d", PIPE_LIMIT);
		err = sysctl_write(CORE_PIPE_LIMIT, want);
		if (err)
			goto out;
	}
	err = sysctl_write(CORE_PATTERN, pattern);
	if (err)
		/* Leave things as they were. */
		ck_error_destroy(sysctl_write(CORE_PIPE_LIMIT, limit));
out:
	close(dirfd);
	return err;
}

struct ck_error *ck_core_install_socket(const struct ck_core_policy *policy,
					char **pattern_ret)
{
	const char *sock = ck_core_policy_socket(policy);
	if (!ck_core_socket_mode_supported())
		return ck_error_create(CK_ERR_INVALID, "this kernel has no socket mode "
				       "(/proc/sys/kernel/core_modes lacks 'socket'; Linux >= 6.16)");
	if (!ck_core_socket_listening(sock))
		return ck_error_create(CK_ERR_NOT_FOUND, "no receiver listens on '%s' "
				       "(crashkit cores serve, or crashkit-cores.socket)", sock);
	_cleanup_free_ char *pattern = ck_strdup_printf("@%s", sock);
	if (!pattern)
		return &ck_error_nomem;
	if (strlen(pattern) > PATTERN_MAX)
		return ck_error_create(CK_ERR_INVALID, "core_pattern '%s' is longer than %d bytes",
				       pattern, PATTERN_MAX);
	struct ck_error *err = install_pattern(policy, pattern);
	if (err)
		return err;
	*pattern_ret = pattern;
	pattern = NULL;
	return NULL;
}

struct ck_error *ck_core_install(const struct ck_core_policy *policy, const char *self,
				 const char *config, char **pattern_ret)
{
	if (!self || self[0] != '/' || strchr(self, ' '))
		return ck_error_create(CK_ERR_INVALID,
				       "handler path '%s' must be absolute and without spaces",
				       self ? self : "");
	if (config && (config[0] != '/' || strchr(config, ' ')))
		return ck_error_create(CK_ERR_INVALID,
				       "config path '%s' must be absolute and without spaces", config);
	/* Optional specifiers go first when the pattern would be too long. */
	static const char *const required = " P=%P u=%u g=%g s=%s t=%t c=%c F=%F";
	static const char *const optional[] = { " d=%d", " e=%e", " h=%h", " I=%I" };
	char pattern[512];
	size_t nopt = CK_ARRAY_SIZE(optional);
	for (;;) {
		int n = snprintf(pattern, sizeof(pattern), "|%s handle%s%s%s", self,
				 config ? " --config=" : "", config ? config : "", required);
		for (size_t i = 0; i < nopt && n > 0 && (size_t)n < sizeof(pattern); i++)
			n += snprintf(pattern + n, sizeof(pattern) - (size_t)n, "%s", optional[i]);
		if (n > 0 && n <= PATTERN_MAX)
			break;
		if (nopt == 0)
			return ck_error_create(CK_ERR_INVALID,
					       "core_pattern would be %d bytes, the kernel takes %d: "
					       "use shorter paths", n, PATTERN_MAX);
		nopt--;
	}

	struct ck_error *err = install_pattern(policy, pattern);
	if (err)
		return err;
	*pattern_ret = strdup(pattern);
	return *pattern_ret ? NULL : &ck_error_nomem;
}

struct ck_error *ck_core_uninstall(const struct ck_core_policy *policy, char **restored_ret)
{
	const char *store = ck_core_policy_store(policy);
	int dirfd;
	struct ck_error *err = ck_core_store_open(store, false, &dirfd);
	if (err)
		return ck_error_prepend(err, "nothing to restore");
	_cleanup_free_ char *saved = NULL;
	err = ck_core_read_small(dirfd, SAVED, 4096, &saved, NULL);
	if (err) {
		close(dirfd);
		return ck_error_prepend(err, "nothing to restore in '%s'", store);
	}
	char *nl = strchr(saved, '\n');
	const char *limit = "0";
	if (nl) {
		*nl = '\0';
		limit = nl + 1;
		((char *)limit)[strcspn(limit, "\n")] = '\0';
		if (!*limit)
			limit = "0";
	}
	/* An empty saved pattern would be written as "\n"; the kernel's own
	 * default is "core". */
	const char *pattern = saved[0] ? saved : "core";
	err = sysctl_write(CORE_PATTERN, pattern);
	if (!err)
		err = sysctl_write(CORE_PIPE_LIMIT, limit);
	if (!err) {
		unlinkat(dirfd, SAVED, 0);
		*restored_ret = strdup(pattern);
		if (!*restored_ret)
			err = &ck_error_nomem;
	}
	close(dirfd);
	return err;
}
