#!/usr/bin/env bash
# The whole test suite: builds the release and the ASan+UBSan variants, runs
# the unit tests, the command-line tests and the lab tests (real Debian kernel
# crashed under QEMU), and ends with one line "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

jobs=$(nproc 2>/dev/null || echo 2)
echo "== build (release, asan)"
make -s -j"$jobs" BUILD=release || { echo "0 passed, 1 failed"; exit 1; }
make -s -j"$jobs" BUILD=asan || { echo "0 passed, 1 failed"; exit 1; }

export CK_RESULTS=$(mktemp)
export CK_TMP=$(mktemp -d)
trap 'rm -rf "$CK_TMP" "$CK_RESULTS"' EXIT
export CK="$top/build/asan/crashkit"
export CK_RELEASE="$top/build/release/crashkit"
export CK_BUILD="$top/build/asan"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=125
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=125

echo "== unit tests (asan)"
for t in build/asan/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	if out=$(timeout 600 "$t" 2>&1); then
		echo "ok - unit/$name ($(printf '%s\n' "$out" | tail -n 1))"
		echo pass >> "$CK_RESULTS"
	else
		printf '%s\n' "$out" | grep -v '^ok ' | tail -n 40
		echo "not ok - unit/$name"
		echo fail >> "$CK_RESULTS"
	fi
done

echo "== command-line tests"
for t in tests/cli/*.sh; do
	[ -f "$t" ] || continue
	timeout 900 bash "$t" || { echo "not ok - $t exited $?"; echo fail >> "$CK_RESULTS"; }
done

if [ "${CK_SKIP_LAB:-0}" = 1 ]; then
	echo "== lab tests skipped (CK_SKIP_LAB=1)"
else
	echo "== lab: crash a real kernel under QEMU"
	if labdir=$(tests/lab/lab.sh | tail -n 1) && [ -f "$labdir/DONE" ]; then
		export CK_LAB="$labdir"
		for t in tests/labtests/*.sh; do
			[ -f "$t" ] || continue
			timeout 1800 bash "$t" || { echo "not ok - $t exited $?"; echo fail >> "$CK_RESULTS"; }
		done
	else
		echo "not ok - lab run failed"
		echo fail >> "$CK_RESULTS"
	fi
fi

passed=$(grep -c '^pass$' "$CK_RESULTS" || true)
failed=$(grep -c '^fail$' "$CK_RESULTS" || true)
skipped=$(grep -c '^skip$' "$CK_RESULTS" || true)
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
