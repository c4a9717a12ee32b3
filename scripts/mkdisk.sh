#!/usr/bin/env bash
# scripts/mkdisk.sh DIR IMAGE [SIZE] - make an ext4 disk image from a folder
# (mkfs.ext4 -d), for `hyve run --disk path=IMAGE`.  SIZE with K/M/G suffix,
# default 64M; the image size is a multiple of 512 as hyve requires.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 DIR IMAGE [SIZE]" >&2; exit 1; }
dir=$1 img=$2 size=${3:-64M}
[ -d "$dir" ] || { echo "mkdisk: $dir is not a folder" >&2; exit 1; }
command -v mkfs.ext4 >/dev/null || { echo "mkdisk: mkfs.ext4 missing (apt-get install e2fsprogs)" >&2; exit 1; }
rm -f "$img"
mkfs.ext4 -q -F -d "$dir" "$img" "$size" >/dev/null
echo "mkdisk: $img ($size, ext4) from $dir"
