# shellcheck shell=dash disable=SC1091  # busybox ash; /lab/* exist in the guest only
# Shared by both guest inits (busybox sh).  lab.sh writes /lab/lab.conf
# and /lab/mods/*.list when it builds the initramfs.
. /lab/lab.conf

# Lines starting with @@LAB on the serial console are read by lab.sh;
# everything else there is only for humans.
say() { echo "@@LAB $*"; }

mount_basics() {
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	# CONFIG_DEVTMPFS_MOUNT is off in Debian's kernel, so mount it here.
	mount -t devtmpfs devtmpfs /dev
}

# Load one module group in the order modprobe --show-depends gave on the
# host.  A failure is reported and skipped: e.g. crc32c-intel is only a
# soft dependency of ext4 and cannot load on QEMU's default CPU.
load_modules() {
	local ko
	while read -r ko; do
		insmod "/lib/modules/lab/$ko.ko" || say "WARN insmod $ko failed"
	done < "/lab/mods/$1.list"
}

# Seconds since boot, for the step timings in the logs.
now() { cut -d' ' -f1 /proc/uptime; }

# Never let init return: that would panic the kernel with a misleading
# message.  poweroff -f ends QEMU (it runs with -no-reboot).
halt_guest() {
	sync
	poweroff -f
	sleep 60
}
