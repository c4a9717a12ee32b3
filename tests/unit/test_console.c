/* Unit tests for the console backends: memory, file, stdio on a pipe and on a tty. */
#include "unit.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include "console.h"
#include "err.h"

static void test_memory_backend(void **state)
{
	struct console *con = console_new_memory();
	size_t len;

	console_put(con, "hello", 5);
	console_putc(con, '!');
	assert_string_equal(console_memory_output(con, &len), "hello!");
	assert_int_equal(len, 6);
	assert_false(console_has_input(con));
	assert_int_equal(console_getc(con), -1);
	console_memory_input(con, "xy", 2);
	assert_true(console_has_input(con));
	assert_int_equal(console_getc(con), 'x');
	assert_int_equal(console_getc(con), 'y');
	assert_int_equal(console_getc(con), -1);
	console_close(con);
}

static int notified;
static void on_input(void *arg)
{
	notified += *(int *)arg;
}

static void test_input_notify_and_bound(void **state)
{
	struct console *con = console_new_memory();
	static char big[10000];
	int one = 1, n = 0;

	assert_int_equal(console_on_input(con, on_input, &one), 0);
	for (int i = 1; i < 4; i++)
		assert_int_equal(console_on_input(con, on_input, &one), 0);
	assert_int_equal(console_on_input(con, on_input, &one), -ENOSPC);
	notified = 0;
	console_memory_input(con, "a", 1);
	assert_int_equal(notified, 4);
	/* more input than the ring holds is dropped, never overflows */
	memset(big, 'z', sizeof(big));
	console_memory_input(con, big, sizeof(big));
	while (console_getc(con) >= 0)
		n++;
	assert_int_equal(n, 4096);
	console_close(con);
}

static void test_file_backend(void **state)
{
	char path[] = "/tmp/hyve-con-XXXXXX", spec[64], buf[64] = { 0 };
	struct console *con;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	snprintf(spec, sizeof(spec), "file=%s", path);
	assert_int_equal(console_open(&con, spec), 0);
	console_put(con, "to the file\n", 12);
	assert_int_equal(console_input_fd(con), -1);
	console_close(con);
	fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf)), 12);
	assert_string_equal(buf, "to the file\n");
	close(fd);
	unlink(path);
}

static void test_bad_specs(void **state)
{
	struct console *con;

	assert_int_equal(console_open(&con, "serial"), -EINVAL);
	assert_non_null(strstr(err_msg(), "serial"));
	assert_int_equal(console_open(&con, "file="), -EINVAL);
	assert_int_equal(console_open(&con, "file=/nonexistent/dir/x"), -ENOENT);
	assert_non_null(strstr(err_msg(), "/nonexistent/dir/x"));
}

static void test_large_output_through_file(void **state)
{
	char path[] = "/tmp/hyve-con-XXXXXX", spec[64];
	struct console *con;
	static char big[100000];
	int fd = mkstemp(path);

	close(fd);
	snprintf(spec, sizeof(spec), "file=%s", path);
	assert_int_equal(console_open(&con, spec), 0);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = 'a' + i % 26;
	for (size_t i = 0; i < sizeof(big); i += 1000)
		console_put(con, big + i, 1000);
	console_close(con);
	fd = open(path, O_RDONLY);
	static char back[sizeof(big) + 1];
	assert_int_equal(read(fd, back, sizeof(back)), sizeof(big));
	assert_memory_equal(back, big, sizeof(big));
	close(fd);
	unlink(path);
}

/* stdin replaced by fd for the duration of fn */
static int saved_stdin = -1;
static void stdin_from(int fd)
{
	saved_stdin = dup(STDIN_FILENO);
	dup2(fd, STDIN_FILENO);
}
static void stdin_restore(void)
{
	dup2(saved_stdin, STDIN_FILENO);
	close(saved_stdin);
}

static void test_stdio_pipe_is_binary_clean(void **state)
{
	int p[2];
	struct console *con;
	const char in[] = "a\x01x\x01\x01z";

	assert_int_equal(pipe(p), 0);
	stdin_from(p[0]);
	assert_int_equal(console_open(&con, "stdio"), 0);
	assert_int_equal(write(p[1], in, 6), 6);
	close(p[1]);
	/* not a tty: no escape processing, every byte reaches the guest */
	assert_int_equal(console_input_ready(con), 0);
	for (int i = 0; i < 6; i++)
		assert_int_equal(console_getc(con), (unsigned char)in[i]);
	/* EOF: input is closed, the fd is no longer polled */
	assert_int_equal(console_input_ready(con), 0);
	assert_int_equal(console_input_fd(con), -1);
	console_close(con);
	stdin_restore();
	close(p[0]);
}

static void test_stdio_tty_raw_escape_restore(void **state)
{
	struct console *con;
	struct termios t;
	int m = posix_openpt(O_RDWR | O_NOCTTY), s;

	assert_true(m >= 0);
	assert_int_equal(grantpt(m), 0);
	assert_int_equal(unlockpt(m), 0);
	s = open(ptsname(m), O_RDWR | O_NOCTTY);
	assert_true(s >= 0);
	stdin_from(s);
	tcgetattr(STDIN_FILENO, &t);
	assert_true(t.c_lflag & ICANON);

	assert_int_equal(console_open(&con, "stdio"), 0);
	tcgetattr(STDIN_FILENO, &t);
	assert_false(t.c_lflag & (ICANON | ECHO | ISIG));	/* raw */

	assert_int_equal(write(m, "ab\x01\x01" "c", 5), 5);
	usleep(20000);
	assert_int_equal(console_input_ready(con), 0);
	assert_int_equal(console_getc(con), 'a');
	assert_int_equal(console_getc(con), 'b');
	assert_int_equal(console_getc(con), 0x01);	/* Ctrl-A Ctrl-A sends Ctrl-A */
	assert_int_equal(console_getc(con), 'c');
	assert_int_equal(write(m, "\x01x", 2), 2);
	usleep(20000);
	assert_int_equal(console_input_ready(con), 1);	/* Ctrl-A x: quit */
	assert_int_equal(console_getc(con), -1);

	console_close(con);
	tcgetattr(STDIN_FILENO, &t);
	assert_true(t.c_lflag & ICANON);		/* restored */
	stdin_restore();
	close(s);
	close(m);
}

/*
 * Regression (issue 9): stdin and stdout on one terminal share an open
 * file description; O_NONBLOCK set for input made stdout non-blocking and
 * console writes spun (with the console lock held) on a full terminal.
 */
static void test_stdio_shared_tty_stays_blocking(void **state)
{
	struct console *con;
	int m = posix_openpt(O_RDWR | O_NOCTTY), s, saved_out;

	assert_true(m >= 0);
	assert_int_equal(grantpt(m), 0);
	assert_int_equal(unlockpt(m), 0);
	s = open(ptsname(m), O_RDWR | O_NOCTTY);
	assert_true(s >= 0);
	stdin_from(s);
	saved_out = dup(STDOUT_FILENO);
	dup2(s, STDOUT_FILENO);			/* one description, as on a terminal */
	assert_int_equal(console_open(&con, "stdio"), 0);
	assert_int_equal(fcntl(STDOUT_FILENO, F_GETFL) & O_NONBLOCK, 0);
	assert_int_equal(fcntl(STDIN_FILENO, F_GETFL) & O_NONBLOCK, 0);
	/* input still arrives, and reading with nothing typed does not block */
	assert_int_equal(console_input_ready(con), 0);
	assert_int_equal(console_getc(con), -1);
	assert_int_equal(write(m, "q", 1), 1);
	usleep(20000);
	assert_int_equal(console_input_ready(con), 0);
	assert_int_equal(console_getc(con), 'q');
	console_put(con, "out\n", 4);
	console_close(con);
	char buf[16];
	usleep(20000);
	assert_true(read(m, buf, sizeof(buf)) >= 4);
	dup2(saved_out, STDOUT_FILENO);
	close(saved_out);
	stdin_restore();
	close(s);
	close(m);
}

TEST_MAIN(NULL, NULL,
	  TEST(test_memory_backend), TEST(test_input_notify_and_bound), TEST(test_file_backend),
	  TEST(test_bad_specs), TEST(test_large_output_through_file),
	  TEST(test_stdio_pipe_is_binary_clean), TEST(test_stdio_tty_raw_escape_restore),
	  TEST(test_stdio_shared_tty_stays_blocking))
