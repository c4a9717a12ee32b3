/* Unit tests for size and number parsing. */
#include "unit.h"
#include <errno.h>
#include "util.h"

static void test_sizes(void **state)
{
	static const struct { const char *s; uint64_t v; } good[] = {
		{ "256M", 256ULL << 20 }, { "2G", 2ULL << 30 }, { "2g", 2ULL << 30 },
		{ "64K", 65536 }, { "1T", 1ULL << 40 }, { "512MiB", 512ULL << 20 },
		{ "4096", 4096 },
	};
	uint64_t v;

	for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(parse_size(good[i].s, &v), 0);
		assert_int_equal(v, good[i].v);
	}
}

static void test_bad_sizes(void **state)
{
	uint64_t v;

	assert_int_equal(parse_size("", &v), -EINVAL);
	assert_int_equal(parse_size("M", &v), -EINVAL);
	assert_int_equal(parse_size("12Q", &v), -EINVAL);
	assert_int_equal(parse_size("-1", &v), -EINVAL);
	assert_int_equal(parse_size(" 1M", &v), -EINVAL);
	assert_int_equal(parse_size("1M ", &v), -EINVAL);
	assert_int_equal(parse_size("1MM", &v), -EINVAL);
	assert_int_equal(parse_size("1.5G", &v), -EINVAL);
	assert_int_equal(parse_size("99999999999999999999", &v), -ERANGE);
	assert_int_equal(parse_size("99999999999T", &v), -ERANGE);
	assert_int_equal(parse_size(NULL, &v), -EINVAL);
}

static void test_numbers(void **state)
{
	uint64_t v;

	assert_int_equal(parse_u64("0x7c00", &v), 0);
	assert_int_equal(v, 0x7c00);
	assert_int_equal(parse_u64("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_u64("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_u64("0x", &v), -EINVAL);
	assert_int_equal(parse_u64("12abc", &v), -EINVAL);
	assert_int_equal(parse_u64("-3", &v), -EINVAL);
	assert_int_equal(parse_u64("", &v), -EINVAL);
	assert_int_equal(parse_u64("0x10000000000000000", &v), -ERANGE);
}

TEST_MAIN(NULL, NULL,
	  TEST(test_sizes), TEST(test_bad_sizes), TEST(test_numbers))
