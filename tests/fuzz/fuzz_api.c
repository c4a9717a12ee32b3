/*
 * libFuzzer target for the API's request parsing and validation
 * (fc_handle, fc_load_config).  The first byte picks the method and the
 * path (or the config-file parser); the rest is the body.  A sequence of
 * requests runs against one state, so pre-boot rules and replacements are
 * exercised too.  Every reply must be 200 with a JSON body, 204 with none,
 * or 400 with exactly {"fault_message": string}.
 *
 *   clang -fsanitize=fuzzer,address,undefined ... tests/fuzz/fuzz_api.c
 *     src/api/fc.c src/err.c src/util.c -ljansson (see Makefile)
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "api/fc.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static const char *const methods[] = { "GET", "PUT", "PATCH", "DELETE" };
static const char *const paths[] = {
	"/", "/machine-config", "/boot-source", "/drives/rootfs", "/drives/d_2", "/drives/",
	"/network-interfaces/eth0", "/entropy", "/logger", "/metrics", "/actions", "/vm",
	"/vm/config", "/hyve/actions", "/hyve/stats", "/balloon", "/pmem/x", "/version",
	"/drives/a/b", "/nothing",
};

static void check_reply(const struct fc_reply *r)
{
	json_t *o;

	if (r->status == 204) {
		CHECK(r->body == NULL);
		return;
	}
	CHECK(r->status == 200 || r->status == 400);
	CHECK(r->body != NULL);
	o = json_loads(r->body, 0, NULL);
	CHECK(o != NULL);
	if (r->status == 400) {
		CHECK(json_object_size(o) == 1);
		CHECK(json_is_string(json_object_get(o, "fault_message")));
	}
	json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fc_state st;
	struct fc_reply r;
	char msg[256];

	fc_init(&st, "fuzz");
	/* requests separated by 0xff bytes: [selector][body] ... */
	while (size > 0) {
		const uint8_t *end = memchr(data, 0xff, size);
		size_t n = end ? (size_t)(end - data) : size;
		uint8_t sel = data[0];

		if (n > 0) {
			if (sel == 0xfe) {
				fc_load_config(&st, (const char *)data + 1, n - 1, msg, sizeof(msg));
			} else {
				fc_handle(&st, methods[sel & 3], paths[(sel >> 2) % (sizeof(paths) / sizeof(paths[0]))],
					  (const char *)data + 1, n - 1, &r);
				check_reply(&r);
				if (r.action == FC_ACT_START && r.status == 204)
					st.phase = FC_RUNNING;	/* as the caller does */
				fc_reply_free(&r);
			}
		}
		data += n + (end ? 1 : 0);
		size -= n + (end ? 1 : 0);
	}
	fc_free(&st);
	return 0;
}
