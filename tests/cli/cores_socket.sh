#!/usr/bin/env bash
# crashkit cores, socket mode (Linux >= 6.16, core_pattern=@/path): the
# receiver (`cores serve`) is run directly (no systemd here), real programs
# crash into it.  core_pattern/core_pipe_limit are restored on every exit path.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../cores/setup.sh"

if ! grep -qx socket /proc/sys/kernel/core_modes 2>/dev/null; then
	skip "cores socket" "kernel has no socket mode (/proc/sys/kernel/core_modes, Linux >= 6.16)"
	exit 0
fi
sp=
cleanup_extra='[ -n "$sp" ] && kill "$sp" 2>/dev/null && wait "$sp" 2>/dev/null'
cores_setup "cores socket"

printf 'store=%s/s\nsocket=%s/c.sock\nkeep_per_exe=100\nrate_limit_burst=100\n' "$d" "$d" > "$d/c.conf"
C=(--config "$d/c.conf")
ncores() { "$CK" cores "${C[@]}" list --json 2>/dev/null | jq length 2>/dev/null || echo 0; }
listening() { grep -q " $d/c.sock\$" /proc/net/unix; }
# The record lands after the connection closes (the backtrace comes last).
wait_for() { local want=$1 k; for k in $(seq 100); do [ "$(ncores)" -ge "$want" ] && return 0; sleep 0.1; done; return 1; }

"$CK" cores "${C[@]}" serve 2>"$d/serve.log" &
sp=$!
for k in $(seq 100); do listening && break; sleep 0.05; done
listening && pass "cores socket: receiver listens" || { fail "cores socket: receiver" "$(cat "$d/serve.log")"; exit 0; }
[ "$(stat -c %a "$d/c.sock")" = 600 ] && pass "cores socket: socket is 0600 (the kernel connects with its own credentials)" \
	|| fail "cores socket: socket mode" "$(stat -c %a "$d/c.sock")"

printf '%s' "$d/kernel-core.%p" > "$CP"
out=$("$CK" cores "${C[@]}" install --socket 2>&1)
if grep -q "already listening" <<<"$out" && [ "$(cat "$CP")" = "@$d/c.sock" ]; then
	pass "cores socket: install --socket uses the running receiver"
else
	fail "cores socket: install --socket" "$out / $(cat "$CP")"
fi
"$CK" cores "${C[@]}" check | grep -q "owned by: *crashkit (socket mode)" && pass "cores socket: check names the owner" \
	|| fail "cores socket: check" "$("$CK" cores "${C[@]}" check | head -3)"

declare -A sig=([segv]=11 [abort]=6 [threads]=11)
n=0
for how in segv abort threads; do
	crash "$how"
	n=$((n + 1))
	if ! wait_for $n; then
		fail "cores socket: $how" "no record; $(tail -3 "$d/serve.log")"
		continue
	fi
	js=$("$CK" cores "${C[@]}" info --json)
	if [ "$(jq -r .signal <<<"$js")" = "${sig[$how]}" ] && [ "$(jq -r .state <<<"$js")" = stored ] \
		&& [ "$(jq -r .meta.mode <<<"$js")" = socket ] && [ "$(jq -r .exe <<<"$js")" = "$d/crasher" ] \
		&& [ "$(jq -r .comm <<<"$js")" = crasher ]; then
		pass "cores socket: $how stored, signal ${sig[$how]} from the core's notes, exe and comm from /proc"
	else
		fail "cores socket: $how" "$(jq -c '{signal,state,exe,comm,mode:.meta.mode,reason}' <<<"$js")"
		continue
	fi
	"$CK" cores "${C[@]}" dump -o "$d/$how.core"
	eu-stack --core="$d/$how.core" -e "$d/crasher" 2>/dev/null | awk '/^TID/{print "TID"} /^#/{print $3}' > "$d/$how.eu"
	jq -r .backtrace <<<"$js" | awk '/^TID/{print "TID"} /^#/{print $3}' > "$d/$how.ck"
	if [ -s "$d/$how.eu" ] && cmp -s "$d/$how.eu" "$d/$how.ck" \
		&& [ "$(stat -c %s "$d/$how.core")" = "$(jq -r .core_size <<<"$js")" ]; then
		pass "cores socket: $how core dumps back whole, backtrace matches eu-stack ($(grep -c TID "$d/$how.ck") threads)"
	else
		fail "cores socket: $how backtrace" "$(diff "$d/$how.eu" "$d/$how.ck" | head -4 | tr '\n' ' ')"
	fi
	rm -f "$d/$how.core"
done
# Anyone may try to connect; only a process that is dumping core is served.
before=$(ncores)
python3 - "$d/c.sock" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"\x7fELF not a core" * 100)
# Alive until the receiver has judged us and hung up: a peer already gone
# answers "No such process" instead (seen on a loaded host).
s.settimeout(5)
try:
    while s.recv(4096):
        pass
except OSError:
    pass
s.close()
PY
sleep 0.5
if [ "$(ncores)" = "$before" ] && grep -q "not dumping core" "$d/serve.log" && kill -0 "$sp"; then
	pass "cores socket: a connection that is not a crash is refused (PIDFD_COREDUMPED), receiver stays up"
else
	fail "cores socket: fake connection" "$(ncores) vs $before; $(tail -2 "$d/serve.log")"
fi

# Stop: SIGTERM, the socket goes away.
kill -TERM "$sp"; wait "$sp"; rc=$?; sp=
[ "$rc" = 0 ] && [ ! -e "$d/c.sock" ] && pass "cores socket: SIGTERM stops the receiver and removes the socket" \
	|| fail "cores socket: stop" "exit $rc, $(ls -l "$d/c.sock" 2>&1)"

# install --socket starts a receiver when none listens.
out=$("$CK" cores "${C[@]}" install --socket 2>&1)
sp=$(sed -n 's/^receiver: started, pid \([0-9]*\).*/\1/p' <<<"$out")
if [ -n "$sp" ] && listening && [ "$(cat "$CP")" = "@$d/c.sock" ]; then
	pass "cores socket: install --socket starts the receiver (pid $sp)"
	before=$(ncores)
	crash segv
	wait_for $((before + 1)) && pass "cores socket: crash stored by the started receiver" || fail "cores socket: started receiver stores nothing"
	kill "$sp"; for k in $(seq 50); do kill -0 "$sp" 2>/dev/null || break; sleep 0.1; done; sp=
else
	fail "cores socket: install --socket start" "$out"
fi
"$CK" cores "${C[@]}" uninstall >/dev/null
[ "$(cat "$CP")" = "$d/kernel-core.%p" ] && pass "cores socket: uninstall restores the previous core_pattern" \
	|| fail "cores socket: uninstall" "$(cat "$CP")"
