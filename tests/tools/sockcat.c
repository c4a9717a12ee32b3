/*
 * sockcat - a test client for `--console socket=PATH` (the rig has no socat
 * and busybox nc cannot reach a Unix socket):
 *
 *	sockcat PATH SECONDS
 *
 * Connects to the Unix stream socket PATH, copies what arrives to stdout
 * for SECONDS (or until the other end closes), then closes: a client that
 * attaches and detaches.  Exit status 0, or 1 with one line if it cannot
 * connect.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	long long end;
	char buf[4096];
	int fd;

	if (argc != 3 || strlen(argv[1]) >= sizeof(a.sun_path) || atoi(argv[2]) <= 0) {
		fprintf(stderr, "usage: sockcat PATH SECONDS\n");
		return 1;
	}
	memcpy(a.sun_path, argv[1], strlen(argv[1]) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		fprintf(stderr, "sockcat: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	end = now_ms() + atoi(argv[2]) * 1000LL;
	for (long long left; (left = end - now_ms()) > 0;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;	/* the other end closed */
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			break;
		fflush(stdout);
	}
	close(fd);
	return 0;
}
