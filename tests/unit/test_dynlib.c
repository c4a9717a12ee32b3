/*
 * Unit tests for dlopen-on-first-use (src/dynlib.c): a library that is not
 * there and a symbol it lacks each give one error naming the library, what
 * needs it and its Debian package; a good load fills the slots, maps the
 * library only then, and is done once.  Uses libslirp.so.0, which the build
 * needs anyway (libslirp-dev).
 */
#include "unit.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <libslirp.h>
#include "dynlib.h"
#include "err.h"

static struct {
	typeof(slirp_version_string) *version_string;
	typeof(slirp_version_string) *no_such;
} t;

static bool mapped(const char *name)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, name))
			found = true;
	fclose(f);
	return found;
}

static void test_missing_library(void **state)
{
	const struct dynsym syms[] = { DYNSYM(t, slirp_, version_string) };

	/* this test binary does not link libslirp: nothing maps it yet */
	assert_false(mapped("libslirp.so"));
	err_clear();
	assert_int_equal(dynlib_load("libhyve-test-absent.so.7", "--frob", "hyve-frob",
				     syms, 1), -ENOENT);
	assert_non_null(strstr(err_msg(), "--frob needs libhyve-test-absent.so.7"));
	assert_non_null(strstr(err_msg(), "hyve-frob"));
	assert_null(t.version_string);
	/* a failure is not remembered as success: the second try fails too */
	assert_int_equal(dynlib_load("libhyve-test-absent.so.7", "--frob", "hyve-frob",
				     syms, 1), -ENOENT);
}

static void test_missing_symbol(void **state)
{
	/* "slirp_no_such" is no libslirp function */
	const struct dynsym syms[] = {
		DYNSYM(t, slirp_, version_string),
		DYNSYM(t, slirp_, no_such),
	};

	err_clear();
	assert_int_equal(dynlib_load("libslirp.so.0", "--net user", "libslirp0", syms, 2), -ENOENT);
	assert_non_null(strstr(err_msg(), "slirp_no_such"));
	assert_non_null(strstr(err_msg(), "libslirp.so.0"));
	assert_null(t.no_such);
}

static void test_load_once(void **state)
{
	const struct dynsym syms[] = { DYNSYM(t, slirp_, version_string) };

	t.version_string = NULL;
	assert_int_equal(dynlib_load("libslirp.so.0", "--net user", "libslirp0", syms, 1), 0);
	assert_non_null(t.version_string);
	assert_true(mapped("libslirp.so"));
	/* the slot holds the library's own function: it answers ("4.7.0") */
	assert_true(t.version_string()[0] >= '1' && t.version_string()[0] <= '9');
	assert_non_null(strchr(t.version_string(), '.'));
	/* once loaded, later calls succeed without touching the slots */
	t.version_string = NULL;
	assert_int_equal(dynlib_load("libslirp.so.0", "--net user", "libslirp0", syms, 1), 0);
	assert_null(t.version_string);
}

TEST_MAIN(NULL, NULL,
	  TEST(test_missing_library),
	  TEST(test_missing_symbol),
	  TEST(test_load_once))
