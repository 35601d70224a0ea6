#!/usr/bin/env bash
# crashkit list (docs/catalog.md): real userspace crashes stored by the
# installed pipe handler (as tests/cli/cores.sh, core_pattern saved and
# restored) and a real kernel dump of the lab in crashkit's save layout,
# Debian kdump-tools' layout and as a bare vmcore, in one listing: newest
# first, triage run once per dump (triage.json beside it, not again on the
# second list), repeats grouped, --signature, --kind, -n, --json.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../cores/setup.sh"
cores_setup list
printf 'store=%s/s\nkeep_per_exe=100\nrate_limit_burst=100\n' "$d" > "$d/c.conf"
C=(--config "$d/c.conf")
L() { "$CK" list "${C[@]}" "$@"; }
sig16() { printf '%s' "$1" | sha256sum | cut -c1-16; }

# ---- the kernel dump: the lab's, as a save dir, a kdump-tools dir, a bare file
lab=
for cand in "${CK_LAB:-}" ~/.cache/crashkit/lab/6.1.0-57-amd64/run ~/.cache/crashkit/lab/6.12.117+deb12-amd64/run; do
	[ -n "$cand" ] && [ -s "$cand/vmcore.kdump-zlib" ] && { lab=$cand; break; }
done
K=()
if [ -n "$lab" ]; then
	vm=$lab/vmcore.kdump-zlib
	mkdir -p "$d/kc/20261201-101010" "$d/kc/20261201-101011" "$d/deb/202612011012" "$d/bare"
	ln -s "$vm" "$d/kc/20261201-101010/vmcore"	# two copies of one dump: grouped
	ln -s "$vm" "$d/kc/20261201-101011/vmcore"
	cp "$vm" "$d/deb/202612011012/dump.202612011012"	# a copy: its mtime can move
	ln -s "$vm" "$d/bare/vmcore"
	K=(--dir "$d/kc" --dir "$d/deb" --dir "$d/bare")
	direct=$("$(dirname "$CK")/crashkit-analyze" triage --json "$vm")
	ksig=$(jq -r .signature <<<"$direct") kclass=$(jq -r .class <<<"$direct")
else
	skip "list: kernel dumps" "no lab dump (CK_LAB, or ~/.cache/crashkit/lab/*/run/vmcore.kdump-zlib)"
	mkdir -p "$d/empty"
	K=(--dir "$d/empty")
fi

# ---- userspace: two identical crashes and one of another kind ----
"$CK" cores "${C[@]}" install >/dev/null || { fail "list: cores install"; exit 0; }
crash segv
crash segv
crash abort
"$CK" cores "${C[@]}" uninstall >/dev/null

js=$(L "${K[@]}" --json 2>"$d/err1")
if jq -e '.schema == "crashkit-list/1" and (.crashes | type == "array")' <<<"$js" >/dev/null; then
	pass "list: --json parses (schema crashkit-list/1, $(jq '.crashes | length' <<<"$js") crashes)"
else
	fail "list: --json" "$(head -c 300 <<<"$js") $(head -c 300 "$d/err1")"
fi
nuser=$(jq '[.crashes[] | select(.kind == "user")] | length' <<<"$js")
nkern=$(jq '[.crashes[] | select(.kind == "kernel")] | length' <<<"$js")
[ "$nuser" = 3 ] && pass "list: the 3 userspace crashes" || fail "list: user crashes" "$nuser"
if [ -n "$lab" ]; then
	[ "$nkern" = 4 ] && pass "list: 4 kernel dumps (2 save dirs, kdump-tools, bare)" \
		|| fail "list: kernel dumps" "$nkern: $(jq -c '[.crashes[] | .path]' <<<"$js")"
fi
# newest first: time never grows down the list
if jq -e '[.crashes[].time_usec] as $t | [range(1; $t | length) | $t[. - 1] >= $t[.]] | all' <<<"$js" >/dev/null; then
	pass "list: newest first"
else
	fail "list: order" "$(jq -c '[.crashes[].time_usec]' <<<"$js")"
fi
# every signature is its own input's SHA-256 (scheme v1), for both kinds
bad=0
while IFS=$'\t' read -r s in; do
	[ "$(sig16 "$in")" = "$s" ] || { bad=1; echo "# $s != sha256($in)"; }
done < <(jq -r '.crashes[] | select(.signature_input) | [.signature, .signature_input] | @tsv' <<<"$js")
n_in=$(jq '[.crashes[] | select(.signature_input)] | length' <<<"$js")
[ "$bad" = 0 ] && [ "$n_in" = $((nuser + nkern)) ] && pass "list: every signature is sha256(signature_input)[0:16] ($n_in)" \
	|| fail "list: signature inputs" "$n_in of $((nuser + nkern)) with an input"

# ---- userspace groups: the two segv are one signature, seen 2 on 1 boot ----
segv=$(jq -c '[.crashes[] | select(.kind == "user" and .class == "segv")]' <<<"$js")
usig=$(jq -r '.[0].signature' <<<"$segv")
if [ "$(jq length <<<"$segv")" = 2 ] && [ "$(jq -r '.[1].signature' <<<"$segv")" = "$usig" ] \
	&& [ "$(jq -r '.[0].seen' <<<"$segv")" = 2 ] && [ "$(jq -r '.[0].boots' <<<"$segv")" = 1 ] \
	&& jq -e '.[0].signature_input | startswith("v1|segv|crasher|do_segv")' <<<"$segv" >/dev/null; then
	pass "list: two identical segv crashes grouped: $usig seen 2 times on 1 boot"
else
	fail "list: user grouping" "$segv"
fi
abrt=$(jq -r '[.crashes[] | select(.class == "abrt")][0] | "\(.signature) \(.seen) \(.title)"' <<<"$js")
[[ "$abrt" != "$usig"* ]] && [[ "$abrt" == *" 1 crasher: SIGABRT in do_abort" ]] \
	&& pass "list: the abort is another signature: $abrt" || fail "list: abort" "$abrt"
# the catalog's own listing has the same (v1) signature
[ "$("$CK" cores "${C[@]}" list -F signature | head -1)" = "$(jq -r '[.crashes[] | select(.kind == "user")][0].signature' <<<"$js")" ] \
	&& pass "list: cores list shows the same signature" || fail "list: cores list signature"

if [ -n "$lab" ]; then
	# ---- kernel: triage once, stored beside the dump, grouped ----
	tj=$(find "$d/kc" "$d/deb" "$d/bare" -name triage.json | wc -l)
	inc=$(find "$d/kc" "$d/deb" "$d/bare" -name '*.incomplete' | wc -l)
	[ "$tj" = 4 ] && [ "$inc" = 0 ] && pass "list: triage.json beside each of the 4 dumps, no .incomplete left" \
		|| fail "list: triage.json" "$tj files, $inc incomplete"
	cmp -s <(jq -S 'del(.file)' "$d/bare/triage.json") <(jq -S 'del(.file)' <<<"$direct") \
		&& pass "list: the stored triage.json is crashkit triage --json's" \
		|| fail "list: stored triage" "$(diff <(jq -S . "$d/bare/triage.json") <(jq -S . <<<"$direct") | head -3)"
	k=$(jq -c '[.crashes[] | select(.kind == "kernel")]' <<<"$js")
	if jq -e --arg s "$ksig" --arg c "$kclass" 'all(.[]; .signature == $s and .class == $c and .seen == 4 and .boots == 4)' <<<"$k" >/dev/null; then
		pass "list: 4 copies of one kernel dump grouped: $ksig ($kclass) seen 4 times on 4 boots"
	else
		fail "list: kernel grouping" "$(jq -c '[.[] | [.signature, .class, .seen, .boots]]' <<<"$k")"
	fi
	jq -e --arg p "$d/deb/202612011012/dump.202612011012" '.[] | select(.path == $p) | .release != null and .pid > 0 and .culprit.function != null' <<<"$k" >/dev/null \
		&& pass "list: the kernel entry carries release, panic pid and culprit" || fail "list: kernel fields" "$(jq -c '.[0]' <<<"$k")"
	# the second list takes everything from the index: no triage, same files
	m1=$(stat -c %Y.%y "$d"/kc/*/triage.json "$d/deb"/*/triage.json "$d/bare/triage.json" | md5sum)
	sleep 1.1
	out=$(L "${K[@]}" -v 2>&1 >/dev/null)
	m2=$(stat -c %Y.%y "$d"/kc/*/triage.json "$d/deb"/*/triage.json "$d/bare/triage.json" | md5sum)
	grep -q "4 kernel dumps: 0 triaged now, 0 from triage.json, 4 from the index" <<<"$out" && [ "$m1" = "$m2" ] \
		&& pass "list: the second list runs no triage (4 from the index, triage.json untouched)" \
		|| fail "list: second list" "$out"
	# a dump that changed is indexed again; a fresh catalog reads triage.json
	touch "$d/deb/202612011012/dump.202612011012"
	out=$(L "${K[@]}" -v 2>&1 >/dev/null)
	grep -q "1 triaged now, 0 from triage.json, 3 from the index" <<<"$out" \
		&& pass "list: a changed dump (mtime) is triaged again, only it" || fail "list: changed dump" "$out"
	out=$(L "${K[@]}" --store "$d/s2" -v 2>&1 >/dev/null)
	grep -q "0 triaged now, 4 from triage.json, 0 from the index" <<<"$out" \
		&& pass "list: a new catalog indexes from the stored triage.json (no triage)" || fail "list: from file" "$out"
	# a new crashkit-analyze (new rules, maybe a new signature version): every
	# dump is triaged again, once
	mkdir -p "$d/bin" && cp "$(dirname "$CK")"/crashkit "$(dirname "$CK")"/crashkit-cores \
		"$(dirname "$CK")"/crashkit-analyze "$d/bin/"
	out=$("$d/bin/crashkit" list "${C[@]}" "${K[@]}" -v 2>&1 >/dev/null)
	out2=$("$d/bin/crashkit" list "${C[@]}" "${K[@]}" -v 2>&1 >/dev/null)
	grep -q "4 kernel dumps: 4 triaged now" <<<"$out" && grep -q "0 triaged now, 0 from triage.json, 4 from the index" <<<"$out2" \
		&& pass "list: another crashkit-analyze triages every dump again, once" \
		|| fail "list: new analyzer" "$out / $out2"
	rm -rf "$d/bin"
	out=$(L "${K[@]}" --signature "$ksig")
	grep -q "^Signature $ksig ($kclass): seen 4 times on 4 boots" <<<"$out" \
		&& [ "$(grep -c " kernel " <<<"$out")" = 4 ] && ! grep -q " user " <<<"$out" \
		&& pass "list: --signature $ksig: the group line and its 4 dumps" || fail "list: --signature" "$out"
	out=$(L "${K[@]}" --signature "${ksig:0:6}" --json | jq -c '[.crashes[].signature] | unique')
	[ "$out" = "[\"$ksig\"]" ] && pass "list: --signature takes a prefix" || fail "list: prefix" "$out"
	n=$(L "${K[@]}" --kind kernel --json | jq '[.crashes[] | select(.kind != "kernel")] | length')
	[ "$n" = 0 ] && pass "list: --kind kernel" || fail "list: --kind kernel" "$n"
	# a file that is no dump: listed as triage-failed, the rest still listed
	mkdir -p "$d/junk/20261201-000000" && head -c 4096 /dev/urandom > "$d/junk/20261201-000000/vmcore"
	out=$(L --dir "$d/junk" --json 2>"$d/err2"); rc=$?
	[ $rc = 0 ] && jq -e '.crashes[] | select(.kind == "kernel") | .state == "triage-failed" and (.reason | test("triage failed"))' <<<"$out" >/dev/null \
		&& pass "list: a file that is no dump is listed as triage-failed" \
		|| fail "list: junk dump" "rc $rc $(head -c 300 <<<"$out") $(cat "$d/err2")"
	[ ! -e "$d/junk/20261201-000000/triage.json" ] && pass "list: no triage.json for a failed triage" \
		|| fail "list: junk triage.json written"
	# a truncated dump: triage's partial report, indexed, with what it could not read
	mkdir -p "$d/cut/20261201-000002" && head -c 6000000 "$vm" > "$d/cut/20261201-000002/vmcore"
	out=$(L --dir "$d/cut" --json 2>"$d/err3"); rc=$?
	[ $rc = 0 ] && jq -e '.crashes[] | select(.kind == "kernel") | .state == "partial" and (.reason | test("^partial: [0-9]+ parts? unreadable \\(.+\\)$"))' <<<"$out" >/dev/null \
		&& [ -s "$d/cut/20261201-000002/triage.json" ] \
		&& pass "list: a truncated dump is indexed from triage's partial report ($(jq -r '.crashes[] | select(.kind == "kernel") | .reason' <<<"$out" | cut -c1-60)...)" \
		|| fail "list: truncated dump" "rc $rc $(jq -c '.crashes[] | select(.kind == "kernel")' <<<"$out" | head -c 300) $(cat "$d/err3")"
	# a dump directory others may write: no triage.json there (a symlink planted
	# where it would go is not followed), the dump still listed from the index
	mkdir -p "$d/shared/20261201-000003" && chmod 1777 "$d/shared/20261201-000003"
	ln -s "$vm" "$d/shared/20261201-000003/vmcore"
	echo victim > "$d/victim"
	ln -s "$d/victim" "$d/shared/20261201-000003/triage.json.incomplete"
	out=$(L --dir "$d/shared" --json 2>"$d/err5"); rc=$?
	[ $rc = 0 ] && [ "$(cat "$d/victim")" = victim ] && [ ! -e "$d/shared/20261201-000003/triage.json" ] \
		&& grep -q "not stored beside it: .* is not only this user's to write" "$d/err5" \
		&& [ "$(jq -r '.crashes[] | select(.kind == "kernel") | .signature' <<<"$out")" = "$ksig" ] \
		&& pass "list: a directory others may write gets no triage.json (planted symlink not followed)" \
		|| fail "list: shared dir" "rc $rc victim=$(cat "$d/victim") $(cat "$d/err5")"
	# another user's dump: listed, not fed to triage by root
	mkdir -p "$d/foreign/20261201-000004" && head -c 1000000 "$vm" > "$d/foreign/20261201-000004/vmcore"
	chown -R nobody "$d/foreign/20261201-000004"
	out=$(L --dir "$d/foreign" --json 2>&1); rc=$?
	[ $rc = 0 ] && jq -e '.crashes[] | select(.kind == "kernel") | .state == "not-indexed" and (.reason | test("not triaged by root: .*belongs to uid [1-9]"))' <<<"$out" >/dev/null \
		&& [ ! -e "$d/foreign/20261201-000004/triage.json" ] \
		&& pass "list: another user's dump is listed, not triaged by root" \
		|| fail "list: foreign dump" "rc $rc $(head -c 400 <<<"$out")"
	# another user: their own cores only (none), the dump they can read (a copy:
	# the symlinks point into root's home) from its triage.json
	chmod a+rx "$d/deb" "$d/deb/202612011012"
	[ "$(stat -c %a "$d/deb/202612011012/triage.json")" = "$(stat -L -c %a "$d/deb/202612011012/dump.202612011012")" ] \
		&& pass "list: triage.json is as readable as its dump ($(stat -c %a "$d/deb/202612011012/triage.json"))" \
		|| fail "list: triage.json mode" "$(stat -c %a "$d"/deb/*/*)"
	out=$(setpriv --reuid nobody --regid nogroup --clear-groups "$CK" list "${C[@]}" --dir "$d/deb" --json -v 2>"$d/err4"); rc=$?
	if [ $rc = 0 ] && [ "$(jq '[.crashes[] | select(.kind == "user")] | length' <<<"$out")" = 0 ] \
		&& [ "$(jq -r '[.crashes[] | select(.kind == "kernel")][0].signature' <<<"$out")" = "$ksig" ] \
		&& grep -q "1 kernel dumps: 0 triaged now, 1 from triage.json" "$d/err4"; then
		pass "list: as nobody: no one else's cores, the readable dump from its triage.json"
	else
		fail "list: as nobody" "rc $rc $(head -c 200 <<<"$out") $(cat "$d/err4")"
	fi
fi

# ---- options and errors ----
n=$(L "${K[@]}" --kind user --json | jq '[.crashes[] | select(.kind != "user")] | length')
[ "$n" = 0 ] && pass "list: --kind user" || fail "list: --kind user" "$n"
[ "$(L "${K[@]}" -n 2 --json | jq '.crashes | length')" = 2 ] && pass "list: -n 2" || fail "list: -n"
[ "$(L "${K[@]}" --since -1h --json | jq '[.crashes[] | select(.kind == "kernel")] | length')" = 0 ] \
	&& pass "list: --since -1h leaves out the old kernel dumps" || fail "list: --since"
out=$(L "${K[@]}")
head -1 <<<"$out" | grep -q "^TIME *KIND *PID *CLASS *SIGNATURE *SEEN/BOOTS *TITLE" \
	&& grep -q " user .* segv .* 2/1  crasher: SIGSEGV in do_segv" <<<"$out" \
	&& pass "list: text columns" || fail "list: text" "$(head -3 <<<"$out")"
check "list: --help" "$CK" list --help
[ "$("$CK" list --version)" = "$("$CK" --version)" ] && pass "list: --version" || fail "list: --version"
expect_usage() { local name=$1; shift; local err rc=0; err=$("$CK" list "${C[@]}" "$@" 2>&1 >/dev/null) || rc=$?
	[ $rc = 2 ] && [ "$(grep -c . <<<"$err")" = 1 ] && pass "$name" || fail "$name" "rc $rc: $err"; }
expect_usage "list: bad --kind" --kind both
expect_usage "list: bad --signature" --signature xyz
expect_usage "list: bad -n" -n -3
expect_usage "list: stray argument" foo
err=$(L --dir "$d/nonexistent" 2>&1 >/dev/null); rc=$?
[ $rc = 1 ] && [ "$(grep -c . <<<"$err")" = 1 ] && grep -q "$d/nonexistent" <<<"$err" \
	&& pass "list: a missing --dir: one line naming it" || fail "list: missing dir" "rc $rc: $err"
err=$(L "${K[@]}" --signature 0000000000000000 2>&1 >/dev/null); rc=$?
[ $rc = 1 ] && grep -q "no crash has signature" <<<"$err" && pass "list: unknown signature fails" \
	|| fail "list: unknown signature" "rc $rc $err"

# ---- an older catalog: its signatures are recomputed from the stored backtraces ----
if command -v sqlite3 >/dev/null; then
	before=$("$CK" cores "${C[@]}" list -F signature | sort | tr '\n' ' ')
	sqlite3 "$d/s/catalog.db" "UPDATE cores SET signature = printf('%016x', id); PRAGMA user_version = 0;"
	after=$("$CK" cores "${C[@]}" list -F signature | sort | tr '\n' ' ')
	v=$(sqlite3 "$d/s/catalog.db" "PRAGMA user_version")
	name=$("$CK" cores "${C[@]}" list -F name | head -1)
	filesig=$(jq -r .signature "$d/s/$name.json")
	[ "$before" = "$after" ] && [ "$v" = 1 ] && [ "$filesig" = "$("$CK" cores "${C[@]}" list -F signature | head -1)" ] \
		&& pass "list: old signatures recomputed from stored backtraces (and metadata files rewritten)" \
		|| fail "list: migration" "before $before after $after version $v file $filesig"
else
	skip "list: signature migration" "no sqlite3 command"
fi
