#!/usr/bin/env bash
# Split dumps (makedumpfile --split / --reassemble) on the lab's real vmcore:
# crashkit's split files are read by crash as makedumpfile's are, joined by
# makedumpfile --reassemble into our unsplit dump's pages, and crashkit
# --reassemble joins makedumpfile's own split files into its unsplit dump.
set -uo pipefail
. "$(dirname "$0")/common.sh"

vmcore="$CK_LAB/vmcore.elf"
mdf_zlib="$CK_LAB/vmcore.kdump-zlib"
tools="${CK_BUILD:-$(dirname "$CK")}/tests"
cmp_pages="$tools/ck-cmp-pages"
[ -s "$vmcore" ] || { fail "capture --split: vmcore.elf missing" "$vmcore"; exit 0; }
have_makedumpfile || { skip "capture --split" "no $CK_MAKEDUMPFILE"; exit 0; }
d="$CK_TMP/split"
rm -rf "$d" && mkdir -p "$d"

# The lab's guest has 1 GiB: with makedumpfile's default split block
# (1 GiB) the first file takes every page.  4 MiB blocks give real ranges.
SB=4096

# A file's range as crashkit info reads it: "START-END" in decimal.
range_of() {
	"$CK_RELEASE" info --json "$1" 2> /dev/null | tr -d ' \n' |
		sed -n 's/.*"split":{"start_pfn":\([0-9]*\),"end_pfn":\([0-9]*\)[,}].*/\1-\2/p'
}
ranges_of() { local f r=""; for f in "$@"; do r="$r $(range_of "$f")"; done; echo "${r# }"; }

# crash's answers, without the lines that name the dump files.  If crash
# cannot read makedumpfile's unsplit output either, its checks are skipped.
printf 'sys\nlog\nmod\nps\nquit\n' > "$d/crash.cmds"
crash_of() { local out=$1; shift; crash_run "$out" "$CK_LAB/vmlinux" "$@" < "$d/crash.cmds"; }
use_crash=0
if ! [ -s "$CK_LAB/vmlinux" ] || ! have_crash; then
	skip "capture --split: crash" "no vmlinux or no $CK_CRASH"
elif ! crash_of "$d/crash.mdf" "$mdf_zlib"; then
	skip "capture --split: crash" "cannot read makedumpfile's vmcore.kdump-zlib either: $crash_error"
else
	use_crash=1
fi

# makedumpfile's own split files, 3 of them, and their ranges.
if "$CK_MAKEDUMPFILE" -c -d 31 --splitblock-size $SB --split "$vmcore" "$d/m1" "$d/m2" "$d/m3" \
	> "$d/m.log" 2>&1; then
	mdf_ranges3=$(ranges_of "$d/m1" "$d/m2" "$d/m3")
	pass "makedumpfile --split into 3: ranges $mdf_ranges3"
else
	fail "makedumpfile --split into 3" "$(tail -2 "$d/m.log" | tr '\n' '|')"
	mdf_ranges3=none
fi
if "$CK_MAKEDUMPFILE" -c -d 31 --splitblock-size $SB --split "$vmcore" "$d/n1" "$d/n2" \
	> "$d/n.log" 2>&1; then
	mdf_ranges2=$(ranges_of "$d/n1" "$d/n2")
	mdf_default=$("$CK_MAKEDUMPFILE" -c -d 31 --split "$vmcore" "$d/o1" "$d/o2" > /dev/null 2>&1 &&
		ranges_of "$d/o1" "$d/o2")
	rm -f "$d"/n? "$d"/o?
else
	fail "makedumpfile --split into 2" "$(tail -2 "$d/n.log" | tr '\n' '|')"
	mdf_ranges2=none
fi

# Where makedumpfile keeps another page set than ours (explain_set_diff:
# a makedumpfile that cannot tell compound tails on 7.1+), its ranges
# balance other counts.  Our planner run over makedumpfile's own unsplit
# -d 31 capture (vmcore.kdump-zlib: its page set) must then choose its
# ranges, and the sets must differ by explained pages only.
mdf_ver=$("$CK_MAKEDUMPFILE" -v 2>&1 | sed -n 's/^makedumpfile: version \([^ ]*\).*/\1/p' | head -n 1)
over_mdf() {
	local n=$1 i files=()
	for i in $(seq 1 "$n"); do files+=("$d/p$n.$i"); done
	"$CK" capture -c -d 31 --splitblock-size $SB --split "$mdf_zlib" "${files[@]}" > /dev/null 2>&1 &&
		ranges_of "${files[@]}"
	rm -f "${files[@]}"
}
# ranges_explained N WHOLE: our ranges differ from makedumpfile's because
# the page sets do, and only because of that.  Sets why.
ranges_explained() {
	local n=$1 whole=$2 theirs=$3 over
	why=
	[ -s "$mdf_zlib" ] || { why="no $mdf_zlib"; return 1; }
	over=$(over_mdf "$n")
	[ "$over" = "$theirs" ] || { why="over makedumpfile's page set ours are $over"; return 1; }
	"$cmp_pages" --set-all "$whole" "$mdf_zlib" > "$d/set.$n" 2>&1
	explain_set_diff "$vmcore" "$d/set.$n" "$mdf_ver"
	[ -z "$expl_bad" ] || { why=$expl_bad; return 1; }
	why="over makedumpfile's own page set (vmcore.kdump-zlib) ours are $over too; the sets differ by $expl_note"
}

declare -A flag=([zlib]=-c [lzo]=-l [zstd]=-z)
for codec in zlib lzo zstd; do
	whole="$d/whole.$codec"
	if ! "$CK" capture "${flag[$codec]}" -d 31 "$vmcore" "$whole" 2> "$whole.err"; then
		fail "capture $codec (unsplit)" "$(tail -1 "$whole.err")"; continue
	fi
	for n in 2 3; do
		files=()
		for i in $(seq 1 $n); do files+=("$d/s$n.$codec.$i"); done
		tag="capture ${flag[$codec]} --split into $n"
		if ! "$CK" capture "${flag[$codec]}" -d 31 --splitblock-size $SB --split "$vmcore" \
			"${files[@]}" 2> "$d/s.err"; then
			fail "$tag: exit status" "$(tail -2 "$d/s.err" | tr '\n' '|')"; continue
		fi
		ls "$d"/*.incomplete > /dev/null 2>&1 && fail "$tag: .incomplete left behind"
		sizes=$(stat -c %s "${files[@]}" | tr '\n' ' ')
		pass "$tag: $n files (${sizes% } bytes)"

		# Every page of every file is the vmcore's, and every kept page
		# is in exactly one file.
		ok=1 kept=0 why=""
		for f in "${files[@]}"; do
			if r=$("$cmp_pages" "$f" "$vmcore" 2>&1); then
				kept=$((kept + $(echo "$r" | sed -n 's/^pages \([0-9]*\).*/\1/p')))
			else
				ok=0 why="$f: $(echo "$r" | tail -1)"
			fi
		done
		wk=$("$cmp_pages" "$whole" "$vmcore" 2>/dev/null | sed -n 's/^pages \([0-9]*\).*/\1/p')
		[ "$ok" = 1 ] && [ "$kept" = "$wk" ] &&
			pass "$tag: every page equals the vmcore's, $kept pages in all = the unsplit dump's" ||
			fail "$tag: pages" "$why kept $kept unsplit $wk"

		# The ranges makedumpfile chooses for the same split.
		ours=$(ranges_of "${files[@]}")
		theirs=$([ "$n" = 3 ] && echo "$mdf_ranges3" || echo "$mdf_ranges2")
		if [ "$ours" = "$theirs" ]; then
			pass "$tag: pfn ranges $ours, as makedumpfile --split chooses"
		elif ranges_explained "$n" "$whole" "$theirs"; then
			pass "$tag: pfn ranges $ours, makedumpfile's $theirs: $why"
		else
			fail "$tag: pfn ranges as makedumpfile's" "ours $ours, makedumpfile $theirs; $why"
		fi

		# Our --reassemble: the unsplit dump, byte for byte but for the
		# header's time stamp (tv_sec, tv_usec: bytes 0x198-0x1a7).
		j="$d/j.$codec.$n"
		if "$CK" capture --reassemble "${files[@]}" "$j" 2> "$j.err" &&
		   [ "$(cmp -l "$j" "$whole" 2>&1 | awk '$1 <= 408 || $1 > 424' | wc -l)" = 0 ]; then
			pass "$tag: crashkit --reassemble gives the unsplit dump byte for byte ($(stat -c %s "$j") bytes)"
		else
			fail "$tag: crashkit --reassemble = unsplit dump" "$(tail -1 "$j.err") $(cmp "$j" "$whole" 2>&1)"
		fi
		rm -f "$j"

		# makedumpfile --reassemble of our files: the unsplit dump's pages.
		m="$d/mj.$codec.$n"
		if "$CK_MAKEDUMPFILE" --reassemble "${files[@]}" "$m" > "$m.log" 2>&1 &&
		   r=$("$cmp_pages" "$m" "$whole" 2>&1) && s=$("$cmp_pages" --set "$m" "$whole" 2>&1); then
			pass "$tag: makedumpfile --reassemble of them: every page equals the unsplit dump's ($r; $s)"
		else
			fail "$tag: makedumpfile --reassemble of them" "$(tail -1 "$m.log") $r $s"
		fi
		rm -f "$m"

		# crash reads the set as it reads makedumpfile's unsplit output.
		if [ "$use_crash" = 1 ] && { [ "$n" = 3 ] || [ "$codec" = zlib ]; }; then
			if ! crash_of "$d/crash.ck" "${files[@]}"; then
				fail "$tag: crash reads the $n files as makedumpfile's" "$crash_error"
			elif [ "$(wc -l < "$d/crash.ck")" -gt 50 ] && cmp -s "$d/crash.ck" "$d/crash.mdf"; then
				pass "$tag: crash reads the $n files: sys, log, mod, ps identical to makedumpfile -c -d 31's ($(wc -l < "$d/crash.ck") lines)"
			else
				fail "$tag: crash reads the $n files as makedumpfile's" \
					"$(diff "$d/crash.mdf" "$d/crash.ck" | head -5 | tr '\n' '|')"
			fi
		fi
		[ "$codec" = zlib ] && [ "$n" = 3 ] && keep=("${files[@]}") || rm -f "${files[@]}"
	done
	rm -f "$whole"
done

# The default split block (1 GiB): the first file takes all of the lab's
# 1 GiB; makedumpfile does the same.
if "$CK" capture -c -d 31 --split "$vmcore" "$d/p1" "$d/p2" 2> /dev/null; then
	ours=$(ranges_of "$d/p1" "$d/p2")
	[ "$ours" = "$mdf_default" ] && pass "capture --split, 1 GiB split blocks: ranges $ours, as makedumpfile's" ||
		fail "capture --split, default split block: ranges as makedumpfile's" "ours $ours, makedumpfile $mdf_default"
else
	fail "capture --split with the default split block"
fi
rm -f "$d"/p?

# crashkit info on one file: its range.
if [ -n "${keep[0]:-}" ] && "$CK" info "${keep[1]}" 2>/dev/null | grep -q '^split: *pfn 0x[0-9a-f]*-0x[0-9a-f]*'; then
	pass "crashkit info on a split file shows its range ($("$CK" info "${keep[1]}" | sed -n 's/^split: *\(pfn [^ ]*\).*/\1/p'))"
else
	fail "crashkit info on a split file shows its range"
fi

# crashkit reads the files of a split dump together, in any order, as crash does.
oracle="$CK_LAB/dmesg.makedumpfile.txt"
dargs=$(ck_dmesg_args "$oracle")	# with or without the caller column, as the oracle
if [ -n "${keep[0]:-}" ] && "$CK" dmesg "$dargs" "${keep[2]}" "${keep[0]}" "${keep[1]}" 2>/dev/null | cmp -s - "$oracle" &&
   "$CK" info "${keep[@]}" 2>/dev/null | grep -q '^split: *pfn 0x0-0x3ffdd from 3 files'; then
	pass "crashkit dmesg and info on our 3 split files: the log equals makedumpfile --dump-dmesg, range 0x0-0x3ffdd"
else
	fail "crashkit dmesg and info on our 3 split files"
fi
if [ "$mdf_ranges3" != none ] && "$CK" dmesg "$dargs" "$d/m1" "$d/m2" "$d/m3" 2>/dev/null | cmp -s - "$oracle"; then
	pass "crashkit dmesg on makedumpfile's 3 split files equals makedumpfile --dump-dmesg"
else
	fail "crashkit dmesg on makedumpfile's 3 split files"
fi
[ -n "${keep[0]:-}" ] && expect_clean_error "crashkit dmesg on split files of different dumps" "not files of the same" \
	dmesg "${keep[0]}" "$d/m2" "$d/m3"

# Our --reassemble of makedumpfile's own split files: makedumpfile's
# unsplit -c -d 31 output, page for page (and byte for byte but for the
# sub header's end_pfn, which makedumpfile leaves 0 when not split).
if [ "$mdf_ranges3" != none ]; then
	j="$d/mdf.joined"
	if "$CK" capture --reassemble "$d/m3" "$d/m1" "$d/m2" "$j" 2> "$j.err" &&
	   r=$("$cmp_pages" "$j" "$mdf_zlib" 2>&1) && s=$("$cmp_pages" --set "$j" "$mdf_zlib" 2>&1); then
		nb=$(cmp -l "$j" "$mdf_zlib" 2>/dev/null | wc -l)
		pass "crashkit --reassemble of makedumpfile's 3 split files: every page equals makedumpfile's unsplit dump ($r; $s; $nb bytes differ)"
	else
		fail "crashkit --reassemble of makedumpfile's split files" "$(tail -1 "$j.err") $r $s"
	fi
	if [ "$use_crash" = 1 ]; then
		crash_of "$d/crash.m" "$d/m1" "$d/m2" "$d/m3"
		cmp -s "$d/crash.m" "$d/crash.mdf" && pass "crash reads makedumpfile's split files as its unsplit dump (the oracle agrees with itself)" ||
			fail "crash on makedumpfile's split files" "$(diff "$d/crash.mdf" "$d/crash.m" | head -3 | tr '\n' '|')"
	fi
fi

# Bad input: one clear line, exit 1.
expect_clean_error "capture --split with one output file" "two output files" \
	capture -c --split "$vmcore" "$d/only"
"$CK" makedumpfile -c --split "$vmcore" "$d/only" > /dev/null 2>&1; rc=$?
[ "$rc" = 1 ] && pass "makedumpfile --split with one output file: exit 1" ||
	fail "makedumpfile --split with one output file: exit 1" "rc $rc"
if [ -n "${keep[0]:-}" ] && [ "$mdf_ranges3" != none ]; then
	expect_clean_error "capture --reassemble with a piece missing" "missing" \
		capture --reassemble "${keep[0]}" "${keep[2]}" "$d/bad"
	expect_clean_error "capture --reassemble of files from different dumps" "not files of the same" \
		capture --reassemble "${keep[0]}" "$d/m2" "$d/m3" "$d/bad"
	expect_clean_error "capture --reassemble of an ordinary dump" "not a file of a split dump" \
		capture --reassemble "${keep[0]}" "${keep[1]}" "$mdf_zlib" "$d/bad"
	[ ! -e "$d/bad" ] && [ ! -e "$d/bad.incomplete" ] && pass "capture --reassemble: nothing written on bad input" ||
		fail "capture --reassemble: nothing written on bad input"
fi

# -L: every file stops at the limit, stays .incomplete and valid; exit 1.
"$CK" capture -c -d 31 -L 3M --splitblock-size $SB --split "$vmcore" "$d/l1" "$d/l2" "$d/l3" 2> "$d/l.err"; rc=$?
ok=1 cut=0
for f in l1 l2 l3; do
	for g in "$d/$f" "$d/$f.incomplete"; do
		[ ! -e "$g" ] || [ "$(stat -c %s "$g")" -le $((3 << 20)) ] || ok=0
	done
	if [ -e "$d/$f.incomplete" ]; then
		cut=$((cut + 1))
		"$cmp_pages" "$d/$f.incomplete" "$vmcore" > /dev/null 2>&1 || ok=0
		"$CK" info "$d/$f.incomplete" 2>/dev/null | grep -q 'incomplete: *yes' || ok=0
	elif [ -e "$d/$f" ]; then
		"$cmp_pages" "$d/$f" "$vmcore" > /dev/null 2>&1 || ok=0
	else
		ok=0
	fi
done
# Which files the limit cuts depends on the kernel's dump (6.1: the first
# only; 7.3's holds more): at least one, each within the limit.
[ "$rc" = 1 ] && [ "$ok" = 1 ] && [ "$cut" -ge 1 ] &&
	pass "capture --split -L 3M: exit 1, $cut cut file(s) stay .incomplete and valid, the others complete, none over 3 MiB ($(ls "$d" | grep '^l[123]' | tr '\n' ' '))" ||
	fail "capture --split -L 3M" "rc $rc $(ls "$d" | grep '^l' | tr '\n' ' ') $(tail -1 "$d/l.err")"

rm -rf "$d"
