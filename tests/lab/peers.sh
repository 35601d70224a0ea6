#!/usr/bin/env bash
# The peers the lab tests use as oracles, newer than Debian 12's: crash and
# makedumpfile built from Debian sid's source packages (crash 9.0.2 bundles
# gdb 16.3; see docs/lab.md, "Peers").
#
#   tests/lab/peers.sh path crash|makedumpfile   the binary's absolute path,
#                                                building it the first time
#   tests/lab/peers.sh build [crash|makedumpfile]  build the newest sid
#                                                version if not cached (both)
#   tests/lab/peers.sh version crash|makedumpfile  the cached version
#
# Sources come through tests/lab/apt.sh (download-only, sid deb-src) and are
# built with the package's own debian/rules (dpkg-buildpackage -b) on the
# host's Debian 12 toolchain; the build dependencies are in tests/deps.sh.
# The result is unpacked into $CACHE/peers/<pkg>-<version>/ (built in a
# temporary directory and renamed when complete, under a lock), the build's
# output goes to $CACHE/peers/<pkg>-<version>.log.  A cached path answers
# without apt (a few ms).
#
# If the archive does not serve a package's source (sid's makedumpfile
# source answers 404 on this host's archive), the sid binary package is
# used instead: sid's build needs glibc 2.38, so its interpreter and
# RUNPATH are pointed at sid's libc6, unpacked beside it.  ORIGIN in the
# peer's directory says which of the two it is.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${CRASHKIT_CACHE:-${HOME:-/root}/.cache/crashkit}
peers=$cache/peers

die() { echo "peers: $*" >&2; exit 1; }
usage() { sed -n 's/^#   //p' "$0" >&2; exit 2; }

check_pkg() {
	case ${1:-} in
	crash|makedumpfile) ;;
	*) usage ;;
	esac
}

# The cached binary, from $peers/<pkg>.path (written last by install).
cached() {
	local p
	[ -f "$peers/$1.path" ] || return 1
	read -r p < "$peers/$1.path" || return 1
	[ -x "$p" ] || return 1
	echo "$p"
}

# The newest version apt knows of the package's source, e.g. 9.0.2+~16.3-1.
newest() {
	"$here/apt.sh" cache showsrc "$1" 2> /dev/null |
		awk '/^Version:/ { print $2 }' | sort -V | tail -n 1
}

# Build PKG=VERSION in $work, leaving .debs in $work; output to stdout.
build_source() {
	local pkg=$1 ver=$2 work=$3 src jobs
	jobs=${CRASHKIT_PEERS_JOBS:-$(nproc 2> /dev/null || echo 2)}
	(cd "$work" && "$here/apt.sh" get source --download-only "$pkg=$ver") || return 1
	(cd "$work" && dpkg-source -x ./*.dsc src) || return 1
	src=$work/src
	if ! (cd "$src" && dpkg-checkbuilddeps); then
		echo "peers: build dependencies missing: run tests/deps.sh"
		return 1
	fi
	# parallel=N: debhelper passes -jN to make, and crash's Makefile hands
	# its jobserver to the bundled gdb's build.  nocheck, nodoc,
	# noautodbgsym: only the binary matters.
	(cd "$src" && DEB_BUILD_OPTIONS="parallel=$jobs nocheck nodoc noautodbgsym" \
		dpkg-buildpackage -b -uc -us) || return 1
}

# The sid binary package and sid's libc6, for a package whose source the
# archive does not serve.  Leaves .debs in $work.
fetch_binary() {
	local pkg=$1 ver=$2 work=$3
	(cd "$work" && "$here/apt.sh" get download "$pkg=$ver" libc6) || return 1
}

# Unpack the .debs in $work into $root; for ORIGIN=binary, point the
# binary's interpreter and RUNPATH at the sid libc6 unpacked beside it
# ($final is where $root will be renamed to).
unpack() {
	local pkg=$1 work=$2 root=$3 final=$4 origin=$5 deb bin libdir
	mkdir -p "$root"
	for deb in "$work"/"$pkg"_*.deb "$work"/libc6_*.deb; do
		[ -f "$deb" ] || continue
		case $origin:$(basename "$deb") in
		source:libc6_*) continue ;;
		esac
		echo "unpacking $(basename "$deb")"
		dpkg-deb -x "$deb" "$root" || return 1
	done
	bin=$(cd "$root" && for d in usr/bin usr/sbin bin sbin; do
		[ -f "$d/$pkg" ] && { echo "$d/$pkg"; break; }; done)
	[ -n "$bin" ] || { echo "peers: no $pkg binary in the package"; return 1; }
	if [ "$origin" = binary ]; then
		libdir=usr/lib/x86_64-linux-gnu
		[ -f "$root/$libdir/libc.so.6" ] || { echo "peers: no libc.so.6 in sid's libc6"; return 1; }
		patchelf --set-interpreter "$final/$libdir/ld-linux-x86-64.so.2" \
			--set-rpath "$final/$libdir" "$root/$bin" || return 1
	fi
	echo "$bin" > "$root/BIN"
	echo "$origin" > "$root/ORIGIN"
}

build() {
	local pkg=$1 ver dir log work origin bin t0
	mkdir -p "$peers"
	exec 8> "$peers/.lock-$pkg"
	flock 8
	ver=$(newest "$pkg")
	[ -n "$ver" ] || die "no source version of $pkg in the lab's apt (tests/lab/apt.sh cache showsrc $pkg)"
	dir=$peers/$pkg-${ver#*:}
	log=$dir.log
	if [ -f "$dir/BIN" ] && [ -x "$dir/$(cat "$dir/BIN")" ]; then
		install_path "$pkg" "$dir/$(cat "$dir/BIN")"
		exec 8>&-
		return 0
	fi
	# Under the lock, any build directory left is one a killed build left.
	rm -rf "$peers/.build-$pkg".*
	work=$(mktemp -d "$peers/.build-$pkg.XXXXXX")
	trap 'rm -rf "${work:-}"' EXIT
	t0=$(date +%s)
	echo "peers: building $pkg $ver (log: $log)" >&2
	origin=source
	if ! build_source "$pkg" "$ver" "$work" > "$log" 2>&1; then
		if grep -q '^E: Failed to fetch .*\(\.dsc\|\.orig\.tar\|\.debian\.tar\)' "$log" &&
			! grep -q '^dpkg-buildpackage' "$log"; then
			# The archive lists the source but does not serve it.
			echo "peers: the archive does not serve $pkg's source; using sid's binary package" | tee -a "$log" >&2
			origin=binary
			rm -rf "${work:?}"/* && fetch_binary "$pkg" "$ver" "$work" >> "$log" 2>&1 ||
				{ rm -rf "$work"; die "fetching $pkg $ver failed, see $log"; }
		else
			rm -rf "$work"
			die "building $pkg $ver failed, see $log"
		fi
	fi
	unpack "$pkg" "$work" "$work/root" "$dir" "$origin" >> "$log" 2>&1 ||
		{ rm -rf "$work"; die "installing $pkg $ver failed, see $log"; }
	bin=$(cat "$work/root/BIN")
	echo "$ver" > "$work/root/VERSION"
	echo "peers: $pkg $ver ($origin) built in $(($(date +%s) - t0)) s" | tee -a "$log" >&2
	rm -rf "$dir"
	mv -T "$work/root" "$dir"
	rm -rf "$work"
	# It must run here (crash --version, makedumpfile -v); a binary
	# package's interpreter path is valid only after the rename.
	if ! "$dir/$bin" --version >> "$log" 2>&1 && ! "$dir/$bin" -v >> "$log" 2>&1; then
		rm -rf "$dir"; die "$pkg $ver does not run here, see $log"
	fi
	install_path "$pkg" "$dir/$bin"
	exec 8>&-
}

# $peers/<pkg>.path names the binary; written through a rename.
install_path() {
	echo "$2" > "$peers/$1.path.new"
	mv -f "$peers/$1.path.new" "$peers/$1.path"
}

cmd=${1:-}
case $cmd in
path)
	check_pkg "${2:-}"
	cached "$2" || { build "$2" && cached "$2"; } || die "no $2 after building it"
	;;
version)
	check_pkg "${2:-}"
	p=$(cached "$2") || die "$2 is not built (tests/lab/peers.sh build $2)"
	p=${p#"$peers"/}
	cat "$peers/${p%%/*}/VERSION"
	;;
build)
	if [ -n "${2:-}" ]; then
		check_pkg "$2"
		build "$2"
	else
		build makedumpfile
		build crash
	fi
	;;
*) usage ;;
esac
