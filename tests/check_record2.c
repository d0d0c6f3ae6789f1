/* Record format version 2 (src/format/record.c, docs/format.md): hostname, msgid
 * and structured data in the line, header attributes, meta lines, and
 * version 1 lines still read as version 1. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "record.h"
#include "testutil.h"

#include <xxhash.h>

#define T "2026-11-24T09:02:35.123456Z"
#define GOLDEN_TIME_US UINT64_C(1795510955123456)

static const struct record golden = {
	.seq = 42, .time_us = GOLDEN_TIME_US, .pid = 1234, .uid = 1000, .gid = 1000,
	.facility = 1, .severity = 6, .tag = "myapp", .tag_len = 5,
	.msg = "hello world", .msg_len = 11, .claimed_pid = 77, .claimed_time_us = GOLDEN_TIME_US,
	.hostname = "web-1.example.org", .hostname_len = 17, .msgid = "ID47", .msgid_len = 4,
	.sd = "[exampleSDID@32473 iut=\"3\" eventSource=\"App\"]", .sd_len = 45,
};

/* Encodes r in the version into a buffer of exactly record_size_max()
 * bytes plus a canary; checks the bound. */
static char *
encode2(const struct record *r, unsigned version, size_t *ret_len)
{
	size_t max = record_size_max(r);
	char *buf = malloc(max + 8);

	ck_assert_ptr_nonnull(buf);
	memset(buf + max, 0x5a, 8);
	*ret_len = record_encode_version(r, version, buf);
	ck_assert_uint_le(*ret_len, max);
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq((unsigned char)buf[max + i], 0x5a);
	return buf;
}

static void
assert_same(const struct record *a, const struct record *b, bool v2_fields)
{
	ck_assert_uint_eq(a->seq, b->seq);
	ck_assert_uint_eq(a->time_us, b->time_us);
	ck_assert_int_eq(a->pid, b->pid);
	ck_assert_uint_eq(a->facility, b->facility);
	ck_assert_uint_eq(a->severity, b->severity);
	ck_assert_uint_eq(a->tag_len, b->tag_len);
	ck_assert_mem_eq(a->tag, b->tag, a->tag_len);
	ck_assert_uint_eq(a->msg_len, b->msg_len);
	ck_assert_mem_eq(a->msg, b->msg, a->msg_len);
	ck_assert_int_eq(a->claimed_pid, b->claimed_pid);
	ck_assert_uint_eq(a->claimed_time_us, b->claimed_time_us);
	if (!v2_fields)
		return;
	ck_assert_uint_eq(a->hostname_len, b->hostname_len);
	ck_assert_uint_eq(a->msgid_len, b->msgid_len);
	ck_assert_uint_eq(a->sd_len, b->sd_len);
	if (a->hostname_len)
		ck_assert_mem_eq(a->hostname, b->hostname, a->hostname_len);
	if (a->msgid_len)
		ck_assert_mem_eq(a->msgid, b->msgid, a->msgid_len);
	if (a->sd_len)
		ck_assert_mem_eq(a->sd, b->sd, a->sd_len);
}

/* The exact bytes: a printable message, hostname and SD are found by grep
 * (the SD's spaces are escaped, its quotes and brackets are not). */
START_TEST(test_golden_v2)
{
	size_t n;
	_cleanup_free_ char *line = encode2(&golden, 2, &n);
	const char *want = T " 42 user.info 1234 1000 1000 myapp 77 " T
			   " web-1.example.org ID47 [exampleSDID@32473\\x20iut=\"3\"\\x20eventSource=\"App\"]"
			   " hello world ";

	ck_assert_uint_eq(n, strlen(want) + 17);
	ck_assert_mem_eq(line, want, strlen(want));
	ck_assert_int_eq(line[n - 1], '\n');
}
END_TEST

START_TEST(test_round_trip_v2)
{
	static const char *const texts[] = { "", "-", "a b", "\\", "x\x01y", "\xff\xfe",
					     "caf\xc3\xa9", "[a b=\"c\\\"d\\]\"]" };
	const size_t nt = sizeof(texts) / sizeof(texts[0]);

	for (size_t h = 0; h < nt; h++)
		for (size_t m = 0; m < nt; m++)
			for (size_t d = 0; d < nt; d++) {
				struct record r = golden, out;
				size_t n;
				const char *reason = NULL;
				r.hostname = texts[h];
				r.hostname_len = strlen(texts[h]);
				r.msgid = texts[m];
				r.msgid_len = strlen(texts[m]);
				r.sd = texts[d];
				r.sd_len = strlen(texts[d]);
				_cleanup_free_ char *line = encode2(&r, 2, &n);
				_cleanup_free_ char *scratch = malloc(n);
				ck_assert_int_eq(record_decode_version(2, line, n, scratch, &out, &reason),
						 0);
				assert_same(&r, &out, true);
				uint64_t seq, t;
				ck_assert_int_eq(record_check_version(2, line, n, &seq, &t, NULL), 0);
				ck_assert_uint_eq(seq, 42);
			}
}
END_TEST

/* Version 1 lines keep reading as version 1 (what a v1 directory holds),
 * and a version 1 encoding drops the v2 fields. */
START_TEST(test_v1_still_reads)
{
	struct record out;
	size_t n;
	_cleanup_free_ char *line = encode2(&golden, 1, &n);
	_cleanup_free_ char *scratch = malloc(n);

	ck_assert_ptr_null(memmem(line, n, "web-1", 5));
	ck_assert_int_eq(record_decode_version(1, line, n, scratch, &out, NULL), 0);
	assert_same(&golden, &out, false);
	ck_assert_uint_eq(out.hostname_len + out.msgid_len + out.sd_len, 0);
	ck_assert_int_eq(record_decode(line, n, scratch, &out, NULL), -EBADMSG); /* not v2 */
}
END_TEST

/* A line of the given bytes with its " CSUM LF" (for hand-made meta
 * lines that the encoder would never write). */
static size_t
meta_raw(const char *text, char *buf)
{
	size_t n = strlen(text);

	memcpy(buf, text, n);
	n += (size_t)sprintf(buf + n, " %016llx\n", (unsigned long long)XXH3_64bits(text, n));
	return n;
}

START_TEST(test_meta_lines)
{
	char buf[256], scratch[256];
	const char *type, *body, *reason = NULL;
	size_t tl, bl, n = record_meta_encode("seal", 4, "k=1 x\ny", 7, buf);
	uint64_t seq, t;
	struct record r;

	ck_assert_int_eq(buf[0], '#');
	ck_assert_int_eq(record_meta_decode(buf, n, scratch, &type, &tl, &body, &bl), 0);
	ck_assert_uint_eq(tl, 4);
	ck_assert_mem_eq(type, "seal", 4);
	ck_assert_uint_eq(bl, 7);
	ck_assert_mem_eq(body, "k=1 x\ny", 7);
	ck_assert_int_eq(record_check_version(2, buf, n, &seq, &t, NULL), RECORD_LINE_META);
	ck_assert_int_eq(record_decode_version(2, buf, n, scratch, &r, NULL), RECORD_LINE_META);
	/* in version 1 a '#' line is damage */
	ck_assert_int_eq(record_check_version(1, buf, n, &seq, &t, &reason), -EBADMSG);
	ck_assert_str_eq(reason,
			 "a '#' line where a record was expected (meta lines exist in version 2)");
	/* a changed byte fails the checksum */
	buf[2] ^= 1;
	ck_assert_int_eq(record_check_version(2, buf, n, &seq, &t, NULL), -EBADMSG);
	/* "#seglog" is the header, never a meta line; bad types are damage */
	n = record_meta_encode("seglog", 6, "x", 1, buf);
	ck_assert_int_eq(record_check_version(2, buf, n, &seq, &t, NULL), -EBADMSG);
	n = record_meta_encode("Seal", 4, "x", 1, buf);
	ck_assert_int_eq(record_check_version(2, buf, n, &seq, &t, &reason), -EBADMSG);
	ck_assert_str_eq(reason, "bad meta line type");
	/* hand-made: no body field, and a raw control byte in the body (a
	 * hostile test found both accepted) */
	n = meta_raw("#seal", buf);
	ck_assert_int_eq(record_check_version(2, buf, n, &seq, &t, &reason), -EBADMSG);
	ck_assert_str_eq(reason, "meta line without a body field");
	ck_assert_int_eq(record_meta_decode(buf, n, scratch, &type, &tl, &body, &bl), -EBADMSG);
	n = meta_raw("#seal a\x1b" "b", buf);
	ck_assert_int_eq(record_decode_version(2, buf, n, scratch, &r, &reason), -EBADMSG);
	ck_assert_str_eq(reason, "bad escape or raw control byte in meta line body");
	n = meta_raw("#seal a\\x41b", buf); /* "\x41" is 'A': not the one encoding */
	ck_assert_int_eq(record_decode_version(2, buf, n, scratch, &r, NULL), -EBADMSG);
	n = meta_raw("#seal ", buf); /* an empty body is fine */
	ck_assert_int_eq(record_decode_version(2, buf, n, scratch, &r, NULL), RECORD_LINE_META);
}
END_TEST

START_TEST(test_header_v2)
{
	struct segment_header h = { .version = 2, .first_seq = 7, .created_us = GOLDEN_TIME_US },
			      out;
	char buf[RECORD_HEADER_MAX];
	size_t n;
	const char *reason = NULL;

	memset(h.dir_id, 0xab, sizeof(h.dir_id));
	n = record_header_encode(&h, buf);
	static const char head[] = "#seglog 2 7 " T " abababababababababababababababab - ";
	ck_assert_uint_eq(n, sizeof(head) - 1 + 17);
	ck_assert_mem_eq(buf, head, sizeof(head) - 1);
	ck_assert_int_eq(record_header_decode(buf, n, &out, NULL), 0);
	ck_assert_uint_eq(out.version, 2);
	ck_assert_uint_eq(out.attrs_len, 0);
	strcpy(h.attrs, "seal=1,next-key=ab:cd");
	h.attrs_len = strlen(h.attrs);
	n = record_header_encode(&h, buf);
	ck_assert_int_le(n, RECORD_HEADER_MAX);
	ck_assert_int_eq(record_header_decode(buf, n, &out, &reason), 0);
	ck_assert_str_eq(out.attrs, "seal=1,next-key=ab:cd");
	static const char *const bad[] = { "=1", "a", "a=1,", "A=1", "a=1,,b=2", "a=\x7f" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(h.attrs, bad[i]);
		h.attrs_len = strlen(h.attrs);
		n = record_header_encode(&h, buf);
		ck_assert_msg(record_header_decode(buf, n, &out, &reason) == -EBADMSG, "took %s",
			      bad[i]);
		ck_assert_str_eq(reason, "bad header attributes");
	}
}
END_TEST

/* Oversized v2 fields are refused on decode, as the tag is. */
START_TEST(test_v2_limits)
{
	char host[RECORD_HOST_MAX + 2];
	struct record r = golden, out;
	const char *reason = NULL;
	size_t n;

	memset(host, 'h', sizeof(host));
	r.hostname = host;
	r.hostname_len = RECORD_HOST_MAX;
	_cleanup_free_ char *ok = encode2(&r, 2, &n);
	_cleanup_free_ char *scratch = malloc(n + 8);
	ck_assert_int_eq(record_decode_version(2, ok, n, scratch, &out, NULL), 0);
	r.hostname_len = RECORD_HOST_MAX + 1;
	_cleanup_free_ char *big = encode2(&r, 2, &n);
	_cleanup_free_ char *scratch2 = malloc(n);
	ck_assert_int_eq(record_decode_version(2, big, n, scratch2, &out, &reason), -EBADMSG);
	ck_assert_str_eq(reason, "bad hostname field");
}
END_TEST

static Suite *
record2_suite(void)
{
	Suite *s = suite_create("record2");
	TCase *tc = tcase_create("v2");
	tcase_add_test(tc, test_golden_v2);
	tcase_add_test(tc, test_round_trip_v2);
	tcase_add_test(tc, test_v1_still_reads);
	tcase_add_test(tc, test_meta_lines);
	tcase_add_test(tc, test_header_v2);
	tcase_add_test(tc, test_v2_limits);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(record2_suite());
}
