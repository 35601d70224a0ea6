#!/usr/bin/env bash
# Deterministic mutation smoke test of the whole read path on real dumps,
# under ASan/UBSan: flipped bytes may give errors, never a crash or a hang.
set -uo pipefail
. "$(dirname "$0")/common.sh"

mut="$CK_BUILD/tests/ck-mutate"
run() {	# run NAME DUMP HEAD ITERATIONS
	local out rc=0
	[ -s "$2" ] || { skip "mutate $1" "no $2"; return; }
	out=$(timeout 600 "$mut" "$2" "$3" "$4" 1 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then pass "mutate $1: $4 runs ($out)"
	else fail "mutate $1" "exit $rc: $(printf '%s' "$out" | grep -m3 -E 'ERROR|runtime error|SUMMARY' | tr '\n' ' ')"; fi
}
size=$(stat -c %s "$CK_LAB/vmcore.kdump-zlib" 2>/dev/null || echo 0)
run kdump-zlib "$CK_LAB/vmcore.kdump-zlib" "$size" "${CK_MUTATE_ITERS:-300}"
run flat "$CK_LAB/vmcore.flat" "$(stat -c %s "$CK_LAB/vmcore.flat" 2>/dev/null || echo 0)" "${CK_MUTATE_ITERS:-200}"
# the first 64 MiB of /proc/vmcore hold the notes and the whole kernel image
run elf-head "$CK_LAB/vmcore.elf" 67108864 "${CK_MUTATE_ITERS:-300}"
