#!/usr/bin/env bash
# One kdump attempt in a whole Debian 12 system under QEMU, with Debian's own
# stack (kdump-tools' kdump-config, its initramfs-tools-built kdump initrd,
# kexec-tools, makedumpfile) or with crashkit, in the very same disk image
# (docs/kdump.md, "Against Debian's kdump-tools"); bench/crashkernel.sh
# bisects the smallest crashkernel= with it.
#
#   tests/lab/kdumptools/run.sh [--kernel 6.1|6.12] --crashkernel SIZE
#                               [--stack kdump-tools|crashkit] [--bin DIR] [--unstripped]
#                               [--try N] [--force] [--judge]
#
# The image (built once, cached in $CACHE/kdumptools/<kver>/): the cached
# debootstrap tarball ($CACHE/chroot/bookworm-minbase.tar.gz, made by
# tests/cli/deb.sh, else debootstrap) with systemd-sysv, udev, kmod,
# initramfs-tools, the lab's Debian kernel package (linux-image-KVER-unsigned,
# bookworm-security) and kdump-tools, kexec-tools, makedumpfile from apt;
# USE_KDUMP=1; crashkit from --bin (default build/kt) installed by `make
# install DESTDIR=`; a root without password on ttyS0.  Which stack loads is
# chosen on the kernel command line (ckbench.stack=...): a drop-in gives
# kdump-tools.service and crashkit-kdump.service a ConditionKernelCommandLine,
# so the other one is skipped.  ck-bench-crash.service (After= both) waits for
# /sys/kernel/kexec_crash_loaded, prints `kdump-config status` or `crashkit
# kdump status`, and crashes with sysrq c.  QEMU: -accel tcg -m 1G -smp 2,
# the image's own /boot/vmlinuz and initrd.img, `root=/dev/vda rw
# console=ttyS0 crashkernel=SIZE panic=1`, -no-reboot.
#
# After the run the disk is read back with debugfs: the dump directory under
# /var/crash, checked with `crashkit info` and `crashkit dmesg` (the sysrq
# panic); the facts go to result.env (RESULT=complete|incomplete|
# not-loaded|no-dump|boot-failed, the reason from the serial log, the
# capture kernel's MemTotal).  Cached in
# $CACHE/kdumptools/<kver>/runs/<stack>-ck<SIZE>-<hash>/ (DONE when judged,
# whatever the result; --try N, N > 1, is another boot with the same inputs,
# cached beside the first, for sizes at the edge; --judge judges a finished run again without a boot).
# The last line on stdout is the run directory;
# exit 0 when the dump is complete, 1 when not, 2 usage.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../../.." && pwd)
cache=${CRASHKIT_CACHE:-${HOME:-/root}/.cache/crashkit}
series=${CK_KSERIES:-6.1}
crashkernel=
stack=kdump-tools
bin=$top/build/kt
force=0
judge=0
strip=1
try=1
mem=1G
qemu_timeout=${CK_KT_TIMEOUT:-480}
mirror=${CK_DEBIAN_MIRROR:-http://deb.debian.org/debian}

log() { echo "kdumptools: $*" >&2; }
die() { echo "kdumptools: error: $*" >&2; exit 1; }
usage() { sed -n 's/^#   //p' "${BASH_SOURCE[0]}" >&2; exit 2; }

while [ $# -gt 0 ]; do
	case $1 in
	--kernel) series=${2:?}; shift ;;
	--crashkernel) crashkernel=${2:?}; shift ;;
	--stack) stack=${2:?}; shift ;;
	--bin) bin=$(realpath "${2:?}"); shift ;;
	--force) force=1 ;;
	--judge) judge=1 ;;
	--unstripped) strip=0 ;;
	--try) try=${2:?}; shift ;;
	-h|--help) usage ;;
	*) echo "kdumptools: unknown argument: $1" >&2; usage ;;
	esac
	shift
done
[ -n "$crashkernel" ] || usage
case $stack in kdump-tools|crashkit) ;; *) usage ;; esac
case $series in
6.1) kver=6.1.0-57-amd64 ;;
6.12) kver=6.12.117+deb12-amd64 ;;
*) die "--kernel wants 6.1 or 6.12 (Debian 12 packages)" ;;
esac
[ "$(id -u)" = 0 ] || die "needs root (chroot, apt in it)"
for cmd in qemu-system-x86_64 mkfs.ext4 debugfs chroot timeout sha256sum; do
	command -v "$cmd" > /dev/null || die "$cmd not found"
done
[ -x "$bin/crashkit" ] && [ -x "$bin/crashkit-kdump" ] || die "no crashkit in $bin (make BUILD=kt)"

base=$cache/kdumptools/$kver
mkdir -p "$base"
# One guest at a time from these scripts (the host has two cores and other
# users): every QEMU here runs under `timeout`, which this wrapper runs under
# a lock shared by all kernels' runs and image builds.
timeout() { flock "$cache/kdumptools/.qemu.lock" timeout "$@"; }

# ---------------------------------------------------------------- the image

# Everything that goes into the tree; a change rebuilds it.
# (Not crashkit's binaries: a crashkit run writes the current ones into its
# copy of the disk, below, so a rebuilt crashkit needs no new image.)
image_key=$( {
	echo "$kver"
	sed -n '/^# ---- image begin/,/^# ---- image end/p' "${BASH_SOURCE[0]}"
} | sha256sum | cut -c1-12)
image=$base/image-$image_key.img

# ---- image begin
build_image() {
	local work tree tarball
	work=$(mktemp -d "$base/build.XXXXXX")
	tree=$work/root
	tarball=$cache/chroot/bookworm-minbase.tar.gz
	# crashkit's libraries: the packages the host's copies come from
	libs=$(for l in $(ldd "$bin/crashkit" "$bin/crashkit-kdump" | awk '/=> \//{print $3}' | sort -u); do
		dpkg -S "$l" 2> /dev/null || dpkg -S "/usr$l" 2> /dev/null || dpkg -S "$(realpath "$l")"
	done | cut -d: -f1 | sort -u | tr '\n' ' ')
	echo "crashkit's libraries come from: $libs"
	mkdir -p "$tree"
	cleanup_build() {
		local m
		for m in proc sys dev/pts dev; do
			mountpoint -q "$tree/$m" 2> /dev/null && { umount "$tree/$m" || umount -l "$tree/$m"; }
		done
		for m in proc sys dev/pts dev; do
			mountpoint -q "$tree/$m" 2> /dev/null && return 0
		done
		rm -rf "$work"
	}
	trap cleanup_build EXIT
	if [ -f "$tarball" ]; then
		tar -xzf "$tarball" -C "$tree"
	else
		command -v debootstrap > /dev/null || die "no $tarball and no debootstrap"
		debootstrap --variant=minbase bookworm "$tree" "$mirror"
	fi
	cp /etc/resolv.conf "$tree/etc/resolv.conf"
	mount -t proc proc "$tree/proc"
	mount -t sysfs sysfs "$tree/sys"
	mount --bind /dev "$tree/dev"
	mount --bind /dev/pts "$tree/dev/pts"
	printf '#!/bin/sh\nexit 101\n' > "$tree/usr/sbin/policy-rc.d"
	chmod 755 "$tree/usr/sbin/policy-rc.d"
	chroot "$tree" sh -c 'echo "kdump-tools kdump-tools/use_kdump boolean true
kexec-tools kexec-tools/load_kexec boolean false" | debconf-set-selections'
	chroot "$tree" apt-get -q update
	# The kernel first: kdump-tools' /etc/kernel/postinst.d hook builds the
	# kdump initrd with MODULES=dep, which cannot tell the root device in a
	# chroot; the prep boot below builds it on the guest, as kdump-config
	# load does on a machine's first boot.
	chroot "$tree" env DEBIAN_FRONTEND=noninteractive apt-get -q -y \
		install --no-install-recommends systemd-sysv udev kmod procps e2fsprogs \
		initramfs-tools zstd "linux-image-$kver-unsigned" $libs
	chroot "$tree" env DEBIAN_FRONTEND=noninteractive apt-get -q -y \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		install --no-install-recommends kdump-tools kexec-tools makedumpfile
	chroot "$tree" dpkg-query -W -f '${Package} ${Version}\n' \
		kdump-tools kexec-tools makedumpfile initramfs-tools systemd "linux-image-$kver-unsigned" \
		> "$work/versions.txt"
	chroot "$tree" apt-get clean
	rm -rf "$tree"/var/lib/apt/lists/* "$tree/usr/sbin/policy-rc.d"

	# The system: root on /dev/vda, no password on the serial console.
	echo "ck-kdumptools" > "$tree/etc/hostname"
	echo "/dev/vda / ext4 defaults,errors=remount-ro 0 1" > "$tree/etc/fstab"
	chroot "$tree" passwd -d root > /dev/null
	sed -i 's/^USE_KDUMP=.*/USE_KDUMP=1/' "$tree/etc/default/kdump-tools"
	grep -q '^USE_KDUMP=1' "$tree/etc/default/kdump-tools" || echo USE_KDUMP=1 >> "$tree/etc/default/kdump-tools"
	# Nothing that only slows the boot down under TCG.
	for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer \
		e2scrub_reap.service systemd-timesyncd.service; do
		ln -sf /dev/null "$tree/etc/systemd/system/$u"
	done

	# crashkit, installed as a package would (binaries, units, kdump.conf).
	make -C "$top" -s BUILD="$(basename "$bin")" install DESTDIR="$tree" PREFIX=/usr > /dev/null
	if chroot "$tree" ldd /usr/bin/crashkit /usr/bin/crashkit-kdump | grep 'not found'; then
		die "crashkit's libraries are missing in the image"
	fi
	cat > "$tree/etc/crashkit/kdump.conf" <<'CONF'
# crashkit kdump.conf for the kdump-tools comparison: the same directory and
# dump level as kdump-tools (makedumpfile -c -d 31 there, zlib; zstd here).
target /var/crash
format kdump
codec zstd
dump_level 31
final_action reboot
failure_action reboot
CONF
	chroot "$tree" systemctl enable crashkit-kdump.service > /dev/null 2>&1 || \
		ln -sf /lib/systemd/system/crashkit-kdump.service \
			"$tree/etc/systemd/system/multi-user.target.wants/crashkit-kdump.service"

	# The stack is picked on the kernel command line.
	mkdir -p "$tree/etc/systemd/system/kdump-tools.service.d" \
		"$tree/etc/systemd/system/crashkit-kdump.service.d" \
		"$tree/etc/systemd/system/kdump-tools-dump.service.d"
	printf '[Unit]\nConditionKernelCommandLine=ckbench.stack=kdump-tools\n' \
		> "$tree/etc/systemd/system/kdump-tools.service.d/ckbench.conf"
	printf '[Unit]\nConditionKernelCommandLine=ckbench.stack=crashkit\n' \
		> "$tree/etc/systemd/system/crashkit-kdump.service.d/ckbench.conf"
	# The capture kernel's memory while kdump-tools saves: MemTotal, then the
	# lowest MemFree/MemAvailable so far every second (a logger only; the
	# dump service itself is Debian's).
	cat > "$tree/usr/local/sbin/ck-bench-mem" <<'SH'
#!/bin/sh
# ck-bench-mem: one @@KT MEM line a second on the console (the bench's view of
# the capture kernel's memory while kdump-tools' dump service runs).
mf=999999999 ma=999999999
while :; do
	set -- $(awk '/^MemTotal:/{t=$2} /^MemFree:/{f=$2} /^MemAvailable:/{a=$2} END{print t, f, a}' /proc/meminfo)
	[ "$2" -lt "$mf" ] && mf=$2
	[ "$3" -lt "$ma" ] && ma=$3
	echo "@@KT MEM total_kb=$1 free_kb=$2 min_free_kb=$mf min_available_kb=$ma uptime=$(cut -d' ' -f1 /proc/uptime)" > /dev/console
	sleep 1
done
SH
	chmod 755 "$tree/usr/local/sbin/ck-bench-mem"
	printf '%s\n' '[Service]' \
		'ExecStartPre=-/bin/sh -c "/usr/local/sbin/ck-bench-mem > /dev/null 2>&1 &"' \
		> "$tree/etc/systemd/system/kdump-tools-dump.service.d/ckbench.conf"

	# The crash: once a capture kernel is loaded.
	cat > "$tree/usr/local/sbin/ck-bench-crash" <<'SH'
#!/bin/sh
# ck-bench-crash: wait for the capture kernel, say what the stack says, crash.
exec > /dev/console 2>&1
stack=$(sed -n 's/.*ckbench\.stack=\([a-z-]*\).*/\1/p' /proc/cmdline)
echo "@@KT STACK=$stack"
echo "@@KT MEMTOTAL_FIRST_KB=$(awk '/^MemTotal:/{print $2}' /proc/meminfo)"
echo "@@KT CRASH_SIZE=$(cat /sys/kernel/kexec_crash_size 2> /dev/null)"
i=0
while [ "$(cat /sys/kernel/kexec_crash_loaded 2> /dev/null)" != 1 ] && [ $i -lt 60 ]; do
	sleep 1; i=$((i + 1))
done
echo "@@KT KEXEC_CRASH_LOADED=$(cat /sys/kernel/kexec_crash_loaded 2> /dev/null)"
echo "@@KT UPTIME_LOADED=$(cut -d' ' -f1 /proc/uptime)"
case $stack in
kdump-tools)
	kdump-config status
	for f in /var/lib/kdump/initrd.img-$(uname -r); do
		[ -f "$f" ] && echo "@@KT INITRD_BYTES=$(stat -c %s "$f")"
	done
	systemctl status --no-pager -l kdump-tools.service | tail -n 25 ;;
crashkit)
	crashkit kdump status
	systemctl status --no-pager -l crashkit-kdump.service | tail -n 25 ;;
esac
if grep -q 'ckbench\.prep=1' /proc/cmdline || [ "$(cat /sys/kernel/kexec_crash_loaded 2> /dev/null)" != 1 ]; then
	echo "@@KT RESULT=not-loaded-or-prep"
	sync
	systemctl poweroff --force --force
fi
sync
echo "@@KT CRASHING"
echo c > /proc/sysrq-trigger
SH
	chmod 755 "$tree/usr/local/sbin/ck-bench-crash"
	cat > "$tree/etc/systemd/system/ck-bench-crash.service" <<'UNIT'
[Unit]
Description=crashkit bench: crash once the capture kernel is loaded
After=kdump-tools.service crashkit-kdump.service multi-user.target
ConditionKernelCommandLine=ckbench.stack
ConditionPathExists=!/proc/vmcore

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/ck-bench-crash

[Install]
WantedBy=multi-user.target
UNIT
	ln -sf /etc/systemd/system/ck-bench-crash.service \
		"$tree/etc/systemd/system/multi-user.target.wants/ck-bench-crash.service"

	for m in proc sys dev/pts dev; do umount "$tree/$m"; done
	ls "$tree/boot/vmlinuz-$kver" "$tree/boot/initrd.img-$kver" > /dev/null
	cp "$tree/boot/vmlinuz-$kver" "$work/vmlinuz"
	cp "$tree/boot/initrd.img-$kver" "$work/initrd.img"
	truncate -s 4G "$work/image.img"
	mkfs.ext4 -q -F -L ck-kdumptools -d "$tree" "$work/image.img"
	# The prep boot: kdump-tools.service loads once (crashkernel=256M), which
	# builds /var/lib/kdump/initrd.img-KVER with the package's own hook and
	# records its sysctl state; ck-bench-crash powers off instead of crashing.
	timeout -k 10 900 qemu-system-x86_64 -accel tcg -m 1G -smp 2 -nodefaults \
		-display none -no-reboot -kernel "$work/vmlinuz" -initrd "$work/initrd.img" \
		-append "root=/dev/vda rw console=ttyS0 crashkernel=256M panic=1 ckbench.stack=kdump-tools ckbench.prep=1" \
		-drive "file=$work/image.img,if=virtio,format=raw" -serial "file:$image.prep.raw" || true
	tr -d "\r" < "$image.prep.raw" | grep -E '@@KT|kdump' >&2 || true
	debugfs -R "ls -l /var/lib/kdump" "$work/image.img" > "$work/kdump-lib.txt" 2>&1
	cat "$work/kdump-lib.txt" >&2
	grep -q "initrd.img-$kver" "$work/kdump-lib.txt" || die "the prep boot made no kdump initrd; see $image.prep.raw"
	tr -d "\r" < "$image.prep.raw" > "$image.prep.log"
	mv "$work/vmlinuz" "$image.vmlinuz"
	mv "$work/initrd.img" "$image.initrd"
	mv "$work/versions.txt" "$image.versions"
	mv "$work/kdump-lib.txt" "$image.kdump-lib"
	mv "$work/image.img" "$image"
	cleanup_build
	trap - EXIT
}
# ---- image end

exec 8> "$base/.image.lock"
flock 8
if [ ! -f "$image" ]; then
	log "building the image $image (apt in a chroot; a few minutes)"
	t0=$SECONDS
	set +e
	( set -e; build_image ) >&2
	rc=$?
	set -e
	[ $rc = 0 ] || die "the image build failed"
	log "image built in $((SECONDS - t0))s"
fi
flock -u 8

# ---------------------------------------------------------------- the run

# The run's key: the image (which holds the guest's scripts) and the QEMU
# line's inputs; the judging below may change without a new boot (--force).
# crashkit's binaries go into the disk stripped, as its Debian package ships
# them (dh_strip); --unstripped writes build/'s as `make install` would, debug
# info and all, which crashkit kdump initramfs copies into the initramfs.
variant=$stack
[ "$stack" != crashkit ] || [ $strip = 1 ] || variant=crashkit-unstripped
key=$( {
	echo "$image_key $stack $crashkernel $mem qemu-v1"
	[ "$stack" != crashkit ] || { echo "strip=$strip"; sha256sum "$bin/crashkit" "$bin/crashkit-kdump" | cut -c1-64; }
} | sha256sum | cut -c1-12)
# (the unstripped variant keeps the key it had before --unstripped existed)
[ "$variant" != crashkit-unstripped ] || key=$( {
	echo "$image_key $stack $crashkernel $mem qemu-v1"
	sha256sum "$bin/crashkit" "$bin/crashkit-kdump" | cut -c1-64
} | sha256sum | cut -c1-12)
[ "$try" = 1 ] || key=$(echo "$key try $try" | sha256sum | cut -c1-12)
out=$base/runs/$variant-ck$crashkernel-$key
if [ $judge = 1 ]; then
	[ -f "$out/serial.log" ] || die "no run to judge in $out"
	rc=$(sed -n 's/^QEMU_RC=//p' "$out/result.env")
	t_run=$(sed -n 's/^TIME_QEMU_S=//p' "$out/result.env")
elif [ $force = 0 ] && [ -f "$out/DONE" ]; then
	log "cached run: $out"
	echo "$out"
	grep -q '^RESULT=complete$' "$out/result.env"
	exit
fi
if [ $judge = 0 ]; then
mkdir -p "$base/runs"
rm -rf "$out"
mkdir -p "$out"
disk=$out/disk.img
cp --sparse=always "$image" "$disk"
if [ "$stack" = crashkit ]; then
	# this crashkit, not the one the image was built with
	mkdir -p "$out/bin"
	for f in crashkit crashkit-kdump; do
		if [ $strip = 1 ]; then strip -o "$out/bin/$f" "$bin/$f"; else cp "$bin/$f" "$out/bin/$f"; fi
		printf 'cd /usr/bin\nrm %s\nwrite %s %s\n' "$f" "$out/bin/$f" "$f"
	done | debugfs -w "$disk" > "$out/debugfs-write.log" 2>&1
	# debugfs's rm + write of a smaller file leaves block bitmap checksums
	# that ext4 and debugfs later reject (seen: "Block bitmap checksum does
	# not match bitmap" after the run); e2fsck sets them right before the boot.
	e2fsck -fy "$disk" >> "$out/debugfs-write.log" 2>&1 || [ $? -le 1 ] || die "e2fsck of $disk failed"
	debugfs -R 'ls -l /usr/bin' "$disk" 2> /dev/null | grep -E ' crashkit(-kdump)?$' > "$out/crashkit-in-image.txt"
	[ "$(grep -c . "$out/crashkit-in-image.txt")" = 2 ] || die "could not write crashkit into $disk"
	sha256sum "$bin/crashkit" "$bin/crashkit-kdump" "$out/bin/"* > "$out/crashkit.sha256"
	rm -rf "${out:?}/bin"
fi
t0=$SECONDS
rc=0
timeout -k 10 "$qemu_timeout" qemu-system-x86_64 -accel tcg -m "$mem" -smp 2 -nodefaults \
	-display none -no-reboot -kernel "$image.vmlinuz" -initrd "$image.initrd" \
	-append "root=/dev/vda rw console=ttyS0 crashkernel=$crashkernel panic=1 ckbench.stack=$stack" \
	-drive "file=$disk,if=virtio,format=raw" \
	-serial "file:$out/serial.log" || rc=$?
t_run=$((SECONDS - t0))
log "QEMU exited with $rc after ${t_run}s (124: killed at ${qemu_timeout}s)"
tr -d '\r' < "$out/serial.log" > "$out/serial.txt"
mkdir -p "$out/crash"
debugfs -R "rdump /var/crash $out/crash" "$disk" > /dev/null 2> "$out/debugfs.log" || true
# Seen once after a crashkit run (the binaries written by debugfs -w, then
# the guest's journal recovery): "Block bitmap checksum does not match
# bitmap" and nothing read.  -c (catastrophic mode) reads without the bitmaps.
if grep -q 'Filesystem not open' "$out/debugfs.log"; then
	debugfs -c -R "rdump /var/crash $out/crash" "$disk" > /dev/null 2>> "$out/debugfs.log" || true
fi
rm -f "$disk"
fi

# ---------------------------------------------------------------- judging

s=$out/serial.txt
kt() { sed -n "s/^.*@@KT $1=//p" "$s" | tail -1; }
# The capture kernel's part of the serial log: from its banner (the second
# "Linux version") on.  (Not from "@@KT CRASHING": that line sits in the
# serial port's buffer when the panic comes and is lost now and then.)
awk '/\] Linux version /{n++} n >= 2' "$s" > "$out/capture.txt"
dumpfile='' dumpdir='' result='' reason=''
# kdump-tools: /var/crash/STAMP/dump.STAMP (dump-incomplete while it runs);
# crashkit: /var/crash/STAMP/vmcore (vmcore.incomplete).
for d in $(find "$out/crash" -mindepth 2 -maxdepth 2 -type d 2> /dev/null | sort); do
	dumpdir=$d
done
if [ -n "$dumpdir" ]; then
	dumpfile=$(find "$dumpdir" -maxdepth 1 -type f \( -name 'dump.*' -o -name 'vmcore' -o -name 'vmcore.*' \) \
		! -name '*incomplete*' | head -1)
	[ -n "$dumpfile" ] || dumpfile=$(find "$dumpdir" -maxdepth 1 -type f -name '*incomplete*' | head -1)
fi
# The saver's own word: makedumpfile's last line (kdump-config takes the exit
# status of the pipe's last command, so a makedumpfile killed half way could
# still be renamed), crashkit init's save_rc.
saver_ok=0
case $stack in
kdump-tools) grep -q 'makedumpfile Completed' "$s" && saver_ok=1 ;;
crashkit) grep -q '^@@CK MEM .*save_rc=0' "$s" && saver_ok=1 ;;
esac
info_ok=0 panic_ok=0
if [ -n "$dumpfile" ]; then
	"$bin/crashkit" info "$dumpfile" > "$out/info.txt" 2>&1 && info_ok=1
	"$bin/crashkit" dmesg "$dumpfile" > "$out/dmesg.txt" 2>&1 || true
	grep -q 'sysrq triggered crash' "$out/dmesg.txt" && panic_ok=1
fi
if [ "$(kt KEXEC_CRASH_LOADED)" = "" ]; then
	result=boot-failed
	reason=$(grep -m1 -iE 'Kernel panic|Out of memory|oom-kill|end Kernel panic' "$s" || tail -n 1 "$s")
elif [ "$(kt KEXEC_CRASH_LOADED)" != 1 ]; then
	result=not-loaded
	reason=$(grep -m1 -iE 'kexec.*(fail|error|cannot|Cannot)|Could not|not enough|memory.*(too small|not enough)|ENOMEM|crashkernel|initramfs' \
		"$s" | grep -v '^\[' || true)
	[ -n "$reason" ] || reason=$(grep -m1 -iE 'kdump|crashkit' "$s" | grep -iE 'fail|error|cannot|refus' || true)
elif [ -n "$dumpfile" ] && [ $info_ok = 1 ] && [ $panic_ok = 1 ] && [ $saver_ok = 1 ] && \
	case $dumpfile in *incomplete*) false ;; *) true ;; esac; then
	result=complete
elif [ -n "$dumpfile" ]; then
	result=incomplete
	reason="$(basename "$dumpfile"), crashkit info ok=$info_ok, panic in dmesg=$panic_ok, saver ok=$saver_ok"
else
	result=no-dump
	reason=$(grep -m1 -E 'Out of memory|invoked oom-killer|Kernel panic - not syncing|makedumpfile.*(fail|error)|kdump-tools.*(fail|error)|crashkit.*(fail|error)|Cannot|failed to|Unable to mount|ALERT!|Gave up' "$out/capture.txt" || true)
	[ -n "$reason" ] || reason="capture kernel log ends: $(grep -v '^\s*$' "$out/capture.txt" | tail -n 1 || true)"
	# where the capture kernel was when it ran out of memory
	if grep -q 'invoked oom-killer' "$out/capture.txt"; then
		reason="OOM $(awk '
			/Trying to unpack rootfs/ { phase = "while unpacking the initramfs" }
			/Freeing initrd memory/ { phase = "in kernel init after unpacking the initramfs" }
			/Run \/init as init process/ { phase = "in the initramfs userspace" }
			/Switching root|systemd\[1\]/ { phase = "in the root filesystem userspace" }
			/invoked oom-killer/ {
				if (!phase) phase = "in early boot"
				t = $0; sub(/^\[ */, "", t); sub(/\].*/, "", t)
				who = $0; sub(/^\[[^]]*\] */, "", who); sub(/ invoked oom-killer.*/, "", who)
				print phase " at " t " s (" who ")"; exit }' "$out/capture.txt")"
		reason+=$(grep -m1 -oE '(Kernel panic - not syncing: .*|Out of memory: Killed process [0-9]+ \([^)]*\))' "$out/capture.txt" | sed 's/^/; /' || true)
		# what the OOM kill led to (initramfs-tools: the root not mounted)
		reason+=$(grep -m1 -oE '(Failed to mount .*|ALERT! .*|Gave up waiting .*)' "$out/capture.txt" | sed 's/^/; /' || true)
	fi
fi
mem_line=$(grep '@@KT MEM ' "$out/capture.txt" | tail -1 || true)
ck_mem=$(grep -m1 '^@@CK MEM ' "$s" || true)
memval() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
cap_total=$(memval "$mem_line" total_kb)
[ -n "$cap_total" ] || cap_total=$(memval "$ck_mem" total_kb)
cap_min_free=$(memval "$mem_line" min_free_kb)
[ -n "$cap_min_free" ] || cap_min_free=$(memval "$ck_mem" min_free_kb)
cap_min_avail=$(memval "$mem_line" min_available_kb)
[ -n "$cap_min_avail" ] || cap_min_avail=$(memval "$ck_mem" min_available_kb)
# the capture kernel's own "Memory: NK/MK available" line (the second boot's)
cap_kmem=$(grep -E '\] Memory: [0-9]+K/[0-9]+K available' "$s" | sed -n '2p' | sed 's/.*\] Memory: //' || true)
{
	echo "KSERIES=$series"
	echo "KVER=$kver"
	echo "STACK=$variant"
	echo "CRASHKERNEL=$crashkernel"
	echo "TRY=$try"
	echo "MEM=$mem"
	echo "RESULT=$result"
	printf 'REASON=%q\n' "$reason"
	echo "DUMPDIR=${dumpdir#"$out"/}"
	echo "DUMPFILE=${dumpfile#"$out"/}"
	echo "DUMP_BYTES=$( [ -n "$dumpfile" ] && stat -c %s "$dumpfile")"
	echo "CRASHKIT_INFO_OK=$info_ok"
	echo "PANIC_IN_DMESG=$panic_ok"
	echo "SAVER_OK=$saver_ok"
	echo "CRASH_SIZE=$(kt CRASH_SIZE)"
	echo "KEXEC_CRASH_LOADED=$(kt KEXEC_CRASH_LOADED)"
	echo "UPTIME_LOADED=$(kt UPTIME_LOADED)"
	echo "KDUMP_INITRD_BYTES=$(kt INITRD_BYTES)"
	echo "CRASHKIT_INITRAMFS_BYTES=$(sed -n 's/^initramfs: .* (\([0-9]*\) bytes)$/\1/p' "$s" | tail -1)"
	# the capture kernel's uptime at its last console line (its reboot)
	echo "CAPTURE_END_S=$(sed -n 's/^\[ *\([0-9][0-9.]*\)\].*/\1/p' "$out/capture.txt" | tail -1)"
	echo "CAPTURE_MEMTOTAL_KB=$cap_total"
	echo "CAPTURE_MIN_FREE_KB=$cap_min_free"
	echo "CAPTURE_MIN_AVAILABLE_KB=$cap_min_avail"
	printf 'CAPTURE_KERNEL_MEMORY=%q\n' "$cap_kmem"
	echo "QEMU_RC=$rc"
	echo "TIME_QEMU_S=$t_run"
	echo "IMAGE=$(basename "$image")"
	sed 's/^/# /' "$image.versions"
} > "$out/result.env"
log "$variant crashkernel=$crashkernel: $result${reason:+ ($reason)}"
date -u +%FT%TZ > "$out/DONE"
echo "$out"
[ "$result" = complete ]
