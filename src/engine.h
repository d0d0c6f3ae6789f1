/* The commit engine: group commit through io_uring (docs/design.md).
 *
 * engine_append() stamps a record with the next seq and encodes it into
 * the pending batch; at the end of the loop turn (or as soon as the commit
 * in flight completes) the batch goes to disk as one write at the end of
 * `current`, linked (IOSQE_IO_LINK) to an fdatasync in durability=fsync.
 * Only when both completed in full does committed() report the batch's
 * last seq: every record up to it is durable.  Short writes, EINTR, EAGAIN
 * and a cancelled link are resubmitted; ENOSPC, EIO and EDQUOT stop
 * commits, are reported through storage_error(), and retried with backoff
 * until they clear.  Bytes accepted but not committed are bounded by
 * memory_limit: pressure(true) asks the caller to stop reading, and
 * pressure(false) to resume. */
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
	uint64_t retention_interval_us; /* how often age/keep_free rules run */
};

struct engine_callbacks {
	void (*committed)(void *userdata, uint64_t durable_seq);
	void (*pressure)(void *userdata, bool stop);
	/* err < 0: commits are failing with it; 0: they work again. */
	void (*storage_error)(void *userdata, int err);
};

struct engine_stats {
	uint64_t records;  /* committed since start */
	uint64_t bytes;
	uint64_t commits;
	uint64_t fsyncs;
	uint64_t errors;
	uint64_t pending_bytes;
	uint64_t lat_hist[32]; /* commit latency, bucket i: [2^i, 2^(i+1)) µs */
};

int engine_new(struct event_base *base, struct ring *ring, struct store *store,
	       const struct engine_config *cfg, const struct engine_callbacks *cb, void *userdata,
	       struct engine **ret);
/* Waits for the commit in flight (if any); pending records are dropped, so
 * drain first (engine_idle). */
struct engine *engine_free(struct engine *e);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct engine *, engine_free)

/* Assigns r->seq (and nothing else: r->time_us is the caller's receive
 * time) and queues the record.  -ENOBUFS if memory_limit is reached
 * (the caller should have stopped on pressure), -EMSGSIZE if it is larger
 * than max_record. */
int engine_append(struct engine *e, struct record *r);
/* True if a record of max_record bytes can be queued now. */
bool engine_can_accept(const struct engine *e);
/* Seal `current` after what is already queued. */
void engine_rotate(struct engine *e);
/* Runtime changes (SIGHUP): durability, rotation triggers, limits. */
void engine_reconfigure(struct engine *e, const struct engine_config *cfg);

bool engine_idle(const struct engine *e);
uint64_t engine_durable_seq(const struct engine *e);
int engine_error(const struct engine *e);
const struct engine_stats *engine_stats(const struct engine *e);
/* p in 0..100: an upper bound of that commit-latency percentile, in µs. */
uint64_t engine_latency_percentile(const struct engine *e, unsigned p);
