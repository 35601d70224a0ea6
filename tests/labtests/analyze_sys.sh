#!/usr/bin/env bash
# crashkit-analyze's sys, log, mod and sym without a vmlinux against crash
# with the DWARF vmlinux, on the same dump: sys field by field, log (plain,
# -m, -t, -T) exactly, mod exactly, sym of vmlinux and module symbols by
# name and by address (crash's " file: line" suffix aside: no DWARF here).
# Where crash cannot read the kernel (7.3), ours is checked against
# truth.env and System.map + KERNELOFFSET instead.
set -uo pipefail
: "${CK:=${CK_RELEASE:-}}"
export CK
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/../lab/oracle.sh"

DUMPS=(vmcore.kdump-zlib vmcore.elf qemu.elf)
LOGS=("log" "log -m" "log -t" "log -T" "log -c" "log -d")
NAMES=(sysrq_handle_crash jiffies schedule loop_probe)

# crash's sym answer without what only DWARF gives (" debian/.../sysrq.c: 151")
# and trailing blanks.
sym_clean() { sed -e 's/ [^ ]*: [0-9]*$//' -e 's/[[:space:]]*$//' "$1"; }

# One sys field ("LOAD AVERAGE") of an answer.
sys_field() { sed -n "s/^ *$2: //p" "$1"; }

# sym -m MOD sorted: crash orders symbols that share an address
# arbitrarily.  Functions keep their letter (t/T); crash shows '?' for the
# others where we show typetab's letter, so theirs is left out.  The region
# START/END lines are kept.
sym_m_clean() {
	sed -e 's/[[:space:]]*$//' "$1" |
		awk '$2 ~ /^\([tT]\)$/ { print; next } $2 ~ /^\(.\)$/ { print $1, $3; next } { print }' | sort
}

compare() {	# NAME CRASH-FILE OUR-TEXT-FILE
	if diff -q "$2" "$3" > /dev/null; then pass "$1"
	else fail "$1" "$(diff "$2" "$3" | head -n 6 | tr '\n' '|' | cut -c1-400)"; fi
}

check_with_crash() {
	local f=$1 fld c o cmd name addr
	for fld in CPUS DATE UPTIME "LOAD AVERAGE" TASKS NODENAME RELEASE VERSION MACHINE MEMORY PANIC; do
		c=$(sys_field "$(oracle_file crash "$f" sys)" "$fld")
		o=$(sys_field "$(oracle_file ck "$f" sys)" "$fld")
		if [ -n "$c" ] && [ "$c" = "$o" ]; then pass "analyze $f sys $fld: $c"
		else fail "analyze $f sys $fld" "crash '$c', ours '$o'"; fi
	done
	for cmd in "${LOGS[@]}" mod; do
		compare "analyze $f $cmd = crash" "$(oracle_file crash "$f" "$cmd")" "$(oracle_file ck "$f" "$cmd")"
	done
	for name in "${NAMES[@]}"; do
		compare "analyze $f sym $name = crash" <(sym_clean "$(oracle_file crash "$f" "sym $name")") \
			"$(oracle_file ck "$f" "sym $name")"
	done
	compare "analyze $f sym -m loop = crash (addresses, names, function types)" \
		<(sym_m_clean "$(oracle_file crash "$f" "sym -m loop")") \
		<(sym_m_clean "$(oracle_file ck "$f" "sym -m loop")")
	# with the DWARF vmlinux given, crash's " FILE: LINE" too (modules: crash's
	# trailing blank aside)
	for name in sysrq_handle_crash jiffies schedule; do
		compare "analyze $f VMLINUX sym $name = crash, with its source line" \
			<(sed 's/[[:space:]]*$//' "$(oracle_file crash "$f" "sym $name")") \
			<(timeout 120 "$CK_ANALYZE" analyze "$CK_LAB/$f" "$CK_LAB/vmlinux" -c "sym $name" 2>&1)
	done
	# addresses inside a vmlinux and a module function
	local addrs=()
	for name in sysrq_handle_crash loop_probe; do
		addr=$(awk 'NR == 1 { print $1 }' "$(oracle_file crash "$f" "sym $name")")
		[ -n "$addr" ] && addrs+=("sym $(printf '%x' $((0x$addr + 4)))")
	done
	if ! oracle_crash "$f" "${addrs[@]}" || ! oracle_ck "$f" "${addrs[@]}"; then
		fail "analyze $f sym ADDR" "${oracle_error:-crashkit-analyze failed}"
		return
	fi
	for cmd in "${addrs[@]}"; do
		compare "analyze $f $cmd = crash" <(sym_clean "$(oracle_file crash "$f" "$cmd")") \
			"$(oracle_file ck "$f" "$cmd")"
	done
}

# 7.3: crash 9.0.2 stops at start-up; the facts of truth.env instead.
check_with_truth() {
	local f=$1 sys o want off base
	sys=$(oracle_file ck "$f" sys)
	o=$(sys_field "$sys" RELEASE)
	[ "$o" = "$KERNEL_RELEASE" ] && pass "analyze $f sys RELEASE (truth.env)" ||
		fail "analyze $f sys RELEASE" "'$o', truth '$KERNEL_RELEASE'"
	o=$(sys_field "$sys" VERSION)
	[ "$o" = "$KERNEL_VERSION" ] && pass "analyze $f sys VERSION (truth.env)" ||
		fail "analyze $f sys VERSION" "'$o', truth '$KERNEL_VERSION'"
	o=$(sys_field "$sys" CPUS)
	[ "$o" = "$NR_CPUS" ] && pass "analyze $f sys CPUS (truth.env)" ||
		fail "analyze $f sys CPUS" "'$o', truth '$NR_CPUS'"
	o=$(sys_field "$sys" MEMORY)
	[ "$o" = "$((MEM_MB / 1024)) GB" ] && pass "analyze $f sys MEMORY (truth.env)" ||
		fail "analyze $f sys MEMORY" "'$o', truth $MEM"
	o=$(sys_field "$sys" PANIC)
	case $f in
	qemu.*) want='""' ;;
	*) want="\"Kernel panic - not syncing: $PANIC_MESSAGE\"" ;;
	esac
	[ "$o" = "$want" ] && pass "analyze $f sys PANIC (truth.env)" ||
		fail "analyze $f sys PANIC" "'$o', want '$want'"
	o=$(awk 'NR > 1 { print $2 }' "$(oracle_file ck "$f" mod)" | sort | tr '\n' ' ')
	want=$(printf '%s\n' $MODULES | sort | tr '\n' ' ')
	[ "$o" = "$want" ] && pass "analyze $f mod names (truth.env MODULES)" ||
		fail "analyze $f mod names" "'$o', truth '$want'"
	# log: every line of the dmesg the kdump kernel saved is in ours
	off=$(ck_kaslr "$CK_LAB/$f")
	for name in sysrq_handle_crash schedule; do
		base=$(awk -v n="$name" '$3 == n { print $1; exit }' "$CK_LAB/System.map")
		want=$(printf '%016x' $((0x$base + off)))
		o=$(awk '{ print $1 }' "$(oracle_file ck "$f" "sym $name")")
		[ -n "$off" ] && [ "$o" = "$want" ] && pass "analyze $f sym $name = System.map + KERNELOFFSET" ||
			fail "analyze $f sym $name" "'$o', System.map + KERNELOFFSET $want"
	done
	o=$(grep -c '^\[ *[0-9]*\.[0-9]\{6\}\] ' "$(oracle_file ck "$f" log)")
	[ "$o" -gt 100 ] && pass "analyze $f log: $o timestamped lines" || fail "analyze $f log" "$o lines"
}

for f in "${DUMPS[@]}"; do
	[ -s "$CK_LAB/$f" ] || { skip "analyze $f" "no $f in the lab"; continue; }
	cmds=(sys mod "${LOGS[@]}" "sym -m loop")
	for name in "${NAMES[@]}"; do cmds+=("sym $name"); done
	if ! oracle_ck "$f" "${cmds[@]}"; then
		fail "analyze $f: crashkit-analyze ran" "$(tail -n 3 "$ORACLE_CK/$f/.stderr" | tr '\n' ' ')"
		continue
	fi
	pass "analyze $f: crashkit-analyze ran (no vmlinux)"
	if oracle_crash "$f" "${cmds[@]}"; then
		check_with_crash "$f"
	else
		skip "analyze $f against crash" "$oracle_error"
		check_with_truth "$f"
	fi
done
