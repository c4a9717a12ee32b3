/*
 * api.h - the control plane: the Firecracker-compatible API (fc.c) served
 * on a Unix socket (server.c), wired to one VM through a handful of vm_*
 * calls (pause, resume, stop, statistics).
 *
 * Two uses:
 *  - `hyve fc`: the VM does not exist yet.  The main thread waits in
 *    api_wait_start() until a client sends InstanceStart (or a config file
 *    was loaded), boots the VM from api_config(), and reports the outcome
 *    with api_booted(); the client's InstanceStart is answered then.
 *  - `hyve run --api-sock`: the VM exists; api_booted() attaches it.
 * Before destroying the VM, the main thread calls api_detach().
 *
 * Requests run on the server's thread.  They never hold anything a vCPU
 * waits for: pausing waits for the vCPUs, never the other way round.
 */
#ifndef HYVE_API_API_H
#define HYVE_API_API_H

#include <stdbool.h>
#include <stddef.h>
#include "api/fc.h"

struct api;
struct vm;

/*
 * by_api: the VM is built on InstanceStart (hyve fc); otherwise it comes
 * from the command line (hyve run) and InstanceStart is refused.
 */
int api_open(struct api **out, const char *sock, const char *id, bool by_api);
/* Apply a --config-file before starting (0 or -EINVAL with err_set). */
int api_load_config(struct api *a, const char *path);
int api_start(struct api *a);		/* serve (no-op without a socket) */
void api_close(struct api *a);

/*
 * Main thread, `hyve fc`: wait for InstanceStart (1), for a Stop request
 * before boot (0), or for a termination signal on sigfd (-1).
 */
int api_wait_start(struct api *a, int sigfd);
const struct fc_config *api_config(struct api *a);
/* The VM is running (vm) or could not be built (vm NULL, msg why). */
void api_booted(struct api *a, struct vm *vm, const char *msg);
void api_detach(struct api *a);
/* What GET /vm/config shows as the console (a pty path, ...). */
void api_set_console(struct api *a, const char *desc);

#endif
