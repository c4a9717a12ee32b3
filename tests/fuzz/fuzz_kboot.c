/*
 * fuzz_kboot.c - libFuzzer target for the host-side kernel loading path
 * that parses untrusted files: a bzImage's compressed payload
 * (decomp_payload: every format through its library), the decompressed
 * ELF (vmlinux_parse) and its relocation table (reloc_apply).
 *
 * Input: one mode byte, then the data.  Odd mode: the data is a payload to
 * decompress (at most 4 MiB out), then parsed as a kernel.  Even mode: the
 * data is a decompressed kernel; its table is applied to a zeroed image for
 * a delta of (mode / 2) * 2 MiB.
 */
#include <stdint.h>
#include <stdlib.h>
#include "fuzz.h"
#include "boot/decomp.h"
#include "boot/reloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmlinux v;
	uint8_t mode, *out, *img;
	size_t on;

	if (!fuzz_take_byte(&data, &size, &mode))
		return 0;
	if (mode & 1) {
		if (decomp_payload("fuzz", data, size, 4u << 20, &out, &on) == 0) {
			vmlinux_parse("fuzz", out, on, &v);
			decomp_free(out, on);
		}
		return 0;
	}
	if (vmlinux_parse("fuzz", data, size, &v) < 0 || !v.relocs_len ||
	    v.file_end - v.link_base > (16u << 20))
		return 0;
	img = calloc(1, v.file_end - v.link_base);
	if (!img)
		return 0;
	reloc_apply("fuzz", img, v.file_end - v.link_base, v.link_base, data + v.relocs_off,
		    v.relocs_len, (uint64_t)(mode >> 1) << 21);
	free(img);
	return 0;
}
