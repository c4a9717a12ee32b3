/*
 * pci_host.c - PCI configuration mechanism #1 with no devices yet, and the
 * reset control register (see pci_host.h).
 *
 * 0xCF8 latches a 32-bit address only on 32-bit accesses, as chipsets do;
 * Linux detects mechanism #1 by writing 0x80000000 there and reading it
 * back.  A byte access to 0xCF9 is the reset control register: writing bit
 * 2 (RST_CPU) resets the machine (Linux's reboot=pci, and firmware).
 * Configuration reads of anything but the host bridge return all ones.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include "dev.h"
#include "err.h"
#include "vm.h"
#include "dev/pci_host.h"

#define RCR_SYS_RST	0x02
#define RCR_RST_CPU	0x04

struct pci_host {
	pthread_mutex_t lock;
	uint32_t addr;		/* latched CONFIG_ADDRESS */
	uint8_t rcr;		/* reset control register */
	void (*reset)(void *arg);
	void *reset_arg;
};

int pci_host_addr_io(void *arg, bool write, uint64_t offset, unsigned size, uint64_t *val)
{
	struct pci_host *p = arg;
	bool do_reset = false;

	pthread_mutex_lock(&p->lock);
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
	pthread_mutex_unlock(&p->lock);
	if (do_reset && p->reset)
		p->reset(p->reset_arg);
	return 0;
}

/*
 * The host bridge's configuration header (00:00.0, read-only): Red Hat's
 * "QEMU PCIe host bridge" ID 1b36:0008, class 06/00/00 (host bridge).
 * Linux's mechanism #1 sanity check wants a host bridge on bus 0.
 */
static const uint8_t pci_host_bridge_cfg[64] = {
	[0x00] = 0x36, [0x01] = 0x1b,		/* vendor */
	[0x02] = 0x08, [0x03] = 0x00,		/* device */
	[0x0b] = 0x06,				/* class: bridge, host (0x0600) */
	[0x0e] = 0x00,				/* header type 0, single function */
	[0x2c] = 0xf4, [0x2d] = 0x1a,		/* subsystem vendor (Red Hat) */
	[0x2e] = 0x00, [0x2f] = 0x11,		/* subsystem 0x1100 */
};

int pci_host_data_io(void *arg, bool write, uint64_t offset, unsigned size, uint64_t *val)
{
	struct pci_host *p = arg;
	uint32_t addr, reg;
	uint64_t v = 0;

	if (write)
		return 0;	/* the bridge's header is read-only */
	pthread_mutex_lock(&p->lock);
	addr = p->addr;
	pthread_mutex_unlock(&p->lock);
	reg = (addr & 0xfc) + (uint32_t)offset;
	/* enabled, bus 0, device 0, function 0: the host bridge; else nothing */
	if ((addr & 0x80fff800) != 0x80000000 || (addr & 0x700) || offset + size > 4) {
		*val = ~0ULL;
		return 0;
	}
	for (unsigned i = 0; i < size; i++)
		if (reg + i < sizeof(pci_host_bridge_cfg))
			v |= (uint64_t)pci_host_bridge_cfg[reg + i] << (8 * i);
	*val = v;
	return 0;
}

int pci_host_create(struct pci_host **out, void (*reset)(void *arg), void *arg)
{
	struct pci_host *p = calloc(1, sizeof(*p));

	if (!p)
		return err_set(-ENOMEM, "pci: out of memory");
	pthread_mutex_init(&p->lock, NULL);
	p->reset = reset;
	p->reset_arg = arg;
	*out = p;
	return 0;
}

void pci_host_destroy(struct pci_host *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static void pci_host_reset(void *vm)
{
	vm_request_stop(vm, VM_RESET, NULL);
}

static void pci_host_fini(void *p)
{
	pci_host_destroy(p);
}

static int pci_host_init(struct vm *vm)
{
	static struct pci_host *host;
	int r;

	if ((r = pci_host_create(&host, pci_host_reset, vm)) < 0)
		return r;
	if ((r = vm_on_destroy(vm, pci_host_fini, host)) < 0) {
		pci_host_destroy(host);
		return r;
	}
	if ((r = vm_register_pio(vm, "pci-config-addr", PCI_CONFIG_ADDR, 4,
				 IO_READ | IO_WRITE, pci_host_addr_io, host)) < 0 ||
	    (r = vm_register_pio(vm, "pci-config-data", PCI_CONFIG_DATA, 4,
				 IO_READ | IO_WRITE, pci_host_data_io, host)) < 0)
		return r;
	return 0;
}
DEVICE(pci_host, pci_host_init);
