/*
 * virtio.h - constants shared by the virtio transports and device models,
 * from the virtio 1.2 specification (section numbers in the comments).
 * Everything here is little-endian on the wire; hyve's hosts are x86-64.
 */
#ifndef HYVE_VIRTIO_H
#define HYVE_VIRTIO_H

/* Device status field (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE	1
#define VIRTIO_STATUS_DRIVER		2
#define VIRTIO_STATUS_DRIVER_OK		4
#define VIRTIO_STATUS_FEATURES_OK	8
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED		128

/*
 * Reserved (device-independent) feature bits (6).  Bits 0-23 and 50-127
 * are device-specific.  Use as (1ULL << VIRTIO_F_...).
 */
#define VIRTIO_F_NOTIFY_ON_EMPTY	24	/* legacy only */
#define VIRTIO_F_ANY_LAYOUT		27	/* legacy only */
#define VIRTIO_F_INDIRECT_DESC		28
#define VIRTIO_F_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32
#define VIRTIO_F_ACCESS_PLATFORM	33
#define VIRTIO_F_RING_PACKED		34
#define VIRTIO_F_IN_ORDER		35
#define VIRTIO_F_ORDER_PLATFORM		36
#define VIRTIO_F_SR_IOV			37
#define VIRTIO_F_NOTIFICATION_DATA	38
#define VIRTIO_F_NOTIF_CONFIG_DATA	39
#define VIRTIO_F_RING_RESET		40

/* Split virtqueue descriptor flags (2.7.5). */
#define VIRTQ_DESC_F_NEXT		1	/* continues via the next field */
#define VIRTQ_DESC_F_WRITE		2	/* device write-only (else read-only) */
#define VIRTQ_DESC_F_INDIRECT		4	/* buffer is a descriptor table */

/* Available ring flags (2.7.6, 2.7.7). */
#define VIRTQ_AVAIL_F_NO_INTERRUPT	1
/* Used ring flags (2.7.8, 2.7.10). */
#define VIRTQ_USED_F_NO_NOTIFY		1

/* Largest queue size of a split virtqueue (2.7): a power of 2. */
#define VIRTQ_MAX_SIZE			32768

/* Device IDs (5). */
#define VIRTIO_ID_NET			1
#define VIRTIO_ID_BLOCK			2
#define VIRTIO_ID_CONSOLE		3
#define VIRTIO_ID_RNG			4	/* entropy source */
#define VIRTIO_ID_BALLOON		5	/* traditional memory balloon */
#define VIRTIO_ID_SCSI			8
#define VIRTIO_ID_9P			9
#define VIRTIO_ID_GPU			16
#define VIRTIO_ID_INPUT			18
#define VIRTIO_ID_VSOCK			19
#define VIRTIO_ID_CRYPTO		20
#define VIRTIO_ID_IOMMU			23
#define VIRTIO_ID_MEM			24
#define VIRTIO_ID_SOUND			25
#define VIRTIO_ID_FS			26
#define VIRTIO_ID_PMEM			27

#endif
