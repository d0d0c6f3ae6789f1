/* The commit engine over a fake ring (no kernel): every row of the decision
 * table of docs/design.md ("Group commit"), durability switches with a
 * commit in flight, backpressure on reload, failed submits, the seal after
 * a chunk, the watermark writer, and the ring lifetime rule in
 * engine_free().  The store underneath is real (a temporary directory);
 * the fake performs the bytes of every write it completes, so the files
 * hold what the engine believes it wrote. */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "watermark.h"
#include "testutil.h"

/* --- the fake ring ------------------------------------------------------ */

enum fake_kind {
	FAKE_WRITE,
	FAKE_FSYNC,
};

struct fake_op {
	struct ring_req *req;
	enum fake_kind kind;
	int fd;
	const char *buf;
	unsigned len;
	uint64_t off;
	bool link;
	bool cancelled;
	int batch; /* 0: prepared, not yet submitted */
};

struct fake {
	struct fake_op ops[64];
	int n;
	int batches;
	unsigned reserved;   /* SQEs reserved and not prepared yet */
	unsigned sq_cap;     /* room for prepared, unsubmitted SQEs */
	int fail_submits;    /* the next N submits fail ... */
	int fail_errno;	     /* ... with this */
	int submits, failed_submits, cancels;
	bool link_cut;	     /* a linked write left in a batch without its fsync */
	bool unreserved;     /* an SQE was prepared without a reservation */
	bool hang;	     /* wait() completes nothing */
	struct ring_ops ops_table;
};

static struct fake fk;

static unsigned
fake_unsubmitted(void)
{
	unsigned k = 0;
	for (int i = 0; i < fk.n; i++)
		k += fk.ops[i].batch == 0;
	return k;
}

static int
fake_submit(void *ctx)
{
	fk.submits++;
	if (fk.reserved)
		fk.link_cut = true; /* a submit between a reservation and its SQEs */
	if (fk.fail_submits > 0) {
		fk.fail_submits--;
		fk.failed_submits++;
		return -fk.fail_errno;
	}
	if (!fake_unsubmitted())
		return 0;
	fk.batches++;
	for (int i = 0; i < fk.n; i++)
		if (fk.ops[i].batch == 0)
			fk.ops[i].batch = fk.batches;
	for (int i = 0; i < fk.n; i++)
		if (fk.ops[i].link && (i + 1 == fk.n || fk.ops[i + 1].batch != fk.ops[i].batch))
			fk.link_cut = true;
	return 0;
}

static int
fake_reserve(void *ctx, unsigned n)
{
	if (fk.sq_cap - fake_unsubmitted() < n) {
		int r = fake_submit(ctx);
		if (r < 0)
			return r;
	}
	fk.reserved = n;
	return 0;
}

static void
fake_prep(struct ring_req *req, enum fake_kind kind, int fd, const void *buf, unsigned len,
	  uint64_t off, bool link)
{
	ck_assert_int_lt(fk.n, 64);
	if (fk.reserved == 0)
		fk.unreserved = true;
	else
		fk.reserved--;
	fk.ops[fk.n++] = (struct fake_op){ req, kind, fd, buf, len, off, link, false, 0 };
}

static void
fake_prep_write(void *ctx, struct ring_req *req, int fd, const void *buf, unsigned len,
		uint64_t off, bool link)
{
	fake_prep(req, FAKE_WRITE, fd, buf, len, off, link);
}

static void
fake_prep_fdatasync(void *ctx, struct ring_req *req, int fd)
{
	fake_prep(req, FAKE_FSYNC, fd, NULL, 0, 0, false);
}

static int
fake_cancel(void *ctx, struct ring_req *req)
{
	fk.cancels++;
	for (int i = 0; i < fk.n; i++)
		if (fk.ops[i].req == req)
			fk.ops[i].cancelled = true;
	return 0;
}

/* The i'th operation completes with res; a write's first res bytes reach
 * the file, as the kernel would have written them. */
static void
fake_finish(int i, int res)
{
	struct fake_op op = fk.ops[i];

	memmove(fk.ops + i, fk.ops + i + 1, (size_t)(fk.n - i - 1) * sizeof(*fk.ops));
	fk.n--;
	if (op.kind == FAKE_WRITE && res > 0)
		ck_assert_int_eq(pwrite(op.fd, op.buf, (size_t)res, (off_t)op.off), res);
	op.req->done(op.req, res);
}

/* Completes whatever the kernel would finish next, as it would finish. */
static int
fake_wait(void *ctx, uint64_t timeout_us)
{
	if (!fk.hang)
		for (int i = 0; i < fk.n; i++)
			if (fk.ops[i].batch) {
				struct fake_op *op = &fk.ops[i];
				fake_finish(i, op->cancelled ? -ECANCELED
					       : op->kind == FAKE_WRITE ? (int)op->len : 0);
				return 0;
			}
	struct timespec ts = { 0, (long)(timeout_us < 50000 ? timeout_us : 50000) * 1000 };
	nanosleep(&ts, NULL);
	return -ETIME;
}

static void
fake_init(void)
{
	memset(&fk, 0, sizeof(fk));
	fk.sq_cap = 8;
	fk.ops_table = (struct ring_ops){ fake_reserve, fake_prep_write, fake_prep_fdatasync,
					  fake_submit, fake_wait, fake_cancel, &fk };
}

/* The first submitted operation of that kind (on fd, or any if fd < 0). */
static int
fake_find(enum fake_kind kind, int fd)
{
	for (int i = 0; i < fk.n; i++)
		if (fk.ops[i].batch && fk.ops[i].kind == kind && (fd < 0 || fk.ops[i].fd == fd))
			return i;
	return -1;
}

static int
fake_count(enum fake_kind kind, int fd)
{
	int k = 0;
	for (int i = 0; i < fk.n; i++)
		k += fk.ops[i].kind == kind && (fd < 0 || fk.ops[i].fd == fd);
	return k;
}

/* --- the engine under test ----------------------------------------------- */

static char *dir;
static struct event_base *base;
static struct store *st;
static struct engine *eng;

static struct {
	uint64_t durable;
	int commits;
	int stops, goes;
	bool paused;
	int err;
	int err_reports;
	uint64_t wm_at_ack; /* DIR/watermark when committed() last ran */
	int seals;	    /* sealed() calls */
} cb;

static uint64_t watermark_on_disk(void);

static void
on_committed(void *u, uint64_t seq)
{
	/* a commit moves the durable seq on, except an fdatasync alone
	 * (engine_request_sync), which moves only the synced one */
	if (seq == cb.durable)
		ck_assert_uint_eq(engine_synced_seq(eng), seq);
	else
		ck_assert_uint_gt(seq, cb.durable);
	cb.durable = seq;
	cb.commits++;
	cb.wm_at_ack = watermark_on_disk();
}

static void
on_pressure(void *u, bool stop)
{
	ck_assert(stop != cb.paused);
	cb.paused = stop;
	if (stop)
		cb.stops++;
	else
		cb.goes++;
}

static void
on_storage_error(void *u, int err)
{
	cb.err = err;
	cb.err_reports++;
}

static void
on_sealed(void *u)
{
	cb.seals++;
}

static struct engine_config
ecfg(enum cfg_durability d)
{
	return (struct engine_config){
		.durability = d,
		.segment_size = 64 << 20,
		.memory_limit = 16 << 20,
		.batch_max = 1 << 20,
		.max_record = 4096,
		.retry_min_us = 10000,
	};
}

static void
start(const struct engine_config *c)
{
	struct store_config sc = { .dir = dir, .dir_mode = 0750, .file_mode = 0640,
				   .max_record = 4096 };
	struct engine_callbacks cbs = { on_committed, on_pressure, on_storage_error, on_sealed };

	if (!st)
		ck_assert_int_eq(store_open(&sc, &fsops_syscall, &st), 0);
	ck_assert_int_eq(engine_new(base, &fk.ops_table, st, c, &cbs, NULL, &eng), 0);
	cb.durable = engine_durable_seq(eng);
}

static void
start_d(enum cfg_durability d)
{
	struct engine_config c = ecfg(d);
	start(&c);
}

static void
reconf_d(enum cfg_durability d)
{
	struct engine_config c = ecfg(d);
	engine_reconfigure(eng, &c);
}

static void
setup(void)
{
	log_set_max_level(LOG_CRIT);
	dir = test_mkdtemp();
	base = event_base_new();
	fake_init();
	memset(&cb, 0, sizeof(cb));
	st = NULL;
	eng = NULL;
}

static void
teardown(void)
{
	fk.hang = false;
	eng = engine_free(eng);
	st = store_free(st);
	event_base_free(base);
	test_rm_rf(dir);
	free(dir);
}

/* Runs what the loop has ready (kicks), without waiting. */
static void
spin(void)
{
	for (int i = 0; i < 4; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

/* Runs the loop (timers included) until cond() holds, at most ms. */
static bool
run_until(bool (*cond)(void), int ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		spin();
		if (cond())
			return true;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > ms)
			return false;
		event_base_loop(base, EVLOOP_ONCE);
	}
}

static uint64_t
append_n(int n, size_t msg_len)
{
	static char msg[4096];
	struct record r = { 0 };

	memset(msg, 'm', sizeof(msg));
	for (int i = 0; i < n; i++) {
		r = (struct record){
			.time_us = store_now_us(), .pid = 1, .uid = 0, .gid = 0, .facility = 1,
			.severity = 6, .tag = "t", .tag_len = 1, .msg = msg, .msg_len = msg_len,
			.claimed_pid = RECORD_NO_CLAIMED_PID,
		};
		ck_assert_int_eq(engine_append(eng, &r), 0);
	}
	return r.seq;
}

static int
cur_fd(void)
{
	return store_cur_fd(st);
}

static int
wm_fd(void)
{
	return store_watermark_fd(st);
}

/* Completes the submitted write on current (res; < 0 an error). */
static void
complete_write(int res)
{
	int i = fake_find(FAKE_WRITE, cur_fd());
	ck_assert_int_ge(i, 0);
	fake_finish(i, res == INT32_MAX ? (int)fk.ops[i].len : res);
}

static void
complete_fsync(int res)
{
	int i = fake_find(FAKE_FSYNC, -1);
	ck_assert_int_ge(i, 0);
	fake_finish(i, res);
}

enum { FULL = INT32_MAX };

static uint64_t
watermark_on_disk(void)
{
	char buf[WATERMARK_LEN];
	uint8_t id[RECORD_DIR_ID_LEN];
	uint64_t seq;
	ck_assert_int_eq(pread(wm_fd(), buf, sizeof(buf), 0), WATERMARK_LEN);
	ck_assert_int_eq(watermark_parse(buf, sizeof(buf), id, &seq), 0);
	return seq;
}

static bool
write_submitted(void)
{
	return fake_find(FAKE_WRITE, cur_fd()) >= 0;
}

/* --- the decision table ---------------------------------------------------- */

/* Both succeed: durable, acknowledged; never before the linked fsync. */
START_TEST(test_ack_only_after_linked_fsync)
{
	start_d(CFG_DURABILITY_FSYNC);
	uint64_t last = append_n(3, 100);
	spin();
	ck_assert_int_eq(fk.n, 2);
	ck_assert_int_eq(fk.ops[0].kind, FAKE_WRITE);
	ck_assert(fk.ops[0].link);
	ck_assert_int_eq(fk.ops[1].kind, FAKE_FSYNC);
	ck_assert_int_eq(fk.ops[0].batch, fk.ops[1].batch); /* one submit */
	complete_write(FULL);
	ck_assert_int_eq(cb.commits, 0);
	ck_assert_uint_eq(engine_durable_seq(eng), 0);
	complete_fsync(0);
	ck_assert_int_eq(cb.commits, 1);
	ck_assert_uint_eq(cb.durable, last);
	ck_assert_uint_eq(engine_stats(eng)->fsyncs, 1);
	ck_assert(engine_idle(eng));
	ck_assert(!fk.link_cut && !fk.unreserved);
}
END_TEST

/* A short write cancels the link: the rest is written (at its offset),
 * with a new linked fsync; only then the ack. */
START_TEST(test_short_write_resubmits_rest)
{
	start_d(CFG_DURABILITY_FSYNC);
	append_n(10, 100);
	spin();
	unsigned len = fk.ops[0].len;
	uint64_t off = fk.ops[0].off;
	complete_write(40);
	complete_fsync(-ECANCELED);
	ck_assert_int_eq(cb.commits, 0);
	spin();
	int i = fake_find(FAKE_WRITE, cur_fd());
	ck_assert_int_ge(i, 0);
	ck_assert_uint_eq(fk.ops[i].len, len - 40);
	ck_assert_uint_eq(fk.ops[i].off, off + 40);
	ck_assert(fk.ops[i].link);
	ck_assert_int_ge(fake_find(FAKE_FSYNC, -1), 0);
	complete_write(FULL);
	complete_fsync(0);
	ck_assert_int_eq(cb.commits, 1);
	ck_assert_uint_eq(store_cur_size(st), off + len);
	ck_assert_int_eq(engine_error(eng), 0);
}
END_TEST

/* -ECANCELED (or EINTR/EAGAIN) on the write: nothing written, the same
 * write is submitted again at once. */
START_TEST(test_canceled_write_resubmitted)
{
	start_d(CFG_DURABILITY_FSYNC);
	append_n(5, 100);
	spin();
	unsigned len = fk.ops[0].len;
	uint64_t off = fk.ops[0].off;
	complete_write(-ECANCELED);
	complete_fsync(-ECANCELED);
	spin();
	int i = fake_find(FAKE_WRITE, cur_fd());
	ck_assert_int_ge(i, 0);
	ck_assert_uint_eq(fk.ops[i].len, len);
	ck_assert_uint_eq(fk.ops[i].off, off);
	ck_assert_int_eq(cb.err_reports, 0);
	complete_write(FULL);
	complete_fsync(0);
	ck_assert_int_eq(cb.commits, 1);
}
END_TEST

/* fsync EIO after a full write ("fsyncgate"): reported, no ack, and after
 * the backoff the whole chunk is written again at its offset. */
START_TEST(test_fsync_eio_rewrites_chunk)
{
	start_d(CFG_DURABILITY_FSYNC);
	append_n(5, 100);
	spin();
	unsigned len = fk.ops[0].len;
	uint64_t off = fk.ops[0].off;
	complete_write(FULL);
	complete_fsync(-EIO);
	ck_assert_int_eq(cb.commits, 0);
	ck_assert_int_eq(cb.err, -EIO);
	ck_assert_int_eq(engine_error(eng), -EIO);
	spin();
	ck_assert_int_eq(fk.n, 0); /* nothing before the backoff */
	ck_assert(run_until(write_submitted, 2000));
	int i = fake_find(FAKE_WRITE, cur_fd());
	ck_assert_uint_eq(fk.ops[i].len, len);
	ck_assert_uint_eq(fk.ops[i].off, off);
	complete_write(FULL);
	complete_fsync(0);
	ck_assert_int_eq(cb.commits, 1);
	ck_assert_int_eq(cb.err, 0);
	ck_assert_int_eq(engine_error(eng), 0);
}
END_TEST

/* ENOSPC: held with backoff (retried, reported once), then recovered. */
START_TEST(test_enospc_backoff_and_recovery)
{
	start_d(CFG_DURABILITY_FSYNC);
	append_n(5, 100);
	spin();
	uint64_t off = fk.ops[0].off;
	complete_write(-ENOSPC);
	complete_fsync(-ECANCELED);
	ck_assert_int_eq(cb.err, -ENOSPC);
	ck_assert(run_until(write_submitted, 2000));
	ck_assert_uint_eq(fk.ops[fake_find(FAKE_WRITE, cur_fd())].off, off);
	complete_write(-ENOSPC);
	complete_fsync(-ECANCELED);
	ck_assert_uint_eq(engine_stats(eng)->errors, 2);
	ck_assert_int_eq(cb.err_reports, 1); /* reported once */
	ck_assert_int_eq(cb.commits, 0);
	ck_assert(run_until(write_submitted, 2000));
	complete_write(FULL);
	complete_fsync(0);
	ck_assert_int_eq(cb.commits, 1);
	ck_assert_int_eq(cb.err, 0);
	ck_assert_int_eq(cb.err_reports, 2);
}
END_TEST

/* Write mode: acknowledged after the write, no fsync at all. */
START_TEST(test_write_mode_acks_after_write)
{
	start_d(CFG_DURABILITY_WRITE);
	uint64_t last = append_n(4, 100);
	spin();
	ck_assert_int_eq(fk.n, 1);
	ck_assert(!fk.ops[0].link);
	complete_write(FULL);
	ck_assert_uint_eq(cb.durable, last);
	ck_assert_uint_eq(engine_stats(eng)->fsyncs, 0);
}
END_TEST

/* --- reloads with a commit in flight (finding 1) ---------------------------- */

/* write -> fsync while a write-mode commit is in flight: it completes by
 * what it was submitted as (the old engine waited for an fsync CQE that
 * was never asked for: the reload wedge). */
START_TEST(test_switch_write_to_fsync_in_flight)
{
	start_d(CFG_DURABILITY_WRITE);
	uint64_t first = append_n(3, 100);
	spin();
	reconf_d(CFG_DURABILITY_FSYNC);
	uint64_t second = append_n(3, 100);
	spin();
	complete_write(FULL);
	ck_assert_uint_eq(cb.durable, first);
	spin();
	/* the next commit is in fsync mode: a linked pair */
	int i = fake_find(FAKE_WRITE, cur_fd());
	ck_assert_int_ge(i, 0);
	ck_assert(fk.ops[i].link);
	complete_write(FULL);
	ck_assert_uint_eq(cb.durable, first);
	complete_fsync(0);
	ck_assert_uint_eq(cb.durable, second);
	ck_assert(engine_idle(eng));
}
END_TEST

/* fsync -> write while a linked pair is in flight: no ack before its
 * fsync completed, and the late fsync CQE does not touch the next commit. */
START_TEST(test_switch_fsync_to_write_in_flight)
{
	start_d(CFG_DURABILITY_FSYNC);
	uint64_t first = append_n(3, 100);
	spin();
	reconf_d(CFG_DURABILITY_WRITE);
	uint64_t second = append_n(3, 100);
	spin();
	complete_write(FULL);
	ck_assert_int_eq(cb.commits, 0);
	spin();
	ck_assert_int_eq(fake_count(FAKE_WRITE, cur_fd()), 0); /* one commit at a time */
	complete_fsync(0);
	ck_assert_uint_eq(cb.durable, first);
	spin();
	ck_assert_int_eq(fake_count(FAKE_FSYNC, -1), 0); /* write mode now */
	complete_write(FULL);
	ck_assert_uint_eq(cb.durable, second);
	ck_assert(engine_idle(eng));
}
END_TEST

/* The write completed, its fsync came back -EAGAIN, and meanwhile the
 * durability became write: the retry needs no I/O at all and must still
 * complete (the old engine's sync_only retry submitted nothing and
 * waited forever). */
START_TEST(test_sync_retry_after_switch_to_write)
{
	start_d(CFG_DURABILITY_FSYNC);
	uint64_t last = append_n(3, 100);
	spin();
	complete_write(FULL);
	reconf_d(CFG_DURABILITY_WRITE);
	complete_fsync(-EAGAIN);
	spin();
	ck_assert_uint_eq(cb.durable, last);
	ck_assert(engine_idle(eng));
	ck_assert_int_eq(fake_count(FAKE_WRITE, cur_fd()) + fake_count(FAKE_FSYNC, -1), 0);
}
END_TEST

/* In fsync mode an fsync -EAGAIN after a full write retries the fsync
 * alone (unlinked: it covers the completed write). */
START_TEST(test_sync_only_retry)
{
	start_d(CFG_DURABILITY_FSYNC);
	uint64_t last = append_n(3, 100);
	spin();
	complete_write(FULL);
	complete_fsync(-EINTR);
	spin();
	ck_assert_int_eq(fk.n, 1);
	ck_assert_int_eq(fk.ops[0].kind, FAKE_FSYNC);
	ck_assert_int_eq(cb.commits, 0);
	complete_fsync(0);
	ck_assert_uint_eq(cb.durable, last);
}
END_TEST

/* --- backpressure and reload (finding 8) ------------------------------------ */

/* The smallest memory_limit cfg_validate() allows for max_record 4096
 * (two maximal lines), and a little more. */
static uint64_t
valid_limit(void)
{
	return 2 * record_line_max(RECORD_TAG_MAX, 4096) + 1024;
}

static struct engine_config
small(enum cfg_durability d, uint64_t limit)
{
	struct engine_config c = ecfg(d);
	c.memory_limit = limit;
	c.batch_max = 4096;
	return c;
}

/* memory_limit lowered on reload below what is pending: pressure(true)
 * at once, and pressure(false) once the commits bring it back. */
START_TEST(test_memory_limit_lowered_under_load)
{
	start_d(CFG_DURABILITY_FSYNC);
	append_n(40, 1000); /* ~42 KB pending */
	ck_assert_int_eq(cb.stops, 0);
	struct engine_config c = ecfg(CFG_DURABILITY_FSYNC);
	c.memory_limit = valid_limit(); /* below what is pending */
	engine_reconfigure(eng, &c);
	ck_assert(!engine_can_accept(eng));
	ck_assert_int_eq(cb.stops, 1);
	ck_assert(cb.paused);
	struct record r = { .tag = "t", .tag_len = 1, .msg = "x", .msg_len = 1,
			    .claimed_pid = RECORD_NO_CLAIMED_PID };
	ck_assert_int_eq(engine_append(eng, &r), -ENOBUFS);
	spin();
	complete_write(FULL);
	complete_fsync(0);
	ck_assert_int_eq(cb.goes, 1);
	ck_assert(!cb.paused);
	ck_assert(engine_can_accept(eng));
}
END_TEST

/* memory_limit raised under pressure: the blocked connections resume at
 * once, without waiting for a commit (the disk may be stalled). */
START_TEST(test_memory_limit_raised_resumes)
{
	struct engine_config c = small(CFG_DURABILITY_FSYNC, valid_limit() + 8192);
	start(&c);
	while (!cb.paused)
		append_n(1, 1000);
	ck_assert_int_eq(cb.stops, 1);
	c.memory_limit = 16 << 20;
	engine_reconfigure(eng, &c);
	ck_assert_int_eq(cb.goes, 1);
	ck_assert(!cb.paused);
	ck_assert(engine_can_accept(eng));
}
END_TEST

/* Whoever gets -ENOBUFS is owed a pressure(false), even if no append had
 * crossed the stop mark before (the reload lowered the limit). */
START_TEST(test_enobufs_promises_resume)
{
	struct engine_config c = ecfg(CFG_DURABILITY_WRITE);
	start(&c);
	append_n(40, 1000);
	c.memory_limit = valid_limit(); /* below what is pending */
	engine_reconfigure(eng, &c);
	struct record r = { .tag = "t", .tag_len = 1, .msg = "x", .msg_len = 1,
			    .claimed_pid = RECORD_NO_CLAIMED_PID };
	ck_assert_int_eq(engine_append(eng, &r), -ENOBUFS);
	ck_assert(cb.paused);
	spin();
	while (fake_find(FAKE_WRITE, cur_fd()) >= 0) {
		complete_write(FULL);
		spin();
	}
	ck_assert(!cb.paused);
	ck_assert_int_eq(engine_append(eng, &r), 0);
}
END_TEST

/* batch_max lowered on reload: the next chunks are cut at the new size. */
START_TEST(test_batch_max_reconfigured)
{
	struct engine_config c = ecfg(CFG_DURABILITY_WRITE);
	start(&c);
	c.batch_max = 4096;
	engine_reconfigure(eng, &c);
	append_n(40, 500);
	spin();
	int i = fake_find(FAKE_WRITE, cur_fd());
	ck_assert_uint_le(fk.ops[i].len, 4096 + 1000);
	ck_assert_uint_ge(fk.ops[i].len, 4096);
}
END_TEST

/* --- the ring's rules ----------------------------------------------------------- */

/* A failed io_uring_submit is not ignored: reported as a storage error,
 * counted, retried from the timer; the SQEs go with the retry. */
START_TEST(test_failed_submit_retried)
{
	start_d(CFG_DURABILITY_FSYNC);
	fk.fail_submits = 1;
	fk.fail_errno = EBUSY;
	uint64_t last = append_n(3, 100);
	spin();
	ck_assert_int_eq(fk.failed_submits, 1);
	ck_assert_int_eq(cb.err, -EBUSY);
	ck_assert_uint_eq(engine_stats(eng)->submit_errors, 1);
	ck_assert_int_eq(fake_find(FAKE_WRITE, -1), -1); /* still unsubmitted */
	ck_assert(run_until(write_submitted, 2000));
	ck_assert_int_eq(cb.err, 0);
	complete_write(FULL);
	complete_fsync(0);
	ck_assert_uint_eq(cb.durable, last);
	ck_assert(!fk.link_cut);
}
END_TEST

/* The linked pair is reserved as a whole: in a submission queue that holds
 * exactly one pair, the write and its fsync always go out in one submit.
 * (Before the watermark was published synchronously, a watermark write
 * could take one of the two slots; the loops below that finish such
 * writes now find none.) */
START_TEST(test_link_never_cut)
{
	start_d(CFG_DURABILITY_FSYNC);
	fk.sq_cap = 2;
	for (int k = 0; k < 20; k++) {
		append_n(2, 100);
		spin();
		complete_write(FULL);
		/* the next batch is queued while the fsync is in flight */
		append_n(2, 100);
		complete_fsync(0); /* commit done: the next pair */
		spin();
		while (fake_find(FAKE_WRITE, wm_fd()) >= 0)
			fake_finish(fake_find(FAKE_WRITE, wm_fd()), WATERMARK_LEN);
		complete_write(FULL);
		complete_fsync(0);
		spin();
		while (fake_find(FAKE_WRITE, wm_fd()) >= 0)
			fake_finish(fake_find(FAKE_WRITE, wm_fd()), WATERMARK_LEN);
	}
	ck_assert(!fk.link_cut);
	ck_assert(!fk.unreserved);
	ck_assert_int_eq(cb.commits, 40);
}
END_TEST

/* engine_free() with a commit in flight waits for it (the requests point
 * into the engine): the fake's wait completes them. */
START_TEST(test_free_waits_for_inflight)
{
	start_d(CFG_DURABILITY_FSYNC);
	append_n(3, 100);
	spin();
	ck_assert_int_eq(fk.n, 2);
	eng = engine_free(eng);
	ck_assert_int_eq(fk.n, 0);
	ck_assert_int_eq(cb.commits, 0); /* never calls back while closing */
}
END_TEST

/* Finding 2: requests that never complete (a hung disk) do not hold
 * engine_free() for ever: it cancels, gives up after the grace period
 * and leaves the memory to the kernel. */
START_TEST(test_free_gives_up_on_hung_io)
{
	struct timespec t0, t1;
	start_d(CFG_DURABILITY_FSYNC);
	append_n(3, 100);
	spin();
	fk.hang = true;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	eng = engine_free(eng);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_ptr_null(eng);
	ck_assert_int_eq(fk.cancels, 2);
	ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 4);
	fk.n = 0; /* the abandoned requests are the kernel's now */
}
END_TEST

/* --- seal, watermark, recovery, time ----------------------------------------- */

static int
count_lines(const char *name)
{
	char p[4096];
	size_t n;
	int k = 0;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	_cleanup_free_ char *buf = test_read_file(p, &n);
	if (!buf)
		return -1;
	for (size_t i = 0; i < n; i++)
		k += buf[i] == '\n';
	return k;
}

/* segment_size reached: the chunk before the boundary is sealed after it
 * is durable, the next goes at the start of the new current. */
START_TEST(test_seal_after_chunk)
{
	struct engine_config c = ecfg(CFG_DURABILITY_FSYNC);
	/* the boundary is decided when a record is queued, by its
	 * worst-case size: a few 100-byte records fit */
	c.segment_size = RECORD_HEADER_MAX + record_line_max(1, 100);
	start(&c);
	int old_fd = cur_fd();
	struct stat old_st, new_st;
	ck_assert_int_eq(fstat(old_fd, &old_st), 0);
	append_n(5, 100);
	spin();
	ck_assert_int_eq(fake_count(FAKE_WRITE, old_fd), 1);
	complete_write(FULL);
	int k = count_lines("current") - 1; /* records before the boundary */
	ck_assert_int_ge(k, 1);
	ck_assert_int_lt(k, 5);
	ck_assert_int_eq(count_lines("00000000000000000001.log"), -1);
	complete_fsync(0);
	ck_assert_uint_eq(cb.durable, (uint64_t)k);
	ck_assert_int_eq(count_lines("00000000000000000001.log"), 1 + k); /* sealed after it */
	spin();
	int i = fake_find(FAKE_WRITE, cur_fd());
	ck_assert_int_ge(i, 0);
	ck_assert_int_eq(fstat(cur_fd(), &new_st), 0);
	ck_assert_uint_ne(new_st.st_ino, old_st.st_ino); /* the new current */
	ck_assert_uint_eq(fk.ops[i].off, store_cur_size(st)); /* right after the header */
	ck_assert_uint_eq(store_cur_first_seq(st), (uint64_t)k + 1);
	while (cb.durable < 5) {
		complete_write(FULL);
		complete_fsync(0);
		spin();
	}
	ck_assert_uint_eq(cb.durable, 5);
}
END_TEST

static bool
sealed_one(void)
{
	struct store_status ss;
	store_get_status(st, &ss);
	return ss.sealed_segments == 1;
}

/* SIGUSR1 with nothing queued: the seal runs from the pump. */
START_TEST(test_rotate_when_idle)
{
	start_d(CFG_DURABILITY_WRITE);
	append_n(2, 100);
	spin();
	complete_write(FULL);
	ck_assert(!engine_sealed_through(eng, 2));
	ck_assert(engine_rotate(eng));
	ck_assert(run_until(sealed_one, 1000));
	ck_assert_uint_eq(store_cur_first_seq(st), 3);
	ck_assert_int_eq(cb.seals, 1);
	ck_assert(engine_sealed_through(eng, 2));
	ck_assert(!engine_sealed_through(eng, 3));
	ck_assert(!engine_rotate(eng)); /* nothing to seal */
	spin();
	ck_assert(sealed_one());
	ck_assert_int_eq(cb.seals, 1);
}
END_TEST

/* seglog sync after a switch from write to fsync: the records committed
 * in write mode are durable only as written (synced_seq lags), and a sync
 * request makes an fdatasync of its own for them (nothing queued to carry
 * one); the next commit does it where there is one.  Found by a hostile
 * test: sync answered "durable (fdatasync)" with fsyncs 0. */
START_TEST(test_sync_request_after_write_mode)
{
	start_d(CFG_DURABILITY_WRITE);
	uint64_t last = append_n(3, 100);
	spin();
	complete_write(FULL);
	ck_assert_uint_eq(cb.durable, last);
	ck_assert_uint_eq(engine_synced_seq(eng), 0);
	engine_request_sync(eng); /* write mode: nothing to do */
	spin();
	ck_assert_int_lt(fake_find(FAKE_FSYNC, -1), 0);
	reconf_d(CFG_DURABILITY_FSYNC);
	engine_request_sync(eng);
	spin();
	ck_assert_int_lt(fake_find(FAKE_WRITE, cur_fd()), 0); /* no write, */
	ck_assert_int_ge(fake_find(FAKE_FSYNC, -1), 0);	      /* an fdatasync alone */
	int commits = cb.commits;
	complete_fsync(0);
	ck_assert_uint_eq(engine_synced_seq(eng), last);
	ck_assert_uint_eq(cb.durable, last);
	ck_assert_int_eq(cb.commits, commits + 1); /* committed() woke the waiters */
	engine_request_sync(eng); /* synced already: nothing more */
	spin();
	ck_assert_int_lt(fake_find(FAKE_FSYNC, -1), 0);
	ck_assert(engine_idle(eng));
}
END_TEST

/* A second rotate while the first one's seal waits for its commit: not
 * "nothing to seal" (current's records are only queued), the same seal.
 * Found by a hostile test (a rotate answered at once, records still in
 * current). */
START_TEST(test_rotate_while_seal_queued)
{
	start_d(CFG_DURABILITY_WRITE);
	append_n(3, 100);
	ck_assert(engine_rotate(eng));
	ck_assert(engine_rotate(eng)); /* the queued seal covers these */
	spin();
	complete_write(FULL);
	ck_assert(run_until(sealed_one, 1000));
	ck_assert(engine_sealed_through(eng, 3));
	ck_assert(!engine_rotate(eng)); /* now there is nothing */
}
END_TEST

/* A rotate with records queued: the seal (and the sealed() call that
 * `seglog rotate` waits on) comes only after their commit. */
START_TEST(test_rotate_after_queued)
{
	start_d(CFG_DURABILITY_WRITE);
	append_n(3, 100);
	ck_assert(engine_rotate(eng));
	spin();
	ck_assert_int_eq(cb.seals, 0);
	ck_assert(!engine_sealed_through(eng, 3));
	complete_write(FULL);
	ck_assert(run_until(sealed_one, 1000));
	ck_assert_int_eq(cb.seals, 1);
	ck_assert(engine_sealed_through(eng, 3));
	ck_assert_uint_eq(cb.durable, 3);
}
END_TEST

/* The watermark holds each commit's durable seq before its acks go out
 * (a client that saw an ack finds the record with seglog cat), and
 * nothing is written to it between the write and the fsync of a commit. */
START_TEST(test_watermark_before_ack)
{
	start_d(CFG_DURABILITY_FSYNC);
	append_n(2, 100);
	spin();
	complete_write(FULL);
	ck_assert_uint_eq(watermark_on_disk(), 0);
	complete_fsync(0);
	ck_assert_uint_eq(cb.durable, 2);
	ck_assert_uint_eq(cb.wm_at_ack, 2);
	append_n(2, 100);
	spin();
	complete_write(FULL);
	ck_assert_uint_eq(watermark_on_disk(), 2);
	complete_fsync(0);
	ck_assert_uint_eq(cb.wm_at_ack, 4);
	/* written through the store's file operations, not as ring requests
	 * a later completion could reorder */
	ck_assert_int_eq(fake_count(FAKE_WRITE, wm_fd()), 0);
	ck_assert_uint_eq(engine_stats(eng)->watermark_writes, 2);
}
END_TEST

static ssize_t
pwrite_enospc(void *c, int fd, const void *b, size_t n, off_t o)
{
	return -ENOSPC;
}

static bool
no_error(void)
{
	return engine_error(eng) == 0 && write_submitted();
}

/* Finding 3 at the engine: a store opened with its torn tail not yet cut
 * (full disk) reports storage-error, queues records without writing
 * them, and retries the repair from the backoff until it works. */
START_TEST(test_repair_pending_holds_commits)
{
	char p[4096];
	struct store_config sc = { .dir = dir, .dir_mode = 0750, .file_mode = 0640,
				   .max_record = 4096 };
	start_d(CFG_DURABILITY_WRITE);
	append_n(3, 100);
	spin();
	complete_write(FULL);
	eng = engine_free(eng);
	st = store_free(st);
	snprintf(p, sizeof(p), "%s/current", dir);
	int fd = open(p, O_WRONLY | O_APPEND);
	ck_assert_int_eq(write(fd, "torn", 4), 4);
	close(fd);
	/* every pwrite fails (the quarantine copy) */
	struct fsops enospc = fsops_syscall;
	enospc.pwrite = pwrite_enospc;
	ck_assert_int_eq(store_open(&sc, &enospc, &st), 0);
	ck_assert(store_repair_pending(st));
	memset(&cb, 0, sizeof(cb));
	start_d(CFG_DURABILITY_WRITE);
	ck_assert_int_eq(cb.err, -ENOSPC);
	ck_assert_int_eq(engine_error(eng), -ENOSPC);
	append_n(2, 100);
	spin();
	ck_assert_int_eq(fk.n, 0); /* nothing written over the torn bytes */
	store_set_fsops(st, &fsops_syscall); /* space freed */
	ck_assert(run_until(no_error, 3000));
	ck_assert(!store_repair_pending(st));
	int i = fake_find(FAKE_WRITE, cur_fd());
	ck_assert_uint_eq(fk.ops[i].off, store_cur_size(st)); /* at the cut */
	complete_write(FULL);
	ck_assert_uint_eq(cb.durable, 5);
}
END_TEST

static bool
sealed_by_age(void)
{
	return sealed_one();
}

/* segment_age after a restart counts from the header's creation time
 * (converted once to the monotonic clock). */
START_TEST(test_segment_age_from_header)
{
	char p[4096], hdr[RECORD_HEADER_MAX];
	struct store_config sc = { .dir = dir, .dir_mode = 0750, .file_mode = 0640,
				   .max_record = 4096 };
	struct store *s = NULL;
	uint8_t id[RECORD_DIR_ID_LEN];

	ck_assert_int_eq(store_open(&sc, &fsops_syscall, &s), 0);
	memcpy(id, store_dir_id(s), sizeof(id));
	store_free(s);
	/* a current created two hours ago */
	struct segment_header h = { .version = RECORD_FORMAT_VERSION, .first_seq = 1,
				    .created_us = store_now_us() - 7200ull * 1000000 };
	memcpy(h.dir_id, id, sizeof(id));
	size_t n = record_header_encode(&h, hdr);
	snprintf(p, sizeof(p), "%s/current", dir);
	int fd = open(p, O_WRONLY | O_TRUNC);
	ck_assert_int_eq(write(fd, hdr, n), (ssize_t)n);
	close(fd);
	struct engine_config c = ecfg(CFG_DURABILITY_WRITE);
	c.segment_age_us = 3600ull * 1000000;
	start(&c);
	append_n(1, 100);
	spin();
	complete_write(FULL);
	ck_assert(run_until(sealed_by_age, 3000));
}
END_TEST

#ifdef SEGLOG_ACK_AUDIT
/* The ack audit keeps working with the commit struct: a linked sync is
 * credited, a sync-only retry covers the completed write, no violation. */
START_TEST(test_ack_audit_clean)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s.audit", dir);
	setenv("SEGLOG_ACK_AUDIT", p, 1);
	start_d(CFG_DURABILITY_FSYNC);
	append_n(3, 100);
	spin();
	complete_write(40);
	complete_fsync(-ECANCELED);
	spin();
	complete_write(FULL);
	complete_fsync(-EAGAIN);
	spin();
	complete_fsync(0);
	eng = engine_free(eng);
	unsetenv("SEGLOG_ACK_AUDIT");
	size_t n;
	_cleanup_free_ char *log = test_read_file(p, &n);
	unlink(p);
	ck_assert_ptr_nonnull(log);
	ck_assert_ptr_nonnull(strstr(log, "ack 3 "));
	ck_assert_ptr_null(strstr(log, "VIOLATION"));
}
END_TEST
#endif

static Suite *
engine_suite(void)
{
	Suite *s = suite_create("engine");
	TCase *tc = tcase_create("engine");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_ack_only_after_linked_fsync);
	tcase_add_test(tc, test_short_write_resubmits_rest);
	tcase_add_test(tc, test_canceled_write_resubmitted);
	tcase_add_test(tc, test_fsync_eio_rewrites_chunk);
	tcase_add_test(tc, test_enospc_backoff_and_recovery);
	tcase_add_test(tc, test_write_mode_acks_after_write);
	tcase_add_test(tc, test_switch_write_to_fsync_in_flight);
	tcase_add_test(tc, test_switch_fsync_to_write_in_flight);
	tcase_add_test(tc, test_sync_retry_after_switch_to_write);
	tcase_add_test(tc, test_sync_only_retry);
	tcase_add_test(tc, test_memory_limit_lowered_under_load);
	tcase_add_test(tc, test_memory_limit_raised_resumes);
	tcase_add_test(tc, test_enobufs_promises_resume);
	tcase_add_test(tc, test_batch_max_reconfigured);
	tcase_add_test(tc, test_failed_submit_retried);
	tcase_add_test(tc, test_link_never_cut);
	tcase_add_test(tc, test_free_waits_for_inflight);
	tcase_add_test(tc, test_free_gives_up_on_hung_io);
	tcase_add_test(tc, test_seal_after_chunk);
	tcase_add_test(tc, test_rotate_when_idle);
	tcase_add_test(tc, test_rotate_after_queued);
	tcase_add_test(tc, test_sync_request_after_write_mode);
	tcase_add_test(tc, test_rotate_while_seal_queued);
	tcase_add_test(tc, test_watermark_before_ack);
	tcase_add_test(tc, test_repair_pending_holds_commits);
	tcase_add_test(tc, test_segment_age_from_header);
#ifdef SEGLOG_ACK_AUDIT
	tcase_add_test(tc, test_ack_audit_clean);
#endif
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return test_run_suite(engine_suite());
}
