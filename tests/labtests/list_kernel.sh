#!/usr/bin/env bash
# crashkit list on each kernel's dumps (docs/catalog.md): the lab's crash as a
# kdump-compressed dump in crashkit's save layout and as the ELF vmcore in
# Debian kdump-tools' layout, and QEMU's dump of the live guest as a bare
# vmcore.  Both formats of the crash are one signature (seen 2 times on 2
# boots), the same one `crashkit triage` gives; the live dump is class none;
# release, panic task and crash time come from the dump (truth.env and
# `crashkit info`).  The build under test (ASan) lists and triages.
set -uo pipefail
: "${CK:=${CK_RELEASE:-}}"
export CK
. "$(dirname "$0")/common.sh"

B=${CK_BUILD:?CK_BUILD must name the build directory}
d=$(mktemp -d "$CK_TMP/list.XXXXXX")
mkdir -p "$d/kc/20261201-101010" "$d/crash/202612011011" "$d/live"
ln -s "$CK_LAB/vmcore.kdump-zlib" "$d/kc/20261201-101010/vmcore"
ln -s "$CK_LAB/vmcore.elf" "$d/crash/202612011011/dump.202612011011"
ln -s "$CK_LAB/qemu.elf" "$d/live/vmcore"
L() { "$B/crashkit-cores" catalog --store "$d/s" --dir "$d/kc" --dir "$d/crash" --dir "$d/live" "$@"; }

js=$(L --json 2>"$d/err"); rc=$?
if [ $rc = 0 ] && [ "$(jq '[.crashes[] | select(.kind == "kernel")] | length' <<<"$js" 2>/dev/null)" = 3 ]; then
	pass "list $CK_KSERIES: the 3 kernel dumps listed"
else
	fail "list $CK_KSERIES: listing" "rc $rc $(head -c 300 <<<"$js") $(head -c 300 "$d/err")"
	exit 0
fi
sig=$("$B/crashkit-analyze" triage --json "$CK_LAB/vmcore.kdump-zlib" 2>/dev/null | jq -r .signature)
crash=$(jq -c --arg s "$sig" '[.crashes[] | select(.signature == $s)]' <<<"$js")
if [ "$(jq length <<<"$crash")" = 2 ] && jq -e 'all(.[]; .seen == 2 and .boots == 2 and .state == "complete")' <<<"$crash" >/dev/null; then
	pass "list $CK_KSERIES: kdump and ELF dumps of the crash grouped: $sig seen 2 times on 2 boots"
else
	fail "list $CK_KSERIES: grouping" "$(jq -c '[.crashes[] | [.path, .signature, .seen, .boots, .state]]' <<<"$js")"
fi
if jq -e --arg r "$KERNEL_RELEASE" --argjson p "$CRASH_PID" --arg c "$CRASH_COMM" \
	'all(.[]; .release == $r and .pid == $p and .comm == $c)' <<<"$crash" >/dev/null; then
	pass "list $CK_KSERIES: release $KERNEL_RELEASE, panic task $CRASH_PID ($CRASH_COMM)"
else
	fail "list $CK_KSERIES: kernel fields" "$(jq -c '[.[] | [.release, .pid, .comm]]' <<<"$crash")"
fi
t=$("$CK_RELEASE" info --json "$CK_LAB/vmcore.kdump-zlib" | jq .crash_time)
jq -e --argjson t "$t" 'all(.[]; .time_usec == $t * 1000000)' <<<"$crash" >/dev/null \
	&& pass "list $CK_KSERIES: the time is the dump's crash time ($t)" \
	|| fail "list $CK_KSERIES: time" "$t vs $(jq -c '[.[].time_usec]' <<<"$crash")"
live=$(jq -c '.crashes[] | select(.path | endswith("/live/vmcore"))' <<<"$js")
jq -e '.class == "none" and .seen == 1' <<<"$live" >/dev/null \
	&& pass "list $CK_KSERIES: the live QEMU dump is class none, a group of its own" \
	|| fail "list $CK_KSERIES: live dump" "$live"
# once indexed, never again
out=$(L -v 2>&1 >/dev/null)
grep -q "3 kernel dumps: 0 triaged now, 0 from triage.json, 3 from the index" <<<"$out" \
	&& pass "list $CK_KSERIES: the second list runs no triage" || fail "list $CK_KSERIES: second list" "$out"
rm -rf "$d"
