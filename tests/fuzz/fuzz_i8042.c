/* fuzz_i8042.c - the i8042 controller (ports 0x60-0x64) under random port accesses. */
#define FUZZ_DEVICE "i8042"
#define FUZZ_BASE 0x60
#define FUZZ_SPAN 5
#include "fuzz_isa_dev.h"
