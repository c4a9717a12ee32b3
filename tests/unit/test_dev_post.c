/* Unit tests for the POST port 0x80 latch (src/dev/post.c). */
#include "unit.h"
#include <errno.h>
#include <string.h>
#include "dev.h"
#include "iobus.h"
#include "vm.h"
#include "testvm.h"
#include "dev/post.h"

static uint64_t rd(struct post *p, uint64_t off, unsigned size)
{
	uint64_t v = 0x1234;

	assert_int_equal(post_io(p, false, off, size, &v), 0);
	return v;
}

static void wr(struct post *p, uint64_t off, unsigned size, uint64_t val)
{
	assert_int_equal(post_io(p, true, off, size, &val), 0);
}

static void test_latch(void **state)
{
	struct post *p;

	assert_int_equal(post_create(&p), 0);
	assert_int_equal(rd(p, 0, 1), 0xff);		/* never written */
	for (unsigned v = 0; v < 256; v++) {
		wr(p, 0, 1, v);
		assert_int_equal(rd(p, 0, 1), v);
		assert_int_equal(post_last(p), v);
	}
	wr(p, 0, 1, 0x1a5);				/* low byte only */
	assert_int_equal(rd(p, 0, 1), 0xa5);
	post_destroy(p);
}

static void test_bad_accesses(void **state)
{
	struct post *p;

	assert_int_equal(post_create(&p), 0);
	wr(p, 0, 1, 0x42);
	for (unsigned size = 0; size <= 8; size++) {
		if (size == 1)
			continue;
		assert_int_equal(rd(p, 0, size), ~0ULL);
		wr(p, 0, size, 0x99);
	}
	assert_int_equal(rd(p, 1, 1), ~0ULL);
	assert_int_equal(rd(p, UINT64_MAX, 1), ~0ULL);
	wr(p, 1, 1, 0x99);
	wr(p, UINT64_MAX, 1, 0x99);
	assert_int_equal(rd(p, 0, 1), 0x42);		/* nothing latched */
	post_destroy(p);
}

static void test_device_init(void **state)
{
	const struct io_range *r;
	uint64_t v;
	struct vm *vm = testvm_with("post", NULL);

	r = iobus_find(PIO(vm), 0x80, 1);
	assert_non_null(r);
	assert_string_equal(r->name, "post");
	assert_int_equal(r->len, 1);
	v = 0x5c;
	assert_int_equal(iobus_access(PIO(vm), true, 0x80, 1, &v), 0);
	assert_int_equal(iobus_access(PIO(vm), false, 0x80, 1, &v), 0);
	assert_int_equal(v, 0x5c);
	/* a 2-byte access does not fit the 1-port range: unclaimed */
	assert_int_equal(iobus_access(PIO(vm), false, 0x80, 2, &v), -ENOENT);
	vm_destroy(vm);
}

TEST_MAIN(NULL, NULL,
	  TEST(test_latch), TEST(test_bad_accesses), TEST(test_device_init))
