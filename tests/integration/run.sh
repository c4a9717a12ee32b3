#!/bin/sh
# shellcheck source-path=SCRIPTDIR disable=SC2034
# run.sh - hyve's integration tests: boot the test guests (tests/guests/*.S,
# built into $GUESTS) under `hyve run` and check their console output, exit
# status, stderr and --stats counts.  Output is TAP (one line per test, then
# the plan); exit status 0 when every test passed or was skipped.
#
# POSIX sh, runs under busybox ash (the nested-KVM rig: see payload.sh).
#
# Environment:
#   HYVE        the hyve binary (default <repo>/build/hyve)
#   GUESTS      directory of the guest .bin files (default <repo>/build/guests)
#   HV_TIMEOUT  seconds each hyve run may take (default 30)
#
# Every test needs a KVM that runs small guests (`hyve check-host` says kvm
# or restricted); where it says none, each test is reported as
# "ok N - ... # SKIP <the probe's reason>" (same tests, same numbers).

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

root=$(cd "$here/../.." 2>/dev/null && pwd)
HYVE=${HYVE:-$root/build/hyve}
GUESTS=${GUESTS:-$root/build/guests}

t_setup
kvm_probe
echo "# hyve integration tests: HYVE=$HYVE GUESTS=$GUESTS"
if [ "$KVM_OK" = 1 ]; then
	echo "# hyve check-host: $KVM_KIND: the guests run here"
else
	echo "# $KVM_WHY: every test is skipped"
fi
if [ "$KVM_OK" = 1 ]; then
	[ -x "$HYVE" ] || echo "# WARNING: $HYVE is not an executable file"
	[ -d "$GUESTS" ] || echo "# WARNING: guest directory $GUESTS not found"
fi
T_NEED_KVM=1

G=$GUESTS

# ---- consoles: bvmcons and COM1 output ------------------------------------

if t_begin "bvmcons: signature 0x6276 and output (hello_bvm)"; then
	hv run --raw "$G/hello_bvm.bin"
	want_status 0
	want_out 'sig ok\nhello from bvmcons\n'
	want_err_empty
	t_end
fi

if t_begin "COM1: output polling LSR.THRE then THR (hello_com1)"; then
	hv run --raw "$G/hello_com1.bin"
	want_status 0
	want_out 'hello from com1\n'
	want_err_empty
	t_end
fi

if t_begin "string I/O out: REP OUTSB to COM1, REP OUTSD to bvmcons (outs)"; then
	hv run --raw "$G/outs.bin"
	want_status 0
	want_out 'rep outsb com1\nrep outsd bvmcons\n'
	want_err_empty
	t_end
fi

if t_begin "string I/O out across exits: 5000-element REP OUTSB and REP OUTSD (outs_long)"; then
	hv run --raw "$G/outs_long.bin"
	want_status 0
	_i=0
	: >"$TMPD/long.exp"
	while [ $_i -lt 200 ]; do
		echo "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM" >>"$TMPD/long.exp"
		_i=$((_i + 1))
	done
	want_file_is "stdout" "$OUT" "$TMPD/long.exp"
	want_err_empty
	t_end
fi

if t_begin "COM1 registers: LSR idle 0x60, scratch, loopback (uart)"; then
	hv run --raw "$G/uart.bin"
	want_status 0
	want_out 'lsr 60\nscr 5a a5\nloop lsr 61 rbr 4c\nloop off lsr 60\n'
	want_err_empty
	t_end
fi

# ---- boot state and load address -------------------------------------------

if t_begin "initial real-mode state: segments 0, IP=SP=0x7c00, DL=0x80, IF=0 (state)"; then
	hv run --raw "$G/state.bin"
	want_status 0
	want_out 'cs=0000 ds=0000 es=0000 ss=0000 ip=7c00 sp=7c00 dl=80 if=0 pe=0\n'
	want_err_empty
	t_end
fi

if t_begin "--raw FILE@0x1000 loads and starts at 0000:1000 (org1000)"; then
	hv run --raw "$G/org1000.bin@0x1000"
	want_status 0
	want_out 'entry 0000:1000\nloaded at 0x1000\n'
	want_err_empty
	t_end
fi

if t_begin "--raw FILE@4096 (decimal address) works like @0x1000 (org1000)"; then
	hv run --raw "$G/org1000.bin@4096"
	want_status 0
	want_out 'entry 0000:1000\nloaded at 0x1000\n'
	want_err_empty
	t_end
fi

if t_begin "--cpus 4: the boot CPU runs the guest as with one CPU (hello_bvm)"; then
	hv run --cpus 4 --raw "$G/hello_bvm.bin"
	want_status 0
	want_out 'sig ok\nhello from bvmcons\n'
	want_err_empty
	t_end
fi

# ---- unclaimed ports ----------------------------------------------------------

if t_begin "unclaimed port IN of widths 1/2/4 reads all ones (in_widths)"; then
	hv run --raw "$G/in_widths.bin"
	want_status 0
	want_out 'inb 123456ff\ninw 1234ffff\ninl ffffffff\n'
	want_err_empty
	t_end
fi

if t_begin "--stats counts 3 unclaimed port reads, 0 writes (in_widths)"; then
	hv run --stats --raw "$G/in_widths.bin"
	want_status 0
	want_out 'inb 123456ff\ninw 1234ffff\ninl ffffffff\n'
	want_err_has '^stats: pio unclaimed reads=3 writes=0( |$)'
	t_end
fi

if t_begin "unclaimed port OUT of widths 1/2/4 is dropped, --stats counts 3 writes (out_widths)"; then
	hv run --stats --raw "$G/out_widths.bin"
	want_status 0
	want_out 'out done\n'
	want_err_has '^stats: pio unclaimed reads=0 writes=3( |$)'
	t_end
fi

if t_begin "string I/O in: REP INSB/INSW/INSD from an unclaimed port fill all ones, exactly (ins)"; then
	hv run --raw "$G/ins.bin"
	want_status 0
	want_out 'insb ok\ninsw ok\ninsd ok\ninsb 5000 ok\n'
	want_err_empty
	t_end
fi

if t_begin "--stats counts every element of string input: 5028 unclaimed reads (ins)"; then
	hv run --stats --raw "$G/ins.bin"
	want_status 0
	want_err_has '^stats: pio unclaimed reads=5028 writes=0( |$)'
	t_end
fi

if t_begin "--stats: IO exits and bvmcons reads/writes (hello_bvm)"; then
	hv run --stats --raw "$G/hello_bvm.bin"
	want_status 0
	want_out 'sig ok\nhello from bvmcons\n'
	want_err_has '^stats: exit IO count=[1-9][0-9]* us=[0-9]'
	# 1 signature read; "sig ok\nhello from bvmcons\n" is 26 writes
	want_err_has '^stats: pio bvmcons 0x220-0x223 reads=1 writes=26 us=[0-9]'
	want_err_has '^stats: pio unclaimed reads=0 writes=0( |$)'
	want_err_has '^stats: mmio unclaimed reads=0 writes=0( |$)'
	t_end
fi

# ---- unclaimed MMIO -----------------------------------------------------------

if t_begin "legacy hole 0xA0000-0xFFFFF: reads all ones, writes dropped; 0x9FFFC is RAM (mmio)"; then
	hv run --raw "$G/mmio.bin"
	want_status 0
	want_out 'readb b8000 ff\nreadw b8000 ffff\nreadl b8000 ffffffff\nwrite b8010 dropped ff\nreadb a0000 ff\nreadl ffff0 ffffffff\nram 9fffc a5a5a5a5\n'
	want_err_empty
	t_end
fi

if t_begin "--stats counts 6 unclaimed MMIO reads and 1 write (mmio)"; then
	hv run --stats --raw "$G/mmio.bin"
	want_status 0
	want_err_has '^stats: exit MMIO count=[1-9][0-9]* us=[0-9]'
	want_err_has '^stats: mmio unclaimed reads=6 writes=1( |$)'
	t_end
fi

LONG_OUT='in long mode\nreadb ff\nreadw ffff\nreadl ffffffff\nreadq ffffffffffffffff\nram 100000 ok\nram ffffff0 ok\nlong mode ok\n'

if t_begin "64-bit guest enters long mode; MMIO at 0xd0000000 of widths 1/2/4/8 (long64)"; then
	hv run --raw "$G/long64.bin"
	want_status 0
	want_out "$LONG_OUT"
	want_err_empty
	t_end
fi

if t_begin "--stats counts 4 unclaimed MMIO reads and 4 writes (long64)"; then
	hv run --stats --raw "$G/long64.bin"
	want_status 0
	want_out "$LONG_OUT"
	want_err_has '^stats: mmio unclaimed reads=4 writes=4( |$)'
	t_end
fi

if t_begin "--memory 128M: 0xffffff0 is not RAM (reads all ones), 0x100000 is (long64)"; then
	hv run --memory 128M --stats --raw "$G/long64.bin"
	want_status 0
	want_out 'in long mode\nreadb ff\nreadw ffff\nreadl ffffffff\nreadq ffffffffffffffff\nram 100000 ok\nram ffffff0 absent\nlong mode ok\n'
	want_err_has '^stats: mmio unclaimed reads=5 writes=5( |$)'
	t_end
fi

# ---- exit statuses --------------------------------------------------------------

if t_begin "i8042 reset (0xFE to port 0x64): status 2 (reset)"; then
	hv run --raw "$G/reset.bin"
	want_status 2
	want_out 'reset\n'
	t_end
fi

if t_begin "triple fault: status 3 and 'hyve: guest triple fault' (triple)"; then
	hv run --raw "$G/triple.bin"
	want_status 3
	want_out 'triple\n'
	want_err_has '^hyve: guest triple fault'
	t_end
fi

# ---- --strict-io ----------------------------------------------------------------

if t_begin "without --strict-io an unclaimed inb is harmless (strict_inb)"; then
	hv run --raw "$G/strict_inb.bin"
	want_status 0
	want_out 'before\nafter\n'
	want_err_empty
	t_end
fi

if t_begin "--strict-io: unclaimed inb stops the VM, status 4 (strict_inb)"; then
	hv run --strict-io --raw "$G/strict_inb.bin"
	want_status 4
	want_out 'before\n'
	want_err_line 'hyve: unhandled inb 0x123'
	t_end
fi

if t_begin "--strict-io: unclaimed outw stops the VM, status 4 (strict_outw)"; then
	hv run --strict-io --raw "$G/strict_outw.bin"
	want_status 4
	want_out 'before\n'
	want_err_line 'hyve: unhandled outw 0x1234'
	t_end
fi

if t_begin "--strict-io: unclaimed MMIO read stops the VM, status 4 (strict_read)"; then
	hv run --strict-io --raw "$G/strict_read.bin"
	want_status 4
	want_out 'before\n'
	want_err_line 'hyve: unhandled readb 0xb8000'
	t_end
fi

if t_begin "--strict-io: unclaimed MMIO write stops the VM, status 4 (strict_write)"; then
	hv run --strict-io --raw "$G/strict_write.bin"
	want_status 4
	want_out 'before\n'
	want_err_line 'hyve: unhandled writew 0xb8010'
	t_end
fi

if t_begin "--strict-io: 8-byte MMIO write above 3 GiB, status 4 (long64)"; then
	hv run --strict-io --raw "$G/long64.bin"
	want_status 4
	want_out 'in long mode\n'
	want_err_line 'hyve: unhandled writeq 0xd0000000'
	t_end
fi

if t_begin "--strict-io does not affect claimed devices (outs)"; then
	hv run --strict-io --raw "$G/outs.bin"
	want_status 0
	want_out 'rep outsb com1\nrep outsd bvmcons\n'
	want_err_empty
	t_end
fi

# ---- console backends -----------------------------------------------------------

if t_begin "--console file=PATH: output goes to the file, nothing to stdout (hello_bvm)"; then
	rm -f "$TMPD/console.txt"
	hv run --console "file=$TMPD/console.txt" --raw "$G/hello_bvm.bin"
	want_status 0
	want_out_empty
	want_err_empty
	printf 'sig ok\nhello from bvmcons\n' >"$TMPD/console.exp"
	want_file_is "console file" "$TMPD/console.txt" "$TMPD/console.exp"
	t_end
fi

if t_begin "--console file=PATH with COM1 output (hello_com1)"; then
	rm -f "$TMPD/console.txt"
	hv run --console "file=$TMPD/console.txt" --raw "$G/hello_com1.bin"
	want_status 0
	want_out_empty
	printf 'hello from com1\n' >"$TMPD/console.exp"
	want_file_is "console file" "$TMPD/console.txt" "$TMPD/console.exp"
	t_end
fi

if t_begin "--console none: no output at all (hello_bvm)"; then
	hv run --console none --raw "$G/hello_bvm.bin"
	want_status 0
	want_out_empty
	want_err_empty
	t_end
fi

if t_begin "--console stdio (explicit) is the default (hello_bvm)"; then
	hv run --console stdio --raw "$G/hello_bvm.bin"
	want_status 0
	want_out 'sig ok\nhello from bvmcons\n'
	want_err_empty
	t_end
fi

# ---- console input ----------------------------------------------------------------

if t_begin "input from a pipe reaches bvmcons IN 0x220 (abc + newline, echo_bvm)"; then
	hv_pipe 'abc\n' run --raw "$G/echo_bvm.bin"
	want_status 0
	want_out 'ready\nabc\ndone\n'
	want_err_empty
	t_end
fi

if t_begin "input from a pipe reaches COM1 RBR with LSR.DR (echo_com1)"; then
	hv_pipe 'xyz\n' run --raw "$G/echo_com1.bin"
	want_status 0
	want_out 'ready\nxyz\ndone\n'
	want_err_empty
	t_end
fi

if t_begin "input arriving in pieces (a, 1 s pause, b + newline) is delivered as it comes (echo_bvm)"; then
	HV_CMD='{ printf a; sleep 1; printf "b\n"; } | hyve run --raw echo_bvm.bin'
	HV_T0=$(date +%s)
	{ printf 'a'; sleep 1; printf 'b\n'; } |
		timeout -k 5 "$HV_TIMEOUT" "$HYVE" run --raw "$G/echo_bvm.bin" >"$OUT" 2>"$ERR"
	STATUS=$?
	hv_check_timeout
	want_status 0
	want_out 'ready\nab\ndone\n'
	want_err_empty
	t_end
fi

if t_begin "piped input is delivered at once, not at EOF (pipe held open 15 s, echo_bvm)"; then
	HV_CMD='{ printf "abc\n"; sleep 15; } | hyve run --raw echo_bvm.bin'
	rm -f "$TMPD/closed"
	HV_T0=$(date +%s)
	{ printf 'abc\n'; sleep 15; : >"$TMPD/closed"; } | {
		timeout -k 5 "$HV_TIMEOUT" "$HYVE" run --raw "$G/echo_bvm.bin" >"$OUT" 2>"$ERR"
		echo $? >"$TMPD/status"
		[ -e "$TMPD/closed" ] && echo late >"$TMPD/late"
		cat >/dev/null	# drain, so the writer ends normally
	}
	STATUS=$(cat "$TMPD/status")
	hv_check_timeout
	want_status 0
	want_out 'ready\nabc\ndone\n'
	[ ! -e "$TMPD/late" ] ||
		diag "hyve only finished after the writer closed the pipe (input delivered at EOF?)"
	rm -f "$TMPD/late"
	t_end
fi

# ---- a raw guest with PCI devices (issue 9) ---------------------------------

if t_begin "a raw guest with --device virtio-rng and a --disk runs (no irqchip: MSI-X without routes)"; then
	dd if=/dev/zero of="$TMPD/raw-disk.img" bs=512 count=8 2>/dev/null
	hv run --raw "$G/hello_bvm.bin" --device virtio-rng --disk "path=$TMPD/raw-disk.img"
	want_status 0
	want_out 'sig ok\nhello from bvmcons\n'
	want_err_empty
	t_end
fi

# ---- hostile guests (issue 9): tests/guests/pvh/hostile.S --------------------
# A PVH guest, so it gets what a Linux kernel gets (in-kernel irqchip, ACPI,
# PCI with a virtio-blk disk and virtio-rng).  Each scenario attacks, then a
# good virtio-blk request must still work ("good request ok", "alive"), and
# hyve's peak RSS (--stats) may exceed the base run's by little.

H="$G/hostile.pvh"
HIMG="$TMPD/hostile.img"
HV_TIMEOUT_SAVED=$HV_TIMEOUT
BASE_RSS=""
BASE_HEAP=""
ulimit -c 0 2>/dev/null		# SIGSYS tests: no core files

mk_hostile_img() {
	dd if=/dev/zero of="$HIMG" bs=512 count=2048 2>/dev/null
	printf 'HYVEDISK' | dd of="$HIMG" bs=1 seek=512 conv=notrunc 2>/dev/null
}

# hostile SCENARIO [ARGS...]: run the guest; RSS = hyve's peak RSS in KiB.
hostile() {
	_sc=$1
	shift
	mk_hostile_img
	HV_TIMEOUT=600
	hv run --force --kernel "$H" --memory 64M --cmdline "$_sc" --disk "path=$HIMG" \
		--device virtio-rng --stats "$@"
	HV_TIMEOUT=$HV_TIMEOUT_SAVED
	RSS=$(sed -n 's/^stats: memory .*max_rss_kib=\([0-9]*\).*/\1/p' "$ERR")
	HEAP=$(sed -n 's/^stats: memory .*heap_kib=\([0-9]*\).*/\1/p' "$ERR")
}

# want_grown_within WHAT FIELD VALUE BASE KIB: VALUE (--stats' FIELD) at most
# KIB above the base run's BASE.
want_grown_within() {
	if [ -z "$3" ] || [ -z "$4" ]; then
		diag "no 'stats: memory ... $2=' line (or no base run)"
		return 1
	fi
	echo "# $1 $3 KiB, base $4 KiB: +$(($3 - $4)) KiB (budget +$5 KiB)"
	[ $(($3 - $4)) -lt "$5" ] && return 0
	diag "hyve's $1 grew by $(($3 - $4)) KiB over the base run (budget $5 KiB)"
	return 1
}
# want_heap_within KIB: what hyve's allocations hold at the end (heap_kib:
# every malloc arena and mmapped block, no guest RAM).  Peak RSS also moves
# with how the host backs the guest's pages (docs/security.md).
want_heap_within() { want_grown_within heap heap_kib "$HEAP" "$BASE_HEAP" "$1"; }
# want_rss_within KIB: peak RSS; not in the sanitizer build, whose
# quarantine holds freed memory (the decode storm: +105 MiB of freed
# snapshots waiting there), where heap_kib still counts live bytes.
SANITIZED=0
grep -q __asan_init "$HYVE" 2>/dev/null && SANITIZED=1
want_rss_within() {
	if [ $SANITIZED = 1 ]; then
		echo "# peak RSS $RSS KiB, base $BASE_RSS KiB: not checked (sanitizer build)"
		return 0
	fi
	want_grown_within "peak RSS" max_rss_kib "$RSS" "$BASE_RSS" "$1"
}

want_alive() {
	want_status 0
	want_out_has '^good request ok$' "'good request ok' (the device works)"
	want_out_has '^alive$' "'alive': a good request after the attack"
	want_out_has_not 'FAILED|ACCEPTED|WRITE AFTER RESET'
}

want_out_has_not() {
	grep -Eq -- "$1" "$OUT" || return 0
	diag "stdout: a line matches /$1/"
	diag_file "stdout" "$OUT"
	return 1
}

# want_count N EREGEX: exactly N stdout lines match
want_count() {
	_c=$(grep -Ec -- "$2" "$OUT")
	[ "$_c" = "$1" ] && return 0
	diag "stdout: expected $1 lines matching /$2/, got $_c"
	diag_file "stdout" "$OUT"
	return 1
}

if t_begin "hostile base: PVH guest, virtio-blk + virtio-rng, one good request (the memory baseline)"; then
	hostile b
	want_alive
	BASE_RSS=$RSS
	BASE_HEAP=$HEAP
	[ -n "$RSS" ] || diag "no max_rss_kib in --stats"
	t_end
fi

if t_begin "hostile: 100,000 memory-decode toggles keep hyve's own memory growth under 1 MiB (bus snapshots reclaimed)"; then
	hostile d
	want_alive
	want_out_has '^100000 decode toggles$'
	want_heap_within 1024		# before the fix: over 100 MiB (a snapshot per toggle)
	want_rss_within 4096
	t_end
fi

if t_begin "hostile: random config writes on 32 slots, BAR 4 onto RAM/BAR 1/other device/LAPIC/IOAPIC/ECAM/0"; then
	hostile p
	want_alive
	want_out_has '^config storm done$'
	want_out_has '^ram intact$' "RAM under a BAR still RAM"
	want_out_has '^lapic ok$' "the LAPIC still answers"
	want_out_has '^ecam ok$' "ECAM still answers"
	want_heap_within 4096
	want_rss_within 4096
	t_end
fi

if t_begin "hostile: MSI-X enable/mask storm, random table/PBA writes, garbage vectors and addresses"; then
	hostile m
	want_alive
	want_out_has '^msix storm done$'
	want_heap_within 4096
	want_rss_within 4096
	t_end
fi

if t_begin "hostile: rings in MMIO/outside RAM, bad sizes, bad buffers, loops, notify storm, resets under I/O"; then
	hostile q
	want_alive
	want_count 6 '^bad queue refused$'
	want_count 4 '^bad buffer handled$'
	want_out_has '^descriptor loop handled$'
	want_out_has '^notify storm done$'
	want_out_has '^20 resets under I/O quiesced$' "no write to guest memory after a reset"
	want_heap_within 4096
	want_rss_within 4096
	t_end
fi

if t_begin "hostile: IN/OUT of every width on all 65,536 ports"; then
	hostile o
	want_alive
	want_out_has '^in storm done$'
	want_out_has '^out 0 storm done$'
	want_out_has '^out pattern storm done$'
	want_heap_within 4096
	want_rss_within 4096
	t_end
fi

# ---- a running hyve: sandbox, signals, credentials (issue 9) ----------------

# start_waiting ARGS...: hyve run ARGS with the 'w' scenario in the
# background (console to a file); BG = its pid once it printed "waiting".
start_waiting() {
	mk_hostile_img
	rm -f "$TMPD/con"
	"$HYVE" run --force --kernel "$H" --memory 64M --cmdline w --disk "path=$HIMG" \
		--device virtio-rng --console "file=$TMPD/con" "$@" \
		</dev/null >"$OUT" 2>"$ERR" &
	BG=$!
	_i=0
	while [ $_i -lt 300 ] && ! grep -q '^waiting$' "$TMPD/con" 2>/dev/null; do
		kill -0 "$BG" 2>/dev/null || break
		sleep 1
		_i=$((_i + 1))
	done
	grep -q '^waiting$' "$TMPD/con" 2>/dev/null && return 0
	diag "the guest never printed 'waiting'"
	kill -KILL "$BG" 2>/dev/null
	wait "$BG" 2>/dev/null
	return 1
}

# stop_bg SIG: send SIG, STATUS = hyve's exit status
stop_bg() {
	kill -"$1" "$BG"
	_i=0
	while [ $_i -lt 60 ] && kill -0 "$BG" 2>/dev/null; do
		sleep 1
		_i=$((_i + 1))
	done
	kill -0 "$BG" 2>/dev/null && { diag "hyve still running 60 s after SIG$1"; kill -KILL "$BG"; }
	wait "$BG"
	STATUS=$?
}

if t_begin "seccomp: every thread of a running hyve (main, vCPU, two virtio workers) shows Seccomp: 2"; then
	HV_CMD="hyve run --kernel hostile.pvh --cmdline w --disk ... --device virtio-rng"
	if start_waiting; then
		_n=0
		_bad=0
		for _s in /proc/"$BG"/task/*/status; do
			_n=$((_n + 1))
			grep -Eq '^Seccomp:[[:space:]]+2$' "$_s" || {
				_bad=$((_bad + 1))
				diag "$(grep -E '^(Name|Seccomp)' "$_s" | tr '\n' ' ') ($_s)"
			}
		done
		echo "# $_n threads"
		[ "$_n" -ge 4 ] || diag "expected at least 4 threads, found $_n"
		[ "$_bad" = 0 ] || diag "$_bad thread(s) without a seccomp filter"
		grep -Eq '^NoNewPrivs:[[:space:]]+1$' /proc/"$BG"/status || diag "NoNewPrivs is not 1"
		stop_bg TERM
		want_status 1
	fi
	t_end
fi

for _sig in TERM HUP INT; do
	if t_begin "SIG$_sig to a VM with a virtio disk: clean stop (status 1, one message)"; then
		HV_CMD="hyve run --kernel hostile.pvh --cmdline w --disk ...; kill -$_sig"
		if start_waiting; then
			stop_bg "$_sig"
			want_status 1
			want_err_line "hyve: terminated by signal $_sig"
		fi
		t_end
	fi
done

for _kind in main vcpu worker; do
	if t_begin "seccomp: a forbidden system call on the $_kind thread kills hyve (SIGSYS)"; then
		mk_hostile_img
		HV_CMD="HYVE_SECCOMP_SELFTEST=$_kind hyve run --kernel hostile.pvh ..."
		HV_T0=$(date +%s)
		HYVE_SECCOMP_SELFTEST=$_kind timeout -k 5 "$HV_TIMEOUT" "$HYVE" run --force --kernel "$H" \
			--memory 64M --cmdline b --disk "path=$HIMG" --device virtio-rng \
			</dev/null >"$OUT" 2>"$ERR"
		STATUS=$?
		want_status 159
		t_end
	fi
done

if t_begin "seccomp: --seccomp=log lets the forbidden call through (the kernel logs it)"; then
	mk_hostile_img
	HV_CMD="HYVE_SECCOMP_SELFTEST=vcpu hyve run --seccomp=log ..."
	HV_T0=$(date +%s)
	HYVE_SECCOMP_SELFTEST=vcpu timeout -k 5 "$HV_TIMEOUT" "$HYVE" run --seccomp=log \
		--force --kernel "$H" --memory 64M --cmdline b --disk "path=$HIMG" </dev/null >"$OUT" 2>"$ERR"
	STATUS=$?
	want_alive
	t_end
fi

if t_begin "a missing disk after the VM exists: one clear error, status 1 (ASan-clean)"; then
	hv run --force --kernel "$H" --memory 64M --cmdline b --disk path=/nonexistent/disk.img
	want_status 1
	want_err_one_line '/nonexistent/disk.img'
	t_end
fi

if t_begin "--user 65534:65534 --chroot DIR: the guest runs, /proc shows the dropped credentials"; then
	if [ "$(id -u)" != 0 ]; then
		echo "# not root: --user/--chroot cannot be tried"
		T_NUM=$((T_NUM + 1)); T_SKIPPED=$((T_SKIPPED + 1))
		echo "ok $T_NUM - --user/--chroot # SKIP not root"
	else
		mkdir -p "$TMPD/jail"
		HV_CMD="hyve run --user 65534:65534 --chroot $TMPD/jail ..."
		if start_waiting --user 65534:65534 --chroot "$TMPD/jail"; then
			grep -Eq '^Uid:[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534$' \
				/proc/"$BG"/status || diag "Uid: $(grep '^Uid:' /proc/"$BG"/status)"
			grep -Eq '^Gid:[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534[[:space:]]+65534$' \
				/proc/"$BG"/status || diag "Gid: $(grep '^Gid:' /proc/"$BG"/status)"
			grep -Eq '^Groups:[[:space:]]*$' /proc/"$BG"/status || diag "$(grep '^Groups:' /proc/"$BG"/status)"
			for _s in /proc/"$BG"/task/*/status; do
				grep -Eq '^Uid:[[:space:]]+65534' "$_s" || diag "a thread kept its uid: $_s"
				grep -Eq '^NoNewPrivs:[[:space:]]+1$' "$_s" || diag "a thread without NoNewPrivs: $_s"
			done
			_jail=$(cd "$TMPD/jail" && pwd -P)
			[ "$(readlink /proc/"$BG"/root)" = "$_jail" ] ||
				diag "root is $(readlink /proc/"$BG"/root), not $_jail"
			stop_bg TERM
			want_status 1
		fi
		t_end
	fi
fi

t_done
