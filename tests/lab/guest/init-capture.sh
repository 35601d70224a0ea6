#!/bin/sh
# shellcheck shell=dash disable=SC1091  # busybox ash; /lab/* exist in the guest only
# /init of the kdump capture kernel: save /proc/vmcore (in several formats
# when GUEST_MAKEDUMPFILE=1) to the virtio disk, run the optional hook,
# power off.
. /lab/common.sh
mount_basics
load_modules blk

# virtio_blk probes asynchronously; wait for the disk node.
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if ! mount -t ext4 /dev/vda /out; then
	say "ERROR cannot mount /dev/vda on /out"
	halt_guest
fi

log=/out/capture.log
echo "capture kernel $(uname -r), cmdline: $(cat /proc/cmdline)" > "$log"

# step NAME CMD...: run CMD with its stderr (and stdout, unless CMD
# redirects it) appended to capture.log; record the exit code and time
# on a line lab.sh checks.
step() {
	local name=$1 t0 rc
	shift
	echo "== $name: $*" >> "$log"
	t0=$(now)
	"$@" >> "$log" 2>&1 && rc=0 || rc=$?
	echo "@@STEP $name rc=$rc start=$t0 end=$(now)" >> "$log"
	say "STEP $name rc=$rc"
}

# makedumpfile's --message-level: 2 common + 4 error + 16 report (page
# statistics); no progress bar (1), whose \r lines flood a log.
mdf() { makedumpfile --message-level 22 "$@"; }

# A crash-kind run (lab.sh --crash) keeps vmcore.kdump-zlib only: made
# here where makedumpfile can (6.1), else by lab.sh from vmcore.elf.
if [ "${CAPTURE_ZLIB_ONLY:-0}" = 1 ]; then
	if [ "$GUEST_MAKEDUMPFILE" = 1 ]; then
		step vmcore.kdump-zlib mdf -c -d 31 /proc/vmcore /out/vmcore.kdump-zlib
	else
		step vmcore.elf cp /proc/vmcore /out/vmcore.elf
	fi
else
step vmcore.elf cp /proc/vmcore /out/vmcore.elf
fi
# Only where Debian 12's makedumpfile reads the kernel right (6.1); for
# newer kernels lab.sh makes the same files from vmcore.elf on the host.
if [ "$GUEST_MAKEDUMPFILE" = 1 ] && [ "${CAPTURE_ZLIB_ONLY:-0}" != 1 ]; then
	step vmcore.kdump-zlib mdf -c -d 31 /proc/vmcore /out/vmcore.kdump-zlib
	step vmcore.kdump-lzo mdf -l -d 31 /proc/vmcore /out/vmcore.kdump-lzo
	# -F writes the flattened format to stdout, as Debian's kdump-tools does.
	flat() { mdf -F -c -d 31 /proc/vmcore > /out/vmcore.flat; }
	step vmcore.flat flat
	step dmesg.makedumpfile.txt mdf --dump-dmesg /proc/vmcore /out/dmesg.makedumpfile.txt
fi

if [ -x /lab-hook-capture ]; then
	step lab-hook-capture env OUT=/out /lab-hook-capture
fi

sync
umount /out
say "CAPTURE DONE"
halt_guest
