/*
 * msix.h - MSI-X (PCI Local Bus 3.0, section 6.8.2) for a device of the
 * PCI core: the capability, the vector table and the pending-bit array in
 * one of the device's memory BARs, and delivery through KVM.
 *
 * Each vector owns a GSI (alloc_msi_gsi) and an eventfd bound to it with
 * irqfd; its route (address, data) is given to KVM whenever the guest
 * changes the entry, its mask bit, or the function mask / enable bits of
 * Message Control, and removed (masked) when the vector cannot fire.
 * msix_notify() writes the eventfd when the vector can fire, else sets its
 * pending bit; clearing the last mask delivers a pending vector.
 *
 * Guest access rules for the table and PBA (docs/pci.md): aligned 4- and
 * 8-byte accesses only; anything else reads 0 and is dropped on write.
 * The PBA is read-only.  Vector Control keeps only its Mask bit.
 */
#ifndef HYVE_PCI_MSIX_H
#define HYVE_PCI_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct pci_dev;

#define MSIX_MAX_VECTORS	2048
#define MSIX_ENTRY_SIZE		16
#define MSIX_CAP_SIZE		12
#define MSIX_CTRL_ENABLE	0x8000	/* Message Control bits */
#define MSIX_CTRL_FMASK		0x4000
#define MSIX_VEC_MASKED		0x1	/* Vector Control */

struct msix_entry {
	uint32_t addr_lo, addr_hi, data, ctrl;
};

/* What KVM was last told for a vector (to call route only on change). */
struct msix_route {
	bool valid, masked;
	uint64_t addr;
	uint32_t data;
};

struct msix {
	pthread_mutex_t lock;
	struct pci_dev *dev;
	unsigned n;			/* vectors */
	int bar;
	uint32_t table_off, pba_off;	/* inside the BAR */
	bool dedicated;			/* the BAR holds only the table and PBA */
	unsigned cap;			/* config offset of the capability */
	bool enabled, fmask;
	struct msix_entry *tab;
	uint64_t *pba;
	struct msix_route *route;
	unsigned *gsi;
	int *efd;
	uint64_t route_errors;		/* route/irqfd calls that failed */
};

/*
 * Add MSI-X with nvec vectors (1..2048) whose table and PBA live in the
 * device's already allocated memory BAR bar at table_off / pba_off (both
 * 8-byte aligned, inside the BAR, not overlapping).  Call from the type's
 * init.  0 or -errno.
 */
int msix_init(struct pci_dev *dev, unsigned nvec, int bar,
	      uint32_t table_off, uint32_t pba_off);
/*
 * Same, in a dedicated 32-bit memory BAR allocated here: table at 0, PBA at
 * 0x800 (or after the table, 4 KiB aligned, for more than 128 vectors).
 */
int msix_init_bar(struct pci_dev *dev, unsigned nvec, int bar);
/* The eventfd bound (irqfd) to vector v, or -1: for an in-kernel signaller
 * such as vhost. */
int msix_vector_eventfd(struct pci_dev *dev, unsigned v);
/* Unbind and close everything (the bus calls this at destroy). */
void msix_fini(struct pci_dev *dev);

/*
 * Signal vector v: delivered now if enabled and unmasked, else pending.
 * 0, or -EINVAL for a vector out of range / a device without MSI-X.
 * Safe from any thread.
 */
int msix_notify(struct pci_dev *dev, unsigned v);
bool msix_enabled(struct pci_dev *dev);
bool msix_pending(struct pci_dev *dev, unsigned v);

/* (core) guest accesses: a write inside the capability; the BAR regions. */
void msix_cfg_write(struct pci_dev *dev, unsigned off, unsigned size, uint32_t val);
/* true if [off, off+size) of BAR bar belongs to MSI-X (then handled). */
bool msix_bar_access(struct pci_dev *dev, int bar, bool write, uint64_t off,
		     unsigned size, uint64_t *val);

#endif
