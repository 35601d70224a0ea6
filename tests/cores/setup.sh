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
	# In a chroot the kernel still runs a core_pattern helper in the root
	# of the machine's init (/proc/1/root), where our binary is not.
	if [ "$(stat -L -c %d:%i /proc/1/root/ 2>/dev/null)" != "$(stat -c %d:%i /)" ] &&
		[ -e /proc/1/root/ ]; then
		skip "$name" "this is a chroot: the kernel runs core_pattern's helper in the host's root (/proc/1/root), not in this one"
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
