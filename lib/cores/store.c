/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The core store: a root-owned 0711 directory of zstd-compressed cores.  A
 * core is streamed from the kernel's pipe into <name>.tmp, fsynced, and
 * renamed: a name without .tmp is always a complete file (which may hold a
 * truncated core; the catalog says so).
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <zstd.h>

#include "cores/cores.h"

struct ck_error *ck_core_store_open(const char *path, bool create, int *dirfd_ret)
{
	if (!path || path[0] != '/')
		return ck_error_create(CK_ERR_INVALID, "store '%s' is not an absolute path",
				       path ? path : "");
	if (create) {
		/* mkdir -p for the parents (they may be normal directories),
		 * 0700 for the store itself. */
		_cleanup_free_ char *p = strdup(path);
		if (!p)
			return &ck_error_nomem;
		for (char *s = p + 1; (s = strchr(s, '/')); s++) {
			*s = '\0';
			if (mkdir(p, 0755) < 0 && errno != EEXIST)
				return ck_error_create_errno(errno, "creating '%s'", p);
			*s = '/';
		}
		/* 0711: nobody lists it, but the owner of a crash can open its
		 * core (ACL) and STORE/by-uid/<uid> by name (core_share.c). */
		if (mkdir(path, 0711) < 0 && errno != EEXIST)
			return ck_error_create_errno(errno, "creating store '%s'", path);
	}
	/* Other users may only pass through (0711): O_PATH needs no read
	 * permission, and openat() beneath it works. */
	int how = !create && geteuid() != 0 ? O_PATH : O_RDONLY;
	int fd = open(path, how | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ck_error_create_errno(errno, "store '%s'", path);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return ck_error_create_errno(e, "store '%s'", path);
	}
	if (create) {
		/* Only the handler (root) creates; fix what an older run or
		 * an admin left. */
		if (st.st_uid != 0 && geteuid() == 0 && fchown(fd, 0, 0) < 0) {
			int e = errno;
			close(fd);
			return ck_error_create_errno(e, "store '%s': chown", path);
		}
		if ((st.st_mode & 07777) != 0711 && fchmod(fd, 0711) < 0) {
			int e = errno;
			close(fd);
			return ck_error_create_errno(e, "store '%s': chmod", path);
		}
	} else if (st.st_uid != 0 && st.st_uid != geteuid()) {
		close(fd);
		return ck_error_create(CK_ERR_INVALID, "store '%s' is owned by uid %u, not root",
				       path, (unsigned int)st.st_uid);
	}
	*dirfd_ret = fd;
	return NULL;
}

/*
 * The mini core.  Core files put the ELF header and program headers first and
 * segment data after them in file order, so once the headers have streamed by
 * we know which byte ranges to skip.  Only 64-bit cores in the host's byte
 * order are trimmed; anything else is copied whole (correct, just bigger).
 */
#define MINI_HDR_MAX (4U << 20)

struct mini {
	int fd;
	bool decided;		/* headers parsed (or given up: keep all) */
	uint8_t *hdr;
	size_t hdr_len;
	uint64_t (*skip)[2];	/* [start, end) file ranges not written */
	size_t nr_skip;
};

static void mini_decide(struct mini *m)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)m->hdr;
	if (m->hdr_len < sizeof(*eh))
		return;
	uint64_t need;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB
										: ELFDATA2MSB) ||
	    eh->e_type != ET_CORE || eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    eh->e_phnum == PN_XNUM ||
	    ck_add_overflow(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), &need) ||
	    need > MINI_HDR_MAX) {
		m->decided = true;	/* keep everything */
		return;
	}
	if (m->hdr_len < need)
		return;		/* wait for more */
	m->decided = true;
	m->skip = ck_calloc_array(eh->e_phnum, sizeof(*m->skip));
	if (!m->skip)
		return;
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, m->hdr + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		uint64_t end;
		if (ph.p_type == PT_LOAD && ph.p_filesz > CK_CORE_MINI_SEGMENT &&
		    !ck_add_overflow(ph.p_offset, ph.p_filesz, &end)) {
			m->skip[m->nr_skip][0] = ph.p_offset;
			m->skip[m->nr_skip][1] = end;
			m->nr_skip++;
		}
	}
}

static bool mini_skipped(const struct mini *m, uint64_t off, uint64_t *until)
{
	for (size_t i = 0; i < m->nr_skip; i++)
		if (off >= m->skip[i][0] && off < m->skip[i][1]) {
			*until = m->skip[i][1];
			return true;
		}
	*until = UINT64_MAX;
	for (size_t i = 0; i < m->nr_skip; i++)
		if (m->skip[i][0] > off && m->skip[i][0] < *until)
			*until = m->skip[i][0];
	return false;
}

static bool all_zero(const char *p, size_t n);

/* Writes buf (at file offset off) into the mini core; false on I/O error. */
static bool mini_feed(struct mini *m, uint64_t off, const char *buf, size_t len)
{
	if (!m->decided && off < MINI_HDR_MAX) {
		size_t n = CK_MIN(len, (size_t)(MINI_HDR_MAX - off));
		if (off == m->hdr_len) {
			memcpy(m->hdr + m->hdr_len, buf, n);
			m->hdr_len += n;
		}
		mini_decide(m);
	} else if (!m->decided) {
		m->decided = true;
	}
	size_t pos = 0;
	while (pos < len) {
		uint64_t until;
		bool skip = m->decided && mini_skipped(m, off + pos, &until);
		if (!m->decided)
			until = UINT64_MAX;
		size_t n = (size_t)CK_MIN((uint64_t)(len - pos), until - (off + pos));
		if (!skip) {
			/* Whole zero pages stay holes too. */
			for (size_t k = 0; k < n;) {
				size_t blk = CK_MIN((size_t)4096, n - k);
				if (!all_zero(buf + pos + k, blk) &&
				    ck_pwrite_n(m->fd, buf + pos + k, blk, off + pos + k, NULL))
					return false;
				k += blk;
			}
		}
		pos += n;
	}
	return true;
}

/* Room kept below the budget for what zstd still holds in its workers when
 * we stop feeding it: a few jobs at level 1-3 are a few MiB each. */
#define INGEST_MARGIN (32ULL << 20)
#define INGEST_CHUNK (1U << 20)

/* One core on its way into the store. */
struct ingest {
	ZSTD_CCtx *cctx;
	int fd;			/* on tmp */
	const char *tmp;
	char *outbuf;
	size_t outcap;
	struct ck_core_ingest res;
	bool eof;		/* the input ended, or we stop reading it */
};

static ZSTD_CCtx *ingest_cctx(int level, int workers)
{
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	if (!cctx)
		return NULL;
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
	if (workers > 1)
		/* Fails harmlessly on a libzstd built without threads. */
		ZSTD_CCtx_setParameter(cctx, ZSTD_c_nbWorkers, workers);
	return cctx;
}

static void ingest_cut(struct ingest *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void ingest_cut(struct ingest *g, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g->res.reason, sizeof(g->res.reason), fmt, ap);
	va_end(ap);
	g->res.truncated = true;
	g->eof = true;
}

/* The next chunk of the core: 0 bytes at its end, when it fails (cut) or
 * when the budget is spent (cut). */
static size_t ingest_read(struct ingest *g, int in_fd, char *buf, uint64_t soft,
			  uint64_t budget)
{
	if (g->res.stored_bytes >= soft) {
		ingest_cut(g, "store budget of %llu bytes reached after %llu bytes of core",
			   (unsigned long long)budget, (unsigned long long)g->res.raw_bytes);
		return 0;
	}
	for (;;) {
		ssize_t r = read(in_fd, buf, INGEST_CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			ingest_cut(g, "reading the core failed after %llu bytes: %s",
				   (unsigned long long)g->res.raw_bytes, strerror(errno));
		if (r <= 0)
			g->eof = true;
		return r > 0 ? (size_t)r : 0;
	}
}

/* Compresses in, and at eof ends the frame.  A full disk keeps what made it
 * and says so (cut); other errors fail. */
static struct ck_error *ingest_compress(struct ingest *g, ZSTD_inBuffer *in)
{
	ZSTD_EndDirective mode = g->eof ? ZSTD_e_end : ZSTD_e_continue;
	for (;;) {
		ZSTD_outBuffer out = { g->outbuf, g->outcap, 0 };
		size_t left = ZSTD_compressStream2(g->cctx, &out, in, mode);
		if (ZSTD_isError(left))
			return ck_error_create(CK_ERR_FORMAT, "zstd: %s", ZSTD_getErrorName(left));
		if (out.pos) {
			struct ck_error *err = ck_write_all(g->fd, g->outbuf, out.pos, g->tmp);
			if (err && ck_error_errno(err) != ENOSPC && ck_error_errno(err) != EDQUOT)
				return err;
			if (err) {
				ck_error_destroy(err);
				ingest_cut(g, "disk full after %llu bytes of core",
					   (unsigned long long)g->res.raw_bytes);
				return NULL;
			}
			g->res.stored_bytes += out.pos;
		}
		if (mode == ZSTD_e_end ? left == 0 : in->pos == in->size)
			return NULL;
	}
}

/* The read-compress-write loop, then fsync and rename. */
static struct ck_error *ingest_run(struct ingest *g, int dirfd, const char *name, int in_fd,
				   uint64_t budget, struct mini *mini, char *inbuf)
{
	/* A small budget (a nearly full disk) keeps half of itself as margin,
	 * so the headers and notes still make it. */
	uint64_t soft = budget - CK_MIN((uint64_t)INGEST_MARGIN, budget / 2);
	while (!g->eof) {
		size_t r = ingest_read(g, in_fd, inbuf, soft, budget);
		if (mini->fd >= 0 && r > 0 && !mini_feed(mini, g->res.raw_bytes, inbuf, r))
			mini->fd = -1;	/* the backtrace will say what is missing */
		g->res.raw_bytes += r;
		ZSTD_inBuffer in = { inbuf, r, 0 };
		struct ck_error *err = ingest_compress(g, &in);
		if (err)
			return err;
	}
	if (fsync(g->fd) < 0 && errno != ENOSPC)
		return ck_error_create_errno(errno, "fsync '%s'", g->tmp);
	if (renameat(dirfd, g->tmp, dirfd, name) < 0)
		return ck_error_create_errno(errno, "renaming '%s'", g->tmp);
	return NULL;
}

struct ck_error *ck_core_store_ingest(int dirfd, const char *name, int in_fd, int level,
				      int workers, uint64_t budget, mode_t mode, int mini_fd,
				      struct ck_core_ingest *ret)
{
	struct mini mini = { .fd = mini_fd };
	_cleanup_free_ uint8_t *mini_hdr = mini_fd >= 0 ? malloc(MINI_HDR_MAX) : NULL;
	mini.hdr = mini_hdr;
	if (mini_fd >= 0 && !mini_hdr)
		return &ck_error_nomem;
	_cleanup_free_ char *tmp = ck_strdup_printf("%s.tmp", name);
	_cleanup_free_ char *inbuf = malloc(INGEST_CHUNK);
	size_t outcap = ZSTD_CStreamOutSize();
	_cleanup_free_ char *outbuf = malloc(outcap);
	if (!tmp || !inbuf || !outbuf)
		return &ck_error_nomem;
	struct ingest g = { .cctx = ingest_cctx(level, workers), .tmp = tmp, .outbuf = outbuf,
			    .outcap = outcap };
	if (!g.cctx)
		return &ck_error_nomem;
	struct ck_error *err = NULL;
	(void)unlinkat(dirfd, tmp, 0);
	g.fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (g.fd < 0) {
		err = ck_error_create_errno(errno, "creating '%s'", tmp);
	} else {
		err = ingest_run(&g, dirfd, name, in_fd, budget, &mini, inbuf);
		close(g.fd);
		if (err)
			unlinkat(dirfd, tmp, 0);
		else
			*ret = g.res;
	}
	if (mini_fd >= 0 && !err && ftruncate(mini_fd, (off_t)g.res.raw_bytes) < 0)
		err = ck_error_create_errno(errno, "mini core");
	free(mini.skip);
	ZSTD_freeCCtx(g.cctx);
	return err;
}

static bool all_zero(const char *p, size_t n)
{
	static const char zero[4096];
	return n <= sizeof(zero) && !memcmp(p, zero, n);
}

struct ck_error *ck_core_store_extract(int dirfd, const char *name, int out_fd, bool sparse)
{
	struct ck_error *err = NULL;
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return ck_error_create_errno(errno, "'%s'", name);
	size_t incap = ZSTD_DStreamInSize(), outcap = 1U << 20;
	_cleanup_free_ char *inbuf = malloc(incap);
	_cleanup_free_ char *outbuf = malloc(outcap);
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	if (!inbuf || !outbuf || !dctx) {
		ZSTD_freeDCtx(dctx);
		return &ck_error_nomem;
	}
	uint64_t total = 0;
	size_t last = 1;	/* ZSTD_decompressStream: 0 once a frame is complete */
	bool hole_at_end = false;
	for (;;) {
		size_t r;
		err = ck_read_all(fd, inbuf, incap, &r, name);
		if (err)
			goto out;
		if (r == 0)
			break;
		ZSTD_inBuffer in = { inbuf, (size_t)r, 0 };
		while (in.pos < in.size) {
			ZSTD_outBuffer out = { outbuf, outcap, 0 };
			last = ZSTD_decompressStream(dctx, &out, &in);
			if (ZSTD_isError(last)) {
				err = ck_error_create(CK_ERR_FORMAT, "'%s': zstd: %s after %llu bytes",
						      name, ZSTD_getErrorName(last),
						      (unsigned long long)total);
				goto out;
			}
			for (size_t off = 0; off < out.pos; off += 4096) {
				size_t n = CK_MIN((size_t)4096, out.pos - off);
				if (sparse && all_zero(outbuf + off, n)) {
					if (lseek(out_fd, (off_t)n, SEEK_CUR) < 0) {
						err = ck_error_create_errno(errno, "seek");
						goto out;
					}
					hole_at_end = true;
				} else {
					err = ck_write_all(out_fd, outbuf + off, n, "output");
					if (err)
						goto out;
					hole_at_end = false;
				}
				total += n;
			}
		}
	}
	if (hole_at_end && ftruncate(out_fd, (off_t)total) < 0) {
		err = ck_error_create_errno(errno, "truncating output");
		goto out;
	}
	if (last != 0)
		/* The stream was cut (disk full while storing): what we wrote is
		 * all there is. */
		err = ck_error_create(CK_ERR_TRUNCATED,
				      "'%s': compressed core ends early, %llu bytes recovered",
				      name, (unsigned long long)total);
out:
	ZSTD_freeDCtx(dctx);
	return err;
}

struct ck_error *ck_core_store_usage(int dirfd, uint64_t *ret)
{
	int fd = dup(dirfd);
	if (fd < 0)
		return ck_error_create_errno(errno, "store");
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		return ck_error_create_errno(e, "store");
	}
	rewinddir(d);
	uint64_t total = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n < 4 || strcmp(de->d_name + n - 4, ".zst"))
			continue;
		struct stat st;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			total += (uint64_t)st.st_blocks * 512;
	}
	closedir(d);
	*ret = total;
	return NULL;
}

struct ck_error *ck_core_store_free(int dirfd, uint64_t *ret)
{
	struct statvfs sv;
	if (fstatvfs(dirfd, &sv) < 0)
		return ck_error_create_errno(errno, "statvfs of the store");
	*ret = (uint64_t)sv.f_bavail * sv.f_frsize;
	return NULL;
}

/* POSIX ACL as the kernel stores it in system.posix_acl_access
 * (include/uapi/linux/posix_acl_xattr.h), so that no libacl is needed. */
struct acl_entry {
	uint16_t tag, perm;
	uint32_t id;
};

struct ck_error *ck_core_store_grant(int fd, unsigned int uid)
{
	struct {
		uint32_t version;
		struct acl_entry e[5];
	} __attribute__((packed)) acl = {
		.version = 2,
		.e = {
			{ 0x01, 6, UINT32_MAX },	/* user::rw- */
			{ 0x02, 4, uid },		/* user:uid:r-- */
			{ 0x04, 4, UINT32_MAX },	/* group::r-- */
			{ 0x10, 4, UINT32_MAX },	/* mask::r-- */
			{ 0x20, 0, UINT32_MAX },	/* other::--- */
		},
	};
	if (uid == 0)
		return NULL;
	if (fsetxattr(fd, "system.posix_acl_access", &acl, sizeof(acl), 0) < 0)
		return ck_error_create_errno(errno, "setting an ACL for uid %u", uid);
	return NULL;
}
