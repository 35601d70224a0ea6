#!/usr/bin/env bash
# crashkit's own kdump path end to end under QEMU (docs/kdump.md, "The e2e
# lab"): the first kernel runs `crashkit kdump load` (which builds the
# capture initramfs: crashkit, its libraries, the modules, no busybox,
# makedumpfile or kexec-tools) and crashes with sysrq c; the capture kernel
# boots crashkit as /init, which mounts the target and runs `crashkit kdump
# save`; the host reads the disk back with debugfs.
#
#   tests/lab/kdump_e2e.sh [--kernel 6.1|6.12|7] [--bin DIR] [--target local|full|http|ssh]
#                          [--crashkernel SIZE] [--mem 1G] [--crash KIND] [--out DIR] [--force]
#
# --bin: the directory with crashkit and crashkit-kdump (default
# build/release).  The kernel and its modules come from lab.sh's cache
# (tests/lab/lab.sh --kernel S).  --crash KIND: the first kernel crashes
# through tests/lab/crashmod's ck_crashmod.ko (built against the kernel's
# headers, as lab.sh --crash does; exit 3 where it cannot be built) with
# panic_on_oops set, instead of sysrq c (KIND: null, the default sysrq).
# The run is cached in
# $CACHE/e2e/<kver>/<target>-ck<SIZE>-m<MEM>-<hash of the inputs>/ (DONE
# when complete); --out DIR runs into DIR instead, never cached (the demo).
# Progress on stderr; the last line on stdout is the dir.
set -euo pipefail

# A guest under TCG now and then dies in its own boot before anything of
# ours runs (seen: 7.3's first kernel, "Oops: int3" in set_next_task_fair
# while it patches its text, at 1.8 s): a failed run is tried once more,
# from scratch, and says so, as lab.sh does.  E2E_ATTEMPT marks the inner run.
if [ -z "${E2E_ATTEMPT:-}" ]; then
	rc=0
	E2E_ATTEMPT=1 bash "${BASH_SOURCE[0]}" "$@" || rc=$?
	[ $rc = 1 ] || exit $rc	# 0, or 2: usage
	echo "e2e: error: the run failed; trying once more from scratch" >&2
	E2E_ATTEMPT=2 exec bash "${BASH_SOURCE[0]}" "$@"
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
cache=${CRASHKIT_CACHE:-${HOME:-/root}/.cache/crashkit}
series=${CK_KSERIES:-6.1}
bin=$top/build/release
target=local
crashkernel=256M
mem=1G
crash=sysrq
force=0
out_arg=
qemu_timeout=${CRASHKIT_LAB_TIMEOUT:-300}

log() { echo "e2e: $*" >&2; }
die() { echo "e2e: error: $*" >&2; exit 1; }
usage() { sed -n 's/^#   //p' "${BASH_SOURCE[0]}" >&2; exit 2; }

while [ $# -gt 0 ]; do
	case $1 in
	--kernel) series=${2:?}; shift ;;
	--bin) bin=$(realpath "${2:?}"); shift ;;
	--target) target=${2:?}; shift ;;
	--crashkernel) crashkernel=${2:?}; shift ;;
	--mem) mem=${2:?}; shift ;;
	--crash) crash=${2:?}; shift ;;
	--force) force=1 ;;
	--out) out_arg=$(realpath -m "${2:?}"); shift ;;
	-h|--help) usage ;;
	*) echo "e2e: unknown argument: $1" >&2; usage ;;
	esac
	shift
done
case $target in local|full|http|ssh) ;; *) die "--target wants local, full, http or ssh" ;; esac
case $crash in sysrq|null|bug|warn|stack) ;; *) die "--crash wants sysrq, null, bug, warn or stack" ;; esac
for f in crashkit crashkit-kdump; do
	[ -x "$bin/$f" ] || die "no $bin/$f (make, or --bin DIR)"
done
for cmd in qemu-system-x86_64 busybox cpio mkfs.ext4 debugfs modprobe timeout sha256sum; do
	command -v "$cmd" > /dev/null || die "$cmd not found; apt-get install $(tr '\n' ' ' < "$here/deps.txt")"
done

# The kernel: lab.sh's cache (a cached lab run costs 0.3 s; the first one
# downloads and crashes once).
labdir=$("$here/lab.sh" --kernel "$series" | tail -1)
kver=$(sed -n 's/^KVER=//p' "$labdir/truth.env")
kroot=$cache/kernel/$kver/root
[ -d "$kroot/lib/modules/$kver" ] || die "no modules in $kroot"
crashmod_ko=
if [ "$crash" != sysrq ]; then
	rc=0
	crashmod_ko=$("$here/crashmod/build.sh" "$kver" "$series" | tail -1) || rc=$?
	[ $rc != 3 ] || { log "skipped: no ck_crashmod.ko for $kver"; exit 3; }
	[ $rc = 0 ] && [ -f "$crashmod_ko" ] || die "cannot build ck_crashmod.ko for $kver"
fi

# The cache key: everything that changes what the guests do.
key=$( {
	echo "$kver $target $crashkernel $mem ${CK_E2E_NIC:-}"
	[ "$crash" = sysrq ] || echo "crash $crash"
	sha256sum "$bin/crashkit" "$bin/crashkit-kdump" "${BASH_SOURCE[0]}" "$here/e2e/"* $crashmod_ko | cut -c1-64
} | sha256sum | cut -c1-12)
name=$target
[ "$crash" = sysrq ] || name+=-$crash
out=${out_arg:-$cache/e2e/$kver/$name-ck$crashkernel-m$mem-$key}
if [ $force = 0 ] && [ -z "$out_arg" ] && [ -f "$out/DONE" ]; then
	log "cached run: $out"
	echo "$out"
	exit 0
fi
mkdir -p "$(dirname "$out")"
exec 9> "$(dirname "$out")/.$(basename "$out").lock"
flock 9
# Only wipe a directory this script made.
if [ -e "$out" ] && [ -n "$(ls -A "$out")" ] && [ ! -f "$out/.crashkit-e2e" ]; then
	die "$out is not empty and not an e2e run"
fi
rm -rf "$out"
mkdir -p "$out"
touch "$out/.crashkit-e2e"
work=$(mktemp -d "${TMPDIR:-/tmp}/crashkit-e2e.XXXXXX")
helper_pid=
cleanup() {
	[ -z "$helper_pid" ] || kill "$helper_pid" 2> /dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
t_start=$SECONDS

# ---------------------------------------------------------------- first initramfs

# busybox for the first kernel only; crashkit and crashkit-kdump with the
# libraries ldd names (stripped, as a package ships them).
tree=$work/first
mkdir -p "$tree"/{bin,usr/bin,proc,sys,dev,tmp,run,boot,etc/crashkit,var/core,e2e/mods}
install -m 755 "$(command -v busybox)" "$tree/bin/busybox"
for applet in $(busybox --list); do
	[ -e "$tree/bin/$applet" ] || ln -s busybox "$tree/bin/$applet"
done
for f in crashkit crashkit-kdump; do
	install -s -m 755 "$bin/$f" "$tree/usr/bin/$f"
	for lib in $(ldd "$bin/$f" | grep -o '/[^ ]*'); do
		[ -e "$tree$lib" ] || install -D -m 755 "$(realpath "$lib")" "$tree$lib"
	done
done
cp "$kroot/boot/vmlinuz-$kver" "$tree/boot/vmlinuz-$kver"
cp "$kroot/boot/config-$kver" "$tree/boot/config-$kver"
# The kernel's module tree as far as the capture needs it: depmod's files
# and every module the disk (and the network) could want, at their paths.
mdir=lib/modules/$kver
mkdir -p "$tree/$mdir"
for f in modules.dep modules.softdep modules.alias modules.builtin modules.order; do
	[ -f "$kroot/$mdir/$f" ] && cp "$kroot/$mdir/$f" "$tree/$mdir/"
done
want="virtio_pci virtio_blk ext4 crc32c_generic virtio_net e1000 nvme ahci sd_mod virtio_scsi"
# (a name a kernel lacks, crc32c_generic on 7.x, is left out: || true)
for m in $want; do
	modprobe -d "$kroot" -S "$kver" --show-depends "$m" 2> /dev/null | awk '$1 == "insmod" { print $2 }' || true
done | sort -u | while read -r ko; do
	rel=${ko#"$kroot"/}
	rel=${rel#usr/}
	install -D -m 644 "$ko" "$tree/$rel"
done
# busybox insmod reads plain .ko only: the first kernel's own copies.
for m in virtio_pci virtio_blk ext4 virtio_net e1000; do
	modprobe -d "$kroot" -S "$kver" --show-depends "$m" 2> /dev/null | awk '$1 == "insmod" { print $2 }' || true
done | awk '!seen[$0]++ && !/crc32c-intel/' | while read -r ko; do
	name=$(basename "$ko" | sed 's/\.ko\(\.[a-z]*\)\?$//')
	case $ko in *.xz) xz -dc "$ko" ;; *.zst) zstd -dc "$ko" ;; *) cat "$ko" ;; esac > "$tree/e2e/mods/$name.ko"
	echo "$name"
done > "$tree/e2e/mods.list"
# The first system's identity, which the save must carry into the dump.
cat > "$tree/etc/os-release" <<OSR
PRETTY_NAME="crashkit e2e first system ($kver)"
NAME="crashkit-e2e"
ID=debian
VERSION_ID="12"
CK_E2E_MARKER=$key
OSR
install -m 755 "$here/e2e/init-first.sh" "$tree/init"
case $target in
local|full) echo "target /var/core/kernel-core" ;;
http) echo "target http://10.0.2.2:@PORT@/kernel-core" ;;
ssh) printf '%s\n' "target ssh root@10.0.2.2:$out/ssh" "ssh_port @PORT@" \
	"ssh_key /etc/crashkit/id_e2e" "ssh_known_hosts /etc/crashkit/known_hosts" ;;
esac > "$tree/etc/crashkit/kdump.conf"
cat >> "$tree/etc/crashkit/kdump.conf" <<'CONF'
format kdump
codec zstd
dump_level 31
final_action reboot
failure_action reboot
CONF
printf 'E2E_TARGET=%s\nE2E_CRASH=%s\n' "$target" "$crash" > "$tree/e2e/e2e.conf"
[ -z "$crashmod_ko" ] || install -m 644 "$crashmod_ko" "$tree/e2e/ck_crashmod.ko"
first_cpio=$work/first.cpio
(cd "$tree" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$first_cpio"
log "first initramfs $(du -h "$first_cpio" | cut -f1) (kernel $kver, target $target)"

# ---------------------------------------------------------------- QEMU

disk=$work/disk.img
if [ "$target" = full ]; then
	truncate -s 48M "$disk"
else
	truncate -s 2G "$disk"
fi
mkfs.ext4 -q -F -L ck-e2e "$disk"
net=()
case $target in
http)
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	sed -i "s/@PORT@/$port/" "$tree/etc/crashkit/kdump.conf"
	(cd "$tree" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$first_cpio"
	mkdir -p "$out/http"
	python3 "$here/e2e/http_put.py" 127.0.0.1 "$port" "$out/http" > "$out/http.log" 2>&1 &
	helper_pid=$!
	net=(-nic "user,model=${CK_E2E_NIC:-virtio-net-pci}")
	;;
ssh)
	# A private sshd on the host side (10.0.2.2 in the guest): root by key
	# only, its host key in the guest's known_hosts.
	command -v sshd > /dev/null || die "no sshd (apt-get install openssh-server)"
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	ssh-keygen -q -t ed25519 -N '' -f "$work/hostkey"
	ssh-keygen -q -t ed25519 -N '' -f "$tree/etc/crashkit/id_e2e"
	cp "$tree/etc/crashkit/id_e2e.pub" "$work/authorized_keys"
	echo "[10.0.2.2]:$port $(cut -d' ' -f1,2 "$work/hostkey.pub")" > "$tree/etc/crashkit/known_hosts"
	sed -i "s/@PORT@/$port/" "$tree/etc/crashkit/kdump.conf"
	# the first system's ssh, which the capture initramfs copies
	ssh_bin=$(command -v ssh)
	install -D -m 755 "$ssh_bin" "$tree/usr/bin/ssh"
	for lib in $(ldd "$ssh_bin" | grep -o '/[^ ]*'); do
		[ -e "$tree$lib" ] || install -D -m 755 "$(realpath "$lib")" "$tree$lib"
	done
	(cd "$tree" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$first_cpio"
	cat > "$work/sshd_config" <<SSHD
Port $port
ListenAddress 127.0.0.1
HostKey $work/hostkey
PidFile $work/sshd.pid
AuthorizedKeysFile $work/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
SSHD
	mkdir -p /run/sshd "$out/ssh"
	"$(command -v sshd)" -D -e -f "$work/sshd_config" > "$out/sshd.log" 2>&1 &
	helper_pid=$!
	net=(-nic "user,model=${CK_E2E_NIC:-virtio-net-pci}")
	;;
esac
t0=$SECONDS
timeout -k 10 "$qemu_timeout" qemu-system-x86_64 -accel tcg -m "$mem" -smp 2 -nodefaults \
	-display none -no-reboot -kernel "$kroot/boot/vmlinuz-$kver" -initrd "$first_cpio" \
	-append "console=ttyS0 crashkernel=$crashkernel panic=1" \
	-drive "file=$disk,if=virtio,format=raw" "${net[@]}" \
	-serial "file:$out/serial.log" || log "qemu exited with $? (124: killed after ${qemu_timeout}s)"
t_run=$((SECONDS - t0))
log "QEMU run took ${t_run}s; reading the disk"
mkdir -p "$out/disk"
debugfs -R "rdump / $out/disk" "$disk" 2> "$work/debugfs.log" || { cat "$work/debugfs.log" >&2; die "debugfs failed"; }
rm -rf "$out/disk/lost+found" "$out/disk/filler"
chmod -R a+rX "$out"

# ---------------------------------------------------------------- facts

serial=$(tr -d '\r' < "$out/serial.log")
value() { printf '%s\n' "$serial" | sed -n "s/^@@E2E $1=//p" | tail -1; }
mem_line=$(printf '%s\n' "$serial" | grep -m1 '^@@CK MEM ' || true)
memval() { printf '%s\n' "$mem_line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
dumpdir=
case $target in
local|full) dumpdir=$(find "$out/disk/kernel-core" -mindepth 1 -maxdepth 1 -type d 2> /dev/null | sort | tail -1 || true) ;;
http) dumpdir=$(find "$out/http/kernel-core" -mindepth 1 -maxdepth 1 -type d 2> /dev/null | sort | tail -1 || true) ;;
ssh) dumpdir=$(find "$out/ssh" -mindepth 1 -maxdepth 1 -type d 2> /dev/null | sort | tail -1 || true) ;;
esac
{
	echo "KSERIES=$series"
	echo "KVER=$kver"
	echo "TARGET=$target"
	echo "CRASH=$crash"
	echo "CRASHKERNEL=$crashkernel"
	echo "MEM=$mem"
	echo "DUMPDIR=$dumpdir"
	echo "MARKER='$(value MARKER)'"
	echo "LOADED=$(value KEXEC_CRASH_LOADED)"
	echo "INITRAMFS_BYTES=$(value INITRAMFS_BYTES)"
	echo "CAPTURE_MEMTOTAL_KB=$(memval total_kb)"
	echo "CAPTURE_FREE_BEFORE_KB=$(memval free_before_kb)"
	echo "CAPTURE_MIN_FREE_KB=$(memval min_free_kb)"
	echo "CAPTURE_MIN_AVAILABLE_KB=$(memval min_available_kb)"
	echo "SAVE_MAXRSS_KB=$(memval save_maxrss_kb)"
	echo "SAVE_RC=$(memval save_rc)"
	echo "TIME_QEMU_S=$t_run"
	echo "OS_RELEASE_MARKER=$key"
} > "$out/e2e.env"
log "done in $((SECONDS - t_start))s: $out"
# Only a run that reached the capture's end is cached.
[ -n "$mem_line" ] || die "the capture kernel did not finish the save; see $out/serial.log"
date -u +%FT%TZ > "$out/DONE"
echo "$out"
