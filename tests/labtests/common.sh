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
	# stripped, as a capture initramfs carries it: the debug info is for
	# the host (over half a MiB that would only fill the crash kernel's memory)
	install -s -m 755 "$bin" "$tree/bin/crashkit"
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

# The crashkit dmesg option that prints the layout of FILE, an output of
# `makedumpfile --dump-dmesg`: makedumpfile 1.7.5+ writes printk's caller
# column after the timestamp ("[    0.000000] [      T0] Linux version")
# when VMCOREINFO has the caller_id offset (every kernel since 5.10), 1.7.4
# and older (Debian 12's 1.7.2) never.  --caller or --no-caller, from FILE's
# first line.
ck_dmesg_args() {
	if head -n 1 "$1" 2> /dev/null | grep -qE '^\[ *[0-9]+\.[0-9]{6}\] \[ *[TC][0-9]+\] '; then
		echo --caller
	else
		echo --no-caller
	fi
}

# The peers used as oracles.  Debian 12's by default; tests/run.sh points
# these at tests/lab/peers.sh's builds (docs/lab.md, "Peers").
CK_CRASH=${CK_CRASH:-crash}
CK_MAKEDUMPFILE=${CK_MAKEDUMPFILE:-makedumpfile}
have_crash() { command -v "$CK_CRASH" > /dev/null; }
have_makedumpfile() { command -v "$CK_MAKEDUMPFILE" > /dev/null; }

# "crash 9.0.2", as the crash peer names itself.
crash_version() {
	"$CK_CRASH" --version 2> /dev/null | awk '$1 == "crash" { print $1 " " $2; exit }'
}

# Whether the makedumpfile peer writes and reads CODEC (zlib, lzo, snappy,
# zstd): Debian 12's 1.7.2 has neither zstd nor snappy, sid's 1.7.8 zstd.
mdf_has() {
	[ "$1" = zlib ] || "$CK_MAKEDUMPFILE" -v 2> /dev/null | grep -q "^$1[[:space:]]*enabled"
}

# crash_run OUT VMLINUX DUMP... with crash's commands on stdin (`sys`
# first): crash's answers in OUT, without the lines that name the dump
# files.  Status 0 if crash came through its start-up (sys printed
# KERNEL:); else 1, with crash_error set to "crash X.Y.Z: " and crash's
# first error line (or the last line, if none looks like one).
crash_error=
crash_run() {
	local out=$1 rc line
	shift
	timeout 180 "$CK_CRASH" -s "$@" > "$out.raw" 2>&1
	rc=$?
	grep -v -e DUMPFILE -e 'PARTIAL DUMP' "$out.raw" > "$out"
	if grep -q '^ *KERNEL: ' "$out"; then rm -f "$out.raw"; return 0; fi
	# crash's own "crash: ..." line before any warning ("WARNING: SLUB:
	# cannot determine ..." comes first on 7.3)
	line=$(grep -m 1 '^crash: ' "$out.raw" ||
		grep -m 1 -i -E 'error|fatal|cannot|invalid|not found|segmentation' "$out.raw" ||
		grep -v '^[[:space:]]*$' "$out.raw" | tail -n 1)
	[ -n "$line" ] || line="stops at start-up without a message"
	[ "$rc" = 124 ] && line="timed out after 180 s; $line"
	crash_error="$(crash_version): $(echo "$line" | cut -c1-160) (exit $rc)"
	rm -f "$out.raw"
	return 1
}

# Whether makedumpfile VERSION (its -v, as truth.env's
# FILTER_MAKEDUMPFILE_VERSION records it) reads the tail bit from
# OFFSET(page.compound_info), the name Linux 7.1 (d50569612c29) gave
# OFFSET(page.compound_head): makedumpfile f50c015, the first in its
# sources after 1.7.9, whose -v says 1.7.9++ (then 1.7.10).  Three commits
# before it say 1.7.9++ too: taken as knowing, which keeps the comparison
# strict.  An unknown version is taken as knowing (strict as well).  This
# is decided from the version and, in explain_set_diff, the VMCOREINFO key,
# never from the kernel series.
mdf_knows_compound_info() {
	[ -z "$1" ] && return 0
	[ "$1" != 1.7.9 ] && [ "$(printf '%s\n' 1.7.9 "$1" | sort -V | tail -n 1)" = "$1" ]
}

# explain_set_diff VMCORE LIST MDF_VERSION: every pfn of LIST (`ck-cmp-pages
# --set-all CRASHKIT_DUMP MAKEDUMPFILE_DUMP`) that one set has and the other
# has not, explained page by page from ck-page-info's reading of VMCORE
# (lib/walk/page_class.c's decoding of the struct page).  Two reasons are known, both
# pages crashkit keeps and makedumpfile does not:
#  - partial: the dump holds part of the page only (the end of a RAM
#    segment, pfn 0x9f: 3 KiB).  makedumpfile rounds it out of its first
#    bitmap; we keep it, the missing part read as zeros.
#  - tail: a compound tail page whose head crashkit keeps, that makedumpfile
#    judged alone and excluded (its class judged alone is not "kept")
#    because it cannot tell tails: VMCOREINFO names the tail word
#    OFFSET(page.compound_info) (ck-page-info prints the key it has) and
#    makedumpfile MDF_VERSION does not read that key
#    (mdf_knows_compound_info).  On 7.3 page[1] of a slab folio reads
#    mapping 0x00000000ffffffff (_entire_mapcount -1 over it): anonymous.
# Anything else is not explained: makedumpfile right is the strict case.
# Sets expl_note (for a pass line), expl_bad (ck-page-info's line of the
# first unexplained pfn, or the pfn, or ""), and, for the class counts,
# expl_ck_zero (explained pages crashkit counts as zero pages) and
# expl_mdf_cache, expl_mdf_private, expl_mdf_user, expl_mdf_free
# (explained pages makedumpfile counts in that class).
explain_set_diff() {
	local vmcore=$1 list=$2 lacks=0 info r
	info=${CK_BUILD:-$(dirname "$CK")}/tests/ck-page-info
	mdf_knows_compound_info "$3" || lacks=1
	expl_note= expl_bad= expl_ck_zero=0 expl_mdf_cache=0 expl_mdf_private=0 expl_mdf_user=0 expl_mdf_free=0
	r=$(sed -n 's/^pfn \(0x[0-9a-f]*\) only in second$/\1/p' "$list" | head -n 1)
	if [ -n "$r" ]; then
		expl_bad="only makedumpfile keeps $("$info" "$vmcore" "$r" 2>&1 | head -c 600)"
		return
	fi
	r=$(sed -n 's/^pfn \(0x[0-9a-f]*\) only in first$/\1/p' "$list" |
		"$info" "$vmcore" - 2>&1 | awk -v lacks="$lacks" -v ver="${3:-unknown}" '
		{ delete k; for (i = 1; i <= NF; i++) { n = index($i, "="); k[substr($i, 1, n - 1)] = substr($i, n + 1) } }
		k["dump"] == "partial" { partial++; if (k["class"] == "zero") zero++; next }
		lacks && ("compound_info" in k) && k["tail"] == "yes" && k["head"] != "none" &&
		    k["filter"] == "kept" && k["alone"] != "kept" {
			tails++; mdf[k["alone"]]++; if (k["class"] == "zero") { zero++; tzero++ }; next }
		{ print "bad " $0; exit }
		END {
			printf "ok %d %d %d %d %d %d\n", zero, mdf["cache"], mdf["cache_private"], mdf["user"], mdf["free"], tails
			note = partial ? sprintf("%d partial page(s) at a RAM segment end", partial) : ""
			if (tails) note = note (note ? ", " : "") sprintf("%d tail page(s) makedumpfile %s judged alone (no OFFSET(page.compound_info)) with their head kept, %d of them zero", tails, ver, tzero)
			print "note " (note ? note : "no difference")
		}')
	expl_bad=$(echo "$r" | sed -n 's/^bad //p' | head -n 1)
	[ -n "$expl_bad" ] && { expl_bad="only crashkit keeps $expl_bad"; return; }
	read -r expl_ck_zero expl_mdf_cache expl_mdf_private expl_mdf_user expl_mdf_free _ <<< "$(echo "$r" | sed -n 's/^ok //p')"
	expl_note=$(echo "$r" | sed -n 's/^note //p')
}
