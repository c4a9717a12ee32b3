/*
 * main.c - the command line: `hyve run [OPTIONS]`, `hyve --help`,
 * `hyve --version`.  Options become a vm_config; then the VM is built, the
 * image loaded, the vCPUs run, and the way the VM stopped becomes the exit
 * status.  Only main prints errors and exits.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "boot/raw.h"
#include "console.h"
#include "err.h"
#include "util.h"
#include "vm.h"

#define HYVE_VERSION "0.1.0"
#define MAX_CPUS 64
#define MIN_MEMORY (1ULL << 20)

static const char usage_top[] =
"usage: hyve run [OPTIONS]     run a virtual machine (see hyve run --help)\n"
"       hyve --help | --version\n"
"\n"
"hyve is a virtual machine monitor for Linux/KVM: one thread per vCPU runs\n"
"KVM_RUN and hands each exit to the device that claimed the port or address.\n";

static const char usage_run[] =
"usage: hyve run [OPTIONS]\n"
"\n"
"Guest:\n"
"  --raw FILE[@ADDR]     load a raw real-mode image at 0x7C00 (or ADDR < 0x10000)\n"
"                        and start the boot CPU there at 0000:ADDR, interrupts off\n"
"  --memory SIZE         guest RAM, with K/M/G suffix (default 256M)\n"
"  --cpus N              number of vCPUs, 1-64 (default 1)\n"
"Console:\n"
"  --console stdio       guest console on stdin/stdout (default); on a terminal,\n"
"                        type Ctrl-A x to quit, Ctrl-A Ctrl-A to send Ctrl-A\n"
"  --console file=PATH   guest output to PATH, no input\n"
"  --console none        discard guest output\n"
"Debugging:\n"
"  --strict-io           stop at the first access to an unclaimed port or\n"
"                        address (default: reads give all ones, writes dropped)\n"
"  --stats               on exit, print exits per reason and accesses per\n"
"                        port/MMIO range, with time spent in their handlers\n"
"  -h, --help            this help\n"
"\n"
"Exit status:\n"
"  0  the guest powered off (or halted with nothing left to wake it)\n"
"  1  hyve's own error (usage, setup, host failure) or stopped by the user\n"
"  2  the guest asked for a reset or reboot\n"
"  3  the guest triple-faulted (KVM_EXIT_SHUTDOWN)\n"
"  4  guest-caused fatal exit (strict-I/O violation, unhandled exit,\n"
"     KVM internal error)\n";

enum { OPT_RAW = 256, OPT_MEMORY, OPT_CPUS, OPT_CONSOLE, OPT_STRICT, OPT_STATS };

static const struct option run_options[] = {
	{ "raw",	required_argument, NULL, OPT_RAW },
	{ "memory",	required_argument, NULL, OPT_MEMORY },
	{ "cpus",	required_argument, NULL, OPT_CPUS },
	{ "console",	required_argument, NULL, OPT_CONSOLE },
	{ "strict-io",	no_argument,	   NULL, OPT_STRICT },
	{ "stats",	no_argument,	   NULL, OPT_STATS },
	{ "help",	no_argument,	   NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int fail(const char *msg)
{
	fprintf(stderr, "hyve: %s\n", msg);
	return VM_ERROR;
}

static void fatal_signal(int sig)
{
	console_restore_tty_async();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int cmd_run(int argc, char **argv)
{
	struct vm_config cfg = { .mem_size = 256ULL << 20, .ncpus = 1 };
	const char *raw = NULL;
	struct raw_image img = { 0 };
	struct vm vm;
	uint64_t v;
	int opt, status;
	char msg[256];

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":h", run_options, NULL)) != -1) {
		switch (opt) {
		case OPT_RAW:
			raw = optarg;
			break;
		case OPT_MEMORY:
			if (parse_size(optarg, &v) < 0 || v < MIN_MEMORY || (v & 0xfff)) {
				snprintf(msg, sizeof(msg),
					 "--memory: '%s' is not a usable size (at least 1M, a multiple of 4K, e.g. 256M or 2G)",
					 optarg);
				return fail(msg);
			}
			cfg.mem_size = v;
			break;
		case OPT_CPUS:
			if (parse_u64(optarg, &v) < 0 || v < 1 || v > MAX_CPUS) {
				snprintf(msg, sizeof(msg), "--cpus: '%s' is not a number from 1 to %d",
					 optarg, MAX_CPUS);
				return fail(msg);
			}
			cfg.ncpus = (int)v;
			break;
		case OPT_CONSOLE:
			if (strcmp(optarg, "stdio") && strcmp(optarg, "none") &&
			    (strncmp(optarg, "file=", 5) || !optarg[5])) {
				snprintf(msg, sizeof(msg),
					 "--console: unknown backend '%s' (stdio, file=PATH or none)", optarg);
				return fail(msg);
			}
			cfg.console = optarg;
			break;
		case OPT_STRICT:
			cfg.strict_io = true;
			break;
		case OPT_STATS:
			cfg.stats = true;
			break;
		case 'h':
			fputs(usage_run, stdout);
			return 0;
		case ':':
			snprintf(msg, sizeof(msg), "option '%s' needs a value (see hyve run --help)",
				 argv[optind - 1]);
			return fail(msg);
		default:
			snprintf(msg, sizeof(msg), "unknown option '%s' (see hyve run --help)",
				 argv[optind - 1]);
			return fail(msg);
		}
	}
	if (optind < argc) {
		snprintf(msg, sizeof(msg), "unexpected argument '%s' (see hyve run --help)",
			 argv[optind]);
		return fail(msg);
	}
	if (!raw)
		return fail("nothing to run: give --raw FILE (see hyve run --help)");
	if (raw_open(raw, &img) < 0)
		return fail(err_msg());

	signal(SIGPIPE, SIG_IGN);
	signal(SIGSEGV, fatal_signal);
	signal(SIGBUS, fatal_signal);
	signal(SIGABRT, fatal_signal);

	if (vm_create(&vm, &cfg) < 0 || raw_load(&vm, &img) < 0 || vm_run(&vm) < 0) {
		status = fail(err_msg());
		vm_destroy(&vm);
		raw_free(&img);
		return status;
	}
	raw_free(&img);
	status = vm.stop;
	console_close(vm.con);	/* flush and restore the tty before we print */
	vm.con = NULL;
	if (vm.stop_msg[0])
		fprintf(stderr, "hyve: %s\n", vm.stop_msg);
	if (cfg.stats)
		vm_print_stats(&vm, stderr);
	vm_destroy(&vm);
	return status;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage_top, stdout);
		fputs("\n", stdout);
		fputs(usage_run, stdout);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("hyve %s\n", HYVE_VERSION);
		return 0;
	}
	if (argc < 2) {
		fputs(usage_top, stderr);
		return VM_ERROR;
	}
	fprintf(stderr, "hyve: unknown command '%s' (try hyve --help)\n", argv[1]);
	return VM_ERROR;
}
