/* Unit tests for the CMOS RTC: host time in BCD/binary, setting the time, NMI mask, bad input. */
#include "unit.h"
#include <time.h>
#include "dev/rtc.h"

static time_t fake_now_value;
static time_t fake_now(void)
{
	return fake_now_value;
}

static uint8_t rd(struct rtc *r, uint8_t reg)
{
	uint64_t v = reg;

	rtc_io(r, true, 0, 1, &v);
	rtc_io(r, false, 1, 1, &v);
	return (uint8_t)v;
}

static void wr(struct rtc *r, uint8_t reg, uint8_t val)
{
	uint64_t v = reg;

	rtc_io(r, true, 0, 1, &v);
	v = val;
	rtc_io(r, true, 1, 1, &v);
}

static void test_host_time_bcd(void **state)
{
	struct rtc *r;

	fake_now_value = 1795602896;	/* 2026-11-25 10:34:56 UTC, a Wednesday */
	assert_int_equal(rtc_create(&r, fake_now), 0);
	assert_int_equal(rd(r, 0x00), 0x56);
	assert_int_equal(rd(r, 0x02), 0x34);
	assert_int_equal(rd(r, 0x04), 0x10);
	assert_int_equal(rd(r, 0x06), 0x04);	/* Sunday = 1 */
	assert_int_equal(rd(r, 0x07), 0x25);
	assert_int_equal(rd(r, 0x08), 0x11);
	assert_int_equal(rd(r, 0x09), 0x26);
	assert_int_equal(rd(r, 0x32), 0x20);
	assert_int_equal(rd(r, 0x0a) & 0x80, 0);	/* no update in progress */
	assert_int_equal(rd(r, 0x0b), 0x02);	/* 24h BCD */
	assert_int_equal(rd(r, 0x0d), 0x80);	/* valid */
	rtc_destroy(r);
}

static void test_binary_and_12h(void **state)
{
	struct rtc *r;

	fake_now_value = 1795602896 + 3 * 3600;	/* 13:34:56 */
	assert_int_equal(rtc_create(&r, fake_now), 0);
	wr(r, 0x0b, 0x04);			/* binary, 12-hour */
	assert_int_equal(rd(r, 0x00), 56);
	assert_int_equal(rd(r, 0x04), 0x80 | 1);	/* 1 PM */
	rtc_destroy(r);
}

static void test_set_time_moves_offset_only(void **state)
{
	struct rtc *r;

	fake_now_value = 1795602896;
	assert_int_equal(rtc_create(&r, fake_now), 0);
	wr(r, 0x09, 0x30);			/* year 2030 */
	wr(r, 0x04, 0x23);			/* 23h */
	assert_int_equal(rd(r, 0x09), 0x30);
	assert_int_equal(rd(r, 0x04), 0x23);
	fake_now_value += 60;			/* the clock keeps running */
	assert_int_equal(rd(r, 0x02), 0x35);
	/* out-of-range values are ignored */
	wr(r, 0x08, 0x13);
	assert_int_equal(rd(r, 0x08), 0x11);
	rtc_destroy(r);
}

static void test_ram_status_and_nmi(void **state)
{
	struct rtc *r;
	uint64_t v;

	assert_int_equal(rtc_create(&r, fake_now), 0);
	wr(r, 0x40, 0xab);
	assert_int_equal(rd(r, 0x40), 0xab);
	wr(r, 0x0c, 0xff);			/* read-only */
	assert_int_equal(rd(r, 0x0c), 0);
	wr(r, 0x0d, 0x00);
	assert_int_equal(rd(r, 0x0d), 0x80);
	assert_false(rtc_nmi_masked(r));
	v = 0x80 | 0x40;			/* NMI off, index 0x40 */
	rtc_io(r, true, 0, 1, &v);
	assert_true(rtc_nmi_masked(r));
	rtc_io(r, false, 1, 1, &v);
	assert_int_equal(v, 0xab);		/* index bits 0-6 still select */
	rtc_destroy(r);
}

static void test_bad_widths(void **state)
{
	struct rtc *r;
	uint64_t v = 0x1234;

	assert_int_equal(rtc_create(&r, fake_now), 0);
	assert_int_equal(rtc_io(r, false, 0, 2, &v), 0);
	assert_int_equal(v, ~0ULL);
	v = 0x55;
	assert_int_equal(rtc_io(r, true, 1, 4, &v), 0);
	assert_int_equal(rtc_io(r, false, 5, 1, &v), 0);
	assert_int_equal(v, ~0ULL);
	/* every index, including 0x7f and NMI-bit ones, is safe */
	for (unsigned i = 0; i < 256; i++) {
		wr(r, (uint8_t)i, 0xff);
		(void)rd(r, (uint8_t)i);
	}
	rtc_destroy(r);
}

TEST_MAIN(NULL, NULL,
	  TEST(test_host_time_bcd), TEST(test_binary_and_12h),
	  TEST(test_set_time_moves_offset_only), TEST(test_ram_status_and_nmi),
	  TEST(test_bad_widths))
