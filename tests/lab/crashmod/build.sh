#!/usr/bin/env bash
# Build ck_crashmod.ko for one Debian kernel, out of tree, against that
# kernel's linux-headers-<kver>-amd64 (+ its -common and linux-kbuild
# packages), downloaded into the cache and unpacked with dpkg -x.
#
#   tests/lab/crashmod/build.sh KVER SERIES
#
# The .ko is cached as $cache/crashmod/<kver>-<hash of the module source>/
# ck_crashmod.ko; a cached build costs nothing.  The last line on stdout is
# the .ko's path.  Exit 3 (with the reason on stderr and in
# $cache/crashmod/<kver>-<hash>/SKIP) when the kernel cannot be built for
# here: Debian builds 7.x with gcc-14, which Debian 12 lacks.
set -euo pipefail

kver=${1:?usage: build.sh KVER SERIES}
series=${2:?usage: build.sh KVER SERIES}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lab=$(dirname "$here")
cache=${CRASHKIT_CACHE:-${HOME:-/root}/.cache/crashkit}
log() { echo "crashmod: $*" >&2; }
die() { echo "crashmod: error: $*" >&2; exit 1; }

hash=$(cat "$here/ck_crashmod.c" "$here/Kbuild" "$here/Makefile" "$here/build.sh" | sha256sum | cut -c1-12)
out=$cache/crashmod/$kver-$hash
if [ -f "$out/ck_crashmod.ko" ]; then
	echo "$out/ck_crashmod.ko"
	exit 0
fi
if [ -f "$out/SKIP" ]; then
	cat "$out/SKIP" >&2
	exit 3
fi
mkdir -p "$cache/crashmod" "$cache/headers"
exec 7> "$cache/crashmod/.$kver.lock"
flock 7

# The compiler Debian built the kernel with, from the headers' .config.
hdr=$cache/headers/$kver
if [ ! -d "$hdr" ]; then
	tmp=$(mktemp -d "$cache/headers/.fetch.XXXXXX")
	apt_get() {
		if [ "$series" = 7 ]; then "$lab/apt.sh" get "$@"; else apt-get "$@"; fi
	}
	apt_cache() {
		if [ "$series" = 7 ]; then "$lab/apt.sh" cache "$@"; else apt-cache "$@"; fi
	}
	# The amd64 headers depend on their -common and on linux-kbuild-*.
	pkgs="linux-headers-$kver $(apt_cache depends "linux-headers-$kver" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-headers-.*-common\|linux-kbuild-.*\)$/\1/p' | tr '\n' ' ')"
	log "downloading $pkgs"
	# shellcheck disable=SC2086  # one argument per package
	(cd "$tmp" && apt_get download $pkgs >&2) || { rm -rf "$tmp"; die "cannot download $pkgs"; }
	for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$tmp/root"; done
	rm "$tmp"/*.deb
	mv "$tmp" "$hdr"
fi
kdir=$hdr/root/usr/src/linux-headers-$kver
[ -f "$kdir/Makefile" ] || die "no $kdir/Makefile"
# The headers' Makefile includes the -common one by its installed path.
# Since 6.13 it also names itself as KBUILD_OUTPUT by that path.
sed -i -e "s|^include /usr/src/|include $hdr/root/usr/src/|" \
	-e "s|^KBUILD_OUTPUT=/usr/src/|KBUILD_OUTPUT=$hdr/root/usr/src/|" "$kdir/Makefile"
cc=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\([^ ]*\) .*/\1/p' "$kdir/.config")
if ! command -v "$cc" > /dev/null; then
	mkdir -p "$out"
	# gcc-12 cannot stand in: 7.x's flags need gcc 14 (gcc-12 rejects
	# -fmin-function-alignment=16, tried on 7.3.4).
	echo "crashmod: skip $kver: Debian built it with $cc, which this host lacks (gcc-12 rejects the flags of its config, e.g. -fmin-function-alignment=16)" | tee "$out/SKIP" >&2
	exit 3
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/crashmod.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$here/ck_crashmod.c" "$here/Kbuild" "$here/Makefile" "$work/"
log "building ck_crashmod.ko for $kver with $cc"
# No module BTF: it needs pahole (dwarves), which the lab does not need
# otherwise; the triage under test reads no module BTF.
if ! make -C "$work" KDIR="$kdir" CONFIG_DEBUG_INFO_BTF_MODULES= > "$work/build.log" 2>&1; then
	cat "$work/build.log" >&2
	die "build failed for $kver"
fi
mkdir -p "$out"
cp "$work/ck_crashmod.ko" "$out/ck_crashmod.ko.tmp"
cp "$work/build.log" "$out/build.log"
mv "$out/ck_crashmod.ko.tmp" "$out/ck_crashmod.ko"
echo "$out/ck_crashmod.ko"
