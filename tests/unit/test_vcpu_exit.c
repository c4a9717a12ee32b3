/*
 * Unit tests for the exit dispatch (vcpu_handle_exit) without KVM: a real
 * VM from vm_create_nokvm, and a kvm_run page is filled the way KVM fills it, and the exit-reason table,
 * string-I/O splitting, width handling and strict mode are checked.
 */
#include "unit.h"
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include "iobus.h"
#include "vcpu.h"
#define HYVE_VM_CORE		/* a test of the VM core: it may look inside */
#include "vm_impl.h"
#include "testvm.h"

#define RUN_SIZE 8192

struct fixture {
	struct vm *vm;
	struct vcpu vcpu;
	struct kvm_run *run;
	/* what the test device saw */
	int calls;
	uint64_t vals[16];
	uint64_t offs[16];
	unsigned sizes[16];
	uint32_t next_in;
};

static int dev(void *arg, bool write, uint64_t off, unsigned size, uint64_t *val)
{
	struct fixture *f = arg;

	if (f->calls < 16) {
		f->offs[f->calls] = off;
		f->sizes[f->calls] = size;
		f->vals[f->calls] = write ? *val : 0;
	}
	f->calls++;
	if (!write)
		*val = 0xa5a5a500 | f->next_in++;
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->vm = TEST_VM(.mem_size = 1ULL << 20);
	f->vm->vmm.run_size = RUN_SIZE;		/* as KVM would have said */
	assert_int_equal(iobus_register(PIO(f->vm), "dev", 0x500, 8, IO_READ | IO_WRITE, dev, f), 0);
	assert_int_equal(iobus_register(MMIO(f->vm), "mdev", 0xd0000000, 0x1000,
					IO_READ | IO_WRITE, dev, f), 0);
	f->run = aligned_alloc(4096, RUN_SIZE);
	memset(f->run, 0, RUN_SIZE);
	f->vcpu.vm = f->vm;
	f->vcpu.kvm.run = f->run;
	f->vcpu.kvm.fd = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vm_destroy(f->vm);
	free(f->run);
	free(f);
	return 0;
}

static void io_exit(struct fixture *f, bool out, uint16_t port, unsigned size, unsigned count)
{
	f->run->exit_reason = KVM_EXIT_IO;
	f->run->io.direction = out ? KVM_EXIT_IO_OUT : KVM_EXIT_IO_IN;
	f->run->io.port = port;
	f->run->io.size = size;
	f->run->io.count = count;
	f->run->io.data_offset = 4096;
}

static uint8_t *io_data(struct fixture *f)
{
	return (uint8_t *)f->run + 4096;
}

static void test_out_widths(void **state)
{
	struct fixture *f = *state;
	uint32_t v = 0x11223344;

	for (unsigned size = 1; size <= 4; size *= 2) {
		io_exit(f, true, 0x504, size, 1);
		memcpy(io_data(f), &v, 4);
		assert_int_equal(vcpu_handle_exit(&f->vcpu), VM_RUNNING);
	}
	assert_int_equal(f->calls, 3);
	assert_int_equal(f->vals[0], 0x44);
	assert_int_equal(f->vals[1], 0x3344);
	assert_int_equal(f->vals[2], 0x11223344);
	assert_int_equal(f->offs[0], 4);
	assert_int_equal(f->vcpu.exits[KVM_EXIT_IO], 3);
}

static void test_in_widths(void **state)
{
	struct fixture *f = *state;

	memset(io_data(f), 0xcc, 8);
	io_exit(f, false, 0x500, 1, 1);
	assert_int_equal(vcpu_handle_exit(&f->vcpu), VM_RUNNING);
	/* only the access width is written back; the byte after is untouched */
	assert_int_equal(io_data(f)[0], 0x00);
	assert_int_equal(io_data(f)[1], 0xcc);
	io_exit(f, false, 0x500, 2, 1);
	assert_int_equal(vcpu_handle_exit(&f->vcpu), VM_RUNNING);
	assert_int_equal(io_data(f)[0], 0x01);
	assert_int_equal(io_data(f)[1], 0xa5);
	assert_int_equal(io_data(f)[2], 0xcc);
}

static void test_string_out_delivers_every_element(void **state)
{
	struct fixture *f = *state;
	const uint16_t words[5] = { 0x1111, 0x2222, 0x3333, 0x4444, 0x5555 };

	io_exit(f, true, 0x502, 2, 5);		/* rep outsw, 5 elements */
	memcpy(io_data(f), words, sizeof(words));
	assert_int_equal(vcpu_handle_exit(&f->vcpu), VM_RUNNING);
	assert_int_equal(f->calls, 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(f->vals[i], words[i]);
		assert_int_equal(f->offs[i], 2);
		assert_int_equal(f->sizes[i], 2);
	}
}

static void test_string_in_fills_every_element(void **state)
{
	struct fixture *f = *state;
	uint32_t got[4];

	io_exit(f, false, 0x504, 4, 4);		/* rep insd, 4 elements */
	assert_int_equal(vcpu_handle_exit(&f->vcpu), VM_RUNNING);
	memcpy(got, io_data(f), sizeof(got));
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(got[i], 0xa5a5a500 | i);
}

static void test_string_in_unclaimed_all_ones(void **state)
{
	struct fixture *f = *state;

	memset(io_data(f), 0, 64);
	io_exit(f, false, 0x80, 1, 64);		/* rep insb from nowhere */
	assert_int_equal(vcpu_handle_exit(&f->vcpu), VM_RUNNING);
	for (int i = 0; i < 64; i++)
		assert_int_equal(io_data(f)[i], 0xff);
	assert_int_equal(f->vm->pio.unclaimed_reads, 64);
}

static void test_malformed_io_refused(void **state)
{
	struct fixture *f = *state;

	io_exit(f, true, 0x500, 1, 8192);	/* would run past the mapping */
	assert_int_equal(vcpu_handle_exit(&f->vcpu), VM_ERROR);
	assert_int_equal(f->calls, 0);
	assert_non_null(strstr(f->vm->stop_msg, "malformed KVM_EXIT_IO"));
}

static void test_malformed_io_size(void **state)
{
	struct fixture *f = *state;

	io_exit(f, true, 0x500, 3, 1);
	assert_int_equal(vcpu_handle_exit(&f->vcpu), VM_ERROR);
	assert_int_equal(f->calls, 0);
}

/* Strict I/O: one access to a port nobody claims stops the VM, saying exactly msg. */
static void expect_strict_io(struct fixture *f, bool out, uint16_t port, unsigned size, const char *msg)
{
	f->vm->cfg.strict_io = true;
	io_exit(f, out, port, size, 1);
	assert_int_equal(vcpu_handle_exit(&f->vcpu), VM_GUEST_FATAL);
	assert_string_equal(f->vm->stop_msg, msg);
}

static void test_strict_io(void **state)
{
	struct fixture *f = *state;

	expect_strict_io(f, true, 0x123, 1, "unhandled outb 0x123");
	assert_int_equal(f->vm->stop, VM_GUEST_FATAL);
}

static void test_strict_io_in_word(void **state)
{
	expect_strict_io(*state, false, 0x2f8, 2, "unhandled inw 0x2f8");
}

static void mmio_exit(struct fixture *f, bool write, uint64_t addr, unsigned len)
{
	f->run->exit_reason = KVM_EXIT_MMIO;
	f->run->mmio.phys_addr = addr;
	f->run->mmio.len = len;
	f->run->mmio.is_write = write;
}

static void test_mmio_widths(void **state)
{
	struct fixture *f = *state;
	uint64_t v = 0x8877665544332211ULL;

	for (unsigned len = 1; len <= 8; len *= 2) {
		mmio_exit(f, true, 0xd0000010, len);
		memcpy(f->run->mmio.data, &v, 8);
		assert_int_equal(vcpu_handle_exit(&f->vcpu), VM_RUNNING);
	}
	assert_int_equal(f->vals[0], 0x11);
	assert_int_equal(f->vals[1], 0x2211);
	assert_int_equal(f->vals[2], 0x44332211);
	assert_int_equal(f->vals[3], 0x8877665544332211ULL);
	assert_int_equal(f->offs[3], 0x10);
	memset(f->run->mmio.data, 0, 8);
	mmio_exit(f, false, 0xd0000000, 8);
	assert_int_equal(vcpu_handle_exit(&f->vcpu), VM_RUNNING);
	memcpy(&v, f->run->mmio.data, 8);
	assert_int_equal(v, 0xa5a5a500);
}

static void test_mmio_unclaimed_and_strict(void **state)
{
	struct fixture *f = *state;
	uint64_t v;

	mmio_exit(f, false, 0xb8000, 4);
	assert_int_equal(vcpu_handle_exit(&f->vcpu), VM_RUNNING);
	memcpy(&v, f->run->mmio.data, 8);
	assert_int_equal(v & 0xffffffff, 0xffffffff);
	f->vm->cfg.strict_io = true;
	mmio_exit(f, true, 0xfee00000, 8);
	assert_int_equal(vcpu_handle_exit(&f->vcpu), VM_GUEST_FATAL);
	assert_string_equal(f->vm->stop_msg, "unhandled writeq 0xfee00000");
}

static void test_mmio_bad_length(void **state)
{
	struct fixture *f = *state;

	mmio_exit(f, false, 0xd0000000, 9);
	assert_int_equal(vcpu_handle_exit(&f->vcpu), VM_ERROR);
	assert_int_equal(f->calls, 0);
}

static void test_reason_table(void **state)
{
	struct fixture *f = *state;

	f->run->exit_reason = KVM_EXIT_HLT;
	assert_int_equal(vcpu_handle_exit(&f->vcpu), VM_POWEROFF);
	assert_int_equal(f->vm->stop, VM_POWEROFF);
	/* the first reason to stop wins */
	f->run->exit_reason = KVM_EXIT_SHUTDOWN;
	assert_int_equal(vcpu_handle_exit(&f->vcpu), VM_TRIPLEFAULT);
	assert_int_equal(f->vm->stop, VM_POWEROFF);
	f->run->exit_reason = KVM_EXIT_INTR;
	assert_int_equal(vcpu_handle_exit(&f->vcpu), VM_RUNNING);
}

/* An exit of this reason stops the VM as want, saying msg. */
static void expect_stop(struct fixture *f, uint32_t reason, enum vm_stop want, const char *msg)
{
	f->run->exit_reason = reason;
	assert_int_equal(vcpu_handle_exit(&f->vcpu), want);
	assert_non_null(strstr(f->vm->stop_msg, msg));
}

static void test_triple_fault(void **state)
{
	expect_stop(*state, KVM_EXIT_SHUTDOWN, VM_TRIPLEFAULT, "triple fault");
}

static void test_internal_error(void **state)
{
	struct fixture *f = *state;

	f->run->internal.suberror = KVM_INTERNAL_ERROR_EMULATION;
	expect_stop(f, KVM_EXIT_INTERNAL_ERROR, VM_GUEST_FATAL,
		    "KVM_EXIT_INTERNAL_ERROR (suberror 1: emulation failure)");
	/* no KVM here: the register dump says so instead of crashing */
	assert_non_null(strstr(f->vm->stop_msg, "registers unavailable"));
}

static void test_unknown_reasons(void **state)
{
	struct fixture *f = *state;

	expect_stop(f, 1000, VM_GUEST_FATAL, "unhandled exit KVM_EXIT_unknown (1000)");
	assert_int_equal(f->vcpu.exits[VCPU_NR_EXITS], 1);
}

static void test_unhandled_known_reason(void **state)
{
	expect_stop(*state, KVM_EXIT_DEBUG, VM_GUEST_FATAL, "KVM_EXIT_DEBUG (4)");
}

static void test_system_events(void **state)
{
	struct fixture *f = *state;

	f->run->exit_reason = KVM_EXIT_SYSTEM_EVENT;
	f->run->system_event.type = KVM_SYSTEM_EVENT_RESET;
	assert_int_equal(vcpu_handle_exit(&f->vcpu), VM_RESET);
	assert_int_equal(f->vm->stop, VM_RESET);
}

struct slow { volatile int in_handler, applied; };

static int slow_dev(void *arg, bool write, uint64_t off, unsigned size, uint64_t *val)
{
	struct slow *s = arg;

	s->in_handler = 1;
	usleep(50000);
	s->applied = 1;
	return 0;
}

static void *drainer(void *arg)
{
	vm_drain_coalesced(arg);
	return NULL;
}

/*
 * Regression (issue 9): the empty-ring check outside the drain lock let a
 * vCPU go on while another one had popped an earlier write but not yet
 * replayed it.  A drain that finds the ring empty must still wait for it.
 */
static void test_drain_waits_for_replay_in_progress(void **state)
{
	struct fixture *f = *state;
	struct slow s = { 0 };
	struct kvm_coalesced_mmio_ring *ring = aligned_alloc(4096, 4096);
	pthread_t th;

	memset(ring, 0, 4096);
	assert_int_equal(iobus_register(&f->vm->pio, "slow", 0x600, 1, IO_WRITE, slow_dev, &s), 0);
	f->vm->vmm.ring = ring;
	f->vm->vmm.ring_max = (4096 - sizeof(*ring)) / sizeof(ring->coalesced_mmio[0]);
	ring->coalesced_mmio[0] = (struct kvm_coalesced_mmio){ .phys_addr = 0x600, .len = 1,
							       .pio = 1, .data = { 0x42 } };
	ring->last = 1;
	assert_int_equal(pthread_create(&th, NULL, drainer, f->vm), 0);
	while (!s.in_handler)
		usleep(100);
	/* the ring is empty now, but the write is not applied yet */
	vm_drain_coalesced(f->vm);
	assert_int_equal(s.applied, 1);
	pthread_join(th, NULL);
	f->vm->vmm.ring = NULL;
	free(ring);
}


TEST_MAIN(NULL, NULL,
	  TEST_FIX(test_out_widths), TEST_FIX(test_in_widths),
	  TEST_FIX(test_string_out_delivers_every_element),
	  TEST_FIX(test_string_in_fills_every_element),
	  TEST_FIX(test_string_in_unclaimed_all_ones), TEST_FIX(test_malformed_io_refused),
	  TEST_FIX(test_malformed_io_size), TEST_FIX(test_strict_io),
	  TEST_FIX(test_strict_io_in_word), TEST_FIX(test_mmio_widths),
	  TEST_FIX(test_mmio_unclaimed_and_strict), TEST_FIX(test_mmio_bad_length),
	  TEST_FIX(test_reason_table), TEST_FIX(test_triple_fault), TEST_FIX(test_internal_error),
	  TEST_FIX(test_unknown_reasons), TEST_FIX(test_unhandled_known_reason),
	  TEST_FIX(test_system_events),
	  TEST_FIX(test_drain_waits_for_replay_in_progress))
