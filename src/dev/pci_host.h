/*
 * pci_host.h - the guest's ways into the PCI core (src/pci/pci.h):
 * configuration mechanism #1 at 0xCF8 (address) and 0xCFC-0xCFF (data),
 * ECAM at PCI_ECAM_BASE (256 MiB, buses 0-255, only bus 0 populated), plus
 * the PC reset control register at 0xCF9.  The host bridge (ID 1b36:0008,
 * class 06/00/00) is an ordinary device of the core in slot 0.
 *
 * The handlers are usable without a VM: give pci_host_create any bus.
 */
#ifndef HYVE_DEV_PCI_HOST_H
#define HYVE_DEV_PCI_HOST_H

#include <stdbool.h>
#include <stdint.h>
#include "dev.h"
#include "iobus.h"

#define PCI_CONFIG_ADDR	0xcf8
#define PCI_CONFIG_DATA	0xcfc

struct pci_bus;
struct pci_host;

/*
 * A host for bus (not owned); reset(arg) is called when the guest writes
 * the reset bit to 0xCF9.
 */
int pci_host_create(struct pci_host **out, struct pci_bus *bus,
		    void (*reset)(void *arg), void *arg);
static inline void pci_host_destroy(struct pci_host *p) { dev_model_free(p); }
/* Add the host bridge to slot 0 of bus. */
int pci_host_add_bridge(struct pci_bus *bus);

/* iobus handlers: 0xCF8 (4 ports), 0xCFC (4 ports), the ECAM region. */
io_handler pci_host_addr_io;
io_handler pci_host_data_io;
io_handler pci_host_ecam_io;

#endif
