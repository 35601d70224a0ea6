#!/usr/bin/env bash
# A download-only apt for the lab: Debian suites the host does not use
# (trixie-backports for Linux 7.x, sid for the newest peers' source
# packages), kept under the cache and never installed from.  The host's
# own apt configuration is not touched.
#
#   tests/lab/apt.sh get ARGS...     apt-get with the lab's configuration
#                                    (download PKG..., source --download-only PKG...)
#   tests/lab/apt.sh cache ARGS...   apt-cache likewise (policy, showsrc, search ...)
#   tests/lab/apt.sh update          refresh the lists (done by the first call)
#
# The archive is the one the host already uses for Debian: its URI is read
# from the host's sources, so no mirror is named here.  Lists older than a
# day are refreshed on the next call.
set -euo pipefail

cache=${CRASHKIT_CACHE:-${HOME:-/root}/.cache/crashkit}
root=$cache/apt
suites=${CRASHKIT_LAB_SUITES:-"trixie-backports sid"}

die() { echo "lab apt: error: $*" >&2; exit 1; }

# The URI of the host's Debian archive (not the security one), from deb822
# .sources files or one-line sources.list entries.
host_uri() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }' "$f")
		[ -n "$uri" ] && { echo "${uri%/}"; return; }
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\/.*\/debian\/?$/) { print $i; exit } }' "$f")
		[ -n "$uri" ] && { echo "${uri%/}"; return; }
	done
}

opts=(-o "Dir=$root" -o "Dir::State::status=$root/var/lib/dpkg/status"
	-o "Dir::Etc=$root/etc/apt" -o "Dir::Etc::trusted=/etc/apt/trusted.gpg"
	-o "Dir::Etc::trustedparts=/etc/apt/trusted.gpg.d"
	-o "Dir::Cache=$root/var/cache/apt" -o "APT::Architecture=amd64"
	-o "APT::Sandbox::User=root" -o "Debug::NoLocking=1")

setup() {
	local uri
	mkdir -p "$root/etc/apt/sources.list.d" "$root/etc/apt/preferences.d" \
		"$root/etc/apt/apt.conf.d" "$root/var/lib/apt/lists/partial" \
		"$root/var/cache/apt/archives/partial" "$root/var/lib/dpkg"
	[ -f "$root/var/lib/dpkg/status" ] || : > "$root/var/lib/dpkg/status"
	uri=$(host_uri)
	[ -n "$uri" ] || die "no Debian archive in the host's apt sources"
	cat > "$root/etc/apt/sources.list.d/lab.sources.new" <<-SRC
	Types: deb deb-src
	URIs: $uri
	Suites: $suites
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	SRC
	if ! cmp -s "$root/etc/apt/sources.list.d/lab.sources.new" "$root/etc/apt/sources.list.d/lab.sources"; then
		mv "$root/etc/apt/sources.list.d/lab.sources.new" "$root/etc/apt/sources.list.d/lab.sources"
		rm -f "$root/.updated"
	else
		rm -f "$root/etc/apt/sources.list.d/lab.sources.new"
	fi
}

update() {
	apt-get "${opts[@]}" -qq update >&2 || die "apt-get update failed"
	date +%s > "$root/.updated"
}

setup
exec 7> "$root/.lock"
flock 7
if [ ! -f "$root/.updated" ] || [ $(($(date +%s) - $(cat "$root/.updated"))) -gt 86400 ]; then
	update
fi
cmd=${1:-}
shift || true
case $cmd in
get) exec apt-get "${opts[@]}" "$@" ;;
cache) exec apt-cache "${opts[@]}" "$@" ;;
update) update ;;
*) sed -n 's/^#   //p' "$0" >&2; exit 2 ;;
esac
