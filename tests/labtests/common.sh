# Sourced by the lab tests.  CK_LAB is the lab's output directory (see
# docs/lab.md): the dumps of one real crash, the peers' outputs, truth.env.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
: "${CK_LAB:?CK_LAB must name the lab output directory}"
# shellcheck disable=SC1091
. "$CK_LAB/truth.env"

# The dumps of the kdump capture (all of the same crash) and QEMU's dumps of
# a live guest (another boot).  Only those present are tested; a missing
# kdump-path dump is a failure, a missing optional QEMU codec is a skip.
CRASH_DUMPS=(vmcore.elf vmcore.kdump-zlib vmcore.kdump-lzo vmcore.flat vmcore.flat-reassembled)
QEMU_DUMPS=(qemu.elf qemu.kdump-zlib qemu.kdump-lzo qemu.kdump-snappy)

# kallsyms offset from the dump, as crashkit reports it (hex, no 0x).
ck_kaslr() { "$CK_RELEASE" info --json "$1" | sed -n 's/.*"kaslr_offset": *\([0-9]*\).*/\1/p'; }
