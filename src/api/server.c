/*
 * server.c - the API server's HTTP side (server.h).
 *
 * libmicrohttpd runs in "external" mode with its epoll set: the server
 * thread polls that set and an eventfd (for shutdown), calls MHD_run(), and
 * enforces a per-request deadline that libmicrohttpd's idle timeout alone
 * does not give (a client sending one byte a second is never idle).  Every
 * libmicrohttpd callback therefore runs on this one thread, so the
 * connection list needs no lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "api/fc.h"
#include "api/server.h"
#include "dynlib.h"
#include "err.h"
#include "util.h"

/* libmicrohttpd, opened by api_server_open() (dynlib.h). */
DYNLIB_NEEDS(mhd_soname, "libmicrohttpd.so.12");
static struct {
	typeof(MHD_add_response_header) *add_response_header;
	typeof(MHD_create_response_from_buffer) *create_response_from_buffer;
	typeof(MHD_destroy_response) *destroy_response;
	typeof(MHD_get_connection_info) *get_connection_info;
	typeof(MHD_get_daemon_info) *get_daemon_info;
	typeof(MHD_get_timeout) *get_timeout;
	typeof(MHD_lookup_connection_value) *lookup_connection_value;
	typeof(MHD_queue_response) *queue_response;
	typeof(MHD_run) *run;
	typeof(MHD_start_daemon) *start_daemon;
	typeof(MHD_stop_daemon) *stop_daemon;
} mhd;
static const struct dynsym mhd_syms[] = {
	DYNSYM(mhd, MHD_, add_response_header),
	DYNSYM(mhd, MHD_, create_response_from_buffer),
	DYNSYM(mhd, MHD_, destroy_response),
	DYNSYM(mhd, MHD_, get_connection_info),
	DYNSYM(mhd, MHD_, get_daemon_info),
	DYNSYM(mhd, MHD_, get_timeout),
	DYNSYM(mhd, MHD_, lookup_connection_value),
	DYNSYM(mhd, MHD_, queue_response),
	DYNSYM(mhd, MHD_, run),
	DYNSYM(mhd, MHD_, start_daemon),
	DYNSYM(mhd, MHD_, stop_daemon),
};

struct conn {
	struct conn *next, **pprev;
	int fd;
	uint64_t since;		/* start of the request being received */
	bool shut;
};

struct req {
	char *buf;
	size_t len;
	bool too_big;
};

struct api_server {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int lfd, wake_fd;
	uint64_t timeout_ns;
	struct MHD_Daemon *d;
	pthread_t thread;
	bool started, quit;
	struct conn *conns;
	api_handler_fn fn;
	void (*tick)(void *arg);
	void *arg;
};

/* Bind path, replacing a stale socket file; refuse a live one. */
static int listen_unix(const char *path, int *out)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (!*path || strlen(path) >= sizeof(a.sun_path))
		return err_set(-ENAMETOOLONG, "--api-sock: '%s' is not a usable socket path (1 to %zu bytes)",
			       path, sizeof(a.sun_path) - 1);
	memcpy(a.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return err_set(-EEXIST, "--api-sock: %s exists and is not a socket", path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return err_set(-errno, "socket: %s", strerror(errno));
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
			close(fd);
			return err_set(-EADDRINUSE, "--api-sock: %s is in use by another process", path);
		}
		close(fd);
		if (unlink(path) < 0 && errno != ENOENT)
			return err_set(-errno, "--api-sock: cannot replace the stale socket %s: %s",
				       path, strerror(errno));
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_set(-errno, "socket: %s", strerror(errno));
	/* the file bind() creates takes the socket inode's mode: 0600, no race */
	if (fchmod(fd, 0600) < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 128) < 0) {
		int e = errno;
		close(fd);
		return err_set(-e, "--api-sock: cannot listen on %s: %s", path, strerror(e));
	}
	*out = fd;
	return 0;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **ctx,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct api_server *s = cls;
	struct conn *k = *ctx;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			mhd.get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		k = calloc(1, sizeof(*k));
		if (!k)
			return;
		k->fd = ci ? ci->connect_fd : -1;
		k->since = mono_ns();
		k->next = s->conns;
		if (s->conns)
			s->conns->pprev = &k->next;
		k->pprev = &s->conns;
		s->conns = k;
		*ctx = k;
	} else if (k) {
		*k->pprev = k->next;
		if (k->next)
			k->next->pprev = k->pprev;
		free(k);
		*ctx = NULL;
	}
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;
	const union MHD_ConnectionInfo *ci =
		mhd.get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	if (r) {
		free(r->buf);
		free(r);
		*con_cls = NULL;
	}
	if (ci && ci->socket_context)	/* the next request's deadline starts now */
		((struct conn *)ci->socket_context)->since = mono_ns();
}

static enum MHD_Result respond(struct MHD_Connection *c, struct api_resp *resp)
{
	struct MHD_Response *mr;
	enum MHD_Result ret;
	size_t n = resp->body ? strlen(resp->body) : 0;

	mr = mhd.create_response_from_buffer(n, resp->body ? resp->body : (char *)"",
					     resp->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!mr) {
		free(resp->body);
		return MHD_NO;
	}
	if (n)
		mhd.add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
					resp->type ? resp->type : "application/json");
	ret = mhd.queue_response(c, (unsigned)resp->status, mr);
	mhd.destroy_response(mr);
	return ret;
}

static enum MHD_Result fault(struct MHD_Connection *c, const char *msg)
{
	struct fc_reply fr = { 0 };
	struct api_resp resp;

	fc_fault(&fr, "%s", msg);
	resp = (struct api_resp){ .status = 400, .body = fr.body };
	return respond(c, &resp);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *data, size_t *size, void **con_cls)
{
	struct api_server *s = cls;
	struct req *r = *con_cls;

	if (!r) {		/* headers complete, body not read yet */
		const char *cl = mhd.lookup_connection_value(c, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (!(r = calloc(1, sizeof(*r))))
			return MHD_NO;
		*con_cls = r;
		if (cl && strtoull(cl, NULL, 10) > FC_BODY_MAX) {
			const char *ex = mhd.lookup_connection_value(c, MHD_HEADER_KIND,
								     MHD_HTTP_HEADER_EXPECT);
			r->too_big = true;
			/*
			 * A client waiting for "100 Continue" gets the answer
			 * now and never sends the body.  Any other client is
			 * already sending it: answering now and closing would
			 * reset the connection under its feet (it sees no
			 * answer at all), so the body is read and dropped as
			 * it comes (bounded by the request deadline) and the
			 * answer follows it.
			 */
			if (ex && !strcasecmp(ex, "100-continue"))
				return fault(c, "The request body is larger than 65536 bytes.");
		}
		return MHD_YES;
	}
	if (*size) {
		if (!r->too_big && r->len + *size > FC_BODY_MAX) {
			r->too_big = true;	/* chunked: drop the rest as it comes */
			free(r->buf);
			r->buf = NULL;
		}
		if (!r->too_big) {
			char *nb = realloc(r->buf, r->len + *size + 1);
			if (!nb)
				return MHD_NO;
			memcpy(nb + r->len, data, *size);
			r->buf = nb;
			r->len += *size;
			r->buf[r->len] = '\0';
		}
		*size = 0;
		return MHD_YES;
	}
	if (r->too_big)
		return fault(c, "The request body is larger than 65536 bytes.");

	struct api_resp resp = { .status = 500 };
	s->fn(s->arg, method, url, r->buf, r->len, &resp);
	return respond(c, &resp);
}

/* Close connections whose current request is overdue (slow or silent). */
static void enforce_deadlines(struct api_server *s)
{
	uint64_t now = mono_ns();

	for (struct conn *k = s->conns; k; k = k->next)
		if (!k->shut && k->fd >= 0 && now - k->since > s->timeout_ns) {
			shutdown(k->fd, SHUT_RDWR);	/* MHD sees EOF and closes it */
			k->shut = true;
		}
}

static void *server_thread(void *arg)
{
	struct api_server *s = arg;
	const union MHD_DaemonInfo *di = mhd.get_daemon_info(s->d, MHD_DAEMON_INFO_EPOLL_FD);
	int epfd = di ? di->epoll_fd : -1;

	while (!__atomic_load_n(&s->quit, __ATOMIC_ACQUIRE)) {
		MHD_UNSIGNED_LONG_LONG to;
		int ms = 250;
		struct pollfd p[2] = {
			{ .fd = epfd, .events = POLLIN }, { .fd = s->wake_fd, .events = POLLIN },
		};

		if (mhd.get_timeout(s->d, &to) == MHD_YES && to < (MHD_UNSIGNED_LONG_LONG)ms)
			ms = (int)to;
		if (poll(p, 2, ms) < 0 && errno != EINTR)
			break;
		mhd.run(s->d);
		enforce_deadlines(s);
		if (s->tick)
			s->tick(s->arg);
	}
	return NULL;
}

int api_server_open(struct api_server **out, const char *path, unsigned timeout_s,
		    api_handler_fn fn, void (*tick)(void *arg), void *arg)
{
	struct api_server *s;
	int r;

	r = dynlib_load(mhd_soname, "the API server", "libmicrohttpd12", mhd_syms,
			sizeof(mhd_syms) / sizeof(mhd_syms[0]));
	if (r < 0)
		return r;
	if (!(s = calloc(1, sizeof(*s))))
		return err_set(-ENOMEM, "out of memory");
	s->lfd = s->wake_fd = -1;
	s->fn = fn;
	s->tick = tick;
	s->arg = arg;
	s->timeout_ns = (uint64_t)(timeout_s ? timeout_s : API_TIMEOUT_S) * 1000000000ULL;
	snprintf(s->path, sizeof(s->path), "%s", path);
	if ((r = listen_unix(path, &s->lfd)) < 0) {
		free(s);
		return r;
	}
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->d = mhd.start_daemon(MHD_USE_EPOLL, 0, NULL, NULL, on_request, s,
				MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->lfd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)API_MAX_CONNS,
				MHD_OPTION_CONNECTION_TIMEOUT, timeout_s ? timeout_s : API_TIMEOUT_S,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				MHD_OPTION_END);
	if (!s->d || s->wake_fd < 0) {
		r = err_set(-EIO, "--api-sock: cannot start the HTTP server on %s", path);
		api_server_close(s);
		return r;
	}
	*out = s;
	return 0;
}

int api_server_start(struct api_server *s)
{
	int r = pthread_create(&s->thread, NULL, server_thread, s);

	if (r)
		return err_set(-r, "cannot start the API thread: %s", strerror(r));
	s->started = true;
	return 0;
}

void api_server_close(struct api_server *s)
{
	if (!s)
		return;
	if (s->started) {
		__atomic_store_n(&s->quit, true, __ATOMIC_RELEASE);
		efd_signal(s->wake_fd);	/* (the thread also wakes every 250 ms) */
		pthread_join(s->thread, NULL);
	}
	if (s->d)
		mhd.stop_daemon(s->d);	/* closes the listening socket too */
	else if (s->lfd >= 0)
		close(s->lfd);
	close_if_open(s->wake_fd);
	unlink(s->path);
	free(s);
}
