/*
 * console.c - console backends (see console.h).
 *
 * Output goes into a buffer under a mutex; console_flush() takes the
 * buffer and writes it out with that mutex released (a flush lock keeps the
 * order), so a slow or stopped terminal never holds up a vCPU that only
 * wants to queue a byte.  Input is read by the main loop into a small ring
 * that devices consume, from its own open file description of stdin
 * (/proc/self/fd/0) made non-blocking: setting O_NONBLOCK on stdin itself
 * would also change a terminal's stdout that shares its description.
 * For stdio on a tty, the terminal is put in raw mode and restored on every
 * way out (normal exit, error, fatal signal).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "lock.h"
#include "console.h"
#include "err.h"
#include "util.h"

#define CON_OUT_SIZE	4096
#define CON_IN_SIZE	4096
#define CON_MAX_NOTIFY	4
#define CON_ESCAPE	0x01	/* Ctrl-A */

enum con_kind { CON_STDIO, CON_FILE, CON_NONE, CON_MEMORY, CON_PTY, CON_SOCKET };

#define CON_RING_SIZE	(64 * 1024)	/* socket: output kept while detached */

struct console {
	enum con_kind kind;
	int in_fd, out_fd;
	int own_in_fd;			/* our reopened stdin, closed with us */
	pthread_mutex_t lock;
	pthread_mutex_t flush_lock;	/* one writer at a time, in order */
	unsigned char out[CON_OUT_SIZE];
	size_t out_len;
	unsigned char in[CON_IN_SIZE];	/* ring */
	size_t in_head, in_len;
	bool escape;			/* last byte typed was Ctrl-A */
	bool tty;
	int pty_slave;			/* CON_PTY: held open so the master never hangs up */
	char desc[128];			/* CON_PTY: "/dev/pts/N"; CON_SOCKET: the path */
	/* CON_SOCKET: in_fd is an epoll set of the listening socket and the client */
	int listen_fd, client_fd;
	unsigned char *ring;		/* output while nobody is attached (last 64 KiB) */
	size_t ring_head, ring_len;
	struct { void (*fn)(void *); void *arg; } notify[CON_MAX_NOTIFY];
	int nnotify;
	unsigned long long first_out_ns;	/* 0 until the first byte */
	/* CON_MEMORY: everything written, NUL-terminated */
	char *mem;
	size_t mem_len, mem_cap;
};

static void con_write_all(int fd, const unsigned char *buf, size_t len, bool drop_full);

/* The saved terminal, for console_restore_tty_async(). */
static struct termios con_saved_tio;
static volatile sig_atomic_t con_tty_raw;
static int con_tty_fd = -1;

static struct console *con_alloc(enum con_kind kind)
{
	struct console *con = calloc(1, sizeof(*con));

	if (!con)
		return NULL;
	con->kind = kind;
	con->in_fd = con->out_fd = con->own_in_fd = con->pty_slave = con->listen_fd = con->client_fd = -1;
	pthread_mutex_init(&con->lock, NULL);
	pthread_mutex_init(&con->flush_lock, NULL);
	return con;
}

static int con_raw_tty(struct console *con)
{
	struct termios tio;

	if (tcgetattr(con->in_fd, &con_saved_tio) < 0)
		return err_set(-errno, "cannot read terminal settings: %s", strerror(errno));
	tio = con_saved_tio;
	cfmakeraw(&tio);
	tio.c_oflag |= OPOST | ONLCR;	/* guest "\n" still starts a new line */
	con_tty_fd = con->in_fd;
	if (tcsetattr(con->in_fd, TCSAFLUSH, &tio) < 0)
		return err_set(-errno, "cannot set terminal raw: %s", strerror(errno));
	con_tty_raw = 1;
	con->tty = true;
	return 0;
}

/*
 * A new pseudo-terminal: the guest's serial line is its master side, a
 * client (screen, minicom, a fleet's console proxy) opens the slave.  The
 * slave is raw (no echo, no newline translation: the guest's tty does
 * that).  hyve keeps a slave descriptor open itself, so the master reads
 * nothing rather than hanging up while no client is attached, and output
 * nobody reads is dropped once the pty's buffer is full.
 */
static int con_open_pty(struct console **out)
{
	struct console *con = con_alloc(CON_PTY);
	struct termios tio;
	int r;

	if (!con)
		return err_set(-ENOMEM, "out of memory");
	con->in_fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (con->in_fd < 0 || grantpt(con->in_fd) < 0 || unlockpt(con->in_fd) < 0 ||
	    ptsname_r(con->in_fd, con->desc, sizeof(con->desc)) != 0) {
		r = err_set(-errno, "--console pty: cannot create a pseudo-terminal: %s", strerror(errno));
		console_close(con);
		return r;
	}
	con->out_fd = con->in_fd;
	con->pty_slave = open(con->desc, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (con->pty_slave < 0 || tcgetattr(con->pty_slave, &tio) < 0) {
		r = err_set(-errno, "--console pty: cannot open %s: %s", con->desc, strerror(errno));
		console_close(con);
		return r;
	}
	cfmakeraw(&tio);
	tcsetattr(con->pty_slave, TCSANOW, &tio);
	*out = con;
	return 0;
}

const char *console_describe(struct console *con)
{
	return con && (con->kind == CON_PTY || con->kind == CON_SOCKET) ? con->desc : NULL;
}

/*
 * socket=PATH: a Unix socket one client at a time attaches to (socat,
 * a fleet's console proxy) and detaches from without stopping the VM.
 * Output while nobody is attached goes into a ring of the last 64 KiB,
 * sent to the next client when it attaches.  A second client while one is
 * attached is turned away.  The main loop polls one fd: an epoll set
 * holding the listening socket and the client.
 */
static int con_open_socket(struct console **out, const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN };
	struct console *con;
	struct stat st;
	int r;

	if (strlen(path) >= sizeof(a.sun_path))
		return err_set(-ENAMETOOLONG, "--console socket=%s: the path is longer than %zu bytes",
			       path, sizeof(a.sun_path) - 1);
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
		return err_set(-EEXIST, "--console socket=%s: the path exists and is not a socket", path);
	memcpy(a.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {	/* replace a stale socket, not a live one */
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool live = probe >= 0 && connect(probe, (struct sockaddr *)&a, sizeof(a)) == 0;

		close_if_open(probe);
		if (live)
			return err_set(-EADDRINUSE, "--console socket=%s: in use by another process", path);
	}
	if (!(con = con_alloc(CON_SOCKET)) || !(con->ring = malloc(CON_RING_SIZE))) {
		console_close(con);
		return err_set(-ENOMEM, "out of memory");
	}
	snprintf(con->desc, sizeof(con->desc), "%s", path);
	unlink(path);		/* a stale socket from an earlier run */
	con->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	con->in_fd = epoll_create1(EPOLL_CLOEXEC);
	if (con->listen_fd < 0 || con->in_fd < 0 || fchmod(con->listen_fd, 0600) < 0 ||
	    bind(con->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(con->listen_fd, 4) < 0 ||
	    (ev.data.fd = con->listen_fd, epoll_ctl(con->in_fd, EPOLL_CTL_ADD, con->listen_fd, &ev)) < 0) {
		r = err_set(-errno, "--console socket=%s: %s", path, strerror(errno));
		con->desc[0] = '\0';	/* not ours to unlink */
		console_close(con);
		return r;
	}
	*out = con;
	return 0;
}

/* Keep bytes for the next client (lock held): the ring keeps the newest. */
static void con_ring_put(struct console *con, const unsigned char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		con->ring[(con->ring_head + con->ring_len) % CON_RING_SIZE] = buf[i];
		if (con->ring_len < CON_RING_SIZE)
			con->ring_len++;
		else
			con->ring_head = (con->ring_head + 1) % CON_RING_SIZE;
	}
}

static void con_detach(struct console *con)
{
	epoll_ctl(con->in_fd, EPOLL_CTL_DEL, con->client_fd, NULL);
	close(con->client_fd);
	con->client_fd = con->out_fd = -1;
}

/* The listening socket is ready: attach a client, or turn it away. */
static void con_accept(struct console *con)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fd = accept4(con->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	lock(&con->lock, LOCK_CONSOLE);
	if (con->client_fd >= 0) {
		static const char busy[] = "hyve: another client is attached to this console\r\n";
		unlock(&con->lock, LOCK_CONSOLE);
		if (write(fd, busy, sizeof(busy) - 1) < 0) {
			/* it is going away anyway */
		}
		close(fd);
		return;
	}
	ev.data.fd = fd;
	if (epoll_ctl(con->in_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		unlock(&con->lock, LOCK_CONSOLE);
		close(fd);
		return;
	}
	con->client_fd = con->out_fd = fd;
	/* what the guest said while nobody listened, oldest first */
	while (con->ring_len) {
		size_t n = CON_RING_SIZE - con->ring_head;
		if (n > con->ring_len)
			n = con->ring_len;
		con_write_all(fd, con->ring + con->ring_head, n, true);
		con->ring_head = (con->ring_head + n) % CON_RING_SIZE;
		con->ring_len -= n;
	}
	con->ring_head = 0;
	unlock(&con->lock, LOCK_CONSOLE);
}

int console_open(struct console **out, const char *spec)
{
	struct console *con = NULL;
	int r;

	if (!spec || !strcmp(spec, "stdio")) {
		con = con_alloc(CON_STDIO);
		if (!con)
			return err_set(-ENOMEM, "out of memory");
		con->in_fd = STDIN_FILENO;
		con->out_fd = STDOUT_FILENO;
		if (isatty(con->in_fd) && (r = con_raw_tty(con)) < 0) {
			console_close(con);
			return r;
		}
		/*
		 * Reading input must never block the main loop, but O_NONBLOCK
		 * on fd 0 would land on the terminal's shared description and
		 * make stdout non-blocking too.  Read a description of our own;
		 * where stdin cannot be reopened (a socket) the loop reads it
		 * only when poll says it is readable.
		 */
		con->own_in_fd = open("/proc/self/fd/0", O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (con->own_in_fd >= 0)
			con->in_fd = con->own_in_fd;
	} else if (!strncmp(spec, "file=", 5) && spec[5]) {
		con = con_alloc(CON_FILE);
		if (!con)
			return err_set(-ENOMEM, "out of memory");
		con->out_fd = open(spec + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (con->out_fd < 0) {
			r = err_set(-errno, "--console: cannot open %s: %s", spec + 5,
				    strerror(errno));
			console_close(con);
			return r;
		}
	} else if (!strncmp(spec, "socket=", 7) && spec[7]) {
		if ((r = con_open_socket(&con, spec + 7)) < 0)
			return r;
	} else if (!strcmp(spec, "pty")) {
		if ((r = con_open_pty(&con)) < 0)
			return r;
	} else if (!strcmp(spec, "none")) {
		con = con_alloc(CON_NONE);
		if (!con)
			return err_set(-ENOMEM, "out of memory");
	} else {
		return err_set(-EINVAL, "--console: unknown backend '%s' (stdio, pty, socket=PATH, file=PATH or none)",
			       spec);
	}
	*out = con;
	return 0;
}

void console_restore_tty_async(void)
{
	if (con_tty_raw) {
		tcsetattr(con_tty_fd, TCSAFLUSH, &con_saved_tio);
		con_tty_raw = 0;
	}
}

void console_close(struct console *con)
{
	if (!con)
		return;
	console_flush(con);
	if (con->tty)
		console_restore_tty_async();
	close_if_open(con->own_in_fd);
	if ((con->kind == CON_FILE || con->kind == CON_PTY) && con->out_fd >= 0)
		close(con->out_fd);
	close_if_open(con->pty_slave);
	if (con->kind == CON_SOCKET) {
		close_if_open(con->client_fd);
		close_if_open(con->listen_fd);
		close_if_open(con->in_fd);
		if (con->desc[0])
			unlink(con->desc);
		free(con->ring);
	}
	pthread_mutex_destroy(&con->flush_lock);
	pthread_mutex_destroy(&con->lock);
	free(con->mem);
	free(con);
}

/*
 * Write all of buf to fd; output errors (closed stdout) drop the bytes, and
 * so does a full pty or socket (drop_full): nobody may be reading it.  A
 * non-blocking fd that is full otherwise (someone else set O_NONBLOCK) is
 * waited for in poll, not in a sleep loop.  Called with flush_lock held
 * (or con->lock, for a pty/socket that never waits).
 */
static void con_write_all(int fd, const unsigned char *buf, size_t len, bool drop_full)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && !drop_full) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			if (poll(&p, 1, -1) < 0 && errno != EINTR)
				return;
			continue;
		}
		if (n <= 0)
			return;
		buf += n;
		len -= n;
	}
}

static void con_mem_append(struct console *con, const void *buf, size_t len)
{
	if (con->mem_len + len + 1 > con->mem_cap) {
		size_t cap = (con->mem_len + len + 1) * 2;
		char *n = realloc(con->mem, cap);
		if (!n)
			return;
		con->mem = n;
		con->mem_cap = cap;
	}
	memcpy(con->mem + con->mem_len, buf, len);
	con->mem_len += len;
	con->mem[con->mem_len] = '\0';
}

/* Take the buffer and write it with con->lock released (not held here). */
static void con_flush_out(struct console *con)
{
	unsigned char buf[CON_OUT_SIZE];
	size_t n;
	int fd;

	lock(&con->flush_lock, LOCK_CONSOLE_FLUSH);
	lock(&con->lock, LOCK_CONSOLE);
	n = con->out_len;
	memcpy(buf, con->out, n);
	fd = con->out_fd;
	if (con->kind == CON_SOCKET && con->client_fd < 0) {
		con_ring_put(con, buf, n);	/* detached: kept for the next client */
		n = 0;
	}
	con->out_len = 0;
	unlock(&con->lock, LOCK_CONSOLE);
	if (n && fd >= 0)
		con_write_all(fd, buf, n, con->kind == CON_PTY || con->kind == CON_SOCKET);
	unlock(&con->flush_lock, LOCK_CONSOLE_FLUSH);
}

void console_put(struct console *con, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	if (!con->first_out_ns && len) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		__atomic_store_n(&con->first_out_ns,
				 ts.tv_sec * 1000000000ULL + ts.tv_nsec, __ATOMIC_RELAXED);
	}
	if (con->kind == CON_NONE)
		return;
	if (con->kind == CON_MEMORY) {
		lock(&con->lock, LOCK_CONSOLE);
		con_mem_append(con, buf, len);
		unlock(&con->lock, LOCK_CONSOLE);
		return;
	}
	while (len > 0) {
		bool full;

		lock(&con->lock, LOCK_CONSOLE);
		size_t n = CON_OUT_SIZE - con->out_len;
		if (n > len)
			n = len;
		memcpy(con->out + con->out_len, p, n);
		con->out_len += n;
		full = con->out_len == CON_OUT_SIZE;
		unlock(&con->lock, LOCK_CONSOLE);
		p += n;
		len -= n;
		if (full)
			con_flush_out(con);
	}
}

void console_flush(struct console *con)
{
	con_flush_out(con);
}

void console_try_flush(struct console *con)
{
	if (pthread_mutex_trylock(&con->flush_lock) != 0)
		return;		/* a writer is at it (perhaps stuck on a full tty) */
	pthread_mutex_unlock(&con->flush_lock);
	con_flush_out(con);
}

int console_getc(struct console *con)
{
	int c = -1;

	lock(&con->lock, LOCK_CONSOLE);
	if (con->in_len) {
		c = con->in[con->in_head];
		con->in_head = (con->in_head + 1) % CON_IN_SIZE;
		con->in_len--;
	}
	unlock(&con->lock, LOCK_CONSOLE);
	return c;
}

bool console_has_input(struct console *con)
{
	bool r;

	lock(&con->lock, LOCK_CONSOLE);
	r = con->in_len > 0;
	unlock(&con->lock, LOCK_CONSOLE);
	return r;
}

int console_on_input(struct console *con, void (*fn)(void *arg), void *arg)
{
	if (con->nnotify == CON_MAX_NOTIFY)
		return err_set(-ENOSPC, "too many console input listeners");
	con->notify[con->nnotify].fn = fn;
	con->notify[con->nnotify].arg = arg;
	con->nnotify++;
	return 0;
}

/* Queue input bytes (lock held); bytes beyond the ring's room are dropped. */
static void con_queue_locked(struct console *con, const unsigned char *buf, size_t len)
{
	for (size_t i = 0; i < len && con->in_len < CON_IN_SIZE; i++) {
		con->in[(con->in_head + con->in_len) % CON_IN_SIZE] = buf[i];
		con->in_len++;
	}
}

static void con_notify(struct console *con)
{
	for (int i = 0; i < con->nnotify; i++)
		con->notify[i].fn(con->notify[i].arg);
}

void console_clear_listeners(struct console *con)
{
	lock(&con->lock, LOCK_CONSOLE);
	con->nnotify = 0;
	unlock(&con->lock, LOCK_CONSOLE);
}

unsigned long long console_first_output_ns(struct console *con)
{
	return __atomic_load_n(&con->first_out_ns, __ATOMIC_RELAXED);
}

void console_mark(struct console *con)
{
	__atomic_store_n(&con->first_out_ns, 0, __ATOMIC_RELAXED);
}

int console_input_fd(struct console *con)
{
	return con->kind == CON_STDIO || con->kind == CON_PTY || con->kind == CON_SOCKET ?
	       con->in_fd : -1;
}

int console_input_ready(struct console *con)
{
	unsigned char buf[256], keep[256];
	size_t nkeep = 0;
	int quit = 0;
	ssize_t n;

	int rfd = con->in_fd;

	if (con->kind == CON_SOCKET) {
		struct epoll_event ev[2];
		int ne = epoll_wait(con->in_fd, ev, 2, 0);

		for (int i = 0; i < ne; i++)
			if (ev[i].data.fd == con->listen_fd)
				con_accept(con);
		rfd = con->client_fd;
	}
	/* Leave room: do not read more than the guest has room to take. */
	lock(&con->lock, LOCK_CONSOLE);
	size_t room = CON_IN_SIZE - con->in_len;
	unlock(&con->lock, LOCK_CONSOLE);
	if (room == 0 || rfd < 0)
		return 0;
	n = read(rfd, buf, room < sizeof(buf) ? room : sizeof(buf));
	if (n == 0 || (n < 0 && con->kind == CON_SOCKET && errno != EAGAIN && errno != EINTR)) {
		if (con->kind == CON_SOCKET) {	/* the client detached */
			/*
			 * flush_lock first: no flush may still be writing to
			 * the client's fd when it is closed.  Socket writes
			 * never wait (drop_full), so holding both is brief.
			 */
			lock(&con->flush_lock, LOCK_CONSOLE_FLUSH);
			lock(&con->lock, LOCK_CONSOLE);
			con_write_all(con->client_fd, con->out, con->out_len, true);
			con->out_len = 0;
			con_detach(con);
			unlock(&con->lock, LOCK_CONSOLE);
			unlock(&con->flush_lock, LOCK_CONSOLE_FLUSH);
		} else {		/* EOF: stop polling stdin */
			con->in_fd = -1;
		}
		return 0;
	}
	if (n < 0)
		return 0;
	for (ssize_t i = 0; i < n; i++) {
		unsigned char c = buf[i];
		if (!con->tty) {
			keep[nkeep++] = c;
		} else if (con->escape) {
			con->escape = false;
			if (c == 'x' || c == 'X')
				quit = 1;
			else if (c == CON_ESCAPE)
				keep[nkeep++] = c;
		} else if (c == CON_ESCAPE) {
			con->escape = true;
		} else {
			keep[nkeep++] = c;
		}
	}
	if (nkeep) {
		lock(&con->lock, LOCK_CONSOLE);
		con_queue_locked(con, keep, nkeep);
		unlock(&con->lock, LOCK_CONSOLE);
		con_notify(con);
	}
	return quit;
}

struct console *console_new_memory(void)
{
	return con_alloc(CON_MEMORY);
}

const char *console_memory_output(struct console *con, size_t *len)
{
	const char *r;

	lock(&con->lock, LOCK_CONSOLE);
	if (len)
		*len = con->mem_len;
	r = con->mem ? con->mem : "";
	unlock(&con->lock, LOCK_CONSOLE);
	return r;
}

void console_memory_input(struct console *con, const void *buf, size_t len)
{
	lock(&con->lock, LOCK_CONSOLE);
	con_queue_locked(con, buf, len);
	unlock(&con->lock, LOCK_CONSOLE);
	con_notify(con);
}
