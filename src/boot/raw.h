/*
 * raw.h - raw real-mode images (--raw FILE[@ADDR]): loaded at 0x7C00 (or
 * ADDR < 0x10000) and entered at 0000:ADDR in real mode with interrupts
 * off, like a BIOS handing over a boot sector, without a BIOS.
 */
#ifndef HYVE_BOOT_RAW_H
#define HYVE_BOOT_RAW_H

#include <stddef.h>
#include <stdint.h>

#define RAW_DEFAULT_ADDR	0x7C00
#define RAW_ADDR_LIMIT		0x10000	/* ADDR must be below this */
#define RAW_END_LIMIT		0xA0000	/* the image must end at or below this */

struct raw_image {
	uint8_t *data;
	size_t size;
	uint64_t addr;
};

/* Parse "FILE[@ADDR]", read and check the file.  0 or -errno (err_set). */
int raw_open(const char *arg, struct raw_image *img);
void raw_free(struct raw_image *img);

struct vm;
/* Copy the image into guest RAM and set vCPU 0 to enter it. */
int raw_load(struct vm *vm, const struct raw_image *img);

#endif
