/*
 * Unit tests for the seccomp sandbox (no KVM needed): each thread kind's
 * filter, installed in a forked child, lets the kind's calls through and
 * kills the process (SIGSYS) on a call outside its list or an ioctl
 * number it does not need; --seccomp=log lets it through; the lists stay
 * within 40 syscalls; --user / --seccomp parsing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/vhost.h>
#include <net/if.h>
#include <sys/epoll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <stdlib.h>
#include <stdbool.h>
#include <unistd.h>
#include "err.h"
#include "sandbox.h"

enum act { ALLOWED_ONLY, FORBIDDEN_SYSCALL, FORBIDDEN_IOCTL, ALLOWED_IOCTL, NET_RESET };

/* Run body(arg) in a forked child, which exits with its value: the wait status. */
static int forked(int (*body)(const void *arg), const void *arg)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(body(arg));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

struct act_args { enum sandbox_kind k; enum sandbox_mode mode; enum act act; };

static int act_body(const void *arg)
{
	const struct act_args *a = arg;
	enum sandbox_kind k = a->k;
	enum sandbox_mode mode = a->mode;
	enum act act = a->act;
	int fd = open("/dev/null", O_RDWR);
	char c = 0;
	struct termios t;

	if (fd < 0 || sandbox_install(k, mode) < 0)
		return 99;
	/* the basics every kind has */
	if (write(fd, &c, 1) != 1 || getpid() <= 0)
		return 98;
	switch (act) {
	case ALLOWED_ONLY:
		break;
	case FORBIDDEN_SYSCALL:
		syscall(SYS_unshare, 0);
		break;
	case FORBIDDEN_IOCTL:	/* a terminal query: not a vCPU's business */
		ioctl(fd, TCGETS, &t);
		break;
	case ALLOWED_IOCTL:	/* KVM_RUN on a non-KVM fd: fails, not killed */
		if (ioctl(fd, KVM_RUN, 0) == 0)
			return 97;
		break;
	case NET_RESET: {	/* what a virtio-net reset does (on /dev/null: fails) */
		struct vhost_vring_file be = { .index = 0, .fd = -1 };
		struct vhost_vring_state vs = { .index = 0 };
		struct ifreq ifr = { .ifr_flags = IFF_DETACH_QUEUE };

		if (ioctl(fd, VHOST_NET_SET_BACKEND, &be) == 0 ||
		    ioctl(fd, VHOST_GET_VRING_BASE, &vs) == 0 || ioctl(fd, TUNSETQUEUE, &ifr) == 0 ||
		    epoll_ctl(fd, EPOLL_CTL_DEL, fd, NULL) == 0)
			return 96;
		break;
	}
	}
	return 0;
}

/* Run act in a child under kind's filter: its wait status. */
static int in_child(enum sandbox_kind k, enum sandbox_mode mode, enum act act)
{
	struct act_args a = { k, mode, act };

	return forked(act_body, &a);
}

static void want_killed(int st)
{
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

static void want_exit0(int st)
{
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_each_kind_kills_forbidden(void **state)
{
	for (int k = 0; k < SANDBOX_NKINDS; k++) {
		print_message("# %s: %d syscalls\n", sandbox_kind_name(k), sandbox_count(k));
		want_exit0(in_child(k, SANDBOX_KILL, ALLOWED_ONLY));
		want_killed(in_child(k, SANDBOX_KILL, FORBIDDEN_SYSCALL));
	}
}

static void test_ioctl_numbers_filtered(void **state)
{
	want_exit0(in_child(SANDBOX_VCPU, SANDBOX_KILL, ALLOWED_IOCTL));
	want_killed(in_child(SANDBOX_VCPU, SANDBOX_KILL, FORBIDDEN_IOCTL));
	want_killed(in_child(SANDBOX_WORKER, SANDBOX_KILL, ALLOWED_IOCTL));	/* no KVM_RUN */
	want_killed(in_child(SANDBOX_WORKER, SANDBOX_KILL, FORBIDDEN_IOCTL));
	want_killed(in_child(SANDBOX_MAIN, SANDBOX_KILL, ALLOWED_IOCTL));	/* no KVM_RUN */
	/* regression: a virtio-net reset under vhost or with 2 queue pairs
	 * runs on the vCPU thread (the guest's status write) */
	want_exit0(in_child(SANDBOX_VCPU, SANDBOX_KILL, NET_RESET));
	want_killed(in_child(SANDBOX_WORKER, SANDBOX_KILL, NET_RESET));
}

static void test_log_mode_allows(void **state)
{
	want_exit0(in_child(SANDBOX_VCPU, SANDBOX_LOG, FORBIDDEN_SYSCALL));
	want_exit0(in_child(SANDBOX_MAIN, SANDBOX_LOG, FORBIDDEN_IOCTL));
	want_exit0(in_child(SANDBOX_WORKER, SANDBOX_OFF, FORBIDDEN_SYSCALL));
}

static void test_at_most_40_per_kind(void **state)
{
	for (int k = 0; k < SANDBOX_NKINDS; k++) {
		assert_true(sandbox_count(k) > 20);
		assert_true(sandbox_count(k) <= 40);
	}
}

static void test_parse(void **state)
{
	struct sandbox_cfg c = { 0 };
	enum sandbox_mode m;

	assert_int_equal(sandbox_parse_mode("kill", &m), 0);
	assert_int_equal(m, SANDBOX_KILL);
	assert_int_equal(sandbox_parse_mode("log", &m), 0);
	assert_int_equal(m, SANDBOX_LOG);
	assert_int_equal(sandbox_parse_mode("off", &m), 0);
	assert_int_equal(m, SANDBOX_OFF);
	assert_int_equal(sandbox_parse_mode("on", &m), -EINVAL);
	assert_int_equal(sandbox_parse_user("1000", &c), 0);
	assert_true(c.has_user);
	assert_int_equal(c.uid, 1000);
	assert_int_equal(c.gid, 1000);
	assert_int_equal(sandbox_parse_user("1000:50", &c), 0);
	assert_int_equal(c.gid, 50);
	assert_int_equal(sandbox_parse_user("0", &c), -EINVAL);
	assert_int_equal(sandbox_parse_user("1000:0", &c), -EINVAL);
	assert_int_equal(sandbox_parse_user("", &c), -EINVAL);
	assert_int_equal(sandbox_parse_user("x:1", &c), -EINVAL);
	assert_int_equal(sandbox_parse_user("1:", &c), -EINVAL);
	assert_int_equal(sandbox_parse_user("99999999999", &c), -EINVAL);
}

/*
 * Inherited fds are closed at start, except those --net tap-fd=FD names
 * (keep_fds): in a child, fds 3..9 open, keep 5 and 8.
 */
static void test_setup_keeps_tap_fds(void **state)
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct sandbox_cfg c = { .mode = SANDBOX_OFF, .keep_fds = { 8, 5 }, .nkeep_fds = 2 };
		int bad = 0;

		for (int fd = 3; fd < 10; fd++)
			if (dup2(2, fd) != fd)
				_exit(2);
		if (sandbox_setup(&c) != 0)
			_exit(3);
		for (int fd = 3; fd < 10; fd++)
			bad |= (fcntl(fd, F_GETFD) >= 0) != (fd == 5 || fd == 8);
		_exit(bad ? 1 : 0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* gmtime_r and timegm (the RTC, on a vCPU thread) in a child under the
 * vCPU filter, after sandbox_setup() (setup) or without it: wait status. */
static int time_body(const void *arg)
{
	struct sandbox_cfg cfg = { .mode = SANDBOX_OFF };
	time_t t = 86400 * 365;
	struct tm tm;

	if ((*(const bool *)arg && sandbox_setup(&cfg) < 0) ||
	    sandbox_install(SANDBOX_VCPU, SANDBOX_KILL) < 0)
		return 99;
	if (!gmtime_r(&t, &tm) || timegm(&tm) != t)
		return 98;
	return 0;
}

static int time_in_child(bool setup)
{
	return forked(time_body, &setup);
}

/*
 * Regression: glibc reads the time zone file on the process's first time
 * conversion, even gmtime_r; the RTC's first read on a vCPU thread was an
 * open under the vCPU filter (SIGSYS: a Linux guest died at rtc_cmos, the
 * port storm at 0x71).  sandbox_setup() reads it first.
 */
static void test_time_conversion_after_setup(void **state)
{
	unsetenv("TZ");
#ifndef __SANITIZE_ADDRESS__	/* the sanitizer runtime's list has open */
	if (access("/etc/localtime", R_OK) == 0)	/* what glibc would open */
		want_killed(time_in_child(false));
#endif
	want_exit0(time_in_child(true));
}

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
/*
 * Regression (ASan+UBSan build): the leak check at exit stops the world
 * through a tracer task that lists /proc/self/task with getdents; under a
 * filter without it the tracer was killed and hyve waited for it forever.
 * The check runs under each kind's filter; SIGALRM would mean the hang.
 */
static int leak_check_body(const void *arg)
{
	alarm(30);
	if (sandbox_install(*(const enum sandbox_kind *)arg, SANDBOX_KILL) < 0)
		return 99;
	__lsan_do_recoverable_leak_check();
	return 0;
}

static void test_leak_check_under_filters(void **state)
{
	for (enum sandbox_kind k = 0; k < SANDBOX_NKINDS; k++)
		want_exit0(forked(leak_check_body, &k));
}
#else
static void test_leak_check_under_filters(void **state)
{
	skip();		/* only the sanitizer build has a leak check */
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_kind_kills_forbidden),
		cmocka_unit_test(test_ioctl_numbers_filtered),
		cmocka_unit_test(test_log_mode_allows),
		cmocka_unit_test(test_at_most_40_per_kind),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_setup_keeps_tap_fds),
		cmocka_unit_test(test_time_conversion_after_setup),
		cmocka_unit_test(test_leak_check_under_filters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
