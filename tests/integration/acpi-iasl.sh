#!/usr/bin/env bash
# acpi-iasl.sh - check hyve's ACPI tables with ACPICA's own tools, on the
# host (no KVM needed):
#
#   1. build tests/integration/acpi-dump.c against src/boot/acpi.c, aml.c
#      and err.c, and dump the tables (build/acpi/cpus-N/<SIG>.dat), which
#      also runs acpi_check() on the whole blob;
#   2. iasl -d each table: no "Error" or "Warning" in iasl's output or in
#      the disassembly;
#   3. recompile each disassembly with iasl: the same bytes come back
#      (except the checksum and the compiler id, which iasl rewrites), so
#      iasl's idea of every field's offset and width is ours;
#   4. disassemble the DSDT with every other table as an external (-e), so
#      cross-table references are resolved;
#   5. acpiexec: load the tables into ACPICA's namespace (the same table and
#      FADT checks Linux runs) and evaluate \_S5;
#   6. acpiexec "resources": decode \_SB.PCI0's _PRT and _CRS (bus 0 only),
#      \_SB.MRES's and \_SB.RTC's _CRS as an OS would (ACPICA's resource conversion, with
#      its round-trip comparison) and check the windows and routes.
#
# Run from anywhere: bash tests/integration/acpi-iasl.sh.  One TAP line per
# check; exit status 0 if all passed.  Installs acpica-tools if iasl is
# missing (as root on Debian); without it every check is skipped.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
. tests/integration/lib.sh
t_setup

OUTDIR=${ACPI_OUT:-build/acpi}
CC=${CC:-cc}
CPU_COUNTS=${ACPI_CPUS:-"1 64 2L"}	# NL: N CPUs, the --legacy machine
TABLES="RSDP XSDT FACP FACS APIC MCFG DSDT"
LOG=$TMPD/log

# skip DESCRIPTION REASON: an "ok ... # SKIP" line counted like lib.sh's.
skip() {
	T_NUM=$((T_NUM + 1))
	T_SKIPPED=$((T_SKIPPED + 1))
	echo "ok $T_NUM - $1 # SKIP $2"
}

# no_problems LABEL FILE: FILE has no Error or Warning line (iasl's own
# "0 Errors, 0 Warnings" summary excepted).
no_problems() {
	if grep -E 'Error|Warning' "$2" | grep -vqE '(^| )0 Errors, 0 Warnings'; then
		diag "$1 reports problems:"
		grep -E 'Error|Warning' "$2" | grep -vE '(^| )0 Errors, 0 Warnings' |
			head -n 12 | sed 's/^/    | /' >>"$DIAG"
		return 1
	fi
	return 0
}

# acpiexec_test DESC: start test DESC, or report it SKIP where acpiexec is
# not installed (status 1: do not run the body).
acpiexec_test() {
	if command -v acpiexec >/dev/null 2>&1; then
		t_begin "$1"
	else
		skip "$1" "no acpiexec"
		return 1
	fi
}

# acpiexec_run COMMANDS TABLE...: run acpiexec in batch mode on the tables
# in $d, output in $LOG, and check that it reports no problems.
acpiexec_run() {
	_cmds=$1
	shift
	(cd "$d" && timeout 60 acpiexec -b "$_cmds" "$@") >"$LOG" 2>&1 || diag "acpiexec failed"
	no_problems "acpiexec" "$LOG"
}

if ! command -v iasl >/dev/null 2>&1; then
	echo "# iasl not found: installing acpica-tools"
	apt-get install -y acpica-tools >/dev/null 2>&1 || true
fi
if ! command -v iasl >/dev/null 2>&1; then
	for n in $CPU_COUNTS; do
		for t in $TABLES; do
			skip "iasl decompiles $t ($n CPUs) without errors or warnings" \
				"no iasl (apt-get install acpica-tools)"
		done
	done
	t_done
	exit $?
fi
echo "# $(iasl -v 2>&1 | grep -m1 -i 'version')"

mkdir -p "$OUTDIR"
DUMP=$OUTDIR/acpi-dump
if t_begin "acpi-dump builds"; then
	if ! $CC -std=gnu11 -O1 -g -Wall -Wextra -Werror -Wshadow \
		-Wno-unused-parameter -D_GNU_SOURCE -Isrc -o "$DUMP" \
		tests/integration/acpi-dump.c src/boot/acpi.c src/boot/aml.c \
		src/err.c >"$LOG" 2>&1; then
		diag "compiling acpi-dump failed"
		diag_file "compiler output" "$LOG"
	fi
	t_end
fi
[ -x "$DUMP" ] || { t_done; exit 1; }

for n in $CPU_COUNTS; do
	d=$OUTDIR/cpus-$n
	rm -rf "$d"
	mkdir -p "$d"

	if t_begin "acpi-dump builds and checks the tables for $n CPUs"; then
		"$DUMP" "$d" "$n" >"$LOG" 2>&1 || diag_file "acpi-dump failed" "$LOG"
		t_end
	fi

	for t in $TABLES; do
		desc="iasl decompiles $t ($n CPUs) without errors or warnings"
		if [ ! -s "$d/$t.dat" ]; then
			t_begin "$desc"
			diag "no $d/$t.dat"
			t_end
			continue
		fi
		(cd "$d" && iasl -d "$t.dat") >"$LOG" 2>&1
		status=$?
		# iasl loads only tables with a 4-character signature: an
		# RSDP ("RSD PTR ") is refused as a whole file.  acpi-dump's
		# acpi_check() has verified its checksums and pointers.
		if [ "$t" = RSDP ] && grep -q 'does not contain a valid ACPI table' "$LOG"; then
			skip "$desc" "this iasl cannot load a standalone RSDP (checked by acpi_check)"
			continue
		fi
		t_begin "$desc"
		[ "$status" = 0 ] || diag "iasl -d exited with status $status"
		no_problems "iasl -d $t.dat" "$LOG"
		if [ -s "$d/$t.dsl" ]; then
			no_problems "$t.dsl" "$d/$t.dsl"
			grep -q '\*\*\*\*' "$d/$t.dsl" &&
				diag "$t.dsl has '****' (iasl's mark for a bad structure)"
		else
			diag "iasl wrote no $t.dsl"
		fi
		[ -s "$DIAG" ] && diag_file "iasl output" "$LOG"
		t_end

		if t_begin "iasl recompiles $t.dsl ($n CPUs) to the same bytes"; then
			# -oa: no AML optimisation (it would shorten \_S5 to _S5)
			(cd "$d" && iasl -oa -p "re-$t" "$t.dsl") >"$LOG" 2>&1 ||
				diag "iasl $t.dsl failed"
			no_problems "iasl $t.dsl" "$LOG"
			if [ -s "$d/re-$t.aml" ]; then
				# cmp -l: 1-based offsets; 10 is the checksum,
				# 29-36 the compiler id and revision
				cmp -l "$d/$t.dat" "$d/re-$t.aml" 2>&1 |
					awk '$1 != 10 && ($1 < 29 || $1 > 36)' >"$TMPD/cmp"
				if [ -s "$TMPD/cmp" ]; then
					diag "recompiled $t differs (offset, ours, iasl's; octal):"
					diag_file "cmp -l" "$TMPD/cmp"
				fi
			else
				diag "iasl wrote no re-$t.aml"
			fi
			[ -s "$DIAG" ] && diag_file "iasl output" "$LOG"
			t_end
		fi
	done

	if t_begin "iasl disassembles DSDT ($n CPUs) with the other tables as externals"; then
		(cd "$d" && iasl -e XSDT.dat FACP.dat FACS.dat APIC.dat MCFG.dat -p all-DSDT \
			-d DSDT.dat) >"$LOG" 2>&1 || diag "iasl -e ... -d DSDT.dat failed"
		no_problems "iasl -e" "$LOG"
		[ -s "$d/all-DSDT.dsl" ] || diag "iasl wrote no all-DSDT.dsl"
		[ -s "$DIAG" ] && diag_file "iasl output" "$LOG"
		t_end
	fi

	if acpiexec_test "acpiexec loads the tables ($n CPUs) and \\_S5 is {5, 5, 0, 0}"; then
		# acpiexec supplies its own RSDP, XSDT and FACS; its built-in
		# self-tests report "Unexpected AE_..." for the hardware we
		# leave out on purpose (GPE blocks, PM timer, PM2_CNT).
		acpiexec_run 'evaluate \_S5' DSDT.dat FACP.dat APIC.dat
		tr -d ' ' <"$LOG" | grep -A4 'Contains4Elements' |
			grep -o '=[0-9A-F]*$' | tr '\n' ' ' >"$TMPD/s5"
		[ "$(cat "$TMPD/s5")" = "=0000000000000005 =0000000000000005 =0000000000000000 =0000000000000000 " ] ||
			diag "\\_S5 evaluated to: $(cat "$TMPD/s5")"
		grep -q "ACPI: APIC .*HYVE" "$LOG" || diag "acpiexec did not load our MADT"
		[ -s "$DIAG" ] && diag_file "acpiexec output" "$LOG"
		t_end
	fi

	if acpiexec_test "acpiexec decodes \\_SB.PCI0 _PRT and _CRS and \\_SB.MRES _CRS ($n CPUs)"; then
		acpiexec_run 'resources \_SB.PCI0; resources \_SB.MRES; resources \_SB.RTC' \
			DSDT.dat FACP.dat APIC.dat MCFG.dat
		grep -qi 'mismatch' "$LOG" && diag "resource round trip mismatch"
		# slots 1-31 x INTA-INTD, GSI sources (no link device)
		[ "$(grep -c 'PCI IRQ Routing Table Package' "$LOG")" = 124 ] ||
			diag "_PRT does not have 124 entries"
		tr -d ' ' <"$LOG" | grep -A4 '^\[00\]PCIIRQRoutingTablePackage' |
			grep -q 'SourceIndex:00000011' || diag "slot 1 INTA is not GSI 17"
		grep -q 'Source : \[NULL NAMESTRING\]' "$LOG" || diag "_PRT sources are not GSIs"
		tr -d ' ' <"$LOG" >"$TMPD/res"
		for want in 'ResourceType:BusNumberRange' 'AddressMinimum:0CF8' \
			'AddressMinimum:0D00' 'AddressLength:F300' \
			'AddressMinimum:C0000000' 'AddressLength:20000000' \
			'AddressMinimum:0000000100000000' 'AddressLength:0000000800000000' \
			'Address:E0000000' 'AddressLength:10000000' \
			'AddressMinimum:0070' 'AddressLength:02' 'InterruptList:8'; do
			grep -q "^$want\$" "$TMPD/res" || diag "no '$want' in the decoded resources"
		done
		# bus 0 only: a wider range makes Linux scan buses 1-255 for bridges
		grep -A9 '^ResourceType:BusNumberRange' "$TMPD/res" | grep -q '^AddressMaximum:0000$' ||
			diag "the root bridge's bus range is not 0-0"
		[ -s "$DIAG" ] && diag_file "acpiexec output" "$LOG"
		t_end
	fi
done

t_done
