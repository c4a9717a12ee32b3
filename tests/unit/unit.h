/*
 * unit.h - what every unit test includes: cmocka, the one main() of a
 * test program, and a scratch directory for tests that write files.
 */
#ifndef HYVE_UNIT_H
#define HYVE_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * TEST_MAIN(group_setup, group_teardown, tests...): main() runs the group
 * and prints one TAP line per test (CMOCKA_MESSAGE_OUTPUT=TAP).
 */
#define TEST_MAIN(gsetup, gteardown, ...)				\
	int main(void)							\
	{								\
		const struct CMUnitTest tests[] = { __VA_ARGS__ };	\
		return cmocka_run_group_tests(tests, gsetup, gteardown); \
	}

#define TEST(f)		cmocka_unit_test(f)
#define TEST_FIX(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

/* A scratch directory /tmp/hyve-test-NAME-XXXXXX for one group. */
static char test_dir[64] __attribute__((unused));

static inline int test_dir_make(const char *name)
{
	snprintf(test_dir, sizeof(test_dir), "/tmp/hyve-test-%s-XXXXXX", name);
	return mkdtemp(test_dir) ? 0 : -1;
}

static inline int test_dir_remove(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", test_dir);
	return system(cmd);
}

#endif
