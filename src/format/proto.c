/* The native protocol codec (docs/protocol.md).  Pure: no I/O, no
 * allocation, no logging.  Every integer on the wire is little-endian and
 * goes through memcpy plus htole/le*toh, so the buffer is never cast to a
 * wider type and nothing depends on its alignment; the compiler turns each
 * helper into one plain load or store. */
#include "config.h"

#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "proto.h"

static inline void
proto_put16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

static inline void
proto_put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static inline void
proto_put64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

static inline uint16_t
proto_get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static inline uint32_t
proto_get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static inline uint64_t
proto_get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

/* Bytes of optional RECORD fields the flags announce: 8 for a claimed
 * time, 4 for a claimed pid.  Arithmetic rather than branches, since it
 * runs for every record on both sides. */
static inline size_t
proto_record_opt_len(uint8_t flags)
{
	return (size_t)(flags & PROTO_REC_CTIME) * 8 + (size_t)(flags & PROTO_REC_CPID) * 2;
}

/* Writes the frame header for a body of body_len bytes: the length field
 * counts the type byte too, so it is never 0. */
static inline void
proto_put_header(uint8_t *buf, uint8_t type, size_t body_len)
{
	assert(body_len < PROTO_FRAME_HARD_MAX);
	proto_put32(buf, (uint32_t)body_len + 1);
	buf[4] = type;
}

/* Reads the header of the frame at the start of buf, which holds len bytes
 * of a stream.  A length field of 0 cannot even hold the type byte, and one
 * above PROTO_FRAME_HARD_MAX is not a frame the peer meant to send: both
 * mean the stream is out of step, and only closing it recovers.  The type
 * is returned unjudged; the caller knows which types its direction allows. */
int
proto_frame_header(const uint8_t *buf, size_t len, uint8_t *ret_type, uint32_t *ret_body_len)
{
	uint32_t n;

	if (len < PROTO_FRAME_HEADER)
		return 0;
	n = proto_get32(buf);
	if (n == 0 || n > PROTO_FRAME_HARD_MAX)
		return -EBADMSG;
	*ret_type = buf[4];
	*ret_body_len = n - 1;
	return PROTO_FRAME_HEADER;
}

/* HELLO is the one frame sent before a version is agreed, so it is the one
 * frame whose layout every version must understand: bytes after the 12
 * known ones are ignored, leaving room for later versions to add fields.
 * The magic catches a peer speaking some other protocol. */
int
proto_parse_hello(const uint8_t *body, size_t len, struct proto_hello *ret)
{
	uint16_t min, max;

	if (len < PROTO_HELLO_BODY || proto_get32(body) != PROTO_MAGIC)
		return -EBADMSG;
	min = proto_get16(body + 4);
	max = proto_get16(body + 6);
	if (min > max)
		return -EBADMSG;
	*ret = (struct proto_hello){
		.min_version = min,
		.max_version = max,
		.flags = proto_get32(body + 8),
	};
	return 0;
}

/* HELLO_OK of version 1 is exactly 20 bytes; the reserved byte is not
 * checked, so a later daemon may give it a meaning. */
int
proto_parse_hello_ok(const uint8_t *body, size_t len, struct proto_hello_ok *ret)
{
	if (len != PROTO_HELLO_OK_BODY)
		return -EBADMSG;
	*ret = (struct proto_hello_ok){
		.version = proto_get16(body),
		.durability = body[2],
		.max_record = proto_get32(body + 4),
		.max_tag = proto_get32(body + 8),
		.next_seq = proto_get64(body + 12),
	};
	return 0;
}

/* Splits a RECORD body: the four fixed bytes, the optional claimed time and
 * pid, the tag, and the message, which is whatever follows (possibly
 * nothing, possibly NUL bytes).  Rejects flag bits this version does not
 * know, a facility or severity outside syslog's ranges (RFC 5424 6.2.1),
 * and a body too short for the fields its flags and tag_len announce.  The
 * claimed pid, when present, is the last optional field. */
int
proto_parse_record(const uint8_t *body, size_t len, struct proto_record *ret)
{
	size_t off, tag_len;
	uint8_t flags;

	if (len < PROTO_RECORD_FIXED)
		return -EBADMSG;
	flags = body[2];
	tag_len = body[3];
	if (body[0] > PROTO_FACILITY_MAX || body[1] > PROTO_SEVERITY_MAX ||
	    (flags & ~PROTO_REC_KNOWN))
		return -EBADMSG;
	off = PROTO_RECORD_FIXED + proto_record_opt_len(flags);
	if (len < off + tag_len)
		return -EBADMSG;
	*ret = (struct proto_record){
		.facility = body[0],
		.severity = body[1],
		.flags = flags,
		.claimed_time_us = (flags & PROTO_REC_CTIME) ? proto_get64(body + 4) : 0,
		.claimed_pid = (flags & PROTO_REC_CPID) ? proto_get32(body + off - 4) : 0,
		.tag = (const char *)body + off,
		.tag_len = tag_len,
		.msg = (const char *)body + off + tag_len,
		.msg_len = len - off - tag_len,
	};
	return 0;
}

int
proto_parse_ack(const uint8_t *body, size_t len, struct proto_ack *ret)
{
	if (len != PROTO_ACK_BODY)
		return -EBADMSG;
	*ret = (struct proto_ack){
		.recno = proto_get64(body),
		.seq = proto_get64(body + 8),
	};
	return 0;
}

/* ERROR: the record number (0 for the connection), the code, and a
 * human-readable text that runs to the end of the body. */
int
proto_parse_error(const uint8_t *body, size_t len, struct proto_error *ret)
{
	if (len < PROTO_ERROR_FIXED)
		return -EBADMSG;
	*ret = (struct proto_error){
		.recno = proto_get64(body),
		.code = proto_get16(body + 8),
		.text = (const char *)body + PROTO_ERROR_FIXED,
		.text_len = len - PROTO_ERROR_FIXED,
	};
	return 0;
}

size_t
proto_put_hello(uint8_t *buf, const struct proto_hello *h)
{
	uint8_t *p = buf + PROTO_FRAME_HEADER;

	proto_put_header(buf, PROTO_HELLO, PROTO_HELLO_BODY);
	proto_put32(p, PROTO_MAGIC);
	proto_put16(p + 4, h->min_version);
	proto_put16(p + 6, h->max_version);
	proto_put32(p + 8, h->flags);
	return PROTO_HELLO_LEN;
}

size_t
proto_put_hello_ok(uint8_t *buf, const struct proto_hello_ok *h)
{
	uint8_t *p = buf + PROTO_FRAME_HEADER;

	proto_put_header(buf, PROTO_HELLO_OK, PROTO_HELLO_OK_BODY);
	proto_put16(p, h->version);
	p[2] = h->durability;
	p[3] = 0;
	proto_put32(p + 4, h->max_record);
	proto_put32(p + 8, h->max_tag);
	proto_put64(p + 12, h->next_seq);
	return PROTO_HELLO_OK_LEN;
}

size_t
proto_record_size(const struct proto_record *r)
{
	return PROTO_FRAME_HEADER + PROTO_RECORD_FIXED + proto_record_opt_len(r->flags) +
	       r->tag_len + r->msg_len;
}

/* Encodes one RECORD frame; the client runs this for every record it
 * sends, so it is straight-line code apart from the two optional fields and
 * the NULL-safe copies.  Values the parser would reject are the caller's
 * bug, caught by the assertions. */
size_t
proto_put_record(uint8_t *buf, const struct proto_record *r)
{
	size_t opt = proto_record_opt_len(r->flags);
	size_t body_len = PROTO_RECORD_FIXED + opt + r->tag_len + r->msg_len;
	uint8_t *p = buf + PROTO_FRAME_HEADER;

	assert(r->facility <= PROTO_FACILITY_MAX && r->severity <= PROTO_SEVERITY_MAX);
	assert(!(r->flags & ~PROTO_REC_KNOWN) && r->tag_len <= PROTO_TAG_MAX);
	proto_put_header(buf, PROTO_RECORD, body_len);
	p[0] = r->facility;
	p[1] = r->severity;
	p[2] = r->flags;
	p[3] = (uint8_t)r->tag_len;
	if (r->flags & PROTO_REC_CTIME)
		proto_put64(p + PROTO_RECORD_FIXED, r->claimed_time_us);
	if (r->flags & PROTO_REC_CPID)
		proto_put32(p + PROTO_RECORD_FIXED + opt - 4, r->claimed_pid);
	p += PROTO_RECORD_FIXED + opt;
	if (r->tag_len)
		memcpy(p, r->tag, r->tag_len);
	if (r->msg_len)
		memcpy(p + r->tag_len, r->msg, r->msg_len);
	return PROTO_FRAME_HEADER + body_len;
}

size_t
proto_put_status_req(uint8_t *buf)
{
	proto_put_header(buf, PROTO_STATUS_REQ, 0);
	return PROTO_FRAME_HEADER;
}

size_t
proto_put_ack(uint8_t *buf, const struct proto_ack *a)
{
	uint8_t *p = buf + PROTO_FRAME_HEADER;

	proto_put_header(buf, PROTO_ACK, PROTO_ACK_BODY);
	proto_put64(p, a->recno);
	proto_put64(p + 8, a->seq);
	return PROTO_ACK_LEN;
}

size_t
proto_put_error(uint8_t *buf, uint64_t recno, uint16_t code, const char *text, size_t text_len)
{
	uint8_t *p = buf + PROTO_FRAME_HEADER;

	proto_put_header(buf, PROTO_ERROR, PROTO_ERROR_FIXED + text_len);
	proto_put64(p, recno);
	proto_put16(p + 8, code);
	if (text_len)
		memcpy(p + PROTO_ERROR_FIXED, text, text_len);
	return PROTO_FRAME_HEADER + PROTO_ERROR_FIXED + text_len;
}

int
proto_parse_control(const uint8_t *body, size_t len, struct proto_control *ret)
{
	if (len < PROTO_CONTROL_BODY)
		return -EBADMSG;
	*ret = (struct proto_control){
		.verb = body[0],
		.flags = body[1],
		.max_bytes = proto_get64(body + 2),
		.max_age_us = proto_get64(body + 10),
		.max_files = proto_get64(body + 18),
	};
	return 0;
}

int
proto_parse_control_done(const uint8_t *body, size_t len, struct proto_control_done *ret)
{
	if (len < PROTO_CONTROL_DONE_FIXED)
		return -EBADMSG;
	*ret = (struct proto_control_done){
		.verb = body[0],
		.status = body[1],
		.value = proto_get64(body + 2),
		.text = (const char *)body + PROTO_CONTROL_DONE_FIXED,
		.text_len = len - PROTO_CONTROL_DONE_FIXED,
	};
	return 0;
}

size_t
proto_put_control(uint8_t *buf, const struct proto_control *c)
{
	uint8_t *p = buf + PROTO_FRAME_HEADER;

	proto_put_header(buf, PROTO_CONTROL, PROTO_CONTROL_BODY);
	p[0] = c->verb;
	p[1] = c->flags;
	proto_put64(p + 2, c->max_bytes);
	proto_put64(p + 10, c->max_age_us);
	proto_put64(p + 18, c->max_files);
	return PROTO_CONTROL_LEN;
}

size_t
proto_put_control_done(uint8_t *buf, const struct proto_control_done *d)
{
	uint8_t *p = buf + PROTO_FRAME_HEADER;

	proto_put_header(buf, PROTO_CONTROL_DONE, PROTO_CONTROL_DONE_FIXED + d->text_len);
	p[0] = d->verb;
	p[1] = d->status;
	proto_put64(p + 2, d->value);
	if (d->text_len)
		memcpy(p + PROTO_CONTROL_DONE_FIXED, d->text, d->text_len);
	return PROTO_FRAME_HEADER + PROTO_CONTROL_DONE_FIXED + d->text_len;
}

size_t
proto_put_status_header(uint8_t *buf, uint32_t body_len)
{
	proto_put_header(buf, PROTO_STATUS, body_len);
	return PROTO_FRAME_HEADER;
}

/* Short names that stay stable: clients print them and tests match them. */
const char *
proto_error_name(uint16_t code)
{
	static const char *const names[] = {
		[PROTO_ERR_MALFORMED] = "malformed",
		[PROTO_ERR_TOO_LARGE] = "too-large",
		[PROTO_ERR_RATE_LIMITED] = "rate-limited",
		[PROTO_ERR_INVALID] = "invalid",
		[PROTO_ERR_VERSION] = "version",
		[PROTO_ERR_TOO_MANY_CLIENTS] = "too-many-clients",
		[PROTO_ERR_SHUTDOWN] = "shutdown",
		[PROTO_ERR_SLOW_READER] = "slow-reader",
		[PROTO_ERR_STORAGE] = "storage",
		[PROTO_ERR_STALLED] = "stalled",
	};

	if (code < sizeof(names) / sizeof(names[0]) && names[code])
		return names[code];
	return "unknown";
}
