/*
 * dynlib.h - libraries hyve maps only when a feature needs them.
 *
 * libmicrohttpd (the API server, with GnuTLS and its ten libraries behind it)
 * and libslirp (user networking, with GLib) are opened with dlopen() the
 * first time --api-sock, `hyve fc` or --net user asks for them, so a VM that
 * uses neither starts without mapping or relocating them (docs/startup.md).
 * The headers are still Debian's, found by pkg-config; only the linking is
 * late.  Each library's soname is also recorded in the ELF section
 * "hyve_dlopen" (DYNLIB_NEEDS), which tests/rig/rig.sh reads to put the
 * library into a rig payload, as ldd does for linked ones.
 */
#ifndef HYVE_DYNLIB_H
#define HYVE_DYNLIB_H

#include <stddef.h>

/* One symbol to resolve: its name and where its address goes. */
struct dynsym {
	const char *name;
	void **slot;
};

/* A function pointer slot `tbl.field` filled from the symbol `prefix##field`. */
#define DYNSYM(tbl, prefix, field) { #prefix #field, (void **)&(tbl).field }

/* Record soname in the binary's "hyve_dlopen" section (read by the rig). */
#define DYNLIB_NEEDS(id, soname) \
	static const char id[] __attribute__((section("hyve_dlopen"), used, aligned(1))) = soname

/*
 * Open soname (once per process; later calls return the first result) and
 * fill every slot.  On failure: err_set() names the library, what needs it
 * (`what`, e.g. "--net user") and the Debian package that provides it, and
 * -ENOENT is returned.  Thread-safe.
 */
int dynlib_load(const char *soname, const char *what, const char *package,
		const struct dynsym *syms, size_t n);

#endif
