/*
 * i8042.c - a minimal 8042 keyboard controller at ports 0x60 (data) and
 * 0x64 (status / command), with no keyboard and no mouse attached.
 *
 * It is there for two things: the reset line (commands 0xf0-0xfe with bit 0
 * clear pulse it, 0xfe being the usual one; also 0xd1 with bit 0 clear), and
 * letting Linux's i8042 driver conclude quickly and quietly that there is a
 * controller with nothing behind it.  What Linux sees:
 *  - status 0x1c when idle: output buffer empty (so its flush succeeds),
 *    input buffer never busy (so kb_wait() before a reboot never spins),
 *    system flag set, keyboard not inhibited (no "Keylock active").
 *  - 0x20 / 0x60 read / write the command byte (CTR), so i8042_controller_init
 *    and port enabling succeed; 0xa7/0xa8/0xad/0xae set / clear its
 *    port-disable bits; 0xaa answers 0x55, 0xab 0x00, 0xd0 the output port.
 *  - no AUX port: 0xd3 echoes its byte as keyboard data (not AUX data), which
 *    Linux takes as "loop failed", and 0xa9 answers 0x02 (clock line stuck),
 *    so i8042_check_aux() gives up at once with no timeout.
 *  - bytes written to the keyboard (data port with no command waiting for
 *    one) are dropped: no device answers, as with nothing plugged in.
 * Reading the data port takes the pending byte; with none it reads 0x00.
 * Other commands are accepted and ignored.  Only 1-byte accesses at offset 0
 * mean anything; any other width or offset reads all ones, writes ignored.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "lock.h"
#include "dev.h"
#include "err.h"
#include "vm.h"
#include "dev/i8042.h"

#define STR_OBF		0x01	/* output buffer full */
#define STR_SYS		0x04	/* system flag (mirrors CTR bit 2) */
#define STR_CMD		0x08	/* last write was to the command port */
#define STR_UNLOCKED	0x10	/* keyboard not inhibited */

#define CTR_KBDINT	0x01	/* interrupt (IRQ 1) when keyboard data arrives */
#define CTR_SYS		0x04
#define CTR_KBDDIS	0x10
#define CTR_AUXDIS	0x20
#define CTR_INIT	0x44	/* translate, system flag, no interrupts */

struct i8042 {
	pthread_mutex_t lock;
	uint8_t ctr;		/* command byte */
	uint8_t outp;		/* output port (bit 0: reset line, active low) */
	uint8_t out;		/* output buffer */
	bool obf;
	bool last_cmd;
	uint8_t wait_data;	/* command expecting a data byte, or 0 */
	void (*reset)(void *arg);
	void *reset_arg;
	/* keys typed by the host (SendCtrlAltDel): scancodes waiting for the OBF */
	uint8_t keys[I8042_KEYQ];
	unsigned nkeys;
	void (*irq)(void *arg);	/* pulse IRQ 1 */
	void *irq_arg;
};
DEV_MODEL_LOCK_FIRST(struct i8042);

/* Move the next typed scancode into an empty output buffer (lock held). */
static void feed_key(struct i8042 *k)
{
	if (k->obf || !k->nkeys || (k->ctr & CTR_KBDDIS))
		return;
	k->out = k->keys[0];
	k->obf = true;
	memmove(k->keys, k->keys + 1, --k->nkeys);
	if ((k->ctr & CTR_KBDINT) && k->irq)
		k->irq(k->irq_arg);
}

static void put_out(struct i8042 *k, uint8_t v)
{
	k->out = v;
	k->obf = true;
}

/* A command byte; returns true if it pulses the reset line. */
static bool command(struct i8042 *k, uint8_t cmd)
{
	k->wait_data = 0;
	switch (cmd) {
	case 0x20: put_out(k, k->ctr); break;
	case 0xa7: k->ctr |= CTR_AUXDIS; break;
	case 0xa8: k->ctr &= ~CTR_AUXDIS; break;
	case 0xa9: put_out(k, 0x02); break;
	case 0xaa: put_out(k, 0x55); break;
	case 0xab: put_out(k, 0x00); break;
	case 0xad: k->ctr |= CTR_KBDDIS; break;
	case 0xae: k->ctr &= ~CTR_KBDDIS; break;
	case 0xd0: put_out(k, k->outp); break;
	case 0x60: case 0xd1: case 0xd2: case 0xd3: case 0xd4:
		k->wait_data = cmd;
		break;
	default:
		return cmd >= 0xf0 && !(cmd & 1);
	}
	return false;
}

/* A data-port byte; returns true if it pulls the reset line. */
static bool data(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->wait_data;

	k->wait_data = 0;
	switch (cmd) {
	case 0x60: k->ctr = v; break;
	case 0xd1: k->outp = v | 0x01; return !(v & 0x01);
	case 0xd2: case 0xd3: put_out(k, v); break;
	default: break;		/* to the keyboard or mouse: nobody there */
	}
	return false;
}

static int port_io(struct i8042 *k, bool cmd_port, bool write,
		   uint64_t offset, unsigned size, uint64_t *val)
{
	bool reset = false;

	if (size != 1 || offset != 0) {
		if (!write)
			*val = ~0ULL;
		return 0;
	}
	lock(&k->lock, LOCK_DEVICE);
	if (write) {
		k->last_cmd = cmd_port;
		reset = cmd_port ? command(k, (uint8_t)*val) : data(k, (uint8_t)*val);
	} else if (cmd_port) {
		*val = (k->obf ? STR_OBF : 0) | (k->ctr & CTR_SYS ? STR_SYS : 0) |
		       (k->last_cmd ? STR_CMD : 0) | STR_UNLOCKED;
	} else {
		*val = k->obf ? k->out : 0;
		k->obf = false;
	}
	feed_key(k);		/* the next typed key, if any */
	unlock(&k->lock, LOCK_DEVICE);
	if (reset && k->reset)
		k->reset(k->reset_arg);
	return 0;
}

int i8042_data_io(void *arg, bool write, uint64_t offset, unsigned size,
		  uint64_t *val)
{
	return port_io(arg, false, write, offset, size, val);
}

int i8042_cmd_io(void *arg, bool write, uint64_t offset, unsigned size,
		 uint64_t *val)
{
	return port_io(arg, true, write, offset, size, val);
}

int i8042_create(struct i8042 **out, void (*reset)(void *arg), void *arg)
{
	struct i8042 *k = dev_model_alloc(sizeof(*k), "i8042");

	if (!k)
		return -ENOMEM;
	k->ctr = CTR_INIT;
	k->outp = 0x01;		/* reset line inactive */
	k->last_cmd = true;
	k->reset = reset;
	k->reset_arg = arg;
	*out = k;
	return 0;
}

void i8042_set_irq(struct i8042 *k, void (*irq)(void *arg), void *arg)
{
	lock(&k->lock, LOCK_DEVICE);
	k->irq = irq;
	k->irq_arg = arg;
	unlock(&k->lock, LOCK_DEVICE);
}

int i8042_type(struct i8042 *k, const uint8_t *codes, unsigned n)
{
	int r = 0;

	lock(&k->lock, LOCK_DEVICE);
	if (n > I8042_KEYQ - k->nkeys) {
		r = -EBUSY;
	} else {
		memcpy(k->keys + k->nkeys, codes, n);
		k->nkeys += n;
		feed_key(k);
	}
	unlock(&k->lock, LOCK_DEVICE);
	return r;
}

/*
 * Ctrl-Alt-Del as Firecracker sends it, in scancode set 1 (the controller
 * translates: CTR bit 6): Ctrl, Alt, Del (E0 53) pressed, then released.
 * Linux's keyboard driver turns it into ctrl_alt_del(): a reboot.
 */
static const uint8_t ctrl_alt_del[] = { 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };

static void i8042_vm_cad(void *arg)
{
	i8042_type(arg, ctrl_alt_del, sizeof(ctrl_alt_del));
}

static void i8042_vm_irq(void *arg)
{
	vm_irq_line(arg, 1, true);	/* an edge on ISA IRQ 1 */
	vm_irq_line(arg, 1, false);
}

static int i8042_new(struct vm *vm, void **dev)
{
	int r = i8042_create((struct i8042 **)dev, dev_vm_reset, vm);

	if (r == 0) {
		i8042_set_irq(*dev, i8042_vm_irq, vm);
		vm_set_ctrl_alt_del(vm, i8042_vm_cad, *dev);
	}
	return r;
}

DEVICE(i8042, .level = DEV_LEVEL_DEV, .create = i8042_new, .destroy = dev_model_free,
       .ranges = {
	       { "i8042-data", I8042_DATA_PORT, 1, i8042_data_io, IO_READ | IO_WRITE },
	       { "i8042-cmd", I8042_CMD_PORT, 1, i8042_cmd_io, IO_READ | IO_WRITE },
       });
