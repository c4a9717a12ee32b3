/*
 * vmm.h - hyve's KVM layer (what libvmmapi is to bhyve): the only code that
 * issues ioctls on /dev/kvm, the VM fd and the vCPU fds.  Everything returns
 * 0 or a negative errno and records a message with err_set().
 */
#ifndef HYVE_VMM_H
#define HYVE_VMM_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>
#include <pthread.h>

struct vmm {
	int kvm_fd;
	int vm_fd;
	int run_size;			/* size of each vCPU's kvm_run mapping */
	int coalesced_page;		/* page offset of the ring, 0 if none */
	struct kvm_coalesced_mmio_ring *ring;	/* mapped with vCPU 0 */
	unsigned ring_max;		/* entries in the ring */
	/* GSI routing: the PC's entries, then one per MSI GSI in use */
	struct kvm_irq_routing_entry *routes;
	unsigned nroutes, npc_routes;
	uint32_t next_msi_gsi;
	pthread_mutex_t route_lock;
};

struct vmm_vcpu {
	int fd;
	int id;
	struct kvm_run *run;
};

/*
 * A vmm with no KVM behind it (fds -1): every call on it fails with -ENODEV
 * until vmm_create.  Then open path (normally /dev/kvm), check the API and
 * capabilities, create a VM.
 */
void vmm_init(struct vmm *vmm);
int vmm_create(struct vmm *vmm, const char *path);
void vmm_destroy(struct vmm *vmm);

/* Does KVM have capability cap (KVM_CAP_*)? */
bool vmm_has_cap(struct vmm *vmm, int cap);

/* Map host memory [host, host+size) at guest-physical gpa as slot. */
int vmm_set_memory(struct vmm *vmm, uint32_t slot, uint64_t gpa,
		   uint64_t size, void *host);

int vmm_vcpu_create(struct vmm *vmm, int id, struct vmm_vcpu *vcpu);
void vmm_vcpu_destroy(struct vmm *vmm, struct vmm_vcpu *vcpu);

/* KVM_RUN once.  -EINTR when a signal or immediate_exit interrupted it. */
int vmm_vcpu_run(struct vmm_vcpu *vcpu);

int vmm_get_regs(struct vmm_vcpu *vcpu, struct kvm_regs *regs);
int vmm_set_regs(struct vmm_vcpu *vcpu, const struct kvm_regs *regs);
int vmm_get_sregs(struct vmm_vcpu *vcpu, struct kvm_sregs *sregs);
int vmm_set_sregs(struct vmm_vcpu *vcpu, const struct kvm_sregs *sregs);

/*
 * Interrupts: KVM's in-kernel PIC + IOAPIC + LAPICs, and with pit_too the
 * PIT (with the speaker port 0x61 that Linux's TSC calibration uses).
 */
int vmm_create_irqchip(struct vmm *vmm, bool pit_too);
/* The vCPU's TSC frequency in kHz (KVM_GET_TSC_KHZ). */
int vmm_get_tsc_khz(struct vmm_vcpu *vcpu, uint32_t *khz);
int vmm_irq_line(struct vmm *vmm, uint32_t gsi, int level);

/*
 * Event fds: a guest write to [addr, addr+len) on the port or MMIO bus
 * signals fd in the kernel, no exit to user space (ioeventfd; datamatch
 * < 0: any value); writing fd raises GSI gsi (irqfd).  deassign undoes.
 */
int vmm_ioeventfd(struct vmm *vmm, uint64_t addr, uint32_t len, bool pio,
		  int64_t datamatch, int fd, bool deassign);
int vmm_irqfd(struct vmm *vmm, uint32_t gsi, int fd, bool deassign);

/*
 * MSI routing: GSIs from VMM_MSI_GSI_BASE up carry MSI messages (address,
 * data), set with vmm_route_msi; the PC's ISA/IOAPIC routes stay as set up
 * by vmm_create_irqchip.  vmm_alloc_gsi hands out the next free MSI GSI.
 */
#define VMM_MSI_GSI_BASE 24
#define VMM_MAX_MSI	 1024
int vmm_alloc_gsi(struct vmm *vmm, uint32_t *gsi);
int vmm_route_msi(struct vmm *vmm, uint32_t gsi, uint64_t addr, uint32_t data, bool masked);

/* CPUID: what KVM supports (caller frees), and setting a vCPU's table. */
int vmm_supported_cpuid(struct vmm *vmm, struct kvm_cpuid2 **out);
int vmm_set_cpuid(struct vmm_vcpu *vcpu, const struct kvm_cpuid2 *cpuid);
/* The vCPU's CPUID as KVM holds it now (with KVM's runtime updates). */
int vmm_get_cpuid(struct vmm_vcpu *vcpu, struct kvm_cpuid2 *cpuid);
int vmm_set_xcrs(struct vmm_vcpu *vcpu, const struct kvm_xcrs *xcrs);
/* Set MSRs; all or nothing. */
int vmm_set_msrs(struct vmm_vcpu *vcpu, const struct kvm_msr_entry *e, unsigned n);
int vmm_set_fpu(struct vmm_vcpu *vcpu, const struct kvm_fpu *fpu);
int vmm_get_lapic(struct vmm_vcpu *vcpu, struct kvm_lapic_state *l);
int vmm_set_lapic(struct vmm_vcpu *vcpu, const struct kvm_lapic_state *l);

/* Coalesce guest writes to a port range / MMIO range (see vm.h). */
int vmm_coalesce(struct vmm *vmm, uint64_t addr, uint32_t len, bool pio);
int vmm_uncoalesce(struct vmm *vmm, uint64_t addr, uint32_t len, bool pio);

/*
 * Pop the oldest coalesced write, if any, into *out (port/address, length,
 * data, pio flag).  Returns true if one was popped.  The caller serialises
 * consumers.
 */
bool vmm_coalesced_pop(struct vmm *vmm, struct kvm_coalesced_mmio *out);
static inline bool vmm_coalesced_pending(const struct vmm *vmm)
{
	const struct kvm_coalesced_mmio_ring *r = vmm->ring;
	return r && __atomic_load_n(&r->first, __ATOMIC_SEQ_CST) !=
		    __atomic_load_n(&r->last, __ATOMIC_ACQUIRE);
}

#endif
