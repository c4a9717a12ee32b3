/*
 * aml.h - a small encoder for ACPI Machine Language (ACPI 6.x, chapter 20),
 * enough for method-free DSDT content: names, integers, strings, EISA IDs,
 * packages, buffers, resource templates, scopes and devices.
 *
 * The encoder writes into a caller-supplied buffer and never past its end.
 * Errors are sticky: the first failure (-ENOSPC for no room, -EINVAL for a
 * bad name or value, with err_set) turns every later call into a no-op, so
 * a caller emits a whole block and checks aml_finish() once.
 *
 * Scopes, devices and packages are opened with *_begin and closed with
 * aml_end(); the PkgLength is inserted at the close, when the length of the
 * contents is known (1 to 4 bytes, so the contents move up to 4 bytes).
 *
 * Example - Name (\_S5, Package (4) { 5, 5, 0, 0 }):
 *	aml_name(a, "\\_S5");
 *	aml_package_begin(a, 4);
 *	aml_integer(a, 5); aml_integer(a, 5); aml_integer(a, 0); aml_integer(a, 0);
 *	aml_end(a);
 */
#ifndef HYVE_BOOT_AML_H
#define HYVE_BOOT_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH	16	/* open scopes/devices/packages at once */
#define AML_PKGLEN_MAX	0x0FFFFFFFu	/* largest value a PkgLength holds */

struct aml {
	uint8_t *buf;
	size_t cap, len;
	int err;			/* first error, 0 if none */
	size_t open[AML_MAX_DEPTH];	/* where each open PkgLength goes */
	int depth;
};

void aml_init(struct aml *a, void *buf, size_t cap);
/* Bytes emitted (>= 0), or the first error; -EINVAL if a block is open. */
long aml_finish(struct aml *a);

/*
 * Encode the PkgLength value v (which counts its own bytes) in its shortest
 * form.  Returns the number of bytes (1..4) or -EINVAL if v > AML_PKGLEN_MAX.
 */
int aml_pkglength(uint8_t out[4], uint32_t v);
/* The PkgLength value for a block whose contents after it are n bytes. */
int aml_pkglength_for(uint8_t out[4], size_t n);

/* Raw bytes (resource descriptors inside a buffer, ...). */
void aml_bytes(struct aml *a, const void *p, size_t n);
/*
 * A NameString: an optional root '\' or parent '^' prefixes, then
 * segments separated by '.', each 1-4 of [A-Z0-9_] not starting with a
 * digit, padded with '_' ("_SB" is "_SB_").  "" is the null name.
 */
void aml_namestring(struct aml *a, const char *path);
/* Zero, One, Ones, or the shortest of Byte/Word/DWord/QWordPrefix. */
void aml_integer(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);	/* ASCII 0x01-0x7f */
/* An EISA ID "PNP0A03" as its compressed DWord (what _HID / _CID hold). */
void aml_eisaid(struct aml *a, const char *id);
/* Buffer (n) { bytes }: _CRS resource templates and the like. */
void aml_buffer(struct aml *a, const void *p, size_t n);

/*
 * Resource templates (ACPI 6.3 section 6.4): descriptors collected in a
 * struct aml_res, then emitted as one Buffer with the end tag appended
 * (aml_resource_template).  Address space descriptors are producer,
 * MinFixed, MaxFixed, PosDecode, granularity 0, no translation, length
 * max - min + 1 (what a root bridge's _CRS windows are).  Overflowing the
 * template is an error reported by aml_resource_template (-EINVAL).
 */
#define AML_RES_MAX	512

struct aml_res {
	uint8_t buf[AML_RES_MAX];
	size_t len;
	int err;
};

void aml_res_init(struct aml_res *r);
/* WordBusNumber (min..max) */
void aml_res_word_bus(struct aml_res *r, uint16_t min, uint16_t max);
/* WordIO (..., EntireRange, min..max) */
void aml_res_word_io(struct aml_res *r, uint16_t min, uint16_t max);
/* IO (Decode16, min, max, align, len) */
void aml_res_io(struct aml_res *r, uint16_t min, uint16_t max, uint8_t align, uint8_t len);
/* IRQNoFlags () { irq } (irq 0-15: edge, active high, exclusive) */
void aml_res_irq(struct aml_res *r, uint8_t irq);
/* DWordMemory / QWordMemory (..., Cacheable or NonCacheable, ReadWrite, min..max) */
void aml_res_dword_mem(struct aml_res *r, bool cacheable, uint32_t min, uint32_t max);
void aml_res_qword_mem(struct aml_res *r, bool cacheable, uint64_t min, uint64_t max);
/* Memory32Fixed (ReadWrite, base, len) */
void aml_res_mem32_fixed(struct aml_res *r, uint32_t base, uint32_t len);
/* ResourceTemplate () { ... }: Buffer with the descriptors and an end tag. */
void aml_resource_template(struct aml *a, const struct aml_res *r);

/* Name (path, <the next object emitted>). */
void aml_name(struct aml *a, const char *path);
/* Package (nelem) { ... aml_end() }; nelem <= 255. */
void aml_package_begin(struct aml *a, unsigned nelem);
/* Scope (path) { ... aml_end() } */
void aml_scope_begin(struct aml *a, const char *path);
/* Device (path) { ... aml_end() } */
void aml_device_begin(struct aml *a, const char *path);
/* Close the innermost open scope, device or package. */
void aml_end(struct aml *a);

#endif
