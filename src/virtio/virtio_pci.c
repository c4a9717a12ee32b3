/*
 * virtio_pci.c - the virtio 1.2 PCI transport (see virtio_pci.h).
 *
 * BAR 4 (64-bit memory) holds the structures the capabilities point at:
 *   0x0000 common configuration   0x1000 ISR status
 *   0x2000 device configuration   0x3000 notify (4 bytes per queue)
 * BAR 1 holds the MSI-X table and PBA (one vector per queue + config).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "lock.h"
#include "err.h"
#include "pci/msix.h"
#include "sandbox.h"
#include "util.h"
#include "virtio/virtio_pci.h"
#include "vm.h"

#define VPCI_BAR		4
#define VPCI_MSIX_BAR		1
#define VPCI_BAR_SIZE		0x4000
#define VPCI_COMMON		0x0000
#define VPCI_COMMON_LEN		0x40
#define VPCI_ISR		0x1000
#define VPCI_DEVCFG		0x2000
#define VPCI_NOTIFY		0x3000
#define VPCI_NOTIFY_MULT	4

/* virtio_pci_cap cfg_type (4.1.4) */
enum { CAP_COMMON = 1, CAP_NOTIFY = 2, CAP_ISR = 3, CAP_DEVICE = 4, CAP_PCI = 5 };

/* common configuration register offsets (4.1.4.3) */
enum {
	C_DFSELECT = 0x00, C_DF = 0x04, C_GFSELECT = 0x08, C_GF = 0x0c,
	C_MSIX = 0x10, C_NUMQ = 0x12, C_STATUS = 0x14, C_CFGGEN = 0x15,
	C_QSELECT = 0x16, C_QSIZE = 0x18, C_QMSIX = 0x1a, C_QENABLE = 0x1c,
	C_QNOFF = 0x1e, C_QDESC = 0x20, C_QDRIVER = 0x28, C_QDEVICE = 0x30,
	C_QNDATA = 0x38, C_QRESET = 0x3a,
};

#define VPCI_TRANSPORT_FEATURES ((1ULL << VIRTIO_F_VERSION_1) | \
	(1ULL << VIRTIO_F_INDIRECT_DESC) | (1ULL << VIRTIO_F_EVENT_IDX))

struct virtio_dev *virtio_dev_of(struct pci_dev *pci)
{
	return pci->priv;
}

bool virtio_has_feature(const struct virtio_dev *vd, unsigned bit)
{
	return bit < 64 && (vd->drv_features & (1ULL << bit));
}

/* ---- interrupts ---- */

static void vpci_signal(struct virtio_dev *vd, uint16_t vector, uint8_t isr_bit)
{
	if (msix_enabled(vd->pci)) {
		if (vector != VIRTIO_NO_VECTOR)
			msix_notify(vd->pci, vector);
		return;
	}
	vd->isr |= isr_bit;
	pci_raise_intx(vd->pci, true);
}

bool virtio_queue_interrupt(struct virtio_dev *vd, unsigned q)
{
	if (q < vd->ops->nqueues && vq_should_notify(&vd->q[q].vq)) {
		vpci_signal(vd, vd->q[q].msix, 1);
		return true;
	}
	return false;
}

void virtio_config_changed(struct virtio_dev *vd)
{
	vd->config_gen++;
	if (vd->status & VIRTIO_STATUS_DRIVER_OK)
		vpci_signal(vd, vd->config_msix, 2);
}

void virtio_needs_reset(struct virtio_dev *vd, const char *why)
{
	if (vd->errors++ == 0)
		fprintf(stderr, "hyve: %s: %s; device needs reset\n", vd->pci->name, why);
	if (vd->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
		return;
	vd->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	vd->config_gen++;
	vpci_signal(vd, vd->config_msix, 2);
}

/* ---- the worker: queue kicks and device fds, off the vCPU threads ---- */

static void vpci_run_queue(struct virtio_dev *vd, unsigned q)
{
	lock(&vd->lock, LOCK_VIRTIO);
	if ((vd->status & VIRTIO_STATUS_DRIVER_OK) &&
	    !(vd->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET) &&
	    vd->q[q].vq.enabled && !vd->q[q].vq.broken)
		vd->ops->queue_notify(vd, q);	/* unconfigured queues: ignored */
	unlock(&vd->lock, LOCK_VIRTIO);
}

static void *vpci_worker(void *arg)
{
	struct virtio_dev *vd = arg;

	/* waits until the privileges are dropped, then filters itself */
	if ((vd->ops->worker_unfiltered ? sandbox_thread_start_unfiltered() :
	     sandbox_thread_start(SANDBOX_WORKER)) < 0) {
		struct vm *vm = pci_bus_vm(vd->pci->bus);
		if (vm)
			vm_request_stop(vm, VM_ERROR, "%s", err_msg());
		return NULL;
	}
	for (;;) {
		struct epoll_event ev[8];
		int n = epoll_wait(vd->epfd, ev, 8, -1);

		for (int i = 0; i < n; i++) {
			uint64_t tag = ev[i].data.u64, v;

			if (tag == 0)
				return NULL;			/* stopfd */
			if (tag <= VIRTIO_MAX_QUEUES) {		/* queue kick */
				if (read(vd->q[tag - 1].kickfd, &v, sizeof(v)) > 0)
					vpci_run_queue(vd, (unsigned)tag - 1);
			} else {				/* a watched fd */
				int w = (int)(tag - VIRTIO_MAX_QUEUES - 1);
				lock(&vd->lock, LOCK_VIRTIO);
				vd->watch[w].cb(vd, vd->watch[w].arg);
				unlock(&vd->lock, LOCK_VIRTIO);
			}
		}
	}
}

int virtio_worker_watch(struct virtio_dev *vd, int fd,
			void (*cb)(struct virtio_dev *vd, void *arg), void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (vd->nwatch == (int)(sizeof(vd->watch) / sizeof(vd->watch[0])))
		return err_set(-ENOSPC, "%s: too many watched fds", vd->ops->name);
	ev.data.u64 = VIRTIO_MAX_QUEUES + 1 + (uint64_t)vd->nwatch;
	vd->watch[vd->nwatch].fd = fd;
	vd->watch[vd->nwatch].cb = cb;
	vd->watch[vd->nwatch].arg = arg;
	if (epoll_ctl(vd->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return err_set(-errno, "%s: epoll: %s", vd->ops->name, strerror(errno));
	vd->nwatch++;
	return 0;
}

int virtio_worker_watch_enable(struct virtio_dev *vd, int fd, bool on)
{
	for (int w = 0; w < vd->nwatch; w++) {
		if (vd->watch[w].fd != fd)
			continue;
		struct epoll_event ev = { .events = on ? EPOLLIN : 0 };
		ev.data.u64 = VIRTIO_MAX_QUEUES + 1 + (uint64_t)w;
		return epoll_ctl(vd->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
	}
	return -ENOENT;
}

int virtio_queue_kick_poll(struct virtio_dev *vd, unsigned q, bool on)
{
	struct epoll_event ev = { .events = on ? EPOLLIN : 0 };

	if (q >= vd->ops->nqueues)
		return -EINVAL;
	ev.data.u64 = q + 1;
	return epoll_ctl(vd->epfd, EPOLL_CTL_MOD, vd->q[q].kickfd, &ev) < 0 ? -errno : 0;
}

/* ---- status, reset, queues ---- */

static void vpci_reset(struct virtio_dev *vd)
{
	for (unsigned i = 0; i < vd->ops->nqueues; i++) {
		struct virtio_queue *q = &vd->q[i];
		vq_reset(&q->vq);
		q->size = vd->ops->queue_max;
		q->msix = VIRTIO_NO_VECTOR;
		q->enable = false;
		q->desc = q->driver = q->device = 0;
	}
	vd->drv_features = 0;
	vd->dfselect = vd->gfselect = 0;
	vd->qselect = 0;
	vd->config_msix = VIRTIO_NO_VECTOR;
	vd->status = 0;
	vd->isr = 0;
	pci_raise_intx(vd->pci, false);
	if (vd->ops->reset)
		vd->ops->reset(vd);
}

/* DRIVER_OK: the queue configuration is checked and frozen now. */
static void vpci_driver_ok(struct virtio_dev *vd)
{
	bool ev = virtio_has_feature(vd, VIRTIO_F_EVENT_IDX);
	bool ind = virtio_has_feature(vd, VIRTIO_F_INDIRECT_DESC);

	for (unsigned i = 0; i < vd->ops->nqueues; i++) {
		struct virtio_queue *q = &vd->q[i];

		if (!q->enable)
			continue;
		if (vq_enable(&q->vq, vm_memory(pci_bus_vm(vd->pci->bus)), q->size, q->desc,
			      q->driver, q->device, ev, ind) < 0) {
			virtio_needs_reset(vd, err_msg());
			return;
		}
	}
	for (unsigned i = 0; i < vd->ops->nqueues; i++) {	/* buffers may wait */
		uint64_t one = 1;
		if (vd->q[i].vq.enabled && write(vd->q[i].kickfd, &one, sizeof(one)) < 0)
			break;
	}
}

static void vpci_set_status(struct virtio_dev *vd, uint8_t v)
{
	uint8_t old = vd->status;

	if (v == 0) {
		vpci_reset(vd);
		return;
	}
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
		/* only what we offered, and never without VERSION_1 */
		if ((vd->drv_features & ~vd->dev_features) ||
		    !(vd->drv_features & (1ULL << VIRTIO_F_VERSION_1)))
			v &= ~VIRTIO_STATUS_FEATURES_OK;
	}
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(v & VIRTIO_STATUS_FEATURES_OK))
		v &= ~VIRTIO_STATUS_DRIVER_OK;	/* not before negotiation */
	/* the driver may not clear bits, nor set NEEDS_RESET itself */
	v = (uint8_t)((v | old) & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET) |
	    (old & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	vd->status = v;
	if ((v & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK))
		vpci_driver_ok(vd);
}

static uint64_t vpci_common_read(struct virtio_dev *vd, unsigned off)
{
	struct virtio_queue *q = vd->qselect < vd->ops->nqueues ? &vd->q[vd->qselect] : NULL;

	switch (off) {
	case C_DFSELECT:	return vd->dfselect;
	case C_DF:		return vd->dfselect < 2 ?
					(uint32_t)(vd->dev_features >> (32 * vd->dfselect)) : 0;
	case C_GFSELECT:	return vd->gfselect;
	case C_GF:		return vd->gfselect < 2 ?
					(uint32_t)(vd->drv_features >> (32 * vd->gfselect)) : 0;
	case C_MSIX:		return vd->config_msix;
	case C_NUMQ:		return vd->ops->nqueues;
	case C_STATUS:		return vd->status;
	case C_CFGGEN:		return vd->config_gen;
	case C_QSELECT:		return vd->qselect;
	case C_QSIZE:		return q ? q->size : 0;	/* 0: no such queue */
	case C_QMSIX:		return q ? q->msix : VIRTIO_NO_VECTOR;
	case C_QENABLE:		return q ? q->enable : 0;
	case C_QNOFF:		return q ? vd->qselect : 0;
	case C_QDESC:		return q ? q->desc : 0;
	case C_QDESC + 4:	return q ? q->desc >> 32 : 0;
	case C_QDRIVER:		return q ? q->driver : 0;
	case C_QDRIVER + 4:	return q ? q->driver >> 32 : 0;
	case C_QDEVICE:		return q ? q->device : 0;
	case C_QDEVICE + 4:	return q ? q->device >> 32 : 0;
	default:		return 0;
	}
}

static void set_lo(uint64_t *r, uint64_t v) { *r = (*r & ~0xffffffffULL) | (uint32_t)v; }
static void set_hi(uint64_t *r, uint64_t v) { *r = (*r & 0xffffffffULL) | (v << 32); }

static void vpci_common_write(struct virtio_dev *vd, unsigned off, unsigned size, uint64_t v)
{
	struct virtio_queue *q = vd->qselect < vd->ops->nqueues ? &vd->q[vd->qselect] : NULL;
	/* after DRIVER_OK the queues are frozen (a rewritten queue_size or
	 * ring address must not change what the device uses) */
	bool frozen = vd->status & VIRTIO_STATUS_DRIVER_OK;

	switch (off) {
	case C_DFSELECT: vd->dfselect = (uint32_t)v; break;
	case C_GFSELECT: vd->gfselect = (uint32_t)v; break;
	case C_GF:
		if (vd->gfselect < 2 && !(vd->status & VIRTIO_STATUS_FEATURES_OK)) {
			if (vd->gfselect == 0)
				set_lo(&vd->drv_features, v);
			else
				set_hi(&vd->drv_features, v);
		}
		break;
	case C_MSIX:	 vd->config_msix = (uint16_t)v; break;
	case C_STATUS:	 if (size == 1) vpci_set_status(vd, (uint8_t)v); break;
	case C_QSELECT:	 vd->qselect = (uint16_t)v; break;
	case C_QMSIX:	 if (q) q->msix = (uint16_t)v; break;
	case C_QSIZE:
		/* a power of two no larger than offered; else ignored */
		if (q && !frozen && v && v <= vd->ops->queue_max && !(v & (v - 1)))
			q->size = (uint16_t)v;
		break;
	case C_QENABLE:	 if (q && !frozen && v == 1) q->enable = true; break;
	case C_QDESC:	 if (q && !frozen) set_lo(&q->desc, v); break;
	case C_QDESC + 4: if (q && !frozen) set_hi(&q->desc, v); break;
	case C_QDRIVER:	 if (q && !frozen) set_lo(&q->driver, v); break;
	case C_QDRIVER + 4: if (q && !frozen) set_hi(&q->driver, v); break;
	case C_QDEVICE:	 if (q && !frozen) set_lo(&q->device, v); break;
	case C_QDEVICE + 4: if (q && !frozen) set_hi(&q->device, v); break;
	default: break;	/* read-only or reserved */
	}
}

/* Widths each common register allows (4.1.3.1: natural width only). */
static bool vpci_common_width_ok(unsigned off, unsigned size)
{
	if (off == C_STATUS || off == C_CFGGEN)
		return size == 1;
	if (off < C_MSIX || off >= C_QDESC)
		return size == 4 && !(off & 3);
	return size == 2 && !(off & 1);
}

int virtio_pci_bar_read(struct pci_dev *dev, int bar, uint64_t off, unsigned size, uint64_t *val)
{
	struct virtio_dev *vd = virtio_dev_of(dev);

	*val = 0;
	if (bar != VPCI_BAR || size == 0 || size > 8 || off >= VPCI_BAR_SIZE ||
	    off + size > VPCI_BAR_SIZE)
		return 0;
	lock(&vd->lock, LOCK_VIRTIO);
	if (off < VPCI_COMMON + VPCI_COMMON_LEN) {
		if (vpci_common_width_ok((unsigned)off, size))
			*val = vpci_common_read(vd, (unsigned)off);
	} else if (off == VPCI_ISR && size == 1) {
		*val = vd->isr;		/* reading clears it and the INTx line */
		vd->isr = 0;
		pci_raise_intx(vd->pci, false);
	} else if (off >= VPCI_DEVCFG && off - VPCI_DEVCFG + size <= vd->ops->config_size) {
		if (vd->ops->config_read)
			vd->ops->config_read(vd, (unsigned)(off - VPCI_DEVCFG), size, val);
	}
	unlock(&vd->lock, LOCK_VIRTIO);
	return 0;
}

int virtio_pci_bar_write(struct pci_dev *dev, int bar, uint64_t off, unsigned size, uint64_t val)
{
	struct virtio_dev *vd = virtio_dev_of(dev);

	if (bar != VPCI_BAR || size == 0 || size > 8 || off >= VPCI_BAR_SIZE ||
	    off + size > VPCI_BAR_SIZE)
		return 0;
	if (off >= VPCI_NOTIFY && off < VPCI_NOTIFY + VPCI_NOTIFY_MULT * vd->ops->nqueues) {
		/* a kick that did not go through ioeventfd */
		unsigned q = (unsigned)(off - VPCI_NOTIFY) / VPCI_NOTIFY_MULT;

		efd_signal(vd->q[q].kickfd);
		return 0;
	}
	lock(&vd->lock, LOCK_VIRTIO);
	if (off < VPCI_COMMON + VPCI_COMMON_LEN) {
		if (vpci_common_width_ok((unsigned)off, size))
			vpci_common_write(vd, (unsigned)off, size, val);
	} else if (off >= VPCI_DEVCFG && off - VPCI_DEVCFG + size <= vd->ops->config_size) {
		if (vd->ops->config_write)
			vd->ops->config_write(vd, (unsigned)(off - VPCI_DEVCFG), size, val);
	}
	unlock(&vd->lock, LOCK_VIRTIO);
	return 0;
}

/* Move the queues' kicks into the kernel where the notify area lives. */
void virtio_pci_bar_mapped(struct pci_dev *dev, int bar, uint64_t addr, bool mapped)
{
	struct virtio_dev *vd = virtio_dev_of(dev);
	struct vm *vm = pci_bus_vm(dev->bus);

	if (!vd || bar != VPCI_BAR)
		return;
	if (vd->ioeventfd) {
		for (unsigned i = 0; i < vd->ops->nqueues; i++)
			vm_ioeventfd(vm, vd->notify_gpa + VPCI_NOTIFY_MULT * i, 2, false, -1,
				     vd->q[i].kickfd, true);
		vd->ioeventfd = false;
	}
	vd->notify_gpa = 0;
	if (!mapped || !vm || !vm_has_irqchip(vm))
		return;		/* (tests, raw guests: kicks come as BAR writes) */
	vd->notify_gpa = addr + VPCI_NOTIFY;
	vd->ioeventfd = true;
	for (unsigned i = 0; i < vd->ops->nqueues; i++) {
		if (vm_ioeventfd(vm, vd->notify_gpa + VPCI_NOTIFY_MULT * i, 2, false, -1,
				 vd->q[i].kickfd, false) < 0) {
			vd->ioeventfd = false;	/* fall back to BAR writes */
			break;
		}
	}
}

/* VIRTIO_PCI_CAP_PCI_CFG: a window into the BAR through config space. */
static unsigned vpci_pcicfg_off(struct pci_dev *dev)
{
	/* found by its cfg_type at init; stored in cfg bytes we own */
	for (unsigned p = pci_cfg_get8(dev, PCI_CAPABILITY_LIST); p && p < 0xfc;
	     p = pci_cfg_get8(dev, p + 1))
		if (pci_cfg_get8(dev, p) == PCI_CAP_ID_VNDR && pci_cfg_get8(dev, p + 3) == CAP_PCI)
			return p;
	return 0;
}

void virtio_pci_cfg_read(struct pci_dev *dev, unsigned off, unsigned size, uint32_t *val)
{
	unsigned c = vpci_pcicfg_off(dev);
	uint64_t v = 0;

	if (!c || off < c + 16 || off + size > c + 20)
		return;			/* the stored bytes are the answer */
	uint32_t boff = pci_cfg_get32(dev, c + 8), blen = pci_cfg_get32(dev, c + 12);
	if (pci_cfg_get8(dev, c + 4) == VPCI_BAR && (blen == 1 || blen == 2 || blen == 4))
		virtio_pci_bar_read(dev, VPCI_BAR, boff, blen, &v);
	*val = (uint32_t)(v >> (8 * (off - (c + 16))));
}

int virtio_pci_cfg_write(struct pci_dev *dev, unsigned off, unsigned size, uint32_t val)
{
	unsigned c = vpci_pcicfg_off(dev);

	if (!c || off < c + 4 || off + size > c + 20)
		return 1;		/* read-only elsewhere */
	if (off >= c + 16) {		/* pci_cfg_data: perform the access */
		uint32_t boff = pci_cfg_get32(dev, c + 8), blen = pci_cfg_get32(dev, c + 12);
		if (pci_cfg_get8(dev, c + 4) == VPCI_BAR && (blen == 1 || blen == 2 || blen == 4))
			virtio_pci_bar_write(dev, VPCI_BAR, boff, blen, val);
		return 0;
	}
	/* bar, offset, length are the driver's to set */
	for (unsigned i = 0; i < size; i++) {
		unsigned o = off + i;
		if (o == c + 4 || (o >= c + 8 && o < c + 16))
			pci_cfg_set8(dev, o, (uint8_t)(val >> (8 * i)));
	}
	return 0;
}

/* ---- setup ---- */

static int vpci_add_cap(struct pci_dev *dev, uint8_t type, uint32_t off, uint32_t len,
			bool notify)
{
	uint8_t cap[20] = { PCI_CAP_ID_VNDR, 0, notify ? 20 : 16, type, VPCI_BAR };
	int r;

	memcpy(cap + 8, &off, 4);
	memcpy(cap + 12, &len, 4);
	if (notify) {
		uint32_t mult = VPCI_NOTIFY_MULT;
		memcpy(cap + 16, &mult, 4);
	}
	r = pci_add_cap(dev, cap, notify ? 20 : 16);
	return r < 0 ? err_set(r, "%s: no room for a virtio capability", dev->name) : 0;
}

int virtio_pci_init(struct pci_dev *pci, const struct virtio_ops *ops, void *priv)
{
	struct virtio_dev *vd;
	struct epoll_event ev = { .events = EPOLLIN };
	uint8_t pcicfg[20] = { PCI_CAP_ID_VNDR, 0, 20, CAP_PCI };
	int r;

	if (ops->nqueues == 0 || ops->nqueues > VIRTIO_MAX_QUEUES || ops->queue_max == 0 ||
	    (ops->queue_max & (ops->queue_max - 1)) || ops->config_size > 0x1000)
		return err_set(-EINVAL, "%s: bad virtio device description", ops->name);
	vd = calloc(1, sizeof(*vd));
	if (!vd)
		return err_set(-ENOMEM, "out of memory");
	vd->pci = pci;
	vd->ops = ops;
	vd->priv = priv;
	vd->epfd = vd->stopfd = -1;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		vd->q[i].kickfd = -1;
	pthread_mutex_init(&vd->lock, NULL);
	pci->priv = vd;
	vd->dev_features = ops->features | VPCI_TRANSPORT_FEATURES;

	pci_set_ids(pci, 0x1af4, (uint16_t)(0x1040 + ops->device_id), ops->pci_class, 1,
		    0x1af4, (uint16_t)(0x1040 + ops->device_id));
	if ((r = pci_alloc_bar(pci, VPCI_BAR, PCI_BAR_MEM64, true, VPCI_BAR_SIZE)) < 0 ||
	    (r = vpci_add_cap(pci, CAP_COMMON, VPCI_COMMON, VPCI_COMMON_LEN, false)) < 0 ||
	    (r = vpci_add_cap(pci, CAP_ISR, VPCI_ISR, 1, false)) < 0 ||
	    (r = vpci_add_cap(pci, CAP_NOTIFY, VPCI_NOTIFY, VPCI_NOTIFY_MULT * ops->nqueues, true)) < 0 ||
	    (ops->config_size &&
	     (r = vpci_add_cap(pci, CAP_DEVICE, VPCI_DEVCFG, ops->config_size, false)) < 0))
		goto fail;
	if ((r = pci_add_cap(pci, pcicfg, sizeof(pcicfg))) < 0) {
		r = err_set(r, "%s: no room for the PCI-config capability", pci->name);
		goto fail;
	}
	if ((r = msix_init_bar(pci, ops->nqueues + 1, VPCI_MSIX_BAR)) < 0 ||
	    (r = pci_enable_intx(pci, 1)) < 0)
		goto fail;

	vd->epfd = epoll_create1(EPOLL_CLOEXEC);
	vd->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vd->epfd < 0 || vd->stopfd < 0) {
		r = err_set(-errno, "%s: %s", pci->name, strerror(errno));
		goto fail;
	}
	ev.data.u64 = 0;
	epoll_ctl(vd->epfd, EPOLL_CTL_ADD, vd->stopfd, &ev);
	for (unsigned i = 0; i < ops->nqueues; i++) {
		vd->q[i].kickfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ev.data.u64 = i + 1;
		if (vd->q[i].kickfd < 0 ||
		    epoll_ctl(vd->epfd, EPOLL_CTL_ADD, vd->q[i].kickfd, &ev) < 0) {
			r = err_set(-errno, "%s: %s", pci->name, strerror(errno));
			goto fail;
		}
	}
	vpci_reset(vd);
	if ((r = pthread_create(&vd->worker, NULL, vpci_worker, vd)) != 0) {
		r = err_set(-r, "%s: cannot start its worker thread", pci->name);
		goto fail;
	}
	vd->worker_started = true;
	return 0;
fail:
	virtio_pci_fini(pci);
	return r;
}

void virtio_pci_stop(struct pci_dev *pci)
{
	struct virtio_dev *vd = virtio_dev_of(pci);
	uint64_t one = 1;

	if (vd && vd->worker_started) {
		if (write(vd->stopfd, &one, sizeof(one)) == sizeof(one))
			pthread_join(vd->worker, NULL);
		vd->worker_started = false;
	}
}

void virtio_pci_fini(struct pci_dev *pci)
{
	struct virtio_dev *vd = virtio_dev_of(pci);

	if (!vd)
		return;
	virtio_pci_stop(pci);
	virtio_pci_bar_mapped(pci, VPCI_BAR, 0, false);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		close_if_open(vd->q[i].kickfd);
	close_if_open(vd->epfd);
	close_if_open(vd->stopfd);
	pthread_mutex_destroy(&vd->lock);
	free(vd);
	pci->priv = NULL;
}
