/* Strict decimal numbers (basic/parse.h): what strtoull(3) would let
 * through -- blanks, signs, a prefix, overflow -- is refused here. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "parse.h"
#include "testutil.h"

static void
u64_ok(const char *s, uint64_t want)
{
	uint64_t v = 42;
	int k = parse_u64(s, &v);
	ck_assert_msg(k == 0, "'%s' gave %d", s, k);
	ck_assert_uint_eq(v, want);
}

static void
u64_err(const char *s, int want)
{
	uint64_t v = 42;
	int k = parse_u64(s, &v);
	ck_assert_msg(k == want, "'%s' gave %d, expected %d", s, k, want);
	ck_assert_uint_eq(v, 42); /* untouched */
}

START_TEST(test_u64)
{
	u64_ok("0", 0);
	u64_ok("7", 7);
	u64_ok("007", 7);
	u64_ok("1000000", 1000000);
	u64_ok("9999999999999999999", 9999999999999999999u); /* 19 digits */
	u64_ok("18446744073709551615", UINT64_MAX);
	u64_ok("000000000000000000000000018446744073709551615", UINT64_MAX);
	u64_err("", -EINVAL);
	u64_err(" 1", -EINVAL);
	u64_err(" -1", -EINVAL); /* strtoull: 2^64-1 */
	u64_err("-1", -EINVAL);
	u64_err("+1", -EINVAL);
	u64_err("-0", -EINVAL);
	u64_err("1 ", -EINVAL);
	u64_err("1x", -EINVAL);
	u64_err("0x10", -EINVAL);
	u64_err("1e3", -EINVAL);
	u64_err("\t1", -EINVAL);
	u64_err("1\n", -EINVAL);
	u64_err("١", -EINVAL); /* a non-ASCII digit */
	u64_err("18446744073709551616", -ERANGE); /* 2^64 */
	u64_err("18446744073709551620", -ERANGE);
	u64_err("99999999999999999999", -ERANGE);
	u64_err("184467440737095516150", -ERANGE);
	/* a bad byte after the overflow point is still a bad byte */
	u64_err("1844674407370955161x", -EINVAL);
}
END_TEST

START_TEST(test_mem)
{
	uint64_t v = 42;

	/* the length counts, not a NUL */
	ck_assert_int_eq(parse_u64_mem("123456", 3, &v), 0);
	ck_assert_uint_eq(v, 123);
	ck_assert_int_eq(parse_u64_mem("12\0", 3, &v), -EINVAL);
	ck_assert_int_eq(parse_u64_mem("", 0, &v), -EINVAL);
	ck_assert_int_eq(parse_u64_mem("0000000000000000000000", 22, &v), 0);
	ck_assert_uint_eq(v, 0);
	/* every byte that is not a digit, at the first and the 19th place */
	for (int c = 1; c < 256; c++) {
		char s[20];
		if (c >= '0' && c <= '9')
			continue;
		memset(s, '1', sizeof(s));
		s[0] = (char)c;
		ck_assert_int_eq(parse_u64_mem(s, 1, &v), -EINVAL);
		ck_assert_int_eq(parse_u64_mem(s, 19, &v), -EINVAL);
		ck_assert_int_eq(parse_u64_mem(s, 20, &v), -EINVAL);
		s[0] = '1';
		s[18] = (char)c;
		ck_assert_int_eq(parse_u64_mem(s, 19, &v), -EINVAL);
	}
}
END_TEST

START_TEST(test_canonical)
{
	uint64_t v = 42;

	ck_assert_int_eq(parse_u64_canonical("0", 1, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(parse_u64_canonical("10", 2, &v), 0);
	ck_assert_uint_eq(v, 10);
	ck_assert_int_eq(parse_u64_canonical("18446744073709551615", 20, &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	v = 42;
	ck_assert_int_eq(parse_u64_canonical("00", 2, &v), -EINVAL);
	ck_assert_int_eq(parse_u64_canonical("01", 2, &v), -EINVAL);
	ck_assert_int_eq(parse_u64_canonical("", 0, &v), -EINVAL);
	ck_assert_int_eq(parse_u64_canonical("18446744073709551616", 20, &v), -ERANGE);
	ck_assert_int_eq(parse_u64_canonical("-1", 2, &v), -EINVAL);
	ck_assert_uint_eq(v, 42);
}
END_TEST

START_TEST(test_digits)
{
	uint64_t v = 42;

	ck_assert_int_eq(parse_digits("2026-", 4, &v), 0);
	ck_assert_uint_eq(v, 2026);
	ck_assert_int_eq(parse_digits("09", 2, &v), 0);
	ck_assert_uint_eq(v, 9);
	ck_assert_int_eq(parse_digits("9999999999999999999", 19, &v), 0);
	ck_assert_uint_eq(v, 9999999999999999999u);
	ck_assert_int_eq(parse_digits("x", 0, &v), 0);
	ck_assert_uint_eq(v, 0);
	v = 42;
	/* stops at the NUL of a short string */
	ck_assert_int_eq(parse_digits("12", 4, &v), -EINVAL);
	ck_assert_int_eq(parse_digits(" 12", 3, &v), -EINVAL);
	ck_assert_int_eq(parse_digits("+1", 2, &v), -EINVAL);
	ck_assert_int_eq(parse_digits("1-", 2, &v), -EINVAL);
	ck_assert_uint_eq(v, 42);
	ck_assert(parse_is_digit('0') && parse_is_digit('9'));
	ck_assert(!parse_is_digit('/') && !parse_is_digit(':') && !parse_is_digit('\0'));
	ck_assert(!parse_is_digit((char)0xb0) && !parse_is_digit((char)0xff));
}
END_TEST

START_TEST(test_prefix)
{
	uint64_t v = 42;
	size_t n = 99;

	ck_assert_int_eq(parse_u64_prefix("123abc", SIZE_MAX, &v, &n), 0);
	ck_assert_uint_eq(v, 123);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(parse_u64_prefix("123", SIZE_MAX, &v, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(parse_u64_prefix("123456", 2, &v, &n), 0); /* the bound */
	ck_assert_uint_eq(v, 12);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(parse_u64_prefix("18446744073709551615,", SIZE_MAX, &v, &n), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_uint_eq(n, 20);
	ck_assert_int_eq(parse_u64_prefix("0001", SIZE_MAX, &v, &n), 0);
	ck_assert_uint_eq(v, 1);
	ck_assert_uint_eq(n, 4);
	v = 42;
	n = 99;
	ck_assert_int_eq(parse_u64_prefix("", SIZE_MAX, &v, &n), -EINVAL);
	ck_assert_int_eq(parse_u64_prefix("1", 0, &v, &n), -EINVAL);
	ck_assert_int_eq(parse_u64_prefix(" 1", SIZE_MAX, &v, &n), -EINVAL);
	ck_assert_int_eq(parse_u64_prefix("-1", SIZE_MAX, &v, &n), -EINVAL);
	ck_assert_int_eq(parse_u64_prefix("+1", SIZE_MAX, &v, &n), -EINVAL);
	ck_assert_int_eq(parse_u64_prefix("18446744073709551616", SIZE_MAX, &v, &n), -ERANGE);
	ck_assert_int_eq(parse_u64_prefix("99999999999999999999999x", SIZE_MAX, &v, &n), -ERANGE);
	ck_assert_uint_eq(v, 42);
	ck_assert_uint_eq(n, 99);
}
END_TEST

static Suite *
parse_suite(void)
{
	Suite *s = suite_create("parse");
	TCase *tc = tcase_create("decimal");

	tcase_add_test(tc, test_u64);
	tcase_add_test(tc, test_mem);
	tcase_add_test(tc, test_canonical);
	tcase_add_test(tc, test_digits);
	tcase_add_test(tc, test_prefix);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(parse_suite());
}
