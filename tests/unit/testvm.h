/*
 * testvm.h - the unit tests' VM: a real struct vm from vm_create_nokvm
 * (buses, guest RAM laid out as vm_create does, vCPU slots; no /dev/kvm,
 * no devices until a test attaches them).
 */
#ifndef HYVE_TESTVM_H
#define HYVE_TESTVM_H

#include "dev.h"
#include "vm.h"
#include "pci/pci.h"

/* TEST_VM(.mem_size = ..., .irqchip = ...): defaults 16 MiB, one vCPU. */
#define TEST_VM(...) testvm((struct vm_config){ __VA_ARGS__ })

static inline struct vm *testvm(struct vm_config cfg)
{
	struct vm *vm = NULL;

	if (!cfg.mem_size)
		cfg.mem_size = 16ULL << 20;
	if (!cfg.ncpus)
		cfg.ncpus = 1;
	assert_int_equal(vm_create_nokvm(&vm, &cfg), 0);
	assert_non_null(vm);
	return vm;
}

#define PIO(vm)		vm_iobus((vm), true)
#define MMIO(vm)	vm_iobus((vm), false)

/* Asserts that the range holding at (size bytes) on bus is name's, [base, base+len). */
static inline void assert_range(struct iobus *bus, uint64_t at, unsigned size,
				const char *name, uint64_t base, uint64_t len)
{
	const struct io_range *r = iobus_find(bus, at, size);

	assert_non_null(r);
	assert_string_equal(r->name, name);
	assert_int_equal(r->base, base);
	assert_int_equal(r->len, len);
}

/* A VM with the declared device name attached (its console: con). */
static inline struct vm *testvm_with(const char *name, struct console *con)
{
	const struct device_desc *d = device_find(name);
	struct vm *vm;

	assert_non_null(d);
	vm = TEST_VM(.con = con);
	assert_int_equal(device_attach(vm, d), 0);
	return vm;
}

/* The loader tests' guest: one at a time, of size bytes. */
static struct vm *guest __attribute__((unused));

static inline struct vm *guest_vm(uint64_t size)
{
	guest = TEST_VM(.mem_size = size);
	return guest;
}

static inline void free_vm(void)
{
	vm_destroy(guest);
	guest = NULL;
}

/* PCI interrupt calls that go nowhere and succeed (no KVM to route MSIs). */
static inline int testvm_line(void *c, unsigned g, bool l) { return 0; }
static inline int testvm_alloc(void *c, unsigned *g) { static unsigned n = 24; *g = n++; return 0; }
static inline int testvm_route(void *c, unsigned g, uint64_t a, uint32_t d, bool m) { return 0; }
static inline int testvm_irqfd(void *c, unsigned g, int fd, bool d) { return 0; }
static const struct pci_irq_ops testvm_no_irq __attribute__((unused)) = {
	testvm_line, testvm_alloc, testvm_route, testvm_irqfd,
};

#endif
