/*
 * Unit tests for the PCI host (src/dev/pci_host.c): configuration
 * mechanism #1, ECAM, the 0xCF9 reset register, the host bridge in slot 0,
 * and the device's declaration on a real VM without KVM (vm_create_nokvm).
 */
#include "unit.h"
#include <stdlib.h>
#include "dev.h"
#include "iobus.h"
#include "vm.h"
#include "testvm.h"
#include "dev/pci_host.h"
#include "pci/pci.h"

static int resets;
static void on_reset(void *arg)
{
	resets++;
}

struct fixture {
	struct vm *vm;
	struct pci_bus *bus;
	struct pci_host *p;
};

static int plain_init(struct pci_dev *dev, const char *opts)
{
	pci_set_ids(dev, 0x8086, 0x100e, 0x020000, 3, 0x8086, 0x001e);
	return 0;
}

static const struct pci_devtype plain = { .name = "plain", .init = plain_init };

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->vm = TEST_VM(.mem_size = 256ULL << 20);
	assert_int_equal(pci_bus_create(f->vm, &f->bus), 0);
	assert_int_equal(pci_host_add_bridge(f->bus), 0);
	assert_int_equal(pci_add_device_type(f->bus, &plain, 3, NULL, NULL), 0);
	assert_int_equal(pci_host_create(&f->p, f->bus, on_reset, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pci_host_destroy(f->p);
	pci_bus_destroy(f->bus);
	vm_destroy(f->vm);
	free(f);
	return 0;
}

static uint64_t cfg_read(struct pci_host *p, uint32_t addr, unsigned off, unsigned size)
{
	uint64_t v = addr;

	pci_host_addr_io(p, true, 0, 4, &v);
	v = 0;
	pci_host_data_io(p, false, off, size, &v);
	return v;
}

static void cfg_write(struct pci_host *p, uint32_t addr, unsigned off, unsigned size, uint64_t v)
{
	uint64_t a = addr;

	pci_host_addr_io(p, true, 0, 4, &a);
	pci_host_data_io(p, true, off, size, &v);
}

static uint64_t ecam_read(struct pci_host *p, uint64_t off, unsigned size)
{
	uint64_t v = 0;

	pci_host_ecam_io(p, false, off, size, &v);
	return v & io_mask(size);	/* as the bus does */
}

#define ECAM(bus, dev, fn, reg) ((uint64_t)(bus) << 20 | (dev) << 15 | (fn) << 12 | (reg))

static void test_mechanism1_detect(void **state)
{
	struct fixture *f = *state;
	uint64_t v = 0x80000000;

	pci_host_addr_io(f->p, true, 0, 4, &v);
	v = 0;
	pci_host_addr_io(f->p, false, 0, 4, &v);
	assert_int_equal(v, 0x80000000);	/* what Linux's pci_check_type1 wants */
	v = 0xffffffff;
	pci_host_addr_io(f->p, true, 0, 4, &v);
	pci_host_addr_io(f->p, false, 0, 4, &v);
	assert_int_equal(v, 0x80fffffc);	/* reserved bits read as 0 */
}

static void test_absent(void **state)
{
	struct fixture *f = *state;
	uint64_t v;

	for (unsigned dev = 1; dev < 32; dev++) {
		if (dev == 3)
			continue;
		for (unsigned size = 1; size <= 4; size *= 2) {
			v = cfg_read(f->p, 0x80000000 | (dev << 11), 4 - size, size);
			assert_true((v & 0xffffffff) == 0xffffffff);
			assert_int_equal(ecam_read(f->p, ECAM(0, dev, 0, 0), size),
					 0xffffffffULL >> (32 - 8 * size));
		}
		cfg_write(f->p, 0x80000000 | (dev << 11), 0, 2, 0x1234);	/* dropped */
	}
	/* functions 1-7, bus 1, a disabled address */
	assert_int_equal(cfg_read(f->p, 0x80000100, 0, 4), 0xffffffff);
	assert_int_equal(cfg_read(f->p, 0x80001b00, 0, 4), 0xffffffff);
	assert_int_equal(cfg_read(f->p, 0x80010000, 0, 4), 0xffffffff);
	assert_int_equal(cfg_read(f->p, 0x00000000, 0, 4) & 0xffffffff, 0xffffffff);
	assert_int_equal(ecam_read(f->p, ECAM(0, 0, 1, 0), 4), 0xffffffff);
	assert_int_equal(ecam_read(f->p, ECAM(1, 0, 0, 0), 4), 0xffffffff);
	assert_int_equal(ecam_read(f->p, ECAM(255, 31, 7, 0xffc), 4), 0xffffffff);
}

static void test_host_bridge(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(cfg_read(f->p, 0x80000000, 0, 4), 0x00081b36);	/* ID */
	assert_int_equal(cfg_read(f->p, 0x80000000, 2, 2), 0x0008);
	assert_int_equal(cfg_read(f->p, 0x80000008, 2, 2), 0x0600);	/* class */
	assert_int_equal(cfg_read(f->p, 0x8000000c, 2, 1), 0x00);	/* header type */
	assert_int_equal(cfg_read(f->p, 0x8000002c, 0, 4), 0x11001af4);	/* subsystem */
	assert_int_equal(cfg_read(f->p, 0x800000fc, 0, 4), 0);		/* beyond: zero */
	assert_int_equal(cfg_read(f->p, 0x8000003c, 1, 1), 0);		/* no pin */
	/* read-only IDs */
	cfg_write(f->p, 0x80000000, 0, 4, 0x12345678);
	assert_int_equal(cfg_read(f->p, 0x80000000, 0, 4), 0x00081b36);
	/* a straddling width/offset reads all ones, never out of bounds */
	assert_int_equal(cfg_read(f->p, 0x80000000, 3, 4), ~0ULL);
	assert_int_equal(cfg_read(f->p, 0x80000000, 2, 4), ~0ULL);
	/* the other device answers in slot 3 */
	assert_int_equal(cfg_read(f->p, 0x80001800, 0, 4), 0x100e8086);
}

static void test_ecam(void **state)
{
	struct fixture *f = *state;
	uint64_t v;

	assert_int_equal(ecam_read(f->p, ECAM(0, 0, 0, 0), 4), 0x00081b36);
	assert_int_equal(ecam_read(f->p, ECAM(0, 0, 0, 2), 2), 0x0008);
	assert_int_equal(ecam_read(f->p, ECAM(0, 0, 0, 0xb), 1), 0x06);
	assert_int_equal(ecam_read(f->p, ECAM(0, 3, 0, 0), 4), 0x100e8086);
	/* an aligned qword: two dwords */
	assert_int_equal(ecam_read(f->p, ECAM(0, 3, 0, 0), 8), 0x00000000100e8086ULL);
	assert_int_equal(ecam_read(f->p, ECAM(0, 3, 0, 8), 8), 0x0000000002000003ULL);
	assert_int_equal(ecam_read(f->p, ECAM(0, 3, 0, 0x28), 8), 0x001e808600000000ULL);
	/* straddling or odd accesses: all ones */
	assert_int_equal(ecam_read(f->p, ECAM(0, 3, 0, 2), 4), 0xffffffff);
	assert_int_equal(ecam_read(f->p, ECAM(0, 3, 0, 3), 2), 0xffff);
	assert_int_equal(ecam_read(f->p, ECAM(0, 3, 0, 4), 8), ~0ULL);
	assert_int_equal(ecam_read(f->p, ECAM(0, 3, 0, 1), 3), 0xffffff);
	/* the extended space, which mechanism #1 cannot reach: empty */
	assert_int_equal(ecam_read(f->p, ECAM(0, 3, 0, 0x100), 4), 0);
	assert_int_equal(ecam_read(f->p, ECAM(0, 3, 0, 0xffc), 4), 0);
	/* a write through ECAM is seen through mechanism #1, and back */
	v = 0x0140;
	pci_host_ecam_io(f->p, true, ECAM(0, 3, 0, 4), 2, &v);
	assert_int_equal(cfg_read(f->p, 0x80001804, 0, 2), 0x0140);
	cfg_write(f->p, 0x8000183c, 0, 1, 0x0b);
	assert_int_equal(ecam_read(f->p, ECAM(0, 3, 0, 0x3c), 1), 0x0b);
	v = 0x0000000400000005ULL;		/* qword write: 0x38 and 0x3c */
	pci_host_ecam_io(f->p, true, ECAM(0, 3, 0, 0x38), 8, &v);
	assert_int_equal(ecam_read(f->p, ECAM(0, 3, 0, 0x38), 4), 0);
	assert_int_equal(ecam_read(f->p, ECAM(0, 3, 0, 0x3c), 1), 0x04);
	/* a straddling write is dropped */
	v = 0xffffffff;
	pci_host_ecam_io(f->p, true, ECAM(0, 3, 0, 0x3e), 4, &v);
	assert_int_equal(ecam_read(f->p, ECAM(0, 3, 0, 0x3c), 4), 0x04);
}

static void test_reset_register(void **state)
{
	struct fixture *f = *state;
	uint64_t v;

	resets = 0;
	v = 0x02;				/* SYS_RST alone: no reset yet */
	pci_host_addr_io(f->p, true, 1, 1, &v);
	assert_int_equal(resets, 0);
	pci_host_addr_io(f->p, false, 1, 1, &v);
	assert_int_equal(v, 0x02);
	v = 0x06;				/* RST_CPU: reset */
	pci_host_addr_io(f->p, true, 1, 1, &v);
	assert_int_equal(resets, 1);
	/* a 16-bit write at 0xCF8 is not the reset register */
	v = 0x0606;
	pci_host_addr_io(f->p, true, 0, 2, &v);
	assert_int_equal(resets, 1);
	/* nor a byte at 0xCFA/0xCFB */
	v = 0x06;
	pci_host_addr_io(f->p, true, 2, 1, &v);
	pci_host_addr_io(f->p, true, 3, 1, &v);
	assert_int_equal(resets, 1);
	v = 0;
	pci_host_addr_io(f->p, false, 2, 2, &v);
	assert_int_equal(v, ~0ULL);
}

/* Runs in vm_destroy after the device's own teardown (registered first). */
static int bus_gone_calls;
static void bus_gone(void *vm)
{
	assert_null(pci_bus_of(vm));
	bus_gone_calls++;
}

/* The DEVICE() declaration on a VM: ranges registered, the bus findable, freed. */
static void test_device_init(void **state)
{
	const struct device_desc *d = device_find("pci_host");
	struct vm *vm = TEST_VM(.mem_size = 256ULL << 20);
	struct pci_bus *bus;
	uint64_t v;

	assert_non_null(d);
	assert_int_equal(vm_on_destroy(vm, bus_gone, vm), 0);
	assert_int_equal(device_attach(vm, d), 0);
	assert_non_null(iobus_find(PIO(vm), 0xcf8, 4));
	assert_non_null(iobus_find(PIO(vm), 0xcf9, 1));
	assert_non_null(iobus_find(PIO(vm), 0xcfc, 4));
	assert_non_null(iobus_find(MMIO(vm), PCI_ECAM_BASE, 4));
	assert_non_null(iobus_find(MMIO(vm), PCI_ECAM_BASE + PCI_ECAM_SIZE - 4, 4));
	assert_null(iobus_find(MMIO(vm), PCI_ECAM_BASE + PCI_ECAM_SIZE, 1));
	bus = pci_bus_of(vm);
	assert_non_null(bus);
	assert_non_null(pci_bus_dev(bus, 0));
	/* through the buses, as a vCPU would */
	v = 0x80000000;
	assert_int_equal(iobus_access(PIO(vm), true, 0xcf8, 4, &v), 0);
	assert_int_equal(iobus_access(PIO(vm), false, 0xcfc, 4, &v), 0);
	assert_int_equal(v, 0x00081b36);
	assert_int_equal(iobus_access(MMIO(vm), false, PCI_ECAM_BASE + 8, 4, &v), 0);
	assert_int_equal(v, 0x06000000);
	/* the reset register stops the VM with VM_RESET */
	v = 0x06;
	assert_int_equal(iobus_access(PIO(vm), true, 0xcf9, 1, &v), 0);
	assert_int_equal(vm_stop_reason(vm), VM_RESET);
	/* vm_destroy frees the host and its bus, then bus_gone checks */
	vm_destroy(vm);
	assert_int_equal(bus_gone_calls, 1);
}

TEST_MAIN(NULL, NULL,
	  TEST_FIX(test_mechanism1_detect), TEST_FIX(test_absent), TEST_FIX(test_host_bridge),
	  TEST_FIX(test_ecam), TEST_FIX(test_reset_register), TEST(test_device_init))
