/*
 * sandbox.c - per-thread seccomp allowlists (libseccomp) and the privilege
 * drop (see sandbox.h; every syscall's reason is in docs/security.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/vhost.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "err.h"
#include "sandbox.h"
#include "util.h"

/* ---- the allowlists ---- */

/* What every kind needs: memory, locks, signals, thread exit, time. */
static const int sb_common[] = {
	SCMP_SYS(read),			/* eventfds, console input */
	SCMP_SYS(write),		/* eventfds, console output, stderr */
	SCMP_SYS(writev),		/* glibc's fatal messages */
	SCMP_SYS(futex),		/* mutexes, condition variables, join */
	SCMP_SYS(mmap),			/* malloc (thread arenas, large blocks) */
	SCMP_SYS(munmap),
	SCMP_SYS(mprotect),		/* malloc growing a thread arena */
	SCMP_SYS(madvise),		/* free() trimming, thread stack on exit */
	SCMP_SYS(brk),			/* malloc in the main arena */
	SCMP_SYS(rt_sigreturn),		/* return from the vCPU kick handler */
	SCMP_SYS(rt_sigprocmask),	/* thread exit, abort() */
	SCMP_SYS(rt_sigaction),		/* fatal-signal path resets a handler */
	SCMP_SYS(getpid),		/* pthread_kill, raise */
	SCMP_SYS(gettid),		/* raise */
	SCMP_SYS(tgkill),		/* kicking a vCPU out of KVM_RUN, raise */
	SCMP_SYS(exit),			/* a thread ends */
	SCMP_SYS(exit_group),		/* the process ends */
	SCMP_SYS(clock_gettime),	/* when the vDSO falls back to a syscall */
	SCMP_SYS(gettimeofday),
	SCMP_SYS(time),			/* the RTC reads the host clock */
	SCMP_SYS(clock_nanosleep),	/* short waits (usleep) */
	SCMP_SYS(nanosleep),
	SCMP_SYS(sched_yield),		/* iobus writer waiting for readers */
	SCMP_SYS(restart_syscall),	/* an interrupted futex/poll resumes */
	SCMP_SYS(poll),			/* console output waits for a full tty */
};

static const int sb_vcpu[] = {
	SCMP_SYS(ioctl),		/* KVM_RUN etc.: numbers below */
	SCMP_SYS(io_uring_enter),	/* a virtio-blk reset waits for its I/O */
	SCMP_SYS(epoll_ctl),		/* a virtio-net reset under vhost: the worker
					   reads the kicks again */
};

static const int sb_worker[] = {
	SCMP_SYS(ioctl),		/* KVM_IRQ_LINE (INTx) */
	SCMP_SYS(epoll_wait),		/* queue kicks, disk completions */
	SCMP_SYS(epoll_pwait),
	SCMP_SYS(io_uring_enter),	/* submit disk requests */
	SCMP_SYS(preadv),		/* the backend's synchronous fallback */
	SCMP_SYS(pwritev),
	SCMP_SYS(pread64),		/* cache=none beyond the bounce budget */
	SCMP_SYS(pwrite64),
	SCMP_SYS(fdatasync),		/* FLUSH without io_uring */
	SCMP_SYS(fallocate),		/* DISCARD / WRITE_ZEROES without io_uring */
	SCMP_SYS(getrandom),		/* virtio-rng */
};

static const int sb_main[] = {
	SCMP_SYS(ioctl),		/* teardown, IRQs, terminal: numbers below */
	SCMP_SYS(ppoll),		/* the event loop (poll: common) */
	SCMP_SYS(close),		/* teardown */
	SCMP_SYS(fcntl),		/* console: clear O_NONBLOCK on exit */
	SCMP_SYS(io_uring_enter),	/* teardown waits for requests in flight */
	SCMP_SYS(fstat),		/* stdio's first write to a stream */
	SCMP_SYS(newfstatat),
	SCMP_SYS(getrusage),		/* --stats: peak memory */
};

/* ioctl request numbers per kind. */
static const unsigned long sb_ioctl_vcpu[] = {
	KVM_RUN,			/* enter the guest */
	KVM_GET_REGS, KVM_GET_SREGS,	/* register dump on a fatal exit */
	KVM_IRQ_LINE,			/* a device raises an ISA/IOAPIC line */
	KVM_SET_GSI_ROUTING,		/* the guest programs an MSI-X vector */
	KVM_IOEVENTFD,			/* the guest moves a virtio BAR */
	KVM_REGISTER_COALESCED_MMIO,	/* UART THR coalescing on/off */
	KVM_UNREGISTER_COALESCED_MMIO,
	TCSETSF,			/* a crash on this thread restores the tty */
	/* a virtio-net reset (the guest's status write), before it returns:
	 * vhost lets go of the rings, the tap goes back to one queue pair */
	VHOST_NET_SET_BACKEND, VHOST_GET_VRING_BASE, TUNSETQUEUE,
};
static const unsigned long sb_ioctl_worker[] = {
	KVM_IRQ_LINE,			/* INTx of a virtio device */
	TCSETSF,			/* a crash on this thread restores the tty */
};
static const unsigned long sb_ioctl_main[] = {
	KVM_IRQ_LINE,			/* console input raises the UART IRQ */
	KVM_SET_GSI_ROUTING,		/* teardown drops MSI routes */
	KVM_IOEVENTFD, KVM_IRQFD,	/* teardown unbinds them */
	KVM_REGISTER_COALESCED_MMIO,	/* replayed UART writes */
	KVM_UNREGISTER_COALESCED_MMIO,
	TCGETS, TCSETS, TCSETSW, TCSETSF,	/* restore the terminal */
};

/*
 * The sanitizer runtime (ASan/UBSan/LSan builds only, never the release
 * binary): its allocator, error reports (read /proc/self/maps, run the
 * symbolizer) and the leak check at exit (stops the world with ptrace;
 * its tracer lists /proc/self/task with getdents, not getdents64: killed,
 * the process waited for it forever).
 */
#if defined(__SANITIZE_ADDRESS__)
#define SB_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SB_SANITIZER 1
#endif
#endif
#ifdef SB_SANITIZER
static const int sb_sanitizer[] = {
	SCMP_SYS(sigaltstack), SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(close),
	SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
	SCMP_SYS(stat), SCMP_SYS(lstat), SCMP_SYS(getdents), SCMP_SYS(getdents64), SCMP_SYS(lseek),
	SCMP_SYS(pread64), SCMP_SYS(mremap), SCMP_SYS(sched_getaffinity),
	SCMP_SYS(prlimit64), SCMP_SYS(getrlimit), SCMP_SYS(prctl), SCMP_SYS(uname),
	SCMP_SYS(clone), SCMP_SYS(clone3), SCMP_SYS(fork), SCMP_SYS(vfork),
	SCMP_SYS(execve), SCMP_SYS(wait4), SCMP_SYS(waitid), SCMP_SYS(kill),
	SCMP_SYS(ptrace), SCMP_SYS(getppid), SCMP_SYS(pipe), SCMP_SYS(pipe2),
	SCMP_SYS(dup2), SCMP_SYS(dup3), SCMP_SYS(setrlimit), SCMP_SYS(sched_getparam),
	SCMP_SYS(getrusage), SCMP_SYS(access),
};
#endif

struct sb_list {
	const char *name;
	const int *sys;
	size_t nsys;
	const unsigned long *ioctls;
	size_t nioctls;
};

#define N(a) (sizeof(a) / sizeof((a)[0]))
static const struct sb_list sb_lists[SANDBOX_NKINDS] = {
	[SANDBOX_MAIN] = { "main", sb_main, N(sb_main), sb_ioctl_main, N(sb_ioctl_main) },
	[SANDBOX_VCPU] = { "vcpu", sb_vcpu, N(sb_vcpu), sb_ioctl_vcpu, N(sb_ioctl_vcpu) },
	[SANDBOX_WORKER] = { "worker", sb_worker, N(sb_worker), sb_ioctl_worker, N(sb_ioctl_worker) },
};

const char *sandbox_kind_name(enum sandbox_kind k)
{
	return k < SANDBOX_NKINDS ? sb_lists[k].name : "?";
}

int sandbox_count(enum sandbox_kind k)
{
	int n = (int)N(sb_common);

	for (size_t i = 0; i < sb_lists[k].nsys; i++) {
		bool dup = false;
		for (size_t j = 0; j < N(sb_common); j++)
			dup |= sb_common[j] == sb_lists[k].sys[i];
		n += !dup;
	}
	return n;
}

static int sb_add(scmp_filter_ctx ctx, int sys)
{
	int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sys, 0);

	return r == -EEXIST ? 0 : r;
}

int sandbox_install(enum sandbox_kind k, enum sandbox_mode mode)
{
	const struct sb_list *l = &sb_lists[k];
	scmp_filter_ctx ctx;
	int r = 0;

	if (mode == SANDBOX_OFF)
		return 0;
	ctx = seccomp_init(mode == SANDBOX_LOG ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return err_set(-ENOMEM, "seccomp: cannot create the %s filter", l->name);
	for (size_t i = 0; i < N(sb_common) && r == 0; i++)
		r = sb_add(ctx, sb_common[i]);
	for (size_t i = 0; i < l->nsys && r == 0; i++)
		if (l->sys[i] != SCMP_SYS(ioctl))
			r = sb_add(ctx, l->sys[i]);
#ifdef SB_SANITIZER
	for (size_t i = 0; i < N(sb_sanitizer) && r == 0; i++)
		r = sb_add(ctx, sb_sanitizer[i]);
#endif
	/* ioctl: only these request numbers (compared as 32 bits) */
	for (size_t i = 0; i < l->nioctls && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffULL,
					     (uint32_t)l->ioctls[i]));
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return err_set(r, "seccomp: cannot install the %s filter: %s", l->name,
			       strerror(-r));
	return 0;
}

/* ---- configuration, privilege drop, the gates ---- */

static pthread_mutex_t sb_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sb_cond = PTHREAD_COND_INITIALIZER;
static struct sandbox_cfg sb_cfg = { .mode = SANDBOX_OFF };
static bool sb_gate_open = true;	/* workers may install and run */
static bool sb_filters;			/* threads passing the gate install filters */
static bool sb_main_done = true;	/* vCPUs may enter the guest */

int sandbox_parse_mode(const char *s, enum sandbox_mode *mode)
{
	if (!strcmp(s, "kill"))
		*mode = SANDBOX_KILL;
	else if (!strcmp(s, "log"))
		*mode = SANDBOX_LOG;
	else if (!strcmp(s, "off"))
		*mode = SANDBOX_OFF;
	else
		return err_set(-EINVAL, "--seccomp: '%s' is not kill, log or off", s);
	return 0;
}

static int sb_parse_id(const char *s, unsigned long *v)
{
	uint64_t x;

	if (parse_u64(s, &x) < 0 || x >= (uint64_t)UINT_MAX)
		return -1;
	*v = (unsigned long)x;
	return 0;
}

int sandbox_parse_user(const char *s, struct sandbox_cfg *cfg)
{
	char user[32];
	const char *colon = strchr(s, ':');
	size_t ul = colon ? (size_t)(colon - s) : strlen(s);
	unsigned long uid, gid;

	if (ul == 0 || ul >= sizeof(user))
		return err_set(-EINVAL, "--user: '%s' is not UID[:GID] (numbers)", s);
	memcpy(user, s, ul);
	user[ul] = '\0';
	if (sb_parse_id(user, &uid) < 0 || (colon && sb_parse_id(colon + 1, &gid) < 0))
		return err_set(-EINVAL, "--user: '%s' is not UID[:GID] (numbers)", s);
	if (!colon)
		gid = uid;
	if (uid == 0 || gid == 0)
		return err_set(-EINVAL, "--user: '%s' would keep root (give a non-zero UID and GID)", s);
	cfg->has_user = true;
	cfg->uid = (uid_t)uid;
	cfg->gid = (gid_t)gid;
	return 0;
}

int sandbox_setup(const struct sandbox_cfg *cfg)
{
	struct stat st;

	/*
	 * glibc reads the time zone (TZ, /etc/localtime) on the first time
	 * conversion of the process, even for gmtime_r and timegm: the RTC
	 * does those on a vCPU thread, whose filter has no open.  Do it now.
	 */
	tzset();

	if ((cfg->has_user || cfg->chroot_dir) && geteuid() != 0)
		return err_set(-EPERM, "%s needs root (hyve drops to it after opening its files)",
			       cfg->has_user ? "--user" : "--chroot");
	if (cfg->chroot_dir && !cfg->has_user)
		return err_set(-EINVAL, "--chroot without --user would leave root inside the chroot "
			       "(give --user UID[:GID])");
	if (cfg->chroot_dir && (stat(cfg->chroot_dir, &st) < 0 || !S_ISDIR(st.st_mode)))
		return err_set(-ENOTDIR, "--chroot: '%s' is not a directory", cfg->chroot_dir);
	/*
	 * Inherited descriptors: nothing above stderr belongs to us yet, but
	 * the ones named by --net tap-fd=FD (keep_fds), handed over on purpose.
	 */
	for (unsigned lo = 3;;) {
		unsigned hi = ~0U;

		for (int i = 0; i < cfg->nkeep_fds; i++)
			if (cfg->keep_fds[i] >= (int)lo && (unsigned)cfg->keep_fds[i] - 1 < hi)
				hi = (unsigned)cfg->keep_fds[i] - 1;
		if (hi >= lo && syscall(SYS_close_range, lo, hi, 0U) < 0)
			for (unsigned fd = lo; fd <= hi && fd < 1024; fd++)
				close((int)fd);
		if (hi == ~0U)
			break;
		lo = hi + 2;	/* past the kept fd */
	}
	pthread_mutex_lock(&sb_lock);
	sb_cfg = *cfg;
	sb_filters = cfg->mode != SANDBOX_OFF;
	if (sb_filters || cfg->has_user || cfg->chroot_dir)
		sb_gate_open = sb_main_done = false;
	pthread_mutex_unlock(&sb_lock);
	return 0;
}

int sandbox_drop_privileges(void)
{
	const struct sandbox_cfg *c = &sb_cfg;

	if (c->chroot_dir && (chroot(c->chroot_dir) < 0 || chdir("/") < 0))
		return err_set(-errno, "--chroot %s: %s", c->chroot_dir, strerror(errno));
	if (c->has_user) {
		/* glibc applies these to every thread (workers exist already) */
		if (setgroups(0, NULL) < 0 || setresgid(c->gid, c->gid, c->gid) < 0 ||
		    setresuid(c->uid, c->uid, c->uid) < 0)
			return err_set(-errno, "--user %u:%u: %s", (unsigned)c->uid,
				       (unsigned)c->gid, strerror(errno));
		if (setuid(0) == 0)
			return err_set(-EPERM, "--user: root could be regained; refusing to run");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return err_set(-errno, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	pthread_mutex_lock(&sb_lock);
	sb_gate_open = true;
	pthread_cond_broadcast(&sb_cond);
	pthread_mutex_unlock(&sb_lock);
	return 0;
}

void sandbox_abandon(void)
{
	pthread_mutex_lock(&sb_lock);
	sb_filters = false;
	sb_gate_open = sb_main_done = true;
	pthread_cond_broadcast(&sb_cond);
	pthread_mutex_unlock(&sb_lock);
}

/* HYVE_SECCOMP_SELFTEST=KIND: that kind makes a forbidden call (tests). */
static void sb_selftest(enum sandbox_kind k)
{
	const char *t = getenv("HYVE_SECCOMP_SELFTEST");

	if (t && !strcmp(t, sb_lists[k].name))
		syscall(SYS_unshare, 0);	/* not on any list; flags 0: a no-op */
}

int sandbox_thread_start(enum sandbox_kind k)
{
	bool filters;
	int r = 0;

	pthread_mutex_lock(&sb_lock);
	while (!sb_gate_open)
		pthread_cond_wait(&sb_cond, &sb_lock);
	filters = sb_filters;
	pthread_mutex_unlock(&sb_lock);
	/* no_new_privs is per thread: a worker made before the drop needs it too */
	if ((sb_cfg.has_user || sb_cfg.chroot_dir) && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return err_set(-errno, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	if (filters) {
		if ((r = sandbox_install(k, sb_cfg.mode)) < 0)
			return r;
		sb_selftest(k);
	}
	if (k == SANDBOX_VCPU) {
		pthread_mutex_lock(&sb_lock);
		while (!sb_main_done)
			pthread_cond_wait(&sb_cond, &sb_lock);
		pthread_mutex_unlock(&sb_lock);
	}
	return 0;
}

int sandbox_thread_start_unfiltered(void)
{
	pthread_mutex_lock(&sb_lock);
	while (!sb_gate_open)
		pthread_cond_wait(&sb_cond, &sb_lock);
	pthread_mutex_unlock(&sb_lock);
	/* no filter, but no_new_privs like every worker (per thread) */
	if ((sb_cfg.has_user || sb_cfg.chroot_dir) && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return err_set(-errno, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	return 0;
}

int sandbox_enter_main(void)
{
	int r = 0;

	pthread_mutex_lock(&sb_lock);
	bool filters = !sb_cfg.main_unfiltered && sb_filters && !sb_main_done;
	pthread_mutex_unlock(&sb_lock);
	if (filters) {
		r = sandbox_install(SANDBOX_MAIN, sb_cfg.mode);
		if (r == 0)
			sb_selftest(SANDBOX_MAIN);
	}
	pthread_mutex_lock(&sb_lock);
	sb_main_done = true;
	pthread_cond_broadcast(&sb_cond);
	pthread_mutex_unlock(&sb_lock);
	return r;
}
