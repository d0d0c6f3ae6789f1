/* The commit engine (engine.h): the pending queue of chunks that
 * engine_append() encodes records into, backpressure on memory_limit,
 * the marks that seal current after a chunk (size, age, rotate), sync
 * requests, the once-a-second tick, and the engine's life and death.  The
 * commit request itself is engine_commit.c's. */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "ackaudit.h"
#include "engine_internal.h"
#include "log.h"
#include "now.h"

enum {
	ENGINE_GRACE_US = 1000000,  /* engine_free: wait, cancel, wait again */
};

/* An engine whose requests never completed: the kernel may still write
 * into it, so it is never freed; kept reachable for leak checkers. */
static struct engine *engine_abandoned;

#ifdef SEGLOG_ACK_AUDIT
struct ack_audit *
engine_ack_audit(struct engine *e)
{
	return e ? &e->audit : NULL;
}
#endif

/* Segment age runs on the monotonic clock; after a restart it starts from
 * the header's wall-clock creation time, converted once. */
void
engine_segment_started(struct engine *e, bool from_header)
{
	int64_t now = (int64_t)now_us(CLOCK_MONOTONIC), age = 0;
	uint64_t created = store_cur_created_us(e->store), wall = store_now_us();

	if (from_header && created && wall > created)
		age = (int64_t)(wall - created);
	e->seg_start = now - age;
	e->age_marked = false;
}

static void
engine_kick(struct engine *e)
{
	if (!e->kicked && !e->closing) {
		e->kicked = true;
		event_active(e->kick_ev, EV_TIMEOUT, 0);
	}
}

static void
engine_kickcb(evutil_socket_t fd, short what, void *arg)
{
	struct engine *e = arg;
	e->kicked = false;
	engine_pump(e);
}

static struct chunk *
engine_chunk_new(struct engine *e, bool marker)
{
	size_t cap = marker ? 0 : e->chunk_cap;
	struct chunk *c = NULL;

	if (!marker && e->spare)
		c = TAKE_PTR(e->spare);
	else if (!(c = malloc(sizeof(*c) + cap)))
		return NULL;
	memset(c, 0, sizeof(*c));
	c->cap = cap;
	return c;
}

static void
engine_chunk_release(struct engine *e, struct chunk *c)
{
	if (!e->spare && c->cap == e->chunk_cap)
		e->spare = c;
	else
		free(c);
}

void
engine_chunk_pop(struct engine *e)
{
	struct chunk *c = e->head;

	e->head = c->next;
	if (!e->head)
		e->tail = NULL;
	engine_chunk_release(e, c);
}

/* Stop when pending bytes come within two maximal lines of memory_limit;
 * go again once under half of it (and out of that margin).  Evaluated
 * whenever pending bytes or the limit change, so a caller that met
 * -ENOBUFS or !engine_can_accept() always gets its pressure(false). */
void
engine_update_pressure(struct engine *e)
{
	uint64_t p = e->st.pending_bytes, lim = e->cfg.memory_limit, margin = 2 * e->max_line;

	if (!e->pressured && p + margin > lim) {
		e->pressured = true;
		if (e->cb.pressure)
			e->cb.pressure(e->userdata, true);
	} else if (e->pressured && p + margin <= lim && p <= lim / 2) {
		e->pressured = false;
		if (e->cb.pressure)
			e->cb.pressure(e->userdata, false);
	}
}

/* Closes the tail to appends and marks it so current is sealed once it is
 * durable.  With nothing queued it seals at once, or, while a repair, a
 * seal step or a backoff is pending, queues a seal request of its own
 * (run from the pump, never under a commit or a repair). */
static void
engine_mark_seal(struct engine *e)
{
	e->seg_bytes = RECORD_HEADER_MAX;
	e->seg_records = 0;
	if (!e->tail && !e->retry_scheduled && !store_repair_pending(e->store) &&
	    !store_seal_pending(e->store)) {
		engine_seal(e);
		return;
	}
	if (!e->tail) {
		struct chunk *c = engine_chunk_new(e, true);
		if (!c)
			return; /* out of memory: the next trigger tries again */
		e->head = e->tail = c;
	}
	e->tail->seal_after = true;
	e->tail->closed = true;
}

int
engine_append(struct engine *e, struct record *r)
{
	struct chunk *t;
	size_t max, n;

	if (r->msg_len + r->sd_len > e->cfg.max_record || r->tag_len > RECORD_TAG_MAX ||
	    r->hostname_len > RECORD_HOST_MAX || r->msgid_len > RECORD_MSGID_MAX)
		return -EMSGSIZE;
	if (e->st.pending_bytes + e->max_line > e->cfg.memory_limit) {
		engine_update_pressure(e); /* promises the pressure(false) */
		return -ENOBUFS;
	}
	max = record_size_max(r);
	if (e->seg_records > 0 && e->seg_bytes + max > e->cfg.segment_size)
		engine_mark_seal(e);
	t = e->tail;
	if (!t || t->closed || t->len + max > t->cap || t->len >= e->write_max) {
		struct chunk *c = engine_chunk_new(e, false);
		if (!c)
			return -ENOMEM;
		if (t)
			t->next = c;
		else
			e->head = c;
		e->tail = t = c;
	}
	r->seq = store_take_seq(e->store);
	n = record_encode(r, t->buf + t->len);
	if (t->records == 0)
		t->first_seq = r->seq;
	t->last_seq = r->seq;
	t->records++;
	t->len += n;
	e->seg_bytes += n;
	e->seg_records++;
	e->st.pending_bytes += n;
	engine_update_pressure(e);
	engine_kick(e);
	return 0;
}

/* A seal is on its way: marked on a queued chunk, or half done. */
static bool
engine_seal_queued(const struct engine *e)
{
	for (const struct chunk *c = e->head; c; c = c->next)
		if (c->seal_after)
			return true;
	return store_seal_pending(e->store);
}

bool
engine_rotate(struct engine *e)
{
	if (e->seg_records == 0 && store_cur_records(e->store) == 0) {
		/* a seal already marked covers every record received: it is the
		 * one to wait for (found by a hostile test: a second rotate said
		 * "nothing to seal" with records still in current) */
		if (engine_seal_queued(e))
			return true;
		log_info("Nothing to seal: %s/current holds no records", store_path(e->store));
		return false;
	}
	engine_mark_seal(e);
	engine_kick(e);
	return true;
}

void
engine_request_sync(struct engine *e)
{
	struct chunk *c;

	if (e->cfg.durability != CFG_DURABILITY_FSYNC || e->synced_seq >= e->durable_seq)
		return; /* what is queued gets its own fdatasync, or there is nothing to do */
	c = engine_chunk_new(e, true);
	if (!c)
		return; /* out of memory: the next commit syncs it all the same */
	c->closed = true;
	c->sync_request = true;
	if (e->tail)
		e->tail->next = c;
	else
		e->head = c;
	e->tail = c;
	engine_kick(e);
}

uint64_t
engine_synced_seq(const struct engine *e)
{
	return e->synced_seq;
}

bool
engine_sealed_through(const struct engine *e, uint64_t seq)
{
	return store_cur_first_seq(e->store) > seq && !store_seal_pending(e->store);
}

/* Once a second: segment age, and the time-based retention rules, both
 * on the monotonic clock (a clock step neither seals nor stalls). */
static void
engine_tickcb(evutil_socket_t fd, short what, void *arg)
{
	struct engine *e = arg;
	uint64_t now = now_us(CLOCK_MONOTONIC);

	if (e->cfg.segment_age_us && !e->age_marked && e->seg_records > 0 &&
	    (int64_t)now - e->seg_start >= (int64_t)e->cfg.segment_age_us) {
		e->age_marked = true;
		engine_mark_seal(e);
		engine_kick(e);
	}
	if (now - e->last_retention >= e->cfg.retention_interval_us) {
		e->last_retention = now;
		(void)store_retention(e->store, store_now_us());
	}
	if (store_check_watermark(e->store))
		engine_wm_publish(e);
}

static void
engine_apply_config(struct engine *e, const struct engine_config *cfg)
{
	e->cfg = *cfg;
	if (!e->cfg.retention_interval_us)
		e->cfg.retention_interval_us = 60 * 1000000u;
	e->max_line = record_line_max(RECORD_TAG_MAX, cfg->max_record);
	e->write_max = cfg->batch_max < STORE_WRITE_MAX ? cfg->batch_max : STORE_WRITE_MAX;
	if (e->write_max < 4096)
		e->write_max = 4096;
}

int
engine_new(struct event_base *base, const struct ring_ops *io, struct store *store,
	   const struct engine_config *cfg, const struct engine_callbacks *cb, void *userdata,
	   struct engine **ret)
{
	_cleanup_(engine_freep) struct engine *e = calloc(1, sizeof(*e));
	struct timeval sec = { 1, 0 };

	if (!e)
		return -ENOMEM;
	e->base = base;
	e->io = io;
	e->store = store;
	e->cb = *cb;
	e->userdata = userdata;
	e->cm.write_req.done = engine_write_donecb;
	e->cm.sync_req.done = engine_sync_donecb;
	engine_apply_config(e, cfg);
	/* chunk capacity is fixed for the engine's life: the largest line
	 * the hard limits allow must fit after write_max bytes */
	e->chunk_cap = STORE_WRITE_MAX + record_line_max(RECORD_TAG_MAX, 1 << 20);
	e->seg_bytes = store_cur_size(store);
	e->seg_records = store_cur_records(store);
	/* not next_seq - 1 while recovery is unfinished: records recovered
	 * from the page cache after a crash are durable only after its fsync */
	e->durable_seq = store_durable_seq(store);
	e->synced_seq = e->durable_seq; /* recovery syncs what it keeps */
	e->last_retention = now_us(CLOCK_MONOTONIC);
	engine_segment_started(e, true);
	ack_audit_open(&e->audit);
	ack_audit_segment(&e->audit, store_cur_size(store));
	e->audit.audited_seq = e->durable_seq; /* recovered: on disk before this start */
	e->io = ack_audit_wrap_ring(&e->audit, io);
	e->kick_ev = event_new(base, -1, 0, engine_kickcb, e);
	e->retry_ev = evtimer_new(base, engine_retrycb, e);
	e->tick_ev = event_new(base, -1, EV_PERSIST, engine_tickcb, e);
	if (!e->kick_ev || !e->retry_ev || !e->tick_ev || event_add(e->tick_ev, &sec) < 0)
		return -ENOMEM;
	if (store_repair_pending(store))
		engine_pump(e); /* reports the storage error and starts the retries */
	*ret = TAKE_PTR(e);
	return 0;
}

void
engine_reconfigure(struct engine *e, const struct engine_config *cfg)
{
	engine_apply_config(e, cfg);
	engine_update_pressure(e);
	engine_kick(e);
}

static unsigned
engine_outstanding(const struct engine *e)
{
	return e->cm.chunk ? e->cm.pending : 0;
}

static void
engine_cancel_all(struct engine *e)
{
	if (e->cm.chunk && e->cm.len && !e->cm.write_done)
		(void)e->io->cancel(e->io->ctx, &e->cm.write_req);
	if (e->cm.chunk && e->cm.sync && !e->cm.sync_done)
		(void)e->io->cancel(e->io->ctx, &e->cm.sync_req);
}

/* Waits for the engine's own requests (their buffers are in this object):
 * ENGINE_GRACE_US, then cancels them and waits as long again. */
static bool
engine_quiesce(struct engine *e)
{
	for (int round = 0; round < 2 && engine_outstanding(e); round++) {
		uint64_t deadline = now_us(CLOCK_MONOTONIC) + ENGINE_GRACE_US;
		if (round == 1)
			engine_cancel_all(e);
		for (uint64_t now; engine_outstanding(e) && (now = now_us(CLOCK_MONOTONIC)) < deadline;) {
			int k = e->io->wait(e->io->ctx, deadline - now);
			if (k < 0 && k != -ETIME && k != -EINTR && k != -EAGAIN && k != -EBUSY)
				break;
		}
	}
	return engine_outstanding(e) == 0;
}

static void
engine_free_events(struct engine *e)
{
	ack_audit_close(&e->audit);
	if (e->kick_ev)
		event_free(e->kick_ev);
	if (e->retry_ev)
		event_free(e->retry_ev);
	if (e->tick_ev)
		event_free(e->tick_ev);
	e->kick_ev = e->retry_ev = e->tick_ev = NULL;
}

struct engine *
engine_free(struct engine *e)
{
	if (!e)
		return NULL;
	e->closing = true;
	if (e->io && !engine_quiesce(e)) {
		log_error("%u I/O request(s) of the commit engine did not complete or cancel "
			  "within %u ms (a hung disk?); leaving them, and the memory they use, to "
			  "the kernel",
			  engine_outstanding(e), 2 * ENGINE_GRACE_US / 1000);
		engine_free_events(e);
		e->next_abandoned = engine_abandoned;
		engine_abandoned = e;
		return NULL;
	}
	engine_free_events(e);
	while (e->head)
		engine_chunk_pop(e);
	free(e->spare);
	free(e);
	return NULL;
}

bool
engine_can_accept(const struct engine *e)
{
	return e->st.pending_bytes + e->max_line <= e->cfg.memory_limit;
}

/* Nothing in flight and no record queued (a queued seal request alone
 * does not hold a shutdown). */
bool
engine_idle(const struct engine *e)
{
	if (e->cm.chunk)
		return false;
	for (const struct chunk *c = e->head; c; c = c->next)
		if (c->len)
			return false;
	return true;
}

uint64_t
engine_durable_seq(const struct engine *e)
{
	return e->durable_seq;
}

int
engine_error(const struct engine *e)
{
	return e->error;
}

const struct engine_stats *
engine_stats(const struct engine *e)
{
	return &e->st;
}

uint64_t
engine_latency_percentile(const struct engine *e, unsigned p)
{
	uint64_t total = 0, seen = 0;

	for (int i = 0; i < 32; i++)
		total += e->st.lat_hist[i];
	if (!total)
		return 0;
	for (int i = 0; i < 32; i++) {
		seen += e->st.lat_hist[i];
		if (seen * 100 >= total * p)
			return (uint64_t)2 << i;
	}
	return UINT64_MAX;
}
