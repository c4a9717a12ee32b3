#!/usr/bin/env bash
# scripts/demo.sh - install what is needed, build hyve and run the demo guest
# (a boot-sector-style guest that talks to bvmcons and the UART).  Where
# /dev/kvm cannot be used here, the demo runs inside the nested-KVM rig.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
make -s -j"$(nproc 2>/dev/null || echo 2)" all
guest=build/guests/hello_com1.bin
if [ -c /dev/kvm ] && { exec 3<>/dev/kvm; } 2>/dev/null; then
	exec 3>&-
	exec build/hyve run --raw "$guest" "$@"
fi
echo "demo: no usable /dev/kvm on this host; running hyve inside the nested-KVM rig (tests/rig)" >&2
pl=$(mktemp -d /tmp/hyve-demo.XXXXXX)
trap 'rm -rf "$pl"' EXIT
cp build/hyve "$guest" "$pl/"
printf '#!/bin/sh\ncd /payload\n./hyve run --raw %s --stats\necho "hyve exit status: $?"\n' \
	"$(basename "$guest")" > "$pl/run"
chmod +x "$pl/run"
bash tests/rig/rig.sh "$pl"
