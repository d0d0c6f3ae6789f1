/* Civil dates of the proleptic Gregorian calendar, in UTC, and the pieces
 * of RFC 3339 date-times (RFC 3339 §5.6) that the record line, syslog
 * timestamps and --since/--until read and write.  Pure: no time zone, no
 * locale, no C library time calls.
 *
 * The parsers read no further than the first byte that does not match, so
 * s may be a NUL-terminated string shorter than the piece; they return 0 or
 * -EINVAL and write their results only on success. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	DATETIME_DATE_LEN = 10,	      /* "YYYY-MM-DD" */
	DATETIME_HMS_LEN = 8,	      /* "hh:mm:ss" */
	DATETIME_UTC_OFFSET_LEN = 6,  /* "+hh:mm" */
	DATETIME_FRACTION_DIGITS = 6, /* microseconds */
};

/* 9999-12-31T23:59:59.999999Z: the last time a 4-digit year holds. */
static const uint64_t datetime_max_us = 253402300799999999u;

/* "Jan" .. "Dec" (RFC 3164 §4.1.2, and journalctl's short output). */
extern const char datetime_month_abbr[12][4];

bool datetime_is_leap(int64_t y);
/* Days in month m (1..12) of year y. */
unsigned datetime_days_in_month(int64_t y, unsigned m);

/* Days since 1970-01-01 of a civil date, and back (H. Hinnant's
 * algorithms, public domain descriptions); any year, negative days too. */
int64_t datetime_days_from_civil(int64_t y, unsigned m, unsigned d);
void datetime_civil_from_days(int64_t days, int64_t *ret_y, unsigned *ret_m, unsigned *ret_d);

/* "YYYY-MM-DD", a day that exists (2026-02-29 does not); year 0000..9999. */
int datetime_parse_date(const char *s, unsigned *ret_y, unsigned *ret_m, unsigned *ret_d);
/* "hh:mm:ss" with hh <= 23, mm <= 59 and ss <= 60 (60 is a leap second:
 * callers that have no use for one refuse it). */
int datetime_parse_hms(const char *s, unsigned *ret_h, unsigned *ret_min, unsigned *ret_sec);
/* "+hh:mm", "-hh:mm" or "+hhmm" (ISO 8601's basic form), hh <= 23, mm <= 59:
 * the offset east of UTC in minutes; returns the length read (6 or 5). */
int datetime_parse_utc_offset(const char *s, int *ret_min);
/* An optional fraction of a second at s[0..n): '.' and as many digits as
 * there are, cut to microseconds.  Returns the length read (0, and
 * *ret_us = 0, if s does not start with '.'), -EINVAL for a '.' without a
 * digit. */
int datetime_parse_fraction(const char *s, size_t n, uint32_t *ret_us);
/* The month of a 3-byte abbreviation at s ("Jan" is 1), case-sensitive. */
int datetime_month_from_abbr(const char *s);

/* Two digits of v % 100 at p. */
void datetime_put2(char *p, unsigned v);
/* "YYYY-MM-DD" (10 bytes, the year modulo 10000) at p. */
void datetime_put_date(char *p, int64_t y, unsigned m, unsigned d);
/* "hh:mm:ss" (8 bytes) at p. */
void datetime_put_hms(char *p, unsigned h, unsigned min, unsigned sec);
/* "+hh:mm" or "-hh:mm" (6 bytes) of an offset east of UTC in seconds. */
void datetime_put_utc_offset(char *p, long off_s);
