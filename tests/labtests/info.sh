#!/usr/bin/env bash
# crashkit info says what each dump of the real crash is, and agrees with what
# the lab did (truth.env) and with the peers.
set -uo pipefail
. "$(dirname "$0")/common.sh"

jget() { sed -n "s/^ *\"$2\": *\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" "$1" | head -n 1; }

expect() {	# expect NAME FILE KEY VALUE
	local got; got=$(jget "$2" "$3")
	if [ "$got" = "$4" ]; then pass "$1: $3 = $4"; else fail "$1: $3" "want '$4', got '$got'"; fi
}

declare -A FORMAT=(
	[vmcore.elf]=elf [vmcore.kdump-zlib]=kdump [vmcore.kdump-lzo]=kdump
	[vmcore.flat]=flattened-kdump [vmcore.flat-reassembled]=kdump
	[qemu.elf]=elf [qemu.kdump-zlib]=flattened-kdump [qemu.kdump-lzo]=flattened-kdump
	[qemu.kdump-snappy]=flattened-kdump
)
declare -A COMPRESSION=(
	[vmcore.elf]=none [vmcore.kdump-zlib]=zlib [vmcore.kdump-lzo]=lzo [vmcore.flat]=zlib
	[vmcore.flat-reassembled]=zlib [qemu.elf]=none [qemu.kdump-zlib]=zlib
	[qemu.kdump-lzo]=lzo [qemu.kdump-snappy]=snappy
)
for f in "${CRASH_DUMPS[@]}" "${QEMU_DUMPS[@]}"; do
	dump="$CK_LAB/$f"
	[ -s "$dump" ] || continue
	j="$CK_TMP/info.$f.json"
	if ! "$CK" info --json "$dump" > "$j" 2> "$j.err"; then
		fail "info $f" "$(head -c 300 "$j.err")"; continue
	fi
	if ! "$CK" info "$dump" > "$CK_TMP/info.$f.txt" 2>&1; then fail "info $f (text)"; fi
	expect "info $f" "$j" format "${FORMAT[$f]}"
	expect "info $f" "$j" compression "${COMPRESSION[$f]}"
	expect "info $f" "$j" release "$KERNEL_RELEASE"
	expect "info $f" "$j" page_size 4096
	expect "info $f" "$j" truncated false
	expect "info $f" "$j" arch x86_64
	case $f in
	vmcore.kdump-*|vmcore.flat*) expect "info $f" "$j" dump_level 31 ;;
	esac
	case $f in
	vmcore.*)
		expect "info $f" "$j" cpus "$NR_CPUS"
		# sysrq-c runs on the CPU that wrote to /proc/sysrq-trigger: the
		# dump must name one, and a real one.
		pc=$(jget "$j" panic_cpu)
		if [ -n "$pc" ] && [ "$pc" != null ] && [ "$pc" -lt "$NR_CPUS" ]; then pass "info $f: panic cpu $pc"
		else fail "info $f: panic cpu" "got '$pc'"; fi
		ct=$(jget "$j" crash_time)
		if [ -n "$ct" ] && [ "$ct" != null ] && [ "$ct" -gt 1000000000 ]; then pass "info $f: crash time"
		else fail "info $f: crash time" "got '$ct'"; fi
		;;
	qemu.*)
		expect "info $f" "$j" panic_cpu null
		;;
	esac
	bid=$(jget "$j" build_id)
	if [[ "$bid" =~ ^[0-9a-f]{40}$ ]]; then pass "info $f: build id"; else fail "info $f: build id" "got '$bid'"; fi
	mem=$(jget "$j" memory_bytes)
	# The guest has MEM of RAM; the dump holds less (holes, crashkernel) but most of it.
	if [ -n "$mem" ] && [ "$mem" -gt $((MEM_MB * 1048576 / 2)) ] && [ "$mem" -le $((MEM_MB * 1048576 + 268435456)) ]; then
		pass "info $f: memory $((mem >> 20)) MiB"
	else fail "info $f: memory" "got '$mem' for a $MEM_MB MiB guest"; fi
done
