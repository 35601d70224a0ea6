/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * /etc/crashkit/kdump.conf (docs/man/crashkit-kdump.conf.5): "key value"
 * lines read by `crashkit kdump save` in the capture kernel and by
 * lib/kdump (load, the initramfs builder: what to mount, which modules).
 * Every bad line is one error naming FILE:LINE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "capture/capture.h"

static char *dup_or_null(const char *s)
{
	return ck_strdup_printf("%s", s);
}

/* Replaces *slot with a copy of value; false on ENOMEM. */
static bool set_str(char **slot, const char *value)
{
	char *n = dup_or_null(value);
	if (!n)
		return false;
	free(*slot);
	*slot = n;
	return true;
}

void ck_kdump_conf_init(struct ck_kdump_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->target_kind = CK_KDUMP_TARGET_LOCAL;
	conf->codec = CK_CODEC_ZSTD;
	conf->dump_level = 31;
	conf->final_action = CK_KDUMP_ACTION_REBOOT;
	conf->failure_action = CK_KDUMP_ACTION_REBOOT;
	conf->archive = CK_KDUMP_ARCHIVE_NONE;
	conf->http_port = 80;
	/* On ENOMEM the strings stay NULL; deinit copes, load fails. */
	conf->target = dup_or_null(CK_KDUMP_TARGET_DEFAULT);
	conf->path = dup_or_null(CK_KDUMP_TARGET_DEFAULT);
	conf->device = dup_or_null("");
	conf->fstype = dup_or_null("");
	conf->mount_point = dup_or_null(CK_KDUMP_MOUNT_DEFAULT);
	conf->ssh_dest = dup_or_null("");
	conf->ssh_key = dup_or_null("");
	conf->ssh_known_hosts = dup_or_null("");
	conf->http_host = dup_or_null("");
	conf->os_release = dup_or_null(CK_KDUMP_OS_RELEASE_DEFAULT);
}

void ck_kdump_conf_deinit(struct ck_kdump_conf *conf)
{
	char **strs[] = { &conf->target, &conf->path, &conf->device, &conf->fstype,
			  &conf->mount_point, &conf->ssh_dest, &conf->ssh_key,
			  &conf->ssh_known_hosts, &conf->http_host, &conf->os_release };
	for (size_t i = 0; i < CK_ARRAY_SIZE(strs); i++)
		free(*strs[i]);
	for (size_t i = 0; i < conf->nr_pre_hooks; i++)
		free(conf->pre_hooks[i]);
	for (size_t i = 0; i < conf->nr_post_hooks; i++)
		free(conf->post_hooks[i]);
	memset(conf, 0, sizeof(*conf));
}

static const char *const action_names[] = {
	[CK_KDUMP_ACTION_REBOOT] = "reboot",
	[CK_KDUMP_ACTION_HALT] = "halt",
	[CK_KDUMP_ACTION_POWEROFF] = "poweroff",
	[CK_KDUMP_ACTION_SHELL] = "shell",
	[CK_KDUMP_ACTION_DMESG_ONLY] = "dmesg-only",
};

const char *ck_kdump_action_name(enum ck_kdump_action a)
{
	return (size_t)a < CK_ARRAY_SIZE(action_names) ? action_names[a] : "?";
}

bool ck_kdump_action_parse(const char *s, enum ck_kdump_action *ret)
{
	for (size_t i = 0; i < CK_ARRAY_SIZE(action_names); i++) {
		if (!strcmp(s, action_names[i])) {
			*ret = (enum ck_kdump_action)i;
			return true;
		}
	}
	return false;
}

static struct ck_error *bad(const char *where, const char *key, const char *value,
			    const char *why)
{
	return ck_error_create(CK_ERR_INVALID, "%s: %s '%s': %s", where, key, value, why);
}

/* A decimal number in [lo, hi]. */
static bool parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *ret)
{
	if (*s < '0' || *s > '9' || strlen(s) > 10)
		return false;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return false;
	*ret = v;
	return true;
}

static bool absolute_clean(const char *p)
{
	size_t n = strlen(p);
	if (p[0] != '/' || strpbrk(p, "\n\r\t"))
		return false;
	return !strstr(p, "/../") && !(n >= 3 && !strcmp(p + n - 3, "/.."));
}

/* "user@host:/path" */
static struct ck_error *target_ssh(struct ck_kdump_conf *c, const char *v, const char *where)
{
	const char *colon = strchr(v, ':');
	const char *at = strchr(v, '@');
	if (!colon || !at || at > colon || at == v || at + 1 == colon)
		return bad(where, "target", v, "want ssh USER@HOST:/PATH");
	if (!absolute_clean(colon + 1))
		return bad(where, "target", v, "the remote path must be absolute, without '..'");
	for (const char *p = v; p < colon; p++) {
		if (!(p[0] == '@' || p[0] == '.' || p[0] == '-' || p[0] == '_' ||
		      (p[0] >= '0' && p[0] <= '9') || (p[0] >= 'a' && p[0] <= 'z') ||
		      (p[0] >= 'A' && p[0] <= 'Z')) || (p[0] == '-' && (p == v || p[-1] == '@')))
			return bad(where, "target", v, "user and host: letters, digits, '.', '-', '_'");
	}
	char *dest = ck_strdup_printf("%.*s", (int)(colon - v), v);
	if (!dest || !set_str(&c->path, colon + 1)) {
		free(dest);
		return &ck_error_nomem;
	}
	free(c->ssh_dest);
	c->ssh_dest = dest;
	c->target_kind = CK_KDUMP_TARGET_SSH;
	return NULL;
}

/* "http://host[:port]/path" */
static struct ck_error *target_http(struct ck_kdump_conf *c, const char *v, const char *where)
{
	const char *host = v + strlen("http://");
	size_t hl = strcspn(host, ":/");
	if (hl == 0 || hl > 253)
		return bad(where, "target", v, "want http://HOST[:PORT]/PATH");
	for (size_t i = 0; i < hl; i++) {
		char ch = host[i];
		if (!(ch == '.' || ch == '-' || (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= 'A' && ch <= 'Z')))
			return bad(where, "target", v, "the host: letters, digits, '.', '-' "
				   "(IPv6 literals are not supported)");
	}
	const char *rest = host + hl;
	unsigned long port = 80;
	if (*rest == ':') {
		char num[8];
		size_t nl = strcspn(rest + 1, "/");
		if (nl == 0 || nl >= sizeof(num))
			return bad(where, "target", v, "bad port");
		memcpy(num, rest + 1, nl);
		num[nl] = '\0';
		if (!parse_uint(num, 1, 65535, &port))
			return bad(where, "target", v, "the port must be 1-65535");
		rest += 1 + nl;
	}
	if (*rest == '\0')
		rest = "/";
	if (*rest != '/' || strpbrk(rest, " \t\r\n?#%") || strstr(rest, "/../") ||
	    strstr(rest, "/.."))
		return bad(where, "target", v, "the path: '/' then no spaces, '?', '#', '%' or '..'");
	char *h = ck_strdup_printf("%.*s", (int)hl, host);
	if (!h || !set_str(&c->path, rest)) {
		free(h);
		return &ck_error_nomem;
	}
	free(c->http_host);
	c->http_host = h;
	c->http_port = (unsigned int)port;
	c->target_kind = CK_KDUMP_TARGET_HTTP;
	return NULL;
}

/* "UUID=x [PATH]" or "LABEL=x [PATH]" */
static struct ck_error *target_device(struct ck_kdump_conf *c, const char *v, const char *where)
{
	size_t dl = strcspn(v, " \t");
	const char *eq = strchr(v, '=');
	if (dl == (size_t)(eq - v) + 1)
		return bad(where, "target", v, "UUID= or LABEL= needs a value");
	const char *p = v + dl;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p)
		p = CK_KDUMP_TARGET_DEFAULT;
	if (!absolute_clean(p) || strpbrk(p, " "))
		return bad(where, "target", v, "the path on the device must be absolute, "
			   "without '..' or spaces");
	for (size_t i = 0; i < dl; i++) {
		if ((unsigned char)v[i] < 0x21 || v[i] == '\'' || v[i] == '"' || v[i] == '\\')
			return bad(where, "target", v, "quotes and control characters are not allowed");
	}
	char *d = ck_strdup_printf("%.*s", (int)dl, v);
	if (!d || !set_str(&c->path, p)) {
		free(d);
		return &ck_error_nomem;
	}
	free(c->device);
	c->device = d;
	c->target_kind = CK_KDUMP_TARGET_DEVICE;
	return NULL;
}

static struct ck_error *set_target(struct ck_kdump_conf *c, const char *v, const char *where)
{
	struct ck_error *err;
	if (!strncmp(v, "ssh ", 4) || !strncmp(v, "ssh\t", 4)) {
		const char *d = v + 4;
		while (*d == ' ' || *d == '\t')
			d++;
		err = target_ssh(c, d, where);
	} else if (!strncmp(v, "https://", 8)) {
		err = bad(where, "target", v, "HTTPS needs a TLS library, which the capture binary "
			  "does not carry: use http:// to a TLS-terminating proxy on a trusted "
			  "network, or the ssh target");
	} else if (!strncmp(v, "http://", 7)) {
		err = target_http(c, v, where);
	} else if (!strncmp(v, "UUID=", 5) || !strncmp(v, "LABEL=", 6)) {
		err = target_device(c, v, where);
	} else if (v[0] == '/') {
		if (!absolute_clean(v))
			return bad(where, "target", v, "the directory must be absolute, without '..'");
		if (!set_str(&c->path, v))
			return &ck_error_nomem;
		c->target_kind = CK_KDUMP_TARGET_LOCAL;
		err = NULL;
	} else {
		err = bad(where, "target", v, "want /DIR, UUID=X [/DIR], LABEL=X [/DIR], "
			  "ssh USER@HOST:/DIR or http://HOST[:PORT]/PATH");
	}
	if (!err && !set_str(&c->target, v))
		err = &ck_error_nomem;
	return err;
}

static bool parse_codec(const char *s, enum ck_codec *ret)
{
	static const struct { const char *name; enum ck_codec codec; } codecs[] = {
		{ "zstd", CK_CODEC_ZSTD }, { "zlib", CK_CODEC_ZLIB }, { "lzo", CK_CODEC_LZO },
		{ "snappy", CK_CODEC_SNAPPY }, { "none", CK_CODEC_NONE },
	};
	for (size_t i = 0; i < CK_ARRAY_SIZE(codecs); i++) {
		if (!strcmp(s, codecs[i].name)) {
			*ret = codecs[i].codec;
			return true;
		}
	}
	return false;
}

static struct ck_error *add_hook(char **hooks, size_t *nr, const char *key, const char *v,
				 const char *where)
{
	if (v[0] != '/')
		return bad(where, key, v, "a hook is an absolute path of a program");
	if (*nr >= CK_KDUMP_MAX_HOOKS)
		return bad(where, key, v, "at most 8 hooks of a kind");
	if (!(hooks[*nr] = dup_or_null(v)))
		return &ck_error_nomem;
	(*nr)++;
	return NULL;
}

/* Keys whose value is a path or a number. */
static struct ck_error *set_simple(struct ck_kdump_conf *c, const char *key, const char *v,
				   const char *where, bool *found)
{
	static const struct { const char *key; size_t off; } paths[] = {
		{ "mount", offsetof(struct ck_kdump_conf, mount_point) },
		{ "ssh_key", offsetof(struct ck_kdump_conf, ssh_key) },
		{ "ssh_known_hosts", offsetof(struct ck_kdump_conf, ssh_known_hosts) },
		{ "os_release", offsetof(struct ck_kdump_conf, os_release) },
	};
	*found = true;
	for (size_t i = 0; i < CK_ARRAY_SIZE(paths); i++) {
		if (strcmp(key, paths[i].key))
			continue;
		if (!absolute_clean(v))
			return bad(where, key, v, "want an absolute path without '..'");
		return set_str((char **)((char *)c + paths[i].off), v) ? NULL : &ck_error_nomem;
	}
	unsigned long n;
	if (!strcmp(key, "dump_level")) {
		if (!parse_uint(v, 0, 31, &n))
			return bad(where, key, v, "want 0-31");
		c->dump_level = (int)n;
	} else if (!strcmp(key, "keep")) {
		if (!parse_uint(v, 0, 100000, &n))
			return bad(where, key, v, "want a count, 0 = keep all");
		c->keep = (unsigned int)n;
	} else if (!strcmp(key, "ssh_port")) {
		if (!parse_uint(v, 1, 65535, &n))
			return bad(where, key, v, "want 1-65535");
		c->ssh_port = (unsigned int)n;
	} else if (!strcmp(key, "threads")) {
		if (!parse_uint(v, 0, 1024, &n))
			return bad(where, key, v, "want 0-1024 (0 = online CPUs)");
		c->threads = (unsigned int)n;
	} else {
		*found = false;
	}
	return NULL;
}

struct ck_error *ck_kdump_conf_set(struct ck_kdump_conf *c, const char *key, const char *v,
				   const char *where)
{
	bool found;
	struct ck_error *err = set_simple(c, key, v, where, &found);
	if (err || found)
		return err;
	if (!strcmp(key, "target"))
		return set_target(c, v, where);
	if (!strcmp(key, "format")) {
		if (strcmp(v, "kdump") && strcmp(v, "elf"))
			return bad(where, key, v, "want kdump or elf");
		c->elf = !strcmp(v, "elf");
	} else if (!strcmp(key, "codec")) {
		if (!parse_codec(v, &c->codec))
			return bad(where, key, v, "want zstd, zlib, lzo, snappy or none");
	} else if (!strcmp(key, "final_action") || !strcmp(key, "failure_action")) {
		if (!ck_kdump_action_parse(v, key[1] == 'i' ? &c->final_action : &c->failure_action))
			return bad(where, key, v, "want reboot, halt, poweroff, shell or dmesg-only");
	} else if (!strcmp(key, "pre_hook")) {
		return add_hook(c->pre_hooks, &c->nr_pre_hooks, key, v, where);
	} else if (!strcmp(key, "post_hook")) {
		return add_hook(c->post_hooks, &c->nr_post_hooks, key, v, where);
	} else if (!strcmp(key, "archive")) {
		if (!strcmp(v, "none"))
			c->archive = CK_KDUMP_ARCHIVE_NONE;
		else if (!strcmp(v, "tar.zst"))
			c->archive = CK_KDUMP_ARCHIVE_TAR_ZST;
		else if (!strcmp(v, "tar.gz"))
			c->archive = CK_KDUMP_ARCHIVE_TAR_GZ;
		else
			return bad(where, key, v, "want none, tar.zst or tar.gz");
	} else if (!strcmp(key, "fstype")) {
		if (strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_.") != strlen(v))
			return bad(where, key, v, "want a filesystem type (ext4, xfs, vfat, ...)");
		return set_str(&c->fstype, v) ? NULL : &ck_error_nomem;
	} else {
		return ck_error_create(CK_ERR_INVALID, "%s: unknown key '%s'", where, key);
	}
	return NULL;
}

/* One line, NUL-terminated and stripped of its newline. */
static struct ck_error *conf_line(struct ck_kdump_conf *c, char *line, const char *where)
{
	char *p = line;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t n = strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
		p[--n] = '\0';
	if (!*p || *p == '#')
		return NULL;
	char *key = p;
	size_t kl = strcspn(p, " \t=");
	char *v = p + kl;
	while (*v == ' ' || *v == '\t')
		v++;
	if (*v == '=') {
		v++;
		while (*v == ' ' || *v == '\t')
			v++;
	}
	key[kl] = '\0';
	if (kl == 0)
		return ck_error_create(CK_ERR_INVALID, "%s: a line must start with a key", where);
	for (char *q = v; *q; q++) {
		if ((unsigned char)*q < 0x20 && *q != '\t')
			return ck_error_create(CK_ERR_INVALID, "%s: control character in the value of '%s'",
					       where, key);
	}
	if (!*v)
		return ck_error_create(CK_ERR_INVALID, "%s: '%s' has no value", where, key);
	return ck_kdump_conf_set(c, key, v, where);
}

#define CONF_MAX_BYTES (1u << 20)
#define CONF_MAX_LINE 4096

/* The whole file, at most CONF_MAX_BYTES, NUL-terminated. */
static struct ck_error *read_conf(const char *path, bool missing_ok, char **buf_ret,
				  size_t *len_ret)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && missing_ok) {
			*buf_ret = NULL;
			return NULL;
		}
		return ck_error_create_errno(errno, "cannot open '%s'", path);
	}
	char *buf = malloc(CONF_MAX_BYTES + 2);
	size_t got = 0;
	struct ck_error *err = buf ? ck_read_all(fd, buf, CONF_MAX_BYTES + 1, &got, path)
				   : &ck_error_nomem;
	close(fd);
	if (!err && got > CONF_MAX_BYTES)
		err = ck_error_create(CK_ERR_INVALID, "'%s': larger than 1 MiB: not a kdump.conf", path);
	if (err) {
		free(buf);
		return err;
	}
	buf[got] = '\0';
	*buf_ret = buf;
	*len_ret = got;
	return NULL;
}

struct ck_error *ck_kdump_conf_load(struct ck_kdump_conf *c, const char *path, bool missing_ok)
{
	if (!c->target || !c->path || !c->device || !c->fstype || !c->mount_point || !c->ssh_dest ||
	    !c->ssh_key || !c->ssh_known_hosts || !c->http_host || !c->os_release)
		return &ck_error_nomem;
	char *buf = NULL;
	size_t len = 0;
	struct ck_error *err = read_conf(path, missing_ok, &buf, &len);
	if (err || !buf)
		return err;
	unsigned long lineno = 0;
	for (size_t off = 0; !err && off < len;) {
		char *line = buf + off;
		char *nl = memchr(line, '\n', len - off);
		size_t n = nl ? (size_t)(nl - line) : len - off;
		off += n + 1;
		lineno++;
		char where[64 + 4096];
		snprintf(where, sizeof(where), "%.4096s:%lu", path, lineno);
		if (n > CONF_MAX_LINE)
			err = ck_error_create(CK_ERR_INVALID, "%s: line longer than %u bytes", where,
					      CONF_MAX_LINE);
		else if (memchr(line, '\0', n))
			err = ck_error_create(CK_ERR_INVALID, "%s: NUL byte: not a text file", where);
		else {
			line[n] = '\0';
			err = conf_line(c, line, where);
		}
	}
	free(buf);
	return err;
}

char *ck_kdump_conf_local_dir(const struct ck_kdump_conf *c)
{
	switch (c->target_kind) {
	case CK_KDUMP_TARGET_LOCAL:
		return dup_or_null(c->path);
	case CK_KDUMP_TARGET_DEVICE: {
		size_t ml = strlen(c->mount_point);
		while (ml > 1 && c->mount_point[ml - 1] == '/')
			ml--;
		return ck_strdup_printf("%.*s%s", (int)ml, ml == 1 ? "" : c->mount_point, c->path);
	}
	default:
		return NULL;
	}
}

/* 'value' with ' as '\'' */
static void shell_quote(struct ck_strbuf *sb, const char *name, const char *v)
{
	ck_strbuf_addf(sb, "%s='", name);
	for (const char *p = v; *p; p++) {
		if (*p == '\'')
			ck_strbuf_adds(sb, "'\\''");
		else
			ck_strbuf_add(sb, p, 1);
	}
	ck_strbuf_adds(sb, "'\n");
}

char *ck_kdump_conf_shell(const struct ck_kdump_conf *c)
{
	static const char *const kinds[] = { "local", "device", "ssh", "http" };
	struct ck_strbuf sb = CK_STRBUF_INIT;
	char *dir = ck_kdump_conf_local_dir(c);
	char num[16];
	shell_quote(&sb, "CK_KDUMP_TARGET", c->target);
	shell_quote(&sb, "CK_KDUMP_TARGET_KIND", kinds[c->target_kind]);
	shell_quote(&sb, "CK_KDUMP_DEVICE", c->device);
	shell_quote(&sb, "CK_KDUMP_FSTYPE", c->fstype);
	shell_quote(&sb, "CK_KDUMP_MOUNT", c->target_kind == CK_KDUMP_TARGET_DEVICE ?
		    c->mount_point : "");
	shell_quote(&sb, "CK_KDUMP_DIR", dir ? dir : "");
	shell_quote(&sb, "CK_KDUMP_PATH", c->path);
	shell_quote(&sb, "CK_KDUMP_SSH", c->ssh_dest);
	snprintf(num, sizeof(num), "%u", c->ssh_port);
	shell_quote(&sb, "CK_KDUMP_SSH_PORT", c->ssh_port ? num : "");
	shell_quote(&sb, "CK_KDUMP_HTTP_HOST", c->http_host);
	snprintf(num, sizeof(num), "%u", c->http_port);
	shell_quote(&sb, "CK_KDUMP_HTTP_PORT", c->target_kind == CK_KDUMP_TARGET_HTTP ? num : "");
	shell_quote(&sb, "CK_KDUMP_NETWORK", c->target_kind >= CK_KDUMP_TARGET_SSH ? "yes" : "no");
	shell_quote(&sb, "CK_KDUMP_FORMAT", c->elf ? "elf" : "kdump");
	shell_quote(&sb, "CK_KDUMP_CODEC", c->elf ? "none" : ck_codec_name(c->codec));
	snprintf(num, sizeof(num), "%d", c->dump_level);
	shell_quote(&sb, "CK_KDUMP_DUMP_LEVEL", num);
	shell_quote(&sb, "CK_KDUMP_FINAL_ACTION", ck_kdump_action_name(c->final_action));
	shell_quote(&sb, "CK_KDUMP_FAILURE_ACTION", ck_kdump_action_name(c->failure_action));
	shell_quote(&sb, "CK_KDUMP_OS_RELEASE", c->os_release);
	shell_quote(&sb, "CK_KDUMP_SSH_KEY", c->ssh_key);
	shell_quote(&sb, "CK_KDUMP_SSH_KNOWN_HOSTS", c->ssh_known_hosts);
	bool nomem = !dir && c->target_kind < CK_KDUMP_TARGET_SSH;
	free(dir);
	char *s = ck_strbuf_detach(&sb, NULL);
	if (nomem) {
		free(s);
		return NULL;
	}
	return s;
}
