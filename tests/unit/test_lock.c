/*
 * Unit tests for the lock order (src/lock.[ch], docs/threads.md): the
 * per-thread rank check itself, and two threads hammering every platform
 * device and a virtio device on a real VM (vm_create_nokvm + devices_init),
 * as two vCPUs would.  In the SAN build lock() checks the order on every
 * acquisition (HYVE_LOCK_DEBUG), so a path that nests locks against the
 * documented order aborts this test.
 */
#include "unit.h"
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "console.h"
#include "dev.h"
#include "lock.h"
#include "vm.h"
#include "testvm.h"
#include "pci/pci.h"

static void test_in_order(void **state)
{
	lock_rank_acquire(LOCK_DRAIN);
	lock_rank_acquire(LOCK_DEVICE);
	lock_rank_acquire(LOCK_CONSOLE);
	lock_rank_release(LOCK_CONSOLE);
	lock_rank_acquire(LOCK_VM_STOP);	/* a leaf under two */
	lock_rank_release(LOCK_VM_STOP);
	lock_rank_release(LOCK_DEVICE);
	lock_rank_release(LOCK_DRAIN);
	/* everything released: any order starts afresh */
	lock_rank_acquire(LOCK_VM_STOP);
	lock_rank_release(LOCK_VM_STOP);
	lock_rank_acquire(LOCK_PCI_DEV);
	lock_rank_release(LOCK_PCI_DEV);
	assert_string_equal(lock_rank_name(LOCK_MSIX), "msix");
}

/* Run fn in a child; it must abort, saying which two locks. */
static void expect_abort(void (*fn)(void), const char *taking, const char *holding)
{
	char buf[512] = "";
	int p[2], status;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 2);
		fn();
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "lock order violated"));
	assert_non_null(strstr(buf, taking));
	assert_non_null(strstr(buf, holding));
}

static void inverted(void)
{
	lock_rank_acquire(LOCK_CONSOLE);
	lock_rank_acquire(LOCK_DEVICE);		/* UART under console: wrong */
}

static void same_rank_twice(void)
{
	lock_rank_acquire(LOCK_PCI_DEV);
	lock_rank_acquire(LOCK_PCI_DEV);	/* two devices' config locks */
}

static void test_violations_abort(void **state)
{
	expect_abort(inverted, "'isa device'", "'console'");
	expect_abort(same_rank_twice, "'pci device'", "'pci device'");
}

/* ---- two "vCPUs" on one VM ---- */

struct hammer {
	struct vm *vm;
	unsigned seed;
	unsigned slot;		/* the virtio device's PCI slot */
	unsigned n;
	uint64_t bar[2];	/* its virtio and MSI-X BARs */
};

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void *hammer(void *arg)
{
	static const uint16_t ports[] = {
		0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff,	/* COM1 */
		0x70, 0x71, 0x60, 0x64, 0x80, 0x220, 0x221, 0x2f8, 0x3e8,
		0x600, 0x601, 0x604, 0x605,				/* ACPI PM */
	};
	struct hammer *h = arg;
	struct iobus *pio = PIO(h->vm), *mmio = MMIO(h->vm);

	for (unsigned i = 0; i < h->n; i++) {
		unsigned r = rnd(&h->seed), size = 1u << (r % 3);
		uint64_t v = rnd(&h->seed);
		bool write = r & 0x100;

		switch ((r >> 9) % 4) {
		case 0: case 1:		/* a platform device */
			iobus_access(pio, write, ports[(r >> 12) % (sizeof(ports) / 2)],
				     size, &v);
			break;
		case 2: {		/* its config space (writes: capabilities only) */
			unsigned reg = (r >> 12) & 0xfc;
			uint64_t a = 0x80000000u | h->slot << 11 | reg;
			iobus_access(pio, true, 0xcf8, 4, &a);
			iobus_access(pio, write && reg >= 0x40, 0xcfc, 4, &v);
			break;
		}
		default:		/* its BARs: common/notify/ISR/device, MSI-X */
			iobus_access(mmio, write, h->bar[(r >> 12) & 1] + ((r >> 13) & 0x3ff8),
				     size, &v);
			break;
		}
	}
	return NULL;
}

static void test_two_vcpus_hammer_devices(void **state)
{
	struct console *con = console_new_memory();
	struct vm *vm = TEST_VM(.mem_size = 32ULL << 20, .ncpus = 2, .con = con);
	struct hammer h[2] = { { .vm = vm, .seed = 1, .n = 20000 }, { .vm = vm, .seed = 2, .n = 20000 } };
	struct pci_dev *d = NULL;
	pthread_t t[2];
	uint64_t v;

	assert_int_equal(devices_init(vm), 0);
	pci_bus_set_irq_ops(pci_bus_of(vm), &testvm_no_irq, NULL);
	assert_int_equal(pci_add_device(pci_bus_of(vm), "virtio-rng", -1, NULL, &d), 0);
	h[0].slot = h[1].slot = d->slot;
	/* memory decode on, so the BARs are on the MMIO bus */
	v = 0x80000000u | h[0].slot << 11 | 0x04;
	assert_int_equal(iobus_access(PIO(vm), true, 0xcf8, 4, &v), 0);
	v = 0x6;
	assert_int_equal(iobus_access(PIO(vm), true, 0xcfc, 2, &v), 0);
	for (int i = 0; i < 2; i++) {
		h[i].bar[0] = pci_bar_addr(d, 4);
		h[i].bar[1] = pci_bar_addr(d, 1);
		assert_non_null(iobus_find(MMIO(vm), h[i].bar[0], 4));
		assert_non_null(iobus_find(MMIO(vm), h[i].bar[1], 4));
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, &h[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	vm_destroy(vm);
	console_close(con);
}

TEST_MAIN(NULL, NULL,
	  TEST(test_in_order), TEST(test_violations_abort), TEST(test_two_vcpus_hammer_devices))
