/*
 * dev.h - platform devices: one declaration per device.
 *
 * A device file declares itself with DEVICE(name, ...): its init level, how
 * to create and destroy its model, the port / MMIO ranges it answers and
 * their handler, and an optional attach step for the rest (an IRQ line, a
 * callback).  The declaration lands in the "hyve_devices" linker section
 * (bhyve's linker sets), so the core never lists devices:
 *
 *	DEVICE(rtc, .level = DEV_LEVEL_DEV,
 *	       .create = rtc_new, .destroy = dev_model_free,
 *	       .ranges = { { "rtc", RTC_PORT, 2, rtc_io, IO_READ | IO_WRITE } });
 *
 * device_attach() is the glue every device used to repeat: create the
 * model, have vm_destroy free it (vm_on_destroy), register each range with
 * the model as its argument, then attach.  The model lives in the instance
 * only: no static device pointers.
 *
 * Init order is explicit (kvmtool's base/dev/late): devices_init() attaches
 * every DEV_LEVEL_BASE device, then DEV_LEVEL_DEV, then DEV_LEVEL_LATE; by
 * name within a level.
 */
#ifndef HYVE_DEV_H
#define HYVE_DEV_H

#include <stddef.h>
#include <stdint.h>
#include "iobus.h"

struct vm;

enum dev_level {
	DEV_LEVEL_BASE,		/* buses and bridges others hang off (pci_host) */
	DEV_LEVEL_DEV,		/* the platform's devices (ISA-style) */
	DEV_LEVEL_LATE,		/* what needs the devices above */
	DEV_NLEVELS
};

/* Range flags beyond IO_READ / IO_WRITE. */
#define DEV_MMIO	0x100	/* an MMIO range (default: ports) */
#define DEV_COALESCE	0x200	/* ask KVM to coalesce writes (ports; best effort) */

#define DEV_MAX_RANGES	4

struct dev_range {
	const char *name;	/* NULL: unused slot */
	uint64_t base, len;
	io_handler_fn io;	/* called with the device's model as arg */
	unsigned flags;		/* IO_READ | IO_WRITE | DEV_* */
};

struct device_desc {
	const char *name;
	enum dev_level level;
	/* Make the model (*dev; NULL for a stateless device).  Optional. */
	int (*create)(struct vm *vm, void **dev);
	/* Free it (at vm_destroy, after every vCPU stopped).  Optional. */
	void (*destroy)(void *dev);
	struct dev_range ranges[DEV_MAX_RANGES];
	/* After the ranges are registered: the rest.  Optional. */
	int (*attach)(struct vm *vm, void *dev);
};

#define DEVICE(n, ...)							\
	static const struct device_desc device_desc_##n = { .name = #n, __VA_ARGS__ }; \
	static const struct device_desc *const device_ptr_##n		\
	__attribute__((used, section("hyve_devices"))) = &device_desc_##n

/*
 * A device model whose first member is its pthread_mutex_t lock:
 * dev_model_alloc returns it zeroed with the lock initialised (NULL and
 * err_set on ENOMEM); dev_model_free (NULL: no-op) is its .destroy.
 */
void *dev_model_alloc(size_t size, const char *name);
/* Callbacks for models that end the VM (arg: the vm): reset, power off. */
void dev_vm_reset(void *vm);
void dev_vm_poweroff(void *vm);
void dev_model_free(void *model);
#define DEV_MODEL_LOCK_FIRST(type) \
	_Static_assert(offsetof(type, lock) == 0, #type ": the lock must come first")

/* The declared device called name, or NULL (tests, and --device later). */
const struct device_desc *device_find(const char *name);

/* Create, register and attach one device on vm.  0 or -errno. */
int device_attach(struct vm *vm, const struct device_desc *d);

/* Attach every declared device, level by level.  0 or the first -errno. */
int devices_init(struct vm *vm);

#endif
