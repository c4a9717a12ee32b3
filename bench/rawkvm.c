/*
 * rawkvm.c - the smallest useful KVM loop, the baseline for bench/exit-cost.
 *
 *   rawkvm [-c PORT] [-C] [-v] IMAGE
 *
 * Opens /dev/kvm, creates a VM with 1 MiB of RAM at guest-physical 0 and one
 * vCPU, loads the raw image IMAGE at 0x7C00 and starts it in real mode at
 * 0000:7C00 with interrupts off (CS=DS=ES=SS=0, SP=0x7C00, DL=0x80: the state
 * hyve's --raw loader gives).  Then it loops on KVM_RUN:
 *
 *   KVM_EXIT_IO                continue (OUT data is dropped, IN reads 0)
 *   KVM_EXIT_HLT               exit status 0
 *   KVM_EXIT_SHUTDOWN          exit status 3 (triple fault)
 *   anything else              a message, exit status 4
 *
 * No in-kernel irqchip, so HLT reaches user space, as in hyve.
 * -c PORT registers PORT as a coalesced PIO zone (KVM_REGISTER_COALESCED_MMIO
 * with pio=1), as hyve does for its POST port and bvmcons; the ring is emptied
 * (entries discarded) whenever the loop sees an exit.
 * -C gives the vCPU the host's whole KVM_GET_SUPPORTED_CPUID (by default it
 * has no CPUID at all), to see whether a VMM's CPUID changes the exit cost.
 * -v prints the number of exits per reason and the time spent in the loop
 * (first KVM_RUN to the final exit) on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define RAM_SIZE	(1UL << 20)
#define LOAD_ADDR	0x7c00UL

static void die(const char *what)
{
	fprintf(stderr, "rawkvm: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	int kvm, vm, vcpu, fd, opt, verbose = 0, cpuid = 0, coalesce = -1, run_size, status;
	struct kvm_coalesced_mmio_ring *ring = NULL;
	unsigned ring_max = 0;
	unsigned long long exits[64] = { 0 }, coalesced = 0;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_run *run;
	uint8_t *ram;
	ssize_t n;
	uint64_t t0, t1;

	while ((opt = getopt(argc, argv, "c:Cv")) != -1) {
		switch (opt) {
		case 'c': coalesce = (int)strtol(optarg, NULL, 0); break;
		case 'C': cpuid = 1; break;
		case 'v': verbose = 1; break;
		default: goto usage;
		}
	}
	if (optind != argc - 1) {
usage:
		fprintf(stderr, "usage: rawkvm [-c PORT] [-C] [-v] IMAGE\n");
		return 1;
	}

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("/dev/kvm");
	if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		fprintf(stderr, "rawkvm: unexpected KVM API version\n");
		return 1;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	if (ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0)
		die("KVM_SET_TSS_ADDR");

	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram == MAP_FAILED)
		die("mmap guest RAM");
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = RAM_SIZE,
		.userspace_addr = (uintptr_t)ram,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("KVM_SET_USER_MEMORY_REGION");

	fd = open(argv[optind], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(argv[optind]);
	n = read(fd, ram + LOAD_ADDR, RAM_SIZE - LOAD_ADDR);
	if (n <= 0)
		die("read image");
	close(fd);

	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(*run))
		die("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");

	if (coalesce >= 0) {
		int page = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_PIO) > 0 ?
			   ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO) : 0;
		struct kvm_coalesced_mmio_zone zone = {
			.addr = (uint64_t)coalesce, .size = 1, .pio = 1,
		};

		if (page <= 0 || (long)(page + 1) * getpagesize() > run_size) {
			fprintf(stderr, "rawkvm: no coalesced PIO here\n");
			return 1;
		}
		if (ioctl(vm, KVM_REGISTER_COALESCED_MMIO, &zone) < 0)
			die("KVM_REGISTER_COALESCED_MMIO");
		ring = (void *)((char *)run + (long)page * getpagesize());
		ring_max = (getpagesize() - sizeof(*ring)) / sizeof(struct kvm_coalesced_mmio);
	}

	if (cpuid) {
		int nent = 256;
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

		if (!c)
			die("calloc");
		c->nent = nent;
		if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c) < 0)
			die("KVM_GET_SUPPORTED_CPUID");
		if (ioctl(vcpu, KVM_SET_CPUID2, c) < 0)
			die("KVM_SET_CPUID2");
		free(c);
	}

	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS");
	sregs.cs.selector = sregs.ds.selector = sregs.es.selector = 0;
	sregs.fs.selector = sregs.gs.selector = sregs.ss.selector = 0;
	sregs.cs.base = sregs.ds.base = sregs.es.base = 0;
	sregs.fs.base = sregs.gs.base = sregs.ss.base = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		die("KVM_SET_SREGS");
	memset(&regs, 0, sizeof(regs));
	regs.rip = LOAD_ADDR;
	regs.rsp = LOAD_ADDR;
	regs.rdx = 0x80;
	regs.rflags = 0x2;
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");

	t0 = now_ns();
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die("KVM_RUN");
		}
		if (ring) {
			while (ring->first != __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE)) {
				ring->first = (ring->first + 1) % ring_max;
				coalesced++;
			}
		}
		exits[run->exit_reason & 63]++;
		if (run->exit_reason == KVM_EXIT_IO) {
			if (run->io.direction == KVM_EXIT_IO_IN)
				memset((char *)run + run->io.data_offset, 0,
				       (size_t)run->io.size * run->io.count);
			continue;
		}
		if (run->exit_reason == KVM_EXIT_HLT) {
			status = 0;
		} else if (run->exit_reason == KVM_EXIT_SHUTDOWN) {
			status = 3;
		} else {
			fprintf(stderr, "rawkvm: exit reason %u (internal suberror %u)\n",
				run->exit_reason, run->internal.suberror);
			status = 4;
		}
		break;
	}
	t1 = now_ns();
	if (verbose) {
		fprintf(stderr, "rawkvm: loop %llu ns, exits:", (unsigned long long)(t1 - t0));
		for (int i = 0; i < 64; i++)
			if (exits[i])
				fprintf(stderr, " %d=%llu", i, exits[i]);
		if (ring)
			fprintf(stderr, ", coalesced %llu", coalesced);
		fprintf(stderr, "\n");
	}
	return status;
}
