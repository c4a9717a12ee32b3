/*
 * Unit tests for the pty console backend (--console pty): the slave path,
 * output to a client, input from it, and output with nobody attached
 * (dropped, never blocking the guest).
 */
#include "unit.h"
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include "console.h"

static void test_pty_roundtrip(void **state)
{
	struct console *con = NULL;
	const char *path;
	char buf[64] = "";
	struct pollfd p;
	int fd, n = 0;

	if (console_open(&con, "pty") < 0)
		skip();		/* no /dev/ptmx in this sandbox */
	path = console_describe(con);
	assert_non_null(path);
	assert_memory_equal(path, "/dev/pts/", 9);
	fd = open(path, O_RDWR | O_NOCTTY);
	assert_true(fd >= 0);

	console_put(con, "hello\n", 6);
	console_flush(con);
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 2000), 1);
	n = (int)read(fd, buf, sizeof(buf) - 1);
	assert_int_equal(n, 6);		/* raw: no "\r\n" translation */
	assert_memory_equal(buf, "hello\n", 6);

	assert_int_equal(write(fd, "ab", 2), 2);
	assert_true(console_input_fd(con) >= 0);
	p = (struct pollfd){ .fd = console_input_fd(con), .events = POLLIN };
	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_int_equal(console_input_ready(con), 0);	/* no Ctrl-A escape on a pty */
	assert_int_equal(console_getc(con), 'a');
	assert_int_equal(console_getc(con), 'b');
	assert_int_equal(console_getc(con), -1);
	close(fd);

	/* the client went away: the master does not hang up (no busy loop) */
	p = (struct pollfd){ .fd = console_input_fd(con), .events = POLLIN };
	assert_int_equal(poll(&p, 1, 100), 0);
	console_close(con);
}

static void test_pty_nobody_reading(void **state)
{
	struct console *con = NULL;
	static char block[65536];

	if (console_open(&con, "pty") < 0)
		skip();
	memset(block, 'x', sizeof(block));
	alarm(20);	/* a blocking flush would hang here: fail instead */
	for (int i = 0; i < 64; i++) {	/* 4 MiB, far more than a pty buffers */
		console_put(con, block, sizeof(block));
		console_flush(con);
	}
	alarm(0);
	console_close(con);
}

static void test_unknown_backend(void **state)
{
	struct console *con = NULL;

	assert_true(console_open(&con, "ptyx") < 0);
	assert_null(console_describe(NULL));
}

TEST_MAIN(NULL, NULL,
	  TEST(test_pty_roundtrip), TEST(test_pty_nobody_reading), TEST(test_unknown_backend))
