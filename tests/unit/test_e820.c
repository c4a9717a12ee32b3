/* Unit tests for the guest memory map (src/boot/e820.c). */
#include "unit.h"
#include <errno.h>
#include "boot/e820.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static void check(const struct e820_entry *e, uint64_t addr, uint64_t size, uint32_t type)
{
	assert_int_equal(e->addr, addr);
	assert_int_equal(e->size, size);
	assert_int_equal(e->type, type);
}

/* The three entries every map starts with (for mem >= 0x9FC00). */
static void check_low(const struct e820_entry *m)
{
	check(&m[0], 0, 0x9FC00, E820_RAM);
	check(&m[1], 0x9FC00, 0x400, E820_RESERVED);
	check(&m[2], 0xE0000, 0x20000, E820_RESERVED);
}

static void test_64m(void **state)
{
	struct e820_entry m[E820_MAX];

	assert_int_equal(e820_build(64 * MiB, m, E820_MAX), 4);
	check_low(m);
	check(&m[3], MiB, 63 * MiB, E820_RAM);
	assert_int_equal(e820_low_ram_end(64 * MiB), 64 * MiB);
}

static void test_256m_default(void **state)
{
	struct e820_entry m[E820_MAX];

	assert_int_equal(e820_build(256 * MiB, m, E820_MAX), 4);
	check_low(m);
	check(&m[3], MiB, 255 * MiB, E820_RAM);
}

static void test_3g_exactly(void **state)
{
	struct e820_entry m[E820_MAX];

	/* All of it fits below the PCI hole: no entry at 4 GiB. */
	assert_int_equal(e820_build(3 * GiB, m, E820_MAX), 4);
	check_low(m);
	check(&m[3], MiB, 3 * GiB - MiB, E820_RAM);
	assert_int_equal(e820_low_ram_end(3 * GiB), 3 * GiB);
}

static void test_5g(void **state)
{
	struct e820_entry m[E820_MAX];

	assert_int_equal(e820_build(5 * GiB, m, E820_MAX), 5);
	check_low(m);
	check(&m[3], MiB, 3 * GiB - MiB, E820_RAM);
	check(&m[4], 4 * GiB, 2 * GiB, E820_RAM);	/* the 2 GiB above 3 GiB */
	assert_int_equal(e820_low_ram_end(5 * GiB), 3 * GiB);
}

static void test_tiny(void **state)
{
	struct e820_entry m[E820_MAX];

	/* 1 MiB: nothing above 1 MiB */
	assert_int_equal(e820_build(MiB, m, E820_MAX), 3);
	check_low(m);
	/* 2 MiB: one MiB above 1 MiB */
	assert_int_equal(e820_build(2 * MiB, m, E820_MAX), 4);
	check_low(m);
	check(&m[3], MiB, MiB, E820_RAM);
	/* 256 KiB: RAM only as far as there is some */
	assert_int_equal(e820_build(256 * 1024, m, E820_MAX), 3);
	check(&m[0], 0, 256 * 1024, E820_RAM);
	check(&m[1], 0x9FC00, 0x400, E820_RESERVED);
	/* 1 MiB + 4 KiB */
	assert_int_equal(e820_build(MiB + 4096, m, E820_MAX), 4);
	check(&m[3], MiB, 4096, E820_RAM);
}

static void test_sorted_disjoint(void **state)
{
	static const uint64_t sizes[] = { MiB, 2 * MiB, 64 * MiB, 3 * GiB - 4096,
					  3 * GiB, 3 * GiB + 4096, 5 * GiB, 64 * GiB };

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct e820_entry m[E820_MAX];
		uint64_t ram = 0;
		int n = e820_build(sizes[s], m, E820_MAX);

		assert_true(n >= 3);
		for (int i = 0; i < n; i++) {
			assert_true(m[i].size > 0);
			if (i)
				assert_true(m[i].addr >= m[i - 1].addr + m[i - 1].size);
			if (m[i].type == E820_RAM)
				ram += m[i].size;
		}
		/* RAM reported = RAM given, less the EBDA KiB and 640K..1M */
		assert_int_equal(ram, sizes[s] - (MiB - 0x9FC00));
	}
}

static void test_too_small_array(void **state)
{
	struct e820_entry m[E820_MAX];

	assert_int_equal(e820_build(5 * GiB, m, 4), -ENOSPC);
	assert_int_equal(e820_build(5 * GiB, m, 5), 5);
}

static void test_is_ram(void **state)
{
	uint64_t mem = 5 * GiB;

	assert_true(e820_is_ram(mem, 0, 0x9FC00));
	assert_false(e820_is_ram(mem, 0, 0x9FC01));		/* into the EBDA */
	assert_false(e820_is_ram(mem, 0xA0000, 1));		/* legacy hole */
	assert_false(e820_is_ram(mem, 0xE0000, 1));		/* reserved, not RAM */
	assert_true(e820_is_ram(mem, MiB, 3 * GiB - MiB));
	assert_false(e820_is_ram(mem, MiB, 3 * GiB - MiB + 1));	/* into the PCI hole */
	assert_false(e820_is_ram(mem, 3 * GiB - 4096, 8192));	/* straddles it */
	assert_true(e820_is_ram(mem, 4 * GiB, 2 * GiB));
	assert_false(e820_is_ram(mem, 4 * GiB, 2 * GiB + 1));
	/* wrapping */
	assert_false(e820_is_ram(mem, 0xFFFFFFFFFFFFF000ULL, 0x2000));
	assert_false(e820_is_ram(mem, MiB, UINT64_MAX));
	assert_false(e820_is_ram(mem, UINT64_MAX, 1));
	/* small guests */
	assert_false(e820_is_ram(MiB, MiB, 1));
	assert_true(e820_is_ram(2 * MiB, MiB, MiB));
	assert_false(e820_is_ram(2 * MiB, MiB, MiB + 1));
}

TEST_MAIN(NULL, NULL,
	  TEST(test_64m), TEST(test_256m_default), TEST(test_3g_exactly), TEST(test_5g),
	  TEST(test_tiny), TEST(test_sorted_disjoint), TEST(test_too_small_array),
	  TEST(test_is_ram))
