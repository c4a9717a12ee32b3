/*
 * virtqueue.c - device side of a split virtqueue (see virtqueue.h and
 * docs/virtqueue.md for the rules enforced on the driver).
 *
 * Guest memory layout (virtio 1.2, 2.7), all little-endian:
 *   desc:  struct { le64 addr; le32 len; le16 flags; le16 next; } [size]
 *   avail: le16 flags; le16 idx; le16 ring[size]; le16 used_event;
 *   used:  le16 flags; le16 idx; struct { le32 id; le32 len; } ring[size];
 *          le16 avail_event;
 */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include "err.h"
#include "mem.h"
#include "virtio/virtqueue.h"

#define DESC_SIZE	16

/* A descriptor as copied out of guest memory, host byte order. */
struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* Marks the queue broken and records why; returns code. */
#define MALFORMED(q, code, ...) \
	((q)->broken = true, err_set((code), "virtqueue: " __VA_ARGS__))

/*
 * 16-bit ring fields: one atomic load each, so the value checked is the
 * value used (the driver can change it at any moment).  The areas were
 * checked for alignment at enable time.
 */
static inline uint16_t ld16(const uint8_t *p, int order)
{
	return le16toh(__atomic_load_n((const uint16_t *)p, order));
}

static inline void st16(uint8_t *p, uint16_t v, int order)
{
	__atomic_store_n((uint16_t *)p, htole16(v), order);
}

static inline void st32(uint8_t *p, uint32_t v, int order)
{
	__atomic_store_n((uint32_t *)p, htole32(v), order);
}

/*
 * Copy one descriptor out of guest memory.  Indirect tables need no
 * alignment (2.7.5.3), hence memcpy; the compiler barrier after it stops the
 * compiler from re-reading guest memory in place of the copy (double fetch).
 */
static void read_desc(struct desc *d, const uint8_t *p)
{
	struct desc raw;

	memcpy(&raw, p, sizeof(raw));
	__asm__ __volatile__("" ::: "memory");
	d->addr = le64toh(raw.addr);
	d->len = le32toh(raw.len);
	d->flags = le16toh(raw.flags);
	d->next = le16toh(raw.next);
}

_Static_assert(sizeof(struct desc) == DESC_SIZE, "virtq_desc is 16 bytes");

void vq_reset(struct vq *q)
{
	*q = (struct vq){ 0 };
}

int vq_enable(struct vq *q, const struct guest_mem *mem, uint16_t size, uint64_t desc,
	      uint64_t avail, uint64_t used, bool event_idx, bool indirect)
{
	uint8_t *d, *a, *u;

	vq_reset(q);
	if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
		return err_set(-EINVAL, "virtqueue: size %u is not a power "
			       "of 2 in 1..%u", size, VIRTQ_MAX_SIZE);
	if (desc % 16 || avail % 2 || used % 4)
		return err_set(-EINVAL, "virtqueue: misaligned areas: desc "
			       "%#llx (16), avail %#llx (2), used %#llx (4)",
			       (unsigned long long)desc,
			       (unsigned long long)avail,
			       (unsigned long long)used);
	/* Sizes include used_event / avail_event whether negotiated or not. */
	d = mem_gpa(mem, desc, (uint64_t)DESC_SIZE * size);
	a = mem_gpa(mem, avail, 6 + 2ULL * size);
	u = mem_gpa(mem, used, 6 + 8ULL * size);
	if (!d || !a || !u)
		return err_set(-EINVAL, "virtqueue: %s area at %#llx (size %u) "
			       "is not in guest RAM",
			       !d ? "descriptor" : !a ? "driver" : "device",
			       (unsigned long long)(!d ? desc : !a ? avail : used),
			       size);

	q->mem = mem;
	q->size = size;
	q->desc_gpa = desc;
	q->avail_gpa = avail;
	q->used_gpa = used;
	q->event_idx = event_idx;
	q->indirect = indirect;
	q->desc = d;
	q->avail = a;
	q->used = u;
	/*
	 * The used ring is the device's: start it from a known state.  flags 0
	 * (we never ask the driver not to notify), avail_event 0 (notify on
	 * the first buffer).
	 */
	st16(u, 0, __ATOMIC_RELAXED);
	if (event_idx)
		st16(u + 4 + 8 * (size_t)size, 0, __ATOMIC_RELAXED);
	st16(u + 2, 0, __ATOMIC_RELEASE);
	q->enabled = true;
	return 0;
}

/*
 * Read avail->idx (acquire: ring entries and descriptors are read after it)
 * and check it.  The driver can only offer chains whose head descriptors are
 * free, so chains available plus chains in flight (popped, not pushed) never
 * exceed size; more means the index jumped or went backwards.  That bound
 * also caps the chains a device can have in flight.  Returns the number of
 * chains available, or -EINVAL.
 */
static int refresh_avail(struct vq *q)
{
	uint16_t idx = ld16(q->avail + 2, __ATOMIC_ACQUIRE);
	uint16_t n = idx - q->last_avail;
	uint16_t inflight = q->last_avail - q->used_idx;

	if (n > q->size - inflight)
		return MALFORMED(q, -EINVAL, "avail idx moved from %u to %u "
				 "with %u chains in flight (queue size %u)",
				 q->avail_idx, idx, inflight, q->size);
	q->avail_idx = idx;
	return n;
}

/* Append d's buffer to the chain. */
static int add_buf(struct vq *q, struct vq_chain *c, const struct desc *d)
{
	bool w = d->flags & VIRTQ_DESC_F_WRITE;
	unsigned n = c->nout + c->nin;
	void *p;

	/* 2.7.4.2: device-readable buffers first, then device-writable. */
	if (!w && c->nin)
		return MALFORMED(q, -EINVAL, "chain at head %u: readable "
				 "buffer after a writable one", c->head);
	/* As QEMU: no driver makes them, and every iov entry stays real. */
	if (d->len == 0)
		return MALFORMED(q, -EINVAL, "chain at head %u: zero-length "
				 "buffer", c->head);
	if (n == VQ_MAX_SEGS)
		return MALFORMED(q, -E2BIG, "chain at head %u: more than %u "
				 "buffers", c->head, VQ_MAX_SEGS);
	/* 2.7.5.2: at most 2^32 - 1 bytes, so used len can describe it. */
	if ((uint64_t)c->out_len + c->in_len + d->len > UINT32_MAX)
		return MALFORMED(q, -EINVAL, "chain at head %u: longer than "
				 "4 GiB", c->head);
	p = mem_gpa(q->mem, d->addr, d->len);
	if (!p)
		return MALFORMED(q, -EINVAL, "chain at head %u: buffer %#llx "
				 "len %u is not in guest RAM", c->head,
				 (unsigned long long)d->addr, d->len);
	c->iov[n].iov_base = p;
	c->iov[n].iov_len = d->len;
	if (w) {
		c->nin++;
		c->in_len += d->len;
	} else {
		c->nout++;
		c->out_len += d->len;
	}
	return 0;
}

/*
 * Walk the chain at head.  Bounds: at most size descriptors in the
 * descriptor table, at most the table's entry count in an indirect table
 * (both also stop loops), at most VQ_MAX_SEGS buffers in all.
 */
static int walk(struct vq *q, struct vq_chain *c, uint16_t head)
{
	const uint8_t *table = q->desc;
	uint32_t count = q->size, left = q->size, i = head;
	bool in_table = false;

	c->head = head;
	c->nout = c->nin = 0;
	c->out_len = c->in_len = 0;
	for (;;) {
		struct desc d;
		int r;

		if (left == 0)
			return MALFORMED(q, -EINVAL, "chain at head %u: more "
					 "than %u descriptors in %s (a loop?)",
					 head, count, in_table ?
					 "its indirect table" : "the queue");
		left--;
		read_desc(&d, table + (size_t)DESC_SIZE * i);

		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			/* 2.7.5.3.1; its WRITE flag is ignored (2.7.5.3.2). */
			if (!q->indirect)
				return MALFORMED(q, -EINVAL, "chain at head "
						 "%u: indirect descriptor, not "
						 "negotiated", head);
			if (in_table)
				return MALFORMED(q, -EINVAL, "chain at head "
						 "%u: indirect table inside an "
						 "indirect table", head);
			if (d.flags & VIRTQ_DESC_F_NEXT)
				return MALFORMED(q, -EINVAL, "chain at head "
						 "%u: indirect descriptor with "
						 "NEXT", head);
			if (d.len == 0 || d.len % DESC_SIZE ||
			    d.len / DESC_SIZE > VQ_MAX_INDIRECT)
				return MALFORMED(q, -EINVAL, "chain at head "
						 "%u: indirect table length %u",
						 head, d.len);
			table = mem_gpa(q->mem, d.addr, d.len);
			if (!table)
				return MALFORMED(q, -EINVAL, "chain at head "
						 "%u: indirect table %#llx len "
						 "%u is not in guest RAM", head,
						 (unsigned long long)d.addr,
						 d.len);
			count = left = d.len / DESC_SIZE;
			i = 0;
			in_table = true;
			continue;
		}

		r = add_buf(q, c, &d);
		if (r < 0)
			return r;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= count)
			return MALFORMED(q, -EINVAL, "chain at head %u: next %u "
					 "out of %s of %u", head, d.next,
					 in_table ? "indirect table" : "queue",
					 count);
		i = d.next;
	}
}

int vq_pop(struct vq *q, struct vq_chain *c)
{
	uint16_t head;
	int r;

	if (!q->enabled)
		return 0;
	if (q->broken)
		return -EINVAL;
	if (q->last_avail == q->avail_idx) {
		r = refresh_avail(q);
		if (r == 0 && q->event_idx) {
			/*
			 * Ask for a notification on the next buffer, then look
			 * again: the driver may have added one before it could
			 * see avail_event (full barrier: store, then load).
			 */
			st16(q->used + 4 + 8 * (size_t)q->size, q->last_avail,
			     __ATOMIC_RELAXED);
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			r = refresh_avail(q);
		}
		if (r <= 0)
			return r;
	}
	head = ld16(q->avail + 4 + 2 * (size_t)(q->last_avail & (q->size - 1)),
		    __ATOMIC_RELAXED);
	if (head >= q->size)
		return MALFORMED(q, -EINVAL, "avail ring entry %u: head %u >= "
				 "queue size %u", q->last_avail, head, q->size);
	r = walk(q, c, head);
	if (r < 0)
		return r;
	q->last_avail++;
	return 1;
}

int vq_push(struct vq *q, uint16_t head, uint32_t written)
{
	uint8_t *elem;

	if (!q->enabled || head >= q->size || q->used_idx == q->last_avail)
		return -EINVAL;
	elem = q->used + 4 + 8 * (size_t)(q->used_idx & (q->size - 1));
	st32(elem, head, __ATOMIC_RELAXED);
	st32(elem + 4, written, __ATOMIC_RELAXED);
	q->used_idx++;
	/* Release: the element is visible before the index that exposes it. */
	st16(q->used + 2, q->used_idx, __ATOMIC_RELEASE);
	return 0;
}

bool vq_should_notify(struct vq *q)
{
	uint16_t old = q->signalled_used, cur = q->used_idx;

	if (!q->enabled)
		return false;
	q->signalled_used = cur;
	/*
	 * Our used->idx store must be visible before we read the driver's
	 * suppression field, as the driver orders its own; else each side can
	 * miss the other's update and the driver sleeps on a used buffer.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->event_idx)
		return vring_need_event(ld16(q->avail + 4 + 2 * (size_t)q->size,
					     __ATOMIC_RELAXED), cur, old);
	return cur != old &&
	       !(ld16(q->avail, __ATOMIC_RELAXED) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}
