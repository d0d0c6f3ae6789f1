/* The clocks in microseconds (basic/now.h), against time(2) and each
 * other. */
#include "config.h"

#include <stdint.h>
#include <time.h>

#include "now.h"
#include "testutil.h"

START_TEST(test_realtime)
{
	uint64_t before = (uint64_t)time(NULL), t = now_us(CLOCK_REALTIME);
	uint64_t after = (uint64_t)time(NULL);

	ck_assert_uint_ge(t / 1000000, before);
	ck_assert_uint_le(t / 1000000, after);
}
END_TEST

START_TEST(test_monotonic)
{
	struct timespec ts;
	uint64_t a = now_us(CLOCK_MONOTONIC), b;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	b = now_us(CLOCK_MONOTONIC);
	ck_assert_uint_le(a, b);
	ck_assert_uint_le(a / 1000000, (uint64_t)ts.tv_sec);
	ck_assert_uint_ge(b / 1000000, (uint64_t)ts.tv_sec);
	/* never backwards, call after call */
	for (int i = 0; i < 1000; i++) {
		uint64_t c = now_us(CLOCK_MONOTONIC);
		ck_assert_uint_ge(c, b);
		b = c;
	}
}
END_TEST

static Suite *
now_suite(void)
{
	Suite *s = suite_create("now");
	TCase *tc = tcase_create("clocks");

	tcase_add_test(tc, test_realtime);
	tcase_add_test(tc, test_monotonic);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(now_suite());
}
