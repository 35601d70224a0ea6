/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The capture kernel's init, library half (docs/kdump.md, "init"):
 * crashkit runs as PID 1 of the initramfs `crashkit kdump initramfs`
 * builds.  It mounts what a process needs, loads the modules the builder
 * listed, finds the filesystem that holds the dump directory by its
 * superblock (no udev, no blkid: the UUID is read from the superblock
 * here) and mounts it where the crashed system had it.  The sequence and
 * the messages are tools/cmd_init.c's.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "capture/capture.h"

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4	/* Linux 5.17, include/uapi/linux/module.h */
#endif

static void uuid_text(const uint8_t *u, char out[40])
{
	snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}

static void label_text(const uint8_t *l, size_t max, char *out, size_t out_size)
{
	size_t n = 0;
	while (n < max && n + 1 < out_size && l[n])
		n++;
	memcpy(out, l, n);
	out[n] = '\0';
}

/* Superblock places (Documentation/filesystems/ext4/super.rst, xfs_format.h
 * struct xfs_sb, btrfs's struct btrfs_super_block at 64 KiB). */
struct ck_error *ck_fs_probe(const char *dev, struct ck_fs_id *ret)
{
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ck_error_create_errno(errno, "'%s'", dev);
	uint8_t sb[4096];
	struct ck_fs_id id = { 0 };
	struct ck_error *err = NULL;
	err = ck_pread_all(fd, sb, 2048, 0, dev);
	if (err) {
		/* shorter than 2 KiB, or unreadable: no filesystem of ours */
	} else if (sb[1024 + 0x38] == 0x53 && sb[1024 + 0x39] == 0xef) {
		snprintf(id.type, sizeof(id.type), "ext4");
		uuid_text(sb + 1024 + 0x68, id.uuid);
		label_text(sb + 1024 + 0x78, 16, id.label, sizeof(id.label));
	} else if (!memcmp(sb, "XFSB", 4)) {
		snprintf(id.type, sizeof(id.type), "xfs");
		uuid_text(sb + 32, id.uuid);
		label_text(sb + 108, 12, id.label, sizeof(id.label));
	} else if (!(err = ck_pread_all(fd, sb, 4096, 0x10000, dev)) && !memcmp(sb + 0x40, "_BHRfS_M", 8)) {
		snprintf(id.type, sizeof(id.type), "btrfs");
		uuid_text(sb + 0x20, id.uuid);
		label_text(sb + 0x12b, 256, id.label, sizeof(id.label));
	} else {
		ck_error_destroy(err);
		err = ck_error_create(CK_ERR_NOT_FORMAT, "'%s': no ext4, xfs or btrfs superblock", dev);
	}
	close(fd);
	if (!err)
		*ret = id;
	return err;
}

void ck_boot_target_deinit(struct ck_boot_target *t)
{
	free(t->path);
	free(t->mountpoint);
	free(t->fstype);
	free(t->uuid);
	free(t->label);
	free(t->device);
	memset(t, 0, sizeof(*t));
}

static char **target_field(struct ck_boot_target *t, const char *key, size_t len)
{
	static const char *const keys[] = { "path", "mountpoint", "fstype", "uuid", "label", "device" };
	char **fields[] = { &t->path, &t->mountpoint, &t->fstype, &t->uuid, &t->label, &t->device };
	for (size_t i = 0; i < CK_ARRAY_SIZE(keys); i++)
		if (strlen(keys[i]) == len && !memcmp(keys[i], key, len))
			return fields[i];
	return NULL;
}

struct ck_error *ck_boot_target_parse(const char *text, struct ck_boot_target *ret)
{
	struct ck_boot_target t = { 0 };
	for (const char *p = text; *p;) {
		size_t l = strcspn(p, "\n");
		const char *eq = memchr(p, '=', l);
		char **f = eq && p[0] != '#' ? target_field(&t, p, (size_t)(eq - p)) : NULL;
		if (f) {
			free(*f);
			*f = strndup(eq + 1, l - (size_t)(eq - p) - 1);
			if (!*f) {
				ck_boot_target_deinit(&t);
				return &ck_error_nomem;
			}
		}
		p += l + (p[l] == '\n');
	}
	char **all[] = { &t.path, &t.mountpoint, &t.fstype, &t.uuid, &t.label, &t.device };
	for (size_t i = 0; i < CK_ARRAY_SIZE(all); i++)
		if (!*all[i] && !(*all[i] = strdup(""))) {
			ck_boot_target_deinit(&t);
			return &ck_error_nomem;
		}
	if (t.path[0] != '/' || t.mountpoint[0] != '/' || !t.fstype[0]) {
		ck_boot_target_deinit(&t);
		return ck_error_create(CK_ERR_FORMAT, "target: path, mountpoint and fstype are needed");
	}
	*ret = t;
	return NULL;
}

char *ck_boot_target_format(const struct ck_boot_target *t)
{
	return ck_strdup_printf("path=%s\nmountpoint=%s\nfstype=%s\nuuid=%s\nlabel=%s\ndevice=%s\n",
				t->path, t->mountpoint, t->fstype, t->uuid ? t->uuid : "",
				t->label ? t->label : "", t->device ? t->device : "");
}

static struct ck_error *mkdir_p(const char *path)
{
	char buf[4096];
	if (strlen(path) >= sizeof(buf))
		return ck_error_create(CK_ERR_INVALID, "'%s': path too long", path);
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return ck_error_create_errno(errno, "mkdir '%s'", buf);
		if (!c)
			return NULL;
		*p = c;
	}
}

static struct ck_error *mount_one(const char *src, const char *dir, const char *type,
				  unsigned long flags, const char *data)
{
	struct ck_error *err = mkdir_p(dir);
	if (err)
		return err;
	if (mount(src, dir, type, flags, data) && errno != EBUSY)
		return ck_error_create_errno(errno, "mount %s on %s (%s)", src, dir, type ? type : "bind");
	return NULL;
}

struct ck_error *ck_boot_mount_basics(void)
{
	/* Debian's kernels leave CONFIG_DEVTMPFS_MOUNT off: /dev is ours. */
	struct ck_error *err = mount_one("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	if (!err)
		err = mount_one("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	if (!err)
		err = mount_one("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	if (!err)
		err = mount_one("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	if (!err)
		err = mount_one("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	return err;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

struct ck_error *ck_boot_load_modules(const char *file, ck_boot_note_fn *note, void *arg,
				      unsigned int *loaded)
{
	char *text = NULL;
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ck_error_create_errno(errno, "'%s'", file);
	char buf[65536];
	size_t got;
	struct ck_error *err = ck_read_all(fd, buf, sizeof(buf) - 1, &got, file);
	close(fd);
	if (err)
		return err;
	buf[got] = '\0';
	*loaded = 0;
	for (char *line = buf, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		int mfd = open(line, O_RDONLY | O_CLOEXEC);
		int flags = ends_with(line, ".xz") || ends_with(line, ".zst") || ends_with(line, ".gz")
			? MODULE_INIT_COMPRESSED_FILE : 0;
		long r = mfd < 0 ? -1 : syscall(SYS_finit_module, mfd, "", flags);
		int e = errno;
		if (mfd >= 0)
			close(mfd);
		if (r == 0) {
			(*loaded)++;
		} else if (e != EEXIST && note) {
			char msg[512];
			snprintf(msg, sizeof(msg), "module %.400s: %s", line, strerror(e));
			note(arg, msg);
		}
	}
	free(text);
	return NULL;
}

static bool device_matches(const struct ck_boot_target *t, const char *dev)
{
	struct ck_fs_id id;
	struct ck_error *err = ck_fs_probe(dev, &id);
	if (err) {
		ck_error_destroy(err);
		return false;
	}
	if (t->uuid[0])
		return !strcasecmp(id.uuid, t->uuid);
	if (t->label[0])
		return !strcmp(id.label, t->label);
	return !strcmp(dev, t->device);
}

static char *scan_block(const struct ck_boot_target *t)
{
	DIR *d = opendir("/sys/class/block");
	if (!d)
		return NULL;
	char *found = NULL;
	struct dirent *e;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char dev[300];
		snprintf(dev, sizeof(dev), "/dev/%s", e->d_name);
		if (device_matches(t, dev))
			found = strdup(dev);
	}
	closedir(d);
	return found;
}

struct ck_error *ck_boot_find_device(const struct ck_boot_target *t, unsigned int timeout_ms,
				     char **dev_ret)
{
	for (unsigned int waited = 0;; waited += 100) {
		char *dev = scan_block(t);
		if (dev) {
			*dev_ret = dev;
			return NULL;
		}
		if (waited >= timeout_ms)
			break;
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (t->uuid[0])
		return ck_error_create(CK_ERR_NOT_FOUND, "no block device with UUID %s (%s) after %u ms",
				       t->uuid, t->fstype, timeout_ms);
	if (t->label[0])
		return ck_error_create(CK_ERR_NOT_FOUND, "no block device labelled %s after %u ms",
				       t->label, timeout_ms);
	return ck_error_create(CK_ERR_NOT_FOUND, "no block device %s after %u ms", t->device,
			       timeout_ms);
}

struct ck_error *ck_boot_mount_target(const struct ck_boot_target *t, const char *dev)
{
	bool root = !strcmp(t->mountpoint, "/");
	const char *at = root ? "/sysroot" : t->mountpoint;
	struct ck_error *err = mount_one(dev, at, t->fstype, 0, NULL);
	if (err || !root)
		return err;
	/* The crashed system's root: its dump directory bound where
	 * kdump.conf names it. */
	char src[4096];
	snprintf(src, sizeof(src), "/sysroot%s", t->path);
	err = mkdir_p(src);
	if (!err)
		err = mount_one(src, t->path, NULL, MS_BIND, NULL);
	return err;
}

static uint64_t meminfo_field(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

struct ck_error *ck_meminfo_read(struct ck_meminfo *ret)
{
	int fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ck_error_create_errno(errno, "'/proc/meminfo'");
	char buf[8192];
	size_t got;
	struct ck_error *err = ck_read_all(fd, buf, sizeof(buf) - 1, &got, "/proc/meminfo");
	close(fd);
	if (err)
		return err;
	buf[got] = '\0';
	ret->total_kb = meminfo_field(buf, "MemTotal:");
	ret->free_kb = meminfo_field(buf, "MemFree:");
	ret->available_kb = meminfo_field(buf, "MemAvailable:");
	return NULL;
}

/* The interface whose MAC is mac, once its driver has registered it. */
static bool iface_of_mac(const char *mac, char name[IF_NAMESIZE])
{
	DIR *d = opendir("/sys/class/net");
	struct dirent *e;
	bool found = false;
	while (d && !found && (e = readdir(d))) {
		char path[300], buf[64] = "";
		snprintf(path, sizeof(path), "/sys/class/net/%s/address", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (n > 0 && !strncasecmp(buf, mac, strlen(mac)) && strlen(e->d_name) < IF_NAMESIZE) {
			memcpy(name, e->d_name, strlen(e->d_name) + 1);
			found = true;
		}
	}
	if (d)
		closedir(d);
	return found;
}

static bool set_addr(int fd, const char *ifname, unsigned long req, const char *a)
{
	struct ifreq ifr = { 0 };
	memcpy(ifr.ifr_name, ifname, strnlen(ifname, IF_NAMESIZE - 1));
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	return inet_pton(AF_INET, a, &sin->sin_addr) == 1 && !ioctl(fd, req, &ifr);
}

static bool set_up(int fd, const char *ifname)
{
	struct ifreq ifr = { 0 };
	memcpy(ifr.ifr_name, ifname, strnlen(ifname, IF_NAMESIZE - 1));
	if (ioctl(fd, SIOCGIFFLAGS, &ifr))
		return false;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	return !ioctl(fd, SIOCSIFFLAGS, &ifr);
}

struct ck_error *ck_boot_net_up(const char *text, unsigned int timeout_ms, char **ifname_ret)
{
	char *mac = ck_kv_line_value(text, "mac"), *addr = ck_kv_line_value(text, "address");
	char *mask = ck_kv_line_value(text, "netmask"), *gw = ck_kv_line_value(text, "gateway");
	char ifname[IF_NAMESIZE] = "";
	struct ck_error *err = NULL;
	if (!mac || !addr || !mask || !gw)
		err = ck_error_create(CK_ERR_FORMAT, "network: mac, address, netmask and gateway are needed");
	for (unsigned int w = 0; !err && !iface_of_mac(mac, ifname); w += 100) {
		if (w >= timeout_ms) {
			err = ck_error_create(CK_ERR_NOT_FOUND, "no network interface with MAC %s after %u ms",
					      mac, timeout_ms);
			break;
		}
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	int fd = err ? -1 : socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (!err && fd < 0)
		err = ck_error_create_errno(errno, "socket");
	if (!err) {
		set_up(fd, "lo");
		if (!set_addr(fd, ifname, SIOCSIFADDR, addr) || !set_addr(fd, ifname, SIOCSIFNETMASK, mask) ||
		    !set_up(fd, ifname))
			err = ck_error_create_errno(errno, "%s: address %s/%s", ifname, addr, mask);
	}
	if (!err && strcmp(gw, "0.0.0.0")) {
		struct rtentry rt = { 0 };
		struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst;
		struct sockaddr_in *gwa = (struct sockaddr_in *)&rt.rt_gateway;
		struct sockaddr_in *msk = (struct sockaddr_in *)&rt.rt_genmask;
		dst->sin_family = gwa->sin_family = msk->sin_family = AF_INET;
		inet_pton(AF_INET, gw, &gwa->sin_addr);
		rt.rt_flags = RTF_UP | RTF_GATEWAY;
		if (ioctl(fd, SIOCADDRT, &rt) && errno != EEXIST)
			err = ck_error_create_errno(errno, "%s: default route via %s", ifname, gw);
	}
	if (fd >= 0)
		close(fd);
	if (!err)
		*ifname_ret = strdup(ifname);
	free(mac);
	free(addr);
	free(mask);
	free(gw);
	return err;
}
