/*
 * Unit tests for the socket console backend (--console socket=PATH):
 * output while detached is kept (the newest 64 KiB) and shown on attach;
 * input from the client reaches the guest; a client detaches and another
 * attaches, without the console (the VM) stopping; a second client while
 * one is attached is turned away; the socket file is 0600 and removed.
 */
#include "unit.h"
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "console.h"

static char path[108];

static int attach(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* What the main loop does when the console's fd is readable. */
static void pump(struct console *con)
{
	struct pollfd p = { .fd = console_input_fd(con), .events = POLLIN };

	if (poll(&p, 1, 1000) == 1)
		assert_int_equal(console_input_ready(con), 0);
}

/* Read what the client has been sent, up to len bytes or a 1 s silence. */
static size_t drain(int fd, char *buf, size_t len)
{
	size_t got = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (got < len && poll(&p, 1, 1000) == 1) {
		ssize_t n = read(fd, buf + got, len - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

static void test_attach_detach(void **state)
{
	struct console *con = NULL;
	struct stat st;
	char buf[256];
	int c1, c2, c3;
	size_t n;

	signal(SIGPIPE, SIG_IGN);
	snprintf(path, sizeof(path), "/tmp/hyve-con-test.%d.sock", (int)getpid());
	snprintf(buf, sizeof(buf), "socket=%s", path);
	assert_int_equal(console_open(&con, buf), 0);
	assert_string_equal(console_describe(con), path);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	console_put(con, "early ", 6);		/* nobody attached yet */
	console_flush(con);
	c1 = attach();
	pump(con);
	console_put(con, "live", 4);
	console_flush(con);
	n = drain(c1, buf, 10);
	assert_int_equal(n, 10);
	assert_memory_equal(buf, "early live", 10);

	assert_int_equal(write(c1, "in", 2), 2);	/* client -> guest */
	pump(con);
	assert_int_equal(console_getc(con), 'i');
	assert_int_equal(console_getc(con), 'n');

	c2 = attach();				/* busy: turned away */
	pump(con);
	n = drain(c2, buf, sizeof(buf) - 1);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "another client is attached"));
	close(c2);

	close(c1);				/* detach; the console goes on */
	pump(con);
	console_put(con, "while away", 10);
	console_flush(con);
	c3 = attach();				/* re-attach: sees what it missed */
	pump(con);
	n = drain(c3, buf, 10);
	assert_int_equal(n, 10);
	assert_memory_equal(buf, "while away", 10);
	close(c3);
	pump(con);
	console_close(con);
	assert_int_not_equal(access(path, F_OK), 0);	/* removed */
}

static void test_ring_keeps_the_newest(void **state)
{
	struct console *con = NULL;
	static char big[100000], got[70000];
	char spec[128];
	size_t n;
	int c;

	signal(SIGPIPE, SIG_IGN);
	snprintf(path, sizeof(path), "/tmp/hyve-con-test2.%d.sock", (int)getpid());
	snprintf(spec, sizeof(spec), "socket=%s", path);
	assert_int_equal(console_open(&con, spec), 0);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	console_put(con, big, sizeof(big));
	console_flush(con);
	c = attach();
	pump(con);
	n = drain(c, got, sizeof(got));
	assert_int_equal(n, 65536);
	assert_memory_equal(got, big + sizeof(big) - 65536, 65536);
	close(c);
	console_close(con);
}

static void test_bad_paths(void **state)
{
	struct console *con = NULL;
	char spec[300];

	snprintf(spec, sizeof(spec), "socket=/tmp/%0150d", 0);
	assert_true(console_open(&con, spec) < 0);
	assert_true(console_open(&con, "socket=/nonexistent-dir/x.sock") < 0);
	assert_true(console_open(&con, "socket=/etc/hostname") < 0);	/* not a socket */
	assert_int_equal(access("/etc/hostname", F_OK), 0);

	/* a live console socket (another VM's) is not taken over */
	snprintf(path, sizeof(path), "/tmp/hyve-con-test3.%d.sock", (int)getpid());
	snprintf(spec, sizeof(spec), "socket=%s", path);
	assert_int_equal(console_open(&con, spec), 0);
	struct console *other = NULL;
	assert_true(console_open(&other, spec) < 0);
	console_close(con);
}

TEST_MAIN(NULL, NULL,
	  TEST(test_attach_detach), TEST(test_ring_keeps_the_newest), TEST(test_bad_paths))
