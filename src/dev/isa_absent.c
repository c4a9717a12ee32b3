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

static const struct {
	const char *name;
	uint16_t port, len;
} isa_absent[] = {
	{ "com2-absent", 0x2f8, 8 },
	{ "com3-absent", 0x3e8, 8 },
	{ "com4-absent", 0x2e8, 8 },
};

static int isa_absent_io(void *arg, bool write, uint64_t offset, unsigned size,
			 uint64_t *val)
{
	if (!write)
		*val = ~0ULL;
	return 0;
}

static int isa_absent_init(struct vm *vm)
{
	for (size_t i = 0; i < sizeof(isa_absent) / sizeof(isa_absent[0]); i++) {
		int r = vm_register_pio(vm, isa_absent[i].name, isa_absent[i].port,
					isa_absent[i].len, IO_READ | IO_WRITE,
					isa_absent_io, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}
DEVICE(isa_absent, isa_absent_init);
