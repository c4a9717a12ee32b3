/* pvh.c - the PVH loader for ELF64 vmlinux files (see pvh.h). */
#include <elf.h>
#include <errno.h>
#include <string.h>
#include "boot/e820.h"
#include "boot/kernel.h"
#include "boot/pvh.h"
#include "err.h"
#include "vm.h"

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info layout");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry layout");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "hvm_memmap_table_entry layout");

/*
 * Look for the PHYS32 entry note among the notes in [p, p+len).  Returns 1
 * and sets *entry if found, 0 if not, -errno for a bad one.
 */
static int pvh_find_note(const char *name, const uint8_t *p, uint64_t len,
			 uint64_t align, uint32_t *entry)
{
	uint64_t off = 0;

	/* Name and desc start aligned (to 4, or 8 where p_align says so). */
	while (len - off >= 12) {
		uint64_t namesz = get32(p + off), descsz = get32(p + off + 4);
		uint32_t type = get32(p + off + 8);
		const uint8_t *nm = p + off + 12, *desc;
		uint64_t desc_off;

		/* A note running past its segment ends the list. */
		if (namesz > len - off - 12)
			return 0;
		desc_off = (off + 12 + namesz + align - 1) & ~(align - 1);
		if (desc_off > len || descsz > len - desc_off)
			return 0;
		desc = p + desc_off;
		off = (desc_off + descsz + align - 1) & ~(align - 1);
		if (off > len)
			off = len;
		if (namesz != 4 || memcmp(nm, "Xen", 4) != 0 || type != XEN_ELFNOTE_PHYS32_ENTRY)
			continue;
		/* Linux emits it as a .quad on 64-bit, Xen's ABI as 32 bits. */
		if (descsz == 4) {
			*entry = get32(desc);
		} else if (descsz == 8) {
			uint64_t e = get64(desc);

			if (e >= GUEST_4G)
				return err_set(-ENOEXEC, "%s: PVH entry 0x%llx is above 4 GiB",
					       name, (unsigned long long)e);
			*entry = (uint32_t)e;
		} else {
			return err_set(-ENOEXEC, "%s: bad XEN_ELFNOTE_PHYS32_ENTRY note (%llu bytes)",
				       name, (unsigned long long)descsz);
		}
		return 1;
	}
	return 0;
}

int pvh_parse(const char *name, const uint8_t *data, size_t size,
	      uint64_t mem_size, struct pvh_image *pvh)
{
	Elf64_Ehdr eh;
	bool found = false, in_seg = false;
	char mem[32];

	memset(pvh, 0, sizeof(*pvh));
	if (size < SELFMAG || memcmp(data, ELFMAG, SELFMAG) != 0)
		return err_set(-ENOEXEC, "%s: not an ELF file", name);
	if (size < sizeof(eh))
		return err_set(-ENOEXEC, "%s: truncated (ELF header needs %zu bytes, file has %zu)",
			       name, sizeof(eh), size);
	memcpy(&eh, data, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_X86_64)
		return err_set(-ENOEXEC, "%s: not an x86-64 ELF64 file (class %u, data %u, machine %u)",
			       name, eh.e_ident[EI_CLASS], eh.e_ident[EI_DATA], eh.e_machine);
	if (eh.e_phnum == 0 || eh.e_phnum == PN_XNUM || eh.e_phentsize != sizeof(Elf64_Phdr))
		return err_set(-ENOEXEC, "%s: no usable program headers (%u of %u bytes)",
			       name, eh.e_phnum, eh.e_phentsize);
	/* phnum * 56 < 4 MiB: only the offset can make this wrap. */
	if (eh.e_phoff > size || (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > size - eh.e_phoff)
		return err_set(-ENOEXEC, "%s: truncated (program headers at 0x%llx, file has %zu bytes)",
			       name, (unsigned long long)eh.e_phoff, size);

	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		struct pvh_seg *s;

		memcpy(&ph, data + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD && ph.p_type != PT_NOTE)
			continue;
		if (ph.p_offset > size || ph.p_filesz > size - ph.p_offset)
			return err_set(-ENOEXEC, "%s: truncated (segment %u: 0x%llx bytes at file offset 0x%llx, file has 0x%zx)",
				       name, i, (unsigned long long)ph.p_filesz,
				       (unsigned long long)ph.p_offset, size);
		if (ph.p_type == PT_NOTE) {
			int r;
			uint32_t entry = 0;

			if (found)
				continue;
			r = pvh_find_note(name, data + ph.p_offset, ph.p_filesz,
					  ph.p_align == 8 ? 8 : 4, &entry);
			if (r < 0)
				return r;
			if (r > 0) {
				found = true;
				pvh->entry = entry;
			}
			continue;
		}
		if (ph.p_filesz > ph.p_memsz)
			return err_set(-ENOEXEC, "%s: segment %u has p_filesz 0x%llx > p_memsz 0x%llx",
				       name, i, (unsigned long long)ph.p_filesz,
				       (unsigned long long)ph.p_memsz);
		if (ph.p_memsz == 0)
			continue;
		/* Low memory holds hyve's boot data (docs/boot.md). */
		if (ph.p_paddr < GUEST_HIGH_START)
			return err_set(-ENOEXEC, "%s: segment %u at 0x%llx is below 1 MiB, where hyve keeps boot data",
				       name, i, (unsigned long long)ph.p_paddr);
		if (!e820_is_ram(mem_size, ph.p_paddr, ph.p_memsz))
			return err_set(-EFBIG, "%s: segment %u [0x%llx, +0x%llx) is outside guest RAM (--memory %s)",
				       name, i, (unsigned long long)ph.p_paddr,
				       (unsigned long long)ph.p_memsz,
				       kernel_fmt_mem(mem, sizeof(mem), mem_size));
		if (pvh->nseg == PVH_MAX_SEGS)
			return err_set(-ENOEXEC, "%s: more than %d PT_LOAD segments", name, PVH_MAX_SEGS);
		s = &pvh->seg[pvh->nseg++];
		*s = (struct pvh_seg){ ph.p_offset, ph.p_filesz, ph.p_paddr, ph.p_memsz };
		/* In RAM, so no wrap. */
		if (s->paddr + s->memsz > pvh->kernel_end)
			pvh->kernel_end = s->paddr + s->memsz;
	}
	if (!found)
		return err_set(-ENOEXEC, "%s: no XEN_ELFNOTE_PHYS32_ENTRY note: the kernel was built without CONFIG_PVH",
			       name);
	if (pvh->nseg == 0)
		return err_set(-ENOEXEC, "%s: no PT_LOAD segment to load", name);
	for (int i = 0; i < pvh->nseg; i++)
		if (pvh->entry >= pvh->seg[i].paddr &&
		    pvh->entry - pvh->seg[i].paddr < pvh->seg[i].filesz)
			in_seg = true;
	if (!in_seg)
		return err_set(-ENOEXEC, "%s: PVH entry 0x%x is not inside a loaded segment",
			       name, pvh->entry);
	return 0;
}

int pvh_place(const struct pvh_image *pvh, const struct kernel_src *src, struct vm *vm,
	      const struct boot_info *p, uint64_t start_info_gpa)
{
	struct e820_entry map[E820_MAX];
	struct hvm_start_info si = {
		.magic = XEN_HVM_START_MAGIC,
		.version = 1,
		.cmdline_paddr = p->cmdline_gpa,
		.rsdp_paddr = p->rsdp_gpa,
	};
	uint64_t mod_gpa = start_info_gpa + 64, map_gpa = mod_gpa + 64;
	int n = e820_build(p->mem_size, map, E820_MAX);
	uint8_t *si_dst, *mod_dst, *map_dst;

	for (int i = 0; i < pvh->nseg; i++) {
		const struct pvh_seg *s = &pvh->seg[i];
		uint8_t *dst = vm_gpa(vm, s->paddr, s->memsz);

		if (!dst)
			return err_set(-ENOSPC, "kernel segment 0x%llx+0x%llx is not in guest RAM",
				       (unsigned long long)s->paddr, (unsigned long long)s->memsz);
		int r = kernel_src_read(src, s->offset, dst, s->filesz);

		if (r < 0)
			return r;
		memset(dst + s->filesz, 0, s->memsz - s->filesz);	/* .bss */
	}

	if (n < 0)
		n = 0;
	si_dst = vm_gpa(vm, start_info_gpa, sizeof(si));
	mod_dst = vm_gpa(vm, mod_gpa, sizeof(struct hvm_modlist_entry));
	map_dst = vm_gpa(vm, map_gpa, n * sizeof(struct hvm_memmap_table_entry));
	if (!si_dst || !mod_dst || !map_dst)
		return err_set(-ENOSPC, "hvm_start_info at 0x%llx is not in guest RAM",
			       (unsigned long long)start_info_gpa);
	if (p->initrd_size) {
		struct hvm_modlist_entry mod = { .paddr = p->initrd_gpa, .size = p->initrd_size };

		memcpy(mod_dst, &mod, sizeof(mod));
		si.nr_modules = 1;
		si.modlist_paddr = mod_gpa;
	}
	for (int i = 0; i < n; i++) {
		struct hvm_memmap_table_entry e = { map[i].addr, map[i].size, map[i].type, 0 };

		memcpy(map_dst + i * sizeof(e), &e, sizeof(e));
	}
	si.memmap_paddr = map_gpa;
	si.memmap_entries = n;
	memcpy(si_dst, &si, sizeof(si));
	return 0;
}
