/*
 * rtc.c - MC146818 CMOS RTC (see rtc.h).
 *
 * The time registers show the host's UTC time plus an offset; a guest that
 * sets a time field moves the offset, not the host clock.  Status A never
 * shows an update in progress, status B starts as 24-hour BCD (what PC
 * firmware leaves), status C reads as no interrupt pending and status D as
 * "battery good".  The other bytes are plain CMOS RAM.  No RTC interrupts
 * (IRQ 8) are generated: Linux reads the clock at boot and keeps its own.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include "lock.h"
#include "dev.h"
#include "err.h"
#include "vm.h"
#include "dev/rtc.h"

enum {
	REG_SEC = 0x00, REG_MIN = 0x02, REG_HOUR = 0x04, REG_WDAY = 0x06,
	REG_MDAY = 0x07, REG_MON = 0x08, REG_YEAR = 0x09,
	REG_A = 0x0a, REG_B = 0x0b, REG_C = 0x0c, REG_D = 0x0d,
	REG_CENTURY = 0x32,
};
#define B_24H	0x02
#define B_BIN	0x04
#define B_SET	0x80

struct rtc {
	pthread_mutex_t lock;
	uint8_t index;		/* last index written to 0x70, bit 7 = NMI mask */
	uint8_t ram[RTC_NREGS];
	time_t offset;		/* guest time - host time */
	time_t (*now)(void);
};
DEV_MODEL_LOCK_FIRST(struct rtc);

static time_t rtc_host_now(void)
{
	return time(NULL);
}

static uint8_t to_bcd(unsigned v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static unsigned from_bcd(uint8_t v)
{
	return (v >> 4) * 10 + (v & 0xf);
}

static uint8_t rtc_enc(struct rtc *r, unsigned v)
{
	return (r->ram[REG_B] & B_BIN) ? (uint8_t)v : to_bcd(v);
}

static unsigned rtc_dec(struct rtc *r, uint8_t v)
{
	return (r->ram[REG_B] & B_BIN) ? v : from_bcd(v);
}

static void rtc_tm(struct rtc *r, struct tm *tm)
{
	time_t t = r->now() + r->offset;

	gmtime_r(&t, tm);
}

/* Read a time register from the current guest time. */
static uint8_t rtc_time_reg(struct rtc *r, unsigned reg)
{
	struct tm tm;
	unsigned hour;

	rtc_tm(r, &tm);
	switch (reg) {
	case REG_SEC:	return rtc_enc(r, tm.tm_sec);
	case REG_MIN:	return rtc_enc(r, tm.tm_min);
	case REG_HOUR:
		if (r->ram[REG_B] & B_24H)
			return rtc_enc(r, tm.tm_hour);
		hour = tm.tm_hour % 12 ? tm.tm_hour % 12 : 12;
		return rtc_enc(r, hour) | (tm.tm_hour >= 12 ? 0x80 : 0);
	case REG_WDAY:	return rtc_enc(r, tm.tm_wday + 1);
	case REG_MDAY:	return rtc_enc(r, tm.tm_mday);
	case REG_MON:	return rtc_enc(r, tm.tm_mon + 1);
	case REG_YEAR:	return rtc_enc(r, tm.tm_year % 100);
	default:	return rtc_enc(r, (tm.tm_year + 1900) / 100);	/* century */
	}
}

/* A guest write to a time register: move the offset so the field reads v. */
static void rtc_set_time_reg(struct rtc *r, unsigned reg, uint8_t raw)
{
	struct tm tm;
	unsigned v = rtc_dec(r, reg == REG_HOUR ? raw & 0x7f : raw);
	time_t t;

	rtc_tm(r, &tm);
	switch (reg) {
	case REG_SEC:	if (v > 59) return; tm.tm_sec = v; break;
	case REG_MIN:	if (v > 59) return; tm.tm_min = v; break;
	case REG_HOUR:
		if (!(r->ram[REG_B] & B_24H))
			v = (v % 12) + ((raw & 0x80) ? 12 : 0);
		if (v > 23) return;
		tm.tm_hour = v;
		break;
	case REG_MDAY:	if (v < 1 || v > 31) return; tm.tm_mday = v; break;
	case REG_MON:	if (v < 1 || v > 12) return; tm.tm_mon = v - 1; break;
	case REG_YEAR:	if (v > 99) return; tm.tm_year = (tm.tm_year / 100) * 100 + v; break;
	case REG_CENTURY:
		if (v < 19 || v > 99) return;
		tm.tm_year = (v - 19) * 100 + tm.tm_year % 100;
		break;
	default:	return;		/* day of week follows from the date */
	}
	t = timegm(&tm);
	if (t != (time_t)-1)
		r->offset = t - r->now();
}

static bool is_time_reg(unsigned reg)
{
	return reg <= REG_YEAR ? !(reg & 1) || reg >= REG_WDAY : reg == REG_CENTURY;
}

int rtc_io(void *arg, bool write, uint64_t offset, unsigned size, uint64_t *val)
{
	struct rtc *r = arg;
	unsigned reg;

	if (size != 1 || offset > 1) {
		if (!write)
			*val = ~0ULL;
		return 0;
	}
	lock(&r->lock, LOCK_DEVICE);
	reg = r->index & 0x7f;
	if (offset == 0) {
		if (write)
			r->index = (uint8_t)*val;
		else
			*val = r->index;
	} else if (write) {
		uint8_t v = (uint8_t)*val;
		if (is_time_reg(reg))
			rtc_set_time_reg(r, reg, v);
		else if (reg == REG_A)
			r->ram[REG_A] = v & 0x7f;	/* UIP is read-only */
		else if (reg == REG_B)
			r->ram[REG_B] = v;
		else if (reg != REG_C && reg != REG_D)	/* read-only status */
			r->ram[reg] = v;
	} else if (is_time_reg(reg)) {
		*val = rtc_time_reg(r, reg);
	} else if (reg == REG_C) {
		*val = 0;				/* no interrupt flags */
	} else {
		*val = r->ram[reg];
	}
	unlock(&r->lock, LOCK_DEVICE);
	return 0;
}

bool rtc_nmi_masked(struct rtc *r)
{
	return r->index & 0x80;
}

int rtc_create(struct rtc **out, time_t (*now)(void))
{
	struct rtc *r = dev_model_alloc(sizeof(*r), "rtc");

	if (!r)
		return -ENOMEM;
	r->now = now ? now : rtc_host_now;
	r->ram[REG_A] = 0x26;		/* 32.768 kHz divider, 1024 Hz rate */
	r->ram[REG_B] = B_24H;		/* 24-hour, BCD, no interrupts */
	r->ram[REG_D] = 0x80;		/* valid RAM and time */
	*out = r;
	return 0;
}

static int rtc_new(struct vm *vm, void **dev)
{
	return rtc_create((struct rtc **)dev, NULL);
}

DEVICE(rtc, .level = DEV_LEVEL_DEV, .create = rtc_new, .destroy = dev_model_free,
       .ranges = { { "rtc", RTC_PORT, 2, rtc_io, IO_READ | IO_WRITE } });
