/*
 * measure.c - run a command once and report its wall time and peak RSS.
 *
 *   measure [-q] [-o FILE] [-t SECS] -- COMMAND [ARG...]
 *
 * fork()s, exec()s COMMAND (stdin from /dev/null; with -q its stdout and
 * stderr also go to /dev/null, with -o FILE both go to FILE), wait4()s for
 * it and prints one line on stdout:
 *
 *   wall_ns=N maxrss_kib=N status=N
 *
 * wall_ns: CLOCK_MONOTONIC from just before fork() to wait4()'s return.
 * maxrss_kib: the child's ru_maxrss from wait4() (peak resident set, KiB).
 * It includes what the forked copy of measure had resident before exec
 * (Linux carries the pre-exec high-water mark over); `measure -z` shows
 * that floor: the child _exit()s right after fork instead of exec'ing.
 * -t SECS: SIGKILL the command after SECS seconds (status 137).
 * status: the exit status, or 128+signal.  measure itself exits 0 unless it
 * could not run the command (then 1, or 127 if exec failed).
 *
 * measure -s prints measure's own peak RSS.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile pid_t child;

static void on_alarm(int sig)
{
	(void)sig;
	if (child > 0)
		kill(child, SIGKILL);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	const char *out = NULL;
	int opt, quiet = 0, floor = 0, secs = 0, wstatus, status;
	struct rusage ru;
	uint64_t t0, t1;
	pid_t pid;

	while ((opt = getopt(argc, argv, "+qo:szt:")) != -1) {
		switch (opt) {
		case 'q': quiet = 1; break;
		case 'o': out = optarg; break;
		case 'z': floor = 1; break;
		case 't': secs = atoi(optarg); break;
		case 's':
			getrusage(RUSAGE_SELF, &ru);
			printf("self_maxrss_kib=%ld\n", ru.ru_maxrss);
			return 0;
		default: goto usage;
		}
	}
	if (optind >= argc && !floor) {
usage:
		fprintf(stderr, "usage: measure [-q] [-o FILE] [-t SECS] -- COMMAND [ARG...] | -z | -s\n");
		return 1;
	}
	fflush(stdout);

	t0 = now_ns();
	pid = fork();
	if (pid < 0) {
		perror("measure: fork");
		return 1;
	}
	if (pid == 0 && floor)
		_exit(0);
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		if (fd >= 0)
			dup2(fd, 0);
		if (out) {
			int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (o >= 0) {
				dup2(o, 1);
				dup2(o, 2);
			}
		} else if (quiet && fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "measure: exec %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}
	child = pid;
	if (secs > 0) {
		struct sigaction sa = { .sa_handler = on_alarm };

		sigemptyset(&sa.sa_mask);
		sigaction(SIGALRM, &sa, NULL);
		alarm(secs);
	}
	while (wait4(pid, &wstatus, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("measure: wait4");
			return 1;
		}
	}
	t1 = now_ns();
	status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
	printf("wall_ns=%llu maxrss_kib=%ld status=%d\n",
	       (unsigned long long)(t1 - t0), ru.ru_maxrss, status);
	return status == 127 ? 127 : 0;
}
