/*
 * Unit tests for the Firecracker resource model (src/api/fc.c): routing,
 * status codes, fault messages, validation of every resource, the pre-boot
 * rules, --config-file parsing.  No socket, no KVM.
 */
#include "unit.h"
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "api/fc.h"

static struct fc_state st;
static struct fc_reply rep;

static int setup(void **state)
{
	fc_init(&st, "test-vm");
	memset(&rep, 0, sizeof(rep));
	return 0;
}

static int teardown(void **state)
{
	fc_reply_free(&rep);
	fc_free(&st);
	return 0;
}

/* Send one request; returns the status. */
static int req(const char *method, const char *path, const char *body)
{
	fc_reply_free(&rep);
	fc_handle(&st, method, path, body, body ? strlen(body) : 0, &rep);
	return rep.status;
}

/* The 400's fault message (asserts it is one, and valid JSON). */
static const char *fault(void)
{
	static char msg[2048];
	json_t *o;

	assert_int_equal(rep.status, 400);
	assert_non_null(rep.body);
	o = json_loads(rep.body, 0, NULL);
	assert_non_null(o);
	assert_int_equal(json_object_size(o), 1);
	assert_true(json_is_string(json_object_get(o, "fault_message")));
	snprintf(msg, sizeof(msg), "%s", json_string_value(json_object_get(o, "fault_message")));
	json_decref(o);
	return msg;
}

#define assert_fault(substr) do { \
	const char *_m = fault(); \
	if (!strstr(_m, substr)) \
		fail_msg("fault '%s' does not contain '%s'", _m, substr); \
} while (0)

/* Send one request: it must fail with a 400 whose message contains substr. */
static void expect_fault(const char *method, const char *path, const char *body, const char *substr)
{
	req(method, path, body);
	assert_fault(substr);
}

static json_t *body_json(void)
{
	json_t *o;

	assert_int_equal(rep.status, 200);
	o = json_loads(rep.body, 0, NULL);
	assert_non_null(o);
	return o;
}

static void test_info_not_started(void **state)
{
	json_t *o;

	assert_int_equal(req("GET", "/", NULL), 200);
	o = body_json();
	assert_string_equal(json_string_value(json_object_get(o, "state")), "Not started");
	assert_string_equal(json_string_value(json_object_get(o, "id")), "test-vm");
	assert_non_null(json_string_value(json_object_get(o, "vmm_version")));
	assert_non_null(json_string_value(json_object_get(o, "app_name")));
	json_decref(o);
	st.phase = FC_PAUSED;
	req("GET", "/", NULL);
	o = body_json();
	assert_string_equal(json_string_value(json_object_get(o, "state")), "Paused");
	json_decref(o);
}

static void test_machine_config(void **state)
{
	json_t *o;

	assert_int_equal(req("GET", "/machine-config", NULL), 200);
	o = body_json();
	assert_int_equal(json_integer_value(json_object_get(o, "vcpu_count")), 1);
	assert_int_equal(json_integer_value(json_object_get(o, "mem_size_mib")), 128);
	json_decref(o);
	assert_int_equal(req("PUT", "/machine-config", "{\"vcpu_count\": 4, \"mem_size_mib\": 512}"), 204);
	assert_null(rep.body);
	assert_int_equal(st.cfg.vcpus, 4);
	assert_int_equal(st.cfg.mem_mib, 512);
	assert_int_equal(req("PATCH", "/machine-config", "{\"vcpu_count\": 2}"), 204);
	assert_int_equal(st.cfg.vcpus, 2);
	assert_int_equal(st.cfg.mem_mib, 512);
	req("GET", "/machine-config", NULL);
	o = body_json();
	assert_int_equal(json_integer_value(json_object_get(o, "vcpu_count")), 2);
	json_decref(o);
	/* PUT resets what it does not name to the defaults */
	assert_int_equal(req("PUT", "/machine-config",
			     "{\"vcpu_count\": 1, \"mem_size_mib\": 64, \"smt\": false, "
			     "\"cpu_template\": \"None\", \"huge_pages\": \"Transparent\"}"), 204);
	assert_string_equal(st.cfg.huge_pages, "Transparent");
}

static void test_machine_config_bad(void **state)
{
	static const struct { const char *body, *msg; } bad[] = {
		{ "{\"vcpu_count\": 0, \"mem_size_mib\": 128}", "vcpu_count" },
		{ "{\"vcpu_count\": 33, \"mem_size_mib\": 128}", "out of range" },
		{ "{\"vcpu_count\": -1, \"mem_size_mib\": 128}", "invalid type" },
		{ "{\"vcpu_count\": 1.5, \"mem_size_mib\": 128}", "invalid type" },
		{ "{\"vcpu_count\": \"2\", \"mem_size_mib\": 128}", "invalid type for `vcpu_count`" },
		{ "{\"vcpu_count\": 2, \"mem_size_mib\": 0}", "mem_size_mib" },
		{ "{\"vcpu_count\": 2, \"mem_size_mib\": 99999999999}", "out of range" },
		{ "{\"vcpu_count\": 2}", "missing field `mem_size_mib`" },
		{ "{\"mem_size_mib\": 2}", "missing field `vcpu_count`" },
		{ "{\"vcpu_count\": 2, \"mem_size_mib\": 128, \"bogus\": 1}", "unknown field `bogus`" },
		{ "{\"vcpu_count\": 2, \"mem_size_mib\": 128, \"smt\": \"no\"}", "invalid type for `smt`" },
		{ "{\"vcpu_count\": 2, \"mem_size_mib\": 128, \"smt\": true}", "not implemented" },
		{ "{\"vcpu_count\": 2, \"mem_size_mib\": 128, \"cpu_template\": \"T2\"}", "not implemented" },
		{ "{\"vcpu_count\": 2, \"mem_size_mib\": 128, \"cpu_template\": \"X\"}", "unknown `cpu_template`" },
		{ "{\"vcpu_count\": 2, \"mem_size_mib\": 128, \"huge_pages\": \"2M\"}", "not implemented" },
		{ "{\"vcpu_count\": 2, \"mem_size_mib\": 128, \"track_dirty_pages\": true}", "not implemented" },
		{ "{\"vcpu_count\": 2, \"vcpu_count\": 3, \"mem_size_mib\": 128}", "Invalid JSON" },
		{ "[1, 2]", "must be a JSON object" },
		{ "", "needs a JSON body" },
		{ "{", "Invalid JSON" },
		{ "{\"vcpu_count\": 2, \"mem_size_mib\": 128} trailing", "Invalid JSON" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect_fault("PUT", "/machine-config", bad[i].body, bad[i].msg);
		/* a failed PUT changes nothing */
		assert_int_equal(st.cfg.vcpus, 1);
		assert_int_equal(st.cfg.mem_mib, 128);
	}
}

static void test_boot_source(void **state)
{
	assert_int_equal(req("PUT", "/boot-source",
			     "{\"kernel_image_path\": \"/k\", \"initrd_path\": \"/i\", \"boot_args\": \"console=ttyS0\"}"),
			 204);
	assert_true(st.cfg.have_boot);
	assert_string_equal(st.cfg.kernel, "/k");
	assert_string_equal(st.cfg.initrd, "/i");
	assert_string_equal(st.cfg.boot_args, "console=ttyS0");
	assert_int_equal(req("PUT", "/boot-source", "{\"kernel_image_path\": \"/k2\"}"), 204);
	assert_string_equal(st.cfg.kernel, "/k2");
	assert_null(st.cfg.initrd);
	expect_fault("PUT", "/boot-source", "{\"initrd_path\": \"/i\"}",
		     "missing field `kernel_image_path`");
	expect_fault("PUT", "/boot-source", "{\"kernel_image_path\": 7}", "invalid type");
	expect_fault("PUT", "/boot-source", "{\"kernel_image_path\": \"\"}", "empty");
	expect_fault("PUT", "/boot-source", "{\"kernel_image_path\": \"/k\", \"x\": null}",
		     "unknown field `x`");
	/* a NUL inside a string is refused by the parser */
	expect_fault("PUT", "/boot-source", "{\"kernel_image_path\": \"/k\\u0000x\"}",
		     "Invalid JSON");
	assert_string_equal(st.cfg.kernel, "/k2");
}

static int deny_missing(void *arg, enum fc_file what, const char *path, char *msg, size_t len)
{
	if (strstr(path, "missing")) {
		snprintf(msg, len, "No such file or directory");
		return -ENOENT;
	}
	return 0;
}

static void test_file_checks(void **state)
{
	st.check = deny_missing;
	expect_fault("PUT", "/boot-source", "{\"kernel_image_path\": \"/missing/vmlinuz\"}",
		     "No such file");
	assert_false(st.cfg.have_boot);
	expect_fault("PUT", "/boot-source", "{\"kernel_image_path\": \"/k\", \"initrd_path\": \"/missing\"}",
		     "initrd_path");
	expect_fault("PUT", "/drives/d1", "{\"drive_id\": \"d1\", \"path_on_host\": \"/missing.img\", \"is_root_device\": false}",
		     "No such file");
	assert_int_equal(st.cfg.ndrives, 0);
}

static void test_drives(void **state)
{
	assert_int_equal(req("PUT", "/drives/rootfs",
			     "{\"drive_id\": \"rootfs\", \"path_on_host\": \"/r.img\", \"is_root_device\": true, "
			     "\"is_read_only\": false, \"cache_type\": \"Writeback\", \"io_engine\": \"Async\"}"), 204);
	assert_int_equal(st.cfg.ndrives, 1);
	assert_true(st.cfg.drives[0].root);
	assert_true(st.cfg.drives[0].writeback);
	/* a PUT of the same id replaces it */
	assert_int_equal(req("PUT", "/drives/rootfs",
			     "{\"drive_id\": \"rootfs\", \"path_on_host\": \"/r2.img\", \"is_root_device\": true}"), 204);
	assert_int_equal(st.cfg.ndrives, 1);
	assert_string_equal(st.cfg.drives[0].path, "/r2.img");
	assert_int_equal(req("PUT", "/drives/data",
			     "{\"drive_id\": \"data\", \"path_on_host\": \"/d.img\", \"is_root_device\": false, "
			     "\"is_read_only\": true}"), 204);
	assert_int_equal(st.cfg.ndrives, 2);

	static const struct { const char *path, *body, *fault; } bad[] = {
		{ "/drives/other", "{\"drive_id\": \"data\", \"path_on_host\": \"/d\", \"is_root_device\": false}",
		  "does not match" },
		{ "/drives/r2", "{\"drive_id\": \"r2\", \"path_on_host\": \"/d\", \"is_root_device\": true}",
		  "root block device already exists" },
		{ "/drives/x", "{\"drive_id\": \"x\", \"path_on_host\": \"/d\"}", "missing field `is_root_device`" },
		{ "/drives/x", "{\"drive_id\": \"x\", \"is_root_device\": false}", "path_on_host" },
		{ "/drives/x", "{\"drive_id\": \"x\", \"path_on_host\": \"/d\", \"is_root_device\": false, "
		  "\"cache_type\": \"None\"}", "cache_type" },
		{ "/drives/x", "{\"drive_id\": \"x\", \"path_on_host\": \"/d\", \"is_root_device\": false, "
		  "\"rate_limiter\": {\"bandwidth\": {\"size\": 1, \"refill_time\": 1}}}", "rate_limiter" },
		{ "/drives/x", "{\"drive_id\": \"x\", \"socket\": \"/s\", \"is_root_device\": false}", "vhost-user" },
		{ "/drives/a.b", "{\"drive_id\": \"a.b\", \"path_on_host\": \"/d\", \"is_root_device\": false}",
		  "invalid id" },
		{ "/drives/", "{\"drive_id\": \"x\", \"path_on_host\": \"/d\", \"is_root_device\": false}",
		  "Invalid request method and/or path" },
		{ "/drives/a/b", "{\"drive_id\": \"x\", \"path_on_host\": \"/d\", \"is_root_device\": false}",
		  "Invalid request method and/or path" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_fault("PUT", bad[i].path, bad[i].body, bad[i].fault);
	assert_int_equal(st.cfg.ndrives, 2);

	/* PATCH is post-boot only */
	expect_fault("PATCH", "/drives/data", "{\"drive_id\": \"data\", \"path_on_host\": \"/n.img\"}",
		     "before starting");
	st.phase = FC_RUNNING;
	expect_fault("PATCH", "/drives/nosuch", "{\"drive_id\": \"nosuch\"}", "no such drive");
	assert_int_equal(req("PATCH", "/drives/data", "{\"drive_id\": \"data\"}"), 204);
	assert_int_equal(rep.action, FC_ACT_NONE);	/* nothing to change */
	/* a new path_on_host: a media change for the caller, the config
	 * keeps the old path until the caller did it (fc_drive_set_path) */
	assert_int_equal(req("PATCH", "/drives/data", "{\"drive_id\": \"data\", \"path_on_host\": \"/n.img\"}"),
			 204);
	assert_int_equal(rep.action, FC_ACT_DRIVE_MEDIUM);
	assert_int_equal(rep.drive, 1);
	assert_string_equal(rep.path, "/n.img");
	assert_string_equal(st.cfg.drives[1].path, "/d.img");
	assert_int_equal(fc_drive_set_path(&st, rep.drive, rep.path), 0);
	assert_string_equal(st.cfg.drives[1].path, "/n.img");
	assert_int_equal(fc_drive_set_path(&st, 2, "/x"), -1);
	expect_fault("PATCH", "/drives/data", "{\"drive_id\": \"data\", \"path_on_host\": \"\"}",
		     "path_on_host");
	expect_fault("PATCH", "/drives/data", "{\"drive_id\": \"data\", \"path_on_host\": 3}",
		     "path_on_host");
	expect_fault("PATCH", "/drives/data", "{\"drive_id\": \"data\", \"rate_limiter\": {}}",
		     "rate_limiter");
	expect_fault("PATCH", "/drives/other", "{\"drive_id\": \"data\"}", "does not match");
}

/* The order hyve attaches drives in: the root first, then the others. */
static void test_drive_slots(void **state)
{
	static const char *const puts[][2] = {
		{ "a", "false" }, { "b", "false" }, { "root", "true" }, { "c", "false" },
	};
	char path[64], body[256];

	assert_int_equal(fc_drive_slot(&st.cfg, 0), -1);	/* no drives */
	for (int i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "/drives/%s", puts[i][0]);
		snprintf(body, sizeof(body), "{\"drive_id\": \"%s\", \"path_on_host\": \"/x\", "
			 "\"is_root_device\": %s}", puts[i][0], puts[i][1]);
		assert_int_equal(req("PUT", path, body), 204);
	}
	assert_int_equal(fc_drive_slot(&st.cfg, 2), 0);		/* root: vda */
	assert_int_equal(fc_drive_slot(&st.cfg, 0), 1);		/* a: vdb */
	assert_int_equal(fc_drive_slot(&st.cfg, 1), 2);		/* b: vdc */
	assert_int_equal(fc_drive_slot(&st.cfg, 3), 3);		/* c: vdd */
	assert_int_equal(fc_drive_slot(&st.cfg, 4), -1);
	assert_int_equal(fc_drive_slot(&st.cfg, -1), -1);
}

static void test_too_many_drives(void **state)
{
	char path[64], body[256];

	for (int i = 0; i <= FC_MAX_DRIVES; i++) {
		snprintf(path, sizeof(path), "/drives/d%d", i);
		snprintf(body, sizeof(body), "{\"drive_id\": \"d%d\", \"path_on_host\": \"/x\", "
			 "\"is_root_device\": false}", i);
		req("PUT", path, body);
		if (i < FC_MAX_DRIVES)
			assert_int_equal(rep.status, 204);
		else
			assert_fault("too many drives");
	}
}

static void test_network_interfaces(void **state)
{
	char path[64], body[256];
	json_t *o, *n;

	assert_int_equal(req("PUT", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\", "
			     "\"host_dev_name\": \"tap0\", \"guest_mac\": \"AA:FC:00:00:00:01\"}"), 204);
	assert_int_equal(st.cfg.nifaces, 1);
	assert_string_equal(st.cfg.ifaces[0].host_dev, "tap0");
	assert_string_equal(st.cfg.ifaces[0].mac, "AA:FC:00:00:00:01");
	/* the same id again replaces it */
	assert_int_equal(req("PUT", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\", "
			     "\"host_dev_name\": \"tap1\", \"mtu\": 1500}"), 204);
	assert_int_equal(st.cfg.nifaces, 1);
	assert_string_equal(st.cfg.ifaces[0].host_dev, "tap1");
	assert_string_equal(st.cfg.ifaces[0].mac, "");
	assert_int_equal(req("PUT", "/network-interfaces/eth1", "{\"iface_id\": \"eth1\", "
			     "\"host_dev_name\": \"tap2\", \"guest_mac\": \"aa:fc:00:00:00:02\"}"), 204);
	assert_int_equal(st.cfg.nifaces, 2);
	/* a tap or a MAC belongs to one interface */
	expect_fault("PUT", "/network-interfaces/eth2", "{\"iface_id\": \"eth2\", \"host_dev_name\": \"tap1\"}",
		     "already used by eth0");
	expect_fault("PUT", "/network-interfaces/eth2", "{\"iface_id\": \"eth2\", \"host_dev_name\": \"tap3\", "
		     "\"guest_mac\": \"AA:FC:00:00:00:02\"}", "already used by eth1");
	expect_fault("PUT", "/network-interfaces/eth2", "{\"iface_id\": \"eth2\", \"host_dev_name\": \"tap3\", "
		     "\"mtu\": 9000}", "mtu");
	expect_fault("PUT", "/network-interfaces/eth2", "{\"iface_id\": \"eth2\", \"host_dev_name\": "
		     "\"0123456789abcdef\"}", "host_dev_name");
	expect_fault("PUT", "/network-interfaces/eth2", "{\"iface_id\": \"eth2\", \"host_dev_name\": \"t\", "
		     "\"rx_rate_limiter\": {}}", "rate_limiter");
	expect_fault("PUT", "/network-interfaces/x", "{\"iface_id\": \"eth2\", \"host_dev_name\": \"t\"}",
		     "does not match");
	assert_int_equal(st.cfg.nifaces, 2);
	assert_int_equal(req("GET", "/vm/config", NULL), 200);
	o = body_json();
	n = json_array_get(json_object_get(o, "network-interfaces"), 1);
	assert_string_equal(json_string_value(json_object_get(n, "host_dev_name")), "tap2");
	assert_string_equal(json_string_value(json_object_get(n, "guest_mac")), "aa:fc:00:00:00:02");
	assert_null(json_object_get(json_array_get(json_object_get(o, "network-interfaces"), 0), "guest_mac"));
	json_decref(o);
	/* at most FC_MAX_IFACES */
	for (int i = 2; i <= FC_MAX_IFACES; i++) {
		snprintf(path, sizeof(path), "/network-interfaces/n%d", i);
		snprintf(body, sizeof(body), "{\"iface_id\": \"n%d\", \"host_dev_name\": \"t%d\"}", i, i);
		req("PUT", path, body);
		if (i < FC_MAX_IFACES)
			assert_int_equal(rep.status, 204);
		else
			assert_fault("too many network interfaces");
	}
	/* PATCH: after boot, and only rate limiters (which hyve lacks) */
	expect_fault("PATCH", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\"}", "before starting");
	st.phase = FC_RUNNING;
	assert_int_equal(req("PATCH", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\"}"), 204);
	expect_fault("PATCH", "/network-interfaces/nope", "{\"iface_id\": \"nope\"}", "no such interface");
	expect_fault("PATCH", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\", \"tx_rate_limiter\": {}}",
		     "rate_limiter");
	expect_fault("PATCH", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\", \"host_dev_name\": \"x\"}",
		     "unknown field");
	expect_fault("PUT", "/network-interfaces/eth9", "{\"iface_id\": \"eth9\", \"host_dev_name\": \"t\"}",
		     "after starting");
}

static void test_network_entropy_logger_metrics(void **state)
{
	expect_fault("PUT", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\", "
		     "\"guest_mac\": \"zz\"}", "guest_mac");
	expect_fault("PUT", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\"}",
		     "missing field `host_dev_name`");
	expect_fault("PUT", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\", \"mtu\": 20}",
		     "mtu");

	assert_int_equal(req("PUT", "/entropy", "{}"), 204);
	assert_true(st.cfg.entropy);
	expect_fault("PUT", "/entropy", "{\"rate_limiter\": {}}", "not implemented");

	assert_int_equal(req("PUT", "/logger", "{\"log_path\": \"/tmp/l\", \"level\": \"debug\", "
			     "\"show_level\": true}"), 204);
	assert_int_equal(rep.action, FC_ACT_OPEN_LOG);
	assert_string_equal(st.cfg.level, "Debug");
	expect_fault("PUT", "/logger", "{\"level\": \"loud\"}", "level");

	expect_fault("PUT", "/metrics", "{}", "missing field `metrics_path`");
	expect_fault("PUT", "/actions", "{\"action_type\": \"FlushMetrics\"}", "not initialized");
	assert_int_equal(req("PUT", "/metrics", "{\"metrics_path\": \"/tmp/m\"}"), 204);
	assert_int_equal(rep.action, FC_ACT_OPEN_METRICS);
	expect_fault("PUT", "/metrics", "{\"metrics_path\": \"/tmp/m2\"}", "Reinitialization");
	assert_int_equal(req("PUT", "/actions", "{\"action_type\": \"FlushMetrics\"}"), 204);
	assert_int_equal(rep.action, FC_ACT_FLUSH_METRICS);
}

static void test_actions_and_phases(void **state)
{
	expect_fault("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}",
		     "without kernel configuration");
	expect_fault("PUT", "/actions", "{\"action_type\": \"Explode\"}", "action_type");
	expect_fault("PUT", "/actions", "{}", "missing field `action_type`");
	expect_fault("PUT", "/actions", "{\"action_type\": \"SendCtrlAltDel\"}", "before starting");
	expect_fault("PATCH", "/vm", "{\"state\": \"Paused\"}", "before starting");
	expect_fault("PUT", "/hyve/actions", "{\"action_type\": \"Reset\"}", "before starting");

	assert_int_equal(req("PUT", "/boot-source", "{\"kernel_image_path\": \"/k\"}"), 204);
	assert_int_equal(req("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}"), 204);
	assert_int_equal(rep.action, FC_ACT_START);

	st.phase = FC_RUNNING;	/* what the caller does once the VM runs */
	expect_fault("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}",
		     "not supported after starting");
	static const char *const preboot[][2] = {
		{ "/boot-source", "{\"kernel_image_path\": \"/k\"}" },
		{ "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 128}" },
		{ "/drives/d", "{\"drive_id\": \"d\", \"path_on_host\": \"/x\", \"is_root_device\": false}" },
		{ "/entropy", "{}" },
		{ "/logger", "{}" },
		{ "/metrics", "{\"metrics_path\": \"/m\"}" },
		{ "/network-interfaces/e", "{\"iface_id\": \"e\", \"host_dev_name\": \"t\"}" },
	};
	for (size_t i = 0; i < sizeof(preboot) / sizeof(preboot[0]); i++) {
		expect_fault("PUT", preboot[i][0], preboot[i][1], "not supported after starting");
	}
	assert_int_equal(req("PATCH", "/vm", "{\"state\": \"Paused\"}"), 204);
	assert_int_equal(rep.action, FC_ACT_PAUSE);
	assert_int_equal(req("PATCH", "/vm", "{\"state\": \"Resumed\"}"), 204);
	assert_int_equal(rep.action, FC_ACT_RESUME);
	expect_fault("PATCH", "/vm", "{\"state\": \"Frozen\"}", "state");
	assert_int_equal(req("PUT", "/actions", "{\"action_type\": \"SendCtrlAltDel\"}"), 204);
	assert_int_equal(rep.action, FC_ACT_CTRL_ALT_DEL);
	assert_int_equal(req("PUT", "/hyve/actions", "{\"action_type\": \"Stop\", \"timeout_s\": 5, "
			     "\"force\": true}"), 204);
	assert_int_equal(rep.action, FC_ACT_STOP);
	assert_int_equal(rep.timeout_s, 5);
	assert_true(rep.force);
	expect_fault("PUT", "/hyve/actions", "{\"action_type\": \"Stop\", \"timeout_s\": 99999}",
		     "timeout_s");
	assert_int_equal(req("GET", "/hyve/stats", NULL), 204);
	assert_int_equal(rep.action, FC_ACT_STATS);
}

static void test_unimplemented_and_unknown(void **state)
{
	static const char *const paths[] = {
		"/balloon", "/balloon/statistics", "/snapshot/create", "/snapshot/load", "/mmds",
		"/mmds/config", "/vsock", "/cpu-config", "/serial", "/pmem/p0", "/hotplug/memory",
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		expect_fault("PUT", paths[i], "{}", "not implemented");
		expect_fault("GET", paths[i], NULL, "not implemented");
	}
	expect_fault("GET", "/nothing", NULL, "Invalid request method and/or path: GET /nothing.");
	expect_fault("DELETE", "/", NULL, "Invalid request method and/or path");
	expect_fault("GET", "/boot-source", NULL, "Invalid request method and/or path");
	expect_fault("POST", "/actions", "{\"action_type\": \"InstanceStart\"}",
		     "Invalid request method and/or path");
}

static void test_body_limit(void **state)
{
	size_t n = FC_BODY_MAX + 10;
	char *big = malloc(n + 1);

	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	expect_fault("PUT", "/entropy", big, "larger than");
	free(big);
}

static void test_vm_config(void **state)
{
	json_t *o, *d;

	req("PUT", "/boot-source", "{\"kernel_image_path\": \"/k\", \"boot_args\": \"quiet\"}");
	req("PUT", "/drives/root", "{\"drive_id\": \"root\", \"path_on_host\": \"/r\", \"is_root_device\": true}");
	st.console = "/dev/pts/9";
	assert_int_equal(req("GET", "/vm/config", NULL), 200);
	o = body_json();
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "boot-source"),
							      "kernel_image_path")), "/k");
	d = json_array_get(json_object_get(o, "drives"), 0);
	assert_string_equal(json_string_value(json_object_get(d, "drive_id")), "root");
	assert_true(json_is_true(json_object_get(d, "is_root_device")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "machine-config"),
							    "mem_size_mib")), 128);
	assert_true(json_is_null(json_object_get(o, "balloon")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "hyve"), "console")),
			    "/dev/pts/9");
	json_decref(o);
}

static void test_cmdline(void **state)
{
	char *s;

	req("PUT", "/boot-source", "{\"kernel_image_path\": \"/k\", \"boot_args\": \"console=ttyS0\"}");
	s = fc_cmdline(&st.cfg, "dflt");
	assert_string_equal(s, "console=ttyS0");
	free(s);
	req("PUT", "/drives/root", "{\"drive_id\": \"root\", \"path_on_host\": \"/r\", \"is_root_device\": true, "
	    "\"is_read_only\": true}");
	s = fc_cmdline(&st.cfg, "dflt");
	assert_string_equal(s, "console=ttyS0 root=/dev/vda ro");
	free(s);
}

static void test_config_file(void **state)
{
	char msg[512];
	static const char good[] =
		"{ \"boot-source\": { \"kernel_image_path\": \"/k\", \"boot_args\": \"console=ttyS0\" },"
		"  \"drives\": [ { \"drive_id\": \"rootfs\", \"path_on_host\": \"/r\", \"is_root_device\": true,"
		"                \"is_read_only\": false } ],"
		"  \"machine-config\": { \"vcpu_count\": 2, \"mem_size_mib\": 1024, \"smt\": false },"
		"  \"network-interfaces\": [ { \"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\","
		"                \"guest_mac\": \"06:00:AC:10:00:02\" } ], \"entropy\": {} }";

	assert_int_equal(fc_load_config(&st, good, strlen(good), msg, sizeof(msg)), 0);
	assert_int_equal(st.cfg.vcpus, 2);
	assert_int_equal(st.cfg.mem_mib, 1024);
	assert_int_equal(st.cfg.ndrives, 1);
	assert_int_equal(st.cfg.nifaces, 1);
	assert_string_equal(st.cfg.ifaces[0].host_dev, "tap0");
	assert_string_equal(st.cfg.ifaces[0].mac, "06:00:AC:10:00:02");
	assert_true(st.cfg.entropy);
	assert_string_equal(st.cfg.kernel, "/k");

	static const struct { const char *text, *msg; } bad[] = {
		{ "{}", "missing field `boot-source`" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"/k\"}, \"balloon\": {}}", "balloon" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"/k\"}, \"drives\": {}}", "invalid type" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"/k\"}, \"drives\": [1]}", "must be a JSON object" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"/k\"}, \"machine-config\": {\"vcpu_count\": 99, "
		  "\"mem_size_mib\": 1}}", "out of range" },
		{ "{\"boot-source\": {}}", "kernel_image_path" },
		{ "{\"boot-source\": {\"kernel_image_path\": \"/k\"}, \"nope\": 1}", "unknown field `nope`" },
		{ "not json", "invalid JSON" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fc_free(&st);
		fc_init(&st, NULL);
		msg[0] = '\0';
		assert_int_equal(fc_load_config(&st, bad[i].text, strlen(bad[i].text), msg, sizeof(msg)),
				 -EINVAL);
		if (!strstr(msg, bad[i].msg))
			fail_msg("config error '%s' does not contain '%s'", msg, bad[i].msg);
	}
}

TEST_MAIN(NULL, NULL,
	  TEST_FIX(test_info_not_started), TEST_FIX(test_machine_config),
	  TEST_FIX(test_machine_config_bad), TEST_FIX(test_boot_source), TEST_FIX(test_file_checks),
	  TEST_FIX(test_drives), TEST_FIX(test_drive_slots), TEST_FIX(test_too_many_drives),
	  TEST_FIX(test_network_interfaces),
	  TEST_FIX(test_network_entropy_logger_metrics), TEST_FIX(test_actions_and_phases),
	  TEST_FIX(test_unimplemented_and_unknown), TEST_FIX(test_body_limit), TEST_FIX(test_vm_config),
	  TEST_FIX(test_cmdline), TEST_FIX(test_config_file))
