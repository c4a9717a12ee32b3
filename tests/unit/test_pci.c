/*
 * Unit tests for the PCI core (src/pci/pci.c) without KVM: a real struct vm
 * from vm_create_nokvm (port and MMIO buses, guest RAM), interrupt calls
 * recorded, and a dummy device type with an
 * I/O, a 32-bit and a 64-bit prefetchable BAR, two capabilities and
 * device-specific registers.
 */
#include "unit.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "err.h"
#include "iobus.h"
#include "vm.h"
#include "testvm.h"
#include "pci/pci.h"

/* ---- the VM and interrupt recorder ---- */

struct fixture {
	struct vm *vm;
	struct pci_bus *bus;
	/* irq_line calls */
	int nline;
	unsigned line_gsi[64];
	bool line_level[64];
	bool gsi_level[32];
	/* what the dummy device saw */
	int bar_calls;
	int last_bar;
	uint64_t last_off, last_val;
	bool last_write;
	int mapped_calls;
	uint32_t reg60;
};

static struct fixture *cur;

static int rec_line(void *ctx, unsigned gsi, bool level)
{
	struct fixture *f = ctx;

	if (f->nline < 64) {
		f->line_gsi[f->nline] = gsi;
		f->line_level[f->nline] = level;
	}
	f->nline++;
	if (gsi < 32)
		f->gsi_level[gsi] = level;
	return 0;
}

static int rec_alloc(void *ctx, unsigned *gsi)
{
	static unsigned next = 24;

	*gsi = next++;
	return 0;
}

static int rec_route(void *ctx, unsigned gsi, uint64_t addr, uint32_t data, bool masked)
{
	return 0;
}

static int rec_irqfd(void *ctx, unsigned gsi, int fd, bool deassign)
{
	return 0;
}

static const struct pci_irq_ops rec_ops = { rec_line, rec_alloc, rec_route, rec_irqfd };

#define MEM_SIZE (256ULL << 20)

static int nop_io(void *arg, bool write, uint64_t off, unsigned size, uint64_t *val)
{
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->vm = TEST_VM(.mem_size = MEM_SIZE);	/* RAM as vm_create lays it out */
	/* something else on the buses: a UART and an MMIO device */
	assert_int_equal(iobus_register(PIO(f->vm), "uart", 0x3f8, 8, IO_READ, nop_io, NULL), 0);
	assert_int_equal(pci_bus_create(f->vm, &f->bus), 0);
	pci_bus_set_irq_ops(f->bus, &rec_ops, f);
	cur = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pci_bus_destroy(f->bus);
	/* every BAR was unmapped: only the UART is left */
	assert_int_equal(iobus_table(PIO(f->vm))->n, 1);
	assert_int_equal(iobus_table(MMIO(f->vm))->n, 0);
	vm_destroy(f->vm);
	free(f);
	return 0;
}

/* ---- the dummy device type ---- */

#define DUMMY_VENDOR	0x1af4
#define DUMMY_DEVICE	0x10f0
#define DUMMY_CLASS	0x0c0330
#define DUMMY_REV	0x07
#define IO_SIZE		0x20
#define MEM32_SIZE	0x1000
#define MEM64_SIZE	0x4000

static int dummy_init(struct pci_dev *dev, const char *opts)
{
	static const uint8_t vcap[8] = { PCI_CAP_ID_VNDR, 0xee, 8, 1, 2, 3, 4, 5 };
	static const uint8_t pmcap[8] = { 0x01, 0xee, 0x03, 0x00, 0x08 };
	int r;

	if (opts && !strcmp(opts, "fail"))
		return err_set(-EINVAL, "dummy: told to fail");
	pci_set_ids(dev, DUMMY_VENDOR, DUMMY_DEVICE, DUMMY_CLASS, DUMMY_REV, 0x1af4, 0x1100);
	if ((r = pci_alloc_bar(dev, 0, PCI_BAR_IO, false, IO_SIZE)) < 0 ||
	    (r = pci_alloc_bar(dev, 1, PCI_BAR_MEM32, false, MEM32_SIZE - 100)) < 0 ||
	    (r = pci_alloc_bar(dev, 2, PCI_BAR_MEM64, true, MEM64_SIZE)) < 0)
		return r;
	if ((r = pci_add_cap(dev, vcap, sizeof(vcap))) != 0x40)
		return -EIO;
	if ((r = pci_add_cap(dev, pmcap, 6)) != 0x48)
		return -EIO;
	return pci_enable_intx(dev, 1);
}

static void dummy_cfg_read(struct pci_dev *dev, unsigned off, unsigned size, uint32_t *val)
{
	if (off == 0x64 && size == 4)
		*val = 0xfeedf00d;
}

static int dummy_cfg_write(struct pci_dev *dev, unsigned off, unsigned size, uint32_t val)
{
	if (off == 0x60 && size == 4) {
		cur->reg60 = val;
		pci_cfg_set32(dev, 0x60, val);
		return 0;
	}
	return 1;
}

static int dummy_bar_read(struct pci_dev *dev, int bar, uint64_t off, unsigned size, uint64_t *val)
{
	cur->bar_calls++;
	cur->last_bar = bar;
	cur->last_off = off;
	cur->last_write = false;
	*val = 0x1000u * (unsigned)bar + off;
	return 0;
}

static int dummy_bar_write(struct pci_dev *dev, int bar, uint64_t off, unsigned size, uint64_t val)
{
	cur->bar_calls++;
	cur->last_bar = bar;
	cur->last_off = off;
	cur->last_val = val;
	cur->last_write = true;
	return 0;
}

static void dummy_bar_mapped(struct pci_dev *dev, int bar, uint64_t addr, bool mapped)
{
	cur->mapped_calls++;
}

static const struct pci_devtype dummy = {
	.name = "dummy",
	.init = dummy_init,
	.cfg_read = dummy_cfg_read,
	.cfg_write = dummy_cfg_write,
	.bar_read = dummy_bar_read,
	.bar_write = dummy_bar_write,
	.bar_mapped = dummy_bar_mapped,
};
PCI_DEVTYPE(dummy);

/* A type with no BARs and no hooks. */
static int plain_init(struct pci_dev *dev, const char *opts)
{
	pci_set_ids(dev, 0x8086, 0x1234, 0xff0000, 0, 0, 0);
	return 0;
}

static const struct pci_devtype plain = { .name = "plain", .init = plain_init };

/* ---- helpers ---- */

static uint32_t rd(struct fixture *f, unsigned slot, unsigned reg, unsigned size)
{
	uint32_t v = 0x5a5a5a5a;

	assert_int_equal(pci_cfg_access(f->bus, 0, slot, 0, reg, false, size, &v), 0);
	return v;
}

static void wr(struct fixture *f, unsigned slot, unsigned reg, unsigned size, uint32_t v)
{
	assert_int_equal(pci_cfg_access(f->bus, 0, slot, 0, reg, true, size, &v), 0);
}

static struct pci_dev *add(struct fixture *f, int slot)
{
	struct pci_dev *d = NULL;

	assert_int_equal(pci_add_device(f->bus, "dummy", slot, NULL, &d), 0);
	assert_non_null(d);
	return d;
}

static const struct io_range *mmio_at(struct fixture *f, uint64_t a)
{
	return iobus_find(MMIO(f->vm), a, 1);
}

static const struct io_range *pio_at(struct fixture *f, uint64_t a)
{
	return iobus_find(PIO(f->vm), a, 1);
}

/* Program a BAR pair with memory decode off, then turn decode back on. */
static void move_bar(struct fixture *f, unsigned slot, int bar, uint64_t addr)
{
	uint16_t cmd = (uint16_t)rd(f, slot, PCI_COMMAND, 2);

	wr(f, slot, PCI_COMMAND, 2, cmd & ~(PCI_CMD_IO | PCI_CMD_MEM));
	wr(f, slot, PCI_BAR0 + 4 * (unsigned)bar, 4, (uint32_t)addr);
	if (bar == 2)
		wr(f, slot, PCI_BAR0 + 12, 4, (uint32_t)(addr >> 32));
	wr(f, slot, PCI_COMMAND, 2, cmd);
}

/* ---- tests ---- */

static void test_slots(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *d;

	assert_ptr_equal(pci_devtype_find("dummy"), &dummy);
	assert_null(pci_devtype_find("nonesuch"));
	assert_int_equal(pci_add_device(f->bus, "nonesuch", -1, NULL, &d), -ENOENT);
	/* automatic slots count from 1, in order; 0 is the host bridge's */
	d = add(f, -1);
	assert_int_equal(d->slot, 1);
	assert_int_equal(pci_add_device_type(f->bus, &plain, 5, NULL, &d), 0);
	assert_int_equal(d->slot, 5);
	d = add(f, -1);
	assert_int_equal(d->slot, 2);
	assert_int_equal(pci_add_device_type(f->bus, &plain, 5, NULL, &d), -EBUSY);
	assert_int_equal(pci_add_device_type(f->bus, &plain, 32, NULL, &d), -EINVAL);
	/* a failing init leaves the slot free and nothing mapped */
	assert_int_equal(pci_add_device(f->bus, "dummy", 3, "fail", &d), -EINVAL);
	assert_null(pci_bus_dev(f->bus, 3));
	assert_int_equal(pci_add_device_type(f->bus, &plain, 0, NULL, &d), 0);
	for (int i = 0; i < 28; i++)
		assert_int_equal(pci_add_device_type(f->bus, &plain, -1, NULL, NULL), 0);
	assert_int_equal(pci_add_device_type(f->bus, &plain, -1, NULL, NULL), -ENOSPC);
	assert_non_null(strstr(err_msg(), "no free slot"));
	for (unsigned s = 0; s < PCI_SLOTS; s++)
		assert_non_null(pci_bus_dev(f->bus, s));
	assert_null(pci_bus_dev(f->bus, 32));
	assert_ptr_equal(pci_bus_of(f->vm), f->bus);
}

static void test_absent_functions(void **state)
{
	struct fixture *f = *state;
	uint32_t v;

	add(f, 1);
	for (unsigned slot = 0; slot < 40; slot++) {
		for (unsigned fn = 0; fn < 8; fn++) {
			for (unsigned size = 1; size <= 4; size *= 2) {
				if (slot == 1 && fn == 0)
					continue;
				v = 0;
				assert_int_equal(pci_cfg_access(f->bus, 0, slot, fn, 0, false, size, &v), 0);
				assert_int_equal(v, 0xffffffff);
				v = 0;
				pci_cfg_access(f->bus, 0, slot, fn, PCI_COMMAND, true, size, &v);
			}
		}
	}
	/* another bus */
	v = 0;
	pci_cfg_access(f->bus, 1, 1, 0, 0, false, 4, &v);
	assert_int_equal(v, 0xffffffff);
	pci_cfg_access(f->bus, 255, 1, 0, 0, false, 4, &v);
	assert_int_equal(v, 0xffffffff);
	/* the device itself is there */
	assert_int_equal(rd(f, 1, 0, 4), DUMMY_DEVICE << 16 | DUMMY_VENDOR);
}

/* Every width at every offset of the first 256 bytes agrees with the bytes. */
static void test_widths_and_offsets(void **state)
{
	struct fixture *f = *state;
	uint8_t b[256];

	add(f, 1);
	for (unsigned i = 0; i < 256; i++)
		b[i] = (uint8_t)rd(f, 1, i, 1);
	for (unsigned reg = 0; reg < 256; reg++) {
		for (unsigned size = 1; size <= 4; size *= 2) {
			uint32_t want = 0;

			if ((reg & 3) + size > 4) {
				/* straddles a dword: refused, reads all ones */
				assert_int_equal(rd(f, 1, reg, size), 0xffffffff);
				continue;
			}
			for (unsigned i = 0; i < size; i++)
				want |= (uint32_t)b[reg + i] << (8 * i);
			if (reg == 0x64 && size == 4)
				want = 0xfeedf00d;		/* the hook's register */
			assert_int_equal(rd(f, 1, reg, size), want);
		}
		assert_int_equal(rd(f, 1, reg, 3), 0xffffffff);	/* no 3-byte access */
	}
	/* the header fields */
	assert_int_equal(rd(f, 1, PCI_VENDOR_ID, 2), DUMMY_VENDOR);
	assert_int_equal(rd(f, 1, PCI_DEVICE_ID, 2), DUMMY_DEVICE);
	assert_int_equal(rd(f, 1, PCI_REVISION_ID, 4), DUMMY_CLASS << 8 | DUMMY_REV);
	assert_int_equal(rd(f, 1, PCI_HEADER_TYPE, 1), 0);
	assert_int_equal(rd(f, 1, PCI_SUBSYSTEM_VENDOR_ID, 4), 0x11001af4);
	assert_int_equal(rd(f, 1, PCI_INTERRUPT_PIN, 1), 1);
	assert_int_equal(rd(f, 1, PCI_INTERRUPT_LINE, 1), 17);	/* slot 1, INTA */
	assert_int_equal(rd(f, 1, PCI_CAPABILITY_LIST, 1), 0x40);
	assert_int_equal(rd(f, 1, PCI_STATUS, 2) & PCI_STS_CAP_LIST, PCI_STS_CAP_LIST);
	assert_int_equal(rd(f, 1, PCI_COMMAND, 2), PCI_CMD_IO | PCI_CMD_MEM);
	assert_int_equal(rd(f, 1, PCI_ROM_ADDRESS, 4), 0);
	/* the extended space (ECAM only) is empty; beyond it is refused */
	for (unsigned reg = 0x100; reg < PCI_CFG_SIZE; reg += 0x7c)
		assert_int_equal(rd(f, 1, reg & ~3u, 4), 0);
	assert_int_equal(rd(f, 1, PCI_CFG_SIZE, 1), 0xffffffff);
	assert_int_equal(rd(f, 1, 0xffffff00, 4), 0xffffffff);
}

/* Read-only fields keep their value whatever the guest writes, at any width. */
static void test_read_only_fields(void **state)
{
	struct fixture *f = *state;
	static const unsigned ro[] = {
		0x00, 0x01, 0x02, 0x03,			/* vendor, device */
		0x08, 0x09, 0x0a, 0x0b,			/* revision, class */
		0x0e, 0x0f,				/* header type, BIST */
		0x28, 0x29, 0x2a, 0x2b,			/* CardBus CIS */
		0x2c, 0x2d, 0x2e, 0x2f,			/* subsystem */
		0x30, 0x31, 0x32, 0x33,			/* expansion ROM */
		0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b,
		0x3d, 0x3e, 0x3f,			/* pin, min_gnt, max_lat */
	};
	uint8_t before[256];
	static const uint32_t pats[] = { 0xffffffff, 0, 0xa5a5a5a5, 0x12345678 };

	add(f, 1);
	for (unsigned i = 0; i < 256; i++)
		before[i] = (uint8_t)rd(f, 1, i, 1);
	for (size_t p = 0; p < sizeof(pats) / sizeof(pats[0]); p++)
		for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
			for (unsigned size = 1; size <= 4; size *= 2)
				if ((ro[i] & 3) + size <= 4 && !((ro[i] & 3) % size))
					wr(f, 1, ro[i], size, pats[p]);
	/* the capabilities (0x40-0x4f) and the rest are read-only too, except
	   the hook's register at 0x60 */
	for (unsigned reg = 0x40; reg < 0x100; reg += 4)
		if (reg != 0x60)
			wr(f, 1, reg, 4, 0xffffffff);
	for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		assert_int_equal(rd(f, 1, ro[i], 1), before[ro[i]]);
	for (unsigned reg = 0x40; reg < 0x100; reg++)
		if (reg < 0x60 || reg >= 0x64)
			assert_int_equal(rd(f, 1, reg, 1), before[reg]);
	/* the device's own register took the write, through its hook */
	wr(f, 1, 0x60, 4, 0xcafe0001);
	assert_int_equal(cur->reg60, 0xcafe0001);
	assert_int_equal(rd(f, 1, 0x60, 4), 0xcafe0001);
	wr(f, 1, 0x60, 2, 0xbeef);		/* the hook declines: dropped */
	assert_int_equal(rd(f, 1, 0x60, 4), 0xcafe0001);
}

static void test_writable_fields(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *d = add(f, 1);

	/* command: only the implemented bits stick */
	wr(f, 1, PCI_COMMAND, 2, 0xffff);
	assert_int_equal(rd(f, 1, PCI_COMMAND, 2), 0x0547);
	wr(f, 1, PCI_COMMAND, 1, 0x00);		/* low byte only */
	assert_int_equal(rd(f, 1, PCI_COMMAND, 2), 0x0500);
	wr(f, 1, PCI_COMMAND + 1, 1, 0x00);
	assert_int_equal(rd(f, 1, PCI_COMMAND, 2), 0);
	/* cache line size, latency timer, interrupt line */
	wr(f, 1, PCI_CACHE_LINE_SIZE, 4, 0xffffffff);
	assert_int_equal(rd(f, 1, PCI_CACHE_LINE_SIZE, 4), 0x0000ffff);
	wr(f, 1, PCI_LATENCY_TIMER, 1, 0x40);
	assert_int_equal(rd(f, 1, PCI_CACHE_LINE_SIZE, 4), 0x000040ff);
	wr(f, 1, PCI_INTERRUPT_LINE, 4, 0xffff0b0b);
	assert_int_equal(rd(f, 1, PCI_INTERRUPT_LINE, 4), 0x0000010b);
	/* status: error bits are write-1-to-clear, the rest read-only */
	pci_cfg_set16(d, PCI_STATUS, PCI_STS_CAP_LIST | 0xf900);
	wr(f, 1, PCI_STATUS, 2, 0x0000);
	assert_int_equal(rd(f, 1, PCI_STATUS, 2), PCI_STS_CAP_LIST | 0xf900);
	wr(f, 1, PCI_STATUS, 2, 0x8100);
	assert_int_equal(rd(f, 1, PCI_STATUS, 2), PCI_STS_CAP_LIST | 0x7800);
	wr(f, 1, PCI_STATUS + 1, 1, 0xff);
	assert_int_equal(rd(f, 1, PCI_STATUS, 2), PCI_STS_CAP_LIST);
	/* a dword write to 0x04: command and status at once */
	pci_cfg_set16(d, PCI_STATUS, PCI_STS_CAP_LIST | 0x2000);
	wr(f, 1, PCI_COMMAND, 4, 0x20000006);
	assert_int_equal(rd(f, 1, PCI_COMMAND, 4), (PCI_STS_CAP_LIST << 16) | 0x0006);
}

static void test_bar_sizing(void **state)
{
	struct fixture *f = *state;

	add(f, 1);
	/* as Linux does it: decode off, write ones, read, restore */
	wr(f, 1, PCI_COMMAND, 2, 0);
	for (unsigned i = 0; i < 6; i++)
		wr(f, 1, PCI_BAR0 + 4 * i, 4, 0xffffffff);
	assert_int_equal(rd(f, 1, PCI_BAR0, 4), (uint32_t)~(IO_SIZE - 1) | 0x1);
	assert_int_equal(rd(f, 1, PCI_BAR0 + 4, 4), (uint32_t)~(MEM32_SIZE - 1));
	assert_int_equal(rd(f, 1, PCI_BAR0 + 8, 4), (uint32_t)~(MEM64_SIZE - 1) | 0x8 | 0x4);
	assert_int_equal(rd(f, 1, PCI_BAR0 + 12, 4), 0xffffffff);
	assert_int_equal(rd(f, 1, PCI_BAR0 + 16, 4), 0);	/* unimplemented */
	assert_int_equal(rd(f, 1, PCI_BAR0 + 20, 4), 0);
	/* byte-wise sizing gives the same masks */
	for (unsigned i = 0; i < 4; i++)
		wr(f, 1, PCI_BAR0 + 4 + i, 1, 0xff);
	assert_int_equal(rd(f, 1, PCI_BAR0 + 4, 4), (uint32_t)~(MEM32_SIZE - 1));
	assert_int_equal(rd(f, 1, PCI_BAR0 + 6, 2), 0xffff);
	/* the type bits are read-only */
	wr(f, 1, PCI_BAR0, 4, 0);
	assert_int_equal(rd(f, 1, PCI_BAR0, 4), 0x1);
	wr(f, 1, PCI_BAR0 + 8, 4, 0);
	assert_int_equal(rd(f, 1, PCI_BAR0 + 8, 4), 0xc);
	/* nothing was mapped while decode was off */
	assert_null(mmio_at(f, 0xfffff000));
	assert_null(pio_at(f, 0xffe0));
}

static void test_default_windows(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *a = add(f, 1), *b = add(f, 2);
	uint64_t w64 = pci_mmio64_base(MEM_SIZE);

	assert_int_equal(w64, 0x100000000ULL);
	assert_int_equal(pci_mmio64_base(3ULL << 30), 0x100000000ULL);
	assert_int_equal(pci_mmio64_base((3ULL << 30) + 1), 0x140000000ULL);
	assert_int_equal(pci_mmio64_base(8ULL << 30), 0x240000000ULL);	/* 4G + 5G */
	for (int k = 0; k < 2; k++) {
		struct pci_dev *d = k ? b : a;
		uint64_t io = pci_bar_addr(d, 0), m32 = pci_bar_addr(d, 1), m64 = pci_bar_addr(d, 2);

		assert_true(io >= PCI_IO_BASE && io + IO_SIZE <= PCI_IO_END);
		assert_int_equal(io % IO_SIZE, 0);
		assert_true(m32 >= PCI_MMIO32_BASE && m32 + MEM32_SIZE <= PCI_MMIO32_END);
		assert_int_equal(m32 % MEM32_SIZE, 0);
		assert_true(m64 >= w64 && m64 + MEM64_SIZE <= w64 + PCI_MMIO64_SIZE);
		assert_int_equal(m64 % MEM64_SIZE, 0);
		/* mapped at creation (decode on, as firmware leaves it) */
		assert_true(pci_bar_mapped(d, 0) && pci_bar_mapped(d, 1) && pci_bar_mapped(d, 2));
		assert_string_equal(pio_at(f, io)->name, "dummy.bar0");
		assert_string_equal(mmio_at(f, m32)->name, "dummy.bar1");
		assert_string_equal(mmio_at(f, m64 + MEM64_SIZE - 1)->name, "dummy.bar2");
		assert_int_equal(mmio_at(f, m64)->len, MEM64_SIZE);
		/* the register reads back the address */
		assert_int_equal(rd(f, d->slot, PCI_BAR0, 4), io | 1);
		assert_int_equal(rd(f, d->slot, PCI_BAR0 + 8, 4), (uint32_t)m64 | 0xc);
		assert_int_equal(rd(f, d->slot, PCI_BAR0 + 12, 4), m64 >> 32);
	}
	assert_int_not_equal(pci_bar_addr(a, 1), pci_bar_addr(b, 1));
	assert_int_equal(f->mapped_calls, 6);
}

static void test_bar_programming(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *d = add(f, 1);
	uint64_t old32 = pci_bar_addr(d, 1), old64 = pci_bar_addr(d, 2), oldio = pci_bar_addr(d, 0);
	uint64_t v;

	move_bar(f, 1, 1, 0xd0000000);
	move_bar(f, 1, 2, 0x900000000ULL);
	move_bar(f, 1, 0, 0xd000);
	assert_null(mmio_at(f, old32));
	assert_null(mmio_at(f, old64));
	assert_null(pio_at(f, oldio));
	assert_int_equal(pci_bar_addr(d, 1), 0xd0000000);
	assert_int_equal(rd(f, 1, PCI_BAR0 + 4, 4), 0xd0000000);
	assert_non_null(mmio_at(f, 0xd0000000));
	assert_non_null(mmio_at(f, 0x900000000ULL));
	assert_non_null(pio_at(f, 0xd000));
	/* guest accesses reach the device with BAR-relative offsets */
	v = 0;
	assert_int_equal(iobus_access(MMIO(f->vm), false, 0xd0000010, 4, &v), 0);
	assert_int_equal(v, 0x1010);
	assert_int_equal(cur->last_bar, 1);
	v = 0x77;
	assert_int_equal(iobus_access(MMIO(f->vm), true, 0x900000008ULL, 8, &v), 0);
	assert_int_equal(cur->last_bar, 2);
	assert_int_equal(cur->last_off, 8);
	assert_int_equal(cur->last_val, 0x77);
	assert_int_equal(iobus_access(PIO(f->vm), false, 0xd004, 2, &v), 0);
	assert_int_equal(cur->last_bar, 0);
	assert_int_equal(cur->last_off, 4);
	/* an unaligned address is rounded down to the BAR's size */
	move_bar(f, 1, 1, 0xd0000123);
	assert_int_equal(pci_bar_addr(d, 1), 0xd0000000);
	/* rewriting a BAR with decode on moves it at once */
	wr(f, 1, PCI_BAR0 + 4, 4, 0xd1000000);
	assert_null(mmio_at(f, 0xd0000000));
	assert_non_null(mmio_at(f, 0xd1000000));
}

static void test_decode_bits(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *d = add(f, 1);
	uint64_t io = pci_bar_addr(d, 0), m32 = pci_bar_addr(d, 1), m64 = pci_bar_addr(d, 2);

	wr(f, 1, PCI_COMMAND, 2, PCI_CMD_MEM);		/* I/O off */
	assert_null(pio_at(f, io));
	assert_non_null(mmio_at(f, m32));
	assert_non_null(mmio_at(f, m64));
	wr(f, 1, PCI_COMMAND, 2, PCI_CMD_IO);		/* memory off */
	assert_non_null(pio_at(f, io));
	assert_null(mmio_at(f, m32));
	assert_null(mmio_at(f, m64));
	wr(f, 1, PCI_COMMAND, 2, 0);
	assert_null(pio_at(f, io));
	/* BARs rewritten while off stay unmapped, then map where written */
	wr(f, 1, PCI_BAR0 + 4, 4, 0xd2000000);
	assert_null(mmio_at(f, 0xd2000000));
	wr(f, 1, PCI_COMMAND, 1, PCI_CMD_MEM | PCI_CMD_IO);
	assert_non_null(mmio_at(f, 0xd2000000));
	assert_null(mmio_at(f, m32));
	assert_non_null(pio_at(f, io));
	assert_non_null(mmio_at(f, m64));
	/* toggling repeatedly leaves exactly one mapping */
	for (int i = 0; i < 10; i++) {
		wr(f, 1, PCI_COMMAND, 2, i & 1 ? 0 : PCI_CMD_MEM | PCI_CMD_IO);
		wr(f, 1, PCI_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_IO);
	}
	assert_int_equal(iobus_table(MMIO(f->vm))->n, 2);
	assert_int_equal(iobus_table(PIO(f->vm))->n, 2);
}

/* A 64-bit BAR is unmapped from its low-dword write until its high one. */
static void test_bar64_halves(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *d = add(f, 1);
	uint64_t m64 = pci_bar_addr(d, 2);

	/* decode stays on throughout */
	wr(f, 1, PCI_BAR0 + 8, 4, 0x40000000);
	assert_false(pci_bar_mapped(d, 2));
	assert_null(mmio_at(f, m64));
	assert_null(mmio_at(f, (m64 & ~0xffffffffULL) | 0x40000000));
	wr(f, 1, PCI_BAR0 + 12, 4, 0x3);
	assert_true(pci_bar_mapped(d, 2));
	assert_int_equal(pci_bar_addr(d, 2), 0x340000000ULL);
	assert_non_null(mmio_at(f, 0x340000000ULL));
	/* high dword alone: moves at once */
	wr(f, 1, PCI_BAR0 + 12, 4, 0x4);
	assert_null(mmio_at(f, 0x340000000ULL));
	assert_non_null(mmio_at(f, 0x440000000ULL));
	/* byte writes of the low half: pending until the high half */
	wr(f, 1, PCI_BAR0 + 11, 1, 0x50);
	assert_false(pci_bar_mapped(d, 2));
	wr(f, 1, PCI_BAR0 + 12, 1, 0x4);
	assert_non_null(mmio_at(f, 0x450000000ULL));
	/* low half only, then memory decode switched on: done */
	wr(f, 1, PCI_COMMAND, 2, PCI_CMD_IO);
	wr(f, 1, PCI_BAR0 + 8, 4, 0x60000000);
	assert_false(pci_bar_mapped(d, 2));
	wr(f, 1, PCI_COMMAND, 2, PCI_CMD_IO | PCI_CMD_MEM);
	assert_true(pci_bar_mapped(d, 2));
	assert_non_null(mmio_at(f, 0x460000000ULL));
	/* sizing with decode on (careless or hostile): nothing lands anywhere */
	wr(f, 1, PCI_BAR0 + 8, 4, 0xffffffff);
	wr(f, 1, PCI_BAR0 + 12, 4, 0xffffffff);
	assert_int_equal(pci_bar_addr(d, 2), 0xffffffffffffc000ULL);
	assert_false(pci_bar_mapped(d, 2));		/* would wrap */
	assert_int_equal(iobus_table(MMIO(f->vm))->n, 1);	/* BAR 1 */
	wr(f, 1, PCI_BAR0 + 8, 4, 0x60000000);
	wr(f, 1, PCI_BAR0 + 12, 4, 0x4);
	assert_true(pci_bar_mapped(d, 2));
}

/* A hostile guest's BAR placements: refused, unmapped, never a crash. */
static void test_overlapping_bars(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *a = add(f, 1), *b = add(f, 2);
	uint64_t a32 = pci_bar_addr(a, 1), aio = pci_bar_addr(a, 0);
	static const struct { uint64_t addr; const char *what; } bad[] = {
		{ 0, "address 0" },
		{ 0x100000, "RAM" },
		{ MEM_SIZE - 0x1000, "the end of RAM" },
		{ 0x9f000, "low RAM" },
		{ PCI_ECAM_BASE, "ECAM" },
		{ PCI_ECAM_BASE + PCI_ECAM_SIZE - 0x1000, "the end of ECAM" },
		{ 0xfec00000, "the IOAPIC" },
		{ 0xfee00000, "the LAPIC / MSI window" },
		{ 0xfffff000, "the top of 4 GiB" },
	};

	/* b's 32-bit BAR onto a's */
	move_bar(f, 2, 1, a32);
	assert_false(pci_bar_mapped(b, 1));
	assert_true(b->bar[1].refused);
	assert_ptr_equal(mmio_at(f, a32)->arg, &a->bar[1]);
	/* moved away, it maps */
	move_bar(f, 2, 1, 0xd8000000);
	assert_true(pci_bar_mapped(b, 1));
	assert_false(b->bar[1].refused);
	/* two BARs of one device at one address */
	move_bar(f, 2, 2, 0xd8000000);
	assert_false(pci_bar_mapped(b, 2));
	assert_true(pci_bar_mapped(b, 1));
	move_bar(f, 2, 2, 0xd8010000);
	assert_true(pci_bar_mapped(b, 2));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		move_bar(f, 2, 1, bad[i].addr);
		if (pci_bar_mapped(b, 1))
			fail_msg("BAR mapped over %s", bad[i].what);
		move_bar(f, 2, 2, bad[i].addr);
		if (pci_bar_mapped(b, 2))
			fail_msg("64-bit BAR mapped over %s", bad[i].what);
	}
	/* I/O: onto a's, onto the UART, past 64 KiB, at 0 */
	move_bar(f, 2, 0, aio);
	assert_false(pci_bar_mapped(b, 0));
	assert_ptr_equal(pio_at(f, aio)->arg, &a->bar[0]);
	move_bar(f, 2, 0, 0x3e0);		/* covers 0x3f8 */
	assert_false(pci_bar_mapped(b, 0));
	assert_string_equal(pio_at(f, 0x3f8)->name, "uart");
	move_bar(f, 2, 0, 0xffe0 + 0x20);	/* 0x10000: beyond the port space */
	assert_false(pci_bar_mapped(b, 0));
	move_bar(f, 2, 0, 0);
	assert_false(pci_bar_mapped(b, 0));
	move_bar(f, 2, 0, 0xe000);
	assert_true(pci_bar_mapped(b, 0));
	/* a's mappings survived all of it */
	assert_true(pci_bar_mapped(a, 0) && pci_bar_mapped(a, 1) && pci_bar_mapped(a, 2));
	/* accesses at refused places go nowhere */
	{
		uint64_t v = 0;

		assert_int_equal(iobus_access(MMIO(f->vm), false, 0xfee00000, 4, &v), -ENOENT);
	}
}

static void test_intx(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *d1, *d5, *d2;

	/* the swizzle */
	for (unsigned slot = 0; slot < 32; slot++)
		for (unsigned pin = 1; pin <= 4; pin++)
			assert_int_equal(pci_intx_gsi(slot, pin), 16 + (slot + pin - 1) % 4);
	assert_int_equal(pci_intx_gsi(1, 1), 17);
	assert_int_equal(pci_intx_gsi(3, 2), 16);
	d1 = add(f, 1);
	d5 = add(f, 5);		/* shares GSI 17 with slot 1 */
	d2 = add(f, 2);
	assert_int_equal(d1->intx_gsi, 17);
	assert_int_equal(d5->intx_gsi, 17);
	assert_int_equal(d2->intx_gsi, 18);
	assert_int_equal(pci_enable_intx(d2, 5), -EINVAL);

	assert_int_equal(pci_raise_intx(d1, true), 0);
	assert_int_equal(f->nline, 1);
	assert_true(f->gsi_level[17]);
	assert_int_equal(rd(f, 1, PCI_STATUS, 2) & PCI_STS_INTX, PCI_STS_INTX);
	assert_int_equal(rd(f, 5, PCI_STATUS, 2) & PCI_STS_INTX, 0);
	pci_raise_intx(d1, true);		/* no change, no call */
	assert_int_equal(f->nline, 1);
	pci_raise_intx(d5, true);		/* line already high */
	assert_int_equal(f->nline, 1);
	pci_raise_intx(d1, false);		/* d5 still holds it */
	assert_int_equal(f->nline, 1);
	assert_true(f->gsi_level[17]);
	pci_raise_intx(d5, false);
	assert_int_equal(f->nline, 2);
	assert_false(f->gsi_level[17]);
	/* INTx Disable masks the line; the status bit still shows it */
	pci_raise_intx(d2, true);
	assert_true(f->gsi_level[18]);
	wr(f, 2, PCI_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_IO | PCI_CMD_INTX_DISABLE);
	assert_false(f->gsi_level[18]);
	assert_int_equal(rd(f, 2, PCI_STATUS, 2) & PCI_STS_INTX, PCI_STS_INTX);
	wr(f, 2, PCI_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_IO);
	assert_true(f->gsi_level[18]);
	pci_raise_intx(d2, false);
	assert_false(f->gsi_level[18]);
	/* the guest's interrupt line register does not move the GSI */
	wr(f, 2, PCI_INTERRUPT_LINE, 1, 5);
	pci_raise_intx(d2, true);
	assert_true(f->gsi_level[18]);
	assert_int_equal(f->line_gsi[f->nline - 1], 18);
	/* a device without a pin */
	{
		struct pci_dev *p;

		assert_int_equal(pci_add_device_type(f->bus, &plain, 7, NULL, &p), 0);
		assert_int_equal(rd(f, 7, PCI_INTERRUPT_PIN, 1), 0);
		assert_int_equal(pci_raise_intx(p, true), -EINVAL);
	}
	/* destroying the bus drops the asserted line (teardown) */
}

static void test_capability_list(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *d = add(f, 1);
	uint8_t ids[8], n = 0;
	unsigned p;
	uint8_t big[200] = { 0x05 };

	assert_true(rd(f, 1, PCI_STATUS, 2) & PCI_STS_CAP_LIST);
	for (p = rd(f, 1, PCI_CAPABILITY_LIST, 1); p && n < 8; p = rd(f, 1, p + 1, 1)) {
		assert_int_equal(p & 3, 0);
		assert_true(p >= 0x40 && p < 0x100);
		ids[n++] = (uint8_t)rd(f, 1, p, 1);
	}
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], PCI_CAP_ID_VNDR);
	assert_int_equal(ids[1], 0x01);
	/* the capability bytes are the device's, the pointer the core's */
	assert_int_equal(rd(f, 1, 0x42, 2), 0x0108);
	assert_int_equal(rd(f, 1, 0x41, 1), 0x48);
	assert_int_equal(rd(f, 1, 0x49, 1), 0x00);
	/* no room: refused, the list unchanged */
	assert_int_equal(pci_add_cap(d, big, sizeof(big)), -ENOSPC);
	assert_int_equal(pci_add_cap(d, big, 1), -ENOSPC);
	assert_int_equal(pci_add_cap(d, big, 4), 0x50);
	assert_int_equal(rd(f, 1, 0x49, 1), 0x50);
	/* fill it up to the end of the 256 bytes */
	while (pci_add_cap(d, big, 16) > 0)
		;
	for (n = 0, p = rd(f, 1, PCI_CAPABILITY_LIST, 1); p && n < 64; p = rd(f, 1, p + 1, 1))
		n++;
	assert_true(n > 3 && n < 64);
	/* a device without capabilities */
	assert_int_equal(pci_add_device_type(f->bus, &plain, 3, NULL, NULL), 0);
	assert_int_equal(rd(f, 3, PCI_STATUS, 2) & PCI_STS_CAP_LIST, 0);
	assert_int_equal(rd(f, 3, PCI_CAPABILITY_LIST, 1), 0);
}

static void test_alloc_bar_errors(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *d;

	assert_int_equal(pci_add_device_type(f->bus, &plain, 1, NULL, &d), 0);
	assert_int_equal(pci_alloc_bar(d, 6, PCI_BAR_MEM32, false, 16), -EINVAL);
	assert_int_equal(pci_alloc_bar(d, -1, PCI_BAR_MEM32, false, 16), -EINVAL);
	assert_int_equal(pci_alloc_bar(d, 5, PCI_BAR_MEM64, false, 16), -EINVAL);
	assert_int_equal(pci_alloc_bar(d, 0, PCI_BAR_MEM64_HI, false, 16), -EINVAL);
	assert_int_equal(pci_alloc_bar(d, 0, PCI_BAR_IO, false, 0x2000), -EINVAL);
	assert_int_equal(pci_alloc_bar(d, 0, PCI_BAR_MEM32, false, 1ULL << 31), -EINVAL);
	assert_int_equal(pci_alloc_bar(d, 0, PCI_BAR_MEM64, false, 16), 0);
	assert_int_equal(pci_alloc_bar(d, 1, PCI_BAR_MEM32, false, 16), -EBUSY);
	assert_int_equal(pci_alloc_bar(d, 2, PCI_BAR_IO, false, 1), 0);
	assert_int_equal(d->bar[2].size, 4);
	/* the 32-bit window runs out */
	assert_int_equal(pci_alloc_bar(d, 3, PCI_BAR_MEM32, false, 1ULL << 29), 0);
	assert_int_equal(pci_alloc_bar(d, 4, PCI_BAR_MEM32, false, 1ULL << 29), -ENOSPC);
	/* so does the I/O window */
	for (int i = 0; i < 3; i++) {
		struct pci_dev *e;

		assert_int_equal(pci_add_device_type(f->bus, &plain, -1, NULL, &e), 0);
		for (int j = 0; j < 6; j++)
			if (pci_alloc_bar(e, j, PCI_BAR_IO, false, 0x1000) == -ENOSPC)
				goto out;
	}
	fail_msg("the I/O window never ran out");
out:
	;
}

TEST_MAIN(NULL, NULL,
	  TEST_FIX(test_slots), TEST_FIX(test_absent_functions), TEST_FIX(test_widths_and_offsets),
	  TEST_FIX(test_read_only_fields), TEST_FIX(test_writable_fields),
	  TEST_FIX(test_bar_sizing), TEST_FIX(test_default_windows),
	  TEST_FIX(test_bar_programming), TEST_FIX(test_decode_bits), TEST_FIX(test_bar64_halves),
	  TEST_FIX(test_overlapping_bars), TEST_FIX(test_intx), TEST_FIX(test_capability_list),
	  TEST_FIX(test_alloc_bar_errors))
