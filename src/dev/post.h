/*
 * post.h - the POST diagnostic port 0x80.
 */
#ifndef HYVE_DEV_POST_H
#define HYVE_DEV_POST_H

#include <stdbool.h>
#include <stdint.h>
#include "iobus.h"

#define POST_PORT	0x80

struct post;

int post_create(struct post **out);
void post_destroy(struct post *p);
/* The last byte written, 0xff before any write. */
uint8_t post_last(struct post *p);

/* The port handler (io_handler_fn); arg is the struct post. */
io_handler post_io;

#endif
