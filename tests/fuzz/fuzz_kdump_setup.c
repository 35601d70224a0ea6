/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: what `crashkit kdump initramfs` and the capture init read
 * from a machine's files (docs/kdump.md "initramfs", "init"):
 *  - modules.dep, modules.softdep, modules.alias, modules.builtin and the
 *    module names asked for (lib/kdump/modules.c ck_kdump_modules_resolve);
 *  - a program's ELF headers, PT_INTERP and DT_NEEDED/DT_RUNPATH
 *    (lib/kdump/elfdeps.c ck_elf_deps: the program, then its libraries as
 *    found under our directory, where there are none);
 *  - a module file, .ko.xz, .ko.zst or .ko.gz (ck_kdump_module_read);
 *  - a disk's superblocks, ext4 at 1 KiB, xfs at 0, btrfs at 64 KiB
 *    (lib/capture/boot.c ck_fs_probe);
 *  - the initramfs' target record (ck_boot_target_parse, then formatted
 *    and parsed again).
 * The input is those parts in that order, separated by "\n%%\n" (missing
 * parts are empty files); they are written under a directory of our own.
 */
#include <sys/stat.h>

#include "base/base.h"
#include "kdump/kdump.h"
#include "fuzz.h"

#define SEP "\n%%\n"
#define RELEASE "6.1.0-fz"
enum { P_DEP, P_SOFTDEP, P_ALIAS, P_BUILTIN, P_NAMES, P_ELF, P_MODULE, P_DISK, P_TARGET, NR_PARTS };

static char root[4096];
static const char *const files[] = {
	"lib/modules/" RELEASE "/modules.dep",	  "lib/modules/" RELEASE "/modules.softdep",
	"lib/modules/" RELEASE "/modules.alias",  "lib/modules/" RELEASE "/modules.builtin",
	NULL,					  "prog",
	NULL,					  "disk",
};
static const char *const module_names[] = { "m.ko.xz", "m.ko.zst", "m.ko.gz", "m.ko" };

static void remove_root(void)
{
	char p[8192];
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (!files[i])
			continue;
		snprintf(p, sizeof(p), "%s/%s", root, files[i]);
		unlink(p);
	}
	for (size_t i = 0; i < sizeof(module_names) / sizeof(module_names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, module_names[i]);
		unlink(p);
	}
	static const char *const dirs[] = { ("lib/modules/" RELEASE), "lib/modules", "lib", "" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, dirs[i]);
		rmdir(p);
	}
}

static void make_root(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(root, sizeof(root), "%s/fuzz-kdump-setup-%d", tmp && *tmp ? tmp : "/tmp",
		 (int)getpid());
	char p[8192];
	snprintf(p, sizeof(p), "%s/lib/modules/" RELEASE, root);
	for (char *s = p + strlen(root) + 1;; s++) {
		if (*s == '/' || !*s) {
			char c = *s;
			*s = '\0';
			mkdir(root, 0755);
			mkdir(p, 0755);
			*s = c;
		}
		if (!*s)
			break;
	}
	atexit(remove_root);
}

static void write_file(const char *name, const void *p, size_t len, uint64_t off)
{
	char path[8192];
	snprintf(path, sizeof(path), "%s/%s", root, name);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		abort();
	if (len)
		fz_pwrite(fd, p, len, 0);
	if (len && off)
		fz_pwrite(fd, p, len, off);
	close(fd);
}

static void split(const uint8_t *data, size_t size, const uint8_t *part[NR_PARTS],
		  size_t len[NR_PARTS])
{
	size_t at = 0, n = strlen(SEP);
	for (int i = 0; i < NR_PARTS; i++) {
		part[i] = data + at;
		const uint8_t *end = at < size ? memmem(data + at, size - at, SEP, n) : NULL;
		len[i] = end ? (size_t)(end - (data + at)) : size - at;
		at = end ? (size_t)(end - data) + n : size;
	}
}

static void run_modules(const uint8_t *names, size_t len)
{
	struct ck_strlist want = CK_STRLIST_INIT, paths = CK_STRLIST_INIT, missing = CK_STRLIST_INIT;
	char buf[512];
	size_t n = CK_MIN(len, sizeof(buf) - 1);
	memcpy(buf, names, n);
	buf[n] = '\0';
	char *save = NULL;
	for (char *w = strtok_r(buf, " \n\t", &save); w && want.nr < 16; w = strtok_r(NULL, " \n\t", &save))
		ck_strlist_add(&want, w);
	fz_drop(ck_kdump_modules_resolve(root, RELEASE, &want, &paths, &missing));
	ck_strlist_deinit(&want);
	ck_strlist_deinit(&paths);
	ck_strlist_deinit(&missing);
}

static void run_target(const uint8_t *text, size_t len)
{
	char *s = strndup((const char *)text, len);
	if (!s)
		return;
	struct ck_boot_target t = { 0 };
	struct ck_error *err = ck_boot_target_parse(s, &t);
	if (!err) {
		char *again = ck_boot_target_format(&t);
		struct ck_boot_target u = { 0 };
		if (again)
			fz_drop(ck_boot_target_parse(again, &u));
		ck_boot_target_deinit(&u);
		free(again);
	}
	fz_drop(err);
	ck_boot_target_deinit(&t);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!root[0])
		make_root();
	const uint8_t *part[NR_PARTS];
	size_t len[NR_PARTS];
	split(data, size, part, len);
	for (int i = P_DEP; i <= P_BUILTIN; i++)
		write_file(files[i], part[i], len[i], 0);
	run_modules(part[P_NAMES], len[P_NAMES]);

	write_file("prog", part[P_ELF], len[P_ELF], 0);
	struct ck_strlist libs = CK_STRLIST_INIT;
	char prog[8192];
	snprintf(prog, sizeof(prog), "%s/prog", root);
	fz_drop(ck_elf_deps(root, prog, &libs));
	ck_strlist_deinit(&libs);

	/* the module part's first byte picks the compression by name */
	if (len[P_MODULE]) {
		const char *name = module_names[part[P_MODULE][0] % 4];
		write_file(name, part[P_MODULE] + 1, len[P_MODULE] - 1, 0);
		char path[8192], *mod = NULL;
		size_t mlen;
		snprintf(path, sizeof(path), "%s/%s", root, name);
		struct ck_error *err = ck_kdump_module_read(path, false, &mod, &mlen);
		fz_drop(err);
		if (!err)
			free(mod);
		unlink(path);
	}

	/* the same bytes where each filesystem keeps its superblock */
	write_file("disk", part[P_DISK], len[P_DISK], 0x10000);
	char disk[8192];
	snprintf(disk, sizeof(disk), "%s/disk", root);
	struct ck_fs_id id;
	fz_drop(ck_fs_probe(disk, &id));

	run_target(part[P_TARGET], len[P_TARGET]);
	return 0;
}

/* An ext4, an xfs and a btrfs superblock's identifying fields, at the
 * offsets within the copy written to the disk file. */
static size_t ext4_sb(uint8_t *b)
{
	memset(b, 0, 2048);
	b[1024 + 56] = 0x53, b[1024 + 57] = 0xef;
	for (int i = 0; i < 16; i++)
		b[1024 + 104 + i] = (uint8_t)(0x10 + i);
	memcpy(b + 1024 + 120, "dumps", 5);
	return 2048;
}

static void fz_seeds(const char *dir)
{
	static const char modules[] =
		"kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko\n"
		"kernel/lib/crc16.ko:\nkernel/fs/mbcache.ko:\nkernel/fs/jbd2/jbd2.ko:\n"
		"kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio.ko\n"
		"kernel/drivers/virtio/virtio.ko:\n" SEP
		"softdep ext4 pre: crc32c\nsoftdep virtio_blk post: virtio_pci\n" SEP
		"alias fs-ext4 ext4\nalias crc32c crc32c_generic\nalias pci:v00001AF4d* virtio_pci\n" SEP
		"kernel/lib/crc32c_generic.ko\n" SEP
		"ext4 virtio_blk fs-ext4 nosuch" SEP;
	struct ck_strbuf sb = CK_STRBUF_INIT;
	ck_strbuf_add(&sb, modules, sizeof(modules) - 1);
	/* a real small program, if the machine has one */
	char elf[60000];
	size_t elen = 0;
	FILE *f = fopen("/usr/bin/true", "rb");
	if (f) {
		elen = fread(elf, 1, sizeof(elf), f);
		fclose(f);
	}
	if (elen < sizeof(elf))
		ck_strbuf_add(&sb, elf, elen);
	ck_strbuf_add(&sb, SEP "\x00not xz" SEP, strlen(SEP) * 2 + 7);
	uint8_t disk[2048];
	ck_strbuf_add(&sb, disk, ext4_sb(disk));
	static const char target[] = SEP "path=/var/core/kernel-core\nmountpoint=/var/core\n"
				     "fstype=ext4\nuuid=10111213-1415-1617-1819-1a1b1c1d1e1f\nlabel=dumps\n"
				     "device=/dev/vda\n";
	ck_strbuf_add(&sb, target, sizeof(target) - 1);
	fz_seed(dir, "all", sb.buf, sb.len);
	ck_strbuf_deinit(&sb);

	static const char xfs[] = SEP SEP SEP SEP SEP SEP SEP
				  "XFSB\0\0\x10\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
				  "0123456789abcdef" SEP "path=/\nmountpoint=/\nfstype=xfs\n";
	fz_seed(dir, "xfs", xfs, sizeof(xfs) - 1);
	static const char cycle[] = "a.ko: b.ko\nb.ko: a.ko\n" SEP "softdep a pre: b\nsoftdep b pre: a\n"
				    SEP "alias a b\nalias b a\n" SEP SEP "a b";
	fz_seed(dir, "cycle", cycle, sizeof(cycle) - 1);
}
