/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of kdump load and the initramfs builder (docs/kdump.md "load",
 * "initramfs", "init"): the capture command line, the newc writer, module
 * order from depmod's files, an ELF's loader and libraries, the target
 * record and the superblock probe.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "../harness.h"
#include "kdump/kdump.h"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	EXPECT(f, "%s", path);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_command_line(void)
{
	char *s = NULL;
	EXPECT(no_error(ck_kdump_command_line("BOOT_IMAGE=/vmlinuz-6.1 root=UUID=ab ro quiet "
					      "crashkernel=256M console=ttyS0,115200 nr_cpus=8 "
					      "panic=1 foo=\"a b\" splash -- single",
					      "console=ttyS1", &s)));
	EXPECT(s && !strcmp(s, "root=UUID=ab ro console=ttyS0,115200 foo=\"a b\" nr_cpus=1 irqpoll "
			    "reset_devices cgroup_disable=memory panic=10 console=ttyS1"), "%s", s);
	free(s);
	EXPECT(no_error(ck_kdump_command_line("", NULL, &s)));
	EXPECT(s && !strcmp(s, "nr_cpus=1 irqpoll reset_devices cgroup_disable=memory panic=10"),
	       "%s", s);
	free(s);
	/* a word that only starts like a dropped one stays */
	EXPECT(no_error(ck_kdump_command_line("quietly=1 crashkernelx", NULL, &s)));
	EXPECT(s && !strncmp(s, "quietly=1 crashkernelx nr_cpus=1", 32), "%s", s);
	free(s);
}

/* One newc header's field i (0: ino ... 12: check) as a number. */
static unsigned long field(const char *h, int i)
{
	char b[9];
	memcpy(b, h + 6 + 8 * i, 8);
	b[8] = '\0';
	return strtoul(b, NULL, 16);
}

static void test_cpio(void)
{
	struct ck_cpio c;
	ck_cpio_init(&c);
	EXPECT(no_error(ck_cpio_add_dir(&c, "/etc")));
	EXPECT(no_error(ck_cpio_add_file(&c, "/etc/x", 0644, "hello", 5)));
	EXPECT(no_error(ck_cpio_add_symlink(&c, "/init", "usr/bin/crashkit")));
	EXPECT(no_error(ck_cpio_add_chardev(&c, "/dev/console", 0600, 5, 1)));
	EXPECT(no_error(ck_cpio_finish(&c)));
	EXPECT(c.buf.len % 512 == 0 && c.nr_files == 4, "%zu bytes, %zu files", c.buf.len, c.nr_files);
	/* walk it back as the kernel does */
	const char *p = c.buf.buf, *end = p + c.buf.len;
	const char *names[] = { "etc", "etc/x", "init", "dev/console", "TRAILER!!!" };
	unsigned long modes[] = { 040755, 0100644, 0120777, 020600, 0 };
	for (int i = 0; i < 5; i++) {
		EXPECT(p + 110 <= end && !memcmp(p, "070701", 6), "header %d", i);
		if (p + 110 > end)
			break;
		unsigned long namesize = field(p, 11), filesize = field(p, 6);
		EXPECT(!strcmp(p + 110, names[i]) && namesize == strlen(names[i]) + 1, "name %d: %s", i,
		       p + 110);
		EXPECT(field(p, 1) == modes[i], "mode %d: %lo", i, field(p, 1));
		if (i == 1)
			EXPECT(filesize == 5 && !memcmp(p + ((110 + namesize + 3) & ~3ul), "hello", 5));
		if (i == 3)
			EXPECT(field(p, 9) == 5 && field(p, 10) == 1, "rdev");
		p += (110 + namesize + 3) & ~3ul;
		p += (filesize + 3) & ~3ul;
	}
	ck_cpio_deinit(&c);
}

static void test_modules(void)
{
	char *root = tpath("modroot");
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/lib/modules/9.9.9", root);
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "mkdir -p %s", dir);
	EXPECT(system(cmd) == 0);
	char path[700];
	snprintf(path, sizeof(path), "%s/modules.dep", dir);
	write_file(path, "kernel/fs/ext4/ext4.ko.xz: kernel/fs/jbd2/jbd2.ko.xz kernel/fs/mbcache.ko.xz "
		   "kernel/lib/crc16.ko.xz\nkernel/fs/jbd2/jbd2.ko.xz:\nkernel/fs/mbcache.ko.xz:\n"
		   "kernel/lib/crc16.ko.xz:\nkernel/crypto/crc32c_generic.ko.xz:\n"
		   "kernel/drivers/block/virtio_blk.ko.xz:\nkernel/drivers/nvme/host/nvme-core.ko.xz:\n"
		   "kernel/drivers/nvme/host/nvme.ko.xz: kernel/drivers/nvme/host/nvme-core.ko.xz\n");
	snprintf(path, sizeof(path), "%s/modules.softdep", dir);
	write_file(path, "# Soft dependencies\nsoftdep ext4 pre: crypto-crc32c\n");
	snprintf(path, sizeof(path), "%s/modules.alias", dir);
	write_file(path, "alias crypto-crc32c crc32c_generic\nalias crc32c crc32c_generic\n");
	snprintf(path, sizeof(path), "%s/modules.builtin", dir);
	write_file(path, "kernel/drivers/virtio/virtio_pci.ko\n");
	struct ck_strlist names = CK_STRLIST_INIT, paths = CK_STRLIST_INIT, missing = CK_STRLIST_INIT;
	const char *want[] = { "virtio_pci", "virtio-blk", "ext4", "nvme", "no_such_mod" };
	for (size_t i = 0; i < 5; i++)
		ck_strlist_add(&names, want[i]);
	EXPECT(no_error(ck_kdump_modules_resolve(root, "9.9.9", &names, &paths, &missing)));
	const char *order[] = { "virtio_blk", "crc32c_generic", "crc16", "mbcache", "jbd2", "ext4",
				"nvme-core", "nvme" };
	EXPECT(paths.nr == 8, "%zu modules", paths.nr);
	for (size_t i = 0; i < paths.nr && i < 8; i++) {
		char want_path[128];
		snprintf(want_path, sizeof(want_path), "/%s.ko.xz", order[i]);
		const char *got = paths.items[i];
		EXPECT(strlen(got) > strlen(want_path) && !strcmp(got + strlen(got) - strlen(want_path),
								  want_path), "%zu: %s", i, got);
	}
	EXPECT(missing.nr == 1 && !strcmp(missing.items[0], "no_such_mod"), "missing %zu", missing.nr);
	ck_strlist_deinit(&names);
	ck_strlist_deinit(&paths);
	ck_strlist_deinit(&missing);
	/* no modules.dep: one error naming the release */
	EXPECT(is_error(ck_kdump_modules_resolve(root, "1.2.3", &names, &paths, NULL), CK_ERR_OS,
			"1.2.3"));
}

static void test_elf_deps(void)
{
	struct ck_strlist deps = CK_STRLIST_INIT;
	/* the test binary itself: dynamic, needs libc and the loader */
	char self[512];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	EXPECT(n > 0);
	self[n > 0 ? n : 0] = '\0';
	EXPECT(no_error(ck_elf_deps(NULL, self, &deps)));
	bool libc = false, loader = false;
	for (size_t i = 1; i < deps.nr; i++) {
		libc |= strstr(deps.items[i], "/libc.so.6") != NULL;
		loader |= strstr(deps.items[i], "/ld-linux") != NULL;
		EXPECT(deps.items[i][0] == '/', "%s", deps.items[i]);
	}
	EXPECT(deps.nr > 2 && !strcmp(deps.items[0], self) && libc && loader, "%zu", deps.nr);
	ck_strlist_deinit(&deps);
	/* not an ELF file, a truncated one */
	char *txt = tpath("notelf");
	write_file(txt, "#!/bin/sh\n");
	EXPECT(is_error(ck_elf_deps(NULL, txt, &deps), CK_ERR_FORMAT, "not an ELF file"));
	char *cut = tpath("cut");
	int in = open(self, O_RDONLY), out = open(cut, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	char buf[100];
	EXPECT(in >= 0 && out >= 0 && read(in, buf, sizeof(buf)) == sizeof(buf) &&
	       write(out, buf, sizeof(buf)) == sizeof(buf));
	close(in);
	close(out);
	EXPECT(is_error(ck_elf_deps(NULL, cut, &deps), CK_ERR_FORMAT, "cut"));
}

static void test_target_and_probe(void)
{
	struct ck_boot_target t = { 0 };
	EXPECT(no_error(ck_boot_target_parse("path=/var/core/kernel-core\nmountpoint=/var/core\n"
					     "fstype=ext4\nuuid=0b7c1a2e-1234-4cde-9f00-123456789abc\n"
					     "# comment\nunknown=1\n", &t)));
	EXPECT(t.path && !strcmp(t.mountpoint, "/var/core") && !strcmp(t.fstype, "ext4") &&
	       !strcmp(t.label, "") && !strcmp(t.device, ""));
	char *text = ck_boot_target_format(&t);
	struct ck_boot_target t2 = { 0 };
	EXPECT(text && no_error(ck_boot_target_parse(text, &t2)) && !strcmp(t2.uuid, t.uuid));
	free(text);
	ck_boot_target_deinit(&t);
	ck_boot_target_deinit(&t2);
	EXPECT(is_error(ck_boot_target_parse("path=relative\n", &t), CK_ERR_FORMAT, "needed"));
	/* an ext4 superblock: magic, UUID, label */
	char *img = tpath("ext4.img");
	static unsigned char sb[4096];
	memset(sb, 0, sizeof(sb));
	sb[1024 + 0x38] = 0x53;
	sb[1024 + 0x39] = 0xef;
	for (int i = 0; i < 16; i++)
		sb[1024 + 0x68 + i] = (unsigned char)(0x10 + i);
	memcpy(sb + 1024 + 0x78, "ck-e2e", 6);
	int fd = open(img, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	EXPECT(fd >= 0 && write(fd, sb, sizeof(sb)) == (ssize_t)sizeof(sb));
	EXPECT(ftruncate(fd, 1 << 20) == 0);
	close(fd);
	struct ck_fs_id id;
	EXPECT(no_error(ck_fs_probe(img, &id)));
	EXPECT(!strcmp(id.type, "ext4") && !strcmp(id.uuid, "10111213-1415-1617-1819-1a1b1c1d1e1f") &&
	       !strcmp(id.label, "ck-e2e"), "%s %s %s", id.type, id.uuid, id.label);
	/* zeros: none of them */
	char *zero = tpath("zero.img");
	fd = open(zero, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	EXPECT(fd >= 0 && ftruncate(fd, 1 << 20) == 0);
	close(fd);
	EXPECT(is_error(ck_fs_probe(zero, &id), CK_ERR_NOT_FORMAT, "zero.img"));
	/* shorter than a superblock */
	char *tiny = tpath("tiny.img");
	write_file(tiny, "x");
	struct ck_error *err = ck_fs_probe(tiny, &id);
	EXPECT(err != NULL);
	ck_error_destroy(err);
}

int main(void)
{
	int r = harness_begin("kdump_load");
	if (r)
		return r;
	run("kdump load: the capture command line", test_command_line);
	run("kdump initramfs: newc archive", test_cpio);
	run("kdump initramfs: module order from modules.dep, softdep, alias, builtin", test_modules);
	run("kdump initramfs: an ELF's loader and libraries", test_elf_deps);
	run("kdump init: target record, superblock probe", test_target_and_probe);
	return harness_end();
}
