/*
 * post.c - the POST diagnostic port 0x80: a byte latch, as on a POST card
 * or a chipset that keeps the last code.  Firmware writes progress codes
 * here and Linux writes it as an I/O delay (outb_p); nothing else happens.
 *
 * A 1-byte write at offset 0 is latched; a 1-byte read returns the latched
 * byte (0xff before any write).  Other widths or offsets (the bus only
 * passes accesses inside the one registered port, so they cannot come from
 * a guest) read all ones and ignore writes.  For comparison: QEMU's port
 * 0x80 ignores writes and reads all ones; bhyve does not claim 0x80 (its
 * post.c answers reads of 0x84 with 0xff).
 *
 * Writes are coalesced: they need no answer, and KVM replays them before
 * hyve handles the next exit, so a read still sees the last byte written.
 */
#include <errno.h>
#include <stdlib.h>
#include "dev.h"
#include "err.h"
#include "vm.h"
#include "dev/post.h"

struct post {
	uint8_t last;		/* accessed atomically: no lock needed */
};

uint8_t post_last(struct post *p)
{
	return __atomic_load_n(&p->last, __ATOMIC_RELAXED);
}

int post_io(void *arg, bool write, uint64_t offset, unsigned size,
	    uint64_t *val)
{
	struct post *p = arg;

	if (size != 1 || offset != 0) {
		if (!write)
			*val = ~0ULL;
	} else if (write) {
		__atomic_store_n(&p->last, (uint8_t)*val, __ATOMIC_RELAXED);
	} else {
		*val = post_last(p);
	}
	return 0;
}

int post_create(struct post **out)
{
	struct post *p = calloc(1, sizeof(*p));

	if (!p)
		return err_set(-ENOMEM, "post: out of memory");
	p->last = 0xff;
	*out = p;
	return 0;
}

void post_destroy(struct post *p)
{
	free(p);
}

static int post_new(struct vm *vm, void **dev)
{
	return post_create((struct post **)dev);
}

DEVICE(post, .level = DEV_LEVEL_DEV, .create = post_new, .destroy = free,
       .ranges = { { "post", POST_PORT, 1, post_io, IO_READ | IO_WRITE | DEV_COALESCE } });
