# bench/lib.sh - shared code of bench/exit-cost, bench/startup, bench/console
# and bench/run-all (sourced; POSIX sh: it also runs under busybox sh inside
# the nested-KVM rig).  See docs/bench.md.
#
# Two layouts:
#  - the repository: build/hyve, build/bench/{rawkvm,measure},
#    build/bench/guests/*.bin, qemu-system-x86_64 from PATH;
#  - a rig payload made by bench_payload: bin/, guests/, bench/, share/qemu/.
# Natively only where `hyve check-host` says kvm: on a restricted KVM
# (kvm_pvm) Linux does not boot and QEMU's -bios peers spin, and without KVM
# nothing runs; elsewhere (and HYVE_RIG is not 1) bench_main builds a payload
# and runs the same script inside the rig (tests/rig/rig.sh).
#
# Environment: HYVE_BENCH_RIG=1 forces the rig even on a kvm host;
# HYVE_BENCH_TIMEOUT (seconds) overrides the rig timeout.

# shellcheck disable=SC2034 # the variables are for the scripts that source this
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
if [ -x "$BENCH_DIR/../bin/hyve" ]; then
	BENCH_ROOT=$(cd "$BENCH_DIR/.." && pwd)
	BENCH_LAYOUT=payload
	HYVE=$BENCH_ROOT/bin/hyve
	RAWKVM=$BENCH_ROOT/bin/rawkvm
	MEASURE=$BENCH_ROOT/bin/measure
	GUESTS=$BENCH_ROOT/guests
	QEMU=$BENCH_ROOT/bin/qemu-system-x86_64
	QEMU_L=$BENCH_ROOT/share/qemu
else
	BENCH_ROOT=$(cd "$BENCH_DIR/.." && pwd)
	BENCH_LAYOUT=repo
	HYVE=$BENCH_ROOT/build/hyve
	RAWKVM=$BENCH_ROOT/build/bench/rawkvm
	MEASURE=$BENCH_ROOT/build/bench/measure
	GUESTS=$BENCH_ROOT/build/bench/guests
	QEMU=$(command -v qemu-system-x86_64 2>/dev/null || echo qemu-system-x86_64)
	QEMU_L=/usr/share/qemu
fi

# The QEMU firmware/data files a payload carries (-bios replaces the firmware,
# but keep the defaults at hand in case QEMU looks for them).
BENCH_QEMU_FILES="bios-microvm.bin kvmvapic.bin linuxboot_dma.bin pvh.bin"

die() { echo "bench: $*" >&2; exit 1; }
say() { echo "$*"; }

# Can the benchmarks run natively here?  The one host probe decides.
bench_native() {
	if [ "$BENCH_LAYOUT" = repo ] && [ ! -x "$HYVE" ]; then
		(cd "$BENCH_ROOT" && make -s build/hyve >&2) || die "make build/hyve failed"
	fi
	[ "$("$HYVE" check-host --quiet 2>/dev/null)" = kvm ]
}

# Where this runs, for the reports.
bench_env() {
	if [ "${HYVE_RIG:-}" = 1 ]; then
		echo "nested: kvm_amd in a QEMU TCG VM (tests/rig), kernel $(uname -r), $(nproc) vCPUs"
	else
		echo "native /dev/kvm, kernel $(uname -r), $(nproc) CPUs"
	fi
}

# Single-quote each argument for a sh command line.
sh_quote() {
	for a in "$@"; do
		printf "'%s' " "$(printf '%s' "$a" | sed "s/'/'\\\\''/g")"
	done
}

# bench_payload DIR: a rig payload with hyve, the helpers, the guests, the
# bench scripts, QEMU and its data files (rig.sh adds the shared libraries).
bench_payload() {
	p=$1
	(cd "$BENCH_ROOT" && make -s bench-build >&2) || die "make bench-build failed"
	mkdir -p "$p/bin" "$p/guests" "$p/bench" "$p/share/qemu"
	cp "$HYVE" "$RAWKVM" "$MEASURE" "$p/bin/"
	cp "$GUESTS"/*.bin "$p/guests/"
	cp "$BENCH_DIR/lib.sh" "$BENCH_DIR/exit-cost" "$BENCH_DIR/startup" \
		"$BENCH_DIR/console" "$BENCH_DIR/run-all" "$p/bench/"
	q=$(command -v qemu-system-x86_64) || die "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"
	cp "$q" "$p/bin/"
	for f in $BENCH_QEMU_FILES; do
		[ ! -e "$QEMU_L/$f" ] || cp -L "$QEMU_L/$f" "$p/share/qemu/"
	done
}

# bench_main NAME ARGS...: return to run here, or run NAME in the rig and exit.
bench_main() {
	name=$1
	shift
	if [ "${HYVE_RIG:-}" = 1 ]; then
		return 0
	fi
	if [ "${HYVE_BENCH_RIG:-}" != 1 ] && bench_native; then
		[ "$BENCH_LAYOUT" = payload ] ||
			(cd "$BENCH_ROOT" && make -s bench-build >&2) || die "make bench-build failed"
		return 0
	fi
	[ "$BENCH_LAYOUT" = repo ] || die "hyve check-host: $("$HYVE" check-host 2>&1)"
	command -v bash >/dev/null || die "the rig needs bash"
	p=$(mktemp -d "${TMPDIR:-/tmp}/hyve-bench.XXXXXX")
	bench_payload "$p"
	printf '#!/bin/sh\ncd /payload && exec sh bench/%s %s\n' "$name" "$(sh_quote "$@")" >"$p/run"
	chmod +x "$p/run"
	echo "bench: running bench/$name inside the nested-KVM rig (tests/rig/rig.sh)" >&2
	rc=0
	bash "$BENCH_ROOT/tests/rig/rig.sh" --timeout "${HYVE_BENCH_TIMEOUT:-$BENCH_TIMEOUT}" --boot-timeout 240 \
		--retries 1 "$p" || rc=$?
	rm -rf "$p"
	exit "$rc"
}

bench_work() {
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench.XXXXXX") || die "mktemp failed"
	trap 'rm -rf "$WORK"' EXIT
	trap 'exit 130' INT TERM
}

bench_check_bins() {
	for b in "$@"; do
		[ -x "$b" ] || die "$b missing (make bench-build)"
	done
}

# patch_u32 FILE OFFSET VALUE: little-endian, in place.
patch_u32() {
	v=$3
	# shellcheck disable=SC2059
	printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $((v & 255)) $((v >> 8 & 255)) \
		$((v >> 16 & 255)) $((v >> 24 & 255)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
patch_u16() {
	v=$3
	# shellcheck disable=SC2059
	printf "$(printf '\\%03o\\%03o' $((v & 255)) $((v >> 8 & 255)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# guest NAME COUNT [PORT]: path of a copy of guests/NAME.bin with its count
# (and port) patched.
guest() {
	g=$WORK/$1-$2${3:+-$3}.bin
	if [ ! -f "$g" ]; then
		cp "$GUESTS/$1.bin" "$g" || die "guest $1 missing"
		[ "$(dd if="$g" bs=1 skip=12 count=4 2>/dev/null)" = HYVB ] ||
			die "guest $1: no HYVB header"
		patch_u32 "$g" 4 "$2"
		[ -z "${3:-}" ] || patch_u16 "$g" 8 "$3"
	fi
	echo "$g"
}

# bios RAW: a 64 KiB QEMU -bios image of the raw guest RAW: the code at
# offset 0 (F000:0000 once mapped below 1 MiB), `ljmp $0xf000,$0` at the
# reset vector (offset 0xFFF0).
bios() {
	r=${1%.bin}.rom
	if [ ! -f "$r" ]; then
		dd if=/dev/zero of="$r" bs=1024 count=64 2>/dev/null
		dd if="$1" of="$r" conv=notrunc 2>/dev/null
		printf '\352\000\000\000\360' | dd of="$r" bs=1 seek=65520 conv=notrunc 2>/dev/null
	fi
	echo "$r"
}

# The QEMU peer: microvm, no defaults, 256 MiB like hyve's default; the
# guest comes as -bios ROM, -L points at the payload's data files.
QEMU_BASE="-accel kvm -M microvm -no-reboot -nodefaults -no-user-config -display none -m 256M"

# Any one measured command is killed after this many seconds.
BENCH_CMD_TIMEOUT=${BENCH_CMD_TIMEOUT:-180}

# m CMD...: run CMD under measure (output discarded); sets W (wall ns),
# R (peak RSS KiB), S (exit status).  MOUT=FILE keeps the output instead.
m() {
	if [ -n "${MOUT:-}" ]; then
		ml=$("$MEASURE" -t "$BENCH_CMD_TIMEOUT" -o "$MOUT" -- "$@") || die "measure failed on: $*"
	else
		ml=$("$MEASURE" -t "$BENCH_CMD_TIMEOUT" -q -- "$@") || die "measure failed on: $*"
	fi
	# shellcheck disable=SC2086 # split measure's line into fields
	set -- $ml
	W=${1#wall_ns=}
	R=${2#maxrss_kib=}
	S=${3#status=}
}

# m_expect WANT FILE CMD...: m, check the status, append W (and R) to FILE.
# A command killed by the timeout (status 137) is retried once: in the rig,
# a second-level vCPU now and then stops making progress inside KVM_RUN
# (nested SVM under TCG), whatever the VMM; see docs/bench.md.
m_expect() {
	want=$1 file=$2
	shift 2
	m "$@"
	if [ "$S" = 137 ]; then
		echo "bench: timed out after $BENCH_CMD_TIMEOUT s, retrying once: $*" >&2
		m "$@"
	fi
	if [ "$S" != "$want" ]; then
		echo "bench: unexpected exit status $S (want $want) from: $*" >&2
		MOUT=$WORK/fail.out
		m "$@"
		MOUT=""
		sed 's/^/bench:   | /' "$WORK/fail.out" | head -20 >&2
		die "giving up"
	fi
	echo "$W $R" >>"$file"
}

# median FILE [COLUMN]: median of a column (default 1) of numbers.
median() {
	awk -v c="${2:-1}" '{ print $c }' "$1" | sort -n | awk '
		{ a[NR] = $1 }
		END { if (NR == 0) { print "nan"; exit }
		      if (NR % 2) printf "%.0f\n", a[(NR + 1) / 2];
		      else printf "%.0f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# spread FILE: "min..max" of column 1, in ms.
spread() {
	sort -n "$1" | awk 'NR == 1 { lo = $1 } { hi = $1 }
		END { printf "%.1f..%.1f ms", lo / 1e6, hi / 1e6 }'
}

# calc EXPR: floating-point arithmetic through awk.
calc() { awk "BEGIN { print $1 }"; }
# fmt FORMAT VALUE: printf a number through awk (busybox printf has no %f
# on every build).
fmt() { awk -v v="$2" -v f="$1" 'BEGIN { printf f, v }'; }

# calib_exit_ns: ns per user-space exit of the raw KVM loop right now
# (20,000 OUTs, timed inside rawkvm's loop, startup excluded).
calib_exit_ns() {
	g=$(guest exit 20000) || exit 1
	for try in 1 2; do
		ct=$BENCH_CMD_TIMEOUT
		BENCH_CMD_TIMEOUT=60
		MOUT=$WORK/calib.out
		m "$RAWKVM" -v "$g"
		MOUT="" BENCH_CMD_TIMEOUT=$ct
		[ "$S" = 137 ] || break
		echo "bench: calibration timed out, retrying once" >&2
	done
	ns=$(sed -n 's/.*loop \([0-9]*\) ns.*/\1/p' "$WORK/calib.out")
	[ "$S" = 0 ] && [ -n "$ns" ] || die "rawkvm failed (status $S): $(cat "$WORK/calib.out")"
	echo $((ns / 20000))
}

# count_for SECS NS_PER_UNIT MAX: how many units fit in SECS, at most MAX,
# rounded down to two significant digits.
count_for() {
	awk -v s="$1" -v u="$2" -v max="$3" 'BEGIN {
		n = int(s * 1e9 / u); if (n > max) n = max; if (n < 100) n = 100;
		p = 1; while (n >= 100 * p) p *= 10; n = int(n / p) * p;
		printf "%d\n", n }'
}

# summary METRIC HYVE PEER RATIO TARGET: a line bench/run-all collects.
summary() {
	echo "SUMMARY|$1|$2|$3|$4|$5"
}
