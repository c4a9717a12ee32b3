/*
 * dev.h - device registration.
 *
 * Each device file declares itself with DEVICE(name, init); the declaration
 * lands in the "hyve_devices" linker section (bhyve's linker sets), so the
 * core never lists devices.  devices_init() calls every init in name order
 * once the VM exists; an init registers the device's port or MMIO ranges
 * through the vm_* calls in vm.h.
 */
#ifndef HYVE_DEV_H
#define HYVE_DEV_H

struct vm;

struct device_desc {
	const char *name;
	int (*init)(struct vm *vm);	/* 0 or -errno (with err_set) */
};

#define DEVICE(n, initfn)						\
	static const struct device_desc device_desc_##n = { #n, initfn }; \
	static const struct device_desc *const device_ptr_##n		\
	__attribute__((used, section("hyve_devices"))) = &device_desc_##n

/* The declared device called name, or NULL (tests, and --device later). */
const struct device_desc *device_find(const char *name);

/* Initialise every declared device.  Returns 0 or the first -errno. */
int devices_init(struct vm *vm);

#endif
