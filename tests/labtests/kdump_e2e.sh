#!/usr/bin/env bash
# crashkit's own kdump path end to end (tests/lab/kdump_e2e.sh, docs/kdump.md
# "The e2e lab"): `crashkit kdump load` in the first kernel, sysrq c, the
# capture kernel boots crashkit's initramfs (crashkit as /init, no busybox,
# makedumpfile or kexec-tools) and `crashkit kdump save` writes the dump
# directory; checked here: the triage files, info.json, a vmcore crashkit and
# crash open with the crash in its log.  Then the full-disk, ssh and HTTP
# targets, and (where ck_crashmod.ko builds) a NULL dereference in a module
# instead of sysrq c: the oops, the module's frame, triage's culprit.
#   CK_E2E_TARGETS="local full ssh http" picks the runs (each is a QEMU boot
#   of 1-2 min under TCG, cached until the binaries change, so every change
#   reruns them).  The default: all four on 6.1, the local target on the
#   other series (the targets' code does not depend on the kernel; the
#   capture kernel and its initramfs do).
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=$(dirname "$CK_RELEASE")
series=${CK_KSERIES:-6.1}

# The initramfs this crashkit builds for the kernel: what it carries.
check_initramfs() {
	local kroot=$1 kver=$2 ir=$CK_TMP/e2e-ir.cpio list
	printf 'target %s\n' "$CK_TMP/e2e-target" > "$CK_TMP/e2e.conf"
	mkdir -p "$CK_TMP/e2e-target"
	if ! "$bin/crashkit-kdump" kdump initramfs -o "$ir" --root "$kroot" -K "$kver" \
		--config "$CK_TMP/e2e.conf" --compress none > "$CK_TMP/e2e-ir.txt" 2>&1; then
		# In a chroot whose root is a plain directory (tests/minbase.sh)
		# no mount the kernel lists holds the target, and the initramfs
		# cannot say which filesystem to mount: the error is right.
		if ! awk '$5 == "/" { found = 1 } END { exit !found }' /proc/self/mountinfo &&
			grep -q 'no mount holds' "$CK_TMP/e2e-ir.txt"; then
			skip "e2e: crashkit kdump initramfs" "/ is not a mount here (a chroot): $(tail -1 "$CK_TMP/e2e-ir.txt")"
		else
			fail "e2e: crashkit kdump initramfs" "$(tail -1 "$CK_TMP/e2e-ir.txt")"
		fi
		return
	fi
	list=$(cpio -it < "$ir" 2> /dev/null)
	if grep -qx 'init' <<< "$list" && grep -qx 'usr/bin/crashkit' <<< "$list" &&
		! grep -Eq '(^|/)(busybox|sh|makedumpfile|kexec)$' <<< "$list"; then
		pass "e2e: the initramfs has crashkit as /init, no shell, busybox, makedumpfile or kexec"
	else
		fail "e2e: initramfs contents" "$(tr '\n' ' ' <<< "$list" | head -c 300)"
	fi
	# every NEEDED library of crashkit is in it
	local missing=
	for so in $(readelf -d "$CK_RELEASE" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		grep -q "/$so\$" <<< "$list" || missing+=" $so"
	done
	if [ -z "$missing" ]; then pass "e2e: crashkit's NEEDED libraries are in the initramfs"
	else fail "e2e: libraries missing from the initramfs" "$missing"; fi
}

# run TARGET [KIND]: one e2e run (crashing with sysrq c, or KIND through
# ck_crashmod); sets $run (the dir) and sources its e2e.env.  Returns 1 on
# failure, 3 when the module cannot be built for this kernel.
run_e2e() {
	local rc=0
	"$top/tests/lab/kdump_e2e.sh" --kernel "$series" --bin "$bin" --target "$1" \
		--crash "${2:-sysrq}" > "$CK_TMP/e2e-$1.out" 2> "$CK_TMP/e2e-$1.err" || rc=$?
	run=$(tail -1 "$CK_TMP/e2e-$1.out")
	if [ $rc = 3 ]; then
		skip "e2e $1 ${2:-}: the run" "$(grep -m1 'gcc' "$CK_TMP/e2e-$1.err" | sed 's/^crashmod: //')"
		return 3
	fi
	if [ -z "$run" ] || [ ! -f "$run/DONE" ]; then
		fail "e2e $1: the run" "$(tail -2 "$CK_TMP/e2e-$1.err" | tr '\n' ' ')"
		return 1
	fi
	# shellcheck disable=SC1091
	. "$run/e2e.env"
	pass "e2e $1${2:+ $2}: crash, capture kernel, save ($run)"
}

check_dump_dir() {
	local t=$1 d=$DUMPDIR
	if [ -n "$d" ] && [ -d "$d" ]; then pass "e2e $t: dump directory $(basename "$d")"
	else fail "e2e $t: no dump directory" "$run"; return 1; fi
	check "e2e $t: panic.txt has the panic ($panic_re)" grep -q "$panic_re" "$d/panic.txt"
	check "e2e $t: dmesg.txt has this boot's marker" grep -qF "$MARKER" "$d/dmesg.txt"
	check "e2e $t: info.json names the crashed system (its os-release)" \
		jq -e --arg m "$OS_RELEASE_MARKER" '.os_release.CK_E2E_MARKER == $m and .kernel.release == "'"$KVER"'"' "$d/info.json"
	check "e2e $t: save exit code $([ "$t" = full ] && echo 3 || echo 0)" \
		test "$SAVE_RC" = "$([ "$t" = full ] && echo 3 || echo 0)"
	check "e2e $t: the capture kernel reported its memory" test -n "$CAPTURE_MIN_FREE_KB"
}

check_vmcore() {
	local t=$1 v=$DUMPDIR/vmcore out
	check "e2e $t: info.json complete" jq -e '.complete == true' "$DUMPDIR/info.json"
	check "e2e $t: crashkit info opens the vmcore" "$CK_RELEASE" info "$v"
	out=$("$CK_RELEASE" dmesg "$v" 2>&1)
	if grep -q "$panic_re" <<< "$out" && grep -qF "$MARKER" <<< "$out"; then
		pass "e2e $t: crashkit dmesg of the vmcore has the marker and the panic"
	else
		fail "e2e $t: crashkit dmesg of the vmcore" "$(tail -2 <<< "$out" | tr '\n' ' ')"
	fi
	if [ "$series" = 7 ]; then
		skip "e2e $t: crash opens the vmcore" "crash 9.0.2 reads 6.1 and 6.12 only"
	elif ! have_crash; then
		skip "e2e $t: crash opens the vmcore" "no crash"
	elif crash_run "$CK_TMP/e2e-crash.out" "$CK_LAB/vmlinux" "$v" <<< $'sys\nbt\nq' &&
		grep -q "PANIC: .*$crash_panic" "$CK_TMP/e2e-crash.out" &&
		grep -q "$crash_bt" "$CK_TMP/e2e-crash.out"; then
		pass "e2e $t: $(crash_version) opens the vmcore: PANIC .. $crash_panic, bt has $crash_bt"
	else
		fail "e2e $t: crash on the vmcore" "$crash_error"
	fi
}

# The crash module's NULL read (tests/lab/crashmod): the oops, panic on
# oops, the module in the backtrace and as triage's culprit.
check_null() {
	local v=$DUMPDIR/vmcore out
	check "e2e null: panic.txt has the oops and the module frame" \
		grep -q 'ck_crashmod_null' "$DUMPDIR/panic.txt"
	out=$("$CK_BUILD/crashkit" triage "$v" --json 2> "$CK_TMP/e2e-triage.err")
	if jq -e '(.class | test("null")) and (.culprit | tostring | test("ck_crashmod_null"))' <<< "$out" > /dev/null; then
		pass "e2e null: triage of the saved vmcore: $(jq -r .signature <<< "$out")"
	else
		fail "e2e null: triage of the saved vmcore" "$(head -c 300 <<< "$out") $(tail -1 "$CK_TMP/e2e-triage.err")"
		return
	fi
	# The same crash through lab.sh's path (another boot, KASLR, init, task
	# name and capture): the signature is the crash's, not the run's.
	local lab=$CK_LAB/../run-crash-null-1 sig
	[ -f "$lab/vmcore.kdump-zlib" ] || { skip "e2e null: signature as lab.sh's null crash" "no $lab"; return; }
	sig=$("$CK_BUILD/crashkit" triage "$lab/vmcore.kdump-zlib" --json 2> /dev/null | jq -r .signature)
	check "e2e null: signature equals lab.sh's null crash ($sig)" test "$sig" = "$(jq -r .signature <<< "$out")"
}

kver=$KVER
check_initramfs "${CRASHKIT_CACHE:-$HOME/.cache/crashkit}/kernel/$kver/root" "$kver"
default_targets=local
[ "$series" = 6.1 ] && default_targets="local full ssh http"
panic_re='Kernel panic - not syncing: sysrq triggered crash'
crash_panic='sysrq triggered crash' crash_bt=sysrq_handle_crash
for t in ${CK_E2E_TARGETS:-$default_targets}; do
	run_e2e "$t" || continue
	case $t in
	local)
		check_dump_dir local && check_vmcore local
		echo "# [$series] capture kernel: MemTotal ${CAPTURE_MEMTOTAL_KB} kB, free before save ${CAPTURE_FREE_BEFORE_KB} kB, lowest ${CAPTURE_MIN_FREE_KB} kB; save maxrss ${SAVE_MAXRSS_KB} kB; initramfs ${INITRAMFS_BYTES} B"
		;;
	full)
		check_dump_dir full || continue
		check "e2e full: the dump is flagged incomplete" jq -e '.complete == false' "$DUMPDIR/info.json"
		check "e2e full: no complete vmcore" test ! -e "$DUMPDIR/vmcore"
		;;
	http|ssh)
		check_dump_dir "$t" && check_vmcore "$t"
		;;
	esac
done

# A NULL dereference in a module, local target (not on 7.x: Debian builds
# it with gcc-14, which bookworm lacks, so ck_crashmod cannot be built).
if [ "${CK_E2E_NULL:-1}" = 1 ] && run_e2e local null; then
	panic_re='BUG: kernel NULL pointer dereference'
	crash_panic='Oops: ' crash_bt='exception RIP: ck_crashmod_null'
	check_dump_dir null && check_vmcore null && check_null
fi
