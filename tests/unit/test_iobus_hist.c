/*
 * Unit tests for the handler-time histograms behind /hyve/stats and
 * `hyve ctl top`: the log2 bucket of a duration, and a bus with timing on
 * counting every access in exactly one bucket.
 */
#include "unit.h"
#include <time.h>
#include "iobus.h"

static void test_bucket(void **state)
{
	assert_int_equal(io_hist_bucket(0), 0);
	assert_int_equal(io_hist_bucket(1), 0);
	assert_int_equal(io_hist_bucket(2), 1);
	assert_int_equal(io_hist_bucket(3), 1);
	assert_int_equal(io_hist_bucket(1000), 9);	/* 512..1023 */
	assert_int_equal(io_hist_bucket(1024), 10);
	assert_int_equal(io_hist_bucket(1ULL << 31), IO_HIST_BUCKETS - 1);
	assert_int_equal(io_hist_bucket(UINT64_MAX), IO_HIST_BUCKETS - 1);
}

static int slow_handler(void *arg, bool write, uint64_t offset, unsigned size, uint64_t *val)
{
	struct timespec ts = { 0, 200000 };	/* 200 us */

	if (offset == 1)
		nanosleep(&ts, NULL);
	if (!write)
		*val = 0;
	return 0;
}

static void test_bus_histogram(void **state)
{
	struct iobus bus;
	const struct io_table *t;
	uint64_t v = 0, sum = 0, slow = 0;

	iobus_init(&bus, "pio", 0x10000, 4);
	bus.timing = true;
	assert_int_equal(iobus_register(&bus, "dev", 0x100, 4, IO_READ | IO_WRITE, slow_handler, NULL), 0);
	for (int i = 0; i < 100; i++)
		iobus_access(&bus, i & 1, 0x100, 1, &v);
	for (int i = 0; i < 3; i++)
		iobus_access(&bus, false, 0x101, 1, &v);
	t = iobus_table(&bus);
	assert_int_equal(t->n, 1);
	for (int b = 0; b < IO_HIST_BUCKETS; b++) {
		sum += t->r[0].st->hist[b];
		if (b >= 17)	/* >= 131 us */
			slow += t->r[0].st->hist[b];
	}
	assert_int_equal(sum, 103);
	assert_int_equal(t->r[0].st->reads + t->r[0].st->writes, 103);
	assert_true(slow >= 3);	/* the three 200 us accesses (a loaded host may add some) */
	iobus_destroy(&bus);
}

TEST_MAIN(NULL, NULL,
	  TEST(test_bucket), TEST(test_bus_histogram))
