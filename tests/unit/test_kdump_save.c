/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The save step's pieces without a dump (issue 11, docs/kdump.md "save"):
 * kdump.conf parsing (targets, errors naming FILE:LINE), the shell form,
 * the panic block cut from logs of several shapes, stamp names, keep N,
 * the archive's tar layout, listing.
 */
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"
#include "capture/kdump_save.h"
#include "../harness.h"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	EXPECT(f, "%s", path);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static struct ck_error *load(const char *text, struct ck_kdump_conf *c)
{
	char *p = tpath("kdump.conf");
	write_file(p, text);
	ck_kdump_conf_init(c);
	return ck_kdump_conf_load(c, p, false);
}

static void test_conf(void)
{
	struct ck_kdump_conf c;
	ck_kdump_conf_init(&c);
	EXPECT(c.target_kind == CK_KDUMP_TARGET_LOCAL && !strcmp(c.path, CK_KDUMP_TARGET_DEFAULT));
	EXPECT(c.dump_level == 31 && c.codec == CK_CODEC_ZSTD && !c.elf && c.keep == 0);
	EXPECT(no_error(ck_kdump_conf_load(&c, tpath("absent.conf"), true)));
	EXPECT(is_error(ck_kdump_conf_load(&c, tpath("absent.conf"), false), CK_ERR_OS, "absent.conf"));
	ck_kdump_conf_deinit(&c);

	EXPECT(no_error(load("# x\n\n  target = ssh kdump@10.0.2.2:/srv/d  \r\nformat elf\n"
			     "codec none\ndump_level 0\nkeep 2\npre_hook /a\npre_hook /b\n", &c)));
	EXPECT(c.target_kind == CK_KDUMP_TARGET_SSH && !strcmp(c.ssh_dest, "kdump@10.0.2.2") &&
	       !strcmp(c.path, "/srv/d"), "%s %s", c.ssh_dest, c.path);
	EXPECT(c.elf && c.codec == CK_CODEC_NONE && c.dump_level == 0 && c.keep == 2);
	EXPECT(c.nr_pre_hooks == 2 && !strcmp(c.pre_hooks[1], "/b"));
	EXPECT(!ck_kdump_conf_local_dir(&c));
	ck_kdump_conf_deinit(&c);

	EXPECT(no_error(load("target http://dumps.example/\n", &c)));
	EXPECT(c.target_kind == CK_KDUMP_TARGET_HTTP && c.http_port == 80 && !strcmp(c.path, "/") &&
	       !strcmp(c.http_host, "dumps.example"));
	ck_kdump_conf_deinit(&c);
	EXPECT(no_error(load("target http://10.0.2.2:8080/kc/x\n", &c)));
	EXPECT(c.http_port == 8080 && !strcmp(c.path, "/kc/x") && !strcmp(c.http_host, "10.0.2.2"));
	ck_kdump_conf_deinit(&c);

	EXPECT(no_error(load("target UUID=ab-cd\nmount /mnt/t/\n", &c)));
	char *dir = ck_kdump_conf_local_dir(&c);
	EXPECT(c.target_kind == CK_KDUMP_TARGET_DEVICE && !strcmp(c.device, "UUID=ab-cd"));
	EXPECT(dir && !strcmp(dir, "/mnt/t/var/core/kernel-core"), "%s", dir ? dir : "(null)");
	free(dir);
	char *sh = ck_kdump_conf_shell(&c);
	EXPECT(sh && strstr(sh, "CK_KDUMP_DEVICE='UUID=ab-cd'\n") &&
	       strstr(sh, "CK_KDUMP_NETWORK='no'\n"), "%s", sh ? sh : "(null)");
	free(sh);
	ck_kdump_conf_deinit(&c);

	/* a quote in a path is quoted for the shell */
	EXPECT(no_error(load("target /var/it's\n", &c)));
	sh = ck_kdump_conf_shell(&c);
	EXPECT(sh && strstr(sh, "CK_KDUMP_DIR='/var/it'\\''s'\n"), "%s", sh ? sh : "(null)");
	free(sh);
	ck_kdump_conf_deinit(&c);

	static const struct { const char *text, *needle; } bad[] = {
		{ "\n\nnope 1\n", "kdump.conf:3: unknown key 'nope'" },
		{ "keep\n", "kdump.conf:1: 'keep' has no value" },
		{ "dump_level 31x\n", "kdump.conf:1: dump_level '31x'" },
		{ "threads 99999999999999\n", "kdump.conf:1: threads" },
		{ "target https://h/\n", "HTTPS needs a TLS library" },
		{ "target ssh root@h\n", "want ssh USER@HOST:/PATH" },
		{ "target http://h:0/\n", "the port must be 1-65535" },
		{ "target http://[::1]/\n", "IPv6" },
		{ "target UUID=\n", "needs a value" },
		{ "target LABEL=x rel\n", "must be absolute" },
		{ "os_release /a/..\n", "absolute path without '..'" },
		{ "pre_hook /1\npre_hook /2\npre_hook /3\npre_hook /4\npre_hook /5\npre_hook /6\n"
		  "pre_hook /7\npre_hook /8\npre_hook /9\n", "kdump.conf:9: pre_hook '/9': at most 8" },
		{ "codec zstd\0trailing\n", "NUL byte" },
	};
	for (size_t i = 0; i < CK_ARRAY_SIZE(bad); i++) {
		char *p = tpath("kdump.conf");
		FILE *f = fopen(p, "w");
		size_t len = strlen(bad[i].text);
		if (i == CK_ARRAY_SIZE(bad) - 1)
			len = sizeof("codec zstd\0trailing\n") - 1;
		if (f) {
			fwrite(bad[i].text, 1, len, f);
			fclose(f);
		}
		ck_kdump_conf_init(&c);
		EXPECT(is_error(ck_kdump_conf_load(&c, p, false), CK_ERR_INVALID, bad[i].needle),
		       "case %zu", i);
		ck_kdump_conf_deinit(&c);
	}
	enum ck_kdump_action a;
	EXPECT(ck_kdump_action_parse("dmesg-only", &a) && a == CK_KDUMP_ACTION_DMESG_ONLY);
	EXPECT(!ck_kdump_action_parse("Reboot", &a));
	EXPECT(!strcmp(ck_kdump_action_name(CK_KDUMP_ACTION_POWEROFF), "poweroff"));
}

static char *panic_of(const char *log, size_t *lines)
{
	struct ck_strbuf sb = CK_STRBUF_INIT;
	EXPECT(no_error(ck_save_panic(log, strlen(log), &sb, lines)));
	return ck_strbuf_detach(&sb, NULL);
}

static void test_panic(void)
{
	size_t n;
	char *p = panic_of("", &n);
	EXPECT(p && !*p && n == 0);
	free(p);
	/* a running machine's log: "NMI watchdog: ..." is no incident */
	p = panic_of("[ 0.3] NMI watchdog: Perf NMI watchdog permanently disabled\n[ 2.0] world", &n);
	EXPECT(p && !*p && n == 0);
	free(p);

	/* an Oops that panics later: from the BUG line on, past "end trace",
	 * an unrelated WARNING long before is left out */
	struct ck_strbuf log = CK_STRBUF_INIT;
	ck_strbuf_adds(&log, "[ 0.1] WARNING: CPU: 0 PID: 1 at old.c:1 old\n");
	for (int i = 0; i < 150; i++)
		ck_strbuf_addf(&log, "[ 0.%d] noise %d\n", i + 2, i);
	ck_strbuf_adds(&log, "[ 5.0] BUG: kernel NULL pointer dereference, address: 0\n"
			     "[ 5.0] #PF: supervisor write access in kernel mode\n"
			     "[ 5.0] Oops: 0002 [#1] PREEMPT SMP NOPTI\n"
			     "[ 5.0] Call Trace:\n"
			     "[ 5.0]  <TASK>\n"
			     "[ 5.0]  ck_crash_null+0x10/0x20 [ck_crash]\n"
			     "[ 5.0] ---[ end trace 0000000000000000 ]---\n"
			     "[ 5.1] Kernel panic - not syncing: Fatal exception\n"
			     "[ 5.1] Kernel Offset: 0x1000000\n"
			     "[ 5.1] ---[ end Kernel panic - not syncing: Fatal exception ]---\n"
			     "[ 5.2] after the end\n");
	p = panic_of(log.buf, &n);
	EXPECT(p && !strncmp(p, "[ 5.0] BUG: kernel NULL", 23), "%.60s", p ? p : "(null)");
	EXPECT(p && strstr(p, "ck_crash_null") && strstr(p, "---[ end Kernel panic") &&
	       !strstr(p, "after the end") && !strstr(p, "old.c"), "%s", p ? p : "(null)");
	EXPECT(n == 10, "%zu lines", n);
	free(p);

	/* no panic line: the last BUG and what follows, without a final newline */
	ck_strbuf_reset(&log);
	ck_strbuf_adds(&log, "[1] a\n[2] BUG: soft lockup - CPU#0 stuck for 22s!\n[3] RIP: x");
	p = panic_of(log.buf, &n);
	EXPECT(p && !strcmp(p, "[2] BUG: soft lockup - CPU#0 stuck for 22s!\n[3] RIP: x\n"), "%s",
	       p ? p : "(null)");
	free(p);

	/* a long run after the panic stops at 400 lines */
	ck_strbuf_reset(&log);
	ck_strbuf_adds(&log, "Kernel panic - not syncing: x\n");
	for (int i = 0; i < 1000; i++)
		ck_strbuf_adds(&log, "more\n");
	p = panic_of(log.buf, &n);
	EXPECT(n == 400, "%zu", n);
	free(p);
	ck_strbuf_deinit(&log);
}

static void test_stamps_keep_list(void)
{
	EXPECT(ck_save_is_stamp("20261203-071500"));
	EXPECT(ck_save_is_stamp("20261203-071500-2") && ck_save_is_stamp("20261203-071500-99"));
	EXPECT(!ck_save_is_stamp("20261203-071500-100") && !ck_save_is_stamp("20261203-071500-"));
	EXPECT(!ck_save_is_stamp("2026120-0715000") && !ck_save_is_stamp("x20261203-071500"));
	EXPECT(!ck_save_is_stamp("20261203-071500.tar.zst") && !ck_save_is_stamp(""));

	char *base = tpath("target");
	mkdir(base, 0755);
	static const char *const dirs[] = { "20261201-000000", "20261201-000000-2",
					    "20261201-000000-10", "20261202-000000", "lost+found" };
	for (size_t i = 0; i < CK_ARRAY_SIZE(dirs); i++) {
		char *d = ck_strdup_printf("%s/%s", base, dirs[i]);
		mkdir(d, 0755);
		char *f = ck_strdup_printf("%s/vmcore", d);
		write_file(f, "x");
		free(f);
		free(d);
	}
	char *info = ck_strdup_printf("%s/20261202-000000/info.json", base);
	write_file(info, "{\"complete\": false, \"crash_time\": 1796169600, "
			 "\"kernel\": {\"release\": \"6.1.0-57-amd64\"}}");
	free(info);
	struct ck_kdump_saved *s = NULL;
	size_t nr = 0;
	EXPECT(no_error(ck_kdump_list(base, &s, &nr)));
	EXPECT(nr == 4, "%zu", nr);
	if (nr == 4) {
		EXPECT(!strcmp(s[1].stamp, "20261201-000000-2") && !strcmp(s[2].stamp, "20261201-000000-10"));
		EXPECT(s[0].complete && s[0].bytes == 1 && !*s[0].release);
		EXPECT(!s[3].complete && s[3].crash_time == 1796169600 &&
		       !strcmp(s[3].release, "6.1.0-57-amd64"));
	}
	ck_kdump_saved_free(s, nr);

	unsigned int removed;
	EXPECT(no_error(ck_save_keep(base, 2, "20261201-000000", &removed)));
	EXPECT(removed == 2, "%u", removed);
	EXPECT(no_error(ck_kdump_list(base, &s, &nr)));
	EXPECT(nr == 2 && !strcmp(s[0].stamp, "20261201-000000") &&
	       !strcmp(s[1].stamp, "20261202-000000"));
	ck_kdump_saved_free(s, nr);
	char *lf = ck_strdup_printf("%s/lost+found", base);
	struct stat st;
	EXPECT(stat(lf, &st) == 0, "keep leaves other directories");
	free(lf);
	EXPECT(is_error(ck_kdump_list(tpath("absent"), &s, &nr), CK_ERR_OS, "absent"));
}

static void test_archive(void)
{
	char *dir = tpath("arc");
	mkdir(dir, 0755);
	char *f = ck_strdup_printf("%s/dmesg.txt", dir);
	write_file(f, "hello\n");
	free(f);
	char *name = NULL;
	uint64_t bytes = 0;
	EXPECT(no_error(ck_save_archive(dir, "20261203-071500", CK_KDUMP_ARCHIVE_TAR_GZ, &name, &bytes)));
	EXPECT(name && !strcmp(name, "20261203-071500.tar.gz"), "%s", name ? name : "(null)");
	char *cmd = ck_strdup_printf("tar -tzf %s/%s 2>&1", dir, name ? name : "x");
	FILE *p = popen(cmd, "r");
	char line[256] = "";
	if (p) {
		if (!fgets(line, sizeof(line), p))
			line[0] = '\0';
		pclose(p);
	}
	EXPECT(!strcmp(line, "20261203-071500/dmesg.txt\n"), "%s", line);
	free(cmd);
	free(name);
}

int main(void)
{
	int r = harness_begin("kdump_save");
	if (r)
		return r;
	run("kdump.conf: keys, targets, FILE:LINE errors, shell form", test_conf);
	run("save: the panic block cut from the log", test_panic);
	run("save: stamps, kdump list, keep N", test_stamps_keep_list);
	run("save: the tar archive", test_archive);
	return harness_end();
}
