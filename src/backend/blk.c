/* blk.c - raw image backend on io_uring (see blk.h). */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "backend/blk.h"
#include "err.h"
#include "util.h"

#define BLK_QUEUE_DEPTH	256
#define BLK_ALIGN	4096	/* O_DIRECT buffer and length alignment we use */

struct blk {
	int fd;
	int efd;		/* completion eventfd, -1 in sync mode */
	uint64_t size;
	bool readonly, direct, uring;
	bool restricted;	/* the ring only takes hyve's opcodes */
	struct io_uring ring;
	unsigned inflight;	/* submitted to the ring, not yet reaped */
	unsigned queued;	/* SQEs prepared since the last kick */
	size_t bounce_bytes;	/* bounce buffers allocated (<= BLK_BOUNCE_BUDGET) */
	size_t bounce_peak;
	void *scratch;		/* BLK_BOUNCE_CHUNK, aligned: over-budget requests */
};

static int blk_lock(int fd, bool readonly, const char *path)
{
	struct flock fl = {
		.l_type = readonly ? F_RDLCK : F_WRLCK,
		.l_whence = SEEK_SET,
	};

	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	if (errno == EAGAIN || errno == EACCES)
		return err_set(-EBUSY, "%s: in use by another process (image is locked)", path);
	return err_set(-errno, "%s: cannot lock: %s", path, strerror(errno));
}

/*
 * The ring starts disabled, so that what it may do can be restricted
 * before its first request (kernel >= 5.10; older kernels: unrestricted).
 */
static int blk_ring_init(struct blk *b)
{
	if (io_uring_queue_init(BLK_QUEUE_DEPTH, &b->ring, IORING_SETUP_R_DISABLED) == 0) {
		b->restricted = true;
		return 0;
	}
	return io_uring_queue_init(BLK_QUEUE_DEPTH, &b->ring, 0);
}

/*
 * seccomp cannot see io_uring operations, so the ring itself is limited to
 * what hyve queues: readv, writev, fsync, fallocate, with IO_DRAIN as the
 * only flag, and no more registrations (docs/security.md).
 */
static int blk_ring_restrict(struct blk *b)
{
	struct io_uring_restriction res[] = {
		{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_READV },
		{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_WRITEV },
		{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_FSYNC },
		{ .opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_FALLOCATE },
		{ .opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED, .sqe_flags = IOSQE_IO_DRAIN },
	};

	/* (Debian's static liburing lacks the wrappers: the syscall itself) */
	if (!b->restricted)
		return 0;
	if (syscall(__NR_io_uring_register, b->ring.ring_fd, IORING_REGISTER_RESTRICTIONS,
		    res, sizeof(res) / sizeof(res[0])) < 0)
		b->restricted = false;	/* still usable, unrestricted */
	return syscall(__NR_io_uring_register, b->ring.ring_fd, IORING_REGISTER_ENABLE_RINGS,
		       NULL, 0) < 0 ? -1 : 0;
}

bool blk_restricted(const struct blk *b)
{
	return b->uring && b->restricted;
}

/* Open, check and lock an image file; the fd or -errno with err_set. */
static int blk_file_open(const char *path, bool readonly, bool direct, bool lock, uint64_t *size)
{
	int flags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | (direct ? O_DIRECT : 0);
	struct stat st;
	int fd = open(path, flags), r;

	if (fd < 0 && direct && errno == EINVAL)	/* say so, as QEMU does */
		return err_set(-EINVAL, "%s: cache=none: the file system does not support O_DIRECT "
			       "(use cache=writeback)", path);
	if (fd < 0)
		return err_set(-errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = err_set(-EINVAL, "%s: not a regular file", path);
		goto fail;
	}
	if (st.st_size == 0 || st.st_size % BLK_SECTOR) {
		r = err_set(-EINVAL, "%s: size %lld is not a positive multiple of 512 bytes",
			    path, (long long)st.st_size);
		goto fail;
	}
	if (lock && (r = blk_lock(fd, readonly, path)) < 0)
		goto fail;
	*size = (uint64_t)st.st_size;
	return fd;
fail:
	close(fd);
	return r;
}

int blk_open(struct blk **out, const struct blk_opts *o)
{
	struct blk *b = calloc(1, sizeof(*b));
	int r;

	if (!b)
		return err_set(-ENOMEM, "out of memory");
	b->efd = -1;
	b->readonly = o->readonly;
	b->direct = o->direct;
	if ((r = b->fd = blk_file_open(o->path, o->readonly, o->direct, true, &b->size)) < 0) {
		free(b);
		return r;
	}
	if (!o->sync_only && blk_ring_init(b) == 0) {
		b->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (b->efd >= 0 && io_uring_register_eventfd(&b->ring, b->efd) == 0 &&
		    blk_ring_restrict(b) == 0) {
			b->uring = true;
		} else {
			close_if_open(b->efd);
			b->efd = -1;
			io_uring_queue_exit(&b->ring);
		}
	}
	*out = b;
	return 0;
}

int blk_medium_open(const struct blk *b, const char *path, struct blk_medium *m)
{
	struct stat cur, st;
	int fd;

	/* the file in use again (its size changed): our own lock is on it */
	m->relock = fstat(b->fd, &cur) == 0 && stat(path, &st) == 0 &&
		    cur.st_dev == st.st_dev && cur.st_ino == st.st_ino;
	fd = blk_file_open(path, b->readonly, b->direct, !m->relock, &m->size);
	m->fd = fd < 0 ? -1 : fd;
	return fd < 0 ? fd : 0;
}

void blk_medium_swap(struct blk *b, struct blk_medium *m)
{
	blk_drain(b);		/* every request on the old file answered */
	close(b->fd);		/* and its lock released */
	if (m->relock)		/* the same file: the lock moves to the new fd */
		blk_lock(m->fd, b->readonly, "the disk image");
	b->fd = m->fd;
	b->size = m->size;
	m->fd = -1;
}

void blk_medium_discard(struct blk_medium *m)
{
	close_if_open(m->fd);
	m->fd = -1;
}

uint64_t blk_size(const struct blk *b)
{
	return b->size;
}

bool blk_readonly(const struct blk *b)
{
	return b->readonly;
}

int blk_event_fd(const struct blk *b)
{
	return b->efd;
}

static uint64_t iov_len(const struct iovec *iov, int n)
{
	uint64_t len = 0;

	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	return len;
}

/* O_DIRECT wants aligned buffers and lengths; guests' may not be. */
static bool needs_bounce(const struct blk *b, const struct blk_req *req)
{
	if (!b->direct)
		return false;
	for (int i = 0; i < req->iovcnt; i++)
		if (((uintptr_t)req->iov[i].iov_base | req->iov[i].iov_len) % BLK_SECTOR)
			return true;
	return false;
}

/* Bytes a bounce buffer for len takes. */
static size_t bounce_size(uint64_t len)
{
	size_t alloc = (len + BLK_ALIGN - 1) / BLK_ALIGN * BLK_ALIGN;

	return alloc ? alloc : BLK_ALIGN;
}

static int bounce_setup(struct blk *b, struct blk_req *req)
{
	uint64_t len = iov_len(req->iov, req->iovcnt);
	size_t alloc = bounce_size(len);

	if (posix_memalign(&req->bounce, BLK_ALIGN, alloc))
		return -ENOMEM;
	b->bounce_bytes += alloc;
	if (b->bounce_bytes > b->bounce_peak)
		b->bounce_peak = b->bounce_bytes;
	if (req->op == BLK_WRITE) {
		size_t off = 0;
		for (int i = 0; i < req->iovcnt; i++) {
			memcpy((char *)req->bounce + off, req->iov[i].iov_base, req->iov[i].iov_len);
			off += req->iov[i].iov_len;
		}
	}
	req->bounce_iov.iov_base = req->bounce;
	req->bounce_iov.iov_len = len;
	return 0;
}

/* Finish a request: copy a bounced read back, free, call done. */
static void blk_finish(struct blk *b, struct blk_req *req, int res)
{
	if (req->bounce) {
		if (req->op == BLK_READ && res > 0) {
			size_t off = 0;
			for (int i = 0; i < req->iovcnt && off < (size_t)res; i++) {
				size_t n = req->iov[i].iov_len;
				if (n > (size_t)res - off)
					n = (size_t)res - off;
				memcpy(req->iov[i].iov_base, (char *)req->bounce + off, n);
				off += n;
			}
		}
		free(req->bounce);
		req->bounce = NULL;
		b->bounce_bytes -= bounce_size(req->bounce_iov.iov_len);
	}
	req->done(req, res);
}

/*
 * A bounced request beyond the budget (a guest's unaligned buffers, as
 * long as it likes, many in flight): done here and now through one fixed
 * chunk, so memory stays bounded whatever the guest asks.
 */
static int blk_bounce_sync(struct blk *b, const struct blk_req *req)
{
	uint64_t len = iov_len(req->iov, req->iovcnt), done = 0;
	int i = 0;
	size_t ioff = 0;

	if (!b->scratch && posix_memalign(&b->scratch, BLK_ALIGN, BLK_BOUNCE_CHUNK))
		return -ENOMEM;
	while (done < len) {
		size_t n = len - done < BLK_BOUNCE_CHUNK ? len - done : BLK_BOUNCE_CHUNK;
		size_t k = 0;
		ssize_t got;

		if (req->op == BLK_WRITE) {	/* gather the chunk */
			for (int j = i; k < n; j++) {
				size_t o = j == i ? ioff : 0;
				size_t m = req->iov[j].iov_len - o < n - k ? req->iov[j].iov_len - o : n - k;
				memcpy((char *)b->scratch + k, (char *)req->iov[j].iov_base + o, m);
				k += m;
			}
			got = pwrite(b->fd, b->scratch, n, req->offset + done);
		} else {
			got = pread(b->fd, b->scratch, n, req->offset + done);
		}
		if (got < 0)
			return -errno;
		if ((size_t)got != n)
			return (int)(done + got);	/* short: the caller fails it */
		/* advance through the iovec (scatter a read) */
		for (k = 0; k < n; ) {
			size_t m = req->iov[i].iov_len - ioff < n - k ? req->iov[i].iov_len - ioff : n - k;
			if (req->op == BLK_READ)
				memcpy((char *)req->iov[i].iov_base + ioff, (char *)b->scratch + k, m);
			k += m;
			ioff += m;
			if (ioff == req->iov[i].iov_len) {
				i++;
				ioff = 0;
			}
		}
		done += n;
	}
	return (int)done;
}

size_t blk_bounce_peak(const struct blk *b)
{
	return b->bounce_peak;
}

/* The synchronous path: one system call per request. */
static int blk_do_sync(struct blk *b, struct blk_req *req, const struct iovec *iov, int iovcnt)
{
	ssize_t n;

	switch (req->op) {
	case BLK_READ:
		n = preadv(b->fd, iov, iovcnt, req->offset);
		return n < 0 ? -errno : (int)n;
	case BLK_WRITE:
		n = pwritev(b->fd, iov, iovcnt, req->offset);
		return n < 0 ? -errno : (int)n;
	case BLK_FLUSH:
		return fdatasync(b->fd) < 0 ? -errno : 0;
	case BLK_DISCARD:
		return fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				 req->offset, req->len) < 0 ? -errno : 0;
	case BLK_WRITE_ZEROES:
		return fallocate(b->fd, FALLOC_FL_ZERO_RANGE, req->offset, req->len) < 0 ? -errno : 0;
	}
	return -EINVAL;
}

int blk_submit(struct blk *b, struct blk_req *req)
{
	const struct iovec *iov = req->iov;
	int iovcnt = req->iovcnt;
	uint64_t len;
	struct io_uring_sqe *sqe;

	req->bounce = NULL;
	if (req->op != BLK_READ && req->op != BLK_FLUSH && b->readonly)
		return -EROFS;
	if (req->op == BLK_READ || req->op == BLK_WRITE) {
		if (iovcnt < 0 || (iovcnt > 0 && !iov))
			return -EINVAL;
		len = iov_len(iov, iovcnt);
		if (len % BLK_SECTOR || req->offset % BLK_SECTOR)
			return -EINVAL;	/* whole sectors only, as virtio-blk says */
	} else {
		len = req->op == BLK_FLUSH ? 0 : req->len;
	}
	if (req->op != BLK_FLUSH && (req->offset > b->size || len > b->size - req->offset))
		return -EINVAL;
	if ((req->op == BLK_READ || req->op == BLK_WRITE) && needs_bounce(b, req)) {
		if (bounce_size(len) > BLK_BOUNCE_BUDGET - b->bounce_bytes) {
			blk_finish(b, req, blk_bounce_sync(b, req));
			return 0;
		}
		if (bounce_setup(b, req) < 0)
			return -ENOMEM;
		iov = &req->bounce_iov;
		iovcnt = 1;
	}
	if (!b->uring) {
		blk_finish(b, req, blk_do_sync(b, req, iov, iovcnt));
		return 0;
	}
	sqe = io_uring_get_sqe(&b->ring);
	if (!sqe) {			/* ring full: hand over what we have */
		blk_kick(b);
		sqe = io_uring_get_sqe(&b->ring);
		if (!sqe) {
			blk_finish(b, req, blk_do_sync(b, req, iov, iovcnt));
			return 0;
		}
	}
	switch (req->op) {
	case BLK_READ:
		io_uring_prep_readv(sqe, b->fd, iov, iovcnt, req->offset);
		break;
	case BLK_WRITE:
		io_uring_prep_writev(sqe, b->fd, iov, iovcnt, req->offset);
		break;
	case BLK_FLUSH:
		io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
		sqe->flags |= IOSQE_IO_DRAIN;	/* after everything queued before */
		break;
	case BLK_DISCARD:
		io_uring_prep_fallocate(sqe, b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					req->offset, req->len);
		break;
	case BLK_WRITE_ZEROES:
		io_uring_prep_fallocate(sqe, b->fd, FALLOC_FL_ZERO_RANGE, req->offset, req->len);
		break;
	}
	io_uring_sqe_set_data(sqe, req);
	b->queued++;
	return 0;
}

int blk_kick(struct blk *b)
{
	int r;

	if (!b->uring || b->queued == 0)
		return 0;
	do {
		r = io_uring_submit(&b->ring);
	} while (r == -EINTR);
	if (r < 0)
		return err_set(r, "io_uring_submit: %s", strerror(-r));
	b->inflight += r;
	b->queued -= (unsigned)r <= b->queued ? (unsigned)r : b->queued;
	return 0;
}

/* One completion: hand the request its result, release the CQE. */
static void blk_complete(struct blk *b, struct io_uring_cqe *cqe)
{
	struct blk_req *req = io_uring_cqe_get_data(cqe);
	int res = cqe->res;

	io_uring_cqe_seen(&b->ring, cqe);
	b->inflight--;
	if (req)
		blk_finish(b, req, res);
}

int blk_reap(struct blk *b)
{
	struct io_uring_cqe *cqe;
	uint64_t v;
	int n = 0;

	if (!b->uring)
		return 0;
	if (read(b->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return 0;
	while (io_uring_peek_cqe(&b->ring, &cqe) == 0) {
		blk_complete(b, cqe);
		n++;
	}
	return n;
}

void blk_drain(struct blk *b)
{
	if (!b->uring)
		return;
	blk_kick(b);
	while (b->inflight > 0) {
		struct io_uring_cqe *cqe;
		int r = io_uring_wait_cqe(&b->ring, &cqe);
		if (r == -EINTR)
			continue;
		if (r < 0)
			break;
		blk_complete(b, cqe);
	}
}

void blk_close(struct blk *b)
{
	if (!b)
		return;
	if (b->uring) {
		blk_drain(b);
		io_uring_queue_exit(&b->ring);
		close(b->efd);
	}
	close(b->fd);
	free(b->scratch);
	free(b);
}
