#!/usr/bin/env bash
# crashkit capture on the real vmcore (ELF, as /proc/vmcore gives it):
# every output is read back by crashkit, makedumpfile, libkdumpfile and crash,
# kept pages equal the vmcore's, and the set kept at -d 31 is makedumpfile's.
set -uo pipefail
. "$(dirname "$0")/common.sh"

vmcore="$CK_LAB/vmcore.elf"
oracle="$CK_LAB/dmesg.makedumpfile.txt"
dargs=$(ck_dmesg_args "$oracle")	# the oracle's layout: with or without the caller column
mdf_zlib="$CK_LAB/vmcore.kdump-zlib"
tools="${CK_BUILD:-$(dirname "$CK")}/tests"
cmp_pages="$tools/ck-cmp-pages"
xcheck="$tools/ck-xcheck-kdumpfile"
[ -s "$vmcore" ] || { fail "capture: vmcore.elf missing" "$vmcore"; exit 0; }

# the makedumpfile peer's --dump-dmesg of the vmcore, to read our captures against
mdf_ref="$CK_TMP/cap.vmcore.mdfdmesg"
rm -f "$mdf_ref"
have_makedumpfile && "$CK_MAKEDUMPFILE" --dump-dmesg "$vmcore" "$mdf_ref" > /dev/null 2>&1
[ -s "$mdf_ref" ] || mdf_ref=$oracle

declare -A flag=([zlib]=-c [lzo]=-l [zstd]=-z [snappy]=-p)
for codec in zlib lzo zstd snappy; do
	out="$CK_TMP/cap.$codec"
	if ! "$CK" capture "${flag[$codec]}" -d 31 "$vmcore" "$out" 2> "$out.err"; then
		fail "capture $codec: exit status" "$(head -c 300 "$out.err")"; continue
	fi
	pass "capture ${flag[$codec]} -d 31 ($(stat -c %s "$out") bytes; $(grep -o 'kept [0-9]*' "$out.err"))"
	[ ! -e "$out.incomplete" ] && pass "capture $codec: OUTPUT.incomplete renamed" \
		|| fail "capture $codec: OUTPUT.incomplete left behind"
	"$CK" info "$out" > "$out.info" 2>&1
	grep -q "compression: *$codec" "$out.info" && grep -q 'incomplete: *no' "$out.info" &&
		grep -q 'header version 6' "$out.info" &&
		pass "capture $codec: crashkit info reads v6, $codec, complete" ||
		fail "capture $codec: crashkit info" "$(head -c 300 "$out.info")"
	if "$CK" dmesg "$dargs" "$out" 2>&1 | cmp -s - "$oracle"; then pass "capture $codec: crashkit dmesg equals makedumpfile --dump-dmesg"
	else fail "capture $codec: crashkit dmesg equals makedumpfile --dump-dmesg"; fi
	if r=$("$cmp_pages" "$out" "$vmcore" 2>&1); then pass "capture $codec: every kept page equals the vmcore's ($r)"
	else fail "capture $codec: kept pages equal the vmcore's" "$(echo "$r" | tail -3 | tr '\n' '|')"; fi
	# Debian 12's makedumpfile 1.7.2 is built without zstd and snappy,
	# sid's 1.7.8 without snappy.
	if have_makedumpfile && mdf_has "$codec"; then
		rm -f "$out.mdfdmesg"
		# against the peer's own log of the vmcore: the oracle may come
		# from another makedumpfile, with the other caller-column layout
		if "$CK_MAKEDUMPFILE" --dump-dmesg "$out" "$out.mdfdmesg" > /dev/null 2>&1 && cmp -s "$out.mdfdmesg" "$mdf_ref"
		then pass "capture $codec: makedumpfile --dump-dmesg reads it"
		else fail "capture $codec: makedumpfile --dump-dmesg reads it"; fi
	fi
	if [ -x "$xcheck" ]; then
		r=$(timeout 120 "$xcheck" --all --quiet "$out" 2>&1); rc=$?
		case $rc in
		0) pass "capture $codec: libkdumpfile reads the same pages ($(echo "$r" | tail -1 | cut -c1-120))" ;;
		77) skip "capture $codec: libkdumpfile" "cannot open it: $(echo "$r" | tail -1 | cut -c1-100)" ;;
		*) fail "capture $codec: libkdumpfile reads the same pages" "rc $rc $(echo "$r" | tail -2 | tr '\n' '|')" ;;
		esac
	else
		skip "capture $codec: libkdumpfile" "ck-xcheck-kdumpfile not built"
	fi
done

# Reading through mmap windows (the /proc/vmcore path, forced on a plain
# file with --mmap; 64 MiB windows, so chunks cross window ends here): the
# same file, but for the header's time stamp (block 0).
out="$CK_TMP/cap.lzo"
if [ -s "$out" ] && "$CK" capture -l -d 31 --mmap "$vmcore" "$out.mmap" 2> "$out.mmap.err" &&
   cmp -s -i 4096 "$out" "$out.mmap"; then
	pass "capture --mmap: windows over the input write the same dump as pread"
else
	fail "capture --mmap: the same dump as pread" "$(head -c 300 "$out.mmap.err")"
fi
rm -f "$out.mmap" "$out.mmap.err"

# The page set at -d 31 against makedumpfile's output of the same crash:
# every pfn one keeps and the other does not is explained page by page
# (common.sh explain_set_diff: a partial page at a RAM segment's end; tails
# a makedumpfile that cannot read OFFSET(page.compound_info) judged alone),
# and the first that is not fails with ck-page-info's reading of it.
out="$CK_TMP/cap.zlib"
mdf_ver=${FILTER_MAKEDUMPFILE_VERSION:-}	# the makedumpfile that wrote $mdf_zlib (truth.env)
if [ -s "$out" ] && [ -s "$mdf_zlib" ]; then
	"$cmp_pages" --set-all "$out" "$mdf_zlib" > "$out.set"
	r=$(tail -n 1 "$out.set")
	explain_set_diff "$vmcore" "$out.set" "$mdf_ver"
	if [ -z "$expl_bad" ]; then
		pass "capture -d 31 keeps makedumpfile's page set ($r; explained: $expl_note)"
	else
		fail "capture -d 31 keeps makedumpfile's page set" "$r; first unexplained: $expl_bad"
	fi
	# per-class counts side by side (makedumpfile's from the capture kernel's
	# log), less the explained pages: makedumpfile counts a tail it judged
	# alone in that class, we count the partial page and zero-filled tails
	# as zero pages.
	if [ -s "$CK_LAB/capture.log" ] && [ -z "$expl_bad" ]; then
		mdf_counts=$(sed -n '/vmcore.kdump-zlib: mdf/,/Free pages/p' "$CK_LAB/capture.log" |
			sed -n 's/^ *\(Pages filled with zero\|Non-private cache pages\|Private cache pages\|User process data pages\|Free pages\) *: *0x\([0-9a-f]*\)$/\2/p' |
			while read -r h; do printf '%d ' $((16#$h)); done)
		ck_counts=$(sed -n 's/.*zero \([0-9]*\), cache \([0-9]*\), cache_private \([0-9]*\), user \([0-9]*\), free \([0-9]*\).*/\1 \2 \3 \4 \5/p' "$out.err")
		echo "# classes    zero cache private user free"
		echo "# makedumpfile $mdf_counts"
		echo "# crashkit     $ck_counts"
		echo "# explained    crashkit zero $expl_ck_zero; makedumpfile cache $expl_mdf_cache private $expl_mdf_private user $expl_mdf_user free $expl_mdf_free"
		read -r mz mc mp mu mf <<< "$mdf_counts"; read -r cz cc cp cu cf <<< "$ck_counts"
		if [ -n "$mf" ] && [ -n "$cf" ] && [ $((cz - expl_ck_zero)) = "$mz" ] &&
		   [ "$cc $cp $cu $cf" = "$((mc - expl_mdf_cache)) $((mp - expl_mdf_private)) $((mu - expl_mdf_user)) $((mf - expl_mdf_free))" ]; then
			pass "capture -d 31 class counts equal makedumpfile's less explained pages (zero $cz-$expl_ck_zero/$mz cache $cc/$mc-$expl_mdf_cache private $cp/$mp-$expl_mdf_private user $cu/$mu-$expl_mdf_user free $cf/$mf-$expl_mdf_free)"
		else
			fail "capture -d 31 class counts equal makedumpfile's less explained pages" "mdf: $mdf_counts ck: $ck_counts explained: ck zero $expl_ck_zero, mdf cache $expl_mdf_cache private $expl_mdf_private user $expl_mdf_user free $expl_mdf_free"
		fi
	fi
fi

# Flattened stream to stdout, read directly and after makedumpfile -R.
flat="$CK_TMP/cap.flat"
if "$CK" capture -F -c -d 31 "$vmcore" > "$flat" 2> "$flat.err"; then
	pass "capture -F writes a flattened stream ($(stat -c %s "$flat") bytes)"
	if "$CK" dmesg "$dargs" "$flat" 2>&1 | cmp -s - "$oracle"; then pass "capture -F: crashkit dmesg of the stream"
	else fail "capture -F: crashkit dmesg of the stream"; fi
	if "$CK_MAKEDUMPFILE" -R "$flat.r" < "$flat" > /dev/null 2>&1 && r=$("$cmp_pages" "$flat.r" "$vmcore" 2>&1)
	then pass "capture -F: makedumpfile -R reassembles it, pages equal ($r)"
	else fail "capture -F: makedumpfile -R reassembles it" "$r"; fi
	if "$CK" capture -R "$flat.ck" < "$flat" 2>/dev/null && cmp -s "$flat.ck" "$flat.r"; then
		pass "capture -R reassembles it byte for byte as makedumpfile -R does"
	else
		fail "capture -R reassembles it as makedumpfile -R does"
	fi
	if "$CK" capture -R "$flat.mdf" < "$CK_LAB/vmcore.flat" 2>/dev/null &&
	   cmp -s "$flat.mdf" "$CK_LAB/vmcore.flat-reassembled"; then
		pass "capture -R of makedumpfile's -F stream equals its own reassembly"
	else
		fail "capture -R of makedumpfile's -F stream"
	fi
	rm -f "$flat.r" "$flat.ck" "$flat.mdf"

else
	fail "capture -F" "$(head -c 300 "$flat.err")"
fi

# ELF output (-E): the kept pages, read back by us, libkdumpfile and gdb.
elf="$CK_TMP/cap.elf"
if "$CK" capture -E -d 31 "$vmcore" "$elf" 2> "$elf.err"; then
	pass "capture -E -d 31 ($(stat -c %s "$elf") bytes, $(readelf -lW "$elf" 2>/dev/null | grep -c ' LOAD ') PT_LOADs)"
	if r=$("$cmp_pages" "$elf" "$vmcore" 2>&1); then pass "capture -E: every kept page equals the vmcore's ($r)"
	else fail "capture -E: kept pages equal the vmcore's" "$(echo "$r" | tail -3 | tr '\n' '|')"; fi
	# runs of 256+ zero pages are cut out of an ELF dump; the kdump keeps
	# every zero page (shared).  Pages only we keep are explained as for the
	# kdump output above.
	"$cmp_pages" --set-all "$elf" "$mdf_zlib" > "$elf.set"
	r=$(tail -n 1 "$elf.set")
	grep 'only in first$' "$elf.set" > "$elf.set1"
	explain_set_diff "$vmcore" "$elf.set1" "$mdf_ver"
	zero=$(sed -n 's/.*zero \([0-9]*\), cache.*/\1/p' "$elf.err")
	only2=$(echo "$r" | sed -n 's/.*only-second \([0-9]*\).*/\1/p')
	if [ -z "$expl_bad" ] && [ "${only2:-999999}" -le "${zero:-0}" ]; then
		pass "capture -E keeps makedumpfile's page set minus long runs of zero pages ($r; zero $zero; explained: $expl_note)"
	else
		fail "capture -E page set" "$r zero $zero${expl_bad:+; first unexplained: $expl_bad}"
	fi
	if "$CK" dmesg "$dargs" "$elf" 2>&1 | cmp -s - "$oracle"; then pass "capture -E: crashkit dmesg equals makedumpfile --dump-dmesg"
	else fail "capture -E: crashkit dmesg equals makedumpfile --dump-dmesg"; fi
	if [ -x "$xcheck" ]; then
		r=$(timeout 120 "$xcheck" --all --quiet "$elf" 2>&1); rc=$?
		[ "$rc" = 0 ] && pass "capture -E: libkdumpfile reads the same pages ($(echo "$r" | tail -1 | cut -c1-100))" ||
			fail "capture -E: libkdumpfile reads the same pages" "rc $rc $(echo "$r" | tail -1)"
	fi
	# gdb takes the vmlinux's addresses as linked: under KASLR the symbols
	# must be moved by the offset (symbol-file -o).  The dump keeps both
	# virtual mappings of the kernel image, as /proc/vmcore has them.
	if command -v gdb > /dev/null && [ -s "$CK_LAB/vmlinux" ]; then
		r=$(timeout 120 gdb -nx -batch -ex "symbol-file -o 0x${KASLR_OFFSET:-0} $CK_LAB/vmlinux" \
			-ex "core-file $elf" -ex 'p init_uts_ns.name.release' 2>&1 | tail -1)
		if echo "$r" | grep -qF "\"$KERNEL_RELEASE\""; then
			pass "capture -E: gdb with the vmlinux reads init_uts_ns.name.release ($(echo "$r" | cut -c1-40))"
		else
			fail "capture -E: gdb reads init_uts_ns" "$r"
		fi
	else
		skip "capture -E: gdb" "no gdb or vmlinux"
	fi
	if "$CK" capture -F -E -d 31 "$vmcore" > "$elf.flat" 2>/dev/null &&
	   "$CK" capture -R "$elf.r" < "$elf.flat" 2>/dev/null && cmp -s "$elf.r" "$elf"; then
		pass "capture -F -E: the flattened ELF reassembles to the same file"
	else
		fail "capture -F -E: the flattened ELF reassembles to the same file"
	fi
	rm -f "$elf.flat" "$elf.r"
	# -E from a kdump input (no program headers): the kernel image and the
	# direct map get the virtual addresses /proc/vmcore gives them: the
	# segments' addresses and data sizes are those -E writes from the ELF
	# vmcore (p_memsz may end sooner: a kdump file keeps whole pages), and
	# gdb reads symbols from it.
	# When makedumpfile's file lacks explained pages (tails it judged
	# alone, the -E set above) the segments differ where they are missing
	# (and the 256-page zero runs around them), so the input is then our
	# own kdump-zlib of the vmcore, which holds the same pages as -E.
	kin=$mdf_zlib
	case $expl_note in *"tail page"*) [ -s "$CK_TMP/cap.zlib" ] && kin=$CK_TMP/cap.zlib ;; esac
	if "$CK" capture -E -d 31 "$kin" "$elf.k" 2> "$elf.k.err"; then
		segs() { readelf -lW "$1" | awk '$1 == "LOAD" { print $3, $4, $5 }'; }
		if d=$(diff <(segs "$elf.k") <(segs "$elf")) && [ -n "$(segs "$elf")" ]; then
			pass "capture -E from kdump input ($(basename "$kin")): $(segs "$elf.k" | wc -l) PT_LOADs, virtual and physical addresses as from the ELF vmcore"
		else
			fail "capture -E from kdump input: PT_LOAD addresses" "$(echo "$d" | head -6 | tr '\n' '|')"
		fi
		if command -v gdb > /dev/null && [ -s "$CK_LAB/vmlinux" ]; then
			r=$(timeout 120 gdb -nx -batch -ex "symbol-file -o 0x${KASLR_OFFSET:-0} $CK_LAB/vmlinux" \
				-ex "core-file $elf.k" -ex 'p init_uts_ns.name.release' -ex 'p jiffies_64 > 0' 2>&1 | tail -2 | tr '\n' ' ')
			if echo "$r" | grep -qF "\"$KERNEL_RELEASE\"" && echo "$r" | grep -q '= 1 *$'; then
				pass "capture -E from kdump input: gdb reads init_uts_ns.name.release and jiffies_64"
			else
				fail "capture -E from kdump input: gdb reads symbols" "$r"
			fi
		fi
	else
		fail "capture -E from kdump input" "$(head -c 300 "$elf.k.err")"
	fi
	rm -f "$elf.k" "$elf.k.err"
else
	fail "capture -E" "$(head -c 300 "$elf.err")"
fi

# Re-filtering a saved dump: makedumpfile's kdump-zlib in, zstd out.
re="$CK_TMP/cap.refilter"
if "$CK" capture -z -d 31 "$mdf_zlib" "$re" 2> "$re.err" && r=$("$cmp_pages" "$re" "$vmcore" 2>&1) &&
   s=$("$cmp_pages" --set "$re" "$mdf_zlib" | tail -1) && [ "${s##*only-second }" = 0 ] &&
   ! grep -q 'could not be read' "$re.err"; then
	pass "capture -z of makedumpfile's kdump-zlib: pages equal ($r; $s)"
else
	fail "capture -z of makedumpfile's kdump-zlib" "$(head -c 300 "$re.err") $r $s"
fi
rm -f "$re"

# crash on every output: the same answers as on makedumpfile's -c -d 31 of
# the same vmcore (the DUMPFILE line aside).  If crash cannot read
# makedumpfile's either, the checks are skipped with crash's error.
printf 'sys\nlog\nmod\nkmem -i\nbt\nps\nquit\n' > "$CK_TMP/crash.cmds"
crash_of() { crash_run "$1" "$CK_LAB/vmlinux" "$2" < "$CK_TMP/crash.cmds"; }
if ! [ -s "$CK_LAB/vmlinux" ] || ! have_crash; then
	skip "crash on capture output" "no vmlinux or no $CK_CRASH"
elif ! crash_of "$CK_TMP/crash.mdf" "$mdf_zlib"; then
	# crash cannot read this kernel (crash 9.0.2 on 7.x): it must fail on
	# crashkit's output exactly as on makedumpfile's, not differently.
	mdf_error=$crash_error
	for f in cap.zlib cap.elf; do
		if crash_of "$CK_TMP/crash.ck" "$CK_TMP/$f"; then
			fail "crash: fails on $f as on makedumpfile's" "reads $f but not makedumpfile's ($mdf_error)"
		elif [ "$crash_error" = "$mdf_error" ]; then
			pass "crash: fails on $f exactly as on makedumpfile's vmcore.kdump-zlib ($mdf_error)"
		else
			fail "crash: fails on $f as on makedumpfile's" "$crash_error vs $mdf_error"
		fi
	done
else
	for f in cap.zlib cap.lzo cap.zstd cap.snappy cap.elf cap.flat; do
		[ -s "$CK_TMP/$f" ] || { fail "crash on $f: no output to read"; continue; }
		if ! crash_of "$CK_TMP/crash.ck" "$CK_TMP/$f"; then
			fail "crash: reads $f as makedumpfile's" "$crash_error"
		elif [ "$(wc -l < "$CK_TMP/crash.ck")" -gt 50 ] && cmp -s "$CK_TMP/crash.ck" "$CK_TMP/crash.mdf"; then
			pass "crash: sys, log, mod, kmem -i, bt, ps on $f identical to makedumpfile -c -d 31's ($(wc -l < "$CK_TMP/crash.ck") lines, $(crash_version))"
		else
			fail "crash: same answers on $f as on makedumpfile's" "$(diff "$CK_TMP/crash.mdf" "$CK_TMP/crash.ck" | head -5 | tr '\n' '|')"
		fi
	done
fi

# Threads change nothing but speed: same bytes after the header block.
t1="$CK_TMP/cap.t1" t2="$CK_TMP/cap.t2"
if "$CK" capture -z -d 31 --num-threads 1 "$vmcore" "$t1" 2>/dev/null &&
   "$CK" capture -z -d 31 --num-threads 2 "$vmcore" "$t2" 2>/dev/null &&
   cmp -s <(tail -c +4097 "$t1") <(tail -c +4097 "$t2"); then
	pass "capture --num-threads 1 and 2 write the same dump"
else
	fail "capture --num-threads 1 and 2 write the same dump"
fi

# Faults.
lim="$CK_TMP/cap.limit"
"$CK" capture -c -d 31 -L 4M "$vmcore" "$lim" 2> "$lim.err"; rc=$?
if [ "$rc" = 1 ] && [ -s "$lim.incomplete" ] && [ ! -e "$lim" ] &&
   [ "$(stat -c %s "$lim.incomplete")" -le $((4 << 20)) ] &&
   "$CK" info "$lim.incomplete" 2>/dev/null | grep -q 'incomplete: *yes' &&
   "$cmp_pages" "$lim.incomplete" "$vmcore" > "$lim.cmp" 2>&1; then
	pass "capture -L 4M: exit 1, valid dump flagged incomplete, pages equal ($(cat "$lim.cmp"))"
else
	fail "capture -L 4M: valid incomplete dump" "rc $rc $(head -c 200 "$lim.err")"
fi
if [ -s "$lim.incomplete" ] && [ -x "$xcheck" ]; then
	r=$(timeout 120 "$xcheck" --all --quiet "$lim.incomplete" 2>&1); rc=$?
	[ "$rc" = 0 ] && pass "capture -L: libkdumpfile reads the incomplete dump" ||
		fail "capture -L: libkdumpfile reads the incomplete dump" "rc $rc $(echo "$r" | tail -1)"
fi
# A full disk: a 6 MiB tmpfs (root only; skipped where mount is refused).
full="$CK_TMP/full"
mkdir -p "$full"
if mount -t tmpfs -o size=6m tmpfs "$full" 2>/dev/null; then
	"$CK" capture -c -d 31 "$vmcore" "$full/out" 2> "$CK_TMP/cap.full.err"; rc=$?
	cp "$full/out.incomplete" "$CK_TMP/cap.full" 2>/dev/null
	umount "$full"
	if [ "$rc" = 1 ] && grep -q 'disk is full' "$CK_TMP/cap.full.err" &&
	   "$CK" info "$CK_TMP/cap.full" 2>/dev/null | grep -q 'incomplete: *yes' &&
	   r=$("$cmp_pages" "$CK_TMP/cap.full" "$vmcore" 2>&1); then
		pass "capture on a full disk: exit 1, valid dump flagged incomplete ($r)"
	else
		fail "capture on a full disk" "rc $rc $(tail -1 "$CK_TMP/cap.full.err" | cut -c1-200)"
	fi
	# -E: direct writes into preallocated space, then only what fits, then
	# buffered writes until the disk says no; the file ends with its data.
	mount -t tmpfs -o size=20m tmpfs "$full"
	"$CK" capture -E -d 31 "$vmcore" "$full/out" 2> "$CK_TMP/cap.fullE.err"; rc=$?
	cp "$full/out.incomplete" "$CK_TMP/cap.fullE" 2>/dev/null
	umount "$full"
	out_bytes=$(sed -n 's/.*(\([0-9]*\) bytes).*/\1/p' "$CK_TMP/cap.fullE.err" | head -1)
	if [ "$rc" = 1 ] && grep -q 'disk is full' "$CK_TMP/cap.fullE.err" &&
	   [ "$(stat -c %s "$CK_TMP/cap.fullE")" = "$out_bytes" ] &&
	   "$CK" info "$CK_TMP/cap.fullE" 2>/dev/null | grep -q 'incomplete: *yes' &&
	   r=$("$cmp_pages" "$CK_TMP/cap.fullE" "$vmcore" 2>&1); then
		pass "capture -E on a full disk: exit 1, valid ELF flagged incomplete, $out_bytes bytes as reported ($r)"
	else
		fail "capture -E on a full disk" "rc $rc size $(stat -c %s "$CK_TMP/cap.fullE" 2>/dev/null) reported ${out_bytes:-?}: $(tail -1 "$CK_TMP/cap.fullE.err" | cut -c1-200)"
	fi
	rm -f "$CK_TMP/cap.fullE"
else
	skip "capture on a full disk" "cannot mount a tmpfs here"
fi
trunc="$CK_TMP/vmcore.trunc"
head -c $((300 << 20)) "$vmcore" > "$trunc"
"$CK" capture -z -d 31 "$trunc" "$CK_TMP/cap.trunc" 2> "$CK_TMP/cap.trunc.err"; rc=$?
if [ "$rc" = 0 ] && grep -q 'could not be read' "$CK_TMP/cap.trunc.err" &&
   "$cmp_pages" "$CK_TMP/cap.trunc" "$vmcore" > /dev/null 2>&1; then
	pass "capture of a truncated vmcore: missing pages reported, the rest saved"
else
	fail "capture of a truncated vmcore" "rc $rc $(head -c 300 "$CK_TMP/cap.trunc.err")"
fi
rm -f "$trunc"
head -c 100000 /dev/urandom > "$CK_TMP/garbage"
expect_clean_error "capture of a non-dump: one-line error" garbage capture -z "$CK_TMP/garbage" "$CK_TMP/cap.garbage"
"$CK" capture --bogus "$vmcore" "$CK_TMP/x" 2>/dev/null; rc=$?
[ "$rc" = 2 ] && pass "capture: unknown option exits 2" || fail "capture: unknown option exits 2" "rc $rc"
"$CK" capture -z "$vmcore" "$CK_TMP/cap.zlib" 2>/dev/null; rc=$?
[ "$rc" = 1 ] && pass "capture refuses to overwrite OUTPUT without -f" || fail "capture refuses to overwrite" "rc $rc"

# makedumpfile's command line: as a symlink and as `crashkit makedumpfile`.
mkdir -p "$CK_TMP/mdf" && ln -sf "$(cd "$(dirname "$CK")" && pwd)/$(basename "$CK")" "$CK_TMP/mdf/makedumpfile"
if "$CK_TMP/mdf/makedumpfile" -l -d 31 "$vmcore" "$CK_TMP/cap.mdf" 2>/dev/null &&
   "$CK" dmesg "$dargs" "$CK_TMP/cap.mdf" 2>/dev/null | cmp -s - "$oracle"; then
	pass "makedumpfile symlink: -l -d 31 VMCORE OUTPUT works"
else
	fail "makedumpfile symlink: -l -d 31 VMCORE OUTPUT works"
fi
if "$CK" makedumpfile --dump-dmesg "$dargs" "$vmcore" "$CK_TMP/cap.dmesg" 2>/dev/null && cmp -s "$CK_TMP/cap.dmesg" "$oracle"; then
	pass "crashkit makedumpfile --dump-dmesg equals makedumpfile's"
else
	fail "crashkit makedumpfile --dump-dmesg equals makedumpfile's"
fi
"$CK_TMP/mdf/makedumpfile" -X "$vmcore" a > /dev/null 2> "$CK_TMP/cap.mu"; rc=$?
[ "$rc" = 1 ] && grep -q 'not supported' "$CK_TMP/cap.mu" && pass "makedumpfile symlink: unsupported option fails clearly, exit 1" ||
	fail "makedumpfile symlink: unsupported option fails clearly" "rc $rc"
rm -rf "$CK_TMP"/cap.* "$CK_TMP"/crash.* "$CK_TMP/mdf"
