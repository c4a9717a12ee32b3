#!/bin/sh
# shellcheck source-path=SCRIPTDIR disable=SC2034
# cli.sh - hyve's command-line tests that need no KVM: --help, --version and
# every usage/setup error (each must be exactly one stderr line "hyve: ...",
# nothing on stdout, status 1 - no crash, no hang).  TAP output, like run.sh.
#
# POSIX sh, runs under busybox ash.  Environment: HYVE (default
# <repo>/build/hyve), HV_TIMEOUT (default 30).
#
# A few tests give a valid command line; what they expect depends on
# /dev/kvm: without it, the one-line /dev/kvm error (status 1); with it, the
# tiny guest runs (cli; hlt) and powers off (status 0).

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

root=$(cd "$here/../.." 2>/dev/null && pwd)
HYVE=${HYVE:-$root/build/hyve}

t_setup
kvm_probe
echo "# hyve CLI tests: HYVE=$HYVE"
[ -x "$HYVE" ] || echo "# WARNING: $HYVE is not an executable file"

# Images: a 2-byte guest (cli; hlt), an empty file, a directory.
IMG=$TMPD/hlt.bin
printf '\372\364' >"$IMG"
EMPTY=$TMPD/empty.bin
: >"$EMPTY"
mkdir "$TMPD/adir"

# mkimage FILE SIZE: a SIZE-byte image starting with cli; hlt.
mkimage() {
	printf '\372\364' >"$1"
	head -c $(($2 - 2)) /dev/zero >>"$1"
}

# usage_error DESCRIPTION [EREGEX] -- ARGS...: hyve ARGS must fail with one
# "hyve: " line on stderr (matching EREGEX), empty stdout, status 1.
usage_error() {
	_desc=$1
	shift
	_re=""
	if [ "$1" != "--" ]; then
		_re=$1
		shift
	fi
	shift # --
	if t_begin "$_desc"; then
		hv "$@"
		want_status 1
		want_out_empty
		want_err_one_line "$_re"
		t_end
	fi
}

# accepted DESCRIPTION -- ARGS...: a valid command line running the hlt
# image: with KVM it powers off (0); without, the /dev/kvm error (1).
accepted() {
	_desc=$1
	shift 2
	if t_begin "$_desc"; then
		hv "$@"
		if [ "$KVM_OK" = 1 ]; then
			want_status 0
			want_out_empty
			want_err_empty
		else
			want_status 1
			want_out_empty
			want_err_one_line '/dev/kvm'
		fi
		t_end
	fi
}

OPTIONS="--raw --memory --cpus --console --strict-io --stats --net"

# ---- help and version --------------------------------------------------------

if t_begin "hyve --help: status 0, on stdout, nothing on stderr"; then
	hv --help
	want_status 0
	want_err_empty
	[ -s "$OUT" ] || diag "stdout: expected the help text"
	t_end
fi

if t_begin "hyve --help mentions every run option"; then
	hv --help
	for o in $OPTIONS; do
		want_out_has_i "$o"
	done
	want_out_has_i "run"
	t_end
fi

if t_begin "hyve --help describes the exit statuses"; then
	hv --help
	want_out_has_i "status"
	want_out_has_i "triple"
	want_out_has_i "reset"
	for n in 0 1 2 3 4; do
		want_out_has "(^|[^0-9x.])$n([^0-9.]|\$)" "the exit status $n"
	done
	t_end
fi

if t_begin "hyve --help mentions the console escape Ctrl-A x"; then
	hv --help
	want_out_has_i "ctrl-a x"
	t_end
fi

if t_begin "hyve run --help: status 0, mentions every run option"; then
	hv run --help
	want_status 0
	want_err_empty
	for o in $OPTIONS; do
		want_out_has_i "$o"
	done
	t_end
fi

if t_begin "hyve --version: status 0, one line naming hyve and a version"; then
	hv --version
	want_status 0
	want_err_empty
	[ "$(wc -l <"$OUT")" -eq 1 ] || diag "stdout: expected one line, got $(wc -l <"$OUT")"
	want_out_has 'hyve.*[0-9]' "'hyve' and a version number"
	t_end
fi

# ---- usage errors --------------------------------------------------------------

usage_error "no arguments: usage error" -- 
usage_error "unknown command" -- frobnicate
usage_error "unknown option to run" -- run --bogus --raw "$IMG"
usage_error "unknown global option" -- --bogus
usage_error "run without --raw" -- run
usage_error "--raw without its argument" -- run --raw
usage_error "--memory without its argument" -- run --raw "$IMG" --memory
usage_error "--raw with a missing file names the file" "nonexistent" -- run --raw "$TMPD/nonexistent.bin"
usage_error "--raw with a directory (unreadable as an image)" -- run --raw "$TMPD/adir"
usage_error "--raw with an empty image" -- run --raw "$EMPTY"

# --memory
usage_error "--memory 12Q (bad suffix)" -- run --raw "$IMG" --memory 12Q
usage_error "--memory 0" -- run --raw "$IMG" --memory 0
usage_error "--memory -1" -- run --raw "$IMG" --memory -1
usage_error "--memory '' (empty)" -- run --raw "$IMG" --memory ""
usage_error "--memory abc" -- run --raw "$IMG" --memory abc
usage_error "--memory M (suffix only)" -- run --raw "$IMG" --memory M
usage_error "--memory 99999999999999999999 (overflow)" -- run --raw "$IMG" --memory 99999999999999999999
usage_error "--memory 16777216T (overflows 64 bits)" -- run --raw "$IMG" --memory 16777216T

# --cpus
usage_error "--cpus 0" -- run --raw "$IMG" --cpus 0
usage_error "--cpus 65" -- run --raw "$IMG" --cpus 65
usage_error "--cpus abc" -- run --raw "$IMG" --cpus abc
usage_error "--cpus -1" -- run --raw "$IMG" --cpus -1
usage_error "--cpus 2x" -- run --raw "$IMG" --cpus 2x

# --raw FILE@ADDR
usage_error "--raw FILE@0x10000 (address must be < 0x10000)" -- run --raw "$IMG@0x10000"
usage_error "--raw FILE@65536 (decimal, too high)" -- run --raw "$IMG@65536"
usage_error "--raw FILE@xyz" -- run --raw "$IMG@xyz"
usage_error "--raw FILE@ (empty address)" -- run --raw "$IMG@"
usage_error "--raw FILE@-1" -- run --raw "$IMG@-1"
usage_error "--raw FILE@0x (no digits)" -- run --raw "$IMG@0x"

# image size: ADDR + size must be <= 0xA0000
BIG=$TMPD/big.bin
mkimage "$BIG" $((0xA0000 - 0x7C00 + 1))
usage_error "image one byte too big for 0x7C00..0xA0000" -- run --raw "$BIG"
BIG1000=$TMPD/big1000.bin
mkimage "$BIG1000" $((0xA0000 - 0x1000 + 1))
usage_error "image one byte too big at @0x1000" -- run --raw "$BIG1000@0x1000"
FIT=$TMPD/fit.bin
mkimage "$FIT" $((0xA0000 - 0x7C00))
usage_error "image fitting at 0x7C00 but too big at @0x8000" -- run --raw "$FIT@0x8000"
HUGE=$TMPD/huge.bin
mkimage "$HUGE" $((2 * 1024 * 1024))
usage_error "2 MiB image" -- run --raw "$HUGE"

# --console
usage_error "--console bogus" -- run --raw "$IMG" --console bogus
usage_error "--console file= (no path)" -- run --raw "$IMG" --console file=
usage_error "--console file=PATH in a missing directory" -- run --raw "$IMG" --console "file=$TMPD/no/such/dir/out.txt"

# --net (checked before anything starts)
usage_error "--net bogus (unknown back end)" "back end" -- run --raw "$IMG" --net bogus
usage_error "--net user,frob=1 (unknown option)" "frob" -- run --raw "$IMG" --net user,frob=1
usage_error "--net user,mac=01:02:03:04:05:06 (multicast MAC)" "MAC" -- run --raw "$IMG" --net user,mac=01:02:03:04:05:06
usage_error "--net user,mac=52:54:00 (short MAC)" "MAC" -- run --raw "$IMG" --net user,mac=52:54:00
usage_error "--net user,hostfwd=tcp::80 (no guest port)" "hostfwd" -- run --raw "$IMG" --net user,hostfwd=tcp::80
usage_error "--net user,hostfwd=icmp::80-:80" "hostfwd" -- run --raw "$IMG" --net user,hostfwd=icmp::80-:80
usage_error "--net user,restrict=maybe" "restrict" -- run --raw "$IMG" --net user,restrict=maybe
usage_error "--net tap= (no interface name)" "tap" -- run --raw "$IMG" --net tap=
usage_error "--net tap-fd=abc" "tap-fd" -- run --raw "$IMG" --net tap-fd=abc
usage_error "--net tap=t0,queues=9" "queues" -- run --raw "$IMG" --net tap=t0,queues=9

# ---- valid command lines --------------------------------------------------------
accepted "image ending exactly at 0xA0000 is accepted" -- run --raw "$FIT"
FIT1000=$TMPD/fit1000.bin
mkimage "$FIT1000" $((0xA0000 - 0x1000))
accepted "image ending exactly at 0xA0000 from @0x1000 is accepted" -- run --raw "$FIT1000@0x1000"
HLT1=$TMPD/hlt1.bin
printf '\364' >"$HLT1"	# 1 byte: at 0xffff a 2nd would wrap IP to 0
accepted "--raw FILE@0xffff (highest address, 1-byte hlt) is accepted" -- run --raw "$HLT1@0xffff"
accepted "--raw FILE@0 is accepted" -- run --raw "$IMG@0"
accepted "--memory 1G --cpus 64 --console none --strict-io are accepted" -- \
	run --raw "$IMG" --memory 1G --cpus 64 --console none --strict-io
accepted "--memory 2048K is accepted" -- run --raw "$IMG" --memory 2048K

if [ -e /dev/kvm ]; then
	T_NUM=$((T_NUM + 1))
	echo "ok $T_NUM - no /dev/kvm: one line naming /dev/kvm, status 1 # SKIP /dev/kvm exists"
elif t_begin "no /dev/kvm: one line naming /dev/kvm, status 1"; then
	hv run --raw "$IMG"
	want_status 1
	want_out_empty
	want_err_one_line '/dev/kvm'
	t_end
fi

t_done
