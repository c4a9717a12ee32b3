/*
 * iobus.h - the port-I/O and MMIO buses.
 *
 * A bus is a sorted table of non-overlapping address ranges.  A device
 * registers a range with a name, the directions it accepts, a handler and an
 * opaque argument; an exit handler then calls iobus_access() with the guest's
 * address, width and value, and the bus calls the device.  Both the port bus
 * (addresses 0..0xffff, widths 1/2/4) and the MMIO bus (guest-physical
 * addresses, widths 1..8) are instances of this one structure.
 *
 * Lookups take no lock: the table is an immutable snapshot, replaced as a
 * whole when a range is added or removed (a PCI BAR moved by the guest).
 * A replaced snapshot is retired, and freed once no thread can still be
 * using it (epoch-based reclamation, iobus.c): the lookup in iobus_access()
 * is a read section (a binary search and a copy of the range's handler,
 * argument and base: no lock, no call out) that records the global epoch
 * on entry in the calling thread's reader slot and clears it on exit; a
 * snapshot retired at epoch t is freed by the next writer once every
 * reader inside a section entered after t.  The handler itself runs
 * outside the section.  When more than IOBUS_MAX_RETIRED snapshots wait
 * (a reader was preempted inside its few instructions), the writer waits
 * for those readers to leave, so a guest that moves a BAR in a loop holds
 * at most IOBUS_MAX_RETIRED + 1 retired snapshots per bus, never one per
 * move (docs/security.md: the memory budget).
 * Handlers may be called from several vCPU threads at once: a device locks
 * its own state.
 */
#ifndef HYVE_IOBUS_H
#define HYVE_IOBUS_H

#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>

#define IO_HIST_BUCKETS 32	/* 1 ns .. 2 s and more, powers of two */

#define IO_READ  0x1	/* range accepts IN / MMIO reads */
#define IO_WRITE 0x2	/* range accepts OUT / MMIO writes */

/*
 * A device's access handler (a header declares one as `io_handler name;`).  offset is relative to the registered base;
 * size is the access width in bytes (1..8).  For a write *val holds the value,
 * already masked to size; for a read the handler stores the result in *val
 * (the bus masks it to size).  Return 0, or a negative errno to refuse the
 * access, which is then treated like an access to an unclaimed address.
 */
typedef int io_handler(void *arg, bool write, uint64_t offset, unsigned size,
		       uint64_t *val);
typedef io_handler *io_handler_fn;

/* Statistics of one registered range (relaxed atomics; --stats). */
struct io_stats {
	uint64_t reads, writes;
	uint64_t ns;		/* time spent in the handler (with timing on) */
	uint64_t hist[IO_HIST_BUCKETS];	/* handler times: bucket b holds [2^b, 2^(b+1)) ns */
};

/* The log2 histogram bucket of a duration in ns (0 and 1 ns: bucket 0). */
static inline unsigned io_hist_bucket(uint64_t ns)
{
	unsigned b = ns > 1 ? 63 - (unsigned)__builtin_clzll(ns) : 0;
	return b < IO_HIST_BUCKETS ? b : IO_HIST_BUCKETS - 1;
}

struct io_range {
	char name[24];
	uint64_t base;
	uint64_t len;
	unsigned flags;		/* IO_READ | IO_WRITE */
	io_handler_fn fn;
	void *arg;
	struct io_stats *st;	/* in the bus's stats[], outlives the snapshot */
};

/* Most ranges a bus holds at once (ports: ~20; MMIO: BARs of 31 slots). */
#define IOBUS_MAX_RANGES 256
/* Retired snapshots a writer lets accumulate before it waits for readers. */
#define IOBUS_MAX_RETIRED 8

#define IOBUS_NSEEN 16

/* An immutable snapshot of a bus's ranges (copy-on-write, see iobus.c). */
struct io_table {
	int n;
	struct io_table *retired;	/* next older retired snapshot */
	uint64_t retire_epoch;		/* global epoch when it was replaced */
	struct io_range r[];		/* sorted by base */
};

struct iobus {
	const char *name;	/* "pio" or "mmio" */
	uint64_t limit;		/* highest valid address + 1 (0 = 2^64) */
	unsigned max_size;	/* widest access: 4 for ports, 8 for MMIO */
	struct io_table *tab;	/* current snapshot; read with an acquire load */
	pthread_mutex_t wlock;	/* serialises writers (register/unregister) */
	struct io_table *retired;	/* replaced snapshots not yet freed */
	unsigned nretired;		/* how many (<= IOBUS_MAX_RETIRED + 1) */
	uint64_t nfreed;		/* snapshots reclaimed so far */
	uint64_t nwaits;		/* times a writer waited for readers */
	/* per-range statistics, indexed by registration slot */
	struct io_stats stats[IOBUS_MAX_RANGES];
	bool stats_used[IOBUS_MAX_RANGES];
	bool timing;		/* measure handler time (--stats) */
	uint64_t unclaimed_reads, unclaimed_writes;
	/* the first IOBUS_NSEEN distinct unclaimed addresses, for --stats */
	pthread_mutex_t seen_lock;
	struct { uint64_t addr; uint64_t count; } seen[IOBUS_NSEEN];
	int nseen;
};

void iobus_init(struct iobus *bus, const char *name, uint64_t limit,
		unsigned max_size);
void iobus_destroy(struct iobus *bus);

/*
 * Claim [base, base+len) for a device.  Refused with -EEXIST (naming the
 * device that holds it) if it overlaps a registered range, -EINVAL for an
 * empty or out-of-bus range or no direction, -ENOSPC beyond
 * IOBUS_MAX_RANGES ranges.  Never call it inside a read section.
 */
int iobus_register(struct iobus *bus, const char *name, uint64_t base,
		   uint64_t len, unsigned flags, io_handler_fn fn, void *arg);

/*
 * Remove the range registered at exactly base (-ENOENT if none).  Safe
 * while vCPUs run; the device's handler may still be running for an access
 * that began before.
 */
int iobus_unregister(struct iobus *bus, uint64_t base);

/* The current snapshot: iterate r[0..n) (for --stats and tests). */
const struct io_table *iobus_table(const struct iobus *bus);

/*
 * The range containing every byte of [addr, addr+size), or NULL.  Outside
 * iobus_access() the result is only stable while no other thread changes
 * the bus (tests, --stats after the vCPUs stopped), or inside
 * iobus_read_lock() / iobus_read_unlock().
 */
const struct io_range *iobus_find(const struct iobus *bus, uint64_t addr,
				  unsigned size);

/*
 * Perform one access.  Returns 0 if a device handled it, -ENOENT if nothing
 * claims it (a read then yields all ones, a write is dropped; both counted),
 * -EINVAL for a width the bus does not carry.  *val is masked to size both
 * ways.
 */
int iobus_access(struct iobus *bus, bool write, uint64_t addr, unsigned size,
		 uint64_t *val);

/*
 * A read section (iobus_access takes one): snapshots seen inside it stay
 * valid until iobus_read_unlock().  Nests; never blocks; any thread.
 */
void iobus_read_lock(void);
void iobus_read_unlock(void);

/* All ones in the low size bytes. */
static inline uint64_t io_mask(unsigned size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

#endif
