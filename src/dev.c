/* dev.c - attach the devices declared with DEVICE() (see dev.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "dev.h"
#include "err.h"
#include "util.h"
#include "vm.h"

/* Provided by the linker for the "hyve_devices" section. */
LINKER_SET_DECLARE(hyve_devices, const struct device_desc);

_Static_assert(offsetof(struct device_desc, name) == 0, "name first (linker_set_find)");

const struct device_desc *device_find(const char *name)
{
	return LINKER_SET_FIND(hyve_devices, name);
}

void *dev_model_alloc(size_t size, const char *name)
{
	pthread_mutex_t *m = calloc(1, size);

	if (!m) {
		err_set(-ENOMEM, "%s: out of memory", name);
		return NULL;
	}
	pthread_mutex_init(m, NULL);
	return m;
}

void dev_vm_reset(void *vm)
{
	vm_request_stop(vm, VM_RESET, NULL);
}

void dev_vm_poweroff(void *vm)
{
	vm_request_stop(vm, VM_POWEROFF, NULL);
}

void dev_model_free(void *model)
{
	if (!model)
		return;
	pthread_mutex_destroy(model);
	free(model);
}

static int dev_register(struct vm *vm, const struct dev_range *g, void *dev)
{
	unsigned flags = g->flags & (IO_READ | IO_WRITE);

	if (g->flags & DEV_MMIO)
		return vm_register_mmio(vm, g->name, g->base, g->len, flags, g->io, dev);
	if (g->base > 0xffff || g->len > 0x10000 - g->base)
		return err_set(-EINVAL, "%s: bad port range", g->name);
	int r = vm_register_pio(vm, g->name, (uint16_t)g->base, (uint16_t)g->len,
				flags, g->io, dev);
	/* Without coalescing every write exits: slower, not wrong. */
	if (r == 0 && (g->flags & DEV_COALESCE) &&
	    vm_coalesce_pio(vm, (uint16_t)g->base, (uint16_t)g->len) < 0)
		err_clear();
	return r;
}

int device_attach(struct vm *vm, const struct device_desc *d)
{
	void *dev = NULL;
	int r;

	if (d->create && (r = d->create(vm, &dev)) < 0)
		return r;
	if (d->destroy && (r = vm_on_destroy(vm, d->destroy, dev)) < 0) {
		d->destroy(dev);
		return r;
	}
	for (int i = 0; i < DEV_MAX_RANGES && d->ranges[i].name; i++)
		if ((r = dev_register(vm, &d->ranges[i], dev)) < 0)
			return r;
	return d->attach ? d->attach(vm, dev) : 0;
}

static int dev_cmp(const void *a, const void *b)
{
	const struct device_desc *const *x = a, *const *y = b;

	if ((*x)->level != (*y)->level)
		return (*x)->level < (*y)->level ? -1 : 1;
	return strcmp((*x)->name, (*y)->name);
}

int devices_init(struct vm *vm)
{
	size_t n = __stop_hyve_devices - __start_hyve_devices;
	const struct device_desc **list;
	int r = 0;

	if (n == 0)
		return 0;
	list = malloc(n * sizeof(*list));
	if (!list)
		return err_set(-ENOMEM, "out of memory");
	memcpy(list, __start_hyve_devices, n * sizeof(*list));
	qsort(list, n, sizeof(*list), dev_cmp);		/* by level, then name */
	for (size_t i = 0; i < n && r == 0; i++)
		r = device_attach(vm, list[i]);
	free(list);
	return r;
}
