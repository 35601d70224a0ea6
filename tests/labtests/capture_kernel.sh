#!/usr/bin/env bash
# crashkit capture inside the lab's capture kernel, on the real /proc/vmcore,
# next to makedumpfile: a cpio with the release crashkit, the libraries ldd
# names and a /lab-hook-capture script goes into the lab run through
# --extra-initrd (its own cached output dir, keyed by the cpio's hash, so a
# new binary makes a new run).  The outputs must give the same dmesg as
# makedumpfile's, hold exactly the pages of that run's vmcore.elf, and crash
# must print the same sys/log on them as on makedumpfile's output.
set -uo pipefail
. "$(dirname "$0")/common.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
ckr=${CK_RELEASE:-$top/build/release/crashkit}
tools="${CK_BUILD:-$(dirname "$CK")}/tests"
[ -x "$ckr" ] || { skip "capture kernel" "no release crashkit"; exit 0; }

# The cpio: reproducible (fixed mtimes, --reproducible) so that its hash,
# and with it the lab's cache key, changes only with the binary.
tree=$CK_TMP/hook-tree
hook_tree "$tree" "$ckr"
cat > "$tree/lab-hook-capture" <<'EOF'
#!/bin/sh
# Runs in the capture kernel with OUT=/out (docs/lab.md).
now() { cut -d' ' -f1 /proc/uptime; }
rc=0
for c in z c l l-non-mmap; do
	opt=
	case $c in
	z) out=crashkit.kdump-zstd ;;
	c) out=crashkit.kdump-zlib ;;
	l) out=crashkit.kdump-lzo ;;
	l-non-mmap) c=l opt=--non-mmap out=crashkit.kdump-lzo-non-mmap ;;
	esac
	t0=$(now)
	/bin/crashkit capture -$c -d 31 $opt /proc/vmcore "$OUT/$out" 2>> "$OUT/crashkit.log" || rc=1
	echo "@@CRASHKIT $out start=$t0 end=$(now)" >> "$OUT/crashkit.log"
done
exit $rc
EOF
chmod 755 "$tree/lab-hook-capture"
cpio_file=$CK_TMP/crashkit-hook.cpio
hook_cpio "$tree" > "$cpio_file"
echo "# hook cpio: $(stat -c %s "$cpio_file") bytes ($(du -sh "$tree/bin/crashkit" | cut -f1) crashkit, $(du -sh "$tree/lib" | cut -f1) libraries)"

t0=$SECONDS
if ! lab=$("$top/tests/lab/lab.sh" --extra-initrd "$cpio_file" 2> "$CK_TMP/lab-hook.err" | tail -n 1) ||
   [ ! -f "$lab/DONE" ]; then
	fail "capture kernel: lab run with the crashkit hook" "$(tail -3 "$CK_TMP/lab-hook.err" | tr '\n' '|')"
	exit 0
fi
echo "# lab run with the hook: $lab ($((SECONDS - t0)) s)"
unset FILTER_MAKEDUMPFILE_VERSION	# this run's, not the cached lab's
. "$lab/truth.env"
if [ "${HOOK_CAPTURE_RC:-x}" = 0 ]; then
	pass "capture kernel: crashkit capture -z and -c ran on /proc/vmcore (rc 0)"
else
	fail "capture kernel: crashkit capture ran" "rc ${HOOK_CAPTURE_RC:-none}: $(tail -c 300 "$lab/crashkit.log" 2>/dev/null)"
fi
grep '^capture:\|^@@CRASHKIT' "$lab/crashkit.log" 2>/dev/null | sed 's/^/# /'
# makedumpfile's time in the same kernel, for the record
sed -n 's/^@@STEP \(vmcore.kdump-zlib\|vmcore.kdump-lzo\) rc=0 start=\([0-9.]*\) end=\([0-9.]*\)/# makedumpfile \1 start=\2 end=\3/p' "$lab/capture.log"

oracle="$lab/dmesg.makedumpfile.txt"
dargs=$(ck_dmesg_args "$oracle")	# with or without the caller column, as the oracle
# -l twice: through mmap windows of /proc/vmcore (the default) and with
# read() (--non-mmap); both must hold the same pages.
for out in crashkit.kdump-zstd crashkit.kdump-zlib crashkit.kdump-lzo crashkit.kdump-lzo-non-mmap; do
	f="$lab/$out"
	[ -s "$f" ] || { fail "capture kernel: $out written"; continue; }
	if "$CK" dmesg "$dargs" "$f" 2>&1 | cmp -s - "$oracle"; then pass "capture kernel: $out: dmesg equals makedumpfile --dump-dmesg of /proc/vmcore"
	else fail "capture kernel: $out: dmesg equals makedumpfile's"; fi
	if r=$("$tools/ck-cmp-pages" "$f" "$lab/vmcore.elf" 2>&1); then pass "capture kernel: $out: every page equals vmcore.elf's ($r)"
	else fail "capture kernel: $out: pages equal vmcore.elf's" "$(echo "$r" | tail -2 | tr '\n' '|')"; fi
	# every difference explained page by page (common.sh explain_set_diff),
	# against the makedumpfile that wrote this run's vmcore.kdump-zlib
	"$tools/ck-cmp-pages" --set-all "$f" "$lab/vmcore.kdump-zlib" > "$CK_TMP/hook.set"
	r=$(tail -n 1 "$CK_TMP/hook.set")
	explain_set_diff "$lab/vmcore.elf" "$CK_TMP/hook.set" "${FILTER_MAKEDUMPFILE_VERSION:-}"
	if [ -z "$expl_bad" ]; then pass "capture kernel: $out keeps makedumpfile's page set ($r; explained: $expl_note)"
	else fail "capture kernel: $out keeps makedumpfile's page set" "$r; first unexplained: $expl_bad"; fi
done

if [ -s "$lab/vmlinux" ] && have_crash && [ -s "$lab/crashkit.kdump-zlib" ]; then
	printf 'sys\nlog\nps\nquit\n' > "$CK_TMP/hook.cmds"
	if ! crash_run "$CK_TMP/hook.mdf" "$lab/vmlinux" "$lab/vmcore.kdump-zlib" < "$CK_TMP/hook.cmds"; then
		# crash cannot read this kernel: the same failure on crashkit's output
		mdf_error=$crash_error
		if crash_run "$CK_TMP/hook.ck" "$lab/vmlinux" "$lab/crashkit.kdump-zlib" < "$CK_TMP/hook.cmds"; then
			fail "capture kernel: crash fails on crashkit's output as on makedumpfile's" "reads crashkit's but not makedumpfile's ($mdf_error)"
		elif [ "$crash_error" = "$mdf_error" ]; then
			pass "capture kernel: crash fails on crashkit's output exactly as on makedumpfile's ($mdf_error)"
		else
			fail "capture kernel: crash fails on crashkit's output as on makedumpfile's" "$crash_error vs $mdf_error"
		fi
	elif ! crash_run "$CK_TMP/hook.ck" "$lab/vmlinux" "$lab/crashkit.kdump-zlib" < "$CK_TMP/hook.cmds"; then
		fail "capture kernel: crash reads crashkit's output as makedumpfile's" "$crash_error"
	elif [ "$(wc -l < "$CK_TMP/hook.ck")" -gt 50 ] && cmp -s "$CK_TMP/hook.ck" "$CK_TMP/hook.mdf"; then
		pass "capture kernel: crash sys, log and ps identical on crashkit's and makedumpfile's output ($(wc -l < "$CK_TMP/hook.ck") lines, $(crash_version))"
	else
		fail "capture kernel: crash sys/log/ps identical" "$(diff "$CK_TMP/hook.mdf" "$CK_TMP/hook.ck" | head -5 | tr '\n' '|')"
	fi
else
	skip "capture kernel: crash" "no vmlinux, $CK_CRASH or output"
fi

# Runs of older binaries are dead weight (2.6 GB each): keep the newest two.
ls -dt "$(dirname "$lab")"/run-x* 2>/dev/null | tail -n +3 | while read -r old; do
	if [ -f "$old/.crashkit-lab" ]; then rm -rf "$old"; fi
done
rm -rf "$tree" "$cpio_file" "$CK_TMP"/hook.*
