#!/usr/bin/env bash
# The demo (`make demo`, `crashkit demo`): crashkit's whole kdump story on a
# throwaway VM.  A Debian kernel boots under QEMU; its init runs
# `crashkit kdump load` (crashkit builds the capture initramfs and loads it
# with kexec_file_load), then crashes with sysrq c; the capture kernel boots
# crashkit as /init, which runs `crashkit kdump save` to the VM's disk.  The
# host reads the disk back and shows what the dump says: crashkit triage,
# info and the end of the kernel log.
#   tests/demo.sh [--kernel 6.1|6.12|7]       (CK_DEMO_BIN: the binaries' dir)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${CK_DEMO_BIN:-$top/build/release}
ck=$bin/crashkit
# A demo's VM disk and dump are ~60 MB: keep only this run's.
for old in /tmp/crashkit-demo.*; do
	[ -e "$old/.crashkit-e2e" ] && rm -rf "$old"
	[ -d "$old" ] && [ -z "$(ls -A "$old")" ] && rmdir "$old"
done
dir=$(mktemp -d /tmp/crashkit-demo.XXXXXX)
echo "== booting a throwaway Debian VM (QEMU, TCG): crashkit kdump load, sysrq c, crashkit kdump save" >&2
t0=$SECONDS
"$top/tests/lab/kdump_e2e.sh" --bin "$bin" --out "$dir" "$@" > /dev/null
# shellcheck disable=SC1091
. "$dir/e2e.env"
serial() { tr -d '\r' < "$dir/serial.log"; }
echo
echo "== the first kernel (serial console): crashkit kdump load, then the crash"
serial | grep -E '^(loaded: +/|initramfs:|command line:)|Kernel panic - not syncing' | awk '!seen[$0]++' | head -n 4
echo
echo "== the capture kernel: crashkit is /init"
serial | grep -E 'crashkit-init:|^crashkit kdump save:|^@@CK MEM' | sed 's/^@@CK MEM /memory: /'
echo
echo "== the dump directory, as saved on the VM's disk ($((SECONDS - t0)) s)"
ls -l "$DUMPDIR"
echo
echo "== crashkit triage $DUMPDIR/vmcore"
"$ck" triage "$DUMPDIR/vmcore" | head -n 24
echo
echo "== crashkit info"
"$ck" info "$DUMPDIR/vmcore"
echo
echo "== crashkit dmesg | tail -n 15"
"$ck" dmesg "$DUMPDIR/vmcore" | tail -n 15
echo
echo "(everything is in $dir)"
