/* Unit tests for the CPUID filter: APIC IDs, topology, hypervisor bit, XSAVE consistency. */
#include "unit.h"
#include <stdlib.h>
#include "cpu.h"

#define SIG KVM_CPUID_FLAG_SIGNIFCANT_INDEX

/* A small "supported" table shaped like KVM's on an AVX-capable host. */
static struct kvm_cpuid2 *supported(void)
{
	static const struct kvm_cpuid_entry2 e[] = {
		{ .function = 0, .eax = 0xd, .ebx = 0x68747541 },
		{ .function = 1, .eax = 0x800f12, .ebx = 0x00010800,
		  .ecx = (1u << 26) | (1u << 28), .edx = 0x178bfbff },
		{ .function = 7, .index = 0, .flags = SIG, .ebx = 0, .ecx = 0 },
		{ .function = 0xb, .index = 0, .flags = SIG, .eax = 9, .ebx = 9, .edx = 77 },
		{ .function = 0xd, .index = 0, .flags = SIG, .eax = 0x2e7, .ebx = 2696, .ecx = 2696 },
		{ .function = 0xd, .index = 1, .flags = SIG, .eax = 0xf, .ecx = 0x1800 },
		{ .function = 0xd, .index = 2, .flags = SIG, .eax = 256, .ebx = 576 },
		{ .function = 0xd, .index = 5, .flags = SIG, .eax = 64, .ebx = 1088 },
		{ .function = 0xd, .index = 6, .flags = SIG, .eax = 512, .ebx = 1152 },
		{ .function = 0xd, .index = 7, .flags = SIG, .eax = 1024, .ebx = 1664 },
		{ .function = 0xd, .index = 9, .flags = SIG, .eax = 8, .ebx = 2688 },
		{ .function = 0x80000008, .ecx = 0x3007 },
		{ .function = 0x8000001e, .eax = 5, .ebx = 0x105, .ecx = 0x3 },
	};
	size_t n = sizeof(e) / sizeof(e[0]);
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(e[0]));

	c->nent = n;
	for (size_t i = 0; i < n; i++)
		c->entries[i] = e[i];
	return c;
}

static struct kvm_cpuid2 *filtered(struct kvm_cpuid2 *in, int id, int n)
{
	struct kvm_cpuid2 *out = calloc(1, sizeof(*out) + (in->nent + 8) * sizeof(in->entries[0]));

	cpu_filter_cpuid(in, out, id, n);
	return out;
}

static void test_apic_id_and_hypervisor_bit(void **state)
{
	struct kvm_cpuid2 *in = supported(), *out = filtered(in, 3, 4);
	struct kvm_cpuid_entry2 *e = cpu_find(out, 1, 0);

	assert_non_null(e);
	assert_int_equal(e->ebx >> 24, 3);
	assert_int_equal((e->ebx >> 16) & 0xff, 4);
	assert_int_equal(e->ebx & 0xffff, 0x0800);	/* CLFLUSH size kept */
	assert_true(e->ecx & (1u << 31));
	assert_true(e->edx & (1u << 28));
	free(in);
	free(out);
}

static void test_topology_leaf_b(void **state)
{
	struct kvm_cpuid2 *in = supported(), *out = filtered(in, 5, 6);
	struct kvm_cpuid_entry2 *l0 = cpu_find(out, 0xb, 0), *l1 = cpu_find(out, 0xb, 1),
				*l2 = cpu_find(out, 0xb, 2);

	assert_non_null(l0);
	assert_non_null(l1);
	assert_non_null(l2);
	assert_int_equal(l0->edx, 5);
	assert_int_equal(l1->edx, 5);
	assert_int_equal(l0->ebx, 1);
	assert_int_equal((l0->ecx >> 8) & 0xff, 1);	/* SMT level */
	assert_int_equal(l1->eax, 3);			/* 6 CPUs need 3 bits */
	assert_int_equal(l1->ebx, 6);
	assert_int_equal((l1->ecx >> 8) & 0xff, 2);	/* core level */
	assert_int_equal((l2->ecx >> 8) & 0xff, 0);	/* end */
	/* the supported table's own leaf 0xB is gone: only ours remain */
	int n = 0;
	for (unsigned i = 0; i < out->nent; i++)
		n += out->entries[i].function == 0xb;
	assert_int_equal(n, 3);
	assert_int_equal(cpu_find(out, 0x80000008, 0)->ecx & 0xff, 5);
	assert_int_equal(cpu_find(out, 0x8000001e, 0)->eax, 5);
	free(in);
	free(out);
}

static void test_xsave_consistent_without_avx512(void **state)
{
	struct kvm_cpuid2 *in = supported(), *out = filtered(in, 0, 1);
	struct kvm_cpuid_entry2 *d0 = cpu_find(out, 0xd, 0), *d1 = cpu_find(out, 0xd, 1);

	/* AVX is advertised in leaf 1, AVX-512 and PKU are not in leaf 7:
	 * only x87|SSE|AVX remain and the sizes match them. */
	assert_int_equal(d0->eax, 0x7);
	assert_int_equal(d0->edx, 0);
	assert_int_equal(d0->ebx, 576 + 256);
	assert_int_equal(d0->ecx, 576 + 256);
	assert_int_equal(cpu_find(out, 0xd, 5)->eax, 0);
	assert_int_equal(cpu_find(out, 0xd, 9)->eax, 0);
	assert_int_equal(cpu_find(out, 0xd, 2)->eax, 256);
	assert_int_equal(d1->eax, 0x7);			/* no XSAVES */
	assert_int_equal(d1->ecx, 0);
	free(in);
	free(out);
}

/* in (freed) filtered for vCPU 0 of 1: leaf 0xD.0 offers xcr0 in EAX, an XSAVE area of size in ECX. */
static void assert_filtered_xsave(struct kvm_cpuid2 *in, uint32_t xcr0, uint32_t size)
{
	struct kvm_cpuid2 *out = filtered(in, 0, 1);

	assert_int_equal(cpu_find(out, 0xd, 0)->eax, xcr0);
	assert_int_equal(cpu_find(out, 0xd, 0)->ecx, size);
	free(in);
	free(out);
}

static void test_xsave_with_avx512_and_pku(void **state)
{
	struct kvm_cpuid2 *in = supported();

	cpu_find(in, 7, 0)->ebx |= 1u << 16;
	cpu_find(in, 7, 0)->ecx |= 1u << 3;
	assert_filtered_xsave(in, 0x2e7, 2696);
}

static void test_xsave_zero_size_component_dropped(void **state)
{
	struct kvm_cpuid2 *in = supported();

	cpu_find(in, 0xd, 2)->eax = 0;		/* AVX advertised, size unknown */
	assert_filtered_xsave(in, 0x3, 576);
}

static void test_hide_xsave(void **state)
{
	struct kvm_cpuid2 *in = supported(), *out;

	cpu_find(in, 7, 0)->ebx |= (1u << 5) | (1u << 16);	/* AVX2, AVX-512F */
	out = filtered(in, 0, 1);
	cpu_hide_xsave(out);
	assert_int_equal(cpu_find(out, 1, 0)->ecx & ((1u << 26) | (1u << 27) | (1u << 28)), 0);
	assert_int_equal(cpu_find(out, 7, 0)->ebx & ((1u << 5) | (1u << 16)), 0);
	assert_int_equal(cpu_find(out, 0xd, 0)->eax, 0);
	assert_int_equal(cpu_find(out, 0xd, 0)->ecx, 0);
	assert_int_equal(cpu_find(out, 0xd, 2)->eax, 0);
	free(in);
	free(out);
}

static void test_legacy_only_keeps_xsave(void **state)
{
	struct kvm_cpuid2 *in = supported(), *out = filtered(in, 0, 1);

	cpu_xsave_legacy_only(out);
	assert_true(cpu_find(out, 1, 0)->ecx & (1u << 26));	/* XSAVE stays */
	assert_false(cpu_find(out, 1, 0)->ecx & (1u << 28));	/* AVX goes */
	assert_int_equal(cpu_find(out, 0xd, 0)->eax, 0x3);
	assert_int_equal(cpu_find(out, 0xd, 0)->ecx, 576);
	free(in);
	free(out);
}

TEST_MAIN(NULL, NULL,
	  TEST(test_apic_id_and_hypervisor_bit), TEST(test_topology_leaf_b),
	  TEST(test_xsave_consistent_without_avx512), TEST(test_xsave_with_avx512_and_pku),
	  TEST(test_xsave_zero_size_component_dropped), TEST(test_hide_xsave),
	  TEST(test_legacy_only_keeps_xsave))
