/*
 * acpi_pm.h - the ACPI fixed-hardware PM1a register blocks: PM1_STS and
 * PM1_EN at ACPI_PM1A_EVT_PORT, PM1_CNT at ACPI_PM1A_CNT_PORT (addresses in
 * boot/acpi.h, which the FADT publishes).  Writing SLP_TYP = 5 (\_S5) with
 * SLP_EN powers the VM off.
 */
#ifndef HYVE_DEV_ACPI_PM_H
#define HYVE_DEV_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>
#include "dev.h"
#include "iobus.h"

/* PM1_STS / PM1_EN bits (ACPI 6.3 tables 4-16, 4-17) */
#define PM1_TMR		(1u << 0)
#define PM1_BM_STS	(1u << 4)	/* status only */
#define PM1_GBL		(1u << 5)
#define PM1_PWRBTN	(1u << 8)
#define PM1_SLPBTN	(1u << 9)
#define PM1_RTC		(1u << 10)
#define PM1_PCIEXP_WAKE	(1u << 14)	/* _STS, and _DIS in PM1_EN */
#define PM1_WAK_STS	(1u << 15)	/* status only */

/* PM1_CNT bits (ACPI 6.3 table 4-18) */
#define PM1_SCI_EN	(1u << 0)
#define PM1_BM_RLD	(1u << 1)
#define PM1_GBL_RLS	(1u << 2)	/* write-only */
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_TYP	(7u << PM1_SLP_TYP_SHIFT)
#define PM1_SLP_EN	(1u << 13)	/* write-only */

struct acpi_pm;

/*
 * poweroff(arg) is called, without the device lock, when the guest enters
 * S5 (SLP_EN with SLP_TYP 5).
 */
int acpi_pm_create(struct acpi_pm **out, void (*poweroff)(void *arg),
		   void *arg);
static inline void acpi_pm_destroy(struct acpi_pm *pm) { dev_model_free(pm); }

/*
 * The SCI: sci(arg, level) is called, with the device lock held, whenever
 * (PM1_STS & PM1_EN) changes between zero and non-zero.
 */
void acpi_pm_set_sci(struct acpi_pm *pm, void (*sci)(void *arg, bool level), void *arg);
/* Press the fixed-feature power button: PWRBTN_STS, and the SCI if enabled. */
void acpi_pm_power_button(struct acpi_pm *pm);

/*
 * Port handlers (io_handler_fn); arg is the struct acpi_pm.  evt covers
 * the 4-byte PM1a_EVT_BLK (PM1_STS at 0, PM1_EN at 2), cnt the 2-byte
 * PM1a_CNT_BLK.  Any width at any offset inside the block works byte by
 * byte; anything reaching outside it reads all ones, writes are ignored.
 */
io_handler acpi_pm_evt_io;
io_handler acpi_pm_cnt_io;

#endif
