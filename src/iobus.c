/*
 * iobus.c - port-I/O and MMIO buses: a sorted array of ranges, binary search
 * on every access (see iobus.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "err.h"
#include "iobus.h"

void iobus_init(struct iobus *bus, const char *name, uint64_t limit,
		unsigned max_size)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	bus->limit = limit;
	bus->max_size = max_size;
	pthread_mutex_init(&bus->seen_lock, NULL);
}

void iobus_destroy(struct iobus *bus)
{
	free(bus->ranges);
	bus->ranges = NULL;
	bus->nranges = bus->cap = 0;
}

/* Last byte of a range; len >= 1 and base + len - 1 never overflows. */
static uint64_t range_last(const struct io_range *r)
{
	return r->base + (r->len - 1);
}

int iobus_register(struct iobus *bus, const char *name, uint64_t base,
		   uint64_t len, unsigned flags, io_handler_fn fn, void *arg)
{
	uint64_t last;
	int i;

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

	/* Find the insertion point; refuse overlap with either neighbour. */
	for (i = 0; i < bus->nranges && bus->ranges[i].base < base; i++)
		;
	if ((i > 0 && range_last(&bus->ranges[i - 1]) >= base) ||
	    (i < bus->nranges && bus->ranges[i].base <= last)) {
		const struct io_range *o = (i > 0 && range_last(&bus->ranges[i - 1]) >= base) ?
			&bus->ranges[i - 1] : &bus->ranges[i];
		return err_set(-EEXIST, "%s: %s range 0x%llx-0x%llx overlaps %s at 0x%llx-0x%llx",
			       name, bus->name, (unsigned long long)base,
			       (unsigned long long)last, o->name,
			       (unsigned long long)o->base,
			       (unsigned long long)range_last(o));
	}

	if (bus->nranges == bus->cap) {
		int cap = bus->cap ? bus->cap * 2 : 16;
		struct io_range *n = realloc(bus->ranges, cap * sizeof(*n));
		if (!n)
			return err_set(-ENOMEM, "out of memory registering %s", name);
		bus->ranges = n;
		bus->cap = cap;
	}
	memmove(&bus->ranges[i + 1], &bus->ranges[i],
		(bus->nranges - i) * sizeof(bus->ranges[0]));
	memset(&bus->ranges[i], 0, sizeof(bus->ranges[i]));
	snprintf(bus->ranges[i].name, sizeof(bus->ranges[i].name), "%s", name);
	bus->ranges[i].base = base;
	bus->ranges[i].len = len;
	bus->ranges[i].flags = flags;
	bus->ranges[i].fn = fn;
	bus->ranges[i].arg = arg;
	bus->nranges++;
	return 0;
}

const struct io_range *iobus_find(const struct iobus *bus, uint64_t addr,
				  unsigned size)
{
	int lo = 0, hi = bus->nranges - 1;
	uint64_t last = addr + (size ? size - 1 : 0);

	if (last < addr)
		return NULL;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		const struct io_range *r = &bus->ranges[mid];

		if (addr < r->base)
			hi = mid - 1;
		else if (addr > range_last(r))
			lo = mid + 1;
		else
			return last <= range_last(r) ? r : NULL;
	}
	return NULL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Remember which unclaimed addresses the guest touches (slow path only). */
static void iobus_note_unclaimed(struct iobus *bus, uint64_t addr)
{
	pthread_mutex_lock(&bus->seen_lock);
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
	pthread_mutex_unlock(&bus->seen_lock);
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
		t0 = now_ns();
	v = write ? (*val & io_mask(size)) : 0;
	ret = r->fn(r->arg, write, addr - r->base, size, &v);
	if (bus->timing)
		__atomic_fetch_add(&r->ns, now_ns() - t0, __ATOMIC_RELAXED);
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
