#!/bin/sh
# tests/linux/disks.sh DIR - the disks of the virtio scenarios: DIR/a.img
# (ext4, 16M, with /hello.txt = "hello from the host", made by
# scripts/mkdisk.sh) and DIR/b.img (1M, blank: the read-only disk).  Used by
# payload.sh for the rig and by scenarios.sh when it runs natively, so both
# modes boot the same disks.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 1; }
dir=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$dir/src"
echo "hello from the host" >"$dir/src/hello.txt"
PATH=$PATH:/usr/sbin:/sbin bash "$top/scripts/mkdisk.sh" "$dir/src" "$dir/a.img" 16M >/dev/null
truncate -s 1M "$dir/b.img"
rm -rf "$dir/src"
