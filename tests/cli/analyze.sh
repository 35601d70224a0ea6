#!/usr/bin/env bash
# crashkit-analyze's interface (docs/analysis.md, crashkit-analyze(1)) on
# generated dumps (tests/tools/ck-mkkernel.c: kallsyms, utsname, a printk
# ring, no BTF): exit codes (0 all ok, 1 a command failed, 2 usage), --help,
# garbage commands and arguments (one line, the shell goes on, batch exits
# 1), a truncated dump, a dump without BTF, pipes, redirection, -i SCRIPT,
# commands on stdin, crash's command line (`crashkit crash -s VMLINUX DUMP`,
# either order, a `crash` symlink), the interactive shell under a pty
# (history, completion, Ctrl-C).  Everything runs under `timeout` from the
# ASan build: a hang (124) or a sanitizer report (125) fails.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"

bdir=${CK_BUILD:-$(dirname "$CK")}
an=$bdir/crashkit-analyze
mk=$bdir/tests/ck-mkkernel
d=$CK_TMP/analyze
mkdir -p "$d"
if [ ! -x "$an" ] || [ ! -x "$mk" ]; then
	fail "analyze: binaries" "no $an or $mk"
	exit 0
fi
dump=$d/kernel.elf
"$mk" "$dump" || { fail "analyze: ck-mkkernel" "cannot write $dump"; exit 0; }

# ck OUT ERR ARGS...: crashkit with ARGS, stdin from $IN (default /dev/null);
# the exit status in $rc.
IN=/dev/null
ck() {
	local out=$1 err=$2; shift 2
	rc=0
	timeout 60 "$CK" "$@" > "$out" 2> "$err" < "$IN" || rc=$?
}
lines() { grep -c . "$1" || true; }
# expect NAME RC WANT-ERR-LINES: the last ck's exit and number of lines on
# stderr (-1: any); a hang or a sanitizer report always fails.
expect() {
	local name=$1 want=$2 want_lines=$3 n
	n=$(lines "$d/err")
	if [ "$rc" -ge 124 ]; then
		fail "$name" "exit $rc (hang, signal or sanitizer): $(head -c 400 "$d/err")"
	elif [ "$rc" -ne "$want" ]; then
		fail "$name" "exit $rc, want $want: $(head -c 300 "$d/err")"
	elif [ "$want_lines" -ge 0 ] && [ "$n" -ne "$want_lines" ]; then
		fail "$name" "$n lines on stderr, want $want_lines: $(head -c 300 "$d/err")"
	else
		pass "$name"
	fi
}
# A command other helpers have not landed yet says so: skip, not fail.
pending() { grep -q 'not available yet' "$d/err"; }

# ---- help and usage ----
for w in analyze crash; do
	ck "$d/out" "$d/err" "$w" --help
	if [ "$rc" -eq 0 ] && grep -q '^usage: ' "$d/out" && [ ! -s "$d/err" ]; then
		pass "$w --help"
	else
		fail "$w --help" "exit $rc: $(head -c 200 "$d/out" "$d/err")"
	fi
done
ck "$d/out" "$d/err" analyze --version
[ "$rc" -eq 0 ] && grep -q '^crashkit ' "$d/out" && pass "analyze --version" \
	|| fail "analyze --version" "exit $rc: $(cat "$d/out" "$d/err")"
ck "$d/out" "$d/err" analyze
expect "analyze without a dump: usage, exit 2" 2 1
ck "$d/out" "$d/err" analyze --bogus "$dump"
expect "analyze --bogus: exit 2" 2 1
ck "$d/out" "$d/err" analyze "$dump" -c
expect "analyze -c without its value: exit 2" 2 1
ck "$d/out" "$d/err" analyze "$dump" "$dump" "$dump"
expect "analyze with three files: exit 2" 2 1
ck "$d/out" "$d/err" analyze "$d/nope" -c help
expect "analyze on a missing dump: exit 1, one line" 1 1
grep -q "$d/nope" "$d/err" || fail "missing dump: the line names it" "$(cat "$d/err")"
ck "$d/out" "$d/err" analyze "$d" -c help
expect "analyze on a directory: exit 1, one line" 1 1

# ---- batch: -c, exit codes, garbage ----
ck "$d/out" "$d/err" analyze "$dump" -c help
expect "-c help: exit 0" 0 0
grep -q '^sys ' "$d/out" || grep -qw 'sys' "$d/out" && pass "help lists the commands" \
	|| fail "help lists the commands" "$(head -c 300 "$d/out")"
# every command of the table has its help text (docs/analysis/help/)
missing=
ck "$d/out" "$d/err" analyze "$dump" -c 'help -s'
for c in $(awk '{ print $1 }' "$d/out"); do
	IN=/dev/null ck "$d/h" "$d/herr" analyze "$dump" -c "help $c"
	{ [ "$rc" -eq 0 ] && grep -q "^NAME" "$d/h" && grep -q "^  $c " "$d/h"; } || missing="$missing $c"
done
[ -z "$missing" ] && pass "help CMD for every command ($(awk '{print $1}' "$d/out" | wc -l))" \
	|| fail "help CMD" "no help text for:$missing"

ck "$d/out" "$d/err" analyze "$dump" -c 'frobnicate'
expect "garbage command: exit 1, one line" 1 1
ck "$d/out" "$d/err" analyze "$dump" -c 'help sys; frobnicate --x; help log'
expect "garbage command between good ones: exit 1, one line" 1 1
grep -q 'sys - ' "$d/out" && grep -q 'log - ' "$d/out" && pass "the commands after a bad one run" \
	|| fail "the commands after a bad one run" "$(head -c 300 "$d/out")"
for bad in 'help -Z' 'help nosuchcommand' "help 'unterminated" 'help |' '> x' 'help > ' \
	'help > a b' "$(printf 'help \001\002\377')" '!false'; do
	ck "$d/out" "$d/err" analyze "$dump" -c "$bad"
	expect "bad line '$(printf '%s' "$bad" | tr -c '[:print:]' '?')': exit 1, one line" 1 \
		"$([ "$bad" = '!false' ] && echo 0 || echo 1)"
done
# 300 words, a long line
ck "$d/out" "$d/err" analyze "$dump" -c "help $(printf 'x %.0s' $(seq 300))"
expect "300 words: exit 1, one line" 1 1
ck "$d/out" "$d/err" analyze "$dump" -c "$(head -c 100000 /dev/zero | tr '\0' 'a')"
expect "a 100 000-byte command: exit 1, one line" 1 1

# ---- pipes and redirection ----
ck "$d/out" "$d/err" analyze "$dump" -c 'help | wc -l'
n=$(tr -d ' ' < "$d/out")
[ "$rc" -eq 0 ] && [ "${n:-0}" -gt 5 ] 2>/dev/null && pass "help | wc -l: $n" \
	|| fail "help | wc -l" "exit $rc, '$(head -c 100 "$d/out")' $(head -c 200 "$d/err")"
ck "$d/out" "$d/err" analyze "$dump" -c 'help -s | head -n 1; help sys | grep -c NAME'
[ "$rc" -eq 0 ] && [ "$(wc -l < "$d/out")" -eq 2 ] && pass "a closed pipe (| head) ends that output only" \
	|| fail "| head" "exit $rc: $(cat "$d/out" "$d/err" | head -c 300)"
rm -f "$d/help.txt"
ck "$d/out" "$d/err" analyze "$dump" -c "help > $d/help.txt; help sys >> '$d/help.txt'"
[ "$rc" -eq 0 ] && [ ! -s "$d/out" ] && grep -q 'sys - ' "$d/help.txt" && grep -q 'help <command>' "$d/help.txt" \
	&& pass "help > file, >> file" || fail "help > file" "exit $rc: $(head -c 200 "$d/err")"
ck "$d/out" "$d/err" analyze "$dump" -c "help > $d/no/such/dir/x"
expect "> into a missing directory: exit 1, one line" 1 1
ck "$d/out" "$d/err" analyze "$dump" -c 'help sys | grep -q NAME && echo found'
[ "$rc" -eq 0 ] && grep -qx found "$d/out" && pass "| with a shell pipeline" \
	|| fail "| shell pipeline" "exit $rc: $(cat "$d/out" "$d/err")"

# parentheses keep '|' and '>' for the command (crash: eval (a | b))
ck "$d/out" "$d/err" analyze "$dump" -c 'eval (1 | 6) | grep -c "^ *decimal: 7"'
if pending; then skip "eval (1 | 6)" "eval not landed"
else
	[ "$rc" -eq 0 ] && [ "$(cat "$d/out")" = 1 ] && pass "eval (1 | 6) | grep: parentheses keep the |" \
		|| fail "eval (1 | 6)" "exit $rc: $(head -c 300 "$d/out" "$d/err")"
fi

# ---- -i SCRIPT and stdin ----
printf 'help sys\n\n# a comment\nhelp log\n' > "$d/script"
ck "$d/out" "$d/err" analyze "$dump" -i "$d/script"
expect "-i SCRIPT: exit 0" 0 0
grep -q 'log - ' "$d/out" || fail "-i SCRIPT ran every line" "$(head -c 200 "$d/out")"
printf 'help sys\nq\nfrobnicate\n' > "$d/script"
ck "$d/out" "$d/err" analyze "$dump" -i "$d/script"
expect "-i SCRIPT: q ends it" 0 0
ck "$d/out" "$d/err" analyze "$dump" -i "$d/nope"
expect "-i missing script: exit 1, one line" 1 1
printf 'help sys\nfrobnicate\nhelp log\n' > "$d/stdin"
IN=$d/stdin ck "$d/out" "$d/err" analyze "$dump"
expect "commands on stdin, one bad: exit 1, one line" 1 1
grep -q 'log - ' "$d/out" && pass "stdin: the commands after a bad one run" \
	|| fail "stdin: after a bad one" "$(head -c 200 "$d/out")"
printf 'help sys\r\nexit\n' > "$d/stdin"
IN=$d/stdin ck "$d/out" "$d/err" analyze "$dump"
expect "stdin with CRLF and exit: exit 0" 0 0
# random commands: without '!', '|' and '>' (which would run random shell
# commands and write random files), in a scratch directory all the same
head -c 20000 /dev/urandom | tr -d '!|>' > "$d/stdin"
mkdir -p "$d/rand"
IN=$d/stdin
rc=0
(cd "$d/rand" && timeout 60 "$CK" analyze "$dump" < "$IN" > "$d/out" 2> "$d/err") || rc=$?
IN=/dev/null
if [ "$rc" -lt 124 ]; then pass "random bytes on stdin: no crash, no hang (exit $rc)"
else fail "random bytes on stdin" "exit $rc: $(head -c 300 "$d/err")"; fi

# ---- crash's command line ----
printf 'not a vmlinux\n' > "$d/vmlinux"
printf 'help sys\n' > "$d/stdin"
IN=$d/stdin ck "$d/out" "$d/err" crash -s "$d/vmlinux" "$dump"
e1=$(cat "$d/err"); r1=$rc
IN=$d/stdin ck "$d/out" "$d/err" crash -s "$dump" "$d/vmlinux"
e2=$(cat "$d/err"); r2=$rc
if [ "$r1" = "$r2" ] && [ "$e1" = "$e2" ] && [ "$r1" -lt 124 ] && ! grep -q "open '$dump'" "$d/err"; then
	pass "crash -s VMLINUX DUMP and DUMP VMLINUX: the same (exit $r1)"
else
	fail "crash -s: either order" "exit $r1 '$e1' / exit $r2 '$e2'"
fi
ln -sf "$an" "$d/crash"
rc=0
timeout 60 "$d/crash" -s "$dump" < "$d/stdin" > "$d/out" 2> "$d/err" || rc=$?
expect "a 'crash' symlink: crash -s DUMP, commands on stdin" 0 0
grep -q 'sys - ' "$d/out" || fail "crash symlink output" "$(head -c 200 "$d/out")"
rc=0
timeout 60 "$d/crash" > "$d/out" 2> "$d/err" < /dev/null || rc=$?
expect "a 'crash' symlink without a dump: exit 2" 2 1
ck "$d/out" "$d/err" crash -s --no_scroll -i "$d/script" "$dump"
expect "crash -s --no_scroll -i SCRIPT DUMP" 0 0

# ---- a dump without BTF ----
ck "$d/out" "$d/err" analyze "$dump" -c 'struct task_struct'
if pending; then skip "no BTF: struct task_struct" "struct not landed"
else
	expect "no BTF: struct task_struct fails, one line" 1 1
	grep -qiE 'BTF|vmlinux' "$d/err" || fail "no BTF: the line says why" "$(cat "$d/err")"
fi
for c in "sys:RELEASE: 6.1.0-mkdump" "log:sysrq triggered crash" "sym panic:panic"; do
	cmd=${c%%:*} want=${c#*:}
	ck "$d/out" "$d/err" analyze "$dump" -c "$cmd"
	if pending; then skip "no BTF: $cmd" "$cmd not landed"
	elif [ "$rc" -lt 124 ] && grep -qF -- "$want" "$d/out"; then pass "no BTF: $cmd answers ($want)"
	else fail "no BTF: $cmd" "exit $rc: $(head -c 300 "$d/out" "$d/err")"; fi
done

# ---- truncated dumps ----
for size in 100 4096 1048576 3145728 8388608; do
	head -c "$size" "$dump" > "$d/cut"
	ck "$d/out" "$d/err" analyze "$d/cut" -c 'help sys; sys; log; sym panic; bt; ps'
	if [ "$rc" -ge 124 ]; then
		fail "dump cut at $size bytes" "exit $rc: $(head -c 400 "$d/err")"
	elif [ "$rc" -eq 0 ]; then
		fail "dump cut at $size bytes" "exit 0"
	else
		pass "dump cut at $size bytes: exit 1, $(lines "$d/err") lines"
	fi
done

# ---- the interactive shell, under a pty ----
if ! command -v python3 >/dev/null; then
	skip "shell under a pty" "no python3"
	exit 0
fi
mkdir -p "$d/home"
HOME=$d/home timeout 60 python3 - "$an" "$dump" > "$d/pty.out" 2>&1 <<'EOF'
import os, pty, sys, time, select
an, dump = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execv(an, [an, 'analyze', dump])
out = b''
def read(secs):
    global out
    end = time.time() + secs
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                b = os.read(fd, 65536)
            except OSError:
                return
            if not b:
                return
            out += b
def send(s, wait=1.0):
    os.write(fd, s)
    read(wait)
read(3)
send(b'help sys\r')
send(b'frobnicate\r')
send(b'hel\t lo\t\r')         # completion: "help log"
send(b'half a line\x03')     # Ctrl-C at the prompt: the line is dropped
send(b'help rd\r')
t0 = time.time()
send(b'!sleep 30\r')            # Ctrl-C stops the running command, not the shell
send(b'\x03')
send(b'help q\r')
print('\nINTERRUPTED AFTER %d s' % (time.time() - t0))
send(b'q\r', 2)
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode('utf-8', 'replace'))
print('\nEXIT %d' % (os.WEXITSTATUS(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st)))
EOF
prc=$(sed -n 's/^EXIT \([0-9]*\).*/\1/p' "$d/pty.out" | tail -n 1)
if [ "${prc:-x}" != 1 ]; then
	fail "shell: a bad command fails the session (exit 1), q ends it" "exit ${prc:-none}: $(tail -c 600 "$d/pty.out" | tr -d '\r')"
else
	pass "shell: ran to q after a bad command, exit 1"
fi
grep -q 'command not found: frobnicate' "$d/pty.out" && pass "shell: a bad command is one line, the shell goes on" \
	|| fail "shell: bad command" "$(tail -c 400 "$d/pty.out")"
grep -q 'log - the kernel log' "$d/pty.out" && pass "shell: Tab completes command and argument" \
	|| fail "shell: completion" "$(tail -c 600 "$d/pty.out" | tr -d '\r')"
grep -q 'rd - read memory' "$d/pty.out" && ! grep -q 'command not found: half' "$d/pty.out" \
	&& pass "shell: Ctrl-C drops the line, the shell goes on" \
	|| fail "shell: Ctrl-C" "$(tail -c 600 "$d/pty.out" | tr -d '\r')"
secs=$(sed -n 's/^INTERRUPTED AFTER \([0-9]*\) s.*/\1/p' "$d/pty.out")
grep -q 'q - leave the shell' "$d/pty.out" && [ "${secs:-99}" -lt 20 ] \
	&& pass "shell: Ctrl-C stops a running command (!sleep 30 after ${secs} s), the shell goes on" \
	|| fail "shell: Ctrl-C of a command" "${secs:-?} s: $(tail -c 400 "$d/pty.out" | tr -d '\r')"
grep -qE '^help( |\\040)sys$' "$d/home/.crashkit_history" 2>/dev/null && pass "shell: history in ~/.crashkit_history" \
	|| fail "shell: history" "$(cat "$d/home/.crashkit_history" 2>&1 | head -c 200)"
