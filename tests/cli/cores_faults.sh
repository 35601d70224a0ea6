#!/usr/bin/env bash
# crashkit cores: faults and limits under the pipe handler: 50 crashes at
# once, a full disk, eviction (max_use), keep_per_exe, honor_rlimit_core,
# vacuum, list filters, metadata (environ, namespaces, build ids), and what
# non-root users may see.  core_pattern/core_pipe_limit restored on every path.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../cores/setup.sh"
cores_setup "cores faults"

conf() { local f=$d/$1.conf; shift; printf 'store=%s\n' "$d/$(basename "$f" .conf)" > "$f"; printf '%s\n' "$@" >> "$f"; echo "$f"; }
list() { "$CK" cores --config "$1" list --json 2>/dev/null; }
n_of() { list "$1" | jq length; }
wait_n() { local k; for k in $(seq 300); do [ "$(n_of "$1")" -ge "$2" ] && return 0; sleep 0.2; done; return 1; }

# ---- 50 crashes at once ---------------------------------------------------
c=$(conf s keep_per_exe=100 rate_limit_burst=100)
"$CK" cores --config "$c" install >/dev/null
t0=$(date +%s%N)
for i in $(seq 50); do
	# No settle here: the time is how long the process lives, dump included.
	( s=$(date +%s%N); { (cd "$d" && exec ./crasher segv); } 2>/dev/null; e=$(date +%s%N)
	  echo $(( (e - s) / 1000000 )) >> "$d/held" ) &
done
wait
t1=$(date +%s%N)
total_ms=$(( (t1 - t0) / 1000000 )) max_ms=$(sort -n "$d/held" | tail -1)
wait_n "$c" 50
settle
t2=$(date +%s%N)
echo "# 50 crashes: every record and backtrace done after $(( (t2 - t0) / 1000000 )) ms (ASan handlers)"
js=$(list "$c")
stored=$(jq '[.[] | select(.state == "stored")] | length' <<<"$js")
files=$(ls "$d"/s/*.zst 2>/dev/null | wc -l)
echo "# 50 crashes: all reaped after ${total_ms} ms, longest-held process ${max_ms} ms"
if [ "$(jq length <<<"$js")" = 50 ] && [ "$stored" = 50 ] && [ "$files" = 50 ]; then
	pass "cores faults: 50 simultaneous crashes -> 50 records, 50 cores"
else
	fail "cores faults: 50 crashes" "$(jq length <<<"$js") records, $stored stored, $files files; $(jq -r '[.[].reason]|unique|join(";")' <<<"$js")"
fi
[ "$total_ms" -lt 20000 ] && [ "$max_ms" -lt 20000 ] \
	&& pass "cores faults: no crashing process held long (all done in ${total_ms} ms, max ${max_ms} ms, bound 20 s)" \
	|| fail "cores faults: processes held" "total ${total_ms} ms, max ${max_ms} ms"

# ---- metadata -------------------------------------------------------------
{ (cd "$d" && CK_TEST_ENV=hello-env exec unshare -u ./crasher segv); } 2>/dev/null
wait_n "$c" 51
meta=$("$CK" cores --config "$c" info --json | jq .meta)
bid=$(eu-readelf -n "$d/crasher" | sed -n 's/.*Build ID: *//p' | head -1)
jq -e '.environ | index("CK_TEST_ENV=hello-env")' <<<"$meta" >/dev/null && pass "cores faults: environ recorded" \
	|| fail "cores faults: environ" "$(jq -c .environ <<<"$meta" | head -c 200)"
jq -e '.namespaces_not_init | index("uts")' <<<"$meta" >/dev/null && jq -e '.container_hints' <<<"$meta" >/dev/null \
	&& pass "cores faults: namespaces differing from init's (uts under unshare -u), container hints field" \
	|| fail "cores faults: namespaces" "$(jq -c '{namespaces_not_init,container_hints}' <<<"$meta")"
[ -n "$bid" ] && [ "$(jq -r --arg p "$d/crasher" '.build_ids[] | select(.path == $p) | .build_id' <<<"$meta")" = "$bid" ] \
	&& jq -e '[.build_ids[].path] | any(test("libc"))' <<<"$meta" >/dev/null \
	&& pass "cores faults: build ids of exe and libc from /proc/<pid>/map_files" \
	|| fail "cores faults: build ids" "want $bid: $(jq -c .build_ids <<<"$meta" | head -c 300)"
t=$("$CK" cores --config "$c" info --json | jq -r '.meta.time')
[ "$("$CK" cores --config "$c" info --json | jq -r .time_usec)" = "$((t * 1000000))" ] \
	&& pass "cores faults: catalog time is the kernel's %t" || fail "cores faults: time" "t=$t"

# ---- non-root users -------------------------------------------------------
{ setpriv --reuid=nobody --regid=nogroup --clear-groups -- sh -c "cd '$d' && exec ./crasher abort"; } 2>/dev/null
{ setpriv --reuid=12345 --regid=12345 --clear-groups -- sh -c "cd '$d' && exec ./crasher fpe"; } 2>/dev/null
wait_n "$c" 53
nobody=$(id -u nobody)
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }
as_12345() { setpriv --reuid=12345 --regid=12345 --clear-groups -- "$@"; }
# Other users run copies of the binaries: the build tree may be where they
# cannot reach it (a checkout under /root, mode 0700).
mkdir -p "$d/bin" && cp "$CK" "$(dirname "$CK")/crashkit-cores" "$d/bin/" && chmod -R a+rX "$d/bin"
CKU=$d/bin/crashkit
mine=$(as_nobody "$CKU" cores --config "$c" list --json 2>&1)
if [ "$(jq length <<<"$mine")" = 1 ] && [ "$(jq -r '.[0].uid' <<<"$mine")" = "$nobody" ] \
	&& [ "$(jq -r '.[0].signal' <<<"$mine")" = 6 ]; then
	pass "cores faults: non-root list shows only the user's own crash"
else
	fail "cores faults: nobody's list" "$(head -c 300 <<<"$mine")"
fi
as_nobody "$CKU" cores --config "$c" info crasher | grep -q "do_abort" && pass "cores faults: non-root info of own crash with backtrace" \
	|| fail "cores faults: nobody's info"
npid=$(jq -r '.[0].pid' <<<"$mine")
"$CK" cores --config "$c" dump -o "$d/root-view.core" "$npid"
if as_nobody "$CKU" cores --config "$c" dump -o - "$npid" > "$d/nobody-view.core" && cmp -s "$d/root-view.core" "$d/nobody-view.core"; then
	pass "cores faults: the owner reads their core ($(stat -c %s "$d/nobody-view.core") bytes, same as root's dump)"
else
	fail "cores faults: owner dump" "$(ls -l "$d"/*-view.core)"
fi
rootf=$(list "$c" | jq -r '[.[] | select(.uid == 0 and .core_file != "")][0].core_file')
nobodyf=$(list "$c" | jq -r --argjson u "$nobody" '[.[] | select(.uid == $u)][0].core_file')
rootpid=$(list "$c" | jq -r '[.[] | select(.uid == 0)][0].pid')
if ! as_nobody cat "$d/s/$rootf" >/dev/null 2>&1 && ! as_12345 cat "$d/s/$nobodyf" >/dev/null 2>&1 \
	&& ! as_nobody "$CKU" cores --config "$c" dump -o - "$rootpid" >/dev/null 2>&1 \
	&& ! as_12345 cat "$d/s/by-uid/$nobody/"*.json >/dev/null 2>&1 && ! as_nobody ls "$d/s" >/dev/null 2>&1 \
	&& ! as_nobody cat "$d/s/catalog.db" >/dev/null 2>&1; then
	pass "cores faults: non-root users cannot read a root core, another user's core or metadata, the catalog, or list the store"
else
	fail "cores faults: access control" "root core $rootf, nobody core $nobodyf"
fi
[ "$(as_12345 "$CKU" cores --config "$c" list --json | jq -r '[.[].uid] | unique | join(",")')" = 12345 ] \
	&& pass "cores faults: uid 12345 sees only its own" || fail "cores faults: uid 12345 list"

# ---- list filters ---------------------------------------------------------
[ "$("$CK" cores --config "$c" list --json --uid "$nobody" | jq length)" = 1 ] \
	&& [ "$("$CK" cores --config "$c" list --json --signal SIGFPE | jq -r '.[0].uid')" = 12345 ] \
	&& [ "$("$CK" cores --config "$c" list --json --signal 11 | jq length)" = 51 ] \
	&& [ "$("$CK" cores --config "$c" list --json --since -1h | jq length)" = 53 ] \
	&& [ "$("$CK" cores --config "$c" list --json --until 2000-01-01 | jq length)" = 0 ] \
	&& [ "$("$CK" cores --config "$c" list --json --since @$(( $(date +%s) + 3600 )) | jq length)" = 0 ] \
	&& pass "cores faults: list --uid --signal --since --until" || fail "cores faults: filters"
expect_clean_error "cores faults: list --since garbage" "garbage" cores --config "$c" list --since garbage

# ---- vacuum ---------------------------------------------------------------
out=$("$CK" cores --config "$c" vacuum --keep-per-exe 3 2>&1)
kept=$(list "$c" | jq '[.[] | select(.core_file != "")] | length')
[ "$kept" = 3 ] && [ "$(n_of "$c")" = 53 ] && [ "$(ls "$d"/s/*.zst | wc -l)" = 3 ] \
	&& [ "$(list "$c" | jq -r '[.[] | select(.core_file == "")][0].reason')" = "keep_per_exe=3: newer cores of this exe (vacuum)" ] \
	&& pass "cores faults: vacuum --keep-per-exe 3 keeps 3 cores, all 53 records ($out)" \
	|| fail "cores faults: vacuum keep-per-exe" "$kept kept; $out"
"$CK" cores --config "$c" vacuum --max-use 0 >/dev/null
[ "$(ls "$d"/s/*.zst 2>/dev/null | wc -l)" = 0 ] && [ "$(n_of "$c")" = 53 ] \
	&& pass "cores faults: vacuum --max-use 0 drops every core, keeps every record" || fail "cores faults: vacuum max-use"
as_nobody "$CKU" cores --config "$c" list --json | jq -e '.[0].state == "metadata-only"' >/dev/null \
	&& pass "cores faults: the owner's copy of the record follows the drop" || fail "cores faults: owner's copy after vacuum"

# ---- keep_per_exe while handling ------------------------------------------
c2=$(conf s2 keep_per_exe=2 rate_limit_burst=100)
"$CK" cores --config "$c2" install >/dev/null
for i in 1 2 3; do crash segv; done
wait_n "$c2" 3
js=$(list "$c2")
[ "$(jq -r '[.[].state] | join(",")' <<<"$js")" = "stored,stored,metadata-only" ] \
	&& jq -r '.[2].reason' <<<"$js" | grep -q "keep_per_exe=2" \
	&& pass "cores faults: keep_per_exe=2: the third crash drops the oldest core, keeps its record" \
	|| fail "cores faults: keep_per_exe" "$(jq -c '[.[]|{state,reason}]' <<<"$js")"

# ---- honor_rlimit_core ----------------------------------------------------
c3=$(conf s3 honor_rlimit_core=yes rate_limit_burst=100)
"$CK" cores --config "$c3" install >/dev/null
(ulimit -c 0; crash segv)
(ulimit -c unlimited; crash abort)
wait_n "$c3" 2
# Both crashes fall in the same second (the kernel's %t): pick each by
# signal rather than by its place in the list.
js=$(list "$c3")
segv=$(jq -c '[.[] | select(.signal == 11)][0]' <<<"$js")
abrt=$(jq -c '[.[] | select(.signal == 6)][0]' <<<"$js")
[ "$(jq -r .state <<<"$segv")" = metadata-only ] && jq -r .reason <<<"$segv" | grep -q RLIMIT_CORE \
	&& jq -r .backtrace <<<"$segv" | grep -q . && [ "$(jq -r .state <<<"$abrt")" = stored ] \
	&& pass "cores faults: honor_rlimit_core: ulimit -c 0 keeps metadata + backtrace only; unlimited stores" \
	|| fail "cores faults: honor_rlimit_core" "$(jq -c '[.[]|{state,reason}]' <<<"$js")"

# ---- eviction under max_use -----------------------------------------------
c4=$(conf s4 max_use=5M keep_free=0 keep_per_exe=100 rate_limit_burst=100)
"$CK" cores --config "$c4" install >/dev/null
for i in 1 2 3 4 5; do crash random 1; done
wait_n "$c4" 5
js=$(list "$c4")
used=$(du -cb "$d"/s4/*.zst 2>/dev/null | tail -1 | cut -f1)
ev=$(jq '[.[] | select(.reason | test("evicted: store over max_use"))] | length' <<<"$js")
[ "$ev" -ge 1 ] && [ "$(jq -r '.[0].state' <<<"$js")" = stored ] && [ "${used:-0}" -le $((5 << 20)) ] \
	&& pass "cores faults: max_use=5M evicts the oldest cores ($ev evicted, store $used bytes), records stay" \
	|| fail "cores faults: max_use" "$ev evicted, $used bytes: $(jq -c '[.[]|{state,reason,stored_size}]' <<<"$js")"

# ---- disk full ------------------------------------------------------------
mkdir -p "$d/full"
if ! mount -t tmpfs -o size=8m,mode=755 tmpfs "$d/full" 2>/dev/null; then
	skip "cores faults: disk full" "mount -t tmpfs not permitted here"
else
	printf 'store=%s/full/s\nkeep_free=0\nmax_use=1G\nrate_limit_burst=100\n' "$d" > "$d/c5.conf"
	"$CK" cores --config "$d/c5.conf" install >/dev/null
	crash random 16
	wait_n "$d/c5.conf" 1
	js=$("$CK" cores --config "$d/c5.conf" info --json)
	state=$(jq -r .state <<<"$js") reason=$(jq -r .reason <<<"$js") size=$(jq -r .core_size <<<"$js")
	echo "# disk full (8 MiB tmpfs, 16 MiB random heap): state=$state, core_size=$size, reason: $reason"
	if { [ "$state" = truncated ] && [ "$(jq -r .truncated <<<"$js")" = true ] && [ "$size" -lt $((16 << 20)) ] \
		|| [ "$state" = metadata-only ]; } && [ -n "$reason" ] && [ -z "$(ls "$d"/full/s/*.tmp 2>/dev/null)" ]; then
		pass "cores faults: disk full -> core $state, the record says why ($reason)"
	else
		fail "cores faults: disk full" "$(jq -c '{state,reason,core_size,truncated}' <<<"$js")"
	fi
	jq -r .backtrace <<<"$js" | grep -q "TID\|no backtrace" && pass "cores faults: disk-full record has a backtrace section" \
		|| fail "cores faults: disk-full backtrace"
fi
"$CK" cores --config "$c" install >/dev/null
"$CK" cores --config "$c" uninstall >/dev/null
[ "$(cat "$CP")" = "$orig_pattern" ] && pass "cores faults: core_pattern restored" || fail "cores faults: restore" "$(cat "$CP")"
