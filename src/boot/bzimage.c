/* bzimage.c - the Linux x86 boot protocol for bzImages (see bzimage.h). */
#include <errno.h>
#include <string.h>
#include "boot/bzimage.h"
#include "boot/e820.h"
#include "boot/kernel.h"
#include "err.h"
#include "vm.h"

#define VER_ARGS(v)	(unsigned)((v) >> 8), (unsigned)((v) & 0xff)

int bzimage_parse(const char *name, const uint8_t *data, size_t size,
		  uint64_t mem_size, struct bzimage *bz)
{
	unsigned sects;
	uint8_t loadflags;
	uint64_t pref = KERNEL_LOAD_ADDR, align = 1, min_hdr_end;

	memset(bz, 0, sizeof(*bz));
	/* The boot sector and the first setup sector hold the whole header. */
	if (size < 1024)
		return err_set(-ENOEXEC, "%s: too small for a bzImage (%zu bytes)", name, size);
	if (memcmp(data + BZ_HEADER, "HdrS", 4) != 0)
		return err_set(-ENOEXEC, "%s: not a bzImage (no HdrS magic)", name);
	if (get16(data + BZ_BOOT_FLAG) != 0xAA55)
		return err_set(-ENOEXEC, "%s: not a bzImage (no 0xAA55 boot flag at 0x1FE)", name);
	bz->version = get16(data + BZ_VERSION);
	if (bz->version < BZ_MIN_VERSION)
		return err_set(-ENOEXEC, "%s: boot protocol %u.%02u is too old (need 2.06)",
			       name, VER_ARGS(bz->version));
	loadflags = data[BZ_LOADFLAGS];
	if (!(loadflags & BZ_LOADED_HIGH))
		return err_set(-ENOEXEC, "%s: a zImage (not loaded high) is not supported, only bzImage",
			       name);

	sects = data[BZ_SETUP_SECTS] ? data[BZ_SETUP_SECTS] : 4;
	bz->setup_size = (sects + 1) * 512;
	if (bz->setup_size >= size)
		return err_set(-ENOEXEC, "%s: truncated (setup claims %u sectors, file has %zu bytes)",
			       name, sects, size);
	bz->kernel_off = bz->setup_size;
	bz->kernel_size = size - bz->setup_size;

	/* The header's length is told by the short jump over it at 0x200. */
	bz->hdr_end = BZ_HEADER + (uint32_t)(int8_t)data[BZ_JUMP + 1];
	min_hdr_end = bz->version >= 0x020A ? BZ_INIT_SIZE + 4 : BZ_CMDLINE_SIZE + 4;
	if (bz->hdr_end < min_hdr_end)
		return err_set(-ENOEXEC, "%s: setup header ends at 0x%x, too short for protocol %u.%02u",
			       name, bz->hdr_end, VER_ARGS(bz->version));
	if (bz->hdr_end > BP_HDR_END)
		bz->hdr_end = BP_HDR_END;

	if (bz->version >= 0x0208) {
		uint64_t off = get32(data + BZ_PAYLOAD_OFFSET);
		uint64_t len = get32(data + BZ_PAYLOAD_LENGTH);

		if (off + len > bz->kernel_size)
			return err_set(-ENOEXEC, "%s: truncated (payload ends at 0x%llx after the setup, file has 0x%llx)",
				       name, (unsigned long long)(off + len),
				       (unsigned long long)bz->kernel_size);
	}

	/*
	 * Where the kernel will run (boot.rst, init_size): a relocatable
	 * kernel moves itself up to pref_address, aligned to kernel_alignment;
	 * another one runs at pref_address.  Before 2.10 there is no
	 * pref_address or init_size: it runs where it is, at 1 MiB.
	 */
	if (bz->version >= 0x020A) {
		pref = get64(data + BZ_PREF_ADDRESS);
		bz->init_size = get32(data + BZ_INIT_SIZE);
	}
	if (data[BZ_RELOCATABLE]) {
		align = get32(data + BZ_KERNEL_ALIGNMENT);
		if (align == 0 || (align & (align - 1)) || align > (1ULL << 30))
			return err_set(-ENOEXEC, "%s: bad kernel_alignment 0x%llx (not a power of two up to 1 GiB)",
				       name, (unsigned long long)align);
		if (pref < KERNEL_LOAD_ADDR)
			pref = KERNEL_LOAD_ADDR;
		bz->run_start = (pref + align - 1) & ~(align - 1);
	} else {
		bz->run_start = pref ? pref : KERNEL_LOAD_ADDR;
	}
	/* pref_address is 64 bits from the file: keep the sums below from wrapping. */
	if (bz->run_start < KERNEL_LOAD_ADDR || bz->run_start >= GUEST_4G)
		return err_set(-ENOEXEC, "%s: kernel wants to run at 0x%llx, outside 1 MiB..4 GiB",
			       name, (unsigned long long)bz->run_start);
	bz->kernel_end = bz->run_start + bz->init_size;
	if (bz->kernel_end < KERNEL_LOAD_ADDR + bz->kernel_size)
		bz->kernel_end = KERNEL_LOAD_ADDR + bz->kernel_size;
	if (!e820_is_ram(mem_size, KERNEL_LOAD_ADDR, bz->kernel_end - KERNEL_LOAD_ADDR)) {
		unsigned long long mib = (bz->kernel_end + (1 << 20) - 1) >> 20;
		char mem[32];

		if (mem_size > GUEST_PCI_HOLE)
			return err_set(-EFBIG, "%s: kernel needs %llu MiB (init_size) below 3 GiB",
				       name, mib);
		return err_set(-EFBIG, "%s: kernel needs %llu MiB (init_size) but --memory is %s",
			       name, mib, kernel_fmt_mem(mem, sizeof(mem), mem_size));
	}

	bz->cmdline_max = get32(data + BZ_CMDLINE_SIZE);
	if (bz->cmdline_max > KERNEL_CMDLINE_ROOM - 1)
		bz->cmdline_max = KERNEL_CMDLINE_ROOM - 1;
	bz->initrd_limit = (uint64_t)get32(data + BZ_INITRD_ADDR_MAX) + 1;
	if (bz->initrd_limit > e820_low_ram_end(mem_size))
		bz->initrd_limit = e820_low_ram_end(mem_size);
	return 0;
}

void bzimage_zero_page(const struct bzimage *bz, const uint8_t *data,
		       const struct boot_info *p, uint8_t *zp)
{
	struct e820_entry map[E820_MAX];
	int n;

	memset(zp, 0, BP_SIZE);
	/* The setup header as the file has it; then what a loader must set. */
	memcpy(zp + BZ_SETUP_SECTS, data + BZ_SETUP_SECTS, bz->hdr_end - BZ_SETUP_SECTS);
	zp[BZ_TYPE_OF_LOADER] = BZ_LOADER_UNDEFINED;
	zp[BZ_LOADFLAGS] |= BZ_CAN_USE_HEAP;
	put16(zp + BZ_HEAP_END_PTR, BZ_HEAP_END);
	put32(zp + BZ_CODE32_START, KERNEL_LOAD_ADDR);
	put32(zp + BZ_CMD_LINE_PTR, (uint32_t)p->cmdline_gpa);
	put32(zp + BZ_RAMDISK_IMAGE, (uint32_t)p->initrd_gpa);
	put32(zp + BZ_RAMDISK_SIZE, (uint32_t)p->initrd_size);
	/* Kernels older than 2.14 do not read it; they scan 0xE0000 instead. */
	if (bz->version >= 0x020E)
		put64(zp + BP_ACPI_RSDP_ADDR, p->rsdp_gpa);

	n = e820_build(p->mem_size, map, E820_MAX);
	if (n < 0)
		n = 0;
	zp[BP_E820_ENTRIES] = (uint8_t)n;
	for (int i = 0; i < n; i++) {
		uint8_t *e = zp + BP_E820_TABLE + 20 * i;

		put64(e, map[i].addr);
		put64(e + 8, map[i].size);
		put32(e + 16, map[i].type);
	}
}

int bzimage_place(const struct bzimage *bz, const uint8_t *data,
		  const struct kernel_src *src, struct vm *vm,
		  const struct boot_info *p, uint64_t zero_page_gpa)
{
	uint8_t *dst = vm_gpa(vm, KERNEL_LOAD_ADDR, bz->kernel_size);
	uint8_t *zp = vm_gpa(vm, zero_page_gpa, BP_SIZE);

	if (!dst)
		return err_set(-ENOSPC, "kernel 0x%x+0x%llx is not in guest RAM",
			       KERNEL_LOAD_ADDR, (unsigned long long)bz->kernel_size);
	if (!zp)
		return err_set(-ENOSPC, "boot_params at 0x%llx is not in guest RAM",
			       (unsigned long long)zero_page_gpa);
	bzimage_zero_page(bz, data, p, zp);
	return kernel_src_read(src, bz->kernel_off, dst, bz->kernel_size);
}
