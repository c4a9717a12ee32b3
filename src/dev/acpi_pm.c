/*
 * acpi_pm.c - the ACPI PM1a event and control register blocks (fixed
 * hardware, not hardware-reduced ACPI), what Linux needs to power off.
 *
 *  - PM1_STS (0x600): write 1 to clear.  The power button sets PWRBTN_STS
 *    (a graceful stop through the API); the SCI (IRQ 9, level) is asserted
 *    while any status bit is set whose enable bit is set too.
 *  - PM1_EN (0x602): read/write for the defined enable bits.  ACPICA sets
 *    GBL_EN and RTC_EN and reads them back: a bit that does not stick
 *    makes it log "No response from Global Lock hardware" or "Could not
 *    enable RtcAlarm event".
 *  - PM1_CNT (0x604): SCI_EN reads 1 always (there is no SMI_CMD, ACPI
 *    mode is permanent); BM_RLD and SLP_TYP are stored; GBL_RLS and
 *    SLP_EN read 0.  A write with SLP_EN set and SLP_TYP 5 (\_S5 in the
 *    DSDT) powers off; other sleep types are ignored: the DSDT offers
 *    only S5, so an OS that writes another type is confused, not asleep.
 *
 * ACPICA accesses PM1_STS, PM1_EN and PM1_CNT as 16-bit registers, but the
 * registers are kept as bytes so that any width and alignment inside a
 * block (a 32-bit read of the whole event block, a byte write of the high
 * half of PM1_CNT) does the right thing.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include "lock.h"
#include "dev.h"
#include "err.h"
#include "vm.h"
#include "boot/acpi.h"
#include "dev/acpi_pm.h"

#define STS_BITS	(PM1_TMR | PM1_BM_STS | PM1_GBL | PM1_PWRBTN | \
			 PM1_SLPBTN | PM1_RTC | PM1_PCIEXP_WAKE | PM1_WAK_STS)
#define EN_BITS		(PM1_TMR | PM1_GBL | PM1_PWRBTN | PM1_SLPBTN | \
			 PM1_RTC | PM1_PCIEXP_WAKE)
#define CNT_STORED	(PM1_BM_RLD | PM1_SLP_TYP)

struct acpi_pm {
	pthread_mutex_t lock;
	uint16_t sts, en, cnt;
	void (*poweroff)(void *arg);
	void *arg;
	void (*sci)(void *arg, bool level);
	void *sci_arg;
	bool sci_level;
};
DEV_MODEL_LOCK_FIRST(struct acpi_pm);

/* Follow (STS & EN) on the SCI line; lock held. */
static void update_sci(struct acpi_pm *pm)
{
	bool level = (pm->sts & pm->en & EN_BITS) != 0;

	if (level != pm->sci_level && pm->sci)
		pm->sci(pm->sci_arg, level);
	pm->sci_level = level;
}

/* The size bytes at offset of a block held as one value reg. */
static uint64_t get_bytes(uint64_t reg, uint64_t offset, unsigned size)
{
	return (reg >> (offset * 8)) & io_mask(size);
}

/* A write of val, size bytes at offset, in place in the block: the bits it
 * covers (*mask) and their new values. */
static uint64_t put_bytes(uint64_t val, uint64_t offset, unsigned size, uint64_t *mask)
{
	*mask = io_mask(size) << (offset * 8);
	return (val << (offset * 8)) & *mask;
}

/* A guest access to a block of len bytes that lies outside it, or an
 * impossible width: reads all ones, writes ignored. */
static bool bad_access(uint64_t offset, unsigned size, unsigned len, bool write,
		       uint64_t *val)
{
	if (size == 0 || size > 4 || offset >= len || size > len - offset) {
		if (!write)
			*val = ~0ULL;
		return true;
	}
	return false;
}

int acpi_pm_evt_io(void *arg, bool write, uint64_t offset, unsigned size,
		   uint64_t *val)
{
	struct acpi_pm *pm = arg;
	uint64_t wmask, v;

	if (bad_access(offset, size, ACPI_PM1_EVT_LEN, write, val))
		return 0;
	/* the block as one 32-bit value: STS in bits 0-15, EN in 16-31 */
	lock(&pm->lock, LOCK_DEVICE);
	if (write) {
		v = put_bytes(*val, offset, size, &wmask);
		pm->sts &= (uint16_t)~(v & STS_BITS);
		if (wmask >> 16)
			pm->en = (uint16_t)((pm->en & ~(wmask >> 16)) |
					    ((v >> 16) & EN_BITS));
		update_sci(pm);
	} else {
		*val = get_bytes(pm->sts | (uint32_t)pm->en << 16, offset, size);
	}
	unlock(&pm->lock, LOCK_DEVICE);
	return 0;
}

int acpi_pm_cnt_io(void *arg, bool write, uint64_t offset, unsigned size,
		   uint64_t *val)
{
	struct acpi_pm *pm = arg;
	uint64_t wmask, v;
	bool off = false;

	if (bad_access(offset, size, ACPI_PM1_CNT_LEN, write, val))
		return 0;
	lock(&pm->lock, LOCK_DEVICE);
	if (write) {
		v = put_bytes(*val, offset, size, &wmask);
		pm->cnt = (uint16_t)((pm->cnt & ~(wmask & CNT_STORED)) |
				     (v & CNT_STORED));
		/* SLP_TYP and SLP_EN share the high byte: one write has both */
		off = (v & PM1_SLP_EN) &&
		      (pm->cnt & PM1_SLP_TYP) >> PM1_SLP_TYP_SHIFT ==
		      ACPI_SLP_TYP_S5;
	} else {
		*val = get_bytes(pm->cnt | PM1_SCI_EN, offset, size);
	}
	unlock(&pm->lock, LOCK_DEVICE);
	if (off && pm->poweroff)
		pm->poweroff(pm->arg);
	return 0;
}

int acpi_pm_create(struct acpi_pm **out, void (*poweroff)(void *arg),
		   void *arg)
{
	struct acpi_pm *pm = dev_model_alloc(sizeof(*pm), "acpi-pm");

	if (!pm)
		return -ENOMEM;
	pm->poweroff = poweroff;
	pm->arg = arg;
	*out = pm;
	return 0;
}

void acpi_pm_set_sci(struct acpi_pm *pm, void (*sci)(void *arg, bool level), void *arg)
{
	lock(&pm->lock, LOCK_DEVICE);
	pm->sci = sci;
	pm->sci_arg = arg;
	unlock(&pm->lock, LOCK_DEVICE);
}

void acpi_pm_power_button(struct acpi_pm *pm)
{
	lock(&pm->lock, LOCK_DEVICE);
	pm->sts |= PM1_PWRBTN;
	update_sci(pm);
	unlock(&pm->lock, LOCK_DEVICE);
}

static void acpi_pm_vm_sci(void *arg, bool level)
{
	vm_irq_line(arg, ACPI_SCI_IRQ, level);
}

static void acpi_pm_vm_button(void *arg)
{
	acpi_pm_power_button(arg);
}

static int acpi_pm_new(struct vm *vm, void **dev)
{
	int r = acpi_pm_create((struct acpi_pm **)dev, dev_vm_poweroff, vm);

	if (r == 0) {	/* the SCI, and the power button a graceful stop presses */
		acpi_pm_set_sci(*dev, acpi_pm_vm_sci, vm);
		vm_set_power_button(vm, acpi_pm_vm_button, *dev);
	}
	return r;
}

DEVICE(acpi_pm, .level = DEV_LEVEL_DEV, .create = acpi_pm_new, .destroy = dev_model_free,
       .ranges = {
	       { "acpi-pm1-evt", ACPI_PM1A_EVT_PORT, ACPI_PM1_EVT_LEN, acpi_pm_evt_io,
		 IO_READ | IO_WRITE },
	       { "acpi-pm1-cnt", ACPI_PM1A_CNT_PORT, ACPI_PM1_CNT_LEN, acpi_pm_cnt_io,
		 IO_READ | IO_WRITE },
       });
