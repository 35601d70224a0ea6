#!/usr/bin/env bash
# crashkit-analyze against the crash utility on the same dump in the same
# run: `crashkit-analyze analyze DUMP -c 'sys; bt; ps; log'` (no vmlinux:
# BTF, kallsyms and ORC from the dump) vs `crash -s VMLINUX DUMP` running
# the same commands from stdin.  Wall time (best of REPEATS) and peak RSS
# (/usr/bin/time -v) of each, and the ratios; issue 9's targets: time <=
# 0.05x crash's, peak RSS <= 0.25x.  The lab dumps of 6.1 and 6.12 (crash
# 9.0.2 does not read 7.x), each format present; absent ones are skipped.
#
# Usage: bench/analyze.sh [REPEATS]     (default 3)
# Environment: CK_ANALYZE (default build/release/crashkit-analyze, made
# first), CK_LAB_ROOT (default ~/.cache/crashkit/lab), CRASH (default
# the lab's peer, ~/.cache/crashkit/peers/crash.path, else crash on PATH).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
an=${CK_ANALYZE:-$top/build/release/crashkit-analyze}
[ -n "${CK_ANALYZE:-}" ] || make -s -C "$top" BUILD=release
reps=${1:-3}
root=${CK_LAB_ROOT:-$HOME/.cache/crashkit/lab}
crash=${CRASH:-$(cat "$HOME/.cache/crashkit/peers/crash.path" 2>/dev/null || command -v crash || true)}
[ -x "$crash" ] || { echo "bench/analyze.sh: no crash utility (set CRASH)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench/analyze.sh: needs /usr/bin/time (Debian: time)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmds='sys; bt; ps; log'
printf '%s\nq\n' "$(printf '%s' "$cmds" | sed 's/; */\n/g')" > "$tmp/cmds"

# measure OUT -- CMD...: best wall seconds and the peak RSS (KiB) of that
# run into $best_s $best_kb; stdin from $tmp/cmds, stdout to OUT.
measure() {
	local out=$1; shift 2
	best_s= best_kb=
	for ((i = 0; i < reps; i++)); do
		/usr/bin/time -v -o "$tmp/tv" "$@" < "$tmp/cmds" > "$out" 2> "$tmp/err" || true
		local s kb
		s=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); v = 0;
			for (j = 1; j <= n; j++) v = v * 60 + p[j]; print v }' "$tmp/tv")
		kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tmp/tv")
		if [ -z "$best_s" ] || awk -v a="$s" -v b="$best_s" 'BEGIN { exit !(a < b) }'; then
			best_s=$s best_kb=$kb
		fi
	done
}

printf '%-12s %-18s %9s %9s %7s %10s %10s %7s\n' kernel dump "ck(s)" "crash(s)" time "ck(MiB)" \
	"crash(MiB)" rss
for k in 6.1.0-57-amd64 6.12.117+deb12-amd64; do
	lab=$root/$k/run
	[ -s "$lab/vmlinux" ] || { echo "$k: no lab (skipped)"; continue; }
	for f in vmcore.kdump-zlib vmcore.elf qemu.elf; do
		dump=$lab/$f
		[ -s "$dump" ] || continue
		cat "$dump" "$lab/vmlinux" > /dev/null	# the same page cache for both
		measure "$tmp/ck.out" -- "$an" analyze "$dump" -c "$cmds"
		ck_s=$best_s ck_kb=$best_kb
		measure "$tmp/crash.out" -- "$crash" -s "$lab/vmlinux" "$dump"
		cr_s=$best_s cr_kb=$best_kb
		awk -v k="${k%%-*}" -v f="$f" -v a="$ck_s" -v b="$cr_s" -v ra="$ck_kb" -v rb="$cr_kb" 'BEGIN {
			printf "%-12s %-18s %9.3f %9.3f %7.3f %10.1f %10.1f %7.3f\n", k, f, a, b,
				(b > 0 ? a / b : 0), ra / 1024, rb / 1024, (rb > 0 ? ra / rb : 0) }'
		echo "  (ck: $(wc -l < "$tmp/ck.out") lines, crash: $(wc -l < "$tmp/crash.out") lines)"
	done
done
echo "(time, rss = crashkit-analyze / crash, best of $reps wall-clock runs; targets: time <= 0.05, rss <= 0.25)"
