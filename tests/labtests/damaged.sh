#!/usr/bin/env bash
# Real dumps cut short or damaged: crashkit says what is wrong (file and
# offset), answers what it still can, and never crashes or hangs (this runs
# under ASan/UBSan).
set -uo pipefail
. "$(dirname "$0")/common.sh"

d="$CK_TMP/damaged"
mkdir -p "$d"

# Cut a dump at a fraction of its size.
cut_copy() {	# cut_copy SRC PERCENT DST
	local size; size=$(stat -c %s "$1")
	head -c $((size * $2 / 100)) "$1" > "$3"
}

for f in vmcore.kdump-zlib vmcore.kdump-lzo vmcore.flat vmcore.elf qemu.elf; do
	src="$CK_LAB/$f"
	[ -s "$src" ] || continue
	for pct in 1 50; do
		t="$d/$f.cut$pct"
		cut_copy "$src" "$pct" "$t"
		rc=0; out=$(timeout 120 "$CK" info "$t" 2>"$t.err") || rc=$?
		if [ "$rc" -eq 0 ] && grep -q '^truncated: *yes' <<<"$out" && grep -q '^lost pages:' <<<"$out"; then
			pass "$f cut at $pct%: info says truncated and what is lost ($(grep '^lost pages:' <<<"$out" | tr -s ' '))"
		elif [ "$rc" -ge 1 ] && [ "$rc" -lt 124 ] && [ "$(grep -c . "$t.err")" -eq 1 ] && grep -qF "$t" "$t.err"; then
			# the headers themselves are cut: a clean one-line refusal is right
			pass "$f cut at $pct%: info refuses cleanly ($(head -c 120 "$t.err"))"
		else
			fail "$f cut at $pct%: info" "exit $rc: $(head -c 300 "$t.err")"
		fi
		# dmesg and sym either answer or fail cleanly, naming the file
		for cmd in dmesg sym; do
			args=("$cmd" "$t"); [ "$cmd" = sym ] && args+=(panic)
			rc=0; timeout 120 "$CK" "${args[@]}" >/dev/null 2>"$t.err" || rc=$?
			if [ "$rc" -eq 0 ]; then
				pass "$f cut at $pct%: $cmd answers"
			elif [ "$rc" -lt 124 ] && [ "$(grep -c 'error:' "$t.err")" -eq 1 ] &&
				grep 'error:' "$t.err" | grep -qF "$t" && ! grep -q 'Sanitizer\|runtime error' "$t.err"; then
				# the one error line names the file and the offset it lacks
				pass "$f cut at $pct%: $cmd fails cleanly, naming the file"
			else
				fail "$f cut at $pct%: $cmd" "exit $rc: $(head -c 300 "$t.err")"
			fi
		done
		# big copies go at once; the half /proc/vmcore is used again below
		[ "$f.$pct" = vmcore.elf.50 ] || rm -f "$t"
	done
done

# A cut kdump dump with its log intact still prints it: cut after the last
# page the log needs is hard to know, so check the weaker promise: when the
# cut dump answers dmesg, its lines are a prefix-consistent subset of the whole.
src="$CK_LAB/vmcore.kdump-zlib"
if [ -s "$src" ] && [ -s "$CK_LAB/dmesg.makedumpfile.txt" ]; then
	t="$d/vmcore.kdump-zlib.cut90"
	cut_copy "$src" 90 "$t"
	if "$CK" dmesg "$(ck_dmesg_args "$CK_LAB/dmesg.makedumpfile.txt")" "$t" > "$t.out" 2>/dev/null; then
		if cmp -s "$t.out" "$CK_LAB/dmesg.makedumpfile.txt"; then pass "kdump cut at 90%: dmesg whole"
		else fail "kdump cut at 90%: dmesg answered but differs"; fi
	else
		pass "kdump cut at 90%: dmesg refused (log pages past the cut)"
	fi
fi

# /proc/vmcore holds the kernel image twice (its own segment first, then
# inside RAM): cut in half, the first copy is whole, and the kernel log (whose
# page tables and ring live in the image) must still come out complete.
src="$CK_LAB/vmcore.elf"
if [ -s "$src" ] && [ -s "$CK_LAB/dmesg.makedumpfile.txt" ]; then
	t="$d/vmcore.elf.cut50"
	[ -f "$t" ] || cut_copy "$src" 50 "$t"
	if "$CK" dmesg "$(ck_dmesg_args "$CK_LAB/dmesg.makedumpfile.txt")" "$t" > "$t.out" 2>/dev/null &&
	   cmp -s "$t.out" "$CK_LAB/dmesg.makedumpfile.txt"; then
		pass "ELF cut at 50%: dmesg still whole"
	else
		fail "ELF cut at 50%: dmesg still whole"
	fi
	rm -f "$t"
fi

# Damaged headers of real dumps: flip fields in place on a copy of the head.
flip() {	# flip FILE OFFSET HEXBYTES
	printf "$(printf '%s' "$3" | sed 's/../\\x&/g')" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
if [ -s "$CK_LAB/vmcore.kdump-zlib" ]; then
	head -c 4194304 "$CK_LAB/vmcore.kdump-zlib" > "$d/kd-head"
	# disk_dump_header on x86_64: signature 8, header_version 4, utsname 390,
	# padding to 408, timeval 16, status @424, block_size @428,
	# sub_hdr_size @432, bitmap_blocks @436 (docs/formats/kdump-compressed.md).
	for spec in "block_size:428:ffffff7f" "block_size-zero:428:00000000" "sub_hdr_size:432:ffffff7f" "bitmap_blocks:436:ffffffff"; do
		IFS=: read -r field off bytes <<<"$spec"
		cp "$d/kd-head" "$d/kd-$field"
		flip "$d/kd-$field" "$off" "$bytes"
		expect_clean_error "kdump with absurd $field" "$d/kd-$field" info "$d/kd-$field"
	done
fi
if [ -s "$CK_LAB/vmcore.elf" ]; then
	head -c 1048576 "$CK_LAB/vmcore.elf" > "$d/elf-head"
	cp "$d/elf-head" "$d/elf-phoff"; flip "$d/elf-phoff" 32 "ffffffffffffff7f"
	expect_clean_error "ELF with e_phoff past the end" "$d/elf-phoff" info "$d/elf-phoff"
	cp "$d/elf-head" "$d/elf-phnum"; flip "$d/elf-phnum" 56 "ffff"
	expect_clean_error "ELF with e_phnum 65535" "$d/elf-phnum" info "$d/elf-phnum"
	# the first program header is PT_NOTE in /proc/vmcore: give it a huge size
	cp "$d/elf-head" "$d/elf-note"; flip "$d/elf-note" $((64 + 32)) "ffffffffffff0000"
	expect_clean_error "ELF with a PT_NOTE past the end" "$d/elf-note" info "$d/elf-note"
fi
