#!/usr/bin/env bash
# The house rules (tests/house.sh, docs/design.md "Layers"): the tree and
# the build under test keep them, and the check catches a deliberate
# violation of each kind, so that it cannot pass by checking nothing.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
house=$top/tests/house.sh
# The release build: the NEEDED rule reads what ships (the ASan build also
# needs libasan and libubsan).
build=$(dirname "${CK_RELEASE:-$CK}")

if out=$("$house" --root "$top" --build "$build" 2>&1); then
	pass "house: includes by layer, links, function lengths, realloc only in lib/base"
else
	fail "house: the tree keeps the rules" "$(printf '%s\n' "$out" | head -n 5 | tr '\n' '|')"
fi

# violate ROOT_FILE LINE EXPECT NAME: a copy of the tree with LINE appended
# to ROOT_FILE fails the check with a line matching EXPECT.
violate() {
	local file=$1 line=$2 expect=$3 name=$4 t=$CK_TMP/house
	rm -rf "$t"
	mkdir -p "$t"
	cp -r "$top/lib" "$top/tools" "$t/"
	printf '%s\n' "$line" >> "$t/$file"
	if out=$("$house" --root "$t" --build "$build" 2>&1); then
		fail "house catches $name" "the check passed"
	elif printf '%s\n' "$out" | grep -q -- "$expect"; then
		pass "house catches $name: $(printf '%s\n' "$out" | grep -- "$expect" | head -n 1)"
	else
		fail "house catches $name" "$(printf '%s\n' "$out" | head -n 3 | tr '\n' '|')"
	fi
	rm -rf "$t"
}

violate lib/dump/file.c '#include "capture/capture.h"' \
	'lib/dump/file.c:[0-9]* includes "capture/capture.h"' "the dump layer including capture"
violate lib/capture/capture.c '#include "analysis/analysis.h"' \
	'lib/capture/capture.c:[0-9]* includes "analysis/analysis.h"' "capture reaching analysis"
violate tools/cmd_info.c '#include "kernel/kernel.h"' \
	'tools/cmd_info.c:[0-9]* includes "kernel/kernel.h"' "a tool including an internal header"
violate lib/walk/printk.c "$(printf 'void ck_long(void);\nvoid ck_long(void)\n{\n%s\n}' "$(printf '\t;\n%.0s' $(seq 151))")" \
	'lib/walk/printk.c:[0-9]*: function of 151 lines' "a function over 150 lines"
violate lib/walk/printk.c 'static void *grow(void *p) { return realloc(p, 8); }' \
	'lib/walk/printk.c:[0-9]*:.*realloc outside lib/base/' "realloc outside lib/base"

# The link rule, on a map that records a cores archive member in crashkit.
t=$CK_TMP/house-build
mkdir -p "$t"
cp "$build/crashkit" "$build/crashkit.map" "$build/crashkit-cores.map" "$t/"
echo "$t/libcores.a(store.o)  tools/cmd_info.o (ck_core_store_open)" >> "$t/crashkit.map"
if out=$("$house" --root "$top" --build "$t" 2>&1) || ! printf '%s\n' "$out" | grep -q 'crashkit links lib/cores/'; then
	fail "house catches crashkit linking lib/cores" "$(printf '%s\n' "$out" | head -n 3 | tr '\n' '|')"
else
	pass "house catches crashkit linking lib/cores: $(printf '%s\n' "$out" | grep 'crashkit links' | head -n 1)"
fi
rm -rf "$t"
