/*
 * virtio_net.h - virtio-net (virtio 1.2, 5.1): feature bits, the packet
 * header, and the transmit-header parser, apart from the device so that it
 * can be tested and fuzzed on its own.
 */
#ifndef HYVE_DEV_VIRTIO_NET_H
#define HYVE_DEV_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "virtio/virtqueue.h"

/* feature bits (5.1.3) */
#define VIRTIO_NET_F_CSUM		0
#define VIRTIO_NET_F_GUEST_CSUM		1
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2
#define VIRTIO_NET_F_MTU		3
#define VIRTIO_NET_F_MAC		5
#define VIRTIO_NET_F_GUEST_TSO4		7
#define VIRTIO_NET_F_GUEST_TSO6		8
#define VIRTIO_NET_F_GUEST_ECN		9
#define VIRTIO_NET_F_GUEST_UFO		10
#define VIRTIO_NET_F_HOST_TSO4		11
#define VIRTIO_NET_F_HOST_TSO6		12
#define VIRTIO_NET_F_HOST_ECN		13
#define VIRTIO_NET_F_HOST_UFO		14
#define VIRTIO_NET_F_MRG_RXBUF		15
#define VIRTIO_NET_F_STATUS		16
#define VIRTIO_NET_F_CTRL_VQ		17
#define VIRTIO_NET_F_MQ			22

#define VIRTIO_NET_S_LINK_UP		1

/* control queue (5.1.6.5) */
#define VIRTIO_NET_OK			0
#define VIRTIO_NET_ERR			1
#define VIRTIO_NET_CTRL_MQ		4
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET	0

/* virtio_net_hdr flags and gso_type (5.1.6) */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM	1
#define VIRTIO_NET_HDR_F_DATA_VALID	2
#define VIRTIO_NET_HDR_F_RSC_INFO	4
#define VIRTIO_NET_HDR_GSO_NONE		0
#define VIRTIO_NET_HDR_GSO_TCPV4	1
#define VIRTIO_NET_HDR_GSO_UDP		3
#define VIRTIO_NET_HDR_GSO_TCPV6	4
#define VIRTIO_NET_HDR_GSO_ECN		0x80

/* The header every frame carries with VIRTIO_F_VERSION_1 (5.1.6): 12 bytes. */
struct virtio_net_hdr_v1 {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} __attribute__((packed));

#define VNET_HDR_LEN		12
#define VNET_ETH_HLEN		14
/* The largest frame: a 64 KiB IP packet (TSO) behind an Ethernet + VLAN header. */
#define VNET_MAX_FRAME		(65535 + VNET_ETH_HLEN + 4)

/* Why a frame was dropped (--stats, unit tests). */
enum vnet_drop {
	VNET_DROP_TX_WRONG_DIR,		/* device-writable buffers in a transmit chain */
	VNET_DROP_TX_SHORT_HDR,		/* shorter than the header */
	VNET_DROP_TX_RUNT,		/* no room for an Ethernet header */
	VNET_DROP_TX_TOO_BIG,		/* over the MTU (no TSO) or over 64 KiB */
	VNET_DROP_TX_BAD_FLAGS,		/* flags the driver may not set */
	VNET_DROP_TX_BAD_CSUM,		/* checksum request outside the frame / not negotiated */
	VNET_DROP_TX_BAD_GSO,		/* GSO type not negotiated, or nonsense sizes */
	VNET_DROP_TX_BACKEND,		/* the back end refused it */
	VNET_DROP_RX_WRONG_DIR,		/* device-readable buffers in a receive chain */
	VNET_DROP_RX_TOO_SMALL,		/* the posted buffers cannot hold the frame */
	VNET_DROP_RX_BACKEND,		/* the back end failed or dropped (queue full) */
	VNET_DROP_N
};

extern const char *const vnet_drop_names[VNET_DROP_N];

struct vnet_stats {
	uint64_t tx_frames, tx_bytes, rx_frames, rx_bytes;
	uint64_t tx_kicks, rx_kicks, tx_irqs, rx_irqs;
	uint64_t ctrl_cmds, ctrl_errors;
	unsigned active_pairs;
	uint64_t pair_tx_frames[4], pair_rx_frames[4];	/* per queue pair */
	uint64_t drops[VNET_DROP_N];
};

/* A transmit chain, checked. */
struct vnet_tx {
	struct virtio_net_hdr_v1 hdr;	/* copied out once, num_buffers 0 */
	uint32_t frame_len;		/* bytes after the header */
};

/*
 * Check one transmit chain (pure: no device state; fuzzed by
 * tests/fuzz/fuzz_vnet_tx.c): only device-readable buffers, a whole header,
 * a frame of 14 bytes up to mtu + 18 (64 KiB + 18 with a negotiated TSO),
 * flags and GSO fields consistent with the negotiated features and inside
 * the frame.  0 and *t, or -EINVAL with *why set.
 */
int vnet_tx_parse(const struct vq_chain *c, uint64_t features, unsigned mtu,
		  struct vnet_tx *t, enum vnet_drop *why);

struct pci_dev;
/* The counters of a virtio-net device (a snapshot). */
int vnet_get_stats(struct pci_dev *dev, struct vnet_stats *s);
void vnet_print_stats(struct pci_dev *dev, FILE *f);

#endif
