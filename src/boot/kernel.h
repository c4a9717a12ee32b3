/*
 * kernel.h - boot a Linux kernel directly, without firmware: a bzImage
 * (Linux x86 boot protocol >= 2.06, 32-bit entry) or an uncompressed ELF
 * vmlinux with a Xen PVH entry note.  The format is told by the file's
 * first bytes.  docs/boot.md has the memory map and the entry states.
 *
 * Three steps, so everything but the last can be tested without KVM:
 *   kernel_open       read and check the files, decide where everything goes
 *   kernel_place      copy kernel, initrd, command line, boot_params or
 *                     hvm_start_info and a GDT into guest RAM (vm_gpa only)
 *   kernel_set_entry  set vCPU 0's registers (the only KVM calls)
 */
#ifndef HYVE_BOOT_KERNEL_H
#define HYVE_BOOT_KERNEL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/kvm.h>
#include <limits.h>
#include <stdbool.h>
#include "boot/bzimage.h"
#include "boot/kcache.h"
#include "boot/pvh.h"
#include "boot/reloc.h"

/* Where hyve puts things in low guest memory (both formats). */
#define KERNEL_GDT_ADDR		0x500		/* 5 descriptors, see below */
#define KERNEL_STACK_TOP	0x5000		/* ESP at entry; kernels set their own */
#define KERNEL_START_INFO_ADDR	0x6000		/* PVH: hvm_start_info, modlist, memmap */
#define KERNEL_ZERO_PAGE_ADDR	0x7000		/* bzImage: boot_params (4 KiB) */
#define KERNEL_PML4_ADDR	0x9000		/* 64-bit entry: identity map of 4 GiB, */
#define KERNEL_PDPT_ADDR	0xA000		/* 2 MiB pages: PML4, PDPT, */
#define KERNEL_PD_ADDR		0xB000		/* four page directories (to 0xEFFF) */
#define KERNEL_CMDLINE_ADDR	0x20000		/* command line, NUL-terminated */
#define KERNEL_CMDLINE_ROOM	0x10000		/* bytes reserved for it, NUL included */
#define KERNEL_LOAD_ADDR	0x100000	/* bzImage protected-mode code */
#define KERNEL_INITRD_ALIGN	0x1000

/* GDT selectors: Linux's __BOOT_CS / __BOOT_DS, and a TSS for TR. */
#define KERNEL_CS		0x10
#define KERNEL_DS		0x18
#define KERNEL_TSS		0x20
#define KERNEL_GDT_ENTRIES	5

enum kernel_format {
	KERNEL_NONE,
	KERNEL_BZIMAGE,		/* Linux boot protocol, 32-bit entry */
	KERNEL_PVH,		/* ELF vmlinux, XEN_ELFNOTE_PHYS32_ENTRY */
	KERNEL_DIRECT,		/* bzImage decompressed by hyve, 64-bit entry */
};

/* How to open a kernel (main's options; a zeroed struct: as before). */
struct kernel_opts {
	bool decompress;	/* a bzImage: decompress it here, enter it at 64 bits */
	bool cache;		/* ... through the kernel cache */
	const char *cache_dir;	/* NULL: kcache_default_dir */
	uint64_t cache_max;	/* bytes; 0: KCACHE_DEFAULT_MAX */
};

/* What loading cost (--stats): microseconds, and what happened. */
struct kernel_load_stats {
	const char *how;	/* "pvh", "bzimage" (guest decompresses), "direct" */
	const char *fmt;	/* compression, "" if none */
	const char *cache;	/* "hit", "miss", "rebuilt", "off", "unwritable" */
	uint64_t key_us, decompress_us, cache_write_us, place_us;
	bool kaslr;
	uint64_t kaslr_delta;	/* the kernel's virtual shift */
};

/* Where a loader reads a file's bytes from: memory, or the file (pread). */
struct kernel_src {
	const uint8_t *buf;	/* non-NULL: memory */
	int fd;			/* else: pread from here */
	const char *name;
};
/* Copy src[off, off+len) to dst.  0 or -errno (err_set). */
int kernel_src_read(const struct kernel_src *src, uint64_t off, void *dst, uint64_t len);

/* An opened, checked kernel (+ initrd + command line), ready to place. */
struct kernel_image {
	enum kernel_format format;
	const char *kernel_name;	/* for messages: the caller's strings */
	const char *initrd_name;	/* NULL: no initrd */
	const uint8_t *kernel;		/* file contents */
	size_t kernel_size;
	const uint8_t *initrd;
	size_t initrd_size;
	const char *cmdline;		/* never NULL ("" for none) */
	size_t cmdline_len;		/* without the NUL */
	uint64_t mem_size;
	uint64_t kernel_end;		/* end of all memory the kernel claims */
	uint64_t initrd_gpa;		/* 0: no initrd */
	union {
		struct bzimage bz;
		struct pvh_image pvh;
	} u;
	uint8_t *kernel_buf, *initrd_buf;	/* owned (unused: files are mapped/pread) */
	int kernel_fd, initrd_fd;	/* -1 when from memory */
	void *kernel_map;		/* the kernel file, mapped read-only */
	size_t kernel_map_len;
	/* KERNEL_DIRECT: the decompressed kernel */
	struct vmlinux vml;		/* offsets into dec, or into the cache entry */
	uint8_t *dec;			/* decompressed payload (no cache hit) */
	size_t dec_len;
	int cache_fd;			/* cache hit: the entry; else -1 */
	uint64_t cache_digest;
	bool use_cache;
	bool store_pending;		/* a miss: store it once placed */
	uint64_t cache_max;
	char cache_dir[PATH_MAX];
	char key[KCACHE_KEY_LEN + 1];
	struct kernel_load_stats st;
};

/* The boot CPU's state at the kernel's entry: 32-bit flat protected mode. */
struct kernel_entry {
	enum kernel_format format;
	uint64_t rip;			/* KERNEL_DIRECT: 64-bit entry (eip unused) */
	uint32_t cr3;			/* KERNEL_DIRECT: the identity map */
	uint32_t eip;
	uint32_t esp;
	uint32_t esi;			/* bzImage: boot_params */
	uint32_t ebx;			/* PVH: hvm_start_info */
	uint32_t gdt_base;
	uint16_t gdt_limit;
};

/*
 * Read and check kernel (and initrd, may be NULL) for a guest of mem_size
 * bytes; cmdline may be NULL.  No KVM needed.  The strings must outlive k.
 * 0 or -errno (err_set).  On failure k needs no kernel_close.
 */
int kernel_open(struct kernel_image *k, const char *kernel, const char *initrd,
		const char *cmdline, uint64_t mem_size);
/* The same with options (opts NULL: as kernel_open). */
int kernel_open_opts(struct kernel_image *k, const char *kernel, const char *initrd,
		     const char *cmdline, uint64_t mem_size, const struct kernel_opts *opts);
/* The same from memory (tests, fuzzing): the buffers must outlive k. */
int kernel_open_mem(struct kernel_image *k, const char *kernel_name,
		    const uint8_t *kernel, size_t kernel_size,
		    const char *initrd_name, const uint8_t *initrd,
		    size_t initrd_size, const char *cmdline, uint64_t mem_size);
void kernel_close(struct kernel_image *k);
/*
 * A cache miss is stored by a background thread once the kernel is in guest
 * RAM; this waits for every such store (before exit; tests).
 */
void kernel_cache_wait(void);

struct vm;
/*
 * Copy everything into guest RAM through vm_gpa() and fill *entry.
 * rsdp_gpa: the ACPI RSDP's address, 0 if none (the kernel then scans
 * 0xE0000-0xFFFFF).  No KVM ioctls.  0 or -errno (err_set).
 */
int kernel_place(struct kernel_image *k, struct vm *vm, uint64_t rsdp_gpa,
		 struct kernel_entry *entry);

/* Turn entry into register state: edits s (read from KVM first), fills r. */
void kernel_entry_state(const struct kernel_entry *entry, struct kvm_sregs *s,
			struct kvm_regs *r);
/* Set vCPU 0 to start at entry (vmm_get/set_sregs, vmm_set_regs). */
int kernel_set_entry(struct vm *vm, const struct kernel_entry *entry);

/* The GDT kernel_place writes at KERNEL_GDT_ADDR (and the 64-bit entry's). */
extern const uint64_t kernel_gdt[KERNEL_GDT_ENTRIES];
extern const uint64_t kernel_gdt64[KERNEL_GDT_ENTRIES];

/* Does the command line hold word (space-separated)? */
bool kernel_cmdline_has(const char *cmdline, const char *word);

/* --- helpers shared by the loaders --- */

/* "300 MiB", "1.5 MiB", "12 KiB", "100 bytes" into buf; returns buf. */
const char *kernel_fmt_size(char *buf, size_t len, uint64_t bytes);
/* A memory size as --memory takes it: "256M", "5G", "1536K". */
const char *kernel_fmt_mem(char *buf, size_t len, uint64_t bytes);

static inline uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

#endif
