/*
 * fuzz_virtqueue.c - libFuzzer target for the split virtqueue: the input is
 * the guest (queue size, ring addresses, features, the contents of guest RAM
 * with its rings, descriptors and indirect tables) plus a short script of
 * device and driver steps; the device side's invariants are checked as it
 * goes, and ASan checks that nothing outside guest RAM is touched.
 *
 *   clang -g -O1 -std=gnu11 -D_GNU_SOURCE -Isrc \
 *	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
 *	-o build/fuzz/fuzz_virtqueue tests/fuzz/fuzz_virtqueue.c \
 *	src/virtio/virtqueue.c src/mem.c src/err.c
 *   build/fuzz/fuzz_virtqueue -max_len=36880 -max_total_time=60
 *
 * Input: a 16-byte header, then the bytes of RAM region A (32 KiB), then
 * region B (4 KiB); missing bytes are zero.  Header:
 *   0     size: bit 7 clear: 1 << (b % 9); set: the 16-bit value at 14
 *   1     bit 0 EVENT_IDX, bit 1 INDIRECT_DESC
 *   2-7   desc, avail, used: 16-bit offsets from RAM_A (misaligned,
 *         overlapping and outside RAM all allowed)
 *   8-13  script: each byte one step, run in a loop, at most STEPS steps
 *   14-15 raw size (bit 7 of byte 0)
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "mem.h"
#include "virtio/virtqueue.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* Two adjacent regions: a buffer may not straddle them (the real mem_gpa). */
#define RAM_A		0x10000ULL
#define SIZE_A		0x8000ULL	/* room for a table of VQ_MAX_SEGS + 1 */
#define RAM_B		(RAM_A + SIZE_A)
#define SIZE_B		0x1000ULL
#define HDR		16
#define STEPS		64
#define MAX_HELD	64

static struct guest_mem mem;
static struct vq q;
static struct vq_chain chain;

/* Is [p, p+len) inside one region's host buffer? */
static bool in_ram(const uint8_t *p, size_t len)
{
	for (int i = 0; i < mem.n; i++) {
		const struct mem_region *m = &mem.r[i];

		if (p >= m->host && p <= m->host + m->size &&
		    len <= (size_t)(m->host + m->size - p))
			return true;
	}
	return false;
}

static void check_chain(const struct vq_chain *c)
{
	uint64_t out = 0, in = 0;

	CHECK(c->head < q.size);
	CHECK(c->nout + c->nin >= 1 && c->nout + c->nin <= VQ_MAX_SEGS);
	for (unsigned i = 0; i < c->nout + c->nin; i++) {
		const struct iovec *v = &c->iov[i];

		CHECK(v->iov_len > 0 && in_ram(v->iov_base, v->iov_len));
		if (i < c->nout)
			out += v->iov_len;
		else
			in += v->iov_len;
	}
	CHECK(out == c->out_len && in == c->in_len);
	CHECK(out + in <= UINT32_MAX);
}

/* What a device does with a chain: read the readable, fill the writable. */
static uint32_t use_chain(struct vq_chain *c)
{
	volatile uint8_t sum = 0;

	for (unsigned i = 0; i < c->nout; i++) {
		const uint8_t *p = c->iov[i].iov_base;

		sum += p[0] + p[c->iov[i].iov_len - 1];
	}
	for (unsigned i = 0; i < c->nin; i++) {
		uint8_t *p = vq_chain_in(c)[i].iov_base;

		p[0] = 0xAB;
		p[vq_chain_in(c)[i].iov_len - 1] = sum;
	}
	return c->in_len;
}

static void push(uint16_t head, uint32_t written)
{
	uint16_t idx;

	CHECK(vq_push(&q, head, written) == 0);
	memcpy(&idx, mem_gpa(&mem, q.used_gpa + 2, 2), 2);
	CHECK(le16toh(idx) == q.used_idx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	uint8_t hdr[HDR] = { 0 };
	uint8_t *a = calloc(1, SIZE_A), *b = calloc(1, SIZE_B);
	uint16_t held[MAX_HELD];
	unsigned nheld = 0;
	uint16_t size, off[3];
	bool ev, ind, broken = false;
	int r;

	CHECK(a && b);
	memcpy(hdr, data, len < HDR ? len : HDR);
	if (len > HDR)
		memcpy(a, data + HDR, len - HDR < SIZE_A ? len - HDR : SIZE_A);
	if (len > HDR + SIZE_A)
		memcpy(b, data + HDR + SIZE_A,
		       len - HDR - SIZE_A < SIZE_B ? len - HDR - SIZE_A : SIZE_B);
	memset(&mem, 0, sizeof(mem));
	mem.r[0] = (struct mem_region){ RAM_A, SIZE_A, a };
	mem.r[1] = (struct mem_region){ RAM_B, SIZE_B, b };
	mem.n = 2;

	size = (hdr[0] & 0x80) ? (uint16_t)(hdr[14] | hdr[15] << 8)
			       : 1u << (hdr[0] % 9);
	ev = hdr[1] & 1;
	ind = hdr[1] & 2;
	for (int i = 0; i < 3; i++)
		off[i] = hdr[2 + 2 * i] | hdr[3 + 2 * i] << 8;

	r = vq_enable(&q, &mem, size, RAM_A + off[0], RAM_A + off[1],
		      RAM_A + off[2], ev, ind);
	if (r < 0) {
		CHECK(r == -EINVAL && !q.enabled);
		CHECK(vq_pop(&q, &chain) == 0);
		CHECK(vq_push(&q, 0, 0) == -EINVAL);
		CHECK(!vq_should_notify(&q));
		goto out;
	}
	CHECK(q.enabled && q.size == size && (size & (size - 1)) == 0);

	for (unsigned step = 0; step < STEPS; step++) {
		uint8_t op = hdr[8 + step % 6];

		switch (op & 3) {
		case 0:				/* pop, use, push at once */
		case 1:				/* pop, hold for later */
			r = vq_pop(&q, &chain);
			if (r < 0 || broken) {
				CHECK(r < 0 && q.broken);
				broken = true;
				break;
			}
			if (r == 0)
				break;
			check_chain(&chain);
			CHECK((uint16_t)(q.last_avail - q.used_idx) <= q.size);
			if ((op & 3) == 0 || nheld == MAX_HELD)
				push(chain.head, use_chain(&chain));
			else
				held[nheld++] = chain.head;
			break;
		case 2: {			/* driver offers more (or fewer) */
			uint8_t *p = mem_gpa(&mem, q.avail_gpa + 2, 2);
			uint16_t idx;

			memcpy(&idx, p, 2);
			idx += (op >> 2) & 7;
			if (op & 0x80)
				idx -= 1 + ((op >> 5) & 3);
			memcpy(p, &idx, 2);
			break;
		}
		default:			/* complete held chains, notify */
			while (nheld > 0)
				push(held[--nheld], (uint32_t)op << 8);
			(void)vq_should_notify(&q);
			CHECK(!vq_should_notify(&q));	/* nothing new */
			break;
		}
	}
	while (nheld > 0)
		push(held[--nheld], 0);
	(void)vq_should_notify(&q);
	vq_reset(&q);
	CHECK(!q.enabled && vq_pop(&q, &chain) == 0);
out:
	free(a);
	free(b);
	return 0;
}
