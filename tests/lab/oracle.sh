# Sourced by the analysis lab tests (tests/labtests/analyze_*.sh) after
# common.sh: crash's answers (with the DWARF vmlinux) and crashkit-analyze's
# (without it) for the same commands on the same dump of the lab.
#
#   oracle_crash DUMP CMD...   runs crash once on $CK_LAB/DUMP for the
#                              commands not answered yet; each answer is kept
#                              in $CK_LAB/oracle/<crash version>/DUMP/KEY.txt
#                              (the lab's cache: crash takes ~7 s to start;
#                              a failed start is remembered for the run).
#                              Status 1 if crash cannot read the dump
#                              (oracle_error says why, as crash_run does).
#   oracle_ck DUMP CMD...      crashkit-analyze (the ASan build) on the dump,
#                              no vmlinux, one session for all the commands;
#                              answers in $ORACLE_CK/DUMP/KEY.{txt,err}.
#   oracle_file crash|ck DUMP CMD   the path of an answer
#
# KEY is the command with every character outside [A-Za-z0-9._-] as '_'.
CK_ANALYZE=${CK_ANALYZE:-$CK_BUILD/crashkit-analyze}
ORACLE_CK=${ORACLE_CK:-$(mktemp -d "${TMPDIR:-/tmp}/ck-oracle.XXXXXX")}
oracle_error=

oracle_key() { printf '%s' "$1" | tr -c 'A-Za-z0-9._-' '_'; }

oracle_file() {
	local who=$1 dump=$2 cmd=$3
	case $who in
	crash) echo "$CK_LAB/oracle/$(crash_version | tr ' ' '-')/$dump/$(oracle_key "$cmd").txt" ;;
	ck) echo "$ORACLE_CK/$dump/$(oracle_key "$cmd").txt" ;;
	esac
}

oracle_crash() {
	local dump=$1 dir script cmd f failed missing=0 rc=0
	shift
	have_crash || { oracle_error="no crash peer"; return 1; }
	dir=$(dirname "$(oracle_file crash "$dump" x)")
	mkdir -p "$dir"
	# one crash at a time per dump (tests may run side by side)
	exec 9> "$dir/.lock"
	flock 9
	script=$(mktemp)
	for cmd in "$@"; do
		f=$(oracle_file crash "$dump" "$cmd")
		[ -f "$f" ] && continue
		printf '%s > %s.part\n' "$cmd" "$f" >> "$script"
		missing=1
	done
	# a start-up failure is remembered for this run only (not in the cache:
	# a timeout under load must not outlive the run)
	failed=$ORACLE_CK/$dump.crash-start-failed
	if [ "$missing" = 1 ] && [ -f "$failed" ]; then
		oracle_error=$(cat "$failed")
		rc=1
	elif [ "$missing" = 1 ]; then
		printf 'sys\nq\n' >> "$script"
		if crash_run "$script.startup" "$CK_LAB/vmlinux" "$CK_LAB/$dump" < "$script"; then
			for cmd in "$@"; do
				f=$(oracle_file crash "$dump" "$cmd")
				[ -f "$f.part" ] && mv "$f.part" "$f"
			done
		else
			mkdir -p "$ORACLE_CK" && echo "$crash_error" > "$failed"
			oracle_error=$crash_error
			rm -f "$dir"/*.part
			rc=1
		fi
	fi
	rm -f "$script" "$script.startup"
	exec 9>&-
	return $rc
}

oracle_ck() {
	local dump=$1 cmd f script
	shift
	mkdir -p "$ORACLE_CK/$dump"
	script=$(mktemp)
	for cmd in "$@"; do
		f=$(oracle_file ck "$dump" "$cmd")
		printf '%s > %s\n' "$cmd" "$f" >> "$script"
	done
	timeout 300 "$CK_ANALYZE" analyze "$CK_LAB/$dump" -i "$script" \
		< /dev/null > "$ORACLE_CK/$dump/.stdout" 2> "$ORACLE_CK/$dump/.stderr"
	local rc=$?
	rm -f "$script"
	return $rc
}
