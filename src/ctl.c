/*
 * ctl.c - `hyve ctl --api-sock PATH COMMAND`: a client of the API socket
 * (info, pause, resume, stop, reset, stats, config, top).
 *
 * The HTTP side is one request per connection with "Connection: close":
 * write the request, read to EOF, split the status line and the body.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "util.h"

int hyve_ctl(int argc, char **argv);

#define RESP_MAX (16u << 20)

static const char usage_ctl[] =
"usage: hyve ctl --api-sock PATH [--json] COMMAND\n"
"\n"
"Commands:\n"
"  info                  id, state (Not started, Running, Paused), version\n"
"  pause | resume        stop / continue running guest code (PATCH /vm)\n"
"  stop [--timeout S] [--force]\n"
"                        graceful stop, hard after S seconds (default 10);\n"
"                        --force: at once.  Waits until hyve has exited.\n"
"  reset                 reset the guest (as a guest reboot)\n"
"  stats                 exits per reason, accesses per port / MMIO range\n"
"  config                the whole configuration (GET /vm/config)\n"
"  top [--interval S] [--count N]\n"
"                        live view: exits/s by reason and by range, with the\n"
"                        mean handler time; N frames (default: until Ctrl-C)\n"
"  --json                print the server's JSON instead of text\n";

static int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int ctl_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("hyve: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int connect_sock(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(a.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(a.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * One request.  *status gets the HTTP status, *body the response body
 * (malloc'd, NUL-terminated).  0, or 1 after printing why.
 */
static int http(const char *sock, const char *method, const char *path, const char *req,
		int *status, char **body)
{
	struct timeval tv = { .tv_sec = 60 };
	char head[512], *buf = NULL, *p;
	size_t len = 0, cap = 0;
	int fd = connect_sock(sock), n;

	if (fd < 0)
		return ctl_fail("cannot connect to %s: %s", sock, strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
		     "Accept: application/json\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\n\r\n", method, path, req ? strlen(req) : 0);
	if (write_all(fd, head, (size_t)n) < 0 || (req && write_all(fd, req, strlen(req)) < 0)) {
		close(fd);
		return ctl_fail("cannot send to %s: %s", sock, strerror(errno));
	}
	for (;;) {
		ssize_t r;

		if (cap - len < 4096) {
			if (cap >= RESP_MAX) {
				close(fd);
				free(buf);
				return ctl_fail("the response from %s is too large", sock);
			}
			cap = cap ? cap * 2 : 8192;
			char *nb = realloc(buf, cap);
			if (!nb) {
				close(fd);
				free(buf);
				return ctl_fail("out of memory");
			}
			buf = nb;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			close(fd);
			free(buf);
			return ctl_fail("no answer from %s: %s", sock, strerror(errno));
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (!buf || (buf[len] = '\0', sscanf(buf, "HTTP/1.%*d %d", status) != 1) ||
	    !(p = strstr(buf, "\r\n\r\n"))) {
		free(buf);
		return ctl_fail("%s did not answer with HTTP", sock);
	}
	memmove(buf, p + 4, len - (size_t)(p + 4 - buf) + 1);
	*body = buf;
	return 0;
}

/* A request whose success is 2xx; prints the fault message otherwise. */
static int call(const char *sock, const char *method, const char *path, const char *req,
		json_t **out)
{
	int status;
	char *body;
	json_t *o;

	if (http(sock, method, path, req, &status, &body))
		return 1;
	o = *body ? json_loads(body, 0, NULL) : NULL;
	if (status < 200 || status > 299) {
		const char *m = json_string_value(json_object_get(o, "fault_message"));
		ctl_fail("%s %s: %s", method, path, m ? m : body);
		json_decref(o);
		free(body);
		return 1;
	}
	free(body);
	if (out)
		*out = o;
	else
		json_decref(o);
	return 0;
}

static void print_json(json_t *o)
{
	char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (s)
		puts(s);
	free(s);
}

/* ---- top ---- */

struct row {
	char key[96];
	double rate, us;	/* per second; mean handler time */
	double p50, p99;	/* handler time percentiles (us, log2 bucket bounds) */
};

/*
 * Percentiles of the accesses between two samples from their log2
 * histograms (bucket b: [2^b, 2^(b+1)) ns): the upper bound of the bucket
 * holding the p-th access, so within a factor of two above the truth.
 */
static void percentiles(const json_t *cur, const json_t *prev, struct row *row)
{
	uint64_t d[64] = { 0 }, total = 0, acc = 0;
	size_t n = json_array_size(cur);
	int got50 = 0;

	for (size_t b = 0; b < n && b < 64; b++) {
		uint64_t c = (uint64_t)json_integer_value(json_array_get(cur, b));
		uint64_t p = (uint64_t)json_integer_value(json_array_get(prev, b));
		d[b] = c >= p ? c - p : 0;
		total += d[b];
	}
	row->p50 = row->p99 = 0;
	for (size_t b = 0; b < n && b < 64 && total; b++) {
		acc += d[b];
		if (!got50 && acc * 2 >= total) {
			row->p50 = (double)(2ULL << b) / 1e3;
			got50 = 1;
		}
		if (acc * 100 >= total * 99) {
			row->p99 = (double)(2ULL << b) / 1e3;
			break;
		}
	}
}

static int by_rate(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	return (x->rate < y->rate) - (x->rate > y->rate);
}

static uint64_t jget(const json_t *o, const char *k)
{
	return (uint64_t)json_integer_value(json_object_get(o, k));
}

/* Rows of (delta count / dt, delta ns / delta count) between two samples. */
static int exit_rows(const json_t *prev, const json_t *cur, double dt, struct row *rows, int max)
{
	const char *k;
	json_t *v;
	int n = 0;

	json_object_foreach((json_t *)json_object_get(cur, "exits"), k, v) {
		json_t *p = json_object_get(json_object_get(prev, "exits"), k);
		uint64_t dc = jget(v, "count") - jget(p, "count"), dn = jget(v, "ns") - jget(p, "ns");

		if (n == max || !dc)
			continue;
		snprintf(rows[n].key, sizeof(rows[n].key), "%s", k);
		rows[n].rate = dc / dt;
		rows[n].us = dn / 1e3 / dc;
		percentiles(json_object_get(v, "hist_log2_ns"), json_object_get(p, "hist_log2_ns"), &rows[n]);
		n++;
	}
	return n;
}

static int range_rows(const json_t *prev, const json_t *cur, double dt, struct row *rows, int max)
{
	json_t *pr = json_object_get(prev, "ranges"), *v;
	size_t i, j;
	int n = 0;

	json_array_foreach(json_object_get(cur, "ranges"), i, v) {
		uint64_t acc = jget(v, "reads") + jget(v, "writes"), ns = jget(v, "ns");
		json_t *p, *ph = NULL;

		json_array_foreach(pr, j, p)
			if (jget(p, "base") == jget(v, "base") &&
			    json_equal(json_object_get(p, "bus"), json_object_get(v, "bus"))) {
				acc -= jget(p, "reads") + jget(p, "writes");
				ns -= jget(p, "ns");
				ph = json_object_get(p, "hist_log2_ns");
				break;
			}
		if (n == max || !acc)
			continue;
		snprintf(rows[n].key, sizeof(rows[n].key), "%-4s %-16.16s 0x%llx",
			 json_string_value(json_object_get(v, "bus")),
			 json_string_value(json_object_get(v, "name")),
			 (unsigned long long)jget(v, "base"));
		rows[n].rate = acc / dt;
		rows[n].us = ns / 1e3 / acc;
		percentiles(json_object_get(v, "hist_log2_ns"), ph, &rows[n]);
		n++;
	}
	return n;
}

static int cmd_top(const char *sock, int argc, char **argv, bool json)
{
	static const struct option opts[] = {
		{ "interval", required_argument, NULL, 'i' }, { "count", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t interval = 1, count = 0;
	json_t *prev = NULL;
	uint64_t tprev = 0;
	bool tty = isatty(1);
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if ((opt == 'i' || opt == 'n') &&
		    parse_u64(optarg, opt == 'i' ? &interval : &count) == 0 &&
		    (opt == 'n' || (interval >= 1 && interval <= 3600)))
			continue;
		return ctl_fail("top: bad option (--interval S, 1-3600; --count N)");
	}
	for (uint64_t frame = 0; !count || frame <= count; frame++) {
		json_t *cur;
		uint64_t now;

		if (call(sock, "GET", "/hyve/stats", NULL, &cur))
			return json_decref(prev), 1;
		now = mono_ns();
		if (prev) {
			struct row ex[70], rg[256];
			double dt = (now - tprev) / 1e9;
			int ne = exit_rows(prev, cur, dt, ex, 70), nr = range_rows(prev, cur, dt, rg, 256);

			qsort(ex, (size_t)ne, sizeof(ex[0]), by_rate);
			qsort(rg, (size_t)nr, sizeof(rg[0]), by_rate);
			if (json) {
				json_t *o = json_object(), *a = json_array(), *b = json_array();
				for (int i = 0; i < ne; i++)
					json_array_append_new(a, json_pack("{s:s, s:f, s:f, s:f, s:f}", "reason",
						ex[i].key, "per_s", ex[i].rate, "mean_us", ex[i].us,
						"p50_us", ex[i].p50, "p99_us", ex[i].p99));
				for (int i = 0; i < nr; i++)
					json_array_append_new(b, json_pack("{s:s, s:f, s:f, s:f, s:f}", "range",
						rg[i].key, "per_s", rg[i].rate, "mean_us", rg[i].us,
						"p50_us", rg[i].p50, "p99_us", rg[i].p99));
				json_object_set_new(o, "exits", a);
				json_object_set_new(o, "ranges", b);
				char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
				puts(s ? s : "{}");
				free(s);
				json_decref(o);
			} else {
				if (tty)
					fputs("\033[H\033[2J", stdout);
				printf("hyve top - %s - every %llus (handler time in us; p50/p99: log2 bucket bounds)\n\n"
				       "%-24s %12s %10s %10s %10s\n",
				       json_string_value(json_object_get(cur, "state")),
				       (unsigned long long)interval, "EXIT REASON", "PER SEC", "MEAN", "P50", "P99");
				for (int i = 0; i < ne; i++)
					printf("%-24s %12.0f %10.2f %10.2f %10.2f\n", ex[i].key, ex[i].rate,
					       ex[i].us, ex[i].p50, ex[i].p99);
				printf("\n%-40s %12s %10s %10s %10s\n", "RANGE (bus name base)", "PER SEC",
				       "MEAN", "P50", "P99");
				for (int i = 0; i < nr && i < 20; i++)
					printf("%-40s %12.0f %10.2f %10.2f %10.2f\n", rg[i].key, rg[i].rate,
					       rg[i].us, rg[i].p50, rg[i].p99);
				if (!tty)
					putchar('\n');
			}
			fflush(stdout);
		}
		json_decref(prev);
		prev = cur;
		tprev = now;
		if (count && frame == count)
			break;
		poll(NULL, 0, (int)(interval * 1000));
	}
	json_decref(prev);
	return 0;
}

/* ---- commands ---- */

/* After a stop: wait until nobody accepts on the socket any more. */
static int wait_gone(const char *sock, uint64_t timeout_s)
{
	uint64_t end = mono_ns() + timeout_s * 1000000000ULL;

	while (mono_ns() < end) {
		int fd = connect_sock(sock);
		if (fd < 0)
			return 0;
		close(fd);
		poll(NULL, 0, 100);
	}
	return ctl_fail("hyve at %s is still running %llu s after the stop request", sock,
			(unsigned long long)timeout_s);
}

int hyve_ctl(int argc, char **argv);
int hyve_ctl(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "api-sock", required_argument, NULL, 's' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *sock = NULL, *cmd;
	bool json = false;
	json_t *o = NULL;
	int opt, r;

	opterr = 0;
	optind = 1;
	/* "+": stop at the command; its own options follow it */
	while ((opt = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (opt) {
		case 's': sock = optarg; break;
		case 'j': json = true; break;
		case 'h': fputs(usage_ctl, stdout); return 0;
		case ':': return ctl_fail("option '%s' needs a value (see hyve ctl --help)", argv[optind - 1]);
		default: return ctl_fail("unknown option '%s' (see hyve ctl --help)", argv[optind - 1]);
		}
	}
	if (!sock)
		return ctl_fail("ctl needs --api-sock PATH (see hyve ctl --help)");
	if (optind >= argc)
		return ctl_fail("ctl needs a command: info, pause, resume, stop, reset, stats, config, top");
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	if (!strcmp(cmd, "top"))
		return cmd_top(sock, argc, argv, json);
	if (!strcmp(cmd, "stop")) {
		static const struct option sopts[] = {
			{ "timeout", required_argument, NULL, 't' }, { "force", no_argument, NULL, 'f' },
			{ NULL, 0, NULL, 0 },
		};
		uint64_t timeout = 10;
		bool force = false;
		char req[128];

		optind = 1;
		while ((opt = getopt_long(argc, argv, ":", sopts, NULL)) != -1) {
			if (opt == 'f')
				force = true;
			else if (opt != 't' || parse_u64(optarg, &timeout) < 0 || timeout > 3600)
				return ctl_fail("stop: bad option (--timeout S, 0-3600; --force)");
		}
		if (optind < argc)
			return ctl_fail("stop: unexpected argument '%s'", argv[optind]);
		snprintf(req, sizeof(req), "{\"action_type\":\"Stop\",\"timeout_s\":%llu,\"force\":%s}",
			 (unsigned long long)timeout, force ? "true" : "false");
		if ((r = call(sock, "PUT", "/hyve/actions", req, NULL)))
			return r;
		return wait_gone(sock, timeout + 5);
	}
	if (argc > 1)
		return ctl_fail("%s: unexpected argument '%s'", cmd, argv[1]);
	if (!strcmp(cmd, "info")) {
		if ((r = call(sock, "GET", "/", NULL, &o)))
			return r;
		if (json)
			print_json(o);
		else
			printf("id: %s\nstate: %s\nvmm_version: %s\napp_name: %s\n",
			       json_string_value(json_object_get(o, "id")),
			       json_string_value(json_object_get(o, "state")),
			       json_string_value(json_object_get(o, "vmm_version")),
			       json_string_value(json_object_get(o, "app_name")));
	} else if (!strcmp(cmd, "pause") || !strcmp(cmd, "resume")) {
		r = call(sock, "PATCH", "/vm", cmd[0] == 'p' ? "{\"state\":\"Paused\"}" :
			 "{\"state\":\"Resumed\"}", NULL);
		if (r)
			return r;
	} else if (!strcmp(cmd, "reset")) {
		if ((r = call(sock, "PUT", "/hyve/actions", "{\"action_type\":\"Reset\"}", NULL)))
			return r;
	} else if (!strcmp(cmd, "stats") || !strcmp(cmd, "config")) {
		if ((r = call(sock, "GET", cmd[0] == 's' ? "/hyve/stats" : "/vm/config", NULL, &o)))
			return r;
		if (json || cmd[0] == 'c') {
			print_json(o);
		} else {
			const char *k;
			json_t *v;
			size_t i;

			printf("state: %s\n", json_string_value(json_object_get(o, "state")));
			json_object_foreach(json_object_get(o, "exits"), k, v)
				printf("exit %-20s count=%llu us=%llu\n", k, (unsigned long long)jget(v, "count"),
				       (unsigned long long)(jget(v, "ns") / 1000));
			json_array_foreach(json_object_get(o, "ranges"), i, v)
				printf("%-4s %-20s 0x%llx+%llu reads=%llu writes=%llu us=%llu\n",
				       json_string_value(json_object_get(v, "bus")),
				       json_string_value(json_object_get(v, "name")),
				       (unsigned long long)jget(v, "base"), (unsigned long long)jget(v, "len"),
				       (unsigned long long)jget(v, "reads"), (unsigned long long)jget(v, "writes"),
				       (unsigned long long)(jget(v, "ns") / 1000));
		}
	} else {
		return ctl_fail("unknown ctl command '%s' (info, pause, resume, stop, reset, stats, config, top)",
				cmd);
	}
	json_decref(o);
	return 0;
}
