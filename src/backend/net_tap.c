/*
 * net_tap.c - a tap device as network back end: tap=IFNAME opens (or
 * creates) it through /dev/net/tun, tap-fd=FD takes one that is already
 * open.  With IFF_VNET_HDR and a 12-byte header (TUNSETVNETHDRSZ) frames
 * carry the virtio-net header both ways, so checksum offload and TSO pass
 * straight through; TUNSETOFFLOAD tells the kernel what the guest accepts.
 * With queues=N > 1: IFF_MULTI_QUEUE, one fd per queue pair.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "backend/net.h"
#include "dev/virtio_net.h"
#include "err.h"

struct tap_be {
	struct net_backend nb;
	int fd[NET_MAX_PAIRS];
	bool owned;			/* we opened the fds (tap=), close them */
};

static int tap_rx_fd(struct net_backend *nb, unsigned q)
{
	return ((struct tap_be *)nb)->fd[q];
}

static ssize_t tap_recv(struct net_backend *nb, unsigned q, void *buf, size_t len)
{
	ssize_t n = read(((struct tap_be *)nb)->fd[q], buf, len);

	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

static int tap_send(struct net_backend *nb, unsigned q, const struct iovec *iov, int iovcnt)
{
	ssize_t n = writev(((struct tap_be *)nb)->fd[q], iov, iovcnt);

	if (n < 0) {
		nb->tx_errors++;
		return -errno;
	}
	return 0;
}

/* The guest's receive offloads become the tap's (what it may hand us). */
static int tap_set_offloads(struct net_backend *nb, uint64_t f)
{
	struct tap_be *t = (struct tap_be *)nb;
	unsigned off = 0;

	if (!nb->hdr_len)
		return 0;
	if (f & (1ULL << VIRTIO_NET_F_GUEST_CSUM)) {
		off |= TUN_F_CSUM;
		if (f & (1ULL << VIRTIO_NET_F_GUEST_TSO4))
			off |= TUN_F_TSO4;
		if (f & (1ULL << VIRTIO_NET_F_GUEST_TSO6))
			off |= TUN_F_TSO6;
		if ((off & (TUN_F_TSO4 | TUN_F_TSO6)) && (f & (1ULL << VIRTIO_NET_F_GUEST_ECN)))
			off |= TUN_F_TSO_ECN;
	}
	for (unsigned i = 0; i < nb->npairs; i++)
		if (ioctl(t->fd[i], TUNSETOFFLOAD, off) < 0)
			return -errno;
	return 0;
}

/* IFF_MULTI_QUEUE: the kernel spreads flows over the attached queues only. */
static int tap_set_queues(struct net_backend *nb, unsigned n)
{
	struct tap_be *t = (struct tap_be *)nb;
	int r = 0;

	for (unsigned i = 0; nb->npairs > 1 && i < nb->npairs; i++) {
		struct ifreq ifr = { 0 };

		ifr.ifr_flags = i < n ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
		if (ioctl(t->fd[i], TUNSETQUEUE, &ifr) < 0 && errno != EINVAL)
			r = -errno;	/* (EINVAL: already in that state) */
	}
	return r;
}

static void tap_close(struct net_backend *nb)
{
	struct tap_be *t = (struct tap_be *)nb;

	for (unsigned i = 0; i < NET_MAX_PAIRS; i++)
		if (t->fd[i] >= 0 && t->owned)
			close(t->fd[i]);
	free(t);
}

static const struct net_backend_ops tap_ops = {
	.rx_fd = tap_rx_fd,
	.recv = tap_recv,
	.send = tap_send,
	.set_offloads = tap_set_offloads,
	.set_queues = tap_set_queues,
	.close = tap_close,
};

/* Features the header lets us offer: the guest's offloads, both ways. */
#define TAP_VNET_FEATURES ((1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) | \
	(1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6) |		\
	(1ULL << VIRTIO_NET_F_HOST_ECN) | (1ULL << VIRTIO_NET_F_GUEST_TSO4) |		\
	(1ULL << VIRTIO_NET_F_GUEST_TSO6) | (1ULL << VIRTIO_NET_F_GUEST_ECN))

static int tap_setup_fd(struct tap_be *t, int fd, bool vnet)
{
	int sz = VNET_HDR_LEN;

	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		return -errno;
	if (vnet && ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0)
		return -errno;
	if (vnet && ioctl(fd, TUNSETOFFLOAD, 0) < 0)	/* until the guest says */
		return -errno;
	return 0;
}

int net_tap_open(const struct net_opts *o, struct net_backend **out)
{
	struct tap_be *t = calloc(1, sizeof(*t));
	struct ifreq ifr;
	int r;

	if (!t)
		return err_set(-ENOMEM, "out of memory");
	for (unsigned i = 0; i < NET_MAX_PAIRS; i++)
		t->fd[i] = -1;
	t->nb.ops = &tap_ops;
	t->nb.kind = "tap";
	if (o->kind == NET_TAP_FD) {
		struct stat st;

		memset(&ifr, 0, sizeof(ifr));
		if (fstat(o->fd, &st) < 0) {
			free(t);
			return err_set(-EBADF, "--net: tap-fd=%d is not an open file descriptor", o->fd);
		}
		if (ioctl(o->fd, TUNGETIFF, &ifr) < 0 || !(ifr.ifr_flags & IFF_TAP)) {
			free(t);
			return err_set(-EINVAL, "--net: tap-fd=%d is not a tap device", o->fd);
		}
		t->fd[0] = o->fd;
		t->nb.npairs = 1;
		t->nb.hdr_len = (ifr.ifr_flags & IFF_VNET_HDR) ? VNET_HDR_LEN : 0;
		if ((r = tap_setup_fd(t, o->fd, t->nb.hdr_len)) < 0) {
			free(t);
			return err_set(r, "--net: tap-fd=%d: cannot set it up: %s", o->fd, strerror(-r));
		}
		snprintf(t->nb.desc, sizeof(t->nb.desc), "tap-fd %s", ifr.ifr_name);
	} else {
		t->owned = true;
		t->nb.npairs = o->queues;
		t->nb.hdr_len = VNET_HDR_LEN;
		for (unsigned i = 0; i < o->queues; i++) {
			int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

			if (fd < 0) {
				r = err_set(-errno, "--net: tap=%s: cannot open /dev/net/tun: %s", o->ifname,
					    strerror(errno));
				goto fail;
			}
			t->fd[i] = fd;
			memset(&ifr, 0, sizeof(ifr));
			ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR |
					(o->queues > 1 ? IFF_MULTI_QUEUE : 0);
			snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", o->ifname);
			if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
				r = err_set(-errno, "--net: tap=%s: cannot open the tap device: %s", o->ifname,
					    strerror(errno));
				goto fail;
			}
			if ((r = tap_setup_fd(t, fd, true)) < 0) {
				r = err_set(r, "--net: tap=%s: cannot set it up: %s", o->ifname, strerror(-r));
				goto fail;
			}
		}
		snprintf(t->nb.desc, sizeof(t->nb.desc), "tap %s%s", o->ifname,
			 o->queues > 1 ? " multiqueue" : "");
		tap_set_queues(&t->nb, 1);	/* until the guest asks for more */
	}
	if (t->nb.hdr_len)
		t->nb.features = TAP_VNET_FEATURES;
	*out = &t->nb;
	return 0;
fail:
	tap_close(&t->nb);
	return r;
}
