/*
 * libFuzzer target for the virtio-net transmit path's parser
 * (vnet_tx_parse): the input chooses the negotiated features, the MTU and a
 * chain of buffers (lengths, directions, contents; the header may be split
 * anywhere) as a virtqueue would hand it over.  The parser must never read
 * outside those buffers, and a frame it accepts must satisfy every rule the
 * back ends rely on: a whole header, 14 bytes to 64 KiB + 18 of frame, only
 * NEEDS_CSUM, the checksum field and GSO sizes inside the frame, GSO only
 * as negotiated.
 *
 *   clang -fsanitize=fuzzer,address,undefined -std=gnu11 -D_GNU_SOURCE -Isrc \
 *     tests/fuzz/fuzz_vnet_tx.c src/dev/virtio_net_tx.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dev/virtio_net.h"
#include "virtio/iov.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vq_chain c;
	static uint8_t pool[VNET_HDR_LEN + VNET_MAX_FRAME + 4096];
	uint64_t f;
	unsigned mtu, nseg, nin;
	size_t used = 0;
	struct vnet_tx t;
	enum vnet_drop why = VNET_DROP_N;

	if (size < 16)
		return 0;
	memcpy(&f, data, 8);
	mtu = 68 + ((unsigned)data[8] | (unsigned)data[9] << 8) % 9000;
	nseg = 1 + data[10] % 32;
	nin = data[11] % 4 == 0 ? data[12] % 2 : 0;	/* sometimes a writable buffer */
	data += 16;
	size -= 16;
	memset(&c, 0, sizeof(c));
	for (unsigned i = 0; i < nseg && size >= 3; i++) {
		/* a length (a large one stands for a big TSO frame), then bytes */
		size_t len = ((size_t)data[0] | (size_t)data[1] << 8) + (data[2] & 0x80 ? 60000 : 0);
		data += 3;
		size -= 3;
		if (len == 0 || len > sizeof(pool) - used)
			break;
		size_t k = len < size ? len : size;
		memcpy(pool + used, data, k);
		memset(pool + used + k, 0, len - k);
		data += k;
		size -= k;
		c.iov[c.nout].iov_base = pool + used;
		c.iov[c.nout].iov_len = len;
		c.nout++;
		c.out_len += (uint32_t)len;
		used += len;
	}
	if (c.nout == 0)
		return 0;
	if (nin) {			/* the last buffer becomes device-writable */
		c.nout--;
		c.nin = 1;
		c.in_len = (uint32_t)c.iov[c.nout].iov_len;
		c.out_len -= c.in_len;
	}
	if (vnet_tx_parse(&c, f, mtu, &t, &why) < 0) {
		CHECK(why < VNET_DROP_N);
		return 0;
	}
	CHECK(c.nin == 0);
	CHECK(c.out_len == VNET_HDR_LEN + t.frame_len);
	CHECK(t.frame_len >= VNET_ETH_HLEN && t.frame_len <= VNET_MAX_FRAME);
	CHECK(!(t.hdr.flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM));
	CHECK(t.hdr.num_buffers == 0);
	if (t.hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		CHECK(f & (1ULL << VIRTIO_NET_F_CSUM));
		CHECK((uint32_t)t.hdr.csum_start + t.hdr.csum_offset + 2 <= t.frame_len);
	}
	if (t.hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		uint8_t g = t.hdr.gso_type & 0x7f;
		CHECK((g == VIRTIO_NET_HDR_GSO_TCPV4 && (f & (1ULL << VIRTIO_NET_F_HOST_TSO4))) ||
		      (g == VIRTIO_NET_HDR_GSO_TCPV6 && (f & (1ULL << VIRTIO_NET_F_HOST_TSO6))));
		CHECK(t.hdr.gso_size > 0 && t.hdr.gso_size <= t.frame_len && t.hdr.hdr_len <= t.frame_len);
		CHECK(t.hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
	} else if (!(f & ((1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6))) &&
		   (f & (1ULL << VIRTIO_NET_F_MTU))) {
		CHECK(t.frame_len <= mtu + VNET_ETH_HLEN + 4);
	}
	/* the whole frame is inside the chain */
	static uint8_t frame[VNET_MAX_FRAME];
	CHECK(iov_copy_out(c.iov, c.nout, VNET_HDR_LEN, frame, t.frame_len));
	return 0;
}
