#!/usr/bin/env bash
# crashkit cores: real programs crash under the installed pipe handler with a
# temporary store.  core_pattern is machine-wide: it is saved first and put
# back on every exit path (trap), whatever it was before.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../cores/setup.sh"
cores_setup cores
printf 'store=%s/s\nkeep_per_exe=100\nrate_limit_burst=100\n' "$d" > "$d/c.conf"
C=(--config "$d/c.conf")
ncores() { "$CK" cores "${C[@]}" list --json 2>/dev/null | jq length 2>/dev/null || echo 0; }

# Start from a pattern that is neither the default nor ours: uninstall must
# give exactly this back.
printf '%s' "$d/kernel-core.%p" > "$CP"
# The handler is crashkit-cores next to crashkit, run directly (docs/cores.md).
out=$("$CK" cores "${C[@]}" install 2>&1) && grep -qF "|$(dirname "$CK")/crashkit-cores handle " "$CP" \
	&& pass "cores: install sets core_pattern" || fail "cores: install" "$out $(cat "$CP")"
[ "$(cat "$CPL")" != 0 ] && pass "cores: install sets core_pipe_limit" \
	|| fail "cores: core_pipe_limit still 0"
out=$("$CK" cores "${C[@]}" check 2>&1)
printf '%s' "$out" | grep -q "owned by: *crashkit" && pass "cores: check names the owner" \
	|| fail "cores: check" "$out"
stat -c %a "$d/s" | grep -qx 711 && pass "cores: store is 0711 (no listing)" || fail "cores: store mode"

# One crash of each kind, stored and described.
declare -A sig=([segv]=11 [abort]=6 [fpe]=8 [bus]=7 [threads]=11)
declare -A top=([segv]=do_segv [abort]=do_abort [fpe]=do_fpe [bus]=do_bus [threads]=do_segv)
for how in segv abort fpe bus threads; do
	before=$(ncores)
	crash "$how"
	after=$(ncores)
	js=$("$CK" cores "${C[@]}" list --json | jq '.[0]')
	if [ "$after" -eq $((before + 1)) ] && [ "$(jq -r .signal <<<"$js")" = "${sig[$how]}" ] \
		&& [ "$(jq -r .state <<<"$js")" = stored ]; then
		pass "cores: $how stored with signal ${sig[$how]}"
	else
		fail "cores: $how" "count $before -> $after, $js"
		continue
	fi
	id=$(jq -r .id <<<"$js")
	info=$("$CK" cores "${C[@]}" info "#$id")
	grep -q "Executable: $d/crasher" <<<"$info" && grep -q " ${top[$how]} (crasher)" <<<"$info" \
		&& pass "cores: $how info shows exe and ${top[$how]}" || fail "cores: $how info" "$(head -c 400 <<<"$info")"
	# Stored backtrace vs eu-stack on the dumped core, frame for frame.
	"$CK" cores "${C[@]}" dump -o "$d/$how.core" "#$id" || { fail "cores: $how dump"; continue; }
	eu-stack --core="$d/$how.core" -e "$d/crasher" 2>/dev/null \
		| awk '/^TID/{print "TID"} /^#/{print $3}' > "$d/$how.eu"
	"$CK" cores "${C[@]}" info --json "#$id" | jq -r .backtrace \
		| awk '/^TID/{print "TID"} /^#/{print $3}' > "$d/$how.ck"
	if [ -s "$d/$how.eu" ] && cmp -s "$d/$how.eu" "$d/$how.ck"; then
		pass "cores: $how backtrace matches eu-stack ($(grep -c TID "$d/$how.ck") threads, $(grep -vc TID "$d/$how.ck") frames)"
	else
		fail "cores: $how backtrace vs eu-stack" "$(diff "$d/$how.eu" "$d/$how.ck" | head -5 | tr '\n' ' ')"
	fi
	# Source lines (the crasher has DWARF; glibc's where its debug files
	# are installed) vs eu-stack -s: FILE:LINE per frame, by base name.
	eu-stack -s --core="$d/$how.core" -e "$d/crasher" 2>/dev/null | awk '
		/^#/ { if (f != "") print f; f = "-" }
		/^    / { n = split($1, a, ":"); sub(/.*\//, "", a[1]); f = a[1] ":" a[2] }
		END { if (f != "") print f }' > "$d/$how.eus"
	"$CK" cores "${C[@]}" info --json "#$id" | jq -r .backtrace | awk '
		/^#/ { f = "-"; if ((i = index($0, ") at ")) > 0) { f = substr($0, i + 5); sub(/.*\//, "", f) } print f }' > "$d/$how.cks"
	if grep -q '^crasher\.c:[0-9]' "$d/$how.cks" && cmp -s "$d/$how.eus" "$d/$how.cks"; then
		pass "cores: $how frames' source lines match eu-stack -s ($(grep -vc '^-$' "$d/$how.cks") with a line, $(head -1 "$d/$how.cks") first)"
	else
		fail "cores: $how source lines vs eu-stack -s" "$(diff "$d/$how.eus" "$d/$how.cks" | head -5 | tr '\n' ' ')"
	fi
	rm -f "$d/$how.core"
done
[ "$(grep -c TID "$d/threads.ck" 2>/dev/null)" = 8 ] && pass "cores: 8 threads walked" \
	|| fail "cores: threads" "$(grep -c TID "$d/threads.ck" 2>/dev/null) threads"

# debug: gdb batch bt on a decompressed copy with the exe.
tmp_before=$(ls /var/tmp | wc -l)
out=$("$CK" cores "${C[@]}" debug --bt crasher 2>&1)
grep -q "in do_threads () at .*crasher.c" <<<"$out" && grep -q "worker_wait" <<<"$out" \
	&& pass "cores: debug runs gdb bt" || fail "cores: debug" "$(tail -c 300 <<<"$out")"
[ "$(ls /var/tmp | wc -l)" = "$tmp_before" ] && pass "cores: debug removes its copy" \
	|| fail "cores: debug left a temporary core"

# Bytes: a tee in front of the handler keeps what the kernel sent; dump -o
# must give back exactly those bytes.  Also compare with the core the kernel
# writes itself for the same crash (file pattern): same ELF note types.
# (uninstall first: install remembers whatever pattern it replaces.)
"$CK" cores "${C[@]}" uninstall >/dev/null
cat > "$d/tee.sh" <<TEE
#!/bin/sh
/usr/bin/tee "$d/raw.\$1" | exec "$CK" cores handle --config=$d/c.conf "\$@"
TEE
chmod 755 "$d/tee.sh"
echo 16 > "$CPL"	# the kernel waits for the handler, so the record is there
printf '%s' "|$d/tee.sh P=%P u=%u g=%g s=%s t=%t F=%F e=%e" > "$CP"
for how in segv threads; do
	crash "$how"
	pid=$("$CK" cores "${C[@]}" list --json | jq -r '.[0].pid')
	"$CK" cores "${C[@]}" dump -o "$d/back.core" "$pid"
	if [ -s "$d/raw.P=$pid" ] && cmp -s "$d/raw.P=$pid" "$d/back.core"; then
		pass "cores: $how dump -o is byte-identical to what the kernel sent ($(stat -c %s "$d/back.core") bytes)"
	else
		fail "cores: $how dump bytes" "$(ls -l "$d"/raw.* "$d/back.core" 2>&1 | tr '\n' ' ')"
	fi
	printf '%s' "$d/kcore.%p" > "$CP"
	{ (ulimit -c unlimited; cd "$d" && exec ./crasher "$how"); } 2>/dev/null
	kc=$(ls "$d"/kcore.* 2>/dev/null | head -1)
	notes() { eu-readelf -n "$1" | awk '/^  [A-Z]+ +0x[0-9a-f]+ +[A-Z_]+/{print $3}' | sort | uniq -c; }
	if [ -n "$kc" ] && [ "$(notes "$kc")" = "$(notes "$d/back.core")" ]; then
		pass "cores: $how stored core has the note types of a kernel-written core"
	else
		fail "cores: $how notes" "$(diff <(notes "$kc") <(notes "$d/back.core") | head -4 | tr '\n' ' ')"
	fi
	rm -f "$d"/kcore.* "$d"/raw.* "$d/back.core"
	printf '%s' "|$d/tee.sh P=%P u=%u g=%g s=%s t=%t F=%F e=%e" > "$CP"
done
printf '%s' "$d/kernel-core.%p" > "$CP"
printf '%s' "$orig_limit" > "$CPL"
"$CK" cores "${C[@]}" install >/dev/null

# A big core (1 GiB of heap) streams through, and dumps back to its size.
t0=$(date +%s.%N)
crash big 1024
t1=$(date +%s.%N)
js=$("$CK" cores "${C[@]}" list --json | jq '.[0]')
size=$(jq -r .core_size <<<"$js") stored=$(jq -r .stored_size <<<"$js")
if [ "$size" -gt $((1024 << 20)) ] && [ "$stored" -lt "$size" ] && [ "$(jq -r .state <<<"$js")" = stored ]; then
	pass "cores: 1 GiB heap core stored: $size -> $stored bytes in $(echo "$t1 - $t0" | bc) s"
else
	fail "cores: big core" "$js"
fi

# Policy: over max_core_size -> metadata + backtrace, never silence; rate limit.
printf 'store=%s/s2\nmax_core_size=1M\n' "$d" > "$d/c2.conf"
"$CK" cores --config "$d/c2.conf" install >/dev/null
crash threads
js=$("$CK" cores --config "$d/c2.conf" info --json)
if [ "$(jq -r .state <<<"$js")" = metadata-only ] && jq -r .reason <<<"$js" | grep -q max_core_size \
	&& jq -r .backtrace <<<"$js" | grep -q do_threads && [ -z "$(jq -r .core_file <<<"$js")" ] \
	&& [ -z "$(ls "$d"/s2/*.zst 2>/dev/null)" ]; then
	pass "cores: over max_core_size keeps metadata and backtrace, drops the core"
else
	fail "cores: max_core_size" "$(jq -c '{state,reason,core_file}' <<<"$js")"
fi
printf 'store=%s/s3\nrate_limit_burst=1\n' "$d" > "$d/c3.conf"
"$CK" cores --config "$d/c3.conf" install >/dev/null
crash segv
crash segv
js=$("$CK" cores --config "$d/c3.conf" list --json)
if [ "$(jq -r '.[1].state' <<<"$js")" = stored ] && [ "$(jq -r '.[0].state' <<<"$js")" = metadata-only ] \
	&& jq -r '.[0].reason' <<<"$js" | grep -q "rate limit" \
	&& [ "$(jq -r '.[0].signature' <<<"$js")" = "$(jq -r '.[1].signature' <<<"$js")" ]; then
	pass "cores: rate limit per signature keeps the record, drops the repeat's core"
else
	fail "cores: rate limit" "$(jq -c '[.[]|{state,reason,signature}]' <<<"$js")"
fi
"$CK" cores "${C[@]}" install >/dev/null

# Matching: PID, COMM, exe path, signature; newest wins; rm.
js=$("$CK" cores "${C[@]}" list --json)
pid=$(jq -r '.[2].pid' <<<"$js") sigv=$(jq -r '.[2].signature' <<<"$js")
[ "$("$CK" cores "${C[@]}" list --json "$pid" | jq -r '.[0].pid')" = "$pid" ] && pass "cores: match by PID" || fail "cores: match by PID"
[ "$("$CK" cores "${C[@]}" list --json "$sigv" | jq -r '.[0].signature')" = "$sigv" ] && pass "cores: match by signature" || fail "cores: match by signature"
[ "$("$CK" cores "${C[@]}" list --json "$d/crasher" | jq length)" = "$(jq length <<<"$js")" ] && pass "cores: match by exe path" || fail "cores: match by exe"
[ "$("$CK" cores "${C[@]}" info --json crasher | jq -r .id)" = "$(jq -r '.[0].id' <<<"$js")" ] && pass "cores: COMM match, newest wins" || fail "cores: newest wins"
n=$(jq length <<<"$js")
"$CK" cores "${C[@]}" rm "$pid" >/dev/null && [ "$(ncores)" = $((n - 1)) ] && pass "cores: rm" || fail "cores: rm"
expect_clean_error "cores: info of no match" "nothing-like-this" cores "${C[@]}" info nothing-like-this

# Bad handler arguments: logged, non-zero, stdin never read, no hang.
for args in "" "garbage" "P=abc u=0 g=0 s=11 t=1" "P=1 u=0 g=0 s=99 t=1" "P=1 g=0 s=11 t=1" "--bogus P=1"; do
	rc=0
	err=$(yes | timeout 20 env -i "$CK" cores handle --config="$d/c.conf" $args 2>&1 >/dev/null) || rc=$?
	if [ "$rc" -ge 1 ] && [ "$rc" -lt 124 ] && grep -q "crashkit cores handle:" <<<"$err"; then
		pass "cores: handle '$args' fails cleanly (exit $rc)"
	else
		fail "cores: handle '$args'" "exit $rc: $(head -c 200 <<<"$err")"
	fi
done

# uninstall gives back exactly what was there before install.
"$CK" cores "${C[@]}" uninstall >/dev/null
[ "$(cat "$CP")" = "$d/kernel-core.%p" ] && pass "cores: uninstall restores the previous core_pattern" \
	|| fail "cores: uninstall" "$(cat "$CP")"
[ "$(cat "$CPL")" = "$orig_limit" ] && pass "cores: uninstall restores core_pipe_limit" \
	|| fail "cores: core_pipe_limit" "$(cat "$CPL")"
