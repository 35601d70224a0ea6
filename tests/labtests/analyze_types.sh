#!/usr/bin/env bash
# crashkit-analyze's struct, union, whatis, p, rd, dis and eval without a
# vmlinux (types from the dump's BTF) against crash with the DWARF vmlinux,
# on the same dump.  Layouts and values exactly; `struct task_struct -o` also
# member by member (offset and name).  Normalised before comparing: gdb's
# value history numbers ("$3 =", which count crash's own earlier prints) and
# the last newline of `rd -a` (crash leaves it out).  Where crash cannot read
# the kernel (7.3), ours is checked against System.map + KERNELOFFSET and
# what any kernel must show (init_task is pid 0 "swapper/0").
set -uo pipefail
: "${CK:=${CK_RELEASE:-}}"
export CK
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/../lab/oracle.sh"

DUMPS=(vmcore.kdump-zlib vmcore.elf qemu.elf)
# Compared exactly (after normalising).
EXACT=(
	"struct task_struct"
	"struct task_struct -o"
	"struct list_head -o"
	"struct page -o"
	"struct mm_struct -o"
	"struct page -o init_task"
	"struct sched_entity"
	"union rcu_special -o"
	"struct task_struct.pid"
	"whatis init_task"
	"whatis task_struct"
	"whatis atomic_t"
	"whatis enum pid_type"
	"whatis sysrq_handle_crash"
	"struct task_struct.pid,comm init_task"
	"struct task_struct.pid,comm,tasks init_task"
	"struct task_struct.se.load init_task"
	"struct list_head init_task 2"
	"p jiffies"
	"p -x jiffies"
	"p jiffies_64"
	"p nr_cpu_ids"
	"p init_task.pid"
	"p init_task.comm"
	"p init_task.sched_class"
	"p init_uts_ns"
	"p init_uts_ns.name.release"
	"p runqueues"
	"p runqueues:1"
	"rd jiffies"
	"rd linux_banner 8"
	"rd -64 linux_banner 5"
	"rd -32 linux_banner 9"
	"rd -16 linux_banner 9"
	"rd -8 linux_banner 33"
	"rd -x linux_banner 3"
	"rd -d jiffies 4"
	"rd -d -32 jiffies 5"
	"rd -d -8 jiffies 18"
	"rd -s idle_sched_class 12"
	"rd -a linux_banner"
	"dis sysrq_handle_crash"
	"dis -r sysrq_handle_crash"
	"dis panic 20"
	"dis schedule"
	"dis __rcu_read_unlock"
	"dis loop_probe 6"
	"eval 1 + 2"
	"eval 1 << 12"
	"eval 0x10 * 3"
	"eval 100 - 200"
	"eval 0x180000"
	"eval -b 5"
	"eval jiffies"
	"eval linux_banner + 8"
)
# Compared with the known differences taken out (see docs/analysis.md,
# "Differences from crash: types and memory").
NORMALISED=(
	"struct task_struct init_task"
	"struct task_struct -x init_task"
)

norm() {	# gdb's history numbers; rd -a's missing last newline
	sed -e 's/\$[0-9][0-9]* = /$N = /' "$1"
	[ -n "$(tail -c 1 "$1")" ] && echo
}

# init_task.stack: the symbol at init_stack's address; gdb shows none for a
# size-0 linker symbol, kallsyms names it (init_stack or the data there).
norm_task() { norm "$1" | sed -e 's/^\(  stack = 0x[0-9a-f]*\) <[^>]*>,$/\1,/'; }

compare() {	# NAME CRASH-FILE OUR-FILE
	if diff -q "$2" "$3" > /dev/null; then pass "$1"
	else fail "$1" "$(diff "$2" "$3" | head -n 6 | tr '\n' '|' | cut -c1-400)"; fi
}

# "[offset] ... name;" of a -o layout as "offset name": the member's place,
# whatever the spelling of its type.
offsets() {
	sed -n 's/^ *\[\([0-9]*\)\].*[ *]\([A-Za-z_][A-Za-z0-9_]*\)\(\[[0-9]*\]\)*\( : [0-9]*\)*;$/\1 \2/p' "$1"
}

check_with_crash() {
	local f=$1 cmd c o n
	for cmd in "${EXACT[@]}"; do
		compare "analyze $f $cmd = crash" <(norm "$(oracle_file crash "$f" "$cmd")") \
			<(norm "$(oracle_file ck "$f" "$cmd")")
	done
	for cmd in "${NORMALISED[@]}"; do
		compare "analyze $f $cmd = crash (but init_task.stack's symbol)" \
			<(norm_task "$(oracle_file crash "$f" "$cmd")") \
			<(norm_task "$(oracle_file ck "$f" "$cmd")")
	done
	c=$(oracle_file crash "$f" "struct task_struct -o")
	o=$(oracle_file ck "$f" "struct task_struct -o")
	n=$(offsets "$c" | wc -l)
	if [ "$n" -gt 100 ] && diff -q <(offsets "$c") <(offsets "$o") > /dev/null; then
		pass "analyze $f struct task_struct -o: all $n members at crash's offsets"
	else
		fail "analyze $f struct task_struct -o offsets" \
			"$n members; $(diff <(offsets "$c") <(offsets "$o") | head -n 4 | tr '\n' '|')"
	fi
	grep -q '^SIZE: [0-9]' "$o" && [ "$(tail -n 1 "$c")" = "$(tail -n 1 "$o")" ] &&
		pass "analyze $f struct task_struct SIZE: $(tail -n 1 "$o")" ||
		fail "analyze $f struct task_struct SIZE" "crash '$(tail -n 1 "$c")', ours '$(tail -n 1 "$o")'"
}

# 7.3: crash 9.0.2 stops at start-up; facts any kernel shows instead.
check_with_truth() {
	local f=$1 o off base want
	o=$(cat "$(oracle_file ck "$f" "struct task_struct.pid,comm init_task")")
	[ "$o" = $'  pid = 0,\n  comm = "swapper/0\\000\\000\\000\\000\\000\\000",' ] &&
		pass "analyze $f struct task_struct.pid,comm init_task: swapper/0" ||
		fail "analyze $f struct task_struct.pid,comm init_task" "$o"
	o=$(oracle_file ck "$f" "struct task_struct -o")
	grep -q '^ *\[0\] struct thread_info thread_info;$' "$o" && grep -q '^SIZE: [0-9]' "$o" &&
		pass "analyze $f struct task_struct -o" || fail "analyze $f struct task_struct -o" "$(head -c 200 "$o")"
	o=$(offsets "$o" | awk 'p > $1 { bad = 1 } { p = $1 } END { print NR, bad + 0 }')
	[ "${o#* }" = 0 ] && [ "${o% *}" -gt 100 ] &&
		pass "analyze $f struct task_struct -o: ${o% *} members in offset order" ||
		fail "analyze $f struct task_struct -o order" "$o"
	off=$(ck_kaslr "$CK_LAB/$f")
	base=$(awk '$3 == "sysrq_handle_crash" { print $1; exit }' "$CK_LAB/System.map")
	want=$(printf '0x%016x <sysrq_handle_crash>:' $((0x$base + off)))
	o=$(oracle_file ck "$f" "dis sysrq_handle_crash")
	[ -n "$off" ] && [ "$(head -n 1 "$o" | cut -f 1)" = "$want" ] && grep -q 'call .*<panic>$' "$o" &&
		pass "analyze $f dis sysrq_handle_crash: at System.map + KERNELOFFSET, calls panic" ||
		fail "analyze $f dis sysrq_handle_crash" "$(head -n 2 "$o" | tr '\n' '|')"
	o=$(oracle_file ck "$f" "rd linux_banner 8")
	grep -q '  Linux version' "$o" && pass "analyze $f rd linux_banner: Linux version" ||
		fail "analyze $f rd linux_banner" "$(head -n 1 "$o")"
	o=$(head -n 1 "$(oracle_file ck "$f" "eval 1 << 12")")
	[ "$o" = "hexadecimal: 1000  (4KB)" ] && pass "analyze $f eval 1 << 12" || fail "analyze $f eval" "$o"
	o=$(oracle_file ck "$f" "p jiffies")
	grep -q '^jiffies = \$[0-9]* = [1-9][0-9]*$' "$o" && pass "analyze $f p jiffies: $(cat "$o")" ||
		fail "analyze $f p jiffies" "$(cat "$o")"
	o=$(oracle_file ck "$f" "p runqueues")
	[ "$(grep -c '^  \[[0-9]*\]: ffff' "$o")" = "$NR_CPUS" ] &&
		pass "analyze $f p runqueues: $NR_CPUS per-cpu addresses" || fail "analyze $f p runqueues" "$(cat "$o")"
}

for f in "${DUMPS[@]}"; do
	[ -s "$CK_LAB/$f" ] || { skip "analyze $f" "no $f in the lab"; continue; }
	cmds=("${EXACT[@]}" "${NORMALISED[@]}")
	if ! oracle_ck "$f" "${cmds[@]}"; then
		fail "analyze $f: crashkit-analyze ran" "$(tail -n 3 "$ORACLE_CK/$f/.stderr" | tr '\n' ' ')"
		continue
	fi
	pass "analyze $f: crashkit-analyze ran (no vmlinux)"
	if oracle_crash "$f" "${cmds[@]}"; then
		check_with_crash "$f"
	else
		skip "analyze $f types against crash" "$oracle_error"
		check_with_truth "$f"
	fi
	# what needs what the dump lacks says so, once, and fails
	o=$("$CK_ANALYZE" analyze "$CK_LAB/$f" -c 'dis -l sysrq_handle_crash' 2>&1 >/dev/null)
	rc=$?
	[ "$rc" = 1 ] && [ "$(printf '%s\n' "$o" | grep -c .)" = 1 ] && [[ $o == *DWARF* ]] &&
		pass "analyze $f dis -l: needs DWARF, one line" || fail "analyze $f dis -l" "rc $rc: $o"
	o=$("$CK_ANALYZE" analyze "$CK_LAB/$f" -c 'p no_such_symbol_xyz; struct no_such_struct_xyz' 2>&1 >/dev/null)
	[ "$(printf '%s\n' "$o" | grep -c .)" = 2 ] && pass "analyze $f unknown symbol and struct: one line each" ||
		fail "analyze $f unknown symbol and struct" "$o"
done

# ---- with the vmlinux: the types from its DWARF (lib/analysis/types_dwarf.c) ----
# The DWARF is converted to BTF once (timed, release build, into a cache of
# this run's own), the second open takes the cache; then struct, union,
# whatis and p with the vmlinux equal crash's, including globals that only
# DWARF types (BTF has none), bitfields, anonymous members, `[0]` and
# flexible arrays, 64-bit enums and per-cpu variables.
DWARF_CMDS=(
	"struct task_struct -o" "struct page -o" "struct mm_struct -o" "union rcu_special -o"
	"struct sched_entity" "struct task_struct.pid,comm,tasks init_task"
	"struct task_struct.in_execve,in_iowait,sched_reset_on_fork init_task"
	"struct list_head init_task 2" "whatis init_task" "whatis atomic_t" "whatis enum pid_type"
	"whatis sysrq_handle_crash" "whatis schedule" "whatis vfs_write"
	"p jiffies" "p -x jiffies" "p nr_cpu_ids" "p init_task.comm" "p init_uts_ns.name.release"
	"p runqueues" "p runqueues:1" "whatis runqueues"
	"p avenrun" "p -x avenrun" "whatis avenrun" "whatis jiffies" "p linux_banner"
	"whatis linux_banner" "whatis saved_command_line" "whatis modules" "p panic_cpu"
	"whatis init_mm" "p init_mm.mmap_base" "p tick_nsec"
	"whatis enum netdev_priv_flags" "whatis enum perf_callchain_context"
	"struct sk_buff -o" "struct bio -o" "struct kmem_cache -o" "struct inode"
	"struct trace_event_raw_sys_enter -o" "struct perf_event_attr -o"
)
dwarf_types() {
	local f=vmcore.kdump-zlib vml=$CK_LAB/vmlinux rel t0 t1 t2 cache cmd script dir
	[ -s "$vml" ] && [ -s "$CK_LAB/$f" ] || { skip "analyze types from DWARF" "no vmlinux or $f"; return; }
	rel=$(dirname "${CK_RELEASE:-$CK_ANALYZE}")/crashkit-analyze
	[ -x "$rel" ] || rel=$CK_ANALYZE
	export XDG_CACHE_HOME=$CK_TMP/xdg
	t0=$(date +%s%N)
	"$rel" analyze "$CK_LAB/$f" "$vml" -c 'whatis jiffies' > "$CK_TMP/dt.cold" 2> "$CK_TMP/dt.err"
	t1=$(date +%s%N)
	"$rel" analyze "$CK_LAB/$f" "$vml" -c 'whatis jiffies' > "$CK_TMP/dt.warm" 2>> "$CK_TMP/dt.err"
	t2=$(date +%s%N)
	cache=$(ls "$XDG_CACHE_HOME"/crashkit/btf/*.btf 2> /dev/null | head -n 1)
	if [ -n "$cache" ] && [ "$(cat "$CK_TMP/dt.cold")" = "volatile unsigned long jiffies;" ] &&
	   cmp -s "$CK_TMP/dt.cold" "$CK_TMP/dt.warm" && [ ! -s "$CK_TMP/dt.err" ] &&
	   [ $(((t2 - t1) / 1000000)) -lt 3000 ]; then
		pass "analyze types from DWARF: converted in $(((t1 - t0) / 1000000)) ms, from the cache ($(basename "$cache"), $(($(stat -c %s "$cache") / 1024)) KiB) in $(((t2 - t1) / 1000000)) ms"
	else
		fail "analyze types from DWARF: conversion and cache" "cold $(((t1 - t0) / 1000000)) ms, warm $(((t2 - t1) / 1000000)) ms, cache '$cache': $(head -c 300 "$CK_TMP/dt.err") $(cat "$CK_TMP/dt.cold")"
		return
	fi
	# ours (the ASan build, through the cache) with the vmlinux
	dir=$CK_TMP/dwarf-types
	mkdir -p "$dir"
	script=$CK_TMP/dt.script
	: > "$script"
	for cmd in "${DWARF_CMDS[@]}"; do printf '%s > %s/%s.txt\n' "$cmd" "$dir" "$(oracle_key "$cmd")" >> "$script"; done
	timeout 300 "$CK_ANALYZE" analyze "$CK_LAB/$f" "$vml" -i "$script" < /dev/null > /dev/null 2> "$CK_TMP/dt.err"
	# a global this kernel no longer has (tick_nsec since 6.13) is no error
	while read -r sym; do
		grep -q " $sym\$" "$CK_LAB/System.map" || sed -i "/symbol not found: $sym\$/d" "$CK_TMP/dt.err"
	done < <(sed -n 's/.*symbol not found: \([A-Za-z0-9_]*\)$/\1/p' "$CK_TMP/dt.err")
	if [ -s "$CK_TMP/dt.err" ]; then fail "analyze $f with the vmlinux: no errors" "$(head -n 3 "$CK_TMP/dt.err" | tr '\n' '|')"; fi
	if oracle_crash "$f" "${DWARF_CMDS[@]}"; then
		local same=0 n=0 bad=""
		for cmd in "${DWARF_CMDS[@]}"; do
			n=$((n + 1))
			if diff -q <(norm "$(oracle_file crash "$f" "$cmd")") <(norm "$dir/$(oracle_key "$cmd").txt") > /dev/null; then
				same=$((same + 1))
			else
				fail "analyze $f $cmd (DWARF types) = crash" "$(diff <(norm "$(oracle_file crash "$f" "$cmd")") <(norm "$dir/$(oracle_key "$cmd").txt") | head -n 6 | tr '\n' '|' | cut -c1-400)"
			fi
		done
		pass "analyze $f with the vmlinux: $same of $n type commands = crash (types from DWARF)"
	else
		# 7.3: crash cannot read it; the DWARF layout must equal the dump's BTF's
		local o
		o=$(oracle_file ck "$f" "struct task_struct -o")
		if [ -s "$o" ] && cmp -s "$o" "$dir/$(oracle_key "struct task_struct -o").txt"; then
			pass "analyze $f struct task_struct -o: from DWARF = from the dump's BTF"
		else
			fail "analyze $f struct task_struct -o: DWARF = BTF" "$(diff "$o" "$dir/$(oracle_key "struct task_struct -o").txt" | head -n 4 | tr '\n' '|')"
		fi
		o=$(cat "$dir/$(oracle_key "whatis jiffies").txt")
		[ "$o" = "volatile unsigned long jiffies;" ] && pass "analyze $f whatis jiffies (DWARF): $o" ||
			fail "analyze $f whatis jiffies (DWARF)" "$o"
	fi
	unset XDG_CACHE_HOME
}
dwarf_types

# ---- rd -u: the panic task's user stack and text through its page tables ----
# (vmcore.elf: the -d 31 capture has no user pages)
rd_user() {
	local f=vmcore.elf o rsp rip cmds cmd
	[ -s "$CK_LAB/$f" ] || { skip "analyze $f rd -u" "no $f"; return; }
	o=$("$CK_ANALYZE" analyze "$CK_LAB/$f" -c 'bt' 2> /dev/null)
	rsp=$(sed -n 's/^ *RIP: [0-9a-f]*  RSP: \([0-9a-f]*\) .*/\1/p' <<< "$o" | tail -n 1)
	rip=$(sed -n 's/^ *RIP: \([0-9a-f]*\)  RSP: .*/\1/p' <<< "$o" | tail -n 1)
	if [ -z "$rsp" ] || [ -z "$rip" ]; then skip "analyze $f rd -u" "no user frame in bt"; return; fi
	rsp=$(printf '%x' $((0x$rsp))); rip=$(printf '%x' $((0x$rip)))
	cmds=("rd -u $rsp 8" "rd -u -8 $rip 16" "rd -u -32 $rsp 6")
	oracle_ck "$f" "${cmds[@]}" || { fail "analyze $f rd -u ran" "$(tail -n 2 "$ORACLE_CK/$f/.stderr")"; return; }
	if oracle_crash "$f" "${cmds[@]}"; then
		for cmd in "${cmds[@]}"; do
			compare "analyze $f $cmd = crash" <(norm "$(oracle_file crash "$f" "$cmd")") \
				<(norm "$(oracle_file ck "$f" "$cmd")")
		done
	else
		# the stack holds return addresses into the program's text (below 4 GiB here)
		grep -q "^ *$rsp:  " "$(oracle_file ck "$f" "rd -u $rsp 8")" &&
			pass "analyze $f rd -u $rsp: the user stack reads (crash cannot read this kernel)" ||
			fail "analyze $f rd -u" "$(head -c 300 "$(oracle_file ck "$f" "rd -u $rsp 8")")"
	fi
	o=$("$CK_ANALYZE" analyze "$CK_LAB/$f" -c 'rd -u 10' 2>&1 > /dev/null)
	[ "$o" = 'rd: invalid user virtual address: 10  type: "64-bit UVADDR"' ] &&
		pass "analyze $f rd -u 10: crash's invalid user virtual address" || fail "analyze $f rd -u 10" "$o"
}
rd_user
