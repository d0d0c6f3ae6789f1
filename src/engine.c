#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "ackaudit.h"
#include "log.h"

/* One batch: encoded lines for one write at the end of current. */
struct chunk {
	struct chunk *next;
	size_t len;
	size_t cap;
	size_t written;	  /* bytes of this chunk already written */
	uint64_t offset;  /* file offset of buf[0] in current, once started */
	uint64_t first_seq;
	uint64_t last_seq;
	uint64_t records;
	uint64_t started; /* monotonic µs of the first submission */
	bool closed;	  /* no more appends: in flight or sealed after */
	bool seal_after;  /* seal current once this chunk is durable */
	char buf[];
};

struct engine {
	struct event_base *base;
	struct ring *ring;
	struct store *store;
	struct engine_config cfg;
	struct engine_callbacks cb;
	void *userdata;

	struct chunk *head, *tail, *spare;
	size_t chunk_cap;
	size_t write_max;
	size_t max_line;
	uint64_t seg_bytes;   /* projected size of the segment being filled */
	uint64_t seg_records; /* records queued or committed into it */

	bool inflight, write_done, sync_done, sync_only;
	int write_res, sync_res;
	struct ring_req write_req, sync_req;

	struct event *kick_ev, *retry_ev, *tick_ev;
	bool kicked, pressured, retry_scheduled, age_marked, closing;
	int error;
	unsigned backoff_ms;
	uint64_t durable_seq;
	uint64_t last_retention_us;
	struct engine_stats st;
	struct ack_audit audit; /* --enable-ack-audit only */
};

static void engine_pump(struct engine *e);

static uint64_t
engine_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void
engine_kick(struct engine *e)
{
	if (!e->kicked) {
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
engine_chunk_new(struct engine *e)
{
	struct chunk *c = e->spare;

	if (c)
		e->spare = NULL;
	else if (!(c = malloc(sizeof(*c) + e->chunk_cap)))
		return NULL;
	memset(c, 0, sizeof(*c));
	c->cap = e->chunk_cap;
	return c;
}

static void
engine_chunk_release(struct engine *e, struct chunk *c)
{
	if (!e->spare)
		e->spare = c;
	else
		free(c);
}

/* Storage trouble: report it once, free space if retention allows, and
 * retry with exponential backoff (100 ms .. 5 s). */
static void
engine_fail(struct engine *e, int err)
{
	struct timeval tv;

	e->st.errors++;
	if (e->error != err) {
		log_error_errno(err, "Commits to %s/current are failing: %m; holding "
				"acknowledgements and retrying",
				e->store->path);
		e->error = err;
		if (e->cb.storage_error)
			e->cb.storage_error(e->userdata, err);
	}
	(void)store_retention(e->store, store_now_us());
	e->backoff_ms = e->backoff_ms ? e->backoff_ms * 2 : 100;
	if (e->backoff_ms > 5000)
		e->backoff_ms = 5000;
	tv.tv_sec = e->backoff_ms / 1000;
	tv.tv_usec = (e->backoff_ms % 1000) * 1000;
	e->retry_scheduled = true;
	event_add(e->retry_ev, &tv);
}

static void
engine_retrycb(evutil_socket_t fd, short what, void *arg)
{
	struct engine *e = arg;
	e->retry_scheduled = false;
	engine_pump(e);
}

static void
engine_recovered(struct engine *e)
{
	if (!e->error)
		return;
	log_notice("Commits to %s/current work again", e->store->path);
	e->error = 0;
	e->backoff_ms = 0;
	if (e->cb.storage_error)
		e->cb.storage_error(e->userdata, 0);
}

static void
engine_seal(struct engine *e)
{
	uint64_t first = e->store->cur_hdr.first_seq;
	int r = store_seal(e->store, store_now_us());
	if (r < 0) {
		engine_fail(e, r);
		return;
	}
	if (e->store->cur_hdr.first_seq != first)
		ack_audit_segment(&e->audit, e->store->cur_size);
	e->age_marked = false;
	(void)store_retention(e->store, store_now_us());
}

static void
engine_record_latency(struct engine *e, uint64_t us)
{
	unsigned b = 0;
	while (b < 31 && (us >> (b + 1)))
		b++;
	e->st.lat_hist[b]++;
}

/* The head chunk is durable: account for it, tell the caller, go on. */
static void
engine_commit_done(struct engine *e)
{
	struct chunk *c = e->head;
	bool seal = c->seal_after;
	uint64_t c_last_seq = c->last_seq, c_end = c->offset + c->len;

	e->store->cur_size += c->len;
	e->store->cur_records += c->records;
	e->durable_seq = c->last_seq;
	e->st.records += c->records;
	e->st.bytes += c->len;
	e->st.commits++;
	if (e->cfg.durability == CFG_DURABILITY_FSYNC)
		e->st.fsyncs++;
	e->st.pending_bytes -= c->len;
	engine_record_latency(e, engine_mono_us() - c->started);
	e->head = c->next;
	if (!e->head)
		e->tail = NULL;
	engine_chunk_release(e, c);
	engine_recovered(e);

	if (e->pressured && e->st.pending_bytes <= e->cfg.memory_limit / 2) {
		e->pressured = false;
		if (e->cb.pressure)
			e->cb.pressure(e->userdata, false);
	}
	ack_audit_ack(&e->audit, c_last_seq, c_end, e->cfg.durability == CFG_DURABILITY_FSYNC);
	if (e->cb.committed)
		e->cb.committed(e->userdata, e->durable_seq);
	if (seal)
		engine_seal(e);
	engine_pump(e);
}

/* Both completions of a commit are in: decide what they mean.  A batch
 * counts only if every byte was written and, in fsync mode, an fdatasync
 * issued after the last write completed successfully (io_uring ran the
 * linked fsync only after the write; a short write cancels the link). */
static void
engine_commit_complete(struct engine *e)
{
	struct chunk *c = e->head;
	bool fsync_mode = e->cfg.durability == CFG_DURABILITY_FSYNC;

	if (!e->write_done || (fsync_mode && !e->sync_done))
		return;
	e->inflight = false;
	if (e->closing)
		return;
	if (!e->sync_only) {
		int w = e->write_res;
		if (w == -EINTR || w == -EAGAIN || w == -ECANCELED) {
			engine_pump(e);
			return;
		}
		if (w < 0) {
			engine_fail(e, w);
			return;
		}
		if (w == 0) {
			engine_fail(e, -EIO);
			return;
		}
		c->written += (size_t)w;
		if (c->written < c->len) {
			engine_pump(e); /* short write: the rest, then the sync */
			return;
		}
	}
	if (fsync_mode && e->sync_res < 0) {
		int s = e->sync_res;
		if (s == -EINTR || s == -EAGAIN || s == -ECANCELED) {
			engine_pump(e);
			return;
		}
		/* After a failed fsync the page cache may claim clean pages that
		 * never reached the disk: write the whole batch again. */
		c->written = 0;
		engine_fail(e, s);
		return;
	}
	engine_commit_done(e);
}

static void
engine_write_donecb(struct ring_req *req, int res)
{
	struct engine *e = (struct engine *)((char *)req - offsetof(struct engine, write_req));
	if (res > 0 && e->head)
		ack_audit_write_done(&e->audit, e->head->offset + e->head->written + (uint64_t)res);
	e->write_done = true;
	e->write_res = res;
	engine_commit_complete(e);
}

static void
engine_sync_donecb(struct ring_req *req, int res)
{
	struct engine *e = (struct engine *)((char *)req - offsetof(struct engine, sync_req));
	ack_audit_sync_done(&e->audit, res);
	e->sync_done = true;
	e->sync_res = res;
	engine_commit_complete(e);
}

/* Starts the next commit if none is in flight: the rest of the head
 * chunk (one write) and, in fsync mode, a linked fdatasync. */
static void
engine_pump(struct engine *e)
{
	struct chunk *c;
	bool linked = false;
	int fd, r;

	if (e->inflight || e->retry_scheduled)
		return;
	if (e->store->seal_step != STORE_SEAL_IDLE) {
		engine_seal(e);
		if (e->store->seal_step != STORE_SEAL_IDLE)
			return;
	}
	c = e->head;
	if (!c)
		return;
	if (c->len == 0) { /* an empty chunk carrying only a seal request */
		bool seal = c->seal_after;
		e->head = c->next;
		if (!e->head)
			e->tail = NULL;
		engine_chunk_release(e, c);
		if (seal)
			engine_seal(e);
		engine_pump(e);
		return;
	}
	if (!c->started) {
		c->closed = true;
		c->offset = e->store->cur_size;
		c->started = engine_mono_us();
	}
	fd = e->store->cur_fd;
	e->inflight = true;
	e->write_done = e->sync_done = false;
	e->write_res = e->sync_res = 0;
	e->sync_only = c->written == c->len;
	if (e->sync_only) {
		e->write_done = true;
	} else {
		struct io_uring_sqe *sqe = ring_sqe(e->ring, &e->write_req);
		io_uring_prep_write(sqe, fd, c->buf + c->written, (unsigned)(c->len - c->written),
				    c->offset + c->written);
		if (e->cfg.durability == CFG_DURABILITY_FSYNC)
			sqe->flags |= IOSQE_IO_LINK;
		linked = sqe->flags & IOSQE_IO_LINK; /* what the kernel sees, for the audit */
	}
	if (e->cfg.durability == CFG_DURABILITY_FSYNC) {
		struct io_uring_sqe *sqe = ring_sqe(e->ring, &e->sync_req);
		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		ack_audit_sync_submitted(&e->audit, linked, c->offset + c->len);
	}
	r = ring_submit(e->ring);
	if (r < 0)
		log_error_errno(r, "io_uring_submit failed: %m"); /* completions still arrive */
}

/* Closes the tail to appends and marks it so current is sealed once it is
 * durable; with nothing queued, seals right away. */
static void
engine_mark_seal(struct engine *e)
{
	e->seg_bytes = RECORD_HEADER_MAX;
	e->seg_records = 0;
	if (e->tail) {
		e->tail->seal_after = true;
		e->tail->closed = true;
		return;
	}
	engine_seal(e);
}

int
engine_append(struct engine *e, struct record *r)
{
	struct chunk *t;
	size_t max;

	if (r->msg_len > e->cfg.max_record || r->tag_len > RECORD_TAG_MAX)
		return -EMSGSIZE;
	if (e->st.pending_bytes + e->max_line > e->cfg.memory_limit)
		return -ENOBUFS;
	max = record_line_max(r->tag_len, r->msg_len);
	if (e->seg_records > 0 && e->seg_bytes + max > e->cfg.segment_size)
		engine_mark_seal(e);
	t = e->tail;
	if (!t || t->closed || t->len + max > t->cap || t->len >= e->write_max) {
		struct chunk *c = engine_chunk_new(e);
		if (!c)
			return -ENOMEM;
		if (t)
			t->next = c;
		else
			e->head = c;
		e->tail = t = c;
	}
	r->seq = e->store->next_seq++;
	size_t n = record_encode(r, t->buf + t->len);
	if (t->records == 0)
		t->first_seq = r->seq;
	t->last_seq = r->seq;
	t->records++;
	t->len += n;
	e->seg_bytes += n;
	e->seg_records++;
	e->st.pending_bytes += n;
	e->store->last_time_us = r->time_us;
	if (!e->pressured && e->st.pending_bytes + 2 * e->max_line > e->cfg.memory_limit) {
		e->pressured = true;
		if (e->cb.pressure)
			e->cb.pressure(e->userdata, true);
	}
	engine_kick(e);
	return 0;
}

void
engine_rotate(struct engine *e)
{
	if (e->seg_records == 0 && e->store->cur_records == 0) {
		log_info("Nothing to seal: %s/current holds no records", e->store->path);
		return;
	}
	engine_mark_seal(e);
	engine_kick(e);
}

/* Once a second: segment age, and the time-based retention rules. */
static void
engine_tickcb(evutil_socket_t fd, short what, void *arg)
{
	struct engine *e = arg;
	uint64_t now = store_now_us();

	if (e->cfg.segment_age_us && !e->age_marked && e->seg_records > 0 &&
	    now - e->store->cur_hdr.created_us >= e->cfg.segment_age_us) {
		e->age_marked = true;
		engine_mark_seal(e);
		engine_kick(e);
	}
	if (now - e->last_retention_us >= e->cfg.retention_interval_us) {
		e->last_retention_us = now;
		(void)store_retention(e->store, now);
	}
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
engine_new(struct event_base *base, struct ring *ring, struct store *store,
	   const struct engine_config *cfg, const struct engine_callbacks *cb, void *userdata,
	   struct engine **ret)
{
	_cleanup_(engine_freep) struct engine *e = calloc(1, sizeof(*e));
	struct timeval sec = { 1, 0 };

	if (!e)
		return -ENOMEM;
	e->base = base;
	e->ring = ring;
	e->store = store;
	e->cb = *cb;
	e->userdata = userdata;
	e->write_req.done = engine_write_donecb;
	e->sync_req.done = engine_sync_donecb;
	engine_apply_config(e, cfg);
	/* chunk capacity is fixed for the engine's life: the largest line
	 * the hard limits allow must fit after write_max bytes */
	e->chunk_cap = STORE_WRITE_MAX + record_line_max(RECORD_TAG_MAX, 1 << 20);
	e->seg_bytes = store->cur_size;
	e->seg_records = store->cur_records;
	e->durable_seq = store->next_seq - 1;
	e->last_retention_us = store_now_us();
	ack_audit_open(&e->audit);
	ack_audit_segment(&e->audit, store->cur_size);
	e->kick_ev = event_new(base, -1, 0, engine_kickcb, e);
	e->retry_ev = evtimer_new(base, engine_retrycb, e);
	e->tick_ev = event_new(base, -1, EV_PERSIST, engine_tickcb, e);
	if (!e->kick_ev || !e->retry_ev || !e->tick_ev || event_add(e->tick_ev, &sec) < 0)
		return -ENOMEM;
	(void)store_retention(store, store_now_us());
	*ret = TAKE_PTR(e);
	return 0;
}

void
engine_reconfigure(struct engine *e, const struct engine_config *cfg)
{
	engine_apply_config(e, cfg);
	engine_kick(e);
}

struct engine *
engine_free(struct engine *e)
{
	if (!e)
		return NULL;
	/* our requests point into this object: let them complete first */
	e->closing = true;
	while (e->inflight)
		if (ring_wait(e->ring) < 0)
			break;
	while (e->head) {
		struct chunk *c = e->head;
		e->head = c->next;
		free(c);
	}
	free(e->spare);
	ack_audit_close(&e->audit);
	if (e->kick_ev)
		event_free(e->kick_ev);
	if (e->retry_ev)
		event_free(e->retry_ev);
	if (e->tick_ev)
		event_free(e->tick_ev);
	free(e);
	return NULL;
}

bool
engine_can_accept(const struct engine *e)
{
	return e->st.pending_bytes + e->max_line <= e->cfg.memory_limit;
}

bool
engine_idle(const struct engine *e)
{
	return !e->inflight && !e->head;
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
