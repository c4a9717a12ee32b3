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
#include <time.h>
#include <unistd.h>
#include "boot/acpi.h"
#include "boot/kernel.h"
#include "boot/raw.h"
#include "backend/net.h"
#include "pci/pci.h"
#include "console.h"
#include "err.h"
#include "util.h"
#include "vm.h"

#define HYVE_VERSION "0.1.0"
#define MAX_CPUS 64
#define MIN_MEMORY (1ULL << 20)
#define DEFAULT_CMDLINE "console=ttyS0"

static const char usage_top[] =
"usage: hyve run [OPTIONS]     run a virtual machine (see hyve run --help)\n"
"       hyve --help | --version\n"
"\n"
"hyve is a virtual machine monitor for Linux/KVM: one thread per vCPU runs\n"
"KVM_RUN and hands each exit to the device that claimed the port or address.\n";

static const char usage_run[] =
"usage: hyve run [OPTIONS]\n"
"\n"
"Guest (one of; with neither, the default guest kit is booted):\n"
"  --kernel FILE         boot a Linux kernel: a bzImage, or an ELF vmlinux\n"
"                        with a PVH entry note (told apart by its contents)\n"
"  --initrd FILE         initial ramdisk for --kernel\n"
"  --cmdline STRING      kernel command line (default \"" DEFAULT_CMDLINE "\")\n"
"  --raw FILE[@ADDR]     load a raw real-mode image at 0x7C00 (or ADDR < 0x10000)\n"
"                        and start the boot CPU there at 0000:ADDR, interrupts off\n"
"Machine:\n"
"  --memory SIZE         guest RAM, with K/M/G suffix (default 256M)\n"
"  --cpus N              number of vCPUs, 1-64 (default 1)\n"
"  --on-reboot=ACTION    exit (default): a guest reboot ends hyve with status 2;\n"
"                        restart: boot the guest again from scratch\n"
"Devices (PCI, in command-line order from slot 1):\n"
"  --disk path=FILE[,ro][,serial=S][,cache=none|writeback]\n"
"                        a virtio-blk disk on a raw image (size a multiple of 512)\n"
"  --device TYPE[,OPTS]  virtio-rng, or virtio-blk,path=FILE..., virtio-net,...\n"
"  --net user[,mac=MAC][,hostfwd=tcp|udp:[HOSTADDR]:HOSTPORT-:GUESTPORT]...[,restrict=on]\n"
"                        virtio-net on user-mode networking (libslirp, no root):\n"
"                        guest 10.0.2.15 by DHCP, gateway 10.0.2.2 = host\n"
"                        loopback, DNS 10.0.2.3; restrict=on: forwarded ports only\n"
"  --net tap=IFNAME[,mac=MAC][,queues=N][,vhost=on|off|auto] | tap-fd=FD[,...]\n"
"                        virtio-net on a tap device (opened or created), or an\n"
"                        open tap file descriptor; offloads pass through;\n"
"                        queues=N (1-3) multiqueue; vhost=on: kernel data path\n"
"Console:\n"
"  --console stdio       guest console on stdin/stdout (default); on a terminal,\n"
"                        type Ctrl-A x to quit, Ctrl-A Ctrl-A to send Ctrl-A\n"
"  --console file=PATH   guest output to PATH, no input\n"
"  --console none        discard guest output\n"
"Debugging:\n"
"  --strict-io           stop at the first access to an unclaimed port or\n"
"                        address (default: reads give all ones, writes dropped)\n"
"  --stats               on exit, print exits per reason and accesses per\n"
"                        port/MMIO range with the time spent in their handlers,\n"
"                        and the boot-time breakdown\n"
"  -h, --help            this help\n"
"\n"
"Exit status:\n"
"  0  the guest powered off (or halted with nothing left to wake it)\n"
"  1  hyve's own error (usage, setup, host failure) or stopped by the user\n"
"  2  the guest asked for a reset or reboot\n"
"  3  the guest triple-faulted (KVM_EXIT_SHUTDOWN)\n"
"  4  guest-caused fatal exit (strict-I/O violation, unhandled exit,\n"
"     KVM internal error)\n"
"\n"
"Environment: HYVE_GUEST_KIT=DIR holds the default guest (vmlinuz, initrd.img);\n"
"HYVE_KVM_DEVICE=PATH opens PATH instead of /dev/kvm.\n";

enum {
	OPT_RAW = 256, OPT_KERNEL, OPT_INITRD, OPT_CMDLINE, OPT_MEMORY, OPT_CPUS,
	OPT_CONSOLE, OPT_STRICT, OPT_STATS, OPT_ON_REBOOT, OPT_DISK, OPT_DEVICE, OPT_NET,
};

static const struct option run_options[] = {
	{ "raw",	required_argument, NULL, OPT_RAW },
	{ "kernel",	required_argument, NULL, OPT_KERNEL },
	{ "initrd",	required_argument, NULL, OPT_INITRD },
	{ "cmdline",	required_argument, NULL, OPT_CMDLINE },
	{ "memory",	required_argument, NULL, OPT_MEMORY },
	{ "cpus",	required_argument, NULL, OPT_CPUS },
	{ "console",	required_argument, NULL, OPT_CONSOLE },
	{ "strict-io",	no_argument,	   NULL, OPT_STRICT },
	{ "stats",	no_argument,	   NULL, OPT_STATS },
	{ "on-reboot",	required_argument, NULL, OPT_ON_REBOOT },
	{ "disk",	required_argument, NULL, OPT_DISK },
	{ "device",	required_argument, NULL, OPT_DEVICE },
	{ "net",	required_argument, NULL, OPT_NET },
	{ "help",	no_argument,	   NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

#define MAX_DEVICES 28	/* PCI slots 1..31, less room for the host bridge */

struct run_opts {
	const char *raw, *kernel, *initrd, *cmdline, *console;
	bool restart;
	int ndev;
	struct { char type[32]; const char *opts; } dev[MAX_DEVICES];
	char kit_kernel[4096], kit_initrd[4096];
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

/* Parse `hyve run` options into cfg and o.  0, or an exit status. */
static int parse_run(int argc, char **argv, struct vm_config *cfg, struct run_opts *o)
{
	char msg[512];
	uint64_t v;
	int opt;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":h", run_options, NULL)) != -1) {
		switch (opt) {
		case OPT_RAW:	  o->raw = optarg; break;
		case OPT_KERNEL:  o->kernel = optarg; break;
		case OPT_INITRD:  o->initrd = optarg; break;
		case OPT_CMDLINE: o->cmdline = optarg; break;
		case OPT_MEMORY:
			if (parse_size(optarg, &v) < 0 || v < MIN_MEMORY || (v & 0xfff)) {
				snprintf(msg, sizeof(msg),
					 "--memory: '%s' is not a usable size (at least 1M, a multiple of 4K, e.g. 256M or 2G)",
					 optarg);
				return fail(msg);
			}
			cfg->mem_size = v;
			break;
		case OPT_CPUS:
			if (parse_u64(optarg, &v) < 0 || v < 1 || v > MAX_CPUS) {
				snprintf(msg, sizeof(msg), "--cpus: '%s' is not a number from 1 to %d",
					 optarg, MAX_CPUS);
				return fail(msg);
			}
			cfg->ncpus = (int)v;
			break;
		case OPT_CONSOLE:
			if (strcmp(optarg, "stdio") && strcmp(optarg, "none") &&
			    (strncmp(optarg, "file=", 5) || !optarg[5])) {
				snprintf(msg, sizeof(msg),
					 "--console: unknown backend '%s' (stdio, file=PATH or none)", optarg);
				return fail(msg);
			}
			o->console = optarg;
			break;
		case OPT_ON_REBOOT:
			if (strcmp(optarg, "exit") && strcmp(optarg, "restart")) {
				snprintf(msg, sizeof(msg), "--on-reboot: '%s' is not exit or restart", optarg);
				return fail(msg);
			}
			o->restart = !strcmp(optarg, "restart");
			break;
		case OPT_DISK:
		case OPT_NET:
		case OPT_DEVICE: {
			bool fixed = opt != OPT_DEVICE;	/* --disk, --net: the type is implied */
			const char *type = opt == OPT_DISK ? "virtio-blk" : opt == OPT_NET ? "virtio-net" : optarg;
			const char *opts = fixed ? optarg : strchr(optarg, ',');
			size_t tl = fixed ? strlen(type) :
				    (opts ? (size_t)(opts - optarg) : strlen(optarg));

			if (o->ndev == MAX_DEVICES)
				return fail("too many devices (at most 28)");
			if (opt == OPT_NET) {	/* bad options: before anything starts */
				struct net_opts no;
				if (net_parse_opts(optarg, &no) < 0)
					return fail(err_msg());
			}
			if (tl == 0 || tl >= sizeof(o->dev[0].type)) {
				snprintf(msg, sizeof(msg), "--device: bad device type in '%s'", optarg);
				return fail(msg);
			}
			memcpy(o->dev[o->ndev].type, type, tl);
			o->dev[o->ndev].type[tl] = '\0';
			if (!pci_devtype_find(o->dev[o->ndev].type)) {
				snprintf(msg, sizeof(msg), "--device: unknown device type '%s' (virtio-blk, virtio-net, virtio-rng)",
					 o->dev[o->ndev].type);
				return fail(msg);
			}
			o->dev[o->ndev].opts = fixed ? opts : (opts ? opts + 1 : "");
			o->ndev++;
			break;
		}
		case OPT_STRICT: cfg->strict_io = true; break;
		case OPT_STATS:	 cfg->stats = true; break;
		case 'h':
			fputs(usage_run, stdout);
			return -1;
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
	if (o->raw && (o->kernel || o->initrd || o->cmdline))
		return fail("--raw cannot be combined with --kernel, --initrd or --cmdline");
	if ((o->initrd || o->cmdline) && !o->kernel)
		return fail("--initrd and --cmdline need --kernel");
	return 0;
}

/*
 * No guest given: boot the guest kit (scripts/guest-kit.sh) from
 * $HYVE_GUEST_KIT or build/guest-kit next to the binary.  0 or status.
 */
static int find_guest_kit(struct run_opts *o)
{
	char exe[3000], dir[3600];
	const char *env = getenv("HYVE_GUEST_KIT");
	ssize_t n;

	if (env && *env) {
		snprintf(dir, sizeof(dir), "%s", env);
	} else {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n < 0)
			return fail("cannot find the default guest (give --kernel or --raw)");
		exe[n] = '\0';
		*strrchr(exe, '/') = '\0';
		snprintf(dir, sizeof(dir), "%s/guest-kit", exe);
	}
	snprintf(o->kit_kernel, sizeof(o->kit_kernel), "%s/vmlinuz", dir);
	snprintf(o->kit_initrd, sizeof(o->kit_initrd), "%s/initrd.img", dir);
	if (access(o->kit_kernel, R_OK) || access(o->kit_initrd, R_OK)) {
		char msg[4600];
		snprintf(msg, sizeof(msg),
			 "no guest given and no default guest kit in %s: build it with scripts/guest-kit.sh, or give --kernel or --raw",
			 dir);
		return fail(msg);
	}
	if (access("/sys/module/kvm_pvm", F_OK) == 0 && access("/dev/kvm", F_OK) == 0)
		fprintf(stderr, "hyve: note: this host's KVM is kvm_pvm, which cannot run an unmodified Linux kernel; "
			"bash scripts/demo.sh boots the default guest in the nested-KVM rig instead\n");
	o->kernel = o->kit_kernel;
	o->initrd = o->kit_initrd;
	if (!o->cmdline)
		o->cmdline = DEFAULT_CMDLINE " quiet";
	return 0;
}

/* The --disk / --device instances, in command-line order (slots 1, 2, ...). */
static int add_devices(struct vm *vm, const struct run_opts *o)
{
	struct pci_bus *bus = pci_bus_of(vm);

	for (int i = 0; i < o->ndev; i++) {
		int r;
		if (!bus)
			return err_set(-ENODEV, "no PCI bus for %s", o->dev[i].type);
		if ((r = pci_add_device(bus, o->dev[i].type, -1, o->dev[i].opts, NULL)) < 0)
			return r;
	}
	return 0;
}

/* Put the guest into a freshly created VM: raw image, or ACPI + kernel. */
static int load_guest(struct vm *vm, const struct raw_image *img, const struct kernel_image *k)
{
	struct acpi_config acfg = { .ncpus = vm_ncpus(vm), .base_gpa = GUEST_BIOS_START,
				    .mem_size = vm_mem_size(vm) };
	struct kernel_entry entry;
	uint64_t rsdp;
	size_t room = GUEST_HIGH_START - GUEST_BIOS_START;
	void *tables;
	int r;

	if (img)
		return raw_load(vm, img);
	tables = vm_gpa(vm, GUEST_BIOS_START, room);
	if (!tables)
		return err_set(-ENOSPC, "no room for ACPI tables (--memory too small)");
	if ((r = acpi_build(&acfg, tables, room, &rsdp, NULL)) < 0)
		return r;
	if ((r = kernel_place(k, vm, rsdp, &entry)) < 0)
		return r;
	return kernel_set_entry(vm, &entry);
}

static void print_boot_stats(struct vm *vm, uint64_t t0, uint64_t out)
{
	uint64_t run = vm_first_run_ns(vm);

	fprintf(stderr, "stats: boot setup_us=%llu", run ?
		(unsigned long long)((run - t0) / 1000) : 0ULL);
	if (out && run && out >= run)
		fprintf(stderr, " first_output_us=%llu",
			(unsigned long long)((out - run) / 1000));
	fputc('\n', stderr);
}

static int cmd_run(int argc, char **argv, uint64_t t0)
{
	struct vm_config cfg = { .mem_size = 256ULL << 20, .ncpus = 1 };
	struct run_opts o = { 0 };
	struct raw_image img = { 0 };
	struct kernel_image k;
	struct console *con = NULL;
	struct vm *vm = NULL;
	int status;
	uint64_t first_out;
	bool have_kernel = false, k_open = false;

	status = parse_run(argc, argv, &cfg, &o);
	if (status)
		return status < 0 ? 0 : status;
	if (!o.raw && !o.kernel && (status = find_guest_kit(&o)))
		return status;
	if (o.raw && raw_open(o.raw, &img) < 0)
		return fail(err_msg());
	if (o.kernel) {
		if (kernel_open(&k, o.kernel, o.initrd, o.cmdline ? o.cmdline : DEFAULT_CMDLINE,
				cfg.mem_size) < 0)
			return fail(err_msg());
		have_kernel = k_open = true;
		cfg.irqchip = true;
		cfg.bios_ram = true;
	}

	signal(SIGPIPE, SIG_IGN);
	signal(SIGSEGV, fatal_signal);
	signal(SIGBUS, fatal_signal);
	signal(SIGABRT, fatal_signal);

	if (console_open(&con, o.console) < 0) {
		status = fail(err_msg());
		goto out;
	}
	cfg.con = con;
	for (;;) {
		int r = vm_create(&vm, &cfg);

		if (r == 0 && have_kernel && !k_open) {	/* a restart reads them again */
			r = kernel_open(&k, o.kernel, o.initrd,
					o.cmdline ? o.cmdline : DEFAULT_CMDLINE, cfg.mem_size);
			k_open = r == 0;
		}
		if (r == 0)
			r = add_devices(vm, &o);
		if (r == 0)
			r = load_guest(vm, o.raw ? &img : NULL, have_kernel ? &k : NULL);
		if (k_open) {		/* in guest RAM now: free the host copy */
			kernel_close(&k);
			k_open = false;
		}
		if (r < 0 || vm_run(vm) < 0) {
			console_close(con);
			con = NULL;
			status = fail(err_msg());
			vm_destroy(vm);
			goto out;
		}
		status = vm_stop_reason(vm);
		if (status != VM_RESET || !o.restart)
			break;
		vm_destroy(vm);	/* reboot: a new VM from scratch */
		vm = NULL;
		t0 = mono_ns();
	}
	first_out = console_first_output_ns(con);
	console_close(con);	/* flush and restore the tty before we print */
	con = NULL;
	vm_detach_console(vm);
	if (vm_stop_msg(vm)[0])
		fprintf(stderr, "hyve: %s\n", vm_stop_msg(vm));
	if (cfg.stats) {
		vm_print_stats(vm, stderr);
		pci_bus_print_stats(pci_bus_of(vm), stderr);
		print_boot_stats(vm, t0, first_out);
	}
	vm_destroy(vm);
out:
	if (con)
		console_close(con);
	raw_free(&img);
	if (k_open)
		kernel_close(&k);
	return status;
}

int main(int argc, char **argv)
{
	uint64_t t0 = mono_ns();

	if (argc >= 2 && !strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1, t0);
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
		fputs("hyve: no command given (try hyve --help)\n", stderr);
		return VM_ERROR;
	}
	fprintf(stderr, "hyve: unknown command '%s' (try hyve --help)\n", argv[1]);
	return VM_ERROR;
}
