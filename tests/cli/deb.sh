#!/usr/bin/env bash
# The Debian package (debian/, README "Install"): `dpkg-buildpackage -us -uc
# -b` on a copy of the tree (the working tree stays clean), the .deb holding
# every executable `make install` installs, the man pages of docs/man/ and the
# bash completion, lintian without errors, and then the package installed
# with apt into a fresh Debian 12 chroot (debootstrap --variant=minbase,
# made once and kept as a tarball in $CRASHKIT_CACHE/chroot/) where
# `crashkit --version`, `crashkit info` and `crashkit analyze -c sys` run on
# a dump made by tests/tools/ck-mkkernel.
#
# Needs root (chroot, the package build's install step), dpkg-dev, debhelper,
# lintian, debootstrap (the first time) and the network (apt in the chroot):
# what is missing is a skip with the reason.  Measured on two cores: 1.5
# minutes (25 s the package build, 5-45 s apt in the chroot, the rest
# unpacking the chroot and lintian), 50 s more the first time (debootstrap),
# so it runs in every `make check`; CK_DEB_TEST=0 skips it.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
bdir=${CK_BUILD:-$(dirname "$CK")}
mk=$bdir/tests/ck-mkkernel
cache=${CRASHKIT_CACHE:-$HOME/.cache/crashkit}/chroot
tarball=$cache/bookworm-minbase.tar.gz
mirror=${CK_DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ "${CK_DEB_TEST:-1}" = 0 ]; then
	skip "deb: package" "CK_DEB_TEST=0"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	skip "deb: package" "not root (chroot and apt need it)"
	exit 0
fi
for tool in dpkg-buildpackage dh lintian chroot; do
	if ! command -v "$tool" >/dev/null; then
		skip "deb: package" "no $tool (make deps installs it)"
		exit 0
	fi
done
if [ ! -f "$tarball" ] && ! command -v debootstrap >/dev/null; then
	skip "deb: package" "no $tarball and no debootstrap to make it"
	exit 0
fi
if [ ! -x "$mk" ]; then
	fail "deb: ck-mkkernel" "no $mk"
	exit 0
fi

work=$(mktemp -d "$CK_TMP/deb.XXXXXX")
root=$work/root
cleanup() {
	if mountpoint -q "$root/proc" 2>/dev/null; then
		umount "$root/proc" 2>/dev/null || umount -l "$root/proc"
	fi
	# never delete through a mount that is still there
	mountpoint -q "$root/proc" 2>/dev/null || rm -rf "$work"
}
trap cleanup EXIT

# ---- build ----
# A copy of the working tree (not of git's index: a file not yet committed
# is built as `make` builds it), without the builds and .git.
src=$work/crashkit
mkdir -p "$src"
tar -C "$top" --exclude=./build --exclude=./.git -cf - . | tar -C "$src" -xf -
rm -rf "$src/debian/crashkit" "$src/debian/.debhelper" "$src/debian/files"
t0=$(date +%s)
# `make check`'s MAKEFLAGS (its command-line variables, a jobserver) are
# not the package's business.
if (cd "$src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL dpkg-buildpackage -us -uc -b -J"$(nproc 2>/dev/null || echo 2)") > "$work/build.log" 2>&1
then
	pass "deb: dpkg-buildpackage -us -uc -b ($(( $(date +%s) - t0 )) s)"
else
	fail "deb: dpkg-buildpackage -us -uc -b" "$(grep -m 3 -E 'error|Error' "$work/build.log" | tr '\n' ' ')"
	tail -n 30 "$work/build.log" | sed 's/^/# /'
	exit 0
fi
version=$(cd "$src" && dpkg-parsechangelog -S Version)
arch=$(dpkg --print-architecture)
deb=$work/crashkit_${version}_${arch}.deb
if [ ! -f "$deb" ]; then
	fail "deb: the .deb" "no $(basename "$deb") in $(ls "$work" | tr '\n' ' ')"
	exit 0
fi
# ---- contents ----
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's,^\./,/,' > "$work/contents"
want=()
# the executables are the prerequisites of `make install`
for p in $(make -C "$top" --no-print-directory -s -pn BUILD=release install 2>/dev/null |
		sed -n 's/^install: *//p'); do
	want+=("/usr/bin/$(basename "$p")")
done
for m in "$top"/docs/man/*.[1-8]; do
	n=$(basename "$m")
	want+=("/usr/share/man/man${n##*.}/$n.gz")
done
want+=(/usr/share/bash-completion/completions/crashkit
	/usr/share/doc/crashkit/copyright /usr/share/doc/crashkit/changelog.Debian.gz)
# kdump (docs/kdump.md "load"): the units of dist/ and the default kdump.conf
for u in "$top"/dist/*.service "$top"/dist/*.path; do
	[ -e "$u" ] && want+=("/lib/systemd/system/$(basename "$u")")
done
want+=(/etc/crashkit/kdump.conf)
missing=()
for f in "${want[@]}"; do
	grep -qxF -- "$f" "$work/contents" || missing+=("$f")
done
if [ ${#want[@]} -lt 12 ]; then
	fail "deb: contents" "only ${#want[@]} files expected: make -pn install gave nothing?"
elif [ ${#missing[@]} -eq 0 ]; then
	pass "deb: contents (${#want[@]} files: executables, man pages, completion)"
else
	fail "deb: contents" "missing ${missing[*]}"
fi
if dpkg-deb -f "$deb" Depends | grep -q 'libbpf1' && dpkg-deb -f "$deb" Depends | grep -q 'libc6'; then
	pass "deb: Depends from shlibs"
else
	fail "deb: Depends from shlibs" "$(dpkg-deb -f "$deb" Depends)"
fi

# ---- lintian ----
changes=$(ls "$work"/crashkit_"${version}"_*.changes 2>/dev/null | head -n 1)
lintian --fail-on error --tag-display-limit 0 "$changes" > "$work/lintian.log" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then
	pass "deb: lintian, no errors ($(grep -c '^W:' "$work/lintian.log") warnings)"
else
	fail "deb: lintian" "exit $rc: $(grep -E '^E:' "$work/lintian.log" | head -n 5 | tr '\n' ' ')"
fi
grep -E '^[EW]:' "$work/lintian.log" | sed 's/^/# /'

# ---- a fresh Debian 12 ----
# Made once: debootstrap minbase, the security and updates suites as a fresh
# install has them, packed into a tarball (under a lock: two runs at once).
make_chroot() {
	local new=$work/new
	debootstrap --variant=minbase bookworm "$new" "$mirror" > "$work/debootstrap.log" 2>&1 ||
		return 1
	cat > "$new/etc/apt/sources.list" <<-EOF
	deb $mirror bookworm main
	deb $mirror bookworm-updates main
	deb http://deb.debian.org/debian-security bookworm-security main
	EOF
	chroot "$new" apt-get clean
	mkdir -p "$cache"
	tar -C "$new" -czf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
	rm -rf "$new"
}
mkdir -p "$cache"
(
	flock 9
	[ -f "$tarball" ] || make_chroot
) 9> "$cache/.lock"
if [ ! -f "$tarball" ]; then
	why=$(tail -n 3 "$work/debootstrap.log" 2>/dev/null | tr '\n' ' ')
	if grep -qiE 'Failed getting release file|resolv|Connection|unreachable' "$work/debootstrap.log" 2>/dev/null; then
		skip "deb: debootstrap bookworm" "no network: $why"
	else
		fail "deb: debootstrap bookworm" "$why"
	fi
	exit 0
fi
mkdir -p "$root"
tar -C "$root" -xzf "$tarball"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null
mount -t proc proc "$root/proc"
cp "$deb" "$root/tmp/"
in_root() {
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}
t0=$(date +%s)
if in_root sh -c 'apt-get update -q && cd /tmp && apt-get install -y -q --no-install-recommends ./'"$(basename "$deb")" \
		> "$work/apt.log" 2>&1; then
	pass "deb: apt-get install ./$(basename "$deb") in a fresh bookworm ($(( $(date +%s) - t0 )) s)"
else
	if grep -qE 'Temporary failure resolving|Could not resolve|Failed to fetch|Unable to connect' "$work/apt.log"; then
		skip "deb: apt-get install in the chroot" "no network: $(grep -m 1 -E 'resolv|fetch|connect' "$work/apt.log")"
	else
		fail "deb: apt-get install in the chroot" "$(tail -n 3 "$work/apt.log" | tr '\n' ' ')"
	fi
	exit 0
fi

# ---- the installed commands ----
"$mk" "$root/tmp/kernel.elf" || { fail "deb: ck-mkkernel" "cannot write the dump"; exit 0; }
out=$(in_root crashkit --version 2>&1)
if [ "$out" = "crashkit $(sed -n 's/^VERSION := //p' "$top/Makefile")" ]; then
	pass "deb: crashkit --version in the chroot"
else
	fail "deb: crashkit --version in the chroot" "$out"
fi
# ck-mkkernel's kernel: its release string is what info must name
rel=$("$CK" info --json "$root/tmp/kernel.elf" 2>/dev/null | sed -n 's/.*"release": *"\([^"]*\)".*/\1/p' | head -n 1)
rc=0
out=$(in_root timeout 60 crashkit info /tmp/kernel.elf 2>&1) || rc=$?
if [ "$rc" -eq 0 ] && { [ -z "$rel" ] || printf '%s' "$out" | grep -qF -- "$rel"; }; then
	pass "deb: crashkit info DUMP in the chroot"
else
	fail "deb: crashkit info DUMP in the chroot" "exit $rc, release '$rel': $(printf '%s' "$out" | head -c 300)"
fi
rc=0
out=$(in_root timeout 60 crashkit analyze /tmp/kernel.elf -c sys 2>&1) || rc=$?
if [ "$rc" -eq 0 ] && printf '%s' "$out" | grep -qE "RELEASE: +${rel:-.}"; then
	pass "deb: crashkit analyze DUMP -c sys in the chroot"
else
	fail "deb: crashkit analyze DUMP -c sys in the chroot" "exit $rc: $(printf '%s' "$out" | head -c 300)"
fi
# crashkit cores runs the crashkit-cores installed next to it
rc=0
out=$(in_root timeout 60 crashkit cores --help 2>&1) || rc=$?
if [ "$rc" -eq 0 ] && printf '%s' "$out" | grep -q '^usage: '; then
	pass "deb: crashkit cores --help in the chroot"
else
	fail "deb: crashkit cores --help in the chroot" "exit $rc: $(printf '%s' "$out" | head -c 300)"
fi
exit 0
