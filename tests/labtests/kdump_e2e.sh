#!/usr/bin/env bash
# crashkit's own kdump path end to end (tests/lab/kdump_e2e.sh, docs/kdump.md
# "The e2e lab"): `crashkit kdump load` in the first kernel, sysrq c, the
# capture kernel boots crashkit's initramfs (crashkit as /init, no busybox,
# makedumpfile or kexec-tools) and `crashkit kdump save` writes the dump
# directory; checked here: the triage files, info.json, a vmcore crashkit and
# crash open with the crash in its log.  Then the full-disk, ssh and HTTP
# targets.
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
		fail "e2e: crashkit kdump initramfs" "$(tail -1 "$CK_TMP/e2e-ir.txt")"
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

# run TARGET: one e2e run; sets $run (the dir) and sources its e2e.env.
run_e2e() {
	run=$("$top/tests/lab/kdump_e2e.sh" --kernel "$series" --bin "$bin" --target "$1" 2> "$CK_TMP/e2e-$1.err" | tail -1)
	if [ -z "$run" ] || [ ! -f "$run/DONE" ]; then
		fail "e2e $1: the run" "$(tail -2 "$CK_TMP/e2e-$1.err" | tr '\n' ' ')"
		return 1
	fi
	# shellcheck disable=SC1091
	. "$run/e2e.env"
	pass "e2e $1: crash, capture kernel, save ($run)"
}

check_dump_dir() {
	local t=$1 d=$DUMPDIR
	if [ -n "$d" ] && [ -d "$d" ]; then pass "e2e $t: dump directory $(basename "$d")"
	else fail "e2e $t: no dump directory" "$run"; return 1; fi
	check "e2e $t: panic.txt has the sysrq panic" grep -q 'Kernel panic - not syncing: sysrq triggered crash' "$d/panic.txt"
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
	if grep -q 'sysrq triggered crash' <<< "$out" && grep -qF "$MARKER" <<< "$out"; then
		pass "e2e $t: crashkit dmesg of the vmcore has the marker and the sysrq panic"
	else
		fail "e2e $t: crashkit dmesg of the vmcore" "$(tail -2 <<< "$out" | tr '\n' ' ')"
	fi
	if [ "$series" = 7 ]; then
		skip "e2e $t: crash opens the vmcore" "crash 9.0.2 reads 6.1 and 6.12 only"
	elif ! have_crash; then
		skip "e2e $t: crash opens the vmcore" "no crash"
	elif crash_run "$CK_TMP/e2e-crash.out" "$CK_LAB/vmlinux" "$v" <<< $'sys\nlog\nq' &&
		grep -q 'PANIC: .*sysrq triggered crash' "$CK_TMP/e2e-crash.out"; then
		pass "e2e $t: $(crash_version) opens the vmcore: PANIC .. sysrq triggered crash"
	else
		fail "e2e $t: crash on the vmcore" "$crash_error"
	fi
}

kver=$KVER
check_initramfs "${CRASHKIT_CACHE:-$HOME/.cache/crashkit}/kernel/$kver/root" "$kver"
default_targets=local
[ "$series" = 6.1 ] && default_targets="local full ssh http"
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
