/*
 * iobus.c - port-I/O and MMIO buses: a sorted array of ranges, binary search
 * on every access (see iobus.h).
 *
 * Snapshot reclamation (epoch-based, process-wide):
 *   - io_epoch is a global counter; io_readers[] holds one slot per reading
 *     thread (claimed on its first access, released when it exits).
 *   - A read section stores the current epoch in its slot (seq_cst), then
 *     loads the bus's table; leaving it stores 0.
 *   - A writer swaps in the new table (seq_cst), tags the old one with the
 *     epoch and advances it, then frees every retired table whose tag is
 *     below the smallest epoch of any reader inside a section.  With more
 *     than IOBUS_MAX_RETIRED waiting it spins (sched_yield) until they can
 *     all go: sections are a few dozen instructions that take no lock, so
 *     the wait ends as soon as the preempted reader runs again.
 * Why it is safe: a reader that recorded epoch e loaded its table after
 * that store, so any table it holds was current at or after epoch e and is
 * tagged >= e when retired.  If the writer's scan saw a slot still empty,
 * the reader's later table load comes after the writer's swap in the
 * seq_cst order and finds the new table.  A thread without a slot (more
 * than IOBUS_READERS readers at once) counts in io_overflow, which holds
 * back every free until it leaves.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lock.h"
#include "err.h"
#include "util.h"
#include "iobus.h"

#define IOBUS_READERS 256	/* threads that may be inside a section at once */

static struct { uint64_t epoch; char pad[56]; } io_readers[IOBUS_READERS]
	__attribute__((aligned(64)));
static uint8_t io_slot_used[IOBUS_READERS];
static unsigned io_slots_hw;		/* slots ever claimed: scan [0, hw) */
static uint64_t io_epoch = 1;		/* 0 in a slot means "not reading" */
static unsigned io_overflow;		/* readers inside a section without a slot */
static __thread int io_slot = -1;	/* -1: not claimed yet; -2: none free */
static __thread unsigned io_depth;	/* nesting of this thread's sections */
static pthread_key_t io_key;
static pthread_once_t io_once = PTHREAD_ONCE_INIT;

static void io_slot_release(void *v)
{
	int slot = (int)(intptr_t)v - 1;

	if (slot >= 0 && slot < IOBUS_READERS) {
		__atomic_store_n(&io_readers[slot].epoch, 0, __ATOMIC_SEQ_CST);
		__atomic_store_n(&io_slot_used[slot], 0, __ATOMIC_RELEASE);
	}
}

static void io_key_init(void)
{
	pthread_key_create(&io_key, io_slot_release);
}

static void io_slot_claim(void)
{
	pthread_once(&io_once, io_key_init);
	io_slot = -2;
	for (int i = 0; i < IOBUS_READERS; i++) {
		uint8_t zero = 0;
		if (__atomic_compare_exchange_n(&io_slot_used[i], &zero, 1, false,
						__ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
			unsigned hw = __atomic_load_n(&io_slots_hw, __ATOMIC_RELAXED);
			while (hw < (unsigned)i + 1 &&
			       !__atomic_compare_exchange_n(&io_slots_hw, &hw, (unsigned)i + 1,
							    false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
				;
			io_slot = i;
			pthread_setspecific(io_key, (void *)(intptr_t)(i + 1));
			return;
		}
	}
}

void iobus_read_lock(void)
{
	if (io_depth++)
		return;
	if (io_slot == -1)
		io_slot_claim();
	if (io_slot >= 0)
		__atomic_store_n(&io_readers[io_slot].epoch,
				 __atomic_load_n(&io_epoch, __ATOMIC_SEQ_CST), __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_add(&io_overflow, 1, __ATOMIC_SEQ_CST);
}

void iobus_read_unlock(void)
{
	if (--io_depth)
		return;
	if (io_slot >= 0)
		__atomic_store_n(&io_readers[io_slot].epoch, 0, __ATOMIC_RELEASE);
	else
		__atomic_fetch_sub(&io_overflow, 1, __ATOMIC_RELEASE);
}

/* The oldest epoch any reader inside a section recorded (0: unknown). */
static uint64_t io_min_epoch(void)
{
	uint64_t min = UINT64_MAX;
	unsigned hw = __atomic_load_n(&io_slots_hw, __ATOMIC_SEQ_CST);

	if (__atomic_load_n(&io_overflow, __ATOMIC_SEQ_CST))
		return 0;
	for (unsigned i = 0; i < hw; i++) {
		uint64_t e = __atomic_load_n(&io_readers[i].epoch, __ATOMIC_SEQ_CST);
		if (e && e < min)
			min = e;
	}
	return min;
}

/* Free the retired snapshots no reader can still hold.  wlock held. */
static void iobus_reclaim(struct iobus *bus)
{
	uint64_t min = io_min_epoch();
	struct io_table **pp = &bus->retired;

	/*
	 * Too many waiting: a reader sits in a section (preempted).  Wait for
	 * it unless that reader is this thread (tests nest sections).
	 */
	if (bus->nretired > IOBUS_MAX_RETIRED && io_depth == 0) {
		bus->nwaits++;
		while ((min = io_min_epoch()) <= bus->retired->retire_epoch)
			sched_yield();
	}
	while (*pp) {
		struct io_table *t = *pp;
		if (t->retire_epoch < min) {
			*pp = t->retired;
			free(t);
			bus->nretired--;
			bus->nfreed++;
		} else {
			pp = &t->retired;
		}
	}
}

void iobus_init(struct iobus *bus, const char *name, uint64_t limit,
		unsigned max_size)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	bus->limit = limit;
	bus->max_size = max_size;
	pthread_mutex_init(&bus->wlock, NULL);
	pthread_mutex_init(&bus->seen_lock, NULL);
}

/* After every thread that used the bus has stopped. */
void iobus_destroy(struct iobus *bus)
{
	struct io_table *t = bus->retired;

	while (t) {
		struct io_table *next = t->retired;
		free(t);
		t = next;
	}
	free(bus->tab);
	bus->tab = NULL;
	bus->retired = NULL;
	bus->nretired = 0;
}

const struct io_table *iobus_table(const struct iobus *bus)
{
	static const struct io_table empty;
	const struct io_table *t = __atomic_load_n(&bus->tab, __ATOMIC_SEQ_CST);

	return t ? t : &empty;
}

/* Last byte of a range; len >= 1 and base + len - 1 never overflows. */
static uint64_t range_last(const struct io_range *r)
{
	return r->base + (r->len - 1);
}

/*
 * Publish a new snapshot: old's ranges without index skip (-1: none), with
 * add inserted at index at (-1: none).  Called with wlock held.
 */
static int iobus_publish(struct iobus *bus, int skip, const struct io_range *add, int at)
{
	struct io_table *old = bus->tab, *t;
	int n = old ? old->n : 0, j = 0;

	t = malloc(sizeof(*t) + (size_t)(n + 1) * sizeof(t->r[0]));
	if (!t)
		return err_set(-ENOMEM, "out of memory changing the %s bus", bus->name);
	for (int i = 0; i <= n; i++) {
		if (i == at)
			t->r[j++] = *add;
		if (i < n && i != skip)
			t->r[j++] = old->r[i];	/* statistics carried over */
	}
	t->n = j;
	t->retired = NULL;
	t->retire_epoch = 0;
	__atomic_store_n(&bus->tab, t, __ATOMIC_SEQ_CST);
	if (old) {
		old->retire_epoch = __atomic_fetch_add(&io_epoch, 1, __ATOMIC_SEQ_CST);
		old->retired = bus->retired;
		bus->retired = old;
		bus->nretired++;
	}
	iobus_reclaim(bus);
	return 0;
}

int iobus_register(struct iobus *bus, const char *name, uint64_t base,
		   uint64_t len, unsigned flags, io_handler_fn fn, void *arg)
{
	const struct io_table *t;
	struct io_range add;
	uint64_t last;
	int i, r;

	if (len == 0 || !fn || !(flags & (IO_READ | IO_WRITE)) ||
	    (flags & ~(unsigned)(IO_READ | IO_WRITE)))
		return err_set(-EINVAL, "%s: bad %s registration at 0x%llx (len %llu, flags %#x)",
			       name, bus->name, (unsigned long long)base,
			       (unsigned long long)len, flags);
	last = base + (len - 1);
	if (last < base || (bus->limit && last >= bus->limit))
		return err_set(-EINVAL, "%s: %s range 0x%llx+0x%llx is outside the bus",
			       name, bus->name, (unsigned long long)base,
			       (unsigned long long)len);

	lock(&bus->wlock, LOCK_IOBUS);
	t = iobus_table(bus);
	/* Find the insertion point; refuse overlap with either neighbour. */
	for (i = 0; i < t->n && t->r[i].base < base; i++)
		;
	if ((i > 0 && range_last(&t->r[i - 1]) >= base) ||
	    (i < t->n && t->r[i].base <= last)) {
		const struct io_range *o = (i > 0 && range_last(&t->r[i - 1]) >= base) ?
			&t->r[i - 1] : &t->r[i];
		r = err_set(-EEXIST, "%s: %s range 0x%llx-0x%llx overlaps %s at 0x%llx-0x%llx",
			    name, bus->name, (unsigned long long)base,
			    (unsigned long long)last, o->name,
			    (unsigned long long)o->base,
			    (unsigned long long)range_last(o));
		goto out;
	}
	memset(&add, 0, sizeof(add));
	for (int k = 0; k < IOBUS_MAX_RANGES && !add.st; k++) {
		if (!bus->stats_used[k]) {
			bus->stats_used[k] = true;
			memset(&bus->stats[k], 0, sizeof(bus->stats[k]));
			add.st = &bus->stats[k];
		}
	}
	if (!add.st) {
		r = err_set(-ENOSPC, "%s: too many %s ranges (%d)", name, bus->name,
			    IOBUS_MAX_RANGES);
		goto out;
	}
	snprintf(add.name, sizeof(add.name), "%s", name);
	add.base = base;
	add.len = len;
	add.flags = flags;
	add.fn = fn;
	add.arg = arg;
	r = iobus_publish(bus, -1, &add, i);
	if (r < 0)
		bus->stats_used[add.st - bus->stats] = false;
out:
	unlock(&bus->wlock, LOCK_IOBUS);
	return r;
}

int iobus_unregister(struct iobus *bus, uint64_t base)
{
	const struct io_table *t;
	int r = -ENOENT;

	lock(&bus->wlock, LOCK_IOBUS);
	t = iobus_table(bus);
	for (int i = 0; i < t->n; i++) {
		if (t->r[i].base == base) {
			struct io_stats *st = t->r[i].st;
			r = iobus_publish(bus, i, NULL, -1);
			if (r == 0)	/* a late count may land here: statistics only */
				bus->stats_used[st - bus->stats] = false;
			break;
		}
	}
	unlock(&bus->wlock, LOCK_IOBUS);
	if (r == -ENOENT)
		err_set(r, "no %s range at 0x%llx", bus->name, (unsigned long long)base);
	return r;
}

const struct io_range *iobus_find(const struct iobus *bus, uint64_t addr,
				  unsigned size)
{
	const struct io_table *t = iobus_table(bus);
	int lo = 0, hi = t->n - 1;
	uint64_t last = addr + (size ? size - 1 : 0);

	if (last < addr)
		return NULL;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		const struct io_range *r = &t->r[mid];

		if (addr < r->base)
			hi = mid - 1;
		else if (addr > range_last(r))
			lo = mid + 1;
		else
			return last <= range_last(r) ? r : NULL;
	}
	return NULL;
}

/* Remember which unclaimed addresses the guest touches (slow path only). */
static void iobus_note_unclaimed(struct iobus *bus, uint64_t addr)
{
	lock(&bus->seen_lock, LOCK_IOBUS_SEEN);
	for (int i = 0; i < bus->nseen; i++) {
		if (bus->seen[i].addr == addr) {
			bus->seen[i].count++;
			goto out;
		}
	}
	if (bus->nseen < IOBUS_NSEEN) {
		bus->seen[bus->nseen].addr = addr;
		bus->seen[bus->nseen].count = 1;
		bus->nseen++;
	}
out:
	unlock(&bus->seen_lock, LOCK_IOBUS_SEEN);
}

int iobus_access(struct iobus *bus, bool write, uint64_t addr, unsigned size,
		 uint64_t *val)
{
	const struct io_range *r;
	io_handler_fn fn = NULL;
	void *arg = NULL;
	struct io_stats *st = NULL;
	uint64_t base = 0, t0 = 0, v;
	int ret;

	if (size == 0 || size > bus->max_size)
		return -EINVAL;
	/* the read section: look up and copy out, nothing else */
	iobus_read_lock();
	r = iobus_find(bus, addr, size);
	if (r && (r->flags & (write ? IO_WRITE : IO_READ))) {
		fn = r->fn;
		arg = r->arg;
		base = r->base;
		st = r->st;
	}
	iobus_read_unlock();
	if (!fn)
		goto unclaimed;

	if (bus->timing)
		t0 = mono_ns();
	v = write ? (*val & io_mask(size)) : 0;
	ret = fn(arg, write, addr - base, size, &v);
	if (bus->timing) {
		uint64_t dt = mono_ns() - t0;

		__atomic_fetch_add(&st->ns, dt, __ATOMIC_RELAXED);
		__atomic_fetch_add(&st->hist[io_hist_bucket(dt)], 1, __ATOMIC_RELAXED);
	}
	if (ret < 0)
		goto unclaimed;
	__atomic_fetch_add(write ? &st->writes : &st->reads, 1, __ATOMIC_RELAXED);
	if (!write)
		*val = v & io_mask(size);
	return 0;

unclaimed:
	__atomic_fetch_add(write ? &bus->unclaimed_writes : &bus->unclaimed_reads,
			   1, __ATOMIC_RELAXED);
	iobus_note_unclaimed(bus, addr);
	if (!write)
		*val = io_mask(size);
	return -ENOENT;
}
