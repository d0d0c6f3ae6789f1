/* Inside seglog ship: the shipper's state (struct ship), shared by
 * ship.c (the loop, the reader, the cursor and the state machine) and
 * shipkafka.c (the librdkafka producer: configuration, events, delivery
 * reports, produce).  Nothing outside these two includes it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <event2/event.h>
#include <librdkafka/rdkafka.h>

#include "cursor.h"
#include "output.h"
#include "reader.h"
#include "record.h"
#include "ship.h"
#include "shipq.h"

enum {
	/* records read per loop turn before the loop serves delivery reports:
	 * small, so that what Kafka confirmed is freed while the next batch
	 * is read (8192 held 3x the memory and took 1.3x the time) */
	SHIP_PUMP_BATCH = 1024,
	SHIP_TICK_MS = 1000,	       /* status, watchdog, and a safety net behind inotify */
	SHIP_MAX_IN_FLIGHT = 100000,   /* librdkafka's queue.buffering.max.messages */
};

struct ship {
	const struct ship_config *cfg;
	ship_status_fn status_fn;
	void *userdata;

	struct event_base *base;
	struct event *kafka_ev, *ino_ev, *tick_ev, *save_ev, *retry_ev, *drain_ev, *pump_ev;
	struct event *term_ev, *int_ev, *hup_ev, *usr1_ev, *usr2_ev;
	int pipe_rd, pipe_wr, ino_fd, data_dir_fd;
	int lock_fd;		/* flock on CURSOR.lock: one shipper per cursor */
	dev_t dir_dev;		/* the data directory opened, to notice it replaced */
	ino_t dir_ino;

	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	rd_kafka_queue_t *mainq;

	struct reader *rd;
	struct shipq *q;
	struct output out;
	uint8_t dir_id[RECORD_DIR_ID_LEN];
	char dir_hex[2 * RECORD_DIR_ID_LEN + 1];
	size_t host_len;

	struct cursor_file cf;
	uint64_t saved_seq; /* what the cursor file holds */
	uint64_t start_time_us; /* the receive time the cursor named at start (0: none) */
	int save_err;	    /* the last save's -errno, 0 once one succeeded */
	uint64_t save_fail_us;
	char save_why[300]; /* why the cursor cannot be saved, for the status */

	/* the record read but not yet accepted by the producer (backpressure) */
	char *buf;
	size_t buf_cap, buf_len;
	uint64_t pending_seq;
	uint64_t pending_time_us; /* its receive time: the Kafka timestamp, the cursor's check */
	bool have_pending;
	bool blocked;

	enum ship_state state;
	char reason[256];
	unsigned attempt;
	bool fatal;		/* a fatal producer error was reported */
	char fail_why[256];	/* the first failure since the last recovery */
	int exit_code;
	uint64_t last_read_seq;
	uint64_t expect_seq;	/* the seq the next record should have (0: not known) */
	bool end_seen;		/* --once: the reader reached the durable end */
	uint64_t end_seq;	/* --once: the last seq to ship */
	struct ship_stats st;
	uint64_t tick_confirmed, tick_us;
};

/* ship.c */
uint64_t ship_now_us(void);
/* a failed delivery or fatal producer error: purge, back off, resend */
void ship_recover(struct ship *s, const char *why);
/* a permanent error: stop shipping with the reason in the status */
void ship_stop(struct ship *s, const char *why);

uint64_t ship_durable_seq(struct ship *s);

/* shipcursor.c */
int ship_cursor_open(struct ship *s, uint64_t *ret_seq);
int ship_cursor_relock(struct ship *s);
int ship_cursor_check_end(struct ship *s, uint64_t seq);
int ship_cursor_save(struct ship *s, bool force);
void ship_schedule_save(struct ship *s);
void ship_save_timercb(evutil_socket_t fd, short what, void *arg);

/* shipkafka.c */
int ship_producer_new(struct ship *s);
void ship_producer_free(struct ship *s);
void ship_drain_events(struct ship *s);
int ship_produce(struct ship *s);
