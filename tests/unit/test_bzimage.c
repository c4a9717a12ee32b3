/*
 * Unit tests for the bzImage loader (src/boot/bzimage.c, kernel.c): synthetic
 * images with chosen setup-header fields, placed into a guest (a real VM without KVM) whose RAM
 * is a plain mapping (no KVM).  HYVE_TEST_KERNEL=/path/to/vmlinuz also
 * checks a real kernel.
 */
#include "unit.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "boot/e820.h"
#include "boot/kernel.h"
#include "err.h"
#include "vm.h"
#include "testvm.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* ---- a guest without KVM ---- */

static uint8_t *gpa(uint64_t addr)
{
	return vm_gpa(guest, addr, 1);
}

/* ---- synthetic bzImages ---- */

struct bzopts {
	uint16_t version;
	uint8_t setup_sects;
	uint8_t loadflags;
	uint8_t jump;		/* header length byte at 0x201 */
	uint8_t relocatable;
	uint32_t align;
	uint64_t pref;
	uint32_t init_size;
	uint32_t initrd_max;
	uint32_t cmdline_size;
	size_t kernel_bytes;	/* protected-mode part */
	uint32_t payload_len;	/* 0: kernel_bytes - 0x100 */
};

static struct bzopts defaults(void)
{
	return (struct bzopts){
		.version = 0x020F, .setup_sects = 4, .loadflags = BZ_LOADED_HIGH,
		.jump = 0x6A, .relocatable = 1, .align = 0x200000, .pref = 0x1000000,
		.init_size = 0x2000000, .initrd_max = 0x7FFFFFFF, .cmdline_size = 2047,
		.kernel_bytes = 64 * 1024,
	};
}

static uint8_t kbyte(size_t i)
{
	return (uint8_t)(i * 7 + 3);
}

static uint8_t *make_bz(const struct bzopts *o, size_t *size)
{
	unsigned sects = o->setup_sects ? o->setup_sects : 4;
	size_t setup = (sects + 1) * 512;
	uint8_t *d;

	*size = setup + o->kernel_bytes;
	d = calloc(1, *size);
	assert_non_null(d);
	d[BZ_SETUP_SECTS] = o->setup_sects;
	put16(d + 0x1FA, 0xFFFF);			/* vid_mode, copied as is */
	put16(d + BZ_BOOT_FLAG, 0xAA55);
	d[BZ_JUMP] = 0xEB;
	d[BZ_JUMP + 1] = o->jump;
	memcpy(d + BZ_HEADER, "HdrS", 4);
	put16(d + BZ_VERSION, o->version);
	d[BZ_LOADFLAGS] = o->loadflags;
	put32(d + BZ_CODE32_START, 0x100000);
	put32(d + BZ_INITRD_ADDR_MAX, o->initrd_max);
	put32(d + BZ_KERNEL_ALIGNMENT, o->align);
	d[BZ_RELOCATABLE] = o->relocatable;
	put32(d + BZ_CMDLINE_SIZE, o->cmdline_size);
	put32(d + BZ_PAYLOAD_OFFSET, 0x100);
	put32(d + BZ_PAYLOAD_LENGTH, o->payload_len ? o->payload_len :
	      (uint32_t)(o->kernel_bytes > 0x100 ? o->kernel_bytes - 0x100 : 0));
	put64(d + BZ_PREF_ADDRESS, o->pref);
	put32(d + BZ_INIT_SIZE, o->init_size);
	for (size_t i = 0; i < o->kernel_bytes; i++)
		d[setup + i] = kbyte(i);
	return d;
}

/* An image opened by open_bz: the kernel, and the buffers it was read from. */
struct bz {
	struct kernel_image k;
	uint8_t *img, *initrd;
};

/* kernel_open_mem on image o; returns its result, message in err_msg(). */
static int open_bz(const struct bzopts *o, size_t initrd_size, const char *cmdline,
		   uint64_t mem, struct bz *b)
{
	size_t size;
	int r;

	b->img = make_bz(o, &size);
	b->initrd = NULL;
	if (initrd_size) {
		b->initrd = malloc(initrd_size);
		assert_non_null(b->initrd);
		memset(b->initrd, 0x5A, initrd_size);
	}
	err_clear();
	r = kernel_open_mem(&b->k, "vmlinuz", b->img, size, "initrd.img", b->initrd, initrd_size,
			    cmdline, mem);
	return r;
}

/* Undo open_bz: the kernel, the image, the initrd (may be NULL). */
static void close_bz(struct bz *b)
{
	kernel_close(&b->k);
	free(b->img);
	free(b->initrd);
}

/* Open o for mem and expect failure code with msg in the message. */
static void expect_error(const struct bzopts *o, size_t initrd_size, const char *cmdline,
			 uint64_t mem, int code, const char *msg)
{
	struct bz b;
	int r = open_bz(o, initrd_size, cmdline, mem, &b);

	if (r != code || !strstr(err_msg(), msg))
		fail_msg("got %d \"%s\", want %d \"%s\"", r, err_msg(), code, msg);
	close_bz(&b);
}

/* ---- a good image, placed ---- */

static void test_good_image_placed(void **state)
{
	struct bzopts o = defaults();
	struct bz b;
	struct kernel_entry e;
	uint8_t *zp;
	struct vm *vm = guest_vm(256 * MiB);
	const char *cmdline = "console=ttyS0 root=/dev/vda";

	assert_int_equal(open_bz(&o, MiB, cmdline, 256 * MiB, &b), 0);
	assert_int_equal(b.k.format, KERNEL_BZIMAGE);
	assert_int_equal(b.k.u.bz.version, 0x020F);
	assert_int_equal(b.k.u.bz.setup_size, 5 * 512);
	assert_int_equal(b.k.u.bz.run_start, 0x1000000);	/* pref_address */
	assert_int_equal(b.k.kernel_end, 0x3000000);		/* + init_size */
	/* highest 4K-aligned place below 256M */
	assert_int_equal(b.k.initrd_gpa, 255 * MiB);

	assert_int_equal(kernel_place(&b.k, vm, 0xE0000, &e), 0);
	/* entry: 32-bit at the protected-mode code, ESI = zero page */
	assert_int_equal(e.format, KERNEL_BZIMAGE);
	assert_int_equal(e.eip, 0x100000);
	assert_int_equal(e.esi, KERNEL_ZERO_PAGE_ADDR);
	assert_int_equal(e.ebx, 0);

	/* the protected-mode code at 1 MiB */
	assert_memory_equal(gpa(0x100000), b.img + 5 * 512, o.kernel_bytes);
	/* command line */
	assert_string_equal((char *)gpa(KERNEL_CMDLINE_ADDR), cmdline);
	/* initrd */
	assert_int_equal(gpa(255 * MiB)[0], 0x5A);
	assert_int_equal(gpa(256 * MiB - 1)[0], 0x5A);
	/* GDT */
	assert_memory_equal(gpa(KERNEL_GDT_ADDR), kernel_gdt, sizeof(kernel_gdt));

	/* zero page: the file's header, plus what the loader sets */
	zp = gpa(KERNEL_ZERO_PAGE_ADDR);
	assert_memory_equal(zp + BZ_HEADER, "HdrS", 4);
	assert_int_equal(get16(zp + BZ_VERSION), 0x020F);
	assert_int_equal(get16(zp + 0x1FA), 0xFFFF);
	assert_int_equal(get16(zp + BZ_BOOT_FLAG), 0xAA55);
	assert_int_equal(zp[BZ_TYPE_OF_LOADER], 0xFF);
	assert_int_equal(zp[BZ_LOADFLAGS], BZ_LOADED_HIGH | BZ_CAN_USE_HEAP);
	assert_int_equal(get16(zp + BZ_HEAP_END_PTR), 0xFE00);
	assert_int_equal(get32(zp + BZ_CODE32_START), 0x100000);
	assert_int_equal(get32(zp + BZ_CMD_LINE_PTR), KERNEL_CMDLINE_ADDR);
	assert_int_equal(get32(zp + BZ_RAMDISK_IMAGE), 255 * MiB);
	assert_int_equal(get32(zp + BZ_RAMDISK_SIZE), MiB);
	assert_int_equal(get32(zp + BZ_INIT_SIZE), 0x2000000);
	assert_int_equal(get64(zp + BP_ACPI_RSDP_ADDR), 0xE0000);
	/* nothing past the header (0x26C) is copied from the file */
	assert_int_equal(zp[0x26C], 0);
	assert_int_equal(zp[0x1F0], 0);

	/* e820 in boot_params */
	assert_int_equal(zp[BP_E820_ENTRIES], 4);
	{
		static const uint64_t want[4][3] = {
			{ 0, 0x9FC00, 1 }, { 0x9FC00, 0x400, 2 },
			{ 0xE0000, 0x20000, 2 }, { MiB, 255 * MiB, 1 },
		};
		for (int i = 0; i < 4; i++) {
			uint8_t *t = zp + BP_E820_TABLE + 20 * i;

			assert_int_equal(get64(t), want[i][0]);
			assert_int_equal(get64(t + 8), want[i][1]);
			assert_int_equal(get32(t + 16), want[i][2]);
		}
	}
	close_bz(&b);
	free_vm();
}

static void test_entry_state(void **state)
{
	struct kernel_entry e = { .format = KERNEL_BZIMAGE, .eip = 0x100000, .esp = 0x5000,
				  .esi = 0x7000, .gdt_base = 0x500, .gdt_limit = 39 };
	struct kvm_sregs s;
	struct kvm_regs r;

	memset(&s, 0xFF, sizeof(s));	/* whatever KVM had */
	kernel_entry_state(&e, &s, &r);
	assert_int_equal(s.cs.selector, 0x10);
	assert_int_equal(s.cs.base, 0);
	assert_int_equal(s.cs.limit, 0xFFFFFFFF);
	assert_int_equal(s.cs.db, 1);
	assert_int_equal(s.cs.l, 0);
	assert_int_equal(s.cs.type, 0xB);
	assert_int_equal(s.ds.selector, 0x18);
	assert_int_equal(s.ss.selector, 0x18);
	assert_int_equal(s.es.type, 0x3);
	assert_int_equal(s.ds.limit, 0xFFFFFFFF);
	assert_int_equal(s.tr.limit, 0x67);
	assert_int_equal(s.gdt.base, 0x500);
	assert_int_equal(s.gdt.limit, 39);
	assert_int_equal(s.cr0 & 0x80000001, 1);	/* PE, no PG */
	assert_int_equal(s.cr4, 0);
	assert_int_equal(s.efer, 0);
	assert_int_equal(r.rip, 0x100000);
	assert_int_equal(r.rsi, 0x7000);
	assert_int_equal(r.rbx, 0);
	assert_int_equal(r.rbp, 0);
	assert_int_equal(r.rdi, 0);
	assert_int_equal(r.rflags & 0x200, 0);		/* interrupts off */
}

static void test_gdt_descriptors(void **state)
{
	/* base 0, limit 0xFFFFF pages, present, DPL 0, 32-bit */
	for (int i = 2; i <= 3; i++) {
		uint64_t d = kernel_gdt[i];

		assert_int_equal(d & 0xFFFF, 0xFFFF);
		assert_int_equal((d >> 48) & 0xF, 0xF);
		assert_int_equal((d >> 16) & 0xFFFFFF, 0);
		assert_int_equal(d >> 56, 0);
		assert_int_equal((d >> 47) & 1, 1);		/* P */
		assert_int_equal((d >> 54) & 1, 1);		/* D/B */
		assert_int_equal((d >> 55) & 1, 1);		/* G */
	}
	assert_int_equal((kernel_gdt[2] >> 40) & 0xF, 0xB);	/* code */
	assert_int_equal((kernel_gdt[3] >> 40) & 0xF, 0x3);	/* data */
}

static void test_no_initrd_no_cmdline(void **state)
{
	struct bzopts o = defaults();
	struct bz b;
	struct kernel_entry e;
	struct vm *vm = guest_vm(64 * MiB);

	assert_int_equal(open_bz(&o, 0, NULL, 64 * MiB, &b), 0);
	assert_int_equal(kernel_place(&b.k, vm, 0, &e), 0);
	assert_int_equal(get32(gpa(KERNEL_ZERO_PAGE_ADDR) + BZ_RAMDISK_IMAGE), 0);
	assert_int_equal(get32(gpa(KERNEL_ZERO_PAGE_ADDR) + BZ_RAMDISK_SIZE), 0);
	assert_int_equal(get64(gpa(KERNEL_ZERO_PAGE_ADDR) + BP_ACPI_RSDP_ADDR), 0);
	assert_string_equal((char *)gpa(KERNEL_CMDLINE_ADDR), "");
	close_bz(&b);
	free_vm();
}

static void test_initrd_without_name(void **state)
{
	struct bzopts o = defaults();
	struct kernel_image k;
	struct kernel_entry e;
	size_t size;
	uint8_t *img = make_bz(&o, &size);
	static const uint8_t initrd[100] = { 1, 2, 3 };
	struct vm *vm = guest_vm(64 * MiB);

	assert_int_equal(kernel_open_mem(&k, "vmlinuz", img, size, NULL, initrd, sizeof(initrd),
					 NULL, 64 * MiB), 0);
	assert_int_equal(k.initrd_gpa, 64 * MiB - 4096);
	assert_int_equal(kernel_place(&k, vm, 0, &e), 0);
	assert_memory_equal(gpa(64 * MiB - 4096), initrd, sizeof(initrd));
	assert_int_equal(kernel_open_mem(&k, "vmlinuz", img, size, NULL, initrd, 0, NULL,
					 64 * MiB), -EINVAL);
	assert_string_equal(err_msg(), "initrd: file is empty");
	free(img);
	free_vm();
}

static void test_setup_sects_zero_means_4(void **state)
{
	struct bzopts o = defaults();
	struct bz b;

	o.setup_sects = 0;
	assert_int_equal(open_bz(&o, 0, NULL, 256 * MiB, &b), 0);
	assert_int_equal(b.k.u.bz.setup_size, 5 * 512);
	assert_int_equal(b.k.u.bz.kernel_size, o.kernel_bytes);
	close_bz(&b);
}

static void test_protocol_206(void **state)
{
	struct bzopts o = defaults();
	struct bz b;
	struct kernel_entry e;
	struct vm *vm = guest_vm(32 * MiB);

	/* 2.06: no pref_address / init_size; runs where loaded; no RSDP field */
	o.version = 0x0206;
	o.jump = 0x3A;			/* header ends at 0x23C, after cmdline_size */
	o.relocatable = 0;
	assert_int_equal(open_bz(&o, 4096, NULL, 32 * MiB, &b), 0);
	assert_int_equal(b.k.u.bz.run_start, 0x100000);
	assert_int_equal(b.k.kernel_end, 0x100000 + o.kernel_bytes);
	assert_int_equal(b.k.initrd_gpa, 32 * MiB - 4096);
	assert_int_equal(kernel_place(&b.k, vm, 0xE0000, &e), 0);
	assert_int_equal(get64(gpa(KERNEL_ZERO_PAGE_ADDR) + BP_ACPI_RSDP_ADDR), 0);
	/* bytes past the 2.06 header are not copied */
	assert_int_equal(get32(gpa(KERNEL_ZERO_PAGE_ADDR) + BZ_INIT_SIZE), 0);
	close_bz(&b);
	free_vm();
}

static void test_initrd_addr_max(void **state)
{
	struct bzopts o = defaults();
	struct bz b;

	/* an old kernel's 0x37FFFFFF limit with 2 GiB of RAM */
	o.initrd_max = 0x37FFFFFF;
	assert_int_equal(open_bz(&o, 3 * MiB + 100, NULL, 2 * GiB, &b), 0);
	assert_int_equal(b.k.initrd_gpa, (0x38000000 - (3 * MiB + 100)) & ~0xFFFULL);
	assert_true(b.k.initrd_gpa + b.k.initrd_size <= 0x38000000);
	close_bz(&b);
	/* more than 3 GiB of RAM: stays below the PCI hole */
	o.initrd_max = 0xFFFFFFFF;
	assert_int_equal(open_bz(&o, MiB, NULL, 8 * GiB, &b), 0);
	assert_int_equal(b.k.initrd_gpa, 3 * GiB - MiB);
	close_bz(&b);
}

static void test_relocatable_alignment(void **state)
{
	struct bzopts o = defaults();
	struct bz b;

	/* pref_address below 1 MiB is raised, then aligned up */
	o.pref = 0x80000;
	o.align = 0x400000;
	assert_int_equal(open_bz(&o, 0, NULL, 256 * MiB, &b), 0);
	assert_int_equal(b.k.u.bz.run_start, 0x400000);
	assert_int_equal(b.k.kernel_end, 0x400000 + o.init_size);
	close_bz(&b);
	/* a non-relocatable kernel runs at pref_address */
	o = defaults();
	o.relocatable = 0;
	o.pref = 0x1000000;
	o.align = 3;			/* ignored when not relocatable */
	assert_int_equal(open_bz(&o, 0, NULL, 256 * MiB, &b), 0);
	assert_int_equal(b.k.u.bz.run_start, 0x1000000);
	close_bz(&b);
}

/* ---- every error ---- */

static void test_err_too_small(void **state)
{
	struct kernel_image k;
	uint8_t buf[512] = { 0 };

	assert_int_equal(kernel_open_mem(&k, "vmlinuz", buf, sizeof(buf), NULL, NULL, 0,
					 NULL, 256 * MiB), -ENOEXEC);
	assert_string_equal(err_msg(), "vmlinuz: too small for a bzImage (512 bytes)");
	assert_int_equal(kernel_open_mem(&k, "vmlinuz", buf, 0, NULL, NULL, 0, NULL, 256 * MiB),
			 -ENOEXEC);
}

static void test_err_no_magic(void **state)
{
	struct kernel_image k;
	size_t size;
	struct bzopts o = defaults();
	uint8_t *img = make_bz(&o, &size);

	memcpy(img + BZ_HEADER, "HdrZ", 4);
	assert_int_equal(kernel_open_mem(&k, "vmlinuz", img, size, NULL, NULL, 0, NULL,
					 256 * MiB), -ENOEXEC);
	assert_string_equal(err_msg(), "vmlinuz: not a bzImage (no HdrS magic)");
	memcpy(img + BZ_HEADER, "HdrS", 4);
	put16(img + BZ_BOOT_FLAG, 0);
	assert_int_equal(kernel_open_mem(&k, "vmlinuz", img, size, NULL, NULL, 0, NULL,
					 256 * MiB), -ENOEXEC);
	assert_string_equal(err_msg(), "vmlinuz: not a bzImage (no 0xAA55 boot flag at 0x1FE)");
	free(img);
}

static void test_err_old_protocol(void **state)
{
	struct bzopts o = defaults();

	o.version = 0x0204;
	expect_error(&o, 0, NULL, 256 * MiB, -ENOEXEC,
		     "vmlinuz: boot protocol 2.04 is too old (need 2.06)");
	o.version = 0x0205;
	expect_error(&o, 0, NULL, 256 * MiB, -ENOEXEC,
		     "vmlinuz: boot protocol 2.05 is too old (need 2.06)");
}

static void test_err_not_loaded_high(void **state)
{
	struct bzopts o = defaults();

	o.loadflags = 0;
	expect_error(&o, 0, NULL, 256 * MiB, -ENOEXEC,
		     "vmlinuz: a zImage (not loaded high) is not supported");
}

static void test_err_truncated_setup(void **state)
{
	struct bzopts o = defaults();
	struct kernel_image k;
	size_t size;
	uint8_t *img = make_bz(&o, &size);

	/* 60 setup sectors claimed, file of 10240 bytes */
	img[BZ_SETUP_SECTS] = 60;
	assert_int_equal(kernel_open_mem(&k, "vmlinuz", img, 10240, NULL, NULL, 0, NULL,
					 256 * MiB), -ENOEXEC);
	assert_string_equal(err_msg(),
			    "vmlinuz: truncated (setup claims 60 sectors, file has 10240 bytes)");
	/* setup only, no kernel after it */
	img[BZ_SETUP_SECTS] = 4;
	assert_int_equal(kernel_open_mem(&k, "vmlinuz", img, 5 * 512, NULL, NULL, 0, NULL,
					 256 * MiB), -ENOEXEC);
	assert_non_null(strstr(err_msg(), "truncated (setup claims 4 sectors, file has 2560 bytes)"));
	free(img);
}

static void test_err_truncated_payload(void **state)
{
	struct bzopts o = defaults();

	o.payload_len = o.kernel_bytes;		/* from 0x100: 0x100 past the end */
	expect_error(&o, 0, NULL, 256 * MiB, -ENOEXEC, "vmlinuz: truncated (payload ends at 0x10100");
	o.payload_len = 0xFFFFFFFF;		/* no wrap */
	expect_error(&o, 0, NULL, 256 * MiB, -ENOEXEC, "vmlinuz: truncated (payload");
}

static void test_err_short_header(void **state)
{
	struct bzopts o = defaults();

	o.jump = 0x40;				/* ends at 0x242 < 0x264 (2.10+) */
	expect_error(&o, 0, NULL, 256 * MiB, -ENOEXEC,
		     "vmlinuz: setup header ends at 0x242, too short for protocol 2.15");
	o.jump = 0x90;				/* negative jump */
	expect_error(&o, 0, NULL, 256 * MiB, -ENOEXEC, "setup header ends at 0x192");
}

static void test_err_alignment(void **state)
{
	struct bzopts o = defaults();

	o.align = 0x300000;
	expect_error(&o, 0, NULL, 256 * MiB, -ENOEXEC, "vmlinuz: bad kernel_alignment 0x300000");
	o.align = 0;
	expect_error(&o, 0, NULL, 256 * MiB, -ENOEXEC, "vmlinuz: bad kernel_alignment 0x0");
	o = defaults();
	o.relocatable = 0;
	o.pref = 0xFFFFFFFFFFFFF000ULL;		/* no wrap in pref + init_size */
	expect_error(&o, 0, NULL, 256 * MiB, -ENOEXEC, "kernel wants to run at 0xfffffffffffff000");
	o.pref = 0x8000;
	expect_error(&o, 0, NULL, 256 * MiB, -ENOEXEC, "kernel wants to run at 0x8000");
}

static void test_err_kernel_too_big(void **state)
{
	struct bzopts o = defaults();

	/* Debian 6.1's numbers: 16 MiB + init_size 0x3378000 = 67.5 MiB */
	o.init_size = 0x3378000;
	expect_error(&o, 0, NULL, 64 * MiB, -EFBIG,
		     "vmlinuz: kernel needs 68 MiB (init_size) but --memory is 64M");
	expect_error(&o, 0, NULL, MiB, -EFBIG, "but --memory is 1M");
	/* exactly enough */
	{
		struct bz b;

		assert_int_equal(open_bz(&o, 0, NULL, 0x1000000 + 0x3378000, &b), 0);
		close_bz(&b);
	}
	/* init_size past 3 GiB with more RAM than that */
	o.init_size = 0xFFFFFFFF;
	expect_error(&o, 0, NULL, 8 * GiB, -EFBIG, "kernel needs 4112 MiB (init_size) below 3 GiB");
}

static void test_err_initrd_too_big(void **state)
{
	struct bzopts o = defaults();

	expect_error(&o, 300 * MiB, NULL, 256 * MiB, -EFBIG,
		     "initrd.img: 300 MiB initrd does not fit below 0x10000000 with --memory 256M");
	/* fits in RAM, but not above the kernel's init_size */
	expect_error(&o, 230 * MiB, NULL, 256 * MiB, -EFBIG,
		     "initrd.img: 230 MiB initrd does not fit below 0x10000000 with --memory 256M (the kernel claims up to 0x3000000)");
	/* the largest that fits */
	{
		struct bz b;

		assert_int_equal(open_bz(&o, 256 * MiB - 0x3000000, NULL, 256 * MiB, &b), 0);
		assert_int_equal(b.k.initrd_gpa, 0x3000000);
		close_bz(&b);
	}
	/* initrd_addr_max is the limit, not RAM */
	o.initrd_max = 0x03FFFFFF;
	expect_error(&o, 32 * MiB, NULL, 256 * MiB, -EFBIG,
		     "initrd.img: 32 MiB initrd does not fit below 0x4000000 with --memory 256M");
}

static void test_err_cmdline_too_long(void **state)
{
	struct bzopts o = defaults();
	struct bz b;

	o.cmdline_size = 16;
	assert_int_equal(open_bz(&o, 0, "0123456789abcdef", 256 * MiB, &b), 0);
	close_bz(&b);
	expect_error(&o, 0, "0123456789abcdefX", 256 * MiB, -E2BIG,
		     "vmlinuz: command line of 17 bytes is longer than the kernel takes (16)");
}

/* ---- files ---- */


/* Write a file in the test directory; its path goes to p (128 bytes). */
static const char *write_file(char *p, const char *name, const void *data, size_t size)
{
	FILE *f;

	snprintf(p, 128, "%s/%s", test_dir, name);
	f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, size, f), size);
	fclose(f);
	return p;
}

static void test_files(void **state)
{
	struct bzopts o = defaults();
	struct kernel_image k;
	size_t size;
	uint8_t *img = make_bz(&o, &size);
	char kp[128], ip[128], ep[128], big[128];
	FILE *f;

	write_file(kp, "vmlinuz", img, size);
	write_file(ip, "initrd.img", "0123456789", 10);
	write_file(ep, "empty", "", 0);
	assert_int_equal(kernel_open(&k, kp, ip, "quiet", 256 * MiB), 0);
	assert_int_equal(k.format, KERNEL_BZIMAGE);
	assert_int_equal(k.kernel_size, size);
	assert_int_equal(k.initrd_size, 10);
	assert_null(k.initrd);			/* not read: pread into guest RAM by kernel_place */
	assert_int_equal(k.initrd_gpa, 256 * MiB - 4096);
	{
		struct kernel_entry e;
		struct vm *vm = guest_vm(256 * MiB);

		assert_int_equal(kernel_place(&k, vm, 0, &e), 0);
		assert_memory_equal(gpa(k.initrd_gpa), "0123456789", 10);
		assert_memory_equal(gpa(0x100000), img + 5 * 512, 4096);
		free_vm();
	}
	kernel_close(&k);

	assert_int_equal(kernel_open(&k, "/nonexistent/vmlinuz", NULL, NULL, 256 * MiB), -ENOENT);
	assert_non_null(strstr(err_msg(), "/nonexistent/vmlinuz"));
	assert_int_equal(kernel_open(&k, kp, "/nonexistent/initrd", NULL, 256 * MiB), -ENOENT);
	assert_non_null(strstr(err_msg(), "/nonexistent/initrd"));
	assert_int_equal(kernel_open(&k, test_dir, NULL, NULL, 256 * MiB), -EINVAL);
	assert_non_null(strstr(err_msg(), "not a regular file"));
	assert_int_equal(kernel_open(&k, kp, ep, NULL, 256 * MiB), -EINVAL);
	assert_non_null(strstr(err_msg(), "empty: file is empty"));

	/* a sparse 300 MiB initrd is refused before it is read */
	snprintf(big, sizeof(big), "%s/big.img", test_dir);
	f = fopen(big, "wb");
	assert_non_null(f);
	assert_int_equal(ftruncate(fileno(f), 300 * MiB), 0);
	fclose(f);
	assert_int_equal(kernel_open(&k, kp, big, NULL, 256 * MiB), -EFBIG);
	assert_non_null(strstr(err_msg(), "big.img: 300 MiB initrd does not fit below 0x10000000 with --memory 256M"));
	/* a kernel file larger than RAM */
	assert_int_equal(kernel_open(&k, big, NULL, NULL, 256 * MiB), -EFBIG);
	assert_non_null(strstr(err_msg(), "300 MiB file is larger than --memory 256M"));
	free(img);
}

static void test_fmt(void **state)
{
	char b[32];

	assert_string_equal(kernel_fmt_size(b, sizeof(b), 100), "100 bytes");
	assert_string_equal(kernel_fmt_size(b, sizeof(b), 12 * 1024), "12 KiB");
	assert_string_equal(kernel_fmt_size(b, sizeof(b), 300 * MiB), "300 MiB");
	assert_string_equal(kernel_fmt_size(b, sizeof(b), 3 * MiB / 2), "1.5 MiB");
	assert_string_equal(kernel_fmt_size(b, sizeof(b), 5 * GiB), "5 GiB");
	assert_string_equal(kernel_fmt_mem(b, sizeof(b), 256 * MiB), "256M");
	assert_string_equal(kernel_fmt_mem(b, sizeof(b), 5 * GiB), "5G");
	assert_string_equal(kernel_fmt_mem(b, sizeof(b), 1536 * 1024), "1536K");
	assert_string_equal(kernel_fmt_mem(b, sizeof(b), 1000), "1000");
}

/* ---- a real kernel, when one is given ---- */

static void test_real_kernel(void **state)
{
	const char *path = getenv("HYVE_TEST_KERNEL");
	struct kernel_image k;
	struct kernel_entry e;
	struct vm *vm;

	if (!path || !*path)
		skip();
	if (kernel_open(&k, path, NULL, "console=ttyS0", 256 * MiB) < 0)
		fail_msg("%s", err_msg());
	assert_int_equal(k.format, KERNEL_BZIMAGE);
	assert_true(k.u.bz.version >= 0x0206);
	print_message("%s: protocol %u.%02u, setup %u bytes, kernel %llu bytes, runs at 0x%llx, needs up to 0x%llx\n",
		      path, k.u.bz.version >> 8, k.u.bz.version & 0xff, k.u.bz.setup_size,
		      (unsigned long long)k.u.bz.kernel_size,
		      (unsigned long long)k.u.bz.run_start, (unsigned long long)k.kernel_end);
	vm = guest_vm(256 * MiB);
	assert_int_equal(kernel_place(&k, vm, 0, &e), 0);
	assert_memory_equal(gpa(0x100000), k.kernel + k.u.bz.kernel_off, 4096);
	assert_memory_equal(gpa(KERNEL_ZERO_PAGE_ADDR) + BZ_HEADER, "HdrS", 4);
	kernel_close(&k);
	free_vm();
}

static int setup(void **state)
{
	return test_dir_make("bz");
}

static int teardown(void **state)
{
	return test_dir_remove();
}

TEST_MAIN(setup, teardown,
	  TEST(test_good_image_placed), TEST(test_entry_state), TEST(test_gdt_descriptors),
	  TEST(test_no_initrd_no_cmdline), TEST(test_initrd_without_name),
	  TEST(test_setup_sects_zero_means_4), TEST(test_protocol_206), TEST(test_initrd_addr_max),
	  TEST(test_relocatable_alignment), TEST(test_err_too_small), TEST(test_err_no_magic),
	  TEST(test_err_old_protocol), TEST(test_err_not_loaded_high),
	  TEST(test_err_truncated_setup), TEST(test_err_truncated_payload),
	  TEST(test_err_short_header), TEST(test_err_alignment), TEST(test_err_kernel_too_big),
	  TEST(test_err_initrd_too_big), TEST(test_err_cmdline_too_long), TEST(test_files),
	  TEST(test_fmt), TEST(test_real_kernel))
