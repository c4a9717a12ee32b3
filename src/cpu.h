/*
 * cpu.h - the CPU a guest OS sees: CPUID (KVM's supported set, filtered and
 * given per-vCPU APIC IDs and topology), MSRs and FPU as firmware leaves
 * them, and the local APIC's LINT0/LINT1 wiring.
 */
#ifndef HYVE_CPU_H
#define HYVE_CPU_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

struct vcpu;
struct vmm;

/*
 * Turn KVM's supported CPUID (in) into vCPU id's table (out, which must have
 * room for in->nent + 8 entries).  Pure: no KVM calls, unit-tested.
 */
void cpu_filter_cpuid(const struct kvm_cpuid2 *in, struct kvm_cpuid2 *out,
		      int id, int ncpus);

/*
 * Expose no XSAVE state beyond x87/SSE: drop AVX, AVX-512, PKU and the
 * features that need them, for hosts whose KVM reports XSAVE sizes that do
 * not match its own sub-leaves.  Pure, unit-tested.
 */
void cpu_xsave_legacy_only(struct kvm_cpuid2 *c);
/* No XSAVE at all (and nothing that needs it): the guest uses FXSAVE. */
void cpu_hide_xsave(struct kvm_cpuid2 *c);

/* Look up (function, index) in a table; NULL if absent. */
/* Hypervisor CPUID leaves: KVM's signature, the timing leaf (TSC kHz). */
#define CPU_HV_BASE		0x40000000u
#define CPU_HV_TIMING		0x40000010u
#define CPU_LAPIC_BUS_KHZ	1000000u	/* KVM's LAPIC timer: 1 ns per tick */
/* Add or set leaf 0x40000010 in c (room for one more entry needed). */
void cpu_tsc_leaf(struct kvm_cpuid2 *c, uint32_t tsc_khz);
struct kvm_cpuid_entry2 *cpu_find(struct kvm_cpuid2 *c, unsigned fn, unsigned idx);

/*
 * CPUID, MSRs, FPU and (with the in-kernel irqchip) LAPIC LINT0/1 of a vCPU
 * of a VM with ncpus vCPUs.
 */
int cpu_setup(struct vmm *vmm, struct vcpu *vcpu, int ncpus, bool irqchip,
	      const struct kvm_cpuid2 *supported);

#endif
