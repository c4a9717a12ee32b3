/*
 * Unit tests for bhyve's paravirtual console (src/dev/bvmcons.c): signature,
 * output, input, no input, and every other width / offset.
 */
#include "unit.h"
#include <string.h>
#include "console.h"
#include "dev.h"
#include "iobus.h"
#include "vm.h"
#include "testvm.h"
#include "testdev.h"
#include "dev/bvmcons.h"

TESTDEV_CON_FIXTURE(struct bvmcons, bc, bvmcons_create, bvmcons_destroy)

static uint64_t rd(struct fix *f, uint64_t off, unsigned size)
{
	uint64_t v = 0x1234;

	assert_int_equal(bvmcons_io(f->bc, false, off, size, &v), 0);
	return v;
}

static void wr(struct fix *f, uint64_t off, unsigned size, uint64_t val)
{
	assert_int_equal(bvmcons_io(f->bc, true, off, size, &val), 0);
}

static void test_signature(void **state)
{
	struct fix *f = *state;

	assert_int_equal(rd(f, 0, 2), 0x6276);
	assert_int_equal(rd(f, 0, 2), BVMCONS_SIG);	/* stable */
}

static void test_output(void **state)
{
	struct fix *f = *state;
	size_t len;

	wr(f, 0, 4, 'o');
	wr(f, 0, 4, 0xabcdef00 | 'k');		/* only the low byte */
	wr(f, 0, 4, 0);				/* NUL is a byte too */
	assert_string_equal(console_memory_output(f->con, &len), "ok");
	assert_int_equal(len, 3);
}

static void test_input(void **state)
{
	struct fix *f = *state;

	assert_int_equal(rd(f, 0, 4), 0xffffffff);	/* nothing yet */
	console_memory_input(f->con, "a\xff", 2);
	assert_int_equal(rd(f, 0, 4), 'a');
	assert_int_equal(rd(f, 0, 4), 0xff);		/* a byte, not "none" */
	assert_int_equal(rd(f, 0, 4), 0xffffffff);
	assert_int_equal(rd(f, 0, 4), 0xffffffff);
}

static void test_other_accesses(void **state)
{
	struct fix *f = *state;
	size_t len;

	console_memory_input(f->con, "q", 1);
	/* 1-byte probes, 8-byte, 0-byte and odd offsets: all ones */
	assert_int_equal(rd(f, 0, 1), ~0ULL);
	assert_int_equal(rd(f, 0, 8), ~0ULL);
	assert_int_equal(rd(f, 0, 0), ~0ULL);
	for (uint64_t off = 1; off < 4; off++)
		for (unsigned size = 1; size <= 4; size++)
			assert_int_equal(rd(f, off, size), ~0ULL);
	assert_int_equal(rd(f, UINT64_MAX, 4), ~0ULL);
	/* writes other than 4 bytes at 0 go nowhere */
	wr(f, 0, 1, 'x');
	wr(f, 0, 2, 'x');
	wr(f, 0, 8, 'x');
	wr(f, 1, 1, 'x');
	wr(f, 2, 2, 'x');
	wr(f, 3, 4, 'x');
	wr(f, UINT64_MAX, 4, 'x');
	console_memory_output(f->con, &len);
	assert_int_equal(len, 0);
	/* and none of them consumed the input */
	assert_int_equal(rd(f, 0, 4), 'q');
}

/* The DEVICE() declaration, reached through a port bus. */
static void test_device_init(void **state)
{
	struct fix *f = *state;
	uint64_t v;
	struct vm *vm = testvm_with("bvmcons", f->con);

	assert_range(PIO(vm), 0x220, 4, "bvmcons", 0x220, 4);
	assert_null(iobus_find(PIO(vm), 0x224, 1));
	assert_null(iobus_find(PIO(vm), 0x21f, 1));
	assert_int_equal(iobus_access(PIO(vm), false, 0x220, 2, &v), 0);
	assert_int_equal(v, 0x6276);
	v = '!';
	assert_int_equal(iobus_access(PIO(vm), true, 0x220, 4, &v), 0);
	assert_string_equal(console_memory_output(f->con, NULL), "!");
	assert_int_equal(iobus_access(PIO(vm), false, 0x220, 4, &v), 0);
	assert_int_equal(v, 0xffffffff);
	assert_int_equal(iobus_access(PIO(vm), false, 0x222, 2, &v), 0);
	assert_int_equal(v, 0xffff);
	vm_destroy(vm);
}

TEST_MAIN(NULL, NULL,
	  TEST_FIX(test_signature), TEST_FIX(test_output), TEST_FIX(test_input),
	  TEST_FIX(test_other_accesses), TEST_FIX(test_device_init))
