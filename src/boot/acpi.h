/*
 * acpi.h - the ACPI tables hyve hands to the guest (RSDP, XSDT, FADT, FACS,
 * MADT, MCFG, DSDT), the platform they describe, and a checker for a built
 * blob.  The PCI windows come from src/pci/pci.h.
 *
 * The platform constants live here so the devices that implement the
 * hardware (src/dev/acpi_pm.c, the irqchip setup) and the tables that
 * describe it cannot disagree.  docs/acpi.md explains the choices.
 *
 * Table layouts are ACPI 6.3 (FADT revision 6, minor 3); the structures are
 * packed little-endian images of the tables, with offsets checked by
 * static asserts in acpi.c.
 */
#ifndef HYVE_BOOT_ACPI_H
#define HYVE_BOOT_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The platform. */
#define ACPI_MAX_CPUS		64		/* APIC IDs 0..ncpus-1, xAPIC */
#define ACPI_LAPIC_ADDR		0xfee00000u
#define ACPI_IOAPIC_ADDR	0xfec00000u
#define ACPI_IOAPIC_ID		0	/* what KVM's IOAPIC ID register reads */
#define ACPI_IOAPIC_PINS	24	/* GSI 0..23 */
#define ACPI_SCI_IRQ		9	/* ISA IRQ 9 = GSI 9, level, active high */
#define ACPI_PM1A_EVT_PORT	0x600	/* PM1_STS (2 bytes), PM1_EN (2 bytes) */
#define ACPI_PM1_EVT_LEN	4
#define ACPI_PM1A_CNT_PORT	0x604	/* PM1_CNT (2 bytes) */
#define ACPI_PM1_CNT_LEN	2
#define ACPI_RESET_PORT		0x64	/* legacy: the i8042 command port ... */
#define ACPI_RESET_VALUE	0xfe	/* ... and its pulse-reset command */
#define ACPI_RESET_PORT_LEAN	0xcf9	/* lean: the PC reset control register ... */
#define ACPI_RESET_VALUE_LEAN	0x06	/* ... SYS_RST | RST_CPU */
#define ACPI_RTC_PORT		0x70	/* CMOS RTC index/data, IRQ 8 */
#define ACPI_RTC_IRQ		8
#define ACPI_PCI_BUS_END	0	/* the only PCI bus: MCFG and _CRS say so */
#define ACPI_SLP_TYP_S5		5	/* \_S5's SLP_TYP: soft off */

/* Identification written into every table. */
#define ACPI_OEM_ID		"HYVE  "	/* 6 bytes */
#define ACPI_OEM_TABLE_ID	"HYVEPC  "	/* 8 bytes */
#define ACPI_OEM_REVISION	1
#define ACPI_CREATOR_ID		"HYVE"
#define ACPI_CREATOR_REVISION	1

struct acpi_config {
	int ncpus;		/* 1..ACPI_MAX_CPUS */
	uint64_t base_gpa;	/* guest-physical address of buf[0]; the
				   tables must end below 4 GiB */
	uint64_t mem_size;	/* guest RAM bytes: places the 64-bit PCI
				   window (pci_mmio64_base); 0 = as <= 3 GiB */
	bool legacy;		/* a PC's legacy devices (--legacy): the 8259
				   pair (MADT PCAT_COMPAT), the i8042 (FADT
				   IAPC_BOOT_ARCH, reset through it).  Lean
				   (false): no 8042 flag, no PCAT_COMPAT, reset
				   through 0xCF9 */
	bool i8042;		/* lean, but the 8042 flag set: something sends
				   the guest keys (the API's SendCtrlAltDel) */
};

/*
 * Build RSDP, XSDT, FADT, FACS, MADT, MCFG and DSDT, in that order, into buf
 * (host memory that the guest sees at cfg->base_gpa, room bytes).  Each
 * table is aligned in guest-physical terms (RSDP 16, FACS 64, others 8);
 * padding is zeroed, nothing past the last table is touched, and nothing is
 * ever written at or past buf + room.  Returns 0 with the RSDP's address in
 * *rsdp_gpa (required) and the bytes used in *used (may be NULL), -ENOSPC if room is
 * too small, -EINVAL for a bad config; err_set() says which.
 */
int acpi_build(const struct acpi_config *cfg, void *buf, size_t room,
	       uint64_t *rsdp_gpa, size_t *used);

/*
 * Check a built blob as an OS would read it: the RSDP (both checksums,
 * revision, length), the XSDT and every table it lists, and the DSDT and
 * FACS the FADT points at.  Every address must land inside
 * [base_gpa, base_gpa + len), every length must stay inside it, every
 * checksum must sum to zero.  Never reads outside buf.  Returns 0 or
 * -EINVAL with err_set() naming the first problem.
 */
int acpi_check(const void *buf, size_t len, uint64_t base_gpa,
	       uint64_t rsdp_gpa);

/*
 * The table with signature sig ("RSDP", "XSDT", "FACP", "APIC", "DSDT",
 * "FACS", ...) in a blob that passed acpi_check(), and its length in *tlen;
 * NULL if absent.
 */
const void *acpi_find(const void *buf, size_t len, uint64_t base_gpa,
		      uint64_t rsdp_gpa, const char *sig, size_t *tlen);

/* Table images (ACPI 6.3, chapter 5.2). */
struct acpi_rsdp {
	char signature[8];		/* "RSD PTR " */
	uint8_t checksum;		/* first 20 bytes */
	char oem_id[6];
	uint8_t revision;		/* 2: ACPI 2.0+ with XSDT */
	uint32_t rsdt_address;
	uint32_t length;		/* 36 */
	uint64_t xsdt_address;
	uint8_t ext_checksum;		/* all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

/* Generic Address Structure */
struct acpi_gas {
	uint8_t space_id;		/* ACPI_AS_* */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;		/* 0 undefined, 1 byte, 2 word, 3 dword */
	uint64_t address;
} __attribute__((packed));

#define ACPI_AS_MEMORY		0
#define ACPI_AS_IO		1

struct acpi_fadt {
	struct acpi_header hdr;		/* "FACP", revision 6 */
	uint32_t firmware_ctrl;		/* FACS */
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	uint64_t hypervisor_vendor_id;
} __attribute__((packed));

/* FADT flags */
#define ACPI_FADT_WBINVD	(1u << 0)
#define ACPI_FADT_PROC_C1	(1u << 2)
#define ACPI_FADT_PWR_BUTTON	(1u << 4)	/* set: no fixed power button */
#define ACPI_FADT_SLP_BUTTON	(1u << 5)	/* set: no fixed sleep button */
#define ACPI_FADT_RESET_REG_SUP	(1u << 10)
#define ACPI_FADT_HW_REDUCED	(1u << 20)
/* IA-PC boot architecture flags */
#define ACPI_IAPC_LEGACY_DEVICES (1u << 0)
#define ACPI_IAPC_8042		(1u << 1)
#define ACPI_IAPC_NO_VGA	(1u << 2)
#define ACPI_IAPC_NO_MSI	(1u << 3)
#define ACPI_IAPC_NO_ASPM	(1u << 4)
#define ACPI_IAPC_NO_CMOS_RTC	(1u << 5)

struct acpi_facs {
	char signature[4];		/* "FACS" */
	uint32_t length;		/* 64 */
	uint32_t hardware_signature;
	uint32_t firmware_waking_vector;
	uint32_t global_lock;
	uint32_t flags;
	uint64_t x_firmware_waking_vector;
	uint8_t version;		/* 2 */
	uint8_t reserved[3];
	uint32_t ospm_flags;
	uint8_t reserved2[24];
} __attribute__((packed));

struct acpi_madt {
	struct acpi_header hdr;		/* "APIC", revision 5 */
	uint32_t lapic_address;
	uint32_t flags;			/* ACPI_MADT_PCAT_COMPAT */
	/* followed by entries, each starting with type and length bytes */
} __attribute__((packed));

#define ACPI_MADT_PCAT_COMPAT	(1u << 0)	/* dual 8259 present */

enum {
	ACPI_MADT_LAPIC		= 0,
	ACPI_MADT_IOAPIC	= 1,
	ACPI_MADT_ISO		= 2,	/* interrupt source override */
	ACPI_MADT_LAPIC_NMI	= 4,
};

struct acpi_madt_lapic {
	uint8_t type, length;		/* 0, 8 */
	uint8_t processor_uid;
	uint8_t apic_id;
	uint32_t flags;			/* bit 0: enabled */
} __attribute__((packed));

struct acpi_madt_ioapic {
	uint8_t type, length;		/* 1, 12 */
	uint8_t ioapic_id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
} __attribute__((packed));

struct acpi_madt_iso {
	uint8_t type, length;		/* 2, 10 */
	uint8_t bus;			/* 0: ISA */
	uint8_t source;			/* ISA IRQ */
	uint32_t gsi;
	uint16_t flags;			/* MPS INTI flags */
} __attribute__((packed));

struct acpi_madt_lapic_nmi {
	uint8_t type, length;		/* 4, 6 */
	uint8_t processor_uid;		/* 0xff: all processors */
	uint16_t flags;			/* MPS INTI flags */
	uint8_t lint;
} __attribute__((packed));

/* PCI Express memory-mapped configuration (PCI Firmware spec 3.0, 4.1.2) */
struct acpi_mcfg {
	struct acpi_header hdr;		/* "MCFG", revision 1 */
	uint64_t reserved;
	/* followed by allocation entries */
} __attribute__((packed));

struct acpi_mcfg_alloc {
	uint64_t base;			/* ECAM base of bus 0 of the segment */
	uint16_t segment;
	uint8_t bus_start, bus_end;
	uint32_t reserved;
} __attribute__((packed));

/* MPS INTI flags: polarity bits 1-0, trigger mode bits 3-2 */
#define ACPI_INTI_CONFORMING	0x0
#define ACPI_INTI_ACTIVE_HIGH	0x1
#define ACPI_INTI_ACTIVE_LOW	0x3
#define ACPI_INTI_EDGE		(0x1 << 2)
#define ACPI_INTI_LEVEL		(0x3 << 2)

#endif
