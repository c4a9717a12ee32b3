/*
 * testvirtio.h - the virtio device tests' driver side, without KVM.
 *
 * vring_desc_put: a split virtqueue descriptor as a driver writes it.
 *
 * Unless TESTVIRTIO_NO_FIXTURE is defined, also the virtio-pci fixture: a
 * VM of RAM_SIZE (the test defines it) with a PCI bus whose interrupts go
 * nowhere, the modern common configuration in BAR 4, descriptor tables in
 * guest RAM.  Include it then after defining struct fixture, which has at
 * least
 *	struct vm *vm; struct pci_bus *bus; struct pci_dev *dev; uint8_t *ram;
 */
#ifndef HYVE_TESTVIRTIO_H
#define HYVE_TESTVIRTIO_H

#include <stdint.h>
#include <string.h>

/* The descriptor at d (virtio 1.2, 2.7.5: addr, len, flags, next; little-endian host). */
static inline void vring_desc_put(uint8_t *d, uint64_t addr, uint32_t len, uint16_t flags,
				  uint16_t next)
{
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

#ifndef TESTVIRTIO_NO_FIXTURE

#include "pci/pci.h"
#include "virtio/virtio_pci.h"
#include "vm.h"
#include "testvm.h"

#define TESTVIRTIO_BAR	4

static inline void w(struct fixture *f, unsigned off, unsigned size, uint64_t v)
{
	virtio_pci_bar_write(f->dev, TESTVIRTIO_BAR, off, size, v);
}

static inline uint64_t r(struct fixture *f, unsigned off, unsigned size)
{
	uint64_t v = 0;

	virtio_pci_bar_read(f->dev, TESTVIRTIO_BAR, off, size, &v);
	return v;
}

/* The fixture's VM (f->ram: guest-physical 0 in the host mapping) and bus. */
static inline int testvirtio_open(struct fixture *f)
{
	f->vm = TEST_VM(.mem_size = RAM_SIZE);
	f->ram = vm_gpa(f->vm, 0, 1);
	if (pci_bus_create(f->vm, &f->bus) < 0)
		return -1;
	pci_bus_set_irq_ops(f->bus, &testvm_no_irq, f);
	return 0;
}

static inline void testvirtio_close(struct fixture *f)
{
	pci_bus_destroy(f->bus);
	vm_destroy(f->vm);
}

/* The driver's side of initialisation (virtio 1.2, 3.1.1). */
static inline void driver_init(struct fixture *f, uint64_t features)
{
	w(f, 0x14, 1, 0);				/* reset */
	w(f, 0x14, 1, 1 | 2);				/* ACKNOWLEDGE | DRIVER */
	w(f, 0x08, 4, 0);
	w(f, 0x0c, 4, (uint32_t)features);
	w(f, 0x08, 4, 1);
	w(f, 0x0c, 4, (uint32_t)(features >> 32));
	w(f, 0x14, 1, 1 | 2 | 8);			/* FEATURES_OK */
}

/* Descriptor i of the table at guest-physical table (virtio 1.2, 2.7.5). */
static inline void put_desc(struct fixture *f, uint64_t table, unsigned i, uint64_t addr,
			    uint32_t len, uint16_t flags, uint16_t next)
{
	vring_desc_put(f->ram + table + 16 * i, addr, len, flags, next);
}

#endif /* TESTVIRTIO_NO_FIXTURE */

#endif
