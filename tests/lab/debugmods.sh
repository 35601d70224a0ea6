#!/usr/bin/env bash
# The debug files of the modules the lab loads (loop, dummy, qemu_fw_cfg),
# from the kernel's -dbg package, for `mod -s` / `mod -S` (issue 9).
#
#   tests/lab/debugmods.sh KVER [MODULE...]
#
# Downloads linux-image-KVER-dbg as lab.sh does (the host's apt-get for
# Debian 12's 6.1 and 6.12, tests/lab/apt.sh for series 7), extracts only
# usr/lib/debug/lib/modules/KVER/**/MODULE.ko (tar wildcards; tar stops
# once each was found) into $CRASHKIT_CACHE/kernel/KVER/debug-modules/
# (~/.cache/crashkit by default), flat: debug-modules/loop.ko, ...  Once
# per kernel: the directory appears (by rename) only when complete, and the
# .deb is removed.  Prints the directory.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${CRASHKIT_CACHE:-${HOME:-/root}/.cache/crashkit}
[ $# -ge 1 ] || { echo "usage: $0 KVER [MODULE...]" >&2; exit 2; }
kver=$1
shift
mods=("$@")
[ ${#mods[@]} -gt 0 ] || mods=(loop dummy qemu_fw_cfg)
dir=$cache/kernel/$kver/debug-modules
if [ -d "$dir" ]; then echo "$dir"; exit 0; fi
case $kver in
7.*) get() { "$here/apt.sh" get "$@"; } ;;
*) get() { apt-get "$@"; } ;;
esac
mkdir -p "$cache/kernel/$kver"
tmp=$(mktemp -d "$cache/kernel/.debugmods.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "debugmods: downloading linux-image-$kver-dbg" >&2
(cd "$tmp" && get download "linux-image-$kver-dbg" >&2)
deb=$(echo "$tmp"/linux-image-*-dbg_*.deb)
[ -f "$deb" ] || { echo "debugmods: no linux-image-$kver-dbg .deb" >&2; exit 1; }
pats=()
for m in "${mods[@]}"; do pats+=("*/lib/modules/$kver/*/$m.ko"); done
echo "debugmods: extracting ${mods[*]} from $(basename "$deb")" >&2
mkdir -p "$tmp/root" "$tmp/out"
# tar leaves the pipe once it has every file: dpkg-deb's SIGPIPE is expected
{ dpkg-deb --fsys-tarfile "$deb" 2> /dev/null || true; } |
	tar -x -C "$tmp/root" --wildcards --occurrence=1 "${pats[@]}" 2> /dev/null || true
for m in "${mods[@]}"; do
	f=$(find "$tmp/root" -name "$m.ko" -type f | head -n 1)
	[ -n "$f" ] || { echo "debugmods: no $m.ko in $(basename "$deb")" >&2; exit 1; }
	mv "$f" "$tmp/out/$m.ko"
done
rm -f "$deb"
mv "$tmp/out" "$dir"
echo "$dir"
