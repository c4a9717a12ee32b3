/*
 * virtio_blk.c - virtio block device (virtio 1.2, 5.2) on a raw image:
 * READ, WRITE, FLUSH, GET_ID, DISCARD, WRITE_ZEROES, through the io_uring
 * backend (backend/blk.c) from the device's worker thread.
 *
 *   --disk path=FILE[,ro][,serial=S][,cache=none|writeback]
 *
 * Every request is parsed from the chain the virtqueue hands over: the
 * 16-byte header is copied out of guest memory once, the status byte is
 * the last device-writable byte, the data lies between; lengths, sector
 * ranges and directions are checked before anything is submitted.  A
 * request that breaks the rules fails with VIRTIO_BLK_S_IOERR (or UNSUPP);
 * a chain with no room for a status byte cannot be answered at all, so the
 * device asks for a reset.  FLUSH completes only after fdatasync returned.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "backend/blk.h"
#include "err.h"
#include "virtio/virtio_pci.h"

#define VBLK_QUEUE_SIZE		256
#define VBLK_SEG_MAX		(VBLK_QUEUE_SIZE - 2)
#define VBLK_SERIAL_LEN		20

/* feature bits (5.2.3) */
#define VIRTIO_BLK_F_SEG_MAX		2
#define VIRTIO_BLK_F_RO			5
#define VIRTIO_BLK_F_BLK_SIZE		6
#define VIRTIO_BLK_F_FLUSH		9
#define VIRTIO_BLK_F_DISCARD		13
#define VIRTIO_BLK_F_WRITE_ZEROES	14

/* request types and status (5.2.6) */
#define VIRTIO_BLK_T_IN			0
#define VIRTIO_BLK_T_OUT		1
#define VIRTIO_BLK_T_FLUSH		4
#define VIRTIO_BLK_T_GET_ID		8
#define VIRTIO_BLK_T_DISCARD		11
#define VIRTIO_BLK_T_WRITE_ZEROES	13
#define VIRTIO_BLK_S_OK			0
#define VIRTIO_BLK_S_IOERR		1
#define VIRTIO_BLK_S_UNSUPP		2

struct vblk_cfg {		/* the device configuration layout (5.2.4) */
	uint64_t capacity;
	uint32_t size_max, seg_max;
	uint16_t cylinders;
	uint8_t heads, sectors;
	uint32_t blk_size;
	uint8_t physical_block_exp, alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	uint8_t writeback, unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors, max_discard_seg, discard_sector_alignment;
	uint32_t max_write_zeroes_sectors, max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap, unused1[3];
} __attribute__((packed));

struct vblk {
	struct blk *blk;
	struct vblk_cfg cfg;
	char serial[VBLK_SERIAL_LEN];
	struct virtio_ops ops;
	struct vq_chain chain;		/* the worker's */
	unsigned inflight;
};

/* One request in flight. */
struct vblk_req {
	struct blk_req br;
	struct virtio_dev *vd;
	uint16_t head;
	uint8_t *status;
	uint32_t written;		/* bytes the guest gets back (data + status) */
	uint64_t len;			/* READ/WRITE: bytes to transfer */
	int niov;
	struct iovec iov[];
};

/* Copy bytes [off, off+len) of an iovec list (chain order) into dst. */
static bool iov_copy_out(const struct iovec *iov, unsigned n, size_t off, void *dst, size_t len)
{
	for (unsigned i = 0; i < n && len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t k = iov[i].iov_len - off < len ? iov[i].iov_len - off : len;
		memcpy(dst, (char *)iov[i].iov_base + off, k);
		dst = (char *)dst + k;
		len -= k;
		off = 0;
	}
	return len == 0;
}

/* The sub-list of iov covering bytes [off, off+len): into out (room n). */
static int iov_slice(const struct iovec *iov, unsigned n, size_t off, size_t len,
		     struct iovec *out)
{
	int k = 0;

	for (unsigned i = 0; i < n && len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t take = iov[i].iov_len - off < len ? iov[i].iov_len - off : len;
		out[k].iov_base = (char *)iov[i].iov_base + off;
		out[k].iov_len = take;
		k++;
		len -= take;
		off = 0;
	}
	return len ? -1 : k;
}

static void vblk_complete(struct virtio_dev *vd, struct vblk_req *r, uint8_t status)
{
	struct vblk *b = vd->priv;

	*r->status = status;		/* the last byte the guest gave us */
	vq_push(&vd->q[0].vq, r->head, r->written);
	b->inflight--;
	free(r);
}

/* Backend completion (worker thread, vd->lock held). */
static void vblk_done(struct blk_req *br, int res)
{
	struct vblk_req *r = (struct vblk_req *)br;
	bool rw = br->op == BLK_READ || br->op == BLK_WRITE;
	bool ok = res >= 0 && (!rw || (uint64_t)res == r->len);	/* short = error */

	if (br->op == BLK_READ && res < 0)
		r->written = 1;		/* only the status is meaningful */
	vblk_complete(r->vd, r, ok ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR);
}

/* Parse and start one request; answers it at once if it cannot go on. */
static void vblk_request(struct virtio_dev *vd, struct vq_chain *c)
{
	struct vblk *b = vd->priv;
	struct iovec *out = vq_chain_out(c), *in = vq_chain_in(c);
	struct {
		uint32_t type, reserved;
		uint64_t sector;
	} hdr;
	struct vblk_req *r;
	uint8_t status = VIRTIO_BLK_S_IOERR;
	uint64_t cap = b->cfg.capacity, len;
	int n;

	if (c->in_len < 1 || !iov_copy_out(out, c->nout, 0, &hdr, sizeof(hdr))) {
		/* no header or no status byte: nothing can be answered */
		vq_push(&vd->q[0].vq, c->head, 0);
		virtio_needs_reset(vd, "virtio-blk request without header or status byte");
		return;
	}
	r = calloc(1, sizeof(*r) + (c->nout + c->nin) * sizeof(struct iovec));
	if (!r) {
		vq_push(&vd->q[0].vq, c->head, 0);
		return;
	}
	r->vd = vd;
	r->head = c->head;
	r->written = 1;
	{	/* the status byte: last byte of the last writable buffer */
		struct iovec *last = &in[c->nin - 1];
		r->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	}
	r->br.done = vblk_done;
	b->inflight++;

	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT: {
		bool rd = hdr.type == VIRTIO_BLK_T_IN;

		len = rd ? c->in_len - 1 : c->out_len - sizeof(hdr);
		if ((rd && c->out_len != sizeof(hdr)) || (!rd && c->in_len != 1) ||
		    len % BLK_SECTOR || hdr.sector > cap || len / BLK_SECTOR > cap - hdr.sector)
			break;		/* IOERR: wrong shape or out of range */
		n = rd ? iov_slice(in, c->nin, 0, len, r->iov)
		       : iov_slice(out, c->nout, sizeof(hdr), len, r->iov);
		if (n < 0)
			break;
		r->niov = n;
		r->br.op = rd ? BLK_READ : BLK_WRITE;
		r->br.offset = hdr.sector * BLK_SECTOR;
		r->br.iov = r->iov;
		r->br.iovcnt = n;
		r->written = rd ? (uint32_t)len + 1 : 1;
		r->len = len;
		if (blk_submit(b->blk, &r->br) == 0)
			return;
		r->written = 1;
		break;
	}
	case VIRTIO_BLK_T_FLUSH:
		if (!virtio_has_feature(vd, VIRTIO_BLK_F_FLUSH)) {
			status = VIRTIO_BLK_S_UNSUPP;
			break;
		}
		r->br.op = BLK_FLUSH;
		if (blk_submit(b->blk, &r->br) == 0)
			return;
		break;
	case VIRTIO_BLK_T_GET_ID: {
		size_t room = c->in_len - 1 < VBLK_SERIAL_LEN ? c->in_len - 1 : VBLK_SERIAL_LEN;
		struct iovec dst[VQ_MAX_SEGS];

		n = iov_slice(in, c->nin, 0, room, dst);
		for (size_t done = 0, i = 0; n > 0 && i < (size_t)n; done += dst[i].iov_len, i++)
			memcpy(dst[i].iov_base, b->serial + done, dst[i].iov_len);
		r->written = (uint32_t)room + 1;
		status = VIRTIO_BLK_S_OK;
		break;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES: {
		struct { uint64_t sector; uint32_t num, flags; } seg;
		bool wz = hdr.type == VIRTIO_BLK_T_WRITE_ZEROES;

		if (!virtio_has_feature(vd, wz ? VIRTIO_BLK_F_WRITE_ZEROES : VIRTIO_BLK_F_DISCARD)) {
			status = VIRTIO_BLK_S_UNSUPP;
			break;
		}
		/* exactly one segment (max_*_seg = 1), copied out once */
		if (c->out_len != sizeof(hdr) + sizeof(seg) ||
		    !iov_copy_out(out, c->nout, sizeof(hdr), &seg, sizeof(seg)))
			break;
		if (seg.num == 0 || seg.sector > cap || seg.num > cap - seg.sector ||
		    seg.num > (wz ? b->cfg.max_write_zeroes_sectors : b->cfg.max_discard_sectors) ||
		    (!wz && seg.flags) || (wz && (seg.flags & ~1u))) {
			if (!wz && seg.flags)
				status = VIRTIO_BLK_S_UNSUPP;
			break;
		}
		r->br.op = wz ? BLK_WRITE_ZEROES : BLK_DISCARD;
		r->br.offset = seg.sector * BLK_SECTOR;
		r->br.len = (uint64_t)seg.num * BLK_SECTOR;
		if (blk_submit(b->blk, &r->br) == 0)
			return;
		break;
	}
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
	vblk_complete(vd, r, status);
}

/* Worker thread, vd->lock held: take every new request, submit as a batch. */
static void vblk_queue_notify(struct virtio_dev *vd, unsigned qi)
{
	struct vblk *b = vd->priv;
	struct vq *q = &vd->q[qi].vq;
	int r;

	while ((r = vq_pop(q, &b->chain)) == 1)
		vblk_request(vd, &b->chain);
	if (r < 0)
		virtio_needs_reset(vd, err_msg());
	blk_kick(b->blk);
	virtio_queue_interrupt(vd, qi);
}

/* Disk completions (worker thread, vd->lock held). */
static void vblk_reap(struct virtio_dev *vd, void *arg)
{
	struct vblk *b = arg;

	if (blk_reap(b->blk) > 0)
		virtio_queue_interrupt(vd, 0);
}

static void vblk_config_read(struct virtio_dev *vd, unsigned off, unsigned size, uint64_t *val)
{
	struct vblk *b = vd->priv;

	*val = 0;
	if (off + size <= sizeof(b->cfg))
		memcpy(val, (uint8_t *)&b->cfg + off, size);
}

static void vblk_reset(struct virtio_dev *vd)
{
	/* in-flight requests complete into rings the driver has abandoned;
	 * their pushes fail harmlessly on the reset queue */
}

static int vblk_parse_opts(const char *opts, struct blk_opts *o, char *serial)
{
	char *copy = strdup(opts ? opts : ""), *save = NULL, *tok;
	int r = 0;

	if (!copy)
		return err_set(-ENOMEM, "out of memory");
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strncmp(tok, "path=", 5) && tok[5]) {
			o->path = strdup(tok + 5);
		} else if (!strcmp(tok, "ro")) {
			o->readonly = true;
		} else if (!strncmp(tok, "serial=", 7)) {
			if (strlen(tok + 7) > VBLK_SERIAL_LEN) {
				r = err_set(-EINVAL, "--disk: serial '%s' is longer than %d characters",
					    tok + 7, VBLK_SERIAL_LEN);
				break;
			}
			strncpy(serial, tok + 7, VBLK_SERIAL_LEN);
		} else if (!strcmp(tok, "cache=none")) {
			o->direct = true;
		} else if (!strcmp(tok, "cache=writeback")) {
			o->direct = false;
		} else {
			r = err_set(-EINVAL, "--disk: unknown option '%s' (path=FILE, ro, serial=S, cache=none|writeback)",
				    tok);
			break;
		}
	}
	free(copy);
	if (r == 0 && !o->path)
		r = err_set(-EINVAL, "--disk: no path=FILE given");
	return r;
}

static int vblk_init(struct pci_dev *dev, const char *opts)
{
	struct vblk *b = calloc(1, sizeof(*b));
	struct blk_opts o = { 0 };
	int r;

	if (!b)
		return err_set(-ENOMEM, "out of memory");
	if ((r = vblk_parse_opts(opts, &o, b->serial)) < 0 ||
	    (r = blk_open(&b->blk, &o)) < 0) {
		free((char *)o.path);
		free(b);
		return r;
	}
	free((char *)o.path);
	b->cfg.capacity = blk_size(b->blk) / BLK_SECTOR;
	b->cfg.seg_max = VBLK_SEG_MAX;
	b->cfg.blk_size = BLK_SECTOR;
	b->cfg.num_queues = 1;
	b->cfg.max_discard_sectors = b->cfg.max_write_zeroes_sectors = 1u << 22;
	b->cfg.max_discard_seg = b->cfg.max_write_zeroes_seg = 1;
	b->cfg.discard_sector_alignment = 8;	/* 4 KiB */
	b->cfg.write_zeroes_may_unmap = 1;
	b->ops = (struct virtio_ops){
		.name = "virtio-blk",
		.device_id = VIRTIO_ID_BLOCK,
		.pci_class = 0x018000,
		.nqueues = 1,
		.queue_max = VBLK_QUEUE_SIZE,
		.features = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
			    (1ULL << VIRTIO_BLK_F_FLUSH) |
			    (o.readonly ? 1ULL << VIRTIO_BLK_F_RO :
			     (1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES)),
		.config_size = sizeof(struct vblk_cfg),
		.config_read = vblk_config_read,
		.queue_notify = vblk_queue_notify,
		.reset = vblk_reset,
	};
	if ((r = virtio_pci_init(dev, &b->ops, b)) < 0) {
		blk_close(b->blk);
		free(b);
		return r;
	}
	if (blk_event_fd(b->blk) >= 0 &&
	    (r = virtio_worker_watch(virtio_dev_of(dev), blk_event_fd(b->blk), vblk_reap, b)) < 0)
		return r;	/* fini cleans up */
	return 0;
}

static void vblk_fini(struct pci_dev *dev)
{
	struct virtio_dev *vd = virtio_dev_of(dev);
	struct vblk *b = vd ? vd->priv : NULL;

	virtio_pci_stop(dev);		/* no more worker activity */
	if (b)
		blk_close(b->blk);	/* completes what is in flight */
	virtio_pci_fini(dev);
	free(b);
}

static const struct pci_devtype vblk_type = {
	.name = "virtio-blk",
	.init = vblk_init,
	.fini = vblk_fini,
	.cfg_read = virtio_pci_cfg_read,
	.cfg_write = virtio_pci_cfg_write,
	.bar_read = virtio_pci_bar_read,
	.bar_write = virtio_pci_bar_write,
	.bar_mapped = virtio_pci_bar_mapped,
};
PCI_DEVTYPE(vblk_type);
