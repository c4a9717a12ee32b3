/* util.h - small parsers shared by the command line and the loaders, and
 * small helpers used all over. */
#ifndef HYVE_UTIL_H
#define HYVE_UTIL_H

#include <stdint.h>

/*
 * Parse a size: decimal digits with an optional K, M, G or T suffix
 * (powers of 1024; "KiB"-style and "B" suffixes also accepted).
 * Returns 0, or -EINVAL (not a size) / -ERANGE (overflow).
 */
int parse_size(const char *s, uint64_t *out);

/* Parse an unsigned number: decimal, or hex with 0x.  0 or -EINVAL/-ERANGE. */
int parse_u64(const char *s, uint64_t *out);

/*
 * Read exactly size bytes from fd into a new buffer (*data, caller frees);
 * closes fd.  path names the file in messages.  0 or -errno (err_set).
 */
#include <stddef.h>
int read_fd_whole(const char *path, int fd, size_t size, uint8_t **data);

/*
 * The entry called name in a linker set (bhyve's linker sets: DEVICE(),
 * PCI_DEVTYPE()) of pointers to structs whose first member is their
 * `const char *name`; NULL if none.
 */
const void *linker_set_find(const void *const *start, const void *const *stop,
			    const char *name);
/* Declare the linker set `set` of pointers to type; look name up in it. */
#define LINKER_SET_DECLARE(set, type)					\
	extern type *const __start_##set[] __attribute__((weak));	\
	extern type *const __stop_##set[] __attribute__((weak))
#define LINKER_SET_FIND(set, name)					\
	linker_set_find((const void *const *)__start_##set,		\
			(const void *const *)__stop_##set, (name))

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t mono_ns(void);

#include <unistd.h>

/* Close fd unless it is negative (not open). */
static inline void close_if_open(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* eventfds: add one (cannot fail below the maximum); take the count */
static inline void efd_signal(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0)
		return;
}

static inline void efd_clear(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0)
		return;
}

#endif
