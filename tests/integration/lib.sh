# shellcheck shell=sh disable=SC2034
# (variables set here are read by the scripts that source this file)
#
# lib.sh - TAP helpers shared by tests/integration/run.sh and cli.sh.
# POSIX sh (busybox ash in the rig): no arrays, no [[ ]], no bash-isms.
#
# A test is
#
#	if t_begin "description"; then	# false (and prints a SKIP) when
#		hv run --raw "$GUESTS/x.bin"	# the test needs KVM and there is none
#		want_status 0
#		want_out 'expected\n'		# printf %b escapes
#		want_err_empty
#		t_end				# prints "ok N - ..." or "not ok N - ..."
#	fi				# with "# " lines of what differed
#
# hv runs "$HYVE" "$@" under `timeout $HV_TIMEOUT`, stdin from $HV_STDIN
# (default /dev/null), stdout to $OUT, stderr to $ERR, and sets $STATUS.

: "${HV_TIMEOUT:=30}"
T_NUM=0
T_FAILED=0
T_SKIPPED=0
T_NEED_KVM=0		# set to 1 while KVM tests run (see t_begin)
KVM_OK=0
KVM_WHY=""
KVM_KIND=none

t_setup() {
	TMPD=$(mktemp -d "${TMPDIR:-/tmp}/hyve-test.XXXXXX") || {
		echo "Bail out! mktemp failed"
		exit 1
	}
	OUT=$TMPD/stdout
	ERR=$TMPD/stderr
	DIAG=$TMPD/diag
	trap 't_cleanup' EXIT
	trap 'exit 130' INT TERM HUP
}

t_cleanup() {
	[ -z "${TMPD:-}" ] || rm -rf "$TMPD"
}

# Can this host run the small test guests?  Asks the one host probe,
# `hyve check-host`: kvm or restricted (e.g. kvm_pvm) run them, none does
# not.  Sets KVM_KIND, KVM_OK and KVM_WHY (the probe's reason when not).
kvm_probe() {
	KVM_KIND=$("$HYVE" check-host --quiet 2>/dev/null) || KVM_KIND=none
	case $KVM_KIND in
	kvm | restricted) KVM_OK=1 KVM_WHY="" ;;
	*)
		KVM_KIND=none KVM_OK=0
		KVM_WHY=$("$HYVE" check-host 2>&1 | head -n 1)
		[ -n "$KVM_WHY" ] || KVM_WHY="hyve check-host failed"
		;;
	esac
}

# diag LINE...: one diagnostic line for the current test.
diag() {
	printf '%s\n' "$*" >>"$DIAG"
}

# diag_file LABEL FILE: show up to 20 lines of FILE (escaped, via od -c when
# it is not plain text) as diagnostics.
diag_file() {
	if [ ! -s "$2" ]; then
		diag "$1: (empty)"
		return
	fi
	diag "$1:"
	if LC_ALL=C grep -q '[^[:print:][:space:]]' "$2" 2>/dev/null; then
		od -c "$2" | head -n 20 | sed 's/^/    /' >>"$DIAG"
	else
		head -n 20 "$2" | sed 's/^/    | /' >>"$DIAG"
		n=$(wc -l <"$2")
		[ "$n" -le 20 ] || diag "    ... ($n lines)"
		# a missing final newline is invisible above
		[ "$(tail -c 1 "$2" | od -An -c | tr -d ' ')" = '\n' ] ||
			diag "    (no newline at end)"
	fi
}

# t_begin DESCRIPTION: start a test.  When the test needs KVM (T_NEED_KVM=1)
# and KVM is not usable, print its SKIP line and return 1.
t_begin() {
	T_DESC=$1
	: >"$DIAG"
	: >"$OUT"
	: >"$ERR"
	STATUS=""
	if [ "$T_NEED_KVM" = 1 ] && [ "$KVM_OK" != 1 ]; then
		T_NUM=$((T_NUM + 1))
		T_SKIPPED=$((T_SKIPPED + 1))
		echo "ok $T_NUM - $T_DESC # SKIP $KVM_WHY"
		return 1
	fi
	return 0
}

# t_end: report the current test from what the want_* calls recorded.
t_end() {
	T_NUM=$((T_NUM + 1))
	if [ -s "$DIAG" ]; then
		T_FAILED=$((T_FAILED + 1))
		echo "not ok $T_NUM - $T_DESC"
		[ -z "${HV_CMD:-}" ] || echo "#   command: $HV_CMD"
		sed 's/^/#   /' "$DIAG"
	else
		echo "ok $T_NUM - $T_DESC"
	fi
	HV_CMD=""
}

# t_done: print the plan and return the suite's status.
t_done() {
	echo "1..$T_NUM"
	if [ "$T_FAILED" -ne 0 ]; then
		echo "# $T_FAILED of $T_NUM tests failed ($T_SKIPPED skipped)"
		return 1
	fi
	echo "# all $T_NUM tests passed ($T_SKIPPED skipped)"
	return 0
}

# hv ARGS...: run hyve.
hv() {
	HV_CMD="hyve $*"
	HV_T0=$(date +%s)
	timeout -k 5 "$HV_TIMEOUT" "$HYVE" "$@" <"${HV_STDIN:-/dev/null}" >"$OUT" 2>"$ERR"
	STATUS=$?
	hv_check_timeout
}

# hv_fails MESSAGE ARGS...: hyve ARGS exits 1 with one stderr line that
# matches MESSAGE (as want_err_one_line).
hv_fails() {
	_msg=$1
	shift
	hv "$@"
	want_status 1
	want_err_one_line "$_msg"
}

# hv_pipe DATA ARGS...: like hv, with printf-%b DATA piped to stdin.
hv_pipe() {
	_data=$1
	shift
	HV_CMD="printf '$_data' | hyve $*"
	HV_T0=$(date +%s)
	printf '%b' "$_data" | timeout -k 5 "$HV_TIMEOUT" "$HYVE" "$@" >"$OUT" 2>"$ERR"
	STATUS=$?
	hv_check_timeout
}

# After a run started at $HV_T0: say so when it was stopped by timeout
# (GNU timeout exits 124; busybox timeout passes on the child's status,
# which hyve, catching SIGTERM, may turn into 1; 137 = killed by -k).
hv_check_timeout() {
	_el=$(($(date +%s) - ${HV_T0:-0}))
	if [ "$_el" -ge "$HV_TIMEOUT" ]; then
		diag "hyve did not finish within $HV_TIMEOUT s (killed by timeout, status $STATUS)"
	else
		case $STATUS in
		124 | 137) diag "hyve was stopped by timeout (status $STATUS)" ;;
		esac
	fi
}

# want_status N
want_status() {
	[ "$STATUS" = "$1" ] && return 0
	if [ "$STATUS" -gt 128 ] 2>/dev/null; then
		diag "exit status: expected $1, got $STATUS (killed by signal $((STATUS - 128))?)"
	else
		diag "exit status: expected $1, got $STATUS"
	fi
	[ -s "$ERR" ] && [ "$1" = 0 ] && diag_file "stderr" "$ERR"
	return 1
}

# want_out EXPECTED: stdout is exactly EXPECTED (printf %b escapes).
want_out() {
	printf '%b' "$1" >"$TMPD/expected"
	want_file_is "stdout" "$OUT" "$TMPD/expected"
}

# want_file_is LABEL FILE EXPECTED_FILE: FILE's content is exactly that of
# EXPECTED_FILE.
want_file_is() {
	if [ ! -f "$2" ]; then
		diag "$1: file $2 does not exist"
		return 1
	fi
	cmp -s "$2" "$3" && return 0
	diag "$1 differs from the expected output"
	diag_file "expected $1" "$3"
	diag_file "actual $1" "$2"
	return 1
}

want_out_empty() {
	[ -s "$OUT" ] || return 0
	diag "stdout: expected nothing"
	diag_file "actual stdout" "$OUT"
	return 1
}

want_err_empty() {
	[ -s "$ERR" ] || return 0
	diag "stderr: expected nothing"
	diag_file "actual stderr" "$ERR"
	return 1
}

# want_err_line EXPECTED: stderr is exactly one line, EXPECTED.
want_err_line() {
	printf '%s\n' "$1" >"$TMPD/expected"
	cmp -s "$ERR" "$TMPD/expected" && return 0
	diag "stderr: expected exactly this one line:"
	diag "    | $1"
	diag_file "actual stderr" "$ERR"
	return 1
}

# want_err_one_line [EREGEX]: stderr is exactly one line, starting "hyve: "
# (and matching EREGEX, when given).
want_err_one_line() {
	_n=$(wc -l <"$ERR")
	_first=$(head -n 1 "$ERR")
	_ok=1
	if [ "$_n" -ne 1 ] || [ "$(wc -c <"$ERR")" -ne $((${#_first} + 1)) ]; then
		diag "stderr: expected exactly one line, got $_n newline(s)"
		_ok=0
	fi
	case $_first in
	"hyve: "?*) ;;
	*) diag "stderr: the line should start with 'hyve: '"; _ok=0 ;;
	esac
	if [ -n "${1:-}" ] && ! printf '%s\n' "$_first" | grep -Eq -- "$1"; then
		diag "stderr: expected a line matching /$1/"
		_ok=0
	fi
	[ "$_ok" = 1 ] && return 0
	diag_file "actual stderr" "$ERR"
	return 1
}

# want_err_has EREGEX: some stderr line matches EREGEX.
want_err_has() {
	grep -Eq -- "$1" "$ERR" && return 0
	diag "stderr: expected a line matching /$1/"
	diag_file "actual stderr" "$ERR"
	return 1
}

# want_out_has EREGEX [WHAT]: some stdout line matches EREGEX.
want_out_has() {
	grep -Eq -- "$1" "$OUT" && return 0
	diag "stdout: expected ${2:-a line matching /$1/}"
	return 1
}

# want_out_has_i STRING: stdout contains STRING, ignoring case (fixed string).
want_out_has_i() {
	grep -Fiq -- "$1" "$OUT" && return 0
	diag "stdout: expected to mention '$1' (any case)"
	return 1
}
