/*
 * api.c - the control plane's glue (api.h): requests from server.c go
 * through fc_handle(); what needs the VM is done here with vm_* calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "api/api.h"
#include "api/server.h"
#include "err.h"
#include "lock.h"
#include "pci/pci.h"
#include "util.h"
#include "vm.h"

#define METRICS_PERIOD_NS (60ULL * 1000000000ULL)	/* as Firecracker */

enum start_state { START_IDLE, START_REQUESTED, START_DONE };

struct api {
	struct api_server *srv;
	struct fc_state fc;
	pthread_mutex_t lock;		/* everything below, and fc */
	pthread_cond_t cond;
	struct vm *vm;			/* NULL before boot and after api_detach */
	int efd;			/* wakes api_wait_start */
	enum start_state start;
	char start_msg[1024];		/* "" if the boot worked */
	bool exit_req;
	uint64_t stop_deadline;		/* graceful stop: hard stop after this */
	int log_fd, metrics_fd;
	uint64_t next_metrics;
	uint64_t requests, faults;
	char console[256];
	bool by_api;			/* InstanceStart builds the VM (hyve fc) */
};

/* ---- files ---- */

static int check_file(void *arg, enum fc_file what, const char *path, char *msg, size_t len)
{
	int fd = open(path, (what == FC_FILE_DRIVE ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	int e;

	if (fd < 0) {
		e = errno;
		snprintf(msg, len, "%s", strerror(e));
		return -e;
	}
	e = fstat(fd, &st) < 0 ? errno : 0;
	close(fd);
	if (e) {
		snprintf(msg, len, "%s", strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode) && !(S_ISBLK(st.st_mode) && what >= FC_FILE_DRIVE)) {
		snprintf(msg, len, "not a regular file");
		return -EINVAL;
	}
	return 0;
}

/* The logger and metrics sinks: a file (appended) or a named pipe. */
static int open_sink(const char *path, char *msg, size_t len)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0600);

	if (fd < 0)
		snprintf(msg, len, "%s: %s", path, strerror(errno));
	return fd;
}

static void api_log(struct api *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void api_log(struct api *a, const char *fmt, ...)
{
	char line[1200];
	struct timespec ts;
	va_list ap;
	int n;

	if (a->log_fd < 0 || !strcmp(a->fc.cfg.level, "Off"))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(line, sizeof(line), "%lld.%06ld [%s%s] ", (long long)ts.tv_sec,
		     ts.tv_nsec / 1000, a->fc.id, a->fc.cfg.show_level ? ":INFO" : "");
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(a->log_fd, line, n) < 0) {
		/* a full pipe drops the line */
	}
}

/* ---- statistics ---- */

struct stats_json {
	json_t *exits, *ranges, *unclaimed;
};

/* A log2 histogram as an array, up to its last non-empty bucket. */
static json_t *hist_json(const uint64_t *h)
{
	json_t *a = json_array();
	int last = -1;

	for (int b = 0; b < IO_HIST_BUCKETS; b++)
		if (__atomic_load_n(&h[b], __ATOMIC_RELAXED))
			last = b;
	for (int b = 0; b <= last; b++)
		json_array_append_new(a, json_integer((json_int_t)__atomic_load_n(&h[b], __ATOMIC_RELAXED)));
	return a;
}

static void sj_exit(void *arg, const char *reason, uint64_t count, uint64_t ns,
		    const uint64_t hist[IO_HIST_BUCKETS])
{
	struct stats_json *s = arg;
	json_object_set_new(s->exits, reason, json_pack("{s:I, s:I, s:o}", "count", (json_int_t)count,
							 "ns", (json_int_t)ns, "hist_log2_ns", hist_json(hist)));
}

static void sj_range(void *arg, const char *bus, const struct io_range *r)
{
	struct stats_json *s = arg;
	json_array_append_new(s->ranges, json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:o}",
		"bus", bus, "name", r->name, "base", (json_int_t)r->base, "len", (json_int_t)r->len,
		"reads", (json_int_t)__atomic_load_n(&r->st->reads, __ATOMIC_RELAXED),
		"writes", (json_int_t)__atomic_load_n(&r->st->writes, __ATOMIC_RELAXED),
		"ns", (json_int_t)__atomic_load_n(&r->st->ns, __ATOMIC_RELAXED),
		"hist_log2_ns", hist_json(r->st->hist)));
}

static void sj_unclaimed(void *arg, const char *bus, uint64_t reads, uint64_t writes)
{
	struct stats_json *s = arg;
	json_object_set_new(s->unclaimed, bus, json_pack("{s:I, s:I}", "reads", (json_int_t)reads,
							 "writes", (json_int_t)writes));
}

/* GET /hyve/stats (and the metrics file's lines). */
static json_t *stats_json(struct api *a)
{
	static const struct vm_stats_ops ops = { sj_exit, sj_range, sj_unclaimed };
	struct stats_json s = { json_object(), json_array(), json_object() };
	json_t *o = json_object();
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	json_object_set_new(o, "utc_timestamp_ms",
			    json_integer((json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000));
	json_object_set_new(o, "state", json_string(fc_phase_name(a->fc.phase)));
	json_object_set_new(o, "api_server", json_pack("{s:I, s:I}", "requests",
			    (json_int_t)a->requests, "faults", (json_int_t)a->faults));
	if (a->vm)
		vm_stats_visit(a->vm, &ops, &s);
	json_object_set_new(o, "exits", s.exits);
	json_object_set_new(o, "ranges", s.ranges);
	json_object_set_new(o, "unclaimed", s.unclaimed);
	return o;
}

/* Prometheus text exposition format 0.0.4. */
struct prom {
	FILE *f;
};

static void prom_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s == '\n' ? ' ' : *s, f);
	}
}

static void pm_exit(void *arg, const char *reason, uint64_t count, uint64_t ns,
		    const uint64_t hist[IO_HIST_BUCKETS])
{
	FILE *f = ((struct prom *)arg)->f;
	fprintf(f, "hyve_exits_total{reason=\"%s\"} %llu\n", reason, (unsigned long long)count);
	fprintf(f, "hyve_exit_handler_seconds_total{reason=\"%s\"} %.9f\n", reason, ns / 1e9);
}

static void pm_range(void *arg, const char *bus, const struct io_range *r)
{
	FILE *f = ((struct prom *)arg)->f;
	static const char *const dir[2] = { "read", "write" };
	uint64_t n[2] = { __atomic_load_n(&r->st->reads, __ATOMIC_RELAXED),
			  __atomic_load_n(&r->st->writes, __ATOMIC_RELAXED) };

	for (int i = 0; i < 2; i++) {
		fprintf(f, "hyve_io_accesses_total{bus=\"%s\",range=\"", bus);
		prom_label(f, r->name);
		fprintf(f, "\",base=\"0x%llx\",dir=\"%s\"} %llu\n", (unsigned long long)r->base,
			dir[i], (unsigned long long)n[i]);
	}
	fprintf(f, "hyve_io_handler_seconds_total{bus=\"%s\",range=\"", bus);
	prom_label(f, r->name);
	fprintf(f, "\",base=\"0x%llx\"} %.9f\n", (unsigned long long)r->base,
		__atomic_load_n(&r->st->ns, __ATOMIC_RELAXED) / 1e9);
}

static void pm_unclaimed(void *arg, const char *bus, uint64_t reads, uint64_t writes)
{
	FILE *f = ((struct prom *)arg)->f;
	fprintf(f, "hyve_io_unclaimed_total{bus=\"%s\",dir=\"read\"} %llu\n", bus,
		(unsigned long long)reads);
	fprintf(f, "hyve_io_unclaimed_total{bus=\"%s\",dir=\"write\"} %llu\n", bus,
		(unsigned long long)writes);
}

static char *prometheus(struct api *a)
{
	static const struct vm_stats_ops ops = { pm_exit, pm_range, pm_unclaimed };
	struct prom p;
	char *buf = NULL;
	size_t len = 0;

	if (!(p.f = open_memstream(&buf, &len)))
		return NULL;
	fprintf(p.f, "# HELP hyve_up 1 while the VM runs, 0 when paused or not started\n"
		"# TYPE hyve_up gauge\nhyve_up %d\n", a->fc.phase == FC_RUNNING);
	fprintf(p.f, "# HELP hyve_api_requests_total API requests served\n"
		"# TYPE hyve_api_requests_total counter\nhyve_api_requests_total %llu\n",
		(unsigned long long)a->requests);
	fprintf(p.f, "# HELP hyve_exits_total VM exits by reason\n# TYPE hyve_exits_total counter\n"
		"# HELP hyve_exit_handler_seconds_total time in exit handlers by reason\n"
		"# TYPE hyve_exit_handler_seconds_total counter\n"
		"# HELP hyve_io_accesses_total guest accesses per port / MMIO range\n"
		"# TYPE hyve_io_accesses_total counter\n"
		"# HELP hyve_io_handler_seconds_total time in a range's device handler\n"
		"# TYPE hyve_io_handler_seconds_total counter\n"
		"# HELP hyve_io_unclaimed_total accesses to addresses no device claimed\n"
		"# TYPE hyve_io_unclaimed_total counter\n");
	if (a->vm)
		vm_stats_visit(a->vm, &ops, &p);
	fclose(p.f);
	return buf;
}

static int flush_metrics(struct api *a)
{
	json_t *o = stats_json(a);
	char *s = json_dumps(o, JSON_COMPACT);
	int r = 0;

	json_decref(o);
	if (!s)
		return -ENOMEM;
	size_t n = strlen(s);
	s[n] = '\n';		/* json_dumps's NUL becomes the line end */
	if (a->metrics_fd >= 0 && write(a->metrics_fd, s, n + 1) < 0)
		r = -errno;
	free(s);
	a->next_metrics = mono_ns() + METRICS_PERIOD_NS;
	return r;
}

/* ---- requests ---- */

/* No VM to act on: tell the client so (what) and say true. */
static bool no_vm(struct api *a, struct fc_reply *r, const char *what)
{
	if (a->vm)
		return false;
	fc_fault(r, "%s", what);
	return true;
}

static void do_action(struct api *a, struct fc_reply *r)
{
	char msg[512] = "";
	struct fc_config *c = &a->fc.cfg;

	switch (r->action) {
	case FC_ACT_NONE:
		break;
	case FC_ACT_START:
		if (!a->by_api) {
			fc_fault(r, "This VM is started from hyve's command line, not by InstanceStart.");
			break;
		}
		a->start = START_REQUESTED;
		efd_signal(a->efd);
		while (a->start != START_DONE)
			pthread_cond_wait(&a->cond, &a->lock);
		a->start = START_IDLE;
		if (a->start_msg[0])
			fc_fault(r, "Cannot start the microVM: %s", a->start_msg);
		break;
	case FC_ACT_PAUSE:
	case FC_ACT_RESUME:
		if (no_vm(a, r, "The microVM is not running."))
			break;
		if (r->action == FC_ACT_PAUSE)
			vm_pause(a->vm);
		else
			vm_resume(a->vm);
		a->fc.phase = r->action == FC_ACT_PAUSE ? FC_PAUSED : FC_RUNNING;
		api_log(a, "VM %s", r->action == FC_ACT_PAUSE ? "paused" : "resumed");
		break;
	case FC_ACT_CTRL_ALT_DEL:
		if (!a->vm || vm_ctrl_alt_del(a->vm) < 0)
			fc_fault(r, "This microVM has no keyboard controller for SendCtrlAltDel.");
		else
			api_log(a, "Ctrl-Alt-Del sent");
		break;
	case FC_ACT_FLUSH_METRICS:
		if (flush_metrics(a) < 0)
			fc_fault(r, "Cannot write the metrics: %s", strerror(errno));
		break;
	case FC_ACT_STATS:
	case FC_ACT_PROMETHEUS:
		if (no_vm(a, r, "No VM is running (statistics exist once the VM has started)."))
			break;
		if (r->action == FC_ACT_STATS) {
			json_t *o = stats_json(a);
			r->body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
			json_decref(o);
		} else {
			r->body = prometheus(a);
		}
		r->status = r->body ? 200 : 400;
		if (!r->body)
			fc_fault(r, "out of memory");
		break;
	case FC_ACT_STOP:
		if (!a->vm) {	/* nothing booted: the process ends */
			a->exit_req = true;
			efd_signal(a->efd);
			break;
		}
		/*
		 * Graceful: press the ACPI power button and give the guest
		 * timeout_s to power off (tick() stops it after that).
		 */
		if (r->force || r->timeout_s == 0 || vm_power_button(a->vm) < 0) {
			vm_request_stop(a->vm, VM_ERROR, "stopped through the API");
		} else {
			a->stop_deadline = mono_ns() + r->timeout_s * 1000000000ULL;
			api_log(a, "power button pressed; hard stop in %u s", r->timeout_s);
		}
		break;
	case FC_ACT_RESET:
		if (no_vm(a, r, "The microVM is not running."))
			break;
		vm_request_stop(a->vm, VM_RESET, NULL);
		break;
	case FC_ACT_DRIVE_MEDIUM: {
		/* a media change: the disk continues on the new file, the guest
		 * gets a configuration interrupt with the new capacity */
		const char *id = c->drives[r->drive].id;
		char *opts;

		if (no_vm(a, r, "The microVM is not running."))
			break;
		if (asprintf(&opts, "path=%s", r->path) < 0) {
			fc_fault(r, "out of memory");
			break;
		}
		if (pci_bus_update(pci_bus_of(a->vm), "virtio-blk", (unsigned)fc_drive_slot(c, r->drive),
				   opts) < 0) {
			fc_fault(r, "Cannot change drive %s: %s", id, err_msg());
		} else {
			fc_drive_set_path(&a->fc, r->drive, r->path);
			api_log(a, "drive %s: new medium %s", id, r->path);
		}
		free(opts);
		break;
	}
	case FC_ACT_OPEN_LOG:
		if (c->log_path) {
			int fd = open_sink(c->log_path, msg, sizeof(msg));
			if (fd < 0) {
				c->have_logger = false;
				fc_fault(r, "Cannot open the log: %s", msg);
				break;
			}
			if (a->log_fd >= 0 && a->log_fd != 2)
				close(a->log_fd);
			a->log_fd = fd;
		} else {
			a->log_fd = 2;
		}
		break;
	case FC_ACT_OPEN_METRICS: {
		int fd = open_sink(c->metrics_path, msg, sizeof(msg));
		if (fd < 0) {
			c->have_metrics = false;
			free(c->metrics_path);
			c->metrics_path = NULL;
			fc_fault(r, "Cannot open the metrics file: %s", msg);
			break;
		}
		a->metrics_fd = fd;
		a->next_metrics = mono_ns() + METRICS_PERIOD_NS;
		break;
	}
	}
}

static void handle(void *arg, const char *method, const char *path, const char *body,
		   size_t len, struct api_resp *resp)
{
	struct api *a = arg;
	struct fc_reply r;

	lock(&a->lock, LOCK_API);
	fc_handle(&a->fc, method, path, body, len, &r);
	if (r.status < 400)
		do_action(a, &r);
	a->requests++;
	if (r.status >= 400)
		a->faults++;
	api_log(a, "%.16s %.256s: %d", method, path, r.status);
	unlock(&a->lock, LOCK_API);
	resp->status = r.status;
	resp->body = r.body;	/* the server frees it once sent */
	resp->type = r.action == FC_ACT_PROMETHEUS && r.status == 200 ?
		     "text/plain; version=0.0.4" : NULL;
	r.body = NULL;
	fc_reply_free(&r);	/* the rest (a media change's path) */
}

static void tick(void *arg)
{
	struct api *a = arg;
	uint64_t now = mono_ns();

	lock(&a->lock, LOCK_API);
	if (a->metrics_fd >= 0 && now >= a->next_metrics)
		flush_metrics(a);
	if (a->vm && a->stop_deadline && now >= a->stop_deadline) {
		vm_request_stop(a->vm, VM_ERROR, "the guest did not power off in time: stopped");
		a->stop_deadline = 0;
	}
	unlock(&a->lock, LOCK_API);
}

/* ---- the main thread's side ---- */

int api_open(struct api **out, const char *sock, const char *id, bool by_api)
{
	struct api *a = calloc(1, sizeof(*a));
	int r;

	if (!a)
		return err_set(-ENOMEM, "out of memory");
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	a->log_fd = a->metrics_fd = -1;
	a->by_api = by_api;
	fc_init(&a->fc, id);
	a->fc.check = check_file;
	a->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->efd < 0) {
		r = err_set(-errno, "eventfd: %s", strerror(errno));
		api_close(a);
		return r;
	}
	/* HYVE_API_TIMEOUT=S: the request deadline (tests use a short one) */
	const char *t = getenv("HYVE_API_TIMEOUT");
	uint64_t timeout = 0;
	if (t && *t && (parse_u64(t, &timeout) < 0 || timeout < 1 || timeout > 3600))
		timeout = 0;
	if (sock && (r = api_server_open(&a->srv, sock, (unsigned)timeout, handle, tick, a)) < 0) {
		api_close(a);
		return r;
	}
	*out = a;
	return 0;
}

int api_load_config(struct api *a, const char *path)
{
	char msg[2048];
	uint8_t *text;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return err_set(-errno, "--config-file: cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > 16 * FC_BODY_MAX) {
		close(fd);
		return err_set(-EINVAL, "--config-file: %s is not a regular file of at most 1 MiB", path);
	}
	if ((r = read_fd_whole(path, fd, (size_t)st.st_size, &text)) < 0)
		return r;
	lock(&a->lock, LOCK_API);
	r = fc_load_config(&a->fc, (const char *)text, (size_t)st.st_size, msg, sizeof(msg));
	if (r == 0 && a->fc.cfg.have_logger) {
		struct fc_reply rep = { .action = FC_ACT_OPEN_LOG };
		do_action(a, &rep);
		if (rep.status == 400)
			r = -EINVAL, snprintf(msg, sizeof(msg), "logger: cannot open %s", a->fc.cfg.log_path);
		fc_reply_free(&rep);
	}
	if (r == 0 && a->fc.cfg.have_metrics) {
		struct fc_reply rep = { .action = FC_ACT_OPEN_METRICS };
		do_action(a, &rep);
		if (rep.status == 400)
			r = -EINVAL, snprintf(msg, sizeof(msg), "metrics: cannot open the metrics file");
		fc_reply_free(&rep);
	}
	unlock(&a->lock, LOCK_API);
	free(text);
	return r < 0 ? err_set(r, "--config-file %s: %s", path, msg) : 0;
}

int api_start(struct api *a)
{
	return a->srv ? api_server_start(a->srv) : 0;
}

int api_wait_start(struct api *a, int sigfd)
{
	for (;;) {
		struct pollfd p[2] = { { .fd = a->efd, .events = POLLIN },
				       { .fd = sigfd, .events = POLLIN } };
		uint64_t v;

		lock(&a->lock, LOCK_API);
		if (a->exit_req) {
			unlock(&a->lock, LOCK_API);
			return 0;
		}
		if (a->start == START_REQUESTED) {
			unlock(&a->lock, LOCK_API);
			return 1;
		}
		unlock(&a->lock, LOCK_API);
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return -1;
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
				err_set(-EINTR, "terminated by signal %s", sigabbrev_np(si.ssi_signo));
				return -1;
			}
		}
		if (p[0].revents & POLLIN && read(a->efd, &v, sizeof(v)) < 0)
			continue;
	}
}

const struct fc_config *api_config(struct api *a)
{
	return &a->fc.cfg;
}

void api_booted(struct api *a, struct vm *vm, const char *msg)
{
	lock(&a->lock, LOCK_API);
	a->vm = vm;
	if (vm)
		a->fc.phase = FC_RUNNING;
	snprintf(a->start_msg, sizeof(a->start_msg), "%s", vm ? "" : (msg ? msg : "unknown error"));
	if (a->start == START_REQUESTED) {
		a->start = START_DONE;
		pthread_cond_broadcast(&a->cond);
	}
	if (vm)
		api_log(a, "VM started");
	else
		api_log(a, "VM failed to start: %s", a->start_msg);
	unlock(&a->lock, LOCK_API);
}

void api_detach(struct api *a)
{
	if (!a)
		return;
	lock(&a->lock, LOCK_API);
	a->vm = NULL;
	a->stop_deadline = 0;
	unlock(&a->lock, LOCK_API);
}

void api_set_console(struct api *a, const char *desc)
{
	lock(&a->lock, LOCK_API);
	snprintf(a->console, sizeof(a->console), "%s", desc ? desc : "");
	a->fc.console = a->console[0] ? a->console : NULL;
	unlock(&a->lock, LOCK_API);
}

void api_close(struct api *a)
{
	if (!a)
		return;
	lock(&a->lock, LOCK_API);	/* an InstanceStart still waiting fails */
	if (a->start == START_REQUESTED) {
		snprintf(a->start_msg, sizeof(a->start_msg), "hyve is exiting");
		a->start = START_DONE;
		pthread_cond_broadcast(&a->cond);
	}
	unlock(&a->lock, LOCK_API);
	api_server_close(a->srv);	/* joins the thread: no request runs after */
	if (a->metrics_fd >= 0) {
		flush_metrics(a);
		close(a->metrics_fd);
	}
	if (a->log_fd > 2)
		close(a->log_fd);
	close_if_open(a->efd);
	fc_free(&a->fc);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->cond);
	free(a);
}
