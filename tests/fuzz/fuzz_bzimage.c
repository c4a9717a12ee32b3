/*
 * fuzz_bzimage.c - libFuzzer target: random bytes as the kernel file
 * (bzImage or ELF vmlinux, as kernel_open tells them apart), through the
 * checks and, when they pass, the placement into guest RAM.  Must never crash, leak or read out of bounds.
 *
 *   make build/fuzz/fuzz_bzimage && build/fuzz/fuzz_bzimage -max_total_time=60
 *
 * Links the loaders and the VM core (Makefile: FUZZ_VM_SRC): guest RAM is
 * a real VM's, built by vm_create_nokvm, reached through the real vm_gpa.
 *
 * The first input byte picks the guest size, whether the input's tail is
 * also an initrd, and a command line; the rest is the kernel.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "boot/kernel.h"
#include "vm.h"

#define RAM_MAX (64ULL << 20)

/* One real VM per guest size, built without KVM, kept across inputs. */
static struct vm *guest(unsigned i, uint64_t size)
{
	static struct vm *vms[4];

	if (!vms[i]) {
		struct vm_config cfg = { .mem_size = size, .ncpus = 1 };
		if (vm_create_nokvm(&vms[i], &cfg) < 0)
			abort();
	}
	return vms[i];
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
	const uint8_t *initrd = NULL;
	size_t initrd_size = 0;
	uint64_t mem;
	uint8_t sel;

	if (!fuzz_take_byte(&data, &size, &sel))
		return 0;
	mem = sizes[sel & 3];
	if ((sel & 4) && size >= 8) {
		/* The last quarter doubles as the initrd. */
		initrd_size = size / 4;
		initrd = data + size - initrd_size;
	}
	if (kernel_open_mem(&k, "fuzz-kernel", data, size, "fuzz-initrd", initrd, initrd_size,
			    cmdlines[(sel >> 3) & 3], mem) < 0)
		return 0;
	if (kernel_place(&k, guest(sel & 3, mem), (sel & 0x20) ? 0xE0000 : 0, &e) == 0) {
		memset(&s, 0, sizeof(s));
		kernel_entry_state(&e, &s, &r);
	}
	kernel_close(&k);
	return 0;
}
