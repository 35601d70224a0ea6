#!/usr/bin/env bash
# Installs the Debian 12 packages that crashkit's build, tests and lab need.
# Idempotent and quick when everything is there: only missing packages are
# fetched, and `apt-get update` runs only when something must be installed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

pkgs=(
	# build
	build-essential pkg-config
	zlib1g-dev libzstd-dev liblzo2-dev libsnappy-dev liblz4-dev libjson-c-dev
	libelf-dev libdw-dev libsqlite3-dev libdeflate-dev libisal-dev
	# crashkit kdump initramfs: .ko.xz modules for kernels without MODULE_DECOMPRESS
	liblzma-dev
	# the fuzz targets (make fuzz, tests/cli/fuzz.sh): clang 14 and its
	# runtimes (libFuzzer, ASan, UBSan: clang-14 only recommends them)
	clang libclang-rt-14-dev
	# peers used as oracles in the tests
	makedumpfile crash gdb elfutils libkdumpfile-dev
	# crashkit-analyze: BTF, disassembly, the shell
	libbpf-dev libcapstone-dev libedit-dev
	# building the newer peers from Debian sid's sources (tests/lab/peers.sh):
	# crash's Build-Depends, GMP for its bundled gdb, patchelf for a sid
	# binary package run on sid's libc
	dpkg-dev debhelper binutils-dev bison gawk flex texinfo libmpfr-dev libgmp-dev
	libncurses-dev libbz2-dev patchelf
	# tests/cli/cores.sh, bench/cores.sh
	jq zstd bc time python3 util-linux
	# tests/cli/list.sh: an old catalog made by hand (signature migration)
	sqlite3
	# tests/cli/kdump_save.sh: the ssh target against a real sshd
	openssh-server openssh-client
	# the Debian package (debian/, tests/cli/deb.sh): the build needs dpkg-dev
	# and debhelper (above), the test a fresh bookworm chroot and lintian
	debootstrap lintian
	# the crash lab
	qemu-system-x86 cpio busybox-static kexec-tools e2fsprogs socat
)
if [ -f "$here/lab/deps.txt" ]; then
	while read -r p; do
		p=${p%%#*}; p=${p//[[:space:]]/}
		[ -n "$p" ] && pkgs+=("$p")
	done < "$here/lab/deps.txt"
fi

missing=()
for p in "${pkgs[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages and not root: ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
