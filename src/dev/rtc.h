/*
 * rtc.h - the MC146818 CMOS RTC at ports 0x70 (index; bit 7 masks NMI) and
 * 0x71 (data), with the host's time.  Usable without a VM.
 */
#ifndef HYVE_DEV_RTC_H
#define HYVE_DEV_RTC_H

#include <stdbool.h>
#include <stdint.h>
#include "dev.h"
#include "iobus.h"
#include <time.h>

#define RTC_PORT	0x70
#define RTC_NREGS	128

struct rtc;

/* now() gives the host time in seconds (NULL: time()), for tests. */
int rtc_create(struct rtc **out, time_t (*now)(void));
static inline void rtc_destroy(struct rtc *rtc) { dev_model_free(rtc); }
io_handler rtc_io;
bool rtc_nmi_masked(struct rtc *rtc);

#endif
