/*
 * kcache.h - the kernel cache: bzImages hyve has decompressed, kept as
 * ready-to-load images, content-addressed by a hash of the whole bzImage
 * file (XXH3-128).  Default directory $XDG_CACHE_HOME/hyve (or
 * ~/.cache/hyve); --kernel-cache DIR, --no-kernel-cache.
 *
 * An entry, DIR/<32 hex digits>.hkc: a 4 KiB header (struct kcache_hdr:
 * magic, the kernel's geometry, the sizes, an XXH3-64 digest of the rest),
 * then each segment's file bytes, then the relocation table.  Segment data
 * sits at 4 KiB-aligned offsets, so a loader preads it straight into guest
 * RAM and hashes it there: no intermediate copy.
 *
 * Concurrency: a writer fills a private temporary file in DIR and renames it
 * over the entry's name (atomic); readers only ever open complete entries,
 * and two hyves writing the same entry write the same bytes.  A corrupt
 * entry (bad header, short file, digest mismatch) is removed and rebuilt.
 * Size: after a store the directory is trimmed to max_bytes, least recently
 * used entries first (a hit touches the entry's mtime).
 */
#ifndef HYVE_BOOT_KCACHE_H
#define HYVE_BOOT_KCACHE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "boot/reloc.h"

#define KCACHE_MAGIC		"HYVEKC01"
#define KCACHE_HDR_SIZE		4096
#define KCACHE_KEY_LEN		32		/* hex digits */
#define KCACHE_DEFAULT_MAX	(1ULL << 30)	/* bytes in the directory */

struct kcache_hdr {
	char magic[8];
	uint64_t key_hi, key_lo;	/* the bzImage's XXH3-128 */
	uint64_t data_len;		/* bytes after the header */
	uint64_t digest;		/* XXH3-64 of those bytes */
	struct vmlinux vm;		/* offsets relative to the file */
};

/* The key of a bzImage's contents: 32 lowercase hex digits + NUL. */
void kcache_key(const uint8_t *p, size_t n, char key[KCACHE_KEY_LEN + 1]);

/* The default directory into buf: 0, or -ENOENT when there is no home. */
int kcache_default_dir(char *buf, size_t len);

/*
 * Look key up in dir.  0: a hit, *fd open on the entry and *h its checked
 * header (the digest is checked by the loader: kcache_verify); -ENOENT: no
 * entry; another -errno: the entry was bad and has been removed (err_set).
 */
int kcache_lookup(const char *dir, const char *key, int *fd, struct kcache_hdr *h);

/*
 * Store the decompressed kernel vm (segment and table offsets into p) as
 * key in dir (created if missing), then trim dir to max_bytes.  0 or
 * -errno (err_set); on failure nothing is left behind.
 */
int kcache_store(const char *dir, const char *key, const struct vmlinux *vm,
		 const uint8_t *p, uint64_t max_bytes);

/* Remove key's entry (a corrupt one found by the loader). */
void kcache_remove(const char *dir, const char *key);

/* Total bytes of the entries in dir (tests). */
uint64_t kcache_dir_bytes(const char *dir);

#endif
