/* dev.c - run the init of every device declared with DEVICE() (see dev.h). */
#include <stdlib.h>
#include <string.h>
#include "dev.h"
#include "err.h"

/* Provided by the linker for the "hyve_devices" section. */
extern const struct device_desc *const __start_hyve_devices[] __attribute__((weak));
extern const struct device_desc *const __stop_hyve_devices[] __attribute__((weak));

static int dev_cmp(const void *a, const void *b)
{
	const struct device_desc *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

const struct device_desc *device_find(const char *name)
{
	for (const struct device_desc *const *d = __start_hyve_devices;
	     d < __stop_hyve_devices; d++)
		if (!strcmp((*d)->name, name))
			return *d;
	return NULL;
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
		return err_set(-12, "out of memory");
	memcpy(list, __start_hyve_devices, n * sizeof(*list));
	qsort(list, n, sizeof(*list), dev_cmp);	/* deterministic order */
	for (size_t i = 0; i < n && r == 0; i++)
		r = list[i]->init(vm);
	free(list);
	return r;
}
