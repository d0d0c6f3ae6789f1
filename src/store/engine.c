#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "ackaudit.h"
#include "crashpoint.h"
#include "log.h"
#include "watermark.h"

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

enum {
	ENGINE_GRACE_US = 1000000,  /* engine_free: wait, cancel, wait again */
	ENGINE_BACKOFF_MAX_MS = 5000,
	ENGINE_TRANSIENT_MAX = 64,  /* EINTR/EAGAIN/ECANCELED in a row before backing off */
};

/* One batch: encoded lines for one write at the end of current.  A chunk
 * of cap 0 carries only a seal request. */
struct chunk {
	struct chunk *next;
	size_t len;
	size_t cap;
	size_t written;	  /* bytes of this chunk known written */
	uint64_t offset;  /* file offset of buf[0] in current, once started */
	uint64_t first_seq;
	uint64_t last_seq;
	uint64_t records;
	uint64_t started; /* monotonic µs of the first submission */
	bool closed;	  /* no more appends: in flight or sealed after */
	bool seal_after;  /* seal current once this chunk is durable */
	bool sync_request; /* empty: an fdatasync for what is durable only written so far */
	char buf[];
};

/* One commit: the requests submitted for the head chunk, and everything
 * their completions are judged by, recorded at submission.  chunk is
 * NULL while no commit is in flight. */
struct commit {
	struct chunk *chunk;
	uint64_t off;	/* file offset of the write */
	unsigned len;	/* bytes of the write; 0: no write (fdatasync only) */
	bool sync;	/* an fdatasync was submitted */
	bool linked;	/* ... linked after the write, in the same submit */
	enum cfg_durability durability;
	unsigned pending; /* completions still to come */
	bool write_done, sync_done;
	int write_res, sync_res;
	struct ring_req write_req, sync_req;
};

struct engine {
	struct event_base *base;
	const struct ring_ops *io;
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
	int64_t seg_start;    /* monotonic µs at which current was created */

	struct commit cm;
	int wm_err; /* the last failure to publish the watermark, logged once */

	struct event *kick_ev, *retry_ev, *tick_ev;
	bool kicked, pressured, retry_scheduled, age_marked, closing;
	bool pumping, repump, sq_dirty;
	int error, submit_err;
	unsigned backoff_ms, transients;
	uint64_t durable_seq;
	uint64_t synced_seq; /* <= durable_seq: what a completed fdatasync covers */
	uint64_t last_retention;
	struct engine_stats st;
	struct ack_audit audit; /* --enable-ack-audit only */
	struct engine *next_abandoned;
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

static void engine_pump(struct engine *e);

static uint64_t
engine_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Segment age runs on the monotonic clock; after a restart it starts from
 * the header's wall-clock creation time, converted once. */
static void
engine_segment_started(struct engine *e, bool from_header)
{
	int64_t now = (int64_t)engine_mono_us(), age = 0;
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

static void
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
static void
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

/* Storage trouble: report it once, free space if retention allows, and
 * retry with exponential backoff (retry_min .. 5 s). */
static void
engine_fail(struct engine *e, int err)
{
	unsigned min_ms = e->cfg.retry_min_us ? (unsigned)(e->cfg.retry_min_us / 1000) : 100;
	struct timeval tv;

	e->st.errors++;
	if (e->error != err) {
		log_error_errno(err, "Commits to %s/current are failing: %m; holding "
				     "acknowledgements and retrying",
				store_path(e->store));
		e->error = err;
		if (e->cb.storage_error)
			e->cb.storage_error(e->userdata, err);
	}
	(void)store_retention(e->store, store_now_us());
	e->backoff_ms = e->backoff_ms ? e->backoff_ms * 2 : (min_ms ? min_ms : 1);
	if (e->backoff_ms > ENGINE_BACKOFF_MAX_MS)
		e->backoff_ms = ENGINE_BACKOFF_MAX_MS;
	tv.tv_sec = e->backoff_ms / 1000;
	tv.tv_usec = (e->backoff_ms % 1000) * 1000;
	e->retry_scheduled = true;
	event_add(e->retry_ev, &tv);
}

static void
engine_recovered(struct engine *e)
{
	if (!e->error)
		return;
	log_notice("Commits to %s/current work again", store_path(e->store));
	e->error = 0;
	e->submit_err = 0;
	e->backoff_ms = 0;
	if (e->cb.storage_error)
		e->cb.storage_error(e->userdata, 0);
}

/* Hands what was prepared to the kernel.  A failed submit leaves the SQEs
 * queued; it is reported like a storage error and retried from the
 * backoff timer. */
static void
engine_flush(struct engine *e)
{
	int r;

	if (!e->sq_dirty || e->closing)
		return;
	r = e->io->submit(e->io->ctx);
	if (r < 0) {
		e->st.submit_errors++;
		e->submit_err = r;
		if (!e->retry_scheduled)
			engine_fail(e, r);
		return;
	}
	e->sq_dirty = false;
	if (e->submit_err && e->error == e->submit_err)
		engine_recovered(e);
	e->submit_err = 0;
}

static void
engine_retrycb(evutil_socket_t fd, short what, void *arg)
{
	struct engine *e = arg;
	e->retry_scheduled = false;
	engine_flush(e);
	engine_pump(e);
}

static void
engine_seal(struct engine *e)
{
	uint64_t first = store_cur_first_seq(e->store);
	int r = store_seal(e->store, store_now_us());

	if (r < 0) {
		engine_fail(e, r);
		return;
	}
	bool sealed = store_cur_first_seq(e->store) != first;


	if (sealed) {
		ack_audit_segment(&e->audit, store_cur_size(e->store));
		engine_segment_started(e, false);
	}
	e->age_marked = false;
	(void)store_retention(e->store, store_now_us());
	/* (also after a seal that a failed attempt had half done: its first
	 * seq may have moved then, so "sealed" does not tell) */
	if (e->cb.sealed)
		e->cb.sealed(e->userdata);
}

static void
engine_record_latency(struct engine *e, uint64_t us)
{
	unsigned b = 0;
	while (b < 31 && (us >> (b + 1)))
		b++;
	e->st.lat_hist[b]++;
	e->st.lat_sum_us += us;
}

/* Publishes the durable seq in DIR/watermark before the acknowledgements
 * go out, so a record a client saw acknowledged is one readers show
 * (store_publish_watermark: in place, not fsynced; a stale value is safe
 * and recovery defines the durable end after a crash).  Commits complete
 * one at a time, so a value never replaces a newer one. */
static void
engine_wm_publish(struct engine *e)
{
	int r = store_publish_watermark(e->store, e->durable_seq);

	if (r >= 0) {
		e->st.watermark_writes++;
		e->wm_err = 0;
		return;
	}
	e->st.watermark_errors++;
	if (r != e->wm_err)
		log_warning_errno(r, "Failed to update %s/" WATERMARK_FILE ": %m; readers see "
				     "older records only until it works again",
				  store_path(e->store));
	e->wm_err = r;
}

/* The head chunk is durable by the rule of the commit that completed it
 * (durability): account for it, tell the caller, go on. */
static void
engine_commit_done(struct engine *e, enum cfg_durability durability)
{
	struct chunk *c = e->head;
	bool seal = c->seal_after;
	uint64_t end = c->offset + c->len;

	store_committed(e->store, c->len, c->records);
	if (c->records)
		e->durable_seq = c->last_seq;
	if (durability == CFG_DURABILITY_FSYNC)
		e->synced_seq = e->durable_seq;
	e->st.records += c->records;
	e->st.bytes += c->len;
	e->st.commits++;
	e->st.pending_bytes -= c->len;
	engine_record_latency(e, engine_mono_us() - c->started);
	engine_chunk_pop(e);
	e->transients = 0;
	engine_recovered(e);
	/* the audit and the watermark first: relieving backpressure resumes
	 * connections, which acknowledge up to durable_seq at once (found by
	 * the wire audit in reload-load.sh) */
	ack_audit_ack(&e->audit, e->durable_seq, end, durability == CFG_DURABILITY_FSYNC);
	engine_wm_publish(e);
	engine_update_pressure(e);
	if (e->cb.committed)
		e->cb.committed(e->userdata, e->durable_seq);
	if (seal)
		engine_seal(e);
	engine_pump(e);
}

static bool
engine_transient(int res)
{
	return res == -EINTR || res == -EAGAIN || res == -ECANCELED;
}

/* Every completion of the commit is in: decide what they mean, by what
 * the commit recorded at submission.  A chunk counts only if every byte
 * was written and, for a commit in fsync mode, an fdatasync that started
 * after the last write completed returned 0 (io_uring runs a linked
 * fsync only after its write completed in full; a short write cancels
 * it).  Decision table: docs/design.md, "Group commit". */
static void
engine_commit_judge(struct engine *e)
{
	struct commit *cm = &e->cm;
	struct chunk *c = cm->chunk;
	int err = 0;

	cm->chunk = NULL;
	if (e->closing)
		return;
	if (cm->len) {
		int w = cm->write_res;
		if (w > 0)
			c->written += (unsigned)w < cm->len ? (unsigned)w : cm->len;
		else if (w == 0)
			err = -EIO;
		else if (!engine_transient(w))
			err = w;
	}
	if (!err && c->written == c->len) {
		if (!cm->sync) {
			engine_commit_done(e, cm->durability);
			return;
		}
		if (cm->sync_res == 0) {
			e->st.fsyncs++;
			engine_commit_done(e, cm->durability);
			return;
		}
		if (!engine_transient(cm->sync_res)) {
			/* after a failed fsync the page cache may claim clean pages
			 * that never reached the disk: write the whole chunk again */
			c->written = 0;
			err = cm->sync_res;
		}
	}
	if (!err && ++e->transients > ENGINE_TRANSIENT_MAX)
		err = -EAGAIN;
	if (err) {
		e->transients = 0;
		engine_fail(e, err);
		return;
	}
	engine_pump(e); /* the rest of a short write, or the same again */
}

static void
engine_commit_put(struct engine *e)
{
	if (--e->cm.pending == 0)
		engine_commit_judge(e);
}

static void
engine_write_donecb(struct ring_req *req, int res)
{
	struct engine *e = container_of(req, struct engine, cm.write_req);

	if (res > 0)
		ack_audit_write_done(&e->audit, e->cm.off + (uint64_t)res);
	/* written, its linked fdatasync not yet seen complete */
	if (e->cm.linked && !e->cm.sync_done)
		CRASH_POINT("write-before-sync");
	e->cm.write_done = true;
	e->cm.write_res = res;
	engine_commit_put(e);
}

static void
engine_sync_donecb(struct ring_req *req, int res)
{
	struct engine *e = container_of(req, struct engine, cm.sync_req);

	ack_audit_sync_done(&e->audit, res);
	e->cm.sync_done = true;
	e->cm.sync_res = res;
	engine_commit_put(e);
}

/* Submits the next commit of chunk c: the rest of it (one write) and, if
 * durability is fsync now, an fdatasync linked after it.  Both SQEs are
 * reserved before either is prepared, so no automatic submit can cut the
 * link. */
static void
engine_commit_start(struct engine *e, struct chunk *c)
{
	struct commit *cm = &e->cm;
	int fd = store_cur_fd(e->store);
	bool sync = e->cfg.durability == CFG_DURABILITY_FSYNC;
	unsigned left;
	int r;

	if (!c->started) {
		c->closed = true;
		c->offset = store_cur_size(e->store);
		c->started = engine_mono_us();
	}
	left = (unsigned)(c->len - c->written);
	if (!left && !sync) {
		/* written in full by an earlier commit, and write mode needs
		 * nothing more (durability was switched meanwhile) */
		engine_commit_done(e, CFG_DURABILITY_WRITE);
		return;
	}
	r = e->io->reserve(e->io->ctx, (left ? 1u : 0u) + (sync ? 1u : 0u));
	if (r < 0) {
		e->st.submit_errors++;
		e->submit_err = r;
		engine_fail(e, r);
		return;
	}
	cm->chunk = c;
	cm->off = c->offset + c->written;
	cm->len = left;
	cm->sync = sync;
	cm->linked = left && sync;
	cm->durability = e->cfg.durability;
	cm->pending = (left ? 1u : 0u) + (sync ? 1u : 0u);
	cm->write_done = cm->sync_done = false;
	cm->write_res = cm->sync_res = 0;
	if (left)
		e->io->prep_write(e->io->ctx, &cm->write_req, fd, c->buf + c->written, left, cm->off,
				  cm->linked);
#ifdef SEGLOG_BROKEN_DURABILITY
	/* test-only (configure --enable-broken-durability): a submit between
	 * the write and its "linked" fdatasync cuts the link, so the
	 * fdatasync may complete before the write and the ack precede the
	 * durability of the records; the ack audit must report it */
	if (left && sync)
		(void)e->io->submit(e->io->ctx);
#endif
	if (sync) {
		e->io->prep_fdatasync(e->io->ctx, &cm->sync_req, fd);
		ack_audit_sync_submitted(&e->audit, cm->linked, c->offset + c->len);
	}
	e->sq_dirty = true;
}

/* One decision of the engine: finish recovery, finish a seal, or start
 * the next commit, if nothing is in flight and no backoff is running. */
static void
engine_step(struct engine *e)
{
	struct chunk *c;

	if (e->closing || e->cm.chunk || e->retry_scheduled)
		return;
	if (store_repair_pending(e->store)) {
		int r = store_repair(e->store);
		if (r < 0) {
			engine_fail(e, r);
			return;
		}
		engine_segment_started(e, true);
		ack_audit_segment(&e->audit, store_cur_size(e->store));
		if (store_durable_seq(e->store) > e->durable_seq)
			e->durable_seq = store_durable_seq(e->store); /* published by the repair */
		if (e->synced_seq < e->durable_seq)
			e->synced_seq = e->durable_seq; /* the repair synced it */
		engine_recovered(e);
	}
	if (store_seal_pending(e->store)) {
		engine_seal(e);
		if (store_seal_pending(e->store))
			return;
	}
	c = e->head;
	if (!c)
		return;
	if (c->len == 0 && c->sync_request && e->cfg.durability == CFG_DURABILITY_FSYNC &&
	    e->synced_seq < e->durable_seq) {
		/* records committed in durability = write: an fdatasync alone */
		c->last_seq = e->durable_seq;
		engine_commit_start(e, c);
		return;
	}
	if (c->len == 0) { /* a seal request, or a sync request with nothing to do */
		bool seal = c->seal_after;
		engine_chunk_pop(e);
		if (seal)
			engine_seal(e);
		e->repump = true;
		return;
	}
	engine_commit_start(e, c);
}

/* Runs engine_step until it has nothing more to decide (completion
 * handlers that call back in only ask for another round), then submits
 * everything prepared in one io_uring_submit. */
static void
engine_pump(struct engine *e)
{
	if (e->pumping) {
		e->repump = true;
		return;
	}
	e->pumping = true;
	do {
		e->repump = false;
		engine_step(e);
	} while (e->repump && !e->closing);
	e->pumping = false;
	engine_flush(e);
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
	uint64_t now = engine_mono_us();

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
	e->last_retention = engine_mono_us();
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
		uint64_t deadline = engine_mono_us() + ENGINE_GRACE_US;
		if (round == 1)
			engine_cancel_all(e);
		for (uint64_t now; engine_outstanding(e) && (now = engine_mono_us()) < deadline;) {
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
