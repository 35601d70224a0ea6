#!/usr/bin/env bash
# README's two commands on a minimal Debian 12 (issue 12): unpacks a
# `debootstrap --variant=minbase bookworm` root (no make, no compiler, no
# git), copies a tree into it as a tarball would bring it (git archive:
# no .git), and runs the first two command lines of README.md's first code
# block there, each as one `sh -c` line, as root in the chroot.
#
#   tests/minbase.sh [--rev REV] [--keep] [--cold-cache] [--only 1|2]
#
# --rev: the commit to archive (default HEAD).  The lab cache
# ($CRASHKIT_CACHE, default ~/.cache/crashkit: kernels, peers, lab runs) is
# bind-mounted at the chroot's /root/.cache/crashkit unless --cold-cache, in
# which case the chroot downloads and builds everything itself (about an
# hour more).  The chroot root comes from the tarball tests/cli/deb.sh keeps
# ($CRASHKIT_CACHE/chroot/bookworm-minbase.tar.gz), made with debootstrap if
# it is missing.  Logs: $CK_MINBASE_LOGS (default /var/tmp/ck-minbase-logs)
# readme-1.log and readme-2.log; the last line says which passed.  Needs root.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${CRASHKIT_CACHE:-$HOME/.cache/crashkit}
tarball=$cache/chroot/bookworm-minbase.tar.gz
mirror=${CK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
rev=HEAD keep=0 cold=0 only=
while [ $# -gt 0 ]; do
	case $1 in
	--rev) rev=${2:?}; shift ;;
	--keep) keep=1 ;;
	--cold-cache) cold=1 ;;
	--only) only=${2:?}; shift ;;
	-h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "minbase.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || { echo "minbase.sh: needs root (chroot, mounts)" >&2; exit 1; }

work=$(mktemp -d /var/tmp/ck-minbase.XXXXXX)
root=$work/root
mounts=()
cleanup() {
	local m i
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
		m=${mounts[i]}
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	# never delete through a mount that is still there
	if [ "$keep" = 0 ] && ! grep -q " $work/" /proc/mounts; then
		rm -rf "$work"
	fi
}
trap cleanup EXIT
mnt() { mkdir -p "$root$2"; mount "${@:3}" "$1" "$root$2"; mounts+=("$root$2"); }

if [ ! -f "$tarball" ]; then
	command -v debootstrap > /dev/null || { echo "minbase.sh: no $tarball and no debootstrap" >&2; exit 1; }
	mkdir -p "$(dirname "$tarball")" "$work/boot"
	debootstrap --variant=minbase bookworm "$work/boot" "$mirror" > "$work/debootstrap.log" 2>&1
	tar -C "$work/boot" -czf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
	rm -rf "$work/boot"
fi
mkdir -p "$root"
tar -C "$root" -xzf "$tarball"
for tool in make gcc git; do
	if chroot "$root" sh -c "command -v $tool" > /dev/null 2>&1; then
		echo "minbase.sh: the chroot already has $tool: not a minimal root" >&2
		exit 1
	fi
done
# the source as a tarball brings it: no .git
mkdir -p "$root/root/crashkit"
git -C "$top" archive "$rev" | tar -C "$root/root/crashkit" -x
cp /etc/resolv.conf "$root/etc/resolv.conf"
mnt proc /proc -t proc
mnt sysfs /sys -t sysfs
mnt /dev /dev --bind
mnt devpts /dev/pts -t devpts
mnt tmpfs /run -t tmpfs
if [ "$cold" = 0 ]; then
	mkdir -p "$cache"
	mnt "$cache" /root/.cache/crashkit --bind
fi

# README's first code block: its first two lines are the commands
mapfile -t cmds < <(awk '/^```/ { if (++f == 2) exit; next } f == 1 && NF' "$top/README.md")
[ ${#cmds[@]} -ge 2 ] || { echo "minbase.sh: README.md has no two commands" >&2; exit 1; }
result=()
logs=${CK_MINBASE_LOGS:-/var/tmp/ck-minbase-logs}
mkdir -p "$logs"
for i in 1 2; do
	[ -z "$only" ] || [ "$only" = "$i" ] || continue
	log=$logs/readme-$i.log
	echo "== README command $i in the chroot: ${cmds[i - 1]}" >&2
	start=$(date +%s)
	if chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin TERM=dumb \
		sh -c "cd /root/crashkit && ${cmds[i - 1]}" > "$log" 2>&1; then
		result+=("command $i passed ($(( $(date +%s) - start )) s)")
	else
		result+=("command $i FAILED ($(( $(date +%s) - start )) s; $log)")
	fi
	tail -n 3 "$log" >&2
done
[ "$keep" = 1 ] && echo "minbase.sh: kept $work" >&2
echo "minbase.sh: ${result[*]}"
case "${result[*]}" in *FAILED*) exit 1 ;; esac
