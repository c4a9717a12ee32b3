/*
 * Unit tests for the ACPI table builder (src/boot/acpi.c) and the AML
 * encoder (src/boot/aml.c): table contents for 1..64 CPUs, checksums
 * recomputed here, alignment, the blob checker, running out of room
 * without writing past it, and the AML encodings byte by byte.
 */
#include "unit.h"
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "err.h"
#include "boot/acpi.h"
#include "boot/aml.h"

#define BASE	0x9f000ULL

static uint8_t sum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *b++);
	return s;
}

/* Host pointer for a guest address inside the blob (fails the test if not). */
static const uint8_t *at(const uint8_t *buf, size_t used, uint64_t base,
			 uint64_t gpa, size_t n)
{
	assert_true(gpa >= base);
	assert_true(gpa - base + n <= used);
	return buf + (gpa - base);
}

static const void *memmem_or_null(const void *h, size_t hn, const void *n,
				  size_t nn)
{
	return memmem(h, hn, n, nn);
}

struct built {
	uint8_t *buf;
	size_t room, used;
	uint64_t base, rsdp;
};

static bool legacy;	/* build(): the --legacy machine's tables */

static void build(struct built *b, int ncpus, uint64_t base)
{
	struct acpi_config cfg = { .ncpus = ncpus, .base_gpa = base, .legacy = legacy };

	b->room = 16384;
	b->buf = malloc(b->room);
	assert_non_null(b->buf);
	memset(b->buf, 0xa5, b->room);
	b->base = base;
	assert_int_equal(acpi_build(&cfg, b->buf, b->room, &b->rsdp, &b->used), 0);
	assert_true(b->used > 0 && b->used <= b->room);
	/* nothing after the last table is touched */
	for (size_t i = b->used; i < b->room; i++)
		assert_int_equal(b->buf[i], 0xa5);
	assert_int_equal(acpi_check(b->buf, b->used, base, b->rsdp), 0);
}

static void check_header(const void *p, const char *sig, uint8_t rev)
{
	struct acpi_header h;

	memcpy(&h, p, sizeof(h));
	assert_memory_equal(h.signature, sig, 4);
	assert_int_equal(h.revision, rev);
	assert_memory_equal(h.oem_id, "HYVE  ", 6);
	assert_memory_equal(h.oem_table_id, ACPI_OEM_TABLE_ID, 8);
	assert_memory_equal(h.creator_id, "HYVE", 4);
	assert_int_not_equal(h.creator_revision, 0);
	assert_int_equal(sum(p, h.length), 0);
}

/* The MADT entry e, of len bytes (its length field says so), copied to dst. */
static void madt_entry(void *dst, size_t len, const uint8_t *e)
{
	assert_int_equal(e[1], len);
	memcpy(dst, e, len);
}

/* The PCI root bridge and the motherboard resources in the DSDT's AML. */
static void check_dsdt_pci(const uint8_t *aml, size_t n, uint64_t w64)
{
	static const uint8_t pci0[] = { 0x5b, 0x82 };			/* Device ( */
	static const uint8_t hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x08 };
	static const uint8_t cid[] = { 0x08, '_', 'C', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03 };
	static const uint8_t seg[] = { 0x08, '_', 'S', 'E', 'G', 0x00 };
	static const uint8_t bbn[] = { 0x08, '_', 'B', 'B', 'N', 0x00 };
	static const uint8_t mres[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0c, 0x02 };
	/* _PRT: Package (124), first entry { 0x0001FFFF, Zero, Zero, 17 } */
	static const uint8_t prt[] = { 0x08, '_', 'P', 'R', 'T', 0x12 };
	static const uint8_t prt0[] = { 0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x01, 0x00,
					0x00, 0x00, 0x0a, 0x11 };
	/* the last: slot 31, INTD: GSI 16 + (31 + 3) % 4 = 18 */
	static const uint8_t prtn[] = { 0x12, 0x0c, 0x04, 0x0c, 0xff, 0xff, 0x1f, 0x00,
					0x0a, 0x03, 0x00, 0x0a, 0x12 };
	/* WordBusNumber 0-0 (the only bus); DWordMemory 0xC0000000-0xDFFFFFFF */
	static const uint8_t bus[] = { 0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00,
				       0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00 };
	/* \_SB.RTC: _HID EISAID ("PNP0B00"), _CRS IO (0x70, 0x70, 1, 2), IRQNoFlags { 8 } */
	static const uint8_t rtc_hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0b, 0x00 };
	static const uint8_t rtc_crs[] = { 0x47, 0x01, 0x70, 0x00, 0x70, 0x00, 0x01, 0x02,
					   0x22, 0x00, 0x01, 0x79, 0x00 };
	static const uint8_t m32[] = { 0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0, 0, 0, 0,
				       0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0xff, 0xdf,
				       0, 0, 0, 0, 0x00, 0x00, 0x00, 0x20 };
	/* Memory32Fixed (ReadWrite, 0xE0000000, 0x10000000) */
	static const uint8_t ecam[] = { 0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xe0,
					0x00, 0x00, 0x00, 0x10 };
	static const uint8_t m64[6] = { 0x8a, 0x2b, 0x00, 0x00, 0x0c, 0x03 };
	const uint8_t *p;

	assert_non_null(memmem_or_null(aml, n, pci0, sizeof(pci0)));
	assert_non_null(memmem_or_null(aml, n, "PCI0", 4));
	assert_non_null(memmem_or_null(aml, n, hid, sizeof(hid)));
	assert_non_null(memmem_or_null(aml, n, cid, sizeof(cid)));
	assert_non_null(memmem_or_null(aml, n, seg, sizeof(seg)));
	assert_non_null(memmem_or_null(aml, n, bbn, sizeof(bbn)));
	assert_non_null(memmem_or_null(aml, n, "MRES", 4));
	assert_non_null(memmem_or_null(aml, n, mres, sizeof(mres)));
	assert_non_null(memmem_or_null(aml, n, ecam, sizeof(ecam)));
	assert_non_null(memmem_or_null(aml, n, bus, sizeof(bus)));
	assert_non_null(memmem_or_null(aml, n, rtc_hid, sizeof(rtc_hid)));
	assert_non_null(memmem_or_null(aml, n, rtc_crs, sizeof(rtc_crs)));
	assert_non_null(memmem_or_null(aml, n, m32, sizeof(m32)));
	p = memmem_or_null(aml, n, prt, sizeof(prt));
	assert_non_null(p);
	/* PkgLength (2 bytes), NumElements 124, then the first entry */
	assert_int_equal(p[6] >> 6, 1);
	assert_int_equal(p[8], 124);
	assert_memory_equal(p + 9, prt0, sizeof(prt0));
	assert_non_null(memmem_or_null(aml, n, prtn, sizeof(prtn)));
	/* QWordMemory: cacheable, min w64, max w64 + 32 GiB - 1, length 32 GiB */
	p = memmem_or_null(aml, n, m64, sizeof(m64));
	assert_non_null(p);
	{
		uint64_t q[5];

		memcpy(q, p + 6, sizeof(q));
		assert_int_equal(q[0], 0);
		assert_int_equal(q[1], w64);
		assert_int_equal(q[2], w64 + 0x800000000ULL - 1);
		assert_int_equal(q[3], 0);
		assert_int_equal(q[4], 0x800000000ULL);
	}
	/* the resource templates end with an end tag */
	assert_non_null(memmem_or_null(aml, n, (const uint8_t[]){ 0x00, 0x10, 0x79, 0x00 }, 4));
}

static void check_tables(int ncpus, uint64_t base)
{
	struct built b;
	struct acpi_rsdp r;
	struct acpi_header xh;
	struct acpi_fadt f;
	struct acpi_facs facs;
	struct acpi_madt m;
	struct acpi_header dh;
	struct acpi_mcfg_alloc mc;
	uint64_t ent[3];
	const uint8_t *p;
	size_t n;

	build(&b, ncpus, base);

	/* RSDP: first, 16-byte aligned, both checksums */
	assert_int_equal(b.rsdp % 16, 0);
	assert_true(b.rsdp - base < 16);
	memcpy(&r, at(b.buf, b.used, base, b.rsdp, sizeof(r)), sizeof(r));
	assert_memory_equal(r.signature, "RSD PTR ", 8);
	assert_int_equal(r.revision, 2);
	assert_int_equal(r.length, 36);
	assert_memory_equal(r.oem_id, "HYVE  ", 6);
	assert_int_equal(sum(&r, 20), 0);
	assert_int_equal(sum(&r, 36), 0);

	/* XSDT: FADT, MADT and MCFG, in that order */
	assert_int_equal(r.xsdt_address % 8, 0);
	assert_true(r.xsdt_address > b.rsdp);
	memcpy(&xh, at(b.buf, b.used, base, r.xsdt_address, sizeof(xh)), sizeof(xh));
	assert_int_equal(xh.length, 36 + 24);
	check_header(at(b.buf, b.used, base, r.xsdt_address, xh.length), "XSDT", 1);
	memcpy(ent, at(b.buf, b.used, base, r.xsdt_address + 36, 24), 24);

	/* FADT */
	assert_int_equal(ent[0] % 8, 0);
	assert_true(ent[0] >= r.xsdt_address + xh.length);
	memcpy(&f, at(b.buf, b.used, base, ent[0], sizeof(f)), sizeof(f));
	assert_int_equal(f.hdr.length, 276);
	check_header(at(b.buf, b.used, base, ent[0], 276), "FACP", 6);
	assert_int_equal(f.minor_version, 3);
	assert_int_equal(f.sci_int, 9);
	assert_int_equal(f.smi_cmd, 0);
	assert_int_equal(f.acpi_enable, 0);
	assert_int_equal(f.pm1a_evt_blk, 0x600);
	assert_int_equal(f.pm1_evt_len, 4);
	assert_int_equal(f.pm1a_cnt_blk, 0x604);
	assert_int_equal(f.pm1_cnt_len, 2);
	assert_int_equal(f.pm1b_evt_blk, 0);
	assert_int_equal(f.pm1b_cnt_blk, 0);
	assert_int_equal(f.pm_tmr_blk, 0);
	assert_int_equal(f.pm_tmr_len, 0);
	assert_int_equal(f.gpe0_blk, 0);
	assert_int_equal(f.x_pm1a_evt_blk.space_id, ACPI_AS_IO);
	assert_int_equal(f.x_pm1a_evt_blk.bit_width, 32);
	assert_int_equal(f.x_pm1a_evt_blk.address, 0x600);
	assert_int_equal(f.x_pm1a_cnt_blk.space_id, ACPI_AS_IO);
	assert_int_equal(f.x_pm1a_cnt_blk.bit_width, 16);
	assert_int_equal(f.x_pm1a_cnt_blk.address, 0x604);
	assert_int_equal(f.x_pm_tmr_blk.address, 0);
	assert_int_equal(f.reset_reg.space_id, ACPI_AS_IO);
	assert_int_equal(f.reset_reg.bit_width, 8);
	/* lean: reset through 0xCF9; legacy: the i8042's pulse */
	assert_int_equal(f.reset_reg.address, legacy ? 0x64 : 0xcf9);
	assert_int_equal(f.reset_value, legacy ? 0xfe : 0x06);
	assert_true(f.flags & ACPI_FADT_RESET_REG_SUP);
	assert_true(f.flags & ACPI_FADT_WBINVD);
	assert_false(f.flags & ACPI_FADT_HW_REDUCED);
	/* lean: no 8042 (Linux does not probe it) */
	assert_int_equal(f.iapc_boot_arch, ACPI_IAPC_LEGACY_DEVICES |
			 (legacy ? ACPI_IAPC_8042 : 0) | ACPI_IAPC_NO_VGA);
	assert_int_equal(f.x_dsdt, f.dsdt);
	assert_int_equal(f.x_firmware_ctrl, f.firmware_ctrl);

	/* FACS: 64-byte aligned, after the FADT */
	assert_int_equal(f.x_firmware_ctrl % 64, 0);
	assert_true(f.x_firmware_ctrl >= ent[0] + 276);
	memcpy(&facs, at(b.buf, b.used, base, f.x_firmware_ctrl, 64), 64);
	assert_memory_equal(facs.signature, "FACS", 4);
	assert_int_equal(facs.length, 64);
	assert_int_equal(facs.version, 2);
	assert_int_equal(facs.global_lock, 0);

	/* MADT */
	assert_int_equal(ent[1] % 8, 0);
	assert_true(ent[1] >= f.x_firmware_ctrl + 64);
	memcpy(&m, at(b.buf, b.used, base, ent[1], sizeof(m)), sizeof(m));
	check_header(at(b.buf, b.used, base, ent[1], m.hdr.length), "APIC", 5);
	assert_int_equal(m.lapic_address, 0xfee00000);
	assert_int_equal(m.flags, legacy ? ACPI_MADT_PCAT_COMPAT : 0);
	p = at(b.buf, b.used, base, ent[1], m.hdr.length);
	{
		int nlapic = 0, nioapic = 0, niso = 0, nnmi = 0;
		bool iso0 = false, iso9 = false;

		for (size_t o = sizeof(m); o < m.hdr.length; o += p[o + 1]) {
			assert_true(p[o + 1] >= 2 && o + p[o + 1] <= m.hdr.length);
			switch (p[o]) {
			case ACPI_MADT_LAPIC: {
				struct acpi_madt_lapic l;

				madt_entry(&l, sizeof(l), p + o);
				assert_int_equal(l.apic_id, nlapic);
				assert_int_equal(l.processor_uid, nlapic);
				assert_int_equal(l.flags & 1, 1);
				nlapic++;
				break;
			}
			case ACPI_MADT_IOAPIC: {
				struct acpi_madt_ioapic io;

				madt_entry(&io, sizeof(io), p + o);
				assert_int_equal(io.ioapic_id, ACPI_IOAPIC_ID);
				assert_int_equal(io.address, 0xfec00000);
				assert_int_equal(io.gsi_base, 0);
				nioapic++;
				break;
			}
			case ACPI_MADT_ISO: {
				struct acpi_madt_iso iso;

				madt_entry(&iso, sizeof(iso), p + o);
				assert_int_equal(iso.bus, 0);
				if (iso.source == 0) {
					assert_int_equal(iso.gsi, 2);
					assert_int_equal(iso.flags, 0);
					iso0 = true;
				} else if (iso.source == 9) {
					assert_int_equal(iso.gsi, 9);
					/* level (3 << 2), active high (1) */
					assert_int_equal(iso.flags, 0x000d);
					iso9 = true;
				} else {
					fail_msg("unexpected override for IRQ %u", iso.source);
				}
				niso++;
				break;
			}
			case ACPI_MADT_LAPIC_NMI: {
				struct acpi_madt_lapic_nmi nmi;

				madt_entry(&nmi, sizeof(nmi), p + o);
				assert_int_equal(nmi.processor_uid, 0xff);
				assert_int_equal(nmi.lint, 1);
				nnmi++;
				break;
			}
			default:
				fail_msg("unexpected MADT entry type %u", p[o]);
			}
		}
		assert_int_equal(nlapic, ncpus);
		assert_int_equal(nioapic, 1);
		assert_int_equal(niso, 2);
		assert_true(iso0 && iso9);
		assert_int_equal(nnmi, 1);
	}

	/* MCFG: after the MADT, one allocation: segment 0, bus 0 at ECAM */
	assert_int_equal(ent[2] % 8, 0);
	assert_true(ent[2] >= ent[1] + m.hdr.length);
	check_header(at(b.buf, b.used, base, ent[2], 60), "MCFG", 1);
	memcpy(&dh, at(b.buf, b.used, base, ent[2], 36), 36);
	assert_int_equal(dh.length, 60);
	memcpy(&mc, at(b.buf, b.used, base, ent[2] + 44, 16), 16);
	assert_int_equal(mc.base, 0xe0000000);
	assert_int_equal(mc.segment, 0);
	assert_int_equal(mc.bus_start, 0);
	assert_int_equal(mc.bus_end, 0);	/* else Linux scans buses 1-255 */
	assert_int_equal(mc.reserved, 0);
	assert_ptr_equal(acpi_find(b.buf, b.used, base, b.rsdp, "MCFG", &n),
			 b.buf + (ent[2] - base));
	assert_int_equal(n, 60);

	/* DSDT: last, holding \_SB (PCI0, MRES) and \_S5 = Package (4) { 5, 5, 0, 0 } */
	assert_int_equal(f.x_dsdt % 8, 0);
	assert_true(f.x_dsdt >= ent[2] + 60);
	memcpy(&dh, at(b.buf, b.used, base, f.x_dsdt, sizeof(dh)), sizeof(dh));
	check_header(at(b.buf, b.used, base, f.x_dsdt, dh.length), "DSDT", 2);
	assert_int_equal(f.x_dsdt - base + dh.length, b.used);
	{
		static const uint8_t s5[] = {
			0x08, '\\', '_', 'S', '5', '_',		/* Name (\_S5, */
			0x12, 0x08, 0x04,			/* Package (4) { */
			0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00,	/* 5, 5, 0, 0 */
		};
		const uint8_t *d = at(b.buf, b.used, base, f.x_dsdt, dh.length);

		assert_non_null(memmem_or_null(d + 36, dh.length - 36, s5, sizeof(s5)));
		check_dsdt_pci(d + 36, dh.length - 36, 0x100000000ULL);
	}

	/* acpi_find agrees */
	assert_ptr_equal(acpi_find(b.buf, b.used, base, b.rsdp, "FACP", &n),
			 b.buf + (ent[0] - base));
	assert_int_equal(n, 276);
	assert_ptr_equal(acpi_find(b.buf, b.used, base, b.rsdp, "APIC", &n),
			 b.buf + (ent[1] - base));
	assert_int_equal(n, m.hdr.length);
	assert_ptr_equal(acpi_find(b.buf, b.used, base, b.rsdp, "DSDT", &n),
			 b.buf + (f.x_dsdt - base));
	assert_ptr_equal(acpi_find(b.buf, b.used, base, b.rsdp, "FACS", &n),
			 b.buf + (f.x_firmware_ctrl - base));
	assert_int_equal(n, 64);
	assert_ptr_equal(acpi_find(b.buf, b.used, base, b.rsdp, "RSDP", &n),
			 b.buf + (b.rsdp - base));
	assert_ptr_equal(acpi_find(b.buf, b.used, base, b.rsdp, "XSDT", &n),
			 b.buf + (r.xsdt_address - base));
	assert_null(acpi_find(b.buf, b.used, base, b.rsdp, "HPET", &n));
	free(b.buf);
}

/* The 64-bit PCI window in _CRS starts above the RAM that is above 4 GiB. */
static void test_pci_window_follows_ram(void **state)
{
	static const struct { uint64_t mem, w64; } c[] = {
		{ 0, 0x100000000ULL },
		{ 256ULL << 20, 0x100000000ULL },
		{ 3ULL << 30, 0x100000000ULL },
		{ 4ULL << 30, 0x140000000ULL },
		{ (8ULL << 30) + 4096, 0x280000000ULL },
	};
	static uint8_t buf[16384];

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct acpi_config cfg = { .ncpus = 2, .base_gpa = BASE, .mem_size = c[i].mem };
		uint64_t rsdp;
		size_t used, n;
		const uint8_t *d;

		assert_int_equal(acpi_build(&cfg, buf, sizeof(buf), &rsdp, &used), 0);
		assert_int_equal(acpi_check(buf, used, BASE, rsdp), 0);
		d = acpi_find(buf, used, BASE, rsdp, "DSDT", &n);
		assert_non_null(d);
		check_dsdt_pci(d + 36, n - 36, c[i].w64);
	}
}

static void test_tables_1cpu(void **state) { check_tables(1, BASE); }
static void test_tables_2cpus(void **state) { check_tables(2, BASE); }
static void test_tables_4cpus(void **state) { check_tables(4, BASE); }
static void test_tables_64cpus(void **state) { check_tables(64, BASE); }
static void test_tables_legacy(void **state)
{
	legacy = true;
	check_tables(1, BASE);
	check_tables(4, BASE);
	legacy = false;
}

/* Alignment is in guest-physical terms, whatever the base. */
static void test_unaligned_base(void **state)
{
	for (uint64_t base = 0x100000; base < 0x100000 + 80; base += 4)
		check_tables(3, base);
}

static void test_too_little_room(void **state)
{
	struct acpi_config cfg = { .ncpus = 64, .base_gpa = BASE };
	uint64_t rsdp = 0x1234;
	size_t used;
	uint8_t *full = malloc(16384);
	int r;

	assert_non_null(full);
	assert_int_equal(acpi_build(&cfg, full, 16384, &rsdp, &used), 0);
	for (size_t room = 0; room < used; room++) {
		/* exactly room bytes, then a canary: ASan and the canary
		   both catch a write past the end */
		uint8_t *buf = malloc(room + 64);

		assert_non_null(buf);
		memset(buf, 0x5a, room + 64);
		rsdp = 0x1234;
		r = acpi_build(&cfg, buf, room, &rsdp, NULL);
		assert_int_equal(r, -ENOSPC);
		assert_non_null(strstr(err_msg(), "no room"));
		assert_int_equal(rsdp, 0x1234);
		for (size_t i = room; i < room + 64; i++)
			assert_int_equal(buf[i], 0x5a);
		free(buf);
	}
	/* exactly enough is enough, and gives the same bytes */
	{
		uint8_t *buf = malloc(used);

		assert_non_null(buf);
		assert_int_equal(acpi_build(&cfg, buf, used, &rsdp, NULL), 0);
		assert_memory_equal(buf, full, used);
		free(buf);
	}
	assert_int_equal(acpi_build(&cfg, NULL, 0, &rsdp, NULL), -ENOSPC);
	free(full);
}

static void test_bad_config(void **state)
{
	static uint8_t buf[8192];
	uint64_t rsdp;
	struct acpi_config cfg = { .base_gpa = BASE };
	static const int bad[] = { 0, 65, -1, 1000 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(buf, 0x77, sizeof(buf));
		cfg.ncpus = bad[i];
		assert_int_equal(acpi_build(&cfg, buf, sizeof(buf), &rsdp, NULL), -EINVAL);
		assert_non_null(strstr(err_msg(), "CPUs"));
		assert_int_equal(buf[0], 0x77);		/* nothing written */
	}
	cfg.ncpus = 1;
	cfg.base_gpa = 0x100000000ULL;
	assert_int_equal(acpi_build(&cfg, buf, sizeof(buf), &rsdp, NULL), -EINVAL);
	cfg.base_gpa = 0xffffff00ULL;		/* would cross 4 GiB */
	assert_int_equal(acpi_build(&cfg, buf, sizeof(buf), &rsdp, NULL), -EINVAL);
	assert_non_null(strstr(err_msg(), "4 GiB"));
	cfg.base_gpa = 0x100000000ULL - 4096;	/* ends just below */
	assert_int_equal(acpi_build(&cfg, buf, 4096, &rsdp, NULL), 0);
}

/* The checker catches every corrupted byte of a checksummed table. */
static void test_check_catches_corruption(void **state)
{
	struct built b;
	const char *const sigs[] = { "RSDP", "XSDT", "FACP", "APIC", "MCFG", "DSDT" };

	build(&b, 4, BASE);
	for (size_t s = 0; s < sizeof(sigs) / sizeof(sigs[0]); s++) {
		size_t n;
		const uint8_t *t = acpi_find(b.buf, b.used, BASE, b.rsdp, sigs[s], &n);
		size_t off;

		assert_non_null(t);
		off = (size_t)(t - b.buf);
		for (size_t i = 0; i < n; i++) {
			b.buf[off + i] ^= 0x40;
			assert_int_equal(acpi_check(b.buf, b.used, BASE, b.rsdp), -EINVAL);
			b.buf[off + i] ^= 0x40;
		}
	}
	assert_int_equal(acpi_check(b.buf, b.used, BASE, b.rsdp), 0);
	/* a blob cut short, or seen at the wrong address */
	for (size_t len = 0; len < b.used; len++)
		assert_int_equal(acpi_check(b.buf, len, BASE, b.rsdp), -EINVAL);
	assert_int_equal(acpi_check(b.buf, b.used, BASE + 16, b.rsdp), -EINVAL);
	assert_int_equal(acpi_check(b.buf, b.used, BASE, b.rsdp + 16), -EINVAL);
	assert_int_equal(acpi_check(b.buf, b.used, BASE, 0), -EINVAL);
	assert_int_equal(acpi_check(b.buf, b.used, BASE, ~0ULL), -EINVAL);
	assert_int_equal(acpi_check(NULL, 0, BASE, BASE), -EINVAL);
	free(b.buf);
}

/* Random garbage through the checker: no crash, no read outside (ASan). */
static void test_check_garbage(void **state)
{
	struct built b;
	unsigned seed = 1;

	build(&b, 2, BASE);
	for (int round = 0; round < 20000; round++) {
		uint8_t *copy = malloc(b.used);

		assert_non_null(copy);
		memcpy(copy, b.buf, b.used);
		for (int k = 0; k < 1 + round % 4; k++) {
			seed = seed * 1103515245 + 12345;
			copy[(seed >> 8) % b.used] = (uint8_t)(seed >> 20);
		}
		(void)acpi_check(copy, b.used, BASE, b.rsdp);
		free(copy);
	}
	free(b.buf);
}

/* ---- AML ---- */

static void pkglen_is(uint32_t v, int n, const uint8_t *want)
{
	uint8_t out[4];

	assert_int_equal(aml_pkglength(out, v), n);
	assert_memory_equal(out, want, (size_t)n);
}

static void test_pkglength_boundaries(void **state)
{
	pkglen_is(0, 1, (const uint8_t[]){ 0x00 });
	pkglen_is(63, 1, (const uint8_t[]){ 0x3f });
	pkglen_is(64, 2, (const uint8_t[]){ 0x40, 0x04 });
	pkglen_is(4095, 2, (const uint8_t[]){ 0x4f, 0xff });
	pkglen_is(4096, 3, (const uint8_t[]){ 0x80, 0x00, 0x01 });
	pkglen_is(1048575, 3, (const uint8_t[]){ 0x8f, 0xff, 0xff });
	pkglen_is(1048576, 4, (const uint8_t[]){ 0xc0, 0x00, 0x00, 0x01 });
	pkglen_is(0x0fffffff, 4, (const uint8_t[]){ 0xcf, 0xff, 0xff, 0xff });
	pkglen_is(0x12345, 3, (const uint8_t[]){ 0x85, 0x34, 0x12 });
	{
		uint8_t out[4];

		assert_int_equal(aml_pkglength(out, 0x10000000), -EINVAL);
	}
}

/* The value counts its own bytes: contents of n bytes. */
static void test_pkglength_for(void **state)
{
	static const struct { size_t n; int bytes; uint32_t v; } c[] = {
		{ 0, 1, 1 }, { 62, 1, 63 }, { 63, 2, 65 },
		{ 4093, 2, 4095 }, { 4094, 3, 4097 },
		{ 1048572, 3, 1048575 }, { 1048573, 4, 1048577 },
		{ 0x0fffffff - 4, 4, 0x0fffffff },
	};
	uint8_t out[4], want[4];

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		assert_int_equal(aml_pkglength_for(out, c[i].n), c[i].bytes);
		assert_int_equal(aml_pkglength(want, c[i].v), c[i].bytes);
		assert_memory_equal(out, want, (size_t)c[i].bytes);
	}
	assert_int_equal(aml_pkglength_for(out, 0x0fffffff - 3), -EINVAL);
}

/* Emit with f into a fresh encoder and compare with want. */
#define AML_IS(want, ...) do {						\
	static const uint8_t w_[] = want;				\
	uint8_t b_[256];						\
	struct aml a_;							\
	struct aml *a = &a_;						\
	aml_init(a, b_, sizeof(b_));					\
	__VA_ARGS__;							\
	assert_int_equal(aml_finish(a), sizeof(w_));			\
	assert_memory_equal(b_, w_, sizeof(w_));			\
} while (0)
#define B(...) { __VA_ARGS__ }

static void test_aml_names(void **state)
{
	AML_IS(B('_', 'S', '5', '_'), aml_namestring(a, "_S5"));
	AML_IS(B('\\', '_', 'S', 'B', '_'), aml_namestring(a, "\\_SB"));
	AML_IS(B('\\', 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0'),
	       aml_namestring(a, "\\_SB.PCI0"));
	AML_IS(B(0x2f, 3, '_', 'S', 'B', '_', 'P', 'C', 'I', '0', 'I', 'S', 'A', '_'),
	       aml_namestring(a, "_SB.PCI0.ISA"));
	AML_IS(B('^', '^', 'F', 'O', 'O', '_'), aml_namestring(a, "^^FOO"));
	AML_IS(B('\\', 0x00), aml_namestring(a, "\\"));
	AML_IS(B(0x00), aml_namestring(a, ""));
	AML_IS(B(0x08, 'A', 'B', 'C', 'D', 0x0a, 0x2a), aml_name(a, "ABCD"); aml_integer(a, 42));

	static const char *const bad[] = {
		"1ABC", "ABCDE", "abc", "A..B", "A.", ".A", "\\^A", "A-B", "A B",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t buf[64];
		struct aml a;

		aml_init(&a, buf, sizeof(buf));
		aml_namestring(&a, bad[i]);
		assert_int_equal(aml_finish(&a), -EINVAL);
		assert_non_null(strstr(err_msg(), "name"));
	}
}

static void test_aml_integers(void **state)
{
	AML_IS(B(0x00), aml_integer(a, 0));
	AML_IS(B(0x01), aml_integer(a, 1));
	AML_IS(B(0x0a, 0x02), aml_integer(a, 2));
	AML_IS(B(0x0a, 0xff), aml_integer(a, 0xff));
	AML_IS(B(0x0b, 0x00, 0x01), aml_integer(a, 0x100));
	AML_IS(B(0x0b, 0xff, 0xff), aml_integer(a, 0xffff));
	AML_IS(B(0x0c, 0x00, 0x00, 0x01, 0x00), aml_integer(a, 0x10000));
	AML_IS(B(0x0c, 0xff, 0xff, 0xff, 0xff), aml_integer(a, 0xffffffff));
	AML_IS(B(0x0e, 0, 0, 0, 0, 1, 0, 0, 0), aml_integer(a, 0x100000000ULL));
	AML_IS(B(0xff), aml_integer(a, ~0ULL));
	AML_IS(B(0x0d, 'h', 'y', 0x00), aml_string(a, "hy"));
	/* EISAID ("PNP0A03") is 0x030AD041 */
	AML_IS(B(0x0c, 0x41, 0xd0, 0x0a, 0x03), aml_eisaid(a, "PNP0A03"));
	AML_IS(B(0x0c, 0x41, 0xd0, 0x05, 0x01), aml_eisaid(a, "PNP0501"));

	static const char *const bad[] = { "PNP0A0", "PNP0A033", "pnp0a03", "PNP0a03", "P1P0A03" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t buf[64];
		struct aml a;

		aml_init(&a, buf, sizeof(buf));
		aml_eisaid(&a, bad[i]);
		assert_int_equal(aml_finish(&a), -EINVAL);
	}
}

static void test_aml_blocks(void **state)
{
	/* Device (\_SB.PCI0) { Name (_HID, EisaId ("PNP0A03")) } in \_SB */
	AML_IS(B(0x10, 0x17, '\\', '_', 'S', 'B', '_',
		 0x5b, 0x82, 0x0f, 'P', 'C', 'I', '0',
		 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03),
	       aml_scope_begin(a, "\\_SB");
	       aml_device_begin(a, "PCI0");
	       aml_name(a, "_HID");
	       aml_eisaid(a, "PNP0A03");
	       aml_end(a);
	       aml_end(a));
	/* Package () inside Package () */
	AML_IS(B(0x12, 0x09, 0x02, 0x12, 0x04, 0x02, 0x01, 0x00, 0x0a, 0x07),
	       aml_package_begin(a, 2);
	       aml_package_begin(a, 2);
	       aml_integer(a, 1);
	       aml_integer(a, 0);
	       aml_end(a);
	       aml_integer(a, 7);
	       aml_end(a));
	/* Buffer (3) { 1, 2, 3 } */
	AML_IS(B(0x11, 0x06, 0x0a, 0x03, 1, 2, 3), aml_buffer(a, "\x01\x02\x03", 3));
	AML_IS(B(0x11, 0x02, 0x00), aml_buffer(a, "", 0));
}

/* A block whose PkgLength needs 2 and 3 bytes: contents moved intact. */
static void test_aml_long_blocks(void **state)
{
	/* Buffer (n): contents are BufferSize (2 bytes up to 0xff, else 3)
	   and n bytes; the PkgLength value adds its own length */
	static const struct { size_t n; int k; uint8_t pl[3]; } c[] = {
		{ 58, 1, { 0x3d } },			/* 60 + 1 */
		{ 60, 1, { 0x3f } },			/* 62 + 1 = 63 */
		{ 61, 2, { 0x41, 0x04 } },		/* 63 + 2 = 65 */
		{ 4000, 2, { 0x45, 0xfa } },		/* 4003 + 2 = 0xfa5 */
		{ 4090, 2, { 0x4f, 0xff } },		/* 4093 + 2 = 0xfff */
		{ 4091, 3, { 0x81, 0x00, 0x01 } },	/* 4094 + 3 = 0x1001 */
		{ 5000, 3, { 0x8e, 0x38, 0x01 } },	/* 5003 + 3 = 0x138e */
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		size_t n = c[i].n, k = (size_t)c[i].k;
		size_t hdr = 1 + k + (n <= 0xff ? 2 : 3);
		uint8_t *data = malloc(n), *buf = malloc(n + 32);
		struct aml a;

		assert_non_null(data);
		assert_non_null(buf);
		for (size_t j = 0; j < n; j++)
			data[j] = (uint8_t)(j * 7 + 1);
		aml_init(&a, buf, n + 32);
		aml_buffer(&a, data, n);
		assert_int_equal(aml_finish(&a), hdr + n);
		assert_int_equal(buf[0], 0x11);
		assert_memory_equal(buf + 1, c[i].pl, k);
		assert_memory_equal(buf + hdr, data, n);
		free(data);
		free(buf);
	}
}

/* Resource descriptors byte by byte (ACPI 6.3 section 6.4), as iasl emits them. */
static void test_aml_resources(void **state)
{
	struct aml_res r;

	/* WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, 0, 0xFF, 0, 0x100) */
	aml_res_init(&r);
	aml_res_word_bus(&r, 0, 0xff);
	AML_IS(B(0x11, 0x15, 0x0a, 0x12,
		 0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00,
		 0xff, 0x00, 0x00, 0x00, 0x00, 0x01, 0x79, 0x00),
	       aml_resource_template(a, &r));
	/* WordIO (..., EntireRange, 0, 0x0D00, 0xFFFF, 0, 0xF300) */
	aml_res_init(&r);
	aml_res_word_io(&r, 0x0d00, 0xffff);
	AML_IS(B(0x11, 0x15, 0x0a, 0x12,
		 0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0x00, 0x00, 0x00, 0x0d,
		 0xff, 0xff, 0x00, 0x00, 0x00, 0xf3, 0x79, 0x00),
	       aml_resource_template(a, &r));
	/* IO (Decode16, 0x0CF8, 0x0CF8, 1, 8) and Memory32Fixed (ReadWrite, 0xE0000000, 0x10000000) */
	aml_res_init(&r);
	aml_res_io(&r, 0xcf8, 0xcf8, 1, 8);
	aml_res_mem32_fixed(&r, 0xe0000000, 0x10000000);
	AML_IS(B(0x11, 0x19, 0x0a, 0x16,
		 0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08,
		 0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xe0, 0x00, 0x00, 0x00, 0x10,
		 0x79, 0x00),
	       aml_resource_template(a, &r));
	/* DWordMemory (..., NonCacheable, ReadWrite, 0, 0xC0000000, 0xDFFFFFFF, 0, 0x20000000) */
	aml_res_init(&r);
	aml_res_dword_mem(&r, false, 0xc0000000, 0xdfffffff);
	AML_IS(B(0x11, 0x1f, 0x0a, 0x1c,
		 0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x00, 0x00,
		 0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0xff, 0xdf, 0x00, 0x00, 0x00, 0x00,
		 0x00, 0x00, 0x00, 0x20, 0x79, 0x00),
	       aml_resource_template(a, &r));
	/* QWordMemory (..., Cacheable, ReadWrite, 0, 4G, 36G - 1, 0, 32G) */
	aml_res_init(&r);
	aml_res_qword_mem(&r, true, 0x100000000ULL, 0x8ffffffffULL);
	AML_IS(B(0x11, 0x33, 0x0a, 0x30,
		 0x8a, 0x2b, 0x00, 0x00, 0x0c, 0x03,
		 0, 0, 0, 0, 0, 0, 0, 0,
		 0, 0, 0, 0, 1, 0, 0, 0,
		 0xff, 0xff, 0xff, 0xff, 8, 0, 0, 0,
		 0, 0, 0, 0, 0, 0, 0, 0,
		 0, 0, 0, 0, 8, 0, 0, 0,
		 0x79, 0x00),
	       aml_resource_template(a, &r));
	/* an empty template is just the end tag */
	aml_res_init(&r);
	AML_IS(B(0x11, 0x05, 0x0a, 0x02, 0x79, 0x00), aml_resource_template(a, &r));
	/* overflowing the template: an error, nothing emitted past it */
	{
		uint8_t buf[64];
		struct aml a;

		aml_res_init(&r);
		for (int i = 0; i < 20; i++)
			aml_res_qword_mem(&r, false, 0, 0xfff);
		assert_true(r.len <= AML_RES_MAX);
		aml_init(&a, buf, sizeof(buf));
		aml_resource_template(&a, &r);
		assert_int_equal(aml_finish(&a), -EINVAL);
		assert_int_equal(a.len, 0);
	}
}

static void test_aml_no_room(void **state)
{
	uint8_t full[64], buf[64 + 16];
	struct aml a;
	long need;

	aml_init(&a, full, sizeof(full));
	aml_scope_begin(&a, "\\_SB");
	aml_device_begin(&a, "PCI0");
	aml_name(&a, "_HID");
	aml_eisaid(&a, "PNP0A03");
	aml_end(&a);
	aml_end(&a);
	need = aml_finish(&a);
	assert_true(need > 0);
	for (size_t cap = 0; cap < (size_t)need; cap++) {
		memset(buf, 0xee, sizeof(buf));
		aml_init(&a, buf, cap);
		aml_scope_begin(&a, "\\_SB");
		aml_device_begin(&a, "PCI0");
		aml_name(&a, "_HID");
		aml_eisaid(&a, "PNP0A03");
		aml_end(&a);
		aml_end(&a);
		assert_int_equal(aml_finish(&a), -ENOSPC);
		for (size_t i = cap; i < sizeof(buf); i++)
			assert_int_equal(buf[i], 0xee);
	}
}

static void test_aml_misuse(void **state)
{
	uint8_t buf[64];
	struct aml a;

	aml_init(&a, buf, sizeof(buf));
	aml_end(&a);				/* nothing open */
	assert_int_equal(aml_finish(&a), -EINVAL);

	aml_init(&a, buf, sizeof(buf));
	aml_scope_begin(&a, "\\_SB");		/* never closed */
	assert_int_equal(aml_finish(&a), -EINVAL);

	aml_init(&a, buf, sizeof(buf));
	aml_package_begin(&a, 256);
	assert_int_equal(aml_finish(&a), -EINVAL);

	aml_init(&a, buf, sizeof(buf));
	for (int i = 0; i <= AML_MAX_DEPTH; i++)
		aml_package_begin(&a, 1);
	assert_int_equal(aml_finish(&a), -EINVAL);

	/* errors are sticky: later calls do nothing */
	aml_init(&a, buf, sizeof(buf));
	aml_namestring(&a, "bad");
	aml_integer(&a, 5);
	assert_int_equal(a.len, 0);
	assert_int_equal(aml_finish(&a), -EINVAL);
}

TEST_MAIN(NULL, NULL,
	  TEST(test_tables_1cpu), TEST(test_tables_2cpus), TEST(test_tables_4cpus),
	  TEST(test_tables_64cpus), TEST(test_tables_legacy), TEST(test_pci_window_follows_ram), TEST(test_unaligned_base),
	  TEST(test_too_little_room), TEST(test_bad_config), TEST(test_check_catches_corruption),
	  TEST(test_check_garbage), TEST(test_pkglength_boundaries), TEST(test_pkglength_for),
	  TEST(test_aml_names), TEST(test_aml_integers), TEST(test_aml_blocks),
	  TEST(test_aml_long_blocks), TEST(test_aml_resources), TEST(test_aml_no_room),
	  TEST(test_aml_misuse))
