/*
 * fuzz_vm.h - what the device and machine fuzz targets share: a KVM-free
 * VM (vm_create_nokvm: real buses, guest RAM, the real device code), an
 * input reader, and PCI interrupt calls that record nothing and succeed,
 * so MSI-X routing paths run without KVM.  One fresh VM per input: a crash
 * reproduces from its input alone.
 */
#ifndef HYVE_FUZZ_VM_H
#define HYVE_FUZZ_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "console.h"
#include "dev.h"
#include "iobus.h"
#include "pci/pci.h"
#include "vm.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

struct fz {
	const uint8_t *p;
	size_t n;
};

static inline bool fz_more(const struct fz *f) { return f->n > 0; }

/* k bytes (<= 8) little-endian; zeros once the input is used up */
static inline uint64_t fz_get(struct fz *f, unsigned k)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < k; i++) {
		uint8_t b = 0;
		if (f->n) {
			b = *f->p++;
			f->n--;
		}
		v |= (uint64_t)b << (8 * i);
	}
	return v;
}

static inline unsigned fz_width(uint8_t sel, unsigned max)
{
	static const unsigned w[4] = { 1, 2, 4, 8 };
	unsigned s = w[sel & 3];

	return s > max ? max : s;
}

static inline struct vm *fz_vm(uint64_t mem, struct console *con)
{
	struct vm_config cfg = { .mem_size = mem, .ncpus = 1, .con = con };
	struct vm *vm = NULL;

	CHECK(vm_create_nokvm(&vm, &cfg) == 0 && vm);
	return vm;
}

static inline int fz_line(void *c, unsigned g, bool l) { return 0; }
static inline int fz_alloc(void *c, unsigned *g) { static unsigned n = 24; *g = n++ % 1024 + 24; return 0; }
static inline int fz_route(void *c, unsigned g, uint64_t a, uint32_t d, bool m) { return 0; }
static inline int fz_irqfd(void *c, unsigned g, int fd, bool d) { return 0; }
static const struct pci_irq_ops fz_irq_ops __attribute__((unused)) = {
	fz_line, fz_alloc, fz_route, fz_irqfd,
};

/* One access: pio (ports, widths 1/2/4) or MMIO (widths 1..8). */
static inline void fz_access(struct vm *vm, bool pio, bool write, uint64_t addr,
			     unsigned size, uint64_t val)
{
	uint64_t v = val;
	int r = iobus_access(vm_iobus(vm, pio), write, addr, size, &v);

	CHECK(r == 0 || r == -2 /* ENOENT */ || r == -22 /* EINVAL: width */);
	if (!write)
		CHECK((v & ~io_mask(size)) == 0);
}

/* The guest writes RAM (rings, descriptors, request headers): 1 + (op >> 5)
 * input bytes at an input-chosen offset in ram's first 64 KiB. */
static inline void fz_ram_write(struct fz *f, uint8_t *ram, uint8_t op)
{
	unsigned off = (unsigned)fz_get(f, 2), n = 1 + (op >> 5);

	for (unsigned i = 0; i < n && off + i < (1u << 16); i++)
		ram[off + i] = (uint8_t)fz_get(f, 1);
}

#endif
