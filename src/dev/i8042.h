/*
 * i8042.h - a minimal PS/2 keyboard controller: no keyboard, no mouse, but
 * the command byte, self-tests and the reset line.
 */
#ifndef HYVE_DEV_I8042_H
#define HYVE_DEV_I8042_H

#include <stdbool.h>
#include <stdint.h>
#include "dev.h"
#include "iobus.h"

#define I8042_DATA_PORT	0x60
#define I8042_CMD_PORT	0x64	/* status on read, command on write */

struct i8042;

/* reset(arg) is called (without the device lock) when the guest pulses
 * the CPU reset line, e.g. `out 0x64, 0xfe`. */
int i8042_create(struct i8042 **out, void (*reset)(void *arg), void *arg);
static inline void i8042_destroy(struct i8042 *k) { dev_model_free(k); }

/* Port handlers (io_handler_fn); arg is the struct i8042. */
#define I8042_KEYQ	16	/* typed scancodes waiting */

/*
 * Type scancodes (set 1) as a keyboard would: each reaches the output buffer
 * when it is empty, with an IRQ 1 edge if the guest enabled it (irq).
 * -EBUSY if they do not fit in the queue.
 */
int i8042_type(struct i8042 *k, const uint8_t *codes, unsigned n);
void i8042_set_irq(struct i8042 *k, void (*irq)(void *arg), void *arg);

io_handler i8042_data_io;
io_handler i8042_cmd_io;

#endif
