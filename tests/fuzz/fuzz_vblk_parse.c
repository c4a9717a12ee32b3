/*
 * libFuzzer target for the virtio-blk request parser (vblk_parse): the
 * input chooses the capacity, the negotiated features and a chain of
 * buffers (lengths, directions, contents) as a virtqueue would hand it
 * over; the parser must never read or point outside those buffers, and a
 * request it accepts must lie inside the disk.
 *
 *   clang -fsanitize=fuzzer,address,undefined -std=gnu11 -D_GNU_SOURCE -Isrc \
 *     tests/fuzz/fuzz_vblk_parse.c src/dev/virtio_blk.c ... (see Makefile)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dev/virtio_blk.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static bool inside(const uint8_t *base, size_t size, const void *p, size_t len)
{
	const uint8_t *q = p;
	return q >= base && len <= size && (size_t)(q - base) <= size - len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vq_chain c;
	static uint8_t pool[1 << 16];
	static uint8_t pbuf[sizeof(struct vblk_parsed) + 64 * sizeof(struct iovec)];
	struct vblk_parsed *p = (struct vblk_parsed *)pbuf;
	uint64_t capacity, features;
	uint32_t maxz;
	size_t used = 0;
	unsigned nseg, nout;

	if (size < 16)
		return 0;
	memcpy(&capacity, data, 8);
	capacity >>= data[8] & 63;
	features = data[9] & 1 ? ~0ULL : 0;
	maxz = (uint32_t)data[10] << 12;
	nseg = data[11] % 64;
	nout = nseg ? data[12] % (nseg + 1) : 0;
	data += 16;
	size -= 16;
	memset(&c, 0, sizeof(c));
	for (unsigned i = 0; i < nseg && size >= 2; i++) {
		size_t len = (size_t)data[0] | ((size_t)data[1] << 8);
		data += 2;
		size -= 2;
		if (len == 0)
			len = 1;		/* the virtqueue never hands over empty buffers */
		if (len > sizeof(pool) - used)
			break;
		size_t k = len < size ? len : size;	/* contents from the input, rest zero */
		memcpy(pool + used, data, k);
		memset(pool + used + k, 0, len - k);
		data += k;
		size -= k;
		c.iov[c.nout + c.nin].iov_base = pool + used;
		c.iov[c.nout + c.nin].iov_len = len;
		if (i < nout) {
			c.nout++;
			c.out_len += (uint32_t)len;
		} else {
			c.nin++;
			c.in_len += (uint32_t)len;
		}
		used += len;
	}
	if (vblk_parse(&c, capacity, features, maxz, p) < 0)
		return 0;
	CHECK(inside(pool, used, p->status_byte, 1));
	CHECK(p->niov >= 0 && (unsigned)p->niov <= c.nout + c.nin);
	uint64_t total = 0;
	for (int i = 0; i < p->niov; i++) {
		CHECK(inside(pool, used, p->iov[i].iov_base, p->iov[i].iov_len));
		total += p->iov[i].iov_len;
	}
	if (p->status < 0) {
		if (p->op == BLK_READ || p->op == BLK_WRITE) {
			CHECK(total == p->len && p->len % 512 == 0);
			CHECK(p->offset % 512 == 0);
			CHECK(p->offset / 512 <= capacity && p->len / 512 <= capacity - p->offset / 512);
			/* data never overlaps the status byte */
			for (int i = 0; i < p->niov; i++)
				CHECK(!inside(p->iov[i].iov_base, p->iov[i].iov_len, p->status_byte, 1));
		} else if (p->op == BLK_DISCARD || p->op == BLK_WRITE_ZEROES) {
			CHECK(p->len > 0 && p->len / 512 <= maxz);
			CHECK(p->offset / 512 <= capacity && p->len / 512 <= capacity - p->offset / 512);
		} else {
			CHECK(p->op == BLK_FLUSH);
		}
		CHECK(p->written == (p->op == BLK_READ ? p->len + 1 : 1));
	} else {
		CHECK(p->status <= 2);
		CHECK(p->written >= 1 && p->written <= c.in_len);
	}
	return 0;
}
