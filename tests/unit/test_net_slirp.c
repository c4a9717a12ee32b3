/*
 * Unit tests for the user-mode network back end's set-up and teardown
 * (src/backend/net_slirp.c) on the real libslirp, which it opens on first use
 * (src/dynlib.c): it starts and stops cleanly, a host port forward listens on
 * the host, and a forward to a port already taken fails with one error naming
 * it.  The data path is tested through a guest (tests/linux/net.sh).
 */
#include "unit.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "backend/net.h"
#include "err.h"

/* A TCP socket listening on 127.0.0.1 at a port the kernel picked. */
static int listen_any(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static int connect_to(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

	assert_true(fd >= 0);
	r = connect(fd, (struct sockaddr *)&a, sizeof(a));
	close(fd);
	return r;
}

static void test_open_close(void **state)
{
	struct net_opts o;
	struct net_backend *nb = NULL;

	assert_int_equal(net_parse_opts("user", &o), 0);
	assert_int_equal(net_slirp_open(&o, &nb), 0);
	assert_non_null(nb);
	assert_string_equal(nb->kind, "user");
	assert_true(nb->ops->rx_fd(nb, 0) >= 0);
	nb->ops->close(nb);
}

static void test_hostfwd_listens(void **state)
{
	struct net_opts o;
	struct net_backend *nb = NULL;
	char arg[64];
	uint16_t port;
	int fd = listen_any(&port);

	close(fd);	/* a free port, as far as anyone can tell */
	snprintf(arg, sizeof(arg), "user,hostfwd=tcp:127.0.0.1:%u-:22", port);
	assert_int_equal(net_parse_opts(arg, &o), 0);
	assert_int_equal(net_slirp_open(&o, &nb), 0);
	/* libslirp accepts on the host side (the guest end is not there) */
	assert_int_equal(connect_to(port), 0);
	nb->ops->close(nb);
	/* closed: the port listens no more */
	assert_int_not_equal(connect_to(port), 0);
}

static void test_hostfwd_port_taken(void **state)
{
	struct net_opts o;
	struct net_backend *nb = NULL;
	char arg[64];
	uint16_t port;
	int fd = listen_any(&port);

	snprintf(arg, sizeof(arg), "user,hostfwd=tcp:127.0.0.1:%u-:22", port);
	assert_int_equal(net_parse_opts(arg, &o), 0);
	err_clear();
	assert_true(net_slirp_open(&o, &nb) < 0);
	assert_null(nb);
	assert_non_null(strstr(err_msg(), "hostfwd"));
	snprintf(arg, sizeof(arg), ":%u", port);
	assert_non_null(strstr(err_msg(), arg));
	close(fd);
}

TEST_MAIN(NULL, NULL,
	  TEST(test_open_close),
	  TEST(test_hostfwd_listens),
	  TEST(test_hostfwd_port_taken))
