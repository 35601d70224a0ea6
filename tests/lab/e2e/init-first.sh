#!/bin/sh
# shellcheck shell=dash
# /init of the e2e lab's first kernel (tests/lab/kdump_e2e.sh): busybox
# here only.  Mounts the disk where kdump.conf's target lives, runs
# `crashkit kdump load`, then crashes with sysrq c, or (E2E_CRASH) through
# ck_crashmod.ko with panic_on_oops set.
say() { echo "@@E2E $*"; }
halt_guest() { sync; poweroff -f; sleep 60; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
. /e2e/e2e.conf
while read -r m; do
	insmod "/e2e/mods/$m.ko" 2> /dev/null || echo "insmod $m failed"
done < /e2e/mods.list
mount -t ext4 /dev/vda /var/core || { say "ERROR mount /dev/vda"; halt_guest; }
if [ "$E2E_TARGET" = full ]; then
	# Leave about 3 MiB: room for the triage files, not for the dump.
	dd if=/dev/zero of=/var/core/filler bs=1M 2> /dev/null
	size=$(stat -c %s /var/core/filler)
	truncate -s $((size - 3 * 1024 * 1024)) /var/core/filler
	sync
	say "DISK_FREE_KB=$(df -k /var/core | awk 'NR == 2 { print $4 }')"
fi
if [ "$E2E_TARGET" = http ] || [ "$E2E_TARGET" = ssh ]; then
	ip link set lo up
	for i in /sys/class/net/*; do
		n=${i##*/}
		[ "$n" = lo ] || { ip link set "$n" up; ip addr add 10.0.2.15/24 dev "$n"; }
	done
	ip route add default via 10.0.2.2
fi
marker="crashkit-e2e marker $(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "$marker" > /dev/kmsg
say "MARKER=$marker"
say "KERNEL_RELEASE=$(uname -r)"
say "MEMTOTAL_KB=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)"
say "CRASHKERNEL_SIZE=$(cat /sys/kernel/kexec_crash_size)"
t0=$(cut -d' ' -f1 /proc/uptime)
if ! crashkit kdump load; then
	say "ERROR crashkit kdump load failed"
	halt_guest
fi
t1=$(cut -d' ' -f1 /proc/uptime)
say "LOAD_S=$t0-$t1"
crashkit kdump status
say "KEXEC_CRASH_LOADED=$(cat /sys/kernel/kexec_crash_loaded)"
say "INITRAMFS_BYTES=$(stat -c %s /run/crashkit/initramfs-"$(uname -r)".img)"
sleep 1
if [ "$E2E_CRASH" != sysrq ]; then
	echo 1 > /proc/sys/kernel/panic_on_oops
	[ "$E2E_CRASH" != warn ] || echo 1 > /proc/sys/kernel/panic_on_warn
	insmod /e2e/ck_crashmod.ko || { say "ERROR insmod ck_crashmod failed"; halt_guest; }
	echo "$E2E_CRASH" > /proc/ck_crashmod
	say "ERROR still running after crash $E2E_CRASH"
	halt_guest
fi
echo c > /proc/sysrq-trigger
say "ERROR still running after sysrq c"
halt_guest
