/*
 * blk.h - the disk backend: a raw image file, read and written
 * asynchronously through io_uring (liburing), with batching: requests are
 * queued with blk_submit() and handed to the kernel together by blk_kick();
 * completions are signalled on an eventfd and delivered by blk_reap().
 *
 * FLUSH is an fdatasync that starts only after every request queued before
 * it has completed (IOSQE_IO_DRAIN), so "the guest was told it is durable"
 * means it is on stable storage.  Images are locked (an OFD lock: a write
 * lock for a writable disk, a read lock for a read-only one), so a second
 * hyve on a writable image gets a clear error instead of corrupting it.
 * Without io_uring (old kernel, seccomp) requests run synchronously.
 */
#ifndef HYVE_BACKEND_BLK_H
#define HYVE_BACKEND_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define BLK_SECTOR 512
/*
 * cache=none bounce buffers (unaligned guest buffers under O_DIRECT): at
 * most BLK_BOUNCE_BUDGET bytes allocated per disk at once; a request that
 * does not fit runs synchronously through one BLK_BOUNCE_CHUNK buffer.
 */
#define BLK_BOUNCE_BUDGET	(4u << 20)
#define BLK_BOUNCE_CHUNK	(256u << 10)

struct blk;

struct blk_opts {
	const char *path;
	bool readonly;
	bool direct;		/* cache=none: O_DIRECT (bounce-buffered if unaligned);
				   refused where the file system lacks O_DIRECT */
	bool sync_only;		/* never use io_uring (tests, fallback) */
};

enum blk_op { BLK_READ, BLK_WRITE, BLK_FLUSH, BLK_DISCARD, BLK_WRITE_ZEROES };

struct blk_req {
	enum blk_op op;
	uint64_t offset;		/* bytes */
	uint64_t len;			/* DISCARD / WRITE_ZEROES: bytes */
	const struct iovec *iov;	/* READ / WRITE: guest buffers */
	int iovcnt;
	/* called once with the result: bytes transferred (or 0) or -errno */
	void (*done)(struct blk_req *req, int res);
	void *priv;
	/* private to the backend */
	void *bounce;
	struct iovec bounce_iov;
};

/* Open (and lock) an image.  0 or -errno with err_set (one clear line). */
int blk_open(struct blk **out, const struct blk_opts *o);
void blk_close(struct blk *b);		/* waits for requests in flight */
uint64_t blk_size(const struct blk *b);	/* bytes, a multiple of 512 */
bool blk_readonly(const struct blk *b);

/* Queue a request (no system call with io_uring).  -EROFS for a write to a
 * read-only image, -EINVAL for a range outside the image or a READ/WRITE
 * that is not whole sectors: done() is not called then. */
int blk_submit(struct blk *b, struct blk_req *req);
/* Hand queued requests to the kernel.  0 or -errno. */
int blk_kick(struct blk *b);
/* The eventfd that becomes readable when completions wait (-1: sync mode). */
int blk_event_fd(const struct blk *b);
/* Deliver completed requests' done(); returns how many. */
int blk_reap(struct blk *b);
/*
 * Submit what is queued and wait until nothing is in flight, delivering
 * every done() (a device reset: no I/O may touch guest memory after it).
 */
void blk_drain(struct blk *b);
/*
 * A media change (PATCH /drives: a new path_on_host after boot), in two
 * steps so the file is opened without the device's lock held:
 * blk_medium_open() opens, checks and locks path with the disk's own mode
 * (read-only, cache=none) and touches nothing of b; blk_medium_swap(),
 * with the device quiesced (no blk_submit/blk_reap concurrently), drains
 * what is in flight on the old file (every done() delivered), closes it
 * (its lock goes with it) and continues on the new one.  The ring, its
 * restrictions and its eventfd stay.  blk_medium_discard() drops an opened
 * medium that is not used.
 */
struct blk_medium {
	int fd;
	uint64_t size;
	bool relock;		/* the file in use: lock it once the old fd is closed */
};
int blk_medium_open(const struct blk *b, const char *path, struct blk_medium *m);
void blk_medium_swap(struct blk *b, struct blk_medium *m);
void blk_medium_discard(struct blk_medium *m);
/* The io_uring ring is limited to readv/writev/fsync/fallocate. */
bool blk_restricted(const struct blk *b);
/* The most bounce-buffer bytes ever allocated at once (tests, budget). */
size_t blk_bounce_peak(const struct blk *b);

#endif
