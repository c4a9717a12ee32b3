/*
 * vm_impl.h - the inside of struct vm: for the VM core only (vm.c, vcpu.c)
 * and the unit tests of the core.  Devices, the PCI core, virtio, backends
 * and boot loaders see struct vm as opaque and use the vm_* calls of vm.h;
 * including this header anywhere else is a compile error.
 */
#ifndef HYVE_VM_IMPL_H
#define HYVE_VM_IMPL_H

#ifndef HYVE_VM_CORE
#error "vm_impl.h is the VM core's: use the vm_* calls of vm.h"
#endif

#include <pthread.h>
#include "iobus.h"
#include "mem.h"
#include "vm.h"
#include "vmm/vmm.h"

struct vcpu;
struct pci_bus;

/* A function a device registered with the VM, and its argument. */
struct vm_hook {
	void (*fn)(void *arg);
	void *arg;
};

struct vm {
	struct vm_config cfg;
	struct vmm vmm;			/* KVM handles (src/vmm); fds -1 without KVM */
	struct guest_mem mem;		/* guest RAM (src/mem.c) */
	struct iobus pio, mmio;
	struct console *con;
	struct vcpu *vcpus;
	int ncpus;
	struct pci_bus *pci;		/* bus 0, once the PCI host bridge made it */

	pthread_mutex_t drain_lock;	/* one consumer of the coalesced ring */
	int draining;			/* a consumer is replaying (vcpu.c) */

	/* stopping */
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
	enum vm_stop stop;		/* VM_RUNNING until something stops it */
	char stop_msg[2048];		/* what main prints, "" for none */
	int stop_efd;			/* eventfd: main loop wakes on stop */
	uint64_t first_run_ns;		/* CLOCK_MONOTONIC at vCPU 0's first KVM_RUN */

	/* pausing (vm_pause): vCPU threads park between KVM_RUNs */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	bool pause_req;
	int nloop, nparked;		/* threads in the run loop / parked */
	struct vm_hook power_button, ctrl_alt_del;

	struct vm_hook fini[32];
	int nfini;
};

#endif
