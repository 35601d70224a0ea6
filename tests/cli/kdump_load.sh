#!/usr/bin/env bash
# crashkit kdump initramfs | load | unload | status (docs/kdump.md "load",
# "initramfs") over a pretend machine (--root): the archive's contents and
# module order, --json, the command line load derives, the state file that
# status reads, and the one-line errors (no reservation, missing kernel, bad
# options).  Nothing is loaded: the pretend machine has no reservation, and
# load stops before kexec_file_load(2).
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
kd=$(dirname "$CK")/crashkit-kdump
if [ ! -x "$kd" ]; then
	skip "kdump load: crashkit-kdump" "no $kd"
	exit 0
fi
d=$CK_TMP/kdump_load
rm -rf "$d"
r=$d/root
rel=6.99.0-test
m=$r/lib/modules/$rel
mkdir -p "$m/kernel/fs/ext4" "$m/kernel/fs/jbd2" "$m/kernel/drivers/block" "$r/proc/sys/kernel" \
	"$r/sys/kernel" "$r/boot" "$r/etc"
echo "$rel" > "$r/proc/sys/kernel/osrelease"
echo 'BOOT_IMAGE=/vmlinuz root=UUID=1234 ro quiet crashkernel=256M console=ttyS0' > "$r/proc/cmdline"
echo 'CONFIG_MODULE_DECOMPRESS=y' > "$r/boot/config-$rel"
printf 'kernel/fs/ext4/ext4.ko.xz: kernel/fs/jbd2/jbd2.ko.xz\nkernel/fs/jbd2/jbd2.ko.xz:\nkernel/drivers/block/virtio_blk.ko.xz:\n' > "$m/modules.dep"
for f in fs/ext4/ext4 fs/jbd2/jbd2 drivers/block/virtio_blk; do
	echo "module $f" | xz -c > "$m/kernel/$f.ko.xz"
done
printf 'NAME="Pretend"\nID=pretend\n' > "$r/etc/os-release"
# a device target: looked for among this machine's disks (not found), so
# the usual controllers' modules and the filesystem's are asked for
printf 'target UUID=0b7c1a2e-1234-4cde-9f00-123456789abc /dumps\nfstype ext4\n' > "$d/kdump.conf"

# errors: one line, exit 1 or 2
expect_err() {
	local name=$1 code=$2 needle=$3 err rc=0
	shift 3
	err=$("$@" 2>&1 >/dev/null) || rc=$?
	if [ "$rc" = "$code" ] && [ "$(grep -c . <<< "$err")" = 1 ] && grep -q -- "$needle" <<< "$err"; then
		pass "$name"
	else
		fail "$name" "exit $rc: $err"
	fi
}

out=$d/ir.cpio
if "$kd" kdump initramfs -o "$out" --root "$r" --config "$d/kdump.conf" --compress none \
	> "$d/ir.txt" 2> "$d/ir.err"; then
	pass "kdump initramfs: builds ($(stat -c %s "$out") bytes)"
else
	fail "kdump initramfs: builds" "$(cat "$d/ir.err")"
fi
list=$(cpio -it < "$out" 2> /dev/null)
for f in init crashkit usr/bin/crashkit dev/console etc/crashkit/kdump.conf etc/crashkit/os-release \
	etc/crashkit/target etc/crashkit/modules "lib/modules/$rel/ext4.ko.xz" "lib/modules/$rel/jbd2.ko.xz" \
	"lib/modules/$rel/virtio_blk.ko.xz"; do
	grep -qx "$f" <<< "$list" || fail "kdump initramfs: has $f" "$(tr '\n' ' ' <<< "$list" | head -c 300)"
done
pass "kdump initramfs: crashkit as /init, kdump.conf, os-release, target, the modules"
check_fail "kdump initramfs: no shell or busybox" grep -Eq '(^|/)(sh|busybox|makedumpfile|kexec)$' <<< "$list"
# load order: jbd2 before ext4 (modules.dep), as written to /etc/crashkit/modules
(cd "$d" && rm -rf x && mkdir x && cd x && cpio -id --quiet < "$out" 2> /dev/null)
order=$(tr '\n' ' ' < "$d/x/etc/crashkit/modules")
case $order in
*jbd2.ko.xz*ext4.ko.xz*) pass "kdump initramfs: module load order ($order)" ;;
*) fail "kdump initramfs: module load order" "$order" ;;
esac
check "kdump initramfs: the target record names the UUID" grep -qx 'uuid=0b7c1a2e-1234-4cde-9f00-123456789abc' "$d/x/etc/crashkit/target"
check "kdump initramfs: .ko.xz kept (MODULE_DECOMPRESS)" cmp -s "$d/x/lib/modules/$rel/ext4.ko.xz" "$m/kernel/fs/ext4/ext4.ko.xz"
# without CONFIG_MODULE_DECOMPRESS the modules go in decompressed
mv "$r/boot/config-$rel" "$d/config.saved"
"$kd" kdump initramfs -o "$d/plain.cpio" --root "$r" --config "$d/kdump.conf" --compress none > /dev/null 2>&1
(cd "$d" && rm -rf y && mkdir y && cd y && cpio -id --quiet < "$d/plain.cpio" 2> /dev/null)
check "kdump initramfs: .ko.xz decompressed for a kernel without MODULE_DECOMPRESS" \
	grep -qx 'module fs/ext4/ext4' "$d/y/lib/modules/$rel/ext4.ko"
echo 'not xz' > "$m/kernel/fs/jbd2/jbd2.ko.xz"
expect_err "kdump initramfs: a module that does not decompress is named" 1 "jbd2.ko.xz': xz data does not decode" \
	"$kd" kdump initramfs -o "$d/x.img" --root "$r" --config "$d/kdump.conf"
echo "module fs/jbd2/jbd2" | xz -c > "$m/kernel/fs/jbd2/jbd2.ko.xz"
mv "$d/config.saved" "$r/boot/config-$rel"
# crashkit's NEEDED libraries and the loader are in it
missing=
for so in $(readelf -d "$CK" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
	grep -q "/$so\$" <<< "$list" || missing+=" $so"
done
check "kdump initramfs: crashkit's libraries${missing:+ (missing$missing)}" test -z "$missing"
check "kdump initramfs: the dynamic loader" grep -q 'ld-linux' <<< "$list"

"$kd" kdump initramfs -o "$d/ir2.img" --root "$r" --config "$d/kdump.conf" --json > "$d/ir.json" 2>&1
check "kdump initramfs --json: release, modules in order, missing ones" \
	jq -e --arg r "$rel" '.release == $r and (.modules | map(test("jbd2")) | index(true)) <
		(.modules | map(test("ext4")) | index(true)) and (.missing_modules | index("nvme")) != null' "$d/ir.json"
check "kdump initramfs: zstd by default" bash -c "head -c 4 '$d/ir2.img' | od -An -tx1 | grep -q '28 b5 2f fd'"

expect_err "kdump initramfs: bad --compress" 1 "zstd, gzip or none" \
	"$kd" kdump initramfs -o "$d/x.img" --root "$r" --config "$d/kdump.conf" --compress lz77
expect_err "kdump initramfs: missing --config names it" 1 "$d/nope.conf" \
	"$kd" kdump initramfs -o "$d/x.img" --root "$r" --config "$d/nope.conf"
printf 'target UUID=x /d\nbogus_key 1\n' > "$d/bad.conf"
expect_err "kdump initramfs: a bad kdump.conf line names file:line" 1 "bad.conf:2" \
	"$kd" kdump initramfs -o "$d/x.img" --root "$r" --config "$d/bad.conf"
expect_err "kdump initramfs: unknown option" 2 "unknown option" "$kd" kdump initramfs --frobnicate
expect_err "kdump load: --append with --command-line" 2 "do not go together" \
	"$CK" kdump load --append x --command-line y
echo 0 > "$r/sys/kernel/kexec_crash_size"
expect_err "kdump load: no reservation says to add crashkernel=" 1 "add crashkernel=SIZE" \
	"$CK" kdump load --root "$r" --config "$d/kdump.conf" --initramfs "$out"
echo 268435456 > "$r/sys/kernel/kexec_crash_size"
expect_err "kdump load: missing kernel is named" 1 "vmlinuz-$rel' not found" \
	"$CK" kdump load --root "$r" --config "$d/kdump.conf" --initramfs "$out"
"$CK" kdump load --dry-run --initramfs "$out" --append 'console=ttyS1' > "$d/dry.txt" 2>&1
check "kdump load --dry-run: the capture command line" grep -q '^command line: .*nr_cpus=1 irqpoll reset_devices.* console=ttyS1$' "$d/dry.txt"
check_fail "kdump load --dry-run: no crashkernel= in it" grep -q 'command line:.*crashkernel=' "$d/dry.txt"

# status over the pretend machine: not loaded (exit 1), then loaded with a
# state file (exit 0)
echo 0 > "$r/sys/kernel/kexec_crash_loaded"
check_fail "kdump status: not loaded, exit 1" "$CK" kdump status --root "$r"
echo 1 > "$r/sys/kernel/kexec_crash_loaded"
mkdir -p "$r/run/crashkit"
printf 'kernel=/boot/vmlinuz-%s\ninitramfs=%s\ninitramfs_bytes=123\ncmdline=ro nr_cpus=1\nloaded_at=2026-12-03T00:00:00Z\n' \
	"$rel" "$out" > "$r/run/crashkit/kdump.state"
check "kdump status: loaded, exit 0" "$CK" kdump status --root "$r"
"$CK" kdump status --root "$r" --json > "$d/st.json"
check "kdump status --json" jq -e '.loaded == true and .crash_size == 268435456 and .initramfs_bytes == 123 and (.cmdline | test("nr_cpus=1"))' "$d/st.json"
check "kdump --help lists load, status, initramfs" bash -c "'$CK' kdump --help | grep -q initramfs"
check "kdump init outside PID 1 refuses" bash -c "! '$CK' kdump init 2>&1 | grep -q . && false || '$CK' kdump init 2>&1 | grep -q 'PID 1'"
