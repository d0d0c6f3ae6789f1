/* A connection's input side: the frames of the native protocol
 * (docs/protocol.md) parsed from the read buffer and handled -- HELLO,
 * RECORD into the engine, STATUS_REQ, CONTROL (conn_ack.c completes it) --
 * with every limit on what a client sends; and the messages of a syslog
 * stream (RFC 6587 framing, syslogmsg.c).  Both stop at the first record
 * the engine cannot take, leaving the rest buffered. */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <stdint.h>

#include "conn.h"
#include "conn_internal.h"
#include "engine.h"
#include "log.h"
#include "proto.h"
#include "ratelimit.h"
#include "record.h"
#include "syslogmsg.h"

enum {
	CONN_SYSLOG_HEADER_MAX = 1024,
};

static void
conn_hello(struct conn *c, const uint8_t *body, size_t len)
{
	const struct cfg *cfg = c->host->cfg;
	uint8_t buf[PROTO_HELLO_OK_LEN];
	struct proto_hello h;

	if (c->hello_done || proto_parse_hello(body, len, &h) < 0) {
		c->host->stats->malformed++;
		conn_error(c, 0, PROTO_ERR_MALFORMED, "malformed or repeated HELLO");
		return;
	}
	c->version = h.max_version < PROTO_VERSION ? h.max_version : PROTO_VERSION;
	if (c->version < h.min_version || c->version < PROTO_VERSION_MIN) {
		conn_error(c, 0, PROTO_ERR_VERSION, "no common protocol version (server: 1..2)");
		return;
	}
	c->hello_done = true;
	event_del(c->timer);
	struct proto_hello_ok ok = {
		.version = c->version,
		.durability = cfg->durability == CFG_DURABILITY_FSYNC ? PROTO_DURABILITY_FSYNC
								      : PROTO_DURABILITY_WRITE,
		.max_record = cfg->max_record,
		.max_tag = RECORD_TAG_MAX,
		.next_seq = c->host->ops->next_seq(c->host->ctx),
	};
	conn_queue(c, buf, proto_put_hello_ok(buf, &ok));
}

static void
conn_status(struct conn *c)
{
	uint8_t frame[PROTO_FRAME_HEADER + CONN_STATUS_MAX];
	size_t n = c->host->ops->status(c->host->ctx, (char *)frame + PROTO_FRAME_HEADER,
					CONN_STATUS_MAX);

	proto_put_status_header(frame, (uint32_t)n);
	conn_queue(c, frame, PROTO_FRAME_HEADER + n);
}

/* Handles one RECORD.  Returns -ENOBUFS (nothing consumed, nothing
 * counted) when the engine is full, 0 otherwise. */
static int
conn_record(struct conn *c, const uint8_t *body, size_t len, uint64_t now_us, uint64_t mono_us)
{
	const struct conn_host *host = c->host;
	struct proto_record pr;
	struct record r;

	if (!engine_can_accept(host->engine))
		return -ENOBUFS;
	c->recno++;
	if (proto_parse_record(body, len, &pr) < 0) {
		host->stats->refused++;
		conn_error(c, c->recno, PROTO_ERR_INVALID, "record does not parse");
		return 0;
	}
	if (pr.msg_len > host->cfg->max_record) {
		host->stats->refused++;
		conn_error(c, c->recno, PROTO_ERR_TOO_LARGE, "record larger than max_record");
		return 0;
	}
	if (!ratelimit_allow(host->rl, c->cred.uid, mono_us)) {
		host->stats->refused++;
		host->stats->rate_limited++;
		conn_error(c, c->recno, PROTO_ERR_RATE_LIMITED,
			   "rate limit for this uid exceeded (rate_limit_burst)");
		return 0;
	}
	r = (struct record){
		.time_us = now_us,
		.pid = c->cred.pid,
		.uid = c->cred.uid,
		.gid = c->cred.gid,
		.facility = pr.facility,
		.severity = pr.severity,
		.tag = pr.tag,
		.tag_len = pr.tag_len,
		.msg = pr.msg,
		.msg_len = pr.msg_len,
		.claimed_pid = (pr.flags & PROTO_REC_CPID) ? (int64_t)pr.claimed_pid
							   : RECORD_NO_CLAIMED_PID,
		.claimed_time_us = (pr.flags & PROTO_REC_CTIME) ? pr.claimed_time_us : 0,
	};
	if (engine_append(host->engine, &r) < 0) {
		host->stats->refused++;
		conn_error(c, c->recno, PROTO_ERR_STORAGE, "record could not be queued");
		return 0;
	}
	c->last_seq = r.seq;
	host->stats->received++;
	return 0;
}

/* A framing error: ERROR(0, malformed), and this connection alone ends. */
void
conn_malformed(struct conn *c, const char *why)
{
	c->host->stats->malformed++;
	conn_error(c, 0, PROTO_ERR_MALFORMED, why);
}

/* What to do with the frame at the head of the buffer. */
enum conn_frame_verdict {
	CONN_FRAME_TAKE, /* complete and acceptable: handle it */
	CONN_FRAME_WAIT, /* incomplete: wait for more bytes */
	CONN_FRAME_SKIP, /* a record too large: refused, its body skipped as it arrives */
	CONN_FRAME_STOP, /* broken framing: ERROR(0) is queued, the connection closes */
};

/* Judges the frame header at p (n bytes buffered from there) by every
 * limit on framing; *ret_type and *ret_blen are set for TAKE and SKIP.  A
 * frame too large to be a record is refused and skipped as it arrives
 * whether or not the engine is full: it needs no room there, and waiting
 * for room would leave a stream that only the skip can drain. */
static enum conn_frame_verdict
conn_frame_judge(struct conn *c, const uint8_t *p, size_t n, uint8_t *ret_type,
		 uint32_t *ret_blen)
{
	const struct cfg *cfg = c->host->cfg;
	uint8_t type;
	uint32_t blen;
	int k = proto_frame_header(p, n, &type, &blen);

	if (k == 0)
		return CONN_FRAME_WAIT;
	if (k < 0) {
		conn_malformed(c, "bad frame length");
		return CONN_FRAME_STOP;
	}
	if (!c->hello_done && type != PROTO_HELLO) {
		conn_malformed(c, "expected HELLO first");
		return CONN_FRAME_STOP;
	}
	*ret_type = type;
	*ret_blen = blen;
	if (type == PROTO_RECORD && blen > cfg->max_record + PROTO_RECORD_OVERHEAD_MAX) {
		c->recno++;
		c->host->stats->refused++;
		conn_error(c, c->recno, PROTO_ERR_TOO_LARGE, "record larger than max_record");
		c->skip = blen;
		return CONN_FRAME_SKIP;
	}
	if ((size_t)blen + PROTO_FRAME_HEADER > cfg->client_buffer) {
		conn_malformed(c, "frame larger than client_buffer");
		return CONN_FRAME_STOP;
	}
	if (n < (size_t)blen + PROTO_FRAME_HEADER)
		return CONN_FRAME_WAIT;
	return CONN_FRAME_TAKE;
}

/* Handles one complete frame of type with its body.  Returns -ENOBUFS
 * for a record the engine cannot take now (nothing consumed), else 0. */
static int
conn_handle_frame(struct conn *c, uint8_t type, const uint8_t *body, uint32_t blen,
		  uint64_t now_us, uint64_t mono_us)
{
	switch (type) {
	case PROTO_HELLO:
		conn_hello(c, body, blen);
		return 0;
	case PROTO_RECORD:
		return conn_record(c, body, blen, now_us, mono_us);
	case PROTO_STATUS_REQ:
		conn_status(c);
		return 0;
	case PROTO_CONTROL:
		if (c->version < PROTO_VERSION_CONTROL)
			conn_malformed(c, "CONTROL needs protocol version 2");
		else
			conn_control(c, body, blen);
		return 0;
	default:
		conn_malformed(c, "unknown frame type");
		return 0;
	}
}

/* Room in the output queue for the reply to the frame at p, whatever it
 * turns out to be (conn_buf.c: conn_wbuf_room()). */
static bool
conn_reply_room(struct conn *c, const uint8_t *p, size_t n)
{
	uint8_t type;
	uint32_t blen;

	if (proto_frame_header(p, n, &type, &blen) <= 0)
		return true; /* not a whole header yet, or the final ERROR(0) */
	if (type == PROTO_STATUS_REQ)
		return conn_wbuf_status_room(c, PROTO_FRAME_HEADER + CONN_STATUS_MAX);
	return conn_wbuf_room(c, CONN_REPLY_MAX);
}

/* Parses as many native frames as the buffer holds.  Returns the bytes
 * consumed; stops early (leaving the rest buffered, c->blocked set) at a
 * record the engine cannot take, and behind a CONTROL that waits. */
size_t
conn_native(struct conn *c, uint64_t now_us, uint64_t mono_us)
{
	size_t pos = 0;

	while (pos < c->rlen && !c->closing) {
		enum conn_frame_verdict v;
		uint8_t type;
		uint32_t blen;

		if (c->skip) {
			size_t n = c->rlen - pos < c->skip ? c->rlen - pos : (size_t)c->skip;
			c->skip -= n;
			pos += n;
			continue;
		}
		if (c->ctl_verb)
			break; /* behind a CONTROL that waits: read on once it is done */
		if (!conn_reply_room(c, c->rbuf + pos, c->rlen - pos))
			break; /* no room for its reply: read on once there is */
		v = conn_frame_judge(c, c->rbuf + pos, c->rlen - pos, &type, &blen);
		if (v == CONN_FRAME_SKIP) {
			pos += PROTO_FRAME_HEADER;
			continue;
		}
		if (v != CONN_FRAME_TAKE)
			break;
		if (conn_handle_frame(c, type, c->rbuf + pos + PROTO_FRAME_HEADER, blen, now_us,
				      mono_us) == -ENOBUFS) {
			c->blocked = true;
			return pos;
		}
		pos += (size_t)blen + PROTO_FRAME_HEADER;
	}
	return pos;
}

/* Syslog over a stream (RFC 6587): messages, no acknowledgements. */
/* The longest syslog frame taken: max_record applies to the message and
 * structured data (syslogsrv_append), so the frame may be longer by a
 * header (RFC 5424: PRI, VERSION, TIMESTAMP, HOSTNAME 255, APP-NAME 48,
 * PROCID 128, MSGID 32: under 1 KiB), within what the buffer holds. */
static size_t
conn_syslog_frame_max(const struct conn *c)
{
	size_t max = c->host->cfg->max_record + CONN_SYSLOG_HEADER_MAX;
	size_t big = c->host->cfg->client_buffer;

	return max < big - 16 ? max : big - 16;
}

/* At the end of the stream, what is left after the last whole message
 * from rbuf[pos]: an unterminated last line is a message; an octet-counted
 * frame cut short is not (its count says bytes are missing), and is
 * reported.  Returns the bytes consumed: all of them, or none while the
 * engine is full (the end of stream comes back once it takes more). */
static size_t
conn_syslog_last(struct conn *c, size_t pos, uint64_t now_us, uint64_t mono_us)
{
	const struct conn_host *host = c->host;
	const char *msg;
	size_t mlen = 0, left = c->rlen - pos;
	int k;

	if (!engine_can_accept(host->engine)) {
		c->blocked = true;
		return 0;
	}
	k = syslog_frame_end(&c->framer, (const char *)c->rbuf + pos, left,
			     conn_syslog_frame_max(c), &msg, &mlen);
	if (k > 0)
		host->ops->syslog(host->ctx, msg, mlen, &c->cred, now_us, mono_us);
	else if (k == -EMSGSIZE)
		host->ops->syslog_oversize(host->ctx);
	else if (k == -ENODATA)
		log_warning("Syslog stream of pid %d ended inside an incomplete octet-counted "
			    "frame: its %zu bytes are not stored", (int)c->cred.pid, left);
	return left;
}

size_t
conn_syslog(struct conn *c, uint64_t now_us, uint64_t mono_us)
{
	const struct conn_host *host = c->host;
	size_t pos = 0;

	while (pos < c->rlen) {
		const char *msg;
		size_t mlen = 0, used = 0;
		int k;

		if (!engine_can_accept(host->engine)) {
			c->blocked = true;
			break;
		}
		k = syslog_frame_next(&c->framer, (const char *)c->rbuf + pos, c->rlen - pos,
				      conn_syslog_frame_max(c), &msg, &mlen, &used);
		if (k == 0 && used == 0)
			break;
		if (k == -EMSGSIZE) {
			host->ops->syslog_oversize(host->ctx);
		} else if (k == -EBADMSG) {
			log_warning("Closing syslog stream of pid %d: bad octet count",
				    (int)c->cred.pid);
			conn_close(c, "bad octet count");
			return c->rlen;
		} else if (k > 0) {
			host->ops->syslog(host->ctx, msg, mlen, &c->cred, now_us, mono_us);
		}
		if (used == 0)
			break;
		pos += used;
	}
	if (c->eof && !c->blocked && !c->closing && pos < c->rlen)
		pos += conn_syslog_last(c, pos, now_us, mono_us);
	return pos;
}

