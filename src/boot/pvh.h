/*
 * pvh.h - boot an uncompressed ELF64 vmlinux through its Xen PVH entry
 * (XEN_ELFNOTE_PHYS32_ENTRY), as Firecracker, Cloud Hypervisor and QEMU's
 * -kernel with a vmlinux do: PT_LOAD segments at their physical addresses,
 * struct hvm_start_info (xen/include/public/arch-x86/hvm/start_info.h) in
 * EBX, 32-bit flat protected mode, paging off.
 */
#ifndef HYVE_BOOT_PVH_H
#define HYVE_BOOT_PVH_H

#include <stddef.h>
#include <stdint.h>
#include "boot/boot_info.h"

#define XEN_ELFNOTE_PHYS32_ENTRY	18
#define XEN_HVM_START_MAGIC		0x336ec578
#define PVH_MAX_SEGS			16	/* PT_LOADs; Linux has 4 or 5 */
#define PVH_CMDLINE_MAX			2047	/* Linux x86 COMMAND_LINE_SIZE - 1 */

/* struct hvm_start_info, version 1 (56 bytes), and what it points to. */
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;		/* version 1 and newer */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;			/* as e820: 1 RAM, 2 reserved */
	uint32_t reserved;
};

struct pvh_seg {
	uint64_t offset, filesz;	/* in the file */
	uint64_t paddr, memsz;		/* in guest RAM; memsz - filesz zeroed */
};

struct pvh_image {
	uint32_t entry;			/* the PHYS32 note's address */
	int nseg;
	struct pvh_seg seg[PVH_MAX_SEGS];
	uint64_t kernel_end;		/* end of the highest segment */
};

/*
 * Check an ELF vmlinux of size bytes for a guest of mem_size bytes.
 * 0 or -errno (err_set).
 */
int pvh_parse(const char *name, const uint8_t *data, size_t size,
	      uint64_t mem_size, struct pvh_image *pvh);

struct vm;
/*
 * Load the segments and write hvm_start_info at start_info_gpa, followed
 * by the module list and the memory map (all within 4 KiB).
 * 0 or -errno (err_set).
 */
struct kernel_src;
int pvh_place(const struct pvh_image *pvh, const struct kernel_src *src, struct vm *vm,
	      const struct boot_info *p, uint64_t start_info_gpa);

#endif
