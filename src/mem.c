/* mem.c - guest memory: the PC layout and the checked accessor (mem.h). */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include "err.h"
#include "mem.h"

void mem_layout(struct guest_mem *m, uint8_t *host, uint64_t size, bool bios_ram)
{
	uint64_t below4g = size < GUEST_PCI_HOLE ? size : GUEST_PCI_HOLE;

	m->ram = host;
	m->size = size;
	m->n = 0;
	m->r[m->n++] = (struct mem_region){ 0, below4g < GUEST_LOW_END ?
					    below4g : GUEST_LOW_END, host };
	if (bios_ram && below4g >= GUEST_HIGH_START)
		m->r[m->n++] = (struct mem_region){ GUEST_ROM_START,
			GUEST_HIGH_START - GUEST_ROM_START, host + GUEST_ROM_START };
	if (below4g > GUEST_HIGH_START)
		m->r[m->n++] = (struct mem_region){ GUEST_HIGH_START,
			below4g - GUEST_HIGH_START, host + GUEST_HIGH_START };
	if (size > GUEST_PCI_HOLE)
		m->r[m->n++] = (struct mem_region){ GUEST_4G,
			size - GUEST_PCI_HOLE, host + GUEST_PCI_HOLE };
}

int mem_init(struct guest_mem *m, uint64_t size, bool bios_ram)
{
	/*
	 * 2 MiB-aligned, so guest-physical and host-virtual addresses agree
	 * modulo 2 MiB and KVM can map guest RAM with 2 MiB pages: unaligned,
	 * every 4 KiB the guest first touches costs a nested page fault (about
	 * 20x more exits in a Linux boot, measured).
	 */
	const size_t align = 2u << 20;
	uint8_t *raw, *ram;

	memset(m, 0, sizeof(*m));
	raw = mmap(NULL, size + align, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED)
		return err_set(-errno, "cannot reserve %llu MiB of guest memory: %s",
			       (unsigned long long)(size >> 20), strerror(errno));
	ram = (uint8_t *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
	if (ram > raw)
		munmap(raw, ram - raw);
	if (raw + size + align > ram + size)
		munmap(ram + size, (raw + size + align) - (ram + size));
	madvise(ram, size, MADV_HUGEPAGE);	/* where THP is "madvise" */
	mem_layout(m, ram, size, bios_ram);
	return 0;
}

void mem_fini(struct guest_mem *m)
{
	if (m->ram)
		munmap(m->ram, m->size);
	memset(m, 0, sizeof(*m));
}

void *mem_gpa(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	for (int i = 0; i < m->n; i++) {
		const struct mem_region *r = &m->r[i];

		/* gpa - r->gpa cannot underflow; compare lengths, not ends. */
		if (gpa >= r->gpa && gpa - r->gpa <= r->size &&
		    len <= r->size - (gpa - r->gpa))
			return r->host + (gpa - r->gpa);
	}
	return NULL;
}

bool mem_overlaps(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	for (int i = 0; i < m->n; i++) {
		const struct mem_region *r = &m->r[i];

		/* either range starts inside the other (differences cannot wrap) */
		if (len && r->size &&
		    ((gpa >= r->gpa && gpa - r->gpa < r->size) ||
		     (r->gpa >= gpa && r->gpa - gpa < len)))
			return true;
	}
	return false;
}
