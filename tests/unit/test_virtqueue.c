/*
 * Unit tests for the split virtqueue (src/virtio/virtqueue.c): the test plays
 * the driver, laying out rings and descriptors in a fake guest RAM (a
 * malloc'd buffer between canary pages, made a region of a struct guest_mem
 * as in test_vm_gpa.c; the accessor is the real mem_gpa), and checks the device side's answers, above
 * all to malformed chains.
 */
#include "unit.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <time.h>
#include "err.h"
#include "mem.h"
#include "virtio/virtqueue.h"
#define TESTVIRTIO_NO_FIXTURE
#include "testvirtio.h"

#define RAM_GPA		0x100000ULL		/* one RAM region ... */
#define RAM_SIZE	0x200000ULL		/* ... of 2 MiB */
#define CANARY		4096			/* guard bytes either side */
#define CANARY_BYTE	0xA5
#define BIG_GPA		0x100000000ULL		/* a 4 GiB region, never touched: */
#define BIG_SIZE	0x100000000ULL		/* for lengths near 2^32 */

/* Where the driver puts things (guest-physical). */
#define DESC		(RAM_GPA + 0x0)		/* <= 512 KiB (size 32768) */
#define AVAIL		(RAM_GPA + 0x80000)	/* <= 64 KiB + 6 */
#define USED		(RAM_GPA + 0x98000)	/* <= 256 KiB + 6 */
#define TABLE		(RAM_GPA + 0xE0000)	/* indirect tables, <= 1 MiB + 16 */
#define DATA		(RAM_GPA + 0x1F0000)	/* buffers, 64 KiB */
#define RAM_END		(RAM_GPA + RAM_SIZE)

static struct env {
	uint8_t *buf, *ram;
	void *big;
	struct guest_mem mem;
	struct vq q;
	struct vq_chain *c;
	uint16_t size;
	uint16_t aidx;		/* the driver's avail idx */
} e;

static uint8_t *host(uint64_t gpa)
{
	assert_true(gpa >= RAM_GPA && gpa < RAM_END);
	return e.ram + (gpa - RAM_GPA);
}

static void wr16(uint64_t gpa, uint16_t v)
{
	memcpy(host(gpa), &v, 2);
}

static uint16_t rd16(uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, host(gpa), 2);
	return v;
}

static uint32_t rd32(uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, host(gpa), 4);
	return v;
}

/* Descriptor i of the table at gpa (the queue's or an indirect one). */
static void wdesc(uint64_t table, unsigned i, uint64_t addr, uint32_t len,
		  uint16_t flags, uint16_t next)
{
	vring_desc_put(host(table + 16ULL * i), addr, len, flags, next);
}

static void set_avail_idx(uint16_t v)
{
	e.aidx = v;
	wr16(AVAIL + 2, v);
}

/* Make the chain at head available, as a driver does. */
static void offer(uint16_t head)
{
	wr16(AVAIL + 4 + 2ULL * (e.aidx & (e.size - 1)), head);
	set_avail_idx(e.aidx + 1);
}

#define USED_EVENT	(AVAIL + 4 + 2ULL * e.size)
#define AVAIL_EVENT	(USED + 4 + 8ULL * e.size)

static int enable(uint16_t size, bool event_idx, bool indirect)
{
	e.size = size;
	e.aidx = 0;
	return vq_enable(&e.q, &e.mem, size, DESC, AVAIL, USED, event_idx,
			 indirect);
}

static int setup(void **state)
{
	e = (struct env){ 0 };
	e.buf = malloc(RAM_SIZE + 2 * CANARY);
	e.c = malloc(sizeof(*e.c));
	/* reserved, never mapped in: nothing may ever read it */
	e.big = mmap(NULL, BIG_SIZE, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_non_null(e.buf);
	assert_non_null(e.c);
	assert_true(e.big != MAP_FAILED);
	memset(e.buf, CANARY_BYTE, CANARY);
	memset(e.buf + CANARY + RAM_SIZE, CANARY_BYTE, CANARY);
	e.ram = e.buf + CANARY;
	memset(e.ram, 0, RAM_SIZE);
	e.mem.r[0] = (struct mem_region){ RAM_GPA, RAM_SIZE, e.ram };
	e.mem.r[1] = (struct mem_region){ BIG_GPA, BIG_SIZE, e.big };
	e.mem.n = 2;
	return 0;
}

static int teardown(void **state)
{
	/* nothing outside guest RAM was written */
	for (unsigned i = 0; i < CANARY; i++) {
		assert_int_equal(e.buf[i], CANARY_BYTE);
		assert_int_equal(e.buf[CANARY + RAM_SIZE + i], CANARY_BYTE);
	}
	free(e.buf);
	free(e.c);
	munmap(e.big, BIG_SIZE);
	return 0;
}

/*
 * The next pop must fail with code and mark the queue broken, without
 * writing the used ring or consuming anything; later pops fail too.
 */
static void expect_broken(int code)
{
	size_t n = 6 + 8ULL * e.size;
	uint8_t *snap = malloc(n);
	uint16_t last = e.q.last_avail;

	assert_non_null(snap);
	memcpy(snap, host(USED), n);
	err_clear();
	assert_int_equal(vq_pop(&e.q, e.c), code);
	assert_true(e.q.broken);
	assert_int_equal(e.q.last_avail, last);
	assert_true(strlen(err_msg()) > 0);
	assert_memory_equal(snap, host(USED), n);
	assert_int_equal(vq_pop(&e.q, e.c), -EINVAL);
	free(snap);
}

/* Offering the chain at head breaks the queue (expect_broken(-EINVAL)). */
static void offer_bad(uint16_t head)
{
	offer(head);
	expect_broken(-EINVAL);
}

/* A queue of size with indirect descriptors: descriptor 0 is a table of len bytes at addr. */
static void indirect_head(uint16_t size, uint64_t addr, uint32_t len)
{
	assert_int_equal(enable(size, false, true), 0);
	wdesc(DESC, 0, addr, len, VIRTQ_DESC_F_INDIRECT, 0);
}

/* A one-descriptor chain (queue of 4, no indirect) that breaks the queue. */
static void check_bad_desc(uint64_t addr, uint32_t len, uint16_t flags)
{
	assert_int_equal(enable(4, false, false), 0);
	wdesc(DESC, 0, addr, len, flags, 0);
	offer_bad(0);
}

/* The same for a chain of two: descriptor 0 (NEXT in flags0) then 1. */
static void check_bad_pair(uint64_t addr0, uint32_t len0, uint16_t flags0,
			   uint64_t addr1, uint32_t len1, uint16_t flags1)
{
	assert_int_equal(enable(4, false, false), 0);
	wdesc(DESC, 0, addr0, len0, flags0, 1);
	wdesc(DESC, 1, addr1, len1, flags1, 0);
	offer_bad(0);
}

static void test_simple(void **state)
{
	assert_int_equal(enable(8, false, false), 0);
	assert_int_equal(vq_pop(&e.q, e.c), 0);		/* nothing yet */

	wdesc(DESC, 3, DATA, 16, VIRTQ_DESC_F_NEXT, 5);
	wdesc(DESC, 5, DATA + 0x100, 1, VIRTQ_DESC_F_WRITE, 0);
	offer(3);
	assert_int_equal(vq_pop(&e.q, e.c), 1);
	assert_int_equal(e.c->head, 3);
	assert_int_equal(e.c->nout, 1);
	assert_int_equal(e.c->nin, 1);
	assert_int_equal(e.c->out_len, 16);
	assert_int_equal(e.c->in_len, 1);
	assert_ptr_equal(vq_chain_out(e.c)[0].iov_base, host(DATA));
	assert_int_equal(vq_chain_out(e.c)[0].iov_len, 16);
	assert_ptr_equal(vq_chain_in(e.c)[0].iov_base, host(DATA + 0x100));
	assert_int_equal(vq_chain_in(e.c)[0].iov_len, 1);
	assert_int_equal(vq_pop(&e.q, e.c), 0);

	assert_int_equal(vq_push(&e.q, 3, 1), 0);
	assert_int_equal(rd16(USED + 2), 1);
	assert_int_equal(rd32(USED + 4), 3);
	assert_int_equal(rd32(USED + 8), 1);
	assert_true(vq_should_notify(&e.q));
	assert_false(vq_should_notify(&e.q));		/* nothing new */
	assert_false(e.q.broken);
}

static void test_device_only_chains(void **state)
{
	/* only readable, only writable: both fine */
	assert_int_equal(enable(4, false, false), 0);
	wdesc(DESC, 0, DATA, 8, 0, 0);
	wdesc(DESC, 1, DATA + 8, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	wdesc(DESC, 2, DATA + 16, 8, VIRTQ_DESC_F_WRITE, 0);
	offer(0);
	offer(1);
	assert_int_equal(vq_pop(&e.q, e.c), 1);
	assert_int_equal(e.c->nout, 1);
	assert_int_equal(e.c->nin, 0);
	assert_int_equal(vq_pop(&e.q, e.c), 1);
	assert_int_equal(e.c->nout, 0);
	assert_int_equal(e.c->nin, 2);
	assert_int_equal(e.c->in_len, 16);
	assert_ptr_equal(vq_chain_in(e.c)[1].iov_base, host(DATA + 16));
	/* a buffer ending exactly at the end of RAM is inside */
	wdesc(DESC, 3, RAM_END - 4, 4, 0, 0);
	offer(3);
	assert_int_equal(vq_pop(&e.q, e.c), 1);
	assert_ptr_equal(e.c->iov[0].iov_base, host(RAM_END - 4));
}

static void test_multiple(void **state)
{
	assert_int_equal(enable(16, false, false), 0);
	/* three chains of 1, 2 and 3 buffers, offered in one batch */
	wdesc(DESC, 0, DATA, 4, VIRTQ_DESC_F_WRITE, 0);
	wdesc(DESC, 7, DATA + 4, 4, VIRTQ_DESC_F_NEXT, 1);
	wdesc(DESC, 1, DATA + 8, 4, VIRTQ_DESC_F_WRITE, 0);
	wdesc(DESC, 15, DATA + 12, 4, VIRTQ_DESC_F_NEXT, 9);
	wdesc(DESC, 9, DATA + 16, 4, VIRTQ_DESC_F_NEXT, 2);
	wdesc(DESC, 2, DATA + 20, 4, VIRTQ_DESC_F_WRITE, 0);
	offer(0);
	offer(7);
	offer(15);
	assert_int_equal(vq_pop(&e.q, e.c), 1);
	assert_int_equal(e.c->head, 0);
	assert_int_equal(e.c->nout + e.c->nin, 1);
	assert_int_equal(vq_pop(&e.q, e.c), 1);
	assert_int_equal(e.c->head, 7);
	assert_int_equal(e.c->nout + e.c->nin, 2);
	assert_int_equal(vq_pop(&e.q, e.c), 1);
	assert_int_equal(e.c->head, 15);
	assert_int_equal(e.c->nout, 2);
	assert_int_equal(e.c->nin, 1);
	assert_ptr_equal(e.c->iov[1].iov_base, host(DATA + 16));
	assert_int_equal(vq_pop(&e.q, e.c), 0);

	/* completed out of order */
	assert_int_equal(vq_push(&e.q, 15, 4), 0);
	assert_int_equal(vq_push(&e.q, 0, 2), 0);
	assert_int_equal(vq_push(&e.q, 7, 0), 0);
	assert_int_equal(rd16(USED + 2), 3);
	assert_int_equal(rd32(USED + 4), 15);
	assert_int_equal(rd32(USED + 8), 4);
	assert_int_equal(rd32(USED + 12), 0);
	assert_int_equal(rd32(USED + 16), 2);
	assert_int_equal(rd32(USED + 20), 7);
	/* more pushes than pops: refused, nothing written */
	assert_int_equal(vq_push(&e.q, 0, 0), -EINVAL);
	assert_int_equal(rd16(USED + 2), 3);
}

static void test_push_errors(void **state)
{
	/* not enabled */
	assert_int_equal(vq_push(&e.q, 0, 0), -EINVAL);
	assert_int_equal(vq_pop(&e.q, e.c), 0);
	assert_false(vq_should_notify(&e.q));
	assert_int_equal(enable(4, false, false), 0);
	assert_int_equal(vq_push(&e.q, 0, 0), -EINVAL);	/* nothing popped */
	wdesc(DESC, 0, DATA, 4, 0, 0);
	offer(0);
	assert_int_equal(vq_pop(&e.q, e.c), 1);
	assert_int_equal(vq_push(&e.q, 4, 0), -EINVAL);	/* head >= size */
	assert_int_equal(rd16(USED + 2), 0);
	assert_int_equal(vq_push(&e.q, 0, 0), 0);
}

/* Run the 16-bit indexes through 65535 -> 0 with batches straddling it. */
static void test_wrap(void **state)
{
	assert_int_equal(enable(8, false, false), 0);
	for (unsigned i = 0; i < 8; i++)
		wdesc(DESC, i, DATA + 16 * i, 16, VIRTQ_DESC_F_WRITE, 0);
	for (unsigned n = 0; n < 65533; n++) {
		offer(n & 7);
		assert_int_equal(vq_pop(&e.q, e.c), 1);
		assert_int_equal(vq_push(&e.q, e.c->head, 16), 0);
	}
	assert_int_equal(e.q.last_avail, 65533);
	/* a full ring of 8 across the wrap */
	for (unsigned i = 0; i < 8; i++)
		offer(i);
	assert_int_equal(e.aidx, 5);
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(vq_pop(&e.q, e.c), 1);
		assert_int_equal(e.c->head, i);
		assert_ptr_equal(e.c->iov[0].iov_base, host(DATA + 16 * i));
	}
	assert_int_equal(vq_pop(&e.q, e.c), 0);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(vq_push(&e.q, 7 - i, i), 0);
	assert_int_equal(rd16(USED + 2), 5);
	/* used idx 65533 went to slot 5, 65535 to slot 7, 0 to slot 0 */
	assert_int_equal(rd32(USED + 4 + 8 * 5), 7);
	assert_int_equal(rd32(USED + 4 + 8 * 7), 5);
	assert_int_equal(rd32(USED + 4 + 8 * 0), 4);
	assert_int_equal(rd32(USED + 4 + 8 * 0 + 4), 3);
	assert_false(e.q.broken);
}

static void test_indirect(void **state)
{
	assert_int_equal(enable(4, false, true), 0);
	/* a head that is only an indirect descriptor; its WRITE is ignored */
	wdesc(DESC, 2, TABLE, 3 * 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE,
	      0);
	wdesc(TABLE, 0, DATA, 10, VIRTQ_DESC_F_NEXT, 2);
	wdesc(TABLE, 2, DATA + 10, 20, VIRTQ_DESC_F_NEXT, 1);
	wdesc(TABLE, 1, DATA + 30, 30, VIRTQ_DESC_F_WRITE, 0);
	offer(2);
	assert_int_equal(vq_pop(&e.q, e.c), 1);
	assert_int_equal(e.c->head, 2);
	assert_int_equal(e.c->nout, 2);
	assert_int_equal(e.c->nin, 1);
	assert_int_equal(e.c->out_len, 30);
	assert_int_equal(e.c->in_len, 30);
	assert_ptr_equal(e.c->iov[1].iov_base, host(DATA + 10));
	assert_ptr_equal(e.c->iov[2].iov_base, host(DATA + 30));

	/* direct descriptors, then an indirect one (2.7.5.3.2) */
	wdesc(DESC, 0, DATA + 100, 1, VIRTQ_DESC_F_NEXT, 3);
	wdesc(DESC, 3, TABLE + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
	wdesc(TABLE + 0x100, 0, DATA + 200, 2, VIRTQ_DESC_F_WRITE, 0);
	offer(0);
	assert_int_equal(vq_pop(&e.q, e.c), 1);
	assert_int_equal(e.c->head, 0);
	assert_int_equal(e.c->nout, 1);
	assert_int_equal(e.c->nin, 1);
	assert_ptr_equal(vq_chain_in(e.c)[0].iov_base, host(DATA + 200));

	/* an indirect table needs no alignment; a table longer than its chain */
	wdesc(DESC, 1, TABLE + 0x203, 4 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	wdesc(TABLE + 0x203, 0, DATA + 300, 3, 0, 0);
	offer(1);
	assert_int_equal(vq_pop(&e.q, e.c), 1);
	assert_int_equal(e.c->nout, 1);
	assert_int_equal(e.c->nin, 0);
	assert_false(e.q.broken);
}

static void test_max_segments(void **state)
{
	/* exactly VQ_MAX_SEGS buffers in an indirect table: fine */
	assert_int_equal(enable(2, false, true), 0);
	wdesc(DESC, 0, TABLE, VQ_MAX_SEGS * 16, VIRTQ_DESC_F_INDIRECT, 0);
	for (unsigned i = 0; i < VQ_MAX_SEGS; i++)
		wdesc(TABLE, i, DATA + i, 1, VIRTQ_DESC_F_NEXT, i + 1);
	wdesc(TABLE, VQ_MAX_SEGS - 1, DATA, 1, 0, 0);
	offer(0);
	assert_int_equal(vq_pop(&e.q, e.c), 1);
	assert_int_equal(e.c->nout, VQ_MAX_SEGS);
	assert_int_equal(e.c->out_len, VQ_MAX_SEGS);
}

static void test_too_many_segments(void **state)
{
	/* one more than the chain can hold: -E2BIG, array not overrun */
	assert_int_equal(enable(2, false, true), 0);
	wdesc(DESC, 0, TABLE, (VQ_MAX_SEGS + 1) * 16, VIRTQ_DESC_F_INDIRECT, 0);
	for (unsigned i = 0; i <= VQ_MAX_SEGS; i++)
		wdesc(TABLE, i, DATA + i, 1, VIRTQ_DESC_F_NEXT, i + 1);
	wdesc(TABLE, VQ_MAX_SEGS, DATA, 1, 0, 0);
	offer(0);
	expect_broken(-E2BIG);
}

static void test_too_many_segments_direct(void **state)
{
	assert_int_equal(enable(2048, false, false), 0);
	for (unsigned i = 0; i < 2048; i++)
		wdesc(DESC, i, DATA, 1, VIRTQ_DESC_F_NEXT, i + 1);
	wdesc(DESC, 2047, DATA, 1, 0, 0);
	offer(0);
	expect_broken(-E2BIG);
}

static void test_long_buffers(void **state)
{
	/* 0xFFFFFFFF bytes in all is the most a chain may describe */
	assert_int_equal(enable(4, false, false), 0);
	wdesc(DESC, 0, BIG_GPA, 0x80000000u, VIRTQ_DESC_F_NEXT, 1);
	wdesc(DESC, 1, BIG_GPA, 0x7FFFFFFFu, VIRTQ_DESC_F_WRITE, 0);
	wdesc(DESC, 2, BIG_GPA + 1, 0xFFFFFFFFu, 0, 0);
	offer(0);
	offer(2);
	assert_int_equal(vq_pop(&e.q, e.c), 1);
	assert_int_equal((uint64_t)e.c->out_len + e.c->in_len, UINT32_MAX);
	assert_ptr_equal(e.c->iov[0].iov_base, e.big);
	assert_int_equal(vq_pop(&e.q, e.c), 1);
	assert_int_equal(e.c->out_len, UINT32_MAX);
	assert_ptr_equal(e.c->iov[0].iov_base, (uint8_t *)e.big + 1);
}

/* Notify decisions without EVENT_IDX: the avail ring's flag. */
static void test_no_interrupt(void **state)
{
	assert_int_equal(enable(4, false, false), 0);
	for (unsigned i = 0; i < 4; i++)
		wdesc(DESC, i, DATA, 4, VIRTQ_DESC_F_WRITE, 0);
	for (unsigned i = 0; i < 4; i++)
		offer(i);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(vq_pop(&e.q, e.c), 1);
	assert_false(vq_should_notify(&e.q));		/* nothing pushed */
	assert_int_equal(vq_push(&e.q, 0, 4), 0);
	assert_true(vq_should_notify(&e.q));
	wr16(AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	assert_int_equal(vq_push(&e.q, 1, 4), 0);
	assert_false(vq_should_notify(&e.q));
	wr16(AVAIL, 0);
	wr16(USED_EVENT, 100);			/* ignored without EVENT_IDX */
	assert_int_equal(vq_push(&e.q, 2, 4), 0);
	assert_true(vq_should_notify(&e.q));
	assert_false(vq_should_notify(&e.q));
	/* the device never suppresses the driver's notifications */
	assert_int_equal(rd16(USED), 0);
}

static void test_vring_need_event(void **state)
{
	/* event in [old, new) */
	assert_true(vring_need_event(0, 1, 0));
	assert_false(vring_need_event(1, 1, 0));
	assert_true(vring_need_event(3, 5, 2));
	assert_true(vring_need_event(2, 5, 2));
	assert_true(vring_need_event(4, 5, 2));
	assert_false(vring_need_event(5, 5, 2));
	assert_false(vring_need_event(1, 5, 2));
	assert_false(vring_need_event(7, 7, 7));	/* nothing new */
	/* across the wrap */
	assert_true(vring_need_event(65535, 1, 65534));
	assert_true(vring_need_event(0, 1, 65534));
	assert_false(vring_need_event(1, 1, 65534));
	assert_false(vring_need_event(65533, 1, 65534));
}

/* Notify decisions with EVENT_IDX: used_event. */
static void test_event_idx(void **state)
{
	assert_int_equal(enable(8, true, false), 0);
	assert_int_equal(rd16(AVAIL_EVENT), 0);
	for (unsigned i = 0; i < 8; i++)
		wdesc(DESC, i, DATA, 4, VIRTQ_DESC_F_WRITE, 0);

	/* the device asks to be told of the next buffer when it runs dry */
	wr16(AVAIL_EVENT, 0x1234);
	for (unsigned i = 0; i < 6; i++)
		offer(i);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(vq_pop(&e.q, e.c), 1);
	assert_int_equal(rd16(AVAIL_EVENT), 0x1234);	/* not while busy */
	assert_int_equal(vq_pop(&e.q, e.c), 0);
	assert_int_equal(rd16(AVAIL_EVENT), 6);

	wr16(USED_EVENT, 0);
	assert_int_equal(vq_push(&e.q, 0, 4), 0);	/* used idx 0 -> 1 */
	assert_true(vq_should_notify(&e.q));
	assert_int_equal(vq_push(&e.q, 1, 4), 0);	/* 1 -> 2 */
	assert_false(vq_should_notify(&e.q));
	wr16(USED_EVENT, 3);
	assert_int_equal(vq_push(&e.q, 2, 4), 0);	/* 2 -> 3 */
	assert_false(vq_should_notify(&e.q));
	assert_int_equal(vq_push(&e.q, 3, 4), 0);	/* 3 -> 4: wrote entry 3 */
	assert_true(vq_should_notify(&e.q));
	/* a batch that passes used_event: one notification */
	wr16(USED_EVENT, 4);
	assert_int_equal(vq_push(&e.q, 4, 4), 0);
	assert_int_equal(vq_push(&e.q, 5, 4), 0);	/* 4 -> 6 */
	assert_true(vq_should_notify(&e.q));
	assert_false(vq_should_notify(&e.q));

	/* EVENT_IDX ignores NO_INTERRUPT */
	wr16(AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	wr16(USED_EVENT, 6);
	offer(6);
	assert_int_equal(vq_pop(&e.q, e.c), 1);
	assert_int_equal(vq_push(&e.q, 6, 4), 0);
	assert_true(vq_should_notify(&e.q));
	/* an old used_event: no notification */
	wr16(USED_EVENT, 2);
	offer(7);
	assert_int_equal(vq_pop(&e.q, e.c), 1);
	assert_int_equal(vq_push(&e.q, 7, 4), 0);
	assert_false(vq_should_notify(&e.q));
}

/*
 * The EVENT_IDX handshake under a real race: a driver thread offers chains
 * and notifies only when avail_event asks for it; the device thread sleeps
 * whenever vq_pop says the ring is empty.  A lost notification would leave
 * the device asleep with a buffer available: the timed wait fails the test.
 */
#define RACE_CHAINS	200000

static sem_t kick;

static void *race_driver(void *arg)
{
	uint16_t *avail_idx = (uint16_t *)host(AVAIL + 2);
	uint16_t *used_idx = (uint16_t *)host(USED + 2);
	uint16_t *avail_event = (uint16_t *)host(AVAIL_EVENT);

	for (unsigned n = 0; n < RACE_CHAINS; n++) {
		uint16_t old = e.aidx;

		/* a free descriptor: fewer than size chains outstanding */
		while ((uint16_t)(old - __atomic_load_n(used_idx,
							__ATOMIC_ACQUIRE)) >= e.size)
			;
		__atomic_store_n((uint16_t *)host(AVAIL + 4 +
						  2ULL * (old & (e.size - 1))),
				 old & (e.size - 1), __ATOMIC_RELAXED);
		e.aidx = old + 1;
		__atomic_store_n(avail_idx, e.aidx, __ATOMIC_RELEASE);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (vring_need_event(__atomic_load_n(avail_event,
						     __ATOMIC_RELAXED),
				     e.aidx, old))
			sem_post(&kick);
	}
	return NULL;
}

static void test_event_idx_race(void **state)
{
	pthread_t t;
	unsigned done = 0, sleeps = 0;

	assert_int_equal(enable(8, true, false), 0);
	for (unsigned i = 0; i < 8; i++)
		wdesc(DESC, i, DATA + 16 * i, 16, VIRTQ_DESC_F_WRITE, 0);
	assert_int_equal(sem_init(&kick, 0, 0), 0);
	assert_int_equal(pthread_create(&t, NULL, race_driver, NULL), 0);
	while (done < RACE_CHAINS) {
		int r = vq_pop(&e.q, e.c);

		assert_true(r >= 0);
		if (r == 1) {
			assert_int_equal(e.c->head, done & 7);
			assert_int_equal(vq_push(&e.q, e.c->head, 16), 0);
			done++;
			continue;
		}
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 5;
		assert_int_equal(sem_timedwait(&kick, &ts), 0);	/* no lost kick */
		sleeps++;
	}
	pthread_join(t, NULL);
	sem_destroy(&kick);
	assert_false(e.q.broken);
	assert_true(sleeps > 0);
}

static void test_reset(void **state)
{
	assert_int_equal(enable(4, false, false), 0);
	offer_bad(9);
	vq_reset(&e.q);
	assert_false(e.q.broken);
	assert_int_equal(vq_pop(&e.q, e.c), 0);		/* disabled */
	memset(host(AVAIL), 0, 6 + 2 * 4);
	assert_int_equal(enable(4, false, false), 0);
	wdesc(DESC, 1, DATA, 4, 0, 0);
	offer(1);
	assert_int_equal(vq_pop(&e.q, e.c), 1);
}

/* ---- malformed chains and rings ---- */

static void test_bad_loop(void **state)
{
	assert_int_equal(enable(8, false, false), 0);
	wdesc(DESC, 2, DATA, 4, VIRTQ_DESC_F_NEXT, 5);
	wdesc(DESC, 5, DATA, 4, VIRTQ_DESC_F_NEXT, 2);	/* a -> b -> a */
	offer_bad(2);
}

static void test_bad_self_loop(void **state)
{
	assert_int_equal(enable(8, false, false), 0);
	wdesc(DESC, 4, DATA, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 4);
	offer_bad(4);
}

static void test_bad_chain_longer_than_size(void **state)
{
	/* every descriptor once, then back to the first: size + 1 visits */
	assert_int_equal(enable(4, false, false), 0);
	for (unsigned i = 0; i < 4; i++)
		wdesc(DESC, i, DATA, 4, VIRTQ_DESC_F_NEXT, (i + 1) % 4);
	offer_bad(0);
}

static void test_chain_of_size(void **state)
{
	/* exactly size descriptors is the longest legal chain */
	assert_int_equal(enable(4, false, false), 0);
	for (unsigned i = 0; i < 4; i++)
		wdesc(DESC, i, DATA, 4, VIRTQ_DESC_F_NEXT, (i + 1) % 4);
	wdesc(DESC, 3, DATA, 4, 0, 0);
	offer(0);
	assert_int_equal(vq_pop(&e.q, e.c), 1);
	assert_int_equal(e.c->nout, 4);
}

static void test_bad_next(void **state)
{
	assert_int_equal(enable(8, false, false), 0);
	wdesc(DESC, 0, DATA, 4, VIRTQ_DESC_F_NEXT, 8);
	offer_bad(0);
}

/* On a queue of 8, a chain offered at head (no such descriptor) breaks it. */
static void check_bad_head(uint16_t head)
{
	assert_int_equal(enable(8, false, false), 0);
	offer_bad(head);
}

static void test_bad_head(void **state)
{
	check_bad_head(8);
}

static void test_bad_head_max(void **state)
{
	check_bad_head(0xFFFF);
}

static void test_bad_avail_jump(void **state)
{
	assert_int_equal(enable(8, false, false), 0);
	set_avail_idx(9);
	expect_broken(-EINVAL);
}

static void test_avail_full(void **state)
{
	/* exactly size chains available is fine */
	assert_int_equal(enable(8, false, false), 0);
	for (unsigned i = 0; i < 8; i++)
		wdesc(DESC, i, DATA, 4, 0, 0);
	for (unsigned i = 0; i < 8; i++)
		offer(i);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(vq_pop(&e.q, e.c), 1);
	assert_int_equal(vq_pop(&e.q, e.c), 0);
}

/* A queue of size with n chains (descriptor 0, 4 bytes) offered and popped: in flight. */
static void in_flight(uint16_t size, unsigned n)
{
	assert_int_equal(enable(size, false, false), 0);
	wdesc(DESC, 0, DATA, 4, 0, 0);
	for (unsigned i = 0; i < n; i++)
		offer(0);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(vq_pop(&e.q, e.c), 1);
}

static void test_bad_avail_backwards(void **state)
{
	in_flight(8, 2);
	set_avail_idx(1);		/* "unexposes" a buffer (2.7.6.1) */
	expect_broken(-EINVAL);
}

static void test_bad_avail_backwards_inflight(void **state)
{
	/* backwards by no more than the chains in flight: still caught */
	in_flight(8, 4);
	set_avail_idx(2);
	expect_broken(-EINVAL);
}

static void test_bad_avail_over_inflight(void **state)
{
	/* size chains in flight, one more offered: more than the ring holds */
	in_flight(4, 4);
	offer_bad(0);
}

static void test_avail_after_push(void **state)
{
	/* ... but fine once one was pushed back */
	in_flight(4, 4);
	assert_int_equal(vq_push(&e.q, 0, 0), 0);
	offer(0);
	assert_int_equal(vq_pop(&e.q, e.c), 1);
}

static void test_bad_addr_outside(void **state)
{
	check_bad_desc(RAM_GPA - 4, 4, 0);		/* below RAM */
}

static void test_bad_addr_straddles_end(void **state)
{
	check_bad_pair(DATA, 4, VIRTQ_DESC_F_NEXT,
		       RAM_END - 4, 5, VIRTQ_DESC_F_WRITE);
}

static void test_bad_addr_overflow(void **state)
{
	check_bad_desc(UINT64_MAX - 7, 16, 0);	/* addr + len wraps */
}

static void test_bad_len_huge(void **state)
{
	/* in the small region, a length near 2^32 runs out of RAM */
	check_bad_desc(DATA, 0xFFFFFFFFu, VIRTQ_DESC_F_WRITE);
}

static void test_bad_total_len(void **state)
{
	/* each buffer inside RAM, but 2^32 bytes in all */
	check_bad_pair(BIG_GPA, 0x80000000u, VIRTQ_DESC_F_NEXT,
		       BIG_GPA, 0x80000000u, VIRTQ_DESC_F_WRITE);
}

static void test_bad_zero_len(void **state)
{
	check_bad_pair(DATA, 4, VIRTQ_DESC_F_NEXT,
		       DATA, 0, VIRTQ_DESC_F_WRITE);
}

static void test_bad_write_then_read(void **state)
{
	check_bad_pair(DATA, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
		       DATA + 4, 4, 0);
}

static void test_bad_write_then_read_indirect(void **state)
{
	/* the order rule spans the direct part and the indirect table */
	assert_int_equal(enable(4, false, true), 0);
	wdesc(DESC, 0, DATA, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	wdesc(DESC, 1, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	wdesc(TABLE, 0, DATA, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	wdesc(TABLE, 1, DATA, 4, 0, 0);
	offer_bad(0);
}

static void test_bad_indirect_not_negotiated(void **state)
{
	assert_int_equal(enable(4, false, false), 0);
	wdesc(DESC, 0, TABLE, 16, VIRTQ_DESC_F_INDIRECT, 0);
	wdesc(TABLE, 0, DATA, 4, 0, 0);
	offer_bad(0);
}

static void test_bad_indirect_in_indirect(void **state)
{
	indirect_head(4, TABLE, 32);
	wdesc(TABLE, 0, DATA, 4, VIRTQ_DESC_F_NEXT, 1);
	wdesc(TABLE, 1, TABLE + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
	wdesc(TABLE + 0x100, 0, DATA, 4, 0, 0);
	offer_bad(0);
}

static void test_bad_indirect_with_next(void **state)
{
	assert_int_equal(enable(4, false, true), 0);
	wdesc(DESC, 0, TABLE, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	wdesc(TABLE, 0, DATA, 4, 0, 0);
	wdesc(DESC, 1, DATA, 4, 0, 0);
	offer_bad(0);
}

static void check_bad_table(uint64_t addr, uint32_t len)
{
	indirect_head(4, addr, len);
	wdesc(TABLE, 0, DATA, 4, 0, 0);
	offer_bad(0);
}

static void test_bad_indirect_len_odd(void **state)
{
	check_bad_table(TABLE, 24);
}

static void test_bad_indirect_len_zero(void **state)
{
	check_bad_table(TABLE, 0);
}

static void test_bad_indirect_outside(void **state)
{
	check_bad_table(RAM_END - 16, 32);
}

static void test_bad_indirect_overflow(void **state)
{
	check_bad_table(UINT64_MAX - 15, 32);
}

static void test_bad_indirect_too_big(void **state)
{
	/* in RAM, but more entries than a 16-bit next can reach */
	check_bad_table(TABLE, (VQ_MAX_INDIRECT + 1) * 16);
}

static void test_bad_indirect_next(void **state)
{
	/* next inside the queue's range but beyond the table's */
	indirect_head(8, TABLE, 32);
	wdesc(TABLE, 0, DATA, 4, VIRTQ_DESC_F_NEXT, 2);
	wdesc(TABLE, 2, DATA, 4, 0, 0);
	offer_bad(0);
}

static void test_bad_indirect_loop(void **state)
{
	indirect_head(4, TABLE, 48);
	wdesc(TABLE, 0, DATA, 4, VIRTQ_DESC_F_NEXT, 1);
	wdesc(TABLE, 1, DATA, 4, VIRTQ_DESC_F_NEXT, 2);
	wdesc(TABLE, 2, DATA, 4, VIRTQ_DESC_F_NEXT, 1);
	offer_bad(0);
}

static void test_bad_indirect_buffer_outside(void **state)
{
	indirect_head(4, TABLE, 32);
	wdesc(TABLE, 0, DATA, 4, VIRTQ_DESC_F_NEXT, 1);
	wdesc(TABLE, 1, 0xB8000, 4, VIRTQ_DESC_F_WRITE, 0);
	offer_bad(0);
}

/* ---- vq_enable ---- */

static void bad_enable(uint16_t size, uint64_t desc, uint64_t avail,
		       uint64_t used)
{
	err_clear();
	assert_int_equal(vq_enable(&e.q, &e.mem, size, desc, avail, used,
				   true, true), -EINVAL);
	assert_false(e.q.enabled);
	assert_true(strlen(err_msg()) > 0);
	assert_int_equal(vq_pop(&e.q, e.c), 0);
	assert_int_equal(vq_push(&e.q, 0, 0), -EINVAL);
}

static void test_enable_sizes(void **state)
{
	bad_enable(0, DESC, AVAIL, USED);
	bad_enable(3, DESC, AVAIL, USED);
	bad_enable(48, DESC, AVAIL, USED);
	bad_enable(32768 + 1, DESC, AVAIL, USED);
	bad_enable(65535, DESC, AVAIL, USED);
	for (unsigned s = 1; s <= 32768; s <<= 1)
		assert_int_equal(vq_enable(&e.q, &e.mem, s, DESC, AVAIL, USED,
					   true, true), 0);
	assert_true(e.q.enabled);
	assert_int_equal(e.q.size, 32768);
}

static void test_enable_alignment(void **state)
{
	bad_enable(8, DESC + 8, AVAIL, USED);
	bad_enable(8, DESC, AVAIL + 1, USED);
	bad_enable(8, DESC, AVAIL, USED + 2);
	/* the minimum alignments are enough */
	assert_int_equal(vq_enable(&e.q, &e.mem, 8, DESC + 16, AVAIL + 2,
				   USED + 4, false, false), 0);
}

static void test_enable_outside(void **state)
{
	bad_enable(8, 0x1000, AVAIL, USED);			/* no RAM */
	bad_enable(8, DESC, 0xB8000, USED);
	bad_enable(8, DESC, AVAIL, UINT64_MAX & ~3ULL);
	/* each area with its event field must fit: 6 + 2 * 8, 6 + 8 * 8 */
	bad_enable(8, RAM_END - 128 + 16, AVAIL, USED);
	bad_enable(8, DESC, RAM_END - 20, USED);
	bad_enable(8, DESC, AVAIL, RAM_END - 68);
	/* ... and exactly fitting is fine */
	assert_int_equal(vq_enable(&e.q, &e.mem, 8, RAM_END - 128, RAM_END - 150,
				   RAM_END - 220, true, false), 0);
	/* areas too big for RAM at the largest size */
	bad_enable(32768, RAM_END - 0x10000, AVAIL, USED);
}

TEST_MAIN(NULL, NULL,
	  TEST_FIX(test_simple), TEST_FIX(test_device_only_chains), TEST_FIX(test_multiple),
	  TEST_FIX(test_push_errors), TEST_FIX(test_wrap), TEST_FIX(test_indirect),
	  TEST_FIX(test_max_segments), TEST_FIX(test_too_many_segments),
	  TEST_FIX(test_too_many_segments_direct), TEST_FIX(test_long_buffers),
	  TEST_FIX(test_no_interrupt), TEST_FIX(test_vring_need_event), TEST_FIX(test_event_idx),
	  TEST_FIX(test_event_idx_race), TEST_FIX(test_reset), TEST_FIX(test_bad_loop),
	  TEST_FIX(test_bad_self_loop), TEST_FIX(test_bad_chain_longer_than_size),
	  TEST_FIX(test_chain_of_size), TEST_FIX(test_bad_next), TEST_FIX(test_bad_head),
	  TEST_FIX(test_bad_head_max), TEST_FIX(test_bad_avail_jump), TEST_FIX(test_avail_full),
	  TEST_FIX(test_bad_avail_backwards), TEST_FIX(test_bad_avail_backwards_inflight),
	  TEST_FIX(test_bad_avail_over_inflight), TEST_FIX(test_avail_after_push),
	  TEST_FIX(test_bad_addr_outside), TEST_FIX(test_bad_addr_straddles_end),
	  TEST_FIX(test_bad_addr_overflow), TEST_FIX(test_bad_len_huge),
	  TEST_FIX(test_bad_total_len), TEST_FIX(test_bad_zero_len),
	  TEST_FIX(test_bad_write_then_read), TEST_FIX(test_bad_write_then_read_indirect),
	  TEST_FIX(test_bad_indirect_not_negotiated), TEST_FIX(test_bad_indirect_in_indirect),
	  TEST_FIX(test_bad_indirect_with_next), TEST_FIX(test_bad_indirect_len_odd),
	  TEST_FIX(test_bad_indirect_len_zero), TEST_FIX(test_bad_indirect_outside),
	  TEST_FIX(test_bad_indirect_overflow), TEST_FIX(test_bad_indirect_too_big),
	  TEST_FIX(test_bad_indirect_next), TEST_FIX(test_bad_indirect_loop),
	  TEST_FIX(test_bad_indirect_buffer_outside), TEST_FIX(test_enable_sizes),
	  TEST_FIX(test_enable_alignment), TEST_FIX(test_enable_outside))
