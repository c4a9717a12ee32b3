/*
 * pci_host.c - configuration mechanism #1, ECAM and the reset control
 * register (see pci_host.h); both configuration paths end in
 * pci_cfg_access().
 *
 * 0xCF8 latches a 32-bit address only on 32-bit accesses, as chipsets do;
 * Linux detects mechanism #1 by writing 0x80000000 there and reading it
 * back.  A byte access to 0xCF9 is the reset control register: writing bit
 * 2 (RST_CPU) resets the machine (Linux's reboot=pci, and firmware).
 *
 * ECAM: offset = bus << 20 | device << 15 | function << 12 | register.
 * Accesses of 1, 2 or 4 bytes inside one dword go through; an aligned
 * 8-byte access is two dword accesses (low first); anything else reads all
 * ones and is dropped on write, like mechanism #1's straddling accesses.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include "lock.h"
#include "dev.h"
#include "err.h"
#include "vm.h"
#include "dev/pci_host.h"
#include "pci/pci.h"

#define RCR_SYS_RST	0x02
#define RCR_RST_CPU	0x04

struct pci_host {
	pthread_mutex_t lock;
	uint32_t addr;		/* latched CONFIG_ADDRESS */
	uint8_t rcr;		/* reset control register */
	void (*reset)(void *arg);
	void *reset_arg;
	struct pci_bus *bus;
};
DEV_MODEL_LOCK_FIRST(struct pci_host);

int pci_host_addr_io(void *arg, bool write, uint64_t offset, unsigned size, uint64_t *val)
{
	struct pci_host *p = arg;
	bool do_reset = false;

	lock(&p->lock, LOCK_DEVICE);
	if (offset == 0 && size == 4) {
		if (write)
			p->addr = (uint32_t)*val & 0x80fffffc;	/* reserved bits read 0 */
		else
			*val = p->addr;
	} else if (offset == 1 && size == 1) {
		if (write) {
			p->rcr = (uint8_t)*val & RCR_SYS_RST;
			do_reset = *val & RCR_RST_CPU;
		} else {
			*val = p->rcr;
		}
	} else if (!write) {
		*val = ~0ULL;	/* other partial accesses hit no register */
	}
	unlock(&p->lock, LOCK_DEVICE);
	if (do_reset && p->reset)
		p->reset(p->reset_arg);
	return 0;
}

int pci_host_data_io(void *arg, bool write, uint64_t offset, unsigned size, uint64_t *val)
{
	struct pci_host *p = arg;
	uint32_t addr, v = (uint32_t)*val;

	lock(&p->lock, LOCK_DEVICE);
	addr = p->addr;
	unlock(&p->lock, LOCK_DEVICE);
	if (!(addr & 0x80000000) || offset + size > 4) {
		if (!write)
			*val = ~0ULL;	/* disabled, or straddling the data port */
		return 0;
	}
	pci_cfg_access(p->bus, (addr >> 16) & 0xff, (addr >> 11) & 0x1f,
		       (addr >> 8) & 0x7, (addr & 0xfc) + (unsigned)offset,
		       write, size, &v);
	if (!write)
		*val = v;
	return 0;
}

int pci_host_ecam_io(void *arg, bool write, uint64_t offset, unsigned size, uint64_t *val)
{
	struct pci_host *p = arg;
	unsigned bus = (unsigned)(offset >> 20) & 0xff, slot = (unsigned)(offset >> 15) & 0x1f;
	unsigned fn = (unsigned)(offset >> 12) & 0x7, reg = (unsigned)offset & 0xfff;
	uint32_t lo = (uint32_t)*val, hi = (uint32_t)(*val >> 32);

	if (size == 8 && !(reg & 7)) {
		pci_cfg_access(p->bus, bus, slot, fn, reg, write, 4, &lo);
		pci_cfg_access(p->bus, bus, slot, fn, reg + 4, write, 4, &hi);
		if (!write)
			*val = (uint64_t)hi << 32 | lo;
		return 0;
	}
	if (size > 4 || (reg & 3) + size > 4) {
		if (!write)
			*val = ~0ULL;
		return 0;
	}
	pci_cfg_access(p->bus, bus, slot, fn, reg, write, size, &lo);
	if (!write)
		*val = lo;
	return 0;
}

int pci_host_create(struct pci_host **out, struct pci_bus *bus,
		    void (*reset)(void *arg), void *arg)
{
	struct pci_host *p = dev_model_alloc(sizeof(*p), "pci");

	if (!p)
		return -ENOMEM;
	p->reset = reset;
	p->reset_arg = arg;
	p->bus = bus;
	*out = p;
	return 0;
}

/*
 * The host bridge: Red Hat's "QEMU PCIe host bridge" ID 1b36:0008, class
 * 06/00/00, subsystem 1af4:1100.  Linux's mechanism #1 sanity check wants
 * a host bridge on bus 0.  No BARs, no interrupt.
 */
static int hostbridge_init(struct pci_dev *dev, const char *opts)
{
	pci_set_ids(dev, 0x1b36, 0x0008, 0x060000, 0, 0x1af4, 0x1100);
	return 0;
}

static const struct pci_devtype pci_hostbridge = {
	.name = "hostbridge",
	.init = hostbridge_init,
};
PCI_DEVTYPE(pci_hostbridge);

int pci_host_add_bridge(struct pci_bus *bus)
{
	return pci_add_device_type(bus, &pci_hostbridge, 0, NULL, NULL);
}

/* The model is the host bridge's latch and bus 0, which it creates. */
static int pci_host_new(struct vm *vm, void **dev)
{
	struct pci_bus *bus = NULL;
	int r;

	if ((r = pci_bus_create(vm, &bus)) < 0)
		return r;
	if ((r = pci_host_create((struct pci_host **)dev, bus, dev_vm_reset, vm)) < 0)
		pci_bus_destroy(bus);
	return r;
}

static void pci_host_free(void *arg)
{
	struct pci_host *p = arg;
	struct pci_bus *bus = p->bus;

	pci_host_destroy(p);
	pci_bus_destroy(bus);
}

static int pci_host_attach(struct vm *vm, void *arg)
{
	return pci_host_add_bridge(((struct pci_host *)arg)->bus);
}

/* Level base: PCI devices (--device, --disk) hang off the bus it makes. */
DEVICE(pci_host, .level = DEV_LEVEL_BASE, .create = pci_host_new, .destroy = pci_host_free,
       .ranges = {
	       { "pci-config-addr", PCI_CONFIG_ADDR, 4, pci_host_addr_io, IO_READ | IO_WRITE },
	       { "pci-config-data", PCI_CONFIG_DATA, 4, pci_host_data_io, IO_READ | IO_WRITE },
	       { "pci-ecam", PCI_ECAM_BASE, PCI_ECAM_SIZE, pci_host_ecam_io,
		 IO_READ | IO_WRITE | DEV_MMIO },
       },
       .attach = pci_host_attach);
