/* The durable watermark's file format (src/store/watermark.h). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "watermark.h"
#include "testutil.h"

static const uint8_t id[RECORD_DIR_ID_LEN] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
					       0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10 };

START_TEST(test_round_trip)
{
	static const uint64_t seqs[] = { 0, 1, 9, 10, 123456789, UINT64_MAX };
	char buf[WATERMARK_LEN];

	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		uint8_t got_id[RECORD_DIR_ID_LEN];
		uint64_t got = 42;
		watermark_format(id, seqs[i], buf);
		ck_assert_int_eq(watermark_parse(buf, sizeof(buf), got_id, &got), 0);
		ck_assert_uint_eq(got, seqs[i]);
		ck_assert_mem_eq(got_id, id, sizeof(id));
	}
}
END_TEST

START_TEST(test_exact_bytes)
{
	char buf[WATERMARK_LEN + 1];

	watermark_format(id, 77, buf);
	buf[WATERMARK_LEN] = 0;
	ck_assert_str_eq(buf, "seglog-watermark 1 0123456789abcdeffedcba9876543210 "
			      "00000000000000000077\n");
}
END_TEST

/* A torn, truncated, padded or foreign file never yields a value. */
START_TEST(test_rejects_damage)
{
	char buf[WATERMARK_LEN + 8], copy[sizeof(buf)];
	uint8_t got_id[RECORD_DIR_ID_LEN];
	uint64_t got = 5;

	watermark_format(id, 1234, buf);
	ck_assert_int_eq(watermark_parse(buf, WATERMARK_LEN - 1, got_id, &got), -EBADMSG);
	ck_assert_int_eq(watermark_parse(buf, WATERMARK_LEN + 1, got_id, &got), -EBADMSG);
	for (size_t i = 0; i < WATERMARK_LEN; i++) {
		memcpy(copy, buf, WATERMARK_LEN);
		copy[i] = copy[i] == 'x' ? 'y' : 'x';
		ck_assert_int_eq(watermark_parse(copy, WATERMARK_LEN, got_id, &got), -EBADMSG);
	}
	memcpy(copy, buf, WATERMARK_LEN);
	memset(copy + WATERMARK_LEN - 21, '9', 20); /* > UINT64_MAX */
	ck_assert_int_eq(watermark_parse(copy, WATERMARK_LEN, got_id, &got), -EBADMSG);
	ck_assert_uint_eq(got, 5); /* untouched on failure */
}
END_TEST

static Suite *
watermark_suite(void)
{
	Suite *s = suite_create("watermark");
	TCase *tc = tcase_create("format");
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_exact_bytes);
	tcase_add_test(tc, test_rejects_damage);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(watermark_suite());
}
