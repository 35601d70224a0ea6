#!/usr/bin/env bash
# Times `crashkit triage` (no vmlinux) on the lab's dumps: best wall-clock
# time of REPEATS runs and the peak RSS (GNU time's %M), per dump and
# kernel.  The target (issue 10) is at most 0.25 s.  Besides each kernel's
# default lab run (1 GiB guest), the 4 GiB one when it is there:
# tests/lab/lab.sh --kernel 6.1 --mem 4G --crash sysrq (vmcore.kdump-zlib
# only, ~2 min; docs/lab.md "Crash kinds").
# Usage: bench/triage.sh [LABDIR...] [-n REPEATS]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${CK_BENCH_BUILD:-release}
ck="$top/build/$build/crashkit"
make -s -C "$top" BUILD="$build" "build/$build/crashkit" "build/$build/crashkit-analyze"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
reps=5
labs=()
while [ $# -gt 0 ]; do
	case $1 in
	-n) reps=$2; shift 2 ;;
	*) labs+=("$1"); shift ;;
	esac
done
if [ ${#labs[@]} -eq 0 ]; then
	for d in "$HOME"/.cache/crashkit/lab/*/run "$HOME"/.cache/crashkit/lab/*/run-m4G-crash-sysrq-1; do
		[ -f "$d/DONE" ] && labs+=("$d")
	done
fi
command -v /usr/bin/time > /dev/null || { echo "bench/triage.sh: needs GNU time" >&2; exit 1; }

printf '%-28s %-5s %-20s %10s %9s %9s\n' kernel mem dump "size(MiB)" "best(s)" "rss(KiB)"
for lab in "${labs[@]}"; do
	k=$(basename "$(dirname "$lab")")
	mem=$(sed -n 's/^MEM=//p' "$lab/truth.env" 2> /dev/null)
	for f in vmcore.kdump-zlib vmcore.elf qemu.elf; do
		dump="$lab/$f"
		[ -s "$dump" ] || continue
		cat "$dump" > /dev/null	# warm page cache: the time is crashkit's, not the disk's
		best="" rss=0
		for ((i = 0; i < reps; i++)); do
			/usr/bin/time -o "$tmp" -f '%e %M' "$ck" triage "$dump" > /dev/null 2>&1 || true
			read -r t m < <(tail -n 1 "$tmp")
			if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$t; fi
			[ "$m" -gt "$rss" ] && rss=$m
		done
		printf '%-28s %-5s %-20s %10d %9s %9d\n' "$k" "${mem:-?}" "$f" $(( $(stat -c %s "$dump") >> 20 )) "$best" "$rss"
	done
done
echo "(best of $reps; peak RSS over the runs; target <= 0.25 s)"
