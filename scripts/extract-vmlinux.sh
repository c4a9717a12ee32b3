#!/bin/bash
# extract-vmlinux.sh - get the uncompressed ELF vmlinux out of a bzImage, to
# boot it with hyve's PVH loader (docs/boot.md).
#
#   scripts/extract-vmlinux.sh /boot/vmlinuz-... vmlinux
#
# The setup header says where the compressed kernel is (payload_offset and
# payload_length, boot protocol 2.08+).  The build appends the uncompressed
# size (4 bytes) to every compressed payload; it is cut off before
# decompressing and used to check the result.  Needs the decompressor for
# the kernel's CONFIG_KERNEL_* choice: gzip, xz, zstd, lz4, bzip2, lzop.
set -euo pipefail

die() { echo "extract-vmlinux: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: $0 BZIMAGE OUT"
in=$1 out=$2
[ -f "$in" ] || die "$in: no such file"

u8()  { od -An -tu1 -j "$1" -N1 "$in" | tr -d ' '; }
u16() { od -An -tu2 -j "$1" -N2 "$in" | tr -d ' '; }
u32() { od -An -tu4 -j "$1" -N4 "$in" | tr -d ' '; }

[ "$(dd if="$in" bs=1 skip=514 count=4 status=none)" = HdrS ] ||
	die "$in: not a bzImage (no HdrS magic)"
version=$(u16 518)
[ "$version" -ge $((0x0208)) ] ||
	die "$in: boot protocol $((version >> 8)).$((version & 255)) has no payload fields (need 2.08)"
sects=$(u8 497)
[ "$sects" -ne 0 ] || sects=4
off=$(( (sects + 1) * 512 + $(u32 584) ))
len=$(u32 588)
[ "$len" -gt 4 ] || die "$in: empty payload"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dd if="$in" of="$tmp/payload" bs=1M iflag=skip_bytes,count_bytes \
	skip=$off count=$((len - 4)) status=none
want=$(od -An -tu4 -j $((off + len - 4)) -N4 "$in" | tr -d ' ')

magic=$(od -An -tx1 -N6 "$tmp/payload" | tr -d ' \n')
case $magic in
	1f8b*)		comp=gzip;  cmd=(gzip -dc) ;;
	fd377a585a00)	comp=xz;    cmd=(xz -dc --single-stream) ;;
	28b52ffd*)	comp=zstd;  cmd=(zstd -dcq) ;;
	02214c18*)	comp=lz4;   cmd=(lz4 -dcq) ;;	# legacy frame, as Linux writes it
	425a68*)	comp=bzip2; cmd=(bzip2 -dc) ;;
	894c5a4f*)	comp=lzo;   cmd=(lzop -dc) ;;
	5d0000*)	comp=lzma;  cmd=(xz -dc --format=lzma) ;;
	*)		die "$in: unknown payload compression (magic $magic)" ;;
esac
command -v "${cmd[0]}" >/dev/null || die "$comp payload: ${cmd[0]} is not installed"
"${cmd[@]}" < "$tmp/payload" > "$out" || die "$in: $comp decompression failed"

got=$(stat -c %s "$out")
[ "$got" -eq "$want" ] || die "$in: decompressed $got bytes, the image says $want"
[ "$(od -An -tx1 -N4 "$out" | tr -d ' \n')" = 7f454c46 ] || die "$out: result is not an ELF file"
echo "$in: protocol $((version >> 8)).$(printf %02d $((version & 255))), $comp payload, $got-byte vmlinux in $out" >&2
if command -v readelf >/dev/null; then
	if readelf -nW "$out" 2>/dev/null | grep -q 'Xen.*0x00000012'; then
		echo "$out: has XEN_ELFNOTE_PHYS32_ENTRY: bootable with PVH" >&2
	else
		echo "$out: no XEN_ELFNOTE_PHYS32_ENTRY note (kernel built without CONFIG_PVH)" >&2
	fi
fi
