/*
 * e820.h - the guest's physical memory map, as a PC BIOS would report it
 * with INT 15h/E820: handed to Linux in boot_params (bzImage) or in
 * hvm_start_info's memmap (PVH).
 *
 *   [0, 0x9FC00)            RAM
 *   [0x9FC00, 0xA0000)      reserved (where a BIOS keeps its EBDA)
 *   [0xE0000, 0x100000)     reserved (ACPI tables, the RSDP scan area)
 *   [1 MiB, min(mem, 3G))   RAM
 *   [4G, 4G + mem - 3G)     RAM, when mem > 3 GiB
 *
 * The legacy hole [0xA0000, 0xE0000) and the PCI hole [3G, 4G) are absent:
 * they are MMIO, not memory.
 */
#ifndef HYVE_BOOT_E820_H
#define HYVE_BOOT_E820_H

#include <stdbool.h>
#include <stdint.h>

#define E820_RAM	1
#define E820_RESERVED	2

#define E820_EBDA	0x9FC00ULL	/* start of the EBDA-like reserved KiB */
#define E820_BIOS	0xE0000ULL	/* start of the ACPI/BIOS area */
#define E820_MAX	8		/* entries e820_build can produce, with room */

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

/*
 * Fill map (room for max entries) for a guest of mem_size bytes, sorted by
 * address.  Returns the number of entries, or -ENOSPC if max is too small.
 */
int e820_build(uint64_t mem_size, struct e820_entry *map, int max);

/* End of the RAM that starts at 1 MiB: min(mem_size, 3 GiB). */
uint64_t e820_low_ram_end(uint64_t mem_size);

/* Is [addr, addr+len) wholly inside one RAM entry?  Overflow-safe. */
bool e820_is_ram(uint64_t mem_size, uint64_t addr, uint64_t len);

#endif
