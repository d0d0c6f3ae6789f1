/* A connection's memory: its read buffer and its output queue, sized to
 * what they hold, and charged to the daemon-wide pool (conn.h, struct
 * conn_pool) for every byte beyond the minimum each connection is always
 * allowed.  The rules (docs/design.md, "Bounded memory", has the argument):
 *
 * - The read buffer is CONN_RBUF_MIN (not charged) or client_buffer (the
 *   difference charged), nothing between: a connection that holds pool
 *   bytes can complete any frame it has begun, so it never waits for more.
 *   It grows when a read filled it (optional: refused, the connection reads
 *   on in its minimum) or when a frame does not fit (needed: refused, the
 *   connection stops reading and waits in the pool's queue, whose oldest
 *   member holds the pool's claim).  It goes back to the minimum once what
 *   is left fits there: at once while someone waits (reading no further
 *   than the frame it is in, so that happens within one frame), else at the
 *   pool's once-a-second sweep if no read filled it meanwhile.  A minimum
 *   buffer is freed when empty after a read that did not fill it.
 * - The output queue is freed whenever it is empty.  Before a frame is
 *   handled there must be room for its reply (conn_wbuf_room()): refused,
 *   the connection stops taking input until the client reads or the pool
 *   has room.  A CONTROL that waits keeps the room of its CONTROL_DONE
 *   (wreserve).  An ACK that finds no room replaces the unsent ACK at the
 *   tail (ACKs are cumulative) or waits, owed, for the client to read.  Only
 *   the final ERROR(0) of a connection is charged by force, past the
 *   limit: one frame per connection, and the connection closes. */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "conn_internal.h"
#include "log.h"
#include "membudget.h"
#include "proto.h"

struct conn_pool {
	struct membudget b;
	struct event *ev;	  /* serves the queue, from the loop */
	struct event *sweep_ev;	  /* shrinks idle full read buffers, every second */
	struct conn *head, *tail; /* waiting for memory, oldest first */
	struct conn *big;	  /* connections with a full read buffer */
	uint64_t waits;		  /* connections that had to wait */
	uint64_t stalled;	  /* closed for frame_timeout */
	unsigned status_slots;	  /* STATUS replies queued past the limit */
};

static void conn_pool_servecb(evutil_socket_t fd, short what, void *arg);
static void conn_pool_sweepcb(evutil_socket_t fd, short what, void *arg);

int
conn_pool_new(struct event_base *base, uint64_t limit, struct conn_pool **ret)
{
	struct conn_pool *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	membudget_init(&p->b, limit);
	p->ev = event_new(base, -1, 0, conn_pool_servecb, p);
	p->sweep_ev = event_new(base, -1, EV_PERSIST, conn_pool_sweepcb, p);
	if (!p->ev || !p->sweep_ev) {
		conn_pool_free(p);
		return -ENOMEM;
	}
	*ret = p;
	return 0;
}

struct conn_pool *
conn_pool_free(struct conn_pool *p)
{
	if (!p)
		return NULL;
	if (p->ev)
		event_free(p->ev);
	if (p->sweep_ev)
		event_free(p->sweep_ev);
	free(p);
	return NULL;
}

void
conn_pool_set_limit(struct conn_pool *p, uint64_t limit)
{
	membudget_set_limit(&p->b, limit);
	if (membudget_claim_fits(&p->b))
		event_active(p->ev, EV_TIMEOUT, 0);
}

void
conn_pool_get_stats(const struct conn_pool *p, struct conn_pool_stats *ret)
{
	*ret = (struct conn_pool_stats){
		.limit = p->b.limit,
		.used = p->b.used,
		.peak = p->b.peak,
		.refused = p->b.refused,
		.forced = p->b.forced,
		.waits = p->waits,
		.stalled = p->stalled,
		.waiting = p->head != NULL,
	};
}

/* --- charging ------------------------------------------------------------ */

static bool
conn_charge(struct conn *c, size_t n)
{
	return !c->host->pool || membudget_charge(&c->host->pool->b, c, n);
}

static void
conn_release(struct conn *c, size_t n)
{
	struct conn_pool *p = c->host->pool;

	if (p && n && membudget_release(&p->b, n))
		event_active(p->ev, EV_TIMEOUT, 0);
}

static bool
conn_claimed(const struct conn *c)
{
	return c->host->pool && membudget_claimed(&c->host->pool->b);
}

/* Resizes *buf from cap to ncap, the charge for what is beyond min moving
 * with it (force: past the pool's limit).  -ENOBUFS: the pool refused;
 * -ENOMEM. */
static int
conn_resize(struct conn *c, uint8_t **buf, size_t *cap, size_t *charge, size_t min, size_t ncap,
	    bool force)
{
	size_t want = ncap > min ? ncap - min : 0;
	uint8_t *nb;

	if (want > *charge && force && c->host->pool)
		membudget_force(&c->host->pool->b, want - *charge);
	else if (want > *charge && !conn_charge(c, want - *charge))
		return -ENOBUFS;
	nb = ncap ? realloc(*buf, ncap) : (free(*buf), NULL);
	if (ncap && !nb) {
		if (want > *charge)
			conn_release(c, want - *charge);
		return -ENOMEM;
	}
	if (want < *charge)
		conn_release(c, *charge - want);
	*buf = nb;
	*cap = ncap;
	*charge = want;
	return 0;
}

/* --- full read buffers ---------------------------------------------------- */

/* Resizes the read buffer (the only place that does), keeping the pool's
 * list of full ones. */
static int
conn_rbuf_resize(struct conn *c, size_t ncap)
{
	struct conn_pool *p = c->host->pool;
	int r = conn_resize(c, &c->rbuf, &c->rcap, &c->rcharge, CONN_RBUF_MIN, ncap, false);

	if (r < 0 || !p || (c->rcap > CONN_RBUF_MIN) == c->rbig)
		return r;
	c->rbig = !c->rbig;
	if (c->rbig) {
		c->big_prev = NULL;
		c->big_next = p->big;
		if (p->big)
			p->big->big_prev = c;
		p->big = c;
		if (!c->big_next)
			event_add(p->sweep_ev, &(struct timeval){ CONN_SWEEP_SEC, 0 });
		return 0;
	}
	if (c->big_prev)
		c->big_prev->big_next = c->big_next;
	else
		p->big = c->big_next;
	if (c->big_next)
		c->big_next->big_prev = c->big_prev;
	c->big_prev = c->big_next = NULL;
	if (!p->big)
		event_del(p->sweep_ev);
	return 0;
}

/* A sweep's look at a full read buffer that holds an unfinished frame:
 * true once no byte came for frame_timeout (in whole sweeps) while the
 * connection reads, i.e. waits for its client, not for the engine or the
 * pool. */
static bool
conn_stall_tick(struct conn *c)
{
	uint64_t timeout = c->host->cfg->frame_timeout_us;

	if (c->rgot || !c->reading || c->closing || !c->rlen) {
		c->rstall = 0;
		return false;
	}
	c->rstall++;
	return timeout && (uint64_t)c->rstall * CONN_SWEEP_SEC * 1000000 >= timeout;
}

/* Takes a stalled connection's pool memory back while others wait for it:
 * the connection ends (native: ERROR(0, stalled)), the unfinished frame it
 * never completed is discarded, and its buffer is given back now. */
static void
conn_cut_stalled(struct conn_pool *p, struct conn *c)
{
	char why[200];
	size_t held = c->rlen;

	snprintf(why, sizeof(why), "no byte of an unfinished %s for frame_timeout (%llu ms) "
		 "while other clients wait for memory", c->proto == CONN_NATIVE ? "frame" : "line",
		 (unsigned long long)(c->host->cfg->frame_timeout_us / 1000));
	log_warning("Closing %s of pid %d: %s; its %zu bytes are discarded",
		    c->proto == CONN_NATIVE ? "connection" : "syslog stream", (int)c->cred.pid, why,
		    held);
	p->stalled++;
	conn_end(c, PROTO_ERR_STALLED, why);
	c->rlen = 0;
	(void)conn_rbuf_resize(c, 0);
}

/* Every second: a full read buffer that no read filled since the last
 * sweep goes back to the minimum, if what it holds fits there (or is
 * freed, empty), so a burst does not leave idle clients holding pool
 * memory; a busy connection keeps its buffer between sweeps, and does not
 * pay for growing and shrinking it at every read.  One that holds an
 * unfinished frame with no byte for frame_timeout is cut while someone
 * waits for the pool: a few stalled clients cannot keep large records
 * out for ever (alone, holding harms nobody, and it is left be). */
static void
conn_pool_sweepcb(evutil_socket_t fd, short what, void *arg)
{
	struct conn_pool *p = arg;

	for (struct conn *c = p->big, *next; c; c = next) {
		next = c->big_next;
		if (!c->rbusy && !c->closing && c->rlen <= CONN_RBUF_MIN) {
			(void)conn_rbuf_resize(c, c->rlen ? CONN_RBUF_MIN : 0);
		} else if (conn_stall_tick(c) && p->head) {
			conn_cut_stalled(p, c);
			continue;
		}
		c->rbusy = c->rgot = false;
	}
}

/* --- the queue of waiters ---------------------------------------------- */

/* c stops until the pool can give it what it wants (want_rcap, want_wroom):
 * it joins the queue (the first in it holds the claim). */
static void
conn_pool_wait(struct conn *c, size_t need)
{
	struct conn_pool *p = c->host->pool;

	conn_pause(c);
	if (c->pool_wait)
		return;
	c->pool_wait = true;
	c->pool_next = NULL;
	c->pool_prev = p->tail;
	if (p->tail)
		p->tail->pool_next = c;
	else
		p->head = c;
	p->tail = c;
	p->waits++;
	c->pool_need = need;
	if (p->head == c)
		membudget_claim(&p->b, c, need);
}

void
conn_pool_leave(struct conn *c)
{
	struct conn_pool *p = c->host->pool;

	if (!c->pool_wait)
		return;
	if (c->pool_prev)
		c->pool_prev->pool_next = c->pool_next;
	else
		p->head = c->pool_next;
	if (c->pool_next)
		c->pool_next->pool_prev = c->pool_prev;
	else
		p->tail = c->pool_prev;
	c->pool_wait = false;
	c->pool_prev = c->pool_next = NULL;
	membudget_unclaim(&p->b, c);
	if (p->head && !membudget_claimed(&p->b))
		membudget_claim(&p->b, p->head, p->head->pool_need);
	if (membudget_claim_fits(&p->b))
		event_active(p->ev, EV_TIMEOUT, 0);
}

/* Gives the first waiter what it waits for (as the claimant), then lets it
 * go on: resumed, or drained if the daemon is stopping. */
static bool
conn_pool_retry(struct conn *c)
{
	int r = 0;

	if (c->want_rcap > c->rcap)
		r = conn_rbuf_resize(c, c->want_rcap);
	if (r == 0 && c->want_wroom > c->wcap - c->wlen)
		r = conn_resize(c, &c->wbuf, &c->wcap, &c->wcharge, CONN_WBUF_MIN,
				c->wlen + c->want_wroom, false);
	if (r == -ENOBUFS)
		return false;
	c->want_rcap = c->want_wroom = 0;
	conn_pool_leave(c);
	if (r < 0)
		conn_close(c, "out of memory");
	else if (c->draining)
		conn_drain_input(c);
	else
		conn_resume(c);
	return true;
}

static void
conn_pool_servecb(evutil_socket_t fd, short what, void *arg)
{
	struct conn_pool *p = arg;

	while (p->head && membudget_claim_fits(&p->b))
		if (!conn_pool_retry(p->head))
			break;
}

/* --- the read buffer ------------------------------------------------------ */

static size_t
conn_rbuf_big(const struct conn *c)
{
	size_t big = c->host->cfg->client_buffer;

	return big > CONN_RBUF_MIN ? big : CONN_RBUF_MIN;
}

/* The bytes to read now: the free space, a minimum buffer allocated if
 * there is none (0 after an allocation failure, the connection closing).
 * While someone waits for pool memory a native connection holding some
 * reads no further than the end of the frame it is in, so that it reaches
 * a frame boundary, and gives its memory back, within one frame. */
size_t
conn_rbuf_room(struct conn *c)
{
	size_t room;
	uint32_t blen;
	uint8_t type;

	if (!c->rcap && conn_rbuf_resize(c, CONN_RBUF_MIN) < 0) {
		conn_close(c, "out of memory");
		return 0;
	}
	room = c->rcap - c->rlen;
	if (c->proto != CONN_NATIVE || !c->rcharge || c->skip || !conn_claimed(c))
		return room;
	if (c->rlen < PROTO_FRAME_HEADER)
		return PROTO_FRAME_HEADER - c->rlen;
	if (proto_frame_header(c->rbuf, c->rlen, &type, &blen) <= 0 ||
	    (size_t)blen + PROTO_FRAME_HEADER <= c->rlen)
		return room;
	return (size_t)blen + PROTO_FRAME_HEADER - c->rlen < room
		       ? (size_t)blen + PROTO_FRAME_HEADER - c->rlen : room;
}

/* The buffer is full and what it holds is no whole frame: it must grow to
 * client_buffer.  False if it waits for the pool (reading stopped). */
bool
conn_rbuf_grow(struct conn *c)
{
	size_t big = conn_rbuf_big(c);
	int r;

	if (c->rcap >= big)
		return true;
	r = conn_rbuf_resize(c, big);
	if (r == 0)
		return true;
	if (r == -ENOBUFS) {
		c->want_rcap = big;
		conn_pool_wait(c, big - CONN_RBUF_MIN - c->rcharge);
	} else {
		conn_close(c, "out of memory");
	}
	return false;
}

/* After the buffer was processed: a read that filled it grows it if the
 * pool has room.  A full buffer goes back to the minimum at once while
 * someone waits for memory, once what is left fits there; otherwise the
 * sweep does it when reads stop filling it.  A minimum buffer is freed when
 * empty after a read that did not fill it. */
void
conn_rbuf_settle(struct conn *c, bool filled)
{
	if (c->closing || c->pool_wait)
		return;
	c->rbusy |= filled;
	if (filled && !conn_claimed(c) && c->rcap < conn_rbuf_big(c))
		(void)conn_rbuf_resize(c, conn_rbuf_big(c));
	else if (c->rcap > CONN_RBUF_MIN && c->rlen <= CONN_RBUF_MIN && conn_claimed(c))
		(void)conn_rbuf_resize(c, c->rlen ? CONN_RBUF_MIN : 0);
	else if (c->rcap == CONN_RBUF_MIN && c->rlen == 0 && !filled)
		(void)conn_rbuf_resize(c, 0);
}

/* --- the output queue ------------------------------------------------------ */

/* Room for n more bytes in the queue (force: charged past the pool's
 * limit).  0, -ENOBUFS (refused), -ENOMEM. */
int
conn_wbuf_make_room(struct conn *c, size_t n, bool force)
{
	size_t ncap;

	n += c->wreserve;
	if (c->wcap - c->wlen >= n)
		return 0;
	if (force) {
		ncap = c->wlen + n; /* no more than the frame needs */
	} else {
		ncap = c->wcap ? c->wcap : CONN_WBUF_MIN;
		while (ncap < c->wlen + n)
			ncap *= 2;
	}
	return conn_resize(c, &c->wbuf, &c->wcap, &c->wcharge, CONN_WBUF_MIN, ncap, force);
}

/* Room for a reply of up to n bytes before a frame is handled.  False:
 * the connection stops taking input (wblocked) until the client has read
 * (conn_writecb) or, with nothing queued, until the pool has room. */
bool
conn_wbuf_room(struct conn *c, size_t n)
{
	int r;

	if (c->peer_gone)
		return true;
	r = conn_wbuf_make_room(c, n, false);
	if (r == 0)
		return true;
	if (r == -ENOMEM) {
		conn_close(c, "out of memory");
		return false;
	}
	c->wblocked = true;
	if (c->wlen == 0) {
		/* nothing for the client to read: wait for the pool */
		size_t want = n + c->wreserve > CONN_WBUF_MIN ? n + c->wreserve - CONN_WBUF_MIN : 0;
		c->want_wroom = n + c->wreserve;
		conn_pool_wait(c, want > c->wcharge ? want - c->wcharge : 0);
	}
	return false;
}

/* Room for a STATUS reply of up to n bytes: from the pool, or, when the
 * pool refuses and nothing is queued, charged past its limit in one of
 * CONN_STATUS_SLOTS, so that `seglog status` answers while stalled or
 * waiting connections hold the pool (a full disk; a hostile test found it
 * waiting for ever).  The slot comes back when the queue empties; the
 * bound counts CONN_STATUS_SLOTS replies (docs/design.md). */
bool
conn_wbuf_status_room(struct conn *c, size_t n)
{
	struct conn_pool *p = c->host->pool;
	int r;

	if (!p || c->peer_gone || c->wlen || c->status_slot || p->status_slots >= CONN_STATUS_SLOTS)
		return conn_wbuf_room(c, n);
	r = conn_wbuf_make_room(c, n, false);
	if (r == -ENOBUFS) {
		r = conn_wbuf_make_room(c, n, true);
		if (r == 0) {
			c->status_slot = true;
			p->status_slots++;
		}
	}
	if (r < 0) {
		conn_close(c, "out of memory");
		return false;
	}
	return true;
}

static void
conn_status_slot_back(struct conn *c)
{
	if (c->status_slot && c->host->pool) {
		c->status_slot = false;
		c->host->pool->status_slots--;
	}
}

/* A refused ACK replaces the unsent ACK at the tail of the queue, if there
 * is one (ACKs are cumulative: the newer says all the older did). */
bool
conn_wbuf_replace_ack(struct conn *c, const uint8_t *frame, size_t n)
{
	if (n != PROTO_ACK_LEN || frame[4] != PROTO_ACK || c->wlast == SIZE_MAX ||
	    c->wlast < c->whead || c->wlast + n != c->wlen || c->wbuf[c->wlast + 4] != PROTO_ACK)
		return false;
	memcpy(c->wbuf + c->wlast, frame, n);
	return true;
}

/* The queue is empty: its memory goes back. */
void
conn_wbuf_empty(struct conn *c)
{
	if (c->wlen)
		return;
	conn_status_slot_back(c);
	c->wlast = SIZE_MAX;
	if (c->wcap && !c->wreserve)
		(void)conn_resize(c, &c->wbuf, &c->wcap, &c->wcharge, CONN_WBUF_MIN, 0, false);
}

/* SIGTERM, everything read: what is left is a frame that can no longer
 * complete; its memory goes back (others may wait for it). */
void
conn_rbuf_discard(struct conn *c)
{
	c->rlen = 0;
	(void)conn_rbuf_resize(c, 0);
}

/* conn_free(): every byte back, out of the lists. */
void
conn_buf_free(struct conn *c)
{
	conn_pool_leave(c);
	conn_status_slot_back(c);
	c->rlen = 0;
	(void)conn_rbuf_resize(c, 0);
	(void)conn_resize(c, &c->wbuf, &c->wcap, &c->wcharge, CONN_WBUF_MIN, 0, false);
	c->wlen = 0;
}
