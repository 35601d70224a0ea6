#!/usr/bin/env bash
# --mem-usage's command line: argument errors with each mode's exit status
# (capture: 2, makedumpfile compatibility: makedumpfile's 1), and inputs
# that are not dumps give one line on stderr.  The counts themselves are
# checked in tests/unit/test_mem_usage.c and tests/labtests/mem_usage.sh.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"

d="$CK_TMP/mem-usage"
mkdir -p "$d"
head -c 65536 /dev/zero > "$d/zeros"

# expect_rc RC NAME CMD...: CMD exits with RC and prints one stderr line.
expect_rc() {
	local want=$1 name=$2 rc lines
	shift 2
	"$@" > "$d/out" 2> "$d/err"
	rc=$?
	lines=$(grep -c . "$d/err")
	if [ "$rc" = "$want" ] && [ "$lines" = 1 ] && [ ! -s "$d/out" ]; then
		pass "mem-usage cli: $name (exit $rc)"
	else
		fail "mem-usage cli: $name" "exit $rc, want $want; $lines stderr lines: $(head -c 200 "$d/err")"
	fi
}
expect_rc 2 "capture --mem-usage without VMCORE" "$CK" capture --mem-usage
expect_rc 2 "capture --mem-usage with two files" "$CK" capture --mem-usage "$d/zeros" "$d/x"
expect_rc 2 "capture --json without --mem-usage" "$CK" capture --json "$d/zeros" "$d/x"
expect_rc 1 "makedumpfile --mem-usage without VMCORE" "$CK" makedumpfile --mem-usage
expect_rc 1 "makedumpfile has no --json" "$CK" makedumpfile --mem-usage --json "$d/zeros"
expect_rc 1 "capture --mem-usage of zeros" "$CK" capture --mem-usage "$d/zeros"
expect_rc 1 "makedumpfile --mem-usage of a missing file" "$CK" makedumpfile --mem-usage "$d/none"
