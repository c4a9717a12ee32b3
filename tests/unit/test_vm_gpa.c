/* Unit tests for the checked guest-memory accessor vm_gpa(). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "vm.h"

static uint8_t low[0xA0000 / 64], high[4096];

static void layout(struct vm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->mem[0] = (struct mem_region){ 0, sizeof(low), low };
	vm->mem[1] = (struct mem_region){ GUEST_HIGH_START, sizeof(high), high };
	vm->mem[2] = (struct mem_region){ GUEST_4G, sizeof(high), high };
	vm->nmem = 3;
}

static void test_inside(void **state)
{
	struct vm vm;

	layout(&vm);
	assert_ptr_equal(vm_gpa(&vm, 0, 1), low);
	assert_ptr_equal(vm_gpa(&vm, 16, sizeof(low) - 16), low + 16);
	assert_ptr_equal(vm_gpa(&vm, GUEST_HIGH_START + 10, 20), high + 10);
	assert_ptr_equal(vm_gpa(&vm, GUEST_4G, sizeof(high)), high);
	/* an empty range at the very end is still inside */
	assert_ptr_equal(vm_gpa(&vm, sizeof(low), 0), low + sizeof(low));
}

static void test_outside(void **state)
{
	struct vm vm;

	layout(&vm);
	assert_null(vm_gpa(&vm, sizeof(low), 1));		/* just past the end */
	assert_null(vm_gpa(&vm, sizeof(low) - 1, 2));		/* straddles the end */
	assert_null(vm_gpa(&vm, 0xB8000, 2));			/* legacy hole */
	assert_null(vm_gpa(&vm, GUEST_HIGH_START - 1, 2));	/* straddles a start */
	assert_null(vm_gpa(&vm, GUEST_HIGH_START, sizeof(high) + 1));
}

static void test_overflow(void **state)
{
	struct vm vm;

	layout(&vm);
	/* lengths and addresses chosen so that gpa + len wraps */
	assert_null(vm_gpa(&vm, 16, UINT64_MAX));
	assert_null(vm_gpa(&vm, 16, UINT64_MAX - 15));
	assert_null(vm_gpa(&vm, UINT64_MAX, 2));
	assert_null(vm_gpa(&vm, UINT64_MAX - 4096, 4097));
	assert_null(vm_gpa(&vm, GUEST_4G + 1, UINT64_MAX));
	assert_null(vm_gpa(&vm, 1ULL << 32, 1ULL << 63));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inside),
		cmocka_unit_test(test_outside),
		cmocka_unit_test(test_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
