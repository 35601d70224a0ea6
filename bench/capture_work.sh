#!/usr/bin/env bash
# How the work of `crashkit capture` splits over its threads, counted in
# instructions (valgrind --tool=callgrind --separate-threads=yes), which do
# not depend on what else the host runs.  bench/capture.sh times the same
# runs, but on a shared 2-vCPU VM the wall-clock speedup of 2 threads swings
# with the host (its "host ceiling" control has measured 1.03-1.38x for two
# independent processes); this script says what the program itself allows:
#   total      instructions of the whole run (1 and 2 threads: the work
#              must not grow with threads)
#   serial     the main thread's (start-up, filter, bitmaps, finish): the
#              workers wait for it
#   bound      total / (serial + (total - serial) / 2): the speedup 2 idle
#              CPUs would give if user-space instructions were all the
#              cost.  Workers take chunks one at a time, so their shares
#              even out in a real run; under valgrind, which runs one
#              thread at a time, the split between the two is arbitrary
#              and not shown.
# Kernel work (page-cache copies of pread/pwrite, writeback) is not counted;
# it runs in the workers' own system calls, except the file's inode lock
# that serialises buffered writes (docs/capture.md).
# Usage: bench/capture_work.sh [LABDIR] [CODECS]   (default CODECS: "l z")
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
ck="$top/build/release/crashkit"
[ -x "$ck" ] || make -s -C "$top" BUILD=release
command -v valgrind > /dev/null || { echo "bench: needs valgrind" >&2; exit 1; }
lab=${1:-$("$top/tests/lab/lab.sh" --fill-brd 512 | tail -n 1)}
codecs=${2:-l z}
vmcore="$lab/vmcore.elf"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Instruction totals per thread of one run, main thread first.
threads() {
	rm -f "$tmp"/cg.* "$tmp/out"
	valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$tmp/cg.%p" \
		"$ck" capture "$@" "$vmcore" "$tmp/out" > /dev/null 2>&1
	for f in $(ls "$tmp"/cg.*-* | sort -t- -k2 -n); do
		sed -n 's/^totals: //p' "$f"
	done
}

echo "vmcore: $vmcore ($(stat -c %s "$vmcore") bytes), -d 31, instructions (callgrind)"
printf '%-6s %14s %14s %8s %12s %8s %7s\n' codec "total 1 thr" "total 2 thr" growth serial "serial%" bound
for c in $codecs; do
	t1=$(threads -"$c" -d 31 --num-threads 1 | awk '{ s += $1 } END { printf "%.0f\n", s }')
	read -r main w1 w2 <<< "$(threads -"$c" -d 31 --num-threads 2 | tr '\n' ' ')"
	total=$((main + w1 + w2))
	printf '%-6s %14d %14d %8s %12d %8s %7s\n' "-$c" "$t1" "$total" \
		"$(echo "scale=3; $total / $t1" | bc -l)" "$main" \
		"$(echo "scale=2; 100 * $main / $total" | bc -l)" \
		"$(echo "scale=2; $total / ($main + ($total - $main) / 2)" | bc -l)"
done
