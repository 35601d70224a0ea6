#!/usr/bin/env bash
# Run the crash lab once into a fresh throwaway dir under /tmp (the kernel
# download in the cache is still reused) and print where it went.
#   tests/lab/demo.sh [lab.sh options...]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# A demo's dumps are ~2.5 GB: keep only the one this run makes.
for old in /tmp/crashkit-lab-demo.*; do
	[ -d "$old" ] || continue
	if [ -e "$old/.crashkit-lab" ] || [ -z "$(ls -A "$old")" ]; then rm -rf "$old"; fi
done
dir=$(mktemp -d /tmp/crashkit-lab-demo.XXXXXX)
# A fresh dir is never a cache hit; --force only makes that explicit.
"$here/lab.sh" --out "$dir" --force "$@" | tail -1
