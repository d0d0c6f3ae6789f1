/* Fuzzes the record line format (src/format/record.c).  The first input byte
 * picks what the rest is:
 *
 *   0 mod 3  a line as it is: record_decode, record_check,
 *            record_header_decode must agree and not crash;
 *   1 mod 3  a line body: " CSUM\n" with the right checksum is appended,
 *            so the syntax checks behind the checksum are what is fuzzed;
 *   2 mod 3  a record: fixed fields, the format version, length-prefixed
 *            tag (and in version 2 hostname, msgid, structured data),
 *            then the message; encode -> decode must give back every
 *            field, and one bit flipped anywhere must be detected.
 *
 * Properties checked on every line that decodes, in each format version:
 * record_check accepts it with the same seq and time, and encoding the
 * decoded record gives the same bytes (one encoding per record); the same
 * for headers and version 2 meta lines. */
#include "config.h"

#include <errno.h>
#include <xxhash.h>

#include "cleanup.h"
#include "record.h"
#include "fuzz.h"

static const uint64_t fuzz_time_max = 253402300799999999u; /* 9999-12-31T23:59:59.999999Z */

/* One line under one format version. */
static void
fuzz_line_version(const char *l, size_t len, unsigned version)
{
	_cleanup_free_ char *scratch = fuzz_alloc(len);
	struct record r;
	struct segment_header h;
	const char *reason = NULL;
	uint64_t seq = 0, t = 0;
	int dec, chk, hdr;

	dec = record_decode_version(version, l, len, scratch, &r, &reason);
	FUZZ_CHECK(dec == 0 || dec == RECORD_LINE_META || (dec == -EBADMSG && reason));
	FUZZ_CHECK(version >= 2 || dec != RECORD_LINE_META);
	chk = record_check_version(version, l, len, &seq, &t, NULL);
	FUZZ_CHECK(chk == 0 || chk == RECORD_LINE_META || chk == -EBADMSG);
	reason = NULL;
	hdr = record_header_decode(l, len, &h, &reason);
	FUZZ_CHECK(hdr == 0 || (hdr == -EBADMSG && reason));
	FUZZ_CHECK(!(dec >= 0 && hdr == 0));
	if (hdr == 0)
		FUZZ_CHECK(record_is_header(l, len));

	if (dec == 0) {
		FUZZ_CHECK(chk == 0 && seq == r.seq && t == r.time_us);
		FUZZ_CHECK(r.tag_len <= RECORD_TAG_MAX && r.tag_len + r.msg_len < len);
		FUZZ_CHECK(r.hostname_len <= RECORD_HOST_MAX && r.msgid_len <= RECORD_MSGID_MAX);
		FUZZ_CHECK(r.seq > 0 && r.facility < 24 && r.severity < 8);
		_cleanup_free_ char *again = fuzz_alloc(record_size_max(&r));
		size_t n = record_encode_version(&r, version, again);
		FUZZ_CHECK(n == len && memcmp(again, l, len) == 0);
	}
	if (dec == RECORD_LINE_META) {
		const char *type, *body;
		size_t tl, bl;
		FUZZ_CHECK(chk == RECORD_LINE_META);
		/* the check does not unescape the body; the decode may still
		 * refuse a bad escape in it */
		if (record_meta_decode(l, len, scratch, &type, &tl, &body, &bl) == 0) {
			_cleanup_free_ char *again = fuzz_alloc(RECORD_META_TYPE_MAX + 4 * bl + 20);
			size_t n = record_meta_encode(type, tl, body, bl, again);
			FUZZ_CHECK(n == len && memcmp(again, l, len) == 0);
		}
	}
	if (hdr == 0) {
		char again[RECORD_HEADER_MAX];
		size_t n = record_header_encode(&h, again);
		FUZZ_CHECK(n == len && memcmp(again, l, len) == 0);
	}
}

static void
fuzz_line(const char *line, size_t len)
{
	_cleanup_free_ char *l = fuzz_dup(line, len);

	for (unsigned v = 1; v <= RECORD_FORMAT_MAX; v++)
		fuzz_line_version(l, len, v);
}

/* The input as a line body, sealed with its right checksum. */
static void
fuzz_sealed(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *line = fuzz_alloc(size + 18);
	char csum[19];

	snprintf(csum, sizeof(csum), " %016llx\n", (unsigned long long)XXH3_64bits(data, size));
	memcpy(line, data, size);
	memcpy(line + size, csum, 18);
	fuzz_line(line, size + 18);
}

/* A record from the input; every field it can hold comes back. */
static void
fuzz_round_trip(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct record r = { 0 }, out;
	uint64_t v;

	r.seq = fuzz_take(&in, 8);
	if (r.seq == 0)
		r.seq = 1;
	r.time_us = fuzz_take(&in, 8);
	r.pid = (int64_t)(fuzz_take(&in, 8) >> 1);
	r.uid = (uint32_t)fuzz_take(&in, 4);
	r.gid = (uint32_t)fuzz_take(&in, 4);
	v = fuzz_take(&in, 1);
	r.facility = (uint8_t)(v % 24);
	r.severity = (uint8_t)(fuzz_take(&in, 1) % 8);
	v = fuzz_take(&in, 8);
	r.claimed_pid = v >> 63 ? RECORD_NO_CLAIMED_PID : (int64_t)v;
	r.claimed_time_us = fuzz_take(&in, 8);
	unsigned version = 1 + (unsigned)(fuzz_take(&in, 1) % RECORD_FORMAT_MAX);
	r.tag = fuzz_take_bytes(&in, (size_t)fuzz_take(&in, 1), &r.tag_len);
	if (version >= 2) {
		r.hostname = fuzz_take_bytes(&in, (size_t)fuzz_take(&in, 1), &r.hostname_len);
		r.msgid = fuzz_take_bytes(&in, (size_t)fuzz_take(&in, 1), &r.msgid_len);
		r.sd = fuzz_take_bytes(&in, (size_t)fuzz_take(&in, 2), &r.sd_len);
	}
	r.msg = fuzz_take_bytes(&in, in.n, &r.msg_len);

	size_t max = record_size_max(&r);
	_cleanup_free_ char *line = fuzz_alloc(max);
	size_t len = record_encode_version(&r, version, line);
	FUZZ_CHECK(len <= max && line[len - 1] == '\n' && !memchr(line, '\n', len - 1));

	_cleanup_free_ char *exact = fuzz_dup(line, len);
	_cleanup_free_ char *scratch = fuzz_alloc(len);
	const char *reason = NULL;
	FUZZ_CHECK(record_decode_version(version, exact, len, scratch, &out, &reason) == 0);
	FUZZ_CHECK(out.seq == r.seq);
	FUZZ_CHECK(out.time_us == (r.time_us > fuzz_time_max ? fuzz_time_max : r.time_us));
	FUZZ_CHECK(out.pid == r.pid && out.uid == r.uid && out.gid == r.gid);
	FUZZ_CHECK(out.facility == r.facility && out.severity == r.severity);
	FUZZ_CHECK(out.claimed_pid == r.claimed_pid);
	FUZZ_CHECK(out.claimed_time_us ==
		   (r.claimed_time_us > fuzz_time_max ? fuzz_time_max : r.claimed_time_us));
	FUZZ_CHECK(out.tag_len == r.tag_len && (!r.tag_len || !memcmp(out.tag, r.tag, r.tag_len)));
	FUZZ_CHECK(out.msg_len == r.msg_len && (!r.msg_len || !memcmp(out.msg, r.msg, r.msg_len)));
	FUZZ_CHECK(out.hostname_len == r.hostname_len &&
		   (!r.hostname_len || !memcmp(out.hostname, r.hostname, r.hostname_len)));
	FUZZ_CHECK(out.msgid_len == r.msgid_len &&
		   (!r.msgid_len || !memcmp(out.msgid, r.msgid, r.msgid_len)));
	FUZZ_CHECK(out.sd_len == r.sd_len && (!r.sd_len || !memcmp(out.sd, r.sd, r.sd_len)));
	fuzz_line(exact, len);

	/* one bit flipped, at a place the input picks */
	uint64_t h = XXH3_64bits(data, size);
	size_t pos = (size_t)(h % len);
	uint64_t s7 = 7, t7 = 7;
	exact[pos] ^= (char)(1u << ((h >> 32) & 7));
	FUZZ_CHECK(record_decode_version(version, exact, len, scratch, &out, NULL) == -EBADMSG);
	FUZZ_CHECK(record_check_version(version, exact, len, &s7, &t7, NULL) == -EBADMSG);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		fuzz_line((const char *)data + 1, size - 1);
		break;
	case 1:
		fuzz_sealed(data + 1, size - 1);
		break;
	default:
		fuzz_round_trip(data + 1, size - 1);
		break;
	}
	return 0;
}
