/*
 * Unit tests for keys typed into the i8042 by the host (SendCtrlAltDel):
 * scancodes reach the output buffer one at a time, in order, each with an
 * IRQ 1 edge when the guest enabled keyboard interrupts; a disabled
 * keyboard port holds them; a controller reply goes first; the queue is
 * bounded.  And vm_ctrl_alt_del on a VM with the i8042.
 */
#include <errno.h>
#include <string.h>
#include "unit.h"
#include "testvm.h"
#include "dev/i8042.h"

static int irqs;

static void count_irq(void *arg)
{
	irqs++;
}

static uint64_t in(struct i8042 *k, bool cmd)
{
	uint64_t v = 0;

	assert_int_equal(cmd ? i8042_cmd_io(k, false, 0, 1, &v) : i8042_data_io(k, false, 0, 1, &v), 0);
	return v;
}

static void out(struct i8042 *k, bool cmd, uint8_t b)
{
	uint64_t v = b;

	assert_int_equal(cmd ? i8042_cmd_io(k, true, 0, 1, &v) : i8042_data_io(k, true, 0, 1, &v), 0);
}

static const uint8_t cad[] = { 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };

static void test_typed_in_order(void **state)
{
	struct i8042 *k;

	assert_int_equal(i8042_create(&k, NULL, NULL), 0);
	i8042_set_irq(k, count_irq, NULL);
	irqs = 0;
	assert_int_equal(i8042_type(k, cad, sizeof(cad)), 0);
	assert_int_equal(irqs, 0);		/* interrupts off (CTR bit 0 clear) */
	for (size_t i = 0; i < sizeof(cad); i++) {
		assert_true(in(k, true) & 0x01);	/* OBF */
		assert_int_equal(in(k, false), cad[i]);
	}
	assert_false(in(k, true) & 0x01);
	i8042_destroy(k);
}

static void test_irq_per_key(void **state)
{
	struct i8042 *k;

	assert_int_equal(i8042_create(&k, NULL, NULL), 0);
	i8042_set_irq(k, count_irq, NULL);
	irqs = 0;
	out(k, true, 0x60);			/* write the command byte: */
	out(k, false, 0x45);			/* translate, system, KBD interrupt */
	assert_int_equal(i8042_type(k, cad, 3), 0);
	assert_int_equal(irqs, 1);		/* the first key is in the buffer */
	assert_int_equal(in(k, false), 0x1d);
	assert_int_equal(irqs, 2);		/* reading it brings the next */
	assert_int_equal(in(k, false), 0x38);
	assert_int_equal(in(k, false), 0xe0);
	assert_int_equal(irqs, 3);
	i8042_destroy(k);
}

static void test_disabled_port_and_replies(void **state)
{
	struct i8042 *k;

	assert_int_equal(i8042_create(&k, NULL, NULL), 0);
	out(k, true, 0xad);			/* keyboard port disabled */
	assert_int_equal(i8042_type(k, cad, 2), 0);
	assert_false(in(k, true) & 0x01);	/* held */
	out(k, true, 0xaa);			/* self test: the reply goes first */
	assert_int_equal(in(k, false), 0x55);
	out(k, true, 0xae);			/* enabled: the keys come */
	assert_int_equal(in(k, false), 0x1d);
	assert_int_equal(in(k, false), 0x38);
	i8042_destroy(k);
}

static void test_queue_bound(void **state)
{
	struct i8042 *k;
	uint8_t many[I8042_KEYQ + 1];

	memset(many, 0x1e, sizeof(many));
	assert_int_equal(i8042_create(&k, NULL, NULL), 0);
	assert_int_equal(i8042_type(k, many, sizeof(many)), -EBUSY);
	assert_int_equal(i8042_type(k, many, 1), 0);	/* in the buffer */
	assert_int_equal(i8042_type(k, many, I8042_KEYQ), 0);	/* the queue */
	assert_int_equal(i8042_type(k, many, 1), -EBUSY);
	i8042_destroy(k);
}

static void test_vm_ctrl_alt_del(void **state)
{
	struct vm *vm = TEST_VM(.irqchip = true);
	uint64_t v = 0;

	assert_int_equal(device_attach(vm, device_find("i8042")), 0);
	assert_int_equal(vm_ctrl_alt_del(vm), 0);
	iobus_access(PIO(vm), false, I8042_DATA_PORT, 1, &v);
	assert_int_equal(v, 0x1d);
	vm_destroy(vm);
	vm = TEST_VM();				/* no keyboard controller */
	assert_int_equal(vm_ctrl_alt_del(vm), -ENOTSUP);
	vm_destroy(vm);
}

TEST_MAIN(NULL, NULL,
	  TEST(test_typed_in_order),
	  TEST(test_irq_per_key),
	  TEST(test_disabled_port_and_replies),
	  TEST(test_queue_bound),
	  TEST(test_vm_ctrl_alt_del));
