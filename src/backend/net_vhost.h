/*
 * net_vhost.h - vhost-net for a tap back end (net_vhost.c): the kernel runs
 * one queue pair's data path; hyve only sets it up and tears it down.
 */
#ifndef HYVE_BACKEND_NET_VHOST_H
#define HYVE_BACKEND_NET_VHOST_H

#include <stdbool.h>
#include <stdint.h>
#include "mem.h"

struct vhost_net;

struct vhost_ring {		/* index 0 receive, 1 transmit */
	unsigned size;
	void *desc, *avail, *used;	/* host addresses (checked by vq_enable) */
	int kick, call;			/* ioeventfd, MSI-X irqfd */
};

/* Open /dev/vhost-net and become its owner: 0, or -errno (err_set). */
int vhost_net_open(struct vhost_net **out);
/* The virtio feature bits the kernel's vhost-net handles. */
uint64_t vhost_net_features(const struct vhost_net *v);
/* Hand the rings and the tap to the kernel: 0 or -errno (err_set). */
int vhost_net_start(struct vhost_net *v, uint64_t features, const struct mem_region *mem,
		    int nmem, const struct vhost_ring ring[2], int tapfd);
/* Take them back (device reset): the kernel stops touching guest memory. */
void vhost_net_stop(struct vhost_net *v);
void vhost_net_close(struct vhost_net *v);

#endif
