#!/usr/bin/env bash
# Times `crashkit dmesg` against `makedumpfile --dump-dmesg` on the same dumps
# of the lab's real crash, side by side in one run, and prints the ratio.
# Usage: bench/dmesg.sh [LABDIR] [REPEATS]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
ck="$top/build/release/crashkit"
[ -x "$ck" ] || make -s -C "$top" BUILD=release
lab=${1:-$("$top/tests/lab/lab.sh" | tail -n 1)}
reps=${2:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

now() { date +%s%N; }
# best of $reps wall-clock runs, in microseconds, of the command in "$@".
# makedumpfile refuses to overwrite its output file, so "$tmp/out" is removed
# before each run, outside the timed part.
best_us() {
	local best=-1 t0 t1 us
	for ((i = 0; i < reps; i++)); do
		rm -f "$tmp/out"
		t0=$(now); "$@" >/dev/null 2>&1 || true; t1=$(now)
		us=$(( (t1 - t0) / 1000 ))
		if [ "$best" -lt 0 ] || [ "$us" -lt "$best" ]; then best=$us; fi
	done
	echo "$best"
}

printf '%-26s %12s %12s %8s\n' dump "crashkit(us)" "makedumpfile(us)" ratio
for f in vmcore.kdump-zlib vmcore.kdump-lzo vmcore.elf; do
	dump="$lab/$f"
	[ -s "$dump" ] || continue
	cat "$dump" > /dev/null	# same page cache state for both
	ck_us=$(best_us "$ck" dmesg "$dump")
	mdf_us=$(best_us makedumpfile --dump-dmesg "$dump" "$tmp/out")
	ratio=$(awk -v a="$ck_us" -v b="$mdf_us" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
	printf '%-26s %12d %12d %8s\n' "$f" "$ck_us" "$mdf_us" "$ratio"
done
echo "(ratio = crashkit time / makedumpfile time, best of $reps; lower is better)"
