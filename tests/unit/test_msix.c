/*
 * Unit tests for MSI-X (src/pci/msix.c) without KVM: a hand-built struct
 * vm with real buses, the route / irqfd / GSI calls recorded, real
 * eventfds read to see deliveries.  The guest's side goes through the
 * config space (pci_cfg_access) and the MMIO bus (iobus_access).
 */
#include "unit.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "err.h"
#include "iobus.h"
#include "vm.h"
#include "testvm.h"
#include "pci/msix.h"
#include "pci/pci.h"

#define NVEC	4

struct route_call {
	unsigned gsi;
	uint64_t addr;
	uint32_t data;
	bool masked;
};

struct fixture {
	struct vm *vm;
	struct pci_bus *bus;
	struct pci_dev *dev;	/* "msixdev": dedicated BAR 1, INTA */
	struct pci_dev *shared;	/* "sharedev": table in BAR 0 with its registers */
	uint64_t bar;		/* dev's MSI-X BAR address */
	unsigned cap;
	int nroute;
	struct route_call routes[256];
	int nirqfd, nunbind;
	unsigned next_gsi;
	bool line[32];
	int dev_reads;
};

static struct fixture *cur;

static int rec_line(void *ctx, unsigned gsi, bool level)
{
	if (gsi < 32)
		cur->line[gsi] = level;
	return 0;
}

static int rec_alloc(void *ctx, unsigned *gsi)
{
	*gsi = cur->next_gsi++;
	return 0;
}

static int rec_route(void *ctx, unsigned gsi, uint64_t addr, uint32_t data, bool masked)
{
	if (cur->nroute < 256)
		cur->routes[cur->nroute] = (struct route_call){ gsi, addr, data, masked };
	cur->nroute++;
	return 0;
}

static int rec_irqfd(void *ctx, unsigned gsi, int fd, bool deassign)
{
	if (deassign)
		cur->nunbind++;
	else
		cur->nirqfd++;
	return 0;
}

static const struct pci_irq_ops rec_ops = { rec_line, rec_alloc, rec_route, rec_irqfd };

static int msixdev_init(struct pci_dev *dev, const char *opts)
{
	int r;

	pci_set_ids(dev, 0x1af4, 0x1041, 0x020000, 1, 0x1af4, 0x0001);
	if ((r = msix_init_bar(dev, NVEC, 1)) < 0)
		return r;
	return pci_enable_intx(dev, 1);
}

static const struct pci_devtype msixdev = { .name = "msixdev", .init = msixdev_init };

/* BAR 0 (8 KiB): device registers at 0-0xfff, table at 0x1000, PBA at 0x1800. */
static int sharedev_init(struct pci_dev *dev, const char *opts)
{
	int r;

	pci_set_ids(dev, 0x1af4, 0x1042, 0x010000, 1, 0x1af4, 0x0002);
	if ((r = pci_alloc_bar(dev, 0, PCI_BAR_MEM64, false, 0x2000)) < 0)
		return r;
	return msix_init(dev, 70, 0, 0x1000, 0x1800);
}

static int sharedev_read(struct pci_dev *dev, int bar, uint64_t off, unsigned size, uint64_t *val)
{
	cur->dev_reads++;
	*val = 0xd0d0;
	return 0;
}

static const struct pci_devtype sharedev = {
	.name = "sharedev", .init = sharedev_init, .bar_read = sharedev_read,
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	cur = f;
	f->next_gsi = 24;
	f->vm = TEST_VM(.mem_size = 256ULL << 20);
	assert_int_equal(pci_bus_create(f->vm, &f->bus), 0);
	pci_bus_set_irq_ops(f->bus, &rec_ops, f);
	assert_int_equal(pci_add_device_type(f->bus, &msixdev, 1, NULL, &f->dev), 0);
	assert_int_equal(pci_add_device_type(f->bus, &sharedev, 2, NULL, &f->shared), 0);
	f->bar = pci_bar_addr(f->dev, 1);
	f->cap = f->dev->msix->cap;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	pci_bus_destroy(f->bus);
	/* every irqfd bound was unbound */
	assert_int_equal(f->nunbind, f->nirqfd);
	vm_destroy(f->vm);
	free(f);
	return 0;
}

/* ---- helpers ---- */

static uint32_t cfg_rd(struct fixture *f, unsigned reg, unsigned size)
{
	uint32_t v;

	pci_cfg_access(f->bus, 0, 1, 0, reg, false, size, &v);
	return v;
}

static void cfg_wr(struct fixture *f, unsigned reg, unsigned size, uint32_t v)
{
	pci_cfg_access(f->bus, 0, 1, 0, reg, true, size, &v);
}

static void ctrl(struct fixture *f, uint16_t v)
{
	cfg_wr(f, f->cap + 2, 2, v);
}

static uint64_t bar_rd(struct fixture *f, uint64_t off, unsigned size)
{
	uint64_t v = 0x5a5a5a5a5a5a5a5aULL;

	assert_int_equal(iobus_access(MMIO(f->vm), false, f->bar + off, size, &v), 0);
	return v;
}

static void bar_wr(struct fixture *f, uint64_t off, unsigned size, uint64_t v)
{
	assert_int_equal(iobus_access(MMIO(f->vm), true, f->bar + off, size, &v), 0);
}

/* Program vector v: address, data, mask bit, with dword writes. */
static void entry(struct fixture *f, unsigned v, uint64_t addr, uint32_t data, bool masked)
{
	bar_wr(f, 16 * v, 4, (uint32_t)addr);
	bar_wr(f, 16 * v + 4, 4, addr >> 32);
	bar_wr(f, 16 * v + 8, 4, data);
	bar_wr(f, 16 * v + 12, 4, masked);
}

/* How many interrupts vector v's eventfd carried since last asked. */
static uint64_t fired(struct fixture *f, unsigned v)
{
	uint64_t n = 0;

	if (read(f->dev->msix->efd[v], &n, sizeof(n)) != sizeof(n))
		return 0;		/* EAGAIN: none */
	return n;
}

static const struct route_call *last_route(struct fixture *f)
{
	assert_true(f->nroute > 0);
	return &f->routes[f->nroute - 1];
}

/* ---- tests ---- */

static void test_capability(void **state)
{
	struct fixture *f = *state;
	struct msix *m = f->dev->msix;
	unsigned p = cfg_rd(f, PCI_CAPABILITY_LIST, 1);

	assert_int_equal(p, f->cap);
	assert_int_equal(cfg_rd(f, p, 1), PCI_CAP_ID_MSIX);
	assert_int_equal(cfg_rd(f, p + 2, 2), NVEC - 1);		/* table size - 1 */
	assert_int_equal(cfg_rd(f, p + 4, 4), 0x000 | 1);		/* offset 0, BIR 1 */
	assert_int_equal(cfg_rd(f, p + 8, 4), 0x800 | 1);		/* offset 0x800, BIR 1 */
	/* the dedicated BAR: 32-bit memory, 4 KiB */
	assert_int_equal(f->dev->bar[1].type, PCI_BAR_MEM32);
	assert_int_equal(f->dev->bar[1].size, 0x1000);
	assert_true(pci_bar_mapped(f->dev, 1));
	/* one GSI and one bound eventfd per vector (and 70 for sharedev) */
	assert_int_equal(f->nirqfd, NVEC + 70);
	for (unsigned v = 0; v < NVEC; v++) {
		assert_int_equal(m->gsi[v], 24 + v);
		assert_true(m->efd[v] >= 0);
	}
	/* table size, offsets and BIRs are read-only; only bits 15-14 of
	   Message Control are writable */
	cfg_wr(f, p + 4, 4, 0xffffffff);
	cfg_wr(f, p + 8, 4, 0);
	cfg_wr(f, p + 2, 2, 0x3fff);
	cfg_wr(f, p, 2, 0xffff);
	assert_int_equal(cfg_rd(f, p, 4), (NVEC - 1) << 16 | 0x11 | (cfg_rd(f, p + 1, 1) << 8));
	assert_int_equal(cfg_rd(f, p + 4, 4), 1);
	assert_int_equal(cfg_rd(f, p + 8, 4), 0x801);
	cfg_wr(f, p + 3, 1, 0xff);
	assert_int_equal(cfg_rd(f, p + 2, 2), 0xc000 | (NVEC - 1));
	assert_true(msix_enabled(f->dev));
	cfg_wr(f, p + 3, 1, 0x00);
	assert_false(msix_enabled(f->dev));
	/* one MSI-X capability per device */
	assert_int_equal(msix_init_bar(f->dev, 8, 2), -EBUSY);
	assert_int_equal(f->dev->bar[2].type, PCI_BAR_NONE);
}

static void test_table_rw(void **state)
{
	struct fixture *f = *state;

	/* reset state: everything zero but the mask bits */
	for (unsigned v = 0; v < NVEC; v++) {
		assert_int_equal(bar_rd(f, 16 * v, 8), 0);
		assert_int_equal(bar_rd(f, 16 * v + 8, 4), 0);
		assert_int_equal(bar_rd(f, 16 * v + 12, 4), 1);
	}
	entry(f, 2, 0xfee01000, 0x4041, false);
	assert_int_equal(bar_rd(f, 32, 4), 0xfee01000);
	assert_int_equal(bar_rd(f, 36, 4), 0);
	assert_int_equal(bar_rd(f, 40, 4), 0x4041);
	assert_int_equal(bar_rd(f, 44, 4), 0);
	assert_int_equal(bar_rd(f, 32, 8), 0xfee01000);
	assert_int_equal(bar_rd(f, 40, 8), 0x4041);
	/* qword writes: address, then data + control */
	bar_wr(f, 48, 8, 0x00000001fee02000ULL);
	bar_wr(f, 56, 8, 0x0000000100000051ULL);
	assert_int_equal(bar_rd(f, 48, 4), 0xfee02000);
	assert_int_equal(bar_rd(f, 52, 4), 1);
	assert_int_equal(bar_rd(f, 56, 8), 0x0000000100000051ULL);
	/* reserved Vector Control bits read 0 */
	bar_wr(f, 60, 4, 0xfffffffe);
	assert_int_equal(bar_rd(f, 60, 4), 0);
	bar_wr(f, 60, 4, 0xffffffff);
	assert_int_equal(bar_rd(f, 60, 4), 1);
}

static void test_bad_accesses(void **state)
{
	struct fixture *f = *state;

	entry(f, 0, 0xfee00000, 0x30, true);
	/* byte and word accesses, unaligned dwords and qwords: read 0, ignored */
	for (unsigned off = 0; off < 16; off++) {
		for (unsigned size = 1; size <= 8; size *= 2) {
			if (!(off % size) && size >= 4)
				continue;
			assert_int_equal(bar_rd(f, off, size), 0);
			bar_wr(f, off, size, ~0ULL);
		}
	}
	assert_int_equal(bar_rd(f, 0, 4), 0xfee00000);
	assert_int_equal(bar_rd(f, 8, 4), 0x30);
	assert_int_equal(bar_rd(f, 12, 4), 1);
	/* past the last entry, between table and PBA, past the PBA: zeros */
	assert_int_equal(bar_rd(f, 16 * NVEC, 4), 0);
	assert_int_equal(bar_rd(f, 16 * NVEC + 8, 8), 0);
	assert_int_equal(bar_rd(f, 0x7f8, 8), 0);
	assert_int_equal(bar_rd(f, 0x808, 8), 0);
	assert_int_equal(bar_rd(f, 0xffc, 4), 0);
	bar_wr(f, 16 * NVEC, 4, 0x1234);
	bar_wr(f, 0xff8, 8, ~0ULL);
	assert_int_equal(bar_rd(f, 16 * NVEC, 4), 0);
	/* the PBA is read-only */
	assert_int_equal(msix_notify(f->dev, 1), 0);
	assert_int_equal(bar_rd(f, 0x800, 8), 0x2);
	bar_wr(f, 0x800, 8, 0);
	bar_wr(f, 0x800, 4, 0xffffffff);
	assert_int_equal(bar_rd(f, 0x800, 8), 0x2);
	assert_int_equal(bar_rd(f, 0x800, 4), 0x2);
	assert_int_equal(bar_rd(f, 0x804, 4), 0);
	/* vectors out of range, devices without MSI-X */
	assert_int_equal(msix_notify(f->dev, NVEC), -EINVAL);
	assert_int_equal(msix_notify(f->dev, ~0u), -EINVAL);
	assert_false(msix_pending(f->dev, NVEC));
	assert_false(msix_pending(pci_bus_dev(f->bus, 1), 99));
	/* no route was touched by any of it */
	assert_int_equal(f->nroute, 0);
}

static void test_routing(void **state)
{
	struct fixture *f = *state;
	const struct route_call *r;

	/* disabled: table writes tell KVM nothing */
	entry(f, 0, 0xfee00000, 0x41, false);
	entry(f, 1, 0xfee01000, 0x42, true);
	assert_int_equal(f->nroute, 0);
	/* enable: vector 0 (unmasked) gets its route, vector 1 stays masked */
	ctrl(f, MSIX_CTRL_ENABLE);
	assert_int_equal(f->nroute, 1);
	r = last_route(f);
	assert_int_equal(r->gsi, 24);
	assert_int_equal(r->addr, 0xfee00000);
	assert_int_equal(r->data, 0x41);
	assert_false(r->masked);
	/* a change of data while live: re-routed; the same value again: not */
	bar_wr(f, 8, 4, 0x51);
	assert_int_equal(f->nroute, 2);
	assert_int_equal(last_route(f)->data, 0x51);
	bar_wr(f, 8, 4, 0x51);
	assert_int_equal(f->nroute, 2);
	/* 64-bit address */
	bar_wr(f, 4, 4, 0x1);
	assert_int_equal(f->nroute, 3);
	assert_int_equal(last_route(f)->addr, 0x1fee00000ULL);
	bar_wr(f, 4, 4, 0);
	/* per-vector mask */
	bar_wr(f, 12, 4, 1);
	assert_true(last_route(f)->masked);
	assert_int_equal(last_route(f)->gsi, 24);
	bar_wr(f, 28, 4, 0);			/* unmask vector 1 */
	r = last_route(f);
	assert_int_equal(r->gsi, 25);
	assert_false(r->masked);
	assert_int_equal(r->data, 0x42);
	/* function mask: every live vector masked, then back */
	bar_wr(f, 12, 4, 0);
	f->nroute = 0;
	ctrl(f, MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);
	assert_int_equal(f->nroute, 2);
	assert_true(f->routes[0].masked && f->routes[1].masked);
	ctrl(f, MSIX_CTRL_ENABLE);
	assert_int_equal(f->nroute, 4);
	assert_false(f->routes[2].masked || f->routes[3].masked);
	/* writes while function-masked change the entry, not KVM */
	ctrl(f, MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);
	f->nroute = 0;
	bar_wr(f, 8, 4, 0x61);
	assert_int_equal(f->nroute, 0);
	ctrl(f, MSIX_CTRL_ENABLE);
	assert_int_equal(f->nroute, 2);
	assert_int_equal(f->routes[0].data, 0x61);
	/* disable: masked */
	f->nroute = 0;
	ctrl(f, 0);
	assert_int_equal(f->nroute, 2);
	assert_true(f->routes[0].masked && f->routes[1].masked);
}

static void test_notify_and_pending(void **state)
{
	struct fixture *f = *state;

	entry(f, 0, 0xfee00000, 0x41, false);
	entry(f, 1, 0xfee00000, 0x42, true);
	/* disabled: pending, not delivered */
	assert_int_equal(msix_notify(f->dev, 0), 0);
	assert_true(msix_pending(f->dev, 0));
	assert_int_equal(fired(f, 0), 0);
	assert_int_equal(bar_rd(f, 0x800, 8), 0x1);
	/* enabling delivers it, once */
	ctrl(f, MSIX_CTRL_ENABLE);
	assert_int_equal(fired(f, 0), 1);
	assert_false(msix_pending(f->dev, 0));
	assert_int_equal(fired(f, 0), 0);
	/* live: delivered at once, each time */
	msix_notify(f->dev, 0);
	msix_notify(f->dev, 0);
	assert_int_equal(fired(f, 0), 2);
	assert_int_equal(bar_rd(f, 0x800, 8), 0);
	/* masked vector: pending until unmasked; several signals are one */
	msix_notify(f->dev, 1);
	msix_notify(f->dev, 1);
	assert_int_equal(fired(f, 1), 0);
	assert_int_equal(bar_rd(f, 0x800, 4), 0x2);
	bar_wr(f, 28, 4, 0);
	assert_int_equal(fired(f, 1), 1);
	assert_int_equal(bar_rd(f, 0x800, 4), 0);
	/* function mask: pending for both, delivered when cleared */
	ctrl(f, MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);
	msix_notify(f->dev, 0);
	msix_notify(f->dev, 1);
	assert_int_equal(bar_rd(f, 0x800, 4), 0x3);
	assert_int_equal(fired(f, 0) + fired(f, 1), 0);
	/* clearing the vector's own mask is not enough under the function mask */
	bar_wr(f, 12, 4, 0);
	assert_int_equal(fired(f, 0), 0);
	ctrl(f, MSIX_CTRL_ENABLE);
	assert_int_equal(fired(f, 0), 1);
	assert_int_equal(fired(f, 1), 1);
	assert_int_equal(bar_rd(f, 0x800, 4), 0);
	/* the route was in place before the delivery */
	assert_false(last_route(f)->masked);
}

static int nodev_alloc(void *ctx, unsigned *gsi)
{
	return -ENODEV;
}

/*
 * Regression (issue 9): without an interrupt controller (a --raw guest)
 * an MSI-X device failed to initialise with "no free interrupt routes
 * (1024 in use)".  It now works, with no routes: the table, PBA and
 * enable work as usual and a notify reaches nothing.
 */
static void test_no_interrupt_controller(void **state)
{
	struct fixture *f = *state;
	static const struct pci_irq_ops nodev_ops = { rec_line, nodev_alloc, rec_route, rec_irqfd };
	struct pci_dev *d;
	int before = f->nroute;

	pci_bus_set_irq_ops(f->bus, &nodev_ops, f);
	assert_int_equal(pci_add_device_type(f->bus, &msixdev, 3, NULL, &d), 0);
	for (unsigned v = 0; v < NVEC; v++)
		assert_int_equal(d->msix->gsi[v], ~0u);
	uint32_t on = MSIX_CTRL_ENABLE;
	pci_cfg_access(f->bus, 0, 3, 0, d->msix->cap + 2, true, 2, &on);
	assert_true(msix_enabled(d));
	assert_int_equal(msix_notify(d, 0), 0);
	assert_int_equal(f->nroute, before);		/* nothing routed */
	pci_bus_set_irq_ops(f->bus, &rec_ops, f);
}

static void test_intx_suppressed(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(pci_raise_intx(f->dev, true), 0);
	assert_true(f->line[17]);
	ctrl(f, MSIX_CTRL_ENABLE);
	assert_false(f->line[17]);
	ctrl(f, MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);	/* still enabled */
	assert_false(f->line[17]);
	ctrl(f, 0);
	assert_true(f->line[17]);
	pci_raise_intx(f->dev, false);
	assert_false(f->line[17]);
}

/* Table and PBA inside a BAR that also holds the device's registers. */
static void test_shared_bar(void **state)
{
	struct fixture *f = *state;
	uint64_t base = pci_bar_addr(f->shared, 0), v;
	unsigned cap = f->shared->msix->cap;
	uint32_t c;

	pci_cfg_access(f->bus, 0, 2, 0, cap + 4, false, 4, &c);
	assert_int_equal(c, 0x1000);
	pci_cfg_access(f->bus, 0, 2, 0, cap + 8, false, 4, &c);
	assert_int_equal(c, 0x1800);
	pci_cfg_access(f->bus, 0, 2, 0, cap + 2, false, 2, &c);
	assert_int_equal(c, 69);
	/* device registers */
	iobus_access(MMIO(f->vm), false, base + 0x10, 4, &v);
	assert_int_equal(v, 0xd0d0);
	assert_int_equal(f->dev_reads, 1);
	/* the table: entry 69 is the last */
	v = 0xfee00000;
	iobus_access(MMIO(f->vm), true, base + 0x1000 + 16 * 69, 4, &v);
	iobus_access(MMIO(f->vm), false, base + 0x1000 + 16 * 69, 4, &v);
	assert_int_equal(v, 0xfee00000);
	iobus_access(MMIO(f->vm), false, base + 0x1000 + 16 * 69 + 12, 4, &v);
	assert_int_equal(v, 1);
	/* 70 vectors: a 16-byte PBA; vector 65 is bit 1 of the second qword */
	assert_int_equal(msix_notify(f->shared, 65), 0);
	iobus_access(MMIO(f->vm), false, base + 0x1808, 8, &v);
	assert_int_equal(v, 0x2);
	/* after the table and after the PBA: the device's again */
	iobus_access(MMIO(f->vm), false, base + 0x1000 + 16 * 70, 4, &v);
	iobus_access(MMIO(f->vm), false, base + 0x1810, 4, &v);
	assert_int_equal(f->dev_reads, 3);
	assert_int_equal(msix_notify(f->shared, 70), -EINVAL);
}

static int bad_init_case;

static int badmsix_init(struct pci_dev *dev, const char *opts)
{
	int r;

	if ((r = pci_alloc_bar(dev, 0, PCI_BAR_MEM32, false, 0x1000)) < 0 ||
	    (r = pci_alloc_bar(dev, 1, PCI_BAR_IO, false, 0x100)) < 0)
		return r;
	switch (bad_init_case) {
	case 0: return msix_init(dev, 0, 0, 0, 0x800);
	case 1: return msix_init(dev, MSIX_MAX_VECTORS + 1, 0, 0, 0x800);
	case 2: return msix_init(dev, 4, 1, 0, 0x800);		/* I/O BAR */
	case 3: return msix_init(dev, 4, 3, 0, 0x800);		/* no BAR */
	case 4: return msix_init(dev, 4, 0, 4, 0x800);		/* misaligned */
	case 5: return msix_init(dev, 4, 0, 0, 0x20);		/* overlap */
	case 6: return msix_init(dev, 256, 0, 0, 0x800);	/* table too big */
	case 7: return msix_init(dev, 4, 0, 0, 0x1000);	/* PBA past the end */
	case 8: return msix_init(dev, 4, 6, 0, 0x800);
	default: return msix_init_bar(dev, 0, 2);
	}
}

static const struct pci_devtype badmsix = { .name = "badmsix", .init = badmsix_init };

static void test_init_errors(void **state)
{
	struct fixture *f = *state;
	int before = f->nirqfd;

	for (bad_init_case = 0; bad_init_case < 10; bad_init_case++) {
		assert_int_equal(pci_add_device_type(f->bus, &badmsix, 5, NULL, NULL), -EINVAL);
		assert_null(pci_bus_dev(f->bus, 5));
	}
	assert_int_equal(f->nirqfd, before);
}

static int bigmsix_init(struct pci_dev *dev, const char *opts)
{
	return msix_init_bar(dev, 200, 4);
}

static const struct pci_devtype bigmsix = { .name = "bigmsix", .init = bigmsix_init };

static void test_large_table(void **state)
{
	struct fixture *f = *state;
	struct pci_dev *d;

	assert_int_equal(pci_add_device_type(f->bus, &bigmsix, 6, NULL, &d), 0);
	assert_int_equal(d->msix->table_off, 0);
	assert_int_equal(d->msix->pba_off, 0x1000);	/* 200 * 16 = 3200 -> 4 KiB */
	assert_int_equal(d->bar[4].size, 0x2000);
	assert_int_equal(msix_notify(d, 199), 0);
	assert_true(msix_pending(d, 199));
	assert_int_equal(msix_notify(d, 200), -EINVAL);
}

TEST_MAIN(NULL, NULL,
	  TEST_FIX(test_capability), TEST_FIX(test_table_rw), TEST_FIX(test_bad_accesses),
	  TEST_FIX(test_routing), TEST_FIX(test_notify_and_pending),
	  TEST_FIX(test_intx_suppressed), TEST_FIX(test_shared_bar), TEST_FIX(test_init_errors),
	  TEST_FIX(test_large_table),
	  TEST_FIX(test_no_interrupt_controller))
