/* bench/blkbench.c - guest side of bench/blk: a small fio-like disk
 * benchmark on a raw block device, with O_DIRECT and io_uring.
 *
 *   blkbench [-d DEV] [-t SECONDS] [-s MIB]
 *
 * On the first MIB MiB (default 128) of DEV (default /dev/vda), each for
 * SECONDS (default 3) of wall time, in this order:
 *   seqwrite  1 MiB writes, sequential, queue depth 1 (wrapping around)
 *   seqread   1 MiB reads, sequential, queue depth 1
 *   randread1 4 KiB reads at random 4 KiB-aligned offsets, queue depth 1
 *   randread32 the same at queue depth 32
 * and prints one line each:
 *   blkbench: seqwrite mbps=12.3 ops=N secs=S
 *   blkbench: randread32 iops=1234 ops=N secs=S
 * (MB = 10^6 bytes).  The writes destroy the data on DEV.
 * Build: gcc -O2 -static -o blkbench blkbench.c -luring
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <time.h>
#include <unistd.h>

#define MAXQD 32

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t xrand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

struct job {
	const char *name;
	int write, random, qd;
	size_t bs;
};

static int fd;
static uint64_t area;
static double secs;
static struct io_uring ring;
static char *bufs[MAXQD];

static uint64_t next_off(const struct job *j, uint64_t *seq)
{
	uint64_t off;
	if (j->random)
		return (xrand() % (area / j->bs)) * j->bs;
	off = *seq;
	*seq = (off + j->bs) % (area / j->bs * j->bs);
	return off;
}

static void queue(const struct job *j, int slot, uint64_t off)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	if (!sqe) {
		fprintf(stderr, "blkbench: no SQE\n");
		exit(1);
	}
	if (j->write)
		io_uring_prep_write(sqe, fd, bufs[slot], j->bs, off);
	else
		io_uring_prep_read(sqe, fd, bufs[slot], j->bs, off);
	io_uring_sqe_set_data64(sqe, slot);
}

static void run(const struct job *j)
{
	uint64_t seq = 0, ops = 0;
	int inflight = 0, i;
	double t0 = now(), t, end = t0 + secs;

	for (i = 0; i < j->qd; i++)
		queue(j, i, next_off(j, &seq));
	inflight = j->qd;
	io_uring_submit(&ring);
	for (;;) {
		struct io_uring_cqe *cqe;
		int r = io_uring_wait_cqe(&ring, &cqe), slot;
		if (r < 0) {
			fprintf(stderr, "blkbench: wait_cqe: %s\n", strerror(-r));
			exit(1);
		}
		if (cqe->res != (int)j->bs) {
			fprintf(stderr, "blkbench: %s: I/O returned %d (%s)\n", j->name, cqe->res,
				cqe->res < 0 ? strerror(-cqe->res) : "short");
			exit(1);
		}
		slot = (int)io_uring_cqe_get_data64(cqe);
		io_uring_cqe_seen(&ring, cqe);
		inflight--;
		ops++;
		t = now();
		if (t < end) {
			queue(j, slot, next_off(j, &seq));
			inflight++;
			io_uring_submit(&ring);
		} else if (inflight == 0) {
			break;
		}
	}
	t = now() - t0;
	if (j->bs >= 1 << 20)
		printf("blkbench: %s mbps=%.1f ops=%llu secs=%.2f\n", j->name,
		       ops * (double)j->bs / t / 1e6, (unsigned long long)ops, t);
	else
		printf("blkbench: %s iops=%.0f ops=%llu secs=%.2f\n", j->name, ops / t,
		       (unsigned long long)ops, t);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *dev = "/dev/vda";
	uint64_t size, mib = 128;
	int c, i, r;
	static const struct job jobs[] = {
		{ "seqwrite", 1, 0, 1, 1 << 20 },
		{ "seqread", 0, 0, 1, 1 << 20 },
		{ "randread1", 0, 1, 1, 4096 },
		{ "randread32", 0, 1, 32, 4096 },
	};

	secs = 3;
	while ((c = getopt(argc, argv, "d:t:s:")) != -1) {
		switch (c) {
		case 'd': dev = optarg; break;
		case 't': secs = atof(optarg); break;
		case 's': mib = strtoull(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: blkbench [-d DEV] [-t SECONDS] [-s MIB]\n");
			return 2;
		}
	}
	fd = open(dev, O_RDWR | O_DIRECT);
	if (fd < 0) {
		fprintf(stderr, "blkbench: %s: %s\n", dev, strerror(errno));
		return 1;
	}
	if (ioctl(fd, BLKGETSIZE64, &size) < 0) {	/* a regular file, for testing */
		off_t end = lseek(fd, 0, SEEK_END);
		if (end < 0) {
			fprintf(stderr, "blkbench: %s: no size: %s\n", dev, strerror(errno));
			return 1;
		}
		size = (uint64_t)end;
	}
	area = mib << 20;
	if (area > size)
		area = size;
	if (area < (1 << 20)) {
		fprintf(stderr, "blkbench: %s is too small\n", dev);
		return 1;
	}
	for (i = 0; i < MAXQD; i++) {
		if (posix_memalign((void **)&bufs[i], 4096, 1 << 20))
			return 1;
		memset(bufs[i], 0x5a + i, 1 << 20);
	}
	if ((r = io_uring_queue_init(64, &ring, 0)) < 0) {
		fprintf(stderr, "blkbench: io_uring_queue_init: %s\n", strerror(-r));
		return 1;
	}
	printf("blkbench: dev=%s size_mib=%llu area_mib=%llu secs=%.1f O_DIRECT io_uring\n", dev,
	       (unsigned long long)(size >> 20), (unsigned long long)(area >> 20), secs);
	for (i = 0; i < (int)(sizeof(jobs) / sizeof(jobs[0])); i++)
		run(&jobs[i]);
	return 0;
}
