/*
 * virtio_blk.h - the virtio-blk request parser (virtio 1.2, 5.2.6), apart
 * from the device so that it can be tested and fuzzed on its own.
 */
#ifndef HYVE_DEV_VIRTIO_BLK_H
#define HYVE_DEV_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include "backend/blk.h"
#include "virtio/virtqueue.h"

#define VBLK_SERIAL_LEN		20

/* feature bits (5.2.3) */
#define VIRTIO_BLK_F_SEG_MAX		2
#define VIRTIO_BLK_F_RO			5
#define VIRTIO_BLK_F_BLK_SIZE		6
#define VIRTIO_BLK_F_FLUSH		9
#define VIRTIO_BLK_F_DISCARD		13
#define VIRTIO_BLK_F_WRITE_ZEROES	14

/* request types and status (5.2.6) */
#define VIRTIO_BLK_T_IN			0
#define VIRTIO_BLK_T_OUT		1
#define VIRTIO_BLK_T_FLUSH		4
#define VIRTIO_BLK_T_GET_ID		8
#define VIRTIO_BLK_T_DISCARD		11
#define VIRTIO_BLK_T_WRITE_ZEROES	13
#define VIRTIO_BLK_S_OK			0
#define VIRTIO_BLK_S_IOERR		1
#define VIRTIO_BLK_S_UNSUPP		2

struct vblk_parsed {
	int status;			/* < 0: submit; else answer with it now */
	enum blk_op op;
	uint64_t offset, len;		/* bytes */
	uint8_t *status_byte;		/* where the answer goes */
	uint32_t written;		/* used length: data + status byte */
	bool get_id;			/* iov/len: where the serial goes */
	int niov;
	struct iovec iov[];		/* data buffers (room: nout + nin) */
};

int vblk_parse(const struct vq_chain *c, uint64_t capacity, uint64_t features,
	       uint32_t max_zero_sectors, struct vblk_parsed *p);

#endif
