/*
 * fuzz_virtio_pci.c - the virtio-pci transport with a real virtio-blk
 * (worker thread, io_uring, a 1 MiB image) on a KVM-free VM: random
 * accesses to the common configuration, ISR, device configuration and
 * notify areas (BAR 4), the MSI-X BAR, the PCI configuration space (the
 * PCI-config access capability included), and writes into guest RAM, so
 * queues can be set up, kicked, reset and broken.  vm_destroy stops the
 * worker and waits for the disk: ASan sees any late write.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include "fuzz_vm.h"
#include "vm.h"

static char img[64];

static void make_image(void)
{
	int fd;

	if (img[0])
		return;
	snprintf(img, sizeof(img), "/tmp/hyve-fuzz-vpci-XXXXXX");
	fd = mkstemp(img);
	CHECK(fd >= 0 && ftruncate(fd, 1 << 20) == 0);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct console *con = console_new_memory();
	struct vm *vm;
	struct pci_bus *bus;
	struct pci_dev *dev;
	char opts[96];
	uint8_t *ram;

	make_image();
	vm = fz_vm(4 << 20, con);
	ram = vm_gpa(vm, 0, 1 << 16);
	CHECK(ram);
	CHECK(device_attach(vm, device_find("pci_host")) == 0);
	bus = vm_pci_bus(vm);
	pci_bus_set_irq_ops(bus, &fz_irq_ops, NULL);
	snprintf(opts, sizeof(opts), "path=%s", img);
	CHECK(pci_add_device(bus, "virtio-blk", 1, opts, &dev) == 0);
	while (fz_more(&f)) {
		uint8_t op = (uint8_t)fz_get(&f, 1);
		bool wr = op & 0x10;
		unsigned w = fz_width(op >> 6, 8);

		switch (op % 4) {
		case 0: {	/* BAR 4: common 0x0, ISR 0x1000, device 0x2000, notify 0x3000 */
			uint64_t off = (fz_get(&f, 1) % 4) * 0x1000 + fz_get(&f, 1) % 0x48;
			fz_access(vm, false, wr, pci_bar_addr(dev, 4) + off, w, fz_get(&f, 8));
			break;
		}
		case 1:		/* MSI-X table and PBA */
			fz_access(vm, false, wr, pci_bar_addr(dev, 1) + fz_get(&f, 2) % 0x1000, w,
				  fz_get(&f, 8));
			break;
		case 2: {	/* configuration space */
			uint32_t v = (uint32_t)fz_get(&f, 4);
			unsigned reg = (unsigned)fz_get(&f, 2) % 0x1000, s = fz_width(op >> 6, 4);
			reg &= ~(s - 1);
			pci_cfg_access(bus, 0, 1, 0, reg, wr, s, &v);
			break;
		}
		case 3:		/* guest RAM */
			fz_ram_write(&f, ram, op);
			break;
		}
	}
	vm_destroy(vm);
	console_close(con);
	return 0;
}
