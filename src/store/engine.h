/* The commit engine: group commit through io_uring (docs/design.md).
 *
 * engine_append() stamps a record with the next seq and encodes it into
 * the pending batch; at the end of the loop turn (or as soon as the commit
 * in flight completes) the batch goes to disk as one write at the end of
 * `current`, linked (IOSQE_IO_LINK) to an fdatasync in durability=fsync.
 * Each submission is one struct commit that records what it submitted
 * (offset, length, the durability chosen then, which requests); its
 * completion is judged by that record alone, never by configuration read
 * later.  Only when a chunk is written in full and, if its last commit
 * was in fsync mode, an fdatasync issued after the write completed
 * returned 0, does committed() report the chunk's last seq.  Short
 * writes, EINTR, EAGAIN and a cancelled link are resubmitted; ENOSPC, EIO
 * and EDQUOT stop commits, are reported through storage_error(), and are
 * retried with backoff until they clear.  Bytes accepted but not committed
 * are bounded by memory_limit: pressure(true) asks the caller to stop
 * reading, and pressure(false) to resume.  After each commit DIR/watermark
 * is rewritten with the durable seq before committed() runs (the acks).
 *
 * The engine reaches the kernel only through a struct ring_ops table, so
 * tests/check_engine.c drives it over a fake ring. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cfg.h"
#include "record.h"
#include "ring.h"
#include "store.h"

struct event_base;
struct engine;

struct engine_config {
	enum cfg_durability durability;
	uint64_t segment_size;
	uint64_t segment_age_us; /* 0 = never */
	uint64_t memory_limit;
	uint64_t batch_max;
	uint32_t max_record;
	uint64_t retention_interval_us; /* how often age/keep_free rules run; 0: 1 min */
	uint64_t retry_min_us;		/* first backoff after a storage error; 0: 100 ms */
};

struct engine_callbacks {
	void (*committed)(void *userdata, uint64_t durable_seq);
	void (*pressure)(void *userdata, bool stop);
	/* err < 0: commits are failing with it; 0: they work again. */
	void (*storage_error)(void *userdata, int err);
	/* A seal step sequence succeeded (engine_sealed_through() may have
	 * become true; may be NULL). */
	void (*sealed)(void *userdata);
};

struct engine_stats {
	uint64_t records;  /* committed since start */
	uint64_t bytes;
	uint64_t commits;
	uint64_t fsyncs;
	uint64_t errors;
	uint64_t pending_bytes;
	uint64_t lat_hist[32]; /* commit latency, bucket i: [2^i, 2^(i+1)) µs */
	uint64_t lat_sum_us;   /* the sum of the commit latencies counted there */
	uint64_t submit_errors;	  /* io_uring_submit failures (retried from a timer) */
	uint64_t watermark_writes; /* DIR/watermark rewrites completed */
	uint64_t watermark_errors;
};

/* io: the ring's asynchronous operations (ring_ops()), or a test double. */
int engine_new(struct event_base *base, const struct ring_ops *io, struct store *store,
	       const struct engine_config *cfg, const struct engine_callbacks *cb, void *userdata,
	       struct engine **ret);
/* Waits for the engine's requests in flight (1 s), cancels what is left
 * and waits again (1 s); what still does not complete is left to the
 * kernel with a message, and the engine's memory with it (never freed
 * under a request).  Pending records are dropped, so drain first
 * (engine_idle).  Never calls back. */
struct engine *engine_free(struct engine *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct engine *, engine_free)

/* Assigns r->seq (and nothing else: r->time_us is the caller's receive
 * time) and queues the record.  -ENOBUFS if memory_limit is reached (the
 * engine is then under pressure and calls pressure(false) once there is
 * room), -EMSGSIZE if it is larger than max_record. */
int engine_append(struct engine *e, struct record *r);
/* True if a record of max_record bytes can be queued now. */
bool engine_can_accept(const struct engine *e);
/* Seal `current` after what is already queued.  false if there is
 * nothing to seal (current holds no record and none is queued). */
bool engine_rotate(struct engine *e);
/* Every record up to seq is in a sealed segment: the seal that covers it
 * completed (`current` starts after seq) and none is half done. */
bool engine_sealed_through(const struct engine *e, uint64_t seq);
/* The last seq a completed fdatasync covers: <= the durable seq, which in
 * durability = write only means written (a seal syncs the directory, not
 * the data). */
uint64_t engine_synced_seq(const struct engine *e);
/* In durability = fsync, makes sure what is durable only as written (from
 * before a switch from write) gets an fdatasync: queues one behind what is
 * queued if needed; committed() follows it. */
void engine_request_sync(struct engine *e);
/* Runtime changes (SIGHUP): durability, rotation triggers, limits.  The
 * commit in flight keeps the durability it was submitted with; the next
 * one uses the new configuration.  Backpressure is re-evaluated at once
 * against the new memory_limit (pressure() is called if it changes). */
void engine_reconfigure(struct engine *e, const struct engine_config *cfg);

bool engine_idle(const struct engine *e);
uint64_t engine_durable_seq(const struct engine *e);
int engine_error(const struct engine *e);
const struct engine_stats *engine_stats(const struct engine *e);
/* p in 0..100: an upper bound of that commit-latency percentile, in µs. */
uint64_t engine_latency_percentile(const struct engine *e, unsigned p);
