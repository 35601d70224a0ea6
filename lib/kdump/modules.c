/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which module files a set of module names needs, in load order, from the
 * files depmod writes under /lib/modules/RELEASE: modules.dep ("path: dep
 * dep ..."; the dependencies listed so that loading them last first
 * works), modules.softdep ("softdep ext4 pre: crypto-crc32c"),
 * modules.alias (exact names only) and modules.builtin.  And a module
 * file's bytes, decompressed for a kernel that cannot (CONFIG_MODULE_DECOMPRESS
 * unset): xz with liblzma, zstd, gzip with zlib.
 */
#include <lzma.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "base/base.h"
#include "kdump/kdump.h"

#define DEP_MAX (64u << 20)
#define MODULE_MAX (256u << 20)

struct moddb {
	char *dep, *softdep, *alias, *builtin;
	size_t dep_len, softdep_len, alias_len, builtin_len;
	const char *root, *release;
};

/* "kernel/fs/ext4/ext4.ko.xz" -> "ext4"; '-' and '_' are one in module names. */
static void mod_name(const char *path, size_t len, char *out, size_t out_size)
{
	const char *slash = memrchr(path, '/', len);
	const char *b = slash ? slash + 1 : path;
	size_t l = (size_t)(path + len - b);
	const char *ko = NULL;
	for (const char *p = b; p + 3 <= b + l; p++)
		if (!memcmp(p, ".ko", 3))
			ko = p;
	if (ko)
		l = (size_t)(ko - b);
	if (l >= out_size)
		l = out_size - 1;
	for (size_t i = 0; i < l; i++)
		out[i] = b[i] == '-' ? '_' : b[i];
	out[l] = '\0';
}

/* Each line of text in turn: *line and *len; false at the end. */
static bool next_line(const char *text, size_t tlen, size_t *pos, const char **line, size_t *len)
{
	if (!text || *pos >= tlen)
		return false;
	const char *p = text + *pos;
	const char *nl = memchr(p, '\n', tlen - *pos);
	*line = p;
	*len = nl ? (size_t)(nl - p) : tlen - *pos;
	*pos += *len + 1;
	return true;
}

/* modules.dep's line of a module name, or NULL. */
static const char *dep_line(const struct moddb *db, const char *name, size_t *len)
{
	const char *line;
	size_t l, pos = 0;
	char n[128];
	while (next_line(db->dep, db->dep_len, &pos, &line, &l)) {
		const char *colon = memchr(line, ':', l);
		if (!colon)
			continue;
		mod_name(line, (size_t)(colon - line), n, sizeof(n));
		if (!strcmp(n, name)) {
			*len = l;
			return line;
		}
	}
	return NULL;
}

static bool is_builtin(const struct moddb *db, const char *name)
{
	const char *line;
	size_t l, pos = 0;
	char n[128];
	while (next_line(db->builtin, db->builtin_len, &pos, &line, &l)) {
		mod_name(line, l, n, sizeof(n));
		if (!strcmp(n, name))
			return true;
	}
	return false;
}

/* Words after "PREFIX name" on lines of text that start so (softdep's
 * "pre:" list, or every alias target), added to out. */
static void words_after(const char *text, size_t tlen, const char *prefix, const char *name,
			const char *stop_at, struct ck_strlist *out)
{
	const char *line;
	size_t l, pos = 0, pl = strlen(prefix), nl = strlen(name);
	while (next_line(text, tlen, &pos, &line, &l)) {
		if (l <= pl + nl || memcmp(line, prefix, pl) || memcmp(line + pl, name, nl) ||
		    line[pl + nl] != ' ')
			continue;
		char *w = strndup(line + pl + nl + 1, l - pl - nl - 1);
		bool on = !stop_at;
		for (char *save, *t = w ? strtok_r(w, " \t", &save) : NULL; t;
		     t = strtok_r(NULL, " \t", &save)) {
			if (stop_at && t[strlen(t) - 1] == ':') {
				on = !strcmp(t, stop_at);
				continue;
			}
			if (on)
				ck_strlist_add_unique(out, t);
		}
		free(w);
	}
}

static void add_path(struct ck_strlist *paths, const char *rel, size_t len)
{
	char *p = strndup(rel, len);
	if (p && !ck_strlist_contains(paths, p))
		ck_strlist_add_owned(paths, p);
	else
		free(p);
}

/* name, its soft and hard dependencies first; depth bounds alias and
 * softdep cycles. */
static void resolve_one(const struct moddb *db, const char *name, int depth,
			struct ck_strlist *paths, struct ck_strlist *missing)
{
	if (depth > 6 || is_builtin(db, name))
		return;
	size_t len;
	const char *line = dep_line(db, name, &len);
	if (!line) {
		/* An alias ("crypto-crc32c") names the modules that provide it. */
		struct ck_strlist targets = CK_STRLIST_INIT;
		words_after(db->alias, db->alias_len, "alias ", name, NULL, &targets);
		for (size_t i = 0; i < targets.nr; i++)
			resolve_one(db, targets.items[i], depth + 1, paths, NULL);
		if (!targets.nr && missing)
			ck_strlist_add_unique(missing, name);
		ck_strlist_deinit(&targets);
		return;
	}
	struct ck_strlist pre = CK_STRLIST_INIT;
	words_after(db->softdep, db->softdep_len, "softdep ", name, "pre:", &pre);
	for (size_t i = 0; i < pre.nr; i++)
		resolve_one(db, pre.items[i], depth + 1, paths, NULL);
	ck_strlist_deinit(&pre);
	const char *colon = memchr(line, ':', len);
	/* The dependencies, last first. */
	const char *end = line + len;
	while (end > colon + 1) {
		while (end > colon + 1 && (end[-1] == ' ' || end[-1] == '\r'))
			end--;
		const char *start = end;
		while (start > colon + 1 && start[-1] != ' ')
			start--;
		if (start < end)
			add_path(paths, start, (size_t)(end - start));
		end = start;
	}
	add_path(paths, line, (size_t)(colon - line));
}

static struct ck_error *read_db_file(const char *root, const char *release, const char *name,
				     bool required, char **ret, size_t *len)
{
	char *rel = ck_strdup_printf("/lib/modules/%s/%s", release, name);
	char *path = rel ? ck_kdump_path(root, rel) : NULL;
	free(rel);
	if (!path)
		return &ck_error_nomem;
	struct ck_error *err = ck_kdump_read_text(path, DEP_MAX, ret, len);
	free(path);
	if (err && !required) {
		ck_error_destroy(err);
		*ret = NULL;
		*len = 0;
		return NULL;
	}
	return err ? ck_error_prepend(err, "modules of %s (depmod run?)", release) : NULL;
}

struct ck_error *ck_kdump_modules_resolve(const char *root, const char *release,
					  const struct ck_strlist *names,
					  struct ck_strlist *paths_ret, struct ck_strlist *missing)
{
	struct moddb db = { .root = root, .release = release };
	struct ck_error *err = read_db_file(root, release, "modules.dep", true, &db.dep, &db.dep_len);
	if (!err)
		err = read_db_file(root, release, "modules.softdep", false, &db.softdep, &db.softdep_len);
	if (!err)
		err = read_db_file(root, release, "modules.alias", false, &db.alias, &db.alias_len);
	if (!err)
		err = read_db_file(root, release, "modules.builtin", false, &db.builtin, &db.builtin_len);
	struct ck_strlist rel = CK_STRLIST_INIT;
	for (size_t i = 0; !err && i < names->nr; i++) {
		char n[128];
		mod_name(names->items[i], strlen(names->items[i]), n, sizeof(n));
		resolve_one(&db, n, 0, &rel, missing);
	}
	free(db.dep);
	free(db.softdep);
	free(db.alias);
	free(db.builtin);
	if (err) {
		ck_strlist_deinit(&rel);
		return err;
	}
	/* modules.dep names files relative to the release's directory. */
	struct ck_strlist out = CK_STRLIST_INIT;
	for (size_t i = 0; i < rel.nr; i++) {
		char *p = rel.items[i][0] == '/' ? strdup(rel.items[i])
			: ck_strdup_printf("/lib/modules/%s/%s", release, rel.items[i]);
		if (!ck_strlist_add_owned(&out, p)) {
			ck_strlist_deinit(&out);
			ck_strlist_deinit(&rel);
			return &ck_error_nomem;
		}
	}
	ck_strlist_deinit(&rel);
	*paths_ret = out;
	return NULL;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

static struct ck_error *unxz(const char *path, const char *in, size_t len, struct ck_strbuf *out)
{
	lzma_stream s = LZMA_STREAM_INIT;
	if (lzma_stream_decoder(&s, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
		return &ck_error_nomem;
	s.next_in = (const uint8_t *)in;
	s.avail_in = len;
	uint8_t buf[65536];
	lzma_ret r;
	do {
		s.next_out = buf;
		s.avail_out = sizeof(buf);
		r = lzma_code(&s, LZMA_FINISH);
		ck_strbuf_add(out, buf, sizeof(buf) - s.avail_out);
	} while (r == LZMA_OK && out->len <= MODULE_MAX);
	lzma_end(&s);
	return r == LZMA_STREAM_END ? NULL
		: ck_error_create(CK_ERR_FORMAT, "'%s': xz data does not decode (%d)", path, (int)r);
}

static struct ck_error *unzst(const char *path, const char *in, size_t len, struct ck_strbuf *out)
{
	ZSTD_DCtx *d = ZSTD_createDCtx();
	if (!d)
		return &ck_error_nomem;
	ZSTD_inBuffer ib = { in, len, 0 };
	char buf[65536];
	size_t r = 1;
	while (ib.pos < ib.size && out->len <= MODULE_MAX) {
		ZSTD_outBuffer ob = { buf, sizeof(buf), 0 };
		r = ZSTD_decompressStream(d, &ob, &ib);
		if (ZSTD_isError(r))
			break;
		ck_strbuf_add(out, buf, ob.pos);
	}
	ZSTD_freeDCtx(d);
	return !ZSTD_isError(r) && r == 0 ? NULL
		: ck_error_create(CK_ERR_FORMAT, "'%s': zstd data does not decode", path);
}

static struct ck_error *ungz(const char *path, const char *in, size_t len, struct ck_strbuf *out)
{
	z_stream z = { 0 };
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return &ck_error_nomem;
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)CK_MIN(len, (size_t)UINT32_MAX);
	char buf[65536];
	int r;
	do {
		z.next_out = (Bytef *)buf;
		z.avail_out = sizeof(buf);
		r = inflate(&z, Z_NO_FLUSH);
		ck_strbuf_add(out, buf, sizeof(buf) - z.avail_out);
	} while (r == Z_OK && out->len <= MODULE_MAX);
	inflateEnd(&z);
	return r == Z_STREAM_END ? NULL
		: ck_error_create(CK_ERR_FORMAT, "'%s': gzip data does not decode", path);
}

struct ck_error *ck_kdump_module_read(const char *path, bool keep, char **ret, size_t *len_ret)
{
	char *data;
	size_t len;
	struct ck_error *err = ck_kdump_read_text(path, MODULE_MAX, &data, &len);
	if (err)
		return err;
	struct ck_error *(*dec)(const char *, const char *, size_t, struct ck_strbuf *) =
		ends_with(path, ".xz") ? unxz : ends_with(path, ".zst") ? unzst
		: ends_with(path, ".gz") ? ungz : NULL;
	if (keep || !dec) {
		*ret = data;
		*len_ret = len;
		return NULL;
	}
	struct ck_strbuf out = CK_STRBUF_INIT;
	err = dec(path, data, len, &out);
	free(data);
	if (!err && out.failed)
		err = &ck_error_nomem;
	if (!err && out.len > MODULE_MAX)
		err = ck_error_create(CK_ERR_FORMAT, "'%s': larger than %u bytes decompressed", path,
				      MODULE_MAX);
	if (err) {
		ck_strbuf_deinit(&out);
		return err;
	}
	*ret = ck_strbuf_detach(&out, len_ret);
	return *ret ? NULL : &ck_error_nomem;
}
