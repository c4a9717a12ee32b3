/*
 * Unit tests for guest memory (src/mem.c): the one checked accessor
 * mem_gpa() on hand-placed regions, the PC layout, and vm_gpa() on a real
 * VM built without KVM.
 */
#include "unit.h"
#include <string.h>
#include "mem.h"
#include "vm.h"
#include "testvm.h"

static uint8_t low[0xA0000 / 64], high[4096];

static void layout(struct guest_mem *m)
{
	memset(m, 0, sizeof(*m));
	m->r[0] = (struct mem_region){ 0, sizeof(low), low };
	m->r[1] = (struct mem_region){ GUEST_HIGH_START, sizeof(high), high };
	m->r[2] = (struct mem_region){ GUEST_4G, sizeof(high), high };
	m->n = 3;
}

static void test_inside(void **state)
{
	struct guest_mem m;

	layout(&m);
	assert_ptr_equal(mem_gpa(&m, 0, 1), low);
	assert_ptr_equal(mem_gpa(&m, 16, sizeof(low) - 16), low + 16);
	assert_ptr_equal(mem_gpa(&m, GUEST_HIGH_START + 10, 20), high + 10);
	assert_ptr_equal(mem_gpa(&m, GUEST_4G, sizeof(high)), high);
	/* an empty range at the very end is still inside */
	assert_ptr_equal(mem_gpa(&m, sizeof(low), 0), low + sizeof(low));
}

static void test_outside(void **state)
{
	struct guest_mem m;

	layout(&m);
	assert_null(mem_gpa(&m, sizeof(low), 1));		/* just past the end */
	assert_null(mem_gpa(&m, sizeof(low) - 1, 2));		/* straddles the end */
	assert_null(mem_gpa(&m, 0xB8000, 2));			/* legacy hole */
	assert_null(mem_gpa(&m, GUEST_HIGH_START - 1, 2));	/* straddles a start */
	assert_null(mem_gpa(&m, GUEST_HIGH_START, sizeof(high) + 1));
}

static void test_overflow(void **state)
{
	struct guest_mem m;

	layout(&m);
	/* lengths and addresses chosen so that gpa + len wraps */
	assert_null(mem_gpa(&m, 16, UINT64_MAX));
	assert_null(mem_gpa(&m, 16, UINT64_MAX - 15));
	assert_null(mem_gpa(&m, UINT64_MAX, 2));
	assert_null(mem_gpa(&m, UINT64_MAX - 4096, 4097));
	assert_null(mem_gpa(&m, GUEST_4G + 1, UINT64_MAX));
	assert_null(mem_gpa(&m, 1ULL << 32, 1ULL << 63));
}

static void test_overlaps(void **state)
{
	struct guest_mem m;

	layout(&m);
	assert_true(mem_overlaps(&m, 0, 1));
	assert_true(mem_overlaps(&m, sizeof(low) - 1, 100));
	assert_false(mem_overlaps(&m, sizeof(low), GUEST_HIGH_START - sizeof(low)));
	assert_true(mem_overlaps(&m, sizeof(low), GUEST_HIGH_START - sizeof(low) + 1));
	assert_true(mem_overlaps(&m, 0x90000, UINT64_MAX - 0x90000));	/* covers all */
	assert_false(mem_overlaps(&m, GUEST_HIGH_START + sizeof(high), 4096));
	assert_false(mem_overlaps(&m, 0, 0));
}

/* The PC layout: the holes stay holes, the BIOS area only when asked. */
static void test_layout(void **state)
{
	uint8_t *host = (uint8_t *)(uintptr_t)(1ULL << 40);	/* never dereferenced */
	struct guest_mem m;

	mem_layout(&m, host, 256ULL << 20, false);
	assert_int_equal(m.n, 2);
	assert_int_equal(m.r[0].gpa, 0);
	assert_int_equal(m.r[0].size, GUEST_LOW_END);
	assert_int_equal(m.r[1].gpa, GUEST_HIGH_START);
	assert_int_equal(m.r[1].size, (256ULL << 20) - GUEST_HIGH_START);
	assert_ptr_equal(m.r[1].host, host + GUEST_HIGH_START);

	mem_layout(&m, host, 256ULL << 20, true);
	assert_int_equal(m.n, 3);
	assert_int_equal(m.r[1].gpa, GUEST_ROM_START);
	assert_ptr_equal(mem_gpa(&m, GUEST_BIOS_START, 16), host + GUEST_BIOS_START);
	assert_null(mem_gpa(&m, GUEST_LOW_END, 1));		/* VGA hole */

	mem_layout(&m, host, 5ULL << 30, false);		/* above 4 GiB */
	assert_int_equal(m.n, 3);
	assert_int_equal(m.r[1].size, GUEST_PCI_HOLE - GUEST_HIGH_START);
	assert_int_equal(m.r[2].gpa, GUEST_4G);
	assert_int_equal(m.r[2].size, (5ULL << 30) - GUEST_PCI_HOLE);
	assert_ptr_equal(m.r[2].host, host + GUEST_PCI_HOLE);
	assert_null(mem_gpa(&m, GUEST_PCI_HOLE, 1));		/* PCI hole */

	mem_layout(&m, host, 512 << 10, false);			/* under 640 KiB */
	assert_int_equal(m.n, 1);
	assert_int_equal(m.r[0].size, 512 << 10);
}

/* vm_gpa is mem_gpa on the VM's own RAM, which is really there. */
static void test_vm(void **state)
{
	struct vm *vm = TEST_VM(.mem_size = 4ULL << 20);
	uint8_t *p = vm_gpa(vm, GUEST_HIGH_START, 3ULL << 20);

	assert_non_null(p);
	memset(p, 0x5a, 3ULL << 20);
	assert_ptr_equal(vm_gpa(vm, 0, 1) + GUEST_HIGH_START, p);
	assert_null(vm_gpa(vm, GUEST_HIGH_START, (3ULL << 20) + 1));
	assert_null(vm_gpa(vm, GUEST_LOW_END, 1));
	assert_ptr_equal(vm_gpa(vm, GUEST_HIGH_START, 1),
			 mem_gpa(vm_memory(vm), GUEST_HIGH_START, 1));
	assert_true(vm_ram_overlaps(vm, 0x3fffff, 2));
	assert_false(vm_ram_overlaps(vm, 4ULL << 20, 4096));
	assert_int_equal(vm_mem_size(vm), 4ULL << 20);
	vm_destroy(vm);
}

TEST_MAIN(NULL, NULL,
	  TEST(test_inside), TEST(test_outside), TEST(test_overflow), TEST(test_overlaps),
	  TEST(test_layout), TEST(test_vm))
