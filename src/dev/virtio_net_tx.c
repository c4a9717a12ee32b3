/*
 * virtio_net_tx.c - the virtio-net transmit-header parser (virtio 1.2,
 * 5.1.6.2): pure, no device state, so that it can be unit-tested and
 * fuzzed on its own (tests/fuzz/fuzz_vnet_tx.c).  The device
 * (virtio_net.c) drops and counts every chain it refuses.
 */
#include <errno.h>
#include <string.h>
#include "dev/virtio_net.h"
#include "virtio/iov.h"

const char *const vnet_drop_names[VNET_DROP_N] = {
	[VNET_DROP_TX_WRONG_DIR] = "tx_wrong_direction",
	[VNET_DROP_TX_SHORT_HDR] = "tx_short_header",
	[VNET_DROP_TX_RUNT] = "tx_runt",
	[VNET_DROP_TX_TOO_BIG] = "tx_too_big",
	[VNET_DROP_TX_BAD_FLAGS] = "tx_bad_flags",
	[VNET_DROP_TX_BAD_CSUM] = "tx_bad_csum",
	[VNET_DROP_TX_BAD_GSO] = "tx_bad_gso",
	[VNET_DROP_TX_BACKEND] = "tx_backend",
	[VNET_DROP_RX_WRONG_DIR] = "rx_wrong_direction",
	[VNET_DROP_RX_TOO_SMALL] = "rx_buffer_too_small",
	[VNET_DROP_RX_BACKEND] = "rx_backend",
};

static bool has(uint64_t f, unsigned bit)
{
	return f & (1ULL << bit);
}

static int drop(enum vnet_drop *why, enum vnet_drop w)
{
	*why = w;
	return -EINVAL;
}

int vnet_tx_parse(const struct vq_chain *c, uint64_t f, unsigned mtu,
		  struct vnet_tx *t, enum vnet_drop *why)
{
	struct virtio_net_hdr_v1 *h = &t->hdr;
	bool tso = has(f, VIRTIO_NET_F_HOST_TSO4) || has(f, VIRTIO_NET_F_HOST_TSO6);
	uint32_t max, len;
	uint8_t gso;

	memset(t, 0, sizeof(*t));
	if (c->nin)
		return drop(why, VNET_DROP_TX_WRONG_DIR);
	if (c->out_len < VNET_HDR_LEN || !iov_copy_out(c->iov, c->nout, 0, h, VNET_HDR_LEN))
		return drop(why, VNET_DROP_TX_SHORT_HDR);
	h->num_buffers = 0;		/* meaningless on transmit */
	len = c->out_len - VNET_HDR_LEN;
	if (len < VNET_ETH_HLEN)
		return drop(why, VNET_DROP_TX_RUNT);
	max = has(f, VIRTIO_NET_F_MTU) && !tso ? mtu + VNET_ETH_HLEN + 4 : VNET_MAX_FRAME;
	if (len > max)
		return drop(why, VNET_DROP_TX_TOO_BIG);
	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return drop(why, VNET_DROP_TX_BAD_FLAGS);
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!has(f, VIRTIO_NET_F_CSUM) ||
		    (uint32_t)h->csum_start + h->csum_offset + 2 > len)
			return drop(why, VNET_DROP_TX_BAD_CSUM);
	}
	gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		bool ok = (gso == VIRTIO_NET_HDR_GSO_TCPV4 && has(f, VIRTIO_NET_F_HOST_TSO4)) ||
			  (gso == VIRTIO_NET_HDR_GSO_TCPV6 && has(f, VIRTIO_NET_F_HOST_TSO6));

		if (!ok || ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !has(f, VIRTIO_NET_F_HOST_ECN)) ||
		    !(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || h->gso_size == 0 ||
		    h->gso_size > len || h->hdr_len > len ||
		    (uint32_t)h->csum_start + h->csum_offset + 2 > len)
			return drop(why, VNET_DROP_TX_BAD_GSO);
	}
	t->frame_len = len;
	return 0;
}
