/* The state of struct engine, shared by the engine's two files and by no
 * one else (engine.h is the interface): engine.c (the pending queue,
 * appends, backpressure, seal marks, the timers, life and death) and
 * engine_commit.c (the commit request, its judgement, errors and backoff,
 * the pump). */
#pragma once

#include <event2/util.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ackaudit.h"
#include "engine.h"

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

/* engine.c: segment age restarts (from current's header after a restart);
 * the head chunk is done with; pressure(true/false) re-evaluated */
void engine_segment_started(struct engine *e, bool from_header);
void engine_chunk_pop(struct engine *e);
void engine_update_pressure(struct engine *e);

/* engine_commit.c: run the engine's decisions and submit; seal current now
 * (and run retention); publish the durable seq in DIR/watermark; the
 * completion handlers of the two requests and the backoff timer */
void engine_pump(struct engine *e);
void engine_seal(struct engine *e);
void engine_wm_publish(struct engine *e);
void engine_write_donecb(struct ring_req *req, int res);
void engine_sync_donecb(struct ring_req *req, int res);
void engine_retrycb(evutil_socket_t fd, short what, void *arg);
