/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the capture kernel needs to reach kdump.conf's target, found on the
 * running system when the initramfs is built (docs/kdump.md, "initramfs"):
 * the filesystem that holds a local dump directory (its mount in
 * /proc/self/mountinfo, the device's superblock UUID), and the kernel
 * modules of the device's drivers (each ancestor's driver/module in sysfs,
 * as the device sits on its bus) and of the filesystem.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/base.h"
#include "kdump/kdump.h"

/* mountinfo's octal escapes (\040 for a space) decoded in place. */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] && r[3]) {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

/* Is mnt the mount point of path, or one of its ancestors? */
static bool under(const char *path, const char *mnt)
{
	size_t l = strlen(mnt);
	if (!strcmp(mnt, "/"))
		return true;
	return !strncmp(path, mnt, l) && (path[l] == '/' || !path[l]);
}

/* The innermost mount holding path: its point, type, source, dev_t. */
static struct ck_error *find_mount(const char *path, char **mnt_ret, char **type_ret,
				   char **src_ret, dev_t *dev_ret)
{
	char *text;
	struct ck_error *err = ck_kdump_read_text("/proc/self/mountinfo", 16 << 20, &text, NULL);
	if (err)
		return err;
	size_t best = 0;
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		unsigned int maj, min;
		char mnt[4096], type[64], src[4096];
		const char *dash = strstr(line, " - ");
		if (!dash || sscanf(line, "%*u %*u %u:%u %*s %4095s", &maj, &min, mnt) != 3 ||
		    sscanf(dash + 3, "%63s %4095s", type, src) != 2)
			continue;
		unescape(mnt);
		unescape(src);
		/* Later lines of the same point are mounts on top: >= keeps the last. */
		if (!under(path, mnt) || strlen(mnt) < best)
			continue;
		best = strlen(mnt);
		free(*mnt_ret);
		free(*type_ret);
		free(*src_ret);
		*mnt_ret = strdup(mnt);
		*type_ret = strdup(type);
		*src_ret = strdup(src);
		*dev_ret = makedev(maj, min);
	}
	free(text);
	if (!*mnt_ret)
		return ck_error_create(CK_ERR_NOT_FOUND, "no mount holds '%s'", path);
	return NULL;
}

/* The deepest existing ancestor of path, resolved (the save makes the rest). */
static char *existing_real(const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	for (;;) {
		char *r = realpath(buf, NULL);
		if (r || !strcmp(buf, "/") || !buf[0])
			return r;
		char *slash = strrchr(buf, '/');
		if (!slash)
			return NULL;
		if (slash == buf)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
}

/* Each driver module on the way from a sysfs device up to the root of its
 * bus: /sys/dev/block/M:m -> .../0000:00:04.0/virtio1/block/vda gives
 * virtio_blk (virtio1/driver/module) and virtio_pci (0000:00:04.0's). */
static void device_modules(const char *sysdev, struct ck_strlist *mods)
{
	char *real = realpath(sysdev, NULL);
	for (int depth = 0; real && depth < 32 && strncmp(real, "/sys/devices", 12) == 0; depth++) {
		char link[PATH_MAX + 32], target[PATH_MAX];
		snprintf(link, sizeof(link), "%s/driver/module", real);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			const char *b = strrchr(target, '/');
			ck_strlist_add_unique(mods, b ? b + 1 : target);
		}
		char *slash = strrchr(real, '/');
		if (!slash || slash == real)
			break;
		*slash = '\0';
	}
	free(real);
}

static bool fs_ok(const char *type)
{
	static const char *const ok[] = { "ext2", "ext3", "ext4", "xfs", "btrfs" };
	for (size_t i = 0; i < CK_ARRAY_SIZE(ok); i++)
		if (!strcmp(type, ok[i]))
			return true;
	return false;
}

/* /dev/NAME of a block device number, from sysfs's uevent. */
static char *dev_name(dev_t dev)
{
	char path[64], *text;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/uevent", major(dev), minor(dev));
	if (!(text = ck_kdump_read_quiet(path, 1 << 16)))
		return NULL;
	char *p = strstr(text, "DEVNAME="), *name = NULL;
	if (p)
		name = ck_strdup_printf("/dev/%.*s", (int)strcspn(p + 8, "\n"), p + 8);
	free(text);
	return name;
}

struct ck_error *ck_kdump_local_target(const char *dir, struct ck_boot_target *t,
				       struct ck_strlist *mods)
{
	char *real = existing_real(dir), *mnt = NULL, *type = NULL, *src = NULL;
	dev_t dev = 0;
	if (!real)
		return ck_error_create_errno(errno, "target '%s'", dir);
	struct ck_error *err = find_mount(real, &mnt, &type, &src, &dev);
	if (!err && !fs_ok(type))
		err = ck_error_create(CK_ERR_UNSUPPORTED, "target '%s' is on %s (%s at %s), which the "
				      "capture kernel cannot mount: put it on an ext4, xfs or btrfs "
				      "disk, or name another target in kdump.conf", dir, type, src, mnt);
	char *devpath = err ? NULL : dev_name(dev);
	struct ck_fs_id id = { 0 };
	/* Unreadable here (no permission, a container): found by name then. */
	if (!err && devpath)
		ck_error_destroy(ck_fs_probe(devpath, &id));
	if (!err && !id.uuid[0] && !devpath)
		err = ck_error_create(CK_ERR_NOT_FOUND, "target '%s': no device for %u:%u", dir,
				      major(dev), minor(dev));
	if (!err) {
		/* The dump directory as the capture kernel will see it: the
		 * filesystem mounted where it is now, so the path stays. */
		t->path = strdup(dir);
		t->mountpoint = strdup(mnt);
		t->fstype = strdup(id.type[0] ? id.type : type);
		t->uuid = strdup(id.uuid);
		t->label = strdup(id.label);
		t->device = strdup(devpath ? devpath : src);
		char sys[64];
		snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u", major(dev), minor(dev));
		device_modules(sys, mods);
		ck_strlist_add_unique(mods, t->fstype);
		if (!t->path || !t->mountpoint || !t->fstype || !t->uuid || !t->label || !t->device)
			err = &ck_error_nomem;
	}
	free(devpath);
	free(real);
	free(mnt);
	free(type);
	free(src);
	return err;
}

struct ck_error *ck_kdump_device_target(const struct ck_kdump_conf *conf, struct ck_boot_target *t,
					struct ck_strlist *mods)
{
	bool by_uuid = !strncmp(conf->device, "UUID=", 5);
	const char *want = conf->device + (by_uuid ? 5 : !strncmp(conf->device, "LABEL=", 6) ? 6 : 0);
	DIR *d = opendir("/sys/class/block");
	struct dirent *e;
	char *found = NULL;
	struct ck_fs_id id = { 0 };
	while (d && !found && (e = readdir(d))) {
		char dev[300];
		snprintf(dev, sizeof(dev), "/dev/%s", e->d_name);
		struct ck_error *err = e->d_name[0] == '.' ? NULL : ck_fs_probe(dev, &id);
		if (e->d_name[0] != '.' && !err &&
		    (by_uuid ? !strcasecmp(id.uuid, want) : !strcmp(id.label, want)))
			found = strdup(dev);
		ck_error_destroy(err);
	}
	if (d)
		closedir(d);
	t->path = ck_kdump_conf_local_dir(conf);
	t->mountpoint = strdup(conf->mount_point);
	t->fstype = strdup(conf->fstype[0] ? conf->fstype : found ? id.type : "ext4");
	t->uuid = strdup(by_uuid ? want : "");
	t->label = strdup(by_uuid ? "" : want);
	t->device = strdup(found ? found : "");
	if (found) {
		struct stat st;
		if (!stat(found, &st)) {
			char sys[64];
			snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u", major(st.st_rdev),
				 minor(st.st_rdev));
			device_modules(sys, mods);
		}
	}
	free(found);
	if (!t->path || !t->mountpoint || !t->fstype || !t->uuid || !t->label || !t->device)
		return &ck_error_nomem;
	ck_strlist_add_unique(mods, t->fstype);
	return NULL;
}

struct ck_error *ck_kdump_net_modules(struct ck_strlist *mods)
{
	DIR *d = opendir("/sys/class/net");
	if (!d)
		return ck_error_create_errno(errno, "'/sys/class/net'");
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char sys[300];
		snprintf(sys, sizeof(sys), "/sys/class/net/%s/device", e->d_name);
		device_modules(sys, mods);
	}
	closedir(d);
	return NULL;
}

/* The interface of the default route (/proc/net/route: destination 0),
 * its IPv4 address, netmask and MAC, and the gateway: the capture init
 * sets the same up on the interface with that MAC ("key=value" lines,
 * /etc/crashkit/network). */
struct ck_error *ck_kdump_net_config(char **ret)
{
	char *text;
	struct ck_error *err = ck_kdump_read_text("/proc/net/route", 1 << 20, &text, NULL);
	if (err)
		return err;
	char ifname[IF_NAMESIZE] = "";
	unsigned int gw = 0;
	for (char *line = strchr(text, '\n'); line && *line; line = strchr(line, '\n')) {
		line++;
		char name[64];
		unsigned int d, g;
		if (sscanf(line, "%63s %x %x", name, &d, &g) == 3 && d == 0 && !ifname[0] &&
		    strlen(name) < IF_NAMESIZE) {
			memcpy(ifname, name, strlen(name) + 1);
			gw = g;
		}
	}
	free(text);
	if (!ifname[0])
		return ck_error_create(CK_ERR_NOT_FOUND, "no default route (/proc/net/route): the "
				       "capture kernel would not reach a network target");
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { 0 };
	memcpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name));
	struct in_addr addr = { 0 }, mask = { 0 };
	if (fd >= 0 && !ioctl(fd, SIOCGIFADDR, &ifr))
		addr = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr;
	if (fd >= 0 && !ioctl(fd, SIOCGIFNETMASK, &ifr))
		mask = ((struct sockaddr_in *)&ifr.ifr_netmask)->sin_addr;
	if (fd >= 0)
		close(fd);
	char path[64 + IF_NAMESIZE], *mac = NULL;
	snprintf(path, sizeof(path), "/sys/class/net/%s/address", ifname);
	mac = ck_kdump_read_quiet(path, 64);
	if (!addr.s_addr || !mac) {
		free(mac);
		return ck_error_create(CK_ERR_NOT_FOUND, "interface %s has no IPv4 address or MAC", ifname);
	}
	mac[strcspn(mac, "\n")] = '\0';
	char a[INET_ADDRSTRLEN], m[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];
	struct in_addr gwa = { .s_addr = gw };
	inet_ntop(AF_INET, &addr, a, sizeof(a));
	inet_ntop(AF_INET, &mask, m, sizeof(m));
	inet_ntop(AF_INET, &gwa, g, sizeof(g));
	*ret = ck_strdup_printf("interface=%s\nmac=%s\naddress=%s\nnetmask=%s\ngateway=%s\n", ifname,
				mac, a, m, g);
	free(mac);
	return *ret ? NULL : &ck_error_nomem;
}
