#!/usr/bin/env bash
# --mem-usage (docs/capture.md) against two oracles.
#  1. Offline, on the lab's vmcore.elf: the classes must equal what our own
#     capture -d 31 reports, and agree with makedumpfile -d 31's report on
#     the same file, the known differences accounted for.
#  2. Live, in the lab guest's first boot: a /lab-hook-first (through
#     --extra-initrd, its own cached run) mounts the lab disk and runs
#     makedumpfile --mem-usage /proc/kcore, then ours (makedumpfile layout
#     and --json), then makedumpfile again; the outputs land in the run dir.
#     The system moves between runs, so classes are compared within a
#     tolerance bounded by the drift between makedumpfile's two runs.
set -uo pipefail
. "$(dirname "$0")/common.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
ckr=${CK_RELEASE:-$top/build/release/crashkit}
[ -x "$ckr" ] || { skip "mem-usage" "no release crashkit"; exit 0; }

# jget FILE KEY: a number from our --json ("key":N or "class":{"pages":N}).
jget() {
	tr -d ' \n' < "$1" | grep -o "\"$2\":[0-9]*" | head -1 | cut -d: -f2
}
jclass() {
	tr -d ' \n' < "$1" | grep -o "\"$2\":{\"pages\":[0-9]*" | head -1 | sed 's/.*://'
}
# mdf_usage FILE NAME: a number of makedumpfile's --mem-usage table.
mdf_usage() {
	case $2 in
	page_size) sed -n 's/^page size:[[:space:]]*\([0-9]*\).*/\1/p' "$1" ;;
	total) sed -n 's/^Total pages on system:[[:space:]]*\([0-9]*\).*/\1/p' "$1" ;;
	*) sed -n "s/^$2[[:space:]]*\\([0-9]*\\)[[:space:]].*/\\1/p" "$1" ;;
	esac | head -1
}
# elf_pages FILE text|partial: from an ELF core's program headers, the pages
# of its kernel text mapping (PT_LOADs at __START_KERNEL_map or above that
# have a physical address: /proc/kcore's modules and vmalloc have none), or
# the PT_LOADs that end inside a page.
elf_pages() {
	local t va pa ms n=0
	while read -r t _ va pa _ ms _; do
		if [ "$t" != LOAD ] || [ "$pa" = 0xffffffffffffffff ]; then continue; fi
		case $2 in
		text) case $va in 0xffffffff[89a-f]*) n=$((n + ms / 4096)) ;; esac ;;
		partial) [ $(((pa + ms) % 4096)) = 0 ] || n=$((n + 1)) ;;
		esac
	done < <(readelf -lW "$1" 2>/dev/null)
	echo $n
}
# mdf_report FILE LABEL: a hex count of makedumpfile's -d 31 report, decimal.
mdf_report() {
	local v
	v=$(sed -n "s/^ *$2 *: *0x\\([0-9a-f]*\\).*/\\1/p" "$1" | head -1)
	[ -n "$v" ] && echo $((16#$v))
}

# ---------------------------------------------------------------- offline
elf=$CK_LAB/vmcore.elf
"$ckr" capture --mem-usage --json "$elf" > "$CK_TMP/mu.json" 2> "$CK_TMP/mu.err" ||
	fail "mem-usage: vmcore.elf" "$(cat "$CK_TMP/mu.err")"
"$ckr" makedumpfile --mem-usage "$elf" > "$CK_TMP/mu.compat" 2>> "$CK_TMP/mu.err"
"$ckr" capture -d 31 -l -f "$elf" "$CK_TMP/cap.out" 2> "$CK_TMP/cap.err"
stats=$(grep '^capture:' "$CK_TMP/cap.err")
st() { echo "$stats" | grep -o "$1 [0-9]*" | head -1 | sed 's/.* //'; }
total=$(jget "$CK_TMP/mu.json" total_pages)
kdata=$(jget "$CK_TMP/mu.json" kernel_data_pages)
ok=1
for c in zero cache cache_private user free hwpoison offline; do
	[ "$(jclass "$CK_TMP/mu.json" $c)" = "$(st "$c")" ] || ok=0
done
[ "$total" = "$(st 'pages ram')" ] || ok=0
[ $((kdata + $(jclass "$CK_TMP/mu.json" zero))) = "$(st kept)" ] || ok=0
if [ $ok = 1 ] && [ -n "$total" ]; then
	pass "mem-usage: vmcore.elf classes equal capture -d 31's stats (total $total, kernel data $kdata)"
else
	fail "mem-usage: vmcore.elf classes equal capture -d 31's" "$(tr -d ' \n' < "$CK_TMP/mu.json" | head -c 400) | $stats"
fi
# The makedumpfile layout carries the same numbers.
ok=1
for p in "ZERO zero" "NON_PRI_CACHE cache" "PRI_CACHE cache_private" "USER user" "FREE free"; do
	# shellcheck disable=SC2086  # two words
	set -- $p
	[ "$(mdf_usage "$CK_TMP/mu.compat" "$1")" = "$(jclass "$CK_TMP/mu.json" "$2")" ] || ok=0
done
[ "$(mdf_usage "$CK_TMP/mu.compat" KERN_DATA)" = "$kdata" ] || ok=0
[ "$(mdf_usage "$CK_TMP/mu.compat" total)" = "$total" ] || ok=0
grep -q '^TYPE		PAGES			EXCLUDABLE	DESCRIPTION$' "$CK_TMP/mu.compat" || ok=0
if [ $ok = 1 ]; then pass "mem-usage: makedumpfile layout and --json agree"
else fail "mem-usage: makedumpfile layout and --json agree" "$(head -c 600 "$CK_TMP/mu.compat")"; fi

# makedumpfile -d 31 on the same file.  Its "Original pages" counts every
# PT_LOAD's pages, so the kernel text that /proc/vmcore maps twice counts
# twice, and it leaves out pages that RAM covers only in part (pfn 0x9f),
# which we keep (read as zeros: one zero page more).  Every page one keeps
# and the other does not is explained page by page (common.sh
# explain_set_diff: the partial page; compound tails a makedumpfile that
# cannot read OFFSET(page.compound_info) judged alone), and the counts are
# compared less the explained pages.
"$CK_MAKEDUMPFILE" -l -d 31 --message-level 22 "$elf" "$CK_TMP/mdf.out" > "$CK_TMP/mdf.log" 2>&1
mdf_ver=$("$CK_MAKEDUMPFILE" -v 2>&1 | sed -n 's/^makedumpfile: version \([^ ]*\).*/\1/p' | head -n 1)
# PT_LOADs at __START_KERNEL_map or above: the kernel text mapping.
text=$(elf_pages "$elf" text)
partial=$(elf_pages "$elf" partial)
m_zero=$(mdf_report "$CK_TMP/mdf.log" "Pages filled with zero")
m_orig=$(mdf_report "$CK_TMP/mdf.log" "Original pages")
m_rem=$(mdf_report "$CK_TMP/mdf.log" "Remaining pages")
echo "# makedumpfile ${mdf_ver:-?} -d 31 on vmcore.elf: original $m_orig, zero $m_zero, remaining $m_rem; text pages $text, partial pages $partial"
"${CK_BUILD:-$(dirname "$CK")}/tests/ck-cmp-pages" --set-all "$CK_TMP/cap.out" "$CK_TMP/mdf.out" > "$CK_TMP/mu.set"
only_ck=$(grep -c 'only in first$' "$CK_TMP/mu.set")
explain_set_diff "$elf" "$CK_TMP/mu.set" "$mdf_ver"
# The compound tails this makedumpfile judges alone, measured page by page
# on this kernel's dump: the live comparison below allows for them.
tails_user=${expl_mdf_user:-0}
ok=1
for p in "Non-private cache pages:cache:$expl_mdf_cache" "Private cache pages:cache_private:$expl_mdf_private" \
	 "User process data pages:user:$expl_mdf_user" "Free pages:free:$expl_mdf_free"; do
	IFS=: read -r label class expl <<< "$p"
	[ $(($(mdf_report "$CK_TMP/mdf.log" "$label") - expl)) = "$(jclass "$CK_TMP/mu.json" "$class")" ] || ok=0
done
zero=$(jclass "$CK_TMP/mu.json" zero)
d=$((zero - expl_ck_zero - ${m_zero:-0}))
[ -n "$m_zero" ] && [ "$d" -ge 0 ] && [ "$d" -le "$partial" ] || ok=0
[ -n "$m_orig" ] && [ $((m_orig - text + partial)) = "$total" ] || ok=0
[ -n "$m_rem" ] && [ $((m_rem - text + only_ck - expl_ck_zero)) = "$kdata" ] || ok=0
[ -z "$expl_bad" ] || ok=0
if [ $ok = 1 ]; then
	pass "mem-usage: vmcore.elf consistent with makedumpfile -d 31's report (same cache/user/free less explained pages; total = original - $text text + $partial partial; explained: $expl_note)"
else
	fail "mem-usage: vmcore.elf consistent with makedumpfile -d 31" "${expl_bad:+$expl_bad; }explained: ck zero $expl_ck_zero, mdf user $expl_mdf_user; $(grep -i 'pages' "$CK_TMP/mdf.log" | tr '\n' '|' | head -c 600)"
fi
rm -f "$CK_TMP/cap.out" "$CK_TMP/mdf.out"

# ---------------------------------------------------------------- live
tree=$CK_TMP/mu-tree
hook_tree "$tree" "$ckr"
# The makedumpfile peer goes into the guest at its own path with what ldd
# lists (sid's 1.7.8 brings its own libc and loader): the guest's own
# makedumpfile is Debian 12's 1.7.2, and only the 6.1 lab carries it.
mdf_guest=$(command -v "$CK_MAKEDUMPFILE")
install -D -m 755 "$mdf_guest" "$tree$mdf_guest"
for lib in $(ldd "$mdf_guest" | grep -o '/[^ ]*'); do
	[ -e "$tree$lib" ] || install -D -m 755 "$(realpath "$lib")" "$tree$lib"
done
{ echo '#!/bin/sh'; echo "MDF='$mdf_guest'"; cat <<'EOF'
# First (live) boot, before kexec -p (docs/lab.md).  The QMP boot has no
# disk: nothing to do there.
[ "$MODE" = crash ] || exit 0
. /lab/common.sh
load_modules blk
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
mkdir -p /out && mount -t ext4 /dev/vda /out || exit 1
o=/out/mem-usage
mkdir -p $o
rc=0
run() {	# run NAME CMD...: stdout to NAME, stderr and timing to NAME.log
	local name=$1 t0
	shift
	t0=$(now)
	"$@" > "$o/$name" 2> "$o/$name.log" || rc=1
	echo "@@TIME start=$t0 end=$(now)" >> "$o/$name.log"
}
grep -i 'crash kernel' /proc/iomem > $o/iomem-crashkernel.txt
# kcore's ELF header and program headers (a few dozen), for the host.
dd if=/proc/kcore of=$o/kcore-headers.bin bs=4096 count=1 2> /dev/null
run makedumpfile-1.txt "$MDF" --mem-usage /proc/kcore
run crashkit-compat.txt /bin/crashkit makedumpfile --mem-usage /proc/kcore
run crashkit.json /bin/crashkit capture --mem-usage --json /proc/kcore
run makedumpfile-2.txt "$MDF" --mem-usage /proc/kcore
run crashkit-info.txt /bin/crashkit info /proc/kcore
cat /proc/meminfo > $o/meminfo.txt
sync
umount /out
exit $rc
EOF
} > "$tree/lab-hook-first"
chmod 755 "$tree/lab-hook-first"
cpio_file=$CK_TMP/mem-usage-hook.cpio
hook_cpio "$tree" > "$cpio_file"

t0=$SECONDS
if ! lab=$("$top/tests/lab/lab.sh" --extra-initrd "$cpio_file" 2> "$CK_TMP/lab-mu.err" | tail -n 1) ||
   [ ! -f "$lab/DONE" ]; then
	fail "mem-usage live: lab run with the first-boot hook" "$(tail -3 "$CK_TMP/lab-mu.err" | tr '\n' '|')"
	exit 0
fi
echo "# lab run with the hook: $lab ($((SECONDS - t0)) s)"
rm -rf "$tree" "$cpio_file"
HOOK_FIRST_RC=$(sed -n 's/^HOOK_FIRST_RC=//p' "$lab/truth.env")
o=$lab/mem-usage
if [ "$HOOK_FIRST_RC" = 0 ] && [ -s "$o/crashkit.json" ]; then
	pass "mem-usage live: makedumpfile and crashkit --mem-usage /proc/kcore ran in the first boot"
else
	fail "mem-usage live: the first-boot hook ran" "rc ${HOOK_FIRST_RC:-none}: $(cat "$o"/*.log 2>/dev/null | tail -5 | tr '\n' '|')"
	exit 0
fi
sed 's/^/# kcore: /' "$o/crashkit-info.txt" | grep -i 'origin\|memory\|range' | head -8
for f in makedumpfile-1.txt crashkit-compat.txt crashkit.json makedumpfile-2.txt; do
	echo "# $f: $(grep '@@TIME' "$o/$f.log")"
done
j=$o/crashkit.json
ckpages=$(jget "$j" crashkernel_pages)
if tr -d ' \n' < "$j" | grep -q '"live":true' && [ "${ckpages:-0}" -gt 0 ]; then
	pass "mem-usage live: /proc/kcore recognised as the live system, $ckpages crash kernel pages left out"
else
	fail "mem-usage live: /proc/kcore recognised" "$(head -c 300 "$j")"
fi
# Our two outputs are two runs too; the JSON must at least be whole.
m1=$o/makedumpfile-1.txt m2=$o/makedumpfile-2.txt ck=$o/crashkit-compat.txt
if [ -z "$(mdf_usage "$m1" total)" ]; then
	skip "mem-usage live: compare with makedumpfile" "makedumpfile --mem-usage gave no table: $(head -c 300 "$m1" | tr '\n' '|')"
	exit 0
fi
printf '# %-14s %12s %12s %12s %12s\n' class mdf-1 crashkit mdf-2 crashkit-json
for c in ZERO NON_PRI_CACHE PRI_CACHE USER FREE KERN_DATA total page_size; do
	case $c in ZERO) k=zero ;; NON_PRI_CACHE) k=cache ;; PRI_CACHE) k=cache_private ;;
		USER) k=user ;; FREE) k=free ;; KERN_DATA) k=kernel_data_pages ;;
		total) k=total_pages ;; page_size) k=page_size ;; esac
	v=$(jclass "$j" "$k"); [ -n "$v" ] || v=$(jget "$j" "$k")
	printf '# %-14s %12s %12s %12s %12s\n' $c "$(mdf_usage "$m1" $c)" "$(mdf_usage "$ck" $c)" "$(mdf_usage "$m2" $c)" "$v"
done
# Total pages: the memory map, which does not move.  makedumpfile counts
# each PT_LOAD's pages, and kcore maps the kernel text twice (its own
# KCORE_TEXT segment with a physical address, and inside RAM), so its total
# and KERN_DATA hold the text twice; we count pages.
ktext=$(elf_pages "$o/kcore-headers.bin" text)
echo "# kcore kernel text mapping: $ktext pages; crash kernel: $(cat "$o/iomem-crashkernel.txt")"
# makedumpfile 1.7.2 leaves the crash kernel reservation out as we do; sid's
# 1.7.8 counts it (on 6.1 and 6.12 alike), and kcore reads it as zeros (the
# kernel unmaps the loaded capture kernel: arch_kexec_protect_crashkres), so
# its ZERO class holds it too.  Recognised by the totals, then taken off.
kres=0 kres_note=
if [ "$(mdf_usage "$m1" total)" = $(($(mdf_usage "$ck" total) + ktext + ckpages)) ]; then
	kres=$ckpages kres_note=" + $kres crash kernel"
	echo "# makedumpfile counts the $kres crash kernel pages (as zero pages): taken off its total and ZERO"
fi
if [ "$(mdf_usage "$m1" total)" = $(($(mdf_usage "$ck" total) + ktext + kres)) ] &&
   [ "$(mdf_usage "$m2" total)" = "$(mdf_usage "$m1" total)" ] &&
   [ "$(jget "$j" total_pages)" = "$(mdf_usage "$ck" total)" ] &&
   [ "$(mdf_usage "$ck" page_size)" = "$(mdf_usage "$m1" page_size)" ] && [ "$ktext" -gt 0 ]; then
	pass "mem-usage live: total pages equal makedumpfile's less the text it counts twice ($(mdf_usage "$ck" total) + $ktext$kres_note)"
else
	fail "mem-usage live: total pages equal makedumpfile's" "mdf $(mdf_usage "$m1" total)/$(mdf_usage "$m2" total), ours $(mdf_usage "$ck" total) + text $ktext"
fi
# Classes: the guest keeps running (its helpers, our process and
# makedumpfile's own pages come and go), so each class is compared with
# the range of makedumpfile's two runs, which bracket ours, widened by a
# slack: SLACK pages (4 MiB: the tools differ in their own footprint, whose
# own pages are "user", "cache" or kernel data (page tables, slab) while it
# runs and "free" once it exits; on 6.12 ~450 pages more were kernel data
# and fewer free during both makedumpfile runs than during ours, where 1 MiB
# had been allowed; in another 6.12 boot, between our own two runs 0.3 s
# apart, 930 free pages became zero (+487) and kernel data (+442) while
# makedumpfile's runs around them drifted by 35, where 2 MiB had been
# allowed) plus the drift makedumpfile itself saw between its runs.  Both of our
# outputs (two runs) are checked.  A makedumpfile that cannot tell compound
# tails (explain_set_diff) counts the tails of kept heads as user pages
# where we count them with their head (kernel data): USER and KERN_DATA are
# widened by the number of such tails measured on this kernel's vmcore.elf
# above (the live boot is another boot of the same kernel and guest).
SLACK=1024
bad=
for c in ZERO NON_PRI_CACHE PRI_CACHE USER FREE KERN_DATA; do
	case $c in ZERO) k=zero ;; NON_PRI_CACHE) k=cache ;; PRI_CACHE) k=cache_private ;;
		USER) k=user ;; FREE) k=free ;; KERN_DATA) k=kernel_data_pages ;; esac
	a=$(mdf_usage "$m1" $c) b=$(mdf_usage "$m2" $c)
	[ $c = KERN_DATA ] && a=$((a - ktext)) b=$((b - ktext))
	[ $c = ZERO ] && a=$((a - kres)) b=$((b - kres))
	lo=$((a < b ? a : b)) hi=$((a > b ? a : b))
	tol=$((SLACK + hi - lo))
	case $c in USER|KERN_DATA) tol=$((tol + tails_user)) ;; esac
	v2=$(jclass "$j" "$k"); [ -n "$v2" ] || v2=$(jget "$j" "$k")
	for v in "$(mdf_usage "$ck" $c)" "$v2"; do
		[ -n "$v" ] && [ "$v" -ge $((lo - tol)) ] && [ "$v" -le $((hi + tol)) ] || bad+="$c $v vs $a..$b (±$tol); "
	done
done
if [ -z "$bad" ]; then
	pass "mem-usage live: every class within makedumpfile's two runs ± (drift + $SLACK pages$([ "$tails_user" = 0 ] || echo ", + $tails_user tails for USER and KERN_DATA")), text counted once"
else
	fail "mem-usage live: classes match makedumpfile's" "$bad"
fi

# Runs of older binaries are dead weight (2.6 GB each): keep this test's
# newest (those with a mem-usage/ directory; capture_kernel.sh prunes its own).
# (if, not &&: the script's status is this pipeline's, under pipefail.)
ls -dt "$(dirname "$lab")"/run-x* 2>/dev/null | while read -r d; do
	if [ -d "$d/mem-usage" ]; then echo "$d"; fi
done | tail -n +2 | while read -r old; do
	if [ -f "$old/.crashkit-lab" ]; then rm -rf "$old"; fi
done
exit 0
