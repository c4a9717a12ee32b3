/*
 * msix.c - MSI-X for PCI core devices (see msix.h, docs/pci.md).
 *
 * The capability's bytes live in the device's configuration space (the
 * core routes guest writes inside it here); the table, the PBA and the
 * enable / function-mask state live in struct msix under m->lock, which
 * the guest's table accesses (vCPU threads), config writes and
 * msix_notify (device threads) all take.  KVM is told a vector's route only
 * when what it would deliver changes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "lock.h"
#include "err.h"
#include "pci/msix.h"
#include "pci/pci.h"

static uint32_t pba_bytes(unsigned n)
{
	return (n + 63) / 64 * 8;
}

static bool routable(const struct msix *m, unsigned v)
{
	return m->enabled && !m->fmask && !(m->tab[v].ctrl & MSIX_VEC_MASKED);
}

static void deliver(struct msix *m, unsigned v)
{
	uint64_t one = 1;

	/* EAGAIN: the counter is saturated, an interrupt is on its way */
	if (write(m->efd[v], &one, sizeof(one)) != sizeof(one))
		m->route_errors++;
}

/* Tell KVM vector v's route if it changed; deliver it if pending (lock held). */
static void route_update(struct msix *m, unsigned v)
{
	const struct pci_irq_ops *ops;
	void *ctx;
	struct msix_route want = {
		.valid = true,
		.masked = !routable(m, v),
		.addr = (uint64_t)m->tab[v].addr_hi << 32 | m->tab[v].addr_lo,
		.data = m->tab[v].data,
	};
	struct msix_route *have = &m->route[v];

	if (!(have->masked && want.masked) &&
	    (have->masked != want.masked || have->addr != want.addr ||
	     have->data != want.data)) {
		ops = pci_bus_irq_ops(m->dev->bus, &ctx);
		if (m->gsi[v] != ~0u &&
		    ops->route_msi(ctx, m->gsi[v], want.addr, want.data, want.masked) < 0)
			m->route_errors++;
		*have = want;
	}
	if (!want.masked && (m->pba[v / 64] & (1ULL << (v % 64)))) {
		m->pba[v / 64] &= ~(1ULL << (v % 64));
		deliver(m, v);
	}
}

static void msix_free(struct pci_dev *dev, struct msix *m)
{
	const struct pci_irq_ops *ops;
	void *ctx;

	ops = pci_bus_irq_ops(dev->bus, &ctx);
	for (unsigned v = 0; m->efd && v < m->n; v++) {
		if (m->efd[v] < 0)
			continue;
		if (m->gsi[v] != ~0u) {
			ops->irqfd(ctx, m->gsi[v], m->efd[v], true);
			if (!m->route[v].masked)
				ops->route_msi(ctx, m->gsi[v], 0, 0, true);
		}
		close(m->efd[v]);
	}
	free(m->tab);
	free(m->pba);
	free(m->route);
	free(m->gsi);
	free(m->efd);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

void msix_fini(struct pci_dev *dev)
{
	if (!dev->msix)
		return;
	msix_free(dev, dev->msix);
	dev->msix = NULL;
}

/* Can dev get nvec vectors?  0 or -errno (err_set). */
static int msix_check(struct pci_dev *dev, unsigned nvec)
{
	if (dev->msix)
		return err_set(-EBUSY, "msix: %s already has MSI-X", dev->name);
	if (nvec < 1 || nvec > MSIX_MAX_VECTORS)
		return err_set(-EINVAL, "msix: %s: %u vectors (1-%d)", dev->name,
			       nvec, MSIX_MAX_VECTORS);
	return 0;
}

int msix_init(struct pci_dev *dev, unsigned nvec, int bar,
	      uint32_t table_off, uint32_t pba_off)
{
	const struct pci_irq_ops *ops;
	uint8_t cap[MSIX_CAP_SIZE] = { PCI_CAP_ID_MSIX };
	uint64_t tlen = (uint64_t)nvec * MSIX_ENTRY_SIZE, plen = pba_bytes(nvec);
	struct msix *m;
	void *ctx;
	int r;

	if ((r = msix_check(dev, nvec)) < 0)
		return r;
	if (bar < 0 || bar >= PCI_BARS ||
	    (dev->bar[bar].type != PCI_BAR_MEM32 && dev->bar[bar].type != PCI_BAR_MEM64))
		return err_set(-EINVAL, "msix: %s: BAR %d is not a memory BAR",
			       dev->name, bar);
	if ((table_off | pba_off) & 7 ||
	    table_off + tlen > dev->bar[bar].size || pba_off + plen > dev->bar[bar].size ||
	    (table_off < pba_off + plen && pba_off < table_off + tlen))
		return err_set(-EINVAL, "msix: %s: table 0x%x / PBA 0x%x do not fit "
			       "BAR %d", dev->name, table_off, pba_off, bar);
	if (!(m = calloc(1, sizeof(*m))))
		return err_set(-ENOMEM, "msix: out of memory");
	pthread_mutex_init(&m->lock, NULL);
	m->dev = dev;
	m->n = nvec;
	m->bar = bar;
	m->table_off = table_off;
	m->pba_off = pba_off;
	m->tab = calloc(nvec, sizeof(*m->tab));
	m->pba = calloc(plen / 8, sizeof(*m->pba));
	m->route = calloc(nvec, sizeof(*m->route));
	m->gsi = calloc(nvec, sizeof(*m->gsi));
	m->efd = calloc(nvec, sizeof(*m->efd));
	if (!m->tab || !m->pba || !m->route || !m->gsi || !m->efd) {
		free(m->efd);
		m->efd = NULL;
		msix_free(dev, m);
		return err_set(-ENOMEM, "msix: out of memory");
	}
	for (unsigned v = 0; v < nvec; v++) {
		m->tab[v].ctrl = MSIX_VEC_MASKED;	/* reset state */
		m->route[v] = (struct msix_route){ .valid = true, .masked = true };
		m->gsi[v] = ~0u;
		m->efd[v] = -1;
	}
	ops = pci_bus_irq_ops(dev->bus, &ctx);
	for (unsigned v = 0; v < nvec; v++) {
		if ((m->efd[v] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
			r = err_set(-errno, "msix: %s: eventfd: %s", dev->name, strerror(errno));
			goto fail;
		}
		if ((r = ops->alloc_msi_gsi(ctx, &m->gsi[v])) == -ENODEV) {
			/* no interrupt controller (a --raw guest): the table and
			 * PBA work, a delivered vector reaches nothing */
			m->gsi[v] = ~0u;
			continue;
		}
		if (r < 0) {
			m->gsi[v] = ~0u;
			goto fail;
		}
		if ((r = ops->irqfd(ctx, m->gsi[v], m->efd[v], false)) < 0) {
			close(m->efd[v]);	/* not bound: do not unbind */
			m->efd[v] = -1;
			goto fail;
		}
	}
	cap[2] = (uint8_t)(nvec - 1);			/* table size - 1 */
	cap[3] = (uint8_t)((nvec - 1) >> 8);
	memcpy(cap + 4, &(uint32_t){ table_off | (uint32_t)bar }, 4);
	memcpy(cap + 8, &(uint32_t){ pba_off | (uint32_t)bar }, 4);
	if ((r = pci_add_cap(dev, cap, sizeof(cap))) < 0)
		goto fail;
	m->cap = (unsigned)r;
	dev->msix = m;
	return 0;
fail:
	msix_free(dev, m);
	return r;
}

int msix_init_bar(struct pci_dev *dev, unsigned nvec, int bar)
{
	uint32_t pba_off = nvec <= 128 ? 0x800 : (nvec * MSIX_ENTRY_SIZE + 0xfff) & ~0xfffu;
	int r;

	if ((r = msix_check(dev, nvec)) < 0)
		return r;
	if ((r = pci_alloc_bar(dev, bar, PCI_BAR_MEM32, false,
			       pba_off + pba_bytes(nvec))) < 0)
		return r;
	if ((r = msix_init(dev, nvec, bar, 0, pba_off)) < 0)
		return r;
	dev->msix->dedicated = true;
	return 0;
}

int msix_notify(struct pci_dev *dev, unsigned v)
{
	struct msix *m = dev->msix;

	if (!m || v >= m->n)
		return err_set(-EINVAL, "msix: %s: no vector %u", dev->name, v);
	lock(&m->lock, LOCK_MSIX);
	if (routable(m, v))
		deliver(m, v);
	else
		m->pba[v / 64] |= 1ULL << (v % 64);
	unlock(&m->lock, LOCK_MSIX);
	return 0;
}

int msix_vector_eventfd(struct pci_dev *dev, unsigned v)
{
	struct msix *m = dev->msix;

	return m && v < m->n ? m->efd[v] : -1;
}

bool msix_enabled(struct pci_dev *dev)
{
	bool on = false;

	if (dev->msix) {
		lock(&dev->msix->lock, LOCK_MSIX);
		on = dev->msix->enabled;
		unlock(&dev->msix->lock, LOCK_MSIX);
	}
	return on;
}

bool msix_pending(struct pci_dev *dev, unsigned v)
{
	struct msix *m = dev->msix;
	bool p;

	if (!m || v >= m->n)
		return false;
	lock(&m->lock, LOCK_MSIX);
	p = m->pba[v / 64] & (1ULL << (v % 64));
	unlock(&m->lock, LOCK_MSIX);
	return p;
}

void msix_cfg_write(struct pci_dev *dev, unsigned off, unsigned size, uint32_t val)
{
	struct msix *m = dev->msix;
	const uint32_t w = (uint32_t)(MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK) << 16;
	unsigned shift = 8 * (off & 3);
	uint32_t bm = (uint32_t)(((1ULL << (8 * size)) - 1) << shift), nv = val << shift;
	uint32_t dw;
	uint16_t ctrl;
	bool was_enabled;

	if (off >= 4)
		return;			/* table / PBA offsets are read-only */
	dw = pci_cfg_get32(dev, m->cap);
	dw = (dw & ~(bm & w)) | (nv & bm & w);
	pci_cfg_set32(dev, m->cap, dw);
	ctrl = (uint16_t)(dw >> 16);
	lock(&m->lock, LOCK_MSIX);
	was_enabled = m->enabled;
	m->enabled = ctrl & MSIX_CTRL_ENABLE;
	m->fmask = ctrl & MSIX_CTRL_FMASK;
	for (unsigned v = 0; v < m->n; v++)
		route_update(m, v);
	unlock(&m->lock, LOCK_MSIX);
	if (was_enabled != m->enabled)
		pci_intx_suppress(dev, m->enabled);
}

/* A table access: aligned 4 or 8 bytes (checked by the caller). */
static void table_access(struct msix *m, bool write, uint64_t off, unsigned size,
			 uint64_t *val)
{
	unsigned v = (unsigned)(off / MSIX_ENTRY_SIZE);
	unsigned w = (unsigned)(off % MSIX_ENTRY_SIZE) / 4;
	uint32_t fields[4] = { m->tab[v].addr_lo, m->tab[v].addr_hi,
			       m->tab[v].data, m->tab[v].ctrl };

	if (!write) {
		*val = fields[w];
		if (size == 8)
			*val |= (uint64_t)fields[w + 1] << 32;
		return;
	}
	for (unsigned i = 0; i < size / 4; i++)
		fields[w + i] = (uint32_t)(*val >> (32 * i));
	m->tab[v].addr_lo = fields[0];
	m->tab[v].addr_hi = fields[1];
	m->tab[v].data = fields[2];
	m->tab[v].ctrl = fields[3] & MSIX_VEC_MASKED;	/* the rest is reserved */
	route_update(m, v);
}

bool msix_bar_access(struct pci_dev *dev, int bar, bool write, uint64_t off,
		     unsigned size, uint64_t *val)
{
	struct msix *m = dev->msix;
	uint64_t tlen, plen;
	bool in_table, in_pba;

	if (!m || bar != m->bar)
		return false;
	tlen = (uint64_t)m->n * MSIX_ENTRY_SIZE;
	plen = pba_bytes(m->n);
	in_table = off >= m->table_off && off - m->table_off < tlen;
	in_pba = off >= m->pba_off && off - m->pba_off < plen;
	if (!in_table && !in_pba) {
		if (!m->dedicated)
			return false;	/* the device's own registers */
		if (!write)
			*val = 0;
		return true;
	}
	/* aligned dwords and qwords only; both regions are 8-byte multiples */
	if ((size != 4 && size != 8) || (off & (size - 1))) {
		if (!write)
			*val = 0;
		return true;
	}
	lock(&m->lock, LOCK_MSIX);
	if (in_table) {
		table_access(m, write, off - m->table_off, size, val);
	} else if (!write) {
		uint64_t q = m->pba[(off - m->pba_off) / 8];

		*val = size == 8 ? q : (q >> (8 * ((off - m->pba_off) & 4))) & 0xffffffff;
	}
	unlock(&m->lock, LOCK_MSIX);
	return true;
}
