#!/usr/bin/env bash
# crashkit-analyze's task commands without a vmlinux against crash with the
# DWARF vmlinux, on the same dump: ps (plain, -k -u -G -s -p -c -l -t,
# selectors by pid, command and task address), foreach ... ps, set (and
# set PID, -c CPU, -p) exactly, ps -t but for RUN TIME (±1 s: ours is the
# runqueue clock, crash's jiffies_64 and HZ; see docs/analysis.md), and
# foreach bt's tasks in order once bt exists.  Where crash cannot read the
# kernel (7.3), ours is checked against truth.env instead: the busy task
# running on its CPU, the sleepers, the panic task and its CPU.
set -uo pipefail
: "${CK:=${CK_RELEASE:-}}"
export CK
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/../lab/oracle.sh"

DUMPS=(vmcore.elf vmcore.kdump-zlib qemu.elf)	# vmcore.elf first: the others are checked against it

compare() {	# NAME CRASH-FILE OUR-FILE
	if diff -q "$2" "$3" > /dev/null; then pass "$1"
	else fail "$1" "$(diff "$2" "$3" | head -n 6 | tr '\n' '|' | cut -c1-400)"; fi
}

# The facts of the crash the dump holds: the kdump dumps are of the lab's
# crash, QEMU's of another boot (its own pids, no panic).
facts() {
	case $1 in
	qemu.*) busy_pid=$QEMU_BUSY_PID sleep_pids=$QEMU_SLEEP_PIDS panic_pid= ;;
	*) busy_pid=$BUSY_PID sleep_pids=$SLEEP_PIDS panic_pid=$CRASH_PID ;;
	esac
}

# The commands compared exactly, in this order (the set commands change
# the context: last, each answer independent of the one before).
commands() {
	local f=$1 addr
	facts "$f"
	CMDS=("ps" "ps -k" "ps -u" "ps -G" "ps -s" "ps -p" "ps -c" "ps -l" "ps 0" "ps 1"
	      "ps $BUSY_COMM" "ps \\$BUSY_COMM" "ps -p $busy_pid" "ps -c 1" "ps 1 2 $busy_pid"
	      "ps -k -G" "ps -u -p"
	      "foreach RU ps" "foreach IN ps" "foreach kernel ps -G" "foreach user ps"
	      "foreach $BUSY_COMM ps -p" "foreach $busy_pid 1 ps" "foreach active ps" "ps -S"
	      "foreach 1 $busy_pid set" "foreach RU set" "ps -m" "ps -m 1 $busy_pid" "ps -l -C $BUSY_CPU"
	      "ps -m -C all" "ps -l -C 0-1" "foreach IN ps -m" "ps -g" "ps -g 0 1" "foreach kernel ps -g"
	      "ps -A" "ps -A -u" "ps -H 1 2" "ps -y FIFO" "ps -y fifo,0 -c" "ps -y NORMAL -l"
	      "set")
	TIMES=("ps -t" "ps -t $busy_pid")
	SETS=("set 1" "set -c $BUSY_CPU" "set -p")
}

# ps -t without RUN TIME lines; RUN TIME lines alone.
no_runtime() { grep -v 'RUN TIME' "$1"; }
runtimes() { sed -n 's/^ *RUN TIME: //p' "$1" | awk -F: '{ print $1 * 3600 + $2 * 60 + $3 }'; }

check_runtimes() {	# NAME CRASH-FILE OUR-FILE: each within 1 s
	local bad
	bad=$(paste <(runtimes "$2") <(runtimes "$3") |
		awk '{ d = $1 - $2; if (d < -1 || d > 1 || NF != 2) { print NR ": crash " $1 " ours " $2; exit } }')
	if [ -z "$bad" ] && [ -s "$2" ]; then pass "$1"; else fail "$1" "${bad:-no answer}"; fi
}

check_with_crash() {
	local f=$1 cmd
	for cmd in "${CMDS[@]}" "${SETS[@]}"; do
		# no panic (QEMU's dumps): crash's "set: no panic task found!" is
		# on its stdout, ours on stderr
		if [ "$cmd" = "set -p" ] && [ -z "$panic_pid" ]; then
			if grep -q 'no panic task found' "$(oracle_file crash "$f" "$cmd")" &&
				[ ! -s "$(oracle_file ck "$f" "$cmd")" ] &&
				grep -q '^set: no panic task found!$' "$ORACLE_CK/$f/.stderr"; then
				pass "analyze $f set -p: no panic task, as crash"
			else fail "analyze $f set -p: no panic task" "$(head -c 200 "$(oracle_file ck "$f" "$cmd")")"; fi
			continue
		fi
		compare "analyze $f $cmd = crash" "$(oracle_file crash "$f" "$cmd")" "$(oracle_file ck "$f" "$cmd")"
	done
	for cmd in "${TIMES[@]}"; do
		compare "analyze $f $cmd = crash (but RUN TIME)" \
			<(no_runtime "$(oracle_file crash "$f" "$cmd")") <(no_runtime "$(oracle_file ck "$f" "$cmd")")
		check_runtimes "analyze $f $cmd RUN TIME within 1 s of crash's" \
			"$(oracle_file crash "$f" "$cmd")" "$(oracle_file ck "$f" "$cmd")"
	done
	# foreach bt: the same tasks in the same order (bt's frames are bt's test)
	local ours
	ours=$(oracle_file ck "$f" "foreach bt")
	if grep -q 'not available' "${ours%.txt}.err" 2> /dev/null || [ ! -s "$ours" ]; then
		skip "analyze $f foreach bt tasks = crash" "bt is not available in this build"
	else
		compare "analyze $f foreach bt tasks = crash" <(grep '^PID: ' "$(oracle_file crash "$f" "foreach bt")") \
			<(grep '^PID: ' "$ours")
	fi
}

# One row of our ps for pid: "> PID PPID CPU TASK ST ..." with the '>' kept.
ps_row() { awk -v p="$2" '{ a = ($1 == ">"); if (a) $1 = ""; $0 = $0; if ($1 == p) { print (a ? ">" : "-"), $0; exit } }' "$1"; }

# A task missing from a filtered dump whose task_struct makedumpfile left
# out: ours says so ("... was excluded from the dump") and goes on.  On 7.3
# makedumpfile 1.7.x judges the tail pages of slab folios alone, as user
# pages (no OFFSET(page.compound_info)), and drops task_structs with them.
excluded() { [ "$1" != vmcore.elf ] && [ "${1#qemu}" = "$1" ] && grep -q 'excluded from the dump' "$ORACLE_CK/$1/.stderr"; }

# PID PPID CPU TASK ST COMM of each row (no '>', no memory columns).
ps_ids() { awk 'NR > 1 { if ($1 == ">") $1 = ""; $0 = $0; print $1, $2, $3, $4, $5, $NF }' "$1" | sort; }

# Without crash: ours against truth.env.
check_with_truth() {
	local f=$1 ps row pid st set elf
	facts "$f"
	ps=$(oracle_file ck "$f" ps)
	elf=$(oracle_file ck vmcore.elf ps)
	if excluded "$f"; then
		# what is there is what the unfiltered dump of the same crash has
		if [ -s "$elf" ] && [ -z "$(comm -23 <(ps_ids "$ps") <(ps_ids "$elf"))" ]; then
			pass "analyze $f ps: $(ps_ids "$ps" | wc -l) of vmcore.elf's $(ps_ids "$elf" | wc -l) tasks, the same (task_structs excluded by makedumpfile)"
		else fail "analyze $f ps: a subset of vmcore.elf's tasks" "$(comm -23 <(ps_ids "$ps") <(ps_ids "$elf") | head -n 3 | tr '\n' '|')"; fi
	fi
	row=$(ps_row "$ps" "$busy_pid")
	if [ -z "$row" ] && excluded "$f"; then
		skip "analyze $f ps: $BUSY_COMM ($busy_pid) running" "its task_struct is not in the dump"
	elif [ "$(echo "$row" | awk '{ print $1, $2, $6, $NF }')" = "> $busy_pid RU $BUSY_COMM" ] &&
		{ [ "$f" != "${f#qemu}" ] || [ "$(echo "$row" | awk '{ print $4 }')" = "$BUSY_CPU" ]; }; then
		pass "analyze $f ps: $BUSY_COMM ($busy_pid) running on its CPU"
	else fail "analyze $f ps: $BUSY_COMM ($busy_pid) running" "row '$row'"; fi
	for pid in $sleep_pids; do
		row=$(ps_row "$ps" "$pid")
		st=$(echo "$row" | awk '{ print $6 }')
		if [ -z "$row" ] && excluded "$f"; then skip "analyze $f ps: sleeper $pid IN" "its task_struct is not in the dump"
		elif [ "$st" = IN ]; then pass "analyze $f ps: sleeper $pid IN"
		else fail "analyze $f ps: sleeper $pid IN" "row '$row'"; fi
	done
	if [ "$(awk '$NF ~ /^\[swapper\// { n++ } END { print n + 0 }' "$ps")" = "$NR_CPUS" ]; then
		pass "analyze $f ps: one idle task per CPU"
	elif excluded "$f"; then skip "analyze $f ps: one idle task per CPU" "not all in the dump"
	else fail "analyze $f ps: one idle task per CPU" "$(grep -c swapper "$ps") swapper rows"; fi
	if [ "$(awk 'NR > 1 && $NF ~ /^\[/ { k++ } END { print k + 0 }' "$ps")" -gt 10 ] &&
		grep -q '^ *1 *0 .* init$' "$ps"; then pass "analyze $f ps: kernel threads bracketed, init not"
	elif excluded "$f"; then skip "analyze $f ps: kernel threads bracketed" "most are not in the dump"
	else fail "analyze $f ps: kernel threads bracketed" "$(head -n 4 "$ps" | tr '\n' '|')"; fi
	set=$(oracle_file ck "$f" set)
	if [ -n "$panic_pid" ]; then
		if grep -q "^    PID: $panic_pid\$" "$set" && grep -q "^    CPU: $CRASH_CPU\$" "$set" &&
			grep -q "(PANIC)" "$set" && grep -q "COMMAND: \"$CRASH_COMM\"" "$set"; then
			pass "analyze $f set: the panic task $CRASH_COMM ($panic_pid) on CPU $CRASH_CPU"
		else fail "analyze $f set: the panic task" "$(tr '\n' '|' < "$set")"; fi
	elif grep -q "(ACTIVE)" "$set" && grep -q "^    CPU: 0\$" "$set"; then
		pass "analyze $f set: no panic, CPU 0's task"
	else fail "analyze $f set: no panic, CPU 0's task" "$(tr '\n' '|' < "$set")"; fi
}

# --json: the same tasks as the table (pid, ppid, cpu, task, state, comm,
# active), one object.
check_json() {
	local f=$1 out
	out=$(timeout 120 "$CK_ANALYZE" analyze "$CK_LAB/$f" --json -c ps 2> /dev/null)
	if echo "$out" | python3 -c '
import json, sys
d = json.load(sys.stdin)
rows = []
for line in open(sys.argv[1]).read().splitlines()[1:]:
    active = line.startswith(">")
    w = line.lstrip("> ").split()
    rows.append((int(w[0]), int(w[1]), int(w[2]), "0x" + w[3], w[4], w[-1].strip("[]"), active))
js = [(t["pid"], t["ppid"], t["cpu"], t["task"], t["state"], t["comm"], t["active"]) for t in d["tasks"]]
assert rows == js, (rows[:2], js[:2])
' "$(oracle_file ck "$f" ps)" 2> /dev/null; then pass "analyze $f ps --json = ps"
	else fail "analyze $f ps --json = ps" "$(echo "$out" | head -c 200)"; fi
}

for f in "${DUMPS[@]}"; do
	[ -s "$CK_LAB/$f" ] || { skip "analyze $f tasks" "no $f in the lab"; continue; }
	commands "$f"
	if oracle_ck "$f" "${CMDS[@]}" "${TIMES[@]}" "foreach bt" "${SETS[@]}"; then
		pass "analyze $f: crashkit-analyze ran the task commands"
	elif excluded "$f"; then
		skip "analyze $f: crashkit-analyze ran the task commands" "tasks asked for by pid are not in the dump"
	else
		fail "analyze $f: crashkit-analyze ran" "$(head -c 300 "$ORACLE_CK/$f/.stderr")"
	fi
	if grep -q -i -E 'AddressSanitizer|runtime error' "$ORACLE_CK/$f/.stderr"; then
		fail "analyze $f: no sanitizer report" "$(grep -m 1 -i -E 'Sanitizer|runtime error' "$ORACLE_CK/$f/.stderr")"
	fi
	check_with_truth "$f"
	check_json "$f"
	if oracle_crash "$f" "${CMDS[@]}" "${TIMES[@]}" "foreach bt" "${SETS[@]}"; then
		check_with_crash "$f"
	else
		skip "analyze $f tasks = crash" "$oracle_error"
	fi
done
rm -rf "$ORACLE_CK"
