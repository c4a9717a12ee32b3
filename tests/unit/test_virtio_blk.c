/*
 * virtio-blk through the virtio-pci transport, without KVM: a real VM from
 * vm_create_nokvm (its RAM laid out as vm_create does), the PCI core with recorded interrupts, a disk image in /tmp.
 * The test plays the driver: negotiates, lays out a queue in guest RAM,
 * posts requests, kicks through the notify area, waits for the worker.
 * Good requests work; hostile ones fail the request or flag the device.
 */
#include "unit.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "pci/pci.h"
#include "virtio/virtio_pci.h"
#include "vm.h"
#include "testvm.h"

#define RAM_SIZE	(4u << 20)
#define QSZ		16
#define DESC		0x1000
#define AVAIL		0x2000
#define USED		0x3000
#define DATA		0x10000

struct fixture {
	struct vm *vm;
	struct pci_bus *bus;
	struct pci_dev *dev;
	uint8_t *ram;
	char img[64];
	uint16_t avail_idx;
	unsigned ndesc;
};

#include "testvirtio.h"

static int make_device(struct fixture *f, const char *extra)
{
	char opts[160];

	snprintf(opts, sizeof(opts), "path=%s%s", f->img, extra);
	return pci_add_device(f->bus, "virtio-blk", -1, opts, &f->dev);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int fd;

	if (testvirtio_open(f) < 0)
		return -1;
	snprintf(f->img, sizeof(f->img), "/tmp/hyve-vblk-XXXXXX");
	fd = mkstemp(f->img);
	if (fd < 0 || ftruncate(fd, 1 << 20) < 0)
		return -1;
	for (int s = 0; s < 2048; s++) {	/* sector s is filled with (s & 0xff) */
		uint8_t sec[512];
		memset(sec, s & 0xff, sizeof(sec));
		if (pwrite(fd, sec, 512, (off_t)s * 512) != 512)
			return -1;
	}
	close(fd);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	testvirtio_close(f);
	unlink(f->img);
	free(f);
	return 0;
}

static void queue_setup(struct fixture *f)
{
	w(f, 0x16, 2, 0);				/* queue_select 0 */
	w(f, 0x18, 2, QSZ);
	w(f, 0x20, 4, DESC);
	w(f, 0x24, 4, 0);
	w(f, 0x28, 4, AVAIL);
	w(f, 0x2c, 4, 0);
	w(f, 0x30, 4, USED);
	w(f, 0x34, 4, 0);
	w(f, 0x1c, 2, 1);				/* queue_enable */
	w(f, 0x14, 1, 1 | 2 | 8 | 4);			/* DRIVER_OK */
}

static uint16_t used_idx(struct fixture *f)
{
	uint16_t v;

	memcpy(&v, f->ram + USED + 2, 2);
	return v;
}

/* Post the chain starting at head, kick, wait until the device used it. */
static bool post_and_wait(struct fixture *f, uint16_t head)
{
	uint16_t before = used_idx(f);

	memcpy(f->ram + AVAIL + 4 + 2 * (f->avail_idx % QSZ), &head, 2);
	f->avail_idx++;
	__atomic_store_n((uint16_t *)(f->ram + AVAIL + 2), f->avail_idx, __ATOMIC_RELEASE);
	w(f, 0x3000, 2, 0);				/* notify queue 0 */
	for (int i = 0; i < 2000; i++) {
		if (used_idx(f) != before)
			return true;
		if (r(f, 0x14, 1) & 0x40)
			return false;			/* DEVICE_NEEDS_RESET */
		usleep(1000);
	}
	return false;
}

#define F_VERSION_1 (1ULL << 32)
#define F_FLUSH (1ULL << 9)

/* header at DATA, data at DATA+0x100, status at DATA+0x80 */
static uint8_t *hdr(struct fixture *f, uint32_t type, uint64_t sector)
{
	uint8_t *h = f->ram + DATA;

	memset(h, 0, 16);
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	f->ram[DATA + 0x80] = 0xee;
	return h;
}

static uint8_t status(struct fixture *f)
{
	return f->ram[DATA + 0x80];
}

static void chain3(struct fixture *f, uint32_t len, bool data_writable)
{
	put_desc(f, DESC, 0, DATA, 16, 1, 1);					/* NEXT */
	put_desc(f, DESC, 1, DATA + 0x100, len, 1 | (data_writable ? 2 : 0), 2);
	put_desc(f, DESC, 2, DATA + 0x80, 1, 2, 0);				/* WRITE */
}

/* One request of type on sector, with a len-byte data buffer, seen through. */
static void request(struct fixture *f, uint32_t type, uint64_t sector, uint32_t len, bool data_writable)
{
	hdr(f, type, sector);
	chain3(f, len, data_writable);
	assert_true(post_and_wait(f, 0));
}

/* The device with opts, negotiated (VERSION_1 only), its queue live. */
static void start(struct fixture *f, const char *opts)
{
	assert_int_equal(make_device(f, opts), 0);
	driver_init(f, F_VERSION_1);
	queue_setup(f);
}

static void test_read_write_flush_getid(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(make_device(f, ",serial=hyve-disk-7"), 0);
	driver_init(f, F_VERSION_1 | F_FLUSH);
	assert_true(r(f, 0x14, 1) & 8);			/* FEATURES_OK accepted */
	queue_setup(f);

	request(f, 0, 5, 512, true);			/* read sector 5 */
	assert_int_equal(status(f), 0);
	for (int i = 0; i < 512; i++)
		assert_int_equal(f->ram[DATA + 0x100 + i], 5);

	memset(f->ram + DATA + 0x100, 0x77, 512);
	request(f, 1, 7, 512, false);			/* write sector 7 */
	assert_int_equal(status(f), 0);

	hdr(f, 4, 0);					/* flush */
	put_desc(f, DESC, 0, DATA, 16, 1, 1);
	put_desc(f, DESC, 1, DATA + 0x80, 1, 2, 0);
	assert_true(post_and_wait(f, 0));
	assert_int_equal(status(f), 0);

	memset(f->ram + DATA + 0x100, 0, 512);
	request(f, 0, 7, 512, true);			/* read it back */
	assert_int_equal(f->ram[DATA + 0x100 + 100], 0x77);

	request(f, 8, 0, 20, true);			/* GET_ID */
	assert_memory_equal(f->ram + DATA + 0x100, "hyve-disk-7", 11);
	assert_int_equal(status(f), 0);
}

/*
 * Regression (issue 9): a reset did not wait for requests in flight, so a
 * stale completion could write into guest pages the driver had reused.
 * 5 reads of 128 KiB in flight, reset at a varying moment, then the driver
 * wipes its pages: nothing may write to them or to the used ring after the
 * reset returned.  And the device works again after re-initialisation.
 */
static void test_reset_quiesces(void **state)
{
	struct fixture *f = *state;
	enum { N = 5, LEN = 128 << 10, BUF = 0x100000 };
	uint8_t *zero = calloc(1, N * LEN);

	assert_int_equal(make_device(f, ""), 0);
	for (int round = 0; round < 40; round++) {
		driver_init(f, F_VERSION_1);
		queue_setup(f);
		for (int i = 0; i < N; i++) {	/* chain i: descs 3i..3i+2 */
			uint64_t h = DATA + 16 * i, st = DATA + 0x800 + i;
			uint32_t type = 0;
			uint64_t sector = (uint64_t)i * (LEN / 512);
			memset(f->ram + h, 0, 16);
			memcpy(f->ram + h, &type, 4);
			memcpy(f->ram + h + 8, &sector, 8);
			put_desc(f, DESC, 3 * i, h, 16, 1, 3 * i + 1);
			put_desc(f, DESC, 3 * i + 1, BUF + (uint64_t)i * LEN, LEN, 1 | 2, 3 * i + 2);
			put_desc(f, DESC, 3 * i + 2, st, 1, 2, 0);
			uint16_t head = 3 * i;
			memcpy(f->ram + AVAIL + 4 + 2 * (f->avail_idx % QSZ), &head, 2);
			f->avail_idx++;
		}
		__atomic_store_n((uint16_t *)(f->ram + AVAIL + 2), f->avail_idx, __ATOMIC_RELEASE);
		w(f, 0x3000, 2, 0);			/* kick */
		usleep(round * 10);			/* reset at a varying point */
		w(f, 0x14, 1, 0);			/* reset ... */
		assert_int_equal(r(f, 0x14, 1), 0);	/* ... acknowledged */
		memset(f->ram + BUF, 0, N * LEN);	/* the driver reuses its pages */
		memset(f->ram + DATA + 0x800, 0xee, N);
		memset(f->ram + USED, 0, 4 + 8 * QSZ);
		usleep(5000);
		assert_memory_equal(f->ram + BUF, zero, N * LEN);
		for (int i = 0; i < N; i++)
			assert_int_equal(f->ram[DATA + 0x800 + i], 0xee);
		assert_int_equal(used_idx(f), 0);
		f->avail_idx = 0;
		memset(f->ram + AVAIL, 0, 4 + 2 * QSZ);
	}
	/* still a working disk */
	driver_init(f, F_VERSION_1);
	queue_setup(f);
	hdr(f, 0, 9);
	chain3(f, 512, true);
	assert_true(post_and_wait(f, 0));
	assert_int_equal(status(f), 0);
	assert_int_equal(f->ram[DATA + 0x100 + 7], 9);
	free(zero);
}

/*
 * PATCH /drives (a media change) reaches the disk through the PCI core:
 * a bad file leaves it as it was; a good one changes the capacity in the
 * device configuration, moves config_generation on, raises the
 * configuration interrupt (ISR bit 1 with INTx) and reads come from the
 * new file.  Devices of other types and missing ones are refused.
 */
static void test_media_change(void **state)
{
	struct fixture *f = *state;
	char img2[64];
	char opts[96];
	uint8_t gen;
	int fd;

	start(f, "");
	assert_int_equal(r(f, 0x2000, 8), 2048);		/* capacity: 1 MiB */
	(void)r(f, 0x1000, 1);					/* ISR read clears it */
	gen = (uint8_t)r(f, 0x15, 1);

	assert_true(pci_bus_update(f->bus, "virtio-blk", 0, "path=/nonexistent.img") < 0);
	assert_true(pci_bus_update(f->bus, "virtio-blk", 0, "ro") < 0);
	assert_int_equal(pci_bus_update(f->bus, "virtio-blk", 1, "path=/x"), -ENODEV);
	assert_int_equal(pci_bus_update(f->bus, "virtio-rng", 0, "path=/x"), -ENODEV);
	assert_int_equal(r(f, 0x2000, 8), 2048);
	assert_int_equal((uint8_t)r(f, 0x15, 1), gen);
	assert_int_equal(r(f, 0x1000, 1), 0);

	snprintf(img2, sizeof(img2), "/tmp/hyve-vblk2-XXXXXX");
	fd = mkstemp(img2);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 3 << 20), 0);
	assert_int_equal(pwrite(fd, "NEW-MEDIUM", 10, 512 * 5), 10);
	close(fd);
	snprintf(opts, sizeof(opts), "path=%s", img2);
	assert_int_equal(pci_bus_update(f->bus, "virtio-blk", 0, opts), 0);
	assert_int_equal(r(f, 0x2000, 8), 6144);		/* capacity: 3 MiB */
	assert_int_equal((uint8_t)r(f, 0x15, 1), (uint8_t)(gen + 1));
	assert_int_equal(r(f, 0x1000, 1), 2);			/* configuration change */
	request(f, 0, 5, 512, true);
	assert_int_equal(status(f), 0);
	assert_memory_equal(f->ram + DATA + 0x100, "NEW-MEDIUM", 10);
	request(f, 0, 6000, 512, true);				/* beyond the old end */
	assert_int_equal(status(f), 0);
	unlink(img2);
}

static void test_bad_requests_fail_alone(void **state)
{
	struct fixture *f = *state;

	start(f, "");
	request(f, 0, 2048, 512, true);			/* sector past the end */
	assert_int_equal(status(f), 1);			/* IOERR */
	request(f, 0, 2047, 1024, true);		/* runs past the end */
	assert_int_equal(status(f), 1);
	request(f, 0, UINT64_MAX / 512, 512, true);	/* sector * 512 overflows */
	assert_int_equal(status(f), 1);
	request(f, 0, 1, 100, true);			/* not whole sectors */
	assert_int_equal(status(f), 1);
	request(f, 0, 1, 512, false);			/* read into a readable buffer */
	assert_int_equal(status(f), 1);
	request(f, 99, 0, 512, true);			/* unknown type */
	assert_int_equal(status(f), 2);			/* UNSUPP */
	hdr(f, 4, 0);					/* FLUSH not negotiated */
	put_desc(f, DESC, 0, DATA, 16, 1, 1);
	put_desc(f, DESC, 1, DATA + 0x80, 1, 2, 0);
	assert_true(post_and_wait(f, 0));
	assert_int_equal(status(f), 2);
	/* the device still works afterwards */
	assert_int_equal(r(f, 0x14, 1) & 0x40, 0);
	request(f, 0, 3, 512, true);
	assert_int_equal(status(f), 0);
	assert_int_equal(f->ram[DATA + 0x100], 3);
}

static void test_readonly_refuses_writes(void **state)
{
	struct fixture *f = *state;

	start(f, ",ro");
	request(f, 1, 0, 512, false);
	assert_int_equal(status(f), 1);			/* IOERR, image untouched */
	request(f, 0, 0, 512, true);
	assert_int_equal(f->ram[DATA + 0x100], 0);
}

static void test_malformed_chains_flag_the_device(void **state)
{
	struct fixture *f = *state;

	start(f, "");
	put_desc(f, DESC, 0, DATA, 16, 1, 1);			/* a loop: 0 -> 1 -> 0 */
	put_desc(f, DESC, 1, DATA + 0x100, 512, 1 | 2, 0);
	assert_false(post_and_wait(f, 0));
	assert_true(r(f, 0x14, 1) & 0x40);		/* DEVICE_NEEDS_RESET */
	/* reset and start again: the device works */
	f->avail_idx = 0;
	memset(f->ram + AVAIL, 0, 0x100);
	memset(f->ram + USED, 0, 0x100);
	driver_init(f, F_VERSION_1);
	queue_setup(f);
	assert_int_equal(r(f, 0x14, 1) & 0x40, 0);
	request(f, 0, 9, 512, true);
	assert_int_equal(f->ram[DATA + 0x100], 9);
	/* no status byte at all: cannot be answered, the device asks for a reset */
	hdr(f, 0, 1);
	put_desc(f, DESC, 0, DATA, 16, 0, 0);
	assert_false(post_and_wait(f, 0) && !(r(f, 0x14, 1) & 0x40));
	assert_true(r(f, 0x14, 1) & 0x40);
}

static void test_buffers_outside_ram(void **state)
{
	struct fixture *f = *state;

	start(f, "");
	hdr(f, 0, 1);
	put_desc(f, DESC, 0, DATA, 16, 1, 1);
	put_desc(f, DESC, 1, RAM_SIZE - 256, 512, 1 | 2, 2);	/* runs off the end of RAM */
	put_desc(f, DESC, 2, DATA + 0x80, 1, 2, 0);
	assert_false(post_and_wait(f, 0));
	assert_true(r(f, 0x14, 1) & 0x40);
}

static void test_queue_frozen_after_driver_ok(void **state)
{
	struct fixture *f = *state;

	start(f, "");
	w(f, 0x16, 2, 0);
	w(f, 0x18, 2, 4);				/* rewrite queue_size */
	w(f, 0x20, 4, 0x3f0000);			/* and the ring address */
	assert_int_equal(r(f, 0x18, 2), QSZ);
	assert_int_equal(r(f, 0x20, 4), DESC);
	request(f, 0, 4, 512, true);			/* the device uses the old queue */
	assert_int_equal(f->ram[DATA + 0x100], 4);
}

static void test_negotiation_and_odd_accesses(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(make_device(f, ""), 0);
	driver_init(f, 0);				/* no VERSION_1 */
	assert_int_equal(r(f, 0x14, 1) & 8, 0);		/* FEATURES_OK refused */
	driver_init(f, F_VERSION_1 | (1ULL << 60));	/* a feature not offered */
	assert_int_equal(r(f, 0x14, 1) & 8, 0);
	w(f, 0x14, 1, 1 | 2 | 4);			/* DRIVER_OK without FEATURES_OK */
	assert_int_equal(r(f, 0x14, 1) & 4, 0);
	/* kicks of queues that do not exist or are not set up are ignored */
	w(f, 0x3000, 2, 0);
	w(f, 0x3004, 2, 0);
	w(f, 0x3ffc, 4, 0);
	/* odd widths and offsets: no crash, reads are 0 */
	assert_int_equal(r(f, 0x13, 1), 0);
	assert_int_equal(r(f, 0x14, 4), 0);
	w(f, 0x15, 2, 0xffff);
	assert_int_equal(r(f, 0x4000, 4), 0);
	w(f, 0x3fff, 8, ~0ULL);
	w(f, 0x2000 + 58, 4, 1);			/* device config is read-only */
	assert_int_equal(r(f, 0x2000, 8), 2048);	/* capacity in sectors */
	assert_int_equal(r(f, 0x2000 + 60, 4), 0);	/* past the config */
	w(f, 0x16, 2, 7);				/* select a queue that does not exist */
	assert_int_equal(r(f, 0x18, 2), 0);
	w(f, 0x1c, 2, 1);
}

static void test_bad_options(void **state)
{
	struct fixture *f = *state;

	assert_true(pci_add_device(f->bus, "virtio-blk", -1, "ro", NULL) < 0);
	assert_true(pci_add_device(f->bus, "virtio-blk", -1, "path=/nonexistent/x.img", NULL) < 0);
	assert_true(make_device(f, ",bogus=1") < 0);
	assert_true(make_device(f, ",serial=123456789012345678901") < 0);
	assert_int_equal(make_device(f, ""), 0);
	assert_true(make_device(f, "") < 0);		/* the image is locked */
}


TEST_MAIN(NULL, NULL,
	  TEST_FIX(test_read_write_flush_getid), TEST_FIX(test_bad_requests_fail_alone),
	  TEST_FIX(test_reset_quiesces), TEST_FIX(test_media_change),
	  TEST_FIX(test_readonly_refuses_writes), TEST_FIX(test_malformed_chains_flag_the_device),
	  TEST_FIX(test_buffers_outside_ram), TEST_FIX(test_queue_frozen_after_driver_ok),
	  TEST_FIX(test_negotiation_and_odd_accesses), TEST_FIX(test_bad_options))
