/*
 * testdev.h - the device tests' fixture: a static struct fix holding the
 * device under test (field NAME) and what it needs, made by setup and
 * freed by teardown for each test (TEST_FIX).
 */
#ifndef HYVE_TESTDEV_H
#define HYVE_TESTDEV_H

#include "console.h"

/*
 * TESTDEV_CON_FIXTURE(type, name, create, destroy): the device on a memory
 * console: struct fix { con; name }, create(&name, con), and teardown
 * closes the console (no more input), then destroys the device.
 */
#define TESTDEV_CON_FIXTURE(type, name, create, destroy)		\
	struct fix {							\
		struct console *con;					\
		type *name;						\
	};								\
									\
	static int setup(void **state)					\
	{								\
		static struct fix f;					\
									\
		f.con = console_new_memory();				\
		assert_non_null(f.con);					\
		assert_int_equal(create(&f.name, f.con), 0);		\
		*state = &f;						\
		return 0;						\
	}								\
									\
	static int teardown(void **state)				\
	{								\
		struct fix *f = *state;					\
									\
		console_close(f->con);					\
		destroy(f->name);					\
		return 0;						\
	}

/*
 * TESTDEV_CB_FIXTURE(type, name, count, create, destroy): the device with a
 * callback that counts its calls: struct fix { name; int count },
 * create(&name, callback, &f), count zeroed before each test.
 */
#define TESTDEV_CB_FIXTURE(type, name, count, create, destroy)		\
	struct fix {							\
		type *name;						\
		int count;						\
	};								\
									\
	static void testdev_count(void *arg)				\
	{								\
		((struct fix *)arg)->count++;				\
	}								\
									\
	static int setup(void **state)					\
	{								\
		static struct fix f;					\
									\
		f.count = 0;						\
		assert_int_equal(create(&f.name, testdev_count, &f), 0); \
		*state = &f;						\
		return 0;						\
	}								\
									\
	static int teardown(void **state)				\
	{								\
		destroy(((struct fix *)*state)->name);			\
		return 0;						\
	}

#endif
