/*
 * virtio-net through the virtio-pci transport, without KVM: a fake VM with
 * real RAM, the PCI core with recorded interrupts, the user-mode (libslirp)
 * back end.  The test plays a hostile driver: it negotiates, lays out the
 * receive and transmit queues in guest RAM, sends frames, and posts
 * receive buffers.  A good frame (an ARP request for the gateway 10.0.2.2)
 * gets libslirp's ARP reply back through the receive queue; malformed
 * frames are dropped and counted by reason, and good frames still pass
 * afterwards.  The transmit-header parser is also tested on its own.
 */
#include "unit.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include "dev/virtio_net.h"
#include "err.h"
#include "pci/pci.h"
#include "virtio/virtio_pci.h"
#include "vm.h"
#include "testvm.h"

#define RAM_SIZE	(4u << 20)
#define QSZ		16
#define RXDESC		0x1000
#define RXAVAIL		0x2000
#define RXUSED		0x3000
#define TXDESC		0x4000
#define TXAVAIL		0x5000
#define TXUSED		0x6000
#define TXBUF		0x10000
#define RXBUF		0x20000		/* + i * 0x1000 */
#define BIGBUF		0x50000		/* 70 KB, below 640 KiB */
#define HOLE		0xB0000		/* not RAM: the legacy hole */

#define F_VERSION_1	(1ULL << 32)
#define F_MAC		(1ULL << VIRTIO_NET_F_MAC)
#define F_MRG		(1ULL << VIRTIO_NET_F_MRG_RXBUF)
#define F_BASE		(F_VERSION_1 | F_MAC | (1ULL << VIRTIO_NET_F_STATUS))

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };

struct fixture {
	struct vm *vm;
	struct pci_bus *bus;
	struct pci_dev *dev;
	uint8_t *ram;
	uint16_t rx_avail, tx_avail;
	uint16_t rx_used_seen;
};

#include "testvirtio.h"

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (testvirtio_open(f) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	testvirtio_close(f);
	free(f);
	return 0;
}

static void queue_at(struct fixture *f, unsigned q, uint64_t desc, uint64_t avail, uint64_t used)
{
	w(f, 0x16, 2, q);
	w(f, 0x18, 2, QSZ);
	w(f, 0x20, 4, (uint32_t)desc);
	w(f, 0x24, 4, (uint32_t)(desc >> 32));
	w(f, 0x28, 4, (uint32_t)avail);
	w(f, 0x2c, 4, (uint32_t)(avail >> 32));
	w(f, 0x30, 4, (uint32_t)used);
	w(f, 0x34, 4, (uint32_t)(used >> 32));
	w(f, 0x1c, 2, 1);
}

static void start(struct fixture *f, uint64_t features)
{
	memset(f->ram, 0, 0x8000);
	f->rx_avail = f->tx_avail = f->rx_used_seen = 0;
	driver_init(f, features);
	assert_true(r(f, 0x14, 1) & 8);
	queue_at(f, 0, RXDESC, RXAVAIL, RXUSED);
	queue_at(f, 1, TXDESC, TXAVAIL, TXUSED);
	w(f, 0x14, 1, 1 | 2 | 8 | 4);			/* DRIVER_OK */
}

static uint16_t ring16(struct fixture *f, uint64_t at)
{
	return __atomic_load_n((uint16_t *)(f->ram + at), __ATOMIC_ACQUIRE);
}

static void avail_add(struct fixture *f, uint64_t avail, uint16_t *idx, uint16_t head, unsigned q)
{
	memcpy(f->ram + avail + 4 + 2 * (*idx % QSZ), &head, 2);
	(*idx)++;
	__atomic_store_n((uint16_t *)(f->ram + avail + 2), *idx, __ATOMIC_RELEASE);
	w(f, 0x3000 + 4 * q, 2, q);			/* notify */
}

/* Post n receive buffers of len bytes each (descriptors 0..n-1). */
static void post_rx(struct fixture *f, unsigned n, uint32_t len)
{
	for (unsigned i = 0; i < n; i++) {
		unsigned d = (f->rx_avail) % QSZ;
		put_desc(f, RXDESC, d, RXBUF + 0x1000 * d, len, 2, 0);	/* WRITE */
		memset(f->ram + RXBUF + 0x1000 * d, 0xee, 0x1000);
		avail_add(f, RXAVAIL, &f->rx_avail, (uint16_t)d, 0);
	}
}

static struct vnet_stats stats(struct fixture *f)
{
	struct vnet_stats s;

	assert_int_equal(vnet_get_stats(f->dev, &s), 0);
	return s;
}

static uint64_t drops(struct fixture *f, enum vnet_drop why)
{
	return stats(f).drops[why];
}

/* An ARP request for 10.0.2.2 from 10.0.2.15, behind a header, at TXBUF. */
static uint32_t arp_request(struct fixture *f)
{
	uint8_t *p = f->ram + TXBUF;
	static const uint8_t body[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef, 0x08, 0x06,
		0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,
		0x52, 0x54, 0x00, 0xab, 0xcd, 0xef, 10, 0, 2, 15,
		0, 0, 0, 0, 0, 0, 10, 0, 2, 2,
	};

	memset(p, 0, VNET_HDR_LEN);
	memcpy(p + VNET_HDR_LEN, body, sizeof(body));
	return VNET_HDR_LEN + sizeof(body);
}

/* Send the chain at descriptor 0 of the transmit table, wait until used. */
static bool tx_and_wait(struct fixture *f)
{
	uint16_t before = ring16(f, TXUSED + 2);

	avail_add(f, TXAVAIL, &f->tx_avail, 0, 1);
	for (int i = 0; i < 2000; i++) {
		if (ring16(f, TXUSED + 2) != before)
			return true;
		if (r(f, 0x14, 1) & 0x40)
			return false;
		usleep(1000);
	}
	return false;
}

/* Wait for the next used receive element; its (head, len). */
static bool rx_wait(struct fixture *f, uint32_t *head, uint32_t *len)
{
	for (int i = 0; i < 2000; i++) {
		if (ring16(f, RXUSED + 2) != f->rx_used_seen) {
			uint8_t *e = f->ram + RXUSED + 4 + 8 * (f->rx_used_seen % QSZ);
			memcpy(head, e, 4);
			memcpy(len, e + 4, 4);
			f->rx_used_seen++;
			return true;
		}
		usleep(1000);
	}
	return false;
}

/* A single-buffer frame is an ARP reply from 10.0.2.2 to us. */
static void assert_arp_reply(const uint8_t *p)
{
	assert_memory_equal(p + VNET_HDR_LEN, guest_mac, 6);		/* to us */
	assert_int_equal(p[VNET_HDR_LEN + 12], 0x08);
	assert_int_equal(p[VNET_HDR_LEN + 13], 0x06);			/* ARP */
	assert_int_equal(p[VNET_HDR_LEN + 21], 2);			/* reply */
	assert_memory_equal(p + VNET_HDR_LEN + 28, ((uint8_t[]){ 10, 0, 2, 2 }), 4);
}

static void arp_roundtrip(struct fixture *f)
{
	uint32_t head, len;

	put_desc(f, TXDESC, 0, TXBUF, arp_request(f), 0, 0);
	assert_true(tx_and_wait(f));
	assert_true(rx_wait(f, &head, &len));
	assert_true(len >= VNET_HDR_LEN + 42);
	assert_arp_reply(f->ram + RXBUF + 0x1000 * head);
	assert_int_equal(((struct virtio_net_hdr_v1 *)(f->ram + RXBUF + 0x1000 * head))->num_buffers, 1);
}

/* Feature bits 0-31 the device offers: each of on is there, none of off. */
static void assert_offers(struct fixture *f, uint32_t on, uint32_t off)
{
	uint32_t lo;

	w(f, 0x00, 4, 0);
	lo = (uint32_t)r(f, 0x04, 4);
	for (unsigned b = 0; b < 32; b++) {
		if (on & (1u << b))
			assert_true(lo & (1u << b));
		if (off & (1u << b))
			assert_false(lo & (1u << b));
	}
}

static void test_config_and_arp(void **state)
{
	struct fixture *f = *state;
	struct vnet_stats s;

	assert_int_equal(pci_add_device(f->bus, "virtio-net", -1, "user,mac=52:54:00:ab:cd:ef", &f->dev), 0);
	/* offered: MAC, STATUS, MTU, MRG_RXBUF; no offloads on user networking */
	assert_offers(f, 1u << VIRTIO_NET_F_MAC | 1u << VIRTIO_NET_F_STATUS | 1u << VIRTIO_NET_F_MTU |
			 1u << VIRTIO_NET_F_MRG_RXBUF,
		      1u << VIRTIO_NET_F_CSUM | 1u << VIRTIO_NET_F_HOST_TSO4);
	for (int i = 0; i < 6; i++)
		assert_int_equal(r(f, 0x2000 + i, 1), guest_mac[i]);
	assert_int_equal(r(f, 0x2006, 2), VIRTIO_NET_S_LINK_UP);
	assert_int_equal(r(f, 0x200a, 2), 1500);		/* MTU */
	start(f, F_BASE);
	post_rx(f, 4, 2048);
	arp_roundtrip(f);
	arp_roundtrip(f);
	s = stats(f);
	assert_int_equal(s.tx_frames, 2);
	assert_int_equal(s.rx_frames, 2);
	assert_true(s.tx_kicks >= 2);
}

static uint16_t ip_csum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* A DHCPDISCOVER from guest_mac, behind a header, at TXBUF: its length. */
static uint32_t dhcp_discover(struct fixture *f)
{
	uint8_t *p = f->ram + TXBUF, *e = p + VNET_HDR_LEN, *ip = e + 14, *udp = ip + 20, *b = udp + 8;
	unsigned blen = 240 + 4, ulen = 8 + blen, iplen = 20 + ulen;
	uint16_t c;

	memset(p, 0, VNET_HDR_LEN + 14 + iplen);
	memset(e, 0xff, 6);
	memcpy(e + 6, guest_mac, 6);
	e[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(iplen >> 8);
	ip[3] = (uint8_t)iplen;
	ip[8] = 64;
	ip[9] = 17;
	memset(ip + 16, 0xff, 4);
	c = ip_csum(ip, 20);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	udp[1] = 68;
	udp[3] = 67;
	udp[4] = (uint8_t)(ulen >> 8);
	udp[5] = (uint8_t)ulen;
	b[0] = 1;			/* BOOTREQUEST */
	b[1] = 1;
	b[2] = 6;
	b[4] = 0x12;			/* xid */
	memcpy(b + 28, guest_mac, 6);
	b[236] = 0x63, b[237] = 0x82, b[238] = 0x53, b[239] = 0x63;
	b[240] = 53, b[241] = 1, b[242] = 1;	/* DHCPDISCOVER */
	b[243] = 255;
	return VNET_HDR_LEN + 14 + iplen;
}

/* DHCP through libslirp: the offer gives 10.0.2.15 (what udhcpc does first). */
static void test_dhcp_offer(void **state)
{
	struct fixture *f = *state;
	uint32_t head, len;

	assert_int_equal(pci_add_device(f->bus, "virtio-net", -1, "user,mac=52:54:00:ab:cd:ef", &f->dev), 0);
	start(f, F_BASE | F_MRG | (1ULL << VIRTIO_F_EVENT_IDX) | (1ULL << VIRTIO_NET_F_MTU));
	post_rx(f, 8, 2048);
	for (int round = 0; round < 3; round++) {
		put_desc(f, TXDESC, 0, TXBUF, dhcp_discover(f), 0, 0);
		assert_true(tx_and_wait(f));
		for (;;) {
			assert_true(rx_wait(f, &head, &len));
			uint8_t *e = f->ram + RXBUF + 0x1000 * head + VNET_HDR_LEN;
			if (e[12] == 0x08 && e[13] == 0x00 && e[14 + 9] == 17) {	/* UDP */
				uint8_t *b = e + 14 + 20 + 8;
				assert_int_equal(b[0], 2);			/* BOOTREPLY */
				assert_memory_equal(b + 16, ((uint8_t[]){ 10, 0, 2, 15 }), 4);
				break;
			}
		}
		post_rx(f, 1, 2048);
	}
}

static void test_malformed_tx_dropped_and_counted(void **state)
{
	struct fixture *f = *state;
	uint32_t len;

	assert_int_equal(pci_add_device(f->bus, "virtio-net", -1, "user,mac=52:54:00:ab:cd:ef", &f->dev), 0);
	start(f, F_BASE | (1ULL << VIRTIO_NET_F_MTU));
	post_rx(f, 8, 2048);

	put_desc(f, TXDESC, 0, TXBUF, 8, 0, 0);		/* shorter than the header */
	assert_true(tx_and_wait(f));
	assert_int_equal(drops(f, VNET_DROP_TX_SHORT_HDR), 1);

	put_desc(f, TXDESC, 0, TXBUF, VNET_HDR_LEN + 10, 0, 0);	/* no Ethernet header */
	assert_true(tx_and_wait(f));
	assert_int_equal(drops(f, VNET_DROP_TX_RUNT), 1);

	len = arp_request(f);				/* a writable buffer in a TX chain */
	put_desc(f, TXDESC, 0, TXBUF, len, 1, 1);
	put_desc(f, TXDESC, 1, TXBUF + 0x800, 64, 2, 0);
	assert_true(tx_and_wait(f));
	assert_int_equal(drops(f, VNET_DROP_TX_WRONG_DIR), 1);

	/* over 64 KiB + header, and over the MTU without TSO */
	put_desc(f, TXDESC, 0, BIGBUF, VNET_HDR_LEN + 70000, 0, 0);
	memcpy(f->ram + BIGBUF, f->ram + TXBUF, len);
	assert_true(tx_and_wait(f));
	put_desc(f, TXDESC, 0, BIGBUF, VNET_HDR_LEN + 1600, 0, 0);
	assert_true(tx_and_wait(f));
	assert_int_equal(drops(f, VNET_DROP_TX_TOO_BIG), 2);

	len = arp_request(f);
	f->ram[TXBUF] = VIRTIO_NET_HDR_F_DATA_VALID;	/* a receive-only flag */
	put_desc(f, TXDESC, 0, TXBUF, len, 0, 0);
	assert_true(tx_and_wait(f));
	assert_int_equal(drops(f, VNET_DROP_TX_BAD_FLAGS), 1);

	f->ram[TXBUF] = VIRTIO_NET_HDR_F_NEEDS_CSUM;	/* CSUM not negotiated */
	assert_true(tx_and_wait(f));
	assert_int_equal(drops(f, VNET_DROP_TX_BAD_CSUM), 1);

	f->ram[TXBUF] = 0;
	f->ram[TXBUF + 1] = VIRTIO_NET_HDR_GSO_TCPV4;	/* TSO not negotiated */
	f->ram[TXBUF + 4] = 0xff;			/* gso_size 255 */
	assert_true(tx_and_wait(f));
	f->ram[TXBUF + 1] = 0x42;			/* nonsense type */
	assert_true(tx_and_wait(f));
	assert_int_equal(drops(f, VNET_DROP_TX_BAD_GSO), 2);

	/* a chain of many small pieces, header split across two: fine */
	len = arp_request(f);
	put_desc(f, TXDESC, 0, TXBUF, 5, 1, 1);
	put_desc(f, TXDESC, 1, TXBUF + 5, 10, 1, 2);
	put_desc(f, TXDESC, 2, TXBUF + 15, len - 15, 0, 0);
	assert_true(tx_and_wait(f));
	uint32_t head;
	assert_true(rx_wait(f, &head, &len));
	assert_arp_reply(f->ram + RXBUF + 0x1000 * head);

	/* nothing stopped the device; good frames still pass */
	assert_int_equal(r(f, 0x14, 1) & 0x40, 0);
	arp_roundtrip(f);
	assert_int_equal(stats(f).tx_frames, 2);
}

static void test_rx_buffers_too_small_without_mrg(void **state)
{
	struct fixture *f = *state;
	uint32_t head, len;

	assert_int_equal(pci_add_device(f->bus, "virtio-net", -1, "user,mac=52:54:00:ab:cd:ef", &f->dev), 0);
	start(f, F_BASE);				/* no MRG_RXBUF */
	post_rx(f, 1, 20);				/* header + 8 bytes: too small */
	put_desc(f, TXDESC, 0, TXBUF, arp_request(f), 0, 0);
	assert_true(tx_and_wait(f));
	assert_true(rx_wait(f, &head, &len));
	assert_int_equal(len, 0);			/* returned unused */
	assert_int_equal(drops(f, VNET_DROP_RX_TOO_SMALL), 1);
	/* a readable buffer in the receive queue: handed back, counted */
	put_desc(f, RXDESC, 5, RXBUF + 0x5000, 2048, 0, 0);
	avail_add(f, RXAVAIL, &f->rx_avail, 5, 0);
	post_rx(f, 2, 2048);
	put_desc(f, TXDESC, 0, TXBUF, arp_request(f), 0, 0);
	assert_true(tx_and_wait(f));
	assert_true(rx_wait(f, &head, &len));
	assert_int_equal(head, 5);
	assert_int_equal(len, 0);
	assert_int_equal(drops(f, VNET_DROP_RX_WRONG_DIR), 1);
	assert_true(rx_wait(f, &head, &len));
	assert_arp_reply(f->ram + RXBUF + 0x1000 * head);
}

static void test_mergeable_buffers(void **state)
{
	struct fixture *f = *state;
	uint32_t h1, l1, h2, l2;
	uint8_t frame[128];

	assert_int_equal(pci_add_device(f->bus, "virtio-net", -1, "user,mac=52:54:00:ab:cd:ef", &f->dev), 0);
	start(f, F_BASE | F_MRG);
	/* the frame waits for buffers: a reply arrives only once they are posted */
	put_desc(f, TXDESC, 0, TXBUF, arp_request(f), 0, 0);
	assert_true(tx_and_wait(f));
	usleep(20000);
	assert_int_equal(ring16(f, RXUSED + 2), 0);
	post_rx(f, 4, 48);		/* 12 + 42 (or 12 + 60 padded) bytes need two */
	assert_true(rx_wait(f, &h1, &l1));
	assert_true(rx_wait(f, &h2, &l2));
	assert_int_equal(l1, 48);
	assert_true(l2 >= 42 + VNET_HDR_LEN - 48 && l2 <= 48);
	assert_int_equal(((struct virtio_net_hdr_v1 *)(f->ram + RXBUF + 0x1000 * h1))->num_buffers, 2);
	memcpy(frame, f->ram + RXBUF + 0x1000 * h1, 48);
	memcpy(frame + 48, f->ram + RXBUF + 0x1000 * h2, l2);
	assert_arp_reply(frame);
}

static void test_rings_outside_ram(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pci_add_device(f->bus, "virtio-net", -1, "user,mac=52:54:00:ab:cd:ef", &f->dev), 0);
	driver_init(f, F_BASE);
	queue_at(f, 0, 0xA0000 - 0x10, RXAVAIL, RXUSED);	/* runs into the legacy hole */
	queue_at(f, 1, TXDESC, TXAVAIL, 0xfffffffffff0ULL);
	w(f, 0x14, 1, 1 | 2 | 8 | 4);
	assert_true(r(f, 0x14, 1) & 0x40);			/* DEVICE_NEEDS_RESET */
	/* a buffer outside RAM in a good ring: the queue breaks, hyve lives */
	start(f, F_BASE);
	assert_int_equal(r(f, 0x14, 1) & 0x40, 0);
	put_desc(f, TXDESC, 0, HOLE, 64, 0, 0);
	assert_false(tx_and_wait(f));
	assert_true(r(f, 0x14, 1) & 0x40);
	/* after a reset it works again */
	start(f, F_BASE);
	post_rx(f, 2, 2048);
	arp_roundtrip(f);
}

static void test_parser(void **state)
{
	struct vq_chain *c = calloc(1, sizeof(*c));
	uint8_t buf[VNET_HDR_LEN + 2000] = { 0 };
	struct virtio_net_hdr_v1 *h = (struct virtio_net_hdr_v1 *)buf;
	uint64_t tso = (1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_HOST_TSO4);
	struct vnet_tx t;
	enum vnet_drop why;

	c->nout = 1;
	c->iov[0].iov_base = buf;
	c->iov[0].iov_len = c->out_len = sizeof(buf);
	assert_int_equal(vnet_tx_parse(c, 0, 1500, &t, &why), 0);
	assert_int_equal(t.frame_len, 2000);
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = 34;
	h->csum_offset = 16;
	assert_int_equal(vnet_tx_parse(c, tso, 1500, &t, &why), 0);
	h->csum_start = 1990;				/* checksum past the end */
	assert_int_equal(vnet_tx_parse(c, tso, 1500, &t, &why), -EINVAL);
	assert_int_equal(why, VNET_DROP_TX_BAD_CSUM);
	h->csum_start = 34;
	h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h->gso_size = 1448;
	h->hdr_len = 66;
	assert_int_equal(vnet_tx_parse(c, tso, 1500, &t, &why), 0);
	h->gso_size = 0;				/* nonsense sizes */
	assert_int_equal(vnet_tx_parse(c, tso, 1500, &t, &why), -EINVAL);
	assert_int_equal(why, VNET_DROP_TX_BAD_GSO);
	h->gso_size = 4000;
	assert_int_equal(vnet_tx_parse(c, tso, 1500, &t, &why), -EINVAL);
	h->gso_size = 1448;
	h->hdr_len = 3000;
	assert_int_equal(vnet_tx_parse(c, tso, 1500, &t, &why), -EINVAL);
	h->hdr_len = 66;
	h->flags = 0;					/* GSO without NEEDS_CSUM */
	assert_int_equal(vnet_tx_parse(c, tso, 1500, &t, &why), -EINVAL);
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;	/* ECN not negotiated */
	assert_int_equal(vnet_tx_parse(c, tso, 1500, &t, &why), -EINVAL);
	h->gso_type = VIRTIO_NET_HDR_GSO_TCPV6;		/* TSO6 not negotiated */
	assert_int_equal(vnet_tx_parse(c, tso, 1500, &t, &why), -EINVAL);
	h->gso_type = VIRTIO_NET_HDR_GSO_UDP;		/* UFO never offered */
	assert_int_equal(vnet_tx_parse(c, tso, 1500, &t, &why), -EINVAL);
	assert_int_equal(why, VNET_DROP_TX_BAD_GSO);
	/* TSO: up to 64 KiB + Ethernet/VLAN header, not more */
	c->out_len = VNET_HDR_LEN + VNET_MAX_FRAME;
	c->iov[0].iov_len = c->out_len;			/* (only the header is read) */
	h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	assert_int_equal(vnet_tx_parse(c, tso, 1500, &t, &why), 0);
	c->out_len++;
	c->iov[0].iov_len++;
	assert_int_equal(vnet_tx_parse(c, tso, 1500, &t, &why), -EINVAL);
	assert_int_equal(why, VNET_DROP_TX_TOO_BIG);
	free(c);
}

static void test_bad_options(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"", "bogus", "user,bogus=1", "user,mac=ff:ff:ff:ff:ff:ff", "user,mac=52:54:00:12:34",
		"user,mac=00:00:00:00:00:00", "user,hostfwd=tcp:1.2.3:80-:80", "user,hostfwd=sctp::80-:80",
		"user,hostfwd=tcp::0-:80", "user,hostfwd=tcp::80-:70000", "user,restrict=yes",
		"user,queues=2", "tap=", "tap=averyveryverylongname", "tap-fd=x", "tap=t0,queues=0",
		"tap=t0,vhost=maybe", "tap=t0,hostfwd=tcp::80-:80",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (pci_add_device(f->bus, "virtio-net", -1, bad[i], NULL) >= 0)
			fail_msg("accepted '%s'", bad[i]);
	}
	/* tap-fd that is not a tap; a tap fd number that is not open */
	assert_true(pci_add_device(f->bus, "virtio-net", -1, "tap-fd=0", NULL) < 0);
	assert_true(pci_add_device(f->bus, "virtio-net", -1, "tap-fd=999", NULL) < 0);
	/* a forwarded port that is taken: the first device has it */
	assert_int_equal(pci_add_device(f->bus, "virtio-net", -1,
					"user,hostfwd=tcp:127.0.0.1:47613-:80", NULL), 0);
	assert_true(pci_add_device(f->bus, "virtio-net", -1,
				   "user,hostfwd=tcp:127.0.0.1:47613-:80", NULL) < 0);
}

/* Bring IFNAME up with ADDR/24 (in this test's own network namespace). */
static int if_up(const char *ifname, const char *addr)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = -1;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, addr, &sin->sin_addr);
	if (s >= 0 && ioctl(s, SIOCSIFADDR, &ifr) == 0) {
		inet_pton(AF_INET, "255.255.255.0", &sin->sin_addr);
		if (ioctl(s, SIOCSIFNETMASK, &ifr) == 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
			ifr.ifr_flags |= IFF_UP;
			r = ioctl(s, SIOCSIFFLAGS, &ifr);
		}
	}
	if (s >= 0)
		close(s);
	return r;
}

/* A control command (class, cmd, le16 arg) on queue q: the ack byte. */
static int ctrl_cmd(struct fixture *f, unsigned q, uint64_t desc, uint64_t avail, uint64_t used,
		    uint16_t *aidx, uint8_t class, uint8_t cmd, uint16_t arg)
{
	uint8_t *m = f->ram + TXBUF + 0x800;
	uint16_t before = ring16(f, used + 2);

	m[0] = class;
	m[1] = cmd;
	memcpy(m + 2, &arg, 2);
	m[16] = 0xee;
	put_desc(f, desc, 0, TXBUF + 0x800, 2, 1, 1);
	put_desc(f, desc, 1, TXBUF + 0x802, 2, 1, 2);
	put_desc(f, desc, 2, TXBUF + 0x810, 1, 2, 0);
	avail_add(f, avail, aidx, 0, q);
	for (int i = 0; i < 2000 && ring16(f, used + 2) == before; i++)
		usleep(1000);
	return ring16(f, used + 2) == before ? -1 : m[16];
}

/*
 * tap with two queue pairs, in a private network namespace (skipped
 * without CAP_SYS_ADMIN / CAP_NET_ADMIN or /dev/net/tun): the control
 * queue switches pairs; an ARP request for the namespace's address gets
 * the kernel's reply through the tap, with the virtio-net header.  Runs
 * last: the test thread stays in that namespace.
 */
static void test_tap_multiqueue_in_netns(void **state)
{
	struct fixture *f = *state;
	uint32_t head, len;
	uint16_t cidx = 0;
	uint64_t feat = F_BASE | F_MRG | (1ULL << VIRTIO_NET_F_CTRL_VQ) | (1ULL << VIRTIO_NET_F_MQ) |
			(1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM);
	int fd, efd;
	char opts[64];
	struct ifreq ifr = { 0 };

	if (access("/dev/net/tun", R_OK | W_OK) != 0 || unshare(CLONE_NEWNET) != 0) {
		skip();
		return;
	}
	if (pci_add_device(f->bus, "virtio-net", -1, "tap=hvt0,queues=2,mac=52:54:00:ab:cd:ef", &f->dev) < 0) {
		skip();
		return;
	}
	assert_int_equal(if_up("hvt0", "10.0.2.2"), 0);	/* the address the ARP asks for */
	assert_offers(f, 1u << VIRTIO_NET_F_CTRL_VQ | 1u << VIRTIO_NET_F_MQ | 1u << VIRTIO_NET_F_HOST_TSO4 |
			 1u << VIRTIO_NET_F_GUEST_CSUM, 0);
	assert_int_equal(r(f, 0x2008, 2), 2);		/* max_virtqueue_pairs */
	assert_int_equal(r(f, 0x12, 2), 5);		/* num_queues: 2 pairs + control */
	memset(f->ram, 0, 0x60000);
	driver_init(f, feat);
	assert_true(r(f, 0x14, 1) & 8);
	queue_at(f, 0, RXDESC, RXAVAIL, RXUSED);
	queue_at(f, 1, TXDESC, TXAVAIL, TXUSED);
	queue_at(f, 2, 0x40000, 0x41000, 0x42000);
	queue_at(f, 3, 0x43000, 0x44000, 0x45000);
	queue_at(f, 4, 0x46000, 0x47000, 0x48000);	/* control */
	w(f, 0x14, 1, 1 | 2 | 8 | 4);
	assert_int_equal(ctrl_cmd(f, 4, 0x46000, 0x47000, 0x48000, &cidx, VIRTIO_NET_CTRL_MQ,
				  VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 2), VIRTIO_NET_OK);
	assert_int_equal(stats(f).active_pairs, 2);
	assert_int_equal(ctrl_cmd(f, 4, 0x46000, 0x47000, 0x48000, &cidx, VIRTIO_NET_CTRL_MQ,
				  VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 3), VIRTIO_NET_ERR);	/* too many */
	assert_int_equal(ctrl_cmd(f, 4, 0x46000, 0x47000, 0x48000, &cidx, 99, 0, 0), VIRTIO_NET_ERR);
	assert_int_equal(ctrl_cmd(f, 4, 0x46000, 0x47000, 0x48000, &cidx, VIRTIO_NET_CTRL_MQ,
				  VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 1), VIRTIO_NET_OK);
	assert_int_equal(stats(f).active_pairs, 1);
	assert_int_equal(stats(f).ctrl_errors, 2);
	post_rx(f, 8, 2048);
	put_desc(f, TXDESC, 0, TXBUF, arp_request(f), 0, 0);
	/* the kernel answers (maybe after its own IPv6 chatter: skip that) */
	assert_true(tx_and_wait(f));
	for (int i = 0; i < 8; i++) {
		assert_true(rx_wait(f, &head, &len));
		uint8_t *p = f->ram + RXBUF + 0x1000 * head;
		if (len >= VNET_HDR_LEN + 42 && p[VNET_HDR_LEN + 12] == 0x08 && p[VNET_HDR_LEN + 13] == 0x06) {
			assert_arp_reply(p);
			break;
		}
		assert_true(i < 7);
	}
	assert_true(stats(f).pair_tx_frames[0] >= 1);

	/* tap-fd: an open tap is taken; an eventfd is not a tap */
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "hvt1");
	assert_int_equal(ioctl(fd, TUNSETIFF, &ifr), 0);
	snprintf(opts, sizeof(opts), "tap-fd=%d", fd);
	assert_int_equal(pci_add_device(f->bus, "virtio-net", -1, opts, NULL), 0);
	efd = eventfd(0, EFD_CLOEXEC);
	snprintf(opts, sizeof(opts), "tap-fd=%d", efd);
	assert_true(pci_add_device(f->bus, "virtio-net", -1, opts, NULL) < 0);
	assert_true(strstr(err_msg(), "not a tap") != NULL);
	close(efd);
	/* a tap name that is taken by a non-multiqueue tap cannot be opened */
	assert_true(pci_add_device(f->bus, "virtio-net", -1, "tap=hvt1", NULL) < 0);
}

TEST_MAIN(NULL, NULL,
	TEST_FIX(test_config_and_arp),
	TEST_FIX(test_dhcp_offer),
	TEST_FIX(test_malformed_tx_dropped_and_counted),
	TEST_FIX(test_rx_buffers_too_small_without_mrg),
	TEST_FIX(test_mergeable_buffers),
	TEST_FIX(test_rings_outside_ram),
	TEST_FIX(test_parser),
	TEST_FIX(test_bad_options),
	TEST_FIX(test_tap_multiqueue_in_netns))	/* last: enters its own netns */
