/*
 * Unit tests for the minimal i8042 (src/dev/i8042.c): status, reset line,
 * command byte, self-tests, bad accesses, and Linux's i8042 probe replayed
 * (it must finish without a single timeout).
 */
#include "unit.h"
#include <pthread.h>
#include <string.h>
#include "dev.h"
#include "iobus.h"
#include "vm.h"
#include "testvm.h"
#include "testdev.h"
#include "dev/i8042.h"

TESTDEV_CB_FIXTURE(struct i8042, k, resets, i8042_create, i8042_destroy)

static uint8_t status(struct fix *f)
{
	uint64_t v = 0x1234;

	assert_int_equal(i8042_cmd_io(f->k, false, 0, 1, &v), 0);
	assert_true(v <= 0xff);
	return (uint8_t)v;
}

static uint8_t data_in(struct fix *f)
{
	uint64_t v = 0x1234;

	assert_int_equal(i8042_data_io(f->k, false, 0, 1, &v), 0);
	assert_true(v <= 0xff);
	return (uint8_t)v;
}

static void cmd(struct fix *f, uint8_t c)
{
	uint64_t v = c;

	assert_int_equal(i8042_cmd_io(f->k, true, 0, 1, &v), 0);
}

static void data_out(struct fix *f, uint8_t c)
{
	uint64_t v = c;

	assert_int_equal(i8042_data_io(f->k, true, 0, 1, &v), 0);
}

static void test_idle_status(void **state)
{
	struct fix *f = *state;

	assert_int_equal(status(f), 0x1c);
	assert_int_equal(data_in(f), 0x00);		/* empty: 0 */
	assert_int_equal(data_in(f), 0x00);
	assert_int_equal(status(f), 0x1c);
	data_out(f, 0xf2);				/* to the keyboard: dropped */
	assert_int_equal(status(f), 0x14);		/* last write was data */
	assert_int_equal(data_in(f), 0x00);
	assert_int_equal(f->resets, 0);
}

static void test_reset(void **state)
{
	struct fix *f = *state;

	cmd(f, 0xfe);
	assert_int_equal(f->resets, 1);
	cmd(f, 0xff);					/* pulses nothing */
	cmd(f, 0xf1);
	assert_int_equal(f->resets, 1);
	cmd(f, 0xf0);					/* bit 0 clear: reset */
	assert_int_equal(f->resets, 2);
	data_out(f, 0xfe);				/* data port: no */
	assert_int_equal(f->resets, 2);
	cmd(f, 0xd1);					/* output port, bit 0 */
	data_out(f, 0xdf);
	assert_int_equal(f->resets, 2);
	cmd(f, 0xd1);
	data_out(f, 0xde);
	assert_int_equal(f->resets, 3);
}

static void test_reset_without_callback(void **state)
{
	struct i8042 *k;
	uint64_t v = 0xfe;

	assert_int_equal(i8042_create(&k, NULL, NULL), 0);
	assert_int_equal(i8042_cmd_io(k, true, 0, 1, &v), 0);
	i8042_destroy(k);
}

static void test_command_byte(void **state)
{
	struct fix *f = *state;

	cmd(f, 0x20);
	assert_int_equal(status(f) & 0x01, 0x01);	/* OBF */
	assert_int_equal(data_in(f), 0x44);
	assert_int_equal(status(f) & 0x01, 0x00);
	cmd(f, 0x60);
	data_out(f, 0x47);
	cmd(f, 0x20);
	assert_int_equal(data_in(f), 0x47);
	cmd(f, 0x60);
	data_out(f, 0x40);				/* system flag off */
	assert_int_equal(status(f) & 0x04, 0x00);
	cmd(f, 0xad);					/* port disable bits */
	cmd(f, 0xa7);
	cmd(f, 0x20);
	assert_int_equal(data_in(f), 0x70);
	cmd(f, 0xae);
	cmd(f, 0xa8);
	cmd(f, 0x20);
	assert_int_equal(data_in(f), 0x40);
	/* a command cancels one still waiting for its data byte */
	cmd(f, 0x60);
	cmd(f, 0x20);
	assert_int_equal(data_in(f), 0x40);
	data_out(f, 0x00);				/* now to the keyboard */
	cmd(f, 0x20);
	assert_int_equal(data_in(f), 0x40);
}

static void test_self_tests(void **state)
{
	struct fix *f = *state;

	cmd(f, 0xaa);
	assert_int_equal(data_in(f), 0x55);
	cmd(f, 0xab);
	assert_int_equal(data_in(f), 0x00);
	cmd(f, 0xa9);
	assert_int_equal(data_in(f), 0x02);		/* no AUX port */
	cmd(f, 0xd0);
	assert_int_equal(data_in(f), 0x01);
	cmd(f, 0xd2);
	data_out(f, 0x5a);
	assert_int_equal(status(f) & 0x21, 0x01);	/* keyboard data */
	assert_int_equal(data_in(f), 0x5a);
	cmd(f, 0xd3);
	data_out(f, 0xa5);
	assert_int_equal(status(f) & 0x21, 0x01);	/* not AUX data */
	assert_int_equal(data_in(f), 0xa5);
	cmd(f, 0xd4);					/* to the mouse: none */
	data_out(f, 0xff);
	assert_int_equal(status(f) & 0x01, 0x00);
	cmd(f, 0x12);					/* unknown: ignored */
	cmd(f, 0xc0);
	assert_int_equal(status(f), 0x1c);
	assert_int_equal(f->resets, 0);
}

static void test_bad_accesses(void **state)
{
	struct fix *f = *state;
	uint64_t v;

	for (unsigned size = 0; size <= 8; size++) {
		if (size == 1)
			continue;
		v = 0;
		assert_int_equal(i8042_cmd_io(f->k, false, 0, size, &v), 0);
		assert_int_equal(v, ~0ULL);
		v = 0;
		assert_int_equal(i8042_data_io(f->k, false, 0, size, &v), 0);
		assert_int_equal(v, ~0ULL);
		v = 0xfe;
		assert_int_equal(i8042_cmd_io(f->k, true, 0, size, &v), 0);
		v = 0x60;
		assert_int_equal(i8042_cmd_io(f->k, true, 0, size, &v), 0);
		assert_int_equal(i8042_data_io(f->k, true, 0, size, &v), 0);
	}
	v = 0;
	assert_int_equal(i8042_cmd_io(f->k, false, 1, 1, &v), 0);
	assert_int_equal(v, ~0ULL);
	v = 0xfe;
	assert_int_equal(i8042_cmd_io(f->k, true, UINT64_MAX, 1, &v), 0);
	assert_int_equal(i8042_data_io(f->k, true, 4, 1, &v), 0);
	assert_int_equal(f->resets, 0);
	cmd(f, 0x20);
	assert_int_equal(data_in(f), 0x44);		/* CTR untouched */
	/* a 1-byte write carrying high bits uses the low byte */
	v = 0x1fe;
	assert_int_equal(i8042_cmd_io(f->k, true, 0, 1, &v), 0);
	assert_int_equal(f->resets, 1);
}

/*
 * Linux's drivers/input/serio/i8042.c as it probes: __i8042_command() polls
 * the status register at most I8042_CTL_TIMEOUT times; every command here
 * must complete long before that.
 */
#define I8042_CTL_TIMEOUT 10000

static int wait_read(struct fix *f)
{
	for (int i = 0; i < I8042_CTL_TIMEOUT; i++)
		if (status(f) & 0x01)
			return 0;
	return -1;
}

static int wait_write(struct fix *f)
{
	for (int i = 0; i < I8042_CTL_TIMEOUT; i++)
		if (!(status(f) & 0x02))
			return 0;
	return -1;
}

/* command: low byte the code, bits 12-15 params out, bits 8-11 in */
static int i8042_command(struct fix *f, uint8_t *param, int command)
{
	int i;

	if (wait_write(f))
		return -1;
	cmd(f, (uint8_t)command);
	for (i = 0; i < ((command >> 12) & 0xf); i++) {
		if (wait_write(f))
			return -1;
		data_out(f, param[i]);
	}
	for (i = 0; i < ((command >> 8) & 0xf); i++) {
		if (wait_read(f))
			return -2;			/* timeout */
		if (command == 0x11d3 && !(status(f) & 0x20))
			return -3;			/* auxerr */
		param[i] = data_in(f);
	}
	return 0;
}

static int i8042_flush(struct fix *f)
{
	int count = 0;

	while (status(f) & 0x01) {
		if (count++ >= 16)
			return -1;
		data_in(f);
	}
	return 0;
}

static void test_linux_probe(void **state)
{
	struct fix *f = *state;
	uint8_t ctr[2], param;
	int r;

	/* i8042_controller_check() */
	assert_int_equal(i8042_flush(f), 0);
	/* i8042_controller_init(): a stable CTR, no keylock, write back */
	assert_int_equal(i8042_command(f, &ctr[0], 0x0120), 0);
	assert_int_equal(i8042_command(f, &ctr[1], 0x0120), 0);
	assert_int_equal(ctr[0], ctr[1]);
	assert_true(status(f) & 0x10);
	ctr[0] = (ctr[0] | 0x10) & ~0x01;
	assert_int_equal(i8042_command(f, &ctr[0], 0x1060), 0);
	assert_int_equal(i8042_flush(f), 0);
	/* i8042_check_aux(): loop fails, AUX test reports a fault: no AUX */
	assert_int_equal(i8042_flush(f), 0);
	param = 0x5a;
	r = i8042_command(f, &param, 0x11d3);
	assert_int_not_equal(r, -2);			/* no timeout */
	assert_true(r != 0 || param != 0x5a);
	r = i8042_command(f, &param, 0x01a9);
	assert_int_equal(r, 0);
	assert_true(param && param != 0xfa && param != 0xff);
	/* i8042_enable_kbd_port() */
	ctr[0] = (ctr[0] & ~0x10) | 0x01;
	assert_int_equal(i8042_command(f, &ctr[0], 0x1060), 0);
	assert_int_equal(i8042_command(f, &param, 0x0120), 0);
	assert_int_equal(param, ctr[0]);
	assert_int_equal(i8042_flush(f), 0);
	/* reboot: kb_wait() then 0xfe */
	assert_int_equal(wait_write(f), 0);
	cmd(f, 0xfe);
	assert_int_equal(f->resets, 1);
}

/* The DEVICE() declaration: two 1-port ranges, and 0xfe stops the VM for reset. */
static void test_device_init(void **state)
{
	const struct io_range *rd, *rc;
	uint64_t v;
	struct vm *vm = testvm_with("i8042", NULL);

	rd = iobus_find(PIO(vm), 0x60, 1);
	rc = iobus_find(PIO(vm), 0x64, 1);
	assert_non_null(rd);
	assert_non_null(rc);
	assert_string_equal(rd->name, "i8042-data");
	assert_string_equal(rc->name, "i8042-cmd");
	assert_int_equal(rd->len, 1);
	assert_int_equal(rc->len, 1);
	assert_null(iobus_find(PIO(vm), 0x61, 1));
	assert_int_equal(iobus_access(PIO(vm), false, 0x64, 1, &v), 0);
	assert_int_equal(v, 0x1c);
	assert_false(vm_stopping(vm));
	v = 0xfe;
	assert_int_equal(iobus_access(PIO(vm), true, 0x64, 1, &v), 0);
	assert_true(vm_stopping(vm));
	assert_int_equal(vm_stop_reason(vm), VM_RESET);
	assert_string_equal(vm_stop_msg(vm), "");
	vm_destroy(vm);
}

TEST_MAIN(NULL, NULL,
	  TEST_FIX(test_idle_status), TEST_FIX(test_reset), TEST(test_reset_without_callback),
	  TEST_FIX(test_command_byte), TEST_FIX(test_self_tests), TEST_FIX(test_bad_accesses),
	  TEST_FIX(test_linux_probe), TEST(test_device_init))
