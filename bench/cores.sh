#!/usr/bin/env bash
# crashkit cores: handler ingest of a ~1 GiB core vs `zstd -T2 -1` and
# `cat > file` on the same bytes (warm page cache, same disk), and the
# backtrace of that core vs eu-stack.  Needs root (a kernel-written core).
# Usage: bench/cores.sh [MIB]   (default 1024)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
mib=${1:-1024}
ck=$top/build/release/crashkit
[ -x "$ck" ] || make -C "$top" -s
CP=/proc/sys/kernel/core_pattern
orig=$(cat "$CP")
d=$(mktemp -d /var/tmp/ckbench.XXXXXX)
trap 'printf "%s" "$orig" > "$CP"; kill "$sp" 2>/dev/null; rm -rf "$d"' EXIT INT TERM
gcc -g -O1 -pthread -o "$d/crasher" "$top/tests/cores/crasher.c"
printf '%s' "$d/core.%p" > "$CP"
{ (ulimit -c unlimited; cd "$d" && exec ./crasher big "$mib"); } 2>/dev/null || true
printf '%s' "$orig" > "$CP"
core=$(ls "$d"/core.*)
printf 'store=%s/s\nmax_core_size=100G\nmax_use=100G\nkeep_free=1G\n' "$d" > "$d/c.conf"
sleep 600 & sp=$!
cat "$core" > /dev/null	# warm

now() { date +%s.%N; }
t() { local t0; t0=$(now); "$@"; echo "$(now) - $t0" | bc; }
t_cat=$(t sh -c "cat '$core' > '$d/copy'; sync '$d/copy'")
rm -f "$d/copy"
t_zstd=$(t sh -c "zstd -q -T2 -1 -c '$core' > '$d/copy.zst'; sync '$d/copy.zst'")
zsize=$(stat -c %s "$d/copy.zst"); rm -f "$d/copy.zst"
t_ck=$(t sh -c "env -i '$ck' cores handle --config='$d/c.conf' P=$sp u=0 g=0 s=11 t=\$(date +%s) e=crasher < '$core' 2>/dev/null")
cksize=$("$ck" cores --config "$d/c.conf" list --json | jq -r '.[0].stored_size')
t_bt=$(t sh -c "'$ck' cores backtrace '$core' '$d/crasher' > /dev/null")
t_eu=$(t sh -c "eu-stack --core='$core' -e '$d/crasher' > /dev/null 2>&1")
size=$(stat -c %s "$core")
printf 'core: %d bytes (%d MiB heap)\n' "$size" "$mib"
printf '%-34s %8.3f s\n' "cat > file (+sync)" "$t_cat"
printf '%-34s %8.3f s  -> %d bytes\n' "zstd -T2 -1 (+sync)" "$t_zstd" "$zsize"
printf '%-34s %8.3f s  -> %d bytes  (%.2fx zstd, %.2fx cat)\n' \
	"crashkit cores handle (all steps)" "$t_ck" "$cksize" \
	"$(echo "$t_ck / $t_zstd" | bc -l)" "$(echo "$t_ck / $t_cat" | bc -l)"
printf '%-34s %8.3f s\n' "crashkit cores backtrace" "$t_bt"
printf '%-34s %8.3f s  (crashkit %.2fx)\n' "eu-stack --core" "$t_eu" "$(echo "$t_bt / $t_eu" | bc -l)"
