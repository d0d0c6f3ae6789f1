/* Time specifications for --since/--until (see timespec.h). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cfgvalue.h"
#include "cleanup.h"
#include "datetime.h"
#include "parse.h"
#include "timespec.h"

enum {
	TIMESPEC_US_PER_SEC = 1000000,
};

/* Local midnight of the day that holds now_us, moved by delta_days. */
static int
timespec_local_midnight(uint64_t now_us, int delta_days, uint64_t *ret_us)
{
	time_t t = (time_t)(now_us / TIMESPEC_US_PER_SEC);
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return -ERANGE;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mday += delta_days;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (t < 0)
		return -ERANGE;
	*ret_us = (uint64_t)t * TIMESPEC_US_PER_SEC;
	return 0;
}

/* "-1h 30min", "+5min", "-30" (seconds) after the sign. */
static int
timespec_relative(const char *s, uint64_t now_us, uint64_t *ret_us)
{
	bool minus = *s++ == '-';
	uint64_t total = 0;
	unsigned terms = 0;
	int k;

	for (;;) {
		uint64_t n = 0, unit = 0;
		const char *u;
		size_t digits, ulen;

		while (*s == ' ')
			s++;
		if (!*s)
			break;
		k = parse_u64_prefix(s, SIZE_MAX, &n, &digits);
		if (k < 0)
			return k;
		s += digits;
		while (*s == ' ')
			s++;
		for (u = s; isalpha((unsigned char)*s); s++)
			;
		ulen = (size_t)(s - u);
		if (ulen == 0) {
			if (terms > 0 || *s)
				return -EINVAL; /* a bare number only as the sole term */
			unit = TIMESPEC_US_PER_SEC;
		}
		if (!unit)
			unit = cfg_duration_unit(u, ulen); /* the config's units, too */
		if (!unit)
			return -EINVAL;
		if (n > (datetime_max_us - total) / unit)
			return -ERANGE;
		total += n * unit;
		terms++;
	}
	if (terms == 0)
		return -EINVAL;
	if (minus) {
		if (total > now_us)
			return -ERANGE;
		*ret_us = now_us - total;
	} else {
		if (total > datetime_max_us - now_us)
			return -ERANGE;
		*ret_us = now_us + total;
	}
	return 0;
}

/* "@SECONDS[.FRACTION]" */
static int
timespec_epoch(const char *s, uint64_t *ret_us)
{
	const uint64_t max_sec = datetime_max_us / TIMESPEC_US_PER_SEC;
	uint64_t sec;
	uint32_t frac = 0;
	size_t n;
	int k = parse_u64_prefix(s, SIZE_MAX, &sec, &n);

	/* out of range as soon as the digits before the last one are */
	if (k == -ERANGE || (k == 0 && sec / 10 > max_sec))
		return -ERANGE;
	if (k < 0)
		return k;
	s += n;
	k = datetime_parse_fraction(s, SIZE_MAX, &frac);
	if (k < 0)
		return k;
	if (s[k])
		return -EINVAL;
	if (sec > max_sec)
		return -ERANGE;
	*ret_us = sec * TIMESPEC_US_PER_SEC + frac;
	return 0;
}

/* "Z" or an offset "+HH:MM", "+HHMM"; sets *ret_min (east of UTC) and *ret_have. */
static int
timespec_offset(const char **p, bool *ret_have, int *ret_min)
{
	const char *s = *p;
	int k;

	if (*s == 'Z' || *s == 'z') {
		*p = s + 1;
		*ret_have = true;
		*ret_min = 0;
		return 0;
	}
	if (*s != '+' && *s != '-') {
		*ret_have = false;
		return 0;
	}
	k = datetime_parse_utc_offset(s, ret_min);
	if (k < 0)
		return k;
	*p = s + k;
	*ret_have = true;
	return 0;
}

/* "HH:MM[:SS[.FRACTION]]" at *p; advances *p. */
static int
timespec_clock(const char **p, unsigned *ret_h, unsigned *ret_min, unsigned *ret_sec,
	       uint64_t *ret_frac)
{
	const char *s = *p;
	uint64_t h, mi;
	unsigned hh, mm, sec;
	uint32_t frac = 0;
	int k;

	if (parse_digits(s, 2, &h) < 0 || s[2] != ':' || parse_digits(s + 3, 2, &mi) < 0)
		return -EINVAL;
	if (s[5] != ':') {
		if (h > 23 || mi > 59)
			return -EINVAL;
		hh = (unsigned)h;
		mm = (unsigned)mi;
		sec = 0;
		s += 5;
	} else {
		if (datetime_parse_hms(s, &hh, &mm, &sec) < 0)
			return -EINVAL;
		s += DATETIME_HMS_LEN;
		k = datetime_parse_fraction(s, SIZE_MAX, &frac);
		if (k < 0)
			return k;
		s += k;
	}
	*p = s;
	*ret_h = hh;
	*ret_min = mm;
	*ret_sec = sec;
	*ret_frac = frac;
	return 0;
}

/* RFC 3339 and the looser local forms: "YYYY-MM-DD[(T|t| )HH:MM[:SS[.F]]][offset]". */
static int
timespec_date(const char *s, uint64_t *ret_us)
{
	unsigned y, mo, d, h = 0, mi = 0, sec = 0;
	uint64_t frac = 0;
	bool have_off = false;
	int off_min = 0, k;

	if (datetime_parse_date(s, &y, &mo, &d) < 0)
		return -EINVAL;
	s += DATETIME_DATE_LEN;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		s++;
		k = timespec_clock(&s, &h, &mi, &sec, &frac);
		if (k < 0)
			return k;
		k = timespec_offset(&s, &have_off, &off_min);
		if (k < 0)
			return k;
	}
	if (*s)
		return -EINVAL;
	if (sec == 60) { /* a leap second: the last instant of second 59 */
		sec = 59;
		frac = TIMESPEC_US_PER_SEC - 1;
	}
	if (have_off) {
		int64_t t = datetime_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
			    (int64_t)off_min * 60;
		if (t < 0)
			return -ERANGE;
		*ret_us = (uint64_t)t * TIMESPEC_US_PER_SEC + frac;
	} else {
		struct tm tm = {
			.tm_year = (int)y - 1900, .tm_mon = (int)mo - 1, .tm_mday = (int)d,
			.tm_hour = (int)h, .tm_min = (int)mi, .tm_sec = (int)sec, .tm_isdst = -1,
		};
		time_t t = mktime(&tm);
		if (t < 0)
			return -ERANGE;
		*ret_us = (uint64_t)t * TIMESPEC_US_PER_SEC + frac;
	}
	return *ret_us > datetime_max_us ? -ERANGE : 0;
}

int
timespec_parse(const char *s, uint64_t now_us, uint64_t *ret_us)
{
	static const struct {
		const char *word;
		int days; /* from today's local midnight */
		bool now;
	} words[] = {
		{ "now", 0, true },
		{ "today", 0, false },
		{ "yesterday", -1, false },
		{ "tomorrow", 1, false },
	};
	uint64_t t;
	int k;

	while (*s == ' ')
		s++;
	for (size_t i = 0; i < ELEMENTSOF(words); i++) {
		if (strcasecmp(s, words[i].word) != 0)
			continue;
		if (words[i].now) {
			*ret_us = now_us;
			return 0;
		}
		return timespec_local_midnight(now_us, words[i].days, ret_us);
	}
	if (*s == '-' || *s == '+')
		k = timespec_relative(s, now_us, &t);
	else if (*s == '@')
		k = timespec_epoch(s + 1, &t);
	else
		k = timespec_date(s, &t);
	if (k < 0)
		return k;
	*ret_us = t;
	return 0;
}
