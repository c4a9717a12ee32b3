/*
 * Unit tests for the ACPI fixed-feature power button (src/dev/acpi_pm.c):
 * a press sets PWRBTN_STS; the SCI follows STS & EN (asserted when the
 * guest has enabled the button, deasserted when it clears the status);
 * and the FADT advertises the button.
 */
#include "unit.h"
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "boot/acpi.h"
#include "dev/acpi_pm.h"

static int sci_level = -1, sci_calls;

static void sci(void *arg, bool level)
{
	sci_level = level;
	sci_calls++;
}

static uint64_t sts(struct acpi_pm *pm)
{
	uint64_t v = 0;
	assert_int_equal(acpi_pm_evt_io(pm, false, 0, 2, &v), 0);
	return v;
}

static void out16(struct acpi_pm *pm, unsigned off, uint64_t v)
{
	assert_int_equal(acpi_pm_evt_io(pm, true, off, 2, &v), 0);
}

static void test_press_and_sci(void **state)
{
	struct acpi_pm *pm;

	assert_int_equal(acpi_pm_create(&pm, NULL, NULL), 0);
	acpi_pm_set_sci(pm, sci, NULL);
	sci_level = -1;
	sci_calls = 0;

	/* pressed before the guest enabled it: status only, no interrupt */
	acpi_pm_power_button(pm);
	assert_true(sts(pm) & PM1_PWRBTN);
	assert_int_equal(sci_calls, 0);
	/* enabling it with the status pending raises the SCI */
	out16(pm, 2, PM1_PWRBTN);
	assert_int_equal(sci_level, 1);
	/* write 1 to clear: the SCI drops */
	out16(pm, 0, PM1_PWRBTN);
	assert_false(sts(pm) & PM1_PWRBTN);
	assert_int_equal(sci_level, 0);
	/* a press with the button enabled interrupts at once */
	acpi_pm_power_button(pm);
	assert_int_equal(sci_level, 1);
	/* clearing another bit leaves it asserted; disabling drops it */
	out16(pm, 0, PM1_TMR);
	assert_int_equal(sci_level, 1);
	out16(pm, 2, 0);
	assert_int_equal(sci_level, 0);
	assert_true(sts(pm) & PM1_PWRBTN);
	acpi_pm_destroy(pm);
}

static void test_fadt_advertises_the_button(void **state)
{
	struct acpi_config cfg = { .ncpus = 1, .base_gpa = 0xE0000, .mem_size = 256 << 20 };
	size_t room = 0x20000;
	uint8_t *buf = calloc(1, room);
	uint64_t rsdp;
	uint32_t flags;
	size_t i;

	assert_int_equal(acpi_build(&cfg, buf, room, &rsdp, NULL), 0);
	for (i = 0; i + 4 <= room && memcmp(buf + i, "FACP", 4); i++)
		;
	assert_true(i + 116 <= room);
	memcpy(&flags, buf + i + 112, 4);
	assert_false(flags & ACPI_FADT_PWR_BUTTON);	/* clear: a fixed power button */
	assert_true(flags & ACPI_FADT_SLP_BUTTON);	/* set: no sleep button */
	free(buf);
}

TEST_MAIN(NULL, NULL,
	  TEST(test_press_and_sci), TEST(test_fadt_advertises_the_button))
