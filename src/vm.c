/*
 * vm.c - build a VM (guest RAM, KVM VM, buses, console, devices, vCPUs), run
 * it until something stops it, and tear it down.
 *
 * The main thread runs a small event loop while the vCPU threads run the
 * guest: console input, a 10 ms tick that replays coalesced writes and
 * flushes console output, termination signals, and the stop event.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "console.h"
#include "cpu.h"
#include "dev.h"
#include "err.h"
#include "vcpu.h"
#include "vm.h"

#define VM_TICK_NS	10000000L	/* 10 ms: bound on console output delay */

int vm_register_pio(struct vm *vm, const char *name, uint16_t port,
		    uint16_t len, unsigned flags, io_handler_fn fn, void *arg)
{
	return iobus_register(&vm->pio, name, port, len, flags, fn, arg);
}

int vm_register_mmio(struct vm *vm, const char *name, uint64_t gpa,
		     uint64_t len, unsigned flags, io_handler_fn fn, void *arg)
{
	return iobus_register(&vm->mmio, name, gpa, len, flags, fn, arg);
}

struct console *vm_console(struct vm *vm)
{
	return vm->con;
}

int vm_on_destroy(struct vm *vm, void (*fn)(void *arg), void *arg)
{
	if (vm->nfini == (int)(sizeof(vm->fini) / sizeof(vm->fini[0])))
		return err_set(-ENOSPC, "too many devices");
	vm->fini[vm->nfini].fn = fn;
	vm->fini[vm->nfini].arg = arg;
	vm->nfini++;
	return 0;
}

int vm_coalesce_pio(struct vm *vm, uint16_t port, uint16_t len)
{
	return vmm_coalesce(&vm->vmm, port, len, true);
}

int vm_uncoalesce_pio(struct vm *vm, uint16_t port, uint16_t len)
{
	return vmm_uncoalesce(&vm->vmm, port, len, true);
}

int vm_unregister_pio(struct vm *vm, uint16_t port)
{
	return iobus_unregister(&vm->pio, port);
}

int vm_unregister_mmio(struct vm *vm, uint64_t gpa)
{
	return iobus_unregister(&vm->mmio, gpa);
}

int vm_ioeventfd(struct vm *vm, uint64_t addr, uint32_t len, bool pio,
		 int64_t datamatch, int fd, bool deassign)
{
	return vmm_ioeventfd(&vm->vmm, addr, len, pio, datamatch, fd, deassign);
}

int vm_irqfd(struct vm *vm, unsigned gsi, int fd, bool deassign)
{
	return vmm_irqfd(&vm->vmm, gsi, fd, deassign);
}

int vm_alloc_msi_gsi(struct vm *vm, unsigned *gsi)
{
	uint32_t g;
	int r = vmm_alloc_gsi(&vm->vmm, &g);

	if (r == 0)
		*gsi = g;
	return r;
}

int vm_route_msi(struct vm *vm, unsigned gsi, uint64_t addr, uint32_t data, bool masked)
{
	return vmm_route_msi(&vm->vmm, gsi, addr, data, masked);
}

int vm_irq_line(struct vm *vm, unsigned gsi, bool level)
{
	if (!vm->cfg.irqchip)
		return 0;
	return vmm_irq_line(&vm->vmm, gsi, level);
}

void *vm_gpa(struct vm *vm, uint64_t gpa, uint64_t len)
{
	for (int i = 0; i < vm->nmem; i++) {
		const struct mem_region *m = &vm->mem[i];

		/* gpa - m->gpa cannot underflow; compare lengths, not ends. */
		if (gpa >= m->gpa && gpa - m->gpa <= m->size &&
		    len <= m->size - (gpa - m->gpa))
			return m->host + (gpa - m->gpa);
	}
	return NULL;
}

void vm_request_stop(struct vm *vm, enum vm_stop why, const char *fmt, ...)
{
	bool first;

	pthread_mutex_lock(&vm->stop_lock);
	first = vm->stop == VM_RUNNING;
	if (first) {
		if (fmt) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(vm->stop_msg, sizeof(vm->stop_msg), fmt, ap);
			va_end(ap);
		}
		__atomic_store_n(&vm->stop, why, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&vm->stop_cond);
	}
	pthread_mutex_unlock(&vm->stop_lock);
	if (!first)
		return;
	for (int i = 0; i < vm->ncpus; i++)
		if (!pthread_equal(vm->vcpus[i].thread, pthread_self()))
			vcpu_kick(&vm->vcpus[i]);
	if (vm->stop_efd >= 0) {
		uint64_t one = 1;
		ssize_t n = write(vm->stop_efd, &one, sizeof(one));
		(void)n;
	}
}

bool vm_stopping(struct vm *vm)
{
	return __atomic_load_n(&vm->stop, __ATOMIC_ACQUIRE) != VM_RUNNING;
}

void vm_wait_stopped(struct vm *vm)
{
	pthread_mutex_lock(&vm->stop_lock);
	while (vm->stop == VM_RUNNING)
		pthread_cond_wait(&vm->stop_cond, &vm->stop_lock);
	pthread_mutex_unlock(&vm->stop_lock);
}

/* Reserve guest RAM and lay it out like a PC: low, high, above 4 GiB. */
static int vm_setup_memory(struct vm *vm)
{
	uint64_t size = vm->cfg.mem_size;
	uint64_t below4g = size < GUEST_PCI_HOLE ? size : GUEST_PCI_HOLE;

	/*
	 * 2 MiB-aligned, so guest-physical and host-virtual addresses agree
	 * modulo 2 MiB and KVM can map guest RAM with 2 MiB pages: unaligned,
	 * every 4 KiB the guest first touches costs a nested page fault (about
	 * 20x more exits in a Linux boot, measured).
	 */
	const size_t align = 2u << 20;
	uint8_t *raw = mmap(NULL, size + align, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED) {
		vm->ram = NULL;
		return err_set(-errno, "cannot reserve %llu MiB of guest memory: %s",
			       (unsigned long long)(size >> 20), strerror(errno));
	}
	vm->ram = (uint8_t *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
	if (vm->ram > raw)
		munmap(raw, vm->ram - raw);
	if (raw + size + align > vm->ram + size)
		munmap(vm->ram + size, (raw + size + align) - (vm->ram + size));
	madvise(vm->ram, size, MADV_HUGEPAGE);	/* where THP is "madvise" */
	vm->nmem = 0;
	vm->mem[vm->nmem++] = (struct mem_region){ 0, below4g < GUEST_LOW_END ?
						   below4g : GUEST_LOW_END, vm->ram };
	if (vm->cfg.bios_ram && below4g >= GUEST_HIGH_START)
		vm->mem[vm->nmem++] = (struct mem_region){ GUEST_ROM_START,
			GUEST_HIGH_START - GUEST_ROM_START, vm->ram + GUEST_ROM_START };
	if (below4g > GUEST_HIGH_START)
		vm->mem[vm->nmem++] = (struct mem_region){ GUEST_HIGH_START,
			below4g - GUEST_HIGH_START, vm->ram + GUEST_HIGH_START };
	if (size > GUEST_PCI_HOLE)
		vm->mem[vm->nmem++] = (struct mem_region){ GUEST_4G,
			size - GUEST_PCI_HOLE, vm->ram + GUEST_PCI_HOLE };
	for (int i = 0; i < vm->nmem; i++) {
		int r = vmm_set_memory(&vm->vmm, i, vm->mem[i].gpa, vm->mem[i].size,
				       vm->mem[i].host);
		if (r < 0)
			return r;
	}
	return 0;
}

int vm_create(struct vm *vm, const struct vm_config *cfg)
{
	int r;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = *cfg;
	vm->stop = VM_RUNNING;
	vm->stop_efd = -1;
	vm->vmm.kvm_fd = vm->vmm.vm_fd = -1;
	pthread_mutex_init(&vm->stop_lock, NULL);
	pthread_cond_init(&vm->stop_cond, NULL);
	pthread_mutex_init(&vm->drain_lock, NULL);
	iobus_init(&vm->pio, "pio", 0x10000, 4);
	iobus_init(&vm->mmio, "mmio", 0, 8);
	vm->pio.timing = vm->mmio.timing = cfg->stats;

	const char *dev = getenv("HYVE_KVM_DEVICE");
	if ((r = vmm_create(&vm->vmm, dev && *dev ? dev : "/dev/kvm")) < 0)
		return r;
	if (cfg->irqchip && (r = vmm_create_irqchip(&vm->vmm)) < 0)
		return r;
	if ((r = vm_setup_memory(vm)) < 0)
		return r;

	vm->vcpus = calloc(cfg->ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return err_set(-ENOMEM, "out of memory");
	for (int i = 0; i < cfg->ncpus; i++) {
		vm->vcpus[i].vm = vm;
		vm->vcpus[i].id = i;
		if ((r = vmm_vcpu_create(&vm->vmm, i, &vm->vcpus[i].kvm)) < 0)
			return r;
		vm->ncpus++;
	}
	{	/* every guest sees a real CPUID (long mode needs it) */
		struct kvm_cpuid2 *supported;

		if ((r = vmm_supported_cpuid(&vm->vmm, &supported)) < 0)
			return r;
		for (int i = 0; i < vm->ncpus && r == 0; i++)
			r = cpu_setup(vm, &vm->vcpus[i], supported);
		free(supported);
		if (r < 0)
			return r;
	}

	vm->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_efd < 0)
		return err_set(-errno, "eventfd: %s", strerror(errno));
	vm->con = cfg->con;
	console_mark(vm->con);
	return devices_init(vm);
}

/* The main loop: returns once the VM has been asked to stop. */
static void vm_loop(struct vm *vm, int sfd, int tfd)
{
	while (!vm_stopping(vm)) {
		struct pollfd p[4] = {
			{ .fd = vm->stop_efd, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = tfd, .events = POLLIN },
			{ .fd = console_input_fd(vm->con), .events = POLLIN },
		};

		if (poll(p, 4, -1) < 0 && errno != EINTR) {
			vm_request_stop(vm, VM_ERROR, "poll: %s", strerror(errno));
			break;
		}
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si))
				vm_request_stop(vm, VM_ERROR, "terminated by signal %s",
						sigabbrev_np(si.ssi_signo));
		}
		if (p[2].revents & POLLIN) {
			uint64_t ticks;
			if (read(tfd, &ticks, sizeof(ticks)) > 0) {
				vm_drain_coalesced(vm);
				console_flush(vm->con);
			}
		}
		if (p[3].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (console_input_ready(vm->con))
				vm_request_stop(vm, VM_ERROR, "quit (Ctrl-A x)");
		}
	}
}

int vm_run(struct vm *vm)
{
	struct itimerspec tick = {
		.it_interval = { 0, VM_TICK_NS }, .it_value = { 0, VM_TICK_NS },
	};
	sigset_t set;
	int sfd, tfd, r = 0;

	/* Termination signals arrive as events; vCPU threads inherit the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (sfd < 0 || tfd < 0 || timerfd_settime(tfd, 0, &tick, NULL) < 0) {
		r = err_set(-errno, "cannot set up the event loop: %s", strerror(errno));
		goto out;
	}
	for (int i = 0; i < vm->ncpus; i++) {
		if ((r = vcpu_start(&vm->vcpus[i])) < 0) {
			vm_request_stop(vm, VM_ERROR, "%s", err_msg());
			break;
		}
	}
	vm_loop(vm, sfd, tfd);
	for (int i = 0; i < vm->ncpus; i++) {
		if (vm->vcpus[i].started) {
			vcpu_kick(&vm->vcpus[i]);
			pthread_join(vm->vcpus[i].thread, NULL);
			vm->vcpus[i].started = false;
		}
	}
	vm_drain_coalesced(vm);
	console_flush(vm->con);
	r = 0;
out:
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	return r;
}

static void vm_stats_bus(const struct iobus *bus, FILE *f)
{
	const struct io_table *t = iobus_table(bus);

	for (int i = 0; i < t->n; i++) {
		const struct io_range *r = &t->r[i];
		fprintf(f, "stats: %s %s 0x%llx-0x%llx reads=%llu writes=%llu us=%llu\n",
			bus->name, r->name, (unsigned long long)r->base,
			(unsigned long long)(r->base + r->len - 1),
			(unsigned long long)r->reads, (unsigned long long)r->writes,
			(unsigned long long)(r->ns / 1000));
	}
	fprintf(f, "stats: %s unclaimed reads=%llu writes=%llu\n", bus->name,
		(unsigned long long)bus->unclaimed_reads,
		(unsigned long long)bus->unclaimed_writes);
	for (int i = 0; i < bus->nseen; i++)
		fprintf(f, "stats: %s unclaimed 0x%llx count=%llu\n", bus->name,
			(unsigned long long)bus->seen[i].addr,
			(unsigned long long)bus->seen[i].count);
}

void vm_print_stats(struct vm *vm, FILE *f)
{
	for (int slot = 0; slot <= VCPU_NR_EXITS; slot++) {
		uint64_t n = 0, ns = 0;

		for (int i = 0; i < vm->ncpus; i++) {
			n += vm->vcpus[i].exits[slot];
			ns += vm->vcpus[i].exit_ns[slot];
		}
		if (n)
			fprintf(f, "stats: exit %s count=%llu us=%llu\n",
				slot < VCPU_NR_EXITS ? vcpu_exit_name(slot) : "OTHER",
				(unsigned long long)n, (unsigned long long)(ns / 1000));
	}
	vm_stats_bus(&vm->pio, f);
	vm_stats_bus(&vm->mmio, f);
}

void vm_destroy(struct vm *vm)
{
	while (vm->nfini > 0) {
		vm->nfini--;
		vm->fini[vm->nfini].fn(vm->fini[vm->nfini].arg);
	}
	if (vm->con) {
		console_flush(vm->con);
		console_clear_listeners(vm->con);
		vm->con = NULL;
	}
	for (int i = 0; i < vm->ncpus; i++)
		vmm_vcpu_destroy(&vm->vmm, &vm->vcpus[i].kvm);
	free(vm->vcpus);
	vm->vcpus = NULL;
	vm->ncpus = 0;
	vmm_destroy(&vm->vmm);
	if (vm->ram)
		munmap(vm->ram, vm->cfg.mem_size);
	vm->ram = NULL;
	if (vm->stop_efd >= 0)
		close(vm->stop_efd);
	vm->stop_efd = -1;
	iobus_destroy(&vm->pio);
	iobus_destroy(&vm->mmio);
}
