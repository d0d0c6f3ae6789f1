/* Hexadecimal digits (basic/hex.h): written in lower case; read in lower
 * case only or in either case. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hex.h"
#include "testutil.h"

START_TEST(test_value)
{
	for (unsigned c = 0; c < 256; c++) {
		int want_lower = c >= '0' && c <= '9' ? (int)(c - '0')
				 : c >= 'a' && c <= 'f' ? (int)(c - 'a' + 10)
							: -EINVAL;
		int want_any = want_lower >= 0	       ? want_lower
			       : c >= 'A' && c <= 'F' ? (int)(c - 'A' + 10)
						       : -EINVAL;
		ck_assert_msg(hex_value_lower(c) == want_lower, "lower 0x%02x", c);
		ck_assert_msg(hex_value(c) == want_any, "any 0x%02x", c);
	}
	/* a plain char that is negative is no digit */
	ck_assert_int_eq(hex_value((unsigned)(char)0xe6), -EINVAL);
	ck_assert_int_eq(hex_value_lower((unsigned)(char)0xb0), -EINVAL);
	for (unsigned v = 0; v < 16; v++)
		ck_assert_int_eq(hex_value_lower((unsigned char)hex_char(v)), (int)v);
	ck_assert_int_eq(hex_char(0x1f), 'f');
}
END_TEST

START_TEST(test_put)
{
	char buf[17] = { 0 };

	hex_put_u64(buf, 0);
	ck_assert_str_eq(buf, "0000000000000000");
	hex_put_u64(buf, UINT64_MAX);
	ck_assert_str_eq(buf, "ffffffffffffffff");
	hex_put_u64(buf, 0x0123456789abcdefu);
	ck_assert_str_eq(buf, "0123456789abcdef");
	for (uint64_t v = 1; v; v <<= 7) {
		char want[17];
		snprintf(want, sizeof(want), "%016llx", (unsigned long long)v);
		hex_put_u64(buf, v);
		ck_assert_str_eq(buf, want);
	}
	/* every digit value at every position (the digits are made sixteen at
	 * a time, a word each half) */
	for (int pos = 0; pos < 16; pos++)
		for (uint64_t d = 0; d < 16; d++) {
			char want[17];
			uint64_t v = (0x9e3779b97f4a7c15u & ~(UINT64_C(15) << 4 * pos)) | d << 4 * pos;
			snprintf(want, sizeof(want), "%016llx", (unsigned long long)v);
			hex_put_u64(buf, v);
			ck_assert_str_eq(buf, want);
		}
	memset(buf, 0, sizeof(buf));
	hex_put_byte(buf, 0xa5);
	ck_assert_str_eq(buf, "a5");
	hex_put_byte(buf, 0x0f);
	ck_assert_str_eq(buf, "0f");
}
END_TEST

START_TEST(test_encode_decode)
{
	const uint8_t id[4] = { 0x00, 0x9f, 0xa0, 0xff };
	uint8_t back[4] = { 0 };
	char s[9] = { 0 };

	hex_encode(id, sizeof(id), s);
	ck_assert_str_eq(s, "009fa0ff");
	ck_assert_int_eq(hex_decode_lower(s, sizeof(back), back), 0);
	ck_assert_mem_eq(back, id, sizeof(id));
	ck_assert_int_eq(hex_decode_lower("", 0, back), 0);
	ck_assert_int_eq(hex_decode_lower("009FA0FF", 4, back), -EINVAL); /* upper case */
	ck_assert_int_eq(hex_decode_lower("009fa0fg", 4, back), -EINVAL);
	ck_assert_int_eq(hex_decode_lower(" 09fa0ff", 4, back), -EINVAL);
	ck_assert_int_eq(hex_decode_lower("-09fa0ff", 4, back), -EINVAL);
	ck_assert_int_eq(hex_decode_lower("0x9fa0ff", 4, back), -EINVAL);
	ck_assert_int_eq(hex_decode_lower("009fa0f\0", 4, back), -EINVAL);
}
END_TEST

static Suite *
hex_suite(void)
{
	Suite *s = suite_create("hex");
	TCase *tc = tcase_create("hex");

	tcase_add_test(tc, test_value);
	tcase_add_test(tc, test_put);
	tcase_add_test(tc, test_encode_decode);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(hex_suite());
}
