#!/usr/bin/env bash
# Build tests/rig/kvmcheck/kvmcheck.c statically and run it in the rig: proves
# a KVM guest runs inside (IO exit with the right port/value, then HLT) and
# prints the cost of one exit round trip there. Exit status is kvmcheck's
# (0 = pass) or a rig status (124 timeout, 125 no /dev/kvm).
#   tests/rig/kvmcheck.sh [rig.sh options]
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rig_need gcc gcc
[ -e /usr/include/linux/kvm.h ] || rig_apt_install linux-libc-dev
gcc -print-file-name=libc.a | grep -q / || rig_apt_install libc6-dev

PAYLOAD=$(mktemp -d "${TMPDIR:-/tmp}/hyve-kvmcheck.XXXXXX")
trap 'rm -rf "$PAYLOAD"' EXIT
cp "$RIG_DIR/kvmcheck/run" "$PAYLOAD/run"
gcc -static -O2 -Wall -Wextra -Werror -o "$PAYLOAD/kvmcheck" "$RIG_DIR/kvmcheck/kvmcheck.c" ||
    rig_die "building kvmcheck failed"
status=0
bash "$RIG_DIR/rig.sh" "$@" "$PAYLOAD" || status=$?
exit "$status"
