#!/usr/bin/env bash
# crashkit dmesg equals `makedumpfile --dump-dmesg` line for line on every dump
# kind of the real crash, and holds the lab's marker and the panic line.
set -uo pipefail
. "$(dirname "$0")/common.sh"

oracle="$CK_LAB/dmesg.makedumpfile.txt"
for f in "${CRASH_DUMPS[@]}"; do
	dump="$CK_LAB/$f"
	if [ ! -s "$dump" ]; then fail "dmesg $f: dump missing" "$dump"; continue; fi
	out="$CK_TMP/dmesg.$f"
	if ! "$CK" dmesg "$dump" > "$out" 2> "$out.err"; then
		fail "dmesg $f: exit status" "$(head -c 300 "$out.err")"
		continue
	fi
	if cmp -s "$out" "$oracle"; then
		pass "dmesg $f equals makedumpfile --dump-dmesg (capture kernel) ($(wc -l < "$out") lines)"
	else
		fail "dmesg $f equals makedumpfile --dump-dmesg" "$(diff "$oracle" "$out" | head -n 6 | tr '\n' '|')"
	fi
	# makedumpfile run on the host on this very file, where it could read it
	host="$CK_LAB/dmesg.$f.txt"
	if [ -s "$host" ]; then
		if cmp -s "$out" "$host"; then pass "dmesg $f equals host makedumpfile on the same file"
		else fail "dmesg $f equals host makedumpfile on the same file" "$(diff "$host" "$out" | head -n 4 | tr '\n' '|')"; fi
	fi
	if grep -qF -- "$MARKER" "$out"; then pass "dmesg $f has the lab marker"
	else fail "dmesg $f has the lab marker" "$MARKER"; fi
	if grep -qE 'sysrq: Trigger a crash|Kernel panic - not syncing' "$out"; then pass "dmesg $f has the panic"
	else fail "dmesg $f has the panic"; fi
done

for f in "${QEMU_DUMPS[@]}"; do
	dump="$CK_LAB/$f"
	if [ ! -s "$dump" ]; then skip "dmesg $f" "QEMU did not write it"; continue; fi
	out="$CK_TMP/dmesg.$f"
	if ! "$CK" dmesg "$dump" > "$out" 2> "$out.err"; then
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
	host="$CK_LAB/dmesg.$f.txt"
	if [ -s "$host" ]; then
		if cmp -s "$out" "$host"; then pass "dmesg $f equals host makedumpfile on the same file"
		else fail "dmesg $f equals host makedumpfile on the same file" "$(diff "$host" "$out" | head -n 4 | tr '\n' '|')"; fi
	fi
done
