/* Unit tests for the disk backend: open checks, locking, I/O through io_uring and the sync path. */
#include "unit.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "backend/blk.h"
#include "err.h"

static char dir[64], img[96];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/hyve-blk-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(img, sizeof(img), "%s/disk.img", dir);
	int fd = open(img, O_CREAT | O_RDWR | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, 1 << 20) < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

struct result { int calls, res; };

static void done(struct blk_req *req, int res)
{
	struct result *r = req->priv;

	r->calls++;
	r->res = res;
}

/* Submit, kick and wait for one request's completion. */
static int run(struct blk *b, struct blk_req *req)
{
	struct result r = { 0 };
	int s;

	req->done = done;
	req->priv = &r;
	if ((s = blk_submit(b, req)) < 0)
		return s;
	assert_int_equal(blk_kick(b), 0);
	while (r.calls == 0) {
		struct pollfd p = { .fd = blk_event_fd(b), .events = POLLIN };
		assert_true(p.fd >= 0);
		assert_true(poll(&p, 1, 5000) == 1);
		blk_reap(b);
	}
	assert_int_equal(r.calls, 1);
	return r.res;
}

static void roundtrip(bool sync_only, bool direct)
{
	struct blk_opts o = { .path = img, .sync_only = sync_only, .direct = direct };
	struct blk *b;
	static char wbuf[8192] __attribute__((aligned(4096)));
	static char rbuf[8192] __attribute__((aligned(4096)));
	static char odd[1024] __attribute__((aligned(4096)));
	struct iovec w[2] = { { wbuf, 4096 }, { wbuf + 4096, 4096 } };
	struct iovec rv = { rbuf, 8192 };
	struct blk_req req;

	assert_int_equal(blk_open(&b, &o), 0);
	assert_int_equal(blk_size(b), 1 << 20);
	if (!sync_only && blk_event_fd(b) >= 0)	/* a kernel with restrictions (>= 5.10) */
		assert_true(blk_restricted(b));
	for (int i = 0; i < 8192; i++)
		wbuf[i] = (char)(i * 7);
	req = (struct blk_req){ .op = BLK_WRITE, .offset = 4096, .iov = w, .iovcnt = 2 };
	if (sync_only) {
		struct result r = { 0 };
		req.done = done;
		req.priv = &r;
		assert_int_equal(blk_submit(b, &req), 0);
		assert_int_equal(r.calls, 1);	/* completed inline */
		assert_int_equal(r.res, 8192);
	} else {
		assert_int_equal(run(b, &req), 8192);
	}
	req = (struct blk_req){ .op = BLK_FLUSH };
	if (!sync_only)
		assert_int_equal(run(b, &req), 0);
	memset(rbuf, 0, sizeof(rbuf));
	req = (struct blk_req){ .op = BLK_READ, .offset = 4096, .iov = &rv, .iovcnt = 1 };
	if (!sync_only)
		assert_int_equal(run(b, &req), 8192);
	else {
		struct result r = { 0 };
		req.done = done;
		req.priv = &r;
		assert_int_equal(blk_submit(b, &req), 0);
	}
	assert_memory_equal(rbuf, wbuf, 8192);
	/* an unaligned guest buffer still works (bounced under O_DIRECT) */
	struct iovec ov = { odd + 1, 512 };
	memset(odd, 0, sizeof(odd));
	struct result r2 = { 0 };
	req = (struct blk_req){ .op = BLK_READ, .offset = 4096, .iov = &ov, .iovcnt = 1,
				.done = done, .priv = &r2 };
	assert_int_equal(blk_submit(b, &req), 0);
	blk_kick(b);
	while (!r2.calls) {
		struct pollfd p = { .fd = blk_event_fd(b), .events = POLLIN };
		if (p.fd >= 0)
			poll(&p, 1, 5000);
		blk_reap(b);
	}
	assert_int_equal(r2.res, 512);
	assert_memory_equal(odd + 1, wbuf, 512);
	/* partial sectors are refused, never half-done */
	ov.iov_len = 100;
	assert_int_equal(blk_submit(b, &req), -EINVAL);
	blk_close(b);
}

/*
 * Regression (issue 9): cache=none bounce buffers were sized by the guest's
 * request length with up to 256 in flight.  40 unaligned 512 KiB reads
 * queued at once: at most BLK_BOUNCE_BUDGET bytes of bounce buffers, the
 * rest done through the fixed chunk, every byte right.
 */
static void test_bounce_budget(void **state)
{
	struct blk_opts o = { .path = img, .direct = true };
	struct blk *b;
	enum { NREQ = 40, LEN = 512 << 10 };
	static struct result res[NREQ];
	static struct blk_req req[NREQ];
	static struct iovec iov[NREQ][2];
	char *buf = malloc((size_t)NREQ * (LEN + 64)), *pat = malloc(1 << 20);
	int fd = open(img, O_RDWR);

	assert_non_null(buf);
	assert_non_null(pat);
	for (int i = 0; i < (1 << 20); i++)
		pat[i] = (char)(i * 13 + 5);
	assert_int_equal(pwrite(fd, pat, 1 << 20, 0), 1 << 20);
	close(fd);
	assert_int_equal(blk_open(&b, &o), 0);
	memset(buf, 0, (size_t)NREQ * (LEN + 64));
	for (int i = 0; i < NREQ; i++) {
		char *p = buf + (size_t)i * (LEN + 64) + 1;	/* unaligned: bounced */
		iov[i][0] = (struct iovec){ p, 1000 };
		iov[i][1] = (struct iovec){ p + 1000, LEN - 1000 };
		req[i] = (struct blk_req){ .op = BLK_READ, .offset = (uint64_t)(i % 2) * LEN,
					   .iov = iov[i], .iovcnt = 2, .done = done, .priv = &res[i] };
		assert_int_equal(blk_submit(b, &req[i]), 0);
	}
	assert_int_equal(blk_kick(b), 0);
	for (int left = 1; left; ) {
		struct pollfd p = { .fd = blk_event_fd(b), .events = POLLIN };
		left = 0;
		for (int i = 0; i < NREQ; i++)
			left += res[i].calls == 0;
		if (left && p.fd >= 0) {
			poll(&p, 1, 5000);
			blk_reap(b);
		}
	}
	print_message("# bounce peak %zu KiB for %d x %d KiB unaligned reads\n",
		      blk_bounce_peak(b) >> 10, NREQ, LEN >> 10);
	assert_true(blk_bounce_peak(b) <= BLK_BOUNCE_BUDGET);
	for (int i = 0; i < NREQ; i++) {
		assert_int_equal(res[i].calls, 1);
		assert_int_equal(res[i].res, LEN);
		assert_memory_equal(buf + (size_t)i * (LEN + 64) + 1, pat + (i % 2) * LEN, LEN);
	}
	/* and a bounced write through the chunk path lands right */
	for (int i = 0; i < NREQ; i++)
		memset(buf + (size_t)i * (LEN + 64) + 1, 'A' + i % 26, LEN);
	memset(res, 0, sizeof(res));
	for (int i = 0; i < 10; i++) {
		req[i] = (struct blk_req){ .op = BLK_WRITE, .offset = (uint64_t)(i % 2) * LEN,
					   .iov = iov[i], .iovcnt = 2, .done = done, .priv = &res[i] };
		assert_int_equal(blk_submit(b, &req[i]), 0);
		assert_int_equal(blk_kick(b), 0);
		while (!res[i].calls) {
			struct pollfd p = { .fd = blk_event_fd(b), .events = POLLIN };
			poll(&p, 1, 5000);
			blk_reap(b);
		}
		assert_int_equal(res[i].res, LEN);
	}
	blk_close(b);
	fd = open(img, O_RDONLY);
	assert_int_equal(pread(fd, pat, 1 << 20, 0), 1 << 20);
	close(fd);
	assert_int_equal(pat[0], 'A' + 8);		/* the last even write */
	assert_int_equal(pat[LEN + 5], 'A' + 9);	/* the last odd write */
	free(buf);
	free(pat);
}

static void test_roundtrip_uring(void **state) { roundtrip(false, false); }
static void test_roundtrip_uring_direct(void **state) { roundtrip(false, true); }
static void test_roundtrip_sync(void **state) { roundtrip(true, false); }

static void test_open_errors(void **state)
{
	struct blk *b;
	char p[128];
	int fd;

	struct blk_opts o = { .path = "/nonexistent/disk.img" };
	assert_int_equal(blk_open(&b, &o), -ENOENT);
	assert_non_null(strstr(err_msg(), "/nonexistent/disk.img"));
	snprintf(p, sizeof(p), "%s/odd.img", dir);
	fd = open(p, O_CREAT | O_RDWR | O_TRUNC, 0644);
	assert_int_equal(ftruncate(fd, 1000), 0);
	close(fd);
	o.path = p;
	assert_int_equal(blk_open(&b, &o), -EINVAL);
	assert_non_null(strstr(err_msg(), "multiple of 512"));
	o.path = dir;
	assert_int_equal(blk_open(&b, &o), -EISDIR);
}

static void test_lock(void **state)
{
	struct blk *a, *b;
	struct blk_opts w = { .path = img }, ro = { .path = img, .readonly = true };

	assert_int_equal(blk_open(&a, &w), 0);
	assert_int_equal(blk_open(&b, &w), -EBUSY);	/* a second writer */
	assert_non_null(strstr(err_msg(), "locked"));
	assert_int_equal(blk_open(&b, &ro), -EBUSY);	/* a reader of a written image */
	blk_close(a);
	assert_int_equal(blk_open(&a, &ro), 0);
	assert_int_equal(blk_open(&b, &ro), 0);		/* readers share */
	blk_close(a);
	blk_close(b);
}

static void test_readonly_and_bounds(void **state)
{
	struct blk *b;
	struct blk_opts o = { .path = img, .readonly = true };
	char buf[512];
	struct iovec v = { buf, sizeof(buf) };
	struct blk_req req = { .op = BLK_WRITE, .iov = &v, .iovcnt = 1, .done = done };

	assert_int_equal(blk_open(&b, &o), 0);
	assert_true(blk_readonly(b));
	assert_int_equal(blk_submit(b, &req), -EROFS);
	req.op = BLK_DISCARD;
	req.len = 512;
	assert_int_equal(blk_submit(b, &req), -EROFS);
	req.op = BLK_READ;
	req.offset = (1 << 20) - 256;			/* runs past the end */
	assert_int_equal(blk_submit(b, &req), -EINVAL);
	req.offset = UINT64_MAX - 10;			/* overflow */
	assert_int_equal(blk_submit(b, &req), -EINVAL);
	blk_close(b);
}

static void test_discard_and_write_zeroes(void **state)
{
	struct blk *b;
	struct blk_opts o = { .path = img };
	static char buf[8192];
	struct iovec v = { buf, sizeof(buf) };
	struct blk_req req;

	assert_int_equal(blk_open(&b, &o), 0);
	memset(buf, 0xab, sizeof(buf));
	req = (struct blk_req){ .op = BLK_WRITE, .offset = 65536, .iov = &v, .iovcnt = 1 };
	assert_int_equal(run(b, &req), 8192);
	req = (struct blk_req){ .op = BLK_WRITE_ZEROES, .offset = 65536, .len = 4096 };
	assert_int_equal(run(b, &req), 0);
	req = (struct blk_req){ .op = BLK_DISCARD, .offset = 65536 + 4096, .len = 4096 };
	assert_int_equal(run(b, &req), 0);
	memset(buf, 0x55, sizeof(buf));
	req = (struct blk_req){ .op = BLK_READ, .offset = 65536, .iov = &v, .iovcnt = 1 };
	assert_int_equal(run(b, &req), 8192);
	for (int i = 0; i < 8192; i++)
		assert_int_equal(buf[i], 0);
	blk_close(b);
}

static void test_batching(void **state)
{
	struct blk *b;
	struct blk_opts o = { .path = img };
	static char bufs[64][512];
	struct iovec v[64];
	struct blk_req reqs[64];
	struct result r[64];
	int total = 0;

	assert_int_equal(blk_open(&b, &o), 0);
	for (int i = 0; i < 64; i++) {
		memset(bufs[i], i, 512);
		v[i] = (struct iovec){ bufs[i], 512 };
		r[i] = (struct result){ 0 };
		reqs[i] = (struct blk_req){ .op = BLK_WRITE, .offset = 512ULL * i, .iov = &v[i],
					    .iovcnt = 1, .done = done, .priv = &r[i] };
		assert_int_equal(blk_submit(b, &reqs[i]), 0);
	}
	assert_int_equal(blk_kick(b), 0);		/* one submission for 64 */
	while (total < 64) {
		struct pollfd p = { .fd = blk_event_fd(b), .events = POLLIN };
		assert_true(poll(&p, 1, 5000) == 1);
		total += blk_reap(b);
	}
	for (int i = 0; i < 64; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_int_equal(r[i].res, 512);
	}
	blk_close(b);
}

/* A file of size bytes whose first sector starts with tag. */
static void make_image(const char *path, off_t size, const char *tag)
{
	int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	assert_int_equal(pwrite(fd, tag, strlen(tag), 0), (ssize_t)strlen(tag));
	close(fd);
}

static void read_tag(struct blk *b, char *buf)
{
	struct iovec iov = { buf, 512 };
	struct blk_req rq = { .op = BLK_READ, .offset = 0, .len = 512, .iov = &iov, .iovcnt = 1 };

	assert_int_equal(run(b, &rq), 512);
}

/* A media change: a bad medium leaves the disk alone; a good one drains
 * what is in flight on the old file, and reads, size and lock follow the
 * new one; the file in use again (grown) keeps its lock. */
static void test_media_change(void **state)
{
	char a[128], b2[128], buf[512] __attribute__((aligned(512)));
	struct blk_opts o = { .path = a };
	struct blk_medium m;
	struct blk *b, *other;
	struct result pend = { 0 };
	struct iovec iov = { buf, 512 };
	struct blk_req rq = { .op = BLK_READ, .offset = 0, .len = 512, .iov = &iov, .iovcnt = 1,
			      .done = done, .priv = &pend };

	snprintf(a, sizeof(a), "%s/a.img", dir);
	snprintf(b2, sizeof(b2), "%s/b.img", dir);
	make_image(a, 1 << 20, "MEDIUM-A");
	make_image(b2, 2 << 20, "MEDIUM-B");
	assert_int_equal(blk_open(&b, &o), 0);
	read_tag(b, buf);
	assert_memory_equal(buf, "MEDIUM-A", 8);

	/* bad media: nothing changes */
	assert_int_equal(blk_medium_open(b, "/nonexistent/x.img", &m), -ENOENT);
	assert_int_equal(m.fd, -1);
	assert_int_equal(blk_medium_open(b, dir, &m), -EISDIR);	/* a directory */
	make_image(b2, 1000, "SHORT");	/* not whole sectors */
	assert_int_equal(blk_medium_open(b, b2, &m), -EINVAL);
	make_image(b2, 2 << 20, "MEDIUM-B");
	assert_int_equal(blk_size(b), 1 << 20);

	/* a request in flight on the old file is answered by the swap */
	assert_int_equal(blk_submit(b, &rq), 0);
	assert_int_equal(blk_medium_open(b, b2, &m), 0);
	blk_medium_swap(b, &m);
	assert_int_equal(m.fd, -1);
	assert_int_equal(pend.calls, 1);
	assert_int_equal(pend.res, 512);
	assert_memory_equal(buf, "MEDIUM-A", 8);
	assert_int_equal(blk_size(b), 2 << 20);
	read_tag(b, buf);
	assert_memory_equal(buf, "MEDIUM-B", 8);
	/* the old file's lock went with it; the new one is locked */
	o.path = a;
	assert_int_equal(blk_open(&other, &o), 0);
	blk_close(other);
	o.path = b2;
	assert_int_equal(blk_open(&other, &o), -EBUSY);

	/* the same file, grown on the host: a new size, the lock kept */
	assert_int_equal(truncate(b2, 3 << 20), 0);
	assert_int_equal(blk_medium_open(b, b2, &m), 0);
	blk_medium_swap(b, &m);
	assert_int_equal(blk_size(b), 3 << 20);
	assert_int_equal(blk_open(&other, &o), -EBUSY);
	/* an opened medium that is not used is closed */
	o.path = a;
	assert_int_equal(blk_medium_open(b, a, &m), 0);
	blk_medium_discard(&m);
	assert_int_equal(m.fd, -1);
	assert_int_equal(blk_open(&other, &o), 0);	/* its lock is gone too */
	blk_close(other);
	blk_close(b);
}

TEST_MAIN(setup, teardown,
	  TEST(test_roundtrip_uring), TEST(test_roundtrip_uring_direct), TEST(test_roundtrip_sync),
	  TEST(test_open_errors), TEST(test_lock), TEST(test_readonly_and_bounds),
	  TEST(test_discard_and_write_zeroes), TEST(test_batching),
	  TEST(test_bounce_budget), TEST(test_media_change))
