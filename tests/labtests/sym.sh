#!/usr/bin/env bash
# crashkit sym agrees with the kernel's System.map shifted by KERNELOFFSET, both
# ways, on every dump kind.
set -uo pipefail
. "$(dirname "$0")/common.sh"

map="$CK_LAB/System.map"
for f in "${CRASH_DUMPS[@]}" "${QEMU_DUMPS[@]}"; do
	dump="$CK_LAB/$f"
	[ -s "$dump" ] || continue
	off=$(ck_kaslr "$dump")
	if [ -z "$off" ]; then fail "sym $f: KERNELOFFSET known"; continue; fi
	for name in panic sysrq_handle_crash init_task; do
		base=$(awk -v n="$name" '$3 == n { print $1; exit }' "$map")
		want=$(printf '%016x' $((0x$base + off)))
		got=$("$CK" sym "$dump" "$name" 2>&1)
		if [ "${got%% *}" = "$want" ]; then pass "sym $f $name = System.map + KERNELOFFSET"
		else fail "sym $f $name" "want $want, got $got"; fi
	done
	# address -> name+offset inside a function
	base=$(awk '$3 == "panic" { print $1; exit }' "$map")
	addr=$(printf '%016x' $((0x$base + off + 0x13)))
	got=$("$CK" sym "$dump" "0x$addr" 2>&1)
	if [ "$got" = "$addr (T) panic+0x13" ]; then pass "sym $f address inside panic"
	else fail "sym $f address inside panic" "got '$got'"; fi
done
# a name that does not exist: one clean error
expect_clean_error "sym: unknown name" "no_such_symbol_xyz" sym "$CK_LAB/vmcore.kdump-zlib" no_such_symbol_xyz
