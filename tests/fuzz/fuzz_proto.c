/* Fuzzes the native protocol decoder (src/format/proto.h) the way the daemon and
 * the client meet it: the input is a byte stream cut into frames with
 * proto_frame_header.  Every body goes through every body parser (each
 * must cope with any bytes, whatever the frame type said), from a heap
 * copy of exactly its size.  What parses is encoded again and must come
 * back the same.  A stream that stops framing (a bad length) ends the run,
 * as it closes the connection. */
#include "config.h"

#include <errno.h>

#include "cleanup.h"
#include "proto.h"
#include "fuzz.h"

static void
fuzz_hello(const uint8_t *body, size_t len)
{
	struct proto_hello h, again;
	uint8_t buf[PROTO_HELLO_LEN];
	uint8_t type;
	uint32_t blen;

	if (proto_parse_hello(body, len, &h) < 0)
		return;
	FUZZ_CHECK(len >= PROTO_HELLO_BODY && h.min_version <= h.max_version);
	FUZZ_CHECK(proto_put_hello(buf, &h) == PROTO_HELLO_LEN);
	FUZZ_CHECK(proto_frame_header(buf, sizeof(buf), &type, &blen) == PROTO_FRAME_HEADER);
	FUZZ_CHECK(type == PROTO_HELLO && blen == PROTO_HELLO_BODY);
	FUZZ_CHECK(memcmp(buf + PROTO_FRAME_HEADER, body, PROTO_HELLO_BODY) == 0);
	FUZZ_CHECK(proto_parse_hello(buf + PROTO_FRAME_HEADER, blen, &again) == 0);
	FUZZ_CHECK(again.min_version == h.min_version && again.max_version == h.max_version &&
		   again.flags == h.flags);
}

static void
fuzz_hello_ok(const uint8_t *body, size_t len)
{
	struct proto_hello_ok h;
	uint8_t buf[PROTO_HELLO_OK_LEN];

	if (proto_parse_hello_ok(body, len, &h) < 0)
		return;
	FUZZ_CHECK(len == PROTO_HELLO_OK_BODY);
	FUZZ_CHECK(proto_put_hello_ok(buf, &h) == PROTO_HELLO_OK_LEN);
	/* byte 3 is reserved: not kept, written as 0 */
	FUZZ_CHECK(memcmp(buf + PROTO_FRAME_HEADER, body, 3) == 0);
	FUZZ_CHECK(buf[PROTO_FRAME_HEADER + 3] == 0);
	FUZZ_CHECK(memcmp(buf + PROTO_FRAME_HEADER + 4, body + 4, PROTO_HELLO_OK_BODY - 4) == 0);
}

static void
fuzz_record(const uint8_t *body, size_t len)
{
	struct proto_record r, again;
	uint8_t type;
	uint32_t blen;

	if (proto_parse_record(body, len, &r) < 0)
		return;
	FUZZ_CHECK(r.facility <= PROTO_FACILITY_MAX && r.severity <= PROTO_SEVERITY_MAX);
	FUZZ_CHECK(!(r.flags & ~PROTO_REC_KNOWN) && r.tag_len <= PROTO_TAG_MAX);
	FUZZ_CHECK((const uint8_t *)r.tag >= body && (const uint8_t *)r.msg >= body);
	FUZZ_CHECK((const uint8_t *)r.tag + r.tag_len == (const uint8_t *)r.msg);
	FUZZ_CHECK((const uint8_t *)r.msg + r.msg_len == body + len);
	size_t size = proto_record_size(&r);
	FUZZ_CHECK(size == PROTO_FRAME_HEADER + len);
	_cleanup_free_ uint8_t *buf = fuzz_alloc(size);
	FUZZ_CHECK(proto_put_record(buf, &r) == size);
	FUZZ_CHECK(proto_frame_header(buf, size, &type, &blen) == PROTO_FRAME_HEADER);
	FUZZ_CHECK(type == PROTO_RECORD && blen == len);
	FUZZ_CHECK(memcmp(buf + PROTO_FRAME_HEADER, body, len) == 0);
	FUZZ_CHECK(proto_parse_record(buf + PROTO_FRAME_HEADER, blen, &again) == 0);
	FUZZ_CHECK(again.flags == r.flags && again.claimed_pid == r.claimed_pid &&
		   again.claimed_time_us == r.claimed_time_us && again.tag_len == r.tag_len &&
		   again.msg_len == r.msg_len);
}

static void
fuzz_ack(const uint8_t *body, size_t len)
{
	struct proto_ack a;
	uint8_t buf[PROTO_ACK_LEN];

	if (proto_parse_ack(body, len, &a) < 0)
		return;
	FUZZ_CHECK(len == PROTO_ACK_BODY);
	FUZZ_CHECK(proto_put_ack(buf, &a) == PROTO_ACK_LEN);
	FUZZ_CHECK(memcmp(buf + PROTO_FRAME_HEADER, body, len) == 0);
}

static void
fuzz_error(const uint8_t *body, size_t len)
{
	struct proto_error e;

	if (proto_parse_error(body, len, &e) < 0)
		return;
	FUZZ_CHECK(len >= PROTO_ERROR_FIXED && e.text_len == len - PROTO_ERROR_FIXED);
	FUZZ_CHECK((const uint8_t *)e.text == body + PROTO_ERROR_FIXED);
	FUZZ_CHECK(proto_error_name(e.code) != NULL);
	_cleanup_free_ uint8_t *buf = fuzz_alloc(PROTO_FRAME_HEADER + len);
	FUZZ_CHECK(proto_put_error(buf, e.recno, e.code, e.text, e.text_len) ==
		   PROTO_FRAME_HEADER + len);
	FUZZ_CHECK(memcmp(buf + PROTO_FRAME_HEADER, body, len) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 0;

	for (;;) {
		uint8_t type = 0x55;
		uint32_t blen = 0x55555555;
		int k = proto_frame_header(data + pos, size - pos, &type, &blen);

		if (k == 0) {
			FUZZ_CHECK(size - pos < PROTO_FRAME_HEADER);
			FUZZ_CHECK(type == 0x55 && blen == 0x55555555);
			break;
		}
		if (k < 0) {
			FUZZ_CHECK(k == -EBADMSG);
			break;
		}
		FUZZ_CHECK(k == PROTO_FRAME_HEADER && blen < PROTO_FRAME_HARD_MAX);
		pos += PROTO_FRAME_HEADER;
		if (size - pos < blen)
			blen = (uint32_t)(size - pos); /* a truncated body: parse what came */
		_cleanup_free_ uint8_t *body = fuzz_dup(data + pos, blen);
		fuzz_hello(body, blen);
		fuzz_hello_ok(body, blen);
		fuzz_record(body, blen);
		fuzz_ack(body, blen);
		fuzz_error(body, blen);
		pos += blen;
		if (pos == size)
			break;
	}
	return 0;
}
