#!/usr/bin/env bash
# Runs the fuzz targets (docs/fuzzing.md).
#
#   run.sh fuzz SECONDS BIN...    each target SECONDS over its committed corpus
#                                 (tests/fuzz/corpus/NAME, read only) and a
#                                 scratch corpus that keeps what it finds
#                                 (FUZZ_WORK, default build/fuzz/corpus/NAME),
#                                 with its dictionary; crashes go to
#                                 FUZZ_CRASHES (default build/fuzz/crashes/NAME/)
#   run.sh replay BIN...          each committed corpus file and each past
#                                 finding (tests/fuzz/crashes/NAME/) once
#
# FUZZ_ARGS adds libFuzzer flags.  One line per target: "NAME: ok, N executions, cov C, corpus F files" or the
# failure; exit status 1 if any target failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mode=${1:?mode}
shift
secs=
if [ "$mode" = fuzz ]; then
	secs=${1:?seconds}
	shift
fi
work=${FUZZ_WORK:-build/fuzz/corpus}
crashes=${FUZZ_CRASHES:-build/fuzz/crashes}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
failed=0
for bin in "$@"; do
	name=$(basename "$bin")
	corpus=$here/corpus/$name
	dict=$here/$name.dict
	args=(-max_len=65536 -timeout=20 -rss_limit_mb=2048)
	# FUZZ_ARGS: more libFuzzer flags (e.g. -malloc_limit_mb=8192 to look
	# past a known big allocation)
	read -r -a extra <<< "${FUZZ_ARGS:-}"
	args+=("${extra[@]}")
	[ -f "$dict" ] && args+=(-dict="$dict")
	log=$(mktemp)
	case $mode in
	replay)
		files=()
		for f in "$corpus"/* "$here/crashes/$name"/*; do
			[ -f "$f" ] && files+=("$f")
		done
		if [ ${#files[@]} -eq 0 ]; then
			echo "$name: no inputs"
			failed=1
			continue
		fi
		"$bin" "${args[@]}" "${files[@]}" > "$log" 2>&1
		rc=$?
		summary="${#files[@]} inputs replayed"
		;;
	fuzz)
		mkdir -p "$work/$name" "$crashes/$name"
		"$bin" "${args[@]}" -max_total_time="$secs" -print_final_stats=1 \
			-artifact_prefix="$crashes/$name/" "$work/$name" "$corpus" > "$log" 2>&1
		rc=$?
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
		cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
		summary="${execs:-?} executions, ${cov:-cov: ?}, corpus $(ls "$work/$name" | wc -l) files"
		;;
	*)
		echo "run.sh: unknown mode $mode" >&2
		exit 2
		;;
	esac
	if [ "$rc" -eq 0 ]; then
		echo "$name: ok, $summary"
	else
		echo "$name: FAILED (exit $rc)"
		grep -E 'ERROR|SUMMARY|#[0-9]+ 0x.* in |Test unit written' "$log" | head -n 12 | sed 's/^/  /'
		failed=1
	fi
	rm -f "$log"
done
exit $failed
