/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: /etc/crashkit/kdump.conf (lib/capture/kdump_conf.c
 * ck_kdump_conf_load: "key value" lines, targets of every kind, numbers,
 * actions, hooks), the parsed result as shell lines and its local
 * directory; the same bytes as a kernel log through the save step's panic
 * block cutter (lib/capture/save_triage.c ck_save_panic), and the first
 * line as a dump directory name (ck_save_is_stamp).  The input is the file.
 */
#include "base/base.h"
#include "capture/kdump_save.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[4096];
	if (fd < 0)
		fd = fz_tmpfile("kdump_conf", path);
	fz_set(fd, data, size);
	struct ck_kdump_conf c;
	ck_kdump_conf_init(&c);
	struct ck_error *err = ck_kdump_conf_load(&c, path, false);
	if (!err) {
		free(ck_kdump_conf_shell(&c));
		free(ck_kdump_conf_local_dir(&c));
	}
	fz_drop(err);
	ck_kdump_conf_deinit(&c);

	struct ck_strbuf sb = CK_STRBUF_INIT;
	size_t lines;
	fz_drop(ck_save_panic((const char *)data, size, &sb, &lines));
	ck_strbuf_deinit(&sb);

	char line[64];
	size_t n = 0;
	while (n < size && n < sizeof(line) - 1 && data[n] != '\n')
		n++;
	memcpy(line, data, n);
	line[n] = '\0';
	ck_save_is_stamp(line);
	return 0;
}

static void fz_seeds(const char *dir)
{
	static const char full[] =
		"# crashkit kdump.conf\n"
		"target /var/core/kernel-core\n"
		"format kdump\n"
		"codec zstd\n"
		"dump_level 31\n"
		"keep 3\n"
		"final_action reboot\n"
		"failure_action dmesg-only\n"
		"pre_hook /usr/local/sbin/pre\n"
		"post_hook /usr/local/sbin/post\n"
		"archive tar.zst\n"
		"os_release /etc/crashkit/os-release\n"
		"threads 1\n";
	fz_seed(dir, "full", full, sizeof(full) - 1);
	static const char ssh[] = "target ssh root@10.0.2.2:/srv/dumps\nssh_port 2222\n"
				  "ssh_key /etc/crashkit/id\nssh_known_hosts /etc/crashkit/kh\n"
				  "format elf\n";
	fz_seed(dir, "ssh", ssh, sizeof(ssh) - 1);
	static const char http[] = "target = http://dumps.example:8080/kc\ncodec=lzo\n";
	fz_seed(dir, "http", http, sizeof(http) - 1);
	static const char dev[] = "target UUID=0b7c1a2e-1234 /crash\nfstype ext4\nmount /mnt/t\n"
				  "target LABEL=dumps\n";
	fz_seed(dir, "device", dev, sizeof(dev) - 1);
	static const char bad[] = "  keep 99999999999\r\n=\ntarget https://x/\ndump_level 32\n"
				  "colour blue\n";
	fz_seed(dir, "bad", bad, sizeof(bad) - 1);
	static const char log[] =
		"[    7.861203] [    T119] sysrq: Trigger a crash\n"
		"[    7.861551] [    T119] Kernel panic - not syncing: sysrq triggered crash\n"
		"[    7.862433] [    T119] Call Trace:\n"
		"[    7.863553] [    T119]  sysrq_handle_crash+0x16/0x20\n"
		"[    7.865098] [    T119] ---[ end Kernel panic - not syncing: x ]---\n";
	fz_seed(dir, "log", log, sizeof(log) - 1);
	static const char stamp[] = "20261203-071500-2\n";
	fz_seed(dir, "stamp", stamp, sizeof(stamp) - 1);
}
