/*
 * kernel.c - Linux direct boot: tell bzImage from ELF vmlinux, read the
 * files, place the initrd and the command line, and set the boot CPU's
 * entry state (see kernel.h, docs/boot.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "boot/e820.h"
#include "boot/kernel.h"
#include "err.h"
#include "util.h"
#include "vcpu.h"
#include "vm.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "get16/put16... assume a little-endian host");

/*
 * Flat 4 GiB descriptors, at Linux's __BOOT_CS (0x10) and __BOOT_DS (0x18)
 * as boot.rst's 32-bit protocol asks; a 32-bit TSS at 0x20 for TR (the PVH
 * ABI: base 0, limit 0x67).
 */
const uint64_t kernel_gdt[KERNEL_GDT_ENTRIES] = {
	0,
	0,
	0x00CF9B000000FFFFULL,	/* 0x10: code, execute/read, accessed, 32-bit, 4 KiB granular */
	0x00CF93000000FFFFULL,	/* 0x18: data, read/write, accessed, 32-bit, 4 KiB granular */
	0x00008B0000000067ULL,	/* 0x20: 32-bit TSS (busy), base 0, limit 0x67 */
};

const char *kernel_fmt_size(char *buf, size_t len, uint64_t bytes)
{
	static const char *unit[] = { "KiB", "MiB", "GiB", "TiB" };
	int u = -1;
	uint64_t scale = 1;

	while (u < 3 && bytes >= scale * 1024) {
		scale *= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%llu bytes", (unsigned long long)bytes);
	else if (bytes % scale == 0)
		snprintf(buf, len, "%llu %s", (unsigned long long)(bytes / scale), unit[u]);
	else
		snprintf(buf, len, "%.1f %s", (double)bytes / (double)scale, unit[u]);
	return buf;
}

const char *kernel_fmt_mem(char *buf, size_t len, uint64_t bytes)
{
	if (bytes && bytes % (1ULL << 30) == 0)
		snprintf(buf, len, "%lluG", (unsigned long long)(bytes >> 30));
	else if (bytes && bytes % (1ULL << 20) == 0)
		snprintf(buf, len, "%lluM", (unsigned long long)(bytes >> 20));
	else if (bytes && bytes % 1024 == 0)
		snprintf(buf, len, "%lluK", (unsigned long long)(bytes >> 10));
	else
		snprintf(buf, len, "%llu", (unsigned long long)bytes);
	return buf;
}

/* Open a regular, non-empty file of at most max bytes; its size in *size. */
static int kernel_open_file(const char *path, uint64_t max, int *fd_out, size_t *size)
{
	struct stat st;
	char a[32], b[32];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return err_set(-errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(-EINVAL, "%s: not a regular file", path);
	}
	if (st.st_size == 0) {
		close(fd);
		return err_set(-EINVAL, "%s: file is empty", path);
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return err_set(-EFBIG, "%s: %s file is larger than --memory %s", path,
			       kernel_fmt_size(a, sizeof(a), st.st_size),
			       kernel_fmt_mem(b, sizeof(b), max));
	}
	*fd_out = fd;
	*size = st.st_size;
	return 0;
}

/*
 * Parse the kernel, check the command line, and choose the initrd's place
 * (its size is known before its bytes are read: a big initrd that cannot
 * fit is refused without reading it).
 */
static int kernel_prepare(struct kernel_image *k)
{
	static const uint8_t elf_magic[4] = { 0x7f, 'E', 'L', 'F' };
	uint64_t cmdline_max, limit, gpa;
	char a[32], b[32];
	int r;

	if (k->kernel_size >= 4 && memcmp(k->kernel, elf_magic, 4) == 0) {
		k->format = KERNEL_PVH;
		r = pvh_parse(k->kernel_name, k->kernel, k->kernel_size, k->mem_size, &k->u.pvh);
		if (r < 0)
			return r;
		k->kernel_end = k->u.pvh.kernel_end;
		cmdline_max = PVH_CMDLINE_MAX;
		limit = e820_low_ram_end(k->mem_size);
	} else {
		k->format = KERNEL_BZIMAGE;
		r = bzimage_parse(k->kernel_name, k->kernel, k->kernel_size, k->mem_size, &k->u.bz);
		if (r < 0)
			return r;
		k->kernel_end = k->u.bz.kernel_end;
		cmdline_max = k->u.bz.cmdline_max;
		limit = k->u.bz.initrd_limit;
	}

	if (k->cmdline_len > cmdline_max)
		return err_set(-E2BIG, "%s: command line of %zu bytes is longer than the kernel takes (%llu)",
			       k->kernel_name, k->cmdline_len, (unsigned long long)cmdline_max);

	if (!k->initrd_name)
		return 0;
	/* As high as it goes below the limit, above everything the kernel claims. */
	if (k->initrd_size > limit ||
	    (gpa = (limit - k->initrd_size) & ~(uint64_t)(KERNEL_INITRD_ALIGN - 1)) < k->kernel_end)
		return err_set(-EFBIG, "%s: %s initrd does not fit below 0x%llx with --memory %s (the kernel claims up to 0x%llx)",
			       k->initrd_name, kernel_fmt_size(a, sizeof(a), k->initrd_size),
			       (unsigned long long)limit, kernel_fmt_mem(b, sizeof(b), k->mem_size),
			       (unsigned long long)k->kernel_end);
	k->initrd_gpa = gpa;
	return 0;
}

static void kernel_init(struct kernel_image *k, const char *kernel_name,
			const char *initrd_name, const char *cmdline, uint64_t mem_size)
{
	memset(k, 0, sizeof(*k));
	k->kernel_name = kernel_name;
	k->initrd_name = initrd_name;
	k->cmdline = cmdline ? cmdline : "";
	k->cmdline_len = strlen(k->cmdline);
	k->mem_size = mem_size;
}

int kernel_open_mem(struct kernel_image *k, const char *kernel_name,
		    const uint8_t *kernel, size_t kernel_size,
		    const char *initrd_name, const uint8_t *initrd,
		    size_t initrd_size, const char *cmdline, uint64_t mem_size)
{
	int r;

	/* initrd_name doubles as "there is an initrd": never NULL with one. */
	kernel_init(k, kernel_name, initrd ? (initrd_name ? initrd_name : "initrd") : NULL,
		    cmdline, mem_size);
	k->kernel = kernel;
	k->kernel_size = kernel_size;
	k->initrd = initrd;
	k->initrd_size = initrd ? initrd_size : 0;
	if (initrd && initrd_size == 0)
		return err_set(-EINVAL, "%s: file is empty", k->initrd_name);
	r = kernel_prepare(k);
	if (r < 0)
		k->format = KERNEL_NONE;
	return r;
}

int kernel_open(struct kernel_image *k, const char *kernel, const char *initrd,
		const char *cmdline, uint64_t mem_size)
{
	int fd, ifd = -1, r;
	size_t size;

	kernel_init(k, kernel, initrd, cmdline, mem_size);
	if ((r = kernel_open_file(kernel, mem_size, &fd, &size)) < 0 ||
	    (r = read_fd_whole(kernel, fd, size, &k->kernel_buf)) < 0)
		return r;
	k->kernel = k->kernel_buf;
	k->kernel_size = size;
	/* No size cap here: kernel_prepare says where an initrd would not fit. */
	if (initrd && (r = kernel_open_file(initrd, SIZE_MAX, &ifd, &k->initrd_size)) < 0)
		goto fail;
	if ((r = kernel_prepare(k)) < 0)
		goto fail;
	if (initrd) {
		r = read_fd_whole(initrd, ifd, k->initrd_size, &k->initrd_buf);
		ifd = -1;
		if (r < 0)
			goto fail;
		k->initrd = k->initrd_buf;
	}
	return 0;
fail:
	if (ifd >= 0)
		close(ifd);
	kernel_close(k);
	return r;
}

void kernel_close(struct kernel_image *k)
{
	free(k->kernel_buf);
	free(k->initrd_buf);
	k->kernel_buf = k->initrd_buf = NULL;
	k->kernel = k->initrd = NULL;
	k->format = KERNEL_NONE;
}

/* Copy len bytes to gpa, or say what did not fit. */
static int kernel_copy(struct vm *vm, uint64_t gpa, const void *src, uint64_t len,
		       const char *what)
{
	void *dst = vm_gpa(vm, gpa, len);

	if (!dst)
		return err_set(-ENOSPC, "%s at 0x%llx+0x%llx is not in guest RAM", what,
			       (unsigned long long)gpa, (unsigned long long)len);
	memcpy(dst, src, len);
	return 0;
}

int kernel_place(const struct kernel_image *k, struct vm *vm, uint64_t rsdp_gpa,
		 struct kernel_entry *entry)
{
	int r;

	memset(entry, 0, sizeof(*entry));
	if (k->format == KERNEL_NONE)
		return err_set(-EINVAL, "no kernel opened");
	if ((r = kernel_copy(vm, KERNEL_GDT_ADDR, kernel_gdt, sizeof(kernel_gdt), "GDT")) < 0 ||
	    (r = kernel_copy(vm, KERNEL_CMDLINE_ADDR, k->cmdline, k->cmdline_len + 1,
			     "command line")) < 0)
		return r;
	if (k->initrd_name &&
	    (r = kernel_copy(vm, k->initrd_gpa, k->initrd, k->initrd_size, k->initrd_name)) < 0)
		return r;

	entry->format = k->format;
	entry->esp = KERNEL_STACK_TOP;
	entry->gdt_base = KERNEL_GDT_ADDR;
	entry->gdt_limit = sizeof(kernel_gdt) - 1;
	if (k->format == KERNEL_BZIMAGE) {
		struct bzimage_params p = {
			.cmdline_gpa = KERNEL_CMDLINE_ADDR,
			.initrd_gpa = k->initrd_gpa,
			.initrd_size = k->initrd_size,
			.rsdp_gpa = rsdp_gpa,
			.mem_size = k->mem_size,
		};

		r = bzimage_place(&k->u.bz, k->kernel, vm, &p, KERNEL_ZERO_PAGE_ADDR);
		entry->eip = KERNEL_LOAD_ADDR;
		entry->esi = KERNEL_ZERO_PAGE_ADDR;
	} else {
		struct pvh_params p = {
			.cmdline_gpa = KERNEL_CMDLINE_ADDR,
			.initrd_gpa = k->initrd_gpa,
			.initrd_size = k->initrd_size,
			.rsdp_gpa = rsdp_gpa,
			.mem_size = k->mem_size,
		};

		r = pvh_place(&k->u.pvh, k->kernel, vm, &p, KERNEL_START_INFO_ADDR);
		entry->eip = k->u.pvh.entry;
		entry->ebx = KERNEL_START_INFO_ADDR;
	}
	return r;
}

void kernel_entry_state(const struct kernel_entry *entry, struct kvm_sregs *s,
			struct kvm_regs *r)
{
	struct kvm_segment code = {
		.base = 0, .limit = 0xFFFFFFFF, .selector = KERNEL_CS,
		.type = 0xB, .present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
	struct kvm_segment data = code;
	struct kvm_segment tss = {
		.base = 0, .limit = 0x67, .selector = KERNEL_TSS,
		.type = 0xB, .present = 1, .s = 0,
	};

	data.selector = KERNEL_DS;
	data.type = 0x3;
	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->tr = tss;
	s->gdt.base = entry->gdt_base;
	s->gdt.limit = entry->gdt_limit;
	/* Protected mode, paging off, caches on; no PAE, no long mode yet. */
	s->cr0 = 0x11;		/* PE | ET */
	s->cr4 = 0;
	s->efer = 0;

	/* Both entries want the rest zero (boot.rst: EBP, EDI, EBX = 0). */
	memset(r, 0, sizeof(*r));
	r->rip = entry->eip;
	r->rsp = entry->esp;
	r->rsi = entry->esi;
	r->rbx = entry->ebx;
	r->rflags = 0x2;	/* IF clear: interrupts off */
}

int kernel_set_entry(struct vm *vm, const struct kernel_entry *entry)
{
	struct vmm_vcpu *bsp = vm_bsp(vm);
	struct kvm_sregs s;
	struct kvm_regs regs;
	int r;

	if ((r = vmm_get_sregs(bsp, &s)) < 0)
		return r;
	kernel_entry_state(entry, &s, &regs);
	if ((r = vmm_set_sregs(bsp, &s)) < 0)
		return r;
	return vmm_set_regs(bsp, &regs);
}
