#!/bin/sh
# shellcheck shell=dash disable=SC1091  # busybox ash; /lab/* exist in the guest only
# /init of the first kernel: set up known state, then crash through kdump.
# With lab.mode=qmp on the command line it sets up the same state but
# waits for the host to take a QEMU dump-guest-memory dump instead.
. /lab/common.sh
mount_basics

mode=crash
case " $(cat /proc/cmdline) " in *" lab.mode=qmp "*) mode=qmp ;; esac
# lab.sh --crash KIND: crash that way (crash_kind below), not by sysrq c.
kind=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^lab\.crash=//p')

load_modules test
# qemu_fw_cfg hands the guest's VMCOREINFO note to QEMU's vmcoreinfo
# device; without it QEMU's dumps carry no VMCOREINFO.
load_modules fwcfg

# Named processes whose comm, CPU, state and open files tests can check.
/bin/ckproc busy ck_busy 1 &
busy_pid=$!
sleep_pids=
for i in 1 2 3; do
	/bin/ckproc sleep "ck_sleep$i" &
	sleep_pids="$sleep_pids $!"
done
# shellcheck disable=SC2086  # one argument per path
/bin/ckproc files ck_files $FILES_PATHS &
files_pid=$!
fill_pid=
if [ "${FILL_MIB:-0}" -gt 0 ]; then
	/bin/ckproc fill ck_fill "$FILL_MIB" &
	fill_pid=$!
fi
# Data that dump level 31 keeps: a brd RAM disk written with O_DIRECT.
if [ "${FILL_BRD_MIB:-0}" -gt 0 ]; then
	insmod /lib/modules/lab/brd.ko rd_nr=1 rd_size=$((FILL_BRD_MIB * 1024)) ||
		say "WARN insmod brd failed"
	/bin/ckproc fill ck_fillbrd "$FILL_BRD_MIB" /dev/ram0 &
fi
# Report and freeze the state only once every helper has named itself,
# opened its files and filled its memory.
wait_until() {
	local i=0
	until "$@"; do
		[ $i -lt 600 ] || { say "WARN timed out waiting for: $*"; return 0; }
		sleep 0.1
		i=$((i + 1))
	done
}
has_comm() { [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]; }
wait_until has_comm "$busy_pid" ck_busy
n=1
for pid in $sleep_pids; do
	wait_until has_comm "$pid" "ck_sleep$n"
	n=$((n + 1))
done
# shellcheck disable=SC2086  # count the paths
set -- $FILES_PATHS
# ckproc puts the files at fds 10, 11, ...; wait for the last one.
wait_until [ -e "/proc/$files_pid/fd/$((9 + $#))" ]
[ -z "$fill_pid" ] || wait_until [ -e /tmp/ck_fill.ready ]
[ "${FILL_BRD_MIB:-0}" = 0 ] || wait_until [ -e /tmp/ck_fillbrd.ready ]

# A line that exists only in this boot's kernel log.
marker="crashkit-lab marker $(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "$marker" > /dev/kmsg

say "MODE=$mode"
say "MARKER=$marker"
say "KERNEL_RELEASE=$(uname -r)"
say "KERNEL_VERSION=$(uname -v)"
say "BUSY_PID=$busy_pid"
say "SLEEP_PIDS=${sleep_pids# }"
say "FILES_PID=$files_pid"
say "FILL_PID=$fill_pid"
say "NR_CPUS=$(grep -c '^processor' /proc/cpuinfo)"
say "MEMTOTAL_KB=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)"
say "LOADED_MODULES=$(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
say "CRASHKERNEL_SIZE=$(cat /sys/kernel/kexec_crash_size)"
# Where KASLR put the kernel this boot (root may read real addresses).
say "KERNEL_TEXT=$(sed -n 's/^\([0-9a-f]*\) T _text$/\1/p' /proc/kallsyms)"

if [ -x /lab-hook-first ]; then
	MODE=$mode /lab-hook-first
	say "HOOK_FIRST_RC=$?"
fi

# crash_kind KIND: make KIND's report a panic (sysctls and an RCU
# parameter, short timeouts so each run stays short), load ck_crashmod and
# write KIND to it from a task named ck_crash on CPU 0.
crash_kind() {
	local set="kernel.panic_on_oops=1"
	case $1 in
	warn) set="$set kernel.panic_on_warn=1" ;;
	softlockup) set="$set kernel.softlockup_panic=1 kernel.watchdog_thresh=1" ;;
	hung) set="$set kernel.hung_task_panic=1 kernel.hung_task_timeout_secs=2" ;;
	oom) set="$set vm.panic_on_oom=1" ;;
	rcu) set="$set kernel.panic_on_rcu_stall=1" ;;
	esac
	for kv in $set; do
		echo "${kv#*=}" > "/proc/sys/$(echo "${kv%%=*}" | tr . /)" ||
			say "WARN cannot set $kv"
	done
	if [ "$1" = rcu ]; then
		echo 3 > /sys/module/rcupdate/parameters/rcu_cpu_stall_timeout ||
			say "WARN cannot set rcu_cpu_stall_timeout"
		set="$set rcupdate.rcu_cpu_stall_timeout=3"
	fi
	say "CRASH_SYSCTLS=$set"
	insmod /lib/modules/lab/ck_crashmod.ko || { say "ERROR insmod ck_crashmod failed"; halt_guest; }
	sleep 1
	/bin/ckproc crash ck_crash 0 /proc/ck_crashmod "$1"
	say "ERROR still running after crash $1"
	halt_guest
}

if [ "$mode" = qmp ]; then
	say READY
	# The host dumps, then quits QEMU; nothing more to do.
	while :; do sleep 3600; done
fi

if ! kexec -p /vmlinuz --initrd=/capture.cpio --append="$CAPTURE_APPEND"; then
	say "ERROR kexec -p failed"
	halt_guest
fi
say "KEXEC_CRASH_LOADED=$(cat /sys/kernel/kexec_crash_loaded)"
# Give the serial line time to drain the lines above before the panic.
sleep 1
[ -z "$kind" ] || [ "$kind" = sysrq ] || crash_kind "$kind"
# ckproc panics the kernel from CPU 0 via sysrq 'c', as a task named
# ck_crash; the panic's "CPU: 0 PID: N Comm: ck_crash" line gives its pid.
/bin/ckproc crash ck_crash 0
say "ERROR still running after sysrq c"
halt_guest
