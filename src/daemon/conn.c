/* One stream connection: the native protocol (docs/protocol.md) or a
 * syslog stream (RFC 6587).  This file: its life (new, close, free), the
 * socket's reads into the read buffer and what is done with them, and the
 * output queue.  The input's frames are conn_frame.c's, the acks and
 * CONTROL conn_ack.c's.  See conn.h for the host interface and the
 * lifetime. */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cleanup.h"
#include "conn.h"
#include "conn_internal.h"
#include "engine.h"
#include "log.h"
#include "proto.h"
#include "syslogmsg.h"

static void conn_readcb(evutil_socket_t fd, short what, void *arg);
static void conn_writecb(evutil_socket_t fd, short what, void *arg);
static void conn_timeoutcb(evutil_socket_t fd, short what, void *arg);

uint64_t
conn_now_us(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void
conn_set_waiting(struct conn *c, bool on)
{
	if (c->waiting == on)
		return;
	c->waiting = on;
	c->host->ops->wait(c->host->ctx, c->cookie, on);
}

/* The connection's four events, those that were made. */
static void
conn_free_events(struct conn *c)
{
	struct event *evs[] = { c->rev, c->wev, c->timer, c->ctl_ev };

	for (size_t i = 0; i < ELEMENTSOF(evs); i++)
		if (evs[i])
			event_free(evs[i]);
}

void
conn_free(struct conn *c)
{
	if (!c)
		return;
	conn_set_waiting(c, false);
	conn_free_events(c);
	safe_close(c->fd);
	c->host->ops->gone(c->host->ctx, c->cookie);
	conn_buf_free(c);
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
		.framer = SYSLOG_FRAMER_INIT,
		.wlast = SIZE_MAX,
	};
	c->rev = event_new(host->base, fd, EV_READ | EV_PERSIST, conn_readcb, c);
	c->wev = event_new(host->base, fd, EV_WRITE | EV_PERSIST, conn_writecb, c);
	c->timer = evtimer_new(host->base, conn_timeoutcb, c);
	c->ctl_ev = evtimer_new(host->base, conn_ctlcb, c);
	if (!c->rev || !c->wev || !c->timer || !c->ctl_ev || event_add(c->rev, NULL) < 0) {
		safe_close(c->fd);
		conn_free_events(c);
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
	c->wlast = c->wlast != SIZE_MAX && c->wlast >= n ? c->wlast - n : SIZE_MAX;
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
void
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
			c->owes_ack = false;
			break;
		}
		conn_sent(c, (size_t)n);
	}
	conn_wbuf_empty(c);
	if (c->closing || (!c->peer_gone && (c->owes_ack || (c->wblocked && !c->pool_wait))))
		/* closing: finish; an ACK or input held back for want of
		 * reply room while replies were queued: they are out now, so
		 * go on (conn_writecb) as if the client had read them --
		 * nothing else would wake the connection */
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
	if (c->closing && c->wlen == 0) {
		conn_finish(c);
		return;
	}
	conn_ack_owed(c, false);
	if (c->wblocked && !c->pool_wait && !c->closing) {
		/* the client read: room for the replies to its input again */
		if (c->draining)
			conn_drain_input(c);
		else
			conn_resume(c);
	}
}

bool
conn_blocked(const struct conn *c)
{
	return !c->closing && (c->blocked || c->wblocked || c->pool_wait);
}

bool
conn_reading(const struct conn *c)
{
	return c->reading;
}

/* Appends one frame of n bytes to the output queue, growing it within
 * the pool (conn_buf.c).  A reply to input had its room made before the
 * frame was handled; an ACK the pool refuses replaces the unsent ACK at
 * the tail, or waits (conn_ack_owed()); what is left past the pool is the
 * final ERROR(0).  False (and the connection closing) without memory. */
static bool
conn_append(struct conn *c, const void *data, size_t n)
{
	const uint8_t *f = data;
	int r = conn_wbuf_make_room(c, n, false);

	if (r == -ENOBUFS && conn_wbuf_replace_ack(c, f, n))
		return true;
	if (r == -ENOBUFS)
		r = conn_wbuf_make_room(c, n, true);
	if (r < 0) {
		conn_close(c, "out of memory");
		return false;
	}
	c->wlast = c->wlen;
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
bool
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
	c->owes_ack = false;
	log_warning("Dropping client pid %d uid %u: it left %zu bytes of acknowledgements "
		    "unread (ack_queue_max = %llu)",
		    (int)c->cred.pid, c->cred.uid, c->wlen, (unsigned long long)max);
	c->wlen = c->whead;
	c->wlast = SIZE_MAX;
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
void
conn_error(struct conn *c, uint64_t recno, uint16_t code, const char *text)
{
	uint8_t buf[PROTO_FRAME_HEADER + PROTO_ERROR_FIXED + 256];
	size_t tl = strlen(text);

	if (tl > 256)
		tl = 256;
	if (recno == 0)
		conn_ack_owed(c, true); /* the last ACK before the last word */
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

/* Handles what the read buffer holds, then answers: one ACK for what is
 * already durable, and the replies queued on the way. */
static void
conn_process(struct conn *c)
{
	uint64_t now = conn_now_us(CLOCK_REALTIME), mono = conn_now_us(CLOCK_MONOTONIC);
	size_t used;

	c->blocked = c->wblocked = false;
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
		else if (!c->wlen)
			conn_wbuf_empty(c);
	} else if (c->eof && !c->blocked) {
		conn_close(c, "end of stream");
	}
}

/* After input was processed: stop reading while it cannot go on (a full
 * engine, a CONTROL that waits, no room for replies); a buffer full of
 * one partial frame grows, or waits for the pool; otherwise the buffer is
 * sized to what it holds (filled: the read took all the room it had). */
static void
conn_after_input(struct conn *c, bool filled)
{
	if (c->closing)
		return;
	if (c->blocked || c->ctl_verb || c->wblocked) {
		conn_pause(c);
		return;
	}
	if (c->rlen > 0 && c->rlen == c->rcap && !conn_rbuf_grow(c))
		return;
	conn_rbuf_settle(c, filled);
}

/* Reads what the socket has (up to the free buffer space) and processes
 * it.  With the engine full, the connection stops reading until resumed;
 * the kernel's socket buffer then pushes back on the client.  A closing
 * connection that waits for the peer's end of stream only discards. */
static void
conn_readcb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	size_t room;
	ssize_t n;

	if (c->closing) {
		conn_finish(c);
		return;
	}
	room = conn_rbuf_room(c);
	if (c->closing)
		return;
	if (room == 0) {
		conn_process(c);
		conn_after_input(c, true);
		return;
	}
	n = recv(fd, c->rbuf + c->rlen, room, MSG_DONTWAIT);
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
	c->rgot = true;
	conn_process(c);
	conn_after_input(c, (size_t)n == room);
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
	if (c->closing || c->pool_wait)
		return;
	if (c->rlen > 0 || c->eof) {
		conn_process(c);
		if (c->closing || c->blocked || c->ctl_verb || c->wblocked)
			return;
		if (c->rlen > 0 && c->rlen == c->rcap && !conn_rbuf_grow(c))
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
	if (c->pool_wait)
		return; /* drained once the pool serves it */
	for (;;) {
		size_t room = conn_rbuf_room(c), before;
		ssize_t n = 1;

		if (c->closing)
			return;
		if (room > 0) {
			n = recv(c->fd, c->rbuf + c->rlen, room, MSG_DONTWAIT);
			if (n > 0)
				c->rlen += (size_t)n;
		}
		before = c->rlen;
		conn_process(c);
		if (c->closing || c->blocked || c->ctl_verb || c->wblocked)
			return;
		if (c->rlen > 0 && c->rlen == c->rcap && !conn_rbuf_grow(c))
			return;
		if (n == 0 && c->rcharge) {
			/* all read: a partial frame left will never complete,
			 * and its pool memory may be what others wait for */
			conn_rbuf_discard(c);
		}
		if (n <= 0 || c->rlen == before)
			return;
	}
}
