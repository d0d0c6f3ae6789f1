/* One stream connection: the native protocol (docs/protocol.md) or a
 * syslog stream (RFC 6587), with its read buffer, its pending acks and its
 * output queue.  Every limit a client controls is enforced here: frame
 * size, bytes buffered, unread acks. */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "proto.h"
#include "server.h"

/* A RECORD body holds at most this much besides the message. */
#define CONN_RECORD_OVERHEAD (PROTO_RECORD_FIXED + 12 + RECORD_TAG_MAX)

static void conn_readcb(evutil_socket_t fd, short what, void *arg);
static void conn_writecb(evutil_socket_t fd, short what, void *arg);
static void conn_timeoutcb(evutil_socket_t fd, short what, void *arg);
static void conn_process(struct conn *c);

static void
conn_unwait(struct conn *c)
{
	struct server *srv = c->srv;
	if (!c->waiting)
		return;
	if (c->wait_prev)
		c->wait_prev->wait_next = c->wait_next;
	else
		srv->waiters = c->wait_next;
	if (c->wait_next)
		c->wait_next->wait_prev = c->wait_prev;
	c->wait_prev = c->wait_next = NULL;
	c->waiting = false;
}

void
conn_free(struct conn *c)
{
	struct server *srv = c->srv;

	conn_unwait(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv->n_conns--;
	if (c->rev)
		event_free(c->rev);
	if (c->wev)
		event_free(c->wev);
	if (c->timer)
		event_free(c->timer);
	safe_close(c->fd);
	free(c->rbuf);
	free(c->wbuf);
	free(c->marks);
	free(c);
}

int
conn_new(struct server *srv, enum listener_kind kind, int fd, struct conn **ret)
{
	struct conn *c = calloc(1, sizeof(*c));
	socklen_t len = sizeof(c ? c->cred : (struct ucred){ 0 });

	if (!c) {
		safe_close(fd);
		return -ENOMEM;
	}
	c->srv = srv;
	c->kind = kind;
	c->fd = fd;
	c->rcap = srv->cfg->client_buffer;
	c->rbuf = malloc(c->rcap);
	c->rev = event_new(srv->base, fd, EV_READ | EV_PERSIST, conn_readcb, c);
	c->wev = event_new(srv->base, fd, EV_WRITE | EV_PERSIST, conn_writecb, c);
	c->timer = evtimer_new(srv->base, conn_timeoutcb, c);
	c->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = c;
	srv->conns = c;
	srv->n_conns++;
	if (!c->rbuf || !c->rev || !c->wev || !c->timer) {
		conn_free(c);
		return -ENOMEM;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) < 0) {
		int r = -errno;
		conn_free(c);
		return r;
	}
	if (kind == LISTENER_NATIVE) {
		struct timeval tv = { (time_t)(srv->cfg->hello_timeout_us / 1000000),
				      (suseconds_t)(srv->cfg->hello_timeout_us % 1000000) };
		event_add(c->timer, &tv);
	}
	if (!srv->draining) {
		event_add(c->rev, NULL);
		c->reading = true;
	}
	*ret = c;
	return 0;
}

/* Sends what is queued; on EAGAIN waits for the socket to drain.  Never
 * frees the connection (callers may be in the middle of using it): a
 * closing connection is freed from its write callback, at the top of the
 * event loop, once its queue is out (or after a grace period). */
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
			c->wlen = 0;
			c->peer_gone = true;
			break;
		}
		memmove(c->wbuf, c->wbuf + n, c->wlen - (size_t)n);
		c->wlen -= (size_t)n;
	}
	if (c->closing)
		event_active(c->wev, EV_WRITE, 0);
	else
		event_del(c->wev);
}

static void
conn_writecb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	conn_flush(c);
	if (c->closing && c->wlen == 0)
		conn_free(c);
}

bool
conn_flushed(const struct conn *c)
{
	return c->wlen == 0 && c->marks_len == 0;
}

/* Queues bytes for the client.  A client that lets more than
 * ack_queue_max bytes pile up is not reading its acks: it is dropped so it
 * cannot hold memory (or others) hostage.  Returns false if c is gone. */
static bool
conn_queue(struct conn *c, const void *data, size_t n)
{
	uint64_t max = c->srv->cfg->ack_queue_max;

	if (c->peer_gone)
		return true; /* nobody to tell */
	if (c->wlen + n > max && !c->closing) {
		c->srv->st.slow_readers++;
		log_warning("Dropping client pid %d uid %u: it left %zu bytes of acknowledgements "
			    "unread (ack_queue_max = %llu)",
			    (int)c->cred.pid, c->cred.uid, c->wlen, (unsigned long long)max);
		/* the unread acks are dropped; the reason goes in their place */
		c->wlen = 0;
		conn_send_error(c, 0, PROTO_ERR_SLOW_READER,
				"acknowledgements left unread beyond ack_queue_max");
		return false;
	}
	if (c->closing && c->wlen + n > max)
		return false;
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

/* Closes after telling the client why (for native clients the ERROR frame
 * has been queued by the caller). */
void
conn_close(struct conn *c, const char *why)
{
	struct timeval grace = { 5, 0 };

	if (c->closing)
		return;
	if (why)
		log_debug("Closing connection of pid %d: %s", (int)c->cred.pid, why);
	c->closing = true;
	conn_unwait(c);
	event_del(c->rev);
	c->reading = false;
	shutdown(c->fd, SHUT_RD);
	event_add(c->timer, &grace); /* a peer that never reads cannot keep us */
	conn_flush(c);
}

void
conn_send_error(struct conn *c, uint64_t recno, uint16_t code, const char *text)
{
	uint8_t buf[PROTO_FRAME_HEADER + 10 + 256];
	size_t tl = strlen(text);
	if (tl > 256)
		tl = 256;
	size_t n = proto_put_error(buf, recno, code, text, tl);
	if (conn_queue(c, buf, n) && recno == 0)
		conn_close(c, text);
}

/* Records from this read are resolved once seq is durable. */
static void
conn_push_mark(struct conn *c)
{
	struct ackmark *m;

	if (c->marks_len > 0) {
		m = &c->marks[(c->marks_head + c->marks_len - 1) % c->marks_cap];
		if (m->seq == c->last_seq || c->marks_len == c->marks_cap) {
			m->recno = c->recno; /* coalesce */
			m->seq = c->last_seq;
			return;
		}
	} else if (c->recno == c->acked_recno) {
		return;
	}
	if (c->marks_cap == 0) {
		c->marks = malloc(64 * sizeof(*c->marks));
		if (!c->marks)
			return;
		c->marks_cap = 64;
	}
	m = &c->marks[(c->marks_head + c->marks_len) % c->marks_cap];
	m->recno = c->recno;
	m->seq = c->last_seq;
	c->marks_len++;
	if (!c->waiting) {
		struct server *srv = c->srv;
		c->wait_next = srv->waiters;
		if (srv->waiters)
			srv->waiters->wait_prev = c;
		srv->waiters = c;
		c->waiting = true;
	}
}

/* Sends one cumulative ACK for every mark now durable. */
void
conn_ack(struct conn *c, uint64_t durable_seq)
{
	struct proto_ack a = { 0, 0 };
	uint8_t buf[PROTO_ACK_LEN];
	bool any = false;

	while (c->marks_len > 0) {
		struct ackmark *m = &c->marks[c->marks_head];
		if (m->seq > durable_seq)
			break;
		a.recno = m->recno;
		a.seq = m->seq;
		any = true;
		c->marks_head = (c->marks_head + 1) % c->marks_cap;
		c->marks_len--;
	}
	if (c->marks_len == 0)
		conn_unwait(c);
	if (!any)
		return;
	c->acked_recno = a.recno;
	if (conn_queue(c, buf, proto_put_ack(buf, &a)))
		conn_flush(c);
	if (c->eof && c->marks_len == 0 && !c->closing)
		conn_close(c, "end of stream");
}

static void
conn_hello(struct conn *c, const uint8_t *body, size_t len)
{
	struct cfg *cfg = c->srv->cfg;
	struct proto_hello h;
	struct store_status ss = { 0 };
	uint8_t buf[PROTO_HELLO_OK_LEN];

	if (c->hello_done || proto_parse_hello(body, len, &h) < 0) {
		conn_send_error(c, 0, PROTO_ERR_MALFORMED, "malformed or repeated HELLO");
		return;
	}
	if (h.min_version > PROTO_VERSION || h.max_version < PROTO_VERSION) {
		conn_send_error(c, 0, PROTO_ERR_VERSION, "no common protocol version (server: 1)");
		return;
	}
	c->hello_done = true;
	event_del(c->timer);
	if (c->srv->store)
		store_get_status(c->srv->store, &ss);
	struct proto_hello_ok ok = {
		.version = PROTO_VERSION,
		.durability = cfg->durability == CFG_DURABILITY_FSYNC ? PROTO_DURABILITY_FSYNC
								      : PROTO_DURABILITY_WRITE,
		.max_record = cfg->max_record,
		.max_tag = RECORD_TAG_MAX,
		.next_seq = ss.next_seq,
	};
	conn_queue(c, buf, proto_put_hello_ok(buf, &ok));
}

static void
conn_status(struct conn *c)
{
	char body[2048];
	uint8_t hdr[PROTO_FRAME_HEADER];
	size_t n = server_status(c->srv, body, sizeof(body));

	if (conn_queue(c, hdr, proto_put_status_header(hdr, (uint32_t)n)))
		conn_queue(c, body, n);
}

/* Handles one RECORD.  Returns -ENOBUFS (nothing consumed, nothing
 * counted) when the engine is full, 0 otherwise. */
static int
conn_record(struct conn *c, const uint8_t *body, size_t len, uint64_t now_us)
{
	struct server *srv = c->srv;
	struct proto_record pr;
	struct record r;
	int k;

	if (!engine_can_accept(srv->engine))
		return -ENOBUFS;
	c->recno++;
	if (proto_parse_record(body, len, &pr) < 0) {
		srv->st.refused++;
		conn_send_error(c, c->recno, PROTO_ERR_INVALID, "record does not parse");
		return 0;
	}
	if (pr.msg_len > srv->cfg->max_record) {
		srv->st.refused++;
		conn_send_error(c, c->recno, PROTO_ERR_TOO_LARGE, "record larger than max_record");
		return 0;
	}
	if (!ratelimit_allow(srv->rl, c->cred.uid, now_us)) {
		srv->st.refused++;
		conn_send_error(c, c->recno, PROTO_ERR_RATE_LIMITED,
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
	k = engine_append(srv->engine, &r);
	if (k < 0) {
		srv->st.refused++;
		conn_send_error(c, c->recno, PROTO_ERR_STORAGE, "record could not be queued");
		return 0;
	}
	c->last_seq = r.seq;
	srv->st.received++;
	return 0;
}

/* Discards the rest of a refused oversized frame. */
static size_t
conn_skip(struct conn *c, size_t pos)
{
	size_t n = c->rlen - pos;
	if (n > c->skip)
		n = (size_t)c->skip;
	c->skip -= n;
	return pos + n;
}

/* Parses as many native frames as the buffer holds.  Returns the bytes
 * consumed; stops early (leaving the rest buffered) on backpressure. */
static size_t
conn_native(struct conn *c, uint64_t now_us)
{
	size_t pos = 0;

	while (pos < c->rlen && !c->closing) {
		uint8_t type;
		uint32_t blen;
		int k;

		if (c->skip) {
			pos = conn_skip(c, pos);
			continue;
		}
		k = proto_frame_header(c->rbuf + pos, c->rlen - pos, &type, &blen);
		if (k == 0)
			break;
		if (k < 0) {
			c->srv->st.malformed++;
			conn_send_error(c, 0, PROTO_ERR_MALFORMED, "bad frame length");
			break;
		}
		if (!c->hello_done && type != PROTO_HELLO) {
			c->srv->st.malformed++;
			conn_send_error(c, 0, PROTO_ERR_MALFORMED, "expected HELLO first");
			break;
		}
		if (type == PROTO_RECORD && blen > c->srv->cfg->max_record + CONN_RECORD_OVERHEAD) {
			if (!engine_can_accept(c->srv->engine))
				break;
			c->recno++;
			c->srv->st.refused++;
			conn_send_error(c, c->recno, PROTO_ERR_TOO_LARGE,
					"record larger than max_record");
			c->skip = blen;
			pos += PROTO_FRAME_HEADER;
			continue;
		}
		if ((size_t)blen + PROTO_FRAME_HEADER > c->rcap) {
			c->srv->st.malformed++;
			conn_send_error(c, 0, PROTO_ERR_MALFORMED, "frame larger than client_buffer");
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
			if (conn_record(c, body, blen, now_us) == -ENOBUFS) {
				c->blocked = true;
				return pos;
			}
			break;
		case PROTO_STATUS_REQ:
			conn_status(c);
			break;
		default:
			c->srv->st.malformed++;
			conn_send_error(c, 0, PROTO_ERR_MALFORMED, "unknown frame type");
			break;
		}
		pos += (size_t)blen + PROTO_FRAME_HEADER;
	}
	return pos;
}

/* Syslog over a stream (RFC 6587): messages, no acknowledgements. */
static size_t
conn_syslog(struct conn *c, uint64_t now_us)
{
	size_t pos = 0;

	while (pos < c->rlen) {
		const char *msg;
		size_t mlen = 0, used = 0;
		int k;

		if (!engine_can_accept(c->srv->engine)) {
			c->blocked = true;
			break;
		}
		k = syslog_frame_next(&c->framer, (const char *)c->rbuf + pos, c->rlen - pos,
				      c->srv->cfg->max_record, &msg, &mlen, &used);
		if (k == 0 && used == 0)
			break;
		if (k == -EMSGSIZE) {
			c->srv->st.dropped_oversize++;
		} else if (k == -EBADMSG) {
			log_warning("Closing syslog stream of pid %d: bad octet count",
				    (int)c->cred.pid);
			conn_close(c, "bad octet count");
			return c->rlen;
		} else if (k > 0) {
			syslogsrv_append(c->srv, msg, mlen, &c->cred, now_us);
		}
		if (used == 0)
			break;
		pos += used;
	}
	return pos;
}

static void
conn_process(struct conn *c)
{
	size_t used;
	uint64_t now = store_now_us();

	c->blocked = false;
	used = c->kind == LISTENER_NATIVE ? conn_native(c, now) : conn_syslog(c, now);
	if (c->closing)
		return;
	if (used > 0) {
		memmove(c->rbuf, c->rbuf + used, c->rlen - used);
		c->rlen -= used;
	}
	if (c->kind == LISTENER_NATIVE) {
		conn_push_mark(c);
		conn_ack(c, engine_durable_seq(c->srv->engine));
		if (c->wlen && !c->closing)
			conn_flush(c);
	}
}

/* Reads what the socket has (up to the free buffer space) and processes
 * it.  With the engine full, the connection stops reading until resumed;
 * the kernel's socket buffer then pushes back on the client. */
static void
conn_readcb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	ssize_t n;

	if (c->rlen == c->rcap) {
		conn_process(c);
		if (!c->closing && c->blocked)
			conn_pause(c);
		return;
	}
	n = recv(fd, c->rbuf + c->rlen, c->rcap - c->rlen, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* EOF (or a half-close): what was fully received is processed,
		 * and the acks still owed are sent before closing */
		conn_process(c);
		conn_pause(c);
		c->eof = true;
		if (!c->closing && conn_flushed(c))
			conn_close(c, n == 0 ? "end of stream" : "read error");
		return;
	}
	c->rlen += (size_t)n;
	conn_process(c);
	if (!c->closing && c->blocked)
		conn_pause(c);
}

static void
conn_timeoutcb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (c->closing)
		conn_free(c);
	else
		conn_send_error(c, 0, PROTO_ERR_MALFORMED, "no HELLO within hello_timeout");
}

void
conn_pause(struct conn *c)
{
	if (c->reading) {
		event_del(c->rev);
		c->reading = false;
	}
}

/* Resumes reading; bytes left buffered on backpressure are processed
 * first. */
void
conn_resume(struct conn *c)
{
	if (c->closing)
		return;
	if (c->rlen > 0) {
		conn_process(c);
		if (c->closing || c->blocked)
			return;
	}
	if (!c->reading && !c->srv->draining && !c->eof) {
		event_add(c->rev, NULL);
		c->reading = true;
	}
}

/* At shutdown: takes what the kernel already holds for us, and processes
 * every complete frame (records sent before SIGTERM are committed). */
void
conn_drain_input(struct conn *c)
{
	conn_pause(c);
	for (;;) {
		ssize_t n;
		if (c->closing)
			return;
		if (c->rlen < c->rcap) {
			n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, MSG_DONTWAIT);
			if (n > 0)
				c->rlen += (size_t)n;
		} else {
			n = 1;
		}
		size_t before = c->rlen;
		conn_process(c);
		if (c->closing || c->blocked || n <= 0 || c->rlen == before)
			return;
	}
}
