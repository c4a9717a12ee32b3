/* lock.c - the per-thread lock-order check (lock.h, docs/threads.md). */
#include <stdio.h>
#include <stdlib.h>
#include "lock.h"

static const char *const rank_names[LOCK_NRANKS] = {
	[LOCK_DRAIN] = "vm drain", [LOCK_PCI_BUS] = "pci bus",
	[LOCK_PCI_DEV] = "pci device",
	[LOCK_VIRTIO] = "virtio device", [LOCK_NET_SLIRP] = "net slirp",
	[LOCK_NET_RXQ] = "net rx queue", [LOCK_DEVICE] = "isa device",
	[LOCK_CONSOLE_FLUSH] = "console-flush", [LOCK_CONSOLE] = "console", [LOCK_MSIX] = "msix",
	[LOCK_PCI_INTX] = "pci intx", [LOCK_IOBUS] = "iobus",
	[LOCK_VMM_ROUTES] = "vmm routes", [LOCK_IOBUS_SEEN] = "iobus seen",
	[LOCK_VM_STOP] = "vm stop", [LOCK_VM_PAUSE] = "vm pause", [LOCK_API] = "api",
};

/* Bit r set: this thread holds a lock of rank r. */
static __thread unsigned held;

const char *lock_rank_name(enum lock_rank r)
{
	return r > 0 && r < LOCK_NRANKS && rank_names[r] ? rank_names[r] : "?";
}

void lock_rank_acquire(enum lock_rank r)
{
	unsigned bad = held & ~((1u << r) - 1);	/* held ranks >= r */

	if (r <= 0 || r >= LOCK_NRANKS || bad) {
		int top = 31 - __builtin_clz(bad ? bad : 1);

		fprintf(stderr, "hyve: lock order violated: taking '%s' while holding '%s' "
			"(docs/threads.md)\n", lock_rank_name(r), lock_rank_name(top));
		abort();
	}
	held |= 1u << r;
}

void lock_rank_release(enum lock_rank r)
{
	held &= ~(1u << r);
}
