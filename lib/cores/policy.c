/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Policy for userspace cores: one small key=value file, laptop-safe defaults. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "cores/cores.h"

void ck_core_policy_init(struct ck_core_policy *policy)
{
	*policy = (struct ck_core_policy){
		.store = NULL,
		.max_core_size = 2ULL << 30,
		.max_use = 4ULL << 30,
		.keep_free = 1ULL << 30,
		.keep_per_exe = 5,
		.rate_limit_burst = 5,
		.rate_limit_interval = 3600,
		.honor_rlimit_core = false,
		.compress_level = 1,
		.compress_workers = 2,
		.max_threads = 64,
		.max_frames = 64,
	};
}

void ck_core_policy_deinit(struct ck_core_policy *policy)
{
	if (!policy)
		return;
	free(policy->store);
	free(policy->socket);
	policy->store = NULL;
	policy->socket = NULL;
}

const char *ck_core_policy_store(const struct ck_core_policy *policy)
{
	return policy->store ? policy->store : CK_CORE_STORE_DEFAULT;
}

const char *ck_core_policy_socket(const struct ck_core_policy *policy)
{
	return policy->socket ? policy->socket : CK_CORE_SOCKET_DEFAULT;
}

static bool parse_uint(const char *s, unsigned int max, unsigned int *ret)
{
	uint64_t v;
	if (!ck_core_parse_size(s, &v) || v > max)
		return false;
	*ret = (unsigned int)v;
	return true;
}

static bool parse_bool(const char *s, bool *ret)
{
	if (!strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "1"))
		*ret = true;
	else if (!strcmp(s, "no") || !strcmp(s, "false") || !strcmp(s, "0"))
		*ret = false;
	else
		return false;
	return true;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static struct ck_error *set_key(struct ck_core_policy *p, const char *key, const char *val)
{
	unsigned int u;
	bool ok = true;
	if (!strcmp(key, "store")) {
		if (val[0] != '/')
			return ck_error_create(CK_ERR_INVALID, "store must be an absolute path");
		char *s = strdup(val);
		if (!s)
			return &ck_error_nomem;
		free(p->store);
		p->store = s;
	} else if (!strcmp(key, "socket")) {
		/* The kernel refuses relative paths, spaces, ".." and more than
		 * UNIX_PATH_MAX - 1 bytes (fs/coredump.c, check_coredump_socket). */
		if (val[0] != '/' || strchr(val, ' ') || strstr(val, "..") || strlen(val) >= 108)
			return ck_error_create(CK_ERR_INVALID,
					       "socket must be an absolute path under 108 bytes, "
					       "without spaces or '..'");
		char *s = strdup(val);
		if (!s)
			return &ck_error_nomem;
		free(p->socket);
		p->socket = s;
	} else if (!strcmp(key, "max_core_size")) {
		ok = ck_core_parse_size(val, &p->max_core_size);
	} else if (!strcmp(key, "max_use")) {
		ok = ck_core_parse_size(val, &p->max_use);
	} else if (!strcmp(key, "keep_free")) {
		ok = ck_core_parse_size(val, &p->keep_free);
	} else if (!strcmp(key, "keep_per_exe")) {
		ok = parse_uint(val, 100000, &p->keep_per_exe);
	} else if (!strcmp(key, "rate_limit_burst")) {
		ok = parse_uint(val, 100000, &p->rate_limit_burst);
	} else if (!strcmp(key, "rate_limit_interval")) {
		ok = parse_uint(val, 100000000, &p->rate_limit_interval);
	} else if (!strcmp(key, "honor_rlimit_core")) {
		ok = parse_bool(val, &p->honor_rlimit_core);
	} else if (!strcmp(key, "compress_level")) {
		ok = parse_uint(val, 19, &u);
		if (ok)
			p->compress_level = (int)u;
	} else if (!strcmp(key, "compress_workers")) {
		ok = parse_uint(val, 64, &u);
		if (ok)
			p->compress_workers = (int)u;
	} else if (!strcmp(key, "max_threads")) {
		ok = parse_uint(val, 100000, &p->max_threads);
	} else if (!strcmp(key, "max_frames")) {
		ok = parse_uint(val, 100000, &p->max_frames);
	} else {
		return ck_error_create(CK_ERR_INVALID, "unknown key '%s'", key);
	}
	if (!ok)
		return ck_error_create(CK_ERR_INVALID, "bad value '%s' for '%s'", val, key);
	return NULL;
}

struct ck_error *ck_core_policy_load(struct ck_core_policy *policy, const char *path,
				     bool missing_ok)
{
	_cleanup_free_ char *text = NULL;
	struct ck_error *err = ck_core_read_small(AT_FDCWD, path, 1 << 20, &text, NULL);
	if (err) {
		if (missing_ok && ck_error_errno(err) == ENOENT) {
			ck_error_destroy(err);
			return NULL;
		}
		return err;
	}
	unsigned int lineno = 0;
	for (char *line = text, *next; line && *line; line = next) {
		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *l = trim(line);
		if (!*l)
			continue;
		char *eq = strchr(l, '=');
		if (!eq)
			return ck_error_create(CK_ERR_FORMAT, "'%s' line %u: expected key=value",
					       path, lineno);
		*eq = '\0';
		err = set_key(policy, trim(l), trim(eq + 1));
		if (err)
			return ck_error_prepend(err, "'%s' line %u", path, lineno);
	}
	return NULL;
}
