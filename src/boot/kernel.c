/*
 * kernel.c - Linux direct boot: tell bzImage from ELF vmlinux, read the
 * files, place the initrd and the command line, and set the boot CPU's
 * entry state (see kernel.h, docs/boot.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include "boot/decomp.h"
#include "boot/e820.h"
#include "boot/kernel.h"
#include <xxhash.h>
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

/*
 * The 64-bit entry's GDT (boot.rst, "64-bit Boot Protocol"): __BOOT_CS a
 * 64-bit code segment, __BOOT_DS flat data, and the same TSS.
 */
const uint64_t kernel_gdt64[KERNEL_GDT_ENTRIES] = {
	0,
	0,
	0x00AF9B000000FFFFULL,	/* 0x10: code, execute/read, accessed, long mode (L=1, D=0) */
	0x00CF93000000FFFFULL,	/* 0x18: data, read/write, accessed */
	0x00008B0000000067ULL,	/* 0x20: TSS (busy), base 0, limit 0x67 */
};

static uint64_t now_us(void)
{
	return mono_ns() / 1000;
}

bool kernel_cmdline_has(const char *cmdline, const char *word)
{
	size_t l = strlen(word);

	for (const char *p = cmdline; p && *p; ) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, word, l) && (p[l] == ' ' || p[l] == '\0'))
			return true;
		p = strchr(p, ' ');
	}
	return false;
}

int kernel_src_read(const struct kernel_src *src, uint64_t off, void *dst, uint64_t len)
{
	uint8_t *d = dst;

	if (src->buf) {
		memcpy(dst, src->buf + off, len);
		return 0;
	}
	while (len) {
		ssize_t n = pread(src->fd, d, len > (1u << 30) ? (1u << 30) : len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return err_set(n < 0 ? -errno : -EIO, "%s: read at 0x%llx: %s", src->name,
				       (unsigned long long)off, n < 0 ? strerror(errno) : "file shrank");
		d += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

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
/* The bzImage's compressed payload: p, n (0 when it has none we can use). */
static const uint8_t *bz_payload(const struct kernel_image *k, size_t *n)
{
	const struct bzimage *bz = &k->u.bz;

	*n = 0;
	if (bz->version < 0x0208)
		return NULL;
	/* bzimage_parse checked that it lies inside the file. */
	*n = get32(k->kernel + BZ_PAYLOAD_LENGTH);
	return k->kernel + bz->kernel_off + get32(k->kernel + BZ_PAYLOAD_OFFSET);
}

/* Decompress the payload into k->dec and parse it into k->vml. */
static int kernel_decompress(struct kernel_image *k)
{
	size_t n;
	const uint8_t *p = bz_payload(k, &n);
	uint64_t t = now_us();
	int r;

	r = decomp_payload(k->kernel_name, p, n, k->mem_size, &k->dec, &k->dec_len);
	if (r == 0)
		r = vmlinux_parse(k->kernel_name, k->dec, k->dec_len, &k->vml);
	k->st.decompress_us += now_us() - t;
	if (r < 0) {
		decomp_free(k->dec, k->dec_len);
		k->dec = NULL;
		k->dec_len = 0;
	}
	return r;
}

static void kernel_cache_store(struct kernel_image *k)
{
	uint64_t t = now_us();

	if (kcache_store(k->cache_dir, k->key, &k->vml, k->dec, k->cache_max) < 0)
		k->st.cache = "unwritable";
	k->st.cache_write_us += now_us() - t;
}

/*
 * Storing a new entry is off the boot's critical path: once the kernel is
 * in guest RAM, a thread writes the entry from the decompressed buffer
 * (which it then frees) while the guest boots; kernel_cache_wait() joins
 * it before hyve exits.
 */
struct store_job {
	char dir[PATH_MAX];
	char key[KCACHE_KEY_LEN + 1];
	struct vmlinux vml;
	uint8_t *dec;
	size_t dec_len;
	uint64_t max;
};

#define MAX_STORES 4
static pthread_t stores[MAX_STORES];
static int nstores;
static pthread_mutex_t stores_lock = PTHREAD_MUTEX_INITIALIZER;

static void *store_main(void *arg)
{
	struct store_job *j = arg;

	kcache_store(j->dir, j->key, &j->vml, j->dec, j->max);
	decomp_free(j->dec, j->dec_len);
	free(j);
	return NULL;
}

static void kernel_cache_store_async(struct kernel_image *k)
{
	struct store_job *j = malloc(sizeof(*j));
	bool started = false;

	if (j) {
		memcpy(j->dir, k->cache_dir, sizeof(j->dir));
		memcpy(j->key, k->key, sizeof(j->key));
		j->vml = k->vml;
		j->dec = k->dec;
		j->dec_len = k->dec_len;
		j->max = k->cache_max;
		pthread_mutex_lock(&stores_lock);
		if (nstores < MAX_STORES && pthread_create(&stores[nstores], NULL, store_main, j) == 0) {
			nstores++;
			started = true;
		}
		pthread_mutex_unlock(&stores_lock);
	}
	if (!started) {
		free(j);
		kernel_cache_store(k);
		return;
	}
	k->dec = NULL;		/* the thread owns it now */
	k->dec_len = 0;
}

void kernel_cache_wait(void)
{
	pthread_mutex_lock(&stores_lock);
	while (nstores > 0)
		pthread_join(stores[--nstores], NULL);
	pthread_mutex_unlock(&stores_lock);
}

/*
 * A bzImage whose payload hyve can decompress becomes KERNEL_DIRECT: from
 * the cache, or decompressed now (and stored).  Others stay KERNEL_BZIMAGE
 * (the guest decompresses itself).
 */
static int kernel_direct_prepare(struct kernel_image *k, const struct kernel_opts *o)
{
	struct kcache_hdr h;
	size_t n;
	const uint8_t *p = bz_payload(k, &n);
	int r, fd;

	k->st.how = "bzimage";
	if (!o || !o->decompress || !p || decomp_detect(p, n) == DECOMP_UNKNOWN)
		return 0;
	k->st.how = "direct";
	k->st.fmt = decomp_name(decomp_detect(p, n));
	k->st.cache = "off";
	k->cache_max = o->cache_max ? o->cache_max : KCACHE_DEFAULT_MAX;
	k->use_cache = o->cache;
	if (k->use_cache && o->cache_dir) {
		if ((size_t)snprintf(k->cache_dir, sizeof(k->cache_dir), "%s", o->cache_dir) >=
		    sizeof(k->cache_dir))
			return err_set(-ENAMETOOLONG, "--kernel-cache: path too long");
	} else if (k->use_cache && kcache_default_dir(k->cache_dir, sizeof(k->cache_dir)) < 0) {
		k->use_cache = false;		/* no home: no cache */
	}
	if (k->use_cache) {
		uint64_t t = now_us();

		kcache_key(k->kernel, k->kernel_size, k->key);
		k->st.key_us = now_us() - t;
		r = kcache_lookup(k->cache_dir, k->key, &fd, &h);
		if (r == 0) {
			k->cache_fd = fd;
			k->vml = h.vm;
			k->cache_digest = h.digest;
			k->st.cache = "hit";
		} else {
			k->st.cache = r == -ENOENT ? "miss" : "rebuilt";
		}
	}
	if (k->cache_fd < 0) {
		if ((r = kernel_decompress(k)) < 0)
			return r;
		k->store_pending = k->use_cache;	/* once it is in guest RAM */
	}
	k->format = KERNEL_DIRECT;
	if (k->vml.image_end > k->kernel_end)
		k->kernel_end = k->vml.image_end;
	if (!e820_is_ram(k->mem_size, k->vml.link_base, k->vml.image_end - k->vml.link_base)) {
		char mem[32];

		return err_set(-EFBIG, "%s: kernel needs %llu MiB (init_size) but --memory is %s",
			       k->kernel_name, (unsigned long long)((k->kernel_end + (1 << 20) - 1) >> 20),
			       kernel_fmt_mem(mem, sizeof(mem), k->mem_size));
	}
	return 0;
}

/*
 * Parse the kernel, check the command line, and choose the initrd's place
 * (its size is known before its bytes are read: a big initrd that cannot
 * fit is refused without reading it).
 */
static int kernel_prepare(struct kernel_image *k, const struct kernel_opts *o)
{
	static const uint8_t elf_magic[4] = { 0x7f, 'E', 'L', 'F' };
	uint64_t cmdline_max, limit, gpa;
	char a[32], b[32];
	int r;

	if (k->kernel_size >= 4 && memcmp(k->kernel, elf_magic, 4) == 0) {
		k->format = KERNEL_PVH;
		k->st.how = "pvh";
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
		if ((r = kernel_direct_prepare(k, o)) < 0)
			return r;
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
	k->kernel_fd = k->initrd_fd = k->cache_fd = -1;
	k->st.fmt = "";
	k->st.cache = "off";
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
	r = kernel_prepare(k, NULL);
	if (r < 0)
		k->format = KERNEL_NONE;
	return r;
}

int kernel_open(struct kernel_image *k, const char *kernel, const char *initrd,
		const char *cmdline, uint64_t mem_size)
{
	return kernel_open_opts(k, kernel, initrd, cmdline, mem_size, NULL);
}

/*
 * The files are not read here: the kernel is mapped (its headers parsed in
 * place, a bzImage's payload decompressed from the mapping), and what goes
 * into guest RAM is pread straight there by kernel_place.
 */
int kernel_open_opts(struct kernel_image *k, const char *kernel, const char *initrd,
		     const char *cmdline, uint64_t mem_size, const struct kernel_opts *opts)
{
	size_t size;
	void *map;
	int r;

	kernel_init(k, kernel, initrd, cmdline, mem_size);
	if ((r = kernel_open_file(kernel, mem_size, &k->kernel_fd, &size)) < 0)
		return r;
	map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, k->kernel_fd, 0);
	if (map == MAP_FAILED) {
		r = err_set(-errno, "%s: %s", kernel, strerror(errno));
		goto fail;
	}
	k->kernel_map = map;
	k->kernel_map_len = size;
	k->kernel = map;
	k->kernel_size = size;
	/* No size cap here: kernel_prepare says where an initrd would not fit. */
	if (initrd && (r = kernel_open_file(initrd, SIZE_MAX, &k->initrd_fd, &k->initrd_size)) < 0)
		goto fail;
	if ((r = kernel_prepare(k, opts)) < 0)
		goto fail;
	return 0;
fail:
	kernel_close(k);
	return r;
}

void kernel_close(struct kernel_image *k)
{
	free(k->kernel_buf);
	free(k->initrd_buf);
	k->kernel_buf = k->initrd_buf = NULL;
	if (k->kernel_map)
		munmap(k->kernel_map, k->kernel_map_len);
	k->kernel_map = NULL;
	decomp_free(k->dec, k->dec_len);
	k->dec = NULL;
	k->dec_len = 0;
	close_if_open(k->kernel_fd);
	close_if_open(k->initrd_fd);
	close_if_open(k->cache_fd);
	k->kernel_fd = k->initrd_fd = k->cache_fd = -1;
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

/* An identity map of the low 4 GiB in 2 MiB pages, for the 64-bit entry. */
static int kernel_page_tables(struct vm *vm)
{
	uint64_t *pml4 = vm_gpa(vm, KERNEL_PML4_ADDR, 4096);
	uint64_t *pdpt = vm_gpa(vm, KERNEL_PDPT_ADDR, 4096);
	uint64_t *pd = vm_gpa(vm, KERNEL_PD_ADDR, 4 * 4096);

	if (!pml4 || !pdpt || !pd)
		return err_set(-ENOSPC, "page tables at 0x%x are not in guest RAM", KERNEL_PML4_ADDR);
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = KERNEL_PDPT_ADDR | 0x3;		/* present, writable */
	for (uint64_t i = 0; i < 4; i++)
		pdpt[i] = (KERNEL_PD_ADDR + i * 4096) | 0x3;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | 0x83;		/* present, writable, 2 MiB page */
	return 0;
}

/*
 * The decompressed kernel's segments into guest RAM: from the decompressed
 * buffer, or pread from the cache entry and hashed in place; the relocation
 * table in *relocs (*owned: malloc'd, from the cache).  -EBADMSG: the cache
 * entry's digest does not match.
 */
static int kernel_load_vmlinux(struct kernel_image *k, struct vm *vm, const uint8_t **relocs,
			       uint8_t **owned)
{
	struct kernel_src src = { .buf = k->dec, .fd = k->cache_fd, .name = k->kernel_name };
	XXH3_state_t *st = NULL;
	int r = 0;

	*relocs = NULL;
	*owned = NULL;
	if (!k->dec && (st = XXH3_createState()) == NULL)
		return err_set(-ENOMEM, "out of memory");
	if (st)
		XXH3_64bits_reset(st);
	for (int i = 0; i < k->vml.nseg && r == 0; i++) {
		const struct vmlinux_seg *s = &k->vml.seg[i];
		uint8_t *dst = vm_gpa(vm, s->paddr, s->memsz);

		if (!dst) {
			r = err_set(-ENOSPC, "kernel segment 0x%llx+0x%llx is not in guest RAM",
				    (unsigned long long)s->paddr, (unsigned long long)s->memsz);
			break;
		}
		if ((r = kernel_src_read(&src, s->off, dst, s->filesz)) < 0)
			break;
		if (st)
			XXH3_64bits_update(st, dst, s->filesz);
		if (s->memsz > s->filesz)
			memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
	if (r == 0 && k->vml.relocs_len) {
		if (k->dec) {
			*relocs = k->dec + k->vml.relocs_off;
		} else if (!(*owned = malloc(k->vml.relocs_len))) {
			r = err_set(-ENOMEM, "out of memory");
		} else if ((r = kernel_src_read(&src, k->vml.relocs_off, *owned, k->vml.relocs_len)) == 0) {
			XXH3_64bits_update(st, *owned, k->vml.relocs_len);
			*relocs = *owned;
		}
	}
	if (r == 0 && st && XXH3_64bits_digest(st) != k->cache_digest)
		r = -EBADMSG;
	XXH3_freeState(st);
	if (r < 0) {
		free(*owned);
		*owned = NULL;
	}
	return r;
}

static uint64_t kernel_random(void)
{
	uint64_t v;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v))
		v = mono_ns() * 0x9E3779B97F4A7C15ULL;
	return v;
}

/* KERNEL_DIRECT: page tables, GDT, zero page, segments, relocations. */
static int kernel_place_direct(struct kernel_image *k, struct vm *vm,
			       const struct boot_info *p, struct kernel_entry *entry)
{
	uint8_t *zp = vm_gpa(vm, KERNEL_ZERO_PAGE_ADDR, BP_SIZE), *owned = NULL;
	const uint8_t *relocs;
	int r;

	if (!zp)
		return err_set(-ENOSPC, "boot_params at 0x%x is not in guest RAM", KERNEL_ZERO_PAGE_ADDR);
	if ((r = kernel_page_tables(vm)) < 0 ||
	    (r = kernel_copy(vm, KERNEL_GDT_ADDR, kernel_gdt64, sizeof(kernel_gdt64), "GDT")) < 0)
		return r;
	bzimage_zero_page(&k->u.bz, k->kernel, p, zp);

	r = kernel_load_vmlinux(k, vm, &relocs, &owned);
	if (r == -EBADMSG) {		/* a corrupt cache entry: rebuild it */
		kcache_remove(k->cache_dir, k->key);
		close(k->cache_fd);
		k->cache_fd = -1;
		k->st.cache = "rebuilt";
		if ((r = kernel_decompress(k)) < 0)
			return r;
		k->store_pending = true;
		r = kernel_load_vmlinux(k, vm, &relocs, &owned);
	}
	if (r < 0)
		return r;

	/* KASLR, as the kernel's decompressor does it, unless the command line says nokaslr. */
	if (k->vml.relocs_len && !kernel_cmdline_has(k->cmdline, "nokaslr")) {
		uint64_t align = get32(k->kernel + BZ_KERNEL_ALIGNMENT);
		uint64_t size = k->vml.image_end - k->vml.link_base;
		uint64_t len = k->vml.file_end - k->vml.link_base;
		uint8_t *img = vm_gpa(vm, k->vml.link_base, len);

		if (align < 4096 || (align & (align - 1)))
			align = 2 << 20;
		if (k->vml.payload_len > size)
			size = k->vml.payload_len;
		k->st.kaslr_delta = reloc_pick_delta(k->vml.link_base, size, align, kernel_random());
		r = img ? reloc_apply(k->kernel_name, img, len, k->vml.link_base, relocs,
				      k->vml.relocs_len, k->st.kaslr_delta)
			: err_set(-ENOSPC, "kernel is not in guest RAM");
		if (r == 0) {
			k->st.kaslr = true;
			zp[BZ_LOADFLAGS] |= BZ_KASLR_FLAG;
		}
	}
	free(owned);
	if (r < 0)
		return r;
	if (k->store_pending) {		/* relocs pointed into dec: done with it here */
		k->store_pending = false;
		kernel_cache_store_async(k);
	}
	entry->rip = k->vml.entry;
	entry->cr3 = KERNEL_PML4_ADDR;
	entry->esi = KERNEL_ZERO_PAGE_ADDR;
	entry->gdt_limit = sizeof(kernel_gdt64) - 1;
	return 0;
}

int kernel_place(struct kernel_image *k, struct vm *vm, uint64_t rsdp_gpa,
		 struct kernel_entry *entry)
{
	struct kernel_src ksrc = { .buf = k->kernel_fd < 0 ? k->kernel : NULL, .fd = k->kernel_fd,
				   .name = k->kernel_name };
	struct kernel_src isrc = { .buf = k->initrd, .fd = k->initrd_fd, .name = k->initrd_name };
	struct boot_info p = {
		.cmdline_gpa = KERNEL_CMDLINE_ADDR,
		.initrd_gpa = k->initrd_gpa,
		.initrd_size = k->initrd_size,
		.rsdp_gpa = rsdp_gpa,
		.mem_size = k->mem_size,
	};
	uint64_t t = now_us();
	int r;

	memset(entry, 0, sizeof(*entry));
	if (k->format == KERNEL_NONE)
		return err_set(-EINVAL, "no kernel opened");
	if ((r = kernel_copy(vm, KERNEL_GDT_ADDR, kernel_gdt, sizeof(kernel_gdt), "GDT")) < 0 ||
	    (r = kernel_copy(vm, KERNEL_CMDLINE_ADDR, k->cmdline, k->cmdline_len + 1,
			     "command line")) < 0)
		return r;
	if (k->initrd_name) {
		void *dst = vm_gpa(vm, k->initrd_gpa, k->initrd_size);

		if (!dst)
			return err_set(-ENOSPC, "%s at 0x%llx+0x%llx is not in guest RAM", k->initrd_name,
				       (unsigned long long)k->initrd_gpa,
				       (unsigned long long)k->initrd_size);
		if ((r = kernel_src_read(&isrc, 0, dst, k->initrd_size)) < 0)
			return r;
	}

	entry->format = k->format;
	entry->esp = KERNEL_STACK_TOP;
	entry->gdt_base = KERNEL_GDT_ADDR;
	entry->gdt_limit = sizeof(kernel_gdt) - 1;
	if (k->format == KERNEL_DIRECT) {
		r = kernel_place_direct(k, vm, &p, entry);
	} else if (k->format == KERNEL_BZIMAGE) {
		r = bzimage_place(&k->u.bz, k->kernel, &ksrc, vm, &p, KERNEL_ZERO_PAGE_ADDR);
		entry->eip = KERNEL_LOAD_ADDR;
		entry->esi = KERNEL_ZERO_PAGE_ADDR;
	} else {
		r = pvh_place(&k->u.pvh, &ksrc, vm, &p, KERNEL_START_INFO_ADDR);
		entry->eip = k->u.pvh.entry;
		entry->ebx = KERNEL_START_INFO_ADDR;
	}
	k->st.place_us = now_us() - t;
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
	if (entry->format == KERNEL_DIRECT) {
		code.l = 1;		/* 64-bit code segment */
		code.db = 0;
	}
	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->tr = tss;
	s->gdt.base = entry->gdt_base;
	s->gdt.limit = entry->gdt_limit;
	if (entry->format == KERNEL_DIRECT) {
		/* Long mode, paging on the identity map (boot.rst, 64-bit protocol). */
		s->cr0 = 0x80050033;	/* PG | AM | WP | NE | ET | MP | PE */
		s->cr3 = entry->cr3;
		s->cr4 = 0x20;		/* PAE */
		s->efer = 0x500;	/* LME | LMA */
	} else {
		/* Protected mode, paging off, caches on; no PAE, no long mode yet. */
		s->cr0 = 0x11;		/* PE | ET */
		s->cr4 = 0;
		s->efer = 0;
	}

	/* Both entries want the rest zero (boot.rst: EBP, EDI, EBX = 0). */
	memset(r, 0, sizeof(*r));
	r->rip = entry->format == KERNEL_DIRECT ? entry->rip : entry->eip;
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
