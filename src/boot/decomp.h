/*
 * decomp.h - the compressed payload of a bzImage, decompressed by hyve
 * instead of by the guest: gzip, bzip2, lzma, xz, lzo, lz4, zstd, each
 * through Debian's library (zlib, libbz2, liblzma, liblzo2, liblz4, libzstd).
 *
 * The formats are the kernel's (arch/x86/boot/compressed/Makefile): the
 * payload is the compressor's output with the decompressed size appended as
 * 32 bits, little-endian (for gzip that is the ISIZE trailer itself); lz4
 * is the legacy frame format (lz4 -l), lzo the lzop file format.
 */
#ifndef HYVE_BOOT_DECOMP_H
#define HYVE_BOOT_DECOMP_H

#include <stddef.h>
#include <stdint.h>

enum decomp_fmt {
	DECOMP_UNKNOWN,
	DECOMP_GZIP,
	DECOMP_BZIP2,
	DECOMP_LZMA,
	DECOMP_XZ,
	DECOMP_LZO,
	DECOMP_LZ4,
	DECOMP_ZSTD,
};

/* The largest decompressed kernel hyve accepts. */
#define DECOMP_MAX_OUT	(1ULL << 30)

/* The format, told by the payload's magic bytes (DECOMP_UNKNOWN: none). */
enum decomp_fmt decomp_detect(const uint8_t *p, size_t n);
const char *decomp_name(enum decomp_fmt f);

/*
 * Decompress payload p (n bytes, with the size trailer) into a new buffer of
 * exactly the size the trailer gives (*out, *out_len; free with
 * decomp_free).  Every inconsistency -- truncated or corrupt stream, output
 * longer or shorter than the trailer says, size over max_out -- is an error
 * naming what (name: for messages).  0 or -errno (err_set).
 */
int decomp_payload(const char *name, const uint8_t *p, size_t n, uint64_t max_out,
		   uint8_t **out, size_t *out_len);
void decomp_free(uint8_t *out, size_t out_len);

#endif
