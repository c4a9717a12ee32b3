/*
 * vm.h - one virtual machine: its KVM handles, guest RAM, buses, console,
 * vCPU threads and the reason it stopped.
 *
 * struct vm is opaque: devices, the PCI core, virtio, backends and boot
 * loaders see only the vm_* calls below (register a port or MMIO range,
 * reach the console, translate a guest-physical address, raise a line, ask
 * the VM to stop).  Its fields are the VM core's (vm_impl.h).
 */
#ifndef HYVE_VM_H
#define HYVE_VM_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include "iobus.h"
#include "mem.h"

struct console;
struct pci_bus;
struct vm;		/* opaque outside the VM core (vm_impl.h) */
struct vmm_vcpu;

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

struct vm_config {
	uint64_t mem_size;	/* bytes of guest RAM */
	int ncpus;
	bool irqchip;		/* in-kernel PIC/IOAPIC/LAPIC (OS boots) */
	bool legacy;		/* with irqchip: the in-kernel PIT too (--legacy);
				   without it the PIT's ports are claimed absent */
	bool bios_ram;		/* 0xC0000-0xFFFFF is RAM: ACPI tables live there, and
				   Linux's option-ROM scan reads zeros, not exits */
	bool strict_io;
	bool stats;
	bool timing;		/* measure handler time without --stats (API) */
	struct console *con;	/* the console, owned by the caller */
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
 * Guest memory: the checked accessor (mem_gpa() on this VM's RAM: a host
 * pointer to [gpa, gpa+len) if it lies wholly inside one RAM region, else
 * NULL), and whether a range overlaps RAM.
 */
void *vm_gpa(struct vm *vm, uint64_t gpa, uint64_t len);
bool vm_ram_overlaps(struct vm *vm, uint64_t gpa, uint64_t len);
/* The memory itself, for code that parses guest memory (virtqueues). */
const struct guest_mem *vm_memory(struct vm *vm);

/* What a device may know about the machine. */
uint64_t vm_mem_size(struct vm *vm);
int vm_ncpus(struct vm *vm);
bool vm_has_irqchip(struct vm *vm);	/* in-kernel PIC/IOAPIC/LAPIC */
bool vm_has_pit(struct vm *vm);		/* and the PIT (--legacy) */

/* The PCI bus hangs off the VM: set by pci_bus_create, NULL before. */
struct pci_bus *vm_pci_bus(struct vm *vm);
void vm_set_pci_bus(struct vm *vm, struct pci_bus *bus);

/* The boot CPU's KVM handle, for a loader to set its registers. */
struct vmm_vcpu *vm_bsp(struct vm *vm);

/*
 * Pause: every vCPU leaves KVM_RUN and waits; returns once all have (or the
 * VM is stopping).  Resume lets them enter the guest again.  Any thread but
 * a vCPU's; never called from a device handler.
 */
/*
 * The guest-visible power button (the ACPI device registers it): press it.
 * -ENOTSUP when the machine has none (raw images).  Any thread.
 */
int vm_power_button(struct vm *vm);
void vm_set_power_button(struct vm *vm, void (*fn)(void *arg), void *arg);
/* Ctrl-Alt-Del on the keyboard (the i8042 registers it); -ENOTSUP without. */
int vm_ctrl_alt_del(struct vm *vm);
void vm_set_ctrl_alt_del(struct vm *vm, void (*fn)(void *arg), void *arg);

void vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);
bool vm_paused(struct vm *vm);

/* Statistics for the control plane: called once per counter (any thread). */
struct vm_stats_ops {
	void (*exit)(void *arg, const char *reason, uint64_t count, uint64_t ns,
		     const uint64_t hist[IO_HIST_BUCKETS]);
	void (*range)(void *arg, const char *bus, const struct io_range *r);
	void (*unclaimed)(void *arg, const char *bus, uint64_t reads, uint64_t writes);
};
void vm_stats_visit(struct vm *vm, const struct vm_stats_ops *ops, void *arg);

/*
 * Build / run / tear down (main.c's view).  vm_create builds the whole VM:
 * vm_create_nokvm's VM (buses, memory, vCPU slots, console), then KVM (the
 * VM, irqchip, memory slots, vCPUs), then every declared device.
 *
 * vm_create_nokvm is the same constructor without /dev/kvm and without
 * devices, for unit tests and fuzz targets: a real struct vm whose KVM
 * calls fail with -ENODEV (vm_irq_line does nothing, as without irqchip);
 * tests add the devices they drive (device_attach, devices_init).
 * On failure both return -errno with *out NULL.
 */
int vm_create(struct vm **out, const struct vm_config *cfg);
int vm_create_nokvm(struct vm **out, const struct vm_config *cfg);
int vm_run(struct vm *vm);		/* returns when the VM stopped */
void vm_destroy(struct vm *vm);		/* frees vm; NULL is a no-op */

/* How the VM stopped and its message ("" for none); for main and tests. */
enum vm_stop vm_stop_reason(struct vm *vm);
const char *vm_stop_msg(struct vm *vm);
/* CLOCK_MONOTONIC ns of vCPU 0's first KVM_RUN, 0 if it never ran. */
uint64_t vm_first_run_ns(struct vm *vm);
/* Forget the console (main closed it before printing the stop message). */
void vm_detach_console(struct vm *vm);
/* The buses themselves: for the VM core's tests (devices use vm_register_*). */
struct iobus *vm_iobus(struct vm *vm, bool pio);
/* --stats: exits per reason, accesses per range, handler time. */
void vm_print_stats(struct vm *vm, FILE *f);

#endif
