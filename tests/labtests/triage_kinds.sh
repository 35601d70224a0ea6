#!/usr/bin/env bash
# crashkit triage on the lab's crash kinds (tests/lab/lab.sh --crash KIND,
# the guest loads tests/lab/crashmod's ck_crashmod.ko and crashes one way
# per kind; docs/lab.md "Crash kinds"): for each kind, triage DUMP --json
# (no vmlinux) must give the class, the culprit function (the module's
# function that faulted) and module, and the panic task that the guest's
# console names; two runs of a kind (two boots, two KASLR slides) give one
# signature; the kinds' signatures are pairwise different.  Hung task: the
# culprit is the blocked task, not khungtaskd.  Soft lockup and RCU stall:
# the code the watchdog interrupted.  Timer: the trace shows the softirq.
# Where crash reads the kernel (6.1, 6.12), crash's `bt` of the panic task
# is compared with ours, function by function.
#
# The runs are made here when missing (each its own lab dir, cached), two
# QEMU at a time.  Runs per kind: CK_KINDS_RUNS, by default 2 on 6.1 and 1
# on the other series (CI time: ~30 s a run); CK_KINDS limits the kinds.
# Series 7 is skipped: its headers need gcc-14 (tests/lab/crashmod/build.sh).
set -uo pipefail
: "${CK:=${CK_RELEASE:-}}"
export CK
. "$(dirname "$0")/common.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
TRIAGE=("${CK_BUILD:?CK_BUILD must name the build directory}/crashkit-analyze" triage)
series=${CK_KSERIES:-6.1}
runs=${CK_KINDS_RUNS:-$([ "$series" = 6.1 ] && echo 2 || echo 1)}
read -ra KINDS <<< "${CK_KINDS:-sysrq null bug gpf divide ud2 list stack warn softlockup hung oom rcu timer}"

# kind: class, culprit function, culprit module ("-": the kernel's own)
declare -A X_CLASS X_FUNC X_MOD
expect() { X_CLASS[$1]=$2; X_FUNC[$1]=$3; X_MOD[$1]=$4; }
expect sysrq sysrq sysrq_handle_crash -
expect null null-pointer-dereference ck_crashmod_null ck_crashmod
expect bug bug ck_crashmod_bug ck_crashmod
expect gpf general-protection-fault ck_crashmod_gpf ck_crashmod
expect divide divide-error ck_crashmod_divide ck_crashmod
expect ud2 invalid-opcode ck_crashmod_ud2 ck_crashmod
expect list list-corruption ck_crashmod_list ck_crashmod
expect stack stack-protector ck_crashmod_stack ck_crashmod
expect warn warning ck_crashmod_warn ck_crashmod
expect softlockup soft-lockup ck_crashmod_softlockup ck_crashmod
expect hung hung-task ck_crashmod_hung ck_crashmod
expect oom out-of-memory ck_crashmod_oom ck_crashmod
expect rcu rcu-stall ck_crashmod_rcu ck_crashmod
expect timer null-pointer-dereference ck_crashmod_timer_fn ck_crashmod

labdir() { echo "$(dirname "$CK_LAB")/run-crash-$1-$2"; }

# ---------------------------------------------------------------- the runs

# The module first: a kernel it cannot be built for is skipped as a whole.
rc=0
"$top/tests/lab/crashmod/build.sh" "$KVER" "$series" > /dev/null 2> "$CK_TMP/crashmod.err" || rc=$?
if [ $rc = 3 ]; then
	skip "triage crash kinds on $KVER" "$(grep -m 1 'skip' "$CK_TMP/crashmod.err" | cut -c1-250)"
	exit 0
elif [ $rc != 0 ]; then
	fail "build ck_crashmod.ko for $KVER" "$(tail -n 3 "$CK_TMP/crashmod.err" | tr '\n' ' ' | cut -c1-300)"
	exit 0
fi
pass "build ck_crashmod.ko for $KVER (tests/lab/crashmod/build.sh)"

todo=()
for k in "${KINDS[@]}"; do
	for ((r = 1; r <= runs; r++)); do
		[ -f "$(labdir "$k" "$r")/DONE" ] || todo+=("$k $r")
	done
done
: > "$CK_TMP/lab.rc"
[ ${#todo[@]} = 0 ] || echo "# making ${#todo[@]} crash-kind lab runs for $series, two at a time"
for item in "${todo[@]}"; do
	read -r k r <<< "$item"
	(
		rc=0
		"$top/tests/lab/lab.sh" --kernel "$series" --crash "$k" --run "$r" \
			> /dev/null 2> "$CK_TMP/lab-$k-$r.err" || rc=$?
		echo "$k $r $rc" >> "$CK_TMP/lab.rc"
	) &
	while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n; done
done
wait

# ---------------------------------------------------------------- facts

jfacts() {	# JSON -> one line per fact, KEY=VALUE
	python3 - "$1" <<-'PY'
	import json, sys
	try:
	    j = json.load(open(sys.argv[1]))
	except Exception as e:
	    print("error=%s" % e); sys.exit(0)
	c = j.get("culprit") or {}
	p = j.get("panic_task") or {}
	bt = [f.get("function") or "" for f in j.get("backtrace") or []]
	kinds = [f.get("kind") or "" for f in j.get("backtrace") or []]
	print("class=%s" % j.get("class"))
	print("func=%s" % c.get("function"))
	print("mod=%s" % (c.get("module") or "-"))
	print("culprit_task=%s %s" % (c.get("pid"), c.get("comm")))
	print("context=%s" % c.get("context"))
	print("task=%s %s %s" % (p.get("pid"), p.get("comm"), p.get("cpu")))
	print("sig=%s" % j.get("signature"))
	print("sig_input=%s" % j.get("signature_input"))
	print("title=%s" % j.get("title"))
	print("bt=%s" % " ".join(bt))
	print("exception=%s" % ("yes" if "exception" in kinds else "no"))
	print("dstate=%s" % " ".join("%s:%s" % (t.get("comm"), t.get("blocked_in"))
	                             for t in j.get("dstate_tasks") or []))
	print("partial=%s" % j.get("partial"))
	PY
}
fact() { sed -n "s/^$1=//p" "$2" | head -n 1; }

# The panic task as the kernel's log says (makedumpfile --dump-dmesg's
# reading of the dump, an independent one, else the serial console, which
# can miss the last lines when kdump comes before the console drains): the
# "CPU: N PID: P Comm: C"
# line of panic()'s own dump_stack (the first after the last "Kernel panic
# - not syncing"), else (kdump straight from oops_end) the oops' last one;
# never an "NMI backtrace for cpu N" of another CPU.
console_task() {
	local f=$1/dmesg.vmcore.kdump-zlib.txt
	[ -s "$f" ] || f=$1/serial-first.log
	tr -d '\r' < "$f" | awk '
	/Kernel panic - not syncing/ { panic = 1; first = ""; next }
	/NMI backtrace for cpu/ { nmi = 1; next }
	match($0, /CPU: [0-9]+ (UID: [0-9]+ )?PID: [0-9]+ Comm: [^ ]+/) {
		n = split(substr($0, RSTART, RLENGTH), w, " ")
		t = w[n - 2] " " w[n] " " w[2]
		if (nmi) { nmi = 0; next }
		if (panic && first == "") first = t
		last = t
		next
	}
	{ nmi = 0 }
	END { print (first != "" ? first : last) }'
}

declare -A SIG
for k in "${KINDS[@]}"; do
	for ((r = 1; r <= runs; r++)); do
		d=$(labdir "$k" "$r")
		n="triage --crash $k run $r"
		if [ ! -f "$d/DONE" ]; then
			rc=$(awk -v k="$k" -v r="$r" '$1 == k && $2 == r { print $3 }' "$CK_TMP/lab.rc" 2> /dev/null)
			fail "$n: lab run" "exit ${rc:-?}: $(tail -n 2 "$CK_TMP/lab-$k-$r.err" 2> /dev/null | tr '\n' ' ' | cut -c1-300)"
			continue
		fi
		j=$CK_TMP/$k-$r.json f=$CK_TMP/$k-$r.facts rc=0
		timeout 60 "${TRIAGE[@]}" "$d/vmcore.kdump-zlib" --json > "$j" 2> "$CK_TMP/$k-$r.err" || rc=$?
		[ $rc = 0 ] && pass "$n: exit 0" || fail "$n: exit $rc" "$(head -c 300 "$CK_TMP/$k-$r.err")"
		jfacts "$j" > "$f"
		v=$(fact class "$f")
		[ "$v" = "${X_CLASS[$k]}" ] && pass "$n: class $v" || fail "$n: class" "'$v', want ${X_CLASS[$k]}"
		v=$(fact func "$f")
		[ "$v" = "${X_FUNC[$k]}" ] && pass "$n: culprit $v" ||
			fail "$n: culprit" "'$v', want ${X_FUNC[$k]} (bt: $(fact bt "$f" | cut -c1-300))"
		v=$(fact mod "$f")
		[ "$v" = "${X_MOD[$k]}" ] && pass "$n: culprit module $v" || fail "$n: culprit module" "'$v', want ${X_MOD[$k]}"
		v=$(fact task "$f") t=$(console_task "$d")
		if [ -z "$t" ]; then
			fail "$n: panic task" "no CPU/PID/Comm line in $d's logs"
		elif [ "$v" = "$t" ]; then
			pass "$n: panic task $v"
		else
			fail "$n: panic task" "'$v', the log says '$t'"
		fi
		# whose code it is: the crashing task itself (the hung one, the
		# stalled CPU's), except in the timer's softirq
		v=$(fact culprit_task "$f")
		if [ "$k" = timer ]; then
			[ "$(fact context "$f")" = softirq ] && pass "$n: culprit context softirq" ||
				fail "$n: culprit context" "'$(fact context "$f")', want softirq"
		else
			[[ $v == *" ck_crash" ]] && pass "$n: culprit in ck_crash's trace ($v)" ||
				fail "$n: culprit task" "'$v', want ck_crash"
			[ "$(fact context "$f")" = task ] && pass "$n: culprit context task" ||
				fail "$n: culprit context" "'$(fact context "$f")', want task"
		fi
		v=$(fact title "$f")
		[[ $v == *"${X_FUNC[$k]}"* ]] && pass "$n: title names the culprit ($v)" ||
			fail "$n: title" "'$v'"
		case $k in
		hung)
			# the panic comes from khungtaskd; the culprit is the task it found
			[[ $(fact task "$f") == *" khungtaskd "* ]] && pass "$n: panic task is khungtaskd, culprit the blocked task" ||
				fail "$n: panic task khungtaskd" "$(fact task "$f")"
			[[ " $(fact dstate "$f") " == *" ck_crash:${X_FUNC[$k]} "* ]] &&
				pass "$n: D-state list has ck_crash in ${X_FUNC[$k]}" ||
				fail "$n: D-state list" "'$(fact dstate "$f")'"
			;;
		softlockup)
			[ "$(fact exception "$f")" = yes ] && pass "$n: culprit is the interrupted code (exception frame)" ||
				fail "$n: interrupted code" "no exception frame in $(fact bt "$f" | cut -c1-300)"
			;;
		timer)
			v=$(fact bt "$f")
			[[ " $v " =~ \ (__do_softirq|handle_softirqs|run_timer_softirq)\  ]] &&
				pass "$n: backtrace shows softirq context" ||
				fail "$n: softirq context" "bt: $(echo "$v" | cut -c1-300)"
			;;
		esac
		SIG[$k-$r]=$(fact sig "$f")
		echo "# $series $k run $r: KASLR $(sed -n 's/^KASLR_OFFSET=//p' "$d/truth.env") sig ${SIG[$k-$r]} ($(fact sig_input "$f")) lab run $(sed -n 's/^TIME_CRASH_RUN_S=//p' "$d/truth.env")s"
	done
done

# ---------------------------------------------------------------- signatures

for k in "${KINDS[@]}"; do
	[ -n "${SIG[$k-1]:-}" ] || continue
	for ((r = 2; r <= runs; r++)); do
		[ -n "${SIG[$k-$r]:-}" ] || continue
		a=$(sed -n 's/^KASLR_OFFSET=//p' "$(labdir "$k" 1)/truth.env")
		b=$(sed -n 's/^KASLR_OFFSET=//p' "$(labdir "$k" "$r")/truth.env")
		if [ "${SIG[$k-1]}" != "${SIG[$k-$r]}" ]; then
			fail "triage --crash $k: runs 1 and $r give one signature" "${SIG[$k-1]} vs ${SIG[$k-$r]}"
		elif [ "$a" != "$b" ]; then
			pass "triage --crash $k: runs 1 and $r give one signature ${SIG[$k-1]} (KASLR $a and $b)"
		else
			pass "triage --crash $k: runs 1 and $r give one signature ${SIG[$k-1]} (same KASLR slide $a by chance)"
		fi
	done
done
for ((i = 0; i < ${#KINDS[@]}; i++)); do
	for ((m = i + 1; m < ${#KINDS[@]}; m++)); do
		a=${KINDS[i]} b=${KINDS[m]}
		[ -n "${SIG[$a-1]:-}" ] && [ -n "${SIG[$b-1]:-}" ] || continue
		[ "${SIG[$a-1]}" != "${SIG[$b-1]}" ] ||
			fail "triage: $a and $b have different signatures" "both ${SIG[$a-1]}"
	done
done
n=0
for k in "${KINDS[@]}"; do [ -n "${SIG[$k-1]:-}" ] && n=$((n + 1)); done
[ $n -lt 2 ] || pass "triage: the $n kinds' signatures are pairwise different (or failed above)"

# ---------------------------------------------------------------- partial

# The null run's dump without the panic task's stack pages, and without
# ck_crashmod's struct module (the module list breaks there, so the
# faulting address is in no module we can name): each must give a partial
# report (exit 3) that says what it could not read, never a crash (ASan).
drop=$CK_BUILD/tests/ck-drop-pages
[ -x "$drop" ] || drop=$(dirname "${CK_RELEASE:-/nonexistent}")/tests/ck-drop-pages
d=$(labdir null 1)
if [ ! -f "$d/DONE" ]; then
	: # no null run: failed above
elif [ ! -x "$drop" ]; then
	skip "triage: partial reports" "no tests/ck-drop-pages in $CK_BUILD"
else
	printf 'bt\nmod\n' > "$CK_TMP/cmds"
	"${TRIAGE[0]}" analyze "$d/vmcore.kdump-zlib" -i "$CK_TMP/cmds" > "$CK_TMP/btmod.txt" 2>&1
	sp=$(sed -n 's/^ *#[0-9]* \[\([0-9a-f]*\)\] ck_crashmod_write.* at .*/\1/p' "$CK_TMP/btmod.txt" | head -n 1)
	ma=$(awk '$2 == "ck_crashmod" { print $1; exit }' "$CK_TMP/btmod.txt")
	partial_case() {	# NAME VADDR[:LEN] PYTHON-CHECK WHAT
		local out=$CK_TMP/partial-$1.kdump j=$CK_TMP/partial-$1.json rc=0
		if [ -z "${2%%:*}" ] || ! "$drop" "$d/vmcore.kdump-zlib" "$out" "$2" > /dev/null 2>&1; then
			fail "triage partial ($1): make the dump" "no address from bt/mod: $(head -c 200 "$CK_TMP/btmod.txt")"
			return
		fi
		timeout 60 "${TRIAGE[@]}" "$out" --json > "$j" 2> "$CK_TMP/partial-$1.err" || rc=$?
		if [ $rc = 3 ] && python3 -c "import json,sys; j=json.load(open(sys.argv[1])); assert j['partial']; $3" "$j" 2> "$CK_TMP/partial-$1.py"; then
			pass "triage partial ($1): exit 3, $4 ($(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["unreadable"][0][:110])' "$j"))"
		else
			fail "triage partial ($1)" "exit $rc; $(tail -n 1 "$CK_TMP/partial-$1.py") $(head -c 300 "$CK_TMP/partial-$1.err")"
		fi
	}
	# THREAD_SIZE is 16 KiB on x86_64 (no KASAN in Debian's kernels)
	[ -z "$sp" ] || sp=$(printf '%x:16384' $((0x$sp & ~0x3fff)))
	partial_case stack "$sp" "assert any(u.startswith('backtrace of pid') and 'excluded' in u for u in j['unreadable']); assert j['culprit']['function'] == 'ck_crashmod_null'" \
		"the stack excluded, the culprit still from the crash registers"
	partial_case module "$ma" "assert any(u.startswith('modules:') for u in j['unreadable']); assert j['culprit']['function'] is None and j['culprit']['address']; assert 'unknown code' in j['title']" \
		"the module list broken, the culprit unnamed code"
fi

# ---------------------------------------------------------------- crash's bt

# crash reads 6.1 and 6.12 (not 7.x): its bt of the panic task, the
# function names in order, against ours.
. "$top/tests/lab/oracle.sh"
for k in "${KINDS[@]}"; do
	d=$(labdir "$k" 1)
	[ -f "$d/DONE" ] && [ -f "$CK_TMP/$k-1.facts" ] || continue
	n="triage --crash $k: panic task bt = crash's bt"
	if ! CK_LAB=$d oracle_crash vmcore.kdump-zlib bt; then
		# shellcheck disable=SC2154  # set by oracle.sh
		skip "$n" "$oracle_error"
		continue
	fi
	c=$(CK_LAB=$d oracle_file crash vmcore.kdump-zlib bt)
	theirs=$(sed -n -e 's/^ *#[0-9]* \[[0-9a-f]*\] \([^ ]*\) at .*/\1/p' \
		-e 's/^ *\[exception RIP: \([^+]*\).*/\1/p' "$c" | tr '\n' ' ')
	ours=$(fact bt "$CK_TMP/$k-1.facts")
	# Names without clone suffixes, runs of one name as one (crash lists
	# the function an exception interrupted both as "exception RIP" and as
	# a frame of its own).  crash's frames must come in ours in order; ours
	# may have more: crash leaves out a call whose return address is the
	# next function's first byte (__stack_chk_fail's noreturn call to
	# panic), which the kernel's own trace shows as we do.
	r=$(awk -v a="$theirs" -v b="$ours" 'function norm(s, o,   n, x, i, m, p) {
			n = split(s, x, " "); m = 0; p = ""
			for (i = 1; i <= n; i++) { sub(/\..*/, "", x[i]); if (x[i] != "" && x[i] != p) o[++m] = x[i]; p = x[i] }
			return m }
		BEGIN {
			na = norm(a, A); nb = norm(b, B); j = 1; extra = ""
			for (i = 1; i <= na; i++) {
				while (j <= nb && B[j] != A[i]) { extra = extra " " B[j]; j++ }
				if (j > nb) { print "missing " A[i]; exit }
				j++
			}
			print "ok " na extra
		}')
	if [ -z "$theirs" ]; then
		skip "$n" "crash printed no frames: $(head -c 200 "$c")"
	elif [[ $r == ok* ]]; then
		read -r _ nf extra <<< "$r"
		pass "$n ($nf frames${extra:+; only ours: $extra})"
	else
		fail "$n" "$r; crash: $(echo "$theirs" | cut -c1-250) | ours: $(echo "$ours" | cut -c1-250)"
	fi
done
