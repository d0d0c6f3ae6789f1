/* The record line format (src/format/record.c, docs/format.md): exact bytes of a
 * known record and header, round trips of every byte value and of random
 * records, every single-bit flip detected, every kind of malformed line
 * rejected with a reason, canonical encoding (decode then encode gives the
 * same line), and the time format against gmtime_r. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#include "cleanup.h"
#include "record.h"
#include "testutil.h"

static const char golden_line[] =
	"2026-11-24T09:02:35.123456Z 42 user.info 1234 1000 1000 myapp - - hello world "
	"3dfa6015a998ba42\n";
static const char golden_header[] =
	"#seglog 1 42 2026-11-24T09:02:35.123456Z 00112233445566778899aabbccddeeff "
	"48b796b5cd7c35ec\n";
#define GOLDEN_TIME_US UINT64_C(1795510955123456) /* 2026-11-24T09:02:35.123456Z */
#define TIME_MAX UINT64_C(253402300799999999)	  /* 9999-12-31T23:59:59.999999Z */

/* ck_assert_* records its location on every call (a write in Check's
 * bookkeeping), which dominates loops of millions of checks, under
 * valgrind above all; the helpers below call into Check only on failure. */
#define CHECK(cond, ...)                             \
	do {                                         \
		if (!(cond))                         \
			ck_abort_msg(__VA_ARGS__);   \
	} while (0)

/* xorshift64*: a fixed seed makes every run test the same records. */
static uint64_t rng_state;

static uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717u;
}

static uint64_t
rng_below(uint64_t n)
{
	return n ? rng() % n : 0;
}

/* Copies len bytes into a heap block of exactly that size, so valgrind
 * and ASan catch a parser reading one byte past the line. */
static char *
dup_exact(const char *p, size_t len)
{
	char *d = malloc(len ? len : 1);

	CHECK(d, "out of memory");
	if (len)
		memcpy(d, p, len);
	return d;
}

/* Encodes r into a buffer of exactly record_line_max() bytes plus a canary. */
static char *
encode(const struct record *r, size_t *ret_len)
{
	size_t max = record_line_max(r->tag_len, r->msg_len);
	char *buf = malloc(max + 8);

	CHECK(buf, "out of memory");
	memset(buf + max, 0x5a, 8);
	*ret_len = record_encode_version(r, 1, buf);
	CHECK(*ret_len <= max, "line of %zu bytes, record_line_max %zu", *ret_len, max);
	for (int i = 0; i < 8; i++)
		CHECK((unsigned char)buf[max + i] == 0x5a, "wrote past record_line_max");
	CHECK(buf[*ret_len - 1] == '\n', "no LF at the end");
	CHECK(!memchr(buf, '\n', *ret_len - 1), "LF inside the line");
	return buf;
}

/* Decodes line with exact-size scratch and a copy of the line that ends
 * where the block does (so reading past it is caught), both in the block
 * returned: *ret's pointers point into scratch or into that copy (the
 * caller frees the block after the last use of *ret). */
static char *
decode(const char *line, size_t len, struct record *ret, int *ret_r, const char **ret_reason)
{
	char *block = malloc(len ? 2 * len : 1), *l = block + len;

	CHECK(block, "out of memory");
	if (len)
		memcpy(l, line, len);
	*ret_reason = NULL;
	*ret_r = record_decode_version(1, l, len, block, ret, ret_reason);
	return block;
}

static void
assert_same_record(const struct record *a, const struct record *b)
{
	CHECK(a->seq == b->seq, "seq %llu != %llu", (unsigned long long)a->seq,
	      (unsigned long long)b->seq);
	CHECK(a->time_us == b->time_us, "time %llu != %llu", (unsigned long long)a->time_us,
	      (unsigned long long)b->time_us);
	CHECK(a->pid == b->pid && a->uid == b->uid && a->gid == b->gid, "credentials differ");
	CHECK(a->facility == b->facility && a->severity == b->severity, "priority differs");
	CHECK(a->tag_len == b->tag_len && (!a->tag_len || !memcmp(a->tag, b->tag, a->tag_len)),
	      "tag differs (%zu, %zu bytes)", a->tag_len, b->tag_len);
	CHECK(a->msg_len == b->msg_len && (!a->msg_len || !memcmp(a->msg, b->msg, a->msg_len)),
	      "message differs (%zu, %zu bytes)", a->msg_len, b->msg_len);
	CHECK(a->claimed_pid == b->claimed_pid, "claimed pid differs");
	CHECK(a->claimed_time_us == b->claimed_time_us, "claimed time differs");
}

/* Encodes r, decodes and checks it, and encodes the decoded record again:
 * the same bytes (one encoding per record). */
static void
round_trip(const struct record *r)
{
	size_t len, len2;
	_cleanup_free_ char *line = encode(r, &len);
	_cleanup_free_ char *scratch = NULL, *again = NULL;
	struct record out;
	const char *reason;
	uint64_t seq = 0, t = 0;
	int k;

	scratch = decode(line, len, &out, &k, &reason);
	CHECK(k == 0, "decode failed (%s): %.*s", reason, (int)len, line);
	assert_same_record(r, &out);
	CHECK(record_check_version(1, line, len, &seq, &t, &reason) == 0, "check failed (%s)", reason);
	CHECK(seq == r->seq && t == r->time_us, "record_check: wrong seq or time");
	CHECK(!record_is_header(line, len), "record taken for a header");
	again = encode(&out, &len2);
	CHECK(len2 == len && !memcmp(again, line, len), "encoded again differently: %.*s",
	      (int)len2, again);
}

static struct record
plain_record(const char *tag, size_t tag_len, const char *msg, size_t msg_len)
{
	return (struct record){
		.seq = 42, .time_us = GOLDEN_TIME_US, .pid = 1234, .uid = 1000, .gid = 1000,
		.facility = 1, .severity = 6, .tag = tag, .tag_len = tag_len,
		.msg = msg, .msg_len = msg_len, .claimed_pid = RECORD_NO_CLAIMED_PID,
	};
}

static const char *
memmem_s(const char *hay, size_t n, const char *needle, size_t k)
{
	return memmem(hay, n, needle, k);
}

/* --- exact bytes ----------------------------------------------------------- */

/* record_put_u64 against printf at every digit count and carry. */
/* The escaper's and unescaper's runs (16 bytes a step with SSE2, then 8,
 * then 1): each byte alone at every offset of a 40-byte field (two blocks
 * and a word), with and without with_space, against the byte-wise rule,
 * and back; the escaper writes nothing past what it returns. */
START_TEST(test_escape_every_offset)
{
	for (unsigned c = 0; c < 256; c++)
		for (size_t at = 0; at < 40; at++)
			for (int sp = 0; sp < 2; sp++) {
				char in[40], want[64], esc[8], out[192], back[48];
				memset(in, 'a', sizeof(in));
				memset(out, 0x55, sizeof(out));
				in[at] = (char)c;
				if (c == '\\')
					strcpy(esc, "\\\\");
				else if (c >= 0x20 && c < 0x7f && !(sp && c == ' '))
					snprintf(esc, sizeof(esc), "%c", c);
				else
					snprintf(esc, sizeof(esc), "\\x%02x", c);
				snprintf(want, sizeof(want), "%.*s%s%.*s", (int)at, in, esc,
					 (int)(sizeof(in) - at - 1), in + at + 1);
				size_t k = record_escape(in, sizeof(in), out, sp);
				size_t j = k;
				while (j < sizeof(out) && out[j] == 0x55)
					j++;
				ck_assert_uint_eq(j, sizeof(out));
				out[k] = '\0';
				ck_assert_str_eq(out, want);
				ssize_t m = record_unescape_strict(out, k, back, sp);
				ck_assert_int_eq(m, (ssize_t)sizeof(in));
				ck_assert(memcmp(back, in, sizeof(in)) == 0);
			}
}
END_TEST

START_TEST(test_put_u64)
{
	uint64_t v[64];
	size_t n = 0;

	v[n++] = 0;
	v[n++] = UINT64_MAX;
	for (uint64_t p = 1; p <= UINT64_MAX / 10; p *= 10) {
		v[n++] = p;
		v[n++] = p - 1;
		v[n++] = p * 10 - 1 > p ? p * 10 - 1 : p;
	}
	v[n++] = 12345678901234567890u;
	for (size_t i = 0; i < n; i++) {
		char got[24], want[24];
		char *e = record_put_u64(got, v[i]);
		*e = '\0';
		snprintf(want, sizeof(want), "%" PRIu64, v[i]);
		ck_assert_str_eq(got, want);
	}
}
END_TEST

START_TEST(test_golden_line)
{
	struct record r = plain_record("myapp", 5, "hello world", 11);
	char buf[512];
	uint64_t t;

	ck_assert_int_eq(record_parse_time("2026-11-24T09:02:35.123456Z", 27, &t), 0);
	ck_assert_uint_eq(t, GOLDEN_TIME_US);
	ck_assert_uint_eq(record_encode_version(&r, 1, buf), sizeof(golden_line) - 1);
	ck_assert_mem_eq(buf, golden_line, sizeof(golden_line) - 1);
	/* The checksum is XXH3-64 (seed 0) of the bytes before " CSUM\n". */
	ck_assert_uint_eq(XXH3_64bits(golden_line, sizeof(golden_line) - 19), 0x3dfa6015a998ba42u);
	round_trip(&r);
}
END_TEST

START_TEST(test_golden_header)
{
	struct segment_header h = { .version = 1, .first_seq = 42, .created_us = GOLDEN_TIME_US };
	struct segment_header out;
	char buf[RECORD_HEADER_MAX];
	const char *reason = NULL;

	for (int i = 0; i < RECORD_DIR_ID_LEN; i++)
		h.dir_id[i] = (uint8_t)(i * 17);
	ck_assert_uint_eq(record_header_encode(&h, buf), sizeof(golden_header) - 1);
	ck_assert_mem_eq(buf, golden_header, sizeof(golden_header) - 1);
	ck_assert_uint_eq(XXH3_64bits(golden_header, sizeof(golden_header) - 19),
			  0x48b796b5cd7c35ecu);
	ck_assert(record_is_header(buf, sizeof(golden_header) - 1));
	ck_assert_int_eq(record_header_decode(buf, sizeof(golden_header) - 1, &out, &reason), 0);
	ck_assert_uint_eq(out.version, 1);
	ck_assert_uint_eq(out.first_seq, 42);
	ck_assert_uint_eq(out.created_us, GOLDEN_TIME_US);
	ck_assert_mem_eq(out.dir_id, h.dir_id, RECORD_DIR_ID_LEN);
}
END_TEST

/* The escaping examples of docs/format.md, byte for byte. */
START_TEST(test_fields_written_as_documented)
{
	static const char msg7[] = "tab\there\\ \xc3\xa9 \xff\n";
	static const char msg9[] = "\x1b[31mred\x1b[0m \xc2\x85";
	const struct record r[] = {
		{ .seq = 7, .time_us = GOLDEN_TIME_US, .pid = 1, .facility = 3, .severity = 3,
		  .tag = "my app", .tag_len = 6, .msg = msg7, .msg_len = sizeof(msg7) - 1,
		  .claimed_pid = 99, .claimed_time_us = GOLDEN_TIME_US - 1000000 },
		{ .seq = 8, .time_us = GOLDEN_TIME_US + 1, .pid = 1, .facility = 1, .severity = 5,
		  .tag = "-", .tag_len = 1, .claimed_pid = RECORD_NO_CLAIMED_PID },
		{ .seq = 9, .time_us = GOLDEN_TIME_US + 2, .pid = 1, .facility = 16, .severity = 4,
		  .msg = msg9, .msg_len = sizeof(msg9) - 1, .claimed_pid = RECORD_NO_CLAIMED_PID },
	};
	static const char *const want[] = {
		("2026-11-24T09:02:35.123456Z 7 daemon.err 1 0 0 my\\x20app 99 "
		 "2026-11-24T09:02:34.123456Z tab\\x09here\\\\ \xc3\xa9 \\xff\\x0a "
		 "e2d54bb2d2bd3e72\n"),
		"2026-11-24T09:02:35.123457Z 8 user.notice 1 0 0 \\x2d - -  87a3c766eee158c3\n",
		("2026-11-24T09:02:35.123458Z 9 local0.warning 1 0 0 - - - "
		 "\\x1b[31mred\\x1b[0m \\xc2\\x85 26b8d9888c550f59\n"),
	};

	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		size_t len;
		_cleanup_free_ char *line = encode(&r[i], &len);

		ck_assert_uint_eq(len, strlen(want[i]));
		ck_assert_mem_eq(line, want[i], len);
		round_trip(&r[i]);
	}
}
END_TEST

/* --- round trips ----------------------------------------------------------- */

START_TEST(test_every_byte_alone)
{
	for (unsigned b = 0; b < 256; b++) {
		char c = (char)b;
		round_trip(&(struct record){ .seq = 1, .time_us = 0, .facility = 0, .severity = 0,
					     .tag = &c, .tag_len = 1, .msg = &c, .msg_len = 1,
					     .claimed_pid = RECORD_NO_CLAIMED_PID });
		struct record r = plain_record(&c, 1, &c, 1);
		round_trip(&r);
	}
}
END_TEST

START_TEST(test_all_bytes_in_one_message)
{
	char up[256], down[256], tag[RECORD_TAG_MAX];

	for (int i = 0; i < 256; i++) {
		up[i] = (char)i;
		down[i] = (char)(255 - i);
	}
	for (int i = 0; i < RECORD_TAG_MAX; i++)
		tag[i] = (char)(i + 1);
	struct record r = plain_record(tag, sizeof(tag), up, sizeof(up));
	round_trip(&r);
	r = plain_record(up, RECORD_TAG_MAX, down, sizeof(down));
	round_trip(&r);
	/* Every pair of bytes: catches look-ahead mistakes at sequence edges. */
	for (int a = 0; a < 256; a++) {
		char two[512];
		for (int b = 0; b < 256; b++) {
			two[2 * b] = (char)a;
			two[2 * b + 1] = (char)b;
		}
		r = plain_record(two, 2, two, sizeof(two));
		round_trip(&r);
	}
}
END_TEST

/* Text of mixed kinds: printable ASCII, spaces, valid UTF-8 of every
 * length, backslashes, controls, invalid sequences, random bytes. */
static size_t
random_text(char *p, size_t max)
{
	static const char *const pieces[] = {
		"a", "Z", " ", "  ", "-", "\\", "\\x41", "\\\\", "\n", "\t", "\x7f", "\x1b[31m",
		"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "\xef\xbf\xbf",
		"\xc2\x80", "\xc2\x9f", "\xc2\xa0", "\xed\x9f\xbf", "\xed\xa0\x80", "\xe0\x80\x80",
		"\xc0\xaf", "\xf4\x90\x80\x80", "\xf5", "\xff", "\x80", "\xc3", "\xe2\x82", "\x00",
	};
	size_t n = rng_below(max + 1), len = 0;

	while (len < n) {
		if (rng() & 1) {
			p[len++] = (char)rng();
		} else {
			const char *s = pieces[rng_below(sizeof(pieces) / sizeof(pieces[0]))];
			size_t k = strlen(s) ? strlen(s) : 1; /* "\x00" is one NUL */
			if (len + k > n)
				break;
			memcpy(p + len, s, k);
			len += k;
		}
	}
	return len;
}

START_TEST(test_random_records)
{
	static char tag[RECORD_TAG_MAX], msg[2048];

	rng_state = 0x9e3779b97f4a7c15u;
	for (int i = 0; i < 20000; i++) {
		struct record r = {
			.seq = 1 + rng_below(UINT64_MAX),
			.time_us = rng_below(4) ? rng_below(TIME_MAX + 1) : rng_below(4) * TIME_MAX / 3,
			.pid = (int64_t)(rng() >> (rng_below(63) + 1)),
			.uid = (uint32_t)rng(),
			.gid = (uint32_t)rng(),
			.facility = (uint8_t)rng_below(24),
			.severity = (uint8_t)rng_below(8),
			.tag = tag,
			.tag_len = random_text(tag, rng_below(3) ? 16 : sizeof(tag)),
			.msg = msg,
			.msg_len = random_text(msg, rng_below(8) ? 200 : sizeof(msg)),
			.claimed_pid = rng_below(2) ? RECORD_NO_CLAIMED_PID
						    : (int64_t)(rng() >> (rng_below(63) + 1)),
			.claimed_time_us = rng_below(2) ? 0 : 1 + rng_below(TIME_MAX),
		};
		/* A tag must fit RECORD_TAG_MAX bytes; random_text keeps to it. */
		round_trip(&r);
	}
}
END_TEST

START_TEST(test_field_extremes)
{
	static char tag[RECORD_TAG_MAX], msg[4096];
	struct record r;

	memset(tag, 0x01, sizeof(tag));
	memset(msg, 0xff, sizeof(msg));
	/* The longest line for these sizes: every field at its widest. */
	r = (struct record){
		.seq = UINT64_MAX, .time_us = TIME_MAX, .pid = INT64_MAX, .uid = UINT32_MAX,
		.gid = UINT32_MAX, .facility = 15, .severity = 4, .tag = tag,
		.tag_len = sizeof(tag), .msg = msg, .msg_len = sizeof(msg),
		.claimed_pid = INT64_MAX, .claimed_time_us = TIME_MAX,
	};
	round_trip(&r);
	r = (struct record){ .seq = 1, .claimed_pid = 0, .claimed_time_us = 1,
			     .tag = "-", .tag_len = 1 };
	round_trip(&r);
	r.tag_len = 0;
	r.claimed_time_us = 0;
	r.claimed_pid = RECORD_NO_CLAIMED_PID;
	round_trip(&r);
	for (unsigned f = 0; f < 24; f++)
		for (unsigned s = 0; s < 8; s++) {
			r = plain_record("t", 1, "m", 1);
			r.facility = (uint8_t)f;
			r.severity = (uint8_t)s;
			round_trip(&r);
		}
}
END_TEST

/* A claimed time is whatever the client sent, up to 2^64-1 µs; the line
 * must still decode (it is written as the last time the format holds). */
START_TEST(test_claimed_time_beyond_year_9999)
{
	static const uint64_t times[] = { TIME_MAX + 1, TIME_MAX + 1000000,
					  316224000000000000u, /* year 11990 */
					  UINT64_MAX };
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		struct record r = plain_record("t", 1, "m", 1), out;
		size_t len;
		_cleanup_free_ char *line = NULL, *scratch = NULL;
		const char *reason;
		int k;

		r.claimed_time_us = times[i];
		r.time_us = times[i];
		line = encode(&r, &len);
		ck_assert_ptr_nonnull(memmem_s(line, len, "9999-12-31T23:59:59.999999Z", 27));
		scratch = decode(line, len, &out, &k, &reason);
		ck_assert_msg(k == 0, "%s", reason);
		ck_assert_uint_eq(out.claimed_time_us, TIME_MAX);
		ck_assert_uint_eq(out.time_us, TIME_MAX);
	}
}
END_TEST

/* --- escaping -------------------------------------------------------------- */

/* Encodes msg and checks that the message field is exactly want. */
static void
assert_msg_field(const char *msg, size_t n, const char *want)
{
	struct record r = plain_record("t", 1, msg, n);
	size_t len;
	_cleanup_free_ char *line = encode(&r, &len);
	const char *start = line + (sizeof("2026-11-24T09:02:35.123456Z 42 user.info 1234 1000 "
					   "1000 t - - ") - 1);
	size_t field = len - (size_t)(start - line) - RECORD_CSUM_LEN - 2;

	ck_assert_msg(field == strlen(want) && memcmp(start, want, field) == 0,
		      "message field '%.*s', want '%s'", (int)field, start, want);
	round_trip(&r);
}

START_TEST(test_escapes)
{
	assert_msg_field("", 0, "");
	assert_msg_field("\\", 1, "\\\\");
	assert_msg_field("\n", 1, "\\x0a");
	assert_msg_field("\r\n", 2, "\\x0d\\x0a");
	assert_msg_field("\0", 1, "\\x00");
	assert_msg_field("\x7f", 1, "\\x7f");
	assert_msg_field("\x1b[31mred", 8, "\\x1b[31mred");
	assert_msg_field("a b  c ", 7, "a b  c ");
	assert_msg_field(" ", 1, " ");
	assert_msg_field("-", 1, "-");
	assert_msg_field("\\x41", 4, "\\\\x41");
	/* Valid UTF-8 stays raw: 2, 3 and 4 bytes, the edges of each range. */
	assert_msg_field("\xc2\xa0", 2, "\xc2\xa0");
	assert_msg_field("\xdf\xbf", 2, "\xdf\xbf");
	assert_msg_field("\xe0\xa0\x80", 3, "\xe0\xa0\x80");
	assert_msg_field("\xed\x9f\xbf", 3, "\xed\x9f\xbf");
	assert_msg_field("\xee\x80\x80", 3, "\xee\x80\x80");
	assert_msg_field("\xef\xbf\xbf", 3, "\xef\xbf\xbf");
	assert_msg_field("\xf0\x90\x80\x80", 4, "\xf0\x90\x80\x80");
	assert_msg_field("\xf4\x8f\xbf\xbf", 4, "\xf4\x8f\xbf\xbf");
	/* C1 controls, overlongs, surrogates, beyond U+10FFFF, stray and
	 * truncated sequences: every byte escaped. */
	assert_msg_field("\xc2\x80", 2, "\\xc2\\x80");
	assert_msg_field("\xc2\x9f", 2, "\\xc2\\x9f");
	assert_msg_field("\xc0\xaf", 2, "\\xc0\\xaf");
	assert_msg_field("\xc1\xbf", 2, "\\xc1\\xbf");
	assert_msg_field("\xe0\x9f\xbf", 3, "\\xe0\\x9f\\xbf");
	assert_msg_field("\xed\xa0\x80", 3, "\\xed\\xa0\\x80");
	assert_msg_field("\xed\xbf\xbf", 3, "\\xed\\xbf\\xbf");
	assert_msg_field("\xf0\x8f\xbf\xbf", 4, "\\xf0\\x8f\\xbf\\xbf");
	assert_msg_field("\xf4\x90\x80\x80", 4, "\\xf4\\x90\\x80\\x80");
	assert_msg_field("\xf5\x80\x80\x80", 4, "\\xf5\\x80\\x80\\x80");
	assert_msg_field("\xff", 1, "\\xff");
	assert_msg_field("\x80", 1, "\\x80");
	assert_msg_field("\xc3", 1, "\\xc3");
	assert_msg_field("\xe2\x82", 2, "\\xe2\\x82");
	assert_msg_field("\xe2\x82x", 3, "\\xe2\\x82x");
	assert_msg_field("\xf0\x9f\x98", 3, "\\xf0\\x9f\\x98");
	assert_msg_field("\xc3\xc3\xa9", 3, "\\xc3\xc3\xa9");
}
END_TEST

/* Every printable ASCII byte but the backslash, and valid UTF-8, appear
 * in the line exactly as sent: grep finds them. */
START_TEST(test_printable_text_is_greppable)
{
	char ascii[95];
	size_t n = 0;
	static const char *const texts[] = {
		"connection from 10.0.0.1:443 refused (errno=111)",
		"GET /index.html?q=a&b=c HTTP/1.1 \"200\" 'x' <tag> {json: [1, 2]} ~`!@#$%^*|",
		"Grüße aus Köln — 日本語のテキスト 😀 ∑",
		" leading and trailing spaces ",
		"- - -",
	};

	for (int c = 0x20; c < 0x7f; c++)
		if (c != '\\')
			ascii[n++] = (char)c;
	for (size_t i = 0; i <= sizeof(texts) / sizeof(texts[0]); i++) {
		const char *msg = i < sizeof(texts) / sizeof(texts[0]) ? texts[i] : ascii;
		size_t mlen = i < sizeof(texts) / sizeof(texts[0]) ? strlen(texts[i]) : n;
		struct record r = plain_record("app", 3, msg, mlen);
		size_t len;
		_cleanup_free_ char *line = encode(&r, &len);

		ck_assert_ptr_nonnull(memmem_s(line, len, msg, mlen));
		round_trip(&r);
	}
}
END_TEST

/* Returns the tag field of the line for tag. */
static void
assert_tag_field(const char *tag, size_t n, const char *want)
{
	struct record r = plain_record(tag, n, "m", 1);
	size_t len;
	_cleanup_free_ char *line = encode(&r, &len);
	const char *start = line + (sizeof("2026-11-24T09:02:35.123456Z 42 user.info 1234 1000 "
					   "1000 ") - 1);
	const char *sp = memchr(start, ' ', len - (size_t)(start - line));

	ck_assert_ptr_nonnull(sp);
	ck_assert_msg((size_t)(sp - start) == strlen(want) && memcmp(start, want, strlen(want)) == 0,
		      "tag field '%.*s', want '%s'", (int)(sp - start), start, want);
	round_trip(&r);
}

START_TEST(test_tag_escaping)
{
	assert_tag_field("", 0, "-");
	assert_tag_field("-", 1, "\\x2d");
	assert_tag_field("--", 2, "--");
	assert_tag_field("a-b", 3, "a-b");
	assert_tag_field("-x", 2, "-x");
	assert_tag_field("my app", 6, "my\\x20app");
	assert_tag_field(" ", 1, "\\x20");
	assert_tag_field("\\", 1, "\\\\");
	assert_tag_field("\\x2d", 4, "\\\\x2d");
	assert_tag_field("a\tb", 3, "a\\x09b");
	assert_tag_field("systemd[1]:", 11, "systemd[1]:");
	assert_tag_field("köln", 5, "köln");
}
END_TEST

START_TEST(test_unescape_direct)
{
	char out[64];

	ck_assert_int_eq(record_unescape("a\\\\b\\x0a", 8, out), 4);
	ck_assert_mem_eq(out, "a\\b\n", 4);
	ck_assert_int_eq(record_unescape("my\\x20app", 9, out), 6);
	ck_assert_mem_eq(out, "my app", 6);
	ck_assert_int_eq(record_unescape("", 0, out), 0);
	static const char *const bad[] = {
		"\\", "a\\", "\\x", "\\x4", "\\x4g", "\\xg4", "\\X41", "\\x4A", "\\n", "\\t",
		"\\x41", "\\x7e", "\\x5c", "\\xc3\\xa9", "\\xe2\\x82\\xac", "\x01", "\n", "\x7f",
		"\xc3", "\x80", "\xff", "\xc2\x85", "\xed\xa0\x80",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		_cleanup_free_ char *d = dup_exact(bad[i], strlen(bad[i]));
		ck_assert_msg(record_unescape(d, strlen(bad[i]), out) == -EBADMSG, "accepted '%s'",
			      bad[i]);
	}
}
END_TEST

/* --- corruption ------------------------------------------------------------ */

/* A line must be rejected by record_decode, with a reason, and by
 * record_check unless only_decode: record_check reads the checksum and the
 * fields up to gid, not the tag, claims and message (the checksum covers
 * them; a line with a right checksum and a bad tail is forged, not torn). */
static void
assert_rejected_by(const char *line, size_t len, const char *why, bool only_decode)
{
	struct record out, before;
	_cleanup_free_ char *scratch = NULL, *l = dup_exact(line, len);
	const char *reason = NULL;
	uint64_t seq = 7, t = 7;
	int k;

	memset(&before, 0x5a, sizeof(before));
	memcpy(&out, &before, sizeof(out));
	scratch = decode(line, len, &out, &k, &reason);
	CHECK(k == -EBADMSG, "%s: decoded '%.*s'", why, (int)len, line);
	CHECK(reason, "%s: no reason", why);
	CHECK(!memcmp(&out, &before, sizeof(out)), "%s: *ret written on error", why);
	CHECK(record_decode_version(1, l, len, scratch, &out, NULL) == -EBADMSG, "%s: decoded", why);
	if (only_decode)
		return;
	CHECK(record_check_version(1, l, len, &seq, &t, NULL) == -EBADMSG, "%s: checked '%.*s'", why,
	      (int)len, line);
	CHECK(seq == 7 && t == 7, "%s: record_check wrote on error", why);
}

static void
assert_rejected(const char *line, size_t len, const char *why)
{
	assert_rejected_by(line, len, why, false);
}

/* Every single-bit flip anywhere in the line is detected; and where the
 * flip makes a LF (one line becomes two in a file), neither part passes. */
static void
assert_flips_detected(const char *line, size_t len)
{
	_cleanup_free_ char *f = dup_exact(line, len);

	for (size_t i = 0; i < len; i++)
		for (int bit = 0; bit < 8; bit++) {
			f[i] ^= (char)(1 << bit);
			assert_rejected(f, len, "bit flip");
			if (f[i] == '\n' && i + 1 < len) {
				assert_rejected(f, i + 1, "bit flip: first part");
				assert_rejected(f + i + 1, len - i - 1, "bit flip: second part");
			}
			f[i] ^= (char)(1 << bit);
		}
}

START_TEST(test_single_bit_flips)
{
	static char msg[300];
	struct record r;
	size_t len;

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (char)i;
	assert_flips_detected(golden_line, sizeof(golden_line) - 1);
	r = (struct record){ .seq = 1, .tag_len = 0, .claimed_pid = RECORD_NO_CLAIMED_PID };
	_cleanup_free_ char *l1 = encode(&r, &len);
	assert_flips_detected(l1, len);
	r = plain_record("my app", 6, msg, sizeof(msg));
	r.claimed_pid = 4242;
	r.claimed_time_us = GOLDEN_TIME_US + 17;
	_cleanup_free_ char *l2 = encode(&r, &len);
	assert_flips_detected(l2, len);
	rng_state = 12345;
	for (int n = 0; n < 20; n++) {
		r = plain_record(msg, random_text(msg, 20), msg + 32, random_text(msg + 32, 200));
		r.seq = rng();
		_cleanup_free_ char *l = encode(&r, &len);
		assert_flips_detected(l, len);
	}
}
END_TEST

START_TEST(test_truncations)
{
	const size_t n = sizeof(golden_line) - 1;
	char buf[sizeof(golden_line)];

	for (size_t len = 0; len < n; len++) {
		assert_rejected(golden_line, len, "prefix");
		/* a prefix that still ends in LF, as a torn write leaves it */
		memcpy(buf, golden_line, len);
		buf[len] = '\n';
		if (len + 1 < n)
			assert_rejected(buf, len + 1, "prefix + LF");
		assert_rejected(golden_line + len + 1, n - len - 1, "suffix");
	}
}
END_TEST

/* Appends " CSUM\n" with the right checksum, so the syntax checks behind
 * the checksum are what is tested. */
static size_t
seal(const char *body, char *out)
{
	size_t n = strlen(body);

	memcpy(out, body, n);
	n += (size_t)sprintf(out + n, " %016llx\n", (unsigned long long)XXH3_64bits(body, n));
	return n;
}

struct bad_line {
	const char *body; /* before " CSUM\n" */
	const char *reason;
};

#define T "2026-11-24T09:02:35.123456Z"
#define HEAD T " 42 user.info 1234 1000 1000"

static const struct bad_line bad_lines[] = {
	/* time */
	{ "2026-11-24T09:02:35.123456 42 user.info 1 1 1 t - - m", "bad time field" },
	{ "2026-11-24T09:02:35.1234567Z 42 user.info 1 1 1 t - - m", "bad time field" },
	{ "2026-11-24t09:02:35.123456Z 42 user.info 1 1 1 t - - m", "bad time field" },
	{ "2026-11-24T09:02:35.123456z 42 user.info 1 1 1 t - - m", "bad time field" },
	{ "2026-11-24 09:02:35.123456Z 42 user.info 1 1 1 t - - m", "bad time field" },
	{ "2026-11-24T09:02:35Z 42 user.info 1 1 1 t - - m", "bad time field" },
	{ "2026-11-24T09:02:35.123456+00:00 42 user.info 1 1 1 t - - m", "bad time field" },
	{ "2026-13-24T09:02:35.123456Z 42 user.info 1 1 1 t - - m", "bad time field" },
	{ "2026-00-24T09:02:35.123456Z 42 user.info 1 1 1 t - - m", "bad time field" },
	{ "2026-11-00T09:02:35.123456Z 42 user.info 1 1 1 t - - m", "bad time field" },
	{ "2026-11-31T09:02:35.123456Z 42 user.info 1 1 1 t - - m", "bad time field" },
	{ "2025-02-29T09:02:35.123456Z 42 user.info 1 1 1 t - - m", "bad time field" },
	{ "2100-02-29T09:02:35.123456Z 42 user.info 1 1 1 t - - m", "bad time field" },
	{ "2026-11-24T24:02:35.123456Z 42 user.info 1 1 1 t - - m", "bad time field" },
	{ "2026-11-24T09:60:35.123456Z 42 user.info 1 1 1 t - - m", "bad time field" },
	{ "2026-11-24T09:02:60.123456Z 42 user.info 1 1 1 t - - m", "bad time field" },
	{ "1969-12-31T23:59:59.999999Z 42 user.info 1 1 1 t - - m", "bad time field" },
	{ "2026-11-24T09:02:35.12345aZ 42 user.info 1 1 1 t - - m", "bad time field" },
	{ "+026-11-24T09:02:35.123456Z 42 user.info 1 1 1 t - - m", "bad time field" },
	{ " " T " 42 user.info 1 1 1 t - - m", "bad time field" },
	{ "", "checksum mismatch or no checksum" },
	/* seq */
	{ T " 0 user.info 1 1 1 t - - m", "bad seq field" },
	{ T " 042 user.info 1 1 1 t - - m", "bad seq field" },
	{ T " 00 user.info 1 1 1 t - - m", "bad seq field" },
	{ T " 18446744073709551616 user.info 1 1 1 t - - m", "bad seq field" },
	{ T " 99999999999999999999 user.info 1 1 1 t - - m", "bad seq field" },
	{ T " 000000000000000000001 user.info 1 1 1 t - - m", "bad seq field" },
	{ T " -1 user.info 1 1 1 t - - m", "bad seq field" },
	{ T " +1 user.info 1 1 1 t - - m", "bad seq field" },
	{ T " 1a user.info 1 1 1 t - - m", "bad seq field" },
	{ T "  42 user.info 1 1 1 t - - m", "bad seq field" },
	{ T " 0x2a user.info 1 1 1 t - - m", "bad seq field" },
	{ T, "bad seq field" },
	/* facility.severity */
	{ T " 42 user 1 1 1 t - - m", "unknown facility.severity" },
	{ T " 42 user. 1 1 1 t - - m", "unknown facility.severity" },
	{ T " 42 .info 1 1 1 t - - m", "unknown facility.severity" },
	{ T " 42 foo.info 1 1 1 t - - m", "unknown facility.severity" },
	{ T " 42 user.foo 1 1 1 t - - m", "unknown facility.severity" },
	{ T " 42 user.warn 1 1 1 t - - m", "unknown facility.severity" },
	{ T " 42 user.error 1 1 1 t - - m", "unknown facility.severity" },
	{ T " 42 user.panic 1 1 1 t - - m", "unknown facility.severity" },
	{ T " 42 User.info 1 1 1 t - - m", "unknown facility.severity" },
	{ T " 42 user.INFO 1 1 1 t - - m", "unknown facility.severity" },
	{ T " 42 user.info.x 1 1 1 t - - m", "unknown facility.severity" },
	{ T " 42 user..info 1 1 1 t - - m", "unknown facility.severity" },
	{ T " 42 1.6 1 1 1 t - - m", "unknown facility.severity" },
	{ T " 42  1 1 1 t - - m", "unknown facility.severity" },
	{ T " 42", "missing facility.severity" },
	/* pid, uid, gid */
	{ T " 42 user.info -1 1 1 t - - m", "bad pid field" },
	{ T " 42 user.info 01 1 1 t - - m", "bad pid field" },
	{ T " 42 user.info 9223372036854775808 1 1 t - - m", "bad pid field" },
	{ T " 42 user.info x 1 1 t - - m", "bad pid field" },
	{ T " 42 user.info - 1 1 t - - m", "bad pid field" },
	{ T " 42 user.info  1 1 t - - m", "bad pid field" },
	{ T " 42 user.info 1 4294967296 1 t - - m", "bad uid field" },
	{ T " 42 user.info 1 -1 1 t - - m", "bad uid field" },
	{ T " 42 user.info 1 007 1 t - - m", "bad uid field" },
	{ T " 42 user.info 1 1 4294967296 t - - m", "bad gid field" },
	{ T " 42 user.info 1 1 - t - - m", "bad gid field" },
	{ T " 42 user.info 1 1", "bad gid field" },
	{ T " 42 user.info 1", "bad uid field" },
	{ T " 42 user.info", "bad pid field" },
	/* tag */
	{ HEAD "", "missing tag" },
	{ HEAD "  - - m", "missing tag" },
	{ HEAD " \\x - - m", "bad escape in tag" },
	{ HEAD " \\x4 - - m", "bad escape in tag" },
	{ HEAD " \\xZZ - - m", "bad escape in tag" },
	{ HEAD " \\n - - m", "bad escape in tag" },
	{ HEAD " a\\ - - m", "bad escape in tag" },
	{ HEAD " \\x41 - - m", "bad escape in tag" },
	{ HEAD " a\\x2db - - m", "bad escape in tag" },
	{ HEAD " \\x2d\\x2d - - m", "bad escape in tag" },
	{ HEAD " \\xc3\\xa9 - - m", "bad escape in tag" },
	{ HEAD " a\tb - - m", "bad escape in tag" },
	{ HEAD " \xff - - m", "bad escape in tag" },
	{ HEAD " \xc2\x85 - - m", "bad escape in tag" },
	/* claimed pid, claimed time */
	{ HEAD " t", "missing claimed pid" },
	{ HEAD " t x - m", "bad claimed pid" },
	{ HEAD " t -1 - m", "bad claimed pid" },
	{ HEAD " t 01 - m", "bad claimed pid" },
	{ HEAD " t -- - m", "bad claimed pid" },
	{ HEAD " t 9223372036854775808 - m", "bad claimed pid" },
	{ HEAD " t  - m", "bad claimed pid" },
	{ HEAD " t -", "missing claimed time" },
	{ HEAD " t - 0 m", "bad claimed time" },
	{ HEAD " t - -- m", "bad claimed time" },
	{ HEAD " t - 1970-01-01T00:00:00.000000Z m", "bad claimed time" },
	{ HEAD " t - 2026-11-24T09:02:35Z m", "bad claimed time" },
	{ HEAD " t - 2026-02-30T09:02:35.123456Z m", "bad claimed time" },
	/* message: the field after the claimed time, up to " CSUM" */
	{ HEAD " t - -", "missing message" },
	{ HEAD " t - - \x01", "bad escape or raw control byte in message" },
	{ HEAD " t - - a\tb", "bad escape or raw control byte in message" },
	{ HEAD " t - - \x7f", "bad escape or raw control byte in message" },
	{ HEAD " t - - a\rb", "bad escape or raw control byte in message" },
	{ HEAD " t - - \\", "bad escape or raw control byte in message" },
	{ HEAD " t - - a\\", "bad escape or raw control byte in message" },
	{ HEAD " t - - \\x", "bad escape or raw control byte in message" },
	{ HEAD " t - - \\x0", "bad escape or raw control byte in message" },
	{ HEAD " t - - \\x0g", "bad escape or raw control byte in message" },
	{ HEAD " t - - \\X0a", "bad escape or raw control byte in message" },
	{ HEAD " t - - \\x0A", "bad escape or raw control byte in message" },
	{ HEAD " t - - \\n", "bad escape or raw control byte in message" },
	{ HEAD " t - - \\u00e9", "bad escape or raw control byte in message" },
	{ HEAD " t - - \\x41", "bad escape or raw control byte in message" },
	{ HEAD " t - - \\x20", "bad escape or raw control byte in message" },
	{ HEAD " t - - \\x5c", "bad escape or raw control byte in message" },
	{ HEAD " t - - \\x2d", "bad escape or raw control byte in message" },
	{ HEAD " t - - \\xc3\\xa9", "bad escape or raw control byte in message" },
	{ HEAD " t - - \\xf0\\x9f\\x98\\x80", "bad escape or raw control byte in message" },
	{ HEAD " t - - \\xc3\xa9", "bad escape or raw control byte in message" },
	{ HEAD " t - - \xc3", "bad escape or raw control byte in message" },
	{ HEAD " t - - \xc3\\xa9", "bad escape or raw control byte in message" },
	{ HEAD " t - - \xff", "bad escape or raw control byte in message" },
	{ HEAD " t - - \x80", "bad escape or raw control byte in message" },
	{ HEAD " t - - \xc2\x80", "bad escape or raw control byte in message" },
	{ HEAD " t - - \xc0\xaf", "bad escape or raw control byte in message" },
	{ HEAD " t - - \xed\xa0\x80", "bad escape or raw control byte in message" },
	{ HEAD " t - - \xf4\x90\x80\x80", "bad escape or raw control byte in message" },
	{ HEAD " t - - \xe2\x82", "bad escape or raw control byte in message" },
	{ HEAD " t - - a\nb", "bad escape or raw control byte in message" },
	/* a header where a record belongs */
	{ "#seglog 1 42 " T " 00112233445566778899aabbccddeeff",
	  "a segment header where a record was expected" },
	{ "#" T " 42 user.info 1 1 1 t - - m",
	  "a '#' line where a record was expected (meta lines exist in version 2)" },
};

/* The reasons record_check gives too. */
static bool
head_reason(const char *reason)
{
	static const char *const head[] = {
		"checksum mismatch or no checksum", "bad time field", "bad seq field",
		"missing facility.severity", "unknown facility.severity", "bad pid field",
		"bad uid field", "bad gid field", "a segment header where a record was expected",
		"a '#' line where a record was expected (meta lines exist in version 2)",
	};
	for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++)
		if (strcmp(reason, head[i]) == 0)
			return true;
	return false;
}

START_TEST(test_malformed_lines)
{
	char buf[512];

	for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		const struct bad_line *b = &bad_lines[i];
		size_t len = seal(b->body, buf);
		struct record out;
		const char *reason;

		free(decode(buf, len, &out, &(int){ 0 }, &reason));
		ck_assert_msg(reason && strcmp(reason, b->reason) == 0,
			      "line %zu '%s': reason '%s', want '%s'", i, b->body,
			      reason ? reason : "(accepted)", b->reason);
		assert_rejected_by(buf, len, b->body, !head_reason(b->reason));
	}
}
END_TEST

/* What the head checks accept, at the edges. */
START_TEST(test_edge_lines_accepted)
{
	static const struct {
		const char *body;
		uint64_t seq;
	} good[] = {
		{ T " 1 kern.emerg 0 0 0 - - - ", 1 },
		{ T " 18446744073709551615 local7.debug 9223372036854775807 4294967295 4294967295"
		    " - 9223372036854775807 9999-12-31T23:59:59.999999Z m", UINT64_MAX },
		{ "2024-02-29T00:00:00.000000Z 5 security.notice 1 1 1 \\x2d 0 "
		  "1970-01-01T00:00:00.000001Z  two  spaces ", 5 },
		{ "2000-02-29T23:59:59.999999Z 5 solaris-cron.warning 1 1 1 - - - - - -", 5 },
		{ "1970-01-01T00:00:00.000000Z 5 authpriv.crit 1 1 1 a\\\\b - - \\\\\\x00\xc3\xa9", 5 },
	};
	char buf[512];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		size_t len = seal(good[i].body, buf);
		struct record out;
		const char *reason;
		int k;
		uint64_t seq = 0, t;
		_cleanup_free_ char *scratch = decode(buf, len, &out, &k, &reason);
		_cleanup_free_ char *again = NULL;
		size_t len2;

		ck_assert_ptr_nonnull(scratch); /* out points into it */
		ck_assert_msg(k == 0, "'%s': %s", good[i].body, reason);
		ck_assert_int_eq(record_check_version(1, buf, len, &seq, &t, NULL), 0);
		ck_assert_uint_eq(seq, good[i].seq);
		ck_assert_uint_eq(out.seq, good[i].seq);
		again = encode(&out, &len2);
		ck_assert_uint_eq(len2, len);
		ck_assert_mem_eq(again, buf, len);
	}
}
END_TEST

START_TEST(test_checksum_field)
{
	const size_t n = sizeof(golden_line) - 1;
	char buf[sizeof(golden_line) + 8];

	/* uppercase hex of the right value */
	memcpy(buf, golden_line, n);
	for (size_t i = n - 17; i < n - 1; i++)
		if (buf[i] >= 'a')
			buf[i] = (char)(buf[i] - 'a' + 'A');
	assert_rejected(buf, n, "uppercase checksum");
	/* 15 and 17 digits */
	memcpy(buf, golden_line, n);
	memmove(buf + n - 17, buf + n - 16, 16);
	assert_rejected(buf, n - 1, "15 digits");
	memcpy(buf, golden_line, n - 1);
	memcpy(buf + n - 1, "0\n", 2);
	assert_rejected(buf, n + 1, "17 digits");
	/* a TAB for the SP before the checksum; no SP at all */
	memcpy(buf, golden_line, n);
	buf[n - 18] = '\t';
	assert_rejected(buf, n, "TAB before checksum");
	/* CRLF, a second LF, trailing space, no LF */
	memcpy(buf, golden_line, n - 1);
	memcpy(buf + n - 1, "\r\n", 2);
	assert_rejected(buf, n + 1, "CRLF");
	memcpy(buf, golden_line, n);
	buf[n] = '\n';
	assert_rejected(buf, n + 1, "LF LF");
	memcpy(buf, golden_line, n - 1);
	memcpy(buf + n - 1, " \n", 2);
	assert_rejected(buf, n + 1, "trailing space");
	assert_rejected(golden_line, n - 1, "no LF");
	/* the checksum of another line */
	memcpy(buf, golden_line, n);
	memcpy(buf + n - 17, "0000000000000000", 16);
	assert_rejected(buf, n, "zero checksum");
	/* a checksum over the line with its LF, or with the SP */
	memcpy(buf, golden_line, n);
	sprintf(buf + n - 17, "%016llx\n", (unsigned long long)XXH3_64bits(golden_line, n - 17));
	assert_rejected(buf, n, "checksum includes SP");
}
END_TEST

/* Each field replaced by the same field of another valid line, checksum
 * left alone: caught by the checksum. */
START_TEST(test_altered_fields)
{
	static const char *const from[] = { " 42 ", " user.info ", " 1234 ", " myapp ", " hello " };
	static const char *const to[] = { " 43 ", " user.warning ", " 1235 ", " myapq ",
					  " hellp " };
	char buf[256];

	for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
		const char *p = strstr(golden_line, from[i]);
		size_t pre = (size_t)(p - golden_line), n;

		memcpy(buf, golden_line, pre);
		n = pre + (size_t)sprintf(buf + pre, "%s%s", to[i], p + strlen(from[i]));
		assert_rejected(buf, n, to[i]);
	}
}
END_TEST

/* --- header ---------------------------------------------------------------- */

START_TEST(test_header_round_trip)
{
	static const uint64_t seqs[] = { 1, 2, 10, 4294967296u, UINT64_MAX - 1, UINT64_MAX };
	static const uint64_t times[] = { 0, 1, GOLDEN_TIME_US, TIME_MAX };

	rng_state = 77;
	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++)
		for (size_t j = 0; j < sizeof(times) / sizeof(times[0]); j++) {
			struct segment_header h = { .version = RECORD_FORMAT_VERSION,
						    .first_seq = seqs[i], .created_us = times[j] };
			struct segment_header out;
			char buf[RECORD_HEADER_MAX + 8];
			const char *reason = NULL;
			size_t n;

			for (int k = 0; k < RECORD_DIR_ID_LEN; k++)
				h.dir_id[k] = (uint8_t)(j == 0 ? 0 : j == 1 ? 0xff : rng());
			memset(buf, 0x5a, sizeof(buf));
			n = record_header_encode(&h, buf);
			ck_assert_uint_le(n, RECORD_HEADER_MAX);
			ck_assert_uint_eq((unsigned char)buf[RECORD_HEADER_MAX], 0x5a);
			ck_assert_uint_eq(buf[n - 1], '\n');
			ck_assert(record_is_header(buf, n));
			_cleanup_free_ char *d = dup_exact(buf, n);
			ck_assert_int_eq(record_header_decode(d, n, &out, &reason), 0);
			ck_assert_uint_eq(out.version, h.version);
			ck_assert_uint_eq(out.first_seq, h.first_seq);
			ck_assert_uint_eq(out.created_us, h.created_us);
			ck_assert_mem_eq(out.dir_id, h.dir_id, RECORD_DIR_ID_LEN);
		}
}
END_TEST

static void
assert_header_rejected(const char *line, size_t len, const char *want)
{
	struct segment_header out, before;
	const char *reason = NULL;
	_cleanup_free_ char *d = dup_exact(line, len);

	memset(&before, 0x5a, sizeof(before));
	memcpy(&out, &before, sizeof(out));
	CHECK(record_header_decode(d, len, &out, &reason) == -EBADMSG, "accepted '%.*s'", (int)len,
	      line);
	CHECK(reason, "no reason");
	CHECK(!want || strcmp(reason, want) == 0, "'%.*s': reason '%s', want '%s'", (int)len, line,
	      reason, want);
	CHECK(!memcmp(&out, &before, sizeof(out)), "*ret written on error");
	CHECK(record_header_decode(d, len, &out, NULL) == -EBADMSG, "accepted without reason");
}

START_TEST(test_header_malformed)
{
	static const struct bad_line bad[] = {
		{ "#seglog 3 42 " T " 00112233445566778899aabbccddeeff",
		  "unsupported format version" },
		{ "#seglog 0 42 " T " 00112233445566778899aabbccddeeff",
		  "unsupported format version" },
		{ "#seglog 01 42 " T " 00112233445566778899aabbccddeeff", "bad format version" },
		{ "#seglog x 42 " T " 00112233445566778899aabbccddeeff", "bad format version" },
		{ "#seglog  1 42 " T " 00112233445566778899aabbccddeeff", "bad format version" },
		{ "#seglog 1", "bad first seq" },
		{ "#seglog", "bad format version" },
		{ "#seglog 1 0 " T " 00112233445566778899aabbccddeeff", "bad first seq" },
		{ "#seglog 1 042 " T " 00112233445566778899aabbccddeeff", "bad first seq" },
		{ "#seglog 1 18446744073709551616 " T " 00112233445566778899aabbccddeeff",
		  "bad first seq" },
		{ "#seglog 1 -1 " T " 00112233445566778899aabbccddeeff", "bad first seq" },
		{ "#seglog 1 42", "bad creation time" },
		{ "#seglog 1 42 2026-11-24T09:02:35Z 00112233445566778899aabbccddeeff",
		  "bad creation time" },
		{ "#seglog 1 42 2026-02-29T09:02:35.123456Z 00112233445566778899aabbccddeeff",
		  "bad creation time" },
		{ "#seglog 1 42 " T, "bad directory id" },
		{ "#seglog 1 42 " T " 00112233445566778899aabbccddeef", "bad directory id" },
		{ "#seglog 1 42 " T " 00112233445566778899aabbccddeeff0", "bad directory id" },
		{ "#seglog 1 42 " T " 00112233445566778899AABBCCDDEEFF", "bad directory id" },
		{ "#seglog 1 42 " T " 0011223344556677889gaabbccddeeff", "bad directory id" },
		{ "#seglog 1 42 " T " 00112233445566778899aabbccddeeff extra", "bad directory id" },
		{ "#seglog 1 42 " T " 00112233445566778899aabbccddeeff ", "bad directory id" },
		{ "#seglog 1 42 " T " ", "bad directory id" },
		{ "#seglog 1 42 " T "  00112233445566778899aabbccddeeff", "bad directory id" },
		{ "#seglo", "not a segment header" },
		{ "#Seglog 1 42 " T " 00112233445566778899aabbccddeeff", "not a segment header" },
		{ "#seglog\t1 42 " T " 00112233445566778899aabbccddeeff", "not a segment header" },
		{ " #seglog 1 42 " T " 00112233445566778899aabbccddeeff", "not a segment header" },
		{ "seglog 1 42 " T " 00112233445566778899aabbccddeeff", "not a segment header" },
		{ T " 42 user.info 1234 1000 1000 myapp - - hello world", "not a segment header" },
	};
	const size_t n = sizeof(golden_header) - 1;
	char buf[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_header_rejected(buf, seal(bad[i].body, buf), bad[i].reason);
	/* every prefix, every bit flip */
	for (size_t len = 0; len < n; len++)
		assert_header_rejected(golden_header, len, NULL);
	memcpy(buf, golden_header, n);
	for (size_t i = 0; i < n; i++)
		for (int bit = 0; bit < 8; bit++) {
			buf[i] ^= (char)(1 << bit);
			assert_header_rejected(buf, n, NULL);
			buf[i] ^= (char)(1 << bit);
		}
	assert_header_rejected(golden_line, sizeof(golden_line) - 1, "not a segment header");
	memcpy(buf, golden_header, n);
	buf[n] = '\n';
	assert_header_rejected(buf, n + 1, "header checksum mismatch");
	assert_header_rejected(golden_header, n - 1, "header checksum mismatch");
}
END_TEST

START_TEST(test_is_header)
{
	ck_assert(!record_is_header("", 0));
	ck_assert(!record_is_header("#", 0));
	ck_assert(record_is_header("#", 1));
	ck_assert(record_is_header(golden_header, sizeof(golden_header) - 1));
	ck_assert(!record_is_header(golden_line, sizeof(golden_line) - 1));
}
END_TEST

/* --- time ------------------------------------------------------------------ */

/* The same instant through gmtime_r, an independent calendar. */
static void
assert_time_like_libc(uint64_t us)
{
	char mine[RECORD_TIME_LEN + 1] = { 0 }, want[64];
	time_t sec = (time_t)(us / 1000000);
	struct tm tm;
	uint64_t back = 0;

	CHECK(gmtime_r(&sec, &tm), "gmtime_r");
	snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(us % 1000000));
	record_format_time(us, mine);
	CHECK(!strcmp(mine, want), "%s, gmtime_r says %s", mine, want);
	CHECK(record_parse_time(mine, RECORD_TIME_LEN, &back) == 0 && back == us,
	      "%s does not parse back to %llu", mine, (unsigned long long)us);
}

START_TEST(test_time_edges)
{
	static const struct {
		uint64_t us;
		const char *s;
	} v[] = {
		{ 0, "1970-01-01T00:00:00.000000Z" },
		{ 1, "1970-01-01T00:00:00.000001Z" },
		{ 999999, "1970-01-01T00:00:00.999999Z" },
		{ 1000000, "1970-01-01T00:00:01.000000Z" },
		{ 86399999999, "1970-01-01T23:59:59.999999Z" },
		{ 86400000000, "1970-01-02T00:00:00.000000Z" },
		{ 68169600000000, "1972-02-29T00:00:00.000000Z" },
		{ 951782400000000, "2000-02-29T00:00:00.000000Z" },
		{ 951868799999999, "2000-02-29T23:59:59.999999Z" },
		{ 2147483648000000, "2038-01-19T03:14:08.000000Z" },
		{ 4107542400000000, "2100-03-01T00:00:00.000000Z" },
		{ 4107542399999999, "2100-02-28T23:59:59.999999Z" },
		{ 4294967296000000, "2106-02-07T06:28:16.000000Z" },
		{ 253402300799999999u, "9999-12-31T23:59:59.999999Z" },
		{ 253402300800000000u, "9999-12-31T23:59:59.999999Z" }, /* clamped */
		{ UINT64_MAX, "9999-12-31T23:59:59.999999Z" },		 /* clamped */
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char buf[RECORD_TIME_LEN + 1] = { 0 };
		uint64_t back;

		record_format_time(v[i].us, buf);
		ck_assert_str_eq(buf, v[i].s);
		ck_assert_int_eq(record_parse_time(v[i].s, RECORD_TIME_LEN, &back), 0);
		ck_assert_uint_eq(back, v[i].us > TIME_MAX ? TIME_MAX : v[i].us);
		if (v[i].us <= TIME_MAX)
			assert_time_like_libc(v[i].us);
	}
}
END_TEST

START_TEST(test_time_against_libc)
{
	/* Every day 1970 .. 2500 at a varying time of day, then random instants
	 * up to year 9999; the format's per-second cache is crossed both ways. */
	rng_state = 4242;
	for (uint64_t day = 0; day < 194000; day++)
		assert_time_like_libc(day * 86400000000u + rng_below(86400000000u));
	for (int i = 0; i < 200000; i++) {
		uint64_t t = rng_below(TIME_MAX + 1);
		assert_time_like_libc(t);
		assert_time_like_libc(t - t % 1000000 + rng_below(1000000));
	}
}
END_TEST

START_TEST(test_time_rejects)
{
	static const char *const bad[] = {
		"1970-01-01T00:00:00.000000",	"1970-01-01T00:00:00.000000ZZ",
		"1969-12-31T23:59:59.999999Z",	"0000-01-01T00:00:00.000000Z",
		"2026-00-01T00:00:00.000000Z",	"2026-13-01T00:00:00.000000Z",
		"2026-01-00T00:00:00.000000Z",	"2026-01-32T00:00:00.000000Z",
		"2026-04-31T00:00:00.000000Z",	"2026-06-31T00:00:00.000000Z",
		"2026-09-31T00:00:00.000000Z",	"2026-11-31T00:00:00.000000Z",
		"2026-02-29T00:00:00.000000Z",	"2024-02-30T00:00:00.000000Z",
		"1900-02-29T00:00:00.000000Z",	"2026-01-01T24:00:00.000000Z",
		"2026-01-01T00:60:00.000000Z",	"2026-01-01T00:00:60.000000Z",
		"2026-01-01T00:00:00,000000Z",	"2026/01/01T00:00:00.000000Z",
		"2026-01-01T00-00:00.000000Z",	"2026-01-01T00:00:00.00000 Z",
		"2026-01-01T00:00:00.-00000Z",	"2026-01-01T00:00:00.00000aZ",
		"20260-1-01T00:00:00.000000Z",	"2026-01-01T0 :00:00.000000Z",
		"2026-01-01T00:00:00.000000+",	"2026-01-01 00:00:00.000000Z",
	};
	uint64_t t = 7;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = strlen(bad[i]);
		_cleanup_free_ char *d = dup_exact(bad[i], n);
		ck_assert_msg(record_parse_time(d, n, &t) == -EBADMSG, "accepted %s", bad[i]);
	}
	ck_assert_int_eq(record_parse_time("", 0, &t), -EBADMSG);
	ck_assert_uint_eq(t, 7);
	ck_assert_int_eq(record_parse_time("2024-02-29T00:00:00.000000Z", 27, &t), 0);
}
END_TEST

/* record_format_time keeps two seconds' text (a record's time and the
 * time it claims alternate): whatever the order, each time is its own. */
START_TEST(test_time_format_cache)
{
	static const uint64_t t[] = {
		1767225600000001ull, 1700000000123456ull, 1767225600999999ull,
		1767225601000000ull, 1700000000000000ull, 1767225600000002ull,
		1767225601000001ull, 1767225600000003ull,
	};
	char buf[RECORD_TIME_LEN];
	uint64_t back;

	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < ELEMENTSOF(t); i++) {
			record_format_time(t[i], buf);
			ck_assert_int_eq(record_parse_time(buf, RECORD_TIME_LEN, &back), 0);
			ck_assert_uint_eq(back, t[i]);
		}
	record_format_time(1767225600000001ull, buf);
	ck_assert_int_eq(memcmp(buf, "2026-01-01T00:00:00.000001Z", RECORD_TIME_LEN), 0);
	record_format_time(1700000000123456ull, buf);
	ck_assert_int_eq(memcmp(buf, "2023-11-14T22:13:20.123456Z", RECORD_TIME_LEN), 0);
}
END_TEST

/* record_parse_time keeps the last minute it parsed: what follows in the
 * same minute is still checked in full, and a new minute is parsed anew. */
START_TEST(test_time_minute_cache)
{
	static const char *const bad_same_minute[] = {
		"2026-01-01T00:00:60.000000Z", "2026-01-01T00:00:5a.000000Z",
		"2026-01-01T00:00:00.00000aZ", "2026-01-01T00:00:00.000000+",
		"2026-01-01T00:00;00.000000Z", "2026-01-01T00:00:00,000000Z",
	};
	uint64_t t = 0, base = 1767225600ull * 1000000u; /* 2026-01-01T00:00:00Z */

	ck_assert_int_eq(record_parse_time("2026-01-01T00:00:59.999999Z", 27, &t), 0);
	ck_assert_uint_eq(t, base + 59999999u);
	for (size_t i = 0; i < ELEMENTSOF(bad_same_minute); i++)
		ck_assert_msg(record_parse_time(bad_same_minute[i], 27, &t) == -EBADMSG,
			      "accepted %s", bad_same_minute[i]);
	ck_assert_int_eq(record_parse_time("2026-01-01T00:00:01.000001Z", 27, &t), 0);
	ck_assert_uint_eq(t, base + 1000001u);
	ck_assert_int_eq(record_parse_time("2026-01-01T00:01:00.000000Z", 27, &t), 0);
	ck_assert_uint_eq(t, base + 60000000u);
	ck_assert_int_eq(record_parse_time("2026-02-30T00:01:00.000000Z", 27, &t), -EBADMSG);
	ck_assert_int_eq(record_parse_time("2026-01-01T00:01:02.000000Z", 27, &t), 0);
	ck_assert_uint_eq(t, base + 62000000u);
}
END_TEST

/* --- names ----------------------------------------------------------------- */

START_TEST(test_names)
{
	for (unsigned f = 0; f < 24; f++) {
		const char *n = record_facility_name(f);
		ck_assert_ptr_nonnull(n);
		ck_assert_int_eq(record_facility_from_name(n, strlen(n)), (int)f);
	}
	for (unsigned s = 0; s < 8; s++) {
		const char *n = record_severity_name(s);
		ck_assert_ptr_nonnull(n);
		ck_assert_int_eq(record_severity_from_name(n, strlen(n)), (int)s);
	}
	ck_assert_ptr_null(record_facility_name(24));
	ck_assert_ptr_null(record_facility_name(UINT32_MAX));
	ck_assert_ptr_null(record_severity_name(8));
	ck_assert_str_eq(record_facility_name(13), "security");
	ck_assert_str_eq(record_facility_name(15), "solaris-cron");
	ck_assert_int_eq(record_severity_from_name("panic", 5), 0);
	ck_assert_int_eq(record_severity_from_name("error", 5), 3);
	ck_assert_int_eq(record_severity_from_name("warn", 4), 4);
	ck_assert_int_eq(record_severity_from_name("inf", 3), -EINVAL);
	ck_assert_int_eq(record_severity_from_name("infoo", 5), -EINVAL);
	ck_assert_int_eq(record_severity_from_name("", 0), -EINVAL);
	ck_assert_int_eq(record_facility_from_name("use", 3), -EINVAL);
	ck_assert_int_eq(record_facility_from_name("local8", 6), -EINVAL);
	ck_assert_int_eq(record_facility_from_name("user.info", 4), 1); /* length counts */
}
END_TEST

static Suite *
record_suite(void)
{
	Suite *s = suite_create("record");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_put_u64);
	tcase_add_test(tc, test_escape_every_offset);
	tcase_add_test(tc, test_golden_line);
	tcase_add_test(tc, test_golden_header);
	tcase_add_test(tc, test_fields_written_as_documented);
	tcase_add_test(tc, test_every_byte_alone);
	tcase_add_test(tc, test_all_bytes_in_one_message);
	tcase_add_test(tc, test_random_records);
	tcase_add_test(tc, test_field_extremes);
	tcase_add_test(tc, test_claimed_time_beyond_year_9999);
	tcase_add_test(tc, test_escapes);
	tcase_add_test(tc, test_printable_text_is_greppable);
	tcase_add_test(tc, test_tag_escaping);
	tcase_add_test(tc, test_unescape_direct);
	tcase_add_test(tc, test_single_bit_flips);
	tcase_add_test(tc, test_truncations);
	tcase_add_test(tc, test_malformed_lines);
	tcase_add_test(tc, test_edge_lines_accepted);
	tcase_add_test(tc, test_checksum_field);
	tcase_add_test(tc, test_altered_fields);
	tcase_add_test(tc, test_header_round_trip);
	tcase_add_test(tc, test_header_malformed);
	tcase_add_test(tc, test_is_header);
	tcase_add_test(tc, test_time_edges);
	tcase_add_test(tc, test_time_against_libc);
	tcase_add_test(tc, test_time_rejects);
	tcase_add_test(tc, test_time_minute_cache);
	tcase_add_test(tc, test_time_format_cache);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(record_suite());
}
