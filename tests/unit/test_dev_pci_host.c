/* Unit tests for PCI configuration mechanism #1 (no devices) and the 0xCF9 reset register. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "dev/pci_host.h"

static int resets;
static void on_reset(void *arg)
{
	resets++;
}

static void test_mechanism1_detect(void **state)
{
	struct pci_host *p;
	uint64_t v = 0x80000000;

	assert_int_equal(pci_host_create(&p, on_reset, NULL), 0);
	pci_host_addr_io(p, true, 0, 4, &v);
	v = 0;
	pci_host_addr_io(p, false, 0, 4, &v);
	assert_int_equal(v, 0x80000000);	/* what Linux's pci_check_type1 wants */
	v = 0xffffffff;
	pci_host_addr_io(p, true, 0, 4, &v);
	pci_host_addr_io(p, false, 0, 4, &v);
	assert_int_equal(v, 0x80fffffc);	/* reserved bits read as 0 */
	pci_host_destroy(p);
}

static void test_no_devices(void **state)
{
	struct pci_host *p;
	uint64_t v;

	assert_int_equal(pci_host_create(&p, on_reset, NULL), 0);
	for (unsigned dev = 1; dev < 32; dev++) {
		v = 0x80000000 | (dev << 11);
		pci_host_addr_io(p, true, 0, 4, &v);
		for (unsigned size = 1; size <= 4; size *= 2) {
			v = 0;
			pci_host_data_io(p, false, 4 - size, size, &v);
			assert_true((v & 0xffffffff) == 0xffffffff || v == ~0ULL);
		}
		v = 0x1234;
		pci_host_data_io(p, true, 0, 2, &v);	/* dropped */
	}
	pci_host_destroy(p);
}

static uint64_t cfg_read(struct pci_host *p, uint32_t addr, unsigned off, unsigned size)
{
	uint64_t v = addr;

	pci_host_addr_io(p, true, 0, 4, &v);
	pci_host_data_io(p, false, off, size, &v);
	return v;
}

static void test_host_bridge(void **state)
{
	struct pci_host *p;
	uint64_t v;

	assert_int_equal(pci_host_create(&p, on_reset, NULL), 0);
	assert_int_equal(cfg_read(p, 0x80000000, 0, 4), 0x00081b36);	/* ID */
	assert_int_equal(cfg_read(p, 0x80000000, 2, 2), 0x0008);
	assert_int_equal(cfg_read(p, 0x80000008, 2, 2), 0x0600);	/* class */
	assert_int_equal(cfg_read(p, 0x8000000c, 2, 1), 0x00);		/* header type */
	assert_int_equal(cfg_read(p, 0x800000fc, 0, 4), 0);		/* beyond: zero */
	/* function 1 of device 0, bus 1, and a disabled address: nothing */
	assert_int_equal(cfg_read(p, 0x80000100, 0, 4) & 0xffffffff, 0xffffffff);
	assert_int_equal(cfg_read(p, 0x80010000, 0, 4) & 0xffffffff, 0xffffffff);
	assert_int_equal(cfg_read(p, 0x00000000, 0, 4) & 0xffffffff, 0xffffffff);
	/* read-only */
	v = 0x12345678;
	pci_host_data_io(p, true, 0, 4, &v);
	assert_int_equal(cfg_read(p, 0x80000000, 0, 4), 0x00081b36);
	/* a bad width/offset combination reads all ones, never out of bounds */
	assert_int_equal(cfg_read(p, 0x80000000, 3, 4), ~0ULL);
	pci_host_destroy(p);
}

static void test_reset_register(void **state)
{
	struct pci_host *p;
	uint64_t v;

	resets = 0;
	assert_int_equal(pci_host_create(&p, on_reset, NULL), 0);
	v = 0x02;				/* SYS_RST alone: no reset yet */
	pci_host_addr_io(p, true, 1, 1, &v);
	assert_int_equal(resets, 0);
	pci_host_addr_io(p, false, 1, 1, &v);
	assert_int_equal(v, 0x02);
	v = 0x06;				/* RST_CPU: reset */
	pci_host_addr_io(p, true, 1, 1, &v);
	assert_int_equal(resets, 1);
	/* a 16-bit write at 0xCF8 is not the reset register */
	v = 0x0606;
	pci_host_addr_io(p, true, 0, 2, &v);
	assert_int_equal(resets, 1);
	/* nor a byte at 0xCFA/0xCFB */
	v = 0x06;
	pci_host_addr_io(p, true, 2, 1, &v);
	pci_host_addr_io(p, true, 3, 1, &v);
	assert_int_equal(resets, 1);
	v = 0;
	pci_host_addr_io(p, false, 2, 2, &v);
	assert_int_equal(v, ~0ULL);
	pci_host_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mechanism1_detect),
		cmocka_unit_test(test_no_devices),
		cmocka_unit_test(test_host_bridge),
		cmocka_unit_test(test_reset_register),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
