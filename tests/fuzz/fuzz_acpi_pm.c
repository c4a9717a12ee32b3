/* fuzz_acpi_pm.c - ACPI PM1a event and control blocks (ports 0x600-0x605). */
#define FUZZ_DEVICE "acpi_pm"
#define FUZZ_BASE 0x600
#define FUZZ_SPAN 6
#include "fuzz_isa_dev.h"
