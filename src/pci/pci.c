/*
 * pci.c - the PCI core (see pci.h, docs/pci.md): bus 0, device instances,
 * the type-0 configuration header, BAR sizing / programming / mapping,
 * capabilities and INTx.
 *
 * Locking: bus->lock serialises adding devices and the window cursors
 * (before the VM runs); dev->lock serialises one device's configuration
 * accesses and BAR moves; bus->intx_lock guards every INTx level and the
 * per-GSI counts.  Order (docs/threads.md, checked in debug builds):
 * bus->lock -> dev->lock -> msix->lock -> bus->intx_lock.
 * vCPUs find devices through bus->slot[] without a lock: slots are filled
 * before the VM runs and never emptied while it runs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "err.h"
#include "lock.h"
#include "util.h"
#include "vm.h"
#include "pci/msix.h"
#include "pci/pci.h"

struct pci_bus {
	struct vm *vm;
	pthread_mutex_t lock;
	struct pci_dev *slot[PCI_SLOTS];
	uint64_t next_io, next_mem32, next_mem64, mem64_end;
	const struct pci_irq_ops *irq;
	void *irq_ctx;
	pthread_mutex_t intx_lock;
	unsigned intx_count[PCI_INTX_LINES];
};

/* Command bits the guest may change. */
#define CMD_WMASK	(PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER | \
			 PCI_CMD_PARITY | PCI_CMD_SERR | PCI_CMD_INTX_DISABLE)

/* ---- device types (linker set "hyve_pci_devtypes") ---- */

LINKER_SET_DECLARE(hyve_pci_devtypes, const struct pci_devtype);

_Static_assert(offsetof(struct pci_devtype, name) == 0, "name first (linker_set_find)");

const struct pci_devtype *pci_devtype_find(const char *name)
{
	return LINKER_SET_FIND(hyve_pci_devtypes, name);
}

/* ---- the VM's bus: it hangs off the VM (vm_pci_bus) ---- */

struct pci_bus *pci_bus_of(struct vm *vm)
{
	return vm_pci_bus(vm);
}

/* ---- interrupt controller access: the vm_* calls by default ---- */

static int vm_line(void *ctx, unsigned gsi, bool level)
{
	return vm_irq_line(ctx, gsi, level);
}

static int vm_alloc(void *ctx, unsigned *gsi)
{
	return vm_alloc_msi_gsi(ctx, gsi);
}

static int vm_route(void *ctx, unsigned gsi, uint64_t addr, uint32_t data, bool masked)
{
	return vm_route_msi(ctx, gsi, addr, data, masked);
}

static int vm_fd(void *ctx, unsigned gsi, int fd, bool deassign)
{
	return vm_irqfd(ctx, gsi, fd, deassign);
}

static const struct pci_irq_ops vm_irq_ops = { vm_line, vm_alloc, vm_route, vm_fd };

/* ---- the bus ---- */

int pci_bus_create(struct vm *vm, struct pci_bus **out)
{
	struct pci_bus *bus = calloc(1, sizeof(*bus));

	if (!bus)
		return err_set(-ENOMEM, "pci: out of memory");
	bus->vm = vm;
	pthread_mutex_init(&bus->lock, NULL);
	pthread_mutex_init(&bus->intx_lock, NULL);
	bus->next_io = PCI_IO_BASE;
	bus->next_mem32 = PCI_MMIO32_BASE;
	bus->next_mem64 = pci_mmio64_base(vm_mem_size(vm));
	bus->mem64_end = bus->next_mem64 + PCI_MMIO64_SIZE;
	bus->irq = &vm_irq_ops;
	bus->irq_ctx = vm;
	vm_set_pci_bus(vm, bus);
	*out = bus;
	return 0;
}

static void bar_unmap(struct pci_dev *d, int idx);

static void dev_free(struct pci_dev *d)
{
	for (int i = 0; i < PCI_BARS; i++)
		bar_unmap(d, i);
	if (d->msix)
		msix_fini(d);
	pci_raise_intx(d, false);
	if (d->type->fini)
		d->type->fini(d);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

void pci_bus_destroy(struct pci_bus *bus)
{
	if (!bus)
		return;
	for (int s = PCI_SLOTS - 1; s >= 0; s--)
		if (bus->slot[s])
			dev_free(bus->slot[s]);
	if (vm_pci_bus(bus->vm) == bus)
		vm_set_pci_bus(bus->vm, NULL);
	pthread_mutex_destroy(&bus->lock);
	pthread_mutex_destroy(&bus->intx_lock);
	free(bus);
}

void pci_bus_set_irq_ops(struct pci_bus *bus, const struct pci_irq_ops *ops, void *ctx)
{
	bus->irq = ops;
	bus->irq_ctx = ctx;
}

const struct pci_irq_ops *pci_bus_irq_ops(struct pci_bus *bus, void **ctx)
{
	*ctx = bus->irq_ctx;
	return bus->irq;
}

struct vm *pci_bus_vm(struct pci_bus *bus)
{
	return bus->vm;
}

struct pci_dev *pci_bus_dev(struct pci_bus *bus, unsigned slot)
{
	return slot < PCI_SLOTS ? bus->slot[slot] : NULL;
}

int pci_bus_update(struct pci_bus *bus, const char *tname, unsigned nth, const char *opts)
{
	unsigned left = nth;

	for (unsigned s = 0; bus && s < PCI_SLOTS; s++) {
		struct pci_dev *d = bus->slot[s];

		if (!d || strcmp(d->type->name, tname) || left-- > 0)
			continue;
		if (!d->type->update)
			return err_set(-EOPNOTSUPP, "%s: a %s cannot be changed while it runs",
				       d->name, tname);
		return d->type->update(d, opts);
	}
	return err_set(-ENODEV, "no %s number %u", tname, nth);
}

void pci_bus_print_stats(struct pci_bus *bus, FILE *f)
{
	for (unsigned s = 0; bus && s < PCI_SLOTS; s++)
		if (bus->slot[s] && bus->slot[s]->type->print_stats)
			bus->slot[s]->type->print_stats(bus->slot[s], f);
}

/* ---- raw configuration bytes ---- */

void pci_cfg_set8(struct pci_dev *d, unsigned off, uint8_t v)
{
	d->cfg[off] = v;
}

void pci_cfg_set16(struct pci_dev *d, unsigned off, uint16_t v)
{
	d->cfg[off] = (uint8_t)v;
	d->cfg[off + 1] = (uint8_t)(v >> 8);
}

void pci_cfg_set32(struct pci_dev *d, unsigned off, uint32_t v)
{
	pci_cfg_set16(d, off, (uint16_t)v);
	pci_cfg_set16(d, off + 2, (uint16_t)(v >> 16));
}

uint8_t pci_cfg_get8(const struct pci_dev *d, unsigned off)
{
	return d->cfg[off];
}

uint16_t pci_cfg_get16(const struct pci_dev *d, unsigned off)
{
	return (uint16_t)(d->cfg[off] | d->cfg[off + 1] << 8);
}

uint32_t pci_cfg_get32(const struct pci_dev *d, unsigned off)
{
	return pci_cfg_get16(d, off) | (uint32_t)pci_cfg_get16(d, off + 2) << 16;
}

void pci_set_ids(struct pci_dev *d, uint16_t vendor, uint16_t device,
		 uint32_t class, uint8_t rev, uint16_t subvendor, uint16_t subdevice)
{
	pci_cfg_set16(d, PCI_VENDOR_ID, vendor);
	pci_cfg_set16(d, PCI_DEVICE_ID, device);
	pci_cfg_set32(d, PCI_REVISION_ID, class << 8 | rev);
	pci_cfg_set16(d, PCI_SUBSYSTEM_VENDOR_ID, subvendor);
	pci_cfg_set16(d, PCI_SUBSYSTEM_ID, subdevice);
}

/* ---- capabilities ---- */

int pci_add_cap(struct pci_dev *d, const void *cap, size_t len)
{
	unsigned at = d->cap_next;

	if (len < 2 || at < PCI_HEADER_END || len > PCI_CFG_STD - at)
		return err_set(-ENOSPC, "pci: %s: no room for a %zu-byte "
			       "capability", d->name, len);
	memcpy(d->cfg + at, cap, len);
	d->cfg[at + 1] = 0;				/* the end of the list */
	if (d->cap_last)
		d->cfg[d->cap_last + 1] = (uint8_t)at;
	else
		d->cfg[PCI_CAPABILITY_LIST] = (uint8_t)at;
	pci_cfg_set16(d, PCI_STATUS, pci_cfg_get16(d, PCI_STATUS) | PCI_STS_CAP_LIST);
	d->cap_last = (uint8_t)at;
	/* dword-aligned, as the pointer's low two bits are reserved */
	d->cap_next = (uint8_t)((at + len + 3) & ~3u);
	if (at + len + 3 >= PCI_CFG_STD)
		d->cap_next = 0;			/* full */
	return (int)at;
}

/* ---- INTx ---- */

int pci_enable_intx(struct pci_dev *d, unsigned pin)
{
	if (pin < 1 || pin > 4)
		return err_set(-EINVAL, "pci: %s: interrupt pin %u (1-4)", d->name, pin);
	d->intx_gsi = pci_intx_gsi(d->slot, pin);
	d->cfg[PCI_INTERRUPT_PIN] = (uint8_t)pin;
	d->cfg[PCI_INTERRUPT_LINE] = (uint8_t)d->intx_gsi;	/* as firmware would */
	return 0;
}

/* Make the bus's view of d's line what d wants (intx_lock held). */
static int intx_apply(struct pci_dev *d)
{
	struct pci_bus *bus = d->bus;
	bool want = d->intx_level && !d->intx_suppressed && !d->intx_disabled;
	unsigned line;

	if (want == d->intx_asserted || !d->cfg[PCI_INTERRUPT_PIN])
		return 0;
	d->intx_asserted = want;
	line = d->intx_gsi - PCI_INTX_GSI_BASE;
	/* the GSI is shared: it is high while any device asserts it */
	if (want)
		return bus->intx_count[line]++ == 0 ?
			bus->irq->irq_line(bus->irq_ctx, d->intx_gsi, true) : 0;
	return --bus->intx_count[line] == 0 ?
		bus->irq->irq_line(bus->irq_ctx, d->intx_gsi, false) : 0;
}

int pci_raise_intx(struct pci_dev *d, bool level)
{
	int r;

	if (!d->cfg[PCI_INTERRUPT_PIN])
		return level ? err_set(-EINVAL, "pci: %s has no INTx pin", d->name) : 0;
	lock(&d->bus->intx_lock, LOCK_PCI_INTX);
	d->intx_level = level;
	r = intx_apply(d);
	unlock(&d->bus->intx_lock, LOCK_PCI_INTX);
	return r;
}

void pci_intx_suppress(struct pci_dev *d, bool suppressed)
{
	lock(&d->bus->intx_lock, LOCK_PCI_INTX);
	d->intx_suppressed = suppressed;
	intx_apply(d);
	unlock(&d->bus->intx_lock, LOCK_PCI_INTX);
}

static void intx_set_disabled(struct pci_dev *d, bool disabled)
{
	lock(&d->bus->intx_lock, LOCK_PCI_INTX);
	d->intx_disabled = disabled;
	intx_apply(d);
	unlock(&d->bus->intx_lock, LOCK_PCI_INTX);
}

static bool intx_level(struct pci_dev *d)
{
	bool l;

	lock(&d->bus->intx_lock, LOCK_PCI_INTX);
	l = d->intx_level;
	unlock(&d->bus->intx_lock, LOCK_PCI_INTX);
	return l;
}

/* ---- BARs ---- */

static uint64_t pow2_at_least(uint64_t v, uint64_t min)
{
	uint64_t p = min;

	while (p < v && p <= (1ULL << 62))
		p <<= 1;
	return p;
}

int pci_alloc_bar(struct pci_dev *d, int idx, enum pci_bar_type type,
		  bool prefetch, uint64_t size)
{
	struct pci_bus *bus = d->bus;
	uint64_t *next, end, addr, max;
	struct pci_bar *b;

	if (idx < 0 || idx >= PCI_BARS || (type == PCI_BAR_MEM64 && idx == PCI_BARS - 1))
		return err_set(-EINVAL, "pci: %s: BAR %d cannot hold that", d->name, idx);
	b = &d->bar[idx];
	if (b->type != PCI_BAR_NONE || (type == PCI_BAR_MEM64 && d->bar[idx + 1].type))
		return err_set(-EBUSY, "pci: %s: BAR %d is taken", d->name, idx);
	switch (type) {
	case PCI_BAR_IO:
		size = pow2_at_least(size, 4);
		next = &bus->next_io, end = PCI_IO_END, max = 0x1000;
		break;
	case PCI_BAR_MEM32:
		size = pow2_at_least(size, 16);
		next = &bus->next_mem32, end = PCI_MMIO32_END, max = 1ULL << 30;
		break;
	case PCI_BAR_MEM64:
		size = pow2_at_least(size, 16);
		next = &bus->next_mem64, end = bus->mem64_end, max = PCI_MMIO64_SIZE;
		break;
	default:
		return err_set(-EINVAL, "pci: %s: BAR %d: bad type", d->name, idx);
	}
	if (size == 0 || size > max)
		return err_set(-EINVAL, "pci: %s: BAR %d: size 0x%llx", d->name,
			       idx, (unsigned long long)size);
	addr = (*next + size - 1) & ~(size - 1);
	if (addr < *next || addr > end || size > end - addr)
		return err_set(-ENOSPC, "pci: %s: BAR %d: no room for 0x%llx bytes "
			       "in the window", d->name, idx, (unsigned long long)size);
	*next = addr + size;
	b->type = type;
	b->prefetch = type != PCI_BAR_IO && prefetch;
	b->size = size;
	b->addr = addr;
	if (type == PCI_BAR_MEM64)
		d->bar[idx + 1].type = PCI_BAR_MEM64_HI;
	return 0;
}

uint64_t pci_bar_addr(struct pci_dev *d, int idx)
{
	return idx >= 0 && idx < PCI_BARS ? d->bar[idx].addr : 0;
}

bool pci_bar_mapped(struct pci_dev *d, int idx)
{
	return idx >= 0 && idx < PCI_BARS && d->bar[idx].mapped;
}

/* The BAR register as the guest reads it. */
static uint32_t bar_reg(const struct pci_dev *d, int idx)
{
	const struct pci_bar *b = &d->bar[idx];
	uint32_t pf = b->prefetch ? 0x8 : 0;

	switch (b->type) {
	case PCI_BAR_IO:
		return (uint32_t)b->addr | 0x1;
	case PCI_BAR_MEM32:
		return (uint32_t)b->addr | pf;
	case PCI_BAR_MEM64:
		return (uint32_t)b->addr | pf | 0x4;
	case PCI_BAR_MEM64_HI:
		return (uint32_t)(d->bar[idx - 1].addr >> 32);
	default:
		return 0;
	}
}

static int bar_io(void *arg, bool write, uint64_t off, unsigned size, uint64_t *val)
{
	struct pci_bar *b = arg;
	struct pci_dev *d = b->dev;

	if (d->msix && msix_bar_access(d, b->idx, write, off, size, val))
		return 0;
	if (write)
		return d->type->bar_write ?
			d->type->bar_write(d, b->idx, off, size, *val) : 0;
	if (d->type->bar_read)
		return d->type->bar_read(d, b->idx, off, size, val);
	*val = 0;
	return 0;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* May BAR b sit at b->addr?  (Overlaps with devices: the bus says.) */
static bool bar_place_ok(struct pci_dev *d, const struct pci_bar *b)
{
	uint64_t a = b->addr, n = b->size;

	if (a == 0 || a + n < a)
		return false;
	if (b->type == PCI_BAR_IO)
		return a + n <= 0x10000;
	if (overlaps(a, n, PCI_PLATFORM_HOLE, 0x100000000ULL - PCI_PLATFORM_HOLE) ||
	    overlaps(a, n, PCI_ECAM_BASE, PCI_ECAM_SIZE))
		return false;
	/* KVM's memory slots win over MMIO exits: a BAR over RAM is dead */
	return !vm_ram_overlaps(d->bus->vm, a, n);
}

static void bar_unmap(struct pci_dev *d, int idx)
{
	struct pci_bar *b = &d->bar[idx];

	if (!b->mapped)
		return;
	if (b->type == PCI_BAR_IO)
		vm_unregister_pio(d->bus->vm, (uint16_t)b->map_addr);
	else
		vm_unregister_mmio(d->bus->vm, b->map_addr);
	b->mapped = false;
	if (d->type->bar_mapped)
		d->type->bar_mapped(d, idx, b->map_addr, false);
}

static void bar_map(struct pci_dev *d, int idx)
{
	struct pci_bar *b = &d->bar[idx];
	char name[24];
	int r;

	snprintf(name, sizeof(name), "%.12s.bar%d", d->name, idx);
	if (!bar_place_ok(d, b)) {
		b->refused = true;
		return;
	}
	if (b->type == PCI_BAR_IO)
		r = vm_register_pio(d->bus->vm, name, (uint16_t)b->addr,
				    (uint16_t)b->size, IO_READ | IO_WRITE, bar_io, b);
	else
		r = vm_register_mmio(d->bus->vm, name, b->addr, b->size,
				     IO_READ | IO_WRITE, bar_io, b);
	if (r < 0) {
		b->refused = true;		/* overlaps another range */
		return;
	}
	b->mapped = true;
	b->refused = false;
	b->map_addr = b->addr;
	if (d->type->bar_mapped)
		d->type->bar_mapped(d, idx, b->addr, true);
}

/* Map or unmap BAR idx as the command register and the BAR now say. */
static void bar_update(struct pci_dev *d, int idx)
{
	struct pci_bar *b = &d->bar[idx];
	uint16_t cmd = pci_cfg_get16(d, PCI_COMMAND);
	bool want;

	if (b->type == PCI_BAR_NONE || b->type == PCI_BAR_MEM64_HI)
		return;
	want = (cmd & (b->type == PCI_BAR_IO ? PCI_CMD_IO : PCI_CMD_MEM)) &&
	       !b->hi_pending;
	if (b->mapped && (!want || b->map_addr != b->addr))
		bar_unmap(d, idx);
	if (want && !b->mapped)
		bar_map(d, idx);
	else if (!want)
		b->refused = false;
}

/* A guest write of the bytes in bmask of nv to BAR register idx. */
static void bar_write(struct pci_dev *d, int idx, uint32_t bmask, uint32_t nv)
{
	struct pci_bar *b = &d->bar[idx];
	uint32_t v = (bar_reg(d, idx) & ~bmask) | (nv & bmask);

	switch (b->type) {
	case PCI_BAR_IO:
		b->addr = v & ~(uint32_t)(b->size - 1) & ~0x3u;
		break;
	case PCI_BAR_MEM32:
		b->addr = v & ~(uint32_t)(b->size - 1) & ~0xfu;
		break;
	case PCI_BAR_MEM64:
		/* unmapped until the high dword is written (docs/pci.md) */
		b->addr = ((b->addr & ~0xffffffffULL) | (v & ~0xfu)) & ~(b->size - 1);
		b->hi_pending = true;
		break;
	case PCI_BAR_MEM64_HI:
		b = &d->bar[--idx];
		b->addr = (((uint64_t)v << 32) | (b->addr & 0xffffffffULL)) & ~(b->size - 1);
		b->hi_pending = false;
		break;
	default:
		return;			/* unimplemented BARs read 0 */
	}
	bar_update(d, idx);
}

/* ---- configuration space ---- */

static void cmd_write(struct pci_dev *d, uint16_t old, uint16_t cmd)
{
	pci_cfg_set16(d, PCI_COMMAND, cmd);
	if ((old ^ cmd) & PCI_CMD_INTX_DISABLE)
		intx_set_disabled(d, cmd & PCI_CMD_INTX_DISABLE);
	if (!((old ^ cmd) & (PCI_CMD_IO | PCI_CMD_MEM)))
		return;
	for (int i = 0; i < PCI_BARS; i++) {
		struct pci_bar *b = &d->bar[i];
		uint16_t bit = b->type == PCI_BAR_IO ? PCI_CMD_IO : PCI_CMD_MEM;

		/* turning decode on finishes a half-written 64-bit BAR */
		if (b->hi_pending && !(old & bit) && (cmd & bit))
			b->hi_pending = false;
		bar_update(d, i);
	}
}

/* A write to the header (0x00-0x3F); reg, size already checked. */
static void header_write(struct pci_dev *d, unsigned reg, unsigned size, uint32_t val)
{
	unsigned base = reg & ~3u, shift = 8 * (reg & 3);
	uint32_t bmask = (uint32_t)(io_mask(size) << shift), nv = val << shift;
	uint32_t wmask = 0, old;

	switch (base) {
	case PCI_COMMAND: {
		uint16_t oc = pci_cfg_get16(d, PCI_COMMAND);
		uint16_t cm = (uint16_t)(bmask & CMD_WMASK);
		uint16_t sts = pci_cfg_get16(d, PCI_STATUS);

		sts &= (uint16_t)~((nv >> 16) & (bmask >> 16) & PCI_STS_RW1C);
		pci_cfg_set16(d, PCI_STATUS, sts);
		cmd_write(d, oc, (uint16_t)((oc & ~cm) | (nv & cm)));
		return;
	}
	case PCI_CACHE_LINE_SIZE:
		wmask = 0x0000ffff;	/* cache line size, latency timer */
		break;
	case PCI_INTERRUPT_LINE:
		wmask = 0x000000ff;
		break;
	default:
		if (base >= PCI_BAR0 && base < PCI_BAR0 + 4 * PCI_BARS)
			bar_write(d, (int)(base - PCI_BAR0) / 4, bmask, nv);
		return;		/* the rest of the header is read-only */
	}
	old = pci_cfg_get32(d, base);
	pci_cfg_set32(d, base, (old & ~(bmask & wmask)) | (nv & bmask & wmask));
}

static uint32_t header_dword(struct pci_dev *d, unsigned base)
{
	uint32_t v;

	if (base >= PCI_BAR0 && base < PCI_BAR0 + 4 * PCI_BARS)
		return bar_reg(d, (int)(base - PCI_BAR0) / 4);
	v = pci_cfg_get32(d, base);
	if (base == PCI_COMMAND) {
		v &= ~((uint32_t)PCI_STS_INTX << 16);
		if (intx_level(d))
			v |= (uint32_t)PCI_STS_INTX << 16;
	}
	return v;
}

static bool in_msix_cap(const struct pci_dev *d, unsigned reg)
{
	return d->msix && reg >= d->msix->cap && reg < d->msix->cap + MSIX_CAP_SIZE;
}

int pci_cfg_access(struct pci_bus *bus, unsigned busno, unsigned slot,
		   unsigned fn, unsigned reg, bool write, unsigned size,
		   uint32_t *val)
{
	struct pci_dev *d = busno == 0 && slot < PCI_SLOTS && fn == 0 ?
			    bus->slot[slot] : NULL;

	if (!d || (size != 1 && size != 2 && size != 4) ||
	    (reg & 3) + size > 4 || reg >= PCI_CFG_SIZE) {
		if (!write)
			*val = 0xffffffff;	/* master abort */
		return 0;
	}
	lock(&d->lock, LOCK_PCI_DEV);
	if (!write) {
		uint32_t dw = reg < PCI_HEADER_END ? header_dword(d, reg & ~3u) :
						      pci_cfg_get32(d, reg & ~3u);

		*val = (uint32_t)((dw >> (8 * (reg & 3))) & io_mask(size));
		if (reg >= PCI_HEADER_END && !in_msix_cap(d, reg) && d->type->cfg_read)
			d->type->cfg_read(d, reg, size, val);
	} else if (reg < PCI_HEADER_END) {
		header_write(d, reg, size, *val & (uint32_t)io_mask(size));
	} else if (in_msix_cap(d, reg)) {
		msix_cfg_write(d, reg - d->msix->cap, size, *val & (uint32_t)io_mask(size));
	} else if (d->type->cfg_write) {
		d->type->cfg_write(d, reg, size, *val & (uint32_t)io_mask(size));
		/* a return of 1 asks for the default: read-only, dropped */
	}
	unlock(&d->lock, LOCK_PCI_DEV);
	return 0;
}

/* ---- adding devices ---- */

int pci_add_device_type(struct pci_bus *bus, const struct pci_devtype *type,
			int slot, const char *opts, struct pci_dev **out)
{
	struct pci_dev *d;
	uint16_t cmd = 0;
	int r;

	lock(&bus->lock, LOCK_PCI_BUS);
	if (slot < 0) {
		for (slot = 1; slot < PCI_SLOTS && bus->slot[slot]; slot++)
			;
		if (slot == PCI_SLOTS) {
			r = err_set(-ENOSPC, "pci: no free slot for %s", type->name);
			goto out;
		}
	} else if (slot >= PCI_SLOTS) {
		r = err_set(-EINVAL, "pci: slot %d for %s (0-%d)", slot,
			    type->name, PCI_SLOTS - 1);
		goto out;
	} else if (bus->slot[slot]) {
		r = err_set(-EBUSY, "pci: slot %d is taken by %s", slot,
			    bus->slot[slot]->name);
		goto out;
	}
	if (!(d = calloc(1, sizeof(*d)))) {
		r = err_set(-ENOMEM, "pci: out of memory");
		goto out;
	}
	d->bus = bus;
	d->type = type;
	d->slot = (unsigned)slot;
	snprintf(d->name, sizeof(d->name), "%s", type->name);
	pthread_mutex_init(&d->lock, NULL);
	d->cap_next = PCI_HEADER_END;
	for (int i = 0; i < PCI_BARS; i++) {
		d->bar[i].dev = d;
		d->bar[i].idx = i;
	}
	if ((r = type->init(d, opts)) < 0) {
		dev_free(d);
		goto out;
	}
	/* firmware-like: decode on for the BARs it has placed */
	for (int i = 0; i < PCI_BARS; i++) {
		if (d->bar[i].type == PCI_BAR_IO)
			cmd |= PCI_CMD_IO;
		else if (d->bar[i].type == PCI_BAR_MEM32 || d->bar[i].type == PCI_BAR_MEM64)
			cmd |= PCI_CMD_MEM;
	}
	cmd_write(d, 0, cmd);
	for (int i = 0; i < PCI_BARS; i++) {
		if (d->bar[i].refused) {
			r = err_set(-EEXIST, "pci: %s: BAR %d at 0x%llx overlaps "
				    "another range", d->name, i,
				    (unsigned long long)d->bar[i].addr);
			dev_free(d);
			goto out;
		}
	}
	bus->slot[slot] = d;
	if (out)
		*out = d;
	r = 0;
out:
	unlock(&bus->lock, LOCK_PCI_BUS);
	return r;
}

int pci_add_device(struct pci_bus *bus, const char *name, int slot,
		   const char *opts, struct pci_dev **out)
{
	const struct pci_devtype *t = pci_devtype_find(name);

	if (!t)
		return err_set(-ENOENT, "pci: no device type '%s'", name);
	return pci_add_device_type(bus, t, slot, opts, out);
}
