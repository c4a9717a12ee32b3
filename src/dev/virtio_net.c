/*
 * virtio_net.c - virtio network device (virtio 1.2, 5.1) on a network back
 * end (backend/net.h): user-mode networking (libslirp) or a tap device.
 *
 *   --net user[,mac=MAC][,hostfwd=...][,restrict=on]
 *   --net tap=IFNAME[,mac=MAC] | tap-fd=FD[,mac=MAC]
 *
 * Queues: receive 0, transmit 1.  Everything runs on the transport's worker
 * thread (virtio_pci.c), off the vCPU threads: transmit kicks arrive as
 * ioeventfds, received frames as the back end's fd, which the worker
 * watches while the guest has posted receive buffers and stops watching
 * when it has not (the back end holds the frames meanwhile; the guest's
 * next receive kick resumes).  Both directions run in batches with one
 * interrupt decision per batch.
 *
 * The guest is hostile: every transmit chain goes through vnet_tx_parse
 * (direction, header length, frame size, flags, checksum and GSO fields
 * against the negotiated features); a receive chain is checked for
 * direction and room.  A bad frame is dropped and counted by reason
 * (--stats); only a malformed ring (the virtqueue's own checks) stops the
 * device, with DEVICE_NEEDS_RESET.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "backend/net.h"
#include "backend/net_vhost.h"
#include "mem.h"
#include "pci/msix.h"
#include "dev/virtio_net.h"
#include "err.h"
#include "lock.h"
#include "virtio/virtio_pci.h"
#include "vm.h"
#include "virtio/iov.h"

#define VNET_QUEUE_SIZE		256
#define VNET_BUDGET		256	/* frames per direction per turn */
#define VNET_STASH		VNET_QUEUE_SIZE
#define VNET_STASH_IOV		4
#define VNET_DEFAULT_MTU	1500

struct vnet_cfg {		/* the device configuration layout (5.1.4) */
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
	uint16_t mtu;
} __attribute__((packed));

/* A receive chain taken from the ring, waiting for (the rest of) a frame. */
struct vnet_rxchain {
	uint16_t head;
	unsigned niov;
	uint32_t len;
	struct iovec iov[VNET_STASH_IOV];
};

struct vnet_pair {
	struct vnet *n;
	unsigned idx;
	int rxfd;
	bool watching;			/* the worker polls rxfd */
	size_t pending;			/* header + frame waiting in rxbuf (0: none) */
	uint8_t *rxbuf;			/* VNET_HDR_LEN + VNET_MAX_FRAME */
	struct vnet_rxchain stash[VNET_STASH];	/* MRG_RXBUF: chains taken */
	unsigned nstash;
	uint64_t stash_bytes;
};

struct vnet {
	struct virtio_dev *vd;
	struct net_backend *nb;
	struct vnet_cfg cfg;
	unsigned mtu;
	struct virtio_ops ops;
	struct vnet_pair pair[NET_MAX_PAIRS];
	unsigned npairs;
	unsigned active;		/* pairs the driver uses (VQ_PAIRS_SET) */
	bool offloads_set;		/* the back end knows the negotiated features */
	struct vhost_net *vhost;	/* vhost=on|auto and /dev/vhost-net opened */
	bool vhost_on;			/* the kernel runs the data path now */
	bool vhost_failed;		/* said once: frames go through hyve */
	struct vnet_stats st;		/* under vd->lock */
	struct iovec txiov[VQ_MAX_SEGS + 1];
	struct vq_chain chain;		/* the worker's */
};

/* ---- pure helpers ---- */

/* Copy len bytes of src into the iovec list; returns what fitted. */
static size_t iov_copy_in(const struct iovec *iov, unsigned n, const uint8_t *src, size_t len)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		size_t k = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;
		memcpy(iov[i].iov_base, src + done, k);
		done += k;
	}
	return done;
}

static bool has(uint64_t f, unsigned bit)
{
	return f & (1ULL << bit);
}

/* ---- the device ---- */

static bool queue_ready(struct virtio_dev *vd, unsigned qi)
{
	return (vd->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(vd->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET) &&
	       vd->q[qi].vq.enabled && !vd->q[qi].vq.broken;
}

static void set_watch(struct virtio_dev *vd, struct vnet_pair *p, bool on)
{
	if (p->watching != on && virtio_worker_watch_enable(vd, p->rxfd, on) == 0)
		p->watching = on;
}

/*
 * vhost-net: hand pair 0's rings and the tap to the kernel.  Needs MSI-X
 * (the interrupt is the vector's irqfd); otherwise, or if the kernel
 * refuses, frames keep going through hyve (said once).
 */
static void vnet_vhost_start(struct virtio_dev *vd, struct vnet *n)
{
	struct vhost_ring ring[2];
	const struct guest_mem *mem = vm_memory(pci_bus_vm(vd->pci->bus));
	int r = -EINVAL;
	const char *why = "the driver did not enable MSI-X";

	for (unsigned i = 0; i < 2; i++) {
		struct virtio_queue *q = &vd->q[i];
		ring[i] = (struct vhost_ring){
			.size = q->vq.size, .desc = q->vq.desc, .avail = q->vq.avail,
			.used = q->vq.used, .kick = q->kickfd,
			.call = msix_vector_eventfd(vd->pci, q->msix),
		};
		if (!q->vq.enabled || q->vq.broken) {
			why = "a queue is not enabled";
			goto fallback;
		}
		if (!msix_enabled(vd->pci) || ring[i].call < 0)
			goto fallback;
	}
	if ((r = vhost_net_start(n->vhost, vd->drv_features, mem->r, mem->n, ring,
				 n->nb->ops->rx_fd(n->nb, 0))) < 0) {
		why = err_msg();
		goto fallback;
	}
	set_watch(vd, &n->pair[0], false);	/* the kernel reads the tap now */
	for (unsigned i = 0; i < 2; i++) {
		virtio_queue_kick_poll(vd, i, false);
		efd_signal(vd->q[i].kickfd);	/* let vhost look at the rings */
	}
	n->vhost_on = true;
	return;
fallback:
	if (!n->vhost_failed)
		fprintf(stderr, "hyve: %s: vhost-net not started (%s); frames pass through hyve\n",
			vd->pci->name, why);
	n->vhost_failed = true;
}

/* Once per DRIVER_OK: the back end learns what the guest accepts. */
static void vnet_sync_offloads(struct virtio_dev *vd, struct vnet *n)
{
	if (n->offloads_set || !(vd->status & VIRTIO_STATUS_DRIVER_OK))
		return;
	n->offloads_set = true;
	if (n->nb->ops->set_offloads && n->nb->ops->set_offloads(n->nb, vd->drv_features) < 0)
		fprintf(stderr, "hyve: %s: the back end refused the negotiated offloads\n", vd->pci->name);
	if (n->vhost && !n->vhost_failed)
		vnet_vhost_start(vd, n);
}

/* Take a receive chain into the stash; 1, 0 (none), -1 (ring broken). */
static int stash_one(struct virtio_dev *vd, struct vnet *n, struct vnet_pair *p, struct vq *q)
{
	struct vq_chain *c = &n->chain;

	for (;;) {
		int r = vq_pop(q, c);

		if (r < 0) {
			virtio_needs_reset(vd, err_msg());
			return -1;
		}
		if (r == 0)
			return 0;
		if (c->nout) {		/* readable buffers in a receive chain */
			n->st.drops[VNET_DROP_RX_WRONG_DIR]++;
			vq_push(q, c->head, 0);
			continue;
		}
		struct vnet_rxchain *e = &p->stash[p->nstash++];
		e->head = c->head;
		e->niov = c->nin < VNET_STASH_IOV ? c->nin : VNET_STASH_IOV;
		e->len = 0;
		for (unsigned i = 0; i < e->niov; i++) {
			e->iov[i] = vq_chain_in(c)[i];
			e->len += (uint32_t)e->iov[i].iov_len;
		}
		p->stash_bytes += e->len;
		return 1;
	}
}

/*
 * Put the pending frame (header + frame in p->rxbuf) into receive buffers.
 * 1: delivered or dropped; 0: not enough buffers yet; -1: ring broken.
 */
static int vnet_deliver(struct virtio_dev *vd, struct vnet *n, struct vnet_pair *p, struct vq *q)
{
	struct virtio_net_hdr_v1 *h = (struct virtio_net_hdr_v1 *)p->rxbuf;
	size_t total = p->pending;
	unsigned k = 0;
	size_t off = 0;
	int r;

	if (!has(vd->drv_features, VIRTIO_NET_F_MRG_RXBUF)) {
		/* one chain per frame, all of it (stash unused here) */
		struct vq_chain *c = &n->chain;

		for (;;) {
			r = vq_pop(q, c);
			if (r < 0) {
				virtio_needs_reset(vd, err_msg());
				return -1;
			}
			if (r == 0)
				return 0;
			if (c->nout) {
				n->st.drops[VNET_DROP_RX_WRONG_DIR]++;
				vq_push(q, c->head, 0);
				continue;
			}
			if (c->in_len < total) {
				n->st.drops[VNET_DROP_RX_TOO_SMALL]++;
				vq_push(q, c->head, 0);
				return 1;
			}
			h->num_buffers = 1;
			iov_copy_in(vq_chain_in(c), c->nin, p->rxbuf, total);
			vq_push(q, c->head, (uint32_t)total);
			n->st.pair_rx_frames[p->idx]++;
			n->st.rx_frames++;
			n->st.rx_bytes += total - VNET_HDR_LEN;
			return 1;
		}
	}
	while (p->stash_bytes < total) {
		if (p->nstash == VNET_STASH) {	/* buffers too small even together */
			n->st.drops[VNET_DROP_RX_TOO_SMALL]++;
			return 1;
		}
		if ((r = stash_one(vd, n, p, q)) <= 0)
			return r;
	}
	/* how many chains the frame takes: the header goes into the first */
	for (size_t left = total; left; k++)
		left -= p->stash[k].len < left ? p->stash[k].len : left;
	h->num_buffers = (uint16_t)k;
	for (unsigned i = 0; i < k; i++) {
		struct vnet_rxchain *e = &p->stash[i];
		size_t take = e->len < total - off ? e->len : total - off;

		iov_copy_in(e->iov, e->niov, p->rxbuf + off, take);
		off += take;
		vq_push(q, e->head, (uint32_t)take);
		p->stash_bytes -= e->len;
	}
	p->nstash -= k;
	memmove(p->stash, p->stash + k, p->nstash * sizeof(p->stash[0]));
	n->st.pair_rx_frames[p->idx]++;
	n->st.rx_frames++;
	n->st.rx_bytes += total - VNET_HDR_LEN;
	return 1;
}

/* Receive: the back end's frames into the guest, a batch at a time. */
static void vnet_rx(struct virtio_dev *vd, struct vnet *n, struct vnet_pair *p)
{
	unsigned qi = 2 * p->idx, hl = n->nb->hdr_len;
	struct vq *q = &vd->q[qi].vq;
	int delivered = 0;

	if (!queue_ready(vd, qi)) {
		set_watch(vd, p, false);	/* the next receive kick resumes */
		return;
	}
	vnet_sync_offloads(vd, n);
	if (n->vhost_on) {
		set_watch(vd, p, false);
		return;
	}
	for (unsigned budget = VNET_BUDGET; budget; budget--) {
		if (!p->pending) {
			ssize_t len = n->nb->ops->recv(n->nb, p->idx, p->rxbuf + VNET_HDR_LEN - hl,
						       VNET_MAX_FRAME + hl);
			if (len == -EAGAIN)
				break;
			if (len < (ssize_t)(hl + VNET_ETH_HLEN)) {
				n->st.drops[VNET_DROP_RX_BACKEND]++;
				if (len < 0 && len != -EMSGSIZE)
					break;
				continue;
			}
			if (!hl)
				memset(p->rxbuf, 0, VNET_HDR_LEN);
			p->pending = (size_t)len - hl + VNET_HDR_LEN;
		}
		int r = vnet_deliver(vd, n, p, q);
		if (r < 0)
			return;
		if (r == 0)			/* out of buffers: wait for a kick */
			break;
		p->pending = 0;
		delivered++;
	}
	if (delivered && virtio_queue_interrupt(vd, qi))
		n->st.rx_irqs++;
	/* level-triggered: watch while nothing waits here, else the kick */
	set_watch(vd, p, p->pending == 0);
}

/* Transmit: the guest's frames to the back end. */
static void vnet_tx(struct virtio_dev *vd, struct vnet *n, unsigned pi)
{
	unsigned qi = 2 * pi + 1, hl = n->nb->hdr_len;
	struct vq *q = &vd->q[qi].vq;
	struct vq_chain *c = &n->chain;
	unsigned budget = VNET_BUDGET;
	int r = 0, sent = 0;

	vnet_sync_offloads(vd, n);
	while (budget && (r = vq_pop(q, c)) == 1) {
		struct vnet_tx t;
		enum vnet_drop why;
		int cnt;

		budget--;
		sent++;
		if (vnet_tx_parse(c, vd->drv_features, n->mtu, &t, &why) < 0) {
			n->st.drops[why]++;
			vq_push(q, c->head, 0);
			continue;
		}
		n->txiov[0].iov_base = &t.hdr;	/* the checked copy, not guest memory */
		n->txiov[0].iov_len = hl;
		cnt = iov_slice(vq_chain_out(c), c->nout, VNET_HDR_LEN, t.frame_len, n->txiov + 1);
		if (cnt < 0 || n->nb->ops->send(n->nb, pi, hl ? n->txiov : n->txiov + 1,
						 cnt + (hl ? 1 : 0)) < 0) {
			n->st.drops[VNET_DROP_TX_BACKEND]++;
		} else {
			n->st.pair_tx_frames[pi]++;
			n->st.tx_frames++;
			n->st.tx_bytes += t.frame_len;
		}
		vq_push(q, c->head, 0);
	}
	if (r < 0)
		virtio_needs_reset(vd, err_msg());
	if (n->nb->ops->flush)
		n->nb->ops->flush(n->nb);
	if (sent && virtio_queue_interrupt(vd, qi))
		n->st.tx_irqs++;
	if (!budget) {				/* more waiting: come back after RX */
		efd_signal(vd->q[qi].kickfd);
	}
}

/*
 * The control queue (5.1.6.5), offered with several queue pairs: only
 * VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET; any other command is answered ERR.
 */
static void vnet_ctrl(struct virtio_dev *vd, struct vnet *n, unsigned qi)
{
	struct vq *q = &vd->q[qi].vq;
	struct vq_chain *c = &n->chain;
	int r;

	while ((r = vq_pop(q, c)) == 1) {
		struct { uint8_t class, cmd; uint16_t pairs; } __attribute__((packed)) m = { 0 };
		uint8_t ack = VIRTIO_NET_ERR;
		struct iovec *in = vq_chain_in(c);

		n->st.ctrl_cmds++;
		if (c->nin && iov_copy_out(c->iov, c->nout, 0, &m, 2) &&
		    m.class == VIRTIO_NET_CTRL_MQ && m.cmd == VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET &&
		    c->out_len == 4 && iov_copy_out(c->iov, c->nout, 0, &m, 4) &&
		    m.pairs >= 1 && m.pairs <= n->npairs &&
		    has(vd->drv_features, VIRTIO_NET_F_MQ)) {
			n->active = m.pairs;
			if (n->nb->ops->set_queues && n->nb->ops->set_queues(n->nb, m.pairs) < 0)
				fprintf(stderr, "hyve: %s: the back end cannot use %u queue pairs\n",
					vd->pci->name, m.pairs);
			ack = VIRTIO_NET_OK;
		}
		if (ack != VIRTIO_NET_OK)
			n->st.ctrl_errors++;
		if (c->nin) {	/* the ack: the last writable byte */
			*((uint8_t *)in[c->nin - 1].iov_base + in[c->nin - 1].iov_len - 1) = ack;
			vq_push(q, c->head, 1);
		} else {
			vq_push(q, c->head, 0);
		}
	}
	if (r < 0)
		virtio_needs_reset(vd, err_msg());
	virtio_queue_interrupt(vd, qi);
}

/* Worker thread, vd->lock held: a kick (or DRIVER_OK) on queue qi. */
static void vnet_queue_notify(struct virtio_dev *vd, unsigned qi)
{
	struct vnet *n = vd->priv;
	unsigned pi = qi / 2;

	if (n->npairs > 1 && qi == 2 * n->npairs) {
		vnet_ctrl(vd, n, qi);
		return;
	}
	vnet_sync_offloads(vd, n);
	if (n->vhost_on) {		/* a kick read before vhost took over */
		efd_signal(vd->q[qi].kickfd);
		return;
	}
	if (pi >= n->npairs)
		return;
	if (qi & 1) {
		n->st.tx_kicks++;
		vnet_tx(vd, n, pi);
	} else {
		n->st.rx_kicks++;
		vnet_rx(vd, n, &n->pair[pi]);	/* new buffers: pending frames, resume */
	}
}

/* Worker thread, vd->lock held: the back end has frames. */
static void vnet_backend_ready(struct virtio_dev *vd, void *arg)
{
	struct vnet_pair *p = arg;

	vnet_rx(vd, p->n, p);
}

static void vnet_config_read(struct virtio_dev *vd, unsigned off, unsigned size, uint64_t *val)
{
	struct vnet *n = vd->priv;

	*val = 0;
	if (off + size <= sizeof(n->cfg))
		memcpy(val, (uint8_t *)&n->cfg + off, size);
}

/* vd->lock held (a vCPU thread): forget what belonged to the old rings. */
static void vnet_reset(struct virtio_dev *vd)
{
	struct vnet *n = vd->priv;

	n->offloads_set = false;
	if (n->vhost_on) {		/* the kernel lets go of the old rings */
		vhost_net_stop(n->vhost);
		for (unsigned i = 0; i < 2; i++)
			virtio_queue_kick_poll(vd, i, true);
		n->vhost_on = false;
	}
	if (n->active != 1 && n->nb->ops->set_queues)
		n->nb->ops->set_queues(n->nb, 1);
	n->active = 1;
	for (unsigned i = 0; i < n->npairs; i++) {
		n->pair[i].pending = 0;
		n->pair[i].nstash = 0;
		n->pair[i].stash_bytes = 0;
	}
}

static void vnet_free(struct vnet *n)
{
	if (!n)
		return;
	vhost_net_close(n->vhost);
	net_backend_close(n->nb);
	for (unsigned i = 0; i < NET_MAX_PAIRS; i++)
		free(n->pair[i].rxbuf);
	free(n);
}

static int vnet_init(struct pci_dev *dev, const char *opts)
{
	struct vnet *n = calloc(1, sizeof(*n));
	struct net_opts o;
	struct virtio_dev *vd;
	int r;

	if (!n)
		return err_set(-ENOMEM, "out of memory");
	if ((r = net_parse_opts(opts, &o)) < 0)
		goto fail;
	if ((r = net_backend_open(&o, &n->nb)) < 0)
		goto fail;
	if (o.vhost && n->nb->npairs > 1) {
		r = err_set(-ENOTSUP, "--net: vhost with queues > 1 is not supported yet");
		goto fail;
	}
	if (o.vhost && !n->nb->hdr_len) {
		r = err_set(-ENOTSUP, "--net: vhost needs a tap with IFF_VNET_HDR");
		goto fail;
	}
	if (o.vhost && (r = vhost_net_open(&n->vhost)) < 0) {
		if (o.vhost == 1)
			goto fail;
		fprintf(stderr, "hyve: %s; vhost=auto: frames pass through hyve\n", err_msg());
		r = 0;
	}
	if (n->vhost)
		snprintf(n->nb->desc + strlen(n->nb->desc), sizeof(n->nb->desc) - strlen(n->nb->desc),
			 " vhost");
	n->npairs = n->nb->npairs;
	n->active = 1;
	n->mtu = VNET_DEFAULT_MTU;
	if (o.has_mac) {
		memcpy(n->cfg.mac, o.mac, 6);
	} else {	/* stable, locally administered, one per slot */
		static const uint8_t base[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x50 };
		memcpy(n->cfg.mac, base, 6);
		n->cfg.mac[5] = (uint8_t)(base[5] + dev->slot);
	}
	n->cfg.status = VIRTIO_NET_S_LINK_UP;
	n->cfg.max_virtqueue_pairs = (uint16_t)n->npairs;
	n->cfg.mtu = (uint16_t)n->mtu;
	for (unsigned i = 0; i < n->npairs; i++) {
		n->pair[i].n = n;
		n->pair[i].idx = i;
		n->pair[i].rxfd = n->nb->ops->rx_fd(n->nb, i);
		n->pair[i].rxbuf = malloc(VNET_HDR_LEN + VNET_MAX_FRAME);
		if (!n->pair[i].rxbuf) {
			r = err_set(-ENOMEM, "out of memory");
			goto fail;
		}
	}
	n->ops = (struct virtio_ops){
		.name = "virtio-net",
		.device_id = VIRTIO_ID_NET,
		.pci_class = 0x020000,
		.nqueues = 2 * n->npairs + (n->npairs > 1),	/* + control queue */
		.queue_max = VNET_QUEUE_SIZE,
		.features = (1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_STATUS) |
			    (1ULL << VIRTIO_NET_F_MTU) | (1ULL << VIRTIO_NET_F_MRG_RXBUF) |
			    n->nb->features |
			    (n->npairs > 1 ? (1ULL << VIRTIO_NET_F_CTRL_VQ) | (1ULL << VIRTIO_NET_F_MQ) : 0),
		.config_size = sizeof(struct vnet_cfg),
		.config_read = vnet_config_read,
		.queue_notify = vnet_queue_notify,
		.worker_unfiltered = true,	/* tap/slirp calls: no allowlist yet */
		.reset = vnet_reset,
	};
	if ((r = virtio_pci_init(dev, &n->ops, n)) < 0)
		goto fail;
	vd = virtio_dev_of(dev);
	n->vd = vd;
	for (unsigned i = 0; i < n->npairs; i++) {
		if ((r = virtio_worker_watch(vd, n->pair[i].rxfd, vnet_backend_ready, &n->pair[i])) < 0)
			return r;	/* fini cleans up */
		n->pair[i].watching = true;	/* until the first look finds no buffers */
	}
	return 0;
fail:
	vnet_free(n);
	return r;
}

static void vnet_fini(struct pci_dev *dev)
{
	struct virtio_dev *vd = virtio_dev_of(dev);
	struct vnet *n = vd ? vd->priv : NULL;

	virtio_pci_stop(dev);		/* no more worker activity */
	virtio_pci_fini(dev);
	vnet_free(n);
}

int vnet_get_stats(struct pci_dev *dev, struct vnet_stats *s)
{
	struct virtio_dev *vd = dev ? virtio_dev_of(dev) : NULL;
	struct vnet *n;

	if (!vd || vd->ops->device_id != VIRTIO_ID_NET)
		return -ENODEV;
	n = vd->priv;
	lock(&vd->lock, LOCK_VIRTIO);
	*s = n->st;
	s->active_pairs = n->active;
	s->drops[VNET_DROP_RX_BACKEND] += n->nb->rx_dropped;
	unlock(&vd->lock, LOCK_VIRTIO);
	return 0;
}

void vnet_print_stats(struct pci_dev *dev, FILE *f)
{
	struct virtio_dev *vd = virtio_dev_of(dev);
	struct vnet_stats s;
	uint64_t drops = 0;

	if (vnet_get_stats(dev, &s) < 0)
		return;
	for (int i = 0; i < VNET_DROP_N; i++)
		drops += s.drops[i];
	fprintf(f, "stats: net %s (%s) tx_frames=%" PRIu64 " tx_bytes=%" PRIu64
		" rx_frames=%" PRIu64 " rx_bytes=%" PRIu64 " drops=%" PRIu64,
		dev->name, ((struct vnet *)vd->priv)->nb->desc, s.tx_frames, s.tx_bytes,
		s.rx_frames, s.rx_bytes, drops);
	for (int i = 0; i < VNET_DROP_N; i++)
		if (s.drops[i])
			fprintf(f, " %s=%" PRIu64, vnet_drop_names[i], s.drops[i]);
	fprintf(f, "\nstats: net %s tx_kicks=%" PRIu64 " (%.3f per frame) tx_irqs=%" PRIu64
		" (%.3f per frame) rx_kicks=%" PRIu64 " rx_irqs=%" PRIu64 " (%.3f per frame)\n",
		dev->name, s.tx_kicks, s.tx_frames ? (double)s.tx_kicks / (double)s.tx_frames : 0.0,
		s.tx_irqs, s.tx_frames ? (double)s.tx_irqs / (double)s.tx_frames : 0.0,
		s.rx_kicks, s.rx_irqs, s.rx_frames ? (double)s.rx_irqs / (double)s.rx_frames : 0.0);
	if (((struct vnet *)vd->priv)->npairs > 1) {
		fprintf(f, "stats: net %s queue_pairs=%u ctrl_cmds=%" PRIu64 " ctrl_errors=%" PRIu64,
			dev->name, s.active_pairs, s.ctrl_cmds, s.ctrl_errors);
		for (unsigned i = 0; i < ((struct vnet *)vd->priv)->npairs; i++)
			fprintf(f, " pair%u_tx=%" PRIu64 " pair%u_rx=%" PRIu64, i, s.pair_tx_frames[i],
				i, s.pair_rx_frames[i]);
		fputc('\n', f);
	}
}

VIRTIO_PCI_DEVTYPE(vnet_type, "virtio-net", vnet_init, vnet_fini,
		   .print_stats = vnet_print_stats);
