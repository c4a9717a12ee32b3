/*
 * bzimage.h - the Linux x86 boot protocol (Documentation/arch/x86/boot.rst)
 * for a bzImage: parse and check the setup header, build the zero page
 * (struct boot_params).  hyve uses the 32-bit entry: the protected-mode
 * code is loaded at 1 MiB and entered there (docs/boot.md says why).
 */
#ifndef HYVE_BOOT_BZIMAGE_H
#define HYVE_BOOT_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>
#include "boot/boot_info.h"

/* Setup header fields: offsets in the file and in boot_params alike. */
#define BZ_SETUP_SECTS		0x1F1	/* u8: 512-byte sectors of setup; 0 means 4 */
#define BZ_SYSSIZE		0x1F4	/* u32: protected-mode size / 16 */
#define BZ_BOOT_FLAG		0x1FE	/* u16: 0xAA55 */
#define BZ_JUMP			0x200	/* u8 0xEB, u8 offset: header ends at 0x202 + offset */
#define BZ_HEADER		0x202	/* "HdrS" */
#define BZ_VERSION		0x206	/* u16: protocol, 0x020F = 2.15 */
#define BZ_TYPE_OF_LOADER	0x210	/* u8 */
#define BZ_LOADFLAGS		0x211	/* u8 */
#define BZ_CODE32_START		0x214	/* u32 */
#define BZ_RAMDISK_IMAGE	0x218	/* u32 */
#define BZ_RAMDISK_SIZE		0x21C	/* u32 */
#define BZ_HEAP_END_PTR		0x224	/* u16 */
#define BZ_CMD_LINE_PTR		0x228	/* u32 */
#define BZ_INITRD_ADDR_MAX	0x22C	/* u32: highest address the initrd may use */
#define BZ_KERNEL_ALIGNMENT	0x230	/* u32 */
#define BZ_RELOCATABLE		0x234	/* u8 */
#define BZ_CMDLINE_SIZE		0x238	/* u32: max command line, without the NUL */
#define BZ_PAYLOAD_OFFSET	0x248	/* u32 (2.08+) */
#define BZ_PAYLOAD_LENGTH	0x24C	/* u32 (2.08+) */
#define BZ_PREF_ADDRESS		0x258	/* u64 (2.10+) */
#define BZ_INIT_SIZE		0x260	/* u32 (2.10+) */

/* boot_params fields outside the setup header. */
#define BP_ACPI_RSDP_ADDR	0x070	/* u64 (read by kernels of protocol 2.14+) */
#define BP_E820_ENTRIES		0x1E8	/* u8 */
#define BP_HDR_END		0x290	/* the setup header may not reach past here */
#define BP_E820_TABLE		0x2D0	/* 20-byte entries: u64 addr, u64 size, u32 type */
#define BP_E820_MAX		128
#define BP_SIZE			0x1000

#define BZ_LOADED_HIGH		0x01	/* loadflags: protected-mode code at 1 MiB */
#define BZ_KASLR_FLAG		0x02	/* loadflags: the loader randomized the kernel */
#define BZ_CAN_USE_HEAP		0x80	/* loadflags: heap_end_ptr is valid */
#define BZ_MIN_VERSION		0x0206
#define BZ_LOADER_UNDEFINED	0xFF	/* type_of_loader: not a registered loader */
#define BZ_HEAP_END		0xFE00	/* 64 KiB setup segment end, minus 0x200 */

/* What bzimage_parse found and decided. */
struct bzimage {
	uint16_t version;		/* 0x0206 ... */
	uint32_t setup_size;		/* boot sector + setup: (setup_sects + 1) * 512 */
	uint32_t hdr_end;		/* file offset where the setup header ends */
	uint64_t kernel_off;		/* protected-mode code: offset in the file ... */
	uint64_t kernel_size;		/* ... and size; loaded at KERNEL_LOAD_ADDR */
	uint64_t run_start;		/* where it will decompress itself */
	uint32_t init_size;		/* bytes it needs from run_start (2.10+) */
	uint64_t kernel_end;		/* end of all the kernel claims */
	uint64_t initrd_limit;		/* the initrd must end at or below this */
	uint32_t cmdline_max;		/* command line bytes without the NUL */
};

/*
 * Check a bzImage of size bytes (name for messages) for a guest of
 * mem_size bytes.  0 or -errno (err_set).
 */
int bzimage_parse(const char *name, const uint8_t *data, size_t size,
		  uint64_t mem_size, struct bzimage *bz);

/* Build boot_params in zp (BP_SIZE bytes): the file's setup header and p. */
void bzimage_zero_page(const struct bzimage *bz, const uint8_t *data,
		       const struct boot_info *p, uint8_t *zp);

struct vm;
/*
 * Copy the protected-mode code to KERNEL_LOAD_ADDR and the zero page to
 * zero_page_gpa.  0 or -errno (err_set).
 */
struct kernel_src;
/* data: the file's first pages (the setup header); src: the whole file. */
int bzimage_place(const struct bzimage *bz, const uint8_t *data,
		  const struct kernel_src *src, struct vm *vm,
		  const struct boot_info *p, uint64_t zero_page_gpa);

#endif
