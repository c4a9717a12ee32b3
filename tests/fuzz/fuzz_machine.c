/*
 * fuzz_machine.c - the whole machine without KVM (QEMU's generic-fuzz is
 * the model): every platform device (devices_init: PCI host, UART, RTC,
 * i8042, ACPI PM, POST, bvmcons, ...) plus virtio-blk and virtio-rng on
 * the PCI bus, driven by a random sequence of port accesses, MMIO accesses
 * (ECAM, the 32- and 64-bit BAR windows, anywhere) and guest RAM writes.
 * A guest reset or power-off only records a stop: the sequence goes on.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include "fuzz_vm.h"

#define MEM (16u << 20)

static char img[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct console *con = console_new_memory();
	struct vm *vm;
	struct pci_bus *bus;
	char opts[96];
	uint8_t *ram;

	if (!img[0]) {
		snprintf(img, sizeof(img), "/tmp/hyve-fuzz-machine-XXXXXX");
		int fd = mkstemp(img);
		CHECK(fd >= 0 && ftruncate(fd, 1 << 20) == 0);
		close(fd);
	}
	vm = fz_vm(MEM, con);
	ram = vm_gpa(vm, 0, 1 << 16);
	CHECK(ram);
	CHECK(devices_init(vm) == 0);
	bus = vm_pci_bus(vm);
	CHECK(bus);
	pci_bus_set_irq_ops(bus, &fz_irq_ops, NULL);
	snprintf(opts, sizeof(opts), "path=%s", img);
	CHECK(pci_add_device(bus, "virtio-blk", -1, opts, NULL) == 0);
	CHECK(pci_add_device(bus, "virtio-rng", -1, "", NULL) == 0);
	while (fz_more(&f)) {
		uint8_t op = (uint8_t)fz_get(&f, 1);
		bool wr = op & 0x10;

		switch (op % 4) {
		case 0:		/* any port, any width */
			fz_access(vm, true, wr, fz_get(&f, 2), fz_width(op >> 6, 4), fz_get(&f, 4));
			break;
		case 1: {	/* MMIO where devices live */
			static const uint64_t base[4] = {
				PCI_ECAM_BASE, PCI_MMIO32_BASE, 0, 0xfec00000,
			};
			unsigned r = (unsigned)fz_get(&f, 1) % 4;
			uint64_t b = r == 2 ? pci_mmio64_base(MEM) : base[r];
			fz_access(vm, false, wr, b + fz_get(&f, 3), fz_width(op >> 6, 8), fz_get(&f, 8));
			break;
		}
		case 2:		/* MMIO anywhere */
			fz_access(vm, false, wr, fz_get(&f, 8), fz_width(op >> 6, 8), fz_get(&f, 8));
			break;
		case 3:		/* guest RAM */
			fz_ram_write(&f, ram, op);
			break;
		}
	}
	vm_destroy(vm);
	console_close(con);
	return 0;
}
