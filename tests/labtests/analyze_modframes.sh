#!/usr/bin/env bash
# bt in module code against crash 9.0.2, on the crash-module lab's dumps
# (tests/lab/crashmod, lab.sh --crash KIND; triage_kinds.sh makes them):
# for each kind's first run, with the DWARF vmlinux given, in one session
# `bt -a -l` (module frames without their debug file), then
# `mod -s ck_crashmod KO` and `bt -l` (with it: the module's FILE: LINE
# after each module frame and after an exception RIP in the module): the
# module's lines, each with the frame it follows, equal crash's; where the
# whole answers are equal too that is a pass of its own, where not the
# difference is printed as a note (the unwinders differ on some stacks:
# docs/analysis.md).  KO is the build of ck_crashmod.ko whose
# build id the dump's module has (our mod -s refuses the others).  crash's
# answers are kept beside the dump.  ASan build; 6.1 and 6.12 (crash reads
# no 7.x, and no crash module is built for it).
set -uo pipefail
. "$(dirname "$0")/common.sh"

analyze=${CK_BUILD:?CK_BUILD must name the build directory}/crashkit-analyze
cache=${CRASHKIT_CACHE:-$HOME/.cache/crashkit}
KINDS=(null bug gpf divide ud2 list stack warn softlockup hung oom rcu timer)
kver=$(sed -n 's/^KVER=//p' "$CK_LAB/truth.env")
if ! have_crash; then
	skip "bt in module code = crash" "no crash peer"
	exit 0
fi
ran=0
for k in "${KINDS[@]}"; do
	d=$(dirname "$CK_LAB")/run-crash-$k-1
	[ -f "$d/DONE" ] && [ -s "$d/vmcore.kdump-zlib" ] && [ -s "$d/vmlinux" ] || continue
	ko=
	for f in "$cache"/crashmod/"$kver"-*/ck_crashmod.ko; do
		[ -f "$f" ] || continue
		if "$analyze" analyze "$d/vmcore.kdump-zlib" "$d/vmlinux" -c "mod -s ck_crashmod $f" \
			> /dev/null 2>&1; then
			ko=$f
			break
		fi
	done
	n="bt in module code, $k: bt -a -l, mod -s ck_crashmod, bt -l = crash"
	if [ -z "$ko" ]; then
		skip "$n" "no build of ck_crashmod.ko in $cache/crashmod has the dump's build id"
		continue
	fi
	ran=$((ran + 1))
	want=$d/oracle-modframes-$(crash_version | tr ' ' '-')-$(sha256sum "$ko" | cut -c1-12).txt
	if [ ! -s "$want" ]; then
		printf 'bt -a -l\nmod -s ck_crashmod %s\nbt -l\nq\n' "$ko" |
			timeout 300 "$CK_CRASH" -s "$d/vmlinux" "$d/vmcore.kdump-zlib" > "$want.tmp" 2>&1
		if ! grep -q '^PID: ' "$want.tmp"; then
			skip "$n" "crash failed: $(head -c 200 "$want.tmp")"
			rm -f "$want.tmp"
			continue
		fi
		mv "$want.tmp" "$want"
	fi
	ours=$CK_TMP/modframes-$k.txt
	"$analyze" analyze "$d/vmcore.kdump-zlib" "$d/vmlinux" \
		-c "bt -a -l; mod -s ck_crashmod $ko; bt -l" > "$ours" 2>&1
	# The module's FILE: LINE lines, each with the function of the frame
	# or exception RIP it follows, in order: what the module's debug file
	# adds.  A repeat is one (crash lists the function an exception
	# interrupted both as the exception RIP and as a frame of its own on
	# some stacks, as triage_kinds.sh notes).
	modlines() {
		awk '/^ *#[0-9]+ \[/ { for (i = 1; i <= NF; i++) if ($i == "at") { name = $(i - 1); break } }
			/\[exception RIP: / { name = $0; sub(/.*\[exception RIP: /, "", name); sub(/\]$/, "", name) }
			/ck_crashmod\.c: [0-9]+$/ { sub(/\+.*/, "", name); print name " -> " $NF }' "$1" | uniq
	}
	mw=$(modlines "$want") mo=$(modlines "$ours")
	if [ -n "$mw" ] && [ "$mw" = "$mo" ]; then
		pass "$n: the module's lines ($(wc -l <<< "$mw"): $(tr '\n' ' ' <<< "$mw" | cut -c1-160))"
	elif [ -z "$mw" ] && [ -z "$mo" ]; then
		pass "$n: neither prints a line of the module"
	else
		fail "$n: the module's lines" "crash: $(tr '\n' '|' <<< "$mw") ours: $(tr '\n' '|' <<< "$mo")"
	fi
	# The whole answers: equal for most kinds; where not, the frames differ
	# (docs/analysis.md "Differences from crash"), which is said, not failed.
	if cmp -s "$want" "$ours"; then
		pass "$n: the whole answer ($(grep -c '^ *#' "$ours") frames)"
	else
		echo "# [$CK_KSERIES] $k: bt answers differ from crash's in $(diff "$want" "$ours" | grep -c '^[<>]') lines: $(diff "$want" "$ours" | grep '^[<>]' | head -n 2 | tr '\n' '|' | cut -c1-200)"
	fi
done
[ "$ran" -gt 0 ] || skip "bt in module code = crash" "no crash-module runs for $kver (triage_kinds.sh makes them)"
