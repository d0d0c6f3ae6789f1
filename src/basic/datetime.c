/* Civil dates and RFC 3339 pieces (datetime.h). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "datetime.h"
#include "parse.h"

const char datetime_month_abbr[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

bool
datetime_is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned
datetime_days_in_month(int64_t y, unsigned m)
{
	static const unsigned char days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && datetime_is_leap(y) ? 29 : days[(m - 1) % 12];
}

int64_t
datetime_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void
datetime_civil_from_days(int64_t days, int64_t *ret_y, unsigned *ret_m, unsigned *ret_d)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;

	*ret_d = doy - (153 * mp + 2) / 5 + 1;
	*ret_m = m;
	*ret_y = (int64_t)yoe + era * 400 + (m <= 2);
}

/* "A<sep>BB<sep>CC" with `first` digits in A: the shape of a date and of
 * a clock.  Reads no further than the first byte that does not match. */
static int
datetime_parse_fields(const char *s, size_t first, char sep, unsigned ret[3])
{
	uint64_t a, b, c;

	if (parse_digits(s, first, &a) < 0 || s[first] != sep ||
	    parse_digits(s + first + 1, 2, &b) < 0 || s[first + 3] != sep ||
	    parse_digits(s + first + 4, 2, &c) < 0)
		return -EINVAL;
	ret[0] = (unsigned)a;
	ret[1] = (unsigned)b;
	ret[2] = (unsigned)c;
	return 0;
}

int
datetime_parse_date(const char *s, unsigned *ret_y, unsigned *ret_m, unsigned *ret_d)
{
	unsigned f[3]; /* year, month, day */

	if (datetime_parse_fields(s, 4, '-', f) < 0 || f[1] < 1 || f[1] > 12 || f[2] < 1 ||
	    f[2] > datetime_days_in_month(f[0], f[1]))
		return -EINVAL;
	*ret_y = f[0];
	*ret_m = f[1];
	*ret_d = f[2];
	return 0;
}

int
datetime_parse_hms(const char *s, unsigned *ret_h, unsigned *ret_min, unsigned *ret_sec)
{
	unsigned f[3]; /* hour, minute, second */

	if (datetime_parse_fields(s, 2, ':', f) < 0 || f[0] > 23 || f[1] > 59 || f[2] > 60)
		return -EINVAL;
	*ret_h = f[0];
	*ret_min = f[1];
	*ret_sec = f[2];
	return 0;
}

int
datetime_parse_utc_offset(const char *s, int *ret_min)
{
	uint64_t h, m;
	size_t at;

	if ((s[0] != '+' && s[0] != '-') || parse_digits(s + 1, 2, &h) < 0)
		return -EINVAL;
	at = s[3] == ':' ? 4 : 3;
	if (parse_digits(s + at, 2, &m) < 0 || h > 23 || m > 59)
		return -EINVAL;
	*ret_min = (s[0] == '-' ? -1 : 1) * (int)(h * 60 + m);
	return (int)at + 2;
}

int
datetime_parse_fraction(const char *s, size_t n, uint32_t *ret_us)
{
	uint32_t us = 0;
	size_t i;

	if (n == 0 || s[0] != '.') {
		*ret_us = 0;
		return 0;
	}
	for (i = 1; i < n && parse_is_digit(s[i]); i++)
		if (i <= DATETIME_FRACTION_DIGITS)
			us = us * 10 + (uint32_t)(s[i] - '0');
	if (i == 1)
		return -EINVAL;
	for (size_t k = i; k <= DATETIME_FRACTION_DIGITS; k++)
		us *= 10;
	*ret_us = us;
	return (int)i;
}

int
datetime_month_from_abbr(const char *s)
{
	for (int m = 0; m < 12; m++)
		if (memcmp(s, datetime_month_abbr[m], 3) == 0)
			return m + 1;
	return -EINVAL;
}

void
datetime_put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

void
datetime_put_date(char *p, int64_t y, unsigned m, unsigned d)
{
	unsigned yy = (unsigned)(y % 10000);

	datetime_put2(p, yy / 100);
	datetime_put2(p + 2, yy % 100);
	p[4] = '-';
	datetime_put2(p + 5, m);
	p[7] = '-';
	datetime_put2(p + 8, d);
}

void
datetime_put_hms(char *p, unsigned h, unsigned min, unsigned sec)
{
	datetime_put2(p, h);
	p[2] = ':';
	datetime_put2(p + 3, min);
	p[5] = ':';
	datetime_put2(p + 6, sec);
}

void
datetime_put_utc_offset(char *p, long off_s)
{
	unsigned long a = off_s < 0 ? 0ul - (unsigned long)off_s : (unsigned long)off_s;

	p[0] = off_s < 0 ? '-' : '+';
	datetime_put2(p + 1, (unsigned)(a / 3600 % 100));
	p[3] = ':';
	datetime_put2(p + 4, (unsigned)(a / 60 % 60));
}
