/* kcache.c - the content-addressed cache of decompressed kernels (see kcache.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include "boot/kcache.h"
#include "err.h"
#include "util.h"

_Static_assert(sizeof(struct kcache_hdr) <= KCACHE_HDR_SIZE, "kcache header fits its page");

#define ALIGN_UP(x, a)	(((x) + (a) - 1) & ~(uint64_t)((a) - 1))

void kcache_key(const uint8_t *p, size_t n, char key[KCACHE_KEY_LEN + 1])
{
	XXH128_hash_t h = XXH3_128bits(p, n);

	snprintf(key, KCACHE_KEY_LEN + 1, "%016llx%016llx", (unsigned long long)h.high64,
		 (unsigned long long)h.low64);
}

int kcache_default_dir(char *buf, size_t len)
{
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int n;

	if (x && x[0] == '/')
		n = snprintf(buf, len, "%s/hyve", x);
	else if (home && home[0] == '/')
		n = snprintf(buf, len, "%s/.cache/hyve", home);
	else
		return -ENOENT;
	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

static int entry_path(char *buf, size_t len, const char *dir, const char *key)
{
	int n = snprintf(buf, len, "%s/%s.hkc", dir, key);

	return n > 0 && (size_t)n < len ? 0 : err_set(-ENAMETOOLONG, "kernel cache: path too long");
}

void kcache_remove(const char *dir, const char *key)
{
	char path[PATH_MAX];

	if (entry_path(path, sizeof(path), dir, key) == 0)
		unlink(path);
}

/* Is the header's geometry one that kcache_store could have written for size bytes? */
static bool hdr_ok(const struct kcache_hdr *h, const char *key, uint64_t size)
{
	char k[KCACHE_KEY_LEN + 1];
	uint64_t pos = KCACHE_HDR_SIZE;

	snprintf(k, sizeof(k), "%016llx%016llx", (unsigned long long)h->key_hi,
		 (unsigned long long)h->key_lo);
	if (memcmp(h->magic, KCACHE_MAGIC, 8) || strcmp(k, key) ||
	    size < KCACHE_HDR_SIZE || h->data_len != size - KCACHE_HDR_SIZE ||
	    h->vm.nseg < 1 || h->vm.nseg > VMLINUX_MAX_SEGS)
		return false;
	for (int i = 0; i < h->vm.nseg; i++) {
		const struct vmlinux_seg *s = &h->vm.seg[i];

		if (s->off != ALIGN_UP(pos, 4096) || s->filesz > size || s->off > size - s->filesz ||
		    s->filesz > s->memsz || s->paddr < h->vm.link_base ||
		    s->paddr > h->vm.image_end || s->memsz > h->vm.image_end - s->paddr ||
		    s->filesz > h->vm.file_end - s->paddr)
			return false;
		pos = s->off + s->filesz;
	}
	if (h->vm.relocs_len && h->vm.relocs_off != pos)
		return false;
	pos += h->vm.relocs_len;
	return pos == size && h->vm.entry >= h->vm.link_base && h->vm.entry < h->vm.file_end &&
	       h->vm.file_end <= h->vm.image_end;
}

int kcache_lookup(const char *dir, const char *key, int *fd, struct kcache_hdr *h)
{
	char path[PATH_MAX];
	struct stat st;
	int f, r;

	*fd = -1;
	if ((r = entry_path(path, sizeof(path), dir, key)) < 0)
		return r;
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return errno == ENOENT ? -ENOENT : err_set(-errno, "kernel cache %s: %s", path, strerror(errno));
	if (fstat(f, &st) < 0 || pread(f, h, sizeof(*h), 0) != (ssize_t)sizeof(*h) ||
	    !hdr_ok(h, key, (uint64_t)st.st_size)) {
		close(f);
		unlink(path);
		return err_set(-EBADMSG, "kernel cache %s: bad entry (removed)", path);
	}
	futimens(f, NULL);		/* recently used */
	*fd = f;
	return 0;
}

static int write_all(int fd, const void *p, uint64_t len)
{
	const uint8_t *b = p;

	while (len) {
		ssize_t w = write(fd, b, len > (1u << 30) ? (1u << 30) : len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		b += w;
		len -= (uint64_t)w;
	}
	return 0;
}

struct centry {
	char name[KCACHE_KEY_LEN + 8];
	uint64_t size;
	struct timespec mtime;
};

static int centry_cmp(const void *a, const void *b)
{
	const struct centry *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The entries of dir (*.hkc with a key-sized name), in *out; their count or -errno. */
static int list_entries(const char *dir, struct centry **out)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct centry *v = NULL;
	int n = 0, cap = 0;

	*out = NULL;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		struct stat st;

		if (l != KCACHE_KEY_LEN + 4 || strcmp(de->d_name + KCACHE_KEY_LEN, ".hkc") ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			struct centry *nv = realloc(v, (size_t)(cap = cap ? cap * 2 : 16) * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = nv;
		}
		snprintf(v[n].name, sizeof(v[n].name), "%s", de->d_name);
		v[n].size = (uint64_t)st.st_size;
		v[n].mtime = st.st_mtim;
		n++;
	}
	closedir(d);
	*out = v;
	return n;
}

uint64_t kcache_dir_bytes(const char *dir)
{
	struct centry *v;
	int n = list_entries(dir, &v);
	uint64_t sum = 0;

	for (int i = 0; i < n; i++)
		sum += v[i].size;
	free(v);
	return sum;
}

/* Remove least recently used entries until dir holds at most max bytes; keep is spared. */
static void trim(const char *dir, const char *keep, uint64_t max)
{
	struct centry *v;
	int n = list_entries(dir, &v);
	uint64_t sum = 0;
	char path[PATH_MAX];

	for (int i = 0; i < n; i++)
		sum += v[i].size;
	if (n > 1)
		qsort(v, (size_t)n, sizeof(*v), centry_cmp);
	for (int i = 0; i < n && sum > max; i++) {
		if (!strncmp(v[i].name, keep, KCACHE_KEY_LEN))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, v[i].name) < (int)sizeof(path) &&
		    (unlink(path) == 0 || errno == ENOENT))
			sum -= v[i].size;
	}
	free(v);
}

/* mkdir -p, mode 0700 for what it creates. */
static int mkdirs(const char *dir)
{
	char p[PATH_MAX];
	size_t l = strlen(dir);

	if (l == 0 || l >= sizeof(p))
		return -ENAMETOOLONG;
	memcpy(p, dir, l + 1);
	for (char *s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0700) < 0 && errno != EEXIST)
				return -errno;
			*s = c;
			if (!c)
				break;
		}
	}
	return 0;
}

int kcache_store(const char *dir, const char *key, const struct vmlinux *vm,
		 const uint8_t *p, uint64_t max_bytes)
{
	struct kcache_hdr *h = calloc(1, KCACHE_HDR_SIZE);
	char tmp[PATH_MAX], path[PATH_MAX];
	static const uint8_t zeros[4096];
	XXH3_state_t *st = XXH3_createState();
	uint64_t pos = KCACHE_HDR_SIZE;
	int fd = -1, r;

	if (!h || !st) {
		r = err_set(-ENOMEM, "out of memory");
		goto out;
	}
	if ((r = mkdirs(dir)) < 0) {
		r = err_set(r, "kernel cache %s: cannot create: %s", dir, strerror(-r));
		goto out;
	}
	if ((r = entry_path(path, sizeof(path), dir, key)) < 0)
		goto out;
	if (snprintf(tmp, sizeof(tmp), "%s/.tmp-%s-XXXXXX", dir, key) >= (int)sizeof(tmp)) {
		r = err_set(-ENAMETOOLONG, "kernel cache: path too long");
		goto out;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		r = err_set(-errno, "kernel cache %s: %s", dir, strerror(errno));
		goto out;
	}
	memcpy(h->magic, KCACHE_MAGIC, 8);
	sscanf(key, "%16llx%16llx", (unsigned long long *)&h->key_hi,
	       (unsigned long long *)&h->key_lo);
	h->vm = *vm;
	XXH3_64bits_reset(st);
	r = lseek(fd, KCACHE_HDR_SIZE, SEEK_SET) < 0 ? -errno : 0;
	for (int i = 0; i < vm->nseg && r == 0; i++) {
		uint64_t at = ALIGN_UP(pos, 4096);
		const struct vmlinux_seg *s = &vm->seg[i];

		if (at > pos)
			r = write_all(fd, zeros, at - pos);
		if (r == 0)
			r = write_all(fd, p + s->off, s->filesz);
		XXH3_64bits_update(st, p + s->off, s->filesz);
		h->vm.seg[i].off = at;
		pos = at + s->filesz;
	}
	if (r == 0 && vm->relocs_len) {
		r = write_all(fd, p + vm->relocs_off, vm->relocs_len);
		XXH3_64bits_update(st, p + vm->relocs_off, vm->relocs_len);
		h->vm.relocs_off = pos;
		pos += vm->relocs_len;
	}
	h->data_len = pos - KCACHE_HDR_SIZE;
	h->digest = XXH3_64bits_digest(st);
	if (r == 0)
		r = pwrite(fd, h, KCACHE_HDR_SIZE, 0) == KCACHE_HDR_SIZE ? 0 : -EIO;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		r = err_set(r, "kernel cache %s: cannot write: %s", dir, strerror(-r));
		goto out;
	}
	trim(dir, key, max_bytes);
out:
	close_if_open(fd);
	XXH3_freeState(st);
	free(h);
	return r;
}
