/*
 * fc.c - Firecracker's resource model and request validation (fc.h).
 *
 * Every body is parsed with jansson (duplicate keys rejected) and checked
 * against a table of the fields its swagger definition allows: an unknown
 * field, a wrong type or a missing required field is a 400 naming it, as
 * Firecracker's serde(deny_unknown_fields) does.  Values are then checked
 * (ranges, enums, ids, paths) and only a fully valid request changes the
 * configuration: a failed PUT leaves everything as it was.
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "api/fc.h"

#define HYVE_FC_VERSION "1.4.0"		/* the Firecracker API level spoken */

enum ftype { F_STR, F_BOOL, F_UINT, F_OBJ, F_ARRAY };

struct field {
	const char *name;
	enum ftype type;
	bool required;
};

static const char *const type_names[] = {
	[F_STR] = "a string", [F_BOOL] = "a boolean", [F_UINT] = "an unsigned integer",
	[F_OBJ] = "an object", [F_ARRAY] = "an array",
};

/* An error message under construction (every check writes into one). */
struct msg {
	char *buf;
	size_t len;
};

static int bad(struct msg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct msg *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->buf, m->len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

const char *fc_phase_name(enum fc_phase p)
{
	switch (p) {
	case FC_NOT_STARTED: return "Not started";
	case FC_RUNNING: return "Running";
	case FC_PAUSED: return "Paused";
	default: return "Stopped";
	}
}

/*
 * Check obj against fields[]: an object, only known fields (null counts as
 * absent for optional ones), each of the right type, the required present.
 */
static int check_fields(const json_t *obj, const struct field *f, size_t n,
			const char *what, struct msg *m)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return bad(m, "%s must be a JSON object", what);
	json_object_foreach((json_t *)obj, key, v) {
		size_t i;

		for (i = 0; i < n && strcmp(f[i].name, key); i++)
			;
		if (i == n) {
			char list[512] = "";
			size_t o = 0;

			for (size_t j = 0; j < n && o < sizeof(list); j++)
				o += snprintf(list + o, sizeof(list) - o, "%s`%s`",
					      j ? ", " : "", f[j].name);
			return bad(m, "%s: unknown field `%.64s`, expected one of %s", what, key, list);
		}
		if (json_is_null(v) && !f[i].required)
			continue;
		bool ok = (f[i].type == F_STR && json_is_string(v)) ||
			  (f[i].type == F_BOOL && json_is_boolean(v)) ||
			  (f[i].type == F_UINT && json_is_integer(v) && json_integer_value(v) >= 0) ||
			  (f[i].type == F_OBJ && json_is_object(v)) ||
			  (f[i].type == F_ARRAY && json_is_array(v));
		if (!ok)
			return bad(m, "%s: invalid type for `%s`: expected %s", what, key,
				   type_names[f[i].type]);
	}
	for (size_t i = 0; i < n; i++)
		if (f[i].required && (!json_object_get(obj, f[i].name) ||
				      json_is_null(json_object_get(obj, f[i].name))))
			return bad(m, "%s: missing field `%s`", what, f[i].name);
	return 0;
}

/* Field accessors for objects check_fields() accepted. */
static const char *get_str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static bool has(const json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return v && !json_is_null(v);
}

static bool get_bool(const json_t *o, const char *k, bool dflt)
{
	return has(o, k) ? json_is_true(json_object_get(o, k)) : dflt;
}

static int get_uint(const json_t *o, const char *k, uint64_t max, uint64_t *out,
		    const char *what, struct msg *m)
{
	json_int_t v = json_integer_value(json_object_get(o, k));

	if (v < 0 || (uint64_t)v > max)
		return bad(m, "%s: `%s` %lld is out of range (at most %llu)", what, k,
			   (long long)v, (unsigned long long)max);
	*out = (uint64_t)v;
	return 0;
}

/* A string field bounded in length (the library already refused NUL bytes). */
static int get_path(const json_t *o, const char *k, const char *what, struct msg *m,
		    const char **out)
{
	const char *s = get_str(o, k);

	*out = s;
	if (!s)
		return 0;
	if (!*s)
		return bad(m, "%s: `%s` is empty", what, k);
	if (strlen(s) >= FC_PATH_MAX)
		return bad(m, "%s: `%s` is longer than %d bytes", what, k, FC_PATH_MAX - 1);
	return 0;
}

/* Resource ids: 1-64 of [A-Za-z0-9_-] (they appear in paths and logs). */
static int check_id(const char *id, const char *what, struct msg *m)
{
	size_t n = strlen(id);

	if (n == 0 || n > FC_ID_MAX)
		return bad(m, "%s: invalid id: it must be 1 to %d characters", what, FC_ID_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return bad(m, "%s: invalid id: only letters, digits, '_' and '-' are allowed", what);
	}
	return 0;
}

/* PUT or PATCH /{resource}/{path_id}: the body's id must be the same
 * (path_id NULL: no path, a --config-file entry). */
static int same_id(const char *path_id, const char *id, struct msg *m)
{
	if (path_id && strcmp(path_id, id))
		return bad(m, "The id from the path (%.64s) does not match the id from the body (%.64s).",
			   path_id, id);
	return 0;
}

static int check_file(struct fc_state *st, enum fc_file what, const char *path,
		      const char *field, struct msg *m)
{
	char why[256] = "";

	if (!st->check || !path)
		return 0;
	if (st->check(st->check_arg, what, path, why, sizeof(why)) < 0)
		return bad(m, "`%s` %.1024s: %s", field, path, why[0] ? why : "cannot be used");
	return 0;
}

static int not_after_start(struct fc_state *st, struct msg *m)
{
	if (st->phase != FC_NOT_STARTED)
		return bad(m, "The requested operation is not supported after starting the microVM.");
	return 0;
}

static int not_before_start(struct fc_state *st, struct msg *m)
{
	if (st->phase == FC_NOT_STARTED)
		return bad(m, "The requested operation is not supported before starting the microVM.");
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* A rate limiter is accepted only when absent: hyve does not limit I/O. */
static int no_rate_limiter(const json_t *o, const char *k, const char *what, struct msg *m)
{
	if (has(o, k))
		return bad(m, "%s: `%s` is not implemented by hyve", what, k);
	return 0;
}

/* ---- resources ---- */

static int put_boot_source(struct fc_state *st, const json_t *b, struct msg *m)
{
	static const struct field f[] = {
		{ "kernel_image_path", F_STR, true }, { "initrd_path", F_STR, false },
		{ "boot_args", F_STR, false },
	};
	const char *what = "boot-source", *kernel, *initrd, *args;
	struct fc_config *c = &st->cfg;
	int r;

	if ((r = not_after_start(st, m)) || (r = check_fields(b, f, 3, what, m)) ||
	    (r = get_path(b, "kernel_image_path", what, m, &kernel)) ||
	    (r = get_path(b, "initrd_path", what, m, &initrd)))
		return r;
	args = get_str(b, "boot_args");
	if (args && strlen(args) >= FC_ARGS_MAX)
		return bad(m, "%s: `boot_args` is longer than %d bytes", what, FC_ARGS_MAX - 1);
	if ((r = check_file(st, FC_FILE_KERNEL, kernel, "kernel_image_path", m)) ||
	    (r = check_file(st, FC_FILE_INITRD, initrd, "initrd_path", m)))
		return r;
	free(c->kernel);
	free(c->initrd);
	free(c->boot_args);
	c->kernel = strdup(kernel);
	c->initrd = dup_or_null(initrd);
	c->boot_args = dup_or_null(args);
	c->have_boot = true;
	return 0;
}

static const struct field machine_fields[] = {
	{ "vcpu_count", F_UINT, true }, { "mem_size_mib", F_UINT, true },
	{ "smt", F_BOOL, false }, { "track_dirty_pages", F_BOOL, false },
	{ "cpu_template", F_STR, false }, { "huge_pages", F_STR, false },
};

/* PUT (all fields, defaults for the optional ones) or PATCH (a subset). */
static int set_machine(struct fc_state *st, const json_t *b, bool patch, struct msg *m)
{
	struct field f[6];
	const char *what = "machine-config", *s;
	struct fc_config *c = &st->cfg;
	unsigned vcpus = patch ? c->vcpus : 1, mem = patch ? c->mem_mib : 128;
	bool smt = patch ? c->smt : false;
	char huge[12];
	uint64_t v = 0;
	int r;

	memcpy(f, machine_fields, sizeof(f));
	if (patch)
		f[0].required = f[1].required = false;
	snprintf(huge, sizeof(huge), "%s", patch ? c->huge_pages : "None");
	if ((r = not_after_start(st, m)) || (r = check_fields(b, f, 6, what, m)))
		return r;
	if (has(b, "vcpu_count")) {
		if ((r = get_uint(b, "vcpu_count", FC_MAX_VCPUS, &v, what, m)))
			return r;
		if (v == 0)
			return bad(m, "%s: `vcpu_count` must be from 1 to %d", what, FC_MAX_VCPUS);
		vcpus = (unsigned)v;
	}
	if (has(b, "mem_size_mib")) {
		if ((r = get_uint(b, "mem_size_mib", FC_MAX_MEM_MIB, &v, what, m)))
			return r;
		if (v == 0)
			return bad(m, "%s: `mem_size_mib` must be at least 1", what);
		mem = (unsigned)v;
	}
	smt = get_bool(b, "smt", smt);
	if (smt)
		return bad(m, "%s: `smt`: simultaneous multithreading is not implemented by hyve", what);
	if (get_bool(b, "track_dirty_pages", false))
		return bad(m, "%s: `track_dirty_pages` is not implemented by hyve (no snapshots)", what);
	if ((s = get_str(b, "cpu_template")) && strcmp(s, "None")) {
		static const char *const known[] = { "C3", "T2", "T2S", "T2CL", "T2A", "V1N1" };
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (!strcmp(s, known[i]))
				return bad(m, "%s: CPU template %s is not implemented by hyve", what, s);
		return bad(m, "%s: unknown `cpu_template` \"%.32s\" (None, C3, T2, T2S, T2CL, T2A, V1N1)",
			   what, s);
	}
	if ((s = get_str(b, "huge_pages"))) {
		if (!strcmp(s, "2M"))
			return bad(m, "%s: `huge_pages` 2M (hugetlbfs) is not implemented by hyve; "
				   "guest RAM uses transparent huge pages", what);
		if (strcmp(s, "None") && strcmp(s, "Transparent"))
			return bad(m, "%s: unknown `huge_pages` \"%.32s\" (None, Transparent, 2M)", what, s);
		snprintf(huge, sizeof(huge), "%s", s);
	}
	c->vcpus = vcpus;
	c->mem_mib = mem;
	c->smt = smt;
	c->track_dirty = false;
	snprintf(c->huge_pages, sizeof(c->huge_pages), "%s", huge);
	return 0;
}

static const struct field drive_fields[] = {
	{ "drive_id", F_STR, true }, { "is_root_device", F_BOOL, true },
	{ "path_on_host", F_STR, false }, { "is_read_only", F_BOOL, false },
	{ "cache_type", F_STR, false }, { "partuuid", F_STR, false },
	{ "rate_limiter", F_OBJ, false }, { "io_engine", F_STR, false },
	{ "socket", F_STR, false },
};

static void drive_free(struct fc_drive *d)
{
	free(d->path);
	free(d->partuuid);
	memset(d, 0, sizeof(*d));
}

/* PUT /drives/{id} (path_id NULL: a --config-file entry, the body's id counts). */
static int put_drive(struct fc_state *st, const char *path_id, const json_t *b, struct msg *m)
{
	const char *what = "drive", *id, *path, *s;
	struct fc_config *c = &st->cfg;
	struct fc_drive d = { 0 };
	int r, slot = -1;

	if ((r = not_after_start(st, m)) ||
	    (r = check_fields(b, drive_fields, sizeof(drive_fields) / sizeof(drive_fields[0]), what, m)))
		return r;
	id = get_str(b, "drive_id");
	if ((r = check_id(id, what, m)) || (r = same_id(path_id, id, m)))
		return r;
	if (has(b, "socket"))
		return bad(m, "drive %s: vhost-user block devices (`socket`) are not implemented by hyve", id);
	if ((r = no_rate_limiter(b, "rate_limiter", what, m)) ||
	    (r = get_path(b, "path_on_host", what, m, &path)))
		return r;
	if (!path)
		return bad(m, "drive %s: missing field `path_on_host`", id);
	snprintf(d.id, sizeof(d.id), "%s", id);
	d.root = get_bool(b, "is_root_device", false);
	d.ro = get_bool(b, "is_read_only", false);
	if ((s = get_str(b, "cache_type"))) {
		if (strcmp(s, "Unsafe") && strcmp(s, "Writeback"))
			return bad(m, "drive %s: unknown `cache_type` \"%.32s\" (Unsafe, Writeback)", id, s);
		d.writeback = !strcmp(s, "Writeback");
	}
	if ((s = get_str(b, "io_engine"))) {
		if (strcmp(s, "Sync") && strcmp(s, "Async"))
			return bad(m, "drive %s: unknown `io_engine` \"%.32s\" (Sync, Async)", id, s);
		d.async = !strcmp(s, "Async");
	}
	if ((s = get_str(b, "partuuid")) && (!*s || strlen(s) > 64))
		return bad(m, "drive %s: `partuuid` must be 1 to 64 characters", id);
	for (int i = 0; i < c->ndrives; i++) {
		if (!strcmp(c->drives[i].id, id))
			slot = i;
		else if (d.root && c->drives[i].root)
			return bad(m, "drive %s: a root block device already exists (%s)", id,
				   c->drives[i].id);
	}
	if (slot < 0 && c->ndrives == FC_MAX_DRIVES)
		return bad(m, "drive %s: too many drives (at most %d)", id, FC_MAX_DRIVES);
	if ((r = check_file(st, d.ro ? FC_FILE_DRIVE_RO : FC_FILE_DRIVE, path, "path_on_host", m)))
		return r;
	d.path = strdup(path);
	d.partuuid = dup_or_null(s);
	if (slot < 0)
		slot = c->ndrives++;
	else
		drive_free(&c->drives[slot]);
	c->drives[slot] = d;
	return 0;
}

/*
 * PATCH /drives/{id} after boot: a new `path_on_host` is a media change
 * (FC_ACT_DRIVE_MEDIUM: the caller swaps the disk's file, then records it
 * with fc_drive_set_path); without one there is nothing to change.
 */
static int patch_drive(struct fc_state *st, const char *path_id, const json_t *b,
		       struct fc_reply *reply, struct msg *m)
{
	static const struct field f[] = {
		{ "drive_id", F_STR, true }, { "path_on_host", F_STR, false },
		{ "rate_limiter", F_OBJ, false },
	};
	const char *id, *path;
	int r, i;

	if ((r = check_fields(b, f, 3, "drive", m)))
		return r;
	id = get_str(b, "drive_id");
	if ((r = same_id(path_id, id, m)))
		return r;
	for (i = 0; i < st->cfg.ndrives && strcmp(st->cfg.drives[i].id, id); i++)
		;
	if (i == st->cfg.ndrives)
		return bad(m, "drive %.64s: no such drive", id);
	if ((r = not_before_start(st, m)))
		return r;
	if ((r = no_rate_limiter(b, "rate_limiter", "drive", m)))
		return r;
	if (!(path = get_str(b, "path_on_host")))
		return 0;	/* nothing to change */
	if (!*path || strlen(path) > FC_PATH_MAX)
		return bad(m, "drive %s: `path_on_host` must be 1 to %d characters", id, FC_PATH_MAX);
	if ((r = check_file(st, st->cfg.drives[i].ro ? FC_FILE_DRIVE_RO : FC_FILE_DRIVE, path,
			    "path_on_host", m)))
		return r;
	if (!(reply->path = strdup(path)))
		return bad(m, "out of memory");
	reply->drive = i;
	reply->action = FC_ACT_DRIVE_MEDIUM;
	return 0;
}

int fc_drive_slot(const struct fc_config *c, int i)
{
	int slot = 0;

	if (i < 0 || i >= c->ndrives)
		return -1;
	if (c->drives[i].root)
		return 0;		/* the root drive is /dev/vda */
	for (int j = 0; j < c->ndrives; j++)
		slot += j < i || c->drives[j].root;	/* the root, and the others before i */
	return slot;
}

int fc_drive_set_path(struct fc_state *st, int i, const char *path)
{
	char *p;

	if (i < 0 || i >= st->cfg.ndrives || !(p = strdup(path)))
		return -1;
	free(st->cfg.drives[i].path);
	st->cfg.drives[i].path = p;
	return 0;
}

static int put_iface(struct fc_state *st, const char *path_id, const json_t *b, struct msg *m)
{
	static const struct field f[] = {
		{ "iface_id", F_STR, true }, { "host_dev_name", F_STR, true },
		{ "guest_mac", F_STR, false }, { "mtu", F_UINT, false },
		{ "rx_rate_limiter", F_OBJ, false }, { "tx_rate_limiter", F_OBJ, false },
	};
	const char *what = "network-interface", *id, *mac;
	struct fc_config *c = &st->cfg;
	uint64_t mtu = 0;
	int r, slot = -1;

	if ((r = not_after_start(st, m)) || (r = check_fields(b, f, 6, what, m)))
		return r;
	id = get_str(b, "iface_id");
	if ((r = check_id(id, what, m)) || (r = same_id(path_id, id, m)))
		return r;
	if (strlen(get_str(b, "host_dev_name")) >= 16 || !*get_str(b, "host_dev_name"))
		return bad(m, "%s %s: `host_dev_name` must be 1 to 15 characters", what, id);
	if ((mac = get_str(b, "guest_mac"))) {
		unsigned x[6];
		char tail;
		if (strlen(mac) != 17 ||
		    sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x%c", &x[0], &x[1], &x[2], &x[3], &x[4],
			   &x[5], &tail) != 6)
			return bad(m, "%s %s: `guest_mac` \"%.32s\" is not a MAC address (xx:xx:xx:xx:xx:xx)",
				   what, id, mac);
	}
	if (has(b, "mtu") && ((r = get_uint(b, "mtu", 65535, &mtu, what, m)) || mtu < 68))
		return r ? r : bad(m, "%s %s: `mtu` must be from 68 to 65535", what, id);
	if (has(b, "mtu") && mtu != FC_IFACE_MTU)
		return bad(m, "%s %s: hyve's virtio-net has `mtu` %d only", what, id, FC_IFACE_MTU);
	if ((r = no_rate_limiter(b, "rx_rate_limiter", what, m)) ||
	    (r = no_rate_limiter(b, "tx_rate_limiter", what, m)))
		return r;
	/* one interface per id; a tap or a MAC belongs to one interface */
	for (int i = 0; i < c->nifaces; i++) {
		if (!strcmp(c->ifaces[i].id, id)) {
			slot = i;
			continue;
		}
		if (!strcmp(c->ifaces[i].host_dev, get_str(b, "host_dev_name")))
			return bad(m, "%s %s: `host_dev_name` %s is already used by %s", what, id,
				   c->ifaces[i].host_dev, c->ifaces[i].id);
		if (mac && !strcasecmp(c->ifaces[i].mac, mac))
			return bad(m, "%s %s: `guest_mac` %s is already used by %s", what, id, mac,
				   c->ifaces[i].id);
	}
	if (slot < 0 && c->nifaces == FC_MAX_IFACES)
		return bad(m, "%s %s: too many network interfaces (at most %d)", what, id, FC_MAX_IFACES);
	if (slot < 0)
		slot = c->nifaces++;
	memset(&c->ifaces[slot], 0, sizeof(c->ifaces[slot]));
	snprintf(c->ifaces[slot].id, sizeof(c->ifaces[slot].id), "%s", id);
	snprintf(c->ifaces[slot].host_dev, sizeof(c->ifaces[slot].host_dev), "%s",
		 get_str(b, "host_dev_name"));
	if (mac)
		snprintf(c->ifaces[slot].mac, sizeof(c->ifaces[slot].mac), "%s", mac);
	c->ifaces[slot].mtu = (unsigned)mtu;
	return 0;
}

/* PATCH /network-interfaces/{id} after boot: Firecracker changes rate
 * limiters there, which hyve does not have; nothing else can change. */
static int patch_iface(struct fc_state *st, const char *path_id, const json_t *b, struct msg *m)
{
	static const struct field f[] = {
		{ "iface_id", F_STR, true },
		{ "rx_rate_limiter", F_OBJ, false }, { "tx_rate_limiter", F_OBJ, false },
	};
	const char *what = "network-interface", *id;
	int r, i;

	if ((r = check_fields(b, f, 3, what, m)))
		return r;
	id = get_str(b, "iface_id");
	if ((r = same_id(path_id, id, m)))
		return r;
	for (i = 0; i < st->cfg.nifaces && strcmp(st->cfg.ifaces[i].id, id); i++)
		;
	if (i == st->cfg.nifaces)
		return bad(m, "%s %.64s: no such interface", what, id);
	if ((r = not_before_start(st, m)))
		return r;
	if ((r = no_rate_limiter(b, "rx_rate_limiter", what, m)) ||
	    (r = no_rate_limiter(b, "tx_rate_limiter", what, m)))
		return r;
	return 0;	/* nothing to change */
}

static int put_entropy(struct fc_state *st, const json_t *b, struct msg *m)
{
	static const struct field f[] = { { "rate_limiter", F_OBJ, false } };
	int r;

	if ((r = not_after_start(st, m)) || (r = check_fields(b, f, 1, "entropy", m)) ||
	    (r = no_rate_limiter(b, "rate_limiter", "entropy", m)))
		return r;
	st->cfg.entropy = true;
	return 0;
}

static int put_logger(struct fc_state *st, const json_t *b, struct msg *m)
{
	static const struct field f[] = {
		{ "log_path", F_STR, false }, { "level", F_STR, false },
		{ "show_level", F_BOOL, false }, { "show_log_origin", F_BOOL, false },
		{ "module", F_STR, false },
	};
	static const char *const levels[] = { "Error", "Warning", "Info", "Debug", "Trace", "Off" };
	struct fc_config *c = &st->cfg;
	const char *path, *lvl = "Info", *mod;
	int r;

	if ((r = not_after_start(st, m)) || (r = check_fields(b, f, 5, "logger", m)) ||
	    (r = get_path(b, "log_path", "logger", m, &path)))
		return r;
	if (has(b, "level")) {
		const char *s = get_str(b, "level");
		size_t i;

		for (i = 0; i < 6 && strcasecmp(s, levels[i]); i++)
			;
		if (i == 6)
			return bad(m, "logger: unknown `level` \"%.32s\" (Error, Warning, Info, Debug, Trace, Off)", s);
		lvl = levels[i];
	}
	mod = get_str(b, "module");
	if (mod && strlen(mod) > 256)
		return bad(m, "logger: `module` is longer than 256 bytes");
	free(c->log_path);
	free(c->log_module);
	c->log_path = dup_or_null(path);
	c->log_module = dup_or_null(mod);
	snprintf(c->level, sizeof(c->level), "%s", lvl);
	c->show_level = get_bool(b, "show_level", false);
	c->show_origin = get_bool(b, "show_log_origin", false);
	c->have_logger = true;
	return 0;
}

static int put_metrics(struct fc_state *st, const json_t *b, struct msg *m)
{
	static const struct field f[] = { { "metrics_path", F_STR, true } };
	const char *path;
	int r;

	if ((r = not_after_start(st, m)) || (r = check_fields(b, f, 1, "metrics", m)) ||
	    (r = get_path(b, "metrics_path", "metrics", m, &path)))
		return r;
	if (st->cfg.have_metrics)
		return bad(m, "Reinitialization of metrics not allowed.");
	st->cfg.metrics_path = strdup(path);
	st->cfg.have_metrics = true;
	return 0;
}

/* ---- replies ---- */

void fc_reply_free(struct fc_reply *r)
{
	free(r->body);
	r->body = NULL;
	free(r->path);
	r->path = NULL;
}

void fc_fault(struct fc_reply *reply, const char *fmt, ...)
{
	char msg[2048];
	json_t *o;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fc_reply_free(reply);
	reply->status = 400;
	reply->action = FC_ACT_NONE;
	o = json_pack("{s:s}", "fault_message", msg);
	/* a message cut inside a UTF-8 sequence cannot be a JSON string */
	if (!o)
		o = json_pack("{s:s}", "fault_message", "invalid request");
	reply->body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
}

static void reply_json(struct fc_reply *reply, json_t *o)
{
	fc_reply_free(reply);
	reply->status = 200;
	reply->body = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (!reply->body)
		fc_fault(reply, "out of memory");
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *machine_json(const struct fc_config *c)
{
	return json_pack("{s:i, s:I, s:b, s:b, s:s}", "vcpu_count", (int)c->vcpus,
			 "mem_size_mib", (json_int_t)c->mem_mib, "smt", c->smt,
			 "track_dirty_pages", c->track_dirty, "huge_pages", c->huge_pages);
}

static json_t *vm_config_json(const struct fc_state *st)
{
	const struct fc_config *c = &st->cfg;
	json_t *o = json_object(), *drives = json_array(), *ifaces = json_array();

	for (int i = 0; i < c->ndrives; i++) {
		const struct fc_drive *d = &c->drives[i];
		json_array_append_new(drives, json_pack("{s:s, s:o, s:b, s:b, s:s, s:s, s:o}",
			"drive_id", d->id, "path_on_host", json_string(d->path),
			"is_root_device", d->root, "is_read_only", d->ro,
			"cache_type", d->writeback ? "Writeback" : "Unsafe",
			"io_engine", d->async ? "Async" : "Sync",
			"partuuid", str_or_null(d->partuuid)));
	}
	for (int i = 0; i < c->nifaces; i++) {
		json_t *j = json_pack("{s:s, s:s}", "iface_id", c->ifaces[i].id,
				      "host_dev_name", c->ifaces[i].host_dev);

		if (c->ifaces[i].mac[0])
			json_object_set_new(j, "guest_mac", json_string(c->ifaces[i].mac));
		json_array_append_new(ifaces, j);
	}
	json_object_set_new(o, "balloon", json_null());
	json_object_set_new(o, "drives", drives);
	json_object_set_new(o, "boot-source", c->have_boot ?
		json_pack("{s:s, s:o, s:o}", "kernel_image_path", c->kernel,
			  "initrd_path", str_or_null(c->initrd), "boot_args", str_or_null(c->boot_args)) :
		json_null());
	json_object_set_new(o, "cpu-config", json_null());
	json_object_set_new(o, "logger", c->have_logger ?
		json_pack("{s:o, s:s, s:b, s:b, s:o}", "log_path", str_or_null(c->log_path),
			  "level", c->level, "show_level", c->show_level,
			  "show_log_origin", c->show_origin, "module", str_or_null(c->log_module)) :
		json_null());
	json_object_set_new(o, "machine-config", machine_json(c));
	json_object_set_new(o, "metrics", c->have_metrics ?
		json_pack("{s:s}", "metrics_path", c->metrics_path) : json_null());
	json_object_set_new(o, "mmds-config", json_null());
	json_object_set_new(o, "network-interfaces", ifaces);
	json_object_set_new(o, "vsock", json_null());
	json_object_set_new(o, "entropy", c->entropy ? json_object() : json_null());
	json_object_set_new(o, "hyve", json_pack("{s:o}", "console", str_or_null(st->console)));
	return o;
}

/* ---- routing ---- */

/* Paths of Firecracker endpoints hyve does not implement (yet). */
static const char *const unimplemented[] = {
	"/balloon", "/balloon/statistics", "/balloon/hinting/start", "/balloon/hinting/status",
	"/balloon/hinting/stop", "/snapshot/create", "/snapshot/load", "/mmds", "/mmds/config",
	"/vsock", "/cpu-config", "/serial", "/hotplug/memory",
};

/* "/prefix/ID" with a non-empty ID and nothing after it: the ID, else NULL. */
static const char *path_id(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(path, prefix, n) || !path[n] || strchr(path + n, '/'))
		return NULL;
	return path + n;
}

static json_t *parse_body(const char *body, size_t len, struct msg *m)
{
	json_error_t e;
	json_t *o;

	if (!body || len == 0) {
		bad(m, "The request needs a JSON body.");
		return NULL;
	}
	if (len > FC_BODY_MAX) {
		bad(m, "The request body is larger than %d bytes.", FC_BODY_MAX);
		return NULL;
	}
	o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
	if (!o)
		bad(m, "Invalid JSON body: %s (line %d, column %d)", e.text, e.line, e.column);
	return o;
}

/* A body whose one field is the string name: the string in *v.  0 or
 * -EINVAL (said in m, what naming the body). */
static int only_str(const json_t *b, const char *name, const char *what, struct msg *m,
		    const char **v)
{
	const struct field f[] = { { name, F_STR, true } };
	int r = check_fields(b, f, 1, what, m);

	if (r == 0)
		*v = get_str(b, name);
	return r;
}

static int put_actions(struct fc_state *st, const json_t *b, struct fc_reply *reply, struct msg *m)
{
	const char *a;
	int r;

	if ((r = only_str(b, "action_type", "action", m, &a)))
		return r;
	if (!strcmp(a, "InstanceStart")) {
		if ((r = not_after_start(st, m)))
			return r;
		if (!st->cfg.have_boot)
			return bad(m, "Cannot start microvm without kernel configuration.");
		reply->action = FC_ACT_START;
	} else if (!strcmp(a, "SendCtrlAltDel")) {
		if ((r = not_before_start(st, m)))
			return r;
		reply->action = FC_ACT_CTRL_ALT_DEL;
	} else if (!strcmp(a, "FlushMetrics")) {
		if (!st->cfg.have_metrics)
			return bad(m, "The metrics system is not initialized (PUT /metrics first).");
		reply->action = FC_ACT_FLUSH_METRICS;
	} else {
		return bad(m, "action: unknown `action_type` \"%.32s\" (InstanceStart, SendCtrlAltDel, FlushMetrics)", a);
	}
	return 0;
}

static int patch_vm(struct fc_state *st, const json_t *b, struct fc_reply *reply, struct msg *m)
{
	const char *s;
	int r;

	if ((r = only_str(b, "state", "vm", m, &s)))
		return r;
	if (strcmp(s, "Paused") && strcmp(s, "Resumed"))
		return bad(m, "vm: unknown `state` \"%.32s\" (Paused, Resumed)", s);
	if ((r = not_before_start(st, m)))
		return r;
	reply->action = strcmp(s, "Paused") ? FC_ACT_RESUME : FC_ACT_PAUSE;
	return 0;
}

static int hyve_actions(struct fc_state *st, const json_t *b, struct fc_reply *reply, struct msg *m)
{
	static const struct field f[] = {
		{ "action_type", F_STR, true }, { "timeout_s", F_UINT, false }, { "force", F_BOOL, false },
	};
	const char *a;
	uint64_t t = 10;
	int r;

	if ((r = check_fields(b, f, 3, "hyve action", m)))
		return r;
	if (has(b, "timeout_s") && (r = get_uint(b, "timeout_s", 3600, &t, "hyve action", m)))
		return r;
	a = get_str(b, "action_type");
	if (!strcmp(a, "Stop")) {
		reply->action = FC_ACT_STOP;
		reply->timeout_s = (unsigned)t;
		reply->force = get_bool(b, "force", false);
	} else if (!strcmp(a, "Reset")) {
		if ((r = not_before_start(st, m)))
			return r;
		reply->action = FC_ACT_RESET;
	} else {
		return bad(m, "hyve action: unknown `action_type` \"%.32s\" (Stop, Reset)", a);
	}
	return 0;
}

void fc_handle(struct fc_state *st, const char *method, const char *path,
	       const char *body, size_t len, struct fc_reply *reply)
{
	char buf[2048] = "";
	struct msg m = { buf, sizeof(buf) };
	bool get = !strcmp(method, "GET"), put = !strcmp(method, "PUT"),
	     patch = !strcmp(method, "PATCH");
	const char *id = NULL;
	json_t *b = NULL;
	int r = 0;

	memset(reply, 0, sizeof(*reply));
	reply->status = 204;
	if (get && !strcmp(path, "/")) {
		reply_json(reply, json_pack("{s:s, s:s, s:s, s:s}", "id", st->id,
			   "state", fc_phase_name(st->phase), "vmm_version", HYVE_FC_VERSION "-hyve",
			   "app_name", "hyve"));
		return;
	}
	if (get && !strcmp(path, "/version")) {
		reply_json(reply, json_pack("{s:s}", "firecracker_version", HYVE_FC_VERSION));
		return;
	}
	if (get && !strcmp(path, "/machine-config")) {
		reply_json(reply, machine_json(&st->cfg));
		return;
	}
	if (get && !strcmp(path, "/vm/config")) {
		reply_json(reply, vm_config_json(st));
		return;
	}
	if (get && !strcmp(path, "/hyve/stats")) {
		reply->action = FC_ACT_STATS;
		return;
	}
	if (get && !strcmp(path, "/hyve/metrics")) {
		reply->action = FC_ACT_PROMETHEUS;
		return;
	}
	for (size_t i = 0; i < sizeof(unimplemented) / sizeof(unimplemented[0]); i++)
		if (!strcmp(path, unimplemented[i]) || path_id(path, "/pmem/")) {
			fc_fault(reply, "%s is not implemented by hyve yet.", path_id(path, "/pmem/") ?
				 "/pmem" : unimplemented[i]);
			return;
		}

	enum { NONE, BOOT, MACHINE, DRIVE, DRIVE_PATCH, IFACE, ENTROPY, LOGGER, METRICS,
	       ACTIONS, VM, HYVE_ACTIONS } which = NONE;
	if (put && !strcmp(path, "/boot-source")) which = BOOT;
	else if ((put || patch) && !strcmp(path, "/machine-config")) which = MACHINE;
	else if (put && (id = path_id(path, "/drives/"))) which = DRIVE;
	else if (patch && (id = path_id(path, "/drives/"))) which = DRIVE_PATCH;
	else if ((put || patch) && (id = path_id(path, "/network-interfaces/"))) which = IFACE;
	else if (put && !strcmp(path, "/entropy")) which = ENTROPY;
	else if (put && !strcmp(path, "/logger")) which = LOGGER;
	else if (put && !strcmp(path, "/metrics")) which = METRICS;
	else if (put && !strcmp(path, "/actions")) which = ACTIONS;
	else if (patch && !strcmp(path, "/vm")) which = VM;
	else if (put && !strcmp(path, "/hyve/actions")) which = HYVE_ACTIONS;
	if (which == NONE) {
		fc_fault(reply, "Invalid request method and/or path: %.16s %.256s.", method, path);
		return;
	}
	if (!(b = parse_body(body, len, &m))) {
		fc_fault(reply, "%s", buf);
		return;
	}
	switch (which) {
	case BOOT:	   r = put_boot_source(st, b, &m); break;
	case MACHINE:	   r = set_machine(st, b, patch, &m); break;
	case DRIVE:	   r = put_drive(st, id, b, &m); break;
	case DRIVE_PATCH:  r = patch_drive(st, id, b, reply, &m); break;
	case IFACE:	   r = patch ? patch_iface(st, id, b, &m) : put_iface(st, id, b, &m); break;
	case ENTROPY:	   r = put_entropy(st, b, &m); break;
	case LOGGER:
		if ((r = put_logger(st, b, &m)) == 0)
			reply->action = FC_ACT_OPEN_LOG;
		break;
	case METRICS:
		if ((r = put_metrics(st, b, &m)) == 0)
			reply->action = FC_ACT_OPEN_METRICS;
		break;
	case ACTIONS:	   r = put_actions(st, b, reply, &m); break;
	case VM:	   r = patch_vm(st, b, reply, &m); break;
	case HYVE_ACTIONS: r = hyve_actions(st, b, reply, &m); break;
	default: break;
	}
	json_decref(b);
	if (r)
		fc_fault(reply, "%s", buf);
}

/* ---- --config-file ---- */

int fc_load_config(struct fc_state *st, const char *text, size_t len, char *msgbuf, size_t msglen)
{
	static const struct field f[] = {
		{ "boot-source", F_OBJ, true }, { "machine-config", F_OBJ, false },
		{ "drives", F_ARRAY, false }, { "network-interfaces", F_ARRAY, false },
		{ "logger", F_OBJ, false }, { "metrics", F_OBJ, false }, { "entropy", F_OBJ, false },
		{ "balloon", F_OBJ, false }, { "vsock", F_OBJ, false }, { "mmds-config", F_OBJ, false },
		{ "cpu-config", F_OBJ, false }, { "serial", F_OBJ, false },
		{ "pmem", F_ARRAY, false }, { "memory-hotplug", F_OBJ, false },
	};
	struct msg m = { msgbuf, msglen };
	json_error_t e;
	json_t *o, *v;
	size_t i;
	int r = 0;

	if (len > 16 * FC_BODY_MAX)
		return bad(&m, "the configuration file is larger than %d bytes", 16 * FC_BODY_MAX);
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
	if (!o)
		return bad(&m, "invalid JSON: %s (line %d, column %d)", e.text, e.line, e.column);
	if ((r = check_fields(o, f, sizeof(f) / sizeof(f[0]), "configuration", &m)))
		goto out;
	for (i = 7; i < sizeof(f) / sizeof(f[0]); i++)
		if (has(o, f[i].name)) {
			r = bad(&m, "configuration: `%s` is not implemented by hyve yet", f[i].name);
			goto out;
		}
	if ((v = json_object_get(o, "logger")) && !json_is_null(v) && (r = put_logger(st, v, &m)))
		goto out;
	if ((v = json_object_get(o, "metrics")) && !json_is_null(v) && (r = put_metrics(st, v, &m)))
		goto out;
	if ((r = put_boot_source(st, json_object_get(o, "boot-source"), &m)))
		goto out;
	if ((v = json_object_get(o, "machine-config")) && !json_is_null(v) &&
	    (r = set_machine(st, v, false, &m)))
		goto out;
	if ((v = json_object_get(o, "drives")) && json_is_array(v)) {
		json_t *d;
		json_array_foreach(v, i, d)
			if ((r = put_drive(st, NULL, d, &m)))
				goto out;
	}
	if ((v = json_object_get(o, "network-interfaces")) && json_is_array(v)) {
		json_t *d;
		json_array_foreach(v, i, d)
			if ((r = put_iface(st, NULL, d, &m)))
				goto out;
	}
	if ((v = json_object_get(o, "entropy")) && !json_is_null(v) && (r = put_entropy(st, v, &m)))
		goto out;
out:
	json_decref(o);
	return r;
}

/* ---- the rest ---- */

char *fc_cmdline(const struct fc_config *c, const char *dflt)
{
	const char *args = c->boot_args ? c->boot_args : dflt;
	const struct fc_drive *root = NULL;
	size_t n;
	char *s;

	for (int i = 0; i < c->ndrives; i++)
		if (c->drives[i].root)
			root = &c->drives[i];
	n = strlen(args) + 200;
	if (!(s = malloc(n)))
		return NULL;
	/*
	 * Firecracker adds root= for the root drive: hyve puts it first on the
	 * PCI bus, so it is /dev/vda.
	 */
	if (!root)
		snprintf(s, n, "%s", args);
	else if (root->partuuid)
		snprintf(s, n, "%s root=PARTUUID=%s %s", args, root->partuuid, root->ro ? "ro" : "rw");
	else
		snprintf(s, n, "%s root=/dev/vda %s", args, root->ro ? "ro" : "rw");
	return s;
}

void fc_init(struct fc_state *st, const char *id)
{
	memset(st, 0, sizeof(*st));
	snprintf(st->id, sizeof(st->id), "%s", id && *id ? id : "anonymous-instance");
	st->cfg.vcpus = 1;
	st->cfg.mem_mib = 128;
	snprintf(st->cfg.huge_pages, sizeof(st->cfg.huge_pages), "None");
	snprintf(st->cfg.level, sizeof(st->cfg.level), "Info");
}

void fc_free(struct fc_state *st)
{
	struct fc_config *c = &st->cfg;

	free(c->kernel);
	free(c->initrd);
	free(c->boot_args);
	for (int i = 0; i < c->ndrives; i++)
		drive_free(&c->drives[i]);
	free(c->log_path);
	free(c->log_module);
	free(c->metrics_path);
	memset(c, 0, sizeof(*c));
}
