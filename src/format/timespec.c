/* Time specifications for --since/--until (see timespec.h). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cleanup.h"
#include "record.h"
#include "cfgvalue.h"
#include "timespec.h"

enum {
	TIMESPEC_US_PER_SEC = 1000000,
};

/* 9999-12-31T23:59:59.999999Z */
static const uint64_t timespec_max_us = 253402300799999999u;


static unsigned
timespec_days_in_month(unsigned y, unsigned m)
{
	static const unsigned days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

/* Exactly n decimal digits at *p; advances *p. */
static bool
timespec_digits(const char **p, unsigned n, unsigned *ret)
{
	unsigned v = 0;

	for (unsigned i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		v = v * 10 + (unsigned)((*p)[i] - '0');
	}
	*p += n;
	*ret = v;
	return true;
}

/* A fraction after the '.': any number of digits, cut to microseconds. */
static bool
timespec_fraction(const char **p, uint64_t *ret_us)
{
	uint64_t us = 0, scale = 100000;
	const char *s = *p;

	if (!isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s); s++) {
		us += (uint64_t)(*s - '0') * scale;
		scale /= 10;
	}
	*p = s;
	*ret_us = us;
	return true;
}

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

	for (;;) {
		uint64_t n = 0, unit = 0;
		const char *u;
		size_t ulen;

		while (*s == ' ')
			s++;
		if (!*s)
			break;
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		for (; isdigit((unsigned char)*s); s++) {
			if (n > (UINT64_MAX - 9) / 10)
				return -ERANGE;
			n = n * 10 + (uint64_t)(*s - '0');
		}
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
		if (n > (timespec_max_us - total) / unit)
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
		if (total > timespec_max_us - now_us)
			return -ERANGE;
		*ret_us = now_us + total;
	}
	return 0;
}

/* "@SECONDS[.FRACTION]" */
static int
timespec_epoch(const char *s, uint64_t *ret_us)
{
	uint64_t sec = 0, frac = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		if (sec > timespec_max_us / TIMESPEC_US_PER_SEC)
			return -ERANGE;
		sec = sec * 10 + (uint64_t)(*s - '0');
	}
	if (*s == '.' && (s++, !timespec_fraction(&s, &frac)))
		return -EINVAL;
	if (*s)
		return -EINVAL;
	if (sec > timespec_max_us / TIMESPEC_US_PER_SEC)
		return -ERANGE;
	*ret_us = sec * TIMESPEC_US_PER_SEC + frac;
	return 0;
}

/* "+HH:MM", "+HHMM", "Z"; sets *ret_min (east of UTC) and *ret_have. */
static int
timespec_offset(const char **p, bool *ret_have, int *ret_min)
{
	const char *s = *p;
	unsigned h, m;
	int sign;

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
	sign = *s++ == '-' ? -1 : 1;
	if (!timespec_digits(&s, 2, &h))
		return -EINVAL;
	if (*s == ':')
		s++;
	if (!timespec_digits(&s, 2, &m) || h > 23 || m > 59)
		return -EINVAL;
	*p = s;
	*ret_have = true;
	*ret_min = sign * (int)(h * 60 + m);
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

	if (!timespec_digits(&s, 4, &y) || *s++ != '-' || !timespec_digits(&s, 2, &mo) ||
	    *s++ != '-' || !timespec_digits(&s, 2, &d))
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > timespec_days_in_month(y, mo))
		return -EINVAL;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		s++;
		if (!timespec_digits(&s, 2, &h) || *s++ != ':' || !timespec_digits(&s, 2, &mi))
			return -EINVAL;
		if (*s == ':') {
			s++;
			if (!timespec_digits(&s, 2, &sec))
				return -EINVAL;
			if (*s == '.' && (s++, !timespec_fraction(&s, &frac)))
				return -EINVAL;
		}
		if (h > 23 || mi > 59 || sec > 60)
			return -EINVAL;
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
		int64_t t = record_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
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
	return *ret_us > timespec_max_us ? -ERANGE : 0;
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
