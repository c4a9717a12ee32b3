/*
 * test_kboot.c - hyve decompresses a bzImage itself (src/boot/decomp.c),
 * keeps the result in the kernel cache (src/boot/kcache.c), applies the
 * kernel's relocations for KASLR (src/boot/reloc.c) and enters it at 64
 * bits (src/boot/kernel.c).  No KVM: the payloads are built here with the
 * same libraries, the guest is RAM without a VM.
 */
#include "unit.h"
#include <bzlib.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <lz4.h>
#include <lzma.h>
#include <lzo/lzo1x.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include "boot/decomp.h"
#include "boot/kcache.h"
#include "boot/kernel.h"
#include "boot/reloc.h"
#include "err.h"
#include "vm.h"
#include "testvm.h"

#define MiB (1ULL << 20)
#define LINK 0x1000000ULL		/* LOAD_PHYSICAL_ADDR */
#define VIRT(p) (KERNEL_START_MAP + (p))


/* ---- a guest without KVM (testvm.h: guest_vm, free_vm) ---- */

static uint8_t *gpa(uint64_t a)
{
	return vm_gpa(guest, a, 1);
}

/* ---- a synthetic decompressed kernel: ELF64 + relocation table ---- */

#define SEG0 0x3000		/* text: at LINK */
#define SEG1 0x2000		/* data: at LINK + 2 MiB, memsz SEG1 + 0x1000 (bss) */

/* Field offsets (from LINK) the relocation table names. */
#define R64	0x100		/* a 64-bit pointer to LINK + 0x800 */
#define RINV	0x200		/* a 32-bit inverse relocation */
#define R32	0x300		/* a 32-bit sign-extended pointer */
#define R64B	(0x200000 + 0x10)	/* in the data segment */

static uint8_t *make_vmlinux(size_t *size, bool relocs)
{
	size_t off0 = 0x1000, off1 = off0 + SEG0, end = off1 + SEG1;
	size_t n = end + (relocs ? 4 * 7 : 0);
	uint8_t *p = calloc(1, n);
	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB, EV_CURRENT },
		.e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
		.e_entry = LINK + 0x40, .e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(Elf64_Ehdr),
		.e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 2,
	};
	Elf64_Phdr ph[2] = {
		{ .p_type = PT_LOAD, .p_offset = off0, .p_vaddr = VIRT(LINK), .p_paddr = LINK,
		  .p_filesz = SEG0, .p_memsz = SEG0, .p_align = 0x200000 },
		{ .p_type = PT_LOAD, .p_offset = off1, .p_vaddr = VIRT(LINK + 0x200000),
		  .p_paddr = LINK + 0x200000, .p_filesz = SEG1, .p_memsz = SEG1 + 0x1000, .p_align = 0x200000 },
	};

	assert_non_null(p);
	memcpy(p, &eh, sizeof(eh));
	memcpy(p + sizeof(eh), ph, sizeof(ph));
	for (size_t i = off0; i < end; i++)
		p[i] = (uint8_t)(i * 13 + 1);
	put64(p + off0 + R64, VIRT(LINK + 0x800));
	put32(p + off0 + RINV, 0x1000);
	put32(p + off0 + R32, (uint32_t)VIRT(LINK + 0x900));
	put64(p + off1 + (R64B - 0x200000), VIRT(LINK + 0x200100));
	if (relocs) {
		uint8_t *r = p + end;
		uint32_t t[7] = { 0, (uint32_t)VIRT(LINK + R64), (uint32_t)VIRT(LINK + R64B), 0,
				  (uint32_t)VIRT(LINK + RINV), 0, (uint32_t)VIRT(LINK + R32) };

		for (int i = 0; i < 7; i++)
			put32(r + 4 * i, t[i]);
	}
	*size = n;
	return p;
}

/* ---- each compressor, as the kernel's Makefile uses it, + the size trailer ---- */

static uint8_t *trailer(uint8_t *out, size_t *n, size_t raw)
{
	out = realloc(out, *n + 4);
	assert_non_null(out);
	put32(out + *n, (uint32_t)raw);
	*n += 4;
	return out;
}

static uint8_t *pack(enum decomp_fmt f, const uint8_t *in, size_t n, size_t *outn)
{
	size_t cap = n * 2 + 65536;
	uint8_t *out = malloc(cap);
	size_t len = 0;

	assert_non_null(out);
	switch (f) {
	case DECOMP_GZIP: {
		z_stream z = { 0 };

		assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
		z.next_in = (Bytef *)in;
		z.avail_in = (uInt)n;
		z.next_out = out;
		z.avail_out = (uInt)cap;
		assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
		len = z.total_out;
		deflateEnd(&z);
		*outn = len;
		return out;		/* gzip's ISIZE is the trailer */
	}
	case DECOMP_BZIP2: {
		unsigned l = (unsigned)cap;

		assert_int_equal(BZ2_bzBuffToBuffCompress((char *)out, &l, (char *)in, (unsigned)n, 9, 0, 0), BZ_OK);
		len = l;
		break;
	}
	case DECOMP_LZMA: {
		lzma_stream s = LZMA_STREAM_INIT;
		lzma_options_lzma opt;

		lzma_lzma_preset(&opt, 6);
		assert_int_equal(lzma_alone_encoder(&s, &opt), LZMA_OK);
		s.next_in = in;
		s.avail_in = n;
		s.next_out = out;
		s.avail_out = cap;
		assert_int_equal(lzma_code(&s, LZMA_FINISH), LZMA_STREAM_END);
		len = s.total_out;
		lzma_end(&s);
		break;
	}
	case DECOMP_XZ:
		assert_int_equal(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, in, n, out, &len, cap), LZMA_OK);
		break;
	case DECOMP_LZO: {
		static const uint8_t magic[9] = { 0x89, 'L', 'Z', 'O', 0, 0x0d, 0x0a, 0x1a, 0x0a };
		uint8_t *wrk = malloc(LZO1X_1_MEM_COMPRESS), *h = out;

		assert_int_equal(lzo_init(), LZO_E_OK);
		memcpy(h, magic, 9);
		h += 9;
		*h++ = 0x10; *h++ = 0x30;		/* version 0x1030 */
		*h++ = 0x20; *h++ = 0xa0;		/* library version */
		*h++ = 0x09; *h++ = 0x40;		/* version needed */
		*h++ = 1; *h++ = 5;			/* method LZO1X_1, level */
		memcpy(h, "\0\0\0\x01", 4); h += 4;	/* flags: ADLER32_D */
		memset(h, 0, 12); h += 12;		/* mode, mtime */
		*h++ = 0;				/* no name */
		memset(h, 0, 4); h += 4;		/* header checksum (not checked) */
		for (size_t o = 0; o < n; ) {
			size_t bl = n - o < 65536 ? n - o : 65536;
			lzo_uint cl = 0;
			uint32_t a = lzo_adler32(1, in + o, bl);
			uint8_t *c = h + 12;

			assert_int_equal(lzo1x_1_compress(in + o, bl, c, &cl, wrk), LZO_E_OK);
			if (cl >= bl) {
				memcpy(c, in + o, bl);
				cl = bl;
			}
			uint8_t hd[12] = { bl >> 24, bl >> 16, bl >> 8, bl, cl >> 24, cl >> 16, cl >> 8, cl,
					   a >> 24, a >> 16, a >> 8, a };
			memcpy(h, hd, 12);
			h += 12 + cl;
			o += bl;
		}
		memset(h, 0, 4); h += 4;		/* end of blocks */
		len = (size_t)(h - out);
		free(wrk);
		break;
	}
	case DECOMP_LZ4: {
		uint8_t *o = out;

		put32(o, 0x184C2102); o += 4;
		for (size_t i = 0; i < n; ) {
			size_t bl = n - i < (8u << 20) ? n - i : (8u << 20);
			int c = LZ4_compress_default((const char *)in + i, (char *)o + 4, (int)bl,
						     LZ4_compressBound((int)bl));

			assert_true(c > 0);
			put32(o, (uint32_t)c);
			o += 4 + c;
			i += bl;
		}
		len = (size_t)(o - out);
		break;
	}
	case DECOMP_ZSTD: {
		ZSTD_CCtx *c = ZSTD_createCCtx();

		ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
		len = ZSTD_compress2(c, out, cap, in, n);
		assert_false(ZSTD_isError(len));
		ZSTD_freeCCtx(c);
		break;
	}
	default:
		fail();
	}
	*outn = len;
	return trailer(out, outn, n);
}

static const enum decomp_fmt all_fmts[] = {
	DECOMP_GZIP, DECOMP_BZIP2, DECOMP_LZMA, DECOMP_XZ, DECOMP_LZO, DECOMP_LZ4, DECOMP_ZSTD,
};
#define NFMT (sizeof(all_fmts) / sizeof(all_fmts[0]))

/* ---- decompression ---- */

static void test_decompress_each_format(void **state)
{
	size_t n = 300000, cn, on;
	uint8_t *raw = malloc(n), *c, *out;

	for (size_t i = 0; i < n; i++)
		raw[i] = (uint8_t)((i * 2654435761u) >> (i % 7 ? 24 : 3));
	for (size_t i = 0; i < NFMT; i++) {
		c = pack(all_fmts[i], raw, n, &cn);
		assert_int_equal(decomp_detect(c, cn), all_fmts[i]);
		if (decomp_payload("vmlinuz", c, cn, 1ULL << 30, &out, &on) < 0)
			fail_msg("%s: %s", decomp_name(all_fmts[i]), err_msg());
		assert_int_equal(on, n);
		assert_memory_equal(out, raw, n);
		decomp_free(out, on);
		free(c);
	}
	free(raw);
}

static void test_decompress_truncated_and_corrupt(void **state)
{
	size_t n = 200000, cn, on;
	uint8_t *raw = malloc(n), *c, *out;

	for (size_t i = 0; i < n; i++)
		raw[i] = (uint8_t)(i % 251 ^ (i >> 9));
	for (size_t i = 0; i < NFMT; i++) {
		enum decomp_fmt f = all_fmts[i];
		uint8_t *t;

		c = pack(f, raw, n, &cn);
		/* truncated: the stream's second half gone, the trailer kept */
		t = malloc(cn);
		memcpy(t, c, cn / 2);
		memcpy(t + cn / 2, c + cn - 4, 4);
		out = (uint8_t *)1;
		assert_true(decomp_payload("vmlinuz", t, cn / 2 + 4, 1ULL << 30, &out, &on) < 0);
		assert_null(out);
		assert_non_null(strstr(err_msg(), "vmlinuz: "));
		assert_non_null(strstr(err_msg(), decomp_name(f)));
		/* a trailer that does not match the stream */
		memcpy(t, c, cn);
		put32(t + cn - 4, (uint32_t)n + 1);
		if (f == DECOMP_GZIP)		/* gzip's trailer is checked by zlib */
			put32(t + cn - 4, (uint32_t)n - 1);
		assert_true(decomp_payload("vmlinuz", t, cn, 1ULL << 30, &out, &on) < 0);
		assert_null(out);
		/* a flipped byte mid-stream, where the format has a checksum */
		if (f != DECOMP_LZ4 && f != DECOMP_LZMA) {
			memcpy(t, c, cn);
			t[cn / 2] ^= 0x55;
			assert_true(decomp_payload("vmlinuz", t, cn, 1ULL << 30, &out, &on) < 0);
			assert_null(out);
		}
		/* a size over the limit */
		assert_int_equal(decomp_payload("vmlinuz", c, cn, n - 1, &out, &on), -EFBIG);
		free(t);
		free(c);
	}
	assert_int_equal(decomp_payload("vmlinuz", (const uint8_t *)"nothing known here", 18,
					1ULL << 30, &out, &on), -ENOTSUP);
	assert_non_null(strstr(err_msg(), "unknown compression format"));
	free(raw);
}

/* ---- relocations ---- */

static void test_vmlinux_parse(void **state)
{
	size_t n;
	uint8_t *p = make_vmlinux(&n, true);
	struct vmlinux v;

	assert_int_equal(vmlinux_parse("k", p, n, &v), 0);
	assert_int_equal(v.nseg, 2);
	assert_int_equal(v.link_base, LINK);
	assert_int_equal(v.entry, LINK + 0x40);
	assert_int_equal(v.image_end, LINK + 0x200000 + SEG1 + 0x1000);
	assert_int_equal(v.file_end, LINK + 0x200000 + SEG1);
	assert_int_equal(v.relocs_len, 28);
	assert_int_equal(v.relocs_off, n - 28);
	free(p);
	p = make_vmlinux(&n, false);
	assert_int_equal(vmlinux_parse("k", p, n, &v), 0);
	assert_int_equal(v.relocs_len, 0);
	/* junk after the ELF is not a table */
	p = realloc(p, n + 8);
	memset(p + n, 0xab, 8);
	assert_int_equal(vmlinux_parse("k", p, n + 8, &v), -ENOEXEC);
	assert_non_null(strstr(err_msg(), "not a relocation table"));
	/* not ELF */
	p[0] = 0;
	assert_int_equal(vmlinux_parse("k", p, n, &v), -ENOEXEC);
	free(p);
}

static void test_reloc_synthetic(void **state)
{
	size_t n;
	uint8_t *p = make_vmlinux(&n, true);
	uint64_t len = 0x200000 + SEG1, delta = 0x2400000;
	uint8_t *img = calloc(1, len), *copy = malloc(len);
	const uint8_t *rel = p + n - 28;

	memcpy(img, p + 0x1000, SEG0);
	memcpy(img + 0x200000, p + 0x1000 + SEG0, SEG1);
	memcpy(copy, img, len);
	assert_int_equal(reloc_apply("k", img, len, LINK, rel, 28, delta), 0);
	assert_int_equal(get64(img + R64), VIRT(LINK + 0x800) + delta);
	assert_int_equal(get64(img + R64B), VIRT(LINK + 0x200100) + delta);
	assert_int_equal(get32(img + RINV), (uint32_t)(0x1000 - delta));
	assert_int_equal(get32(img + R32), (uint32_t)(VIRT(LINK + 0x900) + delta));
	/* nothing else moved */
	put64(img + R64, get64(copy + R64));
	put64(img + R64B, get64(copy + R64B));
	put32(img + RINV, get32(copy + RINV));
	put32(img + R32, get32(copy + R32));
	assert_memory_equal(img, copy, len);
	/* delta 0: the table is checked, nothing changes */
	assert_int_equal(reloc_apply("k", img, len, LINK, rel, 28, 0), 0);
	assert_memory_equal(img, copy, len);

	/* an entry outside the image: refused before anything is touched */
	uint8_t bad[28];
	memcpy(bad, rel, 28);
	put32(bad + 4, (uint32_t)VIRT(LINK + len - 4));	/* 64-bit field past the end */
	assert_int_equal(reloc_apply("k", img, len, LINK, bad, 28, delta), -ENOEXEC);
	assert_non_null(strstr(err_msg(), "64-bit relocation"));
	assert_memory_equal(img, copy, len);
	put32(bad + 4, (uint32_t)VIRT(LINK - 0x1000));	/* below the kernel */
	assert_int_equal(reloc_apply("k", img, len, LINK, bad, 28, delta), -ENOEXEC);
	assert_memory_equal(img, copy, len);
	/* a missing terminator, stray entries, a bad length */
	memcpy(bad, rel, 28);
	put32(bad + 12, 0x81000000);
	assert_int_equal(reloc_apply("k", img, len, LINK, bad, 28, delta), -ENOEXEC);
	memcpy(bad, rel, 28);
	put32(bad, 0x81000000);
	assert_int_equal(reloc_apply("k", img, len, LINK, bad, 28, delta), -ENOEXEC);
	assert_int_equal(reloc_apply("k", img, len, LINK, rel, 26, delta), -ENOEXEC);
	assert_memory_equal(img, copy, len);

	/* the random offset: aligned, inside the 1 GiB kernel map */
	for (uint64_t r = 0; r < 2000; r += 7) {
		uint64_t d = reloc_pick_delta(LINK, 40 * MiB, 2 * MiB, r * 0x9E3779B97F4A7C15ULL);
		assert_int_equal(d % (2 * MiB), 0);
		assert_true(LINK + d + 40 * MiB <= KERNEL_IMAGE_SIZE_KASLR);
	}
	assert_int_equal(reloc_pick_delta(LINK, 2ULL << 30, 2 * MiB, 12345), 0);
	free(img);
	free(copy);
	free(p);
}

/* ---- bzImages with a compressed payload, through kernel_open_opts ---- */

/* A bzImage (protocol 2.15) whose payload is vmlinux compressed with f. */
static uint8_t *make_bz(enum decomp_fmt f, const uint8_t *vml, size_t vn, size_t *size,
			size_t *plen)
{
	size_t setup = 5 * 512, cn;
	uint8_t *c = pack(f, vml, vn, &cn);
	uint8_t *d = calloc(1, setup + 0x100 + cn);

	d[BZ_SETUP_SECTS] = 4;
	put16(d + BZ_BOOT_FLAG, 0xAA55);
	d[BZ_JUMP] = 0xEB;
	d[BZ_JUMP + 1] = 0x6A;
	memcpy(d + BZ_HEADER, "HdrS", 4);
	put16(d + BZ_VERSION, 0x020F);
	d[BZ_LOADFLAGS] = BZ_LOADED_HIGH;
	put32(d + BZ_INITRD_ADDR_MAX, 0x7FFFFFFF);
	put32(d + BZ_KERNEL_ALIGNMENT, 0x200000);
	d[BZ_RELOCATABLE] = 1;
	put32(d + BZ_CMDLINE_SIZE, 2047);
	put32(d + BZ_PAYLOAD_OFFSET, 0x100);
	put32(d + BZ_PAYLOAD_LENGTH, (uint32_t)cn);
	put64(d + BZ_PREF_ADDRESS, LINK);
	put32(d + BZ_INIT_SIZE, 0x400000);
	memcpy(d + setup + 0x100, c, cn);
	free(c);
	*size = setup + 0x100 + cn;
	*plen = cn;
	return d;
}

static const char *write_file(char *p, const char *name, const void *data, size_t size)
{
	int fd;

	snprintf(p, 256, "%s/%s", test_dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, size), (ssize_t)size);
	close(fd);
	return p;
}

static int count_entries(const char *d)
{
	char cmd[300];
	FILE *f;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -a %s 2>/dev/null | grep -c 'hkc\\|tmp'", d);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &n), 1);
	pclose(f);
	return n;
}

/* Open path with decompression through cache dir cd (NULL: no cache), place it. */
static void boot_one(const char *path, const char *cd, const char *cmdline, const char *want_cache,
		     struct kernel_load_stats *st, struct kernel_entry *e)
{
	struct kernel_opts o = { .decompress = true, .cache = cd != NULL, .cache_dir = cd };
	struct kernel_image k;

	if (kernel_open_opts(&k, path, NULL, cmdline, 256 * MiB, &o) < 0)
		fail_msg("%s", err_msg());
	assert_int_equal(k.format, KERNEL_DIRECT);
	guest_vm(256 * MiB);
	if (kernel_place(&k, guest, 0xE0000, e) < 0)
		fail_msg("%s", err_msg());
	assert_string_equal(k.st.cache, want_cache);
	*st = k.st;
	kernel_close(&k);
	kernel_cache_wait();	/* a miss is stored in the background */
}

/* The guest RAM after boot_one: the segments as in vml, relocated by delta. */
static void check_loaded(const uint8_t *vml, uint64_t delta)
{
	assert_memory_equal(gpa(LINK), vml + 0x1000, R64);
	assert_int_equal(get64(gpa(LINK + R64)), VIRT(LINK + 0x800) + delta);
	assert_int_equal(get32(gpa(LINK + R32)), (uint32_t)(VIRT(LINK + 0x900) + delta));
	assert_int_equal(get32(gpa(LINK + RINV)), (uint32_t)(0x1000 - delta));
	assert_memory_equal(gpa(LINK + 0x200000 + 0x100), vml + 0x1000 + SEG0 + 0x100, SEG1 - 0x100);
	assert_int_equal(*gpa(LINK + 0x200000 + SEG1 + 0x10), 0);	/* bss */
}

static void test_direct_boot_and_cache(void **state)
{
	size_t vn, bn, pl;
	uint8_t *vml = make_vmlinux(&vn, true);
	uint8_t *bz = make_bz(DECOMP_XZ, vml, vn, &bn, &pl);
	char kp[256], cd[256], ep[300];
	struct kernel_load_stats st;
	struct kernel_entry e;
	struct kvm_sregs s = { 0 };
	struct kvm_regs r;
	uint64_t deltas[6];
	bool differ = false;

	write_file(kp, "vmlinuz", bz, bn);
	snprintf(cd, sizeof(cd), "%s/cache", test_dir);

	/* miss: decompressed, stored; nokaslr: loaded as linked */
	boot_one(kp, cd, "console=ttyS0 nokaslr", "miss", &st, &e);
	assert_string_equal(st.how, "direct");
	assert_string_equal(st.fmt, "xz");
	assert_false(st.kaslr);
	check_loaded(vml, 0);
	assert_int_equal(*gpa(KERNEL_ZERO_PAGE_ADDR + BZ_LOADFLAGS) & BZ_KASLR_FLAG, 0);
	assert_int_equal(count_entries(cd), 1);
	/* the 64-bit entry */
	assert_int_equal(e.format, KERNEL_DIRECT);
	assert_int_equal(e.rip, LINK + 0x40);
	kernel_entry_state(&e, &s, &r);
	assert_int_equal(r.rip, LINK + 0x40);
	assert_int_equal(r.rsi, KERNEL_ZERO_PAGE_ADDR);
	assert_int_equal(s.cs.l, 1);
	assert_int_equal(s.cs.db, 0);
	assert_int_equal(s.cs.selector, KERNEL_CS);
	assert_int_equal(s.efer & 0x500, 0x500);
	assert_int_equal(s.cr4 & 0x20, 0x20);
	assert_true(s.cr0 & 0x80000001);
	assert_int_equal(s.cr3, KERNEL_PML4_ADDR);
	assert_int_equal(get64(gpa(KERNEL_PML4_ADDR)) & ~0xfffULL, KERNEL_PDPT_ADDR);
	assert_int_equal(get64(gpa(KERNEL_PD_ADDR + 8 * 8)), (8ULL << 21) | 0x83);	/* 16 MiB -> 16 MiB */
	assert_int_equal(get64(gpa(KERNEL_GDT_ADDR + KERNEL_CS)), kernel_gdt64[KERNEL_CS / 8]);
	free_vm();

	/* hits, with KASLR: relocated by a random, aligned delta, flagged in the zero page */
	for (int i = 0; i < 6; i++) {
		boot_one(kp, cd, "console=ttyS0", "hit", &st, &e);
		assert_true(st.kaslr);
		assert_int_equal(st.kaslr_delta % (2 * MiB), 0);
		check_loaded(vml, st.kaslr_delta);
		assert_int_equal(*gpa(KERNEL_ZERO_PAGE_ADDR + BZ_LOADFLAGS) & BZ_KASLR_FLAG, BZ_KASLR_FLAG);
		deltas[i] = st.kaslr_delta;
		if (i && deltas[i] != deltas[0])
			differ = true;
		free_vm();
	}
	assert_true(differ);		/* 6 picks from ~490 slots all equal: p < 1e-13 */

	/* a corrupt entry: detected by its digest while loading, rebuilt */
	{
		char cmd[600];
		FILE *f;
		int fd;

		snprintf(cmd, sizeof(cmd), "ls %s/*.hkc", cd);
		f = popen(cmd, "r");
		assert_non_null(f);
		assert_non_null(fgets(ep, sizeof(ep), f));
		pclose(f);
		ep[strcspn(ep, "\n")] = '\0';
		fd = open(ep, O_RDWR);
		assert_true(fd >= 0);
		assert_int_equal(pwrite(fd, "X", 1, KCACHE_HDR_SIZE + 0x20), 1);
		close(fd);
		boot_one(kp, cd, "nokaslr", "rebuilt", &st, &e);
		check_loaded(vml, 0);
		free_vm();
		boot_one(kp, cd, "nokaslr", "hit", &st, &e);
		check_loaded(vml, 0);
		free_vm();
		/* a truncated entry: bad header geometry, removed and rebuilt at open */
		assert_int_equal(truncate(ep, KCACHE_HDR_SIZE + 100), 0);
		boot_one(kp, cd, "nokaslr", "rebuilt", &st, &e);
		free_vm();
		boot_one(kp, cd, "nokaslr", "hit", &st, &e);
		free_vm();
	}
	/* no cache: decompressed every time, nothing written */
	boot_one(kp, NULL, "nokaslr", "off", &st, &e);
	check_loaded(vml, 0);
	free_vm();
	assert_int_equal(count_entries(cd), 1);
	free(bz);
	free(vml);
}

static void test_corrupt_payload_nothing_cached(void **state)
{
	size_t vn, bn, pl;
	uint8_t *vml = make_vmlinux(&vn, true);
	char kp[256], cd[256];
	struct kernel_opts o = { .decompress = true, .cache = true };
	struct kernel_image k;

	snprintf(cd, sizeof(cd), "%s/cache-bad", test_dir);
	o.cache_dir = cd;
	for (size_t i = 0; i < NFMT; i++) {
		uint8_t *bz = make_bz(all_fmts[i], vml, vn, &bn, &pl);

		/* the payload cut short (the header still says its old length: the
		   file ends early), then one with a wrong size trailer */
		write_file(kp, "short", bz, bn - pl / 2);
		assert_true(kernel_open_opts(&k, kp, NULL, NULL, 64 * MiB, &o) < 0);
		assert_non_null(strstr(err_msg(), "short: "));
		put32(bz + 5 * 512 + 0x100 + pl - 4, (uint32_t)vn + 16);
		write_file(kp, "badsize", bz, bn);
		if (all_fmts[i] != DECOMP_GZIP) {
			assert_true(kernel_open_opts(&k, kp, NULL, NULL, 64 * MiB, &o) < 0);
			assert_non_null(strstr(err_msg(), "badsize: "));
		}
		free(bz);
	}
	assert_true(count_entries(cd) <= 0);
	/* a payload that is not ELF inside */
	{
		uint8_t junk[4096];
		uint8_t *bz;

		memset(junk, 0x5a, sizeof(junk));
		bz = make_bz(DECOMP_GZIP, junk, sizeof(junk), &bn, &pl);
		write_file(kp, "notelf", bz, bn);
		assert_int_equal(kernel_open_opts(&k, kp, NULL, NULL, 64 * MiB, &o), -ENOEXEC);
		assert_non_null(strstr(err_msg(), "not an ELF"));
		free(bz);
	}
	assert_true(count_entries(cd) <= 0);
	free(vml);
}

static void test_cache_concurrent_and_bounded(void **state)
{
	size_t vn;
	uint8_t *vml = make_vmlinux(&vn, true);
	struct vmlinux v;
	struct kcache_hdr h;
	char cd[256], keys[4][KCACHE_KEY_LEN + 1];
	int fd, status;
	pid_t pids[8];

	snprintf(cd, sizeof(cd), "%s/cache-conc", test_dir);
	assert_int_equal(vmlinux_parse("k", vml, vn, &v), 0);
	for (int i = 0; i < 4; i++) {
		char b[8];

		snprintf(b, sizeof(b), "k%d", i);
		kcache_key((const uint8_t *)b, strlen(b), keys[i]);
		assert_int_equal(strlen(keys[i]), KCACHE_KEY_LEN);
	}
	assert_string_not_equal(keys[0], keys[1]);
	assert_int_equal(kcache_lookup(cd, keys[0], &fd, &h), -ENOENT);

	/* eight writers at once, two keys */
	for (int i = 0; i < 8; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			for (int j = 0; j < 20; j++)
				if (kcache_store(cd, keys[i % 2], &v, vml, 1ULL << 30) < 0)
					_exit(1);
			_exit(0);
		}
	}
	for (int i = 0; i < 8; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(kcache_lookup(cd, keys[i], &fd, &h), 0);
		assert_int_equal(h.vm.nseg, 2);
		assert_int_equal(h.vm.relocs_len, 28);
		close(fd);
	}
	assert_int_equal(count_entries(cd), 2);		/* no temporary files left */

	/* bounded: room for two entries; the least recently used goes */
	uint64_t one = kcache_dir_bytes(cd) / 2;
	sleep(1);
	assert_int_equal(kcache_lookup(cd, keys[0], &fd, &h), 0);	/* touch k0 */
	close(fd);
	assert_int_equal(kcache_store(cd, keys[2], &v, vml, 2 * one), 0);
	assert_int_equal(kcache_lookup(cd, keys[1], &fd, &h), -ENOENT);
	assert_int_equal(kcache_lookup(cd, keys[0], &fd, &h), 0);
	close(fd);
	assert_int_equal(kcache_lookup(cd, keys[2], &fd, &h), 0);
	close(fd);
	assert_true(kcache_dir_bytes(cd) <= 2 * one);
	/* an unwritable directory: an error, nothing else */
	assert_true(kcache_store("/proc/hyve-no-such-dir", keys[3], &v, vml, 1ULL << 30) < 0);
	free(vml);
}

static void test_cmdline_word(void **state)
{
	assert_true(kernel_cmdline_has("console=ttyS0 nokaslr quiet", "nokaslr"));
	assert_true(kernel_cmdline_has("nokaslr", "nokaslr"));
	assert_false(kernel_cmdline_has("nokaslrx quiet", "nokaslr"));
	assert_false(kernel_cmdline_has("xnokaslr", "nokaslr"));
	assert_false(kernel_cmdline_has("", "nokaslr"));
}

/* The guest kit's kernel (HYVE_TEST_KERNEL=vmlinuz, HYVE_TEST_VMLINUX=its payload). */
static void test_real_kernel(void **state)
{
	const char *kp = getenv("HYVE_TEST_KERNEL"), *vp = getenv("HYVE_TEST_VMLINUX");
	char cd[256];
	struct kernel_load_stats st;
	struct kernel_entry e;
	struct vmlinux v;
	uint8_t *vml;
	struct stat sb;
	int fd;

	if (!kp || !*kp || !vp || !*vp)
		skip();
	snprintf(cd, sizeof(cd), "%s/cache-real", test_dir);
	fd = open(vp, O_RDONLY);
	assert_true(fd >= 0 && fstat(fd, &sb) == 0);
	vml = mmap(NULL, sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	assert_true(vml != MAP_FAILED);
	assert_int_equal(vmlinux_parse("vmlinux", vml, sb.st_size, &v), 0);
	for (int pass = 0; pass < 3; pass++) {
		boot_one(kp, cd, pass == 2 ? "console=ttyS0" : "console=ttyS0 nokaslr",
			 pass == 0 ? "miss" : "hit", &st, &e);
		print_message("%s: %s, cache %s, key %llu us, decompress %llu us, store %llu us, place %llu us, kaslr %s 0x%llx\n",
			      kp, st.fmt, st.cache, (unsigned long long)st.key_us,
			      (unsigned long long)st.decompress_us, (unsigned long long)st.cache_write_us,
			      (unsigned long long)st.place_us, st.kaslr ? "on" : "off",
			      (unsigned long long)st.kaslr_delta);
		if (pass == 2) {	/* undo the relocation: the bytes as linked */
			uint64_t len = v.file_end - v.link_base;

			assert_true(st.kaslr);
			assert_int_equal(reloc_apply("k", gpa(v.link_base), len, v.link_base,
						     vml + v.relocs_off, v.relocs_len, -st.kaslr_delta), 0);
		}
		for (int i = 0; i < v.nseg; i++)
			assert_memory_equal(vm_gpa(guest, v.seg[i].paddr, v.seg[i].filesz),
					    vml + v.seg[i].off, v.seg[i].filesz);
		assert_int_equal(e.rip, v.entry);
		free_vm();
	}
	munmap(vml, sb.st_size);
	close(fd);
}

static int setup(void **state)
{
	return test_dir_make("kboot");
}

static int teardown(void **state)
{
	return test_dir_remove();
}

TEST_MAIN(setup, teardown,
	  TEST(test_decompress_each_format), TEST(test_decompress_truncated_and_corrupt),
	  TEST(test_vmlinux_parse), TEST(test_reloc_synthetic), TEST(test_direct_boot_and_cache),
	  TEST(test_corrupt_payload_nothing_cached), TEST(test_cache_concurrent_and_bounded),
	  TEST(test_cmdline_word), TEST(test_real_kernel))
