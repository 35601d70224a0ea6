#!/usr/bin/env bash
# crashkit-analyze with the DWARF vmlinux given (issue 9): the lab's own
# vmlinux is taken for each dump (the KASLR offsets of the kdump capture and
# of QEMU's boot differ); another series' vmlinux is refused with one line
# naming both build ids and exit code 1, and taken with --force (a warning);
# source lines equal crash's: `sym ADDR` on a few hundred addresses spread
# over the kernel's text (function starts and insides), and the FILE: LINE
# lines of crash's `bt -l` for the panic task, looked up through
# ck_debuginfo_line (tests/unit/test_analysis_dwarf in its lab mode) and
# through our own `bt -l`.  Where crash cannot read the
# kernel (7.3), the panic path's functions must still resolve to their
# source files.
set -uo pipefail
: "${CK:=${CK_RELEASE:-}}"
export CK
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/../lab/oracle.sh"

VMLINUX=$CK_LAB/vmlinux
LINES=${CK_BUILD:-$(dirname "$CK_ANALYZE")}/tests/test_analysis_dwarf
MAP=$CK_LAB/System.map
DUMPS=(vmcore.kdump-zlib vmcore.elf qemu.elf)

if [ ! -s "$VMLINUX" ]; then
	skip "analyze_dwarf" "no vmlinux in $CK_LAB"
	exit 0
fi

build_id() { readelf -n "$1" 2> /dev/null | sed -n 's/^ *Build ID: *//p' | head -n 1; }
our_id=$(build_id "$VMLINUX")

# ---- the right vmlinux is taken, on every dump -----------------------------
crash_ok=0	# crash reads vmcore.kdump-zlib (the sample below is on it)
for f in "${DUMPS[@]}"; do
	[ -s "$CK_LAB/$f" ] || continue
	out=$("$CK_ANALYZE" analyze "$CK_LAB/$f" "$VMLINUX" -c 'sym panic' 2> "$CK_TMP/dw.err")
	rc=$?
	if [ "$rc" = 0 ] && [ ! -s "$CK_TMP/dw.err" ] && grep -q 'kernel/panic.c: [0-9]' <<< "$out"; then
		pass "analyze_dwarf $f: the lab's vmlinux is taken (sym panic: ${out##* })"
	else
		fail "analyze_dwarf $f: the lab's vmlinux is taken" "exit $rc: $(head -c 300 "$CK_TMP/dw.err") $out"
	fi
	if oracle_crash "$f" "sym panic" "sym sysrq_handle_crash" "bt -l"; then
		for cmd in "sym panic" "sym sysrq_handle_crash"; do
			want=$(cat "$(oracle_file crash "$f" "$cmd")")
			got=$("$CK_ANALYZE" analyze "$CK_LAB/$f" "$VMLINUX" -c "$cmd" 2>&1)
			if [ "$got" = "$want" ]; then pass "analyze_dwarf $f $cmd = crash ($want)"
			else fail "analyze_dwarf $f $cmd = crash" "crash [$want] ours [$got]"; fi
		done
		[ "$f" = vmcore.kdump-zlib ] && crash_ok=1
	else
		skip "analyze_dwarf $f: sym = crash" "$oracle_error"
	fi
done

# ---- another series' vmlinux is refused, unless --force ----------------------
other=
for v in "$CK_LAB"/../../*/run/vmlinux; do
	[ -s "$v" ] || continue
	id=$(build_id "$v")
	if [ -n "$id" ] && [ "$id" != "$our_id" ]; then other=$(realpath "$v"); break; fi
done
dump=$CK_LAB/vmcore.kdump-zlib
if [ -z "$other" ]; then
	skip "analyze_dwarf: a wrong vmlinux is refused" "no other series' vmlinux in the lab"
else
	other_id=$(build_id "$other")
	"$CK_ANALYZE" analyze "$dump" "$other" -c 'sym panic' > "$CK_TMP/dw.out" 2> "$CK_TMP/dw.err"
	rc=$?
	want="VMLINUX '$other' does not match the dump: build id $other_id, the dump's $our_id"
	if [ "$rc" = 1 ] && [ "$(wc -l < "$CK_TMP/dw.err")" = 1 ] && grep -qF "error: $want" "$CK_TMP/dw.err" &&
	   [ ! -s "$CK_TMP/dw.out" ]; then
		pass "analyze_dwarf: $(basename "$(dirname "$(dirname "$other")")")'s vmlinux is refused, one line, exit 1"
	else
		fail "analyze_dwarf: a wrong vmlinux is refused" "exit $rc: $(head -c 400 "$CK_TMP/dw.err")"
	fi
	"$CK_ANALYZE" analyze "$dump" "$other" --force -c 'sym panic' > "$CK_TMP/dw.out" 2> "$CK_TMP/dw.err"
	rc=$?
	if [ "$rc" = 0 ] && [ "$(wc -l < "$CK_TMP/dw.err")" = 1 ] &&
	   grep -qF "warning: $want; using it anyway (--force)" "$CK_TMP/dw.err" && [ -s "$CK_TMP/dw.out" ]; then
		pass "analyze_dwarf: the wrong vmlinux is taken with --force, with a warning"
	else
		fail "analyze_dwarf: --force takes the wrong vmlinux" "exit $rc: $(head -c 400 "$CK_TMP/dw.err")"
	fi
	# crash's command line too: VMLINUX before the dump
	"$CK_ANALYZE" crash -s "$other" "$dump" < /dev/null > /dev/null 2> "$CK_TMP/dw.err"
	rc=$?
	if [ "$rc" = 1 ] && grep -qF "$want" "$CK_TMP/dw.err"; then
		pass "analyze_dwarf: crash -s WRONG-VMLINUX DUMP is refused too"
	else fail "analyze_dwarf: crash -s WRONG-VMLINUX DUMP" "exit $rc: $(head -c 300 "$CK_TMP/dw.err")"; fi
fi

# ---- source lines: sym ADDR over the kernel's text -------------------------
# Every 150th text symbol of System.map, at offsets 0, 7, 14 and 21.
off=$(ck_kaslr "$dump")
awk '$2 ~ /^[Tt]$/ && $3 !~ /^__(pfx|cfi)_/ { n++; if (n % 150 == 0) print $1 }' "$MAP" |
	awk -v off="$off" '{ printf "%x\n", strtonum("0x" $1) + off + (NR % 4) * 7 }' > "$CK_TMP/dw.addrs"
nr=$(wc -l < "$CK_TMP/dw.addrs")
sed 's/^/sym /' "$CK_TMP/dw.addrs" > "$CK_TMP/dw.cmds"
# ours: "ADDR (t) name+off FILE: LINE" -> "ADDR FILE: LINE" ("ADDR -" without a line)
fileline() { awk '$1 ~ /^[0-9a-f]+$/ { if (NF >= 5 && $(NF) ~ /^[0-9]+$/) print $1, $(NF-1), $NF; else print $1, "-" }'; }
"$CK_ANALYZE" analyze "$dump" "$VMLINUX" -i "$CK_TMP/dw.cmds" < /dev/null 2> "$CK_TMP/dw.err" |
	fileline > "$CK_TMP/dw.ours"
if [ "$crash_ok" = 1 ] && { echo sys; cat "$CK_TMP/dw.cmds"; echo q; } |
	crash_run "$CK_TMP/dw.crash" "$VMLINUX" "$dump"; then
	fileline < "$CK_TMP/dw.crash" > "$CK_TMP/dw.want"
	# No difference is allowed: like gdb, ck_debuginfo_line gives no line
	# for code whose CU .debug_aranges leaves out (some init code).
	paste -d' ' "$CK_TMP/dw.want" "$CK_TMP/dw.ours" | awk '
		{ n = split($0, f, " ")
		  w = (f[2] == "-") ? f[1] " -" : f[1] " " f[2] " " f[3]
		  o = substr($0, length(w) + 2)
		  if (w == o) next
		  print "bad " w " | " o }' > "$CK_TMP/dw.diff"
	bad=$(grep -c '^bad' "$CK_TMP/dw.diff")
	with=$(grep -vc ' -$' "$CK_TMP/dw.want")
	if [ "$(wc -l < "$CK_TMP/dw.want")" = "$nr" ] && [ "$bad" = 0 ]; then
		pass "analyze_dwarf: sym ADDR = crash on $nr addresses ($with with a source line)"
	else
		fail "analyze_dwarf: sym ADDR = crash" "$bad of $nr differ: $(grep '^bad' "$CK_TMP/dw.diff" | head -n 3 | tr '\n' '|')"
	fi
else
	# 7.3: eu-addr2line's answers instead.  Whether an address has a line
	# must agree; the lines themselves mostly: addr2line takes the last row
	# at or below the address, crash (gdb) applies its own rules (see
	# lib/analysis/debuginfo.c), which on 6.1 and 6.12 differ for ~1
	# address in 8.
	if command -v eu-addr2line > /dev/null; then
		off_dec=$(printf '%d' "$off")
		eu-addr2line -e "$VMLINUX" $(awk -v off="$off_dec" '{ printf "0x%x\n", strtonum("0x" $1) - off }' "$CK_TMP/dw.addrs") |
			sed -E 's/:([0-9]+)(:[0-9]+)?$/: \1/; s/^\?\?: 0$/-/' > "$CK_TMP/dw.a2l"
		# addr2line finds init code that .debug_aranges leaves out, we (as
		# gdb) do not: a line on one side only is allowed there alone
		init=$(awk '$3 == "_sinittext" { s = $1 } $3 == "_einittext" { e = $1 } END { print s, e }' "$MAP")
		sed 's/ /|/' "$CK_TMP/dw.ours" | paste -d'|' - "$CK_TMP/dw.a2l" |
			awk -F'|' -v off="$off_dec" -v init="$init" '
				BEGIN { split(init, r, " "); s = strtonum("0x" r[1]) + off; e = strtonum("0x" r[2]) + off }
				{ a = strtonum("0x" $1)
				  if ($2 == $3) same++
				  else if (($2 == "-" || $3 == "-") && a >= s && a < e) same++
				  else if ($2 == "-" || $3 == "-") hole++; else other++ }
				END { printf "%d %d %d\n", same, hole, other }' > "$CK_TMP/dw.cmp"
		read -r same hole other < "$CK_TMP/dw.cmp"
		if [ "$hole" = 0 ] && [ "$same" -ge $((nr * 85 / 100)) ]; then
			pass "analyze_dwarf: sym ADDR on $nr addresses: $same as eu-addr2line, $other by gdb's rules, none missing (crash cannot read this kernel)"
		else fail "analyze_dwarf: sym ADDR against eu-addr2line" "$same same, $hole with a line on one side only, $other differ, of $nr"; fi
	else
		skip "analyze_dwarf: sym ADDR against eu-addr2line" "no eu-addr2line"
	fi
	for pair in panic:kernel/panic.c sysrq_handle_crash:drivers/tty/sysrq.c \
		write_sysrq_trigger:drivers/tty/sysrq.c vfs_write:fs/read_write.c; do
		got=$("$CK_ANALYZE" analyze "$dump" "$VMLINUX" -c "sym ${pair%%:*}" 2>&1)
		if grep -q "${pair#*:}: [0-9][0-9]*\$" <<< "$got"; then pass "analyze_dwarf: sym ${pair%%:*} is in ${pair#*:}"
		else fail "analyze_dwarf: sym ${pair%%:*} in ${pair#*:}" "$got"; fi
	done
fi

# ---- bt -l: crash's FILE: LINE lines for the panic task's frames ----------------
for f in vmcore.kdump-zlib qemu.elf; do
	[ -s "$CK_LAB/$f" ] && oracle_crash "$f" "bt -l" || continue
	want=$(oracle_file crash "$f" "bt -l")
	[ -s "$want" ] || { fail "analyze_dwarf $f bt -l: crash's answer" "empty"; continue; }
	# " #N [SP] FUNC at ADDR" followed by "    FILE: LINE"
	awk '/^ *#[0-9]+ \[/ { a = $NF; next } a != "" && /^    [^ ]+: [0-9]+$/ { print a, $1, $2; a = "" }' \
		"$want" > "$CK_TMP/dw.btwant"
	n=$(wc -l < "$CK_TMP/dw.btwant")
	# shellcheck disable=SC2046
	"$LINES" "$CK_LAB/$f" "$VMLINUX" $(cut -d' ' -f1 "$CK_TMP/dw.btwant") 2>&1 |
		sed 's/^0*//' > "$CK_TMP/dw.btours"
	sed 's/^0*//' "$CK_TMP/dw.btwant" > "$CK_TMP/dw.btwant0"
	if [ "$n" -gt 0 ] && cmp -s "$CK_TMP/dw.btwant0" "$CK_TMP/dw.btours"; then
		pass "analyze_dwarf $f: ck_debuginfo_line = crash's bt -l on $n frames"
	else
		fail "analyze_dwarf $f: ck_debuginfo_line = crash's bt -l" "$(diff "$CK_TMP/dw.btwant0" "$CK_TMP/dw.btours" | head -n 4 | tr '\n' '|')"
	fi
	# our own bt -l: the whole answer, frames and lines, equals crash's
	ours=$("$CK_ANALYZE" analyze "$CK_LAB/$f" "$VMLINUX" -c 'bt -l' 2> /dev/null)
	if ! grep -qE '^    [^ ]+: [0-9]+$' <<< "$ours"; then
		fail "analyze_dwarf $f: our bt -l = crash's" "bt -l prints no source lines"
	elif diff <(grep -E '^    [^ ]+: [0-9]+$' "$want") <(grep -E '^    [^ ]+: [0-9]+$' <<< "$ours") > /dev/null; then
		pass "analyze_dwarf $f: our bt -l source lines = crash's"
	else
		fail "analyze_dwarf $f: our bt -l source lines = crash's" "$(diff <(grep -E '^    [^ ]+: [0-9]+$' "$want") <(grep -E '^    [^ ]+: [0-9]+$' <<< "$ours") | head -n 4 | tr '\n' '|')"
	fi
done

# ---- a dump without BTF: its pages excluded (tests/tools/ck-drop-pages) ----------
# Without the vmlinux sys, log and sym answer from VMCOREINFO and kallsyms,
# what needs types says so in one line (exit 1); with the vmlinux the types
# come from its DWARF (converted here by the ASan build, a cold cache) and
# sys, ps, bt, mod, log and struct answer as they do from the dump's BTF.
DROP=${CK_BUILD:-$(dirname "$CK_ANALYZE")}/tests/ck-drop-pages
[ -x "$DROP" ] || DROP=$(dirname "${CK_RELEASE:-.}")/tests/ck-drop-pages
nobtf() {
	local f=vmcore.kdump-zlib off start stop out=$CK_TMP/nobtf.kdump o rc c cmds
	[ -x "$DROP" ] || { skip "analyze_dwarf: a dump without BTF" "no $DROP"; return; }
	[ -s "$CK_LAB/$f" ] || { skip "analyze_dwarf: a dump without BTF" "no $f"; return; }
	off=$(ck_kaslr "$CK_LAB/$f")
	start=$(awk '$3 == "__start_BTF" { print $1 }' "$MAP")
	stop=$(awk '$3 == "__stop_BTF" { print $1 }' "$MAP")
	if [ -z "$off" ] || [ -z "$start" ] || [ -z "$stop" ]; then
		skip "analyze_dwarf: a dump without BTF" "no __start_BTF/__stop_BTF in System.map"; return
	fi
	if ! "$DROP" "$CK_LAB/$f" "$out" "$(printf '%x' $((0x$start + off)))":$((0x$stop - 0x$start)) > "$CK_TMP/nobtf.drop" 2>&1; then
		fail "analyze_dwarf: ck-drop-pages made a dump without BTF" "$(tail -n 2 "$CK_TMP/nobtf.drop")"; return
	fi
	# without the vmlinux
	o=$("$CK_ANALYZE" analyze "$out" -c 'sys; sym panic; log' 2> "$CK_TMP/nobtf.err")
	rc=$?
	if [ "$rc" = 0 ] && grep -q "RELEASE: $KERNEL_RELEASE" <<< "$o" && grep -q '^ *PANIC: "' <<< "$o" &&
	   grep -q '^ffffffff[0-9a-f]* (T) panic$' <<< "$o" && grep -q 'sysrq' <<< "$o"; then
		pass "analyze_dwarf: a dump without BTF: sys, sym and log answer without a vmlinux"
	else
		fail "analyze_dwarf: a dump without BTF: sys, sym, log" "exit $rc: $(head -c 300 "$CK_TMP/nobtf.err")"
	fi
	for c in ps bt "struct list_head" "p jiffies" mod; do
		o=$("$CK_ANALYZE" analyze "$out" -c "$c" 2>&1 > /dev/null)
		rc=$?
		if [ "$rc" = 1 ] && [ "$(grep -c . <<< "$o")" = 1 ] && grep -q 'needs the kernel.s types.*vmlinux' <<< "$o"; then
			pass "analyze_dwarf: no BTF, no vmlinux: $c says it needs the vmlinux (one line, exit 1)"
		else
			fail "analyze_dwarf: no BTF, no vmlinux: $c" "exit $rc: $o"
		fi
	done
	# with the vmlinux: the same answers as from the dump's BTF
	cmds='sys; ps; bt; bt -a; mod; log; struct task_struct.pid,comm init_task; p runqueues:0'
	# (notes about pages missing from the dump name the dump: DUMP for both)
	"$CK_ANALYZE" analyze "$CK_LAB/$f" -c "$cmds" 2>&1 | grep -v DUMPFILE |
		sed "s|$CK_LAB/$f|DUMP|g" > "$CK_TMP/nobtf.btf"
	XDG_CACHE_HOME=$CK_TMP/xdg-asan timeout 900 "$CK_ANALYZE" analyze "$out" "$VMLINUX" -c "$cmds" 2>&1 |
		grep -v DUMPFILE | sed "s|$out|DUMP|g" > "$CK_TMP/nobtf.dwarf"
	if [ "$(grep -c . "$CK_TMP/nobtf.btf")" -gt 50 ] && cmp -s "$CK_TMP/nobtf.btf" "$CK_TMP/nobtf.dwarf"; then
		pass "analyze_dwarf: no BTF, with the vmlinux: sys, ps, bt, bt -a, mod, log, struct, p = the dump's BTF answers ($(wc -l < "$CK_TMP/nobtf.dwarf") lines)"
	else
		fail "analyze_dwarf: no BTF, with the vmlinux = with BTF" "$(diff "$CK_TMP/nobtf.btf" "$CK_TMP/nobtf.dwarf" | head -n 6 | tr '\n' '|' | cut -c1-400)"
	fi
}
nobtf

# ---- module debug files: mod -s, mod -S (tests/lab/debugmods.sh fetches them) ----
# The whole session equals crash's: the mod table before and after, sym of
# module functions with FILE: LINE, a module-only type, dis -l in a module.
moddebug() {
	local f=vmcore.kdump-zlib dm=${CRASHKIT_CACHE:-$HOME/.cache/crashkit}/kernel/$KVER/debug-modules
	local cmds cmd want ours o rc
	if [ ! -s "$dm/loop.ko" ]; then
		skip "analyze_dwarf: mod -s/-S" "no module debug files: tests/lab/debugmods.sh $KVER"; return
	fi
	cmds=("mod" "mod -s loop $dm/loop.ko" "sym loop_probe" "sym loop_queue_rq" "mod"
	      "struct loop_device -o" "dis -l loop_probe 4" "mod -S $dm" "mod")
	ours=$CK_TMP/moddebug.ours
	for cmd in "${cmds[@]}"; do printf '%s >> %s\n' "$cmd" "$ours"; done > "$CK_TMP/moddebug.script"
	# 7.x's -d 31 capture lacks the slab page of module->sect_attrs (see
	# docs/analysis.md, tasks): then the unfiltered vmcore.elf
	for f in vmcore.kdump-zlib vmcore.elf; do
		: > "$ours"
		"$CK_ANALYZE" analyze "$CK_LAB/$f" "$VMLINUX" -i "$CK_TMP/moddebug.script" < /dev/null > /dev/null 2> "$CK_TMP/moddebug.err"
		rc=$?
		grep -q 'excluded from the dump' "$CK_TMP/moddebug.err" || break
	done
	[ "$rc" = 0 ] && [ ! -s "$CK_TMP/moddebug.err" ] || fail "analyze_dwarf: mod -s session ran" "exit $rc: $(head -n 2 "$CK_TMP/moddebug.err")"
	want=$CK_LAB/oracle/$(crash_version | tr ' ' '-')/$f/dwarf-moddebug-v1.txt
	if [ ! -s "$want" ] && have_crash; then
		mkdir -p "$(dirname "$want")"
		{ for cmd in "${cmds[@]}"; do printf '%s >> %s.part\n' "$cmd" "$want"; done; echo sys; echo q; } |
			crash_run "$CK_TMP/moddebug.crash" "$VMLINUX" "$CK_LAB/$f" && [ -s "$want.part" ] && mv "$want.part" "$want"
		rm -f "$want.part"
	fi
	if [ -s "$want" ]; then
		if diff -q "$want" "$ours" > /dev/null; then
			pass "analyze_dwarf: mod -s loop, sym, struct loop_device -o, dis -l, mod -S = crash ($(wc -l < "$ours") lines)"
		else
			fail "analyze_dwarf: mod -s session = crash" "$(diff "$want" "$ours" | head -n 6 | tr '\n' '|' | cut -c1-400)"
		fi
	else
		# crash cannot read this kernel: what any kernel must show
		grep -q '^ffffffff[0-9a-f]* (t) loop_probe \[loop\] .*drivers/block/loop.c: [0-9]*$' "$ours" &&
		grep -q '^struct loop_device {$' "$ours" && grep -q "  $dm/qemu_fw_cfg.ko \$" "$ours" &&
			pass "analyze_dwarf: mod -s loop gives loop.c lines and struct loop_device; mod -S loads all (crash cannot read this kernel)" ||
			fail "analyze_dwarf: mod -s/-S" "$(head -c 400 "$ours")"
	fi
	# another module's debug file is refused: its build id is not the module's
	o=$("$CK_ANALYZE" analyze "$CK_LAB/vmcore.elf" "$VMLINUX" -c "mod -s loop $dm/dummy.ko" 2>&1 > /dev/null)
	rc=$?
	[ "$rc" = 1 ] && [ "$(grep -c . <<< "$o")" = 1 ] && grep -q 'is not the debug file of module loop: build id' <<< "$o" &&
		pass "analyze_dwarf: mod -s loop dummy.ko is refused (build ids), one line" ||
		fail "analyze_dwarf: mod -s with the wrong file" "exit $rc: $o"
}
moddebug
