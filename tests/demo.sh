#!/usr/bin/env bash
# The main job's demo: crash a throwaway Debian kernel under QEMU through the
# real kexec/kdump path, then show what crashkit reads from its dump.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
ck="$top/build/release/crashkit"
dir=$("$top/tests/lab/demo.sh" | tail -n 1)
dump="$dir/vmcore.kdump-zlib"
echo
echo "== crashkit info $dump"
"$ck" info "$dump"
echo
echo "== crashkit dmesg $dump | tail -n 25"
"$ck" dmesg "$dump" | tail -n 25
