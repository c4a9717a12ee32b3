/*
 * server.h - an HTTP/1.1 server on a Unix socket, on its own thread
 * (libmicrohttpd serving a socket hyve created, MHD_OPTION_LISTEN_SOCKET).
 *
 * The socket file is created mode 0600.  A stale socket file (nobody
 * accepts on it) is replaced; a live one, or any other kind of file, is an
 * error.  Bodies over FC_BODY_MAX are refused with a 400; a connection must
 * deliver each request within the timeout (idle, slow or silent clients are
 * closed); at most API_MAX_CONNS connections are served at once.
 *
 * Every request is handed, complete, to one handler function, always on the
 * server's thread.
 */
#ifndef HYVE_API_SERVER_H
#define HYVE_API_SERVER_H

#include <stddef.h>

#define API_MAX_CONNS		32
#define API_TIMEOUT_S		10	/* default request deadline */

struct api_server;

struct api_resp {
	int status;
	char *body;		/* malloc'd; the server frees it; NULL: empty */
	const char *type;	/* Content-Type (default application/json) */
};

typedef void (*api_handler_fn)(void *arg, const char *method, const char *path,
			       const char *body, size_t len, struct api_resp *resp);

/*
 * Create and bind the socket at path (errors are the caller's to print).
 * tick(arg), if not NULL, is called on the server thread at least every
 * 250 ms.
 */
int api_server_open(struct api_server **out, const char *path, unsigned timeout_s,
		    api_handler_fn fn, void (*tick)(void *arg), void *arg);
/* Start serving on a new thread. */
int api_server_start(struct api_server *s);
/* Stop the thread (if started), close every connection, remove the socket. */
void api_server_close(struct api_server *s);

#endif
