/*
 * Unit tests for the 16550A UART model (src/dev/uart16550.c): every
 * register, DLAB, FIFOs, loopback, interrupts, bad accesses, and Linux's
 * 8250 autoconfig probe replayed step by step.
 */
#include "unit.h"
#include <pthread.h>
#include <string.h>
#include "console.h"
#include "dev.h"
#include "iobus.h"
#include "vm.h"
#include "testvm.h"
#include "testdev.h"
#include "dev/uart16550.h"

/* Register offsets and bits, spelled as in Linux's serial_reg.h */
enum { RX = 0, TX = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, EFR = 2,
       LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

TESTDEV_CON_FIXTURE(struct uart, u, uart_create, uart_destroy)

static uint8_t in(struct uart *u, unsigned reg)
{
	uint64_t v = 0x5a5a5a5a;

	assert_int_equal(uart_io(u, false, reg, 1, &v), 0);
	assert_true(v <= 0xff);
	return (uint8_t)v;
}

static void out(struct uart *u, unsigned reg, uint8_t val)
{
	uint64_t v = val;

	assert_int_equal(uart_io(u, true, reg, 1, &v), 0);
}

static const char *output(struct fix *f, size_t *len)
{
	return console_memory_output(f->con, len);
}

static void test_reset_values(void **state)
{
	struct fix *f = *state;

	assert_int_equal(in(f->u, IER), 0x00);
	assert_int_equal(in(f->u, IIR), 0x01);		/* nothing pending */
	assert_int_equal(in(f->u, LCR), 0x03);
	assert_int_equal(in(f->u, MCR), 0x00);
	assert_int_equal(in(f->u, LSR), 0x60);		/* THRE | TEMT */
	assert_int_equal(in(f->u, MSR), 0xb0);		/* DCD | DSR | CTS */
	assert_int_equal(in(f->u, SCR), 0x00);
	assert_int_equal(in(f->u, RX), 0x00);		/* empty RBR */
}

static void test_bad_width_and_offset(void **state)
{
	struct fix *f = *state;
	static const uint64_t offs[] = { 8, 9, 0x100, UINT64_MAX };
	size_t len;

	out(f->u, SCR, 0x42);
	for (unsigned size = 2; size <= 8; size++) {
		for (unsigned reg = 0; reg < UART_NREGS; reg++) {
			uint64_t v = 0;
			assert_int_equal(uart_io(f->u, false, reg, size, &v), 0);
			assert_int_equal(v, ~0ULL);
			v = 0x4141;
			assert_int_equal(uart_io(f->u, true, reg, size, &v), 0);
		}
	}
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		uint64_t v = 0;
		assert_int_equal(uart_io(f->u, false, offs[i], 1, &v), 0);
		assert_int_equal(v, ~0ULL);
		v = 'Z';
		assert_int_equal(uart_io(f->u, true, offs[i], 1, &v), 0);
	}
	/* size 0 is refused the same way */
	uint64_t v = 0;
	assert_int_equal(uart_io(f->u, false, 0, 0, &v), 0);
	assert_int_equal(v, ~0ULL);
	/* nothing changed, nothing was sent */
	assert_int_equal(in(f->u, SCR), 0x42);
	assert_int_equal(in(f->u, IER), 0x00);
	assert_int_equal(in(f->u, LCR), 0x03);
	assert_int_equal(in(f->u, MCR), 0x00);
	output(f, &len);
	assert_int_equal(len, 0);
	/* a 1-byte write carrying high bits uses the low byte only */
	v = 0x1241;
	assert_int_equal(uart_io(f->u, true, TX, 1, &v), 0);
	assert_string_equal(output(f, NULL), "A");
}

static void test_scratch(void **state)
{
	struct fix *f = *state;

	for (unsigned v = 0; v < 256; v++) {
		out(f->u, SCR, (uint8_t)v);
		assert_int_equal(in(f->u, SCR), v);
	}
}

static void test_thr_output(void **state)
{
	struct fix *f = *state;
	const char *msg = "hello, world\n";

	for (const char *p = msg; *p; p++)
		out(f->u, TX, (uint8_t)*p);
	assert_string_equal(output(f, NULL), msg);
	assert_int_equal(in(f->u, LSR) & 0x60, 0x60);	/* drained at once */
}

static void test_dlab(void **state)
{
	struct fix *f = *state;
	size_t len;

	out(f->u, IER, 0x05);
	out(f->u, SCR, 0x77);
	out(f->u, LCR, 0x83);
	assert_int_equal(in(f->u, LCR), 0x83);
	out(f->u, DLL, 0x01);
	out(f->u, DLM, 0xc2);
	assert_int_equal(in(f->u, DLL), 0x01);
	assert_int_equal(in(f->u, DLM), 0xc2);
	/* DLAB only redirects offsets 0 and 1 */
	assert_int_equal(in(f->u, IIR), 0x01);
	assert_int_equal(in(f->u, SCR), 0x77);
	assert_int_equal(in(f->u, LSR), 0x60);
	output(f, &len);
	assert_int_equal(len, 0);			/* DLL write sent nothing */
	out(f->u, LCR, 0x03);
	assert_int_equal(in(f->u, IER), 0x05);		/* untouched by DLM */
	out(f->u, TX, 'q');
	assert_string_equal(output(f, NULL), "q");
	out(f->u, LCR, 0x80);
	assert_int_equal(in(f->u, DLL), 0x01);		/* untouched by THR */
	assert_int_equal(in(f->u, DLM), 0xc2);
}

static void test_ier_mcr_masks(void **state)
{
	struct fix *f = *state;

	out(f->u, IER, 0xff);
	assert_int_equal(in(f->u, IER), 0x0f);
	out(f->u, IER, 0x40);				/* Xscale UUE: no */
	assert_int_equal(in(f->u, IER), 0x00);
	out(f->u, MCR, 0xef);
	assert_int_equal(in(f->u, MCR), 0x0f);
	/* LSR and MSR ignore writes */
	out(f->u, MCR, 0x00);
	out(f->u, LSR, 0x00);
	out(f->u, MSR, 0x00);
	assert_int_equal(in(f->u, LSR), 0x60);
	assert_int_equal(in(f->u, MSR) & 0xf0, 0xb0);
}

static void test_fifo_iir_bits(void **state)
{
	struct fix *f = *state;

	out(f->u, FCR, 0x01);
	assert_int_equal(in(f->u, IIR), 0xc1);
	out(f->u, FCR, 0x21);				/* 64-byte bit: no */
	assert_int_equal(in(f->u, IIR), 0xc1);
	out(f->u, LCR, 0xbf);				/* no EFR either */
	assert_int_equal(in(f->u, EFR), 0xc1);
	out(f->u, LCR, 0x03);
	out(f->u, FCR, 0x00);
	assert_int_equal(in(f->u, IIR), 0x01);
	out(f->u, FCR, 0xc6);				/* bit 0 clear: ignored */
	assert_int_equal(in(f->u, IIR), 0x01);
}

static void test_rx_input(void **state)
{
	struct fix *f = *state;

	console_memory_input(f->con, "hi", 2);
	assert_int_equal(in(f->u, LSR), 0x61);		/* DR */
	assert_int_equal(in(f->u, RX), 'h');
	assert_int_equal(in(f->u, LSR), 0x61);
	assert_int_equal(in(f->u, RX), 'i');
	assert_int_equal(in(f->u, LSR), 0x60);
	assert_int_equal(in(f->u, RX), 0x00);
	/* input with DLAB set waits in the receiver */
	out(f->u, LCR, 0x80);
	console_memory_input(f->con, "x", 1);
	assert_int_equal(in(f->u, LSR), 0x61);
	out(f->u, LCR, 0x03);
	assert_int_equal(in(f->u, RX), 'x');
}

static void test_rx_no_loss_without_fifo(void **state)
{
	struct fix *f = *state;
	const char *msg = "abcdefghijklmnopqrstuvwxyz0123456789";

	console_memory_input(f->con, msg, strlen(msg));
	for (const char *p = msg; *p; p++) {
		assert_int_equal(in(f->u, LSR) & 0x03, 0x01);	/* DR, no OE */
		assert_int_equal(in(f->u, RX), *p);
	}
	assert_int_equal(in(f->u, LSR), 0x60);
}

static void test_rx_fifo_clear(void **state)
{
	struct fix *f = *state;
	char buf[20];

	for (int i = 0; i < 20; i++)
		buf[i] = (char)('A' + i);
	out(f->u, FCR, 0x01);
	out(f->u, IER, 0x01);		/* RX interrupts: input is taken eagerly */
	console_memory_input(f->con, buf, sizeof(buf));	/* FIFO takes 16 */
	out(f->u, FCR, 0x03);				/* clear RX */
	assert_int_equal(in(f->u, IIR) & 0xc0, 0xc0);	/* FIFOs still enabled */
	for (int i = 16; i < 20; i++) {
		assert_int_equal(in(f->u, LSR) & 0x01, 0x01);
		assert_int_equal(in(f->u, RX), 'A' + i);
	}
	assert_int_equal(in(f->u, LSR), 0x60);
	/* turning the FIFO off also empties it */
	console_memory_input(f->con, "xy", 2);
	assert_int_equal(in(f->u, LSR), 0x61);
	out(f->u, FCR, 0x00);
	assert_int_equal(in(f->u, RX), 0x00);
	assert_int_equal(in(f->u, LSR), 0x60);
}

/* A guest polling the UART (no RX interrupt) leaves input in the console
 * until it reads, so another console device (bvmcons) can take it. */
static void test_polling_guest_does_not_steal_input(void **state)
{
	struct fix *f = *state;

	console_memory_input(f->con, "ab", 2);
	assert_true(console_has_input(f->con));
	assert_int_equal(console_getc(f->con), 'a');	/* bvmcons reads first */
	assert_int_equal(in(f->u, LSR) & 0x01, 0x01);	/* the UART sees the rest */
	assert_int_equal(in(f->u, RX), 'b');
	assert_false(console_has_input(f->con));
}

static void test_loopback(void **state)
{
	struct fix *f = *state;
	size_t len;

	out(f->u, MCR, 0x10);
	console_memory_input(f->con, "c", 1);		/* must wait */
	out(f->u, TX, 'x');
	output(f, &len);
	assert_int_equal(len, 0);
	assert_int_equal(in(f->u, LSR), 0x61);
	assert_int_equal(in(f->u, RX), 'x');
	assert_int_equal(in(f->u, LSR), 0x60);
	/* MSR follows MCR: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD */
	static const uint8_t mcr_msr[][2] = {
		{ 0x11, 0x20 }, { 0x12, 0x10 }, { 0x14, 0x40 }, { 0x18, 0x80 }, { 0x1f, 0xf0 },
	};
	for (unsigned i = 0; i < sizeof(mcr_msr) / sizeof(mcr_msr[0]); i++) {
		out(f->u, MCR, mcr_msr[i][0]);
		assert_int_equal(in(f->u, MSR) & 0xf0, mcr_msr[i][1]);
	}
	/* leaving loopback lets the console byte in */
	out(f->u, MCR, 0x00);
	assert_int_equal(in(f->u, MSR) & 0xf0, 0xb0);
	assert_int_equal(in(f->u, LSR), 0x61);
	assert_int_equal(in(f->u, RX), 'c');
}

static void test_loopback_overrun(void **state)
{
	struct fix *f = *state;

	out(f->u, MCR, 0x10);
	out(f->u, TX, '1');
	out(f->u, TX, '2');				/* no FIFO: overrun */
	assert_int_equal(in(f->u, LSR), 0x63);		/* DR | OE */
	assert_int_equal(in(f->u, LSR), 0x61);		/* OE read-clears */
	assert_int_equal(in(f->u, RX), '1');
	out(f->u, FCR, 0x07);
	for (int i = 0; i < 17; i++)
		out(f->u, TX, (uint8_t)i);
	assert_int_equal(in(f->u, LSR), 0x63);
	for (int i = 0; i < 16; i++)
		assert_int_equal(in(f->u, RX), i);
	assert_int_equal(in(f->u, LSR), 0x60);
}

static void test_msr_deltas(void **state)
{
	struct fix *f = *state;

	out(f->u, MCR, 0x10);		/* DCD, DSR, CTS all drop */
	assert_int_equal(in(f->u, MSR), 0x0b);
	assert_int_equal(in(f->u, MSR), 0x00);		/* deltas read-clear */
	out(f->u, MCR, 0x14);				/* RI rises: no TERI */
	assert_int_equal(in(f->u, MSR), 0x40);
	out(f->u, MCR, 0x10);				/* RI falls: TERI */
	assert_int_equal(in(f->u, MSR), 0x04);
	out(f->u, MCR, 0x13);
	assert_int_equal(in(f->u, MSR), 0x33);		/* DSR|CTS, DDSR|DCTS */
}

static void test_interrupt_priority(void **state)
{
	struct fix *f = *state;

	out(f->u, FCR, 0x01);
	out(f->u, MCR, 0x10);				/* MSR delta pending */
	for (int i = 0; i < 17; i++)			/* data + overrun */
		out(f->u, TX, 'a');
	out(f->u, IER, 0x0f);
	assert_int_equal(in(f->u, IIR), 0xc6);		/* line status */
	in(f->u, LSR);
	assert_int_equal(in(f->u, IIR), 0xc4);		/* RX data */
	assert_int_equal(in(f->u, IIR), 0xc4);		/* IIR read keeps it */
	for (int i = 0; i < 16; i++)
		in(f->u, RX);
	assert_int_equal(in(f->u, IIR), 0xc2);		/* THR empty ... */
	assert_int_equal(in(f->u, IIR), 0xc0);		/* ... read-cleared; MSR */
	in(f->u, MSR);
	assert_int_equal(in(f->u, IIR), 0xc1);
	/* each source needs its enable bit */
	out(f->u, IER, 0x00);
	out(f->u, TX, 'b');
	out(f->u, MCR, 0x00);
	assert_int_equal(in(f->u, IIR), 0xc1);
}

static void test_thre_semantics(void **state)
{
	struct fix *f = *state;

	out(f->u, IER, 0x02);				/* rising ETBEI */
	assert_int_equal(in(f->u, IIR), 0x02);
	assert_int_equal(in(f->u, IIR), 0x01);		/* read cleared it */
	out(f->u, TX, '.');				/* THR empties again */
	assert_int_equal(in(f->u, IIR), 0x02);
	out(f->u, IER, 0x02);				/* no edge: no THRE */
	assert_int_equal(in(f->u, IIR), 0x01);
	out(f->u, IER, 0x00);
	out(f->u, IER, 0x02);				/* edge again */
	assert_int_equal(in(f->u, IIR), 0x02);
	/* RX data outranks THRE and hides it from the IIR read */
	out(f->u, TX, '.');
	out(f->u, IER, 0x03);
	console_memory_input(f->con, "k", 1);
	assert_int_equal(in(f->u, IIR), 0x04);
	assert_int_equal(in(f->u, RX), 'k');
	assert_int_equal(in(f->u, IIR), 0x02);
	assert_int_equal(in(f->u, IIR), 0x01);
}

struct irqrec {
	int calls;
	bool level;
};

static void rec_level(void *arg, bool level)
{
	struct irqrec *r = arg;

	r->calls++;
	r->level = level;
}

static void test_irq_line(void **state)
{
	struct fix *f = *state;
	struct irqrec r = { 0, true };

	uart_set_irq(f->u, rec_level, &r);
	assert_int_equal(r.calls, 1);			/* initial level */
	assert_false(r.level);
	out(f->u, IER, 0x01);
	assert_int_equal(r.calls, 1);			/* no change */
	console_memory_input(f->con, "ab", 2);		/* console callback */
	assert_int_equal(r.calls, 2);
	assert_true(r.level);
	in(f->u, RX);					/* 'b' moves up */
	assert_int_equal(r.calls, 2);
	in(f->u, RX);
	assert_int_equal(r.calls, 3);
	assert_false(r.level);
	out(f->u, IER, 0x03);				/* THRE */
	assert_true(r.level);
	in(f->u, IIR);
	assert_false(r.level);
	assert_int_equal(r.calls, 5);
	uart_input_ready(f->u);				/* spurious: no change */
	assert_int_equal(r.calls, 5);
	uart_set_irq(f->u, NULL, NULL);			/* disconnect */
	out(f->u, TX, '!');
	assert_int_equal(r.calls, 5);
}

/*
 * Linux's drivers/tty/serial/8250/8250_port.c, autoconfig() with
 * autoconfig_16550a() and size_fifo(), replayed against the model.
 * Returns the port type Linux would pick.
 */
enum { PORT_UNKNOWN, PORT_8250, PORT_16450, PORT_16550, PORT_16550A,
       PORT_16650, PORT_16550A_FSL64, PORT_16650V2, PORT_NS16550A,
       PORT_16750, PORT_XSCALE, PORT_U6_16550A };

static int size_fifo(struct uart *u)
{
	uint8_t old_lcr, old_fcr, old_mcr, old_dll, old_dlm;
	int count;

	old_lcr = in(u, LCR);
	out(u, LCR, 0);
	old_fcr = in(u, FCR);
	old_mcr = in(u, MCR);
	out(u, FCR, 0x07);
	out(u, MCR, 0x10);
	out(u, LCR, 0x80);
	old_dll = in(u, DLL);
	old_dlm = in(u, DLM);
	out(u, DLL, 1);
	out(u, DLM, 0);
	out(u, LCR, 0x03);
	for (count = 0; count < 256; count++)
		out(u, TX, (uint8_t)count);
	for (count = 0; (in(u, LSR) & 0x01) && count < 256; count++)
		in(u, RX);
	out(u, FCR, old_fcr);
	out(u, MCR, old_mcr);
	out(u, LCR, old_lcr | 0x80);
	out(u, DLL, old_dll);
	out(u, DLM, old_dlm);
	out(u, LCR, old_lcr);
	return count;
}

static int autoconfig_16550a(struct uart *u)
{
	uint8_t status1, status2, iersave;

	out(u, LCR, 0x80);				/* CONF_MODE_A */
	if (in(u, EFR) == 0)
		return PORT_16650;			/* (or FSL64) */
	out(u, LCR, 0xbf);				/* CONF_MODE_B */
	if (in(u, EFR) == 0)
		return PORT_16650V2;
	out(u, LCR, 0);
	status1 = in(u, MCR);
	out(u, LCR, 0xe0);
	status2 = in(u, 0x02);				/* EXCR1 */
	if (!((status2 ^ status1) & 0x10)) {
		out(u, LCR, 0);
		out(u, MCR, status1 ^ 0x10);
		out(u, LCR, 0xe0);
		status2 = in(u, 0x02);
		out(u, LCR, 0);
		out(u, MCR, status1);
		if ((status2 ^ status1) & 0x10)
			return PORT_NS16550A;
	}
	out(u, LCR, 0);
	out(u, FCR, 0x21);
	status1 = in(u, IIR) & 0xe0;
	out(u, FCR, 0x01);
	out(u, LCR, 0x80);
	out(u, FCR, 0x21);
	status2 = in(u, IIR) & 0xe0;
	out(u, FCR, 0x01);
	out(u, LCR, 0);
	if (status1 == 0xc0 && status2 == 0xe0)
		return PORT_16750;
	iersave = in(u, IER);
	out(u, IER, iersave & ~0x40);
	if (!(in(u, IER) & 0x40)) {
		out(u, IER, iersave | 0x40);
		if (in(u, IER) & 0x40)
			return PORT_XSCALE;
	}
	out(u, IER, iersave);
	if (size_fifo(u) == 64)
		return PORT_U6_16550A;
	return PORT_16550A;
}

static int autoconfig(struct uart *u)
{
	uint8_t scratch, scratch2, scratch3, save_mcr, save_lcr, status1;
	int type;

	scratch = in(u, IER);
	out(u, IER, 0);
	scratch2 = in(u, IER) & 0x0f;
	out(u, IER, 0x0f);
	scratch3 = in(u, IER) & 0x0f;
	out(u, IER, scratch);
	if (scratch2 != 0 || scratch3 != 0x0f)
		return PORT_UNKNOWN;			/* "nothing here" */
	save_mcr = in(u, MCR);
	save_lcr = in(u, LCR);
	out(u, MCR, 0x10 | 0x0a);			/* loopback test */
	status1 = in(u, MSR) & 0xf0;
	out(u, MCR, save_mcr);
	if (status1 != 0x90)
		return PORT_UNKNOWN;
	out(u, LCR, 0xbf);
	out(u, EFR, 0);
	out(u, LCR, 0);
	out(u, FCR, 0x01);
	scratch = in(u, IIR) >> 6;
	switch (scratch) {
	case 0: type = PORT_16450; break;		/* (or 8250) */
	case 1: type = PORT_UNKNOWN; break;
	case 2: type = PORT_16550; break;
	default: type = autoconfig_16550a(u); break;
	}
	out(u, LCR, save_lcr);
	/* reset the UART as autoconfig does */
	out(u, MCR, save_mcr);
	out(u, FCR, 0x01);
	out(u, FCR, 0x07);
	out(u, FCR, 0x00);
	in(u, RX);
	out(u, IER, 0);
	return type;
}

static void test_linux_autoconfig(void **state)
{
	struct fix *f = *state;

	assert_int_equal(autoconfig(f->u), PORT_16550A);
	assert_int_equal(size_fifo(f->u), UART_FIFO_SIZE);
	assert_int_equal(in(f->u, LCR), 0x03);
	assert_int_equal(in(f->u, MCR), 0x00);
	assert_int_equal(in(f->u, IER), 0x00);
	assert_string_equal(output(f, NULL), "");	/* loopback only */
}

/* serial8250_startup(): LSR safety check and the THRE re-assert test. */
static void test_linux_startup(void **state)
{
	struct fix *f = *state;
	uint8_t iir1, iir;

	out(f->u, FCR, 0x01);
	out(f->u, FCR, 0x07);
	out(f->u, FCR, 0x00);
	in(f->u, LSR);
	in(f->u, RX);
	in(f->u, IIR);
	in(f->u, MSR);
	assert_int_not_equal(in(f->u, LSR), 0xff);
	out(f->u, LCR, 0x03);
	out(f->u, MCR, 0x0b);				/* DTR | RTS | OUT2 */
	while (!(in(f->u, LSR) & 0x20))
		;
	out(f->u, IER, 0x02);
	iir1 = in(f->u, IIR);
	out(f->u, IER, 0);
	out(f->u, IER, 0x02);
	iir = in(f->u, IIR);
	out(f->u, IER, 0);
	/* UART_BUG_THRE if pending first but not re-asserted */
	assert_false(!(iir1 & 0x01) && (iir & 0x01));
	assert_int_equal(iir1 & 0x0f, 0x02);
	assert_int_equal(iir & 0x0f, 0x02);
}

/* Input arriving on another thread while a vCPU polls: no loss, no hang. */
struct feeder {
	struct console *con;
	int n;
};

static void *feed(void *arg)
{
	struct feeder *fd = arg;

	for (int i = 0; i < fd->n; i++) {
		char c = (char)('a' + i % 26);
		console_memory_input(fd->con, &c, 1);
	}
	return NULL;
}

static void test_threaded_input(void **state)
{
	struct fix *f = *state;
	struct feeder fd = { f->con, 3000 };
	pthread_t t;
	int got = 0;

	out(f->u, FCR, 0x01);
	out(f->u, IER, 0x01);
	assert_int_equal(pthread_create(&t, NULL, feed, &fd), 0);
	while (got < fd.n) {
		if (in(f->u, LSR) & 0x01) {
			assert_int_equal(in(f->u, RX), 'a' + got % 26);
			got++;
		}
	}
	pthread_join(t, NULL);
	assert_int_equal(in(f->u, LSR), 0x60);
}

/* The DEVICE() declaration: COM1 registered on a bus, reached through it. */
static void test_device_init(void **state)
{
	struct fix *f = *state;
	uint64_t v;
	struct vm *vm = testvm_with("uart16550", f->con);

	assert_range(PIO(vm), UART_COM1_BASE, 1, "uart16550", 0x3f8, 8);
	assert_non_null(iobus_find(PIO(vm), 0x3ff, 1));
	assert_null(iobus_find(PIO(vm), 0x400, 1));
	v = 'B';
	assert_int_equal(iobus_access(PIO(vm), true, 0x3f8, 1, &v), 0);
	assert_string_equal(output(f, NULL), "B");
	assert_int_equal(iobus_access(PIO(vm), false, 0x3fd, 1, &v), 0);
	assert_int_equal(v, 0x60);
	assert_int_equal(iobus_access(PIO(vm), false, 0x3fc, 4, &v), 0);
	assert_int_equal(v, 0xffffffff);		/* 4-byte: all ones */
	vm_destroy(vm);
}

TEST_MAIN(NULL, NULL,
	  TEST_FIX(test_reset_values), TEST_FIX(test_bad_width_and_offset), TEST_FIX(test_scratch),
	  TEST_FIX(test_thr_output), TEST_FIX(test_dlab), TEST_FIX(test_ier_mcr_masks),
	  TEST_FIX(test_fifo_iir_bits), TEST_FIX(test_rx_input),
	  TEST_FIX(test_rx_no_loss_without_fifo), TEST_FIX(test_rx_fifo_clear),
	  TEST_FIX(test_polling_guest_does_not_steal_input), TEST_FIX(test_loopback),
	  TEST_FIX(test_loopback_overrun), TEST_FIX(test_msr_deltas),
	  TEST_FIX(test_interrupt_priority), TEST_FIX(test_thre_semantics),
	  TEST_FIX(test_irq_line), TEST_FIX(test_linux_autoconfig), TEST_FIX(test_linux_startup),
	  TEST_FIX(test_threaded_input), TEST_FIX(test_device_init))
