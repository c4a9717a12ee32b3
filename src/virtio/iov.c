/* iov.c - byte ranges of an iovec list (see iov.h). */
#include <string.h>
#include "virtio/iov.h"

bool iov_copy_out(const struct iovec *iov, unsigned n, size_t off, void *dst, size_t len)
{
	for (unsigned i = 0; i < n && len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t k = iov[i].iov_len - off < len ? iov[i].iov_len - off : len;
		memcpy(dst, (char *)iov[i].iov_base + off, k);
		dst = (char *)dst + k;
		len -= k;
		off = 0;
	}
	return len == 0;
}

int iov_slice(const struct iovec *iov, unsigned n, size_t off, size_t len, struct iovec *out)
{
	int k = 0;

	for (unsigned i = 0; i < n && len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t take = iov[i].iov_len - off < len ? iov[i].iov_len - off : len;
		out[k].iov_base = (char *)iov[i].iov_base + off;
		out[k].iov_len = take;
		k++;
		len -= take;
		off = 0;
	}
	return len ? -1 : k;
}
