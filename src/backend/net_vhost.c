/*
 * net_vhost.c - vhost-net: the kernel moves frames between a tap and the
 * guest's rings, no frame passes through hyve.  The only file that issues
 * vhost ioctls (they are /dev/vhost-net's, not KVM's).
 *
 * Set-up order (drivers/vhost): SET_OWNER, then at DRIVER_OK SET_FEATURES,
 * SET_MEM_TABLE (guest RAM regions -> hyve's mapping), and per ring
 * SET_VRING_NUM / BASE / ADDR (host addresses of the checked rings), KICK
 * (the transport's ioeventfd), CALL (the MSI-X vector's irqfd), then
 * NET_SET_BACKEND (the tap fd).  Reset: backend -1, GET_VRING_BASE.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "backend/net_vhost.h"
#include "err.h"

struct vhost_net {
	int fd;
	uint64_t features;		/* what the kernel offers */
	bool running;
};

int vhost_net_open(struct vhost_net **out)
{
	struct vhost_net *v = calloc(1, sizeof(*v));

	if (!v)
		return err_set(-ENOMEM, "out of memory");
	v->fd = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);
	if (v->fd < 0) {
		int e = errno;
		free(v);
		return err_set(-e, "--net: vhost=on: cannot open /dev/vhost-net: %s", strerror(e));
	}
	if (ioctl(v->fd, VHOST_SET_OWNER, NULL) < 0 ||
	    ioctl(v->fd, VHOST_GET_FEATURES, &v->features) < 0) {
		int e = errno;
		vhost_net_close(v);
		return err_set(-e, "--net: vhost=on: /dev/vhost-net refuses set-up: %s", strerror(e));
	}
	*out = v;
	return 0;
}

uint64_t vhost_net_features(const struct vhost_net *v)
{
	return v->features;
}

int vhost_net_start(struct vhost_net *v, uint64_t features, const struct mem_region *mem,
		    int nmem, const struct vhost_ring ring[2], int tapfd)
{
	struct vhost_memory *m;
	uint64_t f = features & v->features;
	int r = 0;

	m = calloc(1, sizeof(*m) + (size_t)nmem * sizeof(m->regions[0]));
	if (!m)
		return -ENOMEM;
	m->nregions = (uint32_t)nmem;
	for (int i = 0; i < nmem; i++) {
		m->regions[i].guest_phys_addr = mem[i].gpa;
		m->regions[i].memory_size = mem[i].size;
		m->regions[i].userspace_addr = (uint64_t)(uintptr_t)mem[i].host;
	}
	if (ioctl(v->fd, VHOST_SET_FEATURES, &f) < 0 || ioctl(v->fd, VHOST_SET_MEM_TABLE, m) < 0)
		r = -errno;
	free(m);
	for (unsigned i = 0; r == 0 && i < 2; i++) {
		struct vhost_vring_state num = { .index = i, .num = ring[i].size };
		struct vhost_vring_state base = { .index = i, .num = 0 };
		struct vhost_vring_addr addr = {
			.index = i,
			.desc_user_addr = (uint64_t)(uintptr_t)ring[i].desc,
			.avail_user_addr = (uint64_t)(uintptr_t)ring[i].avail,
			.used_user_addr = (uint64_t)(uintptr_t)ring[i].used,
		};
		struct vhost_vring_file kick = { .index = i, .fd = ring[i].kick };
		struct vhost_vring_file call = { .index = i, .fd = ring[i].call };

		if (ioctl(v->fd, VHOST_SET_VRING_NUM, &num) < 0 ||
		    ioctl(v->fd, VHOST_SET_VRING_BASE, &base) < 0 ||
		    ioctl(v->fd, VHOST_SET_VRING_ADDR, &addr) < 0 ||
		    ioctl(v->fd, VHOST_SET_VRING_KICK, &kick) < 0 ||
		    ioctl(v->fd, VHOST_SET_VRING_CALL, &call) < 0)
			r = -errno;
	}
	for (unsigned i = 0; r == 0 && i < 2; i++) {
		struct vhost_vring_file be = { .index = i, .fd = tapfd };
		if (ioctl(v->fd, VHOST_NET_SET_BACKEND, &be) < 0)
			r = -errno;
	}
	if (r < 0) {
		vhost_net_stop(v);
		return err_set(r, "vhost-net: set-up failed: %s", strerror(-r));
	}
	v->running = true;
	return 0;
}

void vhost_net_stop(struct vhost_net *v)
{
	for (unsigned i = 0; i < 2; i++) {
		struct vhost_vring_file be = { .index = i, .fd = -1 };
		struct vhost_vring_state st = { .index = i };

		ioctl(v->fd, VHOST_NET_SET_BACKEND, &be);
		ioctl(v->fd, VHOST_GET_VRING_BASE, &st);	/* stops the ring */
	}
	v->running = false;
}

void vhost_net_close(struct vhost_net *v)
{
	if (!v)
		return;
	if (v->running)
		vhost_net_stop(v);
	close(v->fd);
	free(v);
}
