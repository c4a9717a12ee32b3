/*
 * hostprobe.c - what this host's KVM can run (see hostprobe.h).  The KVM
 * check goes through vmm_create, so it asks exactly what `hyve run` needs.
 */
#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "err.h"
#include "hostprobe.h"
#include "vmm/vmm.h"

static const char *const kind_names[] = {
	[HOST_NONE] = "none", [HOST_RESTRICTED] = "restricted", [HOST_KVM] = "kvm",
};

const char *host_kind_name(enum host_kind k)
{
	return (unsigned)k < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[k] : "?";
}

int host_kind_parse(const char *s, enum host_kind *k)
{
	for (unsigned i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
		if (s && !strcmp(s, kind_names[i])) {
			*k = (enum host_kind)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* VMX (Intel: CPUID.1:ECX[5]) or SVM (AMD: CPUID.80000001h:ECX[2]). */
static bool cpu_has_virt(void)
{
	unsigned a, b, c, d;

	if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 5)))
		return true;
	return __get_cpuid(0x80000001, &a, &b, &c, &d) && (c & (1u << 2));
}

void host_facts_gather(struct host_facts *f)
{
	const char *dev = getenv("HYVE_KVM_DEVICE");
	const char *sys = getenv("HYVE_SYSFS_ROOT");
	struct vmm vmm;

	memset(f, 0, sizeof(*f));
	snprintf(f->dev, sizeof(f->dev), "%s", dev && *dev ? dev : "/dev/kvm");
	vmm_init(&vmm);
	if (vmm_create(&vmm, f->dev) == 0) {
		f->kvm_ok = true;
		vmm_destroy(&vmm);
	} else {
		snprintf(f->kvm_err, sizeof(f->kvm_err), "%s", err_msg());
		err_clear();
	}
	snprintf(f->pvm_path, sizeof(f->pvm_path), "%s/module/kvm_pvm", sys && *sys ? sys : "/sys");
	f->pvm_module = access(f->pvm_path, F_OK) == 0;
	f->cpu_virt = cpu_has_virt();
}

void host_decide(const struct host_facts *f, struct host_probe *p)
{
	if (!f->kvm_ok) {
		p->kind = HOST_NONE;
		snprintf(p->reason, sizeof(p->reason), "no usable KVM: %s",
			 f->kvm_err[0] ? f->kvm_err : "the KVM device does not work");
	} else if (f->pvm_module) {
		p->kind = HOST_RESTRICTED;
		snprintf(p->reason, sizeof(p->reason),
			 "%s is kvm_pvm (%s): small guests run, an unmodified Linux kernel does not (guest ring 0 is emulated)",
			 f->dev, f->pvm_path);
	} else if (!f->cpu_virt) {
		p->kind = HOST_RESTRICTED;
		snprintf(p->reason, sizeof(p->reason),
			 "%s works but the CPU has neither VMX nor SVM: a KVM without hardware virtualization runs small guests, not an unmodified Linux kernel",
			 f->dev);
	} else {
		p->kind = HOST_KVM;
		snprintf(p->reason, sizeof(p->reason),
			 "%s works and the CPU has hardware virtualization: Linux guests run natively", f->dev);
	}
}

int host_probe(struct host_probe *p)
{
	const char *force = getenv("HYVE_HOST_KIND");
	struct host_facts f;

	if (force && *force) {
		if (host_kind_parse(force, &p->kind) < 0)
			return err_set(-EINVAL, "HYVE_HOST_KIND='%s' is not kvm, restricted or none", force);
		snprintf(p->reason, sizeof(p->reason), "set by HYVE_HOST_KIND=%s", force);
		return 0;
	}
	host_facts_gather(&f);
	host_decide(&f, p);
	return 0;
}
