/*
 * pci_host.h - PCI configuration mechanism #1 at 0xCF8 (address) and
 * 0xCFC-0xCFF (data), plus the PC reset control register at 0xCF9.
 * Bus 0 holds only a host bridge at 00:00.0 (read-only header, ID
 * 1b36:0008); every other function reads as absent (all ones) and
 * configuration writes are dropped.  Usable without a VM.
 */
#ifndef HYVE_DEV_PCI_HOST_H
#define HYVE_DEV_PCI_HOST_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_CONFIG_ADDR	0xcf8
#define PCI_CONFIG_DATA	0xcfc

struct pci_host;

/* reset(arg) is called when the guest writes the reset bit to 0xCF9. */
int pci_host_create(struct pci_host **out, void (*reset)(void *arg), void *arg);
void pci_host_destroy(struct pci_host *p);
int pci_host_addr_io(void *arg, bool write, uint64_t offset, unsigned size, uint64_t *val);
int pci_host_data_io(void *arg, bool write, uint64_t offset, unsigned size, uint64_t *val);

#endif
