# Shared by the shell tests (sourced).  Each check prints one TAP-like line
# and appends to the counters that tests/run.sh adds up.
#
#   check "name" command args...     passes when the command exits 0
#   check_fail "name" command...     passes when the command exits non-zero
#   pass "name" / fail "name" "why"
#
# Environment (set by tests/run.sh): CK = the crashkit binary under test,
# CK_RESULTS = the file that collects "pass"/"fail" words, CK_TMP = scratch dir.
: "${CK:?CK must name the crashkit binary}"
: "${CK_RESULTS:=/dev/null}"
: "${CK_TMP:=$(mktemp -d)}"

pass() {
	echo "ok - $1"
	echo pass >> "$CK_RESULTS"
}

fail() {
	echo "not ok - $1${2:+: $2}"
	echo fail >> "$CK_RESULTS"
}

skip() {
	echo "ok - $1 # SKIP ${2:-}"
	echo skip >> "$CK_RESULTS"
}

check() {
	local name=$1; shift
	local out
	if out=$("$@" 2>&1); then
		pass "$name"
	else
		fail "$name" "$(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"
	fi
}

check_fail() {
	local name=$1; shift
	if "$@" >/dev/null 2>&1; then
		fail "$name" "expected a failure, got exit 0"
	else
		pass "$name"
	fi
}

# Runs crashkit expecting a clean failure: non-zero exit below 128 (no signal,
# no sanitizer abort), exactly one line on stderr that names the file.
# Usage: expect_clean_error NAME FILE-IN-MESSAGE crashkit-args...
expect_clean_error() {
	local name=$1 needle=$2; shift 2
	local err rc=0
	err=$(timeout 60 "$CK" "$@" 2>&1 >/dev/null) || rc=$?
	local lines
	lines=$(printf '%s\n' "$err" | grep -c . || true)
	if [ "$rc" -eq 0 ]; then
		fail "$name" "exit 0"
	elif [ "$rc" -ge 124 ]; then
		fail "$name" "exit $rc (timeout, signal or sanitizer): $(printf '%s' "$err" | head -c 300)"
	elif [ "$lines" -ne 1 ]; then
		fail "$name" "$lines lines on stderr: $(printf '%s' "$err" | head -c 300)"
	elif [ -n "$needle" ] && ! printf '%s' "$err" | grep -qF -- "$needle"; then
		fail "$name" "message does not name '$needle': $err"
	else
		pass "$name"
	fi
}
