/*
 * Unit tests for the PVH loader (src/boot/pvh.c, kernel.c): a synthetic
 * ELF64 vmlinux with a XEN_ELFNOTE_PHYS32_ENTRY note, loaded into a
 * guest (a real VM without KVM).  HYVE_TEST_VMLINUX=/path/to/vmlinux also
 * checks a real one (scripts/extract-vmlinux.sh makes one from a bzImage).
 */
#include "unit.h"
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "boot/e820.h"
#include "boot/kernel.h"
#include "boot/pvh.h"
#include "err.h"
#include "vm.h"
#include "testvm.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

static uint8_t *gpa(uint64_t addr, uint64_t len)
{
	uint8_t *p = vm_gpa(guest, addr, len);

	assert_non_null(p);
	return p;
}

/* ---- a synthetic vmlinux ---- */

#define ENTRY		0x1000040
#define SEG0_OFF	0x1000
#define SEG0_PADDR	0x1000000
#define SEG0_FILESZ	0x2000
#define SEG0_MEMSZ	0x3000		/* 0x1000 of .bss */
#define SEG1_OFF	0x3000
#define SEG1_PADDR	0x1200000
#define SEG1_FILESZ	0x100
#define NOTE_OFF	0x200
#define ELF_SIZE	0x3100
#define NPH		4		/* LOAD, LOAD, NOTE, GNU_STACK */

static uint8_t elf[ELF_SIZE];

static Elf64_Phdr get_ph(int i)
{
	Elf64_Phdr ph;

	memcpy(&ph, elf + sizeof(Elf64_Ehdr) + i * sizeof(ph), sizeof(ph));
	return ph;
}

static void set_ph(int i, const Elf64_Phdr *ph)
{
	memcpy(elf + sizeof(Elf64_Ehdr) + i * sizeof(*ph), ph, sizeof(*ph));
}

/* Program header i with one field changed to v. */
#define SET_PH_FIELD(i, field, v) do {		\
		Elf64_Phdr ph_ = get_ph(i);	\
		ph_.field = (v);		\
		set_ph((i), &ph_);		\
	} while (0)

/* A fresh image with that one change fails to load (256 MiB) with code, saying msg. */
#define EXPECT_PH_ERROR(i, field, v, code, msg) do {		\
		make_elf(8);					\
		SET_PH_FIELD(i, field, v);			\
		expect_error(256 * MiB, code, msg);		\
	} while (0)

/* Append a note at *off; returns where its desc went. */
static uint8_t *add_note(size_t *off, const char *name, uint32_t type, const void *desc,
			 uint32_t descsz)
{
	uint32_t namesz = strlen(name) + 1;
	uint8_t *p = elf + *off, *d;

	put32(p, namesz);
	put32(p + 4, descsz);
	put32(p + 8, type);
	memcpy(p + 12, name, namesz);
	d = p + 12 + ((namesz + 3) & ~3u);
	memcpy(d, desc, descsz);
	*off += 12 + ((namesz + 3) & ~3u) + ((descsz + 3) & ~3u);
	return d;
}

/* Build the good image; entry note desc of descsz (4 or 8) bytes. */
static void make_elf(uint32_t descsz)
{
	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB, EV_CURRENT },
		.e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
		.e_entry = 0x1000000, .e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(Elf64_Ehdr),
		.e_phentsize = sizeof(Elf64_Phdr), .e_phnum = NPH,
	};
	Elf64_Phdr ph[NPH] = {
		{ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = SEG0_OFF,
		  .p_vaddr = 0xffffffff81000000ULL, .p_paddr = SEG0_PADDR,
		  .p_filesz = SEG0_FILESZ, .p_memsz = SEG0_MEMSZ, .p_align = 0x200000 },
		{ .p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = SEG1_OFF,
		  .p_vaddr = 0, .p_paddr = SEG1_PADDR,	/* like Linux's percpu segment */
		  .p_filesz = SEG1_FILESZ, .p_memsz = SEG1_FILESZ, .p_align = 0x200000 },
		{ .p_type = PT_NOTE, .p_offset = NOTE_OFF, .p_align = 4 },
		{ .p_type = PT_GNU_STACK, .p_offset = 0xFFFFFFFFFFFF0000ULL },	/* ignored */
	};
	uint64_t entry = ENTRY;
	size_t off = NOTE_OFF;

	memset(elf, 0, sizeof(elf));
	memcpy(elf, &eh, sizeof(eh));
	add_note(&off, "GNU", 3, "0123456789abcdefghij", 20);
	add_note(&off, "Xen", 6, "linux", 6);
	add_note(&off, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, &entry, descsz);
	ph[2].p_filesz = ph[2].p_memsz = off - NOTE_OFF;
	for (int i = 0; i < NPH; i++)
		set_ph(i, &ph[i]);
	for (size_t i = 0; i < SEG0_FILESZ; i++)
		elf[SEG0_OFF + i] = (uint8_t)(i * 13 + 1);
	memset(elf + SEG1_OFF, 0xC3, SEG1_FILESZ);
}

static int open_elf(struct kernel_image *k, uint64_t mem)
{
	err_clear();
	return kernel_open_mem(k, "vmlinux", elf, sizeof(elf), NULL, NULL, 0, NULL, mem);
}

static void expect_error(uint64_t mem, int code, const char *msg)
{
	struct kernel_image k;
	int r = open_elf(&k, mem);

	if (r != code || !strstr(err_msg(), msg))
		fail_msg("got %d \"%s\", want %d \"%s\"", r, err_msg(), code, msg);
}

/* ---- good images ---- */

static void test_load_and_start_info(void **state)
{
	static const uint8_t initrd[8192] = { [0] = 0x11, [8191] = 0x22 };
	struct kernel_image k;
	struct kernel_entry e;
	struct hvm_start_info si;
	struct hvm_modlist_entry mod;
	struct vm *vm = guest_vm(256 * MiB);
	const char *cmdline = "console=hvc0";

	make_elf(8);
	/* stale bytes where .bss goes must be cleared */
	memset(gpa(SEG0_PADDR, SEG0_MEMSZ), 0xAA, SEG0_MEMSZ);
	assert_int_equal(kernel_open_mem(&k, "vmlinux", elf, sizeof(elf), "initrd.img",
					 initrd, sizeof(initrd), cmdline, 256 * MiB), 0);
	assert_int_equal(k.format, KERNEL_PVH);
	assert_int_equal(k.u.pvh.entry, ENTRY);
	assert_int_equal(k.u.pvh.nseg, 2);
	assert_int_equal(k.kernel_end, SEG1_PADDR + SEG1_FILESZ);
	assert_int_equal(k.initrd_gpa, 256 * MiB - 8192);

	assert_int_equal(kernel_place(&k, vm, 0xF0000, &e), 0);
	assert_int_equal(e.format, KERNEL_PVH);
	assert_int_equal(e.eip, ENTRY);
	assert_int_equal(e.ebx, KERNEL_START_INFO_ADDR);
	assert_int_equal(e.esi, 0);

	/* segments at p_paddr, .bss zeroed */
	assert_memory_equal(gpa(SEG0_PADDR, SEG0_FILESZ), elf + SEG0_OFF, SEG0_FILESZ);
	for (uint64_t i = SEG0_FILESZ; i < SEG0_MEMSZ; i++)
		assert_int_equal(gpa(SEG0_PADDR + i, 1)[0], 0);
	assert_memory_equal(gpa(SEG1_PADDR, SEG1_FILESZ), elf + SEG1_OFF, SEG1_FILESZ);

	/* hvm_start_info */
	memcpy(&si, gpa(KERNEL_START_INFO_ADDR, sizeof(si)), sizeof(si));
	assert_int_equal(si.magic, 0x336ec578);
	assert_int_equal(si.version, 1);
	assert_int_equal(si.flags, 0);
	assert_int_equal(si.cmdline_paddr, KERNEL_CMDLINE_ADDR);
	assert_string_equal((char *)gpa(si.cmdline_paddr, 1), cmdline);
	assert_int_equal(si.rsdp_paddr, 0xF0000);
	assert_int_equal(si.nr_modules, 1);
	memcpy(&mod, gpa(si.modlist_paddr, sizeof(mod)), sizeof(mod));
	assert_int_equal(mod.paddr, 256 * MiB - 8192);
	assert_int_equal(mod.size, 8192);
	assert_int_equal(mod.cmdline_paddr, 0);
	assert_int_equal(gpa(mod.paddr, 1)[0], 0x11);
	assert_int_equal(gpa(mod.paddr + 8191, 1)[0], 0x22);

	/* memory map: the e820 layout, 24-byte entries */
	assert_int_equal(si.memmap_entries, 4);
	{
		struct e820_entry want[E820_MAX];
		struct hvm_memmap_table_entry m;

		assert_int_equal(e820_build(256 * MiB, want, E820_MAX), 4);
		for (int i = 0; i < 4; i++) {
			memcpy(&m, gpa(si.memmap_paddr + i * sizeof(m), sizeof(m)), sizeof(m));
			assert_int_equal(m.addr, want[i].addr);
			assert_int_equal(m.size, want[i].size);
			assert_int_equal(m.type, want[i].type);
			assert_int_equal(m.reserved, 0);
		}
		memcpy(&m, gpa(si.memmap_paddr + 3 * sizeof(m), sizeof(m)), sizeof(m));
		assert_int_equal(m.addr, MiB);
		assert_int_equal(m.size, 255 * MiB);
		assert_int_equal(m.type, 1);
	}
	/* everything in the low page that start_info points to stays below 0x7000 */
	assert_true(si.memmap_paddr + 4 * 24 <= KERNEL_ZERO_PAGE_ADDR);

	/* register state */
	{
		struct kvm_sregs s;
		struct kvm_regs r;

		memset(&s, 0, sizeof(s));
		kernel_entry_state(&e, &s, &r);
		assert_int_equal(r.rip, ENTRY);
		assert_int_equal(r.rbx, KERNEL_START_INFO_ADDR);
		assert_int_equal(r.rflags & 0x200, 0);
		assert_int_equal(s.cr0 & 1, 1);
		assert_int_equal(s.cs.db, 1);
		assert_int_equal(s.tr.limit, 0x67);
	}
	kernel_close(&k);
	free_vm();
}

static void test_no_initrd_5g(void **state)
{
	struct kernel_image k;
	struct kernel_entry e;
	struct hvm_start_info si;
	struct vm *vm = guest_vm(5 * GiB);

	make_elf(4);			/* a 32-bit note, as Xen's ABI writes it */
	assert_int_equal(open_elf(&k, 5 * GiB), 0);
	assert_int_equal(k.u.pvh.entry, ENTRY);
	assert_int_equal(kernel_place(&k, vm, 0, &e), 0);
	memcpy(&si, gpa(KERNEL_START_INFO_ADDR, sizeof(si)), sizeof(si));
	assert_int_equal(si.nr_modules, 0);
	assert_int_equal(si.modlist_paddr, 0);
	assert_int_equal(si.rsdp_paddr, 0);
	assert_int_equal(si.memmap_entries, 5);
	assert_string_equal((char *)gpa(KERNEL_CMDLINE_ADDR, 1), "");
	kernel_close(&k);
	free_vm();
}

static void test_note_align8(void **state)
{
	Elf64_Phdr ph;
	uint64_t entry = ENTRY + 0x10;
	size_t off = NOTE_OFF;
	struct kernel_image k;

	/* 8-byte note alignment: name "Xen\0" + 4 pad, then an 8-byte desc */
	make_elf(8);
	memset(elf + NOTE_OFF, 0, 0x100);
	put32(elf + off, 4);
	put32(elf + off + 4, 8);
	put32(elf + off + 8, XEN_ELFNOTE_PHYS32_ENTRY);
	memcpy(elf + off + 12, "Xen", 4);
	memcpy(elf + off + 16, &entry, 8);
	ph = get_ph(2);
	ph.p_filesz = 24;
	ph.p_align = 8;
	set_ph(2, &ph);
	assert_int_equal(open_elf(&k, 256 * MiB), 0);
	assert_int_equal(k.u.pvh.entry, ENTRY + 0x10);
}

static void test_cmdline_limit(void **state)
{
	struct kernel_image k;
	char line[PVH_CMDLINE_MAX + 2];

	make_elf(8);
	memset(line, 'x', sizeof(line));
	line[PVH_CMDLINE_MAX] = '\0';
	assert_int_equal(kernel_open_mem(&k, "vmlinux", elf, sizeof(elf), NULL, NULL, 0, line,
					 256 * MiB), 0);
	line[PVH_CMDLINE_MAX] = 'x';
	line[PVH_CMDLINE_MAX + 1] = '\0';
	assert_int_equal(kernel_open_mem(&k, "vmlinux", elf, sizeof(elf), NULL, NULL, 0, line,
					 256 * MiB), -E2BIG);
	assert_string_equal(err_msg(),
			    "vmlinux: command line of 2048 bytes is longer than the kernel takes (2047)");
}

static void test_initrd_does_not_fit(void **state)
{
	static const uint8_t initrd[4096];
	struct kernel_image k;

	make_elf(8);
	/* 0x1200100 of kernel + 4 KiB do not fit in 0x1200000 + ... of a 18 MiB guest */
	assert_int_equal(kernel_open_mem(&k, "vmlinux", elf, sizeof(elf), "initrd.img", initrd,
					 sizeof(initrd), NULL, 0x1201000), -EFBIG);
	assert_non_null(strstr(err_msg(), "initrd.img: 4 KiB initrd does not fit below 0x1201000"));
	assert_int_equal(kernel_open_mem(&k, "vmlinux", elf, sizeof(elf), "initrd.img", initrd,
					 sizeof(initrd), NULL, 0x1202000), 0);
	assert_int_equal(k.initrd_gpa, 0x1201000);
}

/* ---- bad ELFs ---- */

static void test_not_elf(void **state)
{
	struct pvh_image pvh;
	struct kernel_image k;

	make_elf(8);
	elf[1] = 'X';
	assert_int_equal(pvh_parse("vmlinux", elf, sizeof(elf), 256 * MiB, &pvh), -ENOEXEC);
	assert_string_equal(err_msg(), "vmlinux: not an ELF file");
	/* through kernel_open: not ELF, so it must be a bzImage, and is not */
	assert_int_equal(open_elf(&k, 256 * MiB), -ENOEXEC);
	assert_string_equal(err_msg(), "vmlinux: not a bzImage (no HdrS magic)");
	/* the magic alone */
	make_elf(8);
	assert_int_equal(kernel_open_mem(&k, "vmlinux", elf, 4, NULL, NULL, 0, NULL, 256 * MiB),
			 -ENOEXEC);
	assert_string_equal(err_msg(), "vmlinux: truncated (ELF header needs 64 bytes, file has 4)");
}

static void test_not_x86_64(void **state)
{
	make_elf(8);
	elf[EI_CLASS] = ELFCLASS32;
	expect_error(256 * MiB, -ENOEXEC,
		     "vmlinux: not an x86-64 ELF64 file (class 1, data 1, machine 62)");
	make_elf(8);
	put16(elf + offsetof(Elf64_Ehdr, e_machine), EM_AARCH64);
	expect_error(256 * MiB, -ENOEXEC, "machine 183");
	make_elf(8);
	elf[EI_DATA] = ELFDATA2MSB;
	expect_error(256 * MiB, -ENOEXEC, "not an x86-64 ELF64 file");
}

static void test_no_note(void **state)
{
	make_elf(8);
	put32(elf + NOTE_OFF + 12 + 4 + 20 + 12 + 8 + 8 + 8, 17);	/* retype the entry note */
	expect_error(256 * MiB, -ENOEXEC,
		     "vmlinux: no XEN_ELFNOTE_PHYS32_ENTRY note: the kernel was built without CONFIG_PVH");
	/* no PT_NOTE at all */
	make_elf(8);
	SET_PH_FIELD(2, p_type, PT_NULL);
	expect_error(256 * MiB, -ENOEXEC, "built without CONFIG_PVH");
	/* a note whose name runs past the segment ends the list */
	make_elf(8);
	put32(elf + NOTE_OFF, 0xFFFFFFFF);
	expect_error(256 * MiB, -ENOEXEC, "built without CONFIG_PVH");
	/* desc past the segment */
	make_elf(8);
	put32(elf + NOTE_OFF + 4, 0xFFFFFFF0);
	expect_error(256 * MiB, -ENOEXEC, "built without CONFIG_PVH");
}

static void test_bad_note(void **state)
{
	make_elf(8);
	/* descsz 2 on the entry note */
	put32(elf + NOTE_OFF + 12 + 4 + 20 + 12 + 4 + 8 + 4, 2);
	expect_error(256 * MiB, -ENOEXEC, "vmlinux: bad XEN_ELFNOTE_PHYS32_ENTRY note (2 bytes)");
	/* a 64-bit entry above 4 GiB */
	make_elf(8);
	put64(elf + NOTE_OFF + 12 + 4 + 20 + 12 + 4 + 8 + 12 + 4, 0x100000000ULL);
	expect_error(256 * MiB, -ENOEXEC, "vmlinux: PVH entry 0x100000000 is above 4 GiB");
	/* an entry outside what is loaded */
	make_elf(8);
	put64(elf + NOTE_OFF + 12 + 4 + 20 + 12 + 4 + 8 + 12 + 4, SEG0_PADDR + SEG0_FILESZ);
	expect_error(256 * MiB, -ENOEXEC, "vmlinux: PVH entry 0x1002000 is not inside a loaded segment");
}

static void test_segment_outside_ram(void **state)
{
	Elf64_Phdr ph;

	make_elf(8);
	ph = get_ph(0);
	ph.p_paddr = 0x20000000;		/* 512 MiB, guest has 256 */
	set_ph(0, &ph);
	expect_error(256 * MiB, -EFBIG,
		     "vmlinux: segment 0 [0x20000000, +0x3000) is outside guest RAM (--memory 256M)");
	/* ends one byte past RAM */
	ph.p_paddr = 256 * MiB - SEG0_MEMSZ + 1;
	set_ph(0, &ph);
	expect_error(256 * MiB, -EFBIG, "is outside guest RAM");
	/* straddles the PCI hole */
	ph.p_paddr = 3 * GiB - 0x1000;
	set_ph(0, &ph);
	expect_error(5 * GiB, -EFBIG, "is outside guest RAM (--memory 5G)");
	/* overflow: paddr + memsz wraps */
	ph.p_paddr = 0xFFFFFFFFFFFFF000ULL;
	set_ph(0, &ph);
	expect_error(256 * MiB, -EFBIG, "segment 0 [0xfffffffffffff000, +0x3000) is outside guest RAM");
	ph.p_paddr = SEG0_PADDR;
	ph.p_memsz = 0xFFFFFFFFFFFFFFFFULL;
	set_ph(0, &ph);
	expect_error(256 * MiB, -EFBIG, "is outside guest RAM");
	/* in low memory, where boot data lives */
	EXPECT_PH_ERROR(1, p_paddr, 0x7000, -ENOEXEC, "vmlinux: segment 1 at 0x7000 is below 1 MiB");
}

static void test_filesz_gt_memsz(void **state)
{
	EXPECT_PH_ERROR(0, p_memsz, SEG0_FILESZ - 1, -ENOEXEC,
			"vmlinux: segment 0 has p_filesz 0x2000 > p_memsz 0x1fff");
}

static void test_offset_past_eof(void **state)
{
	Elf64_Phdr ph;

	make_elf(8);
	ph = get_ph(1);
	ph.p_offset = ELF_SIZE - SEG1_FILESZ + 1;	/* one byte past */
	set_ph(1, &ph);
	expect_error(256 * MiB, -ENOEXEC,
		     "vmlinux: truncated (segment 1: 0x100 bytes at file offset 0x3001, file has 0x3100)");
	ph.p_offset = 0xFFFFFFFFFFFFFF00ULL;		/* offset + filesz wraps */
	set_ph(1, &ph);
	expect_error(256 * MiB, -ENOEXEC, "vmlinux: truncated (segment 1");
	ph.p_offset = 0;
	ph.p_filesz = ph.p_memsz = 0xFFFFFFFFFFFFFFFFULL;
	set_ph(1, &ph);
	expect_error(256 * MiB, -ENOEXEC, "vmlinux: truncated (segment 1");
	/* the note segment too */
	EXPECT_PH_ERROR(2, p_offset, 0x10000, -ENOEXEC, "vmlinux: truncated (segment 2");
}

static void test_bad_program_headers(void **state)
{
	make_elf(8);
	put64(elf + offsetof(Elf64_Ehdr, e_phoff), ELF_SIZE - 100);
	expect_error(256 * MiB, -ENOEXEC, "vmlinux: truncated (program headers at 0x309c");
	put64(elf + offsetof(Elf64_Ehdr, e_phoff), 0xFFFFFFFFFFFFFFF0ULL);
	expect_error(256 * MiB, -ENOEXEC, "vmlinux: truncated (program headers");
	make_elf(8);
	put16(elf + offsetof(Elf64_Ehdr, e_phnum), 0);
	expect_error(256 * MiB, -ENOEXEC, "vmlinux: no usable program headers");
	make_elf(8);
	put16(elf + offsetof(Elf64_Ehdr, e_phentsize), 32);
	expect_error(256 * MiB, -ENOEXEC, "vmlinux: no usable program headers (4 of 32 bytes)");
	make_elf(8);
	put16(elf + offsetof(Elf64_Ehdr, e_phnum), 0xFFFF);
	expect_error(256 * MiB, -ENOEXEC, "no usable program headers");
}

static void test_no_load_segments(void **state)
{
	make_elf(8);
	for (int i = 0; i < 2; i++)
		SET_PH_FIELD(i, p_type, PT_NULL);
	expect_error(256 * MiB, -ENOEXEC, "vmlinux: no PT_LOAD segment to load");
}

/* ---- a real vmlinux, when one is given ---- */

static void test_real_vmlinux(void **state)
{
	const char *path = getenv("HYVE_TEST_VMLINUX");
	struct kernel_image k;
	struct kernel_entry e;

	if (!path || !*path)
		skip();
	if (kernel_open(&k, path, NULL, "console=ttyS0", 256 * MiB) < 0)
		fail_msg("%s", err_msg());
	assert_int_equal(k.format, KERNEL_PVH);
	print_message("%s: PVH entry 0x%x, %d segments, up to 0x%llx\n", path, k.u.pvh.entry,
		      k.u.pvh.nseg, (unsigned long long)k.kernel_end);
	guest_vm(256 * MiB);
	assert_int_equal(kernel_place(&k, guest, 0, &e), 0);
	assert_int_equal(e.eip, k.u.pvh.entry);
	kernel_close(&k);
	free_vm();
}

TEST_MAIN(NULL, NULL,
	  TEST(test_load_and_start_info), TEST(test_no_initrd_5g), TEST(test_note_align8),
	  TEST(test_cmdline_limit), TEST(test_initrd_does_not_fit), TEST(test_not_elf),
	  TEST(test_not_x86_64), TEST(test_no_note), TEST(test_bad_note),
	  TEST(test_segment_outside_ram), TEST(test_filesz_gt_memsz), TEST(test_offset_past_eof),
	  TEST(test_bad_program_headers), TEST(test_no_load_segments), TEST(test_real_vmlinux))
