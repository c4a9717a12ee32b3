/*
 * vcpu.c - the exit loop.  Each vCPU thread enters the guest with KVM_RUN;
 * when the guest exits, the exit reason indexes vcpu_exit_handlers[], and
 * the handler emulates the access (port I/O and MMIO go to the buses in
 * iobus.c, which call the device) and says whether to continue.
 *
 *   KVM_RUN -> vcpu_exit_handlers[exit_reason] -> exit_io -> iobus_access
 *           -> the device's io_handler_fn -> (IN: value back into kvm_run)
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "console.h"
#include "err.h"
#include "sandbox.h"
#include "util.h"
#define HYVE_VM_CORE
#include "lock.h"
#include "vcpu.h"
#include "vm_impl.h"

#define SIG_KICK SIGUSR1

static const char *const exit_names[VCPU_NR_EXITS] = {
	[KVM_EXIT_UNKNOWN] = "UNKNOWN", [KVM_EXIT_EXCEPTION] = "EXCEPTION",
	[KVM_EXIT_IO] = "IO", [KVM_EXIT_HYPERCALL] = "HYPERCALL",
	[KVM_EXIT_DEBUG] = "DEBUG", [KVM_EXIT_HLT] = "HLT",
	[KVM_EXIT_MMIO] = "MMIO", [KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
	[KVM_EXIT_SHUTDOWN] = "SHUTDOWN", [KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
	[KVM_EXIT_INTR] = "INTR", [KVM_EXIT_SET_TPR] = "SET_TPR",
	[KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS", [KVM_EXIT_NMI] = "NMI",
	[KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR", [KVM_EXIT_OSI] = "OSI",
	[KVM_EXIT_WATCHDOG] = "WATCHDOG", [KVM_EXIT_EPR] = "EPR",
	[KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT", [KVM_EXIT_IOAPIC_EOI] = "IOAPIC_EOI",
	[KVM_EXIT_HYPERV] = "HYPERV", [KVM_EXIT_X86_RDMSR] = "X86_RDMSR",
	[KVM_EXIT_X86_WRMSR] = "X86_WRMSR", [KVM_EXIT_DIRTY_RING_FULL] = "DIRTY_RING_FULL",
	[KVM_EXIT_AP_RESET_HOLD] = "AP_RESET_HOLD", [KVM_EXIT_X86_BUS_LOCK] = "X86_BUS_LOCK",
};

const char *vcpu_exit_name(unsigned reason)
{
	if (reason < VCPU_NR_EXITS && exit_names[reason])
		return exit_names[reason];
	return "unknown";
}

/* Append "rip ... and a register dump" of this vCPU to buf. */
static void vcpu_dump(struct vcpu *vcpu, char *buf, size_t len)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (vmm_get_regs(&vcpu->kvm, &r) < 0 || vmm_get_sregs(&vcpu->kvm, &s) < 0) {
		snprintf(buf, len, "(registers unavailable: %s)", err_msg());
		return;
	}
	snprintf(buf, len,
		 "at rip 0x%llx (cs 0x%x base 0x%llx) on vCPU %d\n"
		 "  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n"
		 "  rsi %016llx rdi %016llx rsp %016llx rbp %016llx\n"
		 "  r8  %016llx r9  %016llx r10 %016llx r11 %016llx\n"
		 "  r12 %016llx r13 %016llx r14 %016llx r15 %016llx\n"
		 "  rflags %08llx cr0 %08llx cr3 %016llx cr4 %08llx efer %llx",
		 r.rip, s.cs.selector, s.cs.base, vcpu->id,
		 r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rsp, r.rbp,
		 r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15,
		 r.rflags, s.cr0, s.cr3, s.cr4, s.efer);
}

/* Stop the VM for a guest-caused fatal condition, with a register dump. */
static enum vm_stop vcpu_fatal(struct vcpu *vcpu, enum vm_stop why, const char *what)
{
	char dump[1024];

	vcpu_dump(vcpu, dump, sizeof(dump));
	vm_request_stop(vcpu->vm, why, "%s %s", what, dump);
	return why;
}

static const char io_suffix[9] = { [1] = 'b', [2] = 'w', [4] = 'l', [8] = 'q' };

/* KVM_EXIT_IO: port I/O, possibly a string (REP INS/OUTS) of count elements. */
static enum vm_stop exit_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->kvm.run;
	struct vm *vm = vcpu->vm;
	unsigned size = run->io.size, count = run->io.count;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	char what[64];

	/* KVM fills these, but the data must stay inside the mapping. */
	if ((size != 1 && size != 2 && size != 4) || count == 0 ||
	    run->io.data_offset >= (uint64_t)vm->vmm.run_size ||
	    (uint64_t)size * count > vm->vmm.run_size - run->io.data_offset) {
		snprintf(what, sizeof(what), "malformed KVM_EXIT_IO (size %u count %u)", size, count);
		return vcpu_fatal(vcpu, VM_ERROR, what);
	}
	for (unsigned i = 0; i < count; i++, data += size) {
		uint64_t val = 0;

		if (out)
			memcpy(&val, data, size);
		if (iobus_access(&vm->pio, out, run->io.port, size, &val) < 0 &&
		    vm->cfg.strict_io) {
			vm_request_stop(vm, VM_GUEST_FATAL, "unhandled %s%c 0x%x",
					out ? "out" : "in", io_suffix[size], run->io.port);
			return VM_GUEST_FATAL;
		}
		if (!out)
			memcpy(data, &val, size);
	}
	return VM_RUNNING;
}

/* KVM_EXIT_MMIO: one access of 1..8 bytes to a guest-physical address. */
static enum vm_stop exit_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->kvm.run;
	struct vm *vm = vcpu->vm;
	unsigned len = run->mmio.len;
	bool write = run->mmio.is_write;
	uint64_t val = 0;

	if (len == 0 || len > 8)
		return vcpu_fatal(vcpu, VM_ERROR, "malformed KVM_EXIT_MMIO length");
	if (write)
		memcpy(&val, run->mmio.data, len);
	if (iobus_access(&vm->mmio, write, run->mmio.phys_addr, len, &val) < 0 &&
	    vm->cfg.strict_io) {
		char sfx[4] = { io_suffix[len], 0 };
		if (!sfx[0])
			snprintf(sfx, sizeof(sfx), "%u", len);
		vm_request_stop(vm, VM_GUEST_FATAL, "unhandled %s%s 0x%llx",
				write ? "write" : "read", sfx,
				(unsigned long long)run->mmio.phys_addr);
		return VM_GUEST_FATAL;
	}
	if (!write)
		memcpy(run->mmio.data, &val, len);
	return VM_RUNNING;
}

/*
 * KVM_EXIT_HLT reaches user space only without an in-kernel interrupt
 * controller; nothing can then wake the vCPU, so HLT means power off.
 */
static enum vm_stop exit_hlt(struct vcpu *vcpu)
{
	vm_request_stop(vcpu->vm, VM_POWEROFF, NULL);
	return VM_POWEROFF;
}

static enum vm_stop exit_shutdown(struct vcpu *vcpu)
{
	return vcpu_fatal(vcpu, VM_TRIPLEFAULT, "guest triple fault (KVM_EXIT_SHUTDOWN)");
}

static enum vm_stop exit_intr(struct vcpu *vcpu)
{
	return VM_RUNNING;
}

static enum vm_stop exit_internal_error(struct vcpu *vcpu)
{
	static const char *const sub[] = {
		[KVM_INTERNAL_ERROR_EMULATION] = "emulation failure",
		[KVM_INTERNAL_ERROR_SIMUL_EX] = "exception while delivering an exception",
		[KVM_INTERNAL_ERROR_DELIVERY_EV] = "event delivery failed",
		[KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON] = "unexpected exit reason",
	};
	unsigned s = vcpu->kvm.run->internal.suberror;
	char what[128];

	snprintf(what, sizeof(what), "KVM_EXIT_INTERNAL_ERROR (suberror %u: %s)", s,
		 s < sizeof(sub) / sizeof(sub[0]) && sub[s] ? sub[s] : "unknown");
	return vcpu_fatal(vcpu, VM_GUEST_FATAL, what);
}

static enum vm_stop exit_fail_entry(struct vcpu *vcpu)
{
	char what[96];

	snprintf(what, sizeof(what), "KVM_EXIT_FAIL_ENTRY (hardware reason 0x%llx)",
		 (unsigned long long)vcpu->kvm.run->fail_entry.hardware_entry_failure_reason);
	return vcpu_fatal(vcpu, VM_GUEST_FATAL, what);
}

static enum vm_stop exit_system_event(struct vcpu *vcpu)
{
	switch (vcpu->kvm.run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_stop(vcpu->vm, VM_POWEROFF, NULL);
		return VM_POWEROFF;
	case KVM_SYSTEM_EVENT_RESET:
		vm_request_stop(vcpu->vm, VM_RESET, NULL);
		return VM_RESET;
	default:
		return vcpu_fatal(vcpu, VM_GUEST_FATAL, "KVM_EXIT_SYSTEM_EVENT (crash)");
	}
}

static enum vm_stop exit_unknown(struct vcpu *vcpu)
{
	char what[64];
	unsigned r = vcpu->kvm.run->exit_reason;

	snprintf(what, sizeof(what), "unhandled exit KVM_EXIT_%s (%u)", vcpu_exit_name(r), r);
	return vcpu_fatal(vcpu, VM_GUEST_FATAL, what);
}

static const vcpu_exit_fn vcpu_exit_handlers[VCPU_NR_EXITS] = {
	[KVM_EXIT_IO]		  = exit_io,
	[KVM_EXIT_MMIO]		  = exit_mmio,
	[KVM_EXIT_HLT]		  = exit_hlt,
	[KVM_EXIT_SHUTDOWN]	  = exit_shutdown,
	[KVM_EXIT_INTR]		  = exit_intr,
	[KVM_EXIT_IRQ_WINDOW_OPEN] = exit_intr,
	[KVM_EXIT_INTERNAL_ERROR] = exit_internal_error,
	[KVM_EXIT_FAIL_ENTRY]	  = exit_fail_entry,
	[KVM_EXIT_SYSTEM_EVENT]	  = exit_system_event,
};

/*
 * Replay the writes KVM queued in the coalesced ring, in order, before the
 * caller handles anything later.  The fast path (nothing queued) takes no
 * lock, but "nothing queued" is not enough: another thread may have popped
 * the last entry and not replayed it yet, and this caller's later access
 * must not overtake it.  So a drainer announces itself (draining, set
 * before its first pop, seq_cst) and a caller that finds the ring empty
 * still waits on the lock while anyone is draining.
 */
void vm_drain_coalesced(struct vm *vm)
{
	struct kvm_coalesced_mmio e;

	if (!vmm_coalesced_pending(&vm->vmm) &&
	    !__atomic_load_n(&vm->draining, __ATOMIC_SEQ_CST))
		return;
	lock(&vm->drain_lock, LOCK_DRAIN);
	__atomic_store_n(&vm->draining, 1, __ATOMIC_SEQ_CST);
	while (vmm_coalesced_pop(&vm->vmm, &e)) {
		uint64_t val = 0;
		unsigned len = e.len <= 8 ? e.len : 8;

		memcpy(&val, e.data, len);
		iobus_access(e.pio ? &vm->pio : &vm->mmio, true, e.phys_addr, len, &val);
	}
	__atomic_store_n(&vm->draining, 0, __ATOMIC_SEQ_CST);
	unlock(&vm->drain_lock, LOCK_DRAIN);
}

enum vm_stop vcpu_handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->kvm.run;
	uint64_t t0 = vcpu->vm->cfg.stats || vcpu->vm->cfg.timing ? mono_ns() : 0;
	unsigned reason, slot;
	enum vm_stop r;

	vm_drain_coalesced(vcpu->vm);	/* earlier writes happen first */
	reason = run->exit_reason;
	slot = reason < VCPU_NR_EXITS ? reason : VCPU_NR_EXITS;
	r = (slot < VCPU_NR_EXITS && vcpu_exit_handlers[slot] ?
	     vcpu_exit_handlers[slot] : exit_unknown)(vcpu);
	/* one writer; relaxed stores so the API thread may read them */
	__atomic_store_n(&vcpu->exits[slot], vcpu->exits[slot] + 1, __ATOMIC_RELAXED);
	if (t0) {
		uint64_t dt = mono_ns() - t0;
		uint64_t *h = &vcpu->exit_hist[slot][io_hist_bucket(dt)];

		__atomic_store_n(&vcpu->exit_ns[slot], vcpu->exit_ns[slot] + dt, __ATOMIC_RELAXED);
		__atomic_store_n(h, *h + 1, __ATOMIC_RELAXED);
	}
	return r;
}

/* vm_pause(): wait outside the guest until resumed or stopping. */
static void vcpu_park(struct vm *vm)
{
	lock(&vm->pause_lock, LOCK_VM_PAUSE);
	vm->nparked++;
	pthread_cond_broadcast(&vm->pause_cond);
	while (vm->pause_req && !vm_stopping(vm))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	vm->nparked--;
	unlock(&vm->pause_lock, LOCK_VM_PAUSE);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;

	/* filtered before it touches the guest; waits for the main thread */
	if (sandbox_thread_start(SANDBOX_VCPU) < 0) {
		vm_request_stop(vm, VM_ERROR, "%s", err_msg());
		return NULL;
	}
	/*
	 * Application processors start when the boot CPU sends INIT/SIPI
	 * through the in-kernel LAPIC (KVM_RUN blocks until then).  Without
	 * one they have nothing to run: they wait.
	 */
	if (vcpu->id != 0 && !vm->cfg.irqchip) {
		vm_wait_stopped(vm);
		return NULL;
	}
	if (vcpu->id == 0)
		vm->first_run_ns = mono_ns();
	lock(&vm->pause_lock, LOCK_VM_PAUSE);
	vm->nloop++;
	unlock(&vm->pause_lock, LOCK_VM_PAUSE);
	while (!vm_stopping(vm)) {
		int ret;

		if (__atomic_load_n(&vm->pause_req, __ATOMIC_ACQUIRE))
			vcpu_park(vm);
		if (vm_stopping(vm))
			break;
		ret = vmm_vcpu_run(&vcpu->kvm);

		if (ret == -EINTR) {
			/* A kick; immediate_exit stays set only while stopping. */
			if (!vm_stopping(vm))
				vcpu->kvm.run->immediate_exit = 0;
			continue;
		}
		if (ret < 0) {
			vm_request_stop(vm, VM_ERROR, "%s", err_msg());
			break;
		}
		if (vcpu_handle_exit(vcpu) != VM_RUNNING)
			break;
	}
	lock(&vm->pause_lock, LOCK_VM_PAUSE);
	vm->nloop--;
	pthread_cond_broadcast(&vm->pause_cond);	/* a pauser waits for one less */
	unlock(&vm->pause_lock, LOCK_VM_PAUSE);
	return NULL;
}

static void vcpu_kick_handler(int sig)
{
	(void)sig;
}

static void vcpu_install_kick(void)
{
	struct sigaction sa = { .sa_handler = vcpu_kick_handler };

	sigemptyset(&sa.sa_mask);
	sigaction(SIG_KICK, &sa, NULL);	/* no SA_RESTART: KVM_RUN returns */
}

int vcpu_start(struct vcpu *vcpu)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int r;

	pthread_once(&once, vcpu_install_kick);
	r = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);
	if (r)
		return err_set(-r, "cannot start vCPU %d thread: %s", vcpu->id, strerror(r));
	vcpu->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (!vcpu->started || !vcpu->kvm.run)
		return;
	__atomic_store_n(&vcpu->kvm.run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(vcpu->thread, SIG_KICK);
}
