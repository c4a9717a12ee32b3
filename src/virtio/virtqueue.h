/*
 * virtqueue.h - the device side of a split virtqueue (virtio 1.2, 2.7):
 * pop the next available descriptor chain as a list of host buffers, push a
 * used element, decide whether the driver wants an interrupt.
 *
 * Everything in guest memory is hostile: every ring index, ring entry and
 * descriptor is read once into a local before it is checked, every buffer
 * goes through mem_gpa(), chains are bounded, and a malformed chain marks the
 * queue broken instead of being guessed at (docs/virtqueue.md lists the
 * rules).
 *
 * Threading: one thread (the device's worker) calls vq_pop / vq_push /
 * vq_should_notify on a queue.  vq_enable and vq_reset are called while that
 * thread leaves the queue alone (the transport, at DRIVER_OK or queue enable,
 * and at device reset).
 */
#ifndef HYVE_VIRTQUEUE_H
#define HYVE_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include "virtio/virtio.h"

struct guest_mem;

/*
 * Most buffers (descriptors that are not indirect) one chain may have: the
 * device's "reasonable limit of descriptors it will allow in a chain" (2.7.4)
 * and IOV_MAX, so a chain can go to preadv/pwritev in one call.  Devices
 * advertise limits below it (virtio-blk seg_max <= queue size - 2).
 */
#define VQ_MAX_SEGS	1024
/*
 * Most entries an indirect table may have: next is 16 bits, so entries past
 * 65535 are unreachable and such a table is nonsense.
 */
#define VQ_MAX_INDIRECT	65536

struct vq {
	/* Configuration: set by vq_enable, frozen until vq_reset. */
	const struct guest_mem *mem;
	uint16_t size;			/* power of 2, 1..32768 */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool event_idx;			/* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;			/* VIRTIO_F_INDIRECT_DESC negotiated */
	bool enabled;

	/* Device state (the worker's). */
	uint16_t last_avail;		/* next avail ring entry to pop */
	uint16_t avail_idx;		/* avail->idx as last read and checked */
	uint16_t used_idx;		/* next used ring entry; == used->idx */
	uint16_t signalled_used;	/* used_idx at the last vq_should_notify */
	bool broken;			/* a malformed chain or avail idx was seen */

	/* Host pointers into guest RAM, resolved and checked once. */
	uint8_t *desc;			/* 16 * size bytes */
	uint8_t *avail;			/* 6 + 2 * size bytes (with used_event) */
	uint8_t *used;			/* 6 + 8 * size bytes (with avail_event) */
};

/*
 * One descriptor chain: iov[0 .. nout) are the device-readable buffers,
 * iov[nout .. nout + nin) the device-writable ones, each in chain order,
 * each non-empty and wholly inside guest RAM.  The bytes stay guest memory:
 * the driver may change them while the device looks, so a device copies a
 * header out once before it checks it.
 */
struct vq_chain {
	uint16_t head;			/* what vq_push gives back */
	unsigned nout, nin;
	uint32_t out_len, in_len;	/* byte totals; their sum fits 32 bits */
	struct iovec iov[VQ_MAX_SEGS];
};

static inline struct iovec *vq_chain_out(struct vq_chain *c)
{
	return c->iov;
}

static inline struct iovec *vq_chain_in(struct vq_chain *c)
{
	return c->iov + c->nout;
}

/*
 * Check and resolve a queue the driver set up: size a power of 2 in
 * 1..32768, desc 16-aligned, avail 2-aligned, used 4-aligned, and each area
 * (with used_event / avail_event) inside one guest RAM region.  Resets the
 * device state, writes 0 to used->flags, used->idx (and avail_event).
 * 0, or -EINVAL (err_set says why; the queue stays disabled).
 */
int vq_enable(struct vq *q, const struct guest_mem *mem, uint16_t size, uint64_t desc,
	      uint64_t avail, uint64_t used, bool event_idx, bool indirect);

/* Forget everything: disabled, not broken, indexes 0 (device reset). */
void vq_reset(struct vq *q);

/*
 * Take the next available chain into *c.
 *   1        got one: use it, then vq_push(q, c->head, bytes written)
 *   0        none available (or the queue is not enabled); with EVENT_IDX,
 *            avail_event was published first, so the driver will notify
 *            the device of the next buffer: safe to sleep until then
 *   -EINVAL  malformed avail ring or chain, -E2BIG more than VQ_MAX_SEGS
 *            buffers: q->broken is set (err_set says why), nothing was
 *            consumed, every later call fails too.  The device sets
 *            DEVICE_NEEDS_RESET, notifies a configuration change and stops
 *            processing this queue until the driver resets the device.
 */
int vq_pop(struct vq *q, struct vq_chain *c);

/*
 * Return a chain: used element (head, written), then used->idx (release).
 * written is the number of bytes written into the device-writable buffers,
 * from the first one (2.7.8).  Any order of chains is allowed.  -EINVAL if
 * the queue is not enabled, head >= size, or no chain is in flight (a device
 * bug; nothing is written).
 */
int vq_push(struct vq *q, uint16_t head, uint32_t written);

/*
 * After a batch of vq_push: does the driver want a used-buffer notification
 * for the entries pushed since the last call?  EVENT_IDX: vring_need_event
 * on used_event; else the avail ring's NO_INTERRUPT flag.  Full barrier
 * between the used->idx store and the read of the driver's field.  Call it
 * at least once per 65535 pushes.
 */
bool vq_should_notify(struct vq *q);

/*
 * EVENT_IDX (2.7.7.2): notify iff event_idx lies in [old, new), i.e. the
 * driver asked to be told when entry event_idx was written; all mod 2^16.
 */
static inline bool vring_need_event(uint16_t event_idx, uint16_t new_idx,
				    uint16_t old_idx)
{
	return (uint16_t)(new_idx - event_idx - 1) <
	       (uint16_t)(new_idx - old_idx);
}

#endif
