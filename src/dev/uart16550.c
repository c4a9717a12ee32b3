/*
 * uart16550.c - a 16550A UART on COM1 (ports 0x3f8-0x3ff), following the
 * National Semiconductor PC16550D datasheet as far as a guest can observe,
 * and enough of it that Linux's 8250 autoconfig() reports a 16550A.
 *
 * Behaviour at the edges (all tested in tests/unit/test_dev_uart16550.c):
 *  - Only 1-byte accesses at offsets 0..7 are registers; any other width or
 *    offset reads all ones and writes are ignored.
 *  - The transmitter drains instantly: LSR.THRE and LSR.TEMT are always set,
 *    and each THR write makes the THRE interrupt pending again at once.
 *  - The receiver holds 16 bytes with FIFOs enabled, 1 without.  It pulls
 *    bytes from the console only while it has room, so console input is never
 *    overrun; an empty RBR reads 0.  Changing FCR bit 0 or writing FCR with
 *    bit 1 set empties it (the bytes are lost, as on the chip).
 *  - Loopback (MCR bit 4): THR bytes go to the receiver (overrun sets LSR.OE
 *    and drops the byte), console input waits, and MSR's upper nibble follows
 *    MCR: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD.  Outside loopback the
 *    modem lines read DCD, DSR and CTS asserted, so no open or flow control
 *    ever waits.  MSR delta bits record changes; reading MSR clears them.
 *  - Interrupt priority as in the datasheet: line status (OE with ELSI), RX
 *    data (reported as 0x04 for any non-empty receiver), THR empty, modem
 *    status.  THRE is pending when THR empties, and when IER.ETBEI goes from
 *    0 to 1 (as Linux's startup THRE test and QEMU expect); reading IIR
 *    while it is the reported source, or writing THR, clears it.
 *  - IIR bits 6-7 read 11 when FIFOs are enabled; there is no EFR and no
 *    64-byte mode, so LCR 0xbf is an ordinary LCR value.  IER bits 4-7 and
 *    MCR bits 5-7 read 0; writes to LSR and MSR are ignored.
 *  - MCR.OUT2 does not gate the interrupt line (like QEMU and bhyve).
 *
 * THR writes are coalesced by KVM (vm_coalesce_pio) while the guest polls:
 * they need no answer and are replayed in order before the next exit.  The
 * first time the guest enables THR-empty interrupts (Linux's 8250 driver
 * once its tty opens), coalescing stops for good: a write must then raise
 * its interrupt at once.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include "lock.h"
#include "console.h"
#include "dev.h"
#include "err.h"
#include "vm.h"
#include "dev/uart16550.h"

/* Register offsets */
#define REG_DATA	0	/* RBR (read) / THR (write); DLL when DLAB */
#define REG_IER		1	/* DLM when DLAB */
#define REG_IIR		2	/* IIR (read) / FCR (write) */
#define REG_LCR		3
#define REG_MCR		4
#define REG_LSR		5
#define REG_MSR		6
#define REG_SCR		7

#define IER_ERBFI	0x01	/* RX data available */
#define IER_ETBEI	0x02	/* THR empty */
#define IER_ELSI	0x04	/* receiver line status */
#define IER_EDSSI	0x08	/* modem status */

#define IIR_NONE	0x01
#define IIR_MSR		0x00
#define IIR_THRE	0x02
#define IIR_RDA		0x04
#define IIR_RLS		0x06
#define IIR_FIFO	0xc0

#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define FCR_KEEP	0xc9	/* enable, DMA mode, trigger level */

#define LCR_DLAB	0x80

#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define MCR_MASK	0x1f

#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_THRE	0x20
#define LSR_TEMT	0x40

#define MSR_DCTS	0x01
#define MSR_DDSR	0x02
#define MSR_TERI	0x04
#define MSR_DDCD	0x08
#define MSR_DELTA	0x0f
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

struct uart {
	pthread_mutex_t lock;
	struct console *con;
	uint8_t rx[UART_FIFO_SIZE];	/* receiver ring */
	unsigned rx_head, rx_len;
	uint8_t ier, lcr, mcr, msr, scr, fcr, dll, dlm;
	bool overrun;			/* LSR.OE, cleared by reading LSR */
	bool thre_pending;
	bool irq_level;
	void (*set_level)(void *arg, bool level);
	void *irq_arg;
	/* THR writes may be coalesced by KVM until the guest first asks for
	 * THR-empty interrupts; then stop_coalescing(arg) is called once */
	void (*stop_coalescing)(void *arg);
	void *coalesce_arg;
};
DEV_MODEL_LOCK_FIRST(struct uart);

static unsigned rx_room(const struct uart *u)
{
	return (u->fcr & FCR_ENABLE ? UART_FIFO_SIZE : 1) - u->rx_len;
}

static void rx_push(struct uart *u, uint8_t c)
{
	if (rx_room(u) == 0) {
		u->overrun = true;
		return;
	}
	u->rx[(u->rx_head + u->rx_len) % UART_FIFO_SIZE] = c;
	u->rx_len++;
}

static uint8_t rx_pop(struct uart *u)
{
	uint8_t c;

	if (u->rx_len == 0)
		return 0;
	c = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
	u->rx_len--;
	return c;
}

/* Take console input while the receiver has room (not in loopback). */
static void rx_fill(struct uart *u)
{
	int c;

	if (u->mcr & MCR_LOOP)
		return;
	while (rx_room(u) > 0 && (c = console_getc(u->con)) >= 0)
		rx_push(u, (uint8_t)c);
}

/* The modem lines as seen in MSR's upper nibble. */
static uint8_t modem_lines(uint8_t mcr)
{
	uint8_t msr = 0;

	if (!(mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	if (mcr & MCR_DTR)
		msr |= MSR_DSR;
	if (mcr & MCR_RTS)
		msr |= MSR_CTS;
	if (mcr & MCR_OUT1)
		msr |= MSR_RI;
	if (mcr & MCR_OUT2)
		msr |= MSR_DCD;
	return msr;
}

static void set_mcr(struct uart *u, uint8_t mcr)
{
	uint8_t now = modem_lines(mcr), was = u->msr;

	u->mcr = mcr & MCR_MASK;
	if ((now ^ was) & MSR_CTS)
		u->msr |= MSR_DCTS;
	if ((now ^ was) & MSR_DSR)
		u->msr |= MSR_DDSR;
	if ((now ^ was) & MSR_DCD)
		u->msr |= MSR_DDCD;
	if ((was & MSR_RI) && !(now & MSR_RI))	/* trailing edge of RI */
		u->msr |= MSR_TERI;
	u->msr = (u->msr & MSR_DELTA) | now;
}

/* The highest-priority pending interrupt, as IIR bits 0-3. */
static uint8_t intr_source(const struct uart *u)
{
	if (u->overrun && (u->ier & IER_ELSI))
		return IIR_RLS;
	if (u->rx_len && (u->ier & IER_ERBFI))
		return IIR_RDA;
	if (u->thre_pending && (u->ier & IER_ETBEI))
		return IIR_THRE;
	if ((u->msr & MSR_DELTA) && (u->ier & IER_EDSSI))
		return IIR_MSR;
	return IIR_NONE;
}

static void update_irq(struct uart *u)
{
	bool level = intr_source(u) != IIR_NONE;

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	if (u->set_level)
		u->set_level(u->irq_arg, level);
}

static void write_fcr(struct uart *u, uint8_t v)
{
	if ((v ^ u->fcr) & FCR_ENABLE)		/* FIFO mode changes: reset */
		u->rx_len = 0;
	if (!(v & FCR_ENABLE)) {		/* other bits need bit 0 */
		u->fcr = 0;
		return;
	}
	if (v & FCR_CLEAR_RX)
		u->rx_len = 0;
	u->fcr = v & FCR_KEEP;			/* bits 1-2 self-clear */
}

static uint8_t reg_read(struct uart *u, unsigned reg)
{
	uint8_t v, src;
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case REG_DATA:
		if (dlab)
			return u->dll;
		v = rx_pop(u);
		rx_fill(u);
		return v;
	case REG_IER:
		return dlab ? u->dlm : u->ier;
	case REG_IIR:
		rx_fill(u);
		src = intr_source(u);
		if (src == IIR_THRE)
			u->thre_pending = false;
		return src | (u->fcr & FCR_ENABLE ? IIR_FIFO : 0);
	case REG_LCR:
		return u->lcr;
	case REG_MCR:
		return u->mcr;
	case REG_LSR:
		rx_fill(u);
		v = LSR_THRE | LSR_TEMT;
		if (u->rx_len)
			v |= LSR_DR;
		if (u->overrun)
			v |= LSR_OE;
		u->overrun = false;
		return v;
	case REG_MSR:
		v = u->msr;
		u->msr &= ~MSR_DELTA;
		return v;
	default:
		return u->scr;
	}
}

static void reg_write(struct uart *u, unsigned reg, uint8_t v)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case REG_DATA:
		if (dlab) {
			u->dll = v;
			return;
		}
		if (u->mcr & MCR_LOOP)
			rx_push(u, v);
		else
			console_putc(u->con, v);
		u->thre_pending = true;		/* THR empties at once */
		return;
	case REG_IER:
		if (dlab) {
			u->dlm = v;
			return;
		}
		if (!(u->ier & IER_ETBEI) && (v & IER_ETBEI))
			u->thre_pending = true;
		if ((v & IER_ETBEI) && u->stop_coalescing) {
			/* a THR write must now raise its interrupt at once */
			u->stop_coalescing(u->coalesce_arg);
			u->stop_coalescing = NULL;
		}
		u->ier = v & 0x0f;
		if (u->ier & IER_ERBFI)
			rx_fill(u);	/* input already waiting interrupts now */
		return;
	case REG_IIR:
		write_fcr(u, v);
		rx_fill(u);
		return;
	case REG_LCR:
		u->lcr = v;
		return;
	case REG_MCR:
		set_mcr(u, v);
		rx_fill(u);			/* leaving loopback */
		return;
	case REG_LSR:
	case REG_MSR:
		return;				/* read-only here */
	default:
		u->scr = v;
		return;
	}
}

int uart_io(void *arg, bool write, uint64_t offset, unsigned size,
	    uint64_t *val)
{
	struct uart *u = arg;

	if (size != 1 || offset >= UART_NREGS) {
		if (!write)
			*val = ~0ULL;
		return 0;
	}
	lock(&u->lock, LOCK_DEVICE);
	if (write)
		reg_write(u, (unsigned)offset, (uint8_t)*val);
	else
		*val = reg_read(u, (unsigned)offset);
	update_irq(u);
	unlock(&u->lock, LOCK_DEVICE);
	return 0;
}

void uart_input_ready(void *arg)
{
	struct uart *u = arg;

	lock(&u->lock, LOCK_DEVICE);
	/*
	 * Take input eagerly only from a guest that asked for receive
	 * interrupts; a polling guest pulls it with its own reads, so input
	 * meant for another console device (bvmcons) is not swallowed here.
	 */
	if (u->ier & IER_ERBFI)
		rx_fill(u);
	update_irq(u);
	unlock(&u->lock, LOCK_DEVICE);
}

void uart_set_coalescing(struct uart *u, void (*stop)(void *arg), void *arg)
{
	lock(&u->lock, LOCK_DEVICE);
	u->stop_coalescing = stop;
	u->coalesce_arg = arg;
	unlock(&u->lock, LOCK_DEVICE);
}

void uart_set_irq(struct uart *u, void (*set_level)(void *arg, bool level),
		  void *arg)
{
	lock(&u->lock, LOCK_DEVICE);
	u->set_level = set_level;
	u->irq_arg = arg;
	u->irq_level = intr_source(u) != IIR_NONE;
	if (set_level)
		set_level(arg, u->irq_level);
	unlock(&u->lock, LOCK_DEVICE);
}

int uart_create(struct uart **out, struct console *con)
{
	struct uart *u = dev_model_alloc(sizeof(*u), "uart16550");
	int r;

	if (!u)
		return -ENOMEM;
	u->con = con;
	u->msr = modem_lines(0);
	u->dll = 12;			/* 9600 baud, as a BIOS leaves it */
	u->lcr = 0x03;			/* 8N1 */
	if ((r = console_on_input(con, uart_input_ready, u)) < 0) {
		uart_destroy(u);
		return r;
	}
	*out = u;
	return 0;
}

/* The UART's interrupt output drives ISA IRQ 4 (edge: raised on 0 -> 1). */
static void uart_irq_to_vm(void *vm, bool level)
{
	vm_irq_line(vm, UART_COM1_IRQ, level);
}

static void uart_stop_coalescing(void *vm)
{
	vm_uncoalesce_pio(vm, UART_COM1_BASE, 1);
}

/* COM1 */
static int uart_new(struct vm *vm, void **dev)
{
	return uart_create((struct uart **)dev, vm_console(vm));
}

static int uart_attach(struct vm *vm, void *u)
{
	uart_set_irq(u, uart_irq_to_vm, vm);
	/*
	 * A polling driver (LSR, then THR) costs two exits per byte; KVM can
	 * queue the THR writes in its coalesced ring instead (replayed in
	 * order before the next exit, so a read of LSR, RBR or DLL still sees
	 * them), halving that.  Only while no THR-empty interrupt is wanted.
	 */
	if (vm_coalesce_pio(vm, UART_COM1_BASE, 1) == 0)
		uart_set_coalescing(u, uart_stop_coalescing, vm);
	else
		err_clear();
	return 0;
}

DEVICE(uart16550, .level = DEV_LEVEL_DEV, .create = uart_new, .destroy = dev_model_free,
       .ranges = { { "uart16550", UART_COM1_BASE, UART_NREGS, uart_io, IO_READ | IO_WRITE } },
       .attach = uart_attach);
