/*
 * aml.c - a small AML encoder (see aml.h).  Opcode values and encodings are
 * from ACPI 6.x section 20.2 (AML grammar).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include "err.h"
#include "boot/aml.h"

#define ZERO_OP		0x00
#define ONE_OP		0x01
#define NAME_OP		0x08
#define BYTE_PREFIX	0x0a
#define WORD_PREFIX	0x0b
#define DWORD_PREFIX	0x0c
#define STRING_PREFIX	0x0d
#define QWORD_PREFIX	0x0e
#define SCOPE_OP	0x10
#define BUFFER_OP	0x11
#define PACKAGE_OP	0x12
#define DUAL_NAME	0x2e
#define MULTI_NAME	0x2f
#define EXT_OP		0x5b
#define ROOT_CHAR	0x5c	/* '\' */
#define PARENT_CHAR	0x5e	/* '^' */
#define DEVICE_OP	0x82	/* after EXT_OP */
#define ONES_OP		0xff

void aml_init(struct aml *a, void *buf, size_t cap)
{
	memset(a, 0, sizeof(*a));
	a->buf = buf;
	a->cap = cap;
}

static void fail(struct aml *a, int code, const char *what)
{
	if (a->err)
		return;
	a->err = code;
	if (code == -ENOSPC)
		err_set(code, "aml: no room for %s (%zu bytes)", what, a->cap);
	else
		err_set(code, "aml: invalid %s", what);
}

long aml_finish(struct aml *a)
{
	if (!a->err && a->depth)
		fail(a, -EINVAL, "block: still open at the end");
	return a->err ? a->err : (long)a->len;
}

int aml_pkglength(uint8_t out[4], uint32_t v)
{
	int n;

	if (v > AML_PKGLEN_MAX)
		return -EINVAL;
	if (v <= 0x3f) {
		out[0] = (uint8_t)v;
		return 1;
	}
	/* lead byte: count of following bytes in bits 7-6, low nibble of v */
	n = v <= 0xfff ? 2 : v <= 0xfffff ? 3 : 4;
	out[0] = (uint8_t)(((n - 1) << 6) | (v & 0xf));
	for (int i = 1; i < n; i++)
		out[i] = (uint8_t)(v >> (4 + 8 * (i - 1)));
	return n;
}

int aml_pkglength_for(uint8_t out[4], size_t n)
{
	/* the value counts its own bytes: try each form, shortest first */
	static const uint32_t lim[4] = { 0x3f, 0xfff, 0xfffff, AML_PKGLEN_MAX };

	for (int i = 0; i < 4; i++)
		if (n <= lim[i] - (i + 1))
			return aml_pkglength(out, (uint32_t)(n + i + 1));
	return -EINVAL;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->err)
		return;
	if (n > a->cap - a->len) {
		fail(a, -ENOSPC, "bytes");
		return;
	}
	if (n)
		memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void le(struct aml *a, uint64_t v, int n)
{
	uint8_t b[8];

	for (int i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	aml_bytes(a, b, (size_t)n);
}

/* Parse one segment of path at *p into seg (padded); false if invalid. */
static bool name_seg(const char **p, uint8_t seg[4])
{
	const char *s = *p;
	int n = 0;

	for (; *s && *s != '.'; s++, n++) {
		char c = *s;
		bool ok = (c >= 'A' && c <= 'Z') || c == '_' ||
			  (n > 0 && c >= '0' && c <= '9');

		if (!ok || n >= 4)
			return false;
		seg[n] = (uint8_t)c;
	}
	if (n == 0)
		return false;
	for (; n < 4; n++)
		seg[n] = '_';
	*p = s;
	return true;
}

void aml_namestring(struct aml *a, const char *path)
{
	uint8_t segs[255][4];
	const char *p = path;
	int nseg = 0;

	if (a->err)
		return;
	if (*p == '\\') {
		byte(a, ROOT_CHAR);
		p++;
	} else {
		while (*p == '^') {
			byte(a, PARENT_CHAR);
			p++;
		}
	}
	if (!*p) {
		byte(a, ZERO_OP);	/* NullName */
		return;
	}
	for (;;) {
		if (nseg == 255 || !name_seg(&p, segs[nseg])) {
			fail(a, -EINVAL, "name");
			return;
		}
		nseg++;
		if (!*p)
			break;
		p++;			/* the '.' */
	}
	if (nseg == 2) {
		byte(a, DUAL_NAME);
	} else if (nseg > 2) {
		byte(a, MULTI_NAME);
		byte(a, (uint8_t)nseg);
	}
	aml_bytes(a, segs, (size_t)nseg * 4);
}

static void prefixed(struct aml *a, uint8_t op, uint64_t v, int n)
{
	byte(a, op);
	le(a, v, n);
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0)
		byte(a, ZERO_OP);
	else if (v == 1)
		byte(a, ONE_OP);
	else if (v == ~0ULL)
		byte(a, ONES_OP);	/* DSDT revision 2: 64-bit integers */
	else if (v <= 0xff)
		prefixed(a, BYTE_PREFIX, v, 1);
	else if (v <= 0xffff)
		prefixed(a, WORD_PREFIX, v, 2);
	else if (v <= 0xffffffff)
		prefixed(a, DWORD_PREFIX, v, 4);
	else
		prefixed(a, QWORD_PREFIX, v, 8);
}

void aml_string(struct aml *a, const char *s)
{
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c > 0x7f) {
			fail(a, -EINVAL, "string: not ASCII");
			return;
		}
	byte(a, STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v = 0;

	if (strlen(id) != 7) {
		fail(a, -EINVAL, "EISA ID");
		return;
	}
	/* three letters, 5 bits each ('A' = 1), then four hex digits ... */
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z') {
			fail(a, -EINVAL, "EISA ID");
			return;
		}
		v = (v << 5) | (uint32_t)(id[i] - '@');
	}
	for (int i = 3; i < 7; i++) {
		if (hexval(id[i]) < 0) {
			fail(a, -EINVAL, "EISA ID");
			return;
		}
		v = (v << 4) | (uint32_t)hexval(id[i]);
	}
	/* ... stored big-endian ("PNP0A03" is bytes 41 d0 0a 03) */
	prefixed(a, DWORD_PREFIX, __builtin_bswap32(v), 4);
}

static void open_block(struct aml *a)
{
	if (a->err)
		return;
	if (a->depth == AML_MAX_DEPTH) {
		fail(a, -EINVAL, "block: nested too deep");
		return;
	}
	a->open[a->depth++] = a->len;
}

void aml_end(struct aml *a)
{
	uint8_t pl[4];
	size_t at, n;
	int k;

	if (a->err)
		return;
	if (a->depth == 0) {
		fail(a, -EINVAL, "aml_end: no open block");
		return;
	}
	at = a->open[--a->depth];
	n = a->len - at;
	if ((k = aml_pkglength_for(pl, n)) < 0) {
		fail(a, -EINVAL, "block: longer than a PkgLength holds");
		return;
	}
	if ((size_t)k > a->cap - a->len) {
		fail(a, -ENOSPC, "PkgLength");
		return;
	}
	memmove(a->buf + at + k, a->buf + at, n);
	memcpy(a->buf + at, pl, (size_t)k);
	a->len += (size_t)k;
}

void aml_buffer(struct aml *a, const void *p, size_t n)
{
	byte(a, BUFFER_OP);
	open_block(a);
	aml_integer(a, n);	/* BufferSize */
	aml_bytes(a, p, n);
	aml_end(a);
}

void aml_name(struct aml *a, const char *path)
{
	byte(a, NAME_OP);
	aml_namestring(a, path);
}

void aml_package_begin(struct aml *a, unsigned nelem)
{
	if (nelem > 255) {
		fail(a, -EINVAL, "package: more than 255 elements");
		return;
	}
	byte(a, PACKAGE_OP);
	open_block(a);
	byte(a, (uint8_t)nelem);	/* NumElements */
}

void aml_scope_begin(struct aml *a, const char *path)
{
	byte(a, SCOPE_OP);
	open_block(a);
	aml_namestring(a, path);
}

void aml_device_begin(struct aml *a, const char *path)
{
	byte(a, EXT_OP);
	byte(a, DEVICE_OP);
	open_block(a);
	aml_namestring(a, path);
}

/* ---- resource templates (ACPI 6.3 section 6.4) ---- */

#define RES_IO		0x47	/* small item 8, 7 bytes */
#define RES_END		0x79	/* small item 0xf, 1 byte */
#define RES_MEM32_FIXED	0x86	/* large items */
#define RES_DWORD_ADDR	0x87
#define RES_WORD_ADDR	0x88
#define RES_QWORD_ADDR	0x8a

#define ADDR_MEM	0	/* address space resource types */
#define ADDR_IO		1
#define ADDR_BUS	2
#define GEN_FIXED	0x0c	/* _MAF | _MIF, positive decode, producer */
#define IO_ENTIRE	0x03	/* _RNG: ISA and non-ISA ranges */
#define MEM_RW		0x01	/* _RW */
#define MEM_CACHEABLE	0x02	/* _MEM = 1 */

void aml_res_init(struct aml_res *r)
{
	memset(r, 0, sizeof(*r));
}

static void res_bytes(struct aml_res *r, const void *p, size_t n)
{
	if (r->err)
		return;
	if (n > sizeof(r->buf) - r->len) {
		r->err = -ENOSPC;
		return;
	}
	memcpy(r->buf + r->len, p, n);
	r->len += n;
}

static void res_le(struct aml_res *r, uint64_t v, int n)
{
	uint8_t b[8];

	for (int i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	res_bytes(r, b, (size_t)n);
}

/* An address space descriptor with n-byte fields (Word 2, DWord 4, QWord 8). */
static void res_addr(struct aml_res *r, uint8_t tag, int n, uint8_t type,
		     uint8_t tflags, uint64_t min, uint64_t max)
{
	uint8_t head[6] = { tag, (uint8_t)(3 + 5 * n), 0, type, GEN_FIXED, tflags };

	res_bytes(r, head, sizeof(head));
	res_le(r, 0, n);			/* granularity */
	res_le(r, min, n);
	res_le(r, max, n);
	res_le(r, 0, n);			/* translation offset */
	res_le(r, max - min + 1, n);		/* length */
}

void aml_res_word_bus(struct aml_res *r, uint16_t min, uint16_t max)
{
	res_addr(r, RES_WORD_ADDR, 2, ADDR_BUS, 0, min, max);
}

void aml_res_word_io(struct aml_res *r, uint16_t min, uint16_t max)
{
	res_addr(r, RES_WORD_ADDR, 2, ADDR_IO, IO_ENTIRE, min, max);
}

void aml_res_io(struct aml_res *r, uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
	const uint8_t d[8] = { RES_IO, 0x01 /* Decode16 */, (uint8_t)min, (uint8_t)(min >> 8),
			       (uint8_t)max, (uint8_t)(max >> 8), align, len };

	res_bytes(r, d, sizeof(d));
}

void aml_res_irq(struct aml_res *r, uint8_t irq)
{
	uint16_t mask = (uint16_t)(1u << (irq & 15));
	/* small item 4, 2 bytes: the IRQ mask (edge, active high, exclusive) */
	const uint8_t d[3] = { 0x22, (uint8_t)mask, (uint8_t)(mask >> 8) };

	if (irq > 15) {
		r->err = -EINVAL;
		return;
	}
	res_bytes(r, d, sizeof(d));
}

void aml_res_dword_mem(struct aml_res *r, bool cacheable, uint32_t min, uint32_t max)
{
	res_addr(r, RES_DWORD_ADDR, 4, ADDR_MEM,
		 MEM_RW | (cacheable ? MEM_CACHEABLE : 0), min, max);
}

void aml_res_qword_mem(struct aml_res *r, bool cacheable, uint64_t min, uint64_t max)
{
	res_addr(r, RES_QWORD_ADDR, 8, ADDR_MEM,
		 MEM_RW | (cacheable ? MEM_CACHEABLE : 0), min, max);
}

void aml_res_mem32_fixed(struct aml_res *r, uint32_t base, uint32_t len)
{
	const uint8_t head[4] = { RES_MEM32_FIXED, 9, 0, MEM_RW };

	res_bytes(r, head, sizeof(head));
	res_le(r, base, 4);
	res_le(r, len, 4);
}

void aml_resource_template(struct aml *a, const struct aml_res *r)
{
	uint8_t buf[AML_RES_MAX + 2];

	if (r->err || r->len > AML_RES_MAX) {
		fail(a, -EINVAL, "resource template (over AML_RES_MAX bytes)");
		return;
	}
	memcpy(buf, r->buf, r->len);
	buf[r->len] = RES_END;
	buf[r->len + 1] = 0;		/* checksum 0: "treat as correct" */
	aml_buffer(a, buf, r->len + 2);
}
