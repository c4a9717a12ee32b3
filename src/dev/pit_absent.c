/*
 * pit_absent.c - the lean machine has no 8254 PIT (KVM's in-kernel PIT is
 * created only with --legacy): its ports are claimed here, so a guest that
 * still looks gets an answer rather than an unclaimed access, and
 * --strict-io stays quiet.
 *
 * 0x40-0x43 (counters, mode register) read all ones, writes are ignored.
 * 0x61 (NMI status / speaker gate) reads 0x20: timer 2's output high, no
 * SERR or IOCHK pending, so an NMI-reason read finds nothing and a PIT
 * calibration loop that waits for the output bit ends at once (and fails,
 * as it should: there is no PIT to calibrate against).  Linux with a known
 * TSC frequency and the TSC-deadline LAPIC timer never calibrates.
 */
#include "dev.h"
#include "vm.h"

#define PIT_PORT	0x40
#define PIT_PORTS	4
#define PORT61		0x61
#define PORT61_VALUE	0x20

static int pit_absent_io(void *arg, bool write, uint64_t offset, unsigned size,
			 uint64_t *val)
{
	if (!write)
		*val = ~0ULL;
	return 0;
}

static int port61_io(void *arg, bool write, uint64_t offset, unsigned size,
		     uint64_t *val)
{
	if (!write)
		*val = PORT61_VALUE;
	return 0;
}

static int pit_absent_attach(struct vm *vm, void *dev)
{
	int r;

	/* Raw images have no irqchip and see a bare machine; --legacy has the PIT. */
	if (!vm_has_irqchip(vm) || vm_has_pit(vm))
		return 0;
	if ((r = vm_register_pio(vm, "pit-absent", PIT_PORT, PIT_PORTS, IO_READ | IO_WRITE,
				 pit_absent_io, NULL)) < 0)
		return r;
	return vm_register_pio(vm, "port61", PORT61, 1, IO_READ | IO_WRITE, port61_io, NULL);
}
/* Ranges only on the lean machine: registered by attach. */
DEVICE(pit_absent, .level = DEV_LEVEL_DEV, .attach = pit_absent_attach);
