/*
 * pci.h - the PCI core: bus 0 with 32 single-function slots, each holding a
 * device instance of a registered device type (bhyve's pci_devemu).
 *
 * The core owns the standard header (0x00-0x3F): IDs, command/status,
 * BARs (sizing, programming, mapping them on the VM's buses as the guest's
 * command register and BAR writes say), interrupt line/pin.  A device type
 * supplies an ops table: init, optional hooks for its own configuration
 * registers (0x40-0xFFF) and handlers for its BAR regions.  MSI-X lives in
 * msix.h; mechanism #1 and ECAM (the guest's way in) in dev/pci_host.h.
 * docs/pci.md has the design, the address windows and the rules.
 */
#ifndef HYVE_PCI_PCI_H
#define HYVE_PCI_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct vm;
struct pci_bus;
struct pci_dev;
struct msix;

/* ---- the platform's PCI windows (the ACPI _CRS / MCFG say the same) ---- */

#define PCI_SLOTS		32
#define PCI_CFG_SIZE		4096		/* ECAM: 4 KiB per function */
#define PCI_CFG_STD		256		/* mechanism #1 reaches this much */
#define PCI_BARS		6

/* ECAM ("MMCONFIG"): buses 0-255, of which only bus 0 has devices. */
#define PCI_ECAM_BASE		0xE0000000ULL
#define PCI_ECAM_SIZE		0x10000000ULL	/* 256 buses x 1 MiB */
#define PCI_ECAM_BUS_END	255

/* Windows the core assigns BARs from, and the guest may move them in. */
#define PCI_MMIO32_BASE		0xC0000000ULL	/* = GUEST_PCI_HOLE */
#define PCI_MMIO32_END		0xE0000000ULL	/* exclusive: ECAM follows */
#define PCI_IO_BASE		0xC000u
#define PCI_IO_END		0x10000u	/* exclusive */
#define PCI_MMIO64_SIZE		0x800000000ULL	/* 32 GiB */
#define PCI_MMIO64_ALIGN	0x40000000ULL	/* 1 GiB */

/* Addresses no BAR may cover: IOAPIC, LAPIC/MSI window, top 16 MiB. */
#define PCI_PLATFORM_HOLE	0xFEC00000ULL	/* .. 4 GiB */

/* INTx: pin INTA..INTD of slot s is GSI PCI_INTX_GSI_BASE + (s + pin) % 4. */
#define PCI_INTX_GSI_BASE	16
#define PCI_INTX_LINES		4

/* The GSI of interrupt pin 1..4 (INTA..INTD) of slot: the usual swizzle. */
static inline unsigned pci_intx_gsi(unsigned slot, unsigned pin)
{
	return PCI_INTX_GSI_BASE + (slot + pin - 1) % PCI_INTX_LINES;
}

/*
 * The 64-bit window: 32 GiB from the first GiB boundary at or above the end
 * of RAM above 4 GiB (4 GiB when all RAM fits below the PCI hole).  Needs
 * the guest's RAM size; the ACPI builder and the core both call this.
 */
static inline uint64_t pci_mmio64_base(uint64_t mem_size)
{
	const uint64_t hole = 0xC0000000ULL, g4 = 0x100000000ULL;
	uint64_t top = mem_size > hole ? g4 + (mem_size - hole) : g4;

	return (top + PCI_MMIO64_ALIGN - 1) & ~(PCI_MMIO64_ALIGN - 1);
}

/* ---- configuration space registers (PCI Local Bus 3.0, chapter 6) ---- */

#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define  PCI_CMD_IO		0x0001
#define  PCI_CMD_MEM		0x0002
#define  PCI_CMD_MASTER		0x0004
#define  PCI_CMD_PARITY		0x0040
#define  PCI_CMD_SERR		0x0100
#define  PCI_CMD_INTX_DISABLE	0x0400
#define PCI_STATUS		0x06
#define  PCI_STS_INTX		0x0008		/* read-only: INTx asserted */
#define  PCI_STS_CAP_LIST	0x0010
#define  PCI_STS_RW1C		0xF900		/* error bits: write 1 to clear */
#define PCI_REVISION_ID		0x08
#define PCI_CLASS_PROG		0x09
#define PCI_CLASS_DEVICE	0x0a		/* 16 bits: class, subclass */
#define PCI_CACHE_LINE_SIZE	0x0c
#define PCI_LATENCY_TIMER	0x0d
#define PCI_HEADER_TYPE		0x0e
#define PCI_BAR0		0x10
#define PCI_SUBSYSTEM_VENDOR_ID	0x2c
#define PCI_SUBSYSTEM_ID	0x2e
#define PCI_ROM_ADDRESS		0x30
#define PCI_CAPABILITY_LIST	0x34
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_INTERRUPT_PIN	0x3d
#define PCI_HEADER_END		0x40		/* device-specific space starts */

#define PCI_CAP_ID_MSIX		0x11
#define PCI_CAP_ID_VNDR		0x09

/* ---- a device type ---- */

enum pci_bar_type {
	PCI_BAR_NONE = 0,
	PCI_BAR_IO,		/* port I/O, below 64 KiB */
	PCI_BAR_MEM32,
	PCI_BAR_MEM64,		/* takes this BAR and the next */
	PCI_BAR_MEM64_HI,	/* (internal) the upper half of a MEM64 */
};

/*
 * What a device type provides.  Every hook is optional but init.  Hooks run
 * with the device's config lock held (one config access at a time per
 * device); BAR handlers run on vCPU threads, concurrently: the device locks
 * its own state.
 */
struct pci_devtype {
	const char *name;
	/* Set IDs, allocate BARs, add capabilities; 0 or -errno (err_set). */
	int (*init)(struct pci_dev *dev, const char *opts);
	/* Free dev->priv; called once, also after a failed init. */
	void (*fini)(struct pci_dev *dev);
	/*
	 * Configuration space at offsets 0x40-0xFFF (never the header, which
	 * the core owns; never the MSI-X capability).  cfg_read: *val holds
	 * the stored bytes, the hook may change it.  cfg_write returns 0 if
	 * it handled the write, 1 to apply the default (read-only: dropped).
	 */
	void (*cfg_read)(struct pci_dev *dev, unsigned off, unsigned size, uint32_t *val);
	int (*cfg_write)(struct pci_dev *dev, unsigned off, unsigned size, uint32_t val);
	/* A guest access to BAR bar at offset off (size 1..8); 0 or -errno. */
	int (*bar_read)(struct pci_dev *dev, int bar, uint64_t off, unsigned size, uint64_t *val);
	int (*bar_write)(struct pci_dev *dev, int bar, uint64_t off, unsigned size, uint64_t val);
	/*
	 * BAR bar was mapped at addr (mapped) or unmapped from addr: where a
	 * device moves its ioeventfds.  Config lock held.
	 */
	void (*bar_mapped)(struct pci_dev *dev, int bar, uint64_t addr, bool mapped);
	/* --stats: the device's own counters, one or more "stats: " lines. */
	void (*print_stats)(struct pci_dev *dev, FILE *f);
	/*
	 * Change a running device (the control plane, not the guest): opts
	 * as for init, only what the type can change (virtio-blk: path=FILE,
	 * a media change).  Any thread; 0 or -errno (err_set), the device
	 * unchanged on error.  Optional.
	 */
	int (*update)(struct pci_dev *dev, const char *opts);
};

/* Declare a device type (a linker set, like DEVICE() in dev.h). */
#define PCI_DEVTYPE(ops)						\
	static const struct pci_devtype *const pci_devtype_ptr_##ops	\
	__attribute__((used, section("hyve_pci_devtypes"))) = &ops

/* The declared type called name, or NULL. */
const struct pci_devtype *pci_devtype_find(const char *name);

/* ---- instances ---- */

struct pci_bar {
	enum pci_bar_type type;
	bool prefetch;
	uint64_t size;			/* power of two; 0 = unused */
	uint64_t addr;			/* as programmed (or assigned) */
	bool hi_pending;		/* MEM64: low dword written, high not yet */
	bool mapped;			/* registered on a bus at map_addr */
	bool refused;			/* wanted but overlapped / out of range */
	uint64_t map_addr;
	/* for the bus handler */
	struct pci_dev *dev;
	int idx;
};

struct pci_dev {
	struct pci_bus *bus;
	const struct pci_devtype *type;
	void *priv;			/* the device model */
	char name[16];
	unsigned slot;
	pthread_mutex_t lock;		/* config space, BARs */
	uint8_t cfg[PCI_CFG_SIZE];
	struct pci_bar bar[PCI_BARS];
	uint8_t cap_next;		/* where the next capability goes */
	uint8_t cap_last;		/* the last one added (0: none) */
	/* INTx (under the bus's intx lock) */
	unsigned intx_gsi;
	bool intx_level;		/* what the device drives */
	bool intx_asserted;		/* what the bus counts for it */
	bool intx_suppressed;		/* MSI-X enabled */
	bool intx_disabled;		/* command register's INTx Disable */
	struct msix *msix;
};

/*
 * How the core reaches the interrupt controller: the vm_* calls by
 * default; tests substitute recorders.  ctx is the vm by default.
 */
struct pci_irq_ops {
	int (*irq_line)(void *ctx, unsigned gsi, bool level);
	int (*alloc_msi_gsi)(void *ctx, unsigned *gsi);
	int (*route_msi)(void *ctx, unsigned gsi, uint64_t addr, uint32_t data, bool masked);
	int (*irqfd)(void *ctx, unsigned gsi, int fd, bool deassign);
};

/* ---- the bus ---- */

/* A bus for vm (its 64-bit window above vm_mem_size(vm)); hangs it off vm. */
int pci_bus_create(struct vm *vm, struct pci_bus **out);
/* Frees every device (type fini), unmapping BARs and MSI-X routes first. */
void pci_bus_destroy(struct pci_bus *bus);
/* The bus pci_host created for vm, or NULL (the way in for --device). */
struct pci_bus *pci_bus_of(struct vm *vm);
void pci_bus_set_irq_ops(struct pci_bus *bus, const struct pci_irq_ops *ops, void *ctx);
const struct pci_irq_ops *pci_bus_irq_ops(struct pci_bus *bus, void **ctx);
struct vm *pci_bus_vm(struct pci_bus *bus);
/* --stats: every device's print_stats. */
void pci_bus_print_stats(struct pci_bus *bus, FILE *f);
/* The device in slot, or NULL. */
struct pci_dev *pci_bus_dev(struct pci_bus *bus, unsigned slot);
/* Update the nth device (from 0, in slot order) of type tname: its
 * type's update hook.  0, or -errno with err_set (no such device, the type
 * cannot be changed, or the hook's own error). */
int pci_bus_update(struct pci_bus *bus, const char *tname, unsigned nth, const char *opts);

/*
 * Add an instance of the type called name (or of type itself) in slot
 * (-1: the lowest free slot from 1 up).  Runs type->init(dev, opts), then
 * enables the BARs' decode bits as firmware would.  Before the VM runs
 * only.  0 with *out set (out may be NULL), or -errno: -EBUSY for a taken
 * slot, -ENOENT for an unknown type, -ENOSPC for a full bus or window.
 */
int pci_add_device(struct pci_bus *bus, const char *name, int slot,
		   const char *opts, struct pci_dev **out);
int pci_add_device_type(struct pci_bus *bus, const struct pci_devtype *type,
			int slot, const char *opts, struct pci_dev **out);

/*
 * A configuration access from the guest (mechanism #1 or ECAM): bus busno,
 * device slot, function fn, register reg, size 1/2/4 with (reg & 3) + size
 * <= 4.  Absent functions, other buses, and refused widths read all ones;
 * writes to them are dropped.  Always 0.
 */
int pci_cfg_access(struct pci_bus *bus, unsigned busno, unsigned slot,
		   unsigned fn, unsigned reg, bool write, unsigned size,
		   uint32_t *val);

/* ---- for device types (init, hooks) ---- */

/*
 * Raw configuration bytes, bypassing the guest's rules (IDs at init, a
 * hook storing a register).  off + width must be inside the 4 KiB.
 */
void pci_cfg_set8(struct pci_dev *dev, unsigned off, uint8_t v);
void pci_cfg_set16(struct pci_dev *dev, unsigned off, uint16_t v);
void pci_cfg_set32(struct pci_dev *dev, unsigned off, uint32_t v);
uint8_t pci_cfg_get8(const struct pci_dev *dev, unsigned off);
uint16_t pci_cfg_get16(const struct pci_dev *dev, unsigned off);
uint32_t pci_cfg_get32(const struct pci_dev *dev, unsigned off);

/* vendor, device, class (24 bits: class, subclass, prog-if), revision, subsystem. */
void pci_set_ids(struct pci_dev *dev, uint16_t vendor, uint16_t device,
		 uint32_t class, uint8_t rev, uint16_t subvendor, uint16_t subdevice);

/*
 * Give BAR idx a region of size bytes (rounded up to a power of two, at
 * least 16 for memory, 4 for I/O) at a default address in its window.
 * MEM64 takes idx and idx + 1.  0 or -errno.
 */
int pci_alloc_bar(struct pci_dev *dev, int idx, enum pci_bar_type type,
		  bool prefetch, uint64_t size);
/* Where BAR idx is programmed (mapped or not), and whether it is mapped. */
uint64_t pci_bar_addr(struct pci_dev *dev, int idx);
bool pci_bar_mapped(struct pci_dev *dev, int idx);

/*
 * Append a capability: cap[0] is its ID, cap[1] (the next pointer) is
 * filled in by the core; len >= 2.  Placed dword-aligned from 0x40 up.
 * Returns its config offset (> 0) or -ENOSPC.
 */
int pci_add_cap(struct pci_dev *dev, const void *cap, size_t len);

/*
 * INTx.  pci_enable_intx gives the device interrupt pin 1..4 (INTA..INTD)
 * and its GSI by the swizzle; pci_raise_intx drives the device's line
 * (level true = asserted).  The GSI is shared by up to 8 slots: the bus
 * ORs the devices' levels.  Suppressed while the command register's INTx
 * Disable is set or MSI-X is enabled.  Safe from any thread.
 */
int pci_enable_intx(struct pci_dev *dev, unsigned pin);
int pci_raise_intx(struct pci_dev *dev, bool level);

/* (for msix.c) MSI-X enable suppresses INTx. */
void pci_intx_suppress(struct pci_dev *dev, bool suppressed);

#endif
