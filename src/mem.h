/*
 * mem.h - guest memory: the PC memory layout, the RAM regions of one guest
 * and the one checked accessor for guest-physical addresses.
 *
 * No dependency on KVM, threads or devices: the VM core maps the regions
 * into KVM (vm.c), devices reach guest memory only through vm_gpa(), and
 * unit tests and fuzz targets use this module as it is.
 */
#ifndef HYVE_MEM_H
#define HYVE_MEM_H

#include <stdbool.h>
#include <stdint.h>

/* Guest RAM layout: a PC-like map with the legacy hole and the PCI hole. */
#define GUEST_LOW_END		0xA0000ULL	/* 640 KiB */
#define GUEST_ROM_START		0xC0000ULL	/* option ROM + BIOS area: RAM for */
#define GUEST_BIOS_START	0xE0000ULL	/* OS boots; ACPI tables from here */
#define GUEST_HIGH_START	0x100000ULL	/* 1 MiB */
#define GUEST_PCI_HOLE		0xC0000000ULL	/* 3 GiB: RAM stops here ... */
#define GUEST_4G		0x100000000ULL	/* ... and resumes at 4 GiB */

#define MEM_MAX_REGIONS	4

struct mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;
};

/* All of one guest's RAM: one host mapping cut into regions. */
struct guest_mem {
	uint8_t *ram;			/* host mapping of all guest RAM */
	uint64_t size;			/* bytes of guest RAM */
	struct mem_region r[MEM_MAX_REGIONS];	/* low, BIOS area, high, above 4G */
	int n;
};

/*
 * Reserve size bytes of host memory (2 MiB-aligned, huge pages advised) and
 * lay them out as a PC: low RAM, the BIOS area if bios_ram, RAM from 1 MiB
 * to the PCI hole, the rest above 4 GiB.
 */
int mem_init(struct guest_mem *m, uint64_t size, bool bios_ram);
void mem_fini(struct guest_mem *m);

/*
 * The layout alone: cut [host, host+size) into the regions of a PC with
 * size bytes of RAM (mem_init's second half; tests lay out small buffers).
 */
void mem_layout(struct guest_mem *m, uint8_t *host, uint64_t size, bool bios_ram);

/*
 * The one checked accessor for guest memory: a host pointer to
 * [gpa, gpa+len) if it lies wholly inside one RAM region, else NULL.
 * Overflow-safe for any gpa and len.
 */
void *mem_gpa(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* Does [gpa, gpa+len) overlap any RAM region?  (len 0: never) */
bool mem_overlaps(const struct guest_mem *m, uint64_t gpa, uint64_t len);

#endif
