/*
 * acpi-dump.c - build hyve's ACPI tables as the VM would and write each one
 * to DIR/<SIG>.dat (RSDP, XSDT, FACP, FACS, APIC, MCFG, DSDT), for iasl -d.
 *
 *	acpi-dump DIR [NCPUS [BASE_GPA [MEM_SIZE]]]
 *
 * Built by tests/integration/acpi-iasl.sh against src/boot/acpi.c,
 * src/boot/aml.c and src/err.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "err.h"
#include "boot/acpi.h"

static int dump(const char *dir, const char *sig, const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.dat", dir, sig);
	if (!(f = fopen(path, "wb")) || fwrite(p, 1, n, f) != n) {
		fprintf(stderr, "acpi-dump: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return fclose(f);
}

int main(int argc, char **argv)
{
	static const char *const sigs[] = {
		"RSDP", "XSDT", "FACP", "FACS", "APIC", "MCFG", "DSDT",
	};
	static uint8_t buf[65536];
	struct acpi_config cfg = { .ncpus = 4, .base_gpa = 0x9f000,
				   .mem_size = 256ULL << 20 };
	uint64_t rsdp;
	size_t used, n;

	if (argc < 2 || argc > 6) {
		fprintf(stderr, "usage: acpi-dump DIR [NCPUS[L] [BASE_GPA [MEM_SIZE]]]  (L: --legacy)\n");
		return 2;
	}
	if (argc > 2) {
		cfg.ncpus = atoi(argv[2]);
		cfg.legacy = argv[2][strlen(argv[2]) - 1] == 'L';
	}
	if (argc > 3)
		cfg.base_gpa = strtoull(argv[3], NULL, 0);
	if (argc > 4)
		cfg.mem_size = strtoull(argv[4], NULL, 0);
	if (acpi_build(&cfg, buf, sizeof(buf), &rsdp, &used) < 0 ||
	    acpi_check(buf, used, cfg.base_gpa, rsdp) < 0) {
		fprintf(stderr, "acpi-dump: %s\n", err_msg());
		return 1;
	}
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		const void *t = acpi_find(buf, used, cfg.base_gpa, rsdp, sigs[i], &n);

		if (!t) {
			fprintf(stderr, "acpi-dump: no %s table\n", sigs[i]);
			return 1;
		}
		if (dump(argv[1], sigs[i], t, n) < 0)
			return 1;
	}
	printf("%zu bytes of tables, RSDP at 0x%llx\n", used,
	       (unsigned long long)rsdp);
	return 0;
}
