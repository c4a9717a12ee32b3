/*
 * bvmcons.h - bhyve's paravirtual console ("bvm console") at port 0x220.
 */
#ifndef HYVE_DEV_BVMCONS_H
#define HYVE_DEV_BVMCONS_H

#include <stdbool.h>
#include <stdint.h>
#include "iobus.h"

#define BVMCONS_PORT	0x220
#define BVMCONS_LEN	4		/* 4-byte accesses must fit the range */
#define BVMCONS_SIG	0x6276		/* 'b' << 8 | 'v' */

struct console;
struct bvmcons;

int bvmcons_create(struct bvmcons **out, struct console *con);
void bvmcons_destroy(struct bvmcons *bc);

/* The port handler (io_handler_fn); arg is the struct bvmcons. */
io_handler bvmcons_io;

#endif
