/*
 * testvm.h - the unit tests' VM: a real struct vm from vm_create_nokvm
 * (buses, guest RAM laid out as vm_create does, vCPU slots; no /dev/kvm,
 * no devices until a test attaches them).
 */
#ifndef HYVE_TESTVM_H
#define HYVE_TESTVM_H

#include "vm.h"

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

#endif
