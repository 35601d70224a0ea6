#!/usr/bin/env bash
# Hostile input: files built to make a reader crash, hang or allocate without
# bound (issue 12).  Every crashkit command that reads a dump runs on each
# under `timeout 20` and must answer with a clean failure: exit 1 (not 124, a
# hang; not 125, a sanitizer report; not a signal), exactly one line on
# stderr, and that line names the file.  A few files are valid enough for
# some commands to succeed (an ELF dump without VMCOREINFO still has an
# `info`); those commands may exit 0, but never crash, hang or print a
# second line when they fail.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"

command -v python3 >/dev/null || { skip "hostile inputs" "no python3 to build them"; exit 0; }

d="$CK_TMP/hostile"
out="$d/out"
mkdir -p "$d" "$out"

# The files, small and built from their formats' layouts (lib/dump/*_format.h).
python3 - "$d" <<'EOF'
import os, random, struct, sys
d = sys.argv[1]
def w(name, data):
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)

def note(name, ntype, desc):
    n = name.encode() + b'\0'
    pad = lambda b: b + b'\0' * (-len(b) % 4)
    return struct.pack('<III', len(n), len(desc), ntype) + pad(n) + pad(desc)

# ELF64 x86_64 core: a PT_NOTE (VMCOREINFO when given) and PT_LOADs
# (paddr, memsz, filesz) whose data follows the notes, page aligned; the
# file is cut after data bytes of it when given.
def elf(loads, vmci=None, data=None):
    notes = note('VMCOREINFO', 0, vmci.encode()) if vmci is not None else b''
    phnum = 1 + len(loads)
    noff = 64 + 56 * phnum
    doff = (noff + len(notes) + 4095) // 4096 * 4096
    eh = b'\x7fELF\x02\x01\x01' + b'\0' * 9 + struct.pack(
        '<HHIQQQIHHHHHH', 4, 62, 1, 0, 64, 0, 0, 64, 56, phnum, 0, 0, 0)
    ph = struct.pack('<IIQQQQQQ', 4, 0, noff, 0, 0, len(notes), len(notes), 0)
    off = doff
    for paddr, memsz, filesz in loads:
        ph += struct.pack('<IIQQQQQQ', 1, 7, off, (0xffff888000000000 + paddr) % 2**64,
                          paddr, filesz, memsz, 4096)
        off += filesz
    body = eh + ph + notes
    return body + b'\0' * (doff - len(body)) + b'\x5a' * (off - doff if data is None else data)

# kdump-compressed header (version 6) and sub header, padded to total.
def kdump(bs=4096, bitmap_blocks=2, max_mapnr=0, total=0):
    uts = b''.join(f.ljust(65, b'\0') for f in (b'Linux', b'host', b'6.1.0', b'#1', b'x86_64', b''))
    h = b'KDUMP   ' + struct.pack('<i', 6) + uts + b'\0' * 6 + struct.pack(
        '<qqIiiIIIIIIi', 0, 0, 0, bs, 1, bitmap_blocks, 0, 0, 0, 0, 0, 1)
    sh = struct.pack('<QiiQQqQqQqQQQQ', 0, 31, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, max_mapnr)
    return (h.ljust(bs, b'\0') + sh.ljust(bs, b'\0')).ljust(total, b'\0')

# makedumpfile's flattened stream of (offset, data) records.
def flat(records):
    s = (b'makedumpfile'.ljust(16, b'\0') + struct.pack('>qq', 1, 1)).ljust(4096, b'\0')
    for off, data in records:
        s += struct.pack('>qq', off, len(data)) + data
    return s + struct.pack('>qq', -1, -1)

random.seed(12)
w('empty', b'')
w('one-byte', b'\x7f')
w('random', bytes(random.getrandbits(8) for _ in range(16384)))
# ELF: memory claimed far beyond what the file holds (hung capture, info's
# lost-page count on a cut file, --mem-usage)
w('elf-huge-memsz', elf([(0, 1 << 62, 4096)]))
w('elf-huge-paddr', elf([(1 << 62, 4096, 4096)]))
w('elf-top-paddr', elf([(2**64 - 8192, 4096, 4096)]))
w('elf-huge-memsz-cut', elf([(0, 8192, 8192), (1 << 20, 1 << 62, 1 << 61)], data=16384))
# ELF: zero and odd page sizes in VMCOREINFO, no page-table root
for ps in ('0', '4097'):
    w('elf-pagesize-' + ps, elf([(0, 1 << 62, 8192)], vmci='OSRELEASE=6.1.0\nPAGESIZE=%s\n' % ps))
# kdump: max_mapnr that wraps (max_mapnr + 7) / 8, and one past the bitmaps
w('kdump-mapnr-wraps', kdump(max_mapnr=2**64 - 1, total=4 * 4096))
w('kdump-mapnr-wraps64', kdump(max_mapnr=2**64 - 64, total=4 * 4096))
w('kdump-mapnr-big', kdump(max_mapnr=2**40, total=4 * 4096))
w('kdump-huge-blocks', kdump(bitmap_blocks=0xffffffff, max_mapnr=100, total=4 * 4096))
# flattened: 8 KiB that claim 4 GiB of bitmaps (one record 8 GiB out)
k = kdump(bitmap_blocks=1 << 20, max_mapnr=(1 << 20) * 4096 * 4)
w('flat-huge-bitmap', flat([(0, k[:4096]), (4096, k[4096:8192]), (1 << 33, b'x')]))
w('flat-huge-offset', flat([(0, b'\x7fELF'), (1 << 62, b'x')]))
EOF
[ -f "$d/flat-huge-offset" ] || { fail "hostile inputs" "could not build them"; exit 0; }

# Names that must survive quoting: a newline (printed as \n, one line) and
# spaces; a FIFO (open() must not wait for a writer), a directory.
cp "$d/kdump-mapnr-wraps" "$d/new
line"
cp "$d/elf-huge-memsz" "$d/with spaces"
mkfifo "$d/fifo" 2>/dev/null || true
mkdir -p "$d/a dir"

# One command on one file: a clean failure (or, when allowed, success).
# Usage: run_one FILE NEEDLE MAY-PASS KEY crashkit-args...
run_one() {
	local file=$1 needle=$2 may_pass=$3 key=$4; shift 4
	local base=${file##*/}
	local name="hostile: ${base//$'\n'/\\n} ($key)" err rc=0 lines
	rm -rf "$out"/*
	err=$(cd "$out" && timeout 20 "$CK" "$@" 2>&1 >/dev/null) || rc=$?
	lines=$(printf '%s\n' "$err" | grep -c . || true)
	if [ "$rc" -eq 0 ]; then
		case " $may_pass " in
		*" $key "*) pass "$name" ;;
		*) fail "$name" "exit 0" ;;
		esac
	elif [ "$rc" -ne 1 ]; then
		fail "$name" "exit $rc (124 hang, 125 sanitizer, >128 signal): $(printf '%s' "$err" | head -c 400)"
	elif [ "$lines" -ne 1 ]; then
		fail "$name" "$lines lines on stderr: $(printf '%s' "$err" | head -c 400)"
	elif ! printf '%s' "$err" | grep -qF -- "$needle"; then
		fail "$name" "message does not name '$needle': $err"
	else
		pass "$name"
	fi
}

# Every command that reads a dump, on FILE.
run_all() {
	local file=$1 needle=$2 may_pass=${3:-}
	run_one "$file" "$needle" "$may_pass" info info "$file"
	run_one "$file" "$needle" "$may_pass" json info --json "$file"
	run_one "$file" "$needle" "$may_pass" dmesg dmesg "$file"
	run_one "$file" "$needle" "$may_pass" sym sym "$file" x
	run_one "$file" "$needle" "$may_pass" capture capture -d 31 "$file" "$out/c"
	run_one "$file" "$needle" "$may_pass" elf capture -E "$file" "$out/e"
	run_one "$file" "$needle" "$may_pass" mem-usage capture --mem-usage "$file"
	run_one "$file" "$needle" "$may_pass" flat capture -F "$file"
	run_one "$file" "$needle" "$may_pass" dump-dmesg capture --dump-dmesg "$file" "$out/l"
	run_one "$file" "$needle" "$may_pass" split capture --split "$file" "$out/s1" "$out/s2"
	run_one "$file" "$needle" "$may_pass" makedumpfile makedumpfile -d 31 "$file" "$out/m"
}

for f in empty one-byte random kdump-mapnr-wraps kdump-mapnr-wraps64 kdump-mapnr-big \
	 kdump-huge-blocks flat-huge-bitmap flat-huge-offset fifo "a dir"; do
	run_all "$d/$f" "$d/$f"
done
# Readable ELF headers: info describes them; everything that needs the
# kernel or walks the memory they claim fails.
for f in elf-huge-memsz elf-huge-paddr elf-top-paddr elf-pagesize-0 elf-pagesize-4097 \
	 "with spaces"; do
	run_all "$d/$f" "$d/$f" "info json"
done
# Cut, with 2^49 pages claimed past the cut: info counts the lost pages
# (it used to visit each), and says the file is truncated on a second line.
run_one "$d/elf-huge-memsz-cut" "" "info" info info "$d/elf-huge-memsz-cut"
run_one "$d/elf-huge-memsz-cut" "" "json" json info --json "$d/elf-huge-memsz-cut"
run_all "$d/new
line" "$d/new\\nline"
run_all /dev/zero /dev/zero
# The split files of --reassemble are opened as dumps are.
for f in fifo "a dir" kdump-mapnr-wraps; do
	run_one "$d/$f" "$d/$f" "" reassemble capture --reassemble "$d/$f" "$d/$f" "$out/r"
done
