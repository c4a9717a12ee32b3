/*
 * main.c - the command line: `hyve run [OPTIONS]`, `hyve check-host`,
 * `hyve --help`, `hyve --version`.  Options become a vm_config; then the VM is built, the
 * image loaded, the vCPUs run, and the way the VM stopped becomes the exit
 * status.  Only main prints errors and exits.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/signalfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "api/api.h"
#include "boot/acpi.h"
#include "boot/kernel.h"
#include "boot/raw.h"
#include "backend/net.h"
#include "pci/pci.h"
#include "console.h"
#include "err.h"
#include "sandbox.h"
#include "hostprobe.h"
#include "util.h"
#include "vm.h"

#define HYVE_VERSION "0.1.0"
#define MAX_CPUS 64
#define MIN_MEMORY (1ULL << 20)
#define DEFAULT_CMDLINE "console=ttyS0"

static const char usage_top[] =
"usage: hyve run [OPTIONS]     run a virtual machine (see hyve run --help)\n"
"       hyve fc [OPTIONS]      Firecracker-compatible API server (hyve fc --help)\n"
"       hyve ctl --api-sock PATH COMMAND   control a running hyve (hyve ctl --help)\n"
"       hyve check-host [--quiet] what this host's KVM can run: kvm, restricted\n"
"                                 (no Linux guests, e.g. kvm_pvm) or none\n"
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
"  --kernel-cache DIR    where decompressed bzImages are kept (default\n"
"                        $XDG_CACHE_HOME/hyve or ~/.cache/hyve)\n"
"  --no-kernel-cache     decompress the bzImage every time, keep nothing\n"
"  --raw FILE[@ADDR]     load a raw real-mode image at 0x7C00 (or ADDR < 0x10000)\n"
"                        and start the boot CPU there at 0000:ADDR, interrupts off\n"
"  --force               boot a Linux kernel even where hyve check-host says\n"
"                        restricted (e.g. kvm_pvm, where it fails or hangs)\n"
"Machine:\n"
"  --legacy              a kernel boot gets a PC's legacy devices as well: the\n"
"                        PIT, the 8259s advertised (MADT PCAT_COMPAT), the i8042\n"
"                        (probed; the reset register); default: a lean machine\n"
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
"  --console pty         a new pseudo-terminal (its path is printed on stderr\n"
"                        and shown by GET /vm/config); attach with screen etc.\n"
"  --console socket=PATH a Unix socket (mode 0600) a client attaches to and\n"
"                        detaches from; output while detached: last 64 KiB\n"
"  --console file=PATH   guest output to PATH, no input\n"
"  --console none        discard guest output\n"
"Control:\n"
"  --api-sock PATH       serve the Firecracker-compatible API (and /hyve/...) on\n"
"                        the Unix socket PATH (mode 0600): inspect, pause,\n"
"                        resume, stop; see hyve ctl\n"
"Sandbox:\n"
"  --seccomp=MODE        kill (default): a system call outside the thread's\n"
"                        allowlist kills hyve; log: allow it, the kernel logs\n"
"                        it; off: no filter\n"
"  --user UID[:GID]      run as this user/group once every file, device and\n"
"                        socket is open (as root; numbers)\n"
"  --chroot DIR          chroot to DIR at the same point (needs --user)\n"
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
"HYVE_KVM_DEVICE=PATH opens PATH instead of /dev/kvm;  HYVE_HOST_KIND=kvm|\n"
"restricted|none sets check-host's answer;  HYVE_SYSFS_ROOT=DIR looks for\n"
"module/kvm_pvm there instead of in /sys.\n";

enum {
	OPT_RAW = 256, OPT_KERNEL, OPT_INITRD, OPT_CMDLINE, OPT_MEMORY, OPT_CPUS,
	OPT_CONSOLE, OPT_STRICT, OPT_STATS, OPT_ON_REBOOT, OPT_DISK, OPT_DEVICE, OPT_NET,
	OPT_API_SOCK, OPT_LEGACY, OPT_KCACHE, OPT_NO_KCACHE, OPT_FORCE,
	OPT_SECCOMP, OPT_USER, OPT_CHROOT,
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
	{ "api-sock",	required_argument, NULL, OPT_API_SOCK },
	{ "legacy",	no_argument,	   NULL, OPT_LEGACY },
	{ "kernel-cache", required_argument, NULL, OPT_KCACHE },
	{ "no-kernel-cache", no_argument,  NULL, OPT_NO_KCACHE },
	{ "force",	no_argument,	   NULL, OPT_FORCE },
	{ "seccomp",	required_argument, NULL, OPT_SECCOMP },
	{ "user",	required_argument, NULL, OPT_USER },
	{ "chroot",	required_argument, NULL, OPT_CHROOT },
	{ "help",	no_argument,	   NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

#define MAX_DEVICES 28	/* PCI slots 1..31, less room for the host bridge */

struct run_opts {
	const char *raw, *kernel, *initrd, *cmdline, *console, *api_sock, *kcache;
	bool no_kcache;
	bool restart, force;
	int ndev;
	struct { char type[32]; const char *opts; } dev[MAX_DEVICES];
	char kit_kernel[4096], kit_initrd[4096];
	struct sandbox_cfg sb;
	bool sandboxed;		/* hyve run: sandbox_setup() done, drop before the first run */
};

static int fail(const char *msg)
{
	fprintf(stderr, "hyve: %s\n", msg);
	return VM_ERROR;
}

/* fail() with a message made as printf does (at most 511 bytes of it). */
__attribute__((format(printf, 1, 2)))
static int failf(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fail(msg);
}

/*
 * What getopt_long stopped at in `hyve CMD`: opt ':' is an option without
 * its value, anything else an unknown option.  The exit status.
 */
static int fail_option(const char *cmd, int opt, char **argv)
{
	if (opt == ':')
		return failf("option '%s' needs a value (see hyve %s --help)", argv[optind - 1], cmd);
	return failf("unknown option '%s' (see hyve %s --help)", argv[optind - 1], cmd);
}

static void fatal_signal(int sig)
{
	console_restore_tty_async();
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * SIGINT, SIGTERM and SIGHUP stop the VM cleanly in every configuration:
 * their default action back (a parent's SIG_IGN, e.g. a background job's
 * SIGINT, would discard them), blocked before any thread exists so every
 * thread inherits the mask, and taken by the main loop's signalfd (or
 * hyve fc's).  One arriving during setup waits there.  Returns the set.
 */
static sigset_t block_term_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	return set;
}

/* Parse `hyve run` options into cfg and o.  0, or an exit status. */
static int parse_run(int argc, char **argv, struct vm_config *cfg, struct run_opts *o)
{
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
			if (parse_size(optarg, &v) < 0 || v < MIN_MEMORY || (v & 0xfff))
				return failf("--memory: '%s' is not a usable size (at least 1M, a multiple of 4K, e.g. 256M or 2G)",
					     optarg);
			cfg->mem_size = v;
			break;
		case OPT_CPUS:
			if (parse_u64(optarg, &v) < 0 || v < 1 || v > MAX_CPUS)
				return failf("--cpus: '%s' is not a number from 1 to %d", optarg, MAX_CPUS);
			cfg->ncpus = (int)v;
			break;
		case OPT_CONSOLE:
			if (strcmp(optarg, "stdio") && strcmp(optarg, "none") && strcmp(optarg, "pty") &&
			    (strncmp(optarg, "file=", 5) || !optarg[5]) &&
			    (strncmp(optarg, "socket=", 7) || !optarg[7]))
				return failf("--console: unknown backend '%s' (stdio, pty, socket=PATH, file=PATH or none)",
					     optarg);
			o->console = optarg;
			break;
		case OPT_ON_REBOOT:
			if (strcmp(optarg, "exit") && strcmp(optarg, "restart"))
				return failf("--on-reboot: '%s' is not exit or restart", optarg);
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
			if (tl == 0 || tl >= sizeof(o->dev[0].type))
				return failf("--device: bad device type in '%s'", optarg);
			memcpy(o->dev[o->ndev].type, type, tl);
			o->dev[o->ndev].type[tl] = '\0';
			if (!pci_devtype_find(o->dev[o->ndev].type))
				return failf("--device: unknown device type '%s' (virtio-blk, virtio-net, virtio-rng)",
					     o->dev[o->ndev].type);
			o->dev[o->ndev].opts = fixed ? opts : (opts ? opts + 1 : "");
			o->ndev++;
			break;
		}
		case OPT_API_SOCK: o->api_sock = optarg; break;
		case OPT_FORCE:	 o->force = true; break;
		case OPT_SECCOMP:
			if (sandbox_parse_mode(optarg, &o->sb.mode) < 0)
				return fail(err_msg());
			break;
		case OPT_USER:
			if (sandbox_parse_user(optarg, &o->sb) < 0)
				return fail(err_msg());
			break;
		case OPT_CHROOT:
			if (!*optarg)
				return fail("--chroot: empty directory name");
			o->sb.chroot_dir = optarg;
			break;
		case OPT_STRICT: cfg->strict_io = true; break;
		case OPT_STATS:	 cfg->stats = true; break;
		case OPT_LEGACY: cfg->legacy = true; break;
		case OPT_KCACHE:
			if (!optarg[0])
				return fail("--kernel-cache: empty directory name");
			o->kcache = optarg;
			break;
		case OPT_NO_KCACHE: o->no_kcache = true; break;
		case 'h':
			fputs(usage_run, stdout);
			return -1;
		default:
			return fail_option("run", opt, argv);
		}
	}
	if (optind < argc)
		return failf("unexpected argument '%s' (see hyve run --help)", argv[optind]);
	if (o->raw && (o->kernel || o->initrd || o->cmdline))
		return fail("--raw cannot be combined with --kernel, --initrd or --cmdline");
	if ((o->initrd || o->cmdline) && !o->kernel)
		return fail("--initrd and --cmdline need --kernel");
	if (o->kcache && o->no_kcache)
		return fail("--kernel-cache and --no-kernel-cache exclude each other");
	if (o->restart && o->sb.chroot_dir)
		return fail("--on-reboot=restart cannot be combined with --chroot (a restart reads the kernel again)");
	/*
	 * The main thread stays unfiltered where it does more than the patch's
	 * SANDBOX_MAIN list covers: a restart builds the next VM; the API
	 * (--api-sock) detaches and re-attaches it; a socket or pty console
	 * accepts, detaches and unlinks; a network back end (slirp's thread,
	 * tap queues) is torn down from it.  vCPUs and the other workers are
	 * filtered all the same (docs/security.md, known gaps).
	 */
	o->sb.main_unfiltered = o->restart || o->api_sock ||
		(o->console && (!strcmp(o->console, "pty") || !strncmp(o->console, "socket=", 7)));
	for (int i = 0; i < o->ndev; i++) {
		const char *t = o->dev[i].opts ? strstr(o->dev[i].opts, "tap-fd=") : NULL;

		if (!strcmp(o->dev[i].type, "virtio-net"))
			o->sb.main_unfiltered = true;
		/* a tap fd handed to us is ours: sandbox_setup() must not close it */
		if (t && o->sb.nkeep_fds < SANDBOX_MAX_KEEP_FDS)
			o->sb.keep_fds[o->sb.nkeep_fds++] = atoi(t + 7);
	}
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
	o->kernel = o->kit_kernel;
	o->initrd = o->kit_initrd;
	if (!o->cmdline)
		o->cmdline = DEFAULT_CMDLINE " quiet";
	return 0;
}

/*
 * Can this host's KVM boot a Linux kernel?  false if so; true with the one
 * line that says why not and the way out (WAYOUT) in MSG.  `hyve run` and
 * `hyve fc` both ask here: the one host probe decides.
 */
static bool linux_refused(char *msg, size_t n, const char *wayout)
{
	struct host_probe p;

	if (host_probe(&p) < 0) {
		snprintf(msg, n, "%s", err_msg());
		return true;
	}
	if (p.kind != HOST_RESTRICTED)
		return false;
	snprintf(msg, n, "this host's KVM cannot boot a Linux kernel (%s); boot it in the nested-KVM "
		 "rig (bash scripts/demo.sh, tests/rig/rig.sh)%s%s", p.reason, *wayout ? " or " : "",
		 wayout);
	return true;
}

/*
 * A Linux kernel on a host whose KVM cannot run one (hyve check-host says
 * restricted): one line with the reason and the way out, at once, instead
 * of a boot that fails or hangs.  0, or the exit status.
 */
static int refuse_linux_here(void)
{
	char msg[1400];

	if (linux_refused(msg, sizeof(msg), "pass --force to try anyway"))
		return fail(msg);
	return 0;
}

/* hyve check-host [--quiet]: the probe's answer on stdout, status 0. */
static int cmd_check_host(int argc, char **argv)
{
	struct host_probe p;
	bool quiet = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quiet") || !strcmp(argv[i], "-q")) {
			quiet = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs("usage: hyve check-host [--quiet]\n"
			      "Prints what this host's KVM can run, then the reason:\n"
			      "  kvm         Linux guests and small guests run natively\n"
			      "  restricted  small guests run natively; a Linux kernel does not\n"
			      "              (e.g. kvm_pvm): Linux guests need the nested-KVM rig\n"
			      "  none        no usable KVM device\n"
			      "--quiet prints the word alone.  Status 0 whatever the answer.\n", stdout);
			return 0;
		} else {
			return failf("check-host: unknown option '%.200s' (hyve check-host [--quiet])",
				     argv[i]);
		}
	}
	if (host_probe(&p) < 0)
		return fail(err_msg());
	if (quiet)
		printf("%s\n", host_kind_name(p.kind));
	else
		printf("%s: %s\n", host_kind_name(p.kind), p.reason);
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
static int load_guest(struct vm *vm, const struct raw_image *img, struct kernel_image *k,
		      bool i8042)
{
	struct acpi_config acfg = { .ncpus = vm_ncpus(vm), .base_gpa = GUEST_BIOS_START,
				    .mem_size = vm_mem_size(vm), .legacy = vm_has_pit(vm),
				    .i8042 = i8042 };
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

/*
 * The boot breakdown: setup_us = start to the first guest instruction (vCPU
 * 0's first KVM_RUN), first_output_us = from there to the first console
 * byte, run_end_us = start to the VM stopped (the rest of the wall time is
 * teardown); and how the kernel was loaded.
 */
/*
 * What hyve's allocations hold now, without a system call (--stats runs
 * under the main thread's filter): glibc's arenas and mmapped blocks; in
 * the sanitizer build, whose allocator replaces malloc, its live bytes
 * (glibc's mallinfo2 would initialise an unused malloc there: getrandom).
 */
#ifdef __SANITIZE_ADDRESS__
size_t __sanitizer_get_current_allocated_bytes(void);
static size_t heap_bytes(void)
{
	return __sanitizer_get_current_allocated_bytes();
}
#else
static size_t heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.arena + mi.hblkhd;
}
#endif

static void print_boot_stats(struct vm *vm, uint64_t t0, uint64_t out, uint64_t run_end,
			     const struct kernel_load_stats *ks)
{
	uint64_t run = vm_first_run_ns(vm);

	fprintf(stderr, "stats: boot setup_us=%llu", run ?
		(unsigned long long)((run - t0) / 1000) : 0ULL);
	if (out && run && out >= run)
		fprintf(stderr, " first_output_us=%llu",
			(unsigned long long)((out - run) / 1000));
	if (run_end > t0)
		fprintf(stderr, " run_end_us=%llu", (unsigned long long)((run_end - t0) / 1000));
	fputc('\n', stderr);
	if (ks && ks->how)
		fprintf(stderr, "stats: load kernel=%s fmt=%s cache=%s key_us=%llu decompress_us=%llu "
			"cache_write_us=%llu place_us=%llu kaslr=%s delta=0x%llx\n", ks->how,
			ks->fmt[0] ? ks->fmt : "-", ks->cache, (unsigned long long)ks->key_us,
			(unsigned long long)ks->decompress_us, (unsigned long long)ks->cache_write_us,
			(unsigned long long)ks->place_us, ks->kaslr ? "on" : "off",
			(unsigned long long)ks->kaslr_delta);
	/*
	 * Peak RSS counts the guest pages touched too (in 2 MiB steps where
	 * the host backs guest RAM with huge pages); heap_kib is what hyve's
	 * own allocations hold from the system right now (every malloc arena
	 * and mmapped block, mallinfo2: no system call, fine under the main
	 * thread's filter): the budget of docs/security.md, without guest RAM.
	 */
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		fprintf(stderr, "stats: memory max_rss_kib=%ld heap_kib=%zu\n", ru.ru_maxrss,
			heap_bytes() / 1024);
}

/* The guest image, open on the host until it is placed in guest RAM. */
struct guest {
	struct raw_image img;
	struct kernel_image k;
	struct kernel_opts kopt;	/* how kernel_open_opts opens it */
	struct kernel_load_stats kst;	/* how it was loaded (--stats) */
	bool raw, have_kernel, k_open;
};

/*
 * Build the VM, load the guest, run it until it stops (again from scratch
 * on a reboot with --on-reboot=restart).  With an API, the VM is attached
 * to it while it runs.  Returns the exit status, or -1 if the VM could not
 * be built (the message in err_msg(), already told to the API).  Once the
 * VM has run, the console is closed (before the stop message is printed).
 */
static int run_vm(struct vm_config *cfg, const struct run_opts *o, struct guest *g,
		  struct console *con, struct api *api, uint64_t t0)
{
	struct vm *vm = NULL;
	int status;
	uint64_t first_out, run_end = 0;
	bool told = false, dropped = false;

	cfg->con = con;
	cfg->timing = api != NULL;
	for (;;) {
		int r = vm_create(&vm, cfg);

		if (r == 0 && g->have_kernel && !g->k_open) {	/* a restart reads them again */
			r = kernel_open_opts(&g->k, o->kernel, o->initrd,
					     o->cmdline ? o->cmdline : DEFAULT_CMDLINE, cfg->mem_size,
					     &g->kopt);
			g->k_open = r == 0;
		}
		if (r == 0)
			r = add_devices(vm, o);
		if (r == 0)
			r = load_guest(vm, g->raw ? &g->img : NULL, g->have_kernel ? &g->k : NULL,
				       api != NULL);
		if (g->k_open) {	/* in guest RAM now: free the host copy */
			g->kst = g->k.st;
			kernel_close(&g->k);
			g->k_open = false;
		}
		if (r == 0 && console_describe(con) && !told) {	/* once the VM exists */
			fprintf(stderr, "hyve: console on %s\n", console_describe(con));
			if (api)
				api_set_console(api, console_describe(con));
			told = true;
		}
		if (r == 0 && o->sandboxed && !dropped) {	/* everything is open: drop */
			/*
			 * A kernel-cache store thread writes by path as root:
			 * let it finish before --chroot/--user take that away
			 * (it would fail, and the cache would stay empty).
			 */
			if (o->sb.has_user || o->sb.chroot_dir)
				kernel_cache_wait();
			r = sandbox_drop_privileges();
			dropped = true;
		}
		if (r == 0 && api)
			api_booted(api, vm, NULL);
		if (r < 0 || vm_run(vm) < 0) {
			char msg[2048];

			snprintf(msg, sizeof(msg), "%s", err_msg());
			if (o->sandboxed)
				sandbox_abandon();	/* workers waiting at the gate may go */
			if (api && r < 0)
				api_booted(api, NULL, msg);
			api_detach(api);
			vm_destroy(vm);
			err_set(-EIO, "%s", msg);
			return -1;
		}
		run_end = mono_ns();
		api_detach(api);
		status = vm_stop_reason(vm);
		if (status != VM_RESET || !o->restart)
			break;
		vm_destroy(vm);	/* reboot: a new VM from scratch */
		vm = NULL;
		t0 = mono_ns();
	}
	first_out = console_first_output_ns(con);
	console_close(con);	/* flush and restore the tty before we print */
	vm_detach_console(vm);
	if (vm_stop_msg(vm)[0])
		fprintf(stderr, "hyve: %s\n", vm_stop_msg(vm));
	if (cfg->stats) {
		vm_print_stats(vm, stderr);
		pci_bus_print_stats(pci_bus_of(vm), stderr);
		print_boot_stats(vm, t0, first_out, run_end, g->have_kernel ? &g->kst : NULL);
	}
	vm_destroy(vm);
	return status;
}

static void install_fatal_handlers(void)
{
	signal(SIGPIPE, SIG_IGN);
	signal(SIGSEGV, fatal_signal);
	signal(SIGBUS, fatal_signal);
	signal(SIGABRT, fatal_signal);
}

static int cmd_run(int argc, char **argv, uint64_t t0)
{
	struct vm_config cfg = { .mem_size = 256ULL << 20, .ncpus = 1 };
	struct run_opts o = { 0 };
	struct guest g = { 0 };
	struct console *con = NULL;
	struct api *api = NULL;
	int status;

	status = parse_run(argc, argv, &cfg, &o);
	if (status)
		return status < 0 ? 0 : status;
	block_term_signals();		/* before the first thread exists */
	if (sandbox_setup(&o.sb) < 0)	/* before anything is opened */
		return fail(err_msg());
	o.sandboxed = true;
	if (!o.raw && !o.kernel && (status = find_guest_kit(&o)))
		return status;
	if (o.kernel && !o.force && (status = refuse_linux_here()))
		return status;
	if (o.raw && raw_open(o.raw, &g.img) < 0)
		return fail(err_msg());
	g.raw = o.raw != NULL;
	g.kopt = (struct kernel_opts){ .decompress = true, .cache = !o.no_kcache,
				       .cache_dir = o.kcache };
	if (o.kernel) {
		if (kernel_open_opts(&g.k, o.kernel, o.initrd, o.cmdline ? o.cmdline : DEFAULT_CMDLINE,
				     cfg.mem_size, &g.kopt) < 0)
			return fail(err_msg());
		g.have_kernel = g.k_open = true;
		cfg.irqchip = true;
		cfg.bios_ram = true;
	}
	install_fatal_handlers();
	if (o.api_sock && (api_open(&api, o.api_sock, NULL, false) < 0 || api_start(api) < 0)) {
		status = fail(err_msg());
		goto out;
	}
	if (console_open(&con, o.console) < 0) {
		status = fail(err_msg());
		goto out;
	}
	status = run_vm(&cfg, &o, &g, con, api, t0);
	if (status < 0) {
		console_close(con);
		status = fail(err_msg());
	}
	con = NULL;
out:
	kernel_cache_wait();	/* a new cache entry being written (long done, normally) */
	if (con)
		console_close(con);
	api_close(api);
	raw_free(&g.img);
	if (g.k_open)
		kernel_close(&g.k);
	return status;
}

/* ---- hyve fc: Firecracker's command line ---- */

static const char usage_fc[] =
"usage: hyve fc [--api-sock PATH] [--config-file FILE] [--no-api] [--id ID]\n"
"       (the same when hyve is run under the name `firecracker`)\n"
"\n"
"Serve Firecracker's API on the Unix socket PATH (default /run/firecracker.socket,\n"
"mode 0600) and boot the VM it configures on InstanceStart; with --config-file,\n"
"boot the VM described there (Firecracker's JSON) at once.  --no-api needs\n"
"--config-file.  The vCPU and device threads run under hyve's seccomp filters\n"
"(as `hyve run`; the API thread and the main thread have none yet), unless\n"
"--no-seccomp.  Accepted and ignored for jailer compatibility: --boot-timer,\n"
"--show-level, --show-log-origin, --level L, --start-time-us T,\n"
"--start-time-cpu-us T, --parent-cpu-time-us T.\n"
"The guest console is the serial port on stdin/stdout.\n";

enum { FC_API_SOCK = 512, FC_CONFIG, FC_NO_API, FC_ID, FC_VERSION, FC_NO_SECCOMP, FC_IGNORE,
       FC_IGNORE_ARG };

static const struct option fc_options[] = {
	{ "api-sock",		required_argument, NULL, FC_API_SOCK },
	{ "config-file",	required_argument, NULL, FC_CONFIG },
	{ "no-api",		no_argument,	   NULL, FC_NO_API },
	{ "id",			required_argument, NULL, FC_ID },
	{ "version",		no_argument,	   NULL, FC_VERSION },
	{ "boot-timer",		no_argument,	   NULL, FC_IGNORE },
	{ "no-seccomp",		no_argument,	   NULL, FC_NO_SECCOMP },
	{ "show-level",		no_argument,	   NULL, FC_IGNORE },
	{ "show-log-origin",	no_argument,	   NULL, FC_IGNORE },
	{ "level",		required_argument, NULL, FC_IGNORE_ARG },
	{ "start-time-us",	required_argument, NULL, FC_IGNORE_ARG },
	{ "start-time-cpu-us",	required_argument, NULL, FC_IGNORE_ARG },
	{ "parent-cpu-time-us",	required_argument, NULL, FC_IGNORE_ARG },
	{ "help",		no_argument,	   NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Turn the API's configuration into hyve's run options. */
static int fc_to_run(const struct fc_config *fc, struct vm_config *cfg, struct run_opts *o,
		     char devopts[][FC_PATH_MAX + 64])
{
	int n = 0;

	_Static_assert(FC_MAX_DRIVES + FC_MAX_IFACES + 1 <= MAX_DEVICES, "room for every fc device");
	memset(o, 0, sizeof(*o));
	cfg->mem_size = (uint64_t)fc->mem_mib << 20;
	cfg->ncpus = (int)fc->vcpus;
	cfg->irqchip = cfg->bios_ram = true;
	o->kernel = fc->kernel;
	o->initrd = fc->initrd;
	/* the root drive first: it is /dev/vda, as fc_cmdline's root= says;
	 * fc_drive_slot() gives the order (a media change finds its disk so) */
	for (int i = 0; i < fc->ndrives; i++) {
		const struct fc_drive *d = &fc->drives[i];
		int slot = fc_drive_slot(fc, i);

		if (strchr(d->path, ','))
			return err_set(-EINVAL, "drive %s: hyve cannot attach a path containing ','",
				       d->id);
		snprintf(devopts[slot], FC_PATH_MAX + 64, "path=%s%s%s%s", d->path,
			 d->ro ? ",ro" : "", strlen(d->id) <= 20 ? ",serial=" : "",
			 strlen(d->id) <= 20 ? d->id : "");
		snprintf(o->dev[slot].type, sizeof(o->dev[0].type), "virtio-blk");
		o->dev[slot].opts = devopts[slot];
	}
	o->ndev = n = fc->ndrives;
	for (int i = 0; i < fc->nifaces; i++) {	/* a tap each (Firecracker's only kind) */
		const struct fc_iface *f = &fc->ifaces[i];

		snprintf(devopts[n], FC_PATH_MAX + 64, "tap=%s%s%s", f->host_dev,
			 f->mac[0] ? ",mac=" : "", f->mac);
		snprintf(o->dev[o->ndev].type, sizeof(o->dev[0].type), "virtio-net");
		o->dev[o->ndev++].opts = devopts[n++];
	}
	if (fc->entropy) {
		snprintf(o->dev[o->ndev].type, sizeof(o->dev[0].type), "virtio-rng");
		o->dev[o->ndev++].opts = "";
	}
	return 0;
}

/* Block the termination signals (the API thread inherits the mask); and a
 * signalfd that reads them. */
static int block_signals(void)
{
	sigset_t set = block_term_signals();

	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static int cmd_fc(int argc, char **argv, uint64_t t0)
{
	const char *sock = "/run/firecracker.socket", *config = NULL, *id = NULL;
	static char devopts[FC_MAX_DRIVES + FC_MAX_IFACES][FC_PATH_MAX + 64];
	struct console *con = NULL;
	struct api *api = NULL;
	/* the API thread (not filtered yet) detaches and re-attaches the VM
	 * from the main thread's side: the main thread stays unfiltered too */
	struct sandbox_cfg sb = { .mode = SANDBOX_KILL, .main_unfiltered = true };
	bool no_api = false;
	int opt, status = VM_ERROR, sfd = -1;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":h", fc_options, NULL)) != -1) {
		switch (opt) {
		case FC_API_SOCK: sock = optarg; break;
		case FC_CONFIG: config = optarg; break;
		case FC_NO_API: no_api = true; break;
		case FC_ID:
			if (!*optarg || strlen(optarg) > FC_ID_MAX)
				return fail("--id: the id must be 1 to 64 characters");
			id = optarg;
			break;
		case FC_VERSION:
			printf("Firecracker v1.4.0 (hyve %s)\n", HYVE_VERSION);
			return 0;
		case FC_NO_SECCOMP: sb.mode = SANDBOX_OFF; break;
		case FC_IGNORE: case FC_IGNORE_ARG: break;
		case 'h':
			fputs(usage_fc, stdout);
			return 0;
		default:
			return fail_option("fc", opt, argv);
		}
	}
	if (optind < argc)
		return failf("unexpected argument '%s' (see hyve fc --help)", argv[optind]);
	if (no_api && !config)
		return fail("--no-api needs --config-file (nothing could configure the VM)");

	install_fatal_handlers();
	if (sandbox_setup(&sb) < 0)	/* before anything is opened: it closes inherited fds */
		return fail(err_msg());
	if ((sfd = block_signals()) < 0)
		return fail("cannot set up signal handling");
	if (api_open(&api, no_api ? NULL : sock, id, true) < 0 ||
	    (config && api_load_config(api, config) < 0) || api_start(api) < 0) {
		status = fail(err_msg());
		goto out;
	}
	if (console_open(&con, "stdio") < 0) {
		status = fail(err_msg());
		goto out;
	}
	for (bool first = true;; first = false) {
		struct vm_config cfg = { 0 };
		struct run_opts o;
		struct guest g = { 0 };
		char *cmdline = NULL;
		int r = 1;

		if (!(config && first) && (r = api_wait_start(api, sfd)) <= 0) {
			status = r == 0 ? VM_POWEROFF : fail(err_msg());
			break;
		}
		/* the API thread waits for api_booted(): the configuration is ours */
		const struct fc_config *fc = api_config(api);
		char why[1400];

		/* Firecracker has no --force: on a restricted KVM, InstanceStart fails */
		if (linux_refused(why, sizeof(why), "")) {
			api_booted(api, NULL, why);
			if (config && first) {
				status = fail(why);
				break;
			}
			continue;
		}
		cmdline = fc_cmdline(fc, DEFAULT_CMDLINE);
		if (!cmdline || fc_to_run(fc, &cfg, &o, devopts) < 0 ||
		    kernel_open(&g.k, fc->kernel, fc->initrd, cmdline, cfg.mem_size) < 0) {
			api_booted(api, NULL, cmdline ? err_msg() : "out of memory");
			free(cmdline);
			if (config && first) {
				status = fail(err_msg());
				break;
			}
			continue;
		}
		o.cmdline = cmdline;
		o.sb = sb;
		o.sandboxed = true;	/* run_vm opens the workers' gate */
		g.have_kernel = g.k_open = true;
		status = run_vm(&cfg, &o, &g, con, api, t0);
		free(cmdline);
		if (g.k_open)
			kernel_close(&g.k);
		if (status < 0 && !(config && first))
			continue;	/* told to the client; wait for another InstanceStart */
		if (status < 0)
			status = fail(err_msg());
		else
			con = NULL;
		break;
	}
out:
	kernel_cache_wait();	/* a new cache entry being written (long done, normally) */
	if (con)
		console_close(con);
	api_close(api);
	close_if_open(sfd);
	return status;
}

int hyve_ctl(int argc, char **argv);	/* ctl.c */

int main(int argc, char **argv)
{
	uint64_t t0 = mono_ns();
	char *name = argc > 0 ? basename(argv[0]) : "hyve";

	if (!strcmp(name, "firecracker"))	/* ln -s hyve firecracker */
		return cmd_fc(argc, argv, t0);
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1, t0);
	if (argc >= 2 && !strcmp(argv[1], "check-host"))
		return cmd_check_host(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "fc"))
		return cmd_fc(argc - 1, argv + 1, t0);
	if (argc >= 2 && !strcmp(argv[1], "ctl"))
		return hyve_ctl(argc - 1, argv + 1);
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
