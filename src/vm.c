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
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#define HYVE_VM_CORE
#include "console.h"
#include "cpu.h"
#include "dev.h"
#include "err.h"
#include "lock.h"
#include "sandbox.h"
#include "util.h"
#include "vcpu.h"
#include "vm_impl.h"

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
	return mem_gpa(&vm->mem, gpa, len);
}

bool vm_ram_overlaps(struct vm *vm, uint64_t gpa, uint64_t len)
{
	return mem_overlaps(&vm->mem, gpa, len);
}

const struct guest_mem *vm_memory(struct vm *vm)
{
	return &vm->mem;
}

uint64_t vm_mem_size(struct vm *vm)
{
	return vm->cfg.mem_size;
}

int vm_ncpus(struct vm *vm)
{
	return vm->ncpus;
}

bool vm_has_irqchip(struct vm *vm)
{
	return vm->cfg.irqchip;
}

struct pci_bus *vm_pci_bus(struct vm *vm)
{
	return vm->pci;
}

void vm_set_pci_bus(struct vm *vm, struct pci_bus *bus)
{
	vm->pci = bus;
}

struct vmm_vcpu *vm_bsp(struct vm *vm)
{
	return vm->ncpus > 0 ? &vm->vcpus[0].kvm : NULL;
}

enum vm_stop vm_stop_reason(struct vm *vm)
{
	return __atomic_load_n(&vm->stop, __ATOMIC_ACQUIRE);
}

const char *vm_stop_msg(struct vm *vm)
{
	return vm->stop_msg;
}

uint64_t vm_first_run_ns(struct vm *vm)
{
	return vm->first_run_ns;
}

void vm_detach_console(struct vm *vm)
{
	vm->con = NULL;
}

struct iobus *vm_iobus(struct vm *vm, bool pio)
{
	return pio ? &vm->pio : &vm->mmio;
}

void vm_request_stop(struct vm *vm, enum vm_stop why, const char *fmt, ...)
{
	bool first;

	lock(&vm->stop_lock, LOCK_VM_STOP);
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
	unlock(&vm->stop_lock, LOCK_VM_STOP);
	if (!first)
		return;
	lock(&vm->pause_lock, LOCK_VM_PAUSE);	/* parked vCPUs see the stop */
	pthread_cond_broadcast(&vm->pause_cond);
	unlock(&vm->pause_lock, LOCK_VM_PAUSE);
	for (int i = 0; i < vm->ncpus; i++)
		if (!pthread_equal(vm->vcpus[i].thread, pthread_self()))
			vcpu_kick(&vm->vcpus[i]);
	if (vm->stop_efd >= 0)
		efd_signal(vm->stop_efd);
}

bool vm_stopping(struct vm *vm)
{
	return __atomic_load_n(&vm->stop, __ATOMIC_ACQUIRE) != VM_RUNNING;
}

void vm_wait_stopped(struct vm *vm)
{
	lock(&vm->stop_lock, LOCK_VM_STOP);
	while (vm->stop == VM_RUNNING)
		pthread_cond_wait(&vm->stop_cond, &vm->stop_lock);
	unlock(&vm->stop_lock, LOCK_VM_STOP);
}

/*
 * The one constructor.  Without kvm: buses, guest RAM, vCPU slots, the stop
 * event and the console, no /dev/kvm and no devices (vm_create_nokvm).
 * With kvm, in between: the KVM VM (opened first: its error is the one a
 * host without KVM must print), irqchip, memory slots and vCPUs; then
 * every declared device.
 */
static int vm_build(struct vm **out, const struct vm_config *cfg, bool kvm)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	int r;

	*out = NULL;
	if (!vm)
		return err_set(-ENOMEM, "out of memory");
	vm->cfg = *cfg;
	vm->stop = VM_RUNNING;
	vm->stop_efd = -1;
	vmm_init(&vm->vmm);
	pthread_mutex_init(&vm->stop_lock, NULL);
	pthread_cond_init(&vm->stop_cond, NULL);
	pthread_mutex_init(&vm->drain_lock, NULL);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	iobus_init(&vm->pio, "pio", 0x10000, 4);
	iobus_init(&vm->mmio, "mmio", 0, 8);
	vm->pio.timing = vm->mmio.timing = cfg->stats || cfg->timing;

	if (kvm) {
		const char *dev = getenv("HYVE_KVM_DEVICE");
		if ((r = vmm_create(&vm->vmm, dev && *dev ? dev : "/dev/kvm")) < 0)
			goto fail;
		if (cfg->irqchip && (r = vmm_create_irqchip(&vm->vmm, cfg->legacy)) < 0)
			goto fail;
	}
	if ((r = mem_init(&vm->mem, cfg->mem_size, cfg->bios_ram)) < 0)
		goto fail;
	for (int i = 0; kvm && i < vm->mem.n; i++) {
		const struct mem_region *m = &vm->mem.r[i];
		if ((r = vmm_set_memory(&vm->vmm, i, m->gpa, m->size, m->host)) < 0)
			goto fail;
	}

	vm->vcpus = calloc(cfg->ncpus > 0 ? cfg->ncpus : 1, sizeof(*vm->vcpus));
	if (!vm->vcpus) {
		r = err_set(-ENOMEM, "out of memory");
		goto fail;
	}
	for (int i = 0; i < cfg->ncpus; i++) {
		vm->vcpus[i].vm = vm;
		vm->vcpus[i].id = i;
		vm->vcpus[i].kvm.fd = -1;
		vm->vcpus[i].kvm.id = i;
		if (kvm && (r = vmm_vcpu_create(&vm->vmm, i, &vm->vcpus[i].kvm)) < 0)
			goto fail;
		vm->ncpus++;
	}
	if (kvm) {	/* every guest sees a real CPUID (long mode needs it) */
		struct kvm_cpuid2 *supported;

		if ((r = vmm_supported_cpuid(&vm->vmm, &supported)) < 0)
			goto fail;
		for (int i = 0; i < vm->ncpus && r == 0; i++)
			r = cpu_setup(&vm->vmm, &vm->vcpus[i], vm->ncpus, cfg->irqchip,
				      supported);
		free(supported);
		if (r < 0)
			goto fail;
	}

	vm->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_efd < 0) {
		r = err_set(-errno, "eventfd: %s", strerror(errno));
		goto fail;
	}
	vm->con = cfg->con;
	if (vm->con)
		console_mark(vm->con);
	if (kvm && (r = devices_init(vm)) < 0)
		goto fail;
	*out = vm;
	return 0;
fail:
	vm_destroy(vm);
	return r;
}

int vm_create(struct vm **out, const struct vm_config *cfg)
{
	return vm_build(out, cfg, true);
}

int vm_create_nokvm(struct vm **out, const struct vm_config *cfg)
{
	return vm_build(out, cfg, false);
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
				console_try_flush(vm->con);
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
	/* filter this thread too, then let the vCPUs into the guest */
	if (sandbox_enter_main() < 0)
		vm_request_stop(vm, VM_ERROR, "%s", err_msg());
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
	close_if_open(sfd);
	close_if_open(tfd);
	return r;
}

/* Press a button a device registered: -ENOTSUP if none did, or without
 * the in-kernel irqchip (raw images). */
static int vm_fire_hook(struct vm *vm, const struct vm_hook *h)
{
	if (!h->fn || !vm->cfg.irqchip)
		return -ENOTSUP;
	h->fn(h->arg);
	return 0;
}

void vm_set_power_button(struct vm *vm, void (*fn)(void *arg), void *arg)
{
	vm->power_button = (struct vm_hook){ fn, arg };
}

int vm_power_button(struct vm *vm)
{
	return vm_fire_hook(vm, &vm->power_button);
}

void vm_set_ctrl_alt_del(struct vm *vm, void (*fn)(void *arg), void *arg)
{
	vm->ctrl_alt_del = (struct vm_hook){ fn, arg };
}

int vm_ctrl_alt_del(struct vm *vm)
{
	return vm_fire_hook(vm, &vm->ctrl_alt_del);
}

void vm_pause(struct vm *vm)
{
	lock(&vm->pause_lock, LOCK_VM_PAUSE);
	vm->pause_req = true;
	unlock(&vm->pause_lock, LOCK_VM_PAUSE);
	for (int i = 0; i < vm->ncpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	lock(&vm->pause_lock, LOCK_VM_PAUSE);
	while (vm->nparked < vm->nloop && !vm_stopping(vm))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	unlock(&vm->pause_lock, LOCK_VM_PAUSE);
}

void vm_resume(struct vm *vm)
{
	lock(&vm->pause_lock, LOCK_VM_PAUSE);
	vm->pause_req = false;
	pthread_cond_broadcast(&vm->pause_cond);
	unlock(&vm->pause_lock, LOCK_VM_PAUSE);
}

bool vm_paused(struct vm *vm)
{
	return __atomic_load_n(&vm->pause_req, __ATOMIC_ACQUIRE);
}

/*
 * Live (the API thread, vCPUs running): the snapshot is held in a read
 * section while the visitor formats its ranges, so a BAR moved meanwhile
 * cannot free it (iobus.h).
 */
static void vm_visit_bus(const struct iobus *bus, const struct vm_stats_ops *ops, void *arg)
{
	iobus_read_lock();
	const struct io_table *t = iobus_table(bus);

	for (int i = 0; ops->range && i < t->n; i++)
		ops->range(arg, bus->name, &t->r[i]);
	iobus_read_unlock();
	if (ops->unclaimed)
		ops->unclaimed(arg, bus->name, __atomic_load_n(&bus->unclaimed_reads, __ATOMIC_RELAXED),
			       __atomic_load_n(&bus->unclaimed_writes, __ATOMIC_RELAXED));
}

void vm_stats_visit(struct vm *vm, const struct vm_stats_ops *ops, void *arg)
{
	for (int slot = 0; ops->exit && slot <= VCPU_NR_EXITS; slot++) {
		uint64_t n = 0, ns = 0, hist[IO_HIST_BUCKETS] = { 0 };

		for (int i = 0; i < vm->ncpus; i++) {
			n += __atomic_load_n(&vm->vcpus[i].exits[slot], __ATOMIC_RELAXED);
			ns += __atomic_load_n(&vm->vcpus[i].exit_ns[slot], __ATOMIC_RELAXED);
			for (int b = 0; b < IO_HIST_BUCKETS; b++)
				hist[b] += __atomic_load_n(&vm->vcpus[i].exit_hist[slot][b],
							   __ATOMIC_RELAXED);
		}
		if (n)
			ops->exit(arg, slot < VCPU_NR_EXITS ? vcpu_exit_name(slot) : "OTHER", n, ns, hist);
	}
	vm_visit_bus(&vm->pio, ops, arg);
	vm_visit_bus(&vm->mmio, ops, arg);
}

static void vm_stats_bus(const struct iobus *bus, FILE *f)
{
	const struct io_table *t = iobus_table(bus);

	for (int i = 0; i < t->n; i++) {
		const struct io_range *r = &t->r[i];
		fprintf(f, "stats: %s %s 0x%llx-0x%llx reads=%llu writes=%llu us=%llu\n",
			bus->name, r->name, (unsigned long long)r->base,
			(unsigned long long)(r->base + r->len - 1),
			(unsigned long long)r->st->reads, (unsigned long long)r->st->writes,
			(unsigned long long)(r->st->ns / 1000));
	}
	fprintf(f, "stats: %s unclaimed reads=%llu writes=%llu\n", bus->name,
		(unsigned long long)bus->unclaimed_reads,
		(unsigned long long)bus->unclaimed_writes);
	for (int i = 0; i < bus->nseen; i++)
		fprintf(f, "stats: %s unclaimed 0x%llx count=%llu\n", bus->name,
			(unsigned long long)bus->seen[i].addr,
			(unsigned long long)bus->seen[i].count);
}

bool vm_has_pit(struct vm *vm)
{
	return vm->cfg.irqchip && vm->cfg.legacy;
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
	if (!vm)
		return;
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
	vmm_destroy(&vm->vmm);
	mem_fini(&vm->mem);
	close_if_open(vm->stop_efd);
	iobus_destroy(&vm->pio);
	iobus_destroy(&vm->mmio);
	pthread_mutex_destroy(&vm->drain_lock);
	pthread_cond_destroy(&vm->stop_cond);
	pthread_mutex_destroy(&vm->stop_lock);
	free(vm);
}
