#!/usr/bin/env bash
# crashkit-analyze's bt without a vmlinux against crash with the DWARF
# vmlinux, on the same dump: the panic task (bt, -s, -sx, -f, -t), every
# CPU (bt -a, bt -c), the task the crash NMI stopped and the sleepers, frame
# by frame: the stack slot, the function and the address, the exception
# and user-mode register blocks.  A function with several names at one
# address (kallsyms aliases such as __do_sys_pause / __x64_sys_pause) must
# be named as crash names it (a frame naming another alias fails, counted
# as such in the message).  QEMU's dumps are of
# a live guest: the CPU that was in user mode has no kernel frames (crash
# shows stale ones from an old interrupt; see the same section), so only
# its header is compared.  Where crash cannot read the kernel (7.3), ours
# is checked against truth.env: the sysrq path of the panic task down to
# the syscall entry, crash_nmi_callback on the busy task's CPU, __schedule
# at the top of each sleeper.
set -uo pipefail
: "${CK:=${CK_RELEASE:-}}"
export CK
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/../lab/oracle.sh"

DUMPS=(vmcore.kdump-zlib vmcore.elf qemu.elf)
MAP="$CK_LAB/System.map"

facts() {
	case $1 in
	qemu.*) busy_pid=$QEMU_BUSY_PID sleep_pids=$QEMU_SLEEP_PIDS ;;
	*) busy_pid=$BUSY_PID sleep_pids=$SLEEP_PIDS ;;
	esac
}

commands() {
	facts "$1"
	local p
	case $1 in
	qemu.*) CMDS=("bt -a" "foreach bt") ;;
	*) CMDS=("bt" "bt -a" "bt -s" "bt -sx" "bt -f" "bt -t" "bt -c $BUSY_CPU" "bt $busy_pid"
	      "foreach bt")
	esac
	[ "${2:-}" = facts ] && CMDS+=("bt -c $BUSY_CPU")
	for p in $sleep_pids; do CMDS+=("bt $p" "bt -s $p"); done
}

# Compares crash's answer with ours line by line; frame lines whose
# function names differ pass when System.map has both names at one address.
# Prints nothing when equal, "aliases N" when N alias lines differ, else
# the first differing lines.
compare_bt() {	# CRASH-FILE OUR-FILE
	awk -v map="$MAP" '
	BEGIN { while ((getline l < map) > 0) { split(l, f, " "); addr[f[3]] = addr[f[3]] " " f[1] " " } }
	function base(s) { sub(/\+.*/, "", s); return s }
	function alias(a, b,   n, x, i) {
		if (!(a in addr) || !(b in addr)) return 0
		n = split(addr[a], x, " ")
		for (i = 1; i <= n; i++) if (index(addr[b], " " x[i] " ")) return 1
		return 0
	}
	FNR == NR { c[FNR] = $0; nc = FNR; next }
	{ o[FNR] = $0; no = FNR }
	END {
		if (nc != no) { printf "crash %d lines, ours %d\n", nc, no }
		for (i = 1; i <= (nc > no ? nc : no); i++) {
			if (c[i] == o[i]) continue
			split(c[i], a, " "); split(o[i], b, " ")
			# " #N [slot] name at addr" (the name maybe "name+off")
			na = (a[1] ~ /^#/) ? 3 : 2; nb = (b[1] ~ /^#/) ? 3 : 2
			ca = c[i]; ob = o[i]
			sub(/\] [^ ]+ at /, "] @ at ", ca); sub(/\] [^ ]+ at /, "] @ at ", ob)
			if (ca == ob && alias(base(a[na]), base(b[nb]))) { aliases++; continue }
			printf "line %d: crash [%s] ours [%s]\n", i, c[i], o[i]; bad = 1; exit
		}
		if (!bad && aliases) print "aliases " aliases
	}' "$1" "$2"
}

check_pair() {	# NAME CRASH-FILE OUR-FILE
	local r
	if [ -f "$3" ] && [ ! -s "$3" ]; then
		fail "$1" "no answer: $(head -c 300 "$(dirname "$3")/.stderr" 2> /dev/null)"
		return
	fi
	r=$(compare_bt "$2" "$3")
	case $r in
	"") pass "$1" ;;
	aliases*) fail "$1" "${r#aliases } function name(s) another kallsyms alias than crash's" ;;
	*) fail "$1" "$(echo "$r" | head -n 2 | tr '\n' '|' | cut -c1-400)" ;;
	esac
}

# QEMU: the CPUs whose trace starts in the kernel compared whole, the
# others by header.
check_qemu_all() {	# NAME CRASH-FILE OUR-FILE
	local blk c o n
	n=$(grep -c '^PID: ' "$2")
	for ((blk = 1; blk <= n + 1; blk++)); do
		c=$(awk -v n="$blk" '/^PID: /{k++} k == n' "$2")
		o=$(awk -v n="$blk" '/^PID: /{k++} k == n' "$3")
		[ -z "$c$o" ] && break
		if grep -q 'exception RIP: user space' <<< "$o"; then
			if [ "$(head -n 1 <<< "$c")" = "$(head -n 1 <<< "$o")" ]; then
				pass "$1: $(head -n 1 <<< "$o" | cut -c1-40) header (user mode at the dump: no kernel frames)"
			else fail "$1: task $blk header" "crash [$(head -n 1 <<< "$c")] ours [$(head -n 1 <<< "$o")]"; fi
		elif [ "$(compare_bt <(sed '/^$/d' <<< "$c") <(sed '/^$/d' <<< "$o"))" != "" ]; then
			fail "$1: task $blk" "$(compare_bt <(sed '/^$/d' <<< "$c") <(sed '/^$/d' <<< "$o") | head -n 2 | tr '\n' '|' | cut -c1-400)"
			return
		fi
	done
	pass "$1: every task's trace (but user-mode CPUs)"
}

check_with_crash() {
	local f=$1 cmd
	for cmd in "${CMDS[@]}"; do
		if [[ $f == qemu.* && ($cmd == "bt -a" || $cmd == "foreach bt") ]]; then
			check_qemu_all "analyze $f $cmd = crash" "$(oracle_file crash "$f" "$cmd")" \
				"$(oracle_file ck "$f" "$cmd")"
		else
			check_pair "analyze $f $cmd = crash" "$(oracle_file crash "$f" "$cmd")" \
				"$(oracle_file ck "$f" "$cmd")"
		fi
	done
}

# 7.3: what the lab did, from truth.env.
check_facts() {
	local f=$1 out
	facts "$f"
	case $f in
	qemu.*) ;;
	*)
		out=$(oracle_file ck "$f" "bt")
		if grep -q "^PID: $CRASH_PID .*CPU: $CRASH_CPU " "$out" &&
		   grep -q '\] machine_kexec at ' "$out" && grep -q '\] sysrq_handle_crash at ' "$out" &&
		   grep -q '\] write_sysrq_trigger at ' "$out" && grep -q '\] entry_SYSCALL_64' "$out" &&
		   grep -q 'ORIG_RAX: 0000000000000001  CS: 0033' "$out"; then
			pass "analyze $f bt: the panic task from machine_kexec through the sysrq path to the write syscall"
		else fail "analyze $f bt: the sysrq path" "$(head -c 400 "$out")"; fi
		out=$(oracle_file ck "$f" "bt -c $BUSY_CPU")
		if grep -q "^PID: $busy_pid .*CPU: $BUSY_CPU " "$out" &&
		   grep -q ' #0 \[[0-9a-f]*\] crash_nmi_callback at ' "$out" && grep -q 'CS: 0033' "$out"; then
			pass "analyze $f bt -c $BUSY_CPU: the busy task, stopped by the crash NMI in user mode"
		else fail "analyze $f bt -c $BUSY_CPU: crash_nmi_callback" "$(head -c 400 "$out")"; fi
		;;
	esac
	local p
	for p in $sleep_pids; do
		out=$(oracle_file ck "$f" "bt $p")
		if grep -q "invalid task or pid value: $p\$" "$ORACLE_CK/$f/.stderr" 2> /dev/null; then
			skip "analyze $f bt $p" "pid $p is not in our task list (tasks.c): $(grep -m 1 WARNING "$ORACLE_CK/$f/.stderr" | cut -c1-200)"
			continue
		fi
		if grep -q 'was excluded from the dump' "$out"; then
			skip "analyze $f bt $p" "the dump lacks a page of the task (makedumpfile's filter): $(grep -m 1 -o 'reading kernel memory at [0-9a-fx]*' "$out")"
			continue
		fi
		if grep -q "^PID: $p " "$out" && grep -q ' #0 \[[0-9a-f]*\] __schedule at ' "$out" &&
		   grep -q 'CS: 0033' "$out"; then
			pass "analyze $f bt $p: a sleeper from __schedule down to its user registers"
		else fail "analyze $f bt $p" "$(head -c 400 "$out")"; fi
	done
}

for f in "${DUMPS[@]}"; do
	[ -s "$CK_LAB/$f" ] || { skip "analyze bt $f" "no $f in the lab"; continue; }
	commands "$f"
	if oracle_crash "$f" "${CMDS[@]}"; then
		oracle_ck "$f" "${CMDS[@]}"
		check_with_crash "$f"
	else
		skip "analyze $f bt = crash" "$oracle_error"
		commands "$f" facts
		oracle_ck "$f" "${CMDS[@]}" ps
		check_facts "$f"
	fi
done
