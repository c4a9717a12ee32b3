/*
 * acpi.c - build hyve's ACPI tables (see acpi.h, docs/acpi.md).
 *
 * Layout in the buffer, each aligned in guest-physical terms:
 *	RSDP (16) -> XSDT (8) -> FADT (8) -> FACS (64) -> MADT (8) -> MCFG (8)
 *	-> DSDT (8)
 * The XSDT lists the FADT, the MADT and the MCFG; the FADT points at the FACS and
 * the DSDT (both the 32-bit and the X_ fields, with equal values, as
 * ACPICA warns when they differ).  There is no RSDT: an ACPI 2.0+ RSDP
 * with an XSDT is all Linux needs, and RsdtAddress 0 says so.
 */
#include <errno.h>
#include <string.h>
#include "err.h"
#include "boot/acpi.h"
#include "boot/aml.h"
#include "pci/pci.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "tables are written as little-endian struct images");
/* Offsets from ACPI 6.3 tables 5-27 (RSDP), 5-29 (header), 5-33 (FADT),
 * 5-37 (FACS), 5-43 (MADT) and 5-25 (GAS). */
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP");
_Static_assert(offsetof(struct acpi_rsdp, xsdt_address) == 24, "RSDP");
_Static_assert(offsetof(struct acpi_rsdp, ext_checksum) == 32, "RSDP");
_Static_assert(sizeof(struct acpi_header) == 36, "header");
_Static_assert(offsetof(struct acpi_header, oem_table_id) == 16, "header");
_Static_assert(offsetof(struct acpi_header, creator_id) == 28, "header");
_Static_assert(sizeof(struct acpi_gas) == 12, "GAS");
_Static_assert(offsetof(struct acpi_fadt, firmware_ctrl) == 36, "FADT");
_Static_assert(offsetof(struct acpi_fadt, sci_int) == 46, "FADT");
_Static_assert(offsetof(struct acpi_fadt, smi_cmd) == 48, "FADT");
_Static_assert(offsetof(struct acpi_fadt, pm1a_evt_blk) == 56, "FADT");
_Static_assert(offsetof(struct acpi_fadt, pm1a_cnt_blk) == 64, "FADT");
_Static_assert(offsetof(struct acpi_fadt, pm_tmr_blk) == 76, "FADT");
_Static_assert(offsetof(struct acpi_fadt, pm1_evt_len) == 88, "FADT");
_Static_assert(offsetof(struct acpi_fadt, p_lvl2_lat) == 96, "FADT");
_Static_assert(offsetof(struct acpi_fadt, century) == 108, "FADT");
_Static_assert(offsetof(struct acpi_fadt, iapc_boot_arch) == 109, "FADT");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT");
_Static_assert(offsetof(struct acpi_fadt, reset_reg) == 116, "FADT");
_Static_assert(offsetof(struct acpi_fadt, reset_value) == 128, "FADT");
_Static_assert(offsetof(struct acpi_fadt, arm_boot_arch) == 129, "FADT");
_Static_assert(offsetof(struct acpi_fadt, minor_version) == 131, "FADT");
_Static_assert(offsetof(struct acpi_fadt, x_firmware_ctrl) == 132, "FADT");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT");
_Static_assert(offsetof(struct acpi_fadt, x_pm1a_evt_blk) == 148, "FADT");
_Static_assert(offsetof(struct acpi_fadt, x_pm1a_cnt_blk) == 172, "FADT");
_Static_assert(offsetof(struct acpi_fadt, x_pm_tmr_blk) == 208, "FADT");
_Static_assert(offsetof(struct acpi_fadt, x_gpe0_blk) == 220, "FADT");
_Static_assert(offsetof(struct acpi_fadt, sleep_control_reg) == 244, "FADT");
_Static_assert(offsetof(struct acpi_fadt, sleep_status_reg) == 256, "FADT");
_Static_assert(offsetof(struct acpi_fadt, hypervisor_vendor_id) == 268, "FADT");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT revision 6 length");
_Static_assert(offsetof(struct acpi_facs, x_firmware_waking_vector) == 24, "FACS");
_Static_assert(offsetof(struct acpi_facs, version) == 32, "FACS");
_Static_assert(offsetof(struct acpi_facs, ospm_flags) == 36, "FACS");
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS");
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT");
_Static_assert(sizeof(struct acpi_madt_lapic) == 8, "MADT LAPIC");
_Static_assert(sizeof(struct acpi_madt_ioapic) == 12, "MADT IOAPIC");
_Static_assert(sizeof(struct acpi_madt_iso) == 10, "MADT ISO");
_Static_assert(sizeof(struct acpi_madt_lapic_nmi) == 6, "MADT NMI");
_Static_assert(sizeof(struct acpi_mcfg) == 44, "MCFG");
_Static_assert(sizeof(struct acpi_mcfg_alloc) == 16, "MCFG allocation");

#define GPA_LIMIT	0x100000000ULL	/* the 32-bit table pointers */

#define FADT_REVISION	6
#define FADT_MINOR	3		/* ACPI 6.3 */
#define MADT_REVISION	5		/* ACPI 6.3 */
#define DSDT_REVISION	2		/* 64-bit AML integers */
#define XSDT_REVISION	1
#define MCFG_REVISION	1
#define XSDT_ENTRIES	3		/* FADT, MADT, MCFG */
#define FACS_VERSION	2

/* The output buffer: everything placed in it goes through place(). */
struct out {
	uint8_t *buf;
	size_t room, off;
	uint64_t base;
};

/*
 * Reserve size bytes at the next guest-physical multiple of align, zeroing
 * the padding and the space; returns the buffer offset or -ENOSPC.
 */
static long place(struct out *o, size_t size, size_t align, const char *what)
{
	size_t pad = (size_t)(-(o->base + o->off) & (align - 1));
	size_t at;

	if (pad > o->room - o->off || size > o->room - o->off - pad)
		return err_set(-ENOSPC, "acpi: no room for the %s (%zu bytes at "
			       "offset %zu, room %zu)", what, size,
			       o->off + pad, o->room);
	at = o->off + pad;
	memset(o->buf + o->off, 0, pad + size);
	o->off = at + size;
	return (long)at;
}

static uint64_t gpa(const struct out *o, long at)
{
	return o->base + (uint64_t)at;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* Fill a header for a table of len bytes at buf[at]; checksum() later. */
static void header(struct out *o, long at, const char *sig, uint32_t len,
		   uint8_t rev)
{
	struct acpi_header h = {
		.length = len,
		.revision = rev,
		.oem_revision = ACPI_OEM_REVISION,
		.creator_revision = ACPI_CREATOR_REVISION,
	};

	memcpy(h.signature, sig, 4);
	memcpy(h.oem_id, ACPI_OEM_ID, 6);
	memcpy(h.oem_table_id, ACPI_OEM_TABLE_ID, 8);
	memcpy(h.creator_id, ACPI_CREATOR_ID, 4);
	memcpy(o->buf + at, &h, sizeof(h));
}

/* Set the checksum byte at buf[at + field] so the n bytes sum to zero. */
static void checksum(struct out *o, long at, size_t n, size_t field)
{
	o->buf[at + field] = 0;
	o->buf[at + field] = (uint8_t)-sum(o->buf + at, n);
}

static struct acpi_gas gas_io(uint16_t port, unsigned bytes, uint8_t access)
{
	return (struct acpi_gas){
		.space_id = ACPI_AS_IO,
		.bit_width = (uint8_t)(bytes * 8),
		.access_size = access,
		.address = port,
	};
}

/*
 * \_SB.PCI0, the PCI root bridge (docs/pci.md): a PCI Express root
 * (PNP0A08, compatible with PNP0A03) for segment 0, bus 0 only (ECAM in
 * the MCFG; a wider range makes Linux probe every bus for peer bridges,
 * one configuration read per slot, each an exit), decoding the windows in _CRS; INTx routed by _PRT straight to
 * IOAPIC GSIs (no link devices): pin p of slot s is GSI 16 + (s + p) % 4.
 */
static void dsdt_pci0(struct aml *a, const struct acpi_config *cfg)
{
	uint64_t w64 = pci_mmio64_base(cfg->mem_size);
	struct aml_res r;

	aml_device_begin(a, "PCI0");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0A08");
	aml_name(a, "_CID");
	aml_eisaid(a, "PNP0A03");
	aml_name(a, "_SEG");
	aml_integer(a, 0);
	aml_name(a, "_BBN");
	aml_integer(a, 0);
	aml_name(a, "_UID");
	aml_integer(a, 0);

	aml_res_init(&r);
	aml_res_word_bus(&r, 0, ACPI_PCI_BUS_END);
	aml_res_io(&r, 0xcf8, 0xcf8, 1, 8);		/* mechanism #1: consumed */
	aml_res_word_io(&r, 0x0000, 0x0cf7);
	aml_res_word_io(&r, 0x0d00, 0xffff);
	aml_res_dword_mem(&r, false, (uint32_t)PCI_MMIO32_BASE,
			  (uint32_t)(PCI_MMIO32_END - 1));
	aml_res_qword_mem(&r, true, w64, w64 + PCI_MMIO64_SIZE - 1);
	aml_name(a, "_CRS");
	aml_resource_template(a, &r);

	aml_name(a, "_PRT");
	aml_package_begin(a, (PCI_SLOTS - 1) * 4);
	for (unsigned slot = 1; slot < PCI_SLOTS; slot++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			aml_package_begin(a, 4);
			aml_integer(a, (uint64_t)slot << 16 | 0xffff);	/* any function */
			aml_integer(a, pin);				/* INTA..INTD */
			aml_integer(a, 0);				/* source: a GSI */
			aml_integer(a, pci_intx_gsi(slot, pin + 1));
			aml_end(a);
		}
	}
	aml_end(a);
	aml_end(a);
}

/*
 * Motherboard resources: the ECAM region.  Linux uses MMCONFIG only if the
 * MCFG region is reserved here (or in the e820 map).
 */
static void dsdt_mres(struct aml *a)
{
	struct aml_res r;

	aml_device_begin(a, "MRES");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0C02");
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_res_init(&r);
	aml_res_mem32_fixed(&r, (uint32_t)PCI_ECAM_BASE, (uint32_t)PCI_ECAM_SIZE);
	aml_name(a, "_CRS");
	aml_resource_template(a, &r);
	aml_end(a);
}

/*
 * The CMOS RTC (PNP0B00) at 0x70-0x71, IRQ 8: described, so Linux's rtc_cmos
 * binds through PNP instead of registering a platform fallback device.
 */
static void dsdt_rtc(struct aml *a)
{
	struct aml_res r;

	aml_device_begin(a, "RTC");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0B00");
	aml_res_init(&r);
	aml_res_io(&r, ACPI_RTC_PORT, ACPI_RTC_PORT, 1, 2);
	aml_res_irq(&r, ACPI_RTC_IRQ);
	aml_name(a, "_CRS");
	aml_resource_template(a, &r);
	aml_end(a);
}

/* The DSDT's AML: \_SB with the PCI root bridge, motherboard resources and the RTC, \_S5. */
static void dsdt_body(struct aml *a, const struct acpi_config *cfg)
{
	aml_scope_begin(a, "\\_SB");
	dsdt_pci0(a, cfg);
	dsdt_mres(a);
	dsdt_rtc(a);
	aml_end(a);

	/* SLP_TYPa, SLP_TYPb, reserved, reserved: what PM1_CNT takes */
	aml_name(a, "\\_S5");
	aml_package_begin(a, 4);
	aml_integer(a, ACPI_SLP_TYP_S5);
	aml_integer(a, ACPI_SLP_TYP_S5);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_end(a);
}

static long build_dsdt(struct out *o, const struct acpi_config *cfg)
{
	struct aml a;
	long at = place(o, sizeof(struct acpi_header), 8, "DSDT");
	long n;

	if (at < 0)
		return at;
	aml_init(&a, o->buf + o->off, o->room - o->off);
	dsdt_body(&a, cfg);
	if ((n = aml_finish(&a)) < 0) {
		if (n == -ENOSPC)
			return err_set(-ENOSPC, "acpi: no room for the DSDT "
				       "(room %zu)", o->room);
		return n;
	}
	o->off += (size_t)n;
	header(o, at, "DSDT", (uint32_t)(sizeof(struct acpi_header) + (size_t)n),
	       DSDT_REVISION);
	checksum(o, at, sizeof(struct acpi_header) + (size_t)n,
		 offsetof(struct acpi_header, checksum));
	return at;
}

static void build_fadt(struct out *o, long at, uint64_t facs, uint64_t dsdt, bool legacy,
		       bool i8042)
{
	struct acpi_fadt f = {
		.firmware_ctrl = (uint32_t)facs,
		.dsdt = (uint32_t)dsdt,
		.preferred_pm_profile = 0,		/* unspecified */
		.sci_int = ACPI_SCI_IRQ,
		.smi_cmd = 0,		/* no SMM: always in ACPI mode */
		.pm1a_evt_blk = ACPI_PM1A_EVT_PORT,
		.pm1a_cnt_blk = ACPI_PM1A_CNT_PORT,
		.pm_tmr_blk = 0,	/* no PM timer (optional since 5.0A) */
		.pm1_evt_len = ACPI_PM1_EVT_LEN,
		.pm1_cnt_len = ACPI_PM1_CNT_LEN,
		.p_lvl2_lat = 0xfff,	/* > 100: no C2 */
		.p_lvl3_lat = 0xfff,	/* > 1000: no C3 */
		.century = 0,		/* no RTC century register claimed */
		/* lean: no 8042 flag, so Linux does not probe the i8042 (unless
		   something needs it: --legacy, or an API that sends Ctrl-Alt-Del) */
		.iapc_boot_arch = ACPI_IAPC_LEGACY_DEVICES | ACPI_IAPC_NO_VGA |
				  (i8042 ? ACPI_IAPC_8042 : 0),
		/* a fixed-feature power button (acpi_pm.c, pressed by a
		   graceful stop); no sleep button */
		.flags = ACPI_FADT_WBINVD | ACPI_FADT_PROC_C1 |
			 ACPI_FADT_SLP_BUTTON | ACPI_FADT_RESET_REG_SUP,
		.reset_reg = gas_io(legacy ? ACPI_RESET_PORT : ACPI_RESET_PORT_LEAN, 1, 1),
		.reset_value = legacy ? ACPI_RESET_VALUE : ACPI_RESET_VALUE_LEAN,
		.minor_version = FADT_MINOR,
		.x_firmware_ctrl = facs,
		.x_dsdt = dsdt,
		/* word access: ACPICA reads PM1_STS, PM1_EN, PM1_CNT as 16 bits */
		.x_pm1a_evt_blk = gas_io(ACPI_PM1A_EVT_PORT, ACPI_PM1_EVT_LEN, 2),
		.x_pm1a_cnt_blk = gas_io(ACPI_PM1A_CNT_PORT, ACPI_PM1_CNT_LEN, 2),
	};

	memcpy(&f.hypervisor_vendor_id, "HYVE\0\0\0\0", 8);
	memcpy(o->buf + at, &f, sizeof(f));
	header(o, at, "FACP", sizeof(f), FADT_REVISION);
	checksum(o, at, sizeof(f), offsetof(struct acpi_header, checksum));
}

static void build_facs(struct out *o, long at)
{
	struct acpi_facs f = {
		.length = sizeof(f),
		.version = FACS_VERSION,
	};

	memcpy(f.signature, "FACS", 4);
	memcpy(o->buf + at, &f, sizeof(f));
}

static size_t madt_size(int ncpus)
{
	return sizeof(struct acpi_madt) +
	       (size_t)ncpus * sizeof(struct acpi_madt_lapic) +
	       sizeof(struct acpi_madt_ioapic) +
	       2 * sizeof(struct acpi_madt_iso) +
	       sizeof(struct acpi_madt_lapic_nmi);
}

static void build_madt(struct out *o, long at, int ncpus, bool legacy)
{
	struct acpi_madt m = {
		.lapic_address = ACPI_LAPIC_ADDR,
		/* lean: the 8259s are not advertised (interrupts go through the IOAPIC) */
		.flags = legacy ? ACPI_MADT_PCAT_COMPAT : 0,
	};
	struct acpi_madt_ioapic io = {
		.type = ACPI_MADT_IOAPIC, .length = sizeof(io),
		.ioapic_id = ACPI_IOAPIC_ID,
		.address = ACPI_IOAPIC_ADDR,
		.gsi_base = 0,
	};
	struct acpi_madt_iso iso[2] = {
		/* the PIT's IRQ 0 is wired to IOAPIC pin 2, as on a PC */
		{ .type = ACPI_MADT_ISO, .length = sizeof(iso[0]),
		  .source = 0, .gsi = 2, .flags = ACPI_INTI_CONFORMING },
		/* the SCI: level, active high (what a KVM_IRQ_LINE level
		   interrupt is), not the active-low default ACPI assumes */
		{ .type = ACPI_MADT_ISO, .length = sizeof(iso[0]),
		  .source = ACPI_SCI_IRQ, .gsi = ACPI_SCI_IRQ,
		  .flags = ACPI_INTI_LEVEL | ACPI_INTI_ACTIVE_HIGH },
	};
	struct acpi_madt_lapic_nmi nmi = {
		.type = ACPI_MADT_LAPIC_NMI, .length = sizeof(nmi),
		.processor_uid = 0xff,		/* all processors */
		.flags = ACPI_INTI_CONFORMING,
		.lint = 1,
	};
	size_t len = madt_size(ncpus), p = (size_t)at + sizeof(m);

	for (int i = 0; i < ncpus; i++) {
		struct acpi_madt_lapic l = {
			.type = ACPI_MADT_LAPIC, .length = sizeof(l),
			.processor_uid = (uint8_t)i,
			.apic_id = (uint8_t)i,
			.flags = 1,		/* enabled */
		};

		memcpy(o->buf + p, &l, sizeof(l));
		p += sizeof(l);
	}
	memcpy(o->buf + p, &io, sizeof(io));
	p += sizeof(io);
	memcpy(o->buf + p, iso, sizeof(iso));
	p += sizeof(iso);
	memcpy(o->buf + p, &nmi, sizeof(nmi));
	memcpy(o->buf + at, &m, sizeof(m));
	header(o, at, "APIC", (uint32_t)len, MADT_REVISION);
	checksum(o, at, len, offsetof(struct acpi_header, checksum));
}

#define MCFG_LEN	(sizeof(struct acpi_mcfg) + sizeof(struct acpi_mcfg_alloc))

/* One allocation: segment 0, bus 0 (the only one) at PCI_ECAM_BASE. */
static void build_mcfg(struct out *o, long at)
{
	struct acpi_mcfg_alloc e = {
		.base = PCI_ECAM_BASE,
		.segment = 0,
		.bus_start = 0,
		.bus_end = ACPI_PCI_BUS_END,
	};

	memcpy(o->buf + at + sizeof(struct acpi_mcfg), &e, sizeof(e));
	header(o, at, "MCFG", (uint32_t)MCFG_LEN, MCFG_REVISION);
	checksum(o, at, MCFG_LEN, offsetof(struct acpi_header, checksum));
}

int acpi_build(const struct acpi_config *cfg, void *buf, size_t room,
	       uint64_t *rsdp_gpa, size_t *used)
{
	struct out o = { .buf = buf, .room = room, .base = cfg->base_gpa };
	const size_t xsdt_len = sizeof(struct acpi_header) + XSDT_ENTRIES * 8;
	long rsdp, xsdt, fadt, facs, madt, mcfg, dsdt;
	uint64_t ent[XSDT_ENTRIES];

	if (cfg->ncpus < 1 || cfg->ncpus > ACPI_MAX_CPUS)
		return err_set(-EINVAL, "acpi: %d CPUs (1-%d supported)",
			       cfg->ncpus, ACPI_MAX_CPUS);
	if (cfg->base_gpa >= GPA_LIMIT)
		return err_set(-EINVAL, "acpi: tables at 0x%llx: must be below "
			       "4 GiB", (unsigned long long)cfg->base_gpa);
	if (!buf)
		o.room = 0;
	/* reserve everything first: the XSDT and FADT point forward */
	if ((rsdp = place(&o, sizeof(struct acpi_rsdp), 16, "RSDP")) < 0)
		return (int)rsdp;
	if ((xsdt = place(&o, xsdt_len, 8, "XSDT")) < 0)
		return (int)xsdt;
	if ((fadt = place(&o, sizeof(struct acpi_fadt), 8, "FADT")) < 0)
		return (int)fadt;
	if ((facs = place(&o, sizeof(struct acpi_facs), 64, "FACS")) < 0)
		return (int)facs;
	if ((madt = place(&o, madt_size(cfg->ncpus), 8, "MADT")) < 0)
		return (int)madt;
	if ((mcfg = place(&o, MCFG_LEN, 8, "MCFG")) < 0)
		return (int)mcfg;
	if ((dsdt = build_dsdt(&o, cfg)) < 0)
		return (int)dsdt;
	if (cfg->base_gpa + o.off > GPA_LIMIT)
		return err_set(-EINVAL, "acpi: tables at 0x%llx-0x%llx: must "
			       "end below 4 GiB",
			       (unsigned long long)cfg->base_gpa,
			       (unsigned long long)(cfg->base_gpa + o.off));

	build_facs(&o, facs);
	build_fadt(&o, fadt, gpa(&o, facs), gpa(&o, dsdt), cfg->legacy, cfg->legacy || cfg->i8042);
	build_madt(&o, madt, cfg->ncpus, cfg->legacy);
	build_mcfg(&o, mcfg);

	ent[0] = gpa(&o, fadt);
	ent[1] = gpa(&o, madt);
	ent[2] = gpa(&o, mcfg);
	memcpy(o.buf + xsdt + sizeof(struct acpi_header), ent, sizeof(ent));
	header(&o, xsdt, "XSDT", (uint32_t)xsdt_len, XSDT_REVISION);
	checksum(&o, xsdt, xsdt_len, offsetof(struct acpi_header, checksum));

	struct acpi_rsdp r = {
		.revision = 2,
		.rsdt_address = 0,
		.length = sizeof(r),
		.xsdt_address = gpa(&o, xsdt),
	};
	memcpy(r.signature, "RSD PTR ", 8);
	memcpy(r.oem_id, ACPI_OEM_ID, 6);
	memcpy(o.buf + rsdp, &r, sizeof(r));
	checksum(&o, rsdp, 20, offsetof(struct acpi_rsdp, checksum));
	checksum(&o, rsdp, sizeof(r), offsetof(struct acpi_rsdp, ext_checksum));

	*rsdp_gpa = gpa(&o, rsdp);
	if (used)
		*used = o.off;
	return 0;
}

/* ---- checking a blob ---- */

struct blob {
	const uint8_t *buf;
	size_t len;
	uint64_t base;
};

/* The offset of [addr, addr+n) inside the blob, or -EINVAL. */
static long blob_at(const struct blob *b, uint64_t addr, uint64_t n,
		    const char *what)
{
	if (addr < b->base || addr - b->base > b->len ||
	    n > b->len - (addr - b->base))
		return err_set(-EINVAL, "acpi: %s at 0x%llx (+%llu) lies "
			       "outside the tables (0x%llx, %zu bytes)", what,
			       (unsigned long long)addr, (unsigned long long)n,
			       (unsigned long long)b->base, b->len);
	return (long)(addr - b->base);
}

/* A table with a standard header at addr, checked; its offset or -EINVAL. */
static long table_at(const struct blob *b, uint64_t addr, const char *sig,
		     size_t *tlen)
{
	struct acpi_header h;
	long at = blob_at(b, addr, sizeof(h), sig ? sig : "table");

	if (at < 0)
		return at;
	memcpy(&h, b->buf + at, sizeof(h));
	if (sig && memcmp(h.signature, sig, 4))
		return err_set(-EINVAL, "acpi: expected %s at 0x%llx, found "
			       "'%.4s'", sig, (unsigned long long)addr,
			       h.signature);
	if (h.length < sizeof(h))
		return err_set(-EINVAL, "acpi: %.4s: length %u is shorter "
			       "than its header", h.signature, h.length);
	if ((at = blob_at(b, addr, h.length, "table")) < 0)
		return at;
	if (sum(b->buf + at, h.length))
		return err_set(-EINVAL, "acpi: %.4s: bad checksum",
			       h.signature);
	*tlen = h.length;
	return at;
}

static long rsdp_at(const struct blob *b, uint64_t addr)
{
	struct acpi_rsdp r;
	long at = blob_at(b, addr, sizeof(r), "RSDP");

	if (at < 0)
		return at;
	memcpy(&r, b->buf + at, sizeof(r));
	if (memcmp(r.signature, "RSD PTR ", 8))
		return err_set(-EINVAL, "acpi: no RSDP signature at 0x%llx",
			       (unsigned long long)addr);
	if (sum(b->buf + at, 20))
		return err_set(-EINVAL, "acpi: RSDP: bad checksum");
	if (r.revision < 2 || r.length < sizeof(r))
		return err_set(-EINVAL, "acpi: RSDP: revision %u, length %u: "
			       "not ACPI 2.0+", r.revision, r.length);
	if (blob_at(b, addr, r.length, "RSDP") < 0)
		return -EINVAL;
	if (sum(b->buf + at, r.length))
		return err_set(-EINVAL, "acpi: RSDP: bad extended checksum");
	return at;
}

/* Pick the 64-bit or 32-bit pointer; both set must agree (ACPICA warns). */
static int fadt_ptr(uint32_t p32, uint64_t p64, const char *what,
		    uint64_t *out)
{
	if (p32 && p64 && p32 != p64)
		return err_set(-EINVAL, "acpi: FADT: %s 0x%x and X_%s 0x%llx "
			       "differ", what, p32, what,
			       (unsigned long long)p64);
	*out = p64 ? p64 : p32;
	return 0;
}

/* The FADT's DSDT and FACS addresses (0 when absent). */
static int fadt_links(const struct blob *b, long at, size_t tlen,
		      uint64_t *dsdt, uint64_t *facs)
{
	struct acpi_fadt f = { 0 };

	if (tlen < offsetof(struct acpi_fadt, x_pm1a_evt_blk))
		return err_set(-EINVAL, "acpi: FADT: only %zu bytes", tlen);
	memcpy(&f, b->buf + at, tlen < sizeof(f) ? tlen : sizeof(f));
	if (fadt_ptr(f.dsdt, f.x_dsdt, "DSDT", dsdt) < 0 ||
	    fadt_ptr(f.firmware_ctrl, f.x_firmware_ctrl, "FIRMWARE_CTRL",
		     facs) < 0)
		return -EINVAL;
	return 0;
}

static long facs_at(const struct blob *b, uint64_t addr, size_t *tlen)
{
	struct acpi_facs f;
	long at = blob_at(b, addr, sizeof(f), "FACS");

	if (at < 0)
		return at;
	memcpy(&f, b->buf + at, sizeof(f));
	if (memcmp(f.signature, "FACS", 4) || f.length < sizeof(f))
		return err_set(-EINVAL, "acpi: no FACS at 0x%llx",
			       (unsigned long long)addr);
	if (addr & 63)
		return err_set(-EINVAL, "acpi: FACS at 0x%llx is not 64-byte "
			       "aligned", (unsigned long long)addr);
	if (blob_at(b, addr, f.length, "FACS") < 0)
		return -EINVAL;
	*tlen = f.length;
	return at;
}

/* Every entry of a MADT must stay inside it. */
static int madt_walk(const struct blob *b, long at, size_t tlen)
{
	size_t p = sizeof(struct acpi_madt);

	if (tlen < p)
		return err_set(-EINVAL, "acpi: MADT: only %zu bytes", tlen);
	while (p < tlen) {
		uint8_t elen = tlen - p >= 2 ? b->buf[at + p + 1] : 0;

		if (elen < 2 || elen > tlen - p)
			return err_set(-EINVAL, "acpi: MADT: entry at offset "
				       "%zu has a bad length", p);
		p += elen;
	}
	return 0;
}

/*
 * Walk the blob; with sig set, stop at the table with that signature and
 * return its offset (or -ENOENT).  With sig NULL check everything, return 0.
 */
static long walk(const struct blob *b, uint64_t rsdp_gpa, const char *sig,
		 size_t *out_len)
{
	struct acpi_rsdp r;
	size_t xlen, tlen;
	long at, xsdt;

	if ((at = rsdp_at(b, rsdp_gpa)) < 0)
		return at;
	memcpy(&r, b->buf + at, sizeof(r));
	if (sig && !strcmp(sig, "RSDP")) {
		*out_len = r.length;
		return at;
	}
	if ((xsdt = table_at(b, r.xsdt_address, "XSDT", &xlen)) < 0)
		return xsdt;
	if ((xlen - sizeof(struct acpi_header)) % 8)
		return err_set(-EINVAL, "acpi: XSDT: length %zu is not a "
			       "whole number of entries", xlen);
	if (sig && !strcmp(sig, "XSDT")) {
		*out_len = xlen;
		return xsdt;
	}
	for (size_t p = sizeof(struct acpi_header); p < xlen; p += 8) {
		uint64_t addr, dsdt = 0, facs = 0;
		long t;
		char tsig[5] = { 0 };

		memcpy(&addr, b->buf + xsdt + p, 8);
		if ((t = table_at(b, addr, NULL, &tlen)) < 0)
			return t;
		memcpy(tsig, b->buf + t, 4);
		if (sig && !strcmp(sig, tsig)) {
			*out_len = tlen;
			return t;
		}
		if (!strcmp(tsig, "APIC") && madt_walk(b, t, tlen) < 0)
			return -EINVAL;
		if (!strcmp(tsig, "MCFG") && (tlen < sizeof(struct acpi_mcfg) ||
		    (tlen - sizeof(struct acpi_mcfg)) % sizeof(struct acpi_mcfg_alloc)))
			return err_set(-EINVAL, "acpi: MCFG: length %zu is not a "
				       "whole number of allocations", tlen);
		if (strcmp(tsig, "FACP"))
			continue;
		if (fadt_links(b, t, tlen, &dsdt, &facs) < 0)
			return -EINVAL;
		if (!dsdt)
			return err_set(-EINVAL, "acpi: FADT: no DSDT");
		if ((t = table_at(b, dsdt, "DSDT", &tlen)) < 0)
			return t;
		if (sig && !strcmp(sig, "DSDT")) {
			*out_len = tlen;
			return t;
		}
		if (facs) {
			if ((t = facs_at(b, facs, &tlen)) < 0)
				return t;
			if (sig && !strcmp(sig, "FACS")) {
				*out_len = tlen;
				return t;
			}
		}
	}
	return sig ? -ENOENT : 0;
}

int acpi_check(const void *buf, size_t len, uint64_t base_gpa,
	       uint64_t rsdp_gpa)
{
	struct blob b = { buf, buf ? len : 0, base_gpa };
	size_t unused;

	return (int)walk(&b, rsdp_gpa, NULL, &unused);
}

const void *acpi_find(const void *buf, size_t len, uint64_t base_gpa,
		      uint64_t rsdp_gpa, const char *sig, size_t *tlen)
{
	struct blob b = { buf, buf ? len : 0, base_gpa };
	long at = walk(&b, rsdp_gpa, sig, tlen);

	return at < 0 ? NULL : b.buf + at;
}
