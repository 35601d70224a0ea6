# Sourced by tests/cli/cores*.sh: root check, core_pattern and core_pipe_limit
# saved and restored on every exit path, a scratch directory $d with the
# crasher built in it.  Callers may add cleanup to $cleanup_extra (a command
# string run first by restore).
CP=/proc/sys/kernel/core_pattern
CPL=/proc/sys/kernel/core_pipe_limit
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cores_setup() {
	local name=$1
	if [ "$(id -u)" -ne 0 ]; then
		skip "$name" "needs root to change core_pattern"
		exit 0
	fi
	orig_pattern=$(cat "$CP") orig_limit=$(cat "$CPL")
	if ! printf '%s' "$orig_pattern" > "$CP" 2>/dev/null; then
		skip "$name" "core_pattern is not writable here (read-only /proc/sys?)"
		exit 0
	fi
	# A short directory: core_pattern holds at most 127 bytes.  755 so that
	# other users can run the crasher and read the config.
	d=$(mktemp -d /tmp/ck.XXXXXX)
	chmod 755 "$d"
	cleanup_extra=${cleanup_extra:-}
	trap cores_restore EXIT
	trap 'cores_restore; exit 130' INT TERM
	gcc -g -O1 -pthread -o "$d/crasher" "$top/tests/cores/crasher.c" || { fail "$name: build crasher"; exit 0; }
	cores_probe "$name"
}
# Does the kernel reach a core_pattern helper at our path?  In a chroot it
# does not: it runs the helper in the root of the machine's init, where our
# files are not (and /proc/1/root cannot tell: root is refused that link in
# some sandboxes that are no chroot).  So try one.
cores_probe() {
	printf '#!/bin/sh\ntouch %s/probe-ran\ncat > /dev/null\n' "$d" > "$d/probe"
	chmod 755 "$d/probe"
	printf '|%s/probe' "$d" > "$CP"
	{ (cd "$d" && exec ./crasher segv); } 2>/dev/null
	local k
	for k in $(seq 100); do [ -e "$d/probe-ran" ] && break; sleep 0.05; done
	printf '%s' "$orig_pattern" > "$CP"
	if [ ! -e "$d/probe-ran" ]; then
		skip "$1" "the kernel did not run a core_pattern helper at $d/probe within 5 s (a chroot? the kernel runs it in the root of the machine's init, not in this one)"
		exit 0
	fi
	rm -f "$d/probe" "$d/probe-ran"
}
cores_restore() {
	[ -n "${cleanup_extra:-}" ] && eval "$cleanup_extra"
	printf '%s' "$orig_pattern" > "$CP"
	printf '%s' "$orig_limit" > "$CPL"
	mountpoint -q "$d/full" 2>/dev/null && umount "$d/full"
	rm -rf "$d"
}
# The crash itself, without the shell's "Segmentation fault (core dumped)" line.
# The handler lets the crashed process go once the core is read, then
# finishes the backtrace and the record: wait for it (at most 60 s).
settle() { local k; for k in $(seq 1200); do pgrep -f "cores handle " >/dev/null || return 0; sleep 0.05; done; }
crash() { { (cd "$d" && exec ./crasher "$@"); } 2>/dev/null; settle; }
