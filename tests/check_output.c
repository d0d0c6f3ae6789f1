/* Record output for seglog tail/cat: the short line, terminal escaping
 * (nothing in a record reaches a terminal raw), JSON exactly per
 * PRODUCT.md §3 with byte arrays for non-UTF-8, raw, and the size bound. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output.h"
#include "testutil.h"

/* 2026-11-24T09:02:35.123456Z */
static const uint64_t t0 = 1795510955123456u;

static struct record
rec(const char *tag, const char *msg, size_t msg_len)
{
	return (struct record){
		.seq = 42, .time_us = t0, .pid = 1234, .uid = 1000, .gid = 100,
		.facility = 1, .severity = 6, .tag = tag, .tag_len = strlen(tag),
		.msg = msg, .msg_len = msg_len, .claimed_pid = RECORD_NO_CLAIMED_PID,
	};
}

/* Formats r in mode and compares with want (NUL-terminated). */
static void
assert_format(enum output_mode mode, bool color, bool escape, const struct record *r,
	      const char *want)
{
	struct output o;
	char *buf = malloc(output_max(r) + 1);
	size_t n;

	ck_assert_ptr_nonnull(buf);
	output_init(&o, mode, color, escape);
	n = output_format(&o, r, buf);
	ck_assert_uint_le(n, output_max(r));
	buf[n] = '\0';
	ck_assert_str_eq(buf, want);
	free(buf);
}

static void
assert_escape(const char *in, size_t n, const char *want)
{
	char out[256];
	size_t k = output_escape_terminal(in, n, out);
	ck_assert_uint_le(k, 4 * n);
	out[k] = '\0';
	ck_assert_str_eq(out, want);
}

static void
assert_json(const char *in, size_t n, const char *want)
{
	char out[1024];
	size_t k = output_json_value(in, n, out);
	ck_assert_uint_le(k, 6 * n + 2);
	out[k] = '\0';
	ck_assert_str_eq(out, want);
}

START_TEST(test_short)
{
	struct record r = rec("myapp", "hello world", 11);

	assert_format(OUTPUT_SHORT, false, false, &r, "Nov 24 09:02:35 myapp[1234]: hello world\n");
	r.time_us = 1704067199999999u; /* 2023-12-31T23:59:59.999999Z */
	assert_format(OUTPUT_SHORT, false, false, &r, "Dec 31 23:59:59 myapp[1234]: hello world\n");
	r.time_us = 1709164800000000u; /* 2024-02-29T00:00:00Z */
	assert_format(OUTPUT_SHORT, false, false, &r, "Feb 29 00:00:00 myapp[1234]: hello world\n");
	r = rec("", "", 0);
	assert_format(OUTPUT_SHORT, false, false, &r, "Nov 24 09:02:35 [1234]: \n");
}
END_TEST

START_TEST(test_short_local_time)
{
	struct record r = rec("a", "m", 1);

	setenv("TZ", "XXX-1", 1);
	tzset();
	assert_format(OUTPUT_SHORT, false, false, &r, "Nov 24 10:02:35 a[1234]: m\n");
	setenv("TZ", "UTC0", 1);
	tzset();
}
END_TEST

START_TEST(test_short_escapes_tag_and_message)
{
	static const char msg[] = "\x1b[2J\x1b]0;pwned\x07 line1\nline2";
	struct record r = rec("ev\x1bil tag", msg, sizeof(msg) - 1);

	assert_format(OUTPUT_SHORT, false, false, &r,
		      "Nov 24 09:02:35 ev\\x1bil tag[1234]: \\x1b[2J\\x1b]0;pwned\\x07 "
		      "line1\\nline2\n");
}
END_TEST

START_TEST(test_colors)
{
	static const struct {
		unsigned severity;
		const char *want;
	} cases[] = {
		{ 0, "Nov 24 09:02:35 t[1234]: \033[1;31mm\033[0m\n" },
		{ 3, "Nov 24 09:02:35 t[1234]: \033[1;31mm\033[0m\n" },
		{ 4, "Nov 24 09:02:35 t[1234]: \033[1;33mm\033[0m\n" },
		{ 5, "Nov 24 09:02:35 t[1234]: \033[1mm\033[0m\n" },
		{ 6, "Nov 24 09:02:35 t[1234]: m\n" },
		{ 7, "Nov 24 09:02:35 t[1234]: \033[2mm\033[0m\n" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct record r = rec("t", "m", 1);
		r.severity = (uint8_t)cases[i].severity;
		assert_format(OUTPUT_SHORT, true, false, &r, cases[i].want);
		assert_format(OUTPUT_SHORT, false, false, &r, "Nov 24 09:02:35 t[1234]: m\n");
	}
}
END_TEST

START_TEST(test_terminal_escaping)
{
	assert_escape("plain text ~!@#$%^&*()", 22, "plain text ~!@#$%^&*()");
	assert_escape("back\\slash", 10, "back\\slash");
	assert_escape("a\tb\rc\nd", 7, "a\\tb\\rc\\nd");
	assert_escape("\x00\x01\x1f\x7f", 4, "\\x00\\x01\\x1f\\x7f");
	/* valid UTF-8 stays */
	assert_escape("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15,
		      "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80");
	/* C1 controls (U+009B is CSI on many terminals) byte by byte */
	assert_escape("\xc2\x9b" "31m", 5, "\\xc2\\x9b" "31m");
	assert_escape("\xc2\x85", 2, "\\xc2\\x85");
	assert_escape("\xc2\xa0", 2, "\xc2\xa0"); /* U+00A0 is printable */
	/* invalid UTF-8: stray continuation, overlong, surrogate, > U+10FFFF, truncated */
	assert_escape("\x80\xff", 2, "\\x80\\xff");
	assert_escape("\xc0\xaf", 2, "\\xc0\\xaf");
	assert_escape("\xed\xa0\x80", 3, "\\xed\\xa0\\x80");
	assert_escape("\xf4\x90\x80\x80", 4, "\\xf4\\x90\\x80\\x80");
	assert_escape("\xe2\x82", 2, "\\xe2\\x82");
	/* bidirectional overrides (Trojan Source) */
	assert_escape("a\xe2\x80\xae" "b\xe2\x81\xa6" "c", 9, "a\\u202eb\\u2066c");
}
END_TEST

START_TEST(test_json)
{
	struct record r = rec("myapp", "hello \"world\"", 13);

	assert_format(OUTPUT_JSON, true, true, &r,
		      "{\"seq\":42,\"time\":\"2026-11-24T09:02:35.123456Z\",\"pid\":1234,"
		      "\"uid\":1000,\"gid\":100,\"facility\":\"user\",\"severity\":\"info\","
		      "\"tag\":\"myapp\",\"message\":\"hello \\\"world\\\"\"}\n");
	r = rec("", "", 0);
	r.facility = 4;
	r.severity = 2;
	r.seq = 18446744073709551615u;
	assert_format(OUTPUT_JSON, false, false, &r,
		      "{\"seq\":18446744073709551615,\"time\":\"2026-11-24T09:02:35.123456Z\","
		      "\"pid\":1234,\"uid\":1000,\"gid\":100,\"facility\":\"auth\","
		      "\"severity\":\"crit\",\"tag\":\"\",\"message\":\"\"}\n");
}
END_TEST

/* PRODUCT.md §3: hostname, msgid, sd, claimed_pid and claimed_time where
 * the sender gave them; sd as SD-ID -> {param: value}, a repeated param
 * (in one element or in repeated elements of one SD-ID) as an array. */
START_TEST(test_json_fidelity)
{
	static const char sd[] = "[origin ip=\"10.0.0.1\" ip=\"10.0.0.2\"][x@1 k=\"a\\\"b\\]c\"]"
				 "[origin software=\"logger\"]";
	struct record r = rec("app", "m", 1);

	r.hostname = "web-1";
	r.hostname_len = 5;
	r.msgid = "ID47";
	r.msgid_len = 4;
	r.sd = sd;
	r.sd_len = sizeof(sd) - 1;
	r.claimed_pid = 77;
	r.claimed_time_us = t0 - 1000000;
	assert_format(OUTPUT_JSON, false, false, &r,
		      "{\"seq\":42,\"time\":\"2026-11-24T09:02:35.123456Z\",\"pid\":1234,"
		      "\"uid\":1000,\"gid\":100,\"facility\":\"user\",\"severity\":\"info\","
		      "\"tag\":\"app\",\"message\":\"m\",\"hostname\":\"web-1\",\"msgid\":\"ID47\","
		      "\"sd\":{\"origin\":{\"ip\":[\"10.0.0.1\",\"10.0.0.2\"],\"software\":\"logger\"},"
		      "\"x@1\":{\"k\":\"a\\\"b]c\"}},\"claimed_pid\":77,"
		      "\"claimed_time\":\"2026-11-24T09:02:34.123456Z\"}\n");
	/* -o short: the sender's hostname before the tag, as journalctl shows it */
	setenv("TZ", "UTC", 1);
	tzset();
	assert_format(OUTPUT_SHORT, false, false, &r, "Nov 24 09:02:35 web-1 app[1234]: m\n");
	/* the bound holds for structured data of many short, escaped and
	 * non-UTF-8 values */
	char big[4096];
	size_t n = 0;
	n += (size_t)sprintf(big + n, "[a");
	for (int i = 0; i < 300; i++)
		n += (size_t)sprintf(big + n, " %c=\"%s\"", 'b' + i % 3, i % 2 ? "\\\\" : "\xff");
	n += (size_t)sprintf(big + n, "][c]");
	r.sd = big;
	r.sd_len = n;
	{
		struct output o;
		char *buf = malloc(output_max(&r));
		output_init(&o, OUTPUT_JSON, false, false);
		ck_assert_uint_le(output_format(&o, &r, buf), output_max(&r));
		free(buf);
	}
	/* what does not parse as STRUCTURED-DATA stays a string */
	r.sd = "[broken";
	r.sd_len = 7;
	r.hostname_len = r.msgid_len = 0;
	r.claimed_pid = RECORD_NO_CLAIMED_PID;
	r.claimed_time_us = 0;
	assert_format(OUTPUT_JSON, false, false, &r,
		      "{\"seq\":42,\"time\":\"2026-11-24T09:02:35.123456Z\",\"pid\":1234,"
		      "\"uid\":1000,\"gid\":100,\"facility\":\"user\",\"severity\":\"info\","
		      "\"tag\":\"app\",\"message\":\"m\",\"sd\":\"[broken\"}\n");
}
END_TEST

START_TEST(test_json_values)
{
	assert_json("", 0, "\"\"");
	assert_json("a\"b\\c/d", 7, "\"a\\\"b\\\\c/d\"");
	assert_json("\n\t\r\b\f", 5, "\"\\n\\t\\r\\b\\f\"");
	assert_json("\x1b[0m\x7f", 5, "\"\\u001b[0m\\u007f\"");
	assert_json("\x00", 1, "\"\\u0000\"");
	assert_json("h\xc3\xa9", 3, "\"h\xc3\xa9\"");
	assert_json("\xc2\x9b", 2, "\"\\u009b\"");
	assert_json("\xe2\x80\xa8\xe2\x80\xa9", 6, "\"\\u2028\\u2029\"");
	assert_json("\xe2\x80\xae", 3, "\"\\u202e\"");
	/* not UTF-8: the bytes, as journald does */
	assert_json("a\xff", 2, "[97,255]");
	assert_json("\xc3", 1, "[195]");
	assert_json("\xed\xa0\x80", 3, "[237,160,128]");
}
END_TEST

/* The word-at-a-time scan for plain runs: every ASCII byte, and a valid
 * two-byte character, at every offset of a 24-byte value (so on each side
 * of an 8-byte step), against the escape a byte-wise rule gives. */
START_TEST(test_json_values_every_offset)
{
	for (unsigned c = 0; c < 0x80; c++)
		for (size_t at = 0; at < 24; at++) {
			char in[24], want[64], esc[8];
			memset(in, 'a', sizeof(in));
			in[at] = (char)c;
			if (c == '"' || c == '\\')
				snprintf(esc, sizeof(esc), "\\%c", c);
			else if (c == '\n' || c == '\t' || c == '\r' || c == '\b' || c == '\f')
				snprintf(esc, sizeof(esc), "\\%c",
					 c == '\n' ? 'n' : c == '\t' ? 't' : c == '\r' ? 'r' : c == '\b' ? 'b' : 'f');
			else if (c < 0x20 || c == 0x7f)
				snprintf(esc, sizeof(esc), "\\u%04x", c);
			else
				snprintf(esc, sizeof(esc), "%c", c);
			snprintf(want, sizeof(want), "\"%.*s%s%.*s\"", (int)at, in, esc,
				 (int)(sizeof(in) - at - 1), in + at + 1);
			assert_json(in, sizeof(in), want);
		}
	for (size_t at = 0; at < 23; at++) {
		char in[24], want[32];
		memset(in, 'b', sizeof(in));
		memcpy(in + at, "\xc3\xa9", 2);
		snprintf(want, sizeof(want), "\"%.24s\"", in);
		assert_json(in, sizeof(in), want);
		in[at + 1] = 'b'; /* a lone lead byte: not UTF-8, the byte array */
		char arr[128], *p = arr;
		*p++ = '[';
		for (size_t i = 0; i < sizeof(in); i++)
			p += sprintf(p, i ? ",%u" : "%u", (unsigned char)in[i]);
		strcpy(p, "]");
		assert_json(in, sizeof(in), arr);
	}
}
END_TEST

START_TEST(test_raw)
{
	struct record r = rec("t", "raw \x1b[1m bytes", 14);

	assert_format(OUTPUT_RAW, false, false, &r, "raw \x1b[1m bytes\n");
	assert_format(OUTPUT_RAW, true, true, &r, "raw \\x1b[1m bytes\n");
}
END_TEST

START_TEST(test_utf8_valid)
{
	ck_assert(output_utf8_valid("", 0));
	ck_assert(output_utf8_valid("abc", 3));
	ck_assert(output_utf8_valid("\xf0\x9f\x98\x80", 4));
	ck_assert(output_utf8_valid("\xef\xbf\xbf", 3));
	ck_assert(!output_utf8_valid("\xf0\x9f\x98", 3));
	ck_assert(!output_utf8_valid("\xe0\x80\x80", 3));
	ck_assert(!output_utf8_valid("\xf5\x80\x80\x80", 4));
	ck_assert(!output_utf8_valid("\xc1\xbf", 2));
}
END_TEST

START_TEST(test_mode_names)
{
	ck_assert_int_eq(output_mode_from_name("short"), OUTPUT_SHORT);
	ck_assert_int_eq(output_mode_from_name("json"), OUTPUT_JSON);
	ck_assert_int_eq(output_mode_from_name("raw"), OUTPUT_RAW);
	ck_assert_int_eq(output_mode_from_name("cat"), OUTPUT_RAW); /* journalctl's name */
	ck_assert_int_eq(output_mode_from_name("short-iso"), OUTPUT_SHORT_ISO);
	ck_assert_int_eq(output_mode_from_name("short-precise"), OUTPUT_SHORT_PRECISE);
	ck_assert_int_lt(output_mode_from_name("verbose"), 0);
	ck_assert_int_lt(output_mode_from_name("Short"), 0);
}
END_TEST

/* Formats r with a prepared output object (time zone, host) and compares. */
static void
assert_with(struct output *o, const struct record *r, const char *want)
{
	char *buf = malloc(output_max(r) + 1);
	size_t n;

	ck_assert_ptr_nonnull(buf);
	n = output_format(o, r, buf);
	ck_assert_uint_le(n, output_max(r));
	buf[n] = '\0';
	ck_assert_str_eq(buf, want);
	free(buf);
}

START_TEST(test_short_iso_precise_utc)
{
	struct record r = rec("a", "m", 1);
	struct output o;

	setenv("TZ", "IST-5:30", 1); /* +05:30 */
	tzset();
	output_init(&o, OUTPUT_SHORT_ISO, false, false);
	assert_with(&o, &r, "2026-11-24T14:32:35+05:30 a[1234]: m\n");
	output_init(&o, OUTPUT_SHORT_ISO, false, false);
	o.utc = true;
	assert_with(&o, &r, "2026-11-24T09:02:35+00:00 a[1234]: m\n");
	setenv("TZ", "XXX+3", 1); /* -03:00 */
	tzset();
	output_init(&o, OUTPUT_SHORT_ISO, false, false);
	assert_with(&o, &r, "2026-11-24T06:02:35-03:00 a[1234]: m\n");
	output_init(&o, OUTPUT_SHORT_PRECISE, false, false);
	assert_with(&o, &r, "Nov 24 06:02:35.123456 a[1234]: m\n");
	r.time_us = t0 - 123456 + 7; /* leading zeros of the fraction */
	assert_with(&o, &r, "Nov 24 06:02:35.000007 a[1234]: m\n");
	output_init(&o, OUTPUT_SHORT, false, false);
	o.utc = true;
	assert_with(&o, &r, "Nov 24 09:02:35 a[1234]: m\n");
	setenv("TZ", "UTC0", 1);
	tzset();
}
END_TEST

/* A structured data field of many parameters is given as its raw string:
 * bounded work per record (merging repeats is quadratic). */
START_TEST(test_json_sd_bounded)
{
	struct record r = rec("a", "m", 1);
	char *sd = malloc(600 * 8 + 8), *p = sd, *buf;
	size_t n;

	ck_assert_ptr_nonnull(sd);
	p += sprintf(p, "[x@1");
	for (int i = 0; i < 600; i++)
		p += sprintf(p, " p%d=\"\"", i);
	*p++ = ']';
	r.sd = sd;
	r.sd_len = (size_t)(p - sd);
	buf = malloc(output_max(&r) + 1);
	ck_assert_ptr_nonnull(buf);
	struct output o;
	output_init(&o, OUTPUT_JSON, false, false);
	n = output_format(&o, &r, buf);
	buf[n] = '\0';
	ck_assert_ptr_nonnull(strstr(buf, "\"sd\":\"[x@1 p0=\\\"\\\" p1="));
	r.sd_len = strlen("[x@1 p0=\"\" p1=\"\"]");
	memcpy(sd, "[x@1 p0=\"\" p1=\"\"]", r.sd_len);
	n = output_format(&o, &r, buf);
	buf[n] = '\0';
	ck_assert_ptr_nonnull(strstr(buf, "\"sd\":{\"x@1\":{\"p0\":\"\",\"p1\":\"\"}}"));
	free(buf);
	free(sd);
}
END_TEST

/* -o short names the local host for a record that claims none, the
 * claimed one otherwise (journalctl's _HOSTNAME). */
START_TEST(test_short_hostname)
{
	struct record r = rec("a", "m", 1);
	struct output o;

	output_init(&o, OUTPUT_SHORT, false, false);
	output_set_local_host(&o, "here");
	assert_with(&o, &r, "Nov 24 09:02:35 here a[1234]: m\n");
	r.hostname = "web\x1b-1";
	r.hostname_len = 6;
	assert_with(&o, &r, "Nov 24 09:02:35 web\\x1b-1 a[1234]: m\n");
}
END_TEST

/* Random bytes in tag and message: every mode stays within output_max,
 * and short and (terminal) raw output never hold a control byte but the
 * final LF. */
START_TEST(test_bound_and_no_control_bytes)
{
	char tag[RECORD_TAG_MAX], msg[512];

	srandom(1);
	for (int i = 0; i < 2000; i++) {
		size_t tn = (size_t)random() % sizeof(tag), mn = (size_t)random() % sizeof(msg);
		for (size_t j = 0; j < tn; j++)
			tag[j] = (char)random();
		for (size_t j = 0; j < mn; j++)
			msg[j] = (char)(i % 2 ? random() % 0x20 : random());
		struct record r = rec("", msg, mn);
		r.tag = tag;
		r.tag_len = tn;
		r.severity = (uint8_t)(i % 8);
		for (int mode = OUTPUT_SHORT; mode <= OUTPUT_RAW; mode++) {
			struct output o;
			char *buf = malloc(output_max(&r));
			output_init(&o, (enum output_mode)mode, false, true);
			size_t n = output_format(&o, &r, buf);
			ck_assert_uint_le(n, output_max(&r));
			ck_assert_int_eq(buf[n - 1], '\n');
			size_t bad = n;
			for (size_t j = 0; mode != OUTPUT_JSON && j + 1 < n && bad == n; j++)
				if ((unsigned char)buf[j] < 0x20 || buf[j] == 0x7f)
					bad = j;
			/* one assertion per record: Check's are slow (a pipe message each) */
			ck_assert_msg(bad == n, "control byte 0x%02x at %zu in mode %d",
				      (unsigned char)buf[bad < n ? bad : 0], bad, mode);
			free(buf);
		}
	}
}
END_TEST

static Suite *
output_suite(void)
{
	Suite *s = suite_create("output");
	TCase *tc = tcase_create("format");
	tcase_set_timeout(tc, 60); /* generous: CI machines are loaded */

	tcase_add_test(tc, test_short);
	tcase_add_test(tc, test_short_local_time);
	tcase_add_test(tc, test_short_escapes_tag_and_message);
	tcase_add_test(tc, test_colors);
	tcase_add_test(tc, test_terminal_escaping);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_json_values);
	tcase_add_test(tc, test_json_values_every_offset);
	tcase_add_test(tc, test_json_fidelity);
	tcase_add_test(tc, test_raw);
	tcase_add_test(tc, test_utf8_valid);
	tcase_add_test(tc, test_mode_names);
	tcase_add_test(tc, test_short_iso_precise_utc);
	tcase_add_test(tc, test_short_hostname);
	tcase_add_test(tc, test_json_sd_bounded);
	tcase_add_test(tc, test_bound_and_no_control_bytes);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	setenv("TZ", "UTC0", 1);
	tzset();
	return test_run_suite(output_suite());
}
