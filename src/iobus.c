/*
 * iobus.c - port-I/O and MMIO buses: a sorted array of ranges, binary search
 * on every access (see iobus.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lock.h"
#include "err.h"
#include "util.h"
#include "iobus.h"

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

void iobus_destroy(struct iobus *bus)
{
	struct io_table *t = bus->tab;

	while (t) {
		struct io_table *next = t->retired;
		free(t);
		t = next;
	}
	bus->tab = NULL;
}

const struct io_table *iobus_table(const struct iobus *bus)
{
	static const struct io_table empty;
	const struct io_table *t = __atomic_load_n(&bus->tab, __ATOMIC_ACQUIRE);

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
	t->retired = old;
	__atomic_store_n(&bus->tab, t, __ATOMIC_RELEASE);
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
	snprintf(add.name, sizeof(add.name), "%s", name);
	add.base = base;
	add.len = len;
	add.flags = flags;
	add.fn = fn;
	add.arg = arg;
	r = iobus_publish(bus, -1, &add, i);
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
			r = iobus_publish(bus, i, NULL, -1);
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
	struct io_range *r;
	uint64_t t0 = 0, v;
	int ret;

	if (size == 0 || size > bus->max_size)
		return -EINVAL;
	r = (struct io_range *)iobus_find(bus, addr, size);
	if (!r || !(r->flags & (write ? IO_WRITE : IO_READ)))
		goto unclaimed;

	if (bus->timing)
		t0 = mono_ns();
	v = write ? (*val & io_mask(size)) : 0;
	ret = r->fn(r->arg, write, addr - r->base, size, &v);
	if (bus->timing) {
		uint64_t dt = mono_ns() - t0;

		__atomic_fetch_add(&r->ns, dt, __ATOMIC_RELAXED);
		__atomic_fetch_add(&r->hist[io_hist_bucket(dt)], 1, __ATOMIC_RELAXED);
	}
	if (ret < 0)
		goto unclaimed;
	__atomic_fetch_add(write ? &r->writes : &r->reads, 1, __ATOMIC_RELAXED);
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
