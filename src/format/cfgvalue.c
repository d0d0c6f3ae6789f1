/* The value parsers of seglogd.conf (cfg.h, cfgvalue.h): pure. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "cfg.h"
#include "cfgvalue.h"
#include "cleanup.h"
#include "parse.h"
#include "record.h"

const struct cfg_unit cfg_size_units[] = {
	{ "T", CFG_TIB }, { "t", CFG_TIB }, { "TiB", CFG_TIB }, { "G", CFG_GIB }, { "g", CFG_GIB },
	{ "GiB", CFG_GIB }, { "M", CFG_MIB }, { "m", CFG_MIB }, { "MiB", CFG_MIB }, { "K", CFG_KIB },
	{ "k", CFG_KIB }, { "KiB", CFG_KIB }, { "", 1 }, { "B", 1 }, { NULL, 0 },
};

/* The one duration vocabulary (issue 16), systemd.time(7)'s spellings,
 * of the config file and of the command line's relative times (timespec.c):
 * matched whole, ignoring case.  The first name of each size is the one
 * cfg_format() writes. */
const struct cfg_unit cfg_duration_units[] = {
	{ "w", 604800 * CFG_SEC }, { "week", 604800 * CFG_SEC }, { "weeks", 604800 * CFG_SEC },
	{ "d", 86400 * CFG_SEC },  { "day", 86400 * CFG_SEC },   { "days", 86400 * CFG_SEC },
	{ "h", 3600 * CFG_SEC },   { "hr", 3600 * CFG_SEC },     { "hour", 3600 * CFG_SEC },
	{ "hours", 3600 * CFG_SEC }, { "min", 60 * CFG_SEC },    { "m", 60 * CFG_SEC },
	{ "minute", 60 * CFG_SEC }, { "minutes", 60 * CFG_SEC }, { "s", CFG_SEC },
	{ "sec", CFG_SEC },	   { "second", CFG_SEC },	 { "seconds", CFG_SEC },
	{ "ms", CFG_MS },	   { "msec", CFG_MS },		 { "us", 1 },
	{ "usec", 1 },		   { NULL, 0 },
};

/* --- value parsers ------------------------------------------------------ */

const char *
cfg_skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* A byte count: digits and an optional binary suffix (K = 1024, as in
 * systemd and journald.conf(5)).  Fractions ("1.5M") are refused: the
 * byte count they stand for would be rounded behind the user's back. */
int
cfg_parse_size(const char *s, uint64_t *ret)
{
	uint64_t v;
	size_t n;
	int r = parse_u64_prefix(s, SIZE_MAX, &v, &n);

	if (r < 0)
		return r;
	for (const struct cfg_unit *u = cfg_size_units; u->name; u++)
		if (strcmp(s + n, u->name) == 0) {
			if (v > UINT64_MAX / u->mult)
				return -ERANGE;
			*ret = v * u->mult;
			return 0;
		}
	return -EINVAL;
}

uint64_t
cfg_duration_unit(const char *unit, size_t n)
{
	for (const struct cfg_unit *u = cfg_duration_units; u->name; u++)
		if (strlen(u->name) == n && strncasecmp(u->name, unit, n) == 0)
			return u->mult;
	return 0;
}

/* A duration as in systemd.time(7): one or more "NUMBER UNIT" parts that
 * add up ("1h30m", "1h 30min", "500ms"); a lone number is seconds ("30"),
 * but a number without a unit after another part ("1h30") is refused as
 * ambiguous.  No fractions, like sizes. */
int
cfg_parse_duration(const char *s, uint64_t *ret_us)
{
	const char *p = cfg_skip_blanks(s);
	uint64_t total = 0;
	bool first = true;

	if (!*p)
		return -EINVAL;
	while (*p) {
		const char *unit;
		uint64_t v, us;
		size_t n;
		int r = parse_u64_prefix(p, SIZE_MAX, &v, &n);

		if (r < 0)
			return r;
		p = cfg_skip_blanks(p + n);
		for (unit = p; (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'); p++)
			;
		if (p > unit)
			us = cfg_duration_unit(unit, (size_t)(p - unit));
		else
			us = first && !*p ? CFG_SEC : 0; /* "30" is seconds; "1h30" is unclear */
		first = false;
		if (!us)
			return -EINVAL;
		if (v > UINT64_MAX / us || v * us > UINT64_MAX - total)
			return -ERANGE;
		total += v * us;
		p = cfg_skip_blanks(p);
	}
	*ret_us = total;
	return 0;
}

/* An octal permission mode, 0 .. 07777 ("0640", "640", "0"). */
int
cfg_parse_mode(const char *s, mode_t *ret)
{
	unsigned v = 0;

	if (!*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '7')
			return -EINVAL;
		if (v <= 07777) /* past it, only the rest's syntax matters */
			v = v * 8 + (unsigned)(*p - '0');
	}
	if (v > 07777)
		return -ERANGE;
	*ret = (mode_t)v;
	return 0;
}

/* A syslog(3) level by name or number, LOG_EMERG (0) .. LOG_DEBUG (7). */
int
cfg_parse_log_level(const char *s, int *ret)
{
	int v = record_severity_parse(s, strlen(s));

	if (v < 0)
		return -EINVAL;
	*ret = v;
	return 0;
}
