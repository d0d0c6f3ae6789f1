/* Time specifications for seglog's --since and --until, in the spirit of
 * journalctl(1) / systemd.time(7).  Pure: no I/O besides what the C
 * library's local-time conversion reads (the time zone, once).
 *
 * Accepted forms (case-insensitive keywords and units):
 *
 *   2026-11-24T09:02:35.123456Z    RFC 3339: "T", "t" or a space between date
 *   2026-11-24T10:02:35+01:00      and time; a fraction of any length (cut to
 *   2026-11-24 10:02:35            microseconds); "Z" or an offset +HH:MM or
 *   2026-11-24 10:02               +HHMM.  Without an offset the time is
 *   2026-11-24                     LOCAL time, as in journalctl; seconds may be
 *                                  left out; a date alone is local midnight.
 *   now, today, yesterday,         today/yesterday/tomorrow are local midnight.
 *   tomorrow
 *   -1h, -30m, -2d, -1h30min,      relative to now: a sign and one or more
 *   +5min, "-1h 30min"             NUMBER UNIT terms (spaces allowed between
 *                                  them); units us, ms, s/sec/second(s),
 *                                  m/min/minute(s), h/hour(s), d/day(s),
 *                                  w/week(s).  A bare number after the sign
 *                                  is seconds.
 *   @1700000000[.5]                seconds since the epoch (UTC).
 *
 * Leap second 60 is accepted and read as the last instant of second 59. */
#pragma once

#include <stdint.h>

/* Parses s relative to now_us (µs since the epoch).  Returns 0 and sets
 * *ret_us, -EINVAL for text that is none of the forms above, -ERANGE for a
 * time before the epoch or past year 9999. */
int timespec_parse(const char *s, uint64_t now_us, uint64_t *ret_us);
