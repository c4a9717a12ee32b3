/* Unit tests for the raw image loader's checks (no KVM needed). */
#include "unit.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "boot/raw.h"
#include "err.h"


static const char *make_file(const char *name, size_t size)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", test_dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	for (size_t i = 0; i < size; i++)
		fputc((int)(i & 0xff), f);
	fclose(f);
	return path;
}

static int setup(void **state)
{
	return test_dir_make("raw");
}

static int teardown(void **state)
{
	return test_dir_remove();
}

static void test_default_address(void **state)
{
	struct raw_image img;
	const char *p = make_file("boot.bin", 512);

	assert_int_equal(raw_open(p, &img), 0);
	assert_int_equal(img.addr, 0x7c00);
	assert_int_equal(img.size, 512);
	assert_int_equal(img.data[511], 0xff);
	raw_free(&img);
}

static void test_explicit_address(void **state)
{
	struct raw_image img;
	char arg[160];

	snprintf(arg, sizeof(arg), "%s@0x1000", make_file("a.bin", 16));
	assert_int_equal(raw_open(arg, &img), 0);
	assert_int_equal(img.addr, 0x1000);
	raw_free(&img);
	snprintf(arg, sizeof(arg), "%s@4096", make_file("a.bin", 16));
	assert_int_equal(raw_open(arg, &img), 0);
	assert_int_equal(img.addr, 4096);
	raw_free(&img);
}

static void test_at_in_file_name(void **state)
{
	struct raw_image img;

	/* an '@' not followed by a number belongs to the file name */
	assert_int_equal(raw_open(make_file("me@home.bin", 8), &img), 0);
	assert_int_equal(img.addr, 0x7c00);
	raw_free(&img);
}

static void test_bad_addresses(void **state)
{
	struct raw_image img;
	char arg[160];
	const char *p = make_file("a.bin", 16);

	snprintf(arg, sizeof(arg), "%s@0x10000", p);
	assert_int_equal(raw_open(arg, &img), -EINVAL);
	assert_non_null(strstr(err_msg(), "bad load address"));
	snprintf(arg, sizeof(arg), "%s@12zz", p);
	assert_int_equal(raw_open(arg, &img), -EINVAL);
	snprintf(arg, sizeof(arg), "%s@99999999999999999999999", p);
	assert_int_equal(raw_open(arg, &img), -EINVAL);
}

static void test_too_big(void **state)
{
	struct raw_image img;
	char arg[160];

	/* exactly up to 0xA0000 fits; one byte more does not */
	assert_int_equal(raw_open(make_file("fit.bin", 0xA0000 - 0x7c00), &img), 0);
	raw_free(&img);
	assert_int_equal(raw_open(make_file("big.bin", 0xA0000 - 0x7c00 + 1), &img), -EFBIG);
	assert_non_null(strstr(err_msg(), "does not fit"));
	snprintf(arg, sizeof(arg), "%s@0xffff", make_file("b.bin", 0xA0000 - 0xffff + 1));
	assert_int_equal(raw_open(arg, &img), -EFBIG);
}

static void test_missing_empty_dir(void **state)
{
	struct raw_image img;

	assert_int_equal(raw_open("/nonexistent/hyve.bin", &img), -ENOENT);
	assert_non_null(strstr(err_msg(), "/nonexistent/hyve.bin"));
	assert_int_equal(raw_open(make_file("empty.bin", 0), &img), -EINVAL);
	assert_non_null(strstr(err_msg(), "empty"));
	assert_int_equal(raw_open(test_dir, &img), -EINVAL);
	assert_non_null(strstr(err_msg(), "not a regular file"));
	assert_int_equal(raw_open("@0x1000", &img), -EINVAL);
}

TEST_MAIN(setup, teardown,
	  TEST(test_default_address), TEST(test_explicit_address), TEST(test_at_in_file_name),
	  TEST(test_bad_addresses), TEST(test_too_big), TEST(test_missing_empty_dir))
