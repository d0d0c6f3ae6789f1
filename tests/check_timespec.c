/* --since/--until time specifications: every documented form, the local
 * time zone (set through TZ, POSIX rules so no tzdata is needed), and the
 * errors. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "timespec.h"
#include "testutil.h"

/* 2026-11-24T09:02:35.123456Z */
static const uint64_t now = 1795510955123456u;
static const uint64_t sec = 1000000;

static void
set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static uint64_t
parse_ok(const char *s)
{
	uint64_t t = 0;
	int k = timespec_parse(s, now, &t);
	ck_assert_msg(k == 0, "'%s' gave %d", s, k);
	return t;
}

static void
parse_err(const char *s, int want)
{
	uint64_t t = 42;
	int k = timespec_parse(s, now, &t);
	ck_assert_msg(k == want, "'%s' gave %d, expected %d", s, k, want);
	ck_assert_uint_eq(t, 42);
}

START_TEST(test_rfc3339)
{
	set_tz("UTC0");
	ck_assert_uint_eq(parse_ok("2026-11-24T09:02:35.123456Z"), now);
	ck_assert_uint_eq(parse_ok("2026-11-24t09:02:35.123456z"), now);
	ck_assert_uint_eq(parse_ok("2026-11-24 09:02:35.123456Z"), now);
	ck_assert_uint_eq(parse_ok("2026-11-24T10:02:35.123456+01:00"), now);
	ck_assert_uint_eq(parse_ok("2026-11-24T10:02:35.123456+0100"), now);
	ck_assert_uint_eq(parse_ok("2026-11-24T04:32:35.123456-04:30"), now);
	/* a fraction of any length, cut to microseconds */
	ck_assert_uint_eq(parse_ok("2026-11-24T09:02:35.1234569999Z"), now);
	ck_assert_uint_eq(parse_ok("2026-11-24T09:02:35.1Z"), now - 23456);
	ck_assert_uint_eq(parse_ok("2026-11-24T09:02:35Z"), now - 123456);
	ck_assert_uint_eq(parse_ok("1970-01-01T00:00:00Z"), 0);
	ck_assert_uint_eq(parse_ok("9999-12-31T23:59:59.999999Z"), 253402300799999999u);
	/* leap day and leap second */
	ck_assert_uint_eq(parse_ok("2024-02-29T00:00:00Z"), 1709164800u * sec);
	ck_assert_uint_eq(parse_ok("2016-12-31T23:59:60Z"), 1483228799u * sec + 999999);
}
END_TEST

START_TEST(test_local_time)
{
	set_tz("UTC0");
	ck_assert_uint_eq(parse_ok("2026-11-24 09:02:35"), now - 123456);
	ck_assert_uint_eq(parse_ok("2026-11-24 09:02"), now - 35123456);
	ck_assert_uint_eq(parse_ok("2026-11-24"), now - (9 * 3600 + 2 * 60 + 35) * sec - 123456);
	/* one hour east of UTC, no DST: local 10:02:35 is 09:02:35Z */
	set_tz("XXX-1");
	ck_assert_uint_eq(parse_ok("2026-11-24 10:02:35.123456"), now);
	ck_assert_uint_eq(parse_ok("2026-11-24T10:02:35.123456"), now);
	ck_assert_uint_eq(parse_ok("2026-11-24T10:02:35.123456Z"), now + 3600 * sec);
	ck_assert_uint_eq(parse_ok("2026-11-24"), (1795510955u - 9 * 3600 - 155 - 3600) * sec);
	set_tz("UTC0");
}
END_TEST

START_TEST(test_words)
{
	uint64_t midnight = (1795510955u - (9 * 3600 + 2 * 60 + 35)) * sec;

	set_tz("UTC0");
	ck_assert_uint_eq(parse_ok("now"), now);
	ck_assert_uint_eq(parse_ok("NOW"), now);
	ck_assert_uint_eq(parse_ok("today"), midnight);
	ck_assert_uint_eq(parse_ok("Today"), midnight);
	ck_assert_uint_eq(parse_ok("yesterday"), midnight - 86400 * sec);
	ck_assert_uint_eq(parse_ok("tomorrow"), midnight + 86400 * sec);
	/* local midnight, two hours west */
	set_tz("XXX2");
	ck_assert_uint_eq(parse_ok("today"), midnight + 2 * 3600 * sec);
	set_tz("UTC0");
}
END_TEST

START_TEST(test_relative)
{
	ck_assert_uint_eq(parse_ok("-1h"), now - 3600 * sec);
	ck_assert_uint_eq(parse_ok("-30m"), now - 1800 * sec);
	ck_assert_uint_eq(parse_ok("-30min"), now - 1800 * sec);
	ck_assert_uint_eq(parse_ok("-2d"), now - 2 * 86400 * sec);
	ck_assert_uint_eq(parse_ok("-1w"), now - 7 * 86400 * sec);
	ck_assert_uint_eq(parse_ok("-1h30min"), now - 5400 * sec);
	ck_assert_uint_eq(parse_ok("-1h 30min"), now - 5400 * sec);
	ck_assert_uint_eq(parse_ok("-1 hour 30 minutes"), now - 5400 * sec);
	ck_assert_uint_eq(parse_ok("-2HOURS"), now - 7200 * sec);
	ck_assert_uint_eq(parse_ok("+5min"), now + 300 * sec);
	ck_assert_uint_eq(parse_ok("-30"), now - 30 * sec);
	ck_assert_uint_eq(parse_ok("-10s"), now - 10 * sec);
	ck_assert_uint_eq(parse_ok("-10sec"), now - 10 * sec);
	ck_assert_uint_eq(parse_ok("-500ms"), now - 500000);
	ck_assert_uint_eq(parse_ok("-7us"), now - 7);
	ck_assert_uint_eq(parse_ok("-0s"), now);
	/* the config's spellings too (issue 16: -1hr used to fail) */
	ck_assert_uint_eq(parse_ok("-1hr"), now - 3600 * sec);
	ck_assert_uint_eq(parse_ok("-2msec"), now - 2000);
	ck_assert_uint_eq(parse_ok("-1usec"), now - 1);
}
END_TEST

START_TEST(test_epoch)
{
	ck_assert_uint_eq(parse_ok("@1795510955.123456"), now);
	ck_assert_uint_eq(parse_ok("@1795510955"), now - 123456);
	ck_assert_uint_eq(parse_ok("@0"), 0);
	ck_assert_uint_eq(parse_ok("@1.5"), 1500000);
}
END_TEST

START_TEST(test_errors)
{
	set_tz("UTC0");
	parse_err("", -EINVAL);
	parse_err("soon", -EINVAL);
	parse_err("-", -EINVAL);
	parse_err("-1x", -EINVAL);
	parse_err("-1h30", -EINVAL);
	parse_err("-h", -EINVAL);
	parse_err("@", -EINVAL);
	parse_err("@1.", -EINVAL);
	parse_err("@-1", -EINVAL);
	parse_err("2026-13-01", -EINVAL);
	parse_err("2026-02-29", -EINVAL);
	parse_err("2026-11-31", -EINVAL);
	parse_err("2026-11-24T24:00:00Z", -EINVAL);
	parse_err("2026-11-24T09:60:00Z", -EINVAL);
	parse_err("2026-11-24T09:02:61Z", -EINVAL);
	parse_err("2026-11-24T09:02:35.Z", -EINVAL);
	parse_err("2026-11-24T09:02:35+1", -EINVAL);
	parse_err("2026-11-24T09:02:35+24:00", -EINVAL);
	parse_err("2026-11-24T09", -EINVAL);
	parse_err("2026-11-24Z", -EINVAL);
	parse_err("26-11-24", -EINVAL);
	parse_err("2026-11-24T09:02:35Z junk", -EINVAL);
	parse_err("1969-12-31T23:59:59Z", -ERANGE);
	parse_err("1970-01-01T00:30:00+01:00", -ERANGE);
	parse_err("-100000w", -ERANGE);
	parse_err("+10000000w", -ERANGE);
	parse_err("-99999999999999999999999h", -ERANGE);
	parse_err("@99999999999999", -ERANGE);
}
END_TEST

static Suite *
timespec_suite(void)
{
	Suite *s = suite_create("timespec");
	TCase *tc = tcase_create("parse");
	tcase_set_timeout(tc, 60); /* generous: CI machines are loaded */

	tcase_add_test(tc, test_rfc3339);
	tcase_add_test(tc, test_local_time);
	tcase_add_test(tc, test_words);
	tcase_add_test(tc, test_relative);
	tcase_add_test(tc, test_epoch);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	set_tz("UTC0");
	return test_run_suite(timespec_suite());
}
