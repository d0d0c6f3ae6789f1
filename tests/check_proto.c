/* The native protocol codec: exact bytes on the wire, round trips of every
 * frame type, rejection of every truncated or out-of-range body, and a
 * frame stream decoded correctly however the reads split it. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "proto.h"
#include "testutil.h"

/* Copies len bytes into a heap block of exactly that size, so ASan and
 * valgrind catch a parser reading one byte past the body. */
static uint8_t *
dup_exact(const uint8_t *p, size_t len)
{
	uint8_t *d = malloc(len ? len : 1);

	ck_assert_ptr_nonnull(d);
	if (len)
		memcpy(d, p, len);
	return d;
}

/* Checks the frame header of buf and returns its body length. */
static uint32_t
check_header(const uint8_t *buf, size_t n, uint8_t type)
{
	uint8_t t = 0;
	uint32_t blen = 0;

	ck_assert_int_eq(proto_frame_header(buf, n, &t, &blen), PROTO_FRAME_HEADER);
	ck_assert_uint_eq(t, type);
	ck_assert_uint_eq(blen + PROTO_FRAME_HEADER, n);
	return blen;
}

START_TEST(test_frame_header_short)
{
	const uint8_t buf[PROTO_FRAME_HEADER] = { 1, 0, 0, 0, PROTO_STATUS_REQ };
	uint8_t t = 0x55;
	uint32_t blen = 0x5555;

	for (size_t n = 0; n < PROTO_FRAME_HEADER; n++) {
		ck_assert_int_eq(proto_frame_header(buf, n, &t, &blen), 0);
		ck_assert_uint_eq(t, 0x55);
		ck_assert_uint_eq(blen, 0x5555);
	}
	ck_assert_int_eq(proto_frame_header(buf, sizeof(buf), &t, &blen), PROTO_FRAME_HEADER);
	ck_assert_uint_eq(t, PROTO_STATUS_REQ);
	ck_assert_uint_eq(blen, 0);
}
END_TEST

START_TEST(test_frame_header_bad_len)
{
	static const uint8_t zero[] = { 0, 0, 0, 0, PROTO_RECORD };
	static const uint8_t above[] = { 0x01, 0x00, 0x00, 0x01, PROTO_RECORD }; /* 16 MiB + 1 */
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff, PROTO_RECORD };
	uint8_t t = 0x55;
	uint32_t blen = 0x5555;

	ck_assert_int_eq(proto_frame_header(zero, sizeof(zero), &t, &blen), -EBADMSG);
	ck_assert_int_eq(proto_frame_header(above, sizeof(above), &t, &blen), -EBADMSG);
	ck_assert_int_eq(proto_frame_header(huge, sizeof(huge), &t, &blen), -EBADMSG);
	ck_assert_uint_eq(t, 0x55);
	ck_assert_uint_eq(blen, 0x5555);
}
END_TEST

START_TEST(test_frame_header_limits_and_any_type)
{
	static const uint8_t max[] = { 0x00, 0x00, 0x00, 0x01, 0xee }; /* exactly 16 MiB */
	static const uint8_t one[] = { 0x01, 0x00, 0x00, 0x00, 0x00 };
	uint8_t t;
	uint32_t blen;

	ck_assert_int_eq(proto_frame_header(max, sizeof(max), &t, &blen), PROTO_FRAME_HEADER);
	ck_assert_uint_eq(t, 0xee); /* the caller judges the type */
	ck_assert_uint_eq(blen, PROTO_FRAME_HARD_MAX - 1);
	ck_assert_int_eq(proto_frame_header(one, sizeof(one), &t, &blen), PROTO_FRAME_HEADER);
	ck_assert_uint_eq(t, 0);
	ck_assert_uint_eq(blen, 0);
}
END_TEST

/* The example session of docs/protocol.md, byte for byte: pins the wire
 * format independently of the parsers (a symmetric bug would survive a
 * round trip, not this). */
START_TEST(test_wire_bytes)
{
	static const uint8_t hello[] = { 0x0d, 0, 0, 0, 0x01, 0x53, 0x45, 0x47, 0x4c,
					 0x01, 0, 0x01, 0, 0, 0, 0, 0 };
	static const uint8_t hello_ok[] = { 0x15, 0, 0, 0, 0x81, 0x01, 0, 0, 0,
					    0x00, 0x00, 0x01, 0, 0xff, 0, 0, 0,
					    0x2a, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t rec[] = { 0x0d, 0, 0, 0, 0x02, 0x01, 0x06, 0x00, 0x03,
				       'a', 'p', 'p', 'h', 'e', 'l', 'l', 'o' };
	static const uint8_t rec_opt[] = { 0x12, 0, 0, 0, 0x02, 0x17, 0x07, 0x03, 0x00,
					   0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
					   0x44, 0x33, 0x22, 0x11, 'x' };
	static const uint8_t ack[] = { 0x11, 0, 0, 0, 0x82, 0x02, 0, 0, 0, 0, 0, 0, 0,
				       0x2b, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t err[] = { 0x0e, 0, 0, 0, 0x83, 0x07, 0, 0, 0, 0, 0, 0, 0,
				       0x02, 0x00, 'b', 'i', 'g' };
	static const uint8_t sreq[] = { 0x01, 0, 0, 0, 0x03 };
	static const uint8_t shdr[] = { 0x0b, 0, 0, 0, 0x84 };
	uint8_t buf[64];

	ck_assert_uint_eq(proto_put_hello(buf, &(struct proto_hello){ 1, 1, 0 }), sizeof(hello));
	ck_assert_mem_eq(buf, hello, sizeof(hello));
	ck_assert_uint_eq(proto_put_hello_ok(buf, &(struct proto_hello_ok){ .version = 1,
				.max_record = 65536, .max_tag = 255, .next_seq = 42 }),
			  sizeof(hello_ok));
	ck_assert_mem_eq(buf, hello_ok, sizeof(hello_ok));
	ck_assert_uint_eq(proto_put_record(buf, &(struct proto_record){ .facility = 1,
				.severity = 6, .tag = "app", .tag_len = 3, .msg = "hello",
				.msg_len = 5 }),
			  sizeof(rec));
	ck_assert_mem_eq(buf, rec, sizeof(rec));
	ck_assert_uint_eq(proto_put_record(buf, &(struct proto_record){ .facility = 23,
				.severity = 7, .flags = PROTO_REC_CTIME | PROTO_REC_CPID,
				.claimed_time_us = 0x0102030405060708, .claimed_pid = 0x11223344,
				.msg = "x", .msg_len = 1 }),
			  sizeof(rec_opt));
	ck_assert_mem_eq(buf, rec_opt, sizeof(rec_opt));
	ck_assert_uint_eq(proto_put_ack(buf, &(struct proto_ack){ 2, 43 }), sizeof(ack));
	ck_assert_mem_eq(buf, ack, sizeof(ack));
	ck_assert_uint_eq(proto_put_error(buf, 7, PROTO_ERR_TOO_LARGE, "big", 3), sizeof(err));
	ck_assert_mem_eq(buf, err, sizeof(err));
	ck_assert_uint_eq(proto_put_status_req(buf), sizeof(sreq));
	ck_assert_mem_eq(buf, sreq, sizeof(sreq));
	ck_assert_uint_eq(proto_put_status_header(buf, 10), sizeof(shdr));
	ck_assert_mem_eq(buf, shdr, sizeof(shdr));
}
END_TEST

START_TEST(test_hello_round_trip)
{
	const struct proto_hello in = { .min_version = 1, .max_version = 0xfffe,
					.flags = 0xdeadbeef };
	struct proto_hello out;
	uint8_t buf[PROTO_HELLO_LEN + 1];
	size_t n;

	buf[PROTO_HELLO_LEN] = 0xaa;
	n = proto_put_hello(buf, &in);
	ck_assert_uint_eq(n, PROTO_HELLO_LEN);
	ck_assert_uint_eq(buf[PROTO_HELLO_LEN], 0xaa);
	ck_assert_uint_eq(check_header(buf, n, PROTO_HELLO), PROTO_HELLO_BODY);
	ck_assert_int_eq(proto_parse_hello(buf + PROTO_FRAME_HEADER, PROTO_HELLO_BODY, &out), 0);
	ck_assert_uint_eq(out.min_version, in.min_version);
	ck_assert_uint_eq(out.max_version, in.max_version);
	ck_assert_uint_eq(out.flags, in.flags);
}
END_TEST

START_TEST(test_hello_rejects)
{
	struct proto_hello h = { 1, 1, 0 }, out, before;
	uint8_t buf[PROTO_HELLO_LEN + 8] = { 0 };
	uint8_t *body = buf + PROTO_FRAME_HEADER;

	proto_put_hello(buf, &h);
	for (size_t len = 0; len < PROTO_HELLO_BODY; len++) {
		_cleanup_free_ uint8_t *d = dup_exact(body, len);
		ck_assert_int_eq(proto_parse_hello(d, len, &out), -EBADMSG);
	}
	/* longer bodies are left for later versions to extend */
	ck_assert_int_eq(proto_parse_hello(body, PROTO_HELLO_BODY + 8, &out), 0);
	ck_assert_uint_eq(out.max_version, 1);

	memset(&before, 0x5a, sizeof(before));
	memcpy(&out, &before, sizeof(out));
	body[0] ^= 0x20; /* "sEGL" */
	ck_assert_int_eq(proto_parse_hello(body, PROTO_HELLO_BODY, &out), -EBADMSG);
	ck_assert_mem_eq(&out, &before, sizeof(out));

	h = (struct proto_hello){ .min_version = 3, .max_version = 2 };
	proto_put_hello(buf, &h);
	ck_assert_int_eq(proto_parse_hello(body, PROTO_HELLO_BODY, &out), -EBADMSG);
	ck_assert_mem_eq(&out, &before, sizeof(out));
	h.max_version = 3;
	proto_put_hello(buf, &h);
	ck_assert_int_eq(proto_parse_hello(body, PROTO_HELLO_BODY, &out), 0);
}
END_TEST

START_TEST(test_hello_ok_round_trip)
{
	const struct proto_hello_ok in = { .version = 1, .durability = PROTO_DURABILITY_WRITE,
					   .max_record = 0x80000001, .max_tag = 255,
					   .next_seq = UINT64_MAX - 1 };
	struct proto_hello_ok out;
	uint8_t buf[PROTO_HELLO_OK_LEN + 1];

	memset(buf, 0xaa, sizeof(buf));
	ck_assert_uint_eq(proto_put_hello_ok(buf, &in), PROTO_HELLO_OK_LEN);
	ck_assert_uint_eq(buf[PROTO_HELLO_OK_LEN], 0xaa);
	ck_assert_uint_eq(buf[PROTO_FRAME_HEADER + 3], 0); /* reserved */
	ck_assert_uint_eq(check_header(buf, PROTO_HELLO_OK_LEN, PROTO_HELLO_OK),
			  PROTO_HELLO_OK_BODY);
	ck_assert_int_eq(proto_parse_hello_ok(buf + PROTO_FRAME_HEADER, PROTO_HELLO_OK_BODY, &out),
			 0);
	ck_assert_uint_eq(out.version, in.version);
	ck_assert_uint_eq(out.durability, in.durability);
	ck_assert_uint_eq(out.max_record, in.max_record);
	ck_assert_uint_eq(out.max_tag, in.max_tag);
	ck_assert_uint_eq(out.next_seq, in.next_seq);
}
END_TEST

START_TEST(test_hello_ok_rejects_wrong_length)
{
	struct proto_hello_ok out;
	uint8_t buf[PROTO_HELLO_OK_LEN + 1] = { 0 };
	uint8_t *body = buf + PROTO_FRAME_HEADER;

	proto_put_hello_ok(buf, &(struct proto_hello_ok){ .version = 1 });
	for (size_t len = 0; len < PROTO_HELLO_OK_BODY; len++) {
		_cleanup_free_ uint8_t *d = dup_exact(body, len);
		ck_assert_int_eq(proto_parse_hello_ok(d, len, &out), -EBADMSG);
	}
	ck_assert_int_eq(proto_parse_hello_ok(body, PROTO_HELLO_OK_BODY + 1, &out), -EBADMSG);
}
END_TEST

/* Encodes r, checks the frame, parses it back and compares every field. */
static void
record_round_trip(const struct proto_record *r)
{
	size_t size = proto_record_size(r);
	_cleanup_free_ uint8_t *buf = malloc(size + 1);
	_cleanup_free_ uint8_t *body = NULL;
	struct proto_record out;
	uint32_t blen;

	ck_assert_ptr_nonnull(buf);
	buf[size] = 0xaa;
	ck_assert_uint_eq(proto_put_record(buf, r), size);
	ck_assert_uint_eq(buf[size], 0xaa); /* wrote exactly what it said */
	blen = check_header(buf, size, PROTO_RECORD);
	body = dup_exact(buf + PROTO_FRAME_HEADER, blen);
	ck_assert_int_eq(proto_parse_record(body, blen, &out), 0);
	ck_assert_uint_eq(out.facility, r->facility);
	ck_assert_uint_eq(out.severity, r->severity);
	ck_assert_uint_eq(out.flags, r->flags);
	ck_assert_uint_eq(out.claimed_time_us,
			  (r->flags & PROTO_REC_CTIME) ? r->claimed_time_us : 0);
	ck_assert_uint_eq(out.claimed_pid, (r->flags & PROTO_REC_CPID) ? r->claimed_pid : 0);
	ck_assert_uint_eq(out.tag_len, r->tag_len);
	ck_assert_uint_eq(out.msg_len, r->msg_len);
	ck_assert(out.tag >= (const char *)body);
	ck_assert(out.msg + out.msg_len <= (const char *)body + blen);
	if (r->tag_len)
		ck_assert_mem_eq(out.tag, r->tag, r->tag_len);
	if (r->msg_len)
		ck_assert_mem_eq(out.msg, r->msg, r->msg_len);
}

START_TEST(test_record_flag_combinations)
{
	for (uint8_t flags = 0; flags <= PROTO_REC_KNOWN; flags++) {
		const struct proto_record r = {
			.facility = 16, .severity = 3, .flags = flags,
			.claimed_time_us = 0x8877665544332211, .claimed_pid = 0xfedcba98,
			.tag = "myapp", .tag_len = 5, .msg = "a message", .msg_len = 9,
		};
		record_round_trip(&r);
		ck_assert_uint_eq(proto_record_size(&r),
				  PROTO_FRAME_HEADER + 4 + 5 + 9 + ((flags & 1) ? 8 : 0) +
					  ((flags & 2) ? 4 : 0));
	}
}
END_TEST

START_TEST(test_record_empty_tag_and_message)
{
	for (uint8_t flags = 0; flags <= PROTO_REC_KNOWN; flags++) {
		record_round_trip(&(struct proto_record){ .flags = flags, .claimed_pid = 1 });
		record_round_trip(&(struct proto_record){ .flags = flags, .tag = "t", .tag_len = 1 });
		record_round_trip(&(struct proto_record){ .flags = flags, .msg = "m", .msg_len = 1 });
	}
	ck_assert_uint_eq(proto_record_size(&(struct proto_record){ 0 }), 9);
}
END_TEST

START_TEST(test_record_binary_message_and_long_tag)
{
	char tag[PROTO_TAG_MAX], msg[300];

	for (size_t i = 0; i < sizeof(tag); i++)
		tag[i] = (char)(i + 1);
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (char)(i % 3 ? i : 0); /* NUL bytes, high bytes */
	for (uint8_t flags = 0; flags <= PROTO_REC_KNOWN; flags++)
		record_round_trip(&(struct proto_record){
			.facility = PROTO_FACILITY_MAX, .severity = PROTO_SEVERITY_MAX,
			.flags = flags, .claimed_time_us = UINT64_MAX, .claimed_pid = UINT32_MAX,
			.tag = tag, .tag_len = sizeof(tag), .msg = msg, .msg_len = sizeof(msg) });
	record_round_trip(&(struct proto_record){ .msg = "\0\0\0", .msg_len = 3 });
}
END_TEST

/* Every body shorter than the fixed part, the optional fields and the tag
 * is refused; from there on the rest is the message, however short. */
START_TEST(test_record_truncations)
{
	for (uint8_t flags = 0; flags <= PROTO_REC_KNOWN; flags++) {
		const struct proto_record r = { .facility = 1, .severity = 6, .flags = flags,
						.claimed_time_us = 5, .claimed_pid = 6,
						.tag = "tag", .tag_len = 3,
						.msg = "msg", .msg_len = 3 };
		uint8_t buf[64];
		size_t blen = proto_put_record(buf, &r) - PROTO_FRAME_HEADER;
		size_t head = blen - r.msg_len;
		struct proto_record out, before;

		memset(&before, 0x5a, sizeof(before));
		for (size_t len = 0; len <= blen; len++) {
			_cleanup_free_ uint8_t *d = dup_exact(buf + PROTO_FRAME_HEADER, len);
			memcpy(&out, &before, sizeof(out)); /* padding too */
			if (len < head) {
				ck_assert_int_eq(proto_parse_record(d, len, &out), -EBADMSG);
				ck_assert_mem_eq(&out, &before, sizeof(out));
			} else {
				ck_assert_int_eq(proto_parse_record(d, len, &out), 0);
				ck_assert_uint_eq(out.tag_len, 3);
				ck_assert_uint_eq(out.msg_len, len - head);
				ck_assert_uint_eq(out.claimed_pid, (flags & PROTO_REC_CPID) ? 6 : 0);
			}
		}
	}
}
END_TEST

START_TEST(test_record_rejects_flags_and_ranges)
{
	uint8_t body[32] = { 1, 6, 0, 0 };
	struct proto_record out;

	ck_assert_int_eq(proto_parse_record(body, sizeof(body), &out), 0);
	for (int bit = 2; bit < 8; bit++) {
		body[2] = (uint8_t)(1 << bit);
		ck_assert_int_eq(proto_parse_record(body, sizeof(body), &out), -EBADMSG);
		body[2] = (uint8_t)(1 << bit) | PROTO_REC_KNOWN;
		ck_assert_int_eq(proto_parse_record(body, sizeof(body), &out), -EBADMSG);
	}
	body[2] = 0;
	body[0] = PROTO_FACILITY_MAX;
	ck_assert_int_eq(proto_parse_record(body, sizeof(body), &out), 0);
	body[0] = PROTO_FACILITY_MAX + 1;
	ck_assert_int_eq(proto_parse_record(body, sizeof(body), &out), -EBADMSG);
	body[0] = 0xff;
	ck_assert_int_eq(proto_parse_record(body, sizeof(body), &out), -EBADMSG);
	body[0] = 0;
	body[1] = PROTO_SEVERITY_MAX;
	ck_assert_int_eq(proto_parse_record(body, sizeof(body), &out), 0);
	body[1] = PROTO_SEVERITY_MAX + 1;
	ck_assert_int_eq(proto_parse_record(body, sizeof(body), &out), -EBADMSG);
	body[1] = 0;
	body[3] = 29; /* tag runs one byte past the body */
	ck_assert_int_eq(proto_parse_record(body, sizeof(body), &out), -EBADMSG);
	body[3] = 28;
	ck_assert_int_eq(proto_parse_record(body, sizeof(body), &out), 0);
	ck_assert_uint_eq(out.msg_len, 0);
}
END_TEST

START_TEST(test_ack_round_trip_and_lengths)
{
	const struct proto_ack in = { .recno = 0x0102030405060708, .seq = UINT64_MAX };
	struct proto_ack out;
	uint8_t buf[PROTO_ACK_LEN + 1];

	ck_assert_uint_eq(proto_put_ack(buf, &in), PROTO_ACK_LEN);
	ck_assert_uint_eq(check_header(buf, PROTO_ACK_LEN, PROTO_ACK), PROTO_ACK_BODY);
	ck_assert_int_eq(proto_parse_ack(buf + PROTO_FRAME_HEADER, PROTO_ACK_BODY, &out), 0);
	ck_assert_uint_eq(out.recno, in.recno);
	ck_assert_uint_eq(out.seq, in.seq);
	for (size_t len = 0; len < PROTO_ACK_BODY; len++) {
		_cleanup_free_ uint8_t *d = dup_exact(buf + PROTO_FRAME_HEADER, len);
		ck_assert_int_eq(proto_parse_ack(d, len, &out), -EBADMSG);
	}
	ck_assert_int_eq(proto_parse_ack(buf + PROTO_FRAME_HEADER, PROTO_ACK_BODY + 1, &out),
			 -EBADMSG);
}
END_TEST

START_TEST(test_error_round_trip_and_lengths)
{
	static const char text[] = "bad\0bytes\n";
	struct proto_error out;
	uint8_t buf[64];
	size_t n;

	n = proto_put_error(buf, UINT64_MAX, PROTO_ERR_STORAGE, text, sizeof(text) - 1);
	ck_assert_uint_eq(n, PROTO_FRAME_HEADER + PROTO_ERROR_FIXED + sizeof(text) - 1);
	ck_assert_uint_eq(check_header(buf, n, PROTO_ERROR), n - PROTO_FRAME_HEADER);
	ck_assert_int_eq(proto_parse_error(buf + PROTO_FRAME_HEADER, n - PROTO_FRAME_HEADER, &out),
			 0);
	ck_assert_uint_eq(out.recno, UINT64_MAX);
	ck_assert_uint_eq(out.code, PROTO_ERR_STORAGE);
	ck_assert_uint_eq(out.text_len, sizeof(text) - 1);
	ck_assert_mem_eq(out.text, text, sizeof(text) - 1);

	n = proto_put_error(buf, 0, PROTO_ERR_SHUTDOWN, NULL, 0);
	ck_assert_uint_eq(n, PROTO_FRAME_HEADER + PROTO_ERROR_FIXED);
	for (size_t len = 0; len < PROTO_ERROR_FIXED; len++) {
		_cleanup_free_ uint8_t *d = dup_exact(buf + PROTO_FRAME_HEADER, len);
		ck_assert_int_eq(proto_parse_error(d, len, &out), -EBADMSG);
	}
	ck_assert_int_eq(proto_parse_error(buf + PROTO_FRAME_HEADER, PROTO_ERROR_FIXED, &out), 0);
	ck_assert_uint_eq(out.recno, 0);
	ck_assert_uint_eq(out.code, PROTO_ERR_SHUTDOWN);
	ck_assert_uint_eq(out.text_len, 0);
}
END_TEST

START_TEST(test_status_frames)
{
	static const char lines[] = "version 1\nseq 7\n";
	uint8_t buf[64];

	ck_assert_uint_eq(proto_put_status_req(buf), PROTO_FRAME_HEADER);
	ck_assert_uint_eq(check_header(buf, PROTO_FRAME_HEADER, PROTO_STATUS_REQ), 0);
	ck_assert_uint_eq(proto_put_status_header(buf, sizeof(lines) - 1), PROTO_FRAME_HEADER);
	memcpy(buf + PROTO_FRAME_HEADER, lines, sizeof(lines) - 1);
	ck_assert_uint_eq(check_header(buf, PROTO_FRAME_HEADER + sizeof(lines) - 1, PROTO_STATUS),
			  sizeof(lines) - 1);
}
END_TEST

/* CONTROL and CONTROL_DONE (version 2): exact bytes, round trips, the
 * shortest bodies; a longer CONTROL body is accepted (room for fields). */
START_TEST(test_control_frames)
{
	static const uint8_t want[] = { 0x1b, 0, 0, 0, 0x04, 4, 0x0a,
					1, 0, 0, 0, 0, 0, 0, 0,
					0, 0, 0, 0, 0, 0, 0, 0,
					3, 0, 0, 0, 0, 0, 0, 0 };
	const struct proto_control in = { .verb = PROTO_VERB_VACUUM,
					  .flags = PROTO_CTL_SIZE | PROTO_CTL_FILES,
					  .max_bytes = 1, .max_files = 3 };
	uint8_t b[64], type;
	uint32_t blen;
	struct proto_control out;
	struct proto_control_done d, dout;

	ck_assert_uint_eq(proto_put_control(b, &in), PROTO_CONTROL_LEN);
	ck_assert_mem_eq(b, want, sizeof(want));
	ck_assert_int_eq(proto_frame_header(b, PROTO_CONTROL_LEN, &type, &blen), PROTO_FRAME_HEADER);
	ck_assert_uint_eq(type, PROTO_CONTROL);
	ck_assert_int_eq(proto_parse_control(b + PROTO_FRAME_HEADER, blen, &out), 0);
	ck_assert_uint_eq(out.verb, in.verb);
	ck_assert_uint_eq(out.flags, in.flags);
	ck_assert_uint_eq(out.max_bytes, 1);
	ck_assert_uint_eq(out.max_age_us, 0);
	ck_assert_uint_eq(out.max_files, 3);
	ck_assert_int_eq(proto_parse_control(b + PROTO_FRAME_HEADER, blen - 1, &out), -EBADMSG);
	ck_assert_int_eq(proto_parse_control(b + PROTO_FRAME_HEADER, blen + 4, &out), 0);

	d = (struct proto_control_done){ .verb = PROTO_VERB_SYNC, .status = PROTO_CTL_OK,
					 .value = 77, .text = "ok", .text_len = 2 };
	ck_assert_uint_eq(proto_put_control_done(b, &d), PROTO_FRAME_HEADER + 12);
	ck_assert_uint_eq(b[4], PROTO_CONTROL_DONE);
	ck_assert_int_eq(proto_parse_control_done(b + PROTO_FRAME_HEADER, 12, &dout), 0);
	ck_assert_uint_eq(dout.verb, PROTO_VERB_SYNC);
	ck_assert_uint_eq(dout.status, PROTO_CTL_OK);
	ck_assert_uint_eq(dout.value, 77);
	ck_assert_uint_eq(dout.text_len, 2);
	ck_assert_mem_eq(dout.text, "ok", 2);
	ck_assert_int_eq(proto_parse_control_done(b + PROTO_FRAME_HEADER, 9, &dout), -EBADMSG);
	ck_assert_int_eq(proto_parse_control_done(b + PROTO_FRAME_HEADER, 10, &dout), 0);
	ck_assert_uint_eq(dout.text_len, 0);
}
END_TEST

START_TEST(test_error_names)
{
	static const char *const want[] = { "unknown", "malformed", "too-large", "rate-limited",
					    "invalid", "version", "too-many-clients", "shutdown",
					    "slow-reader", "storage", "stalled", "unknown" };

	for (uint16_t c = 0; c < sizeof(want) / sizeof(want[0]); c++)
		ck_assert_str_eq(proto_error_name(c), want[c]);
	ck_assert_str_eq(proto_error_name(UINT16_MAX), "unknown");
}
END_TEST

/* A stream of frames of every type and many sizes, and where each starts. */
enum { STREAM_FRAMES = 40, STREAM_CAP = 8192 };

struct stream {
	uint8_t bytes[STREAM_CAP];
	size_t len;
	size_t start[STREAM_FRAMES + 1];
};

static void
stream_build(struct stream *s)
{
	static char fill[300];
	size_t n = 0;

	memset(fill, 'z', sizeof(fill));
	fill[7] = '\0';
	s->len = 0;
	for (int i = 0; i < STREAM_FRAMES; i++) {
		uint8_t *p = s->bytes + s->len;
		s->start[n++] = s->len;
		switch (i % 6) {
		case 0:
			s->len += proto_put_hello(p, &(struct proto_hello){ 1, (uint16_t)(i + 1), 0 });
			break;
		case 1:
			s->len += proto_put_record(p, &(struct proto_record){
				.facility = (uint8_t)(i % 24), .severity = (uint8_t)(i % 8),
				.flags = (uint8_t)(i % 4), .claimed_time_us = (uint64_t)i,
				.claimed_pid = (uint32_t)i, .tag = fill, .tag_len = (size_t)i % 9,
				.msg = fill, .msg_len = (size_t)(i * 7) % sizeof(fill) });
			break;
		case 2:
			s->len += proto_put_ack(p, &(struct proto_ack){ (uint64_t)i, (uint64_t)i * 2 });
			break;
		case 3:
			s->len += proto_put_error(p, (uint64_t)i, PROTO_ERR_INVALID, fill, (size_t)i);
			break;
		case 4:
			s->len += proto_put_status_req(p);
			break;
		case 5:
			s->len += proto_put_hello_ok(p, &(struct proto_hello_ok){
				.version = 1, .next_seq = (uint64_t)i });
			break;
		}
		ck_assert_uint_le(s->len, STREAM_CAP);
	}
	s->start[n] = s->len;
}

/* A reader as the daemon's: appends each chunk to its buffer, takes every
 * whole frame with proto_frame_header, and keeps the partial rest.  Checks
 * each frame against the original stream and that it parses by type. */
struct reader {
	uint8_t buf[STREAM_CAP];
	size_t len;
	int frames;
};

static void
reader_feed(struct reader *rd, const struct stream *s, const uint8_t *chunk, size_t n)
{
	size_t pos = 0;

	memcpy(rd->buf + rd->len, chunk, n);
	rd->len += n;
	for (;;) {
		uint8_t type;
		uint32_t blen;
		int k = proto_frame_header(rd->buf + pos, rd->len - pos, &type, &blen);
		const uint8_t *body = rd->buf + pos + PROTO_FRAME_HEADER;
		size_t want;
		union {
			struct proto_hello h;
			struct proto_hello_ok ok;
			struct proto_record r;
			struct proto_ack a;
			struct proto_error e;
		} u;

		ck_assert_int_ge(k, 0);
		if (k == 0 || rd->len - pos < PROTO_FRAME_HEADER + (size_t)blen)
			break;
		ck_assert_int_lt(rd->frames, STREAM_FRAMES);
		want = s->start[rd->frames + 1] - s->start[rd->frames];
		ck_assert_uint_eq(PROTO_FRAME_HEADER + (size_t)blen, want);
		ck_assert_mem_eq(rd->buf + pos, s->bytes + s->start[rd->frames], want);
		switch (type) {
		case PROTO_HELLO:
			ck_assert_int_eq(proto_parse_hello(body, blen, &u.h), 0);
			break;
		case PROTO_HELLO_OK:
			ck_assert_int_eq(proto_parse_hello_ok(body, blen, &u.ok), 0);
			break;
		case PROTO_RECORD:
			ck_assert_int_eq(proto_parse_record(body, blen, &u.r), 0);
			ck_assert_uint_eq(u.r.claimed_pid,
					  (u.r.flags & PROTO_REC_CPID) ? (uint32_t)rd->frames : 0);
			break;
		case PROTO_ACK:
			ck_assert_int_eq(proto_parse_ack(body, blen, &u.a), 0);
			ck_assert_uint_eq(u.a.recno, (uint64_t)rd->frames);
			break;
		case PROTO_ERROR:
			ck_assert_int_eq(proto_parse_error(body, blen, &u.e), 0);
			ck_assert_uint_eq(u.e.text_len, (size_t)rd->frames);
			break;
		case PROTO_STATUS_REQ:
			ck_assert_uint_eq(blen, 0);
			break;
		default:
			ck_abort_msg("unexpected frame type %u", type);
		}
		rd->frames++;
		pos += PROTO_FRAME_HEADER + blen;
	}
	memmove(rd->buf, rd->buf + pos, rd->len - pos);
	rd->len -= pos;
}

START_TEST(test_stream_split_everywhere)
{
	static struct stream s;
	static struct reader rd;

	stream_build(&s);
	for (size_t cut = 0; cut <= s.len; cut++) {
		rd.len = 0;
		rd.frames = 0;
		reader_feed(&rd, &s, s.bytes, cut);
		reader_feed(&rd, &s, s.bytes + cut, s.len - cut);
		ck_assert_int_eq(rd.frames, STREAM_FRAMES);
		ck_assert_uint_eq(rd.len, 0);
	}
}
END_TEST

/* Reads of 1, 2, ... 17 bytes at a time: every boundary is cut many times
 * in one pass, including inside headers. */
START_TEST(test_stream_small_reads)
{
	static struct stream s;
	static struct reader rd;

	stream_build(&s);
	for (size_t step = 1; step <= 17; step++) {
		rd.len = 0;
		rd.frames = 0;
		for (size_t off = 0; off < s.len; off += step)
			reader_feed(&rd, &s, s.bytes + off, off + step > s.len ? s.len - off : step);
		ck_assert_int_eq(rd.frames, STREAM_FRAMES);
		ck_assert_uint_eq(rd.len, 0);
	}
}
END_TEST

static Suite *
proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_frame_header_short);
	tcase_add_test(tc, test_frame_header_bad_len);
	tcase_add_test(tc, test_frame_header_limits_and_any_type);
	tcase_add_test(tc, test_wire_bytes);
	tcase_add_test(tc, test_hello_round_trip);
	tcase_add_test(tc, test_hello_rejects);
	tcase_add_test(tc, test_hello_ok_round_trip);
	tcase_add_test(tc, test_hello_ok_rejects_wrong_length);
	tcase_add_test(tc, test_record_flag_combinations);
	tcase_add_test(tc, test_record_empty_tag_and_message);
	tcase_add_test(tc, test_record_binary_message_and_long_tag);
	tcase_add_test(tc, test_record_truncations);
	tcase_add_test(tc, test_record_rejects_flags_and_ranges);
	tcase_add_test(tc, test_ack_round_trip_and_lengths);
	tcase_add_test(tc, test_error_round_trip_and_lengths);
	tcase_add_test(tc, test_status_frames);
	tcase_add_test(tc, test_error_names);
	tcase_add_test(tc, test_control_frames);
	tcase_add_test(tc, test_stream_split_everywhere);
	tcase_add_test(tc, test_stream_small_reads);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(proto_suite());
}
