/*
 * Unit tests for the ACPI PM1a registers (src/dev/acpi_pm.c): S5 powers
 * off and nothing else does, PM1_STS write-1-to-clear, PM1_EN read back,
 * SCI_EN always set, every width and offset, and ACPICA's S5 sequence.
 */
#include "unit.h"
#include <stdbool.h>
#include "iobus.h"
#include "testdev.h"
#include "boot/acpi.h"
#include "dev/acpi_pm.h"

TESTDEV_CB_FIXTURE(struct acpi_pm, pm, poweroffs, acpi_pm_create, acpi_pm_destroy)

/* One access to a register block through its port handler (acpi_pm_evt_io, acpi_pm_cnt_io). */
static uint64_t pm_in(io_handler *h, struct acpi_pm *pm, unsigned off, unsigned size)
{
	uint64_t v = 0x5a5a5a5a5a5a5a5aULL;

	assert_int_equal(h(pm, false, off, size, &v), 0);
	return v;
}

static void pm_out(io_handler *h, struct acpi_pm *pm, unsigned off, unsigned size, uint64_t v)
{
	assert_int_equal(h(pm, true, off, size, &v), 0);
}

#define evt_in(pm, off, size)		pm_in(acpi_pm_evt_io, pm, off, size)
#define evt_out(pm, off, size, v)	pm_out(acpi_pm_evt_io, pm, off, size, v)
#define cnt_in(pm, off, size)		pm_in(acpi_pm_cnt_io, pm, off, size)
#define cnt_out(pm, off, size, v)	pm_out(acpi_pm_cnt_io, pm, off, size, v)

static uint16_t slp(unsigned typ, bool en)
{
	return (uint16_t)(typ << PM1_SLP_TYP_SHIFT | (en ? PM1_SLP_EN : 0));
}

/* What ACPICA's acpi_hw_legacy_sleep(S5) does: SLP_TYP, then + SLP_EN. */
static void test_s5_powers_off(void **state)
{
	struct fix *f = *state;
	uint16_t c = (uint16_t)cnt_in(f->pm, 0, 2);

	evt_out(f->pm, 0, 2, 0xffff);		/* clear all status */
	c = (uint16_t)((c & ~(PM1_SLP_TYP | PM1_SLP_EN)) | slp(5, false));
	cnt_out(f->pm, 0, 2, c);
	assert_int_equal(f->poweroffs, 0);
	cnt_out(f->pm, 0, 2, c | PM1_SLP_EN);
	assert_int_equal(f->poweroffs, 1);
}

static void test_s5_single_write_and_byte_write(void **state)
{
	struct fix *f = *state;

	cnt_out(f->pm, 0, 2, slp(5, true) | PM1_SCI_EN);
	assert_int_equal(f->poweroffs, 1);
	/* SLP_TYP and SLP_EN are both in the high byte */
	cnt_out(f->pm, 1, 1, slp(5, true) >> 8);
	assert_int_equal(f->poweroffs, 2);
	/* a 4-byte access cannot fit in the 2-byte block: ignored */
	cnt_out(f->pm, 0, 4, slp(5, true));
	assert_int_equal(f->poweroffs, 2);
}

static void test_other_sleep_types_ignored(void **state)
{
	struct fix *f = *state;

	for (unsigned typ = 0; typ < 8; typ++) {
		if (typ == ACPI_SLP_TYP_S5)
			continue;
		cnt_out(f->pm, 0, 2, slp(typ, false));
		cnt_out(f->pm, 0, 2, slp(typ, true));
		cnt_out(f->pm, 1, 1, slp(typ, true) >> 8);
	}
	/* SLP_TYP 5 without SLP_EN; SLP_EN alone in the low byte: nothing */
	cnt_out(f->pm, 0, 2, slp(5, false));
	cnt_out(f->pm, 0, 1, 0xff);
	assert_int_equal(f->poweroffs, 0);
	/* a stale SLP_TYP 5 with SLP_EN and another type in the same write */
	cnt_out(f->pm, 0, 2, slp(3, true));
	assert_int_equal(f->poweroffs, 0);
}

static void test_sci_en_and_cnt_readback(void **state)
{
	struct fix *f = *state;

	assert_int_equal(cnt_in(f->pm, 0, 2), PM1_SCI_EN);
	assert_int_equal(cnt_in(f->pm, 0, 1), PM1_SCI_EN);
	assert_int_equal(cnt_in(f->pm, 1, 1), 0);
	/* clearing SCI_EN does not stick: no SMI_CMD, always ACPI mode */
	cnt_out(f->pm, 0, 2, 0);
	assert_int_equal(cnt_in(f->pm, 0, 2) & PM1_SCI_EN, PM1_SCI_EN);
	/* BM_RLD and SLP_TYP stored; GBL_RLS, SLP_EN and reserved bits read 0 */
	cnt_out(f->pm, 0, 2, 0xffff & ~slp(5, false));	/* SLP_TYP 2, SLP_EN */
	assert_int_equal(f->poweroffs, 0);
	assert_int_equal(cnt_in(f->pm, 0, 2),
			 PM1_SCI_EN | PM1_BM_RLD | (2u << PM1_SLP_TYP_SHIFT));
	cnt_out(f->pm, 0, 1, 0);			/* low byte only */
	assert_int_equal(cnt_in(f->pm, 0, 2),
			 PM1_SCI_EN | (2u << PM1_SLP_TYP_SHIFT));
}

static void test_en_read_back(void **state)
{
	struct fix *f = *state;
	const uint16_t all = PM1_TMR | PM1_GBL | PM1_PWRBTN | PM1_SLPBTN |
			     PM1_RTC | PM1_PCIEXP_WAKE;

	assert_int_equal(evt_in(f->pm, 2, 2), 0);
	/* ACPICA's enable-and-check of GBL_EN and RTC_EN */
	evt_out(f->pm, 2, 2, PM1_GBL);
	assert_int_equal(evt_in(f->pm, 2, 2), PM1_GBL);
	evt_out(f->pm, 2, 2, PM1_GBL | PM1_RTC);
	assert_int_equal(evt_in(f->pm, 2, 2), PM1_GBL | PM1_RTC);
	/* reserved bits do not stick */
	evt_out(f->pm, 2, 2, 0xffff);
	assert_int_equal(evt_in(f->pm, 2, 2), all);
	/* byte access to one half leaves the other */
	evt_out(f->pm, 3, 1, 0);
	assert_int_equal(evt_in(f->pm, 2, 2), all & 0xff);
	evt_out(f->pm, 2, 1, 0);
	assert_int_equal(evt_in(f->pm, 2, 2), 0);
	evt_out(f->pm, 3, 1, PM1_PWRBTN >> 8);
	assert_int_equal(evt_in(f->pm, 3, 1), PM1_PWRBTN >> 8);
	assert_int_equal(evt_in(f->pm, 2, 2), PM1_PWRBTN);
	/* a 32-bit write of the block: STS half is write-1-to-clear */
	evt_out(f->pm, 0, 4, (uint64_t)(PM1_RTC | PM1_GBL) << 16 | 0xffff);
	assert_int_equal(evt_in(f->pm, 0, 4), (uint64_t)(PM1_RTC | PM1_GBL) << 16);
	assert_int_equal(evt_in(f->pm, 2, 2), PM1_RTC | PM1_GBL);
	/* a 16-bit access straddling STS's high byte and EN's low byte */
	assert_int_equal(evt_in(f->pm, 1, 2), PM1_GBL << 8);
}

static void test_sts_write_one_to_clear(void **state)
{
	struct fix *f = *state;

	/* nothing raises status yet: reads 0, writes of 1 or 0 keep it 0
	   (never set by a write) */
	assert_int_equal(evt_in(f->pm, 0, 2), 0);
	evt_out(f->pm, 0, 2, 0xffff);
	assert_int_equal(evt_in(f->pm, 0, 2), 0);
	evt_out(f->pm, 0, 2, 0);
	assert_int_equal(evt_in(f->pm, 0, 2), 0);
	/* writing STS does not touch EN */
	evt_out(f->pm, 2, 2, PM1_GBL);
	evt_out(f->pm, 0, 2, 0xffff);
	assert_int_equal(evt_in(f->pm, 2, 2), PM1_GBL);
}

static void test_odd_accesses(void **state)
{
	struct fix *f = *state;
	uint64_t v;

	/* outside the block, zero or huge widths: all ones, ignored */
	assert_int_equal(evt_in(f->pm, 4, 1), ~0ULL);
	assert_int_equal(evt_in(f->pm, 3, 2), ~0ULL);
	assert_int_equal(evt_in(f->pm, 1, 4), ~0ULL);
	assert_int_equal(evt_in(f->pm, 0, 8), ~0ULL);
	assert_int_equal(evt_in(f->pm, 0, 0), ~0ULL);
	v = 0;
	assert_int_equal(acpi_pm_evt_io(f->pm, false, ~0ULL - 1, 4, &v), 0);
	assert_int_equal(v, ~0ULL);
	assert_int_equal(cnt_in(f->pm, 2, 1), ~0ULL);
	assert_int_equal(cnt_in(f->pm, 1, 2), ~0ULL);
	assert_int_equal(cnt_in(f->pm, 0, 4), ~0ULL);
	evt_out(f->pm, 2, 4, 0xffffffff);
	evt_out(f->pm, 5, 1, 0xff);
	assert_int_equal(evt_in(f->pm, 2, 2), 0);
	cnt_out(f->pm, 1, 2, 0xffff);
	cnt_out(f->pm, 3, 1, 0xff);
	assert_int_equal(f->poweroffs, 0);
	/* every in-range width and offset reads the right bytes */
	evt_out(f->pm, 2, 2, PM1_GBL | PM1_SLPBTN);
	for (unsigned off = 0; off < 4; off++)
		for (unsigned size = 1; off + size <= 4; size *= 2) {
			uint64_t want = ((uint64_t)(PM1_GBL | PM1_SLPBTN) << 16 >>
					 (off * 8)) & io_mask(size);
			assert_int_equal(evt_in(f->pm, off, size), want);
		}
	/* value bits above the access width are ignored on write */
	v = 0xffffff00 | PM1_TMR;
	assert_int_equal(acpi_pm_evt_io(f->pm, true, 2, 1, &v), 0);
	assert_int_equal(evt_in(f->pm, 2, 2), PM1_TMR | PM1_SLPBTN);
	v = ~0ULL;		/* a byte write: SLP_EN (bit 13) not in it */
	assert_int_equal(acpi_pm_cnt_io(f->pm, true, 0, 1, &v), 0);
	assert_int_equal(f->poweroffs, 0);
}

/* No callback: the S5 write is accepted and nothing happens. */
static void test_no_callback(void **state)
{
	struct acpi_pm *pm;

	assert_int_equal(acpi_pm_create(&pm, NULL, NULL), 0);
	cnt_out(pm, 0, 2, slp(5, true));
	acpi_pm_destroy(pm);
	acpi_pm_destroy(NULL);
}

/* The device registers where the FADT says the blocks are. */
static void test_ports_match_fadt(void **state)
{
	assert_int_equal(ACPI_PM1A_EVT_PORT + ACPI_PM1_EVT_LEN, ACPI_PM1A_CNT_PORT);
	assert_int_equal(ACPI_PM1_CNT_LEN, 2);
	assert_int_equal(ACPI_SLP_TYP_S5, 5);
}


TEST_MAIN(NULL, NULL,
	  TEST_FIX(test_s5_powers_off), TEST_FIX(test_s5_single_write_and_byte_write),
	  TEST_FIX(test_other_sleep_types_ignored), TEST_FIX(test_sci_en_and_cnt_readback),
	  TEST_FIX(test_en_read_back), TEST_FIX(test_sts_write_one_to_clear),
	  TEST_FIX(test_odd_accesses), TEST(test_no_callback), TEST(test_ports_match_fadt))
