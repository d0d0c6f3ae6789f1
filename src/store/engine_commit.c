/* The commit request of the engine (docs/design.md, "Group commit"): the
 * head chunk submitted as one write at the end of `current`, linked to an
 * fdatasync in durability=fsync; both completions judged by what the
 * commit recorded at submission; a durable chunk accounted for, published
 * in the watermark and acknowledged; short writes and cancellations
 * resubmitted, storage errors retried with backoff.  engine_pump() runs
 * the engine's decisions (recovery, seal, next commit) and submits once. */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <stddef.h>

#include "ackaudit.h"
#include "crashpoint.h"
#include "engine.h"
#include "engine_internal.h"
#include "log.h"
#include "now.h"
#include "watermark.h"

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

enum {
	ENGINE_BACKOFF_MAX_MS = 5000,
	ENGINE_TRANSIENT_MAX = 64,  /* EINTR/EAGAIN/ECANCELED in a row before backing off */
};

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

void
engine_retrycb(evutil_socket_t fd, short what, void *arg)
{
	struct engine *e = arg;
	e->retry_scheduled = false;
	engine_flush(e);
	engine_pump(e);
}

void
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
void
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
	engine_record_latency(e, now_us(CLOCK_MONOTONIC) - c->started);
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

void
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

void
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
		c->started = now_us(CLOCK_MONOTONIC);
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
void
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

