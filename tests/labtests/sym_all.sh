#!/usr/bin/env bash
# crashkit sym agrees with the kernel's System.map shifted by KERNELOFFSET for
# every name System.map lists exactly once (tens of thousands), and, for those
# whose address is listed once too, address -> name.  One dump is enough (the
# smallest of the capture's): the container format does not change kallsyms
# (sym.sh covers the formats); what
# this catches is an address encoding read wrongly for some symbols only
# (Linux 7.0's place-relative offsets were off by 4 bytes per table entry).
set -uo pipefail
. "$(dirname "$0")/common.sh"

map="$CK_LAB/System.map"
dump=
for f in vmcore.kdump-zlib vmcore.elf; do
	[ -s "$CK_LAB/$f" ] && { dump="$CK_LAB/$f"; break; }
done
if [ -z "$dump" ] || [ ! -s "$map" ]; then
	skip "sym_all" "no vmcore.kdump-zlib, vmcore.elf or System.map in $CK_LAB"
	exit 0
fi
# the crashed kernel's slide as the lab measured it, not as crashkit reads it
if [ -z "${KASLR_OFFSET:-}" ]; then fail "sym_all: KASLR_OFFSET in truth.env"; exit 0; fi
tmp=$(mktemp -d "$CK_TMP/sym_all.XXXXXX")

# Names listed once, and what the crashed kernel made of them: the image
# (from __START_KERNEL_map up) moves by KERNELOFFSET; x86_64's zero-based
# per-cpu symbols (before Linux 6.15) and absolute values do not.  awk has
# only doubles, so the sum is taken on the low 32 bits: KERNELOFFSET is below
# 1 GiB and the image never carries into the high half (KERNEL_IMAGE_SIZE).
awk -v off="$KASLR_OFFSET" -v tmp="$tmp" '
BEGIN { for (i = 0; i < 16; i++) { d = substr("0123456789abcdef", i + 1, 1); val[d] = i; dig[i] = d } }
function hex(s,   i, v, n, c) { v = 0; n = split(s, c, ""); for (i = 1; i <= n; i++) v = v * 16 + val[c[i]]; return v }
function hex8(v,   i, s) { s = ""; for (i = 0; i < 8; i++) { s = dig[v % 16] s; v = int(v / 16) } return s }
NF == 3 { addr[NR] = tolower($1); name[NR] = $3; nname[$3]++; naddr[tolower($1)]++ }
END {
	o = hex(tolower(off))
	for (i = 1; i <= NR; i++) {
		if (!(i in addr) || nname[name[i]] != 1) continue
		a = addr[i]
		image = a >= "ffffffff80000000"
		if (image) {
			lo = hex(substr(a, 9, 8)) + o
			a = lo < 4294967296 ? "ffffffff" hex8(lo) : "overflow"
		}
		print name[i], a, (naddr[addr[i]] == 1) > (tmp "/want")
		print name[i] > (tmp "/names")
		if (image && naddr[addr[i]] == 1) print "0x" a > (tmp "/addrs")
	}
}' "$map"
if [ ! -s "$tmp/want" ]; then fail "sym_all: System.map parsed"; exit 0; fi

# A few invocations of ~1 MB of arguments each (one kallsyms decode per call).
start=$(date +%s.%N)
xargs -s 1000000 "$CK" sym "$dump" < "$tmp/names" > "$tmp/by_name" 2> "$tmp/by_name.err"
xargs -s 1000000 "$CK" sym "$dump" < "$tmp/addrs" > "$tmp/by_addr" 2> "$tmp/by_addr.err"
secs=$(printf "%.1f" "$(echo "$(date +%s.%N) - $start" | bc)")

# by_name: "ADDR (T) NAME"; by_addr: "ADDR (T) NAME" or NAME+0xOFF (another symbol)
awk -v tmp="$tmp" -v secs="$secs" '
FILENAME == tmp "/want" { want[$1] = $2; uniq[$1] = $3; order[++n] = $1; next }
FILENAME == tmp "/by_name" { if (NF == 3) got[$3] = $1; next }
FILENAME == tmp "/by_addr" { if (NF == 3) rev[$1] = $3; next }
END {
	for (i = 1; i <= n; i++) {
		k = order[i]
		if (!(k in got)) { absent++; if (absent <= 8) notes = notes "absent " k "\n"; continue }
		if (got[k] != want[k]) { differ++; if (differ <= 5) notes = notes "differ " k " want " want[k] " got " got[k] "\n"; continue }
		equal++
		if (uniq[k] != 1 || want[k] < "ffffffff80000000") continue
		naddr++
		if (rev[want[k]] != k) { addr_differ++; if (addr_differ <= 5) notes = notes "addr_differ " want[k] " want " k " got " (want[k] in rev ? rev[want[k]] : "(nothing)") "\n" }
	}
	printf "names %d equal %d differ %d absent %d addresses %d addr_differ %d secs %s\n%s", n, equal, differ, absent, naddr, addr_differ, secs, notes
}' "$tmp/want" "$tmp/by_name" "$tmp/by_addr" > "$tmp/report"
read -r _ names _ equal _ differ _ absent _ naddr _ addr_differ _ secs < "$tmp/report"
sed -n '2,$s/^/# /p' "$tmp/report"
if [ "$differ" -eq 0 ] && [ "$equal" -gt 0 ]; then
	pass "sym_all $KVER: $equal of $names unique System.map names = System.map + KERNELOFFSET ($absent not in kallsyms, ${secs}s)"
else
	fail "sym_all $KVER: names" "$differ of $names differ from System.map + KERNELOFFSET"
fi
if [ "$addr_differ" -eq 0 ] && [ "$naddr" -gt 0 ]; then
	pass "sym_all $KVER: $naddr unique addresses name their System.map symbol"
else
	fail "sym_all $KVER: addresses" "$addr_differ of $naddr addresses name another symbol"
fi
# kallsyms leaves out only its own tables and absolute values: a name it
# misses beyond a handful means names were decoded wrongly, not addresses
if [ "$absent" -le 64 ]; then
	pass "sym_all $KVER: $absent System.map names not in kallsyms (its own tables, absolutes)"
else
	fail "sym_all $KVER: absent names" "$absent unique System.map names not found"
fi
rm -rf "$tmp"
