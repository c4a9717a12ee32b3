/*
 * cpu.c - per-vCPU CPU state for booting an OS (see cpu.h).
 *
 * CPUID starts from KVM_GET_SUPPORTED_CPUID and changes only what a VMM must
 * own: APIC IDs and topology (leaves 1, 4, 0xB, 0x80000008, 0x8000001E), the
 * hypervisor bit, and XSAVE (leaf 0xD) restricted to state components whose
 * feature bits are exposed and whose sizes are known, with the sizes
 * recomputed, so the guest's own consistency check agrees with what it is
 * told.
 */
#include <cpuid.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "cpu.h"
#include "err.h"
#include "vcpu.h"
#include "vm.h"

#define MSR_IA32_SYSENTER_CS	0x174
#define MSR_IA32_SYSENTER_ESP	0x175
#define MSR_IA32_SYSENTER_EIP	0x176
#define MSR_IA32_MISC_ENABLE	0x1a0
#define MSR_MTRR_DEF_TYPE	0x2ff
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SYSCALL_MASK	0xc0000084
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MSR_IA32_TSC		0x10

#define APIC_LVT_LINT0		0x350
#define APIC_LVT_LINT1		0x360
#define APIC_MODE_NMI		0x4
#define APIC_MODE_EXTINT	0x7

struct kvm_cpuid_entry2 *cpu_find(struct kvm_cpuid2 *c, unsigned fn, unsigned idx)
{
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn &&
		    (!(c->entries[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     c->entries[i].index == idx))
			return &c->entries[i];
	return NULL;
}

static unsigned bits_for(unsigned n)
{
	unsigned b = 0;

	while ((1u << b) < n)
		b++;
	return b;
}

/* XSAVE components hyve exposes, given the feature bits in leaves 1 and 7. */
static uint64_t xsave_allowed(struct kvm_cpuid2 *c)
{
	struct kvm_cpuid_entry2 *l1 = cpu_find(c, 1, 0), *l7 = cpu_find(c, 7, 0);
	uint64_t ok = 0x3;			/* x87, SSE */

	if (l1 && (l1->ecx & (1u << 28)))
		ok |= 1u << 2;			/* AVX */
	if (l7 && (l7->ebx & (1u << 16)) && (ok & (1u << 2)))
		ok |= 7u << 5;			/* AVX-512: opmask, ZMM_Hi256, Hi16_ZMM */
	if (l7 && (l7->ecx & (1u << 3)))
		ok |= 1u << 9;			/* PKRU */
	/* not MPX (deprecated), not AMX (needs per-process permission) */
	return ok;
}

static void cpu_fix_xsave(struct kvm_cpuid2 *c)
{
	struct kvm_cpuid_entry2 *d0 = cpu_find(c, 0xd, 0), *d1 = cpu_find(c, 0xd, 1);
	uint64_t mask, keep = 0x3;
	uint32_t size = 576;			/* legacy area + XSAVE header */

	if (!d0)
		return;
	mask = (((uint64_t)d0->edx << 32) | d0->eax) & xsave_allowed(c);
	for (unsigned i = 2; i < 64; i++) {
		struct kvm_cpuid_entry2 *e = cpu_find(c, 0xd, i);

		if (!e || i < 2)
			continue;
		if ((mask & (1ULL << i)) && e->eax != 0 && e->ebx >= 576) {
			keep |= 1ULL << i;
			if (e->ebx + e->eax > size)
				size = e->ebx + e->eax;
		} else {
			e->eax = e->ebx = e->ecx = e->edx = 0;
		}
	}
	d0->eax = (uint32_t)keep;
	d0->edx = (uint32_t)(keep >> 32);
	d0->ebx = size;		/* KVM recomputes this from the guest's XCR0 */
	d0->ecx = size;
	if (d1) {
		d1->eax &= 0x7;		/* XSAVEOPT, XSAVEC, XGETBV1; no XSAVES/XFD */
		d1->ebx = d1->ecx = d1->edx = 0;
	}
}

/*
 * The TSC frequency, so the guest need not calibrate it: the hypervisor
 * timing leaf 0x40000010 (EAX: TSC kHz, EBX: the LAPIC timer's bus kHz;
 * KVM's LAPIC timer counts nanoseconds: 1 GHz), as KVM_GET_TSC_KHZ reports
 * it, with the hypervisor range's maximum leaf raised to cover it.  Only
 * where KVM's signature leaf is there (c has room: the caller allocates
 * spare entries).  Best effort: without a frequency the leaf is left out.
 */
void cpu_tsc_leaf(struct kvm_cpuid2 *c, uint32_t tsc_khz)
{
	struct kvm_cpuid_entry2 *base = cpu_find(c, CPU_HV_BASE, 0), *e;

	if (!base || !tsc_khz || memcmp(&base->ebx, "KVMK", 4))
		return;
	if (base->eax < CPU_HV_TIMING)
		base->eax = CPU_HV_TIMING;
	if (!(e = cpu_find(c, CPU_HV_TIMING, 0))) {
		e = &c->entries[c->nent++];
		*e = (struct kvm_cpuid_entry2){ .function = CPU_HV_TIMING };
	}
	e->eax = tsc_khz;
	e->ebx = CPU_LAPIC_BUS_KHZ;
	e->ecx = e->edx = 0;
}

static void cpu_add_tsc_leaf(struct vcpu *vcpu, struct kvm_cpuid2 *c)
{
	uint32_t khz = 0;

	if (vmm_get_tsc_khz(&vcpu->kvm, &khz) == 0)
		cpu_tsc_leaf(c, khz);
}

void cpu_filter_cpuid(const struct kvm_cpuid2 *in, struct kvm_cpuid2 *out,
		      int id, int ncpus)
{
	unsigned n = 0, shift = bits_for((unsigned)ncpus);
	struct kvm_cpuid_entry2 *e;

	/* Copy all but the topology leaf 0xB / 0x1F, which are rebuilt. */
	for (unsigned i = 0; i < in->nent; i++)
		if (in->entries[i].function != 0xb && in->entries[i].function != 0x1f)
			out->entries[n++] = in->entries[i];
	for (unsigned level = 0; level < 3; level++) {
		struct kvm_cpuid_entry2 t = {
			.function = 0xb, .index = level,
			.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
			.edx = (uint32_t)id,
		};
		if (level == 0) {		/* SMT: one thread per core */
			t.eax = 0; t.ebx = 1; t.ecx = (1u << 8) | level;
		} else if (level == 1) {	/* core: ncpus cores per package */
			t.eax = shift; t.ebx = (uint32_t)ncpus; t.ecx = (2u << 8) | level;
		} else {			/* invalid level ends the list */
			t.ecx = level;
		}
		out->entries[n++] = t;
	}
	out->nent = n;

	if ((e = cpu_find(out, 0, 0)) && e->eax < 0xb)
		e->eax = 0xb;
	if ((e = cpu_find(out, 1, 0))) {
		e->ebx = (e->ebx & 0x0000ffff) | ((uint32_t)id << 24) |
			 ((uint32_t)(ncpus > 255 ? 255 : ncpus) << 16);
		e->ecx |= 1u << 31;			/* running under a hypervisor */
		if (ncpus > 1)
			e->edx |= 1u << 28;		/* HTT: EBX[23:16] is valid */
	}
	for (unsigned i = 0; i < out->nent; i++) {
		e = &out->entries[i];
		if (e->function == 4) {			/* Intel caches: cores/package */
			e->eax = (e->eax & 0x03ffffff) | ((uint32_t)(ncpus - 1) << 26);
			if (((e->eax >> 5) & 7) >= 2)	/* L2 and up shared by all */
				e->eax = (e->eax & ~0x03ffc000u) | ((uint32_t)(ncpus - 1) << 14);
			else
				e->eax &= ~0x03ffc000u;
		}
	}
	if ((e = cpu_find(out, 0x80000008, 0)))		/* AMD: cores per package */
		e->ecx = (e->ecx & ~0xf0ffu) | (shift << 12) | (uint32_t)(ncpus - 1);
	if ((e = cpu_find(out, 0x8000001e, 0))) {	/* AMD topology extension */
		e->eax = (uint32_t)id;
		e->ebx = (uint32_t)id & 0xff;		/* core id; one thread/core */
		e->ecx = 0;				/* node 0 */
	}
	cpu_fix_xsave(out);
}

void cpu_xsave_legacy_only(struct kvm_cpuid2 *c)
{
	struct kvm_cpuid_entry2 *e;

	if ((e = cpu_find(c, 1, 0)))
		e->ecx &= ~((1u << 12) | (1u << 28) | (1u << 29));	/* FMA, AVX, F16C */
	if ((e = cpu_find(c, 7, 0))) {
		e->ebx &= ~((1u << 5) | (1u << 16) | (1u << 17) | (1u << 21) |
			    (1u << 26) | (1u << 27) | (1u << 28) | (1u << 30) |
			    (1u << 31));				/* AVX2, AVX-512 */
		e->ecx &= ~((1u << 1) | (1u << 3) | (1u << 4) | (1u << 6) |
			    (1u << 8) | (1u << 9) | (1u << 10) | (1u << 11) |
			    (1u << 12) | (1u << 14));			/* PKU, VAES, ... */
		e->edx &= ~((1u << 2) | (1u << 3) | (1u << 8) | (1u << 23));
	}
	if ((e = cpu_find(c, 7, 1)))
		e->eax &= ~((1u << 4) | (1u << 5));		/* AVX-VNNI, AVX512_BF16 */
	cpu_fix_xsave(c);
}

void cpu_hide_xsave(struct kvm_cpuid2 *c)
{
	struct kvm_cpuid_entry2 *e;

	cpu_xsave_legacy_only(c);
	if ((e = cpu_find(c, 1, 0)))
		e->ecx &= ~((1u << 26) | (1u << 27));		/* XSAVE, OSXSAVE */
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0xd)
			c->entries[i].eax = c->entries[i].ebx =
				c->entries[i].ecx = c->entries[i].edx = 0;
}

/*
 * Does KVM's own idea of the XSAVE size (CPUID 0xD.0 EBX, which it
 * recomputes whenever the guest sets XCR0) agree with the sub-leaves we
 * expose?  Ask it: set XCR0 to everything exposed, read CPUID back.  Some
 * hosts (nested, emulated CPUs) disagree; Linux then warns "XSAVE
 * consistency problem" at boot, so such hosts get x87/SSE state only.
 */
static int cpu_xsave_consistent(struct vcpu *vcpu, const struct kvm_cpuid2 *c, bool *ok)
{
	struct kvm_cpuid2 *back;
	struct kvm_cpuid_entry2 *d0 = cpu_find((struct kvm_cpuid2 *)c, 0xd, 0), *b0;
	struct kvm_xcrs xcrs = { .nr_xcrs = 1 };
	int r;

	*ok = true;
	if (!d0 || (d0->eax & ~3u) == 0)
		return 0;
	back = calloc(1, sizeof(*back) + c->nent * sizeof(c->entries[0]));
	if (!back)
		return err_set(-ENOMEM, "out of memory");
	back->nent = c->nent;
	xcrs.xcrs[0].value = ((uint64_t)d0->edx << 32) | d0->eax;
	r = vmm_set_xcrs(&vcpu->kvm, &xcrs);
	if (r == 0)
		r = vmm_get_cpuid(&vcpu->kvm, back);
	if (r == 0 && (b0 = cpu_find(back, 0xd, 0)))
		*ok = b0->ebx == d0->ecx;
	xcrs.xcrs[0].value = 1;		/* back to the reset value */
	if (r == 0)
		r = vmm_set_xcrs(&vcpu->kvm, &xcrs);
	free(back);
	return r;
}

/*
 * Is hyve itself running on QEMU's software-emulated CPU (TCG)?  Its SVM
 * emulation lets a nested guest's XSETBV through without an intercept, so
 * KVM never learns the guest's XCR0 and keeps reporting the XSAVE size of
 * x87/SSE alone; Linux then warns "XSAVE consistency problem" whatever the
 * sub-leaves say, and even with XCR0 limited to x87/SSE its signal frames
 * come out wrong (init dies in rt_sigreturn).  On such a host XSAVE is not
 * exposed at all: the guest uses FXSAVE.  (This is the test rig's situation; QEMU's guests there
 * show the warning.)
 */
static bool cpu_host_is_tcg(void)
{
	unsigned a, b, c, d;
	char sig[13];

	__cpuid(1, a, b, c, d);
	if (!(c & (1u << 31)))
		return false;		/* not running under a hypervisor */
	__cpuid(0x40000000, a, b, c, d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	sig[12] = '\0';
	return !strcmp(sig, "TCGTCGTCGTCG");
}

int cpu_setup(struct vmm *vmm, struct vcpu *vcpu, int ncpus, bool irqchip,
	      const struct kvm_cpuid2 *supported)
{
	struct kvm_cpuid2 *c;
	struct kvm_lapic_state lapic;
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	const struct kvm_msr_entry msrs[] = {
		{ .index = MSR_IA32_SYSENTER_CS }, { .index = MSR_IA32_SYSENTER_ESP },
		{ .index = MSR_IA32_SYSENTER_EIP }, { .index = MSR_STAR },
		{ .index = MSR_LSTAR }, { .index = MSR_CSTAR },
		{ .index = MSR_SYSCALL_MASK }, { .index = MSR_KERNEL_GS_BASE },
		{ .index = MSR_IA32_TSC },
		{ .index = MSR_IA32_MISC_ENABLE, .data = 1 },	/* fast strings */
		{ .index = MSR_MTRR_DEF_TYPE, .data = (1u << 11) | 6 },	/* MTRRs on, WB */
	};
	int r;

	c = calloc(1, sizeof(*c) + (supported->nent + 8) * sizeof(c->entries[0]));
	if (!c)
		return err_set(-ENOMEM, "out of memory");
	cpu_filter_cpuid(supported, c, vcpu->id, ncpus);
	if (cpu_host_is_tcg())
		cpu_hide_xsave(c);
	/* KVM's LAPIC emulates the TSC-deadline timer, but only says so here. */
	if (irqchip && vmm_has_cap(vmm, KVM_CAP_TSC_DEADLINE_TIMER)) {
		struct kvm_cpuid_entry2 *l1 = cpu_find(c, 1, 0);
		if (l1)
			l1->ecx |= 1u << 24;
	}
	if (irqchip)
		cpu_add_tsc_leaf(vcpu, c);
	r = vmm_set_cpuid(&vcpu->kvm, c);
	if (r == 0) {
		bool ok;
		r = cpu_xsave_consistent(vcpu, c, &ok);
		if (r == 0 && !ok) {
			cpu_xsave_legacy_only(c);
			r = vmm_set_cpuid(&vcpu->kvm, c);
		}
	}
	free(c);
	if (r < 0)
		return r;
	if ((r = vmm_set_msrs(&vcpu->kvm, msrs, sizeof(msrs) / sizeof(msrs[0]))) < 0)
		return r;
	if ((r = vmm_set_fpu(&vcpu->kvm, &fpu)) < 0 || !irqchip)
		return r;
	/* As firmware leaves it: LINT0 takes the 8259's ExtINT, LINT1 NMIs. */
	if ((r = vmm_get_lapic(&vcpu->kvm, &lapic)) < 0)
		return r;
	uint32_t *lint0 = (uint32_t *)&lapic.regs[APIC_LVT_LINT0];
	uint32_t *lint1 = (uint32_t *)&lapic.regs[APIC_LVT_LINT1];
	*lint0 = (*lint0 & ~0x700u & ~(1u << 16)) | (APIC_MODE_EXTINT << 8);
	*lint1 = (*lint1 & ~0x700u & ~(1u << 16)) | (APIC_MODE_NMI << 8);
	return vmm_set_lapic(&vcpu->kvm, &lapic);
}
