/*
 * lock.h - the named locks and their one global order (docs/threads.md).
 *
 * Every lock hyve takes has a rank; a thread may only take a lock of a
 * higher rank than every lock it already holds.  lock() / unlock() are
 * pthread_mutex_lock / unlock; in debug builds (HYVE_LOCK_DEBUG, set by the
 * SAN and fuzz builds) they also check the order per thread and abort with
 * both lock names on a violation.
 */
#ifndef HYVE_LOCK_H
#define HYVE_LOCK_H

#include <pthread.h>

/* Outermost first.  Keep in step with docs/threads.md. */
enum lock_rank {
	LOCK_API = 1,		/* api: the control plane's state (held across vm_* calls) */
	LOCK_DRAIN,		/* vm: one consumer of KVM's coalesced ring */
	LOCK_PCI_BUS,		/* pci: adding devices, window cursors */
	LOCK_PCI_DEV,		/* pci: one device's config space and BARs */
	LOCK_VIRTIO,		/* virtio: one device's state (worker, vCPUs) */
	LOCK_NET_SLIRP,		/* backend/net_slirp: libslirp (its thread, the worker) */
	LOCK_NET_RXQ,		/* backend/net_slirp: frames waiting for the guest */
	LOCK_DEVICE,		/* an ISA device model (uart, rtc, i8042, acpi-pm, pci-host) */
	LOCK_CONSOLE_FLUSH,	/* console: one writer of its output at a time */
	LOCK_CONSOLE,		/* console: buffers and listeners */
	LOCK_MSIX,		/* pci/msix: one device's MSI-X table */
	LOCK_PCI_INTX,		/* pci: INTx levels of the bus */
	LOCK_IOBUS,		/* iobus: writers of a range table */
	LOCK_VMM_ROUTES,	/* vmm: the GSI routing table */
	LOCK_IOBUS_SEEN,	/* iobus: unclaimed-address statistics */
	LOCK_VM_STOP,		/* vm: the stop reason (a leaf) */
	LOCK_VM_PAUSE,		/* vm: pause request and parked vCPUs (a leaf) */
	LOCK_NRANKS
};

/* The checker (always built; called by lock()/unlock() in debug builds). */
void lock_rank_acquire(enum lock_rank r);
void lock_rank_release(enum lock_rank r);
const char *lock_rank_name(enum lock_rank r);

static inline void lock(pthread_mutex_t *m, enum lock_rank r)
{
#ifdef HYVE_LOCK_DEBUG
	lock_rank_acquire(r);
#else
	(void)r;
#endif
	pthread_mutex_lock(m);
}

static inline void unlock(pthread_mutex_t *m, enum lock_rank r)
{
	pthread_mutex_unlock(m);
#ifdef HYVE_LOCK_DEBUG
	lock_rank_release(r);
#else
	(void)r;
#endif
}

#endif
