/*
 * fc.h - Firecracker's resource model (its swagger definition is the
 * contract): the pre-boot configuration a client builds with PUT/PATCH
 * requests or a --config-file, and the request router that validates every
 * request against it.
 *
 * fc_handle() is a pure function of (state, method, path, body): it parses
 * and validates, updates the configuration, and says what the caller must
 * still do to the VM (start it, pause it, ...) in reply->action.  It touches
 * no VM, no thread, no socket; files are checked only through the optional
 * check hook.  That makes it unit-testable and fuzzable without KVM.
 */
#ifndef HYVE_API_FC_H
#define HYVE_API_FC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FC_MAX_DRIVES	16
#define FC_MAX_IFACES	8
#define FC_IFACE_MTU	1500	/* the only MTU hyve's virtio-net offers */
#define FC_ID_MAX	64		/* drive_id / iface_id length */
#define FC_PATH_MAX	4096
#define FC_ARGS_MAX	4096		/* boot_args (the loader checks the kernel's own limit) */
#define FC_MAX_VCPUS	32		/* Firecracker's range: 1..32 */
#define FC_MAX_MEM_MIB	(1u << 20)	/* 1 TiB */
#define FC_BODY_MAX	(64 * 1024)	/* larger request bodies are refused */

enum fc_phase { FC_NOT_STARTED, FC_RUNNING, FC_PAUSED, FC_STOPPED };

struct fc_drive {
	char id[FC_ID_MAX + 1];
	char *path;			/* path_on_host */
	char *partuuid;			/* or NULL */
	bool root, ro;
	bool writeback;			/* cache_type Writeback (else Unsafe) */
	bool async;			/* io_engine Async (else Sync) */
};

struct fc_iface {
	char id[FC_ID_MAX + 1];
	char host_dev[64];
	char mac[18];			/* "" if none */
	unsigned mtu;			/* 0 if none (else FC_IFACE_MTU) */
};

struct fc_config {
	bool have_boot;
	char *kernel, *initrd, *boot_args;	/* initrd, boot_args may be NULL */
	unsigned vcpus, mem_mib;
	bool smt, track_dirty;
	char huge_pages[12];		/* "None" or "Transparent" */
	int ndrives;
	struct fc_drive drives[FC_MAX_DRIVES];
	int nifaces;
	struct fc_iface ifaces[FC_MAX_IFACES];
	bool entropy;
	bool have_logger;
	char *log_path;			/* may be NULL: the log goes to stderr */
	char level[8];
	bool show_level, show_origin;
	char *log_module;
	bool have_metrics;
	char *metrics_path;
};

/* What fc_handle's caller must do after a 204 that needs the VM. */
enum fc_action {
	FC_ACT_NONE,
	FC_ACT_START,		/* InstanceStart: boot the configured VM */
	FC_ACT_CTRL_ALT_DEL,
	FC_ACT_FLUSH_METRICS,
	FC_ACT_PAUSE,
	FC_ACT_RESUME,
	FC_ACT_STATS,		/* GET /hyve/stats: the caller fills the body */
	FC_ACT_PROMETHEUS,	/* GET /hyve/metrics */
	FC_ACT_STOP,		/* PUT /hyve/actions Stop (timeout_s, force) */
	FC_ACT_RESET,
	FC_ACT_OPEN_LOG,	/* PUT /logger accepted: open cfg.log_path */
	FC_ACT_OPEN_METRICS,	/* PUT /metrics accepted: open cfg.metrics_path */
	FC_ACT_DRIVE_MEDIUM,	/* PATCH /drives path_on_host: drive's new file is path */
};

/* Files the model asks about (through the check hook) before accepting them. */
enum fc_file { FC_FILE_KERNEL, FC_FILE_INITRD, FC_FILE_DRIVE, FC_FILE_DRIVE_RO };

struct fc_state {
	enum fc_phase phase;
	char id[FC_ID_MAX + 1];
	struct fc_config cfg;
	/*
	 * Optional: 0 if path can be used as `what`, else -errno with a short
	 * reason in msg.  NULL accepts every path (fuzzing, unit tests).
	 */
	int (*check)(void *arg, enum fc_file what, const char *path, char *msg, size_t len);
	void *check_arg;
	/* Extra facts for GET /vm/config's "hyve" section (may be NULL). */
	const char *console;
};

struct fc_reply {
	int status;		/* 200, 204 or 400 */
	char *body;		/* malloc'd, NUL-terminated; NULL for 204 */
	enum fc_action action;
	unsigned timeout_s;	/* FC_ACT_STOP */
	bool force;		/* FC_ACT_STOP */
	int drive;		/* FC_ACT_DRIVE_MEDIUM: index in cfg.drives */
	char *path;		/* FC_ACT_DRIVE_MEDIUM: malloc'd (fc_reply_free) */
};

/* A fresh state: not started, 1 vCPU, 128 MiB (Firecracker's defaults). */
void fc_init(struct fc_state *st, const char *id);
void fc_free(struct fc_state *st);
void fc_reply_free(struct fc_reply *r);

/*
 * Route and validate one request (method "GET", "PUT", "PATCH", ...; path
 * without query).  body may be NULL when len is 0.  Always fills reply:
 * 200 + body, 204, or 400 + {"fault_message": ...}.  A 204 with an action
 * other than FC_ACT_NONE is provisional: the caller performs the action and
 * may turn the reply into a 400 with fc_fault().
 */
void fc_handle(struct fc_state *st, const char *method, const char *path,
	       const char *body, size_t len, struct fc_reply *reply);

/*
 * Apply a Firecracker --config-file (the whole configuration as one JSON
 * object: "boot-source", "machine-config", "drives", ...).  0, or -EINVAL
 * with the reason in msg.
 */
int fc_load_config(struct fc_state *st, const char *text, size_t len, char *msg, size_t msglen);

/* Make reply a 400 with the given fault message (frees any earlier body). */
void fc_fault(struct fc_reply *reply, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The position of cfg->drives[i] among the VM's virtio-blk devices (the
 * root drive first, as /dev/vda, then the others in the order they were
 * added): how hyve attaches them, and how a media change finds its disk.
 * -1 if there is no drive i.
 */
int fc_drive_slot(const struct fc_config *cfg, int i);
/* After a media change: drive i's path_on_host is now path.  0 or -1. */
int fc_drive_set_path(struct fc_state *st, int i, const char *path);

/* The kernel command line hyve boots: boot_args plus root= for a root drive. */
char *fc_cmdline(const struct fc_config *cfg, const char *dflt);

const char *fc_phase_name(enum fc_phase p);

#endif
