/*
 * virtio_pci.h - the virtio 1.2 PCI transport (modern only, spec 4.1): the
 * common, notify, ISR, device and PCI-config capabilities in one memory
 * BAR, MSI-X in another, INTx as a fallback, feature negotiation (VERSION_1
 * required), device status and reset, and a worker thread per device that
 * runs the device's queues off the vCPU threads.
 *
 * Guest notifications arrive on one eventfd per queue, bound to the notify
 * address with ioeventfd (so a kick never exits to user space); interrupts
 * leave through MSI-X (irqfd).  Queue configuration is frozen once the
 * driver sets DRIVER_OK.  A queue the device finds malformed sets
 * DEVICE_NEEDS_RESET and a configuration interrupt; nothing else happens
 * to that device until the driver resets it.
 *
 * A device type (virtio_rng.c, virtio_blk.c, virtio_net.c) declares its
 * pci_devtype with VIRTIO_PCI_DEVTYPE() below, which makes the bar/cfg hooks
 * the virtio_pci_* functions; its init calls virtio_pci_init() with its
 * virtio_ops.
 */
#ifndef HYVE_VIRTIO_PCI_H
#define HYVE_VIRTIO_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "pci/pci.h"
#include "virtio/virtqueue.h"

#define VIRTIO_MAX_QUEUES	8
#define VIRTIO_NO_VECTOR	0xffff

struct virtio_dev;

struct virtio_ops {
	const char *name;
	uint16_t device_id;		/* VIRTIO_ID_* */
	uint32_t pci_class;		/* class, subclass, prog-if */
	unsigned nqueues;		/* 1..VIRTIO_MAX_QUEUES */
	uint16_t queue_max;		/* largest queue size offered */
	uint64_t features;		/* device-specific feature bits offered */
	unsigned config_size;		/* device configuration bytes */
	/* device configuration: off + size <= config_size (checked) */
	void (*config_read)(struct virtio_dev *vd, unsigned off, unsigned size, uint64_t *val);
	void (*config_write)(struct virtio_dev *vd, unsigned off, unsigned size, uint64_t val);
	/* worker thread, vd->lock held: queue q has (maybe) new buffers */
	void (*queue_notify)(struct virtio_dev *vd, unsigned q);
	/* vd->lock held: the driver reset the device (queues already reset) */
	void (*reset)(struct virtio_dev *vd);
	/* the worker runs without a seccomp filter (virtio-net: its back ends'
	   calls are not in SANDBOX_WORKER's allowlist; sandbox.h) */
	bool worker_unfiltered;
};

struct virtio_queue {
	struct vq vq;
	uint16_t size;			/* as the driver set it */
	uint16_t msix;			/* MSI-X vector or VIRTIO_NO_VECTOR */
	bool enable;
	uint64_t desc, driver, device;	/* ring addresses */
	int kickfd;			/* eventfd: the driver notified */
};

struct virtio_dev {
	struct pci_dev *pci;
	const struct virtio_ops *ops;
	void *priv;			/* the device model */
	pthread_mutex_t lock;		/* everything below; the worker holds it
					   while it runs a queue */
	uint64_t dev_features, drv_features;
	uint32_t dfselect, gfselect;
	uint8_t status, isr, config_gen;
	uint16_t qselect, config_msix;
	struct virtio_queue q[VIRTIO_MAX_QUEUES];
	uint64_t notify_gpa;		/* where the notify area is mapped (0: not) */
	bool ioeventfd;			/* kicks bound in the kernel */
	int epfd, stopfd;
	pthread_t worker;
	bool worker_started;
	struct { int fd; void (*cb)(struct virtio_dev *, void *); void *arg; } watch[4];
	int nwatch;
	uint64_t errors;		/* malformed queues seen (logged once) */
};

/* From a pci_devtype's init: set IDs, BARs, capabilities, MSI-X, worker. */
int virtio_pci_init(struct pci_dev *pci, const struct virtio_ops *ops, void *priv);
/* Stop the worker thread (idempotent); the transport stays usable. */
void virtio_pci_stop(struct pci_dev *pci);
/* From its fini: stop the worker, free the transport (not priv). */
void virtio_pci_fini(struct pci_dev *pci);
struct virtio_dev *virtio_dev_of(struct pci_dev *pci);

/* The pci_devtype hooks every virtio device type uses. */
int virtio_pci_bar_read(struct pci_dev *dev, int bar, uint64_t off, unsigned size, uint64_t *val);
int virtio_pci_bar_write(struct pci_dev *dev, int bar, uint64_t off, unsigned size, uint64_t val);
void virtio_pci_bar_mapped(struct pci_dev *dev, int bar, uint64_t addr, bool mapped);
void virtio_pci_cfg_read(struct pci_dev *dev, unsigned off, unsigned size, uint32_t *val);
int virtio_pci_cfg_write(struct pci_dev *dev, unsigned off, unsigned size, uint32_t val);

/*
 * Declare a virtio device type: its init/fini, the transport's hooks, and
 * after them any other pci_devtype fields it has (.print_stats = ...).
 */
#define VIRTIO_PCI_DEVTYPE(var, tname, initfn, finifn, ...)		\
	static const struct pci_devtype var = {				\
		.name = tname, .init = initfn, .fini = finifn,		\
		.cfg_read = virtio_pci_cfg_read,			\
		.cfg_write = virtio_pci_cfg_write,			\
		.bar_read = virtio_pci_bar_read,			\
		.bar_write = virtio_pci_bar_write,			\
		.bar_mapped = virtio_pci_bar_mapped,			\
		__VA_ARGS__						\
	};								\
	PCI_DEVTYPE(var)

/* Worker side (vd->lock held): tell the driver about used buffers of q
 * (true: it wanted to hear, an interrupt went out). */
bool virtio_queue_interrupt(struct virtio_dev *vd, unsigned q);
/* vd->lock held: the device configuration changed (a new disk size):
 * config_generation moves on and the configuration interrupt goes out
 * (MSI-X config vector, or INTx with ISR bit 1) if the driver is ready. */
void virtio_config_changed(struct virtio_dev *vd);
/* A queue went bad: DEVICE_NEEDS_RESET + configuration interrupt. */
void virtio_needs_reset(struct virtio_dev *vd, const char *why);
/* Have the worker call cb when fd is readable (e.g. disk completions). */
int virtio_worker_watch(struct virtio_dev *vd, int fd,
			void (*cb)(struct virtio_dev *vd, void *arg), void *arg);
/* Stop (on=false) or resume watching a watched fd (level-triggered fds
 * whose data the device cannot take yet). */
int virtio_worker_watch_enable(struct virtio_dev *vd, int fd, bool on);
/* Stop (on=false) or resume reading queue q's kick eventfd in the worker
 * (while an in-kernel device such as vhost consumes it). */
int virtio_queue_kick_poll(struct virtio_dev *vd, unsigned q, bool on);
bool virtio_has_feature(const struct virtio_dev *vd, unsigned bit);

#endif
