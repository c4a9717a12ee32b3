/* fuzz_bvmcons.c - the bhyve console port (0x220-0x223). */
#define FUZZ_DEVICE "bvmcons"
#define FUZZ_BASE 0x220
#define FUZZ_SPAN 4
#include "fuzz_isa_dev.h"
