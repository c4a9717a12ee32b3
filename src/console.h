/*
 * console.h - the console backend shared by the console devices.
 *
 * Devices (16550 UART, bvmcons) put guest output bytes here and take input
 * bytes from here; they never touch file descriptors.  Output is buffered and
 * written out when the buffer fills or console_flush() is called (the main
 * loop does so at least every few milliseconds, so no byte waits long).
 *
 * Backends: stdio (stdin in raw mode when it is a tty, with the escape
 * Ctrl-A x to quit), pty (a new pseudo-terminal), file=PATH (output
 * only), none.
 */
#ifndef HYVE_CONSOLE_H
#define HYVE_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

struct console;

/*
 * A pty backend's slave path ("/dev/pts/N"), NULL for the others.
 */
const char *console_describe(struct console *con);

/* Parse a --console value and open the backend.  Returns 0 or -errno. */
int console_open(struct console **out, const char *spec);
void console_close(struct console *con);	/* flushes, restores the tty */

/* Guest output: append bytes (thread-safe). */
void console_put(struct console *con, const void *buf, size_t len);
static inline void console_putc(struct console *con, unsigned char c)
{
	console_put(con, &c, 1);
}
void console_flush(struct console *con);
/* The same unless another thread is writing already (the main loop's tick). */
void console_try_flush(struct console *con);

/* Guest input: the next byte, or -1 if none is waiting (thread-safe). */
int console_getc(struct console *con);
bool console_has_input(struct console *con);

/*
 * Called (from the main loop's thread) whenever input bytes arrive, so an
 * interrupt-driven device can raise its interrupt.  One callback per device;
 * at most 4.
 */
int console_on_input(struct console *con, void (*fn)(void *arg), void *arg);

/* Forget every input listener (their devices are going away). */
void console_clear_listeners(struct console *con);

/* Monotonic time (ns) of the first output byte since console_mark(), or 0. */
unsigned long long console_first_output_ns(struct console *con);
void console_mark(struct console *con);

/* For the main loop: fd to poll for input (-1 if none) and its handler. */
int console_input_fd(struct console *con);
/* Read what is ready; returns 1 if the user asked to quit (Ctrl-A x), 0 ok. */
int console_input_ready(struct console *con);

/* Restore the terminal; async-signal-safe (for fatal signal handlers). */
void console_restore_tty_async(void);

/*
 * A console whose input comes from a buffer and whose output is collected
 * in memory, for unit tests of devices.
 */
struct console *console_new_memory(void);
/* Bytes the guest has written so far (NUL-terminated copy inside con). */
const char *console_memory_output(struct console *con, size_t *len);
/* Queue input bytes as if typed. */
void console_memory_input(struct console *con, const void *buf, size_t len);

#endif
