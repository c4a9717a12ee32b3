/*
 * isa_absent.c - legacy ISA devices this machine does not have, claimed
 * on purpose so that probing them is an answered question ("nothing here":
 * reads all ones, writes ignored) rather than an unclaimed access, and a
 * stock Linux boot runs clean under --strict-io.
 *
 * Linux's 8250 driver probes COM2-COM4 (it reads IER at base+1; all ones
 * means no UART there).
 */
#include "dev.h"
#include "vm.h"

static int isa_absent_io(void *arg, bool write, uint64_t offset, unsigned size,
			 uint64_t *val)
{
	if (!write)
		*val = ~0ULL;
	return 0;
}

/* Stateless: no model, three ranges. */
DEVICE(isa_absent, .level = DEV_LEVEL_DEV,
       .ranges = {
	       { "com2-absent", 0x2f8, 8, isa_absent_io, IO_READ | IO_WRITE },
	       { "com3-absent", 0x3e8, 8, isa_absent_io, IO_READ | IO_WRITE },
	       { "com4-absent", 0x2e8, 8, isa_absent_io, IO_READ | IO_WRITE },
       });
