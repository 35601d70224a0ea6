#!/usr/bin/env bash
# The fuzz targets (tests/fuzz/, docs/fuzzing.md) as a regression test:
# builds them with clang (skipped, with the reason, when clang or libFuzzer
# is missing), replays every committed corpus file and every past finding
# (tests/fuzz/crashes/NAME/, fixed ones only) once, then fuzzes each target
# for CK_FUZZ_SECONDS (default 8) from a fixed seed (CK_FUZZ_SEED, default 1)
# into a scratch corpus.  Each target must exit 0; the lines report inputs
# and executions.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

# The fuzz build sits beside the builds under test (CK_OUT of tests/run.sh).
fo=build/fuzz
[ -n "${CK_BUILD:-}" ] && fo=$(dirname "$CK_BUILD")/fuzz
secs=${CK_FUZZ_SECONDS:-8}
cc=${FUZZ_CC:-clang}
d="$CK_TMP/fuzz"
mkdir -p "$d"
start=$(date +%s)

if ! command -v "$cc" > /dev/null 2>&1; then
	skip "fuzz: targets" "no $cc (tests/deps.sh installs clang)"
	exit 0
fi
printf 'int LLVMFuzzerTestOneInput(const unsigned char *p, unsigned long n) { return 0; }\n' \
	> "$d/probe.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined -o "$d/probe" "$d/probe.c" > "$d/probe.log" 2>&1; then
	skip "fuzz: targets" "$cc cannot link libFuzzer: $(head -c 200 "$d/probe.log")"
	exit 0
fi
if ! make -s -j"$(nproc 2>/dev/null || echo 2)" FUZZ_CC="$cc" FUZZ_O="$fo" fuzz-build \
	> "$d/build.log" 2>&1; then
	fail "fuzz: build" "$(grep -m 3 -E 'error|Error' "$d/build.log" | tr '\n' ' ')"
	exit 0
fi
pass "fuzz: build ($fo)"

export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1
for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	bin=$fo/$name
	if out=$(tests/fuzz/run.sh replay "$bin" 2>&1); then
		pass "fuzz replay: $name: ${out#*ok, }"
	else
		fail "fuzz replay: $name" "$(printf '%s' "$out" | tr '\n' ' ' | head -c 600)"
	fi
	# Known findings not fixed yet (docs/fuzzing.md): let the short run
	# look past them instead of finding them again on every run (none now).
	known=
	if out=$(FUZZ_WORK="$d/corpus" FUZZ_CRASHES="$d/crashes" \
		FUZZ_ARGS="-seed=${CK_FUZZ_SEED:-1} $known ${CK_FUZZ_ARGS:-}" \
		tests/fuzz/run.sh fuzz "$secs" "$bin" 2>&1); then
		pass "fuzz ${secs}s: $name: ${out#*ok, }"
	else
		fail "fuzz ${secs}s: $name" "$(printf '%s' "$out" | tr '\n' ' ' | head -c 600)"
	fi
done
echo "# fuzz: $(( $(date +%s) - start )) s"
