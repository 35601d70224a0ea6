#!/usr/bin/env bash
# crashkit kdump check | recommend (docs/kdump.md) over fixture trees made
# here (--root: /proc, /sys and /boot of a pretend machine), every verdict
# and its exit code, bad and missing files, --json through jq; the lab's
# real Debian configs when the cache has them; this machine's real /proc.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
d=$CK_TMP/kdump
rm -rf "$d"
mkdir -p "$d"

# A config with what kdump needs (6.9+ names), as Debian's have it.
good_config() {
	printf '%s\n' '# Linux/x86 6.99.0 Kernel Configuration' CONFIG_KEXEC=y CONFIG_KEXEC_FILE=y \
		CONFIG_KEXEC_CORE=y CONFIG_VMCORE_INFO=y CONFIG_CRASH_RESERVE=y CONFIG_CRASH_DUMP=y \
		CONFIG_PROC_VMCORE=y CONFIG_SYSFS=y CONFIG_RELOCATABLE=y CONFIG_DEBUG_INFO_BTF=y \
		CONFIG_KALLSYMS=y CONFIG_KALLSYMS_ALL=y CONFIG_UNWINDER_ORC=y CONFIG_PROC_KCORE=y \
		CONFIG_RANDOMIZE_BASE=y CONFIG_KEXEC_SIG=y
}

# mkroot DIR CMDLINE CRASH_SIZE LOADED [MEMTOTAL_KB]: a pretend machine
# (CRASH_SIZE/LOADED "-": the file is absent).
mkroot() {
	local r=$1
	mkdir -p "$r/proc/sys/kernel" "$r/sys/kernel" "$r/boot"
	echo 6.99.0-test > "$r/proc/sys/kernel/osrelease"
	good_config > "$r/boot/config-6.99.0-test"
	printf '%s\n' "$2" > "$r/proc/cmdline"
	[ "$3" = - ] || echo "$3" > "$r/sys/kernel/kexec_crash_size"
	[ "$4" = - ] || echo "$4" > "$r/sys/kernel/kexec_crash_loaded"
	printf 'MemTotal:       %s kB\nMemFree:          1000 kB\n' "${5:-8000000}" > "$r/proc/meminfo"
	echo 176 > "$r/proc/sys/kernel/sysrq"
	printf '00000000-00000fff : Reserved\n00100000-bfffffff : System RAM\n' > "$r/proc/iomem"
	[ "$3" != - ] && [ "$3" != 0 ] &&
		printf '  2a000000-%x : Crash kernel\n' $((0x2a000000 + $3 - 1)) >> "$r/proc/iomem"
	printf 'ext4 1048576 1 - Live 0x0\n' > "$r/proc/modules"
}

# verdict NAME WANT_EXIT WANT_VERDICT_REGEX ARGS...: check's exit code and
# verdict line.
verdict() {
	local name=$1 want=$2 re=$3; shift 3
	local rc=0
	"$CK" kdump check "$@" > "$d/out" 2> "$d/err" || rc=$?
	local v
	v=$(sed -n 's/^verdict: *//p' "$d/out")
	if [ "$rc" -eq "$want" ] && printf '%s' "$v" | grep -qE -- "$re" && [ ! -s "$d/err" ]; then
		pass "kdump check: $name (exit $rc): $v"
	else
		fail "kdump check: $name" "exit $rc (want $want), verdict '$v', stderr $(head -c 200 "$d/err")"
	fi
}

mkroot "$d/ready" "BOOT_IMAGE=/vmlinuz ro crashkernel=256M quiet" 268435456 1
verdict "ready" 0 '^ready: 256M reserved, capture kernel loaded$' --root "$d/ready"
grep -q '^  CONFIG_CRASH_DUMP  *y  *needed ' "$d/out" && grep -q '^crashkernel=  *256M$' "$d/out" \
	&& grep -q '^kernel.sysrq:  *176 ' "$d/out" && grep -q '^/proc/iomem:  *256 MiB' "$d/out" \
	&& pass "kdump check: options, crashkernel=, sysrq and iomem lines" \
	|| fail "kdump check: report lines" "$(head -c 600 "$d/out")"
mkroot "$d/notloaded" "crashkernel=256M" 268435456 0
verdict "reserved, nothing loaded" 1 '^not ready: 256M reserved but no capture kernel loaded' \
	--root "$d/notloaded"
mkroot "$d/failed" "crashkernel=64G-:1G" 0 0
verdict "crashkernel= reserved nothing" 1 '^not ready: crashkernel=64G-:1G reserved nothing' \
	--root "$d/failed"
mkroot "$d/none" "ro quiet" 0 0
verdict "no crashkernel=: says what to add" 1 \
	'^not ready: no crashkernel= on the command line: add crashkernel=512M and reboot' --root "$d/none"
mkroot "$d/small" "ro quiet" 0 0 1500000
verdict "no crashkernel= under 2 GiB: the table's smallest" 1 'add crashkernel=320M' --root "$d/small"
# Only /proc/iomem knows (no kexec sysfs files: an old kernel, or CONFIG_SYSFS off).
mkroot "$d/iomem" "crashkernel=128M" 134217728 - && rm "$d/iomem/sys/kernel/kexec_crash_size"
verdict "reservation from /proc/iomem, loaded state unknown" 1 '^not ready: 128M reserved but no' \
	--root "$d/iomem"
grep -q "^loaded: *unknown ('$d/iomem/sys/kernel/kexec_crash_loaded': No such file" "$d/out" \
	&& pass "kdump check: a missing sysfs file is named" || fail "kdump check: missing sysfs" \
	"$(grep loaded "$d/out")"
# The new sysfs names (Linux 6.19: /sys/kernel/kexec/) win over the old.
mkroot "$d/newsysfs" "crashkernel=256M" 0 0 && mkdir "$d/newsysfs/sys/kernel/kexec" &&
	echo 268435456 > "$d/newsysfs/sys/kernel/kexec/crash_size" &&
	echo 1 > "$d/newsysfs/sys/kernel/kexec/crash_loaded"
verdict "/sys/kernel/kexec/ read first" 0 '^ready: 256M' --root "$d/newsysfs"

# Configs with options removed: the verdict names what is missing.
for opt in CRASH_DUMP PROC_VMCORE KEXEC_CORE RELOCATABLE SYSFS; do
	good_config | grep -v "^CONFIG_$opt=" > "$d/no-$opt.config"
	verdict "config without $opt" 1 "^not ready: the kernel is built without CONFIG_$opt " \
		--root "$d/ready" --config "$d/no-$opt.config"
done
good_config | grep -v '^CONFIG_KEXEC=\|^CONFIG_KEXEC_FILE=' > "$d/no-load.config"
verdict "config without KEXEC nor KEXEC_FILE" 1 'without CONFIG_KEXEC or CONFIG_KEXEC_FILE' \
	--root "$d/ready" --config "$d/no-load.config"
good_config | grep -v '^CONFIG_KEXEC=' > "$d/file-only.config"
verdict "KEXEC_FILE alone is enough" 0 '^ready' --root "$d/ready" --config "$d/file-only.config"
good_config | sed 's/^CONFIG_VMCORE_INFO=y/CONFIG_CRASH_CORE=y/' > "$d/old.config"
verdict "CRASH_CORE (before 6.9) is VMCORE_INFO's old name" 0 '^ready' --root "$d/ready" \
	--config "$d/old.config"
good_config | grep -v '^CONFIG_VMCORE_INFO=' > "$d/no-vmcoreinfo.config"
verdict "neither CRASH_CORE nor VMCORE_INFO" 1 'CONFIG_CRASH_CORE or CONFIG_VMCORE_INFO' \
	--root "$d/ready" --config "$d/no-vmcoreinfo.config"
# /proc/config.gz when /boot has none.
mkroot "$d/gz" "crashkernel=256M" 268435456 1 && rm "$d/gz/boot/config-6.99.0-test" &&
	good_config | gzip > "$d/gz/proc/config.gz"
verdict "/proc/config.gz read through zlib" 0 '^ready' --root "$d/gz"
grep -q "^config: *$d/gz/proc/config.gz$" "$d/out" && pass "kdump check: names /proc/config.gz" \
	|| fail "kdump check: config source" "$(grep '^config' "$d/out")"

# The lab's real Debian configs (6.1: CRASH_CORE; 6.12, 7.3: VMCORE_INFO).
n=0
for cfg in "$HOME"/.cache/crashkit/kernel/*/root/boot/config-*; do
	[ -f "$cfg" ] || continue
	n=$((n + 1))
	k=${cfg##*/config-}
	verdict "Debian $k config" 0 '^ready' --root "$d/ready" --config "$cfg"
	grep -v '^CONFIG_CRASH_DUMP=\|^CONFIG_PROC_VMCORE=' "$cfg" > "$d/deb.config"
	verdict "Debian $k config without CRASH_DUMP, PROC_VMCORE" 1 \
		'without CONFIG_CRASH_DUMP, CONFIG_PROC_VMCORE ' --root "$d/ready" --config "$d/deb.config"
done
[ "$n" -gt 0 ] || skip "kdump check: the lab's Debian configs" "none in ~/.cache/crashkit/kernel"

# Bad and missing files: one line, naming the path, exit 1.
head -c 4096 /dev/urandom > "$d/binary.config"
printf 'CONFIG_KEXEC=y\0garbage' > "$d/nul.config"
printf 'hello\nworld\n' > "$d/text.config"
printf 'not gzip' > "$d/bad.config.gz"
expect_clean_error "kdump check: a binary config" "$d/binary.config" kdump check --root "$d/ready" \
	--config "$d/binary.config"
expect_clean_error "kdump check: a config with NUL" "$d/nul.config" kdump check --config "$d/nul.config"
expect_clean_error "kdump check: text that is no config" "$d/text.config" kdump check \
	--config "$d/text.config"
expect_clean_error "kdump check: a .gz that is not gzip" "$d/bad.config.gz" kdump check \
	--config "$d/bad.config.gz"
expect_clean_error "kdump check: --config FILE missing" "$d/nope.config" kdump check \
	--config "$d/nope.config"
expect_clean_error "kdump check: --config a directory" "$d" kdump check --config "$d"
mkdir -p "$d/empty"
expect_clean_error "kdump check: no config anywhere names both places" \
	"$d/empty/boot/config-" kdump check --root "$d/empty"
err=$("$CK" kdump check --root "$d/empty" 2>&1)
printf '%s' "$err" | grep -qF "$d/empty/proc/config.gz" && pass "kdump check: ... and config.gz" \
	|| fail "kdump check: no config" "$err"
expect_clean_error "kdump recommend: no meminfo" "$d/empty/proc/meminfo" kdump recommend \
	--root "$d/empty"
rc=0; "$CK" kdump check --root "$d/ready" extra > /dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] && pass "kdump check: an operand is a usage error (2)" || fail "kdump check operand" "exit $rc"
rc=0; "$CK" kdump recommend --config x > /dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] && pass "kdump recommend: --config is check's (2)" || fail "kdump recommend --config" "exit $rc"

# --json: one object jq reads, the same verdict and exit code.
rc=0; js=$("$CK" kdump check --root "$d/none" --json) || rc=$?
if [ "$rc" = 1 ] && [ "$(jq -r '.verdict' <<<"$js")" = no-reservation ] \
	&& [ "$(jq -r '.ready' <<<"$js")" = false ] && [ "$(jq -r '.suggest' <<<"$js")" = crashkernel=512M ] \
	&& [ "$(jq '.options | length' <<<"$js")" = 17 ] && [ "$(jq -r '.crashkernel' <<<"$js")" = null ] \
	&& [ "$(jq -r '.sysrq' <<<"$js")" = 176 ]; then
	pass "kdump check --json: verdict, suggestion, options"
else
	fail "kdump check --json" "exit $rc: $(head -c 400 <<<"$js")"
fi
js=$("$CK" kdump check --root "$d/ready" --config "$d/no-load.config" --json)
[ "$(jq -c '.missing' <<<"$js")" = '["CONFIG_KEXEC|CONFIG_KEXEC_FILE"]' ] \
	&& [ "$(jq -r '.options[] | select(.name == "KEXEC") | .value' <<<"$js")" = null ] \
	&& pass "kdump check --json: missing and unset options" \
	|| fail "kdump check --json missing" "$(jq -c .missing <<<"$js")"
js=$("$CK" kdump check --root "$d/ready" --json) && [ "$(jq -r .ready <<<"$js")" = true ] \
	&& [ "$(jq -r .crash_size <<<"$js")" = 268435456 ] && [ "$(jq -r .crash_loaded <<<"$js")" = true ] \
	&& pass "kdump check --json: ready, exit 0" || fail "kdump check --json ready" "$js"

# recommend: the three policies for this RAM and the estimate.
# A bzImage header: HdrS at 0x202, protocol 2.15, init_size 48 MiB at 0x260.
{ head -c $((0x202)) /dev/zero; printf 'HdrS\x0f\x02'; head -c $((0x260 - 0x208)) /dev/zero
  printf '\x00\x00\x00\x03'; head -c 64 /dev/zero; } > "$d/ready/boot/vmlinuz-6.99.0-test"
js=$("$CK" kdump recommend --root "$d/ready" --json)
if [ "$(jq -c '[.policies[].size]' <<<"$js")" = "[$((512 << 20)),$((256 << 20)),$((128 << 20))]" ] \
	&& [ "$(jq -r .estimate.kernel <<<"$js")" = $((48 << 20)) ] \
	&& [ "$(jq -r .estimate.total <<<"$js")" = $((176 << 20)) ] \
	&& [ "$(jq -r .crashkernel <<<"$js")" = crashkernel=512M ]; then
	pass "kdump recommend --json: 8 GB: 512M / 256M / 128M, estimate 176M, recommends 512M"
else
	fail "kdump recommend --json" "$(head -c 600 <<<"$js")"
fi
out=$("$CK" kdump recommend --root "$d/ready")
grep -qx '  GRUB_CMDLINE_LINUX_DEFAULT="... crashkernel=512M"' <<<"$out" \
	&& grep -q 'init_size of .*vmlinuz-6.99.0-test' <<<"$out" && grep -q ',cma' <<<"$out" \
	&& pass "kdump recommend: GRUB line, kernel from init_size, the ,cma note" \
	|| fail "kdump recommend text" "$(head -c 800 <<<"$out")"
mkroot "$d/big" "ro" 0 0 $((200 * 1024 * 1024))
js=$("$CK" kdump recommend --root "$d/big" --json)
[ "$(jq -c '[.policies[].size]' <<<"$js")" = "[$((4096 << 20)),$((512 << 20)),$((128 << 20))]" ] \
	&& [ "$(jq -r .crashkernel <<<"$js")" = crashkernel=4G ] \
	&& pass "kdump recommend: 200 GiB: 4G / 512M / 128M" || fail "kdump recommend big" "$js"
mkroot "$d/tiny" "ro" 0 0 $((1024 * 1024))
js=$("$CK" kdump recommend --root "$d/tiny" --json)
[ "$(jq -c '[.policies[].size]' <<<"$js")" = "[0,0,$((128 << 20))]" ] \
	&& [ "$(jq -r .size <<<"$js")" = "$(jq -r .estimate.total <<<"$js")" ] \
	&& pass "kdump recommend: 1 GiB: only Debian's reserves; the estimate is the answer" \
	|| fail "kdump recommend tiny" "$js"

# This machine: a verdict, whatever it is; exit 0 only when ready.
rc=0; "$CK" kdump check > "$d/out" 2> "$d/err" || rc=$?
v=$(sed -n 's/^verdict: *//p' "$d/out")
if { [ "$rc" = 0 ] && [[ $v == ready:* ]]; } || { [ "$rc" = 1 ] && [[ $v == "not ready:"* ]]; } \
	|| { [ "$rc" = 1 ] && [ ! -s "$d/out" ] && [ "$(grep -c . "$d/err")" = 1 ]; }; then
	pass "kdump check on this machine (exit $rc): ${v:-$(cat "$d/err")}"
else
	fail "kdump check on this machine" "exit $rc, verdict '$v', $(head -c 300 "$d/err")"
fi
if [ -s "$d/out" ]; then
	"$CK" kdump check --json > "$d/json" 2>/dev/null	# exit 1 when not ready
	jq -e '.verdict and (.options | length > 0)' "$d/json" > /dev/null \
		&& pass "kdump check --json on this machine parses" || fail "kdump check --json here"
fi
rc=0; "$CK" kdump recommend --json > "$d/out" 2> "$d/err" || rc=$?
[ "$rc" = 0 ] && jq -e '.crashkernel | startswith("crashkernel=")' "$d/out" > /dev/null \
	&& pass "kdump recommend on this machine: $(jq -r .crashkernel "$d/out")" \
	|| fail "kdump recommend here" "exit $rc $(head -c 300 "$d/err")"
