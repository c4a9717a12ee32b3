/* decomp.c - decompress a bzImage's payload on the host (see decomp.h). */
#include <bzlib.h>
#include <errno.h>
#include <limits.h>
#include <lz4.h>
#include <lzma.h>
#include <lzo/lzo1x.h>
#include <string.h>
#include <sys/mman.h>
#include <zlib.h>
#include <zstd.h>
#include "boot/decomp.h"
#include "err.h"

#define LZMA_MEMLIMIT		(256u << 20)	/* lzma -9's dictionary is 64 MiB */
#define LZ4_LEGACY_MAGIC	0x184C2102u
#define LZ4_LEGACY_BLOCK	(8u << 20)	/* decompressed bytes per block, at most */

static const struct {
	enum decomp_fmt fmt;
	const char *name;
	uint8_t magic[9];
	size_t len;
} formats[] = {
	{ DECOMP_GZIP, "gzip", { 0x1f, 0x8b }, 2 },
	{ DECOMP_BZIP2, "bzip2", { 'B', 'Z', 'h' }, 3 },
	{ DECOMP_LZMA, "lzma", { 0x5d, 0x00, 0x00 }, 3 },
	{ DECOMP_XZ, "xz", { 0xfd, '7', 'z', 'X', 'Z', 0x00 }, 6 },
	{ DECOMP_LZO, "lzo", { 0x89, 'L', 'Z', 'O', 0x00, 0x0d, 0x0a, 0x1a, 0x0a }, 9 },
	{ DECOMP_LZ4, "lz4", { 0x02, 0x21, 0x4c, 0x18 }, 4 },
	{ DECOMP_ZSTD, "zstd", { 0x28, 0xb5, 0x2f, 0xfd }, 4 },
};

enum decomp_fmt decomp_detect(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (n >= formats[i].len && memcmp(p, formats[i].magic, formats[i].len) == 0)
			return formats[i].fmt;
	return DECOMP_UNKNOWN;
}

const char *decomp_name(enum decomp_fmt f)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (formats[i].fmt == f)
			return formats[i].name;
	return "unknown";
}

static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/*
 * Each decoder writes into out[0, cap), where cap = the expected size + 1:
 * producing that extra byte means the stream is longer than the trailer
 * says.  Returns the bytes produced, or -errno (err_set).
 */
typedef long (*decoder_fn)(const char *name, const uint8_t *in, size_t n,
			   uint8_t *out, size_t cap);

static long corrupt(const char *name, const char *fmt, const char *what)
{
	return err_set(-EINVAL, "%s: %s payload is corrupt or truncated (%s)", name, fmt, what);
}

static long dec_gzip(const char *name, const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	z_stream z = { 0 };
	int r;

	if (n > UINT_MAX || cap > UINT_MAX)
		return err_set(-EFBIG, "%s: gzip payload too large", name);
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return err_set(-ENOMEM, "%s: zlib: cannot initialise", name);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	r = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	if (r != Z_STREAM_END)
		return corrupt(name, "gzip", z.msg ? z.msg : (r == Z_BUF_ERROR ? "stream ends early" : "inflate failed"));
	return (long)z.total_out;
}

static long dec_bzip2(const char *name, const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	bz_stream b = { 0 };
	uint64_t total;
	int r;

	if (n > UINT_MAX || cap > UINT_MAX)
		return err_set(-EFBIG, "%s: bzip2 payload too large", name);
	if (BZ2_bzDecompressInit(&b, 0, 0) != BZ_OK)
		return err_set(-ENOMEM, "%s: libbz2: cannot initialise", name);
	b.next_in = (char *)in;
	b.avail_in = (unsigned)n;
	b.next_out = (char *)out;
	b.avail_out = (unsigned)cap;
	do {
		r = BZ2_bzDecompress(&b);
	} while (r == BZ_OK && b.avail_in && b.avail_out);
	total = (uint64_t)b.total_out_hi32 << 32 | b.total_out_lo32;
	BZ2_bzDecompressEnd(&b);
	if (r != BZ_STREAM_END)
		return corrupt(name, "bzip2", r == BZ_OK ? "stream ends early" : "bad data");
	return (long)total;
}

static long dec_lzma_stream(const char *name, const char *fmt, lzma_stream *s,
			    const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	lzma_ret r;

	s->next_in = in;
	s->avail_in = n;
	s->next_out = out;
	s->avail_out = cap;
	r = lzma_code(s, LZMA_FINISH);
	lzma_end(s);
	if (r != LZMA_STREAM_END)
		return corrupt(name, fmt, r == LZMA_BUF_ERROR ? "stream ends early" :
				   r == LZMA_DATA_ERROR ? "bad data" :
				   r == LZMA_FORMAT_ERROR ? "bad header" :
				   r == LZMA_MEMLIMIT_ERROR ? "dictionary over 256 MiB" : "decoder error");
	return (long)s->total_out;
}

static long dec_lzma(const char *name, const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	lzma_stream s = LZMA_STREAM_INIT;

	if (lzma_alone_decoder(&s, LZMA_MEMLIMIT) != LZMA_OK)
		return err_set(-ENOMEM, "%s: liblzma: cannot initialise", name);
	return dec_lzma_stream(name, "lzma", &s, in, n, out, cap);
}

static long dec_xz(const char *name, const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	lzma_stream s = LZMA_STREAM_INIT;

	/* One stream: the size trailer after it is not xz padding. */
	if (lzma_stream_decoder(&s, LZMA_MEMLIMIT, 0) != LZMA_OK)
		return err_set(-ENOMEM, "%s: liblzma: cannot initialise", name);
	return dec_lzma_stream(name, "xz", &s, in, n, out, cap);
}

/* lzop's header flags */
#define LZOP_ADLER32_D	0x0001
#define LZOP_ADLER32_C	0x0002
#define LZOP_EXTRA	0x0040
#define LZOP_CRC32_D	0x0100
#define LZOP_CRC32_C	0x0200
#define LZOP_FILTER	0x0800
#define LZOP_MAX_BLOCK	(64u << 20)

static long dec_lzo(const char *name, const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	size_t off = 9, done = 0;
	unsigned version;
	uint32_t flags;

	if (lzo_init() != LZO_E_OK)
		return err_set(-ENOMEM, "%s: liblzo2: cannot initialise", name);
#define NEED(k) do { if (off > n || n - off < (uint64_t)(k)) return corrupt(name, "lzo", "stream ends early"); } while (0)
	NEED(4);
	version = (unsigned)in[off] << 8 | in[off + 1];
	off += 4;			/* version, library version */
	if (version >= 0x0940) {
		NEED(2);
		off += 2;		/* version needed to extract */
	}
	NEED(1);
	if (in[off] < 1 || in[off] > 3)
		return corrupt(name, "lzo", "not an LZO1X method");
	off += version >= 0x0940 ? 2 : 1;	/* method, level */
	NEED(4);
	flags = be32(in + off);
	off += 4;
	if (flags & LZOP_FILTER)
		return corrupt(name, "lzo", "filters are not supported");
	NEED(8);
	off += 8;			/* mode, mtime low */
	if (version >= 0x0940) {
		NEED(4);
		off += 4;		/* mtime high */
	}
	NEED(1);
	off += 1 + in[off];		/* name */
	NEED(4);
	off += 4;			/* header checksum */
	if (flags & LZOP_EXTRA) {
		NEED(4);
		uint32_t x = be32(in + off);
		off += 4;
		NEED((uint64_t)x + 4);
		off += x + 4;
	}
	for (;;) {
		uint32_t dlen, slen, dsum = 0;
		lzo_uint got;

		NEED(4);
		dlen = be32(in + off);
		off += 4;
		if (dlen == 0)
			break;
		NEED(4);
		slen = be32(in + off);
		off += 4;
		if (dlen > LZOP_MAX_BLOCK || slen > dlen)
			return corrupt(name, "lzo", "bad block sizes");
		if (flags & (LZOP_ADLER32_D | LZOP_CRC32_D)) {
			NEED(4);
			dsum = be32(in + off);
			off += 4;
		}
		if ((flags & (LZOP_ADLER32_C | LZOP_CRC32_C)) && slen < dlen) {
			NEED(4);
			off += 4;
		}
		NEED(slen);
		if (dlen > cap - done)
			return err_set(-EINVAL, "%s: lzo payload decompresses to more than its size trailer says",
				       name);
		if (slen == dlen) {
			memcpy(out + done, in + off, dlen);
		} else {
			got = dlen;
			if (lzo1x_decompress_safe(in + off, slen, out + done, &got, NULL) != LZO_E_OK ||
			    got != dlen)
				return corrupt(name, "lzo", "bad block");
		}
		if ((flags & LZOP_ADLER32_D) && lzo_adler32(1, out + done, dlen) != dsum)
			return corrupt(name, "lzo", "block checksum mismatch");
		if ((flags & LZOP_CRC32_D) && lzo_crc32(0, out + done, dlen) != dsum)
			return corrupt(name, "lzo", "block checksum mismatch");
		off += slen;
		done += dlen;
	}
#undef NEED
	return (long)done;
}

static long dec_lz4(const char *name, const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	size_t off = 4, done = 0, expect = cap - 1;

	/* Blocks of at most 8 MiB; the size trailer (4 bytes) ends the input. */
	while (n - off >= 4) {
		uint32_t c = le32(in + off);
		size_t room;
		int got;

		if (c == LZ4_LEGACY_MAGIC) {		/* another legacy frame */
			off += 4;
			continue;
		}
		if (n - off == 4 && done == expect)	/* the size trailer */
			break;
		off += 4;
		if (c == 0 || c > n - off || c > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK))
			return corrupt(name, "lz4", "bad block size");
		room = cap - done < LZ4_LEGACY_BLOCK ? cap - done : LZ4_LEGACY_BLOCK;
		got = LZ4_decompress_safe((const char *)in + off, (char *)out + done, (int)c, (int)room);
		if (got < 0)
			return corrupt(name, "lz4", "bad block");
		off += c;
		done += (size_t)got;
		if (done > expect)
			break;
	}
	if (n - off != 0 && !(n - off == 4 && done == expect))
		return corrupt(name, "lz4", "stream ends early");
	return (long)done;
}

static long dec_zstd(const char *name, const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	size_t fsize = ZSTD_findFrameCompressedSize(in, n), r;

	if (ZSTD_isError(fsize))
		return corrupt(name, "zstd", ZSTD_getErrorName(fsize));
	r = ZSTD_decompress(out, cap, in, fsize);
	if (ZSTD_isError(r))
		return corrupt(name, "zstd", ZSTD_getErrorName(r));
	return (long)r;
}

static decoder_fn decoder_of(enum decomp_fmt f)
{
	switch (f) {
	case DECOMP_GZIP: return dec_gzip;
	case DECOMP_BZIP2: return dec_bzip2;
	case DECOMP_LZMA: return dec_lzma;
	case DECOMP_XZ: return dec_xz;
	case DECOMP_LZO: return dec_lzo;
	case DECOMP_LZ4: return dec_lz4;
	case DECOMP_ZSTD: return dec_zstd;
	default: return NULL;
	}
}

void decomp_free(uint8_t *out, size_t out_len)
{
	if (out)
		munmap(out, out_len + 1);
}

int decomp_payload(const char *name, const uint8_t *p, size_t n, uint64_t max_out,
		   uint8_t **out, size_t *out_len)
{
	enum decomp_fmt f = decomp_detect(p, n);
	decoder_fn dec = decoder_of(f);
	uint64_t want;
	uint8_t *buf;
	long got;

	*out = NULL;
	*out_len = 0;
	if (!dec)
		return err_set(-ENOTSUP, "%s: payload in an unknown compression format", name);
	if (n < 8)
		return corrupt(name, decomp_name(f), "too short");
	want = le32(p + n - 4);
	if (want == 0 || want > max_out || want > DECOMP_MAX_OUT)
		return err_set(-EFBIG, "%s: %s payload says it decompresses to %llu bytes (at most %llu)",
			       name, decomp_name(f), (unsigned long long)want,
			       (unsigned long long)(max_out < DECOMP_MAX_OUT ? max_out : DECOMP_MAX_OUT));
	/* One spare byte: a stream longer than the trailer says shows there. */
	buf = mmap(NULL, want + 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return err_set(-ENOMEM, "%s: no memory for the %llu-byte kernel", name,
			       (unsigned long long)want);
	/* Tens of MiB written once: large pages, far fewer faults. */
	madvise(buf, want + 1, MADV_HUGEPAGE);
	got = dec(name, p, n, buf, want + 1);
	if (got >= 0 && (uint64_t)got != want)
		got = err_set(-EINVAL, "%s: %s payload decompresses to %ld bytes, its trailer says %llu",
			      name, decomp_name(f), got, (unsigned long long)want);
	if (got < 0) {
		munmap(buf, want + 1);
		return (int)got;
	}
	*out = buf;
	*out_len = want;
	return 0;
}
