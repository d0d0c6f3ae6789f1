/* One stream connection: the native protocol (docs/protocol.md) or a
 * syslog stream (RFC 6587), with its read buffer, its pending acks and its
 * output queue.  See conn.h for the host interface and the lifetime. */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"
#include "ackaudit.h"
#include "conn.h"
#include "engine.h"
#include "log.h"
#include "proto.h"
#include "ratelimit.h"
#include "record.h"
#include "syslogmsg.h"

enum {
	CONN_MARKS = 64,      /* pending ack marks; more are coalesced into the last */
	CONN_STATUS_MAX = 4096,
};

struct conn_ackmark {
	uint64_t recno; /* records up to this one are resolved once seq is durable */
	uint64_t seq;
};

enum {
	CONN_SYSLOG_HEADER_MAX = 1024,
};

struct conn {
	const struct conn_host *host;
	void *cookie;
	enum conn_proto proto;
	int fd;
	struct ucred cred;
	struct event *rev, *wev, *timer;
	uint8_t *rbuf;
	size_t rlen, rcap;
	/* the output queue: whole frames, except that the first whead bytes
	 * are the unsent rest of a frame the socket took only part of */
	uint8_t *wbuf;
	size_t wlen, wcap, whead;
	uint64_t skip;	   /* bytes of a refused oversized frame still to discard */
	uint64_t recno;	   /* records received (native) */
	uint64_t last_seq; /* seq of this connection's newest appended record */
	uint64_t acked_recno;
	bool hello_done, closing, reading, eof, waiting, draining;
	bool peer_gone; /* writes fail (EPIPE): acks are dropped, input is still read */
	bool blocked;	/* stopped on engine backpressure with bytes buffered */
	uint16_t version; /* agreed in HELLO */
	/* a CONTROL waiting to complete (its verb; 0: none):
	 * no later frame is read meanwhile, so replies stay in order */
	uint8_t ctl_verb;
	uint64_t ctl_target; /* rotate, sync: the last seq it must cover */
	struct proto_control ctl_req; /* reload, vacuum: done from ctl_ev */
	struct event *ctl_ev; /* processes the input that waited behind it */
	struct conn_ackmark *marks;
	size_t marks_head, marks_len;
	struct syslog_framer framer;
};

static void conn_readcb(evutil_socket_t fd, short what, void *arg);
static void conn_writecb(evutil_socket_t fd, short what, void *arg);
static void conn_timeoutcb(evutil_socket_t fd, short what, void *arg);
static void conn_ctlcb(evutil_socket_t fd, short what, void *arg);
static void conn_control_check(struct conn *c, uint64_t durable_seq);
static void conn_malformed(struct conn *c, const char *why);

uint64_t
conn_now_us(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
conn_set_waiting(struct conn *c, bool on)
{
	if (c->waiting == on)
		return;
	c->waiting = on;
	c->host->ops->wait(c->host->ctx, c->cookie, on);
}

void
conn_free(struct conn *c)
{
	if (!c)
		return;
	conn_set_waiting(c, false);
	if (c->rev)
		event_free(c->rev);
	if (c->wev)
		event_free(c->wev);
	if (c->timer)
		event_free(c->timer);
	if (c->ctl_ev)
		event_free(c->ctl_ev);
	safe_close(c->fd);
	c->host->ops->gone(c->host->ctx, c->cookie);
	free(c->rbuf);
	free(c->wbuf);
	free(c->marks);
	free(c);
}

int
conn_new(const struct conn_host *host, void *cookie, enum conn_proto proto, int fd,
	 const struct ucred *cred, struct conn **ret)
{
	_cleanup_close_ int sfd = fd;
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	*c = (struct conn){
		.host = host,
		.cookie = cookie,
		.proto = proto,
		.fd = TAKE_FD(sfd),
		.cred = *cred,
		.rcap = host->cfg->client_buffer,
		.framer = SYSLOG_FRAMER_INIT,
	};
	c->rbuf = malloc(c->rcap);
	c->rev = event_new(host->base, fd, EV_READ | EV_PERSIST, conn_readcb, c);
	c->wev = event_new(host->base, fd, EV_WRITE | EV_PERSIST, conn_writecb, c);
	c->timer = evtimer_new(host->base, conn_timeoutcb, c);
	c->ctl_ev = evtimer_new(host->base, conn_ctlcb, c);
	if (!c->rbuf || !c->rev || !c->wev || !c->timer || !c->ctl_ev ||
	    event_add(c->rev, NULL) < 0) {
		safe_close(c->fd);
		if (c->rev)
			event_free(c->rev);
		if (c->wev)
			event_free(c->wev);
		if (c->timer)
			event_free(c->timer);
		if (c->ctl_ev)
			event_free(c->ctl_ev);
		free(c->rbuf);
		free(c);
		return -ENOMEM;
	}
	c->reading = true;
	if (proto == CONN_NATIVE) {
		uint64_t t = host->cfg->hello_timeout_us;
		struct timeval tv = { (time_t)(t / 1000000), (suseconds_t)(t % 1000000) };
		event_add(c->timer, &tv);
	}
	*ret = c;
	return 0;
}

/* The socket took n of the wlen queued bytes: drop them, and find where
 * the frame now at the head of the queue starts, so that a frame is never
 * cut by what is done to the queue later (the slow-reader drop).  Frames
 * are walked only on a partial send, which happens when the socket is
 * full. */
static void
conn_sent(struct conn *c, size_t n)
{
	size_t pos = c->whead; /* the first frame boundary */

	if (n == c->wlen) {
		c->wlen = c->whead = 0;
		return;
	}
	while (pos < n) {
		const uint8_t *h = c->wbuf + pos;
		pos += 4 + ((size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16 |
			    (size_t)h[3] << 24);
	}
	c->whead = pos - n;
	memmove(c->wbuf, c->wbuf + n, c->wlen - n);
	c->wlen -= n;
}

/* Sends what is queued; on EAGAIN waits for the socket to drain.  Never
 * frees the connection (callers may be in the middle of using it): a
 * closing connection is freed from its write callback, at the top of the
 * event loop. */
static void
conn_flush(struct conn *c)
{
	while (c->wlen > 0) {
		ssize_t n = send(c->fd, c->wbuf, c->wlen, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			event_add(c->wev, NULL);
			return;
		}
		if (n < 0) {
			/* the peer closed its end: no ack can be delivered any
			 * more, but what it sent before is still read and
			 * committed (a client may send and close at once) */
			c->wlen = c->whead = 0;
			c->peer_gone = true;
			break;
		}
		conn_sent(c, (size_t)n);
	}
	if (c->closing)
		event_active(c->wev, EV_WRITE, 0);
	else
		event_del(c->wev);
}

/* The end of a closing connection whose frames are out: an orderly end of
 * stream for the peer (SHUT_WR), and its unread bytes discarded before
 * close(2) -- on a Unix socket closed with input unread, the peer's next
 * read fails with ECONNRESET instead of reading end of stream (unix(7)).
 * The read side was shut down in conn_close(), so the kernel holds no
 * more than it held then: the loop ends at end of stream. */
static void
conn_finish(struct conn *c)
{
	uint8_t sink[4096];
	ssize_t n;

	event_del(c->wev);
	(void)shutdown(c->fd, SHUT_WR);
	do
		n = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);
	while (n > 0 || (n < 0 && errno == EINTR));
	if (n < 0 && errno == EAGAIN) {
		/* not shut down for reading (not a Unix socket?): wait for
		 * the end of stream, or the linger timer */
		if (!c->reading && event_add(c->rev, NULL) == 0)
			c->reading = true;
		if (c->reading)
			return;
	}
	conn_free(c);
}

static void
conn_writecb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	conn_flush(c);
	if (c->closing && c->wlen == 0)
		conn_finish(c);
}

bool
conn_blocked(const struct conn *c)
{
	return !c->closing && c->blocked;
}

bool
conn_reading(const struct conn *c)
{
	return c->reading;
}

static void conn_error(struct conn *c, uint64_t recno, uint16_t code, const char *text);

/* Appends n bytes to the output queue, growing it.  False (and the
 * connection closing) without memory. */
static bool
conn_append(struct conn *c, const void *data, size_t n)
{
	if (c->wlen + n > c->wcap) {
		size_t ncap = c->wcap ? c->wcap : 256;
		while (ncap < c->wlen + n)
			ncap *= 2;
		uint8_t *nb = realloc(c->wbuf, ncap);
		if (!nb) {
			conn_close(c, "out of memory");
			return false;
		}
		c->wbuf = nb;
		c->wcap = ncap;
	}
	memcpy(c->wbuf + c->wlen, data, n);
	c->wlen += n;
	return true;
}

/* Queues one whole frame for the client.  A client that lets more than
 * ack_queue_max bytes pile up is not reading its replies: it is dropped
 * (with ERROR(0, slow-reader) in place of the unsent replies, after the
 * rest of a frame the socket already took part of), so it cannot hold
 * memory or the daemon hostage.  Returns false if nothing more is to be
 * queued (the connection is closing). */
static bool
conn_queue(struct conn *c, const void *data, size_t n)
{
	static const char text[] = "acknowledgements left unread beyond ack_queue_max";
	uint8_t err[PROTO_FRAME_HEADER + PROTO_ERROR_FIXED + sizeof(text)];
	uint64_t max = c->host->cfg->ack_queue_max;

	if (c->peer_gone)
		return true; /* nobody to tell */
	if (c->wlen + n <= max)
		return conn_append(c, data, n);
	if (c->closing)
		return false;
	c->host->stats->slow_readers++;
	log_warning("Dropping client pid %d uid %u: it left %zu bytes of acknowledgements "
		    "unread (ack_queue_max = %llu)",
		    (int)c->cred.pid, c->cred.uid, c->wlen, (unsigned long long)max);
	c->wlen = c->whead;
	if (conn_append(c, err, proto_put_error(err, 0, PROTO_ERR_SLOW_READER, text,
						sizeof(text) - 1)))
		conn_close(c, "slow reader");
	return false;
}

void
conn_close(struct conn *c, const char *why)
{
	struct timeval linger = { CONN_LINGER_SEC, 0 };

	if (c->closing)
		return;
	if (why)
		log_debug("Closing connection of pid %d: %s", (int)c->cred.pid, why);
	c->closing = true;
	conn_set_waiting(c, false);
	conn_pause(c);
	(void)shutdown(c->fd, SHUT_RD);
	event_add(c->timer, &linger); /* a peer that never reads cannot keep us */
	conn_flush(c);
}

/* ERROR(recno, code, text); for recno 0 the connection then closes. */
static void
conn_error(struct conn *c, uint64_t recno, uint16_t code, const char *text)
{
	uint8_t buf[PROTO_FRAME_HEADER + PROTO_ERROR_FIXED + 256];
	size_t tl = strlen(text);

	if (tl > 256)
		tl = 256;
	if (conn_queue(c, buf, proto_put_error(buf, recno, code, text, tl)) && recno == 0)
		conn_close(c, text);
}

void
conn_end(struct conn *c, uint16_t code, const char *text)
{
	if (c->closing)
		return;
	if (c->proto == CONN_NATIVE && c->hello_done)
		conn_error(c, 0, code, text);
	else
		conn_close(c, text);
}

/* A native client that asked for it, with every ack owed sent: close. */
static void
conn_maybe_done(struct conn *c)
{
	if (c->eof && !c->closing && !c->blocked && !c->ctl_verb && c->marks_len == 0)
		conn_close(c, "end of stream");
}

/* Records from this read are resolved once seq is durable: a mark per
 * read, coalesced while the seq does not change or the marks are full. */
static void
conn_push_mark(struct conn *c)
{
	struct conn_ackmark *m;

	if (c->marks_len > 0) {
		m = &c->marks[(c->marks_head + c->marks_len - 1) % CONN_MARKS];
		if (m->seq == c->last_seq || c->marks_len == CONN_MARKS) {
			m->recno = c->recno;
			m->seq = c->last_seq;
			return;
		}
	} else if (c->recno == c->acked_recno) {
		return;
	}
	if (!c->marks) {
		c->marks = malloc(CONN_MARKS * sizeof(*c->marks));
		if (!c->marks) {
			conn_close(c, "out of memory");
			return;
		}
	}
	c->marks[(c->marks_head + c->marks_len) % CONN_MARKS] =
		(struct conn_ackmark){ .recno = c->recno, .seq = c->last_seq };
	c->marks_len++;
	conn_set_waiting(c, true);
}

void
conn_ack(struct conn *c, uint64_t durable_seq)
{
	struct proto_ack a = { 0, 0 };
	uint8_t buf[PROTO_ACK_LEN];
	bool any = false;

	while (c->marks_len > 0) {
		struct conn_ackmark *m = &c->marks[c->marks_head];
		if (m->seq > durable_seq)
			break;
		a = (struct proto_ack){ .recno = m->recno, .seq = m->seq };
		any = true;
		c->marks_head = (c->marks_head + 1) % CONN_MARKS;
		c->marks_len--;
	}
	if (c->marks_len == 0 && !c->ctl_verb)
		conn_set_waiting(c, false);
	if (any) {
		c->acked_recno = a.recno;
		/* --enable-ack-audit: every seq acknowledged on the wire is one a
		 * completed fdatasync covered (ackaudit.h) */
		ack_audit_wire(engine_ack_audit(c->host->engine), a.seq);
		if (conn_queue(c, buf, proto_put_ack(buf, &a)))
			conn_flush(c);
	}
	if (c->ctl_verb)
		conn_control_check(c, durable_seq);
	conn_maybe_done(c);
}

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

/* --- CONTROL (protocol version 2) ---------------------------------------- */

static void
conn_control_reply(struct conn *c, uint8_t verb, uint8_t status, uint64_t value, const char *text)
{
	uint8_t frame[PROTO_FRAME_HEADER + PROTO_CONTROL_DONE_FIXED + CONN_CONTROL_TEXT_MAX];
	struct proto_control_done d = { .verb = verb, .status = status, .value = value,
					.text = text, .text_len = strlen(text) };

	if (d.text_len > CONN_CONTROL_TEXT_MAX)
		d.text_len = CONN_CONTROL_TEXT_MAX;
	if (conn_queue(c, frame, proto_put_control_done(frame, &d)))
		conn_flush(c);
}

/* A pending rotate or sync: done once what it waits for holds.  The input
 * that waited behind it is processed from the loop (ctl_ev), not here:
 * this runs while the host walks its waiter list. */
static void
conn_control_check(struct conn *c, uint64_t durable_seq)
{
	struct engine *e = c->host->engine;
	char text[CONN_CONTROL_TEXT_MAX];

	if (c->ctl_verb == PROTO_VERB_SYNC) {
		/* in fsync mode what counts is a completed fdatasync, not the
		 * durable seq: after a reload from write, that one covers records
		 * only written (found by a hostile test) */
		bool fsync = c->host->cfg->durability == CFG_DURABILITY_FSYNC;
		if ((fsync ? engine_synced_seq(e) : durable_seq) < c->ctl_target)
			return;
		snprintf(text, sizeof(text), "every record up to seq %" PRIu64 " is %s",
			 c->ctl_target, fsync ? "durable (fdatasync)" : "written (durability = write)");
	} else if (c->ctl_verb == PROTO_VERB_ROTATE) {
		if (!engine_sealed_through(e, c->ctl_target))
			return;
		snprintf(text, sizeof(text), "sealed: every record up to seq %" PRIu64
			 " is in a sealed segment", c->ctl_target);
	} else {
		return; /* reload, vacuum: conn_ctlcb */
	}
	conn_control_reply(c, c->ctl_verb, PROTO_CTL_OK, c->ctl_target, text);
	c->ctl_verb = 0;
	if (c->marks_len == 0)
		conn_set_waiting(c, false);
	event_active(c->ctl_ev, EV_TIMEOUT, 0);
}

/* From the loop: a reload or vacuum is done (never from inside the frame
 * loop: a reload may pause and resume every connection, this one too),
 * then the input that waited behind a CONTROL is processed. */
static void
conn_ctlcb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (c->ctl_verb == PROTO_VERB_RELOAD || c->ctl_verb == PROTO_VERB_VACUUM) {
		char text[CONN_CONTROL_TEXT_MAX] = "";
		uint64_t value = 0;
		uint8_t status = c->host->ops->control(c->host->ctx, &c->ctl_req, &value, text,
						       sizeof(text));
		if (!c->closing)
			conn_control_reply(c, c->ctl_verb, status, value, text);
		c->ctl_verb = 0;
		if (c->marks_len == 0)
			conn_set_waiting(c, false);
	}
	conn_resume(c);
}

/* One CONTROL frame.  rotate and sync wait here (the connection joins the
 * host's waiter list, so conn_ack() sees each commit and each seal);
 * reload and vacuum are the host's, done from the loop (conn_ctlcb). */
static void
conn_control(struct conn *c, const uint8_t *body, size_t len)
{
	struct engine *e = c->host->engine;
	struct proto_control req;
	char text[CONN_CONTROL_TEXT_MAX] = "";

	if (proto_parse_control(body, len, &req) < 0) {
		conn_malformed(c, "CONTROL body too short");
		return;
	}
	if (req.verb == 0 || req.verb > PROTO_VERB_MAX) {
		snprintf(text, sizeof(text), "unknown verb %u", req.verb);
		conn_control_reply(c, req.verb, PROTO_CTL_REFUSED, 0, text);
		return;
	}
	if (req.flags & ~(req.verb == PROTO_VERB_VACUUM ? PROTO_CTL_KNOWN : 0)) {
		snprintf(text, sizeof(text), "flags 0x%x are not known for this verb", req.flags);
		conn_control_reply(c, req.verb, PROTO_CTL_REFUSED, 0, text);
		return;
	}
	if (req.verb == PROTO_VERB_SYNC || req.verb == PROTO_VERB_ROTATE) {
		uint64_t next = c->host->ops->next_seq(c->host->ctx);
		c->ctl_target = next ? next - 1 : 0;
		if (req.verb == PROTO_VERB_ROTATE && !engine_rotate(e)) {
			conn_control_reply(c, req.verb, PROTO_CTL_OK, 0,
					   "nothing to seal: current holds no records");
			return;
		}
		if (req.verb == PROTO_VERB_SYNC)
			engine_request_sync(e);
		c->ctl_verb = req.verb;
		conn_set_waiting(c, true);
		conn_control_check(c, engine_durable_seq(e));
		return;
	}
	c->ctl_verb = req.verb;
	c->ctl_req = req;
	event_active(c->ctl_ev, EV_TIMEOUT, 0);
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
static void
conn_malformed(struct conn *c, const char *why)
{
	c->host->stats->malformed++;
	conn_error(c, 0, PROTO_ERR_MALFORMED, why);
}

/* Parses as many native frames as the buffer holds.  Returns the bytes
 * consumed; stops early (leaving the rest buffered, c->blocked set) at a
 * record the engine cannot take.  A frame too large to be a record is
 * refused and skipped as it arrives whether or not the engine is full: it
 * needs no room there, and waiting for room would leave a stream that only
 * the skip can drain. */
static size_t
conn_native(struct conn *c, uint64_t now_us, uint64_t mono_us)
{
	const struct cfg *cfg = c->host->cfg;
	size_t pos = 0;

	while (pos < c->rlen && !c->closing) {
		uint8_t type;
		uint32_t blen;
		int k;

		if (c->skip) {
			size_t n = c->rlen - pos < c->skip ? c->rlen - pos : (size_t)c->skip;
			c->skip -= n;
			pos += n;
			continue;
		}
		if (c->ctl_verb)
			break; /* behind a CONTROL that waits: read on once it is done */
		k = proto_frame_header(c->rbuf + pos, c->rlen - pos, &type, &blen);
		if (k == 0)
			break;
		if (k < 0) {
			conn_malformed(c, "bad frame length");
			break;
		}
		if (!c->hello_done && type != PROTO_HELLO) {
			conn_malformed(c, "expected HELLO first");
			break;
		}
		if (type == PROTO_RECORD && blen > cfg->max_record + PROTO_RECORD_OVERHEAD_MAX) {
			c->recno++;
			c->host->stats->refused++;
			conn_error(c, c->recno, PROTO_ERR_TOO_LARGE,
				   "record larger than max_record");
			c->skip = blen;
			pos += PROTO_FRAME_HEADER;
			continue;
		}
		if ((size_t)blen + PROTO_FRAME_HEADER > c->rcap) {
			conn_malformed(c, "frame larger than client_buffer");
			break;
		}
		if (c->rlen - pos < (size_t)blen + PROTO_FRAME_HEADER)
			break;
		const uint8_t *body = c->rbuf + pos + PROTO_FRAME_HEADER;
		switch (type) {
		case PROTO_HELLO:
			conn_hello(c, body, blen);
			break;
		case PROTO_RECORD:
			if (conn_record(c, body, blen, now_us, mono_us) == -ENOBUFS) {
				c->blocked = true;
				return pos;
			}
			break;
		case PROTO_STATUS_REQ:
			conn_status(c);
			break;
		case PROTO_CONTROL:
			if (c->version < PROTO_VERSION_CONTROL) {
				conn_malformed(c, "CONTROL needs protocol version 2");
				break;
			}
			conn_control(c, body, blen);
			break;
		default:
			conn_malformed(c, "unknown frame type");
			break;
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

	return max < c->rcap - 16 ? max : c->rcap - 16;
}

static size_t
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
	return pos;
}

/* Handles what the read buffer holds, then answers: one ACK for what is
 * already durable, and the replies queued on the way. */
static void
conn_process(struct conn *c)
{
	uint64_t now = conn_now_us(CLOCK_REALTIME), mono = conn_now_us(CLOCK_MONOTONIC);
	size_t used;

	c->blocked = false;
	used = c->proto == CONN_NATIVE ? conn_native(c, now, mono) : conn_syslog(c, now, mono);
	if (c->closing)
		return;
	if (used > 0) {
		memmove(c->rbuf, c->rbuf + used, c->rlen - used);
		c->rlen -= used;
	}
	if (c->proto == CONN_NATIVE) {
		conn_push_mark(c);
		conn_ack(c, engine_durable_seq(c->host->engine));
		if (c->wlen && !c->closing)
			conn_flush(c);
	} else if (c->eof && !c->blocked) {
		conn_close(c, "end of stream");
	}
}

/* Reads what the socket has (up to the free buffer space) and processes
 * it.  With the engine full, the connection stops reading until resumed;
 * the kernel's socket buffer then pushes back on the client.  A closing
 * connection that waits for the peer's end of stream only discards. */
static void
conn_readcb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	ssize_t n;

	if (c->closing) {
		conn_finish(c);
		return;
	}
	if (c->rlen == c->rcap) {
		conn_process(c);
		if (!c->closing && (c->blocked || c->ctl_verb))
			conn_pause(c);
		return;
	}
	n = recv(fd, c->rbuf + c->rlen, c->rcap - c->rlen, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* end of stream (or a read error): what was fully received is
		 * processed -- after backpressure, if it meets a full engine --
		 * and the acks still owed are sent before closing */
		conn_pause(c);
		c->eof = true;
		conn_process(c);
		conn_maybe_done(c);
		return;
	}
	c->rlen += (size_t)n;
	conn_process(c);
	if (!c->closing && (c->blocked || c->ctl_verb))
		conn_pause(c);
}

static void
conn_timeoutcb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (c->closing)
		conn_free(c);
	else
		conn_malformed(c, "no HELLO within hello_timeout");
}

void
conn_pause(struct conn *c)
{
	if (c->reading) {
		event_del(c->rev);
		c->reading = false;
	}
}

void
conn_resume(struct conn *c)
{
	if (c->closing)
		return;
	if (c->rlen > 0 || c->eof) {
		conn_process(c);
		if (c->closing || c->blocked || c->ctl_verb)
			return;
		conn_maybe_done(c);
	}
	if (!c->reading && !c->draining && !c->eof && !c->closing) {
		event_add(c->rev, NULL);
		c->reading = true;
	}
}

void
conn_drain_input(struct conn *c)
{
	if (c->closing)
		return;
	conn_pause(c);
	if (!c->draining) {
		c->draining = true;
		(void)shutdown(c->fd, SHUT_RD);
	}
	for (;;) {
		ssize_t n = 1;
		size_t before;

		if (c->rlen < c->rcap) {
			n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, MSG_DONTWAIT);
			if (n > 0)
				c->rlen += (size_t)n;
		}
		before = c->rlen;
		conn_process(c);
		if (c->closing || c->blocked || c->ctl_verb || n <= 0 || c->rlen == before)
			return;
	}
}
