/*
 * bvmcons.c - bhyve's paravirtual console (usr.sbin/bhyve/consport.c), the
 * one FreeBSD's bvm(4) console driver talks to.
 *
 * One port, 0x220; the range claimed is [0x220, 0x224) so that the 4-byte
 * accesses fit in it.  At offset 0:
 *  - 16-bit IN: the signature 0x6276 ('b' << 8 | 'v');
 *  - 32-bit OUT: the low byte goes to the console;
 *  - 32-bit IN: the next console input byte, or 0xffffffff if none waits.
 * Everything else (8-bit accesses, 16-bit OUT, offsets 1-3) reads all ones
 * and ignores writes; bhyve also answers 1-byte probes with 0xff.
 *
 * The device has no state of its own (the console locks itself), so it
 * needs no lock.  Its writes are coalesced: KVM queues them and hyve replays
 * them in order, so printing costs no exit per byte.
 */
#include <errno.h>
#include <stdlib.h>
#include "console.h"
#include "dev.h"
#include "err.h"
#include "vm.h"
#include "dev/bvmcons.h"

struct bvmcons {
	struct console *con;
};

int bvmcons_io(void *arg, bool write, uint64_t offset, unsigned size,
	       uint64_t *val)
{
	struct bvmcons *bc = arg;

	if (offset == 0 && size == 2 && !write) {
		*val = BVMCONS_SIG;
	} else if (offset == 0 && size == 4 && write) {
		console_putc(bc->con, (unsigned char)*val);
	} else if (offset == 0 && size == 4) {
		int c = console_getc(bc->con);
		*val = c < 0 ? 0xffffffffULL : (uint64_t)c;
	} else if (!write) {
		*val = ~0ULL;
	}
	return 0;
}

int bvmcons_create(struct bvmcons **out, struct console *con)
{
	struct bvmcons *bc = calloc(1, sizeof(*bc));

	if (!bc)
		return err_set(-ENOMEM, "bvmcons: out of memory");
	bc->con = con;
	*out = bc;
	return 0;
}

void bvmcons_destroy(struct bvmcons *bc)
{
	free(bc);
}

static int bvmcons_new(struct vm *vm, void **dev)
{
	return bvmcons_create((struct bvmcons **)dev, vm_console(vm));
}

DEVICE(bvmcons, .level = DEV_LEVEL_DEV, .create = bvmcons_new, .destroy = free,
       .ranges = { { "bvmcons", BVMCONS_PORT, BVMCONS_LEN, bvmcons_io,
		     IO_READ | IO_WRITE | DEV_COALESCE } });
