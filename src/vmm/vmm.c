/*
 * vmm.c - the KVM layer: /dev/kvm, the VM and its vCPUs.  No other file
 * issues KVM ioctls.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "err.h"
#include "lock.h"
#include "util.h"
#include "vmm/vmm.h"

/*
 * Every KVM ioctl goes through here: without a KVM fd (a VM built by
 * vm_create_nokvm for tests) it fails with ENODEV instead of touching fd -1.
 */
#define KVM_IOCTL(fd, ...) ((fd) < 0 ? (errno = ENODEV, -1) : ioctl((fd), __VA_ARGS__))

/* Where KVM may put the real-mode TSS and identity map (VMX needs both). */
#define VMM_TSS_ADDR		0xfffbd000UL
#define VMM_IDENTITY_MAP_ADDR	0xfffbc000UL

struct vmm_cap {
	int cap;
	const char *name;
};

/* The capabilities hyve relies on; a missing one is named in the error. */
static const struct vmm_cap vmm_required_caps[] = {
	{ KVM_CAP_USER_MEMORY,		"KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_IMMEDIATE_EXIT,	"KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_SET_TSS_ADDR,		"KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_COALESCED_MMIO,	"KVM_CAP_COALESCED_MMIO" },
	{ KVM_CAP_COALESCED_PIO,	"KVM_CAP_COALESCED_PIO" },
};

static int vmm_open_dev(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	switch (errno) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return err_set(-errno, "cannot open %s: %s (KVM is not available on this host: is the kvm module loaded?)",
			       path, strerror(errno));
	case EACCES:
	case EPERM:
		return err_set(-errno, "cannot open %s: %s (run as root or join the group that owns %s)",
			       path, strerror(errno), path);
	default:
		return err_set(-errno, "cannot open %s: %s", path, strerror(errno));
	}
}

void vmm_init(struct vmm *vmm)
{
	memset(vmm, 0, sizeof(*vmm));
	vmm->kvm_fd = vmm->vm_fd = -1;
	pthread_mutex_init(&vmm->route_lock, NULL);
}

int vmm_create(struct vmm *vmm, const char *path)
{
	int r;
	size_t i;

	vmm->kvm_fd = vmm_open_dev(path);
	if (vmm->kvm_fd < 0)
		return vmm->kvm_fd;

	r = KVM_IOCTL(vmm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (r != KVM_API_VERSION) {
		r = err_set(-ENOTSUP, "%s speaks KVM API %d, hyve needs %d", path, r, KVM_API_VERSION);
		goto fail;
	}
	for (i = 0; i < sizeof(vmm_required_caps) / sizeof(vmm_required_caps[0]); i++) {
		if (KVM_IOCTL(vmm->kvm_fd, KVM_CHECK_EXTENSION, vmm_required_caps[i].cap) <= 0) {
			r = err_set(-ENOTSUP, "%s lacks %s, which hyve needs", path,
				    vmm_required_caps[i].name);
			goto fail;
		}
	}
	vmm->coalesced_page = KVM_IOCTL(vmm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);

	vmm->run_size = KVM_IOCTL(vmm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vmm->run_size < (int)sizeof(struct kvm_run)) {
		r = err_set(-EINVAL, "KVM_GET_VCPU_MMAP_SIZE: bad size %d", vmm->run_size);
		goto fail;
	}

	do {
		vmm->vm_fd = KVM_IOCTL(vmm->kvm_fd, KVM_CREATE_VM, 0);
	} while (vmm->vm_fd < 0 && errno == EINTR);
	if (vmm->vm_fd < 0) {
		r = err_set(-errno, "KVM_CREATE_VM: %s", strerror(errno));
		goto fail;
	}
	if (KVM_IOCTL(vmm->vm_fd, KVM_SET_TSS_ADDR, VMM_TSS_ADDR) < 0) {
		r = err_set(-errno, "KVM_SET_TSS_ADDR: %s", strerror(errno));
		goto fail;
	}
	/* Only VMX hosts implement this; elsewhere it is harmless to fail. */
	{
		uint64_t idmap = VMM_IDENTITY_MAP_ADDR;
		(void)KVM_IOCTL(vmm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap);
	}
	return 0;
fail:
	vmm_destroy(vmm);
	return r;
}

void vmm_destroy(struct vmm *vmm)
{
	close_if_open(vmm->vm_fd);
	close_if_open(vmm->kvm_fd);
	vmm->vm_fd = vmm->kvm_fd = -1;
	vmm->ring = NULL;
	free(vmm->routes);
	vmm->routes = NULL;
}

bool vmm_has_cap(struct vmm *vmm, int cap)
{
	return KVM_IOCTL(vmm->kvm_fd, KVM_CHECK_EXTENSION, cap) > 0;
}

int vmm_set_memory(struct vmm *vmm, uint32_t slot, uint64_t gpa,
		   uint64_t size, void *host)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};

	if (KVM_IOCTL(vmm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return err_set(-errno, "KVM_SET_USER_MEMORY_REGION (slot %u, 0x%llx+0x%llx): %s",
			       slot, (unsigned long long)gpa, (unsigned long long)size,
			       strerror(errno));
	return 0;
}

int vmm_vcpu_create(struct vmm *vmm, int id, struct vmm_vcpu *vcpu)
{
	void *run;

	vcpu->id = id;
	vcpu->run = NULL;
	vcpu->fd = KVM_IOCTL(vmm->vm_fd, KVM_CREATE_VCPU, id);
	if (vcpu->fd < 0)
		return err_set(-errno, "KVM_CREATE_VCPU %d: %s", id, strerror(errno));
	run = mmap(NULL, vmm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (run == MAP_FAILED) {
		int e = errno;
		close(vcpu->fd);
		vcpu->fd = -1;
		return err_set(-e, "mmap of vCPU %d's kvm_run: %s", id, strerror(e));
	}
	vcpu->run = run;

	/* The coalesced ring is one page of every vCPU mapping; keep vCPU 0's. */
	if (!vmm->ring && vmm->coalesced_page > 0 &&
	    (long)(vmm->coalesced_page + 1) * getpagesize() <= vmm->run_size) {
		vmm->ring = (void *)((char *)run + (long)vmm->coalesced_page * getpagesize());
		vmm->ring_max = (getpagesize() - sizeof(struct kvm_coalesced_mmio_ring)) /
				sizeof(struct kvm_coalesced_mmio);
	}
	return 0;
}

void vmm_vcpu_destroy(struct vmm *vmm, struct vmm_vcpu *vcpu)
{
	if (vcpu->run) {
		if (vmm->ring && (char *)vmm->ring >= (char *)vcpu->run &&
		    (char *)vmm->ring < (char *)vcpu->run + vmm->run_size)
			vmm->ring = NULL;
		munmap(vcpu->run, vmm->run_size);
	}
	close_if_open(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
}

int vmm_vcpu_run(struct vmm_vcpu *vcpu)
{
	if (KVM_IOCTL(vcpu->fd, KVM_RUN, 0) < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return -EINTR;
		return err_set(-errno, "KVM_RUN on vCPU %d: %s", vcpu->id, strerror(errno));
	}
	return 0;
}

#define VMM_REG_IOCTL(fn, req, type, qual)					\
	int fn(struct vmm_vcpu *vcpu, qual type *p)				\
	{									\
		if (KVM_IOCTL(vcpu->fd, req, p) < 0)				\
			return err_set(-errno, #req " on vCPU %d: %s",		\
				       vcpu->id, strerror(errno));		\
		return 0;							\
	}
VMM_REG_IOCTL(vmm_set_fpu, KVM_SET_FPU, struct kvm_fpu, const)
VMM_REG_IOCTL(vmm_get_lapic, KVM_GET_LAPIC, struct kvm_lapic_state, )
VMM_REG_IOCTL(vmm_set_lapic, KVM_SET_LAPIC, struct kvm_lapic_state, const)
VMM_REG_IOCTL(vmm_set_cpuid, KVM_SET_CPUID2, struct kvm_cpuid2, const)
VMM_REG_IOCTL(vmm_get_cpuid, KVM_GET_CPUID2, struct kvm_cpuid2, )
VMM_REG_IOCTL(vmm_set_xcrs, KVM_SET_XCRS, struct kvm_xcrs, const)
VMM_REG_IOCTL(vmm_get_regs, KVM_GET_REGS, struct kvm_regs, )
VMM_REG_IOCTL(vmm_set_regs, KVM_SET_REGS, struct kvm_regs, const)
VMM_REG_IOCTL(vmm_get_sregs, KVM_GET_SREGS, struct kvm_sregs, )
VMM_REG_IOCTL(vmm_set_sregs, KVM_SET_SREGS, struct kvm_sregs, const)

int vmm_coalesce(struct vmm *vmm, uint64_t addr, uint32_t len, bool pio)
{
	struct kvm_coalesced_mmio_zone zone = {
		.addr = addr,
		.size = len,
		.pio = pio,
	};

	if (KVM_IOCTL(vmm->vm_fd, KVM_REGISTER_COALESCED_MMIO, &zone) < 0)
		return err_set(-errno, "KVM_REGISTER_COALESCED_MMIO (%s 0x%llx+%u): %s",
			       pio ? "pio" : "mmio", (unsigned long long)addr, len,
			       strerror(errno));
	return 0;
}

int vmm_uncoalesce(struct vmm *vmm, uint64_t addr, uint32_t len, bool pio)
{
	struct kvm_coalesced_mmio_zone zone = { .addr = addr, .size = len, .pio = pio };

	if (KVM_IOCTL(vmm->vm_fd, KVM_UNREGISTER_COALESCED_MMIO, &zone) < 0)
		return err_set(-errno, "KVM_UNREGISTER_COALESCED_MMIO (%s 0x%llx+%u): %s",
			       pio ? "pio" : "mmio", (unsigned long long)addr, len,
			       strerror(errno));
	return 0;
}

bool vmm_coalesced_pop(struct vmm *vmm, struct kvm_coalesced_mmio *out)
{
	struct kvm_coalesced_mmio_ring *r = vmm->ring;
	uint32_t first, last;

	if (!r)
		return false;
	first = r->first;
	last = __atomic_load_n(&r->last, __ATOMIC_ACQUIRE);
	if (first == last || first >= vmm->ring_max)
		return false;
	*out = r->coalesced_mmio[first];
	__atomic_store_n(&r->first, (first + 1) % vmm->ring_max, __ATOMIC_SEQ_CST);
	return true;
}

/*
 * GSI routing as on a PC and as the MADT says (IRQ0 -> GSI 2): ISA IRQs
 * 0-15 go to the 8259 pair, GSI n to IOAPIC pin n, except that the PIT's
 * GSI 0 reaches IOAPIC pin 2 and GSI 2 (the cascade) goes nowhere.  KVM's
 * default routing would put GSI 0 on pin 0.
 */
/* Hand KVM the whole routing table.  Called with route_lock held. */
static int vmm_commit_routes(struct vmm *vmm)
{
	struct kvm_irq_routing *rt;
	int r;

	rt = calloc(1, sizeof(*rt) + vmm->nroutes * sizeof(rt->entries[0]));
	if (!rt)
		return err_set(-ENOMEM, "out of memory");
	rt->nr = vmm->nroutes;
	memcpy(rt->entries, vmm->routes, vmm->nroutes * sizeof(rt->entries[0]));
	r = KVM_IOCTL(vmm->vm_fd, KVM_SET_GSI_ROUTING, rt);
	free(rt);
	if (r < 0)
		return err_set(-errno, "KVM_SET_GSI_ROUTING: %s", strerror(errno));
	return 0;
}

static int vmm_pc_gsi_routing(struct vmm *vmm)
{
	struct kvm_irq_routing_entry *e;
	unsigned n = 0;
	int r;

	vmm->routes = calloc(40 + VMM_MAX_MSI, sizeof(*vmm->routes));
	if (!vmm->routes)
		return err_set(-ENOMEM, "out of memory");
	for (unsigned gsi = 0; gsi < 24; gsi++) {
		if (gsi == 2)
			continue;
		if (gsi < 16) {
			e = &vmm->routes[n++];
			e->gsi = gsi;
			e->type = KVM_IRQ_ROUTING_IRQCHIP;
			e->u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
			e->u.irqchip.pin = gsi % 8;
		}
		e = &vmm->routes[n++];
		e->gsi = gsi;
		e->type = KVM_IRQ_ROUTING_IRQCHIP;
		e->u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e->u.irqchip.pin = gsi == 0 ? 2 : gsi;
	}
	vmm->nroutes = vmm->npc_routes = n;
	vmm->next_msi_gsi = VMM_MSI_GSI_BASE;
	lock(&vmm->route_lock, LOCK_VMM_ROUTES);
	r = vmm_commit_routes(vmm);
	unlock(&vmm->route_lock, LOCK_VMM_ROUTES);
	return r;
}

int vmm_alloc_gsi(struct vmm *vmm, uint32_t *gsi)
{
	int r = 0;

	lock(&vmm->route_lock, LOCK_VMM_ROUTES);
	if (!vmm->routes)
		r = err_set(-ENODEV, "no interrupt controller for MSI (a --raw guest has none)");
	else if (vmm->next_msi_gsi >= VMM_MSI_GSI_BASE + VMM_MAX_MSI)
		r = err_set(-ENOSPC, "no free interrupt routes (%u in use)", VMM_MAX_MSI);
	else
		*gsi = vmm->next_msi_gsi++;
	unlock(&vmm->route_lock, LOCK_VMM_ROUTES);
	return r;
}

int vmm_route_msi(struct vmm *vmm, uint32_t gsi, uint64_t addr, uint32_t data, bool masked)
{
	struct kvm_irq_routing_entry *e = NULL;
	int r;

	if (gsi < VMM_MSI_GSI_BASE || gsi >= VMM_MSI_GSI_BASE + VMM_MAX_MSI)
		return err_set(-EINVAL, "GSI %u is not an MSI route", gsi);
	lock(&vmm->route_lock, LOCK_VMM_ROUTES);
	for (unsigned i = vmm->npc_routes; i < vmm->nroutes; i++)
		if (vmm->routes[i].gsi == gsi)
			e = &vmm->routes[i];
	if (masked) {			/* a masked vector has no route */
		if (e) {
			*e = vmm->routes[--vmm->nroutes];
			r = vmm_commit_routes(vmm);
		} else {
			r = 0;
		}
		unlock(&vmm->route_lock, LOCK_VMM_ROUTES);
		return r;
	}
	if (!e)
		e = &vmm->routes[vmm->nroutes++];
	memset(e, 0, sizeof(*e));
	e->gsi = gsi;
	e->type = KVM_IRQ_ROUTING_MSI;
	e->u.msi.address_lo = (uint32_t)addr;
	e->u.msi.address_hi = (uint32_t)(addr >> 32);
	e->u.msi.data = data;
	r = vmm_commit_routes(vmm);
	unlock(&vmm->route_lock, LOCK_VMM_ROUTES);
	return r;
}

int vmm_ioeventfd(struct vmm *vmm, uint64_t addr, uint32_t len, bool pio,
		  int64_t datamatch, int fd, bool deassign)
{
	struct kvm_ioeventfd e = {
		.addr = addr, .len = len, .fd = fd,
		.datamatch = datamatch < 0 ? 0 : (uint64_t)datamatch,
		.flags = (pio ? KVM_IOEVENTFD_FLAG_PIO : 0) |
			 (datamatch >= 0 ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0) |
			 (deassign ? KVM_IOEVENTFD_FLAG_DEASSIGN : 0),
	};

	if (KVM_IOCTL(vmm->vm_fd, KVM_IOEVENTFD, &e) < 0)
		return err_set(-errno, "KVM_IOEVENTFD (%s 0x%llx+%u): %s", pio ? "pio" : "mmio",
			       (unsigned long long)addr, len, strerror(errno));
	return 0;
}

int vmm_irqfd(struct vmm *vmm, uint32_t gsi, int fd, bool deassign)
{
	struct kvm_irqfd i = {
		.fd = (uint32_t)fd, .gsi = gsi,
		.flags = deassign ? KVM_IRQFD_FLAG_DEASSIGN : 0,
	};

	if (KVM_IOCTL(vmm->vm_fd, KVM_IRQFD, &i) < 0)
		return err_set(-errno, "KVM_IRQFD (gsi %u): %s", gsi, strerror(errno));
	return 0;
}

int vmm_create_irqchip(struct vmm *vmm, bool pit_too)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	static const struct vmm_cap caps[] = {
		{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
		{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
		{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
		{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },
		{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
		{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
	};

	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if (KVM_IOCTL(vmm->kvm_fd, KVM_CHECK_EXTENSION, caps[i].cap) <= 0)
			return err_set(-ENOTSUP, "KVM lacks %s, which hyve needs to boot an OS",
				       caps[i].name);
	if (KVM_IOCTL(vmm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return err_set(-errno, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
	if (pit_too && KVM_IOCTL(vmm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return err_set(-errno, "KVM_CREATE_PIT2: %s", strerror(errno));
	return vmm_pc_gsi_routing(vmm);
}

int vmm_get_tsc_khz(struct vmm_vcpu *vcpu, uint32_t *khz)
{
	int r = ioctl(vcpu->fd, KVM_GET_TSC_KHZ, 0);

	if (r <= 0)
		return err_set(r < 0 ? -errno : -ENOTSUP, "KVM_GET_TSC_KHZ: %s",
			       r < 0 ? strerror(errno) : "no TSC frequency");
	*khz = (uint32_t)r;
	return 0;
}

int vmm_irq_line(struct vmm *vmm, uint32_t gsi, int level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	if (KVM_IOCTL(vmm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		return err_set(-errno, "KVM_IRQ_LINE (gsi %u): %s", gsi, strerror(errno));
	return 0;
}

int vmm_supported_cpuid(struct vmm *vmm, struct kvm_cpuid2 **out)
{
	for (unsigned n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

		if (!c)
			return err_set(-ENOMEM, "out of memory");
		c->nent = n;
		if (KVM_IOCTL(vmm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			*out = c;
			return 0;
		}
		free(c);
		if (errno != E2BIG)
			return err_set(-errno, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
	}
	return err_set(-E2BIG, "KVM_GET_SUPPORTED_CPUID: too many entries");
}

int vmm_set_msrs(struct vmm_vcpu *vcpu, const struct kvm_msr_entry *e, unsigned n)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + n * sizeof(*e));
	int r;

	if (!m)
		return err_set(-ENOMEM, "out of memory");
	m->nmsrs = n;
	memcpy(m->entries, e, n * sizeof(*e));
	r = KVM_IOCTL(vcpu->fd, KVM_SET_MSRS, m);
	free(m);
	if (r < 0)
		return err_set(-errno, "KVM_SET_MSRS on vCPU %d: %s", vcpu->id, strerror(errno));
	if ((unsigned)r != n)
		return err_set(-EINVAL, "KVM_SET_MSRS on vCPU %d: MSR 0x%x refused",
			       vcpu->id, e[r].index);
	return 0;
}
