/* A test program (not the daemon) that drives the storage engine directly:
 *
 *   engine-writer write DIR COUNT [fsync|write] [SEGMENT_SIZE] [BATCH_MAX]
 *	appends COUNT records through the io_uring group commit and prints
 *	"ack SEQ" each time the durable seq advances (stdout, unbuffered).
 *   engine-writer check DIR ACKED
 *	reads DIR back and checks that seqs 1..N are present exactly once, in
 *	order, with N >= ACKED and each message the one written for its seq.
 *	Prints "N passed, N failed".
 */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "reader.h"

struct writer {
	struct event_base *base;
	struct engine *engine;
	struct event *feed;
	uint64_t count, appended;
	bool paused;
	int status;
};

static size_t
message_for(uint64_t seq, char *buf)
{
	/* ~100 bytes, content derived from the seq */
	return (size_t)sprintf(buf, "record %" PRIu64 " %016" PRIx64 " lorem ipsum dolor sit amet, "
			       "consectetur adipiscing elit %" PRIu64, seq, (uint64_t)(seq * 0x9e3779b97f4a7c15ull),
			       seq % 997);
}

static void
writer_feedcb(evutil_socket_t fd, short what, void *arg)
{
	struct writer *w = arg;
	char msg[256];

	for (int i = 0; i < 4096 && w->appended < w->count && !w->paused; i++) {
		uint64_t seq = w->appended + 1;
		struct record r = {
			.time_us = store_now_us(), .pid = getpid(), .uid = getuid(), .gid = getgid(),
			.facility = 1, .severity = 6, .tag = "writer", .tag_len = 6,
			.claimed_pid = RECORD_NO_CLAIMED_PID,
		};
		r.msg = msg;
		r.msg_len = message_for(seq, msg);
		int k = engine_append(w->engine, &r);
		if (k == -ENOBUFS)
			break;
		if (k < 0) {
			fprintf(stderr, "engine_append: %s\n", strerror(-k));
			w->status = 1;
			event_base_loopbreak(w->base);
			return;
		}
		if (r.seq != seq) {
			fprintf(stderr, "seq %" PRIu64 " given, %" PRIu64 " expected (not a fresh dir?)\n",
				r.seq, seq);
			w->status = 1;
			event_base_loopbreak(w->base);
			return;
		}
		w->appended++;
	}
	if (w->appended < w->count && !w->paused)
		event_active(w->feed, EV_TIMEOUT, 0);
}

static void
writer_committed(void *ud, uint64_t seq)
{
	struct writer *w = ud;
	printf("ack %" PRIu64 "\n", seq);
	if (seq >= w->count)
		event_base_loopbreak(w->base);
}

static void
writer_pressure(void *ud, bool stop)
{
	struct writer *w = ud;
	w->paused = stop;
	if (!stop)
		event_active(w->feed, EV_TIMEOUT, 0);
}

static int
do_write(const char *dir, uint64_t count, const char *durability, uint64_t segment_size,
	 uint64_t batch_max)
{
	_cleanup_(ring_freep) struct ring *ring = NULL;
	_cleanup_(store_freep) struct store *store = NULL;
	struct writer w = { .count = count };
	struct store_config scfg = { .dir = dir, .dir_mode = 0750, .file_mode = 0640,
				     .max_record = 65536 };
	struct engine_config ecfg = {
		.durability = strcmp(durability, "write") == 0 ? CFG_DURABILITY_WRITE
							       : CFG_DURABILITY_FSYNC,
		.segment_size = segment_size, .memory_limit = 16 << 20, .batch_max = batch_max,
		.max_record = 65536,
	};
	struct engine_callbacks cb = { writer_committed, writer_pressure, NULL, NULL };
	int r;

	setvbuf(stdout, NULL, _IONBF, 0);
	w.base = event_base_new();
	r = ring_new(256, w.base, &ring);
	if (r < 0) {
		fprintf(stderr, "io_uring: %s\n", strerror(-r));
		return r == -ENOSYS || r == -EPERM ? 77 : 1;
	}
	r = store_open(&scfg, ring_fsops(ring), &store);
	if (r < 0)
		return 1;
	r = engine_new(w.base, ring_ops(ring), store, &ecfg, &cb, &w, &w.engine);
	if (r < 0)
		return 1;
	w.feed = event_new(w.base, -1, 0, writer_feedcb, &w);
	event_active(w.feed, EV_TIMEOUT, 0);
	event_base_dispatch(w.base);
	fprintf(stderr, "appended %" PRIu64 ", durable %" PRIu64 ", commits %" PRIu64 "\n",
		w.appended, engine_durable_seq(w.engine), engine_stats(w.engine)->commits);
	event_free(w.feed);
	w.engine = engine_free(w.engine);
	store = store_free(store);
	ring = ring_free(ring);
	event_base_free(w.base);
	return w.status;
}

static int
do_check(const char *dir, uint64_t acked)
{
	_cleanup_(reader_freep) struct reader *rd = NULL;
	struct reader_event ev;
	uint64_t expect = 1, passed = 0, failed = 0;
	char msg[256];
	int k;

	{	/* restart first, as the daemon would: recovery cuts torn tails */
		_cleanup_(store_freep) struct store *st = NULL;
		struct store_config scfg = { .dir = dir, .dir_mode = 0750, .file_mode = 0640,
					     .max_record = 65536 };
		if (store_open(&scfg, &fsops_syscall, &st) < 0)
			return 1;
	}
	k = reader_open(dir, &rd);
	if (k < 0) {
		fprintf(stderr, "%s: %s\n", dir, strerror(-k));
		return 1;
	}
	while ((k = reader_next(rd, &ev)) == READER_NEXT_EVENT) {
		if (ev.type != READER_RECORD) {
			fprintf(stderr, "%s at %s:%" PRIu64 ": %s\n",
				ev.type == READER_GAP ? "gap" : "damage", ev.file, ev.offset,
				ev.reason ? ev.reason : "");
			failed++;
			continue;
		}
		size_t n = message_for(ev.rec.seq, msg);
		if (ev.rec.seq != expect || ev.rec.msg_len != n || memcmp(ev.rec.msg, msg, n)) {
			fprintf(stderr, "seq %" PRIu64 ": expected seq %" PRIu64 " or other content\n",
				ev.rec.seq, expect);
			failed++;
		} else {
			passed++;
		}
		expect = ev.rec.seq + 1;
	}
	if (k < 0) {
		fprintf(stderr, "read error: %s\n", strerror(-k));
		failed++;
	}
	if (expect - 1 < acked) {
		fprintf(stderr, "LOST: acknowledged up to %" PRIu64 ", found up to %" PRIu64 "\n",
			acked, expect - 1);
		failed++;
	}
	printf("%" PRIu64 " passed, %" PRIu64 " failed (acked %" PRIu64 ", found %" PRIu64 ")\n",
	       passed, failed, acked, expect - 1);
	return failed ? 1 : 0;
}

int
main(int argc, char **argv)
{
	log_set_max_level(LOG_NOTICE);
	if (argc >= 4 && strcmp(argv[1], "write") == 0)
		return do_write(argv[2], strtoull(argv[3], NULL, 10), argc > 4 ? argv[4] : "fsync",
				argc > 5 ? strtoull(argv[5], NULL, 10) : 64 << 20,
				argc > 6 ? strtoull(argv[6], NULL, 10) : 1 << 20);
	if (argc == 4 && strcmp(argv[1], "check") == 0)
		return do_check(argv[2], strtoull(argv[3], NULL, 10));
	fprintf(stderr, "usage: engine-writer write DIR COUNT [fsync|write] [SEGMENT_SIZE] [BATCH_MAX]\n"
			"       engine-writer check DIR ACKED\n");
	return 2;
}
