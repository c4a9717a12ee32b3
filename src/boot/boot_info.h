/*
 * boot_info.h - what a Linux loader tells the kernel besides the kernel
 * itself: where the command line, the initrd and the RSDP were put, and
 * how much RAM there is.  Both entry paths take it: bzimage.c writes it
 * into the zero page, pvh.c into hvm_start_info.
 */
#ifndef HYVE_BOOT_BOOT_INFO_H
#define HYVE_BOOT_BOOT_INFO_H

#include <stdint.h>

struct boot_info {
	uint64_t cmdline_gpa;
	uint64_t initrd_gpa, initrd_size;	/* 0, 0: none */
	uint64_t rsdp_gpa;			/* 0: none */
	uint64_t mem_size;			/* for the memory map (e820) */
};

#endif
