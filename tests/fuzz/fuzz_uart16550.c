/*
 * fuzz_uart16550.c - libFuzzer target for the 16550A model: random sequences
 * of port accesses (any offset, width, direction, value), console input and
 * interrupt-line changes, with the model's invariants checked as it goes.
 *
 *   clang -g -O1 -std=gnu11 -D_GNU_SOURCE -Isrc \
 *	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
 *	-o build/fuzz_uart16550 tests/fuzz/fuzz_uart16550.c \
 *	src/dev/uart16550.c + the VM core (Makefile: FUZZ_VM_SRC) -lpthread
 *   build/fuzz_uart16550 -max_total_time=30
 *
 * Each input is a list of 4-byte records: op, offset, size, value.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "console.h"
#include "dev/uart16550.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

struct line {
	bool connected, level;
	unsigned calls;
};

static void set_level(void *arg, bool level)
{
	struct line *l = arg;

	/* called at connection, then only on a change */
	CHECK(!l->connected || level != l->level);
	l->connected = true;
	l->level = level;
	l->calls++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct console *con = console_new_memory();
	struct line line = { false, false, 0 };
	struct uart *u;

	CHECK(con && uart_create(&u, con) == 0);
	if (size > 0 && (data[0] & 1))
		uart_set_irq(u, set_level, &line);
	for (size_t i = 0; i + 4 <= size; i += 4) {
		uint8_t op = data[i], off = data[i + 1], sz = data[i + 2];
		uint64_t val = data[i + 3], v;
		/* mostly sane accesses, sometimes wild ones */
		uint64_t offset = (op & 0x80) ? off : off & 7;
		unsigned width = (op & 0x40) ? sz % 9 : 1;
		bool before = line.level;

		switch (op & 7) {
		case 0: case 1: case 2:			/* read */
			v = 0xdeadbeef;
			CHECK(uart_io(u, false, offset, width, &v) == 0);
			if (width != 1 || offset >= UART_NREGS) {
				CHECK(v == ~0ULL);
				break;
			}
			CHECK(v <= 0xff);
			if (offset == 5)		/* LSR: THRE | TEMT */
				CHECK((v & 0x60) == 0x60);
			/* IIR: an interrupt is reported iff the line was high */
			if (offset == 2 && line.connected)
				CHECK(!(v & 1) == before);
			break;
		case 3: case 4: case 5:			/* write */
			v = val | ((uint64_t)sz << 8);
			CHECK(uart_io(u, true, offset, width, &v) == 0);
			break;
		case 6:					/* input arrives */
			console_memory_input(con, &data[i + 1], 1 + (sz & 1));
			break;
		default:				/* spurious notify */
			uart_input_ready(u);
			break;
		}
	}
	console_close(con);
	uart_destroy(u);
	return 0;
}
