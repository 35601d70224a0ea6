#!/usr/bin/env bash
# The conventions every command keeps (README "Commands", crashkit(1)):
# --help (usage on stdout, exit 0) and --version on every command and
# subcommand; options anywhere on the line, GNU style, and '--' ending them;
# a bad option is one line on stderr and exit 2; `make install` with PREFIX
# and DESTDIR; the bash completion; `cores check` reading the right sysctl;
# README's test command is the one CI runs.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
d=$CK_TMP/conventions
mkdir -p "$d"
version=$(sed -n 's/^VERSION := //p' "$top/Makefile")

cmds=(info dmesg sym capture makedumpfile cores analyze crash triage
      "cores list" "cores info" "cores dump" "cores debug" "cores backtrace" "cores rm"
      "cores vacuum" "cores install" "cores uninstall" "cores check" "cores serve"
      "cores handle" kdump "kdump check" "kdump recommend" list "cores catalog"
      "kdump save" "kdump list" "kdump load" "kdump unload" "kdump status"
      "kdump initramfs" "kdump init" demo)

# run OUT ERR ARGS...: crashkit with ARGS (stdin empty), stdout and stderr
# into files; the exit status in $rc.
run() {
	local out=$1 err=$2; shift 2
	rc=0
	timeout 60 "$CK" "$@" > "$out" 2> "$err" < /dev/null || rc=$?
}

check_help() {
	local name=$1; shift
	run "$d/out" "$d/err" "$@"
	if [ "$rc" -eq 0 ] && grep -q '^usage: ' "$d/out" && [ ! -s "$d/err" ]; then
		pass "$name"
	else
		fail "$name" "exit $rc, stdout $(head -c 80 "$d/out"), stderr $(head -c 200 "$d/err")"
	fi
}

# One line on stderr, nothing on stdout, exit WANT.
check_usage_error() {
	local name=$1 want=$2; shift 2
	run "$d/out" "$d/err" "$@"
	local lines
	lines=$(grep -c . "$d/err")
	if [ "$rc" -eq "$want" ] && [ "$lines" -eq 1 ] && [ ! -s "$d/out" ]; then
		pass "$name: $(cat "$d/err")"
	else
		fail "$name" "exit $rc (want $want), $lines lines on stderr: $(head -c 300 "$d/err")"
	fi
}

check_help "crashkit --help" --help
run "$d/out" "$d/err" --version
[ "$rc" -eq 0 ] && [ "$(cat "$d/out")" = "crashkit $version" ] && pass "crashkit --version" \
	|| fail "crashkit --version" "exit $rc: $(cat "$d/out" "$d/err")"
check_usage_error "crashkit --bogus" 2 --bogus

for c in "${cmds[@]}"; do
	read -ra w <<< "$c"
	check_help "$c --help" "${w[@]}" --help
	# after an operand too: options anywhere (cores handle keeps the
	# kernel's argument order, and `crashkit cores` options end at its
	# command)
	case $c in cores|"cores handle") ;; *) check_help "$c ARG --help" "${w[@]}" ARG --help ;; esac
	run "$d/out" "$d/err" "${w[@]}" --version
	if [ "$rc" -eq 0 ] && [ "$(cat "$d/out")" = "crashkit $version" ] && [ ! -s "$d/err" ]; then
		pass "$c --version"
	else
		fail "$c --version" "exit $rc: $(head -c 200 "$d/out" "$d/err")"
	fi
	# makedumpfile keeps makedumpfile's exit status for bad arguments (1);
	# the handler's stderr goes to the kernel log too, and it exits 2.
	want=2
	[ "$c" = makedumpfile ] && want=1
	check_usage_error "$c --bogus-option" "$want" "${w[@]}" --bogus-option
	[ "$c" = "cores handle" ] || check_usage_error "$c ARG -%" "$want" "${w[@]}" ARG -%
done
check_usage_error "cores dump -o without its value" 2 cores dump -o
check_usage_error "cores list --since without its value" 2 cores list --since
check_usage_error "info --json=x" 2 info --json=x
check_usage_error "cores unknown command" 2 cores frobnicate
# '--' ends the options: '--json' is then a file name.
run "$d/out" "$d/err" info -- --json
[ "$rc" -eq 1 ] && grep -q "'--json'" "$d/err" && pass "info -- --json: a file named --json" \
	|| fail "info -- --json" "exit $rc: $(cat "$d/err")"

# cores check: suid_dumpable is fs.suid_dumpable (there is no kernel.suid_dumpable).
want=$(cat /proc/sys/fs/suid_dumpable 2>/dev/null || echo '?')
run "$d/out" "$d/err" cores --store "$d/nostore" check
grep -qx "suid_dumpable: *$want (.*)" "$d/out" && pass "cores check: suid_dumpable $want" \
	|| fail "cores check: suid_dumpable" "$(grep suid "$d/out") (want $want)"

# make install: both executables side by side, the man pages, the completion.
# The release build under test is installed (relative O=, as tests/run.sh built it).
rel=$(dirname "${CK_RELEASE:-$CK}")
rel=${rel#"$top"/}
inst=$CK_TMP/inst
if out=$(make -s -C "$top" install O="$rel" DESTDIR="$inst" PREFIX=/usr 2>&1); then
	missing=
	for f in bin/crashkit bin/crashkit-cores bin/crashkit-analyze bin/crashkit-kdump \
		share/bash-completion/completions/crashkit share/man/man1/crashkit-analyze.1 \
		share/bash-completion/completions/crashkit-cores \
		share/man/man1/crashkit.1 share/man/man1/crashkit-info.1 share/man/man1/crashkit-dmesg.1 \
		share/man/man1/crashkit-sym.1 share/man/man8/crashkit-capture.8 \
		share/man/man8/crashkit-makedumpfile.8 \
		share/man/man8/crashkit-cores.8 share/man/man8/crashkit-kdump.8; do
		[ -e "$inst/usr/$f" ] || missing="$missing $f"
	done
	[ -z "$missing" ] && pass "make install DESTDIR PREFIX=/usr: executables, man pages, completion" \
		|| fail "make install" "missing:$missing"
	v=$("$inst/usr/bin/crashkit" cores --version 2>&1)
	[ "$v" = "crashkit $version" ] && pass "installed crashkit runs the installed crashkit-cores" \
		|| fail "installed crashkit cores --version" "$v"
	v=$("$inst/usr/bin/crashkit" analyze --version 2>&1)
	[ "$v" = "crashkit $version" ] && pass "installed crashkit runs the installed crashkit-analyze" \
		|| fail "installed crashkit analyze --version" "$v"
else
	fail "make install" "$(printf '%s\n' "$out" | tail -n 3 | tr '\n' ' ')"
fi
# The man pages are clean troff.
if command -v groff >/dev/null; then
	bad=
	for m in "$top"/docs/man/*.[18]; do
		w=$(groff -man -ww -z "$m" 2>&1) && [ -z "$w" ] || bad="$bad $(basename "$m"): $w"
	done
	[ -z "$bad" ] && pass "man pages: groff -man -ww finds nothing" || fail "man pages" "$bad"
else
	skip "man pages: groff -man -ww" "no groff"
fi

# The completion: sources cleanly, completes commands and options.
comp=$top/contrib/bash-completion/crashkit
out=$(bash -c '. "$1" && complete -p crashkit' _ "$comp" 2>&1)
[ $? -eq 0 ] && [ "$out" = "complete -F _crashkit crashkit" ] \
	&& pass "completion sources without a word on stderr" || fail "completion sources" "$out"
# complete WORD...: what the completion offers for the last word.
complete_words() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _crashkit
		printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$@" 2>&1 | tr '\n' ' ' | sed 's/ $//'
}
check_completion() {
	local want=$1; shift
	local got
	got=$(complete_words "$@")
	[ "$got" = "$want" ] && pass "completion: '$*' -> $want" \
		|| fail "completion: '$*'" "got '$got', want '$want'"
}
check_completion capture crashkit ca
check_completion "dump debug" "$CK" cores d
check_completion "--output" "$CK" cores dump foo --ou
check_completion "--no-caller" "$CK" dmesg --no

# README: exactly two set-up command lines at the top; the second is what
# CI runs.
block=$(awk '/^```/{n++; next} n==1' "$top/README.md")
testcmd=$(printf '%s\n' "$block" | sed -n 2p | sed 's/[[:space:]]*# .*$//')
[ "$(printf '%s\n' "$block" | grep -c .)" = 2 ] && grep -qxF "$testcmd" "$top/.ci/run" \
	&& pass "README's test command is .ci/run's: $testcmd" \
	|| fail "README's set-up lines and .ci/run" "$block"

# Options after the MATCH on a real store: one crash stored by the handler
# (tests/cores/setup.sh: root, core_pattern saved and restored).
. "$top/tests/cores/setup.sh"
cores_setup "conventions: cores dump MATCH -o FILE"
printf 'store=%s/s\n' "$d" > "$d/c.conf"
C=(--config "$d/c.conf")
"$CK" cores "${C[@]}" install > /dev/null || fail "conventions: cores install"
crash segv
"$CK" cores "${C[@]}" uninstall > /dev/null
if "$CK" cores "${C[@]}" dump crasher -o "$d/after.core" 2> "$d/err" \
	&& "$CK" cores dump -o "$d/before.core" "${C[@]}" crasher 2>> "$d/err" \
	&& [ -s "$d/after.core" ] && cmp -s "$d/after.core" "$d/before.core"; then
	pass "cores dump MATCH -o FILE (options after the MATCH) = dump -o FILE MATCH"
else
	fail "cores dump MATCH -o FILE" "$(head -c 300 "$d/err")"
fi
[ "$("$CK" cores list -F comm "${C[@]}")" = crasher ] && pass "cores list -F comm" \
	|| fail "cores list -F comm" "$("$CK" cores list -F comm "${C[@]}" 2>&1)"
check_completion crasher "$CK" cores "${C[@]}" dump cra
check_completion crasher "$(dirname "$CK")/crashkit-cores" info "${C[@]}" c
id=$("$CK" cores list -F id "${C[@]}")
check_completion "\\#$id" "$CK" cores rm "${C[@]}" '\#'
