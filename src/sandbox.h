/*
 * sandbox.h - the seccomp-bpf sandbox (libseccomp) and the privilege drop.
 *
 * Every thread of a running hyve runs under the allowlist of its kind:
 *
 *   SANDBOX_MAIN    the main thread's event loop and the teardown after it
 *   SANDBOX_VCPU    a vCPU thread: KVM_RUN and the exits it emulates
 *   SANDBOX_WORKER  a device worker (virtio queues, disk completions)
 *
 * Anything else kills the whole process (SECCOMP_RET_KILL_PROCESS), or is
 * only logged by the kernel with --seccomp=log, or nothing is installed with
 * --seccomp=off.  ioctl is allowed only for the request numbers the kind
 * needs.  docs/security.md lists every syscall with its reason.
 *
 * Order (main.c / vm.c): sandbox_setup() early; every file, device and
 * socket is opened while the VM is built; sandbox_drop_privileges() then
 * applies --chroot/--user and PR_SET_NO_NEW_PRIVS and opens the gate that
 * device workers started during the build wait at; the vCPU threads start
 * and install their filters; sandbox_enter_main() installs the main
 * thread's and releases the vCPUs into the guest.  So no thread touches
 * guest-controlled data before it is filtered.
 */
#ifndef HYVE_SANDBOX_H
#define HYVE_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

enum sandbox_kind { SANDBOX_MAIN, SANDBOX_VCPU, SANDBOX_WORKER, SANDBOX_NKINDS };
enum sandbox_mode { SANDBOX_KILL, SANDBOX_LOG, SANDBOX_OFF };

struct sandbox_cfg {
	enum sandbox_mode mode;
	bool has_user;
	uid_t uid;
	gid_t gid;
	const char *chroot_dir;
	/* --on-reboot=restart builds the next VM on the main thread, which
	 * therefore stays unfiltered (vCPUs and workers are filtered) */
	bool main_unfiltered;
	/* inherited fds to keep open (--net tap-fd=FD) */
#define SANDBOX_MAX_KEEP_FDS 16
	int keep_fds[SANDBOX_MAX_KEEP_FDS];
	int nkeep_fds;
};

/* --seccomp=kill|log|off into *mode; 0, or -EINVAL with err_set. */
int sandbox_parse_mode(const char *s, enum sandbox_mode *mode);
/* --user UID[:GID] (numbers, or a user name from the passwd file). */
int sandbox_parse_user(const char *s, struct sandbox_cfg *cfg);
/*
 * Check the configuration (root for --user/--chroot, no uid 0, a
 * directory...) and close every inherited fd above stderr.  Called once,
 * before anything is opened.  Closes the worker gate when filters or a
 * privilege drop will follow.  0 or -errno with err_set.
 */
int sandbox_setup(const struct sandbox_cfg *cfg);
/* --chroot, --user, NO_NEW_PRIVS; then open the gate.  0 or -errno. */
int sandbox_drop_privileges(void);
/*
 * A thread of kind k starts: a worker waits at the gate, then each kind
 * installs its filter (unless off).  A vCPU then waits until the main
 * thread is filtered too.  0, or -errno (the thread should stop).
 */
int sandbox_thread_start(enum sandbox_kind k);
/*
 * A thread whose calls no allowlist covers yet (a virtio-net worker: tap
 * and libslirp's sockets): waits at the gate like a worker, installs no
 * filter (NO_NEW_PRIVS with --user/--chroot all the same).
 * docs/security.md lists it under the known gaps.  0 or -errno.
 */
int sandbox_thread_start_unfiltered(void);
/* The main thread, after starting the vCPUs: filter it, release them. */
int sandbox_enter_main(void);
/* Setup failed: open the gate without filters so workers can be joined. */
void sandbox_abandon(void);

/* Number of syscalls in kind k's allowlist (for docs and tests). */
int sandbox_count(enum sandbox_kind k);
const char *sandbox_kind_name(enum sandbox_kind k);
/* Install kind k's filter on the calling thread with mode (tests). */
int sandbox_install(enum sandbox_kind k, enum sandbox_mode mode);

#endif
