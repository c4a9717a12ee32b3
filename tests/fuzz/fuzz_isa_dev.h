/*
 * fuzz_isa_dev.h - one platform device (FUZZ_DEVICE, at FUZZ_BASE..+FUZZ_SPAN
 * ports) on a KVM-free VM, driven by random port accesses: records of
 * (op, port offset, value); op bit 0 = write, bits 1-2 = width.  Offsets
 * start 4 below the device's ports and end 4 past them (edges, straddles).
 */
#include "fuzz_vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct console *con = console_new_memory();
	struct vm *vm = fz_vm(1 << 20, con);
	const struct device_desc *d = device_find(FUZZ_DEVICE);

	CHECK(d && device_attach(vm, d) == 0);
	while (fz_more(&f)) {
		uint8_t op = (uint8_t)fz_get(&f, 1);
		uint64_t port = FUZZ_BASE - 4 + fz_get(&f, 1) % (FUZZ_SPAN + 8);
		unsigned w = fz_width(op >> 1, 4);

		fz_access(vm, true, op & 1, port, w, fz_get(&f, 4));
	}
	vm_destroy(vm);
	console_close(con);
	return 0;
}
