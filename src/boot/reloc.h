/*
 * reloc.h - the kernel a bzImage carries, once decompressed: an ELF64
 * vmlinux followed (when the kernel was built with RANDOMIZE_BASE) by its
 * relocation table.  hyve loads its segments itself, applies the table for
 * a random virtual offset (KASLR, as the kernel's own decompressor does,
 * arch/x86/boot/compressed/misc.c), and enters startup_64 through the 64-bit
 * boot protocol.
 *
 * The table: 32-bit entries, each the kernel virtual address of a field to
 * fix, sign-extended from 32 bits.  From the front: a 0, the 64-bit
 * relocations, a 0, the inverse 32-bit relocations, a 0, the 32-bit
 * relocations; it is read backwards from its end.
 */
#ifndef HYVE_BOOT_RELOC_H
#define HYVE_BOOT_RELOC_H

#include <stddef.h>
#include <stdint.h>

#define VMLINUX_MAX_SEGS	16
#define KERNEL_START_MAP	0xffffffff80000000ULL	/* __START_KERNEL_map */
#define VMLINUX_MIN_ADDR	0x100000ULL	/* segments load at 1 MiB and up */
#define KERNEL_IMAGE_SIZE_KASLR	(1ULL << 30)	/* KERNEL_IMAGE_SIZE with RANDOMIZE_BASE */

struct vmlinux_seg {
	uint64_t paddr;		/* where it goes (the link address) */
	uint64_t filesz, memsz;
	uint64_t off;		/* where its bytes are in the source */
};

/* A decompressed kernel: what to load where, and its relocation table. */
struct vmlinux {
	uint64_t entry;		/* startup_64, physical (ELF e_entry) */
	uint64_t link_base;	/* lowest segment address: LOAD_PHYSICAL_ADDR */
	uint64_t image_end;	/* end of the highest segment (bss included) */
	uint64_t file_end;	/* end of the highest segment's file bytes */
	uint64_t payload_len;	/* the decompressed payload's size */
	int nseg;
	struct vmlinux_seg seg[VMLINUX_MAX_SEGS];
	uint64_t relocs_off;	/* the table in the source; len 0: none */
	uint64_t relocs_len;
};

/*
 * Parse a decompressed payload p[0, n): the ELF's PT_LOAD segments (offsets
 * into p) and, after the ELF's last byte, the relocation table (checked:
 * three terminators, nothing left over).  0 or -errno (err_set).
 */
int vmlinux_parse(const char *name, const uint8_t *p, size_t n, struct vmlinux *vm);

/*
 * Apply the relocation table (rlen bytes) to the image img, which holds the
 * kernel's memory from link_base for img_len bytes, for the kernel's text
 * moved by delta bytes in virtual memory (delta 0: nothing to do).  Every
 * entry must point inside the image.  0 or -errno (err_set).
 */
int reloc_apply(const char *name, uint8_t *img, uint64_t img_len, uint64_t link_base,
		const uint8_t *relocs, size_t rlen, uint64_t delta);

/*
 * A random virtual offset for the kernel, as the decompressor picks it
 * (find_random_virt_addr): a multiple of align in
 * [0, KERNEL_IMAGE_SIZE - link_base - size], from rnd.
 */
uint64_t reloc_pick_delta(uint64_t link_base, uint64_t size, uint64_t align, uint64_t rnd);

#endif
