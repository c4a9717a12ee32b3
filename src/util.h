/* util.h - small parsers shared by the command line and the loaders. */
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

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t mono_ns(void);

#endif
