#!/usr/bin/env bash
# Run a payload inside the nested-KVM rig: Debian's 6.1 kernel booted under
# QEMU TCG (-cpu max: emulated AMD SVM + NPT), kvm_amd loaded inside, so the
# payload sees a real upstream /dev/kvm. See docs/rig.md.
#
#   tests/rig/rig.sh [--timeout SEC] [--boot-timeout SEC] [--idle-timeout SEC]
#                    [--retries N] PAYLOAD_DIR
#
# PAYLOAD_DIR's contents appear in the guest as /payload; /payload/run is run
# there (cwd /payload, HYVE_RIG=1). Its output is streamed to stdout and its
# exit status is rig.sh's exit status. Rig statuses: 124 = timed out (after
# the retries), 123 = the first-level VM went down before the payload ended
# (after the retries: what the payload had left to run did not run),
# 125 = no /dev/kvm inside, 1 = rig error (qemu did not start, bad usage).
#
# Watchdog: each attempt (boot + payload) gets --timeout SEC (default 300);
# once the payload runs, --idle-timeout SEC (default 0: off) ends an attempt
# whose output channel has been silent that long (the emulated first-level
# VM has been seen to stall for good mid-payload, rarely, on loaded hosts:
# waiting for --timeout then costs most of it); it is retried like a timeout.
# the boot alone (until the payload starts) gets --boot-timeout SEC (default
# 60; a normal boot takes 3-7 s). An attempt that times out is killed and
# retried --retries N times (default 1): about 1 boot in 130 hangs inside the
# emulated SVM, so one retry is part of normal operation.
#
# Environment: HYVE_RIG_MEM (default 2G), HYVE_RIG_CPUS (default 1),
# HYVE_RIG_APPEND (extra kernel command line), HYVE_RIG_LOG (save the kernel
# console log of the last attempt to this file), HYVE_RIG_CACHE.
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    echo "usage: $0 [--timeout SEC] [--boot-timeout SEC] [--idle-timeout SEC] [--retries N] PAYLOAD_DIR" >&2
    exit 1
}

TIMEOUT=300
BOOT_TIMEOUT=60
RETRIES=1
IDLE_TIMEOUT=0
PAYLOAD=""
while [ $# -gt 0 ]; do
    case "$1" in
    --timeout) [ $# -ge 2 ] || usage; TIMEOUT=$2; shift 2 ;;
    --timeout=*) TIMEOUT=${1#*=}; shift ;;
    --boot-timeout) [ $# -ge 2 ] || usage; BOOT_TIMEOUT=$2; shift 2 ;;
    --boot-timeout=*) BOOT_TIMEOUT=${1#*=}; shift ;;
    --idle-timeout) [ $# -ge 2 ] || usage; IDLE_TIMEOUT=$2; shift 2 ;;
    --idle-timeout=*) IDLE_TIMEOUT=${1#*=}; shift ;;
    --retries) [ $# -ge 2 ] || usage; RETRIES=$2; shift 2 ;;
    --retries=*) RETRIES=${1#*=}; shift ;;
    -h | --help) usage ;;
    --) shift; [ $# -eq 1 ] || usage; PAYLOAD=$1; shift ;;
    -*) echo "rig: unknown option $1" >&2; usage ;;
    *) [ -z "$PAYLOAD" ] || usage; PAYLOAD=$1; shift ;;
    esac
done
[ -n "$PAYLOAD" ] || usage
[[ "$TIMEOUT" =~ ^[1-9][0-9]*$ ]] || rig_die "--timeout wants a positive number of seconds, got '$TIMEOUT'"
[[ "$BOOT_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || rig_die "--boot-timeout wants a positive number of seconds, got '$BOOT_TIMEOUT'"
[[ "$IDLE_TIMEOUT" =~ ^[0-9]+$ ]] || rig_die "--idle-timeout wants a number of seconds, got '$IDLE_TIMEOUT'"
[[ "$RETRIES" =~ ^[0-9]+$ ]] || rig_die "--retries wants a number, got '$RETRIES'"
[ -d "$PAYLOAD" ] || rig_die "payload directory '$PAYLOAD' not found"
[ -f "$PAYLOAD/run" ] || rig_die "payload '$PAYLOAD' has no 'run' script"
MEM=${HYVE_RIG_MEM:-2G}
CPUS=${HYVE_RIG_CPUS:-1}	# one emulated CPU: no MTTCG stalls, faster (docs/rig.md)
rig_now T_SCRIPT

rig_need qemu-system-x86_64 qemu-system-x86
rig_need cpio cpio
rig_need readelf binutils
bash "$RIG_DIR/fetch.sh"
CACHE=$(cd "$RIG_CACHE" && pwd)

TMP=""
QPID=""
WPID=""
# qemu runs under a small wrapper subshell (WPID) that reaps it at once and
# records its exit status in qemu.rc, which also tells the reader that qemu
# is gone. Only that qemu (QPID) is ever signalled.
stop_qemu() {
    if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
        kill -TERM "$QPID" 2>/dev/null || true
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$QPID" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL "$QPID" 2>/dev/null || true
    fi
    [ -z "$WPID" ] || wait "$WPID" 2>/dev/null || true
    QPID=""
    WPID=""
}
# shellcheck disable=SC2317 # run by trap
cleanup() {
    stop_qemu
    [ -z "$TMP" ] || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hyve-rig.XXXXXX")

# ---- payload archive -----------------------------------------------------
ROOT="$TMP/root"
mkdir -p "$ROOT/payload"
cp -a "$PAYLOAD/." "$ROOT/payload/"

copy_host_file() { # absolute host path -> same path in the archive
    local p=$1
    [ -e "$ROOT$p" ] && return 0
    [ -e "$p" ] || rig_die "shared library $p (needed by the payload) not found"
    mkdir -p "$ROOT$(dirname "$p")"
    cp -L "$p" "$ROOT$p"
}

# Dynamically linked ELF files (executables and shared objects) get their
# libraries and the dynamic loader at the same absolute paths.  Libraries an
# ELF file opens with dlopen() and names in its "hyve_dlopen" section
# (src/dynlib.h: hyve's libmicrohttpd and libslirp) come too, with theirs.
declare -A LIBS=()
add_libs_of() { # ELF file -> LIBS
    local f=$1 out
    if ! out=$(LC_ALL=C ldd "$f" 2>&1); then
        # e.g. a foreign-architecture ELF: it is copied as it is.
        rig_say "warning: ldd cannot resolve payload file ${f#"$ROOT"}; its libraries are not added"
        return 0
    fi
    if grep -q 'not found' <<<"$out"; then
        rig_die "payload file ${f#"$ROOT"} has unresolved libraries: $(grep 'not found' <<<"$out" | tr -s ' \t' ' ')"
    fi
    while read -r lib; do
        LIBS[$lib]=1
    done < <(sed -n -e 's/.*=> \(\/[^ ]*\) (0x.*/\1/p' -e 's/^[[:space:]]*\(\/[^ ]*\) (0x.*/\1/p' <<<"$out")
}
dlopen_names() { # ELF file -> the sonames in its hyve_dlopen section
    LC_ALL=C readelf -p hyve_dlopen "$1" 2>/dev/null | sed -n 's/^ *\[ *[0-9a-f]*\] *//p'
}
# (No reader in a pipeline here stops early: under pipefail a writer that
# gets SIGPIPE, e.g. ldconfig -p's 50-100 KB, would fail the rig with 141.)
LDCACHE=$(/sbin/ldconfig -p)
while IFS= read -r -d '' f; do
    dyn=$(LC_ALL=C readelf -d "$f" 2>/dev/null) || true
    grep -q '(NEEDED)' <<<"$dyn" || continue
    add_libs_of "$f"
    for so in $(dlopen_names "$f"); do
        lib=$(awk -v so="$so" '$1 == so && /x86-64/ && !found { print $NF; found = 1 }' <<<"$LDCACHE")
        [ -n "$lib" ] || rig_die "payload file ${f#"$ROOT"} opens $so, which this host does not have"
        LIBS[$lib]=1
        add_libs_of "$lib"
    done
done < <(find "$ROOT/payload" -type f -print0)
for lib in "${!LIBS[@]}"; do copy_host_file "$lib"; done

(cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort |
    cpio --quiet -o -H newc -R 0:0 >"$TMP/payload.cpio")
cat "$CACHE/base.cpio" "$TMP/payload.cpio" >"$TMP/initrd"
rm -rf "$ROOT"

# ---- boot ----------------------------------------------------------------
# The uncompressed vmlinux boots ~3 s faster (no decompression under TCG).
KERNEL="$CACHE/vmlinux"
[ -s "$KERNEL" ] || KERNEL="$CACHE/vmlinuz"
APPEND="console=ttyS0 quiet panic=-1 ${HYVE_RIG_APPEND:-}"
# Two channels: the kernel console (ttyS0) goes to a log file; the rig's
# protocol and the payload's output use a virtio console (/dev/hvc0 inside;
# ~6x faster than the emulated UART), which QEMU writes to a regular file that
# is followed here. (A file, not a pipe: QEMU drops console data when a
# pipe is full, and a file write also lands before the guest's poweroff.)
# shellcheck disable=SC2054 # commas are in option values
QEMU=(qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp "$CPUS" -m "$MEM"
    -display none -nodefaults -no-reboot -no-user-config
    -serial "file:$TMP/kernel.log"
    -device virtio-serial-pci -chardev "file,id=rigout,path=$TMP/out"
    -device virtconsole,chardev=rigout
    -kernel "$KERNEL" -initrd "$TMP/initrd" -append "$APPEND")

# Handle one line of the guest's output channel. Runs inside attempt() and
# updates its locals (state, t_start, t_end, got_output, deadline) and STATUS.
handle_line() {
    local line=${1//$'\r'/}
    got_output=1
    rig_now last_line
    case "$state:$line" in
    boot:*@@RIG-START@@*)
        state=payload
        rig_now t_start
        # On stdout with the payload's lines, so a consumer can tell a
        # retried attempt's lines from the final one's (tests/run does).
        printf '# rig: attempt %s\n' "$n"
        ;;
    payload:*@@RIG-END@@*)
        line=${line%%@@RIG-END@@*}
        [ -z "$line" ] || printf '%s\n' "$line"
        state=post
        rig_now t_end
        ;;
    payload:*) printf '%s\n' "$line" ;;
    *@@RIG-EXIT\ *@@*)
        STATUS=${line##*@@RIG-EXIT }
        STATUS=${STATUS%%@@*}
        # The guest powers off now; don't wait for it long.
        rig_now now
        [ $((now + 15000000)) -ge "$deadline" ] || deadline=$((now + 15000000))
        ;;
    *:rig-guest:*) printf '%s\n' "$line" | sed 's/^rig-guest: */rig: guest: /' >&2 ;;
    *) printf 'rig: guest (unframed): %s\n' "$line" >&2 ;;
    esac
}

# One boot; sets RESULT (exit|timeout|nostart|died), STATUS, QRC, and
# TIMED_OUT (seconds, with what timed out) on a timeout.
attempt() {
    local line now s_prep s_boot s_run s_total
    local state=boot t0 t_start=0 t_end=0 deadline boot_deadline limit got_output=0 last_line=0
    RESULT="" STATUS="" QRC=0 TIMED_OUT=""
    rm -f "$TMP/kernel.log"
    : >"$TMP/out"
    rig_now t0
    [ "$n" -eq 1 ] || T_SCRIPT=$t0
    deadline=$((t0 + TIMEOUT * 1000000))
    boot_deadline=$((t0 + BOOT_TIMEOUT * 1000000))
    rm -f "$TMP/qemu.pid" "$TMP/qemu.rc"
    [ -p "$TMP/sleep" ] || mkfifo "$TMP/sleep"
    exec 4<>"$TMP/sleep" # read -t on it is a sleep without a fork
    (
        trap - EXIT INT TERM HUP
        "${QEMU[@]}" </dev/null >/dev/null 2>"$TMP/qemu.err" &
        echo $! >"$TMP/qemu.pid"
        qrc=0
        wait $! || qrc=$?
        echo "$qrc" >"$TMP/qemu.rc"
    ) &
    WPID=$!
    for _ in $(seq 500); do [ ! -s "$TMP/qemu.pid" ] || break; sleep 0.01; done
    QPID=$(cat "$TMP/qemu.pid" 2>/dev/null || true)
    [ -n "$QPID" ] || rig_die "could not start qemu"
    # Follow the output file, polling at EOF, until qemu has exited and the
    # file is read to its end. (Builtins only: no fork per line or per poll.)
    exec 3<"$TMP/out"
    local buf="" exited=0
    while :; do
        rig_now now
        limit=$deadline
        if [ "$state" = boot ] && [ -z "$STATUS" ] && [ "$boot_deadline" -lt "$limit" ]; then
            limit=$boot_deadline
        fi
        if [ "$IDLE_TIMEOUT" -gt 0 ] && [ "$state" = payload ] && [ -z "$STATUS" ] &&
            [ $((last_line + IDLE_TIMEOUT * 1000000)) -lt "$limit" ]; then
            limit=$((last_line + IDLE_TIMEOUT * 1000000))
        fi
        if [ "$now" -ge "$limit" ]; then
            if [ -n "$STATUS" ]; then
                RESULT="exit"
            else
                RESULT=timeout
                if [ "$limit" -eq "$deadline" ]; then
                    TIMED_OUT="$TIMEOUT s"
                elif [ "$state" = payload ]; then
                    TIMED_OUT="$IDLE_TIMEOUT s without output (the payload stalled)"
                else
                    TIMED_OUT="$BOOT_TIMEOUT s (the guest did not finish booting)"
                fi
            fi
            break
        fi
        line=""
        if IFS= read -r line <&3; then
            line=$buf$line
            buf=""
        else
            buf+=$line # a partial line stays until its newline arrives
            if [ "$exited" -eq 1 ]; then
                [ -z "$buf" ] || handle_line "$buf"
                break
            fi
            # qemu.rc appears once qemu has exited: then read what is left.
            if [ -e "$TMP/qemu.rc" ]; then exited=1; else read -r -t 0.05 -u 4 _ || true; fi
            continue
        fi
        handle_line "$line"
    done
    exec 3<&-
    stop_qemu # after a timeout; otherwise qemu has exited already
    if [ -z "$RESULT" ]; then QRC=$(cat "$TMP/qemu.rc" 2>/dev/null || echo 1); fi
    GOT_OUTPUT=$got_output
    if [ -z "$RESULT" ]; then
        if [ -n "$STATUS" ]; then
            RESULT="exit"
        elif [ "$got_output" -eq 0 ] && [ "$QRC" -ne 0 ]; then
            RESULT=nostart
        else
            RESULT=died
        fi
    fi
    if [ -s "$TMP/qemu.err" ] && [ "$RESULT" != nostart ]; then
        grep -v 'terminating on signal' "$TMP/qemu.err" | sed 's/^/rig: qemu: /' >&2 || true
    fi
    [ -z "${HYVE_RIG_LOG:-}" ] || cp "$TMP/kernel.log" "$HYVE_RIG_LOG" 2>/dev/null || true
    if [ "$t_start" -ne 0 ]; then
        [ "$t_end" -ne 0 ] || rig_now t_end
        rig_now now
        rig_secs s_prep $((t0 - T_SCRIPT))
        rig_secs s_boot $((t_start - t0))
        rig_secs s_run $((t_end - t_start))
        rig_secs s_total $((now - t0))
        rig_say "timings: prepare $s_prep s, boot to payload start $s_boot s," \
            "payload ran $s_run s, total $s_total s"
    fi
}

kernel_tail() { # N -> the last N lines of the attempt's kernel console, on stderr
    tail -n "$1" "$TMP/kernel.log" 2>/dev/null | tr -d '\r' | sed 's/^/rig:   | /' >&2
}

tries=$((RETRIES + 1))
for ((n = 1; n <= tries; n++)); do
    attempt
    case "$RESULT" in
    exit)
        [[ "$STATUS" =~ ^[0-9]+$ ]] || rig_die "guest reported a bad exit status '$STATUS'"
        exit "$STATUS"
        ;;
    nostart)
        rig_die "qemu failed to start: $(head -n 3 "$TMP/qemu.err" | tr '\n' ' ')"
        ;;
    died)
        echo "rig: the guest stopped without reporting a status (qemu exit $QRC);" \
            "last kernel console lines:" >&2
        kernel_tail 25
        # The emulated first-level VM itself went down (qemu ran with
        # -no-reboot): before the payload started, a failed boot; during
        # it, a crash of the nested setup (a payload cannot take the
        # kernel down).  Retried like a stall; the payload starts over.
        if [ "$n" -lt "$tries" ]; then
            if [ "$GOT_OUTPUT" -eq 0 ]; then
                rig_say "attempt $n: no output from the guest; retrying"
            else
                rig_say "attempt $n: the first-level VM went down mid-payload; retrying"
            fi
            continue
        fi
        exit 123
        ;;
    timeout)
        # What the first-level kernel said last (console=ttyS0 quiet: only
        # errors and worse, e.g. a soft lockup or an RCU stall, are printed).
        if [ -s "$TMP/kernel.log" ]; then
            echo "rig: last kernel console lines of the attempt that timed out:" >&2
            kernel_tail 15
        fi
        if [ "$n" -lt "$tries" ]; then
            rig_say "attempt $n timed out after $TIMED_OUT; retrying"
        fi
        ;;
    esac
done
echo "rig: timed out after $TIMED_OUT" >&2
exit 124
