/*
 * hostprobe.h - what this host's KVM can run, decided in one place for
 * `hyve check-host`, `hyve run` and (through check-host) every script:
 *
 *   kvm         a hardware-assisted KVM: Linux guests run natively
 *   restricted  a KVM that runs small guests (raw, protected, long mode) but
 *               not an unmodified Linux kernel, e.g. kvm_pvm (guest ring 0
 *               goes through KVM's instruction emulator); Linux needs the
 *               nested-KVM rig (tests/rig)
 *   none        no usable KVM device
 *
 * Facts: can the KVM device ($HYVE_KVM_DEVICE, default /dev/kvm) be opened,
 * does it speak the API hyve needs and create a VM (vmm_create: the ioctls
 * stay in src/vmm/vmm.c); is $HYVE_SYSFS_ROOT/module/kvm_pvm there
 * (default /sys); does the CPU (CPUID) have VMX or SVM.  HYVE_HOST_KIND=
 * kvm|restricted|none overrides the answer (tests, simulations).
 */
#ifndef HYVE_HOSTPROBE_H
#define HYVE_HOSTPROBE_H

#include <stdbool.h>

enum host_kind { HOST_NONE, HOST_RESTRICTED, HOST_KVM };

/* What the probe found out (host_facts_gather), for host_decide. */
struct host_facts {
	char dev[256];		/* the KVM device path */
	bool kvm_ok;		/* opened, API and capabilities fine, VM created */
	char kvm_err[512];	/* why not, when !kvm_ok */
	bool pvm_module;	/* <sysfs>/module/kvm_pvm exists */
	char pvm_path[300];	/* that path */
	bool cpu_virt;		/* CPUID shows VMX or SVM */
};

struct host_probe {
	enum host_kind kind;
	char reason[1024];	/* one human sentence */
};

/* Gather the facts (opens the KVM device and creates, then destroys, a VM). */
void host_facts_gather(struct host_facts *f);
/* The decision from the facts alone (no I/O). */
void host_decide(const struct host_facts *f, struct host_probe *p);
/*
 * The probe: HYVE_HOST_KIND if set, else gather and decide.  0, or -EINVAL
 * (err_set) when HYVE_HOST_KIND holds something else than the three names.
 */
int host_probe(struct host_probe *p);

const char *host_kind_name(enum host_kind k);
/* "kvm", "restricted" or "none" -> *k; -EINVAL otherwise. */
int host_kind_parse(const char *s, enum host_kind *k);

#endif
