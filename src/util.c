/* util.c - number and size parsing (see util.h). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "err.h"
#include "util.h"

int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || !isdigit((unsigned char)s[0]))
		return -EINVAL;	/* no sign, no space, no empty string */
	errno = 0;
	v = strtoull(s, &end, (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end || end == s)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMGT";
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end) {
		const char *u = strchr(units, toupper((unsigned char)*end));
		if (u && *end) {
			shift = 10 * (unsigned)(u - units + 1);
			end++;
			if (!strcasecmp(end, "iB") || !strcasecmp(end, "B"))
				end += strlen(end);
		} else if (!strcasecmp(end, "B")) {
			end++;
		}
		if (*end)
			return -EINVAL;
	}
	if (shift && v > (~0ULL >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

int read_fd_whole(const char *path, int fd, size_t size, uint8_t **data)
{
	uint8_t *buf = malloc(size ? size : 1);
	size_t got = 0;
	int r = 0;

	if (!buf) {
		r = err_set(-ENOMEM, "%s: out of memory reading %zu bytes", path, size);
		goto out;
	}
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = err_set(n < 0 ? -errno : -EIO, "%s: read failed: %s", path,
				    n < 0 ? strerror(errno) : "file shrank");
			free(buf);
			goto out;
		}
		got += n;
	}
	*data = buf;
out:
	close(fd);
	return r;
}

uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

const void *linker_set_find(const void *const *start, const void *const *stop,
			    const char *name)
{
	for (const void *const *e = start; e < stop; e++)
		if (!strcmp(*(const char *const *)*e, name))
			return *e;
	return NULL;
}
