/* Civil dates and RFC 3339 pieces (basic/datetime.h), against the
 * calendar: leap years (2000 is one, 1900 and 2100 are not), year 0 and
 * 9999, and every day of 1600..2400 both ways. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "datetime.h"
#include "testutil.h"

START_TEST(test_leap)
{
	ck_assert(datetime_is_leap(2000));
	ck_assert(datetime_is_leap(2024));
	ck_assert(datetime_is_leap(0));
	ck_assert(datetime_is_leap(1600));
	ck_assert(!datetime_is_leap(1900));
	ck_assert(!datetime_is_leap(2100));
	ck_assert(!datetime_is_leap(2026));
	ck_assert(!datetime_is_leap(9999));
	ck_assert_uint_eq(datetime_days_in_month(2024, 2), 29);
	ck_assert_uint_eq(datetime_days_in_month(2000, 2), 29);
	ck_assert_uint_eq(datetime_days_in_month(1900, 2), 28);
	ck_assert_uint_eq(datetime_days_in_month(2026, 2), 28);
	ck_assert_uint_eq(datetime_days_in_month(2026, 1), 31);
	ck_assert_uint_eq(datetime_days_in_month(2026, 4), 30);
	ck_assert_uint_eq(datetime_days_in_month(2026, 12), 31);
}
END_TEST

START_TEST(test_days)
{
	int64_t y;
	unsigned m, d;

	ck_assert_int_eq(datetime_days_from_civil(1970, 1, 1), 0);
	ck_assert_int_eq(datetime_days_from_civil(1969, 12, 31), -1);
	ck_assert_int_eq(datetime_days_from_civil(2000, 2, 29), 11016);
	ck_assert_int_eq(datetime_days_from_civil(2000, 3, 1), 11017);
	ck_assert_int_eq(datetime_days_from_civil(2026, 11, 24), 20781);
	ck_assert_int_eq(datetime_days_from_civil(9999, 12, 31), 2932896);
	ck_assert_int_eq(datetime_days_from_civil(0, 1, 1), -719528);
	ck_assert_int_eq(datetime_days_from_civil(0, 3, 1) - datetime_days_from_civil(0, 2, 28), 2);
	datetime_civil_from_days(-719528, &y, &m, &d);
	ck_assert(y == 0 && m == 1 && d == 1);
	datetime_civil_from_days(2932896, &y, &m, &d);
	ck_assert(y == 9999 && m == 12 && d == 31);
	datetime_civil_from_days(-1, &y, &m, &d);
	ck_assert(y == 1969 && m == 12 && d == 31);

	/* every day of 1600..2400, in order, both ways */
	int64_t z = datetime_days_from_civil(1600, 1, 1);
	for (int64_t yy = 1600; yy <= 2400; yy++)
		for (unsigned mm = 1; mm <= 12; mm++)
			for (unsigned dd = 1; dd <= datetime_days_in_month(yy, mm); dd++, z++) {
				ck_assert_int_eq(datetime_days_from_civil(yy, mm, dd), z);
				datetime_civil_from_days(z, &y, &m, &d);
				ck_assert(y == yy && m == mm && d == dd);
			}
}
END_TEST

START_TEST(test_parse_date)
{
	unsigned y = 1, m = 2, d = 3;

	ck_assert_int_eq(datetime_parse_date("2026-11-24", &y, &m, &d), 0);
	ck_assert(y == 2026 && m == 11 && d == 24);
	ck_assert_int_eq(datetime_parse_date("2024-02-29T", &y, &m, &d), 0);
	ck_assert(y == 2024 && m == 2 && d == 29);
	ck_assert_int_eq(datetime_parse_date("0000-01-01", &y, &m, &d), 0);
	ck_assert(y == 0 && m == 1 && d == 1);
	ck_assert_int_eq(datetime_parse_date("9999-12-31", &y, &m, &d), 0);
	ck_assert(y == 9999 && m == 12 && d == 31);
	ck_assert_int_eq(datetime_parse_date("2000-02-29", &y, &m, &d), 0);
	y = m = d = 7;
	ck_assert_int_eq(datetime_parse_date("2026-02-29", &y, &m, &d), -EINVAL);
	ck_assert_int_eq(datetime_parse_date("1900-02-29", &y, &m, &d), -EINVAL);
	ck_assert_int_eq(datetime_parse_date("2026-04-31", &y, &m, &d), -EINVAL);
	ck_assert_int_eq(datetime_parse_date("2026-00-01", &y, &m, &d), -EINVAL);
	ck_assert_int_eq(datetime_parse_date("2026-13-01", &y, &m, &d), -EINVAL);
	ck_assert_int_eq(datetime_parse_date("2026-01-00", &y, &m, &d), -EINVAL);
	ck_assert_int_eq(datetime_parse_date("", &y, &m, &d), -EINVAL);
	ck_assert_int_eq(datetime_parse_date("2026-1", &y, &m, &d), -EINVAL);
	ck_assert_int_eq(datetime_parse_date(" 2026-11-24", &y, &m, &d), -EINVAL);
	ck_assert_int_eq(datetime_parse_date("+2026-11-24", &y, &m, &d), -EINVAL);
	ck_assert_int_eq(datetime_parse_date("-026-11-24", &y, &m, &d), -EINVAL);
	ck_assert_int_eq(datetime_parse_date("2026/11/24", &y, &m, &d), -EINVAL);
	ck_assert_int_eq(datetime_parse_date("2026-11-2x", &y, &m, &d), -EINVAL);
	ck_assert(y == 7 && m == 7 && d == 7);
}
END_TEST

START_TEST(test_parse_time)
{
	unsigned h = 1, mi = 2, s = 3;
	int off = 42;
	uint32_t us = 42;

	ck_assert_int_eq(datetime_parse_hms("09:02:35", &h, &mi, &s), 0);
	ck_assert(h == 9 && mi == 2 && s == 35);
	ck_assert_int_eq(datetime_parse_hms("23:59:60", &h, &mi, &s), 0); /* a leap second */
	ck_assert(h == 23 && mi == 59 && s == 60);
	h = mi = s = 7;
	ck_assert_int_eq(datetime_parse_hms("24:00:00", &h, &mi, &s), -EINVAL);
	ck_assert_int_eq(datetime_parse_hms("09:60:00", &h, &mi, &s), -EINVAL);
	ck_assert_int_eq(datetime_parse_hms("09:02:61", &h, &mi, &s), -EINVAL);
	ck_assert_int_eq(datetime_parse_hms("09:02", &h, &mi, &s), -EINVAL);
	ck_assert_int_eq(datetime_parse_hms("9:02:35", &h, &mi, &s), -EINVAL);
	ck_assert_int_eq(datetime_parse_hms("", &h, &mi, &s), -EINVAL);
	ck_assert(h == 7 && mi == 7 && s == 7);

	ck_assert_int_eq(datetime_parse_utc_offset("+01:00", &off), 6);
	ck_assert_int_eq(off, 60);
	ck_assert_int_eq(datetime_parse_utc_offset("-04:30", &off), 6);
	ck_assert_int_eq(off, -270);
	ck_assert_int_eq(datetime_parse_utc_offset("+0530Z", &off), 5);
	ck_assert_int_eq(off, 330);
	ck_assert_int_eq(datetime_parse_utc_offset("-00:00", &off), 6);
	ck_assert_int_eq(off, 0);
	off = 42;
	ck_assert_int_eq(datetime_parse_utc_offset("+24:00", &off), -EINVAL);
	ck_assert_int_eq(datetime_parse_utc_offset("+01:60", &off), -EINVAL);
	ck_assert_int_eq(datetime_parse_utc_offset("+1", &off), -EINVAL);
	ck_assert_int_eq(datetime_parse_utc_offset("01:00", &off), -EINVAL);
	ck_assert_int_eq(datetime_parse_utc_offset("Z", &off), -EINVAL);
	ck_assert_int_eq(datetime_parse_utc_offset("", &off), -EINVAL);
	ck_assert_int_eq(off, 42);

	ck_assert_int_eq(datetime_parse_fraction(".123456Z", SIZE_MAX, &us), 7);
	ck_assert_uint_eq(us, 123456);
	ck_assert_int_eq(datetime_parse_fraction(".5", SIZE_MAX, &us), 2);
	ck_assert_uint_eq(us, 500000);
	ck_assert_int_eq(datetime_parse_fraction(".0000019999", SIZE_MAX, &us), 11); /* cut */
	ck_assert_uint_eq(us, 1);
	ck_assert_int_eq(datetime_parse_fraction(".123456", 3, &us), 3); /* the bound */
	ck_assert_uint_eq(us, 120000);
	/* none is no error, and no fraction */
	us = 42;
	ck_assert_int_eq(datetime_parse_fraction("Z", SIZE_MAX, &us), 0);
	ck_assert_uint_eq(us, 0);
	us = 42;
	ck_assert_int_eq(datetime_parse_fraction("", SIZE_MAX, &us), 0);
	ck_assert_uint_eq(us, 0);
	ck_assert_int_eq(datetime_parse_fraction(".5", 0, &us), 0);
	/* a dot without a digit is */
	us = 42;
	ck_assert_int_eq(datetime_parse_fraction(".Z", SIZE_MAX, &us), -EINVAL);
	ck_assert_int_eq(datetime_parse_fraction(".", SIZE_MAX, &us), -EINVAL);
	ck_assert_int_eq(datetime_parse_fraction(".5", 1, &us), -EINVAL);
	ck_assert_int_eq(datetime_parse_fraction(". 5", SIZE_MAX, &us), -EINVAL);
	ck_assert_uint_eq(us, 42);

	ck_assert_int_eq(datetime_month_from_abbr("Jan"), 1);
	ck_assert_int_eq(datetime_month_from_abbr("Dec 24"), 12);
	ck_assert_int_eq(datetime_month_from_abbr("jan"), -EINVAL);
	ck_assert_int_eq(datetime_month_from_abbr("Foo"), -EINVAL);
	for (unsigned m = 1; m <= 12; m++)
		ck_assert_int_eq(datetime_month_from_abbr(datetime_month_abbr[m - 1]), (int)m);
}
END_TEST

START_TEST(test_put)
{
	char buf[32];

	memset(buf, 0, sizeof(buf));
	datetime_put_date(buf, 2026, 11, 24);
	ck_assert_str_eq(buf, "2026-11-24");
	datetime_put_date(buf, 0, 1, 1);
	ck_assert_str_eq(buf, "0000-01-01");
	datetime_put_date(buf, 9999, 12, 31);
	ck_assert_str_eq(buf, "9999-12-31");
	datetime_put_date(buf, 12026, 2, 9); /* the year modulo 10000 */
	ck_assert_str_eq(buf, "2026-02-09");
	memset(buf, 0, sizeof(buf));
	datetime_put_hms(buf, 9, 2, 5);
	ck_assert_str_eq(buf, "09:02:05");
	datetime_put_hms(buf, 23, 59, 60);
	ck_assert_str_eq(buf, "23:59:60");
	memset(buf, 0, sizeof(buf));
	datetime_put_utc_offset(buf, 0);
	ck_assert_str_eq(buf, "+00:00");
	datetime_put_utc_offset(buf, 19800);
	ck_assert_str_eq(buf, "+05:30");
	datetime_put_utc_offset(buf, -16200);
	ck_assert_str_eq(buf, "-04:30");
	datetime_put_utc_offset(buf, -50400);
	ck_assert_str_eq(buf, "-14:00");
	memset(buf, 0, sizeof(buf));
	datetime_put2(buf, 7);
	ck_assert_str_eq(buf, "07");
	datetime_put2(buf, 123);
	ck_assert_str_eq(buf, "23");
}
END_TEST

static Suite *
datetime_suite(void)
{
	Suite *s = suite_create("datetime");
	TCase *tc = tcase_create("datetime");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_leap);
	tcase_add_test(tc, test_days);
	tcase_add_test(tc, test_parse_date);
	tcase_add_test(tc, test_parse_time);
	tcase_add_test(tc, test_put);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(datetime_suite());
}
