#!/usr/bin/env bash
# crashkit triage on the lab's dumps (the same `echo c > /proc/sysrq-trigger`
# crash on each kernel): class sysrq and culprit sysrq_handle_crash on the
# kdump-path dumps, one signature for every dump of the crash and for every
# kernel (v2|sysrq|sysrq_handle_crash|proc_reg_write|vfs_write: the frames
# are the same on 6.1, 6.12 and 7.3 once clone suffixes like .cold are cut),
# the panic task and release from truth.env, the build id from the vmlinux's
# note, the JSON keys docs/signatures.md promises; qemu.elf (a live guest)
# is class none with every CPU shown; a truncated copy gives a partial
# report (exit 3, "could not read") and never a crash (ASan build).
set -uo pipefail
: "${CK:=${CK_RELEASE:-}}"
export CK
. "$(dirname "$0")/common.sh"

TRIAGE=("${CK_BUILD:?CK_BUILD must name the build directory}/crashkit-analyze" triage)
# The documented signature of this crash (docs/signatures.md, v1).
SYSRQ_SIG=0d8c142377d160e9
SYSRQ_INPUT='v2|sysrq|sysrq_handle_crash|proc_reg_write|vfs_write'
KEYS=(class message title signature culprit panic_task taint release build_id uptime
	backtrace cpus)

jget() {	# FILE PYTHON-EXPRESSION-ON-j
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print("" if v is None else v)' "$1" "$2" 2>/dev/null
}

build_id=$(readelf -n "$CK_LAB/vmlinux" 2>/dev/null | sed -n 's/.*Build ID: *\([0-9a-f]*\).*/\1/p' | head -n 1)

check_crash_dump() {
	local f=$1 j=$CK_TMP/triage.$1.json t=$CK_TMP/triage.$1.txt rc=0 k v
	timeout 60 "${TRIAGE[@]}" "$CK_LAB/$f" --json > "$j" 2> "$CK_TMP/triage.err" || rc=$?
	[ "$rc" -eq 0 ] && pass "triage $f --json: exit 0" ||
		fail "triage $f --json" "exit $rc: $(head -c 300 "$CK_TMP/triage.err")"
	for k in "${KEYS[@]}"; do
		[ "$(jget "$j" "'$k' in j")" = True ] && pass "triage $f json has $k" ||
			fail "triage $f json has $k"
	done
	v=$(jget "$j" 'j["class"]'); [ "$v" = sysrq ] && pass "triage $f class sysrq" ||
		fail "triage $f class" "'$v'"
	v=$(jget "$j" 'j["culprit"]["function"]')
	[ "$v" = sysrq_handle_crash ] && pass "triage $f culprit sysrq_handle_crash" ||
		fail "triage $f culprit" "'$v'"
	v=$(jget "$j" 'j["signature"]')
	[ "$v" = "$SYSRQ_SIG" ] && pass "triage $f signature $v (same on every kernel)" ||
		fail "triage $f signature" "'$v' ($(jget "$j" 'j["signature_input"]'))"
	v=$(jget "$j" 'j["signature_input"]')
	[ "$v" = "$SYSRQ_INPUT" ] && pass "triage $f signature input" || fail "triage $f signature input" "'$v'"
	# the hash is SHA-256 of the input, as docs/signatures.md says
	v=$(printf '%s' "$SYSRQ_INPUT" | sha256sum | cut -c1-16)
	[ "$v" = "$SYSRQ_SIG" ] && pass "triage signature = sha256(input)[0:16]" ||
		fail "triage signature = sha256(input)" "$v"
	v=$(jget "$j" '"%s %s %s" % (j["panic_task"]["pid"], j["panic_task"]["comm"], j["panic_task"]["cpu"])')
	[ "$v" = "$CRASH_PID $CRASH_COMM $CRASH_CPU" ] && pass "triage $f panic task $v" ||
		fail "triage $f panic task" "'$v', truth '$CRASH_PID $CRASH_COMM $CRASH_CPU'"
	v=$(jget "$j" 'j["release"]'); [ "$v" = "$KERNEL_RELEASE" ] && pass "triage $f release" ||
		fail "triage $f release" "'$v'"
	v=$(jget "$j" 'j["message"]')
	[ "$v" = "Kernel panic - not syncing: $PANIC_MESSAGE" ] && pass "triage $f message" ||
		fail "triage $f message" "'$v'"
	if [ -n "$build_id" ]; then
		v=$(jget "$j" 'j["build_id"]')
		[ "$v" = "$build_id" ] && pass "triage $f build id = vmlinux's" ||
			fail "triage $f build id" "'$v', vmlinux '$build_id'"
	else
		skip "triage $f build id" "no Build ID note in the vmlinux"
	fi
	v=$(jget "$j" 'j["taint"]["mask"]')
	[ "$v" = 0 ] && pass "triage $f taint 0 (the log's 'Not tainted')" || fail "triage $f taint" "'$v'"
	v=$(jget "$j" 'len(j["cpus"])'); [ "$v" = "$NR_CPUS" ] && pass "triage $f $v CPUs" ||
		fail "triage $f CPUs" "'$v'"
	v=$(jget "$j" '[c["pid"] for c in j["cpus"] if c["cpu"] == '"$BUSY_CPU"'][0]')
	[ "$v" = "$BUSY_PID" ] && pass "triage $f CPU $BUSY_CPU runs pid $BUSY_PID" ||
		fail "triage $f CPU $BUSY_CPU" "pid '$v'"
	timeout 60 "${TRIAGE[@]}" "$CK_LAB/$f" > "$t" 2>&1 || true
	v=$(wc -l < "$t")
	[ "$v" -le 60 ] && grep -q '^     CLASS: sysrq$' "$t" && pass "triage $f: one screen ($v lines)" ||
		fail "triage $f text" "$v lines"
}

check_qemu_dump() {
	local f=$1 j=$CK_TMP/triage.$1.json rc=0 v
	timeout 60 "${TRIAGE[@]}" "$CK_LAB/$f" --json > "$j" 2> "$CK_TMP/triage.err" || rc=$?
	[ "$rc" -eq 0 ] && pass "triage $f: exit 0" || fail "triage $f" "exit $rc"
	v=$(jget "$j" 'j["class"]'); [ "$v" = none ] && pass "triage $f class none" ||
		fail "triage $f class" "'$v'"
	v=$(jget "$j" 'j["panic_task"]'); [ -z "$v" ] && pass "triage $f: no panic task" ||
		fail "triage $f panic task" "'$v'"
	v=$(jget "$j" 'sum(1 for c in j["cpus"] if c["backtrace"])')
	[ "$v" = "$NR_CPUS" ] && pass "triage $f: every CPU's backtrace ($v)" ||
		fail "triage $f CPUs with a backtrace" "'$v' of $NR_CPUS"
	v=$(jget "$j" '[c["pid"] for c in j["cpus"] if c["cpu"] == '"$BUSY_CPU"'][0]')
	[ "$v" = "$QEMU_BUSY_PID" ] && pass "triage $f CPU $BUSY_CPU runs pid $v" ||
		fail "triage $f CPU $BUSY_CPU" "pid '$v', truth $QEMU_BUSY_PID"
}

check_truncated() {
	local f=$1 pct=$2 copy=$CK_TMP/triage.trunc rc=0 size
	cp "$CK_LAB/$f" "$copy" || { fail "triage truncated copy" "cp"; return; }
	size=$(stat -c %s "$copy")
	truncate -s $((size * pct / 100)) "$copy"
	timeout 60 "${TRIAGE[@]}" "$copy" > "$CK_TMP/triage.trunc.out" 2> "$CK_TMP/triage.trunc.err" || rc=$?
	# 3 with the list of what could not be read; 0 only when the cut spared
	# everything triage reads (a cut near the end), never anything else
	if [ "$rc" -eq 3 ] && grep -q 'PARTIAL: could not read' "$CK_TMP/triage.trunc.out"; then
		pass "triage $f cut to $pct%: partial report, exit 3"
	elif [ "$rc" -eq 0 ] && [ "$pct" -gt 50 ] && ! grep -q PARTIAL "$CK_TMP/triage.trunc.out"; then
		pass "triage $f cut to $pct%: all triage reads is before the cut, exit 0"
	else
		fail "triage $f cut to $pct%" "exit $rc: $(head -c 300 "$CK_TMP/triage.trunc.err")"
	fi
	grep -q 'CLASS: ' "$CK_TMP/triage.trunc.out" && pass "triage $f cut to $pct%: a class" ||
		fail "triage $f cut to $pct%: no class line"
	rm -f "$copy"
}

command -v python3 > /dev/null || { skip "triage" "no python3 to read the JSON"; exit 0; }
for f in vmcore.kdump-zlib vmcore.elf; do
	if [ -s "$CK_LAB/$f" ]; then check_crash_dump "$f"; else fail "triage $f" "not in the lab"; fi
done
if [ -s "$CK_LAB/qemu.elf" ]; then check_qemu_dump qemu.elf; else skip "triage qemu.elf" "not in the lab"; fi
for pct in 10 50 95; do check_truncated vmcore.kdump-zlib "$pct"; done
