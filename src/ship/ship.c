/* seglog ship (ship.h): the shipper's event loop around a librdkafka
 * producer (shipkafka.c).  Request state lives in shipq (one ledger entry
 * per record in flight, judged by its delivery report); this file wires
 * the reader, the producer, the cursor file and the loop, and owns the
 * state machine (running, retrying, draining, stopped). */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "now.h"
#include "segdir.h"
#include "ship_internal.h"
#include "watermark.h"

uint64_t
ship_now_us(void)
{
	return now_us(CLOCK_MONOTONIC);
}

const char *
ship_state_name(enum ship_state s)
{
	static const char *const names[] = {
		[SHIP_STARTING] = "starting", [SHIP_RUNNING] = "running",
		[SHIP_RETRYING] = "retrying", [SHIP_STOPPED] = "stopped",
		[SHIP_DRAINING] = "draining",
	};
	return (unsigned)s < ELEMENTSOF(names) ? names[s] : "?";
}

/* --- status ------------------------------------------------------------- */

/* The newest durable seq: the watermark if the daemon publishes one, else
 * the newest seq read. */
uint64_t
ship_durable_seq(struct ship *s)
{
	char buf[WATERMARK_LEN];
	uint8_t id[RECORD_DIR_ID_LEN];
	uint64_t seq;
	_cleanup_close_ int fd = openat(s->data_dir_fd, WATERMARK_FILE,
					O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0 && pread(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf) &&
	    watermark_parse(buf, sizeof(buf), id, &seq) == 0 && memcmp(id, s->dir_id, sizeof(id)) == 0)
		return seq > s->last_read_seq ? seq : s->last_read_seq;
	return s->last_read_seq;
}

static void
ship_report_status(struct ship *s)
{
	struct ship_stats *st = &s->st;
	uint64_t now = ship_now_us(), mean;

	st->state = s->state;
	st->reason = s->reason[0] || s->state != SHIP_RUNNING ? s->reason : s->save_why;
	st->confirmed_seq = shipq_confirmed(s->q);
	st->durable_seq = ship_durable_seq(s);
	st->lag_records = st->durable_seq > st->confirmed_seq ? st->durable_seq - st->confirmed_seq : 0;
	st->in_flight = shipq_in_flight(s->q);
	mean = st->shipped ? st->shipped_bytes / st->shipped : 256;
	st->lag_bytes = shipq_in_flight_bytes(s->q) +
			(st->lag_records > st->in_flight ? st->lag_records - st->in_flight : 0) * mean;
	if (now > s->tick_us)
		st->rate = (double)(st->confirmed_seq - s->tick_confirmed) * 1e6 / (double)(now - s->tick_us);
	s->tick_confirmed = st->confirmed_seq;
	s->tick_us = now;
	if (s->status_fn)
		s->status_fn(st, s->userdata);
}

static void
ship_set_state(struct ship *s, enum ship_state state, const char *reason)
{
	s->state = state;
	snprintf(s->reason, sizeof(s->reason), "%s", reason ? reason : "");
	ship_report_status(s);
}

/* A failed delivery or a fatal producer error: never skip a record.  The
 * producer goes (its idempotence state is unusable after a fatal error),
 * the ledger forgets what was in flight, and after a backoff a new
 * producer resends from the cursor. */
void
ship_recover(struct ship *s, const char *why)
{
	char reason[sizeof(s->fail_why)];
	struct timeval tv;
	unsigned ms;

	snprintf(reason, sizeof(reason), "%s", why);
	s->fatal = false;
	s->fail_why[0] = '\0';
	if (s->state == SHIP_RETRYING || s->state == SHIP_STOPPED)
		return;
	if (s->state == SHIP_DRAINING) {
		event_base_loopbreak(s->base); /* nothing more will be confirmed */
		return;
	}
	s->state = SHIP_RETRYING; /* before the purge: its reports must not recurse */
	ship_producer_free(s);
	shipq_reset(s->q);
	s->have_pending = s->blocked = false;
	(void)ship_cursor_save(s, true);
	s->fatal = false;
	s->fail_why[0] = '\0';
	s->st.restarts++;
	ms = shipq_backoff_ms(++s->attempt);
	log_warning("Kafka: %s; resending from seq %" PRIu64 " in %u ms", reason,
		    shipq_confirmed(s->q) + 1, ms);
	ship_set_state(s, SHIP_RETRYING, reason);
	tv = (struct timeval){ .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	evtimer_add(s->retry_ev, &tv);
}

/* Arms the drain timer: drain_ms, or at once. */
static void
ship_arm_drain(struct ship *s)
{
	unsigned ms = s->cfg->drain_ms;
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	if (shipq_unreported(s->q) == 0)
		tv = (struct timeval){ 0, 0 };
	evtimer_add(s->drain_ev, &tv);
}

/* A permanent error: nothing more is read, but what was sent before the
 * refused record still gets its reports (bounded by drain_ms), so the
 * cursor stands right before it; then the producer goes (ship_stopped).
 * Called from a report or from produce: the producer is never freed
 * here, inside librdkafka's events. */
void
ship_stop(struct ship *s, const char *why)
{
	if (s->state == SHIP_STOPPED)
		return;
	log_error("Shipping stopped: %s (fix it, then restart seglog ship)", why);
	s->exit_code = -ECANCELED;
	s->have_pending = false;
	ship_set_state(s, SHIP_STOPPED, why);
	ship_arm_drain(s);
}

/* After ship_stop's drain: purge the rest, save the cursor; --once is done. */
static void
ship_stopped(struct ship *s)
{
	if (!s->rk)
		return;
	evtimer_del(s->drain_ev);
	ship_producer_free(s);
	(void)ship_cursor_save(s, true);
	log_info("Stopped at seq %" PRIu64 ", before the record Kafka refused", shipq_confirmed(s->q));
	if (s->cfg->once)
		event_base_loopbreak(s->base);
}

/* SIGTERM, or the directory gone: stop reading; wait (bounded) for the
 * reports of what is in flight, in the loop, not in a blocking flush. */
static void
ship_begin_drain(struct ship *s)
{
	if (s->state == SHIP_STOPPED) {
		ship_stopped(s);
		event_base_loopbreak(s->base);
		return;
	}
	if (s->state != SHIP_RUNNING || shipq_unreported(s->q) == 0 || s->cfg->drain_ms == 0) {
		if (s->state == SHIP_DRAINING || (s->cfg->drain_ms == 0 && shipq_unreported(s->q)))
			log_warning("Kafka: %zu records unconfirmed %s; they will be sent again next "
				    "time", shipq_unreported(s->q),
				    s->state == SHIP_DRAINING ? "at a second signal, which cuts the "
				    "drain short" : "(drain_timeout 0)");
		event_base_loopbreak(s->base);
		return;
	}
	ship_set_state(s, SHIP_DRAINING, NULL);
	ship_arm_drain(s);
}

/* The data directory we read, still at its path?  0 if so; -ENOENT if the
 * path is gone, -ESTALE if it names another directory now. */
static int
ship_dir_same(struct ship *s)
{
	struct stat st;

	if (stat(s->cfg->dir, &st) < 0)
		return -ENOENT;
	return st.st_dev == s->dir_dev && st.st_ino == s->dir_ino ? 0 : -ESTALE;
}

/* The directory was removed or replaced (a recreated one starts its seqs
 * at 1 again under a new dir-id): what was read is drained, the cursor
 * saved, and the shipper exits 1 -- systemd's Restart= starts it again,
 * and the new run ships the new directory from its first record. */
static void
ship_dir_gone(struct ship *s, int why)
{
	if (s->exit_code == -ESTALE)
		return;
	log_error("Data directory %s was %s while shipping (at seq %" PRIu64 " of dir-id %s): "
		  "stopping; a new start ships the directory now there (a new one from its first "
		  "record)",
		  s->cfg->dir, why == -ENOENT ? "removed" : "replaced", shipq_confirmed(s->q),
		  s->dir_hex);
	s->exit_code = -ESTALE;
	ship_begin_drain(s);
}

/* Checks the directory (the tick, inotify's IN_DELETE_SELF, the end of
 * --once); true if it went. */
static bool
ship_check_dir(struct ship *s)
{
	int k = ship_dir_same(s);

	if (k < 0)
		ship_dir_gone(s, k);
	return k < 0;
}

/* --- reading and producing ---------------------------------------------- */

/* Formats the record as `seglog cat -o json` prints it, without its LF. */
static int
ship_format(struct ship *s, const struct record *rec)
{
	size_t need = output_max(rec);

	if (need > s->buf_cap) {
		size_t cap = need > 2 * s->buf_cap ? need : 2 * s->buf_cap;
		char *b = realloc(s->buf, cap);
		if (!b)
			return -ENOMEM;
		s->buf = b;
		s->buf_cap = cap;
	}
	s->buf_len = output_format(&s->out, rec, s->buf);
	if (s->buf_len > 0 && s->buf[s->buf_len - 1] == '\n')
		s->buf_len--;
	s->pending_seq = rec->seq;
	s->pending_time_us = rec->time_us;
	s->have_pending = true;
	return 0;
}

/* --once: done when every record up to the end seen first is confirmed. */
static void
ship_check_done(struct ship *s)
{
	if (s->end_seen && s->state == SHIP_RUNNING && shipq_confirmed(s->q) >= s->end_seq &&
	    !ship_check_dir(s))
		event_base_loopbreak(s->base);
}

/* --once: the reader has nothing durable left; what it read so far is the
 * whole job, even if records arrive while the last reports come back. */
static void
ship_at_end(struct ship *s)
{
	if (!s->cfg->once)
		return;
	if (!s->end_seen) {
		s->end_seen = true;
		s->end_seq = s->last_read_seq;
	}
	ship_check_done(s);
}

/* What the reader says besides records: logged, and the seqs it says are
 * missing counted.  A record after a hole the reader did not report is
 * counted and logged too (it should not happen; if it does, the log says
 * which side lost the record). */
static void
ship_note_event(struct ship *s, const struct reader_event *ev)
{
	const char *dir = s->cfg->dir;

	switch (ev->type) {
	case READER_GAP:
		s->st.missing += ev->gap_last - ev->gap_first + 1;
		s->expect_seq = ev->gap_last + 1;
		log_warning("Records %" PRIu64 "..%" PRIu64 " are missing from %s%s: not shipped",
			    ev->gap_first, ev->gap_last, dir,
			    ev->gap_at_start ? " (removed by retention)" : "");
		return;
	case READER_RECORD:
		if (s->expect_seq && ev->rec.seq > s->expect_seq) {
			s->st.missing += ev->rec.seq - s->expect_seq;
			log_error("Records %" PRIu64 "..%" PRIu64 " of %s were skipped by the reader "
				  "without a gap reported: not shipped (a bug: please report it)",
				  s->expect_seq, ev->rec.seq - 1, dir);
		}
		s->expect_seq = ev->rec.seq + 1;
		return;
	case READER_DAMAGED:
		if (!ev->in_current)
			log_warning("%s/%s offset %" PRIu64 ": %s: not shipped", dir, ev->file,
				    ev->offset, ev->reason);
		return;
	case READER_BAD_SEGMENT:
		log_warning("%s/%s: %s: not shipped", dir, ev->file, ev->reason);
		return;
	case READER_BAD_DIR_ID:
		log_warning("%s/" SEGDIR_DIR_ID ": %s", dir, ev->reason);
		return;
	default:
		return;
	}
}

/* The next record to produce into s->buf: 1, 0 if there is none now
 * (the caller returns to the loop), or <0 (logged; retried later). */
static int
ship_read_next(struct ship *s)
{
	struct reader_event ev;
	int k;

	for (;;) {
		k = reader_next(s->rd, &ev);
		if (k == READER_NEXT_WAIT) {
			ship_at_end(s);
			return 0; /* inotify or the tick wakes us */
		}
		if (k == -EXDEV) {
			ship_dir_gone(s, -ESTALE);
			return k;
		}
		if (k < 0)
			return log_error_errno(k, "Cannot read %s: %m", s->cfg->dir);
		ship_note_event(s, &ev);
		if (ev.type == READER_RECORD && ev.rec.seq > shipq_last_pushed(s->q))
			break;
	}
	if (s->end_seen && ev.rec.seq > s->end_seq)
		return 0; /* --once: newer than the end it set out to ship */
	s->last_read_seq = ev.rec.seq;
	if (ship_format(s, &ev.rec) < 0)
		return log_error_errno(-ENOMEM, "Out of memory formatting seq %" PRIu64, ev.rec.seq);
	return 1;
}

/* Reads and produces until the reader has nothing durable left, the
 * producer pushes back, or a batch is done (then it yields to the loop,
 * so delivery reports are served between batches). */
static void
ship_pump(struct ship *s)
{
	int k;

	for (unsigned n = 0; s->state == SHIP_RUNNING && !s->blocked; n++) {
		if (n == SHIP_PUMP_BATCH) {
			/* a zero timeout, not event_active: libevent runs events
			 * activated in a callback before it polls again, so the
			 * delivery reports' fd would wait until the queue is full */
			static const struct timeval now = { 0, 0 };
			evtimer_add(s->pump_ev, &now);
			return;
		}
		if (!s->have_pending && ship_read_next(s) <= 0)
			return;
		k = ship_produce(s);
		if (k == -ENOBUFS) {
			s->blocked = true; /* backpressure: the next reports unblock */
			return;
		}
		if (k < 0)
			return;
	}
}

static void
ship_pumpcb(evutil_socket_t fd, short what, void *arg)
{
	ship_pump(arg);
}

/* The main queue turned non-empty: drain the pipe, serve every event,
 * then act on what they said. */
static void
ship_kafkacb(evutil_socket_t fd, short what, void *arg)
{
	struct ship *s = arg;
	char junk[256];

	while (read(fd, junk, sizeof(junk)) > 0)
		;
	ship_drain_events(s);
	if (s->state == SHIP_STOPPED) {
		ship_schedule_save(s);
		if (s->rk && shipq_unreported(s->q) == 0)
			ship_stopped(s);
		return;
	}
	if (s->fatal || shipq_failed(s->q)) {
		ship_recover(s, s->fail_why[0] ? s->fail_why : "delivery failed");
		return;
	}
	if (s->st.shipped && s->attempt && shipq_confirmed(s->q) > s->saved_seq)
		s->attempt = 0; /* confirmed again: the next failure starts the backoff over */
	ship_schedule_save(s);
	ship_check_done(s);
	if (s->state == SHIP_DRAINING) {
		if (shipq_unreported(s->q) == 0)
			event_base_loopbreak(s->base);
		return;
	}
	if (s->blocked && !shipq_full(s->q)) {
		s->blocked = false;
		ship_pump(s);
	}
}

static void
ship_inotifycb(evutil_socket_t fd, short what, void *arg)
{
	struct ship *s = arg;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool self = false;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *e = (const struct inotify_event *)p;
			self |= (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) != 0;
			p += sizeof(*e) + e->len;
		}
	if (self && ship_check_dir(s))
		return;
	ship_pump(s);
}

static void
ship_tickcb(evutil_socket_t fd, short what, void *arg)
{
	struct ship *s = arg;

	ship_report_status(s);
	if (s->state != SHIP_DRAINING && ship_check_dir(s))
		return;
	if (s->state != SHIP_DRAINING && ship_cursor_relock(s) < 0) {
		s->exit_code = -EBUSY;
		ship_begin_drain(s);
		return;
	}
	if (s->rk)
		ship_kafkacb(s->pipe_rd, EV_READ, s); /* a safety net behind the fd */
	ship_pump(s);				       /* and behind inotify */
}

/* After the backoff: a new producer, and reading again from the cursor. */
static void
ship_retrycb(evutil_socket_t fd, short what, void *arg)
{
	struct ship *s = arg;
	struct timeval tv;
	int k;

	k = ship_producer_new(s);
	if (k == 0)
		k = reader_seek_seq(s->rd, shipq_confirmed(s->q) + 1);
	s->expect_seq = 0; /* known again after the first record */
	if (k < 0) {
		unsigned ms = shipq_backoff_ms(++s->attempt);
		ship_producer_free(s);
		tv = (struct timeval){ .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
		evtimer_add(s->retry_ev, &tv);
		return;
	}
	s->last_read_seq = shipq_confirmed(s->q);
	ship_set_state(s, SHIP_RUNNING, NULL);
	ship_pump(s);
}

static void
ship_drain_timercb(evutil_socket_t fd, short what, void *arg)
{
	struct ship *s = arg;

	if (shipq_unreported(s->q))
		log_warning("Kafka: %zu records still unconfirmed after %u ms; they will be sent "
			    "again next time", shipq_unreported(s->q), s->cfg->drain_ms);
	if (s->state == SHIP_STOPPED) {
		ship_stopped(s);
		return;
	}
	event_base_loopbreak(s->base);
}

/* SIGTERM/SIGINT: drain and exit. */
static void
ship_signalcb(evutil_socket_t sig, short what, void *arg)
{
	ship_begin_drain(arg);
}

/* SIGUSR1: the status line in the log.  SIGHUP: there is nothing to
 * reload (the configuration is read at start).  SIGUSR2: nothing.  None
 * of them stops the shipper (their default action would, undrained). */
static void
ship_infocb(evutil_socket_t sig, short what, void *arg)
{
	struct ship *s = arg;

	if (sig == SIGHUP) {
		log_notice("SIGHUP: seglog ship reads its configuration only at start; restart it "
			   "to apply changes");
		return;
	}
	if (sig != SIGUSR1)
		return;
	ship_report_status(s);
	log_info("Status: %s%s%s: seq %" PRIu64 " shipped, lag %" PRIu64 " records, %" PRIu64
		 " in flight, %" PRIu64 " restarts", ship_state_name(s->st.state),
		 s->st.reason[0] ? ": " : "", s->st.reason, s->st.confirmed_seq, s->st.lag_records,
		 s->st.in_flight, s->st.restarts);
}

/* --- setup -------------------------------------------------------------- */

static void
ship_done(struct ship *s)
{
	struct event **evs[] = { &s->kafka_ev, &s->ino_ev,  &s->tick_ev,  &s->save_ev,
				 &s->retry_ev, &s->drain_ev, &s->pump_ev,  &s->term_ev,
				 &s->int_ev,   &s->hup_ev,   &s->usr1_ev,  &s->usr2_ev };

	ship_producer_free(s);
	for (size_t i = 0; i < ELEMENTSOF(evs); i++)
		if (*evs[i]) {
			event_free(*evs[i]);
			*evs[i] = NULL;
		}
	if (s->base)
		event_base_free(s->base);
	s->rd = reader_free(s->rd);
	s->q = shipq_free(s->q);
	free(s->buf);
	safe_close(s->pipe_rd);
	safe_close(s->pipe_wr);
	safe_close(s->ino_fd);
	safe_close(s->data_dir_fd);
	safe_close(s->lock_fd);
	cursor_file_close(&s->cf);
}

static int
ship_setup_loop(struct ship *s)
{
	struct timeval tick = { .tv_sec = SHIP_TICK_MS / 1000, .tv_usec = (SHIP_TICK_MS % 1000) * 1000 };
	int p[2];

	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
		return log_error_errno(errno, "pipe2: %m");
	s->pipe_rd = p[0];
	s->pipe_wr = p[1];
	s->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->ino_fd < 0 ||
	    inotify_add_watch(s->ino_fd, s->cfg->dir, IN_CREATE | IN_MOVED_TO | IN_MODIFY |
				      IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF) < 0)
		return log_error_errno(errno, "inotify on %s: %m", s->cfg->dir);
	s->base = event_base_new();
	if (!s->base)
		return log_error_errno(-ENOMEM, "Cannot create the event loop");
	s->kafka_ev = event_new(s->base, s->pipe_rd, EV_READ | EV_PERSIST, ship_kafkacb, s);
	s->ino_ev = event_new(s->base, s->ino_fd, EV_READ | EV_PERSIST, ship_inotifycb, s);
	s->tick_ev = event_new(s->base, -1, EV_PERSIST, ship_tickcb, s);
	s->save_ev = evtimer_new(s->base, ship_save_timercb, s);
	s->retry_ev = evtimer_new(s->base, ship_retrycb, s);
	s->drain_ev = evtimer_new(s->base, ship_drain_timercb, s);
	s->pump_ev = event_new(s->base, -1, 0, ship_pumpcb, s);
	s->term_ev = evsignal_new(s->base, SIGTERM, ship_signalcb, s);
	s->int_ev = evsignal_new(s->base, SIGINT, ship_signalcb, s);
	s->hup_ev = evsignal_new(s->base, SIGHUP, ship_infocb, s);
	s->usr1_ev = evsignal_new(s->base, SIGUSR1, ship_infocb, s);
	s->usr2_ev = evsignal_new(s->base, SIGUSR2, ship_infocb, s);
	if (!s->kafka_ev || !s->ino_ev || !s->tick_ev || !s->save_ev || !s->retry_ev ||
	    !s->drain_ev || !s->pump_ev || !s->term_ev || !s->int_ev || !s->hup_ev ||
	    !s->usr1_ev || !s->usr2_ev)
		return log_error_errno(-ENOMEM, "Cannot create events");
	if (event_add(s->kafka_ev, NULL) < 0 || event_add(s->ino_ev, NULL) < 0 ||
	    event_add(s->tick_ev, &tick) < 0 || event_add(s->term_ev, NULL) < 0 ||
	    event_add(s->int_ev, NULL) < 0 || event_add(s->hup_ev, NULL) < 0 ||
	    event_add(s->usr1_ev, NULL) < 0 || event_add(s->usr2_ev, NULL) < 0)
		return log_error_errno(-EIO, "Cannot add events");
	/* a broken connection is an error librdkafka handles, not a signal */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return log_error_errno(errno, "Cannot ignore SIGPIPE: %m");
	return 0;
}

/* Opens everything ship_run needs; *ret_seq: the cursor's seq. */
static int
ship_setup(struct ship *s, uint64_t *ret_seq)
{
	const struct ship_config *cfg = s->cfg;
	struct stat st;
	int k;

	output_init(&s->out, OUTPUT_JSON, false, false);
	s->host_len = strlen(cfg->host_id);
	s->data_dir_fd = open(cfg->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->data_dir_fd < 0) {
		k = -errno;
		/* names nothing there (or not a directory): the configuration's fault */
		return log_error_errno(k == -ENOENT || k == -ENOTDIR ? -EINVAL : k,
				       "Cannot open data directory %s: %s (set [storage] dir, -d or "
				       "$SEGLOG_DIR to seglogd's data directory)", cfg->dir,
				       strerror(-k));
	}
	if (fstat(s->data_dir_fd, &st) < 0)
		return log_error_errno(errno, "fstat %s: %m", cfg->dir);
	s->dir_dev = st.st_dev;
	s->dir_ino = st.st_ino;
	k = reader_open(cfg->dir, &s->rd);
	if (k < 0)
		return log_error_errno(k, "Cannot read %s: %m", cfg->dir);
	if (!reader_dir_id(s->rd, s->dir_id))
		return log_error_errno(-EINVAL, "%s has no " SEGDIR_DIR_ID ": not a seglog data "
				       "directory, or seglogd never ran on it", cfg->dir);
	segdir_id_to_hex(s->dir_id, s->dir_hex);
	/* if the directory is replaced under us, stop rather than mix two */
	reader_require_dir_id(s->rd, s->dir_id);
	k = ship_cursor_open(s, ret_seq);
	if (k == 0)
		k = ship_cursor_check_end(s, *ret_seq);
	if (k < 0)
		return k;
	k = shipq_new(cfg->max_in_flight ? cfg->max_in_flight : SHIP_MAX_IN_FLIGHT, *ret_seq,
		      &s->q);
	if (k < 0)
		return log_error_errno(k, "Cannot allocate the ledger: %m");
	k = ship_setup_loop(s);
	if (k < 0)
		return k;
	return ship_producer_new(s);
}

/* The bootstrap servers in effect: -X bootstrap.servers (applied last)
 * over --brokers. */
static const char *
ship_brokers(const struct ship_config *cfg)
{
	const char *b = cfg->brokers;

	for (size_t i = 0; i < cfg->n_props; i++)
		if (strncmp(cfg->props[i], "bootstrap.servers=", 18) == 0)
			b = cfg->props[i] + 18;
	return b;
}

/* After the loop: the last cursor save, and what the exit status says. */
static int
ship_finish(struct ship *s)
{
	int k = s->exit_code, save = ship_cursor_save(s, true);

	ship_report_status(s);
	log_info("Stopped at seq %" PRIu64 " (%" PRIu64 " records shipped)", shipq_confirmed(s->q),
		 s->st.shipped);
	if (save < 0) {
		log_error("The cursor file %s could not be saved: a new start ships again from seq "
			  "%" PRIu64 " (duplicates a consumer removes by (host, dir-id, seq))",
			  s->cfg->cursor_path, s->saved_seq + 1);
		if (k == 0)
			k = -EIO;
	}
	if (k == 0 && s->cfg->once && s->st.missing) {
		log_error("%" PRIu64 " records up to seq %" PRIu64 " were not shipped: missing from %s "
			  "(damaged, or removed by retention before they were shipped; see the "
			  "warnings above)", s->st.missing, shipq_confirmed(s->q), s->cfg->dir);
		k = -ENODATA;
	}
	if (k == 0 && s->cfg->once && !(s->end_seen && shipq_confirmed(s->q) >= s->end_seq)) {
		log_error("Stopped before Kafka confirmed every durable record (seq %" PRIu64
			  " of %" PRIu64 "); run again to ship the rest",
			  shipq_confirmed(s->q), s->end_seen ? s->end_seq : ship_durable_seq(s));
		k = -EINTR;
	}
	return k;
}

int
ship_run(const struct ship_config *cfg, ship_status_fn status, void *userdata)
{
	struct ship s = {
		.cfg = cfg, .status_fn = status, .userdata = userdata,
		.pipe_rd = -EBADF, .pipe_wr = -EBADF, .ino_fd = -EBADF,
		.data_dir_fd = -EBADF, .lock_fd = -EBADF, .cf = CURSOR_FILE_INIT, .state = SHIP_STARTING,
	};
	uint64_t seq = 0;
	int k;

	k = ship_setup(&s, &seq);
	if (k < 0) {
		ship_done(&s);
		return k;
	}
	s.saved_seq = seq;
	s.last_read_seq = seq;
	s.tick_us = ship_now_us();
	s.tick_confirmed = seq;
	reader_set_follow(s.rd, true);
	k = reader_seek_seq(s.rd, seq + 1);
	if (k < 0) {
		log_error_errno(k, "Cannot seek to seq %" PRIu64 " in %s: %m", seq + 1, cfg->dir);
		ship_done(&s);
		return k;
	}
	log_info("Shipping %s (dir-id %s) from seq %" PRIu64 " to Kafka topic %s at %s as host %s",
		 cfg->dir, s.dir_hex, seq + 1, cfg->topic, ship_brokers(cfg), cfg->host_id);
	ship_set_state(&s, SHIP_RUNNING, NULL);
	ship_pump(&s);
	event_base_dispatch(s.base);

	/* bounded drain done (or cut short): purge the rest, keep what was confirmed */
	ship_producer_free(&s);
	k = ship_finish(&s);
	ship_done(&s);
	return k;
}
