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
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "backend/blk.h"
#include "err.h"
#include "lock.h"
#include "dev/virtio_blk.h"
#include "virtio/virtio_pci.h"
#include "virtio/iov.h"

#define VBLK_QUEUE_SIZE		256
#define VBLK_SEG_MAX		(VBLK_QUEUE_SIZE - 2)

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
	bool resetting;			/* completions are dropped, not answered */
};

/* One request in flight. */
struct vblk_req {
	struct blk_req br;		/* first: the completion finds us by it */
	struct virtio_dev *vd;
	uint16_t head;
	struct vblk_parsed p;		/* last: ends in the iovec array */
};

static void vblk_complete(struct virtio_dev *vd, struct vblk_req *r, uint8_t status)
{
	struct vblk *b = vd->priv;

	if (!b->resetting) {	/* a reset drops the answer: the ring is gone */
		*r->p.status_byte = status;	/* the last byte the guest gave us */
		vq_push(&vd->q[0].vq, r->head, r->p.written);
	}
	b->inflight--;
	free(r);
}

/* Backend completion (worker thread, vd->lock held). */
static void vblk_done(struct blk_req *br, int res)
{
	struct vblk_req *r = (struct vblk_req *)br;
	bool rw = br->op == BLK_READ || br->op == BLK_WRITE;
	bool ok = res >= 0 && (!rw || (uint64_t)res == r->p.len);	/* short = error */

	if (!ok)
		r->p.written = 1;	/* only the status is meaningful */
	vblk_complete(r->vd, r, ok ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR);
}

/*
 * Parse one chain into a request (pure: no I/O, no device state; fuzzed by
 * tests/fuzz/fuzz_vblk_parse.c).  Returns 0 and fills *p, with p->status
 * < 0 when the request is to be submitted (p->op, offset, len, iov) or the
 * status to answer at once; -EINVAL when the chain has no header or no
 * status byte and cannot be answered at all.  p->iov must have room for
 * c->nout + c->nin entries.
 */
int vblk_parse(const struct vq_chain *c, uint64_t capacity, uint64_t features,
	       uint32_t max_zero_sectors, struct vblk_parsed *p)
{
	const struct iovec *out = c->iov, *in = c->iov + c->nout;
	struct {
		uint32_t type, reserved;
		uint64_t sector;
	} hdr;
	int n;

	memset(p, 0, offsetof(struct vblk_parsed, iov));
	p->status = VIRTIO_BLK_S_IOERR;
	if (c->nin < 1 || c->in_len < 1 || !iov_copy_out(out, c->nout, 0, &hdr, sizeof(hdr)))
		return -EINVAL;		/* nothing can be answered */
	{	/* the status byte: the last byte of the last writable buffer */
		const struct iovec *last = &in[c->nin - 1];
		p->status_byte = (uint8_t *)last->iov_base + last->iov_len - 1;
	}
	p->written = 1;
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT: {
		bool rd = hdr.type == VIRTIO_BLK_T_IN;
		uint64_t len = rd ? c->in_len - 1 : c->out_len - sizeof(hdr);

		if ((rd && c->out_len != sizeof(hdr)) || (!rd && c->in_len != 1) ||
		    len % BLK_SECTOR || hdr.sector > capacity || len / BLK_SECTOR > capacity - hdr.sector)
			return 0;	/* IOERR: wrong shape or out of range */
		n = rd ? iov_slice(in, c->nin, 0, len, p->iov)
		       : iov_slice(out, c->nout, sizeof(hdr), len, p->iov);
		if (n < 0)
			return 0;
		p->op = rd ? BLK_READ : BLK_WRITE;
		p->offset = hdr.sector * BLK_SECTOR;
		p->len = len;
		p->niov = n;
		p->written = rd ? (uint32_t)len + 1 : 1;
		p->status = -1;
		return 0;
	}
	case VIRTIO_BLK_T_FLUSH:
		if (!(features & (1ULL << VIRTIO_BLK_F_FLUSH))) {
			p->status = VIRTIO_BLK_S_UNSUPP;
			return 0;
		}
		p->op = BLK_FLUSH;
		p->status = -1;
		return 0;
	case VIRTIO_BLK_T_GET_ID: {
		size_t room = c->in_len - 1 < VBLK_SERIAL_LEN ? c->in_len - 1 : VBLK_SERIAL_LEN;

		n = iov_slice(in, c->nin, 0, room, p->iov);
		p->niov = n < 0 ? 0 : n;
		p->len = n < 0 ? 0 : room;
		p->get_id = true;
		p->written = (uint32_t)p->len + 1;
		p->status = VIRTIO_BLK_S_OK;
		return 0;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES: {
		struct { uint64_t sector; uint32_t num, flags; } seg;
		bool wz = hdr.type == VIRTIO_BLK_T_WRITE_ZEROES;

		if (!(features & (1ULL << (wz ? VIRTIO_BLK_F_WRITE_ZEROES : VIRTIO_BLK_F_DISCARD)))) {
			p->status = VIRTIO_BLK_S_UNSUPP;
			return 0;
		}
		/* exactly one segment (max_*_seg = 1), copied out once */
		if (c->out_len != sizeof(hdr) + sizeof(seg) ||
		    !iov_copy_out(out, c->nout, sizeof(hdr), &seg, sizeof(seg)))
			return 0;
		if (!wz && seg.flags) {
			p->status = VIRTIO_BLK_S_UNSUPP;
			return 0;
		}
		if (seg.num == 0 || seg.sector > capacity || seg.num > capacity - seg.sector ||
		    seg.num > max_zero_sectors || (wz && (seg.flags & ~1u)))
			return 0;
		p->op = wz ? BLK_WRITE_ZEROES : BLK_DISCARD;
		p->offset = seg.sector * BLK_SECTOR;
		p->len = (uint64_t)seg.num * BLK_SECTOR;
		p->status = -1;
		return 0;
	}
	default:
		p->status = VIRTIO_BLK_S_UNSUPP;
		return 0;
	}
}

/* Parse and start one request; answers it at once if it cannot go on. */
static void vblk_request(struct virtio_dev *vd, struct vq_chain *c)
{
	struct vblk *b = vd->priv;
	struct vblk_req *r;

	r = calloc(1, sizeof(*r) + (c->nout + c->nin) * sizeof(struct iovec));
	if (!r) {
		vq_push(&vd->q[0].vq, c->head, 0);
		return;
	}
	if (vblk_parse(c, b->cfg.capacity, vd->drv_features, b->cfg.max_write_zeroes_sectors,
		       &r->p) < 0) {
		free(r);
		vq_push(&vd->q[0].vq, c->head, 0);
		virtio_needs_reset(vd, "virtio-blk request without header or status byte");
		return;
	}
	r->vd = vd;
	r->head = c->head;
	b->inflight++;
	if (r->p.get_id) {
		size_t done = 0;
		for (int i = 0; i < r->p.niov; done += r->p.iov[i].iov_len, i++)
			memcpy(r->p.iov[i].iov_base, b->serial + done, r->p.iov[i].iov_len);
	}
	if (r->p.status < 0) {
		r->br.op = r->p.op;
		r->br.offset = r->p.offset;
		r->br.len = r->p.len;
		r->br.iov = r->p.iov;
		r->br.iovcnt = r->p.niov;
		r->br.done = vblk_done;
		if (blk_submit(b->blk, &r->br) == 0)
			return;
		r->p.written = 1;
		r->p.status = VIRTIO_BLK_S_IOERR;
	}
	vblk_complete(vd, r, (uint8_t)r->p.status);
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

/*
 * Device reset (vd->lock held, the guest's status write): requests in
 * flight may still be reading into guest pages the driver will reuse, so
 * wait for every one of them here, before the write that asked for the
 * reset returns, and drop their answers.  After the guest sees status 0,
 * nothing of the old rings or buffers is touched again.
 */
static void vblk_reset(struct virtio_dev *vd)
{
	struct vblk *b = vd->priv;

	b->resetting = true;
	blk_drain(b->blk);
	b->resetting = false;
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

/*
 * A media change (PATCH /drives/{id} path_on_host, from the API thread):
 * the new file is opened and checked first, so a bad path leaves the disk
 * as it was; then, with the worker held off by vd->lock, the requests in
 * flight on the old file complete and are answered, the backend continues
 * on the new file, and the driver gets a configuration interrupt for the
 * new capacity (Linux: "new size" and a resize uevent), as Firecracker does.
 * The disk keeps its read-only and cache modes.
 */
static int vblk_update(struct pci_dev *dev, const char *opts)
{
	struct virtio_dev *vd = virtio_dev_of(dev);
	struct vblk *b = vd ? vd->priv : NULL;
	struct blk_medium m;
	int r;

	if (!b)
		return err_set(-ENODEV, "%s: not initialised", dev->name);
	if (!opts || strncmp(opts, "path=", 5) || !opts[5])
		return err_set(-EINVAL, "%s: only path=FILE can change while it runs", dev->name);
	if ((r = blk_medium_open(b->blk, opts + 5, &m)) < 0)
		return r;
	lock(&vd->lock, LOCK_VIRTIO);
	blk_medium_swap(b->blk, &m);
	b->cfg.capacity = blk_size(b->blk) / BLK_SECTOR;
	virtio_queue_interrupt(vd, 0);	/* the answers the drain delivered */
	virtio_config_changed(vd);
	unlock(&vd->lock, LOCK_VIRTIO);
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

VIRTIO_PCI_DEVTYPE(vblk_type, "virtio-blk", vblk_init, vblk_fini, .update = vblk_update);
