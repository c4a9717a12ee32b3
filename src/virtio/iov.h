/*
 * iov.h - byte ranges of a descriptor chain's iovec list (chain order), for
 * device request parsers.  Pure functions: no guest memory is touched
 * beyond the iovecs the virtqueue already checked.
 */
#ifndef HYVE_VIRTIO_IOV_H
#define HYVE_VIRTIO_IOV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

/* Copy bytes [off, off+len) of iov[0..n) into dst; false if it is shorter. */
bool iov_copy_out(const struct iovec *iov, unsigned n, size_t off, void *dst, size_t len);

/*
 * The sub-list of iov covering bytes [off, off+len), into out (which has
 * room for n entries): its length, or -1 if iov is shorter.
 */
int iov_slice(const struct iovec *iov, unsigned n, size_t off, size_t len, struct iovec *out);

#endif
