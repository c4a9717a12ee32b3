/*
 * fuzz_bzimage.c - libFuzzer target: random bytes as the kernel file
 * (bzImage or ELF vmlinux, as kernel_open tells them apart), through the
 * checks and, when they pass, the placement into guest RAM, which here is a
 * plain mapping.  Must never crash, leak or read out of bounds.
 *
 *   make build/fuzz/fuzz_bzimage && build/fuzz/fuzz_bzimage -max_total_time=60
 *
 * Links src/boot/{kernel,bzimage,pvh,e820}.c and src/err.c; the few calls
 * into the rest of hyve are stubbed below, weakly, so that linking every
 * source but main.c works too (the real ones then win).
 *
 * The first input byte picks the guest size, whether the input's tail is
 * also an initrd, and a command line; the rest is the kernel.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "boot/kernel.h"
#include "vm.h"

#define RAM_MAX (64ULL << 20)

/* vm.c's checked accessor, same contract: inside one region or NULL. */
__attribute__((weak)) void *vm_gpa(struct vm *vm, uint64_t gpa, uint64_t len)
{
	for (int i = 0; i < vm->nmem; i++) {
		const struct mem_region *m = &vm->mem[i];

		if (gpa >= m->gpa && gpa - m->gpa <= m->size &&
		    len <= m->size - (gpa - m->gpa))
			return m->host + (gpa - m->gpa);
	}
	return NULL;
}

/* kernel_set_entry's KVM calls: never reached here. */
__attribute__((weak)) int vmm_get_sregs(struct vmm_vcpu *v, struct kvm_sregs *s) { return -ENOSYS; }
__attribute__((weak)) int vmm_set_sregs(struct vmm_vcpu *v, const struct kvm_sregs *s) { return -ENOSYS; }
__attribute__((weak)) int vmm_set_regs(struct vmm_vcpu *v, const struct kvm_regs *r) { return -ENOSYS; }

static uint8_t *ram;

/* A guest of size bytes (<= RAM_MAX) laid out as vm_setup_memory does. */
static void fake_vm(struct vm *vm, uint64_t size)
{
	memset(vm, 0, sizeof(*vm));
	vm->ram = ram;
	vm->mem[vm->nmem++] = (struct mem_region){ 0, size < GUEST_LOW_END ?
						   size : GUEST_LOW_END, ram };
	if (size > GUEST_HIGH_START)
		vm->mem[vm->nmem++] = (struct mem_region){ GUEST_HIGH_START,
			size - GUEST_HIGH_START, ram + GUEST_HIGH_START };
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t sizes[4] = { 1ULL << 20, 2ULL << 20, 16ULL << 20, RAM_MAX };
	static const char *cmdlines[4] = { NULL, "", "console=ttyS0",
		"a very long command line that some kernels will refuse because it is longer than sixteen" };
	struct kernel_image k;
	struct kernel_entry e;
	struct kvm_sregs s;
	struct kvm_regs r;
	struct vm vm;
	const uint8_t *initrd = NULL;
	size_t initrd_size = 0;
	uint64_t mem;
	uint8_t sel;

	if (!ram) {
		ram = mmap(NULL, RAM_MAX, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (ram == MAP_FAILED)
			abort();
	}
	if (size < 1)
		return 0;
	sel = data[0];
	data++;
	size--;
	mem = sizes[sel & 3];
	if ((sel & 4) && size >= 8) {
		/* The last quarter doubles as the initrd. */
		initrd_size = size / 4;
		initrd = data + size - initrd_size;
	}
	if (kernel_open_mem(&k, "fuzz-kernel", data, size, "fuzz-initrd", initrd, initrd_size,
			    cmdlines[(sel >> 3) & 3], mem) < 0)
		return 0;
	fake_vm(&vm, mem);
	if (kernel_place(&k, &vm, (sel & 0x20) ? 0xE0000 : 0, &e) == 0) {
		memset(&s, 0, sizeof(s));
		kernel_entry_state(&e, &s, &r);
	}
	kernel_close(&k);
	return 0;
}
