/*
 * err.h - one error message per thread, set where a failure is detected and
 * printed once by main.  Functions return 0 or a negative errno; on failure
 * they call err_set() so the caller can say what went wrong and on what value.
 */
#ifndef HYVE_ERR_H
#define HYVE_ERR_H

/* Record "fmt ..." as this thread's error; returns code (a negative errno). */
int err_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The last message recorded by this thread ("" if none). */
const char *err_msg(void);
/* Clear this thread's message. */
void err_clear(void);

#endif
