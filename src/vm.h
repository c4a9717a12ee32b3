/*
 * vm.h - one virtual machine: its KVM handles, guest RAM, buses, console,
 * vCPU threads and the reason it stopped.
 *
 * Devices see only the vm_* calls below: register a port or MMIO range,
 * reach the console, translate a guest-physical address, or ask the VM to
 * stop (reset, power off).
 */
#ifndef HYVE_VM_H
#define HYVE_VM_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <pthread.h>
#include "iobus.h"
#include "vmm/vmm.h"

struct console;
struct vcpu;

/*
 * How a VM ends; also hyve's exit status (README: "Exit status").
 * Ordered by precedence: when two things stop the VM, the first recorded
 * wins.
 */
enum vm_stop {
	VM_RUNNING	= -1,
	VM_POWEROFF	= 0,	/* guest powered off */
	VM_ERROR	= 1,	/* hyve's own error, or the user stopped it */
	VM_RESET	= 2,	/* guest asked for a reset / reboot */
	VM_TRIPLEFAULT	= 3,	/* KVM_EXIT_SHUTDOWN */
	VM_GUEST_FATAL	= 4,	/* strict-I/O violation, unhandled exit, ... */
};

/* Guest RAM layout: a PC-like map with the legacy hole and the PCI hole. */
#define GUEST_LOW_END		0xA0000ULL	/* 640 KiB */
#define GUEST_ROM_START		0xC0000ULL	/* option ROM + BIOS area: RAM for */
#define GUEST_BIOS_START	0xE0000ULL	/* OS boots; ACPI tables from here */
#define GUEST_HIGH_START	0x100000ULL	/* 1 MiB */
#define GUEST_PCI_HOLE		0xC0000000ULL	/* 3 GiB: RAM stops here ... */
#define GUEST_4G		0x100000000ULL	/* ... and resumes at 4 GiB */

struct mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;
};

struct vm_config {
	uint64_t mem_size;	/* bytes of guest RAM */
	int ncpus;
	bool irqchip;		/* in-kernel PIC/IOAPIC/LAPIC + PIT (OS boots) */
	bool bios_ram;		/* 0xC0000-0xFFFFF is RAM: ACPI tables live there, and
				   Linux's option-ROM scan reads zeros, not exits */
	bool strict_io;
	bool stats;
	struct console *con;	/* the console, owned by the caller */
};

struct vm {
	struct vm_config cfg;
	struct vmm vmm;			/* KVM handles (src/vmm) */
	uint8_t *ram;			/* host mapping of all guest RAM */
	struct mem_region mem[4];	/* low, BIOS area, high, above 4G */
	int nmem;
	struct iobus pio, mmio;
	struct console *con;
	struct vcpu *vcpus;
	int ncpus;

	pthread_mutex_t drain_lock;	/* one consumer of the coalesced ring */

	/* stopping */
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
	enum vm_stop stop;		/* VM_RUNNING until something stops it */
	char stop_msg[2048];		/* what main prints, "" for none */
	int stop_efd;			/* eventfd: main loop wakes on stop */
	uint64_t first_run_ns;		/* CLOCK_MONOTONIC at vCPU 0's first KVM_RUN */

	struct { void (*fn)(void *); void *arg; } fini[32];
	int nfini;
};

/* Device-facing calls. */
int vm_register_pio(struct vm *vm, const char *name, uint16_t port,
		    uint16_t len, unsigned flags, io_handler_fn fn, void *arg);
int vm_register_mmio(struct vm *vm, const char *name, uint64_t gpa,
		     uint64_t len, unsigned flags, io_handler_fn fn, void *arg);
struct console *vm_console(struct vm *vm);
/*
 * Call fn(arg) when the VM is destroyed (after every vCPU has stopped), in
 * reverse order of registration: how a device frees its model.
 */
int vm_on_destroy(struct vm *vm, void (*fn)(void *arg), void *arg);
/*
 * Let KVM queue guest writes to [port, port+len) in its coalesced ring
 * instead of exiting to user space; hyve replays them, in order, before it
 * handles the next exit and at least every few milliseconds.  Reads still
 * exit.  Only for ranges whose writes need no immediate answer.
 */
int vm_coalesce_pio(struct vm *vm, uint16_t port, uint16_t len);
/* Stop coalescing [port, port+len) (after replaying what is queued). */
int vm_uncoalesce_pio(struct vm *vm, uint16_t port, uint16_t len);

/* Remove the range a device registered at exactly port / gpa (BAR moves). */
int vm_unregister_pio(struct vm *vm, uint16_t port);
int vm_unregister_mmio(struct vm *vm, uint64_t gpa);

/*
 * In-kernel event paths (need the in-kernel irqchip for irqfd/MSI):
 * a guest write to [addr, addr+len) signals fd without an exit
 * (datamatch < 0: any value); writing fd raises gsi; a GSI from
 * vm_alloc_msi_gsi delivers the MSI message (addr, data) unless masked.
 */
int vm_ioeventfd(struct vm *vm, uint64_t addr, uint32_t len, bool pio,
		 int64_t datamatch, int fd, bool deassign);
int vm_irqfd(struct vm *vm, unsigned gsi, int fd, bool deassign);
int vm_alloc_msi_gsi(struct vm *vm, unsigned *gsi);
int vm_route_msi(struct vm *vm, unsigned gsi, uint64_t addr, uint32_t data, bool masked);

/*
 * Drive interrupt line gsi (an ISA IRQ 0-15 or an IOAPIC pin) to level.
 * Without an in-kernel interrupt controller (raw images) there is nothing to
 * interrupt and this does nothing.  Safe from any thread.
 */
int vm_irq_line(struct vm *vm, unsigned gsi, bool level);

/*
 * Ask every vCPU to stop, recording why (first caller wins).  msg may be
 * NULL.  Safe from any thread.
 */
void vm_request_stop(struct vm *vm, enum vm_stop why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool vm_stopping(struct vm *vm);
void vm_wait_stopped(struct vm *vm);	/* block until something stops the VM */

/*
 * The one checked accessor for guest memory: a host pointer to
 * [gpa, gpa+len) if it lies wholly inside one RAM region, else NULL.
 * Overflow-safe for any gpa and len.
 */
void *vm_gpa(struct vm *vm, uint64_t gpa, uint64_t len);

/* Build / run / tear down (main.c's view). */
int vm_create(struct vm *vm, const struct vm_config *cfg);
int vm_run(struct vm *vm);		/* returns when the VM stopped */
void vm_destroy(struct vm *vm);
/* --stats: exits per reason, accesses per range, handler time. */
void vm_print_stats(struct vm *vm, FILE *f);

#endif
