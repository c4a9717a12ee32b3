/*
 * uart16550.h - a 16550A UART (COM1) on top of the console backend.
 *
 * The model is usable without a VM: create it on a console, feed it port
 * accesses through uart_io() (offset 0..7 from the base, 1-byte wide), and
 * optionally give it an interrupt line with uart_set_irq().
 */
#ifndef HYVE_DEV_UART16550_H
#define HYVE_DEV_UART16550_H

#include <stdbool.h>
#include <stdint.h>
#include "dev.h"
#include "iobus.h"

#define UART_COM1_BASE	0x3f8
#define UART_COM1_IRQ	4
#define UART_NREGS	8	/* registers: offsets 0..7 */
#define UART_FIFO_SIZE	16	/* receive FIFO depth (16550A) */

struct console;
struct uart;

/*
 * Create a UART whose transmitter writes to con and whose receiver takes
 * con's input.  Registers uart_input_ready() with console_on_input(), so the
 * console must not deliver input after uart_destroy().  0 or -errno.
 */
int uart_create(struct uart **out, struct console *con);
static inline void uart_destroy(struct uart *u) { dev_model_free(u); }

/* The port handler (io_handler_fn); arg is the struct uart. */
io_handler uart_io;

/*
 * Connect the interrupt output.  set_level(arg, level) is called at once
 * with the current level and then whenever it changes; it runs with the
 * UART's lock held, so it must not call back into the UART.
 */
void uart_set_irq(struct uart *u, void (*set_level)(void *arg, bool level),
		  void *arg);

/*
 * THR writes are being coalesced (by the VM); stop(arg) is called once,
 * under the UART's lock, when the guest first enables THR-empty interrupts.
 */
void uart_set_coalescing(struct uart *u, void (*stop)(void *arg), void *arg);

/* Console input callback (arg is the struct uart): pull input, update IRQ. */
void uart_input_ready(void *arg);

#endif
