#!/usr/bin/env bash
# The whole test suite: builds the release and the ASan+UBSan variants, runs
# the unit tests, the command-line tests and the lab tests (real Debian kernels
# crashed under QEMU: CK_LAB_KERNELS, default "6.1 6.12 7"), and ends with one
# line "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

jobs=$(nproc 2>/dev/null || echo 2)
# CK_OUT: where the two builds go (default build/: build/release and
# build/asan), so that two checkouts' worth of work can test side by side.
out=${CK_OUT:-build}
echo "== build (release, asan)"
make -s -j"$jobs" BUILD=release O="$out/release" || { echo "0 passed, 1 failed"; exit 1; }
make -s -j"$jobs" BUILD=asan O="$out/asan" || { echo "0 passed, 1 failed"; exit 1; }

export CK_RESULTS=$(mktemp)
export CK_TMP=$(mktemp -d)
trap 'rm -rf "$CK_TMP" "$CK_RESULTS"' EXIT
export CK="$top/$out/asan/crashkit"
export CK_RELEASE="$top/$out/release/crashkit"
export CK_BUILD="$top/$out/asan"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=125
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=125

echo "== unit tests (asan)"
for t in "$out"/asan/tests/test_*; do
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
	# The newest peers as oracles (crash, makedumpfile built by
	# tests/lab/peers.sh, the first time only); a variable already set wins,
	# and without them the lab tests use the host's.
	for peer in crash makedumpfile; do
		var=CK_$(echo "$peer" | tr a-z A-Z)
		[ -z "${!var:-}" ] || continue
		[ -x tests/lab/peers.sh ] && path=$(tests/lab/peers.sh path "$peer") && [ -n "$path" ] || continue
		export "$var=$path"
		echo "== peer $peer: $path"
	done
	# One lab per kernel series (docs/lab.md); a series whose lab run fails
	# is one failure, and the others still run.  Test lines carry the series.
	for series in ${CK_LAB_KERNELS:-6.1 6.12 7}; do
		echo "== lab $series: crash a real kernel under QEMU"
		if labdir=$(tests/lab/lab.sh --kernel "$series" | tail -n 1) && [ -f "$labdir/DONE" ]; then
			echo "== lab $series: $labdir"
			export CK_LAB="$labdir" CK_KSERIES="$series"
			# Data other tests read: triage_kinds.sh makes the crash
			# module's runs (analyze_modframes.sh, kdump_e2e.sh use
			# them), so it goes first; the loaded modules' debug files
			# for analyze_dwarf.sh's mod -s/-S (it skips without them).
			kver=$(sed -n 's/^KVER=//p' "$labdir/truth.env")
			tests/lab/debugmods.sh "$kver" > /dev/null 2> "$CK_TMP/debugmods.err" ||
				echo "# [$series] no module debug files: $(tail -n 1 "$CK_TMP/debugmods.err")"
			labtests=(tests/labtests/triage_kinds.sh)
			for t in tests/labtests/*.sh; do
				[ "$t" = "${labtests[0]}" ] || labtests+=("$t")
			done
			for t in "${labtests[@]}"; do
				[ -f "$t" ] || continue
				timeout 1800 bash "$t" | sed -u "s/^\(not \)\{0,1\}ok - /&[$series] /"
				rc=${PIPESTATUS[0]}
				[ "$rc" = 0 ] || { echo "not ok - [$series] $t exited $rc"; echo fail >> "$CK_RESULTS"; }
			done
		else
			echo "not ok - [$series] lab run failed"
			echo fail >> "$CK_RESULTS"
		fi
	done
fi

passed=$(grep -c '^pass$' "$CK_RESULTS" || true)
failed=$(grep -c '^fail$' "$CK_RESULTS" || true)
skipped=$(grep -c '^skip$' "$CK_RESULTS" || true)
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
