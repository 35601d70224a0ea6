#!/usr/bin/env bash
# Bad input never crashes or hangs: missing files, directories, empty files,
# zeros, random bytes, damaged ELF and kdump headers, garbage arguments.
# Each must give one line on stderr naming the file, and a non-zero exit.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"

d="$CK_TMP/bad"
mkdir -p "$d"
# Deterministic "random" bytes (seeded), without depending on any extra tool.
randbytes() { LC_ALL=C awk -v n="$1" -v s="$2" 'BEGIN{srand(s); for(i=0;i<n;i++) printf "%c", int(rand()*256)}'; }

: > "$d/empty"
head -c 65536 /dev/zero > "$d/zeros"
randbytes 65536 42 > "$d/random"
randbytes 100 7 > "$d/random-small"
# An ELF header that claims to be a 64-bit core file and then is garbage.
{ printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000'; randbytes 4000 3; } > "$d/elf-garbage"
# kdump and flattened signatures followed by garbage.
{ printf 'KDUMP   '; randbytes 8000 5; } > "$d/kdump-garbage"
{ printf 'makedumpfile'; head -c 4 /dev/zero; randbytes 8000 9; } > "$d/flat-garbage"
{ printf 'DISKDUMP'; head -c 8000 /dev/zero; } > "$d/diskdump-zeros"

for cmd in info dmesg "sym@panic"; do
	sub=${cmd%@*}; extra=()
	[ "$cmd" != "$sub" ] && extra=("${cmd#*@}")
	expect_clean_error "$sub: missing file" "$d/nope" "$sub" "$d/nope" "${extra[@]}"
	expect_clean_error "$sub: directory" "$d" "$sub" "$d" "${extra[@]}"
	for f in empty zeros random random-small elf-garbage kdump-garbage flat-garbage diskdump-zeros; do
		expect_clean_error "$sub: $f" "$d/$f" "$sub" "$d/$f" "${extra[@]}"
	done
done

# Garbage arguments: usage errors exit 2 with one line.
usage_case() {
	local name=$1; shift
	local rc=0 err
	err=$("$CK" "$@" 2>&1 >/dev/null) || rc=$?
	if [ "$rc" -eq 2 ] && [ "$(printf '%s\n' "$err" | grep -c .)" -ge 1 ]; then
		pass "usage: $name"
	else
		fail "usage: $name" "exit $rc: $err"
	fi
}
usage_case "no command"
usage_case "unknown command" frobnicate
usage_case "info without dump" info
# Several DUMP arguments are the files of one split dump: anything else is
# refused with one line.
expect_clean_error "info: two files that are not a split dump" "$d/nope" info "$d/nope" "$d/zeros"
expect_clean_error "dmesg: two files that are not a split dump" "$d/diskdump-zeros" dmesg "$d/diskdump-zeros" "$d/diskdump-zeros"
usage_case "info bad option" info --bogus x
usage_case "dmesg without dump" dmesg
usage_case "dmesg --no-caller without dump" dmesg --no-caller
usage_case "capture --no-caller without --dump-dmesg" capture --no-caller "$d/zeros" "$d/out"
for opt in --caller --no-caller; do
	expect_clean_error "dmesg $opt: zeros" "$d/zeros" dmesg "$opt" "$d/zeros"
done
usage_case "sym without name" sym "$d/zeros"
check "help exits 0" "$CK" --help
check "info --help exits 0" "$CK" info --help
check "dmesg --help exits 0" "$CK" dmesg --help
