#!/usr/bin/env bash
# The house rules of docs/design.md ("Layers", "Executables"), checked over
# the tree and a build: prints one line per violation and exits 1 if any.
#
#   tests/house.sh [--root DIR] [--build DIR]
#
#  - includes: a file of lib/FOLDER/ includes "crashkit.h" or headers of the
#    folders below it (the table LAYERS); tools/ includes only "crashkit.h"
#    and its own "tools.h".
#  - links: each executable's link map (BUILD/NAME.map) names the folder
#    archives it took members from; crashkit takes none of the analysis or
#    cores folders, crashkit-cores none of capture or analysis.  The libraries
#    crashkit needs at run time (the capture initramfs carries them) are
#    the ones listed in CRASHKIT_NEEDED.
#  - no function in lib/ longer than MAX_FUNC lines; no realloc() in lib/
#    outside lib/base/.
set -uo pipefail

root=.
build=build/release
while [ $# -gt 0 ]; do
	case $1 in
	--root) root=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	*) echo "usage: $0 [--root DIR] [--build DIR]" >&2; exit 2 ;;
	esac
done

# folder: the folders its files may include (itself included).
declare -A LAYERS=(
	[base]="base"
	[dump]="base dump"
	[kernel]="base dump kernel"
	[walk]="base dump kernel walk"
	[capture]="base dump kernel walk capture"
	[cores]="base cores"
	[analysis]="base dump kernel walk analysis"
	[kdump]="base dump kernel walk capture kdump"
)
# executable: folder archives it must not link.
declare -A NO_LINK=(
	[crashkit]="analysis cores kdump"
	[crashkit-cores]="analysis capture kdump"
	[crashkit-analyze]="capture cores kdump"
	[crashkit-kdump]="analysis cores"
)
CRASHKIT_NEEDED="libz.so.1 libzstd.so.1 liblzo2.so.2 libjson-c.so.5 libdeflate.so.0 libc.so.6"
MAX_FUNC=150

bad=0
violation() {
	echo "$1"
	bad=1
}

# "file:line: name" for every quoted #include of the files given.
quoted_includes() {
	grep -Hn '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$@" 2>/dev/null |
		sed 's/^\([^:]*:[0-9]*\):.*"\(.*\)".*/\1: \2/'
}

check_lib_includes() {
	local dir folder allowed where name
	for dir in "$root"/lib/*/; do
		folder=$(basename "$dir")
		allowed=${LAYERS[$folder]:-}
		if [ -z "$allowed" ]; then
			violation "lib/$folder/: a folder docs/design.md does not name (tests/house.sh LAYERS)"
			continue
		fi
		while read -r where name; do
			[ -n "$name" ] || continue
			[ "$name" = crashkit.h ] && continue
			case " $allowed " in
			*" ${name%%/*} "*) [ "${name#*/}" != "$name" ] && continue ;;
			esac
			where=${where%:}; violation "${where#"$root"/} includes \"$name\": lib/$folder/ may include only crashkit.h and $allowed"
		done < <(quoted_includes "$dir"*.[ch])
	done
	for name in "$root"/lib/*.[ch]; do
		[ -e "$name" ] && violation "${name#"$root"/}: lib/ files live in a layer's folder"
	done
}

check_tool_includes() {
	local where name
	while read -r where name; do
		case $name in
		crashkit.h|tools.h) ;;
		*) where=${where%:}; violation "${where#"$root"/} includes \"$name\": tools/ sees only crashkit.h and tools.h" ;;
		esac
	done < <(quoted_includes "$root"/tools/*.[ch])
}

# The folder archives (lib<folder>.a) a link map loaded members from.
map_folders() {
	grep -F "$build/lib" "$1" | sed -n 's/^.*\/lib\([a-z_]*\)\.a(.*/\1/p' | sort -u
}

check_links() {
	local exe map f
	for exe in "${!NO_LINK[@]}"; do
		map=$build/$exe.map
		if [ ! -s "$map" ]; then
			violation "$map: no link map (the Makefile writes one per executable)"
			continue
		fi
		for f in $(map_folders "$map"); do
			case " ${NO_LINK[$exe]} " in
			*" $f "*) violation "$exe links lib/$f/ (lib$f.a in $map)" ;;
			esac
		done
	done
	[ -x "$build/crashkit" ] || return
	for f in $(readelf -d "$build/crashkit" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		case " $CRASHKIT_NEEDED " in
		*" $f "*) ;;
		*) violation "crashkit needs $f: the capture initramfs carries only $CRASHKIT_NEEDED" ;;
		esac
	done
}

# Function bodies: a line starting "{" after a definition line, to the
# first line starting "}" (the house style puts both in column 0).
check_functions() {
	awk -v max="$MAX_FUNC" -v root="$root/" '
		FNR == 1 { body = 0 }
		/^[A-Za-z_].*\(/ && !/;[[:space:]]*$/ { name = $0; line = FNR }
		/^\{/ { body = 1; start = FNR; next }
		/^\}/ && body {
			if (FNR - start - 1 > max) {
				f = FILENAME; sub("^" root, "", f)
				printf "%s:%d: function of %d lines (at most %d): %s\n", f, line, FNR - start - 1, max, name
			}
			body = 0
		}' "$root"/lib/*/*.c
}

check_realloc() {
	grep -EHn '\b(realloc|reallocarray|ck_realloc_array)[[:space:]]*\(' "$root"/lib/*/*.c 2>/dev/null |
		grep -v "^$root/lib/base/" | sed "s|^$root/||; s|\$|: realloc outside lib/base/ (use a vector)|"
}

check_lib_includes
check_tool_includes
check_links
while read -r line; do violation "$line"; done < <(check_functions; check_realloc)
exit $bad
