#!/bin/sh
# shellcheck source-path=SCRIPTDIR disable=SC2034
# cli.sh - hyve's command-line tests that need no KVM: --help, --version and
# every usage/setup error (each must be exactly one stderr line "hyve: ...",
# nothing on stdout, status 1 - no crash, no hang).  TAP output, like run.sh.
#
# POSIX sh, runs under busybox ash.  Environment: HYVE (default
# <repo>/build/hyve), HV_TIMEOUT (default 30).
#
# A few tests give a valid command line; what they expect depends on what
# `hyve check-host` says: none, the one-line /dev/kvm error (status 1); kvm
# or restricted, the tiny guest runs (cli; hlt) and powers off (status 0).
# The check-host tests and the restricted-host refusal of a Linux kernel
# force the probe's answer (HYVE_HOST_KIND) or point it elsewhere
# (HYVE_KVM_DEVICE, HYVE_SYSFS_ROOT), so they run the same on every host.

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

root=$(cd "$here/../.." 2>/dev/null && pwd)
HYVE=${HYVE:-$root/build/hyve}

t_setup
kvm_probe
echo "# hyve CLI tests: HYVE=$HYVE"

# Some tests set HYVE_KVM_DEVICE, HYVE_HOST_KIND, HYVE_SYSFS_ROOT or
# HYVE_GUEST_KIT; restore_env puts back what the caller had (e.g. the whole
# suite run with HYVE_KVM_DEVICE=/nonexistent to see a host as one without KVM).
ENV_VARS="HYVE_KVM_DEVICE HYVE_HOST_KIND HYVE_SYSFS_ROOT HYVE_GUEST_KIT"
for _v in $ENV_VARS; do
	eval "_saved_$_v=\${$_v-@unset@}"
done
restore_env() {
	for _v in $ENV_VARS; do
		eval "_x=\$_saved_$_v"
		if [ "$_x" = @unset@ ]; then unset "$_v"; else export "$_v=$_x"; fi
	done
}
KVM_DEV=${HYVE_KVM_DEVICE:-/dev/kvm}
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
			want_err_one_line "$KVM_DEV"
		fi
		t_end
	fi
}

OPTIONS="--raw --memory --cpus --console --strict-io --stats --net --seccomp --user --chroot"

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
# no guest and no guest kit (HYVE_GUEST_KIT: an empty folder, so the test
# does not depend on whether the kit was built)
mkdir "$TMPD/nokit"
export HYVE_GUEST_KIT="$TMPD/nokit"
usage_error "run without a guest and no guest kit: one line naming the kit" "guest kit" -- run
restore_env
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

export HYVE_KVM_DEVICE="$TMPD/no-kvm"
if t_begin "no KVM device (HYVE_KVM_DEVICE missing): one line naming it, status 1"; then
	hv run --raw "$IMG"
	want_status 1
	want_out_empty
	want_err_one_line "$TMPD/no-kvm"
	t_end
fi
restore_env

# ---- the host probe: hyve check-host --------------------------------------------

if t_begin "check-host: one line 'KIND: reason' (kvm, restricted or none), status 0"; then
	hv check-host
	want_status 0
	want_err_empty
	[ "$(wc -l <"$OUT")" -eq 1 ] || diag "stdout: expected one line, got $(wc -l <"$OUT")"
	want_out_has '^(kvm|restricted|none): .{10,}' "'kvm|restricted|none: reason'"
	t_end
fi

if t_begin "check-host --quiet: the word alone, as the suite's own probe saw it"; then
	hv check-host --quiet
	want_status 0
	want_err_empty
	want_out "$KVM_KIND\n"
	t_end
fi

for k in kvm restricted none; do
	export HYVE_HOST_KIND=$k
	if t_begin "check-host: HYVE_HOST_KIND=$k sets the answer"; then
		hv check-host --quiet
		want_status 0
		want_out "$k\n"
		hv check-host
		want_out_has "^$k: .*HYVE_HOST_KIND" "'$k: ... HYVE_HOST_KIND ...'"
		t_end
	fi
done
export HYVE_HOST_KIND=pvm
usage_error "check-host: HYVE_HOST_KIND=pvm (not a kind): one line naming it" "HYVE_HOST_KIND" -- check-host
restore_env
usage_error "check-host --bogus: usage error" "check-host" -- check-host --bogus

if t_begin "check-host --help: status 0, names the three answers"; then
	hv check-host --help
	want_status 0
	want_err_empty
	for w in kvm restricted none; do want_out_has "$w"; done
	t_end
fi

unset HYVE_HOST_KIND
export HYVE_KVM_DEVICE="$TMPD/no-kvm"
if t_begin "check-host: a KVM device that does not exist: none, naming it"; then
	hv check-host
	want_status 0
	want_out_has "^none: .*$TMPD/no-kvm" "'none: ... $TMPD/no-kvm ...'"
	t_end
fi
export HYVE_KVM_DEVICE=/dev/null
if t_begin "check-host: a device that is not KVM (/dev/null): none"; then
	hv check-host
	want_status 0
	want_out_has "^none: .*/dev/null" "'none: ... /dev/null ...'"
	t_end
fi
restore_env

# HYVE_SYSFS_ROOT: a fake sysfs with module/kvm_pvm.  Where the KVM device
# works, the marker makes the answer restricted; where it does not, none.
unset HYVE_HOST_KIND
mkdir -p "$TMPD/sys/module/kvm_pvm" "$TMPD/sys-plain/module"
export HYVE_SYSFS_ROOT="$TMPD/sys-plain"
PLAIN=$("$HYVE" check-host --quiet 2>/dev/null)
export HYVE_SYSFS_ROOT="$TMPD/sys"
echo "# without the kvm_pvm marker check-host says: $PLAIN"
if t_begin "check-host: HYVE_SYSFS_ROOT with module/kvm_pvm: restricted where the KVM device works, else none"; then
	hv check-host
	want_status 0
	case $PLAIN in
	kvm | restricted) want_out_has "^restricted: .*kvm_pvm .*$TMPD/sys/module/kvm_pvm" "'restricted: ... kvm_pvm (<root>/module/kvm_pvm) ...'" ;;
	none) want_out_has '^none: ' "'none: ...' (no usable KVM device here)" ;;
	*) diag "check-host --quiet without the marker said '$PLAIN'" ;;
	esac
	t_end
fi
restore_env

# ---- a Linux kernel on a restricted host (kvm_pvm): refused at once ------------

# now_ms: milliseconds (GNU date +%N; busybox's date has no %N: the
# uptime, in hundredths of a second)
now_ms() {
	_t=$(date +%s%N 2>/dev/null)
	case $_t in
	*[!0-9]* | "") awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime ;;
	*) echo $((_t / 1000000)) ;;
	esac
}

# A kit that is only files (the refusal comes before the kernel is read).
mkdir "$TMPD/kit"
printf 'not a kernel' >"$TMPD/kit/vmlinuz"
printf 'not an initrd' >"$TMPD/kit/initrd.img"
export HYVE_HOST_KIND=restricted
# refused DESCRIPTION -- ARGS: one line naming the reason and the ways out,
# status 1, within a second.
refused() {
	_desc=$1
	shift 2
	if t_begin "$_desc"; then
		_t0=$(now_ms)
		hv "$@"
		_ms=$(($(now_ms) - _t0))
		want_status 1
		want_out_empty
		want_err_one_line 'cannot boot a Linux kernel.*HYVE_HOST_KIND=restricted.*rig.*scripts/demo.sh.*--force'
		[ "$_ms" -le 1000 ] || diag "took $_ms ms (want at most 1000)"
		t_end
	fi
}
export HYVE_GUEST_KIT="$TMPD/kit"
refused "restricted host: hyve run (the default guest kit) is refused within a second, one line" -- run
refused "restricted host: hyve run --kernel is refused within a second, one line" -- \
	run --kernel "$TMPD/kit/vmlinuz" --initrd "$TMPD/kit/initrd.img"
if [ -f "$root/build/guest-kit/vmlinuz" ] && [ -f "$root/build/guest-kit/initrd.img" ]; then
	export HYVE_GUEST_KIT="$root/build/guest-kit"
	refused "restricted host: hyve run of the real guest kit is refused within a second" -- run
else
	refused "restricted host: hyve run of the real guest kit is refused within a second (kit not built: the stand-in kit)" -- run
fi
export HYVE_GUEST_KIT="$TMPD/kit"
if t_begin "restricted host: --force goes past the refusal (to the kernel loader)"; then
	hv run --force
	want_status 1
	want_out_empty
	want_err_one_line "$TMPD/kit/vmlinuz"
	if grep -q 'cannot boot a Linux kernel' "$ERR"; then diag "--force was refused"; fi
	t_end
fi
restore_env
export HYVE_HOST_KIND=restricted
accepted "restricted host: a raw image is not refused" -- run --raw "$IMG"
export HYVE_HOST_KIND=kvm
if t_begin "kvm host (HYVE_HOST_KIND=kvm): a kernel is not refused (the loader reads it)"; then
	hv run --kernel "$TMPD/kit/vmlinuz"
	want_status 1
	want_err_one_line "$TMPD/kit/vmlinuz"
	if grep -q 'cannot boot a Linux kernel' "$ERR"; then diag "refused on a kvm host"; fi
	t_end
fi
restore_env

# Start-up cost (docs/startup.md): hyve links none of the API's or user
# networking's libraries; it names them in its hyve_dlopen section and opens
# them on first use (the API tests and the --net user scenarios use them).
if t_begin "hyve links neither libmicrohttpd nor libslirp (nor GnuTLS, GLib); hyve_dlopen names both"; then
	if ! ldd "$HYVE" >"$OUT" 2>"$ERR"; then
		diag "ldd $HYVE failed: $(cat "$ERR")"
	fi
	for _lib in libmicrohttpd libslirp libgnutls libglib-2.0; do
		! grep -q "$_lib" "$OUT" || diag "$HYVE links $_lib: $(grep "$_lib" "$OUT")"
	done
	readelf -p hyve_dlopen "$HYVE" >"$OUT" 2>"$ERR" || diag "readelf -p hyve_dlopen failed: $(cat "$ERR")"
	for _so in libmicrohttpd.so.12 libslirp.so.0; do
		grep -q " $_so\$" "$OUT" || diag "hyve_dlopen does not name $_so"
	done
	t_end
fi

# ---- sandbox options (issue 9) ------------------------------------------------

usage_error "--seccomp with an unknown mode" "--seccomp: 'on' is not kill, log or off" -- run --raw "$IMG" --seccomp=on
usage_error "--user 0 would keep root" "would keep root" -- run --raw "$IMG" --user 0
usage_error "--user with a zero group" "would keep root" -- run --raw "$IMG" --user 1000:0
usage_error "--user that is not UID[:GID]" "not UID" -- run --raw "$IMG" --user nobody:x
usage_error "--chroot without --user" "needs --user|without --user" -- run --raw "$IMG" --chroot /
usage_error "--chroot to something that is not a directory" "not a directory" -- run --raw "$IMG" --user 1000 --chroot "$IMG"
usage_error "--on-reboot=restart with --chroot" "restart" -- run --raw "$IMG" --on-reboot=restart --user 1000 --chroot /
accepted "--seccomp=off is accepted" -- run --raw "$IMG" --seccomp=off
accepted "--seccomp=log is accepted" -- run --raw "$IMG" --seccomp=log

t_done
