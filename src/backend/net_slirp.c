/*
 * net_slirp.c - user-mode networking on libslirp: no root, no host
 * interface.  QEMU's addresses: network 10.0.2.0/24, gateway (and the
 * host's loopback) 10.0.2.2, DNS 10.0.2.3, DHCP hands out 10.0.2.15.
 *
 * libslirp is not thread-safe.  It runs on its own thread (poll over the
 * sockets libslirp asks for, its timeout, and a wake-up eventfd); the
 * device's worker hands it guest frames with slirp_input() under the same
 * mutex.  Frames libslirp sends to the guest go into a bounded queue the
 * worker drains; its eventfd is readable exactly while the queue is
 * non-empty.
 *
 * Lock order (docs/threads.md): the device's vd->lock (LOCK_VIRTIO), then
 * s->lock (LOCK_NET_SLIRP), then s->qlock (LOCK_NET_RXQ).
 * No offloads: libslirp takes only complete, checksummed frames, so
 * CSUM/TSO are not offered to the guest for this back end.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <libslirp.h>
#include "backend/net.h"
#include "dynlib.h"
#include "err.h"
#include "lock.h"
#include "util.h"

/* libslirp, opened by net_slirp_open() (dynlib.h). */
DYNLIB_NEEDS(slirp_soname, "libslirp.so.0");
static struct {
	typeof(slirp_add_hostfwd) *add_hostfwd;
	typeof(slirp_cleanup) *cleanup;
	typeof(slirp_input) *input;
	typeof(slirp_new) *new;
	typeof(slirp_pollfds_fill) *pollfds_fill;
	typeof(slirp_pollfds_poll) *pollfds_poll;
} libslirp;
static const struct dynsym slirp_syms[] = {
	DYNSYM(libslirp, slirp_, add_hostfwd),
	DYNSYM(libslirp, slirp_, cleanup),
	DYNSYM(libslirp, slirp_, input),
	DYNSYM(libslirp, slirp_, new),
	DYNSYM(libslirp, slirp_, pollfds_fill),
	DYNSYM(libslirp, slirp_, pollfds_poll),
};

#define SLIRP_QUEUE_MAX		1024		/* frames waiting for the guest */
#define SLIRP_QUEUE_BYTES	(8u << 20)
#define SLIRP_MAX_POLL		1024
#define SLIRP_MTU		1500

struct frame {
	struct frame *next;
	size_t len;
	uint8_t data[];
};

struct timer {
	struct timer *next;
	SlirpTimerCb cb;
	void *opaque;
	int64_t expire_ms;		/* -1: not armed */
};

struct slirp_be {
	struct net_backend nb;
	Slirp *slirp;
	pthread_mutex_t lock;		/* libslirp, timers */
	pthread_t thread;
	bool thread_started;
	int wakefd;			/* wakes the slirp thread */
	volatile bool stop;
	struct timer *timers;

	pthread_mutex_t qlock;		/* the guest-bound queue */
	struct frame *head, *tail;
	unsigned qlen;
	size_t qbytes;
	int rxfd;			/* eventfd: readable while head != NULL */

	struct pollfd pfd[SLIRP_MAX_POLL];
	int npfd;
	uint8_t txbuf[65536 + 64];
};

static int64_t now_ns(void)
{
	return (int64_t)mono_ns();
}

/* libslirp -> guest (s->lock held: from slirp_input or slirp_pollfds_poll) */
static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct slirp_be *s = opaque;
	struct frame *f;

	lock(&s->qlock, LOCK_NET_RXQ);
	if (s->qlen >= SLIRP_QUEUE_MAX || s->qbytes + len > SLIRP_QUEUE_BYTES ||
	    !(f = malloc(sizeof(*f) + len))) {
		s->nb.rx_dropped++;
		unlock(&s->qlock, LOCK_NET_RXQ);
		return (ssize_t)len;
	}
	f->next = NULL;
	f->len = len;
	memcpy(f->data, buf, len);
	if (s->tail)
		s->tail->next = f;
	else
		s->head = f;
	s->tail = f;
	s->qlen++;
	s->qbytes += len;
	if (s->qlen == 1)
		efd_signal(s->rxfd);	/* readable while the queue is not empty */
	unlock(&s->qlock, LOCK_NET_RXQ);
	return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	/* a malformed guest frame: libslirp drops it; nothing to add */
}

static int64_t cb_clock_get_ns(void *opaque)
{
	return now_ns();
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct slirp_be *s = opaque;
	struct timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cb = cb;
	t->opaque = cb_opaque;
	t->expire_ms = -1;
	t->next = s->timers;
	s->timers = t;
	return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct slirp_be *s = opaque;

	for (struct timer **p = &s->timers; *p; p = &(*p)->next)
		if (*p == timer) {
			*p = ((struct timer *)timer)->next;
			free(timer);
			return;
		}
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct slirp_be *s = opaque;

	if (timer)
		((struct timer *)timer)->expire_ms = expire_ms;
	efd_signal(s->wakefd);
}

static void cb_register_poll_fd(int fd, void *opaque) {}
static void cb_unregister_poll_fd(int fd, void *opaque) {}

static void cb_notify(void *opaque)
{
	struct slirp_be *s = opaque;

	efd_signal(s->wakefd);
}

static const SlirpCb slirp_cbs = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock_get_ns,
	.timer_new = cb_timer_new,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_register_poll_fd,
	.unregister_poll_fd = cb_unregister_poll_fd,
	.notify = cb_notify,
};

/* libslirp's poll events and poll(2)'s, pair by pair. */
static const struct { int slirp; short poll; } poll_bits[] = {
	{ SLIRP_POLL_IN, POLLIN }, { SLIRP_POLL_OUT, POLLOUT }, { SLIRP_POLL_PRI, POLLPRI },
	{ SLIRP_POLL_ERR, POLLERR }, { SLIRP_POLL_HUP, POLLHUP },
};
#define NPOLL_BITS	(sizeof(poll_bits) / sizeof(poll_bits[0]))
/* what may be asked for (poll(2) reports ERR and HUP unasked) */
#define SLIRP_POLL_ASK	(SLIRP_POLL_IN | SLIRP_POLL_OUT | SLIRP_POLL_PRI)

static int add_poll(int fd, int events, void *opaque)
{
	struct slirp_be *s = opaque;
	short ev = 0;

	if (s->npfd == SLIRP_MAX_POLL)
		return -1;
	for (size_t i = 0; i < NPOLL_BITS; i++)
		if (events & SLIRP_POLL_ASK & poll_bits[i].slirp)
			ev |= poll_bits[i].poll;
	s->pfd[s->npfd] = (struct pollfd){ .fd = fd, .events = ev };
	return s->npfd++;
}

static int get_revents(int idx, void *opaque)
{
	struct slirp_be *s = opaque;
	int ev = 0;

	if (idx < 1 || idx >= s->npfd)
		return 0;
	for (size_t i = 0; i < NPOLL_BITS; i++)
		if (s->pfd[idx].revents & poll_bits[i].poll)
			ev |= poll_bits[i].slirp;
	return ev;
}

/* The slirp thread: sockets, timeouts, timers. */
static void *slirp_thread(void *arg)
{
	struct slirp_be *s = arg;
	sigset_t all;

	sigfillset(&all);	/* signals are the main loop's (docs/threads.md) */
	pthread_sigmask(SIG_BLOCK, &all, NULL);

	while (!s->stop) {
		uint32_t timeout = 1000;
		int64_t now_ms, next = -1;
		int n;

		lock(&s->lock, LOCK_NET_SLIRP);
		s->pfd[0] = (struct pollfd){ .fd = s->wakefd, .events = POLLIN };
		s->npfd = 1;
		libslirp.pollfds_fill(s->slirp, &timeout, add_poll, s);
		now_ms = now_ns() / 1000000;
		for (struct timer *t = s->timers; t; t = t->next)
			if (t->expire_ms >= 0 && (next < 0 || t->expire_ms < next))
				next = t->expire_ms;
		if (next >= 0)
			timeout = next <= now_ms ? 0 : (uint32_t)(next - now_ms) < timeout ?
				  (uint32_t)(next - now_ms) : timeout;
		unlock(&s->lock, LOCK_NET_SLIRP);

		n = poll(s->pfd, (nfds_t)s->npfd, (int)timeout);
		if (s->pfd[0].revents & POLLIN) {
			efd_clear(s->wakefd);
		}
		lock(&s->lock, LOCK_NET_SLIRP);
		libslirp.pollfds_poll(s->slirp, n < 0, get_revents, s);
		now_ms = now_ns() / 1000000;
		for (struct timer *t = s->timers; t; t = t->next)
			if (t->expire_ms >= 0 && t->expire_ms <= now_ms) {
				t->expire_ms = -1;
				t->cb(t->opaque);
				break;		/* the list may have changed */
			}
		unlock(&s->lock, LOCK_NET_SLIRP);
	}
	return NULL;
}

static int slirp_rx_fd(struct net_backend *nb, unsigned q)
{
	return ((struct slirp_be *)nb)->rxfd;
}

static ssize_t slirp_recv(struct net_backend *nb, unsigned q, void *buf, size_t len)
{
	struct slirp_be *s = (struct slirp_be *)nb;
	struct frame *f;
	ssize_t n;

	lock(&s->qlock, LOCK_NET_RXQ);
	f = s->head;
	if (!f) {
		unlock(&s->qlock, LOCK_NET_RXQ);
		return -EAGAIN;
	}
	s->head = f->next;
	if (!s->head) {
		s->tail = NULL;
		efd_clear(s->rxfd);
	}
	s->qlen--;
	s->qbytes -= f->len;
	unlock(&s->qlock, LOCK_NET_RXQ);
	n = f->len <= len ? (ssize_t)f->len : -EMSGSIZE;
	if (n > 0)
		memcpy(buf, f->data, f->len);
	free(f);
	return n;
}

static int slirp_send(struct net_backend *nb, unsigned q, const struct iovec *iov, int iovcnt)
{
	struct slirp_be *s = (struct slirp_be *)nb;
	size_t len = 0;

	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > sizeof(s->txbuf) - len)
			return -EMSGSIZE;
		memcpy(s->txbuf + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	lock(&s->lock, LOCK_NET_SLIRP);
	libslirp.input(s->slirp, s->txbuf, (int)len);
	unlock(&s->lock, LOCK_NET_SLIRP);
	return 0;
}

/* After a batch: new sockets may need polling. */
static void slirp_flush(struct net_backend *nb)
{
	cb_notify(nb);
}

static void slirp_close(struct net_backend *nb)
{
	struct slirp_be *s = (struct slirp_be *)nb;

	if (s->thread_started) {
		s->stop = true;
		efd_signal(s->wakefd);
		pthread_join(s->thread, NULL);
	}
	if (s->slirp)
		libslirp.cleanup(s->slirp);
	while (s->timers)
		cb_timer_free(s->timers, s);
	while (s->head) {
		struct frame *f = s->head;
		s->head = f->next;
		free(f);
	}
	close_if_open(s->wakefd);
	close_if_open(s->rxfd);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->qlock);
	free(s);
}

static const struct net_backend_ops slirp_ops = {
	.rx_fd = slirp_rx_fd,
	.recv = slirp_recv,
	.send = slirp_send,
	.flush = slirp_flush,
	.close = slirp_close,
};

int net_slirp_open(const struct net_opts *o, struct net_backend **out)
{
	struct slirp_be *s;
	SlirpConfig cfg = { .version = 1 };
	int r;

	r = dynlib_load(slirp_soname, "--net user", "libslirp0", slirp_syms,
			sizeof(slirp_syms) / sizeof(slirp_syms[0]));
	if (r < 0)
		return r;
	if (!(s = calloc(1, sizeof(*s))))
		return err_set(-ENOMEM, "out of memory");
	s->nb.ops = &slirp_ops;
	s->nb.kind = "user";
	s->nb.npairs = 1;
	s->nb.hdr_len = 0;
	s->nb.features = 0;
	snprintf(s->nb.desc, sizeof(s->nb.desc), "user%s", o->restrict_ ? " restrict" : "");
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->qlock, NULL);
	s->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->rxfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wakefd < 0 || s->rxfd < 0) {
		r = err_set(-errno, "--net user: eventfd: %s", strerror(errno));
		goto fail;
	}
	cfg.restricted = o->restrict_;
	cfg.in_enabled = true;
	inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
	inet_pton(AF_INET, "255.255.255.0", &cfg.vnetmask);
	inet_pton(AF_INET, "10.0.2.2", &cfg.vhost);
	inet_pton(AF_INET, "10.0.2.15", &cfg.vdhcp_start);
	inet_pton(AF_INET, "10.0.2.3", &cfg.vnameserver);
	cfg.in6_enabled = false;
	cfg.vhostname = "hyve";
	cfg.if_mtu = SLIRP_MTU;
	cfg.if_mru = SLIRP_MTU;
	s->slirp = libslirp.new(&cfg, &slirp_cbs, s);
	if (!s->slirp) {
		r = err_set(-ENOMEM, "--net user: libslirp could not start");
		goto fail;
	}
	for (unsigned i = 0; i < o->nfwd; i++) {
		const struct net_hostfwd *f = &o->fwd[i];
		struct in_addr host = { .s_addr = f->host_addr }, guest = cfg.vdhcp_start;
		char a[INET_ADDRSTRLEN];

		if (libslirp.add_hostfwd(s->slirp, f->udp, host, f->host_port, guest,
				      f->guest_port) < 0) {
			inet_ntop(AF_INET, &host, a, sizeof(a));
			r = err_set(-EADDRINUSE, "--net user: hostfwd %s:%s:%u: cannot listen there (port in use?)",
				    f->udp ? "udp" : "tcp", f->host_addr ? a : "", f->host_port);
			goto fail;
		}
	}
	if ((r = pthread_create(&s->thread, NULL, slirp_thread, s)) != 0) {
		r = err_set(-r, "--net user: cannot start its thread");
		goto fail;
	}
	s->thread_started = true;
	*out = &s->nb;
	return 0;
fail:
	slirp_close(&s->nb);
	return r;
}
