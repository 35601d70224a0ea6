#!/usr/bin/env bash
# crashkit triage's hardware error counters (lib/analysis/triage_hwerr.c):
# hwerr_data, the recoverable hardware errors a kernel counts since Linux
# 6.17 (one {count, timestamp} per enum hwerr_error_type).  Where the
# kernel has none (6.1, 6.12) triage says so in text and gives "hwerr":
# null; where it has them (7.x) the lab's crash counted none, so all are 0,
# and a copy of the ELF dump with hwerr_data[1] (memory) written by
# tests/ck-poke to 3 errors, the last at 2025-12-03 12:00:00 UTC, is
# reported as such, the other sources still 0.  ASan build.
set -uo pipefail
. "$(dirname "$0")/common.sh"

analyze=${CK_BUILD:?CK_BUILD must name the build directory}/crashkit-analyze
poke=$CK_BUILD/tests/ck-poke
[ -x "$poke" ] || poke=$(dirname "$CK_RELEASE")/tests/ck-poke
dump=$CK_LAB/vmcore.kdump-zlib
[ -s "$dump" ] || { skip "triage hwerr" "no $dump in the lab"; exit 0; }

if ! "$analyze" analyze "$dump" -c 'sym hwerr_data' 2>/dev/null | grep -q ' hwerr_data$'; then
	out=$("$analyze" triage "$dump" 2>&1)
	js=$("$analyze" triage --json "$dump" 2>/dev/null)
	if grep -q '^ HW ERRORS: (this kernel keeps no hwerr_data counters)$' <<< "$out" &&
		[ "$(jq -c .hwerr <<< "$js")" = null ]; then
		pass "triage hwerr: no hwerr_data in $CK_KSERIES, said so (text, JSON null)"
	else
		fail "triage hwerr: no hwerr_data" "$(grep 'HW ERR' <<< "$out") json $(jq -c .hwerr <<< "$js")"
	fi
	exit 0
fi

want='{"cpu":{"count":0,"last":null},"memory":{"count":0,"last":null},"pci":{"count":0,"last":null},"cxl":{"count":0,"last":null},"others":{"count":0,"last":null}}'
got=$("$analyze" triage --json "$dump" 2>/dev/null | jq -c .hwerr)
[ "$got" = "$want" ] && pass "triage hwerr: $CK_KSERIES keeps hwerr_data, the lab's crash counted none" ||
	fail "triage hwerr: counters" "$got"

elf=$CK_LAB/vmcore.elf
if [ ! -s "$elf" ] || [ ! -x "$poke" ]; then
	skip "triage hwerr: poked copy" "no vmcore.elf or no ck-poke"
	exit 0
fi
copy=$CK_TMP/hwerr.elf
cp --sparse=always "$elf" "$copy" && chmod u+w "$copy"
# hwerr_data[1] is 16 bytes on (atomic_t count, time64_t timestamp)
size=$("$analyze" analyze "$elf" -c 'struct hwerr_info' 2>/dev/null | sed -n 's/^SIZE: //p')
ts=1764763200	# 2025-12-03 12:00:00 UTC
tshex=$(printf '%016x' "$ts" | sed 's/../& /g' | awk '{ for (i = NF; i > 0; i--) printf "%s", $i }')
if [ "$size" = 16 ] && "$poke" "$copy" hwerr_data 16 03000000 > /dev/null &&
	"$poke" "$copy" hwerr_data 24 "$tshex" > /dev/null; then
	out=$("$analyze" triage "$copy" 2>&1)
	got=$("$analyze" triage --json "$copy" 2>/dev/null | jq -c .hwerr)
	want=${want/'"memory":{"count":0,"last":null}'/'"memory":{"count":3,"last":'$ts'}'}
	if [ "$got" = "$want" ] &&
		grep -q '^ HW ERRORS: cpu 0, memory 3 (last 2025-12-03 12:00:00 UTC), pci 0, cxl 0, others 0$' <<< "$out"; then
		pass "triage hwerr: memory 3 errors, the last at 2025-12-03 12:00:00 UTC, written into a copy, reported so (text and JSON)"
	else
		fail "triage hwerr: poked copy" "$(grep 'HW ERR' <<< "$out") json $got"
	fi
else
	fail "triage hwerr: poke" "struct hwerr_info size '$size'"
fi
rm -f "$copy"
