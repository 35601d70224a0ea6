#!/usr/bin/env bash
# crashkit crash lab: crash a real Debian kernel under QEMU through the
# real kexec/kdump path and keep the dumps, plus QEMU dump-guest-memory
# dumps of a second, live boot.  See docs/lab.md.
#
#   tests/lab/lab.sh [--kernel 6.1|6.12|7] [--out DIR] [--mem 1G]
#                    [--extra-initrd FILE.cpio] [--fill MIB] [--fill-brd MIB]
#                    [--force] [--crash KIND [--run N]]
#
# --kernel picks the Debian kernel: 6.1 (Debian 12's), 6.12 (Debian 12's
# bookworm-security linux-image-6.12-amd64) or 7 (the newest plain amd64
# 7.x of trixie-backports, through tests/lab/apt.sh).  The default is
# $CK_KSERIES (set by tests/run.sh for the series under test, so the lab
# tests that rerun the lab with hooks stay on it), else 6.1.
#
# --crash KIND crashes the kernel another way than sysrq c: the guest
# loads tests/lab/crashmod's ck_crashmod.ko (built here against the
# kernel's Debian headers, cached) and writes KIND to /proc/ck_crashmod.
# KIND: sysrq (no module) null bug gpf divide ud2 list stack warn
# softlockup hung oom rcu timer.  Such a run keeps only vmcore.kdump-zlib
# (-d 31) and skips the QMP boot (~25 s); --run N (default 1) names
# repeated runs (run-crash-KIND-N), each its own boot with its own KASLR
# slide.  Exit 3: the module cannot be built for this kernel (7.x).
#
# Progress goes to stderr; the last line on stdout is the output dir.
set -euo pipefail

# A guest under TCG now and then dies in its own boot, before the lab
# does anything (seen: 6.12's QMP boot, "Oops: int3" in enqueue_timer while
# the kernel patches its text): a failed run is tried once more, from
# scratch, and says so.  LAB_ATTEMPT marks the inner run.
if [ -z "${LAB_ATTEMPT:-}" ]; then
	rc=0
	LAB_ATTEMPT=1 "$0" "$@" || rc=$?
	[ $rc = 1 ] || exit $rc	# 0, or 2: usage
	echo "lab: error: the run failed; trying once more from scratch" >&2
	LAB_ATTEMPT=2 exec "$0" "$@"
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# HOME may be unset under CI or a service manager: fall back to root's.
cache=${CRASHKIT_CACHE:-${HOME:-/root}/.cache/crashkit}
out=
series=${CK_KSERIES:-6.1}
mem=1G
extra=
fill=0
fill_brd=0
force=0
crash=
crash_run=1
crash_kinds="sysrq null bug gpf divide ud2 list stack warn softlockup hung oom rcu timer"
qemu_timeout=${CRASHKIT_LAB_TIMEOUT:-300}

log() { echo "lab: $*" >&2; }
die() { echo "lab: error: $*" >&2; exit 1; }
usage() {
	sed -n 's/^#   //p' "${BASH_SOURCE[0]}" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--kernel) series=${2:?}; shift ;;
	--out) out=${2:?}; shift ;;
	--mem) mem=${2:?}; shift ;;
	--extra-initrd) extra=$(realpath "${2:?}"); shift ;;
	--fill) fill=${2:?}; shift ;;
	--fill-brd) fill_brd=${2:?}; shift ;;
	--force) force=1 ;;
	--crash) crash=${2:?}; shift ;;
	--run) crash_run=${2:?}; shift ;;
	-h|--help) usage ;;
	*) echo "lab: unknown argument: $1" >&2; usage ;;
	esac
	shift
done
case $series in
6.1|6.12|7) ;;
*) die "--kernel wants 6.1, 6.12 or 7, not $series" ;;
esac
[ -z "$extra" ] || [ -f "$extra" ] || die "no such file: $extra"
[[ $fill =~ ^[0-9]+$ ]] || die "--fill wants a size in MiB"
[[ $fill_brd =~ ^[0-9]+$ ]] || die "--fill-brd wants a size in MiB"
[ -z "$crash" ] || [[ " $crash_kinds " = *" $crash "* ]] ||
	die "--crash wants one of: $crash_kinds"
[[ $crash_run =~ ^[1-9][0-9]*$ ]] || die "--run wants a number"
mem_bytes=$(numfmt --from=iec "$mem") || die "bad --mem: $mem"
# Debian 12's makedumpfile (1.7.2) filters 6.12 and 7.x wrongly without a
# word, so for those the capture kernel only saves /proc/vmcore and the
# newest makedumpfile makes the filtered dumps from it on the host.
guest_mdf=1
[ "$series" = 6.1 ] || guest_mdf=0

# ---------------------------------------------------------------- kernel

# Series 6.1 and 6.12 come from the host's own apt (Debian 12 and its
# security suite), series 7 from tests/lab/apt.sh: a download-only apt for
# suites the host does not use, kept under the cache.
bpo_suite=trixie-backports
kapt_get() {
	if [ "$series" = 7 ]; then "$here/apt.sh" get "$@"; else apt-get "$@"; fi
}
kapt_update() {
	if [ "$series" = 7 ]; then "$here/apt.sh" update; else apt-get update >&2; fi
}

# The metapackage a Debian 12 series follows.
metapackage() {
	case $series in
	6.1) echo linux-image-amd64 ;;
	6.12) echo linux-image-6.12-amd64 ;;
	esac
}

# The kernel ABI name of the series, e.g. 6.1.0-56-amd64,
# 6.12.117+deb12-amd64 or 7.3.4+deb13-amd64.  Empty when apt knows none.
# 6.1 and 6.12 follow their metapackage; for 7 the plain amd64 image
# packages (not -cloud, not -rt) that $bpo_suite has are sorted by version.
resolve_kver() {
	local names
	case $series in
	6.1|6.12)
		apt-cache depends "$(metapackage)" 2>/dev/null |
			sed -n 's/^ *Depends: linux-image-\(.*-amd64\)$/\1/p' | head -1
		;;
	7)
		names=$("$here/apt.sh" cache search --names-only \
			'^linux-image-7\.[0-9.]+\+deb[0-9]+-amd64$' 2>/dev/null | cut -d' ' -f1)
		[ -n "$names" ] || return 0
		# shellcheck disable=SC2086  # one argument per package
		"$here/apt.sh" cache madison $names 2>/dev/null |
			awk -F' *[|] *' -v s=" $bpo_suite/main amd64 Packages" \
				'index($3, s) { sub(/^ *linux-image-/, "", $1); print $1 }' |
			sort -uV | tail -1
		;;
	esac
}

# Unpack the kernel's packages into $cache/kernel/<kver>/root once.  Up to
# 6.16 Debian ships one linux-image-<kver>-unsigned with /boot/vmlinuz-*,
# /boot/config-* and /lib/modules/<kver>; since 6.17 the image is split
# into linux-binary-unsigned-<kver> (/usr/lib/modules/<kver>/vmlinuz.unsigned),
# linux-modules-<kver> (.ko.xz) and linux-base-<kver> (config, modules.*),
# all under /usr/lib/modules.  The split layout gets the classic paths
# (a root/lib -> usr/lib link, /boot hard links) so that depmod -b,
# modprobe -d and the rest of lab.sh see one layout.
# The image's System.map is only a placeholder line ("The real System.map
# is in the linux-image-<version>-dbg package"), so System.map and the
# vmlinux with DWARF are taken from the -dbg package too, into
# usr/lib/debug/boot/{System.map,vmlinux}-<kver> whatever its layout.
# The directory only appears (by rename) when complete, so an interrupted
# fetch is redone.
fetch_kernel() {
	local kver=$1 dir=$cache/kernel/$1 tmp deb dbg pkgs split=0 bin mods dbgdir dbgmap dbgvml f
	[ -d "$dir" ] && return 0
	tmp=$(mktemp -d "$cache/kernel/.fetch.XXXXXX")
	if [ "$series" = 7 ]; then
		split=1
		pkgs="linux-binary-unsigned-$kver linux-modules-$kver linux-base-$kver"
	else
		pkgs="linux-image-$kver-unsigned"
	fi
	log "downloading $pkgs linux-image-$kver-dbg"
	# shellcheck disable=SC2086  # one argument per package
	if ! (cd "$tmp" && kapt_get download $pkgs "linux-image-$kver-dbg" >&2); then
		rm -rf "$tmp"
		return 1
	fi
	dbg=$(echo "$tmp"/linux-image-*-dbg_*.deb)
	for deb in "$tmp"/*.deb; do
		[ "$deb" = "$dbg" ] || dpkg -x "$deb" "$tmp/root"
	done
	if [ $split = 1 ]; then
		bin=$(echo "$tmp"/linux-binary-unsigned-*.deb)
		mods=$tmp/root/usr/lib/modules/$kver
		[ -e "$tmp/root/lib" ] || ln -s usr/lib "$tmp/root/lib"
		mkdir -p "$tmp/root/boot"
		for f in vmlinuz.unsigned vmlinuz; do
			[ -f "$mods/$f" ] && { ln "$mods/$f" "$tmp/root/boot/vmlinuz-$kver"; break; }
		done
		ln "$mods/config" "$tmp/root/boot/config-$kver"
		dbgdir=./usr/lib/debug/lib/modules/$kver
		dbgmap=$dbgdir/System.map
		dbgvml=$dbgdir/vmlinux
	else
		bin=$(echo "$tmp"/linux-image-*-unsigned_*.deb)
		dbgmap=./usr/lib/debug/boot/System.map-$kver
		dbgvml=./usr/lib/debug/boot/vmlinux-$kver
	fi
	[ -f "$tmp/root/boot/vmlinuz-$kver" ] || die "no vmlinuz in $(basename "$bin")"
	dpkg-deb -f "$bin" Package Version > "$tmp/package.txt"
	# The -dbg data is 5.6-7.8 GB unpacked, mostly module debug info.  Up
	# to 6.16 its two boot files come first, and --occurrence stops tar
	# once it has them (about 5 s); in the split layout the vmlinux is the
	# last regular file, so tar reads it all (about 2.5 min).  dpkg-deb
	# then dies of SIGPIPE, which is expected: its complaint is hidden and
	# the two files are checked instead.
	[ $split = 0 ] || log "extracting System.map and vmlinux from the end of $(basename "$dbg") (~2.5 min)"
	{ dpkg-deb --fsys-tarfile "$dbg" 2>/dev/null || true; } |
		tar -x -C "$tmp/root" --occurrence=1 "$dbgmap" "$dbgvml"
	[ -s "$tmp/root/$dbgvml" ] || die "no vmlinux in $(basename "$dbg")"
	if [ $split = 1 ]; then
		mkdir -p "$tmp/root/usr/lib/debug/boot"
		mv "$tmp/root/$dbgmap" "$tmp/root/usr/lib/debug/boot/System.map-$kver"
		mv "$tmp/root/$dbgvml" "$tmp/root/usr/lib/debug/boot/vmlinux-$kver"
	fi
	# depmod gives modprobe --show-depends the load order of our modules.
	depmod -b "$tmp/root" "$kver"
	rm "$tmp"/*.deb
	mv "$tmp" "$dir"
}

# apt-cache takes ~0.7 s here (no pkgcache.bin), apt.sh more, too slow for
# the cache hit path that every test takes: remember the answer per series
# until the package lists change (apt-get update renames files in
# /var/lib/apt/lists; apt.sh's update rewrites its .updated stamp).  Series
# 7 therefore stays on its kernel until `tests/lab/apt.sh update` (or a
# day-old list refreshed by any apt.sh call) brings a newer one.
memo_key() {
	if [ "$series" = 7 ]; then
		cat "$cache/apt/.updated" 2>/dev/null || echo none
	else
		stat -c %Y /var/lib/apt/lists 2>/dev/null || echo none
	fi
}
memo_kver() {
	local key memo=$cache/lab/.kver found
	[ "$series" = 6.1 ] || memo+=-$series
	key=$(memo_key)
	if [ -f "$memo" ] && [ "$(head -1 "$memo")" = "$key" ]; then
		sed -n 2p "$memo"
		return
	fi
	found=$(resolve_kver)
	[ -n "$found" ] || return 0
	# apt.sh may have refreshed its lists (and stamp) just now.
	key=$(memo_key)
	mkdir -p "$cache/lab"
	printf '%s\n%s\n' "$key" "$found" > "$memo.$$"
	mv "$memo.$$" "$memo"
	echo "$found"
}

kver=$(memo_kver)
if [ -z "$kver" ]; then
	log "apt knows no kernel for series $series; updating the package lists"
	kapt_update
	kver=$(resolve_kver)
	[ -n "$kver" ] || die "cannot resolve the kernel of series $series"
fi

# The default output dir is keyed by everything that changes what the
# guest does, so a cached run is never reused for other options.
default_out() {
	local name=run
	[ "$mem" = 1G ] || name+="-m$mem"
	[ "$fill" = 0 ] || name+="-fill$fill"
	[ "$fill_brd" = 0 ] || name+="-brd$fill_brd"
	[ -z "$extra" ] || name+="-x$(sha256sum "$extra" | cut -c1-12)"
	[ -z "$crash" ] || name+="-crash-$crash-$crash_run"
	echo "$cache/lab/$kver/$name"
}
out_arg=$out
out=$(realpath -m "${out_arg:-$(default_out)}")

if [ $force = 0 ] && [ -f "$out/DONE" ]; then
	log "cached run: $out"
	echo "$out"
	exit 0
fi

# Everything below runs host tools; name the packages if one is missing.
for cmd in qemu-system-x86_64 busybox kexec makedumpfile cpio mkfs.ext4 \
	debugfs socat gcc depmod modprobe dpkg-deb flock timeout; do
	command -v "$cmd" > /dev/null ||
		die "$cmd not found; apt-get install $(tr '\n' ' ' < "$here/deps.txt")"
done
# The guest has no libc for busybox: it must be busybox-static's.
! ldd "$(command -v busybox)" > /dev/null 2>&1 ||
	die "busybox is dynamically linked; apt-get install busybox-static"

# Download (and re-resolve after an update if the lists were stale).  The
# lock is per kernel: a long fetch of one does not hold up runs of another.
mkdir -p "$cache/kernel"
lock_kernel() {
	exec 8> "$cache/kernel/.$1.lock"
	flock 8
}
lock_kernel "$kver"
if ! fetch_kernel "$kver"; then
	log "download failed; updating the package lists"
	kapt_update
	new=$(resolve_kver)
	if [ "$new" != "$kver" ]; then
		log "series $series is now $new"
		kver=$new
		out=$(realpath -m "${out_arg:-$(default_out)}")
		lock_kernel "$kver"
	fi
	fetch_kernel "$kver" || die "cannot download the packages of $kver"
fi
flock -u 8
kdir=$cache/kernel/$kver
kroot=$kdir/root
kdebug=$kroot/usr/lib/debug/boot
log "kernel $kver ($(sed -n 's/^Version: //p' "$kdir/package.txt"))"

# The crash module, built against this kernel's headers (cached).
crashmod_ko=
if [ -n "$crash" ] && [ "$crash" != sysrq ]; then
	rc=0
	crashmod_ko=$("$here/crashmod/build.sh" "$kver" "$series" | tail -1) || rc=$?
	[ $rc != 3 ] || { log "skipped: no ck_crashmod.ko for $kver"; exit 3; }
	[ $rc = 0 ] && [ -f "$crashmod_ko" ] || die "cannot build ck_crashmod.ko for $kver"
fi

# ---------------------------------------------------------------- output dir

mkdir -p "$(dirname "$out")"
exec 9> "$(dirname "$out")/.$(basename "$out").lock"
flock 9
# Another run may have finished it while we waited for the lock.
if [ $force = 0 ] && [ -f "$out/DONE" ]; then
	echo "$out"
	exit 0
fi
if [ -e "$out" ] && [ -n "$(ls -A "$out")" ]; then
	# Only wipe a dir that is ours, never a user's directory by mistake.
	[ -f "$out/.crashkit-lab" ] || die "$out is not empty and not a lab dir"
	rm -rf "$out"
fi
mkdir -p "$out"
touch "$out/.crashkit-lab"

work=$(mktemp -d "${TMPDIR:-/tmp}/crashkit-lab.XXXXXX")
qemu_pid=
cleanup() {
	# A QEMU left in the background (we died mid-QMP) must not linger;
	# timeout passes the TERM on to it.
	[ -z "$qemu_pid" ] || kill "$qemu_pid" 2>/dev/null || true
	if [ -n "${CRASHKIT_LAB_KEEP:-}" ]; then
		log "work dir kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
t_start=$SECONDS

# ---------------------------------------------------------------- initramfs

files_paths="/tmp/ck_file_a /tmp/ck_file_b /tmp/ck_file_c"
first_append="console=ttyS0 crashkernel=256M panic=1"
[ -z "$crash" ] || first_append+=" lab.crash=$crash"
# The capture kernel talks on the second serial port so that its whole
# console lands in its own log file.
capture_append="console=ttyS1 irqpoll nr_cpus=1 reset_devices panic=1"

# Copy a dynamically linked program and what ldd says it loads (including
# the dynamic loader) to the same paths in the tree.
copy_prog() {
	local tree=$1 prog=$2 lib
	install -D "$prog" "$tree$prog"
	for lib in $(ldd "$prog" | grep -o '/[^ ]*'); do
		[ -e "$tree$lib" ] || install -D -m 755 "$(realpath "$lib")" "$tree$lib"
	done
}

# Add the modules a group needs, in load order, to the tree, plus
# /lab/mods/<group>.list naming them.  busybox insmod cannot read
# compressed modules, so they are decompressed here.  crc32c-intel (a
# soft dependency of ext4) is left out: it needs SSE4.2, which QEMU's
# default CPU lacks, and crc32c_generic does the job.
add_modules() {
	local tree=$1 group=$2 mod ko name
	shift 2
	for mod in "$@"; do
		modprobe -d "$kroot" -S "$kver" --show-depends "$mod" |
			awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++ && !/\/crc32c-intel\.ko/' | while read -r ko; do
		name=$(basename "$ko" | sed 's/\.ko\(\.[a-z]*\)\?$//')
		case $ko in
		*.xz) xz -dc "$ko" ;;
		*.zst) zstd -dc "$ko" ;;
		*.gz) gzip -dc "$ko" ;;
		*) cat "$ko" ;;
		esac > "$tree/lib/modules/lab/$name.ko"
		echo "$name"
	done > "$tree/lab/mods/$group.list"
}

# newc archive of a tree, owned by root whoever runs this.
mkcpio() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet)
}

log "building initramfs"
gcc -static -O2 -Wall -o "$work/ckproc" "$here/guest/ckproc.c"

base=$work/base
mkdir -p "$base"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,out,lab/mods,lib/modules/lab}
install -m 755 "$(command -v busybox)" "$base/bin/busybox"
for applet in $(busybox --list-full); do
	[ -e "$base/$applet" ] || ln -s /bin/busybox "$base/$applet"
done
install -m 755 "$work/ckproc" "$base/bin/ckproc"
copy_prog "$base" "$(command -v kexec)"
[ $guest_mdf = 0 ] || copy_prog "$base" "$(command -v makedumpfile)"
add_modules "$base" blk virtio_pci virtio_blk ext4
add_modules "$base" test loop dummy
add_modules "$base" fwcfg qemu_fw_cfg
# A RAM disk whose pages are kept at dump level 31 (--fill-brd).
[ "$fill_brd" = 0 ] || add_modules "$base" brd brd
[ -z "$crashmod_ko" ] || install -m 644 "$crashmod_ko" "$base/lib/modules/lab/ck_crashmod.ko"
install -m 644 "$here/guest/common.sh" "$base/lab/common.sh"
cat > "$base/lab/lab.conf" <<EOF
CAPTURE_APPEND='$capture_append'
FILES_PATHS='$files_paths'
FILL_MIB=$fill
FILL_BRD_MIB=$fill_brd
GUEST_MAKEDUMPFILE=$guest_mdf
EOF
# Crash-kind runs keep one dump format (see --crash).
[ -z "$crash" ] || echo "CAPTURE_ZLIB_ONLY=1" >> "$base/lab/lab.conf"
mkcpio "$base" > "$work/base.cpio"
extra_cpio=${extra:-/dev/null}

mkdir -p "$work/capture"
install -m 755 "$here/guest/init-capture.sh" "$work/capture/init"
cat "$work/base.cpio" <(mkcpio "$work/capture") "$extra_cpio" > "$work/capture.cpio"

mkdir -p "$work/first"
install -m 755 "$here/guest/init-first.sh" "$work/first/init"
cp "$kroot/boot/vmlinuz-$kver" "$work/first/vmlinuz"
cp "$work/capture.cpio" "$work/first/capture.cpio"
cat "$work/base.cpio" <(mkcpio "$work/first") "$extra_cpio" > "$work/first.cpio"
log "initramfs: first $(du -h "$work/first.cpio" | cut -f1), capture $(du -h "$work/capture.cpio" | cut -f1)"

# ---------------------------------------------------------------- QEMU

# No network device (-nodefaults, no -nic), no display; TCG only, KVM
# hangs on these hosts.  -no-reboot + panic=1 turn any failure into a
# QEMU exit, and timeout bounds the run whatever happens.
qemu() {
	timeout -k 10 "$qemu_timeout" qemu-system-x86_64 -accel tcg \
		-m "$mem" -smp 2 -nodefaults -display none -no-reboot \
		-kernel "$kroot/boot/vmlinuz-$kver" -initrd "$work/first.cpio" "$@"
}

# Value of "@@LAB KEY=value" from a serial log (the console adds \r).
lab_value() {
	tr -d '\r' < "$2" | sed -n "s/^@@LAB $1=//p" | tail -1
}

if [ -n "$crash" ]; then
	log "crash run: boot, kexec -p, crash $crash (run $crash_run), capture"
else
	log "crash run: boot, kexec -p, sysrq c, capture"
fi
disk=$work/out.img
truncate -s 4G "$disk"
mkfs.ext4 -q -F -L crashkit-lab "$disk"
t0=$SECONDS
qemu -append "$first_append lab.mode=crash" \
	-drive "file=$disk,if=virtio,format=raw" \
	-serial "file:$out/serial-first.log" \
	-serial "file:$out/serial-capture.log" \
	|| log "qemu exited with $? (124: killed after ${qemu_timeout}s)"
t_crash=$((SECONDS - t0))
log "crash run took ${t_crash}s; extracting"
t0=$SECONDS
debugfs -R "rdump / $out" "$disk" 2> "$work/debugfs.log" ||
	{ cat "$work/debugfs.log" >&2; die "debugfs failed"; }
rmdir "$out/lost+found" 2>/dev/null || true
rm -f "$disk"
t_extract=$((SECONDS - t0))

# need FILE LOG: stop unless FILE is there and non-empty, naming the log
# to read and any error line the guest printed.
need() {
	local err
	[ -s "$out/$1" ] && return 0
	err=$(cat "$out"/serial-*.log 2>/dev/null | tr -d '\r' | grep -m1 '^@@LAB ERROR' || true)
	die "missing or empty: $1${err:+ (guest: ${err#@@LAB })}; see $out/$2"
}
# Check the capture now rather than after the QMP run.
need serial-first.log serial-first.log
need serial-capture.log serial-first.log
need capture.log serial-capture.log
[ -n "$crash" ] && [ $guest_mdf = 1 ] || need vmcore.elf capture.log

# 6.12 and 7.x: the capture kernel saved vmcore.elf only.  The newest
# makedumpfile makes the files the guest's makes for 6.1, with the same
# options, from it; each step goes to capture.log as in the guest, marked
# "host" (times are the host's clock, not the guest's uptime).
mdf_version() { "$1" -v 2>&1 | sed -n 's/^makedumpfile: version \([^ ]*\).*/\1/p' | head -1; }
if [ $guest_mdf = 1 ]; then
	filter_mdf=$(command -v makedumpfile)
	filter_mdf_where=guest
else
	filter_mdf=${CK_MAKEDUMPFILE:-$("$here/peers.sh" path makedumpfile 2>/dev/null || command -v makedumpfile)}
	filter_mdf_where=host
	log "host: makedumpfile $(mdf_version "$filter_mdf") ($filter_mdf) filters vmcore.elf"
	# Run in $out, so that the log names the files as the guest's does.
	host_step() {
		local name=$1 t0 rc
		shift
		echo "== $name: $* (on the host: $filter_mdf)" >> capture.log
		t0=$(date +%s.%2N)
		"$@" >> capture.log 2>&1 && rc=0 || rc=$?
		echo "@@STEP $name rc=$rc start=$t0 end=$(date +%s.%2N) host" >> capture.log
	}
	mdf() { "$filter_mdf" --message-level 22 "$@"; }
	flat() { mdf -F -c -d 31 vmcore.elf > vmcore.flat; }
	t0=$SECONDS
	if [ -n "$crash" ]; then
		# A crash-kind run keeps the -d 31 dump only.
		(cd "$out" && host_step vmcore.kdump-zlib mdf -c -d 31 vmcore.elf vmcore.kdump-zlib)
		rm -f "$out/vmcore.elf"
	else (
		cd "$out"
		host_step vmcore.kdump-zlib mdf -c -d 31 vmcore.elf vmcore.kdump-zlib
		host_step vmcore.kdump-lzo mdf -l -d 31 vmcore.elf vmcore.kdump-lzo
		host_step vmcore.flat flat
		host_step dmesg.makedumpfile.txt mdf --dump-dmesg vmcore.elf dmesg.makedumpfile.txt
	) fi
	t_filter=$((SECONDS - t0))
fi
steps="vmcore.elf vmcore.kdump-zlib vmcore.kdump-lzo vmcore.flat dmesg.makedumpfile.txt"
[ -z "$crash" ] || steps=vmcore.kdump-zlib
for step in $steps; do
	need "$step" capture.log
	grep -q "^@@STEP $step rc=0 " "$out/capture.log" ||
		die "capture step $step failed; see $out/capture.log"
done
# The hooks' exit codes are data for the tests that supply them (in
# truth.env), not a reason to throw the dumps away.
hook_capture_rc=$(sed -n 's/^@@STEP lab-hook-capture rc=\([0-9]*\) .*/\1/p' "$out/capture.log")
[ "${hook_capture_rc:-0}" = 0 ] || log "warning: lab-hook-capture exited $hook_capture_rc"

# QMP: one JSON command per line, match the reply by id; events and
# replies go to qmp.log.
qmp() {
	local id=c$((++qmp_id)) line
	printf '{"execute": "%s"%s, "id": "%s"}\n' "$1" "${2:+, \"arguments\": $2}" "$id" >&"${QMP[1]}"
	echo ">>> $1 ${2:-}" >> "$out/qmp.log"
	while IFS= read -r -t "$qemu_timeout" line <&"${QMP[0]}"; do
		echo "$line" >> "$out/qmp.log"
		case $line in *"\"id\": \"$id\""*) break ;; esac
	done
	case $line in
	*"\"id\": \"$id\""*) ;;
	*) die "QMP $1: no reply; see $out/qmp.log" ;;
	esac
	qmp_reply=$line
	case $line in *'"error"'*) return 1 ;; esac
}

if [ -n "$crash" ]; then
	# No QMP boot for a crash-kind run (see --crash).
	qemu_formats=
	t_qmp=
else
log "QMP run: live boot, dump-guest-memory"
sock=$work/qmp.sock
t0=$SECONDS
qemu -append "$first_append lab.mode=qmp" -device vmcoreinfo \
	-qmp "unix:$sock,server=on,wait=off" \
	-serial "file:$out/serial-qemu.log" &
qemu_pid=$!
until grep -q '^@@LAB READY' "$out/serial-qemu.log" 2>/dev/null; do
	kill -0 $qemu_pid 2>/dev/null || die "QMP run: QEMU died before READY; see $out/serial-qemu.log"
	[ $((SECONDS - t0)) -lt "$qemu_timeout" ] || die "QMP run: no READY; see $out/serial-qemu.log"
	sleep 0.5
done
t_ready=$((SECONDS - t0))
coproc QMP { socat - "UNIX-CONNECT:$sock"; }
qmp_id=0
read -r -t 30 line <&"${QMP[0]}" || die "QMP: no greeting"
echo "$line" > "$out/qmp.log"
qmp qmp_capabilities || die "QMP qmp_capabilities failed; see $out/qmp.log"
qmp query-dump-guest-memory-capability || die "QMP: no dump capability; see $out/qmp.log"
qemu_formats=
for fmt in elf kdump-zlib kdump-lzo kdump-snappy; do
	case $qmp_reply in *"\"$fmt\""*) qemu_formats+=" $fmt" ;; esac
done
qemu_formats=${qemu_formats# }
# Stop the guest so that every format holds the very same memory.
qmp stop || die "QMP stop failed; see $out/qmp.log"
for fmt in $qemu_formats; do
	qmp dump-guest-memory "{\"paging\": false, \"protocol\": \"file:$out/qemu.$fmt\", \"format\": \"$fmt\"}" ||
		log "dump-guest-memory $fmt failed; see $out/qmp.log"
	qmp query-dump || true
	case $qmp_reply in *'"completed"'*) ;; *) log "dump $fmt not completed: $qmp_reply" ;; esac
done
qmp quit || true
wait $qemu_pid || true
qemu_pid=
t_qmp=$((SECONDS - t0))
log "QMP run took ${t_qmp}s (ready after ${t_ready}s)"
fi

# ---------------------------------------------------------------- host side

cp "$kdebug/System.map-$kver" "$out/System.map"
cp "$kroot/boot/config-$kver" "$out/config"
cp "$kroot/boot/vmlinuz-$kver" "$out/vmlinuz"
# 600 MB: a hard link to the cache when it is on the same filesystem.
ln -f "$kdebug/vmlinux-$kver" "$out/vmlinux" 2>/dev/null ||
	cp "$kdebug/vmlinux-$kver" "$out/vmlinux"

# Reference results from the host's makedumpfile for each dump it can
# read; tests compare crashkit's output with these.  A failure is only
# noted in oracle.log (one OK/FAIL line per attempt), never fatal.  For
# 6.12 and 7.x this is the makedumpfile that filtered vmcore.elf, as
# Debian 12's misreads those kernels.
oracle() {
	local what=$1
	shift
	if "$@" > "$work/oracle.tmp" 2>&1; then
		echo "OK   $what" >> "$out/oracle.log"
	else
		echo "FAIL $what (rc=$?): $(tr '\n' ' ' < "$work/oracle.tmp")" >> "$out/oracle.log"
		return 1
	fi
}
oracle_mdf=$(command -v makedumpfile)
[ $guest_mdf = 1 ] || oracle_mdf=$filter_mdf
unflatten() { "$oracle_mdf" -R "$2" < "$1"; }
dump_dmesg() { "$oracle_mdf" --message-level 6 --dump-dmesg "$1" "$2"; }

log "host makedumpfile: reassemble flattened dumps, --dump-dmesg"
{
	echo "MDF  vmcore.kdump-zlib vmcore.kdump-lzo vmcore.flat dmesg.makedumpfile.txt: makedumpfile $(mdf_version "$filter_mdf") $([ $guest_mdf = 1 ] && echo "in the capture kernel" || echo "on the host, from vmcore.elf") ($filter_mdf)"
	echo "MDF  the lines below: makedumpfile $(mdf_version "$oracle_mdf") on the host ($oracle_mdf)"
} > "$out/oracle.log"
[ -n "$crash" ] || oracle "reassemble vmcore.flat" \
	unflatten "$out/vmcore.flat" "$out/vmcore.flat-reassembled" || true
for f in $qemu_formats; do
	case $f in kdump-*)
		# QEMU 7.2 writes its kdump formats flattened, like -F.
		oracle "reassemble qemu.$f" \
			unflatten "$out/qemu.$f" "$out/qemu.$f-reassembled" || true
	esac
done
for f in vmcore.elf vmcore.kdump-zlib vmcore.kdump-lzo vmcore.flat-reassembled \
	qemu.elf qemu.kdump-zlib-reassembled qemu.kdump-lzo-reassembled \
	qemu.kdump-snappy-reassembled; do
	[ -s "$out/$f" ] || continue
	oracle "dmesg.$f.txt" dump_dmesg "$out/$f" "$out/dmesg.$f.txt" ||
		rm -f "$out/dmesg.$f.txt"
done

# truth.env: what the guest was made to do.  Values with spaces are in
# single quotes, so the file can be sourced by sh.
emit() {
	case $2 in
	*[!A-Za-z0-9._/:+=,-]*) printf "%s='%s'\n" "$1" "$2" ;;
	*) printf '%s=%s\n' "$1" "$2" ;;
	esac
}
# _text as the guest saw it minus _text in System.map (hex, like
# VMCOREINFO's KERNELOFFSET).
kaslr_offset() {
	local run link
	run=$(lab_value KERNEL_TEXT "$1")
	link=$(awk '$3 == "_text" { print $1 }' "$out/System.map")
	[ -n "$run" ] && [ -n "$link" ] && printf '%x\n' $((0x$run - 0x$link))
}
first=$out/serial-first.log
qlog=$out/serial-qemu.log
[ -z "$crash" ] || qlog=/dev/null	# no QMP boot
# The panic prints "CPU: 0 PID: 123 Comm: ck_crash ..." before kexec
# (6.1; since 6.10 "CPU: 0 UID: 0 PID: 123 Comm: ...").
crash_pid=$(tr -d '\r' < "$first" |
	sed -n 's/.*CPU: [0-9]* \(UID: [0-9]* \)\{0,1\}PID: \([0-9]*\) Comm: ck_crash.*/\2/p' | head -1)
{
	emit KSERIES "$series"
	emit KVER "$kver"
	emit KERNEL_PACKAGE "$(sed -n 's/^Package: //p' "$kdir/package.txt")"
	emit KERNEL_PACKAGE_VERSION "$(sed -n 's/^Version: //p' "$kdir/package.txt")"
	emit KERNEL_RELEASE "$(lab_value KERNEL_RELEASE "$first")"
	emit KERNEL_VERSION "$(lab_value KERNEL_VERSION "$first")"
	emit MEM "$mem"
	emit MEM_BYTES "$mem_bytes"
	emit MEM_MB $((mem_bytes >> 20))
	emit MEMTOTAL_KB "$(lab_value MEMTOTAL_KB "$first")"
	emit NR_CPUS "$(lab_value NR_CPUS "$first")"
	emit CRASHKERNEL 256M
	emit CMDLINE_FIRST "$first_append lab.mode=crash"
	emit CMDLINE_CAPTURE "$capture_append"
	emit FILTER_WHERE "$filter_mdf_where"
	emit FILTER_MAKEDUMPFILE "$filter_mdf"
	emit FILTER_MAKEDUMPFILE_VERSION "$(mdf_version "$filter_mdf")"
	emit MARKER "$(lab_value MARKER "$first")"
	emit KERNEL_TEXT "$(lab_value KERNEL_TEXT "$first")"
	emit KASLR_OFFSET "$(kaslr_offset "$first")"
	emit MODULES "loop dummy qemu_fw_cfg"
	emit LOADED_MODULES "$(lab_value LOADED_MODULES "$first" | sed 's/ *$//')"
	emit BUSY_COMM ck_busy
	emit BUSY_CPU 1
	emit BUSY_PID "$(lab_value BUSY_PID "$first")"
	emit SLEEP_COMMS "ck_sleep1 ck_sleep2 ck_sleep3"
	emit SLEEP_PIDS "$(lab_value SLEEP_PIDS "$first")"
	emit FILES_COMM ck_files
	emit FILES_PID "$(lab_value FILES_PID "$first")"
	emit FILES_PATHS "$files_paths"
	emit FILES_FDS "10 11 12"
	emit FILL_MIB "$fill"
	emit FILL_COMM "$([ "$fill" = 0 ] || echo ck_fill)"
	emit FILL_PID "$(lab_value FILL_PID "$first")"
	emit FILL_BRD_MIB "$fill_brd"
	emit CRASH_COMM ck_crash
	emit CRASH_CPU 0
	emit CRASH_PID "$crash_pid"
	emit PANIC_MESSAGE "$(case $crash in '' | sysrq) echo "sysrq triggered crash" ;; esac)"
	emit EXTRA_INITRD "$extra"
	emit HOOK_FIRST_RC "$(lab_value HOOK_FIRST_RC "$first")"
	emit HOOK_CAPTURE_RC "$hook_capture_rc"
	emit QEMU_HOOK_FIRST_RC "$(lab_value HOOK_FIRST_RC "$qlog")"
	emit QEMU_MARKER "$(lab_value MARKER "$qlog")"
	emit QEMU_FORMATS "$qemu_formats"
	emit QEMU_KERNEL_TEXT "$(lab_value KERNEL_TEXT "$qlog")"
	emit QEMU_KASLR_OFFSET "$(kaslr_offset "$qlog")"
	emit QEMU_BUSY_PID "$(lab_value BUSY_PID "$qlog")"
	emit QEMU_SLEEP_PIDS "$(lab_value SLEEP_PIDS "$qlog")"
	emit QEMU_FILES_PID "$(lab_value FILES_PID "$qlog")"
	emit QEMU_FILL_PID "$(lab_value FILL_PID "$qlog")"
	emit TIME_CRASH_RUN_S "$t_crash"
	emit TIME_EXTRACT_S "$t_extract"
	emit TIME_HOST_FILTER_S "${t_filter:-}"
	emit TIME_QMP_RUN_S "$t_qmp"
	if [ -n "$crash" ]; then
		emit CRASH_KIND "$crash"
		emit CRASH_RUN "$crash_run"
		emit CRASH_MODULE "$([ "$crash" = sysrq ] || echo ck_crashmod)"
		emit CRASH_SYSCTLS "$(lab_value CRASH_SYSCTLS "$first")"
	fi
} > "$out/truth.env"

# ---------------------------------------------------------------- verdict

verdict_keys="KERNEL_RELEASE MARKER NR_CPUS BUSY_PID SLEEP_PIDS FILES_PID CRASH_PID QEMU_MARKER"
if [ -n "$crash" ]; then
	# The panic task of a crash kind need not be ck_crash (khungtaskd,
	# an idle task in softirq), and there is no QMP boot.
	verdict_keys="KERNEL_RELEASE MARKER NR_CPUS BUSY_PID SLEEP_PIDS FILES_PID"
else
need qmp.log serial-qemu.log
for f in $qemu_formats; do
	need "qemu.$f" qmp.log
done
need qemu.elf qmp.log
need qemu.kdump-zlib qmp.log
fi
for f in System.map config vmlinuz vmlinux oracle.log truth.env; do
	need "$f" serial-first.log
done
for key in $verdict_keys; do
	grep -q "^$key=." "$out/truth.env" ||
		die "truth.env lacks $key; see $out/serial-first.log and serial-qemu.log"
done

# The capture kernel and QEMU leave some files 0400; tests only read.
chmod -R a+rX "$out"
log "done in $((SECONDS - t_start))s: $out"
date -u +%FT%TZ > "$out/DONE"
echo "$out"
