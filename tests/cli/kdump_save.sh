#!/usr/bin/env bash
# crashkit kdump save (issue 11, docs/kdump.md "save") from the lab's dumps
# given as --vmcore: the directory layout, dmesg.txt equal to `crashkit
# dmesg`, panic.txt, info.json, a vmcore crashkit (and crash, where it reads
# the kernel) opens; ELF format; the archive; keep N; the ssh target against
# a real sshd on a high localhost port; the http target against
# tests/tools/ck-http-sink.c; a full target disk (a small tmpfs); bad
# kdump.conf lines (FILE:LINE); kdump list.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
d=$CK_TMP/kdump_save
rm -rf "$d"
mkdir -p "$d"
bindir=$(dirname "$CK")
sink=$bindir/tests/ck-http-sink
crash_bin=$(cat ~/.cache/crashkit/peers/crash.path 2>/dev/null || true)

# ---- the config file: defaults, every key, and bad lines -------------------
cat > "$d/full.conf" <<'EOF'
# every key
target = /var/core/kernel-core
format elf
codec lzo
dump_level 17
keep 5
final_action poweroff
failure_action dmesg-only
pre_hook /bin/true
post_hook /bin/true
archive tar.gz
os_release /etc/crashkit/os-release
threads 2
ssh_port 2222
ssh_key /etc/crashkit/id_ed25519
ssh_known_hosts /etc/crashkit/known_hosts
mount /mnt/x
fstype ext4
EOF
out=$("$CK" kdump save --config "$d/full.conf" --print-config 2>&1)
if grep -qx "CK_KDUMP_FORMAT='elf'" <<<"$out" && grep -qx "CK_KDUMP_DUMP_LEVEL='17'" <<<"$out" &&
   grep -qx "CK_KDUMP_FAILURE_ACTION='dmesg-only'" <<<"$out" &&
   grep -qx "CK_KDUMP_DIR='/var/core/kernel-core'" <<<"$out"; then
	pass "kdump.conf: every key parsed (--print-config)"
else
	fail "kdump.conf: every key parsed (--print-config)" "$out"
fi
out=$("$CK" kdump save --config /dev/null --target 'LABEL=dumps /crash' --print-config 2>&1)
if grep -qx "CK_KDUMP_DEVICE='LABEL=dumps'" <<<"$out" && grep -qx "CK_KDUMP_MOUNT='/mnt/crashkit-target'" <<<"$out" &&
   grep -qx "CK_KDUMP_DIR='/mnt/crashkit-target/crash'" <<<"$out" && grep -qx "CK_KDUMP_TARGET_KIND='device'" <<<"$out"; then
	pass "kdump.conf: a device target says what to mount"
else
	fail "kdump.conf: a device target says what to mount" "$out"
fi
out=$("$CK" kdump save --config /dev/null --target 'ssh kdump@10.0.2.2:/srv/dumps' --print-config 2>&1)
if grep -qx "CK_KDUMP_SSH='kdump@10.0.2.2'" <<<"$out" && grep -qx "CK_KDUMP_NETWORK='yes'" <<<"$out"; then
	pass "kdump.conf: an ssh target needs the network"
else
	fail "kdump.conf: an ssh target needs the network" "$out"
fi
if "$CK" kdump save --config "$PWD/etc/kdump.conf" --print-config >/dev/null 2>&1 ||
   [ ! -f etc/kdump.conf ]; then
	pass "kdump.conf: the shipped etc/kdump.conf parses"
else
	fail "kdump.conf: the shipped etc/kdump.conf parses" "$("$CK" kdump save --config etc/kdump.conf --print-config 2>&1)"
fi
# bad lines: one line on stderr naming FILE:LINE
n=0
while IFS='|' read -r line want; do
	n=$((n + 1))
	printf '# comment\n\n%s\n' "$line" > "$d/bad$n.conf"
	expect_clean_error "kdump.conf: bad line '$line' names FILE:LINE" "$d/bad$n.conf:3: " \
		kdump save --config "$d/bad$n.conf" --print-config
	err=$("$CK" kdump save --config "$d/bad$n.conf" --print-config 2>&1)
	grep -qF -- "$want" <<<"$err" && pass "kdump.conf: bad line '$line' says why" ||
		fail "kdump.conf: bad line '$line' says why" "$err"
done <<'EOF'
colour blue|unknown key 'colour'
format zip|format 'zip'
codec lz4|codec 'lz4'
dump_level 32|dump_level '32'
dump_level -1|dump_level '-1'
keep many|keep 'many'
final_action explode|final_action 'explode'
target relative/dir|target 'relative/dir'
target https://example.org/dumps|HTTPS needs a TLS library
target ssh nohost|want ssh USER@HOST:/PATH
target ssh -oProxyCommand=x@h:/d|user and host
target http://h:99999/d|port
target /var/../etc|without '..'
pre_hook relative|absolute path
archive zip|archive 'zip'
target|'target' has no value
EOF
expect_clean_error "kdump save: --target checked like the file" "--target: target 'nowhere'" \
	kdump save --config /dev/null --target nowhere --print-config
expect_clean_error "kdump save: a missing --config" "$d/absent.conf" \
	kdump save --config "$d/absent.conf" --print-config
expect_clean_error "kdump save: an unreadable vmcore" "$d/absent.vmcore" \
	kdump save --config /dev/null --vmcore "$d/absent.vmcore" --target "$d/nothing"
expect_clean_error "kdump save: --action outside the capture kernel is refused" "--action" \
	kdump save --config /dev/null --vmcore "$d/absent.vmcore" --target "$d/nothing" --action
rc=0; "$CK" kdump save --config /dev/null --vmcore "$d/absent.vmcore" --target "$d/nothing" >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] && pass "kdump save: nothing saved exits 1" || fail "kdump save: nothing saved exits 1" "exit $rc"

# ---- the lab dumps -----------------------------------------------------------
labs=()
for cand in ~/.cache/crashkit/lab/6.1.0-57-amd64/run ~/.cache/crashkit/lab/6.12.117+deb12-amd64/run \
	~/.cache/crashkit/lab/7.3.4+deb13-amd64/run; do
	[ -s "$cand/vmcore.elf" ] && labs+=("$cand")
done
if [ ${#labs[@]} -eq 0 ]; then
	skip "kdump save: lab dumps" "no ~/.cache/crashkit/lab/{6.1.0-57,6.12.117+deb12,7.3.4+deb13}-amd64/run/vmcore.elf (tests/lab/lab.sh makes them)"
fi

# check_dir NAME DIR LAB [flattened]: the layout every save leaves.
check_dir() {
	local name=$1 dir=$2 lab=$3 flat=${4:-}
	local dm
	dm=$("$CK" dmesg "$lab/vmcore.elf" | sha256sum)
	[ "$(sha256sum < "$dir/dmesg.txt")" = "$dm" ] && pass "$name: dmesg.txt equals crashkit dmesg" ||
		fail "$name: dmesg.txt equals crashkit dmesg"
	grep -q sysrq_handle_crash "$dir/panic.txt" && grep -q 'Kernel panic - not syncing' "$dir/panic.txt" &&
		pass "$name: panic.txt has the panic and its Call Trace" ||
		fail "$name: panic.txt has the panic and its Call Trace" "$(head -c 300 "$dir/panic.txt")"
	local rel want_rel
	want_rel=$("$CK" info "$lab/vmcore.elf" | sed -n 's/^release: *//p')
	rel=$(jq -r .kernel.release "$dir/info.json")
	if [ "$(jq -r .complete "$dir/info.json")" = true ] && [ "$rel" = "$want_rel" ] &&
	   [ "$(jq -r .kernel.build_id "$dir/info.json")" != null ] &&
	   [ "$(jq -r .crash_time_source "$dir/info.json")" = vmcoreinfo ] &&
	   [ "$(jq -r .stamp "$dir/info.json")" = "$(basename "$dir")" ] &&
	   [ "$(jq '.errors | length' "$dir/info.json")" = 0 ]; then
		pass "$name: info.json (complete, release $rel, build id, crash time, no errors)"
	else
		fail "$name: info.json" "$(head -c 600 "$dir/info.json")"
	fi
	[ ! -e "$dir/vmcore.incomplete" ] && [ -s "$dir/vmcore" ] && pass "$name: vmcore renamed" ||
		fail "$name: vmcore renamed" "$(ls "$dir")"
	if "$CK" dmesg "$dir/vmcore" | sha256sum | grep -qF "${dm%% *}"; then
		pass "$name: crashkit reads the saved vmcore (same log)"
	else
		fail "$name: crashkit reads the saved vmcore (same log)"
	fi
}

for lab in "${labs[@]}"; do
	k=$(basename "$(dirname "$lab")")
	# kdump format, the defaults
	t=$d/local-$k
	dir=$("$CK" kdump save --config /dev/null --vmcore "$lab/vmcore.elf" --target "$t" 2>"$d/err")
	rc=$?
	[ "$rc" = 0 ] && [ -d "$dir" ] && [ "$(dirname "$dir")" = "$t" ] &&
		basename "$dir" | grep -Eqx '[0-9]{8}-[0-9]{6}' &&
		pass "kdump save $k: exit 0, TARGET/YYYYmmdd-HHMMSS printed" ||
		fail "kdump save $k: exit 0, TARGET/YYYYmmdd-HHMMSS printed" "exit $rc, '$dir': $(cat "$d/err")"
	[ -d "$dir" ] || continue
	check_dir "kdump save $k" "$dir" "$lab"
	"$CK" info "$dir/vmcore" | grep -q '^format: *kdump' && pass "kdump save $k: a kdump-compressed vmcore" ||
		fail "kdump save $k: a kdump-compressed vmcore"
	if [[ $k == 7.* ]]; then
		skip "kdump save $k: crash opens the vmcore" "crash 9.0.2 does not read 7.x kernels"
	elif [ -x "$crash_bin" ] && [ -s "$lab/vmlinux" ]; then
		out=$(printf 'sys\nq\n' | timeout 300 "$crash_bin" -s "$lab/vmlinux" "$dir/vmcore" 2>&1)
		grep -q 'PANIC: "sysrq: SysRq : Trigger a crash"\|PANIC:.*sysrq' <<<"$out" &&
			pass "kdump save $k: crash 9.0.2 opens the vmcore (sys: the panic)" ||
			fail "kdump save $k: crash opens the vmcore" "$(tail -n 5 <<<"$out")"
	else
		skip "kdump save $k: crash opens the vmcore" "no crash peer or vmlinux"
	fi
	# a second save of the same crash: STAMP-2; keep 1 leaves only it
	dir2=$("$CK" kdump save --config /dev/null --vmcore "$lab/vmcore.elf" --target "$t" --dump-level 31 2>/dev/null)
	[ "$dir2" = "$dir-2" ] && pass "kdump save $k: a second dump of one crash is STAMP-2" ||
		fail "kdump save $k: a second dump of one crash is STAMP-2" "'$dir2'"
	ls=$("$CK" kdump list "$t" 2>&1)
	if [ "$(grep -c complete <<<"$ls")" -ge 2 ] && grep -qF "$dir2" <<<"$ls"; then
		pass "kdump list $k: both dumps"
	else
		fail "kdump list $k: both dumps" "$ls"
	fi
	j=$("$CK" kdump list --json "$t" 2>&1)
	[ "$(jq length <<<"$j")" = 2 ] && [ "$(jq -r '.[0].complete' <<<"$j")" = true ] &&
		[ "$(jq -r '.[1].release' <<<"$j")" = "$(jq -r .kernel.release "$dir/info.json")" ] &&
		pass "kdump list --json $k" || fail "kdump list --json $k" "$j"
	printf 'keep 1\n' > "$d/keep.conf"
	dir3=$("$CK" kdump save --config "$d/keep.conf" --vmcore "$lab/vmcore.elf" --target "$t" 2>/dev/null)
	left=$(cd "$t" && ls)
	[ "$left" = "$(basename "$dir3")" ] && pass "kdump save $k: keep 1 removed the older dumps" ||
		fail "kdump save $k: keep 1 removed the older dumps" "$left"

	# ELF format, with the archive, hooks and os-release
	printf 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n' > "$d/os-release"
	printf '#!/bin/sh\necho "$1" > %s/hook.$$\n' "$d" > "$d/hook"
	chmod +x "$d/hook"
	printf 'format elf\narchive tar.zst\nos_release %s\npre_hook %s\npost_hook %s\n' \
		"$d/os-release" "$d/hook" "$d/hook" > "$d/elf.conf"
	rm -f "$d"/hook.*
	t=$d/elf-$k
	dir=$("$CK" kdump save --config "$d/elf.conf" --vmcore "$lab/vmcore.elf" --target "$t" 2>"$d/err")
	rc=$?
	[ "$rc" = 0 ] && pass "kdump save $k elf: exit 0" || fail "kdump save $k elf: exit 0" "$(cat "$d/err")"
	[ -d "$dir" ] || continue
	check_dir "kdump save $k elf" "$dir" "$lab"
	"$CK" info "$dir/vmcore" | grep -q '^format: *elf' && pass "kdump save $k elf: an ELF vmcore" ||
		fail "kdump save $k elf: an ELF vmcore"
	[ "$(jq -r .os_release.ID "$dir/info.json")" = debian ] &&
		[ "$(jq -r .kernel.package "$dir/info.json")" = "linux-image-$(jq -r .kernel.release "$dir/info.json")" ] &&
		pass "kdump save $k elf: os-release and kernel package in info.json" ||
		fail "kdump save $k elf: os-release and kernel package in info.json" "$(jq -c '.os_release, .kernel' "$dir/info.json")"
	[ "$(cat "$d"/hook.* 2>/dev/null | sort -u)" = "$dir" ] && [ "$(ls "$d"/hook.* | wc -l)" = 2 ] &&
		pass "kdump save $k elf: pre and post hook ran with the dump dir" ||
		fail "kdump save $k elf: pre and post hook ran with the dump dir" "$(cat "$d"/hook.* 2>&1)"
	arc=$dir/$(basename "$dir").tar.zst
	if [ -s "$arc" ] && [ "$(jq -r .archive "$dir/info.json")" = "$(basename "$arc")" ]; then
		mkdir -p "$d/untar-$k"
		if zstd -dc "$arc" | tar -x -C "$d/untar-$k" 2>"$d/err" &&
		   cmp -s "$d/untar-$k/$(basename "$dir")/vmcore" "$dir/vmcore" &&
		   cmp -s "$d/untar-$k/$(basename "$dir")/info.json" "$dir/info.json"; then
			pass "kdump save $k elf: tar.zst archive holds the directory"
		else
			fail "kdump save $k elf: tar.zst archive holds the directory" "$(cat "$d/err")"
		fi
		rm -rf "$d/untar-$k"
	else
		fail "kdump save $k elf: tar.zst archive" "$(ls "$dir")"
	fi
	rm -rf "$t"
done

# ---- the http target ----------------------------------------------------------
lab=${labs[0]:-}
if [ -z "$lab" ]; then
	skip "kdump save http" "no lab dump"
elif [ ! -x "$sink" ]; then
	skip "kdump save http" "no $sink (make builds tests/tools/)"
else
	"$sink" "$d/http.port" "$d/www" 2>"$d/http.log" &
	spid=$!
	for _ in $(seq 50); do [ -s "$d/http.port" ] && break; sleep 0.1; done
	port=$(cat "$d/http.port")
	url=$("$CK" kdump save --config /dev/null --vmcore "$lab/vmcore.elf" --target "http://127.0.0.1:$port/kc" 2>"$d/err")
	rc=$?
	kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null
	stamp=${url##*/}
	[ "$rc" = 0 ] && [ "$url" = "http://127.0.0.1:$port/kc/$stamp" ] && pass "kdump save http: exit 0, the URL" ||
		fail "kdump save http: exit 0, the URL" "exit $rc '$url' $(cat "$d/err")"
	dir=$d/www/kc/$stamp
	if [ -d "$dir" ]; then
		check_dir "kdump save http" "$dir" "$lab"
		grep -q 'vmcore (chunked)' "$d/http.log" && pass "kdump save http: the dump went chunked" ||
			fail "kdump save http: the dump went chunked" "$(cat "$d/http.log")"
		[ "$(jq -r .vmcore.flattened "$dir/info.json")" = true ] &&
			"$CK" capture -R "$d/http.kdump" < "$dir/vmcore" 2>/dev/null &&
			"$CK" info "$d/http.kdump" | grep -q '^format: *kdump' &&
			pass "kdump save http: a flattened stream, reassembled by capture -R" ||
			fail "kdump save http: a flattened stream, reassembled by capture -R"
	fi
	# nobody listening: one line, exit 1 (nothing saved)
	err=$("$CK" kdump save --config /dev/null --vmcore "$lab/vmcore.elf" --target "http://127.0.0.1:$port/kc" 2>&1 >/dev/null)
	rc=$?
	[ "$rc" = 1 ] && [ "$(grep -c . <<<"$err")" = 1 ] && grep -q 'connect' <<<"$err" &&
		pass "kdump save http: no server: one line, exit 1" ||
		fail "kdump save http: no server: one line, exit 1" "exit $rc: $err"
fi

# ---- the ssh target: a real sshd on a high localhost port ------------------------
sshd=$(command -v sshd || echo /usr/sbin/sshd)
if [ -z "$lab" ]; then
	skip "kdump save ssh" "no lab dump"
elif [ ! -x "$sshd" ] || ! command -v ssh-keygen >/dev/null || ! command -v ssh >/dev/null; then
	skip "kdump save ssh" "no sshd/ssh (Debian: openssh-server, openssh-client)"
else
	s=$d/ssh
	mkdir -p "$s/remote"
	chmod 700 "$s"
	ssh-keygen -q -t ed25519 -N '' -f "$s/host_key" </dev/null
	ssh-keygen -q -t ed25519 -N '' -f "$s/id" </dev/null
	cp "$s/id.pub" "$s/authorized_keys"
	port=$((20000 + RANDOM % 20000))
	cat > "$s/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $s/host_key
AuthorizedKeysFile $s/authorized_keys
PidFile $s/sshd.pid
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
EOF
	mkdir -p /run/sshd 2>/dev/null
	"$sshd" -D -e -f "$s/sshd_config" 2>"$s/sshd.log" &
	sshpid=$!
	echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$s/host_key.pub")" > "$s/known_hosts"
	up=
	for _ in $(seq 50); do
		ssh -o BatchMode=yes -o UserKnownHostsFile="$s/known_hosts" -i "$s/id" -p "$port" \
			"$(id -un)@127.0.0.1" true 2>/dev/null && { up=1; break; }
		sleep 0.2
	done
	if [ -z "$up" ]; then
		skip "kdump save ssh" "sshd did not start: $(tail -n 2 "$s/sshd.log" | tr '\n' ' ')"
	else
		printf 'ssh_port %s\nssh_key %s\nssh_known_hosts %s\n' "$port" "$s/id" "$s/known_hosts" > "$s/conf"
		tgt="ssh $(id -un)@127.0.0.1:$s/remote/kc"
		where=$("$CK" kdump save --config "$s/conf" --vmcore "$lab/vmcore.elf" --target "$tgt" 2>"$d/err")
		rc=$?
		dir=$s/remote/kc/${where##*/}
		[ "$rc" = 0 ] && [ "$where" = "$(id -un)@127.0.0.1:$dir" ] && pass "kdump save ssh: exit 0, USER@HOST:DIR" ||
			fail "kdump save ssh: exit 0, USER@HOST:DIR" "exit $rc '$where' $(cat "$d/err")"
		if [ -d "$dir" ]; then
			check_dir "kdump save ssh" "$dir" "$lab"
			"$CK" info "$dir/vmcore" | grep -q '^format: *flattened-kdump' &&
				pass "kdump save ssh: the flattened stream, read directly" ||
				fail "kdump save ssh: the flattened stream, read directly"
		fi
		# a wrong key: one line, exit 1
		ssh-keygen -q -t ed25519 -N '' -f "$s/other" </dev/null
		printf 'ssh_port %s\nssh_key %s\nssh_known_hosts %s\n' "$port" "$s/other" "$s/known_hosts" > "$s/bad.conf"
		err=$("$CK" kdump save --config "$s/bad.conf" --vmcore "$lab/vmcore.elf" --target "$tgt" 2>&1 >/dev/null)
		rc=$?
		[ "$rc" = 1 ] && [ "$(grep -c . <<<"$err")" = 1 ] && grep -q 'ssh' <<<"$err" &&
			pass "kdump save ssh: refused key: one line, exit 1" ||
			fail "kdump save ssh: refused key: one line, exit 1" "exit $rc: $err"
	fi
	kill "$sshpid" 2>/dev/null; wait "$sshpid" 2>/dev/null
fi

# ---- a full target disk -------------------------------------------------------------
mnt=$d/full
mkdir -p "$mnt"
if [ -z "$lab" ]; then
	skip "kdump save: full disk" "no lab dump"
elif ! mount -t tmpfs -o size=4m tmpfs "$mnt" 2>"$d/err"; then
	skip "kdump save: full disk" "cannot mount a tmpfs: $(cat "$d/err")"
else
	err=$("$CK" kdump save --config /dev/null --vmcore "$lab/vmcore.elf" --target "$mnt/kc" 2>&1 >"$d/out")
	rc=$?
	dir=$(cat "$d/out")
	[ "$rc" = 3 ] && [ "$(grep -c . <<<"$err")" = 1 ] && grep -q 'No space left' <<<"$err" &&
		pass "kdump save full disk: exit 3, one line (No space left)" ||
		fail "kdump save full disk: exit 3, one line" "exit $rc: $err"
	if [ -d "$dir" ]; then
		[ -s "$dir/dmesg.txt" ] && grep -q sysrq_handle_crash "$dir/panic.txt" &&
			pass "kdump save full disk: dmesg.txt and panic.txt are there" ||
			fail "kdump save full disk: dmesg.txt and panic.txt are there" "$(ls -la "$dir")"
		[ -e "$dir/vmcore.incomplete" ] && [ ! -e "$dir/vmcore" ] &&
			pass "kdump save full disk: the dump stays vmcore.incomplete" ||
			fail "kdump save full disk: the dump stays vmcore.incomplete" "$(ls "$dir")"
		[ "$(jq -r .complete "$dir/info.json")" = false ] && [ "$(jq -r .state "$dir/info.json")" = failed ] &&
			jq -r '.errors[]' "$dir/info.json" | grep -q 'No space left' &&
			[ "$(jq -r .vmcore.file "$dir/info.json")" = vmcore.incomplete ] &&
			pass "kdump save full disk: info.json says incomplete, with the error" ||
			fail "kdump save full disk: info.json says incomplete" "$(head -c 400 "$dir/info.json")"
		"$CK" info "$dir/vmcore.incomplete" 2>/dev/null | grep -q '^incomplete: *yes' &&
			pass "kdump save full disk: the incomplete dump is flagged and opens" ||
			fail "kdump save full disk: the incomplete dump is flagged and opens"
		ls=$("$CK" kdump list "$mnt/kc" 2>&1)
		grep -q incomplete <<<"$ls" && pass "kdump list: an incomplete dump" || fail "kdump list: an incomplete dump" "$ls"
	else
		fail "kdump save full disk: the dump dir" "'$dir'"
	fi
	umount "$mnt"
fi
