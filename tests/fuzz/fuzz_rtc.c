/* fuzz_rtc.c - the CMOS RTC (ports 0x70-0x71) under random port accesses. */
#define FUZZ_DEVICE "rtc"
#define FUZZ_BASE 0x70
#define FUZZ_SPAN 2
#include "fuzz_isa_dev.h"
