/*
 * vcpu.h - one thread per virtual CPU: KVM_RUN, then dispatch through one
 * table indexed by the KVM exit reason (bhyve's vmexit_handlers[]).
 */
#ifndef HYVE_VCPU_H
#define HYVE_VCPU_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "vm.h"
#include "vmm/vmm.h"

#define VCPU_NR_EXITS 64	/* table size; larger reasons are "unknown" */

struct vcpu {
	struct vm *vm;
	struct vmm_vcpu kvm;
	int id;
	pthread_t thread;
	bool started;
	/* per-vCPU statistics: no sharing on the hot path */
	uint64_t exits[VCPU_NR_EXITS + 1];	/* last slot: unknown reasons */
	uint64_t exit_ns[VCPU_NR_EXITS + 1];
	uint64_t exit_hist[VCPU_NR_EXITS + 1][IO_HIST_BUCKETS];	/* handler time, log2 ns */
};

/*
 * An exit handler: returns VM_RUNNING to enter the guest again, or how the
 * VM should stop (after recording a message with vm_request_stop()).
 */
typedef enum vm_stop (*vcpu_exit_fn)(struct vcpu *vcpu);

/*
 * Handle the exit described in vcpu->kvm.run: replay coalesced writes, then
 * call the handler for the exit reason.  Returns VM_RUNNING or why to stop.
 */
enum vm_stop vcpu_handle_exit(struct vcpu *vcpu);

int vcpu_start(struct vcpu *vcpu);	/* create the thread */
void vcpu_kick(struct vcpu *vcpu);	/* make KVM_RUN return now */
const char *vcpu_exit_name(unsigned reason);

/* Replay writes KVM queued in its coalesced ring (any thread). */
void vm_drain_coalesced(struct vm *vm);

#endif
