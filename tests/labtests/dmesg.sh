#!/usr/bin/env bash
# crashkit dmesg equals `makedumpfile --dump-dmesg` line for line on every dump
# kind of the real crash, and holds the lab's marker and the panic line.  Each
# makedumpfile output is compared in its own layout: with printk's caller
# column (makedumpfile 1.7.5+, crashkit's default) or without (1.7.4 and
# older; crashkit dmesg --no-caller).
set -uo pipefail
. "$(dirname "$0")/common.sh"

oracle="$CK_LAB/dmesg.makedumpfile.txt"
dargs=$(ck_dmesg_args "$oracle")

# host_cmp NAME DUMP OUT: OUT (crashkit dmesg $dargs DUMP) against the host
# makedumpfile's log of the same file, in that log's layout.
host_cmp() {
	local f=$1 dump=$2 out=$3 host="$CK_LAB/dmesg.$1.txt" hargs
	[ -s "$host" ] || return 0
	hargs=$(ck_dmesg_args "$host")
	if [ "$hargs" != "$dargs" ]; then
		out="$out$hargs"
		"$CK" dmesg "$hargs" "$dump" > "$out" 2> /dev/null
	fi
	if cmp -s "$out" "$host"; then pass "dmesg $hargs $f equals host makedumpfile on the same file"
	else fail "dmesg $hargs $f equals host makedumpfile on the same file" "$(diff "$host" "$out" | head -n 4 | tr '\n' '|')"; fi
}

for f in "${CRASH_DUMPS[@]}"; do
	dump="$CK_LAB/$f"
	if [ ! -s "$dump" ]; then fail "dmesg $f: dump missing" "$dump"; continue; fi
	out="$CK_TMP/dmesg.$f"
	if ! "$CK" dmesg "$dargs" "$dump" > "$out" 2> "$out.err"; then
		fail "dmesg $dargs $f: exit status" "$(head -c 300 "$out.err")"
		continue
	fi
	if cmp -s "$out" "$oracle"; then
		pass "dmesg $dargs $f equals makedumpfile --dump-dmesg (capture kernel) ($(wc -l < "$out") lines)"
	else
		fail "dmesg $dargs $f equals makedumpfile --dump-dmesg" "$(diff "$oracle" "$out" | head -n 6 | tr '\n' '|')"
	fi
	host_cmp "$f" "$dump" "$out"
	if grep -qF -- "$MARKER" "$out"; then pass "dmesg $f has the lab marker"
	else fail "dmesg $f has the lab marker" "$MARKER"; fi
	if grep -qE 'sysrq: Trigger a crash|Kernel panic - not syncing' "$out"; then pass "dmesg $f has the panic"
	else fail "dmesg $f has the panic"; fi
done

# The default is the newest makedumpfile's layout: every kernel since 5.10
# records callers, so the default is --caller's output.
elf="$CK_LAB/vmcore.elf"
if [ -s "$elf" ]; then
	"$CK" dmesg "$elf" > "$CK_TMP/dmesg.default" 2> /dev/null
	"$CK" dmesg --caller "$elf" > "$CK_TMP/dmesg.caller" 2> /dev/null
	if [ -s "$CK_TMP/dmesg.default" ] && cmp -s "$CK_TMP/dmesg.default" "$CK_TMP/dmesg.caller" &&
	   [ "$(ck_dmesg_args "$CK_TMP/dmesg.default")" = --caller ]; then
		pass "dmesg (default) prints the caller column, as --caller ($(grep -c '^\[ *[0-9.]*\] \[ *C[0-9]*\] ' "$CK_TMP/dmesg.default") records from CPU context)"
	else
		fail "dmesg (default) prints the caller column, as --caller" "$(head -n 1 "$CK_TMP/dmesg.default" | cut -c1-60)"
	fi
	# the makedumpfile peer (sid's 1.7.8 under tests/run.sh) on this very
	# file: on 6.1 this is the caller column's only oracle
	if have_makedumpfile; then
		ver=$("$CK_MAKEDUMPFILE" -v 2>&1 | sed -n 's/^makedumpfile: version \([^ ]*\).*/\1/p')
		rm -f "$CK_TMP/dmesg.peer"
		if "$CK_MAKEDUMPFILE" --dump-dmesg "$elf" "$CK_TMP/dmesg.peer" > /dev/null 2>&1; then
			pargs=$(ck_dmesg_args "$CK_TMP/dmesg.peer")
			"$CK" dmesg "$pargs" "$elf" > "$CK_TMP/dmesg.peer.ck" 2> /dev/null
			if cmp -s "$CK_TMP/dmesg.peer.ck" "$CK_TMP/dmesg.peer"; then
				pass "dmesg $pargs vmcore.elf equals makedumpfile $ver --dump-dmesg on the host"
			else
				fail "dmesg $pargs vmcore.elf equals makedumpfile $ver --dump-dmesg on the host" \
					"$(diff "$CK_TMP/dmesg.peer" "$CK_TMP/dmesg.peer.ck" | head -n 4 | tr '\n' '|')"
			fi
		else
			skip "dmesg vmcore.elf against makedumpfile $ver on the host" "it cannot read vmcore.elf"
		fi
	fi
fi

# A kernel whose VMCOREINFO describes no caller_id (the lab's dump with the
# key renamed, same length): no column by default, --caller refuses.
src="$CK_LAB/vmcore.kdump-lzo"
if [ -s "$src" ] && grep -qa 'OFFSET(printk_info.caller_id)=' "$src"; then
	t="$CK_TMP/dmesg.nocaller.kdump"
	LC_ALL=C sed 's/OFFSET(printk_info\.caller_id)=/OFFSET(printk_info.callxr_id)=/g' "$src" > "$t"
	"$CK" dmesg "$t" > "$t.default" 2> /dev/null
	"$CK" dmesg --no-caller "$src" > "$t.plain" 2> /dev/null
	if [ -s "$t.default" ] && cmp -s "$t.default" "$t.plain"; then
		pass "dmesg of a kernel that records no callers: no caller column by default"
	else
		fail "dmesg of a kernel that records no callers: no caller column by default" "$(head -n 1 "$t.default" | cut -c1-60)"
	fi
	expect_clean_error "dmesg --caller of a kernel that records no callers fails, naming the file" "$t" \
		dmesg --caller "$t"
	rm -f "$t" "$t.default" "$t.plain"
fi

for f in "${QEMU_DUMPS[@]}"; do
	dump="$CK_LAB/$f"
	if [ ! -s "$dump" ]; then skip "dmesg $f" "QEMU did not write it"; continue; fi
	out="$CK_TMP/dmesg.$f"
	if ! "$CK" dmesg "$dargs" "$dump" > "$out" 2> "$out.err"; then
		fail "dmesg $f: exit status" "$(head -c 300 "$out.err")"
		continue
	fi
	if grep -qF -- "$QEMU_MARKER" "$out"; then pass "dmesg $f has the live guest's marker"
	else fail "dmesg $f has the live guest's marker" "$QEMU_MARKER"; fi
	# every QEMU dump is of the same instant: the logs must agree with each other
	if [ -s "$CK_TMP/dmesg.qemu.elf" ] && [ "$f" != qemu.elf ]; then
		if cmp -s "$out" "$CK_TMP/dmesg.qemu.elf"; then pass "dmesg $f equals dmesg qemu.elf"
		else fail "dmesg $f equals dmesg qemu.elf"; fi
	fi
	host_cmp "$f" "$dump" "$out"
done
