/* e820.c - the guest's memory map (see e820.h). */
#include <errno.h>
#include "boot/e820.h"
#include "mem.h"

uint64_t e820_low_ram_end(uint64_t mem_size)
{
	return mem_size < GUEST_PCI_HOLE ? mem_size : GUEST_PCI_HOLE;
}

int e820_build(uint64_t mem_size, struct e820_entry *map, int max)
{
	struct e820_entry e[E820_MAX];
	uint64_t low = e820_low_ram_end(mem_size);
	int n = 0;

	/* Below 640 KiB: RAM up to the EBDA, even for a guest smaller than that. */
	e[n++] = (struct e820_entry){ 0, (mem_size < E820_EBDA ? mem_size : E820_EBDA),
				      E820_RAM };
	if (e[0].size == 0)
		n = 0;
	e[n++] = (struct e820_entry){ E820_EBDA, GUEST_LOW_END - E820_EBDA, E820_RESERVED };
	e[n++] = (struct e820_entry){ E820_BIOS, GUEST_HIGH_START - E820_BIOS, E820_RESERVED };
	if (low > GUEST_HIGH_START)
		e[n++] = (struct e820_entry){ GUEST_HIGH_START, low - GUEST_HIGH_START,
					      E820_RAM };
	if (mem_size > GUEST_PCI_HOLE)
		e[n++] = (struct e820_entry){ GUEST_4G, mem_size - GUEST_PCI_HOLE, E820_RAM };
	if (n > max)
		return -ENOSPC;
	for (int i = 0; i < n; i++)
		map[i] = e[i];
	return n;
}

bool e820_is_ram(uint64_t mem_size, uint64_t addr, uint64_t len)
{
	struct e820_entry map[E820_MAX];
	int n = e820_build(mem_size, map, E820_MAX);

	for (int i = 0; i < n; i++) {
		const struct e820_entry *m = &map[i];

		/* Compare lengths, not ends, so nothing wraps. */
		if (m->type == E820_RAM && addr >= m->addr &&
		    addr - m->addr <= m->size && len <= m->size - (addr - m->addr))
			return true;
	}
	return false;
}
