/*
 * net.h - network back ends for virtio-net: user-mode networking on
 * libslirp (net_slirp.c) and tap devices (net_tap.c), behind one small
 * interface.
 *
 * A back end moves whole Ethernet frames.  With hdr_len == 12 every frame
 * in both directions starts with a virtio_net_hdr_v1 (tap with
 * IFF_VNET_HDR: offloads pass straight through); with hdr_len == 0 frames
 * are bare and the device adds or strips the header.
 *
 * Receive is level-triggered: rx_fd(q) is readable while frames wait;
 * recv() returns one frame or -EAGAIN.  Threading: the device's worker
 * thread calls send/recv/flush/set_offloads; a back end that needs its own
 * thread (libslirp) runs it internally and locks what the two share.
 */
#ifndef HYVE_BACKEND_NET_H
#define HYVE_BACKEND_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>
#include "util.h"

#define NET_MAX_PAIRS		3	/* queue pairs (+ control queue: 7 virtqueues) */
#define NET_MAX_HOSTFWD		16

struct net_hostfwd {
	bool udp;
	uint32_t host_addr;		/* network order; 0 = any */
	uint16_t host_port, guest_port;
};

enum net_kind { NET_USER, NET_TAP, NET_TAP_FD };

/* A parsed --net argument (net_parse_opts). */
struct net_opts {
	enum net_kind kind;
	char ifname[16];		/* tap */
	int fd;				/* tap-fd */
	bool has_mac;
	uint8_t mac[6];
	unsigned queues;		/* queue pairs, 1..NET_MAX_PAIRS */
	int vhost;			/* 0 off, 1 on, 2 auto */
	bool restrict_;			/* user: restrict=on */
	struct net_hostfwd fwd[NET_MAX_HOSTFWD];
	unsigned nfwd;
};

struct net_backend;

struct net_backend_ops {
	/* queue pair q: readable while received frames wait */
	int (*rx_fd)(struct net_backend *nb, unsigned q);
	/* one received frame into buf: its length, -EAGAIN (none), -errno */
	ssize_t (*recv)(struct net_backend *nb, unsigned q, void *buf, size_t len);
	/* send one frame (hdr_len bytes of header first): 0 or -errno */
	int (*send)(struct net_backend *nb, unsigned q, const struct iovec *iov, int iovcnt);
	/* after a batch of send (optional) */
	void (*flush)(struct net_backend *nb);
	/* the driver negotiated these virtio-net features (optional) */
	int (*set_offloads)(struct net_backend *nb, uint64_t features);
	/* multiqueue: pairs 0..n-1 carry traffic, the rest none (optional) */
	int (*set_queues)(struct net_backend *nb, unsigned n);
	void (*close)(struct net_backend *nb);
};

struct net_backend {
	const struct net_backend_ops *ops;
	const char *kind;		/* "user", "tap" */
	char desc[64];			/* for --stats and messages */
	unsigned npairs;
	unsigned hdr_len;		/* 0 or 12 */
	uint64_t features;		/* virtio-net features it can honour */
	uint64_t rx_dropped;		/* frames the back end dropped (queue full) */
	uint64_t tx_errors;		/* sends that failed */
};

/*
 * Parse "user[,...]" / "tap=IFNAME[,...]" / "tap-fd=FD[,...]" into *o.
 * 0 or -EINVAL with err_set naming the problem.
 */
int net_parse_opts(const char *s, struct net_opts *o);

/* Open the back end *o describes: 0 and *out, or -errno (err_set). */
int net_backend_open(const struct net_opts *o, struct net_backend **out);
void net_backend_close(struct net_backend *nb);

int net_slirp_open(const struct net_opts *o, struct net_backend **out);
int net_tap_open(const struct net_opts *o, struct net_backend **out);

#endif
