/*
 * fuzz_pci.c - the PCI core through the guest's ways in: configuration
 * mechanism #1 (ports 0xCF8/0xCFC), ECAM, and the BARs wherever the guest
 * moved them, on a KVM-free VM with the PCI host bridge and a device that
 * has an I/O BAR, a 32-bit and a 64-bit memory BAR, MSI-X (8 vectors in
 * its own BAR) and INTx.  Records: op byte, then operands.  After every
 * record: no mapped memory BAR overlaps RAM, ECAM or the LAPIC/IOAPIC hole.
 */
#include "fuzz_vm.h"
#include "pci/msix.h"

static uint64_t bar_hits;

static int fd_bar_read(struct pci_dev *d, int bar, uint64_t off, unsigned size, uint64_t *val)
{
	if (bar == 1)
		return msix_bar_access(d, bar, false, off, size, val) ? 0 : 0;
	bar_hits++;
	*val = off;
	return 0;
}

static int fd_bar_write(struct pci_dev *d, int bar, uint64_t off, unsigned size, uint64_t val)
{
	if (bar == 1)
		msix_bar_access(d, bar, true, off, size, &val);
	bar_hits++;
	return 0;
}

static int fd_init(struct pci_dev *d, const char *opts)
{
	int r;

	pci_set_ids(d, 0x1af4, 0x10f0, 0xff0000, 1, 0x1af4, 1);
	if ((r = pci_alloc_bar(d, 0, PCI_BAR_IO, false, 0x20)) < 0 ||
	    (r = msix_init_bar(d, 8, 1)) < 0 ||
	    (r = pci_alloc_bar(d, 2, PCI_BAR_MEM64, true, 0x4000)) < 0 ||
	    (r = pci_alloc_bar(d, 4, PCI_BAR_MEM32, false, 0x1000)) < 0)
		return r;
	return pci_enable_intx(d, 1);
}

static void fd_fini(struct pci_dev *d)
{
	msix_fini(d);
}

static const struct pci_devtype fuzzdev = {
	.name = "fuzzdev", .init = fd_init, .fini = fd_fini,
	.bar_read = fd_bar_read, .bar_write = fd_bar_write,
};

static const uint64_t bar_size[PCI_BARS] = { 0x20, 0x1000, 0x4000, 0, 0x1000, 0 };

static void check_bars(struct vm *vm, struct pci_dev *d)
{
	for (int i = 0; i < PCI_BARS; i++) {
		uint64_t a = pci_bar_addr(d, i), n = bar_size[i];

		if (!n || !pci_bar_mapped(d, i))
			continue;
		CHECK(a + n > a);
		if (i == 0) {
			CHECK(a + n <= 0x10000);
			continue;
		}
		CHECK(!vm_ram_overlaps(vm, a, n));
		CHECK(a + n <= PCI_ECAM_BASE || a >= PCI_ECAM_BASE + PCI_ECAM_SIZE);
		CHECK(a + n <= PCI_PLATFORM_HOLE || a >= 0x100000000ULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct console *con = console_new_memory();
	struct vm *vm = fz_vm(64 << 20, con);
	struct pci_bus *bus;
	struct pci_dev *dev;

	CHECK(device_attach(vm, device_find("pci_host")) == 0);
	bus = vm_pci_bus(vm);
	CHECK(bus);
	pci_bus_set_irq_ops(bus, &fz_irq_ops, NULL);
	CHECK(pci_add_device_type(bus, &fuzzdev, 1, NULL, &dev) == 0);
	while (fz_more(&f)) {
		uint8_t op = (uint8_t)fz_get(&f, 1);
		bool wr = op & 0x10;
		unsigned w;

		switch (op % 6) {
		case 0: {	/* mechanism #1: address, then data at an offset */
			uint32_t addr = 0x80000000u | (uint32_t)fz_get(&f, 2) % 4 << 11 |
					((uint32_t)fz_get(&f, 1) & 0xfc);
			if (op & 0x20)
				addr &= ~0x80000000u;
			fz_access(vm, true, true, 0xcf8, 4, addr);
			w = fz_width(op >> 6, 4);
			fz_access(vm, true, wr, 0xcfc + fz_get(&f, 1) % 4, w, fz_get(&f, 4));
			break;
		}
		case 1: {	/* ECAM: slots 0-3, any register, any width */
			uint64_t a = PCI_ECAM_BASE + (fz_get(&f, 1) % 4 << 15) + fz_get(&f, 2) % 0x1004;
			fz_access(vm, false, wr, a, fz_width(op >> 6, 8), fz_get(&f, 8));
			break;
		}
		case 2: {	/* a BAR, wherever it is now */
			int b = (int)(fz_get(&f, 1) % PCI_BARS);
			uint64_t a = pci_bar_addr(dev, b) + fz_get(&f, 2) % 0x4010;
			fz_access(vm, b == 0, wr, b == 0 ? a & 0xffff : a,
				  fz_width(op >> 6, b == 0 ? 4 : 8), fz_get(&f, 8));
			break;
		}
		case 3:
			msix_notify(dev, (unsigned)fz_get(&f, 1) % 10);
			break;
		case 4:
			pci_raise_intx(dev, op & 0x20);
			break;
		case 5:		/* the 32-bit MMIO window, anywhere */
			fz_access(vm, false, wr, PCI_MMIO32_BASE + fz_get(&f, 4) % 0x20000000,
				  fz_width(op >> 6, 8), fz_get(&f, 8));
			break;
		}
		check_bars(vm, dev);
	}
	vm_destroy(vm);
	console_close(con);
	return 0;
}
