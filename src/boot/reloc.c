/* reloc.c - a decompressed kernel's segments and relocations (see reloc.h). */
#include <elf.h>
#include <errno.h>
#include <string.h>
#include "boot/kernel.h"
#include "boot/reloc.h"
#include "err.h"

int vmlinux_parse(const char *name, const uint8_t *p, size_t n, struct vmlinux *vm)
{
	Elf64_Ehdr eh;
	uint64_t end, shend;

	memset(vm, 0, sizeof(*vm));
	vm->payload_len = n;
	if (n < sizeof(eh) || memcmp(p, ELFMAG, SELFMAG) != 0)
		return err_set(-ENOEXEC, "%s: the decompressed kernel is not an ELF file", name);
	memcpy(&eh, p, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_X86_64)
		return err_set(-ENOEXEC, "%s: the decompressed kernel is not x86-64 ELF64", name);
	if (eh.e_phnum == 0 || eh.e_phnum == PN_XNUM || eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    eh.e_phoff > n || (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > n - eh.e_phoff)
		return err_set(-ENOEXEC, "%s: the decompressed kernel has bad program headers", name);
	end = eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr);
	if (eh.e_shnum) {
		if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shoff > n ||
		    (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr) > n - eh.e_shoff)
			return err_set(-ENOEXEC, "%s: the decompressed kernel has bad section headers", name);
		shend = eh.e_shoff + (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr);
		if (shend > end)
			end = shend;
		for (unsigned i = 0; i < eh.e_shnum; i++) {
			Elf64_Shdr sh;

			memcpy(&sh, p + eh.e_shoff + i * sizeof(sh), sizeof(sh));
			if (sh.sh_type == SHT_NOBITS || sh.sh_type == SHT_NULL)
				continue;
			if (sh.sh_offset > n || sh.sh_size > n - sh.sh_offset)
				return err_set(-ENOEXEC, "%s: section %u runs past the decompressed kernel",
					       name, i);
			if (sh.sh_offset + sh.sh_size > end)
				end = sh.sh_offset + sh.sh_size;
		}
	}
	vm->link_base = UINT64_MAX;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		struct vmlinux_seg *s;

		memcpy(&ph, p + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_offset > n || ph.p_filesz > n - ph.p_offset || ph.p_filesz > ph.p_memsz)
			return err_set(-ENOEXEC, "%s: segment %u runs past the decompressed kernel", name, i);
		if (ph.p_paddr < VMLINUX_MIN_ADDR || ph.p_paddr >= (1ULL << 32) ||
		    ph.p_memsz > (1ULL << 32) - ph.p_paddr)
			return err_set(-ENOEXEC, "%s: segment %u at 0x%llx+0x%llx is outside 1 MiB..4 GiB",
				       name, i, (unsigned long long)ph.p_paddr,
				       (unsigned long long)ph.p_memsz);
		if (vm->nseg == VMLINUX_MAX_SEGS)
			return err_set(-ENOEXEC, "%s: more than %d PT_LOAD segments", name, VMLINUX_MAX_SEGS);
		s = &vm->seg[vm->nseg++];
		*s = (struct vmlinux_seg){ ph.p_paddr, ph.p_filesz, ph.p_memsz, ph.p_offset };
		if (ph.p_paddr < vm->link_base)
			vm->link_base = ph.p_paddr;
		if (ph.p_paddr + ph.p_memsz > vm->image_end)
			vm->image_end = ph.p_paddr + ph.p_memsz;
		if (ph.p_paddr + ph.p_filesz > vm->file_end)
			vm->file_end = ph.p_paddr + ph.p_filesz;
		if (ph.p_offset + ph.p_filesz > end)
			end = ph.p_offset + ph.p_filesz;
	}
	if (vm->nseg == 0)
		return err_set(-ENOEXEC, "%s: the decompressed kernel has no PT_LOAD segment", name);
	vm->entry = eh.e_entry;
	if (vm->entry < vm->link_base || vm->entry >= vm->file_end)
		return err_set(-ENOEXEC, "%s: entry 0x%llx is outside the kernel", name,
			       (unsigned long long)vm->entry);
	/* After the ELF: the relocation table, or nothing. */
	if (end < n) {
		vm->relocs_off = end;
		vm->relocs_len = n - end;
		if (vm->relocs_len % 4 || vm->relocs_len < 12 || get32(p + end) != 0)
			return err_set(-ENOEXEC, "%s: %llu bytes after the ELF are not a relocation table",
				       name, (unsigned long long)vm->relocs_len);
	}
	return 0;
}

/* The field an entry names: its offset in the image, or -1 outside. */
static int64_t reloc_target(uint32_t e, uint64_t img_len, uint64_t link_base, unsigned width)
{
	uint64_t phys = (uint64_t)(int64_t)(int32_t)e - KERNEL_START_MAP;
	uint64_t off = phys - link_base;

	if (phys < link_base || img_len < width || off > img_len - width)
		return -1;
	return (int64_t)off;
}

int reloc_apply(const char *name, uint8_t *img, uint64_t img_len, uint64_t link_base,
		const uint8_t *relocs, size_t rlen, uint64_t delta)
{
	static const char *kind[3] = { "32-bit", "inverse 32-bit", "64-bit" };
	size_t i;

	if (rlen % 4 || rlen < 12)
		return err_set(-ENOEXEC, "%s: relocation table of %zu bytes is malformed", name, rlen);
	/* Check everything before touching anything: a bad table changes nothing. */
	for (int pass = 0; pass < 2; pass++) {
		i = rlen / 4 - 1;
		for (int k = 0; k < 3; k++) {
			unsigned width = k == 2 ? 8 : 4;

			for (;; i--) {
				uint32_t e = get32(relocs + 4 * i);
				int64_t off;

				if (e == 0)
					break;
				if (i == 0)
					return err_set(-ENOEXEC, "%s: relocation table has no terminator for its %s relocations",
						       name, kind[k]);
				off = reloc_target(e, img_len, link_base, width);
				if (off < 0)
					return err_set(-ENOEXEC, "%s: %s relocation 0x%08x points outside the kernel",
						       name, kind[k], e);
				if (pass == 0)
					continue;
				if (k == 0)
					put32(img + off, get32(img + off) + (uint32_t)delta);
				else if (k == 1)
					put32(img + off, get32(img + off) - (uint32_t)delta);
				else
					put64(img + off, get64(img + off) + delta);
			}
			if (k < 2) {
				if (i == 0)
					return err_set(-ENOEXEC, "%s: relocation table ends early", name);
				i--;
			}
		}
		if (i != 0)
			return err_set(-ENOEXEC, "%s: relocation table has %zu stray entries before it",
				       name, i);
		if (delta == 0)
			return 0;
	}
	return 0;
}

uint64_t reloc_pick_delta(uint64_t link_base, uint64_t size, uint64_t align, uint64_t rnd)
{
	uint64_t slots;

	if (!align || link_base >= KERNEL_IMAGE_SIZE_KASLR ||
	    size > KERNEL_IMAGE_SIZE_KASLR - link_base)
		return 0;
	slots = (KERNEL_IMAGE_SIZE_KASLR - link_base - size) / align + 1;
	return (rnd % slots) * align;
}
