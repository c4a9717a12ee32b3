/*
 * dynlib.c - dlopen() a library on first use and resolve its symbols
 * (dynlib.h).  Results are remembered per soname, so a second API server or a
 * second --net user does not open the library again.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include "dynlib.h"
#include "err.h"

#define DYNLIB_MAX 4

static pthread_mutex_t dl_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	const char *soname;
	int result;
} loaded[DYNLIB_MAX];

static int load_locked(const char *soname, const char *what, const char *package,
		       const struct dynsym *syms, size_t n)
{
	/* RTLD_NODELETE: the handle is never closed, the slots stay valid. */
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);

	if (!h)
		return err_set(-ENOENT, "%s needs %s (Debian package %s), which cannot be loaded: %s",
			       what, soname, package, dlerror());
	for (size_t i = 0; i < n; i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (!*syms[i].slot)
			return err_set(-ENOENT, "%s needs %s from %s (Debian package %s), which lacks it",
				       what, syms[i].name, soname, package);
	}
	return 0;
}

int dynlib_load(const char *soname, const char *what, const char *package,
		const struct dynsym *syms, size_t n)
{
	int r = -ENOENT;
	size_t i;

	pthread_mutex_lock(&dl_lock);
	for (i = 0; i < DYNLIB_MAX && loaded[i].soname; i++)
		if (!strcmp(loaded[i].soname, soname))
			break;
	if (i < DYNLIB_MAX && loaded[i].soname && loaded[i].result == 0) {
		r = 0;
	} else {
		r = load_locked(soname, what, package, syms, n);
		if (i < DYNLIB_MAX) {
			loaded[i].soname = soname;
			loaded[i].result = r;
		}
	}
	pthread_mutex_unlock(&dl_lock);
	return r;
}
