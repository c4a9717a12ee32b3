/*
 * virtio_rng.c - virtio entropy device (virtio 1.2, 5.4): one queue; every
 * device-writable buffer the driver posts is filled from the host's
 * getrandom().  `--device virtio-rng`.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>
#include "err.h"
#include "virtio/virtio_pci.h"

#define VRNG_QUEUE_SIZE	256
#define VRNG_MAX_REQUEST	(64 * 1024)	/* per chain: the rest is left unfilled */

/* Worker thread, vd->lock held. */
static void vrng_queue_notify(struct virtio_dev *vd, unsigned qi)
{
	struct vq *q = &vd->q[qi].vq;
	struct vq_chain *c = vd->priv;
	int r;

	while ((r = vq_pop(q, c)) == 1) {
		uint32_t written = 0;
		struct iovec *in = vq_chain_in(c);

		for (unsigned i = 0; i < c->nin && written < VRNG_MAX_REQUEST; i++) {
			size_t want = in[i].iov_len;
			if (want > VRNG_MAX_REQUEST - written)
				want = VRNG_MAX_REQUEST - written;
			ssize_t n = getrandom(in[i].iov_base, want, 0);
			if (n <= 0)
				break;
			written += (uint32_t)n;
			if ((size_t)n < want)
				break;
		}
		vq_push(q, c->head, written);
	}
	if (r < 0)
		virtio_needs_reset(vd, err_msg());
	virtio_queue_interrupt(vd, qi);
}

static const struct virtio_ops vrng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.pci_class = 0x00ff00,
	.nqueues = 1,
	.queue_max = VRNG_QUEUE_SIZE,
	.queue_notify = vrng_queue_notify,
};

static int vrng_init(struct pci_dev *dev, const char *opts)
{
	struct vq_chain *c;
	int r;

	if (opts && *opts)
		return err_set(-EINVAL, "virtio-rng: takes no options (got '%s')", opts);
	c = malloc(sizeof(*c));		/* the worker's chain buffer */
	if (!c)
		return err_set(-ENOMEM, "out of memory");
	if ((r = virtio_pci_init(dev, &vrng_ops, c)) < 0)
		free(c);
	return r;
}

static void vrng_fini(struct pci_dev *dev)
{
	struct virtio_dev *vd = virtio_dev_of(dev);
	void *c = vd ? vd->priv : NULL;

	virtio_pci_fini(dev);
	free(c);
}

VIRTIO_PCI_DEVTYPE(vrng_type, "virtio-rng", vrng_init, vrng_fini);
