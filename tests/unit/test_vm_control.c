/*
 * Unit tests for the VM core's control-plane calls on a KVM-free VM:
 * vm_stats_visit (exit and range counters, handler-time histograms),
 * vm_power_button (the ACPI device's PWRBTN_STS; refused without an
 * interrupt controller, as for raw images), vm_pause / vm_resume.
 */
#include <errno.h>
#include <string.h>
#include "unit.h"
#include "testvm.h"
#include "dev/acpi_pm.h"
#include "boot/acpi.h"

struct seen {
	uint64_t evt_reads, evt_hist, exits;
	int ranges;
};

static void on_exit_cb(void *arg, const char *reason, uint64_t count, uint64_t ns,
		       const uint64_t hist[IO_HIST_BUCKETS])
{
	((struct seen *)arg)->exits += count;
}

static void on_range(void *arg, const char *bus, const struct io_range *r)
{
	struct seen *s = arg;

	s->ranges++;
	if (!strcmp(r->name, "acpi-pm1-evt")) {
		s->evt_reads = r->st->reads;
		for (int b = 0; b < IO_HIST_BUCKETS; b++)
			s->evt_hist += r->st->hist[b];
	}
}

static const struct vm_stats_ops ops = { on_exit_cb, on_range, NULL };

static struct vm *acpi_vm(bool irqchip)
{
	struct vm *vm = TEST_VM(.timing = true, .irqchip = irqchip);

	assert_int_equal(device_attach(vm, device_find("acpi_pm")), 0);
	return vm;
}

static void test_stats_visit(void **state)
{
	struct vm *vm = acpi_vm(false);
	struct seen s = { 0 };
	uint64_t v;

	for (int i = 0; i < 7; i++)
		iobus_access(PIO(vm), false, ACPI_PM1A_EVT_PORT, 2, &v);
	vm_stats_visit(vm, &ops, &s);
	assert_true(s.ranges >= 2);
	assert_int_equal(s.evt_reads, 7);
	assert_int_equal(s.evt_hist, 7);	/* timing on: every access in one bucket */
	assert_int_equal(s.exits, 0);		/* no vCPU ran */
	vm_destroy(vm);
}

static void test_power_button(void **state)
{
	struct vm *vm = acpi_vm(true);
	uint64_t v = 0;

	iobus_access(PIO(vm), false, ACPI_PM1A_EVT_PORT, 2, &v);
	assert_false(v & PM1_PWRBTN);
	assert_int_equal(vm_power_button(vm), 0);
	iobus_access(PIO(vm), false, ACPI_PM1A_EVT_PORT, 2, &v);
	assert_true(v & PM1_PWRBTN);
	vm_destroy(vm);

	vm = acpi_vm(false);			/* no interrupt controller: no button */
	assert_int_equal(vm_power_button(vm), -ENOTSUP);
	vm_destroy(vm);
	vm = TEST_VM();				/* no ACPI device at all */
	assert_int_equal(vm_power_button(vm), -ENOTSUP);
	vm_destroy(vm);
}

static void test_pause_without_vcpus(void **state)
{
	struct vm *vm = TEST_VM();

	assert_false(vm_paused(vm));
	vm_pause(vm);				/* no vCPU thread: returns at once */
	assert_true(vm_paused(vm));
	vm_resume(vm);
	assert_false(vm_paused(vm));
	vm_request_stop(vm, VM_ERROR, "test");	/* wakes parked vCPUs: none here */
	vm_pause(vm);
	vm_destroy(vm);
}

TEST_MAIN(NULL, NULL,
	  TEST(test_stats_visit),
	  TEST(test_power_button),
	  TEST(test_pause_without_vcpus));
