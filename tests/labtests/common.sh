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

# A tree for the lab's --extra-initrd: the release crashkit in DIR/bin and
# the libraries ldd lists at their own paths.  The caller adds its hooks.
hook_tree() {
	local tree=$1 bin=$2 lib
	rm -rf "$tree" && mkdir -p "$tree/bin"
	install -m 755 "$bin" "$tree/bin/crashkit"
	for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
		install -D -m 755 "$(realpath "$lib")" "$tree$lib"
	done
}

# The tree as a cpio on stdout, reproducible (fixed mtimes, --reproducible)
# so that its hash, and with it the lab's cache key, changes only with what
# is in it.
hook_cpio() {
	find "$1" -exec touch -h -d @0 {} +
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet)
}
