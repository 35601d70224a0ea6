#!/usr/bin/env bash
# The smallest crashkernel= that still captures, Debian's kdump-tools +
# makedumpfile against crashkit, in the same Debian 12 image, the same
# kernel, the same QEMU (tests/lab/kdumptools/run.sh; docs/kdump.md,
# "Against Debian's kdump-tools").  A binary search per stack over
# LO..HI in STEP (MiB): HI is tried first (a failure there ends the search:
# "more than HI"), LO-STEP is taken as failing without a boot; each try is
# one QEMU boot of 3-8 minutes under TCG, cached by run.sh by its inputs, so
# a rerun costs nothing for the sizes already tried.
#
#   bench/crashkernel.sh [--kernel 6.1|6.12] [--stacks "kdump-tools crashkit crashkit-unstripped"]
#                        [--lo 64] [--hi 512] [--step 8] [--first MiB] [--bin DIR]
#
# crashkit-unstripped: crashkit's binaries as `make install` leaves them (with
# debug info, which its initramfs then carries) instead of stripped as its
# Debian package ships them.
# --first: the size to try right after HI (a guess that splits the range
# better than its middle, e.g. Debian's default 128).  One table row per
# attempt (stack, crashkernel=, result, the capture kernel's MemTotal and
# lowest MemAvailable, its uptime when it rebooted, the QEMU wall time, why
# it failed), then one line per
# stack with the smallest size that captured.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
series=6.1
stacks="kdump-tools crashkit"
lo=64 hi=512 step=8 first=
args=()
usage() { sed -n 's/^#   //p' "${BASH_SOURCE[0]}" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) series=${2:?}; shift ;;
	--stacks) stacks=${2:?}; shift ;;
	--lo) lo=${2:?}; shift ;;
	--hi) hi=${2:?}; shift ;;
	--step) step=${2:?}; shift ;;
	--first) first=${2:?}; shift ;;
	--bin) args+=(--bin "${2:?}"); shift ;;
	-h|--help) usage ;;
	*) echo "crashkernel.sh: unknown argument: $1" >&2; usage ;;
	esac
	shift
done
[ $(( (hi - lo) % step )) = 0 ] && [ "$hi" -gt "$lo" ] || { echo "crashkernel.sh: HI-LO must be a positive multiple of STEP" >&2; exit 2; }

# One attempt: run.sh (cached), then a table row; returns 0 when complete.
row() {
	local stack=$1 size=$2 dir env sargs=(--stack "$1")
	[ "$stack" != crashkit-unstripped ] || sargs=(--stack crashkit --unstripped)
	dir=$(bash "$top/tests/lab/kdumptools/run.sh" --kernel "$series" "${sargs[@]}" \
		--crashkernel "${size}M" "${args[@]}" | tail -1) || true
	env=$dir/result.env
	[ -f "$env" ] || { printf '| %s | %s | %sM | run.sh failed (no result) | | | | | |\n' "$series" "$stack" "$size"; return 1; }
	(
		# shellcheck disable=SC1090
		. "$env"
		printf '| %s | %s | %s | %s | %s | %s | %s | %s s | %s |\n' "$KVER" "$STACK" "$CRASHKERNEL" "$RESULT" \
			"${CAPTURE_MEMTOTAL_KB:+$CAPTURE_MEMTOTAL_KB kB}" "${CAPTURE_MIN_AVAILABLE_KB:+$CAPTURE_MIN_AVAILABLE_KB kB}" \
			"${CAPTURE_END_S:+${CAPTURE_END_S%.*} s}" "$TIME_QEMU_S" "$(printf '%s' "$REASON" | tr '|\n' '/ ' | cut -c1-160)"
		[ "$RESULT" = complete ]
	)
}

echo "| kernel | stack | crashkernel= | result | capture MemTotal | lowest MemAvailable | capture kernel up | QEMU | why not |"
echo "|---|---|---|---|---|---|---|---|---|"
summary=()
for stack in $stacks; do
	# indices: size = lo + i*step; bad = -1 (assumed), good = n-1 (tried)
	n=$(( (hi - lo) / step + 1 ))
	bad=-1 good=
	if row "$stack" "$hi"; then good=$((n - 1)); else
		summary+=("$stack: more than ${hi}M (nothing captured up to ${hi}M)")
		continue
	fi
	if [ -n "$first" ] && [ "$first" -ge "$lo" ] && [ "$first" -lt "$hi" ]; then
		i=$(( (first - lo) / step ))
		if row "$stack" $((lo + i * step)); then good=$i; else bad=$i; fi
	fi
	while [ $((good - bad)) -gt 1 ]; do
		i=$(( (good + bad) / 2 ))
		if row "$stack" $((lo + i * step)); then good=$i; else bad=$i; fi
	done
	if [ $bad = -1 ]; then
		summary+=("$stack: ${lo}M or less (the smallest tried, ${lo}M, captured)")
	else
		summary+=("$stack: $((lo + good * step))M (fails at $((lo + bad * step))M)")
	fi
done
echo
echo "smallest crashkernel= that captures ($series, 1 GiB TCG guest, step ${step}M):"
printf '  %s\n' "${summary[@]}"
